/* SPDX-License-Identifier: Apache-2.0 */
/* The `:` command line: editing it (cursor, Tab completion), running a command (views,
 * actions, forms, filters) and drawing it; the same line editor asks a view's questions
 * (tui_app_prompt: a file name, a secret). The commands' table is keys.c's. */
#include "config.h"

#include "tui/app_int.h"

#include "tui/draw.h"
#include "tui/keys.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* text into dst of size bytes, cut at a character's start when it is longer. */
static void copy_text(char *dst, size_t size, const char *text)
{
    size_t n = strlen(text);

    if (n >= size) {
        n = size - 1;
        while (n > 0 && (text[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, text, n);
    dst[n] = '\0';
}

/* A positive id from text, 0 when it is not one. */
static int64_t parse_id(const char *text)
{
    char *end;
    long long id;

    errno = 0;
    id = strtoll(text, &end, 10);
    return errno || end == text || *end || id <= 0 ? 0 : (int64_t)id;
}

/* Runs a `:` command line; returns TUI_* flags. What it did or why not is in the status
 * line. */
static int exec_command(tui_app *app, const char *line)
{
    const tui_command *c;
    char arg[192], msg[256];
    tui_frame *f = tui__top(app), proto;
    tui_action act;
    int flags;

    int rc = tui_command_parse(line, app->read_only, &c, arg, sizeof(arg), msg, sizeof(msg));
    if (rc == 1)
        return TUI_REDRAW;
    if (rc < 0) {
        tui_app_status(app, 1, "%s", msg);
        return TUI_REDRAW;
    }
    memset(&proto, 0, sizeof(proto));
    memset(&act, 0, sizeof(act));
    if (tui__view_of(c->cmd)) {
        tui__reset(app, tui__view_of(c->cmd));
        return TUI_REFRESH;
    }
    switch (c->cmd) {
    case TUI_CMD_LOGS:
        if (strcmp(arg, "all") == 0) { /* no job and no run: every service's lines */
            tui_app_push(app, &tui_view_logs, &proto);
            return TUI_REFRESH;
        }
        if (arg[0]) {
            tui_app_status(app, 1, ":logs takes all or nothing, not '%s'", arg);
            return TUI_REDRAW;
        }
        flags = f->ops != &tui_view_logs && f->ops->key ? f->ops->key(app, f, TUI_CMD_LOGS) : 0;
        if (!flags)
            tui_app_status(app, 1, ":logs shows the log of the selected service, run or job%s",
                           f->ops == &tui_view_logs ? ": this is one" : ": select one first");
        return flags | TUI_REDRAW;
    case TUI_CMD_START:
    case TUI_CMD_STOP:
    case TUI_CMD_RESTART:
        if (strlen(arg) > HP_NAME_MAX ||
            (app->model.services && !tui_model_find_service(&app->model, arg))) {
            tui_app_status(app, 1, "no service '%s' (Tab completes commands, not names)", arg);
            return TUI_REDRAW;
        }
        act.kind = c->cmd == TUI_CMD_START  ? TUI_ACT_START
                   : c->cmd == TUI_CMD_STOP ? TUI_ACT_STOP
                                            : TUI_ACT_RESTART;
        copy_text(act.service, sizeof(act.service), arg);
        tui_app_request(app, &act);
        return TUI_REDRAW;
    case TUI_CMD_NEW: { /* a form opens through the view of its objects, never directly */
        const tui_view_ops *owner;
        if (arg[0] && strcmp(arg, "service") != 0 && strcmp(arg, "run") != 0) {
            tui_app_status(app, 1, ":new takes service or run, not '%s'", arg);
            return TUI_REDRAW;
        }
        /* without a kind, the view shown's: runs in Runs, else a service */
        owner = (arg[0] ? strcmp(arg, "run") == 0 : f->ops == &tui_view_runs) ? &tui_view_runs
                                                                              : &tui_view_services;
        return owner->command(app, TUI_CMD_NEW, arg) | TUI_REDRAW;
    }
    case TUI_CMD_EDIT:
        if (strlen(arg) > HP_NAME_MAX) {
            tui_app_status(app, 1, "no service '%.64s...'", arg);
            return TUI_REDRAW;
        }
        return tui_view_services.command(app, TUI_CMD_EDIT, arg) | TUI_REDRAW;
    case TUI_CMD_RERUN:
    case TUI_CMD_OPEN_RUN:
    case TUI_CMD_OPEN_JOB: {
        int64_t id = parse_id(arg);
        if (!id) {
            tui_app_status(app, 1, ":%s takes a number, not '%s'", c->name, arg);
            return TUI_REDRAW;
        }
        if (c->cmd == TUI_CMD_RERUN)
            return tui_view_runs.command(app, TUI_CMD_RERUN, arg) | TUI_REDRAW;
        if (c->cmd == TUI_CMD_OPEN_RUN)
            proto.run_id = id;
        else
            proto.job_id = id;
        tui_app_push(app, c->cmd == TUI_CMD_OPEN_RUN ? &tui_view_jobs : &tui_view_logs, &proto);
        return TUI_REFRESH;
    }
    case TUI_CMD_FILTER:
        if (f->ops == &tui_view_logs) { /* `/` of a log searches */
            copy_text(f->search, sizeof(f->search), arg);
            if (arg[0] && f->ops->key)
                return f->ops->key(app, f, TUI_CMD_SEARCH) | TUI_REDRAW;
            return TUI_REDRAW;
        }
        copy_text(f->filter, sizeof(f->filter), arg);
        f->sel = f->top = 0;
        tui__remap(app, f);
        return TUI_REDRAW;
    case TUI_CMD_WRITE:
    case TUI_CMD_WRITE_FORCE:
    case TUI_CMD_SINCE:
        if (f->ops != &tui_view_logs) {
            tui_app_status(app, 1, ":%s is for a log: open one first (l)", c->name);
            return TUI_REDRAW;
        }
        if (c->cmd == TUI_CMD_SINCE)
            return tui_view_logs_since(app, f, arg) | TUI_REDRAW;
        return tui_view_logs_write(app, f, arg, c->cmd == TUI_CMD_WRITE_FORCE) | TUI_REDRAW;
    case TUI_CMD_QUIT:
        return TUI_QUIT;
    case TUI_CMD_HELP:
        app->help = 1;
        app->help_top = 0;
        return TUI_REDRAW;
    default:
        return TUI_REDRAW;
    }
}

/* The start of the character before byte offset pos of t. */
static size_t char_before(const char *t, size_t pos)
{
    if (pos > 0)
        pos--;
    while (pos > 0 && (t[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

/* The start of the character after the one at byte offset pos of t. */
static size_t char_after(const char *t, size_t pos)
{
    if (t[pos])
        pos++;
    while (t[pos] && (t[pos] & 0xC0) == 0x80)
        pos++;
    return pos;
}

void tui_app_prompt(tui_app *app, const char *label, int hidden, tui_prompt_fn done)
{
    app->editing = EDIT_PROMPT;
    snprintf(app->prompt, sizeof(app->prompt), "%s", label);
    app->prompt_hidden = hidden;
    app->prompt_done = done;
    memset(app->cmdline, 0, sizeof(app->cmdline));
    app->cmd_pos = 0;
    app->cmd_note[0] = '\0';
    app->dirty = 1;
}

/* Enter on a prompt: its function gets the line; a hidden one is wiped after. */
static int prompt_enter(tui_app *app)
{
    char line[sizeof(app->cmdline)];
    tui_prompt_fn done = app->prompt_done;

    memcpy(line, app->cmdline, sizeof(line));
    memset(app->cmdline, 0, sizeof(app->cmdline));
    app->cmd_pos = 0;
    app->editing = 0;
    app->prompt_done = NULL;
    if (done)
        done(app, line);
    explicit_bzero(line, sizeof(line));
    return TUI_HANDLED | TUI_REFRESH;
}

/* A key on the `:` line: text in at the cursor, Left/Right/Home/End move it, Backspace
 * and Delete, Ctrl-U clears, Tab completes the command name, Enter runs, Esc cancels.
 * A prompt edits the same way and hands its line over on Enter. */
int tui__command_key(tui_app *app, int code, int func)
{
    char *t = app->cmdline;
    size_t len = strlen(t), pos = app->cmd_pos;
    int prompt = app->editing == EDIT_PROMPT;

    app->cmd_note[0] = '\0';
    if (prompt && ((!func && (code == '\n' || code == '\r')) || (func && code == KEY_ENTER))) {
        return prompt_enter(app);
    } else if ((!func && (code == '\n' || code == '\r')) || (func && code == KEY_ENTER)) {
        char line[sizeof(app->cmdline)];
        memcpy(line, t, sizeof(line));
        app->editing = 0;
        t[0] = '\0';
        app->cmd_pos = 0;
        return exec_command(app, line) | TUI_REDRAW;
    } else if (!func && code == ESC) {
        if (prompt)
            tui_app_status(app, 0, "cancelled");
        app->editing = 0;
        memset(t, 0, sizeof(app->cmdline));
        pos = 0;
    } else if ((func && code == KEY_BACKSPACE) || (!func && (code == 127 || code == 8))) {
        if (pos == 0 && len == 0 && !prompt) {
            app->editing = 0; /* Backspace on an empty line closes it, as in k9s and vi */
        } else if (pos > 0) {
            size_t from = char_before(t, pos);
            memmove(t + from, t + pos, len - pos + 1);
            pos = from;
        }
    } else if (func && code == KEY_DC) {
        size_t to = char_after(t, pos);
        memmove(t + pos, t + to, len - to + 1);
    } else if (func && code == KEY_LEFT) {
        pos = char_before(t, pos);
    } else if (func && code == KEY_RIGHT) {
        pos = char_after(t, pos);
    } else if ((func && code == KEY_HOME) || (!func && code == CTRL_A)) {
        pos = 0;
    } else if ((func && code == KEY_END) || (!func && code == CTRL_E)) {
        pos = len;
    } else if (!func && code == CTRL_U) {
        t[0] = '\0';
        pos = 0;
    } else if (!func && code == '\t' && !prompt) {
        size_t n = tui_command_complete(t, sizeof(app->cmdline), app->read_only, app->cmd_note,
                                        sizeof(app->cmdline));
        if (n == 0 && !strchr(t, ' '))
            snprintf(app->cmd_note, sizeof(app->cmd_note), "no command starts with '%s'", t);
        else if (n == 1)
            app->cmd_note[0] = '\0';
        pos = strlen(t);
    } else if (!func && code >= ' ' && code != 127) {
        char mb[MB_LEN_MAX];
        mbstate_t st;
        size_t n;
        memset(&st, 0, sizeof(st));
        n = wcrtomb(mb, (wchar_t)code, &st);
        if (n != (size_t)-1 && len + n < sizeof(app->cmdline)) {
            memmove(t + pos + n, t + pos, len - pos + 1);
            memcpy(t + pos, mb, n);
            pos += n;
        }
    }
    app->cmd_pos = pos;
    return TUI_HANDLED | TUI_REDRAW;
}

/* The `:` line at row y: the text with the cursor cell in reverse, then Tab's note. */
void tui__draw_prompt(tui_app *app, int y, int cols)
{
    const char *t = app->cmdline;
    size_t pos = app->cmd_pos, next = pos;
    char before[256], at[8];
    int used;

    if (t[next])
        next++;
    while (t[next] && (t[next] & 0xC0) == 0x80)
        next++;
    wattrset(stdscr, A_BOLD);
    used = tui_put(stdscr, y, 0, cols, app->editing == EDIT_PROMPT ? app->prompt : ":");
    if (app->editing == EDIT_PROMPT && app->prompt_hidden) {
        /* Nothing of a secret is drawn, not its length: only where the typing goes. */
        wattrset(stdscr, A_REVERSE);
        tui_put(stdscr, y, used, cols - used, " ");
        wattrset(stdscr, A_NORMAL);
        return;
    }
    snprintf(before, sizeof(before), "%.*s", (int)pos, t);
    snprintf(at, sizeof(at), "%.*s", (int)(next - pos), t + pos);
    wattrset(stdscr, A_BOLD);
    used += tui_put(stdscr, y, used, cols - used, before);
    wattrset(stdscr, A_REVERSE);
    used += tui_put(stdscr, y, used, cols - used, at[0] ? at : " ");
    wattrset(stdscr, A_BOLD);
    used += tui_put(stdscr, y, used, cols - used, t + next);
    wattrset(stdscr, A_DIM);
    if (app->cmd_note[0] && used + 3 < cols)
        tui_put(stdscr, y, used + 3, cols - used - 3, app->cmd_note);
    wattrset(stdscr, A_NORMAL);
}
