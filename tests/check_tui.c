/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_tui's screens, headless: each view is drawn by ncurses on a terminal that
 * writes to /dev/null, the screen is read back as text and compared with a golden file
 * under tests/tui/ at 120x40 and 80x24. HP_UPDATE_GOLDENS=1 rewrites the goldens. Also
 * the key table, the log ring and the text helpers, without a terminal, and how often
 * the model asks a real hero_proc_server for its store's health. */
#include "config.h"

#include "builders/factory.h"
#include "check_common.h"
#include "fake_server.h"
#include "server_harness.h"
#include "tui/draw.h"
#include "tui/events.h"
#include "tui/fleet.h"
#include "tui/form.h"
#include "tui/keys.h"
#include "tui/view.h"
#include "tui/logbuf.h"
#include "tui/tui.h"
#include "tui/tuiconf.h"

#include <locale.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

typedef struct screen_case {
    const char *name;
    int cols, rows;
} screen_case;

static const screen_case cases[] = {
    {"services", 120, 40},    {"services", 80, 24},
    {"runs", 120, 40},        {"runs", 80, 24},
    {"jobs", 120, 40},        {"jobs", 80, 24},
    {"secrets", 120, 40},     {"secrets", 80, 24},
    {"help", 120, 40},        {"help", 80, 24},
    {"confirm", 120, 40},     {"confirm", 80, 24},
    {"unreachable", 120, 40}, {"unreachable", 80, 24},
    {"services", 40, 12},     {"logs", 120, 40},
    {"logs", 80, 24},         {"logs-wrapped", 80, 24},
    {"prompt", 80, 24},       {"form-service", 120, 40},
    {"form-service", 80, 24}, {"form-service-errors", 120, 40},
    {"form-run", 80, 24},     {"form-run-errors", 80, 24},
    {"store-locked", 80, 24}, {"store-locked", 40, 12},
};
#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static cJSON *fixtures(void)
{
    char *path = hp_test_join(hp_test_srcdir(), "tests/tui/fixtures.json");
    char *text = hp_test_read_file(path, NULL);
    cJSON *json;

    ck_assert_msg(text != NULL, "cannot read %s", path);
    json = cJSON_Parse(text);
    ck_assert_ptr_nonnull(json);
    free(text);
    free(path);
    return json;
}

/* The app with the fixtures' lists in its model. */
static tui_app *fixture_app(const cJSON *fx)
{
    tui_app *app = tui_app_headless_new("/home/me/hero/var/sockets/hero_proc/rpc.sock", 0);
    tui_model *m = tui_app_model(app);

    m->services = hp_service_list_from_json(cJSON_GetObjectItem(fx, "services"), NULL);
    m->runs = hp_run_list_from_json(cJSON_GetObjectItem(fx, "runs"), NULL);
    m->jobs = hp_job_list_from_json(cJSON_GetObjectItem(fx, "jobs"), NULL);
    m->secrets = hp_secret_list_from_json(cJSON_GetObjectItem(fx, "secrets"), NULL);
    ck_assert(m->services && m->runs && m->jobs && m->secrets);
    return app;
}

/* The line-drawing characters of the alternate character set, as Unicode. */
static wchar_t acs_char(wchar_t c)
{
    static const char from[] = "qxlkmjtuvwn";
    static const wchar_t to[] =
        L"\u2500\u2502\u250c\u2510\u2514\u2518\u251c\u2524\u2534\u252c\u253c";
    const char *p = c < 128 ? strchr(from, (int)c) : NULL;

    return p && c ? to[p - from] : c;
}

/* The screen as UTF-8 text, trailing blanks cut, one line per row. */
static char *dump(int rows, int cols)
{
    size_t cap = (size_t)rows * ((size_t)cols * 4 + 2) + 1, len = 0;
    char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    for (int y = 0; y < rows; y++) {
        mbstate_t st;
        size_t start = len;
        memset(&st, 0, sizeof(st));
        for (int x = 0; x < cols; x++) {
            cchar_t cc;
            wchar_t wc[CCHARW_MAX + 1] = {0};
            attr_t attrs;
            short pair;
            int w;
            mvwin_wch(curscr, y, x, &cc);
            getcchar(&cc, wc, &attrs, &pair, NULL);
            if (attrs & A_ALTCHARSET)
                wc[0] = acs_char(wc[0]);
            for (int i = 0; wc[i]; i++) {
                size_t n = wcrtomb(out + len, wc[i], &st);
                if (n != (size_t)-1)
                    len += n;
            }
            w = wc[0] ? wcwidth(wc[0]) : 1;
            if (w > 1)
                x += w - 1; /* the cells a wide character covers */
        }
        while (len > start && out[len - 1] == ' ')
            len--;
        out[len++] = '\n';
    }
    out[len] = '\0';
    return out;
}

/* The forms of the goldens: a service of two actions, one waiting for the other, and a
 * run; with errors, the service has a cycle and a timeout that is not a number, the run
 * an unknown dependency and restart 'always'. */
static void open_form(tui_app *app, int run, int errors)
{
    tui_form form;
    tui_form_action *a;
    tui_frame *f;

    ck_assert_int_eq(tui_form_init(&form, run ? TUI_FORM_RUN : TUI_FORM_SERVICE), 0);
    tui_form_set(&form.name, run ? "nightly" : "web");
    if (!run) {
        tui_form_set(&form.description, "the shop's web front end");
        form.wanted_start = 1;
    }
    ck_assert_int_eq(tui_form_add_action(&form, run ? "fetch" : "build"), 0);
    a = &form.actions[0];
    tui_form_set(&a->body, run ? "git fetch --all\ngit status" : "make -C /srv/web all");
    tui_form_set(&a->env, "CC=gcc\nJOBS=4");
    tui_form_set(&a->timeout, errors && !run ? "ten" : "600");
    ck_assert_int_eq(tui_form_add_action(&form, run ? "test" : "serve"), 1);
    a = &form.actions[1];
    a->is_command = 1;
    tui_form_set(&a->body, run ? "make check" : "python3 -m http.server 8080");
    tui_form_set(&a->cwd, "/srv/web");
    tui_form_set(&a->retry, "2");
    a->restart = run ? (errors ? HP_RESTART_ALWAYS : HP_RESTART_ON_FAILURE) : HP_RESTART_ALWAYS;
    tui_form_toggle_depends(&form, 1, run ? (errors ? "biuld" : "fetch") : "build");
    if (errors && !run)
        tui_form_toggle_depends(&form, 0, "serve");
    f = tui_form_open(app, &form, 0);
    ck_assert_ptr_nonnull(f);
    if (errors)
        tui_form_show_problems(f);
}

static void render_case(const screen_case *c, char **text)
{
    cJSON *fx = fixtures();
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    SCREEN *scr;
    tui_app *app;
    char lines[8], cols[8];

    snprintf(lines, sizeof(lines), "%d", c->rows);
    snprintf(cols, sizeof(cols), "%d", c->cols);
    setenv("LINES", lines, 1);
    setenv("COLUMNS", cols, 1);
    setenv("TZ", "UTC", 1);
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
    scr = newterm("xterm", out, in);
    ck_assert_ptr_nonnull(scr);
    resizeterm(c->rows, c->cols);
    tui_draw_init(0, 1);
    tui_draw_fix_clock((int64_t)cJSON_GetObjectItem(fx, "now_ms")->valuedouble);
    app = fixture_app(fx);
    if (strcmp(c->name, "runs") == 0)
        tui_app_show(app, &tui_view_runs, NULL);
    else if (strcmp(c->name, "jobs") == 0)
        tui_app_show(app, &tui_view_jobs, NULL);
    else if (strcmp(c->name, "secrets") == 0)
        tui_app_show(app, &tui_view_secrets, NULL);
    else if (strncmp(c->name, "logs", 4) == 0) {
        tui_frame proto = {.job_id = 5}, *f = tui_app_show(app, &tui_view_logs, &proto);
        hp_log_page *page = hp_log_page_from_json(cJSON_GetObjectItem(fx, "logs"), NULL);
        ck_assert_ptr_nonnull(page);
        tui_view_logs_feed(f, page);
        hp_log_page_free(page);
        if (strcmp(c->name, "logs-wrapped") == 0) {
            f->ops->key(app, f, TUI_CMD_WRAP);
            f->ops->key(app, f, TUI_CMD_TIMESTAMPS);
        }
    } else if (strcmp(c->name, "prompt") == 0) {
        tui_app_key(app, ':', 0);
        tui_app_key(app, 's', 0);
        tui_app_key(app, '\t', 0); /* four candidates: named after the line */
    } else if (strncmp(c->name, "form-", 5) == 0) {
        open_form(app, strncmp(c->name, "form-run", 8) == 0, strstr(c->name, "errors") != NULL);
        tui_app_render(app); /* the layout follows the size of the first draw */
    } else if (strcmp(c->name, "help") == 0)
        tui_app_overlay(app, 1, NULL);
    else if (strcmp(c->name, "confirm") == 0) {
        tui_action act = {.kind = TUI_ACT_RESTART, .service = "web"};
        tui_app_overlay(app, 0, &act);
    } else if (strcmp(c->name, "store-locked") == 0) {
        tui_model *m = tui_app_model(app);
        m->store.ok = 0;
        m->store.error = strdup("database is locked");
        ck_assert_ptr_nonnull(m->store.error);
    } else if (strcmp(c->name, "unreachable") == 0) {
        tui_model *m = tui_app_model(app);
        m->connected = 0;
        snprintf(m->reason, sizeof(m->reason),
                 "no hero_proc server at /home/me/hero/var/sockets/hero_proc/rpc.sock: "
                 "Connection refused");
    }
    tui_app_render(app);
    *text = dump(c->rows, c->cols);
    tui_app_headless_free(app);
    endwin();
    delscreen(scr);
    fclose(out);
    fclose(in);
    cJSON_Delete(fx);
}

START_TEST(view_matches_its_golden)
{
    const screen_case *c = &cases[_i];
    char name[128], *path, *want, *got;

    snprintf(name, sizeof(name), "tests/tui/%s-%dx%d.txt", c->name, c->cols, c->rows);
    path = hp_test_join(hp_test_srcdir(), name);
    render_case(c, &got);
    if (getenv("HP_UPDATE_GOLDENS")) {
        FILE *fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        fputs(got, fp);
        fclose(fp);
    }
    want = hp_test_read_file(path, NULL);
    ck_assert_msg(want != NULL, "no golden %s: run with HP_UPDATE_GOLDENS=1", path);
    ck_assert_msg(strcmp(want, got) == 0, "%s differs from the screen:\n%s", name, got);
    free(want);
    free(got);
    free(path);
}
END_TEST

/* A fixture app on a fresh 120x40 headless terminal, drawn once. */
typedef struct headless {
    FILE *out, *in;
    SCREEN *scr;
    cJSON *fx;
    tui_app *app;
} headless;

static void headless_open(headless *h, int read_only)
{
    tui_model *m;

    setenv("LINES", "40", 1);
    setenv("COLUMNS", "120", 1);
    setenv("TZ", "UTC", 1);
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
    h->out = fopen("/dev/null", "w");
    h->in = fopen("/dev/null", "r");
    h->scr = newterm("xterm", h->out, h->in);
    ck_assert_ptr_nonnull(h->scr);
    mousemask(BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    tui_draw_init(0, 1);
    h->fx = fixtures();
    h->app = fixture_app(h->fx);
    if (read_only) {
        /* fixture_app made a read-write app: move its lists to a read-only one. */
        tui_app *ro = tui_app_headless_new("/home/me/rpc.sock", 1);
        tui_model *from = tui_app_model(h->app);
        m = tui_app_model(ro);
        m->services = from->services;
        from->services = NULL;
        tui_app_headless_free(h->app);
        h->app = ro;
    }
    tui_app_render(h->app);
}

static void headless_close(headless *h)
{
    tui_app_headless_free(h->app);
    endwin();
    delscreen(h->scr);
    fclose(h->out);
    fclose(h->in);
    cJSON_Delete(h->fx);
}

static int screen_has(const char *needle)
{
    char *text = dump(40, 120);
    int found = strstr(text, needle) != NULL;

    free(text);
    return found;
}

START_TEST(enter_opens_a_services_jobs_and_escape_and_q_go_back)
{
    headless h;
    const tui_frame *f;

    headless_open(&h, 0);
    tui_app_key(h.app, 'j', 0);
    ck_assert_uint_eq(tui_app_top(h.app)->sel, 1);
    ck_assert_int_eq(tui_app_key(h.app, '\r', 0), 0);
    f = tui_app_top(h.app);
    ck_assert_ptr_eq(f->ops, &tui_view_jobs);
    ck_assert_str_eq(f->service, "app"); /* broken, in trouble, comes first */
    tui_app_key(h.app, 27, 0);
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    tui_app_key(h.app, '\r', 0);
    ck_assert_int_eq(tui_app_key(h.app, 'q', 0), 0); /* back from the sub-view */
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    tui_app_key(h.app, '3', 0);
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_jobs);
    tui_app_key(h.app, '\t', 0);
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    ck_assert_int_eq(tui_app_key(h.app, 'q', 0), 1); /* quits from the top view */
    headless_close(&h);
}
END_TEST

START_TEST(a_click_selects_a_row_and_the_wheel_scrolls)
{
    headless h;
    MEVENT ev = {.id = 0, .x = 5, .y = 1 + 1 + 2, .bstate = BUTTON1_CLICKED};

    headless_open(&h, 0);
    ck_assert_int_eq(ungetmouse(&ev), OK);
    tui_app_key(h.app, KEY_MOUSE, 1);
    ck_assert_uint_eq(tui_app_top(h.app)->sel, 2);
    ev.bstate = BUTTON4_PRESSED;
    ck_assert_int_eq(ungetmouse(&ev), OK);
    tui_app_key(h.app, KEY_MOUSE, 1);
    ck_assert_uint_eq(tui_app_top(h.app)->sel, 0);
    headless_close(&h);
}
END_TEST

START_TEST(a_confirmation_cancels_by_default)
{
    headless h;

    headless_open(&h, 0);
    tui_app_key(h.app, 'r', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("Restart service 'broken'?"));
    tui_app_key(h.app, '\r', 0); /* Enter on the focused button: Cancel */
    tui_app_render(h.app);
    ck_assert(!screen_has("Restart service"));
    ck_assert(screen_has("cancelled"));
    tui_app_key(h.app, 'D', 0);
    tui_app_key(h.app, 27, 0);
    tui_app_render(h.app);
    ck_assert(!screen_has("Delete service"));
    headless_close(&h);
}
END_TEST

/* db <- web <- worker run, report (stopped) requires db too: the question names what the
 * stop or the delete takes with it, and confirming sends it with cascade. */
START_TEST(stopping_a_required_service_names_its_dependants_first)
{
    static const char list[] = "{\"rev\":1,\"services\":["
                               "{\"name\":\"db\",\"status\":\"running\",\"wanted\":\"start\"},"
                               "{\"name\":\"report\",\"status\":\"inactive\",\"wanted\":\"stop\","
                               "\"requires\":[\"db\"]},"
                               "{\"name\":\"web\",\"status\":\"running\",\"wanted\":\"start\","
                               "\"requires\":[\"db\"]},"
                               "{\"name\":\"worker\",\"status\":\"degraded\",\"wanted\":\"start\","
                               "\"requires\":[\"web\"]}]}";
    tui_action act = {.kind = TUI_ACT_STOP, .service = "db"};
    char names[128];
    cJSON *json = cJSON_Parse(list);
    headless h;
    tui_model *m;

    headless_open(&h, 0);
    m = tui_app_model(h.app);
    hp_service_list_free(m->services);
    m->services = hp_service_list_from_json(json, NULL);
    cJSON_Delete(json);
    ck_assert_ptr_nonnull(m->services);
    ck_assert_uint_eq(tui_model_dependants(m, "db", 1, names, sizeof(names)), 2);
    ck_assert_str_eq(names, "'web', 'worker'");
    ck_assert_uint_eq(tui_model_dependants(m, "db", 0, names, sizeof(names)), 3);
    ck_assert_str_eq(names, "'report', 'web', 'worker'");
    ck_assert_uint_eq(tui_model_dependants(m, "worker", 0, names, sizeof(names)), 0);

    tui_app_overlay(h.app, 0, &act);
    tui_app_render(h.app);
    ck_assert(screen_has("Stop service 'db'? Services 'web', 'worker' require it: they stop"));
    ck_assert(screen_has("[ Stop 3 ]"));
    tui_app_key(h.app, 27, 0);
    act.kind = TUI_ACT_DELETE;
    tui_app_overlay(h.app, 0, &act);
    tui_app_render(h.app);
    ck_assert(screen_has("'report', 'web', 'worker'"));
    ck_assert(screen_has("[ Delete 4 ]"));
    tui_app_key(h.app, 27, 0);
    /* A service nothing requires is asked about as before. */
    snprintf(act.service, sizeof(act.service), "worker");
    act.kind = TUI_ACT_STOP;
    tui_app_overlay(h.app, 0, &act);
    tui_app_render(h.app);
    ck_assert(screen_has("Stop service 'worker'?"));
    ck_assert(screen_has("[ Stop ]"));
    headless_close(&h);
}
END_TEST

START_TEST(read_only_refuses_the_actions)
{
    headless h;

    headless_open(&h, 1);
    tui_app_key(h.app, 'r', 0);
    tui_app_render(h.app);
    ck_assert(!screen_has("Restart service"));
    ck_assert(screen_has("read-only: nothing can be changed (start, stop, restart, delete, cancel, "
                         "new, edit, rerun)"));
    headless_close(&h);
}
END_TEST

START_TEST(slash_filters_the_rows_and_escape_clears_it)
{
    headless h;

    headless_open(&h, 0);
    tui_app_key(h.app, '/', 0);
    tui_app_key(h.app, 'w', 0);
    tui_app_key(h.app, 'e', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("/we_"));
    ck_assert(screen_has("web "));
    ck_assert(!screen_has("broken "));
    tui_app_key(h.app, '\r', 0);
    tui_app_key(h.app, '\r', 0); /* Enter now opens the one row left */
    ck_assert_str_eq(tui_app_top(h.app)->service, "web");
    tui_app_key(h.app, 27, 0);
    tui_app_key(h.app, '/', 0);
    tui_app_key(h.app, 'x', 0);
    tui_app_key(h.app, 'y', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("nothing matches /wexy"));
    tui_app_key(h.app, KEY_BACKSPACE, 1);
    tui_app_key(h.app, KEY_BACKSPACE, 1);
    tui_app_key(h.app, 27, 0); /* Esc while typing clears */
    tui_app_render(h.app);
    ck_assert(screen_has("broken "));
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    tui_app_key(h.app, '/', 0);
    tui_app_key(h.app, 'f', 0);
    tui_app_key(h.app, 'a', 0);
    tui_app_key(h.app, 'i', 0);
    tui_app_key(h.app, '\r', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("broken ")); /* the status word matches too */
    ck_assert(!screen_has("web "));
    tui_app_key(h.app, 27, 0); /* Esc clears the filter before it goes back */
    tui_app_render(h.app);
    ck_assert(screen_has("web "));
    headless_close(&h);
}
END_TEST

/* The screen's row y (0-based) as text. */
static char *screen_row(int y)
{
    char *text = dump(40, 120), *line = text, *nl;

    for (int i = 0; i < y && (nl = strchr(line, '\n')); i++)
        line = nl + 1;
    nl = strchr(line, '\n');
    if (nl)
        *nl = '\0';
    memmove(text, line, strlen(line) + 1);
    return text;
}

static void assert_row_starts(int y, const char *prefix)
{
    char *row = screen_row(y);

    ck_assert_msg(strncmp(row, prefix, strlen(prefix)) == 0, "row %d is '%s', not '%s...'", y, row,
                  prefix);
    free(row);
}

/* Two services whose long names differ only at the end stay apart in the 16-column NAME
 * column: the middle gives way, not the end. */
START_TEST(long_names_are_shortened_in_the_middle)
{
    headless h;
    static const int widths[] = {16, 4};
    static const char *const names[] = {"nightly-backup-of-the-database-one",
                                        "nightly-backup-of-the-database-two", "short"};

    headless_open(&h, 0);
    erase();
    for (int i = 0; i < 3; i++) {
        tui_cells t = {.w = stdscr, .y = i, .x = 0, .widths = widths};
        tui_cell_name(&t, names[i]);
        tui_cell(&t, "end");
    }
    refresh();
    assert_row_starts(0, "nightly-ba\u2026e-one end");
    assert_row_starts(1, "nightly-ba\u2026e-two end");
    assert_row_starts(2, "short            end");
    headless_close(&h);
}
END_TEST

START_TEST(sort_keys_move_the_column_and_invert_keeping_the_selection)
{
    headless h;

    headless_open(&h, 0);
    assert_row_starts(1, "NAME             STATUS\u25b2 ");
    assert_row_starts(2, "broken "); /* problems first by default */
    tui_app_key(h.app, 'j', 0);      /* app */
    tui_app_key(h.app, '<', 0);
    tui_app_render(h.app);
    assert_row_starts(1, "NAME\u25b2 ");
    assert_row_starts(2, "app ");
    assert_row_starts(3, "broken ");
    assert_row_starts(5, "web ");
    ck_assert_uint_eq(tui_app_top(h.app)->sel, 0); /* still on app */
    ck_assert(screen_has("sorted by NAME, ascending"));
    tui_app_key(h.app, '<', 0); /* already the first column */
    tui_app_key(h.app, 'I', 0);
    tui_app_render(h.app);
    assert_row_starts(1, "NAME\u25bc ");
    assert_row_starts(2, "web ");
    ck_assert_uint_eq(tui_app_top(h.app)->sel, 3);
    tui_app_key(h.app, '>', 0);
    tui_app_key(h.app, '>', 0);
    tui_app_key(h.app, '>', 0);
    tui_app_key(h.app, 'I', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("AC\u25b2"));
    assert_row_starts(5, "app "); /* the one with two actions last */
    headless_close(&h);
}
END_TEST

START_TEST(sorting_the_jobs_by_id_and_status_again)
{
    headless h;

    headless_open(&h, 0);
    tui_app_key(h.app, '3', 0);
    tui_app_render(h.app);
    assert_row_starts(2, "3 "); /* retrying first */
    for (int i = 0; i < 4; i++)
        tui_app_key(h.app, '<', 0);
    tui_app_render(h.app);
    assert_row_starts(1, "ID\u25b2 ");
    assert_row_starts(2, "1 ");
    tui_app_key(h.app, 'I', 0);
    tui_app_render(h.app);
    assert_row_starts(2, "5 ");
    headless_close(&h);
}
END_TEST

/* A Logs frame of 200 lines, "match N" every 50th, "line N" otherwise; drawn once. */
static tui_frame *logs_of_200(headless *h)
{
    static char text[200][32];
    hp_log_line lines[200];
    hp_log_page page = {lines, 200, 201, 0, 0};
    tui_frame proto = {.job_id = 7}, *f = tui_app_show(h->app, &tui_view_logs, &proto);

    memset(lines, 0, sizeof(lines));
    for (int i = 0; i < 200; i++) {
        snprintf(text[i], sizeof(text[i]), "%s %d", i % 50 ? "line" : "match", i);
        lines[i].seq = i + 1;
        lines[i].line = text[i];
    }
    tui_view_logs_feed(f, &page);
    tui_app_render(h->app);
    return f;
}

/* The screen row showing text, -1 when none. */
static int row_of(const char *text)
{
    for (int y = 0; y < 40; y++) {
        char *row = screen_row(y);
        int hit = strcmp(row, text) == 0;
        free(row);
        if (hit)
            return y;
    }
    return -1;
}

static void type(tui_app *app, const char *s)
{
    for (; *s; s++)
        tui_app_key(app, (unsigned char)*s, 0);
}

START_TEST(log_search_pauses_follow_and_n_N_keep_the_match_off_the_edges)
{
    headless h;
    int y;

    headless_open(&h, 0);
    logs_of_200(&h);
    ck_assert(screen_has("following"));
    type(h.app, "/MATCH");
    tui_app_render(h.app);
    ck_assert(screen_has("/MATCH_"));
    tui_app_key(h.app, KEY_BACKSPACE, 1);
    type(h.app, "H");
    tui_app_key(h.app, 27, 0); /* Esc drops the search being typed */
    type(h.app, "/match\r");   /* lower case: any case */
    tui_app_render(h.app);
    ck_assert(screen_has("paused"));   /* searching pauses follow */
    y = row_of("match 150");           /* following: the newest match first */
    ck_assert_int_gt(y, 2 + 3);        /* lines before it show */
    ck_assert_int_lt(y, 40 - 2 - 3);   /* and lines after it */
    ck_assert(screen_has("line 149")); /* context above */
    ck_assert(screen_has("line 151")); /* and below */
    tui_app_key(h.app, 'n', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("no later match"));
    tui_app_key(h.app, 'N', 0);
    tui_app_key(h.app, 'N', 0);
    tui_app_render(h.app);
    y = row_of("match 50");
    ck_assert_int_gt(y, 2 + 3);
    ck_assert_int_lt(y, 40 - 2 - 3);
    ck_assert(!screen_has("match 150"));
    tui_app_key(h.app, 'n', 0);
    tui_app_render(h.app);
    ck_assert_int_gt(row_of("match 100"), 2 + 3);
    tui_app_key(h.app, 'G', 0); /* G follows again */
    tui_app_render(h.app);
    ck_assert(screen_has("following"));
    ck_assert_int_ge(row_of("line 199"), 30);
    headless_close(&h);
}
END_TEST

START_TEST(log_ampersand_shows_only_matching_lines_and_empty_clears)
{
    headless h;

    headless_open(&h, 0);
    logs_of_200(&h);
    type(h.app, "&match\r");
    tui_app_render(h.app);
    ck_assert(screen_has("&match: 4 matching"));
    ck_assert_int_eq(row_of("match 0"), 2);
    ck_assert_int_eq(row_of("match 150"), 5);
    ck_assert(!screen_has("line 1"));
    type(h.app, "&\r"); /* & with an empty pattern clears */
    tui_app_render(h.app);
    ck_assert(screen_has("line 199"));
    type(h.app, "&line 19\r");
    tui_app_render(h.app);
    ck_assert(screen_has("&line 19: 11 matching"));
    tui_app_key(h.app, 27, 0); /* and so does Esc */
    tui_app_render(h.app);
    ck_assert(!screen_has("matching"));
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_logs);
    headless_close(&h);
}
END_TEST

/* Forms, headless: what a person sees as they type, leave fields, submit and close. */
enum { KEY_ESC = 27, KEY_CTRL_S = 19, KEY_CTRL_P = 16 };

static void render_form(headless *h)
{
    tui_app_render(h->app);
}

/* needle is on the screen, else the failure shows the screen. */
static void assert_shows(const char *needle)
{
    char *text = dump(40, 120);

    ck_assert_msg(strstr(text, needle) != NULL, "'%s' is not on the screen:\n%s", needle, text);
    free(text);
}

/* The attributes of the screen cell at (y, x). */
static attr_t attr_at(int y, int x)
{
    cchar_t cc;
    wchar_t wc[CCHARW_MAX + 1] = {0};
    attr_t attrs = 0;
    short pair;

    mvwin_wch(curscr, y, x, &cc);
    getcchar(&cc, wc, &attrs, &pair, NULL);
    return attrs;
}

/* The row of the screen that starts with prefix, -1 when none. */
static int row_starting(const char *prefix)
{
    for (int y = 0; y < 40; y++) {
        char *row = screen_row(y);
        int hit = strncmp(row, prefix, strlen(prefix)) == 0;
        free(row);
        if (hit)
            return y;
    }
    return -1;
}

START_TEST(the_focus_and_the_selected_action_are_highlighted)
{
    headless h;
    int y;

    headless_open(&h, 0);
    open_form(h.app, 0, 0);
    render_form(&h);
    y = row_starting("> Name");
    ck_assert_int_ge(y, 0);
    ck_assert_msg(attr_at(y, 2) & A_BOLD, "the focused field's label is bold");
    ck_assert_msg(attr_at(y, 14) & A_UNDERLINE, "a text field is underlined");
    ck_assert_msg(!(attr_at(row_starting("  Description"), 2) & A_BOLD), "other labels are not");
    for (int i = 0; i < 4; i++) /* Description, Wanted, Requires, Actions */
        tui_app_key(h.app, '\t', 0);
    render_form(&h);
    y = row_starting("> Actions");
    ck_assert_int_ge(y, 0);
    ck_assert_msg(attr_at(y, 14) & A_REVERSE, "the selected action is reversed in the list");
    ck_assert_msg(!(attr_at(y + 1, 16) & A_REVERSE), "the other action is not");
    tui_app_key(h.app, KEY_DOWN, 1); /* the next action */
    render_form(&h);
    ck_assert_msg(attr_at(y + 1, 16) & A_REVERSE, "Down selects the second action");
    assert_shows("Action 2 of 2: serve");
    headless_close(&h);
}
END_TEST

START_TEST(a_new_service_form_checks_the_field_left_and_names_the_problem)
{
    headless h;

    headless_open(&h, 0);
    tui_app_key(h.app, 'n', 0);
    render_form(&h);
    assert_shows("Services \xe2\x80\xba New service");
    assert_shows("(*) start  ( ) stop"); /* a new service is meant to run */
    type(h.app, "my web");
    render_form(&h);
    ck_assert_msg(!screen_has("is invalid"), "no problem before the field is left");
    tui_app_key(h.app, '\t', 0);
    render_form(&h);
    assert_shows("\xe2\x86\xb3 service name 'my web' is invalid");
    assert_shows("1 problem to fix before saving");
    headless_close(&h);
}
END_TEST

START_TEST(submitting_a_form_with_problems_lists_them_and_sends_nothing)
{
    headless h;

    headless_open(&h, 0);
    open_form(h.app, 0, 1);
    tui_app_key(h.app, KEY_CTRL_S, 0);
    render_form(&h);
    assert_shows("Nothing was sent");
    assert_shows("2 problems; fix them and submit again:"); /* a cycle is one problem */
    assert_shows("- service 'web': dependency cycle: build -> serve -> build");
    tui_app_key(h.app, ' ', 0); /* any key: to the first problem */
    render_form(&h);
    ck_assert(!screen_has("Nothing was sent"));
    assert_shows("> Timeout (s) ten");
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_form); /* still open, nothing lost */
    headless_close(&h);
}
END_TEST

START_TEST(preview_shows_the_request_and_the_hero_proc_command)
{
    headless h;

    headless_open(&h, 0);
    open_form(h.app, 0, 0);
    tui_app_key(h.app, KEY_CTRL_P, 0);
    render_form(&h);
    assert_shows("service.set (JSON-RPC params):");
    assert_shows("\"depends_on\": [\"build\"]");
    tui_app_key(h.app, 'G', 0); /* the command is below the JSON */
    render_form(&h);
    assert_shows("hero_proc service set - <<'EOF'");
    assert_shows("hero_proc service start web");
    tui_app_key(h.app, 'x', 0);
    render_form(&h);
    ck_assert(!screen_has("Preview: what will be sent"));
    headless_close(&h);
}
END_TEST

START_TEST(escape_asks_before_discarding_and_n_keeps_what_was_typed)
{
    headless h;

    headless_open(&h, 0);
    tui_app_key(h.app, 'n', 0);
    render_form(&h);
    type(h.app, "keepme");
    tui_app_key(h.app, KEY_ESC, 0);
    render_form(&h);
    assert_shows("Discard changes to this service? They were not saved.");
    assert_shows("[ Cancel ]  [ Discard ]"); /* the dialog of the actions: Cancel first */
    tui_app_key(h.app, 'n', 0);
    render_form(&h);
    ck_assert(!screen_has("Discard changes"));
    assert_shows("> Name        keepme");
    tui_app_key(h.app, KEY_ESC, 0);
    tui_app_key(h.app, 'y', 0);
    render_form(&h);
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    assert_shows("changes discarded");
    /* Without changes Esc closes at once. */
    tui_app_key(h.app, 'n', 0);
    tui_app_key(h.app, KEY_ESC, 0);
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    headless_close(&h);
}
END_TEST

START_TEST(a_click_focuses_a_field_and_picks_an_action)
{
    headless h;
    /* Row 0 is the header; the form's rows start at 1: Name, Description, Wanted,
     * Requires, then the actions list (build, serve). */
    MEVENT ev = {.id = 0, .x = 20, .y = 1 + 5, .bstate = BUTTON1_CLICKED};

    headless_open(&h, 0);
    open_form(h.app, 0, 0);
    render_form(&h);
    assert_shows("Action 1 of 2: build");
    ck_assert_int_eq(ungetmouse(&ev), OK);
    tui_app_key(h.app, KEY_MOUSE, 1);
    render_form(&h);
    assert_shows("Action 2 of 2: serve");
    assert_shows("Command     python3 -m http.server 8080");
    headless_close(&h);
}
END_TEST

START_TEST(a_run_form_offers_restart_always_only_while_an_action_has_it)
{
    headless h;

    headless_open(&h, 0);
    tui_app_show(h.app, &tui_view_runs, NULL);
    tui_app_key(h.app, 'n', 0);
    render_form(&h);
    assert_shows("Runs \xe2\x80\xba New run");
    assert_shows("(*) never  ( ) on_failure");
    ck_assert(!screen_has("( ) always"));
    ck_assert(!screen_has("Wanted"));
    headless_close(&h);
}
END_TEST

START_TEST(a_script_the_field_cannot_show_is_kept_whole_and_left_to_the_editor)
{
    headless h;
    tui_form form;
    tui_frame *f;
    const tui_form *now;
    char *script = malloc(700);
    cJSON *req;
    const char *method;

    ck_assert_ptr_nonnull(script);
    /* One line wider than any field, and a tab: formw would cut or fold them. */
    memset(script, 'x', 600);
    memcpy(script, "echo ", 5);
    snprintf(script + 600, 100, "\n\tprintf 'tab above'\n");
    headless_open(&h, 0);
    ck_assert_int_eq(tui_form_init(&form, TUI_FORM_RUN), 0);
    tui_form_set(&form.name, "long");
    ck_assert_int_eq(tui_form_add_action(&form, "a"), 0);
    tui_form_set(&form.actions[0].body, script);
    f = tui_form_open(h.app, &form, 0);
    render_form(&h);
    for (int i = 0; i < 4; i++) /* Name, Actions, the action's Name, Kind: on Script */
        tui_app_key(h.app, '\t', 0);
    type(h.app, "typed"); /* the field is read-only: nothing typed lands in it */
    render_form(&h);
    assert_shows("Ctrl-E edits it in $EDITOR");
    now = tui_form_of(f);
    ck_assert_str_eq(now->actions[0].body, script);
    req = tui_form_request(now, &method);
    ck_assert_ptr_nonnull(req);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(req, "actions"), 0), "script")
            ->valuestring,
        script);
    cJSON_Delete(req);
    free(script);
    headless_close(&h);
}
END_TEST

START_TEST(a_script_taller_than_its_field_keeps_every_line_as_it_is_edited)
{
    headless h;
    tui_form form;
    tui_frame *f;
    char script[512] = "", want[600];
    size_t len = 0;

    for (int i = 1; i <= 12; i++)
        len += (size_t)snprintf(script + len, sizeof(script) - len, "%secho line %d",
                                i > 1 ? "\n" : "", i);
    headless_open(&h, 0);
    ck_assert_int_eq(tui_form_init(&form, TUI_FORM_RUN), 0);
    tui_form_set(&form.name, "tall");
    ck_assert_int_eq(tui_form_add_action(&form, "a"), 0);
    tui_form_set(&form.actions[0].body, script);
    f = tui_form_open(h.app, &form, 0);
    render_form(&h);
    for (int i = 0; i < 4; i++) /* on Script, the cursor after its last line */
        tui_app_key(h.app, '\t', 0);
    type(h.app, " more");
    tui_app_key(h.app, '\n', 0);
    type(h.app, "echo added");
    render_form(&h);
    assert_shows("echo added");
    snprintf(want, sizeof(want), "%s more\necho added", script);
    ck_assert_str_eq(((const tui_form *)tui_form_of(f))->actions[0].body, want);
    headless_close(&h);
}
END_TEST

START_TEST(every_key_in_the_help_maps_to_a_command)
{
    for (size_t i = 0; i < tui_n_keys; i++) {
        ck_assert_int_ne(tui_keys[i].cmd, TUI_CMD_NONE);
        ck_assert(tui_keys[i].label == NULL || tui_keys[i].help != NULL);
    }
    ck_assert_int_eq(tui_key_lookup('r', 0, TUI_SCOPE_SERVICES, 0), TUI_CMD_RESTART);
    ck_assert_int_eq(tui_key_lookup('r', 0, TUI_SCOPE_SERVICES, 1), TUI_CMD_NONE);
    ck_assert_int_eq(tui_key_lookup('c', 0, TUI_SCOPE_SERVICES, 0), TUI_CMD_NONE);
    ck_assert_int_eq(tui_key_lookup(KEY_DOWN, 1, TUI_SCOPE_JOBS, 0), TUI_CMD_DOWN);
}
END_TEST

START_TEST(the_command_parser_takes_prefixes_and_names_what_is_wrong)
{
    const tui_command *c;
    char arg[64], msg[256];

    ck_assert_int_eq(tui_command_parse("svc", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_int_eq(c->cmd, TUI_CMD_VIEW_SERVICES);
    ck_assert_int_eq(tui_command_parse("ru", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_int_eq(c->cmd, TUI_CMD_VIEW_RUNS);
    ck_assert_int_eq(tui_command_parse(" :ru 12 ", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_int_eq(c->cmd, TUI_CMD_OPEN_RUN);
    ck_assert_str_eq(arg, "12");
    ck_assert_int_eq(tui_command_parse("sec", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_int_eq(c->cmd, TUI_CMD_VIEW_SECRETS);
    ck_assert_int_eq(tui_command_parse("j", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_int_eq(c->cmd, TUI_CMD_VIEW_JOBS);
    ck_assert_int_eq(tui_command_parse("q", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_int_eq(c->cmd, TUI_CMD_QUIT);
    ck_assert_int_eq(tui_command_parse("res web", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_int_eq(c->cmd, TUI_CMD_RESTART);
    ck_assert_str_eq(arg, "web");
    ck_assert_int_eq(tui_command_parse("filter a b", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_str_eq(arg, "a b");
    ck_assert_int_eq(tui_command_parse("  ", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 1);

    ck_assert_int_eq(tui_command_parse("bogus", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "unknown command 'bogus': try :help");
    ck_assert_ptr_null(c);
    ck_assert_int_eq(tui_command_parse("s", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "ambiguous command 's': :services :secrets :start :stop :since");
    ck_assert_int_eq(tui_command_parse("run", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "usage: :run ID");
    ck_assert_int_eq(tui_command_parse("runs 3", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, ":runs takes no argument (not '3')");

    ck_assert_int_eq(tui_command_parse("stop web", 1, &c, arg, sizeof(arg), msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "read-only: :stop is off (started with --read-only)");
    ck_assert_int_eq(tui_command_parse("stop web", 0, &c, arg, sizeof(arg), msg, sizeof(msg)), 0);
    ck_assert_int_eq(c->cmd, TUI_CMD_STOP);
}
END_TEST

START_TEST(tab_completes_command_names)
{
    char line[64] = "rest", list[128];

    ck_assert_uint_eq(tui_command_complete(line, sizeof(line), 0, list, sizeof(list)), 1);
    ck_assert_str_eq(line, "restart ");
    snprintf(line, sizeof(line), "se");
    ck_assert_uint_eq(tui_command_complete(line, sizeof(line), 0, list, sizeof(list)), 2);
    ck_assert_str_eq(list, ":services :secrets");
    snprintf(line, sizeof(line), "ru");
    ck_assert_uint_eq(tui_command_complete(line, sizeof(line), 0, list, sizeof(list)), 2);
    ck_assert_str_eq(line, "run"); /* the common prefix of run and runs */
    snprintf(line, sizeof(line), "st");
    ck_assert_uint_eq(tui_command_complete(line, sizeof(line), 1, list, sizeof(list)), 0);
    ck_assert_str_eq(line, "st"); /* read-only: start and stop are off */
}
END_TEST

/* Types text on the `:` line and Enter. */
static void type_command(tui_app *app, const char *text)
{
    tui_app_key(app, ':', 0);
    for (const char *p = text; *p; p++)
        tui_app_key(app, (unsigned char)*p, 0);
    tui_app_key(app, '\r', 0);
    tui_app_render(app);
}

START_TEST(the_command_line_opens_forms)
{
    headless h;

    headless_open(&h, 0);
    type_command(h.app, "new run");
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_form);
    assert_shows("Services \xe2\x80\xba New run");
    tui_app_key(h.app, 27, 0); /* nothing typed: Esc closes at once */
    type_command(h.app, "new");
    assert_shows("Services \xe2\x80\xba New service"); /* the kind of the view shown */
    tui_app_key(h.app, 27, 0);
    type_command(h.app, "new job");
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    assert_shows(":new takes service or run, not 'job'");
    type_command(h.app, "edit");
    assert_shows("usage: :edit NAME");
    type_command(h.app, "rerun x");
    assert_shows(":rerun takes a number, not 'x'");
    /* No server behind a headless app: the edit says why it cannot read the service. */
    type_command(h.app, "edit web");
    assert_shows("not connected");
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    headless_close(&h);
}
END_TEST

START_TEST(the_command_line_switches_views_and_reports_mistakes)
{
    headless h;
    const tui_frame *f;

    headless_open(&h, 0);
    type_command(h.app, "ru");
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_runs);
    type_command(h.app, "bogus");
    ck_assert(screen_has("unknown command 'bogus': try :help"));
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_runs);
    type_command(h.app, "run 3");
    f = tui_app_top(h.app);
    ck_assert_ptr_eq(f->ops, &tui_view_jobs);
    ck_assert_int_eq(f->run_id, 3);
    type_command(h.app, "svc");
    type_command(h.app, "filter web");
    ck_assert_str_eq(tui_app_top(h.app)->filter, "web");
    type_command(h.app, "restart web");
    ck_assert(screen_has("Restart service 'web'?"));
    tui_app_key(h.app, 'n', 0);
    type_command(h.app, "stop nosuch"); /* said next to the filter */
    ck_assert(screen_has("/web   no service 'nosuch'"));
    type_command(h.app, "filter"); /* no text: the filter is cleared */
    ck_assert_str_eq(tui_app_top(h.app)->filter, "");

    /* Editing: Left moves the cursor, text goes in there, Ctrl-U clears, Esc cancels. */
    tui_app_key(h.app, ':', 0);
    tui_app_key(h.app, 'j', 0);
    tui_app_key(h.app, 's', 0);
    tui_app_key(h.app, KEY_LEFT, 1);
    tui_app_key(h.app, 0xe9, 0); /* é, UTF-8 in the line */
    tui_app_key(h.app, 'o', 0);
    tui_app_key(h.app, 'b', 0);
    tui_app_render(h.app);
    ck_assert(screen_has(":j\xc3\xa9obs"));
    tui_app_key(h.app, 'U' - '@', 0);
    tui_app_key(h.app, 'x', 0);
    tui_app_key(h.app, 27, 0);
    tui_app_render(h.app);
    ck_assert(!screen_has(":x"));
    ck_assert_ptr_eq(tui_app_top(h.app)->ops, &tui_view_services);
    type_command(h.app, "quit");
    ck_assert_int_eq(tui_app_key(h.app, 'x', 0), 1); /* :quit asked to quit */
    headless_close(&h);
}
END_TEST

START_TEST(the_command_line_respects_read_only)
{
    headless h;

    headless_open(&h, 1);
    type_command(h.app, "restart web");
    ck_assert(!screen_has("Restart service"));
    ck_assert(screen_has("read-only: :restart is off (started with --read-only)"));
    headless_close(&h);
}
END_TEST

START_TEST(the_help_scrolls_when_it_does_not_fit)
{
    headless h;
    char *text;

    headless_open(&h, 0);
    resizeterm(24, 80);
    tui_app_key(h.app, '?', 0);
    tui_app_render(h.app);
    text = dump(24, 80);
    ck_assert_ptr_nonnull(strstr(text, "j/k PgUp/PgDn scroll"));
    ck_assert_ptr_nonnull(strstr(text, " 1-22 of "));
    free(text);
    tui_app_key(h.app, 'j', 0);
    tui_app_render(h.app);
    text = dump(24, 80);
    ck_assert_ptr_nonnull(strstr(text, " 2-23 of "));
    free(text);
    tui_app_key(h.app, 'G', 0);
    tui_app_render(h.app);
    text = dump(24, 80);
    ck_assert_ptr_nonnull(strstr(text, ":help"));
    ck_assert_ptr_nonnull(strstr(text, ":restart NAME"));
    free(text);
    tui_app_key(h.app, 'x', 0); /* any other key closes */
    tui_app_render(h.app);
    text = dump(24, 80);
    ck_assert_ptr_null(strstr(text, "Help:"));
    free(text);
    headless_close(&h);
}
END_TEST

START_TEST(a_service_log_moves_to_the_new_run_with_a_separator)
{
    headless h;
    tui_frame proto = {.run_id = 4, .service = "web"}, *f;

    headless_open(&h, 0);
    f = tui_app_show(h.app, &tui_view_logs, &proto);
    tui_view_logs_switch_run(f, 9);
    ck_assert_int_eq(f->run_id, 9);
    tui_app_render(h.app);
    ck_assert(screen_has("\xe2\x80\x94 run 9 started \xe2\x80\x94"));
    ck_assert(screen_has("Log of web (run 9)"));
    headless_close(&h);
}
END_TEST

START_TEST(read_only_hints_show_no_actions)
{
    char hints[256];

    tui_key_hints(TUI_SCOPE_SERVICES, 1, hints, sizeof(hints));
    ck_assert_ptr_null(strstr(hints, "restart"));
    ck_assert_ptr_nonnull(strstr(hints, "[read-only]"));
    tui_key_hints(TUI_SCOPE_SERVICES, 0, hints, sizeof(hints));
    ck_assert_ptr_nonnull(strstr(hints, "r restart"));
}
END_TEST

/* The fleet's rows take the verbs that reach a host (start, stop, restart, delete, open,
 * log) and not the forms, which edit the dashboard's own server: no hint for a dead key. */
START_TEST(fleet_hints_name_only_the_keys_that_work_there)
{
    char hints[256];

    tui_key_hints(TUI_SCOPE_FLEET, 0, hints, sizeof(hints));
    ck_assert_ptr_nonnull(strstr(hints, "r restart"));
    ck_assert_ptr_nonnull(strstr(hints, "Enter open"));
    ck_assert_ptr_null(strstr(hints, "n new"));
    ck_assert_ptr_null(strstr(hints, "e edit"));
    ck_assert_int_eq(tui_key_lookup('e', 0, TUI_SCOPE_FLEET, 0), TUI_CMD_NONE);
    ck_assert_int_eq(tui_key_lookup('S', 0, TUI_SCOPE_FLEET, 0), TUI_CMD_STOP);
}
END_TEST

/* The Services view and the fleet sort a service the same way: problems first on the
 * status, then by the field asked. */
START_TEST(services_and_fleet_rows_sort_by_the_same_rules)
{
    char api[] = "api", web[] = "web";
    hp_service_summary
        ok = {.name = api, .status = HP_SERVICE_RUNNING, .restarts = 3, .rss_bytes = 10},
        bad = {.name = web, .status = HP_SERVICE_FAILED, .restarts = 1, .rss_bytes = 20};

    ck_assert_int_lt(tui_service_cmp(&bad, &ok, TUI_SVC_STATUS), 0);
    ck_assert_int_lt(tui_service_cmp(&ok, &bad, TUI_SVC_NAME), 0);
    ck_assert_int_gt(tui_service_cmp(&ok, &bad, TUI_SVC_RESTARTS), 0);
    ck_assert_int_lt(tui_service_cmp(&ok, &bad, TUI_SVC_MEM), 0);
    ck_assert_int_eq(tui_service_rank(&bad), 0);
    ok.crash_loop = 1;
    ck_assert_int_eq(tui_service_rank(&ok), 0);
}
END_TEST

START_TEST(log_ring_evicts_the_oldest_and_counts_them)
{
    tui_logbuf *b = tui_logbuf_new(3, 1 << 20);
    char line[16];

    for (int i = 1; i <= 5; i++) {
        snprintf(line, sizeof(line), "line %d", i);
        ck_assert_int_eq(tui_logbuf_push(b, line, 0, i, 0), 0);
    }
    ck_assert_uint_eq(b->count, 3);
    ck_assert_int_eq(b->dropped, 2);
    ck_assert_str_eq(tui_logbuf_at(b, 0)->text, "line 3");
    ck_assert_str_eq(tui_logbuf_at(b, 2)->text, "line 5");
    ck_assert_ptr_null(tui_logbuf_at(b, 3));
    tui_logbuf_free(b);
}
END_TEST

START_TEST(log_ring_keeps_within_its_byte_cap)
{
    tui_logbuf *b = tui_logbuf_new(100, 32);

    for (int i = 0; i < 10; i++)
        tui_logbuf_push(b, "0123456789", 0, i, 0);
    ck_assert_uint_le(b->bytes, 32);
    ck_assert_int_eq(b->dropped, (int64_t)(10 - b->count));
    tui_logbuf_free(b);
}
END_TEST

/* A page of older lines put in front of a full ring: the newest go, and each line kept
 * keeps its number (base + index), which the filter's list and the match rely on. */
START_TEST(log_ring_takes_older_lines_in_front_and_evicts_the_newest)
{
    tui_logbuf *b = tui_logbuf_new(3, 1 << 20);
    char line[16];

    for (int i = 10; i <= 12; i++) {
        snprintf(line, sizeof(line), "line %d", i);
        tui_logbuf_push(b, line, 0, i, 0);
    }
    ck_assert_int_eq(b->base, 0);
    ck_assert_int_eq(tui_logbuf_unshift(b, "line 9", 0, 9, 0), 0);
    ck_assert_int_eq(tui_logbuf_unshift(b, "line 8", 0, 8, 0), 0);
    ck_assert_uint_eq(b->count, 3);
    ck_assert_int_eq(b->base, -2);
    ck_assert_int_eq(b->dropped, 0); /* the newest are on the server still */
    ck_assert_str_eq(tui_logbuf_at(b, 0)->text, "line 8");
    ck_assert_str_eq(tui_logbuf_at(b, 2)->text, "line 10"); /* number 0 as before */
    ck_assert(tui_logbuf_full(b, 1));
    tui_logbuf_clear(b);
    ck_assert_uint_eq(b->count, 0);
    ck_assert_uint_eq(b->bytes, 0);
    ck_assert_int_eq(tui_logbuf_push(b, "again", 0, 20, 0), 0);
    ck_assert_str_eq(tui_logbuf_at(b, 0)->text, "again");
    tui_logbuf_free(b);
}
END_TEST

START_TEST(text_width_escapes_control_characters_and_counts_wide_ones)
{
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
    ck_assert_int_eq(tui_width("abc"), 3);
    ck_assert_int_eq(tui_width("\x1b[31m"), 6); /* ^[ then [31m */
    ck_assert_int_eq(tui_width("服务"), 4);
    ck_assert_int_eq(tui_width("\xff"), 4); /* \xFF */
}
END_TEST

START_TEST(durations_read_as_people_say_them)
{
    char buf[32];

    tui_fmt_duration(42000, buf, sizeof(buf));
    ck_assert_str_eq(buf, "42s");
    tui_fmt_duration(185000, buf, sizeof(buf));
    ck_assert_str_eq(buf, "3m05s");
    tui_fmt_duration(7620000, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2h07m");
    tui_fmt_duration(-1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
}
END_TEST

/* ---- the model and a real server: the store's health ------------------------------ */

static tui_model M;

static void model_setup(void)
{
    hp_error err;
    hp_client *c;

    hpt_setup();
    c = hp_factory_local_uds(hpt_socket_path(), &err);
    ck_assert_msg(c != NULL, "%s", err.message);
    tui_model_init(&M, c, hpt_socket_path(), NULL);
}

static void model_teardown(void)
{
    tui_model_free(&M);
    hpt_teardown();
}

/* The next tui_model_store may ask (as if TUI_STORE_EVERY_MS had passed) and did
 * change what the header shows. */
static int store_changed(void *ud)
{
    (void)ud;
    M.store_at_ms = 1;
    return tui_model_store(&M) == 1;
}

START_TEST(store_health_is_asked_at_most_every_two_seconds_and_only_while_connected)
{
    int64_t calls;

    ck_assert_int_eq(M.store.ok, 1); /* before any answer: nothing to show */
    ck_assert_int_eq(tui_model_store(&M), 0);
    ck_assert_int_eq(M.calls, 0); /* not connected yet: the lists' refresh goes first */
    ck_assert_int_eq(tui_model_services(&M, 1), 1);
    calls = M.calls;
    ck_assert_int_eq(tui_model_store(&M), 0); /* asked; ok, as before */
    ck_assert_int_eq(M.calls, calls + 1);
    ck_assert_int_eq(M.store.ok, 1);
    ck_assert_ptr_null(M.store.error);
    for (int i = 0; i < 100; i++)
        tui_model_store(&M);
    ck_assert_int_eq(M.calls, calls + 1); /* the refresh loop may spin: still one call */
    M.store_at_ms = tui_now_ms() - TUI_STORE_EVERY_MS + 200;
    tui_model_store(&M);
    ck_assert_int_eq(M.calls, calls + 1);
    M.store_at_ms = tui_now_ms() - TUI_STORE_EVERY_MS;
    tui_model_store(&M);
    ck_assert_int_eq(M.calls, calls + 2);

    /* The server gone: nothing is asked until a list call reaches it again. */
    hpt_server_signal_and_wait(SIGTERM, 10000);
    ck_assert_int_eq(tui_model_services(&M, 1), -1);
    ck_assert_int_eq(M.connected, 0);
    calls = M.calls;
    M.store_at_ms = 1;
    ck_assert_int_eq(tui_model_store(&M), 0);
    ck_assert_int_eq(M.calls, calls);
}
END_TEST

/* One of the newest lines of job 1 (then comes its exit) is "L50000.": the server has
 * every line of the job. */
static int job_logged(void *ud)
{
    cJSON *p = cJSON_CreateObject(), *r, *line;
    int done = 0;

    (void)ud;
    cJSON_AddNumberToObject(p, "id", 1);
    cJSON_AddNumberToObject(p, "before_seq", 9007199254740991.0);
    cJSON_AddNumberToObject(p, "limit", 3);
    r = hpt_ok("job.logs", p);
    cJSON_ArrayForEach (line, cJSON_GetObjectItem(r, "lines")) {
        const cJSON *text = cJSON_GetObjectItem(line, "line");
        done |= cJSON_IsString(text) && strcmp(text->valuestring, "L50000.") == 0;
    }
    cJSON_Delete(r);
    return done;
}

/* The rows of the screen that are exactly a line "L<digits>." whose number starts with
 * prefix. */
static int rows_starting(const char *prefix)
{
    int n = 0;

    for (int y = 0; y < 40; y++) {
        char *row = screen_row(y);
        size_t len = strlen(row);
        n += len > 2 && strncmp(row, prefix, strlen(prefix)) == 0 && row[len - 1] == '.';
        free(row);
    }
    return n;
}

/* A job of 50 000 lines, 2.5 times the ring, against a real server: g, G, / and & reach
 * every line of it, not only those the view holds. */
START_TEST(a_job_log_larger_than_the_ring_is_a_window_that_g_slash_and_ampersand_move)
{
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    cJSON *params = cJSON_Parse("{\"name\":\"big\",\"actions\":[{\"name\":\"big\","
                                "\"script\":\"seq -f L%.0f. 1 50000\"}]}");
    tui_frame proto = {.job_id = 1}, *f;
    tui_app *app;
    hp_error err;
    SCREEN *scr;

    cJSON_Delete(hpt_ok("run.submit", params));
    ck_assert_msg(hpt_wait_until(job_logged, NULL, 30000), "the job's lines never came");
    setenv("LINES", "40", 1);
    setenv("COLUMNS", "120", 1);
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
    scr = newterm("xterm", out, in);
    ck_assert_ptr_nonnull(scr);
    tui_draw_init(0, 1);
    app = tui_app_headless_new(hpt_socket_path(), 0);
    tui_app_model(app)->client = hp_factory_local_uds(hpt_socket_path(), &err);
    ck_assert_msg(tui_app_model(app)->client != NULL, "%s", err.message);
    f = tui_app_show(app, &tui_view_logs, &proto);
    for (int i = 0; i < 10 && f->ops->update(app, f, 1) == 1; i++)
        ; /* 20 pages a refresh: caught up in three */
    tui_app_render(app);
    ck_assert(screen_has("following"));
    ck_assert_int_ge(row_of("L50000."), 30);
    ck_assert(screen_has("(end)"));

    /* The ring is full (its 20 000 newest lines): PageUp goes on past its oldest, page by
     * page with no line skipped, to the first. */
    {
        int prev = -1, step = 0, moved = 0;
        for (int i = 0; i < 2000 && prev != 1; i++) {
            char *row;
            int at = -1;
            tui_app_key(app, KEY_PPAGE, 1);
            tui_app_render(app);
            row = screen_row(2);
            ck_assert_msg(sscanf(row, "L%d.", &at) == 1 || strstr(row, "spawned"), "%s", row);
            free(row);
            if (at < 0)
                break; /* the spawn line above L1. */
            if (prev > 0 && !step)
                step = prev - at;
            if (prev > 0 && at > 1)
                ck_assert_msg(prev - at == step, "from L%d. to L%d.: not one page", prev, at);
            moved += prev > 0 && at < 30000 && prev >= 30000;
            prev = at;
        }
        ck_assert_int_gt(step, 10);
        ck_assert_int_eq(moved, 1); /* the ring's oldest line was crossed */
        ck_assert(screen_has("(top)"));
    }
    tui_app_key(app, 'G', 0);
    tui_app_render(app);
    tui_app_key(app, 'g', 0); /* the job's first line, 30 000 lines before the ring */
    tui_app_render(app);
    ck_assert_int_le(row_of("L1."), 3);
    ck_assert(screen_has("(top)"));
    tui_app_key(app, KEY_NPAGE, 1);
    tui_app_render(app);
    ck_assert(!screen_has("(top)"));
    /* PageDown past the 2 000 lines g fetched: the next page, no line skipped. */
    {
        int prev = -1, step = 0;
        for (int i = 0; i < 100; i++) {
            char *row = screen_row(2);
            int at = -1;
            ck_assert_msg(sscanf(row, "L%d.", &at) == 1, "%s", row);
            free(row);
            if (prev > 0 && !step)
                step = at - prev;
            if (prev > 0)
                ck_assert_msg(at - prev == step, "from L%d. to L%d.: not one page", prev, at);
            prev = at;
            tui_app_key(app, KEY_NPAGE, 1);
            tui_app_render(app);
        }
        ck_assert_int_gt(prev, 2000);
    }
    type(app, "/L25000.\r"); /* later than the ring: the window pages on, n goes on */
    for (int i = 0; i < 100 && row_of("L25000.") < 0; i++) {
        tui_app_render(app);
        if (row_of("L25000.") < 0)
            tui_app_key(app, 'n', 0);
    }
    tui_app_render(app);
    ck_assert_int_gt(row_of("L25000."), 2);
    ck_assert(screen_has("L24999."));

    tui_app_key(app, 'G', 0);
    tui_app_render(app);
    ck_assert(screen_has("following"));
    ck_assert_int_ge(row_of("L50000."), 30);

    type(app, "/L17.\r"); /* only in the first lines: the server finds it */
    tui_app_render(app);
    ck_assert_int_gt(row_of("L17."), 2);
    ck_assert(screen_has("L16."));
    ck_assert(screen_has("paused"));

    tui_app_key(app, 'G', 0);
    type(app, "&^L4999[0-9]\\.$\r"); /* the matches of the whole log */
    tui_app_render(app);
    ck_assert(screen_has("10 matching in the whole log"));
    ck_assert_int_eq(rows_starting("L4999"), 10);
    ck_assert_int_eq(rows_starting("L"), 10);
    tui_app_key(app, 27, 0); /* Esc: the end again, every line */
    tui_app_render(app);
    ck_assert(screen_has("following"));
    ck_assert_int_ge(row_of("L50000."), 30);
    ck_assert(screen_has("L49970."));

    tui_app_headless_free(app);
    endwin();
    delscreen(scr);
    fclose(out);
    fclose(in);
}
END_TEST

START_TEST(a_locked_store_is_reported_then_cleared)
{
    char *db = hpt_path("data/hero_proc.db");
    sqlite3 *other = NULL;
    cJSON *params;

    ck_assert_int_eq(tui_model_services(&M, 1), 1);
    ck_assert_int_eq(tui_model_store(&M), 0);
    ck_assert_int_eq(sqlite3_open(db, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    params = cJSON_Parse("{\"config\":{\"name\":\"locked\",\"actions\":[{\"name\":\"a\","
                         "\"script\":\"true\"}]}}");
    cJSON_Delete(hpt_ok("service.set", params)); /* a change that must wait */
    ck_assert_msg(hpt_wait_until(store_changed, NULL, 10000), "the store never failed");
    ck_assert_int_eq(M.store.ok, 0);
    ck_assert_str_eq(M.store.error, "database is locked");
    ck_assert_int_gt(M.store.since_ms, 0);
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_msg(hpt_wait_until(store_changed, NULL, 15000), "the store never recovered");
    ck_assert_int_eq(M.store.ok, 1);
    ck_assert_ptr_null(M.store.error);
    free(db);
}
END_TEST

START_TEST(marked_rows_get_one_question_and_keep_their_marks_when_it_fails)
{
    headless h;

    headless_open(&h, 0);
    tui_app_key(h.app, ' ', 0); /* broken (problems first), then the selection moves on */
    tui_app_key(h.app, ' ', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("2 marked"));
    ck_assert_int_eq(row_starting("* broken"), 2);
    ck_assert(row_starting("* ") >= 0);
    tui_app_key(h.app, 'r', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("Restart 2 marked services: broken, "));
    ck_assert(screen_has("[ Restart 2 ]"));
    tui_app_key(h.app, 27, 0);
    tui_app_key(h.app, 'u', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("0 marked"));
    ck_assert_int_lt(row_starting("* "), 0); /* no marks: no gutter */
    type(h.app, "/web\r*");
    tui_app_key(h.app, 27, 0); /* the filter goes, the mark stays */
    tui_app_key(h.app, 'D', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("Delete 1 marked service (stopped first): web?"));
    tui_app_key(h.app, 'y', 0);
    tui_app_render(h.app);
    /* No server here: the row failed, says why, and stays marked to try again. */
    ck_assert(screen_has("deleted 0, failed 1: web (not connected"));
    ck_assert(row_starting("* web") >= 0);
    type(h.app, "**"); /* twice: each row marked once */
    tui_app_render(h.app);
    ck_assert(screen_has("4 marked"));
    type(h.app, "g ");
    tui_app_render(h.app);
    ck_assert(screen_has("3 marked"));
    ck_assert_int_lt(row_starting("* broken"), 0);
    ck_assert_int_eq(row_starting("  broken"), 2);
    headless_close(&h);
}
END_TEST

/* The lines of a file, -1 when it cannot be read. */
static int lines_in(const char *path)
{
    FILE *in = fopen(path, "r");
    int n = 0, c;

    if (!in)
        return -1;
    while ((c = fgetc(in)) != EOF)
        n += c == '\n';
    fclose(in);
    return n;
}

START_TEST(log_ampersand_takes_a_regex_inverted_with_a_bang_and_says_when_it_is_bad)
{
    headless h;

    headless_open(&h, 0);
    logs_of_200(&h);
    type(h.app, "&^line 1[0-9]$\r");
    tui_app_render(h.app);
    ck_assert(screen_has("&^line 1[0-9]$: 10 matching"));
    ck_assert(screen_has("&^line 1[0-9]$: 10 lines"));
    type(h.app, "&!line\r");
    tui_app_render(h.app);
    ck_assert(screen_has("&!line: 4 not matching"));
    ck_assert_int_ge(row_of("match 150"), 0);
    ck_assert_int_lt(row_of("line 199"), 0);
    type(h.app, "&li(ne\r");
    tui_app_render(h.app);
    ck_assert(screen_has("&li(ne: bad pattern ("));
    ck_assert(screen_has("line 199")); /* a bad pattern hides nothing */
    type(h.app, "&\r");
    tui_app_render(h.app);
    ck_assert(!screen_has("bad pattern"));
    headless_close(&h);
}
END_TEST

START_TEST(log_timestamps_cycle_and_long_lines_end_in_an_ellipsis)
{
    headless h;
    char long_line[300];
    hp_log_line line = {0};
    hp_log_page page = {&line, 1, 2, 0, 0};
    tui_frame *f;

    headless_open(&h, 0);
    f = logs_of_200(&h);
    memset(long_line, 'x', sizeof(long_line) - 1);
    long_line[sizeof(long_line) - 1] = '\0';
    line.seq = 201;
    line.ts_ms = 1764939903123; /* 2025-12-05 13:05:03.123 UTC */
    line.line = long_line;
    tui_view_logs_feed(f, &page);
    tui_app_render(h.app);
    ck_assert(screen_has("xxxxxxxx\xe2\x80\xa6"));
    tui_app_key(h.app, 't', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("13:05:03.123 xxxx"));
    ck_assert(!screen_has("2025-12-05 13:05"));
    tui_app_key(h.app, 't', 0);
    tui_app_render(h.app);
    ck_assert(screen_has("2025-12-05 13:05:03.123 xxxx"));
    ck_assert(screen_has("date and time"));
    tui_app_key(h.app, 't', 0);
    tui_app_render(h.app);
    ck_assert(!screen_has("13:05:03.123"));
    tui_app_key(h.app, 'w', 0); /* wrapped: no ellipsis, the whole line */
    tui_app_render(h.app);
    ck_assert(!screen_has("\xe2\x80\xa6"));
    headless_close(&h);
}
END_TEST

START_TEST(colon_w_saves_the_lines_shown_and_refuses_to_overwrite_without_a_bang)
{
    headless h;
    char dir[] = "/tmp/check_tui_w.XXXXXX", *path, cmd[512];

    ck_assert_ptr_nonnull(mkdtemp(dir));
    path = hp_test_join(dir, "saved.log");

    headless_open(&h, 0);
    logs_of_200(&h);
    snprintf(cmd, sizeof(cmd), "w %s", path);
    type_command(h.app, cmd);
    ck_assert(screen_has("wrote 200 lines to "));
    ck_assert_int_eq(lines_in(path), 200);
    type(h.app, "&match\r");
    type_command(h.app, cmd);
    ck_assert(screen_has("exists: :w! "));
    ck_assert_int_eq(lines_in(path), 200);
    snprintf(cmd, sizeof(cmd), "w! %s", path);
    type_command(h.app, cmd);
    ck_assert(screen_has("wrote 4 lines to "));
    ck_assert_int_eq(lines_in(path), 4);
    ck_assert_int_eq(unlink(path), 0);
    tui_app_key(h.app, 19, 0); /* Ctrl-S asks for the name, then as :w */
    tui_app_render(h.app);
    ck_assert(screen_has("save the lines shown to:"));
    type(h.app, path);
    type(h.app, "\r");
    tui_app_render(h.app);
    ck_assert(screen_has("wrote 4 lines to "));
    ck_assert_int_eq(lines_in(path), 4);
    free(path);
    hp_test_rmtree(dir);
    headless_close(&h);
}
END_TEST

START_TEST(colon_since_keeps_the_recent_lines_and_names_a_bad_time)
{
    headless h;
    static char text[60][16];
    hp_log_line lines[60];
    hp_log_page page = {lines, 60, 61, 0, 0};
    tui_frame proto = {.job_id = 9}, *f;
    int64_t now = tui_wall_ms();

    headless_open(&h, 0);
    f = tui_app_show(h.app, &tui_view_logs, &proto);
    memset(lines, 0, sizeof(lines));
    for (int i = 0; i < 60; i++) { /* one a minute, the last 30 s ago */
        snprintf(text[i], sizeof(text[i]), "minute %d", i);
        lines[i].seq = i + 1;
        lines[i].ts_ms = now - (int64_t)(59 - i) * 60000 - 30000;
        lines[i].line = text[i];
    }
    tui_view_logs_feed(f, &page);
    type_command(h.app, "since 10m");
    ck_assert(screen_has("since 10m: 10 lines"));
    ck_assert_int_lt(row_of("minute 49"), 0);
    ck_assert_int_ge(row_of("minute 50"), 0);
    type_command(h.app, "since 25:70");
    ck_assert(screen_has("bad time '25:70'"));
    type_command(h.app, "since");
    ck_assert(screen_has("every line again"));
    ck_assert(screen_has("minute 25"));
    headless_close(&h);
}
END_TEST

/* Writes text to dir/tui.json and loads it; returns tui_conf_load's answer. */
static int conf_from(const char *dir, const char *text, tui_conf *c, char *msg, size_t size)
{
    char *path = hp_test_join(dir, "tui.json");
    FILE *out = fopen(path, "w");
    int rc;

    ck_assert_ptr_nonnull(out);
    fputs(text, out);
    fclose(out);
    rc = tui_conf_load(path, c, msg, size);
    free(path);
    return rc;
}

START_TEST(the_settings_file_gives_keys_view_sort_refresh_and_colours)
{
    char dir[] = "/tmp/check_tui_conf.XXXXXX", msg[512], hints[512], lines[128][96];
    tui_conf c;
    /* The table is the process's: put it back for the tests after (CK_FORK=no). */
    tui_key_binding back[] = {{TUI_CMD_RESTART, 'r', 0, "r"}, {TUI_CMD_PAUSE, 'Z', 0, "Z"}};
    size_t n;
    int found = 0;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(conf_from(dir,
                               "{\"refresh\": 2.5, \"view\": \"runs\", \"sort\": \"-service\","
                               " \"theme\": {\"good\": \"blue\", \"bar\": \"white on 4\"},"
                               " \"keys\": {\"restart\": \"x\", \"pause\": \"Ctrl-P\"}}",
                               &c, msg, sizeof(msg)),
                     0);
    ck_assert_int_eq(c.interval_ms, 2500);
    ck_assert_ptr_eq(c.view, &tui_view_runs);
    ck_assert_int_eq(c.sort_col, 3); /* ID NAME SERVICE: the third */
    ck_assert_int_eq(c.sort_desc, 1);
    ck_assert_int_eq(c.fg[TUI_C_GREEN], COLOR_BLUE);
    ck_assert_int_eq(c.fg[TUI_C_BAR], COLOR_WHITE);
    ck_assert_int_eq(c.bg[TUI_C_BAR], 4);
    ck_assert_uint_eq(c.n_keys, 2);
    tui_key_bind(c.keys, c.n_keys);
    ck_assert_int_eq(tui_key_lookup('x', 0, TUI_SCOPE_SERVICES, 0), TUI_CMD_RESTART);
    ck_assert_int_eq(tui_key_lookup('r', 0, TUI_SCOPE_SERVICES, 0), TUI_CMD_NONE);
    ck_assert_int_eq(tui_key_lookup(16, 0, TUI_SCOPE_LOGS, 0), TUI_CMD_PAUSE);
    tui_key_hints(TUI_SCOPE_SERVICES, 0, hints, sizeof(hints));
    ck_assert_ptr_nonnull(strstr(hints, "x restart"));
    n = tui_key_help(TUI_SCOPE_SERVICES, 0, lines, 128);
    for (size_t i = 0; i < n; i++)
        found |= strncmp(lines[i], "Ctrl-P   pause live updates", 27) == 0;
    ck_assert_msg(found, "the help names the new key of pause");
    tui_key_bind(back, 2);
    ck_assert_int_eq(tui_key_lookup('r', 0, TUI_SCOPE_SERVICES, 0), TUI_CMD_RESTART);
    ck_assert_int_eq(tui_key_lookup('Z', 0, TUI_SCOPE_LOGS, 0), TUI_CMD_PAUSE);
    hp_test_rmtree(dir);
}
END_TEST

START_TEST(a_bad_settings_file_names_the_file_and_the_key_and_changes_nothing)
{
    char dir[] = "/tmp/check_tui_conf.XXXXXX", msg[512];
    tui_conf c;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(
        conf_from(dir, "{\"refresh\": \"fast\", \"view\": \"runs\"}", &c, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "/tui.json: \"refresh\" must be seconds"));
    ck_assert_ptr_null(c.view); /* nothing of a bad file is taken */
    ck_assert_int_eq(conf_from(dir, "{\"keys\": {\"restart\": \"s\"}}", &c, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "key \"s\" is already s's (start the service)"));
    ck_assert_uint_eq(c.n_keys, 0);
    ck_assert_int_eq(conf_from(dir, "{\"keys\": {\"reboot\": \"b\"}}", &c, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "unknown command \"keys.reboot\""));
    ck_assert_int_eq(conf_from(dir, "{\"theme\": {\"good\": \"mauve\"}}", &c, msg, sizeof(msg)),
                     -1);
    ck_assert_ptr_nonnull(strstr(msg, "\"theme.good\" must be a colour"));
    ck_assert_int_eq(
        conf_from(dir, "{\"view\": \"runs\", \"sort\": \"pid\"}", &c, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "\"sort\" must name a column of the Runs view"));
    ck_assert_int_eq(conf_from(dir, "{\"refresh\": 1,", &c, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "/tui.json: not a JSON object"));
    ck_assert_int_eq(conf_from(dir, "{\"colour\": 1}", &c, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "unknown key \"colour\""));
    ck_assert_int_eq(tui_key_lookup('r', 0, TUI_SCOPE_SERVICES, 0), TUI_CMD_RESTART);
    hp_test_rmtree(dir);
    ck_assert_int_eq(tui_conf_load("/nonexistent/tui.json", &c, msg, sizeof(msg)), 1);
}
END_TEST

/* ---- the events follower --------------------------------------------------------- */

typedef struct follow_seen {
    tui_events *ev;
    int state;
    int failed_exit; /* a job_exited with failed true came */
} follow_seen;

static int follower_state_or_failure(void *ud)
{
    follow_seen *s = ud;
    hp_event_page *page = tui_events_take(s->ev, &s->state);

    for (size_t i = 0; page && i < page->n_events; i++)
        s->failed_exit |= strcmp(page->events[i].kind, "job_exited") == 0 &&
                          page->events[i].failed && tui_event_is_failure(&page->events[i]);
    hp_event_page_free(page);
    return s->state == TUI_EVENTS_UNSUPPORTED || s->failed_exit;
}

static int follower_following(void *ud)
{
    follow_seen *s = ud;

    hp_event_page_free(tui_events_take(s->ev, &s->state));
    return s->state == TUI_EVENTS_FOLLOWING;
}

/* The fleet's view, as its loop polls it: update until lists came and every host said. */
typedef struct fleet_seen {
    tui_app *app;
    tui_frame *f;
} fleet_seen;

static int fleet_settled(void *ud)
{
    fleet_seen *s = ud;
    struct tui_fleet *fl;
    size_t down = 0;

    s->f->ops->update(s->app, s->f, 0);
    fl = tui_app_fleet(s->app);
    for (size_t i = 0; fl && i < tui_fleet_hosts(fl); i++)
        down += tui_fleet_host_at(fl, i)->state == TUI_HOST_DOWN;
    return fl && down == 3 && s->f->ops->rows(s->app, s->f) == 2;
}

/* The first screen row that contains text, -1 when none. */
static int row_with(const char *text)
{
    for (int y = 0; y < 40; y++) {
        char *row = screen_row(y);
        int hit = strstr(row, text) != NULL;
        free(row);
        if (hit)
            return y;
    }
    return -1;
}

static int64_t run_of(const char *name)
{
    cJSON *p = cJSON_CreateObject(), *r;
    int64_t id;

    cJSON_AddStringToObject(p, "name", name);
    r = hpt_ok("service.status", p);
    id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "run_id"));
    cJSON_Delete(r);
    return id;
}

/* Four hosts: the harness's server as context "one", a context nobody answers, one that
 * accepts and never answers, and local (an empty socket dir). The fleet lists one's
 * services with their host, marks the others down (the silent one at its timeout), filters
 * by host, and a restart of a row reaches one's server. */
START_TEST(the_fleet_merges_the_hosts_that_answer_and_routes_a_restart_to_its_host)
{
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    char *config = hpt_path("config"), *nolocal = hpt_path("nolocal"), *dir, *file;
    char *silent = hpt_path("silent.sock"), *reply = hpt_fake_http(200, "{}");
    const char *replies[] = {reply};
    hpt_fake *fake = hpt_fake_start(silent, replies, 1, 60000);
    fleet_seen s = {0};
    int64_t before;
    FILE *ctx;
    SCREEN *scr;

    cJSON_Delete(hpt_ok("service.set", cJSON_Parse("{\"config\":{\"name\":\"web\",\"actions\":"
                                                   "[{\"name\":\"main\",\"command\":"
                                                   "\"sleep 300\"}]}}")));
    cJSON_Delete(hpt_ok("service.set", cJSON_Parse("{\"config\":{\"name\":\"db\",\"actions\":"
                                                   "[{\"name\":\"main\",\"command\":"
                                                   "\"sleep 300\"}]}}")));
    cJSON_Delete(hpt_ok("service.start", cJSON_Parse("{\"name\":\"web\"}")));
    before = run_of("web");
    dir = hpt_path("config/hero_proc");
    file = hpt_path("config/hero_proc/contexts.json");
    ck_assert_int_eq(mkdir(config, 0700), 0);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ctx = fopen(file, "w");
    ck_assert_ptr_nonnull(ctx);
    fprintf(ctx,
            "{\"contexts\": [{\"name\": \"one\", \"socket\": \"%s\"}, {\"name\": \"gone\", "
            "\"socket\": \"%s/nobody.sock\"}, {\"name\": \"silent\", \"socket\": \"%s\"}]}\n",
            hpt_socket_path(), nolocal, silent);
    fclose(ctx);
    setenv("XDG_CONFIG_HOME", config, 1);
    setenv("PATH_SOCKET", nolocal, 1);
    unsetenv("HERO_PROC_CONTEXT");

    setenv("LINES", "40", 1);
    setenv("COLUMNS", "120", 1);
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
    scr = newterm("xterm", out, in);
    ck_assert_ptr_nonnull(scr);
    tui_draw_init(0, 1);
    s.app = tui_app_headless_new("-", 0);
    s.f = tui_app_show(s.app, &tui_view_fleet, NULL);
    ck_assert_msg(hpt_wait_until(fleet_settled, &s, 15000), "the fleet never settled");
    tui_app_render(s.app);
    ck_assert(screen_has("Fleet: 1 of 4 hosts answer"));
    ck_assert(screen_has("silent unreachable"));
    ck_assert_int_eq(tui_fleet_host_at(tui_app_fleet(s.app), 3)->state, TUI_HOST_DOWN);
    ck_assert_msg(strstr(tui_fleet_host_at(tui_app_fleet(s.app), 3)->reason, "imeout") ||
                      strstr(tui_fleet_host_at(tui_app_fleet(s.app), 3)->reason, "timed out"),
                  "%s", tui_fleet_host_at(tui_app_fleet(s.app), 3)->reason);
    ck_assert(screen_has("local unreachable"));
    ck_assert(screen_has("gone unreachable"));
    ck_assert_int_ge(row_with(" db "), 0);
    ck_assert_int_ge(row_with(" web "), 0);
    {
        char *row = screen_row(row_with(" web "));
        ck_assert_msg(strncmp(row + strspn(row, " "), "one ", 4) == 0, "%s", row);
        free(row);
    }

    ck_assert(s.f->ops->match(s.app, s.f, 0, "host:one"));
    ck_assert(!s.f->ops->match(s.app, s.f, 0, "host:gone"));
    ck_assert(!s.f->ops->match(s.app, s.f, 0, "host:one nosuchservice"));
    snprintf(s.f->filter, sizeof(s.f->filter), "host:one web");
    tui_app_render(s.app);
    ck_assert_int_ge(row_with(" web "), 0);
    ck_assert_int_lt(row_with(" db "), 0);

    tui_app_key(s.app, 'r', 0);
    tui_app_render(s.app);
    ck_assert(screen_has("Restart service 'web' on one?"));
    tui_app_key(s.app, 'y', 0);
    tui_app_render(s.app);
    ck_assert(screen_has("one: restarted"));
    ck_assert_int_ne(run_of("web"), before);

    tui_app_headless_free(s.app);
    endwin();
    delscreen(scr);
    fclose(out);
    fclose(in);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("PATH_SOCKET");
    free(config);
    free(nolocal);
    free(dir);
    free(file);
    free(hpt_fake_finish(fake));
    free(silent);
    free(reply);
}
END_TEST

START_TEST(the_follower_hands_a_failure_to_the_loop)
{
    follow_seen s = {0};

    {
        char *path = strdup(hpt_socket_path());
        s.ev = tui_events_start(&(hp_endpoint){.socket_path = path});
        free(path);
    }
    ck_assert_ptr_nonnull(s.ev);
    ck_assert_msg(hpt_wait_until(follower_following, &s, 10000), "not following");
    hpt_submit("boom", hpt_command("x", "false"), NULL);
    ck_assert_msg(hpt_wait_until(follower_state_or_failure, &s, 10000),
                  "the failed exit did not reach the loop");
    ck_assert(s.failed_exit);
    tui_events_stop(s.ev);
}
END_TEST

START_TEST(a_server_without_events_wait_is_told_apart_and_polled)
{
    char *path = hpt_path("old.sock");
    char *reply = hpt_fake_http(200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,"
                                     "\"message\":\"Method not found: events.wait\"}}");
    const char *replies[] = {reply};
    hpt_fake *fake = hpt_fake_start(path, replies, 1, 0);
    follow_seen s = {0};

    s.ev = tui_events_start(&(hp_endpoint){.socket_path = path});
    ck_assert_ptr_nonnull(s.ev);
    ck_assert_msg(hpt_wait_until(follower_state_or_failure, &s, 10000), "state %d", s.state);
    ck_assert_int_eq(s.state, TUI_EVENTS_UNSUPPORTED);
    tui_events_stop(s.ev);
    free(hpt_fake_finish(fake));
    free(reply);
    free(path);
}
END_TEST

/* A page of one event as the follower hands it over (the loop takes it). */
static hp_event_page *one_event(const char *kind, const char *service, int64_t run_id,
                                int64_t dropped)
{
    hp_event_page *p = calloc(1, sizeof(*p));

    ck_assert_ptr_nonnull(p);
    p->events = calloc(1, sizeof(*p->events));
    ck_assert_ptr_nonnull(p->events);
    p->n_events = 1;
    p->dropped = dropped;
    p->events[0] = (hp_event){.seq = 1,
                              .kind = strdup(kind),
                              .service = service ? strdup(service) : NULL,
                              .run_id = run_id,
                              .text = strdup(kind)};
    return p;
}

/* The RPCs one tick made (the store's health not due: it is not what is counted). */
static int64_t tick_calls(tui_app *app)
{
    tui_model *m = tui_app_model(app);
    int64_t before = m->calls;

    m->store_at_ms = tui_now_ms();
    tui_app_headless_tick(app);
    return m->calls - before;
}

static int web_inactive(void *ud)
{
    cJSON *st = hpt_ok("service.status", hpt_name("web"));
    int done = strcmp(hpt_str(st, "status"), "inactive") == 0;

    (void)ud;
    cJSON_Delete(st);
    return done;
}

/* Following events, a tick asks the server only when an event concerned the view, events
 * were lost or following began, or for the cost of a running service; without events
 * every tick polls. */
START_TEST(following_events_a_tick_fetches_only_what_an_event_concerns)
{
    tui_app *app = tui_app_headless_new(hpt_socket_path(), 0);
    tui_model *m = tui_app_model(app);
    tui_frame *f;
    hp_error err;
    cJSON *r;
    int64_t run_id;

    m->client = hp_factory_local_uds(hpt_socket_path(), &err);
    ck_assert_msg(m->client != NULL, "%s", err.message);
    hpt_service_set("web", "stop", hpt_script("serve", "exec sleep 600"), NULL);
    tui_app_show(app, &tui_view_runs, NULL);
    /* The follower has not answered yet: each tick polls, as with an older server. */
    ck_assert_int_eq(tick_calls(app), 1);
    ck_assert_int_eq(tick_calls(app), 1);

    /* Following: the view fetched whole once, then nothing while nothing happens. */
    tui_app_headless_events(app, TUI_EVENTS_FOLLOWING, NULL);
    ck_assert_int_eq(tick_calls(app), 1);
    ck_assert_int_eq(tick_calls(app), 0);
    ck_assert_int_eq(tick_calls(app), 0);

    /* web started: its event brings its run into the Runs view at the next tick. */
    r = hpt_ok("service.start", hpt_name("web"));
    run_id = hpt_int(r, "id");
    cJSON_Delete(r);
    tui_app_headless_events(app, TUI_EVENTS_FOLLOWING, one_event("job_started", "web", run_id, 0));
    ck_assert_int_eq(tick_calls(app), 1);
    ck_assert_ptr_nonnull(m->runs);
    ck_assert_int_eq(m->runs->n_runs, 1);
    ck_assert_int_eq(tick_calls(app), 0);

    /* The Jobs of another run: web's events do not concern it. */
    f = tui_app_push(app, &tui_view_jobs, &(tui_frame){.run_id = run_id + 1000});
    f->ops->update(app, f, 1); /* the first look, as the key that opens it does */
    tui_app_headless_events(app, TUI_EVENTS_FOLLOWING, one_event("job_exited", "web", run_id, 0));
    ck_assert_int_eq(tick_calls(app), 0);

    /* Services with web running: its CPU% and MEM move without events, asked each tick. */
    f = tui_app_show(app, &tui_view_services, NULL);
    f->ops->update(app, f, 1);
    ck_assert_int_eq(tick_calls(app), 1);
    ck_assert_int_eq(tick_calls(app), 1);
    /* Stopped, nothing runs: the view is quiet again. */
    cJSON_Delete(hpt_ok("service.stop", hpt_name("web")));
    ck_assert(hpt_wait_until(web_inactive, NULL, 10000));
    tui_app_headless_events(app, TUI_EVENTS_FOLLOWING, one_event("run_ended", "web", run_id, 0));
    ck_assert_int_eq(tick_calls(app), 1);
    ck_assert_int_eq(tick_calls(app), 0);
    /* An ad-hoc run changes no service. */
    tui_app_headless_events(app, TUI_EVENTS_FOLLOWING, one_event("run_ended", NULL, 77, 0));
    ck_assert_int_eq(tick_calls(app), 0);
    /* Events lost by the server's ring: the view fetched whole. */
    tui_app_headless_events(app, TUI_EVENTS_FOLLOWING, one_event("job_started", NULL, 78, 5));
    ck_assert_int_eq(tick_calls(app), 1);
    ck_assert_int_eq(tick_calls(app), 0);

    /* The follower lost the server: polling again at each tick. */
    tui_app_headless_events(app, TUI_EVENTS_TRYING, NULL);
    ck_assert_int_eq(tick_calls(app), 1);
    ck_assert_int_eq(tick_calls(app), 1);
    tui_app_headless_free(app);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tui");
    TCase *tc = tcase_create("screens");

    tcase_add_loop_test(tc, view_matches_its_golden, 0, N_CASES);
    suite_add_tcase(s, tc);
    tc = tcase_create("parts");
    tcase_add_test(tc, every_key_in_the_help_maps_to_a_command);
    tcase_add_test(tc, enter_opens_a_services_jobs_and_escape_and_q_go_back);
    tcase_add_test(tc, a_click_selects_a_row_and_the_wheel_scrolls);
    tcase_add_test(tc, the_command_line_opens_forms);
    tcase_add_test(tc, the_focus_and_the_selected_action_are_highlighted);
    tcase_add_test(tc, a_new_service_form_checks_the_field_left_and_names_the_problem);
    tcase_add_test(tc, submitting_a_form_with_problems_lists_them_and_sends_nothing);
    tcase_add_test(tc, preview_shows_the_request_and_the_hero_proc_command);
    tcase_add_test(tc, escape_asks_before_discarding_and_n_keeps_what_was_typed);
    tcase_add_test(tc, a_click_focuses_a_field_and_picks_an_action);
    tcase_add_test(tc, a_run_form_offers_restart_always_only_while_an_action_has_it);
    tcase_add_test(tc, a_script_the_field_cannot_show_is_kept_whole_and_left_to_the_editor);
    tcase_add_test(tc, a_script_taller_than_its_field_keeps_every_line_as_it_is_edited);
    tcase_add_test(tc, a_confirmation_cancels_by_default);
    tcase_add_test(tc, stopping_a_required_service_names_its_dependants_first);
    tcase_add_test(tc, read_only_refuses_the_actions);
    tcase_add_test(tc, marked_rows_get_one_question_and_keep_their_marks_when_it_fails);
    tcase_add_test(tc, slash_filters_the_rows_and_escape_clears_it);
    tcase_add_test(tc, long_names_are_shortened_in_the_middle);
    tcase_add_test(tc, sort_keys_move_the_column_and_invert_keeping_the_selection);
    tcase_add_test(tc, sorting_the_jobs_by_id_and_status_again);
    tcase_add_test(tc, log_search_pauses_follow_and_n_N_keep_the_match_off_the_edges);
    tcase_add_test(tc, log_ampersand_shows_only_matching_lines_and_empty_clears);
    tcase_add_test(tc, log_ampersand_takes_a_regex_inverted_with_a_bang_and_says_when_it_is_bad);
    tcase_add_test(tc, log_timestamps_cycle_and_long_lines_end_in_an_ellipsis);
    tcase_add_test(tc, colon_w_saves_the_lines_shown_and_refuses_to_overwrite_without_a_bang);
    tcase_add_test(tc, colon_since_keeps_the_recent_lines_and_names_a_bad_time);
    tcase_add_test(tc, read_only_hints_show_no_actions);
    tcase_add_test(tc, fleet_hints_name_only_the_keys_that_work_there);
    tcase_add_test(tc, services_and_fleet_rows_sort_by_the_same_rules);
    tcase_add_test(tc, the_settings_file_gives_keys_view_sort_refresh_and_colours);
    tcase_add_test(tc, a_bad_settings_file_names_the_file_and_the_key_and_changes_nothing);
    tcase_add_test(tc, the_command_parser_takes_prefixes_and_names_what_is_wrong);
    tcase_add_test(tc, tab_completes_command_names);
    tcase_add_test(tc, the_command_line_switches_views_and_reports_mistakes);
    tcase_add_test(tc, the_command_line_respects_read_only);
    tcase_add_test(tc, the_help_scrolls_when_it_does_not_fit);
    tcase_add_test(tc, a_service_log_moves_to_the_new_run_with_a_separator);
    tcase_add_test(tc, log_ring_evicts_the_oldest_and_counts_them);
    tcase_add_test(tc, log_ring_keeps_within_its_byte_cap);
    tcase_add_test(tc, log_ring_takes_older_lines_in_front_and_evicts_the_newest);
    tcase_add_test(tc, text_width_escapes_control_characters_and_counts_wide_ones);
    tcase_add_test(tc, durations_read_as_people_say_them);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_add_checked_fixture(tc, model_setup, model_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, store_health_is_asked_at_most_every_two_seconds_and_only_while_connected);
    tcase_add_test(tc, a_locked_store_is_reported_then_cleared);
    tcase_add_test(tc, a_job_log_larger_than_the_ring_is_a_window_that_g_slash_and_ampersand_move);
    tcase_add_test(tc, the_follower_hands_a_failure_to_the_loop);
    tcase_add_test(tc, the_fleet_merges_the_hosts_that_answer_and_routes_a_restart_to_its_host);
    tcase_add_test(tc, a_server_without_events_wait_is_told_apart_and_polled);
    tcase_add_test(tc, following_events_a_tick_fetches_only_what_an_event_concerns);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(suite());
}
