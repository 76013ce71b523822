/* Benchmarks of hero_proc_server that print their figures (never assert): JSON-RPC round
 * trips over the Unix socket (system.ping, service.list with 200 services) next to a bare
 * Unix-socket round trip, server RSS with 200 services, one-shot spawn rate over 1000 runs
 * of `true`, log capture of one child printing 2 000 000 lines, and the restart latency
 * of a restart=always service killed after it was up longer than the minimum uptime.
 * Usage: bench/server_bench [PATH_TO_hero_proc_server] */
#include "config.h"

#include "bench/bench_common.h"

#include <cjson/cJSON.h>
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

static void latency(const char *label, const char *method, const char *params, int n)
{
    double *t = malloc((size_t)n * sizeof(*t));

    for (int i = 0; i < n; i++) {
        double t0 = bench_now_s();
        cJSON_Delete(bench_call(method, params));
        t[i] = (bench_now_s() - t0) * 1e6;
    }
    bench_report(label, t, n, "calls");
    free(t);
}

/* The pid of service "long"'s action when it is running, else 0. */
static long long long_pid(void)
{
    cJSON *r = bench_call("service.status", "{\"name\":\"long\"}");
    cJSON *jobs = cJSON_GetObjectItem(r, "jobs"), *job = cJSON_GetArrayItem(jobs, 0);
    cJSON *pid = job ? cJSON_GetObjectItem(job, "pid") : NULL;
    cJSON *st = job ? cJSON_GetObjectItem(job, "status") : NULL;
    long long v =
        pid && cJSON_IsNumber(pid) && cJSON_IsString(st) && strcmp(st->valuestring, "running") == 0
            ? (long long)pid->valuedouble
            : 0;

    cJSON_Delete(r);
    return v;
}

/* SIGKILL to the service's process once it has been up 250 ms (the server runs with
 * --min-uptime-ms 200), then service.status in a tight loop until the new pid runs. */
static void restart_latency(int n)
{
    double *t = malloc((size_t)n * sizeof(*t));
    long long pid;

    cJSON_Delete(bench_call("service.set",
                            "{\"config\":{\"name\":\"long\",\"actions\":[{\"name\":\"main\","
                            "\"command\":\"sleep 1000\",\"restart\":\"always\"}]}}"));
    cJSON_Delete(bench_call("service.start", "{\"name\":\"long\"}"));
    while ((pid = long_pid()) == 0)
        usleep(1000);
    for (int i = 0; i < n; i++) {
        long long fresh;
        double t0;
        usleep(250 * 1000);
        t0 = bench_now_s();
        kill((pid_t)pid, SIGKILL);
        while ((fresh = long_pid()) == 0 || fresh == pid)
            ;
        t[i] = (bench_now_s() - t0) * 1e6;
        pid = fresh;
    }
    bench_report("restart after a kill, up > min uptime", t, n, "kills");
    cJSON_Delete(bench_call("service.stop", "{\"name\":\"long\"}"));
    free(t);
}

int main(int argc, char **argv)
{
    const char *server = argc > 1 ? argv[1] : "./hero_proc_server";
    char dir[] = "/tmp/hp-bench-XXXXXX";
    long long first = 0, last = 0;
    double t0, t, before, dropped_before;
    pid_t pid;
    cJSON *r;

    if (!mkdtemp(dir))
        return 1;
    pid = bench_start_server("server_bench", server, dir);
    printf("hero_proc_server benchmarks (%s)\n", server);

    bench_bare_round_trip(20000);
    latency("system.ping over the unix socket", "system.ping", NULL, 5000);
    printf("%-46s %ld kB\n", "server RSS, empty", bench_status_kb(pid, "VmRSS"));
    for (int i = 0; i < 200; i++) {
        char params[512];
        snprintf(params, sizeof(params),
                 "{\"config\":{\"name\":\"svc%03d\",\"description\":\"bench service %d\","
                 "\"actions\":[{\"name\":\"start\",\"script\":\"sleep 1000\"}]}}",
                 i, i);
        cJSON_Delete(bench_call("service.set", params));
    }
    latency("service.list with 200 services", "service.list", NULL, 1000);
    {
        char since[64];
        r = bench_call("service.list", NULL);
        snprintf(since, sizeof(since), "{\"if_changed_since\":%.0f}",
                 cJSON_GetObjectItem(r, "rev")->valuedouble);
        cJSON_Delete(r);
        latency("service.list, unchanged since rev", "service.list", since, 1000);
    }
    printf("%-46s %ld kB\n", "server RSS, 200 services", bench_status_kb(pid, "VmRSS"));

    t0 = bench_now_s();
    for (int i = 0; i < 1000; i++) {
        last = bench_submit(
            "{\"name\":\"spawn\",\"actions\":[{\"name\":\"t\",\"command\":\"true\"}]}");
        if (i == 0)
            first = last;
    }
    for (long long id = first; id <= last; id++)
        bench_wait_run(id);
    t = bench_now_s() - t0;
    printf("%-46s %8.0f runs/s (1000 runs in %.2f s)\n", "one-shot spawn rate (true)", 1000 / t, t);

    r = bench_call("system.info", NULL);
    before = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "counts"), "log_lines")->valuedouble;
    dropped_before = cJSON_GetObjectItem(r, "dropped_log_lines")->valuedouble;
    cJSON_Delete(r);
    t0 = bench_now_s();
    last = bench_submit(
        "{\"name\":\"flood\",\"actions\":[{\"name\":\"seq\",\"command\":\"seq 1 2000000\"}]}");
    bench_wait_run(last);
    t = bench_now_s() - t0;
    r = bench_call("system.info", NULL);
    {
        cJSON *counts = cJSON_GetObjectItem(r, "counts");
        double lines = cJSON_GetObjectItem(counts, "log_lines")->valuedouble;
        double dropped = cJSON_GetObjectItem(r, "dropped_log_lines")->valuedouble;
        /* The child's 2 000 000 lines plus its 2 system lines (spawned, exited). */
        double stored = lines - before - 2, lost_by_caps = dropped - dropped_before;
        printf("%-46s %8.0f lines/s (2000000 lines in %.2f s)\n", "log capture, one child",
               2000000 / t, t);
        printf("%-46s stored %.0f, dropped by caps %.0f, lost %.0f\n", "log lines of the child",
               stored, lost_by_caps, 2000000 - stored - lost_by_caps);
    }
    cJSON_Delete(r);
    printf("%-46s %ld kB\n", "server RSS after the flood", bench_status_kb(pid, "VmRSS"));

    restart_latency(40);

    bench_stop_server(pid);
    bench_done();
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
