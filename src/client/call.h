/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_sdk's client handle (one connection, Unix socket or HTTP) and its raw JSON-RPC
 * calls; below both client/stubs.h (generated stubs) and client/sdk.h (typed wrappers). */
#ifndef HP_CLIENT_CALL_H
#define HP_CLIENT_CALL_H

#include "endpoint.h"
#include "types.h"
#include "../common/spec.h"
#include "../common/status.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hp_sdk hp_sdk;

/* Give socket_path, or url (e.g. "http://127.0.0.1:8000") with its token. Timeouts in
 * milliseconds, <= 0 for the defaults (2 s to connect, 30 s per call); run.wait adds its
 * own wait to the total. max_reply_bytes 0 = 64 MiB. Strings are copied. */
typedef struct hp_sdk_options {
    const char *socket_path;
    const char *url;
    const char *token;
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_reply_bytes;
    /* An https:// url: the pin "sha256//BASE64" of the server's public key (what
     * hero_proc_server --tls-self-signed prints), and/or a CA file; both NULL: the
     * system's CAs. */
    const char *pin;
    const char *cacert;
} hp_sdk_options;

/* A new client (free with hp_sdk_free); no connection is made until the first call.
 * NULL with err: HP_E_INVALID (neither or both of socket_path and url, a bad URL, a
 * socket path too long), HP_E_NOMEM. */
hp_sdk *hp_sdk_new(const hp_sdk_options *opts, hp_error *err);

/* A client for the endpoint that hp_endpoint_resolve finds from the flag values (may be
 * NULL) and the environment; timeouts as in hp_sdk_options (<= 0: defaults). */
hp_sdk *hp_sdk_new_auto(const char *socket_flag, const char *url_flag, long timeout_ms,
                        hp_error *err);

/* Closes the connection and frees the client. NULL safe. */
void hp_sdk_free(hp_sdk *sdk);

/* The socket path or base URL, owned by sdk. */
const char *hp_sdk_endpoint(const hp_sdk *sdk);

/* How long a call on a Unix socket waits for a server that is being restarted (its
 * socket missing from a directory that exists, or refusing): nothing was sent, so it is
 * tried again every 20 ms until then. ms 0: fail at once (a screen that must not
 * freeze, and retries on its own); < 0: the default, 2 s. */
void hp_sdk_set_restart_wait(hp_sdk *sdk, long ms);

/* The problems of the last call when it failed with them (validation), else empty:
 * records with code and path from error.data.details, or from an older server the
 * data.problems sentences (code HP_PROBLEM_INVALID, path ""); items[i] is each sentence.
 * Owned by sdk and valid until its next call. */
const hp_problems *hp_sdk_problems(const hp_sdk *sdk);

/* ---- raw JSON-RPC ----------------------------------------------------------------- */

/* Any method: params_taken (an object or NULL) is consumed on every path; *result (may
 * be NULL) gets the result, which the caller deletes with cJSON_Delete. */
hp_status hp_sdk_call(hp_sdk *sdk, const char *method, cJSON *params_taken, cJSON **result,
                      hp_error *err);

/* The n calls in one batch request (see hp_batch_call in client/types.h): each gets its
 * own result or error. Returns HP_OK when every call succeeded, else the first failure
 * (also in err). */
hp_status hp_sdk_batch(hp_sdk *sdk, hp_batch_call *calls, size_t n, hp_error *err);

#ifdef __cplusplus
}
#endif

#endif
