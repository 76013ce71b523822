/* SPDX-License-Identifier: Apache-2.0 */
/* Internal JSON-RPC 2.0 core of the SDK: request building with per-client increasing
 * ids, single and batch calls over the transport, and the strict reply check that turns
 * every server answer into a result or an hp_error. */
#ifndef HP_CLIENT_JSONRPC_H
#define HP_CLIENT_JSONRPC_H

#include "client/transport.h"
#include "client/types.h"
#include "common/spec.h"
#include "common/status.h"

#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct hp__rpc {
    hp__transport *transport; /* owned */
    int64_t next_id;          /* the id of the next request, from 1 */
    hp_problems problems;     /* data.details (or data.problems) of the last failed call */
} hp__rpc;

/* The hp_status of a JSON-RPC error code: -32000 HP_E_NOT_FOUND, -32001 HP_E_CONFLICT,
 * -32002 HP_E_STATE, -32003 HP_E_UNAUTHORIZED, -32004 HP_E_LIMIT, -32005 HP_E_TIMEOUT,
 * -32602 HP_E_VALIDATION, anything else HP_E_RPC. */
hp_status hp__rpc_code_status(int rpc_code);

/* Checks one reply object for request id: "jsonrpc":"2.0", the id, exactly one of
 * result and error. Returns the result (detached from reply: the caller deletes it) or
 * NULL with err: the mapped code, rpc_code and "message; problem; problem" for an error
 * answer (the problems also added to pb, may be NULL), HP_E_PROTOCOL for a malformed one.
 * A JSON null result is returned as a cJSON null. */
cJSON *hp__rpc_take_result(cJSON *reply, int64_t id, hp_problems *pb, hp_error *err);

/* hp__rpc_take_result on reply text of len bytes (need not be NUL-terminated); text
 * that is not JSON is HP_E_PROTOCOL. */
cJSON *hp__rpc_parse_reply(const char *text, size_t len, int64_t id, hp_problems *pb,
                           hp_error *err);

/* One call. params_taken (an object, or NULL for none) is consumed on every path.
 * timeout_ms <= 0 uses the client's timeout. Returns the result (caller deletes) or NULL
 * with err (transport, HTTP, protocol or JSON-RPC error); rpc->problems holds the
 * data.problems of a failed call and is emptied by the next call. */
cJSON *hp__rpc_call(hp__rpc *rpc, const char *method, cJSON *params_taken, long timeout_ms,
                    hp_error *err);

/* One batch request for the n calls (see hp_batch_call). Returns HP_OK when every call
 * succeeded; otherwise the code of the first failure, copied into err. */
hp_status hp__rpc_batch(hp__rpc *rpc, hp_batch_call *calls, size_t n, hp_error *err);

#endif
