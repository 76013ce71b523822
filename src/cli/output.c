/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's presentation: the status glyph table, colour only on a terminal, aligned
 * tables, escaping of everything the server or a process sent before it reaches a
 * terminal, human durations and times, log lines and JSON. It never decides what to
 * print or talks to the server: the command files do. */
#include "config.h"

#include "cli/output.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int color_on;
static int no_headers;

void hp__out_no_headers(void)
{
    no_headers = 1;
}

size_t hp__out_columns(void)
{
    struct winsize ws;
    const char *env = getenv("COLUMNS");
    long n;
    char *end;

    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (!env || !*env)
        return 0;
    n = strtol(env, &end, 10);
    return *end == '\0' && n > 0 && n < 100000 ? (size_t)n : 0;
}

void hp__out_setup(int allow)
{
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");

    color_on = allow && isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
               !(term && strcmp(term, "dumb") == 0);
}

int hp__out_color(void)
{
    return color_on;
}

const char *hp__out_paint(const char *sgr, const char *text, char *buf, size_t size)
{
    if (color_on)
        snprintf(buf, size, "\033[%sm%s\033[0m", sgr, text);
    else
        snprintf(buf, size, "%s", text);
    return buf;
}

/* X(word, glyph, colour): every state word of jobs, runs and services. */
#define STATUS_GLYPHS(X)                                                                           \
    X("running", "\u25cf", HP__SGR_GREEN)                                                          \
    X("degraded", "\u25d0", HP__SGR_YELLOW)                                                        \
    X("succeeded", "\u2714", HP__SGR_GREEN)                                                        \
    X("success", "\u2714", HP__SGR_GREEN)                                                          \
    X("failed", "\u2716", HP__SGR_RED)                                                             \
    X("timed_out", "\u2716", HP__SGR_RED)                                                          \
    X("inactive", "\u25cb", HP__SGR_DIM)                                                           \
    X("stopped", "\u25cb", HP__SGR_DIM)                                                            \
    X("exited", "\u25cb", HP__SGR_DIM)                                                             \
    X("pending", "\u25cc", HP__SGR_YELLOW)                                                         \
    X("retrying", "\u25cc", HP__SGR_YELLOW)                                                        \
    X("cancelled", "\u2298", HP__SGR_DIM)                                                          \
    X("skipped", "\u2298", HP__SGR_DIM)

static const struct {
    const char *word, *glyph, *sgr;
} glyphs[] = {
#define GLYPH_ROW(w, g, c) {w, g, c},
    STATUS_GLYPHS(GLYPH_ROW)
#undef GLYPH_ROW
};

const char *hp__out_status(const char *word, char *buf, size_t size)
{
    char text[64];

    if (!word)
        word = "unknown";
    for (size_t i = 0; i < sizeof(glyphs) / sizeof(glyphs[0]); i++)
        if (strcmp(glyphs[i].word, word) == 0) {
            snprintf(text, sizeof(text), "%s %s", glyphs[i].glyph, word);
            return hp__out_paint(glyphs[i].sgr, text, buf, size);
        }
    snprintf(buf, size, "%s", word);
    return buf;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    unsigned int cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    /* C1 controls (U+0080..U+009F) act on terminals like ESC sequences do. */
    if (cp >= 0x80 && cp <= 0x9f)
        return 0;
    return n;
}

char *hp__out_escape(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)p), o = 0;
    char *out = malloc(len * 4 + 1);

    if (!out)
        return NULL;
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 1 && *p == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (n == 1 && (*p == '\t' || (*p >= 0x20 && *p != 0x7f))) {
            out[o++] = (char)*p;
        } else if (n >= 2) {
            memcpy(out + o, p, n);
            o += n;
            p += n;
            continue;
        } else {
            if (n == 0 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                /* A C1 control: show its code point's byte, not the lead byte alone. */
                snprintf(out + o, 5, "\\x%02x", p[1]);
                o += 4;
                p += 2;
                continue;
            }
            snprintf(out + o, 5, "\\x%02x", *p);
            o += 4;
        }
        p++;
    }
    out[o] = '\0';
    return out;
}

const char *hp__out_duration(int64_t ms, char *buf, size_t size)
{
    long long s = ms / 1000;

    if (ms < 0)
        snprintf(buf, size, "-");
    else if (ms < 1000)
        snprintf(buf, size, "%lldms", (long long)ms);
    else if (ms < 10000)
        snprintf(buf, size, "%lld.%llds", s, (long long)(ms % 1000) / 100);
    else if (s < 60)
        snprintf(buf, size, "%llds", s);
    else if (s < 3600)
        snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
    return buf;
}

int64_t hp__out_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *hp__out_when(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000), now = time(NULL);
    struct tm tm, today;

    if (ms <= 0 || !localtime_r(&t, &tm) || !localtime_r(&now, &today)) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
        strftime(buf, size, "%H:%M:%S", &tm);
    else
        strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

const char *hp__out_clock(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char hms[16];

    if (!localtime_r(&t, &tm) || strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
        snprintf(hms, sizeof(hms), "??:??:??");
    snprintf(buf, size, "%s.%03d", hms, (int)(ms % 1000));
    return buf;
}

/* ---- tables ----------------------------------------------------------------------- */

struct hp__table {
    size_t ncols, nrows, cap;
    char **cells; /* (nrows + 1) * ncols, row 0 the headers */
};

static char *dup_or_dash(const char *s)
{
    return strdup(s ? s : "-");
}

hp__table *hp__table_new(size_t ncols, const char *const *headers)
{
    hp__table *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->ncols = ncols;
    t->cap = 16;
    t->cells = calloc(t->cap * ncols, sizeof(char *));
    if (!t->cells) {
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < ncols; i++)
        t->cells[i] = dup_or_dash(headers[i]);
    t->nrows = 1;
    return t;
}

void hp__table_row(hp__table *t, const char *const *cells)
{
    if (!t)
        return;
    if (t->nrows == t->cap) {
        char **grown = realloc(t->cells, t->cap * 2 * t->ncols * sizeof(char *));
        if (!grown)
            return;
        t->cells = grown;
        t->cap *= 2;
    }
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = dup_or_dash(cells[i]);
    t->nrows++;
}

/* Characters on screen: UTF-8 lead bytes, not counting ANSI escape sequences. */
static size_t width(const char *s)
{
    size_t w = 0;

    while (*s) {
        if (*s == '\033') {
            while (*s && *s != 'm')
                s++;
            if (*s)
                s++;
            continue;
        }
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
        s++;
    }
    return w;
}

/* How a column gives way when the table is wider than the terminal: names lose their
 * middle (two names that differ at the end stay distinct), free text its end, the rest
 * (states, numbers, times) never shrinks. Chosen by the header so every list agrees. */
enum { FIT_FIXED, FIT_MIDDLE, FIT_END };

static int fit_kind(const char *header)
{
    static const char *const middle[] = {"NAME", "SERVICE", "ACTION"};
    static const char *const end[] = {"DESCRIPTION", "ERROR"};

    for (size_t i = 0; i < sizeof(middle) / sizeof(middle[0]); i++)
        if (strcmp(header, middle[i]) == 0)
            return FIT_MIDDLE;
    for (size_t i = 0; i < sizeof(end) / sizeof(end[0]); i++)
        if (strcmp(header, end[i]) == 0)
            return FIT_END;
    return FIT_FIXED;
}

/* Byte offset of the character number n of s (plain text, no escapes). */
static size_t char_offset(const char *s, size_t n)
{
    size_t off = 0;

    while (s[off] && n > 0) {
        off++;
        while (((unsigned char)s[off] & 0xc0) == 0x80)
            off++;
        n--;
    }
    return off;
}

/* s cut to w characters with an ellipsis in the middle or at the end, into buf. Cells
 * with colour escapes are states, which never shrink, so plain text is enough here. */
static const char *ellipsize(const char *s, size_t w, int kind, char *buf, size_t size)
{
    size_t len = width(s), head, tail, hb, tb;

    if (len <= w || w == 0 || kind == FIT_FIXED)
        return s;
    if (kind == FIT_END) {
        head = w - 1;
        tail = 0;
    } else {
        tail = (w - 1) / 3;
        head = w - 1 - tail;
    }
    hb = char_offset(s, head);
    tb = char_offset(s, len - tail);
    if (hb + (strlen(s) - tb) + 4 > size)
        return s;
    memcpy(buf, s, hb);
    memcpy(buf + hb, "\u2026", 3);
    memcpy(buf + hb + 3, s + tb, strlen(s + tb) + 1);
    return buf;
}

/* Narrows the widest shrinkable column of w (a name to 12, a text to 10) one step at a
 * time until the row fits limit; then drops the text columns (width 0) and narrows the
 * names to 5: on a narrow terminal a name is worth more than a clipped description.
 * The two blanks between columns count. */
static void fit_widths(const hp__table *t, size_t *w, size_t limit)
{
    size_t total = 0;

    for (size_t c = 0; c < t->ncols; c++)
        total += w[c] + (c ? 2 : 0);
    for (int phase = 0; phase < 3 && total > limit; phase++) {
        for (size_t c = 0; phase == 1 && c < t->ncols && total > limit; c++)
            if (fit_kind(t->cells[c]) == FIT_END && w[c] > 0) {
                total -= w[c] + 2;
                w[c] = 0;
            }
        while (phase != 1 && total > limit) {
            size_t best = t->ncols;
            for (size_t c = 0; c < t->ncols; c++) {
                int kind = fit_kind(t->cells[c]);
                size_t min = phase == 0 ? (kind == FIT_MIDDLE ? 12 : 10) : 5;
                if (kind != FIT_FIXED && (phase == 0 || kind == FIT_MIDDLE) && w[c] > min &&
                    (best == t->ncols || w[c] > w[best]))
                    best = c;
            }
            if (best == t->ncols)
                break;
            w[best]--;
            total--;
        }
    }
}

void hp__table_print(const hp__table *t, FILE *out)
{
    size_t *w, limit = hp__out_columns();
    char cut[4096], buf[sizeof(cut) + 16]; /* a cut cell: at most 4 bytes a column */

    if (!t)
        return;
    w = calloc(t->ncols, sizeof(*w));
    if (!w)
        return;
    for (size_t r = no_headers ? 1 : 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    if (limit > 0)
        fit_widths(t, w, limit);
    for (size_t r = no_headers ? 1 : 0; r < t->nrows; r++) {
        size_t end = 0; /* one past the last shown, non-empty cell: no trailing blanks */
        for (size_t c = 0; c < t->ncols; c++)
            if (w[c] > 0 && *t->cells[r * t->ncols + c])
                end = c + 1;
        for (size_t c = 0; c < end; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            int last = c + 1 == end;
            if (w[c] == 0)
                continue; /* a column dropped to fit */
            cell = ellipsize(cell, w[c], fit_kind(t->cells[c]), cut, sizeof(cut));
            if (r == 0)
                cell = hp__out_paint(HP__SGR_BOLD, cell, buf, sizeof(buf));
            fputs(cell, out);
            if (!last)
                fprintf(out, "%*s", (int)(w[c] - width(cell) + 2), "");
        }
        fputc('\n', out);
    }
    free(w);
}

void hp__table_free(hp__table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

/* ---- log lines and JSON ------------------------------------------------------------- */

void hp__out_log_line(const hp_log_line *l)
{
    char clock[32], mark[32];
    char *src = hp__out_escape(l->src), *text = hp__out_escape(l->line);

    hp__out_clock(l->ts_ms, clock, sizeof(clock));
    if (l->stream == HP_STREAM_STDERR)
        hp__out_paint(HP__SGR_RED, "err|", mark, sizeof(mark));
    else if (l->stream == HP_STREAM_SYSTEM)
        hp__out_paint(HP__SGR_DIM, "sys|", mark, sizeof(mark));
    else
        snprintf(mark, sizeof(mark), "out|");
    if (color_on)
        printf("\033[2m%s\033[0m %s %s %s\n", clock, src ? src : "", mark, text ? text : "");
    else
        printf("%s %s %s %s\n", clock, src ? src : "", mark, text ? text : "");
    free(src);
    free(text);
}

void hp__out_json(const cJSON *json, int compact)
{
    char *text = compact ? cJSON_PrintUnformatted(json) : cJSON_Print(json);

    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
    }
    free(text);
}
