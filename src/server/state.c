/* SPDX-License-Identifier: Apache-2.0 */
/* The model's state and its look-ups, shared by the methods and the supervisor: finding
 * services, runs and jobs, a service's derived status, the change counter and the log.
 * It calls neither of them, so both depend on it and not on each other's internals. */
#include "config.h"

#include "server/probe.h"
#include "server/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hpd_log(hpd_server *srv, int level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    va_list ap;

    if (level > srv->opt.log_level)
        return;
    fprintf(stderr, "hero_proc_server: %s: ", names[level < 0 ? 0 : level > 3 ? 3 : level]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void hpd_changed(hpd_server *srv)
{
    srv->rev++;
}

/* ---- model look-ups --------------------------------------------------------------- */

static size_t service_slot(hpd_server *srv, const char *name, int *found)
{
    size_t lo = 0, hi = srv->n_services;

    *found = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(srv->services[mid]->config.name, name);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

hpd_service *hpd_service_find(hpd_server *srv, const char *name)
{
    int found;
    size_t i = service_slot(srv, name, &found);

    return found ? srv->services[i] : NULL;
}

/* Inserts svc (taken) in name order; 0, or -1 without memory. */
int hpd_service_insert(hpd_server *srv, hpd_service *svc)
{
    int found;
    size_t i = service_slot(srv, svc->config.name, &found);

    if (srv->n_services == srv->cap_services) {
        size_t cap = srv->cap_services ? srv->cap_services * 2 : 16;
        hpd_service **grown = realloc(srv->services, cap * sizeof(*grown));
        if (!grown)
            return -1;
        srv->services = grown;
        srv->cap_services = cap;
    }
    memmove(&srv->services[i + 1], &srv->services[i],
            (srv->n_services - i) * sizeof(*srv->services));
    srv->services[i] = svc;
    srv->n_services++;
    return 0;
}

/* The index in srv->by_id of the first run whose id is >= id (n_runs when none). */
size_t hpd_run_slot(const hpd_server *srv, int64_t id)
{
    size_t lo = 0, hi = srv->by_id_partial ? 0 : srv->n_runs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (srv->by_id[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

hpd_run *hpd_run_find(hpd_server *srv, int64_t id)
{
    size_t i;

    if (!srv->by_id_partial) {
        i = hpd_run_slot(srv, id);
        return i < srv->n_runs && srv->by_id[i]->id == id ? srv->by_id[i] : NULL;
    }
    for (hpd_run *run = srv->runs_tail; run; run = run->prev)
        if (run->id == id)
            return run;
    return NULL;
}

/* A run's jobs get ids when it is created, after those of every older run: the job is
 * in the last run whose first job id is not above it. */
static hpd_job *job_in_index(hpd_server *srv, int64_t id)
{
    size_t lo = 0, hi = srv->n_runs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const hpd_run *run = srv->by_id[mid];
        if (run->n_actions && run->jobs[0] && run->jobs[0]->id <= id) /* NULL: loading */
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    for (size_t i = 0; i < srv->by_id[lo - 1]->n_actions; i++)
        if (srv->by_id[lo - 1]->jobs[i] && srv->by_id[lo - 1]->jobs[i]->id == id)
            return srv->by_id[lo - 1]->jobs[i];
    return NULL;
}

hpd_job *hpd_job_find(hpd_server *srv, int64_t id)
{
    hpd_job *job = srv->by_id_partial ? NULL : job_in_index(srv, id);

    if (job || !srv->by_id_partial)
        return job;
    for (hpd_run *run = srv->runs_tail; run; run = run->prev) {
        if (run->n_actions == 0 || run->jobs[0]->id > id)
            continue;
        for (size_t i = 0; i < run->n_actions; i++)
            if (run->jobs[i]->id == id)
                return run->jobs[i];
    }
    return NULL;
}

hpd_run *hpd_service_run(hpd_server *srv, const hpd_service *svc)
{
    return svc->run_id ? hpd_run_find(srv, svc->run_id) : NULL;
}

int hpd_run_active(const hpd_run *run)
{
    return run->status == HPD_RUN_PENDING || run->status == HPD_RUN_RUNNING;
}

const char *hpd_service_state(hpd_server *srv, const hpd_service *svc)
{
    hpd_run *run = hpd_service_run(srv, svc);
    int running = 0, waiting_after_failure = 0, waiting_after_exit = 0;

    if (svc->pending_start) {
        hpd_run *old = hpd_run_find(srv, svc->pending_start);
        if (old && hpd_run_active(old))
            return "running"; /* restarting: the old run is still stopping */
    }
    if (!run)
        return "inactive";
    switch (run->status) {
    case HPD_RUN_SUCCEEDED:
        return "success";
    case HPD_RUN_FAILED:
        return "failed";
    case HPD_RUN_CANCELLED:
        return "inactive";
    case HPD_RUN_PENDING:
    case HPD_RUN_RUNNING:
        break;
    }
    for (size_t i = 0; i < run->n_actions; i++) {
        const hpd_job *job = run->jobs[i];
        if (job->status == HPD_JOB_RUNNING)
            running |= job->health == HPD_HEALTH_UNHEALTHY ? 3 : 1; /* 3: one is unhealthy */
        else if (job->status == HPD_JOB_RETRYING && job->error)
            waiting_after_failure = 1;
        else if (job->status == HPD_JOB_RETRYING)
            waiting_after_exit = 1;
        else if (job->status == HPD_JOB_FAILED || job->status == HPD_JOB_TIMED_OUT)
            waiting_after_failure = 1;
    }
    if (running)
        return running == 3 ? "degraded" : "running";
    if (waiting_after_failure)
        return "failed";
    if (waiting_after_exit)
        return "exited";
    return "running";
}
