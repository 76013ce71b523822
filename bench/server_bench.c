/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmarks of hero_proc_server that print their figures (never assert): JSON-RPC round
 * trips over the Unix socket (system.ping, service.list with 200 services) next to a bare
 * Unix-socket round trip, server RSS with 200 services, one-shot spawn rate over 1000 runs
 * of `true`, log capture of one child printing 2 000 000 lines, and the restart latency
 * of a restart=always service killed after it was up longer than the minimum uptime, a
 * new client's ping (a connection of its own) while 500 idle connections are held, and
 * control calls (a service.set every fifth) while another process holds the database's
 * write lock for 6 s; and the log at full speed, each figure next to the same producer
 * writing into `cat > file` in the same run: 1 000 000 lines of 100 B with one write per
 * line, bulk writes of short lines, the daemon's RSS growth during the flood, and
 * service.list while 10 jobs flood; and the pause an in-place upgrade (SIGHUP) makes a
 * client wait, with 200 services and their history loaded.
 * Usage: bench/server_bench [PATH_TO_hero_proc_server [logs|flood|spawn|upgrade]]   (logs,
 *        spawn, upgrade: those figures alone; flood: service.list under the flood alone)
 *        bench/server_bench --produce LINES BYTES bulk|each   (the producer it runs) */
#include "config.h"

#include "bench/bench_common.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <sqlite3.h>
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

/* The in-place upgrade's pause: SIGHUP, then system.ping in a loop for 300 ms; a round's
 * figure is its slowest ping, the time a client waited for the new image. Goal 100 ms. */
static void upgrade_pause(pid_t pid, int n)
{
    double *t = malloc((size_t)n * sizeof(*t));

    for (int i = 0; i < n; i++) {
        double start = bench_now_s(), worst = 0;
        kill(pid, SIGHUP);
        while (bench_now_s() - start < 0.3) {
            double t0 = bench_now_s(), took;
            cJSON_Delete(bench_call("system.ping", NULL));
            took = bench_now_s() - t0;
            worst = took > worst ? took : worst;
        }
        t[i] = worst * 1e6;
    }
    bench_report("upgrade pause (SIGHUP, slowest ping)", t, n, "re-execs");
    free(t);
}

static int unix_connect(void)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", bench_socket());
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        fprintf(stderr, "server_bench: connect: %s\n", strerror(errno));
        exit(1);
    }
    return fd;
}

/* A ping on a connection of its own, as a new CLI call makes it; reads until the server
 * closes (Connection: close). */
static void fresh_ping(void)
{
    static const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"}";
    char req[256], buf[4096];
    int fd = unix_connect(), n;

    n = snprintf(req, sizeof(req),
                 "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                 sizeof(body) - 1, body);
    if (write(fd, req, (size_t)n) != n) {
        fprintf(stderr, "server_bench: write: %s\n", strerror(errno));
        exit(1);
    }
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
}

static void idle_connections(int held, int n)
{
    int *fds = malloc((size_t)held * sizeof(*fds));
    double *t = malloc((size_t)n * sizeof(*t));

    for (int i = 0; i < held; i++)
        fds[i] = unix_connect();
    for (int i = 0; i < n; i++) {
        double t0 = bench_now_s();
        fresh_ping();
        t[i] = (bench_now_s() - t0) * 1e6;
    }
    bench_report("new client's ping, 500 idle connections held", t, n, "calls");
    for (int i = 0; i < held; i++)
        close(fds[i]);
    free(fds);
    free(t);
}

/* Another process's BEGIN EXCLUSIVE on the database for 6 s; control calls paced over it,
 * every fifth a service.set (a write that must wait for the store, not for the lock). */
static void locked_store(const char *dir, int n)
{
    char path[512], params[256];
    double *t = malloc((size_t)n * sizeof(*t)), t_lock;
    sqlite3 *db = NULL;
    cJSON *info;

    snprintf(path, sizeof(path), "%s/data/hero_proc.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "server_bench: cannot lock %s\n", path);
        exit(1);
    }
    t_lock = bench_now_s();
    for (int i = 0; i < n; i++) {
        double t0 = bench_now_s();
        if (i % 5 == 4) {
            snprintf(params, sizeof(params),
                     "{\"config\":{\"name\":\"locked%d\",\"actions\":[{\"name\":\"a\","
                     "\"command\":\"true\"}]}}",
                     i);
            cJSON_Delete(bench_call("service.set", params));
        } else {
            cJSON_Delete(bench_call(i % 5 % 2 ? "system.info" : "service.list", NULL));
        }
        t[i] = (bench_now_s() - t0) * 1e6;
        usleep(6000000 / (useconds_t)n);
    }
    bench_report("control calls, database locked by another", t, n, "calls");
    while (bench_now_s() - t_lock < 6)
        usleep(10000);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    t_lock = bench_now_s();
    for (;;) {
        cJSON *store;
        int ok;
        info = bench_call("system.info", NULL);
        store = cJSON_GetObjectItem(info, "store");
        ok = cJSON_IsTrue(cJSON_GetObjectItem(store, "ok")) &&
             cJSON_GetObjectItem(store, "pending")->valuedouble == 0;
        cJSON_Delete(info);
        if (ok)
            break;
        usleep(10000);
    }
    printf("%-46s %8.0f ms\n", "store written again after the lock",
           (bench_now_s() - t_lock) * 1e3);
    sqlite3_close(db);
    free(t);
}

/* Writes lines of bytes (newline included): one write each, or 64 KiB at a time. */
static int produce(long lines, int bytes, int bulk)
{
    static char buf[65536];
    size_t per = bulk ? sizeof(buf) / (size_t)bytes : 1, fill = 0;

    for (size_t i = 0; i < per; i++) {
        memset(buf + i * (size_t)bytes, 'x', (size_t)bytes - 1);
        buf[(i + 1) * (size_t)bytes - 1] = '\n';
    }
    while (lines > 0) {
        size_t n = (size_t)lines < per ? (size_t)lines : per;
        fill = n * (size_t)bytes;
        for (size_t off = 0; off < fill;) {
            ssize_t w = write(1, buf + off, fill - off);
            if (w <= 0)
                return 1;
            off += (size_t)w;
        }
        lines -= (long)n;
    }
    return 0;
}

static double store_pending(void)
{
    cJSON *r = bench_call("system.info", NULL);
    double n = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "store"), "pending")->valuedouble;

    cJSON_Delete(r);
    return n;
}

static double log_lines(void)
{
    cJSON *r = bench_call("system.info", NULL);
    double n = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "counts"), "log_lines")->valuedouble +
               cJSON_GetObjectItem(r, "dropped_log_lines")->valuedouble;

    cJSON_Delete(r);
    return n;
}

/* Seconds for `producer | cat > file`, the baseline of a capture. */
static double baseline(const char *dir, long lines, int bytes, const char *mode)
{
    char cmd[1024];
    double t0 = bench_now_s();

    snprintf(cmd, sizeof(cmd), "/proc/%d/exe --produce %ld %d %s | cat > %s/baseline.out",
             (int)getpid(), lines, bytes, mode, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "server_bench: the baseline failed\n");
    return bench_now_s() - t0;
}

/* Seconds until the daemon stored every line of the producer's run. */
static double capture(long lines, int bytes, const char *mode)
{
    char params[1024], self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    double t0, before = log_lines();
    long long id;

    self[n > 0 ? n : 0] = '\0';
    snprintf(params, sizeof(params),
             "{\"name\":\"flood\",\"actions\":[{\"name\":\"p\",\"command\":"
             "\"%s --produce %ld %d %s\"}]}",
             self, lines, bytes, mode);
    t0 = bench_now_s();
    id = bench_submit(params);
    bench_wait_run(id);
    while (store_pending() > 0)
        usleep(1000);
    t0 = bench_now_s() - t0;
    if (log_lines() - before < (double)lines)
        printf("%-46s %.0f of %ld lines stored\n", "  LOST LINES", log_lines() - before, lines);
    return t0;
}

static void log_speed(const char *dir, pid_t pid)
{
    double base, t;
    long rss0, rss1;

    base = baseline(dir, 1000000, 100, "each");
    rss0 = bench_status_kb(pid, "VmRSS");
    t = capture(1000000, 100, "each");
    rss1 = bench_status_kb(pid, "VmRSS");
    printf("%-46s %8.2f M lines/s; cat > file %.2f M/s; ratio %.2f\n",
           "log, 1M lines of 100 B, a write per line", 1 / t, 1 / base, base / t);
    printf("%-46s %+ld kB\n", "server RSS growth during that flood", rss1 - rss0);
    base = baseline(dir, 10000000, 8, "bulk");
    t = capture(10000000, 8, "bulk");
    printf("%-46s %8.2f M lines/s; cat > file %.2f M/s; ratio %.2f\n",
           "log, 10M lines of 8 B, bulk writes", 10 / t, 10 / base, base / t);
}

/* service.list latency while 10 jobs print as fast as they can. */
static void list_under_flood(int n)
{
    char params[4096], self[512], *p = params;
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    double *us = malloc((size_t)n * sizeof(*us));
    long long id;

    self[len > 0 ? len : 0] = '\0';
    p += snprintf(p, sizeof(params), "{\"name\":\"flood10\",\"actions\":[");
    for (int i = 0; i < 10; i++)
        p += snprintf(p, sizeof(params) - (size_t)(p - params),
                      "%s{\"name\":\"f%d\",\"command\":\"%s --produce 100000000 100 each\"}",
                      i ? "," : "", i, self);
    snprintf(p, sizeof(params) - (size_t)(p - params), "]}");
    id = bench_submit(params);
    usleep(300000);
    for (int i = 0; i < n; i++) {
        double t0 = bench_now_s();
        cJSON_Delete(bench_call("service.list", NULL));
        us[i] = (bench_now_s() - t0) * 1e6;
    }
    bench_report("service.list while 10 jobs flood", us, n, "calls");
    snprintf(params, sizeof(params), "{\"id\":%lld}", id);
    cJSON_Delete(bench_call("run.cancel", params));
    bench_wait_run(id);
    free(us);
}

/* Seconds for n rounds of vfork, exec `true` (found on PATH, as the daemon finds it) and
 * wait: the floor under a one-shot job on this machine. */
static double exec_floor(int n)
{
    static char name[] = "true";
    char *const argv[] = {name, NULL};
    double t0 = bench_now_s();

    for (int i = 0; i < n; i++) {
        pid_t pid = vfork();
        if (pid == 0) {
            execvp("true", argv);
            _exit(127);
        }
        if (pid < 0 || waitpid(pid, NULL, 0) != pid) {
            fprintf(stderr, "server_bench: vfork: %s\n", strerror(errno));
            exit(1);
        }
    }
    return bench_now_s() - t0;
}

/* Seconds for runs of `true` (jobs each) submitted by clients processes at once, each on
 * a connection of its own, until every run is over. With one client, each run.submit's
 * round trip is kept in us (runs of them). */
static double submit_runs(int clients, int runs, int jobs, double *us)
{
    char params[16384], *p = params;
    double t0 = bench_now_s();
    pid_t kids[16];

    p += snprintf(p, sizeof(params), "{\"name\":\"spawn\",\"actions\":[");
    for (int j = 0; j < jobs; j++)
        p += snprintf(p, sizeof(params) - (size_t)(p - params),
                      "%s{\"name\":\"t%d\",\"command\":\"true\"}", j ? "," : "", j);
    snprintf(p, sizeof(params) - (size_t)(p - params), "]}");
    for (int c = 0; c < clients; c++) {
        pid_t pid = clients == 1 ? 0 : fork();
        long long first = 0, last = 0;
        if (pid < 0) {
            fprintf(stderr, "server_bench: fork: %s\n", strerror(errno));
            exit(1);
        }
        if (pid > 0) {
            kids[c] = pid;
            continue;
        }
        if (clients > 1)
            bench_client_reconnect();
        for (int i = c; i < runs; i += clients) {
            double t1 = bench_now_s();
            last = bench_submit(params);
            us[i] = (bench_now_s() - t1) * 1e6;
            if (!first)
                first = last;
        }
        /* Ids of the other clients' runs interleave: waiting on those too is harmless. */
        for (long long id = first; first && id <= last; id++)
            bench_wait_run(id);
        if (clients > 1)
            _exit(0);
    }
    for (int c = 0; clients > 1 && c < clients; c++)
        waitpid(kids[c], NULL, 0);
    return bench_now_s() - t0;
}

/* CPU seconds used by pid (user and system), with its reaped children's when children is
 * set, from /proc. */
static double cpu_s(pid_t pid, int children)
{
    char path[64], buf[1024], *p;
    unsigned long long v[4] = {0};
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3]) != 4) {
        fprintf(stderr, "server_bench: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return (double)(v[0] + v[1] + (children ? v[2] + v[3] : 0)) / (double)sysconf(_SC_CLK_TCK);
}

/* One-shot jobs through run.submit next to the exec floor measured in the same run; the
 * CPU time per job (the daemon's and its jobs') tells the same when the machine is busy
 * with other work and the rates are not. */
static void spawn_rates(pid_t server)
{
    static const struct {
        const char *label, *unit;
        int clients, runs, jobs;
    } ways[] = {
        {"one-shot spawn rate (true)", "runs", 1, 1000, 1},
        {"  1000 runs from 4 clients at once", "runs", 4, 1000, 1},
        {"  20 runs of 50 jobs each", "jobs", 1, 20, 50},
    };
    double c0 = cpu_s(getpid(), 1), t = exec_floor(1000), floor = 1000 / t;
    double floor_ms = (cpu_s(getpid(), 1) - c0) / 1000 * 1e3, us[1000];

    printf("%-46s %8.0f /s  (%.2f ms CPU per exec)\n", "exec floor: vfork, exec true, wait (x1000)",
           floor, floor_ms);
    for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
        double rate, own = cpu_s(server, 0);
        c0 = cpu_s(server, 1);
        t = submit_runs(ways[i].clients, ways[i].runs, ways[i].jobs, us);
        rate = 1000 / t;
        /* seconds over 1000 jobs are milliseconds per job */
        printf("%-46s %8.0f %s/s (%.2f s; %.2f of the floor; CPU per job %.2f ms, the "
               "daemon's own %.2f)\n",
               ways[i].label, rate, ways[i].unit, t, rate / floor, cpu_s(server, 1) - c0,
               cpu_s(server, 0) - own);
        if (ways[i].clients == 1)
            bench_report("    run.submit round trip", us, ways[i].runs, "calls");
    }
}

/* The benchmark's directory, server data and all: 0, or 1 when it could not be removed. */
static int remove_dir(const char *dir)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) != 0;
}

int main(int argc, char **argv)
{
    const char *server = argc > 1 ? argv[1] : "./hero_proc_server";

    if (argc == 5 && strcmp(argv[1], "--produce") == 0)
        return produce(atol(argv[2]), atoi(argv[3]), strcmp(argv[4], "bulk") == 0);
    char dir[] = "/tmp/hp-bench-XXXXXX";
    long long last = 0;
    double t0, t, before, dropped_before;
    pid_t pid;
    cJSON *r;

    if (!mkdtemp(dir))
        return 1;
    pid = bench_start_server("server_bench", server, dir);
    printf("hero_proc_server benchmarks (%s)\n", server);
    if (argc > 2 && strcmp(argv[2], "flood") == 0) {
        /* service.list under the flood alone */
        list_under_flood(500);
        bench_stop_server(pid);
        bench_done();
        return 0;
    }
    if (argc > 2 && strcmp(argv[2], "spawn") == 0) {
        /* the spawn figures alone, the second time without cgroups */
        spawn_rates(pid);
        bench_stop_server(pid);
        bench_server_arg("--no-cgroups");
        pid = bench_start_server("server_bench", server, dir);
        printf("with --no-cgroups:\n");
        spawn_rates(pid);
        bench_stop_server(pid);
        bench_done();
        return remove_dir(dir);
    }
    if (argc > 2 && strcmp(argv[2], "logs") == 0) {
        /* the log's figures alone */
        log_speed(dir, pid);
        list_under_flood(500);
        bench_stop_server(pid);
        bench_done();
        return 0;
    }
    if (argc > 2 && strcmp(argv[2], "upgrade") == 0) {
        /* the upgrade's pause alone, with a running service to take back */
        cJSON_Delete(bench_call("service.set",
                                "{\"config\":{\"name\":\"calm\",\"actions\":[{\"name\":"
                                "\"main\",\"command\":\"sleep 1000\"}]}}"));
        cJSON_Delete(bench_call("service.start", "{\"name\":\"calm\"}"));
        upgrade_pause(pid, 20);
        bench_stop_server(pid);
        bench_done();
        return 0;
    }

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

    spawn_rates(pid);

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
        double store_dropped =
            cJSON_GetObjectItem(cJSON_GetObjectItem(r, "store"), "dropped_lines")->valuedouble;
        printf("%-46s %8.0f lines/s (2000000 lines in %.2f s)\n", "log capture, one child",
               2000000 / t, t);
        printf("%-46s stored %.0f, dropped by caps %.0f, by the store %.0f, lost %.0f\n",
               "log lines of the child", stored, lost_by_caps, store_dropped,
               2000000 - stored - lost_by_caps - store_dropped);
    }
    cJSON_Delete(r);
    printf("%-46s %ld kB\n", "server RSS after the flood", bench_status_kb(pid, "VmRSS"));

    log_speed(dir, pid);
    list_under_flood(500);
    restart_latency(40);
    upgrade_pause(pid, 20);
    idle_connections(500, 1000);
    locked_store(dir, 300);

    bench_stop_server(pid);
    bench_done();
    return remove_dir(dir);
}
