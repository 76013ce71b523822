/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON-RPC front of a real hero_proc_server: error codes of the envelope, batches,
 * notifications, request bounds, the spec it serves, /health, and system.ping/info.
 * Each test starts its own server in its own temporary directory. */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------------- */

/* POSTs body and parses the JSON answer; fails unless the HTTP status is want_status. */
static cJSON *post_json(const char *body, long want_status)
{
    long status = 0;
    char *reply = NULL;
    cJSON *json;

    ck_assert_int_eq(hpt_post(body, strlen(body), &status, &reply), 0);
    ck_assert_msg(status == want_status, "HTTP %ld (want %ld): %s", status, want_status, reply);
    json = cJSON_Parse(reply);
    ck_assert_msg(json != NULL, "not JSON: '%s'", reply);
    free(reply);
    return json;
}

static int error_code(const cJSON *reply)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");

    ck_assert_msg(cJSON_IsObject(err), "no error object in the reply");
    ck_assert_msg(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(err, "message")),
                  "the error has no message");
    ck_assert(!cJSON_HasObjectItem(reply, "result"));
    return (int)hpt_int(err, "code");
}

static void assert_id_null(const cJSON *reply)
{
    ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(reply, "id")),
                  "the id should be null");
}

static void assert_still_answers(void)
{
    cJSON *pong = hpt_ok("system.ping", NULL);

    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pong, "pong")));
    cJSON_Delete(pong);
}

static int problems_have(const cJSON *data, const char *text)
{
    const cJSON *p;

    cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(data, "problems"))
        if (cJSON_IsString(p) && strstr(p->valuestring, text))
            return 1;
    return 0;
}

static const cJSON *reply_with_id(const cJSON *replies, int id)
{
    const cJSON *r;

    cJSON_ArrayForEach (r, replies) {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
        if (cJSON_IsNumber(rid) && (int)rid->valuedouble == id)
            return r;
    }
    return NULL;
}

/* ---- the envelope ---------------------------------------------------------------------- */

START_TEST(unparseable_body_gets_parse_error_with_null_id)
{
    cJSON *reply = post_json("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":", 200);

    ck_assert_int_eq(error_code(reply), -32700);
    assert_id_null(reply);
    ck_assert_str_eq(hpt_str(reply, "jsonrpc"), "2.0");
    cJSON_Delete(reply);
    assert_still_answers();
}
END_TEST

START_TEST(request_without_jsonrpc_member_is_an_invalid_request)
{
    cJSON *reply = post_json("{\"id\":7,\"method\":\"system.ping\"}", 200);

    ck_assert_int_eq(error_code(reply), -32600);
    ck_assert_int_eq(hpt_int(reply, "id"), 7);
    cJSON_Delete(reply);
}
END_TEST

START_TEST(request_with_wrong_jsonrpc_version_is_an_invalid_request)
{
    cJSON *reply = post_json("{\"jsonrpc\":\"1.0\",\"id\":8,\"method\":\"system.ping\"}", 200);

    ck_assert_int_eq(error_code(reply), -32600);
    ck_assert_int_eq(hpt_int(reply, "id"), 8);
    cJSON_Delete(reply);
}
END_TEST

START_TEST(empty_batch_is_an_invalid_request_with_null_id)
{
    cJSON *reply = post_json("[]", 200);

    ck_assert_msg(cJSON_IsObject(reply), "an empty batch gets one error object, not an array");
    ck_assert_int_eq(error_code(reply), -32600);
    assert_id_null(reply);
    cJSON_Delete(reply);
}
END_TEST

START_TEST(unknown_method_gets_method_not_found_naming_it)
{
    ck_assert_int_eq(hpt_fail("service.explode", NULL), -32601);
    ck_assert_msg(strstr(hpt_error_message(), "service.explode") != NULL, "message: %s",
                  hpt_error_message());
}
END_TEST

START_TEST(invalid_params_list_every_problem)
{
    cJSON *params = hpt_jsonf("{\"id\":\"seven\",\"bogus\":1}");

    ck_assert_int_eq(hpt_fail("run.get", params), -32602);
    ck_assert_msg(problems_have(hpt_error_data(), "'id'"), "no problem about id in %s",
                  cJSON_PrintUnformatted(hpt_error_data()));
    ck_assert_msg(problems_have(hpt_error_data(), "bogus"), "no problem about bogus");
}
END_TEST

START_TEST(submit_reports_a_cycle_path_and_an_unknown_dependency_together)
{
    cJSON *params = hpt_jsonf("{\"name\":\"ci\",\"actions\":["
                              "{\"name\":\"a\",\"script\":\"true\",\"depends_on\":[\"b\"]},"
                              "{\"name\":\"b\",\"script\":\"true\",\"depends_on\":[\"a\"]},"
                              "{\"name\":\"c\",\"script\":\"true\",\"depends_on\":[\"zz\"]}]}");
    const cJSON *problems;
    cJSON *runs;

    ck_assert_int_eq(hpt_fail("run.submit", params), -32602);
    problems = cJSON_GetObjectItemCaseSensitive(hpt_error_data(), "problems");
    ck_assert_msg(cJSON_GetArraySize(problems) >= 2, "problems: %s",
                  cJSON_PrintUnformatted(problems));
    ck_assert(problems_have(hpt_error_data(), "run 'ci': dependency cycle: a -> b -> a"));
    ck_assert(
        problems_have(hpt_error_data(), "run 'ci': action 'c' depends on unknown action 'zz'"));
    /* Nothing was created. */
    runs = hpt_ok("run.list", NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(runs, "runs")), 0);
    cJSON_Delete(runs);
}
END_TEST

/* The record of error.data.details at path, with its code; the same message as the
 * sentence at the same index of error.data.problems. */
static const cJSON *detail_at(const char *path, const char *code)
{
    const cJSON *data = hpt_error_data();
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(data, "details");
    const cJSON *problems = cJSON_GetObjectItemCaseSensitive(data, "problems");
    int i = 0;

    ck_assert_int_eq(cJSON_GetArraySize(details), cJSON_GetArraySize(problems));
    for (const cJSON *d = details ? details->child : NULL; d; d = d->next, i++) {
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "path"));
        const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "code"));
        if (!p || !c || strcmp(p, path) != 0 || strcmp(c, code) != 0)
            continue;
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "message")),
                         cJSON_GetStringValue(cJSON_GetArrayItem(problems, i)));
        return d;
    }
    ck_abort_msg("no %s at %s in %s", code, path, cJSON_PrintUnformatted(data));
    return NULL;
}

START_TEST(problems_travel_as_records_whose_path_points_into_the_params)
{
    const cJSON *d;

    ck_assert_int_eq(
        hpt_fail("run.submit",
                 hpt_jsonf("{\"name\":\"ci\",\"actions\":["
                           "{\"name\":\"a\",\"script\":\"true\",\"depends_on\":[\"b\"]},"
                           "{\"name\":\"b\",\"script\":\"true\",\"depends_on\":[\"a\"]},"
                           "{\"name\":\"c\",\"script\":\"true\",\"timeout_secs\":-1,"
                           "\"depends_on\":[\"zz\"]}]}")),
        -32602);
    detail_at("/actions/2/depends_on/0", "dep_unknown");
    detail_at("/actions/2/timeout_secs", "value_range");
    d = detail_at("/actions/0/depends_on/0", "dep_cycle");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "cycle")), 2);
    ck_assert_str_eq(
        cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "cycle"), 1)),
        "b");
    /* service.set: the config's paths start with /config, as its params do. */
    ck_assert_int_eq(
        hpt_fail("service.set",
                 hpt_jsonf("{\"config\":{\"name\":\"web\",\"actions\":["
                           "{\"name\":\"serve\",\"script\":\"true\",\"timeout_sec\":5}]}}")),
        -32602);
    detail_at("/config/actions/0/timeout_sec", "field_unknown");
    /* The params' own checks: a wrong type, an unknown param, a missing one. */
    ck_assert_int_eq(hpt_fail("run.get", hpt_jsonf("{\"id\":\"seven\",\"bogus\":1}")), -32602);
    detail_at("/id", "field_type");
    detail_at("/bogus", "field_unknown");
    ck_assert_int_eq(hpt_fail("run.get", hpt_jsonf("{}")), -32602);
    detail_at("/id", "value_missing");
}
END_TEST

/* A probe's mistakes are refused like any other field's, each on its own path, so the
 * form can show them next to the field. */
START_TEST(probe_problems_are_on_their_fields)
{
    ck_assert_int_eq(
        hpt_fail("service.set",
                 hpt_jsonf("{\"config\":{\"name\":\"web\",\"actions\":["
                           "{\"name\":\"a\",\"script\":\"true\",\"restart\":\"always\","
                           "\"probe\":{\"tcp\":\"localhost\",\"interval_ms\":5,"
                           "\"retries\":0,\"timeout_ms\":2000,\"grace\":1}},"
                           "{\"name\":\"b\",\"script\":\"true\",\"on_unhealthy\":\"restart\","
                           "\"probe\":{\"http\":\"ftp://x/\",\"exec\":\"true\"}},"
                           "{\"name\":\"c\",\"script\":\"true\",\"on_unhealthy\":\"reboot\"}"
                           "]}}")),
        -32602);
    detail_at("/config/actions/0/probe/tcp", "value_form");
    detail_at("/config/actions/0/probe/interval_ms", "value_range");
    detail_at("/config/actions/0/probe/retries", "value_range");
    detail_at("/config/actions/0/probe/grace", "field_unknown");
    detail_at("/config/actions/1/probe", "value_choice");
    detail_at("/config/actions/1/on_unhealthy", "value_choice");
    detail_at("/config/actions/2/on_unhealthy", "value_choice");
    /* A valid probe is stored with its defaults filled in. */
    cJSON_Delete(
        hpt_ok("service.set",
               hpt_jsonf("{\"config\":{\"name\":\"web\",\"actions\":["
                         "{\"name\":\"a\",\"script\":\"true\",\"restart\":\"always\","
                         "\"on_unhealthy\":\"restart\",\"probe\":{\"tcp\":\"[::1]:80\"}}]}}")));
    {
        cJSON *got = hpt_ok("service.get", hpt_name("web"));
        ck_assert(hpt_json_contains(got,
                                    "\"probe\":{\"tcp\":\"[::1]:80\",\"interval_ms\":5000,"
                                    "\"timeout_ms\":2000,\"retries\":3,\"start_grace_ms\":0}"));
        ck_assert(hpt_json_contains(got, "\"on_unhealthy\":\"restart\""));
        cJSON_Delete(got);
    }
}
END_TEST

START_TEST(batch_of_mixed_calls_answers_each_call_by_id)
{
    cJSON *replies = post_json("["
                               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"},"
                               "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"no.such\"},"
                               "{\"jsonrpc\":\"2.0\",\"method\":\"system.ping\"},"
                               "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"run.get\","
                               "\"params\":{\"id\":424242}},"
                               "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"run.get\","
                               "\"params\":{\"id\":\"x\"}},"
                               "42"
                               "]",
                               200);
    const cJSON *r;

    ck_assert_msg(cJSON_IsArray(replies), "a batch is answered with an array");
    /* Five answers: the notification gets none, the bare 42 gets an invalid request. */
    ck_assert_int_eq(cJSON_GetArraySize(replies), 5);
    r = reply_with_id(replies, 1);
    ck_assert_ptr_nonnull(r);
    ck_assert(cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "result"), "pong")));
    ck_assert_int_eq(error_code(reply_with_id(replies, 2)), -32601);
    ck_assert_int_eq(error_code(reply_with_id(replies, 3)), -32000);
    ck_assert_int_eq(error_code(reply_with_id(replies, 4)), -32602);
    cJSON_ArrayForEach (r, replies)
        if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "id")))
            ck_assert_int_eq(error_code(r), -32600);
    cJSON_Delete(replies);
}
END_TEST

START_TEST(notifications_get_no_body)
{
    const char *one = "{\"jsonrpc\":\"2.0\",\"method\":\"system.ping\"}";
    const char *many = "[{\"jsonrpc\":\"2.0\",\"method\":\"system.ping\"},"
                       "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}]";
    long status = 0;
    char *reply = NULL;

    ck_assert_int_eq(hpt_post(one, strlen(one), &status, &reply), 0);
    ck_assert_int_eq(status, 204);
    ck_assert_str_eq(reply, "");
    free(reply);
    ck_assert_int_eq(hpt_post(many, strlen(many), &status, &reply), 0);
    ck_assert_int_eq(status, 204);
    ck_assert_str_eq(reply, "");
    free(reply);
}
END_TEST

START_TEST(body_over_one_mebibyte_is_refused_and_the_server_keeps_answering)
{
    size_t len = 1024 * 1024 + 100;
    char *body = malloc(len + 1);
    const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logs.insert\",\"params\":"
                       "{\"src\":\"big\",\"lines\":[\"";
    long status = 0;
    char *reply = NULL;
    cJSON *json;

    ck_assert_ptr_nonnull(body);
    memset(body, 'x', len);
    memcpy(body, head, strlen(head));
    memcpy(body + len - 4, "\"]}}", 4);
    body[len] = '\0';
    ck_assert_int_eq(hpt_post(body, len, &status, &reply), 0);
    free(body);
    ck_assert_int_eq(status, 413);
    json = cJSON_Parse(reply);
    ck_assert_msg(json != NULL, "the 413 answer should be a JSON-RPC error: '%s'", reply);
    free(reply);
    ck_assert_int_eq(error_code(json), -32600);
    assert_id_null(json);
    cJSON_Delete(json);
    assert_still_answers();
}
END_TEST

START_TEST(params_nested_a_hundred_deep_are_refused)
{
    char body[1024];
    size_t n = 0;
    cJSON *reply;

    n += (size_t)snprintf(body, sizeof(body),
                          "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"system.ping\","
                          "\"params\":{\"x\":");
    for (int i = 0; i < 100; i++)
        body[n++] = '[';
    for (int i = 0; i < 100; i++)
        body[n++] = ']';
    memcpy(body + n, "}}", 3);
    reply = post_json(body, 200);
    ck_assert_int_eq(error_code(reply), -32600);
    cJSON_Delete(reply);
    assert_still_answers();
}
END_TEST

START_TEST(names_with_control_characters_are_refused)
{
    cJSON *submit = hpt_jsonf("{\"name\":\"ok\",\"actions\":[{\"name\":\"a\\tb\",\"script\":"
                              "\"true\"}]}");
    cJSON *set = hpt_jsonf("{\"config\":{\"name\":\"web\\u0001\",\"actions\":[{\"name\":\"a\","
                           "\"script\":\"true\"}]}}");
    cJSON *list;

    ck_assert_int_eq(hpt_fail("service.get", hpt_jsonf("{\"name\":\"a\\nb\"}")), -32602);
    ck_assert_int_eq(hpt_fail("run.submit", hpt_jsonf("{\"name\":\"r\\u001b[31m\",\"actions\":"
                                                      "[{\"name\":\"a\",\"script\":\"true\"}]}")),
                     -32602);
    ck_assert_int_eq(hpt_fail("run.submit", submit), -32602);
    ck_assert_int_eq(hpt_fail("service.set", set), -32602);
    ck_assert_int_eq(
        hpt_fail("logs.insert", hpt_jsonf("{\"src\":\"a\\u0007b\",\"lines\":[\"x\"]}")), -32602);
    ck_assert_int_eq(hpt_fail("secret.set", hpt_jsonf("{\"name\":\"k\\r\",\"value\":\"v\"}")),
                     -32602);
    list = hpt_ok("service.list", NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "services")), 0);
    cJSON_Delete(list);
}
END_TEST

START_TEST(batch_with_a_run_wait_answers_once_the_run_ended)
{
    int64_t id = hpt_submit("short", hpt_script("s", "sleep 0.3; echo done"), NULL);
    char body[512];
    cJSON *replies, *result;
    const cJSON *wait;

    snprintf(body, sizeof(body),
             "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"run.wait\","
             "\"params\":{\"id\":%lld,\"timeout_ms\":20000}},"
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"system.ping\"}]",
             (long long)id);
    replies = post_json(body, 200);
    ck_assert_int_eq(cJSON_GetArraySize(replies), 2);
    wait = reply_with_id(replies, 1);
    ck_assert_ptr_nonnull(wait);
    result = cJSON_GetObjectItemCaseSensitive(wait, "result");
    ck_assert_str_eq(hpt_str(result, "status"), "succeeded");
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(reply_with_id(replies, 2), "result"));
    cJSON_Delete(replies);
}
END_TEST

START_TEST(client_gone_during_run_wait_does_not_disturb_the_server)
{
    int64_t id = hpt_submit("long", hpt_script("s", "sleep 30"), NULL);
    char body[256];
    cJSON *run;

    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"run.wait\","
             "\"params\":{\"id\":%lld,\"timeout_ms\":20000}}",
             (long long)id);
    for (int i = 0; i < 3; i++)
        close(hpt_raw_send(body));
    assert_still_answers();
    cJSON_Delete(hpt_ok("run.cancel", hpt_id(id)));
    run = hpt_wait_run(id, 20000);
    ck_assert_str_eq(hpt_str(run, "status"), "cancelled");
    cJSON_Delete(run);
    assert_still_answers();
}
END_TEST

/* ---- hostile input: NUL, unknown fields, names, the contract's checks --------------- */

/* POSTs one request (single quotes become double ones) and returns the error object's
 * code; *message gets the error message (caller frees) when message is not NULL. */
static int post_error(const char *request, char **message)
{
    char *body = strdup(request);
    cJSON *reply, *err;
    int code;

    for (char *p = body; *p; p++)
        if (*p == '\'')
            *p = '"';
    reply = post_json(body, 200);
    code = error_code(reply);
    err = cJSON_GetObjectItemCaseSensitive(reply, "error");
    if (message)
        *message = strdup(hpt_str(err, "message"));
    cJSON_Delete(reply);
    free(body);
    return code;
}

static void assert_refused(const char *request, const char *in_message)
{
    char *message = NULL;

    ck_assert_int_eq(post_error(request, &message), -32602);
    ck_assert_msg(strstr(message, in_message), "message '%s' lacks '%s'", message, in_message);
    free(message);
}

/* "keep0\u0000evil" was read as "keep0" and replaced that service. */
START_TEST(a_nul_in_a_service_name_is_refused_and_the_service_kept)
{
    cJSON *svc;

    hpt_service_set("keep0", NULL, hpt_script("a", "echo original"), NULL);
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{"
                   "'name':'keep0\\u0000evil','actions':[{'name':'a','script':'echo evil'}]}}}",
                   "the value at params.config.name contains a NUL character");
    svc = hpt_ok("service.get", hpt_name("keep0"));
    ck_assert(hpt_json_contains(svc, "echo original"));
    ck_assert(!hpt_json_contains(svc, "evil"));
    cJSON_Delete(svc);
}
END_TEST

/* "echo a\u0000b; echo done" ran as "echo a"; "abc\u0000def" was stored as "abc". */
START_TEST(a_nul_in_a_script_or_a_secret_is_refused_naming_the_field)
{
    cJSON *replies, *list;

    assert_refused("{'jsonrpc':'2.0','id':1,'method':'run.submit','params':{'name':'r',"
                   "'actions':[{'name':'a','script':'echo a\\u0000b; echo done'}]}}",
                   "params.actions[0].script");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'secret.set','params':{'name':'s',"
                   "'value':'abc\\u0000def'}}",
                   "the value at params.value contains a NUL character");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'secret.set','params':{'name':'s',"
                   "'va\\u0000lue':'abc'}}",
                   "the field name at params.va\\u0000lue");
    ck_assert_int_eq(hpt_fail("secret.get", hpt_name("s")), -32000);
    list = hpt_ok("run.list", NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "runs")), 0);
    cJSON_Delete(list);
    /* In a batch, only the request that carries the NUL is refused. */
    replies = post_json("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"secret.set\",\"params\":"
                        "{\"name\":\"t\",\"value\":\"x\\u0000\"}},"
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"secret.set\",\"params\":"
                        "{\"name\":\"u\",\"value\":\"fine\"}}]",
                        200);
    ck_assert_int_eq(error_code(reply_with_id(replies, 1)), -32602);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(reply_with_id(replies, 2), "result"));
    cJSON_Delete(replies);
    ck_assert_int_eq(hpt_fail("secret.get", hpt_name("t")), -32000);
}
END_TEST

/* Raw NUL and control bytes are not JSON: cJSON took them and cut strings at the NUL. */
START_TEST(raw_nul_and_control_bytes_are_parse_errors)
{
    static const char nul[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"secret.set\",\"params\":"
                              "{\"name\":\"s\",\"value\":\"abc\0def\"}}";
    static const char tail[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"}\0xx";
    long status = 0;
    char *reply = NULL;
    cJSON *json;

    ck_assert_int_eq(hpt_post(nul, sizeof(nul) - 1, &status, &reply), 0);
    json = cJSON_Parse(reply);
    ck_assert_int_eq(error_code(json), -32700);
    cJSON_Delete(json);
    free(reply);
    ck_assert_int_eq(hpt_post(tail, sizeof(tail) - 1, &status, &reply), 0);
    json = cJSON_Parse(reply);
    ck_assert_int_eq(error_code(json), -32700);
    cJSON_Delete(json);
    free(reply);
    ck_assert_int_eq(post_error("{'jsonrpc':'2.0','id':1,'method':'secret.set','params':"
                                "{'name':'s','value':'a\tb'}}",
                                NULL),
                     -32700);
    /* Control bytes between requests, with a NUL escape after them (found by fuzzing: the
     * NUL scan lost its place there). */
    ck_assert_int_eq(post_error("[{'jsonrpc':'2.0','id':1,'method':'system.ping'},\x01\x02"
                                "{'jsonrpc':'2.0','id':2,'method':'x\\u0000'}]",
                                NULL),
                     -32700);
    ck_assert_int_eq(hpt_fail("secret.get", hpt_name("s")), -32000);
    assert_still_answers();
}
END_TEST

/* "bogus", "scirpt" and "timeout_sec" were stored without a word. */
START_TEST(unknown_fields_are_refused_with_the_field_meant)
{
    int code;

    assert_refused("{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{"
                   "'name':'web','bogus':1,'actions':[{'name':'a','script':'true'}]}}}",
                   "service 'web': unknown field 'bogus'");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'run.submit','params':{'name':'r',"
                   "'actions':[{'name':'a','scirpt':'true'}]}}",
                   "unknown field 'scirpt' (at actions[0].scirpt); did you mean script?");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'run.submit','params':{'name':'r',"
                   "'actions':[{'name':'a','script':'sleep 5','timeout_sec':1}]}}",
                   "unknown field 'timeout_sec' (at actions[0].timeout_sec); did you mean "
                   "timeout_secs?");
    code = hpt_fail("service.get", hpt_name("web"));
    ck_assert_int_eq(code, -32000);
}
END_TEST

/* Names become folder names once logs move to files. */
START_TEST(dot_and_dot_dot_are_refused_as_names)
{
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'service.set','params':{'config':{"
                   "'name':'..','actions':[{'name':'a','script':'true'}]}}}",
                   "'.' and '..' are not names");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'run.submit','params':{'name':'r',"
                   "'actions':[{'name':'.','script':'true'}]}}",
                   "'.' and '..' are not names");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'secret.set','params':{'name':'.',"
                   "'value':'v'}}",
                   "param 'name' must be a name");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'service.get','params':{'name':'..'}}",
                   "param 'name' must be a name");
}
END_TEST

/* These were answered instead of refused: the server's table drifted from the contract. */
START_TEST(list_filters_are_checked_as_the_contract_says)
{
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'run.list','params':{'service':"
                   "'bad name!\\u0001'}}",
                   "param 'service' must be a name");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'run.list','params':{'if_changed_since':-5}}",
                   "param 'if_changed_since' must be between 0 and");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'job.list','params':{'status':'done'}}",
                   "param 'status' must be one of pending, running, retrying");
    assert_refused("{'jsonrpc':'2.0','id':1,'method':'secret.list','params':"
                   "{'if_changed_since':1e300}}",
                   "param 'if_changed_since' must be an integer");
}
END_TEST

/* ---- the contract walk ----------------------------------------------------------------- */

static const cJSON *resolve(const cJSON *doc, const cJSON *schema)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(schema, "$ref");
    const char *prefix = "#/components/schemas/";

    if (!cJSON_IsString(ref) || strncmp(ref->valuestring, prefix, strlen(prefix)) != 0)
        return schema;
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "components"),
                                         "schemas"),
        ref->valuestring + strlen(prefix));
}

static double num(const cJSON *schema, const char *key, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(schema, key);

    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

/* Values the schema refuses, added to out. example is a valid value to start from (objects
 * and arrays are refused by changing one member of it); nested: also one level down. */
static void refused_values(const cJSON *doc, const cJSON *schema, const cJSON *example, int nested,
                           cJSON *out)
{
    const char *type;
    const cJSON *it;

    schema = resolve(doc, schema);
    type = hpt_str(schema, "type");
    if (!type)
        return;
    if (strcmp(type, "string") == 0) {
        cJSON_AddItemToArray(out, cJSON_CreateNumber(42));
        if (num(schema, "minLength", 0) >= 1)
            cJSON_AddItemToArray(out, cJSON_CreateString(""));
        if (num(schema, "maxLength", 0) > 0) {
            size_t n = (size_t)num(schema, "maxLength", 0) + 1;
            char *s = malloc(n + 1);
            memset(s, 'a', n);
            s[n] = 0;
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
            free(s);
        }
        if (cJSON_HasObjectItem(schema, "pattern")) /* both patterns refuse these bytes */
            cJSON_AddItemToArray(out, cJSON_CreateString("bad name!\x01"));
        if (cJSON_HasObjectItem(schema, "enum"))
            cJSON_AddItemToArray(out, cJSON_CreateString("no_such_value"));
        cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(
                                    cJSON_GetObjectItemCaseSensitive(schema, "not"), "enum"))
            cJSON_AddItemToArray(out, cJSON_Duplicate(it, 1));
    } else if (strcmp(type, "integer") == 0) {
        cJSON_AddItemToArray(out, cJSON_CreateString("1"));
        cJSON_AddItemToArray(out, cJSON_CreateNumber(1.5));
        cJSON_AddItemToArray(out, cJSON_CreateNumber(1e300));
        if (cJSON_HasObjectItem(schema, "minimum"))
            cJSON_AddItemToArray(out, cJSON_CreateNumber(num(schema, "minimum", 0) - 1));
        if (cJSON_HasObjectItem(schema, "maximum"))
            cJSON_AddItemToArray(out, cJSON_CreateNumber(num(schema, "maximum", 0) + 1));
    } else if (strcmp(type, "boolean") == 0) {
        cJSON_AddItemToArray(out, cJSON_CreateString("true"));
    } else if (strcmp(type, "object") == 0) {
        cJSON *extra = cJSON_Duplicate(example, 1);
        cJSON_AddItemToArray(out, cJSON_CreateArray());
        if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties"))) {
            cJSON_AddNumberToObject(extra, "no_such_field", 1);
            cJSON_AddItemToArray(out, extra);
        } else {
            cJSON_Delete(extra);
        }
        if (!nested || !cJSON_IsObject(example))
            return;
        cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(schema, "properties")) {
            cJSON *bad = cJSON_CreateArray(), *v;
            const cJSON *ex = cJSON_GetObjectItemCaseSensitive(example, it->string);
            refused_values(doc, it, ex, 0, bad);
            cJSON_ArrayForEach (v, bad) {
                cJSON *changed = cJSON_Duplicate(example, 1);
                cJSON_DeleteItemFromObjectCaseSensitive(changed, it->string);
                cJSON_AddItemToObject(changed, it->string, cJSON_Duplicate(v, 1));
                cJSON_AddItemToArray(out, changed);
            }
            cJSON_Delete(bad);
        }
    } else if (strcmp(type, "array") == 0) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
        cJSON *bad = cJSON_CreateArray(), *v;
        cJSON_AddItemToArray(out, cJSON_CreateObject());
        if (num(schema, "minItems", 0) >= 1)
            cJSON_AddItemToArray(out, cJSON_CreateArray());
        if (num(schema, "maxItems", 0) > 0 && cJSON_GetArraySize(example) > 0) {
            cJSON *many = cJSON_CreateArray();
            for (int i = 0; i <= (int)num(schema, "maxItems", 0); i++)
                cJSON_AddItemToArray(many, cJSON_Duplicate(cJSON_GetArrayItem(example, 0), 1));
            cJSON_AddItemToArray(out, many);
        }
        /* The first item replaced by each value its schema refuses. */
        refused_values(doc, items, cJSON_GetArrayItem(example, 0), nested, bad);
        cJSON_ArrayForEach (v, bad) {
            cJSON *changed = cJSON_Duplicate(example, 1), *dup = cJSON_Duplicate(v, 1);
            if (!cJSON_ReplaceItemInArray(changed, 0, dup))
                cJSON_Delete(dup);
            cJSON_AddItemToArray(out, changed);
        }
        cJSON_Delete(bad);
    }
}

/* The example's params as an object (a valid call to start from). */
static cJSON *example_params(const cJSON *method)
{
    const cJSON *ex = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(method, "examples"), 0);
    const cJSON *p;
    cJSON *params = cJSON_CreateObject();

    cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(ex, "params"))
        cJSON_AddItemToObject(params, hpt_str(p, "name"),
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "value"), 1));
    return params;
}

static int refused_with_invalid_params(const char *method, cJSON *params, char **why)
{
    int code = hpt_fail(method, params);

    if (code != -32602) {
        free(*why);
        *why = strdup(hpt_error_message());
    }
    return code == -32602;
}

/* For every method and every param of data/openrpc.json: wrong types, out-of-range
 * numbers and lengths, pattern and enum misses, unknown fields (also inside ServiceConfig
 * and ActionSpec) and an unknown param are refused with -32602. */
START_TEST(every_value_the_contract_refuses_is_refused)
{
    char *path = hp_test_join(hp_test_srcdir(), "data/openrpc.json");
    char *text = hp_test_read_file(path, NULL);
    cJSON *doc = cJSON_Parse(text);
    const cJSON *m;
    int checked = 0, drift = 0;

    ck_assert_ptr_nonnull(doc);
    cJSON_ArrayForEach (m, cJSON_GetObjectItemCaseSensitive(doc, "methods")) {
        const char *name = hpt_str(m, "name");
        cJSON *base = example_params(m), *extra;
        const cJSON *p;
        char *why = NULL;
        int code;

        /* events.wait's example waits 30 s for news a fresh server may never have. */
        if (strcmp(name, "events.wait") == 0)
            cJSON_ReplaceItemInObjectCaseSensitive(base, "timeout_ms", cJSON_CreateNumber(0));
        /* The example itself passes the param checks (else every probe would pass); an
         * example of system.reexec would re-execute the server under the test. */
        if (strcmp(name, "run.submit") != 0 && strcmp(name, "run.wait") != 0 &&
            strcmp(name, "system.reexec") != 0) {
            code = 0;
            cJSON_Delete(hpt_call(name, cJSON_Duplicate(base, 1), &code));
            ck_assert_msg(code != -32602, "%s: its example is refused: %s", name,
                          hpt_error_message());
        }
        extra = cJSON_Duplicate(base, 1);
        cJSON_AddNumberToObject(extra, "no_such_param", 1);
        if (!refused_with_invalid_params(name, extra, &why))
            drift++, fprintf(stderr, "drift: %s accepts an unknown param (%s)\n", name, why);
        cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(m, "params")) {
            const char *pname = hpt_str(p, "name");
            cJSON *bad = cJSON_CreateArray(), *v;
            refused_values(doc, cJSON_GetObjectItemCaseSensitive(p, "schema"),
                           cJSON_GetObjectItemCaseSensitive(base, pname), 1, bad);
            cJSON_ArrayForEach (v, bad) {
                cJSON *params = cJSON_Duplicate(base, 1);
                cJSON_DeleteItemFromObjectCaseSensitive(params, pname);
                cJSON_AddItemToObject(params, pname, cJSON_Duplicate(v, 1));
                checked++;
                if (!refused_with_invalid_params(name, params, &why)) {
                    char *shown = cJSON_PrintUnformatted(v);
                    drift++;
                    fprintf(stderr, "drift: %s accepts %s = %.200s (%s)\n", name, pname, shown,
                            why ? why : "answered");
                    free(shown);
                }
            }
            cJSON_Delete(bad);
        }
        free(why);
        cJSON_Delete(base);
    }
    ck_assert_msg(checked > 200, "only %d values checked", checked);
    ck_assert_msg(drift == 0, "%d values the contract refuses were not refused (see stderr)",
                  drift);
    cJSON_Delete(doc);
    free(text);
    free(path);
}
END_TEST

/* ---- what it serves -------------------------------------------------------------------- */

START_TEST(openrpc_document_is_served_byte_for_byte)
{
    char *path = hp_test_join(hp_test_srcdir(), "data/openrpc.json");
    size_t want_len = 0, got_len = 0;
    char *want = hp_test_read_file(path, &want_len), *got = NULL;
    long status = 0;

    ck_assert_msg(want != NULL, "cannot read %s", path);
    ck_assert_int_eq(hpt_get("/openrpc.json", &status, &got, &got_len), 0);
    ck_assert_int_eq(status, 200);
    ck_assert_uint_eq(got_len, want_len);
    ck_assert(memcmp(got, want, want_len) == 0);
    free(got);
    free(want);
    free(path);
}
END_TEST

START_TEST(rpc_discover_returns_the_spec_as_json)
{
    char *path = hp_test_join(hp_test_srcdir(), "data/openrpc.json");
    char *text = hp_test_read_file(path, NULL);
    cJSON *want = text ? cJSON_Parse(text) : NULL;
    cJSON *got = hpt_ok("rpc.discover", NULL);

    ck_assert_ptr_nonnull(want);
    ck_assert_msg(cJSON_Compare(want, got, 1), "rpc.discover differs from data/openrpc.json");
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(text);
    free(path);
}
END_TEST

START_TEST(health_answers_status_ok)
{
    long status = 0;
    char *body = NULL;
    cJSON *json;

    ck_assert_int_eq(hpt_get("/health", &status, &body, NULL), 0);
    ck_assert_int_eq(status, 200);
    json = cJSON_Parse(body);
    ck_assert_ptr_nonnull(json);
    ck_assert_str_eq(hpt_str(json, "status"), "ok");
    cJSON_Delete(json);
    free(body);
}
END_TEST

START_TEST(other_paths_answer_not_found)
{
    const char *paths[] = {"/", "/rpc/x", "/openrpc", "/healthz", "/../etc/passwd"};
    long status = 0;
    char *body = NULL;

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        ck_assert_int_eq(hpt_get(paths[i], &status, &body, NULL), 0);
        ck_assert_msg(status == 404, "GET %s: HTTP %ld", paths[i], status);
        free(body);
    }
    assert_still_answers();
}
END_TEST

START_TEST(ping_answers_pong_with_version_and_server_time)
{
    struct timespec ts;
    cJSON *pong = hpt_ok("system.ping", NULL);
    int64_t now;

    clock_gettime(CLOCK_REALTIME, &ts);
    now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pong, "pong")));
    ck_assert_str_eq(hpt_str(pong, "version"), PACKAGE_VERSION);
    ck_assert_int_le(llabs(hpt_int(pong, "ts_ms") - now), 5000);
    cJSON_Delete(pong);
}
END_TEST

START_TEST(info_reports_pid_socket_data_dir_and_counts)
{
    cJSON *info, *counts;
    const char *keys[] = {"services", "runs", "jobs", "running_jobs", "secrets", "log_lines"};
    int64_t run;

    run = hpt_submit("one", hpt_script("a", "echo x"), NULL);
    cJSON_Delete(hpt_wait_run(run, 10000));
    cJSON_Delete(hpt_ok("secret.set", hpt_jsonf("{\"name\":\"K\",\"value\":\"v\"}")));
    info = hpt_ok("system.info", NULL);
    ck_assert_int_eq(hpt_int(info, "pid"), hpt_server_pid());
    ck_assert_str_eq(hpt_str(info, "socket"), hpt_socket_path());
    ck_assert_str_eq(hpt_str(info, "data_dir"), hpt_data_dir());
    ck_assert_str_eq(hpt_str(info, "version"), PACKAGE_VERSION);
    ck_assert_int_ge(hpt_int(info, "uptime_ms"), 0);
    ck_assert_int_gt(hpt_int(info, "started_at_ms"), 0);
    ck_assert_int_ge(hpt_int(info, "rev"), 1);
    ck_assert_int_ge(hpt_int(info, "dropped_log_lines"), 0);
    counts = cJSON_GetObjectItemCaseSensitive(info, "counts");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_int_ge(hpt_int(counts, keys[i]), 0);
    ck_assert_int_eq(hpt_int(counts, "runs"), 1);
    ck_assert_int_eq(hpt_int(counts, "jobs"), 1);
    ck_assert_int_eq(hpt_int(counts, "running_jobs"), 0);
    ck_assert_int_eq(hpt_int(counts, "secrets"), 1);
    ck_assert_int_eq(hpt_int(counts, "services"), 0);
    ck_assert_int_ge(hpt_int(counts, "log_lines"), 3);
    cJSON_Delete(info);
}
END_TEST

static Suite *server_rpc_suite(void)
{
    Suite *s = suite_create("server_rpc");
    TCase *tc = tcase_create("server_rpc");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, probe_problems_are_on_their_fields);
    tcase_add_test(tc, unparseable_body_gets_parse_error_with_null_id);
    tcase_add_test(tc, request_without_jsonrpc_member_is_an_invalid_request);
    tcase_add_test(tc, request_with_wrong_jsonrpc_version_is_an_invalid_request);
    tcase_add_test(tc, empty_batch_is_an_invalid_request_with_null_id);
    tcase_add_test(tc, unknown_method_gets_method_not_found_naming_it);
    tcase_add_test(tc, invalid_params_list_every_problem);
    tcase_add_test(tc, submit_reports_a_cycle_path_and_an_unknown_dependency_together);
    tcase_add_test(tc, problems_travel_as_records_whose_path_points_into_the_params);
    tcase_add_test(tc, batch_of_mixed_calls_answers_each_call_by_id);
    tcase_add_test(tc, notifications_get_no_body);
    tcase_add_test(tc, body_over_one_mebibyte_is_refused_and_the_server_keeps_answering);
    tcase_add_test(tc, params_nested_a_hundred_deep_are_refused);
    tcase_add_test(tc, names_with_control_characters_are_refused);
    tcase_add_test(tc, a_nul_in_a_service_name_is_refused_and_the_service_kept);
    tcase_add_test(tc, a_nul_in_a_script_or_a_secret_is_refused_naming_the_field);
    tcase_add_test(tc, raw_nul_and_control_bytes_are_parse_errors);
    tcase_add_test(tc, unknown_fields_are_refused_with_the_field_meant);
    tcase_add_test(tc, dot_and_dot_dot_are_refused_as_names);
    tcase_add_test(tc, list_filters_are_checked_as_the_contract_says);
    tcase_add_test(tc, every_value_the_contract_refuses_is_refused);
    tcase_add_test(tc, batch_with_a_run_wait_answers_once_the_run_ended);
    tcase_add_test(tc, client_gone_during_run_wait_does_not_disturb_the_server);
    tcase_add_test(tc, openrpc_document_is_served_byte_for_byte);
    tcase_add_test(tc, rpc_discover_returns_the_spec_as_json);
    tcase_add_test(tc, health_answers_status_ok);
    tcase_add_test(tc, other_paths_answer_not_found);
    tcase_add_test(tc, ping_answers_pong_with_version_and_server_time);
    tcase_add_test(tc, info_reports_pid_socket_data_dir_and_counts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(server_rpc_suite());
}
