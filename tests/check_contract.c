/* SPDX-License-Identifier: Apache-2.0 */
/* data/openrpc.json, the single source of truth of the wire API: it loads, names the
 * 33 methods of DESIGN section 2, gives each params, a result, an example and the role
 * it needs, keeps the DESIGN field names, and every $ref inside it resolves. */
#include "config.h"

#include "check_common.h"
#include "common/spec.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const design_methods[] = {
    "rpc.discover",    "system.ping",    "system.info",    "system.reexec", "service.set",
    "service.get",     "service.list",   "service.status", "service.start", "service.stop",
    "service.restart", "service.delete", "run.submit",     "run.get",       "run.list",
    "run.wait",        "run.cancel",     "run.delete",     "job.list",      "job.get",
    "job.logs",        "job.cancel",     "logs.tail",      "logs.search",   "logs.insert",
    "secret.set",      "secret.get",     "secret.list",    "secret.delete", "token.create",
    "token.list",      "token.revoke",   "events.wait",
};
enum { N_METHODS = sizeof(design_methods) / sizeof(design_methods[0]) };

static cJSON *doc;

static void load_contract(void)
{
    char *path = hp_test_join(hp_test_srcdir(), "data/openrpc.json");
    char *text = hp_test_read_file(path, NULL);

    ck_assert_msg(text != NULL, "cannot read %s", path);
    doc = cJSON_Parse(text);
    ck_assert_msg(doc != NULL, "%s is not valid JSON near: %.40s", path, cJSON_GetErrorPtr());
    free(text);
    free(path);
}

static void unload_contract(void)
{
    cJSON_Delete(doc);
    doc = NULL;
}

static const cJSON *method_named(const char *name)
{
    const cJSON *m;

    cJSON_ArrayForEach (m, cJSON_GetObjectItemCaseSensitive(doc, "methods")) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return m;
    }
    return NULL;
}

/* Resolves a local JSON pointer ("#/a/b~1c") against the document; NULL if it does not. */
static const cJSON *resolve_ref(const char *ref)
{
    const cJSON *node = doc;
    char token[256];

    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    ref += 2;
    while (node && *ref) {
        size_t len = 0;
        while (*ref && *ref != '/' && len < sizeof(token) - 1) {
            if (ref[0] == '~' && ref[1] == '1') {
                token[len++] = '/';
                ref += 2;
            } else if (ref[0] == '~' && ref[1] == '0') {
                token[len++] = '~';
                ref += 2;
            } else {
                token[len++] = *ref++;
            }
        }
        token[len] = '\0';
        if (*ref == '/')
            ref++;
        node = cJSON_GetObjectItemCaseSensitive(node, token);
    }
    return node;
}

static void check_refs(const cJSON *node, int *count)
{
    const cJSON *child;

    if (node->string && strcmp(node->string, "$ref") == 0) {
        ck_assert_msg(cJSON_IsString(node), "a $ref that is not a string");
        ck_assert_msg(resolve_ref(node->valuestring) != NULL, "$ref %s does not resolve",
                      node->valuestring);
        (*count)++;
    }
    cJSON_ArrayForEach (child, node)
        check_refs(child, count);
}

/* The schema behind a param or result, following one $ref. */
static const cJSON *schema_of(const cJSON *holder)
{
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(holder, "schema");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(schema, "$ref");

    return cJSON_IsString(ref) ? resolve_ref(ref->valuestring) : schema;
}

static int has_param(const cJSON *method, const char *name)
{
    const cJSON *p;

    cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(method, "params")) {
        if (cJSON_IsObject(p) && cJSON_HasObjectItem(p, "$ref"))
            p = resolve_ref(cJSON_GetObjectItemCaseSensitive(p, "$ref")->valuestring);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return 1;
    }
    return 0;
}

static void assert_fields(const char *schema_name, const char *const *fields)
{
    char ref[128];
    const cJSON *props;

    snprintf(ref, sizeof(ref), "#/components/schemas/%s/properties", schema_name);
    props = resolve_ref(ref);
    ck_assert_msg(props != NULL, "schema %s has no properties", schema_name);
    for (; *fields; fields++)
        ck_assert_msg(cJSON_HasObjectItem(props, *fields), "schema %s lacks field '%s'",
                      schema_name, *fields);
}

START_TEST(contract_is_an_openrpc_1_2_6_document)
{
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "openrpc");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");

    ck_assert(cJSON_IsString(version));
    ck_assert_str_eq(version->valuestring, "1.2.6");
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(info, "title")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(info, "version")));
}
END_TEST

START_TEST(contract_names_exactly_the_33_design_methods)
{
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(doc, "methods");
    int i = 0;
    const cJSON *m;

    ck_assert_int_eq(cJSON_GetArraySize(methods), N_METHODS);
    cJSON_ArrayForEach (m, methods) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        ck_assert(cJSON_IsString(name));
        ck_assert_str_eq(name->valuestring, design_methods[i]);
        i++;
    }
}
END_TEST

START_TEST(every_method_has_params_result_and_an_example)
{
    for (int i = 0; i < N_METHODS; i++) {
        const cJSON *m = method_named(design_methods[i]);
        const cJSON *result, *examples, *ex;

        ck_assert_msg(m != NULL, "method %s missing", design_methods[i]);
        ck_assert_msg(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(m, "params")),
                      "%s has no params array", design_methods[i]);
        result = cJSON_GetObjectItemCaseSensitive(m, "result");
        ck_assert_msg(cJSON_IsObject(result) && schema_of(result) != NULL,
                      "%s has no result schema", design_methods[i]);
        examples = cJSON_GetObjectItemCaseSensitive(m, "examples");
        ck_assert_msg(cJSON_GetArraySize(examples) >= 1, "%s has no example", design_methods[i]);
        cJSON_ArrayForEach (ex, examples) {
            const cJSON *p;
            ck_assert_msg(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ex, "params")),
                          "an example of %s has no params", design_methods[i]);
            ck_assert_msg(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ex, "result")),
                          "an example of %s has no result", design_methods[i]);
            cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(ex, "params")) {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
                ck_assert(cJSON_IsString(n));
                ck_assert_msg(has_param(m, n->valuestring),
                              "an example of %s passes undeclared param '%s'", design_methods[i],
                              n->valuestring);
            }
        }
    }
}
END_TEST

START_TEST(every_method_takes_params_by_name)
{
    for (int i = 0; i < N_METHODS; i++) {
        const cJSON *ps =
            cJSON_GetObjectItemCaseSensitive(method_named(design_methods[i]), "paramStructure");
        ck_assert_msg(cJSON_IsString(ps) && strcmp(ps->valuestring, "by-name") == 0,
                      "%s does not take params by name", design_methods[i]);
    }
}
END_TEST

START_TEST(every_ref_resolves_inside_the_document)
{
    int count = 0;

    check_refs(doc, &count);
    ck_assert_int_gt(count, 27);
}
END_TEST

START_TEST(error_codes_are_those_of_the_design)
{
    static const int expected[] = {-32700, -32600, -32601, -32602, -32603, -32000,
                                   -32001, -32002, -32003, -32004, -32005};
    const cJSON *errors = resolve_ref("#/components/errors");
    const cJSON *e;
    int seen = 0;

    ck_assert_ptr_nonnull(errors);
    cJSON_ArrayForEach (e, errors) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(e, "message");
        int found = 0;
        ck_assert(cJSON_IsNumber(code));
        ck_assert_msg(cJSON_IsString(message) && strlen(message->valuestring) > 5,
                      "error %d has no message", code->valueint);
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
            found |= expected[i] == code->valueint;
        ck_assert_msg(found, "error code %d is not in the design", code->valueint);
        seen++;
    }
    ck_assert_int_eq(seen, (int)(sizeof(expected) / sizeof(expected[0])));
}
END_TEST

/* A client switches on these strings: the contract lists exactly the codes the server
 * can send (HP_PROBLEM_TABLE), so neither can gain one the other lacks. */
START_TEST(problem_codes_are_those_of_the_problem_table)
{
    const cJSON *code = resolve_ref("#/components/errors/InvalidParams");
    const cJSON *e;
    int seen = 0;

    code = cJSON_GetObjectItemCaseSensitive(code, "data");
    code = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(code, "properties"),
                                            "details");
    code = cJSON_GetObjectItemCaseSensitive(code, "items");
    code = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(code, "properties"),
                                            "code");
    ck_assert_msg(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(code, "enum")),
                  "InvalidParams data.details[].code has no enum");
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(code, "enum")) {
        hp_problem_code c;
        ck_assert(cJSON_IsString(e));
        ck_assert_msg(hp_problem_code_parse(e->valuestring, &c) == 0,
                      "the contract's code %s is not in HP_PROBLEM_TABLE", e->valuestring);
        ck_assert_str_eq(hp_problem_code_name(c), e->valuestring);
        seen++;
    }
    ck_assert_int_eq(seen, HP_PROBLEM__COUNT);
}
END_TEST

START_TEST(objects_keep_the_design_field_names)
{
    static const char *const job[] = {
        "id",        "run_id", "action",        "status",      "attempt", "pid",
        "exit_code", "signal", "started_at_ms", "ended_at_ms", "error",   NULL};
    static const char *const run[] = {"id",          "name",          "service",
                                      "status",      "created_at_ms", "started_at_ms",
                                      "ended_at_ms", "jobs",          NULL};
    static const char *const line[] = {"seq", "ts_ms", "src", "job_id", "stream", "line", NULL};
    static const char *const status[] = {"name", "status",   "wanted", "run_id",
                                         "jobs", "restarts", NULL};
    static const char *const action[] = {
        "name",       "script", "interpreter",    "command", "cwd",  "env", "timeout_secs",
        "depends_on", "retry",  "retry_delay_ms", "restart", "tags", NULL};
    static const char *const config[] = {"name", "description", "actions", "wanted", NULL};

    assert_fields("Job", job);
    assert_fields("Run", run);
    assert_fields("LogLine", line);
    assert_fields("ServiceStatus", status);
    assert_fields("ActionSpec", action);
    assert_fields("ServiceConfig", config);
}
END_TEST

START_TEST(every_list_method_offers_if_changed_since)
{
    static const char *const lists[] = {"service.list", "run.list", "job.list", "secret.list"};

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        ck_assert_msg(has_param(method_named(lists[i]), "if_changed_since"),
                      "%s lacks if_changed_since", lists[i]);
}
END_TEST

/* The server enforces these x-role values (auth.c reads them): operate is exactly the
 * start/stop/restart/cancel family; what touches secrets or tokens is admin's. */
START_TEST(every_method_says_the_role_it_needs)
{
    static const char *const operate[] = {"service.start", "service.stop", "service.restart",
                                          "run.cancel", "job.cancel"};
    static const char *const admin[] = {"system.reexec", "service.set", "service.delete",
                                        "run.submit",    "run.delete",  "logs.insert",
                                        "secret.set",    "secret.get",  "secret.delete",
                                        "token.create",  "token.list",  "token.revoke"};

    for (int i = 0; i < N_METHODS; i++) {
        const cJSON *role =
            cJSON_GetObjectItemCaseSensitive(method_named(design_methods[i]), "x-role");
        const char *want = "read";
        ck_assert_msg(cJSON_IsString(role), "%s has no x-role", design_methods[i]);
        for (size_t k = 0; k < sizeof(operate) / sizeof(operate[0]); k++)
            if (strcmp(operate[k], design_methods[i]) == 0)
                want = "operate";
        for (size_t k = 0; k < sizeof(admin) / sizeof(admin[0]); k++)
            if (strcmp(admin[k], design_methods[i]) == 0)
                want = "admin";
        ck_assert_msg(strcmp(role->valuestring, want) == 0, "%s: x-role %s, expected %s",
                      design_methods[i], role->valuestring, want);
    }
}
END_TEST

static Suite *contract_suite(void)
{
    Suite *s = suite_create("contract");
    TCase *tc = tcase_create("openrpc");

    tcase_add_checked_fixture(tc, load_contract, unload_contract);
    tcase_add_test(tc, contract_is_an_openrpc_1_2_6_document);
    tcase_add_test(tc, contract_names_exactly_the_33_design_methods);
    tcase_add_test(tc, every_method_has_params_result_and_an_example);
    tcase_add_test(tc, every_method_takes_params_by_name);
    tcase_add_test(tc, every_ref_resolves_inside_the_document);
    tcase_add_test(tc, error_codes_are_those_of_the_design);
    tcase_add_test(tc, problem_codes_are_those_of_the_problem_table);
    tcase_add_test(tc, objects_keep_the_design_field_names);
    tcase_add_test(tc, every_list_method_offers_if_changed_since);
    tcase_add_test(tc, every_method_says_the_role_it_needs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(contract_suite());
}
