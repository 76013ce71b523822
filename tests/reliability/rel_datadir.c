/* SPDX-License-Identifier: Apache-2.0 */
/* One data dir, many servers: eight started at the same instant leave exactly one
 * running and seven exits 111 naming it; a server killed with SIGKILL leaves its pid in
 * the lock file but not the lock, so the next start on that data dir works at once. */
#include "config.h"

#include "../check_common.h"
#include "../server_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CONTENDERS = 8, DEADLINE_MS = 30000 };

typedef struct race {
    pid_t pid[CONTENDERS];
    int status[CONTENDERS];
    int exited[CONTENDERS];
    int n_exited;
} race;

static int all_but_one_exited(void *ud)
{
    race *r = ud;

    for (int i = 0; i < CONTENDERS; i++) {
        if (r->exited[i] || waitpid(r->pid[i], &r->status[i], WNOHANG) != r->pid[i])
            continue;
        r->exited[i] = 1;
        r->n_exited++;
    }
    return r->n_exited >= CONTENDERS - 1;
}

static pid_t lock_holder(void)
{
    char *lock = hp_test_join(hpt_data_dir(), "lock");
    char *text = hp_test_read_file(lock, NULL);
    pid_t pid = text ? (pid_t)atol(text) : 0;

    free(text);
    free(lock);
    return pid;
}

START_TEST(eight_servers_at_once_on_one_data_dir_leave_exactly_one)
{
    race r = {{0}, {0}, {0}, 0};
    int pipefd[2], winner = -1;
    char go = 'g';

    hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);
    ck_assert_int_eq(pipe(pipefd), 0);
    for (int i = 0; i < CONTENDERS; i++) {
        r.pid[i] = fork();
        ck_assert_int_ge(r.pid[i], 0);
        if (r.pid[i] == 0) {
            char sock[32], logname[32], *sock_path, *log;
            int fd;
            snprintf(sock, sizeof(sock), "s%d.sock", i);
            snprintf(logname, sizeof(logname), "s%d.log", i);
            sock_path = hpt_path(sock);
            log = hpt_path(logname);
            fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            close(pipefd[1]);
            /* Everyone waits for the same byte: the starts are as close as they get. */
            if (fd < 0 || read(pipefd[0], &go, 1) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                _exit(126);
            execl(hpt_server_binary(), hpt_server_binary(), "--socket", sock_path, "--data-dir",
                  hpt_data_dir(), (char *)NULL);
            _exit(127);
        }
    }
    close(pipefd[0]);
    close(pipefd[1]); /* EOF: go */
    ck_assert_msg(hpt_wait_until(all_but_one_exited, &r, DEADLINE_MS), "%d of %d servers exited",
                  r.n_exited, CONTENDERS);
    for (int i = 0; i < CONTENDERS; i++)
        if (!r.exited[i])
            winner = i;
    ck_assert_int_ge(winner, 0);
    ck_assert_int_eq(lock_holder(), r.pid[winner]);
    for (int i = 0; i < CONTENDERS; i++) {
        char logname[32], words[64], *log;
        if (i == winner)
            continue;
        snprintf(logname, sizeof(logname), "s%d.log", i);
        log = hpt_read(logname);
        ck_assert_msg(WIFEXITED(r.status[i]) && WEXITSTATUS(r.status[i]) == 111,
                      "server %d: wait status 0x%x: %s", i, r.status[i], log ? log : "");
        snprintf(words, sizeof(words), "in use by hero_proc_server pid %ld", (long)r.pid[winner]);
        ck_assert_msg(log && strstr(log, words), "server %d said: %s", i, log ? log : "");
        free(log);
    }
    ck_assert_int_eq(kill(r.pid[winner], SIGTERM), 0);
    ck_assert_int_eq(waitpid(r.pid[winner], &r.status[winner], 0), r.pid[winner]);
    ck_assert_msg(WIFEXITED(r.status[winner]) && WEXITSTATUS(r.status[winner]) == 0,
                  "wait status 0x%x", r.status[winner]);
    hpt_server_start();
    ck_assert_int_eq(lock_holder(), hpt_server_pid());
}
END_TEST

START_TEST(a_killed_server_leaves_the_data_dir_free_for_the_next)
{
    for (int i = 0; i < 3; i++) {
        pid_t before = hpt_server_pid();
        hpt_server_crash();
        ck_assert_int_eq(lock_holder(), before); /* the file keeps the dead pid ... */
        hpt_server_start();                      /* ... which does not hold the lock */
        ck_assert_int_eq(lock_holder(), hpt_server_pid());
        cJSON_Delete(hpt_ok("system.ping", NULL));
    }
}
END_TEST

static Suite *rel_datadir_suite(void)
{
    Suite *s = suite_create("rel_datadir");
    TCase *tc = tcase_create("rel_datadir");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, eight_servers_at_once_on_one_data_dir_leave_exactly_one);
    tcase_add_test(tc, a_killed_server_leaves_the_data_dir_free_for_the_next);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(rel_datadir_suite());
}
