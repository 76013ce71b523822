/* SPDX-License-Identifier: Apache-2.0 */
/* The form view's pad: the items laid out for a width (labels, fields, problem rows,
 * buttons), formw's fields built from them, the focus and the scroll that follows it, and
 * the check as a field is left. Drawing the items is view_form.c's and the widgets'. */
#include "config.h"

#include "tui/view_form_int.h"

#include <stdlib.h>
#include <string.h>

static item *add_item(form_view *v, item_kind kind, int id, int action, const char *label, int *row,
                      int height, int width)
{
    item *it = &v->items[v->n_items++];

    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->id = id;
    it->action = action;
    it->label = label;
    it->row = *row;
    it->col = LABEL_W;
    it->height = height;
    it->width = width < v->built_w - it->col ? width : v->built_w - it->col;
    if (it->width < 1)
        it->width = 1; /* narrower than the labels: post_form says so and draw tells */
    it->msg_row = -1;
    *row += height;
    if (tui__fv_problem_of(v, it))
        it->msg_row = (*row)++;
    return it;
}

/* The items of the form at width w (the layout only; no fields yet). */
static void layout(form_view *v, int w, int tall)
{
    tui_form *fm = &v->form;
    int row = 0, full = w - LABEL_W - 1, narrow = full < 40 ? full : 40;
    int body_h = tall ? 8 : 4, env_h = tall ? 3 : 2;

    if (full < 8)
        full = narrow = 8;
    v->n_items = 0;
    add_item(v, IT_TEXT, TUI_F_NAME, -1, "Name", &row, 1, narrow)->slot = &fm->name;
    if (fm->kind == TUI_FORM_SERVICE) {
        add_item(v, IT_TEXT, TUI_F_DESCRIPTION, -1, "Description", &row, 1, full)->slot =
            &fm->description;
        add_item(v, IT_CHOICE, TUI_F_WANTED, -1, "Wanted", &row, 1, 24);
        add_item(v, IT_TEXT, TUI_F_REQUIRES, -1, "Requires", &row, 1, full)->slot = &fm->requires;
    }
    add_item(v, IT_LIST, TUI_F_ACTIONS, -1, "Actions", &row, fm->n_actions ? (int)fm->n_actions : 1,
             full);
    if (fm->n_actions) {
        tui_form_action *a = &fm->actions[v->cur];
        int cmd = a->is_command;
        item *it;
        row++; /* the action's heading */
        add_item(v, IT_TEXT, TUI_F_A_NAME, (int)v->cur, "Name", &row, 1, narrow)->slot = &a->name;
        add_item(v, IT_CHOICE, TUI_F_A_KIND, (int)v->cur, "Kind", &row, 1, 24);
        it = add_item(v, cmd ? IT_TEXT : IT_MULTI, TUI_F_A_BODY, (int)v->cur,
                      cmd ? "Command" : "Script", &row, cmd ? 1 : body_h, full);
        it->slot = &a->body;
        it->single_line = cmd;
        if (!cmd)
            add_item(v, IT_TEXT, TUI_F_A_INTERPRETER, (int)v->cur, "Interpreter", &row, 1, narrow)
                ->slot = &a->interpreter;
        add_item(v, IT_TEXT, TUI_F_A_CWD, (int)v->cur, "Cwd", &row, 1, full)->slot = &a->cwd;
        add_item(v, IT_MULTI, TUI_F_A_ENV, (int)v->cur, "Env", &row, env_h, full)->slot = &a->env;
        add_item(v, IT_TEXT, TUI_F_A_TIMEOUT, (int)v->cur, "Timeout (s)", &row, 1, 12)->slot =
            &a->timeout;
        add_item(v, IT_TEXT, TUI_F_A_RETRY, (int)v->cur, "Retry", &row, 1, 12)->slot = &a->retry;
        add_item(v, IT_TEXT, TUI_F_A_RETRY_DELAY, (int)v->cur, "Retry delay", &row, 1, 12)->slot =
            &a->retry_delay;
        add_item(v, IT_CHOICE, TUI_F_A_RESTART, (int)v->cur, "Restart", &row, 1, 44);
        add_item(v, IT_DEPENDS, TUI_F_A_DEPENDS, (int)v->cur, "Depends on", &row, 1, full);
        /* The Probe section: its fields only once a kind is chosen. */
        add_item(v, IT_CHOICE, TUI_F_A_PROBE, (int)v->cur, "Probe", &row, 1, 44);
        if (a->probe != HP_PROBE_NONE) {
            static const char *const target[] = {"", "Probe exec", "Probe tcp", "Probe http"};
            add_item(v, IT_TEXT, TUI_F_A_PROBE_TARGET, (int)v->cur,
                     target[(unsigned)a->probe <= HP_PROBE_HTTP ? a->probe : 0], &row, 1, full)
                ->slot = &a->probe_target;
            add_item(v, IT_TEXT, TUI_F_A_PROBE_INTERVAL, (int)v->cur, "Interval (ms)", &row, 1, 12)
                ->slot = &a->probe_interval;
            add_item(v, IT_TEXT, TUI_F_A_PROBE_TIMEOUT, (int)v->cur, "Timeout (ms)", &row, 1, 12)
                ->slot = &a->probe_timeout;
            add_item(v, IT_TEXT, TUI_F_A_PROBE_RETRIES, (int)v->cur, "Retries", &row, 1, 12)->slot =
                &a->probe_retries;
            add_item(v, IT_TEXT, TUI_F_A_PROBE_GRACE, (int)v->cur, "Grace (ms)", &row, 1, 12)
                ->slot = &a->probe_grace;
            add_item(v, IT_CHOICE, TUI_F_A_ON_UNHEALTHY, (int)v->cur, "On unhealthy", &row, 1, 24);
        }
    }
    row++;
    {
        /* The buttons side by side while they fit, else one under the other. */
        static const int ids[] = {BTN_SUBMIT, BTN_PREVIEW, BTN_CANCEL}, widths[] = {14, 13, 12};
        int x = LABEL_W;
        for (int b = 0; b < 3; b++) {
            item *it;
            if (x > LABEL_W && x + widths[b] > w) {
                row++;
                x = LABEL_W;
            }
            it = add_item(v, IT_BUTTON, ids[b], -1, NULL, &row, 1, widths[b]);
            row--;
            it->col = x;
            it->width = widths[b] < w - x ? widths[b] : w - x > 0 ? w - x : 1;
            x += widths[b] + 2;
        }
    }
    v->rows = row + 1;
}

/* Makes item i formw's current field, the cursor after its text (where typing goes on,
 * also after a resize rebuilt the fields). */
static void set_focus(form_view *v, int i)
{
    v->focus = i;
    if (!v->fm || !v->items[i].field)
        return;
    set_current_field(v->fm, v->items[i].field);
    if (v->items[i].kind == IT_TEXT || v->items[i].kind == IT_MULTI)
        form_driver(v->fm, REQ_END_FIELD);
}

void tui__fv_drop_form(form_view *v)
{
    if (v->fm) {
        unpost_form(v->fm);
        free_form(v->fm);
        v->fm = NULL;
    }
    for (int i = 0; i < v->n_items; i++)
        if (v->items[i].field) {
            free_field(v->items[i].field);
            v->items[i].field = NULL;
        }
    if (v->pad) {
        delwin(v->pad);
        v->pad = NULL;
    }
}

/* Rebuilds the fields and the pad from the form for width w, focus kept on the item with
 * the same id (and action) when there is one. */
void tui__fv_rebuild(form_view *v, int w, int tall)
{
    int keep = v->n_items ? v->items[v->focus].id : TUI_F_NAME;
    int n = 0;

    tui__fv_sync_fields(v);
    tui__fv_drop_form(v);
    if (v->cur >= v->form.n_actions)
        v->cur = v->form.n_actions ? v->form.n_actions - 1 : 0;
    v->built_w = w;
    layout(v, w, tall);
    v->want_rebuild = 0;
    v->focus = 0;
    for (int i = 0; i < v->n_items; i++)
        if (v->items[i].id == keep)
            v->focus = i;
    for (int i = 0; i < v->n_items; i++) {
        item *it = &v->items[i];
        FIELD *fl = new_field(it->height, it->width, it->row, it->col, 0, 0);
        if (!fl)
            continue;
        it->field = fl;
        field_opts_off(fl, O_AUTOSKIP | O_BLANK | O_STATIC);
        if (it->kind == IT_TEXT || it->kind == IT_MULTI) {
            tui__fv_fill_field(it);
        } else {
            field_opts_off(fl, O_EDIT);
            set_field_back(fl, A_NORMAL);
        }
        if (it->kind == IT_MULTI)
            field_opts_off(fl, O_WRAP);
        v->fields[n++] = fl;
    }
    v->fields[n] = NULL;
    v->pad = newpad(v->rows > 1 ? v->rows : 1, w > 1 ? w : 1);
    v->fm = new_form(v->fields);
    if (!v->pad || !v->fm)
        return;
    set_form_win(v->fm, v->pad);
    set_form_sub(v->fm, v->pad);
    v->posted = post_form(v->fm) == E_OK;
    set_focus(v, v->focus);
}

/* The focused item was left: what it held is checked from now on. */
void tui__fv_leave_item(form_view *v)
{
    const item *it = &v->items[v->focus];
    unsigned bit = it->id < TUI_F_COUNT ? 1u << it->id : 0;

    tui__fv_sync_fields(v);
    if (it->action < 0)
        v->form.touched |= bit;
    else if ((size_t)it->action < v->form.n_actions)
        v->form.actions[it->action].touched |= bit;
    tui_form_check(&v->form);
    v->want_rebuild = 1; /* message rows come and go */
}

void tui__fv_focus_item(form_view *v, int i)
{
    if (i < 0 || i >= v->n_items || i == v->focus)
        return;
    tui__fv_leave_item(v);
    v->dep_cursor = 0;
    set_focus(v, i);
}

/* Focus on the item with id (and the current action), after a rebuild. */
void tui__fv_focus_id(form_view *v, int id)
{
    for (int i = 0; i < v->n_items; i++)
        if (v->items[i].id == id) {
            set_focus(v, i);
            return;
        }
}

/* The scroll that shows the focused item and its problem. */
void tui__fv_follow_focus(form_view *v, int h)
{
    const item *it = &v->items[v->focus];
    int first = it->row, last = it->msg_row >= 0 ? it->msg_row : it->row + it->height - 1;

    if (v->fm && (it->kind == IT_MULTI || it->kind == IT_TEXT))
        first = last = it->row + (v->fm->currow < it->height ? v->fm->currow : 0);
    if (it->kind == IT_MULTI && it->msg_row >= 0)
        last = it->msg_row;
    if (first < v->scroll)
        v->scroll = first > 1 ? first - 1 : 0;
    if (last >= v->scroll + h)
        v->scroll = last - h + 1;
    if (v->scroll > v->rows - h)
        v->scroll = v->rows - h;
    if (v->scroll < 0)
        v->scroll = 0;
}
