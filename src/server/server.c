/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's lifetime: data dir and socket set-up (stale or live socket), the store
 * loaded into the model, crash recovery, the signalfd, the HTTP front, --daemon, and a
 * graceful stop on SIGTERM/SIGINT. It wires the others together: the supervisor's run
 * endings reach the methods' waiters through srv->on_run_ended. */
#include "config.h"

#include "server/holder.h"
#include "server/reexec.h"
#include "server/requires.h"
#include "server/auth.h"
#include "server/secretbox.h"
#include "server/server.h"
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_CANNOT_START = 111, ANSWER_MS = 2000 };

/* ---- loading the store ------------------------------------------------------------ */

static void load_service(void *ctx, const hpd_service *stored)
{
    hpd_server *srv = ctx;
    hpd_service *svc = calloc(1, sizeof(*svc));

    if (!svc)
        return;
    *svc = *stored;
    memset(&svc->config, 0, sizeof(svc->config));
    svc->config.name = strdup(stored->config.name);
    svc->config.description =
        stored->config.description ? strdup(stored->config.description) : NULL;
    svc->config.wanted_start = stored->config.wanted_start;
    svc->config.actions = calloc(stored->config.n_actions, sizeof(hp_action_spec));
    svc->pending_start = 0;
    if (!svc->config.name || !svc->config.actions) {
        hp_service_config_free(&svc->config);
        free(svc);
        return;
    }
    for (size_t i = 0; i < stored->config.n_actions; i++) {
        if (hp_action_spec_copy(&svc->config.actions[i], &stored->config.actions[i]) != 0)
            break;
        svc->config.n_actions++;
    }
    svc->config.requires = calloc(stored->config.n_requires + 1, sizeof(char *));
    for (size_t i = 0; svc->config.requires && i < stored->config.n_requires; i++) {
        svc->config.requires[i] = strdup(stored->config.requires[i]);
        if (!svc->config.requires[i])
            break;
        svc->config.n_requires++;
    }
    if (hpd_service_insert(srv, svc) != 0) {
        hp_service_config_free(&svc->config);
        free(svc);
    }
}

static void load_run(void *ctx, const hpd_run *stored)
{
    hpd_server *srv = ctx;
    hpd_run *run = calloc(1, sizeof(*run));

    if (!run)
        return;
    *run = *stored;
    run->srv = srv;
    run->name = strdup(stored->name);
    run->service = stored->service ? strdup(stored->service) : NULL;
    run->actions = calloc(stored->n_actions ? stored->n_actions : 1, sizeof(hp_action_spec));
    run->jobs = calloc(stored->n_actions ? stored->n_actions : 1, sizeof(hpd_job *));
    run->waiters = NULL;
    run->n_actions = 0;
    if (run->name && run->actions && run->jobs)
        for (size_t i = 0; i < stored->n_actions; i++) {
            if (hp_action_spec_copy(&run->actions[i], &stored->actions[i]) != 0)
                break;
            run->n_actions++;
        }
    hpd_run_link(srv, run);
    if (run->id >= srv->next_run_id)
        srv->next_run_id = run->id + 1;
}

static void load_job(void *ctx, int64_t run_id, const hpd_job *stored)
{
    hpd_server *srv = ctx;
    hpd_run *run = hpd_run_find(srv, run_id);
    hpd_job *job;

    if (stored->id >= srv->next_job_id)
        srv->next_job_id = stored->id + 1;
    if (!run || stored->index >= run->n_actions || run->jobs[stored->index])
        return;
    job = calloc(1, sizeof(*job));
    if (!job)
        return;
    *job = *stored;
    job->run = run;
    job->error = stored->error ? strdup(stored->error) : NULL;
    job->pidfd = -1;
    job->out[0] = (hpd_linebuf){.fd = -1};
    job->out[1] = (hpd_linebuf){.fd = -1};
    job->timer = job->kill_timer = job->drain_timer = 0;
    run->jobs[stored->index] = job;
}

/* Runs whose jobs did not all load (a damaged store) are dropped rather than half-kept. */
static void drop_incomplete_runs(hpd_server *srv)
{
    hpd_run *run, *next;

    for (run = srv->runs_head; run; run = next) {
        int complete = run->n_actions > 0;
        next = run->next;
        for (size_t i = 0; complete && i < run->n_actions; i++)
            complete = run->jobs[i] != NULL;
        if (!complete) {
            hpd_log(srv, 1, "dropping run %lld: its jobs are missing from the store",
                    (long long)run->id);
            hpd_run_delete(srv, run);
        }
    }
}

/* ---- set-up ----------------------------------------------------------------------- */

static char *join(const char *a, const char *b)
{
    size_t len = strlen(a) + strlen(b) + 2;
    char *s = malloc(len);

    if (s)
        snprintf(s, len, "%s/%s", a, b);
    return s;
}

/* mkdir -p with mode for the directories it creates. */
static int make_dirs(const char *path, mode_t mode)
{
    char buf[4096];
    size_t len = strlen(path);

    if (len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static char *default_socket_path(void)
{
    const char *dir = getenv("PATH_SOCKET");
    const char *home = getenv("HOME");
    char buf[4096];

    if (dir && *dir)
        snprintf(buf, sizeof(buf), "%s/hero_proc/rpc.sock", dir);
    else if ((dir = getenv("HERO_SOCKET_DIR")) && *dir)
        snprintf(buf, sizeof(buf), "%s/hero_proc/rpc.sock", dir);
    else
        snprintf(buf, sizeof(buf), "%s/hero/var/sockets/hero_proc/rpc.sock",
                 home && *home ? home : "/tmp");
    return strdup(buf);
}

/* 1 when a server answers connections on path. */
/* 1 when the server connected on fd answers a health check within ANSWER_MS. A socket
 * that takes connections and never answers is not a server (a process that inherited a
 * dead server's listening socket, or a hung one): it is replaced. */
static int answers(int fd)
{
    static const char ask[] = "GET /health HTTP/1.0\r\n\r\n";
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;

    if (send(fd, ask, sizeof(ask) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(ask) - 1)
        return 0;
    return poll(&p, 1, ANSWER_MS) == 1 && recv(fd, &c, 1, 0) == 1;
}

/* 1 when a server answers on the socket at path, 2 when the socket takes connections
 * and nothing answers (bind_socket replaces it once the data dir's lock is ours: a hung
 * server holding it keeps its socket), 0 when nothing listens. */
static int socket_in_use(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd, live = 0;

    if (strlen(path) >= sizeof(addr.sun_path))
        return 0;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
        live = answers(fd) ? 1 : 2;
    close(fd);
    return live;
}

/* Binds the Unix socket: refuses a live server's socket, replaces a stale one, and a
 * silent one (socket_in_use said 2: it took a connection and did not answer). Returns the
 * listening fd or -1 with err. */
static int bind_socket(const char *path, int silent, hp_error *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    char dir[sizeof(addr.sun_path)];
    char *slash;
    int fd;
    mode_t old;

    if (strlen(path) >= sizeof(addr.sun_path))
        return hp_error_set(err, HP_E_USAGE, "socket path too long (%zu bytes at most): %s",
                            sizeof(addr.sun_path) - 1, path),
               -1;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    memcpy(dir, path, strlen(path) + 1);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        struct stat st;
        *slash = '\0';
        if (stat(dir, &st) != 0) {
            if (make_dirs(dir, 0700) != 0)
                return hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot create %s", dir), -1;
        }
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "socket"), -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
        if (!silent) {
            close(fd);
            return hp_error_set(err, HP_E_CONFLICT,
                                "another hero_proc_server is already listening on %s", path),
                   -1;
        }
        fprintf(stderr,
                "hero_proc_server: %s took a connection but nothing answered in %d ms: "
                "replacing it\n",
                path, ANSWER_MS);
        unlink(path);
    } else if (errno == ECONNREFUSED) {
        unlink(path); /* left by a server that died */
    } else if (errno != ENOENT) {
        int e = errno;
        close(fd);
        return hp_error_set_errno(err, HP_E_SYSTEM, e, "cannot check %s", path), -1;
    }
    close(fd);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "socket"), -1;
    old = umask(0177);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int e = errno;
        umask(old);
        close(fd);
        return hp_error_set_errno(err, HP_E_SYSTEM, e, "cannot bind %s", path), -1;
    }
    umask(old);
    chmod(path, 0600);
    if (listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return hp_error_set_errno(err, HP_E_SYSTEM, e, "cannot listen on %s", path), -1;
    }
    return fd;
}

/* One daemon per data dir: an flock on <data-dir>/lock, held for the process lifetime
 * (O_CLOEXEC: jobs do not inherit it). The file holds the holder's pid and socket, so a
 * second server, or a dashboard about to start one, can name them. Returns the fd, or -1
 * after saying why on stderr. */
static int lock_data_dir(const char *data_dir)
{
    char *path = join(data_dir, "lock");
    char held[512];
    int fd = -1;

    if (!path) {
        fprintf(stderr, "hero_proc_server: out of memory\n");
        return -1;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, "hero_proc_server: cannot open %s: %s\n", path, strerror(errno));
        goto fail;
    }
    /* A dashboard probing the lock holds it for an instant: a few tries before giving up. */
    for (int tries = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; tries++) {
        ssize_t n;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            fprintf(stderr, "hero_proc_server: cannot lock %s: %s\n", path, strerror(errno));
            goto fail;
        }
        if (tries < 10) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        n = pread(fd, held, sizeof(held) - 1, 0);
        held[n > 0 ? n : 0] = '\0';
        held[strcspn(held, "\n")] = '\0';
        fprintf(stderr, "hero_proc_server: data dir %s is in use by hero_proc_server pid %s\n",
                data_dir, held[0] ? held : "(unknown)");
        goto fail;
    }
    free(path);
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    free(path);
    return -1;
}

/* Writes our pid and socket into the lock file (again after --daemon forked). */
static void write_lock_owner(int fd, const char *socket_path)
{
    char buf[4200];
    int len = snprintf(buf, sizeof(buf), "%ld\n%s\n", (long)getpid(), socket_path);

    if (len < 0 || (size_t)len >= sizeof(buf) || ftruncate(fd, 0) != 0 ||
        pwrite(fd, buf, (size_t)len, 0) != len)
        fprintf(stderr, "hero_proc_server: cannot write the pid into the data dir's lock: %s\n",
                strerror(errno));
}

/* The bearer token for TCP: <data-dir>/token, created 0600 with 32 random bytes. */
static char *load_token(const char *data_dir, hp_error *err)
{
    char *path = join(data_dir, "token");
    char buf[128];
    unsigned char raw[32];
    ssize_t n;
    int fd;

    if (!path) {
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n > 0) {
            buf[n] = '\0';
            buf[strcspn(buf, "\r\n")] = '\0';
            free(path);
            return strdup(buf);
        }
    }
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        hp_error_set_errno(err, HP_E_SYSTEM, errno, "getrandom");
        free(path);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(buf + 2 * i, 3, "%02x", raw[i]);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, buf, 64) != 64 || write(fd, "\n", 1) != 1) {
        hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot write %s", path);
        if (fd >= 0)
            close(fd);
        free(path);
        return NULL;
    }
    close(fd);
    free(path);
    return strdup(buf);
}

/* ---- signals and shutdown --------------------------------------------------------- */

static void on_shutdown_deadline(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;

    (void)id;
    hpd_log(srv, 1, "processes still running after the grace period; exiting");
    hpd_loop_stop(loop);
}

static void check_stopped(hpd_server *srv)
{
    if (srv->stopping && !hpd_stop_all(srv))
        hpd_loop_stop(srv->loop);
}

static void on_signal(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    hpd_server *srv = data;
    struct signalfd_siginfo si;

    (void)events;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            hpd_reap(srv);
        } else if (si.ssi_signo == SIGHUP) {
            hp_error err;
            /* An in-place upgrade: the binary on disk takes over, the jobs run on. */
            if (hpd_reexec_request(srv, &err) != HP_OK)
                hpd_log(srv, 0, "SIGHUP: %s", err.message);
        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            if (!srv->stopping) {
                hpd_log(srv, 2, "stopping on %s", strsignal((int)si.ssi_signo));
                srv->stopping = 1;
                hpd_loop_timer(loop, srv->opt.kill_grace_ms + 2000, on_shutdown_deadline, srv);
            }
        }
    }
    check_stopped(srv);
}

/* The new run's jobs go on counting from the run the last daemon left (a crash ended it):
 * restart counts and crash_loop never go back because the daemon was restarted. */
static void carry_counts(hpd_server *srv, const hpd_run *from, hpd_run *to)
{
    for (size_t i = 0; from && i < to->n_actions; i++)
        for (size_t j = 0; j < from->n_actions; j++) {
            const hpd_job *old = from->jobs[j];
            hpd_job *job = to->jobs[i];
            if (strcmp(from->actions[j].name, to->actions[i].name) != 0)
                continue;
            job->restarts += old->restarts;
            job->crash_loop |= old->crash_loop;
            hpd_save_job(srv, job);
        }
}

/* What a service requires starts first (hpd_requires_order), so each run found here is
 * the one the last daemon left, not one this loop just started for a dependant. */
static void start_wanted_services(hpd_server *srv)
{
    hpd_service **order = hpd_requires_order(srv);

    for (size_t i = 0; i < srv->n_services; i++) {
        hpd_service *svc = order ? order[i] : srv->services[i];
        hpd_run *before = hpd_service_run(srv, svc), *run;
        hp_error err;
        /* A run the recovery kept (re-adopted, or waiting out a back-off) goes on as it
         * was: a start here would cut its back-off short as a start by hand does. */
        if (!svc->wanted_start || (before && hpd_run_active(before)))
            continue;
        run = hpd_service_start(srv, svc, &err);
        if (!run)
            hpd_log(srv, 0, "cannot start service %s: %s", svc->config.name, err.message);
        else if (run != before)
            carry_counts(srv, before, run);
    }
    free(order);
}

static void free_model(hpd_server *srv)
{
    free(srv->by_id);
    srv->by_id = NULL;
    while (srv->runs_head) {
        hpd_run *run = srv->runs_head;
        srv->runs_head = run->next;
        hpd_run_free(run);
    }
    for (size_t i = 0; i < srv->n_services; i++) {
        hp_service_config_free(&srv->services[i]->config);
        free(srv->services[i]);
    }
    free(srv->services);
}

static void daemonize(void)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0) {
        fprintf(stderr, "hero_proc_server: cannot fork: %s\n", strerror(errno));
        _exit(EXIT_CANNOT_START);
    }
    if (pid > 0)
        _exit(0);
    setsid();
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
}

/* Plain HTTP is readable on the wire: off the loopback only with TLS or when asked. */
static int remote_ok(const hpd_options *opt)
{
    return opt->tls_cert || opt->tls_self_signed || opt->insecure_http;
}

int hpd_server_main(const hpd_options *opt)
{
    hpd_server srv = {.opt = *opt,
                      .sigfd = -1,
                      .lock_fd = -1,
                      .next_run_id = 1,
                      .next_job_id = 1,
                      .on_run_ended = hpd_waiters_fire};
    hpd_store_limits limits = {.log_bytes_per_job = opt->log_bytes_per_job,
                               .log_bytes = opt->log_bytes};
    hpd_http_options hopt = {.max_body = opt->max_body,
                             .max_connections = opt->max_connections,
                             .request_timeout_ms = opt->request_timeout_ms};
    hp_error err;
    sigset_t mask;
    char *token = NULL;
    hpd_tls tls = {0};
    int listen_fd = -1, rc = EXIT_CANNOT_START, socket_state = 0;
    const char *home = getenv("HOME");

    hp_error_clear(&err);
    srv.started_at_ms = hpd_now_ms();
    if (opt->data_dir)
        srv.data_dir = strdup(opt->data_dir);
    else
        srv.data_dir = join(home && *home ? home : "/tmp", "hero/var/hero_proc");
    srv.socket_path = opt->socket_path ? strdup(opt->socket_path) : default_socket_path();
    if (!srv.data_dir || !srv.socket_path)
        goto out;
    if (opt->resume_fd > 0 && hpd_reexec_resume(&srv, opt->resume_fd, &listen_fd, &err) != HP_OK) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    if (opt->http_addr) {
        struct sockaddr_storage ss;
        if (hpd_parse_listen_addr(opt->http_addr, remote_ok(opt), &ss, &err) != HP_OK) {
            fprintf(stderr, "hero_proc_server: %s\n", err.message);
            rc = 100;
            goto out;
        }
    }
    if (!opt->resume_fd && (socket_state = socket_in_use(srv.socket_path)) == 1) {
        fprintf(stderr, "hero_proc_server: another hero_proc_server is already listening on %s\n",
                srv.socket_path);
        goto out;
    }
    if (make_dirs(srv.data_dir, 0700) != 0 || access(srv.data_dir, W_OK) != 0) {
        fprintf(stderr, "hero_proc_server: data dir %s is not writable: %s\n", srv.data_dir,
                strerror(errno));
        goto out;
    }
    if (!opt->resume_fd) /* else the lock was kept across the exec */
        srv.lock_fd = lock_data_dir(srv.data_dir);
    if (srv.lock_fd < 0)
        goto out;
    write_lock_owner(srv.lock_fd, srv.socket_path);
    /* Before --daemon detaches: a bad certificate is reported, and the pin printed, on
     * the terminal that started us. */
    if ((opt->tls_cert || opt->tls_self_signed) &&
        hpd_tls_load(opt->tls_cert, opt->tls_key, srv.data_dir, &tls, &err) != HP_OK) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    if (opt->tls_self_signed) {
        printf("TLS public-key pin: %s\n", tls.pin);
        fflush(stdout);
    } else if (tls.pin) {
        hpd_log(&srv, 2, "TLS with %s; its public-key pin is %s", opt->tls_cert, tls.pin);
    }
    srv.secrets_key =
        opt->secrets_key ? strdup(opt->secrets_key) : join(srv.data_dir, "secrets.key");
    if (!srv.secrets_key)
        goto out;
    srv.store = hpd_store_open(srv.data_dir, &limits, &err);
    if (!srv.store) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    {
        int64_t migrated = 0;
        if (hpd_secrets_prepare(srv.store, srv.secrets_key, &srv.secrets, &migrated, &err) != 0) {
            fprintf(stderr, "hero_proc_server: %s\n", err.message);
            goto out;
        }
        if (migrated)
            hpd_log(&srv, 2, "sealed %lld plaintext secrets under %s", (long long)migrated,
                    srv.secrets_key);
    }
    srv.rev = hpd_store_get_meta(srv.store, "rev", 0) + 1;
    if (hpd_store_load(srv.store, &srv, load_service, load_run, load_job, &err) != 0) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    drop_incomplete_runs(&srv);
    if (!opt->resume_fd)
        listen_fd = bind_socket(srv.socket_path, socket_state == 2, &err);
    if (listen_fd < 0) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    if (opt->daemonize) {
        daemonize(); /* the lock's open file is shared: the process that stays holds it */
        write_lock_owner(srv.lock_fd, srv.socket_path);
    }

    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit is a write error, not death */
    srv.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    srv.loop = hpd_loop_new();
    if (srv.sigfd < 0 || !srv.loop ||
        hpd_loop_watch(srv.loop, srv.sigfd, EPOLLIN, on_signal, &srv) != 0) {
        fprintf(stderr, "hero_proc_server: cannot set up the event loop: %s\n", strerror(errno));
        goto out;
    }
    if (hpd_events_init(&srv, opt->events_ring ? opt->events_ring : 4096) != 0) {
        fprintf(stderr, "hero_proc_server: out of memory for the events\n");
        goto out;
    }
    if (hpd_supervisor_init(&srv, &err) != HP_OK) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    hpd_holder_connect(&srv);
    if (opt->resume_fd) {
        hpd_reexec_adopt(&srv);
        hpd_holder_after_reexec(&srv);
    } else {
        hpd_recover(&srv);
    }

    if (opt->http_addr && !(token = load_token(srv.data_dir, &err))) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    srv.auth = hpd_auth_new(srv.store, hpd_openrpc_json,
                            (size_t)(hpd_openrpc_json_end - hpd_openrpc_json), &err);
    if (!srv.auth) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    hopt.auth = srv.auth;
    hopt.token = token;
    hopt.tls_cert = tls.cert_pem;
    hopt.tls_key = tls.key_pem;
    hopt.openrpc = hpd_openrpc_json;
    hopt.openrpc_len = (size_t)(hpd_openrpc_json_end - hpd_openrpc_json);
    srv.http = hpd_http_new(&srv, srv.loop, hpd_methods, &hopt, &err);
    if (hpd_reexec_init(&srv, listen_fd) != 0)
        hpd_log(&srv, 1, "the binary's path is unknown: SIGHUP and system.reexec will fail");
    if (!srv.http || hpd_http_serve_unix(srv.http, listen_fd, &err) != HP_OK) {
        listen_fd = -1;
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        goto out;
    }
    listen_fd = -1;
    if (opt->http_addr && hpd_http_serve_tcp_kept(srv.http, opt->http_addr, remote_ok(opt),
                                                  hpd_reexec_take_tcp(&srv), &err) != HP_OK) {
        fprintf(stderr, "hero_proc_server: %s\n", err.message);
        rc = err.code == HP_E_USAGE ? 100 : EXIT_CANNOT_START;
        goto out;
    }
    hpd_log(&srv, 2, "listening on %s (data in %s)", srv.socket_path, srv.data_dir);
    hpd_reexec_serve(&srv);
    srv.store_ok = 1;
    if (hpd_store_live(srv.store, &err) != 0)
        hpd_log(&srv, 1, "%s; checkpoints run inside commits", err.message);
    if (!opt->resume_fd) /* after a re-exec every service is as the old image left it */
        start_wanted_services(&srv);
    if (hpd_loop_run(srv.loop) != 0)
        hpd_log(&srv, 0, "event loop failed: %s", strerror(errno));
    hpd_stop_all(&srv);
    rc = 0;
out:
    if (rc != 0 && opt->resume_fd)
        hpd_reexec_fallback(&srv); /* returns only when the old image cannot be run */
    hpd_holder_quit(&srv);
    hpd_supervisor_fini(&srv);
    hpd_reexec_free(&srv);
    if (srv.store) {
        hpd_store_health h;

        hpd_store_set_meta(srv.store, "rev", srv.rev);
        hpd_store_drain(srv.store);
        hpd_store_health_get(srv.store, &h);
        if (h.pending > 0)
            hpd_log(&srv, 0, "store: %lld changes and log lines could not be written: %s",
                    (long long)h.pending, h.error);
    }
    /* The parked events.wait calls are answered (resumed) before the HTTP front stops:
     * libmicrohttpd aborts when stopped with a connection still suspended. */
    hpd_events_free(&srv);
    hpd_http_free(srv.http);
    hpd_auth_free(srv.auth);
    if (listen_fd >= 0)
        close(listen_fd);
    if (rc == 0 || srv.http)
        unlink(srv.socket_path);
    hpd_store_close(srv.store);
    free_model(&srv);
    if (srv.sigfd >= 0)
        close(srv.sigfd);
    hpd_loop_free(srv.loop);
    free(token);
    hpd_tls_clear(&tls);
    hpd_secretbox_free(srv.secrets);
    free(srv.secrets_key);
    if (srv.lock_fd >= 0)
        close(srv.lock_fd); /* the lock goes with it; the file stays for the next start */
    free(srv.data_dir);
    free(srv.socket_path);
    return rc;
}
