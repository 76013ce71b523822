/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_sdk (src/client) end to end: every wrapper against a real hero_proc_server
 * (tests/server_harness), HTTP with a bearer token, endpoint discovery, the typed
 * parsers, and through tests/fake_server only the replies a real server never sends. */
#include "config.h"

#include "check_common.h"
#include "client/jsonrpc.h"
#include "client/sdk.h"
#include "fake_server.h"
#include "server_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------ */

static hp_sdk *sdk_at(const char *socket_path, long timeout_ms, size_t max_reply)
{
    hp_sdk_options o = {
        .socket_path = socket_path, .timeout_ms = timeout_ms, .max_reply_bytes = max_reply};
    hp_error err;
    hp_sdk *sdk = hp_sdk_new(&o, &err);

    ck_assert_msg(sdk != NULL, "hp_sdk_new: %s", err.message);
    return sdk;
}

static hp_sdk *sdk_real(void)
{
    return sdk_at(hpt_socket_path(), 0, 0);
}

/* Calls that must succeed, reporting the SDK's message otherwise. */
static hp_error E;
#define MUST(call) ck_assert_msg((call) == HP_OK, "%s: %s", #call, E.message)

static hp_action_spec script_action(const char *name, const char *script)
{
    hp_action_spec a = {0};

    a.name = strdup(name);
    a.script = strdup(script);
    a.cwd = strdup(hp_test_tmpdir());
    ck_assert(a.name && a.script && a.cwd);
    return a;
}

/* A service config with one action; free with hp_service_config_free. */
static hp_service_config service(const char *name, const char *script)
{
    hp_service_config c = {0};

    c.name = strdup(name);
    c.actions = calloc(1, sizeof(*c.actions));
    ck_assert(c.name && c.actions);
    c.actions[0] = script_action("main", script);
    c.n_actions = 1;
    return c;
}

static int64_t submit(hp_sdk *sdk, const char *name, const char *script)
{
    hp_action_spec a = script_action("step", script);
    hp_run *run = NULL;
    int64_t id;

    MUST(hp_runs_submit(sdk, name, &a, 1, &run, &E));
    id = run->id;
    ck_assert_int_ge(id, 1);
    hp_run_free(run);
    hp_action_spec_free(&a);
    return id;
}

/* ---- system ------------------------------------------------------------------------- */

START_TEST(ping_answers_the_server_version)
{
    hp_sdk *sdk = sdk_real();
    hp_pong *pong = NULL;

    MUST(hp_sdk_ping(sdk, &pong, &E));
    ck_assert_str_eq(pong->version, PACKAGE_VERSION);
    ck_assert_int_gt(pong->ts_ms, 0);
    hp_pong_free(pong);
    MUST(hp_sdk_ping(sdk, NULL, &E)); /* the same connection, a second request */
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(info_reports_the_servers_pid_socket_and_data_dir)
{
    hp_sdk *sdk = sdk_real();
    hp_system_info *info = NULL;

    MUST(hp_sdk_info(sdk, &info, &E));
    ck_assert_int_eq(info->pid, hpt_server_pid());
    ck_assert_str_eq(info->socket, hpt_socket_path());
    ck_assert_str_eq(info->data_dir, hpt_data_dir());
    ck_assert_int_eq(info->counts.services, 0);
    hp_system_info_free(info);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(discover_returns_the_openrpc_document_with_all_33_methods)
{
    hp_sdk *sdk = sdk_real();
    cJSON *doc = NULL;

    MUST(hp_sdk_discover(sdk, &doc, &E));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "methods")), 33);
    cJSON_Delete(doc);
    hp_sdk_free(sdk);
}
END_TEST

/* ---- services ----------------------------------------------------------------------- */

START_TEST(services_put_then_get_returns_the_same_config)
{
    hp_sdk *sdk = sdk_real();
    hp_service_config c = service("web", "echo hi");
    hp_service_record *rec = NULL;
    int created = -1;

    c.description = strdup("the web service");
    MUST(hp_services_put(sdk, &c, &created, &E));
    ck_assert_int_eq(created, 1);
    MUST(hp_services_put(sdk, &c, &created, &E));
    ck_assert_int_eq(created, 0);
    MUST(hp_services_get(sdk, "web", &rec, &E));
    ck_assert_str_eq(rec->config.name, "web");
    ck_assert_str_eq(rec->config.description, "the web service");
    ck_assert_uint_eq(rec->config.n_actions, 1);
    ck_assert_str_eq(rec->config.actions[0].script, "echo hi");
    ck_assert_int_eq(rec->config.wanted_start, 0);
    ck_assert_int_gt(rec->created_at_ms, 0);
    hp_service_record_free(rec);
    hp_service_config_free(&c);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(services_get_of_an_unknown_service_is_not_found_naming_it)
{
    hp_sdk *sdk = sdk_real();
    hp_service_record *rec = (hp_service_record *)&rec;

    ck_assert_int_eq(hp_services_get(sdk, "ghost", &rec, &E), HP_E_NOT_FOUND);
    ck_assert_ptr_null(rec);
    ck_assert_int_eq(E.rpc_code, -32000);
    ck_assert_msg(strstr(E.message, "ghost") != NULL, "%s", E.message);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(services_put_of_an_invalid_config_lists_every_problem)
{
    hp_sdk *sdk = sdk_real();
    hp_service_config c = service("broken", "true");
    const hp_problems *pb;

    free(c.actions[0].script);
    c.actions[0].script = NULL; /* neither script nor command */
    c.actions[0].depends_on = calloc(1, sizeof(char *));
    c.actions[0].depends_on[0] = strdup("nowhere");
    c.actions[0].n_depends_on = 1;
    ck_assert_int_eq(hp_services_put(sdk, &c, NULL, &E), HP_E_VALIDATION);
    ck_assert_int_eq(E.rpc_code, -32602);
    pb = hp_sdk_problems(sdk);
    ck_assert_uint_ge(pb->count, 2);
    ck_assert_msg(strstr(E.message, "nowhere") && strstr(E.message, "; "), "%s", E.message);
    hp_service_config_free(&c);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(services_list_answers_unchanged_for_the_current_rev)
{
    hp_sdk *sdk = sdk_real();
    hp_service_config c = service("alpha", "true");
    hp_service_list *list = NULL;
    int64_t rev;

    MUST(hp_services_put(sdk, &c, NULL, &E));
    MUST(hp_services_list(sdk, 0, &list, &E));
    ck_assert_int_eq(list->unchanged, 0);
    ck_assert_uint_eq(list->n_services, 1);
    ck_assert_str_eq(list->services[0].name, "alpha");
    ck_assert_int_eq(list->services[0].status, HP_SERVICE_INACTIVE);
    ck_assert_int_eq(list->services[0].actions, 1);
    rev = list->rev;
    hp_service_list_free(list);
    MUST(hp_services_list(sdk, rev, &list, &E));
    ck_assert_int_eq(list->unchanged, 1);
    ck_assert_int_eq(list->rev, rev);
    ck_assert_uint_eq(list->n_services, 0);
    hp_service_list_free(list);
    hp_service_config_free(&c);
    hp_sdk_free(sdk);
}
END_TEST

static int service_running(void *ud)
{
    hp_service_status *s = NULL;
    int yes;

    if (hp_services_status(ud, "daemon", &s, NULL) != HP_OK)
        return 0;
    yes = s->status == HP_SERVICE_RUNNING && s->n_jobs == 1 && s->jobs[0].has_pid;
    hp_service_status_free(s);
    return yes;
}

START_TEST(services_start_status_restart_stop_and_delete_drive_a_live_service)
{
    hp_sdk *sdk = sdk_real();
    hp_service_config c = service("daemon", "exec sleep 60");
    hp_service_status *st = NULL;
    hp_run *run = NULL;
    int64_t first;

    MUST(hp_services_put(sdk, &c, NULL, &E));
    MUST(hp_services_start(sdk, "daemon", &run, &E));
    ck_assert_str_eq(run->service, "daemon");
    ck_assert_int_eq(run->has_jobs, 1);
    first = run->id;
    hp_run_free(run);
    ck_assert(hpt_wait_until(service_running, sdk, 5000));
    MUST(hp_services_status(sdk, "daemon", &st, &E));
    ck_assert_int_eq(st->wanted_start, 1);
    ck_assert_int_eq(st->run_id, first);
    hp_service_status_free(st);
    MUST(hp_services_restart(sdk, "daemon", 1, &run, &E));
    ck_assert_int_gt(run->id, first);
    hp_run_free(run);
    ck_assert(hpt_wait_until(service_running, sdk, 5000));
    MUST(hp_services_stop(sdk, "daemon", &st, &E));
    ck_assert_int_eq(st->wanted_start, 0);
    hp_service_status_free(st);
    MUST(hp_services_delete(sdk, "daemon", &E));
    ck_assert_int_eq(hp_services_status(sdk, "daemon", &st, &E), HP_E_NOT_FOUND);
    ck_assert_ptr_null(st);
    hp_service_config_free(&c);
    hp_sdk_free(sdk);
}
END_TEST

/* ---- runs and jobs ------------------------------------------------------------------ */

START_TEST(runs_submit_wait_get_list_and_delete)
{
    hp_sdk *sdk = sdk_real();
    hp_run *run = NULL;
    hp_run_list *list = NULL;
    hp_run_filter f = {.status = "succeeded", .limit = 10};
    int64_t id = submit(sdk, "ok-run", "echo one; echo two >&2");

    MUST(hp_runs_wait(sdk, id, 10000, &run, &E));
    ck_assert_int_eq(run->status, HP_RUN_SUCCEEDED);
    ck_assert_ptr_null(run->service);
    ck_assert_uint_eq(run->n_jobs, 1);
    ck_assert_int_eq(run->jobs[0].has_exit_code, 1);
    ck_assert_int_eq(run->jobs[0].exit_code, 0);
    ck_assert_int_eq(run->jobs[0].has_signal, 0);
    hp_run_free(run);
    MUST(hp_runs_get(sdk, id, &run, &E));
    ck_assert_str_eq(run->name, "ok-run");
    ck_assert_int_eq(run->counts.total, 1);
    ck_assert_int_eq(run->counts.succeeded, 1);
    ck_assert_int_gt(run->ended_at_ms, 0);
    hp_run_free(run);
    MUST(hp_runs_list(sdk, &f, &list, &E));
    ck_assert_uint_eq(list->n_runs, 1);
    ck_assert_int_eq(list->runs[0].id, id);
    ck_assert_int_eq(list->runs[0].has_jobs, 0);
    hp_run_list_free(list);
    MUST(hp_runs_delete(sdk, id, &E));
    ck_assert_int_eq(hp_runs_get(sdk, id, &run, &E), HP_E_NOT_FOUND);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(runs_get_gives_the_runs_actions_for_a_rerun)
{
    hp_sdk *sdk = sdk_real();
    hp_action_spec a[2] = {script_action("test", "true"), script_action("build", "true")};
    hp_run *run = NULL;
    int64_t id;

    a[0].depends_on = calloc(1, sizeof(char *));
    ck_assert(a[0].depends_on && (a[0].depends_on[0] = strdup("build")));
    a[0].n_depends_on = 1;
    a[0].timeout_secs = 30;
    a[1].env = calloc(1, sizeof(hp_env_var));
    ck_assert(a[1].env && (a[1].env[0].key = strdup("T")) &&
              (a[1].env[0].value = strdup("release")));
    a[1].n_env = 1;
    MUST(hp_runs_submit(sdk, "rerun", a, 2, &run, &E));
    id = run->id;
    ck_assert_ptr_null(run->actions); /* run.get only */
    ck_assert_uint_eq(run->n_actions, 0);
    hp_run_free(run);
    MUST(hp_runs_get(sdk, id, &run, &E));
    ck_assert_uint_eq(run->n_actions, 2);
    ck_assert_str_eq(run->actions[0].name, "test");
    ck_assert_str_eq(run->actions[0].script, "true");
    ck_assert_str_eq(run->actions[0].cwd, hp_test_tmpdir());
    ck_assert_uint_eq(run->actions[0].n_depends_on, 1);
    ck_assert_str_eq(run->actions[0].depends_on[0], "build");
    ck_assert_int_eq(run->actions[0].timeout_secs, 30);
    ck_assert_str_eq(run->actions[1].name, "build");
    ck_assert_uint_eq(run->actions[1].n_env, 1);
    ck_assert_str_eq(run->actions[1].env[0].key, "T");
    ck_assert_str_eq(run->actions[1].env[0].value, "release");
    hp_run_free(run);
    hp_action_spec_free(&a[0]);
    hp_action_spec_free(&a[1]);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(runs_wait_times_out_on_a_running_run_and_cancel_ends_it)
{
    hp_sdk *sdk = sdk_real();
    hp_run *run = NULL;
    int64_t id = submit(sdk, "long-run", "exec sleep 60");
    int64_t t0 = hpt_now_ms();

    ck_assert_int_eq(hp_runs_wait(sdk, id, 200, &run, &E), HP_E_TIMEOUT);
    ck_assert_int_eq(E.rpc_code, -32005);
    ck_assert_ptr_null(run);
    ck_assert_int_lt(hpt_now_ms() - t0, 3000);
    MUST(hp_runs_cancel(sdk, id, NULL, &E));
    MUST(hp_runs_wait(sdk, id, 10000, &run, &E));
    ck_assert_int_eq(run->status, HP_RUN_CANCELLED);
    hp_run_free(run);
    hp_sdk_free(sdk);
}
END_TEST

static int job_running(void *ud)
{
    void **args = ud;
    hp_job *job = NULL;
    int yes;

    if (hp_jobs_get(args[0], *(int64_t *)args[1], &job, NULL) != HP_OK)
        return 0;
    yes = job->status == HP_JOB_RUNNING;
    hp_job_free(job);
    return yes;
}

START_TEST(jobs_list_get_logs_and_cancel)
{
    hp_sdk *sdk = sdk_real();
    hp_job_list *jobs = NULL;
    hp_job *job = NULL;
    hp_log_page *page = NULL;
    hp_run *run = NULL;
    int64_t id = submit(sdk, "logs-run", "echo first line; echo second line");
    int64_t job_id, slow_job;
    hp_job_filter f = {.run_id = id};
    void *ud[2];
    int found = 0;

    MUST(hp_runs_wait(sdk, id, 10000, NULL, &E));
    MUST(hp_jobs_list(sdk, &f, &jobs, &E));
    ck_assert_uint_eq(jobs->n_jobs, 1);
    job_id = jobs->jobs[0].id;
    ck_assert_str_eq(jobs->jobs[0].action, "step");
    hp_job_list_free(jobs);
    MUST(hp_jobs_get(sdk, job_id, &job, &E));
    ck_assert_int_eq(job->status, HP_JOB_SUCCEEDED);
    ck_assert_int_eq(job->attempt, 1);
    hp_job_free(job);
    MUST(hp_jobs_logs(sdk, job_id, 0, 0, 0, &page, &E));
    for (size_t i = 0; i < page->n_lines; i++)
        if (page->lines[i].stream == HP_STREAM_STDOUT &&
            strcmp(page->lines[i].line, "second line") == 0 && page->lines[i].job_id == job_id)
            found = 1;
    ck_assert_msg(found, "no 'second line' on stdout in %zu lines", page->n_lines);
    ck_assert_int_gt(page->next_seq, 0);
    hp_log_page_free(page);
    MUST(hp_jobs_logs(sdk, job_id, 0, 1, 1, &page, &E));
    ck_assert_uint_eq(page->n_lines, 1);
    hp_log_page_free(page);

    id = submit(sdk, "slow-run", "exec sleep 60");
    MUST(hp_runs_get(sdk, id, &run, &E));
    slow_job = run->jobs[0].id;
    hp_run_free(run);
    ud[0] = sdk;
    ud[1] = &slow_job;
    ck_assert(hpt_wait_until(job_running, ud, 5000));
    MUST(hp_jobs_cancel(sdk, slow_job, NULL, &E));
    MUST(hp_runs_wait(sdk, id, 10000, &run, &E));
    ck_assert_int_eq(run->jobs[0].status, HP_JOB_CANCELLED);
    hp_run_free(run);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(jobs_logs_page_backwards_and_search_find_old_lines)
{
    hp_sdk *sdk = sdk_real();
    int64_t id = submit(sdk, "long-log", "seq 1 5000; echo needle here; seq 5001 6000");
    hp_job_filter f = {.run_id = id};
    hp_log_bounds b = {.before_seq = 0, .limit = 2000};
    hp_job_list *jobs = NULL;
    hp_log_page *page = NULL;
    hp_log_matches *m = NULL;
    hp_log_search q = {.pattern = "^needle", .context = 1};
    int64_t job_id, total = 0;

    MUST(hp_runs_wait(sdk, id, 10000, NULL, &E));
    MUST(hp_jobs_list(sdk, &f, &jobs, &E));
    job_id = jobs->jobs[0].id;
    hp_job_list_free(jobs);
    /* From the newest line back to the first, 2000 at a time. */
    b.before_seq = INT64_C(9007199254740991);
    for (;;) {
        MUST(hp_jobs_logs_page(sdk, job_id, &b, &page, &E));
        if (page->n_lines == 0) {
            hp_log_page_free(page);
            break;
        }
        total += (int64_t)page->n_lines;
        ck_assert_int_eq(page->next_seq, page->lines[0].seq);
        b.before_seq = page->next_seq;
        hp_log_page_free(page);
    }
    ck_assert_int_eq(total, 6001 + 2); /* and the spawned and exited lines */
    q.job_id = job_id;
    MUST(hp_logs_search(sdk, &q, &m, &E));
    ck_assert_uint_eq(m->n_matches, 1);
    ck_assert_str_eq(m->matches[0].line.line, "needle here");
    ck_assert_uint_eq(m->matches[0].n_before, 1);
    ck_assert_str_eq(m->matches[0].before[0].line, "5000");
    ck_assert_str_eq(m->matches[0].after[0].line, "5001");
    ck_assert(m->complete);
    hp_log_matches_free(m);
    q.pattern = "(";
    ck_assert_int_eq(hp_logs_search(sdk, &q, &m, &E), HP_E_VALIDATION);
    ck_assert_ptr_null(m);
    hp_sdk_free(sdk);
}
END_TEST

/* ---- logs and secrets ----------------------------------------------------------------- */

START_TEST(logs_insert_then_tail_returns_the_lines_in_order)
{
    hp_sdk *sdk = sdk_real();
    const char *lines[] = {"alpha", "beta", "gamma"};
    hp_log_page *page = NULL;
    int64_t last = 0;

    MUST(hp_logs_insert(sdk, "ext.producer", lines, 3, HP_STREAM_STDERR, &last, &E));
    ck_assert_int_gt(last, 0);
    MUST(hp_logs_tail(sdk, "ext", 0, 0, &page, &E));
    ck_assert_uint_eq(page->n_lines, 3);
    ck_assert_str_eq(page->lines[2].line, "gamma");
    ck_assert_str_eq(page->lines[0].src, "ext.producer");
    ck_assert_int_eq(page->lines[0].stream, HP_STREAM_STDERR);
    ck_assert_int_eq(page->lines[0].job_id, 0);
    ck_assert_int_eq(page->next_seq, last);
    hp_log_page_free(page);
    MUST(hp_logs_tail(sdk, "ext", last, 0, &page, &E));
    ck_assert_uint_eq(page->n_lines, 0);
    hp_log_page_free(page);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(secrets_set_get_list_and_delete_and_list_never_shows_values)
{
    hp_sdk *sdk = sdk_real();
    hp_secret_meta *meta = NULL;
    hp_secret *secret = NULL;
    hp_secret_list *list = NULL;
    cJSON *json;
    char *text;

    MUST(hp_secrets_set(sdk, "db_password", "hunter2", &meta, &E));
    ck_assert_str_eq(meta->name, "db_password");
    hp_secret_meta_free(meta);
    MUST(hp_secrets_get(sdk, "db_password", &secret, &E));
    ck_assert_str_eq(secret->value, "hunter2");
    hp_secret_free(secret);
    MUST(hp_secrets_list(sdk, 0, &list, &E));
    ck_assert_uint_eq(list->n_secrets, 1);
    json = hp_secret_list_to_json(list);
    text = cJSON_PrintUnformatted(json);
    ck_assert_ptr_null(strstr(text, "hunter2"));
    free(text);
    cJSON_Delete(json);
    hp_secret_list_free(list);
    MUST(hp_secrets_delete(sdk, "db_password", &E));
    ck_assert_int_eq(hp_secrets_get(sdk, "db_password", &secret, &E), HP_E_NOT_FOUND);
    hp_sdk_free(sdk);
}
END_TEST

/* ---- raw calls and batches ------------------------------------------------------------ */

START_TEST(batch_answers_each_call_with_its_own_result_or_error)
{
    hp_sdk *sdk = sdk_real();
    hp_batch_call calls[3] = {{.method = "system.ping"},
                              {.method = "service.get", .params = cJSON_Parse("{\"name\":\"x\"}")},
                              {.method = "no.such.method"}};

    ck_assert_int_eq(hp_sdk_batch(sdk, calls, 3, &E), HP_E_NOT_FOUND);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(calls[0].result, "pong")));
    ck_assert_int_eq(calls[0].error.code, HP_OK);
    ck_assert_ptr_null(calls[1].result);
    ck_assert_int_eq(calls[1].error.rpc_code, -32000);
    ck_assert_int_eq(calls[2].error.code, HP_E_RPC);
    ck_assert_int_eq(calls[2].error.rpc_code, -32601);
    for (int i = 0; i < 3; i++)
        cJSON_Delete(calls[i].result);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(raw_call_reaches_any_method)
{
    hp_sdk *sdk = sdk_real();
    cJSON *r = NULL;

    MUST(hp_sdk_call(sdk, "system.ping", NULL, &r, &E));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "pong")));
    cJSON_Delete(r);
    ck_assert_int_eq(hp_sdk_call(sdk, "system.nope", cJSON_CreateObject(), &r, &E), HP_E_RPC);
    ck_assert_int_eq(E.rpc_code, -32601);
    ck_assert_ptr_null(r);
    hp_sdk_free(sdk);
}
END_TEST

/* ---- HTTP with a token ---------------------------------------------------------------- */

static int pings(void *ud)
{
    return hp_sdk_ping(ud, NULL, NULL) == HP_OK;
}

/* A hero_proc_server of the test's own on sock (and on http_addr when not NULL), its output
 * thrown away, started after delay_ms. */
static pid_t fork_server(const char *sock, const char *data, const char *http_addr, int delay_ms)
{
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (delay_ms > 0)
            usleep((useconds_t)delay_ms * 1000);
        if (http_addr)
            execl(hpt_server_binary(), "hero_proc_server", "--socket", sock, "--data-dir", data,
                  "--http", http_addr, (char *)NULL);
        else
            execl(hpt_server_binary(), "hero_proc_server", "--socket", sock, "--data-dir", data,
                  (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* SIGTERM to a server of fork_server, which must exit 0. */
static void stop_server(pid_t pid)
{
    int status;

    kill(pid, SIGTERM);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(http_with_the_token_works_and_without_it_is_unauthorized)
{
    char *sock = hpt_path("http.sock"), *data = hpt_path("http-data"), addr[64], url[80];
    char *token_path = hp_test_join(data, "token"), *token;
    int port = hpt_free_port();
    pid_t pid;
    hp_sdk *local, *good, *bad;
    hp_sdk_options o = {0};

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    pid = fork_server(sock, data, addr, 0);
    local = sdk_at(sock, 0, 0);
    ck_assert_msg(hpt_wait_until(pings, local, 5000), "the HTTP server did not start");
    token = hp_test_read_file(token_path, NULL);
    ck_assert_ptr_nonnull(token);
    token[strcspn(token, "\r\n")] = '\0';
    o.url = url;
    o.token = token;
    good = hp_sdk_new(&o, &E);
    ck_assert_ptr_nonnull(good);
    o.token = "wrong";
    bad = hp_sdk_new(&o, &E);
    ck_assert_ptr_nonnull(bad);
    MUST(hp_sdk_ping(good, NULL, &E));
    MUST(hp_secrets_set(good, "over_http", "v", NULL, &E));
    ck_assert_int_eq(hp_sdk_ping(bad, NULL, &E), HP_E_UNAUTHORIZED);
    ck_assert_int_eq(E.http_status, 401);
    ck_assert_msg(strstr(E.message, "Bearer") != NULL, "%s", E.message);
    hp_sdk_free(good);
    hp_sdk_free(bad);
    hp_sdk_free(local);
    stop_server(pid);
    free(token);
    free(token_path);
    free(sock);
    free(data);
}
END_TEST

/* ---- unreachable servers -------------------------------------------------------------- */

START_TEST(missing_socket_error_names_the_path)
{
    char *path = hp_test_join(hp_test_tmpdir(), "nothing/rpc.sock");
    char want[512];
    hp_sdk *sdk = sdk_at(path, 0, 0);
    int64_t t0 = hpt_now_ms();

    ck_assert_int_eq(hp_sdk_ping(sdk, NULL, &E), HP_E_CONNECT);
    snprintf(want, sizeof(want), "no hero_proc server at %s: No such file or directory", path);
    ck_assert_str_eq(E.message, want);
    ck_assert_int_eq(E.sys_errno, ENOENT);
    ck_assert_int_lt(hpt_now_ms() - t0, 1000);
    hp_sdk_free(sdk);
    free(path);
}
END_TEST

/* A server coming back (its socket not yet bound in a directory that exists): a call
 * waits for it by default; one told not to wait (the dashboard's, on its screen's
 * thread) fails at once, while the server is still on its way. */
START_TEST(a_call_waits_for_a_server_coming_back_unless_told_not_to)
{
    char *sock = hp_test_join(hp_test_tmpdir(), "later.sock"),
         *data = hp_test_join(hp_test_tmpdir(), "later-data");
    hp_sdk *now = sdk_at(sock, 0, 0), *waits = sdk_at(sock, 0, 0);
    pid_t pid;

    hp_sdk_set_restart_wait(now, 0);
    hp_sdk_set_restart_wait(waits, 60000); /* a slow start under a sanitizer is no failure */
    pid = fork_server(sock, data, NULL, 500);
    ck_assert_int_eq(hp_sdk_ping(now, NULL, &E), HP_E_CONNECT);
    ck_assert_int_eq(E.sys_errno, ENOENT);
    MUST(hp_sdk_ping(waits, NULL, &E));
    MUST(hp_sdk_ping(now, NULL, &E)); /* the same client, once the server is there */
    stop_server(pid);
    hp_sdk_free(now);
    hp_sdk_free(waits);
    free(sock);
    free(data);
}
END_TEST

START_TEST(socket_nobody_listens_on_is_connection_refused)
{
    char *path = hp_test_join(hp_test_tmpdir(), "dead.sock");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    hp_sdk *sdk;

    memcpy(addr.sun_path, path, strlen(path) + 1);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    close(fd); /* bound, never listened: a stale socket */
    sdk = sdk_at(path, 0, 0);
    ck_assert_int_eq(hp_sdk_ping(sdk, NULL, &E), HP_E_CONNECT);
    ck_assert_msg(strstr(E.message, path) && strstr(E.message, "Connection refused"), "%s",
                  E.message);
    hp_sdk_free(sdk);
    free(path);
}
END_TEST

START_TEST(new_refuses_both_or_neither_endpoint)
{
    hp_sdk_options o = {0};

    ck_assert_ptr_null(hp_sdk_new(&o, &E));
    ck_assert_int_eq(E.code, HP_E_INVALID);
    o.socket_path = "/tmp/x.sock";
    o.url = "http://127.0.0.1:1";
    ck_assert_ptr_null(hp_sdk_new(&o, &E));
    o.socket_path = NULL;
    o.url = "ftp://host";
    ck_assert_ptr_null(hp_sdk_new(&o, &E));
    ck_assert_msg(strstr(E.message, "http://") != NULL, "%s", E.message);
}
END_TEST

/* ---- the fake server: replies a real server never sends ------------------------------- */

/* Runs one ping against a fake answering reply; returns the status, E filled. */
static hp_status ping_fake(const char *reply, int delay_ms, long timeout_ms, size_t cap, char **got)
{
    char *path = hp_test_join(hp_test_tmpdir(), "fake.sock");
    hpt_fake *f = hpt_fake_start(path, &reply, 1, delay_ms);
    hp_sdk *sdk = sdk_at(path, timeout_ms, cap);
    hp_pong *pong = (hp_pong *)&pong;
    hp_status st = hp_sdk_ping(sdk, &pong, &E);
    char *req;

    if (st != HP_OK)
        ck_assert_ptr_null(pong);
    hp_pong_free(st == HP_OK ? pong : NULL);
    hp_sdk_free(sdk);
    req = hpt_fake_finish(f);
    if (got)
        *got = req;
    else
        free(req);
    free(path);
    return st;
}

static hp_status ping_body(const char *body, int status)
{
    char *reply = hpt_fake_http(status, body);
    hp_status st = ping_fake(reply, 0, 0, 0, NULL);

    free(reply);
    return st;
}

START_TEST(request_is_a_json_rpc_2_post_to_rpc)
{
    char *reply = hpt_fake_http(
        200,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"pong\":true,\"version\":\"9\",\"ts_ms\":1}}");
    char *got = NULL;

    ck_assert_int_eq(ping_fake(reply, 0, 0, 0, &got), HP_OK);
    ck_assert_msg(strncmp(got, "POST /rpc HTTP/1.1\r\n", 20) == 0, "%s", got);
    ck_assert_msg(strstr(got, "\r\nContent-Type: application/json\r\n") != NULL, "%s", got);
    ck_assert_msg(strstr(got, "\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"system.ping\",\"id\":1}"),
                  "%s", got);
    ck_assert_ptr_null(strstr(got, "Authorization"));
    free(got);
    free(reply);
}
END_TEST

START_TEST(ids_increase_per_client_on_one_kept_alive_connection)
{
    char *path = hp_test_join(hp_test_tmpdir(), "fake.sock");
    char *r1 = hpt_fake_http(
        200,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"pong\":true,\"version\":\"9\",\"ts_ms\":1}}");
    char *r2 = hpt_fake_http(
        200,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"pong\":true,\"version\":\"9\",\"ts_ms\":1}}");
    const char *replies[] = {r1, r2};
    hpt_fake *f = hpt_fake_start(path, replies, 2, 0);
    hp_sdk *sdk = sdk_at(path, 0, 0);
    char *got;

    MUST(hp_sdk_ping(sdk, NULL, &E));
    MUST(hp_sdk_ping(sdk, NULL, &E));
    hp_sdk_free(sdk);
    got = hpt_fake_finish(f);
    ck_assert_msg(strstr(got, "\"id\":1}") && strstr(got, "\"id\":2}"), "%s", got);
    free(got);
    free(r1);
    free(r2);
    free(path);
}
END_TEST

START_TEST(truncated_json_reply_is_a_protocol_error)
{
    ck_assert_int_eq(ping_body("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"po", 200),
                     HP_E_PROTOCOL);
    ck_assert_str_eq(E.message, "the server's reply is not valid JSON");
}
END_TEST

START_TEST(reply_cut_short_of_its_content_length_is_a_protocol_error)
{
    const char *reply = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\n"
                        "{\"jsonrpc\":\"2.0\"";

    ck_assert_int_eq(ping_fake(reply, 0, 0, 0, NULL), HP_E_PROTOCOL);
}
END_TEST

START_TEST(reply_with_a_wrong_id_is_a_protocol_error)
{
    ck_assert_int_eq(ping_body("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"pong\":true,"
                               "\"version\":\"9\",\"ts_ms\":1}}",
                               200),
                     HP_E_PROTOCOL);
    ck_assert_msg(strstr(E.message, "another request") != NULL, "%s", E.message);
}
END_TEST

START_TEST(reply_with_both_result_and_error_is_a_protocol_error)
{
    ck_assert_int_eq(ping_body("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":"
                               "{\"code\":-32000,\"message\":\"x\"}}",
                               200),
                     HP_E_PROTOCOL);
    ck_assert_msg(strstr(E.message, "exactly one") != NULL, "%s", E.message);
}
END_TEST

START_TEST(reply_without_jsonrpc_version_or_with_a_bad_result_is_a_protocol_error)
{
    ck_assert_int_eq(ping_body("{\"id\":1,\"result\":{}}", 200), HP_E_PROTOCOL);
    ck_assert_int_eq(ping_body("[1,2]", 200), HP_E_PROTOCOL);
    ck_assert_int_eq(ping_body("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"pong\":true}}", 200),
                     HP_E_PROTOCOL);
    ck_assert_msg(strstr(E.message, "'version' is missing") != NULL, "%s", E.message);
    ck_assert_int_eq(ping_body("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"version\":5}}", 200),
                     HP_E_PROTOCOL);
    ck_assert_int_eq(ping_body("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\"}}", 200),
                     HP_E_PROTOCOL);
}
END_TEST

START_TEST(reply_over_the_size_cap_is_refused)
{
    size_t big = 256 * 1024;
    char *body = malloc(big + 1), *reply;
    char *stream = malloc(big + 200);

    memset(body, ' ', big);
    body[big] = '\0';
    body[0] = '"';
    body[big - 1] = '"';
    reply = hpt_fake_http(200, body);
    ck_assert_int_eq(ping_fake(reply, 0, 0, 64 * 1024, NULL), HP_E_PROTOCOL);
    ck_assert_msg(strstr(E.message, "larger than the limit of 65536 bytes") != NULL, "%s",
                  E.message);
    /* Without a Content-Length the cap stops the body as it streams in. */
    snprintf(stream, big + 200, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n%s", body);
    ck_assert_int_eq(ping_fake(stream, 0, 0, 64 * 1024, NULL), HP_E_PROTOCOL);
    ck_assert_msg(strstr(E.message, "larger than the limit") != NULL, "%s", E.message);
    free(stream);
    free(reply);
    free(body);
}
END_TEST

START_TEST(http_500_is_an_http_error_with_the_status)
{
    ck_assert_int_eq(ping_body("internal trouble", 500), HP_E_HTTP);
    ck_assert_int_eq(E.http_status, 500);
    ck_assert_msg(strstr(E.message, "HTTP 500: internal trouble") != NULL, "%s", E.message);
}
END_TEST

START_TEST(reply_slower_than_the_timeout_is_a_timeout)
{
    char *reply = hpt_fake_http(200, "{}");
    int64_t t0 = hpt_now_ms();

    ck_assert_int_eq(ping_fake(reply, 3000, 300, 0, NULL), HP_E_TIMEOUT);
    ck_assert_int_lt(hpt_now_ms() - t0, 2000);
    ck_assert_msg(strstr(E.message, "within 300 ms") != NULL, "%s", E.message);
    free(reply);
}
END_TEST

/* ---- the reply checker and the typed parsers, without a server ------------------------ */

START_TEST(error_codes_map_to_statuses_and_problems_join_the_message)
{
    static const struct {
        int code;
        hp_status st;
    } map[] = {{-32000, HP_E_NOT_FOUND},    {-32001, HP_E_CONFLICT}, {-32002, HP_E_STATE},
               {-32003, HP_E_UNAUTHORIZED}, {-32004, HP_E_LIMIT},    {-32005, HP_E_TIMEOUT},
               {-32602, HP_E_VALIDATION},   {-32601, HP_E_RPC},      {-32700, HP_E_RPC}};
    const char *text = "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32602,\"message\":"
                       "\"invalid params\",\"data\":{\"problems\":[\"a is bad\",\"b is bad\"]}}}";
    hp_problems pb = {0};

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        ck_assert_int_eq(hp__rpc_code_status(map[i].code), map[i].st);
    ck_assert_ptr_null(hp__rpc_parse_reply(text, strlen(text), 3, &pb, &E));
    ck_assert_int_eq(E.code, HP_E_VALIDATION);
    ck_assert_int_eq(E.rpc_code, -32602);
    ck_assert_str_eq(E.message, "invalid params; a is bad; b is bad");
    ck_assert_uint_eq(pb.count, 2);
    ck_assert_str_eq(pb.items[1], "b is bad");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(error_details_are_read_as_problem_records)
{
    const char *text =
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32602,\"message\":\"x\",\"data\":{"
        "\"problems\":[\"run 'ci': dependency cycle: a -> b -> a\",\"new\"],\"details\":["
        "{\"code\":\"dep_cycle\",\"path\":\"/actions/0/depends_on/0\",\"message\":\"run 'ci': "
        "dependency cycle: a -> b -> a\",\"cycle\":[\"a\",\"b\"]},"
        "{\"code\":\"probe_failed\",\"path\":\"/probe\",\"message\":\"new\"}]}}}";
    hp_problems pb = {0};

    ck_assert_ptr_null(hp__rpc_parse_reply(text, strlen(text), 3, &pb, &E));
    ck_assert_int_eq(E.code, HP_E_VALIDATION);
    ck_assert_str_eq(E.message, "x; run 'ci': dependency cycle: a -> b -> a; new");
    ck_assert_uint_eq(pb.count, 2);
    ck_assert_int_eq(pb.records[0].code, HP_PROBLEM_DEP_CYCLE);
    ck_assert_str_eq(pb.records[0].path, "/actions/0/depends_on/0");
    ck_assert_uint_eq(pb.records[0].n_cycle, 2);
    ck_assert_str_eq(pb.records[0].cycle[1], "b");
    /* A code this SDK does not know (a newer server's) is the generic one, path kept. */
    ck_assert_int_eq(pb.records[1].code, HP_PROBLEM_INVALID);
    ck_assert_str_eq(pb.records[1].path, "/probe");
    ck_assert_str_eq(pb.items[1], "new");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(job_parse_defaults_nulls_ignores_unknown_fields_and_round_trips)
{
    const char *text = "{\"id\":4,\"run_id\":2,\"action\":\"a\",\"service\":null,\"status\":"
                       "\"timed_out\",\"attempt\":2,\"pid\":null,\"exit_code\":null,\"signal\":9,"
                       "\"started_at_ms\":5,\"ended_at_ms\":null,\"error\":\"timed out\","
                       "\"restarts\":0,\"dropped\":0,\"health\":null,\"health_detail\":null,"
                       "\"cpu_pct\":null,\"rss_bytes\":null,\"threads\":null,\"procs\":null,"
                       "\"future_field\":[1,2]}";
    cJSON *in = cJSON_Parse(text), *out;
    hp_job *job = hp_job_from_json(in, &E);

    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(job->status, HP_JOB_TIMED_OUT);
    ck_assert_int_eq(job->has_pid, 0);
    ck_assert_int_eq(job->has_exit_code, 0);
    ck_assert_int_eq(job->has_signal, 1);
    ck_assert_int_eq(job->signal, 9);
    ck_assert_ptr_null(job->service);
    ck_assert_str_eq(job->error, "timed out");
    out = hp_job_to_json(job);
    cJSON_DeleteItemFromObject(in, "future_field");
    ck_assert(cJSON_Compare(in, out, 1));
    cJSON_Delete(out);
    hp_job_free(job);
    cJSON_ReplaceItemInObject(in, "status", cJSON_CreateString("exploded"));
    ck_assert_ptr_null(hp_job_from_json(in, &E));
    ck_assert_int_eq(E.code, HP_E_PROTOCOL);
    ck_assert_msg(strstr(E.message, "'status'") != NULL, "%s", E.message);
    cJSON_Delete(in);
}
END_TEST

START_TEST(run_parse_reads_actions_round_trips_and_refuses_a_malformed_array)
{
    const char *base = "{\"id\":9,\"name\":\"r\",\"service\":null,\"status\":\"succeeded\","
                       "\"created_at_ms\":1,\"started_at_ms\":2,\"ended_at_ms\":3,"
                       "\"counts\":{\"total\":2,\"pending\":0,\"running\":0,\"succeeded\":2,"
                       "\"failed\":0,\"cancelled\":0,\"skipped\":0}";
    static const char *const bad[] = {
        "5", "[7]", "[{\"name\":\"a\",\"script\":\"x\",\"timeout_secs\":\"soon\"}]",
        "[{\"name\":\"a\",\"script\":\"x\",\"env\":{\"T\":1}}]"};
    char text[512];
    cJSON *in, *out;
    hp_run *run;

    snprintf(text, sizeof(text),
             "%s,\"actions\":[{\"name\":\"b\",\"command\":\"make\",\"depends_on\":[\"a\"]},"
             "{\"name\":\"a\",\"script\":\"echo\",\"env\":{\"T\":\"${secret:X}\"},"
             "\"restart\":\"on_failure\",\"tags\":[\"t\"]}]}",
             base);
    in = cJSON_Parse(text);
    run = hp_run_from_json(in, &E);
    ck_assert_msg(run != NULL, "%s", E.message);
    ck_assert_uint_eq(run->n_actions, 2);
    ck_assert_str_eq(run->actions[0].command, "make");
    ck_assert_str_eq(run->actions[1].env[0].value, "${secret:X}");
    ck_assert_int_eq(run->actions[1].restart, HP_RESTART_ON_FAILURE);
    out = hp_run_to_json(run);
    ck_assert_msg(cJSON_Compare(in, out, 1), "%s", cJSON_PrintUnformatted(out));
    cJSON_Delete(out);
    hp_run_free(run);
    cJSON_Delete(in);

    /* Absent (every answer but run.get) is no actions, and stays absent. */
    snprintf(text, sizeof(text), "%s}", base);
    in = cJSON_Parse(text);
    run = hp_run_from_json(in, &E);
    ck_assert_msg(run != NULL, "%s", E.message);
    ck_assert_ptr_null(run->actions);
    ck_assert_uint_eq(run->n_actions, 0);
    out = hp_run_to_json(run);
    ck_assert_msg(cJSON_Compare(in, out, 1), "%s", cJSON_PrintUnformatted(out));
    cJSON_Delete(out);
    hp_run_free(run);
    cJSON_Delete(in);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "%s,\"actions\":%s}", base, bad[i]);
        in = cJSON_Parse(text);
        ck_assert_ptr_nonnull(in);
        ck_assert_msg(hp_run_from_json(in, &E) == NULL, "accepted %s", bad[i]);
        ck_assert_int_eq(E.code, HP_E_PROTOCOL);
        ck_assert_msg(strncmp(E.message, "malformed run from the server: ", 31) == 0, "%s",
                      E.message);
        cJSON_Delete(in);
    }
}
END_TEST

START_TEST(info_parse_reads_the_store_health_and_defaults_it_to_ok_when_absent)
{
    const char *base = "{\"version\":\"1\",\"pid\":7,\"started_at_ms\":1,\"uptime_ms\":2,"
                       "\"rev\":3,\"data_dir\":\"/d\",\"socket\":null,\"counts\":{\"services\":0,"
                       "\"runs\":0,\"jobs\":0,\"running_jobs\":0,\"secrets\":0,\"log_lines\":0},"
                       "\"dropped_log_lines\":0";
    char text[768];
    cJSON *in, *out;
    hp_system_info *info;

    /* Failing: every member read, and written back the same. */
    snprintf(text, sizeof(text),
             "%s,\"store\":{\"ok\":false,\"error\":\"database is locked\",\"since_ms\":5,"
             "\"failures\":4,\"pending\":3,\"dropped_lines\":2,\"dropped_writes\":1}}",
             base);
    in = cJSON_Parse(text);
    info = hp_system_info_from_json(in, &E);
    ck_assert_msg(info != NULL, "%s", E.message);
    ck_assert_int_eq(info->store_known, 1);
    ck_assert_int_eq(info->store.ok, 0);
    ck_assert_str_eq(info->store.error, "database is locked");
    ck_assert_int_eq(info->store.since_ms, 5);
    ck_assert_int_eq(info->store.failures, 4);
    ck_assert_int_eq(info->store.pending, 3);
    ck_assert_int_eq(info->store.dropped_lines, 2);
    ck_assert_int_eq(info->store.dropped_writes, 1);
    out = hp_system_info_to_json(info);
    ck_assert_msg(cJSON_Compare(in, out, 1), "%s", cJSON_PrintUnformatted(out));
    cJSON_Delete(out);
    hp_system_info_free(info);
    cJSON_Delete(in);

    /* Ok: error is null. */
    snprintf(text, sizeof(text),
             "%s,\"store\":{\"ok\":true,\"error\":null,\"since_ms\":5,\"failures\":0,"
             "\"pending\":0,\"dropped_lines\":0,\"dropped_writes\":0}}",
             base);
    in = cJSON_Parse(text);
    info = hp_system_info_from_json(in, &E);
    ck_assert_msg(info != NULL, "%s", E.message);
    ck_assert_int_eq(info->store_known, 1);
    ck_assert_int_eq(info->store.ok, 1);
    ck_assert_ptr_null(info->store.error);
    out = hp_system_info_to_json(info);
    ck_assert_msg(cJSON_Compare(in, out, 1), "%s", cJSON_PrintUnformatted(out));
    cJSON_Delete(out);
    hp_system_info_free(info);
    cJSON_Delete(in);

    /* An older server sends no store: taken as ok, and it stays absent. */
    snprintf(text, sizeof(text), "%s}", base);
    in = cJSON_Parse(text);
    info = hp_system_info_from_json(in, &E);
    ck_assert_msg(info != NULL, "%s", E.message);
    ck_assert_int_eq(info->store_known, 0);
    ck_assert_int_eq(info->store.ok, 1);
    ck_assert_ptr_null(info->store.error);
    out = hp_system_info_to_json(info);
    ck_assert_msg(cJSON_Compare(in, out, 1), "%s", cJSON_PrintUnformatted(out));
    cJSON_Delete(out);
    hp_system_info_free(info);
    cJSON_Delete(in);

    /* A store of the wrong shape is the server's fault, named. */
    snprintf(text, sizeof(text), "%s,\"store\":{\"ok\":\"no\"}}", base);
    in = cJSON_Parse(text);
    ck_assert_ptr_null(hp_system_info_from_json(in, &E));
    ck_assert_int_eq(E.code, HP_E_PROTOCOL);
    ck_assert_msg(strstr(E.message, "'ok'") != NULL, "%s", E.message);
    cJSON_Delete(in);
}
END_TEST

/* ---- endpoint discovery ---------------------------------------------------------------- */

static const char *const env_names[] = {"HERO_PROC_SOCKET", "HERO_PROC_URL",   "HERO_PROC_TOKEN",
                                        "PATH_SOCKET",      "HERO_SOCKET_DIR", "HOME"};
static char *saved_env[6];

static void env_save(void)
{
    for (size_t i = 0; i < 6; i++) {
        const char *v = getenv(env_names[i]);
        saved_env[i] = v ? strdup(v) : NULL;
        unsetenv(env_names[i]);
    }
}

static void env_restore(void)
{
    for (size_t i = 0; i < 6; i++) {
        if (saved_env[i])
            setenv(env_names[i], saved_env[i], 1);
        else
            unsetenv(env_names[i]);
        free(saved_env[i]);
        saved_env[i] = NULL;
    }
}

static void expect_endpoint(const char *sock_flag, const char *url_flag, const char *socket_path,
                            const char *url, const char *token, const char *source)
{
    hp_endpoint ep;

    MUST(hp_endpoint_resolve(sock_flag, url_flag, &ep, &E));
    if (socket_path)
        ck_assert_str_eq(ep.socket_path, socket_path);
    else
        ck_assert_ptr_null(ep.socket_path);
    if (url)
        ck_assert_str_eq(ep.url, url);
    else
        ck_assert_ptr_null(ep.url);
    if (token)
        ck_assert_str_eq(ep.token, token);
    else
        ck_assert_ptr_null(ep.token);
    ck_assert_str_eq(ep.source, source);
    hp_endpoint_clear(&ep);
}

START_TEST(endpoint_flags_then_environment_then_default_paths)
{
    hp_endpoint ep;

    env_save();
    setenv("HOME", "/home/u", 1);
    expect_endpoint(NULL, NULL, "/home/u/hero/var/sockets/hero_proc/rpc.sock", NULL, NULL, "HOME");
    setenv("HERO_SOCKET_DIR", "/run/hero", 1);
    expect_endpoint(NULL, NULL, "/run/hero/hero_proc/rpc.sock", NULL, NULL, "HERO_SOCKET_DIR");
    setenv("PATH_SOCKET", "/ps", 1);
    expect_endpoint(NULL, NULL, "/ps/hero_proc/rpc.sock", NULL, NULL, "PATH_SOCKET");
    setenv("HERO_PROC_URL", "http://127.0.0.1:8000", 1);
    setenv("HERO_PROC_TOKEN", "tok", 1);
    expect_endpoint(NULL, NULL, NULL, "http://127.0.0.1:8000", "tok", "HERO_PROC_URL");
    setenv("HERO_PROC_SOCKET", "/env.sock", 1);
    expect_endpoint(NULL, NULL, "/env.sock", NULL, NULL, "HERO_PROC_SOCKET");
    expect_endpoint(NULL, "http://h:1", NULL, "http://h:1", "tok", "--url");
    expect_endpoint("/flag.sock", NULL, "/flag.sock", NULL, NULL, "--socket");
    expect_endpoint("", NULL, "/env.sock", NULL, NULL, "HERO_PROC_SOCKET");
    ck_assert_int_eq(hp_endpoint_resolve("/a", "http://b", &ep, &E), HP_E_USAGE);
    ck_assert_ptr_null(ep.socket_path);
    env_restore();
}
END_TEST

static Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    TCase *live = tcase_create("live"), *fake = tcase_create("fake"), *pure = tcase_create("pure");

    tcase_add_checked_fixture(live, hpt_setup, hpt_teardown);
    tcase_set_timeout(live, 60);
    tcase_add_test(live, ping_answers_the_server_version);
    tcase_add_test(live, info_reports_the_servers_pid_socket_and_data_dir);
    tcase_add_test(live, discover_returns_the_openrpc_document_with_all_33_methods);
    tcase_add_test(live, services_put_then_get_returns_the_same_config);
    tcase_add_test(live, services_get_of_an_unknown_service_is_not_found_naming_it);
    tcase_add_test(live, services_put_of_an_invalid_config_lists_every_problem);
    tcase_add_test(live, services_list_answers_unchanged_for_the_current_rev);
    tcase_add_test(live, services_start_status_restart_stop_and_delete_drive_a_live_service);
    tcase_add_test(live, runs_submit_wait_get_list_and_delete);
    tcase_add_test(live, runs_get_gives_the_runs_actions_for_a_rerun);
    tcase_add_test(live, runs_wait_times_out_on_a_running_run_and_cancel_ends_it);
    tcase_add_test(live, jobs_list_get_logs_and_cancel);
    tcase_add_test(live, jobs_logs_page_backwards_and_search_find_old_lines);
    tcase_add_test(live, logs_insert_then_tail_returns_the_lines_in_order);
    tcase_add_test(live, secrets_set_get_list_and_delete_and_list_never_shows_values);
    tcase_add_test(live, batch_answers_each_call_with_its_own_result_or_error);
    tcase_add_test(live, raw_call_reaches_any_method);
    tcase_add_test(live, http_with_the_token_works_and_without_it_is_unauthorized);
    suite_add_tcase(s, live);

    tcase_add_checked_fixture(fake, hp_test_tmpdir_setup, hp_test_tmpdir_teardown);
    tcase_set_timeout(fake, 30);
    tcase_add_test(fake, missing_socket_error_names_the_path);
    tcase_add_test(fake, a_call_waits_for_a_server_coming_back_unless_told_not_to);
    tcase_add_test(fake, socket_nobody_listens_on_is_connection_refused);
    tcase_add_test(fake, request_is_a_json_rpc_2_post_to_rpc);
    tcase_add_test(fake, ids_increase_per_client_on_one_kept_alive_connection);
    tcase_add_test(fake, truncated_json_reply_is_a_protocol_error);
    tcase_add_test(fake, reply_cut_short_of_its_content_length_is_a_protocol_error);
    tcase_add_test(fake, reply_with_a_wrong_id_is_a_protocol_error);
    tcase_add_test(fake, reply_with_both_result_and_error_is_a_protocol_error);
    tcase_add_test(fake, reply_without_jsonrpc_version_or_with_a_bad_result_is_a_protocol_error);
    tcase_add_test(fake, reply_over_the_size_cap_is_refused);
    tcase_add_test(fake, http_500_is_an_http_error_with_the_status);
    tcase_add_test(fake, reply_slower_than_the_timeout_is_a_timeout);
    suite_add_tcase(s, fake);

    tcase_add_test(pure, new_refuses_both_or_neither_endpoint);
    tcase_add_test(pure, error_codes_map_to_statuses_and_problems_join_the_message);
    tcase_add_test(pure, error_details_are_read_as_problem_records);
    tcase_add_test(pure, job_parse_defaults_nulls_ignores_unknown_fields_and_round_trips);
    tcase_add_test(pure, run_parse_reads_actions_round_trips_and_refuses_a_malformed_array);
    tcase_add_test(pure, info_parse_reads_the_store_health_and_defaults_it_to_ok_when_absent);
    tcase_add_test(pure, endpoint_flags_then_environment_then_default_paths);
    suite_add_tcase(s, pure);
    return s;
}

int main(void)
{
    return hp_test_run(client_suite());
}
