/* SPDX-License-Identifier: Apache-2.0 */
/* What happens when a job's leader exits: the retry or restart policy with its back-off
 * and crash loop, the timeout, and reaping every child (SIGCHLD). */
#include "config.h"

#include "server/probe.h"
#include "server/secretbox.h"
#include "server/supervisor_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- exits, retries, restarts ----------------------------------------------------- */

static void on_retry_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;

    (void)loop;
    (void)id;
    job->timer = 0;
    if (job->status == HPD_JOB_RETRYING && !job->run->cancelling && !job->run->srv->stopping)
        hpd__spawn_job(job->run->srv, job);
    hpd__schedule(job->run->srv, job->run);
}

/* The next attempt in delay_ms, its deadline kept with the job for a daemon that comes
 * after a crash (hpd__arm_retry). */
static void retry_in(hpd_server *srv, hpd_job *job, uint64_t delay_ms)
{
    job->timer = hpd_loop_timer(srv->loop, delay_ms, on_retry_timer, job);
    job->retry_at_ms = hpd_now_ms() + (int64_t)delay_ms;
}

void hpd__arm_retry(hpd_server *srv, hpd_job *job)
{
    const hp_action_spec *a = &job->run->actions[job->index];
    int64_t delay = a->restart == HP_RESTART_NEVER ? a->retry_delay_ms : (int64_t)job->backoff_ms;
    uint64_t left = hpd__ms_left(job->retry_at_ms, delay);

    if (job->timer)
        return;
    job->timer = hpd_loop_timer(srv->loop, left, on_retry_timer, job);
    hpd_job_syslog(srv, job, "supervisor restarted: the next attempt %s",
                   left > 0 ? "waits out the rest of its back-off" : "is due now");
}

static void on_drain_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;
    hpd_server *srv = job->run->srv;

    (void)loop;
    (void)id;
    job->drain_timer = 0;
    /* A process outside the group still holds the pipes: stop waiting for them. */
    hpd__close_stream(srv, job, 0);
    hpd__close_stream(srv, job, 1);
    hpd__job_maybe_finish(srv, job);
}

/* Called when the process was reaped and when a pipe closed: the attempt is over once
 * both happened (or the drain timer gave up on the pipes). */
void hpd__job_maybe_finish(hpd_server *srv, hpd_job *job)
{
    const hp_action_spec *a = &job->run->actions[job->index];
    int ok, can_retry;
    char reason[160];

    if (!job->reaped || job->status != HPD_JOB_RUNNING)
        return;
    if (job->out[0].fd >= 0 || job->out[1].fd >= 0) {
        if (!job->drain_timer)
            job->drain_timer = hpd_loop_timer(srv->loop, DRAIN_MS, on_drain_timer, job);
        return;
    }
    hpd_loop_timer_cancel(srv->loop, job->timer);
    hpd_loop_timer_cancel(srv->loop, job->kill_timer);
    hpd_loop_timer_cancel(srv->loop, job->drain_timer);
    job->timer = job->kill_timer = job->drain_timer = 0;
    if (job->pidfd >= 0)
        close(job->pidfd);
    job->pidfd = -1;
    if (srv->cgroup_dir) {
        char path[PATH_MAX];
        hpd__job_cgroup(srv, job, NULL, path, sizeof(path));
        rmdir(path); /* busy while killed escapees die: swept when they are reaped */
    }
    ok = job->has_exit && job->exit_code == 0 && job->signal == 0;
    if (job->exit_unknown)
        snprintf(reason, sizeof(reason),
                 "exited while the supervisor was down or re-adopted: exit code unknown");
    else if (job->signal)
        snprintf(reason, sizeof(reason), "killed by signal %d (%s)", job->signal,
                 strsignal(job->signal));
    else
        snprintf(reason, sizeof(reason), "exited with code %d", job->exit_code);
    hpd_job_syslog(srv, job, "pid %d %s", (int)job->pid, reason);
    hpd_event_emit(srv, HPD_EV_JOB_EXITED, NULL, job, "%s: pid %d %s", a->name, (int)job->pid,
                   reason);

    if (job->stop_as == HPD_JOB_CANCELLED || job->run->cancelling || srv->stopping) {
        hpd__job_end(srv, job, HPD_JOB_CANCELLED, NULL);
        hpd__schedule(srv, job->run);
        return;
    }
    if (job->stop_as == HPD_JOB_TIMED_OUT)
        snprintf(reason, sizeof(reason), "timed out after %ld s", a->timeout_secs);
    if (a->restart == HP_RESTART_ALWAYS || (a->restart == HP_RESTART_ON_FAILURE && !ok)) {
        uint64_t ran = hpd_now_mono_ms() - job->spawned_mono_ms;
        hpd_service *svc = job->run->service ? hpd_service_find(srv, job->run->service) : NULL;
        if (ran >= srv->opt.stable_ms) {
            job->backoff_ms = 0;
            job->quick_failures = 0;
        } else {
            job->backoff_ms = job->backoff_ms ? job->backoff_ms * 2 : srv->opt.backoff_min_ms;
            if (job->backoff_ms > srv->opt.backoff_max_ms)
                job->backoff_ms = srv->opt.backoff_max_ms;
            job->quick_failures++;
        }
        if (!job->crash_loop && job->quick_failures >= CRASH_LOOP_AFTER)
            hpd_event_emit(srv, HPD_EV_CRASH_LOOP, NULL, job,
                           "%s is in a crash loop: %d quick failures in a row", a->name,
                           job->quick_failures);
        job->crash_loop = job->quick_failures >= CRASH_LOOP_AFTER;
        job->restarts++;
        if (svc) {
            svc->restarts++;
            hpd_save_service(srv, svc);
        }
        if (!ok) {
            free(job->error);
            job->error = strdup(reason);
        }
        job->status = HPD_JOB_RETRYING;
        job->ended_at_ms = hpd_now_ms();
        if (ran >= srv->opt.stable_ms) {
            /* It was up long enough to count as healthy: back at once, like runit. */
            hpd_job_syslog(srv, job, "restarting now after %llu ms up (restart %d)",
                           (unsigned long long)ran, job->restarts);
            hpd_event_emit(srv, HPD_EV_JOB_RESTARTED, NULL, job, "%s restarting now (restart %d)",
                           a->name, job->restarts);
            hpd__spawn_job(srv, job);
            hpd__schedule(srv, job->run);
            return;
        }
        hpd_job_syslog(srv, job, "restarting in %llu ms (restart %d%s)",
                       (unsigned long long)job->backoff_ms, job->restarts,
                       job->crash_loop ? ", crash loop" : "");
        hpd_event_emit(srv, HPD_EV_JOB_RESTARTED, NULL, job,
                       "%s restarting in %llu ms (restart %d)", a->name,
                       (unsigned long long)job->backoff_ms, job->restarts);
        retry_in(srv, job, job->backoff_ms);
        hpd_save_job(srv, job);
        hpd__schedule(srv, job->run);
        return;
    }
    if (ok) {
        hpd__job_end(srv, job, HPD_JOB_SUCCEEDED, NULL);
        free(job->error);
        job->error = NULL;
        hpd__schedule(srv, job->run);
        return;
    }
    can_retry = job->attempt < 1 + a->retry;
    if (can_retry) {
        free(job->error);
        job->error = strdup(reason);
        job->status = HPD_JOB_RETRYING;
        job->ended_at_ms = hpd_now_ms();
        hpd_job_syslog(srv, job, "retrying in %ld ms (attempt %d of %d)", a->retry_delay_ms,
                       job->attempt + 1, 1 + a->retry);
        hpd_event_emit(srv, HPD_EV_JOB_RESTARTED, NULL, job,
                       "%s retrying in %ld ms (attempt %d of %d)", a->name, a->retry_delay_ms,
                       job->attempt + 1, 1 + a->retry);
        retry_in(srv, job, (uint64_t)a->retry_delay_ms);
        hpd_save_job(srv, job);
        return;
    }
    hpd__job_end(srv, job, job->stop_as == HPD_JOB_TIMED_OUT ? HPD_JOB_TIMED_OUT : HPD_JOB_FAILED,
                 reason);
    hpd__schedule(srv, job->run);
}

hpd_job *hpd__job_by_pid(hpd_server *srv, pid_t pid)
{
    for (hpd_run *run = hpd_active_first(srv); run; run = run->active_next) {
        for (size_t i = 0; i < run->n_actions; i++)
            if (run->jobs[i]->pid == pid && !run->jobs[i]->reaped &&
                run->jobs[i]->status == HPD_JOB_RUNNING)
                return run->jobs[i];
    }
    return NULL;
}

void hpd_reap(hpd_server *srv)
{
    /* Every exit of the burst in one transaction, written before this turn's answers. */
    hpd_store_hold(srv->store);
    for (;;) {
        siginfo_t si;
        int status;
        hpd_job *job;

        memset(&si, 0, sizeof(si));
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
            break;
        job = hpd__job_by_pid(srv, si.si_pid);
        if (job) {
            /* The leader is a zombie, so its group id is still reserved: whatever it left
             * running in its group goes with it, and so does what left the group. The
             * leader's exit ends the job: an escapee holding its pipes does not keep it
             * running. */
            hpd__signal_group(job->pid, job->pidfd, job->pid_start, SIGKILL);
            hpd__signal_escapees(srv, job, SIGKILL, 1);
        }
        if (waitpid(si.si_pid, &status, 0) < 0)
            continue;
        if (!job && hpd_probe_reaped(srv, si.si_pid, status))
            continue;
        if (!job) {
            hpd__cgroup_sweep(
                srv); /* an orphan handed to us as subreaper: its cgroup may be empty */
            continue;
        }
        job->reaped = 1;
        hpd_probe_job_stopped(srv, job);
        job->has_exit = WIFEXITED(status);
        job->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
        job->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        hpd__job_maybe_finish(srv, job);
    }
    hpd_store_release(srv->store);
    hpd_store_watch(srv);
}
