/* SPDX-License-Identifier: Apache-2.0 */
/* The list helpers of view.h that every list view shares: the shown rows (filter, sort), the
 * selection kept on its row, the marks kept on their rows, scrolling, the header and the rows
 * drawn. */
#include "config.h"

#include "tui/app_int.h"

#include "tui/draw.h"

#include <stdlib.h>
#include <string.h>

enum { MARK_GUTTER = 2 };

/* ---- list helpers (view.h) ------------------------------------------------------------ */

int tui_frame_sort_col(const tui_frame *f)
{
    if (!f->ops->cmp || f->ops->n_columns <= 0)
        return -1;
    if (f->sort_col <= 0 || f->sort_col > f->ops->n_columns)
        return f->ops->default_sort;
    return f->sort_col - 1;
}

typedef struct sort_ctx {
    tui_app *app;
    const tui_frame *f;
    int col, desc;
} sort_ctx;

static int by_column(const void *pa, const void *pb, void *ud)
{
    const sort_ctx *c = ud;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int r = c->f->ops->cmp(c->app, c->f, c->col, a, b);

    if (r)
        return c->desc ? -r : r;
    return a < b ? -1 : a > b; /* ties keep the model's order, inverted or not */
}

/* Rebuilds f->map from the model: the rows matching the filter, sorted on the frame's
 * column (by default the status: problems first, each group in the model's order), in
 * the model's order for a view without columns. Without memory the map is dropped:
 * rows show unfiltered. */
void tui__remap(tui_app *app, tui_frame *f)
{
    size_t n = f->ops->rows(app, f), k = 0;
    size_t *map;
    int col = tui_frame_sort_col(f);

    free(f->map);
    f->map = NULL;
    f->n_map = 0;
    f->map_rows = n;
    memcpy(f->map_filter, f->filter, sizeof(f->map_filter));
    f->map_sort_col = f->sort_col;
    f->map_sort_desc = f->sort_desc;
    if (!f->ops->match || n == 0 || !(map = malloc(n * sizeof(*map))))
        return;
    for (size_t i = 0; i < n; i++)
        if (!f->filter[0] || f->ops->match(app, f, i, f->filter))
            map[k++] = i;
    if (col >= 0) {
        sort_ctx c = {app, f, col, f->sort_desc};
        qsort_r(map, k, sizeof(*map), by_column, &c);
    }
    f->map = map;
    f->n_map = k;
}

size_t tui_frame_count(tui_app *app, const tui_frame *f)
{
    return f->map ? f->n_map : f->ops->rows(app, f);
}

size_t tui_frame_row(const tui_frame *f, size_t shown)
{
    return f->map ? f->map[shown] : shown;
}

size_t tui_frame_selected(tui_app *app, const tui_frame *f)
{
    if (f->sel >= tui_frame_count(app, f))
        return (size_t)-1;
    return tui_frame_row(f, f->sel);
}

const char *tui_frame_empty(const tui_frame *f, const char *none, char *buf, size_t size)
{
    if (!f->filter[0])
        return none;
    snprintf(buf, size, "nothing matches /%s (Esc clears the filter)", f->filter);
    return buf;
}

void tui_list_scroll(tui_frame *f, size_t n, int h)
{
    size_t page = h > 0 ? (size_t)h : 1;

    f->page = (int)page;
    if (n == 0) {
        f->sel = f->top = 0;
        return;
    }
    if (f->sel >= n)
        f->sel = n - 1;
    if (f->sel < f->top)
        f->top = f->sel;
    if (f->sel >= f->top + page)
        f->top = f->sel - page + 1;
    if (f->top + page > n)
        f->top = n > page ? n - page : 0;
}

void tui_row_begin(tui_app *app, const tui_frame *f, WINDOW *w, int y, int x, int width, size_t i)
{
    wattrset(w, (i == f->sel ? A_REVERSE : A_NORMAL) | (tui_app_stale(app) ? A_DIM : A_NORMAL));
    tui_blank(w, y, x, width);
}

void tui_row_end(WINDOW *w)
{
    wattrset(w, A_NORMAL);
}

void tui_list_header(const tui_frame *f, WINDOW *w, int y, int x, const int *widths)
{
    tui_columns_header_sorted(w, y, x, f->ops->columns, widths, (size_t)f->ops->n_columns,
                              tui_frame_sort_col(f), f->sort_desc);
}

void tui_list_draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width,
                   const void *items, const char *none, tui_row_fn row)
{
    int wd[32];
    size_t n = tui_frame_count(app, f);
    size_t n_cols = (size_t)f->ops->n_columns;
    char empty[160], key[128];
    int gutter = f->n_marks && width > MARK_GUTTER ? MARK_GUTTER : 0;

    /* While rows are marked, a gutter in front says which (none otherwise, so the table
     * keeps its width). */
    x += gutter;
    width -= gutter;
    if (n_cols > sizeof(wd) / sizeof(wd[0]))
        n_cols = sizeof(wd) / sizeof(wd[0]);
    tui_columns_fit(f->ops->columns, n_cols, width, wd);
    tui_list_header(f, w, y, x, wd);
    tui_list_scroll(f, n, h - 1);
    if (n == 0) {
        tui_put(w, y + 1, x, width,
                items ? tui_frame_empty(f, none, empty, sizeof(empty))
                      : "waiting for the server...");
        return;
    }
    for (int r = 0; r < h - 1 && f->top + (size_t)r < n; r++) {
        tui_cells t = {w, y + 1 + r, x, wd, 0};
        tui_row_begin(app, f, w, y + 1 + r, x - gutter, width + gutter, f->top + (size_t)r);
        if (gutter) {
            f->ops->row_key(app, f, tui_frame_row(f, f->top + (size_t)r), key, sizeof(key));
            if (tui_frame_marked(f, key)) {
                attr_t was = getattrs(w);
                wattron(w, tui_attr(TUI_C_YELLOW) | A_BOLD);
                tui_put(w, y + 1 + r, x - gutter, gutter, "*");
                wattrset(w, was);
            }
        }
        row(&t, items, tui_frame_row(f, f->top + (size_t)r));
        tui_row_end(w);
    }
}

/* The identity of the selected row into buf ("" when none or the view has none). */
void tui__selected_key(tui_app *app, const tui_frame *f, char *buf, size_t size)
{
    buf[0] = '\0';
    if (f->ops->row_key && tui_frame_selected(app, f) != (size_t)-1)
        f->ops->row_key(app, f, tui_frame_selected(app, f), buf, size);
}

/* Puts the selection back on the row whose identity is key, after rows moved. */
void tui__reselect(tui_app *app, tui_frame *f, const char *key)
{
    char other[128];
    size_t n = key[0] ? tui_frame_count(app, f) : 0;

    for (size_t i = 0; i < n; i++) {
        f->ops->row_key(app, f, tui_frame_row(f, i), other, sizeof(other));
        if (strcmp(key, other) == 0) {
            f->sel = i;
            return;
        }
    }
}

/* ---- marks ---------------------------------------------------------------------------- */

/* The marks are kept sorted, so a lookup is a binary search: `*` on ten thousand jobs,
 * then a refresh that checks each row, stays quick. */

/* The index of the first mark >= key. */
static size_t mark_lower(const tui_frame *f, const char *key)
{
    size_t lo = 0, hi = f->n_marks;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(f->marks[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int tui_frame_marked(const tui_frame *f, const char *key)
{
    size_t i = mark_lower(f, key);

    return i < f->n_marks && strcmp(f->marks[i], key) == 0;
}

static int mark_add(tui_frame *f, const char *key)
{
    size_t at = mark_lower(f, key);
    char **grown, *copy;

    if (at < f->n_marks && strcmp(f->marks[at], key) == 0)
        return 0;
    copy = strdup(key);
    grown = copy ? realloc(f->marks, (f->n_marks + 1) * sizeof(*grown)) : NULL;
    if (!grown) {
        free(copy);
        return -1;
    }
    f->marks = grown;
    memmove(f->marks + at + 1, f->marks + at, (f->n_marks - at) * sizeof(*f->marks));
    f->marks[at] = copy;
    f->n_marks++;
    return 0;
}

static void mark_remove(tui_frame *f, size_t i)
{
    free(f->marks[i]);
    memmove(f->marks + i, f->marks + i + 1, (f->n_marks - i - 1) * sizeof(*f->marks));
    if (--f->n_marks == 0) {
        free(f->marks);
        f->marks = NULL;
    }
}

void tui__marks_clear(tui_frame *f)
{
    for (size_t i = 0; i < f->n_marks; i++)
        free(f->marks[i]);
    free(f->marks);
    f->marks = NULL;
    f->n_marks = 0;
}

/* Space on the selected row: marked or unmarked. 1 when there was a row. */
int tui__mark_toggle(tui_app *app, tui_frame *f)
{
    char key[128];
    size_t i;

    tui__selected_key(app, f, key, sizeof(key));
    if (!key[0])
        return 0;
    i = mark_lower(f, key);
    if (i < f->n_marks && strcmp(f->marks[i], key) == 0)
        mark_remove(f, i);
    else if (mark_add(f, key) != 0)
        tui_app_status(app, 1, "out of memory: '%s' not marked", key);
    return 1;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `*`: every row shown (after the filter) marked: appended, then sorted once and the
 * ones marked before dropped. -1 without memory (the marks as they were). */
int tui__mark_all(tui_app *app, tui_frame *f)
{
    char key[128];
    size_t n = f->ops->row_key ? tui_frame_count(app, f) : 0, k = 0, out = 0;
    char **grown = n ? realloc(f->marks, (f->n_marks + n) * sizeof(*grown)) : f->marks;

    if (n && !grown)
        return -1;
    f->marks = grown;
    for (size_t i = 0; i < n; i++) {
        f->ops->row_key(app, f, tui_frame_row(f, i), key, sizeof(key));
        if (!(f->marks[f->n_marks + k] = strdup(key))) {
            while (k > 0)
                free(f->marks[f->n_marks + --k]);
            return -1;
        }
        k++;
    }
    f->n_marks += k;
    if (f->n_marks)
        qsort(f->marks, f->n_marks, sizeof(*f->marks), by_text);
    for (size_t i = 0; i < f->n_marks; i++) {
        if (out && strcmp(f->marks[i], f->marks[out - 1]) == 0)
            free(f->marks[i]); /* marked before */
        else
            f->marks[out++] = f->marks[i];
    }
    f->n_marks = out;
    return 0;
}

/* The marks of rows no longer in the model dropped (a deleted service, a pruned run). */
void tui__marks_prune(tui_app *app, tui_frame *f)
{
    size_t n = f->ops->rows(app, f), out = 0;
    char key[128];
    unsigned char *seen;

    if (!f->n_marks || !f->ops->row_key)
        return;
    seen = calloc(f->n_marks, 1);
    if (!seen)
        return;
    for (size_t i = 0; i < n; i++) {
        size_t at;
        f->ops->row_key(app, f, i, key, sizeof(key));
        at = mark_lower(f, key);
        if (at < f->n_marks && strcmp(f->marks[at], key) == 0)
            seen[at] = 1;
    }
    for (size_t k = 0; k < f->n_marks; k++) {
        if (seen[k])
            f->marks[out++] = f->marks[k];
        else
            free(f->marks[k]);
    }
    f->n_marks = out;
    if (out == 0) {
        free(f->marks);
        f->marks = NULL;
    }
    free(seen);
}
