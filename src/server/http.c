/* libmicrohttpd in external-epoll mode: its epoll fd joins our loop and MHD_run runs when
 * it is readable or its timeout passes. Long calls (run.wait) suspend the connection and
 * resume it when the JSON-RPC layer delivers the answer. */
#include "config.h"

#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MAX_DAEMONS = 2 };

/* Bodies up to this size are read (and dropped) before a too-large refusal. */
#define DISCARD_LIMIT (64ULL * 1024 * 1024)

typedef struct daemon_slot {
    hpd_http *http;
    struct MHD_Daemon *mhd;
    int epfd;
    int tcp;
    int listen_fd; /* ours to close, -1 when MHD owns it */
    uint64_t timer;
} daemon_slot;

struct hpd_http {
    struct hpd_server *srv;
    hpd_loop *loop;
    const hpd_method *methods;
    size_t max_body;
    char *token;
    const char *openrpc;
    size_t openrpc_len;
    daemon_slot daemons[MAX_DAEMONS];
    size_t n_daemons;
};

typedef struct request {
    hpd_http *http;
    daemon_slot *slot;
    struct MHD_Connection *conn;
    int is_rpc;
    char *body;
    size_t len, cap;
    int too_big;
    hpd_batch *batch; /* a deferred answer is awaited */
    char *answer;     /* a deferred answer arrived */
    int answered;
} request;

int hpd_token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);

    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0 && lb > 0;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, char *body,
                               const char *type)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (body)
        r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_json_error(struct MHD_Connection *conn, unsigned status, int code,
                                          const char *message)
{
    return respond(conn, status, hpd_rpc_error_body(code, message), "application/json");
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

/* 1 when the peer may talk to us: same uid as the daemon, or root. */
static int peer_allowed(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (!info)
        return 0;
    if (getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return 0;
    return cred.uid == 0 || cred.uid == getuid();
}

static int bearer_ok(hpd_http *h, struct MHD_Connection *conn)
{
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !h->token)
        return 0;
    return hpd_token_equal(auth + 7, h->token);
}

static void on_timer(hpd_loop *loop, uint64_t id, void *data);

static void answer_ready(void *ud, char *body)
{
    request *req = ud;
    daemon_slot *slot = req->slot;

    req->batch = NULL;
    req->answer = body;
    req->answered = 1;
    MHD_resume_connection(req->conn);
    /* In external-epoll mode nothing wakes MHD for a resume: run it on the next turn of
     * the loop, or the answer waits for the next unrelated request. */
    hpd_loop_timer_cancel(slot->http->loop, slot->timer);
    slot->timer = hpd_loop_timer(slot->http->loop, 0, on_timer, slot);
}

static enum MHD_Result finish_rpc(request *req)
{
    char *out = NULL;

    if (req->too_big) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the request body is larger than %zu bytes",
                 req->http->max_body);
        return respond_json_error(req->conn, MHD_HTTP_CONTENT_TOO_LARGE, HPD_INVALID_REQUEST, msg);
    }
    if (req->answered) {
        out = req->answer;
        req->answer = NULL;
        return out ? respond(req->conn, MHD_HTTP_OK, out, "application/json")
                   : respond(req->conn, MHD_HTTP_NO_CONTENT, NULL, NULL);
    }
    req->batch = hpd_rpc_handle(req->http->srv, req->http->methods, req->body ? req->body : "",
                                req->len, &out, answer_ready, req);
    if (req->batch) {
        MHD_suspend_connection(req->conn);
        return MHD_YES;
    }
    return out ? respond(req->conn, MHD_HTTP_OK, out, "application/json")
               : respond(req->conn, MHD_HTTP_NO_CONTENT, NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    daemon_slot *slot = cls;
    hpd_http *h = slot->http;
    request *req = *con_cls;

    (void)version;
    if (!req) {
        const char *length;
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        req->http = h;
        req->slot = slot;
        req->conn = conn;
        *con_cls = req;
        if (slot->tcp ? !bearer_ok(h, conn) : !peer_allowed(conn))
            return respond_json_error(conn, slot->tcp ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_FORBIDDEN,
                                      HPD_UNAUTHORIZED,
                                      slot->tcp ? "a valid 'Authorization: Bearer <token>' "
                                                  "header is required"
                                                : "this server only serves its own user");
        if (strcmp(url, "/rpc") == 0 && strcmp(method, "POST") == 0) {
            req->is_rpc = 1;
            length =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (length && strtoull(length, NULL, 10) > h->max_body) {
                /* Answering before the body is read makes the client's upload fail with a
                 * reset instead of our 413: read and drop a body of a sane size first;
                 * only an absurd one is refused at once. */
                req->too_big = 1;
                if (strtoull(length, NULL, 10) > DISCARD_LIMIT)
                    return finish_rpc(req);
            }
            return MHD_YES;
        }
        if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
            return respond(conn, MHD_HTTP_OK, dup_text("{\"status\":\"ok\"}"), "application/json");
        if (strcmp(method, "GET") == 0 && strcmp(url, "/openrpc.json") == 0) {
            struct MHD_Response *r = MHD_create_response_from_buffer(
                h->openrpc_len, (void *)(uintptr_t)h->openrpc, MHD_RESPMEM_PERSISTENT);
            enum MHD_Result ret;
            if (!r)
                return MHD_NO;
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
            ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
            MHD_destroy_response(r);
            return ret;
        }
        if (strcmp(url, "/rpc") == 0)
            return respond_json_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, HPD_INVALID_REQUEST,
                                      "use POST for /rpc");
        return respond(conn, MHD_HTTP_NOT_FOUND, dup_text("{\"error\":\"not found\"}"),
                       "application/json");
    }
    if (!req->is_rpc) {
        *upload_data_size = 0; /* a body sent with GET is ignored */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->too_big || req->len + n > h->max_body) {
            req->too_big = 1;
            free(req->body);
            req->body = NULL;
            req->len = req->cap = 0;
            return MHD_YES;
        }
        if (req->len + n + 1 > req->cap) {
            size_t cap = req->cap ? req->cap : 4096;
            char *grown;
            while (cap < req->len + n + 1)
                cap *= 2;
            grown = realloc(req->body, cap);
            if (!grown)
                return MHD_NO;
            req->body = grown;
            req->cap = cap;
        }
        memcpy(req->body + req->len, upload_data, n);
        req->len += n;
        req->body[req->len] = '\0';
        return MHD_YES;
    }
    return finish_rpc(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    request *req = *con_cls;

    (void)cls;
    (void)conn;
    (void)code;
    if (!req)
        return;
    if (req->batch)
        hpd_rpc_abandon(req->batch);
    free(req->answer);
    free(req->body);
    free(req);
    *con_cls = NULL;
}

static void drive(daemon_slot *slot);

static void on_timer(hpd_loop *loop, uint64_t id, void *data)
{
    daemon_slot *slot = data;

    (void)loop;
    if (slot->timer == id)
        slot->timer = 0;
    drive(slot);
}

/* Runs MHD and re-arms the timer for its next connection timeout. */
static void drive(daemon_slot *slot)
{
    MHD_UNSIGNED_LONG_LONG timeout;

    MHD_run(slot->mhd);
    hpd_loop_timer_cancel(slot->http->loop, slot->timer);
    slot->timer = 0;
    if (MHD_get_timeout(slot->mhd, &timeout) == MHD_YES)
        slot->timer = hpd_loop_timer(slot->http->loop, timeout, on_timer, slot);
}

static void on_epoll(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    (void)loop;
    (void)fd;
    (void)events;
    drive(data);
}

hpd_http *hpd_http_new(struct hpd_server *srv, hpd_loop *loop, const hpd_method *methods,
                       const hpd_http_options *opts, hp_error *err)
{
    hpd_http *h = calloc(1, sizeof(*h));

    if (!h) {
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    h->srv = srv;
    h->loop = loop;
    h->methods = methods;
    h->max_body = opts->max_body ? opts->max_body : 1024 * 1024;
    h->openrpc = opts->openrpc;
    h->openrpc_len = opts->openrpc_len;
    if (opts->token && !(h->token = dup_text(opts->token))) {
        free(h);
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    return h;
}

static int start_daemon(hpd_http *h, int tcp, int listen_fd, const struct sockaddr *addr,
                        hp_error *err)
{
    daemon_slot *slot;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;

    if (h->n_daemons == MAX_DAEMONS)
        return hp_error_set(err, HP_E_LIMIT, "at most %d listening sockets", MAX_DAEMONS);
    slot = &h->daemons[h->n_daemons];
    *slot = (daemon_slot){.http = h, .tcp = tcp, .listen_fd = listen_fd, .epfd = -1};
    if (addr && addr->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (listen_fd >= 0)
        slot->mhd = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, slot, MHD_OPTION_LISTEN_SOCKET, listen_fd,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, slot, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
    else
        slot->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, slot, MHD_OPTION_SOCK_ADDR,
                                     addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, slot,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
    if (!slot->mhd)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno ? errno : EINVAL,
                                  "cannot start the HTTP server");
    info = MHD_get_daemon_info(slot->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || hpd_loop_watch(h->loop, info->epoll_fd, EPOLLIN, on_epoll, slot) != 0) {
        MHD_stop_daemon(slot->mhd);
        return hp_error_set(err, HP_E_SYSTEM, "cannot watch the HTTP server's epoll fd");
    }
    slot->epfd = info->epoll_fd;
    h->n_daemons++;
    drive(slot);
    return HP_OK;
}

int hpd_http_serve_unix(hpd_http *h, int listen_fd, hp_error *err)
{
    int rc = start_daemon(h, 0, listen_fd, NULL, err);

    if (rc != HP_OK)
        close(listen_fd);
    return rc;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
               127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

int hpd_parse_listen_addr(const char *addr_port, int allow_remote, struct sockaddr_storage *out,
                          hp_error *err)
{
    struct sockaddr_storage ss;
    char host[64];
    const char *colon = strrchr(addr_port, ':');
    char *end;
    unsigned long port;
    size_t hl;

    memset(&ss, 0, sizeof(ss));
    if (!colon || colon == addr_port)
        return hp_error_set(err, HP_E_USAGE, "--http wants ADDR:PORT, got '%s'", addr_port);
    port = strtoul(colon + 1, &end, 10);
    if (*end || colon[1] == '\0' || port == 0 || port > 65535)
        return hp_error_set(err, HP_E_USAGE, "--http '%s': the port must be 1 to 65535", addr_port);
    hl = (size_t)(colon - addr_port);
    if (addr_port[0] == '[' && hl >= 2 && addr_port[hl - 1] == ']') {
        addr_port++;
        hl -= 2;
    }
    if (hl >= sizeof(host))
        return hp_error_set(err, HP_E_USAGE, "--http '%s': address too long", addr_port);
    memcpy(host, addr_port, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    } else {
        return hp_error_set(err, HP_E_USAGE, "--http '%s': '%s' is not an IP address", addr_port,
                            host);
    }
    if (!allow_remote && !is_loopback((struct sockaddr *)&ss))
        return hp_error_set(err, HP_E_USAGE,
                            "--http %s is not a loopback address; add --http-allow-remote to "
                            "listen there",
                            host);
    *out = ss;
    return HP_OK;
}

int hpd_http_serve_tcp(hpd_http *h, const char *addr_port, int allow_remote, hp_error *err)
{
    struct sockaddr_storage ss;
    int rc = hpd_parse_listen_addr(addr_port, allow_remote, &ss, err);

    if (rc != HP_OK)
        return rc;
    return start_daemon(h, 1, -1, (struct sockaddr *)&ss, err);
}

void hpd_http_free(hpd_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_daemons; i++) {
        daemon_slot *slot = &h->daemons[i];
        hpd_loop_unwatch(h->loop, slot->epfd);
        hpd_loop_timer_cancel(h->loop, slot->timer);
        MHD_stop_daemon(slot->mhd);
        if (slot->listen_fd >= 0)
            close(slot->listen_fd);
    }
    free(h->token);
    free(h);
}
