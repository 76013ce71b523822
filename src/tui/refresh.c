/* SPDX-License-Identifier: Apache-2.0 */
/* The polling: each tick asks the top view to update from the model, keeps the selection on
 * its row, looks at the store's health and says when the screen must be drawn again. While
 * the events follower answers, a tick fetches only what no event tells (tui__refresh_tick):
 * the view is fetched when an event concerns it. */
#include "config.h"

#include "tui/app_int.h"
#include "tui/fleet.h"

#include "tui/events.h"

#include <string.h>

/* 1 when the view shows a clock that moves (uptime, duration of something running). */
static int live(tui_app *app)
{
    const tui_model *m = &app->model;
    const tui_view_ops *ops = tui__top(app)->ops;

    if (ops == &tui_view_services && m->services) {
        for (size_t i = 0; i < m->services->n_services; i++)
            if (m->services->services[i].status == HP_SERVICE_RUNNING ||
                m->services->services[i].status == HP_SERVICE_DEGRADED)
                return 1;
    } else if (ops == &tui_view_runs && m->runs) {
        for (size_t i = 0; i < m->runs->n_runs; i++)
            if (!hp_run_state_is_final(m->runs->runs[i].status))
                return 1;
    } else if (ops == &tui_view_fleet && app->fleet) {
        for (size_t i = 0; i < tui_fleet_rows(app->fleet); i++) {
            const hp_service_summary *s = tui_fleet_service(app->fleet, i);
            if (s->status == HP_SERVICE_RUNNING || s->status == HP_SERVICE_DEGRADED)
                return 1;
        }
    } else if (ops == &tui_view_jobs && m->jobs) {
        for (size_t i = 0; i < m->jobs->n_jobs; i++)
            if (!hp_job_state_is_final(m->jobs->jobs[i].status))
                return 1;
    }
    return 0;
}

/* 1 when the view's figures move without events and it is fetched at each tick while
 * following: the cost columns (CPU%, MEM) of Services and Jobs while one of their rows runs
 * (if_changed_since keeps an idle list cheap), a log's lines and the secrets (no event
 * tells of either), and a form (it only pings a lost server). */
static int polled(tui_app *app)
{
    const tui_view_ops *ops = tui__top(app)->ops;

    if (ops == &tui_view_services || ops == &tui_view_jobs)
        return live(app);
    return ops != &tui_view_runs && ops != &tui_view_events;
}

int tui__event_concerns(tui_app *app, const hp_event *e)
{
    const tui_frame *f = tui__top(app);

    if (f->ops == &tui_view_events || f->ops == &tui_view_secrets)
        return 0; /* the one drawn from the model, the other told by no event */
    if (f->run_id)
        return e->run_id == f->run_id;
    if (f->service[0])
        return e->service && strcmp(e->service, f->service) == 0;
    /* An ad-hoc run's events change no service. */
    return f->ops != &tui_view_services || e->service;
}

void tui__refresh_tick(tui_app *app)
{
    long long now = tui_now_ms();
    int force = app->refetch == TUI_REFETCH_FORCE;

    if (app->events_state != TUI_EVENTS_FOLLOWING || app->refetch || app->burst || app->behind ||
        now >= app->resync_at || polled(app)) {
        app->refetch = 0;
        app->resync_at = now + TUI_RESYNC_MS;
        tui__refresh_data(app, force);
        return;
    }
    /* Nothing fetched; the store's health is still asked at its own pace (no event tells
     * of it) and a clock shown moves on. */
    if (tui_model_store(&app->model) != 0 || live(app))
        app->dirty = 1;
}

void tui__refresh_data(tui_app *app, int force)
{
    tui_frame *f = tui__top(app);
    int was = app->model.connected, stale = tui_app_stale(app);
    int restarting = tui_model_restarting(&app->model);
    char key[128];

    tui__selected_key(app, f, key, sizeof(key));
    if (f->ops->update(app, f, force || !was) == 1) {
        app->dirty = 1;
        tui__marks_prune(app, f);
        tui__remap(app, f);
        tui__reselect(app, f, key);
    }
    if (f->select[0] && f->ops->row_key) { /* a row asked for (a saved service) is listed */
        size_t before = f->sel;
        tui__reselect(app, f, f->select);
        tui__selected_key(app, f, key, sizeof(key));
        if (strcmp(key, f->select) == 0) {
            f->select[0] = '\0';
            app->dirty |= f->sel != before;
        }
    }
    /* at most every TUI_STORE_EVERY_MS; the fleet's header has no store to show */
    if (f->ops != &tui_view_fleet && tui_model_store(&app->model) != 0)
        app->dirty = 1;
    if (app->model.connected != was || stale || tui_app_stale(app) || live(app) ||
        restarting != tui_model_restarting(&app->model))
        app->dirty = 1;
    if (tui_fleet_strip_changed(app->fleet)) /* a host went down or came back */
        app->dirty = 1;
}
