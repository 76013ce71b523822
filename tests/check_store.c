/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite store: a private file, services, runs and jobs that come back intact after
 * a restart, secrets that never leak through lists, and the log with its cursors, dotted
 * tails and caps. Every test opens a store in its own temporary directory. */
#include "config.h"

#include "check_common.h"
#include "server/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------------- */

static hpd_store *open_store(int64_t log_bytes_per_job, int64_t log_bytes)
{
    hpd_store_limits limits = {.log_bytes_per_job = log_bytes_per_job, .log_bytes = log_bytes};
    hp_error err = {0};
    hpd_store *st = hpd_store_open(hp_test_tmpdir(), &limits, &err);

    ck_assert_msg(st != NULL, "open: %s", err.message);
    return st;
}

static char **str_list(const char *a, const char *b)
{
    char **v = calloc(2, sizeof(*v));

    ck_assert_ptr_nonnull(v);
    v[0] = strdup(a);
    v[1] = b ? strdup(b) : NULL;
    return v;
}

/* Two actions with every field of an ActionSpec set to something other than its default. */
static hp_action_spec *sample_actions(size_t *n)
{
    hp_action_spec *a = calloc(2, sizeof(*a));

    ck_assert_ptr_nonnull(a);
    a[0].name = strdup("build");
    a[0].script = strdup("make -j4\necho done");
    a[0].interpreter = strdup("/bin/bash");
    a[0].cwd = strdup("/srv/app");
    a[0].env = calloc(2, sizeof(*a[0].env));
    a[0].env[0].key = strdup("TOKEN");
    a[0].env[0].value = strdup("${secret:GH}");
    a[0].env[1].key = strdup("MODE");
    a[0].env[1].value = strdup("release");
    a[0].n_env = 2;
    a[0].timeout_secs = 90;
    a[0].retry = 3;
    a[0].retry_delay_ms = 1500;
    a[0].restart = HP_RESTART_ON_FAILURE;
    a[0].tags = str_list("ci", "fast");
    a[0].n_tags = 2;

    a[1].name = strdup("serve");
    a[1].command = strdup("./server --port 8080 'quoted arg'");
    a[1].depends_on = str_list("build", NULL);
    a[1].n_depends_on = 1;
    a[1].restart = HP_RESTART_ALWAYS;
    *n = 2;
    return a;
}

static char *actions_json(const hp_action_spec *a, size_t n)
{
    cJSON *array = cJSON_CreateArray();
    char *text;

    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(array, hp_action_spec_to_json(&a[i]));
    text = cJSON_PrintUnformatted(array);
    cJSON_Delete(array);
    return text;
}

static char *config_json(const hp_service_config *c)
{
    cJSON *json = hp_service_config_to_json(c);
    char *text = cJSON_PrintUnformatted(json);

    cJSON_Delete(json);
    return text;
}

/* What hpd_store_load handed over, copied out of the callbacks. */
typedef struct loaded {
    int n_services, n_runs, n_jobs;
    char *svc_name, *svc_config;
    hpd_service svc; /* scalars only */
    int64_t run_ids[8];
    char *run_name, *run_service, *run_actions;
    hpd_run run; /* scalars of the first run */
    hpd_job jobs[8];
    int64_t job_run_ids[8];
    char *job_errors[8];
} loaded;

static void on_service(void *ctx, const hpd_service *svc)
{
    loaded *l = ctx;

    if (l->n_services++ == 0) {
        l->svc_name = strdup(svc->config.name);
        l->svc_config = config_json(&svc->config);
        l->svc = *svc;
        memset(&l->svc.config, 0, sizeof(l->svc.config));
    }
}

static void on_run(void *ctx, const hpd_run *run)
{
    loaded *l = ctx;

    ck_assert_ptr_null(run->jobs);
    if (l->n_runs < 8)
        l->run_ids[l->n_runs] = run->id;
    if (l->n_runs++ == 0) {
        l->run_name = strdup(run->name);
        l->run_service = run->service ? strdup(run->service) : NULL;
        l->run_actions = actions_json(run->actions, run->n_actions);
        l->run = *run;
        l->run.name = l->run.service = NULL;
        l->run.actions = NULL;
    }
}

static void on_job(void *ctx, int64_t run_id, const hpd_job *job)
{
    loaded *l = ctx;

    ck_assert_ptr_null(job->run);
    if (l->n_jobs < 8) {
        l->jobs[l->n_jobs] = *job;
        l->jobs[l->n_jobs].error = NULL;
        l->job_errors[l->n_jobs] = job->error ? strdup(job->error) : NULL;
        l->job_run_ids[l->n_jobs] = run_id;
    }
    l->n_jobs++;
}

static void load_all(hpd_store *st, loaded *l)
{
    hp_error err = {0};

    memset(l, 0, sizeof(*l));
    ck_assert_msg(hpd_store_load(st, l, on_service, on_run, on_job, &err) == 0, "load: %s",
                  err.message);
}

static void loaded_free(loaded *l)
{
    free(l->svc_name);
    free(l->svc_config);
    free(l->run_name);
    free(l->run_service);
    free(l->run_actions);
    for (int i = 0; i < 8; i++)
        free(l->job_errors[i]);
}

/* A run with the sample actions and one job per action, saved. Caller frees. */
typedef struct fixture_run {
    hpd_run run;
    hpd_job jobs[2];
    hpd_job *job_ptrs[2];
} fixture_run;

static void make_run(fixture_run *f, int64_t id, const char *service)
{
    memset(f, 0, sizeof(*f));
    f->run.id = id;
    f->run.name = strdup(service ? service : "adhoc");
    f->run.service = service ? strdup(service) : NULL;
    f->run.status = HPD_RUN_RUNNING;
    f->run.created_at_ms = 1700000000000 + id;
    f->run.started_at_ms = 1700000000100 + id;
    f->run.actions = sample_actions(&f->run.n_actions);
    f->run.jobs = f->job_ptrs;
    for (int i = 0; i < 2; i++) {
        f->jobs[i].id = id * 10 + i;
        f->jobs[i].run = &f->run;
        f->jobs[i].index = (size_t)i;
        f->jobs[i].pidfd = -1;
        f->job_ptrs[i] = &f->jobs[i];
    }
}

static void save_run(hpd_store *st, const fixture_run *f)
{
    hp_error err = {0};

    ck_assert_msg(hpd_store_put_run(st, &f->run, &err) == 0, "put_run: %s", err.message);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(hpd_store_put_job(st, &f->jobs[i], &err) == 0, "put_job: %s", err.message);
}

static void free_run(fixture_run *f)
{
    free(f->run.name);
    free(f->run.service);
    hp_actions_free(f->run.actions, f->run.n_actions);
    for (int i = 0; i < 2; i++)
        free(f->jobs[i].error);
}

static int64_t append(hpd_store *st, const char *src, int64_t job_id, int attempt, const char *line)
{
    int64_t seq =
        hpd_store_log_append(st, 1000, src, job_id, attempt, HPD_STDOUT, line, strlen(line));

    ck_assert_int_gt(seq, 0);
    return seq;
}

static void flush(hpd_store *st)
{
    hp_error err = {0};

    ck_assert_msg(hpd_store_log_flush(st, &err) == 0, "flush: %s", err.message);
}

/* o as a client reads it: printed and parsed again (the daemon writes integers as raw
 * text, which only printing turns into numbers). Takes o. */
static cJSON *wire(cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON *parsed = text ? cJSON_Parse(text) : NULL;

    ck_assert_ptr_nonnull(parsed);
    free(text);
    cJSON_Delete(o);
    return parsed;
}

static cJSON *job_logs(hpd_store *st, int64_t job_id, int64_t after, int limit, int attempt,
                       int64_t *next)
{
    hp_error err = {0};
    cJSON *a = hpd_store_job_logs(st, job_id, after, limit, attempt, next, &err);

    ck_assert_msg(a != NULL, "job_logs: %s", err.message);
    return wire(a);
}

static cJSON *tail(hpd_store *st, const char *src, int64_t after, int limit, int64_t *next)
{
    hp_error err = {0};
    cJSON *a = hpd_store_tail_logs(st, src, after, limit, next, &err);

    ck_assert_msg(a != NULL, "tail: %s", err.message);
    return wire(a);
}

/* The "line" fields of a page joined with ',' (caller frees). */
static char *lines_of(const cJSON *array)
{
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    const cJSON *row;

    ck_assert_ptr_nonnull(out);
    cJSON_ArrayForEach (row, array) {
        const char *line = cJSON_GetStringValue(cJSON_GetObjectItem(row, "line"));
        size_t n = strlen(line);

        ck_assert(len + n + 2 < cap);
        if (len)
            out[len++] = ',';
        memcpy(out + len, line, n + 1);
        len += n;
    }
    return out;
}

static void assert_lines(cJSON *page, const char *expected)
{
    char *got = lines_of(page);

    ck_assert_str_eq(got, expected);
    free(got);
    cJSON_Delete(page);
}

static mode_t file_mode(const char *name)
{
    char *path = hp_test_join(hp_test_tmpdir(), name);
    struct stat sb;
    int rc = stat(path, &sb);

    free(path);
    return rc == 0 ? (sb.st_mode & 07777) : (mode_t)-1;
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(store_creates_a_database_only_its_owner_can_read)
{
    hpd_store *st = open_store(0, 0);
    hp_error err = {0};

    ck_assert_int_eq(hpd_store_secret_set(st, "K", "v", 1, NULL, &err), 0);
    ck_assert_int_eq(file_mode("hero_proc.db"), 0600);
    ck_assert_int_eq(file_mode("hero_proc.db-wal"), 0600);
    ck_assert_int_eq(file_mode("hero_proc.db-shm"), 0600);
    hpd_store_close(st);
}
END_TEST

START_TEST(store_makes_an_existing_readable_database_private)
{
    char *path = hp_test_join(hp_test_tmpdir(), "hero_proc.db");

    hpd_store_close(open_store(0, 0));
    ck_assert_int_eq(chmod(path, 0644), 0);
    hpd_store_close(open_store(0, 0));
    ck_assert_int_eq(file_mode("hero_proc.db"), 0600);
    free(path);
}
END_TEST

START_TEST(store_open_names_the_file_it_cannot_open)
{
    char *dir = hp_test_join(hp_test_tmpdir(), "missing");
    hp_error err = {0};

    ck_assert_ptr_null(hpd_store_open(dir, NULL, &err));
    ck_assert_int_eq(err.code, HP_E_SYSTEM);
    ck_assert_msg(strstr(err.message, "store: cannot open ") && strstr(err.message, dir) &&
                      strstr(err.message, "hero_proc.db"),
                  "message: %s", err.message);
    free(dir);
}
END_TEST

START_TEST(service_run_and_jobs_come_back_intact_after_a_restart)
{
    hpd_store *st = open_store(0, 0);
    hp_error err = {0};
    hpd_service svc;
    fixture_run f;
    char *want_config, *want_actions;
    loaded l;

    memset(&svc, 0, sizeof(svc));
    svc.config.name = strdup("web");
    svc.config.description = strdup("the web site");
    svc.config.actions = sample_actions(&svc.config.n_actions);
    svc.config.wanted_start = 1;
    svc.wanted_start = 1;
    svc.created_at_ms = 1700000000001;
    svc.updated_at_ms = 1700000000002;
    svc.run_id = 5;
    svc.restarts = 4;
    ck_assert_msg(hpd_store_put_service(st, &svc, &err) == 0, "%s", err.message);

    make_run(&f, 5, "web");
    f.run.status = HPD_RUN_FAILED;
    f.run.ended_at_ms = 1700000009999;
    f.run.cancelling = 1;
    f.jobs[0].status = HPD_JOB_FAILED;
    f.jobs[0].attempt = 3;
    f.jobs[0].restarts = 2;
    f.jobs[0].pid = 4242;
    f.jobs[0].pid_start = 123456789012ULL;
    f.jobs[0].has_exit = 1;
    f.jobs[0].exit_code = 2;
    f.jobs[0].signal = 9;
    f.jobs[0].started_at_ms = 1700000001000;
    f.jobs[0].ended_at_ms = 1700000002000;
    f.jobs[0].error = strdup("exited with code 2");
    f.jobs[0].crash_loop = 1;
    f.jobs[0].retry_at_ms = 1700000006000;
    f.jobs[0].backoff_ms = 4000;
    f.jobs[0].quick_failures = 3;
    f.jobs[1].status = HPD_JOB_SKIPPED;
    save_run(st, &f);
    hpd_store_close(st);

    st = open_store(0, 0);
    load_all(st, &l);
    ck_assert_int_eq(l.n_services, 1);
    ck_assert_str_eq(l.svc_name, "web");
    want_config = config_json(&svc.config);
    ck_assert_str_eq(l.svc_config, want_config);
    ck_assert_int_eq(l.svc.wanted_start, 1);
    ck_assert_int_eq(l.svc.created_at_ms, 1700000000001);
    ck_assert_int_eq(l.svc.updated_at_ms, 1700000000002);
    ck_assert_int_eq(l.svc.run_id, 5);
    ck_assert_int_eq(l.svc.restarts, 4);

    ck_assert_int_eq(l.n_runs, 1);
    ck_assert_int_eq(l.run.id, 5);
    ck_assert_str_eq(l.run_name, "web");
    ck_assert_str_eq(l.run_service, "web");
    ck_assert_int_eq(l.run.status, HPD_RUN_FAILED);
    ck_assert_int_eq(l.run.created_at_ms, 1700000000005);
    ck_assert_int_eq(l.run.started_at_ms, 1700000000105);
    ck_assert_int_eq(l.run.ended_at_ms, 1700000009999);
    ck_assert_int_eq(l.run.cancelling, 1);
    ck_assert_uint_eq(l.run.n_actions, 2);
    want_actions = actions_json(f.run.actions, f.run.n_actions);
    ck_assert_str_eq(l.run_actions, want_actions);

    ck_assert_int_eq(l.n_jobs, 2);
    ck_assert_int_eq(l.jobs[0].id, 50);
    ck_assert_int_eq(l.job_run_ids[0], 5);
    ck_assert_uint_eq(l.jobs[0].index, 0);
    ck_assert_int_eq(l.jobs[0].status, HPD_JOB_FAILED);
    ck_assert_int_eq(l.jobs[0].attempt, 3);
    ck_assert_int_eq(l.jobs[0].restarts, 2);
    ck_assert_int_eq(l.jobs[0].pid, 4242);
    ck_assert(l.jobs[0].pid_start == 123456789012ULL);
    ck_assert_int_eq(l.jobs[0].has_exit, 1);
    ck_assert_int_eq(l.jobs[0].exit_code, 2);
    ck_assert_int_eq(l.jobs[0].signal, 9);
    ck_assert_int_eq(l.jobs[0].started_at_ms, 1700000001000);
    ck_assert_int_eq(l.jobs[0].ended_at_ms, 1700000002000);
    ck_assert_str_eq(l.job_errors[0], "exited with code 2");
    ck_assert_int_eq(l.jobs[0].crash_loop, 1);
    ck_assert_int_eq(l.jobs[0].retry_at_ms, 1700000006000);
    ck_assert_uint_eq(l.jobs[0].backoff_ms, 4000);
    ck_assert_int_eq(l.jobs[0].quick_failures, 3);
    ck_assert_int_eq(l.jobs[0].pidfd, -1);
    ck_assert_int_eq(l.jobs[0].out[0].fd, -1);
    ck_assert_int_eq(l.jobs[0].out[1].fd, -1);
    ck_assert_int_eq(l.jobs[1].id, 51);
    ck_assert_uint_eq(l.jobs[1].index, 1);
    ck_assert_int_eq(l.jobs[1].status, HPD_JOB_SKIPPED);
    ck_assert_ptr_null(l.job_errors[1]);

    free(want_config);
    free(want_actions);
    loaded_free(&l);
    free_run(&f);
    hp_service_config_free(&svc.config);
    hpd_store_close(st);
}
END_TEST

START_TEST(saving_a_run_again_updates_its_state_and_keeps_its_actions)
{
    hpd_store *st = open_store(0, 0);
    fixture_run f;
    char *want;
    loaded l;

    make_run(&f, 3, NULL);
    save_run(st, &f);
    f.run.status = HPD_RUN_SUCCEEDED;
    f.run.ended_at_ms = 99;
    f.jobs[1].status = HPD_JOB_SUCCEEDED;
    save_run(st, &f);
    load_all(st, &l);
    ck_assert_int_eq(l.n_runs, 1);
    ck_assert_int_eq(l.n_jobs, 2);
    ck_assert_int_eq(l.run.status, HPD_RUN_SUCCEEDED);
    ck_assert_int_eq(l.run.ended_at_ms, 99);
    ck_assert_ptr_null(l.run_service);
    ck_assert_int_eq(l.jobs[1].status, HPD_JOB_SUCCEEDED);
    want = actions_json(f.run.actions, f.run.n_actions);
    ck_assert_str_eq(l.run_actions, want);
    free(want);
    loaded_free(&l);
    free_run(&f);
    hpd_store_close(st);
}
END_TEST

/* Earlier versions stored fields they did not know; the daemon must still start on
 * such a store, though a request with them is refused now. */
START_TEST(a_stored_config_with_fields_unknown_today_still_loads)
{
    hpd_store *st = open_store(0, 0);
    hp_error err = {0};
    hpd_service svc;
    fixture_run f;
    sqlite3 *db;
    char *path = hp_test_join(hp_test_tmpdir(), "hero_proc.db");
    loaded l;

    memset(&svc, 0, sizeof(svc));
    svc.config.name = strdup("old");
    svc.config.actions = sample_actions(&svc.config.n_actions);
    ck_assert_msg(hpd_store_put_service(st, &svc, &err) == 0, "%s", err.message);
    make_run(&f, 5, "old");
    save_run(st, &f);
    hpd_store_close(st);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "UPDATE services SET config = json_set(config, '$.bogus', 1,"
                     " '$.actions[0].timeout_sec', 1);"
                     "UPDATE runs SET actions = json_set(actions, '$[0].scirpt', 'x');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    st = open_store(0, 0);
    load_all(st, &l);
    ck_assert_str_eq(l.svc_name, "old");
    ck_assert_int_eq(l.n_runs, 1);
    loaded_free(&l);
    hpd_store_close(st);
    hp_service_config_free(&svc.config);
    free_run(&f);
    free(path);
}
END_TEST

START_TEST(deleting_a_service_removes_only_that_service)
{
    hpd_store *st = open_store(0, 0);
    hp_error err = {0};
    hpd_service svc;
    loaded l;

    memset(&svc, 0, sizeof(svc));
    svc.config.name = strdup("a");
    svc.config.actions = sample_actions(&svc.config.n_actions);
    ck_assert_int_eq(hpd_store_put_service(st, &svc, &err), 0);
    free(svc.config.name);
    svc.config.name = strdup("b");
    ck_assert_int_eq(hpd_store_put_service(st, &svc, &err), 0);
    svc.restarts = 7;
    ck_assert_int_eq(hpd_store_put_service(st, &svc, &err), 0);
    ck_assert_int_eq(hpd_store_delete_service(st, "a", &err), 0);
    load_all(st, &l);
    ck_assert_int_eq(l.n_services, 1);
    ck_assert_str_eq(l.svc_name, "b");
    ck_assert_int_eq(l.svc.restarts, 7);
    loaded_free(&l);
    hp_service_config_free(&svc.config);
    hpd_store_close(st);
}
END_TEST

START_TEST(deleting_a_run_removes_its_jobs_and_their_log_lines)
{
    hpd_store *st = open_store(0, 0);
    hp_error err = {0};
    fixture_run a, b;
    int64_t next;
    loaded l;

    make_run(&a, 1, NULL);
    make_run(&b, 2, NULL);
    save_run(st, &a);
    save_run(st, &b);
    append(st, "run.1.build", 10, 1, "a0");
    append(st, "run.1.serve", 11, 1, "a1");
    append(st, "run.2.build", 20, 1, "b0");
    flush(st);
    append(st, "run.1.build", 10, 1, "a2"); /* still pending at the delete */
    ck_assert_int_eq(hpd_store_log_count(st), 4);

    ck_assert_msg(hpd_store_delete_run(st, 1, &err) == 0, "%s", err.message);
    ck_assert_int_eq(hpd_store_log_count(st), 1);
    load_all(st, &l);
    ck_assert_int_eq(l.n_runs, 1);
    ck_assert_int_eq(l.run_ids[0], 2);
    ck_assert_int_eq(l.n_jobs, 2);
    ck_assert_int_eq(l.jobs[0].id, 20);
    loaded_free(&l);
    assert_lines(job_logs(st, 10, 0, 100, 0, &next), "");
    assert_lines(tail(st, "", 0, 100, &next), "b0");
    hpd_store_close(st);

    st = open_store(0, 0);
    ck_assert_int_eq(hpd_store_log_count(st), 1);
    free_run(&a);
    free_run(&b);
    hpd_store_close(st);
}
END_TEST

START_TEST(secrets_are_set_read_listed_without_values_and_deleted)
{
    hpd_store *st = open_store(0, 0);
    hp_error err = {0};
    int64_t created = 0, updated = 0;
    char *value = NULL;
    cJSON *list;

    ck_assert_int_eq(hpd_store_secret_set(st, "GH", "ghp_123", 100, &created, &err), 0);
    ck_assert_int_eq(created, 100);
    ck_assert_int_eq(hpd_store_secret_set(st, "AWS", "AKIA", 200, NULL, &err), 0);
    ck_assert_int_eq(hpd_store_secret_count(st), 2);

    ck_assert_int_eq(hpd_store_secret_get(st, "GH", &value, &created, &updated, &err), 1);
    ck_assert_str_eq(value, "ghp_123");
    ck_assert_int_eq(created, 100);
    ck_assert_int_eq(updated, 100);
    free(value);
    ck_assert_int_eq(hpd_store_secret_get(st, "NOPE", &value, NULL, NULL, &err), 0);
    ck_assert_ptr_null(value);

    list = hpd_store_secret_list(st, &err);
    ck_assert_ptr_nonnull(list);
    list = wire(list);
    ck_assert_int_eq(cJSON_GetArraySize(list), 2);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "name")),
                     "AWS");
    ck_assert_int_eq((int)cJSON_GetNumberValue(
                         cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "created_at_ms")),
                     100);
    for (int i = 0; i < 2; i++)
        ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(list, i), "value"));
    {
        char *text = cJSON_PrintUnformatted(list);

        ck_assert_ptr_null(strstr(text, "ghp_123"));
        ck_assert_ptr_null(strstr(text, "AKIA"));
        free(text);
    }
    cJSON_Delete(list);

    ck_assert_int_eq(hpd_store_secret_delete(st, "GH", &err), 1);
    ck_assert_int_eq(hpd_store_secret_delete(st, "GH", &err), 0);
    ck_assert_int_eq(hpd_store_secret_get(st, "GH", &value, NULL, NULL, &err), 0);
    ck_assert_int_eq(hpd_store_secret_count(st), 1);
    hpd_store_close(st);
}
END_TEST

START_TEST(setting_a_secret_again_keeps_its_creation_time)
{
    hpd_store *st = open_store(0, 0);
    hp_error err = {0};
    int64_t created = 0, updated = 0;
    char *value = NULL;

    ck_assert_int_eq(hpd_store_secret_set(st, "GH", "old", 100, &created, &err), 0);
    ck_assert_int_eq(hpd_store_secret_set(st, "GH", "new", 500, &created, &err), 0);
    ck_assert_int_eq(created, 100);
    hpd_store_close(st);
    st = open_store(0, 0);
    ck_assert_int_eq(hpd_store_secret_get(st, "GH", &value, &created, &updated, &err), 1);
    ck_assert_str_eq(value, "new");
    ck_assert_int_eq(created, 100);
    ck_assert_int_eq(updated, 500);
    free(value);
    hpd_store_close(st);
}
END_TEST

START_TEST(meta_counters_survive_a_restart)
{
    hpd_store *st = open_store(0, 0);

    ck_assert_int_eq(hpd_store_get_meta(st, "next_run_id", 1), 1);
    ck_assert_int_eq(hpd_store_set_meta(st, "next_run_id", 42), 0);
    hpd_store_close(st);
    st = open_store(0, 0);
    ck_assert_int_eq(hpd_store_get_meta(st, "next_run_id", 1), 42);
    hpd_store_close(st);
}
END_TEST

START_TEST(log_seq_keeps_increasing_across_restarts_even_when_lines_are_gone)
{
    hpd_store *st = open_store(0, 0);
    hp_error err = {0};
    fixture_run f;
    int64_t a, b, c;

    make_run(&f, 1, NULL);
    save_run(st, &f);
    a = append(st, "run.1.build", 10, 1, "one");
    b = append(st, "run.1.build", 10, 1, "two");
    ck_assert_int_gt(b, a);
    hpd_store_close(st); /* close flushes */

    st = open_store(0, 0);
    ck_assert_int_eq(hpd_store_log_count(st), 2);
    ck_assert_int_eq(hpd_store_delete_run(st, 1, &err), 0);
    ck_assert_int_eq(hpd_store_log_count(st), 0);
    hpd_store_close(st);

    st = open_store(0, 0);
    c = append(st, "run.2.x", 0, 0, "three");
    ck_assert_int_gt(c, b);
    free_run(&f);
    hpd_store_close(st);
}
END_TEST

START_TEST(job_logs_page_with_a_cursor_and_a_limit)
{
    hpd_store *st = open_store(0, 0);
    int64_t seq[5], next = -1;
    char line[16];
    cJSON *page, *row;

    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof(line), "l%d", i);
        seq[i] = append(st, "run.1.build", 10, 1, line);
        append(st, "run.1.serve", 11, 1, "other");
    }
    flush(st);
    page = job_logs(st, 10, 0, 2, 0, &next);
    ck_assert_int_eq(next, seq[1]);
    row = cJSON_GetArrayItem(page, 0);
    ck_assert_int_eq((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "seq")), seq[0]);
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "ts_ms")), 1000);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "src")), "run.1.build");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "job_id")), 10);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "stream")), "stdout");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "attempt")), 1);
    assert_lines(page, "l0,l1");
    assert_lines(job_logs(st, 10, next, 2, 0, &next), "l2,l3");
    assert_lines(job_logs(st, 10, next, 2, 0, &next), "l4");
    ck_assert_int_eq(next, seq[4]);
    assert_lines(job_logs(st, 10, next, 2, 0, &next), "");
    ck_assert_int_eq(next, seq[4]);
    hpd_store_close(st);
}
END_TEST

START_TEST(job_logs_can_show_one_attempt)
{
    hpd_store *st = open_store(0, 0);
    int64_t next;

    append(st, "run.1.build", 10, 1, "first try");
    append(st, "run.1.build", 10, 2, "second try");
    append(st, "run.1.build", 10, 2, "second again");
    append(st, "run.1.build", 10, 3, "third try");
    assert_lines(job_logs(st, 10, 0, 100, 2, &next), "second try,second again");
    assert_lines(job_logs(st, 10, 0, 100, 0, &next), "first try,second try,second again,third try");
    hpd_store_close(st);
}
END_TEST

START_TEST(lines_without_a_job_and_system_lines_are_named_on_the_wire)
{
    hpd_store *st = open_store(0, 0);
    int64_t next;
    cJSON *page, *row;

    hpd_store_log_append(st, 5, "ext.feed", 0, 0, HPD_SYSTEM, "spawned pid 12", 14);
    hpd_store_log_append(st, 6, "ext.feed", 0, 0, HPD_STDERR, "oops", 4);
    page = tail(st, "ext", 0, 10, &next);
    ck_assert_int_eq(cJSON_GetArraySize(page), 2);
    row = cJSON_GetArrayItem(page, 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(row, "job_id")));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "stream")), "system");
    row = cJSON_GetArrayItem(page, 1);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "stream")), "stderr");
    cJSON_Delete(page);
    hpd_store_close(st);
}
END_TEST

START_TEST(tail_matches_whole_dotted_segments_only)
{
    hpd_store *st = open_store(0, 0);
    int64_t next;

    append(st, "run.1", 0, 0, "r1");
    append(st, "run.12.build", 120, 1, "r12");
    append(st, "run.1.build", 10, 1, "r1b");
    append(st, "run.1-x.build", 0, 0, "dash");
    append(st, "run.10", 0, 0, "r10");
    append(st, "run.1.serve.sub", 11, 1, "r1s");
    flush(st);
    assert_lines(tail(st, "run.1", 0, 100, &next), "r1,r1b,r1s");
    assert_lines(tail(st, "run.1.build", 0, 100, &next), "r1b");
    assert_lines(tail(st, "run.12", 0, 100, &next), "r12");
    assert_lines(tail(st, "run", 0, 100, &next), "r1,r12,r1b,dash,r10,r1s");
    assert_lines(tail(st, "", 0, 100, &next), "r1,r12,r1b,dash,r10,r1s");
    assert_lines(tail(st, NULL, 0, 100, &next), "r1,r12,r1b,dash,r10,r1s");
    assert_lines(tail(st, "ru", 0, 100, &next), "");
    hpd_store_close(st);
}
END_TEST

START_TEST(tail_without_a_cursor_answers_the_last_lines_oldest_first)
{
    hpd_store *st = open_store(0, 0);
    int64_t next = 0, last = 0;
    char line[16];

    for (int i = 0; i < 10; i++) {
        snprintf(line, sizeof(line), "%d", i);
        last = append(st, i % 2 ? "svc.web.a" : "svc.web.b", 1 + i % 2, 1, line);
        append(st, "svc.db.a", 3, 1, "db");
    }
    assert_lines(tail(st, "svc.web", 0, 3, &next), "7,8,9");
    ck_assert_int_eq(next, last);
    assert_lines(tail(st, "svc.web", 0, 100, &next), "0,1,2,3,4,5,6,7,8,9");
    /* with a cursor: the lines after it, oldest first */
    cJSON_Delete(tail(st, "svc.web", 0, 10, &next));
    assert_lines(tail(st, "svc.web", next, 10, &next), "");
    ck_assert_int_eq(next, last);
    append(st, "svc.web.b", 2, 1, "new1");
    append(st, "svc.db.a", 3, 1, "db");
    append(st, "svc.web.a", 1, 1, "new2");
    append(st, "svc.web.a", 1, 1, "new3");
    assert_lines(tail(st, "svc.web", next, 2, &next), "new1,new2");
    assert_lines(tail(st, "svc.web", next, 2, &next), "new3");
    hpd_store_close(st);
}
END_TEST

START_TEST(tail_over_many_sources_keeps_the_same_answers)
{
    hpd_store *st = open_store(0, 0);
    int64_t next, cursor;
    char src[32], line[16];

    /* More sources under the prefix than the index merge takes: the scan answers. */
    for (int i = 0; i < 300; i++) {
        snprintf(src, sizeof(src), "run.%d.a", i);
        snprintf(line, sizeof(line), "%d", i);
        append(st, src, 0, 0, line);
        append(st, "other.x", 0, 0, "o");
    }
    append(st, "run", 0, 0, "exact");
    assert_lines(tail(st, "run", 0, 3, &next), "298,299,exact");
    cJSON_Delete(tail(st, "run", 0, 4, &cursor));
    append(st, "run.5.b", 0, 0, "late");
    assert_lines(tail(st, "run", cursor - 3, 10, &next), "299,exact,late");
    hpd_store_close(st);
}
END_TEST

START_TEST(pending_lines_are_visible_to_queries)
{
    hpd_store *st = open_store(0, 0);
    int64_t next;

    append(st, "run.1.build", 10, 1, "not flushed yet");
    ck_assert_uint_eq(hpd_store_log_pending(st), 1);
    assert_lines(job_logs(st, 10, 0, 10, 0, &next), "not flushed yet");
    ck_assert_uint_eq(hpd_store_log_pending(st), 1); /* read where it waits, not written */
    append(st, "run.1.build", 10, 1, "again");
    assert_lines(tail(st, "run.1", 0, 10, &next), "not flushed yet,again");
    hpd_store_close(st);
}
END_TEST

/* The number in a line "a<n>" of the cap tests. */
static int line_number(cJSON *row)
{
    return atoi(cJSON_GetStringValue(cJSON_GetObjectItem(row, "line")) + 1);
}

START_TEST(a_job_over_its_byte_cap_loses_its_oldest_lines_and_counts_them)
{
    /* 16 KiB per job: segments of 4 KiB, ~30 lines of 100 bytes each. */
    hpd_store *st = open_store(16 * 1024, 0);
    int64_t next, kept, dropped;
    char line[101];
    cJSON *page;

    for (int i = 0; i < 1000; i++) {
        snprintf(line, sizeof(line), "a%-99d", i);
        append(st, "run.1.a", 10, 1, line);
        if (i < 3)
            append(st, "run.1.b", 11, 1, "b");
        if (i % 50 == 49)
            flush(st);
    }
    flush(st);
    dropped = hpd_store_job_dropped(st, 10);
    kept = hpd_store_log_count(st) - 3;
    ck_assert_int_gt(dropped, 0);
    ck_assert_int_eq(kept + dropped, 1000);
    ck_assert_int_le(kept * 132, 16 * 1024);
    ck_assert_int_ge(kept * 132, 12 * 1024 - 132); /* whole segments: at most one short */
    ck_assert_int_eq(hpd_store_job_dropped(st, 11), 0);
    ck_assert_int_eq(hpd_store_dropped(st), dropped);
    /* what is kept is the newest lines, in order, from the first kept one */
    page = job_logs(st, 10, 0, 10000, 0, &next);
    ck_assert_int_eq(cJSON_GetArraySize(page), kept);
    ck_assert_int_eq(line_number(cJSON_GetArrayItem(page, 0)), dropped);
    ck_assert_int_eq(line_number(cJSON_GetArrayItem(page, (int)kept - 1)), 999);
    cJSON_Delete(page);
    hpd_store_close(st);

    st = open_store(16 * 1024, 0);
    ck_assert_int_eq(hpd_store_job_dropped(st, 10), dropped);
    ck_assert_int_eq(hpd_store_dropped(st), dropped);
    ck_assert_int_eq(hpd_store_log_count(st), kept + 3);
    hpd_store_close(st);
}
END_TEST

START_TEST(the_total_cap_evicts_the_oldest_lines_of_any_job_first)
{
    /* 64 KiB in all: segments of 4 KiB. */
    hpd_store *st = open_store(0, 64 * 1024);
    fixture_run f;
    int64_t next, d10, d11;
    char line[101];
    cJSON *page;
    loaded l;

    make_run(&f, 1, NULL);
    save_run(st, &f);
    for (int i = 0; i < 200; i++) {
        snprintf(line, sizeof(line), "a%-99d", i);
        append(st, "run.1.build", 10, 1, line);
    }
    flush(st);
    ck_assert_int_eq(hpd_store_dropped(st), 0);
    for (int i = 0; i < 400; i++) {
        snprintf(line, sizeof(line), "b%-99d", i);
        append(st, "run.1.serve", 11, 1, line);
        if (i % 50 == 49)
            flush(st);
    }
    flush(st);
    d10 = hpd_store_job_dropped(st, 10);
    d11 = hpd_store_job_dropped(st, 11);
    ck_assert_int_gt(d10, 0);
    ck_assert_int_eq(d11, 0);
    ck_assert_int_eq(hpd_store_dropped(st), d10);
    ck_assert_int_eq(hpd_store_log_count(st) + d10, 600);
    ck_assert_int_le(hpd_store_log_count(st) * 132, 64 * 1024);
    /* the whole log's tail is still whole: the last 400 lines are all of job 11 */
    page = tail(st, "", 0, 400, &next);
    ck_assert_int_eq(cJSON_GetArraySize(page), 400);
    ck_assert_int_eq(line_number(cJSON_GetArrayItem(page, 0)), 0);
    cJSON_Delete(page);
    hpd_store_close(st);

    st = open_store(0, 64 * 1024);
    ck_assert_int_eq(hpd_store_dropped(st), d10);
    load_all(st, &l);
    ck_assert_int_eq(l.jobs[0].dropped, d10);
    ck_assert_int_eq(l.jobs[0].lines, 200 - d10);
    ck_assert_int_eq(l.jobs[1].lines, 400);
    loaded_free(&l);
    free_run(&f);
    hpd_store_close(st);
}
END_TEST

/* A file of schema version 3 has no back-off columns in its jobs: they are added at open
 * (0 for the jobs it had), and the next save keeps them. */
START_TEST(jobs_of_a_version_3_file_get_the_back_off_columns)
{
    hpd_store *st = open_store(0, 0);
    char *path = hp_test_join(hp_test_tmpdir(), "hero_proc.db");
    fixture_run f;
    loaded l = {0}, again = {0};
    hp_error err = {0};
    sqlite3 *db;

    make_run(&f, 2, NULL);
    f.jobs[0].status = HPD_JOB_RETRYING;
    f.jobs[0].restarts = 5;
    save_run(st, &f);
    hpd_store_close(st);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "ALTER TABLE jobs DROP COLUMN retry_at_ms;"
                                  "ALTER TABLE jobs DROP COLUMN backoff_ms;"
                                  "ALTER TABLE jobs DROP COLUMN quick_failures;"
                                  "UPDATE meta SET value = 3 WHERE key = 'schema_version';",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    st = open_store(0, 0);
    ck_assert_int_eq(hpd_store_get_meta(st, "schema_version", 0), 4);
    load_all(st, &l);
    ck_assert_int_eq(l.n_jobs, 2);
    ck_assert_int_eq(l.jobs[0].status, HPD_JOB_RETRYING);
    ck_assert_int_eq(l.jobs[0].restarts, 5);
    ck_assert_int_eq(l.jobs[0].retry_at_ms, 0);
    ck_assert_uint_eq(l.jobs[0].backoff_ms, 0);
    f.jobs[0].retry_at_ms = 1700000003000;
    f.jobs[0].backoff_ms = 2000;
    f.jobs[0].quick_failures = 2;
    ck_assert_msg(hpd_store_put_job(st, &f.jobs[0], &err) == 0, "put_job: %s", err.message);
    hpd_store_close(st);
    st = open_store(0, 0);
    load_all(st, &again);
    ck_assert_int_eq(again.jobs[0].retry_at_ms, 1700000003000);
    ck_assert_uint_eq(again.jobs[0].backoff_ms, 2000);
    ck_assert_int_eq(again.jobs[0].quick_failures, 2);
    loaded_free(&l);
    loaded_free(&again);
    free_run(&f);
    free(path);
    hpd_store_close(st);
}
END_TEST

/* A data dir of schema version 1 kept its log lines in the database: the same tables for
 * the rest, so the test makes one from a saved run plus the old log tables and rows. */
START_TEST(log_rows_of_an_older_release_are_converted_at_open)
{
    hpd_store *st = open_store(0, 0);
    char *path = hp_test_join(hp_test_tmpdir(), "hero_proc.db"), cmd[4200];
    fixture_run f;
    sqlite3 *db;
    int64_t next;

    make_run(&f, 1, NULL);
    save_run(st, &f);
    hpd_store_close(st);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "UPDATE meta SET value = 1 WHERE key = 'schema_version';"
                     "INSERT INTO meta(key, value) VALUES('log_lines', 4), ('log_bytes', 11);"
                     "CREATE TABLE logs(seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
                     " src TEXT NOT NULL, job_id INTEGER NOT NULL, attempt INTEGER NOT NULL,"
                     " stream INTEGER NOT NULL, line TEXT NOT NULL, bytes INTEGER NOT NULL);"
                     "CREATE INDEX logs_job ON logs(job_id, seq);"
                     "CREATE INDEX logs_src ON logs(src, seq);"
                     "CREATE TABLE job_log_counts(job_id INTEGER PRIMARY KEY,"
                     " lines INTEGER NOT NULL, dropped INTEGER NOT NULL);"
                     "INSERT INTO logs VALUES(8, 100, 'run.1.build', 10, 1, 0, 'old one', 7),"
                     " (9, 101, 'run.1.serve', 11, 2, 1, 'old two', 7),"
                     " (12, 102, 'run.1.build', 10, 1, 2, 'old three', 9),"
                     " (13, 103, 'tool', 0, 0, 0, 'from outside', 12);"
                     "INSERT INTO job_log_counts VALUES(10, 2, 7), (11, 1, 0);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/logs'", hp_test_tmpdir());
    ck_assert_int_eq(system(cmd), 0);

    st = open_store(0, 0);
    assert_lines(job_logs(st, 10, 0, 100, 0, &next), "old one,old three");
    ck_assert_int_eq(next, 12);
    assert_lines(job_logs(st, 11, 0, 100, 2, &next), "old two");
    assert_lines(tail(st, "tool", 0, 10, &next), "from outside");
    assert_lines(tail(st, "run.1", 0, 10, &next), "old one,old two,old three");
    ck_assert_int_eq(hpd_store_job_dropped(st, 10), 7);
    ck_assert_int_eq(hpd_store_log_count(st), 4);
    ck_assert_int_eq(hpd_store_get_meta(st, "schema_version", 0), 4);
    ck_assert_int_gt(append(st, "run.1.build", 10, 1, "new"), 13);
    hpd_store_close(st);

    /* The rows are gone from the file; the lines stay, once. */
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_ne(sqlite3_exec(db, "SELECT 1 FROM logs", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    st = open_store(0, 0);
    assert_lines(job_logs(st, 10, 0, 100, 0, &next), "old one,old three,new");
    ck_assert_int_eq(hpd_store_job_dropped(st, 10), 7);
    free_run(&f);
    free(path);
    hpd_store_close(st);
}
END_TEST

static cJSON *search(hpd_store *st, const int64_t *jobs, size_t n, const char *pattern,
                     int substring, int64_t before, int limit, int context, int64_t budget)
{
    hpd_log_search q = {.jobs = jobs,
                        .n_jobs = n,
                        .pattern = pattern,
                        .substring = substring,
                        .before_seq = before,
                        .limit = limit,
                        .context = context,
                        .budget = budget};
    hp_error err = {0};
    cJSON *r = hpd_store_log_search(st, &q, &err);

    ck_assert_msg(r != NULL, "search: %s", err.message);
    return wire(r);
}

/* The "line" of item i of a search's matches, or of its before/after context. */
static const char *match_line(const cJSON *r, int i, const char *part, int k)
{
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "matches"), i);

    if (part)
        m = cJSON_GetArrayItem(cJSON_GetObjectItem(m, part), k);
    else
        m = cJSON_GetObjectItem(m, "line");
    return cJSON_GetStringValue(cJSON_GetObjectItem(m, "line"));
}

START_TEST(search_finds_lines_newest_first_with_context_across_segments)
{
    /* 1 MiB in all: segments of 32 KiB, about 250 lines each, none dropped. */
    hpd_store *st = open_store(0, 1 << 20);
    int64_t jobs[] = {11, 10};
    char line[101];
    cJSON *r;

    for (int i = 0; i < 3000; i++) {
        snprintf(line, sizeof(line), "%s %d %-80s", i % 500 == 7 ? "ERROR at" : "fine", i, "");
        append(st, "run.1.a", 10, 1, line);
        if (i % 100 == 99)
            flush(st);
    }
    append(st, "run.1.b", 11, 1, "ERROR in b");
    flush(st);
    /* job 11 first (as given), then job 10 newest first; context spans segments */
    r = search(st, jobs, 2, "^ERROR", 0, 0, 100, 2, 1LL << 30);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "matches")), 7);
    ck_assert_str_eq(match_line(r, 0, NULL, 0), "ERROR in b");
    ck_assert_int_eq(strncmp(match_line(r, 1, NULL, 0), "ERROR at 2507 ", 14), 0);
    ck_assert_int_eq(strncmp(match_line(r, 6, NULL, 0), "ERROR at 7 ", 11), 0);
    ck_assert_int_eq(strncmp(match_line(r, 1, "before", 0), "fine 2505 ", 10), 0);
    ck_assert_int_eq(strncmp(match_line(r, 1, "before", 1), "fine 2506 ", 10), 0);
    ck_assert_int_eq(strncmp(match_line(r, 1, "after", 0), "fine 2508 ", 10), 0);
    ck_assert_int_eq(strncmp(match_line(r, 1, "after", 1), "fine 2509 ", 10), 0);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "complete")));
    cJSON_Delete(r);

    /* A small budget answers in pages that together find the same lines. */
    {
        int64_t before = 0, from = 10, pages = 0, found = 0;
        for (;;) {
            int64_t one[] = {from};
            r = search(st, one, 1, "ERROR", 1, before, 100, 0, 64 * 1024);
            found += cJSON_GetArraySize(cJSON_GetObjectItem(r, "matches"));
            pages++;
            if (cJSON_IsTrue(cJSON_GetObjectItem(r, "complete"))) {
                cJSON_Delete(r);
                break;
            }
            before = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "next_before_seq"));
            cJSON_Delete(r);
        }
        ck_assert_int_eq(found, 6);
        ck_assert_int_gt(pages, 3);
    }
    /* The limit stops at the last match; the cursor goes on below it. */
    r = search(st, jobs + 1, 1, "ERROR", 1, 0, 2, 1, 1LL << 30);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "matches")), 2);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "complete")));
    {
        int64_t next = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "next_before_seq"));
        cJSON_Delete(r);
        r = search(st, jobs + 1, 1, "ERROR", 1, next, 10, 0, 1LL << 30);
        ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "matches")), 4);
        ck_assert_int_eq(strncmp(match_line(r, 0, NULL, 0), "ERROR at 1507 ", 14), 0);
        cJSON_Delete(r);
    }
    hpd_store_close(st);
}
END_TEST

START_TEST(search_names_a_bad_pattern)
{
    hpd_store *st = open_store(0, 0);
    int64_t job = 10;
    hpd_log_search q = {.jobs = &job, .n_jobs = 1, .pattern = "(unclosed", .limit = 10};
    hp_error err = {0};

    ck_assert_ptr_null(hpd_store_log_search(st, &q, &err));
    ck_assert_int_eq(err.code, HP_E_INVALID);
    ck_assert_msg(strstr(err.message, "pattern: "), "%s", err.message);
    hpd_store_close(st);
}
END_TEST

/* ---- a store that cannot be written ------------------------------------------------ */

/* Another process's write lock on the file, as the sqlite3 shell takes it. */
static sqlite3 *lock_file(void)
{
    char path[4096];
    sqlite3 *db = NULL;

    snprintf(path, sizeof(path), "%s/hero_proc.db", hp_test_tmpdir());
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void unlock_file(sqlite3 *db)
{
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static hpd_store_health health(const hpd_store *st)
{
    hpd_store_health h;

    hpd_store_health_get(st, &h);
    return h;
}

static void put_named_service(hpd_store *st, const char *name, int restarts)
{
    hp_error err = {0};
    hpd_service svc;

    memset(&svc, 0, sizeof(svc));
    svc.config.name = strdup(name);
    svc.config.actions = sample_actions(&svc.config.n_actions);
    svc.restarts = restarts;
    ck_assert_msg(hpd_store_put_service(st, &svc, &err) == 0, "%s", err.message);
    hp_service_config_free(&svc.config);
}

START_TEST(changes_wait_while_the_file_is_locked_and_are_written_when_it_is_free)
{
    hpd_store *st = open_store(0, 0);
    int64_t next;
    fixture_run f;
    hpd_store_health h;
    sqlite3 *other;
    hp_error err = {0};
    loaded l;

    ck_assert_int_eq(hpd_store_live(st, NULL), 0);
    ck_assert_int_eq(health(st).ok, 1);
    make_run(&f, 1, "web");
    other = lock_file();
    put_named_service(st, "web", 1);
    save_run(st, &f);
    append(st, "run.1.build", 10, 1, "kept while locked");
    flush(st);
    /* readers see the lines the store could not take yet, under their future seqs */
    assert_lines(job_logs(st, 10, 0, 100, 0, &next), "kept while locked");
    assert_lines(tail(st, "run.1", 0, 100, &next), "kept while locked");
    assert_lines(tail(st, "run.12", 0, 100, &next), "");
    ck_assert_int_eq(next, 0);
    h = health(st);
    ck_assert_int_eq(h.ok, 0);
    ck_assert_str_eq(h.error, "database is locked");
    ck_assert_int_eq(h.failures, 1); /* the later writes waited for the back-off */
    ck_assert_int_eq(h.pending, 4);  /* service, run, two jobs; the line went to its file */
    ck_assert_int_gt(h.retry_in_ms, 0);
    ck_assert_int_le(h.retry_in_ms, 100);
    /* the same objects changed again replace their waiting changes */
    put_named_service(st, "web", 2);
    f.run.status = HPD_RUN_SUCCEEDED;
    save_run(st, &f);
    ck_assert_int_eq(health(st).pending, 4);
    ck_assert_int_eq(hpd_store_log_count(st), 1);

    unlock_file(other);
    ck_assert_msg(hpd_store_sync(st, &err) == 0, "%s", err.message);
    h = health(st);
    ck_assert_int_eq(h.ok, 1);
    ck_assert_int_eq(h.pending, 0);
    ck_assert_int_eq(h.retry_in_ms, -1);
    ck_assert_int_eq(h.dropped_writes, 0);
    hpd_store_close(st);

    st = open_store(0, 0);
    load_all(st, &l);
    ck_assert_int_eq(l.n_services, 1);
    ck_assert_int_eq(l.svc.restarts, 2);
    ck_assert_int_eq(l.n_runs, 1);
    ck_assert_int_eq(l.run.status, HPD_RUN_SUCCEEDED);
    ck_assert_ptr_nonnull(strstr(l.run_actions, "\"build\"")); /* the row was new */
    ck_assert_int_eq(l.n_jobs, 2);
    loaded_free(&l);
    ck_assert_int_eq(hpd_store_log_count(st), 1);
    free_run(&f);
    hpd_store_close(st);
}
END_TEST

START_TEST(a_run_deleted_while_locked_takes_its_waiting_changes_with_it)
{
    hpd_store *st = open_store(0, 0);
    fixture_run a, b;
    sqlite3 *other;
    hp_error err = {0};
    loaded l;

    ck_assert_int_eq(hpd_store_live(st, NULL), 0);
    make_run(&a, 1, NULL);
    make_run(&b, 2, NULL);
    save_run(st, &a);
    other = lock_file();
    a.run.status = HPD_RUN_SUCCEEDED;
    save_run(st, &a);
    save_run(st, &b);
    ck_assert_int_eq(health(st).pending, 6);
    ck_assert_int_eq(hpd_store_delete_run(st, 1, &err), 0);
    ck_assert_int_eq(health(st).pending, 3 + 1);
    unlock_file(other);
    ck_assert_int_eq(hpd_store_sync(st, &err), 0);
    load_all(st, &l);
    ck_assert_int_eq(l.n_runs, 1);
    ck_assert_int_eq(l.run_ids[0], 2);
    ck_assert_int_eq(l.n_jobs, 2);
    loaded_free(&l);
    free_run(&a);
    free_run(&b);
    hpd_store_close(st);
}
END_TEST

START_TEST(lines_past_the_wait_are_dropped_and_counted_against_their_job)
{
    hpd_store *st = open_store(0, 0);
    fixture_run f;
    hp_error err = {0};
    hpd_store_health h;
    struct rlimit old, tiny = {1, 0};
    int64_t kept = 0, dropped = 0, first = 0, last = 0, next;
    char line[32];

    make_run(&f, 1, NULL);
    save_run(st, &f);
    append(st, "run.1.build", 10, 1, "written");
    flush(st);
    /* No file may grow any more: the log's writes fail as on a full disk. */
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    tiny.rlim_max = old.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &tiny), 0);
    for (int i = 0; i < 600000; i++) {
        int64_t seq;

        snprintf(line, sizeof(line), "line %d", i);
        seq = hpd_store_log_append(st, 1000, "run.1.build", 10, 1, HPD_STDOUT, line, strlen(line));
        if (seq > 0 && !first)
            first = seq;
        if (seq > 0) {
            kept++;
            last = seq;
        } else {
            dropped++;
        }
    }
    hpd_store_log_flush(st, &err); /* nothing is due yet: the first failure set a back-off */
    h = health(st);
    /* Check itself writes to a file: the limit goes before the first assertion, and the
     * lines still wait (nothing writes them until a retry is due). */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    ck_assert_int_gt(kept, 300000); /* 16 MiB of 40-byte records */
    ck_assert_int_gt(dropped, 0);
    ck_assert_int_eq(h.ok, 0);
    ck_assert_msg(strstr(h.error, "File too large"), "error: %s", h.error);
    ck_assert_int_eq(h.dropped_lines, dropped);
    ck_assert_int_eq(hpd_store_job_dropped(st, 10), dropped);
    ck_assert_int_eq(hpd_store_job_dropped(st, 11), 0);
    /* pages of the waiting lines: the first, after a cursor, the last */
    assert_lines(job_logs(st, 10, 0, 3, 0, &next), "written,line 0,line 1");
    ck_assert_int_eq(next, first + 1);
    assert_lines(job_logs(st, 10, first + 1, 2, 0, &next), "line 2,line 3");
    snprintf(line, sizeof(line), "line %lld", (long long)(kept - 1));
    assert_lines(tail(st, "run.1", 0, 1, &next), line);
    ck_assert_int_eq(next, last);
    assert_lines(job_logs(st, 10, 0, 2, 2, &next), ""); /* no attempt 2 */

    /* Room again: the next sync writes what waited. */
    ck_assert_int_gt(hpd_store_log_pending(st), 300000);
    ck_assert_int_eq(hpd_store_sync(st, &err), 0);
    h = health(st);
    ck_assert_int_eq(h.ok, 1);
    ck_assert_int_eq(h.pending, 0);
    ck_assert_int_eq(h.retry_in_ms, -1);
    hpd_store_close(st);

    st = open_store(0, 0);
    ck_assert_int_eq(hpd_store_log_count(st), kept + 1);
    ck_assert_int_eq(hpd_store_job_dropped(st, 10), dropped);
    free_run(&f);
    hpd_store_close(st);
}
END_TEST

START_TEST(a_change_the_file_refuses_for_good_is_given_up_alone)
{
    hpd_store *st = open_store(0, 0);
    fixture_run f, orphan;
    sqlite3 *other;
    hp_error err = {0};
    hpd_store_health h;
    loaded l;

    ck_assert_int_eq(hpd_store_live(st, NULL), 0);
    make_run(&f, 5, NULL);
    save_run(st, &f);
    make_run(&orphan, 3, NULL); /* below the highest run written: an update of no row */
    other = lock_file();
    /* a job whose run does not exist breaks the foreign key: refused, not retried */
    ck_assert_int_eq(hpd_store_put_job(st, &orphan.jobs[0], &err), 0);
    put_named_service(st, "after", 0);
    unlock_file(other);
    ck_assert_int_eq(hpd_store_sync(st, &err), 0);
    h = health(st);
    ck_assert_int_eq(h.ok, 1);
    ck_assert_int_eq(h.dropped_writes, 1);
    ck_assert_msg(strstr(h.refused, "job") != NULL, "refused: %s", h.refused);
    load_all(st, &l);
    ck_assert_int_eq(l.n_services, 1);
    ck_assert_int_eq(l.n_jobs, 2);
    loaded_free(&l);
    free_run(&f);
    free_run(&orphan);
    hpd_store_close(st);
}
END_TEST

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(a_thread_checkpoints_the_log_so_it_stays_small)
{
    hpd_store *st = open_store(0, 0);
    int64_t deadline, pages = 0;
    int writes = 0;

    ck_assert_int_eq(hpd_store_live(st, NULL), 0);
    /* 20 000 commits of state, as a busy daemon makes them: a page or more each. */
    for (int i = 0; i < 20000; i++)
        ck_assert_int_eq(hpd_store_set_meta(st, "counter", i), 0);
    /* Without the thread the write-ahead log would hold every page. Whether it has already
     * started over here depends on how fast the thread was, so only the end is checked:
     * once a checkpoint has copied the whole log, the next write starts it over, however
     * slow this machine is today. */
    pages = hpd_store_wal_pages(st);
    printf("# after 20000 commits: %lld pages in the log\n", (long long)pages);
    deadline = mono_ms() + 20000;
    do {
        usleep(20000);
        ck_assert_int_eq(hpd_store_set_meta(st, "counter", 20000 + writes), 0);
        writes++;
        pages = hpd_store_wal_pages(st);
    } while (pages >= 1024 && mono_ms() < deadline);
    printf("# %lld checkpoints; the log started over after %d more writes (%lld pages)\n",
           (long long)hpd_store_checkpoints(st), writes, (long long)pages);
    ck_assert_int_gt(hpd_store_checkpoints(st), 0);
    ck_assert_int_lt(pages, 1024);
    hpd_store_close(st);
    st = open_store(0, 0);
    ck_assert_int_eq(hpd_store_get_meta(st, "counter", -1), 20000 + writes - 1);
    hpd_store_close(st);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");

    tcase_add_checked_fixture(tc, hp_test_tmpdir_setup, hp_test_tmpdir_teardown);
    tcase_add_test(tc, store_creates_a_database_only_its_owner_can_read);
    tcase_add_test(tc, store_makes_an_existing_readable_database_private);
    tcase_add_test(tc, store_open_names_the_file_it_cannot_open);
    tcase_add_test(tc, service_run_and_jobs_come_back_intact_after_a_restart);
    tcase_add_test(tc, saving_a_run_again_updates_its_state_and_keeps_its_actions);
    tcase_add_test(tc, deleting_a_service_removes_only_that_service);
    tcase_add_test(tc, a_stored_config_with_fields_unknown_today_still_loads);
    tcase_add_test(tc, deleting_a_run_removes_its_jobs_and_their_log_lines);
    tcase_add_test(tc, secrets_are_set_read_listed_without_values_and_deleted);
    tcase_add_test(tc, setting_a_secret_again_keeps_its_creation_time);
    tcase_add_test(tc, meta_counters_survive_a_restart);
    tcase_add_test(tc, log_seq_keeps_increasing_across_restarts_even_when_lines_are_gone);
    tcase_add_test(tc, job_logs_page_with_a_cursor_and_a_limit);
    tcase_add_test(tc, job_logs_can_show_one_attempt);
    tcase_add_test(tc, lines_without_a_job_and_system_lines_are_named_on_the_wire);
    tcase_add_test(tc, tail_matches_whole_dotted_segments_only);
    tcase_add_test(tc, tail_without_a_cursor_answers_the_last_lines_oldest_first);
    tcase_add_test(tc, tail_over_many_sources_keeps_the_same_answers);
    tcase_add_test(tc, pending_lines_are_visible_to_queries);
    tcase_add_test(tc, a_job_over_its_byte_cap_loses_its_oldest_lines_and_counts_them);
    tcase_add_test(tc, the_total_cap_evicts_the_oldest_lines_of_any_job_first);
    tcase_add_test(tc, log_rows_of_an_older_release_are_converted_at_open);
    tcase_add_test(tc, jobs_of_a_version_3_file_get_the_back_off_columns);
    tcase_add_test(tc, search_finds_lines_newest_first_with_context_across_segments);
    tcase_add_test(tc, search_names_a_bad_pattern);
    tcase_add_test(tc, changes_wait_while_the_file_is_locked_and_are_written_when_it_is_free);
    tcase_add_test(tc, a_run_deleted_while_locked_takes_its_waiting_changes_with_it);
    tcase_add_test(tc, lines_past_the_wait_are_dropped_and_counted_against_their_job);
    tcase_add_test(tc, a_change_the_file_refuses_for_good_is_given_up_alone);
    tcase_add_test(tc, a_thread_checkpoints_the_log_so_it_stays_small);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(store_suite());
}
