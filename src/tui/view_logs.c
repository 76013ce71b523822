/* SPDX-License-Identifier: Apache-2.0 */
/* The Logs view: one job's lines, or a run's (every job's, interleaved in seq order with
 * the action's name in front: the Runs and Services views' `l`), fetched incrementally by cursor
 * into a bounded ring, following the end until you scroll up (then counting what arrives), stderr
 * and system lines styled apart, wrap and timestamps, control characters escaped by tui_put; `/`
 * search with highlight and n/N, `&` to show only the matching lines. The pattern text
 * is typed in the app (f->search, f->filter); this file only uses it. */
#include "config.h"

#include "tui/draw.h"
#include "tui/logbuf.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LINES = 20000, MAX_BYTES = 8 << 20, MAX_PAGES = 20, STAMP_WIDTH = 13 };

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
    /* `&`: the absolute numbers (evicted + ring index) of the lines matching shown_for,
     * scanned up to scanned. */
    int64_t *shown;
    size_t n_shown, cap_shown;
    int64_t scanned;
    char shown_for[64];
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

/* Brings the `&` list up to date: rescanned when the pattern changed, evicted lines
 * dropped, new lines scanned. Without memory the filter shows nothing more. */
static void sync_shown(tui_frame *f, logs_state *s)
{
    int64_t base = s->buf->dropped, end = base + (int64_t)s->buf->count;
    size_t gone = 0;

    if (strcmp(s->shown_for, f->filter) != 0) {
        snprintf(s->shown_for, sizeof(s->shown_for), "%s", f->filter);
        s->n_shown = 0;
        s->scanned = base;
        s->top = 0;
        s->hit = -1;
    }
    if (!f->filter[0])
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
        if (!tui_find(e->text, f->filter))
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

/* The lines the view shows: all of the ring, or the `&` matches. */
static size_t vcount(const tui_frame *f, const logs_state *s)
{
    return f->filter[0] ? s->n_shown : s->buf->count;
}

/* The absolute number of shown line v. */
static int64_t vabs(const tui_frame *f, const logs_state *s, size_t v)
{
    return f->filter[0] ? s->shown[v] : s->buf->dropped + (int64_t)v;
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

/* The rows line e takes at this width. */
static int line_rows(const logs_state *s, const tui_log_entry *e, int width)
{
    int pw = s->stamps ? STAMP_WIDTH : 0;

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
             s->stamps ? "  timestamps" : "");
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
    if (f->filter[0]) {
        snprintf(head, sizeof(head), "  &%s: %zu matching", f->filter, s->n_shown);
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
        int pw = s->stamps ? STAMP_WIDTH : 0;
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
            char clock[32];
            tui_fmt_clock(e->ts_ms, clock, sizeof(clock));
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
        s->stamps = !s->stamps;
        break;
    case TUI_CMD_BOTTOM:
    case TUI_CMD_FOLLOW:
        s->follow = 1;
        s->fresh = 0;
        s->hit = -1;
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
