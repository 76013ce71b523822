/* SPDX-License-Identifier: Apache-2.0 */
/* Where the hero_proc server is: the explicit --socket/--url values first, then
 * --context, then HERO_PROC_SOCKET, then HERO_PROC_URL (with HERO_PROC_TOKEN), then
 * HERO_PROC_CONTEXT, then the contexts file's current context, then the default socket
 * paths of DESIGN section 2 (the same rules as the server's default): the context
 * "local". */
#ifndef HP_CLIENT_ENDPOINT_H
#define HP_CLIENT_ENDPOINT_H

#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exactly one of socket_path and url is set. Owns its strings; source is static. */
typedef struct hp_endpoint {
    char *socket_path;
    char *url;
    char *token;        /* a URL's token: its context's token_file, else HERO_PROC_TOKEN */
    const char *source; /* "--socket", "--url", "--context", "HERO_PROC_SOCKET",
                           "HERO_PROC_URL", "HERO_PROC_CONTEXT", "contexts.json",
                           "PATH_SOCKET", "HERO_SOCKET_DIR" or "HOME" */
    char *pin;          /* https: the server's public-key pin "sha256//BASE64", or NULL */
    char *cacert;       /* https: a CA file to verify the server against, or NULL */
    char *context;      /* the context's name ("local" for the default socket) */
} hp_endpoint;

/* Every flag a client takes about its server; NULL or "" = not given. pin and cacert
 * override the context's. */
typedef struct hp_endpoint_flags {
    const char *socket_path;
    const char *url;
    const char *context;
    const char *pin;
    const char *cacert;
} hp_endpoint_flags;

/* Fills *out (overwritten; free with hp_endpoint_clear on success). Empty flag values
 * and environment variables count as unset. Returns HP_OK, or HP_E_USAGE when both
 * flags are given, HP_E_NOMEM; *out is then zeroed. */
hp_status hp_endpoint_resolve(const char *socket_flag, const char *url_flag, hp_endpoint *out,
                              hp_error *err);

/* The same from every flag: also HP_E_USAGE for --context with --socket or --url, and a
 * context that does not exist; HP_E_PARSE/HP_E_SYSTEM for a contexts file that cannot
 * be read (the message names it). flags may be NULL. */
hp_status hp_endpoint_resolve_flags(const hp_endpoint_flags *flags, hp_endpoint *out,
                                    hp_error *err);

/* The default socket path alone: $PATH_SOCKET/hero_proc/rpc.sock, else
 * $HERO_SOCKET_DIR/hero_proc/rpc.sock, else ~/hero/var/sockets/hero_proc/rpc.sock ($HOME
 * unset: /tmp). A new string the caller frees; NULL when out of memory. */
char *hp_endpoint_default_socket(void);

/* Frees the strings and zeroes *ep. NULL safe. */
void hp_endpoint_clear(hp_endpoint *ep);

#ifdef __cplusplus
}
#endif

#endif
