/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoint discovery for every client: flags, then the environment, then the default
 * socket paths, mirroring src/server/server.c's default so a client finds the server
 * started with no options. It does not connect: hp_sdk reports an unreachable server. */
#include "client/endpoint.h"

#include "client/context.h"

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

static const char *flag(const char *v)
{
    return v && *v ? v : NULL;
}

hp_status hp_endpoint_resolve_flags(const hp_endpoint_flags *flags, hp_endpoint *out, hp_error *err)
{
    hp_endpoint_flags none = {0};
    const hp_endpoint_flags *f = flags ? flags : &none;
    const char *v, *token = env("HERO_PROC_TOKEN"), *socket_flag = flag(f->socket_path),
                   *url_flag = flag(f->url), *ctx = flag(f->context), *pin = flag(f->pin),
                   *cacert = flag(f->cacert);
    hp_status st;

    memset(out, 0, sizeof(*out));
    if (socket_flag && url_flag)
        return hp_error_set(err, HP_E_USAGE, "give --socket or --url, not both");
    if (ctx && (socket_flag || url_flag))
        return hp_error_set(err, HP_E_USAGE, "give --context or --%s, not both",
                            socket_flag ? "socket" : "url");
    if (socket_flag) {
        out->socket_path = dup_str(socket_flag);
        out->source = "--socket";
    } else if (url_flag) {
        out->url = dup_str(url_flag);
        out->source = "--url";
    } else if (ctx) {
        if ((st = hp__context_endpoint(ctx, out, err)) != HP_OK)
            return st;
        out->source = "--context";
    } else if ((v = env("HERO_PROC_SOCKET"))) {
        out->socket_path = dup_str(v);
        out->source = "HERO_PROC_SOCKET";
    } else if ((v = env("HERO_PROC_URL"))) {
        out->url = dup_str(v);
        out->source = "HERO_PROC_URL";
    } else if ((v = env("HERO_PROC_CONTEXT"))) {
        if ((st = hp__context_endpoint(v, out, err)) != HP_OK)
            return st;
        out->source = "HERO_PROC_CONTEXT";
    } else {
        if ((st = hp__context_endpoint(NULL, out, err)) != HP_OK)
            return st;
        if (out->context && strcmp(out->context, "local") != 0)
            out->source = "contexts.json";
    }
    if (!out->socket_path && !out->url) {
        /* No context named, or the implicit "local": the default socket. */
        free(out->context);
        out->context = dup_str("local");
        out->socket_path = hp_endpoint_default_socket();
        out->source = default_source();
    }
    if (out->url && !out->token && token)
        out->token = dup_str(token);
    if (pin) {
        free(out->pin);
        out->pin = dup_str(pin);
    }
    if (cacert) {
        free(out->cacert);
        out->cacert = dup_str(cacert);
    }
    if (!out->pin && (v = env("HERO_PROC_PIN")))
        out->pin = dup_str(v);
    if (!out->cacert && (v = env("HERO_PROC_CACERT")))
        out->cacert = dup_str(v);
    if ((!out->socket_path && !out->url) || (out->url && token && !out->token) ||
        (pin && !out->pin) || (cacert && !out->cacert)) {
        hp_endpoint_clear(out);
        return hp_error_set_code(err, HP_E_NOMEM);
    }
    return HP_OK;
}

hp_status hp_endpoint_resolve(const char *socket_flag, const char *url_flag, hp_endpoint *out,
                              hp_error *err)
{
    hp_endpoint_flags f = {.socket_path = socket_flag, .url = url_flag};

    return hp_endpoint_resolve_flags(&f, out, err);
}

void hp_endpoint_clear(hp_endpoint *ep)
{
    if (!ep)
        return;
    free(ep->socket_path);
    free(ep->url);
    free(ep->token);
    free(ep->pin);
    free(ep->cacert);
    free(ep->context);
    memset(ep, 0, sizeof(*ep));
}
