/* SPDX-License-Identifier: Apache-2.0 */
/* The Logs view: one job's lines, or a run's (every job's, interleaved in seq order with
 * the action's name in front: the Runs and Services views' `l`), or every service's (`:logs
 * all`: logs.tail of src "service", each service's name in front in its colour), fetched
 * incrementally by cursor into a bounded ring, following the end until you scroll up (then counting
 * what arrives), stderr and system lines styled apart, wrap and timestamps, control characters
 * escaped by tui_put; `/` search with highlight and n/N, `&` (a regex, `&!` inverted) and `:since`
 * to show only some lines, `:w` to save them. For a job, the ring is a window over the whole log:
 * pages before and after it are fetched as you scroll, `g` and `G` jump to either end, and `/` and
 * `&` ask the server's logs.search for what the ring does not hold. The pattern text is typed in
 * the app (f->search, f->filter); this file only uses it. */
#include "config.h"

#include "tui/draw.h"
#include "tui/logbuf.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_LINES = 20000, MAX_BYTES = 8 << 20, MAX_PAGES = 20 };
/* A window's page (job.logs before or after what is held), the matches `&` fills the view
 * with before it waits for a scroll up (logs.search answers at most 1000 a call). */
enum { WINDOW_PAGE = 2000, GREP_FILL = 2000, GREP_CALL = 1000 };
/* A search's calls (each bounded by the server) follow one another for at most this long;
 * then the screen is drawn and the keys read before the next. */
enum { SEARCH_SLICE_MS = 100 };
#define SEQ_END ((int64_t)9007199254740991) /* 2^53-1: before it are the newest lines */
enum { STAMPS_OFF, STAMPS_TIME, STAMPS_DATE, STAMPS_N };
/* `:logs all`: the columns of the service's name in front of each line. */
enum { ALL_NAME_W = 14, ALL_NAMES = 64 };

/* The columns of a line's time in front: "14:05:03.123 " or "2026-12-05 14:05:03.123 ". */
static int stamp_width(int stamps)
{
    return stamps == STAMPS_DATE ? 24 : stamps == STAMPS_TIME ? 13 : 0;
}

/* ---- which lines are shown: `&` and `:since`, in this one place ------------------------- */

/* The lines kept: those matching re (not matching when invert), from since_ms on. The
 * same three (pattern, invert, since) are what a search on the server would take for
 * a log larger than the view holds. */
typedef struct logs_filter {
    int on;           /* a pattern compiled */
    int invert;       /* `&!RE`: the lines that do NOT match */
    regex_t re;       /* POSIX extended; any case when the pattern has no capital */
    int64_t since_ms; /* `:since`: 0 = every line */
} logs_filter;

/* Compiles pattern (POSIX extended, "" for none) into lf, replacing what it had. 0, or -1
 * with regerror's words in err (and no pattern). */
static int filter_set(logs_filter *lf, const char *pattern, int invert, char *err, size_t size)
{
    int flags = REG_EXTENDED | REG_NOSUB, rc;

    if (lf->on)
        regfree(&lf->re);
    lf->on = 0;
    lf->invert = 0;
    if (!pattern[0])
        return 0;
    flags |= REG_ICASE; /* smart case, as `/` does: a capital makes the case matter */
    for (const char *p = pattern; *p; p++)
        if (isupper((unsigned char)*p))
            flags &= ~REG_ICASE;
    rc = regcomp(&lf->re, pattern, flags);
    if (rc != 0) {
        regerror(rc, &lf->re, err, size); /* a failed regcomp leaves nothing to free */
        return -1;
    }
    lf->on = 1;
    lf->invert = invert;
    return 0;
}

static int filter_active(const logs_filter *lf)
{
    return lf->on || lf->since_ms > 0;
}

static int filter_keeps(const logs_filter *lf, const tui_log_entry *e)
{
    if (lf->since_ms > 0 && e->ts_ms < lf->since_ms)
        return 0;
    if (lf->on && (regexec(&lf->re, e->text, 0, NULL, 0) == 0) == lf->invert)
        return 0;
    return 1;
}

typedef struct logs_state {
    tui_logbuf *buf;
    int64_t next_seq;
    int64_t server_dropped;
    int follow;
    size_t top;   /* first line shown when not following */
    size_t fresh; /* lines arrived since following paused */
    int gone;     /* the job no longer exists */
    int wrap;     /* long lines over several rows */
    int stamps;   /* each line's time in front */
    char msg[256];
    /* `&` and `:since`: the absolute numbers (evicted + ring index) of the lines the filter
     * keeps, scanned up to scanned; shown_for is the `&` text it was compiled from. */
    logs_filter filter;
    int64_t *shown;
    size_t n_shown, cap_shown;
    int64_t scanned;
    char shown_for[64];
    int64_t shown_since;
    char bad[200];  /* why the `&` pattern was refused, "" when it was not */
    int64_t hit;    /* absolute number of the current search match, -1 none */
    char what[128]; /* "job 5", "run 3", "service web": the head line's first words */
    /* A job's window: the seq of its first kept line (0 until known); behind when the
     * last fetch left lines waiting (catching up). A window is at the end when its newest
     * line is the newest the server answered. */
    int64_t first_seq;
    int64_t newest; /* the seq of the newest line the server answered */
    int behind;
    /* logs.search on the server: `/` beyond the ring (find) and `&` over a log larger than
     * the ring (grep: the ring then holds the matches, newest at the end). */
    struct {
        int pending;                  /* not complete: the cursor goes on at the next call */
        int64_t before_seq, from_job; /* the cursor */
        int64_t scanned;              /* lines read so far */
        char pattern[64];             /* what the cursor is for */
    } find, grep;
    int grep_mode;
    size_t grep_got; /* matches of the current fill */
    /* `:logs all`: the names in the order they first showed, for their colours. */
    char names[ALL_NAMES][ALL_NAME_W * 4 + 1];
    size_t n_names;
} logs_state;

static void describe(const tui_frame *f, logs_state *s);

static logs_state *state(tui_frame *f)
{
    logs_state *s = f->state;

    if (s)
        return s;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->buf = tui_logbuf_new(MAX_LINES, MAX_BYTES);
    if (!s->buf) {
        free(s);
        return NULL;
    }
    s->follow = 1;
    s->hit = -1;
    describe(f, s);
    f->state = s;
    return s;
}

static void leave(tui_frame *f)
{
    logs_state *s = f->state;

    if (s) {
        tui_logbuf_free(s->buf);
        free(s->shown);
        filter_set(&s->filter, "", 0, NULL, 0);
    }
    free(s);
    f->state = NULL;
}

static void title(const tui_frame *f, char *buf, size_t size)
{
    if (f->job_id)
        snprintf(buf, size, "Log of job %lld", (long long)f->job_id);
    else if (!f->run_id)
        snprintf(buf, size, "Log of every service");
    else if (f->service[0])
        snprintf(buf, size, "Log of %s (run %lld)", f->service, (long long)f->run_id);
    else
        snprintf(buf, size, "Log of run %lld", (long long)f->run_id);
}

static void grep_leave(tui_app *app, tui_frame *f, logs_state *s);
static void show_line(tui_frame *f, logs_state *s, size_t v);
static int find_run(tui_app *app, tui_frame *f, logs_state *s);

/* Brings the shown list up to date: rescanned when the `&` text or `:since` changed
 * (a bad pattern shows every line and says why in s->bad), evicted lines dropped, new
 * lines scanned. Without memory the filter shows nothing more. */
static void sync_shown(tui_app *app, tui_frame *f, logs_state *s)
{
    int64_t base, end;
    size_t gone = 0;

    if (s->grep_mode && strcmp(s->grep.pattern, f->filter) != 0)
        grep_leave(app, f, s);
    base = s->buf->base;
    end = base + (int64_t)s->buf->count;
    if (strcmp(s->shown_for, f->filter) != 0 || s->shown_since != s->filter.since_ms) {
        int invert = f->filter[0] == '!';
        snprintf(s->shown_for, sizeof(s->shown_for), "%s", f->filter);
        s->shown_since = s->filter.since_ms;
        s->bad[0] = '\0';
        if (filter_set(&s->filter, f->filter + invert, invert, s->bad, sizeof(s->bad)) != 0 &&
            !s->bad[0])
            snprintf(s->bad, sizeof(s->bad), "invalid pattern");
        s->n_shown = 0;
        s->scanned = base;
        s->top = 0;
        s->hit = -1;
    }
    if (!filter_active(&s->filter))
        return;
    while (gone < s->n_shown && s->shown[gone] < base)
        gone++;
    if (gone) {
        memmove(s->shown, s->shown + gone, (s->n_shown - gone) * sizeof(*s->shown));
        s->n_shown -= gone;
        s->top = s->top > gone ? s->top - gone : 0;
    }
    for (int64_t a = s->scanned > base ? s->scanned : base; a < end; a++) {
        const tui_log_entry *e = tui_logbuf_at(s->buf, (size_t)(a - base));
        if (!filter_keeps(&s->filter, e))
            continue;
        if (s->n_shown == s->cap_shown) {
            size_t cap = s->cap_shown ? s->cap_shown * 2 : 256;
            int64_t *grown = realloc(s->shown, cap * sizeof(*grown));
            if (!grown)
                break;
            s->shown = grown;
            s->cap_shown = cap;
        }
        s->shown[s->n_shown++] = a;
    }
    s->scanned = end;
}

/* The lines the view shows: all of the ring, or those the filter keeps. */
static size_t vcount(const tui_frame *f, const logs_state *s)
{
    return filter_active(&s->filter) ? s->n_shown : s->buf->count;
}

/* The absolute number of shown line v. */
static int64_t vabs(const tui_frame *f, const logs_state *s, size_t v)
{
    return filter_active(&s->filter) ? s->shown[v] : s->buf->base + (int64_t)v;
}

static const tui_log_entry *ventry(const tui_frame *f, const logs_state *s, size_t v)
{
    return tui_logbuf_at(s->buf, (size_t)(vabs(f, s, v) - s->buf->base));
}

/* The shown line of absolute number a, or (size_t)-1. */
static size_t vfind(const tui_frame *f, const logs_state *s, int64_t a)
{
    size_t lo = 0, hi = vcount(f, s);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (vabs(f, s, mid) < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < vcount(f, s) && vabs(f, s, lo) == a ? lo : (size_t)-1;
}

/* The first shown line of absolute number a or after it (vcount when none). */
static size_t vlower(const tui_frame *f, const logs_state *s, int64_t a)
{
    size_t lo = 0, hi = vcount(f, s);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (vabs(f, s, mid) < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The absolute number of the line at the top of the page, to find it again after the
 * window moved (vlower); 0 when nothing is shown. */
static int64_t top_abs(const tui_frame *f, const logs_state *s)
{
    size_t n = vcount(f, s);

    return n ? vabs(f, s, s->top < n ? s->top : n - 1) : 0;
}

static size_t rows(tui_app *app, const tui_frame *f)
{
    const logs_state *s = f->state;

    return s ? s->buf->count : 0;
}

/* The seq of the oldest (newest) line held, 0 when none. */
static int64_t held_first(const logs_state *s)
{
    return s->buf->count ? tui_logbuf_at(s->buf, 0)->seq : 0;
}

static int64_t held_last(const logs_state *s)
{
    return s->buf->count ? tui_logbuf_at(s->buf, s->buf->count - 1)->seq : 0;
}

/* A job's window holds its newest line (a run's log is always read at its end). */
static int at_end(const tui_frame *f, const logs_state *s)
{
    return !f->job_id || s->grep_mode || !s->buf->count || held_last(s) >= s->newest;
}

/* A job's window holds its first kept line. */
static int at_start(const tui_frame *f, const logs_state *s)
{
    if (!f->job_id)
        return 1;
    if (s->grep_mode)
        return !s->grep.pending;
    return !s->buf->count || (s->first_seq && held_first(s) <= s->first_seq);
}

/* More of the job's log on the server than the ring holds. */
static int log_bigger(const tui_frame *f, const logs_state *s)
{
    return f->job_id && (s->grep_mode || s->behind || !at_start(f, s) || !at_end(f, s));
}

/* ---- every service's lines (`:logs all`) ------------------------------------------------- */

/* The service's name of a line of src "service.<name>.<action>" (the src whole when it is
 * not one), shortened in the middle to ALL_NAME_W columns so names told apart by a suffix
 * stay apart. */
static void all_name(const char *src, char *buf, size_t size)
{
    const char *name = src ? src : "?", *dot;
    size_t len;

    if (strncmp(name, "service.", 8) == 0 && (dot = strrchr(name + 8, '.')) && dot > name + 8) {
        name += 8;
        len = (size_t)(dot - name);
    } else {
        len = strlen(name);
    }
    if (len > ALL_NAME_W) {
        size_t tail = (ALL_NAME_W - 1) / 3, head = ALL_NAME_W - 1 - tail;
        snprintf(buf, size, "%.*s%s%.*s", (int)head, name, tui_draw_utf8() ? "\xe2\x80\xa6" : "~",
                 (int)tail, name + len - tail);
    } else {
        snprintf(buf, size, "%.*s", (int)len, name);
    }
}

/* The colour of a service's name (name as shown): the next of a few colours (red is
 * stderr's) in the order the names first show, so the first five services never share one
 * and a name keeps its colour; past ALL_NAMES names, a hash picks. 0 without colour
 * (NO_COLOR). */
static attr_t all_colour(logs_state *s, const char *name)
{
    static const int palette[] = {TUI_C_GREEN, TUI_C_CYAN, TUI_C_YELLOW, TUI_C_MAGENTA, TUI_C_BLUE};
    enum { N = sizeof(palette) / sizeof(palette[0]) };
    unsigned int h = 5381;
    size_t i;

    for (i = 0; i < s->n_names; i++)
        if (strcmp(s->names[i], name) == 0)
            return tui_attr(palette[i % N]) | A_BOLD;
    if (i < ALL_NAMES) {
        snprintf(s->names[i], sizeof(s->names[i]), "%s", name);
        s->n_names++;
        return tui_attr(palette[i % N]) | A_BOLD;
    }
    for (const char *p = name; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return tui_attr(palette[h % N]) | A_BOLD;
}

void tui_view_logs_feed(tui_frame *f, const hp_log_page *p)
{
    logs_state *s = state(f);
    int attached;

    if (!s)
        return;
    /* A job's window away from the end takes no new line: they are counted, and G
     * fetches the end. A paused view at the end detaches when the ring is full, so
     * the lines read are not evicted under the reader. */
    attached = at_end(f, s);
    if (f->job_id && !s->first_seq && !s->next_seq && !s->buf->count && p->n_lines)
        s->first_seq = p->lines[0].seq; /* after_seq 0 starts at the first kept line */
    for (size_t i = 0; i < p->n_lines; i++) {
        const hp_log_line *l = &p->lines[i];
        if (l->seq > s->newest)
            s->newest = l->seq;
        if (s->grep_mode) {
            static char none[1];
            tui_log_entry e = {.text = l->line ? l->line : none, .ts_ms = l->ts_ms};
            if (filter_keeps(&s->filter, &e)) {
                tui_logbuf_push(s->buf, e.text, l->ts_ms, l->seq, (int)l->stream);
                s->fresh += !s->follow;
            }
            continue;
        }
        if (f->job_id && attached && !s->follow &&
            tui_logbuf_full(s->buf, strlen(l->line ? l->line : "")))
            attached = 0;
        if (!attached) {
            s->fresh++;
            continue;
        }
        if (!f->job_id && !f->run_id) {
            /* Every service's lines: the service's name in a column in front. */
            char name[ALL_NAME_W + 8], *text = NULL;
            all_name(l->src, name, sizeof(name));
            if (asprintf(&text, "%-*s %s", ALL_NAME_W, name, l->line ? l->line : "") < 0)
                continue;
            tui_logbuf_push(s->buf, text, l->ts_ms, l->seq, (int)l->stream);
            free(text);
        } else if (!f->job_id && l->src) {
            /* A run's lines: the action in front, as `hero_proc run logs` shows them. */
            char *text = NULL;
            if (asprintf(&text, "[%s] %s", l->src, l->line ? l->line : "") < 0)
                continue;
            tui_logbuf_push(s->buf, text, l->ts_ms, l->seq, (int)l->stream);
            free(text);
        } else {
            tui_logbuf_push(s->buf, l->line, l->ts_ms, l->seq, (int)l->stream);
        }
        if (!s->follow)
            s->fresh++;
    }
    s->server_dropped = p->dropped;
    if (p->next_seq > s->next_seq)
        s->next_seq = p->next_seq;
}

/* The head line's words for what f shows. */
static void describe(const tui_frame *f, logs_state *s)
{
    if (f->job_id)
        snprintf(s->what, sizeof(s->what), "job %lld", (long long)f->job_id);
    else if (!f->run_id)
        snprintf(s->what, sizeof(s->what), "every service");
    else if (f->service[0])
        snprintf(s->what, sizeof(s->what), "service %s, run %lld", f->service,
                 (long long)f->run_id);
    else
        snprintf(s->what, sizeof(s->what), "run %lld", (long long)f->run_id);
}

void tui_view_logs_switch_run(tui_frame *f, int64_t run_id)
{
    logs_state *s = state(f);
    char line[96];

    if (!s || run_id == f->run_id)
        return;
    f->run_id = run_id;
    s->next_seq = 0;
    s->server_dropped = 0;
    s->gone = 0;
    s->msg[0] = '\0';
    describe(f, s);
    snprintf(line, sizeof(line), "%s run %lld started %s", tui_draw_utf8() ? "\xe2\x80\x94" : "--",
             (long long)run_id, tui_draw_utf8() ? "\xe2\x80\x94" : "--");
    tui_logbuf_push(s->buf, line, tui_wall_ms(), 0, HP_STREAM_SYSTEM);
    if (!s->follow)
        s->fresh++;
}

/* The lines after the cursor of the job or run shown: 1 when some came (or the state
 * changed), 0 when none, -1 when the fetch failed. */
static int fetch(tui_app *app, tui_frame *f, logs_state *s)
{
    int changed = 0;

    for (int page = 0; page < MAX_PAGES; page++) {
        hp_log_page *p = NULL;
        int rc = f->job_id    ? tui_model_job_logs(tui_app_model(app), f->job_id, s->next_seq, &p,
                                                   s->msg, sizeof(s->msg))
                 : !f->run_id ? tui_model_all_logs(tui_app_model(app), s->next_seq, &p, s->msg,
                                                   sizeof(s->msg))
                              : tui_model_run_logs(tui_app_model(app), f->run_id, s->next_seq, &p,
                                                   NULL, s->msg, sizeof(s->msg));
        if (rc != 0) {
            s->gone = 1;
            return changed ? 1 : -1;
        }
        if (s->gone || s->msg[0])
            changed = 1;
        s->gone = 0;
        s->msg[0] = '\0';
        if (p->n_lines || p->dropped != s->server_dropped)
            changed = 1;
        tui_view_logs_feed(f, p);
        if (p->n_lines < 1000) { /* a run's page holds 1000 or more when more wait */
            hp_log_page_free(p);
            s->behind = 0;
            return changed;
        }
        hp_log_page_free(p);
    }
    s->behind = 1;
    tui_app_more_waiting(app); /* every page came back full: the rest right after a repaint */
    return changed;
}

/* ---- a job's window over its whole log ------------------------------------------------------ */

/* The ring's lines moved: the filter's list is made again. */
static void window_moved(logs_state *s)
{
    s->n_shown = 0;
    s->scanned = INT64_MIN;
}

/* One job.logs page within b: *out, or NULL with the reason in the status line. */
static hp_log_page *window_page(tui_app *app, tui_frame *f, logs_state *s, const hp_log_bounds *b)
{
    hp_log_page *p = NULL;
    char msg[256] = "";

    if (tui_model_job_page(tui_app_model(app), f->job_id, b, &p, msg, sizeof(msg)) != 0) {
        tui_app_status(app, 1, "job %lld: %s", (long long)f->job_id,
                       msg[0] ? msg : "the server is not reachable");
        return NULL;
    }
    (void)s;
    return p;
}

static void push_line(logs_state *s, const hp_log_line *l)
{
    tui_logbuf_push(s->buf, l->line, l->ts_ms, l->seq, (int)l->stream);
    if (l->seq > s->newest) { /* a window's page may reach past what follow read */
        s->newest = l->seq;
        s->next_seq = l->seq > s->next_seq ? l->seq : s->next_seq;
    }
}

/* The page before the oldest line held, put in front (the newest evicted when the ring
 * is full): the lines added, 0 at the log's first line or on failure. */
static size_t window_before(tui_app *app, tui_frame *f, logs_state *s)
{
    hp_log_bounds b = {.before_seq = s->buf->count ? held_first(s) : SEQ_END, .limit = WINDOW_PAGE};
    hp_log_page *p = window_page(app, f, s, &b);
    size_t n;

    if (!p)
        return 0;
    n = p->n_lines;
    if (n < WINDOW_PAGE)
        s->first_seq = n ? p->lines[0].seq : held_first(s); /* nothing older is kept */
    for (size_t i = n; i-- > 0;)
        tui_logbuf_unshift(s->buf, p->lines[i].line, p->lines[i].ts_ms, p->lines[i].seq,
                           (int)p->lines[i].stream);
    hp_log_page_free(p);
    if (n)
        window_moved(s);
    return n;
}

/* The page after the newest line held, appended (the oldest evicted): how many lines
 * were evicted from the front. */
static size_t window_after(tui_app *app, tui_frame *f, logs_state *s)
{
    hp_log_bounds b = {.after_seq = held_last(s), .limit = WINDOW_PAGE};
    hp_log_page *p = window_page(app, f, s, &b);
    int64_t base = s->buf->base;

    if (!p)
        return 0;
    for (size_t i = 0; i < p->n_lines; i++)
        push_line(s, &p->lines[i]);
    if (p->n_lines)
        window_moved(s);
    hp_log_page_free(p);
    return (size_t)(s->buf->base - base);
}

/* The ring emptied and filled with one page: the log's first lines (after_seq 0), its
 * newest (before_seq 2^53-1), or those up to and after a line (around). */
static int window_load(tui_app *app, tui_frame *f, logs_state *s, int64_t around, int end)
{
    hp_log_bounds b = {.limit = WINDOW_PAGE};
    hp_log_page *p, *q = NULL;

    if (around)
        b = (hp_log_bounds){.before_seq = around + 1, .limit = WINDOW_PAGE / 2};
    else if (end)
        b.before_seq = SEQ_END;
    if (!(p = window_page(app, f, s, &b)))
        return -1;
    if (around) {
        hp_log_bounds a = {.after_seq = around, .limit = WINDOW_PAGE / 2};
        if (!(q = window_page(app, f, s, &a))) {
            hp_log_page_free(p);
            return -1;
        }
    }
    tui_logbuf_clear(s->buf);
    s->buf->dropped = 0; /* a new window: nothing evicted from it yet */
    window_moved(s);
    s->hit = -1;
    s->top = 0;
    if ((!around && !end) || (int)p->n_lines < b.limit)
        s->first_seq = p->n_lines ? p->lines[0].seq : 0;
    for (size_t i = 0; i < p->n_lines; i++)
        push_line(s, &p->lines[i]);
    for (size_t i = 0; q && i < q->n_lines; i++)
        push_line(s, &q->lines[i]);
    if (end)
        s->behind = 0;
    hp_log_page_free(p);
    hp_log_page_free(q);
    return 0;
}

/* The shown line of seq, or (size_t)-1. */
static size_t vfind_seq(const tui_frame *f, const logs_state *s, int64_t seq)
{
    for (size_t i = 0; i < s->buf->count; i++)
        if (tui_logbuf_at(s->buf, i)->seq == seq)
            return vfind(f, s, s->buf->base + (int64_t)i);
    return (size_t)-1;
}

/* ---- `&` over a log larger than the ring: the server's matches ----------------------------- */

/* Smart case, as the local filter and `/` do: a capital makes the case matter. */
static int no_capital(const char *p)
{
    for (; *p; p++)
        if (isupper((unsigned char)*p))
            return 0;
    return 1;
}

/* One logs.search call for the `&` pattern from the cursor, its matches put in front (the
 * answer is newest first). 0, or -1 when the server refused (the status says why). */
static int grep_step(tui_app *app, tui_frame *f, logs_state *s)
{
    hp_log_search q = {.pattern = s->grep.pattern,
                       .ignore_case = no_capital(s->grep.pattern),
                       .job_id = f->job_id,
                       .before_seq = s->grep.before_seq,
                       .from_job_id = s->grep.from_job,
                       .limit = GREP_CALL};
    hp_log_matches *m = NULL;
    char msg[256] = "";

    if (tui_model_log_search(tui_app_model(app), &q, &m, msg, sizeof(msg)) != 0) {
        tui_app_status(app, 1, "&%s: %s", s->grep.pattern, msg[0] ? msg : "search failed");
        s->grep.pending = 0;
        return -1;
    }
    for (size_t i = 0; i < m->n_matches; i++) {
        const hp_log_line *l = &m->matches[i].line;
        tui_logbuf_unshift(s->buf, l->line, l->ts_ms, l->seq, (int)l->stream);
    }
    if (m->n_matches && !s->follow)
        s->top += m->n_matches; /* what was shown stays */
    s->grep_got += m->n_matches;
    s->grep.scanned += m->scanned;
    s->grep.pending = !m->complete;
    s->grep.before_seq = m->next_before_seq;
    s->grep.from_job = m->next_job_id;
    window_moved(s);
    hp_log_matches_free(m);
    return 0;
}

/* grep_step's calls until the view has GREP_FILL matches, for one slice of time; the
 * rest after a repaint, never all at once. */
static void grep_fill(tui_app *app, tui_frame *f, logs_state *s)
{
    long long t0 = tui_now_ms();
    size_t had = s->grep_got;

    /* The first matches found are drawn at once; the rest follow. */
    while (s->grep.pending && s->grep_got < GREP_FILL && grep_step(app, f, s) == 0 &&
           tui_now_ms() - t0 < SEARCH_SLICE_MS && !(had == 0 && s->grep_got > 0))
        ;
    if (s->grep.pending && s->grep_got < GREP_FILL)
        tui_app_more_waiting(app);
}

/* The `&` pattern typed over a log the ring cannot hold: the view shows the server's
 * matches, newest at the end, more fetched as you scroll up. */
static void grep_start(tui_app *app, tui_frame *f, logs_state *s)
{
    s->grep_mode = 1;
    snprintf(s->grep.pattern, sizeof(s->grep.pattern), "%s", f->filter);
    s->grep.before_seq = s->grep.from_job = s->grep.scanned = 0;
    s->grep.pending = 1; /* the first call: the newest matches */
    s->grep_got = 0;
    tui_logbuf_clear(s->buf);
    window_moved(s);
    s->hit = -1;
    s->follow = 1;
    s->fresh = 0;
    s->top = 0;
    grep_fill(app, f, s);
}

/* The `&` pattern changed or went: the log's end again, followed. */
static void grep_leave(tui_app *app, tui_frame *f, logs_state *s)
{
    s->grep_mode = 0;
    s->grep.pending = 0;
    s->grep.pattern[0] = '\0';
    s->follow = 1;
    s->fresh = 0;
    window_load(app, f, s, 0, 1);
}

/* ---- `/` beyond the ring: the server's newest match before what is held ---------------- */

/* One logs.search call for the `/` text (plain text, as `/` matches) before the oldest
 * line held, or from the cursor of the last call that was not complete. 1 when a match
 * was found and shown, 0 when none (yet: find.pending), -1 on failure. */
static int find_step(tui_app *app, tui_frame *f, logs_state *s)
{
    hp_log_search q = {.pattern = f->search,
                       .substring = 1,
                       .ignore_case = no_capital(f->search),
                       .job_id = f->job_id,
                       .limit = 1};
    hp_log_matches *m = NULL;
    char msg[256] = "";
    int64_t seq;
    size_t v;

    if (s->find.pending && strcmp(s->find.pattern, f->search) == 0) {
        q.before_seq = s->find.before_seq;
        q.from_job_id = s->find.from_job;
    } else {
        snprintf(s->find.pattern, sizeof(s->find.pattern), "%s", f->search);
        s->find.scanned = 0;
        q.before_seq = s->buf->count ? held_first(s) : 0;
    }
    if (tui_model_log_search(tui_app_model(app), &q, &m, msg, sizeof(msg)) != 0) {
        tui_app_status(app, 1, "/%s: %s", f->search, msg[0] ? msg : "search failed");
        s->find.pending = 0;
        return -1;
    }
    s->find.scanned += m->scanned;
    s->find.pending = !m->complete && !m->n_matches;
    s->find.before_seq = m->next_before_seq;
    s->find.from_job = m->next_job_id;
    if (!m->n_matches) {
        if (s->find.pending)
            tui_app_status(app, 0, "/%s: searching the log, %lld lines read (n or N goes on)",
                           f->search, (long long)s->find.scanned);
        else
            tui_app_status(app, 1, "/%s: no earlier match in the whole log", f->search);
        hp_log_matches_free(m);
        return 0;
    }
    seq = m->matches[0].line.seq;
    hp_log_matches_free(m);
    if (window_load(app, f, s, seq, 0) != 0)
        return -1;
    sync_shown(app, f, s);
    v = vfind_seq(f, s, seq);
    if (v == (size_t)-1) { /* a filter hides it: it is shown all the same */
        tui_app_status(app, 0, "/%s: seq %lld, hidden by the filter", f->search, (long long)seq);
        return 1;
    }
    s->hit = vabs(f, s, v);
    show_line(f, s, v);
    tui_app_status(app, 0, "/%s: seq %lld (found in the log on the server)", f->search,
                   (long long)seq);
    return 1;
}

/* A service's log follows the service: when its run is replaced (a restart), the rest
 * of the old run's lines, a separator, then the new run's. */
static int update(tui_app *app, tui_frame *f, int force)
{
    logs_state *s = state(f);
    int changed;
    int64_t now;

    if (!s)
        return -1;
    changed = fetch(app, f, s);
    /* A search that was not complete goes on, one bounded call per refresh. */
    if (s->grep_mode && s->grep.pending && s->grep_got < GREP_FILL) {
        grep_fill(app, f, s);
        changed = 1;
    } else if (s->find.pending && !s->grep_mode && f->search[0]) {
        find_run(app, f, s);
        changed = 1;
    }
    if (f->job_id || !f->service[0])
        return changed;
    now = tui_model_service_run(tui_app_model(app), f->service);
    if (!now || now == f->run_id)
        return changed;
    tui_view_logs_switch_run(f, now);
    fetch(app, f, s);
    return 1;
}

/* A line's time for the stamps column: the clock, or the date and the clock. */
static void fmt_stamp(int stamps, int64_t ts_ms, char *buf, size_t size)
{
    char clock[32], day[16] = "";
    time_t t = (time_t)(ts_ms / 1000);
    struct tm tm;

    tui_fmt_clock(ts_ms, clock, sizeof(clock));
    if (stamps == STAMPS_DATE) {
        if (ts_ms > 0 && localtime_r(&t, &tm))
            strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        else
            snprintf(day, sizeof(day), "----------");
    }
    snprintf(buf, size, "%s%s%s", day, day[0] ? " " : "", clock);
}

/* The rows line e takes at this width. */
static int line_rows(const logs_state *s, const tui_log_entry *e, int width)
{
    int pw = stamp_width(s->stamps);

    if (!s->wrap || width - pw <= 0)
        return 1;
    return tui_put_wrapped(NULL, 0, 0, width - pw, 0, e->text);
}

/* from and to: the seq of the first and last line on the screen (0: not known yet). */
static void draw_head(tui_frame *f, logs_state *s, WINDOW *w, int y, int x, int width, int64_t from,
                      int64_t to)
{
    char head[512];
    int used;

    snprintf(head, sizeof(head), "%s  %zu lines  %lld dropped  %s%s%s", s->what, s->buf->count,
             (long long)(s->buf->dropped + s->server_dropped),
             s->follow ? "following (scroll up to pause)" : "paused", s->wrap ? "  wrap" : "",
             s->stamps == STAMPS_DATE   ? "  date and time"
             : s->stamps == STAMPS_TIME ? "  timestamps"
                                        : "");
    wattron(w, A_BOLD);
    tui_blank(w, y, x, width);
    used = tui_put(w, y, x, width, head);
    wattroff(w, A_BOLD);
    if (!s->follow && s->fresh) {
        char more[64];
        snprintf(more, sizeof(more), "  %zu new: G or F to follow", s->fresh);
        wattron(w, A_REVERSE);
        used += tui_put(w, y, x + used, width - used, more);
        wattroff(w, A_REVERSE);
    }
    if (log_bigger(f, s) && !s->grep_mode && from) {
        /* Where the screen is in a log larger than the ring: by seq, the one number the
         * server keeps for every line (a job's lines are not counted). */
        char first[32];
        if (s->first_seq)
            snprintf(first, sizeof(first), "%lld", (long long)s->first_seq);
        else
            snprintf(first, sizeof(first), "?");
        snprintf(head, sizeof(head), "  seq %lld-%lld of %s-%lld%s", (long long)from, (long long)to,
                 first, (long long)s->newest,
                 from <= s->first_seq ? "  (top)"
                 : to >= s->newest    ? "  (end)"
                                      : "");
        used += tui_put(w, y, x + used, width - used, head);
    }
    if (s->grep_mode) {
        snprintf(head, sizeof(head), "  &%s: %zu matching in the whole log%s", f->filter,
                 s->n_shown, s->grep.pending ? " so far (searching)" : "");
        used += tui_put(w, y, x + used, width - used, head);
    } else if (f->filter[0] && s->bad[0]) {
        snprintf(head, sizeof(head), "  &%s: bad pattern (%s)", f->filter, s->bad);
        used += tui_put(w, y, x + used, width - used, head);
    } else if (f->filter[0]) {
        snprintf(head, sizeof(head), "  &%s: %zu %s", f->filter, s->n_shown,
                 f->filter[0] == '!' ? "not matching" : "matching");
        used += tui_put(w, y, x + used, width - used, head);
    }
    if (s->filter.since_ms > 0) {
        char when[32];
        tui_fmt_time(s->filter.since_ms, when, sizeof(when));
        if (f->filter[0])
            snprintf(head, sizeof(head), "  since %s", when);
        else
            snprintf(head, sizeof(head), "  since %s: %zu", when, s->n_shown);
        used += tui_put(w, y, x + used, width - used, head);
    }
    if (f->search[0]) {
        snprintf(head, sizeof(head), "  /%s (n/N)", f->search);
        tui_put(w, y, x + used, width - used, head);
    }
}

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    logs_state *s = state(f);
    size_t n, first, shown_from;
    int body = h - 1, y0 = y;
    attr_t mark = tui_attr(TUI_C_YELLOW) | A_REVERSE;

    if (!s)
        return;
    sync_shown(app, f, s);
    n = vcount(f, s);
    draw_head(f, s, w, y, x, width, 0, 0);
    if (s->gone && s->msg[0]) {
        wattron(w, tui_attr(TUI_C_RED));
        tui_put(w, y + 1, x, width, s->msg);
        wattroff(w, tui_attr(TUI_C_RED));
        y++;
        body--;
    }
    if (body <= 0)
        return;
    f->page = body;
    first = s->follow ? n : s->top;
    if (s->follow || first >= n) {
        /* From the end backwards, as many lines as fill the rows. */
        int used = 0;
        first = n;
        while (first > 0) {
            int need = line_rows(s, ventry(f, s, first - 1), width);
            if (used + need > body)
                break;
            used += need;
            first--;
        }
        if (first == n && n > 0)
            first = n - 1;
        s->top = first;
    }
    shown_from = first;
    for (int r = 0; r < body && first < n; first++) {
        const tui_log_entry *e = ventry(f, s, first);
        attr_t a = 0;
        int pw = stamp_width(s->stamps), r0 = r;
        const char *needle = f->search[0] ? f->search : NULL;
        if (e->stream == HP_STREAM_STDERR)
            a = tui_attr(TUI_C_RED) | A_BOLD;
        else if (e->stream == HP_STREAM_SYSTEM)
            a = tui_attr(TUI_C_CYAN) | A_DIM;
        if (tui_app_stale(app))
            a |= A_DIM;
        if (vabs(f, s, first) == s->hit)
            a |= A_UNDERLINE; /* the current match */
        if (pw) {
            char clock[48];
            fmt_stamp(s->stamps, e->ts_ms, clock, sizeof(clock));
            wattrset(w, A_DIM);
            tui_blank(w, y + 1 + r, x, width);
            tui_put(w, y + 1 + r, x, pw - 1, clock);
        }
        wattrset(w, a);
        if (!pw)
            tui_blank(w, y + 1 + r, x, width);
        if (s->wrap) {
            int rows = line_rows(s, e, width);
            for (int k = 1; k < rows && r + k < body; k++)
                tui_blank(w, y + 1 + r + k, x, width);
            r += tui_put_wrapped_marked(w, y + 1 + r, x + pw, width - pw, body - r, e->text, needle,
                                        mark);
        } else if (width - pw > 1 && tui_width(e->text) > width - pw) {
            /* Cut: the last column says there is more (w wraps to see it). */
            tui_put_marked(w, y + 1 + r, x + pw, width - pw - 1, e->text, needle, mark);
            tui_put(w, y + 1 + r, x + width - 1, 1, tui_draw_utf8() ? "\xe2\x80\xa6" : ">");
            r++;
        } else {
            tui_put_marked(w, y + 1 + r, x + pw, width - pw, e->text, needle, mark);
            r++;
        }
        if (!f->job_id && !f->run_id && e->stream != HP_STREAM_SYSTEM) {
            char name[ALL_NAME_W * 4 + 1];
            size_t nb = 0;
            for (int k = 0; k < ALL_NAME_W && e->text[nb] && e->text[nb] != ' '; k++)
                do /* one character, all of its bytes */
                    nb++;
                while (((unsigned char)e->text[nb] & 0xc0) == 0x80);
            snprintf(name, sizeof(name), "%.*s", (int)nb, e->text);
            wattrset(w, all_colour(s, name));
            tui_put(w, y + 1 + r0, x + pw, width - pw < ALL_NAME_W ? width - pw : ALL_NAME_W, name);
        }
        wattrset(w, A_NORMAL);
    }
    if (first > shown_from) /* the head again, with the seq of the lines on the screen */
        draw_head(f, s, w, y0, x, width, ventry(f, s, shown_from)->seq,
                  ventry(f, s, first - 1)->seq);
}

/* Puts shown line v at a third of the page from the top, so the lines around it show. */
static void show_line(tui_frame *f, logs_state *s, size_t v)
{
    size_t page = f->page > 0 ? (size_t)f->page : 1, n = vcount(f, s);
    size_t ctx = page >= 6 ? page / 3 : (page >= 3 ? 1 : 0);
    size_t last = n > page ? n - page : 0;

    s->follow = 0;
    s->top = v > ctx ? v - ctx : 0;
    if (s->top > last)
        s->top = last;
}

/* `/` or `n` with no later match in the ring: the window moves on page by page (the
 * server searches newest first only), looking in each page, for one slice of time;
 * n goes on from there. 1 when a match was found and shown. */
static int find_later(tui_app *app, tui_frame *f, logs_state *s)
{
    long long t0 = tui_now_ms();
    int64_t read = 0;

    while (!at_end(f, s) && tui_now_ms() - t0 < SEARCH_SLICE_MS) {
        int64_t from = s->buf->base + (int64_t)s->buf->count, to, keep = top_abs(f, s);
        window_after(app, f, s);
        to = s->buf->base + (int64_t)s->buf->count;
        if (to <= from)
            break; /* nothing came: the status says why */
        read += to - from;
        sync_shown(app, f, s);
        s->top = vlower(f, s, keep);
        for (size_t v = vlower(f, s, from); v < vcount(f, s); v++) {
            if (tui_find(ventry(f, s, v)->text, f->search)) {
                s->hit = vabs(f, s, v);
                show_line(f, s, v);
                tui_app_status(app, 0, "/%s: seq %lld", f->search, (long long)ventry(f, s, v)->seq);
                return 1;
            }
        }
    }
    if (at_end(f, s))
        tui_app_status(app, 1, "/%s: no later match", f->search);
    else
        tui_app_status(app, 0, "/%s: no match in the next %lld lines: n goes on", f->search,
                       (long long)read);
    return 0;
}

/* find_step's calls for one slice of time; the rest after a repaint. */
static int find_run(tui_app *app, tui_frame *f, logs_state *s)
{
    long long t0 = tui_now_ms();
    int rc;

    do
        rc = find_step(app, f, s);
    while (rc == 0 && s->find.pending && tui_now_ms() - t0 < SEARCH_SLICE_MS);
    if (s->find.pending)
        tui_app_more_waiting(app);
    return rc;
}

/* Moves to the next (dir 1) or previous (-1) line matching the search, from the current
 * match, else from the page shown. 1 when one was found. */
static int search(tui_app *app, tui_frame *f, logs_state *s, int dir)
{
    size_t n, v, from;
    size_t cur;

    sync_shown(app, f, s);
    n = vcount(f, s);
    if (!f->search[0]) {
        tui_app_status(app, 1, "no search yet: / and a pattern");
        return 0;
    }
    cur = s->hit >= 0 ? vfind(f, s, s->hit) : (size_t)-1;
    if (cur != (size_t)-1)
        from = cur;
    else if (s->follow)
        from = n; /* following: the newest match first */
    else
        from = dir > 0 ? (s->top ? s->top - 1 : (size_t)-1) : s->top + (size_t)f->page;
    for (size_t k = 0; k < n; k++) {
        if (dir > 0)
            v = from == (size_t)-1 ? k : from + 1 + k;
        else
            v = from > k ? from - 1 - k : (size_t)-1;
        if (v >= n)
            break;
        if (tui_find(ventry(f, s, v)->text, f->search)) {
            s->hit = vabs(f, s, v);
            show_line(f, s, v);
            tui_app_status(app, 0, "/%s: line %zu of %zu", f->search, v + 1, n);
            return 1;
        }
    }
    /* Earlier lines than the ring holds: the server searches the rest of the job's log. */
    if (f->job_id && !s->grep_mode && (dir < 0 || s->find.pending) && !at_start(f, s))
        return find_run(app, f, s) == 1;
    if (f->job_id && !s->grep_mode && dir > 0 && !at_end(f, s))
        return find_later(app, f, s);
    tui_app_status(app, 1, "/%s: no %s match", f->search,
                   cur == (size_t)-1 && !s->follow ? ""
                   : dir > 0                       ? "later"
                                                   : "earlier");
    return 0;
}

/* "10m", "2h", "30s", "1d" back from now_ms, or "14:05" / "14:05:30" today (yesterday
 * when that time is still to come): epoch ms into *out. -1 when when is neither. */
static int parse_since(const char *when, int64_t now_ms, int64_t *out)
{
    char *end;
    long long n;
    int h, m, sec = 0, used = 0;
    time_t now = (time_t)(now_ms / 1000), at;
    struct tm tm;

    errno = 0;
    n = strtoll(when, &end, 10);
    if (!errno && end != when && n >= 0 && end[0] && !end[1] && strchr("smhd", end[0]) &&
        n <= 3650LL * 86400) {
        long long unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 86400;
        *out = now_ms - n * unit * 1000;
        return 0;
    }
    if ((sscanf(when, "%2d:%2d%n", &h, &m, &used) == 2 && !when[used]) ||
        (sscanf(when, "%2d:%2d:%2d%n", &h, &m, &sec, &used) == 3 && !when[used])) {
        if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 || !localtime_r(&now, &tm))
            return -1;
        tm.tm_hour = h;
        tm.tm_min = m;
        tm.tm_sec = sec;
        tm.tm_isdst = -1;
        at = mktime(&tm);
        if (at == (time_t)-1)
            return -1;
        if (at > now)
            at -= 86400;
        *out = (int64_t)at * 1000;
        return 0;
    }
    return -1;
}

int tui_view_logs_since(tui_app *app, tui_frame *f, const char *when)
{
    logs_state *s = state(f);
    int64_t at = 0;

    if (!s)
        return 0;
    if (when[0] && parse_since(when, tui_wall_ms(), &at) != 0) {
        tui_app_status(app, 1, "bad time '%s': give 10m, 2h, 1d (back from now) or 14:05", when);
        return TUI_REDRAW;
    }
    s->filter.since_ms = at;
    sync_shown(app, f, s);
    if (at)
        tui_app_status(app, 0, "since %s: %zu lines", when, vcount(f, s));
    else
        tui_app_status(app, 0, "since: every line again");
    return TUI_HANDLED | TUI_REDRAW;
}

/* "~/x" as $HOME/x into buf; other paths as they are. */
static const char *expand_home(const char *path, char *buf, size_t size)
{
    const char *home = getenv("HOME");

    if (path[0] != '~' || path[1] != '/' || !home)
        return path;
    snprintf(buf, size, "%s%s", home, path + 1);
    return buf;
}

int tui_view_logs_write(tui_app *app, tui_frame *f, const char *path, int force)
{
    logs_state *s = state(f);
    char full[4096];
    const char *name = expand_home(path, full, sizeof(full));
    size_t n, written = 0;
    FILE *out = NULL;
    int fd, err = 0;

    if (!s)
        return 0;
    sync_shown(app, f, s);
    n = vcount(f, s);
    fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
    if (fd < 0 && errno == EEXIST) {
        tui_app_status(app, 1, "%s exists: :w! %s writes over it", path, path);
        return TUI_REDRAW;
    }
    if (fd < 0 || !(out = fdopen(fd, "w"))) {
        tui_app_status(app, 1, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return TUI_REDRAW;
    }
    for (size_t v = 0; v < n; v++) {
        const tui_log_entry *e = ventry(f, s, v);
        if (fprintf(out, "%s\n", e->text) < 0) {
            err = errno;
            break;
        }
        written++;
    }
    if (fclose(out) != 0 && !err)
        err = errno;
    if (err)
        tui_app_status(app, 1, "cannot write %s: %s (%zu lines written)", path, strerror(err),
                       written);
    else
        tui_app_status(app, 0, "wrote %zu lines to %s%s", written, path,
                       filter_active(&s->filter) ? " (the lines shown)" : "");
    return TUI_HANDLED | TUI_REDRAW;
}

/* Ctrl-S's file name typed: as `:w NAME`. */
static void save_typed(tui_app *app, const char *name)
{
    tui_frame *f = tui_app_frame(app);

    if (!name[0])
        tui_app_status(app, 0, "not saved: no file name");
    else if (f->ops == &tui_view_logs)
        tui_view_logs_write(app, f, name, 0);
}

static int key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    logs_state *s = state(f);
    size_t n, page, last;

    if (!s)
        return 0;
    sync_shown(app, f, s);
    n = vcount(f, s);
    page = f->page > 1 ? (size_t)f->page - 1 : 1;
    last = n > (size_t)f->page ? n - (size_t)f->page : 0;
    switch (cmd) {
    case TUI_CMD_UP:
    case TUI_CMD_PAGE_UP:
        s->follow = 0;
        page = cmd == TUI_CMD_UP ? 1 : page;
        if (s->top < page && !at_start(f, s)) {
            /* Past the oldest line held: the page before it (or more matches). */
            int64_t keep = top_abs(f, s);
            if (s->grep_mode)
                grep_step(app, f, s);
            else
                window_before(app, f, s);
            sync_shown(app, f, s);
            s->top = vlower(f, s, keep);
        }
        s->top = s->top > page ? s->top - page : 0;
        break;
    case TUI_CMD_DOWN:
    case TUI_CMD_PAGE_DOWN:
        page = cmd == TUI_CMD_DOWN ? 1 : page;
        if (s->top + page >= last && !at_end(f, s)) {
            /* Past the newest line held: the page after it, the oldest evicted. */
            int64_t keep = top_abs(f, s);
            window_after(app, f, s);
            sync_shown(app, f, s);
            s->top = vlower(f, s, keep);
            n = vcount(f, s);
            last = n > (size_t)f->page ? n - (size_t)f->page : 0;
        }
        s->top += page;
        if (s->top >= last) {
            s->top = last;
            if (at_end(f, s)) {
                s->follow = 1;
                s->fresh = 0;
            }
        }
        break;
    case TUI_CMD_TOP:
        s->follow = 0;
        if (!at_start(f, s) && !s->grep_mode) /* the job's first kept line */
            window_load(app, f, s, 0, 0);
        if (s->grep_mode) { /* the oldest match: each call is bounded, the log is not */
            long long t0 = tui_now_ms();
            while (s->grep.pending && grep_step(app, f, s) == 0 &&
                   tui_now_ms() - t0 < 5 * SEARCH_SLICE_MS)
                ;
            if (s->grep.pending)
                tui_app_status(app, 0, "&%s: older matches still to search: g again goes on",
                               f->filter);
            sync_shown(app, f, s);
        }
        s->top = 0;
        break;
    case TUI_CMD_WRAP:
        s->wrap = !s->wrap;
        break;
    case TUI_CMD_TIMESTAMPS:
        s->stamps = (s->stamps + 1) % STAMPS_N;
        tui_app_status(app, 0, "timestamps: %s",
                       s->stamps == STAMPS_OFF    ? "off"
                       : s->stamps == STAMPS_TIME ? "time"
                                                  : "date and time");
        break;
    case TUI_CMD_SAVE:
        tui_app_prompt(app, "save the lines shown to: ", 0, save_typed);
        break;
    case TUI_CMD_BOTTOM:
    case TUI_CMD_FOLLOW:
        if (!at_end(f, s) || (f->job_id && s->behind))
            window_load(app, f, s, 0, 1); /* the newest lines, followed from there */
        s->follow = 1;
        s->fresh = 0;
        s->hit = -1;
        break;
    case TUI_CMD_GREP: /* the `&` pattern was typed */
        if (f->filter[0] && !s->bad[0] && f->filter[0] != '!' && !s->filter.since_ms &&
            log_bigger(f, s)) {
            grep_start(app, f, s);
            sync_shown(app, f, s);
            tui_app_status(app, 0, "&%s: %zu lines%s", f->filter, vcount(f, s),
                           s->grep.pending ? " so far: the server searches on" : "");
        } else if (f->filter[0] && s->bad[0])
            tui_app_status(app, 1, "&%s: bad pattern (%s)", f->filter, s->bad);
        else if (f->filter[0])
            tui_app_status(app, 0, "&%s: %zu lines", f->filter, n);
        else
            tui_app_status(app, 0, "&: every line again");
        break;
    case TUI_CMD_SEARCH: /* the pattern was typed: the first match */
        s->hit = -1;
        s->find.pending = 0;
        search(app, f, s, s->follow ? -1 : 1);
        break;
    case TUI_CMD_SEARCH_NEXT:
    case TUI_CMD_SEARCH_PREV:
        search(app, f, s, cmd == TUI_CMD_SEARCH_NEXT ? 1 : -1);
        break;
    default:
        return 0;
    }
    return TUI_HANDLED | TUI_REDRAW;
}

const tui_view_ops tui_view_logs = {
    .name = "Logs",
    .scope = TUI_SCOPE_LOGS,
    .title = title,
    .update = update,
    .rows = rows,
    .draw = draw,
    .key = key,
    .leave = leave,
};
