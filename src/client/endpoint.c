/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoint discovery for every client: flags, then the environment, then the default
 * socket paths, mirroring src/server/server.c's default so a client finds the server
 * started with no options. It does not connect: hp_sdk reports an unreachable server. */
#include "client/endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

static char *under(const char *dir, const char *rest)
{
    size_t n = strlen(dir) + strlen(rest) + 1;
    char *d = malloc(n);

    if (d)
        snprintf(d, n, "%s%s", dir, rest);
    return d;
}

static const char *default_source(void)
{
    if (env("PATH_SOCKET"))
        return "PATH_SOCKET";
    if (env("HERO_SOCKET_DIR"))
        return "HERO_SOCKET_DIR";
    return "HOME";
}

char *hp_endpoint_default_socket(void)
{
    const char *dir;

    if ((dir = env("PATH_SOCKET")) || (dir = env("HERO_SOCKET_DIR")))
        return under(dir, "/hero_proc/rpc.sock");
    dir = env("HOME");
    return under(dir ? dir : "/tmp", "/hero/var/sockets/hero_proc/rpc.sock");
}

hp_status hp_endpoint_resolve(const char *socket_flag, const char *url_flag, hp_endpoint *out,
                              hp_error *err)
{
    const char *v, *token = env("HERO_PROC_TOKEN");

    memset(out, 0, sizeof(*out));
    if (socket_flag && !*socket_flag)
        socket_flag = NULL;
    if (url_flag && !*url_flag)
        url_flag = NULL;
    if (socket_flag && url_flag)
        return hp_error_set(err, HP_E_USAGE, "give --socket or --url, not both");
    if (socket_flag) {
        out->socket_path = dup_str(socket_flag);
        out->source = "--socket";
    } else if (url_flag) {
        out->url = dup_str(url_flag);
        out->source = "--url";
    } else if ((v = env("HERO_PROC_SOCKET"))) {
        out->socket_path = dup_str(v);
        out->source = "HERO_PROC_SOCKET";
    } else if ((v = env("HERO_PROC_URL"))) {
        out->url = dup_str(v);
        out->source = "HERO_PROC_URL";
    } else {
        out->socket_path = hp_endpoint_default_socket();
        out->source = default_source();
    }
    if (out->url && token)
        out->token = dup_str(token);
    if ((!out->socket_path && !out->url) || (out->url && token && !out->token)) {
        hp_endpoint_clear(out);
        return hp_error_set_code(err, HP_E_NOMEM);
    }
    return HP_OK;
}

void hp_endpoint_clear(hp_endpoint *ep)
{
    if (!ep)
        return;
    free(ep->socket_path);
    free(ep->url);
    free(ep->token);
    memset(ep, 0, sizeof(*ep));
}
