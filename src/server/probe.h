/* SPDX-License-Identifier: Apache-2.0 */
/* Health probes of running jobs (DESIGN section 9): exec probes spawned into their own
 * process group, tcp and http probes through libcurl's multi interface driven by the
 * daemon's epoll loop. The verdict is the job's health; the supervisor asks it when a
 * dependency is ready and when a service is degraded. */
#ifndef HPD_PROBE_H
#define HPD_PROBE_H

#include "server/server.h"

#include <sys/types.h>

typedef enum hpd_health { HPD_HEALTH_UNKNOWN, HPD_HEALTH_HEALTHY, HPD_HEALTH_UNHEALTHY } hpd_health;

/* "unknown", "healthy", "unhealthy". Static. */
const char *hpd_health_name(int health);

/* The job's process was spawned: its health is unknown again, and when its action has a
 * probe the first one is due start_grace_ms later. */
void hpd_probe_job_started(hpd_server *srv, hpd_job *job);
/* The job's process was reaped: no more probes; one in flight is killed or dropped. */
void hpd_probe_job_stopped(hpd_server *srv, hpd_job *job);
/* Frees the job's probe state (hpd_run_free), killing a probe still in flight. */
void hpd_probe_job_free(hpd_job *job);
/* A child was reaped that is no job's leader: 1 when it was an exec probe (its verdict
 * is taken from status), else 0. */
int hpd_probe_reaped(hpd_server *srv, pid_t pid, int status);
/* 1 when a job satisfies a dependency on it as a running restart-always action: it runs
 * and, when its action has a probe, is healthy. */
int hpd_probe_job_ready(const hpd_job *job);
/* At exit: every probe stopped, libcurl's multi handle released. */
void hpd_probes_fini(hpd_server *srv);

#endif
