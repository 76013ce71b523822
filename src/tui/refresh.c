/* SPDX-License-Identifier: Apache-2.0 */
/* The polling: each tick asks the top view to update from the model, keeps the selection on
 * its row, looks at the store's health and says when the screen must be drawn again. */
#include "config.h"

#include "tui/app_int.h"

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
    } else if (ops == &tui_view_jobs && m->jobs) {
        for (size_t i = 0; i < m->jobs->n_jobs; i++)
            if (!hp_job_state_is_final(m->jobs->jobs[i].status))
                return 1;
    }
    return 0;
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
    if (tui_model_store(&app->model) != 0) /* at most every TUI_STORE_EVERY_MS */
        app->dirty = 1;
    if (app->model.connected != was || stale || tui_app_stale(app) || live(app) ||
        restarting != tui_model_restarting(&app->model))
        app->dirty = 1;
}
