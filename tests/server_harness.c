/* SPDX-License-Identifier: Apache-2.0 */
/* The integration fixture: starts the real hero_proc_server (fork/exec) per test in a
 * mkdtemp directory, talks JSON-RPC to it over its Unix socket with libcurl, and waits on
 * conditions by polling with deadlines, never with fixed sleeps. It does not know what
 * the methods mean beyond the few builders the suites share. */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { START_DEADLINE_MS = 20000, STOP_DEADLINE_MS = 20000, CALL_TIMEOUT_MS = 30000 };
enum { POLL_MS = 20 };

static struct {
    pid_t pid;
    char sock[4096];
    char data[4096];
    char log[4096];
    CURL *curl;
    long next_id;
    char errmsg[1024];
    cJSON *errdata;
    char *extra[5]; /* more server arguments for the next start, NULL-terminated */
} H;

/* ---- small utilities ---------------------------------------------------------------- */

int64_t hpt_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int hpt_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int hpt_wait_until(hpt_cond cond, void *ud, int deadline_ms)
{
    int64_t end = hpt_now_ms() + deadline_ms;

    for (;;) {
        if (cond(ud))
            return 1;
        if (hpt_now_ms() >= end)
            return cond(ud);
        pause_ms(POLL_MS);
    }
}

char *hpt_path(const char *name)
{
    return hp_test_join(hp_test_tmpdir(), name);
}

char *hpt_read(const char *name)
{
    char *path = hpt_path(name);
    char *text = hp_test_read_file(path, NULL);

    free(path);
    return text;
}

const char *hpt_socket_path(void)
{
    return H.sock;
}

const char *hpt_data_dir(void)
{
    return H.data;
}

pid_t hpt_server_pid(void)
{
    return H.pid;
}

/* The first 2000 bytes of a JSON value, for failure messages (static buffer). */
static const char *show(const cJSON *json)
{
    static char buf[2048];
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;

    snprintf(buf, sizeof(buf), "%.2000s", text ? text : "(null)");
    free(text);
    return buf;
}

void hpt_server_dump_log(void)
{
    char *log = hp_test_read_file(H.log, NULL);

    fprintf(stderr, "---- hero_proc_server log (%s) ----\n%s---- end of log ----\n", H.log,
            log ? log : "(unreadable)\n");
    free(log);
}

/* ---- libcurl -------------------------------------------------------------------------- */

typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    buffer *b = ud;
    size_t n = size * nmemb;

    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *grown;
        while (cap < b->len + n + 1)
            cap *= 2;
        grown = realloc(b->data, cap);
        if (!grown)
            return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static void curl_reset_connection(void)
{
    if (H.curl)
        curl_easy_cleanup(H.curl);
    H.curl = NULL;
}

static CURL *easy(void)
{
    static int global_done;

    if (!global_done) {
        ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
        global_done = 1;
    }
    if (!H.curl) {
        H.curl = curl_easy_init();
        ck_assert_ptr_nonnull(H.curl);
    }
    return H.curl;
}

/* One HTTP exchange on the shared handle. body NULL = GET. */
static CURLcode perform(const char *path, const char *body, size_t len, long timeout_ms,
                        long *status, buffer *reply)
{
    CURL *c = easy();
    struct curl_slist *headers = NULL;
    char url[256];
    CURLcode rc;

    snprintf(url, sizeof(url), "http://localhost%s", path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, H.sock);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(headers);
    return rc;
}

int hpt_post(const char *body, size_t len, long *http_status, char **reply_text)
{
    buffer b = {0};
    CURLcode rc = perform("/rpc", body, len, CALL_TIMEOUT_MS, http_status, &b);

    if (rc != CURLE_OK) {
        fprintf(stderr, "POST /rpc: %s\n", curl_easy_strerror(rc));
        free(b.data);
        *reply_text = NULL;
        return -1;
    }
    *reply_text = b.data ? b.data : strdup("");
    return 0;
}

int hpt_get(const char *path, long *http_status, char **reply_text, size_t *reply_len)
{
    buffer b = {0};
    CURLcode rc = perform(path, NULL, 0, CALL_TIMEOUT_MS, http_status, &b);

    if (rc != CURLE_OK) {
        free(b.data);
        *reply_text = NULL;
        return -1;
    }
    *reply_text = b.data ? b.data : strdup("");
    if (reply_len)
        *reply_len = b.len;
    return 0;
}

/* ---- JSON-RPC ------------------------------------------------------------------------- */

const char *hpt_error_message(void)
{
    return H.errmsg;
}

const cJSON *hpt_error_data(void)
{
    return H.errdata;
}

cJSON *hpt_call(const char *method, cJSON *params_taken, int *rpc_code_out)
{
    cJSON *req = cJSON_CreateObject(), *reply, *result, *error, *id;
    long timeout = CALL_TIMEOUT_MS, status = 0;
    long my_id = ++H.next_id;
    buffer b = {0};
    char *text;
    CURLcode rc;

    cJSON_Delete(H.errdata);
    H.errdata = NULL;
    H.errmsg[0] = '\0';
    if (rpc_code_out)
        *rpc_code_out = 0;
    if (strcmp(method, "run.wait") == 0) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(params_taken, "timeout_ms");
        timeout = (cJSON_IsNumber(t) ? (long)t->valuedouble : 30000) + 15000;
    }
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", (double)my_id);
    cJSON_AddStringToObject(req, "method", method);
    if (params_taken)
        cJSON_AddItemToObject(req, "params", params_taken);
    text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    ck_assert_ptr_nonnull(text);
    rc = perform("/rpc", text, strlen(text), timeout, &status, &b);
    free(text);
    ck_assert_msg(rc == CURLE_OK, "%s: no answer from the server: %s", method,
                  curl_easy_strerror(rc));
    ck_assert_msg(status == 200, "%s: HTTP %ld: %s", method, status, b.data ? b.data : "");
    reply = b.data ? cJSON_Parse(b.data) : NULL;
    ck_assert_msg(reply != NULL, "%s: the answer is not JSON: %s", method, b.data ? b.data : "");
    free(b.data);
    id = cJSON_GetObjectItemCaseSensitive(reply, "id");
    ck_assert_msg(cJSON_IsNumber(id) && (long)id->valuedouble == my_id,
                  "%s: the answer has the wrong id: %s", method, show(reply));
    ck_assert_msg(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(reply, "jsonrpc")),
                  "%s: the answer lacks jsonrpc: %s", method, show(reply));
    error = cJSON_GetObjectItemCaseSensitive(reply, "error");
    if (error) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");
        ck_assert_msg(cJSON_IsNumber(code) && cJSON_IsString(msg), "%s: malformed error object: %s",
                      method, show(reply));
        ck_assert_msg(!cJSON_HasObjectItem(reply, "result"), "%s: both result and error: %s",
                      method, show(reply));
        snprintf(H.errmsg, sizeof(H.errmsg), "%s", msg->valuestring);
        H.errdata = cJSON_DetachItemFromObjectCaseSensitive(error, "data");
        if (rpc_code_out)
            *rpc_code_out = (int)code->valuedouble;
        cJSON_Delete(reply);
        return NULL;
    }
    result = cJSON_DetachItemFromObjectCaseSensitive(reply, "result");
    ck_assert_msg(result != NULL, "%s: neither result nor error: %s", method, show(reply));
    cJSON_Delete(reply);
    return result;
}

cJSON *hpt_ok(const char *method, cJSON *params_taken)
{
    int code = 0;
    cJSON *r = hpt_call(method, params_taken, &code);

    ck_assert_msg(r != NULL, "%s failed: %d %s %s", method, code, H.errmsg, show(H.errdata));
    return r;
}

int hpt_fail(const char *method, cJSON *params_taken)
{
    int code = 0;
    cJSON *r = hpt_call(method, params_taken, &code);

    ck_assert_msg(r == NULL, "%s should fail, answered %s", method, show(r));
    return code;
}

/* ---- a second, raw connection ------------------------------------------------------- */

int hpt_raw_send(const char *body)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    char head[256];
    size_t hl, bl = strlen(body);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_uint_lt(strlen(H.sock), sizeof(addr.sun_path));
    memcpy(addr.sun_path, H.sock, strlen(H.sock) + 1);
    ck_assert_msg(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect %s: %s",
                  H.sock, strerror(errno));
    snprintf(head, sizeof(head),
             "POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
             bl);
    hl = strlen(head);
    ck_assert_msg(send(fd, head, hl, MSG_NOSIGNAL) == (ssize_t)hl, "send: %s", strerror(errno));
    ck_assert_msg(send(fd, body, bl, MSG_NOSIGNAL) == (ssize_t)bl, "send: %s", strerror(errno));
    return fd;
}

int hpt_raw_ready(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

char *hpt_raw_answer(int fd, int deadline_ms)
{
    int64_t end = hpt_now_ms() + deadline_ms;
    buffer b = {0};
    char chunk[4096], *body = NULL, *sep;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = end - hpt_now_ms();
        ssize_t n;
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sep = b.data ? strstr(b.data, "\r\n\r\n") : NULL;
            if (sep)
                body = strdup(sep + 4);
            break;
        }
        on_data(chunk, 1, (size_t)n, &b);
    }
    free(b.data);
    close(fd);
    return body;
}

/* ---- the server process ----------------------------------------------------------------- */

const char *hpt_server_binary(void)
{
    static char path[4096];
    const char *dir = getenv("top_builddir");

    snprintf(path, sizeof(path), "%s/hero_proc_server", dir && *dir ? dir : ".");
    return path;
}

static void __attribute__((noreturn)) exec_server(pid_t parent, int log_fd)
{
    const char *bin = hpt_server_binary();
    char *const argv[] = {(char *)(uintptr_t)bin,
                          (char *)(uintptr_t) "--socket",
                          H.sock,
                          (char *)(uintptr_t) "--data-dir",
                          H.data,
                          (char *)(uintptr_t) "--kill-grace-ms",
                          (char *)(uintptr_t) "1000",
                          H.extra[0],
                          H.extra[1],
                          H.extra[2],
                          H.extra[3],
                          NULL};
    const char *wrapper = getenv("HPT_SERVER_WRAPPER");
    sigset_t none;
    int devnull = open("/dev/null", O_RDONLY);

    /* A test that dies (failed assertion, Check timeout) takes its server with it. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
        _exit(127);
    syscall(SYS_close_range, 3U, ~0U, 0U);
    if (wrapper && *wrapper) {
        /* exec keeps the pid: the wrapper (valgrind, strace) is the server process. */
        char *const wrapped[] = {(char *)(uintptr_t) "/bin/sh",
                                 (char *)(uintptr_t) "-c",
                                 (char *)(uintptr_t) "exec $HPT_SERVER_WRAPPER \"$@\"",
                                 (char *)(uintptr_t) "sh",
                                 argv[0],
                                 argv[1],
                                 argv[2],
                                 argv[3],
                                 argv[4],
                                 argv[5],
                                 argv[6],
                                 argv[7],
                                 argv[8],
                                 argv[9],
                                 argv[10],
                                 NULL};
        execv(wrapped[0], wrapped);
    } else {
        execv(bin, argv);
    }
    _exit(127);
}

/* Asked again and again while the server starts, each time with a short timeout: a
 * socket that takes the connection and never answers (one the new server replaces) must
 * not hold the whole start deadline. */
static int health_ok(void *ud)
{
    long status = 0;
    buffer b = {0};
    int ok;

    (void)ud;
    ok = perform("/health", NULL, 0, 1000, &status, &b) == CURLE_OK && status == 200;
    free(b.data);
    return ok;
}

/* The processes holding the socket at path open (its inode from /proc/net/unix), on
 * stderr: what a "another server is listening" start failure needs explained. */
static void who_holds(const char *path)
{
    char line[4096], want[64] = "";
    FILE *f = fopen("/proc/net/unix", "re");
    DIR *d;
    struct dirent *e;

    while (f && fgets(line, sizeof(line), f)) {
        char *p = strrchr(line, ' '), *ino = NULL;
        line[strcspn(line, "\n")] = '\0';
        if (!p || strcmp(p + 1, path) != 0)
            continue;
        *p = '\0';
        ino = strrchr(line, ' ');
        if (ino)
            snprintf(want, sizeof(want), "socket:[%s]", ino + 1);
    }
    if (f)
        fclose(f);
    if (!want[0] || !(d = opendir("/proc")))
        return;
    while ((e = readdir(d)) != NULL) {
        char dir[300], target[128], cmd[256];
        int pid = atoi(e->d_name);
        DIR *fds;
        struct dirent *fe;
        if (pid <= 0)
            continue;
        snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
        if (!(fds = opendir(dir)))
            continue;
        while ((fe = readdir(fds)) != NULL) {
            char link[600];
            ssize_t n;
            snprintf(link, sizeof(link), "%s/%s", dir, fe->d_name);
            n = readlink(link, target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strcmp(target, want) == 0) {
                char *text;
                snprintf(cmd, sizeof(cmd), "/proc/%d/cmdline", pid);
                text = hp_test_read_file(cmd, NULL);
                for (size_t i = 0; text && text[i + 1]; i++)
                    if (text[i] == '\0')
                        text[i] = ' ';
                fprintf(stderr, "# %s (%s) is held by pid %d, fd %s: %s\n", path, want, pid,
                        fe->d_name, text ? text : "?");
                free(text);
            }
        }
        closedir(fds);
    }
    closedir(d);
}

void hpt_server_start(void)
{
    pid_t parent = getpid(), pid;
    int64_t end = hpt_now_ms() + START_DEADLINE_MS;
    int log_fd, status;

    ck_assert_msg(H.pid == 0, "the server is already running");
    ck_assert_msg(access(hpt_server_binary(), X_OK) == 0, "%s: %s (build it first)",
                  hpt_server_binary(), strerror(errno));
    log_fd = open(H.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ck_assert_msg(log_fd >= 0, "%s: %s", H.log, strerror(errno));
    fflush(NULL);
    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0)
        exec_server(parent, log_fd);
    close(log_fd);
    H.pid = pid;
    curl_reset_connection();
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            H.pid = 0;
            hpt_server_dump_log();
            if (WIFEXITED(status) && WEXITSTATUS(status) == 111)
                who_holds(H.sock);
            ck_abort_msg("hero_proc_server exited at start (status 0x%x)", status);
        }
        if (health_ok(NULL))
            return;
        if (hpt_now_ms() >= end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            H.pid = 0;
            hpt_server_dump_log();
            ck_abort_msg("hero_proc_server did not answer GET /health within %d ms",
                         START_DEADLINE_MS);
        }
        pause_ms(POLL_MS);
    }
}

int hpt_server_signal_and_wait(int sig, int deadline_ms)
{
    int64_t end = hpt_now_ms() + deadline_ms;
    pid_t pid = H.pid;
    int status = 0;

    ck_assert_msg(pid > 0, "the server is not running");
    curl_reset_connection();
    ck_assert_int_eq(kill(pid, sig), 0);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        ck_assert_msg(r == 0, "waitpid: %s", strerror(errno));
        if (hpt_now_ms() >= end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            H.pid = 0;
            hpt_server_dump_log();
            ck_abort_msg("hero_proc_server still ran %d ms after signal %d", deadline_ms, sig);
        }
        pause_ms(POLL_MS);
    }
    H.pid = 0;
    return status;
}

void hpt_server_crash(void)
{
    int status;

    ck_assert_msg(H.pid > 0, "the server is not running");
    curl_reset_connection();
    ck_assert_int_eq(kill(H.pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(H.pid, &status, 0), H.pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    H.pid = 0;
}

void hpt_server_crash_and_restart(void)
{
    hpt_server_crash();
    hpt_server_start();
}

void hpt_server_extra_args(const char *a, const char *b)
{
    free(H.extra[0]);
    free(H.extra[1]);
    H.extra[0] = a ? strdup(a) : NULL;
    H.extra[1] = a && b ? strdup(b) : NULL;
    hpt_server_more_args(NULL, NULL);
}

void hpt_server_more_args(const char *c, const char *d)
{
    free(H.extra[2]);
    free(H.extra[3]);
    H.extra[2] = c ? strdup(c) : NULL;
    H.extra[3] = c && d ? strdup(d) : NULL;
}

void hpt_setup(void)
{
    const char *dir;

    hp_test_tmpdir_setup();
    dir = hp_test_tmpdir();
    memset(&H, 0, sizeof(H));
    snprintf(H.sock, sizeof(H.sock), "%s/rpc.sock", dir);
    snprintf(H.data, sizeof(H.data), "%s/data", dir);
    snprintf(H.log, sizeof(H.log), "%s/server.log", dir);
    hpt_server_start();
}

void hpt_teardown(void)
{
    int status = 0, ran = H.pid > 0;

    if (ran)
        status = hpt_server_signal_and_wait(SIGTERM, STOP_DEADLINE_MS);
    if (ran && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        hpt_server_dump_log();
    curl_reset_connection();
    cJSON_Delete(H.errdata);
    H.errdata = NULL;
    hpt_server_extra_args(NULL, NULL);
    hp_test_tmpdir_teardown();
    if (ran)
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "hero_proc_server should exit 0 on SIGTERM, wait status 0x%x", status);
}

/* ---- processes ------------------------------------------------------------------------ */

/* State, parent and process group from /proc/PID/stat; 0, or -1 when it is gone. */
static int read_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgrp)
{
    char path[64], buf[1024];
    const char *p;
    int fd, pp = 0, pg = 0;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 1, " %c %d %d", state, &pp, &pg) != 3)
        return -1;
    if (ppid)
        *ppid = pp;
    if (pgrp)
        *pgrp = pg;
    return 0;
}

int hpt_pid_exists(pid_t pid)
{
    char state;

    return pid > 0 && read_stat(pid, &state, NULL, NULL) == 0;
}

int hpt_pid_alive(pid_t pid)
{
    char state;

    return pid > 0 && read_stat(pid, &state, NULL, NULL) == 0 && state != 'Z' && state != 'X';
}

/* Calls fn for every process in /proc. */
static int each_process(int (*fn)(pid_t pid, const void *arg), const void *arg)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int count = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        count += fn((pid_t)pid, arg);
    }
    closedir(d);
    return count;
}

static int in_group(pid_t pid, const void *arg)
{
    char state;
    pid_t pgrp;

    return read_stat(pid, &state, NULL, &pgrp) == 0 && pgrp == *(const pid_t *)arg &&
           state != 'Z' && state != 'X';
}

int hpt_group_count(pid_t pgid)
{
    return pgid > 1 ? each_process(in_group, &pgid) : 0;
}

static int zombie_child(pid_t pid, const void *arg)
{
    char state;
    pid_t ppid;

    return read_stat(pid, &state, &ppid, NULL) == 0 && ppid == *(const pid_t *)arg && state == 'Z';
}

int hpt_zombie_children(pid_t ppid)
{
    return each_process(zombie_child, &ppid);
}

int hpt_no_server_zombies(void *ud)
{
    (void)ud;
    return hpt_zombie_children(hpt_server_pid()) == 0;
}

int hpt_fd_count(pid_t pid)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int hpt_settled_fd_count(pid_t pid)
{
    int least = hpt_fd_count(pid);

    for (int i = 0; i < 10; i++) {
        int n;
        usleep(30000);
        n = hpt_fd_count(pid);
        least = n < least ? n : least;
    }
    return least;
}

static int cmdline_has(pid_t pid, const void *arg)
{
    char path[64], buf[8192];
    ssize_t n;
    int fd;

    if (!hpt_pid_alive(pid) || pid == getpid())
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return strstr(buf, (const char *)arg) != NULL;
}

int hpt_count_cmdline(const char *needle)
{
    return each_process(cmdline_has, needle);
}

pid_t hpt_read_pid(const char *name)
{
    char *text = hpt_read(name);
    long pid = text ? strtol(text, NULL, 10) : 0;

    free(text);
    return (pid_t)pid;
}

/* ---- builders and readers --------------------------------------------------------------- */

cJSON *hpt_jsonf(const char *fmt, ...)
{
    va_list ap, again;
    char *text;
    cJSON *json;
    int n;

    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    text = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(text);
    vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    json = cJSON_Parse(text);
    ck_assert_msg(json != NULL, "not JSON: %s", text);
    free(text);
    return json;
}

static cJSON *action(const char *name, const char *key, const char *value)
{
    cJSON *a = cJSON_CreateObject();

    cJSON_AddStringToObject(a, "name", name);
    cJSON_AddStringToObject(a, key, value);
    cJSON_AddStringToObject(a, "cwd", hp_test_tmpdir());
    return a;
}

cJSON *hpt_script(const char *name, const char *script)
{
    return action(name, "script", script);
}

cJSON *hpt_command(const char *name, const char *command)
{
    return action(name, "command", command);
}

cJSON *hpt_depends(cJSON *a, const char *dep)
{
    cJSON *deps = cJSON_GetObjectItemCaseSensitive(a, "depends_on");

    if (!deps)
        deps = cJSON_AddArrayToObject(a, "depends_on");
    cJSON_AddItemToArray(deps, cJSON_CreateString(dep));
    return a;
}

cJSON *hpt_id(int64_t id)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "id", (double)id);
    return o;
}

cJSON *hpt_name(const char *name)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "name", name);
    return o;
}

int64_t hpt_submit(const char *name, ...)
{
    cJSON *params = hpt_name(name), *actions = cJSON_AddArrayToObject(params, "actions");
    cJSON *a, *run;
    int64_t id;
    va_list ap;

    va_start(ap, name);
    while ((a = va_arg(ap, cJSON *)) != NULL)
        cJSON_AddItemToArray(actions, a);
    va_end(ap);
    run = hpt_ok("run.submit", params);
    id = hpt_int(run, "id");
    cJSON_Delete(run);
    return id;
}

cJSON *hpt_wait_run(int64_t run_id, int timeout_ms)
{
    cJSON *params = hpt_id(run_id), *run;
    int code;

    cJSON_AddNumberToObject(params, "timeout_ms", timeout_ms);
    run = hpt_call("run.wait", params, &code);
    ck_assert_msg(run != NULL, "run.wait %lld: %d %s", (long long)run_id, code, H.errmsg);
    return run;
}

void hpt_service_set(const char *name, const char *wanted, ...)
{
    cJSON *params = cJSON_CreateObject();
    cJSON *config = cJSON_AddObjectToObject(params, "config"), *actions, *a;
    va_list ap;

    cJSON_AddStringToObject(config, "name", name);
    if (wanted)
        cJSON_AddStringToObject(config, "wanted", wanted);
    actions = cJSON_AddArrayToObject(config, "actions");
    va_start(ap, wanted);
    while ((a = va_arg(ap, cJSON *)) != NULL)
        cJSON_AddItemToArray(actions, a);
    va_end(ap);
    cJSON_Delete(hpt_ok("service.set", params));
}

const cJSON *hpt_job_of(const cJSON *run, const char *name)
{
    const cJSON *job;

    cJSON_ArrayForEach (job, cJSON_GetObjectItemCaseSensitive(run, "jobs")) {
        const char *a = hpt_str(job, "action");
        if (a && strcmp(a, name) == 0)
            return job;
    }
    ck_abort_msg("no job for action '%s' in %s", name, show(run));
    return NULL;
}

int64_t hpt_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    ck_assert_msg(cJSON_IsNumber(v), "'%s' should be a number in %s", key, show(o));
    return (int64_t)v->valuedouble;
}

int64_t hpt_int_or0(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    ck_assert_msg(cJSON_IsNumber(v) || cJSON_IsNull(v), "'%s' should be a number or null in %s",
                  key, show(o));
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

const char *hpt_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *hpt_job_lines(int64_t job_id)
{
    cJSON *all = cJSON_CreateArray();
    int64_t after = 0;

    for (int pages = 0; pages < 1000; pages++) {
        cJSON *params = hpt_id(job_id), *page, *lines, *line;
        int n;
        cJSON_AddNumberToObject(params, "after_seq", (double)after);
        cJSON_AddNumberToObject(params, "limit", 1000);
        page = hpt_ok("job.logs", params);
        lines = cJSON_GetObjectItemCaseSensitive(page, "lines");
        ck_assert_msg(cJSON_IsArray(lines), "job.logs without lines: %s", show(page));
        n = cJSON_GetArraySize(lines);
        after = hpt_int(page, "next_seq");
        while ((line = cJSON_DetachItemFromArray(lines, 0)) != NULL)
            cJSON_AddItemToArray(all, line);
        cJSON_Delete(page);
        if (n == 0)
            break;
    }
    return all;
}

int hpt_find_line(const cJSON *lines, const char *stream, const char *text, int contains)
{
    const cJSON *l;
    int i = 0;

    cJSON_ArrayForEach (l, lines) {
        const char *s = hpt_str(l, "stream"), *t = hpt_str(l, "line");
        if (t && (!stream || (s && strcmp(s, stream) == 0)) &&
            (contains ? strstr(t, text) != NULL : strcmp(t, text) == 0))
            return i;
        i++;
    }
    return -1;
}

int hpt_json_contains(const cJSON *json, const char *needle)
{
    char *text = cJSON_PrintUnformatted(json);
    int found = text && strstr(text, needle) != NULL;

    free(text);
    return found;
}
