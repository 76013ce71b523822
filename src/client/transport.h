/* SPDX-License-Identifier: Apache-2.0 */
/* Internal HTTP transport of the SDK: one libcurl easy handle per client, reused so
 * the connection stays open, over a Unix socket or a TCP base URL with a bearer token.
 * It moves bytes and reports transport failures; JSON-RPC is jsonrpc.c's. */
#ifndef HP_CLIENT_TRANSPORT_H
#define HP_CLIENT_TRANSPORT_H

#include "common/status.h"

#include <stddef.h>

#define HP_DEFAULT_CONNECT_TIMEOUT_MS 2000L
#define HP_DEFAULT_TIMEOUT_MS         30000L
#define HP_DEFAULT_MAX_REPLY_BYTES    ((size_t)64 << 20)
#define HP_DEFAULT_RESTART_WAIT_MS    2000L

typedef struct hp__transport hp__transport;

typedef struct hp__transport_options {
    const char *socket_path; /* one of socket_path and url */
    const char *url;         /* base URL, e.g. "http://127.0.0.1:8000" (no trailing /rpc) */
    const char *token;       /* bearer token for url; may be NULL */
    /* For an https:// url: the server's public-key pin "sha256//BASE64" (trusted alone,
     * without a CA), and/or a CA file to verify its certificate against; both NULL: the
     * system's CAs. */
    const char *pin;
    const char *cacert;
    long connect_timeout_ms; /* <= 0: HP_DEFAULT_CONNECT_TIMEOUT_MS */
    long timeout_ms;         /* <= 0: HP_DEFAULT_TIMEOUT_MS */
    size_t max_reply_bytes;  /* 0: HP_DEFAULT_MAX_REPLY_BYTES */
} hp__transport_options;

/* Copies every string of opts. Returns the transport (free with hp__transport_free) or
 * NULL with err: HP_E_INVALID (neither or both of socket_path and url), HP_E_NOMEM. */
hp__transport *hp__transport_new(const hp__transport_options *opts, hp_error *err);
void hp__transport_free(hp__transport *t);

/* How long a call waits for a local server that is restarting (its socket missing from
 * a directory that exists, or refusing): 0 not at all, < 0 the default. */
void hp__transport_set_restart_wait(hp__transport *t, long ms);

/* "unix:/path/rpc.sock" or the base URL; owned by t. */
const char *hp__transport_endpoint(const hp__transport *t);

/* POSTs body (len bytes) to /rpc. timeout_ms <= 0 uses the transport's total timeout.
 * On HP_OK, *reply is a new NUL-terminated body (caller frees) of *reply_len bytes and
 * *http_status the HTTP status (any: the caller decides what a non-200 means). On
 * failure *reply is NULL and err says why: HP_E_CONNECT (names the endpoint and the
 * system's reason), HP_E_TIMEOUT, HP_E_PROTOCOL (reply over the cap, cut short, not
 * HTTP), HP_E_NOMEM. */
hp_status hp__transport_post(hp__transport *t, const char *body, size_t len, long timeout_ms,
                             char **reply, size_t *reply_len, long *http_status, hp_error *err);

#endif
