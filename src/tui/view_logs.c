/* The Logs view: one job's lines fetched incrementally by cursor into a bounded ring,
 * following the end until you scroll up (then counting what arrives), stderr and system
 * lines styled apart, wrap and timestamps, control characters escaped by tui_put. No
 * search or filter yet. */
#include "config.h"

#include "tui/draw.h"
#include "tui/logbuf.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <stdio.h>
#include <stdlib.h>

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
} logs_state;

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
    f->state = s;
    return s;
}

static void leave(tui_frame *f)
{
    logs_state *s = f->state;

    if (s)
        tui_logbuf_free(s->buf);
    free(s);
    f->state = NULL;
}

static void title(const tui_frame *f, char *buf, size_t size)
{
    snprintf(buf, size, "Log of job %lld", (long long)f->job_id);
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
        tui_logbuf_push(s->buf, l->line, l->ts_ms, l->seq, (int)l->stream);
        if (!s->follow)
            s->fresh++;
    }
    s->server_dropped = p->dropped;
    if (p->next_seq > s->next_seq)
        s->next_seq = p->next_seq;
}

static int update(tui_app *app, tui_frame *f, int force)
{
    logs_state *s = state(f);
    int changed = 0;

    if (!s)
        return -1;
    for (int page = 0; page < MAX_PAGES; page++) {
        hp_log_page *p = NULL;
        if (tui_model_job_logs(tui_app_model(app), f->job_id, s->next_seq, &p, s->msg,
                               sizeof(s->msg)) != 0) {
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
        if (p->n_lines < 1000) {
            hp_log_page_free(p);
            break;
        }
        hp_log_page_free(p);
    }
    return changed;
}

/* The rows line e takes at this width. */
static int line_rows(const logs_state *s, const tui_log_entry *e, int width)
{
    int pw = s->stamps ? STAMP_WIDTH : 0;

    if (!s->wrap || width - pw <= 0)
        return 1;
    return tui_put_wrapped(NULL, 0, 0, width - pw, 0, e->text);
}

static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    logs_state *s = state(f);
    char head[256];
    size_t n, first;
    int body = h - 1;

    if (!s)
        return;
    n = s->buf->count;
    snprintf(head, sizeof(head), "job %lld  %zu lines  %lld dropped  %s%s%s", (long long)f->job_id,
             n, (long long)(s->buf->dropped + s->server_dropped),
             s->follow ? "following (scroll up to pause)" : "paused", s->wrap ? "  wrap" : "",
             s->stamps ? "  timestamps" : "");
    wattron(w, A_BOLD);
    tui_blank(w, y, x, width);
    tui_put(w, y, x, width, head);
    wattroff(w, A_BOLD);
    if (!s->follow && s->fresh) {
        char more[64];
        snprintf(more, sizeof(more), "  %zu new: G or F to follow", s->fresh);
        wattron(w, A_REVERSE);
        tui_put(w, y, x + tui_width(head), width - tui_width(head), more);
        wattroff(w, A_REVERSE);
    }
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
            int need = line_rows(s, tui_logbuf_at(s->buf, first - 1), width);
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
        const tui_log_entry *e = tui_logbuf_at(s->buf, first);
        attr_t a = 0;
        int pw = s->stamps ? STAMP_WIDTH : 0;
        if (e->stream == HP_STREAM_STDERR)
            a = tui_attr(TUI_C_RED) | A_BOLD;
        else if (e->stream == HP_STREAM_SYSTEM)
            a = tui_attr(TUI_C_CYAN) | A_DIM;
        if (tui_app_stale(app))
            a |= A_DIM;
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
            r += tui_put_wrapped(w, y + 1 + r, x + pw, width - pw, body - r, e->text);
        } else {
            tui_put(w, y + 1 + r, x + pw, width - pw, e->text);
            r++;
        }
        wattrset(w, A_NORMAL);
    }
}

static int key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    logs_state *s = state(f);
    size_t n, page, last;

    if (!s)
        return 0;
    n = s->buf->count;
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
