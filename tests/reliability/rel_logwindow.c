/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's Logs view over a job of 1 000 000 lines on a real hero_proc_server,
 * headless: g, / of a line only at the top and & of a rare pattern each show their lines
 * within 500 ms (ten times the goal of tui_bench), & shows every match and only those,
 * and Esc goes back to the end. Figures go to stderr; bench/tui_bench measures the real
 * binary in a pty. */
#include "config.h"

#include "../check_common.h"
#include "../server_harness.h"
#include "builders/factory.h"
#include "tui/draw.h"
#include "tui/tui.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_ROWS = 40, N_COLS = 120, BOUND_MS = 500 };

/* One of job 1's newest lines (then comes its exit) is "end-of-the-log". */
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
        done |= cJSON_IsString(text) && strcmp(text->valuestring, "end-of-the-log") == 0;
    }
    cJSON_Delete(r);
    return done;
}

/* The screen row that is exactly text, -1 when none. */
static int row_of(const char *text)
{
    for (int y = 0; y < N_ROWS; y++) {
        char row[N_COLS + 1];
        size_t n;
        mvwinnstr(stdscr, y, 0, row, N_COLS);
        row[N_COLS] = '\0';
        n = strlen(row);
        while (n > 0 && row[n - 1] == ' ')
            row[--n] = '\0';
        if (strcmp(row, text) == 0)
            return y;
    }
    return -1;
}

/* Rows that are a number ending in 77777 (77777, 177777, ... 977777). */
static int rare_rows(void)
{
    int n = 0;

    for (int y = 0; y < N_ROWS; y++) {
        char row[N_COLS + 1];
        size_t len;
        mvwinnstr(stdscr, y, 0, row, N_COLS);
        row[N_COLS] = '\0';
        len = strspn(row, "0123456789");
        n += len >= 5 && strspn(row + len, " ") == strlen(row + len) &&
             strncmp(row + len - 5, "77777", 5) == 0;
    }
    return n;
}

/* Keys typed, then refreshes (the searches go on in slices) until text is on the screen:
 * the milliseconds it took, or -1 after 30 s. */
static double shown_after(tui_app *app, tui_frame *f, const char *keys, const char *text)
{
    int64_t t0 = hpt_now_ms();

    for (const char *k = keys; *k; k++)
        tui_app_key(app, (unsigned char)*k, 0);
    for (;;) {
        tui_app_render(app);
        if (row_of(text) >= 0)
            return (double)(hpt_now_ms() - t0);
        if (hpt_now_ms() - t0 > 30000)
            return -1;
        f->ops->update(app, f, 0);
    }
}

START_TEST(a_million_line_log_shows_its_top_a_match_and_a_filter_within_bounds)
{
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    cJSON *params = cJSON_Parse("{\"name\":\"million\",\"actions\":[{\"name\":\"million\","
                                "\"script\":\"echo needle-at-the-top; seq 1 1000000; "
                                "echo end-of-the-log\"}]}");
    tui_frame proto = {.job_id = 1}, *f;
    tui_app *app;
    hp_error err;
    SCREEN *scr;
    double g, find, grep;

    cJSON_Delete(hpt_ok("run.submit", params));
    ck_assert_msg(hpt_wait_until(job_logged, NULL, 60000), "the job's lines never came");
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
    f->ops->update(app, f, 1);

    ck_assert_double_ge(shown_after(app, f, "G", "end-of-the-log"), 0);
    g = shown_after(app, f, "g", "needle-at-the-top");
    ck_assert_double_ge(shown_after(app, f, "G", "end-of-the-log"), 0);
    find = shown_after(app, f, "/needle-at-the\r", "needle-at-the-top");
    ck_assert_double_ge(shown_after(app, f, "G", "end-of-the-log"), 0);
    grep = shown_after(app, f, "&^[0-9]*77777$\r", "977777");
    fprintf(stderr, "rel_logwindow: 1000000 lines: g %.0f ms, / %.0f ms, & %.0f ms\n", g, find,
            grep);
    ck_assert_msg(g >= 0 && g < BOUND_MS, "g took %.0f ms", g);
    ck_assert_msg(find >= 0 && find < BOUND_MS, "/ took %.0f ms", find);
    ck_assert_msg(grep >= 0 && grep < BOUND_MS, "& took %.0f ms", grep);
    for (int i = 0; i < 100 && rare_rows() < 10; i++) {
        f->ops->update(app, f, 0);
        tui_app_render(app);
    }
    ck_assert_int_eq(rare_rows(), 10); /* every match of the whole log, and only those */

    tui_app_key(app, 27, 0); /* Esc: every line again, the end followed */
    ck_assert_double_ge(shown_after(app, f, "", "end-of-the-log"), 0);
    ck_assert_int_ge(row_of("1000000"), N_ROWS - 6);

    tui_app_headless_free(app);
    endwin();
    delscreen(scr);
    fclose(out);
    fclose(in);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rel_logwindow");
    TCase *tc = tcase_create("rel_logwindow");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_million_line_log_shows_its_top_a_match_and_a_filter_within_bounds);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
