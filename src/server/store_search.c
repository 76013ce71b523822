/* SPDX-License-Identifier: Apache-2.0 */
/* logs.search in the store: one job after the other, each read newest first from its
 * files (logseg.h), matching each line with regexec or a substring, with the context lines
 * around each match kept in a small ring, within a byte budget per call. */
#include "config.h"

#include "server/store_int.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* A line kept for context: a copy, since the reader's buffer moves on. */
typedef struct kept {
    int64_t seq, ts_ms, job_id;
    int attempt, stream;
    char *src, *line;
    size_t src_len, len, cap_src, cap_line;
} kept;

typedef struct open_match {
    cJSON *before; /* older lines, oldest first: filled as the reader goes back */
    int missing;
} open_match;

typedef struct searcher {
    const hpd_log_search *q;
    regex_t re;
    char *folded; /* the pattern, lower case (substring with ignore_case) */
    char *buf;    /* a line folded to lower case */
    size_t cap_buf;
    kept *ring; /* the newest lines seen, for the after context of a match */
    size_t ring_n, ring_at;
    open_match *open;
    size_t n_open, cap_open;
    cJSON *matches;
    int found;
    int64_t spent, scanned, last_seq, last_match;
    int out_of_budget, nomem;
} searcher;

static cJSON *line_json(int64_t seq, int64_t ts_ms, const char *src, size_t src_len, int64_t job_id,
                        int stream, const char *line, size_t len, int attempt)
{
    cJSON *o = cJSON_CreateObject();
    char *s = strndup(src, src_len), *l = strndup(line, len);

    if (!o || !s || !l || !hp_json_add_int(o, "seq", seq) || !hp_json_add_int(o, "ts_ms", ts_ms) ||
        !cJSON_AddStringToObject(o, "src", s) ||
        !(job_id ? hp_json_add_int(o, "job_id", job_id) : cJSON_AddNullToObject(o, "job_id")) ||
        !cJSON_AddStringToObject(o, "stream", hpd_stream_name((hpd_stream)stream)) ||
        !cJSON_AddStringToObject(o, "line", l) || !hp_json_add_int(o, "attempt", attempt)) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(s);
    free(l);
    return o;
}

static cJSON *rec_line(const hpd_logrec *r)
{
    return line_json(r->seq, r->ts_ms, r->src, r->src_len, r->job_id, r->stream, r->line, r->len,
                     r->attempt);
}

static int copy_into(char **dst, size_t *cap, const char *src, size_t len)
{
    if (len + 1 > *cap) {
        char *p = realloc(*dst, len + 1);
        if (!p)
            return -1;
        *dst = p;
        *cap = len + 1;
    }
    memcpy(*dst, src, len);
    (*dst)[len] = '\0';
    return 0;
}

/* The line in s->buf, NUL-terminated (regexec wants a string), folded to lower case
 * for a substring that ignores case. NULL without memory. */
static const char *line_copy(searcher *s, const hpd_logrec *r, int fold)
{
    if (r->len + 1 > s->cap_buf) {
        char *p = realloc(s->buf, r->len + 1);
        if (!p)
            return NULL;
        s->buf = p;
        s->cap_buf = r->len + 1;
    }
    for (size_t i = 0; i < r->len; i++)
        s->buf[i] = fold ? (char)tolower((unsigned char)r->line[i]) : r->line[i];
    s->buf[r->len] = '\0';
    return s->buf;
}

static int matches(searcher *s, const hpd_logrec *r)
{
    const hpd_log_search *q = s->q;
    const char *line = r->line;

    if (!q->substring || q->ignore_case) {
        if (!(line = line_copy(s, r, q->substring)))
            return -1;
    }
    if (!q->substring)
        return regexec(&s->re, line, 0, NULL, 0) == 0;
    return memmem(line, r->len, q->ignore_case ? s->folded : q->pattern, strlen(q->pattern)) !=
           NULL;
}

/* The ring's lines, oldest first: the line remembered last (the reader goes back in
 * time) is the one just after the match. */
static cJSON *after_of(searcher *s)
{
    size_t ctx = (size_t)s->q->context;
    cJSON *a = cJSON_CreateArray();

    for (size_t k = 0; a && k < s->ring_n; k++) {
        const kept *e = &s->ring[(s->ring_at + ctx - 1 - k) % ctx];
        cJSON *o = line_json(e->seq, e->ts_ms, e->src, e->src_len, e->job_id, e->stream, e->line,
                             e->len, e->attempt);
        if (!o) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static int remember(searcher *s, const hpd_logrec *r)
{
    kept *k;

    if (s->q->context <= 0)
        return 0;
    k = &s->ring[s->ring_at];
    if (copy_into(&k->src, &k->cap_src, r->src, r->src_len) != 0 ||
        copy_into(&k->line, &k->cap_line, r->line, r->len) != 0)
        return -1;
    k->seq = r->seq;
    k->ts_ms = r->ts_ms;
    k->job_id = r->job_id;
    k->attempt = r->attempt;
    k->stream = r->stream;
    k->src_len = r->src_len;
    k->len = r->len;
    s->ring_at = (s->ring_at + 1) % (size_t)s->q->context;
    if (s->ring_n < (size_t)s->q->context)
        s->ring_n++;
    return 0;
}

/* Gives an older line to the matches still short of their before context. */
static int feed_open(searcher *s, const hpd_logrec *r)
{
    size_t keep = 0;

    for (size_t i = 0; i < s->n_open; i++) {
        open_match *m = &s->open[i];
        cJSON *o = rec_line(r);

        if (!o)
            return -1;
        cJSON_InsertItemInArray(m->before, 0, o);
        if (--m->missing > 0)
            s->open[keep++] = *m;
    }
    s->n_open = keep;
    return 0;
}

static int on_line(void *ctx, const hpd_logrec *r)
{
    searcher *s = ctx;
    int hit;

    if (s->spent >= s->q->budget && s->n_open == 0) {
        s->out_of_budget = 1;
        return 1;
    }
    s->spent += (int64_t)(r->len + 32);
    s->scanned++;
    s->last_seq = r->seq;
    if (s->n_open && feed_open(s, r) != 0)
        goto nomem;
    if (s->found >= s->q->limit) {
        /* the last match's before context is complete: stop here */
        return s->n_open ? 0 : 1;
    }
    if ((hit = matches(s, r)) < 0)
        goto nomem;
    if (hit) {
        cJSON *m = cJSON_CreateObject(), *line = rec_line(r), *before = cJSON_CreateArray(),
              *after = after_of(s);

        if (!m || !line || !before || !after) {
            cJSON_Delete(m);
            cJSON_Delete(line);
            cJSON_Delete(before);
            cJSON_Delete(after);
            goto nomem;
        }
        cJSON_AddItemToObject(m, "line", line);
        cJSON_AddItemToObject(m, "before", before);
        cJSON_AddItemToObject(m, "after", after);
        cJSON_AddItemToArray(s->matches, m);
        s->found++;
        s->last_match = r->seq;
        if (s->q->context > 0) {
            if (hpd__grow((void **)&s->open, &s->cap_open, s->n_open + 1, sizeof(*s->open)) != 0)
                goto nomem;
            s->open[s->n_open++] = (open_match){before, s->q->context};
        }
    }
    if (remember(s, r) != 0)
        goto nomem;
    return 0;
nomem:
    s->nomem = 1;
    return -1;
}

static void searcher_free(searcher *s)
{
    if (!s->q->substring)
        regfree(&s->re);
    for (int i = 0; s->ring && i < s->q->context; i++) {
        free(s->ring[i].src);
        free(s->ring[i].line);
    }
    free(s->ring);
    free(s->open);
    free(s->folded);
    free(s->buf);
}

cJSON *hpd_store_log_search(hpd_store *st, const hpd_log_search *q, hp_error *err)
{
    searcher s = {.q = q};
    cJSON *out = NULL;
    size_t i;
    int rc = 0;

    if (!st || !q || !q->pattern)
        return hp_error_set(err, HP_E_INVALID, "store: no search given"), NULL;
    if (!q->substring) {
        int code =
            regcomp(&s.re, q->pattern, REG_EXTENDED | REG_NOSUB | (q->ignore_case ? REG_ICASE : 0));
        if (code != 0) {
            char why[200];
            regerror(code, &s.re, why, sizeof(why));
            return hp_error_set(err, HP_E_INVALID, "pattern: %s", why), NULL;
        }
    } else if (q->ignore_case && (s.folded = strdup(q->pattern))) {
        for (char *c = s.folded; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    }
    if ((q->substring && q->ignore_case && !s.folded) ||
        (q->context > 0 && !(s.ring = calloc((size_t)q->context, sizeof(*s.ring)))) ||
        !(s.matches = cJSON_CreateArray())) {
        hpd__nomem(err, "cannot search the log");
        goto out;
    }
    for (i = 0; i < q->n_jobs; i++) {
        if (s.found >= q->limit) {
            rc = 1; /* the next job is read from its end by the next call */
            s.last_match = 0;
            break;
        }
        s.ring_n = s.ring_at = 0;
        s.n_open = 0;
        rc = hpd_logseg_backward(st->logs, q->jobs[i], i == 0 ? q->before_seq : 0, 0, on_line, &s,
                                 err);
        if (s.nomem) {
            hpd__nomem(err, "cannot search the log");
            goto out;
        }
        if (rc < 0)
            goto out;
        if (rc == 1)
            break;
    }
    if (!(out = cJSON_CreateObject())) {
        hpd__nomem(err, "cannot search the log");
        goto out;
    }
    cJSON_AddItemToObject(out, "matches", s.matches);
    s.matches = NULL;
    hp_json_add_int(out, "scanned", s.scanned);
    if (rc == 1) {
        /* Out of budget: on below the oldest line read. At the limit: below the last
         * match, so the lines read for its context are searched next time. */
        cJSON_AddFalseToObject(out, "complete");
        hp_json_add_int(out, "next_job_id", q->jobs[i]);
        hp_json_add_int(out, "next_before_seq", s.out_of_budget ? s.last_seq : s.last_match);
    } else {
        cJSON_AddTrueToObject(out, "complete");
    }
out:
    cJSON_Delete(s.matches);
    searcher_free(&s);
    return out;
}
