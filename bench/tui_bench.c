/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmarks of the dashboard hero_proc_tui that print their figures (never assert): the real
 * binary in a 120x40 pseudo-terminal against a real hero_proc_server. Idle CPU with 200
 * running services, time to show the Jobs view with 10 000 jobs on the server, a job's log
 * in follow mode fed about 100 000 lines/s, the time from a crash to its flash (events), the Logs
 * view over a job of 1 000 000 lines (g, / and & beyond the ring), and the dashboard's peak RSS in
 * each; and the fleet view over 20 servers of 200 services. Usage: bench/tui_bench
 * [PATH_TO_hero_proc_server] [PATH_TO_hero_proc_tui] [window|events|probes|fleet] (window:
 * only the 1 000 000-line log; events: only idle CPU and crash to screen; probes: the same on
 * 200 services probed every 5 s, half by tcp to a local listener, half by an exec of `true`;
 * fleet: only the fleet) */
#include "config.h"

#include "bench/bench_common.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ROWS = 40, COLS = 120 };

static double server_log_lines(void)
{
    cJSON *r = bench_call("system.info", NULL);
    double n = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "counts"), "log_lines")->valuedouble;

    cJSON_Delete(r);
    return n;
}

/* ---- /proc ----------------------------------------------------------------------------- */

/* utime + stime of pid in seconds, -1 when gone. */
static double cpu_s(pid_t pid)
{
    char path[64], line[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!ok || !(p = strrchr(line, ')')))
        return -1;
    /* After ")": state is field 3; utime and stime are fields 14 and 15. */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The CPU time of every thread of pid in seconds (the scheduler's nanoseconds, not clock
 * ticks: a refresh of a few milliseconds is below a tick), -1 when gone. */
static double cpu_threads_s(pid_t pid)
{
    char path[64], line[320];
    unsigned long long sum = 0, ns;
    struct dirent *e;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        FILE *f;
        if (e->d_name[0] == '.')
            continue;
        snprintf(line, sizeof(line), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
        f = fopen(line, "r");
        if (f && fscanf(f, "%llu", &ns) == 1)
            sum += ns;
        if (f)
            fclose(f);
    }
    closedir(d);
    return (double)sum / 1e9;
}

/* ---- the dashboard in a pty, and a small terminal emulator for its screen ---------------- */

typedef struct term {
    int fd; /* the pty master */
    pid_t pid;
    char screen[ROWS][COLS + 1];
    int y, x, top, bottom, pending_wrap;
    int state; /* 0 text, 1 ESC, 2 CSI, 3 skip one byte, 4 OSC */
    char params[64];
    size_t np;
    char last;
    unsigned long long bytes;
} term;

static void scroll_up(term *t, int top, int bottom, int n)
{
    for (; n > 0; n--) {
        memmove(t->screen[top], t->screen[top + 1], (size_t)(bottom - top) * (COLS + 1));
        memset(t->screen[bottom], ' ', COLS);
    }
}

static void scroll_down(term *t, int top, int bottom, int n)
{
    for (; n > 0; n--) {
        memmove(t->screen[top + 1], t->screen[top], (size_t)(bottom - top) * (COLS + 1));
        memset(t->screen[top], ' ', COLS);
    }
}

static void line_feed(term *t)
{
    if (t->y == t->bottom)
        scroll_up(t, t->top, t->bottom, 1);
    else if (t->y < ROWS - 1)
        t->y++;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void put(term *t, char c)
{
    if (t->pending_wrap) {
        t->pending_wrap = 0;
        t->x = 0;
        line_feed(t);
    }
    t->screen[t->y][t->x] = c;
    t->last = c;
    if (t->x == COLS - 1)
        t->pending_wrap = 1;
    else
        t->x++;
}

static void csi(term *t, char final)
{
    int a[8] = {0}, na = 0, priv = t->params[0] == '?' || t->params[0] == '>';
    char *p = t->params + priv;

    t->params[t->np] = '\0';
    while (*p && na < 8) {
        a[na++] = (int)strtol(p, &p, 10);
        if (*p == ';')
            p++;
        else
            break;
    }
    if (priv)
        return; /* modes (?1049h, ?25l...) change nothing on this screen */
    int n = a[0] ? a[0] : 1;
    t->pending_wrap = 0;
    switch (final) {
    case 'H':
    case 'f':
        t->y = clamp((a[0] ? a[0] : 1) - 1, 0, ROWS - 1);
        t->x = clamp((na > 1 && a[1] ? a[1] : 1) - 1, 0, COLS - 1);
        break;
    case 'A':
        t->y = clamp(t->y - n, 0, ROWS - 1);
        break;
    case 'B':
        t->y = clamp(t->y + n, 0, ROWS - 1);
        break;
    case 'C':
        t->x = clamp(t->x + n, 0, COLS - 1);
        break;
    case 'D':
        t->x = clamp(t->x - n, 0, COLS - 1);
        break;
    case 'G':
        t->x = clamp(n - 1, 0, COLS - 1);
        break;
    case 'd':
        t->y = clamp(n - 1, 0, ROWS - 1);
        break;
    case 'K':
        if (a[0] == 0)
            memset(t->screen[t->y] + t->x, ' ', (size_t)(COLS - t->x));
        else if (a[0] == 1)
            memset(t->screen[t->y], ' ', (size_t)t->x + 1);
        else
            memset(t->screen[t->y], ' ', COLS);
        break;
    case 'J':
        if (a[0] == 0) {
            memset(t->screen[t->y] + t->x, ' ', (size_t)(COLS - t->x));
            for (int r = t->y + 1; r < ROWS; r++)
                memset(t->screen[r], ' ', COLS);
        } else if (a[0] == 1) {
            for (int r = 0; r < t->y; r++)
                memset(t->screen[r], ' ', COLS);
            memset(t->screen[t->y], ' ', (size_t)t->x + 1);
        } else {
            for (int r = 0; r < ROWS; r++)
                memset(t->screen[r], ' ', COLS);
        }
        break;
    case 'X':
        memset(t->screen[t->y] + t->x, ' ', (size_t)clamp(n, 0, COLS - t->x));
        break;
    case 'P':
        n = clamp(n, 0, COLS - t->x);
        memmove(t->screen[t->y] + t->x, t->screen[t->y] + t->x + n, (size_t)(COLS - t->x - n));
        memset(t->screen[t->y] + COLS - n, ' ', (size_t)n);
        break;
    case '@':
        n = clamp(n, 0, COLS - t->x);
        memmove(t->screen[t->y] + t->x + n, t->screen[t->y] + t->x, (size_t)(COLS - t->x - n));
        memset(t->screen[t->y] + t->x, ' ', (size_t)n);
        break;
    case 'L':
        if (t->y >= t->top && t->y <= t->bottom)
            scroll_down(t, t->y, t->bottom, n);
        break;
    case 'M':
        if (t->y >= t->top && t->y <= t->bottom)
            scroll_up(t, t->y, t->bottom, n);
        break;
    case 'S':
        scroll_up(t, t->top, t->bottom, n);
        break;
    case 'T':
        scroll_down(t, t->top, t->bottom, n);
        break;
    case 'r':
        t->top = clamp((a[0] ? a[0] : 1) - 1, 0, ROWS - 1);
        t->bottom = clamp((na > 1 && a[1] ? a[1] : ROWS) - 1, t->top, ROWS - 1);
        t->y = t->x = 0;
        break;
    case 'b':
        for (int i = 0; i < n; i++)
            put(t, t->last);
        break;
    default:
        break; /* m (attributes) and the rest: no effect on the text */
    }
}

static void feed(term *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (t->state) {
        case 1:
            t->state = 0;
            if (c == '[') {
                t->state = 2;
                t->np = 0;
            } else if (c == ']') {
                t->state = 4;
            } else if (c == '(' || c == ')' || c == '*' || c == '+' || c == '#') {
                t->state = 3;
            } else if (c == 'M') {
                if (t->y == t->top)
                    scroll_down(t, t->top, t->bottom, 1);
                else if (t->y > 0)
                    t->y--;
            } else if (c == 'D') {
                line_feed(t);
            } else if (c == 'E') {
                t->x = 0;
                line_feed(t);
            }
            continue;
        case 2:
            if (c >= 0x40 && c <= 0x7e) {
                csi(t, (char)c);
                t->state = 0;
            } else if (t->np < sizeof(t->params) - 1) {
                t->params[t->np++] = (char)c;
            }
            continue;
        case 3:
            t->state = 0;
            continue;
        case 4:
            if (c == 7 || c == 0x1b)
                t->state = c == 0x1b ? 3 : 0;
            continue;
        default:
            break;
        }
        if (c == 0x1b)
            t->state = 1;
        else if (c == '\r')
            t->x = 0, t->pending_wrap = 0;
        else if (c == '\n' || c == '\v' || c == '\f')
            line_feed(t), t->pending_wrap = 0;
        else if (c == '\b')
            t->x = t->x > 0 ? t->x - 1 : 0, t->pending_wrap = 0;
        else if (c == '\t')
            t->x = clamp((t->x / 8 + 1) * 8, 0, COLS - 1);
        else if (c >= 0x20 && c < 0x7f)
            put(t, (char)c);
        else if (c >= 0xc0)
            put(t, '?'); /* a UTF-8 lead byte: one cell; continuation bytes are skipped */
    }
}

/* Reads what the dashboard wrote for up to ms milliseconds (it must never block on the pty). */
static void pump(term *t, int ms)
{
    double end = bench_now_s() + ms / 1000.0;
    char chunk[65536];

    for (;;) {
        int left = (int)((end - bench_now_s()) * 1000);
        struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
        if (poll(&pfd, 1, left > 0 ? left : 0) > 0) {
            ssize_t n = read(t->fd, chunk, sizeof(chunk));
            if (n > 0) {
                t->bytes += (unsigned long long)n;
                feed(t, chunk, (size_t)n);
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                usleep(1000); /* EIO: the dashboard is gone */
        }
        if (left <= 0)
            return;
    }
}

/* The screen row holding s, or -1. */
static int find_row(const term *t, const char *s)
{
    for (int r = 0; r < ROWS; r++)
        if (strstr(t->screen[r], s))
            return r;
    return -1;
}

/* Waits until the screen shows s (present 1) or no longer shows it (present 0); the
 * milliseconds it took, -1 after timeout_ms. */
static double wait_screen(term *t, const char *s, int present, int timeout_ms)
{
    double t0 = bench_now_s();

    while ((bench_now_s() - t0) * 1000 < timeout_ms) {
        if ((find_row(t, s) >= 0) == present)
            return (bench_now_s() - t0) * 1000;
        pump(t, 2);
    }
    return (find_row(t, s) >= 0) == present ? (bench_now_s() - t0) * 1000 : -1;
}

static void keys(term *t, const char *k)
{
    if (write(t->fd, k, strlen(k)) != (ssize_t)strlen(k))
        fprintf(stderr, "tui_bench: write to the pty failed\n");
}

static void dump(const term *t)
{
    for (int r = 0; r < ROWS; r++)
        fprintf(stderr, "|%s|\n", t->screen[r]);
}

/* The dashboard with args (after its name, NULL-terminated) and env (NAME=VALUE, NULL
 * terminated, may be NULL) in a pty. */
static term *start_tui_args(const char *tui, char *const *args, char *const *env)
{
    struct winsize ws = {.ws_row = ROWS, .ws_col = COLS};
    term *t = calloc(1, sizeof(*t));
    char *argv[16], path[512];
    size_t n = 0;

    if (!t)
        exit(1);
    for (int r = 0; r < ROWS; r++)
        memset(t->screen[r], ' ', COLS);
    t->bottom = ROWS - 1;
    snprintf(path, sizeof(path), "%s", tui);
    argv[n++] = path;
    for (size_t i = 0; args[i] && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    t->pid = forkpty(&t->fd, NULL, NULL, &ws);
    if (t->pid < 0) {
        perror("tui_bench: forkpty");
        exit(1);
    }
    if (t->pid == 0) {
        ioctl(STDIN_FILENO, TIOCSWINSZ, &ws);
        setenv("TERM", "xterm-256color", 1);
        for (size_t i = 0; env && env[i]; i++)
            putenv(env[i]);
        execv(path, argv);
        _exit(127);
    }
    ioctl(t->fd, TIOCSWINSZ, &ws);
    fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
    return t;
}

static term *start_tui(const char *tui, const char *dir)
{
    struct winsize ws = {.ws_row = ROWS, .ws_col = COLS};
    term *t = calloc(1, sizeof(*t));
    char sock[300];

    if (!t)
        exit(1);
    for (int r = 0; r < ROWS; r++)
        memset(t->screen[r], ' ', COLS);
    t->bottom = ROWS - 1;
    snprintf(sock, sizeof(sock), "%s/rpc.sock", dir);
    t->pid = forkpty(&t->fd, NULL, NULL, &ws);
    if (t->pid < 0) {
        perror("tui_bench: forkpty");
        exit(1);
    }
    if (t->pid == 0) {
        ioctl(STDIN_FILENO, TIOCSWINSZ, &ws);
        setenv("TERM", "xterm-256color", 1);
        execl(tui, tui, "--socket", sock, "--no-spawn", (char *)NULL);
        _exit(127);
    }
    ioctl(t->fd, TIOCSWINSZ, &ws);
    fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
    return t;
}

static void stop_tui(term *t)
{
    keys(t, "q");
    pump(t, 300);
    kill(t->pid, SIGTERM);
    pump(t, 100);
    waitpid(t->pid, NULL, 0);
    close(t->fd);
    free(t);
}

/* ---- the scenarios ----------------------------------------------------------------------- */

/* (a) idle CPU over 20 s with 200 running services at the default 1 s interval; view (NULL:
 * Services) is a key that opens another view first, showing seen. */
static void idle_cpu(const char *tui, const char *dir, const char *label, const char *view,
                     const char *seen)
{
    term *t = start_tui(tui, dir);
    double c0, c1, r0, r1, t0, el;

    if (wait_screen(t, "svc0", 1, 10000) < 0)
        fprintf(stderr, "tui_bench: the services did not show\n");
    if (view) {
        keys(t, view);
        if (wait_screen(t, seen, 1, 10000) < 0)
            fprintf(stderr, "tui_bench: the view did not show '%s'\n", seen);
    }
    pump(t, 3000);
    c0 = cpu_s(t->pid);
    r0 = cpu_threads_s(t->pid);
    t0 = bench_now_s();
    t->bytes = 0;
    pump(t, 20000);
    c1 = cpu_s(t->pid);
    r1 = cpu_threads_s(t->pid);
    el = bench_now_s() - t0;
    printf("%-44s %6.2f %% of one core (%.2f s CPU in %.1f s, %llu bytes to the tty; "
           "scheduler: %.3f %%)\n",
           label, 100 * (c1 - c0) / el, c1 - c0, el, t->bytes, 100 * (r1 - r0) / el);
    printf("%-44s %6ld kB\n", "(d) peak RSS (VmHWM), idle", bench_status_kb(t->pid, "VmHWM"));
    stop_tui(t);
}

/* (e) the time from a crash (kill -9 of a service's process) to its flash in the status
 * line, the dashboard idle on 200 services following events.wait: 50 crashes, each of
 * another service (so no back-off is in the way). */
static void crash_to_screen(const char *tui, const char *dir)
{
    enum { N = 50 };
    term *t = start_tui(tui, dir);
    double ms[N];
    int got = 0;

    if (wait_screen(t, "svc0", 1, 10000) < 0)
        fprintf(stderr, "tui_bench: the services did not show\n");
    pump(t, 2000);
    for (int i = 0; i < N; i++) {
        char params[64], want[96];
        cJSON *st, *jobs, *job;
        double t0, took;
        int pid;

        snprintf(params, sizeof(params), "{\"name\":\"svc%03d\"}", 100 + i);
        st = bench_call("service.status", params);
        jobs = cJSON_GetObjectItem(st, "jobs");
        job = cJSON_GetArrayItem(jobs, 0);
        pid = job ? (int)cJSON_GetObjectItem(job, "pid")->valuedouble : 0;
        cJSON_Delete(st);
        if (pid <= 0)
            continue;
        snprintf(want, sizeof(want), "! svc%03d: ", 100 + i); /* its exit or its failure */
        t0 = bench_now_s();
        kill(pid, SIGKILL);
        if (wait_screen(t, want, 1, 5000) < 0) {
            fprintf(stderr, "tui_bench: no flash for svc%03d\n", 100 + i);
            continue;
        }
        took = (bench_now_s() - t0) * 1000;
        ms[got++] = took;
    }
    if (got) {
        qsort(ms, (size_t)got, sizeof(*ms), bench_cmp_double);
        printf("%-44s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%d crashes)\n",
               "(e) crash to the screen (status line flash)", ms[got / 2],
               ms[(got * 99) / 100 < got ? (got * 99) / 100 : got - 1], ms[got - 1], got);
    } else {
        printf("%-44s failed\n", "(e) crash to the screen (status line flash)");
    }
    stop_tui(t);
}

/* (b) the time from pressing 3 to the Jobs view on the screen, 10 000 jobs on the server
 * (200 runs of 50 `true` actions: a run holds at most 64). */
static void jobs_view(const char *tui, const char *dir)
{
    enum { N = 20 };
    double ms[N], sum = 0;
    int got = 0;
    term *t;

    for (int r = 0; r < 200; r++) {
        char *params = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&params, &len);
        fprintf(m, "{\"name\":\"fanout%03d\",\"actions\":[", r);
        for (int a = 0; a < 50; a++)
            fprintf(m, "%s{\"name\":\"benchtrue%02d\",\"command\":\"true\"}", a ? "," : "", a);
        fprintf(m, "]}");
        fclose(m);
        bench_wait_run(bench_submit(params));
        free(params);
    }
    t = start_tui(tui, dir);
    if (wait_screen(t, "svc0", 1, 10000) < 0)
        fprintf(stderr, "tui_bench: the services did not show\n");
    pump(t, 1000);
    for (int i = 0; i < N; i++) {
        double d;
        keys(t, "3");
        d = wait_screen(t, "benchtrue", 1, 10000);
        if (d < 0) {
            fprintf(stderr, "tui_bench: the Jobs view did not show; the screen:\n");
            dump(t);
            break;
        }
        ms[got++] = d;
        sum += d;
        pump(t, 200);
        keys(t, "1");
        if (wait_screen(t, "benchtrue", 0, 10000) < 0)
            break;
        pump(t, 200);
    }
    if (got) {
        qsort(ms, (size_t)got, sizeof(*ms), bench_cmp_double);
        printf("%-44s mean %6.1f ms  p50 %6.1f ms  p99 %6.1f ms  (%d presses)\n",
               "(b) key 3 to Jobs view on screen, 10000 jobs", sum / got, ms[got / 2],
               ms[(got * 99) / 100], got);
    }
    printf("%-44s %6ld kB\n", "(d) peak RSS (VmHWM), Jobs view", bench_status_kb(t->pid, "VmHWM"));
    stop_tui(t);
}

/* The log header of the Logs view: "job N  L lines  D dropped ..."; 0 when not shown. */
static int log_header(const term *t, long long *lines, long long *dropped)
{
    for (int r = 0; r < ROWS; r++) {
        const char *p = strstr(t->screen[r], "job ");
        long long id;
        if (p && strstr(p, " lines ") &&
            sscanf(p, "job %lld %lld lines %lld dropped", &id, lines, dropped) == 3)
            return 1;
    }
    return 0;
}

/* (c) a job printing 100 000 lines/s for 5 s with its log shown in follow mode. */
static void log_flood(const char *tui, const char *dir)
{
    term *t = start_tui(tui, dir);
    long long run, lines = 0, dropped = 0, seen = 0;
    double c0, c1, t0, base, stored = 0;
    int still = 0;

    wait_screen(t, "Services", 1, 5000);
    pump(t, 1500);
    base = server_log_lines();
    run = bench_submit("{\"name\":\"flood\",\"actions\":[{\"name\":\"flood\",\"script\":"
                       "\"for i in 0 1 2 3 4; do seq $((i*100000+1)) $((i*100000+100000)); "
                       "sleep 1; done\"}]}");
    c0 = cpu_s(t->pid);
    t0 = bench_now_s();
    keys(t, "3");
    if (wait_screen(t, "flood", 1, 5000) < 0) {
        fprintf(stderr, "tui_bench: the flood job did not show; the screen:\n");
        dump(t);
    }
    keys(t, "l");
    if (wait_screen(t, " lines ", 1, 5000) < 0) {
        fprintf(stderr, "tui_bench: the log view did not show; the screen:\n");
        dump(t);
    }
    printf("(c) log flood: one job printing 100000 lines/s for 5 s, its log followed\n");
    printf("    %5s %12s %12s %12s %12s\n", "t (s)", "server", "tui lines", "tui dropped",
           "tui seen");
    for (int s = 1; s <= 30; s++) {
        pump(t, (int)((t0 + s - bench_now_s()) * 1000));
        stored = server_log_lines() - base;
        if (!log_header(t, &lines, &dropped))
            lines = dropped = -1;
        printf("    %5d %12.0f %12lld %12lld %12lld\n", s, stored, lines, dropped, lines + dropped);
        still = lines + dropped == seen && lines + dropped >= (long long)stored ? still + 1 : 0;
        seen = lines + dropped;
        if (s >= 7 && still >= 2)
            break;
    }
    c1 = cpu_s(t->pid);
    bench_wait_run(run);
    printf("%-44s %.0f lines stored by the server, the TUI header counts %lld (%lld lines + "
           "%lld dropped): %s\n",
           "    result", stored, seen, lines, dropped,
           seen >= (long long)stored ? "caught up" : "behind");
    printf("%-44s %6.1f %% of one core (%.2f s CPU in %.1f s)\n", "    TUI CPU during the flood",
           100 * (c1 - c0) / (bench_now_s() - t0), c1 - c0, bench_now_s() - t0);
    printf("%-44s %6ld kB\n", "(d) peak RSS (VmHWM), log flood", bench_status_kb(t->pid, "VmHWM"));
    stop_tui(t);
}

/* The screen row that starts with s (a log line, not the head or the command line), or -1. */
static int find_line(const term *t, const char *s)
{
    for (int r = 0; r < ROWS; r++)
        if (strncmp(t->screen[r], s, strlen(s)) == 0 &&
            (t->screen[r][strlen(s)] == ' ' || !t->screen[r][strlen(s)]))
            return r;
    return -1;
}

static double wait_line(term *t, const char *s, int timeout_ms)
{
    double t0 = bench_now_s();

    while ((bench_now_s() - t0) * 1000 < timeout_ms) {
        if (find_line(t, s) >= 0)
            return (bench_now_s() - t0) * 1000;
        pump(t, 1);
    }
    return -1;
}

static void report(const char *what, double *ms, int got)
{
    double sum = 0;

    for (int i = 0; i < got; i++)
        sum += ms[i];
    if (!got) {
        printf("%-44s failed\n", what);
        return;
    }
    qsort(ms, (size_t)got, sizeof(*ms), bench_cmp_double);
    printf("%-44s mean %6.1f ms  p50 %6.1f ms  max %6.1f ms  (%d presses)\n", what, sum / got,
           ms[got / 2], ms[got - 1], got);
}

/* Back to the end of the log: G, and the last line on the screen. */
static int to_end(term *t)
{
    keys(t, "G");
    if (wait_line(t, "end-of-the-log", 10000) < 0) {
        fprintf(stderr, "tui_bench: G did not show the end; the screen:\n");
        dump(t);
        return -1;
    }
    pump(t, 100);
    return 0;
}

/* (e) a job of 1 000 000 lines (the ring holds 20 000): the time from the key to the
 * screen showing its first line (g), a line only at the top found by / through
 * logs.search, and the lines of a rare pattern over the whole log (&). */
static void log_window(const char *tui, const char *dir)
{
    enum { N = 5 };
    double g[N], find[N], grep[N], grep_all[N];
    int ng = 0, nf = 0, nr = 0, na = 0;
    term *t;
    double t0 = bench_now_s();

    bench_wait_run(bench_submit("{\"name\":\"million\",\"actions\":[{\"name\":\"million\","
                                "\"script\":\"echo needle-at-the-top; seq 1 1000000; "
                                "echo end-of-the-log\"}]}"));
    printf("(e) a job of 1000000 lines (its run took %.1f s), 50x the view's ring\n",
           bench_now_s() - t0);
    t = start_tui(tui, dir);
    if (wait_screen(t, "Services", 1, 10000) < 0)
        fprintf(stderr, "tui_bench: the dashboard did not show\n");
    keys(t, ":job 1\r");
    if (wait_screen(t, " lines ", 1, 5000) < 0 || to_end(t) != 0) {
        stop_tui(t);
        return;
    }
    for (int i = 0; i < N; i++) {
        double d;
        keys(t, "g");
        if ((d = wait_line(t, "needle-at-the-top", 10000)) >= 0)
            g[ng++] = d;
        if (to_end(t) != 0)
            break;
        keys(t, "/needle-at-the");
        pump(t, 100);
        keys(t, "\r");
        if ((d = wait_line(t, "needle-at-the-top", 10000)) >= 0)
            find[nf++] = d;
        if (to_end(t) != 0)
            break;
        keys(t, "&^[0-9]*77777$");
        pump(t, 100);
        t0 = bench_now_s();
        keys(t, "\r");
        if ((d = wait_line(t, "977777", 10000)) >= 0)
            grep[nr++] = d;
        if (wait_screen(t, "10 matching in the whole log ", 1, 30000) >= 0 &&
            wait_screen(t, "(searching)", 0, 30000) >= 0)
            grep_all[na++] = (bench_now_s() - t0) * 1000;
        keys(t, "\033");
        pump(t, 100);
        if (to_end(t) != 0)
            break;
    }
    report("    g: the first line on the screen", g, ng);
    report("    /: a match 1000000 lines back shown", find, nf);
    report("    &: the newest matches of a rare pattern", grep, nr);
    report("    &: all 10 matches (the whole log read)", grep_all, na);
    printf("%-44s %6ld kB\n", "(d) peak RSS (VmHWM), 1000000-line log",
           bench_status_kb(t->pid, "VmHWM"));
    stop_tui(t);
}

/* A forked listener on 127.0.0.1 that accepts and closes, for the tcp probes: its port,
 * its pid in *pid. */
static int tcp_listener(pid_t *pid)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 256) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("tui_bench: listener");
        exit(1);
    }
    *pid = fork();
    if (*pid == 0) {
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c >= 0)
                close(c);
        }
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* 200 services whose job sleeps, probed: even ones by tcp to port, odd ones by an exec of
 * `true`; returns once every job is healthy (or after 60 s, said). */
static void probed_services(int port)
{
    double t0 = bench_now_s();
    int healthy = 0;

    for (int i = 0; i < 200; i++) {
        char params[640], probe[96];
        if (i % 2 == 0)
            snprintf(probe, sizeof(probe), "{\"tcp\":\"127.0.0.1:%d\"}", port);
        else
            snprintf(probe, sizeof(probe), "{\"exec\":\"true\"}");
        snprintf(params, sizeof(params),
                 "{\"config\":{\"name\":\"svc%03d\",\"description\":\"bench service %d\","
                 "\"actions\":[{\"name\":\"start\",\"script\":\"sleep 100000\","
                 "\"probe\":%s}]}}",
                 i, i, probe);
        cJSON_Delete(bench_call("service.set", params));
        snprintf(params, sizeof(params), "{\"name\":\"svc%03d\"}", i);
        cJSON_Delete(bench_call("service.start", params));
    }
    while (bench_now_s() - t0 < 60) {
        cJSON *l = bench_call("job.list", "{\"status\":\"running\",\"limit\":1000}");
        cJSON *jobs = cJSON_GetObjectItem(l, "jobs"), *j;
        healthy = 0;
        cJSON_ArrayForEach (j, jobs) {
            cJSON *h = cJSON_GetObjectItem(j, "health");
            healthy += cJSON_IsString(h) && strcmp(h->valuestring, "healthy") == 0;
        }
        cJSON_Delete(l);
        if (healthy == 200)
            break;
        usleep(200 * 1000);
    }
    printf("%-44s %6d of 200 in %.1f s\n", "probed services healthy", healthy, bench_now_s() - t0);
}

/* (h) the fleet view over 20 servers of 200 services each (local and 19 contexts), the
 * first FLEET_RUNNING of each running (so that the rows on screen are running ones, whose
 * UPTIME ticks: a redraw a second): the time from the dashboard's start to the first
 * frame where every host answered and rows are shown, then its CPU per refresh while
 * nothing else changes (20 s at the 1 s interval: each refresh is 20 service.list calls
 * answered Unchanged). */
enum { FLEET_HOSTS = 20, FLEET_SERVICES = 200, FLEET_RUNNING = 10 };

static void fleet(const char *server, const char *tui)
{
    char base[] = "/tmp/hp-tui-fleet-XXXXXX", dir[FLEET_HOSTS][400], path[512], cmd[600];
    char env_ps[600], env_xdg[600], env_ctx[] = "HERO_PROC_CONTEXT=";
    char *env[] = {env_ps, env_xdg, env_ctx, NULL}, opt[] = "--fleet", *args[] = {opt, NULL};
    char want[64];
    pid_t pids[FLEET_HOSTS];
    double t0, first, c0, c1, w0, el;
    FILE *f;
    term *t;

    if (!mkdtemp(base))
        exit(1);
    /* Host 0 is local (the default socket under PATH_SOCKET), the others contexts. */
    snprintf(dir[0], sizeof(dir[0]), "%s/ps/hero_proc", base);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s %s/config/hero_proc", dir[0], base);
    if (system(cmd) != 0)
        exit(1);
    snprintf(path, sizeof(path), "%s/config/hero_proc/contexts.json", base);
    f = fopen(path, "w");
    if (!f)
        exit(1);
    fprintf(f, "{\"contexts\": [");
    for (int h = 0; h < FLEET_HOSTS; h++) {
        if (h) {
            snprintf(dir[h], sizeof(dir[h]), "%s/h%02d", base, h);
            if (mkdir(dir[h], 0700) != 0)
                exit(1);
            fprintf(f, "%s{\"name\": \"h%02d\", \"socket\": \"%s/rpc.sock\"}", h > 1 ? ", " : "", h,
                    dir[h]);
        }
        pids[h] = bench_start_server("tui_bench", server, dir[h]);
        for (int i = 0; i < FLEET_SERVICES; i++) {
            char params[512];
            snprintf(params, sizeof(params),
                     "{\"config\":{\"name\":\"svc%03d\",\"description\":\"host %d service %d\","
                     "\"actions\":[{\"name\":\"start\",\"script\":\"sleep 100000\"}]}}",
                     i, h, i);
            cJSON_Delete(bench_call("service.set", params));
            if (i < FLEET_RUNNING) {
                snprintf(params, sizeof(params), "{\"name\":\"svc%03d\"}", i);
                cJSON_Delete(bench_call("service.start", params));
            }
        }
    }
    fprintf(f, "]}\n");
    fclose(f);
    snprintf(env_ps, sizeof(env_ps), "PATH_SOCKET=%s/ps", base);
    snprintf(env_xdg, sizeof(env_xdg), "XDG_CONFIG_HOME=%s/config", base);
    snprintf(want, sizeof(want), "%d of %d hosts answer", FLEET_HOSTS, FLEET_HOSTS);
    t0 = bench_now_s();
    t = start_tui_args(tui, args, env);
    first = wait_screen(t, want, 1, 10000);
    if (first >= 0 && wait_screen(t, "svc000", 1, 5000) >= 0)
        first = (bench_now_s() - t0) * 1000;
    else
        dump(t);
    printf("%-44s %6.0f ms (%d hosts x %d services, %d of them running)\n",
           "(h) fleet: first full frame", first, FLEET_HOSTS, FLEET_SERVICES, FLEET_RUNNING);
    pump(t, 3000);
    c0 = cpu_threads_s(t->pid);
    w0 = bench_now_s();
    t->bytes = 0;
    pump(t, 20000);
    c1 = cpu_threads_s(t->pid);
    el = bench_now_s() - w0;
    printf("%-44s %6.2f ms CPU per refresh (%.2f s CPU in %.1f s at 1 s, %llu bytes to the tty)\n",
           "(h) fleet: refresh with nothing changed", 1000 * (c1 - c0) / el, c1 - c0, el, t->bytes);
    printf("%-44s %6ld kB\n", "(h) fleet: peak RSS (VmHWM)", bench_status_kb(t->pid, "VmHWM"));
    stop_tui(t);
    for (int h = 0; h < FLEET_HOSTS; h++)
        bench_stop_server(pids[h]);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    if (system(cmd) != 0)
        fprintf(stderr, "tui_bench: cannot remove %s\n", base);
}

int main(int argc, char **argv)
{
    const char *server = argc > 1 ? argv[1] : "./hero_proc_server";
    const char *tui = argc > 2 ? argv[2] : "./hero_proc_tui";
    char dir[] = "/tmp/hp-tui-bench-XXXXXX", dir2[] = "/tmp/hp-tui-bench-XXXXXX",
         dir3[] = "/tmp/hp-tui-bench-XXXXXX";
    pid_t pid;

    if (!mkdtemp(dir) || !mkdtemp(dir2) || !mkdtemp(dir3))
        return 1;
    signal(SIGPIPE, SIG_IGN);
    printf("hero_proc_tui benchmarks (%s against %s, %dx%d pty)\n", tui, server, COLS, ROWS);

    if (argc > 3 && strcmp(argv[3], "window") == 0)
        goto window;
    if (argc > 3 && strcmp(argv[3], "fleet") == 0) {
        fleet(server, tui);
        goto done;
    }
    pid = bench_start_server("tui_bench", server, dir);
    if (argc > 3 && strcmp(argv[3], "probes") == 0) {
        pid_t listener;
        int port = tcp_listener(&listener);
        probed_services(port);
        idle_cpu(tui, dir, "(a) idle CPU, 200 probed, Services view", NULL, NULL);
        idle_cpu(tui, dir, "(a) idle CPU, 200 probed, Runs view", "2", "STARTED");
        idle_cpu(tui, dir, "(a) idle CPU, 200 probed, Events view", "5", "KIND");
        crash_to_screen(tui, dir);
        bench_stop_server(pid);
        kill(listener, SIGKILL);
        waitpid(listener, NULL, 0);
        goto done;
    }
    for (int i = 0; i < 200; i++) {
        char params[512];
        snprintf(params, sizeof(params),
                 "{\"config\":{\"name\":\"svc%03d\",\"description\":\"bench service %d\","
                 "\"actions\":[{\"name\":\"start\",\"script\":\"sleep 100000\"}]}}",
                 i, i);
        cJSON_Delete(bench_call("service.set", params));
        snprintf(params, sizeof(params), "{\"name\":\"svc%03d\"}", i);
        cJSON_Delete(bench_call("service.start", params));
    }
    idle_cpu(tui, dir, "(a) idle CPU, 200 running services, events on", NULL, NULL);
    crash_to_screen(tui, dir);
    if (argc > 3 && strcmp(argv[3], "events") == 0) {
        bench_stop_server(pid);
        goto done;
    }
    jobs_view(tui, dir);
    bench_stop_server(pid);

    pid = bench_start_server("tui_bench", server, dir2);
    log_flood(tui, dir2);
    bench_stop_server(pid);

window:
    pid = bench_start_server("tui_bench", server, dir3);
    log_window(tui, dir3);
    bench_stop_server(pid);

done:
    bench_done();
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", dir, dir2, dir3);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
