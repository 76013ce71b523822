/* SPDX-License-Identifier: Apache-2.0 */
/* A real hero_proc_server across its own death: kill -9 while jobs run (the next server
 * re-adopts them with a system line, one instance, its exit then unknown), SIGTERM
 * with running jobs (exit 0, processes gone), what survives a restart, and a second
 * server refused on a live socket. */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 20000, GONE_DEADLINE_MS = 5000 };

/* ---- helpers --------------------------------------------------------------------------- */

static cJSON *restart_always(cJSON *action)
{
    cJSON_AddStringToObject(action, "restart", "always");
    return action;
}

typedef struct want_running {
    const char *service, *action;
    pid_t not_pid;
    pid_t pid; /* out */
} want_running;

static int service_running(void *ud)
{
    want_running *w = ud;
    cJSON *st = hpt_ok("service.status", hpt_name(w->service));
    const cJSON *job;
    int ok = 0;

    w->pid = 0;
    if (strcmp(hpt_str(st, "status"), "running") == 0) {
        job = hpt_job_of(st, w->action);
        if (strcmp(hpt_str(job, "status"), "running") == 0 && hpt_int_or0(job, "pid") > 0 &&
            hpt_int_or0(job, "pid") != w->not_pid) {
            w->pid = (pid_t)hpt_int(job, "pid");
            ok = 1;
        }
    }
    cJSON_Delete(st);
    return ok;
}

static pid_t wait_running(const char *service, const char *action, pid_t not_pid)
{
    want_running w = {service, action, not_pid, 0};

    ck_assert_msg(hpt_wait_until(service_running, &w, DEADLINE_MS),
                  "service '%s' action '%s' did not run with a pid other than %d", service, action,
                  (int)not_pid);
    return w.pid;
}

typedef struct run_job {
    int64_t run_id;
    const char *action;
    pid_t pid; /* out */
} run_job;

static int job_running(void *ud)
{
    run_job *rj = ud;
    cJSON *run = hpt_ok("run.get", hpt_id(rj->run_id));
    const cJSON *job = hpt_job_of(run, rj->action);

    rj->pid = strcmp(hpt_str(job, "status"), "running") == 0 ? (pid_t)hpt_int_or0(job, "pid") : 0;
    cJSON_Delete(run);
    return rj->pid > 0;
}

static int group_is_gone(void *ud)
{
    return hpt_group_count(*(pid_t *)ud) == 0;
}

static int group_has_two(void *ud)
{
    return hpt_group_count(*(pid_t *)ud) >= 2;
}

typedef struct instances {
    const char *marker;
    int want;
} instances;

static int instances_are(void *ud)
{
    instances *in = ud;

    return hpt_count_cmdline(in->marker) == in->want;
}

static int64_t service_job_id(const char *service, const char *action)
{
    cJSON *st = hpt_ok("service.status", hpt_name(service));
    int64_t id = hpt_int(hpt_job_of(st, action), "id");

    cJSON_Delete(st);
    return id;
}

static void assert_exited_zero(int status)
{
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the server should exit 0, wait status 0x%x", status);
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(crashed_server_readopts_its_service_and_runs_it_once)
{
    char marker[64], script[160];
    instances one = {marker, 1}, none = {marker, 0};
    int64_t old_job;
    pid_t old;
    cJSON *lines;

    /* A marker only the job's shell carries on its command line. */
    snprintf(marker, sizeof(marker), "keeper-%d-%lld", (int)getpid(), (long long)hpt_now_ms());
    snprintf(script, sizeof(script), "echo $$ >> instances; sleep 300 & wait # %s", marker);
    hpt_service_set("keeper", "start", restart_always(hpt_script("main", script)), NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name("keeper")));
    old = wait_running("keeper", "main", 0);
    old_job = service_job_id("keeper", "main");
    ck_assert(hpt_wait_until(instances_are, &one, DEADLINE_MS));
    ck_assert(hpt_wait_until(group_has_two, &old, DEADLINE_MS)); /* sh and its sleep */

    hpt_server_crash();
    ck_assert_msg(hpt_pid_alive(old), "the job should outlive a crashed server");
    ck_assert_int_ge(hpt_group_count(old), 2);
    hpt_server_start();

    /* The same process, the same job, one instance, and a line that says so. */
    ck_assert_int_eq(wait_running("keeper", "main", 0), old);
    ck_assert_int_eq(service_job_id("keeper", "main"), old_job);
    ck_assert_int_eq(hpt_count_cmdline(marker), 1);
    ck_assert_int_ge(hpt_group_count(old), 2);
    lines = hpt_job_lines(old_job);
    ck_assert_msg(hpt_find_line(lines, "system", "re-adopted", 1) >= 0,
                  "no system line says what happened: %s", cJSON_PrintUnformatted(lines));
    cJSON_Delete(lines);

    /* Stopped by the daemon that re-adopted it: its whole group goes. */
    cJSON_Delete(hpt_ok("service.stop", hpt_name("keeper")));
    ck_assert_msg(hpt_wait_until(group_is_gone, &old, GONE_DEADLINE_MS),
                  "the re-adopted job's process group %d survived service.stop", (int)old);
    ck_assert(hpt_wait_until(instances_are, &none, DEADLINE_MS));
}
END_TEST

START_TEST(crashed_server_readopts_a_run_whose_exit_is_then_unknown)
{
    int64_t id = hpt_submit("adhoc", hpt_script("long", "sleep 300"), NULL);
    run_job rj = {id, "long", 0};
    cJSON *run;
    const cJSON *job;
    pid_t pid;

    ck_assert(hpt_wait_until(job_running, &rj, DEADLINE_MS));
    pid = rj.pid;
    hpt_server_crash_and_restart();
    ck_assert(hpt_wait_until(job_running, &rj, DEADLINE_MS));
    ck_assert_int_eq(rj.pid, pid);
    /* It ends while re-adopted: no longer the daemon's child, so its status is unknown. */
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    run = hpt_wait_run(id, DEADLINE_MS);
    ck_assert_str_eq(hpt_str(run, "status"), "failed");
    job = hpt_job_of(run, "long");
    ck_assert_str_eq(hpt_str(job, "status"), "failed");
    ck_assert_msg(hpt_str(job, "error") && strstr(hpt_str(job, "error"), "exit code unknown"),
                  "error: %s", hpt_str(job, "error") ? hpt_str(job, "error") : "none");
    cJSON_Delete(run);
}
END_TEST

START_TEST(sigterm_with_running_jobs_exits_zero_and_stops_them)
{
    int64_t id = hpt_submit("adhoc", hpt_script("long", "sleep 30 & wait"), NULL);
    run_job rj = {id, "long", 0};
    pid_t run_pid, svc_pid;
    cJSON *run, *lines;

    hpt_service_set("web", NULL, restart_always(hpt_script("main", "sleep 30")), NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name("web")));
    svc_pid = wait_running("web", "main", 0);
    ck_assert(hpt_wait_until(job_running, &rj, DEADLINE_MS));
    run_pid = rj.pid;

    assert_exited_zero(hpt_server_signal_and_wait(SIGTERM, 15000));
    ck_assert_msg(hpt_wait_until(group_is_gone, &run_pid, GONE_DEADLINE_MS),
                  "the run's processes outlived the server");
    ck_assert_msg(hpt_wait_until(group_is_gone, &svc_pid, GONE_DEADLINE_MS),
                  "the service's processes outlived the server");

    /* Started again, it tells what happened, and the wanted service comes back. */
    hpt_server_start();
    run = hpt_ok("run.get", hpt_id(id));
    ck_assert_str_eq(hpt_str(run, "status"), "cancelled");
    lines = hpt_job_lines(hpt_int(hpt_job_of(run, "long"), "id"));
    ck_assert_int_ge(hpt_find_line(lines, "system", "stopping", 1), 0);
    cJSON_Delete(lines);
    cJSON_Delete(run);
    ck_assert_int_ne(wait_running("web", "main", svc_pid), svc_pid);
}
END_TEST

START_TEST(finished_runs_logs_and_secrets_survive_a_restart)
{
    int64_t id = hpt_submit("keep", hpt_script("say", "echo kept"), NULL), job, next;
    cJSON *run, *lines, *secret;

    run = hpt_wait_run(id, DEADLINE_MS);
    job = hpt_int(hpt_job_of(run, "say"), "id");
    cJSON_Delete(run);
    cJSON_Delete(hpt_ok("secret.set", hpt_jsonf("{\"name\":\"K\",\"value\":\"v1\"}")));
    assert_exited_zero(hpt_server_signal_and_wait(SIGTERM, 15000));
    hpt_server_start();

    run = hpt_ok("run.get", hpt_id(id));
    ck_assert_str_eq(hpt_str(run, "status"), "succeeded");
    cJSON_Delete(run);
    lines = hpt_job_lines(job);
    ck_assert_int_ge(hpt_find_line(lines, "stdout", "kept", 0), 0);
    cJSON_Delete(lines);
    secret = hpt_ok("secret.get", hpt_name("K"));
    ck_assert_str_eq(hpt_str(secret, "value"), "v1");
    cJSON_Delete(secret);
    /* Ids are never reused. */
    next = hpt_submit("next", hpt_script("say", "true"), NULL);
    ck_assert_int_gt(next, id);
    cJSON_Delete(hpt_wait_run(next, DEADLINE_MS));
}
END_TEST

typedef struct child {
    pid_t pid;
    int status;
} child;

static int child_exited(void *ud)
{
    child *c = ud;

    return waitpid(c->pid, &c->status, WNOHANG) == c->pid;
}

START_TEST(second_server_on_a_live_socket_exits_111)
{
    char *data2 = hpt_path("data2"), *log = hpt_path("second.log");
    child c = {0, 0};

    c.pid = fork();
    ck_assert_int_ge(c.pid, 0);
    if (c.pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        execl(hpt_server_binary(), hpt_server_binary(), "--socket", hpt_socket_path(), "--data-dir",
              data2, (char *)NULL);
        _exit(127);
    }
    if (!hpt_wait_until(child_exited, &c, 10000)) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &c.status, 0);
        ck_abort_msg("a second server on a live socket kept running");
    }
    ck_assert_msg(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 111, "wait status 0x%x",
                  c.status);
    cJSON_Delete(hpt_ok("system.ping", NULL));
    free(data2);
    free(log);
}
END_TEST

/* A socket that takes connections but never answers (what a dead server's child held for
 * a moment, between a fork and its exec) is no server: a new one takes the path over. */
START_TEST(a_socket_that_never_answers_is_taken_over)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    char *log = hpt_path("server.log"), *text;
    int stray;

    ck_assert_int_eq(hpt_server_signal_and_wait(SIGTERM, 30000), 0);
    stray = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", hpt_socket_path());
    unlink(addr.sun_path);
    ck_assert_int_eq(bind(stray, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(listen(stray, 8), 0);
    hpt_server_start(); /* fails the test when the server refuses to start */
    cJSON_Delete(hpt_ok("system.ping", NULL));
    text = hp_test_read_file(log, NULL);
    ck_assert_msg(text && strstr(text, "took a connection but nothing answered"), "log: %s",
                  text ? text : "(none)");
    close(stray);
    free(text);
    free(log);
}
END_TEST

static Suite *server_recovery_suite(void)
{
    Suite *s = suite_create("server_recovery");
    TCase *tc = tcase_create("server_recovery");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crashed_server_readopts_its_service_and_runs_it_once);
    tcase_add_test(tc, crashed_server_readopts_a_run_whose_exit_is_then_unknown);
    tcase_add_test(tc, sigterm_with_running_jobs_exits_zero_and_stops_them);
    tcase_add_test(tc, finished_runs_logs_and_secrets_survive_a_restart);
    tcase_add_test(tc, second_server_on_a_live_socket_exits_111);
    tcase_add_test(tc, a_socket_that_never_answers_is_taken_over);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(server_recovery_suite());
}
