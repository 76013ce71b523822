/* SPDX-License-Identifier: Apache-2.0 */
/* The Fleet view: every context's services in one list with a HOST column, under a strip
 * that says for each host whether it answers and how fast. The verbs go to the row's host;
 * Enter, l and h move the dashboard's connection to that host and open its jobs, log or
 * runs as the Services view does. It draws what the fleet's pollers took (fleet.h). */
#include "config.h"

#include "tui/draw.h"
#include "tui/fleet.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <stdio.h>
#include <string.h>

static const tui_column cols[] = {
    {"HOST", 10},    {"NAME", 16},  {"STATUS", 12}, {"WANTED", 6}, {"PID", 10},
    {"RESTARTS", 8}, {"UPTIME", 8}, {"CPU%", 6},    {"MEM", 6},    {"DESCRIPTION", 0},
};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

static tui_fleet *fleet_of(const tui_frame *f)
{
    return f->state; /* borrowed from the app, set by update */
}

static size_t rows(tui_app *app, const tui_frame *f)
{
    return fleet_of(f) ? tui_fleet_rows(fleet_of(f)) : 0;
}

static const char *host_name(const tui_frame *f, size_t i)
{
    return tui_fleet_host_at(fleet_of(f), tui_fleet_row_at(fleet_of(f), i)->host)->name;
}

static const char *status_word(const hp_service_summary *s)
{
    return tui_status_word(tui_status_of_service(s->status));
}

/* Every word of the filter must match: `host:edge` the host, `status:failed` the status,
 * another word the host, the name or the status. */
static int match(tui_app *app, const tui_frame *f, size_t i, const char *needle)
{
    const hp_service_summary *s = tui_fleet_service(fleet_of(f), i);
    const char *host = host_name(f, i);
    char word[64];

    while (*needle) {
        size_t n = strcspn(needle, " ");
        const char *w = word;
        int ok;
        if (n == 0) {
            needle++;
            continue;
        }
        snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1),
                 needle);
        needle += n;
        if (strncmp(w, "host:", 5) == 0)
            ok = strstr(host, w + 5) != NULL;
        else if (strncmp(w, "status:", 7) == 0)
            ok = strstr(status_word(s), w + 7) != NULL;
        else
            ok = strstr(host, w) || strstr(s->name, w) || strstr(status_word(s), w);
        if (!ok)
            return 0;
    }
    return 1;
}

static int rank(tui_app *app, const tui_frame *f, size_t i)
{
    return tui_service_rank(tui_fleet_service(fleet_of(f), i));
}

/* HOST, then the Services view's columns but ACT. */
static int cmp(tui_app *app, const tui_frame *f, int col, size_t a, size_t b)
{
    static const int field[] = {TUI_SVC_NAME, TUI_SVC_STATUS,   TUI_SVC_WANTED,
                                TUI_SVC_PID,  TUI_SVC_RESTARTS, TUI_SVC_UPTIME,
                                TUI_SVC_CPU,  TUI_SVC_MEM,      TUI_SVC_DESCRIPTION};

    if (col == 0)
        return strcmp(host_name(f, a), host_name(f, b));
    return tui_service_cmp(tui_fleet_service(fleet_of(f), a), tui_fleet_service(fleet_of(f), b),
                           field[col - 1 < 9 ? col - 1 : 8]);
}

static void title(const tui_frame *f, char *buf, size_t size)
{
    const tui_fleet *fl = fleet_of(f);
    size_t n = fl ? tui_fleet_hosts(fl) : 0, answering = 0;

    for (size_t i = 0; i < n; i++)
        answering += tui_fleet_host_at(fl, i)->state == TUI_HOST_UP;
    if (!fl)
        snprintf(buf, size, "Fleet");
    else
        snprintf(buf, size, "Fleet: %zu of %zu hosts answer", answering, n);
}

/* A host that stopped answering says why in the status line (the strip has no room). */
static void say_down(tui_app *app, tui_fleet *fl)
{
    for (size_t i = 0; i < tui_fleet_hosts(fl); i++)
        if (tui_fleet_went_down(fl, i))
            tui_app_status(app, 1, "%s unreachable: %s", tui_fleet_host_at(fl, i)->name,
                           tui_fleet_host_at(fl, i)->reason);
}

static int update(tui_app *app, tui_frame *f, int force)
{
    tui_fleet *fl = tui_app_fleet(app);
    int r;

    (void)force; /* each host polls on its own clock; the view only takes what came */
    if (!fl)
        return -1;
    r = tui_fleet_take(fl);
    say_down(app, fl);
    if (!f->state) {
        f->state = fl;
        return 1;
    }
    /* Only new rows are sorted and filtered again; the strip alone is just drawn (see
     * tui_fleet_strip_changed). */
    return r == 1 ? 1 : 0;
}

static void row(tui_cells *t, const void *items, size_t i)
{
    const tui_fleet *fl = items;
    const tui_fleet_host *h = tui_fleet_host_at(fl, tui_fleet_row_at(fl, i)->host);
    const hp_service_summary *s = tui_fleet_service(fl, i);

    /* A host that stopped answering keeps its last rows, its name in red. */
    tui_cell_attr(t, h->name, h->state == TUI_HOST_DOWN ? tui_attr(TUI_C_RED) | A_BOLD : 0);
    tui_service_cells(t, s, 0);
}

/* The strip: each host with a dot and its latency, or why it does not answer. */
static void draw_strip(const tui_fleet *fl, WINDOW *w, int y, int x, int width)
{
    int used = 0;

    tui_blank(w, y, x, width);
    for (size_t i = 0; i < tui_fleet_hosts(fl) && used < width; i++) {
        const tui_fleet_host *h = tui_fleet_host_at(fl, i);
        const char *glyph = tui_draw_utf8() ? "\xe2\x97\x8f" : "*";
        char text[128];
        int colour = TUI_C_GREEN;

        if (h->state == TUI_HOST_DOWN) {
            glyph = tui_draw_utf8() ? "\xe2\x9c\x97" : "x";
            colour = TUI_C_RED;
            snprintf(text, sizeof(text), " %s unreachable", h->name);
        } else if (h->slow || h->state == TUI_HOST_TRYING) {
            colour = TUI_C_YELLOW;
            snprintf(text, sizeof(text), " %s %s", h->name, h->slow ? "slow" : "...");
        } else {
            snprintf(text, sizeof(text), " %s %ldms", h->name, h->latency_ms);
        }
        wattrset(w, tui_attr(colour) | A_BOLD);
        used += tui_put(w, y, x + used, width - used, glyph);
        wattrset(w, A_NORMAL);
        used += tui_put(w, y, x + used, width - used, text);
        used += tui_put(w, y, x + used, width - used, "   ");
    }
}

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    tui_fleet *fl = fleet_of(f);
    int said = 0;

    if (!fl) {
        tui_put(w, y, x, width, "no fleet: the contexts file cannot be read (see below)");
        return;
    }
    draw_strip(fl, w, y, x, width);
    for (size_t i = 0; i < tui_fleet_hosts(fl); i++)
        said |= tui_fleet_host_at(fl, i)->state != TUI_HOST_TRYING;
    if (h > 1) /* before any host said anything: "waiting", not "no services" */
        tui_list_draw(app, f, w, y + 1, x, h - 1, width, said ? fl : NULL,
                      "no services on any host (hero_proc context add NAME ... adds a host)", row);
}

/* Enter, l, h: the row's host becomes the connection, then as in the Services view. */
static int key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    size_t i = tui_frame_selected(app, f);
    const hp_service_summary *s;
    tui_frame proto = {0};
    char host[64];

    if (cmd != TUI_CMD_ENTER && cmd != TUI_CMD_LOGS && cmd != TUI_CMD_HISTORY)
        return 0;
    if (i == (size_t)-1 || !fleet_of(f))
        return 0;
    s = tui_fleet_service(fleet_of(f), i);
    snprintf(proto.service, sizeof(proto.service), "%s", s->name);
    snprintf(host, sizeof(host), "%s", host_name(f, i));
    {
        /* A host the poller cannot reach is not dialled here, on the screen's thread. */
        const tui_fleet_host *h =
            tui_fleet_host_at(fleet_of(f), tui_fleet_row_at(fleet_of(f), i)->host);
        if (h->state != TUI_HOST_UP) {
            tui_app_status(app, 1, "%s is unreachable: its runs and logs show once it answers (%s)",
                           host, h->reason[0] ? h->reason : "no answer yet");
            return TUI_HANDLED | TUI_REDRAW;
        }
    }
    if (tui_app_use_context(app, host) != 0)
        return TUI_HANDLED | TUI_REDRAW;
    if (cmd == TUI_CMD_LOGS) {
        proto.run_id = tui_model_service_run(tui_app_model(app), proto.service);
        if (!proto.run_id) {
            tui_app_status(app, 1, "service '%s' on %s has no run yet: start it with s",
                           proto.service, host);
            return TUI_HANDLED | TUI_REDRAW;
        }
    }
    tui_app_push(app,
                 cmd == TUI_CMD_ENTER  ? &tui_view_jobs
                 : cmd == TUI_CMD_LOGS ? &tui_view_logs
                                       : &tui_view_runs,
                 &proto);
    return TUI_HANDLED | TUI_REFRESH;
}

/* s S r D on the row's host (or on every marked row, each on its own host). */
static int action(tui_app *app, const tui_frame *f, size_t i, tui_cmd cmd, tui_action *act)
{
    if (!tui_service_action(cmd, tui_fleet_service(fleet_of(f), i)->name, act))
        return 0;
    snprintf(act->host, sizeof(act->host), "%s", host_name(f, i));
    return 1;
}

static void row_key(tui_app *app, const tui_frame *f, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", host_name(f, i), tui_fleet_service(fleet_of(f), i)->name);
}

const tui_view_ops tui_view_fleet = {
    .name = "Fleet",
    .scope = TUI_SCOPE_FLEET,
    .title = title,
    .update = update,
    .rows = rows,
    .match = match,
    .rank = rank,
    .columns = cols,
    .n_columns = (int)N_COLS,
    .default_sort = 2,
    .cmp = cmp,
    .draw = draw,
    .row_key = row_key,
    .key = key,
    .action = action,
};
