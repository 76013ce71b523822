/* SPDX-License-Identifier: Apache-2.0 */
/* The boxes over the form: Preview (the JSON-RPC request and the equivalent hero_proc
 * command) and, after a refused submit, "Nothing was sent" with every problem; their
 * scrolling keys. */
#include "config.h"

#include "tui/view_form_int.h"

#include "tui/keys.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void open_overlay(form_view *v, form_overlay ov, char *text)
{
    free(v->ov_text);
    v->ov_text = text;
    v->ov = ov;
    v->ov_top = 0;
}

/* cJSON's printed indentation (tabs, which a terminal shows 8 wide) as two blanks, and
 * "key":<tab>value as "key": value. A tab inside a JSON string is printed escaped, so
 * every tab is layout. Caller frees; NULL without memory. */
static char *tidy_json(const char *text)
{
    size_t n = 0;
    char *out;

    for (const char *p = text; *p; p++)
        n += *p == '\t' ? 2 : 1;
    if (!(out = malloc(n + 1)))
        return NULL;
    n = 0;
    for (const char *p = text; *p; p++) {
        if (*p != '\t')
            out[n++] = *p;
        else if (p > text && p[-1] == ':')
            out[n++] = ' ';
        else {
            out[n++] = ' ';
            out[n++] = ' ';
        }
    }
    out[n] = '\0';
    return out;
}

/* The preview of what a submit sends: the method and params, then the hero_proc lines. */
void tui__fv_preview(form_view *v)
{
    const char *method = NULL;
    cJSON *req;
    char *json = NULL, *cmd = NULL, *text = NULL, *raw = NULL;
    int n;

    tui__fv_sync_fields(v);
    if ((n = tui_form_check(&v->form)) != 0) {
        v->all_shown = 1;
        v->want_rebuild = 1;
        tui__fv_note(v, 1, "nothing to preview until %s fixed",
                     n == 1 ? "the problem is" : "the problems are");
        return;
    }
    req = tui_form_request(&v->form, &method);
    json = req ? cJSON_Print(req) : NULL;
    cmd = tui_form_command(&v->form);
    if (json && cmd &&
        asprintf(&raw, "%s (JSON-RPC params):\n%s\n\nThe same with hero_proc:\n%s", method, json,
                 cmd) >= 0) {
        text = tidy_json(raw);
        free(raw);
    }
    cJSON_Delete(req);
    free(json);
    free(cmd);
    if (!text) {
        tui__fv_note(v, 1, "out of memory");
        return;
    }
    /* trailing newline of the command lines: not a line of its own */
    if (text[0] && text[strlen(text) - 1] == '\n')
        text[strlen(text) - 1] = '\0';
    open_overlay(v, OV_PREVIEW, text);
}

/* Every problem as a list, for a refused submit. */
void tui__fv_summary(form_view *v)
{
    size_t cap = 128, len;
    char *text;

    size_t n = 0;

    for (size_t i = 0; i < v->form.n_problems; i++) {
        cap += strlen(v->form.problems[i].text) + 8;
        n += !v->form.problems[i].again; /* a cycle is one problem, on several actions */
    }
    if (!(text = malloc(cap)))
        return;
    len = (size_t)snprintf(text, cap, "%zu problem%s; fix %s and submit again:\n", n,
                           n == 1 ? "" : "s", n == 1 ? "it" : "them");
    for (size_t i = 0; i < v->form.n_problems && len < cap; i++)
        if (!v->form.problems[i].again)
            len += (size_t)snprintf(text + len, cap - len, "\n  - %s", v->form.problems[i].text);
    open_overlay(v, OV_SUMMARY, text);
}

/* Focus on the field of the first problem (selecting its action). */
static void go_to_first_problem(form_view *v)
{
    const tui_form_problem *p = v->form.n_problems ? &v->form.problems[0] : NULL;

    if (!p)
        return;
    if (p->action >= 0 && (size_t)p->action != v->cur) {
        tui__fv_sync_fields(v);
        v->cur = (size_t)p->action;
    }
    tui__fv_rebuild(v, v->built_w, v->view_h + 1 >= 34);
    tui__fv_focus_id(v, p->field < TUI_F_COUNT && p->field != TUI_F_OTHER ? (int)p->field
                                                                          : TUI_F_NAME);
}

/* A centred box with text (lines), scrolled from *top; the title on its border. */
static void draw_box(const char *head, const char *text, int *top, const char *foot)
{
    int lines = 1, rows = LINES, cols = COLS, widest = tui_width(head) + 4;
    const char *p = text;
    int h, w, y, x, page;
    WINDOW *win;

    for (const char *q = text; *q; q++)
        if (*q == '\n')
            lines++;
    while (*p) {
        const char *nl = strchr(p, '\n');
        char one[1024];
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        snprintf(one, sizeof(one), "%.*s", n, p);
        if (tui_width(one) + 4 > widest)
            widest = tui_width(one) + 4;
        p = nl ? nl + 1 : p + n;
    }
    w = widest < cols - 2 ? widest : cols - 2;
    h = lines + 2 < rows - 2 ? lines + 2 : rows - 2;
    if (w < 20 || h < 3)
        return;
    page = h - 2;
    if (*top > lines - page)
        *top = lines - page;
    if (*top < 0)
        *top = 0;
    y = (rows - h) / 2;
    x = (cols - w) / 2;
    if (!(win = newwin(h, w, y, x)))
        return;
    werase(win);
    box(win, 0, 0);
    wattron(win, A_BOLD);
    tui_put(win, 0, 2, w - 4, head);
    wattroff(win, A_BOLD);
    p = text;
    for (int l = 0; *p || l == 0; l++) {
        const char *nl = strchr(p, '\n');
        char one[1024];
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        snprintf(one, sizeof(one), "%.*s", n, p);
        if (l >= *top && l - *top < page)
            tui_put(win, 1 + l - *top, 2, w - 4, one);
        if (!nl)
            break;
        p = nl + 1;
    }
    if (foot)
        tui_put(win, h - 1, w - 2 - tui_width(foot) > 2 ? w - 2 - tui_width(foot) : 2, w - 4, foot);
    wnoutrefresh(win);
    delwin(win);
}

void tui__fv_paint_overlay(form_view *v)
{
    switch (v->ov) {
    case OV_PREVIEW:
        draw_box(" Preview: what will be sent ", v->ov_text ? v->ov_text : "", &v->ov_top,
                 " j/k g/G scroll, other keys close ");
        break;
    case OV_SUMMARY:
        draw_box(" Nothing was sent ", v->ov_text ? v->ov_text : "", &v->ov_top,
                 " any key goes to the first problem ");
        break;
    default:
        break;
    }
}

int tui__fv_overlay_key(tui_app *app, tui_frame *f, int code, int func)
{
    form_view *v = fv_of(f);
    tui_cmd cmd = tui_key_lookup(code, func, TUI_SCOPE_LOGS, 1);

    if (cmd == TUI_CMD_TOP || cmd == TUI_CMD_BOTTOM) {
        v->ov_top = cmd == TUI_CMD_TOP ? 0 : INT_MAX / 2; /* draw_box clamps it */
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (cmd == TUI_CMD_UP || cmd == TUI_CMD_DOWN || cmd == TUI_CMD_PAGE_UP ||
        cmd == TUI_CMD_PAGE_DOWN) {
        v->ov_top += cmd == TUI_CMD_UP        ? -1
                     : cmd == TUI_CMD_DOWN    ? 1
                     : cmd == TUI_CMD_PAGE_UP ? -10
                                              : 10;
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (v->ov == OV_SUMMARY)
        go_to_first_problem(v);
    v->ov = OV_NONE;
    return TUI_HANDLED | TUI_REDRAW;
}
