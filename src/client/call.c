/* SPDX-License-Identifier: Apache-2.0 */
/* The client handle of hero_proc_sdk and its raw JSON-RPC calls over the core (jsonrpc.c):
 * below both the generated stubs (stubs.c) and the typed wrappers (sdk.c); calls neither. */
#include "client/call.h"

#include "client/call_int.h"
#include "client/jsonrpc.h"
#include "client/transport.h"

#include <stdlib.h>

struct hp_sdk {
    hp__rpc rpc;
};

hp_sdk *hp_sdk_new(const hp_sdk_options *opts, hp_error *err)
{
    hp__transport_options to = {0};
    hp_sdk *sdk;

    if (!opts) {
        hp_error_set(err, HP_E_INVALID, "hp_sdk_new needs options");
        return NULL;
    }
    to.socket_path = opts->socket_path;
    to.url = opts->url;
    to.token = opts->token;
    to.connect_timeout_ms = opts->connect_timeout_ms;
    to.timeout_ms = opts->timeout_ms;
    to.max_reply_bytes = opts->max_reply_bytes;
    to.pin = opts->pin;
    to.cacert = opts->cacert;
    sdk = calloc(1, sizeof(*sdk));
    if (!sdk) {
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    sdk->rpc.next_id = 1;
    sdk->rpc.transport = hp__transport_new(&to, err);
    if (!sdk->rpc.transport) {
        free(sdk);
        return NULL;
    }
    return sdk;
}

hp_sdk *hp_sdk_new_auto(const char *socket_flag, const char *url_flag, long timeout_ms,
                        hp_error *err)
{
    hp_endpoint ep;
    hp_sdk_options o = {0};
    hp_sdk *sdk;

    if (hp_endpoint_resolve(socket_flag, url_flag, &ep, err) != HP_OK)
        return NULL;
    o.socket_path = ep.socket_path;
    o.url = ep.url;
    o.token = ep.token;
    o.pin = ep.pin;
    o.cacert = ep.cacert;
    o.timeout_ms = timeout_ms;
    sdk = hp_sdk_new(&o, err);
    hp_endpoint_clear(&ep);
    return sdk;
}

void hp_sdk_free(hp_sdk *sdk)
{
    if (!sdk)
        return;
    hp__transport_free(sdk->rpc.transport);
    hp_problems_free(&sdk->rpc.problems);
    free(sdk);
}

const char *hp_sdk_endpoint(const hp_sdk *sdk)
{
    return sdk ? hp__transport_endpoint(sdk->rpc.transport) : "";
}

void hp_sdk_set_restart_wait(hp_sdk *sdk, long ms)
{
    if (sdk)
        hp__transport_set_restart_wait(sdk->rpc.transport, ms);
}

const hp_problems *hp_sdk_problems(const hp_sdk *sdk)
{
    static const hp_problems none = {0};

    return sdk ? &sdk->rpc.problems : &none;
}

/* ---- the call ---------------------------------------------------------------------- */

/* The common path of every wrapper: params (NULL = allocation failed when want_params)
 * consumed; the result (caller deletes) or NULL with *st and err. */
cJSON *hp__sdk_call(hp_sdk *sdk, const char *method, int want_params, cJSON *params, int bad,
                    long timeout_ms, hp_status *st, hp_error *err)
{
    hp_error local;
    cJSON *result;

    if (!sdk) {
        cJSON_Delete(params);
        *st = hp_error_set(err, HP_E_INVALID, "%s: no client (hp_sdk is NULL)", method);
        return NULL;
    }
    if (bad || (want_params && !params)) {
        cJSON_Delete(params);
        *st = hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    hp_error_clear(&local);
    result = hp__rpc_call(&sdk->rpc, method, params, timeout_ms, &local);
    *st = result ? HP_OK : local.code;
    if (!result && err)
        *err = local;
    return result;
}

static hp_status missing(hp_error *err, const char *method, const char *what)
{
    return hp_error_set(err, HP_E_INVALID, "%s needs %s", method, what);
}

/* ---- raw ---------------------------------------------------------------------------- */

hp_status hp_sdk_call(hp_sdk *sdk, const char *method, cJSON *params_taken, cJSON **result,
                      hp_error *err)
{
    hp_status st;
    cJSON *r;

    if (result)
        *result = NULL;
    if (!method) {
        cJSON_Delete(params_taken);
        return missing(err, "hp_sdk_call", "a method");
    }
    r = hp__sdk_call(sdk, method, 0, params_taken, 0, 0, &st, err);
    if (result)
        *result = r;
    else
        cJSON_Delete(r);
    return st;
}

hp_status hp_sdk_batch(hp_sdk *sdk, hp_batch_call *calls, size_t n, hp_error *err)
{
    if (!sdk || (n && !calls))
        return missing(err, "hp_sdk_batch", "a client and calls");
    for (size_t i = 0; i < n; i++)
        if (!calls[i].method) {
            for (size_t k = 0; k < n; k++) {
                cJSON_Delete(calls[k].params);
                calls[k].params = NULL;
                calls[k].result = NULL;
            }
            return missing(err, "hp_sdk_batch", "a method in every call");
        }
    return hp__rpc_batch(&sdk->rpc, calls, n, err);
}
