/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the pieces of the supervisor: supervisor.c (signals, the scheduler, runs,
 * services, the whole daemon), supervisor_spawn.c (spawning and stopping a job),
 * supervisor_exit.c (exits, retries, restarts), supervisor_probe.c (health probes),
 * supervisor_output.c (the job's output, its log lines and the store's health),
 * supervisor_escape.c (a cgroup per job, the environment marker, the /proc walk),
 * supervisor_holder.c (the pipe holder, re-adoption after a crash). Nothing else
 * includes it. */
#ifndef HPD_SUPERVISOR_INT_H
#define HPD_SUPERVISOR_INT_H

#include "server/server.h"

#include <stddef.h>
#include <sys/types.h>

enum {
    MAX_LINE = 16 * 1024,
    READ_CHUNK = 64 * 1024,
    FLUSH_LINES = 4096,
    FLUSH_MS = 20, /* at most this much of the log is lost when the daemon is killed */
    PIPE_BYTES = 1024 * 1024,
    OUT_PER_TURN = 4 * READ_CHUNK, /* output read in one turn of the loop, all jobs */
    NAP_BELOW = 16 * 1024,         /* at real-time priority, a turn that read less ... */
    NAP_US = 250,                  /* ... makes the next one wait this long to read */
    PRIORITY_BOOST = 5             /* nice levels the daemon takes above its jobs, when allowed */
};
enum { DRAIN_MS = 2000, CRASH_LOOP_AFTER = 5 };
/* In every job's environment: HERO_PROC_JOB=<daemon pid>.<job id>. */
#define MARKER "HERO_PROC_JOB"

unsigned long long hpd__proc_start_time(pid_t pid);
/* 1 while pid is the process that started at start (field 22) and has not exited (a
 * zombie has); one read of /proc/PID/stat. */
int hpd__proc_runs_since(pid_t pid, unsigned long long start);
pid_t hpd__parent_of(pid_t pid);
int hpd__signal_group(pid_t pgid, int pidfd, unsigned long long start, int sig);
void hpd__schedule(hpd_server *srv, hpd_run *run);
int hpd__write_text(const char *path, const char *text);
void hpd__job_cgroup(const hpd_server *srv, const hpd_job *job, const char *file, char *buf,
                     size_t size);
void hpd__signal_marked(const char *needle, int prefix, int children, pid_t ancestor, int sig);
void hpd__signal_escapees(hpd_server *srv, hpd_job *job, int sig, int leader_gone);
void hpd__cgroup_sweep(hpd_server *srv);
/* taken_over: after an in-place upgrade, the same pid's sub-tree that the old image
 * set up and proved, kept as it is. */
char *hpd__cgroup_setup(int taken_over);
void hpd__flush_logs(hpd_server *srv);
void hpd__close_stream(hpd_server *srv, hpd_job *job, int stream);
void hpd__on_output(hpd_loop *loop, int fd, uint32_t events, void *data);
void hpd__job_end(hpd_server *srv, hpd_job *job, hpd_job_state state, const char *error);
void hpd__spawn_job(hpd_server *srv, hpd_job *job);
void hpd__stop_job(hpd_server *srv, hpd_job *job, hpd_job_state as);
void hpd__job_maybe_finish(hpd_server *srv, hpd_job *job);
/* Milliseconds from now to due_ms (wall clock), within 0..span_ms: a deadline passed is
 * due now, and a clock set back does not make it wait longer than its whole span. */
uint64_t hpd__ms_left(int64_t due_ms, int64_t span_ms);
/* The timers a recovery arms again from what the store kept: a running job's timeout,
 * due at started_at_ms + its timeout (at once when that has passed), and a waiting job's
 * next attempt, due at retry_at_ms (clamped to the delay that set it: a clock set
 * forward does not make it wait longer). */
void hpd__arm_timeout(hpd_server *srv, hpd_job *job);
/* The daemon pid in the marker of pid's environment when it is the job's and another
 * daemon's (a dead one that spawned it), else 0. */
pid_t hpd__marker_daemon(pid_t pid, int64_t job_id);
void hpd__arm_retry(hpd_server *srv, hpd_job *job);
hpd_job *hpd__job_by_pid(hpd_server *srv, pid_t pid);
/* The job's environment as its process gets it, for its exec probe (supervisor_probe.c);
 * NULL with a reason in why. Free with hpd__job_env_free: it holds resolved secrets. */
char **hpd__job_env(hpd_server *srv, const hpd_job *job, char *why, size_t why_len);
void hpd__job_env_free(char **envp);
/* An exec probe of job spawned like the job (its session, the job's cgroup when there are
 * cgroups): its pid, or -1 with a reason in why. */
pid_t hpd__spawn_probe(hpd_server *srv, const hpd_job *job, const char *cwd, char **argv,
                       char **envp, char *why, size_t why_len);

/* The run whose rows are written once after its start (run.submit): its earlier saves
 * wait (supervisor_output.c). */
extern const hpd_run *hpd__unsaved_run;

#endif
