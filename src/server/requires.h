/* SPDX-License-Identifier: Apache-2.0 */
/* Services that require other services (ServiceConfig.requires, DESIGN section 9): the
 * check at service.set (every name exists, no cycle across services), the order in which
 * they start and stop, and the hold that keeps a service's jobs pending until what it
 * requires runs (healthy when probed). It neither spawns nor signals by itself: it calls
 * the supervisor's service operations. */
#ifndef HPD_REQUIRES_H
#define HPD_REQUIRES_H

#include "common/problems.h"
#include "common/spec.h"
#include "server/server.h"

#include <stddef.h>

/* Adds to pb (paths relative to the config, "/requires/<i>") a DEP_UNKNOWN problem for
 * each required service that does not exist, and a DEP_CYCLE one with its path
 * ("service 'a': requires cycle: a -> b -> a") when cfg, replacing the stored service of
 * its name, would close a cycle. Returns the number of problems found. */
size_t hpd_requires_check(hpd_server *srv, const hp_service_config *cfg, hp_problems *pb);

/* Whether the run of a service may start its jobs: 1 when it is no service's run, has
 * started already, or every service it requires is ready (its current run succeeded, or
 * each job succeeded, or runs, healthy when probed, when its action has a restart
 * policy); 0 to wait; -1 when a required service failed, was stopped or no longer exists
 * (why, caller-owned, says which). */
int hpd_requires_ready(hpd_server *srv, const hpd_run *run, char *why, size_t size);

/* A run of service changed: the pending runs of the services requiring it are scheduled
 * again (one may start now, or learn that it never will). */
void hpd_requires_wake(hpd_server *srv, const char *service);

/* Starts, deepest first, every service svc requires (transitively) that has no active
 * run; svc itself is left to the caller. */
void hpd_requires_start(hpd_server *srv, hpd_service *svc);

/* Every service, what it requires before it (ties in name order). *out is a new array of
 * srv->n_services pointers (borrowed) the caller frees; NULL without memory. */
hpd_service **hpd_requires_order(hpd_server *srv);

/* The services requiring svc, directly or not, in the order they should stop (the last to
 * have started first). *n gets their number; the array (borrowed pointers) is the
 * caller's to free, NULL when there are none or without memory. */
hpd_service **hpd_requires_dependants(hpd_server *srv, const hpd_service *svc, size_t *n);

#endif
