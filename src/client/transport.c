/* SPDX-License-Identifier: Apache-2.0 */
/* The SDK's HTTP transport: POST /rpc through one reused libcurl easy handle (keep-alive)
 * over a Unix socket or a TCP base URL, with connect and total timeouts and a reply cap.
 * Failures become hp_error messages that name the endpoint and the reason. It knows
 * nothing of JSON-RPC: the body goes out and comes back as bytes. */
#include "config.h"

#include "client/transport.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* How long a refused or missing socket is tried again, and how often. */
enum { RETRY_PAUSE_MS = 20 };

struct hp__transport {
    CURL *curl;
    long restart_wait_ms; /* how long a refused or missing socket is tried again */
    struct curl_slist *headers;
    char *socket_path; /* NULL in URL mode */
    char *rpc_url;     /* URL of POST /rpc */
    char *endpoint;    /* for messages */
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_reply;
    /* the reply being received */
    char *buf;
    size_t len, cap;
    int over_cap;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *d = malloc(la + lb + 1);

    if (d) {
        memcpy(d, a, la);
        memcpy(d + la, b, lb + 1);
    }
    return d;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    hp__transport *t = ud;
    size_t n = size * nmemb;

    if (n > t->max_reply - t->len) {
        t->over_cap = 1;
        return 0;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        char *p;
        while (cap < t->len + n + 1)
            cap *= 2;
        p = realloc(t->buf, cap);
        if (!p)
            return 0;
        t->buf = p;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, data, n);
    t->len += n;
    t->buf[t->len] = '\0';
    return n;
}

/* A pin alone is the whole trust: the certificate is the daemon's own self-signed one,
 * so the chain and the name are not checked, but libcurl still compares the key before
 * it sends a byte of the request. With a CA file the chain and the name are checked too. */
static hp_status tls_setup(hp__transport *t, const hp__transport_options *opts, hp_error *err)
{
    int https = strncmp(opts->url, "https://", 8) == 0;
    int has_pin = opts->pin && *opts->pin, has_ca = opts->cacert && *opts->cacert;

    if (!https) {
        if (has_pin || has_ca)
            return hp_error_set(err, HP_E_INVALID,
                                "a pin or a CA file needs an https:// URL, got '%s'", opts->url);
        return HP_OK;
    }
    if (has_pin && strncmp(opts->pin, "sha256//", 8) != 0)
        return hp_error_set(err, HP_E_INVALID, "the pin must look like sha256//BASE64, got '%s'",
                            opts->pin);
    if (has_pin && curl_easy_setopt(t->curl, CURLOPT_PINNEDPUBLICKEY, opts->pin) != CURLE_OK)
        return hp_error_set(err, HP_E_INVALID, "this libcurl cannot pin public keys");
    if (has_ca)
        curl_easy_setopt(t->curl, CURLOPT_CAINFO, opts->cacert);
    else if (has_pin) {
        curl_easy_setopt(t->curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(t->curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return HP_OK;
}

hp__transport *hp__transport_new(const hp__transport_options *opts, hp_error *err)
{
    hp__transport *t;
    struct curl_slist *h;

    if (!opts || !opts->socket_path == !opts->url || (opts->socket_path && !*opts->socket_path) ||
        (opts->url && !*opts->url)) {
        hp_error_set(err, HP_E_INVALID, "give exactly one of a socket path and a URL");
        return NULL;
    }
    if (opts->url && strncmp(opts->url, "http://", 7) != 0 &&
        strncmp(opts->url, "https://", 8) != 0) {
        hp_error_set(err, HP_E_INVALID, "URL '%s' must start with http:// or https://", opts->url);
        return NULL;
    }
    if (opts->socket_path &&
        strlen(opts->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        hp_error_set(err, HP_E_INVALID, "socket path %s is longer than %zu bytes",
                     opts->socket_path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        return NULL;
    }
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        hp_error_set(err, HP_E_INTERNAL, "libcurl initialisation failed: %s",
                     curl_easy_strerror(global_rc));
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (!t)
        goto nomem;
    t->connect_timeout_ms =
        opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : HP_DEFAULT_CONNECT_TIMEOUT_MS;
    t->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : HP_DEFAULT_TIMEOUT_MS;
    t->max_reply = opts->max_reply_bytes ? opts->max_reply_bytes : HP_DEFAULT_MAX_REPLY_BYTES;
    t->restart_wait_ms = HP_DEFAULT_RESTART_WAIT_MS;
    if (opts->socket_path) {
        t->socket_path = dup_str(opts->socket_path);
        t->rpc_url = dup_str("http://localhost/rpc");
        t->endpoint = dup_str(opts->socket_path);
    } else {
        size_t n = strlen(opts->url);
        char *base = dup_str(opts->url);
        if (base) {
            while (n > 0 && base[n - 1] == '/')
                base[--n] = '\0';
            t->rpc_url =
                n >= 4 && strcmp(base + n - 4, "/rpc") == 0 ? dup_str(base) : join(base, "/rpc");
        }
        t->endpoint = base;
    }
    if (!t->rpc_url || !t->endpoint || (opts->socket_path && !t->socket_path))
        goto nomem;
    h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h)
        t->headers = h;
    h = h ? curl_slist_append(t->headers, "Expect:") : NULL;
    if (h && opts->url && opts->token && *opts->token) {
        char *auth = join("Authorization: Bearer ", opts->token);
        h = auth ? curl_slist_append(t->headers, auth) : NULL;
        free(auth);
    }
    if (!h)
        goto nomem;
    t->curl = curl_easy_init();
    if (!t->curl)
        goto nomem;
    curl_easy_setopt(t->curl, CURLOPT_URL, t->rpc_url);
    if (t->socket_path)
        curl_easy_setopt(t->curl, CURLOPT_UNIX_SOCKET_PATH, t->socket_path);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
    curl_easy_setopt(t->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_reply);
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->curl, CURLOPT_USERAGENT, "hero_proc_sdk/" PACKAGE_VERSION);
    if (opts->url && tls_setup(t, opts, err) != HP_OK) {
        hp__transport_free(t);
        return NULL;
    }
    return t;
nomem:
    hp__transport_free(t);
    hp_error_set_code(err, HP_E_NOMEM);
    return NULL;
}

void hp__transport_free(hp__transport *t)
{
    if (!t)
        return;
    if (t->curl)
        curl_easy_cleanup(t->curl);
    curl_slist_free_all(t->headers);
    free(t->socket_path);
    free(t->rpc_url);
    free(t->endpoint);
    free(t->buf);
    free(t);
}

void hp__transport_set_restart_wait(hp__transport *t, long ms)
{
    if (t)
        t->restart_wait_ms = ms < 0 ? HP_DEFAULT_RESTART_WAIT_MS : ms;
}

const char *hp__transport_endpoint(const hp__transport *t)
{
    return t ? t->endpoint : "";
}

/* Why the socket cannot be reached, as an errno: curl's message does not carry one. */
static int socket_errno(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, e = 0;

    if (stat(path, &st) != 0)
        return errno;
    if (!S_ISSOCK(st.st_mode))
        return ENOTSOCK;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        e = errno;
    close(fd);
    return e;
}

/* 1 when the directory of path exists: a socket missing from it may be one a server is
 * about to bind again. */
static int parent_exists(const char *path)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    const char *slash = strrchr(path, '/');
    struct stat st;

    if (!slash)
        return 1;
    if ((size_t)(slash - path) >= sizeof(dir))
        return 0;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    return stat(slash == path ? "/" : dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static hp_status fail(hp__transport *t, CURLcode rc, long timeout_ms, hp_error *err)
{
    const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);

    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        if (t->socket_path) {
            int e = socket_errno(t->socket_path);
            if (e)
                return hp_error_set_errno(err, HP_E_CONNECT, e, "no hero_proc server at %s",
                                          t->socket_path);
        }
        return hp_error_set(err, HP_E_CONNECT, "no hero_proc server at %s: %s", t->endpoint, why);
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return hp_error_set(err, HP_E_CONNECT,
                            "the server at %s is not the one pinned: its public key does not "
                            "match the pin (nothing was sent)",
                            t->endpoint);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
        return hp_error_set(err, HP_E_CONNECT,
                            "no trusted TLS connection to %s (nothing was sent): %s", t->endpoint,
                            why);
    case CURLE_OPERATION_TIMEDOUT:
        return hp_error_set(err, HP_E_TIMEOUT,
                            "the hero_proc server at %s did not answer within %ld ms", t->endpoint,
                            timeout_ms);
    case CURLE_FILESIZE_EXCEEDED:
        return hp_error_set(err, HP_E_PROTOCOL,
                            "the reply from %s is larger than the limit of %zu bytes", t->endpoint,
                            t->max_reply);
    case CURLE_WRITE_ERROR:
        if (t->over_cap)
            return hp_error_set(err, HP_E_PROTOCOL,
                                "the reply from %s is larger than the limit of %zu bytes",
                                t->endpoint, t->max_reply);
        return hp_error_set_code(err, HP_E_NOMEM);
    case CURLE_OUT_OF_MEMORY:
        return hp_error_set_code(err, HP_E_NOMEM);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        return hp_error_set(err, HP_E_CONNECT,
                            "the connection to the hero_proc server at %s broke: %s", t->endpoint,
                            why);
    default:
        return hp_error_set(err, HP_E_PROTOCOL, "bad reply from the hero_proc server at %s: %s",
                            t->endpoint, why);
    }
}

hp_status hp__transport_post(hp__transport *t, const char *body, size_t len, long timeout_ms,
                             char **reply, size_t *reply_len, long *http_status, hp_error *err)
{
    CURLcode rc;
    long code = 0;

    *reply = NULL;
    *reply_len = 0;
    *http_status = 0;
    if (timeout_ms <= 0)
        timeout_ms = t->timeout_ms;
    t->len = 0;
    t->over_cap = 0;
    t->errbuf[0] = '\0';
    if (t->buf)
        t->buf[0] = '\0';
    curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    rc = curl_easy_perform(t->curl);
    /* A server being upgraded or restarted: its socket refuses or is missing for a moment.
     * Nothing was sent, so the call is tried again for up to restart_wait_ms: the caller
     * sees a pause, not an error. */
    if (rc == CURLE_COULDNT_CONNECT && t->socket_path && t->restart_wait_ms > 0) {
        struct timespec t0, now, pause = {0, RETRY_PAUSE_MS * 1000000L};
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            int e = socket_errno(t->socket_path);
            long waited;
            if (e != 0 && e != ECONNREFUSED && (e != ENOENT || !parent_exists(t->socket_path)))
                break; /* not a restart: no such directory, no permission */
            clock_gettime(CLOCK_MONOTONIC, &now);
            waited = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
            if (waited >= t->restart_wait_ms)
                break;
            nanosleep(&pause, NULL);
            t->errbuf[0] = '\0';
            rc = curl_easy_perform(t->curl);
            if (rc != CURLE_COULDNT_CONNECT)
                break;
        }
    }
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, NULL);
    if (rc != CURLE_OK)
        return fail(t, rc, timeout_ms, err);
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    /* Hand the buffer over and start the next reply with a fresh one. */
    if (!t->buf) {
        t->buf = malloc(1);
        if (!t->buf)
            return hp_error_set_code(err, HP_E_NOMEM);
        t->buf[0] = '\0';
    }
    *reply = t->buf;
    *reply_len = t->len;
    *http_status = code;
    t->buf = NULL;
    t->len = t->cap = 0;
    return HP_OK;
}
