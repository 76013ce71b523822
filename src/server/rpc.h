/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-RPC 2.0 framing for the daemon: parses a POST /rpc body (single or batch),
 * checks the envelope and the params against each method's declared params, dispatches,
 * and builds the answer. Calls may be deferred (run.wait): the answer is then delivered
 * later through a callback. It does no HTTP and knows no method's meaning. */
#ifndef HPD_RPC_H
#define HPD_RPC_H

#include "common/json.h"
#include "common/spec.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct hpd_server;

enum {
    HPD_PARSE_ERROR = -32700,
    HPD_INVALID_REQUEST = -32600,
    HPD_METHOD_NOT_FOUND = -32601,
    HPD_INVALID_PARAMS = -32602,
    HPD_INTERNAL_ERROR = -32603,
    HPD_NOT_FOUND = -32000,
    HPD_CONFLICT = -32001,
    HPD_INVALID_STATE = -32002,
    HPD_UNAUTHORIZED = -32003,
    HPD_LIMIT_REACHED = -32004,
    HPD_TIMEOUT = -32005,
};

/* Limits of what a request may hold. */
enum { HPD_MAX_DEPTH = 32, HPD_MAX_STRING = 256 * 1024, HPD_MAX_BATCH = 100 };

typedef enum hpd_param_type {
    HPD_P_STRING,
    HPD_P_NAME, /* string matching [A-Za-z0-9_.-]{1,64} */
    HPD_P_INT,
    HPD_P_BOOL,
    HPD_P_OBJECT,
    HPD_P_ARRAY,
} hpd_param_type;

typedef struct hpd_param {
    const char *name;
    hpd_param_type type;
    int required;
    /* INT: bounds of the value; STRING: of its length in bytes; ARRAY: of its number of
     * items. The contract's minimum always holds (0 when it has none); max 0 = no bound. */
    int64_t min, max;
    const char *const *choices; /* STRING: the allowed values, NULL-terminated; or NULL */
} hpd_param;

typedef struct hpd_pending hpd_pending;

/* What a method handler gets: the params (checked against its table: names, types,
 * bounds) and where to put an error. */
typedef struct hpd_rpc_ctx {
    struct hpd_server *srv;
    const cJSON *params; /* an object, possibly empty; never NULL */
    int code;            /* set by hpd_rpc_fail */
    char message[512];
    cJSON *data;          /* owned; attached to the error */
    hpd_pending *pending; /* set by hpd_rpc_defer */
} hpd_rpc_ctx;

/* A handler returns the result (ownership passes to the caller), or NULL after
 * hpd_rpc_fail, or NULL after hpd_rpc_defer (the answer comes later). */
typedef cJSON *(*hpd_method_fn)(hpd_rpc_ctx *ctx);

typedef struct hpd_method {
    const char *name;
    hpd_method_fn fn;
    const hpd_param *params; /* terminated by a {NULL} entry */
} hpd_method;

/* Records an error for the current call; returns NULL so handlers can `return
 * hpd_rpc_fail(...)`. data (may be NULL) is taken. */
cJSON *hpd_rpc_fail(hpd_rpc_ctx *ctx, int code, cJSON *data, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Defers the current call: the handler returns NULL and later calls exactly one of
 * hpd_pending_resolve / hpd_pending_reject. cancel (may be NULL) is called instead when
 * the client goes away first; after it, the pending is gone. */
hpd_pending *hpd_rpc_defer(hpd_rpc_ctx *ctx, void (*cancel)(hpd_pending *p, void *data),
                           void *data);
void hpd_pending_resolve(hpd_pending *p, cJSON *result); /* takes result */
void hpd_pending_reject(hpd_pending *p, int code, cJSON *data, const char *message); /* takes */

typedef struct hpd_batch hpd_batch;
/* body: the HTTP body to send (NULL = no body: notifications only); the callee takes it. */
typedef void (*hpd_rpc_done_fn)(void *ud, char *body);

/* Answers one request body. Returns NULL when the answer is ready: *out holds it (malloc'd;
 * NULL when nothing is to be sent back). Returns a batch when a call was deferred: done
 * is then called exactly once later, unless hpd_rpc_abandon comes first. */
hpd_batch *hpd_rpc_handle(struct hpd_server *srv, const hpd_method *methods, const char *body,
                          size_t len, char **out, hpd_rpc_done_fn done, void *ud);
/* The client went away: cancel what still waits, never call done. */
void hpd_rpc_abandon(hpd_batch *b);

/* Serialized error reply with id null (for transport-level refusals such as a body that
 * is too large). Caller frees. */
char *hpd_rpc_error_body(int code, const char *message);

/* Raw text checks, exposed for tests: 0 when no string of the request carries a NUL
 * character (escaped as \u0000: cJSON would cut the string there, so "keep0\u0000evil"
 * would be read as "keep0"), else the number of such strings, each reported to pbs[slot]
 * (slot: the request's index in a batch, else 0; n_slots entries) as "the value at
 * params.actions[0].script contains a NUL character". */
size_t hpd_rpc_find_nuls(const char *text, size_t len, hp_problems *pbs, size_t n_slots);

/* The envelope checks, exposed for tests: nesting depth and string lengths of raw JSON
 * text; 0 when within bounds, else -1 with a sentence in why. */
int hpd_rpc_check_bounds(const char *text, size_t len, char *why, size_t why_len);

#endif
