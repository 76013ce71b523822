/* SPDX-License-Identifier: Apache-2.0 */
/* The Runs view: every run (or a service's), newest first, with its status, job counts
 * ok/failed/running (OK/FAIL/RUN), start time and duration; Enter opens its jobs, l its
 * log (every job's lines), c cancels it. It
 * draws the model's list only. */
#include "config.h"

#include "tui/draw.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tui_column cols[] = {
    {"ID", 6},           {"NAME", 14},    {"SERVICE", 12}, {"STATUS", 12},
    {"OK/FAIL/RUN", 11}, {"STARTED", 11}, {"DURATION", 0},
};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

static size_t rows(tui_app *app, const tui_frame *f)
{
    const tui_model *m = tui_app_model(app);

    return m->runs ? m->runs->n_runs : 0;
}

static void title(const tui_frame *f, char *buf, size_t size)
{
    if (f->service[0])
        snprintf(buf, size, "Runs of %s", f->service);
    else
        snprintf(buf, size, "Runs");
}

static int match(tui_app *app, const tui_frame *f, size_t i, const char *needle)
{
    const hp_run *r = &tui_app_model(app)->runs->runs[i];

    return strstr(r->name, needle) || (r->service && strstr(r->service, needle)) ||
           strstr(tui_status_word(tui_status_of_run(r->status)), needle);
}

static int rank(tui_app *app, const tui_frame *f, size_t i)
{
    const hp_run *r = &tui_app_model(app)->runs->runs[i];

    return r->status == HP_RUN_FAILED ? 0 : 1;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int64_t duration(const hp_run *r)
{
    if (!r->started_at_ms)
        return -1;
    return (r->ended_at_ms ? r->ended_at_ms : tui_wall_ms()) - r->started_at_ms;
}

/* Ascending on col; the status column ranks problems first (the default order). */
static int cmp(tui_app *app, const tui_frame *f, int col, size_t a, size_t b)
{
    const hp_run *x = &tui_app_model(app)->runs->runs[a];
    const hp_run *y = &tui_app_model(app)->runs->runs[b];

    switch (col) {
    case 0:
        return cmp_i64(x->id, y->id);
    case 1:
        return cmp_str(x->name, y->name);
    case 2:
        return cmp_str(x->service, y->service);
    case 3:
        return rank(app, f, a) - rank(app, f, b);
    case 4: /* the most failed first, then the most running */
        if (x->counts.failed != y->counts.failed)
            return cmp_i64(y->counts.failed, x->counts.failed);
        return cmp_i64(y->counts.running, x->counts.running);
    case 5:
        return cmp_i64(x->started_at_ms ? x->started_at_ms : x->created_at_ms,
                       y->started_at_ms ? y->started_at_ms : y->created_at_ms);
    default:
        return cmp_i64(duration(x), duration(y));
    }
}

static int update(tui_app *app, tui_frame *f, int force)
{
    return tui_model_runs(tui_app_model(app), f->service, force);
}

static void draw_row(tui_cells *t, const hp_run *r)
{
    char buf[64];
    int64_t end = r->ended_at_ms ? r->ended_at_ms : tui_wall_ms();

    snprintf(buf, sizeof(buf), "%lld", (long long)r->id);
    tui_cell(t, buf);
    tui_cell_name(t, r->name);
    tui_cell_name(t, r->service ? r->service : "-");
    tui_cell_status(t, tui_status_of_run(r->status));
    snprintf(buf, sizeof(buf), "%lld/%lld/%lld", (long long)r->counts.succeeded,
             (long long)r->counts.failed, (long long)r->counts.running);
    tui_cell_attr(t, buf, r->counts.failed ? tui_attr(TUI_C_RED) : 0);
    tui_fmt_time(r->started_at_ms ? r->started_at_ms : r->created_at_ms, buf, sizeof(buf));
    tui_cell(t, buf);
    if (r->started_at_ms)
        tui_fmt_duration(end - r->started_at_ms, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "-");
    tui_cell(t, buf);
}

static void row(tui_cells *t, const void *items, size_t i)
{
    draw_row(t, &((const hp_run_list *)items)->runs[i]);
}

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    tui_list_draw(app, f, w, y, x, h, width, tui_app_model(app)->runs,
                  tui_app_read_only(app) || f->service[0] ? "no runs"
                                                          : "no runs: n composes a one-shot run",
                  row);
}

static int key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    const tui_model *m = tui_app_model(app);
    const hp_run *r;
    tui_frame proto = {0};

    size_t i = tui_frame_selected(app, f);

    if (cmd == TUI_CMD_NEW)
        return tui_form_new(app, 1);
    if (i == (size_t)-1)
        return 0;
    r = &m->runs->runs[i];
    switch (cmd) {
    case TUI_CMD_ENTER:
        proto.run_id = r->id;
        tui_app_push(app, &tui_view_jobs, &proto);
        return TUI_HANDLED | TUI_REFRESH;
    case TUI_CMD_LOGS:
        proto.run_id = r->id;
        tui_app_push(app, &tui_view_logs, &proto);
        return TUI_HANDLED | TUI_REFRESH;
    case TUI_CMD_RERUN:
        return tui_form_rerun(app, r->id);
    default:
        return 0;
    }
}

/* c cancels, D deletes: on the selected run or on every marked one. */
static int action(tui_app *app, const tui_frame *f, size_t i, tui_cmd cmd, tui_action *act)
{
    if (cmd != TUI_CMD_CANCEL && cmd != TUI_CMD_DELETE)
        return 0;
    act->kind = cmd == TUI_CMD_CANCEL ? TUI_ACT_CANCEL : TUI_ACT_RUN_DELETE;
    act->run_id = tui_app_model(app)->runs->runs[i].id;
    return 1;
}
/* `:new` and `:rerun ID` (a number: the command line checked it): the forms of a run. */
static int command(tui_app *app, tui_cmd cmd, const char *arg)
{
    if (cmd == TUI_CMD_NEW)
        return tui_form_new(app, 1);
    if (cmd == TUI_CMD_RERUN)
        return tui_form_rerun(app, (int64_t)strtoll(arg, NULL, 10));
    return 0;
}

static void row_key(tui_app *app, const tui_frame *f, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%lld", (long long)tui_app_model(app)->runs->runs[i].id);
}

const tui_view_ops tui_view_runs = {
    .name = "Runs",
    .scope = TUI_SCOPE_RUNS,
    .title = title,
    .update = update,
    .rows = rows,
    .match = match,
    .rank = rank,
    .columns = cols,
    .n_columns = (int)N_COLS,
    .default_sort = 3,
    .cmp = cmp,
    .draw = draw,
    .row_key = row_key,
    .key = key,
    .command = command,
    .action = action,
};
