/* SPDX-License-Identifier: Apache-2.0 */
/* The `job` and `logs` groups: job list, job logs, job cancel, logs tail and `logs
 * NAME|run ID|job ID` (journalctl-style, with --since and --grep), all but the first
 * with a follow mode that polls with the server's cursor (after_seq / next_seq) every
 * 250 ms until the job has ended or Ctrl-C. Lines are printed by output.c, escaped. */
#include "config.h"

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FOLLOW_POLL 250
#define ID_MAX      9007199254740991LL
#define PAGE_LINES  1000

static int cmd_list(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {{"run", required_argument, NULL, 'r'},
                                          {"service", required_argument, NULL, 's'},
                                          {"status", required_argument, NULL, 'S'},
                                          {"limit", required_argument, NULL, 'n'},
                                          HP__CLI_COMMON_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    cJSON *params = cJSON_CreateObject(), *res;
    hp_job_list *list;
    hp_error err;
    int64_t v;
    int c, rc = 0;

    while ((c = hp__cli_getopt(cli, argc, argv, "n:", longs)) != -1) {
        if (c == 'r' && (rc = hp__cli_parse_int(cli, "--run", optarg, ID_MAX, &v)) == 0)
            cJSON_AddNumberToObject(params, "run_id", (double)v);
        else if (c == 's')
            cJSON_AddStringToObject(params, "service", optarg);
        else if (c == 'S')
            cJSON_AddStringToObject(params, "status", optarg);
        else if (c == 'n' && (rc = hp__cli_parse_int(cli, "--limit", optarg, 10000, &v)) == 0)
            cJSON_AddNumberToObject(params, "limit", (double)v);
        else {
            cJSON_Delete(params);
            return HP_CLI_USAGE;
        }
    }
    if ((rc = hp__cli_positionals(cli, argc, 0, 0)) != 0) {
        cJSON_Delete(params);
        return rc;
    }
    if ((rc = hp__cli_call(cli, "job.list", params, &res, "job list")) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    list = hp_job_list_from_json(res, &err);
    cJSON_Delete(res);
    if (!list)
        return hp__cli_fail(cli, "job list", &err);
    if (list->n_jobs == 0)
        printf("No jobs.\n");
    else
        hp__cli_print_jobs(list->jobs, list->n_jobs, 1);
    hp_job_list_free(list);
    return HP_CLI_OK;
}

/* Where the lines come from: a job (job.logs, ends with the job) or a source prefix
 * (logs.tail, never ends). */
typedef struct source {
    int64_t job_id; /* 0 for logs.tail */
    const char *prefix;
    int limit;         /* logs.tail's first page: the last N lines */
    int64_t since_ms;  /* only lines at or after this time (0: all) */
    const regex_t *re; /* only lines matching it (NULL: all) */
} source;

static int shown(const source *src, const cJSON *item)
{
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(item, "ts_ms");
    const char *line = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "line"));

    if (src->since_ms && (!cJSON_IsNumber(ts) || ts->valuedouble < (double)src->since_ms))
        return 0;
    return !src->re || (line && regexec(src->re, line, 0, NULL, 0) == 0);
}

/* One page after *cursor: prints or collects (into lines when not NULL) its lines and
 * advances *cursor. Returns the number of lines, or -1 after printing the failure
 * (*rc its exit code). */
static long fetch(hp_cli *cli, const source *src, int64_t *cursor, cJSON *lines, int *rc)
{
    cJSON *params = cJSON_CreateObject(), *res, *item;
    const cJSON *next;
    long n = 0;

    if (src->job_id) {
        cJSON_AddNumberToObject(params, "id", (double)src->job_id);
        cJSON_AddNumberToObject(params, "limit", PAGE_LINES);
    } else {
        if (src->prefix)
            cJSON_AddStringToObject(params, "src", src->prefix);
        cJSON_AddNumberToObject(params, "limit", *cursor ? PAGE_LINES : src->limit);
    }
    cJSON_AddNumberToObject(params, "after_seq", (double)*cursor);
    if ((*rc = hp__cli_call(cli, src->job_id ? "job.logs" : "logs.tail", params, &res,
                            src->job_id ? "job logs" : "logs tail")) != 0)
        return -1;
    cJSON_ArrayForEach (item, cJSON_GetObjectItemCaseSensitive(res, "lines")) {
        n++;
        if (!shown(src, item))
            continue;
        if (lines) {
            cJSON_AddItemToArray(lines, cJSON_Duplicate(item, 1));
        } else if (cli->json) {
            hp__out_json(item, 1);
        } else if (!cli->json) {
            hp_error err;
            hp_log_line *l = hp_log_line_from_json(item, &err);
            if (!l) {
                *rc = hp__cli_fail(cli, "logs", &err);
                cJSON_Delete(res);
                return -1;
            }
            hp__out_log_line(l);
            hp_log_line_free(l);
        }
    }
    next = cJSON_GetObjectItemCaseSensitive(res, "next_seq");
    if (cJSON_IsNumber(next) && next->valuedouble > (double)*cursor)
        *cursor = (int64_t)next->valuedouble;
    cJSON_Delete(res);
    return n;
}

/* 1 when the job has ended, 0 when not, -1 on failure (*rc set). */
static int job_ended(hp_cli *cli, int64_t id, int *rc)
{
    hp_job *job = NULL;
    hp_error err;
    int ended;

    hp_error_clear(&err);
    if (hp_jobs_get(hp_client_sdk(cli->client), id, &job, &err) != HP_OK) {
        *rc = hp__cli_fail(cli, "job logs", &err);
        return -1;
    }
    ended = hp_job_state_is_final(job->status);
    hp_job_free(job);
    return ended;
}

static int print_logs(hp_cli *cli, const source *src, int follow)
{
    int64_t cursor = 0;
    cJSON *lines = NULL;
    int rc = 0;

    if (!hp__cli_sdk(cli, &rc))
        return rc;
    if (!follow) {
        long got;
        if (cli->json)
            lines = cJSON_CreateArray();
        /* A job's lines page by page to the end; a tail is its one last page. */
        do
            got = fetch(cli, src, &cursor, lines, &rc);
        while (src->job_id && got == PAGE_LINES);
        if (got >= 0 && cli->json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "lines", lines);
            cJSON_AddNumberToObject(o, "next_seq", (double)cursor);
            hp__out_json(o, 0);
            cJSON_Delete(o);
        } else {
            cJSON_Delete(lines);
        }
        return got < 0 ? rc : HP_CLI_OK;
    }
    hp__cli_catch_interrupt();
    while (!hp__cli_interrupted()) {
        int ended = src->job_id ? job_ended(cli, src->job_id, &rc) : 0;
        long got;
        if (ended < 0)
            return rc;
        do
            got = fetch(cli, src, &cursor, NULL, &rc);
        while (got == PAGE_LINES && !hp__cli_interrupted());
        if (got < 0)
            return rc;
        fflush(stdout);
        if (ended)
            break;
        hp__cli_sleep_ms(FOLLOW_POLL);
    }
    return HP_CLI_OK;
}

static int cmd_logs(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {
        {"follow", no_argument, NULL, 'f'}, HP__CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    source src = {0};
    int follow = 0, c, rc;

    while ((c = hp__cli_getopt(cli, argc, argv, "f", longs)) != -1) {
        if (c != 'f')
            return HP_CLI_USAGE;
        follow = 1;
    }
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0)
        return rc;
    if ((rc = hp__cli_parse_int(cli, "ID", argv[optind], ID_MAX, &src.job_id)) != 0)
        return rc;
    return print_logs(cli, &src, follow);
}

static int cmd_cancel(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    int64_t id;
    int rc;

    if ((rc = hp__cli_call_id(cli, argc, argv, "job.cancel", "job cancel", &id, &res)) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    printf("cancelling job %lld: its processes are being terminated\n", (long long)id);
    cJSON_Delete(res);
    return HP_CLI_OK;
}

static int cmd_tail(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {{"follow", no_argument, NULL, 'f'},
                                          {"lines", required_argument, NULL, 'n'},
                                          HP__CLI_COMMON_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    source src = {0, NULL, 100, 0, NULL};
    int64_t n;
    int follow = 0, c, rc;

    while ((c = hp__cli_getopt(cli, argc, argv, "fn:", longs)) != -1) {
        if (c == 'f')
            follow = 1;
        else if (c == 'n' && (rc = hp__cli_parse_int(cli, "-n", optarg, 10000, &n)) == 0)
            src.limit = (int)n;
        else
            return HP_CLI_USAGE;
    }
    if ((rc = hp__cli_positionals(cli, argc, 0, 1)) != 0)
        return rc;
    if (optind < argc)
        src.prefix = argv[optind];
    return print_logs(cli, &src, follow);
}

/* "10m", "90s", "2h", "1d": that long ago; "14:05": today at that time (yesterday when it
 * is still to come). */
static int parse_since(hp_cli *cli, const char *s, int64_t *out)
{
    char *end;
    long long n = strtoll(s, &end, 10);
    int64_t now = (int64_t)time(NULL);

    if (end != s && n >= 0 && end[0] && !end[1] && strchr("smhd", end[0])) {
        static const char units[] = "smhd";
        static const int64_t secs[] = {1, 60, 3600, 86400};
        *out = (now - (int64_t)n * secs[strchr(units, end[0]) - units]) * 1000;
        return 0;
    }
    if (end != s && *end == ':' && n >= 0 && n < 24) {
        char *end2;
        long long m = strtoll(end + 1, &end2, 10);
        time_t t = (time_t)now;
        struct tm tm;
        if (end2 != end + 1 && !*end2 && m >= 0 && m < 60 && localtime_r(&t, &tm)) {
            tm.tm_hour = (int)n;
            tm.tm_min = (int)m;
            tm.tm_sec = 0;
            *out = (int64_t)mktime(&tm);
            if (*out > now)
                *out -= 86400;
            *out *= 1000;
            return 0;
        }
    }
    return hp__cli_usage(cli,
                         "--since takes a duration (90s, 10m, 2h, 1d) or a time (14:05), "
                         "not '%s'",
                         s);
}

/* logs NAME | logs run ID | logs job ID: the lines of a service, a run or a job. */
static int cmd_show(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {{"follow", no_argument, NULL, 'f'},
                                          {"lines", required_argument, NULL, 'n'},
                                          {"since", required_argument, NULL, 'S'},
                                          {"grep", required_argument, NULL, 'g'},
                                          HP__CLI_COMMON_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    source src = {0, NULL, 100, 0, NULL};
    char prefix[160];
    regex_t re;
    int64_t n, id;
    int follow = 0, have_re = 0, c, rc;

    while ((c = hp__cli_getopt(cli, argc, argv, "fn:", longs)) != -1) {
        if (c == 'f') {
            follow = 1;
        } else if (c == 'n' && (rc = hp__cli_parse_int(cli, "-n", optarg, 10000, &n)) == 0) {
            src.limit = (int)n;
        } else if (c == 'S' && parse_since(cli, optarg, &src.since_ms) == 0) {
            continue;
        } else if (c == 'g' && !have_re) {
            if (regcomp(&re, optarg, REG_EXTENDED | REG_NOSUB) != 0)
                return hp__cli_usage(cli, "--grep: '%s' is not a regular expression", optarg);
            have_re = 1;
            src.re = &re;
        } else {
            rc = c == 'g' ? hp__cli_usage(cli, "--grep is given once") : HP_CLI_USAGE;
            goto out;
        }
    }
    rc = HP_CLI_USAGE;
    if (optind < argc && (strcmp(argv[optind], "run") == 0 || strcmp(argv[optind], "job") == 0)) {
        int job = argv[optind][0] == 'j';
        if (argc - optind != 2) {
            rc = hp__cli_usage(cli, "%s needs one ID", argv[optind]);
            goto out;
        }
        if ((rc = hp__cli_parse_int(cli, "ID", argv[optind + 1], ID_MAX, &id)) != 0)
            goto out;
        if (job) {
            src.job_id = id;
        } else {
            snprintf(prefix, sizeof(prefix), "run.%lld", (long long)id);
            src.prefix = prefix;
        }
    } else if (argc - optind == 1) {
        snprintf(prefix, sizeof(prefix), "service.%s", argv[optind]);
        src.prefix = prefix;
    } else {
        rc = hp__cli_usage(cli, "give a service NAME, run ID or job ID");
        goto out;
    }
    rc = print_logs(cli, &src, follow);
out:
    if (have_re)
        regfree(&re);
    return rc;
}

const hp__cli_verb hp__cli_job_verbs[] = {
    {"list", "[--run ID] [--service NAME] [--status S] [--limit N]", "list jobs, newest first",
     "  --run ID          only the jobs of this run\n"
     "  --service NAME    only the jobs of this service's runs\n"
     "  --status S        only jobs in state S: pending, running, retrying, succeeded,\n"
     "                    failed, timed_out, cancelled, skipped\n"
     "  -n, --limit N     at most N jobs (1..10000, default 500)\n",
     cmd_list},
    {"logs", "ID [-f]", "print a job's log lines",
     "Lines read \"HH:MM:SS.mmm SRC out| text\"; stderr is marked err|, the supervisor's\n"
     "own lines sys|. Control characters are shown escaped.\n"
     "  -f, --follow      keep printing new lines until the job ends (Ctrl-C stops, exit 0);\n"
     "                    with --json, one JSON object per line\n",
     cmd_logs},
    {"cancel", "ID", "cancel a job: stop its processes", NULL, cmd_cancel},
    {NULL, NULL, NULL, NULL, NULL},
};

const hp__cli_verb hp__cli_logs_verbs[] = {
    {"tail", "[PREFIX] [-f] [-n N]", "print the last log lines, of every source or of PREFIX",
     "PREFIX is a source or its start: service.NAME, service.NAME.ACTION, run.ID.\n"
     "  -n, --lines N     how many of the last lines (1..10000, default 100)\n"
     "  -f, --follow      then keep printing new lines until Ctrl-C (exit 0);\n"
     "                    with --json, one JSON object per line\n",
     cmd_tail},
    {"show", "NAME | run ID | job ID [-f] [-n N] [--since WHEN] [--grep RE]",
     "print the lines of a service, a run or a job (\"show\" may be left out)",
     "hero_proc logs web, hero_proc logs run 12 -f, hero_proc logs job 40 --grep 'error|fail'.\n"
     "  -n, --lines N     a service's or run's last N lines (1..10000, default 100);\n"
     "                    a job's lines are all of its retained log\n"
     "  --since WHEN      only lines since 90s, 10m, 2h, 1d ago, or since 14:05 today\n"
     "  --grep RE         only lines matching the extended regular expression RE\n"
     "  -f, --follow      then keep printing new lines (a job's until it ends; Ctrl-C\n"
     "                    stops, exit 0); with --json, one JSON object per line\n",
     cmd_show},
    {NULL, NULL, NULL, NULL, NULL},
};
