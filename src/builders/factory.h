/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_factory's entry point: the client handle and the factories that make one.
 * The factory hides the transport: a Unix socket, HTTP with a token, or whatever the
 * flags and the environment point at, starting the server when none answers (auto).
 * Domain calls go through the SDK handle (hp_client_sdk); the workflows below combine
 * them for the common cases. */
#ifndef HP_BUILDERS_FACTORY_H
#define HP_BUILDERS_FACTORY_H

#include "../client/sdk.h"
#include "../common/status.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hp_client hp_client;

typedef struct hp_factory_options {
    const char *socket_path; /* --socket; NULL: environment and defaults */
    const char *url;         /* --url; NULL: environment */
    const char *token;       /* for url; NULL: HERO_PROC_TOKEN */
    int no_spawn;            /* never start a server */
    const char *server_path; /* NULL: HERO_PROC_SERVER, beside this program, then PATH */
    const char *data_dir;    /* data dir of a server started here; NULL: its default */
    long timeout_ms;         /* per call; <= 0: the SDK default */
    long spawn_deadline_ms;  /* how long a started server may take; <= 0: 5000 */
    const char *context;     /* --context; NULL: HERO_PROC_CONTEXT, the current one */
    const char *pin;         /* https: the server's public-key pin; NULL: the context's */
    const char *cacert;      /* https: a CA file; NULL: the context's */
} hp_factory_options;

/* A client on the Unix socket at path (copied). Connects lazily; NULL with err. */
hp_client *hp_factory_local_uds(const char *path, hp_error *err);
/* A client over HTTP; token NULL takes HERO_PROC_TOKEN. */
hp_client *hp_factory_http(const char *url, const char *token, hp_error *err);
/* Endpoint discovery (hp_endpoint_resolve_flags: flags, contexts, environment, default
 * paths); when
 * nothing answers at a Unix socket and spawning is allowed, starts hero_proc_server
 * --daemon on it and waits for it to answer. opts may be NULL. NULL with err: the
 * message names the endpoint and why it could not be reached or started; HP_E_CONFLICT
 * when another server already holds the data dir (the message names its pid and socket,
 * and nothing was started). */
hp_client *hp_factory_auto(const hp_factory_options *opts, hp_error *err);

void hp_client_free(hp_client *c);   /* NULL safe; a started server keeps running */
hp_sdk *hp_client_sdk(hp_client *c); /* borrowed */
const char *hp_client_endpoint(const hp_client *c);
/* 1 when hp_factory_auto started the server this client talks to. */
int hp_client_started_server(const hp_client *c);

/* ---- workflows -------------------------------------------------------------------- */
/* service.start; *run_id (may be NULL) gets the run. */
hp_status hp_client_service_start(hp_client *c, const char *name, int64_t *run_id, hp_error *err);
hp_status hp_client_service_stop(hp_client *c, const char *name, hp_error *err);
/* A new run; the old run's jobs are deleted unless keep_history. */
hp_status hp_client_service_restart(hp_client *c, const char *name, int keep_history,
                                    int64_t *run_id, hp_error *err);
/* Waits until the run ended (timeout_ms 0: forever, in slices the server accepts);
 * *out (may be NULL) gets the final run. HP_E_TIMEOUT when it is still going. */
hp_status hp_client_run_wait(hp_client *c, int64_t run_id, long timeout_ms, hp_run **out,
                             hp_error *err);
/* The run's status word ("succeeded", ...), static; NULL with err. */
const char *hp_client_run_status(hp_client *c, int64_t run_id, hp_error *err);

/* Called for each log line; return non-zero to stop following. */
typedef int (*hp_log_fn)(void *ud, const hp_log_line *line);
/* Lines of the run (every job, in seq order) from *cursor (0 = the start) on; *cursor is
 * advanced. With follow, keeps polling until the run has ended and every line was
 * delivered, or fn asks to stop. */
hp_status hp_client_run_logs(hp_client *c, int64_t run_id, int64_t *cursor, int follow,
                             hp_log_fn fn, void *ud, hp_error *err);

#ifdef __cplusplus
}
#endif

#endif
