/* SPDX-License-Identifier: Apache-2.0 */
/* The store's log: the batch of lines waiting to be written, the caps (per job, total bytes),
 * the lines lost while the store could not take them, and the paged queries. */
#include "config.h"

#include "server/store_int.h"

#include <stdlib.h>
#include <string.h>

/* A tail merges the newest lines of each matching source through the (src, seq) index;
 * past this many sources a scan by seq is cheaper. */
#define TAIL_SRCS_MAX 128

/* A row of the log, gathered before it goes into the answer in seq order. */
typedef struct log_row {
    int64_t seq;
    cJSON *obj;
} log_row;

typedef struct log_rows {
    log_row *v;
    size_t n, cap;
} log_rows;

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

/* ---- log batch ----------------------------------------------------------------------- */

void hpd__discard_pending(hpd_store *st)
{
    st->n_pending = 0;
    st->head = st->chunk_end = 0;
    st->text_len = 0;
    /* One burst must not pin a large arena for the daemon's lifetime. */
    if (st->text_cap > (size_t)4 << 20) {
        free(st->text);
        st->text = NULL;
        st->text_cap = 0;
    }
}

/* Moves the lines not yet written to the front, so the bounds count only them. */
static void compact_pending(hpd_store *st)
{
    size_t keep = st->n_pending - st->head, from;

    if (st->head == 0)
        return;
    if (keep == 0) {
        hpd__discard_pending(st);
        return;
    }
    from = st->pending[st->head].src_off;
    memmove(st->text, st->text + from, st->text_len - from);
    st->text_len -= from;
    memmove(st->pending, st->pending + st->head, keep * sizeof(*st->pending));
    for (size_t i = 0; i < keep; i++) {
        st->pending[i].src_off -= from;
        st->pending[i].line_off -= from;
    }
    st->n_pending = keep;
    st->head = st->chunk_end = 0;
}

int64_t hpd_store_log_append(hpd_store *st, int64_t ts_ms, const char *src, int64_t job_id,
                             int attempt, hpd_stream stream, const char *line, size_t len)
{
    size_t src_len = src ? strlen(src) : 0;
    pending_line *p;

    if (!st)
        return -1;
    if (!line)
        len = 0;
    if (len > PENDING_BYTES)
        len = PENDING_BYTES;
    if (st->n_pending >= PENDING_MAX || st->text_len + src_len + len + 2 > PENDING_BYTES) {
        hpd_store_log_flush(st, NULL);
        compact_pending(st);
    }
    if (st->n_pending >= PENDING_MAX || st->text_len + src_len + len + 2 > PENDING_BYTES) {
        hpd__lose_line(st, job_id);
        return -1;
    }
    if (hpd__grow((void **)&st->pending, &st->cap_pending, st->n_pending + 1,
                  sizeof(*st->pending)) != 0 ||
        hpd__grow((void **)&st->text, &st->text_cap, st->text_len + src_len + len + 2, 1) != 0) {
        st->dropped++;
        return -1;
    }
    p = &st->pending[st->n_pending++];
    p->seq = ++st->last_seq;
    p->ts_ms = ts_ms;
    p->job_id = job_id;
    p->attempt = attempt;
    p->stream = stream;
    p->src_off = st->text_len;
    p->src_len = src_len;
    if (src_len)
        memcpy(st->text + st->text_len, src, src_len);
    st->text[st->text_len + src_len] = '\0';
    st->text_len += src_len + 1;
    p->line_off = st->text_len;
    p->len = len;
    if (len)
        memcpy(st->text + st->text_len, line, len);
    st->text[st->text_len + len] = '\0';
    st->text_len += len + 1;
    return p->seq;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Per-job cap: every job that got lines in this batch loses its oldest lines past
 * lines_per_job. Counts live in job_log_counts, read once per job and batch. */
static int cap_jobs(hpd_store *st, hp_error *err)
{
    int64_t *ids = malloc((st->chunk_end - st->head + 1) * sizeof(*ids));
    size_t n = 0;
    int rc = -1;

    if (!ids)
        return hpd__nomem(err, "cannot flush the log");
    for (size_t i = st->head; i < st->chunk_end; i++)
        if (st->pending[i].job_id != 0)
            ids[n++] = st->pending[i].job_id;
    if (n > 1)
        qsort(ids, n, sizeof(*ids), cmp_i64);
    for (size_t i = 0, j; i < n; i = j) {
        int64_t job = ids[i], lines = 0, dropped = 0;
        sqlite3_stmt *s = st->stmt[ST_COUNTS_GET];
        int found;

        for (j = i; j < n && ids[j] == job; j++)
            ;
        sqlite3_bind_int64(s, 1, job);
        if ((found = hpd__step_row(st, s, err, "cannot read the log counts of a job")) < 0)
            goto out;
        if (found) {
            lines = sqlite3_column_int64(s, 0);
            dropped = sqlite3_column_int64(s, 1);
            hpd__finish(s);
        }
        lines += (int64_t)(j - i);
        if (lines > st->limits.lines_per_job) {
            int64_t cnt, bytes, upto;

            s = st->stmt[ST_JOB_OLDEST];
            sqlite3_bind_int64(s, 1, job);
            sqlite3_bind_int64(s, 2, lines - st->limits.lines_per_job);
            if (hpd__step_row(st, s, err, "cannot find the oldest lines of a job") != 1)
                goto out;
            cnt = sqlite3_column_int64(s, 0);
            bytes = sqlite3_column_int64(s, 1);
            upto = sqlite3_column_int64(s, 2);
            hpd__finish(s);
            s = st->stmt[ST_JOB_DELETE_UPTO];
            sqlite3_bind_int64(s, 1, job);
            sqlite3_bind_int64(s, 2, upto);
            if (hpd__run_stmt(st, s, err, "cannot evict log lines of job %lld", (long long)job) !=
                0)
                goto out;
            lines -= cnt;
            dropped += cnt;
            st->log_lines -= cnt;
            st->log_bytes -= bytes;
            st->dropped += cnt;
            st->drops_stale = 1;
        }
        s = st->stmt[ST_COUNTS_PUT];
        sqlite3_bind_int64(s, 1, job);
        sqlite3_bind_int64(s, 2, lines);
        sqlite3_bind_int64(s, 3, dropped);
        if (hpd__run_stmt(st, s, err, "cannot save the log counts of job %lld", (long long)job) !=
            0)
            goto out;
    }
    rc = 0;
out:
    free(ids);
    return rc;
}

/* Total cap: the oldest lines of the whole log go first until the bytes fit again; each
 * is counted against its job. */
static int cap_bytes(hpd_store *st, hp_error *err)
{
    int64_t excess = st->log_bytes - st->limits.log_bytes, freed = 0, cnt = 0, upto = 0;
    int64_t *jobs = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *s = st->stmt[ST_LOG_OLDEST];
    int rc = -1, step;

    if (excess <= 0)
        return 0;
    while (freed < excess && (step = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t job = sqlite3_column_int64(s, 1);

        upto = sqlite3_column_int64(s, 0);
        freed += sqlite3_column_int64(s, 2);
        cnt++;
        if (job != 0) {
            if (hpd__grow((void **)&jobs, &cap, n + 1, sizeof(*jobs)) != 0) {
                hpd__finish(s);
                hpd__nomem(err, "cannot flush the log");
                goto out;
            }
            jobs[n++] = job;
        }
    }
    if (freed < excess && step != SQLITE_DONE) {
        hpd__db_fail(st, err, "cannot find the oldest log lines");
        hpd__finish(s);
        goto out;
    }
    hpd__finish(s);
    if (cnt == 0) {
        rc = 0;
        goto out;
    }
    s = st->stmt[ST_LOG_DELETE_UPTO];
    sqlite3_bind_int64(s, 1, upto);
    if (hpd__run_stmt(st, s, err, "cannot evict the oldest log lines") != 0)
        goto out;
    if (n > 1)
        qsort(jobs, n, sizeof(*jobs), cmp_i64);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && jobs[j] == jobs[i]; j++)
            ;
        s = st->stmt[ST_COUNTS_EVICT];
        sqlite3_bind_int64(s, 1, jobs[i]);
        sqlite3_bind_int64(s, 2, (int64_t)(j - i));
        if (hpd__run_stmt(st, s, err, "cannot count evicted lines of job %lld",
                          (long long)jobs[i]) != 0)
            goto out;
    }
    st->log_lines -= cnt;
    st->log_bytes -= freed;
    st->dropped += cnt;
    st->drops_stale = 1;
    rc = 0;
out:
    free(jobs);
    return rc;
}

/* Lines that could not be kept are counted against their jobs until the counts can be
 * written (job_log_counts.dropped), so every job's dropped stays exact. */
static job_drops *lost_slot(hpd_store *st, int64_t job_id, int add)
{
    size_t lo = 0, hi = st->n_lost;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->lost[mid].job_id < job_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < st->n_lost && st->lost[lo].job_id == job_id)
        return &st->lost[lo];
    if (!add ||
        hpd__grow((void **)&st->lost, &st->cap_lost, st->n_lost + 1, sizeof(*st->lost)) != 0)
        return NULL;
    memmove(&st->lost[lo + 1], &st->lost[lo], (st->n_lost - lo) * sizeof(*st->lost));
    st->n_lost++;
    st->lost[lo].job_id = job_id;
    st->lost[lo].dropped = 0;
    return &st->lost[lo];
}

void hpd__lose_line(hpd_store *st, int64_t job_id)
{
    job_drops *d;

    st->lost_lines++;
    if (job_id != 0 && (d = lost_slot(st, job_id, 1)))
        d->dropped++;
}

/* Inserts the pending lines and applies the caps; counters move with them (restored by
 * the caller when the transaction fails). */
int hpd__write_lines(hpd_store *st, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_LOG_INSERT];

    st->chunk_end = st->n_pending - st->head > CHUNK_LINES ? st->head + CHUNK_LINES : st->n_pending;
    for (size_t i = st->head; i < st->chunk_end; i++) {
        const pending_line *p = &st->pending[i];

        sqlite3_bind_int64(s, 1, p->seq);
        sqlite3_bind_int64(s, 2, p->ts_ms);
        sqlite3_bind_text(s, 3, st->text + p->src_off, (int)p->src_len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, p->job_id);
        sqlite3_bind_int(s, 5, p->attempt);
        sqlite3_bind_int(s, 6, (int)p->stream);
        sqlite3_bind_text64(s, 7, st->text + p->line_off, p->len, SQLITE_STATIC, SQLITE_UTF8);
        sqlite3_bind_int64(s, 8, (int64_t)p->len);
        if (sqlite3_step(s) != SQLITE_DONE) {
            hpd__db_fail(st, err, "cannot write log line %lld", (long long)p->seq);
            hpd__finish(s);
            return -1;
        }
        sqlite3_reset(s);
        st->log_lines++;
        st->log_bytes += (int64_t)p->len;
    }
    sqlite3_clear_bindings(s);
    return cap_jobs(st, err) != 0 || cap_bytes(st, err) != 0 ? -1 : 0;
}

int hpd__write_lost(hpd_store *st, hp_error *err)
{
    for (size_t i = 0; i < st->n_lost; i++) {
        sqlite3_stmt *s = st->stmt[ST_COUNTS_LOST];

        sqlite3_bind_int64(s, 1, st->lost[i].job_id);
        sqlite3_bind_int64(s, 2, st->lost[i].dropped);
        if (hpd__run_stmt(st, s, err, "cannot count the lost lines of job %lld",
                          (long long)st->lost[i].job_id) != 0)
            return -1;
    }
    return 0;
}

size_t hpd_store_log_pending(const hpd_store *st)
{
    return st ? st->n_pending - st->head : 0;
}

int64_t hpd_store_dropped(const hpd_store *st)
{
    return st ? st->dropped : 0;
}

/* -1 on error. */
/* Reads the jobs with dropped lines again. Returns 0, -1 on failure (then stale stays). */
static int load_drops(hpd_store *st)
{
    sqlite3_stmt *s = st->stmt[ST_DROPS_ALL];
    job_drops *v = NULL;
    size_t n = 0, cap = 0;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            job_drops *grown = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
            if (!grown) {
                rc = SQLITE_NOMEM;
                break;
            }
            v = grown;
        }
        v[n].job_id = sqlite3_column_int64(s, 0);
        v[n++].dropped = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return -1;
    }
    free(st->drops);
    st->drops = v;
    st->n_drops = n;
    st->drops_stale = 0;
    return 0;
}

static int cmp_drops(const void *key, const void *elem)
{
    int64_t a = *(const int64_t *)key, b = ((const job_drops *)elem)->job_id;

    return a < b ? -1 : a > b;
}

int64_t hpd_store_job_dropped(hpd_store *st, int64_t job_id)
{
    const job_drops *d, *lost;

    if (!st || (st->drops_stale && load_drops(st) != 0))
        return -1;
    d = st->n_drops ? bsearch(&job_id, st->drops, st->n_drops, sizeof(*d), cmp_drops) : NULL;
    lost = lost_slot(st, job_id, 0);
    return (d ? d->dropped : 0) + (lost ? lost->dropped : 0);
}

/* Stored lines plus those waiting for the next flush. */
int64_t hpd_store_log_count(hpd_store *st)
{
    return st ? st->log_lines + (int64_t)(st->n_pending - st->head) : 0;
}

/* ---- log queries --------------------------------------------------------------------- */

static cJSON *row_json(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    int64_t job_id = sqlite3_column_int64(s, 3);
    const char *src = (const char *)sqlite3_column_text(s, 2);
    const char *line = (const char *)sqlite3_column_text(s, 5);

    if (!o || !hp_json_add_int(o, "seq", sqlite3_column_int64(s, 0)) ||
        !hp_json_add_int(o, "ts_ms", sqlite3_column_int64(s, 1)) ||
        !cJSON_AddStringToObject(o, "src", src ? src : "") ||
        !(job_id ? hp_json_add_int(o, "job_id", job_id) : cJSON_AddNullToObject(o, "job_id")) ||
        !cJSON_AddStringToObject(o, "stream",
                                 hpd_stream_name((hpd_stream)sqlite3_column_int(s, 4))) ||
        !cJSON_AddStringToObject(o, "line", line ? line : "") ||
        !hp_json_add_int(o, "attempt", sqlite3_column_int(s, 6))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void rows_free(log_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        cJSON_Delete(r->v[i].obj);
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

/* Appends every row the statement gives, then finishes it. */
static int rows_fetch(hpd_store *st, sqlite3_stmt *s, log_rows *r, hp_error *err)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o;

        if (hpd__grow((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v)) != 0 ||
            !(o = row_json(s))) {
            hpd__finish(s);
            return hpd__nomem(err, "cannot read the log");
        }
        r->v[r->n].seq = sqlite3_column_int64(s, 0);
        r->v[r->n++].obj = o;
    }
    if (rc != SQLITE_DONE)
        hpd__db_fail(st, err, "cannot read the log");
    hpd__finish(s);
    return rc == SQLITE_DONE ? 0 : -1;
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

/* Moves the rows into a new array; *next_seq gets the last seq, or after_seq. */
static cJSON *rows_to_array(log_rows *r, int64_t after_seq, int64_t *next_seq, hp_error *err)
{
    cJSON *array = cJSON_CreateArray();
    size_t i;

    if (!array) {
        rows_free(r);
        return hpd__nomem(err, "cannot read the log"), NULL;
    }
    /* Adding a non-NULL item to an array cannot fail. */
    for (i = 0; i < r->n; i++)
        cJSON_AddItemToArray(array, r->v[i].obj);
    if (next_seq)
        *next_seq = r->n ? r->v[r->n - 1].seq : after_seq;
    r->n = 0;
    rows_free(r);
    return array;
}

/* ---- lines not written yet ------------------------------------------------------------ */

/* Lines still in the batch (the store cannot be written, or a backlog drains) are newer
 * than every stored line, so they go after the rows read from the file: a reader sees
 * what the jobs print while the store fails, with the seqs they will be stored under. */

typedef struct pending_match {
    int64_t job_id; /* > 0: that job's lines */
    int attempt;    /* > 0: only that attempt */
    const char *src;
    size_t src_len; /* 0: every source */
} pending_match;

static int pending_matches(const hpd_store *st, const pending_line *p, const pending_match *m)
{
    const char *src = st->text + p->src_off;

    if (m->job_id > 0)
        return p->job_id == m->job_id && (m->attempt <= 0 || p->attempt == m->attempt);
    return m->src_len == 0 || (p->src_len >= m->src_len && memcmp(src, m->src, m->src_len) == 0 &&
                               (p->src_len == m->src_len || src[m->src_len] == '.'));
}

static cJSON *pending_json(const hpd_store *st, const pending_line *p)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !hp_json_add_int(o, "seq", p->seq) || !hp_json_add_int(o, "ts_ms", p->ts_ms) ||
        !cJSON_AddStringToObject(o, "src", st->text + p->src_off) ||
        !(p->job_id ? hp_json_add_int(o, "job_id", p->job_id)
                    : cJSON_AddNullToObject(o, "job_id")) ||
        !cJSON_AddStringToObject(o, "stream", hpd_stream_name(p->stream)) ||
        !cJSON_AddStringToObject(o, "line", st->text + p->line_off) ||
        !hp_json_add_int(o, "attempt", p->attempt)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Adds the batch's matching lines after after_seq to rows (sorted, at most limit): the
 * newest ones when keep_last, else the oldest that still fit. */
static int add_pending(hpd_store *st, log_rows *rows, const pending_match *m, int64_t after_seq,
                       size_t limit, int keep_last, hp_error *err)
{
    size_t first = rows->n, want = keep_last ? limit : limit - (rows->n < limit ? rows->n : limit);
    size_t found = 0, i;

    if (want == 0 || st->head >= st->n_pending)
        return 0;
    /* The matching lines to take: the last `want` when keep_last, else the first. */
    if (keep_last) {
        for (i = st->n_pending; i-- > st->head && found < want;)
            found += st->pending[i].seq > after_seq && pending_matches(st, &st->pending[i], m);
        i++;
    } else {
        i = st->head;
    }
    for (found = 0; i < st->n_pending && found < want; i++) {
        const pending_line *p = &st->pending[i];
        cJSON *o;

        if (p->seq <= after_seq || !pending_matches(st, p, m))
            continue;
        if (hpd__grow((void **)&rows->v, &rows->cap, rows->n + 1, sizeof(*rows->v)) != 0 ||
            !(o = pending_json(st, p)))
            return hpd__nomem(err, "cannot read the log");
        rows->v[rows->n].seq = p->seq;
        rows->v[rows->n++].obj = o;
        found++;
    }
    if (rows->n > first)
        rows_trim(rows, limit, keep_last);
    return 0;
}

cJSON *hpd_store_job_logs(hpd_store *st, int64_t job_id, int64_t after_seq, int limit, int attempt,
                          int64_t *next_seq, hp_error *err)
{
    pending_match m = {.job_id = job_id, .attempt = attempt};
    log_rows rows = {0};
    sqlite3_stmt *s;

    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), NULL;
    hpd_store_log_flush(st, NULL);
    s = st->stmt[ST_JOB_LOGS];
    sqlite3_bind_int64(s, 1, job_id);
    sqlite3_bind_int64(s, 2, after_seq);
    sqlite3_bind_int(s, 3, attempt);
    sqlite3_bind_int(s, 4, limit > 0 ? limit : 0);
    if (rows_fetch(st, s, &rows, err) != 0 ||
        (limit > 0 && job_id > 0 &&
         add_pending(st, &rows, &m, after_seq, (size_t)limit, 0, err) != 0)) {
        rows_free(&rows);
        return NULL;
    }
    return rows_to_array(&rows, after_seq, next_seq, err);
}

/* Up to TAIL_SRCS_MAX + 1 distinct sources under prefix (the exact one excluded), walked
 * through the (src, seq) index one seek each. *srcs gets malloc'd copies. */
static int list_sources(hpd_store *st, const char *lo, const char *hi, char ***srcs, size_t *n,
                        hp_error *err)
{
    char **v = NULL;
    size_t cap = 0;

    *n = 0;
    for (;;) {
        sqlite3_stmt *s = st->stmt[*n ? ST_SRC_NEXT : ST_SRC_FIRST];
        int rc;

        hpd__bind_text(s, 1, *n ? v[*n - 1] : lo);
        hpd__bind_text(s, 2, hi);
        rc = hpd__step_row(st, s, err, "cannot read the log sources");
        if (rc <= 0) {
            *srcs = v;
            return rc;
        }
        if (hpd__grow((void **)&v, &cap, *n + 1, sizeof(*v)) != 0 ||
            !(v[*n] = hpd__dup_column(s, 0))) {
            hpd__finish(s);
            *srcs = v;
            return hpd__nomem(err, "cannot read the log sources");
        }
        hpd__finish(s);
        if (++*n > TAIL_SRCS_MAX) {
            *srcs = v;
            return 0;
        }
    }
}

/* Newest (after_seq 0) or next lines of one source by index, merged into rows. A bound
 * from the rows already kept narrows the query. */
static int tail_source(hpd_store *st, const char *src, int64_t after_seq, int limit, log_rows *rows,
                       hp_error *err)
{
    int full = rows->n >= (size_t)limit;
    sqlite3_stmt *s;

    if (after_seq == 0) {
        s = st->stmt[ST_SRC_LAST];
        hpd__bind_text(s, 1, src);
        sqlite3_bind_int64(s, 2, full ? rows->v[0].seq : 0);
        sqlite3_bind_int(s, 3, limit);
    } else {
        s = st->stmt[ST_SRC_AFTER];
        hpd__bind_text(s, 1, src);
        sqlite3_bind_int64(s, 2, after_seq);
        sqlite3_bind_int64(s, 3, full ? rows->v[rows->n - 1].seq : INT64_MAX);
        sqlite3_bind_int(s, 4, limit);
    }
    if (rows_fetch(st, s, rows, err) != 0)
        return -1;
    rows_trim(rows, (size_t)limit, after_seq == 0);
    return 0;
}

static int tail_scan(hpd_store *st, const char *src, const char *lo, const char *hi,
                     int64_t after_seq, int limit, log_rows *rows, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[after_seq == 0 ? ST_SCAN_LAST : ST_SCAN_AFTER];

    sqlite3_bind_int(s, 1, src ? 0 : 1);
    hpd__bind_text(s, 2, src ? src : "");
    hpd__bind_text(s, 3, lo ? lo : "");
    hpd__bind_text(s, 4, hi ? hi : "");
    if (after_seq == 0) {
        sqlite3_bind_int(s, 5, limit);
    } else {
        sqlite3_bind_int64(s, 5, after_seq);
        sqlite3_bind_int(s, 6, limit);
    }
    if (rows_fetch(st, s, rows, err) != 0)
        return -1;
    rows_trim(rows, (size_t)limit, after_seq == 0);
    return 0;
}

cJSON *hpd_store_tail_logs(hpd_store *st, const char *src, int64_t after_seq, int limit,
                           int64_t *next_seq, hp_error *err)
{
    log_rows rows = {0};
    char *lo = NULL, *hi = NULL, **srcs = NULL;
    size_t n_srcs = 0, len;
    int rc;

    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), NULL;
    hpd_store_log_flush(st, NULL);
    if (limit <= 0)
        return rows_to_array(&rows, after_seq, next_seq, err);
    if (after_seq < 0)
        after_seq = 0;
    if (!src || !*src) {
        rc = tail_scan(st, NULL, NULL, NULL, after_seq, limit, &rows, err);
        goto out;
    }
    /* "run.1" matches itself and "run.1.<anything>": the range ["run.1.", "run.1/"),
     * '/' being the byte after '.'. */
    len = strlen(src);
    lo = malloc(len + 2);
    hi = malloc(len + 2);
    if (!lo || !hi) {
        rc = hpd__nomem(err, "cannot read the log");
        goto out;
    }
    memcpy(lo, src, len);
    memcpy(hi, src, len);
    lo[len] = '.';
    hi[len] = '/';
    lo[len + 1] = hi[len + 1] = '\0';
    rc = list_sources(st, lo, hi, &srcs, &n_srcs, err);
    if (rc == 0 && n_srcs > TAIL_SRCS_MAX) {
        rc = tail_scan(st, src, lo, hi, after_seq, limit, &rows, err);
    } else if (rc == 0) {
        rc = tail_source(st, src, after_seq, limit, &rows, err);
        for (size_t i = 0; rc == 0 && i < n_srcs; i++)
            rc = tail_source(st, srcs[i], after_seq, limit, &rows, err);
    }
out:
    if (rc == 0) {
        pending_match m = {.src = src ? src : "", .src_len = src ? strlen(src) : 0};
        rc = add_pending(st, &rows, &m, after_seq, (size_t)limit, after_seq == 0, err);
    }
    for (size_t i = 0; i < n_srcs; i++)
        free(srcs[i]);
    free(srcs);
    free(lo);
    free(hi);
    if (rc != 0) {
        rows_free(&rows);
        return NULL;
    }
    return rows_to_array(&rows, after_seq, next_seq, err);
}
