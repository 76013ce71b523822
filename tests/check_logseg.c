/* SPDX-License-Identifier: Apache-2.0 */
/* The log's segment files on their own: order and no gaps over millions of lines, the
 * index lookups (cursor, backwards, time), retention by bytes with exact counts, the cut
 * of a torn last record, and what a reopened directory gives back. */
#include "config.h"

#include "check_common.h"
#include "server/logseg.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char logdir[4096];

static hpd_logseg *open_logs(int64_t per_job, int64_t total, int64_t buffer)
{
    hpd_logseg_limits lim = {.bytes_per_job = per_job, .bytes = total, .buffer_bytes = buffer};
    hp_error err = {0};
    hpd_logseg *lg;

    snprintf(logdir, sizeof(logdir), "%s/logs", hp_test_tmpdir());
    lg = hpd_logseg_open(logdir, &lim, &err);
    ck_assert_msg(lg != NULL, "open: %s", err.message);
    return lg;
}

static void add(hpd_logseg *lg, int64_t job, int64_t seq, int64_t ts, const char *line)
{
    char src[64];

    snprintf(src, sizeof(src), "run.1.job%lld", (long long)job);
    ck_assert_int_eq(
        hpd_logseg_append(lg, job, 1, src, strlen(src), seq, ts, 1, 0, line, strlen(line)), 0);
}

static void flush(hpd_logseg *lg)
{
    hp_error err = {0};

    ck_assert_msg(hpd_logseg_flush(lg, &err) == 0, "flush: %s", err.message);
}

/* What a reader collected: the seqs in the order given, and the text of the first. */
typedef struct seen {
    int64_t *seq;
    size_t n, cap, stop_at;
    int64_t ts_first;
    char first[128];
    int order_ok; /* each seq one more (or one less, backwards) than the one before */
    int backwards;
} seen;

static int collect(void *ctx, const hpd_logrec *r)
{
    seen *s = ctx;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->seq = realloc(s->seq, s->cap * sizeof(*s->seq));
        ck_assert_ptr_nonnull(s->seq);
    }
    if (s->n == 0) {
        snprintf(s->first, sizeof(s->first), "%.*s", (int)r->len, r->line);
        s->ts_first = r->ts_ms;
        s->order_ok = 1;
    } else if (r->seq != s->seq[s->n - 1] + (s->backwards ? -1 : 1)) {
        s->order_ok = 0;
    }
    s->seq[s->n++] = r->seq;
    return s->stop_at && s->n >= s->stop_at;
}

static seen read_forward(hpd_logseg *lg, int64_t job, int64_t after, int64_t since, size_t stop)
{
    seen s = {.stop_at = stop};
    hp_error err = {0};

    ck_assert_msg(hpd_logseg_forward(lg, job, after, since, collect, &s, &err) >= 0, "read: %s",
                  err.message);
    return s;
}

static seen read_backward(hpd_logseg *lg, int64_t job, int64_t before, int64_t until, size_t stop)
{
    seen s = {.stop_at = stop, .backwards = 1};
    hp_error err = {0};

    ck_assert_msg(hpd_logseg_backward(lg, job, before, until, collect, &s, &err) >= 0, "read: %s",
                  err.message);
    return s;
}

START_TEST(two_million_lines_come_back_in_order_without_gaps)
{
    hpd_logseg *lg = open_logs(0, 0, 0);
    char line[64];
    seen s;
    const int64_t n = 2000000;

    for (int64_t i = 1; i <= n; i++) {
        snprintf(line, sizeof(line), "line %lld of the flood", (long long)i);
        add(lg, 7, i, 1000 + i / 1000, line);
        if (i % 4096 == 0)
            flush(lg);
    }
    flush(lg);
    s = read_forward(lg, 7, 0, 0, 0);
    ck_assert_int_eq(s.n, n);
    ck_assert(s.order_ok);
    ck_assert_str_eq(s.first, "line 1 of the flood");
    free(s.seq);
    hpd_logseg_close(lg);

    /* Reopened: the same lines, and a cursor in the middle is found by the index. */
    lg = open_logs(0, 0, 0);
    s = read_forward(lg, 7, 1234567, 0, 3);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(s.seq[0], 1234568);
    ck_assert_str_eq(s.first, "line 1234568 of the flood");
    free(s.seq);
    s = read_forward(lg, 7, 0, 0, 0);
    ck_assert_int_eq(s.n, n);
    ck_assert(s.order_ok);
    free(s.seq);
    hpd_logseg_close(lg);
}
END_TEST

START_TEST(retention_drops_whole_oldest_segments_and_counts_every_line)
{
    /* 64 KiB per job: segments of 8 KiB. */
    hpd_logseg *lg = open_logs(64 * 1024, 1LL << 30, 0);
    hpd_logseg_stat st;
    char line[100];
    seen s;
    const int64_t n = 20000;

    memset(line, 'r', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    for (int64_t i = 1; i <= n; i++) {
        add(lg, 3, i, i, line);
        if (i % 100 == 0)
            flush(lg);
    }
    flush(lg);
    ck_assert_int_eq(hpd_logseg_job_stat(lg, 3, &st), 1);
    ck_assert_int_le(st.bytes, 64 * 1024);
    ck_assert_int_gt(st.bytes, 48 * 1024); /* whole segments: at most one segment short */
    ck_assert_int_eq(st.lines + st.dropped, n);
    ck_assert_int_eq(st.first_seq, st.dropped + 1);
    s = read_forward(lg, 3, 0, 0, 0);
    ck_assert_int_eq(s.n, st.lines);
    ck_assert_int_eq(s.seq[0], st.dropped + 1);
    ck_assert(s.order_ok);
    free(s.seq);
    hpd_logseg_close(lg);

    /* The counts survive a restart. */
    lg = open_logs(64 * 1024, 1LL << 30, 0);
    ck_assert_int_eq(hpd_logseg_job_stat(lg, 3, &st), 1);
    ck_assert_int_eq(st.lines + st.dropped, n);
    hpd_logseg_close(lg);
}
END_TEST

START_TEST(the_total_bound_drops_the_oldest_segment_of_any_job)
{
    hpd_logseg *lg = open_logs(1LL << 30, 256 * 1024, 0); /* segments of 8 KiB */
    hpd_logseg_stat a, b;
    int64_t lines, bytes, dropped;
    char line[100];

    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    /* Job 1 writes first, then job 2 writes 200 KB, less than the bound: job 1's lines
     * go first, and job 2 keeps all of its. */
    for (int64_t i = 1; i <= 1500; i++)
        add(lg, 1, i, i, line);
    flush(lg);
    for (int64_t i = 1501; i <= 3000; i++)
        add(lg, 2, i, i, line);
    flush(lg);
    hpd_logseg_totals(lg, &lines, &bytes, &dropped, NULL);
    ck_assert_int_le(bytes, 256 * 1024);
    ck_assert_int_eq(lines + dropped, 3000);
    hpd_logseg_job_stat(lg, 1, &a);
    hpd_logseg_job_stat(lg, 2, &b);
    ck_assert_int_gt(a.dropped, 0);
    ck_assert_int_eq(b.dropped, 0);
    ck_assert_int_eq(a.dropped + b.dropped, dropped);
    hpd_logseg_close(lg);
}
END_TEST

START_TEST(backwards_pages_reach_the_first_kept_line)
{
    hpd_logseg *lg = open_logs(0, 0, 0);
    int64_t before = 0, pages = 0, total = 0;
    char line[200];

    memset(line, 'b', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    for (int64_t i = 1; i <= 50000; i++) {
        add(lg, 9, i, 5000 + i, line);
        if (i % 3000 == 0)
            flush(lg);
    }
    /* The last lines are still in the buffer: the backwards read starts with them. */
    for (;;) {
        seen s = read_backward(lg, 9, before, 0, 1000);
        if (s.n == 0)
            break;
        ck_assert(s.order_ok);
        ck_assert_int_eq(s.seq[0], before ? before - 1 : 50000);
        before = s.seq[s.n - 1];
        total += (int64_t)s.n;
        pages++;
        free(s.seq);
    }
    ck_assert_int_eq(total, 50000);
    ck_assert_int_eq(before, 1);
    ck_assert_int_eq(pages, 50);
    hpd_logseg_close(lg);
}
END_TEST

START_TEST(time_bounds_find_their_lines)
{
    hpd_logseg *lg = open_logs(0, 0, 0);
    char line[64];
    seen s;

    for (int64_t i = 1; i <= 100000; i++) {
        snprintf(line, sizeof(line), "at %lld", (long long)(i * 10));
        add(lg, 4, i, i * 10, line);
        if (i % 5000 == 0)
            flush(lg);
    }
    flush(lg);
    s = read_forward(lg, 4, 0, 500005, 2);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.seq[0], 50001);
    ck_assert_int_eq(s.ts_first, 500010);
    free(s.seq);
    s = read_backward(lg, 4, 0, 300000, 1);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.seq[0], 29999);
    free(s.seq);
    hpd_logseg_close(lg);
}
END_TEST

static void copy_file(const char *from, const char *to, off_t len)
{
    char buf[65536];
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    off_t done = 0;

    ck_assert_int_ge(in, 0);
    ck_assert_int_ge(out, 0);
    while (done < len) {
        ssize_t n =
            read(in, buf, len - done < (off_t)sizeof(buf) ? (size_t)(len - done) : sizeof(buf));
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(write(out, buf, (size_t)n), n);
        done += n;
    }
    close(in);
    close(out);
}

/* The only segment of job 5, by name. */
static void segment_file(char *buf, size_t size)
{
    char dir[4200], name[256];
    struct dirent *e;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s", logdir);
    d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    name[0] = '\0';
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "5.", 2) == 0 && strstr(e->d_name, ".log"))
            snprintf(name, sizeof(name), "%s", e->d_name);
    closedir(d);
    ck_assert(name[0]);
    ck_assert_int_lt(snprintf(buf, size, "%s/%.200s", dir, name), (int)size);
}

START_TEST(a_torn_last_record_is_cut_at_every_offset)
{
    hpd_logseg *lg = open_logs(0, 0, 0);
    char path[4400], saved[4400];
    struct stat sb;
    off_t full, last_start;
    const char *last = "the last line, torn by a kill";

    add(lg, 5, 1, 1, "first");
    add(lg, 5, 2, 2, "second");
    flush(lg);
    hpd_logseg_close(lg);
    segment_file(path, sizeof(path));
    ck_assert_int_eq(stat(path, &sb), 0);
    last_start = sb.st_size;
    lg = open_logs(0, 0, 0);
    add(lg, 5, 3, 3, last);
    flush(lg);
    hpd_logseg_close(lg);
    ck_assert_int_eq(stat(path, &sb), 0);
    full = sb.st_size;
    ck_assert_int_eq(full - last_start, 32 + (off_t)strlen(last));
    snprintf(saved, sizeof(saved), "%s/whole", hp_test_tmpdir());
    copy_file(path, saved, full);

    for (off_t cut = last_start; cut <= full; cut++) {
        hpd_logseg_stat st;
        seen s;

        copy_file(saved, path, cut);
        lg = open_logs(0, 0, 0);
        hpd_logseg_job_stat(lg, 5, &st);
        ck_assert_int_eq(st.lines, cut == full ? 3 : 2);
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_int_eq(sb.st_size, cut == full ? full : last_start);
        /* Writing goes on after the cut, and reads back whole. */
        add(lg, 5, 10, 10, "after the restart");
        flush(lg);
        s = read_forward(lg, 5, 0, 0, 0);
        ck_assert_int_eq(s.n, cut == full ? 4 : 3);
        ck_assert_int_eq(s.seq[s.n - 1], 10);
        free(s.seq);
        hpd_logseg_close(lg);
    }
}
END_TEST

START_TEST(lines_past_the_buffer_are_dropped_and_counted)
{
    hpd_logseg *lg = open_logs(0, 0, 4096);
    hpd_logseg_stat st;
    char line[100];
    int taken = 0;

    memset(line, 'f', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    for (int i = 1; i <= 100; i++)
        taken += hpd_logseg_append(lg, 8, 1, "run.1.a", 7, i, i, 1, 0, line, strlen(line)) == 0;
    ck_assert_int_lt(taken, 100);
    ck_assert_int_gt(taken, 0);
    hpd_logseg_job_stat(lg, 8, &st);
    ck_assert_int_eq(st.lines, taken);
    ck_assert_int_eq(st.dropped, 100 - taken);
    flush(lg);
    hpd_logseg_close(lg);
}
END_TEST

START_TEST(deleting_a_run_removes_its_files)
{
    hpd_logseg *lg = open_logs(0, 0, 0);
    int64_t lines;
    struct dirent *e;
    DIR *d;
    int of_11 = 0, of_12 = 0;

    ck_assert_int_eq(hpd_logseg_append(lg, 11, 2, "run.2.a", 7, 1, 1, 1, 0, "a", 1), 0);
    ck_assert_int_eq(hpd_logseg_append(lg, 12, 3, "run.3.a", 7, 2, 1, 1, 0, "b", 1), 0);
    flush(lg);
    ck_assert_int_eq(hpd_logseg_delete_run(lg, 2), 0);
    d = opendir(logdir);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d))) {
        of_11 += strncmp(e->d_name, "11.", 3) == 0;
        of_12 += strncmp(e->d_name, "12.", 3) == 0;
    }
    closedir(d);
    ck_assert_int_eq(of_11, 0);
    ck_assert_int_eq(of_12, 1); /* one segment, no index, no meta: one file a small job */
    hpd_logseg_totals(lg, &lines, NULL, NULL, NULL);
    ck_assert_int_eq(lines, 1);
    hpd_logseg_close(lg);
}
END_TEST

START_TEST(a_reopened_directory_knows_each_job_s_source_and_run)
{
    hpd_logseg *lg = open_logs(0, 0, 0);
    hpd_logseg_stat st;
    seen s;

    ck_assert_int_eq(hpd_logseg_append(lg, 21, 7, "service.web.serve", 17, 1, 5, 1, 0, "hi", 2), 0);
    ck_assert_int_eq(hpd_logseg_append(lg, 0, 0, "tool", 4, 2, 6, 0, 0, "outside", 7), 0);
    flush(lg);
    hpd_logseg_close(lg);
    lg = open_logs(0, 0, 0);
    ck_assert_int_eq(hpd_logseg_job_stat(lg, 21, &st), 1);
    ck_assert_int_eq(st.run_id, 7);
    ck_assert_int_eq(st.lines, 1);
    /* deleting run 7 finds the job by the run its header names */
    ck_assert_int_eq(hpd_logseg_delete_run(lg, 7), 0);
    ck_assert_int_eq(hpd_logseg_job_stat(lg, 21, &st), 0);
    s = read_forward(lg, 0, 0, 0, 0);
    ck_assert_int_eq(s.n, 1);
    free(s.seq);
    hpd_logseg_close(lg);
}
END_TEST

static void add_block(hpd_logseg *lg, int64_t job, int64_t first, int64_t ts, const char *lines)
{
    uint32_t n = 0;

    for (const char *p = lines; (p = strchr(p, '\n')); p++)
        n++;
    ck_assert_int_eq(hpd_logseg_append_block(lg, job, 1, "run.1.blocks", 12, first, ts, 1, 0, lines,
                                             strlen(lines), n),
                     0);
}

/* The text of every line read, joined by '|'. */
typedef struct joined {
    char text[4096];
    int64_t first_seq, last_seq, n;
    int order_ok, backwards;
} joined;

static int join(void *ctx, const hpd_logrec *r)
{
    joined *j = ctx;
    size_t at = strlen(j->text);

    if (j->n == 0) {
        j->first_seq = r->seq;
        j->order_ok = 1;
    } else if (r->seq != j->last_seq + (j->backwards ? -1 : 1)) {
        j->order_ok = 0;
    }
    j->last_seq = r->seq;
    snprintf(j->text + at, sizeof(j->text) - at, "%s%.*s", j->n ? "|" : "", (int)r->len, r->line);
    j->n++;
    return 0;
}

static joined read_joined(hpd_logseg *lg, int64_t after, int64_t since, int64_t before,
                          int64_t until, int backwards)
{
    joined j = {.backwards = backwards};
    hp_error err = {0};
    int rc = backwards ? hpd_logseg_backward(lg, 3, before, until, join, &j, &err)
                       : hpd_logseg_forward(lg, 3, after, since, join, &j, &err);

    ck_assert_msg(rc >= 0, "read: %s", err.message);
    return j;
}

/* Blocks (the lines of one read under one header) and single lines mixed: cursors and
 * time bounds inside a block, both directions, before and after a reopen. */
static void check_blocks(hpd_logseg *lg)
{
    hpd_logseg_stat st;
    joined j;

    ck_assert_int_eq(hpd_logseg_job_stat(lg, 3, &st), 1);
    ck_assert_int_eq(st.lines, 9);
    ck_assert_int_eq(st.first_seq, 1);
    ck_assert_int_eq(st.last_seq, 9);
    j = read_joined(lg, 0, 0, 0, 0, 0);
    ck_assert_str_eq(j.text, "a|b||c|single|d|e|f|g");
    ck_assert(j.order_ok);
    j = read_joined(lg, 2, 0, 0, 0, 0);
    ck_assert_str_eq(j.text, "|c|single|d|e|f|g");
    ck_assert_int_eq(j.first_seq, 3);
    j = read_joined(lg, 0, 30, 0, 0, 0);
    ck_assert_str_eq(j.text, "d|e|f|g");
    j = read_joined(lg, 0, 0, 0, 0, 1);
    ck_assert_str_eq(j.text, "g|f|e|d|single|c||b|a");
    ck_assert(j.order_ok);
    j = read_joined(lg, 0, 0, 3, 0, 1);
    ck_assert_str_eq(j.text, "b|a");
    ck_assert_int_eq(j.first_seq, 2);
    j = read_joined(lg, 0, 0, 8, 30, 1);
    ck_assert_str_eq(j.text, "single|c||b|a");
}

START_TEST(blocks_of_lines_read_like_single_lines)
{
    hpd_logseg *lg = open_logs(0, 0, 0);

    add_block(lg, 3, 1, 10, "a\nb\n\nc\n");
    add(lg, 3, 5, 20, "single");
    add_block(lg, 3, 6, 30, "d\ne\n");
    flush(lg);
    add_block(lg, 3, 8, 40, "f\ng\n");
    check_blocks(lg); /* one block still in the buffer */
    flush(lg);
    check_blocks(lg);
    hpd_logseg_close(lg);
    lg = open_logs(0, 0, 0);
    check_blocks(lg);
    hpd_logseg_close(lg);
}
END_TEST

/* A directory written with one record per line (the format before blocks) opens, reads,
 * and takes blocks after its lines. */
START_TEST(a_directory_of_single_line_records_takes_blocks_after_its_lines)
{
    hpd_logseg *lg = open_logs(0, 0, 0);
    joined j;

    add(lg, 3, 1, 10, "a");
    add(lg, 3, 2, 10, "b");
    flush(lg);
    hpd_logseg_close(lg);
    lg = open_logs(0, 0, 0);
    j = read_joined(lg, 0, 0, 0, 0, 0);
    ck_assert_str_eq(j.text, "a|b");
    add_block(lg, 3, 3, 20, "c\nd\n");
    flush(lg);
    hpd_logseg_close(lg);
    lg = open_logs(0, 0, 0);
    j = read_joined(lg, 0, 0, 0, 0, 0);
    ck_assert_str_eq(j.text, "a|b|c|d");
    ck_assert(j.order_ok);
    j = read_joined(lg, 0, 0, 0, 0, 1);
    ck_assert_str_eq(j.text, "d|c|b|a");
    hpd_logseg_close(lg);
}
END_TEST

START_TEST(a_torn_last_block_is_cut_whole_at_every_offset)
{
    hpd_logseg *lg = open_logs(0, 0, 0);
    char path[4400], saved[4400];
    struct stat sb;
    off_t full, last_start;

    add(lg, 5, 1, 1, "first");
    flush(lg);
    hpd_logseg_close(lg);
    segment_file(path, sizeof(path));
    ck_assert_int_eq(stat(path, &sb), 0);
    last_start = sb.st_size;
    lg = open_logs(0, 0, 0);
    ck_assert_int_eq(hpd_logseg_append_block(lg, 5, 1, "s", 1, 2, 2, 1, 0, "x\ny\nz\n", 6, 3), 0);
    flush(lg);
    hpd_logseg_close(lg);
    ck_assert_int_eq(stat(path, &sb), 0);
    full = sb.st_size;
    ck_assert_int_eq(full - last_start, 32 + 4 + 6);
    snprintf(saved, sizeof(saved), "%s/whole", hp_test_tmpdir());
    copy_file(path, saved, full);

    for (off_t cut = last_start; cut <= full; cut++) {
        hpd_logseg_stat st;
        seen s;

        copy_file(saved, path, cut);
        lg = open_logs(0, 0, 0);
        hpd_logseg_job_stat(lg, 5, &st);
        ck_assert_int_eq(st.lines, cut == full ? 4 : 1);
        ck_assert_int_eq(st.last_seq, cut == full ? 4 : 1);
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_int_eq(sb.st_size, cut == full ? full : last_start);
        add(lg, 5, 10, 10, "after the restart");
        flush(lg);
        s = read_forward(lg, 5, 0, 0, 0);
        ck_assert_int_eq(s.n, cut == full ? 5 : 2);
        ck_assert_int_eq(s.seq[s.n - 1], 10);
        free(s.seq);
        hpd_logseg_close(lg);
    }
}
END_TEST

/* Blocks larger than a small segment allows are split at lines, so retention still drops
 * whole segments and counts every line. */
START_TEST(large_blocks_under_a_small_bound_keep_the_bound_and_exact_counts)
{
    hpd_logseg *lg = open_logs(16384, 0, 0);
    static char text[65536];
    hpd_logseg_stat st;
    size_t at = 0;
    int64_t seq = 1;
    seen s;

    for (int round = 0; round < 10; round++) {
        uint32_t n = 0;
        at = 0;
        while (at + 16 < sizeof(text) - 1) {
            at += (size_t)snprintf(text + at, sizeof(text) - at, "line %07lld\n",
                                   (long long)(seq + n));
            n++;
        }
        ck_assert_int_eq(hpd_logseg_append_block(lg, 9, 1, "s", 1, seq, round, 1, 0, text, at, n),
                         0);
        seq += n;
        flush(lg);
    }
    ck_assert_int_eq(hpd_logseg_job_stat(lg, 9, &st), 1);
    ck_assert_int_le(st.bytes, 16384);
    ck_assert_int_ge(st.bytes, 16384 - 4096);
    ck_assert_int_eq(st.lines + st.dropped, seq - 1);
    ck_assert_int_eq(st.last_seq, seq - 1);
    ck_assert_int_eq(st.dropped_upto + 1, st.first_seq);
    s = read_forward(lg, 9, 0, 0, 0);
    ck_assert_int_eq(s.n, st.lines);
    ck_assert(s.order_ok);
    ck_assert_int_eq(s.seq[0], st.first_seq);
    free(s.seq);
    hpd_logseg_close(lg);
}
END_TEST

/* Split into pieces, a block the buffers take only in part keeps its first lines and
 * counts the rest as dropped. */
START_TEST(a_block_the_buffer_takes_in_part_keeps_its_first_lines_and_counts_the_rest)
{
    hpd_logseg *lg = open_logs(16384, 0, 2048);
    static char text[4096];
    hpd_logseg_stat st;
    size_t at = 0;
    uint32_t n = 0;
    int64_t dropped;
    seen s;

    while (at + 14 < sizeof(text)) {
        at += (size_t)snprintf(text + at, sizeof(text) - at, "line %07u\n", n + 1);
        n++;
    }
    dropped = hpd_logseg_append_block(lg, 4, 1, "s", 1, 1, 1, 1, 0, text, at, n);
    ck_assert_int_gt(dropped, 0);
    ck_assert_int_lt(dropped, n);
    ck_assert_int_eq(hpd_logseg_job_stat(lg, 4, &st), 1);
    ck_assert_int_eq(st.lines, n - dropped);
    ck_assert_int_eq(st.dropped, dropped);
    flush(lg);
    s = read_forward(lg, 4, 0, 0, 0);
    ck_assert_int_eq(s.n, n - dropped);
    ck_assert(s.order_ok);
    ck_assert_int_eq(s.seq[0], 1);
    ck_assert_str_eq(s.first, "line 0000001");
    free(s.seq);
    hpd_logseg_close(lg);
}
END_TEST

static Suite *logseg_suite(void)
{
    Suite *s = suite_create("logseg");
    TCase *tc = tcase_create("logseg");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, hp_test_tmpdir_setup, hp_test_tmpdir_teardown);
    tcase_add_test(tc, two_million_lines_come_back_in_order_without_gaps);
    tcase_add_test(tc, retention_drops_whole_oldest_segments_and_counts_every_line);
    tcase_add_test(tc, the_total_bound_drops_the_oldest_segment_of_any_job);
    tcase_add_test(tc, backwards_pages_reach_the_first_kept_line);
    tcase_add_test(tc, time_bounds_find_their_lines);
    tcase_add_test(tc, a_torn_last_record_is_cut_at_every_offset);
    tcase_add_test(tc, lines_past_the_buffer_are_dropped_and_counted);
    tcase_add_test(tc, deleting_a_run_removes_its_files);
    tcase_add_test(tc, a_reopened_directory_knows_each_job_s_source_and_run);
    tcase_add_test(tc, blocks_of_lines_read_like_single_lines);
    tcase_add_test(tc, a_directory_of_single_line_records_takes_blocks_after_its_lines);
    tcase_add_test(tc, a_torn_last_block_is_cut_whole_at_every_offset);
    tcase_add_test(tc, large_blocks_under_a_small_bound_keep_the_bound_and_exact_counts);
    tcase_add_test(tc, a_block_the_buffer_takes_in_part_keeps_its_first_lines_and_counts_the_rest);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(logseg_suite());
}
