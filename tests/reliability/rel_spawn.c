/* SPDX-License-Identifier: Apache-2.0 */
/* One-shot runs in a burst, with cgroups and without: 250 runs submitted one after another
 * (true, false, and a command that does not exist) end with their exact states and exit
 * codes, leave no zombie and no fd behind, and go at no less than a tenth of a plain
 * vfork/exec/wait loop measured in the same test (figures printed as "# ..."). */
#include "config.h"

#include "../check_common.h"
#include "../server_harness.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 60000, RUNS = 250 };

/* Runs per second of vfork, exec `true` (on PATH, as the daemon finds it), wait. */
static double exec_floor(int n)
{
    static char name[] = "true";
    char *const argv[] = {name, NULL};
    int64_t t0 = hpt_now_ms();

    for (int i = 0; i < n; i++) {
        pid_t pid = vfork();
        if (pid == 0) {
            execvp(argv[0], argv);
            _exit(127);
        }
        ck_assert_int_gt(pid, 0);
        ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    }
    return n * 1000.0 / (double)(hpt_now_ms() - t0 + 1);
}

/* Run i's command: mostly true, every 7th false, every 10th one that cannot start. */
static const char *command_of(int i)
{
    return i % 10 == 9 ? "/nonexistent/hero_proc_spawn_test" : i % 7 == 6 ? "false" : "true";
}

/* _i = 0 with cgroups where the daemon can make them, 1 with --no-cgroups. */
START_TEST(a_burst_of_one_shot_runs_ends_exactly_and_leaves_nothing_behind)
{
    int64_t first = 0, t0;
    int fds_before, fds_after;
    double floor, rate;

    if (_i) {
        int status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
        hpt_server_extra_args("--no-cgroups", NULL);
        hpt_server_start();
    }
    /* One run first, so what the first spawn sets up once is not counted as a leak. */
    cJSON_Delete(hpt_wait_run(hpt_submit("warm", hpt_command("t", "true"), NULL), DEADLINE_MS));
    fds_before = hpt_settled_fd_count(hpt_server_pid());
    floor = exec_floor(200);
    t0 = hpt_now_ms();
    for (int i = 0; i < RUNS; i++) {
        int64_t id = hpt_submit("burst", hpt_command("t", command_of(i)), NULL);
        if (i == 0)
            first = id;
        ck_assert_int_eq(id, first + i);
    }
    for (int i = 0; i < RUNS; i++) {
        cJSON *run = hpt_wait_run(first + i, DEADLINE_MS);
        const cJSON *job = hpt_job_of(run, "t");
        const char *cmd = command_of(i);
        if (strcmp(cmd, "true") == 0) {
            ck_assert_str_eq(hpt_str(job, "status"), "succeeded");
            ck_assert_int_eq(hpt_int(job, "exit_code"), 0);
        } else if (strcmp(cmd, "false") == 0) {
            ck_assert_str_eq(hpt_str(job, "status"), "failed");
            ck_assert_int_eq(hpt_int(job, "exit_code"), 1);
        } else {
            ck_assert_str_eq(hpt_str(job, "status"), "failed");
            ck_assert_ptr_nonnull(strstr(hpt_str(job, "error"), "cannot execute"));
        }
        cJSON_Delete(run);
    }
    rate = RUNS * 1000.0 / (double)(hpt_now_ms() - t0 + 1);
    ck_assert(hpt_wait_until(hpt_no_server_zombies, NULL, DEADLINE_MS));
    fds_after = hpt_settled_fd_count(hpt_server_pid());
    printf("# %s: %d one-shot runs at %.0f/s, exec floor %.0f/s (%.2f); daemon fds %d "
           "before, %d after\n",
           _i ? "--no-cgroups" : "cgroups", RUNS, rate, floor, rate / floor, fds_before, fds_after);
    ck_assert_int_eq(fds_after, fds_before);
    ck_assert_msg(rate >= floor / 10, "%.0f runs/s, a tenth of the floor is %.0f", rate,
                  floor / 10);
}
END_TEST

static Suite *rel_spawn_suite(void)
{
    Suite *s = suite_create("rel_spawn");
    TCase *tc = tcase_create("spawn");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, a_burst_of_one_shot_runs_ends_exactly_and_leaves_nothing_behind, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(rel_spawn_suite());
}
