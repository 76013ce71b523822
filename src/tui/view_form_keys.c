/* SPDX-License-Identifier: Apache-2.0 */
/* The form view's keys: every key of a form frame (typed text, the form's commands, the
 * mouse) sent to the item focused; Ctrl-S submits through the model, Esc closes through
 * the app's public functions. The items' own keys are in their files. */
#include "config.h"

#include "tui/view_form_int.h"

#include "tui/keys.h"

#include <stdio.h>
#include <string.h>

/* Ctrl-S or the submit button: nothing is sent while the form has problems (their summary
 * opens); else the model sends it and the app closes the form with what was done. */
static int submit(tui_app *app, tui_frame *f)
{
    form_view *v = fv_of(f);
    tui_model *m = tui_app_model(app);
    char msg[512], name[HP_NAME_MAX + 1];
    int64_t run_id = 0;
    int rc;

    tui__fv_sync_fields(v);
    if (tui_form_check(&v->form) != 0) {
        v->all_shown = 1;
        v->want_rebuild = 1;
        tui__fv_summary(v);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (tui_app_read_only(app)) {
        tui__fv_note(v, 1, "read-only: nothing is sent");
        return TUI_HANDLED | TUI_REDRAW;
    }
    rc = tui_model_submit(m, &v->form, &run_id, msg, sizeof(msg));
    if (rc != 0) { /* the server said no (it checks as the builders do, so rarely) */
        tui__fv_note(v, 1, "%s", msg);
        return TUI_HANDLED | TUI_REDRAW;
    }
    snprintf(name, sizeof(name), "%s", v->form.name);
    if (v->form.kind == TUI_FORM_SERVICE && v->original && strcmp(v->original, name) != 0) {
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof(msg) - len, " as a new service; '%s' is unchanged", v->original);
    }
    if (v->form.kind == TUI_FORM_SERVICE) {
        tui_app_close(app, name, 0, msg);
    } else {
        tui_app_close(app, NULL, run_id, msg);
    }
    return TUI_HANDLED | TUI_REFRESH;
}

/* Esc, Ctrl-C or Cancel: closes the form, asking first when typed work would be lost. */
static int close_form(tui_app *app, tui_frame *f)
{
    form_view *v = fv_of(f);

    tui__fv_sync_fields(v);
    if (v->dirty) {
        char q[160];
        snprintf(q, sizeof(q), "Discard changes to this %s? They were not %s.",
                 tui_form_kind_word(v->form.kind),
                 v->form.kind == TUI_FORM_SERVICE ? "saved" : "started");
        tui_app_ask_discard(app, q);
        return TUI_HANDLED | TUI_REDRAW;
    }
    tui_app_close(app, NULL, 0, NULL);
    return TUI_HANDLED | TUI_REFRESH;
}

/* A click focuses the field under it (a click in the actions list selects that action
 * too); the wheel moves the focus. */
static int mouse(form_view *v)
{
    MEVENT ev;
    int row;

    if (getmouse(&ev) != OK || v->ov != OV_NONE || !v->posted)
        return TUI_HANDLED;
    if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        int to = v->focus + (ev.bstate & BUTTON4_PRESSED ? -1 : 1);
        tui__fv_focus_item(v, to < 0 ? 0 : to < v->n_items ? to : v->n_items - 1);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (ev.y < v->view_y || ev.y >= v->view_y + v->view_h)
        return TUI_HANDLED;
    row = ev.y - v->view_y + v->scroll;
    for (int i = 0; i < v->n_items; i++) {
        const item *it = &v->items[i];
        if (row < it->row || row >= it->row + it->height ||
            (it->kind == IT_BUTTON && (ev.x < it->col || ev.x >= it->col + it->width)))
            continue;
        tui__fv_focus_item(v, i);
        if (it->kind == IT_LIST && (size_t)(row - it->row) < v->form.n_actions &&
            (size_t)(row - it->row) != v->cur) {
            tui__fv_sync_fields(v);
            v->cur = (size_t)(row - it->row);
            v->want_rebuild = 1;
        }
        return TUI_HANDLED | TUI_REDRAW;
    }
    return TUI_HANDLED;
}

int tui__fv_raw_key(tui_app *app, tui_frame *f, int code, int func)
{
    form_view *v = fv_of(f);
    item *it;
    tui_cmd cmd;
    int text;

    if (func && code == KEY_RESIZE)
        return 0;
    if (func && code == KEY_MOUSE)
        return mouse(v);
    if (v->ov != OV_NONE)
        return tui__fv_overlay_key(app, f, code, func);
    if (!v->fm || v->want_rebuild) {
        tui__fv_rebuild(v, v->built_w ? v->built_w : COLS, v->view_h + 1 >= 34);
    }
    if (!v->fm)
        return close_form(app, f);
    v->note[0] = '\0';
    it = &v->items[v->focus];
    text = tui__fv_is_text(it);
    /* In a text field printable keys are text; elsewhere they may be commands. */
    if (text && !func && code >= ' ' && code != 127) {
        tui__fv_edit_key(v, it, code, func);
        form_driver(v->fm, REQ_VALIDATION);
        return TUI_HANDLED | TUI_REDRAW;
    }
    cmd = tui_key_lookup(code, func, TUI_SCOPE_FORM, 0);
    switch (cmd) {
    case TUI_CMD_HELP:
        return 0; /* the app opens the help */
    case TUI_CMD_FORM_NEXT:
        tui__fv_focus_item(v, v->focus + 1 < v->n_items ? v->focus + 1 : 0);
        return TUI_HANDLED | TUI_REDRAW;
    case TUI_CMD_FORM_PREV:
        tui__fv_focus_item(v, v->focus > 0 ? v->focus - 1 : v->n_items - 1);
        return TUI_HANDLED | TUI_REDRAW;
    case TUI_CMD_FORM_SUBMIT:
        return submit(app, f);
    case TUI_CMD_FORM_PREVIEW:
        tui__fv_preview(v);
        return TUI_HANDLED | TUI_REDRAW;
    case TUI_CMD_FORM_EDITOR:
        tui__fv_edit_external(app, v);
        return TUI_HANDLED | TUI_REDRAW;
    case TUI_CMD_BACK:
        return close_form(app, f);
    default:
        break;
    }
    if (text && tui__fv_edit_key(v, it, code, func)) {
        form_driver(v->fm, REQ_VALIDATION);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (it->kind == IT_LIST && tui__fv_list_key(v, cmd, code))
        return TUI_HANDLED | TUI_REDRAW;
    if (it->kind == IT_DEPENDS && tui__fv_depends_key(v, it, cmd, code, func))
        return TUI_HANDLED | TUI_REDRAW;
    if (it->kind == IT_CHOICE &&
        (cmd == TUI_CMD_FORM_TOGGLE || (func && (code == KEY_LEFT || code == KEY_RIGHT)) ||
         (!func && (code == 'h' || code == 'l')))) {
        tui__fv_cycle_choice(v, it, (func && code == KEY_LEFT) || (!func && code == 'h') ? -1 : 1);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (it->kind == IT_BUTTON && (cmd == TUI_CMD_FORM_TOGGLE || cmd == TUI_CMD_ENTER)) {
        if (it->id == BTN_SUBMIT)
            return submit(app, f);
        if (it->id == BTN_PREVIEW)
            tui__fv_preview(v);
        else
            return close_form(app, f);
        return TUI_HANDLED | TUI_REDRAW;
    }
    /* Enter, Down and Up move between fields where they mean nothing else. */
    if (cmd == TUI_CMD_ENTER || cmd == TUI_CMD_DOWN ||
        (func && code == KEY_RIGHT && it->kind == IT_BUTTON)) {
        tui__fv_focus_item(v, v->focus + 1 < v->n_items ? v->focus + 1 : v->focus);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (cmd == TUI_CMD_UP || (func && code == KEY_LEFT && it->kind == IT_BUTTON)) {
        tui__fv_focus_item(v, v->focus > 0 ? v->focus - 1 : 0);
        return TUI_HANDLED | TUI_REDRAW;
    }
    return TUI_HANDLED;
}
