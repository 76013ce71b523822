/* SPDX-License-Identifier: Apache-2.0 */
/* The events of 1 000 quick runs read while they happen: every seq once, in order, no
 * gap and nothing dropped, and each run's job_started, job_exited and run_ended in that
 * order. The time from the last submit to its run_ended is printed as "# ...". */
#include "config.h"

#include "../check_common.h"
#include "../server_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNS = 1000, DEADLINE_MS = 60000 };

/* What the reader has seen: per run, the step it reached (1 started, 2 exited, 3 ended). */
typedef struct seen {
    int64_t cursor;
    int64_t first_run;
    int step[RUNS];
    int ended;
} seen;

/* Reads what is there (or waits up to wait_ms for it) and checks it. */
static void drain(seen *s, int wait_ms)
{
    cJSON *page = hpt_ok("events.wait", hpt_jsonf("{\"after_seq\":%lld,\"timeout_ms\":%d}",
                                                  (long long)s->cursor, wait_ms));
    const cJSON *e;

    ck_assert_int_eq(hpt_int(page, "dropped"), 0);
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(page, "events")) {
        const char *kind = hpt_str(e, "kind");
        int64_t run = hpt_int(e, "run_id") - s->first_run;
        int want = strcmp(kind, "job_started") == 0  ? 1
                   : strcmp(kind, "job_exited") == 0 ? 2
                   : strcmp(kind, "run_ended") == 0  ? 3
                                                     : 0;

        ck_assert_int_eq(hpt_int(e, "seq"), s->cursor + 1);
        s->cursor++;
        ck_assert_msg(want > 0, "unexpected event %s", kind);
        ck_assert_msg(run >= 0 && run < RUNS, "event of run %lld", (long long)run);
        ck_assert_msg(s->step[run] == want - 1, "run %lld: %s after step %d", (long long)run, kind,
                      s->step[run]);
        s->step[run] = want;
        s->ended += want == 3;
    }
    ck_assert_int_eq(hpt_int(page, "last_seq"), s->cursor);
    cJSON_Delete(page);
}

static int all_ended(void *ud)
{
    seen *s = ud;

    drain(s, 0);
    return s->ended == RUNS;
}

START_TEST(thousand_quick_runs_give_every_event_once_in_order)
{
    static seen s;
    int64_t t0, last = 0;

    memset(&s, 0, sizeof(s));
    s.first_run = 1;
    for (int i = 0; i < RUNS; i++) {
        last = hpt_submit("q", hpt_command("t", "true"), NULL);
        ck_assert_int_eq(last, s.first_run + i);
        if (i % 25 == 24)
            drain(&s, 0);
    }
    t0 = hpt_now_ms();
    ck_assert_msg(hpt_wait_until(all_ended, &s, DEADLINE_MS), "%d of %d runs ended", s.ended, RUNS);
    printf("# %d runs: %lld events in order, none dropped; the last ended %lld ms after its "
           "submit\n",
           RUNS, (long long)s.cursor, (long long)(hpt_now_ms() - t0));
}
END_TEST

static Suite *rel_events_suite(void)
{
    Suite *s = suite_create("rel_events");
    TCase *tc = tcase_create("events");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, thousand_quick_runs_give_every_event_once_in_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(rel_events_suite());
}
