/* SPDX-License-Identifier: Apache-2.0 */
/* Crash survival: the pipe holder, a tiny process of the same binary in its own session
 * that keeps a duplicate of every job's output pipe read end, so a daemon killed with
 * SIGKILL never turns into SIGPIPE for its jobs; and the re-adoption of those jobs by the
 * next daemon on the same data dir (pid and start time checked, pidfd watched). */
#ifndef HPD_HOLDER_H
#define HPD_HOLDER_H

#include "server/server.h"

/* `hero_proc_server --pipe-holder FD GRACE_MS`: the holder's whole life on the listening
 * socket FD. Returns the exit status. */
int hpd_holder_main(int argc, char **argv);

/* At start, before the jobs are taken back: connects to the holder of the data dir,
 * starting one when none answers. Without it (a path too long, no fork) the daemon runs
 * as before, logged. */
void hpd_holder_connect(hpd_server *srv);
/* The job's two pipes as just spawned: the holder keeps a duplicate of each. */
void hpd_holder_add(hpd_server *srv, const hpd_job *job);
/* Before the job's process is cloned: the holder keeps stdout's read end with no pid and
 * this daemon's pid, so that a daemon killed before hpd_holder_add leaves word of a
 * process it may have started (hpd_holder_recover_begin kills what that spawn made). */
void hpd_holder_spawning(hpd_server *srv, const hpd_job *job, int out_fd);
/* The daemon closed the job's stream: the holder closes its copy too. */
void hpd_holder_drop(hpd_server *srv, const hpd_job *job, int stream);
/* A clean stop: the holder closes everything and exits. */
void hpd_holder_quit(hpd_server *srv);

/* After a crash (hpd_recover): the fds the holder kept are fetched once, then each job
 * the store says was running is re-adopted when its pid and start time still match, or
 * else recorded as exited with an unknown code, never signalled, and left to its restart
 * policy; either way what it wrote meanwhile is read from the kept pipes.
 * hpd_holder_recover_done closes what no job took. */
void hpd_holder_recover_begin(hpd_server *srv);
/* A job the store does not have running whose spawn the holder was told of (the daemon
 * died before storing it): takes that pid and start time; 1 when it did. */
int hpd_holder_spawned(hpd_server *srv, hpd_job *job);
void hpd_holder_readopt(hpd_server *srv, hpd_job *job);
void hpd_holder_recover_done(hpd_server *srv);

/* After an in-place upgrade: the re-adopted jobs (not the daemon's children) are watched
 * again through their pidfd. */
void hpd_holder_after_reexec(hpd_server *srv);

#endif
