/* SPDX-License-Identifier: Apache-2.0 */
/* The Logs view: one job's lines, or a run's (every job's, interleaved in seq order with
 * the action's name in front: the Runs and Services views' `l`), fetched incrementally by cursor
 * into a bounded ring, following the end until you scroll up (then counting what arrives), stderr
 * and system lines styled apart, wrap and timestamps, control characters escaped by tui_put; `/`
 * search with highlight and n/N, `&` (a regex, `&!` inverted) and `:since` to show only some
 * lines, `:w` to save them. The pattern text is typed in the app (f->search, f->filter); this
 * file only uses it. */
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
enum { STAMPS_OFF, STAMPS_TIME, STAMPS_DATE, STAMPS_N };

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
    else if (f->service[0])
        snprintf(buf, size, "Log of %s (run %lld)", f->service, (long long)f->run_id);
    else
        snprintf(buf, size, "Log of run %lld", (long long)f->run_id);
}

/* Brings the shown list up to date: rescanned when the `&` text or `:since` changed
 * (a bad pattern shows every line and says why in s->bad), evicted lines dropped, new
 * lines scanned. Without memory the filter shows nothing more. */
static void sync_shown(tui_frame *f, logs_state *s)
{
    int64_t base = s->buf->dropped, end = base + (int64_t)s->buf->count;
    size_t gone = 0;

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
    return filter_active(&s->filter) ? s->shown[v] : s->buf->dropped + (int64_t)v;
}

static const tui_log_entry *ventry(const tui_frame *f, const logs_state *s, size_t v)
{
    return tui_logbuf_at(s->buf, (size_t)(vabs(f, s, v) - s->buf->dropped));
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

static size_t rows(tui_app *app, const tui_frame *f)
{
    const logs_state *s = f->state;

    return s ? s->buf->count : 0;
}

void tui_view_logs_feed(tui_frame *f, const hp_log_page *p)
{
    logs_state *s = state(f);

    if (!s)
        return;
    for (size_t i = 0; i < p->n_lines; i++) {
        const hp_log_line *l = &p->lines[i];
        if (!f->job_id && l->src) {
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
        int rc = f->job_id ? tui_model_job_logs(tui_app_model(app), f->job_id, s->next_seq, &p,
                                                s->msg, sizeof(s->msg))
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
            return changed;
        }
        hp_log_page_free(p);
    }
    tui_app_more_waiting(app); /* every page came back full: the rest right after a repaint */
    return changed;
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

static void draw_head(tui_frame *f, logs_state *s, WINDOW *w, int y, int x, int width)
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
    if (f->filter[0] && s->bad[0]) {
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
    size_t n, first;
    int body = h - 1;
    attr_t mark = tui_attr(TUI_C_YELLOW) | A_REVERSE;

    if (!s)
        return;
    sync_shown(f, s);
    n = vcount(f, s);
    draw_head(f, s, w, y, x, width);
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
    for (int r = 0; r < body && first < n; first++) {
        const tui_log_entry *e = ventry(f, s, first);
        attr_t a = 0;
        int pw = stamp_width(s->stamps);
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
        wattrset(w, A_NORMAL);
    }
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

/* Moves to the next (dir 1) or previous (-1) line matching the search, from the current
 * match, else from the page shown. 1 when one was found. */
static int search(tui_app *app, tui_frame *f, logs_state *s, int dir)
{
    size_t n, v, from;
    size_t cur;

    sync_shown(f, s);
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
    sync_shown(f, s);
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
    sync_shown(f, s);
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
    sync_shown(f, s);
    n = vcount(f, s);
    page = f->page > 1 ? (size_t)f->page - 1 : 1;
    last = n > (size_t)f->page ? n - (size_t)f->page : 0;
    switch (cmd) {
    case TUI_CMD_UP:
    case TUI_CMD_PAGE_UP:
        s->follow = 0;
        page = cmd == TUI_CMD_UP ? 1 : page;
        s->top = s->top > page ? s->top - page : 0;
        break;
    case TUI_CMD_DOWN:
    case TUI_CMD_PAGE_DOWN:
        s->top += cmd == TUI_CMD_DOWN ? 1 : page;
        if (s->top >= last) {
            s->top = last;
            s->follow = 1;
            s->fresh = 0;
        }
        break;
    case TUI_CMD_TOP:
        s->follow = 0;
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
        s->follow = 1;
        s->fresh = 0;
        s->hit = -1;
        break;
    case TUI_CMD_GREP: /* the `&` pattern was typed */
        if (f->filter[0] && s->bad[0])
            tui_app_status(app, 1, "&%s: bad pattern (%s)", f->filter, s->bad);
        else if (f->filter[0])
            tui_app_status(app, 0, "&%s: %zu lines", f->filter, n);
        else
            tui_app_status(app, 0, "&: every line again");
        break;
    case TUI_CMD_SEARCH: /* the pattern was typed: the first match */
        s->hit = -1;
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
