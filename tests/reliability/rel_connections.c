/* SPDX-License-Identifier: Apache-2.0 */
/* Reliability: the daemon under connection abuse. Bursts past the connection limit must
 * never leave it deaf; idle connections held by one process must not lock others out;
 * with every slot busy a newcomer gets a clear 503; a client trickling its request is
 * closed; and the daemon's fds come back to where they were. Real daemon, raw sockets. */
#include "config.h"

#include "tests/check_common.h"
#include "tests/server_harness.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 10000, HELD = 500 };

static const char PING[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"}";

static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int unix_connect(void)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_uint_lt(strlen(hpt_socket_path()), sizeof(addr.sun_path));
    strcpy(addr.sun_path, hpt_socket_path());
    ck_assert_msg(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect: %s",
                  strerror(errno));
    return fd;
}

/* Reads until the peer closes or deadline_ms passes; returns the bytes read (NUL
 * terminated, caller frees) or NULL on timeout. */
static char *read_all(int fd, int deadline_ms)
{
    int64_t end = hpt_now_ms() + deadline_ms;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);

    ck_assert_ptr_nonnull(buf);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = end - hpt_now_ms();
        ssize_t n;
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            free(buf);
            return NULL;
        }
        if (len + 1024 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* A new client's POST /rpc of body; returns the HTTP status (0 when no answer within
 * deadline_ms) and the whole reply in *reply when non-NULL. */
static int fresh_call(const char *body, int deadline_ms, char **reply)
{
    char head[256];
    int fd = unix_connect(), status = 0;
    char *text;

    snprintf(head, sizeof(head),
             "POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
             strlen(body));
    /* A daemon with every slot busy answers 503 and closes at once, maybe before the request
     * is sent (a loaded machine): the send then fails with EPIPE and the answer waits to be
     * read all the same. */
    if (send(fd, head, strlen(head), MSG_NOSIGNAL) != (ssize_t)strlen(head) ||
        send(fd, body, strlen(body), MSG_NOSIGNAL) != (ssize_t)strlen(body))
        ck_assert_msg(errno == EPIPE || errno == ECONNRESET, "send: %s", strerror(errno));
    text = read_all(fd, deadline_ms);
    close(fd);
    if (text && sscanf(text, "HTTP/1.1 %d", &status) != 1)
        status = 0;
    if (reply)
        *reply = text;
    else
        free(text);
    return status;
}

static int daemon_fds(void)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)hpt_server_pid());
    d = opendir(path);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int baseline;

static int fds_at_baseline(void *ud)
{
    (void)ud;
    return daemon_fds() <= baseline;
}

static void setup(void)
{
    raise_fd_limit();
    hpt_setup();
}

static void restart_with(const char *a, const char *b)
{
    ck_assert_int_eq(WEXITSTATUS(hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS)), 0);
    hpt_server_extra_args(a, b);
    hpt_server_start();
}

static void note_baseline(void)
{
    cJSON *pong = hpt_ok("system.ping", NULL);

    cJSON_Delete(pong);
    baseline = daemon_fds();
}

static void assert_fds_back(void)
{
    ck_assert_msg(hpt_wait_until(fds_at_baseline, NULL, DEADLINE_MS),
                  "the daemon holds %d fds, %d before", daemon_fds(), baseline);
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* The defect: past 256 connections MHD stopped watching the listen socket and only a
 * later MHD_run resumed it, which never came once the burst was gone. */
START_TEST(after_bursts_past_the_limit_a_new_client_is_served_at_once)
{
    static int fds[HELD];

    note_baseline();
    for (int round = 0; round < 6; round++) {
        int n = round % 2 ? 300 : HELD;
        int64_t t0;
        int status;
        for (int i = 0; i < n; i++)
            fds[i] = unix_connect();
        close_all(fds, n);
        t0 = hpt_now_ms();
        status = fresh_call(PING, 1000, NULL);
        ck_assert_msg(status == 200, "round %d: status %d after %lld ms", round, status,
                      (long long)(hpt_now_ms() - t0));
    }
    assert_fds_back();
}
END_TEST

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

START_TEST(idle_connections_held_by_one_process_do_not_lock_others_out)
{
    static int fds[HELD];
    int64_t lat[200];

    note_baseline();
    for (int i = 0; i < HELD; i++)
        fds[i] = unix_connect();
    for (int i = 0; i < 200; i++) {
        int64_t t0 = hpt_now_ms();
        ck_assert_int_eq(fresh_call(PING, DEADLINE_MS, NULL), 200);
        lat[i] = hpt_now_ms() - t0;
    }
    qsort(lat, 200, sizeof(lat[0]), cmp_int64);
    printf("# p99 of a new client's ping with %d idle connections held: %lld ms (max %lld)\n", HELD,
           (long long)lat[197], (long long)lat[199]);
    ck_assert_msg(lat[197] < 200, "p99 %lld ms", (long long)lat[197]);
    close_all(fds, HELD);
    assert_fds_back();
}
END_TEST

/* 1 when the peer has read everything sent on the Unix socket *ud (SIOCOUTQ counts
 * what the receiver has not consumed yet). */
static int request_read(void *ud)
{
    int out = -1;

    return ioctl(*(int *)ud, SIOCOUTQ, &out) == 0 && out == 0;
}

/* max-connections 8: seven run.wait calls on one long run, one on another; the ninth
 * client meets a full house and is told so at once; when one wait ends it is served. */
START_TEST(with_every_slot_busy_a_new_client_gets_503_until_one_frees)
{
    int fds[8];
    int64_t slow, other, t0;
    char body[256], *reply = NULL, *go;
    FILE *f;
    int status;

    restart_with("--max-connections", "8");
    note_baseline();
    slow = hpt_submit("slow", hpt_script("a", "sleep 60"), NULL);
    other = hpt_submit("other", hpt_script("a", "while [ ! -e go ]; do sleep 0.1; done"), NULL);
    for (int i = 0; i < 8; i++) {
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"run.wait\",\"params\":"
                 "{\"id\":%lld,\"timeout_ms\":120000}}",
                 (long long)(i == 7 ? other : slow));
        fds[i] = hpt_raw_send(body);
        /* Read by the daemon means in flight; else it is idle and may be evicted. */
        ck_assert_msg(hpt_wait_until(request_read, &fds[i], DEADLINE_MS),
                      "wait %d not read by the daemon", i);
    }
    t0 = hpt_now_ms();
    status = fresh_call(PING, DEADLINE_MS, &reply);
    ck_assert_msg(status == 503, "status %d: %s", status, reply ? reply : "(no answer)");
    ck_assert_msg(strstr(reply, "-32004") && strstr(reply, "connection limit"), "%s", reply);
    printf("# 503 answered in %lld ms\n", (long long)(hpt_now_ms() - t0));
    free(reply);

    /* The other run ends: its waiter is answered and its slot turns idle. */
    go = hpt_path("go");
    f = fopen(go, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    free(go);
    reply = hpt_raw_answer(fds[7], DEADLINE_MS);
    ck_assert_ptr_nonnull(reply);
    free(reply);
    ck_assert_int_eq(fresh_call(PING, DEADLINE_MS, NULL), 200);
    close_all(fds, 7);
    cJSON_Delete(hpt_ok("run.cancel", hpt_id(slow)));
    assert_fds_back();
}
END_TEST

START_TEST(a_client_trickling_its_request_is_closed_after_the_request_timeout)
{
    static const char rest[] = "Host: localhost\r\nContent-Length: 2\r\n\r\n{}";
    int fd, closed = 0;
    int64_t t0, next;
    size_t sent = 0;

    restart_with("--request-timeout-ms", "1500");
    note_baseline();
    fd = unix_connect();
    ck_assert(send(fd, "POST /rpc HTTP/1.1\r\n", 20, MSG_NOSIGNAL) == 20);
    t0 = next = hpt_now_ms();
    while (!closed && hpt_now_ms() - t0 < DEADLINE_MS) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;
        if (hpt_now_ms() >= next && sent < sizeof(rest) - 1) {
            /* one byte a second, as a slow-loris client does */
            if (send(fd, rest + sent, 1, MSG_NOSIGNAL) != 1)
                closed = 1;
            sent++;
            next += 1000;
        }
        if (poll(&p, 1, 100) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) <= 0)
            closed = 1;
    }
    close(fd);
    ck_assert_msg(closed, "still open after %d ms, %zu bytes sent", DEADLINE_MS, sent);
    ck_assert_msg(sent < sizeof(rest) - 1, "the whole request went through");
    printf("# closed after %lld ms\n", (long long)(hpt_now_ms() - t0));
    ck_assert_int_eq(fresh_call(PING, DEADLINE_MS, NULL), 200);
    assert_fds_back();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rel_connections");
    TCase *tc = tcase_create("connections");

    tcase_add_checked_fixture(tc, setup, hpt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, after_bursts_past_the_limit_a_new_client_is_served_at_once);
    tcase_add_test(tc, idle_connections_held_by_one_process_do_not_lock_others_out);
    tcase_add_test(tc, with_every_slot_busy_a_new_client_gets_503_until_one_frees);
    tcase_add_test(tc, a_client_trickling_its_request_is_closed_after_the_request_timeout);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
