/* SPDX-License-Identifier: Apache-2.0 */
/* A job's output: pipes read into lines (cut at 16 KiB, made valid UTF-8), its system
 * log lines, the batched flush to the store, saving the model, the store's health. */
#include "config.h"

#include "server/secretbox.h"
#include "server/holder.h"
#include "server/supervisor_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- logging ---------------------------------------------------------------------- */

void hpd__flush_logs(hpd_server *srv)
{
    hpd_loop_timer_cancel(srv->loop, srv->flush_timer);
    srv->flush_timer = 0;
    hpd_store_log_flush(srv->store, NULL);
    hpd_store_watch(srv);
}

static void on_flush_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;

    (void)loop;
    if (srv->flush_timer == id)
        srv->flush_timer = 0;
    hpd__flush_logs(srv);
}

static void job_src(const hpd_job *job, char *buf, size_t size)
{
    const hpd_run *run = job->run;
    const char *action = run->actions[job->index].name;

    if (run->service)
        snprintf(buf, size, "service.%s.%s", run->service, action);
    else
        snprintf(buf, size, "run.%lld.%s", (long long)run->id, action);
}

/* Length of the valid UTF-8 sequence at p (not NUL, no overlong form, no surrogate, at
 * most U+10FFFF), 0 when it is not one. */
static size_t utf8_valid_at(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;

    if (c > 0 && c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (n > avail)
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* The length of the valid start of line (all of it, usually): valid UTF-8 without NUL. */
static size_t utf8_valid_prefix(const char *line, size_t len)
{
    const unsigned char *p = (const unsigned char *)line;
    size_t at = 0, k;

    /* Most lines are ASCII without NUL: eight bytes at a time. */
    while (len - at >= 8) {
        uint64_t w;
        memcpy(&w, p + at, 8);
        if ((w & 0x8080808080808080ull) ||
            ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull))
            break;
        at += 8;
    }
    while (at < len && (unsigned)p[at] - 1u < 0x7Fu)
        at++;
    while (at < len && (k = utf8_valid_at(p + at, len - at)) > 0)
        at += k;
    return at;
}

/* What a job prints goes out in JSON strings: invalid UTF-8 and NUL bytes become U+FFFD
 * (one per byte that starts no valid sequence), so strict decoders accept every line
 * and a NUL does not cut it. NULL when line is already valid (the usual case). */
static char *utf8_clean(const char *line, size_t len, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)line;
    size_t at = utf8_valid_prefix(line, len), n = 0, k;
    char *out;

    if (at == len)
        return NULL;
    out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    memcpy(out, line, at);
    n = at;
    while (at < len) {
        k = utf8_valid_at(p + at, len - at);
        if (k) {
            memcpy(out + n, line + at, k);
            n += k;
            at += k;
        } else {
            memcpy(out + n, "\xEF\xBF\xBD", 3);
            n += 3;
            at++;
        }
    }
    *out_len = n;
    return out;
}

/* Lines were buffered: written at once past FLUSH_LINES, else within FLUSH_MS. */
static void flush_soon(hpd_server *srv)
{
    if (hpd_store_log_pending(srv->store) >= FLUSH_LINES)
        hpd__flush_logs(srv);
    else if (!srv->flush_timer)
        srv->flush_timer = hpd_loop_timer(srv->loop, FLUSH_MS, on_flush_timer, srv);
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define LOWS  0x7F7F7F7F7F7F7F7Full

/* The high bit of each zero byte of w (exact: no borrow runs into the next byte). */
static inline uint64_t zero_bytes(uint64_t w)
{
    return ~(((w & LOWS) + LOWS) | w | LOWS);
}

/* Whether a line is stored as it is: valid UTF-8 without NUL, not ending in CR. */
static int line_plain(const char *p, size_t len)
{
    return !(len && p[len - 1] == '\r') && utf8_valid_prefix(p, len) == len;
}

/* The whole lines at the start of buf that are stored as they are (line_plain, at most
 * MAX_LINE): their bytes, newlines included, and *count. One pass, eight bytes at a time:
 * a word finds its newlines and whether it holds a NUL, a CR or a byte past ASCII; only a
 * line with one of those is looked at again, on its own. */
static size_t plain_lines(const char *buf, size_t avail, uint32_t *count)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t at = 0, line = 0;
    uint32_t n = 0;
    int odd = 0; /* the line so far has a byte that needs a closer look */

    while (avail - at >= 8) {
        uint64_t w, nl, bad;

        memcpy(&w, p + at, 8);
        nl = zero_bytes(w ^ (ONES * '\n'));
        bad = (w & HIGHS) | zero_bytes(w) | zero_bytes(w ^ (ONES * '\r'));
        while (nl) {
            unsigned b = (unsigned)__builtin_ctzll(nl) / 8;
            uint64_t upto = b == 7 ? ~0ull : (1ull << (8 * b + 8)) - 1; /* bytes 0..b */
            size_t end = at + b;

            odd |= (bad & (upto >> 8)) != 0; /* before the newline */
            if (end - line > MAX_LINE || (odd && !line_plain(buf + line, end - line)))
                goto out;
            n++;
            line = end + 1;
            odd = 0;
            bad &= ~upto;
            nl &= nl - 1;
        }
        odd |= bad != 0;
        at += 8;
        if (at - line > MAX_LINE)
            goto out;
    }
    for (; at < avail; at++) {
        unsigned char c = p[at];
        if (c == '\n') {
            if (at - line > MAX_LINE || (odd && !line_plain(buf + line, at - line)))
                goto out;
            n++;
            line = at + 1;
            odd = 0;
        } else if (c == 0 || c == '\r' || c >= 0x80) {
            odd = 1;
        }
    }
out:
    *count = n;
    return line;
}

/* One line of a job; src and ts_ms are made once per read by the caller. */
static void job_line_at(hpd_server *srv, hpd_job *job, const char *src, int64_t ts_ms,
                        hpd_stream stream, const char *line, size_t len)
{
    size_t clean_len = 0;
    char *clean = utf8_clean(line, len, &clean_len);

    if (clean) {
        line = clean;
        len = clean_len;
    }
    hpd_store_log_append(srv->store, ts_ms, src, job->id, job->attempt, stream, line, len);
    free(clean);
    job->lines++;
    flush_soon(srv);
}

/* count whole lines of a read, stored as they are (plain_lines): one record. */
static void job_lines_at(hpd_server *srv, hpd_job *job, const char *src, int64_t ts_ms,
                         hpd_stream stream, const char *lines, size_t len, uint32_t count)
{
    hpd_store_log_append_lines(srv->store, ts_ms, src, job->id, job->attempt, stream, lines, len,
                               count);
    job->lines += count;
    flush_soon(srv);
}

static void job_line(hpd_server *srv, hpd_job *job, hpd_stream stream, const char *line, size_t len)
{
    char src[160];

    job_src(job, src, sizeof(src));
    job_line_at(srv, job, src, hpd_now_ms(), stream, line, len);
}

void hpd_job_syslog(hpd_server *srv, hpd_job *job, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    job_line(srv, job, HPD_SYSTEM, line, strlen(line));
}

/* ---- persistence helpers ---------------------------------------------------------- */

static void on_store_timer(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;

    (void)loop;
    if (srv->store_timer == id)
        srv->store_timer = 0;
    hpd_store_sync(srv->store, NULL);
    hpd_store_watch(srv);
}

/* The store's troubles are logged once per change (not once per failed write), and a
 * retry is kept scheduled while changes wait: nothing else may come to write them. */
void hpd_store_watch(hpd_server *srv)
{
    hpd_store_health h;

    hpd_store_health_get(srv->store, &h);
    if (h.generation != srv->store_generation) {
        if (h.dropped_writes != srv->store_dropped_writes)
            hpd_log(srv, 0, "store: a change was given up: %s", h.refused);
        if (!h.ok && (srv->store_ok || strcmp(h.error, srv->store_error) != 0))
            hpd_log(srv, 0,
                    "store: cannot write to %s/hero_proc.db: %s; changes wait in memory and are "
                    "retried, log lines past the wait's bound are dropped and counted",
                    srv->data_dir, h.error);
        else if (h.ok && !srv->store_ok)
            hpd_log(srv, 1, "store: written again; %lld log lines were dropped while it failed",
                    (long long)(h.dropped_lines - srv->store_dropped_lines));
        if (h.ok != srv->store_ok)
            srv->store_dropped_lines = h.dropped_lines;
        srv->store_generation = h.generation;
        srv->store_ok = h.ok;
        srv->store_dropped_writes = h.dropped_writes;
        snprintf(srv->store_error, sizeof(srv->store_error), "%s", h.error);
    }
    if (h.retry_in_ms >= 0 && !srv->store_timer)
        srv->store_timer = hpd_loop_timer(srv->loop, (uint64_t)h.retry_in_ms, on_store_timer, srv);
}

/* The run that hpd_run_create is starting: its rows are written once, when the start is
 * over, instead of as pending and at once again as running (each write is a transaction,
 * the largest part of a one-shot run's cost). Nothing reads them from the store in
 * between: answers come from memory, and the writes are done before the call returns. */
const hpd_run *hpd__unsaved_run;

void hpd_save_run(hpd_server *srv, const hpd_run *run)
{
    hp_error err;

    if (run == hpd__unsaved_run) {
        hpd_changed(srv);
        return;
    }

    if (hpd_store_put_run(srv->store, run, &err) != 0)
        hpd_log(srv, 0, "%s", err.message);
    hpd_store_watch(srv);
    hpd_changed(srv);
}

void hpd_save_job(hpd_server *srv, const hpd_job *job)
{
    hp_error err;

    if (job->run == hpd__unsaved_run) {
        hpd_changed(srv);
        return;
    }

    if (hpd_store_put_job(srv->store, job, &err) != 0)
        hpd_log(srv, 0, "%s", err.message);
    hpd_store_watch(srv);
    hpd_changed(srv);
}

void hpd_save_service(hpd_server *srv, const hpd_service *svc)
{
    hp_error err;

    if (hpd_store_put_service(srv->store, svc, &err) != 0)
        hpd_log(srv, 0, "%s", err.message);
    hpd_store_watch(srv);
    hpd_changed(srv);
}

/* ---- output capture --------------------------------------------------------------- */

/* Splits the buffered bytes into lines. A line longer than MAX_LINE is stored cut and
 * marked, whether its newline came in the same read or not; the rest of it is dropped. */
static void emit_lines(hpd_server *srv, hpd_job *job, hpd_stream stream, int at_eof)
{
    static const char mark[] = " [line cut]";
    hpd_linebuf *lb = &job->out[stream];
    size_t start = 0;
    int64_t now = hpd_now_ms(); /* one time for every line of a read */
    char src[160];

    job_src(job, src, sizeof(src));
    while (start < lb->len) {
        size_t avail = lb->len - start;
        char *nl;
        size_t len;
        uint32_t count;

        if (!lb->cutting && (len = plain_lines(lb->buf + start, avail, &count)) > 0) {
            /* the usual case: every line of the read in one record */
            job_lines_at(srv, job, src, now, stream, lb->buf + start, len, count);
            start += len;
            continue;
        }
        nl = memchr(lb->buf + start, '\n', avail);
        len = nl ? (size_t)(nl - (lb->buf + start)) : avail;

        if (!nl && len < MAX_LINE && !at_eof)
            break; /* wait for the rest of the line */
        if (lb->cutting) {
            /* The tail of a line already stored cut: dropped up to its newline. */
            lb->cutting = !nl;
        } else if (len > MAX_LINE || (!nl && len == MAX_LINE && !at_eof)) {
            char cut[MAX_LINE + sizeof(mark)];
            memcpy(cut, lb->buf + start, MAX_LINE);
            memcpy(cut + MAX_LINE, mark, sizeof(mark) - 1);
            job_line_at(srv, job, src, now, stream, cut, MAX_LINE + sizeof(mark) - 1);
            lb->cutting = !nl;
        } else {
            size_t keep = len > 0 && lb->buf[start + len - 1] == '\r' ? len - 1 : len;
            job_line_at(srv, job, src, now, stream, lb->buf + start, keep);
        }
        start += nl ? len + 1 : len;
    }
    memmove(lb->buf, lb->buf + start, lb->len - start);
    lb->len -= start;
}

void hpd__close_stream(hpd_server *srv, hpd_job *job, int stream)
{
    hpd_linebuf *lb = &job->out[stream];

    if (lb->fd < 0)
        return;
    hpd_loop_unwatch(srv->loop, lb->fd);
    close(lb->fd);
    lb->fd = -1;
    hpd_holder_drop(srv, job, stream);
    if (lb->len > 0 && !lb->cutting)
        emit_lines(srv, job, (hpd_stream)stream, 1);
    free(lb->buf);
    lb->buf = NULL;
    lb->len = lb->cap = 0;
    lb->cutting = 0;
}

void hpd__on_output(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    hpd_job *job = data;
    hpd_server *srv = job->run->srv;
    int stream = job->out[0].fd == fd ? 0 : 1;
    hpd_linebuf *lb = &job->out[stream];
    /* One read a turn, and OUT_PER_TURN bytes of all jobs' output a turn: the sockets are
     * served between turns, so a call waits for a few reads at most, not for every
     * flooding pipe (epoll is level-triggered: what is left is read next turn). */
    size_t budget = READ_CHUNK;

    if (srv->out_turn != hpd_loop_turn(loop)) {
        size_t last = OUT_PER_TURN - srv->out_left; /* read in the last turn that read */
        srv->out_turn = hpd_loop_turn(loop);
        srv->out_left = OUT_PER_TURN;
        if (srv->realtime && last < NAP_BELOW && !(events & EPOLLHUP)) {
            /* At real-time priority the loop would wake for every line a job writes and
             * read it alone: a read, a wait and a record per line. A short nap lets a
             * trickle gather into one read (a call waits at most the nap). Not for a pipe
             * whose writers are gone: nothing more comes, and every one-shot job ends so
             * (the nap was a quarter of a millisecond of the loop's time per job). */
            struct timespec nap = {0, NAP_US * 1000};
            nanosleep(&nap, NULL);
        }
    }
    if (srv->out_left == 0)
        return;
    while (budget > 0) {
        ssize_t n;
        if (lb->cap - lb->len < READ_CHUNK) {
            size_t cap = lb->len + READ_CHUNK + MAX_LINE;
            char *grown = realloc(lb->buf, cap);
            if (!grown)
                return;
            lb->buf = grown;
            lb->cap = cap;
        }
        n = read(fd, lb->buf + lb->len, READ_CHUNK);
        if (n > 0) {
            lb->len += (size_t)n;
            srv->out_left -= (size_t)n < srv->out_left ? (size_t)n : srv->out_left;
            budget -= (size_t)n < budget ? (size_t)n : budget;
            emit_lines(srv, job, (hpd_stream)stream, 0);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        hpd__close_stream(srv, job, stream); /* EOF or a read error */
        hpd__job_maybe_finish(srv, job);
        return;
    }
}
