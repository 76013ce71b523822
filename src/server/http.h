/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP for the daemon: libmicrohttpd daemons driven from our epoll loop, one per
 * listening socket (the Unix socket, and TCP when asked). Routes POST /rpc to the JSON-RPC
 * layer, GET /openrpc.json and GET /health; checks peers (SO_PEERCRED on the Unix socket,
 * a bearer token on TCP) and bounds the body. It knows nothing of the methods. */
#ifndef HPD_HTTP_H
#define HPD_HTTP_H

#include "common/status.h"
#include "server/loop.h"
#include "server/rpc.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct hpd_server;
typedef struct hpd_http hpd_http;

typedef struct hpd_http_options {
    size_t max_body;                /* bytes, default 1 MiB */
    const char *token;              /* bearer token for TCP; copied */
    const char *tls_cert, *tls_key; /* PEM texts: TCP serves HTTPS; copied */
    struct hpd_auth *auth;          /* API tokens and the caller's role; borrowed, may be NULL */
    const char *openrpc;            /* the spec served at GET /openrpc.json; borrowed, static */
    size_t openrpc_len;
    unsigned max_connections;    /* open at once, over all sockets; default 256 */
    uint64_t request_timeout_ms; /* request line to request read whole; default 10000 */
    unsigned idle_timeout_s;     /* a silent connection is closed; default 120 */
} hpd_http_options;

/* NULL with err on failure. methods and srv are borrowed for the lifetime. */
hpd_http *hpd_http_new(struct hpd_server *srv, hpd_loop *loop, const hpd_method *methods,
                       const hpd_http_options *opts, hp_error *err);
/* Serves the listening Unix socket fd (taken: closed by hpd_http_free). */
int hpd_http_serve_unix(hpd_http *h, int listen_fd, hp_error *err);
/* Before an in-place upgrade (reexec.c): no connection is accepted any more, newcomers
 * wait in the sockets' queues. */
void hpd_http_pause(hpd_http *h);
/* Accepting again (the upgrade failed). */
void hpd_http_resume(hpd_http *h);
/* The connections between two requests, Unix and plain TCP (a TLS session cannot be
 * handed over), up to max, their fds into fds: the next image serves them on. *busy: connections
 * with a request being received or answered (not counting calls that wait, such as run.wait). */
size_t hpd_http_idle(hpd_http *h, int *fds, size_t max, size_t *busy);
/* The new image serves a connection the old one kept open (fd taken) on the socket of its
 * kind. 0 or -1. */
int hpd_http_adopt(hpd_http *h, int fd);
/* Listens on TCP "ADDR:PORT" ("[::1]:PORT" for IPv6); non-loopback addresses only when
 * allow_remote (TLS is on, or the operator said --insecure-http). */
int hpd_http_serve_tcp(hpd_http *h, const char *addr_port, int allow_remote, hp_error *err);
/* hpd_http_serve_tcp on a socket an in-place upgrade kept (kept_fd, taken): served as it
 * is when it listens on addr_port's address, so no connection is refused meanwhile;
 * otherwise closed and addr_port bound afresh. */
int hpd_http_serve_tcp_kept(hpd_http *h, const char *addr_port, int allow_remote, int kept_fd,
                            hp_error *err);
/* The listening TCP socket (borrowed), -1 when none. */
int hpd_http_tcp_fd(const hpd_http *h);
/* Parses and checks "ADDR:PORT" as hpd_http_serve_tcp does, without listening. */
int hpd_parse_listen_addr(const char *addr_port, int allow_remote, struct sockaddr_storage *out,
                          hp_error *err);
/* Stops every daemon and frees; pending calls are abandoned. NULL safe. */
void hpd_http_free(hpd_http *h);

/* Constant-time comparison of two NUL-terminated strings: 1 when equal. */
int hpd_token_equal(const char *a, const char *b);

#endif
