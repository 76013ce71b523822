/* SPDX-License-Identifier: Apache-2.0 */
/* What leaves a job's process group is still the job's: a cgroup v2 per job with
 * cgroup.kill, or the HERO_PROC_JOB environment marker and a /proc walk of descendants. */
#include "config.h"

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

/* ---- descendants: a cgroup per job, or the environment marker ---------------------- */

/* Every job's environment carries MARKER=<daemon pid>.<job id> (supervisor_int.h), so a
 * process that left the job's group (setsid, a double fork) is still known as the job's.
 * With cgroup v2 each job also gets a cgroup of its own below srv->cgroup_dir, which
 * nothing inside can leave and which cgroup.kill empties at once. */

/* A process held between a check and its signal, so its id cannot be reused in between:
 * by a pidfd, or where there is none (valgrind has no pidfd_open) by its start time. */
typedef struct proc_ref {
    pid_t pid;
    int fd;
    unsigned long long start;
} proc_ref;

static int proc_hold(pid_t pid, proc_ref *r)
{
    r->pid = pid;
    r->fd = (int)syscall(SYS_pidfd_open, pid, 0);
    r->start = r->fd < 0 ? hpd__proc_start_time(pid) : 0;
    return r->fd >= 0 || r->start ? 0 : -1;
}

static void proc_release(proc_ref *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

/* The one way the daemon signals a single process. Refuses init, the daemon itself and
 * ids <= 1. */
static int proc_signal(const proc_ref *r, int sig)
{
    if (r->pid <= 1 || r->pid == getpid()) {
        errno = EINVAL;
        return -1;
    }
    if (r->fd >= 0)
        return (int)syscall(SYS_pidfd_send_signal, r->fd, sig, NULL, 0);
    if (hpd__proc_start_time(r->pid) != r->start) {
        errno = ESRCH;
        return -1;
    }
    return kill(r->pid, sig);
}

static int signal_pid(pid_t pid, int sig)
{
    proc_ref r;
    int rc;

    if (proc_hold(pid, &r) != 0)
        return -1;
    rc = proc_signal(&r, sig);
    proc_release(&r);
    return rc;
}

int hpd__write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

void hpd__job_cgroup(const hpd_server *srv, const hpd_job *job, const char *file, char *buf,
                     size_t size)
{
    snprintf(buf, size, "%s/job-%lld%s%s", srv->cgroup_dir, (long long)job->id, file ? "/" : "",
             file ? file : "");
}

/* 1 when /proc/PID/environ holds needle as a whole entry (or, with prefix, as the start
 * of one). */
/* The entry of pid's environment equal to needle (or starting with it, prefix), in a
 * buffer that the next call overwrites; NULL when there is none. */
static const char *environ_find(pid_t pid, const char *needle, int prefix)
{
    static char buf[256 * 1024];
    char path[64];
    size_t len = 0, nl = strlen(needle);
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    for (size_t at = 0; at < len; at += strlen(buf + at) + 1)
        if (strncmp(buf + at, needle, nl) == 0 && (prefix || buf[at + nl] == '\0'))
            return buf + at;
    return NULL;
}

static int environ_has(pid_t pid, const char *needle, int prefix)
{
    return environ_find(pid, needle, prefix) != NULL;
}

pid_t hpd__marker_daemon(pid_t pid, int64_t job_id)
{
    const char *m = environ_find(pid, MARKER "=", 1);
    long long job = 0;
    int daemon = 0;

    if (!m || sscanf(m + sizeof(MARKER), "%d.%lld", &daemon, &job) != 2 || job != job_id)
        return 0;
    return daemon > 1 && daemon != getpid() ? (pid_t)daemon : 0;
}

/* Signals every process whose environment carries needle, whose parent is the daemon
 * when children is set, or that descends from ancestor when it is > 1. */
/* 1 when ancestor is pid's parent, grandparent, ... (a process that also cleared its
 * environment is still found while the job's leader lives). */
static int descends_from(pid_t pid, pid_t ancestor)
{
    for (int depth = 0; depth < 64 && pid > 1; depth++) {
        pid = hpd__parent_of(pid);
        if (pid == ancestor)
            return 1;
    }
    return 0;
}

void hpd__signal_marked(const char *needle, int prefix, int children, pid_t ancestor, int sig)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t self = getpid();
    proc_ref *found = NULL;
    size_t n = 0, cap = 0;

    if (!d)
        return;
    /* All found first, signalled after: a parent signalled at once could die and hand
     * its children to the daemon before the walk reaches them. */
    while ((e = readdir(d)) != NULL) {
        pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
        proc_ref r;
        if (pid <= 1 || pid == self || proc_hold(pid, &r) != 0)
            continue;
        if (!((needle && environ_has(pid, needle, prefix)) ||
              (children && hpd__parent_of(pid) == self) ||
              (ancestor > 1 && descends_from(pid, ancestor)))) {
            proc_release(&r);
            continue;
        }
        if (n == cap) {
            proc_ref *grown = realloc(found, (cap ? cap * 2 : 16) * sizeof(*found));
            if (!grown) {
                proc_signal(&r, sig); /* no room to wait: at once, then */
                proc_release(&r);
                continue;
            }
            found = grown;
            cap = cap ? cap * 2 : 16;
        }
        found[n++] = r;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        proc_signal(&found[i], sig);
        proc_release(&found[i]);
    }
    free(found);
}

/* 1 when the daemon has a child (alive or a zombie) that is no job's leader: an orphan
 * it adopted as subreaper. -1 when it cannot tell (no /proc/PID/task/TID/children). */
static int has_adopted_child(hpd_server *srv)
{
    char path[64];
    struct dirent *e;
    DIR *d = opendir("/proc/self/task");
    int found = 0, read_one = 0;

    while (d && !found && (e = readdir(d)) != NULL) {
        FILE *f;
        int pid;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%.20s/children", e->d_name);
        if (!(f = fopen(path, "re")))
            continue;
        read_one = 1;
        while (!found && fscanf(f, "%d", &pid) == 1)
            found = !hpd__job_by_pid(srv, (pid_t)pid);
        fclose(f);
    }
    if (d)
        closedir(d);
    return found ? 1 : read_one ? 0 : -1;
}

/* Signals every process of the job that is outside its process group too. leader_gone:
 * the leader has exited (a zombie not yet reaped), so its descendants were handed to
 * the daemon as subreaper: each one that lives is an adopted child or descends from
 * one, and with none adopted the /proc walk has nothing to find. */
void hpd__signal_escapees(hpd_server *srv, hpd_job *job, int sig, int leader_gone)
{
    char path[PATH_MAX], needle[64];
    FILE *f;
    int pid;

    if (srv->cgroup_dir) {
        /* With the leader gone, a cgroup that can be removed holds no process (a zombie
         * leader is not counted): nothing escaped, and the job's cgroup is gone in one
         * call instead of a cgroup.kill written first. */
        hpd__job_cgroup(srv, job, NULL, path, sizeof(path));
        if (sig == SIGKILL && leader_gone && rmdir(path) == 0)
            return;
        if (sig == SIGKILL) {
            hpd__job_cgroup(srv, job, "cgroup.kill", path, sizeof(path));
            if (hpd__write_text(path, "1") == 0)
                return;
        }
        hpd__job_cgroup(srv, job, "cgroup.procs", path, sizeof(path));
        f = fopen(path, "re");
        if (f) {
            while (fscanf(f, "%d", &pid) == 1)
                signal_pid(pid, sig);
            fclose(f);
            return;
        }
    }
    /* Escapees of a job the daemon spawned were handed to it (a subreaper): none there,
     * none escaped. Those of a re-adopted job went to another, and carry the marker of
     * the daemon that spawned it. */
    if (leader_gone && !job->marker_daemon && has_adopted_child(srv) == 0)
        return;
    snprintf(needle, sizeof(needle), MARKER "=%d.%lld",
             (int)(job->marker_daemon ? job->marker_daemon : getpid()), (long long)job->id);
    hpd__signal_marked(needle, 0, 0, job->reaped ? 0 : job->pid, sig);
}

/* Removes the cgroups of the daemon that are empty (a busy one stays until later). */
void hpd__cgroup_sweep(hpd_server *srv)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d;

    if (!srv->cgroup_dir || !(d = opendir(srv->cgroup_dir)))
        return;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "job-", 4) == 0) {
            snprintf(path, sizeof(path), "%s/%s", srv->cgroup_dir, e->d_name);
            rmdir(path);
        }
    closedir(d);
}

/* 1 when a child can move itself into a cgroup below dir, as each job's leader will. */
static int cgroup_probe(const char *dir)
{
    char path[PATH_MAX];
    int fd, status = 0;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/probe", dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return 0;
    snprintf(path, sizeof(path), "%s/probe/cgroup.procs", dir);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0 && (pid = fork()) == 0)
        _exit(write(fd, "0", 1) == 1 ? 0 : 1);
    else if (fd >= 0 && pid > 0)
        waitpid(pid, &status, 0);
    if (fd >= 0)
        close(fd);
    snprintf(path, sizeof(path), "%s/probe", dir);
    rmdir(path);
    return fd >= 0 && pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Removes what a daemon killed with SIGKILL left in parent: hero_proc.<pid> sub-trees of
 * pids that no longer exist, when they are empty (a busy one is left alone). */
static void cgroup_remove_stale(const char *parent)
{
    char path[PATH_MAX];
    struct dirent *e, *j;
    DIR *d = opendir(parent), *sub;

    while (d && (e = readdir(d)) != NULL) {
        int pid = 0;
        if (sscanf(e->d_name, "hero_proc.%d", &pid) != 1 || pid <= 1 || kill(pid, 0) == 0 ||
            errno != ESRCH)
            continue;
        snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
        sub = opendir(path);
        while (sub && (j = readdir(sub)) != NULL)
            if (strncmp(j->d_name, "job-", 4) == 0 || strcmp(j->d_name, "probe") == 0) {
                char leaf[PATH_MAX + 300];
                snprintf(leaf, sizeof(leaf), "%s/%s", path, j->d_name);
                rmdir(leaf);
            }
        if (sub)
            closedir(sub);
        rmdir(path);
    }
    if (d)
        closedir(d);
}

/* The cgroup v2 sub-tree <own cgroup>/hero_proc.<pid>, or NULL (marker only) when
 * cgroup2 is not mounted or not writable. No controller is enabled in it, so its
 * leaves may hold processes. */
char *hpd__cgroup_setup(int taken_over)
{
    char line[4096], mount[PATH_MAX] = "", own[PATH_MAX] = "", *dir;
    int existed;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    while (f && fgets(line, sizeof(line), f)) {
        char mp[PATH_MAX];
        const char *sep = strstr(line, " - cgroup2 ");
        if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) {
            snprintf(mount, sizeof(mount), "%s", mp);
            break;
        }
    }
    if (f)
        fclose(f);
    f = fopen("/proc/self/cgroup", "re");
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(own, sizeof(own), "%s", strcmp(line + 3, "/") == 0 ? "" : line + 3);
        }
    if (f)
        fclose(f);
    if (!mount[0])
        return NULL;
    if (asprintf(&dir, "%s%s", mount, own) < 0)
        return NULL;
    /* An in-place upgrade is a pause for every client: the scan of the siblings and the
     * probe's fork and cgroup moves (half the new image's start) were done by the old
     * image, for this very sub-tree. */
    if (!taken_over)
        cgroup_remove_stale(dir);
    free(dir);
    if (asprintf(&dir, "%s%s/hero_proc.%d", mount, own, (int)getpid()) < 0)
        return NULL;
    existed = mkdir(dir, 0755) != 0;
    if (existed && errno != EEXIST) {
        free(dir);
        return NULL;
    }
    if (!(taken_over && existed) && !cgroup_probe(dir)) {
        rmdir(dir);
        free(dir);
        return NULL;
    }
    return dir;
}
