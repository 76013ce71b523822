/* SPDX-License-Identifier: Apache-2.0 */
/* The store's checkpointer: a thread with a SQLite connection of its own that copies the
 * write-ahead log into the database file when the daemon asks, so the fsyncs of a
 * checkpoint never run on the event loop. It shares nothing with the loop but two flags
 * under a mutex; SQLite's file locks order it with the loop's writes. The log starts over
 * only when a checkpoint copied all of it before the next write: the store holds its log
 * batches back while one runs (store_queue.c). */
#ifndef HPD_CHECKPOINT_H
#define HPD_CHECKPOINT_H

#include "common/status.h"

#include <stdint.h>

typedef struct hpd_checkpointer hpd_checkpointer;

/* Opens path (an existing WAL database) and starts the thread; NULL with err. */
hpd_checkpointer *hpd_checkpointer_start(const char *path, hp_error *err);
/* Asks for a passive checkpoint soon; returns at once (callable from a commit hook). */
void hpd_checkpointer_poke(hpd_checkpointer *c);
/* 1 while a checkpoint is asked for or running. */
int hpd_checkpointer_busy(hpd_checkpointer *c);
/* Checkpoints done so far (for tests and benchmarks). */
int64_t hpd_checkpointer_count(hpd_checkpointer *c);
/* Stops and joins the thread, closes its connection. NULL safe. */
void hpd_checkpointer_stop(hpd_checkpointer *c);

#endif
