/* SPDX-License-Identifier: Apache-2.0 */
/* The `context` group: named endpoints in the contexts file, edited without a server.
 * add takes a socket or a URL with its token file, pin and CA file; use makes one the
 * default of every later command (HERO_PROC_CONTEXT and --context still win); local is
 * the default socket and always there. */
#include "config.h"

#include "cli/cli.h"
#include "cli/output.h"
#include "client/context.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(hp_cli *cli, hp_contexts *all)
{
    hp_error err;

    hp_error_clear(&err);
    if (hp_contexts_load(NULL, 0, all, &err) != HP_OK) {
        fprintf(stderr, "hero_proc: %s\n", err.message);
        return HP_CLI_USAGE;
    }
    (void)cli;
    return 0;
}

static int save(hp_contexts *all, const char *done)
{
    hp_error err;
    int rc = HP_CLI_OK;

    hp_error_clear(&err);
    if (hp_contexts_save(all, &err) != HP_OK) {
        fprintf(stderr, "hero_proc: %s\n", err.message);
        rc = HP_CLI_FAILED;
    } else if (done) {
        printf("%s (%s)\n", done, all->path);
    }
    hp_contexts_clear(all);
    return rc;
}

static int cmd_add(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {{"url", required_argument, NULL, 'u'},
                                          {"socket", required_argument, NULL, 's'},
                                          {"token-file", required_argument, NULL, 't'},
                                          {"pin", required_argument, NULL, 'p'},
                                          {"cacert", required_argument, NULL, 'c'},
                                          HP__CLI_COMMON_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    hp_context ctx = {0};
    hp_contexts all;
    hp_error err;
    char done[200];
    int c, rc;

    while ((c = hp__cli_getopt(cli, argc, argv, "", longs)) != -1) {
        switch (c) {
        case 'u':
            ctx.url = optarg;
            break;
        case 's':
            ctx.socket = optarg;
            break;
        case 't':
            ctx.token_file = optarg;
            break;
        case 'p':
            ctx.pin = optarg;
            break;
        case 'c':
            ctx.cacert = optarg;
            break;
        default:
            return HP_CLI_USAGE;
        }
    }
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0)
        return rc;
    ctx.name = argv[optind];
    if ((rc = load(cli, &all)) != 0)
        return rc;
    hp_error_clear(&err);
    if (hp_contexts_add(&all, &ctx, &err) != HP_OK) {
        hp_contexts_clear(&all);
        if (err.code == HP_E_USAGE)
            return hp__cli_usage(cli, "%s", err.message);
        fprintf(stderr, "hero_proc: %s\n", err.message);
        return HP_CLI_FAILED;
    }
    snprintf(done, sizeof(done), "context '%s' added", ctx.name);
    return save(&all, done);
}

static int cmd_list(hp_cli *cli, int argc, char **argv)
{
    static const char *const head[] = {"", "NAME", "ENDPOINT", "TOKEN FILE", "PIN"};
    hp_contexts all;
    hp__table *t;
    const char *cur;
    int rc;

    while (hp__cli_getopt(cli, argc, argv, "", NULL) != -1)
        return HP_CLI_USAGE;
    if ((rc = hp__cli_positionals(cli, argc, 0, 0)) != 0 || (rc = load(cli, &all)) != 0)
        return rc;
    cur = all.current ? all.current : "local";
    if (cli->json) {
        cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "contexts");
        cJSON_AddStringToObject(o, "current", cur);
        for (size_t i = 0; i < all.count; i++) {
            const hp_context *x = &all.items[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", x->name);
            cJSON_AddStringToObject(e, x->url ? "url" : "socket", x->url ? x->url : x->socket);
            if (x->token_file)
                cJSON_AddStringToObject(e, "token_file", x->token_file);
            if (x->pin)
                cJSON_AddStringToObject(e, "pin", x->pin);
            if (x->cacert)
                cJSON_AddStringToObject(e, "cacert", x->cacert);
            cJSON_AddItemToArray(list, e);
        }
        hp__out_json(o, 0);
        cJSON_Delete(o);
        hp_contexts_clear(&all);
        return HP_CLI_OK;
    }
    t = hp__table_new(5, head);
    {
        char *sock = hp_endpoint_default_socket();
        const char *cells[5] = {strcmp(cur, "local") == 0 ? "*" : "", "local", sock ? sock : "", "",
                                ""};
        hp__table_row(t, cells);
        free(sock);
    }
    for (size_t i = 0; i < all.count; i++) {
        const hp_context *x = &all.items[i];
        const char *cells[5] = {strcmp(cur, x->name) == 0 ? "*" : "", x->name,
                                x->url ? x->url : x->socket, x->token_file ? x->token_file : "",
                                x->pin ? x->pin : ""};
        hp__table_row(t, cells);
    }
    hp__table_print(t, stdout);
    hp__table_free(t);
    hp_contexts_clear(&all);
    return HP_CLI_OK;
}

static int cmd_use(hp_cli *cli, int argc, char **argv)
{
    hp_contexts all;
    char done[200];
    const char *name;
    int rc;

    while (hp__cli_getopt(cli, argc, argv, "", NULL) != -1)
        return HP_CLI_USAGE;
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0 || (rc = load(cli, &all)) != 0)
        return rc;
    name = argv[optind];
    if (strcmp(name, "local") != 0 && !hp_contexts_find(&all, name)) {
        fprintf(stderr, "hero_proc: no context '%s' in %s (hero_proc context list)\n", name,
                all.path);
        hp_contexts_clear(&all);
        return HP_CLI_FAILED;
    }
    free(all.current);
    all.current = strcmp(name, "local") == 0 ? NULL : strdup(name);
    snprintf(done, sizeof(done), "now using context '%s'", name);
    return save(&all, done);
}

static int cmd_remove(hp_cli *cli, int argc, char **argv)
{
    hp_contexts all;
    hp_error err;
    char done[200];
    int rc;

    while (hp__cli_getopt(cli, argc, argv, "", NULL) != -1)
        return HP_CLI_USAGE;
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0 || (rc = load(cli, &all)) != 0)
        return rc;
    hp_error_clear(&err);
    if (hp_contexts_remove(&all, argv[optind], &err) != HP_OK) {
        fprintf(stderr, "hero_proc: %s\n", err.message);
        hp_contexts_clear(&all);
        return HP_CLI_FAILED;
    }
    snprintf(done, sizeof(done), "context '%s' removed", argv[optind]);
    return save(&all, done);
}

const hp__cli_verb hp__cli_context_verbs[] = {
    {"add", "NAME --url URL|--socket PATH [--token-file F] [--pin P] [--cacert F]",
     "name a server in the contexts file",
     "The file is $XDG_CONFIG_HOME/hero_proc/contexts.json (~/.config without it).\n"
     "--pin is what hero_proc_server --tls-self-signed prints (sha256//BASE64).\n",
     cmd_add},
    {"list", "", "list the contexts; * marks the current one", NULL, cmd_list},
    {"use", "NAME", "make a context the default of later commands (local: the socket)", NULL,
     cmd_use},
    {"remove", "NAME", "forget a context", NULL, cmd_remove},
    {NULL, NULL, NULL, NULL, NULL},
};
