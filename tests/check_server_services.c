/* SPDX-License-Identifier: Apache-2.0 */
/* Services on a real hero_proc_server: start, status from real processes, automatic
 * restart after a crash, stop, restart with and without history, delete, dependency
 * order within a service, the if_changed_since shortcut of service.list, and the
 * --max-services and --max-active-runs limits as a service user meets them. */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 20000, GONE_DEADLINE_MS = 5000 };

/* ---- helpers --------------------------------------------------------------------------- */

static cJSON *restart_always(cJSON *action)
{
    cJSON_AddStringToObject(action, "restart", "always");
    return action;
}

/* What the tests wait for: the service's action running in run run_id (0 = any) with a
 * pid other than not_pid (0 = any). */
typedef struct want_running {
    const char *service, *action;
    int64_t run_id;
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
    if (strcmp(hpt_str(st, "status"), "running") == 0 &&
        (!w->run_id || hpt_int_or0(st, "run_id") == w->run_id)) {
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

static pid_t wait_running(const char *service, const char *action, int64_t run_id, pid_t not_pid)
{
    want_running w = {service, action, run_id, not_pid, 0};

    ck_assert_msg(hpt_wait_until(service_running, &w, DEADLINE_MS),
                  "service '%s' action '%s' did not run (run %lld, not pid %d)", service, action,
                  (long long)run_id, (int)not_pid);
    ck_assert(hpt_pid_alive(w.pid));
    return w.pid;
}

typedef struct want_status {
    const char *service, *status;
} want_status;

static int service_status_is(void *ud)
{
    want_status *w = ud;
    cJSON *st = hpt_ok("service.status", hpt_name(w->service));
    int ok = strcmp(hpt_str(st, "status"), w->status) == 0;

    cJSON_Delete(st);
    return ok;
}

static int group_is_gone(void *ud)
{
    return hpt_group_count(*(pid_t *)ud) == 0;
}

typedef struct want_line {
    int64_t job;
    const char *text;
} want_line;

static int job_printed(void *ud)
{
    want_line *w = ud;
    cJSON *lines = hpt_job_lines(w->job);
    int found = hpt_find_line(lines, "stdout", w->text, 0) >= 0;

    cJSON_Delete(lines);
    return found;
}

static int64_t start_service(const char *name)
{
    cJSON *run = hpt_ok("service.start", hpt_name(name));
    int64_t id = hpt_int(run, "id");

    ck_assert_str_eq(hpt_str(run, "service"), name);
    cJSON_Delete(run);
    return id;
}

static const cJSON *list_row(const cJSON *list, const char *name)
{
    const cJSON *row;

    cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive(list, "services"))
        if (strcmp(hpt_str(row, "name"), name) == 0)
            return row;
    return NULL;
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(service_set_alone_starts_nothing)
{
    cJSON *st;

    hpt_service_set("idle", "start", restart_always(hpt_script("main", "sleep 30")), NULL);
    st = hpt_ok("service.status", hpt_name("idle"));
    ck_assert_str_eq(hpt_str(st, "status"), "inactive");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(st, "run_id")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "jobs")), 0);
    cJSON_Delete(st);
}
END_TEST

START_TEST(started_service_is_running_with_a_live_pid)
{
    int64_t run_id;
    pid_t pid;
    cJSON *st, *list;
    const cJSON *row, *p;
    int listed = 0;

    hpt_service_set("web", NULL, restart_always(hpt_script("main", "sleep 30")), NULL);
    run_id = start_service("web");
    pid = wait_running("web", "main", run_id, 0);
    st = hpt_ok("service.status", hpt_name("web"));
    ck_assert_str_eq(hpt_str(st, "wanted"), "start");
    ck_assert_int_eq(hpt_int(st, "run_id"), run_id);
    cJSON_Delete(st);
    list = hpt_ok("service.list", NULL);
    row = list_row(list, "web");
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(hpt_str(row, "status"), "running");
    cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(row, "pids"))
        listed |= (pid_t)p->valuedouble == pid;
    ck_assert_msg(listed, "service.list does not show pid %d", (int)pid);
    cJSON_Delete(list);
    /* Starting a running service again keeps the same run. */
    ck_assert_int_eq(start_service("web"), run_id);
}
END_TEST

START_TEST(killed_service_process_is_restarted_with_a_new_pid)
{
    pid_t old, fresh;
    cJSON *st;

    hpt_service_set("web", NULL, restart_always(hpt_script("main", "sleep 30")), NULL);
    start_service("web");
    old = wait_running("web", "main", 0, 0);
    ck_assert_int_eq(kill(old, SIGKILL), 0);
    fresh = wait_running("web", "main", 0, old);
    ck_assert_int_ne(fresh, old);
    ck_assert_msg(hpt_wait_until(group_is_gone, &old, GONE_DEADLINE_MS),
                  "the killed job's group %d still has processes", (int)old);
    st = hpt_ok("service.status", hpt_name("web"));
    ck_assert_int_ge(hpt_int(st, "restarts"), 1);
    ck_assert_int_ge(hpt_int(hpt_job_of(st, "main"), "attempt"), 2);
    ck_assert_str_eq(hpt_str(st, "status"), "running");
    cJSON_Delete(st);
}
END_TEST

START_TEST(stopped_service_is_inactive_and_its_process_gone)
{
    want_status inactive = {"web", "inactive"};
    pid_t pid;
    cJSON *st, *list;

    hpt_service_set("web", NULL, restart_always(hpt_script("main", "sleep 30")), NULL);
    start_service("web");
    pid = wait_running("web", "main", 0, 0);
    st = hpt_ok("service.stop", hpt_name("web"));
    ck_assert_str_eq(hpt_str(st, "wanted"), "stop");
    cJSON_Delete(st);
    ck_assert(hpt_wait_until(service_status_is, &inactive, DEADLINE_MS));
    ck_assert_msg(hpt_wait_until(group_is_gone, &pid, GONE_DEADLINE_MS),
                  "the stopped service's processes still run");
    list = hpt_ok("service.list", NULL);
    ck_assert_str_eq(hpt_str(list_row(list, "web"), "status"), "inactive");
    ck_assert_int_eq(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list_row(list, "web"), "pids")), 0);
    cJSON_Delete(list);
}
END_TEST

/* Restarts "web" and checks the new run and what is left of the old one. */
static void restart_and_check(int keep_history)
{
    int64_t old_run, new_run, old_job;
    pid_t old_pid;
    cJSON *run, *params = hpt_name("web"), *st;

    hpt_service_set("web", NULL, restart_always(hpt_script("main", "sleep 30")), NULL);
    old_run = start_service("web");
    old_pid = wait_running("web", "main", old_run, 0);
    st = hpt_ok("service.status", hpt_name("web"));
    old_job = hpt_int(hpt_job_of(st, "main"), "id");
    cJSON_Delete(st);
    if (keep_history)
        cJSON_AddTrueToObject(params, "keep_history");
    run = hpt_ok("service.restart", params);
    new_run = hpt_int(run, "id");
    cJSON_Delete(run);
    ck_assert_int_ne(new_run, old_run);
    ck_assert_int_ne(wait_running("web", "main", new_run, old_pid), old_pid);
    ck_assert(hpt_wait_until(group_is_gone, &old_pid, GONE_DEADLINE_MS));
    if (keep_history) {
        run = hpt_ok("run.get", hpt_id(old_run));
        ck_assert_str_eq(hpt_str(run, "status"), "cancelled");
        cJSON_Delete(run);
        run = hpt_ok("job.get", hpt_id(old_job));
        ck_assert_str_eq(hpt_str(run, "status"), "cancelled");
        cJSON_Delete(run);
    } else {
        ck_assert_int_eq(hpt_fail("run.get", hpt_id(old_run)), -32000);
        ck_assert_int_eq(hpt_fail("job.get", hpt_id(old_job)), -32000);
    }
}

START_TEST(restart_creates_a_new_run_and_drops_the_old_jobs)
{
    restart_and_check(0);
}
END_TEST

START_TEST(restart_with_keep_history_keeps_the_old_jobs)
{
    restart_and_check(1);
}
END_TEST

typedef struct job_status {
    const char *service, *action, *status;
} job_status;

static int job_status_is(void *ud)
{
    job_status *w = ud;
    cJSON *st = hpt_ok("service.status", hpt_name(w->service));
    const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(st, "jobs");
    int ok = cJSON_GetArraySize(jobs) > 0 &&
             strcmp(hpt_str(hpt_job_of(st, w->action), "status"), w->status) == 0;

    cJSON_Delete(st);
    return ok;
}

static int count_lines(const char *name)
{
    char *text = hpt_read(name);
    int n = 0;

    for (const char *p = text; p && *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

typedef struct more_lines {
    const char *file;
    int than;
} more_lines;

static int file_grew(void *ud)
{
    more_lines *m = ud;

    return count_lines(m->file) > m->than;
}

START_TEST(stopping_a_service_between_restarts_keeps_it_stopped)
{
    job_status retrying = {"crashy", "main", "retrying"};
    want_status inactive = {"crashy", "inactive"};
    more_lines again = {"starts", 0};
    cJSON *st;

    hpt_service_set("crashy", NULL, restart_always(hpt_script("main", "echo $$ >> starts; exit 1")),
                    NULL);
    start_service("crashy");
    ck_assert(hpt_wait_until(job_status_is, &retrying, DEADLINE_MS));
    cJSON_Delete(hpt_ok("service.stop", hpt_name("crashy")));
    ck_assert(hpt_wait_until(service_status_is, &inactive, DEADLINE_MS));
    again.than = count_lines("starts");
    ck_assert_int_ge(again.than, 1);
    /* The backoff (1 s at first) has long passed by the deadline: nothing may start. */
    ck_assert_msg(!hpt_wait_until(file_grew, &again, 3000),
                  "the stopped service was started again");
    st = hpt_ok("service.status", hpt_name("crashy"));
    ck_assert_str_eq(hpt_str(st, "status"), "inactive");
    ck_assert_str_eq(hpt_str(st, "wanted"), "stop");
    cJSON_Delete(st);
}
END_TEST

START_TEST(restart_applies_the_updated_config)
{
    want_line w = {0, "v2"};
    int64_t run_id;
    pid_t old;
    cJSON *run;

    hpt_service_set("web", NULL, restart_always(hpt_script("main", "echo v1; sleep 30")), NULL);
    start_service("web");
    old = wait_running("web", "main", 0, 0);
    hpt_service_set("web", NULL, restart_always(hpt_script("main", "echo v2; sleep 30")), NULL);
    /* service.set alone does not touch the running process. */
    ck_assert(hpt_pid_alive(old));
    run = hpt_ok("service.restart", hpt_name("web"));
    run_id = hpt_int(run, "id");
    cJSON_Delete(run);
    wait_running("web", "main", run_id, old);
    run = hpt_ok("run.get", hpt_id(run_id));
    w.job = hpt_int(hpt_job_of(run, "main"), "id");
    ck_assert_msg(hpt_wait_until(job_printed, &w, DEADLINE_MS), "the new config did not run");
    cJSON_Delete(run);
}
END_TEST

START_TEST(deleted_service_is_not_found_and_its_process_gone)
{
    pid_t pid;
    cJSON *del, *list;

    hpt_service_set("web", NULL, restart_always(hpt_script("main", "sleep 30")), NULL);
    start_service("web");
    pid = wait_running("web", "main", 0, 0);
    del = hpt_ok("service.delete", hpt_name("web"));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(del, "deleted")));
    cJSON_Delete(del);
    ck_assert_int_eq(hpt_fail("service.get", hpt_name("web")), -32000);
    ck_assert_int_eq(hpt_fail("service.status", hpt_name("web")), -32000);
    ck_assert_int_eq(hpt_fail("service.start", hpt_name("web")), -32000);
    ck_assert_msg(hpt_wait_until(group_is_gone, &pid, GONE_DEADLINE_MS),
                  "the deleted service's processes still run");
    list = hpt_ok("service.list", NULL);
    ck_assert_ptr_null(list_row(list, "web"));
    cJSON_Delete(list);
}
END_TEST

START_TEST(prepare_runs_to_completion_before_start)
{
    want_line w = {0, "ready"};
    cJSON *st;
    const cJSON *prep, *start;

    hpt_service_set(
        "app", NULL, hpt_script("prepare", "echo ready > prepared.txt"),
        hpt_depends(restart_always(hpt_script("start", "cat prepared.txt; sleep 30")), "prepare"),
        NULL);
    start_service("app");
    wait_running("app", "start", 0, 0);
    st = hpt_ok("service.status", hpt_name("app"));
    prep = hpt_job_of(st, "prepare");
    start = hpt_job_of(st, "start");
    ck_assert_str_eq(hpt_str(prep, "status"), "succeeded");
    ck_assert_int_le(hpt_int(prep, "ended_at_ms"), hpt_int(start, "started_at_ms"));
    w.job = hpt_int(start, "id");
    ck_assert_msg(hpt_wait_until(job_printed, &w, DEADLINE_MS),
                  "start did not see what prepare wrote");
    cJSON_Delete(st);
}
END_TEST

START_TEST(service_list_answers_unchanged_until_something_changes)
{
    cJSON *list, *same;
    int64_t rev;

    hpt_service_set("alpha", NULL, hpt_script("main", "true"), NULL);
    list = hpt_ok("service.list", NULL);
    rev = hpt_int(list, "rev");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "services")), 1);
    cJSON_Delete(list);

    same = hpt_ok("service.list", hpt_jsonf("{\"if_changed_since\":%lld}", (long long)rev));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(same, "unchanged")));
    ck_assert_int_eq(hpt_int(same, "rev"), rev);
    ck_assert(!cJSON_HasObjectItem(same, "services"));
    cJSON_Delete(same);

    hpt_service_set("beta", NULL, hpt_script("main", "true"), NULL);
    list = hpt_ok("service.list", hpt_jsonf("{\"if_changed_since\":%lld}", (long long)rev));
    ck_assert(!cJSON_HasObjectItem(list, "unchanged"));
    ck_assert_int_gt(hpt_int(list, "rev"), rev);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "services")), 2);
    ck_assert_ptr_nonnull(list_row(list, "alpha"));
    ck_assert_ptr_nonnull(list_row(list, "beta"));
    rev = hpt_int(list, "rev");
    cJSON_Delete(list);
    same = hpt_ok("service.list", hpt_jsonf("{\"if_changed_since\":%lld}", (long long)rev));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(same, "unchanged")));
    cJSON_Delete(same);
}
END_TEST

/* ---- limits ---------------------------------------------------------------------------- */

/* Stops the fixture's server and starts it again on the same data dir with opt value. */
static void restart_with(const char *opt, const char *value)
{
    int status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
    hpt_server_extra_args(opt, value);
    hpt_server_start();
}

/* {"config": {"name": name, "actions": [action]}} */
static cJSON *service_params(const char *name, cJSON *action)
{
    cJSON *params = cJSON_CreateObject(), *config = cJSON_AddObjectToObject(params, "config");

    cJSON_AddStringToObject(config, "name", name);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(config, "actions"), action);
    return params;
}

/* The names service.list answers, joined by ',' (static storage). */
static const char *service_names(void)
{
    static char names[256];
    cJSON *list = hpt_ok("service.list", NULL);
    const cJSON *row;
    size_t len = 0;

    names[0] = '\0';
    cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive(list, "services"))
        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? "," : "",
                                hpt_str(row, "name"));
    cJSON_Delete(list);
    return names;
}

START_TEST(max_services_refuses_a_new_service_and_keeps_the_others_whole)
{
    cJSON *set, *got;

    restart_with("--max-services", "3");
    hpt_service_set("a", NULL, hpt_script("main", "true"), NULL);
    hpt_service_set("b", NULL, hpt_script("main", "true"), NULL);
    hpt_service_set("c", NULL, hpt_script("main", "true"), NULL);

    ck_assert_int_eq(hpt_fail("service.set", service_params("d", hpt_script("main", "true"))),
                     -32004);
    ck_assert_str_eq(hpt_error_message(), "at most 3 services; delete one before adding another");
    ck_assert_int_eq(hpt_fail("service.get", hpt_name("d")), -32000);

    /* At the limit an existing service can still be changed. */
    set = hpt_ok("service.set", service_params("b", hpt_script("main", "echo updated")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(set, "created")));
    cJSON_Delete(set);
    ck_assert_str_eq(service_names(), "a,b,c");

    /* Nothing half-created reached the store either. */
    restart_with("--max-services", "3");
    ck_assert_str_eq(service_names(), "a,b,c");
    got = hpt_ok("service.get", hpt_name("b"));
    ck_assert(hpt_json_contains(got, "echo updated"));
    cJSON_Delete(got);

    cJSON_Delete(hpt_ok("service.delete", hpt_name("a")));
    set = hpt_ok("service.set", service_params("d", hpt_script("main", "true")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(set, "created")));
    cJSON_Delete(set);
    ck_assert_str_eq(service_names(), "b,c,d");
}
END_TEST

/* The number of runs run.list answers as pending or running. */
static int active_run_count(void)
{
    cJSON *list = hpt_ok("run.list", NULL);
    const cJSON *run;
    int n = 0;

    cJSON_ArrayForEach (run, cJSON_GetObjectItemCaseSensitive(list, "runs"))
        n += strcmp(hpt_str(run, "status"), "pending") == 0 ||
             strcmp(hpt_str(run, "status"), "running") == 0;
    cJSON_Delete(list);
    return n;
}

START_TEST(restarting_a_running_service_at_max_active_runs_replaces_its_run)
{
    cJSON *run;
    int64_t first, second;
    pid_t old;

    restart_with("--max-active-runs", "1");
    hpt_service_set("web", NULL, restart_always(hpt_script("main", "sleep 30")), NULL);
    first = start_service("web");
    old = wait_running("web", "main", first, 0);
    ck_assert_int_eq(
        hpt_fail("run.submit", hpt_jsonf("{\"name\":\"more\",\"actions\":[{\"name\":\"a\","
                                         "\"command\":\"true\"}]}")),
        -32004);

    /* Starting it again answers its active run: no new run, so no refusal. */
    ck_assert_int_eq(start_service("web"), first);

    run = hpt_ok("service.restart", hpt_name("web"));
    second = hpt_int(run, "id");
    cJSON_Delete(run);
    ck_assert_int_ne(second, first);
    wait_running("web", "main", second, old);
    ck_assert_int_eq(active_run_count(), 1);
}
END_TEST

/* ---- descendants that leave the job's group ------------------------------------------ */

/* _i = 0: the daemon's own cgroups where it can make them; 1: --no-cgroups (the
 * environment marker). The server is started again with the option. */
static void use_tracking(int no_cgroups)
{
    int status;

    if (!no_cgroups)
        return;
    status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
    hpt_server_extra_args("--no-cgroups", NULL);
    hpt_server_start();
}

static int pid_file_written(void *ud)
{
    (void)ud;
    return hpt_read_pid("esc.pid") > 0;
}

static int pid_gone(void *ud)
{
    return !hpt_pid_alive(*(pid_t *)ud);
}

/* The escapee scripts: a setsid child keeping the job's stdout, one with its output
 * elsewhere, a double fork whose middle process exits at once, and a setsid child that
 * cleared its environment (so no marker) while its parent lives. Each writes its pid to
 * esc.pid and sleeps long. */
static const char *const escapees[] = {
    "setsid sh -c 'echo $$ > esc.pid; exec sleep 1000' & sleep 1000",
    "setsid sh -c 'echo $$ > esc.pid; exec sleep 1000' >/dev/null 2>&1 & sleep 1000",
    "(setsid sh -c 'echo $$ > esc.pid; exec sleep 1000' >/dev/null 2>&1 &); sleep 1000",
    "setsid env -i sh -c 'echo $$ > esc.pid; exec sleep 1000' >/dev/null 2>&1 & sleep 1000",
};

static pid_t start_escapee(const char *script)
{
    pid_t esc;

    hpt_service_set("esc", NULL, hpt_script("main", script), NULL);
    start_service("esc");
    wait_running("esc", "main", 0, 0);
    ck_assert(hpt_wait_until(pid_file_written, NULL, DEADLINE_MS));
    esc = hpt_read_pid("esc.pid");
    ck_assert(hpt_pid_alive(esc));
    return esc;
}

START_TEST(escapees_are_gone_after_service_stop)
{
    want_status inactive = {"esc", "inactive"};

    use_tracking(_i);
    for (size_t k = 0; k < sizeof(escapees) / sizeof(*escapees); k++) {
        char *path = hpt_path("esc.pid");
        pid_t esc;
        unlink(path);
        free(path);
        esc = start_escapee(escapees[k]);
        cJSON_Delete(hpt_ok("service.stop", hpt_name("esc")));
        ck_assert(hpt_wait_until(service_status_is, &inactive, DEADLINE_MS));
        ck_assert_msg(hpt_wait_until(pid_gone, &esc, GONE_DEADLINE_MS),
                      "escapee %d of script %zu survived service.stop", (int)esc, k);
    }
}
END_TEST

START_TEST(escapees_are_gone_after_the_daemon_stops)
{
    pid_t esc, server;
    int status;

    use_tracking(_i);
    esc = start_escapee(escapees[0]);
    server = hpt_server_pid();
    status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
    ck_assert_msg(hpt_wait_until(pid_gone, &esc, GONE_DEADLINE_MS), "escapee %d outlived daemon %d",
                  (int)esc, (int)server);
    hpt_server_start(); /* the fixture stops it */
}
END_TEST

/* ---- signals, back-off ---------------------------------------------------------------- */

typedef struct want_backoff {
    int restarts;
} want_backoff;

static int waiting_in_backoff(void *ud)
{
    want_backoff *w = ud;
    cJSON *st = hpt_ok("service.status", hpt_name("flaky"));
    const cJSON *job = hpt_job_of(st, "main");
    int ok = strcmp(hpt_str(job, "status"), "retrying") == 0 && hpt_int(job, "restarts") >= 3;

    w->restarts = (int)hpt_int(job, "restarts");
    cJSON_Delete(st);
    return ok;
}

START_TEST(service_start_during_backoff_starts_it_now)
{
    want_backoff w = {0};
    want_line started;
    cJSON *st;

    hpt_service_set("flaky", NULL, restart_always(hpt_script("main", "echo up; exit 1")), NULL);
    start_service("flaky");
    /* Three quick failures: the next attempt waits 4 s. */
    ck_assert(hpt_wait_until(waiting_in_backoff, &w, DEADLINE_MS));
    start_service("flaky");
    st = hpt_ok("service.status", hpt_name("flaky"));
    started.job = hpt_int(hpt_job_of(st, "main"), "id");
    cJSON_Delete(st);
    {
        cJSON *lines = hpt_job_lines(started.job);
        ck_assert_msg(hpt_find_line(lines, "system", "starting now, not after the back-off", 1) >=
                          0,
                      "service.start did not cut the back-off short");
        cJSON_Delete(lines);
    }
}
END_TEST

static int restarted_past(void *ud)
{
    const want_backoff *w = ud;
    cJSON *st = hpt_ok("service.status", hpt_name("flaky"));
    int past = hpt_int(hpt_job_of(st, "main"), "restarts") > w->restarts;

    cJSON_Delete(st);
    return past;
}

static int reexeced_once(void *ud)
{
    cJSON *info = hpt_ok("system.info", NULL);
    int done = hpt_int_or0(info, "reexecs") >= 1;

    (void)ud;
    cJSON_Delete(info);
    return done;
}

/* SIGHUP is an in-place upgrade: the daemon keeps its pid, a running service keeps its
 * process, and one waiting out a back-off keeps its restart count and crash_loop. */
START_TEST(sighup_reexecs_in_place_keeping_pids_and_backoff)
{
    want_backoff w = {0};
    pid_t server = hpt_server_pid(), sleeper;
    cJSON *st;
    const cJSON *job;

    hpt_service_set("calm", NULL, hpt_command("main", "sleep 1000"), NULL);
    start_service("calm");
    hpt_service_set("flaky", NULL, restart_always(hpt_script("main", "echo up; exit 1")), NULL);
    start_service("flaky");
    ck_assert(hpt_wait_until(waiting_in_backoff, &w, DEADLINE_MS));
    st = hpt_ok("service.status", hpt_name("calm"));
    sleeper = (pid_t)hpt_int(hpt_job_of(st, "main"), "pid");
    cJSON_Delete(st);

    ck_assert_int_eq(kill(server, SIGHUP), 0);
    ck_assert_msg(hpt_wait_until(reexeced_once, NULL, DEADLINE_MS), "no re-exec after SIGHUP");
    ck_assert_int_eq(hpt_server_pid(), server);
    ck_assert(hpt_pid_alive(server));

    st = hpt_ok("service.status", hpt_name("calm"));
    job = hpt_job_of(st, "main");
    ck_assert_str_eq(hpt_str(job, "status"), "running");
    ck_assert_int_eq(hpt_int(job, "pid"), sleeper);
    ck_assert_int_eq(hpt_int(job, "restarts"), 0);
    cJSON_Delete(st);
    ck_assert(hpt_pid_alive(sleeper));

    st = hpt_ok("service.status", hpt_name("flaky"));
    job = hpt_job_of(st, "main");
    ck_assert_int_ge(hpt_int(job, "restarts"), w.restarts);
    cJSON_Delete(st);
    /* The back-off goes on where it was: the next failure counts up from there. */
    ck_assert_msg(hpt_wait_until(restarted_past, &w, DEADLINE_MS),
                  "flaky did not restart again after the re-exec");
}
END_TEST

static Suite *server_services_suite(void)
{
    Suite *s = suite_create("server_services");
    TCase *tc = tcase_create("server_services");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, service_set_alone_starts_nothing);
    tcase_add_test(tc, started_service_is_running_with_a_live_pid);
    tcase_add_test(tc, killed_service_process_is_restarted_with_a_new_pid);
    tcase_add_test(tc, stopped_service_is_inactive_and_its_process_gone);
    tcase_add_test(tc, restart_creates_a_new_run_and_drops_the_old_jobs);
    tcase_add_test(tc, restart_with_keep_history_keeps_the_old_jobs);
    tcase_add_test(tc, stopping_a_service_between_restarts_keeps_it_stopped);
    tcase_add_test(tc, restart_applies_the_updated_config);
    tcase_add_test(tc, deleted_service_is_not_found_and_its_process_gone);
    tcase_add_test(tc, prepare_runs_to_completion_before_start);
    tcase_add_test(tc, service_list_answers_unchanged_until_something_changes);
    tcase_add_test(tc, max_services_refuses_a_new_service_and_keeps_the_others_whole);
    tcase_add_test(tc, restarting_a_running_service_at_max_active_runs_replaces_its_run);
    tcase_add_test(tc, service_start_during_backoff_starts_it_now);
    tcase_add_test(tc, sighup_reexecs_in_place_keeping_pids_and_backoff);
    tcase_add_loop_test(tc, escapees_are_gone_after_service_stop, 0, 2);
    tcase_add_loop_test(tc, escapees_are_gone_after_the_daemon_stops, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(server_services_suite());
}
