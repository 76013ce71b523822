/* SPDX-License-Identifier: Apache-2.0 */
/* The `token` group: API tokens with a role for the TCP endpoint (admin only). create
 * prints the token once (the server keeps only its hash); list shows names and roles;
 * revoke refuses the token from its next request on. */
#include "config.h"

#include "cli/cli.h"
#include "cli/output.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *name_params(const char *name)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddStringToObject(p, "name", name);
    return p;
}

static int cmd_create(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {
        {"role", required_argument, NULL, 'r'}, HP__CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    const char *role = NULL;
    const cJSON *token;
    cJSON *params, *res;
    int c, rc;

    while ((c = hp__cli_getopt(cli, argc, argv, "", longs)) != -1) {
        if (c != 'r')
            return HP_CLI_USAGE;
        role = optarg;
    }
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0)
        return rc;
    if (!role ||
        (strcmp(role, "read") != 0 && strcmp(role, "operate") != 0 && strcmp(role, "admin") != 0))
        return hp__cli_usage(cli, "--role must be read, operate or admin");
    params = name_params(argv[optind]);
    cJSON_AddStringToObject(params, "role", role);
    if ((rc = hp__cli_call(cli, "token.create", params, &res, "token create")) != 0)
        return rc;
    token = cJSON_GetObjectItemCaseSensitive(res, "token");
    if (cli->json) {
        hp__out_json(res, 0);
    } else if (!cJSON_IsString(token)) {
        fprintf(stderr, "hero_proc: token create: the server's answer has no token\n");
        rc = HP_CLI_UNREACHABLE;
    } else {
        /* The token alone on stdout, so `hero_proc token create x --role read > f` works. */
        printf("%s\n", token->valuestring);
        fprintf(stderr,
                "hero_proc: token '%s' (%s) made; it is shown only now: the server keeps "
                "its hash\n",
                argv[optind], role);
    }
    cJSON_Delete(res);
    return rc;
}

static int cmd_list(hp_cli *cli, int argc, char **argv)
{
    static const char *const head[] = {"NAME", "ROLE", "CREATED"};
    const cJSON *list, *it;
    cJSON *res;
    hp__table *t;
    int rc;

    while (hp__cli_getopt(cli, argc, argv, "", NULL) != -1)
        return HP_CLI_USAGE;
    if ((rc = hp__cli_positionals(cli, argc, 0, 0)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "token.list", NULL, &res, "token list")) != 0)
        return rc;
    if (hp__cli_json_done(cli, res))
        return HP_CLI_OK;
    list = cJSON_GetObjectItemCaseSensitive(res, "tokens");
    if (cJSON_GetArraySize(list) == 0) {
        printf("No tokens.\n");
        cJSON_Delete(res);
        return HP_CLI_OK;
    }
    t = hp__table_new(3, head);
    cJSON_ArrayForEach (it, list) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(it, "created_at_ms");
        char when[48];
        const char *cells[3];
        cells[0] = cJSON_IsString(name) ? name->valuestring : "";
        cells[1] = cJSON_IsString(role) ? role->valuestring : "";
        cells[2] = hp__out_when(cJSON_IsNumber(created) ? (int64_t)created->valuedouble : 0, when,
                                sizeof(when));
        hp__table_row(t, cells);
    }
    hp__table_print(t, stdout);
    hp__table_free(t);
    cJSON_Delete(res);
    return HP_CLI_OK;
}

static int cmd_revoke(hp_cli *cli, int argc, char **argv)
{
    cJSON *res;
    int rc;

    while (hp__cli_getopt(cli, argc, argv, "", NULL) != -1)
        return HP_CLI_USAGE;
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0)
        return rc;
    if ((rc = hp__cli_call(cli, "token.revoke", name_params(argv[optind]), &res, "token revoke")) !=
        0)
        return rc;
    if (cli->json)
        hp__out_json(res, 0);
    else
        printf("token '%s' revoked\n", argv[optind]);
    cJSON_Delete(res);
    return HP_CLI_OK;
}

const hp__cli_verb hp__cli_token_verbs[] = {
    {"create", "NAME --role read|operate|admin", "make an API token and print it (only now)",
     "read calls only what changes nothing; operate also starts, stops, restarts and\n"
     "cancels; admin may do everything. The token goes to stdout, the note to stderr.\n",
     cmd_create},
    {"list", "", "list API tokens: names and roles, never the tokens", NULL, cmd_list},
    {"revoke", "NAME", "revoke an API token: its next request is refused", NULL, cmd_revoke},
    {NULL, NULL, NULL, NULL, NULL},
};
