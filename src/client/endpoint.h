/* SPDX-License-Identifier: Apache-2.0 */
/* Where the hero_proc server is: the explicit --socket/--url values first, then
 * HERO_PROC_SOCKET, then HERO_PROC_URL (with HERO_PROC_TOKEN), then the default socket
 * paths of DESIGN section 2 (the same rules as the server's default). */
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
    char *token;        /* HERO_PROC_TOKEN for a URL, else NULL */
    const char *source; /* "--socket", "--url", "HERO_PROC_SOCKET", "HERO_PROC_URL",
                           "PATH_SOCKET", "HERO_SOCKET_DIR" or "HOME" */
} hp_endpoint;

/* Fills *out (overwritten; free with hp_endpoint_clear on success). Empty flag values
 * and environment variables count as unset. Returns HP_OK, or HP_E_USAGE when both
 * flags are given, HP_E_NOMEM; *out is then zeroed. */
hp_status hp_endpoint_resolve(const char *socket_flag, const char *url_flag, hp_endpoint *out,
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
