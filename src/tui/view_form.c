/* The form view: "New service", "Edit service", "New run" and "Rerun" as an ncurses form
 * (formw) on a pad that scrolls with the focus. The data is a tui_form (form.c): text is
 * copied between it and the fields when a field is left, the layout is rebuilt from it
 * when actions, the selected action, the kind or the problems change, and on resize.
 * The builders check it as each field is left; nothing is sent while it has problems. */
#include "config.h"

#include "tui/draw.h"
#include "tui/form.h"
#include "tui/keys.h"
#include "tui/tui.h"

#include <errno.h>
#include <fcntl.h>
#include <form.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

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

static form_view *fv_of(tui_frame *f)
{
    return f->state;
}

/* ---- text between the form and the fields ------------------------------------------------ */

/* 1 when text can be shown in a field cols wide as it is (lines of printable characters
 * shorter than the field, no trailing blanks that would be lost), else 0. */
static int representable(const char *text, int cols, int multi)
{
    mbstate_t st;
    const char *p = text;
    int width = 0;

    memset(&st, 0, sizeof(st));
    while (*p) {
        wchar_t wc;
        size_t n;
        if (*p == '\n') {
            if (!multi || (p > text && p[-1] == ' '))
                return 0;
            width = 0;
            p++;
            continue;
        }
        n = mbrtowc(&wc, p, strlen(p), &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0 || !iswprint((wint_t)wc) ||
            wcwidth(wc) != 1)
            return 0; /* formw counts one cell per character: wide ones are not safe */
        width++;
        if (multi && width >= cols)
            return 0;
        p += n;
    }
    return !multi || p == text || p[-1] != ' ';
}

/* The text of a multi-line field: its rows (cols characters each) cut of trailing blanks,
 * joined by '\n', blank rows at the end dropped. Caller frees; NULL without memory. */
static char *rows_text(const char *buf, int cols)
{
    size_t n = mbstowcs(NULL, buf, 0), len = 0, w = 0;
    wchar_t *wide;
    char *out;

    if (n == (size_t)-1 || cols <= 0)
        return strdup("");
    wide = calloc(n + 1, sizeof(*wide));
    out = malloc(n * MB_LEN_MAX + n / (size_t)cols + 2);
    if (!wide || !out) {
        free(wide);
        free(out);
        return NULL;
    }
    mbstowcs(wide, buf, n + 1);
    for (size_t row = 0; row * (size_t)cols < n; row++) {
        size_t from = row * (size_t)cols, to = from + (size_t)cols;
        if (to > n)
            to = n;
        while (to > from && wide[to - 1] == L' ')
            to--;
        if (row)
            out[len++] = '\n';
        for (size_t i = from; i < to; i++) {
            mbstate_t st;
            memset(&st, 0, sizeof(st));
            w = wcrtomb(out + len, wide[i], &st);
            if (w != (size_t)-1)
                len += w;
        }
    }
    while (len > 0 && out[len - 1] == '\n')
        len--;
    out[len] = '\0';
    free(wide);
    return out;
}

/* text laid out as rows of cols characters (each line padded with blanks) for
 * set_field_buffer. Caller frees. */
static char *text_rows(const char *text, int cols)
{
    size_t lines = 1, cap, len = 0;
    char *out;
    const char *p = text;

    for (const char *q = text; *q; q++)
        lines += *q == '\n';
    cap = strlen(text) + lines * (size_t)cols + 1;
    if (!(out = malloc(cap)))
        return NULL;
    while (1) {
        const char *end = strchr(p, '\n');
        size_t bytes = end ? (size_t)(end - p) : strlen(p);
        size_t chars;
        char line[4096];
        if (bytes >= sizeof(line))
            bytes = sizeof(line) - 1;
        memcpy(line, p, bytes);
        line[bytes] = '\0';
        chars = mbstowcs(NULL, line, 0);
        if (chars == (size_t)-1)
            chars = bytes;
        memcpy(out + len, line, bytes);
        len += bytes;
        if (end)
            for (size_t i = chars; i < (size_t)cols; i++)
                out[len++] = ' ';
        if (!end)
            break;
        p = end + 1;
    }
    out[len] = '\0';
    return out;
}

/* The text shown by a field whose text cannot be edited in place: the first line, with
 * how to edit it. */
static void read_only_text(const char *text, char *buf, size_t size)
{
    const char *nl = strchr(text, '\n');
    int n = nl ? (int)(nl - text) : (int)strlen(text);

    snprintf(buf, size, "%.*s%s", n > 40 ? 40 : n, text, nl || n > 40 ? " ..." : "");
}

/* The string of a text item as its field has it now. Caller frees. */
static char *field_text(const item *it)
{
    const char *buf = field_buffer(it->field, 0);
    int rows, cols, max;
    char *text;

    if (!buf)
        return strdup("");
    if (dynamic_field_info(it->field, &rows, &cols, &max) != E_OK)
        cols = it->width;
    if (it->kind == IT_MULTI)
        return rows_text(buf, cols);
    text = strdup(buf);
    if (text) {
        size_t n = strlen(text);
        while (n > 0 && text[n - 1] == ' ')
            text[--n] = '\0';
        if (it->id == TUI_F_NAME || it->id == TUI_F_A_NAME || it->id == TUI_F_A_TIMEOUT ||
            it->id == TUI_F_A_RETRY || it->id == TUI_F_A_RETRY_DELAY) {
            size_t lead = strspn(text, " ");
            memmove(text, text + lead, strlen(text + lead) + 1);
        }
    }
    return text;
}

/* Copies what was typed into the form (only fields the person changed, so a text the
 * field could not show is never replaced by what it showed). Returns 1 when something
 * changed. */
static int sync_fields(form_view *v)
{
    int changed = 0;

    if (!v->fm)
        return 0;
    form_driver(v->fm, REQ_VALIDATION); /* the window's edits into the field's buffer */
    for (int i = 0; i < v->n_items; i++) {
        item *it = &v->items[i];
        char *text;
        if ((it->kind != IT_TEXT && it->kind != IT_MULTI) || it->read_only ||
            !field_status(it->field))
            continue;
        text = field_text(it);
        if (!text)
            continue;
        if (strcmp(text, *it->slot) != 0) {
            if (it->id == TUI_F_A_NAME)
                tui_form_rename_action(&v->form, (size_t)it->action, text);
            else
                tui_form_set(it->slot, text);
            changed = 1;
        }
        free(text);
        set_field_status(it->field, FALSE);
    }
    v->dirty |= changed;
    return changed;
}

/* ---- layout ---------------------------------------------------------------------------------- */

static const char *const choice_words[][3] = {
    [TUI_F_WANTED] = {"start", "stop", NULL},
    [TUI_F_A_KIND] = {"script", "command", NULL},
    [TUI_F_A_RESTART] = {"never", "on_failure", "always"},
};

static int shown(const form_view *v, int action, int id)
{
    unsigned touched = action < 0 ? v->form.touched : v->form.actions[action].touched;

    return v->all_shown || (touched & (1u << id));
}

static const tui_form_problem *problem_of(const form_view *v, const item *it)
{
    if (it->id >= TUI_F_COUNT || !shown(v, it->action, it->id))
        return NULL;
    return tui_form_problem_at(&v->form, it->action, (tui_field)it->id);
}

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
    if (problem_of(v, it))
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

static void drop_form(form_view *v)
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
static void rebuild(form_view *v, int w, int tall)
{
    int keep = v->n_items ? v->items[v->focus].id : TUI_F_NAME;
    int n = 0;

    sync_fields(v);
    drop_form(v);
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
            const char *text = *it->slot;
            set_max_field(fl, 0);
            set_field_back(fl, A_UNDERLINE);
            it->read_only = !representable(text, it->width, it->kind == IT_MULTI);
            if (it->read_only) {
                char shown[128];
                read_only_text(text, shown, sizeof(shown));
                field_opts_off(fl, O_EDIT);
                set_field_back(fl, A_DIM); /* not underlined: nothing to type into */
                set_field_buffer(fl, 0, shown);
            } else if (it->kind == IT_MULTI) {
                char *laid = text_rows(text, it->width);
                set_field_buffer(fl, 0, laid ? laid : "");
                free(laid);
            } else {
                set_field_buffer(fl, 0, text);
            }
            set_field_status(fl, FALSE);
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

/* ---- checking ------------------------------------------------------------------------------ */

/* The focused item was left: what it held is checked from now on. */
static void leave_item(form_view *v)
{
    const item *it = &v->items[v->focus];
    unsigned bit = it->id < TUI_F_COUNT ? 1u << it->id : 0;

    sync_fields(v);
    if (it->action < 0)
        v->form.touched |= bit;
    else if ((size_t)it->action < v->form.n_actions)
        v->form.actions[it->action].touched |= bit;
    tui_form_check(&v->form);
    v->want_rebuild = 1; /* message rows come and go */
}

static void focus_item(form_view *v, int i)
{
    if (i < 0 || i >= v->n_items || i == v->focus)
        return;
    leave_item(v);
    v->dep_cursor = 0;
    set_focus(v, i);
}

/* Focus on the item with id (and the current action), after a rebuild. */
static void focus_id(form_view *v, int id)
{
    for (int i = 0; i < v->n_items; i++)
        if (v->items[i].id == id) {
            set_focus(v, i);
            return;
        }
}

static void set_note(form_view *v, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_note(form_view *v, int error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v->note, sizeof(v->note), fmt, ap);
    va_end(ap);
    v->note_error = error;
}

/* ---- drawing ----------------------------------------------------------------------------- */

static void title(const tui_frame *f, char *buf, size_t size)
{
    snprintf(buf, size, "%s", ((const form_view *)f->state)->title);
}

static int choice_index(const form_view *v, const item *it)
{
    const tui_form_action *a;

    if (it->id == TUI_F_WANTED || it->action < 0)
        return v->form.wanted_start ? 0 : 1;
    a = &v->form.actions[it->action];
    return it->id == TUI_F_A_KIND ? a->is_command : (int)a->restart;
}

/* The choices of it: restart 'always' is for services, and shown in a run only while an
 * action has it (a rerun of a service's run), so the builder's refusal can be seen and
 * the choice changed. */
static int n_choices(const form_view *v, const item *it)
{
    if (it->id != TUI_F_A_RESTART)
        return 2;
    return v->form.kind == TUI_FORM_SERVICE ||
                   v->form.actions[it->action].restart == HP_RESTART_ALWAYS
               ? 3
               : 2;
}

static void draw_choice(form_view *v, const item *it, int focused)
{
    int x = it->col, n = n_choices(v, it);
    int sel = choice_index(v, it);

    for (int k = 0; k < n; k++) {
        char word[32];
        snprintf(word, sizeof(word), k == sel ? "(*) %s" : "( ) %s", choice_words[it->id][k]);
        wattrset(v->pad, k == sel && focused ? A_REVERSE | A_BOLD : k == sel ? A_BOLD : A_NORMAL);
        x += tui_put(v->pad, it->row, x, it->width - (x - it->col), word);
        wattrset(v->pad, A_NORMAL);
        x += tui_put(v->pad, it->row, x, it->width - (x - it->col), "  ");
    }
}

static void draw_list(form_view *v, const item *it, int focused)
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
            bad += fm->problems[k].action == (int)i && shown(v, (int)i, (int)fm->problems[k].field);
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

static void draw_depends(form_view *v, const item *it, int focused)
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
        const tui_form_problem *p = problem_of(v, it);
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
            draw_choice(v, it, focused);
            break;
        case IT_LIST:
            draw_list(v, it, focused);
            break;
        case IT_DEPENDS:
            tui_blank(v->pad, it->row, it->col, w - it->col);
            draw_depends(v, it, focused);
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

/* The scroll that shows the focused item and its problem. */
static void follow_focus(form_view *v, int h)
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

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    form_view *v = fv_of(f);
    char line[512];
    const item *it;
    const tui_form_problem *p;

    if (h < 2)
        return;
    if (width != v->built_w || v->want_rebuild || !v->fm || h != v->view_h + 1)
        rebuild(v, width, h >= 34);
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
    follow_focus(v, v->view_h);
    /* The message line: the note, else the focused field's problem, else what to do. */
    it = &v->items[v->focus];
    p = problem_of(v, it);
    if (v->note[0]) {
        snprintf(line, sizeof(line), "%s", v->note);
    } else if (p) {
        snprintf(line, sizeof(line), "%s", p->text);
    } else if (it->read_only) {
        snprintf(line, sizeof(line),
                 "this text has long lines, tabs or wide characters: Ctrl-E edits it in $EDITOR");
    } else {
        size_t n = 0;
        int prev = 0; /* the entry before was shown: an `again` of it is the same sentence */
        for (size_t i = 0; i < v->form.n_problems; i++) {
            const tui_form_problem *q = &v->form.problems[i];
            int now = shown(v, q->action, q->field) != 0;
            n += now && !(q->again && prev);
            prev = now || (q->again && prev);
        }
        if (n)
            snprintf(line, sizeof(line), "%zu problem%s to fix before %s", n, n == 1 ? "" : "s",
                     v->form.kind == TUI_FORM_SERVICE ? "saving" : "starting");
        else
            snprintf(line, sizeof(line), "Ctrl-S %s  Ctrl-P preview  Esc closes",
                     v->form.kind == TUI_FORM_SERVICE ? "saves" : "starts the run");
    }
    wattrset(w, (v->note[0] && v->note_error) || (!v->note[0] && p) ? tui_attr(TUI_C_RED) | A_BOLD
                                                                    : A_DIM);
    tui_blank(w, y + h - 1, x, width);
    tui_put(w, y + h - 1, x + 1, width - 1, line);
    wattrset(w, A_NORMAL);
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

/* ---- actions on the form ------------------------------------------------------------------ */

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
static void preview(form_view *v)
{
    const char *method = NULL;
    cJSON *req;
    char *json = NULL, *cmd = NULL, *text = NULL, *raw = NULL;
    int n;

    sync_fields(v);
    if ((n = tui_form_check(&v->form)) != 0) {
        v->all_shown = 1;
        v->want_rebuild = 1;
        set_note(v, 1, "nothing to preview until %s fixed",
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
        set_note(v, 1, "out of memory");
        return;
    }
    /* trailing newline of the command lines: not a line of its own */
    if (text[0] && text[strlen(text) - 1] == '\n')
        text[strlen(text) - 1] = '\0';
    open_overlay(v, OV_PREVIEW, text);
}

/* Every problem as a list, for a refused submit. */
static void summary(form_view *v)
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
        sync_fields(v);
        v->cur = (size_t)p->action;
    }
    rebuild(v, v->built_w, v->view_h + 1 >= 34);
    focus_id(v, p->field < TUI_F_COUNT && p->field != TUI_F_OTHER ? (int)p->field : TUI_F_NAME);
}

static int submit(tui_app *app, tui_frame *f)
{
    form_view *v = fv_of(f);
    tui_model *m = tui_app_model(app);
    char msg[512], name[HP_NAME_MAX + 1];
    int64_t run_id = 0;
    int rc;

    sync_fields(v);
    if (tui_form_check(&v->form) != 0) {
        v->all_shown = 1;
        v->want_rebuild = 1;
        summary(v);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (tui_app_read_only(app)) {
        set_note(v, 1, "read-only: nothing is sent");
        return TUI_HANDLED | TUI_REDRAW;
    }
    rc = tui_model_submit(m, &v->form, &run_id, msg, sizeof(msg));
    if (rc != 0) { /* the server said no (it checks as the builders do, so rarely) */
        set_note(v, 1, "%s", msg);
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

/* Ctrl-E: the focused script or env in $EDITOR (default vi), the terminal handed over. */
static void edit_external(tui_app *app, form_view *v)
{
    item *it = &v->items[v->focus];
    const char *editor = getenv("VISUAL");
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX];
    char *text = NULL;
    int fd, status = 0;
    pid_t pid;
    FILE *fp;

    if (it->kind != IT_MULTI && !(it->id == TUI_F_A_BODY || it->read_only)) {
        set_note(v, 1, "Ctrl-E edits the script, a command or env in $EDITOR: go to one first");
        return;
    }
    if (!editor || !*editor)
        editor = getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    sync_fields(v);
    snprintf(path, sizeof(path), "%s/hero_proc_form_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if ((fd = mkstemp(path)) < 0) {
        set_note(v, 1, "cannot make a temporary file: %s", strerror(errno));
        return;
    }
    fp = fdopen(fd, "w");
    if (!fp || fputs(*it->slot, fp) < 0 || (**it->slot && fputc('\n', fp) < 0) || fclose(fp)) {
        if (!fp)
            close(fd);
        unlink(path);
        set_note(v, 1, "cannot write %s: %s", path, strerror(errno));
        return;
    }
    def_prog_mode();
    endwin();
    pid = fork();
    if (pid == 0) {
        /* The editor gets the terminal and nothing else of ours (the server's socket). */
        syscall(SYS_close_range, 3U, ~0U, 0U);
        execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", editor, path, (char *)NULL);
        _exit(127);
    }
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    reset_prog_mode();
    clearok(curscr, TRUE);
    refresh();
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        set_note(v, 1, "%s did not exit cleanly: the %s is unchanged", editor, it->label);
    } else if (!(fp = fopen(path, "r"))) {
        set_note(v, 1, "cannot read %s back: %s", path, strerror(errno));
    } else {
        size_t cap = 0;
        ssize_t n = getdelim(&text, &cap, '\0', fp);
        fclose(fp);
        if (n < 0) {
            free(text);
            text = strdup("");
        }
        if (text) {
            size_t len = strlen(text);
            if (it->single_line || it->kind == IT_TEXT) /* a command: one line */
                for (char *c = text; *c; c++)
                    if (*c == '\n')
                        *c = ' ';
            while (len > 0 && (text[len - 1] == '\n' || (it->single_line && text[len - 1] == ' ')))
                text[--len] = '\0';
            if (strcmp(text, *it->slot) != 0) {
                tui_form_set(it->slot, text);
                v->dirty = 1;
            }
            set_note(v, 0, "%s edited in %s", it->label, editor);
        }
        free(text);
    }
    unlink(path);
    (void)app;
    leave_item(v);
}

/* ---- keys ------------------------------------------------------------------------------------ */

static int is_text(const item *it)
{
    return (it->kind == IT_TEXT || it->kind == IT_MULTI) && !it->read_only;
}

/* A character for a multi-line field refused when its row is full: formw would carry it
 * to the next row, which would read back as a new line. */
static int row_full(form_view *v, const item *it)
{
    char *text = field_text(it);
    int row = v->fm->currow, len = 0, r = 0;

    if (!text)
        return 1;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            if (r == row)
                break;
            r++;
            len = 0;
        } else if (r == row && (*p & 0xC0) != 0x80) {
            len++;
        }
    }
    free(text);
    return len >= it->width - 1;
}

/* A key for formw, from the form's editing keys. Returns 1 when taken. */
static int edit_key(form_view *v, const item *it, int code, int func)
{
    int req = 0;

    if (!func && code >= ' ' && code != 127) {
        if (it->kind == IT_MULTI && row_full(v, it)) {
            set_note(v, 1, "the line is as wide as the field: Ctrl-E edits it in $EDITOR");
            return 1;
        }
        form_driver_w(v->fm, OK, (wchar_t)code);
        return 1;
    }
    if (func) {
        switch (code) {
        case KEY_LEFT:
            req = REQ_PREV_CHAR;
            break;
        case KEY_RIGHT:
            req = REQ_NEXT_CHAR;
            break;
        case KEY_HOME:
            req = REQ_BEG_LINE;
            break;
        case KEY_END:
            req = REQ_END_LINE;
            break;
        case KEY_BACKSPACE:
            req = REQ_DEL_PREV;
            break;
        case KEY_DC:
            req = REQ_DEL_CHAR;
            break;
        case KEY_UP:
            req = it->kind == IT_MULTI ? REQ_UP_CHAR : 0;
            break;
        case KEY_DOWN:
            req = it->kind == IT_MULTI ? REQ_DOWN_CHAR : 0;
            break;
        case KEY_ENTER:
            req = it->kind == IT_MULTI ? REQ_NEW_LINE : 0;
            break;
        default:
            break;
        }
    } else {
        switch (code) {
        case 127:
        case 8:
            req = REQ_DEL_PREV;
            break;
        case '\r':
        case '\n':
            req = it->kind == IT_MULTI ? REQ_NEW_LINE : 0;
            break;
        case 1: /* Ctrl-A */
            req = REQ_BEG_LINE;
            break;
        case CTRL_K:
            req = REQ_CLR_EOL;
            break;
        case CTRL_U:
            form_driver(v->fm, REQ_BEG_LINE);
            req = REQ_CLR_EOL;
            break;
        default:
            break;
        }
    }
    if (!req)
        return 0;
    if (form_driver(v->fm, req) != E_OK && (req == REQ_UP_CHAR || req == REQ_DOWN_CHAR))
        return 0; /* at the top or bottom row: the key moves between fields */
    return 1;
}

/* Left/Right/Space on a choice. */
static void cycle_choice(form_view *v, const item *it, int delta)
{
    int n = n_choices(v, it);
    int k = (choice_index(v, it) + delta + n) % n;

    if (it->id == TUI_F_WANTED || it->action < 0) {
        v->form.wanted_start = k == 0;
    } else if (it->id == TUI_F_A_KIND) {
        v->form.actions[it->action].is_command = k;
        v->want_rebuild = 1; /* the body's field changes shape */
    } else {
        v->form.actions[it->action].restart = (hp_restart)k;
    }
    v->dirty = 1;
    leave_item(v);
}

static int list_key(form_view *v, tui_cmd cmd, int code)
{
    tui_form *fm = &v->form;
    int i;

    switch (cmd) {
    case TUI_CMD_FORM_ADD:
        sync_fields(v);
        if ((i = tui_form_add_action(fm, "")) < 0) {
            set_note(v, 1, "out of memory");
            return 1;
        }
        v->cur = (size_t)i;
        v->dirty = 1;
        v->want_rebuild = 1;
        rebuild(v, v->built_w, v->view_h + 1 >= 34);
        focus_id(v, TUI_F_A_NAME);
        set_note(v, 0, "action %d added: name it", i + 1);
        return 1;
    case TUI_CMD_FORM_REMOVE:
        if (!fm->n_actions)
            return 1;
        sync_fields(v);
        set_note(v, 0, "action '%s' removed", fm->actions[v->cur].name);
        tui_form_remove_action(fm, v->cur);
        v->dirty = 1;
        tui_form_check(fm);
        v->want_rebuild = 1;
        return 1;
    case TUI_CMD_FORM_MOVE_UP:
    case TUI_CMD_FORM_MOVE_DOWN: {
        int delta = cmd == TUI_CMD_FORM_MOVE_UP ? -1 : 1;
        sync_fields(v);
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
        sync_fields(v);
        v->cur += cmd == TUI_CMD_UP ? (size_t)-1 : 1;
        v->want_rebuild = 1;
        return 1;
    default:
        (void)code;
        return 0;
    }
}

static int depends_key(form_view *v, const item *it, tui_cmd cmd, int code, int func)
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
            leave_item(v);
        }
        return 1;
    }
    return 0;
}

static int close_form(tui_app *app, tui_frame *f)
{
    form_view *v = fv_of(f);

    sync_fields(v);
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

static int overlay_key(tui_app *app, tui_frame *f, int code, int func)
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
        focus_item(v, to < 0 ? 0 : to < v->n_items ? to : v->n_items - 1);
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
        focus_item(v, i);
        if (it->kind == IT_LIST && (size_t)(row - it->row) < v->form.n_actions &&
            (size_t)(row - it->row) != v->cur) {
            sync_fields(v);
            v->cur = (size_t)(row - it->row);
            v->want_rebuild = 1;
        }
        return TUI_HANDLED | TUI_REDRAW;
    }
    return TUI_HANDLED;
}

static int raw_key(tui_app *app, tui_frame *f, int code, int func)
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
        return overlay_key(app, f, code, func);
    if (!v->fm || v->want_rebuild) {
        rebuild(v, v->built_w ? v->built_w : COLS, v->view_h + 1 >= 34);
    }
    if (!v->fm)
        return close_form(app, f);
    v->note[0] = '\0';
    it = &v->items[v->focus];
    text = is_text(it);
    /* In a text field printable keys are text; elsewhere they may be commands. */
    if (text && !func && code >= ' ' && code != 127) {
        edit_key(v, it, code, func);
        form_driver(v->fm, REQ_VALIDATION);
        return TUI_HANDLED | TUI_REDRAW;
    }
    cmd = tui_key_lookup(code, func, TUI_SCOPE_FORM, 0);
    switch (cmd) {
    case TUI_CMD_HELP:
        return 0; /* the app opens the help */
    case TUI_CMD_FORM_NEXT:
        focus_item(v, v->focus + 1 < v->n_items ? v->focus + 1 : 0);
        return TUI_HANDLED | TUI_REDRAW;
    case TUI_CMD_FORM_PREV:
        focus_item(v, v->focus > 0 ? v->focus - 1 : v->n_items - 1);
        return TUI_HANDLED | TUI_REDRAW;
    case TUI_CMD_FORM_SUBMIT:
        return submit(app, f);
    case TUI_CMD_FORM_PREVIEW:
        preview(v);
        return TUI_HANDLED | TUI_REDRAW;
    case TUI_CMD_FORM_EDITOR:
        edit_external(app, v);
        return TUI_HANDLED | TUI_REDRAW;
    case TUI_CMD_BACK:
        return close_form(app, f);
    default:
        break;
    }
    if (text && edit_key(v, it, code, func)) {
        form_driver(v->fm, REQ_VALIDATION);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (it->kind == IT_LIST && list_key(v, cmd, code))
        return TUI_HANDLED | TUI_REDRAW;
    if (it->kind == IT_DEPENDS && depends_key(v, it, cmd, code, func))
        return TUI_HANDLED | TUI_REDRAW;
    if (it->kind == IT_CHOICE &&
        (cmd == TUI_CMD_FORM_TOGGLE || (func && (code == KEY_LEFT || code == KEY_RIGHT)) ||
         (!func && (code == 'h' || code == 'l')))) {
        cycle_choice(v, it, (func && code == KEY_LEFT) || (!func && code == 'h') ? -1 : 1);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (it->kind == IT_BUTTON && (cmd == TUI_CMD_FORM_TOGGLE || cmd == TUI_CMD_ENTER)) {
        if (it->id == BTN_SUBMIT)
            return submit(app, f);
        if (it->id == BTN_PREVIEW)
            preview(v);
        else
            return close_form(app, f);
        return TUI_HANDLED | TUI_REDRAW;
    }
    /* Enter, Down and Up move between fields where they mean nothing else. */
    if (cmd == TUI_CMD_ENTER || cmd == TUI_CMD_DOWN ||
        (func && code == KEY_RIGHT && it->kind == IT_BUTTON)) {
        focus_item(v, v->focus + 1 < v->n_items ? v->focus + 1 : v->focus);
        return TUI_HANDLED | TUI_REDRAW;
    }
    if (cmd == TUI_CMD_UP || (func && code == KEY_LEFT && it->kind == IT_BUTTON)) {
        focus_item(v, v->focus > 0 ? v->focus - 1 : 0);
        return TUI_HANDLED | TUI_REDRAW;
    }
    return TUI_HANDLED;
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
    drop_form(v);
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
    .raw_key = raw_key,
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

    sync_fields(v);
    return &v->form;
}
