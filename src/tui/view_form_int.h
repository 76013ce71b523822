/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the pieces of the form view (view_form.c and view_form_*.c): the view's state,
 * its layout items and what the pieces share. Nothing else includes it; the app knows the
 * form view only by its ops table (tui_view_form) and the functions of tui.h. */
#ifndef TUI_VIEW_FORM_INT_H
#define TUI_VIEW_FORM_INT_H

#include "tui/draw.h"
#include "tui/form.h"
#include "tui/tui.h"

#include <form.h>
#include <stddef.h>

enum { LABEL_W = 14, MAX_ITEMS = 40, ESC = 27, CTRL_K = 11, CTRL_U = 21 };

/* What an item of the layout is: formw edits the text ones; the others are focusable
 * placeholders the view draws itself. */
typedef enum item_kind { IT_TEXT, IT_MULTI, IT_CHOICE, IT_LIST, IT_DEPENDS, IT_BUTTON } item_kind;

/* The buttons, after the fields. */
enum { BTN_SUBMIT = TUI_F_COUNT, BTN_PREVIEW, BTN_CANCEL };

typedef struct item {
    item_kind kind;
    int id;     /* a tui_field, or BTN_* */
    int action; /* -1 for the form's own fields */
    const char *label;
    int row, col, height, width;
    int msg_row;     /* the row of its problem, -1 when none is shown */
    char **slot;     /* text items: the form's string */
    int read_only;   /* text the field cannot show as it is: $EDITOR only */
    int single_line; /* a command shown on one line (newlines read as blanks) */
    FIELD *field;
} item;

typedef enum form_overlay { OV_NONE, OV_PREVIEW, OV_SUMMARY } form_overlay;

typedef struct form_view {
    tui_form form;
    int edit;              /* editing a service that exists (the title says so) */
    char title[96];        /* breadcrumb */
    char *original;        /* the name of the service edited (a new name saves a new one) */
    size_t cur;            /* the selected action */
    int dirty;             /* changed since it was opened */
    int all_shown;         /* after a refused submit: every problem is shown */
    int focus;             /* the focused item */
    int dep_cursor;        /* the candidate under the cursor in Depends on */
    int want_rebuild;      /* the layout is out of date */
    item items[MAX_ITEMS]; /* the layout */
    int n_items;
    int rows; /* the pad's rows */
    FIELD *fields[MAX_ITEMS + 1];
    FORM *fm;
    WINDOW *pad;
    int view_y, view_x, view_h, view_w; /* where the pad is shown, from the last draw */
    int built_w;                        /* the width it was built for */
    int posted;                         /* formw could place every field at that width */
    int scroll;                         /* the pad's first row shown */
    form_overlay ov;
    int ov_top; /* the first line of the preview or summary shown */
    char *ov_text;
    char note[256]; /* the form's own message line */
    int note_error;
} form_view;

static inline form_view *fv_of(tui_frame *f)
{
    return f->state;
}

/* view_form_fields.c: text between the form and formw's fields. */
/* Copies what was typed into the form (only fields the person changed, so a text the
 * field could not show is never replaced by what it showed). Returns 1 when something
 * changed. */
int tui__fv_sync_fields(form_view *v);
/* A new text field it->field gets its item's text (read-only and dimmed when the field
 * cannot show it as it is). */
void tui__fv_fill_field(item *it);
/* 1 for a text item that can be typed into. */
int tui__fv_is_text(const item *it);
/* A key for formw, from the form's editing keys. Returns 1 when taken. */
int tui__fv_edit_key(form_view *v, const item *it, int code, int func);

/* view_form_problems.c: the problems shown, the message line. */
/* 1 when the problems of field id (of action, -1 the form's own) are shown. */
int tui__fv_shown(const form_view *v, int action, int id);
/* The problem shown under it, NULL when none. */
const tui_form_problem *tui__fv_problem_of(const form_view *v, const item *it);
/* The form's own message (printf-style), shown in the message line until the next key. */
void tui__fv_note(form_view *v, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The message line into line; returns 1 when it is a problem (shown in red). */
int tui__fv_message(const form_view *v, char *line, size_t size);

/* view_form_pad.c: the layout, formw's fields, the focus. */
/* Rebuilds the fields and the pad from the form for width w, focus kept on the item with
 * the same id (and action) when there is one. */
void tui__fv_rebuild(form_view *v, int w, int tall);
/* Frees the fields, formw's form and the pad. */
void tui__fv_drop_form(form_view *v);
/* The focused item was left: what it held is checked from now on. */
void tui__fv_leave_item(form_view *v);
/* Focus on item i (the item left is checked). */
void tui__fv_focus_item(form_view *v, int i);
/* Focus on the item with id (and the current action), after a rebuild. */
void tui__fv_focus_id(form_view *v, int id);
/* The scroll that shows the focused item and its problem in h rows. */
void tui__fv_follow_focus(form_view *v, int h);

/* view_form_choices.c: Wanted, Kind, Restart. */
void tui__fv_draw_choice(form_view *v, const item *it, int focused);
/* Moves the choice by delta (-1, 1). */
void tui__fv_cycle_choice(form_view *v, const item *it, int delta);

/* view_form_actions.c: the Actions list and Depends on; the keys return 1 when taken. */
void tui__fv_draw_list(form_view *v, const item *it, int focused);
int tui__fv_list_key(form_view *v, tui_cmd cmd, int code);
void tui__fv_draw_depends(form_view *v, const item *it, int focused);
int tui__fv_depends_key(form_view *v, const item *it, tui_cmd cmd, int code, int func);

/* view_form_overlay.c: the Preview and the summary of a refused submit. */
/* Opens the preview of what a submit sends (or says why not in the note). */
void tui__fv_preview(form_view *v);
/* Opens every problem as a list, for a refused submit. */
void tui__fv_summary(form_view *v);
/* A key while a box is open: scrolls it, or closes it (the summary then focuses the first
 * problem's field). TUI_* flags. */
int tui__fv_overlay_key(tui_app *app, tui_frame *f, int code, int func);
/* Draws the box open over the form, if any. */
void tui__fv_paint_overlay(form_view *v);

/* view_form_editor.c: Ctrl-E. */
void tui__fv_edit_external(tui_app *app, form_view *v);

/* view_form_keys.c: every key of a form frame (the ops table's raw_key). */
int tui__fv_raw_key(tui_app *app, tui_frame *f, int code, int func);

#endif
