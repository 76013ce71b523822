/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_sdk: the public C API of the hero_proc wire contract (data/openrpc.json).
 * One hp_sdk is one connection (Unix socket or HTTP with a bearer token) with its own
 * request ids; use it from one thread at a time. Every call returns HP_OK or the
 * failure's code with err (caller-owned, last, may be NULL) filled; out-params are set
 * to a new object the caller frees with its hp_*_free, and to NULL on failure. An out
 * parameter documented "may be NULL" can be skipped when the answer is not wanted.
 * No builders and no UX here: those are src/builders'. */
#ifndef HP_CLIENT_SDK_H
#define HP_CLIENT_SDK_H

#include "call.h"
#include "types.h"
#include "../common/spec.h"
#include "../common/status.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The client handle (hp_sdk, hp_sdk_new, hp_sdk_free ...) and the raw calls (hp_sdk_call,
 * hp_sdk_batch) are in client/call.h. */

/* ---- system ----------------------------------------------------------------------- */

/* system.ping; *out may be NULL. */
hp_status hp_sdk_ping(hp_sdk *sdk, hp_pong **out, hp_error *err);
/* system.info. */
hp_status hp_sdk_info(hp_sdk *sdk, hp_system_info **out, hp_error *err);
/* system.reexec: the server execs its binary again (an in-place upgrade, same pid, no
 * job restarted). HP_OK once it accepted; HP_E_RPC when the binary does not start (the
 * server runs on). */
hp_status hp_sdk_reexec(hp_sdk *sdk, hp_error *err);
/* rpc.discover: the OpenRPC document, caller deletes with cJSON_Delete. */
hp_status hp_sdk_discover(hp_sdk *sdk, cJSON **out, hp_error *err);

/* ---- services --------------------------------------------------------------------- */

/* service.set: creates or replaces cfg (borrowed). *created (may be NULL) = 1 when the
 * service is new. A config the server rejects is HP_E_VALIDATION with every problem in
 * the message and in hp_sdk_problems. */
hp_status hp_services_put(hp_sdk *sdk, const hp_service_config *cfg, int *created, hp_error *err);
/* service.get: the stored configuration. HP_E_NOT_FOUND when there is no such service. */
hp_status hp_services_get(hp_sdk *sdk, const char *name, hp_service_record **out, hp_error *err);
/* service.list; if_changed_since 0 always answers the list, a rev from an earlier answer
 * answers (*out)->unchanged = 1 when nothing changed since. */
hp_status hp_services_list(hp_sdk *sdk, int64_t if_changed_since, hp_service_list **out,
                           hp_error *err);
/* service.status. */
hp_status hp_services_status(hp_sdk *sdk, const char *name, hp_service_status **out, hp_error *err);
/* service.start: the new run; *out may be NULL. */
hp_status hp_services_start(hp_sdk *sdk, const char *name, hp_run **out, hp_error *err);
/* service.stop: the status after the stop; *out may be NULL. A service that running
 * services require is refused (HP_E_CONFLICT, the message naming them). */
hp_status hp_services_stop(hp_sdk *sdk, const char *name, hp_service_status **out, hp_error *err);
/* service.stop with cascade: the services requiring it stop first. */
hp_status hp_services_stop_cascade(hp_sdk *sdk, const char *name, hp_service_status **out,
                                   hp_error *err);
/* service.restart; keep_history 1 keeps the previous run and its jobs. *out may be NULL. */
hp_status hp_services_restart(hp_sdk *sdk, const char *name, int keep_history, hp_run **out,
                              hp_error *err);
/* service.delete (stops it first); refused (HP_E_CONFLICT) when other services require it. */
hp_status hp_services_delete(hp_sdk *sdk, const char *name, hp_error *err);
/* service.delete with cascade: the services requiring it are deleted first. */
hp_status hp_services_delete_cascade(hp_sdk *sdk, const char *name, hp_error *err);

/* ---- runs ------------------------------------------------------------------------- */

/* run.submit of n actions (borrowed) under name; *out (may be NULL) gets the new run. */
hp_status hp_runs_submit(hp_sdk *sdk, const char *name, const hp_action_spec *actions, size_t n,
                         hp_run **out, hp_error *err);
/* run.get, with the run's jobs and its actions (run->actions, for a rerun). */
hp_status hp_runs_get(hp_sdk *sdk, int64_t id, hp_run **out, hp_error *err);

/* Filters of run.list: NULL or 0 fields are not sent. */
typedef struct hp_run_filter {
    const char *service;
    const char *status; /* a run state name, e.g. "failed" */
    int limit;          /* 1..1000, 0 = the server's default (100) */
    int64_t if_changed_since;
} hp_run_filter;
/* run.list; filter may be NULL. */
hp_status hp_runs_list(hp_sdk *sdk, const hp_run_filter *filter, hp_run_list **out, hp_error *err);
/* run.wait: waits up to timeout_ms (0..3600000) for the run to end and answers it.
 * HP_E_TIMEOUT when it is still going; *out may be NULL. */
hp_status hp_runs_wait(hp_sdk *sdk, int64_t id, long timeout_ms, hp_run **out, hp_error *err);
/* run.cancel: the run after the cancel; *out may be NULL. */
hp_status hp_runs_cancel(hp_sdk *sdk, int64_t id, hp_run **out, hp_error *err);
/* run.delete. */
hp_status hp_runs_delete(hp_sdk *sdk, int64_t id, hp_error *err);

/* ---- jobs ------------------------------------------------------------------------- */

/* Filters of job.list: NULL or 0 fields are not sent. */
typedef struct hp_job_filter {
    int64_t run_id;
    const char *service;
    const char *status; /* a job state name */
    int limit;          /* 1..10000, 0 = the server's default (500) */
    int64_t if_changed_since;
} hp_job_filter;
/* job.list; filter may be NULL. */
hp_status hp_jobs_list(hp_sdk *sdk, const hp_job_filter *filter, hp_job_list **out, hp_error *err);
/* job.get. */
hp_status hp_jobs_get(hp_sdk *sdk, int64_t id, hp_job **out, hp_error *err);
/* job.logs: lines after the cursor after_seq (0 = from the start), at most limit
 * (0 = server default 1000), of attempt (0 = every attempt). */
hp_status hp_jobs_logs(hp_sdk *sdk, int64_t id, int64_t after_seq, int limit, int attempt,
                       hp_log_page **out, hp_error *err);
/* job.cancel: the job after the cancel; *out may be NULL. */
hp_status hp_jobs_cancel(hp_sdk *sdk, int64_t id, hp_job **out, hp_error *err);

/* ---- events ----------------------------------------------------------------------- */

/* events.wait: the state changes after after_seq (0 = every one the server keeps),
 * oldest first, at most limit (0 = the server's default, 1000). Answers at once when
 * there are some, else waits up to timeout_ms (the server cuts it to 60 s; 0 = no wait)
 * for one; a wait that ends without any is HP_OK with no events. *out (caller frees with
 * hp_event_page_free) is NULL on failure. Against a server without events the call fails
 * with rpc_code -32601 (method not found): poll instead. */
hp_status hp_events_wait(hp_sdk *sdk, int64_t after_seq, long timeout_ms, int limit,
                         hp_event_page **out, hp_error *err);

/* ---- logs ------------------------------------------------------------------------- */

/* logs.tail: lines whose src starts with src (NULL = all) after after_seq, at most limit
 * (0 = server default). */
hp_status hp_logs_tail(hp_sdk *sdk, const char *src, int64_t after_seq, int limit,
                       hp_log_page **out, hp_error *err);
/* The bounds of a page of a log; 0 = no bound. With before_seq the page is the newest
 * limit lines before it (page backwards by passing next_seq back as before_seq). */
typedef struct hp_log_bounds {
    int64_t after_seq, before_seq, since_ms, until_ms;
    int limit;   /* 0 = the server's default (1000) */
    int attempt; /* job.logs only: 0 = every attempt */
} hp_log_bounds;
/* job.logs and logs.tail with every bound; b may be NULL (no bound). */
hp_status hp_jobs_logs_page(hp_sdk *sdk, int64_t id, const hp_log_bounds *b, hp_log_page **out,
                            hp_error *err);
hp_status hp_logs_tail_page(hp_sdk *sdk, const char *src, const hp_log_bounds *b, hp_log_page **out,
                            hp_error *err);

/* logs.search: exactly one of job_id, run_id, service. */
typedef struct hp_log_search {
    const char *pattern; /* a POSIX extended regex, or text with substring */
    int substring, ignore_case;
    int64_t job_id, run_id;
    const char *service;
    int64_t before_seq, from_job_id; /* the cursor of an earlier answer, or 0 */
    int limit, context;              /* 0 = the server's defaults (100, none) */
} hp_log_search;
hp_status hp_logs_search(hp_sdk *sdk, const hp_log_search *q, hp_log_matches **out, hp_error *err);

/* logs.insert of n lines (borrowed) under src on stream; *last_seq (may be NULL) gets
 * the seq of the last line stored. */
hp_status hp_logs_insert(hp_sdk *sdk, const char *src, const char *const *lines, size_t n,
                         hp_log_stream stream, int64_t *last_seq, hp_error *err);

/* ---- API tokens (admin only) ------------------------------------------------------- */

typedef struct hp_token_meta {
    char *name;
    char *role; /* "read", "operate" or "admin" */
    int64_t created_at_ms;
} hp_token_meta;

/* token.create: a token of role ("read", "operate", "admin") for the TCP endpoint;
 * *token (caller frees) is the only copy: the server keeps its hash. */
hp_status hp_tokens_create(hp_sdk *sdk, const char *name, const char *role, char **token,
                           hp_error *err);
/* token.list: *out (free with hp_token_metas_free) gets *n tokens, ordered by name. */
hp_status hp_tokens_list(hp_sdk *sdk, hp_token_meta **out, size_t *n, hp_error *err);
void hp_token_metas_free(hp_token_meta *tokens, size_t n);
/* token.revoke: refused from its next request on; HP_E_NOT_FOUND when there is none. */
hp_status hp_tokens_revoke(hp_sdk *sdk, const char *name, hp_error *err);

/* ---- secrets ---------------------------------------------------------------------- */

/* secret.set; *out (may be NULL) gets its name and times. */
hp_status hp_secrets_set(hp_sdk *sdk, const char *name, const char *value, hp_secret_meta **out,
                         hp_error *err);
/* secret.get, with the value. */
hp_status hp_secrets_get(hp_sdk *sdk, const char *name, hp_secret **out, hp_error *err);
/* secret.list: names and times only; if_changed_since as for hp_services_list. */
hp_status hp_secrets_list(hp_sdk *sdk, int64_t if_changed_since, hp_secret_list **out,
                          hp_error *err);
/* secret.delete. */
hp_status hp_secrets_delete(hp_sdk *sdk, const char *name, hp_error *err);

#ifdef __cplusplus
}
#endif

#endif
