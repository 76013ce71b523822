/* SPDX-License-Identifier: Apache-2.0 */
/* Tokens with roles, enforced by the server over TCP: for each role, every method of the
 * contract is either let through or refused with -32003 naming the role it needs, as
 * its x-role says; a revoked token is refused from its next request on; tokens are
 * stored hashed; the Unix socket's owner is admin. */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char url[96];

static void setup(void)
{
    char addr[64];
    int port;

    hpt_setup();
    port = hpt_free_port();
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/rpc", port);
    hpt_server_signal_and_wait(SIGTERM, 10000);
    hpt_server_extra_args("--http", addr);
    hpt_server_start();
}

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    char **buf = ud;
    size_t old = *buf ? strlen(*buf) : 0, add = size * n;
    char *grown = realloc(*buf, old + add + 1);

    ck_assert_ptr_nonnull(grown);
    memcpy(grown + old, ptr, add);
    grown[old + add] = '\0';
    *buf = grown;
    return add;
}

/* POST of {method, params: {}} over TCP with the token; the HTTP status, and the parsed
 * answer in *answer (caller deletes; NULL when not JSON). */
static long call_as(const char *token, const char *method, const char *params, cJSON **answer)
{
    CURL *c = curl_easy_init();
    struct curl_slist *headers = NULL;
    char auth[256], body[512];
    char *reply = NULL;
    long status = 0;

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
             method, params ? params : "{}");
    headers = curl_slist_append(headers, auth);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    *answer = reply ? cJSON_Parse(reply) : NULL;
    free(reply);
    return status;
}

/* token.create over the Unix socket (the owner: admin); the token, caller frees. */
static char *create_token(const char *name, const char *role)
{
    cJSON *r = hpt_ok("token.create", hpt_jsonf("{\"name\":\"%s\",\"role\":\"%s\"}", name, role));
    char *token;

    ck_assert_str_eq(hpt_str(r, "role"), role);
    ck_assert_uint_eq(strlen(hpt_str(r, "token")), 64);
    token = strdup(hpt_str(r, "token"));
    cJSON_Delete(r);
    return token;
}

static int rank(const char *role)
{
    return strcmp(role, "read") == 0 ? 1 : strcmp(role, "operate") == 0 ? 2 : 3;
}

START_TEST(each_role_may_call_exactly_the_methods_its_x_role_allows)
{
    static const char *const roles[] = {"read", "operate", "admin"};
    char *path = hp_test_join(hp_test_srcdir(), "data/openrpc.json");
    char *text = hp_test_read_file(path, NULL);
    cJSON *doc = cJSON_Parse(text);
    const cJSON *m;
    int checked = 0;

    ck_assert_ptr_nonnull(doc);
    for (size_t r = 0; r < 3; r++) {
        char name[32];
        char *token;
        snprintf(name, sizeof(name), "as-%s", roles[r]);
        token = create_token(name, roles[r]);
        cJSON_ArrayForEach (m, cJSON_GetObjectItemCaseSensitive(doc, "methods")) {
            const char *method = cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring;
            const char *need = cJSON_GetObjectItemCaseSensitive(m, "x-role")->valuestring;
            cJSON *answer = NULL;
            const cJSON *error;
            int code;
            /* No params: a method let through stops at its params check (or answers),
             * so nothing changes while every method is tried. Two act on no params:
             * events.wait would wait (so it is asked not to), system.reexec would
             * re-execute the server (so it gets a param it refuses). */
            const char *params = strcmp(method, "events.wait") == 0     ? "{\"timeout_ms\":0}"
                                 : strcmp(method, "system.reexec") == 0 ? "{\"no_such\":1}"
                                                                        : NULL;
            ck_assert_int_eq(call_as(token, method, params, &answer), 200);
            ck_assert_ptr_nonnull(answer);
            error = cJSON_GetObjectItemCaseSensitive(answer, "error");
            code = error ? (int)hpt_int(error, "code") : 0;
            if (rank(roles[r]) >= rank(need)) {
                ck_assert_msg(code != -32003, "%s refused to a %s token", method, roles[r]);
            } else {
                const cJSON *data = cJSON_GetObjectItemCaseSensitive(error, "data");
                ck_assert_msg(code == -32003, "%s (needs %s) answered %d to a %s token", method,
                              need, code, roles[r]);
                ck_assert_str_eq(hpt_str(data, "required_role"), need);
                ck_assert_str_eq(hpt_str(data, "role"), roles[r]);
            }
            checked++;
            cJSON_Delete(answer);
        }
        free(token);
    }
    ck_assert_int_eq(checked,
                     3 * cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "methods")));
    cJSON_Delete(doc);
    free(text);
    free(path);
}
END_TEST

START_TEST(an_operate_token_restarts_but_cannot_change_a_service)
{
    char *token = create_token("ops", "operate");
    cJSON *answer;

    hpt_service_set("web", "stop", hpt_command("main", "sleep 30"), NULL);
    ck_assert_int_eq(call_as(token, "service.start", "{\"name\":\"web\"}", &answer), 200);
    ck_assert_msg(cJSON_GetObjectItemCaseSensitive(answer, "result") != NULL, "start refused");
    cJSON_Delete(answer);
    ck_assert_int_eq(call_as(token, "service.set",
                             "{\"config\":{\"name\":\"web\",\"actions\":[{\"name\":\"main\","
                             "\"command\":\"true\"}]}}",
                             &answer),
                     200);
    ck_assert_int_eq(hpt_int(cJSON_GetObjectItemCaseSensitive(answer, "error"), "code"), -32003);
    cJSON_Delete(answer);
    ck_assert_int_eq(call_as(token, "service.stop", "{\"name\":\"web\"}", &answer), 200);
    ck_assert_msg(cJSON_GetObjectItemCaseSensitive(answer, "result") != NULL, "stop refused");
    cJSON_Delete(answer);
    free(token);
}
END_TEST

START_TEST(a_revoked_token_is_refused_at_once)
{
    char *token = create_token("gone", "admin");
    cJSON *answer, *list;

    ck_assert_int_eq(call_as(token, "system.info", NULL, &answer), 200);
    ck_assert_str_eq(hpt_str(cJSON_GetObjectItemCaseSensitive(answer, "result"), "role"), "admin");
    cJSON_Delete(answer);
    list = hpt_ok("token.list", NULL);
    ck_assert(hpt_json_contains(list, "gone"));
    ck_assert(!hpt_json_contains(list, token));
    cJSON_Delete(list);
    cJSON_Delete(hpt_ok("token.revoke", hpt_name("gone")));
    ck_assert_int_eq(call_as(token, "system.ping", NULL, &answer), 401);
    cJSON_Delete(answer);
    ck_assert_int_eq(hpt_fail("token.revoke", hpt_name("gone")), -32000);
    free(token);
}
END_TEST

/* 1 when needle appears in any of the store's files. */
static int store_holds(const char *needle)
{
    static const char *const files[] = {"hero_proc.db", "hero_proc.db-wal"};
    int found = 0;

    for (size_t i = 0; i < 2; i++) {
        char *path = hp_test_join(hpt_data_dir(), files[i]);
        size_t len = 0;
        char *data = hp_test_read_file(path, &len);
        if (data && memmem(data, len, needle, strlen(needle)))
            found = 1;
        free(data);
        free(path);
    }
    return found;
}

START_TEST(tokens_are_stored_hashed_and_survive_a_restart)
{
    char *token = create_token("keep", "read");
    cJSON *answer;

    ck_assert(store_holds("keep"));
    ck_assert_msg(!store_holds(token), "the token itself is in the store");
    ck_assert_int_eq(hpt_fail("token.create", hpt_jsonf("{\"name\":\"keep\",\"role\":\"admin\"}")),
                     -32001);
    hpt_server_signal_and_wait(SIGTERM, 10000);
    hpt_server_start();
    ck_assert_int_eq(call_as(token, "system.info", NULL, &answer), 200);
    ck_assert_str_eq(hpt_str(cJSON_GetObjectItemCaseSensitive(answer, "result"), "role"), "read");
    cJSON_Delete(answer);
    free(token);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("server_roles");
    TCase *tc = tcase_create("roles");

    tcase_add_checked_fixture(tc, setup, hpt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, each_role_may_call_exactly_the_methods_its_x_role_allows);
    tcase_add_test(tc, an_operate_token_restarts_but_cannot_change_a_service);
    tcase_add_test(tc, a_revoked_token_is_refused_at_once);
    tcase_add_test(tc, tokens_are_stored_hashed_and_survive_a_restart);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
