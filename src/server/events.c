/* SPDX-License-Identifier: Apache-2.0 */
/* The ring of events behind events.wait: a fixed array overwritten oldest first, with an
 * exact count of what was overwritten, and the parked events.wait calls, answered on the
 * next loop turn after an event or at their timeout. It neither spawns nor reads the
 * model beyond the names and ids an event copies. */
#include "config.h"

#include "server/events.h"
#include "server/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TEXT_MAX = 200 };

typedef struct event {
    int64_t seq, ts_ms;
    hpd_event_kind kind;
    char *service, *action; /* NULL when none */
    int64_t run_id, job_id; /* 0 when none */
    int has_exit, exit_code, signal;
    int failed; /* job_exited: a failure, not a stop that was asked for */
    char text[TEXT_MAX + 1];
} event;

typedef struct waiter {
    struct hpd_events *ev;
    hpd_pending *pending;
    int64_t after_seq, limit;
    uint64_t timer;
    struct waiter *prev, *next;
} waiter;

typedef struct hpd_events {
    hpd_server *srv;
    event *ring;
    size_t cap, count, head; /* head: where the next event goes */
    int64_t last_seq, dropped;
    waiter *waiters;
    size_t n_waiters;
    uint64_t wake_timer; /* the turn after an event: answer the waiters */
} hpd_events;

static const char *const kind_names[] = {
#define HPD_EVENT_NAME(id, name) name,
    HPD_EVENT_TABLE(HPD_EVENT_NAME)
#undef HPD_EVENT_NAME
};

const char *hpd_event_kind_name(hpd_event_kind kind)
{
    if ((size_t)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
        return "unknown";
    return kind_names[kind];
}

int hpd_events_init(hpd_server *srv, size_t capacity)
{
    hpd_events *ev = calloc(1, sizeof(*ev));

    if (!ev || capacity == 0 || !(ev->ring = calloc(capacity, sizeof(event)))) {
        free(ev);
        return -1;
    }
    ev->srv = srv;
    ev->cap = capacity;
    srv->events = ev;
    return 0;
}

static void event_clear(event *e)
{
    free(e->service);
    free(e->action);
    memset(e, 0, sizeof(*e));
}

static void waiter_unlink(waiter *w)
{
    hpd_events *ev = w->ev;

    if (w->prev)
        w->prev->next = w->next;
    else
        ev->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    ev->n_waiters--;
    hpd_loop_timer_cancel(ev->srv->loop, w->timer);
    w->timer = 0;
}

void hpd_events_free(hpd_server *srv)
{
    hpd_events *ev = srv->events;

    if (!ev)
        return;
    while (ev->waiters) {
        waiter *w = ev->waiters;
        waiter_unlink(w);
        hpd_pending_reject(w->pending, HPD_INVALID_STATE, NULL, "the server is stopping");
        free(w);
    }
    hpd_loop_timer_cancel(srv->loop, ev->wake_timer);
    for (size_t i = 0; i < ev->cap; i++)
        event_clear(&ev->ring[i]);
    free(ev->ring);
    free(ev);
    srv->events = NULL;
}

int64_t hpd_events_last_seq(const hpd_server *srv)
{
    return srv->events ? srv->events->last_seq : 0;
}

int64_t hpd_events_dropped(const hpd_server *srv)
{
    return srv->events ? srv->events->dropped : 0;
}

/* The oldest seq still held (last_seq + 1 when the ring is empty). */
static int64_t first_seq(const hpd_events *ev)
{
    return ev->last_seq - (int64_t)ev->count + 1;
}

static const event *event_at(const hpd_events *ev, int64_t seq)
{
    size_t back = (size_t)(ev->last_seq - seq); /* 0 = the newest */

    return &ev->ring[(ev->head + ev->cap - 1 - back) % ev->cap];
}

static cJSON *event_json(const event *e)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "seq", (double)e->seq);
    cJSON_AddNumberToObject(o, "ts_ms", (double)e->ts_ms);
    cJSON_AddStringToObject(o, "kind", hpd_event_kind_name(e->kind));
    if (e->service)
        cJSON_AddStringToObject(o, "service", e->service);
    else
        cJSON_AddNullToObject(o, "service");
    if (e->run_id)
        cJSON_AddNumberToObject(o, "run_id", (double)e->run_id);
    else
        cJSON_AddNullToObject(o, "run_id");
    if (e->job_id)
        cJSON_AddNumberToObject(o, "job_id", (double)e->job_id);
    else
        cJSON_AddNullToObject(o, "job_id");
    if (e->action)
        cJSON_AddStringToObject(o, "action", e->action);
    else
        cJSON_AddNullToObject(o, "action");
    if (e->kind == HPD_EV_JOB_EXITED) {
        if (e->has_exit)
            cJSON_AddNumberToObject(o, "exit_code", e->exit_code);
        else
            cJSON_AddNullToObject(o, "exit_code");
        if (e->signal)
            cJSON_AddNumberToObject(o, "signal", e->signal);
        else
            cJSON_AddNullToObject(o, "signal");
        cJSON_AddBoolToObject(o, "failed", e->failed);
    }
    cJSON_AddStringToObject(o, "text", e->text);
    return o;
}

/* What a caller that has seen up to after_seq gets: the events after it (at most limit),
 * the seq to ask after next, and how many of those it missed because the ring moved on.
 * An after_seq beyond the newest (a restarted server counts from 1 again) reads from
 * the start. */
static cJSON *result_after(const hpd_events *ev, int64_t after_seq, int64_t limit)
{
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "events");
    int64_t from, missed = 0, last = after_seq;

    if (after_seq > ev->last_seq)
        after_seq = last = 0;
    from = after_seq + 1;
    if (from < first_seq(ev)) {
        missed = first_seq(ev) - from;
        from = first_seq(ev);
        last = from - 1;
    }
    for (int64_t seq = from; seq <= ev->last_seq && limit > 0; seq++, limit--) {
        cJSON_AddItemToArray(items, event_json(event_at(ev, seq)));
        last = seq;
    }
    cJSON_AddNumberToObject(o, "last_seq", (double)last);
    cJSON_AddNumberToObject(o, "dropped", (double)missed);
    cJSON_AddNumberToObject(o, "dropped_total", (double)ev->dropped);
    return o;
}

static int has_news(const hpd_events *ev, int64_t after_seq)
{
    return ev->last_seq != after_seq && ev->count > 0;
}

static void on_wake(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_events *ev = data;
    waiter *w = ev->waiters, *next;

    (void)loop;
    (void)id;
    ev->wake_timer = 0;
    for (; w; w = next) {
        next = w->next;
        if (!has_news(ev, w->after_seq))
            continue;
        waiter_unlink(w);
        hpd_pending_resolve(w->pending, result_after(ev, w->after_seq, w->limit));
        free(w);
    }
}

void hpd_event_emit(hpd_server *srv, hpd_event_kind kind, const hpd_run *run, const hpd_job *job,
                    const char *fmt, ...)
{
    hpd_events *ev = srv->events;
    event *e;
    va_list ap;

    if (!ev)
        return;
    if (job && !run)
        run = job->run;
    e = &ev->ring[ev->head];
    if (ev->count == ev->cap) {
        event_clear(e); /* the oldest */
        ev->dropped++;
    } else {
        ev->count++;
    }
    ev->head = (ev->head + 1) % ev->cap;
    e->seq = ++ev->last_seq;
    e->ts_ms = hpd_now_ms();
    e->kind = kind;
    e->service = run && run->service ? strdup(run->service) : NULL;
    e->run_id = run ? run->id : 0;
    e->job_id = job ? job->id : 0;
    e->action = job ? strdup(run->actions[job->index].name) : NULL;
    if (job && kind == HPD_EV_JOB_EXITED) {
        e->has_exit = job->has_exit;
        e->exit_code = job->exit_code;
        e->signal = job->signal;
        e->failed = (!job->has_exit || job->exit_code != 0 || job->signal != 0) &&
                    job->stop_as != HPD_JOB_CANCELLED && !job->run->cancelling && !srv->stopping;
    }
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
    for (char *p = e->text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (ev->waiters && !ev->wake_timer)
        ev->wake_timer = hpd_loop_timer(srv->loop, 0, on_wake, ev);
}

static void waiter_cancel(hpd_pending *p, void *data)
{
    waiter *w = data;

    (void)p;
    waiter_unlink(w);
    free(w);
}

static void waiter_timeout(hpd_loop *loop, uint64_t id, void *data)
{
    waiter *w = data;
    hpd_events *ev = w->ev;

    (void)loop;
    (void)id;
    w->timer = 0;
    waiter_unlink(w);
    /* A timeout is an answer like any other: no events, the same cursor. */
    hpd_pending_resolve(w->pending, result_after(ev, w->after_seq, w->limit));
    free(w);
}

cJSON *hpd_events_wait(hpd_rpc_ctx *ctx, int64_t after_seq, int64_t timeout_ms, int64_t limit)
{
    hpd_events *ev = ctx->srv->events;
    waiter *w;

    if (!ev)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "events are not kept");
    if (has_news(ev, after_seq) || timeout_ms <= 0 || ev->n_waiters >= HPD_EVENTS_MAX_WAITERS)
        return result_after(ev, after_seq, limit);
    if (timeout_ms > HPD_EVENTS_MAX_WAIT_MS)
        timeout_ms = HPD_EVENTS_MAX_WAIT_MS;
    w = calloc(1, sizeof(*w));
    if (!w)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
    w->ev = ev;
    w->after_seq = after_seq;
    w->limit = limit;
    w->pending = hpd_rpc_defer(ctx, waiter_cancel, w);
    if (!w->pending) {
        free(w);
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
    }
    w->timer = hpd_loop_timer(ctx->srv->loop, (uint64_t)timeout_ms, waiter_timeout, w);
    w->next = ev->waiters;
    if (w->next)
        w->next->prev = w;
    ev->waiters = w;
    ev->n_waiters++;
    return NULL;
}
