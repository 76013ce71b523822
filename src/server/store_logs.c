/* SPDX-License-Identifier: Apache-2.0 */
/* The store's log: lines go to the files of logseg.c (<dir>/logs), with their own health
 * and back-off; the rows an older release kept in the database are converted at open; the
 * queries (one job, or by source merged by seq; forward, backward, by time). */
#include "config.h"

#include "server/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hpd_stream_name(hpd_stream s)
{
    switch (s) {
    case HPD_STDOUT:
        return "stdout";
    case HPD_STDERR:
        return "stderr";
    case HPD_SYSTEM:
        return "system";
    }
    return "unknown";
}

/* ---- writing ------------------------------------------------------------------------ */

int hpd__logs_due(const hpd_store *st)
{
    return hpd__part_due(&st->log_part);
}

int hpd__logs_write(hpd_store *st, hp_error *err)
{
    char why[160];

    if (hpd_logseg_flush(st->logs, err) == 0) {
        hpd__part_ok(st, &st->log_part);
        return 0;
    }
    snprintf(why, sizeof(why), "log files: %s",
             hpd_logseg_failing(st->logs) ? hpd_logseg_failing(st->logs) : "cannot write");
    hpd__part_failed(st, &st->log_part, why);
    return -1;
}

int64_t hpd_store_log_append(hpd_store *st, int64_t ts_ms, const char *src, int64_t job_id,
                             int attempt, hpd_stream stream, const char *line, size_t len)
{
    int64_t seq;

    if (!st)
        return -1;
    if (!line)
        len = 0;
    if (hpd_logseg_buffered(st->logs) + len > PENDING_BYTES / 2 && hpd__logs_due(st))
        hpd__logs_write(st, NULL);
    seq = st->last_seq + 1;
    if (hpd_logseg_append(st->logs, job_id, 0, src, src ? strlen(src) : 0, seq, ts_ms, attempt,
                          (int)stream, line, len) != 0) {
        st->lost_lines++;
        return -1;
    }
    st->last_seq = seq;
    return seq;
}

int64_t hpd_store_log_append_lines(hpd_store *st, int64_t ts_ms, const char *src, int64_t job_id,
                                   int attempt, hpd_stream stream, const char *lines, size_t len,
                                   uint32_t count)
{
    int64_t seq, dropped;

    if (!st)
        return -1;
    if (hpd_logseg_buffered(st->logs) + len > PENDING_BYTES / 2 && hpd__logs_due(st))
        hpd__logs_write(st, NULL);
    seq = st->last_seq + 1;
    dropped = hpd_logseg_append_block(st->logs, job_id, 0, src, src ? strlen(src) : 0, seq, ts_ms,
                                      attempt, (int)stream, lines, len, count);
    /* a block split at lines may be kept in part: its seqs are taken all the same */
    st->last_seq = seq + count - 1;
    st->lost_lines += dropped;
    return dropped == count ? -1 : seq;
}

void hpd_store_log_idle(hpd_store *st, int64_t job_id)
{
    if (st)
        hpd_logseg_idle(st->logs, job_id);
}

size_t hpd_store_log_pending(const hpd_store *st)
{
    return st ? (size_t)hpd_logseg_waiting(st->logs) : 0;
}

int64_t hpd_store_dropped(const hpd_store *st)
{
    int64_t dropped = 0;

    if (st)
        hpd_logseg_totals(st->logs, NULL, NULL, &dropped, NULL);
    return dropped;
}

int64_t hpd_store_job_dropped(hpd_store *st, int64_t job_id)
{
    hpd_logseg_stat s;

    if (!st)
        return -1;
    hpd_logseg_job_stat(st->logs, job_id, &s);
    return s.dropped;
}

int64_t hpd_store_log_count(hpd_store *st)
{
    int64_t lines = 0;

    if (st)
        hpd_logseg_totals(st->logs, &lines, NULL, NULL, NULL);
    return lines;
}

/* ---- the rows of schema version 1 ---------------------------------------------------- */

static int table_exists(hpd_store *st, const char *name)
{
    sqlite3_stmt *s;
    int found = 0;

    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    hpd__bind_text(s, 1, name);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

/* Copies every old row into the files (skipping what an interrupted conversion already
 * wrote), then the lines each job had lost, then drops the tables in one transaction. */
static int convert_rows(hpd_store *st, hp_error *err)
{
    static const char rows_sql[] =
        "SELECT l.seq, l.ts_ms, l.src, l.job_id, l.attempt, l.stream, l.line,"
        " COALESCE(j.run_id, 0) FROM logs l LEFT JOIN jobs j ON j.id = l.job_id ORDER BY l.seq";
    sqlite3_stmt *s = NULL;
    int64_t n = 0;
    int rc;

    if (sqlite3_prepare_v2(st->db, rows_sql, -1, &s, NULL) != SQLITE_OK)
        return hpd__db_fail(st, err, "cannot read the log rows to convert");
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0), job = sqlite3_column_int64(s, 3);
        const char *src = (const char *)sqlite3_column_text(s, 2);
        const char *line = (const char *)sqlite3_column_text(s, 6);
        hpd_logseg_stat ls;

        if (hpd_logseg_job_stat(st->logs, job, &ls) && seq <= ls.last_seq)
            continue;
        if (hpd_logseg_append(st->logs, job, sqlite3_column_int64(s, 7), src, src ? strlen(src) : 0,
                              seq, sqlite3_column_int64(s, 1), sqlite3_column_int(s, 4),
                              sqlite3_column_int(s, 5), line,
                              (size_t)sqlite3_column_bytes(s, 6)) != 0 ||
            (++n % 4096 == 0 && hpd_logseg_flush(st->logs, err) != 0)) {
            sqlite3_finalize(s);
            return -1;
        }
        if (seq > st->last_seq)
            st->last_seq = seq;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return hpd__db_fail(st, err, "cannot read the log rows to convert");
    if (table_exists(st, "job_log_counts") == 1 &&
        sqlite3_prepare_v2(st->db, "SELECT job_id, dropped FROM job_log_counts WHERE dropped > 0",
                           -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            hpd_logseg_stat ls;
            int64_t job = sqlite3_column_int64(s, 0), dropped = sqlite3_column_int64(s, 1);

            hpd_logseg_job_stat(st->logs, job, &ls);
            if (dropped > ls.dropped)
                hpd_logseg_lose(st->logs, job, dropped - ls.dropped);
        }
        sqlite3_finalize(s);
    }
    if (hpd_logseg_flush(st->logs, err) != 0)
        return -1;
    if (hpd__begin(st, err) != 0)
        return -1;
    if (sqlite3_exec(st->db,
                     "DROP TABLE IF EXISTS logs; DROP TABLE IF EXISTS job_log_counts;"
                     " DELETE FROM meta WHERE key IN ('log_lines', 'log_bytes', 'log_dropped')",
                     NULL, NULL, NULL) != SQLITE_OK ||
        hpd__meta_write(st, "last_seq", st->last_seq, err) != 0 ||
        hpd__meta_write(st, "schema_version", 2, err) != 0) {
        hpd__db_fail(st, err, "cannot drop the converted log rows");
        hpd__rollback(st);
        return -1;
    }
    if (hpd__commit(st, err) != 0)
        return -1;
    st->saved_seq = st->last_seq;
    return 0;
}

int hpd__logs_open(hpd_store *st, const char *dir, hp_error *err)
{
    hpd_logseg_limits lim = {.bytes_per_job = st->limits.log_bytes_per_job,
                             .bytes = st->limits.log_bytes,
                             .buffer_bytes = PENDING_BYTES};
    size_t len = strlen(dir) + sizeof("/logs");
    char *path = malloc(len);
    int64_t seq = 0;
    int old;

    if (!path)
        return hpd__nomem(err, "cannot open the log");
    snprintf(path, len, "%s/logs", dir);
    st->logs = hpd_logseg_open(path, &lim, err);
    free(path);
    if (!st->logs)
        return -1;
    hpd_logseg_totals(st->logs, NULL, NULL, NULL, &seq);
    if (seq > st->last_seq)
        st->last_seq = seq;
    if ((old = table_exists(st, "logs")) < 0)
        return hpd__db_fail(st, err, "cannot read the schema");
    return old ? convert_rows(st, err) : 0;
}

/* ---- queries ------------------------------------------------------------------------- */

/* A line of the answer, gathered before it goes into the array in seq order. */
typedef struct log_row {
    int64_t seq;
    cJSON *obj;
} log_row;

typedef struct log_rows {
    log_row *v;
    size_t n, cap;
} log_rows;

static void rows_free(log_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        cJSON_Delete(r->v[i].obj);
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

static int cmp_row(const void *a, const void *b)
{
    int64_t x = ((const log_row *)a)->seq, y = ((const log_row *)b)->seq;

    return (x > y) - (x < y);
}

/* Sorts by seq and keeps the newest (last) or the oldest limit rows. */
static void rows_trim(log_rows *r, size_t limit, int keep_last)
{
    size_t extra;

    if (r->n > 1)
        qsort(r->v, r->n, sizeof(*r->v), cmp_row);
    if (r->n <= limit)
        return;
    extra = r->n - limit;
    if (keep_last) {
        for (size_t i = 0; i < extra; i++)
            cJSON_Delete(r->v[i].obj);
        memmove(r->v, r->v + extra, limit * sizeof(*r->v));
    } else {
        for (size_t i = limit; i < r->n; i++)
            cJSON_Delete(r->v[i].obj);
    }
    r->n = limit;
}

static cJSON *rec_json(const hpd_logrec *r)
{
    cJSON *o = cJSON_CreateObject();
    char *src = strndup(r->src, r->src_len), *line = strndup(r->line, r->len);

    if (!o || !src || !line || !hp_json_add_int(o, "seq", r->seq) ||
        !hp_json_add_int(o, "ts_ms", r->ts_ms) || !cJSON_AddStringToObject(o, "src", src) ||
        !(r->job_id ? hp_json_add_int(o, "job_id", r->job_id)
                    : cJSON_AddNullToObject(o, "job_id")) ||
        !cJSON_AddStringToObject(o, "stream", hpd_stream_name((hpd_stream)r->stream)) ||
        !cJSON_AddStringToObject(o, "line", line) || !hp_json_add_int(o, "attempt", r->attempt)) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(src);
    free(line);
    return o;
}

/* 1 when src (len bytes) is prefix or under it by dotted segment. */
static int src_matches(const char *prefix, size_t plen, const char *src, size_t len)
{
    return plen == 0 ||
           (len >= plen && memcmp(src, prefix, plen) == 0 && (len == plen || src[plen] == '.'));
}

typedef struct reader {
    const hpd_log_query *q;
    size_t plen;
    int backward;
    log_rows *rows;
    size_t from_job; /* rows taken from the job being read */
    int full;        /* the rows from earlier jobs fill the limit: bound says how far */
    int64_t bound;   /* their oldest (backward) or newest (forward) seq */
    int nomem;
} reader;

static int take(void *ctx, const hpd_logrec *r)
{
    reader *rd = ctx;
    const hpd_log_query *q = rd->q;
    log_rows *rows = rd->rows;
    size_t limit = (size_t)q->limit;
    cJSON *o;

    if (rd->backward) {
        if (r->seq <= q->after_seq || (q->since_ms && r->ts_ms < q->since_ms))
            return 1; /* older lines are all out of range */
        if (rd->full && r->seq < rd->bound)
            return 1; /* older than everything kept: nothing here will be */
    } else {
        if ((q->before_seq && r->seq >= q->before_seq) || (q->until_ms && r->ts_ms >= q->until_ms))
            return 1;
        if (rd->full && r->seq > rd->bound)
            return 1;
    }
    if ((q->attempt > 0 && r->attempt != q->attempt) ||
        (r->job_id == 0 && !src_matches(q->src ? q->src : "", rd->plen, r->src, r->src_len)))
        return 0;
    if (hpd__grow((void **)&rows->v, &rows->cap, rows->n + 1, sizeof(*rows->v)) != 0 ||
        !(o = rec_json(r))) {
        rd->nomem = 1;
        return -1;
    }
    rows->v[rows->n].seq = r->seq;
    rows->v[rows->n++].obj = o;
    return ++rd->from_job >= limit;
}

/* Reads one job into rows, then keeps the limit rows the query wants. */
static int read_job(hpd_store *st, reader *rd, int64_t job_id, hp_error *err)
{
    const hpd_log_query *q = rd->q;
    int rc;

    rd->from_job = 0;
    /* Rows from earlier jobs are sorted: take() stops at the end of what they allow. */
    rd->full = rd->rows->n >= (size_t)q->limit;
    if (rd->full)
        rd->bound = rd->backward ? rd->rows->v[0].seq : rd->rows->v[rd->rows->n - 1].seq;
    if (rd->backward)
        rc = hpd_logseg_backward(st->logs, job_id, q->before_seq, q->until_ms, take, rd, err);
    else
        rc = hpd_logseg_forward(st->logs, job_id, q->after_seq, q->since_ms, take, rd, err);
    if (rd->nomem)
        return hpd__nomem(err, "cannot read the log");
    if (rc < 0)
        return -1;
    rows_trim(rd->rows, (size_t)q->limit, rd->backward);
    return 0;
}

typedef struct candidate {
    int64_t job_id, last_seq;
} candidate;

typedef struct candidates {
    candidate *v;
    size_t n, cap;
    const hpd_log_query *q;
    size_t plen;
} candidates;

static int add_candidate(void *ctx, int64_t job_id, const char *src, int64_t last_seq)
{
    candidates *c = ctx;

    if (last_seq <= c->q->after_seq ||
        (src && !src_matches(c->q->src ? c->q->src : "", c->plen, src, strlen(src))))
        return 0;
    if (hpd__grow((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v)) != 0)
        return -1;
    c->v[c->n].job_id = job_id;
    c->v[c->n++].last_seq = last_seq;
    return 0;
}

static int cmp_newest(const void *a, const void *b)
{
    int64_t x = ((const candidate *)a)->last_seq, y = ((const candidate *)b)->last_seq;

    return (x < y) - (x > y);
}

/* By source: the jobs whose source matches (and the lines without a job), newest last
 * line first, so a tail stops once a job's newest line is older than all it kept. */
static int read_sources(hpd_store *st, reader *rd, hp_error *err)
{
    candidates c = {.q = rd->q, .plen = rd->plen};
    int rc = 0;

    if (hpd_logseg_each_job(st->logs, add_candidate, &c) != 0) {
        free(c.v);
        return hpd__nomem(err, "cannot read the log");
    }
    if (c.n > 1)
        qsort(c.v, c.n, sizeof(*c.v), cmp_newest);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        if (rd->backward && rd->rows->n >= (size_t)rd->q->limit &&
            c.v[i].last_seq < rd->rows->v[0].seq)
            break;
        rc = read_job(st, rd, c.v[i].job_id, err);
    }
    free(c.v);
    return rc;
}

cJSON *hpd_store_logs(hpd_store *st, const hpd_log_query *q, int64_t *next_seq, int *truncated,
                      hp_error *err)
{
    log_rows rows = {0};
    reader rd = {.q = q, .rows = &rows};
    cJSON *array;
    int rc = 0;

    if (!st || !q)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), NULL;
    rd.plen = q->src ? strlen(q->src) : 0;
    rd.backward = q->before_seq > 0 || (q->job_id <= 0 && q->after_seq <= 0 && q->since_ms <= 0);
    if (q->limit > 0)
        rc = q->job_id > 0 ? read_job(st, &rd, q->job_id, err) : read_sources(st, &rd, err);
    if (rc != 0 || !(array = cJSON_CreateArray())) {
        if (rc == 0)
            hpd__nomem(err, "cannot read the log");
        rows_free(&rows);
        return NULL;
    }
    if (truncated) {
        hpd_logseg_stat ls;
        hpd_logseg_job_stat(st->logs, q->job_id, &ls);
        *truncated = q->job_id > 0 && ls.dropped_upto > q->after_seq &&
                     (!rd.backward || rows.n < (size_t)q->limit);
    }
    /* Adding a non-NULL item to an array cannot fail. */
    for (size_t i = 0; i < rows.n; i++)
        cJSON_AddItemToArray(array, rows.v[i].obj);
    if (next_seq) {
        if (q->before_seq > 0)
            *next_seq = rows.n ? rows.v[0].seq : q->before_seq;
        else
            *next_seq = rows.n ? rows.v[rows.n - 1].seq : q->after_seq;
    }
    rows.n = 0;
    rows_free(&rows);
    return array;
}

cJSON *hpd_store_job_logs(hpd_store *st, int64_t job_id, int64_t after_seq, int limit, int attempt,
                          int64_t *next_seq, hp_error *err)
{
    hpd_log_query q = {.job_id = job_id > 0 ? job_id : -1,
                       .after_seq = after_seq,
                       .limit = limit,
                       .attempt = attempt};

    if (job_id <= 0) {
        /* job.logs of no job: nothing (a tail of everything is logs.tail) */
        q.limit = 0;
    }
    return hpd_store_logs(st, &q, next_seq, NULL, err);
}

cJSON *hpd_store_tail_logs(hpd_store *st, const char *src, int64_t after_seq, int limit,
                           int64_t *next_seq, hp_error *err)
{
    hpd_log_query q = {.src = src, .after_seq = after_seq < 0 ? 0 : after_seq, .limit = limit};

    return hpd_store_logs(st, &q, next_seq, NULL, err);
}
