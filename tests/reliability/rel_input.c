/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile input against one real hero_proc_server: malformed JSON, deep nesting, huge
 * bodies, wrong types, NULs, unknown methods and fields, cycles, unknown dependencies,
 * names with control characters. Each must get a clear JSON-RPC error; afterwards the
 * daemon still answers and what was stored before is unchanged. */
#include "config.h"

#include "../check_common.h"
#include "../server_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hostile {
    const char *what;
    const char *body; /* single quotes stand for double ones */
    int code;         /* the JSON-RPC error code it must get */
} hostile;

static const hostile inputs[] = {
    {"truncated JSON", "{'jsonrpc':'2.0','id':1,'method':'system.ping'", -32700},
    {"not JSON at all", "hello", -32700},
    {"a trailing comma", "{'jsonrpc':'2.0','id':1,'method':'system.ping',}", -32700},
    {"a request that is a number", "42", -32600},
    {"an empty batch", "[]", -32600},
    {"no jsonrpc member", "{'id':1,'method':'system.ping'}", -32600},
    {"a method that is a number", "{'jsonrpc':'2.0','id':1,'method':7}", -32600},
    {"an unknown method", "{'jsonrpc':'2.0','id':1,'method':'system.reboot'}", -32601},
    {"params as a list", "{'jsonrpc':'2.0','id':1,'method':'service.get','params':['web']}",
     -32602},
    {"an unknown param", "{'jsonrpc':'2.0','id':1,'method':'system.ping','params':{'x':1}}",
     -32602},
    {"a name of the wrong type",
     "{'jsonrpc':'2.0','id':1,'method':'service.get','params':{'name':5}}", -32602},
    {"an id out of range", "{'jsonrpc':'2.0','id':1,'method':'run.get','params':{'id':-1}}",
     -32602},
    {"a huge number", "{'jsonrpc':'2.0','id':1,'method':'run.get','params':{'id':1e999}}", -32602},
    {"a NUL in the stored service's name",
     "{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{'name':"
     "'keep\\u0000x','actions':[{'name':'a','script':'echo evil'}]}}}",
     -32602},
    {"a NUL in a script",
     "{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{'name':'keep',"
     "'actions':[{'name':'a','script':'echo evil\\u0000'}]}}}",
     -32602},
    {"a NUL in a secret",
     "{'jsonrpc':'2.0','id':1,'method':'secret.set','params':{'name':'tok',"
     "'value':'evil\\u0000'}}",
     -32602},
    {"a control character in a name",
     "{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{'name':'ke\\u0001ep',"
     "'actions':[{'name':'a','script':'true'}]}}}",
     -32602},
    {"the name ..",
     "{'jsonrpc':'2.0','id':1,'method':'secret.set','params':{'name':'..',"
     "'value':'v'}}",
     -32602},
    {"an unknown field",
     "{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{"
     "'name':'keep','bogus':1,'actions':[{'name':'a','script':'x'}]}}}",
     -32602},
    {"a typo in an action field",
     "{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{'name':'keep',"
     "'actions':[{'name':'a','scirpt':'echo evil'}]}}}",
     -32602},
    {"a dependency cycle",
     "{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{'name':'keep',"
     "'actions':[{'name':'a','script':'x','depends_on':['b']},{'name':'b','script':'x',"
     "'depends_on':['a']}]}}}",
     -32602},
    {"an unknown dependency",
     "{'jsonrpc':'2.0','id':1,'method':'run.submit','params':{'name':'r','actions':["
     "{'name':'a','script':'true','depends_on':['ghost']}]}}",
     -32602},
    {"no actions",
     "{'jsonrpc':'2.0','id':1,'method':'run.submit','params':{'name':'r',"
     "'actions':[]}}",
     -32602},
    {"a wrong status filter",
     "{'jsonrpc':'2.0','id':1,'method':'run.list','params':{'status':'exploded'}}", -32602},
    {"a negative rev",
     "{'jsonrpc':'2.0','id':1,'method':'service.list','params':"
     "{'if_changed_since':-5}}",
     -32602},
};

static char *quoted(const char *body)
{
    char *s = strdup(body);

    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

/* POSTs len bytes and returns the code of the error in the single reply (0 if none). */
static int code_of(const char *body, size_t len, char *message, size_t size)
{
    long status = 0;
    char *reply = NULL;
    cJSON *json, *err;
    int code = 0;

    ck_assert_int_eq(hpt_post(body, len, &status, &reply), 0);
    json = cJSON_Parse(reply);
    ck_assert_msg(json != NULL, "the answer is not JSON: %.200s", reply);
    err = cJSON_GetObjectItemCaseSensitive(json, "error");
    if (cJSON_IsObject(err)) {
        code = (int)hpt_int(err, "code");
        ck_assert_msg(hpt_str(err, "message") && *hpt_str(err, "message"),
                      "an error without a message: %s", reply);
        snprintf(message, size, "%s", hpt_str(err, "message"));
    }
    cJSON_Delete(json);
    free(reply);
    return code;
}

static void assert_intact(void)
{
    cJSON *svc = hpt_ok("service.get", hpt_name("keep"));
    cJSON *secret = hpt_ok("secret.get", hpt_name("tok"));
    cJSON *pong = hpt_ok("system.ping", NULL);

    ck_assert(hpt_json_contains(svc, "echo original"));
    ck_assert(!hpt_json_contains(svc, "evil"));
    ck_assert_str_eq(hpt_str(secret, "value"), "s3cret");
    cJSON_Delete(svc);
    cJSON_Delete(secret);
    cJSON_Delete(pong);
}

START_TEST(hostile_requests_get_clear_errors_and_change_nothing)
{
    char message[512];
    cJSON *list;

    hpt_service_set("keep", NULL, hpt_script("a", "echo original"), NULL);
    cJSON_Delete(hpt_ok("secret.set", hpt_jsonf("{\"name\":\"tok\",\"value\":\"s3cret\"}")));
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char *body = quoted(inputs[i].body);
        int code = code_of(body, strlen(body), message, sizeof(message));
        ck_assert_msg(code == inputs[i].code, "%s: got %d (want %d): %s", inputs[i].what, code,
                      inputs[i].code, message);
        free(body);
    }
    assert_intact();
    list = hpt_ok("run.list", NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "runs")), 0);
    cJSON_Delete(list);
}
END_TEST

START_TEST(raw_bytes_deep_nesting_and_huge_bodies_are_refused)
{
    static const char nul[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"secret.set\",\"params\":"
                              "{\"name\":\"tok\",\"value\":\"evil\0x\"}}";
    static const char ctl[] = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"},\x01"
                              "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"system.ping\"}]";
    char message[512];
    size_t depth = 5000, huge = 2 * 1024 * 1024;
    char *deep = malloc(depth * 2 + 64), *big = malloc(huge + 128);
    long status = 0;
    char *reply = NULL;

    hpt_service_set("keep", NULL, hpt_script("a", "echo original"), NULL);
    cJSON_Delete(hpt_ok("secret.set", hpt_jsonf("{\"name\":\"tok\",\"value\":\"s3cret\"}")));
    ck_assert_int_eq(code_of(nul, sizeof(nul) - 1, message, sizeof(message)), -32700);
    ck_assert_int_eq(code_of(ctl, sizeof(ctl) - 1, message, sizeof(message)), -32700);

    /* 5000 levels of [: refused by the bounds check before any recursion. */
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    ck_assert_int_eq(code_of(deep, depth * 2, message, sizeof(message)), -32600);

    /* 2 MiB of a secret value: over the body limit, refused at the HTTP level. */
    {
        size_t at = (size_t)sprintf(big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                                         "\"secret.set\",\"params\":{\"name\":\"tok\","
                                         "\"value\":\"");
        memset(big + at, 'e', huge);
        strcpy(big + at + huge, "\"}}");
    }
    ck_assert_int_eq(hpt_post(big, strlen(big), &status, &reply), 0);
    ck_assert_msg(status == 413 || strstr(reply, "-32600"), "HTTP %ld: %.200s", status, reply);
    free(reply);

    /* A batch of a hundred bad requests, each answered on its own. */
    {
        size_t cap = 100 * 128 + 16, len = 1;
        char *batch = malloc(cap);
        cJSON *replies, *r;
        int n = 0;
        batch[0] = '[';
        for (int i = 0; i < 100; i++)
            len += (size_t)snprintf(batch + len, cap - len,
                                    "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"secret.set\","
                                    "\"params\":{\"name\":\"tok\",\"value\":\"x\\u0000%d\"}}",
                                    i ? "," : "", i, i);
        batch[len++] = ']';
        ck_assert_int_eq(hpt_post(batch, len, &status, &reply), 0);
        replies = cJSON_Parse(reply);
        cJSON_ArrayForEach (r, replies) {
            const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
            ck_assert_int_eq(hpt_int(err, "code"), -32602);
            n++;
        }
        ck_assert_int_eq(n, 100);
        cJSON_Delete(replies);
        free(reply);
        free(batch);
    }
    assert_intact();
    free(deep);
    free(big);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rel_input");
    TCase *tc = tcase_create("rel_input");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hostile_requests_get_clear_errors_and_change_nothing);
    tcase_add_test(tc, raw_bytes_deep_nesting_and_huge_bodies_are_refused);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
