/* Benchmarks of hero_proc_server that print their figures (never assert): JSON-RPC round
 * trips over the Unix socket (system.ping, service.list with 200 services) next to a bare
 * Unix-socket round trip, server RSS with 200 services, one-shot spawn rate over 1000 runs
 * of `true`, and log capture of one child printing 2 000 000 lines.
 * Usage: bench/server_bench [PATH_TO_hero_proc_server] */
#include "config.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct buf {
    char *data;
    size_t len;
} buf;

static CURL *curl;
static char sock_path[256];
static buf reply;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* One JSON-RPC call; returns the parsed result (caller frees) or exits on error. */
static cJSON *call(const char *method, const char *params)
{
    char body[4096];
    cJSON *r, *result;

    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
             method, params ? params : "{}");
    reply.len = 0;
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(curl) != CURLE_OK) {
        fprintf(stderr, "bench: %s: transport error\n", method);
        exit(1);
    }
    r = cJSON_Parse(reply.data);
    result = cJSON_DetachItemFromObject(r, "result");
    if (!result) {
        fprintf(stderr, "bench: %s failed: %s\n", method, reply.data);
        exit(1);
    }
    cJSON_Delete(r);
    return result;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void latency(const char *label, const char *method, const char *params, int n)
{
    double *t = malloc((size_t)n * sizeof(*t));

    for (int i = 0; i < n; i++) {
        double t0 = now_s();
        cJSON_Delete(call(method, params));
        t[i] = (now_s() - t0) * 1e6;
    }
    qsort(t, (size_t)n, sizeof(*t), cmp_double);
    printf("%-42s p50 %8.1f us   p99 %8.1f us   (%d calls)\n", label, t[n / 2], t[(n * 99) / 100],
           n);
    free(t);
}

/* A bare Unix-socket round trip (socketpair, 64 bytes each way) as the floor. */
static void bare_round_trip(int n)
{
    int sv[2];
    char msg[64] = "ping";
    double *t = malloc((size_t)n * sizeof(*t));
    pid_t pid;

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
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
        double t0 = now_s();
        if (write(sv[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg) ||
            read(sv[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg))
            break;
        t[i] = (now_s() - t0) * 1e6;
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
    qsort(t, (size_t)n, sizeof(*t), cmp_double);
    printf("%-42s p50 %8.1f us   p99 %8.1f us   (%d round trips)\n", "bare unix socket round trip",
           t[n / 2], t[(n * 99) / 100], n);
    free(t);
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static pid_t start_server(const char *server, const char *dir)
{
    char data[300];
    pid_t pid;

    snprintf(sock_path, sizeof(sock_path), "%s/rpc.sock", dir);
    snprintf(data, sizeof(data), "%s/data", dir);
    pid = fork();
    if (pid == 0) {
        execl(server, server, "--socket", sock_path, "--data-dir", data, "--log-level", "warn",
              "--log-lines-per-job", "3000000", "--log-bytes", "1073741824", "--max-runs", "5000",
              (char *)NULL);
        _exit(127);
    }
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

static void wait_run(long long id)
{
    char params[128];

    snprintf(params, sizeof(params), "{\"id\":%lld,\"timeout_ms\":600000}", id);
    cJSON_Delete(call("run.wait", params));
}

static long long submit(const char *name, const char *action_json)
{
    char params[1024];
    cJSON *run;
    long long id;

    snprintf(params, sizeof(params), "{\"name\":\"%s\",\"actions\":[%s]}", name, action_json);
    run = call("run.submit", params);
    id = (long long)cJSON_GetObjectItem(run, "id")->valuedouble;
    cJSON_Delete(run);
    return id;
}

int main(int argc, char **argv)
{
    const char *server = argc > 1 ? argv[1] : "./hero_proc_server";
    char dir[] = "/tmp/hp-bench-XXXXXX";
    struct curl_slist *headers = NULL;
    long long first = 0, last = 0;
    double t0, t, before, dropped_before;
    pid_t pid;
    cJSON *r;

    if (!mkdtemp(dir))
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    snprintf(sock_path, sizeof(sock_path), "%s/rpc.sock", dir);
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, sock_path);
    pid = start_server(server, dir);
    printf("hero_proc_server benchmarks (%s)\n", server);

    bare_round_trip(20000);
    latency("system.ping over the unix socket", "system.ping", NULL, 5000);
    printf("%-42s %ld kB\n", "server RSS, empty", rss_kb(pid));
    for (int i = 0; i < 200; i++) {
        char params[512];
        snprintf(params, sizeof(params),
                 "{\"config\":{\"name\":\"svc%03d\",\"description\":\"bench service %d\","
                 "\"actions\":[{\"name\":\"start\",\"script\":\"sleep 1000\"}]}}",
                 i, i);
        cJSON_Delete(call("service.set", params));
    }
    latency("service.list with 200 services", "service.list", NULL, 1000);
    {
        char since[64];
        r = call("service.list", NULL);
        snprintf(since, sizeof(since), "{\"if_changed_since\":%.0f}",
                 cJSON_GetObjectItem(r, "rev")->valuedouble);
        cJSON_Delete(r);
        latency("service.list, unchanged since rev", "service.list", since, 1000);
    }
    printf("%-42s %ld kB\n", "server RSS, 200 services", rss_kb(pid));

    t0 = now_s();
    for (int i = 0; i < 1000; i++) {
        last = submit("spawn", "{\"name\":\"t\",\"command\":\"true\"}");
        if (i == 0)
            first = last;
    }
    for (long long id = first; id <= last; id++)
        wait_run(id);
    t = now_s() - t0;
    printf("%-42s %8.0f runs/s (1000 runs in %.2f s)\n", "one-shot spawn rate (true)", 1000 / t, t);

    r = call("system.info", NULL);
    before = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "counts"), "log_lines")->valuedouble;
    dropped_before = cJSON_GetObjectItem(r, "dropped_log_lines")->valuedouble;
    cJSON_Delete(r);
    t0 = now_s();
    last = submit("flood", "{\"name\":\"seq\",\"command\":\"seq 1 2000000\"}");
    wait_run(last);
    t = now_s() - t0;
    r = call("system.info", NULL);
    {
        cJSON *counts = cJSON_GetObjectItem(r, "counts");
        double lines = cJSON_GetObjectItem(counts, "log_lines")->valuedouble;
        double dropped = cJSON_GetObjectItem(r, "dropped_log_lines")->valuedouble;
        /* The child's 2 000 000 lines plus its 2 system lines (spawned, exited). */
        double stored = lines - before - 2, lost_by_caps = dropped - dropped_before;
        printf("%-42s %8.0f lines/s (2000000 lines in %.2f s)\n", "log capture, one child",
               2000000 / t, t);
        printf("%-42s stored %.0f, dropped by caps %.0f, lost %.0f\n", "log lines of the child",
               stored, lost_by_caps, 2000000 - stored - lost_by_caps);
    }
    cJSON_Delete(r);
    printf("%-42s %ld kB\n", "server RSS after the flood", rss_kb(pid));

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(reply.data);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
