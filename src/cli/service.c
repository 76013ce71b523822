/* SPDX-License-Identifier: Apache-2.0 */
/* The `service` group: list, status, get, start, stop, restart, delete and set. `set` reads
 * a ServiceConfig as JSON and checks it with the shared rules of common/spec.h before
 * anything is sent, so a bad file costs no round trip and changes nothing; `get` prints
 * what `set` takes back. start, stop, restart and delete take several names or --all.
 * Tables and glyphs come from output.c; the jobs table is shared with run.c. */
#include "config.h"

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX (4L * 1024 * 1024)

static cJSON *name_params(const char *name)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddStringToObject(p, "name", name);
    return p;
}

/* The commands that take only a service NAME: no options, one positional, then method
 * called with {"name"}; *res gets the answer. Returns 0 or the exit status. */
static int call_named(hp_cli *cli, int argc, char **argv, const char *method, const char *what,
                      cJSON **res)
{
    int rc;

    while ((rc = hp__cli_getopt(cli, argc, argv, "", NULL)) != -1)
        return HP_CLI_USAGE;
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0)
        return rc;
    return hp__cli_call(cli, method, name_params(argv[optind]), res, what);
}

static int cmd_list(hp_cli *cli, int argc, char **argv)
{
    static const char *const head[] = {"NAME", "STATUS", "WANTED", "RUN", "RESTARTS",
                                       "PIDS", "UPTIME", "CPU%",   "MEM", "DESCRIPTION"};
    cJSON *res;
    hp_service_list *list;
    hp_error err;
    hp__table *t;
    int rc, quiet = 0;
    static const struct option longs[] = {
        {"quiet", no_argument, NULL, 'q'}, HP__CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};

    while ((rc = hp__cli_getopt(cli, argc, argv, "q", longs)) != -1) {
        if (rc != 'q')
            return HP_CLI_USAGE;
        quiet = 1;
    }
    if ((rc = hp__cli_positionals(cli, argc, 0, 0)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "service.list", NULL, &res, "service list")) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    list = hp_service_list_from_json(res, &err);
    cJSON_Delete(res);
    if (!list)
        return hp__cli_fail(cli, "service list", &err);
    if (quiet) { /* names only, one a line: for scripts and shell completion */
        for (size_t i = 0; i < list->n_services; i++)
            printf("%s\n", list->services[i].name);
        hp_service_list_free(list);
        return HP_CLI_OK;
    }
    if (list->n_services == 0) {
        printf("No services. Define one with: hero_proc service set FILE\n");
        hp_service_list_free(list);
        return HP_CLI_OK;
    }
    t = hp__table_new(10, head);
    for (size_t i = 0; i < list->n_services; i++) {
        const hp_service_summary *s = &list->services[i];
        char run[24], restarts[24], pids[96] = "", up[32], cpu[24], mem[24];
        const char *cells[10];
        size_t used = 0;
        snprintf(run, sizeof(run), "%lld", (long long)s->run_id);
        snprintf(restarts, sizeof(restarts), "%lld%s", (long long)s->restarts,
                 s->crash_loop ? " crash-loop" : "");
        for (size_t k = 0; k < s->n_pids && used < sizeof(pids) - 24; k++)
            used += (size_t)snprintf(pids + used, sizeof(pids) - used, "%s%lld", k ? "," : "",
                                     (long long)s->pids[k]);
        if ((s->status == HP_SERVICE_RUNNING || s->status == HP_SERVICE_DEGRADED) &&
            s->started_at_ms > 0)
            hp__out_duration(hp__out_now_ms() - s->started_at_ms, up, sizeof(up));
        else
            snprintf(up, sizeof(up), "-");
        cells[0] = s->name;
        cells[1] = hp_service_state_name(s->status);
        cells[2] = s->wanted_start ? "start" : "stop";
        cells[3] = s->run_id ? run : "-";
        cells[4] = restarts;
        cells[5] = used ? pids : "-";
        cells[6] = up;
        /* What its running jobs cost as the daemon last sampled them; "-" when none runs. */
        if (s->procs > 0)
            snprintf(cpu, sizeof(cpu), "%.1f", s->cpu_pct);
        else
            snprintf(cpu, sizeof(cpu), "-");
        cells[7] = cpu;
        cells[8] = hp__out_size(s->procs > 0 ? s->rss_bytes : 0, mem, sizeof(mem));
        cells[9] = s->description && *s->description ? s->description : "-";
        hp__table_row(t, cells);
    }
    hp__table_print(t, stdout);
    hp__table_free(t);
    hp_service_list_free(list);
    return HP_CLI_OK;
}

static int cmd_status(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    hp_service_status *st;
    hp_error err;
    char status[64];
    int rc;

    if ((rc = call_named(cli, argc, argv, "service.status", "service status", &res)) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    st = hp_service_status_from_json(res, &err);
    cJSON_Delete(res);
    if (!st)
        return hp__cli_fail(cli, "service status", &err);
    printf("%s  %s  wanted %s", st->name,
           hp__out_status(hp_service_state_name(st->status), status, sizeof(status)),
           st->wanted_start ? "start" : "stop");
    if (st->run_id)
        printf("  run %lld", (long long)st->run_id);
    printf("  restarts %lld%s", (long long)st->restarts, st->crash_loop ? " (crash loop)" : "");
    /* What its running jobs cost, as the daemon last sampled it. */
    if (st->procs > 0)
        printf("  cpu %.1f%%  mem %.1f MiB  procs %lld", st->cpu_pct,
               (double)st->rss_bytes / (1024.0 * 1024.0), (long long)st->procs);
    putchar('\n');
    if (st->n_jobs) {
        putchar('\n');
        hp__cli_print_jobs(st->jobs, st->n_jobs, 0);
    }
    hp_service_status_free(st);
    return HP_CLI_OK;
}

static int cmd_get(hp_cli *cli, int argc, char **argv)
{
    hp_service_config cfg = {0};
    hp_problems pb = {0};
    cJSON *res, *config;
    int rc;

    if ((rc = call_named(cli, argc, argv, "service.get", "service get", &res)) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    /* The record's timestamps are the server's: what is printed is a ServiceConfig. */
    if (hp_service_config_from_json_lenient(res, &cfg, &pb) != 0) {
        fprintf(stderr, "hero_proc: service get: the server sent a config this hero_proc "
                        "cannot read\n");
        rc = HP_CLI_FAILED;
    } else {
        config = hp_service_config_to_json(&cfg);
        hp__out_json(config, 0);
        cJSON_Delete(config);
    }
    cJSON_Delete(res);
    hp_service_config_free(&cfg);
    hp_problems_free(&pb);
    return rc;
}

/* start and restart answer the new run: 1 when a job of it could not even start. */
static int print_started(hp_cli *cli, const cJSON *res, const char *verb, const char *name)
{
    hp_run *run;
    hp_error err;
    int failed = 0;

    run = hp_run_from_json(res, &err);
    if (!run)
        return hp__cli_fail(cli, verb, &err);
    for (size_t i = 0; i < run->n_jobs; i++)
        failed |= run->jobs[i].status == HP_JOB_FAILED;
    if (!cli->json) {
        printf("%s service '%s': run %lld%s\n", verb, name, (long long)run->id,
               failed ? ", which failed to start" : "");
        if (run->n_jobs)
            hp__cli_print_jobs(run->jobs, run->n_jobs, 0);
    }
    hp_run_free(run);
    return failed ? HP_CLI_FAILED : HP_CLI_OK;
}

static int print_stopped(hp_cli *cli, const cJSON *res, const char *verb, const char *name)
{
    hp_service_status *st;
    hp_error err;
    char status[64];

    if (cli->json)
        return HP_CLI_OK;
    if (!(st = hp_service_status_from_json(res, &err)))
        return hp__cli_fail(cli, verb, &err);
    if (st->status == HP_SERVICE_RUNNING || st->status == HP_SERVICE_DEGRADED)
        printf("stopping service '%s' (wanted stop): its processes are being terminated\n",
               st->name);
    else
        printf("stopped service '%s': %s\n", st->name,
               hp__out_status(hp_service_state_name(st->status), status, sizeof(status)));
    hp_service_status_free(st);
    (void)name;
    return HP_CLI_OK;
}

static int print_deleted(hp_cli *cli, const cJSON *res, const char *verb, const char *name)
{
    (void)res;
    (void)verb;
    if (!cli->json)
        printf("deleted service '%s'\n", name);
    return HP_CLI_OK;
}

typedef int (*print_fn)(hp_cli *cli, const cJSON *res, const char *verb, const char *name);

/* The verbs that act on services by name: NAME... or --all (every service, by name).
 * Each is called in turn, what each did printed (with --json one answer, or an array
 * of them for several names); a failure does not stop the others, and the exit status
 * is that of the first failure. */
static int act_on_services(hp_cli *cli, int argc, char **argv, const char *method, const char *what,
                           const char *verb, int restart, print_fn print)
{
    static const struct option longs[] = {{"all", no_argument, NULL, 'a'},
                                          {"keep-history", no_argument, NULL, 'k'},
                                          {"cascade", no_argument, NULL, 'C'},
                                          HP__CLI_COMMON_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    /* stop and delete take --cascade: the services requiring them go first. */
    int cascadable = strcmp(method, "service.stop") == 0 || strcmp(method, "service.delete") == 0;
    int all = 0, keep = 0, cascade = 0, c, rc, worst = HP_CLI_OK;
    cJSON *names = cJSON_CreateArray(), *answers = cJSON_CreateArray(), *name;

    while ((c = hp__cli_getopt(cli, argc, argv, "", longs)) != -1) {
        if (c == 'a') {
            all = 1;
        } else if (c == 'k' && restart) {
            keep = 1;
        } else if (c == 'C' && cascadable) {
            cascade = 1;
        } else {
            if (c == 'k')
                hp__cli_usage(cli, "--keep-history is an option of restart only");
            if (c == 'C')
                hp__cli_usage(cli, "--cascade is an option of stop and delete only");
            worst = HP_CLI_USAGE;
            goto out;
        }
    }
    if (all && optind < argc) {
        worst = hp__cli_usage(cli, "give service names or --all, not both");
        goto out;
    }
    if (!all && (worst = hp__cli_positionals(cli, argc, 1, argc)) != 0)
        goto out;
    if (all) {
        cJSON *list, *services, *svc;

        if ((worst = hp__cli_call(cli, "service.list", NULL, &list, what)) != 0)
            goto out;
        services = cJSON_GetObjectItemCaseSensitive(list, "services");
        cJSON_ArrayForEach (svc, services) {
            const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(svc, "name"));
            if (n)
                cJSON_AddItemToArray(names, cJSON_CreateString(n));
        }
        cJSON_Delete(list);
        if (cJSON_GetArraySize(names) == 0 && !cli->json)
            printf("No services.\n");
    } else {
        for (int i = optind; i < argc; i++)
            cJSON_AddItemToArray(names, cJSON_CreateString(argv[i]));
    }
    cJSON_ArrayForEach (name, names) {
        cJSON *params = name_params(name->valuestring), *res;

        if (keep)
            cJSON_AddBoolToObject(params, "keep_history", 1);
        if (cascade)
            cJSON_AddBoolToObject(params, "cascade", 1);
        rc = hp__cli_call(cli, method, params, &res, what);
        if (rc == 0) {
            rc = print(cli, res, verb, name->valuestring);
            cJSON_AddItemToArray(answers, res);
        }
        if (rc != 0 && worst == HP_CLI_OK)
            worst = rc;
        if (rc == HP_CLI_UNREACHABLE)
            break; /* the others would say the same */
    }
    if (cli->json && (all || cJSON_GetArraySize(names) > 1))
        hp__out_json(answers, 0);
    else if (cli->json && cJSON_GetArraySize(answers) == 1)
        hp__out_json(cJSON_GetArrayItem(answers, 0), 0);
out:
    cJSON_Delete(names);
    cJSON_Delete(answers);
    return worst;
}

static int cmd_start(hp_cli *cli, int argc, char **argv)
{
    return act_on_services(cli, argc, argv, "service.start", "service start", "started", 0,
                           print_started);
}

static int cmd_restart(hp_cli *cli, int argc, char **argv)
{
    return act_on_services(cli, argc, argv, "service.restart", "service restart", "restarted", 1,
                           print_started);
}

static int cmd_stop(hp_cli *cli, int argc, char **argv)
{
    return act_on_services(cli, argc, argv, "service.stop", "service stop", "stopped", 0,
                           print_stopped);
}

static int cmd_delete(hp_cli *cli, int argc, char **argv)
{
    return act_on_services(cli, argc, argv, "service.delete", "service delete", "deleted", 0,
                           print_deleted);
}

static int cmd_set(hp_cli *cli, int argc, char **argv)
{
    hp_service_config cfg = {0};
    hp_problems pb = {0};
    cJSON *json = NULL, *params = NULL, *res = NULL;
    const char *path;
    char *text = NULL;
    size_t len, count;
    int rc;

    while ((rc = hp__cli_getopt(cli, argc, argv, "", NULL)) != -1)
        return HP_CLI_USAGE;
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0)
        return rc;
    path = argv[optind];
    if ((rc = hp__cli_read_file(cli, path, CONFIG_MAX, &text, &len)) != 0)
        return rc;
    if ((rc = hp__cli_parse_json(text, len, path, &json)) != 0)
        goto out;
    /* Both passes, so that every problem is told at once, as the server would. */
    count = hp_service_config_from_json(json, &cfg, &pb) != 0 ? 1 : 0;
    count += hp_service_config_validate(&cfg, &pb);
    if (count) {
        rc = hp__cli_print_problems(path, &pb);
        goto out;
    }
    params = cJSON_CreateObject();
    cJSON_AddItemToObject(params, "config", hp_service_config_to_json(&cfg));
    if ((rc = hp__cli_call(cli, "service.set", params, &res, "service set")) != 0)
        goto out;
    if (cli->json) {
        hp__out_json(res, 0);
    } else {
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(res, "created");
        printf("%s service '%s' (%zu action%s)\n", cJSON_IsTrue(created) ? "created" : "updated",
               cfg.name, cfg.n_actions, cfg.n_actions == 1 ? "" : "s");
    }
out:
    cJSON_Delete(res);
    cJSON_Delete(json);
    hp_service_config_free(&cfg);
    hp_problems_free(&pb);
    free(text);
    return rc;
}

const hp__cli_verb hp__cli_service_verbs[] = {
    {"list", "[-q]",
     "list every service with its status, wanted state, pids, uptime, CPU and memory",
     "  -q, --quiet       only the names, one a line (for scripts and completion)\n", cmd_list},
    {"status", "NAME", "show a service's status and the jobs of its latest run", NULL, cmd_status},
    {"get", "NAME", "print a service's config as JSON that service set takes back",
     "With --json, the server's whole record (with its timestamps).\n", cmd_get},
    {"start", "NAME...|--all", "start services: a new run of their actions",
     "Exits 1 when a job of a new run could not even start (or a NAME is unknown); the\n"
     "other services are still started.\n"
     "  --all             every service\n",
     cmd_start},
    {"stop", "NAME...|--all [--cascade]", "stop services' runs and set them wanted=stop",
     "A service that running services require is refused (exit 1, naming them).\n"
     "  --cascade         stop the services requiring it first\n"
     "  --all             every service\n",
     cmd_stop},
    {"restart", "NAME...|--all [--keep-history]", "stop the current runs and start new ones",
     "  --keep-history    keep the previous run and its jobs (deleted by default)\n"
     "  --all             every service\n",
     cmd_restart},
    {"delete", "NAME...|--all [--cascade]", "stop and delete services",
     "A service that other services require is refused (exit 1, naming them).\n"
     "  --cascade         delete the services requiring it first\n"
     "  --all             every service\n",
     cmd_delete},
    {"set", "FILE|-", "create or replace a service from a JSON ServiceConfig",
     "FILE (or - for stdin) holds a ServiceConfig: {\"name\": \"api\", \"description\": ...,\n"
     "\"wanted\": \"start\"|\"stop\", \"requires\": [\"db\"], \"actions\": [{\"name\": \"start\",\n"
     "\"script\": ..., \"depends_on\": [...], \"restart\": \"always\", ...}]}. It is checked\n"
     "here with the server's rules (names, duplicates, unknown dependencies, cycles, script\n"
     "xor command, bounds); every problem is printed and nothing is sent (exit 2). The\n"
     "services in requires start first and must exist; the server refuses a cycle of them.\n",
     cmd_set},
    {NULL, NULL, NULL, NULL, NULL},
};
