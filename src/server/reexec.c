/* SPDX-License-Identifier: Apache-2.0 */
/* The in-place upgrade (reexec.h): the state the store does not hold (pipes and their
 * unsplit bytes, timers, back-off, the fds to keep) written to a memfd as JSON, CLOEXEC
 * cleared on exactly those fds just before execve, and the new image taking each job
 * back. It does not decide what a job does next: the supervisor's own functions do. */
#include "config.h"

#include "server/probe.h"
#include "server/reexec.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* QUIESCE_MS: how long requests being answered may hold the exec back. */
/* ANNOUNCE_MS: the server_restarting event's answers go out before the pause begins (it
 * serves on meanwhile, so this is no pause). */
enum {
    STATE_VERSION = 1,
    CHECK_MS = 2000,
    MAX_STATE = 64 << 20,
    QUIESCE_MS = 500,
    ANNOUNCE_MS = 20
};

struct hpd_reexec {
    char *exe;      /* the binary's path as it was at start: an upgrade replaces that file */
    int listen_fd;  /* the Unix socket, owned by the HTTP front */
    int tcp_fd;     /* new image: the --http socket kept, until the HTTP front takes it */
    int old_exe_fd; /* new image: the old binary to fall back to, -1 when none */
    int resume_fd;  /* new image: the state's memfd, kept until the start succeeded */
    uint64_t timer; /* the exec waits until no request is half received or answered */
    uint64_t since; /* when the wait began (monotonic ms), 0 when none */
    cJSON *state;   /* new image: what the old one handed over */
    int64_t count;  /* in-place upgrades since the daemon started */
    uint64_t asked; /* when the upgrade was asked for (monotonic ms), and the exec */
    uint64_t exec_at;
    /* The check that the binary starts, run while the daemon serves on: its pid (a
     * pidfd, to kill it on time-out), its stdout and what it said, and the calls
     * waiting for the outcome. */
    int check_pidfd, check_fd;
    uint64_t check_timer;
    char said[128];
    size_t said_len;
    struct waiting {
        hpd_pending *pending;
        struct waiting *next;
    } * waiting;
};

static void on_reexec_timer(hpd_loop *loop, uint64_t id, void *data);
static void check_end(hpd_server *srv, const char *why);
static void crash_disarm(void);

static int set_cloexec(int fd, int on)
{
    int fl = fcntl(fd, F_GETFD);

    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC);
}

static struct hpd_reexec *state_of(hpd_server *srv)
{
    if (!srv->reexec) {
        srv->reexec = calloc(1, sizeof(*srv->reexec));
        if (srv->reexec) {
            srv->reexec->listen_fd = srv->reexec->old_exe_fd = srv->reexec->resume_fd = -1;
            srv->reexec->tcp_fd = -1;
            srv->reexec->check_pidfd = srv->reexec->check_fd = -1;
        }
    }
    return srv->reexec;
}

int hpd_reexec_init(hpd_server *srv, int listen_fd)
{
    struct hpd_reexec *rx = state_of(srv);
    char path[PATH_MAX];
    const char *kept;
    ssize_t n;

    if (!rx)
        return -1;
    rx->listen_fd = listen_fd;
    /* After a re-exec, the path the first image started from: the next upgrade replaces
     * that file, whatever ran in between (a fall-back runs a deleted file, a wrapper
     * script another binary). */
    kept =
        rx->state ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rx->state, "exe")) : NULL;
    if (kept) {
        snprintf(path, sizeof(path), "%s", kept);
    } else {
        n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        if (n <= 0)
            return -1;
        path[n] = '\0';
    }
    free(rx->exe);
    rx->exe = strdup(path);
    return rx->exe ? 0 : -1;
}

int hpd_reexec_take_tcp(hpd_server *srv)
{
    int fd = srv->reexec ? srv->reexec->tcp_fd : -1;

    if (srv->reexec)
        srv->reexec->tcp_fd = -1;
    return fd;
}

int64_t hpd_reexec_count(const hpd_server *srv)
{
    return srv->reexec ? srv->reexec->count : 0;
}

void hpd_reexec_free(hpd_server *srv)
{
    struct hpd_reexec *rx = srv->reexec;

    if (!rx)
        return;
    if (rx->timer && srv->loop)
        hpd_loop_timer_cancel(srv->loop, rx->timer);
    if (rx->old_exe_fd >= 0)
        close(rx->old_exe_fd);
    crash_disarm();
    if (rx->resume_fd >= 0)
        close(rx->resume_fd);
    if (rx->tcp_fd >= 0)
        close(rx->tcp_fd);
    check_end(srv, "the daemon is stopping");
    cJSON_Delete(rx->state);
    free(rx->exe);
    free(rx);
    srv->reexec = NULL;
}

/* ---- the old image ------------------------------------------------------------------ */

static void add_hex(cJSON *o, const char *key, const char *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc(len * 2 + 1);

    if (!hex)
        return;
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[(unsigned char)buf[i] >> 4];
        hex[2 * i + 1] = digits[(unsigned char)buf[i] & 15];
    }
    hex[len * 2] = '\0';
    cJSON_AddStringToObject(o, key, hex);
    free(hex);
}

static void add_due(hpd_server *srv, cJSON *o, const char *key, uint64_t timer)
{
    uint64_t due = hpd_loop_timer_due(srv->loop, timer);

    if (due)
        hp_json_add_int(o, key, (int64_t)due);
}

/* What the store does not hold of one job, and the fds to keep (appended to fds). */
static cJSON *job_state(hpd_server *srv, const hpd_job *job, int *fds, size_t *n_fds)
{
    cJSON *o = cJSON_CreateObject(), *out = cJSON_AddArrayToObject(o, "out");

    hp_json_add_int(o, "id", job->id);
    hp_json_add_int(o, "status", job->status);
    hp_json_add_int(o, "attempt", job->attempt);
    hp_json_add_int(o, "restarts", job->restarts);
    hp_json_add_int(o, "pid", job->pid);
    hp_json_add_int(o, "pid_start", (int64_t)job->pid_start);
    hp_json_add_int(o, "reaped", job->reaped);
    hp_json_add_int(o, "exit_unknown", job->exit_unknown);
    hp_json_add_int(o, "has_exit", job->has_exit);
    hp_json_add_int(o, "exit_code", job->exit_code);
    hp_json_add_int(o, "signal", job->signal);
    hp_json_add_int(o, "stop_as", job->stop_as);
    hp_json_add_int(o, "spawned_mono_ms", (int64_t)job->spawned_mono_ms);
    hp_json_add_int(o, "backoff_ms", (int64_t)job->backoff_ms);
    hp_json_add_int(o, "quick_failures", job->quick_failures);
    hp_json_add_int(o, "crash_loop", job->crash_loop);
    hp_json_add_int(o, "health", job->health);
    if (job->health_detail)
        cJSON_AddStringToObject(o, "health_detail", job->health_detail);
    add_due(srv, o, "timer_due", job->timer);
    add_due(srv, o, "kill_due", job->kill_timer);
    add_due(srv, o, "drain_due", job->drain_timer);
    for (int s = 0; s < 2; s++) {
        const hpd_linebuf *lb = &job->out[s];
        cJSON *st = cJSON_CreateObject();
        hp_json_add_int(st, "fd", lb->fd);
        hp_json_add_int(st, "cutting", lb->cutting);
        add_hex(st, "buf", lb->buf ? lb->buf : "", lb->len);
        cJSON_AddItemToArray(out, st);
        if (lb->fd >= 0)
            fds[(*n_fds)++] = lb->fd;
    }
    return o;
}

/* The old image's command line without what only the first start needs (--daemon: the
 * pid must stay) and without an earlier --reexec-state; NULL without memory. */
static char **next_argv(const char *state_fd)
{
    char *buf = NULL, **argv = NULL;
    size_t len = 0, cap = 0, n = 0, k = 0;
    ssize_t got;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    for (;;) {
        if (len + 4096 > cap) {
            char *grown = realloc(buf, cap = len + 8192);
            if (!grown)
                goto fail;
            buf = grown;
        }
        got = read(fd, buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    fd = -1;
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\0';
    argv = calloc(n + 4, sizeof(*argv));
    if (!argv)
        goto fail;
    for (size_t at = 0, i = 0; at < len; i++) {
        const char *arg = buf + at;
        at += strlen(arg) + 1;
        if (i > 0 && strcmp(arg, "--daemon") == 0)
            continue;
        if (i > 0 && strncmp(arg, "--reexec-state=", 15) == 0)
            continue;
        if (i > 0 && strcmp(arg, "--reexec-state") == 0) {
            if (at < len)
                at += strlen(buf + at) + 1;
            continue;
        }
        if (!(argv[k++] = strdup(arg)))
            goto fail;
    }
    if (!(argv[k++] = strdup("--reexec-state")) || !(argv[k++] = strdup(state_fd)))
        goto fail;
    free(buf);
    return argv;
fail:
    if (fd >= 0)
        close(fd);
    hp_argv_free(argv);
    free(buf);
    return NULL;
}

/* Everything the new image needs beyond the store; the fds to keep go to fds. */
static cJSON *build_state(hpd_server *srv, int old_exe_fd, char **argv, int **fds_out,
                          size_t *n_fds)
{
    cJSON *st = cJSON_CreateObject(), *jobs, *services;
    size_t cap = 5, n = 0;
    int *fds, tcp_fd;

    for (hpd_run *run = srv->runs_head; run; run = run->next)
        cap += 2 * run->n_actions;
    cap += srv->opt.max_connections + 64;
    fds = calloc(cap, sizeof(*fds));
    if (!st || !fds) {
        cJSON_Delete(st);
        free(fds);
        return NULL;
    }
    hp_json_add_int(st, "version", STATE_VERSION);
    hp_json_add_int(st, "listen_fd", srv->reexec->listen_fd);
    hp_json_add_int(st, "lock_fd", srv->lock_fd);
    hp_json_add_int(st, "old_exe_fd", old_exe_fd);
    cJSON_AddStringToObject(st, "exe", srv->reexec->exe);
    hp_json_add_int(st, "started_at_ms", srv->started_at_ms);
    hp_json_add_int(st, "reexecs", srv->reexec->count + 1);
    hp_json_add_int(st, "asked_mono_ms", (int64_t)srv->reexec->asked);
    hp_json_add_int(st, "exec_mono_ms", (int64_t)hpd_now_mono_ms());
    hp_json_add_int(st, "next_run_id", srv->next_run_id);
    hp_json_add_int(st, "next_job_id", srv->next_job_id);
    hp_json_add_int(st, "job_nice", srv->job_nice);
    hp_json_add_int(st, "niced", srv->niced);
    /* A fall-back runs the old binary with the old command line: the new image's own may
     * be what made it fail (a wrapper's extra option, a changed default). */
    if (argv) {
        cJSON *args = cJSON_AddArrayToObject(st, "argv");
        for (size_t i = 0; argv[i] && argv[i + 1] && argv[i + 2]; i++)
            cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
    }
    fds[n++] = srv->reexec->listen_fd;
    fds[n++] = srv->lock_fd;
    /* The TCP socket too: a rebind would refuse connections meanwhile (or fail). */
    tcp_fd = hpd_http_tcp_fd(srv->http);
    hp_json_add_int(st, "tcp_fd", tcp_fd);
    if (tcp_fd >= 0)
        fds[n++] = tcp_fd;
    if (old_exe_fd >= 0)
        fds[n++] = old_exe_fd;
    if (srv->http) {
        /* Connections between two requests go on in the new image: a request sent
         * meanwhile waits in the socket, none is cut. */
        size_t busy, k = hpd_http_idle(srv->http, fds + n, srv->opt.max_connections + 64, &busy);
        cJSON *conns = cJSON_AddArrayToObject(st, "connections");
        for (size_t i = 0; i < k; i++)
            cJSON_AddItemToArray(conns, cJSON_CreateNumber(fds[n + i]));
        n += k;
    }
    services = cJSON_AddArrayToObject(st, "services");
    for (size_t i = 0; i < srv->n_services; i++) {
        const hpd_service *svc = srv->services[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", svc->config.name);
        hp_json_add_int(o, "pending_start", svc->pending_start);
        hp_json_add_int(o, "keep_history", svc->keep_history);
        cJSON_AddItemToArray(services, o);
    }
    jobs = cJSON_AddArrayToObject(st, "jobs");
    for (hpd_run *run = srv->runs_head; run; run = run->next)
        for (size_t i = 0; hpd_run_active(run) && i < run->n_actions; i++)
            if (!hpd_job_state_final(run->jobs[i]->status))
                cJSON_AddItemToArray(jobs, job_state(srv, run->jobs[i], fds, &n));
    *fds_out = fds;
    *n_fds = n;
    return st;
}

/* A memfd holding text, at offset 0; -1 on failure. */
static int state_memfd(const char *text)
{
    size_t len = strlen(text), done = 0;
    int fd = memfd_create("hero_proc-reexec", MFD_CLOEXEC);

    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    if (fd >= 0 && lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void reexec_now(hpd_server *srv)
{
    struct hpd_reexec *rx = srv->reexec;
    hpd_store_limits limits = {.log_bytes_per_job = srv->opt.log_bytes_per_job,
                               .log_bytes = srv->opt.log_bytes};
    int *fds = NULL, state_fd = -1, old_exe_fd;
    size_t n_fds = 0;
    char *text = NULL, num[32], **argv = NULL;
    cJSON *st;
    hp_error err;
    int e;

    /* The running binary, even when its file was replaced: the new image execs it back
     * if it cannot start. */
    old_exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    /* The state's fd is not known before the memfd exists: a placeholder, set below. */
    argv = next_argv("-1");
    st = argv ? build_state(srv, old_exe_fd, argv, &fds, &n_fds) : NULL;
    text = st ? cJSON_PrintUnformatted(st) : NULL;
    cJSON_Delete(st);
    if (text)
        state_fd = state_memfd(text);
    free(text);
    if (argv && state_fd >= 0) {
        size_t last = 0;
        while (argv[last + 1])
            last++;
        snprintf(num, sizeof(num), "%d", state_fd);
        free(argv[last]);
        if (!(argv[last] = strdup(num))) {
            hp_argv_free(argv);
            argv = NULL;
        }
    }
    if (!argv || state_fd < 0) {
        hpd_log(srv, 0, "re-exec: cannot hand the state over: %s; running on",
                strerror(errno ? errno : ENOMEM));
        goto fail;
    }
    hpd_log(srv, 2, "re-executing %s (pid %d, %zu fds kept)", rx->exe, (int)getpid(), n_fds);
    /* Every change and log line is written before the new image reads the store. */
    hpd__flush_logs(srv);
    hpd_store_set_meta(srv->store, "rev", srv->rev);
    hpd_store_drain(srv->store);
    /* The new image reads the WAL as it is: a checkpoint here would lengthen the pause. */
    hpd_store_keep_wal(srv->store);
    hpd_store_close(srv->store);
    srv->store = NULL;
    fflush(NULL);
    for (size_t i = 0; i < n_fds; i++)
        set_cloexec(fds[i], 0);
    set_cloexec(state_fd, 0);
    execv(rx->exe, argv);
    e = errno;
    /* Still the old image: the rule back on, the store open again, and on we go. */
    for (size_t i = 0; i < n_fds; i++)
        set_cloexec(fds[i], 1);
    hpd_log(srv, 0, "re-exec: cannot execute %s: %s; running on", rx->exe, strerror(e));
    srv->store = hpd_store_open(srv->data_dir, &limits, &err);
    if (!srv->store) {
        /* Nothing can be saved any more: stop as after SIGTERM rather than run blind. */
        hpd_log(srv, 0, "re-exec: cannot open the store again: %s; stopping", err.message);
        hpd_loop_stop(srv->loop);
    }
fail:
    if (state_fd >= 0)
        close(state_fd);
    if (old_exe_fd >= 0)
        close(old_exe_fd);
    hp_argv_free(argv);
    free(fds);
}

static void on_reexec_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;
    struct hpd_reexec *rx = srv->reexec;
    uint64_t now = hpd_now_mono_ms();
    size_t busy = 0;
    int fd;

    (void)id;
    rx->timer = 0;
    if (srv->stopping)
        return;
    if (!rx->since) {
        rx->since = now;
        if (srv->http)
            hpd_http_pause(srv->http);
    }
    if (srv->http)
        hpd_http_idle(srv->http, &fd, 0, &busy);
    if (busy && now - rx->since < QUIESCE_MS) {
        rx->timer = hpd_loop_timer(loop, 1, on_reexec_timer, srv);
        if (rx->timer)
            return;
    }
    rx->since = 0;
    reexec_now(srv);
    /* Still here: the exec failed, the daemon serves on. */
    if (srv->http)
        hpd_http_resume(srv->http);
}

static void on_check_timeout(hpd_loop *loop, uint64_t id, void *data);

/* Ends the check: the calls waiting hear of why (NULL: the binary starts), and the exec
 * follows from the next turn. */
static void check_end(hpd_server *srv, const char *why)
{
    struct hpd_reexec *rx = srv->reexec;

    if (rx->check_fd < 0)
        return;
    if (srv->loop) {
        hpd_loop_unwatch(srv->loop, rx->check_fd);
        hpd_loop_timer_cancel(srv->loop, rx->check_timer);
    }
    rx->check_timer = 0;
    close(rx->check_fd);
    rx->check_fd = -1;
    if (rx->check_pidfd >= 0) {
        /* Reaped by hpd_reap like any child that is not a job's. */
        syscall(SYS_pidfd_send_signal, rx->check_pidfd, SIGKILL, NULL, 0);
        close(rx->check_pidfd);
        rx->check_pidfd = -1;
    }
    while (rx->waiting) {
        struct waiting *w = rx->waiting;
        rx->waiting = w->next;
        if (why) {
            char msg[PATH_MAX + 160];
            snprintf(msg, sizeof(msg), "re-exec refused, the daemon runs on: %s", why);
            hpd_pending_reject(w->pending, HPD_INTERNAL_ERROR, NULL, msg);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddTrueToObject(o, "restarting");
            hp_json_add_int(o, "pid", getpid());
            hpd_pending_resolve(w->pending, o);
        }
        free(w);
    }
    if (why) {
        hpd_log(srv, 0, "re-exec refused, the daemon runs on: %s", why);
        return;
    }
    /* Followers hear of it before the pause (the answer goes out while requests being
     * answered finish): a dashboard says "restarting", not "unreachable". */
    hpd_event_emit(srv, HPD_EV_SERVER_RESTARTING, NULL, NULL,
                   "the server re-executes itself (pid %d): an in-place upgrade", (int)getpid());
    if (!srv->stopping && srv->loop)
        rx->timer = hpd_loop_timer(srv->loop, ANNOUNCE_MS, on_reexec_timer, srv);
}

/* The binary's --version on its stdout: it loaded and ran (a wrong architecture, a
 * missing library or a truncated copy do not get that far). Its exit status is not
 * waited for: hpd_reap takes every child that is not a job's. */
static void on_check_output(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    hpd_server *srv = data;
    struct hpd_reexec *rx = srv->reexec;
    char why[PATH_MAX + 64];
    ssize_t n;

    (void)loop;
    (void)events;
    n = read(fd, rx->said + rx->said_len, sizeof(rx->said) - 1 - rx->said_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0) {
        rx->said_len += (size_t)n;
        if (rx->said_len < sizeof(rx->said) - 1)
            return;
    }
    rx->said[rx->said_len] = '\0';
    if (strncmp(rx->said, "hero_proc_server ", 17) == 0) {
        check_end(srv, NULL);
        return;
    }
    snprintf(why, sizeof(why), "%s does not start (its --version said %s)", rx->exe,
             rx->said_len ? "something else" : "nothing");
    check_end(srv, why);
}

static void on_check_timeout(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;
    char why[PATH_MAX + 64];

    (void)loop;
    (void)id;
    srv->reexec->check_timer = 0;
    snprintf(why, sizeof(why), "%s --version did not answer within %d ms", srv->reexec->exe,
             CHECK_MS);
    check_end(srv, why);
}

/* Starts the check of the binary; HP_OK when it runs (or already did). */
static hp_status check_start(hpd_server *srv, hp_error *err)
{
    struct hpd_reexec *rx = srv->reexec;
    char version[] = "--version";
    char *const argv[] = {rx->exe, version, NULL};
    posix_spawn_file_actions_t fa;
    int out[2], rc;
    pid_t pid;

    if (rx->check_fd >= 0)
        return HP_OK;
    if (pipe2(out, O_CLOEXEC) != 0)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "re-exec: pipe");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, rx->exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        return hp_error_set(err, HP_E_SYSTEM,
                            "re-exec refused, the daemon runs on: cannot run %s: %s", rx->exe,
                            strerror(rc));
    }
    rx->check_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    rx->check_fd = out[0];
    rx->said_len = 0;
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    if (hpd_loop_watch(srv->loop, out[0], EPOLLIN, on_check_output, srv) != 0) {
        check_end(srv, "cannot watch the check");
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "re-exec: cannot watch the check");
    }
    rx->check_timer = hpd_loop_timer(srv->loop, CHECK_MS, on_check_timeout, srv);
    return HP_OK;
}

hp_status hpd_reexec_request(hpd_server *srv, hp_error *err)
{
    struct hpd_reexec *rx = srv->reexec;

    if (!rx || !rx->exe)
        return hp_error_set(err, HP_E_SYSTEM, "re-exec: the daemon's binary is not known");
    if (srv->stopping)
        return hp_error_set(err, HP_E_STATE, "re-exec: the daemon is stopping");
    if (rx->timer)
        return HP_OK; /* already on its way */
    if (rx->check_fd < 0)
        rx->asked = hpd_now_mono_ms();
    return check_start(srv, err);
}

static void waiting_cancel(hpd_pending *p, void *data)
{
    hpd_server *srv = data;

    for (struct waiting **w = &srv->reexec->waiting; *w; w = &(*w)->next)
        if ((*w)->pending == p) {
            struct waiting *gone = *w;
            *w = gone->next;
            free(gone);
            return;
        }
}

cJSON *hpd_reexec_rpc(hpd_rpc_ctx *ctx)
{
    hpd_server *srv = ctx->srv;
    struct waiting *w;
    hp_error err;

    if (hpd_reexec_request(srv, &err) != HP_OK)
        return hpd_rpc_fail(ctx, err.code == HP_E_STATE ? HPD_INVALID_STATE : HPD_INTERNAL_ERROR,
                            NULL, "%s", err.message);
    if (srv->reexec->check_fd < 0) {
        /* The check is over, the exec on its way. */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddTrueToObject(o, "restarting");
        hp_json_add_int(o, "pid", getpid());
        return o;
    }
    w = calloc(1, sizeof(*w));
    if (!w)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
    w->pending = hpd_rpc_defer(ctx, waiting_cancel, srv);
    if (!w->pending) {
        free(w);
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
    }
    w->next = srv->reexec->waiting;
    srv->reexec->waiting = w;
    return NULL;
}

/* ---- the new image ------------------------------------------------------------------ */

static int64_t get_int(const cJSON *o, const char *key, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : fallback;
}

/* fd as handed over: CLOEXEC again (jobs must not inherit it); -1 when it is not open. */
static int kept_fd(const cJSON *o, const char *key)
{
    int fd = (int)get_int(o, key, -1);

    if (fd < 0 || set_cloexec(fd, 1) != 0)
        return -1;
    return fd;
}

/* A crash of the new image before it serves (a signal where hpd_server_main's error path
 * is never reached) goes back to the old image too. Everything the handler needs is made
 * before: it only clears CLOEXEC, writes a line and execs, which are async-signal-safe. */
static struct {
    int exe_fd;
    char **argv;
    int *fds;
    size_t n_fds;
    char stack[64 * 1024]; /* a stack overflow has no stack of its own left */
} crash = {.exe_fd = -1};

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

static void on_crash(int sig)
{
    static const char msg[] = "hero_proc_server: error: re-exec: the new binary crashed while "
                              "starting; going back to the old one\n";

    for (size_t i = 0; i < crash.n_fds; i++) {
        int fl = fcntl(crash.fds[i], F_GETFD);
        if (fl >= 0)
            fcntl(crash.fds[i], F_SETFD, fl & ~FD_CLOEXEC);
    }
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing to do about it in a crash */
    }
    syscall(SYS_execveat, crash.exe_fd, "", crash.argv, environ, AT_EMPTY_PATH);
    /* Not even that: die of the signal (SA_RESETHAND put the default back). */
    raise(sig);
}

static void crash_disarm(void)
{
    for (size_t i = 0; i < sizeof(crash_signals) / sizeof(*crash_signals); i++)
        signal(crash_signals[i], SIG_DFL);
    hp_argv_free(crash.argv);
    free(crash.fds);
    crash.argv = NULL;
    crash.fds = NULL;
    crash.n_fds = 0;
    crash.exe_fd = -1;
}

static char **state_argv(const cJSON *state, const char *fd);

/* The fds the old image handed over and the argv to run it with, for on_crash. */
static void crash_arm(struct hpd_reexec *rx)
{
    static const char *const keys[] = {"listen_fd", "lock_fd", "tcp_fd"};
    const cJSON *o, *s;
    size_t cap = 4;
    char num[32];
    stack_t ss = {.ss_sp = crash.stack, .ss_size = sizeof(crash.stack)};
    struct sigaction sa;

    if (rx->old_exe_fd < 0)
        return;
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(rx->state, "jobs"))
        cap += 2;
    cap += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rx->state, "connections"));
    snprintf(num, sizeof(num), "%d", rx->resume_fd);
    crash.fds = calloc(cap, sizeof(*crash.fds));
    crash.argv = state_argv(rx->state, num);
    if (!crash.fds || !crash.argv) {
        crash_disarm();
        return;
    }
    crash.fds[crash.n_fds++] = rx->resume_fd;
    for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
        if (get_int(rx->state, keys[i], -1) >= 0)
            crash.fds[crash.n_fds++] = (int)get_int(rx->state, keys[i], -1);
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(rx->state, "jobs"))
        cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(o, "out"))
            if (get_int(s, "fd", -1) >= 0 && crash.n_fds < cap)
                crash.fds[crash.n_fds++] = (int)get_int(s, "fd", -1);
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(rx->state, "connections"))
        if (o->valueint >= 0 && crash.n_fds < cap)
            crash.fds[crash.n_fds++] = o->valueint;
    crash.exe_fd = rx->old_exe_fd;
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_crash;
    /* NODEFER: the old image must not start with the signal blocked. */
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(crash_signals) / sizeof(*crash_signals); i++)
        sigaction(crash_signals[i], &sa, NULL);
}

hp_status hpd_reexec_resume(hpd_server *srv, int fd, int *listen_fd, hp_error *err)
{
    struct hpd_reexec *rx = state_of(srv);
    struct stat sb;
    char *text = NULL;
    size_t len = 0;
    const cJSON *jobs, *job;
    cJSON *conn;

    *listen_fd = -1;
    if (!rx)
        return hp_error_set_code(err, HP_E_NOMEM);
    rx->resume_fd = fd;
    set_cloexec(fd, 1);
    if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || sb.st_size > MAX_STATE)
        return hp_error_set(err, HP_E_SYSTEM, "re-exec: no state on fd %d", fd);
    text = malloc((size_t)sb.st_size + 1);
    if (!text)
        return hp_error_set_code(err, HP_E_NOMEM);
    while (len < (size_t)sb.st_size) {
        ssize_t n = pread(fd, text + len, (size_t)sb.st_size - len, (off_t)len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    text[len] = '\0';
    rx->state = cJSON_Parse(text);
    free(text);
    if (!rx->state || get_int(rx->state, "version", 0) != STATE_VERSION)
        return hp_error_set(err, HP_E_SYSTEM, "re-exec: the state on fd %d is not one I read", fd);
    /* The rule back first: nothing started from here on inherits these. */
    rx->old_exe_fd = kept_fd(rx->state, "old_exe_fd");
    srv->lock_fd = kept_fd(rx->state, "lock_fd");
    *listen_fd = kept_fd(rx->state, "listen_fd");
    rx->tcp_fd = kept_fd(rx->state, "tcp_fd");
    cJSON_ArrayForEach (conn, cJSON_GetObjectItemCaseSensitive(rx->state, "connections"))
        if (conn->valueint < 0 || set_cloexec(conn->valueint, 1) != 0)
            conn->valueint = -1; /* not open: nothing to serve */
    jobs = cJSON_GetObjectItemCaseSensitive(rx->state, "jobs");
    cJSON_ArrayForEach (job, jobs) {
        const cJSON *s;
        cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(job, "out"))
            kept_fd(s, "fd");
    }
    srv->started_at_ms = get_int(rx->state, "started_at_ms", srv->started_at_ms);
    rx->count = get_int(rx->state, "reexecs", 0);
    rx->asked = (uint64_t)get_int(rx->state, "asked_mono_ms", 0);
    rx->exec_at = (uint64_t)get_int(rx->state, "exec_mono_ms", 0);
    if (srv->lock_fd < 0 || *listen_fd < 0)
        return hp_error_set(err, HP_E_SYSTEM, "re-exec: the lock or the socket was not kept");
    crash_arm(rx);
    return HP_OK;
}

/* The old image's timers, armed again with what was left of them. Each does what the
 * supervisor's own callback of that timer does. */
static void on_timeout_again(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;

    (void)loop;
    (void)id;
    job->timer = 0;
    hpd_job_syslog(job->run->srv, job,
                   "timed out after %ld s: sending SIGTERM to the process group",
                   job->run->actions[job->index].timeout_secs);
    hpd__stop_job(job->run->srv, job, HPD_JOB_TIMED_OUT);
}

static void on_retry_again(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;
    hpd_server *srv = job->run->srv;

    (void)loop;
    (void)id;
    job->timer = 0;
    if (job->status == HPD_JOB_RETRYING && !job->run->cancelling && !srv->stopping)
        hpd__spawn_job(srv, job);
    hpd__schedule(srv, job->run);
}

static void on_kill_again(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;

    (void)loop;
    (void)id;
    job->kill_timer = 0;
    if (job->pid > 0 && !job->reaped) {
        hpd_job_syslog(job->run->srv, job, "still running after the grace period: sending SIGKILL");
        hpd__signal_escapees(job->run->srv, job, SIGKILL, 0);
        hpd__signal_group(job->pid, job->pidfd, job->pid_start, SIGKILL);
    }
}

static void on_drain_again(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;

    (void)loop;
    (void)id;
    job->drain_timer = 0;
    hpd__close_stream(job->run->srv, job, 0);
    hpd__close_stream(job->run->srv, job, 1);
    hpd__job_maybe_finish(job->run->srv, job);
}

static uint64_t rearm(hpd_server *srv, const cJSON *o, const char *key, hpd_timer_cb cb,
                      hpd_job *job)
{
    uint64_t due = (uint64_t)get_int(o, key, 0), now = hpd_now_mono_ms();

    if (!due)
        return 0;
    return hpd_loop_timer(srv->loop, due > now ? due - now : 0, cb, job);
}

static int unhex(const char *hex, char **out, size_t *len)
{
    size_t n = strlen(hex) / 2;

    *out = NULL;
    *len = 0;
    if (n == 0)
        return 0;
    *out = malloc(n + READ_CHUNK + MAX_LINE);
    if (!*out)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            free(*out);
            *out = NULL;
            return -1;
        }
        (*out)[i] = (char)v;
    }
    *len = n;
    return 0;
}

static void adopt_job(hpd_server *srv, hpd_job *job, const cJSON *o)
{
    const cJSON *s;
    int k = 0;

    job->status = (hpd_job_state)get_int(o, "status", job->status);
    job->attempt = (int)get_int(o, "attempt", job->attempt);
    job->restarts = (int)get_int(o, "restarts", job->restarts);
    job->pid = (pid_t)get_int(o, "pid", 0);
    job->pid_start = (unsigned long long)get_int(o, "pid_start", 0);
    job->reaped = (int)get_int(o, "reaped", 0);
    job->exit_unknown = (int)get_int(o, "exit_unknown", 0);
    job->has_exit = (int)get_int(o, "has_exit", 0);
    job->exit_code = (int)get_int(o, "exit_code", 0);
    job->signal = (int)get_int(o, "signal", 0);
    job->stop_as = (hpd_job_state)get_int(o, "stop_as", HPD_JOB_PENDING);
    job->spawned_mono_ms = (uint64_t)get_int(o, "spawned_mono_ms", 0);
    job->backoff_ms = (uint64_t)get_int(o, "backoff_ms", 0);
    job->quick_failures = (int)get_int(o, "quick_failures", 0);
    job->crash_loop = (int)get_int(o, "crash_loop", 0);
    /* Still our child (an exec keeps children): a pidfd names it against pid reuse. */
    if (job->pid > 0 && !job->reaped)
        job->pidfd = (int)syscall(SYS_pidfd_open, job->pid, 0);
    cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(o, "out")) {
        hpd_linebuf *lb;
        const char *hex = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "buf"));
        if (k >= 2)
            break;
        lb = &job->out[k++];
        lb->fd = (int)get_int(s, "fd", -1);
        lb->cutting = (int)get_int(s, "cutting", 0);
        if (hex && unhex(hex, &lb->buf, &lb->len) == 0)
            lb->cap = lb->buf ? lb->len + READ_CHUNK + MAX_LINE : 0;
        if (lb->fd >= 0 && hpd_loop_watch(srv->loop, lb->fd, EPOLLIN, hpd__on_output, job) != 0)
            hpd_log(srv, 0, "re-exec: job %lld: cannot watch its output: %s", (long long)job->id,
                    strerror(errno));
    }
    job->timer = rearm(srv, o, "timer_due",
                       job->status == HPD_JOB_RETRYING ? on_retry_again : on_timeout_again, job);
    job->kill_timer = rearm(srv, o, "kill_due", on_kill_again, job);
    job->drain_timer = rearm(srv, o, "drain_due", on_drain_again, job);
    /* Its probes start over (their processes and connections were the old image's), and
     * the verdict they had stands until the next one: a dependant held for it, or a
     * dashboard, must not see a healthy job fall back to unknown. */
    if (job->pid > 0 && !job->reaped) {
        const char *detail =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "health_detail"));
        hpd_probe_job_started(srv, job);
        job->health = (int)get_int(o, "health", job->health);
        free(job->health_detail);
        job->health_detail = detail ? strdup(detail) : NULL;
    }
}

void hpd_reexec_adopt(hpd_server *srv)
{
    struct hpd_reexec *rx = srv->reexec;
    const cJSON *o;
    size_t adopted = 0, lost = 0;

    srv->next_run_id = get_int(rx->state, "next_run_id", 0) > srv->next_run_id
                           ? get_int(rx->state, "next_run_id", 0)
                           : srv->next_run_id;
    srv->next_job_id = get_int(rx->state, "next_job_id", 0) > srv->next_job_id
                           ? get_int(rx->state, "next_job_id", 0)
                           : srv->next_job_id;
    /* The nice the jobs get is the first image's: this one started boosted already. */
    srv->job_nice = (int)get_int(rx->state, "job_nice", srv->job_nice);
    srv->niced = (int)get_int(rx->state, "niced", srv->niced);
    if (srv->niced)
        setpriority(PRIO_PROCESS, 0, srv->job_nice - PRIORITY_BOOST);
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(rx->state, "services")) {
        hpd_service *svc = hpd_service_find(
            srv, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name")));
        if (svc) {
            svc->pending_start = get_int(o, "pending_start", 0);
            svc->keep_history = (int)get_int(o, "keep_history", 0);
        }
    }
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(rx->state, "jobs")) {
        hpd_job *job = hpd_job_find(srv, get_int(o, "id", 0));
        if (!job) {
            /* Its run is gone from the store: its fds are closed, its process left alone
             * to be reaped as an orphan. */
            const cJSON *s;
            cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(o, "out"))
                if (get_int(s, "fd", -1) >= 0)
                    close((int)get_int(s, "fd", -1));
            lost++;
            continue;
        }
        adopt_job(srv, job, o);
        adopted++;
    }
    /* A job the store says is unfinished that was not handed over cannot be followed. */
    for (hpd_run *run = srv->runs_head; run; run = run->next)
        for (size_t i = 0; hpd_run_active(run) && i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (hpd_job_state_final(job->status) || job->out[0].fd >= 0 || job->out[1].fd >= 0 ||
                job->pidfd >= 0 || job->timer || job->status == HPD_JOB_PENDING)
                continue;
            hpd__job_end(srv, job, HPD_JOB_FAILED, "lost across the supervisor's re-exec");
            lost++;
        }
    hpd_log(srv, 2, "re-exec: %zu jobs taken back%s", adopted, lost ? ", some lost" : "");
    /* Exits that came while no image watched are in the pending SIGCHLD; reap them now. */
    hpd_reap(srv);
}

void hpd_reexec_serve(hpd_server *srv)
{
    struct hpd_reexec *rx = srv->reexec;
    const cJSON *c;
    size_t n = 0;

    if (!rx || !rx->state)
        return;
    cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(rx->state, "connections"))
        if (c->valueint >= 0 && hpd_http_adopt(srv->http, c->valueint) == 0)
            n++;
    hpd_log(srv, 2,
            "re-exec %lld done: %llu ms since it was asked for, %llu ms since the exec; "
            "%zu connections served on",
            (long long)rx->count, (unsigned long long)(hpd_now_mono_ms() - rx->asked),
            (unsigned long long)(hpd_now_mono_ms() - rx->exec_at), n);
    /* Started: no falling back from here on. */
    crash_disarm();
    if (rx->resume_fd >= 0)
        close(rx->resume_fd);
    rx->resume_fd = -1;
    if (rx->old_exe_fd >= 0)
        close(rx->old_exe_fd);
    rx->old_exe_fd = -1;
    cJSON_Delete(rx->state);
    rx->state = NULL;
}

/* The old image's command line as the state has it, with --reexec-state fd; NULL
 * without memory. A state without one (an older image's) falls back to our own. */
static char **state_argv(const cJSON *state, const char *fd)
{
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(state, "argv"), *a;
    size_t k = 0;
    char **argv;

    if (!cJSON_IsArray(args) || cJSON_GetArraySize(args) == 0)
        return next_argv(fd);
    argv = calloc((size_t)cJSON_GetArraySize(args) + 3, sizeof(*argv));
    if (!argv)
        return NULL;
    cJSON_ArrayForEach (a, args)
        if (!cJSON_IsString(a) || !(argv[k++] = strdup(a->valuestring)))
            goto fail;
    if (!(argv[k++] = strdup("--reexec-state")) || !(argv[k++] = strdup(fd)))
        goto fail;
    return argv;
fail:
    hp_argv_free(argv);
    return NULL;
}

void hpd_reexec_fallback(hpd_server *srv)
{
    struct hpd_reexec *rx = srv->reexec;
    char num[32], **argv;
    const cJSON *o;

    crash_disarm(); /* a crash from here on is the old image's failure to run */
    if (!rx || rx->old_exe_fd < 0 || rx->resume_fd < 0 || !rx->state)
        return;
    snprintf(num, sizeof(num), "%d", rx->resume_fd);
    argv = state_argv(rx->state, num);
    if (!argv)
        return;
    hpd_log(srv, 0, "re-exec: the new binary could not start; going back to the old one");
    fflush(NULL);
    set_cloexec(rx->resume_fd, 0);
    set_cloexec((int)get_int(rx->state, "listen_fd", -1), 0);
    set_cloexec((int)get_int(rx->state, "lock_fd", -1), 0);
    set_cloexec((int)get_int(rx->state, "tcp_fd", -1), 0);
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(rx->state, "jobs")) {
        const cJSON *s;
        cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(o, "out"))
            set_cloexec((int)get_int(s, "fd", -1), 0);
    }
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(rx->state, "connections"))
        set_cloexec(o->valueint, 0);
    /* old_exe_fd stays CLOEXEC: the old image finds it closed and does not fall back
     * again, so a failure there cannot loop. */
    syscall(SYS_execveat, rx->old_exe_fd, "", argv, environ, AT_EMPTY_PATH);
    hpd_log(srv, 0, "re-exec: cannot go back to the old binary: %s", strerror(errno));
    hp_argv_free(argv);
}
