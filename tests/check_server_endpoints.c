/* SPDX-License-Identifier: Apache-2.0 */
/* Where and how hero_proc_server listens: the private Unix socket, a stale socket file
 * left by a dead server, TCP only with the bearer token, plain HTTP on loopback unless allowed,
 * --daemon, and how overlong output lines are kept. */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 10000 };

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    size_t *len = ud;

    (void)ptr;
    *len += size * n;
    return size * n;
}

/* HTTP status of a request to the TCP listener with "Authorization: <scheme> <token>";
 * body may be NULL (GET). */
static long tcp_request_as(int port, const char *path, const char *scheme, const char *token,
                           const char *body)
{
    CURL *c = curl_easy_init();
    struct curl_slist *headers = NULL;
    char url[128], auth[256];
    size_t len = 0;
    long status = 0;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: %s %s", scheme, token);
        headers = curl_slist_append(headers, auth);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    }
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return status;
}

static long tcp_request(int port, const char *path, const char *token, const char *body)
{
    return tcp_request_as(port, path, "Bearer", token, body);
}

/* Runs the server binary with args, waits for it to exit, returns its exit status; its
 * stderr goes to the file err_name in the test directory. */
static int run_server(const char *err_name, char *const args[])
{
    char *err_path = hpt_path(err_name);
    pid_t pid = fork();
    int status;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *f = freopen(err_path, "w", stderr);
        if (!f)
            _exit(126);
        execv(hpt_server_binary(), args);
        _exit(127);
    }
    free(err_path);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "the server died of signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

START_TEST(the_socket_is_private_to_its_user)
{
    struct stat st;

    ck_assert_int_eq(stat(hpt_socket_path(), &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_msg((st.st_mode & 0777) == 0600, "socket mode %o", st.st_mode & 0777);
}
END_TEST

START_TEST(a_stale_socket_left_by_a_dead_server_is_replaced)
{
    struct stat st;
    cJSON *pong;

    hpt_server_crash();
    ck_assert_msg(stat(hpt_socket_path(), &st) == 0, "kill -9 should leave the socket file");
    hpt_server_start();
    pong = hpt_ok("system.ping", NULL);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(pong, "pong")));
    cJSON_Delete(pong);
}
END_TEST

START_TEST(tcp_answers_only_with_the_bearer_token)
{
    int port = hpt_free_port();
    char addr[64], *token, *path;
    struct stat st;

    ck_assert_int_eq(WEXITSTATUS(hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS)), 0);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    hpt_server_extra_args("--http", addr);
    hpt_server_start();
    path = hpt_path("data/token");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0600, "token mode %o", st.st_mode & 0777);
    free(path);
    token = hpt_read("data/token");
    ck_assert_ptr_nonnull(token);
    token[strcspn(token, "\r\n")] = '\0';
    ck_assert_uint_ge(strlen(token), 32);

    ck_assert_int_eq(tcp_request(port, "/health", NULL, NULL), 401);
    ck_assert_int_eq(tcp_request(port, "/health", "not-the-token", NULL), 401);
    ck_assert_int_eq(
        tcp_request(port, "/rpc", "x", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"}"),
        401);
    ck_assert_int_eq(tcp_request(port, "/health", token, NULL), 200);
    ck_assert_int_eq(tcp_request(port, "/rpc", token,
                                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"}"),
                     200);
    free(token);
}
END_TEST

/* RFC 7235: the auth-scheme is case-insensitive; clients that send "bearer" are right. */
START_TEST(tcp_takes_the_bearer_scheme_in_any_case)
{
    int port = hpt_free_port();
    char addr[64], *token;

    ck_assert_int_eq(WEXITSTATUS(hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS)), 0);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    hpt_server_extra_args("--http", addr);
    hpt_server_start();
    token = hpt_read("data/token");
    ck_assert_ptr_nonnull(token);
    token[strcspn(token, "\r\n")] = '\0';
    ck_assert_int_eq(tcp_request_as(port, "/health", "bearer", token, NULL), 200);
    ck_assert_int_eq(tcp_request_as(port, "/rpc", "BEARER", token,
                                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"}"),
                     200);
    ck_assert_int_eq(tcp_request_as(port, "/health", "bearer", "not-the-token", NULL), 401);
    ck_assert_int_eq(tcp_request_as(port, "/health", "Basic", token, NULL), 401);
    free(token);
}
END_TEST

START_TEST(tcp_on_a_remote_address_needs_tls_or_insecure_http)
{
    char *sock = hpt_path("remote.sock"), *data = hpt_path("remote-data"), *err;
    char *const args[] = {(char *)(uintptr_t) "hero_proc_server",
                          (char *)(uintptr_t) "--socket",
                          sock,
                          (char *)(uintptr_t) "--data-dir",
                          data,
                          (char *)(uintptr_t) "--http",
                          (char *)(uintptr_t) "192.0.2.1:8000",
                          NULL};
    struct stat st;

    ck_assert_int_eq(run_server("remote.err", args), 100);
    err = hpt_read("remote.err");
    ck_assert_msg(strstr(err, "not a loopback address") && strstr(err, "--insecure-http"),
                  "stderr: %s", err);
    ck_assert_msg(stat(data, &st) != 0, "a refused start must not create the data dir");
    free(err);
    free(sock);
    free(data);
}
END_TEST

static int pid_gone(void *ud)
{
    return !hpt_pid_exists(*(pid_t *)ud);
}

START_TEST(daemon_mode_returns_once_the_socket_listens)
{
    char *sock = hpt_path("d.sock"), *data = hpt_path("d-data");
    char *const args[] = {(char *)(uintptr_t) "hero_proc_server",
                          (char *)(uintptr_t) "--socket",
                          sock,
                          (char *)(uintptr_t) "--data-dir",
                          data,
                          (char *)(uintptr_t) "--daemon",
                          NULL};
    CURL *c = curl_easy_init();
    size_t len = 0;
    long status = 0;
    pid_t pid = 0;

    ck_assert_int_eq(run_server("daemon.err", args), 0);
    /* It answers at once: --daemon returned only after listen(). */
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(c, CURLOPT_URL, "http://localhost/health");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &len);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ck_assert_int_eq(status, 200);
    curl_easy_cleanup(c);
    /* The daemon holds the socket: find it by the socket path on its command line. */
    {
        char cmd[4200];
        FILE *p;
        snprintf(cmd, sizeof(cmd), "pgrep -f -- '--socket %s'", sock);
        p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        if (fscanf(p, "%d", &pid) != 1)
            pid = 0;
        pclose(p);
    }
    ck_assert_int_gt(pid, 1);
    ck_assert_int_ne(getpgid(pid), getpgid(0)); /* detached into its own session */
    kill(pid, SIGTERM);
    ck_assert_msg(hpt_wait_until(pid_gone, &pid, DEADLINE_MS), "the daemon did not stop");
    free(sock);
    free(data);
}
END_TEST

START_TEST(an_overlong_line_is_cut_and_marked_and_the_next_line_kept)
{
    int64_t id = hpt_submit("long",
                            hpt_script("print", "head -c 20000 /dev/zero | tr '\\0' x; "
                                                "echo; echo after"),
                            NULL);
    cJSON *run = hpt_wait_run(id, DEADLINE_MS);
    cJSON *lines =
        hpt_job_lines(hpt_int(cJSON_GetArrayItem(cJSON_GetObjectItem(run, "jobs"), 0), "id"));
    const cJSON *l;
    int cut = 0, after = 0;

    cJSON_ArrayForEach (l, lines) {
        const char *text = hpt_str(l, "line");
        if (strcmp(hpt_str(l, "stream"), "stdout") != 0)
            continue;
        if (strlen(text) == 16384 + strlen(" [line cut]") &&
            strcmp(text + 16384, " [line cut]") == 0 && text[0] == 'x')
            cut++;
        else if (strcmp(text, "after") == 0)
            after++;
        else
            ck_abort_msg("unexpected stdout line of %zu bytes", strlen(text));
    }
    ck_assert_int_eq(cut, 1);
    ck_assert_int_eq(after, 1);
    cJSON_Delete(lines);
    cJSON_Delete(run);
}
END_TEST

static Suite *endpoints_suite(void)
{
    Suite *s = suite_create("server_endpoints");
    TCase *tc = tcase_create("server_endpoints");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_socket_is_private_to_its_user);
    tcase_add_test(tc, a_stale_socket_left_by_a_dead_server_is_replaced);
    tcase_add_test(tc, tcp_answers_only_with_the_bearer_token);
    tcase_add_test(tc, tcp_takes_the_bearer_scheme_in_any_case);
    tcase_add_test(tc, tcp_on_a_remote_address_needs_tls_or_insecure_http);
    tcase_add_test(tc, daemon_mode_returns_once_the_socket_listens);
    tcase_add_test(tc, an_overlong_line_is_cut_and_marked_and_the_next_line_kept);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(endpoints_suite());
}
