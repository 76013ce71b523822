/* SPDX-License-Identifier: Apache-2.0 */
/* The follower thread of events.wait (events.h): its own hp_sdk (the SDK handle is not
 * shared between threads), a mutex over the page it fills, and a pipe that wakes the
 * dashboard's poll(). On a server without events.wait it says so once and ends. */
#include "config.h"

#include "tui/events.h"

#include "client/sdk.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One wait's length: long, since an answer comes at once when something happens. */
#define WAIT_MS 30000
/* After a failure to reach the server, the next try. */
#define RETRY_MS 1000

struct tui_events {
    pthread_t thread;
    pthread_mutex_t lock;
    hp_sdk *sdk;
    int pipe[2];
    int stop, done;      /* under lock */
    int orphaned;        /* under lock: stop gave up waiting, the thread frees ev */
    int state;           /* under lock */
    hp_event_page *page; /* gathered, not yet taken; under lock */
};

static void wake(tui_events *ev)
{
    char b = 1;

    if (write(ev->pipe[1], &b, 1) < 0) {
        /* full: a wake-up is pending anyway */
    }
}

/* Appends src's events (taken) to ev->page; under lock. */
static void gather(tui_events *ev, hp_event_page *src)
{
    hp_event_page *dst = ev->page;
    hp_event *grown;

    if (!dst) {
        ev->page = src;
        return;
    }
    grown = realloc(dst->events, (dst->n_events + src->n_events) * sizeof(*grown));
    if (!grown) { /* keep the older ones; the newer are lost with a note in dropped */
        dst->dropped += (int64_t)src->n_events;
        hp_event_page_free(src);
        return;
    }
    memcpy(grown + dst->n_events, src->events, src->n_events * sizeof(*grown));
    dst->events = grown;
    dst->n_events += src->n_events;
    dst->dropped += src->dropped;
    dst->last_seq = src->last_seq;
    free(src->events); /* their strings moved to dst */
    free(src);
}

static void set_state(tui_events *ev, int state)
{
    pthread_mutex_lock(&ev->lock);
    ev->state = state;
    pthread_mutex_unlock(&ev->lock);
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void destroy(tui_events *ev)
{
    hp_sdk_free(ev->sdk);
    hp_event_page_free(ev->page);
    close(ev->pipe[0]);
    close(ev->pipe[1]);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

static void *follow(void *data)
{
    tui_events *ev = data;
    int64_t cursor = 0;
    int first = 1, orphaned;

    for (;;) {
        hp_event_page *page = NULL;
        hp_error err;
        long long t0 = mono_ms();
        int stop, empty;

        pthread_mutex_lock(&ev->lock);
        stop = ev->stop;
        pthread_mutex_unlock(&ev->lock);
        if (stop)
            break;
        /* The first call only learns the cursor: what happened before the dashboard
         * opened is not news. */
        if (hp_events_wait(ev->sdk, cursor, first ? 0 : WAIT_MS, 0, &page, &err) != HP_OK) {
            if (err.rpc_code == -32601) {
                set_state(ev, TUI_EVENTS_UNSUPPORTED);
                wake(ev);
                break;
            }
            set_state(ev, TUI_EVENTS_TRYING);
            sleep_ms(RETRY_MS);
            continue;
        }
        empty = page->n_events == 0;
        pthread_mutex_lock(&ev->lock);
        ev->state = TUI_EVENTS_FOLLOWING;
        cursor = page->last_seq;
        if (first) {
            hp_event_page_free(page);
            page = NULL;
        } else {
            gather(ev, page);
        }
        pthread_mutex_unlock(&ev->lock);
        /* Nothing, long before the wait was up: the server's waiters are full and it
         * answers at once; asking again at once would spin. */
        if (!first && empty && mono_ms() - t0 < WAIT_MS / 2)
            sleep_ms(RETRY_MS);
        first = 0;
        wake(ev);
    }
    pthread_mutex_lock(&ev->lock);
    ev->done = 1;
    orphaned = ev->orphaned;
    pthread_mutex_unlock(&ev->lock);
    /* Stopped while inside a wait: nobody joins this thread, so it cleans up itself. */
    if (orphaned)
        destroy(ev);
    return NULL;
}

tui_events *tui_events_start(const hp_endpoint *ep)
{
    hp_sdk_options o = {.socket_path = ep->url ? NULL : ep->socket_path,
                        .url = ep->url,
                        .token = ep->token,
                        .pin = ep->pin,
                        .cacert = ep->cacert,
                        .timeout_ms = WAIT_MS + 5000};
    tui_events *ev = calloc(1, sizeof(*ev));
    hp_error err;

    if (!ev)
        return NULL;
    ev->pipe[0] = ev->pipe[1] = -1;
    if (pthread_mutex_init(&ev->lock, NULL) != 0) {
        free(ev);
        return NULL;
    }
    ev->sdk = hp_sdk_new(&o, &err);
    if (!ev->sdk || pipe2(ev->pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
        pthread_create(&ev->thread, NULL, follow, ev) != 0)
        goto fail;
    return ev;
fail:
    hp_sdk_free(ev->sdk);
    if (ev->pipe[0] >= 0) {
        close(ev->pipe[0]);
        close(ev->pipe[1]);
    }
    pthread_mutex_destroy(&ev->lock);
    free(ev);
    return NULL;
}

int tui_events_fd(const tui_events *ev)
{
    return ev ? ev->pipe[0] : -1;
}

hp_event_page *tui_events_take(tui_events *ev, int *state)
{
    hp_event_page *page;
    char buf[64];

    while (read(ev->pipe[0], buf, sizeof(buf)) > 0) {
    }
    pthread_mutex_lock(&ev->lock);
    page = ev->page;
    ev->page = NULL;
    if (state)
        *state = ev->state;
    pthread_mutex_unlock(&ev->lock);
    return page;
}

void tui_events_stop(tui_events *ev)
{
    struct timespec deadline;

    if (!ev)
        return;
    pthread_mutex_lock(&ev->lock);
    ev->stop = 1;
    pthread_mutex_unlock(&ev->lock);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 200 * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(ev->thread, NULL, &deadline) == 0) {
        destroy(ev);
        return;
    }
    /* A thread inside a 30 s wait cannot be interrupted (libcurl is not cancellable):
     * it is detached and frees what it uses when the wait ends. If it ended just now,
     * it did not see the hand-over and is joined here instead. */
    pthread_mutex_lock(&ev->lock);
    if (ev->done) {
        pthread_mutex_unlock(&ev->lock);
        pthread_join(ev->thread, NULL);
        destroy(ev);
        return;
    }
    /* Under the lock: the thread cannot end (and free ev) before both are done. */
    pthread_detach(ev->thread);
    ev->orphaned = 1;
    pthread_mutex_unlock(&ev->lock);
}
