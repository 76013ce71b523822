/* SPDX-License-Identifier: Apache-2.0 */
/* The fleet poller of hero_proc_tui: every context of the contexts file (and local) asked
 * for its services by a thread of its own with its own connection, so a slow or dead host
 * never holds up the others or the keys; what they bring is taken by the dashboard's loop
 * (a pipe wakes it). The actions on a host go through a second connection of the loop's. */
#ifndef TUI_FLEET_H
#define TUI_FLEET_H

#include "client/types.h"
#include "tui/model.h"

#include <stddef.h>

typedef struct tui_fleet tui_fleet;

enum {
    TUI_HOST_TRYING = 0, /* not answered yet */
    TUI_HOST_UP = 1,     /* the last call answered */
    TUI_HOST_DOWN = -1   /* the last call failed: reason says why */
};

/* One host as the loop last took it (owned by the fleet, read on the loop's thread). */
typedef struct tui_fleet_host {
    char name[64];
    int state;                 /* TUI_HOST_* */
    int slow;                  /* a call has been waiting longer than the interval */
    int went_down;             /* a take saw it stop answering (tui_fleet_went_down) */
    long latency_ms;           /* the last answer's round trip (shown: changes > 50%) */
    char reason[256];          /* why the last call failed */
    hp_service_list *services; /* the last list that came (kept while the host is down) */
} tui_fleet_host;

/* One merged row: a host and one of its services. */
typedef struct tui_fleet_row {
    size_t host;
    size_t service;
} tui_fleet_row;

/* Starts one poller per context of the contexts file and one for local, each asking
 * every interval_ms (service.list with if_changed_since, so an unchanged host answers in
 * a few bytes). NULL with msg when the contexts file cannot be read or without memory. */
tui_fleet *tui_fleet_start(long interval_ms, char *msg, size_t size);
/* Stops the pollers (a call in flight ends at its timeout) and frees everything. NULL
 * safe. */
void tui_fleet_stop(tui_fleet *fl);
/* Readable when a poller brought news; tui_fleet_drain empties it. */
int tui_fleet_fd(const tui_fleet *fl);
void tui_fleet_drain(tui_fleet *fl);
/* Takes what the pollers brought: 1 when a list changed (the rows were merged again), 2
 * when only the strip changed (a host's state or latency), 0 when nothing did. */
int tui_fleet_take(tui_fleet *fl);
/* 1 once after a take that changed only the strip (the screen is drawn again, the rows
 * are not sorted again). */
int tui_fleet_strip_changed(tui_fleet *fl);
/* Asks every poller (host NULL) or one host to poll now, not at its next tick. */
void tui_fleet_poke(tui_fleet *fl, const char *host);

size_t tui_fleet_hosts(const tui_fleet *fl);
const tui_fleet_host *tui_fleet_host_at(const tui_fleet *fl, size_t i);
/* 1 once after a take saw host i stop answering (its reason then says why). */
int tui_fleet_went_down(tui_fleet *fl, size_t i);
/* The merged rows, host by host in the contexts file's order, each host's by name. */
size_t tui_fleet_rows(const tui_fleet *fl);
const tui_fleet_row *tui_fleet_row_at(const tui_fleet *fl, size_t i);
/* The service of a row (borrowed). */
const hp_service_summary *tui_fleet_service(const tui_fleet *fl, size_t row);

/* Runs act on its host (act->host) through the loop's connection to it (made at the
 * first action, then kept): 0 with the result in msg, -1 with the reason. */
/* Paused (1): the poller sends no new call (one in flight finishes), while the fleet is
 * not on screen or the dashboard is frozen (Z); back (0): every host is asked at once.
 * The loop's thread only; cheap when unchanged. */
void tui_fleet_pause(tui_fleet *fl, int paused);

int tui_fleet_act(tui_fleet *fl, const tui_action *act, char *msg, size_t size);

#endif
