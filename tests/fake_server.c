/* SPDX-License-Identifier: Apache-2.0 */
/* The fake HTTP responder of tests/check_client: one thread, one Unix socket, canned
 * replies in order. It parses only what it needs to find the end of a request (headers
 * and Content-Length) and never interprets JSON-RPC. */
#include "config.h"

#include "fake_server.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define IDLE_MS 5000 /* how long the thread waits for a request before giving up */

struct hpt_fake {
    int listen_fd;
    char *path;     /* unlinked by hpt_fake_finish */
    int stop_fd[2]; /* a pipe: written by hpt_fake_finish to wake the thread */
    char **replies;
    size_t n_replies;
    int delay_ms;
    pthread_t thread;
    char *got; /* requests received */
    size_t got_len;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be readable; 1 ready, 0 timeout or stop asked. */
static int wait_readable(hpt_fake *f, int fd, int ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = f->stop_fd[0], .events = POLLIN}};
    int r = poll(p, 2, ms);

    return r > 0 && !(p[1].revents & POLLIN) && (p[0].revents & (POLLIN | POLLHUP));
}

static void record(hpt_fake *f, const char *data, size_t len)
{
    char *p = realloc(f->got, f->got_len + len + 1);

    if (!p)
        return;
    memcpy(p + f->got_len, data, len);
    f->got = p;
    f->got_len += len;
    f->got[f->got_len] = '\0';
}

/* Reads one request; 1 when whole, 0 when the peer closed or nothing came. */
static int read_request(hpt_fake *f, int fd)
{
    char buf[65536];
    size_t len = 0;
    long body = -1;
    char *end = NULL;

    for (;;) {
        ssize_t r;
        if (end && len >= (size_t)(end - buf) + 4 + (size_t)body) {
            record(f, buf, len);
            return 1;
        }
        if (len == sizeof(buf) - 1 || !wait_readable(f, fd, IDLE_MS))
            return 0;
        r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0)
            return 0;
        len += (size_t)r;
        buf[len] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            body = cl && cl < end ? strtol(cl + 17, NULL, 10) : 0;
        }
    }
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the client gave up (cap, timeout): that is the point */
        data += w;
        len -= (size_t)w;
    }
}

static void *serve(void *ud)
{
    hpt_fake *f = ud;
    int fd = -1;

    for (size_t i = 0; i < f->n_replies; i++) {
        const char *reply = f->replies[i];
        if (fd < 0) {
            if (!wait_readable(f, f->listen_fd, IDLE_MS))
                break;
            fd = accept(f->listen_fd, NULL, NULL);
            if (fd < 0)
                break;
        }
        if (!read_request(f, fd)) {
            close(fd);
            fd = -1;
            i--; /* the client reconnects for this request */
            continue;
        }
        if (f->delay_ms > 0) {
            /* A hang-up by the client ends the wait early. */
            struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                                  {.fd = f->stop_fd[0], .events = POLLIN}};
            int64_t end = now_ms() + f->delay_ms;
            while (now_ms() < end && poll(p, 2, (int)(end - now_ms())) == 0)
                ;
        }
        write_all(fd, reply, strlen(reply));
        if (strstr(reply, "Connection: close")) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

hpt_fake *hpt_fake_start(const char *path, const char *const *replies, size_t n, int delay_ms)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    hpt_fake *f = calloc(1, sizeof(*f));

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_lt(strlen(path), sizeof(addr.sun_path));
    memcpy(addr.sun_path, path, strlen(path) + 1);
    f->path = strdup(path);
    ck_assert_ptr_nonnull(f->path);
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(f->listen_fd, 0);
    ck_assert_msg(bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "bind %s: %s",
                  path, strerror(errno));
    ck_assert_int_eq(listen(f->listen_fd, 4), 0);
    ck_assert_int_eq(pipe(f->stop_fd), 0);
    f->replies = calloc(n ? n : 1, sizeof(*f->replies));
    ck_assert_ptr_nonnull(f->replies);
    for (size_t i = 0; i < n; i++) {
        f->replies[i] = strdup(replies[i]);
        ck_assert_ptr_nonnull(f->replies[i]);
    }
    f->n_replies = n;
    f->delay_ms = delay_ms;
    f->got = calloc(1, 1);
    ck_assert_int_eq(pthread_create(&f->thread, NULL, serve, f), 0);
    return f;
}

char *hpt_fake_http(int status, const char *body)
{
    size_t n = strlen(body) + 200;
    char *s = malloc(n);

    ck_assert_ptr_nonnull(s);
    snprintf(s, n,
             "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             status, status == 200 ? "OK" : "Error", strlen(body), body);
    return s;
}

char *hpt_fake_finish(hpt_fake *f)
{
    char *got;
    ssize_t w;

    w = write(f->stop_fd[1], "x", 1);
    (void)w;
    pthread_join(f->thread, NULL);
    close(f->listen_fd);
    unlink(f->path);
    free(f->path);
    close(f->stop_fd[0]);
    close(f->stop_fd[1]);
    for (size_t i = 0; i < f->n_replies; i++)
        free(f->replies[i]);
    free(f->replies);
    got = f->got;
    free(f);
    return got;
}
