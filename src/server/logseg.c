/* SPDX-License-Identifier: Apache-2.0 */
/* The log's files, all in <dir>: a job's segments <job id>.<first seq>.log (a header
 * record naming the job's source and run, then its lines), <job>.<first seq>.idx beside a
 * segment past 64 KiB (a mark every 64 KiB: seq, time, offset), and <job>.meta for a job
 * that lost lines. A record is a 32-byte header (magic, length, seq, time, attempt,
 * stream, source length, a check of the header) and its bytes: one line, or a block of
 * the lines of one read (their count, then each line with its newline, seqs following
 * the header's). Host byte order, the file never leaves the host. One file created per
 * job: a one-shot job costs one create. */
#include "config.h"

#include "server/logseg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_MAGIC   0x4C504824u /* "$HPL" */
#define BLK_MAGIC   0x42504824u /* "$HPB": a block of lines */
#define HDR         32
#define STREAM_META 255 /* a segment's first record: the job's source and run */
#define MARK_EVERY  (64 * 1024)
#define WINDOW      (256 * 1024)
#define MAX_OPEN    64 /* jobs whose segment files stay open between writes */
#define SEG_MIN     4096
#define SEG_MAX     (16 * 1024 * 1024)

#define DEFAULT_PER_JOB (256LL << 20)
#define DEFAULT_TOTAL   (4LL << 30)
#define DEFAULT_BUFFER  (16LL << 20)

typedef struct seg_mark {
    int64_t seq, ts_ms, off, before; /* the record at off; records before it in the segment */
} seg_mark;

typedef struct segment {
    int64_t first_seq, last_seq, last_ts;
    int64_t size, count;
    int64_t since_mark; /* bytes written since the last mark */
    seg_mark *marks;
    size_t n_marks, cap_marks;
    size_t marks_saved; /* marks in the .idx file */
} segment;

typedef struct joblog {
    int64_t job_id, run_id;
    char *src;
    segment *segs;
    size_t n_segs, cap_segs;
    int64_t disk_bytes, disk_lines, dropped, dropped_upto;
    char *buf; /* records not yet written */
    size_t buf_len, buf_cap;
    int64_t buf_lines, buf_last_seq;
    int fd;         /* the last segment, -1 when closed */
    int dirty;      /* in the store's dirty list */
    int meta_dirty; /* the meta file is to be written */
    int hdr_stale;  /* the run was named after the first segment's header record */
    int idle;       /* close the files once the buffer is written */
    uint64_t used;
} joblog;

struct hpd_logseg {
    char *dir;
    hpd_logseg_limits lim;
    int64_t seg_max;
    joblog **jobs; /* by job id */
    size_t n_jobs, cap_jobs;
    joblog *last;   /* the job appended to last */
    joblog **dirty; /* jobs with lines or a meta to write */
    size_t n_dirty, cap_dirty;
    int64_t disk_bytes, disk_lines, dropped, last_seq;
    size_t buffered;
    int64_t waiting;
    int n_open;
    uint64_t tick;
    int failing;
    char error[160];
};

/* ---- records ---------------------------------------------------------------------- */

/* A check of the header's first 30 bytes, folded with xor (it runs for every line
 * written): with the magic, enough to tell a header from zeros or the middle of a line. */
static uint16_t hdr_check(const unsigned char *h)
{
    uint64_t a, b, c, x;
    uint32_t d;
    uint16_t e;

    memcpy(&a, h, 8);
    memcpy(&b, h + 8, 8);
    memcpy(&c, h + 16, 8);
    memcpy(&d, h + 24, 4);
    memcpy(&e, h + 28, 2);
    x = a ^ (b << 7 | b >> 57) ^ (c << 23 | c >> 41) ^ ((uint64_t)d << 16 | e) ^ 0x5A5Au;
    x ^= x >> 32;
    return (uint16_t)(x ^ (x >> 16));
}

static void put_hdr(unsigned char *h, uint32_t magic, const hpd_logrec *r)
{
    uint32_t len = (uint32_t)(r->src_len + r->len), attempt = (uint32_t)r->attempt;
    uint16_t check;

    memcpy(h, &magic, 4);
    memcpy(h + 4, &len, 4);
    memcpy(h + 8, &r->seq, 8);
    memcpy(h + 16, &r->ts_ms, 8);
    memcpy(h + 24, &attempt, 4);
    h[28] = (unsigned char)r->stream;
    h[29] = (unsigned char)r->src_len;
    check = hdr_check(h);
    memcpy(h + 30, &check, 2);
}

/* 1 and *r, *total, *blk set when a whole valid record starts at p; 0 when it is cut
 * short by avail; -1 when the bytes are no record. *blk is 0 for a record of one line,
 * else the lines of a block: r->line then holds them, each with its newline. */
static int parse_rec(const unsigned char *p, size_t avail, hpd_logrec *r, size_t *total,
                     uint32_t *blk)
{
    uint32_t magic, len, attempt;
    uint16_t check;

    if (avail < HDR)
        return 0;
    memcpy(&magic, p, 4);
    memcpy(&check, p + 30, 2);
    if ((magic != REC_MAGIC && magic != BLK_MAGIC) || check != hdr_check(p))
        return -1;
    memcpy(&len, p + 4, 4);
    if (len < p[29] || (magic == BLK_MAGIC && (len < 4 || p[29] != 0)))
        return -1;
    if (avail < (size_t)HDR + len)
        return 0;
    *blk = 0;
    if (magic == BLK_MAGIC) {
        memcpy(blk, p + HDR, 4);
        if (*blk == 0)
            return -1;
    }
    memcpy(&r->seq, p + 8, 8);
    memcpy(&r->ts_ms, p + 16, 8);
    memcpy(&attempt, p + 24, 4);
    r->attempt = (int)attempt;
    r->stream = p[28];
    r->src_len = p[29];
    r->src = (const char *)p + HDR;
    r->line = (const char *)p + HDR + r->src_len + (*blk ? 4 : 0);
    r->len = len - r->src_len - (*blk ? 4 : 0);
    *total = HDR + (size_t)len;
    return 1;
}

/* The lines a record holds. */
static int64_t rec_lines(uint32_t blk)
{
    return blk ? (int64_t)blk : 1;
}

/* The seq, time, length and lines of a record this process wrote into a buffer
 * (trusted: no check). */
static void hop_rec(const unsigned char *p, hpd_logrec *r, size_t *total, int64_t *lines)
{
    uint32_t len, magic, n = 1;

    memcpy(&magic, p, 4);
    memcpy(&len, p + 4, 4);
    memcpy(&r->seq, p + 8, 8);
    memcpy(&r->ts_ms, p + 16, 8);
    if (magic == BLK_MAGIC)
        memcpy(&n, p + HDR, 4);
    *total = HDR + (size_t)len;
    *lines = n;
}

/* ---- helpers ---------------------------------------------------------------------- */

static int fail_errno(hpd_logseg *lg, hp_error *err, const char *what, const char *path)
{
    int e = errno;

    if (lg) {
        lg->failing = 1;
        snprintf(lg->error, sizeof(lg->error), "%s", strerror(e));
    }
    hp_error_set(err, e == ENOMEM ? HP_E_NOMEM : HP_E_SYSTEM, "logs: %s %s: %s", what,
                 path ? path : "", strerror(e));
    return -1;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 8;
    void *p;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    if (!(p = realloc(*buf, n * elem)))
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

static void meta_path(const hpd_logseg *lg, const joblog *j, const char *ext, char *buf,
                      size_t size)
{
    snprintf(buf, size, "%s/%" PRId64 ".%s", lg->dir, j->job_id, ext);
}

static void seg_path(const hpd_logseg *lg, const joblog *j, int64_t first, const char *ext,
                     char *buf, size_t size)
{
    snprintf(buf, size, "%s/%" PRId64 ".%020" PRId64 ".%s", lg->dir, j->job_id, first, ext);
}

static ssize_t write_all(int fd, const void *p, size_t n)
{
    size_t done = 0;

    while (done < n) {
        ssize_t w = write(fd, (const char *)p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static ssize_t pread_all(int fd, void *p, size_t n, off_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r = pread(fd, (char *)p + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

/* ---- jobs ------------------------------------------------------------------------- */

static size_t job_slot(const hpd_logseg *lg, int64_t job_id)
{
    size_t lo = 0, hi = lg->n_jobs;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (lg->jobs[mid]->job_id < job_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static joblog *job_find(const hpd_logseg *lg, int64_t job_id)
{
    size_t i;

    if (lg->last && lg->last->job_id == job_id)
        return lg->last;
    i = job_slot(lg, job_id);
    return i < lg->n_jobs && lg->jobs[i]->job_id == job_id ? lg->jobs[i] : NULL;
}

/* Puts j on the list the next flush walks (only those, not every job). */
static void mark_dirty(hpd_logseg *lg, joblog *j)
{
    if (j->dirty ||
        grow((void **)&lg->dirty, &lg->cap_dirty, lg->n_dirty + 1, sizeof(*lg->dirty)) != 0)
        return;
    lg->dirty[lg->n_dirty++] = j;
    j->dirty = 1;
}

static joblog *job_add(hpd_logseg *lg, int64_t job_id)
{
    size_t i = job_slot(lg, job_id);
    joblog *j;

    if (i < lg->n_jobs && lg->jobs[i]->job_id == job_id)
        return lg->jobs[i];
    if (grow((void **)&lg->jobs, &lg->cap_jobs, lg->n_jobs + 1, sizeof(*lg->jobs)) != 0 ||
        !(j = calloc(1, sizeof(*j))))
        return NULL;
    j->job_id = job_id;
    j->fd = -1;
    memmove(&lg->jobs[i + 1], &lg->jobs[i], (lg->n_jobs - i) * sizeof(*lg->jobs));
    lg->jobs[i] = j;
    lg->n_jobs++;
    return j;
}

static void job_close_files(hpd_logseg *lg, joblog *j)
{
    if (j->fd >= 0) {
        close(j->fd);
        lg->n_open--;
    }
    j->fd = -1;
}

static void job_free(joblog *j)
{
    for (size_t i = 0; i < j->n_segs; i++)
        free(j->segs[i].marks);
    free(j->segs);
    free(j->src);
    free(j->buf);
    free(j);
}

/* <job>.meta: "run N", "dropped N", "dropped_upto N", "src S", one per line, written
 * whole and renamed. Only a job that lost lines, or whose run was named after its first
 * segment, has one: the rest is in each segment's first record. */
static int write_meta(hpd_logseg *lg, joblog *j)
{
    char path[4200], tmp[4200];
    FILE *f;
    int ok;

    meta_path(lg, j, "meta", path, sizeof(path));
    meta_path(lg, j, "meta.tmp", tmp, sizeof(tmp));
    if (!(f = fopen(tmp, "we")))
        return -1;
    fprintf(f, "run %" PRId64 "\ndropped %" PRId64 "\ndropped_upto %" PRId64 "\n", j->run_id,
            j->dropped, j->dropped_upto);
    if (j->src)
        fprintf(f, "src %s\n", j->src);
    ok = fflush(f) == 0 && !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    j->meta_dirty = 0;
    return 0;
}

/* ---- writing ---------------------------------------------------------------------- */

/* The job lines are appended to, made when new; NULL when memory is short. */
static joblog *append_job(hpd_logseg *lg, int64_t job_id, int64_t run_id, const char *src,
                          size_t src_len)
{
    joblog *j = job_find(lg, job_id);

    if (!j && !(j = job_add(lg, job_id)))
        return NULL;
    lg->last = j;
    j->idle = 0;
    if (run_id && !j->run_id)
        j->run_id = run_id;
    if (job_id != 0 && !j->src && src)
        j->src = strndup(src, src_len);
    return j;
}

/* need more bytes do not fit the buffers: the lines are counted as dropped. */
static int no_room(hpd_logseg *lg, joblog *j, size_t need, int64_t lines)
{
    if (lg->buffered + need <= (size_t)lg->lim.buffer_bytes &&
        grow((void **)&j->buf, &j->buf_cap, j->buf_len + need, 1) == 0)
        return 0;
    j->dropped += lines;
    j->meta_dirty = 1;
    mark_dirty(lg, j);
    lg->dropped += lines;
    return 1;
}

/* The record of need bytes just put in j's buffer, its last line seq. */
static void appended(hpd_logseg *lg, joblog *j, size_t need, int64_t lines, int64_t last_seq)
{
    j->buf_len += need;
    j->buf_lines += lines;
    j->buf_last_seq = last_seq;
    mark_dirty(lg, j);
    lg->buffered += need;
    lg->waiting += lines;
    if (last_seq > lg->last_seq)
        lg->last_seq = last_seq;
}

static int append_block(hpd_logseg *lg, joblog *j, int64_t first_seq, int64_t ts_ms, int attempt,
                        int stream, const char *lines, size_t len, uint32_t count)
{
    hpd_logrec r;
    size_t need = HDR + 4 + len;
    unsigned char *h;

    if (no_room(lg, j, need, count))
        return -1;
    r = (hpd_logrec){
        .seq = first_seq, .ts_ms = ts_ms, .attempt = attempt, .stream = stream, .len = 4 + len};
    h = (unsigned char *)j->buf + j->buf_len;
    put_hdr(h, BLK_MAGIC, &r);
    memcpy(h + HDR, &count, 4);
    memcpy(h + HDR + 4, lines, len);
    appended(lg, j, need, count, first_seq + count - 1);
    return 0;
}

int64_t hpd_logseg_append_block(hpd_logseg *lg, int64_t job_id, int64_t run_id, const char *src,
                                size_t src_len, int64_t first_seq, int64_t ts_ms, int attempt,
                                int stream, const char *lines, size_t len, uint32_t count)
{
    /* Retention drops whole segments, and a segment holds whole records: a block stays a
     * small part of a segment, so a small bound per job is kept closely. */
    size_t max = (size_t)lg->seg_max / 8;
    joblog *j;

    if (count == 0)
        return 0;
    if (job_id == 0 || len > UINT32_MAX - 4)
        return count; /* job 0's lines carry their source: one record each */
    if (!(j = append_job(lg, job_id, run_id, src, src_len)))
        return count;
    while (len > max && count > 1) {
        const char *nl = memrchr(lines, '\n', max);
        size_t piece;
        uint32_t n = 0;

        if (!nl) /* the first line alone is longer */
            nl = memchr(lines + max, '\n', len - max);
        piece = nl ? (size_t)(nl + 1 - lines) : len;
        if (piece >= len)
            break;
        for (const char *p = lines; (p = memchr(p, '\n', (size_t)(lines + piece - p))); p++)
            n++;
        if (append_block(lg, j, first_seq, ts_ms, attempt, stream, lines, piece, n) != 0) {
            /* the rest is dropped too, so what is kept has no hole */
            hpd_logseg_lose(lg, job_id, count - n);
            return count; /* what was left */
        }
        lines += piece;
        len -= piece;
        count -= n;
        first_seq += n;
    }
    if (append_block(lg, j, first_seq, ts_ms, attempt, stream, lines, len, count) != 0)
        return count;
    return 0;
}

int hpd_logseg_append(hpd_logseg *lg, int64_t job_id, int64_t run_id, const char *src,
                      size_t src_len, int64_t seq, int64_t ts_ms, int attempt, int stream,
                      const char *line, size_t len)
{
    joblog *j = append_job(lg, job_id, run_id, src, src_len);
    hpd_logrec r;
    size_t need;

    if (!j)
        return -1;
    if (job_id != 0 || !src)
        src_len = 0;
    if (src_len > 255)
        src_len = 255;
    need = HDR + src_len + len;
    if (no_room(lg, j, need, 1))
        return -1;
    r = (hpd_logrec){.seq = seq,
                     .ts_ms = ts_ms,
                     .attempt = attempt,
                     .stream = stream,
                     .src_len = src_len,
                     .len = len};
    put_hdr((unsigned char *)j->buf + j->buf_len, REC_MAGIC, &r);
    if (src_len)
        memcpy(j->buf + j->buf_len + HDR, src, src_len);
    if (len)
        memcpy(j->buf + j->buf_len + HDR + src_len, line, len);
    appended(lg, j, need, 1, seq);
    return 0;
}

void hpd_logseg_set_run(hpd_logseg *lg, int64_t job_id, int64_t run_id)
{
    joblog *j = lg ? job_find(lg, job_id) : NULL;

    if (!lg || (!j && !(j = job_add(lg, job_id))) || j->run_id == run_id)
        return;
    j->run_id = run_id;
    if (j->n_segs) {
        /* its segments' header records name another run */
        j->hdr_stale = j->meta_dirty = 1;
        mark_dirty(lg, j);
    }
}

void hpd_logseg_idle(hpd_logseg *lg, int64_t job_id)
{
    joblog *j = lg ? job_find(lg, job_id) : NULL;

    if (!j)
        return;
    j->idle = 1;
    if (j->buf_len == 0)
        job_close_files(lg, j);
}

void hpd_logseg_lose(hpd_logseg *lg, int64_t job_id, int64_t lines)
{
    joblog *j = job_find(lg, job_id);

    if (!j && !(j = job_add(lg, job_id)))
        return;
    j->dropped += lines;
    j->meta_dirty = 1;
    mark_dirty(lg, j);
    lg->dropped += lines;
}

static int open_last(hpd_logseg *lg, joblog *j, int create, hp_error *err)
{
    segment *s = &j->segs[j->n_segs - 1];
    char path[4200];
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0);

    seg_path(lg, j, s->first_seq, "log", path, sizeof(path));
    if ((j->fd = open(path, flags, 0600)) < 0)
        return fail_errno(lg, err, "cannot open", path);
    lg->n_open++;
    return 0; /* the index opens when it has a mark to keep (write_marks) */
}

/* The marks the index file lacks. The first mark is not worth a file of its own (a load
 * finds it by reading from the start), so a small segment has no index. */
static void write_marks(hpd_logseg *lg, joblog *j, segment *s)
{
    size_t bytes;
    char path[4200];
    int fd;

    if (s->n_marks < 2 || s->n_marks == s->marks_saved)
        return;
    /* Opened for each flush that has marks (one in 64 KiB of lines): no fd stays open for
     * an index. */
    seg_path(lg, j, s->first_seq, "idx", path, sizeof(path));
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return;
    bytes = (s->n_marks - s->marks_saved) * sizeof(*s->marks);
    if (write_all(fd, s->marks + s->marks_saved, bytes) == (ssize_t)bytes)
        s->marks_saved = s->n_marks;
    else if (ftruncate(fd, (off_t)(s->marks_saved * sizeof(*s->marks))) != 0) {
        /* a mark too few only makes the next load read further */
    }
    close(fd);
}

/* The record a segment starts with: the job's source and run (seq 0, stream META, the
 * run id in ts_ms), so a job needs no file but its segments. */
static int write_header(hpd_logseg *lg, joblog *j, segment *s, hp_error *err)
{
    unsigned char rec[HDR + 255];
    size_t src_len = j->src ? strlen(j->src) : 0;
    hpd_logrec r;

    if (src_len > 255)
        src_len = 255;
    r = (hpd_logrec){.seq = 0, .ts_ms = j->run_id, .stream = STREAM_META, .src_len = src_len};
    put_hdr(rec, REC_MAGIC, &r);
    if (src_len) /* job 0 has none (and memcpy of NULL is undefined, even of 0 bytes) */
        memcpy(rec + HDR, j->src, src_len);
    if (write_all(j->fd, rec, HDR + src_len) != (ssize_t)(HDR + src_len)) {
        char path[4200];
        seg_path(lg, j, s->first_seq, "log", path, sizeof(path));
        return fail_errno(lg, err, "cannot write", path);
    }
    s->size = (int64_t)(HDR + src_len);
    j->disk_bytes += s->size;
    lg->disk_bytes += s->size;
    return 0;
}

static int new_segment(hpd_logseg *lg, joblog *j, int64_t first_seq, hp_error *err)
{
    segment *s;

    if (grow((void **)&j->segs, &j->cap_segs, j->n_segs + 1, sizeof(*j->segs)) != 0) {
        errno = ENOMEM;
        return fail_errno(lg, err, "cannot add a segment to", "a job");
    }
    job_close_files(lg, j);
    s = &j->segs[j->n_segs++];
    memset(s, 0, sizeof(*s));
    s->first_seq = first_seq;
    if (open_last(lg, j, 1, err) != 0 || write_header(lg, j, s, err) != 0) {
        char path[4200];
        job_close_files(lg, j);
        seg_path(lg, j, first_seq, "log", path, sizeof(path));
        unlink(path);
        j->n_segs--;
        return -1;
    }
    return 0;
}

/* Writes the buffer in pieces, each within one segment: the records that fit, marks for
 * the index, then one write. A piece the file does not take whole is cut off again, so
 * the file always ends at a record. */
static int write_job(hpd_logseg *lg, joblog *j, hp_error *err)
{
    size_t off = 0;
    int rc = 0;

    while (off < j->buf_len) {
        segment *s = j->n_segs ? &j->segs[j->n_segs - 1] : NULL;
        size_t p = off, n_marks0;
        int64_t k = 0, since, last_seq = 0, last_ts = 0;
        ssize_t w = 0;

        if (!s || s->size >= lg->seg_max) {
            int64_t first;
            memcpy(&first, j->buf + off + 8, 8);
            if (new_segment(lg, j, first, err) != 0) {
                rc = -1;
                break;
            }
            s = &j->segs[j->n_segs - 1];
        } else if (j->fd < 0 && open_last(lg, j, 0, err) != 0) {
            rc = -1;
            break;
        }
        n_marks0 = s->n_marks;
        since = s->since_mark;
        do {
            hpd_logrec r;
            size_t total;
            int64_t lines;

            hop_rec((const unsigned char *)j->buf + p, &r, &total, &lines);
            if (s->count + k == 0 || since >= MARK_EVERY) {
                if (grow((void **)&s->marks, &s->cap_marks, s->n_marks + 1, sizeof(*s->marks)) !=
                    0) {
                    errno = ENOMEM;
                    break;
                }
                s->marks[s->n_marks++] =
                    (seg_mark){r.seq, r.ts_ms, s->size + (int64_t)(p - off), s->count + k};
                since = 0;
            }
            since += (int64_t)total;
            last_seq = r.seq + lines - 1;
            last_ts = r.ts_ms;
            p += total;
            k += lines;
        } while (p < j->buf_len && s->size + (int64_t)(p - off) < lg->seg_max);
        if (k == 0 || (w = write_all(j->fd, j->buf + off, p - off)) != (ssize_t)(p - off)) {
            char path[4200];
            int e = errno;

            if (k > 0 && w > 0 && ftruncate(j->fd, s->size) != 0) {
                /* the next load cuts what is left of the piece */
            }
            s->n_marks = n_marks0;
            errno = e ? e : EIO;
            seg_path(lg, j, s->first_seq, "log", path, sizeof(path));
            fail_errno(lg, err, "cannot write", path);
            rc = -1;
            break;
        }
        write_marks(lg, j, s);
        s->size += (int64_t)(p - off);
        s->count += k;
        s->since_mark = since;
        s->last_seq = last_seq;
        s->last_ts = last_ts;
        j->disk_bytes += (int64_t)(p - off);
        j->disk_lines += k;
        j->buf_lines -= k;
        lg->disk_bytes += (int64_t)(p - off);
        lg->disk_lines += k;
        lg->waiting -= k;
        lg->buffered -= p - off;
        off = p;
    }
    memmove(j->buf, j->buf + off, j->buf_len - off);
    j->buf_len -= off;
    if (j->buf_len == 0 && j->buf_cap > (1u << 20)) {
        free(j->buf);
        j->buf = NULL;
        j->buf_cap = 0;
    }
    j->used = ++lg->tick;
    /* Lines without a job are rare (the daemon's own, logs.insert): no file stays open
     * for them; nor for a job that is done. */
    if (rc == 0 && (j->idle || j->job_id == 0))
        job_close_files(lg, j);
    return rc;
}

static void unlink_segment(hpd_logseg *lg, joblog *j, const segment *s)
{
    char path[4200];

    seg_path(lg, j, s->first_seq, "log", path, sizeof(path));
    unlink(path);
    seg_path(lg, j, s->first_seq, "idx", path, sizeof(path));
    unlink(path);
}

/* Drops a job's oldest segment, counting its lines as dropped. */
static void evict_oldest(hpd_logseg *lg, joblog *j)
{
    segment *s = &j->segs[0];

    if (j->n_segs == 1)
        job_close_files(lg, j);
    unlink_segment(lg, j, s);
    j->dropped += s->count;
    if (s->last_seq > j->dropped_upto)
        j->dropped_upto = s->last_seq;
    j->disk_lines -= s->count;
    j->disk_bytes -= s->size;
    j->meta_dirty = 1;
    mark_dirty(lg, j);
    lg->dropped += s->count;
    lg->disk_lines -= s->count;
    lg->disk_bytes -= s->size;
    free(s->marks);
    memmove(&j->segs[0], &j->segs[1], (j->n_segs - 1) * sizeof(*j->segs));
    j->n_segs--;
}

/* The bound over all jobs: the oldest segment of any job goes first. */
static void apply_retention(hpd_logseg *lg)
{
    while (lg->disk_bytes > lg->lim.bytes) {
        joblog *oldest = NULL;

        for (size_t i = 0; i < lg->n_jobs; i++) {
            joblog *j = lg->jobs[i];
            if (j->n_segs && (!oldest || j->segs[0].first_seq < oldest->segs[0].first_seq))
                oldest = j;
        }
        if (!oldest)
            break;
        evict_oldest(lg, oldest);
    }
}

static int cmp_used(const void *a, const void *b)
{
    const joblog *x = *(joblog *const *)a, *y = *(joblog *const *)b;

    return (x->used > y->used) - (x->used < y->used);
}

/* Keeps at most MAX_OPEN jobs' files open: the least recently written close. */
static void close_idle(hpd_logseg *lg)
{
    joblog **open;
    size_t n = 0;

    if (lg->n_open <= MAX_OPEN || !(open = malloc((size_t)lg->n_open * sizeof(*open))))
        return;
    for (size_t i = 0; i < lg->n_jobs && n < (size_t)lg->n_open; i++)
        if (lg->jobs[i]->fd >= 0)
            open[n++] = lg->jobs[i];
    qsort(open, n, sizeof(*open), cmp_used);
    for (size_t i = 0; i + MAX_OPEN / 2 < n; i++)
        job_close_files(lg, open[i]);
    free(open);
}

int hpd_logseg_flush(hpd_logseg *lg, hp_error *err)
{
    size_t keep = 0;
    int rc = 0;

    if (!lg)
        return 0;
    for (size_t i = 0; i < lg->n_dirty; i++) {
        joblog *j = lg->dirty[i];
        if (rc == 0 && j->buf_len && write_job(lg, j, err) != 0)
            rc = -1;
        while (j->n_segs > 1 && j->disk_bytes > lg->lim.bytes_per_job)
            evict_oldest(lg, j);
    }
    apply_retention(lg);
    /* Evictions above may have added jobs to the list: it is walked to its end. */
    for (size_t i = 0; i < lg->n_dirty; i++) {
        joblog *j = lg->dirty[i];
        if (j->meta_dirty && j->dropped == 0 && !j->hdr_stale)
            j->meta_dirty = 0; /* nothing the segments do not say */
        else if (j->meta_dirty)
            write_meta(lg, j); /* clears it; tried again at the next flush when it fails */
        if (j->buf_len || j->meta_dirty)
            lg->dirty[keep++] = j; /* still to do: kept for the next flush */
        else
            j->dirty = 0;
    }
    lg->n_dirty = keep;
    close_idle(lg);
    if (rc == 0)
        lg->failing = 0;
    return rc;
}

size_t hpd_logseg_buffered(const hpd_logseg *lg)
{
    return lg ? lg->buffered : 0;
}

int64_t hpd_logseg_waiting(const hpd_logseg *lg)
{
    return lg ? lg->waiting : 0;
}

const char *hpd_logseg_failing(const hpd_logseg *lg)
{
    return lg && lg->failing ? lg->error : NULL;
}

/* ---- deleting --------------------------------------------------------------------- */

static void job_remove_at(hpd_logseg *lg, size_t i)
{
    joblog *j = lg->jobs[i];
    char path[4200];

    job_close_files(lg, j);
    for (size_t k = 0; k < j->n_segs; k++)
        unlink_segment(lg, j, &j->segs[k]);
    meta_path(lg, j, "meta", path, sizeof(path));
    unlink(path);
    lg->disk_bytes -= j->disk_bytes;
    lg->disk_lines -= j->disk_lines;
    lg->buffered -= j->buf_len;
    lg->waiting -= j->buf_lines;
    if (lg->last == j)
        lg->last = NULL;
    for (size_t k = 0; j->dirty && k < lg->n_dirty; k++)
        if (lg->dirty[k] == j) {
            memmove(&lg->dirty[k], &lg->dirty[k + 1], (lg->n_dirty - k - 1) * sizeof(*lg->dirty));
            lg->n_dirty--;
            break;
        }
    job_free(j);
    memmove(&lg->jobs[i], &lg->jobs[i + 1], (lg->n_jobs - i - 1) * sizeof(*lg->jobs));
    lg->n_jobs--;
}

int hpd_logseg_delete_job(hpd_logseg *lg, int64_t job_id)
{
    size_t i = job_slot(lg, job_id);

    if (i < lg->n_jobs && lg->jobs[i]->job_id == job_id)
        job_remove_at(lg, i);
    return 0;
}

int hpd_logseg_delete_run(hpd_logseg *lg, int64_t run_id)
{
    if (!lg || run_id == 0)
        return 0;
    for (size_t i = lg->n_jobs; i-- > 0;)
        if (lg->jobs[i]->run_id == run_id)
            job_remove_at(lg, i);
    return 0;
}

/* ---- loading ---------------------------------------------------------------------- */

static int cmp_seg(const void *a, const void *b)
{
    int64_t x = ((const segment *)a)->first_seq, y = ((const segment *)b)->first_seq;

    return (x > y) - (x < y);
}

static void read_meta(hpd_logseg *lg, joblog *j)
{
    char path[4200], line[1024];
    FILE *f;

    meta_path(lg, j, "meta", path, sizeof(path));
    if (!(f = fopen(path, "re")))
        return;
    while (fgets(line, sizeof(line), f)) {
        size_t n = strcspn(line, "\n");
        line[n] = '\0';
        if (strncmp(line, "run ", 4) == 0)
            j->run_id = strtoll(line + 4, NULL, 10);
        else if (strncmp(line, "dropped_upto ", 13) == 0)
            j->dropped_upto = strtoll(line + 13, NULL, 10);
        else if (strncmp(line, "dropped ", 8) == 0)
            j->dropped = strtoll(line + 8, NULL, 10);
        else if (strncmp(line, "src ", 4) == 0) {
            free(j->src);
            j->src = strdup(line + 4);
        }
    }
    fclose(f);
}

/* The index as saved, kept only while it is consistent with the file. */
static void read_marks(hpd_logseg *lg, joblog *j, segment *s)
{
    char path[4200];
    struct stat sb;
    int fd;

    seg_path(lg, j, s->first_seq, "idx", path, sizeof(path));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return;
    if (fstat(fd, &sb) == 0 && sb.st_size >= (off_t)sizeof(seg_mark)) {
        size_t n = (size_t)sb.st_size / sizeof(seg_mark), ok = 0;

        if ((s->marks = malloc(n * sizeof(*s->marks))) &&
            pread_all(fd, s->marks, n * sizeof(*s->marks), 0) == (ssize_t)(n * sizeof(*s->marks))) {
            while (ok < n && s->marks[ok].off < s->size &&
                   (ok == 0 ? s->marks[0].before == 0
                            : s->marks[ok].off > s->marks[ok - 1].off &&
                                  s->marks[ok].seq > s->marks[ok - 1].seq &&
                                  s->marks[ok].before > s->marks[ok - 1].before))
                ok++;
            s->cap_marks = n;
            s->n_marks = ok;
        } else {
            free(s->marks);
            s->marks = NULL;
        }
    }
    /* an index file exists: load_segment makes it hold exactly the marks kept */
    s->marks_saved = 1;
    close(fd);
}

/* Reads a segment from its last mark to its end: counts, last seq, marks the index
 * lacks; a record cut short or broken ends the file there (the rest is cut off). */
static int scan_tail(hpd_logseg *lg, joblog *j, segment *s, int fd, hp_error *err)
{
    unsigned char *win = malloc(WINDOW);
    int64_t off = s->n_marks ? s->marks[s->n_marks - 1].off : 0;
    int64_t count = s->n_marks ? s->marks[s->n_marks - 1].before : 0, since = 0;
    int rc = 0;

    if (!win)
        return errno = ENOMEM, fail_errno(lg, err, "cannot read", "");
    if (s->n_marks) {
        /* An index that does not point at a record is not trusted: read it all. */
        unsigned char h[HDR];
        hpd_logrec rec;
        size_t total;
        uint32_t blk;
        const seg_mark *m = &s->marks[s->n_marks - 1];
        if (pread_all(fd, h, HDR, m->off) != HDR || parse_rec(h, HDR, &rec, &total, &blk) < 0 ||
            memcmp(h + 8, &m->seq, 8) != 0) {
            s->n_marks = 0;
            off = count = 0;
        }
    }
    for (;;) {
        ssize_t got = pread_all(fd, win, WINDOW, off);
        size_t at = 0;
        int r = 0;

        if (got < 0) {
            rc = fail_errno(lg, err, "cannot read a segment of job", "");
            break;
        }
        while (at < (size_t)got) {
            hpd_logrec rec;
            size_t total;
            uint32_t blk;

            if ((r = parse_rec(win + at, (size_t)got - at, &rec, &total, &blk)) != 1)
                break;
            if (rec.stream == STREAM_META) {
                at += total; /* the header record, read by load_segment */
                continue;
            }
            if (count == 0 || since >= MARK_EVERY ||
                (s->n_marks && s->marks[s->n_marks - 1].off == off + (int64_t)at)) {
                if (!(s->n_marks && s->marks[s->n_marks - 1].off == off + (int64_t)at)) {
                    if (grow((void **)&s->marks, &s->cap_marks, s->n_marks + 1,
                             sizeof(*s->marks)) != 0)
                        break;
                    s->marks[s->n_marks++] =
                        (seg_mark){rec.seq, rec.ts_ms, off + (int64_t)at, count};
                }
                since = 0;
            }
            since += (int64_t)total;
            s->last_seq = rec.seq + rec_lines(blk) - 1;
            s->last_ts = rec.ts_ms;
            count += rec_lines(blk);
            at += total;
        }
        off += (int64_t)at;
        if (r < 0 || got < WINDOW || at == 0)
            break; /* the end, a broken record, or one larger than any written */
        /* the window ended inside a record, or at one's end: read on from there */
    }
    free(win);
    if (off < s->size) {
        /* A record cut short (the daemon was killed during a write) or broken. */
        if (ftruncate(fd, off) != 0 && rc == 0)
            rc = fail_errno(lg, err, "cannot cut the torn end of a segment of job", "");
        s->size = off;
    }
    s->count = count;
    s->since_mark = since;
    return rc;
}

static int load_segment(hpd_logseg *lg, joblog *j, segment *s, hp_error *err)
{
    char path[4200];
    struct stat sb;
    int fd, rc;

    seg_path(lg, j, s->first_seq, "log", path, sizeof(path));
    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        return fail_errno(lg, err, "cannot open", path);
    }
    s->size = sb.st_size;
    {
        /* The header record: the job's source and run (the meta file may say otherwise). */
        unsigned char h[HDR + 255];
        ssize_t got = pread_all(fd, h, sizeof(h), 0);
        hpd_logrec rec;
        size_t total;
        uint32_t blk;

        if (got > 0 && parse_rec(h, (size_t)got, &rec, &total, &blk) == 1 &&
            rec.stream == STREAM_META) {
            if (!j->run_id)
                j->run_id = rec.ts_ms;
            if (!j->src && j->job_id != 0 && rec.src_len)
                j->src = strndup(rec.src, rec.src_len);
        }
    }
    read_marks(lg, j, s);
    rc = scan_tail(lg, j, s, fd, err);
    close(fd);
    if (rc == 0 && (s->n_marks >= 2 || s->marks_saved)) {
        /* The index file is made to hold exactly the marks kept, so appends line up. */
        seg_path(lg, j, s->first_seq, "idx", path, sizeof(path));
        if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
            if (ftruncate(fd, (off_t)(s->n_marks * sizeof(*s->marks))) == 0 &&
                pwrite(fd, s->marks, s->n_marks * sizeof(*s->marks), 0) ==
                    (ssize_t)(s->n_marks * sizeof(*s->marks)))
                s->marks_saved = s->n_marks;
            close(fd);
        }
    }
    return rc;
}

/* Every segment of a job is known (hpd_logseg_open lists them): reads them in order,
 * dropping empty ones, then the meta file. */
static int load_job(hpd_logseg *lg, joblog *j, hp_error *err)
{
    qsort(j->segs, j->n_segs, sizeof(*j->segs), cmp_seg);
    for (size_t i = 0; i < j->n_segs; i++) {
        segment *s = &j->segs[i];
        if (load_segment(lg, j, s, err) != 0)
            return -1;
        if (s->count == 0) {
            unlink_segment(lg, j, s);
            free(s->marks);
            memmove(s, s + 1, (j->n_segs - i - 1) * sizeof(*s));
            j->n_segs--;
            i--;
            continue;
        }
        j->disk_bytes += s->size;
        j->disk_lines += s->count;
        if (s->last_seq > lg->last_seq)
            lg->last_seq = s->last_seq;
    }
    read_meta(lg, j);
    lg->disk_bytes += j->disk_bytes;
    lg->disk_lines += j->disk_lines;
    lg->dropped += j->dropped;
    return 0;
}

/* "<job>.<first seq>.log" (a segment) or "<job>.meta": the job's entry, created. */
static int list_file(hpd_logseg *lg, const char *name, hp_error *err)
{
    char *end;
    long long job = strtoll(name, &end, 10), first;
    joblog *j;

    if (end == name || *end != '.' || job < 0)
        return 0;
    if (strcmp(end, ".meta") == 0) {
        if (!job_add(lg, job))
            return errno = ENOMEM, fail_errno(lg, err, "cannot load", name);
        return 0;
    }
    first = strtoll(end + 1, &end, 10);
    if (strcmp(end, ".log") != 0)
        return 0;
    if (!(j = job_add(lg, job)) ||
        grow((void **)&j->segs, &j->cap_segs, j->n_segs + 1, sizeof(*j->segs)) != 0)
        return errno = ENOMEM, fail_errno(lg, err, "cannot load", name);
    memset(&j->segs[j->n_segs], 0, sizeof(*j->segs));
    j->segs[j->n_segs++].first_seq = first;
    return 0;
}

hpd_logseg *hpd_logseg_open(const char *dir, const hpd_logseg_limits *limits, hp_error *err)
{
    hpd_logseg *lg = calloc(1, sizeof(*lg));
    struct dirent *e;
    DIR *d;

    if (!lg || !(lg->dir = strdup(dir))) {
        free(lg);
        hp_error_set(err, HP_E_NOMEM, "logs: out of memory");
        return NULL;
    }
    lg->lim.bytes_per_job =
        limits && limits->bytes_per_job > 0 ? limits->bytes_per_job : DEFAULT_PER_JOB;
    lg->lim.bytes = limits && limits->bytes > 0 ? limits->bytes : DEFAULT_TOTAL;
    lg->lim.buffer_bytes =
        limits && limits->buffer_bytes > 0 ? limits->buffer_bytes : DEFAULT_BUFFER;
    /* Retention drops whole segments: small enough that a job keeps close to its bound. */
    lg->seg_max = lg->lim.bytes_per_job / 8 < lg->lim.bytes / 32 ? lg->lim.bytes_per_job / 8
                                                                 : lg->lim.bytes / 32;
    lg->seg_max = lg->seg_max < SEG_MIN ? SEG_MIN : lg->seg_max > SEG_MAX ? SEG_MAX : lg->seg_max;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fail_errno(NULL, err, "cannot create", dir);
        goto fail;
    }
    if (!(d = opendir(dir))) {
        fail_errno(NULL, err, "cannot read", dir);
        goto fail;
    }
    while ((e = readdir(d)))
        if (list_file(lg, e->d_name, err) != 0) {
            closedir(d);
            goto fail;
        }
    closedir(d);
    for (size_t i = 0; i < lg->n_jobs; i++)
        if (load_job(lg, lg->jobs[i], err) != 0)
            goto fail;
    lg->failing = 0;
    return lg;
fail:
    hpd_logseg_close(lg);
    return NULL;
}

void hpd_logseg_close(hpd_logseg *lg)
{
    if (!lg)
        return;
    hpd_logseg_flush(lg, NULL);
    for (size_t i = 0; i < lg->n_jobs; i++) {
        job_close_files(lg, lg->jobs[i]);
        job_free(lg->jobs[i]);
    }
    free(lg->jobs);
    free(lg->dirty);
    free(lg->dir);
    free(lg);
}

/* ---- answers ---------------------------------------------------------------------- */

static int64_t job_last_seq(const joblog *j)
{
    if (j->buf_len)
        return j->buf_last_seq;
    return j->n_segs ? j->segs[j->n_segs - 1].last_seq : 0;
}

int hpd_logseg_job_stat(const hpd_logseg *lg, int64_t job_id, hpd_logseg_stat *st)
{
    const joblog *j = lg ? job_find(lg, job_id) : NULL;

    memset(st, 0, sizeof(*st));
    if (!j)
        return 0;
    st->lines = j->disk_lines + j->buf_lines;
    st->bytes = j->disk_bytes + (int64_t)j->buf_len;
    st->dropped = j->dropped;
    st->dropped_upto = j->dropped_upto;
    st->run_id = j->run_id;
    if (j->n_segs)
        st->first_seq = j->segs[0].n_marks ? j->segs[0].marks[0].seq : j->segs[0].first_seq;
    else if (j->buf_len)
        memcpy(&st->first_seq, j->buf + 8, 8);
    st->last_seq = job_last_seq(j);
    return 1;
}

void hpd_logseg_totals(const hpd_logseg *lg, int64_t *lines, int64_t *bytes, int64_t *dropped,
                       int64_t *last_seq)
{
    if (lines)
        *lines = lg ? lg->disk_lines + lg->waiting : 0;
    if (bytes)
        *bytes = lg ? lg->disk_bytes + (int64_t)lg->buffered : 0;
    if (dropped)
        *dropped = lg ? lg->dropped : 0;
    if (last_seq)
        *last_seq = lg ? lg->last_seq : 0;
}

size_t hpd_logseg_segments(const hpd_logseg *lg, int64_t job_id)
{
    const joblog *j = lg ? job_find(lg, job_id) : NULL;

    return j ? j->n_segs : 0;
}

int hpd_logseg_each_job(const hpd_logseg *lg, hpd_logjob_fn fn, void *ctx)
{
    for (size_t i = 0; lg && i < lg->n_jobs; i++) {
        const joblog *j = lg->jobs[i];
        int rc;

        if (j->disk_lines + j->buf_lines == 0)
            continue;
        if ((rc = fn(ctx, j->job_id, j->job_id ? j->src : NULL, job_last_seq(j))) != 0)
            return rc;
    }
    return 0;
}

/* A segment opened to be read, its path in path; -1 with err. */
static int open_read(const hpd_logseg *lg, const joblog *j, const segment *s, char *path,
                     size_t size, hp_error *err)
{
    int fd;

    seg_path(lg, j, s->first_seq, "log", path, size);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        fail_errno(NULL, err, "cannot open", path);
    return fd;
}

/* The source a reader is given: the job's, or the line's own for job 0. */
static void rec_src(const joblog *j, hpd_logrec *r)
{
    r->job_id = j->job_id;
    if (j->job_id != 0 || r->src_len == 0) {
        r->src = j->src ? j->src : "";
        r->src_len = strlen(r->src);
    }
}

/* Calls fn for the lines of block b (n of them) with seq > after_seq, oldest first. */
static int block_forward(const hpd_logrec *b, uint32_t n, int64_t after_seq, hpd_logrec_fn fn,
                         void *ctx)
{
    const char *p = b->line, *end = b->line + b->len;
    hpd_logrec r = *b;
    int rc = 0;

    for (uint32_t i = 0; rc == 0 && i < n && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;

        r.seq = b->seq + i;
        r.line = p;
        r.len = (size_t)(e - p);
        if (r.seq > after_seq)
            rc = fn(ctx, &r);
        p = nl ? nl + 1 : end;
    }
    return rc;
}

/* The same newest first, for the lines with seq < before (0: no bound). */
static int block_backward(const hpd_logrec *b, uint32_t n, int64_t before, hpd_logrec_fn fn,
                          void *ctx)
{
    const char *start = b->line, *e = b->line + b->len;
    hpd_logrec r = *b;
    int rc = 0;

    if (e > start && e[-1] == '\n')
        e--; /* the last line's newline */
    for (uint32_t i = n; rc == 0 && i-- > 0;) {
        const char *nl = memrchr(start, '\n', (size_t)(e - start)), *p = nl ? nl + 1 : start;

        r.seq = b->seq + i;
        r.line = p;
        r.len = (size_t)(e - p);
        if (!before || r.seq < before)
            rc = fn(ctx, &r);
        if (!nl)
            break;
        e = nl;
    }
    return rc;
}

/* Calls fn for the lines in bytes [p, p + n) with seq > after_seq and ts >= since_ms. */
static int each_forward(const joblog *j, const unsigned char *p, size_t n, int64_t after_seq,
                        int64_t since_ms, hpd_logrec_fn fn, void *ctx, size_t *used)
{
    size_t at = 0, total;
    hpd_logrec r;
    uint32_t blk;
    int rc = 0;

    while (at < n && parse_rec(p + at, n - at, &r, &total, &blk) == 1) {
        at += total;
        if (r.stream == STREAM_META || r.seq + rec_lines(blk) - 1 <= after_seq ||
            r.ts_ms < since_ms)
            continue;
        rec_src(j, &r);
        if ((rc = blk ? block_forward(&r, blk, after_seq, fn, ctx) : fn(ctx, &r)) != 0)
            break;
    }
    if (used)
        *used = at;
    return rc;
}

/* The mark to start from in s: the last one before which no line can match, i.e. with
 * seq <= after_seq + 1 and (when since_ms is given) ts_ms <= since_ms. */
static size_t start_mark(const segment *s, int64_t after_seq, int64_t since_ms)
{
    size_t lo = 0, hi = s->n_marks;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->marks[mid].seq <= after_seq + 1 &&
            (since_ms == 0 || s->marks[mid].ts_ms <= since_ms))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

int hpd_logseg_forward(hpd_logseg *lg, int64_t job_id, int64_t after_seq, int64_t since_ms,
                       hpd_logrec_fn fn, void *ctx, hp_error *err)
{
    joblog *j = lg ? job_find(lg, job_id) : NULL;
    unsigned char *win = NULL;
    size_t first = 0;
    int rc = 0;

    if (!j)
        return 0;
    /* The first segment that can hold the line after the cursor. */
    {
        size_t lo = 0, hi = j->n_segs;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const segment *s = &j->segs[mid];
            if (s->last_seq <= after_seq || (since_ms && s->last_ts < since_ms))
                lo = mid + 1;
            else
                hi = mid;
        }
        first = lo;
    }
    if (first < j->n_segs && !(win = malloc(WINDOW)))
        return hp_error_set(err, HP_E_NOMEM, "logs: out of memory"), -1;
    for (size_t i = first; rc == 0 && i < j->n_segs; i++) {
        const segment *s = &j->segs[i];
        char path[4200];
        int64_t off = s->n_marks ? s->marks[start_mark(s, after_seq, since_ms)].off : 0;
        int fd;

        if ((fd = open_read(lg, j, s, path, sizeof(path), err)) < 0) {
            rc = -1;
            break;
        }
        while (rc == 0 && off < s->size) {
            size_t want = s->size - off < WINDOW ? (size_t)(s->size - off) : WINDOW, used = 0;
            ssize_t got = pread_all(fd, win, want, off);

            if (got <= 0) {
                rc = got < 0 ? fail_errno(NULL, err, "cannot read", path) : 0;
                break;
            }
            rc = each_forward(j, win, (size_t)got, after_seq, since_ms, fn, ctx, &used);
            if (used == 0)
                break; /* no whole record: the file changed under us */
            off += (int64_t)used;
        }
        close(fd);
    }
    free(win);
    if (rc == 0 && j->buf_len)
        rc = each_forward(j, (const unsigned char *)j->buf, j->buf_len, after_seq, since_ms, fn,
                          ctx, NULL);
    return rc;
}

/* Calls fn newest first for the records in [p, p + n) with seq < before and ts < until. */
static int each_backward(const joblog *j, const unsigned char *p, size_t n, int64_t before,
                         int64_t until, hpd_logrec_fn fn, void *ctx)
{
    size_t *starts = NULL, k = 0, cap = 0, at = 0, total;
    hpd_logrec r;
    uint32_t blk;
    int rc = 0;

    while (at < n && parse_rec(p + at, n - at, &r, &total, &blk) == 1) {
        if (grow((void **)&starts, &cap, k + 1, sizeof(*starts)) != 0) {
            free(starts);
            return -1;
        }
        starts[k++] = at;
        at += total;
    }
    while (rc == 0 && k-- > 0) {
        parse_rec(p + starts[k], n - starts[k], &r, &total, &blk);
        if (r.stream == STREAM_META || (before && r.seq >= before) || (until && r.ts_ms >= until))
            continue;
        rec_src(j, &r);
        rc = blk ? block_backward(&r, blk, before, fn, ctx) : fn(ctx, &r);
    }
    free(starts);
    return rc;
}

int hpd_logseg_backward(hpd_logseg *lg, int64_t job_id, int64_t before_seq, int64_t until_ms,
                        hpd_logrec_fn fn, void *ctx, hp_error *err)
{
    joblog *j = lg ? job_find(lg, job_id) : NULL;
    unsigned char *block = NULL;
    size_t cap = 0;
    int rc = 0;

    if (!j)
        return 0;
    if (j->buf_len)
        rc = each_backward(j, (const unsigned char *)j->buf, j->buf_len, before_seq, until_ms, fn,
                           ctx);
    for (size_t i = j->n_segs; rc == 0 && i-- > 0;) {
        const segment *s = &j->segs[i];
        char path[4200];
        int fd;

        if ((before_seq && s->first_seq >= before_seq) ||
            (until_ms && s->n_marks && s->marks[0].ts_ms >= until_ms))
            continue;
        if ((fd = open_read(lg, j, s, path, sizeof(path), err)) < 0) {
            rc = -1;
            break;
        }
        for (size_t m = s->n_marks; rc == 0 && m-- > 0;) {
            int64_t from = s->marks[m].off, to = m + 1 < s->n_marks ? s->marks[m + 1].off : s->size;
            ssize_t got;

            if ((before_seq && s->marks[m].seq >= before_seq) ||
                (until_ms && s->marks[m].ts_ms >= until_ms))
                continue;
            if (grow((void **)&block, &cap, (size_t)(to - from), 1) != 0) {
                hp_error_set(err, HP_E_NOMEM, "logs: out of memory");
                rc = -1;
                break;
            }
            if ((got = pread_all(fd, block, (size_t)(to - from), from)) < 0) {
                rc = fail_errno(NULL, err, "cannot read", path);
                break;
            }
            rc = each_backward(j, block, (size_t)got, before_seq, until_ms, fn, ctx);
            if (rc < 0)
                hp_error_set(err, HP_E_NOMEM, "logs: out of memory");
        }
        close(fd);
    }
    free(block);
    return rc;
}
