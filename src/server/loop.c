/* SPDX-License-Identifier: Apache-2.0 */
/* The epoll loop: a table of fd watchers indexed by fd and a binary min-heap of timers.
 * It knows nothing about HTTP, processes or the store; those register callbacks here. */
#include "config.h"

#include "server/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct watcher {
    hpd_fd_cb cb;
    void *data;
    uint32_t events;
    int active;
} watcher;

typedef struct timer {
    uint64_t due;
    uint64_t id;
    hpd_timer_cb cb;
    void *data;
} timer;

struct hpd_loop {
    int epfd;
    int stop;
    watcher *watchers; /* indexed by fd */
    size_t n_watchers;
    timer *heap;
    size_t n_timers, cap_timers;
    uint64_t next_id;
    uint64_t turn; /* epoll_wait returns so far */
};

uint64_t hpd_now_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t hpd_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

hpd_loop *hpd_loop_new(void)
{
    hpd_loop *loop = calloc(1, sizeof(*loop));

    if (!loop)
        return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    loop->next_id = 1;
    return loop;
}

void hpd_loop_free(hpd_loop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    free(loop->watchers);
    free(loop->heap);
    free(loop);
}

int hpd_loop_watch(hpd_loop *loop, int fd, uint32_t events, hpd_fd_cb cb, void *data)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    int op;

    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= loop->n_watchers) {
        size_t n = (size_t)fd + 64;
        watcher *grown = realloc(loop->watchers, n * sizeof(*grown));
        if (!grown)
            return -1;
        memset(grown + loop->n_watchers, 0, (n - loop->n_watchers) * sizeof(*grown));
        loop->watchers = grown;
        loop->n_watchers = n;
    }
    op = loop->watchers[fd].active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
        return -1;
    loop->watchers[fd] = (watcher){.cb = cb, .data = data, .events = events, .active = 1};
    return 0;
}

void hpd_loop_unwatch(hpd_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->n_watchers || !loop->watchers[fd].active)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->watchers[fd].active = 0;
}

static void heap_swap(hpd_loop *loop, size_t a, size_t b)
{
    timer t = loop->heap[a];

    loop->heap[a] = loop->heap[b];
    loop->heap[b] = t;
}

static void heap_up(hpd_loop *loop, size_t i)
{
    while (i > 0 && loop->heap[(i - 1) / 2].due > loop->heap[i].due) {
        heap_swap(loop, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(hpd_loop *loop, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < loop->n_timers && loop->heap[l].due < loop->heap[m].due)
            m = l;
        if (r < loop->n_timers && loop->heap[r].due < loop->heap[m].due)
            m = r;
        if (m == i)
            return;
        heap_swap(loop, i, m);
        i = m;
    }
}

static void heap_remove(hpd_loop *loop, size_t i)
{
    loop->n_timers--;
    if (i == loop->n_timers)
        return;
    loop->heap[i] = loop->heap[loop->n_timers];
    heap_down(loop, i);
    heap_up(loop, i);
}

uint64_t hpd_loop_timer(hpd_loop *loop, uint64_t delay_ms, hpd_timer_cb cb, void *data)
{
    if (loop->n_timers == loop->cap_timers) {
        size_t n = loop->cap_timers ? loop->cap_timers * 2 : 64;
        timer *grown = realloc(loop->heap, n * sizeof(*grown));
        if (!grown)
            return 0;
        loop->heap = grown;
        loop->cap_timers = n;
    }
    loop->heap[loop->n_timers] =
        (timer){.due = hpd_now_mono_ms() + delay_ms, .id = loop->next_id++, .cb = cb, .data = data};
    loop->n_timers++;
    heap_up(loop, loop->n_timers - 1);
    return loop->next_id - 1;
}

void hpd_loop_timer_cancel(hpd_loop *loop, uint64_t id)
{
    if (id == 0)
        return;
    for (size_t i = 0; i < loop->n_timers; i++)
        if (loop->heap[i].id == id) {
            heap_remove(loop, i);
            return;
        }
}

uint64_t hpd_loop_timer_due(const hpd_loop *loop, uint64_t id)
{
    for (size_t i = 0; id && i < loop->n_timers; i++)
        if (loop->heap[i].id == id)
            return loop->heap[i].due;
    return 0;
}

uint64_t hpd_loop_turn(const hpd_loop *loop)
{
    return loop->turn;
}

void hpd_loop_stop(hpd_loop *loop)
{
    loop->stop = 1;
}

static void run_due_timers(hpd_loop *loop)
{
    uint64_t now = hpd_now_mono_ms();

    while (!loop->stop && loop->n_timers > 0 && loop->heap[0].due <= now) {
        timer t = loop->heap[0];
        heap_remove(loop, 0);
        t.cb(loop, t.id, t.data);
    }
}

int hpd_loop_run(hpd_loop *loop)
{
    struct epoll_event events[64];

    loop->stop = 0;
    while (!loop->stop) {
        int timeout = -1, n;

        if (loop->n_timers > 0) {
            uint64_t now = hpd_now_mono_ms(), due = loop->heap[0].due;
            timeout = due <= now ? 0 : (int)(due - now > 60000 ? 60000 : due - now);
        }
        n = epoll_wait(loop->epfd, events, 64, timeout);
        loop->turn++;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 0; i < n && !loop->stop; i++) {
            int fd = events[i].data.fd;
            /* A callback earlier in this batch may have unwatched (and closed) this fd. */
            if ((size_t)fd < loop->n_watchers && loop->watchers[fd].active)
                loop->watchers[fd].cb(loop, fd, events[i].events, loop->watchers[fd].data);
        }
        run_due_timers(loop);
    }
    return 0;
}
