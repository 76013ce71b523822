/* SPDX-License-Identifier: Apache-2.0 */
/* Drawing helpers shared by every view: escaped, wcwidth-measured text, the status
 * glyph/word/colour table, colours (NO_COLOR aware), times and table columns. They
 * write into a WINDOW; they know nothing of the model or of the keys. */
#include "config.h"

#include "tui/draw.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <wchar.h>

static int use_colour;
static int use_utf8;

static const struct {
    const char *word, *glyph, *ascii;
    int colour;
} statuses[] = {
#define TUI__ST_ROW(id, word, glyph, ascii, colour) {word, glyph, ascii, colour},
    TUI_STATUS_TABLE(TUI__ST_ROW)
#undef TUI__ST_ROW
};

/* Each slot's pair: the defaults, changed by the settings file's theme. */
static short pair_fg[TUI_C_BAR + 1] = {-1,         COLOR_GREEN,   COLOR_RED,  COLOR_YELLOW,
                                       COLOR_CYAN, COLOR_MAGENTA, COLOR_BLUE, COLOR_BLACK};
static short pair_bg[TUI_C_BAR + 1] = {-1, -1, -1, -1, -1, -1, -1, COLOR_CYAN};

void tui_draw_theme(int slot, short fg, short bg)
{
    if (slot <= TUI_C_NONE || slot > TUI_C_BAR)
        return;
    if (fg != -2)
        pair_fg[slot] = fg;
    if (bg != -2)
        pair_bg[slot] = bg;
}

void tui_draw_init(int colour, int utf8)
{
    use_colour = colour;
    use_utf8 = utf8;
    if (!colour)
        return;
    start_color();
    use_default_colors();
    for (int slot = TUI_C_GREEN; slot <= TUI_C_BAR; slot++)
        init_pair((short)slot, pair_fg[slot] < COLORS ? pair_fg[slot] : -1,
                  pair_bg[slot] < COLORS ? pair_bg[slot] : -1);
}

int tui_draw_utf8(void)
{
    return use_utf8;
}

attr_t tui_attr(int colour)
{
    if (!use_colour || colour == TUI_C_NONE)
        return colour == TUI_C_BAR ? A_REVERSE : 0;
    return COLOR_PAIR(colour);
}

tui_status tui_status_of_service(hp_service_state s)
{
    switch (s) {
    case HP_SERVICE_INACTIVE:
        return TUI_ST_INACTIVE;
    case HP_SERVICE_RUNNING:
        return TUI_ST_RUNNING;
    case HP_SERVICE_SUCCESS:
        return TUI_ST_SUCCESS;
    case HP_SERVICE_FAILED:
        return TUI_ST_FAILED;
    case HP_SERVICE_EXITED:
        return TUI_ST_EXITED;
    case HP_SERVICE_DEGRADED:
        return TUI_ST_DEGRADED;
    }
    return TUI_ST_UNKNOWN;
}

tui_status tui_status_of_run(hp_run_state s)
{
    switch (s) {
    case HP_RUN_PENDING:
        return TUI_ST_PENDING;
    case HP_RUN_RUNNING:
        return TUI_ST_RUNNING;
    case HP_RUN_SUCCEEDED:
        return TUI_ST_SUCCEEDED;
    case HP_RUN_FAILED:
        return TUI_ST_FAILED;
    case HP_RUN_CANCELLED:
        return TUI_ST_CANCELLED;
    }
    return TUI_ST_UNKNOWN;
}

tui_status tui_status_of_job(hp_job_state s)
{
    switch (s) {
    case HP_JOB_PENDING:
        return TUI_ST_PENDING;
    case HP_JOB_RUNNING:
        return TUI_ST_RUNNING;
    case HP_JOB_RETRYING:
        return TUI_ST_RETRYING;
    case HP_JOB_SUCCEEDED:
        return TUI_ST_SUCCEEDED;
    case HP_JOB_FAILED:
        return TUI_ST_FAILED;
    case HP_JOB_TIMED_OUT:
        return TUI_ST_TIMED_OUT;
    case HP_JOB_CANCELLED:
        return TUI_ST_CANCELLED;
    case HP_JOB_SKIPPED:
        return TUI_ST_SKIPPED;
    }
    return TUI_ST_UNKNOWN;
}

const char *tui_status_word(tui_status s)
{
    return s < TUI_ST__COUNT ? statuses[s].word : "unknown";
}

int tui_status_colour(tui_status s)
{
    return s < TUI_ST__COUNT ? statuses[s].colour : TUI_C_NONE;
}

/* Walks s as tui_put draws it, in at most width columns; draws only when w is not NULL.
 * *consumed (may be NULL) gets the bytes of s that fit. */
static int icase(const char *needle)
{
    for (const char *p = needle; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            return 0;
    return 1;
}

const char *tui_find(const char *s, const char *needle)
{
    if (!needle || !*needle || !s)
        return NULL;
    return icase(needle) ? strcasestr(s, needle) : strstr(s, needle);
}

/* The matches of needle for walk to draw with mark on top of the window's attributes. */
typedef struct mark {
    const char *needle;
    size_t len;
    int icase;
    attr_t attr;
} mark;

static int walk_marked(WINDOW *w, int width, const char *s, size_t *consumed, const mark *mk);

static int walk(WINDOW *w, int width, const char *s, size_t *consumed)
{
    return walk_marked(w, width, s, consumed, NULL);
}

static int walk_marked(WINDOW *w, int width, const char *s, size_t *consumed, const mark *mk)
{
    mbstate_t st;
    size_t len = s ? strlen(s) : 0, i = 0, mark_end = 0;
    int used = 0, on = 0;
    char esc[16];
    attr_t base = 0;
    short pair = 0;

    if (w && mk)
        wattr_get(w, &base, &pair, NULL);
    memset(&st, 0, sizeof(st));
    while (i < len && used < width) {
        wchar_t wc;
        size_t n;
        int cw;

        if (!mk && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) {
            /* A run of printable ASCII in one call: most of what a view shows, and the
             * one-character wide calls below cost most of an idle redraw. */
            size_t j = i;
            while (j < len && used + (int)(j - i) < width && (unsigned char)s[j] >= 0x20 &&
                   (unsigned char)s[j] < 0x7f)
                j++;
            if (w)
                waddnstr(w, s + i, (int)(j - i));
            used += (int)(j - i);
            i = j;
            continue;
        }
        n = mbrtowc(&wc, s + i, len - i, &st);
        if (w && mk) {
            if (i >= mark_end && len - i >= mk->len &&
                (mk->icase ? strncasecmp(s + i, mk->needle, mk->len)
                           : strncmp(s + i, mk->needle, mk->len)) == 0)
                mark_end = i + mk->len;
            if ((i < mark_end) != on) {
                on = i < mark_end;
                wattr_set(w, on ? base | mk->attr : base, pair, NULL);
            }
        }

        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            memset(&st, 0, sizeof(st));
            snprintf(esc, sizeof(esc), "\\x%02X", (unsigned char)s[i]);
            n = 1;
            cw = 4;
        } else if (wc == L'\t') {
            int to = (used / 8 + 1) * 8;
            snprintf(esc, sizeof(esc), "%*s", to - used, "");
            cw = to - used;
        } else if (wc < 0x20 || wc == 0x7f) {
            snprintf(esc, sizeof(esc), "^%c", wc == 0x7f ? '?' : (char)(wc + '@'));
            cw = 2;
        } else if ((cw = wcwidth(wc)) < 0) {
            snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)wc);
            cw = (int)strlen(esc);
        } else {
            if (used + cw > width)
                break;
            if (w)
                waddnwstr(w, &wc, 1);
            used += cw;
            i += n;
            continue;
        }
        if (used + cw > width)
            break;
        if (w)
            waddnstr(w, esc, cw);
        used += cw;
        i += n;
    }
    if (on)
        wattr_set(w, base, pair, NULL);
    if (consumed)
        *consumed = i;
    return used;
}

int tui_put(WINDOW *w, int y, int x, int width, const char *s)
{
    if (width <= 0)
        return 0;
    wmove(w, y, x);
    return walk(w, width, s, NULL);
}

int tui_put_marked(WINDOW *w, int y, int x, int width, const char *s, const char *needle,
                   attr_t attr)
{
    mark mk = {needle, needle ? strlen(needle) : 0, needle ? icase(needle) : 0, attr};

    if (width <= 0)
        return 0;
    wmove(w, y, x);
    return walk_marked(w, width, s, NULL, mk.len ? &mk : NULL);
}

int tui_width(const char *s)
{
    return walk(NULL, 1 << 30, s, NULL);
}

int tui_put_wrapped(WINDOW *w, int y, int x, int width, int max_rows, const char *s)
{
    return tui_put_wrapped_marked(w, y, x, width, max_rows, s, NULL, 0);
}

int tui_put_wrapped_marked(WINDOW *w, int y, int x, int width, int max_rows, const char *s,
                           const char *needle, attr_t attr)
{
    size_t len = s ? strlen(s) : 0, off = 0, step;
    mark mk = {needle, needle ? strlen(needle) : 0, needle ? icase(needle) : 0, attr};
    int rows = 0;

    if (width <= 0)
        return 0;
    do {
        if (w && rows < max_rows)
            wmove(w, y + rows, x);
        walk_marked(w && rows < max_rows ? w : NULL, width, s + off, &step, mk.len ? &mk : NULL);
        if (step == 0 && off < len)
            step = 1; /* a character wider than the window: skip it rather than loop */
        off += step;
        rows++;
    } while (off < len && (!w || rows < max_rows));
    return rows;
}

void tui_blank(WINDOW *w, int y, int x, int width)
{
    if (width > 0)
        mvwhline(w, y, x, ' ', width);
}

int tui_put_status(WINDOW *w, int y, int x, int width, tui_status s)
{
    char buf[64];
    attr_t old_attr;
    short old_pair;
    int used;

    if (s >= TUI_ST__COUNT)
        s = TUI_ST_UNKNOWN;
    wattr_get(w, &old_attr, &old_pair, NULL);
    snprintf(buf, sizeof(buf), "%s %s", use_utf8 ? statuses[s].glyph : statuses[s].ascii,
             statuses[s].word);
    wattron(w, tui_attr(statuses[s].colour) | (s == TUI_ST_FAILED ? A_BOLD : 0));
    used = tui_put(w, y, x, width, buf);
    wattr_set(w, old_attr, old_pair, NULL);
    return used;
}

int tui_put_spark(WINDOW *w, int y, int x, int width, const double *values, size_t n)
{
    static const char *const bars[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                       "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
                                       "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char ascii[] = "_.-:=+*#";
    double top = 1;
    size_t from = width > 0 && n > (size_t)width ? n - (size_t)width : 0;
    int used = 0;

    for (size_t i = from; i < n; i++)
        if (values[i] > top)
            top = values[i];
    for (size_t i = from; i < n; i++) {
        int level = (int)(values[i] / top * 7 + 0.5);
        char one[2] = {ascii[level < 0 ? 0 : level > 7 ? 7 : level], '\0'};
        level = level < 0 ? 0 : level > 7 ? 7 : level;
        used += tui_put(w, y, x + used, 1, use_utf8 ? bars[level] : one);
    }
    return used;
}

void tui_fmt_bytes(int64_t bytes, char *buf, size_t size)
{
    static const char units[] = "KMGT";
    double v = (double)bytes / 1024;
    int u = 0;

    if (bytes <= 0) {
        snprintf(buf, size, "-");
        return;
    }
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

void tui_fmt_duration(int64_t ms, char *buf, size_t size)
{
    long long s = ms / 1000;

    if (ms < 0)
        snprintf(buf, size, "-");
    else if (s < 60)
        snprintf(buf, size, "%llds", s);
    else if (s < 3600)
        snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

static int64_t fixed_clock_ms;

void tui_draw_fix_clock(int64_t wall_ms)
{
    fixed_clock_ms = wall_ms;
}

int64_t tui_wall_ms(void)
{
    struct timespec ts;

    if (fixed_clock_ms)
        return fixed_clock_ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tui_fmt_clock(int64_t epoch_ms, char *buf, size_t size)
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;

    if (epoch_ms <= 0 || !localtime_r(&t, &tm))
        snprintf(buf, size, "--:--:--.---");
    else
        snprintf(buf, size, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(epoch_ms % 1000));
}

void tui_fmt_time(int64_t epoch_ms, char *buf, size_t size)
{
    time_t t = (time_t)(epoch_ms / 1000), now = (time_t)(tui_wall_ms() / 1000);
    struct tm tm, today;

    if (epoch_ms <= 0 || !localtime_r(&t, &tm) || !localtime_r(&now, &today)) {
        snprintf(buf, size, "-");
        return;
    }
    if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
        strftime(buf, size, "%H:%M:%S", &tm);
    else
        strftime(buf, size, "%m-%d %H:%M", &tm);
}

void tui_columns_fit(const tui_column *cols, size_t n, int total, int *out)
{
    int used = 0, flex = -1;

    for (size_t i = 0; i < n; i++) {
        out[i] = 0;
        if (cols[i].width == 0) {
            flex = (int)i;
            continue;
        }
        if (used + cols[i].width + (used ? 1 : 0) <= total) {
            out[i] = cols[i].width;
            used += cols[i].width + (used ? 1 : 0);
        }
    }
    if (flex >= 0 && total - used - 1 > 0)
        out[flex] = total - used - 1;
}

void tui_columns_header(WINDOW *w, int y, int x, const tui_column *cols, const int *widths,
                        size_t n)
{
    tui_columns_header_sorted(w, y, x, cols, widths, n, -1, 0);
}

void tui_columns_header_sorted(WINDOW *w, int y, int x, const tui_column *cols, const int *widths,
                               size_t n, int sorted, int desc)
{
    wattron(w, A_BOLD);
    tui_blank(w, y, x, getmaxx(w) - x);
    for (size_t i = 0; i < n; i++) {
        int used, sort = (int)i == sorted && widths[i] > 1;
        if (!widths[i])
            continue;
        /* The arrow takes the header's last column when the header fills it. */
        used = tui_put(w, y, x, widths[i] - (sort && tui_width(cols[i].header) >= widths[i]),
                       cols[i].header);
        if (sort)
            tui_put(w, y, x + used, widths[i] - used,
                    use_utf8 ? (desc ? "\xe2\x96\xbc" : "\xe2\x96\xb2") : (desc ? "v" : "^"));
        x += widths[i] + 1;
    }
    wattroff(w, A_BOLD);
}

void tui_cell(tui_cells *t, const char *s)
{
    int wd = t->widths[t->col++];

    if (!wd)
        return;
    tui_put(t->w, t->y, t->x, wd, s);
    t->x += wd + 1;
}

void tui_cell_name(tui_cells *t, const char *s)
{
    int wd = t->widths[t->col], n = 0, tail;
    size_t len = strlen(s), head_b, tail_b;
    char buf[512];

    if (!wd || tui_width(s) <= wd || len >= sizeof(buf) - 4) {
        tui_cell(t, s);
        return;
    }
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    if (n != tui_width(s)) { /* wide or control characters: cut at the end as before */
        tui_cell(t, s);
        return;
    }
    /* A third of the room for the end, where names told apart by a suffix differ. */
    tail = (wd - 1) / 3;
    for (head_b = 0, n = 0; n < wd - 1 - tail; n++)
        do
            head_b++;
        while (((unsigned char)s[head_b] & 0xc0) == 0x80);
    for (tail_b = len, n = 0; n < tail; n++)
        do
            tail_b--;
        while (tail_b > 0 && ((unsigned char)s[tail_b] & 0xc0) == 0x80);
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)head_b, s, tui_draw_utf8() ? "\xe2\x80\xa6" : "~",
             s + tail_b);
    tui_cell(t, buf);
}

void tui_cell_status(tui_cells *t, tui_status s)
{
    int wd = t->widths[t->col++];

    if (!wd)
        return;
    tui_put_status(t->w, t->y, t->x, wd, s);
    t->x += wd + 1;
}

void tui_cell_attr(tui_cells *t, const char *s, attr_t attr)
{
    attr_t old_attr;
    short old_pair;

    wattr_get(t->w, &old_attr, &old_pair, NULL);
    wattron(t->w, attr);
    tui_cell(t, s);
    wattr_set(t->w, old_attr, old_pair, NULL);
}
