/* The supervisor: spawns each job in its own process group, captures its output into
 * the store line by line, enforces timeouts, retries and restarts with backoff, orders
 * jobs by their dependencies, reaps every child, and stops groups with SIGTERM then
 * SIGKILL, with what left the group (cgroup or environment marker). Every signal goes through
 * signal_group() or proc_signal(). It does not parse JSON-RPC. */
#include "config.h"

#include "server/secretbox.h"
#include "server/server.h"

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

enum { MAX_LINE = 16 * 1024, READ_CHUNK = 64 * 1024, FLUSH_LINES = 4096, FLUSH_MS = 20 };
enum { DRAIN_MS = 2000, CRASH_LOOP_AFTER = 5 };

static void schedule(hpd_server *srv, hpd_run *run);
static void spawn_job(hpd_server *srv, hpd_job *job);

/* ---- signals ---------------------------------------------------------------------- */

/* Field (3 = state, 4 = ppid, 22 = starttime) of /proc/PID/stat, 0 when unreadable. */
static unsigned long long proc_stat_field(pid_t pid, int want)
{
    char path[64], buf[1024];
    const char *p;
    unsigned long long value = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name may hold spaces and parens: fields count from the last ')'. */
    p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++; /* the space before field 3 */
    for (int field = 3; field < want && p; field++)
        p = strchr(p + 1, ' ');
    if (p)
        value = strtoull(p + 1, NULL, 10);
    return value;
}

static unsigned long long proc_start_time(pid_t pid)
{
    return proc_stat_field(pid, 22);
}

static pid_t parent_of(pid_t pid)
{
    return (pid_t)proc_stat_field(pid, 4);
}

/* The one way the daemon signals a process group. Refuses a group of 1 or less (kill(-1)
 * as root would hit every process). With a pidfd the leader is known to be ours (alive or
 * an unreaped zombie, so its group id cannot be reused); without one, the stored start
 * time must match /proc before the numeric id is trusted. */
static int signal_group(pid_t pgid, int pidfd, unsigned long long start, int sig)
{
    if (pgid <= 1) {
        errno = EINVAL;
        return -1;
    }
    if (pidfd >= 0) {
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) != 0 && errno != ESRCH)
            return -1;
    } else if (start == 0 || proc_start_time(pgid) != start) {
        errno = ESRCH;
        return -1;
    }
    return kill(-pgid, sig);
}

/* ---- descendants: a cgroup per job, or the environment marker ---------------------- */

/* Every job's environment carries MARKER=<daemon pid>.<job id>, so a process that left
 * the job's group (setsid, a double fork) is still known as the job's. With cgroup v2
 * each job also gets a cgroup of its own below srv->cgroup_dir, which nothing inside can
 * leave and which cgroup.kill empties at once. */
#define MARKER "HERO_PROC_JOB"

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
    r->start = r->fd < 0 ? proc_start_time(pid) : 0;
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
    if (proc_start_time(r->pid) != r->start) {
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

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void job_cgroup(const hpd_server *srv, const hpd_job *job, const char *file, char *buf,
                       size_t size)
{
    snprintf(buf, size, "%s/job-%lld%s%s", srv->cgroup_dir, (long long)job->id, file ? "/" : "",
             file ? file : "");
}

/* 1 when /proc/PID/environ holds needle as a whole entry (or, with prefix, as the start
 * of one). */
static int environ_has(pid_t pid, const char *needle, int prefix)
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
            return 1;
    return 0;
}

/* Signals every process whose environment carries needle, whose parent is the daemon
 * when children is set, or that descends from ancestor when it is > 1. */
/* 1 when ancestor is pid's parent, grandparent, ... (a process that also cleared its
 * environment is still found while the job's leader lives). */
static int descends_from(pid_t pid, pid_t ancestor)
{
    for (int depth = 0; depth < 64 && pid > 1; depth++) {
        pid = parent_of(pid);
        if (pid == ancestor)
            return 1;
    }
    return 0;
}

static void signal_marked(const char *needle, int prefix, int children, pid_t ancestor, int sig)
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
              (children && parent_of(pid) == self) ||
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

static hpd_job *job_by_pid(hpd_server *srv, pid_t pid);

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
            found = !job_by_pid(srv, (pid_t)pid);
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
static void signal_escapees(hpd_server *srv, hpd_job *job, int sig, int leader_gone)
{
    char path[PATH_MAX], needle[64];
    FILE *f;
    int pid;

    if (srv->cgroup_dir) {
        if (sig == SIGKILL) {
            job_cgroup(srv, job, "cgroup.kill", path, sizeof(path));
            if (write_text(path, "1") == 0)
                return;
        }
        job_cgroup(srv, job, "cgroup.procs", path, sizeof(path));
        f = fopen(path, "re");
        if (f) {
            while (fscanf(f, "%d", &pid) == 1)
                signal_pid(pid, sig);
            fclose(f);
            return;
        }
    }
    if (leader_gone && has_adopted_child(srv) == 0)
        return;
    snprintf(needle, sizeof(needle), MARKER "=%d.%lld", (int)getpid(), (long long)job->id);
    signal_marked(needle, 0, 0, job->reaped ? 0 : job->pid, sig);
}

/* Removes the cgroups of the daemon that are empty (a busy one stays until later). */
static void cgroup_sweep(hpd_server *srv)
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
static char *cgroup_setup(void)
{
    char line[4096], mount[PATH_MAX] = "", own[PATH_MAX] = "", *dir;
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
    cgroup_remove_stale(dir);
    free(dir);
    if (asprintf(&dir, "%s%s/hero_proc.%d", mount, own, (int)getpid()) < 0)
        return NULL;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        free(dir);
        return NULL;
    }
    if (!cgroup_probe(dir)) {
        rmdir(dir);
        free(dir);
        return NULL;
    }
    return dir;
}

/* ---- logging ---------------------------------------------------------------------- */

static void flush_logs(hpd_server *srv)
{
    hpd_loop_timer_cancel(srv->loop, srv->flush_timer);
    srv->flush_timer = 0;
    hpd_store_log_flush(srv->store, NULL);
    hpd_store_watch(srv);
}

static void on_flush_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;

    (void)loop;
    if (srv->flush_timer == id)
        srv->flush_timer = 0;
    flush_logs(srv);
}

static void job_src(const hpd_job *job, char *buf, size_t size)
{
    const hpd_run *run = job->run;
    const char *action = run->actions[job->index].name;

    if (run->service)
        snprintf(buf, size, "service.%s.%s", run->service, action);
    else
        snprintf(buf, size, "run.%lld.%s", (long long)run->id, action);
}

/* Length of the valid UTF-8 sequence at p (not NUL, no overlong form, no surrogate, at
 * most U+10FFFF), 0 when it is not one. */
static size_t utf8_valid_at(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;

    if (c > 0 && c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (n > avail)
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* What a job prints goes out in JSON strings: invalid UTF-8 and NUL bytes become U+FFFD
 * (one per byte that starts no valid sequence), so strict decoders accept every line
 * and a NUL does not cut it. NULL when line is already valid (the usual case). */
static char *utf8_clean(const char *line, size_t len, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)line;
    size_t at = 0, n = 0, k;
    char *out;

    while (at < len && (k = utf8_valid_at(p + at, len - at)) > 0)
        at += k;
    if (at == len)
        return NULL;
    out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    memcpy(out, line, at);
    n = at;
    while (at < len) {
        k = utf8_valid_at(p + at, len - at);
        if (k) {
            memcpy(out + n, line + at, k);
            n += k;
            at += k;
        } else {
            memcpy(out + n, "\xEF\xBF\xBD", 3);
            n += 3;
            at++;
        }
    }
    *out_len = n;
    return out;
}

static void job_line(hpd_server *srv, hpd_job *job, hpd_stream stream, const char *line, size_t len)
{
    char src[160];
    size_t clean_len = 0;
    char *clean = utf8_clean(line, len, &clean_len);

    job_src(job, src, sizeof(src));
    if (clean) {
        line = clean;
        len = clean_len;
    }
    hpd_store_log_append(srv->store, hpd_now_ms(), src, job->id, job->attempt, stream, line, len);
    free(clean);
    job->lines++;
    if (hpd_store_log_pending(srv->store) >= FLUSH_LINES)
        flush_logs(srv);
    else if (!srv->flush_timer)
        srv->flush_timer = hpd_loop_timer(srv->loop, FLUSH_MS, on_flush_timer, srv);
}

void hpd_job_syslog(hpd_server *srv, hpd_job *job, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    job_line(srv, job, HPD_SYSTEM, line, strlen(line));
}

/* ---- persistence helpers ---------------------------------------------------------- */

static void on_store_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;

    (void)loop;
    if (srv->store_timer == id)
        srv->store_timer = 0;
    hpd_store_sync(srv->store, NULL);
    hpd_store_watch(srv);
}

/* The store's troubles are logged once per change (not once per failed write), and a
 * retry is kept scheduled while changes wait: nothing else may come to write them. */
void hpd_store_watch(hpd_server *srv)
{
    hpd_store_health h;

    hpd_store_health_get(srv->store, &h);
    if (h.generation != srv->store_generation) {
        if (h.dropped_writes != srv->store_dropped_writes)
            hpd_log(srv, 0, "store: a change was given up: %s", h.refused);
        if (!h.ok && (srv->store_ok || strcmp(h.error, srv->store_error) != 0))
            hpd_log(srv, 0,
                    "store: cannot write to %s/hero_proc.db: %s; changes wait in memory and are "
                    "retried, log lines past the wait's bound are dropped and counted",
                    srv->data_dir, h.error);
        else if (h.ok && !srv->store_ok)
            hpd_log(srv, 1, "store: written again; %lld log lines were dropped while it failed",
                    (long long)(h.dropped_lines - srv->store_dropped_lines));
        if (h.ok != srv->store_ok)
            srv->store_dropped_lines = h.dropped_lines;
        srv->store_generation = h.generation;
        srv->store_ok = h.ok;
        srv->store_dropped_writes = h.dropped_writes;
        snprintf(srv->store_error, sizeof(srv->store_error), "%s", h.error);
    }
    if (h.retry_in_ms >= 0 && !srv->store_timer)
        srv->store_timer = hpd_loop_timer(srv->loop, (uint64_t)h.retry_in_ms, on_store_timer, srv);
}

/* The run that hpd_run_create is starting: its rows are written once, when the start is
 * over, instead of as pending and at once again as running (each write is a transaction,
 * the largest part of a one-shot run's cost). Nothing reads them from the store in
 * between: answers come from memory, and the writes are done before the call returns. */
static const hpd_run *unsaved_run;

void hpd_save_run(hpd_server *srv, const hpd_run *run)
{
    hp_error err;

    if (run == unsaved_run) {
        hpd_changed(srv);
        return;
    }

    if (hpd_store_put_run(srv->store, run, &err) != 0)
        hpd_log(srv, 0, "%s", err.message);
    hpd_store_watch(srv);
    hpd_changed(srv);
}

void hpd_save_job(hpd_server *srv, const hpd_job *job)
{
    hp_error err;

    if (job->run == unsaved_run) {
        hpd_changed(srv);
        return;
    }

    if (hpd_store_put_job(srv->store, job, &err) != 0)
        hpd_log(srv, 0, "%s", err.message);
    hpd_store_watch(srv);
    hpd_changed(srv);
}

void hpd_save_service(hpd_server *srv, const hpd_service *svc)
{
    hp_error err;

    if (hpd_store_put_service(srv->store, svc, &err) != 0)
        hpd_log(srv, 0, "%s", err.message);
    hpd_store_watch(srv);
    hpd_changed(srv);
}

/* ---- output capture --------------------------------------------------------------- */

static void job_maybe_finish(hpd_server *srv, hpd_job *job);

/* Splits the buffered bytes into lines. A line longer than MAX_LINE is stored cut and
 * marked, whether its newline came in the same read or not; the rest of it is dropped. */
static void emit_lines(hpd_server *srv, hpd_job *job, hpd_stream stream, int at_eof)
{
    static const char mark[] = " [line cut]";
    hpd_linebuf *lb = &job->out[stream];
    size_t start = 0;

    while (start < lb->len) {
        size_t avail = lb->len - start;
        char *nl = memchr(lb->buf + start, '\n', avail);
        size_t len = nl ? (size_t)(nl - (lb->buf + start)) : avail;

        if (!nl && len < MAX_LINE && !at_eof)
            break; /* wait for the rest of the line */
        if (lb->cutting) {
            /* The tail of a line already stored cut: dropped up to its newline. */
            lb->cutting = !nl;
        } else if (len > MAX_LINE || (!nl && len == MAX_LINE && !at_eof)) {
            char cut[MAX_LINE + sizeof(mark)];
            memcpy(cut, lb->buf + start, MAX_LINE);
            memcpy(cut + MAX_LINE, mark, sizeof(mark) - 1);
            job_line(srv, job, stream, cut, MAX_LINE + sizeof(mark) - 1);
            lb->cutting = !nl;
        } else {
            size_t keep = len > 0 && lb->buf[start + len - 1] == '\r' ? len - 1 : len;
            job_line(srv, job, stream, lb->buf + start, keep);
        }
        start += nl ? len + 1 : len;
    }
    memmove(lb->buf, lb->buf + start, lb->len - start);
    lb->len -= start;
}

static void close_stream(hpd_server *srv, hpd_job *job, int stream)
{
    hpd_linebuf *lb = &job->out[stream];

    if (lb->fd < 0)
        return;
    hpd_loop_unwatch(srv->loop, lb->fd);
    close(lb->fd);
    lb->fd = -1;
    if (lb->len > 0 && !lb->cutting)
        emit_lines(srv, job, (hpd_stream)stream, 1);
    free(lb->buf);
    lb->buf = NULL;
    lb->len = lb->cap = 0;
    lb->cutting = 0;
}

static void on_output(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    hpd_job *job = data;
    hpd_server *srv = job->run->srv;
    int stream = job->out[0].fd == fd ? 0 : 1;
    hpd_linebuf *lb = &job->out[stream];
    size_t budget = 4 * READ_CHUNK; /* then let other fds have their turn */

    (void)loop;
    (void)events;
    while (budget > 0) {
        ssize_t n;
        if (lb->cap - lb->len < READ_CHUNK) {
            size_t cap = lb->len + READ_CHUNK + MAX_LINE;
            char *grown = realloc(lb->buf, cap);
            if (!grown)
                return;
            lb->buf = grown;
            lb->cap = cap;
        }
        n = read(fd, lb->buf + lb->len, READ_CHUNK);
        if (n > 0) {
            lb->len += (size_t)n;
            budget -= (size_t)n < budget ? (size_t)n : budget;
            emit_lines(srv, job, (hpd_stream)stream, 0);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        close_stream(srv, job, stream); /* EOF or a read error */
        job_maybe_finish(srv, job);
        return;
    }
}

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

typedef struct child_failure {
    int stage; /* 1 chdir, 2 exec, 3 setup */
    int err;
} child_failure;

/* In the vfork child, on the daemon's memory and stack until exec: only async-signal-safe
 * calls, nothing that allocates, and it never returns. */
static void __attribute__((noreturn)) child_exec(int out_fd, int err_fd, int report_fd, int cg_fd,
                                                 const char *cwd, char **argv, char **envp)
{
    sigset_t all;
    child_failure f = {3, 0};
    int devnull;

    /* Into the job's cgroup before anything runs, so every descendant is born in it. */
    if (cg_fd >= 0 && write(cg_fd, "0", 1) != 1)
        goto fail;
    setsid();
    /* Handlers back to default while the daemon's signals are still blocked, then the job
     * starts with an empty mask. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 ||
        dup2(report_fd, 3) < 0)
        goto fail;
    /* Nothing of the daemon's leaks into the job: only 0, 1, 2 and the report pipe. */
    syscall(SYS_close_range, 4U, ~0U, 0U);
    fcntl(3, F_SETFD, FD_CLOEXEC);
    if (cwd && chdir(cwd) != 0) {
        f.stage = 1;
        goto fail;
    }
    f.stage = 2;
    execvpe(argv[0], argv, envp);
fail:
    f.err = errno;
    if (write(3, &f, sizeof(f)) < 0) {
        /* nothing left to tell */
    }
    _exit(127);
}

/* vfork, not fork: no page tables are copied and none of the daemon's pages become
 * copy-on-write (that cost milliseconds per spawn, in the child and in the daemon's next
 * writes), and the daemon resumes once the child has exec'd or failed, so the report
 * pipe is already closed or written when it is read. Where vfork is only a fork
 * (valgrind), that read waits for the exec as it always did. Apart from spawn_job so
 * that nothing the child could clobber lives in that frame. */
static pid_t spawn_child(int out_fd, int err_fd, int report_fd, int cg_fd, const char *cwd,
                         char **argv, char **envp)
{
    pid_t pid = vfork();

    if (pid == 0)
        child_exec(out_fd, err_fd, report_fd, cg_fd, cwd, argv, envp);
    return pid;
}

static void on_timeout(hpd_loop *loop, uint64_t id, void *data);

/* Marks a job ended with a final state and a reason; runs the scheduler afterwards. */
static void job_end(hpd_server *srv, hpd_job *job, hpd_job_state state, const char *error)
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
    job_end(srv, job, HPD_JOB_FAILED, why);
}

static void spawn_job(hpd_server *srv, hpd_job *job)
{
    hpd_run *run = job->run;
    const hp_action_spec *a = &run->actions[job->index];
    char why[512] = "";
    char **argv = NULL, **envp = NULL;
    int out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1}, cg_fd = -1;
    child_failure f;
    ssize_t n;
    pid_t pid;

    job->attempt++;
    job->has_exit = 0;
    job->exit_code = job->signal = 0;
    job->reaped = 0;
    job->stop_as = HPD_JOB_PENDING;
    job->started_at_ms = hpd_now_ms();
    job->ended_at_ms = 0;
    argv = build_argv(a, why, sizeof(why));
    if (argv)
        envp = build_env(srv, job, a, why, sizeof(why));
    if (!argv || !envp)
        goto failed;
    if (srv->cgroup_dir) {
        char path[PATH_MAX];
        job_cgroup(srv, job, NULL, path, sizeof(path));
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            snprintf(why, sizeof(why), "cgroup %.400s: %s", path, strerror(errno));
            goto failed;
        }
        job_cgroup(srv, job, "cgroup.procs", path, sizeof(path));
        cg_fd = open(path, O_WRONLY | O_CLOEXEC);
        if (cg_fd < 0) {
            snprintf(why, sizeof(why), "cgroup %.400s: %s", path, strerror(errno));
            goto failed;
        }
    }
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
        snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
        goto failed;
    }
    pid = spawn_child(out[1], err[1], report[1], cg_fd, a->cwd, argv, envp);
    if (pid < 0) {
        snprintf(why, sizeof(why), "fork: %s", strerror(errno));
        goto failed;
    }
    if (cg_fd >= 0)
        close(cg_fd);
    cg_fd = -1;
    close(out[1]);
    close(err[1]);
    close(report[1]);
    out[1] = err[1] = report[1] = -1;
    do
        n = read(report[0], &f, sizeof(f));
    while (n < 0 && errno == EINTR);
    close(report[0]);
    report[0] = -1;
    if (n == (ssize_t)sizeof(f)) {
        waitpid(pid, NULL, 0);
        if (f.stage == 1)
            snprintf(why, sizeof(why), "cwd '%s': %s", a->cwd, strerror(f.err));
        else if (f.stage == 2)
            snprintf(why, sizeof(why), "cannot execute '%s': %s", argv[0], strerror(f.err));
        else
            snprintf(why, sizeof(why), "cannot set up the process: %s", strerror(f.err));
        cgroup_sweep(srv);
        goto failed;
    }
    job->pid = pid;
    job->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    job->pid_start = proc_start_time(pid);
    job->spawned_mono_ms = hpd_now_mono_ms();
    job->out[0] = (hpd_linebuf){.fd = out[0]};
    job->out[1] = (hpd_linebuf){.fd = err[0]};
    for (int i = 0; i < 2; i++) {
        fcntl(job->out[i].fd, F_SETFL, O_NONBLOCK);
        hpd_loop_watch(srv->loop, job->out[i].fd, EPOLLIN, on_output, job);
    }
    job->status = HPD_JOB_RUNNING;
    if (a->timeout_secs > 0)
        job->timer = hpd_loop_timer(srv->loop, (uint64_t)a->timeout_secs * 1000u, on_timeout, job);
    hpd_job_syslog(srv, job, "spawned pid %d (attempt %d)", (int)pid, job->attempt);
    if (run->status == HPD_RUN_PENDING) {
        run->status = HPD_RUN_RUNNING;
        run->started_at_ms = job->started_at_ms;
        hpd_save_run(srv, run);
    }
    hpd_save_job(srv, job);
    hp_argv_free(argv);
    free_env(envp);
    return;
failed:
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
        signal_escapees(job->run->srv, job, SIGKILL, 0);
        signal_group(job->pid, job->pidfd, job->pid_start, SIGKILL);
    }
}

/* SIGTERM to the group now, SIGKILL after the grace period; as = the final state. */
static void stop_job(hpd_server *srv, hpd_job *job, hpd_job_state as)
{
    if (job->pid <= 0 || job->reaped)
        return;
    if (job->stop_as == HPD_JOB_PENDING)
        job->stop_as = as;
    if (job->kill_timer)
        return;
    /* Escapees first: while the leader lives, its children are found by their parent. */
    signal_escapees(srv, job, SIGTERM, 0);
    signal_group(job->pid, job->pidfd, job->pid_start, SIGTERM);
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
    stop_job(srv, job, HPD_JOB_TIMED_OUT);
}

/* ---- exits, retries, restarts ----------------------------------------------------- */

static void on_retry_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;

    (void)loop;
    (void)id;
    job->timer = 0;
    if (job->status == HPD_JOB_RETRYING && !job->run->cancelling && !job->run->srv->stopping)
        spawn_job(job->run->srv, job);
    schedule(job->run->srv, job->run);
}

static void on_drain_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_job *job = data;
    hpd_server *srv = job->run->srv;

    (void)loop;
    (void)id;
    job->drain_timer = 0;
    /* A process outside the group still holds the pipes: stop waiting for them. */
    close_stream(srv, job, 0);
    close_stream(srv, job, 1);
    job_maybe_finish(srv, job);
}

/* Called when the process was reaped and when a pipe closed: the attempt is over once
 * both happened (or the drain timer gave up on the pipes). */
static void job_maybe_finish(hpd_server *srv, hpd_job *job)
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
        job_cgroup(srv, job, NULL, path, sizeof(path));
        rmdir(path); /* busy while killed escapees die: swept when they are reaped */
    }
    ok = job->has_exit && job->exit_code == 0 && job->signal == 0;
    if (job->signal)
        snprintf(reason, sizeof(reason), "killed by signal %d (%s)", job->signal,
                 strsignal(job->signal));
    else
        snprintf(reason, sizeof(reason), "exited with code %d", job->exit_code);
    hpd_job_syslog(srv, job, "pid %d %s", (int)job->pid, reason);

    if (job->stop_as == HPD_JOB_CANCELLED || job->run->cancelling || srv->stopping) {
        job_end(srv, job, HPD_JOB_CANCELLED, NULL);
        schedule(srv, job->run);
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
            spawn_job(srv, job);
            schedule(srv, job->run);
            return;
        }
        hpd_job_syslog(srv, job, "restarting in %llu ms (restart %d%s)",
                       (unsigned long long)job->backoff_ms, job->restarts,
                       job->crash_loop ? ", crash loop" : "");
        job->timer = hpd_loop_timer(srv->loop, job->backoff_ms, on_retry_timer, job);
        hpd_save_job(srv, job);
        schedule(srv, job->run);
        return;
    }
    if (ok) {
        job_end(srv, job, HPD_JOB_SUCCEEDED, NULL);
        free(job->error);
        job->error = NULL;
        schedule(srv, job->run);
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
        job->timer = hpd_loop_timer(srv->loop, (uint64_t)a->retry_delay_ms, on_retry_timer, job);
        hpd_save_job(srv, job);
        return;
    }
    job_end(srv, job, job->stop_as == HPD_JOB_TIMED_OUT ? HPD_JOB_TIMED_OUT : HPD_JOB_FAILED,
            reason);
    schedule(srv, job->run);
}

static hpd_job *job_by_pid(hpd_server *srv, pid_t pid)
{
    for (hpd_run *run = srv->runs_tail; run; run = run->prev) {
        if (!hpd_run_active(run))
            continue;
        for (size_t i = 0; i < run->n_actions; i++)
            if (run->jobs[i]->pid == pid && !run->jobs[i]->reaped &&
                run->jobs[i]->status == HPD_JOB_RUNNING)
                return run->jobs[i];
    }
    return NULL;
}

void hpd_reap(hpd_server *srv)
{
    for (;;) {
        siginfo_t si;
        int status;
        hpd_job *job;

        memset(&si, 0, sizeof(si));
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
            return;
        job = job_by_pid(srv, si.si_pid);
        if (job) {
            /* The leader is a zombie, so its group id is still reserved: whatever it left
             * running in its group goes with it, and so does what left the group. The
             * leader's exit ends the job: an escapee holding its pipes does not keep it
             * running. */
            signal_group(job->pid, job->pidfd, job->pid_start, SIGKILL);
            signal_escapees(srv, job, SIGKILL, 1);
        }
        if (waitpid(si.si_pid, &status, 0) < 0)
            continue;
        if (!job) {
            cgroup_sweep(srv); /* an orphan handed to us as subreaper: its cgroup may be empty */
            continue;
        }
        job->reaped = 1;
        job->has_exit = WIFEXITED(status);
        job->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
        job->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        job_maybe_finish(srv, job);
    }
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
        if (da->restart == HP_RESTART_ALWAYS && dep->status == HPD_JOB_RUNNING)
            continue;
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
        failed |= s == HPD_JOB_FAILED || s == HPD_JOB_TIMED_OUT;
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
    hpd_run_ended(srv, run);
}

static void schedule(hpd_server *srv, hpd_run *run)
{
    int changed = 1;

    if (!hpd_run_active(run))
        return;
    while (changed) {
        changed = 0;
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            const char *blocker = NULL;
            int ready;
            if (job->status != HPD_JOB_PENDING)
                continue;
            if (run->cancelling || srv->stopping) {
                job_end(srv, job, HPD_JOB_CANCELLED, NULL);
                changed = 1;
                continue;
            }
            ready = deps_ready(run, job, &blocker);
            if (ready < 0) {
                char why[512];
                dependency_failure(job_named(run, blocker), blocker, why, sizeof(why));
                hpd_job_syslog(srv, job, "skipped: %s", why);
                job_end(srv, job, HPD_JOB_SKIPPED, why);
                changed = 1;
            } else if (ready) {
                spawn_job(srv, job);
                changed = 1;
            }
        }
    }
    run_finish_if_done(srv, run);
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
    if (start_now) {
        unsaved_run = run;
        hpd_run_start(srv, run);
        unsaved_run = NULL;
    }
    /* The run's row first: its jobs' rows refer to it. */
    hpd_save_run(srv, run);
    for (size_t i = 0; i < n; i++)
        hpd_save_job(srv, run->jobs[i]);
    return run;
oom:
    hpd_run_free(run);
    hp_error_set_code(err, HP_E_NOMEM);
    return NULL;
}

void hpd_run_start(hpd_server *srv, hpd_run *run)
{
    schedule(srv, run);
}

void hpd_job_cancel(hpd_server *srv, hpd_job *job)
{
    if (hpd_job_state_final(job->status))
        return;
    if (job->status == HPD_JOB_RUNNING && job->pid > 0 && !job->reaped) {
        hpd_job_syslog(srv, job, "stop requested: sending SIGTERM to the process group");
        stop_job(srv, job, HPD_JOB_CANCELLED);
        return;
    }
    job_end(srv, job, HPD_JOB_CANCELLED, NULL);
    schedule(srv, job->run);
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
            job_end(srv, job, HPD_JOB_CANCELLED, NULL);
    }
    schedule(srv, run);
}

void hpd_run_delete(hpd_server *srv, hpd_run *run)
{
    hp_error err;

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
    int64_t finished = 0;
    hpd_run *run, *next;

    for (run = srv->runs_head; run; run = run->next)
        finished += !hpd_run_active(run);
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
    hpd_run *run = hpd_service_run(srv, svc);

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
            spawn_job(srv, job);
        }
        schedule(srv, run);
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
    hpd_run *old = hpd_service_run(srv, svc), *run;

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

    for (hpd_run *run = srv->runs_head; run; run = run->next)
        for (size_t i = 0; hpd_run_active(run) && i < run->n_actions; i++)
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
                stop_job(srv, job, HPD_JOB_CANCELLED);
                remaining = 1;
            } else if (job->status == HPD_JOB_RETRYING || job->status == HPD_JOB_PENDING) {
                job_end(srv, job, HPD_JOB_CANCELLED, NULL);
            }
        }
        schedule(srv, run);
    }
    flush_logs(srv);
    return remaining;
}

int hpd_supervisor_init(hpd_server *srv, hp_error *err)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot become a subreaper");
    if (!srv->opt.no_cgroups)
        srv->cgroup_dir = cgroup_setup();
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
    /* Whatever a job started and is still alive goes now: nothing outlives the daemon. */
    d = srv->cgroup_dir ? opendir(srv->cgroup_dir) : NULL;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "job-", 4) == 0) {
            snprintf(path, sizeof(path), "%s/%s/cgroup.kill", srv->cgroup_dir, e->d_name);
            write_text(path, "1");
        }
    if (d)
        closedir(d);
    snprintf(needle, sizeof(needle), MARKER "=%d.", (int)getpid());
    signal_marked(needle, 1, 1, 0, SIGKILL);
    while (has_children() && hpd_now_mono_ms() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        hpd_reap(srv);
        nanosleep(&ts, NULL);
    }
    hpd_reap(srv);
    cgroup_sweep(srv);
    if (srv->cgroup_dir)
        rmdir(srv->cgroup_dir);
    free(srv->cgroup_dir);
    srv->cgroup_dir = NULL;
}

/* A job recorded as running by a daemon that died: its process group, if that very
 * process still exists (same start time), is terminated, then the job is failed. */
static void recover_job(hpd_server *srv, hpd_job *job)
{
    if (job->pid > 1 && job->pid_start && proc_start_time(job->pid) == job->pid_start) {
        uint64_t deadline = hpd_now_mono_ms() + srv->opt.kill_grace_ms;
        hpd_job_syslog(srv, job, "supervisor restarted: terminating leftover group %d",
                       (int)job->pid);
        signal_group(job->pid, -1, job->pid_start, SIGTERM);
        while (kill(-job->pid, 0) == 0 && hpd_now_mono_ms() < deadline) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            hpd_reap(srv);
        }
        if (kill(-job->pid, 0) == 0)
            kill(-job->pid, SIGKILL);
    }
    job->pid = 0;
    hpd_job_syslog(srv, job, "marked failed: the supervisor stopped while it ran");
    job_end(srv, job, HPD_JOB_FAILED, "the supervisor stopped while it ran");
}

void hpd_recover(hpd_server *srv)
{
    for (hpd_run *run = srv->runs_head; run; run = run->next) {
        if (!hpd_run_active(run))
            continue;
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (job->status == HPD_JOB_RUNNING)
                recover_job(srv, job);
            else if (!hpd_job_state_final(job->status))
                job_end(srv, job, HPD_JOB_CANCELLED, "the supervisor stopped before it ran");
        }
        run_finish_if_done(srv, run);
    }
    flush_logs(srv);
}
