/* SPDX-License-Identifier: Apache-2.0 */
/* The log's files: each job's output in append-only segment files under <data-dir>/logs/,
 * one folder per job, with a sparse index per segment so a seq or a time is found by
 * binary search. Lines wait in a buffer per job and are written with one write per
 * segment piece; retention drops whole oldest segments, counted per job. */
#ifndef HPD_LOGSEG_H
#define HPD_LOGSEG_H

#include "common/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hpd_logseg hpd_logseg;

typedef struct hpd_logseg_limits {
    int64_t bytes_per_job; /* default 256 MiB */
    int64_t bytes;         /* all jobs, default 4 GiB */
    int64_t buffer_bytes;  /* lines waiting to be written, all jobs, default 16 MiB */
} hpd_logseg_limits;

/* One line as it is stored, borrowed for the length of a callback. */
typedef struct hpd_logrec {
    int64_t seq, ts_ms, job_id;
    int attempt, stream;
    const char *src; /* the job's source, or the line's own for job 0 */
    size_t src_len;
    const char *line; /* not NUL-terminated */
    size_t len;
} hpd_logrec;

/* 0 to go on, 1 to stop (then the reading call returns 1), -1 to fail. */
typedef int (*hpd_logrec_fn)(void *ctx, const hpd_logrec *r);

/* Opens dir (created 0700 when missing), loading every job's segments; a torn last
 * record (the daemon killed in the middle of a write) is cut. NULL with err. */
hpd_logseg *hpd_logseg_open(const char *dir, const hpd_logseg_limits *limits, hp_error *err);
/* Writes what waits and closes. NULL safe. */
void hpd_logseg_close(hpd_logseg *lg);

/* Buffers one line. src names the job's lines (kept once per job); for job 0 it is kept
 * with each line. run_id (0 when unknown) lets hpd_logseg_delete_run find the job. -1
 * when the buffers are full: the line is dropped and counted against its job. */
int hpd_logseg_append(hpd_logseg *lg, int64_t job_id, int64_t run_id, const char *src,
                      size_t src_len, int64_t seq, int64_t ts_ms, int attempt, int stream,
                      const char *line, size_t len);
/* Buffers the count lines of one read of job_id (not 0) as one record (or a few, split
 * at lines when large), seqs first_seq on: lines holds each line followed by its newline
 * (so no line holds one). The lines that did not fit the buffers (0 when all did) are
 * dropped and counted; their seqs stay unused. */
int64_t hpd_logseg_append_block(hpd_logseg *lg, int64_t job_id, int64_t run_id, const char *src,
                                size_t src_len, int64_t first_seq, int64_t ts_ms, int attempt,
                                int stream, const char *lines, size_t len, uint32_t count);
/* Names the run of a job (its log may not exist yet), for hpd_logseg_delete_run. */
void hpd_logseg_set_run(hpd_logseg *lg, int64_t job_id, int64_t run_id);
/* The job will print no more for now (its run ended): its files close once what waits is
 * written. They open again if it does print. */
void hpd_logseg_idle(hpd_logseg *lg, int64_t job_id);
/* Counts lines that never reached the buffer against their job. */
void hpd_logseg_lose(hpd_logseg *lg, int64_t job_id, int64_t lines);
/* Writes every buffer, applies the retention. 0, or -1 (err set, e.g. the disk is full)
 * with what could not be written still waiting; hpd_logseg_failing says why. */
int hpd_logseg_flush(hpd_logseg *lg, hp_error *err);
size_t hpd_logseg_buffered(const hpd_logseg *lg); /* bytes waiting */
int64_t hpd_logseg_waiting(const hpd_logseg *lg); /* lines waiting */
/* NULL while writes succeed, else the reason of the last failure. */
const char *hpd_logseg_failing(const hpd_logseg *lg);

/* Removes every job of run_id with its files; 0 or -1. */
int hpd_logseg_delete_run(hpd_logseg *lg, int64_t run_id);
int hpd_logseg_delete_job(hpd_logseg *lg, int64_t job_id);

typedef struct hpd_logseg_stat {
    int64_t lines, bytes; /* kept (on disk and waiting) */
    int64_t dropped;      /* dropped ever: retention and full buffers */
    int64_t dropped_upto; /* the newest seq retention dropped, 0 when none */
    int64_t first_seq, last_seq;
    int64_t run_id;
} hpd_logseg_stat;
/* 1 and *s filled when the job has a log, else 0. */
int hpd_logseg_job_stat(const hpd_logseg *lg, int64_t job_id, hpd_logseg_stat *s);
/* Totals over all jobs: lines and bytes kept, lines dropped ever, highest seq seen. */
void hpd_logseg_totals(const hpd_logseg *lg, int64_t *lines, int64_t *bytes, int64_t *dropped,
                       int64_t *last_seq);

/* Every job with a log, for callers that pick by source: fn gets the job's id, src
 * (NULL for job 0, whose lines carry their own) and last seq. */
typedef int (*hpd_logjob_fn)(void *ctx, int64_t job_id, const char *src, int64_t last_seq);
int hpd_logseg_each_job(const hpd_logseg *lg, hpd_logjob_fn fn, void *ctx);

/* Reads one job's lines oldest first from the first with seq > after_seq and ts_ms >=
 * since_ms (0: no bound), calling fn until it stops or the lines end. Starts by binary
 * search in the segments and their index. 0 at the end, 1 when fn stopped, -1 (err). */
int hpd_logseg_forward(hpd_logseg *lg, int64_t job_id, int64_t after_seq, int64_t since_ms,
                       hpd_logrec_fn fn, void *ctx, hp_error *err);
/* The same newest first, from the last line with seq < before_seq (0: no bound) and
 * ts_ms < until_ms (0: no bound). */
int hpd_logseg_backward(hpd_logseg *lg, int64_t job_id, int64_t before_seq, int64_t until_ms,
                        hpd_logrec_fn fn, void *ctx, hp_error *err);

/* Segments and index marks of a job (tests and benchmarks). */
size_t hpd_logseg_segments(const hpd_logseg *lg, int64_t job_id);

#endif
