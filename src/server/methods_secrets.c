/* SPDX-License-Identifier: Apache-2.0 */
/* The secret.* handlers: values sealed by secretbox.c, never listed. */
#include "config.h"

#include "server/methods_int.h"
#include "server/secretbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- secrets ---------------------------------------------------------------------- */

static cJSON *secret_meta(const char *name, int64_t created, int64_t updated)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "name", name);
    hp_json_add_int(o, "created_at_ms", created);
    hp_json_add_int(o, "updated_at_ms", updated);
    return o;
}

cJSON *hpd__m_secret_set(hpd_rpc_ctx *ctx)
{
    const char *name = hpd__str_param(ctx, "name"), *value = hpd__str_param(ctx, "value");
    int64_t now = hpd_now_ms(), created = now;
    hp_error err;
    int rc;

    if (strlen(value) > 65536)
        return hpd_rpc_fail(ctx, HPD_INVALID_PARAMS, NULL,
                            "secret '%s': the value is longer than 65536 bytes", name);
    if (hpd_store_secret_count(ctx->srv->store) >= ctx->srv->opt.max_secrets &&
        hpd_store_secret_get(ctx->srv->store, name, NULL, NULL, NULL, NULL) != 1)
        return hpd_rpc_fail(ctx, HPD_LIMIT_REACHED, NULL,
                            "at most %lld secrets; delete one before adding another",
                            (long long)ctx->srv->opt.max_secrets);
    rc = hpd_secret_set(ctx->srv, name, value, now, &created, &err);
    /* The request is done with the value: no copy of it stays behind in the params. */
    hpd_secret_wipe((char *)(uintptr_t)value);
    if (rc != 0)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    hpd_changed(ctx->srv);
    return secret_meta(name, created, now);
}

cJSON *hpd__m_secret_get(hpd_rpc_ctx *ctx)
{
    const char *name = hpd__str_param(ctx, "name");
    char *value = NULL;
    int64_t created = 0, updated = 0;
    hp_error err;
    int found = hpd_secret_get(ctx->srv, name, &value, &created, &updated, &err);
    cJSON *o;

    if (found < 0)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    if (found == 0)
        return hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "secret '%s' is not set", name);
    o = secret_meta(name, created, updated);
    cJSON_AddStringToObject(o, "value", value);
    hpd_secret_free(value);
    return o;
}

cJSON *hpd__m_secret_list(hpd_rpc_ctx *ctx)
{
    cJSON *same = hpd__unchanged(ctx), *items;
    hp_error err;

    if (same)
        return same;
    items = hpd_store_secret_list(ctx->srv->store, &err);
    if (!items)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    return hpd__list_result(ctx, "secrets", items);
}

cJSON *hpd__m_secret_delete(hpd_rpc_ctx *ctx)
{
    const char *name = hpd__str_param(ctx, "name");
    hp_error err;
    int rc = hpd_store_secret_delete(ctx->srv->store, name, &err);
    cJSON *o;

    if (rc < 0)
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "%s", err.message);
    if (rc == 0)
        return hpd_rpc_fail(ctx, HPD_NOT_FOUND, NULL, "secret '%s' is not set", name);
    hpd_changed(ctx->srv);
    o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "deleted");
    cJSON_AddStringToObject(o, "name", name);
    return o;
}
