/* SPDX-License-Identifier: Apache-2.0 */
/* The 27 methods of the wire contract (data/openrpc.json): the table with each method's
 * params (mirroring the contract), the JSON views of jobs, runs and services, the param
 * helpers, and rpc.discover and system.*. The handlers are in methods_*.c; each reads its
 * already type-checked params, acts on the model through the supervisor, and returns the
 * JSON of DESIGN section 2. No process or socket handling here. */
#include "config.h"

#include "server/cost.h"
#include "server/auth.h"
#include "server/methods_int.h"
#include "server/probe.h"
#include "server/reexec.h"
#include "server/secretbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- JSON views ------------------------------------------------------------------- */

static void add_opt_int(cJSON *o, const char *key, int64_t v, int present)
{
    if (present)
        hp_json_add_int(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_opt_str(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* One decimal is all a person reads of a CPU figure. */
static double tenths(double v)
{
    return (double)(long long)(v * 10 + 0.5) / 10;
}

/* cpu_pct, rss_bytes, threads and procs of a running job's group; null when it runs no
 * process or has no sample yet. */
static void add_cost(cJSON *o, const hpd_job *job)
{
    int sampled = job->status == HPD_JOB_RUNNING && job->pid > 0 && job->cost_pid == job->pid &&
                  job->cost_mono_ms;

    if (sampled)
        cJSON_AddNumberToObject(o, "cpu_pct", tenths(job->cpu_pct));
    else
        cJSON_AddNullToObject(o, "cpu_pct");
    add_opt_int(o, "rss_bytes", job->rss_bytes, sampled);
    add_opt_int(o, "threads", job->threads, sampled);
    add_opt_int(o, "procs", job->procs, sampled);
}

/* The sums over the running jobs of the service's run. */
static void add_service_cost(cJSON *o, hpd_server *srv, const hpd_service *svc)
{
    hpd_run *run = hpd_service_run(srv, svc);
    double pct = 0;
    int64_t rss = 0, threads = 0, procs = 0;

    hpd_cost_refresh(srv);
    for (size_t i = 0; run && hpd_run_active(run) && i < run->n_actions; i++) {
        const hpd_job *job = run->jobs[i];
        if (job->status != HPD_JOB_RUNNING || job->pid <= 0 || job->cost_pid != job->pid)
            continue;
        pct += job->cpu_pct;
        rss += job->rss_bytes;
        threads += job->threads;
        procs += job->procs;
    }
    cJSON_AddNumberToObject(o, "cpu_pct", tenths(pct));
    hp_json_add_int(o, "rss_bytes", rss);
    hp_json_add_int(o, "threads", threads);
    hp_json_add_int(o, "procs", procs);
}

cJSON *hpd_job_json(hpd_server *srv, const hpd_job *job)
{
    cJSON *o = cJSON_CreateObject();
    int live = job->status == HPD_JOB_RUNNING && job->pid > 0;
    int ended = hpd_job_state_final(job->status) || job->status == HPD_JOB_RETRYING;

    hp_json_add_int(o, "id", job->id);
    hp_json_add_int(o, "run_id", job->run->id);
    cJSON_AddStringToObject(o, "action", job->run->actions[job->index].name);
    add_opt_str(o, "service", job->run->service);
    cJSON_AddStringToObject(o, "status", hpd_job_state_name(job->status));
    hp_json_add_int(o, "attempt", job->attempt > 0 ? job->attempt : 1);
    add_opt_int(o, "pid", job->pid, live);
    add_opt_int(o, "exit_code", job->exit_code, ended && job->has_exit);
    add_opt_int(o, "signal", job->signal, ended && job->signal != 0);
    add_opt_int(o, "started_at_ms", job->started_at_ms, job->started_at_ms != 0);
    add_opt_int(o, "ended_at_ms", job->ended_at_ms, job->ended_at_ms != 0 && ended);
    add_opt_str(o, "error", job->error);
    hp_json_add_int(o, "restarts", job->restarts);
    hp_json_add_int(o, "dropped", hpd_store_job_dropped(srv->store, job->id));
    if (job->crash_loop)
        cJSON_AddTrueToObject(o, "crash_loop");
    add_opt_str(o, "health",
                job->run->actions[job->index].probe.kind != HP_PROBE_NONE
                    ? hpd_health_name(job->health)
                    : NULL);
    add_opt_str(o, "health_detail", job->health_detail);
    hpd_cost_refresh(srv);
    add_cost(o, job);
    return o;
}

static cJSON *counts_json(const hpd_run *run)
{
    int c[8] = {0};
    cJSON *o = cJSON_CreateObject();

    for (size_t i = 0; i < run->n_actions; i++)
        c[run->jobs[i]->status]++;
    hp_json_add_int(o, "total", run->n_actions);
    hp_json_add_int(o, "pending", c[HPD_JOB_PENDING]);
    hp_json_add_int(o, "running", c[HPD_JOB_RUNNING] + c[HPD_JOB_RETRYING]);
    hp_json_add_int(o, "succeeded", c[HPD_JOB_SUCCEEDED]);
    hp_json_add_int(o, "failed", c[HPD_JOB_FAILED] + c[HPD_JOB_TIMED_OUT]);
    hp_json_add_int(o, "cancelled", c[HPD_JOB_CANCELLED]);
    hp_json_add_int(o, "skipped", c[HPD_JOB_SKIPPED]);
    return o;
}

cJSON *hpd_run_json(hpd_server *srv, const hpd_run *run, int with_jobs)
{
    cJSON *o = cJSON_CreateObject();

    hp_json_add_int(o, "id", run->id);
    cJSON_AddStringToObject(o, "name", run->name);
    add_opt_str(o, "service", run->service);
    cJSON_AddStringToObject(o, "status", hpd_run_state_name(run->status));
    hp_json_add_int(o, "created_at_ms", run->created_at_ms);
    add_opt_int(o, "started_at_ms", run->started_at_ms, run->started_at_ms != 0);
    add_opt_int(o, "ended_at_ms", run->ended_at_ms, run->ended_at_ms != 0);
    cJSON_AddItemToObject(o, "counts", counts_json(run));
    if (with_jobs) {
        cJSON *jobs = cJSON_AddArrayToObject(o, "jobs");
        for (size_t i = 0; i < run->n_actions; i++)
            cJSON_AddItemToArray(jobs, hpd_job_json(srv, run->jobs[i]));
    }
    return o;
}

static int service_restarts(hpd_server *srv, const hpd_service *svc, int *crash_loop)
{
    hpd_run *run = hpd_service_run(srv, svc);
    int restarts = 0;

    *crash_loop = 0;
    for (size_t i = 0; run && i < run->n_actions; i++) {
        restarts += run->jobs[i]->restarts;
        *crash_loop |= run->jobs[i]->crash_loop;
    }
    return restarts;
}

cJSON *hpd__service_summary(hpd_server *srv, const hpd_service *svc)
{
    cJSON *o = cJSON_CreateObject(), *pids;
    hpd_run *run = hpd_service_run(srv, svc);
    int crash_loop, restarts = service_restarts(srv, svc, &crash_loop);

    cJSON_AddStringToObject(o, "name", svc->config.name);
    cJSON_AddStringToObject(o, "description",
                            svc->config.description ? svc->config.description : "");
    cJSON_AddStringToObject(o, "status", hpd_service_state(srv, svc));
    cJSON_AddStringToObject(o, "wanted", svc->wanted_start ? "start" : "stop");
    add_opt_int(o, "run_id", svc->run_id, run != NULL);
    hp_json_add_int(o, "actions", svc->config.n_actions);
    if (svc->config.n_requires) {
        cJSON *req = cJSON_AddArrayToObject(o, "requires");
        for (size_t i = 0; i < svc->config.n_requires; i++)
            cJSON_AddItemToArray(req, cJSON_CreateString(svc->config.requires[i]));
    }
    pids = cJSON_AddArrayToObject(o, "pids");
    for (size_t i = 0; run && hpd_run_active(run) && i < run->n_actions; i++)
        if (run->jobs[i]->status == HPD_JOB_RUNNING && run->jobs[i]->pid > 0)
            cJSON_AddItemToArray(pids, cJSON_CreateNumber(run->jobs[i]->pid));
    hp_json_add_int(o, "restarts", restarts);
    cJSON_AddBoolToObject(o, "crash_loop", crash_loop);
    add_opt_int(o, "started_at_ms", run ? run->started_at_ms : 0,
                run && hpd_run_active(run) && run->started_at_ms);
    hp_json_add_int(o, "updated_at_ms", svc->updated_at_ms);
    add_service_cost(o, srv, svc);
    return o;
}

cJSON *hpd__service_status(hpd_server *srv, const hpd_service *svc)
{
    cJSON *o = cJSON_CreateObject(), *jobs;
    hpd_run *run = hpd_service_run(srv, svc);
    int crash_loop, restarts = service_restarts(srv, svc, &crash_loop);

    cJSON_AddStringToObject(o, "name", svc->config.name);
    cJSON_AddStringToObject(o, "status", hpd_service_state(srv, svc));
    cJSON_AddStringToObject(o, "wanted", svc->wanted_start ? "start" : "stop");
    add_opt_int(o, "run_id", svc->run_id, run != NULL);
    jobs = cJSON_AddArrayToObject(o, "jobs");
    for (size_t i = 0; run && i < run->n_actions; i++)
        cJSON_AddItemToArray(jobs, hpd_job_json(srv, run->jobs[i]));
    hp_json_add_int(o, "restarts", restarts);
    cJSON_AddBoolToObject(o, "crash_loop", crash_loop);
    add_service_cost(o, srv, svc);
    return o;
}

/* ---- param helpers ---------------------------------------------------------------- */

const char *hpd__str_param(hpd_rpc_ctx *ctx, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->params, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t hpd__int_param(hpd_rpc_ctx *ctx, const char *name, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->params, name);

    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : fallback;
}

int hpd__bool_param(hpd_rpc_ctx *ctx, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx->params, name));
}

/* {"unchanged": true, "rev": N} when the caller already has this rev, else NULL. */
cJSON *hpd__unchanged(hpd_rpc_ctx *ctx)
{
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(ctx->params, "if_changed_since");
    cJSON *o;

    /* A new sample of the jobs' cost bumps rev when a figure moved: a polling client sees
     * the cost change at most once a second, and nothing while it does not ask. */
    hpd_cost_refresh(ctx->srv);
    if (!cJSON_IsNumber(since) || (int64_t)since->valuedouble != ctx->srv->rev)
        return NULL;
    o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "unchanged");
    hp_json_add_int(o, "rev", ctx->srv->rev);
    return o;
}

cJSON *hpd__list_result(hpd_rpc_ctx *ctx, const char *key, cJSON *items)
{
    cJSON *o = cJSON_CreateObject();

    hp_json_add_int(o, "rev", ctx->srv->rev);
    cJSON_AddItemToObject(o, key, items);
    return o;
}

cJSON *hpd__invalid(hpd_rpc_ctx *ctx, hp_problems *pb)
{
    cJSON *r = hpd_rpc_fail(ctx, HPD_INVALID_PARAMS, hp_problems_to_json(pb), "%s",
                            pb->count ? pb->items[0] : "invalid params");
    hp_problems_free(pb);
    return r;
}

hpd_service *hpd__need_service(hpd_rpc_ctx *ctx)
{
    const char *name = hpd__str_param(ctx, "name");
    hpd_service *svc = hpd_service_find(ctx->srv, name);

    if (!svc)
        hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "service '%s' does not exist", name);
    return svc;
}

hpd_run *hpd__need_run(hpd_rpc_ctx *ctx)
{
    int64_t id = hpd__int_param(ctx, "id", 0);
    hpd_run *run = hpd_run_find(ctx->srv, id);

    if (!run)
        hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "run %lld does not exist", (long long)id);
    return run;
}

hpd_job *hpd__need_job(hpd_rpc_ctx *ctx)
{
    int64_t id = hpd__int_param(ctx, "id", 0);
    hpd_job *job = hpd_job_find(ctx->srv, id);

    if (!job)
        hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "job %lld does not exist", (long long)id);
    return job;
}

/* ---- rpc and system --------------------------------------------------------------- */

static cJSON *m_discover(hpd_rpc_ctx *ctx)
{
    cJSON *doc = cJSON_Parse(hpd_openrpc_json);

    return doc ? doc : hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "the embedded spec is broken");
}

static cJSON *m_ping(hpd_rpc_ctx *ctx)
{
    cJSON *o = cJSON_CreateObject();

    (void)ctx;
    cJSON_AddTrueToObject(o, "pong");
    cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
    hp_json_add_int(o, "ts_ms", hpd_now_ms());
    return o;
}

static cJSON *m_info(hpd_rpc_ctx *ctx)
{
    hpd_server *srv = ctx->srv;
    cJSON *o = cJSON_CreateObject(), *counts, *store;
    hpd_store_health h;
    size_t jobs = 0;

    for (hpd_run *run = srv->runs_head; run; run = run->next)
        jobs += run->n_actions;
    cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
    hp_json_add_int(o, "pid", getpid());
    hp_json_add_int(o, "started_at_ms", srv->started_at_ms);
    hp_json_add_int(o, "uptime_ms", (hpd_now_ms() - srv->started_at_ms));
    hp_json_add_int(o, "reexecs", hpd_reexec_count(srv));
    hp_json_add_int(o, "rev", srv->rev);
    cJSON_AddStringToObject(o, "data_dir", srv->data_dir);
    cJSON_AddStringToObject(o, "socket", srv->socket_path);
    cJSON_AddStringToObject(o, "role", hpd_role_name(hpd_auth_caller(srv->auth)));
    counts = cJSON_AddObjectToObject(o, "counts");
    hp_json_add_int(counts, "services", srv->n_services);
    hp_json_add_int(counts, "runs", srv->n_runs);
    hp_json_add_int(counts, "jobs", jobs);
    hp_json_add_int(counts, "running_jobs", hpd_running_jobs(srv));
    hp_json_add_int(counts, "secrets", hpd_store_secret_count(srv->store));
    hp_json_add_int(counts, "log_lines", hpd_store_log_count(srv->store));
    hp_json_add_int(o, "dropped_log_lines", hpd_store_dropped(srv->store));
    hpd_store_health_get(srv->store, &h);
    store = cJSON_AddObjectToObject(o, "store");
    cJSON_AddBoolToObject(store, "ok", h.ok);
    if (h.ok)
        cJSON_AddNullToObject(store, "error");
    else
        cJSON_AddStringToObject(store, "error", h.error);
    hp_json_add_int(store, "since_ms", h.since_ms);
    hp_json_add_int(store, "failures", h.failures);
    hp_json_add_int(store, "pending", h.pending);
    hp_json_add_int(store, "dropped_lines", h.dropped_lines);
    hp_json_add_int(store, "dropped_writes", h.dropped_writes);
    return o;
}

/* ---- the table -------------------------------------------------------------------- */

/* Mirrors the params of data/openrpc.json (types, minimum/maximum, lengths, item counts,
 * enums); tests/check_server_rpc.c walks the contract and checks the server refuses what
 * the schemas refuse. */
#define MAX_ID INT64_C(9007199254740991) /* 2^53 - 1: an id a JSON double holds exactly */
#define END                                                                                        \
    {                                                                                              \
        NULL, HPD_P_STRING, 0, 0, 0, NULL                                                          \
    }
#define NAME_REQ                                                                                   \
    {                                                                                              \
        "name", HPD_P_NAME, 1, 0, 0, NULL                                                          \
    }
#define ID_REQ                                                                                     \
    {                                                                                              \
        "id", HPD_P_INT, 1, 1, MAX_ID, NULL                                                        \
    }
#define SINCE                                                                                      \
    {                                                                                              \
        "if_changed_since", HPD_P_INT, 0, 0, MAX_ID, NULL                                          \
    }
#define OPT(name, type, min, max)                                                                  \
    {                                                                                              \
        name, type, 0, min, max, NULL                                                              \
    }

static const char *const run_states[] = {"pending", "running",   "succeeded",
                                         "failed",  "cancelled", NULL};
static const char *const job_states[] = {"pending",   "running", "retrying",
                                         "succeeded", "failed",  "timed_out",
                                         "cancelled", "skipped", NULL};
static const char *const streams[] = {"stdout", "stderr", "system", NULL};

static const hpd_param p_none[] = {END};
static const hpd_param p_name[] = {NAME_REQ, END};
static const hpd_param p_id[] = {ID_REQ, END};
static const hpd_param p_since[] = {SINCE, END};
static const hpd_param p_service_set[] = {{"config", HPD_P_OBJECT, 1, 0, 0, NULL}, END};
static const hpd_param p_restart[] = {NAME_REQ, OPT("keep_history", HPD_P_BOOL, 0, 0), END};
static const hpd_param p_cascade[] = {NAME_REQ, OPT("cascade", HPD_P_BOOL, 0, 0), END};
static const hpd_param p_submit[] = {NAME_REQ, {"actions", HPD_P_ARRAY, 1, 1, 64, NULL}, END};
static const hpd_param p_run_list[] = {OPT("service", HPD_P_NAME, 0, 0),
                                       {"status", HPD_P_STRING, 0, 0, 0, run_states},
                                       OPT("limit", HPD_P_INT, 1, 1000),
                                       SINCE,
                                       END};
static const hpd_param p_wait[] = {ID_REQ, OPT("timeout_ms", HPD_P_INT, 0, 3600000), END};
static const hpd_param p_job_list[] = {OPT("run_id", HPD_P_INT, 1, MAX_ID),
                                       OPT("service", HPD_P_NAME, 0, 0),
                                       {"status", HPD_P_STRING, 0, 0, 0, job_states},
                                       OPT("limit", HPD_P_INT, 1, 10000),
                                       SINCE,
                                       END};
/* The bounds of a log page (job.logs, logs.tail). */
#define LOG_BOUNDS                                                                                 \
    OPT("after_seq", HPD_P_INT, 0, MAX_ID), OPT("before_seq", HPD_P_INT, 1, MAX_ID),               \
        OPT("since_ms", HPD_P_INT, 0, MAX_ID), OPT("until_ms", HPD_P_INT, 1, MAX_ID),              \
        OPT("limit", HPD_P_INT, 1, 10000)
static const hpd_param p_job_logs[] = {ID_REQ, LOG_BOUNDS, OPT("attempt", HPD_P_INT, 1, 1000000),
                                       END};
static const hpd_param p_tail[] = {OPT("src", HPD_P_STRING, 1, 0), LOG_BOUNDS, END};
static const hpd_param p_search[] = {{"pattern", HPD_P_STRING, 1, 1, 1024, NULL},
                                     OPT("job_id", HPD_P_INT, 1, MAX_ID),
                                     OPT("run_id", HPD_P_INT, 1, MAX_ID),
                                     OPT("service", HPD_P_NAME, 0, 0),
                                     OPT("substring", HPD_P_BOOL, 0, 0),
                                     OPT("ignore_case", HPD_P_BOOL, 0, 0),
                                     OPT("before_seq", HPD_P_INT, 1, MAX_ID),
                                     OPT("from_job_id", HPD_P_INT, 1, MAX_ID),
                                     OPT("limit", HPD_P_INT, 1, 1000),
                                     OPT("context", HPD_P_INT, 0, 20),
                                     END};
static const hpd_param p_insert[] = {{"src", HPD_P_STRING, 1, 1, 128, NULL},
                                     {"lines", HPD_P_ARRAY, 1, 1, 1000, NULL},
                                     {"stream", HPD_P_STRING, 0, 0, 0, streams},
                                     END};
static const hpd_param p_events_wait[] = {OPT("after_seq", HPD_P_INT, 0, MAX_ID),
                                          OPT("timeout_ms", HPD_P_INT, 0, 3600000),
                                          OPT("limit", HPD_P_INT, 1, 10000), END};
static const hpd_param p_secret_set[] = {NAME_REQ, {"value", HPD_P_STRING, 1, 0, 65536, NULL}, END};
static const char *const roles[] = {"read", "operate", "admin", NULL};
static const hpd_param p_token_create[] = {NAME_REQ, {"role", HPD_P_STRING, 1, 0, 0, roles}, END};

const hpd_method hpd_methods[] = {
    {"rpc.discover", m_discover, p_none},
    {"system.ping", m_ping, p_none},
    {"system.info", m_info, p_none},
    {"system.reexec", hpd_reexec_rpc, p_none},
    {"service.set", hpd__m_service_set, p_service_set},
    {"service.get", hpd__m_service_get, p_name},
    {"service.list", hpd__m_service_list, p_since},
    {"service.status", hpd__m_service_status, p_name},
    {"service.start", hpd__m_service_start, p_name},
    {"service.stop", hpd__m_service_stop, p_cascade},
    {"service.restart", hpd__m_service_restart, p_restart},
    {"service.delete", hpd__m_service_delete, p_cascade},
    {"run.submit", hpd__m_run_submit, p_submit},
    {"run.get", hpd__m_run_get, p_id},
    {"run.list", hpd__m_run_list, p_run_list},
    {"run.wait", hpd__m_run_wait, p_wait},
    {"run.cancel", hpd__m_run_cancel, p_id},
    {"run.delete", hpd__m_run_delete, p_id},
    {"job.list", hpd__m_job_list, p_job_list},
    {"job.get", hpd__m_job_get, p_id},
    {"job.logs", hpd__m_job_logs, p_job_logs},
    {"job.cancel", hpd__m_job_cancel, p_id},
    {"logs.tail", hpd__m_logs_tail, p_tail},
    {"logs.search", hpd__m_logs_search, p_search},
    {"logs.insert", hpd__m_logs_insert, p_insert},
    {"secret.set", hpd__m_secret_set, p_secret_set},
    {"secret.get", hpd__m_secret_get, p_name},
    {"secret.list", hpd__m_secret_list, p_since},
    {"secret.delete", hpd__m_secret_delete, p_name},
    {"token.create", hpd__m_token_create, p_token_create},
    {"token.list", hpd__m_token_list, p_none},
    {"token.revoke", hpd__m_token_revoke, p_name},
    {"events.wait", hpd__m_events_wait, p_events_wait},
    {NULL, NULL, NULL},
};
