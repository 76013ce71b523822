/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's single event loop: epoll fd watchers and monotonic timers, all callbacks
 * on the one thread. No locks anywhere: everything the daemon does happens in a callback. */
#ifndef HPD_LOOP_H
#define HPD_LOOP_H

#include <stdint.h>

typedef struct hpd_loop hpd_loop;

/* events: EPOLLIN/EPOLLOUT/... as given to epoll; the callback gets what fired. */
typedef void (*hpd_fd_cb)(hpd_loop *loop, int fd, uint32_t events, void *data);
typedef void (*hpd_timer_cb)(hpd_loop *loop, uint64_t id, void *data);

/* NULL when epoll cannot be created (errno set). */
hpd_loop *hpd_loop_new(void);
/* Frees the loop and its timers; does not close watched fds. NULL safe. */
void hpd_loop_free(hpd_loop *loop);

/* Watches fd (not owned) for events; replaces an existing watch on the same fd.
 * Returns 0, or -1 with errno. */
int hpd_loop_watch(hpd_loop *loop, int fd, uint32_t events, hpd_fd_cb cb, void *data);
/* Stops watching fd; safe to call from any callback, also for the fd being served. */
void hpd_loop_unwatch(hpd_loop *loop, int fd);

/* Calls cb once after delay_ms; returns the timer id (never 0), or 0 without memory. */
uint64_t hpd_loop_timer(hpd_loop *loop, uint64_t delay_ms, hpd_timer_cb cb, void *data);
/* Cancels a pending timer; an id of 0 or one that already fired is ignored. */
void hpd_loop_timer_cancel(hpd_loop *loop, uint64_t id);
/* The monotonic ms a pending timer is due at, 0 when id is not pending. */
uint64_t hpd_loop_timer_due(const hpd_loop *loop, uint64_t id);

/* Runs until hpd_loop_stop; returns 0, or -1 when epoll_wait fails. */
int hpd_loop_run(hpd_loop *loop);
void hpd_loop_stop(hpd_loop *loop);
/* Which turn of the loop this is (one per epoll_wait), for work bounded per turn. */
uint64_t hpd_loop_turn(const hpd_loop *loop);

/* Monotonic and wall-clock milliseconds. */
uint64_t hpd_now_mono_ms(void);
int64_t hpd_now_ms(void);

#endif
