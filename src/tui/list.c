/* SPDX-License-Identifier: Apache-2.0 */
/* The list helpers of view.h that every list view shares: the shown rows (filter, sort), the
 * selection kept on its row, scrolling, the header and the rows drawn. */
#include "config.h"

#include "tui/app_int.h"

#include "tui/draw.h"

#include <stdlib.h>
#include <string.h>

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
    char empty[160];

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
        tui_row_begin(app, f, w, y + 1 + r, x, width, f->top + (size_t)r);
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
