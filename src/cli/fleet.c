/* SPDX-License-Identifier: Apache-2.0 */
/* `hero_proc --all-contexts service list`: every context of the contexts file (and local)
 * asked at once, one thread and one client each, merged into one table with a HOST
 * column. An unreachable host is a line of its own and never holds up the others: each
 * waits at most its connect timeout, all at the same time. */
#include "config.h"

#include "builders/factory.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "client/context.h"
#include "client/sdk.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct host {
    const char *name;
    pthread_t thread;
    int started;
    hp_service_list *list; /* NULL when error says why */
    hp_error error;
} host;

static void *ask(void *ud)
{
    host *h = ud;
    hp_factory_options o = {.context = h->name, .no_spawn = 1, .timeout_ms = 10000};
    hp_client *c;

    hp_error_clear(&h->error);
    c = hp_factory_auto(&o, &h->error);
    if (c && hp_services_list(hp_client_sdk(c), 0, &h->list, &h->error) != HP_OK)
        h->list = NULL;
    hp_client_free(c);
    return NULL;
}

static cJSON *hosts_json(const host *hosts, size_t n)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "hosts");

    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "context", hosts[i].name);
        cJSON_AddBoolToObject(e, "reachable", hosts[i].list != NULL);
        if (hosts[i].list)
            cJSON_AddItemToObject(e, "list", hp_service_list_to_json(hosts[i].list));
        else
            cJSON_AddStringToObject(e, "error", hosts[i].error.message);
        cJSON_AddItemToArray(arr, e);
    }
    return o;
}

int hp__cli_all_contexts(hp_cli *cli, int argc, char **argv)
{
    static const char *const head[] = {"HOST", "NAME", "STATUS", "WANTED", "RUN", "RESTARTS"};
    hp_contexts all;
    hp_error err;
    host *hosts;
    size_t n;
    int rc = HP_CLI_OK;
    hp__table *t;

    if (argc != 2 || strcmp(argv[0], "service") != 0 || strcmp(argv[1], "list") != 0)
        return hp__cli_usage(cli, "--all-contexts goes with service list only");
    hp_error_clear(&err);
    if (hp_contexts_load(NULL, 0, &all, &err) != HP_OK) {
        fprintf(stderr, "hero_proc: %s\n", err.message);
        return HP_CLI_USAGE;
    }
    n = all.count + 1;
    hosts = calloc(n, sizeof(*hosts));
    if (!hosts) {
        hp_contexts_clear(&all);
        return HP_CLI_FAILED;
    }
    hosts[0].name = "local";
    for (size_t i = 0; i < all.count; i++)
        hosts[i + 1].name = all.items[i].name;
    for (size_t i = 0; i < n; i++)
        hosts[i].started = pthread_create(&hosts[i].thread, NULL, ask, &hosts[i]) == 0;
    for (size_t i = 0; i < n; i++) {
        if (hosts[i].started)
            pthread_join(hosts[i].thread, NULL);
        else
            ask(&hosts[i]);
    }
    if (cli->json) {
        cJSON *o = hosts_json(hosts, n);
        hp__out_json(o, 0);
        cJSON_Delete(o);
    } else {
        t = hp__table_new(6, head);
        for (size_t i = 0; i < n; i++) {
            const hp_service_list *l = hosts[i].list;
            if (!l) {
                const char *cells[6] = {hosts[i].name, "-", "unreachable", "-", "-", "-"};
                hp__table_row(t, cells);
                continue;
            }
            for (size_t k = 0; k < l->n_services; k++) {
                const hp_service_summary *s = &l->services[k];
                char status[64], run[24], restarts[24];
                const char *cells[6];
                hp__out_status(hp_service_state_name(s->status), status, sizeof(status));
                snprintf(run, sizeof(run), "%lld", (long long)s->run_id);
                snprintf(restarts, sizeof(restarts), "%lld", (long long)s->restarts);
                cells[0] = hosts[i].name;
                cells[1] = s->name;
                cells[2] = status;
                cells[3] = s->wanted_start ? "start" : "stop";
                cells[4] = s->run_id ? run : "-";
                cells[5] = restarts;
                hp__table_row(t, cells);
            }
        }
        hp__table_print(t, stdout);
        hp__table_free(t);
    }
    for (size_t i = 0; i < n; i++) {
        if (!hosts[i].list) {
            fprintf(stderr, "hero_proc: %s: %s\n", hosts[i].name, hosts[i].error.message);
            rc = HP_CLI_UNREACHABLE;
        }
        hp_service_list_free(hosts[i].list);
    }
    free(hosts);
    hp_contexts_clear(&all);
    return rc;
}
