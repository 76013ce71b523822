/* SPDX-License-Identifier: Apache-2.0 */
/* The Secrets view: names and times of the server's secrets. Values are never fetched,
 * so they cannot be shown. */
#include "config.h"

#include "tui/draw.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <stdio.h>
#include <string.h>

static const tui_column cols[] = {{"NAME", 32}, {"CREATED", 11}, {"UPDATED", 0}};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

static size_t rows(tui_app *app, const tui_frame *f)
{
    const tui_model *m = tui_app_model(app);

    return m->secrets ? m->secrets->n_secrets : 0;
}

static int match(tui_app *app, const tui_frame *f, size_t i, const char *needle)
{
    return strstr(tui_app_model(app)->secrets->secrets[i].name, needle) != NULL;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* Ascending on col. */
static int cmp(tui_app *app, const tui_frame *f, int col, size_t a, size_t b)
{
    const hp_secret_meta *x = &tui_app_model(app)->secrets->secrets[a];
    const hp_secret_meta *y = &tui_app_model(app)->secrets->secrets[b];

    if (col == 1)
        return cmp_i64(x->created_at_ms, y->created_at_ms);
    if (col == 2)
        return cmp_i64(x->updated_at_ms, y->updated_at_ms);
    return strcmp(x->name, y->name);
}

static int update(tui_app *app, tui_frame *f, int force)
{
    return tui_model_secrets(tui_app_model(app), force);
}

static void row(tui_cells *t, const void *items, size_t i)
{
    const hp_secret_meta *s = &((const hp_secret_list *)items)->secrets[i];
    char buf[32];

    tui_cell(t, s->name);
    tui_fmt_time(s->created_at_ms, buf, sizeof(buf));
    tui_cell(t, buf);
    tui_fmt_time(s->updated_at_ms, buf, sizeof(buf));
    tui_cell(t, buf);
}

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    tui_list_draw(app, f, w, y, x, h, width, tui_app_model(app)->secrets, "no secrets", row);
}
static void row_key(tui_app *app, const tui_frame *f, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%s", tui_app_model(app)->secrets->secrets[i].name);
}

const tui_view_ops tui_view_secrets = {
    .name = "Secrets",
    .scope = TUI_SCOPE_SECRETS,
    .update = update,
    .rows = rows,
    .match = match,
    .columns = cols,
    .n_columns = (int)N_COLS,
    .cmp = cmp,
    .draw = draw,
    .row_key = row_key,
};
