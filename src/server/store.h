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
    int64_t log_bytes_per_job; /* log bytes kept per job, default 256 MiB */
    int64_t log_bytes;         /* all jobs, default 4 GiB */
} hpd_store_limits;

typedef enum hpd_stream { HPD_STDOUT = 0, HPD_STDERR = 1, HPD_SYSTEM = 2 } hpd_stream;
const char *hpd_stream_name(hpd_stream s); /* "stdout" "stderr" "system" */

/* Opens or creates <dir>/hero_proc.db (0600; dir must exist). NULL with err on failure. */
hpd_store *hpd_store_open(const char *dir, const hpd_store_limits *limits, hp_error *err);
/* Flushes pending log lines and closes. NULL safe. */
void hpd_store_close(hpd_store *st);
/* Before hpd_store_close when the store is opened again at once (an in-place upgrade):
 * the close leaves the WAL, committed, to the next open instead of checkpointing it. */
void hpd_store_keep_wal(hpd_store *st);

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
/* Between hold and release (nested: the outermost release writes) the changes of one
 * event wait and go in one transaction: a burst of exits, or a run with its jobs, costs one
 * commit. Released before the event's answer can be sent, so "written at once" holds. */
void hpd_store_hold(hpd_store *st);
void hpd_store_release(hpd_store *st);
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

/* API tokens (store_tokens.c): the hash, never the token. hpd_store_token_load calls fn
 * per token in name order; a non-zero return (out of memory) stops it with -1. */
typedef int (*hpd_store_token_fn)(void *ud, const char *name, const char *role, const void *hash,
                                  size_t hash_len, int64_t created_at_ms);
int hpd_store_token_add(hpd_store *st, const char *name, const char *role,
                        const unsigned char *hash, size_t hash_len, int64_t now_ms, hp_error *err);
int hpd_store_token_delete(hpd_store *st, const char *name, hp_error *err);
int hpd_store_token_load(hpd_store *st, hpd_store_token_fn fn, void *ud, hp_error *err);

/* Log lines, kept in files under <dir>/logs (logseg.h). append buffers the line and
 * returns its seq (global, increasing, starting after the highest seq ever given), or -1
 * when the buffers are full (16 MiB) because the files cannot be written now: the line is
 * dropped and counted against its job and in the health's dropped_lines. flush writes the
 * buffers and applies the retention (bytes per job, bytes in all: whole oldest segments,
 * counted per job) and writes the waiting changes; while writes fail it does nothing until
 * a retry is due, and returns -1 (err set) when the attempt it made failed. */
int64_t hpd_store_log_append(hpd_store *st, int64_t ts_ms, const char *src, int64_t job_id,
                             int attempt, hpd_stream stream, const char *line, size_t len);
/* The same for count lines of one read (each followed by its newline, none longer than a
 * line may be, valid UTF-8): one record for all, seqs following each other; the first
 * seq, or -1 when all were dropped (each line dropped is counted). */
int64_t hpd_store_log_append_lines(hpd_store *st, int64_t ts_ms, const char *src, int64_t job_id,
                                   int attempt, hpd_stream stream, const char *lines, size_t len,
                                   uint32_t count);
int hpd_store_log_flush(hpd_store *st, hp_error *err);
size_t hpd_store_log_pending(const hpd_store *st); /* lines waiting to be written */
int64_t hpd_store_dropped(const hpd_store *st);    /* lines dropped, all jobs, ever */
/* Lines of job_id dropped so far (retention, full buffers), across restarts. */
int64_t hpd_store_job_dropped(hpd_store *st, int64_t job_id);
int64_t hpd_store_log_count(hpd_store *st);
/* The job is done for now: its log's files close once its lines are written. */
void hpd_store_log_idle(hpd_store *st, int64_t job_id);

/* A page of the log. One job's lines (job_id > 0) or lines by source (src matched by
 * dotted segment: "run.1" matches "run.1" and "run.1.x", never "run.12"; NULL or "" all).
 * Bounds: seq > after_seq, seq < before_seq (0: none), since_ms <= ts_ms < until_ms (0:
 * none), only that attempt when attempt > 0. Which lines of the range: the newest limit
 * when before_seq is given, or for a source query with neither after_seq nor since_ms
 * (a tail); else the oldest limit. Answered oldest first either way. */
typedef struct hpd_log_query {
    int64_t job_id;
    const char *src;
    int64_t after_seq, before_seq, since_ms, until_ms;
    int limit, attempt;
} hpd_log_query;
/* Array of LogLine objects (seq, ts_ms, src, job_id, stream, line, attempt). *next_seq
 * gets the cursor to go on: the last line's seq going forward (after_seq when none), the
 * first line's going backwards (before_seq when none). *truncated (may be NULL) is set
 * for a job query when lines of the range asked for were dropped: the page starts later
 * than asked (forward) or ends at the oldest line kept (backward). NULL on error. */
cJSON *hpd_store_logs(hpd_store *st, const hpd_log_query *q, int64_t *next_seq, int *truncated,
                      hp_error *err);
/* A search of some jobs' lines, newest first: the jobs in the order given (a job's lines
 * newest first, then the next job's), from before_seq in the first job (0: its end). A
 * line matches a POSIX extended regex, or contains the text with substring set; case is
 * ignored with ignore_case. Each match comes with up to context lines before and after
 * it from its job. At most budget bytes of lines are read per call (so a search never
 * holds the daemon long): where it stopped is given back as a cursor. */
typedef struct hpd_log_search {
    const int64_t *jobs;
    size_t n_jobs;
    const char *pattern;
    int substring, ignore_case;
    int64_t before_seq;
    int limit, context;
    int64_t budget;
} hpd_log_search;
/* {matches: [{line, before: [...], after: [...]}], scanned (lines read), complete, and
 * when not complete next_job_id and next_before_seq, to pass back}. NULL with err: a bad
 * regex is HP_E_INVALID with regcomp's words. */
cJSON *hpd_store_log_search(hpd_store *st, const hpd_log_search *q, hp_error *err);

/* The same, in the shape of the first releases: job.logs forward, logs.tail. */
cJSON *hpd_store_job_logs(hpd_store *st, int64_t job_id, int64_t after_seq, int limit, int attempt,
                          int64_t *next_seq, hp_error *err);
cJSON *hpd_store_tail_logs(hpd_store *st, const char *src, int64_t after_seq, int limit,
                           int64_t *next_seq, hp_error *err);

#endif
