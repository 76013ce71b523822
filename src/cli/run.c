/* SPDX-License-Identifier: Apache-2.0 */
/* The `run` group: submit (checked locally first, optionally waited for), wait, status,
 * logs (with follow), list and cancel; and the jobs table the other groups reuse. Waiting
 * and the run's merged logs go through the factory's workflows; everything else is one
 * call whose JSON answer --json prints unchanged. */
#include "config.h"

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_FILE_MAX  (4L * 1024 * 1024)
#define FOLLOW_POLL   250
#define ID_MAX        9007199254740991LL
#define TIMEOUT_MAX_S 31536000LL

void hp__cli_print_jobs(const hp_job *jobs, size_t n, int show_run)
{
    static const char *const head[] = {"JOB", "RUN", "SERVICE", "ACTION", "STATUS",
                                       "TRY", "PID", "EXIT",    "TIME",   "ERROR"};
    hp__table *t = show_run ? hp__table_new(10, head) : NULL;
    hp__table *t2 = NULL;

    if (!show_run) {
        /* A service's jobs: with the probe's verdict (HEALTH). */
        static const char *const short_head[] = {"JOB", "ACTION", "STATUS", "HEALTH", "TRY",
                                                 "PID", "EXIT",   "TIME",   "ERROR"};
        t2 = hp__table_new(9, short_head);
    }
    for (size_t i = 0; i < n; i++) {
        const hp_job *j = &jobs[i];
        char id[24], run[24], try[24], pid[24], code[24], dur[32];
        const char *cells[10], *err;
        size_t k = 0;
        int64_t end = j->ended_at_ms ? j->ended_at_ms : hp__out_now_ms();
        snprintf(id, sizeof(id), "%lld", (long long)j->id);
        snprintf(run, sizeof(run), "%lld", (long long)j->run_id);
        snprintf(try, sizeof(try), "%lld", (long long)j->attempt);
        snprintf(pid, sizeof(pid), "%lld", (long long)j->pid);
        if (j->has_exit_code)
            snprintf(code, sizeof(code), "%lld", (long long)j->exit_code);
        else if (j->has_signal)
            snprintf(code, sizeof(code), "sig %lld", (long long)j->signal);
        else
            snprintf(code, sizeof(code), "-");
        hp__out_duration(j->started_at_ms ? end - j->started_at_ms : -1, dur, sizeof(dur));
        /* Running, its error is the last probe failure (the exit's was before this try). */
        err = j->status == HP_JOB_RUNNING && j->health_detail ? j->health_detail
              : j->error                                      ? j->error
                                                              : "";
        cells[k++] = id;
        if (show_run) {
            cells[k++] = run;
            cells[k++] = j->service ? j->service : "-";
        }
        cells[k++] = j->action;
        cells[k++] = hp_job_state_name(j->status);
        if (!show_run)
            cells[k++] = j->health ? j->health : "-";
        cells[k++] = try;
        cells[k++] = j->has_pid ? pid : "-";
        cells[k++] = code;
        cells[k++] = dur;
        cells[k++] = err;
        hp__table_row(show_run ? t : t2, cells);
    }
    hp__table_print(show_run ? t : t2, stdout);
    hp__table_free(t);
    hp__table_free(t2);
}

static void print_run(const hp_run *r)
{
    char status[64], when[48], dur[32];
    int64_t end = r->ended_at_ms ? r->ended_at_ms : hp__out_now_ms();

    printf("run %lld '%s'%s%s  %s  created %s", (long long)r->id, r->name,
           r->service ? " of service " : "", r->service ? r->service : "",
           hp__out_status(hp_run_state_name(r->status), status, sizeof(status)),
           hp__out_when(r->created_at_ms, when, sizeof(when)));
    if (r->started_at_ms)
        printf("  took %s", hp__out_duration(end - r->started_at_ms, dur, sizeof(dur)));
    printf("\n");
    if (r->n_jobs) {
        putchar('\n');
        hp__cli_print_jobs(r->jobs, r->n_jobs, 0);
    }
}

/* Prints a run answer (res deleted) as JSON or as text; 0 or the failure's exit code. */
static int show_run_json(hp_cli *cli, cJSON *res, const char *what, hp_run **keep)
{
    hp_run *run;
    hp_error err;

    if (cli->json && !keep) {
        hp__out_json(res, 0);
        cJSON_Delete(res);
        return HP_CLI_OK;
    }
    run = hp_run_from_json(res, &err);
    cJSON_Delete(res);
    if (!run)
        return hp__cli_fail(cli, what, &err);
    if (keep)
        *keep = run;
    else {
        print_run(run);
        hp_run_free(run);
    }
    return HP_CLI_OK;
}

/* 0 when the run succeeded, 1 when it failed or was cancelled, with a line on stderr. */
static int run_outcome(const hp_run *run)
{
    if (run->status == HP_RUN_SUCCEEDED)
        return HP_CLI_OK;
    fprintf(stderr, "hero_proc: run %lld '%s' %s\n", (long long)run->id, run->name,
            hp_run_state_name(run->status));
    return HP_CLI_FAILED;
}

/* Waits for the run (timeout_ms 0 = forever) and prints the final run; its outcome. */
static int wait_and_show(hp_cli *cli, int64_t id, long timeout_ms)
{
    hp_run *run = NULL;
    hp_error err;
    int rc = 0;

    if (!hp__cli_sdk(cli, &rc))
        return rc;
    hp_error_clear(&err);
    if (hp_client_run_wait(cli->client, id, timeout_ms, &run, &err) != HP_OK) {
        if (err.code == HP_E_TIMEOUT && err.rpc_code) {
            fprintf(stderr, "hero_proc: run %lld is still going after %ld s\n", (long long)id,
                    timeout_ms / 1000);
            return HP_CLI_TIMEOUT;
        }
        return hp__cli_fail(cli, "run wait", &err);
    }
    if (cli->json) {
        cJSON *j = hp_run_to_json(run);
        hp__out_json(j, 0);
        cJSON_Delete(j);
    } else {
        print_run(run);
    }
    rc = run_outcome(run);
    hp_run_free(run);
    return rc;
}

static int cmd_submit(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {
        {"wait", no_argument, NULL, 'w'}, HP__CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    hp_problems pb = {0};
    hp_action_spec *specs = NULL;
    size_t n = 0, count = 0;
    cJSON *json = NULL, *params = NULL, *arr, *res = NULL;
    const cJSON *name;
    hp_run *run = NULL;
    char *text = NULL, owner[HP_NAME_SHOW_SIZE + 16], shown[HP_NAME_SHOW_SIZE];
    size_t len;
    int wait = 0, c, rc;

    while ((c = hp__cli_getopt(cli, argc, argv, "w", longs)) != -1) {
        if (c != 'w')
            return HP_CLI_USAGE;
        wait = 1;
    }
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0)
        return rc;
    if ((rc = hp__cli_read_file(cli, argv[optind], RUN_FILE_MAX, &text, &len)) != 0)
        return rc;
    if ((rc = hp__cli_parse_json(text, len, argv[optind], &json)) != 0)
        goto out;
    name = cJSON_GetObjectItemCaseSensitive(json, "name");
    if (!cJSON_IsString(name)) {
        hp_problems_add(&pb, "run name must be a string");
        count++;
        name = NULL;
    }
    snprintf(owner, sizeof(owner), "run '%s'",
             hp_name_show(name ? name->valuestring : "", shown, sizeof(shown)));
    count += hp_actions_from_json(cJSON_GetObjectItemCaseSensitive(json, "actions"), &specs, &n,
                                  owner, &pb) != 0;
    if (name)
        count += hp_spec_validate("run", name->valuestring, specs, n, &pb);
    if (count) {
        rc = hp__cli_print_problems(argv[optind], &pb);
        goto out;
    }
    params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "name", name->valuestring);
    arr = cJSON_AddArrayToObject(params, "actions");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, hp_action_spec_to_json(&specs[i]));
    if ((rc = hp__cli_call(cli, "run.submit", params, &res, "run submit")) != 0)
        goto out;
    if (!wait) {
        rc = show_run_json(cli, res, "run submit", NULL);
        res = NULL;
        goto out;
    }
    rc = show_run_json(cli, res, "run submit", &run);
    res = NULL;
    if (rc != 0)
        goto out;
    if (!cli->json) {
        printf("submitted run %lld '%s', waiting...\n", (long long)run->id, run->name);
        fflush(stdout);
    }
    rc = wait_and_show(cli, run->id, 0);
out:
    hp_run_free(run);
    cJSON_Delete(res);
    cJSON_Delete(json);
    hp_actions_free(specs, n);
    hp_problems_free(&pb);
    free(text);
    return rc;
}

static int parse_id(hp_cli *cli, int argc, char **argv, int64_t *id)
{
    int rc = hp__cli_positionals(cli, argc, 1, 1);

    return rc ? rc : hp__cli_parse_int(cli, "ID", argv[optind], ID_MAX, id);
}

static int cmd_wait(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {
        {"timeout", required_argument, NULL, 't'}, HP__CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int64_t id, secs = 0;
    int c, rc;

    while ((c = hp__cli_getopt(cli, argc, argv, "t:", longs)) != -1) {
        if (c != 't')
            return HP_CLI_USAGE;
        if ((rc = hp__cli_parse_int(cli, "--timeout", optarg, TIMEOUT_MAX_S, &secs)) != 0)
            return rc;
    }
    if ((rc = parse_id(cli, argc, argv, &id)) != 0)
        return rc;
    return wait_and_show(cli, id, (long)secs * 1000);
}

static int cmd_status(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    int64_t id;
    int rc;

    if ((rc = hp__cli_call_id(cli, argc, argv, "run.get", "run status", &id, &res)) != 0)
        return rc;
    return show_run_json(cli, res, "run status", NULL);
}

static int cmd_cancel(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    int64_t id;
    int rc;

    if ((rc = hp__cli_call_id(cli, argc, argv, "run.cancel", "run cancel", &id, &res)) != 0)
        return rc;
    if (!cli->json)
        printf("cancelling run %lld (hero_proc run wait %lld waits for the end)\n", (long long)id,
               (long long)id);
    return show_run_json(cli, res, "run cancel", NULL);
}

static int cmd_delete(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    int64_t id;
    int rc;

    if ((rc = hp__cli_call_id(cli, argc, argv, "run.delete", "run delete", &id, &res)) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    printf("deleted run %lld with its jobs and their log lines\n", (long long)id);
    cJSON_Delete(res);
    return HP_CLI_OK;
}

static int cmd_list(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {{"service", required_argument, NULL, 's'},
                                          {"status", required_argument, NULL, 'S'},
                                          {"limit", required_argument, NULL, 'n'},
                                          HP__CLI_COMMON_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    static const char *const head[] = {"RUN",     "NAME", "SERVICE", "STATUS",
                                       "CREATED", "TIME", "JOBS"};
    cJSON *params = cJSON_CreateObject(), *res;
    hp_run_list *list;
    hp_error err;
    hp__table *t;
    int64_t limit;
    int c, rc;

    while ((c = hp__cli_getopt(cli, argc, argv, "n:", longs)) != -1) {
        if (c == 's')
            cJSON_AddStringToObject(params, "service", optarg);
        else if (c == 'S')
            cJSON_AddStringToObject(params, "status", optarg);
        else if (c == 'n' && (rc = hp__cli_parse_int(cli, "--limit", optarg, 1000, &limit)) == 0)
            cJSON_AddNumberToObject(params, "limit", (double)limit);
        else {
            cJSON_Delete(params);
            return HP_CLI_USAGE;
        }
    }
    if ((rc = hp__cli_positionals(cli, argc, 0, 0)) != 0) {
        cJSON_Delete(params);
        return rc;
    }
    if ((rc = hp__cli_call(cli, "run.list", params, &res, "run list")) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    list = hp_run_list_from_json(res, &err);
    cJSON_Delete(res);
    if (!list)
        return hp__cli_fail(cli, "run list", &err);
    if (list->n_runs == 0) {
        printf("No runs.\n");
        hp_run_list_free(list);
        return HP_CLI_OK;
    }
    t = hp__table_new(7, head);
    for (size_t i = 0; i < list->n_runs; i++) {
        const hp_run *r = &list->runs[i];
        char id[24], when[48], dur[32], jobs[64];
        const char *cells[7];
        int64_t end = r->ended_at_ms ? r->ended_at_ms : hp__out_now_ms();
        snprintf(id, sizeof(id), "%lld", (long long)r->id);
        snprintf(jobs, sizeof(jobs), "%lld/%lld ok%s", (long long)r->counts.succeeded,
                 (long long)r->counts.total, r->counts.failed ? ", failures" : "");
        cells[0] = id;
        cells[1] = r->name;
        cells[2] = r->service ? r->service : "-";
        cells[3] = hp_run_state_name(r->status);
        cells[4] = hp__out_when(r->created_at_ms, when, sizeof(when));
        cells[5] =
            hp__out_duration(r->started_at_ms ? end - r->started_at_ms : -1, dur, sizeof(dur));
        cells[6] = jobs;
        hp__table_row(t, cells);
    }
    hp__table_print(t, stdout);
    hp__table_free(t);
    hp_run_list_free(list);
    return HP_CLI_OK;
}

/* ---- logs ------------------------------------------------------------------------------ */

typedef struct log_sink {
    hp_cli *cli;
    cJSON *lines; /* --json without -f: collected here; with -f: one object per line */
} log_sink;

static int on_line(void *ud, const hp_log_line *l)
{
    log_sink *s = ud;

    if (hp__cli_interrupted())
        return 1;
    if (!s->cli->json) {
        hp__out_log_line(l);
    } else {
        cJSON *j = hp_log_line_to_json(l);
        if (s->lines) {
            cJSON_AddItemToArray(s->lines, j);
        } else {
            hp__out_json(j, 1);
            cJSON_Delete(j);
        }
    }
    return 0;
}

/* After the lines: how many of the run's were dropped by the server's log caps, so an
 * incomplete log is not taken for the whole one. */
static void say_dropped(hp_cli *cli, int64_t id)
{
    hp_run *run = NULL;
    hp_error err;
    int64_t dropped = 0;

    if (hp_runs_get(hp_client_sdk(cli->client), id, &run, &err) != HP_OK)
        return;
    for (size_t i = 0; i < run->n_jobs; i++)
        dropped += run->jobs[i].dropped;
    if (dropped > 0)
        fprintf(stderr,
                "hero_proc: %lld older line%s of this run %s dropped by the server's log caps "
                "(hero_proc_server --log-bytes-per-job, --log-bytes)\n",
                (long long)dropped, dropped == 1 ? "" : "s", dropped == 1 ? "was" : "were");
    hp_run_free(run);
}

static int cmd_logs(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {
        {"follow", no_argument, NULL, 'f'}, HP__CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    log_sink sink = {cli, NULL};
    int64_t id, cursor = 0;
    int follow = 0, c, rc = 0;
    hp_error err;

    while ((c = hp__cli_getopt(cli, argc, argv, "f", longs)) != -1) {
        if (c != 'f')
            return HP_CLI_USAGE;
        follow = 1;
    }
    if ((rc = parse_id(cli, argc, argv, &id)) != 0)
        return rc;
    if (!hp__cli_sdk(cli, &rc))
        return rc;
    hp_error_clear(&err);
    if (!follow) {
        if (cli->json)
            sink.lines = cJSON_CreateArray();
        if (hp_client_run_logs(cli->client, id, &cursor, 0, on_line, &sink, &err) != HP_OK) {
            cJSON_Delete(sink.lines);
            return hp__cli_fail(cli, "run logs", &err);
        }
        if (cli->json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "run_id", (double)id);
            cJSON_AddItemToObject(o, "lines", sink.lines);
            cJSON_AddNumberToObject(o, "next_seq", (double)cursor);
            hp__out_json(o, 0);
            cJSON_Delete(o);
        } else {
            say_dropped(cli, id);
        }
        return HP_CLI_OK;
    }
    /* Follow: the run's state is read before its lines, so that once it has ended the
     * lines fetched after it are the last ones. */
    hp__cli_catch_interrupt();
    while (!hp__cli_interrupted()) {
        hp_run *run = NULL;
        int ended;
        if (hp_runs_get(hp_client_sdk(cli->client), id, &run, &err) != HP_OK)
            return hp__cli_fail(cli, "run logs", &err);
        ended = hp_run_state_is_final(run->status);
        hp_run_free(run);
        if (hp_client_run_logs(cli->client, id, &cursor, 0, on_line, &sink, &err) != HP_OK)
            return hp__cli_fail(cli, "run logs", &err);
        fflush(stdout);
        if (ended)
            break;
        hp__cli_sleep_ms(FOLLOW_POLL);
    }
    return HP_CLI_OK;
}

const hp__cli_verb hp__cli_run_verbs[] = {
    {"submit", "FILE|- [--wait]", "submit an ad-hoc run from a JSON file",
     "FILE (or - for stdin) holds {\"name\": \"build\", \"actions\": [{\"name\": \"test\",\n"
     "\"command\": \"make check\", \"depends_on\": [...], ...}]}. It is checked here with\n"
     "the server's rules first; every problem is printed and nothing is sent (exit 2).\n"
     "  -w, --wait        wait for the run to end; exit 1 when it failed or was cancelled\n",
     cmd_submit},
    {"wait", "ID [--timeout SECS]", "wait for a run to end and show it",
     "Exit 0 when the run succeeded, 1 when it failed or was cancelled, 5 when it is\n"
     "still going after the timeout.\n"
     "  -t, --timeout SECS  give up after SECS seconds (default: wait forever)\n",
     cmd_wait},
    {"status", "ID", "show a run and its jobs", NULL, cmd_status},
    {"logs", "ID [-f]", "print the log lines of every job of a run, in order",
     "Lines read \"HH:MM:SS.mmm SRC out| text\"; stderr is marked err|, the supervisor's\n"
     "own lines sys|. Control characters are shown escaped.\n"
     "  -f, --follow      keep printing new lines until the run ends (Ctrl-C stops, exit 0);\n"
     "                    with --json, one JSON object per line\n",
     cmd_logs},
    {"list", "[--service NAME] [--status S] [--limit N]", "list runs, newest first",
     "  --service NAME    only the runs of this service\n"
     "  --status S        only runs in state S: pending, running, succeeded, failed, cancelled\n"
     "  -n, --limit N     at most N runs (1..1000, default 100)\n",
     cmd_list},
    {"cancel", "ID", "cancel a run: stop its jobs", NULL, cmd_cancel},
    {"delete", "ID", "delete a run that has ended, with its jobs and their log lines", NULL,
     cmd_delete},
    {NULL, NULL, NULL, NULL, NULL},
};
