/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor: spawns each job in its own process group, captures its output into
 * the store line by line, enforces timeouts, retries and restarts with backoff, orders
 * jobs by their dependencies, reaps every child, and stops groups with SIGTERM then
 * SIGKILL, with what left the group (cgroup or environment marker). Every signal goes through
 * signal_group() or proc_signal(). It does not parse JSON-RPC. This file: signals, the
 * scheduler, runs, services and the whole daemon; the rest in supervisor_*.c around
 * supervisor_int.h. */
#include "config.h"

#include "server/probe.h"
#include "server/requires.h"
#include "server/secretbox.h"
#include "server/holder.h"
#include "server/supervisor_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- signals ---------------------------------------------------------------------- */

/* /proc/PID/stat from field 3 (the state) on, read into buf; NULL when unreadable. The
 * command name before it may hold spaces and parens: fields count from the last ')'. */
static const char *proc_stat(pid_t pid, char *buf, size_t size)
{
    char path[64];
    const char *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p + 2 : NULL;
}

/* The number in field want (4 = ppid, 22 = starttime) of fields (from proc_stat). */
static unsigned long long stat_number(const char *fields, int want)
{
    const char *p = fields - 1; /* the space before field 3 */

    for (int field = 3; field < want && p; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Field want of /proc/PID/stat, 0 when unreadable. */
static unsigned long long proc_stat_field(pid_t pid, int want)
{
    char buf[1024];
    const char *fields = proc_stat(pid, buf, sizeof(buf));

    return fields ? stat_number(fields, want) : 0;
}

uint64_t hpd__ms_left(int64_t due_ms, int64_t span_ms)
{
    int64_t left = due_ms - hpd_now_ms();

    return left <= 0 ? 0 : (uint64_t)(left > span_ms ? span_ms : left);
}

int hpd__proc_runs_since(pid_t pid, unsigned long long start)
{
    char buf[1024];
    const char *fields = pid > 1 && start ? proc_stat(pid, buf, sizeof(buf)) : NULL;

    return fields && fields[0] != 'Z' && fields[0] != 'X' && stat_number(fields, 22) == start;
}

unsigned long long hpd__proc_start_time(pid_t pid)
{
    return proc_stat_field(pid, 22);
}

pid_t hpd__parent_of(pid_t pid)
{
    return (pid_t)proc_stat_field(pid, 4);
}

/* The one way the daemon signals a process group. Refuses a group of 1 or less (kill(-1)
 * as root would hit every process). With a pidfd the leader is known to be ours (alive or
 * an unreaped zombie, so its group id cannot be reused); without one, the stored start
 * time must match /proc before the numeric id is trusted. */
int hpd__signal_group(pid_t pgid, int pidfd, unsigned long long start, int sig)
{
    if (pgid <= 1) {
        errno = EINVAL;
        return -1;
    }
    if (pidfd >= 0) {
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) != 0 && errno != ESRCH)
            return -1;
    } else if (start == 0 || hpd__proc_start_time(pgid) != start) {
        errno = ESRCH;
        return -1;
    }
    return kill(-pgid, sig);
}

/* ---- the scheduler ---------------------------------------------------------------- */

static hpd_job *job_named(hpd_run *run, const char *name)
{
    for (size_t i = 0; i < run->n_actions; i++)
        if (strcmp(run->actions[i].name, name) == 0)
            return run->jobs[i];
    return NULL;
}

/* 1 ready, 0 wait, -1 a dependency can never be satisfied (name in *blocker). */
static int deps_ready(hpd_run *run, hpd_job *job, const char **blocker)
{
    const hp_action_spec *a = &run->actions[job->index];
    int ready = 1;

    for (size_t d = 0; d < a->n_depends_on; d++) {
        hpd_job *dep = job_named(run, a->depends_on[d]);
        const hp_action_spec *da;
        if (!dep) {
            *blocker = a->depends_on[d];
            return -1;
        }
        da = &run->actions[dep->index];
        if (dep->status == HPD_JOB_SUCCEEDED)
            continue;
        if (da->restart == HP_RESTART_ALWAYS && hpd_probe_job_ready(dep))
            continue; /* running, and healthy when probed (require_ready) */
        if (hpd_job_state_final(dep->status)) {
            *blocker = a->depends_on[d];
            return -1;
        }
        ready = 0;
    }
    return ready;
}

/* "dependency 'B' ..." naming the root cause: what B's own failure was, or, when B was
 * skipped, the chain down to the job that failed. */
static void dependency_failure(const hpd_job *dep, const char *name, char *why, size_t size)
{
    static const char prefix[] = "dependency ";

    if (!dep) {
        snprintf(why, size, "dependency '%s' does not exist", name);
    } else if (dep->status == HPD_JOB_SKIPPED && dep->error &&
               strncmp(dep->error, prefix, sizeof(prefix) - 1) == 0) {
        snprintf(why, size, "dependency '%s' was skipped because %s", name,
                 dep->error + sizeof(prefix) - 1);
    } else if (dep->status == HPD_JOB_FAILED && dep->has_exit) {
        snprintf(why, size, "dependency '%s' failed (exit %d)", name, dep->exit_code);
    } else if (dep->status == HPD_JOB_FAILED && dep->signal) {
        snprintf(why, size, "dependency '%s' failed (killed by signal %d)", name, dep->signal);
    } else if (dep->status == HPD_JOB_FAILED) {
        snprintf(why, size, "dependency '%s' failed (%s)", name,
                 dep->error ? dep->error : "no exit status");
    } else if (dep->status == HPD_JOB_TIMED_OUT) {
        snprintf(why, size, "dependency '%s' timed out", name);
    } else {
        snprintf(why, size, "dependency '%s' was %s", name, hpd_job_state_name(dep->status));
    }
}

static void run_finish_if_done(hpd_server *srv, hpd_run *run)
{
    int failed = 0, cancelled = 0;

    if (!hpd_run_active(run))
        return;
    for (size_t i = 0; i < run->n_actions; i++) {
        hpd_job_state s = run->jobs[i]->status;
        if (!hpd_job_state_final(s))
            return;
        failed |= s == HPD_JOB_FAILED || s == HPD_JOB_TIMED_OUT || run->requires_failed;
        cancelled |= s == HPD_JOB_CANCELLED;
    }
    /* The contract's order (RunState): a stopped run is cancelled; else a failure wins;
     * else a cancelled job (job.cancel, supervisor shutdown) makes the run cancelled. */
    run->status = run->cancelling ? HPD_RUN_CANCELLED
                  : failed        ? HPD_RUN_FAILED
                  : cancelled     ? HPD_RUN_CANCELLED
                                  : HPD_RUN_SUCCEEDED;
    run->ended_at_ms = hpd_now_ms();
    if (!run->started_at_ms)
        run->started_at_ms = run->ended_at_ms;
    hpd_save_run(srv, run);
    hpd_event_emit(srv, HPD_EV_RUN_ENDED, run, NULL, "run %lld (%s) %s", (long long)run->id,
                   run->name, hpd_run_state_name(run->status));
    if (run->service && run->status == HPD_RUN_FAILED)
        hpd_event_emit(srv, HPD_EV_SERVICE_FAILED, run, NULL, "service %s failed (run %lld)",
                       run->service, (long long)run->id);
    hpd_run_ended(srv, run);
}

void hpd__schedule(hpd_server *srv, hpd_run *run)
{
    char held[512];
    int changed = 1, requires = 1;
    hpd_service *owner; /* the run may be gone once it has ended */

    if (!hpd_run_active(run))
        return;
    owner = run->service ? hpd_service_find(srv, run->service) : NULL;
    /* A service's jobs wait until the services it requires are ready; when one of them
     * can never be, the jobs are skipped and the run fails, saying which. */
    if (!run->cancelling && !srv->stopping) {
        requires = hpd_requires_ready(srv, run, held, sizeof(held));
        if (requires == 0)
            return;
    }
    while (changed) {
        changed = 0;
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            const char *blocker = NULL;
            int ready;
            if (job->status != HPD_JOB_PENDING)
                continue;
            if (run->cancelling || srv->stopping) {
                hpd__job_end(srv, job, HPD_JOB_CANCELLED, NULL);
                changed = 1;
                continue;
            }
            if (requires < 0) {
                run->requires_failed = 1; /* the run failed, though none of its jobs ran */
                hpd_job_syslog(srv, job, "skipped: %s", held);
                hpd__job_end(srv, job, HPD_JOB_SKIPPED, held);
                changed = 1;
                continue;
            }
            ready = deps_ready(run, job, &blocker);
            if (ready < 0) {
                char why[512];
                dependency_failure(job_named(run, blocker), blocker, why, sizeof(why));
                hpd_job_syslog(srv, job, "skipped: %s", why);
                hpd__job_end(srv, job, HPD_JOB_SKIPPED, why);
                changed = 1;
            } else if (ready) {
                hpd__spawn_job(srv, job);
                changed = 1;
            }
        }
    }
    run_finish_if_done(srv, run);
    if (owner)
        hpd_requires_wake(srv, owner->config.name);
}

/* ---- runs ------------------------------------------------------------------------- */

void hpd_run_link(hpd_server *srv, hpd_run *run)
{
    size_t at = hpd_run_slot(srv, run->id);

    if (!srv->by_id_partial && srv->n_runs == srv->cap_by_id) {
        size_t cap = srv->cap_by_id ? srv->cap_by_id * 2 : 64;
        hpd_run **grown = realloc(srv->by_id, cap * sizeof(*grown));
        if (grown) {
            srv->by_id = grown;
            srv->cap_by_id = cap;
        } else {
            srv->by_id_partial = 1; /* finding falls back to the list from now on */
        }
    }
    if (!srv->by_id_partial) {
        memmove(&srv->by_id[at + 1], &srv->by_id[at], (srv->n_runs - at) * sizeof(*srv->by_id));
        srv->by_id[at] = run;
    }
    if (hpd_run_active(run)) {
        run->active_next = srv->active_runs;
        srv->active_runs = run;
        run->in_active = 1;
    }
    run->prev = srv->runs_tail;
    run->next = NULL;
    if (srv->runs_tail)
        srv->runs_tail->next = run;
    else
        srv->runs_head = run;
    srv->runs_tail = run;
    srv->n_runs++;
}

void hpd_run_free(hpd_run *run)
{
    if (!run)
        return;
    for (size_t i = 0; run->jobs && i < run->n_actions; i++) {
        hpd_job *job = run->jobs[i];
        if (!job)
            continue;
        for (int s = 0; s < 2; s++) {
            if (job->out[s].fd >= 0)
                close(job->out[s].fd);
            free(job->out[s].buf);
        }
        if (job->pidfd >= 0)
            close(job->pidfd);
        hpd_probe_job_free(job);
        free(job->error);
        free(job);
    }
    free(run->jobs);
    hp_actions_free(run->actions, run->n_actions);
    free(run->name);
    free(run->service);
    free(run);
}

hpd_run *hpd_run_create(hpd_server *srv, const char *name, const char *service,
                        const hp_action_spec *actions, size_t n, int start_now, hp_error *err)
{
    hpd_run *run = calloc(1, sizeof(*run));

    if (!run)
        goto oom;
    run->srv = srv;
    run->name = strdup(name);
    run->service = service ? strdup(service) : NULL;
    run->actions = calloc(n, sizeof(*run->actions));
    run->jobs = calloc(n, sizeof(*run->jobs));
    if (!run->name || (service && !run->service) || !run->actions || !run->jobs)
        goto oom;
    run->n_actions = n;
    for (size_t i = 0; i < n; i++) {
        if (hp_action_spec_copy(&run->actions[i], &actions[i]) != 0)
            goto oom;
        run->jobs[i] = calloc(1, sizeof(hpd_job));
        if (!run->jobs[i])
            goto oom;
        run->jobs[i]->pidfd = -1;
        run->jobs[i]->out[0].fd = run->jobs[i]->out[1].fd = -1;
    }
    run->id = srv->next_run_id++;
    run->status = HPD_RUN_PENDING;
    run->created_at_ms = hpd_now_ms();
    for (size_t i = 0; i < n; i++) {
        hpd_job *job = run->jobs[i];
        job->id = srv->next_job_id++;
        job->run = run;
        job->index = i;
        job->status = HPD_JOB_PENDING;
        job->pidfd = -1;
        job->out[0].fd = job->out[1].fd = -1;
    }
    hpd_run_link(srv, run);
    /* The run and its jobs in one transaction, written before the call answers. */
    hpd_store_hold(srv->store);
    if (start_now) {
        hpd__unsaved_run = run;
        hpd_run_start(srv, run);
        hpd__unsaved_run = NULL;
    }
    /* The run's row first: its jobs' rows refer to it. */
    hpd_save_run(srv, run);
    for (size_t i = 0; i < n; i++)
        hpd_save_job(srv, run->jobs[i]);
    hpd_store_release(srv->store);
    hpd_store_watch(srv);
    return run;
oom:
    hpd_run_free(run);
    hp_error_set_code(err, HP_E_NOMEM);
    return NULL;
}

void hpd_run_start(hpd_server *srv, hpd_run *run)
{
    hpd__schedule(srv, run);
}

void hpd_job_cancel(hpd_server *srv, hpd_job *job)
{
    if (hpd_job_state_final(job->status))
        return;
    if (job->status == HPD_JOB_RUNNING && job->pid > 0 && !job->reaped) {
        hpd_job_syslog(srv, job, "stop requested: sending SIGTERM to the process group");
        hpd__stop_job(srv, job, HPD_JOB_CANCELLED);
        return;
    }
    hpd__job_end(srv, job, HPD_JOB_CANCELLED, NULL);
    hpd__schedule(srv, job->run);
}

void hpd_run_cancel(hpd_server *srv, hpd_run *run)
{
    if (!hpd_run_active(run))
        return;
    run->cancelling = 1;
    hpd_save_run(srv, run);
    for (size_t i = 0; i < run->n_actions; i++) {
        hpd_job *job = run->jobs[i];
        if (job->status == HPD_JOB_RUNNING)
            hpd_job_cancel(srv, job);
        else if (!hpd_job_state_final(job->status))
            hpd__job_end(srv, job, HPD_JOB_CANCELLED, NULL);
    }
    hpd__schedule(srv, run);
}

hpd_run *hpd_active_first(hpd_server *srv)
{
    for (hpd_run **at = &srv->active_runs; *at;) {
        hpd_run *run = *at;
        if (hpd_run_active(run)) {
            at = &run->active_next;
            continue;
        }
        *at = run->active_next;
        run->active_next = NULL;
        run->in_active = 0;
    }
    return srv->active_runs;
}

size_t hpd_active_count(hpd_server *srv)
{
    size_t n = 0;

    for (hpd_run *run = hpd_active_first(srv); run; run = run->active_next)
        n++;
    return n;
}

void hpd_run_delete(hpd_server *srv, hpd_run *run)
{
    hp_error err;

    for (hpd_run **at = &srv->active_runs; run->in_active && *at; at = &(*at)->active_next)
        if (*at == run) {
            *at = run->active_next;
            run->in_active = 0;
            break;
        }

    if (run->prev)
        run->prev->next = run->next;
    else
        srv->runs_head = run->next;
    if (run->next)
        run->next->prev = run->prev;
    else
        srv->runs_tail = run->prev;
    if (!srv->by_id_partial) {
        size_t at = hpd_run_slot(srv, run->id);
        memmove(&srv->by_id[at], &srv->by_id[at + 1], (srv->n_runs - at - 1) * sizeof(*srv->by_id));
    }
    srv->n_runs--;
    if (hpd_store_delete_run(srv->store, run->id, &err) != 0)
        hpd_log(srv, 0, "%s", err.message);
    hpd_store_watch(srv);
    hpd_changed(srv);
    hpd_run_free(run);
}

/* Keeps at most max_finished_runs finished runs, oldest removed first; a service's
 * current run is never removed. */
static void enforce_run_cap(hpd_server *srv)
{
    int64_t finished = (int64_t)(srv->n_runs - hpd_active_count(srv));
    hpd_run *run, *next;

    for (run = srv->runs_head; run && finished > srv->opt.max_finished_runs; run = next) {
        hpd_service *svc = run->service ? hpd_service_find(srv, run->service) : NULL;
        next = run->next;
        if (hpd_run_active(run) || (svc && svc->run_id == run->id) || run->waiters)
            continue;
        hpd_run_delete(srv, run);
        finished--;
    }
}

void hpd_run_ended(hpd_server *srv, hpd_run *run)
{
    hpd_service *svc = run->service ? hpd_service_find(srv, run->service) : NULL;

    /* Its last lines are written (and the log's retention applied) before anyone
     * waiting hears that it ended. */
    hpd__flush_logs(srv);
    for (size_t i = 0; i < run->n_actions; i++)
        hpd_store_log_idle(srv->store, run->jobs[i]->id);
    if (srv->on_run_ended)
        srv->on_run_ended(srv, run);
    if (run->delete_when_done) {
        hpd_run_delete(srv, run);
        return;
    }
    if (svc && svc->pending_start == run->id) {
        hpd_run *next = NULL;
        svc->pending_start = 0;
        for (hpd_run *r = srv->runs_tail; r; r = r->prev)
            if (r->id == svc->run_id) {
                next = r;
                break;
            }
        if (!svc->keep_history)
            hpd_run_delete(srv, run);
        if (next)
            hpd_run_start(srv, next);
    }
    enforce_run_cap(srv);
}

/* ---- services --------------------------------------------------------------------- */

hpd_run *hpd_service_start(hpd_server *srv, hpd_service *svc, hp_error *err)
{
    hpd_run *run;

    hpd_requires_start(srv, svc); /* their runs exist before this one is scheduled */
    run = hpd_service_run(srv, svc);
    if (!svc->wanted_start) {
        svc->wanted_start = 1;
        svc->config.wanted_start = 1;
        hpd_save_service(srv, svc);
    }
    if (run && hpd_run_active(run)) {
        /* A start asked for by hand does not wait out a back-off: waiting jobs start
         * now, with their failure counts reset. */
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (job->status != HPD_JOB_RETRYING || run->cancelling || srv->stopping)
                continue;
            hpd_loop_timer_cancel(srv->loop, job->timer);
            job->timer = 0;
            job->backoff_ms = 0;
            job->quick_failures = 0;
            job->crash_loop = 0;
            hpd_job_syslog(srv, job, "service.start: starting now, not after the back-off");
            hpd__spawn_job(srv, job);
        }
        hpd__schedule(srv, run);
        return run;
    }
    run = hpd_run_create(srv, svc->config.name, svc->config.name, svc->config.actions,
                         svc->config.n_actions, 0, err);
    if (!run)
        return NULL;
    svc->run_id = run->id;
    hpd_save_service(srv, svc);
    hpd_run_start(srv, run);
    return run;
}

void hpd_service_stop(hpd_server *srv, hpd_service *svc)
{
    hpd_run *run = hpd_service_run(srv, svc);

    svc->wanted_start = 0;
    svc->config.wanted_start = 0;
    hpd_save_service(srv, svc);
    if (run)
        hpd_run_cancel(srv, run);
}

hpd_run *hpd_service_restart(hpd_server *srv, hpd_service *svc, int keep_history, hp_error *err)
{
    hpd_run *old, *run;

    hpd_requires_start(srv, svc);
    old = hpd_service_run(srv, svc);

    run = hpd_run_create(srv, svc->config.name, svc->config.name, svc->config.actions,
                         svc->config.n_actions, 0, err);
    if (!run)
        return NULL;
    svc->wanted_start = 1;
    svc->config.wanted_start = 1;
    svc->run_id = run->id;
    svc->restarts++;
    svc->keep_history = keep_history;
    if (old && hpd_run_active(old)) {
        /* The new run starts once the old one has stopped (ports, files, locks). */
        svc->pending_start = old->id;
        hpd_save_service(srv, svc);
        hpd_run_cancel(srv, old);
        return run;
    }
    if (old && !keep_history && !old->waiters)
        hpd_run_delete(srv, old);
    hpd_save_service(srv, svc);
    hpd_run_start(srv, run);
    return run;
}

void hpd_service_remove(hpd_server *srv, hpd_service *svc)
{
    hp_error err;
    hpd_run *run, *next;
    size_t i;

    for (run = srv->runs_head; run; run = next) {
        next = run->next;
        if (!run->service || strcmp(run->service, svc->config.name) != 0)
            continue;
        if (hpd_run_active(run)) {
            run->delete_when_done = 1;
            hpd_run_cancel(srv, run);
        } else if (!run->waiters) {
            hpd_run_delete(srv, run);
        }
    }
    if (hpd_store_delete_service(srv->store, svc->config.name, &err) != 0)
        hpd_log(srv, 0, "%s", err.message);
    hpd_store_watch(srv);
    for (i = 0; i < srv->n_services && srv->services[i] != svc; i++)
        ;
    if (i < srv->n_services) {
        memmove(&srv->services[i], &srv->services[i + 1],
                (srv->n_services - i - 1) * sizeof(*srv->services));
        srv->n_services--;
    }
    hp_service_config_free(&svc->config);
    free(svc);
    hpd_changed(srv);
}

/* ---- whole daemon ----------------------------------------------------------------- */

size_t hpd_running_jobs(hpd_server *srv)
{
    size_t n = 0;

    for (hpd_run *run = hpd_active_first(srv); run; run = run->active_next)
        for (size_t i = 0; i < run->n_actions; i++)
            n += run->jobs[i]->status == HPD_JOB_RUNNING;
    return n;
}

int hpd_stop_all(hpd_server *srv)
{
    int remaining = 0;

    for (hpd_run *run = srv->runs_head; run; run = run->next) {
        if (!hpd_run_active(run))
            continue;
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (job->status == HPD_JOB_RUNNING) {
                if (!job->kill_timer)
                    hpd_job_syslog(srv, job, "supervisor stopping: sending SIGTERM");
                hpd__stop_job(srv, job, HPD_JOB_CANCELLED);
                remaining = 1;
            } else if (job->status == HPD_JOB_RETRYING || job->status == HPD_JOB_PENDING) {
                hpd__job_end(srv, job, HPD_JOB_CANCELLED, NULL);
            }
        }
        hpd__schedule(srv, run);
    }
    hpd__flush_logs(srv);
    return remaining;
}

int hpd_supervisor_init(hpd_server *srv, hp_error *err)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot become a subreaper");
    if (!srv->opt.no_cgroups)
        srv->cgroup_dir = hpd__cgroup_setup(srv->opt.resume_fd > 0);
    /* The daemon answers before the jobs it runs get the CPU back: ten jobs flooding their
     * logs on two cores would otherwise leave a control call waiting for its turn behind
     * them. Allowed to root, CAP_SYS_NICE or an RLIMIT_NICE; every job gets the nice
     * the daemon started with. */
    errno = 0;
    srv->job_nice = getpriority(PRIO_PROCESS, 0);
    if (errno == 0 && setpriority(PRIO_PROCESS, 0, srv->job_nice - PRIORITY_BOOST) == 0)
        srv->niced = 1;
    if (!srv->opt.no_realtime) {
        /* A nice level is not enough: the loop reads as much as the floods write, so it
         * uses its whole fair share and, preempted, waits 20-50 ms for the CPU again. The
         * lowest real-time priority puts it before every job whenever it has work, and its
         * work is bounded per turn (OUT_PER_TURN) by what the jobs write. Only this thread:
         * SCHED_RESET_ON_FORK gives threads and jobs the normal policy back. */
        struct sched_param sp = {.sched_priority = 1};
        srv->realtime = sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) == 0;
    }
    hpd_log(srv, 2, "control calls before jobs: %s",
            srv->realtime ? "the daemon's loop runs at real-time priority 1 (SCHED_RR)"
            : srv->niced  ? "the daemon runs 5 nice levels above its jobs"
                          : "not allowed to raise the daemon's priority");
    hpd_log(srv, 2, "job processes tracked by %s%s",
            srv->cgroup_dir ? "cgroup " : "their environment marker",
            srv->cgroup_dir ? srv->cgroup_dir : "");
    return HP_OK;
}

/* 1 while the daemon has a child, alive or not yet reaped. */
static int has_children(void)
{
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno != ECHILD;
    return 1;
}

void hpd_supervisor_fini(hpd_server *srv)
{
    char needle[64], path[PATH_MAX];
    uint64_t deadline = hpd_now_mono_ms() + 2000;
    struct dirent *e;
    DIR *d;

    if (!srv->loop)
        return;        /* it never supervised anything */
    srv->stopping = 1; /* nothing reaped from here on restarts */
    hpd_probes_fini(srv);
    /* Whatever a job started and is still alive goes now: nothing outlives the daemon. */
    d = srv->cgroup_dir ? opendir(srv->cgroup_dir) : NULL;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "job-", 4) == 0) {
            snprintf(path, sizeof(path), "%s/%s/cgroup.kill", srv->cgroup_dir, e->d_name);
            hpd__write_text(path, "1");
        }
    if (d)
        closedir(d);
    snprintf(needle, sizeof(needle), MARKER "=%d.", (int)getpid());
    hpd__signal_marked(needle, 1, 1, 0, SIGKILL);
    while (has_children() && hpd_now_mono_ms() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        hpd_reap(srv);
        nanosleep(&ts, NULL);
    }
    hpd_reap(srv);
    hpd__cgroup_sweep(srv);
    if (srv->cgroup_dir)
        rmdir(srv->cgroup_dir);
    free(srv->cgroup_dir);
    srv->cgroup_dir = NULL;
}

/* A job recorded as running by a daemon that died is re-adopted when its process still
 * runs (supervisor_holder.c); one whose process is gone ends as its restart policy says.
 * One waiting out a back-off waits out the rest of it; one waiting for the actions it
 * depends on goes on waiting. What the dead daemon was stopping is stopped. */
void hpd_recover(hpd_server *srv)
{
    hpd_holder_recover_begin(srv);
    for (hpd_run *run = srv->runs_head; run; run = run->next) {
        if (!hpd_run_active(run))
            continue;
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (!hpd_job_state_final(job->status))
                hpd_holder_spawned(srv, job); /* a spawn the store did not catch up with */
            if (job->status == HPD_JOB_RUNNING)
                hpd_holder_readopt(srv, job);
            else if (job->status == HPD_JOB_RETRYING && !run->cancelling)
                hpd__arm_retry(srv, job);
            else if (job->status != HPD_JOB_PENDING || run->cancelling)
                hpd__job_end(srv, job, HPD_JOB_CANCELLED, "the supervisor stopped before it ran");
        }
        run_finish_if_done(srv, run);
    }
    hpd_holder_recover_done(srv);
    /* Once the kept pipes are settled: a job spawned now gets a pipe of its own. */
    for (hpd_run *run = hpd_active_first(srv); run; run = run->active_next)
        hpd__schedule(srv, run);
    hpd__flush_logs(srv);
}
