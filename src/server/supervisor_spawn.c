/* SPDX-License-Identifier: Apache-2.0 */
/* Spawning a job (argv, environment with its secrets, vfork and exec into its own
 * session and cgroup, the exec report), its exec probes the same way, and stopping a job
 * (SIGTERM, SIGKILL after the grace). */
#include "config.h"

#include "server/probe.h"
#include "server/secretbox.h"
#include "server/holder.h"
#include "server/supervisor_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

static void on_timeout(hpd_loop *loop, uint64_t id, void *data);

/* ---- spawning --------------------------------------------------------------------- */

/* Moves out to a buffer of cap bytes: a copy and a wipe rather than realloc, which could
 * leave resolved secrets behind in the memory it frees. */
static char *grow_wiped(char *out, size_t len, size_t cap)
{
    char *grown = malloc(cap);

    if (grown)
        memcpy(grown, out, len);
    hpd_secret_wipe_len(out, len);
    free(out);
    return grown;
}

/* Replaces every ${secret:NAME} in value; NULL with *missing set when a secret is not
 * set or cannot be read (its name is copied into missing, never its value; *unreadable
 * tells which). The result holds secrets: wipe it before freeing (free_env). */
static char *resolve_secrets(hpd_server *srv, const char *value, char *missing, size_t msize,
                             int *unreadable)
{
    size_t cap = strlen(value) + 1, len = 0;
    char *out = malloc(cap);
    const char *p = value;

    if (!out)
        return NULL;
    while (*p) {
        const char *end;
        if (strncmp(p, "${secret:", 9) == 0 && (end = strchr(p + 9, '}')) != NULL) {
            char name[128], *secret = NULL;
            size_t nl = (size_t)(end - p - 9), sl;
            if (nl >= sizeof(name))
                nl = sizeof(name) - 1;
            memcpy(name, p + 9, nl);
            name[nl] = '\0';
            hp_error err;
            int found = hpd_secret_get(srv, name, &secret, NULL, NULL, &err);
            if (found != 1) {
                snprintf(missing, msize, "%s", name);
                *unreadable = found < 0;
                if (found < 0) /* the message names the secret and the key file only */
                    hpd_log(srv, 0, "%s", err.message);
                hpd_secret_wipe_len(out, len);
                free(out);
                return NULL;
            }
            sl = strlen(secret);
            if (len + sl + strlen(end + 1) + 1 > cap) {
                cap = len + sl + strlen(end + 1) + 1;
                if (!(out = grow_wiped(out, len, cap))) {
                    hpd_secret_free(secret);
                    return NULL;
                }
            }
            memcpy(out + len, secret, sl);
            len += sl;
            hpd_secret_free(secret);
            p = end + 1;
            continue;
        }
        if (len + 2 > cap) {
            cap *= 2;
            if (!(out = grow_wiped(out, len, cap)))
                return NULL;
        }
        out[len++] = *p++;
    }
    out[len] = '\0';
    return out;
}

/* The child's environment holds resolved secrets: wiped, then freed. */
static void free_env(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++) {
        hpd_secret_wipe(v[i]);
        free(v[i]);
    }
    free(v);
}

/* The child's environment: the daemon's, with the action's env on top, and the job's
 * marker (never one the daemon inherited). NULL with a readable reason in why. */
static char **build_env(hpd_server *srv, const hpd_job *job, const hp_action_spec *a, char *why,
                        size_t why_len)
{
    size_t n = 0, k = 0;
    char **envp;

    while (environ[n])
        n++;
    envp = calloc(n + a->n_env + 2, sizeof(*envp));
    if (!envp) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    if (asprintf(&envp[k++], MARKER "=%d.%lld", (int)getpid(), (long long)job->id) < 0) {
        envp[0] = NULL;
        goto oom;
    }
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int overridden = 0;
        for (size_t j = 0; j < a->n_env; j++)
            if (strlen(a->env[j].key) == kl && strncmp(a->env[j].key, environ[i], kl) == 0)
                overridden = 1;
        if (strncmp(environ[i], MARKER "=", sizeof(MARKER)) == 0)
            continue;
        if (!overridden && !(envp[k++] = strdup(environ[i])))
            goto oom;
    }
    for (size_t j = 0; j < a->n_env; j++) {
        char missing[128] = "";
        int unreadable = 0;
        char *value = resolve_secrets(srv, a->env[j].value, missing, sizeof(missing), &unreadable);
        size_t len;
        if (!value) {
            if (missing[0])
                snprintf(why, why_len, "env %s uses secret '%s', which %s", a->env[j].key, missing,
                         unreadable ? "cannot be read (see the server's log)" : "is not set");
            else
                snprintf(why, why_len, "out of memory");
            free_env(envp);
            return NULL;
        }
        len = strlen(a->env[j].key) + strlen(value) + 2;
        envp[k] = malloc(len);
        if (envp[k])
            snprintf(envp[k], len, "%s=%s", a->env[j].key, value);
        hpd_secret_wipe(value);
        free(value);
        if (!envp[k++])
            goto oom;
    }
    return envp;
oom:
    snprintf(why, why_len, "out of memory");
    free_env(envp);
    return NULL;
}

static char **build_argv(const hp_action_spec *a, char *why, size_t why_len)
{
    hp_error err;
    char **argv;
    size_t n = 0;

    if (a->command) {
        argv = hp_split_command(a->command, &err);
        if (!argv)
            snprintf(why, why_len, "%s", err.message);
        return argv;
    }
    argv = hp_split_command(a->interpreter ? a->interpreter : "/bin/sh", &err);
    if (!argv) {
        snprintf(why, why_len, "interpreter: %s", err.message);
        return NULL;
    }
    while (argv[n])
        n++;
    {
        char **grown = realloc(argv, (n + 3) * sizeof(*argv));
        if (!grown) {
            hp_argv_free(argv);
            snprintf(why, why_len, "out of memory");
            return NULL;
        }
        argv = grown;
    }
    argv[n] = strdup("-c");
    argv[n + 1] = strdup(a->script);
    argv[n + 2] = NULL;
    if (!argv[n] || !argv[n + 1]) {
        hp_argv_free(argv);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    return argv;
}

/* The signals whose disposition is not the default, found once at the first spawn (the
 * daemon sets its own before it spawns anything): the child resets these alone, not all
 * 64, while the daemon waits for it (vfork). */
static int to_reset[NSIG];
static int n_to_reset = -1;

static void find_dispositions(void)
{
    struct sigaction sa;

    if (n_to_reset >= 0)
        return;
    n_to_reset = 0;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 &&
            sa.sa_handler != SIG_DFL)
            to_reset[n_to_reset++] = sig;
}

typedef struct child_failure {
    int stage; /* 1 chdir, 2 exec, 3 setup */
    int err;
} child_failure;

/* In the vfork child, on the daemon's memory and stack until exec: only async-signal-safe
 * calls, nothing that allocates, and it never returns. A failure is told through the
 * report pipe (report_fd), or where the daemon's memory is shared for certain (the clone3
 * child) written into *shared, which the daemon reads once the child has exited. */
static void __attribute__((noreturn))
child_exec(int out_fd, int err_fd, int report_fd, child_failure *shared, int cg_fd, int nice,
           const char *cwd, char **argv, char **envp)
{
    sigset_t all;
    child_failure f = {3, 0};
    int devnull, rfd = report_fd;

    /* Into the job's cgroup before anything runs, so every descendant is born in it. */
    if (cg_fd >= 0 && write(cg_fd, "0", 1) != 1)
        goto fail;
    setsid();
    /* Handlers back to default while the daemon's signals are still blocked, then the job
     * starts with an empty mask. */
    for (int i = 0; i < n_to_reset; i++)
        signal(to_reset[i], SIG_DFL);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 ||
        (report_fd >= 0 && dup2(report_fd, 3) < 0))
        goto fail;
    /* Nothing of the daemon's leaks into the job: only 0, 1, 2 and the report pipe. */
    if (report_fd >= 0) {
        rfd = 3;
        syscall(SYS_close_range, 4U, ~0U, 0U);
        fcntl(3, F_SETFD, FD_CLOEXEC);
    } else {
        syscall(SYS_close_range, 3U, ~0U, 0U);
    }
    if (cwd && chdir(cwd) != 0) {
        f.stage = 1;
        goto fail;
    }
    /* The daemon's own boost is not the job's (nice is per thread: only this child). Last,
     * since the daemon waits for the child until the exec: on a busy machine the
     * lowered priority made that wait longer. */
    if (nice != INT_MIN)
        setpriority(PRIO_PROCESS, 0, nice);
    f.stage = 2;
    execvpe(argv[0], argv, envp);
fail:
    f.err = errno;
    if (shared)
        *shared = f;
    else if (write(rfd, &f, sizeof(f)) < 0) {
        /* nothing left to tell */
    }
    _exit(127);
}

/* vfork, not fork: no page tables are copied and none of the daemon's pages become
 * copy-on-write (that cost milliseconds per spawn, in the child and in the daemon's next
 * writes), and the daemon resumes once the child has exec'd or failed, so the report
 * pipe is already closed or written when it is read. Where vfork is only a fork
 * (valgrind), that read waits for the exec as it always did. Apart from hpd__spawn_job so
 * that nothing the child could clobber lives in that frame. */
static pid_t spawn_child(int out_fd, int err_fd, int report_fd, int cg_fd, int nice,
                         const char *cwd, char **argv, char **envp)
{
    pid_t pid = vfork();

    if (pid == 0)
        child_exec(out_fd, err_fd, report_fd, NULL, cg_fd, nice, cwd, argv, envp);
    return pid;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HPD_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HPD_ASAN 1
#endif

/* AddressSanitizer takes the child's own stack for an overflow of the daemon's: the
 * sanitizer build keeps the vfork path. */
#if defined(__x86_64__) && defined(SYS_clone3) && !defined(HPD_ASAN)
/* clone3 with CLONE_INTO_CGROUP: the child is born in its job's cgroup, where writing
 * cgroup.procs from the child moved it there (a migration the daemon waited for: on a busy
 * machine vfork took 3.3 ms with a cgroup per job, 1.3 ms without); CLONE_PIDFD hands back
 * the pidfd in the same call. CLONE_VM | CLONE_VFORK as vfork does, but the child runs on
 * a stack of its own, entered by the few instructions below, since clone3 cannot return
 * into the caller's frames on the same stack. Where clone3 is refused (older kernels,
 * valgrind) spawn_child's vfork is used from then on. */
struct clone3_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};
enum { CLONE3_STACK = 256 * 1024, CLONE3_GUARD = 4096 };
#define CLONE3_INTO_CGROUP 0x200000000ULL

/* What the child needs, in the memory it shares with the daemon until it execs. */
static struct {
    int out_fd, err_fd, nice;
    child_failure *report;
    const char *cwd;
    char **argv, **envp;
} clone3_child;
static int clone3_refused;

static void __attribute__((noreturn)) clone3_entry(void)
{
    child_exec(clone3_child.out_fd, clone3_child.err_fd, -1, clone3_child.report, -1,
               clone3_child.nice, clone3_child.cwd, clone3_child.argv, clone3_child.envp);
}

/* The child's pid (*pidfd set), or -1 with errno. */
static pid_t clone3_spawn(struct clone3_args *args, void (*entry)(void))
{
    register void (*fn)(void) __asm__("r12") = entry;
    long rc;

    /* In the child rax is 0 and rsp the top of its stack: it calls entry, which never
     * returns. The parent resumes once the child has exec'd or exited. */
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "call *%%r12\n\t"
                     "ud2\n"
                     "1:\n\t"
                     : "=a"(rc)
                     : "0"((long)SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(fn)
                     : "rcx", "r11", "memory");
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return (pid_t)rc;
}

/* The child in the cgroup whose directory is cg_dir (-1: none) with its pidfd, or -1 with
 * errno; ENOSYS when clone3 cannot be used here. The child shares the daemon's memory
 * until it execs or exits (CLONE_VM | CLONE_VFORK): a failure is written into *report,
 * with no pipe to make, read and close for each job. */
static pid_t spawn_clone3(int out_fd, int err_fd, child_failure *report, int cg_dir, int nice,
                          const char *cwd, char **argv, char **envp, int *pidfd)
{
    static char *stack;
    struct clone3_args args = {0};
    pid_t pid;

    if (clone3_refused) {
        errno = ENOSYS;
        return -1;
    }
    if (!stack) {
        /* One stack for every child: the daemon waits while one uses it. The lowest page
         * stays unmapped, so an overflow kills the child, not the daemon's memory. */
        char *m = mmap(NULL, CLONE3_STACK + CLONE3_GUARD, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (m == MAP_FAILED)
            return -1;
        mprotect(m, CLONE3_GUARD, PROT_NONE);
        stack = m + CLONE3_GUARD;
    }
    clone3_child.out_fd = out_fd;
    clone3_child.err_fd = err_fd;
    clone3_child.report = report;
    clone3_child.nice = nice;
    clone3_child.cwd = cwd;
    clone3_child.argv = argv;
    clone3_child.envp = envp;
    args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | (cg_dir >= 0 ? CLONE3_INTO_CGROUP : 0);
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = CLONE3_STACK;
    args.cgroup = cg_dir >= 0 ? (uint64_t)cg_dir : 0;
    pid = clone3_spawn(&args, clone3_entry);
    if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL || errno == EPERM ||
                    errno == EOPNOTSUPP)) {
        clone3_refused = 1;
        errno = ENOSYS;
    }
    return pid;
}
#else
static pid_t spawn_clone3(int out_fd, int err_fd, child_failure *report, int cg_dir, int nice,
                          const char *cwd, char **argv, char **envp, int *pidfd)
{
    (void)out_fd, (void)err_fd, (void)report, (void)cg_dir, (void)nice, (void)cwd;
    (void)argv, (void)envp, (void)pidfd;
    errno = ENOSYS;
    return -1;
}
#endif

/* An exec probe is spawned like its job (child_exec: its own session, the signals reset,
 * no fd of the daemon's, the niceness of jobs) and, with cgroups, into the job's cgroup
 * before it runs: what it costs is the job's, and the cgroup.kill of a stop takes
 * whatever it left behind, even what left its session. stdout and stderr on /dev/null. */
pid_t hpd__spawn_probe(hpd_server *srv, const hpd_job *job, const char *cwd, char **argv,
                       char **envp, char *why, size_t why_len)
{
    int devnull = -1, report[2] = {-1, -1}, cg_fd = -1;
    child_failure f;
    pid_t pid = -1;
    ssize_t n;

    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0 || pipe2(report, O_CLOEXEC) != 0) {
        snprintf(why, why_len, "probe exec: %s", strerror(errno));
        goto out;
    }
    if (srv->cgroup_dir) {
        char path[PATH_MAX];
        hpd__job_cgroup(srv, job, "cgroup.procs", path, sizeof(path));
        cg_fd = open(path, O_WRONLY | O_CLOEXEC);
        if (cg_fd < 0) {
            snprintf(why, why_len, "probe exec: cgroup %.400s: %s", path, strerror(errno));
            goto out;
        }
    }
    find_dispositions();
    pid = spawn_child(devnull, devnull, report[1], cg_fd, srv->niced ? srv->job_nice : INT_MIN, cwd,
                      argv, envp);
    if (pid < 0) {
        snprintf(why, why_len, "probe exec: fork: %s", strerror(errno));
        goto out;
    }
    close(report[1]);
    report[1] = -1;
    do
        n = read(report[0], &f, sizeof(f));
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(f)) {
        waitpid(pid, NULL, 0);
        pid = -1;
        if (f.stage == 1)
            snprintf(why, why_len, "cwd '%s': %s", cwd, strerror(f.err));
        else if (f.stage == 2)
            snprintf(why, why_len, "cannot execute '%s': %s", argv[0], strerror(f.err));
        else
            snprintf(why, why_len, "cannot set up the probe: %s", strerror(f.err));
    }
out:
    if (devnull >= 0)
        close(devnull);
    if (cg_fd >= 0)
        close(cg_fd);
    for (int i = 0; i < 2; i++)
        if (report[i] >= 0)
            close(report[i]);
    return pid;
}

/* Marks a job ended with a final state and a reason; runs the scheduler afterwards. */
void hpd__job_end(hpd_server *srv, hpd_job *job, hpd_job_state state, const char *error)
{
    hpd_loop_timer_cancel(srv->loop, job->timer);
    hpd_loop_timer_cancel(srv->loop, job->kill_timer);
    hpd_loop_timer_cancel(srv->loop, job->drain_timer);
    job->timer = job->kill_timer = job->drain_timer = 0;
    job->status = state;
    job->ended_at_ms = hpd_now_ms();
    if (error) {
        free(job->error);
        job->error = strdup(error);
    }
    hpd_save_job(srv, job);
    /* While stopping, the last job to end lets the daemon exit at once (what is left
     * pending is settled by the final hpd_stop_all after the loop). */
    if (srv->stopping && hpd_running_jobs(srv) == 0)
        hpd_loop_stop(srv->loop);
}

static void spawn_failed(hpd_server *srv, hpd_job *job, const char *why)
{
    hpd_job_syslog(srv, job, "cannot start: %s", why);
    job->pid = 0;
    hpd__job_end(srv, job, HPD_JOB_FAILED, why);
}

void hpd__spawn_job(hpd_server *srv, hpd_job *job)
{
    hpd_run *run = job->run;
    const hp_action_spec *a = &run->actions[job->index];
    char why[512] = "";
    char **argv = NULL, **envp = NULL;
    int out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1}, cg_fd = -1, cg_dir = -1;
    int pidfd = -1, nice, fresh_cgroup = 0, announced = 0;
    child_failure f = {0, 0};
    ssize_t n = 0;
    pid_t pid;

    job->attempt++;
    job->has_exit = 0;
    job->exit_code = job->signal = 0;
    job->reaped = 0;
    job->exit_unknown = 0;
    job->stop_as = HPD_JOB_PENDING;
    job->started_at_ms = hpd_now_ms();
    job->ended_at_ms = 0;
    job->retry_at_ms = 0;
    argv = build_argv(a, why, sizeof(why));
    if (argv)
        envp = build_env(srv, job, a, why, sizeof(why));
    if (!argv || !envp)
        goto failed;
    if (srv->cgroup_dir) {
        char path[PATH_MAX];
        hpd__job_cgroup(srv, job, NULL, path, sizeof(path));
        if (mkdir(path, 0755) == 0)
            fresh_cgroup = 1;
        else if (errno != EEXIST) {
            snprintf(why, sizeof(why), "cgroup %.400s: %s", path, strerror(errno));
            goto failed;
        }
        cg_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg_dir < 0) {
            snprintf(why, sizeof(why), "cgroup %.400s: %s", path, strerror(errno));
            goto failed;
        }
    }
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
        goto failed;
    }
    /* 1 MiB of room: a burst waits in the pipe, not in the job's write, while the loop
     * answers a call. Past /proc/sys/fs/pipe-max-size it stays at the default; fine. */
    (void)fcntl(out[0], F_SETPIPE_SZ, PIPE_BYTES);
    (void)fcntl(err[0], F_SETPIPE_SZ, PIPE_BYTES);
    find_dispositions();
    hpd_holder_spawning(srv, job, out[0]);
    announced = 1;
    nice = srv->niced ? srv->job_nice : INT_MIN;
    /* Only into a cgroup made for this attempt: the kernel measured here (6.18) kills a
     * child cloned into a cgroup that was once killed (cgroup.kill of an earlier attempt
     * that still had a process dying when the cgroup could not be removed). */
    if (cg_dir >= 0 && !fresh_cgroup) {
        errno = ENOSYS;
        pid = -1;
    } else {
        pid = spawn_clone3(out[1], err[1], &f, cg_dir, nice, a->cwd, argv, envp, &pidfd);
    }
    if (pid < 0 && errno == ENOSYS) {
        /* vfork, and the child writes itself into cgroup.procs; where vfork is a fork
         * (valgrind) only a pipe carries the report */
        if (pipe2(report, O_CLOEXEC) != 0) {
            snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
            goto failed;
        }
        if (cg_dir >= 0 && (cg_fd = openat(cg_dir, "cgroup.procs", O_WRONLY | O_CLOEXEC)) < 0) {
            hpd__job_cgroup(srv, job, "cgroup.procs", why, sizeof(why));
            snprintf(why + strlen(why), sizeof(why) - strlen(why), ": %s", strerror(errno));
            goto failed;
        }
        pidfd = -1;
        pid = spawn_child(out[1], err[1], report[1], cg_fd, nice, a->cwd, argv, envp);
    }
    if (pid < 0) {
        snprintf(why, sizeof(why), "fork: %s", strerror(errno));
        goto failed;
    }
    if (cg_fd >= 0)
        close(cg_fd);
    if (cg_dir >= 0)
        close(cg_dir);
    cg_fd = cg_dir = -1;
    close(out[1]);
    close(err[1]);
    out[1] = err[1] = -1;
    if (report[0] >= 0) {
        close(report[1]);
        report[1] = -1;
        do
            n = read(report[0], &f, sizeof(f));
        while (n < 0 && errno == EINTR);
        close(report[0]);
        report[0] = -1;
    } else if (f.stage != 0) {
        n = (ssize_t)sizeof(f);
    }
    if (n == (ssize_t)sizeof(f)) {
        waitpid(pid, NULL, 0);
        if (pidfd >= 0)
            close(pidfd);
        if (f.stage == 1)
            snprintf(why, sizeof(why), "cwd '%s': %s", a->cwd, strerror(f.err));
        else if (f.stage == 2)
            snprintf(why, sizeof(why), "cannot execute '%s': %s", argv[0], strerror(f.err));
        else
            snprintf(why, sizeof(why), "cannot set up the process: %s", strerror(f.err));
        hpd__cgroup_sweep(srv);
        goto failed;
    }
    job->pid = pid;
    job->pidfd = pidfd >= 0 ? pidfd : (int)syscall(SYS_pidfd_open, pid, 0);
    job->pid_start = hpd__proc_start_time(pid);
    job->spawned_mono_ms = hpd_now_mono_ms();
    job->out[0] = (hpd_linebuf){.fd = out[0]};
    job->out[1] = (hpd_linebuf){.fd = err[0]};
    for (int i = 0; i < 2; i++) {
        fcntl(job->out[i].fd, F_SETFL, O_NONBLOCK);
        hpd_loop_watch(srv->loop, job->out[i].fd, EPOLLIN, hpd__on_output, job);
    }
    hpd_holder_add(srv, job);
    job->status = HPD_JOB_RUNNING;
    if (a->timeout_secs > 0)
        job->timer = hpd_loop_timer(srv->loop, (uint64_t)a->timeout_secs * 1000u, on_timeout, job);
    hpd_job_syslog(srv, job, "spawned pid %d (attempt %d)", (int)pid, job->attempt);
    hpd_event_emit(srv, HPD_EV_JOB_STARTED, run, job, "%s started: pid %d (attempt %d)",
                   run->actions[job->index].name, (int)pid, job->attempt);
    if (run->status == HPD_RUN_PENDING) {
        run->status = HPD_RUN_RUNNING;
        run->started_at_ms = job->started_at_ms;
        hpd_save_run(srv, run);
    }
    hpd_save_job(srv, job);
    hp_argv_free(argv);
    free_env(envp);
    hpd_probe_job_started(srv, job);
    return;
failed:
    if (announced)
        hpd_holder_drop(srv, job, 0); /* nothing runs: the holder forgets the spawn */
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (err[i] >= 0)
            close(err[i]);
        if (report[i] >= 0)
            close(report[i]);
    }
    if (cg_fd >= 0)
        close(cg_fd);
    if (cg_dir >= 0)
        close(cg_dir);
    hp_argv_free(argv);
    free_env(envp);
    spawn_failed(srv, job, why);
}

/* ---- stopping --------------------------------------------------------------------- */

static void on_kill_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;

    (void)loop;
    (void)id;
    job->kill_timer = 0;
    if (job->pid > 0 && !job->reaped) {
        hpd_job_syslog(job->run->srv, job, "still running after %llu ms: sending SIGKILL",
                       (unsigned long long)job->run->srv->opt.kill_grace_ms);
        hpd__signal_escapees(job->run->srv, job, SIGKILL, 0);
        hpd__signal_group(job->pid, job->pidfd, job->pid_start, SIGKILL);
    }
}

/* SIGTERM to the group now, SIGKILL after the grace period; as = the final state. */
void hpd__stop_job(hpd_server *srv, hpd_job *job, hpd_job_state as)
{
    if (job->pid <= 0 || job->reaped)
        return;
    if (job->stop_as == HPD_JOB_PENDING)
        job->stop_as = as;
    if (job->kill_timer)
        return;
    /* Escapees first: while the leader lives, its children are found by their parent. */
    hpd__signal_escapees(srv, job, SIGTERM, 0);
    hpd__signal_group(job->pid, job->pidfd, job->pid_start, SIGTERM);
    job->kill_timer = hpd_loop_timer(srv->loop, srv->opt.kill_grace_ms, on_kill_timer, job);
}

static void on_timeout(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;
    hpd_server *srv = job->run->srv;

    (void)loop;
    (void)id;
    job->timer = 0;
    hpd_job_syslog(srv, job, "timed out after %ld s: sending SIGTERM to the process group",
                   job->run->actions[job->index].timeout_secs);
    hpd__stop_job(srv, job, HPD_JOB_TIMED_OUT);
}

void hpd__arm_timeout(hpd_server *srv, hpd_job *job)
{
    int64_t limit = (int64_t)job->run->actions[job->index].timeout_secs * 1000;

    if (limit <= 0 || job->timer)
        return;
    job->timer =
        hpd_loop_timer(srv->loop, hpd__ms_left(job->started_at_ms + limit, limit), on_timeout, job);
}

char **hpd__job_env(hpd_server *srv, const hpd_job *job, char *why, size_t why_len)
{
    return build_env(srv, job, &job->run->actions[job->index], why, why_len);
}

void hpd__job_env_free(char **envp)
{
    free_env(envp);
}
