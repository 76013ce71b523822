/* SPDX-License-Identifier: Apache-2.0 */
/* The log under a flood and through the daemon's death: a SIGTERM loses no captured line,
 * a kill -9 loses at most what waited for the next flush (20 ms) and the files open
 * cleanly afterwards, and control calls stay quick while ten jobs flood their logs. */
#include "config.h"

#include "../check_common.h"
#include "../server_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 30000 };

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The job's stdout lines are "1", "2", ...: the number of the last one kept, checking
 * that they come in order with no gap from the first one kept. It stops at the first page
 * that is not full: a flood captured faster than pages are read (a slow build of the
 * daemon) would otherwise be chased for ever. */
/* The flood's stdout lines "1".."N" read back: returns N of the unbroken run from 1;
 * *gaps (when not NULL) counts the breaks after it, which fail the test when NULL, and
 * *last the last line's number. */
static int64_t counted_run(int64_t job, int *gaps, int64_t *last)
{
    int64_t after = 0, want = 0, prefix = -1;

    if (gaps)
        *gaps = 0;
    for (;;) {
        cJSON *params = hpt_id(job), *page, *lines, *line;
        int n_lines;

        cJSON_AddNumberToObject(params, "after_seq", (double)after);
        cJSON_AddNumberToObject(params, "limit", 10000);
        page = hpt_ok("job.logs", params);
        lines = cJSON_GetObjectItemCaseSensitive(page, "lines");
        n_lines = cJSON_GetArraySize(lines);
        cJSON_ArrayForEach (line, lines) {
            long long n;
            if (strcmp(hpt_str(line, "stream"), "stdout") != 0)
                continue;
            n = atoll(hpt_str(line, "line"));
            if (want && n != want) {
                ck_assert_msg(gaps && n > want, "line %lld where %lld was due", n, (long long)want);
                (*gaps)++;
                if (prefix < 0)
                    prefix = want - 1;
            }
            want = n + 1;
        }
        after = hpt_int(page, "next_seq");
        cJSON_Delete(page);
        if (n_lines < 10000) {
            if (last)
                *last = want ? want - 1 : 0;
            return prefix >= 0 ? prefix : want ? want - 1 : 0;
        }
    }
}

static int64_t counted_prefix(int64_t job)
{
    return counted_run(job, NULL, NULL);
}

/* A run flooding "1".."N", and its job once it has printed something. */
static int64_t start_flood(void)
{
    /* A write per line from the shell, with a pause every thousand lines: the test's
     * reads keep up, and the log stays far from the retention's bound. */
    int64_t id = hpt_submit("flood",
                            hpt_script("count", "i=0; while [ $i -lt 100000000 ]; do "
                                                "i=$((i + 1)); echo $i; "
                                                "[ $((i % 1000)) = 0 ] && sleep 0.01; done"),
                            NULL),
            job = 0;

    for (int i = 0; i < 500; i++) {
        cJSON *run = hpt_ok("run.get", hpt_id(id));
        job = hpt_int_or0(hpt_job_of(run, "count"), "id");
        cJSON_Delete(run);
        if (job && counted_prefix(job) > 1000)
            return job;
        usleep(10000);
    }
    ck_abort_msg("the flood never started");
    return 0;
}

START_TEST(sigterm_keeps_every_line_a_client_could_see)
{
    int64_t job = start_flood(), seen = counted_prefix(job), kept;
    int status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
    hpt_server_start();
    kept = counted_prefix(job);
    printf("# SIGTERM: %lld lines seen before, %lld kept\n", (long long)seen, (long long)kept);
    ck_assert_int_ge(kept, seen);
}
END_TEST

/* The job outlives the daemon (the pipe holder keeps its pipe): what the dead daemon had
 * read but not flushed is one gap at most (none when it was killed right after a flush),
 * and the new daemon reads on what the job writes. */
START_TEST(kill_9_loses_at_most_the_last_flush_and_the_files_open)
{
    int64_t job = start_flood(), seen, kept, last = 0, first_read = 0;
    int gaps;

    seen = counted_prefix(job);
    usleep(100000); /* five flush intervals: every line seen is in the files now */
    hpt_server_crash_and_restart();
    counted_run(job, &gaps, &first_read);
    usleep(200000); /* the job writes on, read by the new daemon */
    cJSON_Delete(hpt_ok("job.cancel", hpt_id(job)));
    kept = counted_run(job, &gaps, &last);
    printf("# kill -9: %lld lines seen 100 ms before, %lld kept before the gap (%d gaps), "
           "%lld at the restart, %lld in all\n",
           (long long)seen, (long long)kept, gaps, (long long)first_read, (long long)last);
    ck_assert_int_ge(kept, seen);
    ck_assert_int_le(gaps, 1);
    if (last <= first_read)
        hpt_server_dump_log();
    ck_assert_msg(last > first_read, "no line read in the 200 ms after the restart (last %lld)",
                  (long long)last);
    /* the files take new lines after the cut */
    {
        int64_t id = hpt_submit("after", hpt_script("p", "echo after the crash"), NULL);
        cJSON *run = hpt_wait_run(id, DEADLINE_MS);
        cJSON *lines = hpt_job_lines(hpt_int(hpt_job_of(run, "p"), "id"));

        ck_assert_int_ge(hpt_find_line(lines, "stdout", "after the crash", 0), 0);
        cJSON_Delete(lines);
        cJSON_Delete(run);
    }
}
END_TEST

START_TEST(service_list_stays_quick_while_ten_jobs_flood)
{
    enum { CALLS = 200 };
    int64_t t[CALLS], run;
    char name[32];
    cJSON *actions = cJSON_CreateArray(), *params = cJSON_CreateObject();

    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "idle%02d", i);
        hpt_service_set(name, "stop", hpt_script("p", "sleep 100"), NULL);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        cJSON_AddItemToArray(actions,
                             hpt_command(name, "yes 'a line of a hundred bytes, more or less, "
                                               "the size of a log line of a busy service....'"));
    }
    cJSON_AddStringToObject(params, "name", "flood10");
    cJSON_AddItemToObject(params, "actions", actions);
    {
        cJSON *r = hpt_ok("run.submit", params);
        run = hpt_int(r, "id");
        cJSON_Delete(r);
    }
    usleep(500000);
    for (int i = 0; i < CALLS; i++) {
        int64_t t0 = hpt_now_ms();
        cJSON_Delete(hpt_ok("service.list", NULL));
        t[i] = hpt_now_ms() - t0;
        usleep(5000);
    }
    cJSON_Delete(hpt_ok("run.cancel", hpt_id(run)));
    qsort(t, CALLS, sizeof(*t), cmp_int64);
    printf("# service.list while 10 jobs flood: p50 %lld ms, p99 %lld ms, max %lld ms\n",
           (long long)t[CALLS / 2], (long long)t[CALLS * 99 / 100], (long long)t[CALLS - 1]);
    /* The goal is 5 ms at p99 (bench/server_bench measures it). Here the test's own
     * process competes with the ten floods for two cores, so its p99 is the scheduler's
     * (97-175 ms seen with three busy loops beside): what must hold on any machine is that
     * the typical call stays quick and that no call waits for the floods to end. */
    ck_assert_int_le(t[CALLS / 2], 50);
    ck_assert_int_le(t[CALLS - 1], 2000);
}
END_TEST

static Suite *logs_suite(void)
{
    Suite *s = suite_create("rel_logs");
    TCase *tc = tcase_create("logs");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_add_test(tc, sigterm_keeps_every_line_a_client_could_see);
    tcase_add_test(tc, kill_9_loses_at_most_the_last_flush_and_the_files_open);
    tcase_add_test(tc, service_list_stays_quick_while_ten_jobs_flood);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(logs_suite());
}
