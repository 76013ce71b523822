/* SPDX-License-Identifier: Apache-2.0 */
/* The form view's text fields: text copied between the tui_form and formw's fields (what a
 * field can show as it is, multi-line rows), and the editing keys formw gets in them.
 * Not the layout of the fields (view_form_pad.c) nor $EDITOR (view_form_editor.c). */
#include "config.h"

#include "tui/view_form_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

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
            it->id == TUI_F_A_RETRY || it->id == TUI_F_A_RETRY_DELAY ||
            (it->id >= TUI_F_A_PROBE_INTERVAL && it->id <= TUI_F_A_PROBE_GRACE)) {
            size_t lead = strspn(text, " ");
            memmove(text, text + lead, strlen(text + lead) + 1);
        }
    }
    return text;
}

/* A new text field it->field gets its item's text: as it is when the field can show it,
 * else its first line, read-only and dimmed ($EDITOR edits it). */
void tui__fv_fill_field(item *it)
{
    FIELD *fl = it->field;
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
}

/* Copies what was typed into the form (only fields the person changed, so a text the
 * field could not show is never replaced by what it showed). Returns 1 when something
 * changed. */
int tui__fv_sync_fields(form_view *v)
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

int tui__fv_is_text(const item *it)
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
int tui__fv_edit_key(form_view *v, const item *it, int code, int func)
{
    int req = 0;

    if (!func && code >= ' ' && code != 127) {
        if (it->kind == IT_MULTI && row_full(v, it)) {
            tui__fv_note(v, 1, "the line is as wide as the field: Ctrl-E edits it in $EDITOR");
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
