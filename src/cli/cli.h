/* SPDX-License-Identifier: Apache-2.0 */
/* The hero_proc CLI as a library (libhpcli.a), so that main.c stays a one-liner and tests
 * can link it: the entry point, the context every command gets, the groups and verbs
 * table, and the helpers the command files share (options, connection, errors, exit
 * codes). */
#ifndef HP_CLI_CLI_H
#define HP_CLI_CLI_H

#include "builders/factory.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdint.h>

/* Exit codes of DESIGN section 7. */
enum {
    HP_CLI_OK = 0,
    HP_CLI_FAILED = 1,       /* the operation failed: a run failed, not found, ... */
    HP_CLI_USAGE = 2,        /* usage and validation errors, also the server's -32602 */
    HP_CLI_UNREACHABLE = 3,  /* the server cannot be reached */
    HP_CLI_UNAUTHORIZED = 4, /* the server refused the token */
    HP_CLI_TIMEOUT = 5,      /* a wait ran out of time (run wait --timeout) */
};

/* Runs the command line; returns the process exit status. */
int hp_cli_main(int argc, char **argv);

typedef struct hp__cli_verb hp__cli_verb;
typedef struct hp__cli_group hp__cli_group;

typedef struct hp_cli {
    const char *socket_path; /* --socket, borrowed from argv */
    const char *url;         /* --url */
    const char *context;     /* --context */
    const char *pin;         /* --pin: https public-key pin */
    const char *cacert;      /* --cacert: https CA file */
    int all_contexts;        /* --all-contexts: service list merged over every context */
    int json;                /* --json */
    int no_color;            /* --no-color */
    hp_client *client;       /* connected on the first use, owned */
    const hp__cli_group *group;
    const hp__cli_verb *verb;
} hp_cli;

/* A verb's handler: argv[0] is the verb, argc counts it. Returns an exit code. */
typedef int (*hp__cli_fn)(hp_cli *cli, int argc, char **argv);

struct hp__cli_verb {
    const char *name;
    const char *args;    /* the synopsis after the verb, e.g. "NAME [--keep-history]" */
    const char *summary; /* one line */
    const char *help;    /* options and details, NULL when none */
    hp__cli_fn fn;
};

struct hp__cli_group {
    const char *name;
    const char *summary;
    const hp__cli_verb *verbs; /* ends with an entry whose name is NULL */
};

/* The verbs of each group, one file each. */
extern const hp__cli_verb hp__cli_service_verbs[];
extern const hp__cli_verb hp__cli_run_verbs[];
extern const hp__cli_verb hp__cli_job_verbs[];
extern const hp__cli_verb hp__cli_logs_verbs[];
extern const hp__cli_verb hp__cli_secret_verbs[];
extern const hp__cli_verb hp__cli_system_verbs[];
extern const hp__cli_verb hp__cli_token_verbs[];
extern const hp__cli_verb hp__cli_context_verbs[];
extern const hp__cli_verb hp__cli_events_verbs[];

/* `--all-contexts service list` (fleet.c): argv[0] the group, argv[1] the verb. */
int hp__cli_all_contexts(hp_cli *cli, int argc, char **argv);

/* The options every verb accepts (--json, --no-color, --no-headers) for a getopt_long
 * table. */
#define HP__CLI_COMMON_OPTIONS                                                                     \
    {"json", no_argument, NULL, 0x100}, {"no-headers", no_argument, NULL, 0x102},                  \
    {                                                                                              \
        "no-color", no_argument, NULL, 0x101                                                       \
    }

/* getopt_long over a verb's arguments (reset on the first call with optind = 0 by the
 * caller) that also takes the common options. An unknown option or a missing value is
 * reported with the verb's usage and answers '?': the caller returns HP_CLI_USAGE. */
int hp__cli_getopt(hp_cli *cli, int argc, char **argv, const char *shorts,
                   const struct option *longs);

/* Prints "hero_proc: GROUP VERB: <message>", the verb's usage line and a hint to stderr;
 * returns HP_CLI_USAGE. */
int hp__cli_usage(hp_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checks that argc - optind positional arguments are between min and max; else a usage
 * error (returned, 0 when fine). */
int hp__cli_positionals(hp_cli *cli, int argc, int min, int max);

/* Parses a positive id or count (1..max) named what; usage error on failure. */
int hp__cli_parse_int(hp_cli *cli, const char *what, const char *s, int64_t max, int64_t *out);

/* The SDK of the connected client (connecting on the first call). NULL after printing
 * why, with *rc the exit code. */
hp_sdk *hp__cli_sdk(hp_cli *cli, int *rc);

/* The exit code of a failure: 3 unreachable, 2 usage or validation, 1 otherwise. */
int hp__cli_exit_code(const hp_error *err);

/* Prints "hero_proc: <what>: <message>" (escaped), every problem the server listed, and
 * for an unreachable server how to start one; returns hp__cli_exit_code(err). */
int hp__cli_fail(hp_cli *cli, const char *what, const hp_error *err);
/* With --json: prints the server's answer res, frees it and returns 1; without, returns 0
 * and res stays the caller's. */
int hp__cli_json_done(hp_cli *cli, cJSON *res);

/* One JSON-RPC call: params taken. On success *result (caller deletes) and 0; else the
 * failure printed with what and its exit code. */
int hp__cli_call(hp_cli *cli, const char *method, cJSON *params, cJSON **result, const char *what);

/* The verbs that take only an ID: no options, one positional ID (1..2^53-1), then method
 * called with {"id": ID}; *id and *result (caller deletes) set. 0 or the exit status. */
int hp__cli_call_id(hp_cli *cli, int argc, char **argv, const char *method, const char *what,
                    int64_t *id, cJSON **result);
/* SIGINT and SIGTERM set a flag instead of killing: for the follow loops. */
void hp__cli_catch_interrupt(void);
int hp__cli_interrupted(void);
/* Sleeps ms in small steps; returns early when interrupted. */
void hp__cli_sleep_ms(long ms);

/* Reads a whole file ("-" for stdin), at most max bytes, NUL-terminated into *out
 * (caller frees) with *len. A usage-style message and exit code on failure. */
int hp__cli_read_file(hp_cli *cli, const char *path, size_t max, char **out, size_t *len);

#endif
