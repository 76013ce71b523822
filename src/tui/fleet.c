/* SPDX-License-Identifier: Apache-2.0 */
/* The fleet poller (fleet.h): one thread drives every host's service.list at once through
 * one libcurl multi handle (one easy handle, so one kept connection, per host; each with
 * its own timeout, so a host that does not answer holds up nobody), with the SDK's JSON-RPC
 * reply and type parsers; a mutex over what it hands over and a pipe that wake the
 * dashboard's poll(). It knows nothing of the screen. libcurl is driven by its socket
 * interface on an epoll set: only a transfer whose socket is ready is run (with
 * curl_multi_perform every wake-up polled every transfer, 12 poll() calls per request). */
#include "config.h"

#include "tui/fleet.h"

#include "builders/factory.h"
#include "client/context.h"
#include "client/endpoint.h"
#include "client/jsonrpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* One call's bound: a host that takes longer is marked slow (after the interval), then
 * down. */
#define CALL_TIMEOUT_MS    3000
#define CONNECT_TIMEOUT_MS 2000
/* A host's answer larger than this is refused (a list of 200 services is ~100 kB). */
#define MAX_REPLY (64L << 20)
/* Sockets taken from one epoll_wait. */
#define MAX_READY 32

typedef struct host {
    tui_fleet *fleet;
    char name[64];
    /* the poller's side */
    CURL *easy; /* NULL when the endpoint could not be set up (reason says why) */
    struct curl_slist *headers;
    char body[160];
    char *buf;
    size_t len, cap;
    int too_big;
    char errbuf[CURL_ERROR_SIZE];
    char where[1024]; /* the socket or URL, for the reasons */
    int unix_socket;
    int in_flight;
    long long sent_at, next_at;
    int64_t rev;
    /* under the fleet's lock: what the poller hands over */
    hp_service_list *pending; /* a new list, not yet taken */
    int state;
    long latency_ms;
    char reason[256];
    long long busy_since; /* monotonic ms of the call in flight, 0 when none */
    int poke;             /* poll now */
    /* the loop's side */
    tui_fleet_host shown;
    tui_model act; /* the actions' connection, act.client NULL until the first */
} host;

struct tui_fleet {
    pthread_mutex_t lock;
    int stop, poked; /* under lock */
    int paused;      /* under lock: no new call while the fleet is not on screen */
    int paused_ui;   /* the loop's copy, so that an unchanged state takes no lock */
    long interval_ms;
    int pipe[2];
    CURLM *multi;
    int epfd;              /* the poller's: libcurl's sockets and wake_fd */
    int wake_fd;           /* an eventfd: a poke, a pause or the stop */
    long long curl_due_at; /* when libcurl wants its timeout action; -1: never */
    pthread_t thread;
    int started;
    host *hosts;
    size_t n_hosts;
    tui_fleet_row *rows;
    size_t n_rows;
    int strip_changed; /* the loop's: take saw a change of the strip alone */
};

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(tui_fleet *fl)
{
    char b = 1;

    if (write(fl->pipe[1], &b, 1) < 0) {
        /* full: a wake-up is pending anyway */
    }
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    host *h = ud;
    size_t add = size * n;

    if (h->len + add + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        char *grown;
        while (cap < h->len + add + 1)
            cap *= 2;
        if (cap > (size_t)MAX_REPLY || !(grown = realloc(h->buf, cap))) {
            h->too_big = 1;
            return 0; /* curl stops the transfer */
        }
        h->buf = grown;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, data, add);
    h->len += add;
    h->buf[h->len] = '\0';
    return add;
}

/* The easy handle of h from its context (socket or URL, token, pin, CA file), as the
 * SDK's transport sets up its own. -1 with h->reason. */
static int setup(host *h)
{
    hp_endpoint_flags flags = {.context = h->name};
    hp_endpoint ep;
    hp_error err;
    char *auth = NULL;
    int https;

    hp_error_clear(&err);
    if (hp_endpoint_resolve_flags(&flags, &ep, &err) != HP_OK) {
        snprintf(h->reason, sizeof(h->reason), "%s", err.message);
        return -1;
    }
    https = ep.url && strncmp(ep.url, "https://", 8) == 0;
    h->easy = curl_easy_init();
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    h->headers = h->headers ? curl_slist_append(h->headers, "Expect:") : NULL;
    if (ep.url && ep.token && *ep.token && h->headers &&
        asprintf(&auth, "Authorization: Bearer %s", ep.token) > 0)
        h->headers = curl_slist_append(h->headers, auth);
    free(auth);
    if (!h->easy || !h->headers) {
        snprintf(h->reason, sizeof(h->reason), "out of memory");
        hp_endpoint_clear(&ep);
        return -1;
    }
    if (ep.url) {
        size_t n = strlen(ep.url);
        char url[1024];
        while (n > 0 && ep.url[n - 1] == '/')
            n--;
        snprintf(url, sizeof(url), "%.*s%s", (int)n, ep.url,
                 n >= 4 && strncmp(ep.url + n - 4, "/rpc", 4) == 0 ? "" : "/rpc");
        curl_easy_setopt(h->easy, CURLOPT_URL, url);
        snprintf(h->where, sizeof(h->where), "%s", url);
    } else {
        char url[64];
        struct curl_slist *host_header;
        snprintf(h->where, sizeof(h->where), "%s", ep.socket_path);
        h->unix_socket = 1;
        /* A host name of its own per socket (the request still says Host: localhost):
         * libcurl keeps connections by host name, and with every socket "localhost" it
         * checked each host's kept connection, a poll() apiece, to find the one for this
         * socket. */
        snprintf(url, sizeof(url), "http://fleet-%zu.localhost/rpc", (size_t)(h - h->fleet->hosts));
        host_header = curl_slist_append(h->headers, "Host: localhost");
        if (host_header)
            h->headers = host_header;
        curl_easy_setopt(h->easy, CURLOPT_URL, url);
        curl_easy_setopt(h->easy, CURLOPT_UNIX_SOCKET_PATH, ep.socket_path);
    }
    if (https && ep.pin && *ep.pin)
        curl_easy_setopt(h->easy, CURLOPT_PINNEDPUBLICKEY, ep.pin);
    if (https && ep.cacert && *ep.cacert) {
        curl_easy_setopt(h->easy, CURLOPT_CAINFO, ep.cacert);
    } else if (https && ep.pin && *ep.pin) { /* the pin is the trust: a self-signed cert */
        curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)CALL_TIMEOUT_MS);
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "hero_proc_tui/" PACKAGE_VERSION);
    curl_easy_setopt(h->easy, CURLOPT_PRIVATE, h);
    hp_endpoint_clear(&ep);
    return 0;
}

/* Sends service.list to h, with the rev it last saw: an unchanged host answers
 * {"unchanged": true, "rev": N}. */
static void send_list(tui_fleet *fl, host *h, long long now)
{
    if (h->rev > 0)
        snprintf(h->body, sizeof(h->body),
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"service.list\","
                 "\"params\":{\"if_changed_since\":%lld}}",
                 (long long)h->rev);
    else
        snprintf(h->body, sizeof(h->body),
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"service.list\",\"params\":{}}");
    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, h->body);
    h->len = 0;
    h->too_big = 0;
    h->errbuf[0] = '\0';
    if (curl_multi_add_handle(fl->multi, h->easy) != CURLM_OK) {
        h->next_at = now + fl->interval_ms;
        return;
    }
    h->in_flight = 1;
    h->sent_at = now;
    pthread_mutex_lock(&fl->lock);
    h->busy_since = now;
    pthread_mutex_unlock(&fl->lock);
}

/* The answer of h (or why there is none) handed over; the next call after the interval. */
static void finish(tui_fleet *fl, host *h, CURLcode rc)
{
    long long now = mono_ms();
    long status = 0;
    hp_service_list *list = NULL;
    hp_error err;
    int news;

    hp_error_clear(&err);
    curl_multi_remove_handle(fl->multi, h->easy);
    h->in_flight = 0;
    h->next_at = h->sent_at + fl->interval_ms;
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_COULDNT_CONNECT && h->unix_socket) { /* curl would name port 80 */
        hp_error_set(&err, HP_E_CONNECT, "no hero_proc server at %s", h->where);
    } else if (rc != CURLE_OK) {
        hp_error_set(&err, HP_E_CONNECT, "%s: %s", h->where,
                     h->too_big     ? "answer too large"
                     : h->errbuf[0] ? h->errbuf
                                    : curl_easy_strerror(rc));
    } else if (status != 200) {
        hp_error_set(&err, status == 401 ? HP_E_UNAUTHORIZED : HP_E_HTTP, "HTTP %ld%s", status,
                     status == 401 ? ": the token is refused" : "");
    } else {
        cJSON *result = hp__rpc_parse_reply(h->buf ? h->buf : "", h->len, 1, NULL, &err);
        if (result)
            list = hp_service_list_from_json(result, &err);
        cJSON_Delete(result);
    }
    pthread_mutex_lock(&fl->lock);
    h->busy_since = 0;
    news = h->state != (list ? TUI_HOST_UP : TUI_HOST_DOWN);
    h->state = list ? TUI_HOST_UP : TUI_HOST_DOWN;
    if (list) {
        h->latency_ms = (long)(now - h->sent_at);
        h->rev = list->rev;
        if (list->unchanged) {
            hp_service_list_free(list);
        } else {
            hp_service_list_free(h->pending);
            h->pending = list;
            news = 1;
        }
    } else {
        /* A server that came back may count its revs again: the next answer is whole. */
        h->rev = 0;
        snprintf(h->reason, sizeof(h->reason), "%s", err.message);
    }
    pthread_mutex_unlock(&fl->lock);
    if (news)
        wake(fl);
}

/* libcurl's sockets in the epoll set, as it asks (CURLMOPT_SOCKETFUNCTION). */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *ud, void *known)
{
    tui_fleet *fl = ud;
    struct epoll_event ev = {.data.fd = s};

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(fl->epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(fl->multi, s, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (epoll_ctl(fl->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0 && !known)
        epoll_ctl(fl->epfd, EPOLL_CTL_MOD, s, &ev); /* a socket reused under the same fd */
    curl_multi_assign(fl->multi, s, fl);
    return 0;
}

/* When libcurl next wants to act on its own (CURLMOPT_TIMERFUNCTION). */
static int on_timer(CURLM *multi, long timeout_ms, void *ud)
{
    tui_fleet *fl = ud;

    (void)multi;
    fl->curl_due_at = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    return 0;
}

static void wake_poller(tui_fleet *fl)
{
    uint64_t one = 1;

    if (write(fl->wake_fd, &one, sizeof(one)) < 0) {
        /* the counter is full: a wake-up is pending anyway */
    }
}

/* Every answer libcurl has finished, handed over. */
static void take_done(tui_fleet *fl)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(fl->multi, &left)))
        if (m->msg == CURLMSG_DONE) {
            host *h = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&h);
            finish(fl, h, m->data.result);
        }
}

static void *poll_hosts(void *data)
{
    tui_fleet *fl = data;

    for (;;) {
        long long now = mono_ms(), next = now + 1000;
        int running = 0, poked, paused, n_ready;
        struct epoll_event ready[MAX_READY];

        pthread_mutex_lock(&fl->lock);
        if (fl->stop) {
            pthread_mutex_unlock(&fl->lock);
            break;
        }
        poked = fl->poked;
        paused = fl->paused;
        fl->poked = 0;
        for (size_t i = 0; poked && i < fl->n_hosts; i++) {
            if (fl->hosts[i].poke)
                fl->hosts[i].next_at = now;
            fl->hosts[i].poke = 0;
        }
        pthread_mutex_unlock(&fl->lock);
        for (size_t i = 0; i < fl->n_hosts; i++) {
            host *h = &fl->hosts[i];
            if (!h->easy || h->in_flight || paused)
                continue;
            if (now >= h->next_at)
                send_list(fl, h, now);
            else if (h->next_at < next)
                next = h->next_at;
        }
        now = mono_ms();
        if (fl->curl_due_at >= 0 && fl->curl_due_at <= now) {
            fl->curl_due_at = -1;
            curl_multi_socket_action(fl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            take_done(fl);
            now = mono_ms();
        }
        for (size_t i = 0; i < fl->n_hosts && !paused; i++)
            if (fl->hosts[i].easy && !fl->hosts[i].in_flight && fl->hosts[i].next_at < next)
                next = fl->hosts[i].next_at;
        if (fl->curl_due_at >= 0 && fl->curl_due_at < next)
            next = fl->curl_due_at;
        /* Sleeps until a socket is ready, a host or libcurl is due, or a poke or the stop
         * wakes it. */
        n_ready = epoll_wait(fl->epfd, ready, MAX_READY, next > now ? (int)(next - now) : 0);
        for (int i = 0; i < n_ready; i++) {
            int fd = ready[i].data.fd;
            uint32_t e = ready[i].events;
            if (fd == fl->wake_fd) {
                uint64_t count;
                if (read(fl->wake_fd, &count, sizeof(count)) < 0) {
                    /* nothing to read: another wake-up took it */
                }
                continue;
            }
            curl_multi_socket_action(fl->multi, fd,
                                     (e & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                                         (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                                         (e & EPOLLERR ? CURL_CSELECT_ERR : 0),
                                     &running);
        }
        take_done(fl);
    }
    for (size_t i = 0; i < fl->n_hosts; i++)
        if (fl->hosts[i].in_flight)
            curl_multi_remove_handle(fl->multi, fl->hosts[i].easy);
    return NULL;
}

tui_fleet *tui_fleet_start(long interval_ms, char *msg, size_t size)
{
    tui_fleet *fl = calloc(1, sizeof(*fl));
    hp_contexts all;
    hp_error err;

    hp_error_clear(&err);
    memset(&all, 0, sizeof(all));
    if (!fl || hp_contexts_load(NULL, 0, &all, &err) != HP_OK) {
        snprintf(msg, size, "fleet: %s", fl ? err.message : "out of memory");
        free(fl);
        return NULL;
    }
    fl->interval_ms = interval_ms > 0 ? interval_ms : 1000;
    fl->pipe[0] = fl->pipe[1] = -1;
    fl->epfd = epoll_create1(EPOLL_CLOEXEC);
    fl->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    fl->curl_due_at = -1;
    fl->n_hosts = all.count + 1;
    fl->hosts = calloc(fl->n_hosts, sizeof(*fl->hosts));
    pthread_mutex_init(&fl->lock, NULL);
    fl->multi = curl_multi_init();
    if (!fl->hosts || !fl->multi || pipe2(fl->pipe, O_CLOEXEC | O_NONBLOCK) != 0 || fl->epfd < 0 ||
        fl->wake_fd < 0 ||
        epoll_ctl(fl->epfd, EPOLL_CTL_ADD, fl->wake_fd,
                  &(struct epoll_event){.events = EPOLLIN, .data.fd = fl->wake_fd}) != 0) {
        snprintf(msg, size, "fleet: %s",
                 fl->hosts && fl->multi ? strerror(errno) : "out of memory");
        hp_contexts_clear(&all);
        tui_fleet_stop(fl);
        return NULL;
    }
    curl_multi_setopt(fl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(fl->multi, CURLMOPT_SOCKETDATA, fl);
    curl_multi_setopt(fl->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(fl->multi, CURLMOPT_TIMERDATA, fl);
    /* Every host's connection kept: by default the cache holds 4 per handle added, and
     * with the handles added one call at a time it closed some between calls. */
    curl_multi_setopt(fl->multi, CURLMOPT_MAXCONNECTS, (long)fl->n_hosts + 1);
    for (size_t i = 0; i < fl->n_hosts; i++) {
        host *h = &fl->hosts[i];
        h->fleet = fl;
        snprintf(h->name, sizeof(h->name), "%s", i ? all.items[i - 1].name : "local");
        snprintf(h->shown.name, sizeof(h->shown.name), "%s", h->name);
        if (setup(h) != 0)
            h->state = TUI_HOST_DOWN; /* a context that names nothing usable */
    }
    hp_contexts_clear(&all);
    fl->started = pthread_create(&fl->thread, NULL, poll_hosts, fl) == 0;
    if (!fl->started) {
        snprintf(msg, size, "fleet: no thread to poll the hosts");
        tui_fleet_stop(fl);
        return NULL;
    }
    return fl;
}

void tui_fleet_stop(tui_fleet *fl)
{
    if (!fl)
        return;
    pthread_mutex_lock(&fl->lock);
    fl->stop = 1;
    pthread_mutex_unlock(&fl->lock);
    if (fl->started) {
        wake_poller(fl);
        pthread_join(fl->thread, NULL);
    }
    for (size_t i = 0; fl->hosts && i < fl->n_hosts; i++) {
        host *h = &fl->hosts[i];
        if (h->easy)
            curl_easy_cleanup(h->easy);
        curl_slist_free_all(h->headers);
        free(h->buf);
        hp_service_list_free(h->pending);
        hp_service_list_free(h->shown.services);
        tui_model_free(&h->act); /* and its client */
    }
    if (fl->multi)
        curl_multi_cleanup(fl->multi);
    if (fl->epfd >= 0)
        close(fl->epfd);
    if (fl->wake_fd >= 0)
        close(fl->wake_fd);
    free(fl->hosts);
    free(fl->rows);
    if (fl->pipe[0] >= 0) {
        close(fl->pipe[0]);
        close(fl->pipe[1]);
    }
    pthread_mutex_destroy(&fl->lock);
    free(fl);
}

int tui_fleet_fd(const tui_fleet *fl)
{
    return fl ? fl->pipe[0] : -1;
}

void tui_fleet_drain(tui_fleet *fl)
{
    char buf[64];

    while (fl && read(fl->pipe[0], buf, sizeof(buf)) > 0) {
    }
}

/* The rows again from every host's list: host by host, each in the server's (name) order. */
static void merge(tui_fleet *fl)
{
    size_t n = 0, k = 0;
    tui_fleet_row *rows;

    for (size_t i = 0; i < fl->n_hosts; i++)
        n += fl->hosts[i].shown.services ? fl->hosts[i].shown.services->n_services : 0;
    rows = n ? malloc(n * sizeof(*rows)) : NULL;
    if (n && !rows)
        n = 0; /* without memory the list is empty rather than wrong */
    for (size_t i = 0; i < fl->n_hosts && rows; i++) {
        const hp_service_list *l = fl->hosts[i].shown.services;
        for (size_t s = 0; l && s < l->n_services; s++)
            rows[k++] = (tui_fleet_row){i, s};
    }
    free(fl->rows);
    fl->rows = rows;
    fl->n_rows = n;
}

int tui_fleet_take(tui_fleet *fl)
{
    int lists = 0, strip = 0;
    long long now = mono_ms();

    pthread_mutex_lock(&fl->lock);
    for (size_t i = 0; i < fl->n_hosts; i++) {
        host *h = &fl->hosts[i];
        tui_fleet_host *s = &h->shown;
        long was = s->latency_ms, diff = h->latency_ms - was;
        int slow = h->busy_since && now - h->busy_since > fl->interval_ms;

        if (h->pending) {
            hp_service_list_free(s->services);
            s->services = h->pending;
            h->pending = NULL;
            lists = 1;
        }
        if (s->state != h->state || s->slow != slow)
            strip = 1;
        if (h->state == TUI_HOST_DOWN && s->state != TUI_HOST_DOWN)
            s->went_down = 1;
        s->state = h->state;
        s->slow = slow;
        /* The strip is drawn again only for a change a reader would notice: redrawing it
         * for every millisecond of jitter would cost more than the polling. */
        if (diff < 0)
            diff = -diff;
        if (h->state == TUI_HOST_UP && (was == 0 || (diff > 5 && diff * 2 > was))) {
            s->latency_ms = h->latency_ms ? h->latency_ms : 1;
            strip |= s->latency_ms != was;
        }
        if (strcmp(s->reason, h->reason) != 0) {
            snprintf(s->reason, sizeof(s->reason), "%s", h->reason);
            strip = 1;
        }
    }
    pthread_mutex_unlock(&fl->lock);
    if (lists)
        merge(fl);
    fl->strip_changed |= strip && !lists;
    return lists ? 1 : strip ? 2 : 0;
}

int tui_fleet_strip_changed(tui_fleet *fl)
{
    int was = fl && fl->strip_changed;

    if (fl)
        fl->strip_changed = 0;
    return was;
}

void tui_fleet_pause(tui_fleet *fl, int paused)
{
    paused = !!paused;
    if (!fl || fl->paused_ui == paused)
        return;
    fl->paused_ui = paused;
    pthread_mutex_lock(&fl->lock);
    fl->paused = paused;
    pthread_mutex_unlock(&fl->lock);
    if (!paused)
        tui_fleet_poke(fl, NULL); /* back on screen: every host now, not at its next tick */
}

void tui_fleet_poke(tui_fleet *fl, const char *name)
{
    pthread_mutex_lock(&fl->lock);
    for (size_t i = 0; i < fl->n_hosts; i++)
        if (!name || strcmp(fl->hosts[i].name, name) == 0)
            fl->hosts[i].poke = 1;
    fl->poked = 1;
    pthread_mutex_unlock(&fl->lock);
    wake_poller(fl);
}

size_t tui_fleet_hosts(const tui_fleet *fl)
{
    return fl->n_hosts;
}

const tui_fleet_host *tui_fleet_host_at(const tui_fleet *fl, size_t i)
{
    return &fl->hosts[i].shown;
}

int tui_fleet_went_down(tui_fleet *fl, size_t i)
{
    int was = fl->hosts[i].shown.went_down;

    fl->hosts[i].shown.went_down = 0;
    return was;
}

size_t tui_fleet_rows(const tui_fleet *fl)
{
    return fl->n_rows;
}

const tui_fleet_row *tui_fleet_row_at(const tui_fleet *fl, size_t i)
{
    return &fl->rows[i];
}

const hp_service_summary *tui_fleet_service(const tui_fleet *fl, size_t row)
{
    const tui_fleet_row *r = &fl->rows[row];

    return &fl->hosts[r->host].shown.services->services[r->service];
}

int tui_fleet_act(tui_fleet *fl, const tui_action *act, char *msg, size_t size)
{
    host *h = NULL;
    int rc;

    for (size_t i = 0; i < fl->n_hosts && !h; i++)
        if (strcmp(fl->hosts[i].name, act->host) == 0)
            h = &fl->hosts[i];
    if (!h) {
        snprintf(msg, size, "no host '%s' in the fleet", act->host);
        return -1;
    }
    /* Not tried on the screen's thread: a host that does not answer the poller would hold
     * every key up to its connect timeout. The next poll that reaches it allows it again. */
    if (h->shown.state != TUI_HOST_UP) {
        snprintf(msg, size, "%s is unreachable: nothing was sent (%s)", h->name,
                 h->shown.reason[0] ? h->shown.reason : "no answer yet");
        return -1;
    }
    if (!h->act.client) {
        hp_factory_options o = {.context = h->name, .no_spawn = 1, .timeout_ms = 5000};
        hp_error err;
        hp_client *c;
        hp_error_clear(&err);
        c = hp_factory_auto(&o, &err);
        if (!c) {
            snprintf(msg, size, "%s: %s", h->name, err.message);
            return -1;
        }
        tui_model_init(&h->act, c, hp_client_endpoint(c), "");
    }
    rc = tui_model_act(&h->act, act, msg, size);
    tui_fleet_poke(fl, h->name); /* the change shows at once, not at the next tick */
    return rc;
}
