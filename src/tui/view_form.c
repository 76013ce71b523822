/* SPDX-License-Identifier: Apache-2.0 */
/* The form view: "New service", "Edit service", "New run" and "Rerun" as an ncurses form
 * (formw) on a pad that scrolls with the focus. This file holds the ops table, opening and
 * leaving a form frame and drawing it; the pieces are view_form_*.c (view_form_int.h).
 * The data is a tui_form (form.c): text is copied between it and the fields when a field
 * is left, the layout is rebuilt from it when actions, the selected action, the kind or
 * the problems change, and on resize. The builders check it as each field is left;
 * nothing is sent while it has problems. */
#include "config.h"

#include "tui/view_form_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void title(const tui_frame *f, char *buf, size_t size)
{
    snprintf(buf, size, "%s", ((const form_view *)f->state)->title);
}

/* Save or Start run, Preview, Cancel. */
static void draw_button(form_view *v, const item *it, int focused)
{
    const char *text = it->id == BTN_SUBMIT
                           ? (v->form.kind == TUI_FORM_SERVICE ? "[ Save ]" : "[ Start run ]")
                       : it->id == BTN_PREVIEW ? "[ Preview ]"
                                               : "[ Cancel ]";

    wattrset(v->pad, focused ? A_REVERSE | A_BOLD : A_BOLD);
    tui_put(v->pad, it->row, it->col, it->width, text);
    wattrset(v->pad, A_NORMAL);
}

/* Labels, the view-drawn items and the problems, onto the pad around formw's fields. */
static void paint_pad(tui_app *app, form_view *v)
{
    const tui_form *fm = &v->form;
    int w = v->built_w;

    (void)app;
    for (int i = 0; i < v->n_items; i++) {
        const item *it = &v->items[i];
        const tui_form_problem *p = tui__fv_problem_of(v, it);
        int focused = i == v->focus;
        if (it->label) {
            wattrset(v->pad, focused ? A_BOLD : A_NORMAL);
            if (p)
                wattron(v->pad, tui_attr(TUI_C_RED));
            tui_blank(v->pad, it->row, 0, LABEL_W);
            tui_put(v->pad, it->row, 0, 1, focused ? ">" : " ");
            tui_put(v->pad, it->row, 2, LABEL_W - 3, it->label);
            wattrset(v->pad, A_DIM);
            for (int r = 1; r < it->height; r++)
                tui_blank(v->pad, it->row + r, 0, LABEL_W);
            if (it->kind == IT_MULTI && it->height > 1)
                tui_put(v->pad, it->row + 1, 2, LABEL_W - 3, "Ctrl-E edit");
            wattrset(v->pad, A_NORMAL);
        }
        switch (it->kind) {
        case IT_CHOICE:
            tui_blank(v->pad, it->row, it->col, w - it->col);
            tui__fv_draw_choice(v, it, focused);
            break;
        case IT_LIST:
            tui__fv_draw_list(v, it, focused);
            break;
        case IT_DEPENDS:
            tui_blank(v->pad, it->row, it->col, w - it->col);
            tui__fv_draw_depends(v, it, focused);
            break;
        case IT_BUTTON:
            draw_button(v, it, focused);
            break;
        default:
            break;
        }
        if (it->msg_row >= 0) {
            char text[512];
            tui_blank(v->pad, it->msg_row, 0, w);
            if (p) {
                snprintf(text, sizeof(text), "%s %s", tui_draw_utf8() ? "\xe2\x86\xb3" : "^",
                         p->shown);
                wattrset(v->pad, tui_attr(TUI_C_RED) | A_BOLD);
                tui_put(v->pad, it->msg_row, it->col, w - it->col, text);
                wattrset(v->pad, A_NORMAL);
            }
        }
    }
    if (fm->n_actions) {
        /* The heading of the action section: the row before the action's Name. */
        for (int i = 0; i < v->n_items; i++)
            if (v->items[i].id == TUI_F_A_NAME) {
                char head[160];
                int y = v->items[i].row - 1;
                snprintf(head, sizeof(head), " Action %zu of %zu: %s ", v->cur + 1, fm->n_actions,
                         fm->actions[v->cur].name[0] ? fm->actions[v->cur].name : "(no name)");
                wattrset(v->pad, A_BOLD);
                tui_blank(v->pad, y, 0, w);
                mvwhline(v->pad, y, 0, ACS_HLINE, w);
                tui_put(v->pad, y, 2, w - 4, head);
                wattrset(v->pad, A_NORMAL);
                break;
            }
    }
}

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    form_view *v = fv_of(f);
    char line[512];

    if (h < 2)
        return;
    if (width != v->built_w || v->want_rebuild || !v->fm || h != v->view_h + 1)
        tui__fv_rebuild(v, width, h >= 34);
    v->view_y = y;
    v->view_x = x;
    v->view_w = width;
    v->view_h = h - 1; /* the last row is the form's message line */
    if (!v->pad)
        return;
    if (!v->posted) { /* what was typed is kept in the form for a wider terminal */
        wattrset(w, tui_attr(TUI_C_RED) | A_BOLD);
        tui_put(w, y, x + 1, width - 1, "too narrow for the form: make the terminal wider");
        wattrset(w, A_NORMAL);
        return;
    }
    paint_pad(app, v);
    tui__fv_follow_focus(v, v->view_h);
    /* The message line: the note, else the focused field's problem, else what to do. */
    wattrset(w, tui__fv_message(v, line, sizeof(line)) ? tui_attr(TUI_C_RED) | A_BOLD : A_DIM);
    tui_blank(w, y + h - 1, x, width);
    tui_put(w, y + h - 1, x + 1, width - 1, line);
    wattrset(w, A_NORMAL);
}

static void paint(tui_app *app, tui_frame *f)
{
    form_view *v = fv_of(f);
    const item *it;

    (void)app;
    if (!v->pad || !v->posted) {
        curs_set(0);
        return;
    }
    pos_form_cursor(v->fm);
    touchwin(v->pad); /* stdscr was drawn over the whole view: the pad goes on top again */
    pnoutrefresh(v->pad, v->scroll, 0, v->view_y, v->view_x, v->view_y + v->view_h - 1,
                 v->view_x + v->view_w - 1);
    it = &v->items[v->focus];
    curs_set(v->ov == OV_NONE && (it->kind == IT_TEXT || it->kind == IT_MULTI) && !it->read_only);
    tui__fv_paint_overlay(v);
}

static int update(tui_app *app, tui_frame *f, int force)
{
    tui_model *m = tui_app_model(app);

    (void)f;
    (void)force;
    /* Nothing to fetch (the form is the person's), but a lost server is retried with
     * the usual backoff so the banner goes when it is back. */
    if (!m->connected && m->calls > 0 && tui_model_ready(m))
        tui_model_ping(m);
    return 0;
}

static size_t rows(tui_app *app, const tui_frame *f)
{
    (void)app;
    (void)f;
    return 0;
}

static void leave(tui_frame *f)
{
    form_view *v = f->state;

    if (!v)
        return;
    tui__fv_drop_form(v);
    tui_form_free(&v->form);
    free(v->ov_text);
    free(v->original);
    free(v);
    f->state = NULL;
    curs_set(0);
}

const tui_view_ops tui_view_form = {
    .name = "Form",
    .scope = TUI_SCOPE_FORM,
    .title = title,
    .update = update,
    .rows = rows,
    .draw = draw,
    .raw_key = tui__fv_raw_key,
    .paint = paint,
    .leave = leave,
};

tui_frame *tui_form_open(tui_app *app, tui_form *form, int edit)
{
    form_view *v = calloc(1, sizeof(*v));
    tui_frame *f;

    if (!v) {
        tui_form_free(form);
        tui_app_status(app, 1, "out of memory");
        return NULL;
    }
    v->form = *form;
    memset(form, 0, sizeof(*form));
    v->edit = edit;
    if (edit && v->form.kind == TUI_FORM_SERVICE)
        v->original = strdup(v->form.name); /* NULL without memory: no note, nothing else */
    if (v->form.kind == TUI_FORM_SERVICE && edit)
        snprintf(v->title, sizeof(v->title), "Edit service %s", v->form.name);
    else if (v->form.kind == TUI_FORM_SERVICE)
        snprintf(v->title, sizeof(v->title), "New service");
    else if (edit)
        snprintf(v->title, sizeof(v->title), "Rerun %s", v->form.name);
    else
        snprintf(v->title, sizeof(v->title), "New run");
    v->want_rebuild = 1;
    tui_form_check(&v->form);
    f = tui_app_push(app, &tui_view_form, NULL);
    f->state = v;
    tui_app_status(app, 0, "%s", ""); /* what the view below said is not about the form */
    return f;
}

void tui_form_show_problems(tui_frame *f)
{
    form_view *v = fv_of(f);

    v->all_shown = 1;
    tui_form_check(&v->form);
    v->want_rebuild = 1;
}

int tui_form_new(tui_app *app, int run)
{
    tui_form form;

    if (tui_form_init(&form, run ? TUI_FORM_RUN : TUI_FORM_SERVICE) != 0 ||
        tui_form_add_action(&form, "") < 0) {
        tui_form_free(&form);
        tui_app_status(app, 1, "out of memory");
        return TUI_HANDLED | TUI_REDRAW;
    }
    form.wanted_start = !run; /* a service made here is most often meant to run */
    tui_form_open(app, &form, 0);
    return TUI_HANDLED | TUI_REDRAW;
}

int tui_form_edit_service(tui_app *app, const char *name)
{
    hp_service_record *rec = NULL;
    tui_form form;
    char msg[512];

    if (tui_model_service_config(tui_app_model(app), name, &rec, msg, sizeof(msg)) != 0) {
        tui_app_status(app, 1, "%s", msg);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (tui_form_from_service(&form, &rec->config) != 0) {
        tui_form_free(&form);
        tui_app_status(app, 1, "out of memory");
    } else {
        tui_form_open(app, &form, 1);
    }
    hp_service_record_free(rec);
    return TUI_HANDLED | TUI_REDRAW;
}

int tui_form_rerun(tui_app *app, int64_t run_id)
{
    hp_run *run = NULL;
    tui_form form;
    char msg[512];

    if (tui_model_run(tui_app_model(app), run_id, &run, msg, sizeof(msg)) != 0) {
        tui_app_status(app, 1, "%s", msg);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (!run->n_actions) {
        tui_app_status(app, 1, "run %lld: the server did not say what its actions were",
                       (long long)run_id);
    } else if (tui_form_from_run(&form, run->name, run->actions, run->n_actions) != 0) {
        tui_form_free(&form);
        tui_app_status(app, 1, "out of memory");
    } else {
        tui_form_open(app, &form, 1); /* edit: a rerun, titled with the run's name */
    }
    hp_run_free(run);
    return TUI_HANDLED | TUI_REDRAW;
}

const tui_form *tui_form_of(tui_frame *f)
{
    form_view *v = fv_of(f);

    tui__fv_sync_fields(v);
    return &v->form;
}
