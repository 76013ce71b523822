/* The 27 methods of the wire contract (data/openrpc.json): each handler reads its
 * already type-checked params, acts on the model through the supervisor, and returns
 * the JSON of DESIGN section 2. No process or socket handling here. */
#include "config.h"

#include "server/secretbox.h"
#include "server/server.h"

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

static cJSON *service_summary(hpd_server *srv, const hpd_service *svc)
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
    pids = cJSON_AddArrayToObject(o, "pids");
    for (size_t i = 0; run && hpd_run_active(run) && i < run->n_actions; i++)
        if (run->jobs[i]->status == HPD_JOB_RUNNING && run->jobs[i]->pid > 0)
            cJSON_AddItemToArray(pids, cJSON_CreateNumber(run->jobs[i]->pid));
    hp_json_add_int(o, "restarts", restarts);
    cJSON_AddBoolToObject(o, "crash_loop", crash_loop);
    add_opt_int(o, "started_at_ms", run ? run->started_at_ms : 0,
                run && hpd_run_active(run) && run->started_at_ms);
    hp_json_add_int(o, "updated_at_ms", svc->updated_at_ms);
    return o;
}

static cJSON *service_status(hpd_server *srv, const hpd_service *svc)
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
    return o;
}

/* ---- param helpers ---------------------------------------------------------------- */

static const char *str_param(hpd_rpc_ctx *ctx, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->params, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t int_param(hpd_rpc_ctx *ctx, const char *name, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->params, name);

    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : fallback;
}

static int bool_param(hpd_rpc_ctx *ctx, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx->params, name));
}

/* {"unchanged": true, "rev": N} when the caller already has this rev, else NULL. */
static cJSON *unchanged(hpd_rpc_ctx *ctx)
{
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(ctx->params, "if_changed_since");
    cJSON *o;

    if (!cJSON_IsNumber(since) || (int64_t)since->valuedouble != ctx->srv->rev)
        return NULL;
    o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "unchanged");
    hp_json_add_int(o, "rev", ctx->srv->rev);
    return o;
}

static cJSON *list_result(hpd_rpc_ctx *ctx, const char *key, cJSON *items)
{
    cJSON *o = cJSON_CreateObject();

    hp_json_add_int(o, "rev", ctx->srv->rev);
    cJSON_AddItemToObject(o, key, items);
    return o;
}

static cJSON *invalid(hpd_rpc_ctx *ctx, hp_problems *pb)
{
    cJSON *r = hpd_rpc_fail(ctx, HPD_INVALID_PARAMS, hp_problems_to_json(pb), "%s",
                            pb->count ? pb->items[0] : "invalid params");
    hp_problems_free(pb);
    return r;
}

static hpd_service *need_service(hpd_rpc_ctx *ctx)
{
    const char *name = str_param(ctx, "name");
    hpd_service *svc = hpd_service_find(ctx->srv, name);

    if (!svc)
        hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "service '%s' does not exist", name);
    return svc;
}

static hpd_run *need_run(hpd_rpc_ctx *ctx)
{
    int64_t id = int_param(ctx, "id", 0);
    hpd_run *run = hpd_run_find(ctx->srv, id);

    if (!run)
        hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "run %lld does not exist", (long long)id);
    return run;
}

static hpd_job *need_job(hpd_rpc_ctx *ctx)
{
    int64_t id = int_param(ctx, "id", 0);
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
    hp_json_add_int(o, "rev", srv->rev);
    cJSON_AddStringToObject(o, "data_dir", srv->data_dir);
    cJSON_AddStringToObject(o, "socket", srv->socket_path);
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

/* ---- limits ----------------------------------------------------------------------- */

/* What clients may create is bounded (--max-services, --max-active-runs, --max-secrets)
 * so the daemon's memory stays bounded whatever they send; finished runs are bounded by
 * --max-runs (oldest removed first). A refusal changes nothing. */

static size_t active_runs(hpd_server *srv)
{
    size_t n = 0;

    for (hpd_run *run = srv->runs_tail; run; run = run->prev)
        n += hpd_run_active(run);
    return n;
}

/* 1 after failing ctx with -32004 when one more active run would pass
 * --max-active-runs (message prefixed by what, which may be NULL); 0 while there is room. */
static int refuse_new_run(hpd_rpc_ctx *ctx, const char *what)
{
    long long max = (long long)ctx->srv->opt.max_active_runs;

    if ((long long)active_runs(ctx->srv) < max)
        return 0;
    hpd_rpc_fail(ctx, HPD_LIMIT_REACHED, NULL,
                 "%s%s%lld runs are already active; wait for some to end", what ? what : "",
                 what ? ": " : "", max);
    return 1;
}

/* ---- services --------------------------------------------------------------------- */

static cJSON *m_service_set(hpd_rpc_ctx *ctx)
{
    hpd_server *srv = ctx->srv;
    const cJSON *json = cJSON_GetObjectItemCaseSensitive(ctx->params, "config");
    hp_problems pb = {0};
    hp_service_config cfg = {0};
    hpd_service *svc;
    int created = 0;
    cJSON *o;

    hp_service_config_from_json(json, &cfg, &pb);
    hp_service_config_validate(&cfg, &pb);
    hp_problems_nest(&pb, 0, "/config"); /* the paths point into the params */
    if (pb.count > 0) {
        hp_service_config_free(&cfg);
        return invalid(ctx, &pb);
    }
    svc = hpd_service_find(srv, cfg.name);
    if (!svc && (int64_t)srv->n_services >= srv->opt.max_services) {
        hp_service_config_free(&cfg);
        return hpd_rpc_fail(ctx, HPD_LIMIT_REACHED, NULL,
                            "at most %lld services; delete one before adding another",
                            (long long)srv->opt.max_services);
    }
    if (!svc) {
        /* Inserted with its config in place: the service table is kept sorted by name. */
        svc = calloc(1, sizeof(*svc));
        if (svc) {
            svc->config = cfg;
            svc->created_at_ms = hpd_now_ms();
        }
        if (!svc || hpd_service_insert(srv, svc) != 0) {
            free(svc);
            hp_service_config_free(&cfg);
            return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
        }
        created = 1;
    } else {
        if (!cJSON_HasObjectItem(json, "wanted"))
            cfg.wanted_start = svc->wanted_start;
        hp_service_config_free(&svc->config);
        svc->config = cfg;
    }
    svc->wanted_start = cfg.wanted_start;
    svc->updated_at_ms = hpd_now_ms();
    hpd_save_service(srv, svc);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", svc->config.name);
    cJSON_AddBoolToObject(o, "created", created);
    hp_json_add_int(o, "rev", srv->rev);
    return o;
}

static cJSON *m_service_get(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = need_service(ctx);
    cJSON *o;

    if (!svc)
        return NULL;
    o = hp_service_config_to_json(&svc->config);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "wanted");
    cJSON_AddStringToObject(o, "wanted", svc->wanted_start ? "start" : "stop");
    hp_json_add_int(o, "created_at_ms", svc->created_at_ms);
    hp_json_add_int(o, "updated_at_ms", svc->updated_at_ms);
    return o;
}

static cJSON *m_service_list(hpd_rpc_ctx *ctx)
{
    cJSON *same = unchanged(ctx), *items;

    if (same)
        return same;
    items = cJSON_CreateArray();
    for (size_t i = 0; i < ctx->srv->n_services; i++)
        cJSON_AddItemToArray(items, service_summary(ctx->srv, ctx->srv->services[i]));
    return list_result(ctx, "services", items);
}

static cJSON *m_service_status(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = need_service(ctx);

    return svc ? service_status(ctx->srv, svc) : NULL;
}

static cJSON *m_service_start(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = need_service(ctx);
    char what[160];
    hp_error err;
    hpd_run *run;

    if (!svc)
        return NULL;
    /* Starting a service whose run is active answers that run: only a new run counts. */
    run = hpd_service_run(ctx->srv, svc);
    snprintf(what, sizeof(what), "cannot start service '%s'", svc->config.name);
    if (!(run && hpd_run_active(run)) && refuse_new_run(ctx, what))
        return NULL;
    run = hpd_service_start(ctx->srv, svc, &err);
    if (!run)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "cannot start service '%s': %s",
                            svc->config.name, err.message);
    return hpd_run_json(ctx->srv, run, 1);
}

static cJSON *m_service_stop(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = need_service(ctx);

    if (!svc)
        return NULL;
    hpd_service_stop(ctx->srv, svc);
    return service_status(ctx->srv, svc);
}

static cJSON *m_service_restart(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = need_service(ctx);
    char what[160];
    hp_error err;
    hpd_run *run;

    if (!svc)
        return NULL;
    /* A restart replaces an active run (the count stays once the old one has stopped);
     * restarting a stopped service is a start and counts. */
    run = hpd_service_run(ctx->srv, svc);
    snprintf(what, sizeof(what), "cannot restart service '%s'", svc->config.name);
    if (!(run && hpd_run_active(run)) && refuse_new_run(ctx, what))
        return NULL;
    run = hpd_service_restart(ctx->srv, svc, bool_param(ctx, "keep_history"), &err);
    if (!run)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "cannot restart service '%s': %s",
                            svc->config.name, err.message);
    return hpd_run_json(ctx->srv, run, 1);
}

static cJSON *m_service_delete(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = need_service(ctx);
    cJSON *o;

    if (!svc)
        return NULL;
    o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "deleted");
    cJSON_AddStringToObject(o, "name", svc->config.name);
    hpd_service_remove(ctx->srv, svc);
    return o;
}

/* ---- runs ------------------------------------------------------------------------- */

static cJSON *m_run_submit(hpd_rpc_ctx *ctx)
{
    const char *name = str_param(ctx, "name");
    const cJSON *actions_json = cJSON_GetObjectItemCaseSensitive(ctx->params, "actions");
    hp_problems pb = {0};
    hp_action_spec *actions = NULL;
    size_t n = 0;
    char owner[96];
    hp_error err;
    hpd_run *run;

    snprintf(owner, sizeof(owner), "run '%s'", name);
    hp_actions_from_json(actions_json, &actions, &n, owner, &pb);
    hp_spec_validate("run", name, actions, n, &pb);
    if (pb.count > 0) {
        hp_actions_free(actions, n);
        return invalid(ctx, &pb);
    }
    if (refuse_new_run(ctx, NULL)) {
        hp_actions_free(actions, n);
        return NULL;
    }
    run = hpd_run_create(ctx->srv, name, NULL, actions, n, 1, &err);
    hp_actions_free(actions, n);
    if (!run)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "cannot create run '%s': %s", name,
                            err.message);
    return hpd_run_json(ctx->srv, run, 1);
}

static cJSON *m_run_get(hpd_rpc_ctx *ctx)
{
    hpd_run *run = need_run(ctx);
    cJSON *o, *actions;

    if (!run)
        return NULL;
    /* The actions as stored, for a rerun: env keeps its ${secret:NAME} references, since
     * secrets are resolved at spawn time only. The other run answers stay small. */
    o = hpd_run_json(ctx->srv, run, 1);
    actions = cJSON_AddArrayToObject(o, "actions");
    for (size_t i = 0; i < run->n_actions; i++)
        cJSON_AddItemToArray(actions, hp_action_spec_to_json(&run->actions[i]));
    return o;
}

static cJSON *m_run_list(hpd_rpc_ctx *ctx)
{
    const char *service = str_param(ctx, "service");
    const char *status = str_param(ctx, "status");
    int64_t limit = int_param(ctx, "limit", 100);
    hpd_run_state want;
    cJSON *same = unchanged(ctx), *items;

    if (same)
        return same;
    if (status && hpd_run_state_parse(status, &want) != 0)
        return hpd_rpc_fail(ctx, HPD_INVALID_PARAMS, NULL,
                            "status '%.32s' is not a run state (pending, running, succeeded, "
                            "failed, cancelled)",
                            status);
    items = cJSON_CreateArray();
    for (hpd_run *run = ctx->srv->runs_tail; run && limit > 0; run = run->prev) {
        if (service && (!run->service || strcmp(run->service, service) != 0))
            continue;
        if (status && run->status != want)
            continue;
        cJSON_AddItemToArray(items, hpd_run_json(ctx->srv, run, 0));
        limit--;
    }
    return list_result(ctx, "runs", items);
}

static void waiter_unlink(hpd_waiter *w)
{
    hpd_waiter **link = &w->run->waiters;

    while (*link && *link != w)
        link = &(*link)->next;
    if (*link)
        *link = w->next;
    hpd_loop_timer_cancel(w->srv->loop, w->timer);
}

static void waiter_cancel(hpd_pending *p, void *data)
{
    hpd_waiter *w = data;

    (void)p;
    waiter_unlink(w);
    free(w);
}

static void waiter_timeout(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_waiter *w = data;
    cJSON *d = cJSON_CreateObject();
    char msg[128];

    (void)loop;
    (void)id;
    w->timer = 0;
    waiter_unlink(w);
    cJSON_AddItemToObject(d, "run", hpd_run_json(w->srv, w->run, 1));
    snprintf(msg, sizeof(msg), "run %lld is still %s", (long long)w->run->id,
             hpd_run_state_name(w->run->status));
    hpd_pending_reject(w->pending, HPD_TIMEOUT, d, msg);
    free(w);
}

void hpd_waiters_fire(hpd_server *srv, hpd_run *run)
{
    while (run->waiters) {
        hpd_waiter *w = run->waiters;
        run->waiters = w->next;
        hpd_loop_timer_cancel(srv->loop, w->timer);
        hpd_pending_resolve(w->pending, hpd_run_json(srv, run, 1));
        free(w);
    }
}

static cJSON *m_run_wait(hpd_rpc_ctx *ctx)
{
    hpd_run *run = need_run(ctx);
    int64_t timeout = int_param(ctx, "timeout_ms", 30000);
    hpd_waiter *w;

    if (!run)
        return NULL;
    if (!hpd_run_active(run))
        return hpd_run_json(ctx->srv, run, 1);
    if (timeout == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToObject(d, "run", hpd_run_json(ctx->srv, run, 1));
        return hpd_rpc_fail(ctx, HPD_TIMEOUT, d, "run %lld is still %s", (long long)run->id,
                            hpd_run_state_name(run->status));
    }
    w = calloc(1, sizeof(*w));
    if (!w)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
    w->srv = ctx->srv;
    w->run = run;
    w->pending = hpd_rpc_defer(ctx, waiter_cancel, w);
    if (!w->pending) {
        free(w);
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
    }
    w->timer = hpd_loop_timer(ctx->srv->loop, (uint64_t)timeout, waiter_timeout, w);
    w->next = run->waiters;
    run->waiters = w;
    return NULL;
}

static cJSON *m_run_cancel(hpd_rpc_ctx *ctx)
{
    hpd_run *run = need_run(ctx);

    if (!run)
        return NULL;
    if (!hpd_run_active(run))
        return hpd_rpc_fail(ctx, HPD_INVALID_STATE, NULL, "run %lld already ended (%s)",
                            (long long)run->id, hpd_run_state_name(run->status));
    hpd_run_cancel(ctx->srv, run);
    /* The run may have ended (and been removed) at once when nothing was running. */
    run = hpd_run_find(ctx->srv, int_param(ctx, "id", 0));
    if (!run)
        return hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "run %lld was removed",
                            (long long)int_param(ctx, "id", 0));
    return hpd_run_json(ctx->srv, run, 1);
}

static cJSON *m_run_delete(hpd_rpc_ctx *ctx)
{
    hpd_run *run = need_run(ctx);
    cJSON *o;

    if (!run)
        return NULL;
    if (hpd_run_active(run))
        return hpd_rpc_fail(ctx, HPD_INVALID_STATE, NULL, "run %lld is still %s; cancel it first",
                            (long long)run->id, hpd_run_state_name(run->status));
    if (run->service) {
        hpd_service *svc = hpd_service_find(ctx->srv, run->service);
        if (svc && svc->run_id == run->id) {
            svc->run_id = 0;
            hpd_save_service(ctx->srv, svc);
        }
    }
    hpd_waiters_fire(ctx->srv, run);
    o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "deleted");
    hp_json_add_int(o, "id", run->id);
    hpd_run_delete(ctx->srv, run);
    return o;
}

/* ---- jobs ------------------------------------------------------------------------- */

static cJSON *m_job_list(hpd_rpc_ctx *ctx)
{
    int64_t run_id = int_param(ctx, "run_id", 0);
    const char *service = str_param(ctx, "service");
    const char *status = str_param(ctx, "status");
    int64_t limit = int_param(ctx, "limit", 500);
    hpd_job_state want;
    cJSON *same = unchanged(ctx), *items;

    if (same)
        return same;
    if (status && hpd_job_state_parse(status, &want) != 0)
        return hpd_rpc_fail(ctx, HPD_INVALID_PARAMS, NULL,
                            "status '%.32s' is not a job state (pending, running, retrying, "
                            "succeeded, failed, timed_out, cancelled, skipped)",
                            status);
    items = cJSON_CreateArray();
    for (hpd_run *run = ctx->srv->runs_tail; run && limit > 0; run = run->prev) {
        if (run_id && run->id != run_id)
            continue;
        if (service && (!run->service || strcmp(run->service, service) != 0))
            continue;
        for (size_t i = run->n_actions; i-- > 0 && limit > 0;) {
            if (status && run->jobs[i]->status != want)
                continue;
            cJSON_AddItemToArray(items, hpd_job_json(ctx->srv, run->jobs[i]));
            limit--;
        }
    }
    return list_result(ctx, "jobs", items);
}

static cJSON *m_job_get(hpd_rpc_ctx *ctx)
{
    hpd_job *job = need_job(ctx);

    return job ? hpd_job_json(ctx->srv, job) : NULL;
}

static cJSON *log_page(hpd_rpc_ctx *ctx, cJSON *lines, int64_t next_seq, int64_t dropped)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddItemToObject(o, "lines", lines);
    hp_json_add_int(o, "next_seq", next_seq);
    hp_json_add_int(o, "dropped", dropped);
    (void)ctx;
    return o;
}

static cJSON *m_job_logs(hpd_rpc_ctx *ctx)
{
    hpd_job *job = need_job(ctx);
    int64_t next_seq = 0;
    hp_error err;
    cJSON *lines;

    if (!job)
        return NULL;
    lines = hpd_store_job_logs(ctx->srv->store, job->id, int_param(ctx, "after_seq", 0),
                               (int)int_param(ctx, "limit", 1000),
                               (int)int_param(ctx, "attempt", 0), &next_seq, &err);
    if (!lines)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    return log_page(ctx, lines, next_seq, hpd_store_job_dropped(ctx->srv->store, job->id));
}

static cJSON *m_job_cancel(hpd_rpc_ctx *ctx)
{
    hpd_job *job = need_job(ctx);
    int64_t id = int_param(ctx, "id", 0);

    if (!job)
        return NULL;
    if (hpd_job_state_final(job->status))
        return hpd_rpc_fail(ctx, HPD_INVALID_STATE, NULL, "job %lld already ended (%s)",
                            (long long)job->id, hpd_job_state_name(job->status));
    hpd_job_cancel(ctx->srv, job);
    job = hpd_job_find(ctx->srv, id);
    return job ? hpd_job_json(ctx->srv, job)
               : hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "job %lld was removed", (long long)id);
}

/* ---- logs ------------------------------------------------------------------------- */

static cJSON *m_logs_tail(hpd_rpc_ctx *ctx)
{
    int64_t next_seq = 0;
    hp_error err;
    cJSON *lines =
        hpd_store_tail_logs(ctx->srv->store, str_param(ctx, "src"), int_param(ctx, "after_seq", 0),
                            (int)int_param(ctx, "limit", 1000), &next_seq, &err);

    if (!lines)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    return log_page(ctx, lines, next_seq, hpd_store_dropped(ctx->srv->store));
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static cJSON *m_logs_insert(hpd_rpc_ctx *ctx)
{
    const char *src = str_param(ctx, "src");
    const char *stream_name = str_param(ctx, "stream");
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(ctx->params, "lines");
    hpd_stream stream = HPD_STDOUT;
    hp_problems pb = {0};
    int64_t last = 0, count = 0, now = hpd_now_ms();
    const cJSON *l;
    cJSON *o;

    if (strlen(src) == 0 || strlen(src) > 128 || has_control(src))
        hp_problems_add_at(&pb, HP_PROBLEM_VALUE_LENGTH, "/src",
                           "src must be 1 to 128 characters without control characters");
    if (stream_name) {
        if (strcmp(stream_name, "stderr") == 0)
            stream = HPD_STDERR;
        else if (strcmp(stream_name, "system") == 0)
            stream = HPD_SYSTEM;
        else if (strcmp(stream_name, "stdout") != 0)
            hp_problems_add_at(&pb, HP_PROBLEM_VALUE_CHOICE, "/stream",
                               "stream must be stdout, stderr or system");
    }
    if (cJSON_GetArraySize(lines) < 1 || cJSON_GetArraySize(lines) > 1000)
        hp_problems_add_at(&pb, HP_PROBLEM_COUNT_RANGE, "/lines",
                           "lines must hold 1 to 1000 strings");
    cJSON_ArrayForEach (l, lines)
        if (!cJSON_IsString(l)) {
            hp_problems_add_at(&pb, HP_PROBLEM_FIELD_TYPE, "/lines",
                               "every element of lines must be a string");
            break;
        }
    if (pb.count > 0)
        return invalid(ctx, &pb);
    cJSON_ArrayForEach (l, lines) {
        size_t len = strlen(l->valuestring);
        int64_t seq = hpd_store_log_append(ctx->srv->store, now, src, 0, 0, stream, l->valuestring,
                                           len > 16384 ? 16384 : len);
        if (seq > 0) { /* else dropped: the store cannot take it now (system.info says) */
            last = seq;
            count++;
        }
    }
    if (count == 0) {
        hpd_store_health h;

        hpd_store_health_get(ctx->srv->store, &h);
        return hpd_rpc_fail(ctx, HPD_LIMIT_REACHED, NULL,
                            "the store cannot take log lines now (%s): they were dropped",
                            h.ok ? "its wait is full" : h.error);
    }
    o = cJSON_CreateObject();
    hp_json_add_int(o, "count", count);
    hp_json_add_int(o, "last_seq", last);
    return o;
}

/* ---- secrets ---------------------------------------------------------------------- */

static cJSON *secret_meta(const char *name, int64_t created, int64_t updated)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "name", name);
    hp_json_add_int(o, "created_at_ms", created);
    hp_json_add_int(o, "updated_at_ms", updated);
    return o;
}

static cJSON *m_secret_set(hpd_rpc_ctx *ctx)
{
    const char *name = str_param(ctx, "name"), *value = str_param(ctx, "value");
    int64_t now = hpd_now_ms(), created = now;
    hp_error err;
    int rc;

    if (strlen(value) > 65536)
        return hpd_rpc_fail(ctx, HPD_INVALID_PARAMS, NULL,
                            "secret '%s': the value is longer than 65536 bytes", name);
    if (hpd_store_secret_count(ctx->srv->store) >= ctx->srv->opt.max_secrets &&
        hpd_store_secret_get(ctx->srv->store, name, NULL, NULL, NULL, NULL) != 1)
        return hpd_rpc_fail(ctx, HPD_LIMIT_REACHED, NULL,
                            "at most %lld secrets; delete one before adding another",
                            (long long)ctx->srv->opt.max_secrets);
    rc = hpd_secret_set(ctx->srv, name, value, now, &created, &err);
    /* The request is done with the value: no copy of it stays behind in the params. */
    hpd_secret_wipe((char *)(uintptr_t)value);
    if (rc != 0)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    hpd_changed(ctx->srv);
    return secret_meta(name, created, now);
}

static cJSON *m_secret_get(hpd_rpc_ctx *ctx)
{
    const char *name = str_param(ctx, "name");
    char *value = NULL;
    int64_t created = 0, updated = 0;
    hp_error err;
    int found = hpd_secret_get(ctx->srv, name, &value, &created, &updated, &err);
    cJSON *o;

    if (found < 0)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    if (found == 0)
        return hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "secret '%s' is not set", name);
    o = secret_meta(name, created, updated);
    cJSON_AddStringToObject(o, "value", value);
    hpd_secret_free(value);
    return o;
}

static cJSON *m_secret_list(hpd_rpc_ctx *ctx)
{
    cJSON *same = unchanged(ctx), *items;
    hp_error err;

    if (same)
        return same;
    items = hpd_store_secret_list(ctx->srv->store, &err);
    if (!items)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    return list_result(ctx, "secrets", items);
}

static cJSON *m_secret_delete(hpd_rpc_ctx *ctx)
{
    const char *name = str_param(ctx, "name");
    hp_error err;
    int rc = hpd_store_secret_delete(ctx->srv->store, name, &err);
    cJSON *o;

    if (rc < 0)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    if (rc == 0)
        return hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "secret '%s' is not set", name);
    hpd_changed(ctx->srv);
    o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "deleted");
    cJSON_AddStringToObject(o, "name", name);
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
static const hpd_param p_job_logs[] = {ID_REQ, OPT("after_seq", HPD_P_INT, 0, MAX_ID),
                                       OPT("limit", HPD_P_INT, 1, 10000),
                                       OPT("attempt", HPD_P_INT, 1, 1000000), END};
static const hpd_param p_tail[] = {OPT("src", HPD_P_STRING, 1, 0),
                                   OPT("after_seq", HPD_P_INT, 0, MAX_ID),
                                   OPT("limit", HPD_P_INT, 1, 10000), END};
static const hpd_param p_insert[] = {{"src", HPD_P_STRING, 1, 1, 128, NULL},
                                     {"lines", HPD_P_ARRAY, 1, 1, 1000, NULL},
                                     {"stream", HPD_P_STRING, 0, 0, 0, streams},
                                     END};
static const hpd_param p_secret_set[] = {NAME_REQ, {"value", HPD_P_STRING, 1, 0, 65536, NULL}, END};

const hpd_method hpd_methods[] = {
    {"rpc.discover", m_discover, p_none},
    {"system.ping", m_ping, p_none},
    {"system.info", m_info, p_none},
    {"service.set", m_service_set, p_service_set},
    {"service.get", m_service_get, p_name},
    {"service.list", m_service_list, p_since},
    {"service.status", m_service_status, p_name},
    {"service.start", m_service_start, p_name},
    {"service.stop", m_service_stop, p_name},
    {"service.restart", m_service_restart, p_restart},
    {"service.delete", m_service_delete, p_name},
    {"run.submit", m_run_submit, p_submit},
    {"run.get", m_run_get, p_id},
    {"run.list", m_run_list, p_run_list},
    {"run.wait", m_run_wait, p_wait},
    {"run.cancel", m_run_cancel, p_id},
    {"run.delete", m_run_delete, p_id},
    {"job.list", m_job_list, p_job_list},
    {"job.get", m_job_get, p_id},
    {"job.logs", m_job_logs, p_job_logs},
    {"job.cancel", m_job_cancel, p_id},
    {"logs.tail", m_logs_tail, p_tail},
    {"logs.insert", m_logs_insert, p_insert},
    {"secret.set", m_secret_set, p_secret_set},
    {"secret.get", m_secret_get, p_name},
    {"secret.list", m_secret_list, p_since},
    {"secret.delete", m_secret_delete, p_name},
    {NULL, NULL, NULL},
};
