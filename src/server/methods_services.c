/* SPDX-License-Identifier: Apache-2.0 */
/* The service.* handlers and the limits on what clients may create
 * (--max-services, --max-active-runs). */
#include "config.h"

#include "server/methods_int.h"
#include "server/requires.h"
#include "server/secretbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- limits ----------------------------------------------------------------------- */

/* What clients may create is bounded (--max-services, --max-active-runs, --max-secrets)
 * so the daemon's memory stays bounded whatever they send; finished runs are bounded by
 * --max-runs (oldest removed first). A refusal changes nothing. */

static size_t active_runs(hpd_server *srv)
{
    return hpd_active_count(srv);
}

/* 1 after failing ctx with -32004 when one more active run would pass
 * --max-active-runs (message prefixed by what, which may be NULL); 0 while there is room. */
int hpd__refuse_new_run(hpd_rpc_ctx *ctx, const char *what)
{
    long long max = (long long)ctx->srv->opt.max_active_runs;

    if ((long long)active_runs(ctx->srv) < max)
        return 0;
    hpd_rpc_fail(ctx, HPD_LIMIT_REACHED, NULL,
                 "%s%s%lld runs are already active; wait for some to end", what ? what : "",
                 what ? ": " : "", max);
    return 1;
}

/* ---- services --------------------------------------------------------------------- */

cJSON *hpd__m_service_set(hpd_rpc_ctx *ctx)
{
    hpd_server *srv = ctx->srv;
    const cJSON *json = cJSON_GetObjectItemCaseSensitive(ctx->params, "config");
    hp_problems pb = {0};
    hp_service_config cfg = {0};
    hpd_service *svc;
    int created = 0;
    cJSON *o;

    hp_service_config_from_json(json, &cfg, &pb);
    hp_service_config_validate(&cfg, &pb);
    hpd_requires_check(srv, &cfg, &pb);
    hp_problems_nest(&pb, 0, "/config"); /* the paths point into the params */
    if (pb.count > 0) {
        hp_service_config_free(&cfg);
        return hpd__invalid(ctx, &pb);
    }
    svc = hpd_service_find(srv, cfg.name);
    if (!svc && (int64_t)srv->n_services >= srv->opt.max_services) {
        hp_service_config_free(&cfg);
        return hpd_rpc_fail(ctx, HPD_LIMIT_REACHED, NULL,
                            "at most %lld services; delete one before adding another",
                            (long long)srv->opt.max_services);
    }
    if (!svc) {
        /* Inserted with its config in place: the service table is kept sorted by name. */
        svc = calloc(1, sizeof(*svc));
        if (svc) {
            svc->config = cfg;
            svc->created_at_ms = hpd_now_ms();
        }
        if (!svc || hpd_service_insert(srv, svc) != 0) {
            free(svc);
            hp_service_config_free(&cfg);
            return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
        }
        created = 1;
    } else {
        if (!cJSON_HasObjectItem(json, "wanted"))
            cfg.wanted_start = svc->wanted_start;
        hp_service_config_free(&svc->config);
        svc->config = cfg;
    }
    svc->wanted_start = cfg.wanted_start;
    svc->updated_at_ms = hpd_now_ms();
    hpd_save_service(srv, svc);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", svc->config.name);
    cJSON_AddBoolToObject(o, "created", created);
    hp_json_add_int(o, "rev", srv->rev);
    return o;
}

cJSON *hpd__m_service_get(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = hpd__need_service(ctx);
    cJSON *o;

    if (!svc)
        return NULL;
    o = hp_service_config_to_json(&svc->config);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "wanted");
    cJSON_AddStringToObject(o, "wanted", svc->wanted_start ? "start" : "stop");
    hp_json_add_int(o, "created_at_ms", svc->created_at_ms);
    hp_json_add_int(o, "updated_at_ms", svc->updated_at_ms);
    return o;
}

cJSON *hpd__m_service_list(hpd_rpc_ctx *ctx)
{
    cJSON *same = hpd__unchanged(ctx), *items;

    if (same)
        return same;
    items = cJSON_CreateArray();
    for (size_t i = 0; i < ctx->srv->n_services; i++)
        cJSON_AddItemToArray(items, hpd__service_summary(ctx->srv, ctx->srv->services[i]));
    return hpd__list_result(ctx, "services", items);
}

cJSON *hpd__m_service_status(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = hpd__need_service(ctx);

    return svc ? hpd__service_status(ctx->srv, svc) : NULL;
}

cJSON *hpd__m_service_start(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = hpd__need_service(ctx);
    char what[160];
    hp_error err;
    hpd_run *run;

    if (!svc)
        return NULL;
    /* Starting a service whose run is active answers that run: only a new run counts. */
    run = hpd_service_run(ctx->srv, svc);
    snprintf(what, sizeof(what), "cannot start service '%s'", svc->config.name);
    if (!(run && hpd_run_active(run)) && hpd__refuse_new_run(ctx, what))
        return NULL;
    run = hpd_service_start(ctx->srv, svc, &err);
    if (!run)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "cannot start service '%s': %s",
                            svc->config.name, err.message);
    return hpd_run_json(ctx->srv, run, 1);
}

/* Refuses (1, ctx failed with Conflict and data {dependants}) when one of the n services
 * in deps is counted (running ones only when running_only), else 0. */
static int refuse_dependants(hpd_rpc_ctx *ctx, const hpd_service *svc, hpd_service **deps, size_t n,
                             int running_only, const char *verb)
{
    char names[512] = "";
    size_t off = 0, count = 0;
    cJSON *data, *list;

    data = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(data, "dependants");
    for (size_t i = n; i-- > 0;) { /* the nearest first: the order they would start */
        hpd_run *run = hpd_service_run(ctx->srv, deps[i]);
        if (running_only && !(run && hpd_run_active(run)))
            continue;
        cJSON_AddItemToArray(list, cJSON_CreateString(deps[i]->config.name));
        if (off < sizeof(names))
            off += (size_t)snprintf(names + off, sizeof(names) - off, "%s'%s'", count ? ", " : "",
                                    deps[i]->config.name);
        count++;
    }
    if (count == 0) {
        cJSON_Delete(data);
        return 0;
    }
    hpd_rpc_fail(ctx, HPD_CONFLICT, data,
                 "cannot %s service '%s': %sservice%s %s %s it; %s %s first or pass cascade", verb,
                 svc->config.name, running_only ? "running " : "", count == 1 ? "" : "s", names,
                 count == 1 ? "requires" : "require", verb, count == 1 ? "it" : "them");
    return 1;
}

cJSON *hpd__m_service_stop(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = hpd__need_service(ctx), **deps;
    size_t n = 0;

    if (!svc)
        return NULL;
    /* Dependants stop first, the last to have started first, so none loses what it
     * requires while it still runs. */
    deps = hpd_requires_dependants(ctx->srv, svc, &n);
    if (!hpd__bool_param(ctx, "cascade") && refuse_dependants(ctx, svc, deps, n, 1, "stop")) {
        free(deps);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        hpd_run *run = hpd_service_run(ctx->srv, deps[i]);
        if (deps[i]->wanted_start || (run && hpd_run_active(run)))
            hpd_service_stop(ctx->srv, deps[i]);
    }
    free(deps);
    hpd_service_stop(ctx->srv, svc);
    return hpd__service_status(ctx->srv, svc);
}

cJSON *hpd__m_service_restart(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = hpd__need_service(ctx);
    char what[160];
    hp_error err;
    hpd_run *run;

    if (!svc)
        return NULL;
    /* A restart replaces an active run (the count stays once the old one has stopped);
     * restarting a stopped service is a start and counts. */
    run = hpd_service_run(ctx->srv, svc);
    snprintf(what, sizeof(what), "cannot restart service '%s'", svc->config.name);
    if (!(run && hpd_run_active(run)) && hpd__refuse_new_run(ctx, what))
        return NULL;
    run = hpd_service_restart(ctx->srv, svc, hpd__bool_param(ctx, "keep_history"), &err);
    if (!run)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "cannot restart service '%s': %s",
                            svc->config.name, err.message);
    return hpd_run_json(ctx->srv, run, 1);
}

cJSON *hpd__m_service_delete(hpd_rpc_ctx *ctx)
{
    hpd_service *svc = hpd__need_service(ctx), **deps;
    size_t n = 0;
    cJSON *o;

    if (!svc)
        return NULL;
    /* A service others require is not deleted under them: they would never start again. */
    deps = hpd_requires_dependants(ctx->srv, svc, &n);
    if (!hpd__bool_param(ctx, "cascade") && refuse_dependants(ctx, svc, deps, n, 0, "delete")) {
        free(deps);
        return NULL;
    }
    o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "deleted");
    cJSON_AddStringToObject(o, "name", svc->config.name);
    for (size_t i = 0; i < n; i++)
        hpd_service_remove(ctx->srv, deps[i]); /* the others' pointers stay valid */
    free(deps);
    hpd_service_remove(ctx->srv, svc);
    return o;
}
