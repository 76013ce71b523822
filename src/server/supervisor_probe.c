/* SPDX-License-Identifier: Apache-2.0 */
/* Health probes, a piece of the supervisor (probe.h): one state per probed job with its
 * timer, the exec probe's process or the libcurl handle of a tcp/http probe, and the
 * failures in a row that turn into the job's health. libcurl runs in multi-socket mode: its
 * sockets and its timer are the loop's, so a probe never blocks the daemon (names resolve in
 * libcurl's resolver, not in the loop). libcurl is opened at the first tcp or http probe. */
#include "config.h"

#include "server/probe.h"
#include "server/supervisor_int.h"

#define CURL_DISABLE_TYPECHECK /* its checks are macros named as the functions below */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>

typedef struct hpd_probe_run {
    hpd_server *srv;
    hpd_job *job;
    uint64_t timer; /* the next probe, or the exec probe's timeout */
    pid_t pid;      /* exec probe in flight (its own process group), else 0 */
    CURL *easy;     /* tcp or http probe in flight, else NULL */
    char curl_error[CURL_ERROR_SIZE];
    int failures; /* in a row */
    struct hpd_probe_run *prev, *next;
} hpd_probe_run;

/* The daemon's probes: one libcurl multi handle for all of them and the list of states,
 * which an exec probe's reap is matched against. */
struct hpd_probes {
    CURLM *multi;
    uint64_t curl_timer;
    hpd_probe_run *head;
};

static const char *const health_names[] = {"unknown", "healthy", "unhealthy"};

/* libcurl is not linked but opened when a tcp or http probe first runs: its thirty-odd
 * libraries cost every start about 14 ms of CPU, a third of an in-place upgrade's pause,
 * for daemons that mostly probe nothing or by exec. */
#define CURL_API(X)                                                                                \
    X(CURLcode, curl_global_init, (long))                                                          \
    X(void, curl_global_cleanup, (void))                                                           \
    X(CURL *, curl_easy_init, (void))                                                              \
    X(CURLcode, curl_easy_setopt, (CURL *, CURLoption, ...))                                       \
    X(CURLcode, curl_easy_getinfo, (CURL *, CURLINFO, ...))                                        \
    X(void, curl_easy_cleanup, (CURL *))                                                           \
    X(const char *, curl_easy_strerror, (CURLcode))                                                \
    X(CURLM *, curl_multi_init, (void))                                                            \
    X(CURLMcode, curl_multi_setopt, (CURLM *, CURLMoption, ...))                                   \
    X(CURLMcode, curl_multi_add_handle, (CURLM *, CURL *))                                         \
    X(CURLMcode, curl_multi_remove_handle, (CURLM *, CURL *))                                      \
    X(CURLMcode, curl_multi_socket_action, (CURLM *, curl_socket_t, int, int *))                   \
    X(CURLMsg *, curl_multi_info_read, (CURLM *, int *))                                           \
    X(CURLMcode, curl_multi_cleanup, (CURLM *))

static struct {
#define CURL_FIELD(ret, name, args) ret(*p_##name) args;
    CURL_API(CURL_FIELD)
#undef CURL_FIELD
} lib;

/* 0 once libcurl is open (it stays open), -1 when it cannot be (probes then fail). */
static int curl_load(void)
{
    static int state; /* 0 not tried, 1 open, -1 failed */
    void *h, *sym;

    if (state)
        return state > 0 ? 0 : -1;
    state = -1;
    h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return -1;
#define CURL_LOAD(ret, name, args)                                                                 \
    if (!(sym = dlsym(h, #name)))                                                                  \
        return -1;                                                                                 \
    memcpy(&lib.p_##name, &sym, sizeof(sym));
    CURL_API(CURL_LOAD)
#undef CURL_LOAD
    state = 1;
    return 0;
}

/* curl.h names these three as macros (of themselves) too. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init         (*lib.p_curl_global_init)
#define curl_global_cleanup      (*lib.p_curl_global_cleanup)
#define curl_easy_init           (*lib.p_curl_easy_init)
#define curl_easy_setopt         (*lib.p_curl_easy_setopt)
#define curl_easy_getinfo        (*lib.p_curl_easy_getinfo)
#define curl_easy_cleanup        (*lib.p_curl_easy_cleanup)
#define curl_easy_strerror       (*lib.p_curl_easy_strerror)
#define curl_multi_init          (*lib.p_curl_multi_init)
#define curl_multi_setopt        (*lib.p_curl_multi_setopt)
#define curl_multi_add_handle    (*lib.p_curl_multi_add_handle)
#define curl_multi_remove_handle (*lib.p_curl_multi_remove_handle)
#define curl_multi_socket_action (*lib.p_curl_multi_socket_action)
#define curl_multi_info_read     (*lib.p_curl_multi_info_read)
#define curl_multi_cleanup       (*lib.p_curl_multi_cleanup)

const char *hpd_health_name(int health)
{
    return health >= 0 && health <= HPD_HEALTH_UNHEALTHY ? health_names[health] : "unknown";
}

static const hp_probe *probe_of(const hpd_job *job)
{
    return &job->run->actions[job->index].probe;
}

int hpd_probe_job_ready(const hpd_job *job)
{
    return job->status == HPD_JOB_RUNNING &&
           (probe_of(job)->kind == HP_PROBE_NONE || job->health == HPD_HEALTH_HEALTHY);
}

static void schedule(hpd_probe_run *st, uint64_t delay_ms);

/* ---- the verdict ------------------------------------------------------------------ */

static void set_detail(hpd_job *job, const char *detail)
{
    char *copy = strdup(detail);

    if (!copy)
        return;
    free(job->health_detail);
    job->health_detail = copy;
    for (char *p = copy; *p; p++) /* one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* One probe ended. A success makes the job healthy; retries failures in a row make it
 * unhealthy, and with on_unhealthy "restart" stop its group for the restart policy. */
static void probe_result(hpd_probe_run *st, int ok, const char *detail)
{
    hpd_server *srv = st->srv;
    hpd_job *job = st->job;
    const hp_action_spec *a = &job->run->actions[job->index];
    int was = job->health;

    if (ok) {
        st->failures = 0;
        job->health = HPD_HEALTH_HEALTHY;
    } else {
        set_detail(job, detail);
        if (++st->failures >= a->probe.retries)
            job->health = HPD_HEALTH_UNHEALTHY;
    }
    if (job->health != was) {
        hpd_changed(srv);
        if (ok) {
            hpd_job_syslog(srv, job, "health: healthy");
            hpd_event_emit(srv, HPD_EV_JOB_HEALTHY, job->run, job, "healthy");
        } else {
            hpd_job_syslog(srv, job, "health: unhealthy after %d failed probes (%s)", st->failures,
                           job->health_detail ? job->health_detail : "");
            hpd_event_emit(srv, HPD_EV_JOB_UNHEALTHY, job->run, job, "unhealthy: %s",
                           job->health_detail ? job->health_detail : "");
        }
    } else if (!ok) {
        hpd_changed(srv); /* the detail changed */
    }
    if (job->health == HPD_HEALTH_UNHEALTHY && was != HPD_HEALTH_UNHEALTHY &&
        a->on_unhealthy_restart && job->pid > 0 && !job->reaped) {
        hpd_job_syslog(srv, job, "on_unhealthy restart: stopping pid %d", (int)job->pid);
        hpd__stop_job(srv, job, HPD_JOB_PENDING); /* no final state: the policy restarts it */
        return;
    }
    schedule(st, (uint64_t)a->probe.interval_ms);
    /* Last: a dependant waiting for this job may start now (and the run may change). */
    if (job->health == HPD_HEALTH_HEALTHY && was != HPD_HEALTH_HEALTHY)
        hpd__schedule(srv, job->run);
}

/* ---- exec probes ------------------------------------------------------------------ */

static void on_exec_timeout(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_probe_run *st = data;
    char detail[64];

    (void)loop;
    (void)id;
    st->timer = 0;
    if (st->pid <= 0)
        return;
    /* The whole group: a shell's children go with it. The zombie is reaped by hpd_reap. */
    kill(-st->pid, SIGKILL);
    st->pid = 0;
    snprintf(detail, sizeof(detail), "timed out after %ld ms", probe_of(st->job)->timeout_ms);
    probe_result(st, 0, detail);
}

/* Spawned like the job (hpd__spawn_probe: a new session, in the job's cgroup), stdio on
 * /dev/null, the action's cwd and the job's own environment (its secrets and marker). */
static void start_exec(hpd_probe_run *st)
{
    hpd_job *job = st->job;
    const hp_action_spec *a = &job->run->actions[job->index];
    char why[512] = "", **argv = NULL, **envp = NULL;
    hp_error err;
    pid_t pid;

    argv = hp_split_command(a->probe.target, &err);
    if (!argv) {
        snprintf(why, sizeof(why), "probe exec: %s", err.message);
        goto out;
    }
    envp = hpd__job_env(st->srv, job, why, sizeof(why));
    if (!envp)
        goto out;
    pid = hpd__spawn_probe(st->srv, job, a->cwd, argv, envp, why, sizeof(why));
    if (pid < 0)
        goto out;
    st->pid = pid;
    st->timer = hpd_loop_timer(st->srv->loop, (uint64_t)a->probe.timeout_ms, on_exec_timeout, st);
out:
    hp_argv_free(argv);
    hpd__job_env_free(envp);
    if (why[0])
        probe_result(st, 0, why);
}

int hpd_probe_reaped(hpd_server *srv, pid_t pid, int status)
{
    hpd_probe_run *st;
    char detail[64];

    if (!srv->probes || pid <= 0)
        return 0;
    for (st = srv->probes->head; st && st->pid != pid; st = st->next)
        ;
    if (!st)
        return 0;
    st->pid = 0;
    hpd_loop_timer_cancel(srv->loop, st->timer);
    st->timer = 0;
    if (WIFEXITED(status))
        snprintf(detail, sizeof(detail), "exit %d", WEXITSTATUS(status));
    else
        snprintf(detail, sizeof(detail), "killed by signal %d", WTERMSIG(status));
    /* The group may hold what the probe left behind: it goes with the probe. */
    kill(-pid, SIGKILL);
    probe_result(st, WIFEXITED(status) && WEXITSTATUS(status) == 0, detail);
    return 1;
}

/* ---- tcp and http probes: libcurl on the loop ------------------------------------- */

static void check_done(hpd_server *srv)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(srv->probes->multi, &left)) != NULL) {
        hpd_probe_run *st = NULL;
        CURLcode rc = msg->data.result;
        long code = 0;
        char detail[CURL_ERROR_SIZE + 64];
        int ok;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&st);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        if (rc != CURLE_OK)
            snprintf(detail, sizeof(detail), "%s",
                     st->curl_error[0] ? st->curl_error : curl_easy_strerror(rc));
        else
            snprintf(detail, sizeof(detail), "HTTP %ld", code);
        ok = rc == CURLE_OK && (probe_of(st->job)->kind == HP_PROBE_TCP || code / 100 == 2);
        curl_multi_remove_handle(srv->probes->multi, st->easy);
        curl_easy_cleanup(st->easy);
        st->easy = NULL;
        probe_result(st, ok, detail);
    }
}

static void on_curl_fd(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    hpd_server *srv = data;
    int running, mask = 0;

    (void)loop;
    if (events & EPOLLIN)
        mask |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        mask |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        mask |= CURL_CSELECT_ERR;
    curl_multi_socket_action(srv->probes->multi, fd, mask, &running);
    check_done(srv);
}

static void on_curl_timeout(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;
    int running;

    (void)loop;
    (void)id;
    srv->probes->curl_timer = 0;
    curl_multi_socket_action(srv->probes->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(srv);
}

static int curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    hpd_server *srv = userp;
    uint32_t events = 0;

    (void)easy;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        hpd_loop_unwatch(srv->loop, s);
        return 0;
    }
    if (what & CURL_POLL_IN)
        events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        events |= EPOLLOUT;
    return hpd_loop_watch(srv->loop, s, events, on_curl_fd, srv) == 0 ? 0 : -1;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    hpd_server *srv = userp;

    (void)multi;
    hpd_loop_timer_cancel(srv->loop, srv->probes->curl_timer);
    srv->probes->curl_timer = 0;
    if (timeout_ms >= 0) {
        srv->probes->curl_timer =
            hpd_loop_timer(srv->loop, (uint64_t)timeout_ms, on_curl_timeout, srv);
        if (!srv->probes->curl_timer)
            return -1;
    }
    return 0;
}

/* tcp: libcurl connects and stops there (CONNECT_ONLY); http: a GET whose body is dropped.
 * Never through a proxy from the environment: the probe is about the service itself. */
static size_t drop_body(char *ptr, size_t size, size_t n, void *data)
{
    (void)ptr;
    (void)data;
    return size * n;
}

static void start_curl(hpd_probe_run *st)
{
    const hp_probe *p = probe_of(st->job);
    char url[2048];
    CURL *e;

    e = curl_easy_init();
    if (!e) {
        probe_result(st, 0, "out of memory");
        return;
    }
    if (p->kind == HP_PROBE_TCP) {
        snprintf(url, sizeof(url), "http://%s/", p->target);
        curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    } else {
        snprintf(url, sizeof(url), "%s", p->target);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, drop_body);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "hero_proc probe");
    }
    st->curl_error[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, st->curl_error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, st);
    if (curl_multi_add_handle(st->srv->probes->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        probe_result(st, 0, "cannot start the probe");
        return;
    }
    st->easy = e;
}

/* libcurl's global state once, and the multi handle the loop drives. */
static int probes_init(hpd_server *srv)
{
    struct hpd_probes *ps;

    if (srv->probes)
        return 0;
    if (curl_load() != 0) {
        hpd_log(srv, 0, "probes: cannot open libcurl.so.4: %s", dlerror());
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    ps = calloc(1, sizeof(*ps));
    if (!ps || !(ps->multi = curl_multi_init())) {
        free(ps);
        curl_global_cleanup();
        return -1;
    }
    curl_multi_setopt(ps->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(ps->multi, CURLMOPT_SOCKETDATA, srv);
    curl_multi_setopt(ps->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(ps->multi, CURLMOPT_TIMERDATA, srv);
    srv->probes = ps;
    return 0;
}

/* ---- the cycle -------------------------------------------------------------------- */

static void on_probe_due(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_probe_run *st = data;

    (void)loop;
    (void)id;
    st->timer = 0;
    if (st->job->status != HPD_JOB_RUNNING || st->job->reaped)
        return;
    if (probe_of(st->job)->kind == HP_PROBE_EXEC)
        start_exec(st);
    else
        start_curl(st);
}

static void schedule(hpd_probe_run *st, uint64_t delay_ms)
{
    hpd_loop_timer_cancel(st->srv->loop, st->timer);
    st->timer = hpd_loop_timer(st->srv->loop, delay_ms, on_probe_due, st);
}

/* Whatever is in flight is dropped: an exec probe's group killed (hpd_reap takes the
 * zombie), a libcurl handle removed. */
static void cancel(hpd_probe_run *st)
{
    hpd_loop_timer_cancel(st->srv->loop, st->timer);
    st->timer = 0;
    if (st->pid > 0)
        kill(-st->pid, SIGKILL);
    st->pid = 0;
    if (st->easy) {
        curl_multi_remove_handle(st->srv->probes->multi, st->easy);
        curl_easy_cleanup(st->easy);
        st->easy = NULL;
    }
}

void hpd_probe_job_started(hpd_server *srv, hpd_job *job)
{
    const hp_probe *p = probe_of(job);
    hpd_probe_run *st = job->probe;

    job->health = HPD_HEALTH_UNKNOWN;
    free(job->health_detail);
    job->health_detail = NULL;
    if (p->kind == HP_PROBE_NONE)
        return;
    if (probes_init(srv) != 0) {
        set_detail(job, "cannot start probes: libcurl did not initialise");
        return;
    }
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st) {
            set_detail(job, "out of memory");
            return;
        }
        st->srv = srv;
        st->job = job;
        st->next = srv->probes->head;
        if (st->next)
            st->next->prev = st;
        srv->probes->head = st;
        job->probe = st;
    }
    cancel(st);
    st->failures = 0;
    /* The grace counts from the process's start: a job re-adopted after a crash has had
     * its grace already and is probed at once, so that its health is known again in a
     * moment instead of a grace later. */
    schedule(st, hpd__ms_left(job->started_at_ms + p->start_grace_ms, p->start_grace_ms));
}

void hpd_probe_job_stopped(hpd_server *srv, hpd_job *job)
{
    (void)srv;
    if (job->probe)
        cancel(job->probe);
}

void hpd_probe_job_free(hpd_job *job)
{
    hpd_probe_run *st = job->probe;

    free(job->health_detail);
    job->health_detail = NULL;
    if (!st)
        return;
    cancel(st);
    if (st->prev)
        st->prev->next = st->next;
    else
        st->srv->probes->head = st->next;
    if (st->next)
        st->next->prev = st->prev;
    free(st);
    job->probe = NULL;
}

void hpd_probes_fini(hpd_server *srv)
{
    struct hpd_probes *ps = srv->probes;

    if (!ps)
        return;
    while (ps->head) {
        hpd_probe_run *st = ps->head;
        cancel(st);
        ps->head = st->next;
        st->job->probe = NULL;
        free(st);
    }
    hpd_loop_timer_cancel(srv->loop, ps->curl_timer);
    curl_multi_cleanup(ps->multi);
    curl_global_cleanup();
    free(ps);
    srv->probes = NULL;
}
