/* SPDX-License-Identifier: Apache-2.0 */
/* A store that cannot be written does not stop the daemon. With its data dir full (a
 * 64 MiB tmpfs, or RLIMIT_FSIZE where mounting is not allowed) and with another process
 * holding the database's write lock for 6 s, control calls (writes included) keep their
 * latency, system.info says what is wrong, log lines past the wait are dropped and
 * counted, services keep running, the daemon does not spin or flood its log, and every
 * change made meanwhile is in the file once it can be written again. */
#include "config.h"

#include "../check_common.h"
#include "../server_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 15000, CALLS = 200, LOCK_MS = 6000 };

static int mounted;

static void setup(void)
{
    mounted = 0;
    hpt_setup();
}

static void teardown(void)
{
    if (mounted)
        umount2(hpt_data_dir(), MNT_DETACH); /* the server keeps its files until it exits */
    hpt_teardown();
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* system.info's store member (caller deletes the info). */
static cJSON *store_health(cJSON **info)
{
    cJSON *store;

    *info = hpt_ok("system.info", NULL);
    store = cJSON_GetObjectItemCaseSensitive(*info, "store");
    ck_assert_msg(cJSON_IsObject(store), "system.info has no store member");
    return store;
}

static int store_ok(void)
{
    cJSON *info, *store = store_health(&info);
    int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(store, "ok"));

    cJSON_Delete(info);
    return ok;
}

static int store_failing(void *ud)
{
    (void)ud;
    return !store_ok();
}

static int lines_dropped(void *ud)
{
    cJSON *info, *store = store_health(&info);
    int dropped = hpt_int(store, "dropped_lines") > 0;

    (void)ud;
    cJSON_Delete(info);
    return dropped;
}

static int store_healthy_and_empty(void *ud)
{
    cJSON *info, *store = store_health(&info);
    int done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(store, "ok")) &&
               hpt_int(store, "pending") == 0;

    (void)ud;
    cJSON_Delete(info);
    return done;
}

/* Ticks of user plus system time the daemon used so far. */
static long long daemon_ticks(void)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, stt = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)hpt_server_pid());
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
    fclose(f);
    p = strrchr(buf, ')');
    ck_assert_ptr_nonnull(p);
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime */
    ck_assert_int_eq(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt), 2);
    return (long long)(ut + stt);
}

/* Percent of one core the daemon used over ms. */
static double daemon_cpu(int ms)
{
    long long t0 = daemon_ticks(), w0 = hpt_now_ms();

    usleep((useconds_t)ms * 1000);
    return 100.0 * (double)(daemon_ticks() - t0) / (double)sysconf(_SC_CLK_TCK) /
           ((double)(hpt_now_ms() - w0) / 1000.0);
}

/* Lines of the server's log that speak of the store. */
static int store_log_lines(void)
{
    char *log = hpt_read("server.log");
    int n = 0;

    for (const char *p = log; p && (p = strstr(p, "store:")); p++)
        n++;
    free(log);
    return n;
}

/* CALLS control calls, one every pace_ms, a write (service.set of a new service
 * prefix<i>) every fifth; returns the p99 and prints the figures. */
static int64_t control_calls(const char *what, const char *prefix, int pace_ms, int *writes)
{
    int64_t lat[CALLS];
    static const char *const reads[] = {"system.ping", "system.info", "service.list"};

    *writes = 0;
    for (int i = 0; i < CALLS; i++) {
        int64_t t0 = hpt_now_ms();
        cJSON *r;

        if (i % 5 == 4) {
            char name[64];

            snprintf(name, sizeof(name), "%s%d", prefix, (*writes)++);
            r = hpt_ok("service.set",
                       hpt_jsonf("{\"config\":{\"name\":\"%s\",\"actions\":[{\"name\":\"a\","
                                 "\"command\":\"sleep 1\"}]}}",
                                 name));
        } else {
            r = hpt_ok(reads[i % 3], NULL);
        }
        cJSON_Delete(r);
        lat[i] = hpt_now_ms() - t0;
        if (pace_ms)
            usleep((useconds_t)pace_ms * 1000);
    }
    qsort(lat, CALLS, sizeof(lat[0]), cmp_int64);
    printf("# %s: %d control calls (%d writes), p50 %lld ms, p99 %lld ms, max %lld ms\n", what,
           CALLS, *writes, (long long)lat[CALLS / 2], (long long)lat[CALLS * 99 / 100 - 1],
           (long long)lat[CALLS - 1]);
    return lat[CALLS * 99 / 100 - 1];
}

/* A service printing about 30 000 lines a second until stopped. */
static void start_flood(void)
{
    hpt_service_set("flood", "start",
                    hpt_script("out", "i=0; while :; do i=$((i+1));"
                                      " echo \"flood line $i with some padding to be a real log"
                                      " line of about a hundred bytes............\";"
                                      " [ $((i % 300)) = 0 ] && sleep 0.01; done"),
                    NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name("flood")));
}

static pid_t flood_pid(void)
{
    cJSON *st = hpt_ok("service.status", hpt_name("flood"));
    cJSON *jobs = cJSON_GetObjectItemCaseSensitive(st, "jobs");
    cJSON *job = cJSON_GetArrayItem(jobs, 0);
    pid_t pid = job ? (pid_t)hpt_int_or0(job, "pid") : 0;

    cJSON_Delete(st);
    return pid;
}

static int flood_stopped(void *ud)
{
    return !hpt_pid_alive(*(pid_t *)ud);
}

static int flood_running(void *ud)
{
    (void)ud;
    return flood_pid() > 0;
}

/* Fills the file system of the data dir; returns the filler's path (caller frees). */
static char *fill_disk(void)
{
    char *filler = hp_test_join(hpt_data_dir(), "filler");
    static char block[64 * 1024];
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    ck_assert_int_ge(fd, 0);
    memset(block, 'x', sizeof(block));
    for (;;) {
        ssize_t n = write(fd, block, sizeof(block));
        if (n <= 0)
            break;
    }
    close(fd);
    return filler;
}

/* The data dir on a 64 MiB tmpfs when this process may mount; else the server runs with
 * RLIMIT_FSIZE just above its database's size (the limit is the full disk). Returns 1
 * for the tmpfs. */
static int restart_on_small_disk(void)
{
    struct rlimit old, small;

    ck_assert_int_eq(WEXITSTATUS(hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS)), 0);
    if (!getenv("HPT_NO_TMPFS") &&
        mount("tmpfs", hpt_data_dir(), "tmpfs", 0, "size=64m,mode=0700") == 0) {
        mounted = 1;
        hpt_server_start();
        return 1;
    }
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 2 * 1024 * 1024;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    hpt_server_start(); /* the server inherits the limit */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    return 0;
}

START_TEST(a_full_disk_leaves_the_daemon_responsive_and_nothing_lost_that_fits)
{
    int tmpfs = restart_on_small_disk(), writes = 0, log_before;
    char *filler = NULL;
    int64_t p99, dropped;
    double cpu;
    cJSON *info, *store, *svc;
    pid_t pid;

    start_flood();
    ck_assert(hpt_wait_until(flood_running, NULL, DEADLINE_MS));
    pid = flood_pid();
    if (tmpfs)
        filler = fill_disk();
    ck_assert_msg(hpt_wait_until(store_failing, NULL, DEADLINE_MS),
                  "the store still says ok with the disk full");
    store = store_health(&info);
    printf("# %s: store error \"%s\"\n", tmpfs ? "tmpfs of 64 MiB" : "RLIMIT_FSIZE 2 MiB",
           hpt_str(store, "error"));
    ck_assert_msg(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(store, "error")),
                  "no error while failing");
    cJSON_Delete(info);
    log_before = store_log_lines();

    /* the flood fills the bounded wait (65536 lines) in a few seconds */
    ck_assert_msg(hpt_wait_until(lines_dropped, NULL, 30000), "no line dropped");
    p99 = control_calls("disk full", "full", 0, &writes);
    ck_assert_msg(p99 < 200, "p99 %lld ms with the disk full", (long long)p99);
    cpu = daemon_cpu(2000);
    printf("# disk full, 30k lines/s flooding: daemon at %.0f %% of a core\n", cpu);
    ck_assert_msg(cpu < 70, "the daemon spins at %.0f %% of a core", cpu);
    store = store_health(&info);
    dropped = hpt_int(store, "dropped_lines");
    printf("# disk full: %lld failed attempts, %lld pending, %lld lines dropped\n",
           (long long)hpt_int(store, "failures"), (long long)hpt_int(store, "pending"),
           (long long)dropped);
    ck_assert_int_gt(dropped, 0);
    ck_assert_int_le(hpt_int(store, "failures"), 20); /* a back-off, not a retry per line */
    cJSON_Delete(info);
    ck_assert_msg(store_log_lines() - log_before <= 2, "%d store lines in the log meanwhile",
                  store_log_lines() - log_before);
    ck_assert_msg(hpt_pid_alive(pid) && flood_pid() == pid, "the flooding service was stopped");

    if (!tmpfs) {
        /* The limit stays with this server: a restart without it is space coming back.
         * What waited in memory is lost with the old process (its log says how much). */
        ck_assert_int_eq(WEXITSTATUS(hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS)), 0);
        hpt_server_start();
        ck_assert(store_ok());
        return;
    }

    /* a stop while the disk is full: the processes go at once, the change waits */
    cJSON_Delete(hpt_ok("service.stop", hpt_name("flood")));
    ck_assert_msg(hpt_wait_until(flood_stopped, &pid, DEADLINE_MS), "the flood outlived its stop");

    /* space comes back: everything that waited is written */
    ck_assert_int_eq(unlink(filler), 0);
    free(filler);
    {
        int64_t t0 = hpt_now_ms();

        ck_assert_msg(hpt_wait_until(store_healthy_and_empty, NULL, DEADLINE_MS),
                      "the store did not recover");
        printf("# space back: store ok again after %lld ms\n", (long long)(hpt_now_ms() - t0));
    }
    /* the flood's lines that did not fit are counted against its job */
    svc = hpt_ok("service.status", hpt_name("flood"));
    ck_assert_int_gt(
        hpt_int(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(svc, "jobs"), 0), "dropped"),
        0);
    cJSON_Delete(svc);

    /* the changes made while the disk was full are in the file: a new server reads them */
    ck_assert_int_eq(WEXITSTATUS(hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS)), 0);
    hpt_server_start();
    for (int i = 0; i < writes; i++) {
        char name[32];

        snprintf(name, sizeof(name), "full%d", i);
        cJSON_Delete(hpt_ok("service.get", hpt_name(name)));
    }
    svc = hpt_ok("service.status", hpt_name("flood"));
    ck_assert_str_eq(hpt_str(svc, "wanted"), "stop");
    ck_assert_int_gt(
        hpt_int(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(svc, "jobs"), 0), "dropped"),
        0);
    cJSON_Delete(svc);
}
END_TEST

START_TEST(another_process_holding_the_write_lock_does_not_freeze_the_daemon)
{
    char *path = hp_test_join(hpt_data_dir(), "hero_proc.db");
    int writes = 0, log_before = store_log_lines();
    sqlite3 *other = NULL;
    sqlite3_stmt *count = NULL;
    int64_t t0, p99, held;
    cJSON *info, *store;

    start_flood();
    ck_assert(hpt_wait_until(flood_running, NULL, DEADLINE_MS));
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    t0 = hpt_now_ms();
    /* 200 calls spread over the 6 s the lock is held */
    p99 =
        control_calls("write lock held by another process", "locked", LOCK_MS / CALLS - 5, &writes);
    held = hpt_now_ms() - t0;
    store = store_health(&info);
    ck_assert_msg(!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(store, "ok")),
                  "the store says ok under another process's lock");
    ck_assert_str_eq(hpt_str(store, "error"), "database is locked");
    ck_assert_int_gt(hpt_int(store, "pending"), 0);
    cJSON_Delete(info);
    if (held < LOCK_MS)
        usleep((useconds_t)(LOCK_MS - held) * 1000);
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_msg(p99 < 200, "p99 %lld ms while the database was locked", (long long)p99);

    t0 = hpt_now_ms();
    ck_assert_msg(hpt_wait_until(store_healthy_and_empty, NULL, DEADLINE_MS),
                  "the store did not recover after the lock");
    printf("# lock released: store ok again after %lld ms\n", (long long)(hpt_now_ms() - t0));
    ck_assert_msg(store_log_lines() - log_before <= 3, "%d store lines in the log",
                  store_log_lines() - log_before);
    /* every service set under the lock is in the file, seen by another reader */
    ck_assert_int_eq(sqlite3_prepare_v2(other,
                                        "SELECT COUNT(*) FROM services WHERE name LIKE 'locked%'",
                                        -1, &count, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(count), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(count, 0), writes);
    sqlite3_finalize(count);
    sqlite3_close(other);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rel_store");
    TCase *tc = tcase_create("store");

    setvbuf(stdout, NULL, _IONBF, 0); /* the figures survive a failing test */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_full_disk_leaves_the_daemon_responsive_and_nothing_lost_that_fits);
    tcase_add_test(tc, another_process_holding_the_write_lock_does_not_freeze_the_daemon);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
