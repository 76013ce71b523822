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
    tcase_add_test(tc, unparseable_body_gets_parse_error_with_null_id);
    tcase_add_test(tc, request_without_jsonrpc_member_is_an_invalid_request);
    tcase_add_test(tc, request_with_wrong_jsonrpc_version_is_an_invalid_request);
    tcase_add_test(tc, empty_batch_is_an_invalid_request_with_null_id);
    tcase_add_test(tc, unknown_method_gets_method_not_found_naming_it);
    tcase_add_test(tc, invalid_params_list_every_problem);
    tcase_add_test(tc, submit_reports_a_cycle_path_and_an_unknown_dependency_together);
    tcase_add_test(tc, batch_of_mixed_calls_answers_each_call_by_id);
    tcase_add_test(tc, notifications_get_no_body);
    tcase_add_test(tc, body_over_one_mebibyte_is_refused_and_the_server_keeps_answering);
    tcase_add_test(tc, params_nested_a_hundred_deep_are_refused);
    tcase_add_test(tc, names_with_control_characters_are_refused);
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
