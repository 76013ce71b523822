/* SPDX-License-Identifier: Apache-2.0 */
/* What the benchmarks share: a monotonic clock, a hero_proc_server started in a directory
 * of theirs, plain JSON-RPC calls to it over its Unix socket (libcurl, no SDK, so the
 * figures are the server's), and /proc readings. Every failure exits with a message: a
 * benchmark that cannot run has nothing to print. */
#ifndef HP_BENCH_COMMON_H
#define HP_BENCH_COMMON_H

#include <cjson/cJSON.h>
#include <sys/types.h>

/* Seconds on the monotonic clock. */
double bench_now_s(void);
/* qsort order of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* Sorts us (n samples in microseconds) and prints label's p50 and p99. */
void bench_report(const char *label, double *us, int n, const char *unit);
/* The floor under every call: a Unix-socket round trip of 64 bytes each way to a forked
 * echo (socketpair), n times; prints its figures. */
void bench_bare_round_trip(int n);

/* Starts server (a path) with its socket and data in dir and the log caps raised so that
 * floods are measured, not capped; returns once it answers /health. prog names the
 * benchmark in messages. The socket path is bench_socket()'s. */
pid_t bench_start_server(const char *prog, const char *server, const char *dir);
/* One more option for the servers started from now on (NULL: none), e.g. --no-cgroups. */
void bench_server_arg(const char *arg);
/* In a forked client: a connection of its own to the server started last. */
void bench_client_reconnect(void);
/* SIGTERM, then waits for it. */
void bench_stop_server(pid_t pid);
/* Frees what the calls kept (libcurl's handle); after the servers are stopped. */
void bench_done(void);
/* The socket of the server started last (static storage). */
const char *bench_socket(void);

/* One JSON-RPC call with params (JSON text, NULL for {}); the result (caller frees with
 * cJSON_Delete). Exits when the call fails. */
cJSON *bench_call(const char *method, const char *params);
/* run.submit with params; the run's id. */
long long bench_submit(const char *params);
/* run.wait until the run is over (10 minutes at most). */
void bench_wait_run(long long id);

/* A "Key:" line of /proc/PID/status in kB (VmRSS, VmHWM), -1 when absent or gone. */
long bench_status_kb(pid_t pid, const char *key);

#endif
