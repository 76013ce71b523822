/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_factory against a real hero_proc_server (tests/server_harness): a service
 * saved with the builder then started, restarted and stopped; runs started, waited for,
 * and their logs collected in order, paged and followed; and hp_factory_auto starting a
 * server in a temporary HOME. The builders' validation rules are check_builders'. */
#include "config.h"

#include "builders/builder.h"
#include "builders/factory.h"
#include "check_common.h"
#include "server_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static hp_error E;
#define MUST(call) ck_assert_msg((call) == HP_OK, "%s: %s", #call, E.message)

/* ---- environment ---------------------------------------------------------------------- */

/* The variables endpoint discovery and the spawn read; saved, cleared for each test and
 * put back after it (Check may run every test in one process). */
static const char *const env_names[] = {
    "HOME",        "HERO_PROC_SOCKET", "HERO_PROC_URL", "HERO_PROC_TOKEN", "HERO_PROC_SERVER",
    "PATH_SOCKET", "HERO_SOCKET_DIR",
};
enum { N_ENV = sizeof(env_names) / sizeof(env_names[0]) };
static char *env_saved[N_ENV];

static void env_setup(void)
{
    for (size_t i = 0; i < N_ENV; i++) {
        const char *v = getenv(env_names[i]);
        env_saved[i] = v ? strdup(v) : NULL;
        if (i > 0) /* HOME stays until a test replaces it */
            unsetenv(env_names[i]);
    }
}

static void env_teardown(void)
{
    for (size_t i = 0; i < N_ENV; i++) {
        if (env_saved[i])
            setenv(env_names[i], env_saved[i], 1);
        else
            unsetenv(env_names[i]);
        free(env_saved[i]);
        env_saved[i] = NULL;
    }
}

static void live_setup(void)
{
    env_setup();
    hpt_setup();
}

static void live_teardown(void)
{
    hpt_teardown();
    env_teardown();
}

static void offline_setup(void)
{
    env_setup();
    hp_test_tmpdir_setup();
}

/* A server that hp_factory_auto started: stopped here too when a test failed early. */
static int64_t spawned_pid;

static void offline_teardown(void)
{
    if (spawned_pid > 0 && hpt_pid_alive((pid_t)spawned_pid))
        kill((pid_t)spawned_pid, SIGKILL);
    spawned_pid = 0;
    hp_test_tmpdir_teardown();
    env_teardown();
}

/* ---- helpers ------------------------------------------------------------------------ */

static hp_client *client(void)
{
    hp_client *c = hp_factory_local_uds(hpt_socket_path(), &E);

    ck_assert_msg(c != NULL, "hp_factory_local_uds: %s", E.message);
    ck_assert_str_eq(hp_client_endpoint(c), hpt_socket_path());
    ck_assert_int_eq(hp_client_started_server(c), 0);
    return c;
}

/* A run of one script action in the test's directory; returns its id. */
static int64_t start_run(hp_client *c, const char *name, const char *action, const char *script)
{
    hp_run_builder *rb = hp_run_builder_new(c, name);
    hp_action *a = hp_run_builder_action(rb, action);
    int64_t id = 0;

    hp_action_script(a, script);
    hp_action_cwd(a, hp_test_tmpdir());
    MUST(hp_run_builder_start(rb, &id, &E));
    ck_assert_int_ge(id, 1);
    hp_run_builder_free(rb);
    return id;
}

typedef struct svc_probe {
    hp_client *c;
    const char *name;
    hp_service_state want;
    int64_t pid; /* the running job's pid, when want is running */
} svc_probe;

/* The service is in the wanted state (running: with a live pid). */
static int service_is(void *ud)
{
    svc_probe *p = ud;
    hp_service_status *st = NULL;
    int yes;

    if (hp_services_status(hp_client_sdk(p->c), p->name, &st, NULL) != HP_OK)
        return 0;
    yes = st->status == p->want;
    if (yes && p->want == HP_SERVICE_RUNNING)
        yes = st->n_jobs == 1 && st->jobs[0].status == HP_JOB_RUNNING && st->jobs[0].has_pid;
    if (yes && st->n_jobs > 0)
        p->pid = st->jobs[0].pid;
    hp_service_status_free(st);
    return yes;
}

/* api is wanted stopped and no longer running. */
static int service_stopped(void *ud)
{
    hp_service_status *st = NULL;
    int yes;

    if (hp_services_status(hp_client_sdk(ud), "api", &st, NULL) != HP_OK)
        return 0;
    yes = st->wanted_start == 0 && st->status != HP_SERVICE_RUNNING;
    hp_service_status_free(st);
    return yes;
}

/* Collected log lines: stdout lines only (the server may add system lines). */
typedef struct lines {
    char **text;
    int64_t *seq;
    int64_t *job;
    size_t n;
    int stop_after;      /* > 0: ask to stop once this many stdout lines were seen */
    const char *go_file; /* created when the line "first" arrives */
} lines;

static int collect(void *ud, const hp_log_line *l)
{
    lines *ls = ud;

    if (ls->n > 0)
        ck_assert_int_gt(l->seq, ls->seq[ls->n - 1]);
    if (l->stream != HP_STREAM_STDOUT)
        return 0;
    ls->text = realloc(ls->text, (ls->n + 1) * sizeof(*ls->text));
    ls->seq = realloc(ls->seq, (ls->n + 1) * sizeof(*ls->seq));
    ls->job = realloc(ls->job, (ls->n + 1) * sizeof(*ls->job));
    ck_assert(ls->text && ls->seq && ls->job);
    ls->text[ls->n] = strdup(l->line);
    ls->seq[ls->n] = l->seq;
    ls->job[ls->n] = l->job_id;
    ls->n++;
    if (ls->go_file && strcmp(l->line, "first") == 0) {
        FILE *f = fopen(ls->go_file, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
    }
    return ls->stop_after > 0 && ls->n >= (size_t)ls->stop_after;
}

static void lines_free(lines *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->text[i]);
    free(ls->text);
    free(ls->seq);
    free(ls->job);
    memset(ls, 0, sizeof(*ls));
}

static int pid_gone(void *ud)
{
    pid_t pid = (pid_t) * (int64_t *)ud;

    waitpid(pid, NULL, WNOHANG); /* in case it is our child after all */
    return !hpt_pid_alive(pid);
}

/* ---- services ------------------------------------------------------------------------- */

START_TEST(a_service_saved_with_the_builder_starts_restarts_with_a_new_run_and_stops)
{
    hp_client *c = client();
    hp_service_builder *sb = hp_service_builder_new(c, "api");
    hp_action *a = hp_service_builder_action(sb, "start");
    hp_service_record *rec = NULL;
    hp_job_list *jobs = NULL;
    hp_job_filter by_run = {0};
    svc_probe running = {c, "api", HP_SERVICE_RUNNING, 0};
    int64_t first = 0, second = 0, first_pid;

    hp_service_builder_description(sb, "The API");
    hp_action_script(a, "echo serving; exec sleep 600");
    hp_action_cwd(a, hp_test_tmpdir());
    MUST(hp_service_builder_save(sb, &E));
    MUST(hp_services_get(hp_client_sdk(c), "api", &rec, &E));
    ck_assert_str_eq(rec->config.description, "The API");
    ck_assert_str_eq(rec->config.actions[0].script, "echo serving; exec sleep 600");
    hp_service_record_free(rec);

    MUST(hp_client_service_start(c, "api", &first, &E));
    ck_assert_int_ge(first, 1);
    ck_assert_msg(hpt_wait_until(service_is, &running, 10000), "api never ran");
    first_pid = running.pid;
    ck_assert(hpt_pid_alive((pid_t)first_pid));

    MUST(hp_client_service_restart(c, "api", 0, &second, &E));
    ck_assert_int_gt(second, first);
    ck_assert_msg(hpt_wait_until(service_is, &running, 10000), "api never ran again");
    ck_assert_int_ne(running.pid, first_pid);
    by_run.run_id = first;
    MUST(hp_jobs_list(hp_client_sdk(c), &by_run, &jobs, &E));
    ck_assert_uint_eq(jobs->n_jobs, 0); /* the old run's jobs are gone */
    hp_job_list_free(jobs);
    by_run.run_id = second;
    MUST(hp_jobs_list(hp_client_sdk(c), &by_run, &jobs, &E));
    ck_assert_uint_eq(jobs->n_jobs, 1);
    hp_job_list_free(jobs);

    MUST(hp_client_service_stop(c, "api", &E));
    ck_assert_msg(hpt_wait_until(pid_gone, &running.pid, 10000), "api outlived its stop");
    ck_assert_msg(hpt_wait_until(service_stopped, c, 10000), "api still shows running");
    hp_service_builder_free(sb);
    hp_client_free(c);
}
END_TEST

START_TEST(restart_with_keep_history_keeps_the_old_runs_jobs)
{
    hp_client *c = client();
    hp_service_builder *sb = hp_service_builder_new(c, "api");
    hp_action *a = hp_service_builder_action(sb, "start");
    hp_job_list *jobs = NULL;
    hp_job_filter by_run = {0};
    svc_probe running = {c, "api", HP_SERVICE_RUNNING, 0};
    int64_t first = 0, second = 0;

    hp_action_script(a, "exec sleep 600");
    MUST(hp_service_builder_save(sb, &E));
    MUST(hp_client_service_start(c, "api", &first, &E));
    ck_assert(hpt_wait_until(service_is, &running, 10000));
    MUST(hp_client_service_restart(c, "api", 1, &second, &E));
    ck_assert_int_gt(second, first);
    by_run.run_id = first;
    MUST(hp_jobs_list(hp_client_sdk(c), &by_run, &jobs, &E));
    ck_assert_uint_eq(jobs->n_jobs, 1);
    hp_job_list_free(jobs);
    MUST(hp_client_service_stop(c, "api", &E));
    hp_service_builder_free(sb);
    hp_client_free(c);
}
END_TEST

START_TEST(workflows_on_an_unknown_service_are_not_found_naming_it)
{
    hp_client *c = client();
    int64_t id = 7;

    ck_assert_int_eq(hp_client_service_start(c, "ghost", &id, &E), HP_E_NOT_FOUND);
    ck_assert_int_eq(id, 0);
    ck_assert_msg(strstr(E.message, "ghost") != NULL, "%s", E.message);
    ck_assert_int_eq(hp_client_service_stop(c, "ghost", &E), HP_E_NOT_FOUND);
    ck_assert_int_eq(hp_client_service_restart(c, "ghost", 0, &id, &E), HP_E_NOT_FOUND);
    ck_assert_int_eq(id, 0);
    hp_client_free(c);
}
END_TEST

START_TEST(save_of_an_invalid_service_sends_nothing)
{
    hp_client *c = client();
    hp_service_builder *sb = hp_service_builder_new(c, "api");
    hp_service_list *list = NULL;

    hp_action_depends_on(hp_service_builder_action(sb, "start"), "prep", NULL);
    ck_assert_int_eq(hp_service_builder_save(sb, &E), HP_E_VALIDATION);
    ck_assert_str_eq(E.message, "service 'api': action 'start' has neither script nor command "
                                "(and 1 more problem)");
    MUST(hp_services_list(hp_client_sdk(c), 0, &list, &E));
    ck_assert_uint_eq(list->n_services, 0);
    hp_service_list_free(list);
    hp_service_builder_free(sb);
    hp_client_free(c);
}
END_TEST

/* ---- runs ----------------------------------------------------------------------------- */

START_TEST(a_run_started_with_the_builder_is_waited_for_and_succeeds)
{
    hp_client *c = client();
    hp_run_builder *rb = hp_run_builder_new(c, "ci");
    hp_action *a;
    hp_run *run = NULL;
    int64_t id = 0;
    const char *status;

    a = hp_run_builder_action(rb, "test");
    hp_action_command(a, "test -d /tmp");
    hp_action_depends_on(a, "build", NULL);
    hp_action_script(hp_run_builder_action(rb, "build"), "echo building");
    MUST(hp_run_builder_start(rb, &id, &E));
    MUST(hp_client_run_wait(c, id, 20000, &run, &E));
    ck_assert_int_eq(run->id, id);
    ck_assert_str_eq(run->name, "ci");
    ck_assert_int_eq(run->status, HP_RUN_SUCCEEDED);
    ck_assert_uint_eq(run->n_jobs, 2);
    ck_assert_str_eq(run->jobs[0].action, "build"); /* submitted in dependency order */
    ck_assert_int_eq(run->jobs[0].status, HP_JOB_SUCCEEDED);
    ck_assert_int_eq(run->jobs[1].status, HP_JOB_SUCCEEDED);
    ck_assert_int_ge(run->jobs[1].started_at_ms, run->jobs[0].ended_at_ms);
    status = hp_client_run_status(c, id, &E);
    ck_assert_ptr_nonnull(status);
    ck_assert_str_eq(status, "succeeded");
    hp_run_free(run);
    hp_run_builder_free(rb);
    hp_client_free(c);
}
END_TEST

START_TEST(a_failing_run_ends_failed_and_its_status_says_so)
{
    hp_client *c = client();
    int64_t id = start_run(c, "broken", "step", "exit 3");
    hp_run *run = NULL;

    MUST(hp_client_run_wait(c, id, 20000, &run, &E));
    ck_assert_int_eq(run->status, HP_RUN_FAILED);
    ck_assert_int_eq(run->jobs[0].exit_code, 3);
    ck_assert_str_eq(hp_client_run_status(c, id, &E), "failed");
    hp_run_free(run);
    hp_client_free(c);
}
END_TEST

START_TEST(run_wait_times_out_on_a_running_run_within_its_timeout)
{
    hp_client *c = client();
    int64_t id = start_run(c, "long", "step", "exec sleep 600"), t0;
    hp_run *run = (hp_run *)1;

    t0 = hpt_now_ms();
    ck_assert_int_eq(hp_client_run_wait(c, id, 300, &run, &E), HP_E_TIMEOUT);
    ck_assert_int_lt(hpt_now_ms() - t0, 5000);
    ck_assert_ptr_null(run);
    ck_assert_str_eq(hp_client_run_status(c, id, &E), "running");
    MUST(hp_runs_cancel(hp_client_sdk(c), id, NULL, &E));
    MUST(hp_client_run_wait(c, id, 20000, &run, &E));
    ck_assert_int_eq(run->status, HP_RUN_CANCELLED);
    hp_run_free(run);
    hp_client_free(c);
}
END_TEST

START_TEST(run_status_of_an_unknown_run_is_null_with_not_found)
{
    hp_client *c = client();

    ck_assert_ptr_null(hp_client_run_status(c, 999999, &E));
    ck_assert_int_eq(E.code, HP_E_NOT_FOUND);
    hp_client_free(c);
}
END_TEST

/* ---- logs ----------------------------------------------------------------------------- */

START_TEST(run_logs_collects_two_interleaved_jobs_in_seq_order)
{
    hp_client *c = client();
    hp_run_builder *rb = hp_run_builder_new(c, "pair");
    hp_action *a = hp_run_builder_action(rb, "left");
    hp_action *b = hp_run_builder_action(rb, "right");
    lines ls = {0};
    int64_t id = 0, cursor = 0, before;
    hp_run *run = NULL;
    size_t left = 0, right = 0;
    int switches = 0;

    hp_action_script(a, "for i in $(seq 1 40); do echo left $i; sleep 0.01; done");
    hp_action_script(b, "for i in $(seq 1 40); do echo right $i; sleep 0.01; done");
    MUST(hp_run_builder_start(rb, &id, &E));
    MUST(hp_client_run_wait(c, id, 20000, &run, &E));
    ck_assert_int_eq(run->status, HP_RUN_SUCCEEDED);
    MUST(hp_client_run_logs(c, id, &cursor, 0, collect, &ls, &E));
    ck_assert_uint_eq(ls.n, 80);
    for (size_t i = 0; i < ls.n; i++) {
        char want[32];
        int is_left = ls.job[i] == run->jobs[0].id;
        snprintf(want, sizeof(want), "%s %zu", is_left ? "left" : "right",
                 is_left ? ++left : ++right);
        ck_assert_str_eq(ls.text[i], want);
        switches += i > 0 && ls.job[i] != ls.job[i - 1];
    }
    ck_assert_msg(switches >= 2, "the two jobs' lines were not interleaved (%d)", switches);
    ck_assert_int_ge(cursor, ls.seq[ls.n - 1]);
    /* Incremental: from the cursor there is nothing new. */
    before = cursor;
    lines_free(&ls);
    MUST(hp_client_run_logs(c, id, &cursor, 0, collect, &ls, &E));
    ck_assert_uint_eq(ls.n, 0);
    ck_assert_int_eq(cursor, before);
    hp_run_free(run);
    hp_run_builder_free(rb);
    hp_client_free(c);
}
END_TEST

START_TEST(run_logs_pages_through_2500_lines_in_order)
{
    hp_client *c = client();
    int64_t id = start_run(c, "chatty", "count", "seq 1 2500"), cursor = 0;
    lines ls = {0};

    MUST(hp_client_run_wait(c, id, 20000, NULL, &E));
    MUST(hp_client_run_logs(c, id, &cursor, 0, collect, &ls, &E));
    ck_assert_uint_eq(ls.n, 2500);
    for (size_t i = 0; i < ls.n; i++) {
        char want[24];
        snprintf(want, sizeof(want), "%zu", i + 1);
        ck_assert_str_eq(ls.text[i], want);
    }
    lines_free(&ls);
    hp_client_free(c);
}
END_TEST

START_TEST(run_logs_pages_two_jobs_of_1500_lines_without_losing_or_reordering_any)
{
    hp_client *c = client();
    hp_run_builder *rb = hp_run_builder_new(c, "pair");
    lines ls = {0};
    int64_t id = 0, cursor = 0;
    hp_run *run = NULL;
    size_t left = 0, right = 0;

    hp_action_script(hp_run_builder_action(rb, "left"), "seq 1 1500 | sed 's/^/left /'");
    hp_action_script(hp_run_builder_action(rb, "right"), "seq 1 1500 | sed 's/^/right /'");
    MUST(hp_run_builder_start(rb, &id, &E));
    MUST(hp_client_run_wait(c, id, 20000, &run, &E));
    MUST(hp_client_run_logs(c, id, &cursor, 0, collect, &ls, &E));
    ck_assert_uint_eq(ls.n, 3000);
    for (size_t i = 0; i < ls.n; i++) {
        char want[32];
        int is_left = ls.job[i] == run->jobs[0].id;
        snprintf(want, sizeof(want), "%s %zu", is_left ? "left" : "right",
                 is_left ? ++left : ++right);
        ck_assert_str_eq(ls.text[i], want);
    }
    lines_free(&ls);
    hp_run_free(run);
    hp_run_builder_free(rb);
    hp_client_free(c);
}
END_TEST

START_TEST(run_logs_stops_when_the_callback_asks_and_resumes_from_the_cursor)
{
    hp_client *c = client();
    int64_t id = start_run(c, "chatty", "count", "seq 1 30"), cursor = 0;
    lines ls = {.stop_after = 10};

    MUST(hp_client_run_wait(c, id, 20000, NULL, &E));
    MUST(hp_client_run_logs(c, id, &cursor, 0, collect, &ls, &E));
    ck_assert_uint_eq(ls.n, 10);
    ck_assert_str_eq(ls.text[9], "10");
    ck_assert_int_eq(cursor, ls.seq[9]);
    lines_free(&ls);
    MUST(hp_client_run_logs(c, id, &cursor, 0, collect, &ls, &E));
    ck_assert_uint_eq(ls.n, 20);
    ck_assert_str_eq(ls.text[0], "11");
    ck_assert_str_eq(ls.text[19], "30");
    lines_free(&ls);
    hp_client_free(c);
}
END_TEST

START_TEST(run_logs_follow_delivers_lines_as_they_come_and_returns_when_the_run_ends)
{
    hp_client *c = client();
    /* The job prints "second" only after the test saw "first" (it creates go), so the
     * follow must have delivered "first" while the run was still going. */
    int64_t id = start_run(c, "live", "talk",
                           "echo first; i=0; while [ ! -e go ] && [ $i -lt 1000 ]; do "
                           "sleep 0.01; i=$((i+1)); done; [ -e go ] || exit 4; echo second");
    int64_t cursor = 0;
    char *go = hpt_path("go");
    lines ls = {.go_file = go};
    hp_run *run = NULL;

    MUST(hp_client_run_logs(c, id, &cursor, 1, collect, &ls, &E));
    ck_assert_uint_eq(ls.n, 2);
    ck_assert_str_eq(ls.text[0], "first");
    ck_assert_str_eq(ls.text[1], "second");
    MUST(hp_runs_get(hp_client_sdk(c), id, &run, &E));
    ck_assert_int_eq(run->status, HP_RUN_SUCCEEDED); /* it returned because the run ended */
    hp_run_free(run);
    lines_free(&ls);
    free(go);
    hp_client_free(c);
}
END_TEST

START_TEST(run_logs_of_an_unknown_run_is_not_found_even_without_an_error_struct)
{
    hp_client *c = client();
    int64_t cursor = 0;
    lines ls = {0};

    ck_assert_int_eq(hp_client_run_logs(c, 999999, &cursor, 0, collect, &ls, &E), HP_E_NOT_FOUND);
    ck_assert_msg(strstr(E.message, "999999") != NULL, "%s", E.message);
    ck_assert_int_eq(hp_client_run_logs(c, 999999, &cursor, 1, collect, &ls, NULL), HP_E_NOT_FOUND);
    ck_assert_uint_eq(ls.n, 0);
    hp_client_free(c);
}
END_TEST

/* ---- the auto factory ----------------------------------------------------------------- */

START_TEST(auto_with_hero_proc_url_talks_http_with_the_token)
{
    char addr[64], url[80], *token, *token_path;
    hp_client *c;
    hp_system_info *info = NULL;

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", hpt_free_port());
    snprintf(url, sizeof(url), "http://%s", addr);
    hpt_server_signal_and_wait(SIGTERM, 20000);
    hpt_server_extra_args("--http", addr);
    hpt_server_start();
    token_path = hp_test_join(hpt_data_dir(), "token");
    token = hp_test_read_file(token_path, NULL);
    ck_assert_ptr_nonnull(token);
    token[strcspn(token, "\r\n")] = '\0';
    setenv("HERO_PROC_URL", url, 1);
    setenv("HERO_PROC_TOKEN", token, 1);
    c = hp_factory_auto(NULL, &E);
    ck_assert_msg(c != NULL, "hp_factory_auto: %s", E.message);
    ck_assert_msg(strncmp(hp_client_endpoint(c), "http://", 7) == 0, "%s", hp_client_endpoint(c));
    ck_assert_int_eq(hp_client_started_server(c), 0);
    MUST(hp_sdk_info(hp_client_sdk(c), &info, &E));
    ck_assert_int_eq(info->pid, hpt_server_pid());
    hp_system_info_free(info);
    hp_client_free(c);
    free(token);
    free(token_path);
}
END_TEST

START_TEST(auto_finds_a_running_server_at_its_socket_without_starting_one)
{
    hp_client *c;

    setenv("HERO_PROC_SOCKET", hpt_socket_path(), 1);
    c = hp_factory_auto(NULL, &E);
    ck_assert_msg(c != NULL, "hp_factory_auto: %s", E.message);
    ck_assert_str_eq(hp_client_endpoint(c), hpt_socket_path());
    ck_assert_int_eq(hp_client_started_server(c), 0);
    MUST(hp_sdk_ping(hp_client_sdk(c), NULL, &E));
    hp_client_free(c);
}
END_TEST

START_TEST(auto_starts_a_server_in_a_temporary_home_that_outlives_the_client)
{
    char *sock = hpt_path("rpc.sock");
    char *home_data = hpt_path("hero/var/hero_proc");
    hp_factory_options o = {.socket_path = sock};
    hp_system_info *info = NULL;
    hp_client *c, *again;

    setenv("HOME", hp_test_tmpdir(), 1);
    setenv("HERO_PROC_SERVER", hpt_server_binary(), 1);
    c = hp_factory_auto(&o, &E);
    ck_assert_msg(c != NULL, "hp_factory_auto: %s", E.message);
    ck_assert_int_eq(hp_client_started_server(c), 1);
    MUST(hp_sdk_ping(hp_client_sdk(c), NULL, &E));
    MUST(hp_sdk_info(hp_client_sdk(c), &info, &E));
    spawned_pid = info->pid;
    ck_assert_str_eq(info->socket, sock);
    ck_assert_str_eq(info->data_dir, home_data); /* its default, under the temporary HOME */
    hp_system_info_free(info);
    hp_client_free(c);

    ck_assert(hpt_pid_alive((pid_t)spawned_pid));
    again = hp_factory_auto(&o, &E);
    ck_assert_msg(again != NULL, "hp_factory_auto: %s", E.message);
    ck_assert_int_eq(hp_client_started_server(again), 0);
    MUST(hp_sdk_ping(hp_client_sdk(again), NULL, &E));
    hp_client_free(again);

    ck_assert_int_eq(kill((pid_t)spawned_pid, SIGTERM), 0);
    ck_assert_msg(hpt_wait_until(pid_gone, &spawned_pid, 20000), "the started server did not exit");
    spawned_pid = 0;
    free(home_data);
    free(sock);
}
END_TEST

START_TEST(auto_with_nothing_set_starts_a_server_at_the_default_socket_under_home)
{
    char *sock = hpt_path("hero/var/sockets/hero_proc/rpc.sock");
    hp_system_info *info = NULL;
    hp_client *c;

    setenv("HOME", hp_test_tmpdir(), 1);
    setenv("HERO_PROC_SERVER", hpt_server_binary(), 1);
    c = hp_factory_auto(NULL, &E);
    ck_assert_msg(c != NULL, "hp_factory_auto: %s", E.message);
    ck_assert_int_eq(hp_client_started_server(c), 1);
    ck_assert_str_eq(hp_client_endpoint(c), sock);
    MUST(hp_sdk_info(hp_client_sdk(c), &info, &E));
    spawned_pid = info->pid;
    hp_system_info_free(info);
    hp_client_free(c);
    ck_assert_int_eq(kill((pid_t)spawned_pid, SIGTERM), 0);
    ck_assert_msg(hpt_wait_until(pid_gone, &spawned_pid, 20000), "the started server did not exit");
    spawned_pid = 0;
    free(sock);
}
END_TEST

/* A server on the default data dir, and a dashboard asked for another socket: it says who
 * holds the data dir and where to connect instead of starting a second server there. */
START_TEST(auto_on_another_socket_names_the_server_holding_the_data_dir_and_starts_none)
{
    char *sock = hpt_path("first.sock"), *other = hpt_path("other.sock");
    hp_factory_options first = {.socket_path = sock}, second = {.socket_path = other};
    hp_system_info *info = NULL;
    hp_client *c;
    char want[128];

    setenv("HOME", hp_test_tmpdir(), 1);
    setenv("HERO_PROC_SERVER", hpt_server_binary(), 1);
    c = hp_factory_auto(&first, &E);
    ck_assert_msg(c != NULL, "hp_factory_auto: %s", E.message);
    MUST(hp_sdk_info(hp_client_sdk(c), &info, &E));
    spawned_pid = info->pid;
    hp_system_info_free(info);
    hp_client_free(c);

    ck_assert_ptr_null(hp_factory_auto(&second, &E));
    ck_assert_int_eq(E.code, HP_E_CONFLICT);
    snprintf(want, sizeof(want), "hero_proc_server pid %lld already uses", (long long)spawned_pid);
    ck_assert_msg(strstr(E.message, want) != NULL, "'%s' not in: %s", want, E.message);
    ck_assert_msg(strstr(E.message, sock) != NULL, "its socket not in: %s", E.message);
    ck_assert_int_ne(access(other, F_OK), 0); /* nothing listens there */
    ck_assert_int_eq(hpt_count_cmdline(other), 0);
    ck_assert(hpt_pid_alive((pid_t)spawned_pid));

    ck_assert_int_eq(kill((pid_t)spawned_pid, SIGTERM), 0);
    ck_assert_msg(hpt_wait_until(pid_gone, &spawned_pid, 20000), "the started server did not exit");
    spawned_pid = 0;
    free(sock);
    free(other);
}
END_TEST

START_TEST(auto_with_no_spawn_fails_to_connect_naming_the_socket)
{
    char *sock = hpt_path("nobody.sock");
    hp_factory_options o = {.socket_path = sock, .no_spawn = 1};
    char want[4200];

    setenv("HOME", hp_test_tmpdir(), 1);
    setenv("HERO_PROC_SERVER", hpt_server_binary(), 1);
    ck_assert_ptr_null(hp_factory_auto(&o, &E));
    ck_assert_int_eq(E.code, HP_E_CONNECT);
    snprintf(want, sizeof(want), "no hero_proc server at %s: No such file or directory", sock);
    ck_assert_str_eq(E.message, want);
    ck_assert_int_ne(access(sock, F_OK), 0); /* and nothing was started there */
    free(sock);
}
END_TEST

START_TEST(auto_with_a_missing_server_program_fails_with_a_clear_message)
{
    char *sock = hpt_path("rpc.sock");
    hp_factory_options o = {.socket_path = sock};
    char want[4200];

    setenv("HOME", hp_test_tmpdir(), 1);
    setenv("HERO_PROC_SERVER", "/nonexistent", 1);
    ck_assert_ptr_null(hp_factory_auto(&o, &E));
    ck_assert_int_eq(E.code, HP_E_CONNECT);
    snprintf(want, sizeof(want),
             "no hero_proc server at %s, and /nonexistent cannot be started: No such file or "
             "directory",
             sock);
    ck_assert_str_eq(E.message, want);
    free(sock);
}
END_TEST

static Suite *factory_suite(void)
{
    Suite *s = suite_create("factory");
    TCase *services = tcase_create("services");
    TCase *runs = tcase_create("runs");
    TCase *logs = tcase_create("logs");
    TCase *live_auto = tcase_create("auto_live");
    TCase *spawn = tcase_create("auto_spawn");

    tcase_add_checked_fixture(services, live_setup, live_teardown);
    tcase_set_timeout(services, 60);
    tcase_add_test(services,
                   a_service_saved_with_the_builder_starts_restarts_with_a_new_run_and_stops);
    tcase_add_test(services, restart_with_keep_history_keeps_the_old_runs_jobs);
    tcase_add_test(services, workflows_on_an_unknown_service_are_not_found_naming_it);
    tcase_add_test(services, save_of_an_invalid_service_sends_nothing);
    suite_add_tcase(s, services);

    tcase_add_checked_fixture(runs, live_setup, live_teardown);
    tcase_set_timeout(runs, 60);
    tcase_add_test(runs, a_run_started_with_the_builder_is_waited_for_and_succeeds);
    tcase_add_test(runs, a_failing_run_ends_failed_and_its_status_says_so);
    tcase_add_test(runs, run_wait_times_out_on_a_running_run_within_its_timeout);
    tcase_add_test(runs, run_status_of_an_unknown_run_is_null_with_not_found);
    suite_add_tcase(s, runs);

    tcase_add_checked_fixture(logs, live_setup, live_teardown);
    tcase_set_timeout(logs, 60);
    tcase_add_test(logs, run_logs_collects_two_interleaved_jobs_in_seq_order);
    tcase_add_test(logs, run_logs_pages_through_2500_lines_in_order);
    tcase_add_test(logs, run_logs_pages_two_jobs_of_1500_lines_without_losing_or_reordering_any);
    tcase_add_test(logs, run_logs_stops_when_the_callback_asks_and_resumes_from_the_cursor);
    tcase_add_test(logs, run_logs_of_an_unknown_run_is_not_found_even_without_an_error_struct);
    tcase_add_test(logs, run_logs_follow_delivers_lines_as_they_come_and_returns_when_the_run_ends);
    suite_add_tcase(s, logs);

    tcase_add_checked_fixture(live_auto, live_setup, live_teardown);
    tcase_set_timeout(live_auto, 60);
    tcase_add_test(live_auto, auto_with_hero_proc_url_talks_http_with_the_token);
    tcase_add_test(live_auto, auto_finds_a_running_server_at_its_socket_without_starting_one);
    suite_add_tcase(s, live_auto);

    tcase_add_checked_fixture(spawn, offline_setup, offline_teardown);
    tcase_set_timeout(spawn, 60);
    tcase_add_test(spawn, auto_starts_a_server_in_a_temporary_home_that_outlives_the_client);
    tcase_add_test(spawn, auto_with_nothing_set_starts_a_server_at_the_default_socket_under_home);
    tcase_add_test(spawn,
                   auto_on_another_socket_names_the_server_holding_the_data_dir_and_starts_none);
    tcase_add_test(spawn, auto_with_no_spawn_fails_to_connect_naming_the_socket);
    tcase_add_test(spawn, auto_with_a_missing_server_program_fails_with_a_clear_message);
    suite_add_tcase(s, spawn);
    return s;
}

int main(void)
{
    return hp_test_run(factory_suite());
}
