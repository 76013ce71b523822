/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's follower of events.wait: a thread with a connection of its own long-polls
 * the server and hands what it gets to the loop through a pipe, so the wait never blocks
 * the keys. It knows nothing of the screen. */
#ifndef TUI_EVENTS_H
#define TUI_EVENTS_H

#include "client/endpoint.h"
#include "client/types.h"

#include <stddef.h>

typedef struct tui_events tui_events;

enum {
    TUI_EVENTS_TRYING = 0,      /* not answered yet, or the server cannot be reached */
    TUI_EVENTS_FOLLOWING = 1,   /* events.wait answers */
    TUI_EVENTS_UNSUPPORTED = -1 /* the server has no events.wait (-32601): poll */
};

/* Starts following the server at ep (its url with token, pin and cacert, else its socket;
 * copied); NULL when the thread or its connection cannot be made (the dashboard polls
 * then). */
tui_events *tui_events_start(const hp_endpoint *ep);
/* The fd that is readable when events came or the state changed (the loop polls it). */
int tui_events_fd(const tui_events *ev);
/* Takes the events gathered since the last call (a page the caller frees with
 * hp_event_page_free, NULL when none) and says the state (TUI_EVENTS_*). */
hp_event_page *tui_events_take(tui_events *ev, int *state);
/* Stops the thread (it is left to end by itself when it is inside a wait) and frees what
 * it can. NULL safe. */
void tui_events_stop(tui_events *ev);

#endif
