/* SPDX-License-Identifier: Apache-2.0 */
/* The factories and the client handle: endpoint discovery through the SDK, and for
 * hp_factory_auto the start of hero_proc_server when nothing answers at the Unix socket
 * (found via HERO_PROC_SERVER, beside this program, then PATH). Also the workflows that
 * combine SDK calls. No protocol code here: that is src/client's. */
#include "config.h"

#include "builders/factory.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct hp_client {
    hp_sdk *sdk;
    int started_server;
};

enum { WAIT_SLICE_MS = 60000, POLL_MS = 20, LOG_PAGE = 1000 };

static hp_client *wrap(hp_sdk *sdk, hp_error *err)
{
    hp_client *c;

    if (!sdk)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (!c) {
        hp_sdk_free(sdk);
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    c->sdk = sdk;
    return c;
}

hp_client *hp_factory_local_uds(const char *path, hp_error *err)
{
    hp_sdk_options o = {.socket_path = path};

    return wrap(hp_sdk_new(&o, err), err);
}

hp_client *hp_factory_http(const char *url, const char *token, hp_error *err)
{
    hp_sdk_options o = {.url = url, .token = token ? token : getenv("HERO_PROC_TOKEN")};

    return wrap(hp_sdk_new(&o, err), err);
}

void hp_client_free(hp_client *c)
{
    if (!c)
        return;
    hp_sdk_free(c->sdk);
    free(c);
}

hp_sdk *hp_client_sdk(hp_client *c)
{
    return c ? c->sdk : NULL;
}

const char *hp_client_endpoint(const hp_client *c)
{
    return c ? hp_sdk_endpoint(c->sdk) : NULL;
}

int hp_client_started_server(const hp_client *c)
{
    return c && c->started_server;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The server program: HERO_PROC_SERVER, then beside this program, then PATH. Writes
 * into buf; returns buf. */
static const char *find_server(const hp_factory_options *o, char *buf, size_t size)
{
    const char *env = getenv("HERO_PROC_SERVER");
    char self[PATH_MAX];
    ssize_t n;

    if (o->server_path && *o->server_path)
        return o->server_path;
    if (env && *env)
        return env;
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        char *slash;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, size, "%s/hero_proc_server", self);
            if (access(buf, X_OK) == 0)
                return buf;
        }
    }
    return "hero_proc_server"; /* execvp searches PATH */
}

/* A server already holding the data dir that a started server would use (its flock on
 * <data-dir>/lock, DESIGN section 3): HP_E_CONFLICT naming its pid and socket, so that
 * the caller connects there instead of starting a second server that would refuse to run.
 * HP_OK when the data dir is free. The probe holds a shared lock for an instant only; a
 * server starting meanwhile tries again. */
static hp_status data_dir_holder(const hp_factory_options *o, const char *socket_path,
                                 hp_error *err)
{
    const char *home = getenv("HOME");
    char path[PATH_MAX], held[PATH_MAX + 32], *sock;
    long pid;
    ssize_t n;
    int fd;

    if (o->data_dir)
        snprintf(path, sizeof(path), "%s/lock", o->data_dir);
    else
        snprintf(path, sizeof(path), "%s/hero/var/hero_proc/lock", home && *home ? home : "/tmp");
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return HP_OK; /* no server ever ran there */
    if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
        close(fd);
        return HP_OK;
    }
    n = pread(fd, held, sizeof(held) - 1, 0);
    close(fd);
    held[n > 0 ? n : 0] = '\0';
    pid = strtol(held, &sock, 10);
    sock += strspn(sock, "\n");
    sock[strcspn(sock, "\n")] = '\0';
    *strrchr(path, '/') = '\0';
    return hp_error_set(err, HP_E_CONFLICT,
                        "hero_proc_server pid %ld already uses data dir %s: connect to its "
                        "socket %s (nothing started at %s)",
                        pid, path, *sock ? sock : "(unknown)", socket_path);
}

/* Starts `server --socket path --daemon [--data-dir dir]` and waits for it to return
 * (--daemon returns once the socket listens). */
static hp_status spawn_server(const hp_factory_options *o, const char *socket_path, hp_error *err)
{
    char buf[PATH_MAX + 32];
    const char *server = find_server(o, buf, sizeof(buf));
    char *argv[8];
    int report[2], errs[2], status, n = 0, child_errno = 0;
    char said[512] = "";
    ssize_t got;
    pid_t pid;

    argv[n++] = (char *)(uintptr_t)server;
    argv[n++] = (char *)(uintptr_t) "--socket";
    argv[n++] = (char *)(uintptr_t)socket_path;
    argv[n++] = (char *)(uintptr_t) "--daemon";
    if (o->data_dir) {
        argv[n++] = (char *)(uintptr_t) "--data-dir";
        argv[n++] = (char *)(uintptr_t)o->data_dir;
    }
    argv[n] = NULL;
    if (pipe2(report, O_CLOEXEC) != 0)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "pipe");
    /* What the server says before it detaches, to pass on when it cannot start. */
    if (pipe2(errs, O_CLOEXEC) != 0) {
        close(report[0]);
        close(report[1]);
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "pipe");
    }
    pid = fork();
    if (pid < 0) {
        close(report[0]);
        close(report[1]);
        close(errs[0]);
        close(errs[1]);
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "fork");
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        /* The server must not hold our terminal or anything else of ours. */
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        dup2(errs[1], 2);
        dup2(report[1], 3);
        syscall(SYS_close_range, 4U, ~0U, 0U);
        fcntl(3, F_SETFD, FD_CLOEXEC);
        execvp(server, argv);
        child_errno = errno;
        if (write(3, &child_errno, sizeof(child_errno)) < 0)
            _exit(127);
        _exit(127);
    }
    close(report[1]);
    close(errs[1]);
    do
        got = read(report[0], &child_errno, sizeof(child_errno));
    while (got < 0 && errno == EINTR);
    close(report[0]);
    if (waitpid(pid, &status, 0) < 0) {
        close(errs[0]);
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "waitpid");
    }
    /* It has returned: what it wrote is in the pipe; do not wait for the daemon's end. */
    if (fcntl(errs[0], F_SETFL, O_NONBLOCK) == 0) {
        ssize_t k = read(errs[0], said, sizeof(said) - 1);
        char *last;
        said[k > 0 ? k : 0] = '\0';
        while (k > 0 && said[k - 1] == '\n')
            said[--k] = '\0';
        if ((last = strrchr(said, '\n')) != NULL) /* its last word says why it stopped */
            memmove(said, last + 1, strlen(last + 1) + 1);
    }
    close(errs[0]);
    if (got == (ssize_t)sizeof(child_errno))
        return hp_error_set_errno(err, HP_E_CONNECT, child_errno,
                                  "no hero_proc server at %s, and %s cannot be started",
                                  socket_path, server);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return hp_error_set(err, HP_E_CONNECT,
                            "no hero_proc server at %s, and %s exited with status %d "
                            "while starting%s%s",
                            socket_path, server, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                            said[0] ? ": " : "", said);
    return HP_OK;
}

hp_client *hp_factory_auto(const hp_factory_options *opts, hp_error *err)
{
    hp_factory_options none = {0};
    const hp_factory_options *o = opts ? opts : &none;
    hp_endpoint ep;
    hp_error ping_err;
    hp_client *c;
    long long deadline;

    hp_endpoint_flags flags = {.socket_path = o->socket_path,
                               .url = o->url,
                               .context = o->context,
                               .pin = o->pin,
                               .cacert = o->cacert};

    if (hp_endpoint_resolve_flags(&flags, &ep, err) != HP_OK)
        return NULL;
    if (ep.url) {
        hp_sdk_options so = {.url = ep.url,
                             .token = o->token ? o->token : ep.token,
                             .pin = ep.pin,
                             .cacert = ep.cacert,
                             .timeout_ms = o->timeout_ms};
        c = wrap(hp_sdk_new(&so, err), err);
        hp_endpoint_clear(&ep);
        return c;
    }
    {
        hp_sdk_options so = {.socket_path = ep.socket_path, .timeout_ms = o->timeout_ms};
        c = wrap(hp_sdk_new(&so, err), err);
    }
    if (!c) {
        hp_endpoint_clear(&ep);
        return NULL;
    }
    hp_error_clear(&ping_err);
    if (hp_sdk_ping(c->sdk, NULL, &ping_err) == HP_OK || ping_err.code != HP_E_CONNECT) {
        /* Answering, or failing for another reason than "nobody there": the caller
         * sees that reason on its first call. */
        hp_endpoint_clear(&ep);
        return c;
    }
    if (o->no_spawn) {
        /* Nobody there and nothing to be started: the ping's message names the socket. */
        if (err)
            *err = ping_err;
        hp_client_free(c);
        hp_endpoint_clear(&ep);
        return NULL;
    }
    if (data_dir_holder(o, ep.socket_path, err) != HP_OK ||
        spawn_server(o, ep.socket_path, err) != HP_OK) {
        hp_client_free(c);
        hp_endpoint_clear(&ep);
        return NULL;
    }
    deadline = now_ms() + (o->spawn_deadline_ms > 0 ? o->spawn_deadline_ms : 5000);
    while (hp_sdk_ping(c->sdk, NULL, &ping_err) != HP_OK) {
        if (now_ms() >= deadline) {
            hp_error_set(err, HP_E_CONNECT,
                         "started hero_proc_server on %s, but it does not "
                         "answer: %s",
                         ep.socket_path, ping_err.message);
            hp_client_free(c);
            hp_endpoint_clear(&ep);
            return NULL;
        }
        sleep_ms(POLL_MS);
    }
    c->started_server = 1;
    hp_endpoint_clear(&ep);
    return c;
}

/* ---- workflows -------------------------------------------------------------------- */

hp_status hp_client_service_start(hp_client *c, const char *name, int64_t *run_id, hp_error *err)
{
    hp_run *run = NULL;
    hp_status rc = hp_services_start(hp_client_sdk(c), name, &run, err);

    if (run_id)
        *run_id = rc == HP_OK ? run->id : 0;
    hp_run_free(run);
    return rc;
}

hp_status hp_client_service_stop(hp_client *c, const char *name, hp_error *err)
{
    return hp_services_stop(hp_client_sdk(c), name, NULL, err);
}

hp_status hp_client_service_restart(hp_client *c, const char *name, int keep_history,
                                    int64_t *run_id, hp_error *err)
{
    hp_run *run = NULL;
    hp_status rc = hp_services_restart(hp_client_sdk(c), name, keep_history, &run, err);

    if (run_id)
        *run_id = rc == HP_OK ? run->id : 0;
    hp_run_free(run);
    return rc;
}

hp_status hp_client_run_wait(hp_client *c, int64_t run_id, long timeout_ms, hp_run **out,
                             hp_error *err)
{
    long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;

    if (out)
        *out = NULL;
    for (;;) {
        long slice = WAIT_SLICE_MS;
        hp_error e;
        hp_status rc;
        if (deadline) {
            long long left = deadline - now_ms();
            slice = left <= 0 ? 0 : left < slice ? (long)left : slice;
        }
        hp_error_clear(&e);
        rc = hp_runs_wait(hp_client_sdk(c), run_id, slice, out, &e);
        if (rc == HP_OK)
            return HP_OK;
        if (rc != HP_E_TIMEOUT || (deadline && now_ms() >= deadline)) {
            if (err)
                *err = e;
            return rc;
        }
    }
}

const char *hp_client_run_status(hp_client *c, int64_t run_id, hp_error *err)
{
    static const char *const names[] = {"pending", "running", "succeeded", "failed", "cancelled"};
    hp_run *run = NULL;
    const char *s = NULL;

    if (hp_runs_get(hp_client_sdk(c), run_id, &run, err) != HP_OK)
        return NULL;
    if ((size_t)run->status < sizeof(names) / sizeof(names[0]))
        s = names[run->status];
    hp_run_free(run);
    return s ? s : "unknown";
}

static int cmp_seq(const void *a, const void *b)
{
    const hp_log_line *x = a, *y = b;

    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One page of every job's lines after *cursor, in one batch so that no line can slip
 * between two jobs' answers; delivered in seq order. Returns the number delivered, or
 * -1 (err set) or -2 (fn asked to stop). */
static long deliver_page(hp_client *c, const hp_run *run, int64_t *cursor, hp_log_fn fn, void *ud,
                         hp_error *err)
{
    hp_batch_call *calls = calloc(run->n_jobs ? run->n_jobs : 1, sizeof(*calls));
    hp_log_line *all = NULL;
    size_t n_all = 0;
    long delivered = 0;
    int64_t limit = INT64_MAX;

    if (!calls)
        return hp_error_set_code(err, HP_E_NOMEM), -1;
    for (size_t i = 0; i < run->n_jobs; i++) {
        calls[i].method = "job.logs";
        calls[i].params = cJSON_CreateObject();
        cJSON_AddNumberToObject(calls[i].params, "id", (double)run->jobs[i].id);
        cJSON_AddNumberToObject(calls[i].params, "after_seq", (double)*cursor);
        cJSON_AddNumberToObject(calls[i].params, "limit", LOG_PAGE);
    }
    if (run->n_jobs && hp_sdk_batch(hp_client_sdk(c), calls, run->n_jobs, err) != HP_OK) {
        delivered = -1;
        goto out;
    }
    for (size_t i = 0; i < run->n_jobs; i++) {
        hp_log_page *page = hp_log_page_from_json(calls[i].result, err);
        hp_log_line *grown;
        if (!page) {
            delivered = -1;
            goto out;
        }
        grown = realloc(all, (n_all + page->n_lines + 1) * sizeof(*all));
        if (!grown) {
            hp_log_page_free(page);
            delivered = -1;
            hp_error_set_code(err, HP_E_NOMEM);
            goto out;
        }
        all = grown;
        /* Move the lines out of the page: the page keeps an empty array to free. */
        memcpy(all + n_all, page->lines, page->n_lines * sizeof(*all));
        if (page->n_lines == LOG_PAGE && page->lines[LOG_PAGE - 1].seq < limit)
            limit = page->lines[LOG_PAGE - 1].seq;
        n_all += page->n_lines;
        page->n_lines = 0;
        hp_log_page_free(page);
    }
    /* A job whose page came back full may have more lines: everything after its last
     * line waits for the next page, so lines of other jobs never jump ahead of it. */
    qsort(all, n_all, sizeof(*all), cmp_seq);
    for (size_t i = 0; i < n_all; i++) {
        if (all[i].seq > limit)
            break;
        if (fn(ud, &all[i]) != 0) {
            *cursor = all[i].seq;
            delivered = -2;
            break;
        }
        delivered++;
        *cursor = all[i].seq;
    }
out:
    for (size_t i = 0; i < n_all; i++) {
        free(all[i].src);
        free(all[i].line);
    }
    free(all);
    for (size_t i = 0; i < run->n_jobs; i++) {
        cJSON_Delete(calls[i].params);
        cJSON_Delete(calls[i].result);
    }
    free(calls);
    return delivered;
}

hp_status hp_client_run_logs(hp_client *c, int64_t run_id, int64_t *cursor, int follow,
                             hp_log_fn fn, void *ud, hp_error *err)
{
    hp_error e; /* the failure's code is returned even when err is NULL */

    hp_error_clear(&e);
    for (;;) {
        hp_run *run = NULL;
        int ended;
        long got;

        if (hp_runs_get(hp_client_sdk(c), run_id, &run, &e) != HP_OK)
            break;
        ended = run->status != HP_RUN_PENDING && run->status != HP_RUN_RUNNING;
        got = deliver_page(c, run, cursor, fn, ud, &e);
        hp_run_free(run);
        if (got == -1)
            break;
        if (got == -2)
            return HP_OK;
        if (got > 0)
            continue; /* more may be waiting */
        if (!follow || ended)
            return HP_OK;
        sleep_ms(200);
    }
    if (err)
        *err = e;
    return e.code;
}
