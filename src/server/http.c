/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd in external-epoll mode: its epoll fd joins our loop and MHD_run runs when
 * it is readable or its timeout passes. Long calls (run.wait) suspend the connection and
 * resume it when the JSON-RPC layer delivers the answer. We accept connections ourselves
 * and hand them to MHD, so the connection limit is ours to keep: past it the oldest idle
 * connection makes room, and with none idle the newcomer gets a 503 at once. */
#include "config.h"

#include "server/http.h"

#include "server/auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ACCEPT_BATCH bounds the accepts per turn so one busy socket cannot starve the loop;
 * MHD's own limit is ours plus room for the connections we have shut down but MHD has
 * not closed yet, so a newcomer that takes an evicted one's slot is never refused. */
enum { MAX_DAEMONS = 2, ACCEPT_BATCH = 32, MHD_HEADROOM = 2 * ACCEPT_BATCH };

/* Bodies up to this size are read (and dropped) before a too-large refusal. */
#define DISCARD_LIMIT (64ULL * 1024 * 1024)

/* One accepted connection, from MHD's started notification to its closed one; linked
 * oldest first. busy: a request line arrived and its request is not completed (being
 * received, processed or a suspended run.wait). received: that request was read whole,
 * so the request timeout no longer applies. doomed: shut down by us, MHD closes it. */
typedef struct conn_rec {
    struct conn_rec *prev, *next;
    struct MHD_Connection *conn;
    int fd;
    int busy, received, doomed;
    int tcp;       /* accepted on the TCP socket */
    int suspended; /* its call waits (run.wait): the connection is busy but nothing moves */
    uint64_t busy_since;
} conn_rec;

typedef struct daemon_slot {
    hpd_http *http;
    struct MHD_Daemon *mhd;
    int epfd;
    int tcp;
    int listen_fd;     /* ours; watched in our loop */
    int listen_paused; /* out of fds: not watched until pause_timer fires */
    uint64_t timer, pause_timer;
} daemon_slot;

struct hpd_http {
    struct hpd_server *srv;
    hpd_loop *loop;
    const hpd_method *methods;
    size_t max_body;
    char *token;              /* the data dir's token: admin */
    struct hpd_auth *auth;    /* the tokens made by token.create, with their roles */
    char *tls_cert, *tls_key; /* PEM; TLS on TCP when set */
    const char *openrpc;
    size_t openrpc_len;
    daemon_slot daemons[MAX_DAEMONS];
    size_t n_daemons;
    unsigned max_conns;       /* live (not doomed) connections, over all sockets */
    uint64_t request_timeout; /* ms from request line to the request read whole */
    unsigned idle_timeout;    /* s; MHD closes a connection silent this long */
    conn_rec *oldest, *newest;
    unsigned n_conns, n_doomed;
    uint64_t sweep_timer;
    int reserve_fd; /* closed to accept-and-refuse when out of fds */
};

typedef struct request {
    hpd_http *http;
    daemon_slot *slot;
    struct MHD_Connection *conn;
    int is_rpc;
    char *body;
    size_t len, cap;
    int too_big;
    int role;         /* hpd_role of the caller */
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

/* The role of the bearer token: the data dir's token is the owner's (admin); others
 * are looked up among the live API tokens at every request, so a revoked one is refused
 * from the next request on. HPD_ROLE_NONE when it is none of them. */
static int bearer_role(hpd_http *h, struct MHD_Connection *conn)
{
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

    /* RFC 7235: the auth-scheme is case-insensitive. */
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return HPD_ROLE_NONE;
    if (h->token && hpd_token_equal(auth + 7, h->token))
        return HPD_ROLE_ADMIN;
    return hpd_auth_token_role(h->auth, auth + 7);
}

static conn_rec *rec_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info ? info->socket_context : NULL;
}

static void set_received(struct MHD_Connection *conn, int received)
{
    conn_rec *rec = rec_of(conn);

    if (rec)
        rec->received = received;
}

static void set_suspended(struct MHD_Connection *conn, int suspended)
{
    conn_rec *rec = rec_of(conn);

    if (rec)
        rec->suspended = suspended;
}

static void on_timer(hpd_loop *loop, uint64_t id, void *data);

static void answer_ready(void *ud, char *body)
{
    request *req = ud;
    daemon_slot *slot = req->slot;

    req->batch = NULL;
    req->answer = body;
    req->answered = 1;
    set_suspended(req->conn, 0);
    MHD_resume_connection(req->conn);
    /* In external-epoll mode nothing wakes MHD for a resume: run it on the next turn of
     * the loop, or the answer waits for the next unrelated request. */
    hpd_loop_timer_cancel(slot->http->loop, slot->timer);
    slot->timer = hpd_loop_timer(slot->http->loop, 0, on_timer, slot);
}

static enum MHD_Result finish_rpc(request *req)
{
    char *out = NULL;

    set_received(req->conn, 1);
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
    hpd_auth_set_caller(req->http->auth, (hpd_role)req->role);
    req->batch = hpd_rpc_handle(req->http->srv, req->http->methods, req->body ? req->body : "",
                                req->len, &out, answer_ready, req);
    hpd_auth_set_caller(req->http->auth, HPD_ROLE_ADMIN);
    if (req->batch) {
        set_suspended(req->conn, 1);
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
        /* Headers are in; only an RPC body is still to come (the request timeout runs on). */
        set_received(conn, 1);
        /* Over the Unix socket the peer is the owner (or root): admin. */
        req->role = slot->tcp            ? bearer_role(h, conn)
                    : peer_allowed(conn) ? HPD_ROLE_ADMIN
                                         : HPD_ROLE_NONE;
        if (req->role == HPD_ROLE_NONE)
            return respond_json_error(conn, slot->tcp ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_FORBIDDEN,
                                      HPD_UNAUTHORIZED,
                                      slot->tcp ? "a valid 'Authorization: Bearer <token>' "
                                                  "header is required"
                                                : "this server only serves its own user");
        if (strcmp(url, "/rpc") == 0 && strcmp(method, "POST") == 0) {
            req->is_rpc = 1;
            set_received(conn, 0);
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

    conn_rec *rec = rec_of(conn);

    (void)cls;
    (void)code;
    if (rec)
        rec->busy = rec->received = 0;
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

/* ---- connections: our accept, our limit ------------------------------------------ */

static void on_sweep(hpd_loop *loop, uint64_t id, void *data);

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    conn_rec *rec = rec_of(conn);
    daemon_slot *slot = cls;

    (void)uri;
    if (rec) {
        rec->busy = 1;
        rec->received = 0;
        rec->busy_since = hpd_now_mono_ms();
    }
    if (!slot->http->sweep_timer)
        slot->http->sweep_timer =
            hpd_loop_timer(slot->http->loop, slot->http->request_timeout, on_sweep, slot->http);
    return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    daemon_slot *slot = cls;
    hpd_http *h = slot->http;
    conn_rec *rec = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        /* Without memory the connection is served untracked: never evicted nor timed. */
        rec = calloc(1, sizeof(*rec));
        if (!rec)
            return;
        rec->conn = conn;
        rec->fd = info ? info->connect_fd : -1;
        rec->tcp = slot->tcp;
        rec->prev = h->newest;
        if (h->newest)
            h->newest->next = rec;
        else
            h->oldest = rec;
        h->newest = rec;
        h->n_conns++;
        *socket_context = rec;
        return;
    }
    if (!rec)
        return;
    if (rec->prev)
        rec->prev->next = rec->next;
    else
        h->oldest = rec->next;
    if (rec->next)
        rec->next->prev = rec->prev;
    else
        h->newest = rec->prev;
    h->n_conns--;
    if (rec->doomed)
        h->n_doomed--;
    free(rec);
    *socket_context = NULL;
}

/* Makes MHD close the connection on its next turn: it sees end of file. */
static void doom(hpd_http *h, conn_rec *rec)
{
    if (rec->doomed || rec->fd < 0)
        return;
    shutdown(rec->fd, SHUT_RDWR);
    rec->doomed = 1;
    h->n_doomed++;
}

static void drive_all(hpd_http *h)
{
    for (size_t i = 0; i < h->n_daemons; i++)
        drive(&h->daemons[i]);
}

/* Closes connections whose request started but was not read whole within the request
 * timeout (a client trickling bytes); re-arms for the next such deadline. */
static void on_sweep(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_http *h = data;
    uint64_t now = hpd_now_mono_ms(), next = 0;
    int closed = 0;

    (void)loop;
    if (h->sweep_timer == id)
        h->sweep_timer = 0;
    for (conn_rec *rec = h->oldest; rec; rec = rec->next) {
        uint64_t due = rec->busy_since + h->request_timeout;
        if (!rec->busy || rec->received || rec->doomed)
            continue;
        if (due <= now) {
            doom(h, rec);
            closed = 1;
        } else if (!next || due < next) {
            next = due;
        }
    }
    if (next && !h->sweep_timer)
        h->sweep_timer = hpd_loop_timer(h->loop, next - now, on_sweep, h);
    if (closed)
        drive_all(h);
}

/* The answer when every slot carries a live request: complete, so the client reports it
 * instead of hanging, and closed at once. */
static void refuse_busy(hpd_http *h, int fd)
{
    char head[256], drain[4096];
    char *body =
        hpd_rpc_error_body(HPD_LIMIT_REACHED, "the server is at its connection limit with every "
                                              "connection busy; retry shortly");
    const char *text = body ? body : "";
    size_t len = strlen(text);
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nRetry-After: 1\r\nConnection: close\r\n\r\n",
                     len);

    (void)h;
    /* Read what the client already sent: closing over unread data resets a TCP
     * connection, which could discard our answer before the client reads it. */
    while (recv(fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
        ;
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n)
        (void)!send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_WR);
    while (recv(fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
        ;
    close(fd);
    free(body);
}

/* Room for one more live connection: evict the oldest idle one when at the limit.
 * 0 when there is room, -1 when every connection carries a live request. */
static int make_room(hpd_http *h)
{
    if (h->n_conns - h->n_doomed >= h->max_conns) {
        conn_rec *rec = h->oldest;
        while (rec && (rec->busy || rec->doomed))
            rec = rec->next;
        if (!rec)
            return -1;
        doom(h, rec);
    }
    if (h->n_conns >= h->max_conns + MHD_HEADROOM)
        drive_all(h); /* MHD closes the doomed ones now */
    return h->n_conns < h->max_conns + MHD_HEADROOM ? 0 : -1;
}

static void on_listen(hpd_loop *loop, int fd, uint32_t events, void *data);

static void on_unpause(hpd_loop *loop, uint64_t id, void *data)
{
    daemon_slot *slot = data;

    (void)id;
    slot->pause_timer = 0;
    if (slot->listen_paused && hpd_loop_watch(loop, slot->listen_fd, EPOLLIN, on_listen, slot) == 0)
        slot->listen_paused = 0;
    else
        slot->pause_timer = hpd_loop_timer(loop, 100, on_unpause, slot);
}

/* Out of fds: refuse one pending client with the reserve fd, and if that does not
 * help, stop watching the socket briefly so the loop does not spin on it. */
static void out_of_fds(daemon_slot *slot)
{
    hpd_http *h = slot->http;
    int fd;

    if (h->reserve_fd >= 0) {
        close(h->reserve_fd);
        h->reserve_fd = -1;
        fd = accept4(slot->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            refuse_busy(h, fd);
        h->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            return;
    }
    hpd_loop_unwatch(h->loop, slot->listen_fd);
    slot->listen_paused = 1;
    slot->pause_timer = hpd_loop_timer(h->loop, 100, on_unpause, slot);
}

static void on_listen(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    daemon_slot *slot = data;
    hpd_http *h = slot->http;
    int added = 0;

    (void)loop;
    (void)events;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                out_of_fds(slot);
            /* EAGAIN: drained; ECONNABORTED and the like: the next one, next turn */
            break;
        }
        if (make_room(h) != 0) {
            refuse_busy(h, c);
            continue;
        }
        /* MHD closes c even when it refuses it. */
        if (MHD_add_connection(slot->mhd, c, (struct sockaddr *)&ss, sl) == MHD_YES)
            added = 1;
    }
    /* In external-epoll mode an added connection is served only by a later MHD_run. */
    if (added)
        drive(slot);
}

/* Up to the hard limit, so the connection limit, not the fd limit, is what clients meet. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
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
    h->auth = opts->auth;
    h->openrpc_len = opts->openrpc_len;
    h->max_conns = opts->max_connections ? opts->max_connections : 256;
    h->request_timeout = opts->request_timeout_ms ? opts->request_timeout_ms : 10000;
    h->idle_timeout = opts->idle_timeout_s ? opts->idle_timeout_s : 120;
    h->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    raise_fd_limit();
    if ((opts->token && !(h->token = dup_text(opts->token))) ||
        (opts->tls_cert && !(h->tls_cert = dup_text(opts->tls_cert))) ||
        (opts->tls_key && !(h->tls_key = dup_text(opts->tls_key)))) {
        if (h->reserve_fd >= 0)
            close(h->reserve_fd);
        free(h->token);
        free(h->tls_cert);
        free(h->tls_key);
        free(h);
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    return h;
}

/* Starts an MHD daemon without a listening socket of its own and watches listen_fd
 * (taken) for it; listen_fd is closed on failure. */
static int start_daemon(hpd_http *h, int tcp, int listen_fd, hp_error *err)
{
    daemon_slot *slot;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;
    struct MHD_OptionItem tls[3] = {
        {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
    int fl;

    if (h->n_daemons == MAX_DAEMONS) {
        close(listen_fd);
        return hp_error_set(err, HP_E_LIMIT, "at most %d listening sockets", MAX_DAEMONS);
    }
    slot = &h->daemons[h->n_daemons];
    *slot = (daemon_slot){.http = h, .tcp = tcp, .listen_fd = listen_fd, .epfd = -1};
    fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(listen_fd);
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot make the socket non-blocking");
    }
    if (tcp && h->tls_cert) {
        /* MHD copies neither text: they live in h until the daemon stops. */
        flags |= MHD_USE_TLS;
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert};
        tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key};
    }
    slot->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, slot, MHD_OPTION_ARRAY, tls, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, slot, MHD_OPTION_NOTIFY_CONNECTION, on_connection, slot,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, slot, MHD_OPTION_CONNECTION_TIMEOUT, h->idle_timeout,
        MHD_OPTION_CONNECTION_LIMIT, h->max_conns + (unsigned)MHD_HEADROOM, MHD_OPTION_END);
    if (!slot->mhd) {
        close(listen_fd);
        return hp_error_set_errno(err, HP_E_SYSTEM, errno ? errno : EINVAL,
                                  "cannot start the HTTP server");
    }
    info = MHD_get_daemon_info(slot->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || hpd_loop_watch(h->loop, info->epoll_fd, EPOLLIN, on_epoll, slot) != 0) {
        MHD_stop_daemon(slot->mhd);
        close(listen_fd);
        return hp_error_set(err, HP_E_SYSTEM, "cannot watch the HTTP server's epoll fd");
    }
    slot->epfd = info->epoll_fd;
    if (hpd_loop_watch(h->loop, listen_fd, EPOLLIN, on_listen, slot) != 0) {
        hpd_loop_unwatch(h->loop, slot->epfd);
        MHD_stop_daemon(slot->mhd);
        close(listen_fd);
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot watch the listening socket");
    }
    h->n_daemons++;
    drive(slot);
    return HP_OK;
}

int hpd_http_serve_unix(hpd_http *h, int listen_fd, hp_error *err)
{
    return start_daemon(h, 0, listen_fd, err);
}

void hpd_http_pause(hpd_http *h)
{
    for (size_t i = 0; i < h->n_daemons; i++)
        hpd_loop_unwatch(h->loop, h->daemons[i].listen_fd);
}

void hpd_http_resume(hpd_http *h)
{
    for (size_t i = 0; i < h->n_daemons; i++)
        if (!h->daemons[i].listen_paused)
            hpd_loop_watch(h->loop, h->daemons[i].listen_fd, EPOLLIN, on_listen, &h->daemons[i]);
}

size_t hpd_http_idle(hpd_http *h, int *fds, size_t max, size_t *busy)
{
    size_t n = 0;

    *busy = 0;
    for (conn_rec *rec = h->oldest; rec; rec = rec->next) {
        if (rec->doomed || rec->fd < 0)
            continue;
        if (rec->busy && !rec->suspended)
            (*busy)++;
        else if (!rec->busy && (!rec->tcp || !h->tls_cert) && n < max)
            fds[n++] = rec->fd; /* a TLS session cannot be handed over: it is cut */
    }
    return n;
}

int hpd_http_adopt(hpd_http *h, int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    daemon_slot *slot = NULL;

    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
        close(fd);
        return -1;
    }
    /* A Unix connection to the Unix socket's daemon, a TCP one to plain TCP's. */
    for (size_t i = 0; i < h->n_daemons; i++)
        if (h->daemons[i].tcp == (ss.ss_family != AF_UNIX) && (!h->daemons[i].tcp || !h->tls_cert))
            slot = &h->daemons[i];
    if (!slot) {
        close(fd);
        return -1;
    }
    /* MHD closes fd even when it refuses it. */
    if (MHD_add_connection(slot->mhd, fd, (struct sockaddr *)&ss, sl) != MHD_YES)
        return -1;
    drive(slot);
    return 0;
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
                            "--http %s is not a loopback address: serve TLS there (--tls-cert "
                            "and --tls-key, or --tls-self-signed) or add --insecure-http",
                            host);
    *out = ss;
    return HP_OK;
}

int hpd_http_serve_tcp(hpd_http *h, const char *addr_port, int allow_remote, hp_error *err)
{
    struct sockaddr_storage ss;
    int rc = hpd_parse_listen_addr(addr_port, allow_remote, &ss, err);

    int fd, one = 1;
    socklen_t sl;

    if (rc != HP_OK)
        return rc;
    sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot create a TCP socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        return hp_error_set_errno(err, HP_E_SYSTEM, e, "cannot listen on %s", addr_port);
    }
    return start_daemon(h, 1, fd, err);
}

/* 1 when fd is a listening TCP socket bound to ss's address and port. */
static int listens_on(int fd, const struct sockaddr_storage *ss)
{
    struct sockaddr_storage got;
    socklen_t gl = sizeof(got);
    int listening = 0;
    socklen_t ll = sizeof(listening);

    memset(&got, 0, sizeof(got));
    if (getsockname(fd, (struct sockaddr *)&got, &gl) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ll) != 0 || !listening ||
        got.ss_family != ss->ss_family)
        return 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)&got, *b = (const void *)ss;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    {
        const struct sockaddr_in6 *a = (const void *)&got, *b = (const void *)ss;
        return a->sin6_port == b->sin6_port &&
               memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
    }
}

int hpd_http_serve_tcp_kept(hpd_http *h, const char *addr_port, int allow_remote, int kept_fd,
                            hp_error *err)
{
    struct sockaddr_storage ss;

    if (kept_fd >= 0 && hpd_parse_listen_addr(addr_port, allow_remote, &ss, err) == HP_OK &&
        listens_on(kept_fd, &ss))
        return start_daemon(h, 1, kept_fd, err);
    if (kept_fd >= 0)
        close(kept_fd); /* the command line changed: bind what it says now */
    return hpd_http_serve_tcp(h, addr_port, allow_remote, err);
}

int hpd_http_tcp_fd(const hpd_http *h)
{
    for (size_t i = 0; h && i < h->n_daemons; i++)
        if (h->daemons[i].tcp)
            return h->daemons[i].listen_fd;
    return -1;
}

void hpd_http_free(hpd_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_daemons; i++) {
        daemon_slot *slot = &h->daemons[i];
        hpd_loop_unwatch(h->loop, slot->epfd);
        hpd_loop_unwatch(h->loop, slot->listen_fd);
        hpd_loop_timer_cancel(h->loop, slot->timer);
        hpd_loop_timer_cancel(h->loop, slot->pause_timer);
        /* A connection resumed on this last turn leaves the suspended list only in
         * MHD_run; MHD_stop_daemon aborts while one is still on it. */
        MHD_run(slot->mhd);
        MHD_stop_daemon(slot->mhd);
        close(slot->listen_fd);
    }
    hpd_loop_timer_cancel(h->loop, h->sweep_timer);
    if (h->reserve_fd >= 0)
        close(h->reserve_fd);
    free(h->token);
    free(h->tls_cert);
    if (h->tls_key) {
        explicit_bzero(h->tls_key, strlen(h->tls_key));
        free(h->tls_key);
    }
    free(h);
}
