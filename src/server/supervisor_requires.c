/* SPDX-License-Identifier: Apache-2.0 */
/* Service dependencies (requires): the cross-service check at service.set, the start and
 * stop orders, and the hold on a service's run until what it requires is ready. The
 * per-service rules (names, duplicates, itself) are spec_validate.c's; spawning and
 * signalling stay in supervisor.c. */
#include "config.h"

#include "server/probe.h"
#include "server/requires.h"
#include "server/supervisor_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Index of name in the sorted service table, or (size_t)-1. */
static size_t service_index(hpd_server *srv, const char *name)
{
    size_t lo = 0, hi = srv->n_services;

    while (name && lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(srv->services[mid]->config.name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

/* The requires of the service at i, or of cfg when it is the one being set. */
static const hp_service_config *config_at(hpd_server *srv, size_t i, const hp_service_config *cfg)
{
    const hp_service_config *c = &srv->services[i]->config;

    return cfg && strcmp(c->name, cfg->name) == 0 ? cfg : c;
}

/* Depth-first from i looking for target; on the way back path[] gets the services on it
 * (target excluded). Returns the path's length + 1 when found, else 0. */
static size_t reach(hpd_server *srv, const hp_service_config *cfg, size_t i, const char *target,
                    unsigned char *seen, const char **path, size_t depth)
{
    const hp_service_config *c = config_at(srv, i, cfg);

    if (seen[i] || depth >= srv->n_services)
        return 0;
    seen[i] = 1;
    path[depth] = c->name;
    for (size_t r = 0; r < c->n_requires; r++) {
        size_t j;
        if (strcmp(c->requires[r], target) == 0)
            return depth + 1;
        j = service_index(srv, c->requires[r]);
        if (j != (size_t)-1) {
            size_t len = reach(srv, cfg, j, target, seen, path, depth + 1);
            if (len)
                return len;
        }
    }
    return 0;
}

size_t hpd_requires_check(hpd_server *srv, const hp_service_config *cfg, hp_problems *pb)
{
    unsigned char *seen = NULL;
    const char **path = NULL;
    size_t found = 0;

    if (!cfg->name || cfg->n_requires == 0)
        return 0;
    seen = calloc(srv->n_services + 1, 1);
    path = calloc(srv->n_services + 1, sizeof(*path));
    for (size_t r = 0; r < cfg->n_requires; r++) {
        const char *req = cfg->requires[r];
        char at[32], text[1024];
        size_t i = service_index(srv, req), len, off;
        if (strcmp(req, cfg->name) == 0)
            continue; /* itself: spec_validate.c said so */
        snprintf(at, sizeof(at), "/requires/%zu", r);
        if (i == (size_t)-1) {
            hp_problems_add_at(pb, HP_PROBLEM_DEP_UNKNOWN, at,
                               "service '%s' requires unknown service '%s'", cfg->name, req);
            found++;
            continue;
        }
        if (!seen || !path)
            continue;
        memset(seen, 0, srv->n_services + 1);
        len = reach(srv, cfg, i, cfg->name, seen, path, 0);
        if (!len)
            continue;
        /* cfg -> path[0] -> ... -> cfg; the record's cycle lists them without the return */
        char *names[HP_REQUIRES_MAX + 1];
        size_t n_names = 0;
        off = (size_t)snprintf(text, sizeof(text), "service '%s': requires cycle: %s", cfg->name,
                               cfg->name);
        names[n_names++] = strdup(cfg->name);
        for (size_t k = 0; k < len && off < sizeof(text); k++) {
            off += (size_t)snprintf(text + off, sizeof(text) - off, " -> %s", path[k]);
            if (n_names < HP_REQUIRES_MAX + 1)
                names[n_names++] = strdup(path[k]);
        }
        if (off < sizeof(text))
            snprintf(text + off, sizeof(text) - off, " -> %s", cfg->name);
        hp_problem p = {.code = HP_PROBLEM_DEP_CYCLE,
                        .path = at,
                        .message = text,
                        .detail = strlen(cfg->name) + 12,
                        .cycle = names,
                        .n_cycle = n_names};
        for (size_t k = 0; k < n_names; k++)
            if (!names[k])
                p.cycle = NULL, p.n_cycle = 0; /* without memory: the sentence alone */
        hp_problems_push(pb, &p);
        for (size_t k = 0; k < n_names; k++)
            free(names[k]);
        found++;
    }
    free(seen);
    free(path);
    return found;
}

/* 1 ready, 0 not yet, -1 never (why says which). */
static int service_ready(hpd_server *srv, const char *name, char *why, size_t size)
{
    hpd_service *svc = hpd_service_find(srv, name);
    hpd_run *run = svc ? hpd_service_run(srv, svc) : NULL;

    if (!svc) {
        snprintf(why, size, "required service '%s' does not exist", name);
        return -1;
    }
    if (!run)
        return 0;
    if (run->status == HPD_RUN_SUCCEEDED)
        return 1;
    if (!hpd_run_active(run)) {
        snprintf(why, size, "required service '%s' %s", name,
                 run->status == HPD_RUN_FAILED ? "failed" : "was stopped");
        return -1;
    }
    for (size_t i = 0; i < run->n_actions; i++) {
        const hpd_job *job = run->jobs[i];
        /* A supervised action (a restart policy) is ready once it runs, healthy when
         * probed; a one-shot one (restart never, e.g. a migration) once it succeeded. */
        if (job->status == HPD_JOB_SUCCEEDED ||
            (run->actions[i].restart != HP_RESTART_NEVER && hpd_probe_job_ready(job)))
            continue;
        if (hpd_job_state_final(job->status)) {
            snprintf(why, size, "required service '%s': action '%s' %s", name, run->actions[i].name,
                     hpd_job_state_name(job->status));
            return -1;
        }
        return 0;
    }
    return 1;
}

/* A run none of whose jobs has left pending yet. */
static int not_started(const hpd_run *run)
{
    for (size_t i = 0; i < run->n_actions; i++)
        if (run->jobs[i]->status != HPD_JOB_PENDING)
            return 0;
    return 1;
}

int hpd_requires_ready(hpd_server *srv, const hpd_run *run, char *why, size_t size)
{
    hpd_service *svc = run->service ? hpd_service_find(srv, run->service) : NULL;
    int ready = 1;

    /* Once started, a service keeps running whatever its requirements do later: a
     * dependency's restart does not stop it (like an action's depends_on). */
    if (!svc || svc->config.n_requires == 0 || svc->run_id != run->id || !not_started(run))
        return 1;
    for (size_t r = 0; r < svc->config.n_requires; r++) {
        int one = service_ready(srv, svc->config.requires[r], why, size);
        if (one < 0)
            return -1;
        if (one == 0)
            ready = 0;
    }
    return ready;
}

void hpd_requires_wake(hpd_server *srv, const char *service)
{
    /* By index: scheduling never adds or removes services. While the daemon stops,
     * hpd_stop_all goes over every run itself. */
    for (size_t i = 0; service && !srv->stopping && i < srv->n_services; i++) {
        hpd_service *svc = srv->services[i];
        hpd_run *run;
        size_t r;
        for (r = 0; r < svc->config.n_requires; r++)
            if (strcmp(svc->config.requires[r], service) == 0)
                break;
        if (r == svc->config.n_requires)
            continue;
        run = hpd_service_run(srv, svc);
        if (run && hpd_run_active(run) && not_started(run))
            hpd__schedule(srv, run);
    }
}

static void start_deep(hpd_server *srv, hpd_service *svc, size_t depth)
{
    if (depth > srv->n_services)
        return; /* a cycle: service.set refuses them, this is only a bound */
    for (size_t r = 0; r < svc->config.n_requires; r++) {
        hpd_service *dep = hpd_service_find(srv, svc->config.requires[r]);
        hpd_run *run;
        hp_error err;
        if (!dep || dep == svc)
            continue;
        start_deep(srv, dep, depth + 1);
        run = hpd_service_run(srv, dep);
        if (run && hpd_run_active(run))
            continue;
        if (!hpd_service_start(srv, dep, &err))
            hpd_log(srv, 0, "cannot start service %s (required by %s): %s", dep->config.name,
                    svc->config.name, err.message);
    }
}

void hpd_requires_start(hpd_server *srv, hpd_service *svc)
{
    start_deep(srv, svc, 0);
}

/* Post-order walk: what i requires goes out before i. */
static void order_from(hpd_server *srv, size_t i, unsigned char *state, hpd_service **out,
                       size_t *n)
{
    const hp_service_config *c = &srv->services[i]->config;

    if (state[i])
        return;
    state[i] = 1;
    for (size_t r = 0; r < c->n_requires; r++) {
        size_t j = service_index(srv, c->requires[r]);
        if (j != (size_t)-1)
            order_from(srv, j, state, out, n);
    }
    out[(*n)++] = srv->services[i];
}

hpd_service **hpd_requires_order(hpd_server *srv)
{
    hpd_service **out = calloc(srv->n_services + 1, sizeof(*out));
    unsigned char *state = calloc(srv->n_services + 1, 1);
    size_t n = 0;

    if (!out || !state) {
        free(out);
        free(state);
        return NULL;
    }
    for (size_t i = 0; i < srv->n_services; i++)
        order_from(srv, i, state, out, &n);
    free(state);
    return out;
}

hpd_service **hpd_requires_dependants(hpd_server *srv, const hpd_service *svc, size_t *n)
{
    hpd_service **order = hpd_requires_order(srv), **out = NULL;
    unsigned char *in = calloc(srv->n_services + 1, 1);
    size_t count = 0;

    *n = 0;
    if (!order || !in)
        goto out;
    /* Requirements come first in the order, so one pass marks every dependant (in[] by
     * position in the service table). */
    for (size_t k = 0; k < srv->n_services; k++) {
        const hp_service_config *c = &order[k]->config;
        size_t at = service_index(srv, c->name);
        if (at == (size_t)-1)
            continue;
        if (order[k] == svc) {
            in[at] = 1;
            continue;
        }
        for (size_t r = 0; r < c->n_requires; r++) {
            size_t j = service_index(srv, c->requires[r]);
            if (j != (size_t)-1 && in[j]) {
                in[at] = 2;
                count++;
                break;
            }
        }
    }
    if (count == 0)
        goto out;
    out = calloc(count, sizeof(*out));
    if (!out)
        goto out;
    for (size_t k = srv->n_services; k-- > 0;)
        if (in[service_index(srv, order[k]->config.name)] == 2)
            out[(*n)++] = order[k];
out:
    free(order);
    free(in);
    return out;
}
