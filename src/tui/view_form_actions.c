/* SPDX-License-Identifier: Apache-2.0 */
/* The form view's Actions section: the list of actions (a adds, x removes, K/J move, Up/Down
 * select) and the selected action's Depends on (ticks among the other actions' names).
 * The fields of the selected action are laid out by view_form_pad.c. */
#include "config.h"

#include "tui/view_form_int.h"

#include <stdio.h>
#include <string.h>

/* The candidates of action i's Depends on: the other actions' names, then names it
 * depends on that no action has (so they can be unticked). Returns the count. */
static size_t candidates(const form_view *v, size_t i, const char **out, size_t max)
{
    const tui_form *fm = &v->form;
    size_t n = 0;

    for (size_t k = 0; k < fm->n_actions && n < max; k++)
        if (k != i && fm->actions[k].name[0]) {
            int dup = 0;
            for (size_t j = 0; j < n; j++)
                dup |= strcmp(out[j], fm->actions[k].name) == 0;
            if (!dup)
                out[n++] = fm->actions[k].name;
        }
    for (size_t d = 0; i < fm->n_actions && d < fm->actions[i].n_depends_on && n < max; d++) {
        const char *dep = fm->actions[i].depends_on[d];
        int known = 0;
        for (size_t j = 0; j < n; j++)
            known |= strcmp(out[j], dep) == 0;
        if (!known)
            out[n++] = dep;
    }
    return n;
}

void tui__fv_draw_list(form_view *v, const item *it, int focused)
{
    const tui_form *fm = &v->form;

    if (!fm->n_actions) {
        wattrset(v->pad, focused ? A_REVERSE : A_DIM);
        tui_put(v->pad, it->row, it->col, it->width, "none yet: a adds one");
        wattrset(v->pad, A_NORMAL);
        return;
    }
    for (size_t i = 0; i < fm->n_actions; i++) {
        const tui_form_action *a = &fm->actions[i];
        char line[256], deps[160] = "";
        size_t len = 0;
        for (size_t d = 0; d < a->n_depends_on && len < sizeof(deps); d++)
            len += (size_t)snprintf(deps + len, sizeof(deps) - len, "%s%s", d ? ", " : "",
                                    a->depends_on[d]);
        snprintf(line, sizeof(line), "%s %-16s %-8s%s%s", i == v->cur ? ">" : " ",
                 a->name[0] ? a->name : "(no name)", a->is_command ? "command" : "script",
                 a->n_depends_on ? "  after " : "", deps);
        size_t bad = 0;
        int used;
        for (size_t k = 0; k < fm->n_problems; k++)
            bad += fm->problems[k].action == (int)i &&
                   tui__fv_shown(v, (int)i, (int)fm->problems[k].field);
        wattrset(v->pad, i == v->cur ? (focused ? A_REVERSE | A_BOLD : A_BOLD) : A_NORMAL);
        tui_blank(v->pad, it->row + (int)i, it->col, it->width);
        used = tui_put(v->pad, it->row + (int)i, it->col, it->width, line);
        wattrset(v->pad, A_NORMAL);
        if (bad) { /* the problems of an action not shown below are still in sight */
            char what[48];
            snprintf(what, sizeof(what), "  %s %zu problem%s",
                     tui_draw_utf8() ? "\xe2\x9c\x97" : "x", bad, bad == 1 ? "" : "s");
            wattrset(v->pad, tui_attr(TUI_C_RED) | A_BOLD);
            tui_put(v->pad, it->row + (int)i, it->col + used, it->width - used, what);
            wattrset(v->pad, A_NORMAL);
        }
    }
}

int tui__fv_list_key(form_view *v, tui_cmd cmd, int code)
{
    tui_form *fm = &v->form;
    int i;

    switch (cmd) {
    case TUI_CMD_FORM_ADD:
        tui__fv_sync_fields(v);
        if ((i = tui_form_add_action(fm, "")) < 0) {
            tui__fv_note(v, 1, "out of memory");
            return 1;
        }
        v->cur = (size_t)i;
        v->dirty = 1;
        v->want_rebuild = 1;
        tui__fv_rebuild(v, v->built_w, v->view_h + 1 >= 34);
        tui__fv_focus_id(v, TUI_F_A_NAME);
        tui__fv_note(v, 0, "action %d added: name it", i + 1);
        return 1;
    case TUI_CMD_FORM_REMOVE:
        if (!fm->n_actions)
            return 1;
        tui__fv_sync_fields(v);
        tui__fv_note(v, 0, "action '%s' removed", fm->actions[v->cur].name);
        tui_form_remove_action(fm, v->cur);
        v->dirty = 1;
        tui_form_check(fm);
        v->want_rebuild = 1;
        return 1;
    case TUI_CMD_FORM_MOVE_UP:
    case TUI_CMD_FORM_MOVE_DOWN: {
        int delta = cmd == TUI_CMD_FORM_MOVE_UP ? -1 : 1;
        tui__fv_sync_fields(v);
        if (fm->n_actions && tui_form_move_action(fm, v->cur, delta) == 0) {
            v->cur = (size_t)((int)v->cur + delta);
            v->dirty = 1;
            tui_form_check(fm);
            v->want_rebuild = 1;
        }
        return 1;
    }
    case TUI_CMD_UP:
    case TUI_CMD_DOWN:
        if ((cmd == TUI_CMD_UP && v->cur == 0) ||
            (cmd == TUI_CMD_DOWN && v->cur + 1 >= fm->n_actions))
            return 0; /* past the ends: to the field before or after */
        tui__fv_sync_fields(v);
        v->cur += cmd == TUI_CMD_UP ? (size_t)-1 : 1;
        v->want_rebuild = 1;
        return 1;
    default:
        (void)code;
        return 0;
    }
}

void tui__fv_draw_depends(form_view *v, const item *it, int focused)
{
    const char *names[HP_ACTIONS_MAX * 2];
    size_t n = candidates(v, (size_t)it->action, names, sizeof(names) / sizeof(names[0]));
    int x = it->col;

    if (n == 0) {
        wattrset(v->pad, focused ? A_REVERSE : A_DIM);
        tui_put(v->pad, it->row, x, it->width, "no other action to wait for");
        wattrset(v->pad, A_NORMAL);
        return;
    }
    if (v->dep_cursor >= (int)n)
        v->dep_cursor = (int)n - 1;
    for (size_t k = 0; k < n && x < it->col + it->width; k++) {
        char word[96];
        snprintf(word, sizeof(word), "[%c] %s",
                 tui_form_depends(&v->form, (size_t)it->action, names[k]) ? 'x' : ' ', names[k]);
        wattrset(v->pad, focused && (int)k == v->dep_cursor ? A_REVERSE | A_BOLD : A_NORMAL);
        x += tui_put(v->pad, it->row, x, it->width - (x - it->col), word);
        wattrset(v->pad, A_NORMAL);
        x += tui_put(v->pad, it->row, x, it->width - (x - it->col), "  ");
    }
}

int tui__fv_depends_key(form_view *v, const item *it, tui_cmd cmd, int code, int func)
{
    const char *names[HP_ACTIONS_MAX * 2];
    size_t n = candidates(v, (size_t)it->action, names, sizeof(names) / sizeof(names[0]));

    if ((func && code == KEY_LEFT) || (!func && code == 'h')) {
        if (v->dep_cursor > 0)
            v->dep_cursor--;
        return 1;
    }
    if ((func && code == KEY_RIGHT) || (!func && code == 'l')) {
        if (v->dep_cursor + 1 < (int)n)
            v->dep_cursor++;
        return 1;
    }
    if (cmd == TUI_CMD_FORM_TOGGLE || (!func && (code == '\n' || code == '\r')) ||
        (func && code == KEY_ENTER)) {
        if (n && v->dep_cursor < (int)n) {
            char name[HP_NAME_MAX * 4 + 1];
            snprintf(name, sizeof(name), "%s", names[v->dep_cursor]);
            tui_form_toggle_depends(&v->form, (size_t)it->action, name);
            v->dirty = 1;
            tui__fv_leave_item(v);
        }
        return 1;
    }
    return 0;
}
