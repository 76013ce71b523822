/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers that the command files share beyond cli.h: the jobs table (run.c), reading a
 * JSON document given on the command line, and the list of validation problems (cli.c). */
#ifndef HP_CLI_COMMANDS_H
#define HP_CLI_COMMANDS_H

#include "client/types.h"
#include "common/spec.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* A table of jobs on stdout: id, action, status, attempt, pid, exit, duration, error;
 * with show_run also the run and the service. */
void hp__cli_print_jobs(const hp_job *jobs, size_t n, int show_run);

/* Parses text (len bytes, read from path) as a JSON object into *out (caller deletes).
 * A message naming path and HP_CLI_USAGE when it is not one. */
int hp__cli_parse_json(const char *text, size_t len, const char *path, cJSON **out);

/* Prints "hero_proc: PATH is invalid:" and each problem to stderr; returns HP_CLI_USAGE. */
int hp__cli_print_problems(const char *path, const hp_problems *pb);

#endif
