/* SPDX-License-Identifier: Apache-2.0 */
/* The run.*, job.* and logs.* handlers, with the waiters of run.wait (fired by the
 * supervisor through srv->on_run_ended). */
#include "config.h"

#include "server/methods_int.h"
#include "server/secretbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- runs ------------------------------------------------------------------------- */

cJSON *hpd__m_run_submit(hpd_rpc_ctx *ctx)
{
    const char *name = hpd__str_param(ctx, "name");
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
        return hpd__invalid(ctx, &pb);
    }
    if (hpd__refuse_new_run(ctx, NULL)) {
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

cJSON *hpd__m_run_get(hpd_rpc_ctx *ctx)
{
    hpd_run *run = hpd__need_run(ctx);
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

cJSON *hpd__m_run_list(hpd_rpc_ctx *ctx)
{
    const char *service = hpd__str_param(ctx, "service");
    const char *status = hpd__str_param(ctx, "status");
    int64_t limit = hpd__int_param(ctx, "limit", 100);
    hpd_run_state want;
    cJSON *same = hpd__unchanged(ctx), *items;

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
    return hpd__list_result(ctx, "runs", items);
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

cJSON *hpd__m_run_wait(hpd_rpc_ctx *ctx)
{
    hpd_run *run = hpd__need_run(ctx);
    int64_t timeout = hpd__int_param(ctx, "timeout_ms", 30000);
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

/* events.wait: the ring and its parked calls are events.c's; a timeout_ms above the
 * cap is cut to it there. */
cJSON *hpd__m_events_wait(hpd_rpc_ctx *ctx)
{
    return hpd_events_wait(ctx, hpd__int_param(ctx, "after_seq", 0),
                           hpd__int_param(ctx, "timeout_ms", 30000),
                           hpd__int_param(ctx, "limit", 1000));
}

cJSON *hpd__m_run_cancel(hpd_rpc_ctx *ctx)
{
    hpd_run *run = hpd__need_run(ctx);

    if (!run)
        return NULL;
    if (!hpd_run_active(run))
        return hpd_rpc_fail(ctx, HPD_INVALID_STATE, NULL, "run %lld already ended (%s)",
                            (long long)run->id, hpd_run_state_name(run->status));
    hpd_run_cancel(ctx->srv, run);
    /* The run may have ended (and been removed) at once when nothing was running. */
    run = hpd_run_find(ctx->srv, hpd__int_param(ctx, "id", 0));
    if (!run)
        return hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "run %lld was removed",
                            (long long)hpd__int_param(ctx, "id", 0));
    return hpd_run_json(ctx->srv, run, 1);
}

cJSON *hpd__m_run_delete(hpd_rpc_ctx *ctx)
{
    hpd_run *run = hpd__need_run(ctx);
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

cJSON *hpd__m_job_list(hpd_rpc_ctx *ctx)
{
    int64_t run_id = hpd__int_param(ctx, "run_id", 0);
    const char *service = hpd__str_param(ctx, "service");
    const char *status = hpd__str_param(ctx, "status");
    int64_t limit = hpd__int_param(ctx, "limit", 500);
    hpd_job_state want;
    cJSON *same = hpd__unchanged(ctx), *items;

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
    return hpd__list_result(ctx, "jobs", items);
}

cJSON *hpd__m_job_get(hpd_rpc_ctx *ctx)
{
    hpd_job *job = hpd__need_job(ctx);

    return job ? hpd_job_json(ctx->srv, job) : NULL;
}

static cJSON *log_page(cJSON *lines, int64_t next_seq, int64_t dropped, int truncated)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddItemToObject(o, "lines", lines);
    hp_json_add_int(o, "next_seq", next_seq);
    hp_json_add_int(o, "dropped", dropped);
    if (truncated)
        cJSON_AddBoolToObject(o, "truncated", 1);
    return o;
}

/* The bounds job.logs and logs.tail share. */
static void log_bounds(hpd_rpc_ctx *ctx, hpd_log_query *q)
{
    q->after_seq = hpd__int_param(ctx, "after_seq", 0);
    q->before_seq = hpd__int_param(ctx, "before_seq", 0);
    q->since_ms = hpd__int_param(ctx, "since_ms", 0);
    q->until_ms = hpd__int_param(ctx, "until_ms", 0);
    q->limit = (int)hpd__int_param(ctx, "limit", 1000);
}

cJSON *hpd__m_job_logs(hpd_rpc_ctx *ctx)
{
    hpd_job *job = hpd__need_job(ctx);
    hpd_log_query q = {0};
    int64_t next_seq = 0;
    int truncated = 0;
    hp_error err;
    cJSON *lines;

    if (!job)
        return NULL;
    log_bounds(ctx, &q);
    q.job_id = job->id;
    q.attempt = (int)hpd__int_param(ctx, "attempt", 0);
    lines = hpd_store_logs(ctx->srv->store, &q, &next_seq, &truncated, &err);
    if (!lines)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    return log_page(lines, next_seq, hpd_store_job_dropped(ctx->srv->store, job->id), truncated);
}

cJSON *hpd__m_job_cancel(hpd_rpc_ctx *ctx)
{
    hpd_job *job = hpd__need_job(ctx);
    int64_t id = hpd__int_param(ctx, "id", 0);

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

cJSON *hpd__m_logs_tail(hpd_rpc_ctx *ctx)
{
    hpd_log_query q = {0};
    int64_t next_seq = 0;
    hp_error err;
    cJSON *lines;

    log_bounds(ctx, &q);
    q.src = hpd__str_param(ctx, "src");
    lines = hpd_store_logs(ctx->srv->store, &q, &next_seq, NULL, &err);
    if (!lines)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    return log_page(lines, next_seq, hpd_store_dropped(ctx->srv->store), 0);
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* What one call of logs.search may read: a few tens of ms of the loop at most; the
 * answer's cursor goes on from there. */
#define SEARCH_BUDGET (8 * 1024 * 1024)

/* The jobs a search covers, newest first: one job, a run's jobs, or every kept run of a
 * service (its newest run first). Malloc'd; NULL with the RPC error set. */
static int64_t *search_jobs(hpd_rpc_ctx *ctx, size_t *n)
{
    int64_t job_id = hpd__int_param(ctx, "job_id", 0), run_id = hpd__int_param(ctx, "run_id", 0);
    const char *service = hpd__str_param(ctx, "service");
    int64_t *ids = NULL;
    size_t cap = 0;

    *n = 0;
    if ((job_id > 0) + (run_id > 0) + (service != NULL) != 1) {
        hpd_rpc_fail(ctx, HPD_INVALID_PARAMS, NULL, "give exactly one of job_id, run_id, service");
        return NULL;
    }
    if (job_id > 0) {
        if (!hpd_job_find(ctx->srv, job_id)) {
            hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "job %lld not found", (long long)job_id);
            return NULL;
        }
        ids = malloc(sizeof(*ids));
        if (ids)
            ids[(*n)++] = job_id;
    } else {
        if (run_id > 0 && !hpd_run_find(ctx->srv, run_id)) {
            hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "run %lld not found", (long long)run_id);
            return NULL;
        }
        if (service && !hpd_service_find(ctx->srv, service)) {
            hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "service '%s' not found", service);
            return NULL;
        }
        for (hpd_run *run = ctx->srv->runs_tail; run; run = run->prev) {
            if (run_id > 0 ? run->id != run_id
                           : !run->service || strcmp(run->service, service) != 0)
                continue;
            for (size_t i = run->n_actions; i-- > 0;) {
                if (*n == cap) {
                    int64_t *grown = realloc(ids, (cap = cap ? cap * 2 : 16) * sizeof(*ids));
                    if (!grown) {
                        free(ids);
                        hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
                        return NULL;
                    }
                    ids = grown;
                }
                ids[(*n)++] = run->jobs[i]->id;
            }
        }
    }
    if (!ids)
        ids = calloc(1, sizeof(*ids)); /* no job: an empty answer */
    if (!ids)
        hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
    return ids;
}

cJSON *hpd__m_logs_search(hpd_rpc_ctx *ctx)
{
    hpd_log_search q = {0};
    int64_t from = hpd__int_param(ctx, "from_job_id", 0);
    size_t n = 0, first = 0;
    int64_t *jobs = search_jobs(ctx, &n);
    hp_error err;
    cJSON *out;

    if (!jobs)
        return NULL;
    /* A cursor from an earlier answer: on from that job. */
    while (from > 0 && first < n && jobs[first] != from)
        first++;
    if (from > 0 && first == n) {
        free(jobs);
        return hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL,
                            "from_job_id %lld is not among the jobs searched", (long long)from);
    }
    q.jobs = jobs + first;
    q.n_jobs = n - first;
    q.pattern = hpd__str_param(ctx, "pattern");
    q.substring = hpd__bool_param(ctx, "substring");
    q.ignore_case = hpd__bool_param(ctx, "ignore_case");
    q.before_seq = hpd__int_param(ctx, "before_seq", 0);
    q.limit = (int)hpd__int_param(ctx, "limit", 100);
    q.context = (int)hpd__int_param(ctx, "context", 0);
    q.budget = SEARCH_BUDGET;
    out = hpd_store_log_search(ctx->srv->store, &q, &err);
    free(jobs);
    if (!out)
        return hpd_rpc_fail(ctx, err.code == HP_E_INVALID ? HPD_INVALID_PARAMS : HPD_INTERNAL_ERROR,
                            NULL, "%s", err.message);
    return out;
}

cJSON *hpd__m_logs_insert(hpd_rpc_ctx *ctx)
{
    const char *src = hpd__str_param(ctx, "src");
    const char *stream_name = hpd__str_param(ctx, "stream");
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
        return hpd__invalid(ctx, &pb);
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
