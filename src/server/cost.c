/* SPDX-License-Identifier: Apache-2.0 */
/* The cost of running jobs: one walk of /proc finds every process whose group is a running
 * job's and sums its CPU time (its own and its reaped children's, so a short-lived child
 * is not lost), resident pages and threads. CPU% is the difference between two samples
 * over the wall time between them: 100 is one core. */
#include "config.h"

#include "server/cost.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SAMPLE_MS = 1000 };

typedef struct slot {
    pid_t pgid;
    hpd_job *job;
    uint64_t ticks;
    int64_t rss_pages;
    int threads, procs;
} slot;

static int by_pgid(const void *a, const void *b)
{
    pid_t x = ((const slot *)a)->pgid, y = ((const slot *)b)->pgid;

    return x < y ? -1 : x > y;
}

/* The fields of /proc/PID/stat after the command (which may hold spaces and parentheses):
 * pgrp, utime + stime + cutime + cstime, num_threads, rss. 0, or -1 when unreadable. */
static int read_stat(const char *pid, pid_t *pgrp, uint64_t *ticks, int *threads, int64_t *rss)
{
    char path[64], buf[1024], *p;
    unsigned long long v[22];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    p += 3; /* past ") " and the state letter: field 4 (ppid) on */
    for (int i = 0; i < 21; i++) {
        char *end;
        v[i] = strtoull(p, &end, 10);
        if (end == p)
            return -1;
        p = end;
    }
    /* v[0] is field 4 (ppid): field k is v[k - 4]. */
    *pgrp = (pid_t)v[1];
    *ticks = v[10] + v[11] + v[12] + v[13];
    *threads = (int)v[16];
    *rss = (int64_t)v[20];
    return 0;
}

static int changed(const hpd_job *job, double pct, int64_t rss, int threads, int procs)
{
    return (int)(job->cpu_pct * 10) != (int)(pct * 10) || job->rss_bytes != rss ||
           job->threads != threads || job->procs != procs;
}

void hpd_cost_refresh(hpd_server *srv)
{
    static long tick_hz, page_bytes;
    uint64_t now = hpd_now_mono_ms();
    size_t n = 0, cap = 0;
    slot *slots = NULL;
    struct dirent *e;
    int any = 0;
    DIR *d;

    if (srv->cost_mono_ms && now - srv->cost_mono_ms < SAMPLE_MS)
        return;
    for (hpd_run *run = srv->runs_head; run; run = run->next) {
        if (!hpd_run_active(run))
            continue;
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (job->status != HPD_JOB_RUNNING || job->pid <= 0 || job->reaped)
                continue;
            if (n == cap) {
                slot *grown = realloc(slots, (cap = cap ? cap * 2 : 16) * sizeof(*slots));
                if (!grown)
                    goto out;
                slots = grown;
            }
            slots[n++] = (slot){.pgid = job->pid, .job = job};
        }
    }
    srv->cost_mono_ms = now;
    if (n == 0)
        goto out;
    if (!tick_hz) {
        tick_hz = sysconf(_SC_CLK_TCK);
        page_bytes = sysconf(_SC_PAGESIZE);
    }
    qsort(slots, n, sizeof(*slots), by_pgid);
    d = opendir("/proc");
    if (!d)
        goto out;
    while ((e = readdir(d)) != NULL) {
        slot key, *s;
        uint64_t ticks;
        int64_t rss;
        int threads;
        if (!isdigit((unsigned char)e->d_name[0]) ||
            read_stat(e->d_name, &key.pgid, &ticks, &threads, &rss) != 0)
            continue;
        s = bsearch(&key, slots, n, sizeof(*slots), by_pgid);
        if (!s)
            continue;
        s->ticks += ticks;
        s->rss_pages += rss;
        s->threads += threads;
        s->procs++;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        hpd_job *job = slots[i].job;
        double pct = 0;
        int64_t rss = slots[i].rss_pages * page_bytes;
        /* A first sample, or one of another attempt, only sets the base. */
        if (job->cost_mono_ms && job->cost_pid == job->pid && slots[i].ticks >= job->cost_ticks &&
            now > job->cost_mono_ms)
            pct = (double)(slots[i].ticks - job->cost_ticks) * 1000.0 * 100.0 / (double)tick_hz /
                  (double)(now - job->cost_mono_ms);
        if (!job->cost_mono_ms || job->cost_pid != job->pid ||
            changed(job, pct, rss, slots[i].threads, slots[i].procs))
            any = 1;
        job->cpu_pct = pct;
        job->rss_bytes = rss;
        job->threads = slots[i].threads;
        job->procs = slots[i].procs;
        job->cost_ticks = slots[i].ticks;
        job->cost_mono_ms = now;
        job->cost_pid = job->pid;
    }
    if (any)
        hpd_changed(srv);
out:
    free(slots);
}
