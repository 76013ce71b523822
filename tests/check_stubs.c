/* SPDX-License-Identifier: Apache-2.0 */
/* The generated stubs (src/client/stubs.c) against a real hero_proc_server: typed and
 * raw results, optional parameters sent only when asked for, and the server's errors
 * coming back as the SDK's codes. Whether the stubs are up to date with the contract is
 * tests/stubs.test's job; every wrapper's semantics are tests/check_client.c's. */
#include "config.h"

#include "check_common.h"
#include "client/stubs.h"
#include "server_harness.h"

#include <stdlib.h>
#include <string.h>

static hp_error E;
#define MUST(call) ck_assert_msg((call) == HP_OK, "%s: %s", #call, E.message)

static hp_sdk *sdk_real(void)
{
    hp_sdk_options o = {.socket_path = hpt_socket_path()};
    hp_sdk *sdk = hp_sdk_new(&o, &E);

    ck_assert_msg(sdk != NULL, "hp_sdk_new: %s", E.message);
    return sdk;
}

START_TEST(ping_and_info_stubs_answer_typed_results)
{
    hp_sdk *sdk = sdk_real();
    hp_pong *pong = NULL;
    hp_system_info *info = NULL;

    MUST(hp_stub_system_ping(sdk, &pong, &E));
    ck_assert_ptr_nonnull(pong);
    ck_assert_ptr_nonnull(pong->version);
    ck_assert_int_gt(pong->ts_ms, 0);
    MUST(hp_stub_system_info(sdk, &info, &E));
    ck_assert_int_eq(info->pid, hpt_server_pid());
    ck_assert_str_eq(info->version, pong->version);
    MUST(hp_stub_system_ping(sdk, NULL, &E)); /* the answer may be skipped */
    hp_pong_free(pong);
    hp_system_info_free(info);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(service_stubs_set_get_list_and_delete_a_service)
{
    hp_sdk *sdk = sdk_real();
    cJSON *config = hpt_jsonf("{\"name\": \"web\", \"actions\": []}");
    cJSON *actions = cJSON_GetObjectItem(config, "actions"), *r = NULL;
    hp_service_record *rec = NULL;
    int64_t rev;

    cJSON_AddItemToArray(actions, hpt_script("main", "sleep 30"));
    MUST(hp_stub_service_set(sdk, config, &r, &E));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "created")));
    cJSON_Delete(r);
    MUST(hp_stub_service_get(sdk, "web", &rec, &E));
    ck_assert_str_eq(rec->config.name, "web");
    ck_assert_uint_eq(rec->config.n_actions, 1);
    ck_assert_str_eq(rec->config.actions[0].script, "sleep 30");
    hp_service_record_free(rec);

    MUST(hp_stub_service_list(sdk, 0, 0, &r, &E));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "services")), 1);
    rev = hpt_int(r, "rev");
    cJSON_Delete(r);
    /* has_if_changed_since set: the current rev answers Unchanged. */
    MUST(hp_stub_service_list(sdk, 1, rev, &r, &E));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "unchanged")));
    cJSON_Delete(r);

    MUST(hp_stub_service_delete(sdk, "web", 0, 0, NULL, &E));
    ck_assert_int_eq(hp_stub_service_get(sdk, "web", &rec, &E), HP_E_NOT_FOUND);
    ck_assert_ptr_null(rec);
    ck_assert_ptr_nonnull(strstr(E.message, "web"));
    cJSON_Delete(config);
    hp_sdk_free(sdk);
}
END_TEST

static int stdout_lines(const hp_log_page *page, const char *text)
{
    int n = 0;

    for (size_t i = 0; i < page->n_lines; i++)
        n += page->lines[i].stream == HP_STREAM_STDOUT && !strcmp(page->lines[i].line, text);
    return n;
}

START_TEST(run_stubs_submit_wait_and_read_the_logs)
{
    hp_sdk *sdk = sdk_real();
    cJSON *actions = cJSON_CreateArray();
    hp_run *run = NULL;
    hp_log_page *page = NULL;
    int64_t id;

    cJSON_AddItemToArray(actions, hpt_script("step", "echo one; echo two"));
    MUST(hp_stub_run_submit(sdk, "stubbed", actions, &run, &E));
    id = run->id;
    hp_run_free(run);
    MUST(hp_stub_run_wait(sdk, id, 1, 20000, &run, &E));
    ck_assert_int_eq(run->status, HP_RUN_SUCCEEDED);
    ck_assert_uint_eq(run->n_jobs, 1);
    MUST(hp_stub_job_logs(sdk, run->jobs[0].id, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, &page, &E));
    ck_assert_uint_eq(page->n_lines, 1); /* limit 1 was sent */
    hp_log_page_free(page);
    MUST(hp_stub_job_logs(sdk, run->jobs[0].id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, &page, &E));
    ck_assert_uint_ge(page->n_lines, 2); /* no limit sent: the server's default */
    ck_assert_int_eq(stdout_lines(page, "one") + stdout_lines(page, "two"), 2);
    hp_log_page_free(page);
    hp_run_free(run);
    cJSON_Delete(actions);
    hp_sdk_free(sdk);
}
END_TEST

START_TEST(stubs_report_the_servers_validation_errors)
{
    hp_sdk *sdk = sdk_real();
    cJSON *r = NULL;

    ck_assert_int_eq(hp_stub_run_list(sdk, NULL, "sleepy", 0, 0, 0, 0, &r, &E), HP_E_VALIDATION);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(E.rpc_code, -32602);
    /* A required name left out (NULL) is not sent: the server names what is missing. */
    ck_assert_int_eq(hp_stub_secret_set(sdk, NULL, "v", NULL, &E), HP_E_VALIDATION);
    ck_assert_ptr_nonnull(strstr(E.message, "name"));
    hp_sdk_free(sdk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stubs");
    TCase *tc = tcase_create("live");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ping_and_info_stubs_answer_typed_results);
    tcase_add_test(tc, service_stubs_set_get_list_and_delete_a_service);
    tcase_add_test(tc, run_stubs_submit_wait_and_read_the_logs);
    tcase_add_test(tc, stubs_report_the_servers_validation_errors);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
