/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's in-memory model: services, runs and jobs with their runtime state.
 * Memory is the truth while the daemon lives; the store (store.h) persists every change
 * so a restarted daemon can load it back. Nothing here does I/O. */
#ifndef HPD_MODEL_H
#define HPD_MODEL_H

#include "common/json.h"
#include "common/spec.h"

#include <stdint.h>
#include <sys/types.h>

/* X(enum, wire name) */
#define HPD_JOB_STATES(X)                                                                          \
    X(HPD_JOB_PENDING, "pending")                                                                  \
    X(HPD_JOB_RUNNING, "running")                                                                  \
    X(HPD_JOB_RETRYING, "retrying")                                                                \
    X(HPD_JOB_SUCCEEDED, "succeeded")                                                              \
    X(HPD_JOB_FAILED, "failed")                                                                    \
    X(HPD_JOB_TIMED_OUT, "timed_out")                                                              \
    X(HPD_JOB_CANCELLED, "cancelled")                                                              \
    X(HPD_JOB_SKIPPED, "skipped")

#define HPD_RUN_STATES(X)                                                                          \
    X(HPD_RUN_PENDING, "pending")                                                                  \
    X(HPD_RUN_RUNNING, "running")                                                                  \
    X(HPD_RUN_SUCCEEDED, "succeeded")                                                              \
    X(HPD_RUN_FAILED, "failed")                                                                    \
    X(HPD_RUN_CANCELLED, "cancelled")

typedef enum hpd_job_state {
#define HPD__ENUM(e, s) e,
    HPD_JOB_STATES(HPD__ENUM)
#undef HPD__ENUM
} hpd_job_state;

typedef enum hpd_run_state {
#define HPD__ENUM(e, s) e,
    HPD_RUN_STATES(HPD__ENUM)
#undef HPD__ENUM
} hpd_run_state;

const char *hpd_job_state_name(hpd_job_state s);
const char *hpd_run_state_name(hpd_run_state s);
/* 0 and *out set when name is a state's wire name, else -1. */
int hpd_job_state_parse(const char *name, hpd_job_state *out);
int hpd_run_state_parse(const char *name, hpd_run_state *out);
/* A job in a final state never changes again (succeeded, failed, timed_out, cancelled,
 * skipped). */
int hpd_job_state_final(hpd_job_state s);

/* One captured output stream of a running job: bytes not yet split into lines. */
typedef struct hpd_linebuf {
    int fd; /* read end of the pipe, -1 once at EOF */
    char *buf;
    size_t len, cap;
    int cutting; /* an overlong line was cut: drop bytes up to the next newline */
} hpd_linebuf;

struct hpd_run;
struct hpd_server;

typedef struct hpd_job {
    int64_t id;
    struct hpd_run *run; /* owner */
    size_t index;        /* its action in run->actions */
    hpd_job_state status;
    int attempt;                  /* 1-based; counts every process started for this job */
    int restarts;                 /* automatic restarts (restart: on_failure/always) */
    pid_t pid;                    /* process (and group) of the current attempt, 0 when none */
    int pidfd;                    /* -1 when none */
    unsigned long long pid_start; /* start time from /proc/PID/stat, against PID reuse */
    int has_exit, exit_code, signal;
    int64_t started_at_ms, ended_at_ms;
    char *error;     /* readable reason of the last failure, or NULL */
    int64_t dropped; /* log lines evicted by caps */
    int64_t lines;   /* log lines kept for this job */
    /* While it waits to restart (retrying): when the next attempt is due (wall clock),
     * and the back-off that got it there; kept so that a daemon killed meanwhile keeps
     * the deadline and the doubling instead of starting it again at once. */
    int64_t retry_at_ms;
    uint64_t backoff_ms;
    int quick_failures; /* consecutive restarts that ran less than the stable time */
    int crash_loop;

    /* runtime only */
    hpd_linebuf out[2];    /* stdout, stderr */
    uint64_t timer;        /* timeout, retry delay or restart backoff */
    uint64_t kill_timer;   /* SIGKILL after the grace period */
    uint64_t drain_timer;  /* gives up on pipes held open after the exit */
    hpd_job_state stop_as; /* final state asked for by a stop (cancelled, timed_out) */
    int reaped;
    int exit_unknown;    /* a re-adopted leader ended: not our child, its status unknown */
    pid_t marker_daemon; /* re-adopted: the dead daemon's pid in its processes' marker */
    uint64_t spawned_mono_ms;
    struct hpd_probe_run *probe; /* its probe's state (supervisor_probe.c), or NULL */
    int health;                  /* hpd_health of the current attempt (probe.h) */
    char *health_detail;         /* the last probe failure, or NULL */
    /* Its cost as last sampled (cost.c), valid while cost_pid is the running pid. */
    pid_t cost_pid;
    uint64_t cost_mono_ms, cost_ticks;
    double cpu_pct; /* 100 = one core */
    int64_t rss_bytes;
    int threads, procs;
} hpd_job;

typedef struct hpd_waiter hpd_waiter;

typedef struct hpd_run {
    int64_t id;
    char *name;
    char *service; /* owning service name, NULL for an ad-hoc run */
    hpd_run_state status;
    int64_t created_at_ms, started_at_ms, ended_at_ms;
    hp_action_spec *actions;
    size_t n_actions;
    hpd_job **jobs;       /* n_actions jobs, action order */
    int cancelling;       /* a stop was asked: it ends cancelled */
    int delete_when_done; /* its service was deleted: remove it once it has stopped */
    int requires_failed;  /* a service it requires failed first: its jobs were skipped */
    hpd_waiter *waiters;
    struct hpd_server *srv;      /* runtime: the daemon that owns it */
    struct hpd_run *prev, *next; /* all runs, oldest first */
    struct hpd_run *active_next; /* srv->active_runs */
    int in_active;
} hpd_run;

typedef struct hpd_service {
    hp_service_config config; /* as last set */
    int wanted_start;
    int64_t created_at_ms, updated_at_ms;
    int64_t run_id;        /* current run, 0 when none */
    int restarts;          /* service.restart calls plus automatic restarts */
    int64_t pending_start; /* a restart waiting for this run id to stop, else 0 */
    int keep_history;
} hpd_service;

#endif
