/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon as one object: its loop, store, HTTP front, and the in-memory model of
 * services, runs and jobs; plus the supervisor operations the methods call. The
 * supervisor (supervisor.c) spawns, watches, stops and reaps processes; methods.c maps
 * JSON-RPC calls onto these functions. */
#ifndef HPD_SERVER_H
#define HPD_SERVER_H

#include "server/events.h"
#include "server/http.h"
#include "server/loop.h"
#include "server/model.h"
#include "server/store.h"

#include <stdint.h>

typedef struct hpd_options {
    const char *socket_path;
    const char *data_dir;
    const char *http_addr;
    int http_allow_remote;
    /* TLS on --http: the operator's PEM files, or a self-signed pair in the data dir;
     * plain HTTP on a non-loopback address only with insecure_http. */
    const char *tls_cert, *tls_key;
    int tls_self_signed, insecure_http;
    int daemonize;
    int log_level;             /* 0 error, 1 warn, 2 info, 3 debug */
    size_t max_body;           /* default 1 MiB */
    uint64_t kill_grace_ms;    /* SIGTERM -> SIGKILL, default 5000 */
    int64_t log_bytes_per_job; /* default 256 MiB */
    int64_t log_bytes;         /* all jobs, default 4 GiB */
    int64_t max_finished_runs; /* default 1000 */
    int64_t max_services;      /* service.set refuses a new name beyond it, default 10000 */
    int64_t max_active_runs;   /* pending or running runs, default 1000 */
    int64_t max_secrets;       /* secret.set refuses a new name beyond it, default 10000 */
    const char *secrets_key;   /* key file of the secrets; NULL: <data-dir>/secrets.key */
    uint64_t backoff_min_ms;   /* default 1000 */
    uint64_t backoff_max_ms;   /* default 30000 */
    uint64_t stable_ms;        /* --min-uptime-ms: longer runs restart at once, default 10000 */
    int no_cgroups;            /* track jobs by their environment marker only */
    int no_realtime;           /* the loop keeps the normal policy (only the nice boost) */
    /* Connections open at once (past it idle ones make room), default 256; a request
     * not received whole within request_timeout_ms (default 10000) is closed. */
    unsigned max_connections;
    uint64_t request_timeout_ms;
    int resume_fd;      /* --reexec-state: the state an in-place upgrade handed over, 0 none */
    size_t events_ring; /* events kept for events.wait (--events-ring), default 4096 */
    uint64_t holder_grace_ms; /* the pipe holder waits this long for a daemon, default 60000 */
} hpd_options;

typedef struct hpd_server {
    hpd_options opt;
    char *socket_path, *data_dir;
    hpd_loop *loop;
    hpd_store *store;
    hpd_http *http;
    int sigfd;
    int stopping; /* SIGTERM/SIGINT received: stop every job, then exit */
    int64_t rev;  /* change counter; bumps on every model change */
    int64_t next_run_id, next_job_id;
    int64_t started_at_ms;
    hpd_service **services; /* sorted by name */
    size_t n_services, cap_services;
    hpd_run *runs_head, *runs_tail; /* oldest first */
    size_t n_runs;
    /* Every active run and some that ended (dropped as hpd_active_first walks), so that
     * finding a pid or counting active runs does not walk the kept finished ones. */
    hpd_run *active_runs;
    /* The same runs by id (ascending), so finding a run or a job is a binary search: a
     * service list looks up each service's run. by_id_partial: a run could not be added
     * (no memory), so a miss falls back to walking the list. */
    hpd_run **by_id;
    size_t cap_by_id;
    int by_id_partial;
    uint64_t flush_timer;
    /* The store's health as last logged (hpd_store_watch), and its retry timer. */
    uint64_t store_timer, store_generation;
    int store_ok;
    char store_error[128];
    int64_t store_dropped_lines, store_dropped_writes;
    struct hpd_secretbox *secrets; /* the key; NULL until a secret needs it (secretbox.c) */
    struct hpd_auth *auth;         /* roles and API tokens (auth.c) */
    char *secrets_key;             /* its file */
    int lock_fd;                   /* flock on <data-dir>/lock, held for the lifetime */
    char *cgroup_dir;          /* the daemon's cgroup v2 sub-tree for its jobs, NULL when none */
    int job_nice;              /* the nice jobs get back (the daemon's own before it raised it) */
    uint64_t out_turn;         /* the loop's turn out_left counts for */
    size_t out_left;           /* output bytes still to read in that turn */
    int niced;                 /* the daemon runs PRIORITY_BOOST above its jobs */
    int realtime;              /* the loop's thread runs SCHED_RR (priority 1) */
    struct hpd_reexec *reexec; /* in-place upgrade (reexec.c), NULL until set up */
    struct hpd_holder *holder; /* the pipe holder (supervisor_holder.c), NULL when none */

    /* Health probes (supervisor_probe.c), NULL until one is due; the last sample of the
     * jobs' cost (cost.c). */
    struct hpd_probes *probes;
    uint64_t cost_mono_ms;
    /* Called by the supervisor when a run reached a final state: the methods' run.wait
     * waiters, registered by server.c at start (the supervisor never calls methods). */
    void (*on_run_ended)(struct hpd_server *srv, struct hpd_run *run);
    struct hpd_events *events; /* the ring of events.wait (events.c) */
} hpd_server;

/* Daemon lifetime (server.c). */
int hpd_server_main(const hpd_options *opt);

/* The model's state (state.c): calls neither the methods nor the supervisor. */
void hpd_log(hpd_server *srv, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hpd_changed(hpd_server *srv); /* bump rev */
hpd_service *hpd_service_find(hpd_server *srv, const char *name);
/* Adds svc (taken) in name order; -1 when out of memory (svc not taken). */
int hpd_service_insert(hpd_server *srv, hpd_service *svc);
hpd_run *hpd_run_find(hpd_server *srv, int64_t id);
/* Where a run of id is or would go in srv->by_id. */
size_t hpd_run_slot(const hpd_server *srv, int64_t id);
hpd_job *hpd_job_find(hpd_server *srv, int64_t id);
hpd_run *hpd_service_run(hpd_server *srv, const hpd_service *svc); /* current run or NULL */
const char *hpd_service_state(hpd_server *srv, const hpd_service *svc);
int hpd_run_active(const hpd_run *run); /* pending or running */

/* Supervisor (supervisor.c). */
int hpd_supervisor_init(hpd_server *srv, hp_error *err);
/* Creates a run from actions (copied) and starts what is ready; NULL with err. */
hpd_run *hpd_run_create(hpd_server *srv, const char *name, const char *service,
                        const hp_action_spec *actions, size_t n, int start_now, hp_error *err);
void hpd_run_start(hpd_server *srv, hpd_run *run);
/* Asks every job of the run to stop (SIGTERM, SIGKILL after the grace); ends cancelled. */
void hpd_run_cancel(hpd_server *srv, hpd_run *run);
void hpd_job_cancel(hpd_server *srv, hpd_job *job);
/* Appends run (taken) to the daemon's list of runs, newest last. */
void hpd_run_link(hpd_server *srv, hpd_run *run);
/* Frees a run unlinked from the list, with its jobs, their fds and buffers. NULL safe. */
void hpd_run_free(hpd_run *run);
/* Removes a finished run from memory and the store. */
void hpd_run_delete(hpd_server *srv, hpd_run *run);
/* Called when a run reached a final state (waiters, restarts waiting on it, caps). */
void hpd_run_ended(hpd_server *srv, hpd_run *run);
/* Service operations behind the methods. */
hpd_run *hpd_service_start(hpd_server *srv, hpd_service *svc, hp_error *err);
void hpd_service_stop(hpd_server *srv, hpd_service *svc);
hpd_run *hpd_service_restart(hpd_server *srv, hpd_service *svc, int keep_history, hp_error *err);
void hpd_service_remove(hpd_server *srv, hpd_service *svc);
/* Saves the model object to the store (logs failures). */
void hpd_save_run(hpd_server *srv, const hpd_run *run);
void hpd_save_job(hpd_server *srv, const hpd_job *job);
void hpd_save_service(hpd_server *srv, const hpd_service *svc);
/* Logs a change of the store's health once and keeps a retry scheduled while changes
 * wait for it. Called after every write. */
void hpd_store_watch(hpd_server *srv);
/* A line on the job's system stream (also used for spawn/exit records). */
void hpd_job_syslog(hpd_server *srv, hpd_job *job, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Number of jobs with a live process. */
size_t hpd_running_jobs(hpd_server *srv);
/* The first of the active runs (follow ->active_next), the ended ones dropped first; the
 * walk must not end or delete runs. */
hpd_run *hpd_active_first(hpd_server *srv);
size_t hpd_active_count(hpd_server *srv);
/* Reaps children (SIGCHLD). */
void hpd_reap(hpd_server *srv);
/* Stop everything for shutdown; returns 1 while processes remain. */
int hpd_stop_all(hpd_server *srv);
/* At exit: kills whatever a job started that is still alive, reaps it, removes the
 * daemon's cgroups. */
void hpd_supervisor_fini(hpd_server *srv);
/* Recovery after a crash: jobs recorded running are checked and terminated. */
void hpd_recover(hpd_server *srv);

/* Waiters of run.wait (methods.c registers them; the supervisor fires them through
 * srv->on_run_ended). */
struct hpd_waiter {
    hpd_pending *pending;
    hpd_server *srv;
    hpd_run *run;
    uint64_t timer;
    struct hpd_waiter *next;
};
void hpd_waiters_fire(hpd_server *srv, hpd_run *run);

/* JSON views (methods.c). */
cJSON *hpd_job_json(hpd_server *srv, const hpd_job *job);
cJSON *hpd_run_json(hpd_server *srv, const hpd_run *run, int with_jobs);

extern const hpd_method hpd_methods[];
extern const char hpd_openrpc_json[];
extern const char hpd_openrpc_json_end[];

#endif
