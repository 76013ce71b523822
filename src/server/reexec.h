/* SPDX-License-Identifier: Apache-2.0 */
/* In-place upgrade: the daemon execs its binary again (SIGHUP, system.reexec) keeping its
 * pid, its listening socket, the data dir's lock, every job's pipes and children. What
 * the store does not hold travels in a memfd whose number the new image gets on its
 * command line (--reexec-state FD), never in the environment the jobs see. */
#ifndef HPD_REEXEC_H
#define HPD_REEXEC_H

#include "server/rpc.h"
#include "server/server.h"

/* At start, once the socket listens: records the binary's path and the socket's fd.
 * Returns 0, or -1 without memory (the daemon runs on without a re-exec). */
int hpd_reexec_init(hpd_server *srv, int listen_fd);

/* Starts the check that the binary on disk starts (`--version` answers within 2 s,
 * while the daemon serves on); once it passed, the daemon execs it. HP_OK when the check
 * runs (a failure is logged then), or an error (err set) when it cannot even start or
 * the daemon is stopping: the daemon runs on as it is. */
hp_status hpd_reexec_request(hpd_server *srv, hp_error *err);
/* system.reexec: answers once the check is over (the refusal, or the exec to come). */
cJSON *hpd_reexec_rpc(hpd_rpc_ctx *ctx);

/* In the new image, before anything else: reads the state handed over on fd (closed),
 * puts CLOEXEC back on every fd it names, and sets srv's lock fd, start time and the
 * listening socket (*listen_fd). Returns HP_OK or an error with err. */
hp_status hpd_reexec_resume(hpd_server *srv, int fd, int *listen_fd, hp_error *err);

/* New image: the --http socket the old one listened on (the caller takes it), or -1. */
int hpd_reexec_take_tcp(hpd_server *srv);

/* After the store is loaded and the supervisor set up: takes every job back as it was
 * (pids, pipes with their unsplit bytes, timers, back-off). Jobs the old image did not
 * hand over are failed as after a crash. */
void hpd_reexec_adopt(hpd_server *srv);

/* Once the socket is served again: the connections the old image kept are served on,
 * and the start counts as done (no fall-back after it). */
void hpd_reexec_serve(hpd_server *srv);

/* The new image could not start: execs the old image (kept open by the old one) with
 * the same state, so the jobs live on under the binary that ran them. Returns only when
 * that is impossible. */
void hpd_reexec_fallback(hpd_server *srv);

/* In-place upgrades since the daemon started (system.info). */
int64_t hpd_reexec_count(const hpd_server *srv);

void hpd_reexec_free(hpd_server *srv);

#endif
