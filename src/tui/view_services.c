/* SPDX-License-Identifier: Apache-2.0 */
/* The Services view: one row per service with its status (glyph, word, colour), wanted
 * state, actions, pids, restarts, uptime and description; Enter opens its jobs, l the log
 * of its current run, s/S/r/D act on it (or on the marked rows). It draws the model's list and
 * fetches nothing itself except through the model. */
#include "config.h"

#include "tui/draw.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <stdio.h>
#include <string.h>

static const tui_column cols[] = {
    {"NAME", 16},    {"STATUS", 12}, {"WANTED", 6}, {"ACT", 3}, {"PID", 12},
    {"RESTARTS", 8}, {"UPTIME", 8},  {"CPU%", 6},   {"MEM", 6}, {"DESCRIPTION", 0},
};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

static size_t rows(tui_app *app, const tui_frame *f)
{
    const tui_model *m = tui_app_model(app);

    return m->services ? m->services->n_services : 0;
}

static const hp_service_summary *selected(tui_app *app, const tui_frame *f)
{
    const tui_model *m = tui_app_model(app);

    size_t i = tui_frame_selected(app, f);

    return i == (size_t)-1 ? NULL : &m->services->services[i];
}

static int match(tui_app *app, const tui_frame *f, size_t i, const char *needle)
{
    const hp_service_summary *s = &tui_app_model(app)->services->services[i];

    return strstr(s->name, needle) ||
           strstr(tui_status_word(tui_status_of_service(s->status)), needle);
}

int tui_service_rank(const hp_service_summary *s)
{
    return s->status == HP_SERVICE_FAILED || s->status == HP_SERVICE_DEGRADED || s->crash_loop ? 0
                                                                                               : 1;
}

static int rank(tui_app *app, const tui_frame *f, size_t i)
{
    return tui_service_rank(&tui_app_model(app)->services->services[i]);
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* Running, degraded or not: it has an uptime. */
static int up(const hp_service_summary *s)
{
    return s->status == HP_SERVICE_RUNNING || s->status == HP_SERVICE_DEGRADED;
}

/* The uptime's order without the clock (a longer uptime is an earlier start): the sort
 * compares thousands of pairs a frame, and a clock read each was most of a fleet's idle
 * refresh. Not running: below every uptime. */
static int64_t uptime_key(const hp_service_summary *s)
{
    return up(s) && s->started_at_ms ? -s->started_at_ms : INT64_MIN;
}

int tui_service_cmp(const hp_service_summary *x, const hp_service_summary *y, int field)
{
    switch (field) {
    case TUI_SVC_NAME:
        return cmp_str(x->name, y->name);
    case TUI_SVC_STATUS:
        return tui_service_rank(x) - tui_service_rank(y);
    case TUI_SVC_WANTED:
        return x->wanted_start - y->wanted_start;
    case TUI_SVC_ACTIONS:
        return cmp_i64(x->actions, y->actions);
    case TUI_SVC_PID:
        return cmp_i64(x->n_pids ? x->pids[0] : 0, y->n_pids ? y->pids[0] : 0);
    case TUI_SVC_RESTARTS:
        return cmp_i64(x->restarts, y->restarts);
    case TUI_SVC_UPTIME:
        return cmp_i64(uptime_key(x), uptime_key(y));
    case TUI_SVC_CPU:
        return x->cpu_pct < y->cpu_pct ? -1 : x->cpu_pct > y->cpu_pct;
    case TUI_SVC_MEM:
        return cmp_i64(x->rss_bytes, y->rss_bytes);
    default:
        return cmp_str(x->description, y->description);
    }
}

/* Ascending on col (the columns are the TUI_SVC_* fields in order). */
static int cmp(tui_app *app, const tui_frame *f, int col, size_t a, size_t b)
{
    const hp_service_list *l = tui_app_model(app)->services;

    return tui_service_cmp(&l->services[a], &l->services[b], col);
}

static int update(tui_app *app, tui_frame *f, int force)
{
    return tui_model_services(tui_app_model(app), force);
}

void tui_service_cells(tui_cells *t, const hp_service_summary *s, int with_actions)
{
    char buf[128];
    size_t len = 0;

    tui_cell_name(t, s->name);
    tui_cell_status(t, tui_status_of_service(s->status));
    tui_cell(t, s->wanted_start ? "start" : "stop");
    if (with_actions) {
        snprintf(buf, sizeof(buf), "%3lld", (long long)s->actions);
        tui_cell(t, buf);
    }
    buf[0] = '\0';
    for (size_t i = 0; i < s->n_pids && len + 1 < sizeof(buf); i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%lld", i ? "," : "",
                                (long long)s->pids[i]);
    tui_cell(t, s->n_pids ? buf : "-");
    snprintf(buf, sizeof(buf), "%lld%s", (long long)s->restarts, s->crash_loop ? " loop" : "");
    tui_cell_attr(t, buf, s->crash_loop ? tui_attr(TUI_C_RED) : 0);
    if (up(s) && s->started_at_ms > 0)
        tui_fmt_duration(tui_wall_ms() - s->started_at_ms, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "-");
    tui_cell(t, buf);
    if (s->procs > 0)
        snprintf(buf, sizeof(buf), "%5.1f", s->cpu_pct);
    else
        snprintf(buf, sizeof(buf), "-");
    tui_cell(t, buf);
    tui_fmt_bytes(s->procs > 0 ? s->rss_bytes : 0, buf, sizeof(buf));
    tui_cell(t, buf);
    tui_cell(t, s->description ? s->description : "");
}

static void row(tui_cells *t, const void *items, size_t i)
{
    tui_service_cells(t, &((const hp_service_list *)items)->services[i], 1);
}

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    tui_list_draw(app, f, w, y, x, h, width, tui_app_model(app)->services,
                  tui_app_read_only(app) ? "no services yet"
                                         : "no services yet: n makes one (or `hero_proc "
                                           "service set FILE`, or start with --demo)",
                  row);
}

static int key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    const hp_service_summary *s = selected(app, f);
    tui_frame proto = {0};

    if (cmd == TUI_CMD_NEW)
        return tui_form_new(app, 0);
    if (!s)
        return 0;
    switch (cmd) {
    case TUI_CMD_ENTER:
        snprintf(proto.service, sizeof(proto.service), "%s", s->name);
        tui_app_push(app, &tui_view_jobs, &proto);
        return TUI_HANDLED | TUI_REFRESH;
    case TUI_CMD_LOGS:
        proto.run_id = tui_model_service_run(tui_app_model(app), s->name);
        if (!proto.run_id)
            proto.run_id = s->run_id; /* headless, or the server is away: the list's */
        if (!proto.run_id) {
            tui_app_status(app, 1, "service '%s' has no run yet: start it with s", s->name);
            return TUI_HANDLED | TUI_REDRAW;
        }
        snprintf(proto.service, sizeof(proto.service), "%s", s->name);
        tui_app_push(app, &tui_view_logs, &proto);
        return TUI_HANDLED | TUI_REFRESH;
    case TUI_CMD_HISTORY:
        snprintf(proto.service, sizeof(proto.service), "%s", s->name);
        tui_app_push(app, &tui_view_runs, &proto);
        return TUI_HANDLED | TUI_REFRESH;
    case TUI_CMD_EDIT:
        return tui_form_edit_service(app, s->name);
    default:
        return 0;
    }
}

int tui_service_action(tui_cmd cmd, const char *name, tui_action *act)
{
    switch (cmd) {
    case TUI_CMD_START:
        act->kind = TUI_ACT_START;
        break;
    case TUI_CMD_STOP:
        act->kind = TUI_ACT_STOP;
        break;
    case TUI_CMD_RESTART:
        act->kind = TUI_ACT_RESTART;
        break;
    case TUI_CMD_DELETE:
        act->kind = TUI_ACT_DELETE;
        break;
    default:
        return 0;
    }
    snprintf(act->service, sizeof(act->service), "%s", name);
    return 1;
}

/* s S r D: the app asks and runs them, on the selected row or on every marked one. */
static int action(tui_app *app, const tui_frame *f, size_t i, tui_cmd cmd, tui_action *act)
{
    return tui_service_action(cmd, tui_app_model(app)->services->services[i].name, act);
}
/* `:new` and `:edit NAME`: the forms of a service. */
static int command(tui_app *app, tui_cmd cmd, const char *arg)
{
    if (cmd == TUI_CMD_NEW)
        return tui_form_new(app, 0);
    if (cmd == TUI_CMD_EDIT)
        return tui_form_edit_service(app, arg);
    return 0;
}

static void row_key(tui_app *app, const tui_frame *f, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%s", tui_app_model(app)->services->services[i].name);
}

const tui_view_ops tui_view_services = {
    .name = "Services",
    .scope = TUI_SCOPE_SERVICES,
    .update = update,
    .rows = rows,
    .match = match,
    .rank = rank,
    .columns = cols,
    .n_columns = (int)N_COLS,
    .default_sort = 1,
    .cmp = cmp,
    .draw = draw,
    .row_key = row_key,
    .key = key,
    .command = command,
    .action = action,
};
