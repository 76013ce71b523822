/* SPDX-License-Identifier: Apache-2.0 */
/* Runs and jobs on a real hero_proc_server: output capture, dependency order, skips,
 * retries, timeouts that take the whole process group, cancel, run.wait long-polls, log
 * cursors and tails, commands without a shell, env and secrets, the actions run.get gives
 * back for a rerun, the --max-active-runs and --max-secrets limits, and what a job's process
 * inherits (nothing but 0, 1, 2) and leaves behind (no zombies). */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { RUN_DEADLINE_MS = 20000, GONE_DEADLINE_MS = 5000 };

/* ---- helpers --------------------------------------------------------------------------- */

static void assert_status(const cJSON *o, const char *want)
{
    const char *got = hpt_str(o, "status");

    ck_assert_msg(got && strcmp(got, want) == 0, "status '%s', want '%s' in %s",
                  got ? got : "(none)", want, cJSON_PrintUnformatted(o));
}

/* The stdout lines of a job, joined by '\n' (caller frees). */
static char *stdout_of(int64_t job_id)
{
    cJSON *lines = hpt_job_lines(job_id);
    const cJSON *l;
    size_t cap = 1, len = 0;
    char *out;

    cJSON_ArrayForEach (l, lines)
        cap += strlen(hpt_str(l, "line")) + 1;
    out = calloc(1, cap);
    ck_assert_ptr_nonnull(out);
    cJSON_ArrayForEach (l, lines) {
        if (strcmp(hpt_str(l, "stream"), "stdout") != 0)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "\n" : "", hpt_str(l, "line"));
    }
    cJSON_Delete(lines);
    return out;
}

typedef struct run_job {
    int64_t run_id;
    const char *action;
} run_job;

/* The job's pid while it runs, else 0. */
static pid_t running_pid(const run_job *rj)
{
    cJSON *run = hpt_ok("run.get", hpt_id(rj->run_id));
    const cJSON *job = hpt_job_of(run, rj->action);
    const char *status = hpt_str(job, "status");
    pid_t pid = strcmp(status, "running") == 0 ? (pid_t)hpt_int_or0(job, "pid") : 0;

    cJSON_Delete(run);
    return pid;
}

static int job_is_running(void *ud)
{
    return running_pid(ud) > 0;
}

static int pid_is_gone(void *ud)
{
    return !hpt_pid_alive(*(pid_t *)ud);
}

static int pid_is_reaped(void *ud)
{
    return !hpt_pid_exists(*(pid_t *)ud);
}

static int group_is_gone(void *ud)
{
    return hpt_group_count(*(pid_t *)ud) == 0;
}

static int file_has_pid(void *ud)
{
    return hpt_read_pid(ud) > 0;
}

static pid_t wait_for_pid_file(const char *name)
{
    ck_assert_msg(hpt_wait_until(file_has_pid, (void *)(uintptr_t)name, RUN_DEADLINE_MS),
                  "%s was never written", name);
    return hpt_read_pid(name);
}

static cJSON *with_int(cJSON *o, const char *key, double v)
{
    cJSON_AddNumberToObject(o, key, v);
    return o;
}

/* ---- one run, one job ---------------------------------------------------------------- */

START_TEST(echo_hello_succeeds_with_its_output_and_system_lines)
{
    int64_t id = hpt_submit("hello", hpt_script("say", "echo hello"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS), *lines;
    const cJSON *job = hpt_job_of(run, "say"), *l;
    int spawned, hello, exited;
    char src[64];

    assert_status(run, "succeeded");
    assert_status(job, "succeeded");
    ck_assert_int_eq(hpt_int(job, "exit_code"), 0);
    ck_assert_int_eq(hpt_int(job, "attempt"), 1);
    ck_assert_int_eq(hpt_int(job, "run_id"), id);
    ck_assert_int_ge(hpt_int(job, "ended_at_ms"), hpt_int(job, "started_at_ms"));
    ck_assert_int_ge(hpt_int(run, "ended_at_ms"), hpt_int(run, "started_at_ms"));
    lines = hpt_job_lines(hpt_int(job, "id"));
    spawned = hpt_find_line(lines, "system", "spawned pid ", 1);
    hello = hpt_find_line(lines, "stdout", "hello", 0);
    exited = hpt_find_line(lines, "system", "exited with code 0", 1);
    ck_assert_msg(spawned >= 0 && hello >= 0 && exited >= 0, "lines: %s",
                  cJSON_PrintUnformatted(lines));
    ck_assert(spawned < hello && hello < exited);
    snprintf(src, sizeof(src), "run.%lld.say", (long long)id);
    cJSON_ArrayForEach (l, lines) {
        ck_assert_str_eq(hpt_str(l, "src"), src);
        ck_assert_int_eq(hpt_int(l, "job_id"), hpt_int(job, "id"));
    }
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

/* 40 jobs that end together: their exits are reaped in bursts, each burst's rows written
 * in one transaction before any answer leaves, so a kill -9 after run.wait loses none. */
START_TEST(a_burst_of_exits_is_stored_exactly_through_a_crash)
{
    cJSON *params = cJSON_CreateObject(), *actions, *run;
    int64_t id;

    cJSON_AddStringToObject(params, "name", "burst");
    actions = cJSON_AddArrayToObject(params, "actions");
    for (int i = 0; i < 40; i++) {
        char name[16], script[32];
        snprintf(name, sizeof(name), "j%d", i);
        snprintf(script, sizeof(script), "exit %d", i % 5);
        cJSON_AddItemToArray(actions, hpt_script(name, script));
    }
    run = hpt_ok("run.submit", params);
    id = hpt_int(run, "id");
    cJSON_Delete(run);
    cJSON_Delete(hpt_wait_run(id, RUN_DEADLINE_MS));
    hpt_server_crash_and_restart();
    run = hpt_ok("run.get", hpt_id(id));
    assert_status(run, "failed");
    for (int i = 0; i < 40; i++) {
        char name[16], exited[32];
        const cJSON *job;
        cJSON *lines;
        snprintf(name, sizeof(name), "j%d", i);
        snprintf(exited, sizeof(exited), "exited with code %d", i % 5);
        job = hpt_job_of(run, name);
        assert_status(job, i % 5 ? "failed" : "succeeded");
        ck_assert_int_eq(hpt_int(job, "exit_code"), i % 5);
        lines = hpt_job_lines(hpt_int(job, "id"));
        ck_assert_int_ge(hpt_find_line(lines, "system", "spawned pid ", 1), 0);
        ck_assert_int_ge(hpt_find_line(lines, "system", exited, 1), 0);
        cJSON_Delete(lines);
    }
    cJSON_Delete(run);
}
END_TEST

START_TEST(stderr_lines_are_on_the_stderr_stream)
{
    int64_t id = hpt_submit("streams", hpt_script("s", "echo out; echo err >&2"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS);
    cJSON *lines = hpt_job_lines(hpt_int(hpt_job_of(run, "s"), "id"));

    ck_assert_int_ge(hpt_find_line(lines, "stdout", "out", 0), 0);
    ck_assert_int_ge(hpt_find_line(lines, "stderr", "err", 0), 0);
    ck_assert_int_lt(hpt_find_line(lines, "stdout", "err", 0), 0);
    ck_assert_int_lt(hpt_find_line(lines, "stderr", "out", 0), 0);
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

START_TEST(command_is_split_shell_style_and_run_without_a_shell)
{
    int64_t id = hpt_submit("split", hpt_command("p", "printf '%s|' \"a b\" c 'd\"e' $HOME"),
                            hpt_command("e", "echo hi; echo there"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS);
    char *p = stdout_of(hpt_int(hpt_job_of(run, "p"), "id"));
    char *e = stdout_of(hpt_int(hpt_job_of(run, "e"), "id"));

    assert_status(run, "succeeded");
    ck_assert_str_eq(p, "a b|c|d\"e|$HOME|");
    ck_assert_str_eq(e, "hi; echo there");
    free(p);
    free(e);
    cJSON_Delete(run);
}
END_TEST

START_TEST(env_values_reach_the_process)
{
    cJSON *a = hpt_script("env", "echo \"[$GREETING] [$PATH_EXTRA]\"");
    cJSON *env = cJSON_AddObjectToObject(a, "env");
    int64_t id;
    cJSON *run;
    char *out;

    cJSON_AddStringToObject(env, "GREETING", "hi there");
    cJSON_AddStringToObject(env, "PATH_EXTRA", "$not_expanded");
    id = hpt_submit("env", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    out = stdout_of(hpt_int(hpt_job_of(run, "env"), "id"));
    ck_assert_str_eq(out, "[hi there] [$not_expanded]");
    free(out);
    cJSON_Delete(run);
}
END_TEST

/* ---- dependencies ------------------------------------------------------------------------ */

START_TEST(dependent_starts_after_its_dependency_ended)
{
    /* b is listed first: the order comes from depends_on, not from the list. */
    int64_t id = hpt_submit("order", hpt_depends(hpt_script("b", "echo B"), "a"),
                            hpt_script("a", "echo A"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS), *tail, *params;
    const cJSON *a = hpt_job_of(run, "a"), *b = hpt_job_of(run, "b");
    int ia, ib;
    char src[32];

    assert_status(run, "succeeded");
    ck_assert_int_le(hpt_int(a, "ended_at_ms"), hpt_int(b, "started_at_ms"));
    snprintf(src, sizeof(src), "run.%lld", (long long)id);
    params = hpt_jsonf("{\"src\":\"%s\"}", src);
    tail = hpt_ok("logs.tail", params);
    ia = hpt_find_line(cJSON_GetObjectItemCaseSensitive(tail, "lines"), "stdout", "A", 0);
    ib = hpt_find_line(cJSON_GetObjectItemCaseSensitive(tail, "lines"), "stdout", "B", 0);
    ck_assert_msg(ia >= 0 && ib > ia, "A at %d, B at %d", ia, ib);
    cJSON_Delete(tail);
    cJSON_Delete(run);
}
END_TEST

START_TEST(failing_dependency_skips_its_dependents_and_fails_the_run)
{
    int64_t id = hpt_submit("skip", hpt_script("a", "echo failing; exit 3"),
                            hpt_depends(hpt_script("b", "echo never-b"), "a"),
                            hpt_depends(hpt_script("c", "echo never-c"), "b"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS), *lines;
    const cJSON *a = hpt_job_of(run, "a");

    assert_status(run, "failed");
    assert_status(a, "failed");
    ck_assert_int_eq(hpt_int(a, "exit_code"), 3);
    ck_assert_ptr_nonnull(hpt_str(a, "error"));
    assert_status(hpt_job_of(run, "b"), "skipped");
    assert_status(hpt_job_of(run, "c"), "skipped");
    ck_assert_int_eq(hpt_int(cJSON_GetObjectItemCaseSensitive(run, "counts"), "skipped"), 2);
    lines = hpt_job_lines(hpt_int(hpt_job_of(run, "b"), "id"));
    ck_assert_int_ge(hpt_find_line(lines, "system", "skipped", 1), 0);
    ck_assert_int_lt(hpt_find_line(lines, "stdout", "never-b", 0), 0);
    ck_assert_int_lt(hpt_find_line(lines, "system", "spawned", 1), 0);
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

/* ---- retries, timeouts, cancel ---------------------------------------------------------- */

START_TEST(retry_succeeds_on_the_third_attempt)
{
    cJSON *a = hpt_script("flaky", "n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); "
                                   "echo $n > count; echo \"attempt $n\"; [ \"$n\" -ge 3 ]");
    int64_t id;
    cJSON *run, *lines, *params;
    const cJSON *job;
    char *count;
    int retries = 0;
    const cJSON *l;

    with_int(a, "retry", 2);
    with_int(a, "retry_delay_ms", 10);
    id = hpt_submit("retry", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    job = hpt_job_of(run, "flaky");
    assert_status(run, "succeeded");
    assert_status(job, "succeeded");
    ck_assert_int_eq(hpt_int(job, "attempt"), 3);
    count = hpt_read("count");
    ck_assert_str_eq(count, "3\n");
    free(count);
    lines = hpt_job_lines(hpt_int(job, "id"));
    cJSON_ArrayForEach (l, lines)
        retries +=
            strcmp(hpt_str(l, "stream"), "system") == 0 && strstr(hpt_str(l, "line"), "retry");
    ck_assert_int_eq(retries, 2);
    cJSON_Delete(lines);
    /* job.logs can show one attempt. */
    params = with_int(with_int(hpt_id(hpt_int(job, "id")), "attempt", 2), "limit", 100);
    lines = hpt_ok("job.logs", params);
    ck_assert_int_ge(
        hpt_find_line(cJSON_GetObjectItemCaseSensitive(lines, "lines"), "stdout", "attempt 2", 0),
        0);
    ck_assert_int_lt(
        hpt_find_line(cJSON_GetObjectItemCaseSensitive(lines, "lines"), "stdout", "attempt 1", 0),
        0);
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

START_TEST(retry_that_never_succeeds_fails_after_the_last_attempt)
{
    cJSON *a = hpt_script("bad", "echo try >> tries; exit 1");
    int64_t id;
    cJSON *run;
    char *tries;

    with_int(a, "retry", 2);
    id = hpt_submit("retry", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    assert_status(run, "failed");
    assert_status(hpt_job_of(run, "bad"), "failed");
    ck_assert_int_eq(hpt_int(hpt_job_of(run, "bad"), "attempt"), 3);
    tries = hpt_read("tries");
    ck_assert_str_eq(tries, "try\ntry\ntry\n");
    free(tries);
    cJSON_Delete(run);
}
END_TEST

START_TEST(timeout_kills_the_whole_process_group)
{
    cJSON *a = hpt_script("slow", "echo $$ > leader.pid; sleep 30 & echo $! > child.pid; sleep 30");
    int64_t id;
    cJSON *run, *lines;
    const cJSON *job;
    pid_t leader, child;

    with_int(a, "timeout_secs", 1);
    id = hpt_submit("timeout", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    job = hpt_job_of(run, "slow");
    assert_status(job, "timed_out");
    assert_status(run, "failed");
    ck_assert_ptr_nonnull(hpt_str(job, "error"));
    leader = hpt_read_pid("leader.pid");
    child = hpt_read_pid("child.pid");
    ck_assert_int_gt(leader, 1);
    ck_assert_int_gt(child, 1);
    ck_assert_msg(hpt_wait_until(pid_is_gone, &child, GONE_DEADLINE_MS),
                  "the background child %d outlived the timeout", (int)child);
    ck_assert_msg(hpt_wait_until(group_is_gone, &leader, GONE_DEADLINE_MS),
                  "process group %d still has processes", (int)leader);
    lines = hpt_job_lines(hpt_int(job, "id"));
    ck_assert_int_ge(hpt_find_line(lines, "system", "timed out", 1), 0);
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

START_TEST(run_cancel_stops_a_running_job)
{
    int64_t id = hpt_submit("cancel", hpt_script("long", "echo $$ > leader.pid; sleep 30"), NULL);
    run_job rj = {id, "long"};
    cJSON *run;
    pid_t leader;

    ck_assert(hpt_wait_until(job_is_running, &rj, RUN_DEADLINE_MS));
    leader = wait_for_pid_file("leader.pid");
    cJSON_Delete(hpt_ok("run.cancel", hpt_id(id)));
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    assert_status(run, "cancelled");
    assert_status(hpt_job_of(run, "long"), "cancelled");
    ck_assert_msg(hpt_wait_until(group_is_gone, &leader, GONE_DEADLINE_MS),
                  "the cancelled job's processes still run");
    /* A finished run cannot be cancelled again. */
    ck_assert_int_eq(hpt_fail("run.cancel", hpt_id(id)), -32002);
    cJSON_Delete(run);
}
END_TEST

START_TEST(job_cancel_skips_its_dependents_and_the_run_ends_cancelled)
{
    int64_t id = hpt_submit("cancel-one", hpt_script("long", "sleep 30"),
                            hpt_depends(hpt_script("after", "echo never"), "long"), NULL);
    run_job rj = {id, "long"};
    int64_t job;
    pid_t pid;
    cJSON *run, *answer;

    ck_assert(hpt_wait_until(job_is_running, &rj, RUN_DEADLINE_MS));
    pid = running_pid(&rj);
    run = hpt_ok("run.get", hpt_id(id));
    job = hpt_int(hpt_job_of(run, "long"), "id");
    cJSON_Delete(run);
    answer = hpt_ok("job.cancel", hpt_id(job));
    ck_assert_int_eq(hpt_int(answer, "id"), job);
    cJSON_Delete(answer);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    assert_status(hpt_job_of(run, "long"), "cancelled");
    assert_status(hpt_job_of(run, "after"), "skipped");
    assert_status(run, "cancelled");
    ck_assert(hpt_wait_until(group_is_gone, &pid, GONE_DEADLINE_MS));
    ck_assert_int_eq(hpt_fail("job.cancel", hpt_id(job)), -32002);
    cJSON_Delete(run);
}
END_TEST

START_TEST(job_ignoring_sigterm_is_killed_after_the_grace_period)
{
    /* An ignored SIGTERM stays ignored in sleep too: only SIGKILL ends them. */
    cJSON *a = hpt_script("stubborn", "trap '' TERM; echo $$ > leader.pid; sleep 30");
    int64_t id, t0, elapsed;
    cJSON *run, *lines;
    pid_t leader;

    with_int(a, "timeout_secs", 1);
    t0 = hpt_now_ms();
    id = hpt_submit("stubborn", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    elapsed = hpt_now_ms() - t0;
    assert_status(hpt_job_of(run, "stubborn"), "timed_out");
    ck_assert_int_eq(hpt_int(hpt_job_of(run, "stubborn"), "signal"), 9);
    /* 1 s timeout + 1 s grace (--kill-grace-ms 1000), with room for a slow machine. */
    ck_assert_int_ge(elapsed, 1900);
    ck_assert_int_lt(elapsed, 15000);
    leader = hpt_read_pid("leader.pid");
    ck_assert(hpt_wait_until(group_is_gone, &leader, GONE_DEADLINE_MS));
    lines = hpt_job_lines(hpt_int(hpt_job_of(run, "stubborn"), "id"));
    ck_assert_int_ge(hpt_find_line(lines, "system", "SIGKILL", 1), 0);
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

START_TEST(run_delete_refuses_an_active_run_and_removes_a_finished_one)
{
    int64_t active = hpt_submit("active", hpt_script("s", "sleep 30"), NULL);
    int64_t done = hpt_submit("done", hpt_script("s", "echo bye"), NULL), job;
    cJSON *run, *del, *tail;

    ck_assert_int_eq(hpt_fail("run.delete", hpt_id(active)), -32002);
    run = hpt_wait_run(done, RUN_DEADLINE_MS);
    job = hpt_int(hpt_job_of(run, "s"), "id");
    cJSON_Delete(run);
    del = hpt_ok("run.delete", hpt_id(done));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(del, "deleted")));
    cJSON_Delete(del);
    ck_assert_int_eq(hpt_fail("run.get", hpt_id(done)), -32000);
    ck_assert_int_eq(hpt_fail("job.get", hpt_id(job)), -32000);
    tail = hpt_ok("logs.tail", hpt_jsonf("{\"src\":\"run.%lld\"}", (long long)done));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tail, "lines")), 0);
    cJSON_Delete(tail);
    ck_assert_int_eq(hpt_fail("run.delete", hpt_id(done)), -32000);
}
END_TEST

/* ---- a past run's actions, for a rerun ------------------------------------------------- */

static void assert_actions(const cJSON *run, const cJSON *want)
{
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(run, "actions");

    ck_assert_msg(cJSON_Compare(got, want, 1), "actions %s, want %s", cJSON_PrintUnformatted(got),
                  cJSON_PrintUnformatted(want));
}

START_TEST(run_get_returns_the_actions_as_submitted_in_their_order)
{
    /* The dependent first: the answer keeps the submitted order, not the start order. */
    cJSON *deploy =
        hpt_depends(with_int(hpt_script("deploy", "echo \"$MODE\""), "timeout_secs", 60), "fetch");
    cJSON *fetch = hpt_command("fetch", "echo fetched");
    cJSON *want = cJSON_CreateArray(), *tags, *run, *list;
    const cJSON *first, *r;
    int64_t id;
    int st;

    cJSON_AddStringToObject(cJSON_AddObjectToObject(deploy, "env"), "MODE", "release");
    with_int(with_int(deploy, "retry", 2), "retry_delay_ms", 10);
    tags = cJSON_AddArrayToObject(deploy, "tags");
    cJSON_AddItemToArray(tags, cJSON_CreateString("web"));
    cJSON_AddItemToArray(want, cJSON_Duplicate(deploy, 1));
    cJSON_AddItemToArray(want, cJSON_Duplicate(fetch, 1));
    id = hpt_submit("rerun-me", deploy, fetch, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    assert_status(run, "succeeded");
    ck_assert_msg(!cJSON_HasObjectItem(run, "actions"), "run.wait shows actions");
    cJSON_Delete(run);

    run = hpt_ok("run.get", hpt_id(id));
    assert_actions(run, want);
    first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(run, "actions"), 0);
    ck_assert_str_eq(hpt_str(first, "name"), "deploy");
    ck_assert_str_eq(hpt_str(first, "script"), "echo \"$MODE\"");
    ck_assert_int_eq(hpt_int(first, "timeout_secs"), 60);
    cJSON_Delete(run);
    list = hpt_ok("run.list", NULL);
    cJSON_ArrayForEach (r, cJSON_GetObjectItemCaseSensitive(list, "runs"))
        ck_assert_msg(!cJSON_HasObjectItem(r, "actions"), "run.list shows actions");
    cJSON_Delete(list);

    /* A past run is rerun after a restart too: the actions come back from the store. */
    st = hpt_server_signal_and_wait(SIGTERM, GONE_DEADLINE_MS);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    hpt_server_start();
    run = hpt_ok("run.get", hpt_id(id));
    assert_actions(run, want);
    cJSON_Delete(run);
    cJSON_Delete(want);
}
END_TEST

static void restart_with(const char *opt, const char *value);

static int log_is_small(void *ud)
{
    cJSON *lines = hpt_job_lines(*(int64_t *)ud);
    int n = cJSON_GetArraySize(lines);

    cJSON_Delete(lines);
    return n < 3000;
}

START_TEST(job_over_its_byte_cap_keeps_the_newest_lines_and_counts_the_rest)
{
    int64_t id, job;
    cJSON *run, *lines, *got, *params;
    int n;

    /* 16 KiB per job: segments of 4 KiB, 12 to 16 KiB of lines "NNNNN" (about 6 bytes
     * each, blocks of lines sharing a header) kept. */
    restart_with("--log-bytes-per-job", "16384");
    id = hpt_submit("chatty", hpt_command("seq", "seq 1 12000"), NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    job = hpt_int(hpt_job_of(run, "seq"), "id");
    /* The retention applies as the lines are written, a few ms after the run ended. */
    ck_assert_msg(hpt_wait_until(log_is_small, &job, RUN_DEADLINE_MS), "the log stays large");
    lines = hpt_job_lines(job);
    n = cJSON_GetArraySize(lines);
    ck_assert_int_gt(n, 1500);
    ck_assert_int_lt(n, 3000);
    ck_assert_int_ge(hpt_find_line(lines, "stdout", "12000", 0), 0);
    ck_assert_int_lt(hpt_find_line(lines, "stdout", "1", 0), 0);
    /* 12000 output lines and 2 system lines: every one is kept or counted. */
    got = hpt_ok("job.get", hpt_id(job));
    ck_assert_int_eq(hpt_int(got, "dropped"), 12002 - n);
    cJSON_Delete(got);
    got = hpt_ok("job.logs", with_int(hpt_id(job), "limit", 1));
    ck_assert_int_eq(hpt_int(got, "dropped"), 12002 - n);
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(got, "truncated")),
                  "job.logs from the start says its range was cut");
    cJSON_Delete(got);
    /* Paging back from the end reaches the first kept line, and says so. */
    params = with_int(hpt_id(job), "before_seq", hpt_int(cJSON_GetArrayItem(lines, n - 1), "seq"));
    got = hpt_ok("job.logs", with_int(params, "limit", 10000));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(got, "lines")), n - 1);
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(got, "truncated")),
                  "paging back says the rest was dropped");
    cJSON_Delete(got);
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

/* ---- logs.search ----------------------------------------------------------------------- */

START_TEST(logs_search_finds_a_job_s_lines_with_context_and_refuses_bad_asks)
{
    int64_t id = hpt_submit("noisy",
                            hpt_script("p",
                                       "for i in $(seq 1 3000); do echo \"line $i\"; "
                                       "[ $((i % 1000)) = 0 ] && echo \"ERROR $i\"; done; true"),
                            NULL),
            job;
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS), *r, *m;

    job = hpt_int(hpt_job_of(run, "p"), "id");
    r = hpt_ok("logs.search", hpt_jsonf("{\"job_id\":%lld,\"pattern\":\"^ERROR [0-9]+$\","
                                        "\"context\":1}",
                                        (long long)job));
    m = cJSON_GetObjectItem(r, "matches");
    ck_assert_int_eq(cJSON_GetArraySize(m), 3);
    ck_assert_str_eq(hpt_str(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 0), "line"), "line"),
                     "ERROR 3000");
    ck_assert_str_eq(
        hpt_str(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 2), "before"), 0),
                "line"),
        "line 1000");
    ck_assert_str_eq(
        hpt_str(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 2), "after"), 0),
                "line"),
        "line 1001");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "complete")));
    cJSON_Delete(r);
    /* the same by run, as text, case folded */
    r = hpt_ok("logs.search", hpt_jsonf("{\"run_id\":%lld,\"pattern\":\"error 2\","
                                        "\"substring\":true,\"ignore_case\":true}",
                                        (long long)id));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "matches")), 1);
    cJSON_Delete(r);
    ck_assert_int_eq(hpt_fail("logs.search", hpt_jsonf("{\"job_id\":%lld,\"run_id\":%lld,"
                                                       "\"pattern\":\"x\"}",
                                                       (long long)job, (long long)id)),
                     -32602);
    ck_assert_int_eq(hpt_fail("logs.search", hpt_jsonf("{\"pattern\":\"x\"}")), -32602);
    ck_assert_int_eq(
        hpt_fail("logs.search", hpt_jsonf("{\"job_id\":%lld,\"pattern\":\"(\"}", (long long)job)),
        -32602);
    ck_assert_msg(strstr(hpt_error_message(), "pattern"), "%s", hpt_error_message());
    ck_assert_int_eq(hpt_fail("logs.search", hpt_jsonf("{\"job_id\":999999,\"pattern\":\"x\"}")),
                     -32000);
    ck_assert_int_eq(hpt_fail("logs.search", hpt_jsonf("{\"service\":\"nope\",\"pattern\":\"x\"}")),
                     -32000);
    cJSON_Delete(run);
}
END_TEST

/* ---- run.wait -------------------------------------------------------------------------- */

START_TEST(run_wait_does_not_block_other_clients)
{
    int64_t id = hpt_submit("long", hpt_script("s", "sleep 30"), NULL);
    char body[256], *answer;
    int64_t t0, elapsed;
    cJSON *reply;
    int fd;

    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"run.wait\","
             "\"params\":{\"id\":%lld,\"timeout_ms\":20000}}",
             (long long)id);
    fd = hpt_raw_send(body);
    t0 = hpt_now_ms();
    cJSON_Delete(hpt_ok("system.ping", NULL));
    cJSON_Delete(hpt_ok("run.get", hpt_id(id)));
    elapsed = hpt_now_ms() - t0;
    ck_assert_msg(elapsed < 2000, "other calls took %lld ms while a run.wait waited",
                  (long long)elapsed);
    ck_assert_msg(!hpt_raw_ready(fd), "run.wait answered before the run ended");
    cJSON_Delete(hpt_ok("run.cancel", hpt_id(id)));
    answer = hpt_raw_answer(fd, 10000);
    ck_assert_msg(answer != NULL, "run.wait did not answer once the run was cancelled");
    reply = cJSON_Parse(answer);
    ck_assert_msg(reply != NULL, "not JSON: %s", answer);
    assert_status(cJSON_GetObjectItemCaseSensitive(reply, "result"), "cancelled");
    ck_assert_int_eq(hpt_int(reply, "id"), 99);
    cJSON_Delete(reply);
    free(answer);
}
END_TEST

START_TEST(run_wait_timeout_answers_timeout_error_with_the_run)
{
    int64_t id = hpt_submit("long", hpt_script("s", "sleep 30"), NULL);
    cJSON *params = with_int(hpt_id(id), "timeout_ms", 300);
    int64_t t0 = hpt_now_ms(), elapsed;
    int code = 0;
    cJSON *r = hpt_call("run.wait", params, &code);
    const cJSON *run;

    elapsed = hpt_now_ms() - t0;
    ck_assert_ptr_null(r);
    ck_assert_int_eq(code, -32005);
    ck_assert_int_ge(elapsed, 250);
    ck_assert_int_lt(elapsed, 5000);
    run = cJSON_GetObjectItemCaseSensitive(hpt_error_data(), "run");
    ck_assert_msg(run != NULL, "the timeout error should carry the run");
    ck_assert_int_eq(hpt_int(run, "id"), id);
    ck_assert_str_eq(hpt_str(run, "status"), "running");
    /* timeout_ms 0 answers at once. */
    ck_assert_int_eq(hpt_fail("run.wait", with_int(hpt_id(id), "timeout_ms", 0)), -32005);
}
END_TEST

/* ---- logs ------------------------------------------------------------------------------- */

START_TEST(job_logs_pages_with_after_seq_and_limit)
{
    int64_t id = hpt_submit(
        "ten", hpt_script("count", "i=1; while [ $i -le 10 ]; do echo line$i; i=$((i + 1)); done"),
        NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS);
    int64_t job = hpt_int(hpt_job_of(run, "count"), "id"), after = 0, last_seq = 0;
    cJSON *all = hpt_job_lines(job);
    int total = cJSON_GetArraySize(all), seen = 0, pages = 0, expect_line = 1;

    ck_assert_int_ge(total, 12); /* 10 lines, spawned, exited */
    for (;;) {
        cJSON *page = hpt_ok(
            "job.logs", with_int(with_int(hpt_id(job), "after_seq", (double)after), "limit", 4));
        const cJSON *lines = cJSON_GetObjectItemCaseSensitive(page, "lines"), *l;
        int n = cJSON_GetArraySize(lines);
        ck_assert_int_le(n, 4);
        if (n == 0) {
            ck_assert_int_eq(hpt_int(page, "next_seq"), after);
            cJSON_Delete(page);
            break;
        }
        cJSON_ArrayForEach (l, lines) {
            const cJSON *same = cJSON_GetArrayItem(all, seen++);
            ck_assert_int_gt(hpt_int(l, "seq"), last_seq);
            ck_assert_int_eq(hpt_int(l, "seq"), hpt_int(same, "seq"));
            last_seq = hpt_int(l, "seq");
            if (strcmp(hpt_str(l, "stream"), "stdout") == 0) {
                char want[16];
                snprintf(want, sizeof(want), "line%d", expect_line++);
                ck_assert_str_eq(hpt_str(l, "line"), want);
            }
        }
        ck_assert_int_eq(hpt_int(page, "next_seq"), last_seq);
        after = last_seq;
        pages++;
        cJSON_Delete(page);
        ck_assert_int_lt(pages, 100);
    }
    ck_assert_int_eq(seen, total);
    ck_assert_int_eq(expect_line, 11);
    ck_assert_int_eq(pages, (total + 3) / 4);
    cJSON_Delete(all);
    cJSON_Delete(run);
}
END_TEST

START_TEST(logs_tail_filters_by_run_and_logs_insert_adds_lines)
{
    int64_t one = hpt_submit("one", hpt_script("a", "echo from-one"), NULL);
    int64_t two = hpt_submit("two", hpt_script("a", "echo from-two"), NULL);
    cJSON *tail, *ins;
    const cJSON *lines, *l;
    char prefix[32];
    int64_t last;

    cJSON_Delete(hpt_wait_run(one, RUN_DEADLINE_MS));
    cJSON_Delete(hpt_wait_run(two, RUN_DEADLINE_MS));
    snprintf(prefix, sizeof(prefix), "run.%lld.", (long long)one);
    tail = hpt_ok("logs.tail", hpt_jsonf("{\"src\":\"run.%lld\"}", (long long)one));
    lines = cJSON_GetObjectItemCaseSensitive(tail, "lines");
    ck_assert_int_ge(hpt_find_line(lines, "stdout", "from-one", 0), 0);
    ck_assert_int_lt(hpt_find_line(lines, NULL, "from-two", 0), 0);
    cJSON_ArrayForEach (l, lines)
        ck_assert_msg(strncmp(hpt_str(l, "src"), prefix, strlen(prefix)) == 0, "src %s",
                      hpt_str(l, "src"));
    cJSON_Delete(tail);

    ins = hpt_ok("logs.insert", hpt_jsonf("{\"src\":\"deploy.web\",\"stream\":\"stderr\","
                                          "\"lines\":[\"first\",\"second\"]}"));
    ck_assert_int_eq(hpt_int(ins, "count"), 2);
    last = hpt_int(ins, "last_seq");
    cJSON_Delete(ins);
    tail = hpt_ok("logs.tail", hpt_jsonf("{\"src\":\"deploy\"}"));
    lines = cJSON_GetObjectItemCaseSensitive(tail, "lines");
    ck_assert_int_eq(cJSON_GetArraySize(lines), 2);
    ck_assert_str_eq(hpt_str(cJSON_GetArrayItem(lines, 0), "line"), "first");
    ck_assert_str_eq(hpt_str(cJSON_GetArrayItem(lines, 1), "line"), "second");
    cJSON_ArrayForEach (l, lines) {
        ck_assert_str_eq(hpt_str(l, "stream"), "stderr");
        ck_assert_str_eq(hpt_str(l, "src"), "deploy.web");
        ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l, "job_id")));
    }
    ck_assert_int_eq(hpt_int(cJSON_GetArrayItem(lines, 1), "seq"), last);
    ck_assert_int_eq(hpt_int(tail, "next_seq"), last);
    cJSON_Delete(tail);
    /* Nothing after the cursor yet. */
    tail =
        hpt_ok("logs.tail", hpt_jsonf("{\"src\":\"deploy\",\"after_seq\":%lld}", (long long)last));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tail, "lines")), 0);
    ck_assert_int_eq(hpt_int(tail, "next_seq"), last);
    cJSON_Delete(tail);
}
END_TEST

/* ---- secrets ------------------------------------------------------------------------------ */

#define SECRET_VALUE "s3cr3t-VALUE-4711"

static void assert_no_secret(const char *what, cJSON *json_taken)
{
    ck_assert_msg(!hpt_json_contains(json_taken, SECRET_VALUE), "%s shows the secret value: %s",
                  what, cJSON_PrintUnformatted(json_taken));
    cJSON_Delete(json_taken);
}

/* The shell creates the file before printf writes to it: wait for its text. */
static int file_has_text(void *ud)
{
    char *text = hpt_read(ud);
    int ok = text && *text;

    free(text);
    return ok;
}

START_TEST(secret_in_env_is_resolved_and_never_shown)
{
    cJSON *a = hpt_script("use", "printf %s \"$TOKEN\" > secret.out; echo \"length ${#TOKEN}\"");
    cJSON *svc_action = hpt_script("use", "printf %s \"$TOKEN\" > service-secret.out");
    cJSON *run, *list;
    int64_t id, job;
    char *seen;

    cJSON_Delete(
        hpt_ok("secret.set", hpt_jsonf("{\"name\":\"API_TOKEN\",\"value\":\"%s\"}", SECRET_VALUE)));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(a, "env"), "TOKEN", "${secret:API_TOKEN}");
    id = hpt_submit("secret", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    assert_status(run, "succeeded");
    job = hpt_int(hpt_job_of(run, "use"), "id");
    seen = hpt_read("secret.out");
    ck_assert_str_eq(seen, SECRET_VALUE);
    free(seen);
    seen = stdout_of(job);
    ck_assert_str_eq(seen, "length 17");
    free(seen);
    assert_no_secret("run.wait", run);
    assert_no_secret("job.logs", hpt_job_lines(job));
    assert_no_secret("run.get", hpt_ok("run.get", hpt_id(id)));
    assert_no_secret("job.get", hpt_ok("job.get", hpt_id(job)));
    assert_no_secret("run.list", hpt_ok("run.list", NULL));
    assert_no_secret("job.list", hpt_ok("job.list", NULL));
    assert_no_secret("logs.tail", hpt_ok("logs.tail", NULL));
    list = hpt_ok("secret.list", NULL);
    ck_assert(hpt_json_contains(list, "API_TOKEN"));
    assert_no_secret("secret.list", list);

    /* A service keeps the reference, never the value. */
    cJSON_AddStringToObject(cJSON_AddObjectToObject(svc_action, "env"), "TOKEN",
                            "${secret:API_TOKEN}");
    hpt_service_set("uses-secret", NULL, svc_action, NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name("uses-secret")));
    ck_assert(
        hpt_wait_until(file_has_text, (void *)(uintptr_t) "service-secret.out", RUN_DEADLINE_MS));
    seen = hpt_read("service-secret.out");
    ck_assert_str_eq(seen, SECRET_VALUE);
    free(seen);
    list = hpt_ok("service.get", hpt_name("uses-secret"));
    ck_assert(hpt_json_contains(list, "${secret:API_TOKEN}"));
    assert_no_secret("service.get", list);
    assert_no_secret("service.status", hpt_ok("service.status", hpt_name("uses-secret")));
    assert_no_secret("service.list", hpt_ok("service.list", NULL));
    assert_no_secret("logs.tail", hpt_ok("logs.tail", NULL));
}
END_TEST

START_TEST(run_get_shows_a_secret_reference_in_env_and_never_its_value)
{
    cJSON *a = hpt_script("use", "printf %s \"$T\" > t.out");
    cJSON *run;
    const cJSON *env;
    int64_t id;
    char *seen;

    cJSON_Delete(
        hpt_ok("secret.set", hpt_jsonf("{\"name\":\"X\",\"value\":\"%s\"}", SECRET_VALUE)));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(a, "env"), "T", "${secret:X}");
    id = hpt_submit("uses-x", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    assert_status(run, "succeeded");
    cJSON_Delete(run);
    seen = hpt_read("t.out");
    ck_assert_str_eq(seen, SECRET_VALUE); /* the job had the value */
    free(seen);
    run = hpt_ok("run.get", hpt_id(id));
    env = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(run, "actions"), 0), "env");
    ck_assert_str_eq(hpt_str(env, "T"), "${secret:X}");
    assert_no_secret("run.get", run);
}
END_TEST

START_TEST(missing_secret_fails_the_job_with_a_readable_error)
{
    cJSON *a = hpt_script("use", "echo should-not-run");
    cJSON *run;
    const cJSON *job;
    int64_t id;

    cJSON_AddStringToObject(cJSON_AddObjectToObject(a, "env"), "TOKEN", "${secret:NOT_SET}");
    id = hpt_submit("nosecret", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    job = hpt_job_of(run, "use");
    assert_status(run, "failed");
    assert_status(job, "failed");
    ck_assert_msg(hpt_str(job, "error") && strstr(hpt_str(job, "error"), "NOT_SET"), "error: %s",
                  hpt_str(job, "error"));
    cJSON_Delete(run);
}
END_TEST

/* ---- limits ------------------------------------------------------------------------------ */

/* Stops the fixture's server and starts it again on the same data dir with opt value. */
static void restart_with(const char *opt, const char *value)
{
    int status = hpt_server_signal_and_wait(SIGTERM, RUN_DEADLINE_MS);

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
    hpt_server_extra_args(opt, value);
    hpt_server_start();
}

/* The "name" of each item that method (no params) answers under key, joined by ','
 * (static storage). */
static const char *names_of(const char *method, const char *key)
{
    static char names[512];
    cJSON *list = hpt_ok(method, NULL);
    const cJSON *item;
    size_t len = 0;

    names[0] = '\0';
    cJSON_ArrayForEach (item, cJSON_GetObjectItemCaseSensitive(list, key))
        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? "," : "",
                                hpt_str(item, "name"));
    cJSON_Delete(list);
    return names;
}

static cJSON *sleeper_run(const char *name)
{
    cJSON *params = hpt_name(name);

    cJSON_AddItemToArray(cJSON_AddArrayToObject(params, "actions"),
                         hpt_script("sleep", "sleep 30"));
    return params;
}

START_TEST(max_active_runs_refuses_new_runs_until_one_ends)
{
    int64_t one, two, four;
    char *before;
    cJSON *run, *svc;

    restart_with("--max-active-runs", "2");
    hpt_service_set("web", NULL, hpt_script("main", "sleep 30"), NULL);
    one = hpt_submit("one", hpt_script("sleep", "sleep 30"), NULL);
    two = hpt_submit("two", hpt_script("sleep", "sleep 30"), NULL);
    ck_assert_int_ne(one, two);
    before = strdup(names_of("run.list", "runs"));
    ck_assert_str_eq(before, "two,one");

    ck_assert_int_eq(hpt_fail("run.submit", sleeper_run("three")), -32004);
    ck_assert_str_eq(hpt_error_message(), "2 runs are already active; wait for some to end");
    ck_assert_str_eq(names_of("run.list", "runs"), before);

    /* A service start would add a run too: refused the same way, wanted left alone. */
    ck_assert_int_eq(hpt_fail("service.start", hpt_name("web")), -32004);
    ck_assert_str_eq(hpt_error_message(),
                     "cannot start service 'web': 2 runs are already active; wait for some to end");
    ck_assert_int_eq(hpt_fail("service.restart", hpt_name("web")), -32004);
    ck_assert_str_eq(names_of("run.list", "runs"), before);
    svc = hpt_ok("service.status", hpt_name("web"));
    ck_assert_str_eq(hpt_str(svc, "status"), "inactive");
    ck_assert_str_eq(hpt_str(svc, "wanted"), "stop");
    cJSON_Delete(svc);

    cJSON_Delete(hpt_ok("run.cancel", hpt_id(one)));
    run = hpt_wait_run(one, RUN_DEADLINE_MS);
    assert_status(run, "cancelled");
    cJSON_Delete(run);
    four = hpt_submit("four", hpt_script("sleep", "sleep 30"), NULL);
    ck_assert_int_gt(four, two);
    ck_assert_int_eq(hpt_fail("run.submit", sleeper_run("five")), -32004);
    free(before);
}
END_TEST

START_TEST(max_secrets_refuses_a_new_name_and_keeps_the_others)
{
    cJSON *got;

    restart_with("--max-secrets", "2");
    cJSON_Delete(hpt_ok("secret.set", hpt_jsonf("{\"name\":\"A\",\"value\":\"a1\"}")));
    cJSON_Delete(hpt_ok("secret.set", hpt_jsonf("{\"name\":\"B\",\"value\":\"b1\"}")));

    ck_assert_int_eq(hpt_fail("secret.set", hpt_jsonf("{\"name\":\"C\",\"value\":\"c1\"}")),
                     -32004);
    ck_assert_str_eq(hpt_error_message(), "at most 2 secrets; delete one before adding another");
    ck_assert_int_eq(hpt_fail("secret.get", hpt_name("C")), -32000);

    /* At the limit an existing secret can still be changed. */
    cJSON_Delete(hpt_ok("secret.set", hpt_jsonf("{\"name\":\"A\",\"value\":\"a2\"}")));
    ck_assert_str_eq(names_of("secret.list", "secrets"), "A,B");

    restart_with("--max-secrets", "2");
    ck_assert_str_eq(names_of("secret.list", "secrets"), "A,B");
    got = hpt_ok("secret.get", hpt_name("A"));
    ck_assert_str_eq(hpt_str(got, "value"), "a2");
    cJSON_Delete(got);

    cJSON_Delete(hpt_ok("secret.delete", hpt_name("B")));
    cJSON_Delete(hpt_ok("secret.set", hpt_jsonf("{\"name\":\"C\",\"value\":\"c1\"}")));
    ck_assert_str_eq(names_of("secret.list", "secrets"), "A,C");
}
END_TEST

/* ---- leaks ------------------------------------------------------------------------------- */

/* What `ls /proc/self/fd` prints for a process holding only 0, 1 and 2 (ls adds its own
 * directory fd), run here from a clean child. */
static char *bare_fd_listing(void)
{
    char *path = hpt_path("bare-fds");
    char *text;
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), out = open(path, O_WRONLY | O_CREAT, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(127);
        syscall(SYS_close_range, 3U, ~0U, 0U);
        execlp("ls", "ls", "/proc/self/fd", (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    text = hp_test_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    free(path);
    if (*text && text[strlen(text) - 1] == '\n')
        text[strlen(text) - 1] = '\0';
    return text;
}

START_TEST(job_process_sees_only_stdin_stdout_and_stderr)
{
    int64_t id = hpt_submit("fds", hpt_command("cmd", "ls /proc/self/fd"),
                            hpt_script("sh", "ls /proc/self/fd"),
                            hpt_command("stdin", "readlink /proc/self/fd/0"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS);
    char *want = bare_fd_listing();
    char *cmd = stdout_of(hpt_int(hpt_job_of(run, "cmd"), "id"));
    char *sh = stdout_of(hpt_int(hpt_job_of(run, "sh"), "id"));
    char *in = stdout_of(hpt_int(hpt_job_of(run, "stdin"), "id"));

    assert_status(run, "succeeded");
    ck_assert_str_eq(want, "0\n1\n2\n3");
    ck_assert_str_eq(cmd, want);
    ck_assert_str_eq(sh, want);
    ck_assert_str_eq(in, "/dev/null");
    free(want);
    free(cmd);
    free(sh);
    free(in);
    cJSON_Delete(run);
}
END_TEST

START_TEST(finished_runs_leave_no_zombies_behind)
{
    enum { RUNS = 5 };
    int64_t ids[RUNS];
    pid_t orphans[RUNS];
    pid_t server = hpt_server_pid();

    /* Each job leaves a background child behind: the supervisor kills and reaps it. */
    for (int i = 0; i < RUNS; i++) {
        char script[128];
        snprintf(script, sizeof(script), "sleep 30 & echo $! > orphan%d.pid; echo started", i);
        ids[i] = hpt_submit("orphans", hpt_script("leave", script), NULL);
    }
    for (int i = 0; i < RUNS; i++) {
        char name[32];
        cJSON *run = hpt_wait_run(ids[i], RUN_DEADLINE_MS);
        assert_status(run, "succeeded");
        cJSON_Delete(run);
        snprintf(name, sizeof(name), "orphan%d.pid", i);
        orphans[i] = hpt_read_pid(name);
        ck_assert_int_gt(orphans[i], 1);
    }
    for (int i = 0; i < RUNS; i++)
        ck_assert_msg(hpt_wait_until(pid_is_reaped, &orphans[i], GONE_DEADLINE_MS),
                      "background child %d of run %lld was not reaped", (int)orphans[i],
                      (long long)ids[i]);
    ck_assert_int_eq(hpt_zombie_children(server), 0);
}
END_TEST

/* ---- what a job prints, on the wire ------------------------------------------------------ */

/* A strict UTF-8 check written apart from the daemon's: shortest forms only, no
 * surrogates, nothing above U+10FFFF. */
static int strict_utf8(const unsigned char *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned c = p[i];
        uint32_t cp;
        size_t n;
        if (c < 0x80) {
            i++;
            continue;
        }
        n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!n || i + n > len)
            return 0;
        cp = c & (0x7F >> n);
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n;
    }
    return 1;
}

/* Field n (1-based, as proc(5) counts) of /proc/<pid>/task/<pid>/stat, -1 when absent. */
static long stat_field(pid_t pid, int n)
{
    char path[64], buf[1024], *p;
    FILE *f;
    size_t got;
    long v = -1;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)pid);
    if (!(f = fopen(path, "re")))
        return -1;
    got = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[got] = '\0';
    if (!(p = strrchr(buf, ')')))
        return -1;
    p++;
    for (int field = 3; field <= n && p; field++) {
        p += strspn(p, " ");
        if (field == n)
            v = strtol(p, NULL, 10);
        p = strchr(p, ' ');
    }
    return v;
}

/* The daemon's loop runs with a real-time policy where it may, so a flood of output does
 * not leave a control call waiting for the CPU behind the jobs; the jobs themselves run
 * as usual (normal policy, the nice the daemon started with). */
START_TEST(the_loop_runs_before_jobs_and_jobs_run_with_the_usual_policy)
{
    int64_t id = hpt_submit(
        "policy", hpt_script("p", "cut -d')' -f2- /proc/$$/stat | awk '{print $17, $39}'"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS), *lines;
    char want[64];
    int rt_allowed;

    errno = 0;
    snprintf(want, sizeof(want), "%d 0", getpriority(PRIO_PROCESS, 0));
    assert_status(run, "succeeded");
    lines = hpt_job_lines(hpt_int(hpt_job_of(run, "p"), "id"));
    ck_assert_msg(hpt_find_line(lines, "stdout", want, 0) >= 0,
                  "the job's nice and policy are not %s", want);
    cJSON_Delete(lines);
    cJSON_Delete(run);
    {
        struct sched_param sp = {.sched_priority = 1};
        /* allowed here (root, CAP_SYS_NICE or RLIMIT_RTPRIO): asked of a child */
        pid_t pid = fork();
        if (pid == 0)
            _exit(sched_setscheduler(0, SCHED_RR, &sp) == 0 ? 0 : 1);
        ck_assert_int_gt(pid, 0);
        ck_assert_int_eq(waitpid(pid, &rt_allowed, 0), pid);
        rt_allowed = WIFEXITED(rt_allowed) && WEXITSTATUS(rt_allowed) == 0;
    }
    if (rt_allowed && !getenv("HPT_SERVER_WRAPPER")) /* a wrapper is the server process */
        ck_assert_int_eq(stat_field(hpt_server_pid(), 41), SCHED_RR);
}
END_TEST

/* --no-realtime: the loop keeps the normal policy, only the nice boost. */
START_TEST(no_realtime_keeps_the_loop_at_the_normal_policy)
{
    int status = hpt_server_signal_and_wait(SIGTERM, 20000);

    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hpt_server_extra_args("--no-realtime", NULL);
    hpt_server_start();
    if (!getenv("HPT_SERVER_WRAPPER")) /* a wrapper is the server process */
        ck_assert_int_eq(stat_field(hpt_server_pid(), 41), SCHED_OTHER);
    cJSON_Delete(hpt_wait_run(hpt_submit("r", hpt_command("t", "true"), NULL), 20000));
}
END_TEST

/* Lines stored as they come (in blocks) and lines that need work (a CR to drop, bytes to
 * replace, a line at the length bound) in the same reads keep their order and seqs. */
START_TEST(plain_and_odd_lines_in_one_read_keep_order_and_text)
{
    static const char *want[] = {"plain",   "crlf", "caf\xC3\xA9", "bad\xEF\xBF\xBD",
                                 "mid\rcr", "",     "last"};
    int64_t id = hpt_submit(
        "mixed",
        hpt_script("p", "printf 'plain\\ncrlf\\r\\ncaf\\303\\251\\nbad\\377\\nmid\\rcr\\n\\n'; "
                        "head -c 16383 /dev/zero | tr '\\0' y; printf '\\nlast\\n'"),
        NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS), *lines;
    const cJSON *l;
    size_t k = 0;
    int64_t prev = 0;
    int long_seen = 0;

    assert_status(run, "succeeded");
    lines = hpt_job_lines(hpt_int(hpt_job_of(run, "p"), "id"));
    cJSON_ArrayForEach (l, lines) {
        const char *text = hpt_str(l, "line");
        if (strcmp(hpt_str(l, "stream"), "stdout") != 0)
            continue;
        ck_assert_int_gt(hpt_int(l, "seq"), prev);
        prev = hpt_int(l, "seq");
        if (k == 6 && !long_seen) {
            /* just under 16 KiB: stored whole, not cut */
            ck_assert_int_eq(strlen(text), 16383);
            ck_assert_int_eq(strspn(text, "y"), 16383);
            long_seen = 1;
            continue;
        }
        ck_assert_uint_lt(k, sizeof(want) / sizeof(*want));
        ck_assert_str_eq(text, want[k]);
        k++;
    }
    ck_assert_uint_eq(k, sizeof(want) / sizeof(*want));
    ck_assert(long_seen);
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

START_TEST(invalid_utf8_and_nul_in_output_come_back_as_valid_utf8)
{
    int64_t id =
        hpt_submit("bytes", hpt_script("p", "printf 'a\\377\\376b\\n'; printf 'x\\000y\\n'"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS), *lines;
    int64_t job = hpt_int(hpt_job_of(run, "p"), "id");
    char body[128], *reply = NULL;
    long status = 0;

    assert_status(run, "succeeded");
    lines = hpt_job_lines(job);
    ck_assert_int_ge(hpt_find_line(lines, "stdout",
                                   "a\xEF\xBF\xBD\xEF\xBF\xBD"
                                   "b",
                                   0),
                     0);
    ck_assert_int_ge(hpt_find_line(lines, "stdout", "x\xEF\xBF\xBDy", 0), 0);
    cJSON_Delete(lines);
    /* The raw answer, not what cJSON made of it. */
    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"job.logs\",\"params\":{\"id\":%lld}}",
             (long long)job);
    ck_assert_int_eq(hpt_post(body, strlen(body), &status, &reply), 0);
    ck_assert_int_eq(status, 200);
    ck_assert_msg(strict_utf8((const unsigned char *)reply, strlen(reply)),
                  "job.logs answer is not valid UTF-8");
    ck_assert_ptr_nonnull(strstr(reply, "x\xEF\xBF\xBDy"));
    free(reply);
    cJSON_Delete(run);
}
END_TEST

START_TEST(skipped_dependants_name_the_root_cause)
{
    int64_t id =
        hpt_submit("chain", hpt_script("C", "exit 1"), hpt_depends(hpt_script("B", "true"), "C"),
                   hpt_depends(hpt_script("A", "true"), "B"), NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS);

    ck_assert_str_eq(hpt_str(hpt_job_of(run, "B"), "error"), "dependency 'C' failed (exit 1)");
    ck_assert_str_eq(hpt_str(hpt_job_of(run, "A"), "error"),
                     "dependency 'B' was skipped because 'C' failed (exit 1)");
    cJSON_Delete(run);
}
END_TEST

static int esc_pid_written(void *ud)
{
    (void)ud;
    return hpt_read_pid("esc.pid") > 0;
}

static int esc_gone(void *ud)
{
    return !hpt_pid_alive(*(pid_t *)ud);
}

/* A setsid child holding the job's stdout does not keep the job running: the leader's
 * exit ends the job and the child is killed with it. */
START_TEST(leader_exit_ends_the_job_and_kills_an_escapee_holding_stdout)
{
    int64_t id =
        hpt_submit("esc",
                   hpt_script("p", "setsid sh -c 'echo $$ > esc.pid; exec sleep 1000' & "
                                   "while [ ! -s esc.pid ]; do sleep 0.05; done; echo started"),
                   NULL);
    cJSON *run = hpt_wait_run(id, RUN_DEADLINE_MS);
    pid_t esc;

    assert_status(run, "succeeded");
    ck_assert(hpt_wait_until(esc_pid_written, NULL, RUN_DEADLINE_MS));
    esc = hpt_read_pid("esc.pid");
    ck_assert_msg(hpt_wait_until(esc_gone, &esc, GONE_DEADLINE_MS), "escapee %d survived",
                  (int)esc);
    cJSON_Delete(run);
}
END_TEST

/* ---- events ----------------------------------------------------------------------- */

/* events.wait after cursor without waiting; the caller deletes. */
static cJSON *events_after(int64_t after)
{
    return hpt_ok("events.wait",
                  hpt_jsonf("{\"after_seq\":%lld,\"timeout_ms\":0}", (long long)after));
}

static const cJSON *event_at(const cJSON *page, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(page, "events"), i);
}

static int n_events(const cJSON *page)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "events"));
}

START_TEST(a_failing_run_reports_start_exit_and_end_in_order)
{
    int64_t id = hpt_submit("ev", hpt_command("boom", "sh -c 'exit 3'"), NULL);
    cJSON *run = hpt_wait_run(id, 20000), *page = events_after(0);
    const cJSON *e;

    cJSON_Delete(run);
    ck_assert_int_eq(n_events(page), 3);
    e = event_at(page, 0);
    ck_assert_int_eq(hpt_int(e, "seq"), 1);
    ck_assert_str_eq(hpt_str(e, "kind"), "job_started");
    ck_assert_str_eq(hpt_str(e, "action"), "boom");
    ck_assert_int_eq(hpt_int(e, "run_id"), id);
    e = event_at(page, 1);
    ck_assert_int_eq(hpt_int(e, "seq"), 2);
    ck_assert_str_eq(hpt_str(e, "kind"), "job_exited");
    ck_assert_int_eq(hpt_int(e, "exit_code"), 3);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "failed")));
    ck_assert(strstr(hpt_str(e, "text"), "exited with code 3") != NULL);
    e = event_at(page, 2);
    ck_assert_str_eq(hpt_str(e, "kind"), "run_ended");
    ck_assert(strstr(hpt_str(e, "text"), "failed") != NULL);
    ck_assert_int_eq(hpt_int(page, "last_seq"), 3);
    ck_assert_int_eq(hpt_int(page, "dropped"), 0);
    cJSON_Delete(page);
}
END_TEST

START_TEST(a_failing_service_reports_service_failed)
{
    cJSON *page;
    int found = 0;

    hpt_service_set("web", NULL, hpt_command("serve", "false"), NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name("web")));
    for (int64_t cursor = 0; !found;) {
        page = hpt_ok("events.wait",
                      hpt_jsonf("{\"after_seq\":%lld,\"timeout_ms\":10000}", (long long)cursor));
        ck_assert_msg(n_events(page) > 0, "no service_failed event within 10 s");
        for (int i = 0; i < n_events(page); i++)
            if (strcmp(hpt_str(event_at(page, i), "kind"), "service_failed") == 0) {
                ck_assert_str_eq(hpt_str(event_at(page, i), "service"), "web");
                found = 1;
            }
        cursor = hpt_int(page, "last_seq");
        cJSON_Delete(page);
    }
}
END_TEST

START_TEST(a_full_ring_counts_exactly_what_it_overwrote)
{
    int status = hpt_server_signal_and_wait(SIGTERM, 20000);
    cJSON *page;

    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hpt_server_extra_args("--events-ring", "4");
    hpt_server_start();
    for (int i = 0; i < 3; i++) /* 3 events each: 9, of which the ring keeps 4 */
        cJSON_Delete(hpt_wait_run(hpt_submit("r", hpt_command("t", "true"), NULL), 20000));
    page = events_after(0);
    ck_assert_int_eq(n_events(page), 4);
    ck_assert_int_eq(hpt_int(event_at(page, 0), "seq"), 6);
    ck_assert_int_eq(hpt_int(page, "last_seq"), 9);
    ck_assert_int_eq(hpt_int(page, "dropped"), 5);
    ck_assert_int_eq(hpt_int(page, "dropped_total"), 5);
    cJSON_Delete(page);
    /* A reader that had seen up to 7 missed nothing. */
    page = events_after(7);
    ck_assert_int_eq(n_events(page), 2);
    ck_assert_int_eq(hpt_int(page, "dropped"), 0);
    cJSON_Delete(page);
}
END_TEST

START_TEST(a_parked_wait_is_answered_when_an_event_comes)
{
    int fd = hpt_raw_send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.wait\","
                          "\"params\":{\"after_seq\":0,\"timeout_ms\":30000}}");
    char *answer;
    int64_t t0;

    ck_assert(!hpt_raw_ready(fd));
    cJSON_Delete(hpt_ok("system.ping", NULL)); /* the loop still answers others */
    t0 = hpt_now_ms();
    hpt_submit("wake", hpt_command("t", "true"), NULL);
    answer = hpt_raw_answer(fd, 20000);
    ck_assert_msg(answer != NULL, "the parked events.wait was not answered");
    ck_assert_msg(strstr(answer, "\"job_started\"") != NULL, "%s", answer);
    ck_assert_msg(hpt_now_ms() - t0 < 20000, "answered only at the timeout");
    free(answer);
}
END_TEST

START_TEST(a_parked_wait_times_out_with_no_events_and_the_same_cursor)
{
    int fd = hpt_raw_send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.wait\","
                          "\"params\":{\"after_seq\":0,\"timeout_ms\":200}}");
    char *answer = hpt_raw_answer(fd, 20000);
    cJSON *doc, *res;

    ck_assert_msg(answer != NULL, "no answer at the timeout");
    doc = cJSON_Parse(answer);
    res = cJSON_GetObjectItemCaseSensitive(doc, "result");
    ck_assert_msg(res != NULL, "%s", answer);
    ck_assert_int_eq(n_events(res), 0);
    ck_assert_int_eq(hpt_int(res, "last_seq"), 0);
    cJSON_Delete(doc);
    free(answer);
}
END_TEST

START_TEST(waiters_past_the_bound_are_answered_at_once)
{
    enum { N = 64 };
    int fds[N + 1];
    char *answer;

    for (int i = 0; i < N; i++)
        fds[i] = hpt_raw_send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.wait\","
                              "\"params\":{\"timeout_ms\":60000}}");
    /* The one past the bound does not park: it answers long before any timeout. */
    fds[N] = hpt_raw_send("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"events.wait\","
                          "\"params\":{\"timeout_ms\":60000}}");
    answer = hpt_raw_answer(fds[N], 20000);
    ck_assert_msg(answer && strstr(answer, "\"events\":[]"), "%s", answer ? answer : "(none)");
    free(answer);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    cJSON_Delete(hpt_ok("system.ping", NULL));
}
END_TEST

static Suite *server_jobs_suite(void)
{
    Suite *s = suite_create("server_jobs");
    TCase *tc = tcase_create("server_jobs");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, echo_hello_succeeds_with_its_output_and_system_lines);
    tcase_add_test(tc, a_failing_run_reports_start_exit_and_end_in_order);
    tcase_add_test(tc, a_failing_service_reports_service_failed);
    tcase_add_test(tc, a_full_ring_counts_exactly_what_it_overwrote);
    tcase_add_test(tc, a_parked_wait_is_answered_when_an_event_comes);
    tcase_add_test(tc, a_parked_wait_times_out_with_no_events_and_the_same_cursor);
    tcase_add_test(tc, waiters_past_the_bound_are_answered_at_once);
    tcase_add_test(tc, invalid_utf8_and_nul_in_output_come_back_as_valid_utf8);
    tcase_add_test(tc, plain_and_odd_lines_in_one_read_keep_order_and_text);
    tcase_add_test(tc, the_loop_runs_before_jobs_and_jobs_run_with_the_usual_policy);
    tcase_add_test(tc, no_realtime_keeps_the_loop_at_the_normal_policy);
    tcase_add_test(tc, skipped_dependants_name_the_root_cause);
    tcase_add_test(tc, leader_exit_ends_the_job_and_kills_an_escapee_holding_stdout);
    tcase_add_test(tc, stderr_lines_are_on_the_stderr_stream);
    tcase_add_test(tc, a_burst_of_exits_is_stored_exactly_through_a_crash);
    tcase_add_test(tc, command_is_split_shell_style_and_run_without_a_shell);
    tcase_add_test(tc, env_values_reach_the_process);
    tcase_add_test(tc, dependent_starts_after_its_dependency_ended);
    tcase_add_test(tc, failing_dependency_skips_its_dependents_and_fails_the_run);
    tcase_add_test(tc, retry_succeeds_on_the_third_attempt);
    tcase_add_test(tc, retry_that_never_succeeds_fails_after_the_last_attempt);
    tcase_add_test(tc, timeout_kills_the_whole_process_group);
    tcase_add_test(tc, run_cancel_stops_a_running_job);
    tcase_add_test(tc, job_cancel_skips_its_dependents_and_the_run_ends_cancelled);
    tcase_add_test(tc, job_ignoring_sigterm_is_killed_after_the_grace_period);
    tcase_add_test(tc, run_delete_refuses_an_active_run_and_removes_a_finished_one);
    tcase_add_test(tc, run_get_returns_the_actions_as_submitted_in_their_order);
    tcase_add_test(tc, job_over_its_byte_cap_keeps_the_newest_lines_and_counts_the_rest);
    tcase_add_test(tc, logs_search_finds_a_job_s_lines_with_context_and_refuses_bad_asks);
    tcase_add_test(tc, run_wait_does_not_block_other_clients);
    tcase_add_test(tc, run_wait_timeout_answers_timeout_error_with_the_run);
    tcase_add_test(tc, job_logs_pages_with_after_seq_and_limit);
    tcase_add_test(tc, logs_tail_filters_by_run_and_logs_insert_adds_lines);
    tcase_add_test(tc, secret_in_env_is_resolved_and_never_shown);
    tcase_add_test(tc, run_get_shows_a_secret_reference_in_env_and_never_its_value);
    tcase_add_test(tc, missing_secret_fails_the_job_with_a_readable_error);
    tcase_add_test(tc, max_active_runs_refuses_new_runs_until_one_ends);
    tcase_add_test(tc, max_secrets_refuses_a_new_name_and_keeps_the_others);
    tcase_add_test(tc, job_process_sees_only_stdin_stdout_and_stderr);
    tcase_add_test(tc, finished_runs_leave_no_zombies_behind);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(server_jobs_suite());
}
