/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmarks' shared plumbing (bench_common.h): the clock, the server they start, the
 * JSON-RPC calls they make to it and the /proc figures they read. No measuring here. */
#include "config.h"

#include "bench/bench_common.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct buf {
    char *data;
    size_t len;
} buf;

static CURL *curl;
static struct curl_slist *headers;
static buf reply;
static char sock_path[300];
static const char *who = "bench";
static const char *extra_arg;

double bench_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

void bench_report(const char *label, double *us, int n, const char *unit)
{
    qsort(us, (size_t)n, sizeof(*us), bench_cmp_double);
    printf("%-46s p50 %8.1f us   p99 %8.1f us   (%d %s)\n", label, us[n / 2], us[(n * 99) / 100], n,
           unit);
}

void bench_bare_round_trip(int n)
{
    int sv[2];
    char msg[64] = "ping";
    double *t = calloc((size_t)n, sizeof(*t));
    pid_t pid;

    if (!t || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        fprintf(stderr, "%s: socketpair failed\n", who);
        exit(1);
    }
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        while (read(sv[1], msg, sizeof(msg)) == (ssize_t)sizeof(msg))
            if (write(sv[1], msg, sizeof(msg)) != (ssize_t)sizeof(msg))
                break;
        _exit(0);
    }
    close(sv[1]);
    for (int i = 0; i < n; i++) {
        double t0 = bench_now_s();
        if (write(sv[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg) ||
            read(sv[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg)) {
            fprintf(stderr, "%s: the bare round trip failed\n", who);
            exit(1);
        }
        t[i] = (bench_now_s() - t0) * 1e6;
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
    bench_report("bare unix socket round trip", t, n, "round trips");
    free(t);
}

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    char *grown = realloc(b->data, b->len + size * n + 1);

    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

const char *bench_socket(void)
{
    return sock_path;
}

void bench_server_arg(const char *arg)
{
    extra_arg = arg;
}

static void client_setup(void)
{
    if (!(curl = curl_easy_init())) {
        fprintf(stderr, "%s: cannot set up libcurl\n", who);
        exit(1);
    }
    if (!headers)
        headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
}

void bench_client_reconnect(void)
{
    /* The old handle's connection is the parent's too: closed here, it stays open there. */
    curl_easy_cleanup(curl);
    client_setup();
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, sock_path);
    curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/rpc");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
}

pid_t bench_start_server(const char *prog, const char *server, const char *dir)
{
    char data[320];
    pid_t pid;

    who = prog;
    if (!curl) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        client_setup();
    }
    snprintf(sock_path, sizeof(sock_path), "%s/rpc.sock", dir);
    snprintf(data, sizeof(data), "%s/data", dir);
    pid = fork();
    if (pid == 0) {
        execl(server, server, "--socket", sock_path, "--data-dir", data, "--log-level", "warn",
              "--log-bytes-per-job", "4294967296", "--log-bytes", "8589934592", "--max-runs",
              "5000",
              /* a short minimum uptime, so restart latency is measured in seconds */
              "--min-uptime-ms", "200", extra_arg, (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        fprintf(stderr, "%s: cannot fork\n", who);
        exit(1);
    }
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, sock_path);
    for (int i = 0; i < 500; i++) {
        curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/health");
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        reply.len = 0;
        if (curl_easy_perform(curl) == CURLE_OK)
            break;
        usleep(10000);
    }
    curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/rpc");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    return pid;
}

void bench_stop_server(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

void bench_done(void)
{
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(reply.data);
    headers = NULL;
    curl = NULL;
    reply.data = NULL;
}

cJSON *bench_call(const char *method, const char *params)
{
    char *body = NULL;
    cJSON *r, *result;

    if (asprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method,
                 params ? params : "{}") < 0)
        exit(1);
    reply.len = 0;
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(curl) != CURLE_OK) {
        fprintf(stderr, "%s: %s: transport error\n", who, method);
        exit(1);
    }
    free(body);
    r = cJSON_Parse(reply.data);
    result = cJSON_DetachItemFromObject(r, "result");
    if (!result) {
        fprintf(stderr, "%s: %s failed: %s\n", who, method, reply.data);
        exit(1);
    }
    cJSON_Delete(r);
    return result;
}

long long bench_submit(const char *params)
{
    cJSON *run = bench_call("run.submit", params);
    long long id = (long long)cJSON_GetObjectItem(run, "id")->valuedouble;

    cJSON_Delete(run);
    return id;
}

void bench_wait_run(long long id)
{
    char params[128];

    snprintf(params, sizeof(params), "{\"id\":%lld,\"timeout_ms\":600000}", id);
    cJSON_Delete(bench_call("run.wait", params));
}

long bench_status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    size_t klen = strlen(key);
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            kb = strtol(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}
