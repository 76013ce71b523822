/* SPDX-License-Identifier: Apache-2.0 */
/* The screen: the chrome around the top view (header with the connection and the store,
 * banner, filter and status line, key hints), then the overlays. */
#include "config.h"

#include "tui/app_int.h"

#include "tui/draw.h"
#include "tui/keys.h"

#include <stdio.h>
#include <string.h>

static void draw_header(tui_app *app, int cols)
{
    const tui_model *m = &app->model;
    char crumbs[512], part[128];
    size_t len = 0;
    int x;
    const char *state;
    int colour;
    int fleet = tui__top(app)->ops == &tui_view_fleet;

    if (fleet) { /* each host's state is in the strip below, not one connection's */
        state = "fleet";
        colour = TUI_C_CYAN;
    } else if (!m->calls) {
        state = "connecting";
        colour = TUI_C_YELLOW;
    } else if (tui_model_restarting(m)) {
        state = "restarting";
        colour = TUI_C_YELLOW;
    } else if (m->connected) {
        state = "connected";
        colour = TUI_C_GREEN;
    } else {
        state = "unreachable";
        colour = TUI_C_RED;
    }
    crumbs[0] = '\0';
    for (int i = 0; i < app->depth; i++) {
        const tui_frame *f = &app->stack[i];
        if (f->ops->title)
            f->ops->title(f, part, sizeof(part));
        else
            snprintf(part, sizeof(part), "%s", f->ops->name);
        len += (size_t)snprintf(crumbs + len, sizeof(crumbs) - len, "%s%s",
                                i ? (tui_draw_utf8() ? " \xe2\x80\xba " : " > ") : "", part);
        if (len >= sizeof(crumbs))
            break;
    }
    wattrset(stdscr, tui_attr(TUI_C_BAR));
    tui_blank(stdscr, 0, 0, cols);
    wattron(stdscr, A_BOLD);
    x = 1 + tui_put(stdscr, 0, 1, cols - 1, crumbs);
    wattroff(stdscr, A_BOLD);
    x += tui_put(stdscr, 0, x, cols - x, "  ");
    wattrset(stdscr, tui_attr(colour) | A_REVERSE | A_BOLD);
    x += tui_put(stdscr, 0, x, cols - x, state);
    if (app->paused) {
        wattrset(stdscr, tui_attr(TUI_C_BAR));
        x += tui_put(stdscr, 0, x, cols - x, "  ");
        wattrset(stdscr, tui_attr(TUI_C_YELLOW) | A_REVERSE | A_BOLD);
        x += tui_put(stdscr, 0, x, cols - x, " paused (Z resumes) ");
    }
    if (m->connected && !m->store.ok) {
        /* The server answers but cannot write its database: changes wait in its memory. */
        char store[192];
        snprintf(store, sizeof(store), " store failing: %s ",
                 m->store.error ? m->store.error : "unknown error");
        wattrset(stdscr, tui_attr(TUI_C_BAR));
        x += tui_put(stdscr, 0, x, cols - x, "  ");
        wattrset(stdscr, tui_attr(TUI_C_RED) | A_REVERSE | A_BOLD);
        x += tui_put(stdscr, 0, x, cols - x, store);
    }
    if (app->read_only_why) {
        /* The server gave us a read token: the actions are off, and this says why. */
        wattrset(stdscr, tui_attr(TUI_C_BAR));
        x += tui_put(stdscr, 0, x, cols - x, "  ");
        wattrset(stdscr, tui_attr(TUI_C_YELLOW) | A_REVERSE | A_BOLD);
        x += tui_put(stdscr, 0, x, cols - x, app->read_only_why);
    }
    wattrset(stdscr, tui_attr(TUI_C_BAR));
    x += tui_put(stdscr, 0, x, cols - x, "  ");
    if (!fleet)
        tui_put(stdscr, 0, x, cols - x, m->endpoint);
    wattrset(stdscr, A_NORMAL);
}

static void draw_banner(tui_app *app, int y, int cols)
{
    const tui_model *m = &app->model;
    char text[1024];
    long long wait = m->retry_at_ms - tui_now_ms();

    char retry[32];

    snprintf(retry, sizeof(retry), wait > 0 ? "retry in %llds" : "retrying", (wait + 999) / 1000);
    if (tui_model_restarting(m)) {
        /* An in-place upgrade: the rows stay, the jobs run on; no error to read. */
        snprintf(text, sizeof(text), " server restarting%s (in-place upgrade): the jobs run on ",
                 tui_draw_utf8() ? "\xe2\x80\xa6" : "...");
        wattrset(stdscr, tui_attr(TUI_C_YELLOW) | A_REVERSE | A_BOLD);
        tui_blank(stdscr, y, 0, cols);
        tui_put(stdscr, y, 0, cols, text);
        wattrset(stdscr, A_NORMAL);
        return;
    }
    if (strstr(m->reason, m->endpoint_full))
        snprintf(text, sizeof(text), " server unreachable (%s): %s ", retry, m->reason);
    else
        snprintf(text, sizeof(text), " cannot reach the server at %s (%s): %s ", m->endpoint, retry,
                 m->reason);
    wattrset(stdscr, tui_attr(TUI_C_RED) | A_REVERSE | A_BOLD);
    tui_blank(stdscr, y, 0, cols);
    tui_put(stdscr, y, 0, cols, text);
    wattrset(stdscr, A_NORMAL);
}

void tui__render(tui_app *app)
{
    int rows = LINES, cols = COLS, y = 1;
    tui_frame *f = tui__top(app);
    char hints[512];

    werase(stdscr);
    if (rows < 4 || cols < 10) {
        tui_put(stdscr, 0, 0, cols, "terminal too small");
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    draw_header(app, cols);
    if (tui_app_stale(app) || tui_model_restarting(&app->model)) {
        draw_banner(app, y, cols);
        y++;
    }
    app->view_y = y;
    /* Made again where the rows may have changed under it: the map is made wherever the
     * data, the filter or the sort change (an update that found news, a key); a frame
     * drawn for a clock that moved (UPTIME) sorts nothing, which for a fleet of 4 000 rows
     * was a sort a second. */
    if (!f->map || f->map_rows != f->ops->rows(app, f) || f->map_sort_col != f->sort_col ||
        f->map_sort_desc != f->sort_desc || strcmp(f->map_filter, f->filter) != 0)
        tui__remap(app, f);
    if (rows - 2 - y > 0)
        f->ops->draw(app, f, stdscr, y, 0, rows - 2 - y, cols);
    if (app->editing == EDIT_COMMAND || app->editing == EDIT_PROMPT) {
        tui__draw_prompt(app, rows - 2, cols);
    } else if (app->editing || f->filter[0]) {
        int used, search = app->editing == EDIT_SEARCH;
        wattrset(stdscr, A_BOLD);
        used = tui_put(stdscr, rows - 2, 0, cols, search || f->ops != &tui_view_logs ? "/" : "&");
        used += tui_put(stdscr, rows - 2, used, cols - used, search ? f->search : f->filter);
        if (app->editing)
            tui_put(stdscr, rows - 2, used, cols - used, "_  (Enter keeps, Esc clears)");
        wattrset(stdscr, app->status_error ? tui_attr(TUI_C_RED) | A_BOLD : A_NORMAL);
        if (!app->editing && app->status[0] && used + 3 < cols) /* what a key or : said */
            tui_put(stdscr, rows - 2, used + 3, cols - used - 3, app->status);
        wattrset(stdscr, A_NORMAL);
    } else if (app->status[0]) {
        /* A failure that an event brought flashes: reverse for two seconds. */
        wattrset(stdscr, (app->status_error ? tui_attr(TUI_C_RED) | A_BOLD : A_NORMAL) |
                             (app->flash_until > tui_now_ms() ? A_REVERSE : 0));
        tui_put(stdscr, rows - 2, 0, cols, app->status);
        wattrset(stdscr, A_NORMAL);
    }
    if (app->editing == EDIT_PROMPT)
        snprintf(hints, sizeof(hints), "Enter accepts  Esc cancels  Ctrl-U clears");
    else if (app->editing == EDIT_COMMAND)
        snprintf(hints, sizeof(hints),
                 "Enter runs  Esc cancels  Tab completes  Ctrl-U clears  :help lists them");
    else
        tui_key_hints(f->ops->scope, app->read_only, hints, sizeof(hints));
    wattrset(stdscr, tui_attr(TUI_C_BAR));
    tui_blank(stdscr, rows - 1, 0, cols);
    tui_put(stdscr, rows - 1, 1, cols - 1, hints);
    wattrset(stdscr, A_NORMAL);
    wnoutrefresh(stdscr);
    if (f->ops->paint)
        f->ops->paint(app, f);
    if (app->help || app->dialog.open)
        curs_set(0);
    if (app->help)
        tui__draw_help(app, rows, cols);
    if (app->dialog.open)
        tui__draw_dialog(app, rows, cols);
    doupdate();
}
