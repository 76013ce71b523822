/* SPDX-License-Identifier: Apache-2.0 */
/* The `secret` and `system` groups. A secret's value is printed by `secret get` only, and
 * read from stdin with `-` so that it need not appear in the process list; list shows
 * names and times, never values. system ping and info check the server; system reexec
 * upgrades it in place. */
#include "config.h"

#include "cli/cli.h"
#include "cli/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET_MAX 65536

static cJSON *name_params(const char *name)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddStringToObject(p, "name", name);
    return p;
}

static int no_options(hp_cli *cli, int argc, char **argv, int min, int max)
{
    while (hp__cli_getopt(cli, argc, argv, "", NULL) != -1)
        return HP_CLI_USAGE;
    return hp__cli_positionals(cli, argc, min, max);
}

static int cmd_set(hp_cli *cli, int argc, char **argv)
{
    cJSON *params, *res;
    char *value = NULL;
    const char *name;
    size_t len;
    int rc;

    if ((rc = no_options(cli, argc, argv, 2, 2)) != 0)
        return rc;
    name = argv[optind];
    if (strcmp(argv[optind + 1], "-") == 0) {
        if ((rc = hp__cli_read_file(cli, "-", SECRET_MAX + 2, &value, &len)) != 0)
            return rc;
        /* One trailing newline is the end of the line typed or echoed, not the value. */
        if (len && value[len - 1] == '\n')
            value[--len] = '\0';
        if (len && value[len - 1] == '\r')
            value[--len] = '\0';
        if (strlen(value) != len) {
            free(value);
            return hp__cli_usage(cli, "the value on stdin contains a NUL byte");
        }
    }
    params = name_params(name);
    cJSON_AddStringToObject(params, "value", value ? value : argv[optind + 1]);
    free(value);
    if ((rc = hp__cli_call(cli, "secret.set", params, &res, "secret set")) != 0)
        return rc;
    if (cli->json)
        hp__out_json(res, 0);
    else
        printf("secret '%s' set\n", name);
    cJSON_Delete(res);
    return HP_CLI_OK;
}

static int cmd_get(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    const cJSON *value;
    int rc;

    if ((rc = no_options(cli, argc, argv, 1, 1)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "secret.get", name_params(argv[optind]), &res, "secret get")) != 0)
        return rc;
    value = cJSON_GetObjectItemCaseSensitive(res, "value");
    if (cli->json) {
        hp__out_json(res, 0);
    } else if (!cJSON_IsString(value)) {
        fprintf(stderr, "hero_proc: secret get: the server's answer has no value\n");
        rc = HP_CLI_UNREACHABLE;
    } else if (isatty(STDOUT_FILENO)) {
        /* On a terminal the value is escaped; in a pipe it is passed on exactly. */
        char *shown = hp__out_escape(value->valuestring);
        printf("%s\n", shown ? shown : "");
        free(shown);
    } else {
        printf("%s\n", value->valuestring);
    }
    cJSON_Delete(res);
    return rc;
}

static int cmd_list(hp_cli *cli, int argc, char **argv)
{
    static const char *const head[] = {"NAME", "CREATED", "UPDATED"};
    cJSON *res;
    hp__table *t;
    int rc;

    if ((rc = no_options(cli, argc, argv, 0, 0)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "secret.list", NULL, &res, "secret list")) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    {
        hp_error err;
        hp_secret_list *list = hp_secret_list_from_json(res, &err);
        cJSON_Delete(res);
        if (!list)
            return hp__cli_fail(cli, "secret list", &err);
        if (list->n_secrets == 0) {
            printf("No secrets.\n");
            hp_secret_list_free(list);
            return HP_CLI_OK;
        }
        t = hp__table_new(3, head);
        for (size_t i = 0; i < list->n_secrets; i++) {
            char c[48], u[48];
            const char *cells[3];
            cells[0] = list->secrets[i].name;
            cells[1] = hp__out_when(list->secrets[i].created_at_ms, c, sizeof(c));
            cells[2] = hp__out_when(list->secrets[i].updated_at_ms, u, sizeof(u));
            hp__table_row(t, cells);
        }
        hp__table_print(t, stdout);
        hp__table_free(t);
        hp_secret_list_free(list);
    }
    return HP_CLI_OK;
}

static int cmd_delete(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    int rc;

    if ((rc = no_options(cli, argc, argv, 1, 1)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "secret.delete", name_params(argv[optind]), &res,
                           "secret delete")) != 0)
        return rc;
    if (cli->json)
        hp__out_json(res, 0);
    else
        printf("deleted secret '%s'\n", argv[optind]);
    cJSON_Delete(res);
    return HP_CLI_OK;
}

static int cmd_ping(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    const cJSON *version;
    int64_t t0 = hp__out_now_ms();
    int rc;

    if ((rc = no_options(cli, argc, argv, 0, 0)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "system.ping", NULL, &res, "system ping")) != 0)
        return rc;
    version = cJSON_GetObjectItemCaseSensitive(res, "version");
    if (cli->json)
        hp__out_json(res, 0);
    else
        printf("pong from hero_proc_server %s at %s (%lld ms)\n",
               cJSON_IsString(version) ? version->valuestring : "?",
               hp_client_endpoint(cli->client), (long long)(hp__out_now_ms() - t0));
    cJSON_Delete(res);
    return HP_CLI_OK;
}

/* The store line: whether the server can write its database (a full disk, or another
 * process holding its write lock, makes it fail while the server keeps answering). */
static void print_store(const hp_system_info *info)
{
    const hp_store_health *st = &info->store;
    char since[48];

    if (!info->store_known)
        printf("store       not reported by this server\n");
    else if (st->ok && !st->dropped_lines && !st->dropped_writes)
        printf("store       ok\n");
    else if (st->ok)
        printf(
            "store       ok (%lld lines dropped, %lld writes dropped since the server started)\n",
            (long long)st->dropped_lines, (long long)st->dropped_writes);
    else
        printf("store       FAILING since %s: %s (%lld pending, %lld lines dropped, %lld writes "
               "dropped)\n",
               hp__out_when(st->since_ms, since, sizeof(since)), st->error ? st->error : "?",
               (long long)st->pending, (long long)st->dropped_lines, (long long)st->dropped_writes);
}

static int cmd_info(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    hp_system_info *info;
    hp_error err;
    char up[32], started[48];
    int rc;

    if ((rc = no_options(cli, argc, argv, 0, 0)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "system.info", NULL, &res, "system info")) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    info = hp_system_info_from_json(res, &err);
    cJSON_Delete(res);
    if (!info)
        return hp__cli_fail(cli, "system info", &err);
    printf("version     %s\n"
           "pid         %lld\n"
           "started     %s (up %s)\n"
           "endpoint    %s\n"
           "data dir    %s\n"
           "services    %lld\n"
           "runs        %lld\n"
           "jobs        %lld (%lld running)\n"
           "secrets     %lld\n"
           "log lines   %lld (%lld dropped)\n"
           "rev         %lld\n",
           info->version, (long long)info->pid,
           hp__out_when(info->started_at_ms, started, sizeof(started)),
           hp__out_duration(info->uptime_ms, up, sizeof(up)), hp_client_endpoint(cli->client),
           info->data_dir ? info->data_dir : "-", (long long)info->counts.services,
           (long long)info->counts.runs, (long long)info->counts.jobs,
           (long long)info->counts.running_jobs, (long long)info->counts.secrets,
           (long long)info->counts.log_lines, (long long)info->dropped_log_lines,
           (long long)info->rev);
    print_store(info);
    hp_system_info_free(info);
    return HP_CLI_OK;
}

/* The server answers before it execs; the next call waits in the socket's queue (or is
 * retried for 2 s), so success here means the upgrade is under way. */
static int cmd_reexec(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    int rc;

    if ((rc = no_options(cli, argc, argv, 0, 0)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "system.reexec", NULL, &res, "system reexec")) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    printf("hero_proc_server pid %lld is executing its binary again; its jobs run on\n",
           (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res, "pid")));
    cJSON_Delete(res);
    return HP_CLI_OK;
}

const hp__cli_verb hp__cli_secret_verbs[] = {
    {"set", "NAME VALUE|-", "store a secret",
     "VALUE - reads the value from stdin (one line or all of it; one trailing newline is\n"
     "dropped), which keeps it out of the process list and the shell history.\n",
     cmd_set},
    {"get", "NAME", "print a secret's value (the only command that does)", NULL, cmd_get},
    {"list", "", "list secret names and times, never values", NULL, cmd_list},
    {"delete", "NAME", "delete a secret", NULL, cmd_delete},
    {NULL, NULL, NULL, NULL, NULL},
};

const hp__cli_verb hp__cli_system_verbs[] = {
    {"ping", "", "check that the server answers", NULL, cmd_ping},
    {"info", "", "show the server's version, uptime, paths, counts and store health", NULL,
     cmd_info},
    {"reexec", "", "upgrade the server in place: it runs its binary again, jobs keep running",
     "The server checks that its binary starts (--version) first, and runs on as it was when\n"
     "it does not. Same as sending it SIGHUP.\n",
     cmd_reexec},
    {NULL, NULL, NULL, NULL, NULL},
};
