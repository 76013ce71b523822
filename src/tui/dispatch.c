/* SPDX-License-Identifier: Apache-2.0 */
/* Key dispatch: a key goes to the dialog, the help, a form, the `:` line or a filter being
 * typed, else through the key table to the app or the top view; then its flags' effects. */
#include "config.h"

#include "tui/app_int.h"

#include "tui/keys.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int navigate(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    size_t n = tui_frame_count(app, f), page = f->page > 1 ? (size_t)f->page - 1 : 1;

    switch (cmd) {
    case TUI_CMD_UP:
        f->sel = f->sel ? f->sel - 1 : 0;
        break;
    case TUI_CMD_DOWN:
        f->sel = f->sel + 1 < n ? f->sel + 1 : f->sel;
        break;
    case TUI_CMD_PAGE_UP:
        f->sel = f->sel > page ? f->sel - page : 0;
        break;
    case TUI_CMD_PAGE_DOWN:
        f->sel = n == 0 ? 0 : (f->sel + page < n ? f->sel + page : n - 1);
        break;
    case TUI_CMD_TOP:
        f->sel = 0;
        break;
    case TUI_CMD_BOTTOM:
        f->sel = n ? n - 1 : 0;
        break;
    default:
        return 0;
    }
    return TUI_HANDLED | TUI_REDRAW;
}

static const tui_view_ops *const base_views[] = {&tui_view_services, &tui_view_runs,
                                                 &tui_view_jobs};

/* A key while a pattern is typed: text, Backspace, Enter keeps, Esc clears. A search
 * jumps to its first match on Enter. */
static int filter_key(tui_app *app, tui_frame *f, int code, int func)
{
    int search = app->editing == EDIT_SEARCH;
    char *text = search ? f->search : f->filter;
    size_t size = search ? sizeof(f->search) : sizeof(f->filter);
    size_t len = strlen(text);

    if ((!func && (code == '\n' || code == '\r')) || (func && code == KEY_ENTER)) {
        app->editing = 0;
        if (search && text[0] && f->ops->key)
            return f->ops->key(app, f, TUI_CMD_SEARCH) | TUI_REDRAW;
        if (!search && f->ops == &tui_view_logs) /* says how many lines, or why not */
            f->ops->key(app, f, TUI_CMD_GREP);
    } else if (!func && code == ESC) {
        app->editing = 0;
        text[0] = '\0';
    } else if ((func && code == KEY_BACKSPACE) || (!func && (code == 127 || code == 8))) {
        while (len > 0 && (text[len - 1] & 0xC0) == 0x80)
            len--; /* UTF-8 continuation bytes */
        if (len > 0)
            len--;
        text[len] = '\0';
    } else if (!func && code >= ' ' && code != 127) {
        char mb[MB_LEN_MAX];
        mbstate_t st;
        size_t n;
        memset(&st, 0, sizeof(st));
        n = wcrtomb(mb, (wchar_t)code, &st);
        if (n != (size_t)-1 && len + n < size) {
            memcpy(text + len, mb, n);
            text[len + n] = '\0';
        }
    } else {
        return TUI_REDRAW;
    }
    if (search)
        return TUI_REDRAW; /* the matches are highlighted as it is typed */
    f->sel = f->top = 0;
    tui__remap(app, f);
    return TUI_REDRAW;
}

static int run_cmd(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    int flags = f->ops->key ? f->ops->key(app, f, cmd) : 0;

    return flags ? flags : navigate(app, f, cmd);
}

/* The wheel scrolls by three rows; a click selects a row, a click on the selected row
 * opens it (as Enter). */
static int handle_mouse(tui_app *app)
{
    tui_frame *f = tui__top(app);
    MEVENT ev;
    int flags = 0;

    if (getmouse(&ev) != OK || app->dialog.open)
        return 0;
    if (app->help) {
        if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED))
            app->help_top += ev.bstate & BUTTON4_PRESSED ? -3 : 3; /* draw_help clamps */
        else
            app->help = 0;
        if (app->help_top < 0)
            app->help_top = 0;
        return TUI_REDRAW;
    }
    if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        for (int i = 0; i < 3; i++)
            flags |= run_cmd(app, f, ev.bstate & BUTTON4_PRESSED ? TUI_CMD_UP : TUI_CMD_DOWN);
        return flags;
    }
    if ((ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) && f->ops != &tui_view_logs &&
        ev.y > app->view_y) {
        size_t row = f->top + (size_t)(ev.y - app->view_y - 1);
        if (row >= tui_frame_count(app, f))
            return 0;
        if (row == f->sel)
            return run_cmd(app, f, TUI_CMD_ENTER) | TUI_REDRAW;
        f->sel = row;
        return TUI_HANDLED | TUI_REDRAW;
    }
    return 0;
}

/* `<` `>` move the sort column, `I` inverts the order; the selection stays on its row. */
static int sort_key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    int col = tui_frame_sort_col(f);
    char key[128];

    if (col < 0)
        return 0;
    tui__selected_key(app, f, key, sizeof(key));
    if (cmd == TUI_CMD_SORT_INVERT)
        f->sort_desc = !f->sort_desc;
    else if (cmd == TUI_CMD_SORT_LEFT && col > 0)
        col--;
    else if (cmd == TUI_CMD_SORT_RIGHT && col + 1 < f->ops->n_columns)
        col++;
    f->sort_col = col + 1;
    tui__remap(app, f);
    tui__reselect(app, f, key);
    tui_app_status(app, 0, "sorted by %s, %s", f->ops->columns[col].header,
                   f->sort_desc ? "descending" : "ascending");
    return TUI_HANDLED | TUI_REDRAW;
}

/* A verb (start, stop, restart, delete, cancel) on the marked rows after one question,
 * else on the selected row as the view's single action. 0 when not a verb of this view. */
static int act_rows(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    size_t n = f->ops->rows(app, f), k = 0, sel;
    tui_action one, *acts;
    char key[128];

    if (!f->n_marks || !f->ops->row_key) {
        memset(&one, 0, sizeof(one));
        sel = tui_frame_selected(app, f);
        if (sel == (size_t)-1 || !f->ops->action(app, f, sel, cmd, &one))
            return 0;
        tui_app_request(app, &one);
        return TUI_HANDLED | TUI_REDRAW;
    }
    acts = calloc(f->n_marks, sizeof(*acts));
    if (!acts) {
        tui_app_status(app, 1, "out of memory: nothing done");
        return TUI_REDRAW;
    }
    /* In the order shown, so the question lists them as the screen does. */
    for (size_t v = 0; v < tui_frame_count(app, f) && k < f->n_marks; v++) {
        size_t i = tui_frame_row(f, v);
        f->ops->row_key(app, f, i, key, sizeof(key));
        memset(&acts[k], 0, sizeof(acts[k]));
        if (tui_frame_marked(f, key) && f->ops->action(app, f, i, cmd, &acts[k]))
            k++;
    }
    for (size_t i = 0; i < n && k < f->n_marks && f->filter[0]; i++) {
        /* marked, then hidden by the filter: still marked, so still acted on */
        f->ops->row_key(app, f, i, key, sizeof(key));
        memset(&acts[k], 0, sizeof(acts[k]));
        if (tui_frame_marked(f, key) && !f->ops->match(app, f, i, f->filter) &&
            f->ops->action(app, f, i, cmd, &acts[k]))
            k++;
    }
    if (k == 0) {
        free(acts);
        return 0;
    }
    tui_app_request_many(app, acts, k);
    return TUI_HANDLED | TUI_REDRAW;
}

/* Space, `*`, `u`: the marks, and how many there are in the status line. */
static int mark_key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    if (!f->ops->row_key || !f->ops->action)
        return 0;
    if (cmd == TUI_CMD_MARK && tui__mark_toggle(app, f))
        f->sel = f->sel + 1 < tui_frame_count(app, f) ? f->sel + 1 : f->sel;
    else if (cmd == TUI_CMD_UNMARK)
        tui__marks_clear(f);
    if (cmd == TUI_CMD_MARK_ALL && tui__mark_all(app, f) != 0)
        tui_app_status(app, 1, "out of memory: nothing more marked");
    else
        tui_app_status(app, 0, "%zu marked%s", f->n_marks,
                       f->n_marks ? ": the verbs act on them, u clears" : "");
    return TUI_HANDLED | TUI_REDRAW;
}

static int handle_key(tui_app *app, int code, int func)
{
    tui_frame *f = tui__top(app);
    tui_cmd cmd;

    if (func && code == KEY_RESIZE)
        return TUI_REDRAW;
    if (func && code == KEY_MOUSE && f->ops->raw_key && !app->help && !app->dialog.open)
        return f->ops->raw_key(app, f, code, func); /* a form's own clicks */
    if (func && code == KEY_MOUSE)
        return handle_mouse(app);
    if (app->dialog.open)
        return tui__dialog_key(app, code, func);
    if (app->help)
        return tui__help_key(app, code, func);
    if (f->ops->raw_key) {
        int flags = f->ops->raw_key(app, f, code, func);
        if (flags)
            return flags;
    }
    if (app->editing == EDIT_COMMAND || app->editing == EDIT_PROMPT)
        return tui__command_key(app, code, func);
    if (app->editing)
        return filter_key(app, f, code, func);
    if (!func && code == ESC && (f->filter[0] || f->search[0])) {
        f->filter[0] = '\0'; /* Esc clears a filter or search before it goes back */
        f->search[0] = '\0';
        tui__remap(app, f);
        return TUI_REDRAW;
    }
    cmd = tui_key_lookup(code, func, f->ops->scope, app->read_only);
    if (cmd == TUI_CMD_NONE) {
        if (app->read_only && tui_key_lookup(code, func, f->ops->scope, 0) != TUI_CMD_NONE) {
            tui_app_status(app, 1,
                           "read-only: nothing can be changed (start, stop, restart, delete, "
                           "cancel, new, edit, rerun)");
            return TUI_REDRAW;
        }
        return 0;
    }
    if (tui__view_of(cmd)) {
        tui__reset(app, tui__view_of(cmd));
        return TUI_REFRESH;
    }
    switch (cmd) {
    case TUI_CMD_QUIT:
        if (app->depth == 1)
            return TUI_QUIT;
        tui__pop(app);
        return TUI_REFRESH;
    case TUI_CMD_BACK:
        tui__pop(app);
        return TUI_REFRESH;
    case TUI_CMD_HELP:
        app->help = 1;
        app->help_top = 0;
        return TUI_REDRAW;
    case TUI_CMD_COMMAND:
        app->editing = EDIT_COMMAND;
        app->cmdline[0] = '\0';
        app->cmd_pos = 0;
        app->cmd_note[0] = '\0';
        return TUI_REDRAW;
    case TUI_CMD_NEXT_VIEW: {
        size_t i = 0;
        while (i < 3 && base_views[i] != app->stack[0].ops)
            i++;
        tui__reset(app, base_views[i >= 3 ? 0 : (i + 1) % 3]);
        return TUI_REFRESH;
    }
    case TUI_CMD_REFRESH:
        return TUI_REFRESH;
    case TUI_CMD_FILTER:
        app->editing = EDIT_FILTER;
        return TUI_REDRAW;
    case TUI_CMD_GREP: /* a new pattern: & then Enter clears */
        app->editing = EDIT_FILTER;
        f->filter[0] = '\0';
        return TUI_REDRAW;
    case TUI_CMD_SEARCH:
        app->editing = EDIT_SEARCH;
        f->search[0] = '\0';
        return TUI_REDRAW;
    case TUI_CMD_SORT_LEFT:
    case TUI_CMD_SORT_RIGHT:
    case TUI_CMD_SORT_INVERT:
        return sort_key(app, f, cmd);
    case TUI_CMD_MARK:
    case TUI_CMD_MARK_ALL:
    case TUI_CMD_UNMARK:
        return mark_key(app, f, cmd);
    case TUI_CMD_START:
    case TUI_CMD_STOP:
    case TUI_CMD_RESTART:
    case TUI_CMD_DELETE:
    case TUI_CMD_CANCEL:
        if (f->ops->action) {
            int flags = act_rows(app, f, cmd);
            if (flags)
                return flags;
        }
        break;
    case TUI_CMD_REDRAW_ALL:
        clearok(curscr, TRUE); /* the next update repaints every cell, whatever was there */
        return TUI_REDRAW;
    case TUI_CMD_PAUSE:
        app->paused = !app->paused;
        tui_app_status(app, 0, app->paused ? "live updates paused: Z resumes" : "live updates on");
        return app->paused ? TUI_REDRAW : TUI_REFRESH;
    default:
        break;
    }
    return run_cmd(app, f, cmd);
}

/* One key through the dispatch and its flags' effects. */
void tui__key_in(tui_app *app, int code, int func)
{
    int flags = handle_key(app, code, func);

    if (flags & TUI_QUIT)
        app->quit = 1;
    if (flags & TUI_REFRESH)
        tui__refresh_data(app, 1);
    if (flags & (TUI_REDRAW | TUI_REFRESH))
        app->dirty = 1;
}
