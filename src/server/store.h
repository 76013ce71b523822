/* SPDX-License-Identifier: Apache-2.0 */
/* Persistence of the daemon: one SQLite file (WAL, mode 0600) holding services, runs,
 * jobs, secrets and log lines. The in-memory model (model.h) is the truth while the
 * daemon runs; every change is written through here, and loaded back at start. Log lines
 * are appended to a batch and written in one transaction per flush. */
#ifndef HPD_STORE_H
#define HPD_STORE_H

#include "common/status.h"
#include "server/model.h"

#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct hpd_store hpd_store;

typedef struct hpd_store_limits {
    int64_t lines_per_job; /* default 10000 */
    int64_t log_bytes;     /* total bytes of log text kept, default 64 MiB */
} hpd_store_limits;

typedef enum hpd_stream { HPD_STDOUT = 0, HPD_STDERR = 1, HPD_SYSTEM = 2 } hpd_stream;
const char *hpd_stream_name(hpd_stream s); /* "stdout" "stderr" "system" */

/* Opens or creates <dir>/hero_proc.db (0600; dir must exist). NULL with err on failure. */
hpd_store *hpd_store_open(const char *dir, const hpd_store_limits *limits, hp_error *err);
/* Flushes pending log lines and closes. NULL safe. */
void hpd_store_close(hpd_store *st);

/* From now on the store is used from the event loop: a call waits for another process's
 * lock on the file a few ms at most (at open and close it waits up to 5 s), and the
 * write-ahead log is copied into the file by a thread of its own (checkpoint.h), so no
 * fsync runs on the loop. -1 (err set) when the thread cannot start: then SQLite
 * checkpoints inside commits as before, and the store still works. */
int hpd_store_live(hpd_store *st, hp_error *err);
/* Checkpoints the thread made so far. */
int64_t hpd_store_checkpoints(hpd_store *st);
/* Pages in the write-ahead log after the last commit (small again once a checkpoint
 * copied it all and a write started it over). */
int64_t hpd_store_wal_pages(const hpd_store *st);
/* At exit: writes what waits, waiting up to 5 s for a lock; the health says what is left. */
void hpd_store_drain(hpd_store *st);

/* Counters kept in the meta table; loaded values survive restarts. */
int64_t hpd_store_get_meta(hpd_store *st, const char *key, int64_t fallback);
int hpd_store_set_meta(hpd_store *st, const char *key, int64_t value);

/* Write-through of the model. Each change is written at once when nothing waits; when
 * the file cannot be written (disk full, locked, I/O error) it waits in memory, a later
 * change to the same object replacing it, and is tried again after a back-off (100 ms
 * doubling to 5 s) by any later write or hpd_store_sync. Each returns 0, or -1 (err set)
 * when the change could not even be queued (out of memory); a change the file refuses
 * for good (a constraint) is given up alone and named in the health's refused. */
int hpd_store_put_service(hpd_store *st, const hpd_service *svc, hp_error *err);
int hpd_store_delete_service(hpd_store *st, const char *name, hp_error *err);
int hpd_store_put_run(hpd_store *st, const hpd_run *run, hp_error *err); /* run row only */
int hpd_store_put_job(hpd_store *st, const hpd_job *job, hp_error *err);
/* Deletes a run with its jobs and their log lines. */
int hpd_store_delete_run(hpd_store *st, int64_t run_id, hp_error *err);

/* What the store's state is, for system.info and the daemon's log. Strings borrowed. */
typedef struct hpd_store_health {
    int ok;                 /* the last write reached the file */
    const char *error;      /* why not ("" when ok): SQLite's words, e.g. "database is locked" */
    int64_t since_ms;       /* when ok or failing began, epoch ms */
    int64_t failures;       /* failed attempts since it was last ok */
    int64_t pending;        /* changes and log lines waiting */
    int64_t dropped_lines;  /* log lines dropped because the store could not take them */
    int64_t dropped_writes; /* changes given up (refused for good, or too many waiting) */
    int64_t retry_in_ms;    /* -1: nothing waits for a retry; else ms until one is due */
    const char *refused;    /* the last change given up, "" if none */
    uint64_t generation;    /* changes when ok, error or refused changes: log it then */
} hpd_store_health;
void hpd_store_health_get(const hpd_store *st, hpd_store_health *h);
/* Writes what waits now, whatever the back-off says. 0 when nothing waits afterwards. */
int hpd_store_sync(hpd_store *st, hp_error *err);

/* Loading at start. Callbacks get borrowed objects valid during the call only; the
 * callee copies what it keeps. Order: services by name, runs by id, jobs by id. */
typedef void (*hpd_service_fn)(void *ctx, const hpd_service *svc);
typedef void (*hpd_run_fn)(void *ctx, const hpd_run *run); /* run->jobs NULL here */
typedef void (*hpd_job_fn)(void *ctx, int64_t run_id, const hpd_job *job);
int hpd_store_load(hpd_store *st, void *ctx, hpd_service_fn on_service, hpd_run_fn on_run,
                   hpd_job_fn on_job, hp_error *err);

/* Secrets. Values never leave through any other function. */
int hpd_store_secret_set(hpd_store *st, const char *name, const char *value, int64_t now_ms,
                         int64_t *created_at_ms, hp_error *err);
/* 1 found (value malloc'd into *value, caller frees), 0 not found, -1 error. */
int hpd_store_secret_get(hpd_store *st, const char *name, char **value, int64_t *created_at_ms,
                         int64_t *updated_at_ms, hp_error *err);
/* Array of {name, created_at_ms, updated_at_ms} by name; NULL on error. */
cJSON *hpd_store_secret_list(hpd_store *st, hp_error *err);
/* 1 deleted, 0 not found, -1 error. */
int hpd_store_secret_delete(hpd_store *st, const char *name, hp_error *err);
int64_t hpd_store_secret_count(hpd_store *st);
/* Calls fn with each secret's name and stored value (borrowed, valid during the call);
 * fn returns 0 to go on or -1 (err set) to stop, and may put a replacement (malloc'd,
 * taken) into *replacement. The replacements are written at the end in one transaction
 * that leaves the old values neither in the file nor in its WAL; *rewritten (may be
 * NULL) gets their number. 0, or -1 with err (nothing rewritten). */
typedef int (*hpd_secret_each_fn)(void *ctx, const char *name, const char *value,
                                  char **replacement, hp_error *err);
int hpd_store_secret_each(hpd_store *st, hpd_secret_each_fn fn, void *ctx, int64_t *rewritten,
                          hp_error *err);

/* Log lines. append copies the line into the pending batch and returns its seq (global,
 * increasing, starting after the highest seq ever stored), or -1 when the batch is full
 * (65536 lines or 16 MiB) and cannot be written now: the line is dropped and counted
 * against its job and in the health's dropped_lines. flush writes the batch with any
 * waiting changes in one transaction and applies the caps (per-job lines, total bytes:
 * oldest first), counting what it evicted: per job via hpd_store_job_dropped and in total
 * via hpd_store_dropped. While the store is failing, flush does nothing until a retry is
 * due; it returns -1 (err set) when the attempt it made failed. */
int64_t hpd_store_log_append(hpd_store *st, int64_t ts_ms, const char *src, int64_t job_id,
                             int attempt, hpd_stream stream, const char *line, size_t len);
int hpd_store_log_flush(hpd_store *st, hp_error *err);
size_t hpd_store_log_pending(const hpd_store *st);
int64_t hpd_store_dropped(const hpd_store *st);
/* Lines of job_id evicted so far (also those evicted from jobs before a restart). */
int64_t hpd_store_job_dropped(hpd_store *st, int64_t job_id);
int64_t hpd_store_log_count(hpd_store *st);

/* Pages of LogLine objects (seq, ts_ms, src, job_id, stream, line [, attempt]) as a cJSON
 * array, after flushing. job: lines with seq > after_seq, oldest first, at most limit,
 * only that attempt when attempt > 0. tail: src matched by dotted segment ("run.1" matches
 * "run.1" and "run.1.x", never "run.12"; NULL or "" matches all); with after_seq 0 the
 * LAST limit lines, else lines after the cursor; oldest first either way. *next_seq is
 * the seq of the last line returned, or after_seq when none. NULL on error. */
cJSON *hpd_store_job_logs(hpd_store *st, int64_t job_id, int64_t after_seq, int limit, int attempt,
                          int64_t *next_seq, hp_error *err);
cJSON *hpd_store_tail_logs(hpd_store *st, const char *src, int64_t after_seq, int limit,
                           int64_t *next_seq, hp_error *err);

#endif
