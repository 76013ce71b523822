/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's events: a bounded ring of state changes (a job started, exited, was
 * restarted, a crash loop, a service failed, a run ended; probes add healthy/unhealthy)
 * that events.wait long-polls. It knows neither the supervisor nor the methods: the
 * supervisor calls hpd_event_emit, the events.wait handler calls hpd_events_wait. */
#ifndef HPD_EVENTS_H
#define HPD_EVENTS_H

#include "server/rpc.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct hpd_server;
struct hpd_run;
struct hpd_job;

/* The kinds, as the contract's EventKind names them. */
#define HPD_EVENT_TABLE(X)                                                                         \
    X(JOB_STARTED, "job_started")                                                                  \
    X(JOB_EXITED, "job_exited")                                                                    \
    X(JOB_RESTARTED, "job_restarted")                                                              \
    X(JOB_HEALTHY, "job_healthy")                                                                  \
    X(JOB_UNHEALTHY, "job_unhealthy")                                                              \
    X(CRASH_LOOP, "crash_loop")                                                                    \
    X(SERVICE_FAILED, "service_failed")                                                            \
    X(RUN_ENDED, "run_ended")                                                                      \
    X(SERVER_RESTARTING, "server_restarting")

typedef enum hpd_event_kind {
#define HPD_EVENT_ENUM(id, name) HPD_EV_##id,
    HPD_EVENT_TABLE(HPD_EVENT_ENUM)
#undef HPD_EVENT_ENUM
} hpd_event_kind;

const char *hpd_event_kind_name(hpd_event_kind kind);

/* Parked events.wait calls at most; more are answered at once with what there is. */
enum { HPD_EVENTS_MAX_WAITERS = 64 };
/* The longest events.wait parks (a longer timeout_ms is cut to it). */
#define HPD_EVENTS_MAX_WAIT_MS 60000

/* Makes srv->events, a ring of capacity events (>= 1); -1 without memory. */
int hpd_events_init(struct hpd_server *srv, size_t capacity);
/* Answers the parked waiters as cancelled and frees the ring. NULL-safe on srv->events. */
void hpd_events_free(struct hpd_server *srv);

/* Records one event: service and run from run, job and action from job (each may be
 * NULL; job implies its run), exit code and signal from job for job_exited; text is one
 * line (cut at 200 bytes, newlines become spaces). Wakes the parked waiters on the next
 * turn of the loop, so a burst of events goes out in one answer. No-op before init. */
void hpd_event_emit(struct hpd_server *srv, hpd_event_kind kind, const struct hpd_run *run,
                    const struct hpd_job *job, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* events.wait: answers at once (returns the result) when events after after_seq are in
 * the ring, when timeout_ms is 0 or when the waiters are full; else defers ctx and
 * returns NULL (the answer comes with the next event or at the timeout). */
cJSON *hpd_events_wait(hpd_rpc_ctx *ctx, int64_t after_seq, int64_t timeout_ms, int64_t limit);

/* The newest seq given out (0 when none), and the events overwritten in all. */
int64_t hpd_events_last_seq(const struct hpd_server *srv);
int64_t hpd_events_dropped(const struct hpd_server *srv);

#endif
