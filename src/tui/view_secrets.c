/* SPDX-License-Identifier: Apache-2.0 */
/* The Secrets view: names and times of the server's secrets. Values are never fetched,
 * so they cannot be shown; n sets one (the value typed hidden), D deletes (asks first). */
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

    tui_cell_name(t, s->name);
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

/* The name typed at n, until its value is: one dashboard per process, one prompt at a
 * time. */
static char pending[HP_NAME_MAX + 1];

static void value_typed(tui_app *app, const char *value)
{
    char msg[320];
    int rc = tui_model_secret_set(tui_app_model(app), pending, value, msg, sizeof(msg));

    tui_app_status(app, rc != 0, "%s", msg);
    pending[0] = '\0';
}

static void name_typed(tui_app *app, const char *name)
{
    char label[HP_NAME_MAX + 32];

    if (!name[0]) {
        tui_app_status(app, 0, "cancelled: no name");
        return;
    }
    if (strlen(name) > HP_NAME_MAX) {
        tui_app_status(app, 1, "a secret's name has at most %d characters", HP_NAME_MAX);
        return;
    }
    snprintf(pending, sizeof(pending), "%s", name);
    snprintf(label, sizeof(label), "value of %s (hidden): ", name);
    tui_app_prompt(app, label, 1, value_typed);
}

static int key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    if (cmd != TUI_CMD_NEW)
        return 0;
    tui_app_prompt(app, "secret name: ", 0, name_typed);
    return TUI_HANDLED | TUI_REDRAW;
}

/* D deletes the selected secret or every marked one. */
static int action(tui_app *app, const tui_frame *f, size_t i, tui_cmd cmd, tui_action *act)
{
    if (cmd != TUI_CMD_DELETE)
        return 0;
    act->kind = TUI_ACT_SECRET_DELETE;
    snprintf(act->service, sizeof(act->service), "%s",
             tui_app_model(app)->secrets->secrets[i].name);
    return 1;
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
    .key = key,
    .action = action,
};
