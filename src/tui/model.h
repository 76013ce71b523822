/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_tui's one interface to the world: the connection to the server, the lists
 * the views draw (plain SDK structs, kept while the server is away so the rows can be
 * shown stale), reconnection with backoff, and the actions. Nothing here draws. */
#ifndef HP_TUI_MODEL_H
#define HP_TUI_MODEL_H

#include "builders/factory.h"
#include "client/sdk.h"
#include "client/types.h"

#include <stdint.h>

typedef enum tui_act {
    TUI_ACT_START,
    TUI_ACT_STOP,
    TUI_ACT_RESTART,
    TUI_ACT_DELETE,
    TUI_ACT_CANCEL,
    TUI_ACT_RUN_DELETE,
    TUI_ACT_JOB_CANCEL,
    TUI_ACT_SECRET_DELETE
} tui_act;

typedef struct tui_action {
    tui_act kind;
    char service[HP_NAME_MAX + 1]; /* start, stop, restart, delete; a secret's name */
    int64_t run_id;                /* cancel, run delete */
    int64_t job_id;                /* job cancel */
    int keep_history;              /* restart: the old run's jobs and logs are kept */
    char host[64]; /* the fleet's host (context) it goes to; "": the dashboard's connection */
    int cascade;   /* stop, delete: the services requiring it go first */
} tui_action;

typedef struct tui_model {
    hp_client *client;       /* owned; NULL when the endpoint could not even be set up */
    char endpoint[512];      /* for display: $HOME shown as ~ */
    char endpoint_full[512]; /* as given */
    int connected;           /* the last call reached the server */
    int ever_connected;      /* some call did, once */
    char reason[256];        /* why the last call failed to reach it */
    long long retry_at_ms;
    long backoff_ms;
    /* When a server_restarting event came (monotonic), 0 when none: until a call
     * answers, the server is upgrading itself in place and a failure is no outage. */
    long long restarting_at_ms;
    int restarting_answered; /* a call answered since: the banner stays its minimum */
    int64_t calls;           /* RPCs made, for the status of idle cost */

    hp_service_list *services; /* owned, NULL until fetched */
    hp_run_list *runs;
    char runs_service[HP_NAME_MAX + 1]; /* the filter runs was fetched with */
    hp_job_list *jobs;
    char jobs_service[HP_NAME_MAX + 1];
    int64_t jobs_run_id;
    hp_secret_list *secrets;
    /* The CPU of the service whose jobs were last fetched, one entry per new figure, the
     * newest last (at most TUI_SPARK_MAX): the service detail's sparkline. */
    char spark_service[HP_NAME_MAX + 1];
    double spark[64];
    size_t n_spark;

    /* The store's health from system.info, fetched at most every TUI_STORE_EVERY_MS
     * while connected. ok = 1 until an answer says otherwise (an older server that does
     * not report it is taken as ok); store.error is owned. */
    hp_store_health store;
    long long store_at_ms; /* when system.info was last asked (monotonic), 0 to ask now */

    /* The events followed since the dashboard opened (events.wait), oldest first, the
     * last TUI_EVENTS_KEPT; events_dropped counts those the server's ring lost. */
    hp_event *events;
    size_t n_events;
    int64_t events_dropped;
} tui_model;

enum { TUI_EVENTS_KEPT = 500, TUI_RESTART_GRACE_MS = 30000, TUI_RESTART_SHOW_MS = 2000 };
/* 1 while the server said it re-executes itself and has not answered since (for at most
 * TUI_RESTART_GRACE_MS: a server that never comes back is unreachable, not restarting),
 * and for TUI_RESTART_SHOW_MS at least: a call already waiting when the event came holds
 * the dashboard through the whole pause, and the banner would not be seen at all. */
int tui_model_restarting(const tui_model *m);
/* Appends page's events (page taken) to m->events, oldest dropped past TUI_EVENTS_KEPT. */
void tui_model_events_add(tui_model *m, hp_event_page *page);

enum { TUI_STORE_EVERY_MS = 2000, TUI_SPARK_MAX = 60 };

/* Takes client (may be NULL, then reason says why) on every path. */
void tui_model_init(tui_model *m, hp_client *client, const char *endpoint, const char *reason);
void tui_model_free(tui_model *m); /* frees what it owns; m itself is the caller's */

long long tui_now_ms(void); /* monotonic */

/* 1 when a call may be tried now (connected, or the backoff delay has passed). */
int tui_model_ready(const tui_model *m);

/* The list fetchers: 1 changed (the list was replaced), 0 unchanged, -1 failed (the old
 * list is kept; m->reason says why when the server is unreachable). force ignores the
 * rev. A filter different from the last fetch always fetches. */
int tui_model_services(tui_model *m, int force);
int tui_model_runs(tui_model *m, const char *service, int force);
int tui_model_jobs(tui_model *m, const char *service, int64_t run_id, int force);
int tui_model_secrets(tui_model *m, int force);

/* system.info for the store's health, when connected and TUI_STORE_EVERY_MS have passed
 * since the last ask: 1 when what the header shows of it changed, 0 when not or when it
 * was not asked, -1 failed (the last health is kept). */
int tui_model_store(tui_model *m);

/* job.logs after the cursor: *out (caller frees) or NULL with msg (may be NULL). */
int tui_model_job_logs(tui_model *m, int64_t job_id, int64_t after_seq, hp_log_page **out,
                       char *msg, size_t size);
/* logs.tail of src "service": every service's lines after the cursor (after_seq 0: the
 * last 1000), merged by seq, each line's src "service.<name>.<action>". *out (caller
 * frees) or NULL with msg (may be NULL). */
int tui_model_all_logs(tui_model *m, int64_t after_seq, hp_log_page **out, char *msg, size_t size);
/* job.logs with every bound (a window over a long log: before_seq pages back, after_seq
 * forward): *out (caller frees) or NULL with msg (may be NULL). */
int tui_model_job_page(tui_model *m, int64_t job_id, const hp_log_bounds *b, hp_log_page **out,
                       char *msg, size_t size);
/* logs.search: *out (caller frees with hp_log_matches_free) or NULL with msg (may be
 * NULL). Each call reads a bounded part of the log (the server's cap), never the whole. */
int tui_model_log_search(tui_model *m, const hp_log_search *q, hp_log_matches **out, char *msg,
                         size_t size);
/* The lines of every job of a run after the cursor after_seq, in seq order: job.logs of
 * each job in one batch, so no line slips between two jobs' answers. Each line's src is
 * replaced by its job's action name. *out (caller frees with hp_log_page_free) has
 * next_seq as the cursor for the next call, and n_lines 0 when nothing is new; NULL on
 * failure with msg (may be NULL). *ended (may be NULL) gets 1 when the run is over. */
int tui_model_run_logs(tui_model *m, int64_t run_id, int64_t after_seq, hp_log_page **out,
                       int *ended, char *msg, size_t size);
/* The current run of a service as the server says now (the list may be a second old
 * and a restart replaces the run), 0 when it has none or on failure. */
int64_t tui_model_service_run(tui_model *m, const char *service);
/* The newest job of a service (highest id), 0 when it has none. */
int64_t tui_model_latest_job(tui_model *m, const char *service);

/* Runs act; msg (caller's, size bytes) gets the result sentence or the server's
 * message. Returns 0 on success, -1 otherwise. */
int tui_model_act(tui_model *m, const tui_action *act, char *msg, size_t size);
/* The services of the last list that require service, directly or not (running ones only
 * when running is set): their number, and their names as "'b', 'a'" into names (size
 * bytes), the nearest first. */
size_t tui_model_dependants(const tui_model *m, const char *service, int running, char *names,
                            size_t size);

/* secret.set of name to value (neither kept): 0 with "saved secret 'NAME'" in msg, or
 * -1 with the server's message. */
int tui_model_secret_set(tui_model *m, const char *name, const char *value, char *msg, size_t size);

struct tui_form;
/* service.get of name: *out (caller frees with hp_service_record_free), or -1 with msg. */
int tui_model_service_config(tui_model *m, const char *name, hp_service_record **out, char *msg,
                             size_t size);
/* run.get of id, with its actions: *out (caller frees with hp_run_free), or -1 with msg. */
int tui_model_run(tui_model *m, int64_t id, hp_run **out, char *msg, size_t size);
/* system.ping, to learn whether the server answers (a view that fetches nothing).
 * 0 when it does, -1 otherwise (m->reason says why). */
int tui_model_ping(tui_model *m);
/* Sends a form (tui_form_submit) and notes whether the server was reached. */
int tui_model_submit(tui_model *m, struct tui_form *form, int64_t *run_id, char *msg, size_t size);

/* A service from the last list by name, NULL when absent. Borrowed. */
const hp_service_summary *tui_model_find_service(const tui_model *m, const char *name);

#endif
