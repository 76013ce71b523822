/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-RPC 2.0 over the SDK transport: builds requests with increasing ids, sends single
 * and batch calls, and checks each reply strictly (version, id, exactly one of result and
 * error) so that a malformed answer is HP_E_PROTOCOL and never a crash. Typed results are
 * types.c's; what a method means is sdk.c's. */
#include "client/jsonrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNIPPET_MAX 120 /* bytes of an unexpected HTTP body quoted in a message */

hp_status hp__rpc_code_status(int rpc_code)
{
    switch (rpc_code) {
    case -32000:
        return HP_E_NOT_FOUND;
    case -32001:
        return HP_E_CONFLICT;
    case -32002:
        return HP_E_STATE;
    case -32003:
        return HP_E_UNAUTHORIZED;
    case -32004:
        return HP_E_LIMIT;
    case -32005:
        return HP_E_TIMEOUT;
    case -32602:
        return HP_E_VALIDATION;
    default:
        return HP_E_RPC;
    }
}

/* An integer-valued JSON number that fits in int64_t. */
static int json_int64(const cJSON *j, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(j))
        return 0;
    d = j->valuedouble;
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return 0;
    *out = (int64_t)d;
    return 1;
}

/* An error object into err: the mapped code, rpc_code, the message and the problems. */
static void take_error(const cJSON *error, hp_problems *pb, hp_error *err)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(error, "data");
    hp_problems got = {0};
    char text[sizeof(((hp_error *)0)->message)];
    size_t used;
    int64_t c;

    if (!cJSON_IsObject(error) || !json_int64(code, &c) || c < -2147483647 || c > 2147483647 ||
        !cJSON_IsString(msg)) {
        hp_error_set(err, HP_E_PROTOCOL,
                     "the server sent a malformed JSON-RPC error (needs an integer code and a "
                     "message)");
        return;
    }
    snprintf(text, sizeof(text), "%s", msg->valuestring);
    used = strlen(text);
    /* The records of data.details when the server sends them, else data.problems. */
    hp_problems_from_json(data, &got);
    for (size_t i = 0; i < got.count; i++) {
        const char *p = got.items[i];
        hp_problems_push(pb, &got.records[i]);
        /* The message often already is the first problem: do not say it twice. */
        if (strcmp(p, msg->valuestring) == 0)
            continue;
        if (used < sizeof(text) - 1)
            snprintf(text + used, sizeof(text) - used, "%s%s", used ? "; " : "", p);
        used = strlen(text);
    }
    hp_problems_free(&got);
    hp_error_set(err, hp__rpc_code_status((int)c), "%s", text);
    if (err)
        err->rpc_code = (int)c;
}

cJSON *hp__rpc_take_result(cJSON *reply, int64_t id, hp_problems *pb, hp_error *err)
{
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(reply, "jsonrpc");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(reply, "id");
    cJSON *result = cJSON_GetObjectItemCaseSensitive(reply, "result");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
    int64_t got;

    if (!cJSON_IsObject(reply)) {
        hp_error_set(err, HP_E_PROTOCOL, "the server's reply is not a JSON-RPC object");
        return NULL;
    }
    if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0) {
        hp_error_set(err, HP_E_PROTOCOL, "the server's reply lacks \"jsonrpc\": \"2.0\"");
        return NULL;
    }
    if (!result == !error) {
        hp_error_set(err, HP_E_PROTOCOL,
                     "the server's reply must hold exactly one of result and error");
        return NULL;
    }
    /* An error about a request the server could not read carries id null. */
    if (!(error && cJSON_IsNull(rid)) && (!json_int64(rid, &got) || got != id)) {
        hp_error_set(err, HP_E_PROTOCOL,
                     "the server answered another request (id %s, expected %lld)",
                     cJSON_IsNumber(rid) ? "mismatch" : "missing or not a number", (long long)id);
        return NULL;
    }
    if (error) {
        take_error(error, pb, err);
        return NULL;
    }
    return cJSON_DetachItemViaPointer(reply, result);
}

cJSON *hp__rpc_parse_reply(const char *text, size_t len, int64_t id, hp_problems *pb, hp_error *err)
{
    cJSON *reply = cJSON_ParseWithLength(text, len);
    cJSON *result;

    if (!reply) {
        hp_error_set(err, HP_E_PROTOCOL, "the server's reply is not valid JSON");
        return NULL;
    }
    result = hp__rpc_take_result(reply, id, pb, err);
    cJSON_Delete(reply);
    return result;
}

/* A new request object; params_taken is consumed. NULL on allocation failure. */
static cJSON *request(const char *method, cJSON *params_taken, int64_t id)
{
    cJSON *req = cJSON_CreateObject();

    if (!req || !cJSON_AddStringToObject(req, "jsonrpc", "2.0") ||
        !cJSON_AddStringToObject(req, "method", method)) {
        cJSON_Delete(params_taken);
        cJSON_Delete(req);
        return NULL;
    }
    if (params_taken && !cJSON_AddItemToObject(req, "params", params_taken)) {
        cJSON_Delete(params_taken);
        cJSON_Delete(req);
        return NULL;
    }
    if (!cJSON_AddNumberToObject(req, "id", (double)id)) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

/* Sends the request text and returns the parsed reply (caller deletes), or NULL with
 * err. A non-200 answer is HP_E_HTTP, or the JSON-RPC error it carries (401 carries
 * -32003), with http_status set either way. */
static cJSON *exchange(hp__rpc *rpc, cJSON *req, long timeout_ms, hp_error *err)
{
    char *text = cJSON_PrintUnformatted(req);
    char *body = NULL;
    size_t len = 0;
    long http = 0;
    cJSON *reply = NULL;
    hp_status rc;

    if (!text) {
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    rc =
        hp__transport_post(rpc->transport, text, strlen(text), timeout_ms, &body, &len, &http, err);
    free(text);
    if (rc != HP_OK)
        return NULL;
    reply = cJSON_ParseWithLength(body, len);
    if (http != 200) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
        if (cJSON_IsObject(error)) {
            take_error(error, &rpc->problems, err);
        } else {
            int n = len > SNIPPET_MAX ? SNIPPET_MAX : (int)len;
            hp_error_set(err, HP_E_HTTP, "the hero_proc server at %s answered HTTP %ld%s%.*s",
                         hp__transport_endpoint(rpc->transport), http, n ? ": " : "", n, body);
        }
        if (err)
            err->http_status = http;
        cJSON_Delete(reply);
        reply = NULL;
    } else if (!reply) {
        hp_error_set(err, HP_E_PROTOCOL, "the server's reply is not valid JSON");
    }
    free(body);
    return reply;
}

cJSON *hp__rpc_call(hp__rpc *rpc, const char *method, cJSON *params_taken, long timeout_ms,
                    hp_error *err)
{
    int64_t id = rpc->next_id++;
    cJSON *req, *reply, *result;

    hp_problems_free(&rpc->problems);
    req = request(method, params_taken, id);
    if (!req) {
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    reply = exchange(rpc, req, timeout_ms, err);
    cJSON_Delete(req);
    if (!reply)
        return NULL;
    result = hp__rpc_take_result(reply, id, &rpc->problems, err);
    cJSON_Delete(reply);
    return result;
}

static hp_status first_failure(hp_batch_call *calls, size_t n, hp_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (calls[i].error.code != HP_OK) {
            if (err)
                *err = calls[i].error;
            return calls[i].error.code;
        }
    return HP_OK;
}

hp_status hp__rpc_batch(hp__rpc *rpc, hp_batch_call *calls, size_t n, hp_error *err)
{
    cJSON *req = cJSON_CreateArray(), *reply = NULL, *item;
    int64_t first = rpc->next_id;
    hp_error local;

    hp_problems_free(&rpc->problems);
    for (size_t i = 0; i < n; i++) {
        cJSON *one = request(calls[i].method, calls[i].params, first + (int64_t)i);
        calls[i].params = NULL;
        calls[i].result = NULL;
        hp_error_set(&calls[i].error, HP_E_PROTOCOL, "the server did not answer call %zu (%s)",
                     i + 1, calls[i].method);
        if (!one || !req || !cJSON_AddItemToArray(req, one)) {
            cJSON_Delete(one);
            cJSON_Delete(req);
            req = NULL;
        }
    }
    rpc->next_id += (int64_t)n;
    if (n == 0) {
        cJSON_Delete(req);
        return HP_OK;
    }
    if (!req) {
        for (size_t i = 0; i < n; i++)
            hp_error_set_code(&calls[i].error, HP_E_NOMEM);
        return hp_error_set_code(err, HP_E_NOMEM);
    }
    reply = exchange(rpc, req, 0, &local);
    cJSON_Delete(req);
    if (!reply) {
        for (size_t i = 0; i < n; i++)
            calls[i].error = local;
        if (err)
            *err = local;
        return local.code;
    }
    if (!cJSON_IsArray(reply)) {
        hp_error_set(&local, HP_E_PROTOCOL, "the server answered a batch with a single reply");
        cJSON *res = hp__rpc_take_result(reply, first, &rpc->problems, &local);
        cJSON_Delete(res);
        for (size_t i = 0; i < n; i++)
            calls[i].error = local;
        cJSON_Delete(reply);
        return first_failure(calls, n, err);
    }
    cJSON_ArrayForEach (item, reply) {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(item, "id");
        int64_t id;
        size_t i;
        if (!json_int64(rid, &id) || id < first || id >= first + (int64_t)n)
            continue;
        i = (size_t)(id - first);
        if (calls[i].result)
            continue; /* a second answer for the same id: keep the first */
        hp_error_clear(&calls[i].error);
        calls[i].result = hp__rpc_take_result(item, id, &rpc->problems, &calls[i].error);
    }
    cJSON_Delete(reply);
    return first_failure(calls, n, err);
}
