/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's processes under abuse: a crash loop backs off while a service that was up
 * longer than --min-uptime-ms comes back at once (timings printed as "# ..."), 1 000
 * kills of a restart=always service leave the daemon's fd count unchanged and no zombie
 * behind, and a job that scatters setsid and double-fork escapees loses them all on
 * service.stop. */
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

enum { DEADLINE_MS = 20000 };

static void restart_with(const char *opt, const char *value)
{
    int status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
    hpt_server_extra_args(opt, value);
    hpt_server_start();
}

static cJSON *always(cJSON *action)
{
    cJSON_AddStringToObject(action, "restart", "always");
    return action;
}

static void start(const char *name)
{
    cJSON_Delete(hpt_ok("service.start", hpt_name(name)));
}

/* The running pid and attempt of the service's action "main", 0 when not running. */
typedef struct probe {
    const char *service;
    pid_t not_pid;
    int min_attempt;
    pid_t pid;
    int attempt;
} probe;

static int running(void *ud)
{
    probe *p = ud;
    cJSON *st = hpt_ok("service.status", hpt_name(p->service));
    const cJSON *job = hpt_job_of(st, "main");

    p->pid = 0;
    p->attempt = (int)hpt_int_or0(job, "attempt");
    if (strcmp(hpt_str(job, "status"), "running") == 0 && hpt_int_or0(job, "pid") > 0)
        p->pid = (pid_t)hpt_int(job, "pid");
    cJSON_Delete(st);
    return p->pid > 0 && p->pid != p->not_pid && p->attempt >= p->min_attempt;
}

/* A few immediate tries before the 20 ms polls of hpt_wait_until: a restart at once is
 * seen within a millisecond or two, and the timings say so. */
static int wait_running(probe *p)
{
    for (int i = 0; i < 50; i++)
        if (running(p))
            return 1;
    return hpt_wait_until(running, p, DEADLINE_MS);
}

static int attempt_reached(void *ud)
{
    probe *p = ud;

    running(p);
    return p->attempt >= p->min_attempt;
}

static int64_t elapsed_since;

static int up_for_400_ms(void *ud)
{
    (void)ud;
    return hpt_now_ms() - elapsed_since >= 400;
}

START_TEST(crash_loop_backs_off)
{
    probe p = {"crash", 0, 0, 0, 0};
    int64_t at[4];

    hpt_service_set("crash", NULL, always(hpt_script("main", "exit 1")), NULL);
    start("crash");
    for (int a = 1; a <= 3; a++) {
        p.min_attempt = a;
        ck_assert(hpt_wait_until(attempt_reached, &p, DEADLINE_MS));
        at[a] = hpt_now_ms();
    }
    printf("# crash loop: attempt 1->2 after %lld ms, 2->3 after %lld ms (backoff 1 s, 2 s)\n",
           (long long)(at[2] - at[1]), (long long)(at[3] - at[2]));
    /* It backs off: the second wait is the doubled one, never an immediate restart. */
    ck_assert_int_ge(at[3] - at[2], 1000);
}
END_TEST

START_TEST(long_running_service_killed_is_back_at_once)
{
    probe p = {"long", 0, 0, 0, 0};
    int64_t worst = 0;

    restart_with("--min-uptime-ms", "300");
    hpt_service_set("long", NULL, always(hpt_command("main", "sleep 1000")), NULL);
    start("long");
    ck_assert(hpt_wait_until(running, &p, DEADLINE_MS));
    for (int k = 0; k < 5; k++) {
        pid_t old = p.pid;
        int64_t t0;
        elapsed_since = hpt_now_ms();
        ck_assert(hpt_wait_until(up_for_400_ms, NULL, DEADLINE_MS));
        t0 = hpt_now_ms();
        ck_assert_int_eq(kill(old, SIGKILL), 0);
        p.not_pid = old;
        ck_assert(wait_running(&p));
        if (hpt_now_ms() - t0 > worst)
            worst = hpt_now_ms() - t0;
    }
    printf("# long-running service killed: back within %lld ms (worst of 5)\n", (long long)worst);
    ck_assert_int_lt(worst, 500);
}
END_TEST

START_TEST(thousand_kills_leave_no_fd_and_no_zombie)
{
    probe p = {"churn", 0, 0, 0, 0};
    int fds_before, fds_after;
    int64_t t0;

    restart_with("--min-uptime-ms", "0");
    /* The shell leader has a child in its group: each kill also orphans a sleep. */
    hpt_service_set("churn", NULL, always(hpt_script("main", "sleep 1000 & wait")), NULL);
    start("churn");
    ck_assert(hpt_wait_until(running, &p, DEADLINE_MS));
    fds_before = 0;
    t0 = hpt_now_ms();
    for (int k = 0; k < 1000; k++) {
        pid_t old = p.pid;
        /* Counted once what the daemon opens on first use is open (the job's log files
         * stay open while it runs). Two CI runs counted 19 after 10 kills and 20 after
         * 1000 (here 20 and 20): one fd opened once, later. A leak grows with the 700
         * kills after the count. */
        if (k == 300)
            fds_before = hpt_settled_fd_count(hpt_server_pid());
        ck_assert_int_eq(kill(old, SIGKILL), 0);
        p.not_pid = old;
        ck_assert(wait_running(&p));
        if (k % 50 == 0)
            ck_assert_msg(hpt_wait_until(hpt_no_server_zombies, NULL, 2000),
                          "zombies after kill %d", k);
    }
    ck_assert(hpt_wait_until(hpt_no_server_zombies, NULL, 2000));
    fds_after = hpt_settled_fd_count(hpt_server_pid());
    printf("# 1000 kills in %lld ms; daemon fds %d after 300 kills, %d after 1000\n",
           (long long)(hpt_now_ms() - t0), fds_before, fds_after);
    ck_assert_int_eq(fds_after, fds_before);
}
END_TEST

static int all_written(void *ud)
{
    (void)ud;
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof(name), "esc%d.pid", i);
        if (hpt_read_pid(name) <= 0)
            return 0;
    }
    return 1;
}

static int all_gone(void *ud)
{
    (void)ud;
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof(name), "esc%d.pid", i);
        if (hpt_pid_alive(hpt_read_pid(name)))
            return 0;
    }
    return 1;
}

/* _i = 0 with cgroups where the daemon can make them, 1 with --no-cgroups. */
START_TEST(scattered_escapees_die_on_stop)
{
    static const char script[] =
        "i=0; while [ $i -lt 5 ]; do "
        "setsid sh -c \"echo \\$\\$ > esc$i.pid; exec sleep 1000\" & "
        "(setsid sh -c \"echo \\$\\$ > esc$((i + 5)).pid; exec sleep 1000\" >/dev/null 2>&1 &); "
        "i=$((i + 1)); done; sleep 1000";

    if (_i)
        restart_with("--no-cgroups", NULL);
    hpt_service_set("scatter", NULL, hpt_script("main", script), NULL);
    start("scatter");
    ck_assert(hpt_wait_until(all_written, NULL, DEADLINE_MS));
    cJSON_Delete(hpt_ok("service.stop", hpt_name("scatter")));
    ck_assert_msg(hpt_wait_until(all_gone, NULL, DEADLINE_MS), "an escapee survived the stop");
    ck_assert(hpt_wait_until(hpt_no_server_zombies, NULL, DEADLINE_MS));
}
END_TEST

static Suite *rel_processes_suite(void)
{
    Suite *s = suite_create("rel_processes");
    TCase *tc = tcase_create("processes");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, crash_loop_backs_off);
    tcase_add_test(tc, long_running_service_killed_is_back_at_once);
    tcase_add_test(tc, thousand_kills_leave_no_fd_and_no_zombie);
    tcase_add_loop_test(tc, scattered_escapees_die_on_stop, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(rel_processes_suite());
}
