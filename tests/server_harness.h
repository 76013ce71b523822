/* SPDX-License-Identifier: Apache-2.0 */
/* Integration-test fixture: a real hero_proc_server started per test on a socket and a
 * data dir inside the test's own temporary directory, JSON-RPC calls to it over the Unix
 * socket with libcurl, condition waits with deadlines, restarts on the same data dir,
 * and small builders for params. Every helper fails the current test (ck_assert) when
 * the server cannot be reached: an integration test needs its server. */
#ifndef HP_TESTS_SERVER_HARNESS_H
#define HP_TESTS_SERVER_HARNESS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- fixture ---------------------------------------------------------------------- */

/* Checked fixture: a fresh temporary directory and a server started in it (waits for
 * GET /health). Teardown sends SIGTERM, asserts exit status 0 within a deadline, then
 * removes the directory. The server gets SIGTERM too if the test process dies.
 * $HPT_SERVER_WRAPPER, when set, prefixes the server's command line, e.g.
 * "valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite":
 * the exit status check then fails a test whose server had memory errors. */
void hpt_setup(void);
void hpt_teardown(void);

/* Starts the server on the temporary directory's socket and data dir (again after a
 * stop); waits until GET /health answers. */
void hpt_server_start(void);
/* Up to two more arguments (copied) for the server's next start, e.g. "--http", ADDR. */
void hpt_server_extra_args(const char *a, const char *b);
/* Two more after those (hpt_server_extra_args resets them), e.g. "--tls-self-signed". */
void hpt_server_more_args(const char *c, const char *d);
/* Sends sig and waits up to deadline_ms for the exit; returns the wait status. Fails the
 * test (after SIGKILL) when the server outlives the deadline. */
int hpt_server_signal_and_wait(int sig, int deadline_ms);
/* kill -9 the server and reap it, leaving its jobs orphaned like a crash would. */
void hpt_server_crash(void);
/* hpt_server_crash then hpt_server_start on the same data dir. */
void hpt_server_crash_and_restart(void);
/* The server's log so far (every start's, in one file) on stderr, for a failure's reader. */
void hpt_server_dump_log(void);
/* The running server's pid, 0 when stopped. */
pid_t hpt_server_pid(void);
/* $top_builddir/hero_proc_server (static storage). */
const char *hpt_server_binary(void);

const char *hpt_socket_path(void);
const char *hpt_data_dir(void);
/* "<tmpdir>/<name>", newly allocated; the caller frees it. */
char *hpt_path(const char *name);
/* Whole file "<tmpdir>/<name>" as a string (caller frees), NULL when unreadable. */
char *hpt_read(const char *name);

/* ---- calls ------------------------------------------------------------------------ */

/* One JSON-RPC call on the shared connection. params_taken (may be NULL: no params) is
 * consumed. Returns the result (caller deletes), or NULL for an error answer with its
 * code in *rpc_code_out (0 on success; may be NULL); the message and data stay readable
 * through hpt_error_message/hpt_error_data until the next call. */
cJSON *hpt_call(const char *method, cJSON *params_taken, int *rpc_code_out);
const char *hpt_error_message(void);
const cJSON *hpt_error_data(void); /* borrowed, may be NULL */
/* hpt_call that must succeed: fails the test with the error message otherwise. */
cJSON *hpt_ok(const char *method, cJSON *params_taken);
/* hpt_call that must fail: returns the error code. */
int hpt_fail(const char *method, cJSON *params_taken);

/* Raw POST /rpc of len bytes. Returns 0 with the HTTP status and the reply body (caller
 * frees; "" when empty), or -1 when the transport failed. */
int hpt_post(const char *body, size_t len, long *http_status, char **reply_text);
/* GET of path; same contract, with the body length in *reply_len when non-NULL. */
int hpt_get(const char *path, long *http_status, char **reply_text, size_t *reply_len);

/* A second connection that stays open: sends POST /rpc with body and returns the
 * connected fd without reading the answer. */
int hpt_raw_send(const char *body);
/* 1 when an answer is waiting on fd (nothing consumed), 0 when none yet. */
int hpt_raw_ready(int fd);
/* Reads the answer's body (caller frees) within deadline_ms and closes fd; NULL on
 * timeout. */
char *hpt_raw_answer(int fd, int deadline_ms);

/* ---- waiting ---------------------------------------------------------------------- */

typedef int (*hpt_cond)(void *ud);
/* Polls cond every 20 ms until it holds (returns 1) or deadline_ms passed (returns 0;
 * cond is tried one last time). */
int hpt_wait_until(hpt_cond cond, void *ud, int deadline_ms);
/* Monotonic milliseconds. */
int64_t hpt_now_ms(void);
/* A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick). */
int hpt_free_port(void);

/* ---- processes -------------------------------------------------------------------- */

/* 1 when pid exists and is not a zombie. */
int hpt_pid_alive(pid_t pid);
/* 1 when pid has a /proc entry at all (zombies included). */
int hpt_pid_exists(pid_t pid);
/* Processes (not zombies) whose process group is pgid. */
int hpt_group_count(pid_t pgid);
/* Zombie children of ppid. */
int hpt_zombie_children(pid_t ppid);
/* An hpt_cond: the server has no zombie child. */
int hpt_no_server_zombies(void *ud);
/* Open fds of pid (from /proc/PID/fd). */
int hpt_fd_count(pid_t pid);
/* The fewest fds pid holds over 300 ms: a client's connection or a restarting job's pipe
 * comes and goes; a leak stays. */
int hpt_settled_fd_count(pid_t pid);
/* Processes (not zombies) whose command line contains needle. */
int hpt_count_cmdline(const char *needle);
/* The pid written as text in "<tmpdir>/<name>", 0 when absent. */
pid_t hpt_read_pid(const char *name);

/* ---- builders and readers ----------------------------------------------------------- */

/* Parses a printf-formatted JSON text; fails the test when it is not JSON. */
cJSON *hpt_jsonf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* {"name": name, "script": script, "cwd": tmpdir} */
cJSON *hpt_script(const char *name, const char *script);
/* {"name": name, "command": command, "cwd": tmpdir} */
cJSON *hpt_command(const char *name, const char *command);
/* Appends dep to the action's depends_on; returns action. */
cJSON *hpt_depends(cJSON *action, const char *dep);
/* {"id": id} and {"name": name}. */
cJSON *hpt_id(int64_t id);
cJSON *hpt_name(const char *name);

/* run.submit of the NULL-terminated actions (taken); returns the run id. */
int64_t hpt_submit(const char *name, ...) __attribute__((sentinel));
/* run.wait that must answer the run (not a timeout); caller deletes. */
cJSON *hpt_wait_run(int64_t run_id, int timeout_ms);
/* service.set of {name, wanted (NULL = omitted), actions...} (taken, NULL-terminated). */
void hpt_service_set(const char *name, const char *wanted, ...) __attribute__((sentinel));

/* The job of the given action in a Run or ServiceStatus object (borrowed). */
const cJSON *hpt_job_of(const cJSON *run_or_status, const char *action);
/* Integer member (fails the test when missing or not a number); 0 for null with
 * hpt_int_or0. */
int64_t hpt_int(const cJSON *o, const char *key);
int64_t hpt_int_or0(const cJSON *o, const char *key);
/* String member or NULL. */
const char *hpt_str(const cJSON *o, const char *key);

/* Every log line of a job (all pages), as an array the caller deletes. */
cJSON *hpt_job_lines(int64_t job_id);
/* Index of the first line with that stream (NULL = any) whose text equals text, or
 * contains it when contains is set; -1 when none. */
int hpt_find_line(const cJSON *lines, const char *stream, const char *text, int contains);
/* 1 when the serialized JSON holds needle anywhere. */
int hpt_json_contains(const cJSON *json, const char *needle);

#endif
