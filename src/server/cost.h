/* SPDX-License-Identifier: Apache-2.0 */
/* What each running job costs (DESIGN section 9): CPU, resident memory, threads and
 * processes of its whole process group, sampled from /proc at most once a second and only
 * when a client reads jobs or services. */
#ifndef HPD_COST_H
#define HPD_COST_H

#include "server/server.h"

/* Samples every running job when the last sample is a second old or more (one walk of
 * /proc for all of them); bumps rev when a figure changed, so a client polling with
 * if_changed_since sees it. Cheap when called again within the second. */
void hpd_cost_refresh(hpd_server *srv);

#endif
