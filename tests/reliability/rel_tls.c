/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTPS endpoint under abuse, against a real daemon: hundreds of connections that
 * send garbage or half a handshake and hang up, and silent ones held open, never stop a
 * pinned client nor leak an fd; and 100 API tokens made and revoked in turn, each one
 * usable at once and refused at once after its revocation. */
#include "config.h"

#include "tests/check_common.h"
#include "client/call.h"
#include "client/sdk.h"
#include "tests/server_harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { GARBAGE = 300, IDLE = 50, TOKENS = 100 };

static int port;
static char url[96];

static void setup(void)
{
    char addr[64];

    hpt_setup();
    port = hpt_free_port();
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
    hpt_server_signal_and_wait(SIGTERM, 10000);
    hpt_server_extra_args("--http", addr);
    hpt_server_more_args("--tls-self-signed", NULL);
    hpt_server_start();
}

static char *data_line(const char *name)
{
    char *path = hp_test_join(hpt_data_dir(), name);
    char *text = hp_test_read_file(path, NULL);

    ck_assert_ptr_nonnull(text);
    text[strcspn(text, "\r\n")] = '\0';
    free(path);
    return text;
}

/* system.ping over HTTPS with the pin and this token: the status. */
static hp_status ping_as(const char *token, hp_error *err)
{
    char *pin = data_line("tls.pin");
    hp_sdk_options o = {
        .url = url, .token = token, .pin = pin, .connect_timeout_ms = 20000, .timeout_ms = 30000};
    hp_sdk *sdk = hp_sdk_new(&o, err);
    hp_status st = sdk ? hp_sdk_ping(sdk, NULL, err) : err->code;

    hp_sdk_free(sdk);
    free(pin);
    return st;
}

static int tcp_connect(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static int server_fds(void)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)hpt_server_pid());
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

typedef struct {
    int limit;
} fd_goal;

static int fds_back(void *ud)
{
    int n = server_fds();

    return n >= 0 && n <= ((fd_goal *)ud)->limit;
}

START_TEST(broken_handshakes_and_idle_connections_never_stop_a_pinned_client)
{
    static const char hello_start[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    char *token = data_line("token");
    hp_error err;
    int idle[IDLE], before;
    fd_goal goal;

    ck_assert_msg(ping_as(token, &err) == HP_OK, "%s", err.message);
    before = server_fds();
    for (int i = 0; i < GARBAGE; i++) {
        int fd = tcp_connect();
        /* In turn: plain HTTP on the TLS port, half a ClientHello, nothing at all. */
        if (i % 3 == 0)
            (void)!write(fd, "GET /health HTTP/1.1\r\n\r\n", 24);
        else if (i % 3 == 1)
            (void)!write(fd, hello_start, sizeof(hello_start) - 1);
        close(fd);
    }
    for (int i = 0; i < IDLE; i++)
        idle[i] = tcp_connect();
    /* The silent ones hold slots, not the loop: a real client gets through now. */
    ck_assert_msg(ping_as(token, &err) == HP_OK, "with %d idle connections: %s", IDLE, err.message);
    for (int i = 0; i < IDLE; i++)
        close(idle[i]);
    goal.limit = before + 2;
    ck_assert_msg(hpt_wait_until(fds_back, &goal, 20000), "the server holds %d fds, %d before",
                  server_fds(), before);
    ck_assert_msg(ping_as(token, &err) == HP_OK, "%s", err.message);
    free(token);
}
END_TEST

START_TEST(each_of_100_tokens_works_at_once_and_is_refused_at_once_when_revoked)
{
    hp_error err;
    cJSON *list;

    for (int i = 0; i < TOKENS; i++) {
        char name[32];
        char *token;
        cJSON *r;
        snprintf(name, sizeof(name), "t%03d", i);
        r = hpt_ok("token.create", hpt_jsonf("{\"name\":\"%s\",\"role\":\"%s\"}", name,
                                             i % 2 ? "read" : "operate"));
        token = strdup(hpt_str(r, "token"));
        cJSON_Delete(r);
        ck_assert_msg(ping_as(token, &err) == HP_OK, "new token %s: %s", name, err.message);
        cJSON_Delete(hpt_ok("token.revoke", hpt_name(name)));
        ck_assert_int_eq(ping_as(token, &err), HP_E_UNAUTHORIZED);
        free(token);
    }
    list = hpt_ok("token.list", NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "tokens")), 0);
    cJSON_Delete(list);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rel_tls");
    TCase *tc = tcase_create("tls");

    tcase_add_checked_fixture(tc, setup, hpt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, broken_handshakes_and_idle_connections_never_stop_a_pinned_client);
    tcase_add_test(tc, each_of_100_tokens_works_at_once_and_is_refused_at_once_when_revoked);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
