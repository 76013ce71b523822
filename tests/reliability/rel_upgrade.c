/* SPDX-License-Identifier: Apache-2.0 */
/* What an in-place upgrade must not break at its edges: the --http socket (plain and TLS)
 * is the same socket after SIGHUP and refuses no connection meanwhile, and a new binary
 * that answers --version but cannot start gives the daemon back to the old one, jobs and
 * all. rel_survive has the flood, the replaced binary and the refused one. */
#include "config.h"

#include "../check_common.h"
#include "../server_harness.h"
#include "client/sdk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 30000 };

static int port;

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), p;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    p = ntohs(a.sin_port);
    close(fd);
    return p;
}

/* The server again, listening on TCP too (more: NULL or "--tls-self-signed"). */
static void restart_with_http(const char *more)
{
    char addr[64];
    int status;

    port = free_port();
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hpt_server_extra_args("--http", addr);
    hpt_server_more_args(more, NULL);
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

static int64_t reexecs(void)
{
    cJSON *info = hpt_ok("system.info", NULL);
    int64_t n = hpt_int_or0(info, "reexecs");

    cJSON_Delete(info);
    return n;
}

static int reexecs_reached(void *ud)
{
    return reexecs() >= *(int64_t *)ud;
}

/* The inode of the socket listening on 127.0.0.1:port, read from /proc/net/tcp; 0 when
 * none listens. The same inode before and after means the same socket was kept. */
static unsigned long listener_inode(void)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512];
    unsigned long inode = 0;

    ck_assert_ptr_nonnull(f);
    while (!inode && fgets(line, sizeof(line), f)) {
        unsigned addr, p, st;
        unsigned long ino;
        if (sscanf(line, " %*d: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*d %*d %lu", &addr, &p, &st,
                   &ino) == 4 &&
            (int)p == port && st == 0x0A)
            inode = ino;
    }
    fclose(f);
    return inode;
}

/* 1 when the server's pid holds the socket with this inode among its fds. */
static int server_holds(unsigned long inode)
{
    char path[64], want[64], got[64];
    int held = 0;

    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    for (int fd = 0; fd < 1024 && !held; fd++) {
        ssize_t n;
        snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)hpt_server_pid(), fd);
        n = readlink(path, got, sizeof(got) - 1);
        if (n <= 0)
            continue;
        got[n] = '\0';
        held = strcmp(got, want) == 0;
    }
    return held;
}

/* One system.ping over a fresh plain TCP connection, without any retry: 1 answered, 0 the
 * call failed, -1 the connection was refused. */
static int raw_tcp_ping(const char *token)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"}";
    char req[512], reply[4096];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), len;
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int e = errno;
        close(fd);
        return e == ECONNREFUSED ? -1 : 0;
    }
    len = snprintf(req, sizeof(req),
                   "POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n\r\n%s",
                   token, strlen(body), body);
    ck_assert_int_eq(write(fd, req, (size_t)len), len);
    while (got < sizeof(reply) - 1 && (n = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
        got += (size_t)n;
    reply[got] = '\0';
    close(fd);
    return strstr(reply, "\"result\"") != NULL;
}

static int log_says(void *ud)
{
    char *log = hpt_read("server.log");
    int found = log && strstr(log, ud);

    free(log);
    return found;
}

START_TEST(the_tcp_listener_is_kept_across_sighup_and_refuses_no_call)
{
    char *token;
    unsigned long before, after;
    int64_t want = 1;
    int refused = 0, failed = 0, answered = 0, since_done = -1;
    char done[] = "re-exec 1 done";
    pid_t server;

    restart_with_http(NULL);
    server = hpt_server_pid();
    token = data_line("token");
    before = listener_inode();
    ck_assert_uint_ne(before, 0);
    ck_assert(server_holds(before));
    /* Pings on fresh connections before, during and after the exec, one after another
     * with nothing else in between that could wait out a gap: every tenth one reads the
     * log (not the socket) to see whether the new image serves yet. */
    for (int i = 0; i < 5000 && since_done < 50; i++) {
        int r = raw_tcp_ping(token);
        refused += r < 0;
        failed += r == 0;
        answered += r > 0;
        if (i == 20)
            ck_assert_int_eq(kill(server, SIGHUP), 0);
        if (since_done >= 0)
            since_done++;
        else if (i > 20 && i % 10 == 0 && log_says(done))
            since_done = 0;
    }
    ck_assert_msg(since_done >= 0, "the re-exec was not seen");
    after = listener_inode();
    printf("# %d TCP pings across SIGHUP: %d refused, %d failed; listener inode %lu -> %lu\n",
           answered + refused + failed, refused, failed, before, after);
    ck_assert_int_eq(refused, 0);
    ck_assert_int_eq(failed, 0);
    ck_assert_uint_eq(after, before);
    ck_assert_int_eq(hpt_server_pid(), server);
    ck_assert(server_holds(after));
    ck_assert_int_eq(reexecs(), want);
    free(token);
}
END_TEST

START_TEST(the_tls_listener_is_kept_across_sighup)
{
    char url[96], *token, *pin;
    unsigned long before, after;
    int64_t want = 1;
    hp_error err;
    hp_sdk *sdk;
    hp_sdk_options o = {.connect_timeout_ms = 20000, .timeout_ms = 30000};

    restart_with_http("--tls-self-signed");
    token = data_line("token");
    pin = data_line("tls.pin");
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
    o.url = url;
    o.token = token;
    o.pin = pin;
    before = listener_inode();
    ck_assert_uint_ne(before, 0);
    ck_assert_int_eq(kill(hpt_server_pid(), SIGHUP), 0);
    ck_assert(hpt_wait_until(reexecs_reached, &want, DEADLINE_MS));
    after = listener_inode();
    ck_assert_uint_eq(after, before);
    ck_assert(server_holds(after));
    /* The new image serves TLS on it with the same key: the pin still holds. */
    sdk = hp_sdk_new(&o, &err);
    ck_assert_msg(sdk && hp_sdk_ping(sdk, NULL, &err) == HP_OK, "%s", err.message);
    hp_sdk_free(sdk);
    free(token);
    free(pin);
}
END_TEST

static void write_script(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0755), 0);
}

/* Copies src to dst through a temporary name and a rename, as a package upgrade does. */
static void install(const char *src, const char *dst)
{
    char tmp[4096];
    char buf[65536];
    int in = open(src, O_RDONLY), out;
    ssize_t n;

    snprintf(tmp, sizeof(tmp), "%s.new", dst);
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    ck_assert(in >= 0 && out >= 0);
    while ((n = read(in, buf, sizeof(buf))) > 0)
        ck_assert_int_eq(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
    ck_assert_int_eq(rename(tmp, dst), 0);
}

static void job_of(const char *service, pid_t *pid, int64_t *restarts)
{
    cJSON *st = hpt_ok("service.status", hpt_name(service));
    const cJSON *job = hpt_job_of(st, "main");

    *pid = (pid_t)hpt_int_or0(job, "pid");
    *restarts = hpt_int(job, "restarts");
    cJSON_Delete(st);
}

/* A new binary answers --version like a server but fails once started (here: it is handed
 * a data dir it cannot use, as a build with a broken default would be): the daemon goes
 * back to the binary that ran before, with the command line that ran before, and the jobs
 * run on under it. */
START_TEST(a_binary_that_passes_the_check_but_cannot_start_gives_way_to_the_old_one)
{
    char *copy = hpt_path("hero_proc_server.copy"), *wrapper = hpt_path("wrap.sh"),
         *fails = hpt_path("fails.sh");
    const char *old_wrapper = getenv("HPT_SERVER_WRAPPER");
    char *saved = old_wrapper ? strdup(old_wrapper) : NULL, text[8192];
    char fell_back[] = "going back to the old one";
    pid_t server, sleeper, after;
    int64_t restarts, want = 1;
    int status;

    status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    install(hpt_server_binary(), copy);
    snprintf(text, sizeof(text), "#!/bin/sh\nshift\nexec %s \"$@\"\n", copy);
    write_script(wrapper, text);
    snprintf(text, sizeof(text),
             "#!/bin/sh\n[ \"$1\" = --version ] && exec %s --version\n"
             "exec %s \"$@\" --data-dir /proc/hero_proc_cannot_be_here\n",
             hpt_server_binary(), hpt_server_binary());
    write_script(fails, text);
    setenv("HPT_SERVER_WRAPPER", wrapper, 1);
    hpt_server_start();
    if (saved)
        setenv("HPT_SERVER_WRAPPER", saved, 1);
    else
        unsetenv("HPT_SERVER_WRAPPER");
    server = hpt_server_pid();
    hpt_service_set("calm", NULL, hpt_command("main", "sleep 1000"), NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name("calm")));
    job_of("calm", &sleeper, &restarts);

    install(fails, copy);
    cJSON_Delete(hpt_ok("system.reexec", NULL));
    ck_assert_msg(hpt_wait_until(log_says, fell_back, DEADLINE_MS), "no fall-back in the log");
    /* The old image serves again, same pid, the job untouched. */
    ck_assert(hpt_wait_until(reexecs_reached, &want, DEADLINE_MS));
    ck_assert_int_eq(hpt_server_pid(), server);
    ck_assert(hpt_pid_alive(server));
    job_of("calm", &after, &restarts);
    ck_assert_int_eq(after, sleeper);
    ck_assert_int_eq(restarts, 0);
    ck_assert(hpt_pid_alive(sleeper));
    /* And it can still be upgraded to a good binary afterwards. */
    install(hpt_server_binary(), copy);
    want = 2;
    cJSON_Delete(hpt_ok("system.reexec", NULL));
    ck_assert(hpt_wait_until(reexecs_reached, &want, DEADLINE_MS));
    job_of("calm", &after, &restarts);
    ck_assert_int_eq(after, sleeper);
    ck_assert_int_eq(restarts, 0);
    free(saved);
    free(copy);
    free(wrapper);
    free(fails);
}
END_TEST

/* 1 once the new image opened the FIFO it was handed as its certificate: it is blocked in
 * its start, reading it; *fd is then the write end (kept open so that it stays blocked). */
static int fifo_opened(void *ud)
{
    int *fd = ud;
    char *fifo = hpt_path("cert.fifo");

    *fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    free(fifo);
    return *fd >= 0;
}

/* A new binary that passes the check and then crashes while it starts (held here where it
 * reads its certificate from a FIFO, then sent SIGSEGV): the old binary takes over again,
 * same pid, the job untouched, as when the start fails by an error. */
START_TEST(a_new_image_that_crashes_while_starting_gives_way_to_the_old_one)
{
    char *copy = hpt_path("hero_proc_server.copy"), *wrapper = hpt_path("wrap.sh"),
         *crashes = hpt_path("crashes.sh"), *fifo = hpt_path("cert.fifo");
    const char *old_wrapper = getenv("HPT_SERVER_WRAPPER");
    char *saved = old_wrapper ? strdup(old_wrapper) : NULL, text[8192];
    char fell_back[] = "going back to the old one";
    pid_t server, sleeper, after;
    int64_t restarts, want = 1;
    int status, writer = -1;

    status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    install(hpt_server_binary(), copy);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    snprintf(text, sizeof(text), "#!/bin/sh\nshift\nexec %s \"$@\"\n", copy);
    write_script(wrapper, text);
    snprintf(text, sizeof(text),
             "#!/bin/sh\n[ \"$1\" = --version ] && exec %s --version\n"
             "exec %s \"$@\" --http 127.0.0.1:%d --tls-cert %s --tls-key %s\n",
             hpt_server_binary(), hpt_server_binary(), free_port(), fifo, fifo);
    write_script(crashes, text);
    setenv("HPT_SERVER_WRAPPER", wrapper, 1);
    hpt_server_start();
    if (saved)
        setenv("HPT_SERVER_WRAPPER", saved, 1);
    else
        unsetenv("HPT_SERVER_WRAPPER");
    server = hpt_server_pid();
    hpt_service_set("calm", NULL, hpt_command("main", "sleep 1000"), NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name("calm")));
    job_of("calm", &sleeper, &restarts);

    install(crashes, copy);
    cJSON_Delete(hpt_ok("system.reexec", NULL));
    ck_assert_msg(hpt_wait_until(fifo_opened, &writer, DEADLINE_MS),
                  "the new image never read its certificate");
    ck_assert_int_eq(kill(server, SIGSEGV), 0);
    ck_assert_msg(hpt_wait_until(log_says, fell_back, DEADLINE_MS), "no fall-back in the log");
    ck_assert(hpt_wait_until(reexecs_reached, &want, DEADLINE_MS));
    close(writer);
    ck_assert_int_eq(hpt_server_pid(), server);
    ck_assert(hpt_pid_alive(server));
    job_of("calm", &after, &restarts);
    ck_assert_int_eq(after, sleeper);
    ck_assert_int_eq(restarts, 0);
    ck_assert(hpt_pid_alive(sleeper));
    free(saved);
    free(copy);
    free(wrapper);
    free(crashes);
    free(fifo);
}
END_TEST

static Suite *upgrade_suite(void)
{
    Suite *s = suite_create("rel_upgrade");
    TCase *tc = tcase_create("upgrade");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_add_test(tc, the_tcp_listener_is_kept_across_sighup_and_refuses_no_call);
    tcase_add_test(tc, the_tls_listener_is_kept_across_sighup);
    tcase_add_test(tc, a_binary_that_passes_the_check_but_cannot_start_gives_way_to_the_old_one);
    tcase_add_test(tc, a_new_image_that_crashes_while_starting_gives_way_to_the_old_one);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(upgrade_suite());
}
