/* SPDX-License-Identifier: Apache-2.0 */
/* The confirmation dialog (y confirms, Esc cancels) and the help overlay (the key table's
 * lines, scrolled): their keys and their drawing. */
#include "config.h"

#include "tui/app_int.h"

#include "tui/draw.h"
#include "tui/keys.h"

#include <stdio.h>
#include <string.h>

enum { DIALOG_WIDTH = 72 };

/* What the dialog's confirmation does (keep: a restart keeps the old run's history). */
static void confirmed(tui_app *app, tui_dialog *d, int keep)
{
    d->open = 0;
    if (d->discard)
        tui_app_close(app, NULL, 0, "changes discarded");
    else
        tui__run_dialog(app, d, keep);
}

static int restarts(const tui_dialog *d)
{
    return !d->discard && d->act.kind == TUI_ACT_RESTART;
}

int tui__dialog_key(tui_app *app, int code, int func)
{
    tui_dialog *d = &app->dialog;

    if (!func && (code == 'y' || code == 'Y')) {
        confirmed(app, d, 0);
    } else if (!func && code == 'k' && restarts(d)) {
        confirmed(app, d, 1);
    } else if (!func && (code == 'n' || code == 'N' || code == ESC || code == 'q')) {
        tui__dialog_close(app);
        tui_app_status(app, 0, "cancelled");
    } else if ((!func && (code == '\t' || code == 'h' || code == 'l')) ||
               (func && (code == KEY_LEFT || code == KEY_RIGHT || code == KEY_BTAB))) {
        d->focus_ok = !d->focus_ok;
    } else if ((!func && (code == '\n' || code == '\r')) || (func && code == KEY_ENTER)) {
        if (d->focus_ok) {
            confirmed(app, d, 0);
        } else {
            tui__dialog_close(app);
            tui_app_status(app, 0, "cancelled");
        }
    }
    return TUI_HANDLED | TUI_REFRESH;
}

void tui__draw_dialog(tui_app *app, int rows, int cols)
{
    tui_dialog *d = &app->dialog;
    const char *hint = restarts(d) ? "y confirms, k keeps the old run's history, n or Esc cancels"
                                   : "y confirms, n or Esc cancels";
    int w = tui_width(d->text) + 6, h, y, x, lines;
    char cancel[32], ok[48];
    WINDOW *win;

    if (w < tui_width(hint) + 6)
        w = tui_width(hint) + 6;
    if (w < 36)
        w = 36;
    if (w > DIALOG_WIDTH && w > cols * 3 / 4)
        w = DIALOG_WIDTH > cols * 3 / 4 ? DIALOG_WIDTH : cols * 3 / 4; /* a long list wraps */
    if (w > cols)
        w = cols;
    lines = w > 4 ? tui_put_wrapped(NULL, 0, 0, w - 4, rows, d->text) : 1;
    h = 5 + lines;
    if (h > rows)
        h = rows;
    y = (rows - h) / 2;
    x = (cols - w) / 2;
    win = newwin(h, w, y, x);
    if (!win)
        return;
    werase(win);
    box(win, 0, 0);
    tui_put_wrapped(win, 1, 2, w - 4, h - 5 > 0 ? h - 5 : 1, d->text);
    tui_put(win, h - 4, 2, w - 4, hint);
    snprintf(cancel, sizeof(cancel), "[ Cancel ]");
    snprintf(ok, sizeof(ok), "[ %s ]", d->button);
    wattrset(win, d->focus_ok ? A_NORMAL : A_REVERSE | A_BOLD);
    tui_put(win, h - 2, 2, w - 4, cancel);
    wattrset(win, d->focus_ok ? A_REVERSE | A_BOLD : A_NORMAL);
    tui_put(win, h - 2, 4 + tui_width(cancel), w - 6 - tui_width(cancel), ok);
    wattrset(win, A_NORMAL);
    wnoutrefresh(win);
    delwin(win);
}

/* A key while the help is open: j/k, PgUp/PgDn, g/G scroll it, any other closes it. */
int tui__help_key(tui_app *app, int code, int func)
{
    int page = app->help_page > 1 ? app->help_page - 1 : 1;
    tui_cmd cmd = tui_key_lookup(code, func, TUI_SCOPE_ALL, 1);

    if (!func && code == ' ')
        cmd = TUI_CMD_PAGE_DOWN;
    switch (cmd) {
    case TUI_CMD_UP:
        app->help_top--;
        break;
    case TUI_CMD_DOWN:
        app->help_top++;
        break;
    case TUI_CMD_PAGE_UP:
        app->help_top -= page;
        break;
    case TUI_CMD_PAGE_DOWN:
        app->help_top += page;
        break;
    case TUI_CMD_TOP:
        app->help_top = 0;
        break;
    case TUI_CMD_BOTTOM:
        app->help_top = HELP_LINES; /* draw_help clamps it to the last page */
        break;
    default:
        app->help = 0;
        break;
    }
    if (app->help_top < 0)
        app->help_top = 0;
    return TUI_REDRAW;
}

/* The help: one column of the key table's lines then the commands, scrolled with j/k,
 * PgUp/PgDn, g/G when it is taller than the screen. */
void tui__draw_help(tui_app *app, int rows, int cols)
{
    char lines[HELP_LINES][96];
    const tui_frame *f = tui__top(app);
    int n = (int)tui_key_help(f->ops->scope, app->read_only, lines, HELP_LINES);
    int w = cols < HELP_WIDTH ? cols : HELP_WIDTH, h = n + 2, y, x, page, last;
    char title[128];
    WINDOW *win;

    if (h > rows)
        h = rows;
    page = h - 2 > 0 ? h - 2 : 1;
    last = n > page ? n - page : 0;
    if (app->help_top > last)
        app->help_top = last;
    if (app->help_top < 0)
        app->help_top = 0;
    app->help_page = page;
    y = (rows - h) / 2;
    x = (cols - w) / 2;
    win = newwin(h, w, y, x);
    if (!win)
        return;
    werase(win);
    box(win, 0, 0);
    snprintf(title, sizeof(title), " Help: %s keys (%sother keys close) ", f->ops->name,
             last ? "j/k PgUp/PgDn scroll, " : "");
    wattron(win, A_BOLD);
    tui_put(win, 0, 2, w - 4, title);
    wattroff(win, A_BOLD);
    for (int r = 0; r < page && app->help_top + r < n; r++) {
        const char *line = lines[app->help_top + r];
        if (strncmp(line, "Commands", 8) == 0)
            wattron(win, A_BOLD);
        tui_put(win, 1 + r, 2, w - 4, line);
        wattroff(win, A_BOLD);
    }
    if (last) {
        char where[48];
        snprintf(where, sizeof(where), " %d-%d of %d ", app->help_top + 1,
                 app->help_top + page < n ? app->help_top + page : n, n);
        tui_put(win, h - 1, w - 2 - tui_width(where), tui_width(where), where);
    }
    wnoutrefresh(win);
    delwin(win);
}
