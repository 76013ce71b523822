/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark of hero_proc_sdk that prints its figures (never asserts): in-process latency
 * p50/p99 of hp_sdk_ping and of hp_services_list with 200 services, over the Unix socket
 * and over HTTP with the server's token, next to a bare Unix-socket round trip measured
 * in the same run. It starts its own hero_proc_server in a temporary directory; the
 * server's own costs (spawn rate, log capture, RSS) are bench/server_bench's.
 * Usage: bench/sdk_bench [PATH_TO_hero_proc_server] */
#include "config.h"

#include "bench/bench_common.h"

#include "client/sdk.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERVICES 200

static void die(const char *what, const hp_error *err)
{
    fprintf(stderr, "sdk_bench: %s: %s\n", what, err ? err->message : "failed");
    exit(1);
}

static void bench_ping(const char *label, hp_sdk *sdk, int n)
{
    double *t = calloc((size_t)n, sizeof(*t));
    hp_error err;

    if (!t)
        die("calloc", NULL);
    for (int i = 0; i < n; i++) {
        double t0 = (bench_now_s() * 1e6);
        if (hp_sdk_ping(sdk, NULL, &err) != HP_OK)
            die(label, &err);
        t[i] = (bench_now_s() * 1e6) - t0;
    }
    bench_report(label, t, n, "calls");
    free(t);
}

/* The whole call as a program sees it: request, reply, and parse into hp_service_list. */
static void bench_list(const char *label, hp_sdk *sdk, int n)
{
    double *t = calloc((size_t)n, sizeof(*t));
    hp_service_list *list = NULL;
    hp_error err;

    if (!t)
        die("calloc", NULL);
    for (int i = 0; i < n; i++) {
        double t0 = (bench_now_s() * 1e6);
        if (hp_services_list(sdk, 0, &list, &err) != HP_OK)
            die(label, &err);
        t[i] = (bench_now_s() * 1e6) - t0;
        if (list->n_services != SERVICES) {
            fprintf(stderr, "sdk_bench: %zu services listed\n", list->n_services);
            exit(1);
        }
        hp_service_list_free(list);
    }
    bench_report(label, t, n, "calls");
    free(t);
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    if (port < 0)
        die("no free TCP port", NULL);
    return port;
}

static char *read_token(const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");
    char *token = NULL;

    if (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        token = strdup(line);
    }
    if (f)
        fclose(f);
    return token;
}

/* Pings until the server answers (a 10 s deadline): no fixed sleep. */
static void wait_ready(hp_sdk *sdk)
{
    hp_error err;
    double deadline = (bench_now_s() * 1e6) + 10e6;

    while (hp_sdk_ping(sdk, NULL, &err) != HP_OK) {
        if ((bench_now_s() * 1e6) > deadline)
            die("hero_proc_server did not answer within 10 s", &err);
        usleep(10000);
    }
}

int main(int argc, char **argv)
{
    const char *server = argc > 1 ? argv[1] : "./hero_proc_server";
    char dir[] = "/tmp/hp-sdk-bench-XXXXXX";
    char sock[300], data[300], addr[64], url[80], token_path[320];
    hp_sdk_options o = {0};
    hp_sdk *unix_sdk, *http_sdk;
    char *token;
    hp_error err;
    pid_t pid;
    int status = 0;

    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(sock, sizeof(sock), "%s/rpc.sock", dir);
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(token_path, sizeof(token_path), "%s/token", data);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
    snprintf(url, sizeof(url), "http://%s", addr);
    pid = fork();
    if (pid == 0) {
        execl(server, server, "--socket", sock, "--data-dir", data, "--http", addr, "--log-level",
              "warn", (char *)NULL);
        _exit(127);
    }

    o.socket_path = sock;
    if (!(unix_sdk = hp_sdk_new(&o, &err)))
        die("hp_sdk_new (unix)", &err);
    wait_ready(unix_sdk);
    if (!(token = read_token(token_path)))
        die("no token in the data dir", NULL);
    o.socket_path = NULL;
    o.url = url;
    o.token = token;
    if (!(http_sdk = hp_sdk_new(&o, &err)))
        die("hp_sdk_new (http)", &err);
    wait_ready(http_sdk);
    printf("hero_proc_sdk benchmarks (%s, HTTP on %s)\n", server, addr);

    bench_bare_round_trip(20000);
    bench_ping("hp_sdk_ping over the unix socket", unix_sdk, 5000);
    bench_ping("hp_sdk_ping over HTTP with the token", http_sdk, 5000);
    for (int i = 0; i < SERVICES; i++) {
        char params[512];
        cJSON *p;
        snprintf(params, sizeof(params),
                 "{\"config\":{\"name\":\"svc%03d\",\"description\":\"bench service %d\","
                 "\"actions\":[{\"name\":\"start\",\"script\":\"sleep 1000\"}]}}",
                 i, i);
        p = cJSON_Parse(params);
        if (hp_sdk_call(unix_sdk, "service.set", p, NULL, &err) != HP_OK)
            die("service.set", &err);
    }
    bench_list("hp_services_list, 200 services, unix socket", unix_sdk, 1000);
    bench_list("hp_services_list, 200 services, HTTP", http_sdk, 1000);

    hp_sdk_free(unix_sdk);
    hp_sdk_free(http_sdk);
    free(token);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
