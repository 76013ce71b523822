/* SPDX-License-Identifier: Apache-2.0 */
/* The token.* handlers: API tokens with a role, made, listed and revoked by an admin
 * (the contract's x-role says so; rpc.c checks it before these run). */
#include "config.h"

#include "server/auth.h"
#include "server/methods_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

cJSON *hpd__m_token_create(hpd_rpc_ctx *ctx)
{
    const char *name = hpd__str_param(ctx, "name");
    hpd_role role = hpd_role_parse(hpd__str_param(ctx, "role"));
    char *token = NULL;
    hp_error err;
    cJSON *o;

    hp_error_clear(&err);
    if (hpd_auth_token_create(ctx->srv->auth, name, role, &token, &err) != HP_OK)
        return hpd_rpc_fail(ctx, err.code == HP_E_CONFLICT ? HPD_CONFLICT : HPD_INTERNAL_ERROR,
                            NULL, "%s", err.message);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "role", hpd_role_name(role));
    cJSON_AddStringToObject(o, "token", token);
    sodium_memzero(token, strlen(token));
    free(token);
    return o;
}

cJSON *hpd__m_token_list(hpd_rpc_ctx *ctx)
{
    cJSON *o = cJSON_CreateObject(), *list = hpd_auth_token_list(ctx->srv->auth);

    if (!o || !list) {
        cJSON_Delete(o);
        cJSON_Delete(list);
        return hpd_rpc_fail(ctx, HPD_INTERNAL_ERROR, NULL, "out of memory");
    }
    cJSON_AddItemToObject(o, "tokens", list);
    return o;
}

cJSON *hpd__m_token_revoke(hpd_rpc_ctx *ctx)
{
    const char *name = hpd__str_param(ctx, "name");
    hp_error err;
    cJSON *o;

    hp_error_clear(&err);
    if (hpd_auth_token_revoke(ctx->srv->auth, name, &err) != HP_OK)
        return hpd_rpc_fail(ctx, err.code == HP_E_NOT_FOUND ? HPD_NOT_FOUND : HPD_INTERNAL_ERROR,
                            NULL, "%s", err.message);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddBoolToObject(o, "revoked", 1);
    return o;
}
