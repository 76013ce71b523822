/* SPDX-License-Identifier: Apache-2.0 */
/* The Events view (key 5): the state changes followed since the dashboard opened (the
 * model's events, filled by the loop from events.wait), newest first, failures in red.
 * It fetches nothing itself; against a server without events it says so. */
#include "config.h"

#include "tui/draw.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <stdio.h>
#include <string.h>

static const tui_column cols[] = {{"TIME", 12}, {"KIND", 14}, {"WHERE", 18}, {"TEXT", 0}};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

/* Row i of the model is shown newest first. */
static const hp_event *event_of(const tui_model *m, size_t i)
{
    return &m->events[m->n_events - 1 - i];
}

static size_t rows(tui_app *app, const tui_frame *f)
{
    (void)f;
    return tui_app_model(app)->n_events;
}

static int match(tui_app *app, const tui_frame *f, size_t i, const char *needle)
{
    const hp_event *e = event_of(tui_app_model(app), i);

    (void)f;
    return strstr(e->kind, needle) || strstr(e->text, needle) ||
           (e->service && strstr(e->service, needle));
}

static int cmp(tui_app *app, const tui_frame *f, int col, size_t a, size_t b)
{
    (void)app;
    (void)f;
    (void)col;
    return a < b ? -1 : a > b; /* the model's order: newest first */
}

static int update(tui_app *app, tui_frame *f, int force)
{
    (void)app;
    (void)f;
    (void)force;
    return 0; /* the loop adds events as they come */
}

int tui_event_is_failure(const hp_event *e)
{
    return (strcmp(e->kind, "job_exited") == 0 && e->failed) ||
           strcmp(e->kind, "service_failed") == 0 || strcmp(e->kind, "crash_loop") == 0 ||
           strcmp(e->kind, "job_unhealthy") == 0;
}

static void row(tui_cells *t, const void *items, size_t i)
{
    const hp_event *e = event_of(items, i);
    char buf[32];

    tui_fmt_clock(e->ts_ms, buf, sizeof(buf));
    tui_cell(t, buf);
    if (tui_event_is_failure(e))
        tui_cell_attr(t, e->kind, tui_attr(TUI_C_RED) | A_BOLD);
    else
        tui_cell(t, e->kind);
    if (e->service)
        tui_cell_name(t, e->service);
    else {
        snprintf(buf, sizeof(buf), "run %lld", (long long)e->run_id);
        tui_cell(t, buf);
    }
    tui_cell(t, e->text);
}

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    const tui_model *m = tui_app_model(app);

    tui_list_draw(app, f, w, y, x, h, width, m,
                  tui_app_events_state(app) < 0
                      ? "the server has no events (an older hero_proc_server): polling"
                      : "no events since the dashboard opened",
                  row);
}

const tui_view_ops tui_view_events = {
    .name = "Events",
    .scope = TUI_SCOPE_EVENTS,
    .update = update,
    .rows = rows,
    .match = match,
    .columns = cols,
    .n_columns = (int)N_COLS,
    .cmp = cmp,
    .draw = draw,
};
