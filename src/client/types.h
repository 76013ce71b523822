/* SPDX-License-Identifier: Apache-2.0 */
/* Typed results of the hero_proc wire API (data/openrpc.json): one struct per object the
 * server answers with, each with parse (from cJSON), to-JSON and free. ActionSpec and
 * ServiceConfig are the shared ones of common/spec.h, reused here. Every struct owns its
 * strings and arrays; a child (a run's job) is borrowed from its parent. */
#ifndef HP_CLIENT_TYPES_H
#define HP_CLIENT_TYPES_H

#include "../common/spec.h"
#include "../common/status.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hp_job_state {
    HP_JOB_PENDING,
    HP_JOB_RUNNING,
    HP_JOB_RETRYING,
    HP_JOB_SUCCEEDED,
    HP_JOB_FAILED,
    HP_JOB_TIMED_OUT,
    HP_JOB_CANCELLED,
    HP_JOB_SKIPPED
} hp_job_state;

typedef enum hp_run_state {
    HP_RUN_PENDING,
    HP_RUN_RUNNING,
    HP_RUN_SUCCEEDED,
    HP_RUN_FAILED,
    HP_RUN_CANCELLED
} hp_run_state;

typedef enum hp_service_state {
    HP_SERVICE_INACTIVE,
    HP_SERVICE_RUNNING,
    HP_SERVICE_SUCCESS,
    HP_SERVICE_FAILED,
    HP_SERVICE_EXITED,
    HP_SERVICE_DEGRADED /* running, and a running job's probe says unhealthy */
} hp_service_state;

typedef enum hp_log_stream { HP_STREAM_STDOUT, HP_STREAM_STDERR, HP_STREAM_SYSTEM } hp_log_stream;

/* The wire names ("timed_out", "success", "stderr", ...); "unknown" out of range. */
const char *hp_job_state_name(hp_job_state s);
const char *hp_run_state_name(hp_run_state s);
const char *hp_service_state_name(hp_service_state s);
const char *hp_log_stream_name(hp_log_stream s);
/* 1 for the final states (succeeded, failed, cancelled; for jobs also timed_out and
 * skipped), else 0. */
int hp_job_state_is_final(hp_job_state s);
int hp_run_state_is_final(hp_run_state s);

/* Times are milliseconds since the Unix epoch; a time the server sends as null (not yet
 * known) is 0. Nullable counts that matter carry a has_ flag. */
typedef struct hp_job {
    int64_t id;
    int64_t run_id;
    char *action;
    char *service; /* NULL for a run from run.submit */
    hp_job_state status;
    int64_t attempt; /* 1-based */
    int64_t pid;
    int has_pid;
    int64_t exit_code;
    int has_exit_code; /* 0 unless the last attempt exited normally */
    int64_t signal;
    int has_signal;
    int64_t started_at_ms;
    int64_t ended_at_ms;
    char *error; /* a readable reason when it did not succeed, else NULL */
    int64_t restarts;
    int64_t dropped;     /* log lines dropped by the caps */
    char *health;        /* "unknown", "healthy", "unhealthy"; NULL when it has no probe */
    char *health_detail; /* the last probe failure, one line, or NULL */
    /* The cost of its process group, sampled at most once a second while it runs; 0
     * before the first sample and once it stopped. cpu_pct: 100 = one core. */
    double cpu_pct;
    int64_t rss_bytes, threads, procs;
} hp_job;

typedef struct hp_job_counts {
    int64_t total, pending, running, succeeded, failed, cancelled, skipped;
} hp_job_counts;

typedef struct hp_run {
    int64_t id;
    char *name;
    char *service; /* NULL for run.submit */
    hp_run_state status;
    int64_t created_at_ms;
    int64_t started_at_ms;
    int64_t ended_at_ms;
    hp_job_counts counts;
    hp_job *jobs; /* ordered by id; absent (has_jobs 0) in run.list */
    size_t n_jobs;
    int has_jobs;
    hp_action_spec *actions; /* as submitted, in order, owned; run.get only, else NULL */
    size_t n_actions;
} hp_run;

typedef struct hp_service_summary {
    char *name;
    char *description;
    hp_service_state status;
    int wanted_start; /* 1 = wanted start, 0 = stop */
    int64_t run_id;   /* latest run, 0 when none */
    int64_t actions;  /* number of actions */
    int64_t *pids;    /* running jobs' pids */
    size_t n_pids;
    int64_t restarts;
    int crash_loop;
    int64_t started_at_ms;
    int64_t updated_at_ms;
    double cpu_pct; /* the sums over its running jobs (hp_job's) */
    int64_t rss_bytes, threads, procs;
    char **requires; /* the services it requires (ServiceConfig.requires), owned */
    size_t n_requires;
} hp_service_summary;

typedef struct hp_service_status {
    char *name;
    hp_service_state status;
    int wanted_start;
    int64_t run_id; /* 0 when none */
    hp_job *jobs;
    size_t n_jobs;
    int64_t restarts;
    int crash_loop;
    double cpu_pct; /* the sums over its running jobs (hp_job's) */
    int64_t rss_bytes, threads, procs;
} hp_service_status;

/* service.get: the stored configuration and its times. */
typedef struct hp_service_record {
    hp_service_config config; /* wanted_start is the current wanted */
    int64_t created_at_ms;
    int64_t updated_at_ms;
} hp_service_record;

typedef struct hp_log_line {
    int64_t seq;
    int64_t ts_ms;
    char *src;
    int64_t job_id; /* 0 for lines from logs.insert */
    hp_log_stream stream;
    char *line;
} hp_log_line;

typedef struct hp_log_page {
    hp_log_line *lines; /* oldest first */
    size_t n_lines;
    int64_t next_seq; /* pass as after_seq for the lines that follow (as before_seq when
                       * the page was asked with before_seq) */
    int64_t dropped;
    int truncated; /* job.logs: lines of the range asked for were dropped by retention */
} hp_log_page;

/* A line that logs.search found, with its job's lines around it (oldest first). */
typedef struct hp_log_match {
    hp_log_line line;
    hp_log_line *before;
    size_t n_before;
    hp_log_line *after;
    size_t n_after;
} hp_log_match;

typedef struct hp_log_matches {
    hp_log_match *matches; /* newest first */
    size_t n_matches;
    int64_t scanned; /* lines read by the call */
    int complete;    /* 0: pass next_job_id and next_before_seq back to go on */
    int64_t next_job_id, next_before_seq;
} hp_log_matches;

typedef struct hp_secret_meta {
    char *name;
    int64_t created_at_ms;
    int64_t updated_at_ms;
} hp_secret_meta;

typedef struct hp_secret {
    char *name;
    char *value;
    int64_t created_at_ms;
    int64_t updated_at_ms;
} hp_secret;

typedef struct hp_system_counts {
    int64_t services, runs, jobs, running_jobs, secrets, log_lines;
} hp_system_counts;

/* The health of the server's store (system.info's store). */
typedef struct hp_store_health {
    int ok;                 /* 1 when the last write reached the store */
    char *error;            /* why it cannot be written; NULL when ok */
    int64_t since_ms;       /* when it entered its current state (ok or failing) */
    int64_t failures;       /* failed write attempts since it was last ok */
    int64_t pending;        /* state changes and log lines waiting to be written */
    int64_t dropped_lines;  /* log lines dropped since the server started */
    int64_t dropped_writes; /* state changes given up since the server started */
} hp_store_health;

typedef struct hp_system_info {
    char *version;
    int64_t pid;
    int64_t started_at_ms;
    int64_t uptime_ms;
    int64_t rev;
    char *data_dir;
    char *socket; /* NULL when the server has no Unix socket */
    hp_system_counts counts;
    int64_t dropped_log_lines;
    /* An older server does not send store: then store_known = 0 and store.ok = 1. */
    int store_known;
    hp_store_health store;
    char *role; /* the caller's role: "read", "operate", "admin"; NULL from an older server */
} hp_system_info;

typedef struct hp_pong {
    char *version;
    int64_t ts_ms;
} hp_pong;

/* The list answers. unchanged = 1 when the call gave if_changed_since equal to the
 * server's rev: then only rev is set and the array is empty. */
typedef struct hp_service_list {
    int unchanged;
    int64_t rev;
    hp_service_summary *services; /* ordered by name */
    size_t n_services;
} hp_service_list;

typedef struct hp_run_list {
    int unchanged;
    int64_t rev;
    hp_run *runs; /* newest first, without jobs */
    size_t n_runs;
} hp_run_list;

typedef struct hp_job_list {
    int unchanged;
    int64_t rev;
    hp_job *jobs; /* newest first */
    size_t n_jobs;
} hp_job_list;

typedef struct hp_secret_list {
    int unchanged;
    int64_t rev;
    hp_secret_meta *secrets; /* ordered by name, never values */
    size_t n_secrets;
} hp_secret_list;

/* events.wait: one state change (the contract's Event). kind stays text: a newer server
 * may add kinds (job_started, job_exited, job_restarted, job_healthy, job_unhealthy,
 * crash_loop, service_failed, run_ended, server_restarting). */
typedef struct hp_event {
    int64_t seq;
    int64_t ts_ms;
    char *kind;
    char *service;  /* NULL for an ad-hoc run */
    int64_t run_id; /* 0 when none */
    int64_t job_id; /* 0 for run and service events */
    char *action;   /* NULL for run and service events */
    int has_exit_code, has_signal;
    int64_t exit_code, signal; /* job_exited */
    int failed;                /* job_exited: a failure, not a success or an asked-for stop */
    char *text;                /* one line */
} hp_event;

typedef struct hp_event_page {
    hp_event *events; /* oldest first */
    size_t n_events;
    int64_t last_seq;      /* pass as after_seq next */
    int64_t dropped;       /* events after after_seq overwritten before they were read */
    int64_t dropped_total; /* overwritten since the server started */
} hp_event_page;

/* For each type T above (job, run, service_summary, service_status, service_record,
 * log_line, log_page, secret_meta, secret, system_info, pong, service_list, run_list,
 * job_list, secret_list, event, event_page):
 *
 *   T *hp_T_from_json(const cJSON *json, hp_error *err);
 *       A new T (free with hp_T_free) read from json (borrowed). Unknown fields are
 *       ignored, missing optional ones defaulted. NULL with HP_E_PROTOCOL naming the
 *       field when json does not have the shape of the contract, HP_E_NOMEM.
 *   cJSON *hp_T_to_json(const T *v);
 *       The wire form (caller deletes with cJSON_Delete); NULL on allocation failure.
 *   void hp_T_free(T *v);
 *       Frees v and everything it owns. NULL safe. */
#define HP__TYPE_API(T)                                                                            \
    hp_##T *hp_##T##_from_json(const cJSON *json, hp_error *err);                                  \
    cJSON *hp_##T##_to_json(const hp_##T *v);                                                      \
    void hp_##T##_free(hp_##T *v);

HP__TYPE_API(job)
HP__TYPE_API(run)
HP__TYPE_API(service_summary)
HP__TYPE_API(service_status)
HP__TYPE_API(service_record)
HP__TYPE_API(log_line)
HP__TYPE_API(log_page)
HP__TYPE_API(log_matches)
HP__TYPE_API(secret_meta)
HP__TYPE_API(secret)
HP__TYPE_API(system_info)
HP__TYPE_API(pong)
HP__TYPE_API(service_list)
HP__TYPE_API(run_list)
HP__TYPE_API(job_list)
HP__TYPE_API(secret_list)
HP__TYPE_API(event)
HP__TYPE_API(event_page)

/* One call of a batch (hp_sdk_batch). Fill method (borrowed) and params (an object
 * taken by the batch, NULL for none); the batch sets result (caller deletes) or error. */
typedef struct hp_batch_call {
    const char *method;
    cJSON *params;
    cJSON *result;
    hp_error error;
} hp_batch_call;

#ifdef __cplusplus
}
#endif

#endif
