/* SPDX-License-Identifier: Apache-2.0 */
/* The fleet poller (fleet.h): one thread per host, each with its own hp_client (the SDK
 * handle is not shared between threads, and a thread blocked on a host that does not
 * answer blocks nobody else), a mutex over what they hand over and a pipe that wakes the
 * dashboard's poll(). It knows nothing of the screen. */
#include "config.h"

#include "tui/fleet.h"

#include "builders/factory.h"
#include "client/context.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One call's bound: a host that takes longer is marked slow, then down. */
#define CALL_TIMEOUT_MS 3000

typedef struct host {
    tui_fleet *fleet;
    char name[64];
    pthread_t thread;
    int started;
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
    pthread_cond_t cond; /* a poke or the stop */
    int stop;
    long interval_ms;
    int pipe[2];
    host *hosts;
    size_t n_hosts;
    tui_fleet_row *rows;
    size_t n_rows;
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

/* Under the lock: waits until ms have passed, a poke or the stop. */
static void pause_ms(host *h, long ms)
{
    tui_fleet *fl = h->fleet;
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!fl->stop && !h->poke)
        if (pthread_cond_timedwait(&fl->cond, &fl->lock, &until) == ETIMEDOUT)
            break;
    h->poke = 0;
}

static void *poll_host(void *data)
{
    host *h = data;
    tui_fleet *fl = h->fleet;
    hp_client *c = NULL;
    int64_t rev = 0;

    pthread_mutex_lock(&fl->lock);
    while (!fl->stop) {
        hp_factory_options o = {.context = h->name, .no_spawn = 1, .timeout_ms = CALL_TIMEOUT_MS};
        hp_service_list *list = NULL;
        hp_error err;
        long long t0 = mono_ms();
        int ok, news;

        h->busy_since = t0;
        pthread_mutex_unlock(&fl->lock);
        hp_error_clear(&err);
        if (!c)
            c = hp_factory_auto(&o, &err);
        ok = c && hp_services_list(hp_client_sdk(c), rev, &list, &err) == HP_OK;
        pthread_mutex_lock(&fl->lock);
        h->busy_since = 0;
        news = h->state != (ok ? TUI_HOST_UP : TUI_HOST_DOWN);
        h->state = ok ? TUI_HOST_UP : TUI_HOST_DOWN;
        if (ok) {
            h->latency_ms = (long)(mono_ms() - t0);
            rev = list->rev;
            if (list->unchanged) {
                hp_service_list_free(list);
            } else {
                hp_service_list_free(h->pending);
                h->pending = list;
                news = 1;
            }
        } else {
            /* A server that came back may count its revs again: the next answer is whole. */
            rev = 0;
            snprintf(h->reason, sizeof(h->reason), "%s", err.message);
        }
        if (news)
            wake(fl);
        pause_ms(h, fl->interval_ms);
    }
    pthread_mutex_unlock(&fl->lock);
    hp_client_free(c);
    return NULL;
}

tui_fleet *tui_fleet_start(long interval_ms, char *msg, size_t size)
{
    tui_fleet *fl = calloc(1, sizeof(*fl));
    pthread_condattr_t ca;
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
    fl->n_hosts = all.count + 1;
    fl->hosts = calloc(fl->n_hosts, sizeof(*fl->hosts));
    pthread_mutex_init(&fl->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&fl->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (!fl->hosts || pipe2(fl->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(msg, size, "fleet: %s", fl->hosts ? strerror(errno) : "out of memory");
        hp_contexts_clear(&all);
        tui_fleet_stop(fl);
        return NULL;
    }
    for (size_t i = 0; i < fl->n_hosts; i++) {
        host *h = &fl->hosts[i];
        h->fleet = fl;
        snprintf(h->name, sizeof(h->name), "%s", i ? all.items[i - 1].name : "local");
        snprintf(h->shown.name, sizeof(h->shown.name), "%s", h->name);
    }
    hp_contexts_clear(&all);
    for (size_t i = 0; i < fl->n_hosts; i++) {
        host *h = &fl->hosts[i];
        h->started = pthread_create(&h->thread, NULL, poll_host, h) == 0;
        if (!h->started)
            snprintf(h->reason, sizeof(h->reason), "no thread to poll it");
    }
    return fl;
}

void tui_fleet_stop(tui_fleet *fl)
{
    if (!fl)
        return;
    pthread_mutex_lock(&fl->lock);
    fl->stop = 1;
    pthread_cond_broadcast(&fl->cond);
    pthread_mutex_unlock(&fl->lock);
    for (size_t i = 0; fl->hosts && i < fl->n_hosts; i++) {
        host *h = &fl->hosts[i];
        if (h->started)
            pthread_join(h->thread, NULL);
        hp_service_list_free(h->pending);
        hp_service_list_free(h->shown.services);
        tui_model_free(&h->act); /* and its client */
    }
    free(fl->hosts);
    free(fl->rows);
    if (fl->pipe[0] >= 0) {
        close(fl->pipe[0]);
        close(fl->pipe[1]);
    }
    pthread_cond_destroy(&fl->cond);
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
    return lists ? 1 : strip ? 2 : 0;
}

void tui_fleet_poke(tui_fleet *fl, const char *name)
{
    pthread_mutex_lock(&fl->lock);
    for (size_t i = 0; i < fl->n_hosts; i++)
        if (!name || strcmp(fl->hosts[i].name, name) == 0)
            fl->hosts[i].poke = 1;
    pthread_cond_broadcast(&fl->cond);
    pthread_mutex_unlock(&fl->lock);
}

size_t tui_fleet_hosts(const tui_fleet *fl)
{
    return fl->n_hosts;
}

const tui_fleet_host *tui_fleet_host_at(const tui_fleet *fl, size_t i)
{
    return &fl->hosts[i].shown;
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
