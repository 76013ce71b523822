/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's presentation: the status glyph table, colour only on a terminal, tables
 * (laid out by libsmartcols, names cut in their middle here), escaping of everything
 * the server or a process sent before it reaches a terminal, human durations and
 * times, log lines and JSON. It never decides what to print or talks to the server:
 * the command files do. */
#include "config.h"

#include "cli/output.h"

#include <langinfo.h>
#include <libsmartcols.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

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

    /* Widths of UTF-8 text (glyphs, "…", descriptions) are counted by the locale's
     * rules: the user's, or C.UTF-8 when theirs is not UTF-8, since the server sends
     * UTF-8 whatever the locale. */
    if (!setlocale(LC_CTYPE, "") || strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8");
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

#define N_GLYPHS (sizeof(glyphs) / sizeof(glyphs[0]))

/* The row of word in glyphs, N_GLYPHS when it has none. */
static size_t glyph_index(const char *word)
{
    size_t i = 0;

    while (i < N_GLYPHS && strcmp(glyphs[i].word, word) != 0)
        i++;
    return i;
}

const char *hp__out_status(const char *word, char *buf, size_t size)
{
    char text[64];
    size_t i;

    if (!word)
        word = "unknown";
    if ((i = glyph_index(word)) == N_GLYPHS) {
        snprintf(buf, size, "%s", word);
        return buf;
    }
    snprintf(text, sizeof(text), "%s %s", glyphs[i].glyph, word);
    return hp__out_paint(glyphs[i].sgr, text, buf, size);
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

/* Laid out and printed by libsmartcols. The header decides how a column gives way when
 * the table is wider than the terminal, so every list agrees: names (NAME, SERVICE,
 * ACTION) lose their middle, so two names that differ at the end stay distinct; free
 * text (DESCRIPTION, ERROR) loses its end and is left out first when names would have
 * to go below their share, then the costs (CPU%, MEM), then the attempt count (TRY);
 * the rest (states, ids, times) never shrinks, and ids and counts align right. */
enum { KIND_FIXED, KIND_NAME, KIND_TEXT, KIND_NUMBER, KIND_STATUS, KIND_COST, KIND_MINOR };

/* The share of the terminal a name or a text keeps before libsmartcols cuts it further
 * (its relative width hint: 24 columns of 120, 16 of 80). */
#define NAME_SHARE 0.2
#define TEXT_SHARE 0.15

struct hp__table {
    struct libscols_table *tb;
    size_t ncols;
    int *kind;
};

static int column_kind(const char *header)
{
    static const struct {
        const char *header;
        int kind;
    } kinds[] = {{"NAME", KIND_NAME},        {"SERVICE", KIND_NAME},  {"ACTION", KIND_NAME},
                 {"DESCRIPTION", KIND_TEXT}, {"ERROR", KIND_TEXT},    {"JOB", KIND_NUMBER},
                 {"RUN", KIND_NUMBER},       {"TRY", KIND_MINOR},     {"PID", KIND_NUMBER},
                 {"EXIT", KIND_NUMBER},      {"STATUS", KIND_STATUS}, {"CPU%", KIND_COST},
                 {"MEM", KIND_COST}};

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(header, kinds[i].header) == 0)
            return kinds[i].kind;
    return KIND_FIXED;
}

const char *hp__out_size(int64_t bytes, char *buf, size_t size)
{
    static const char units[] = "KMGT";
    double v = (double)bytes / 1024;
    int u = 0;

    if (bytes <= 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    /* The dashboard's MEM column says the same: 1.5M, 12M, 3.2G. */
    snprintf(buf, size, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
    return buf;
}

hp__table *hp__table_new(size_t ncols, const char *const *headers)
{
    hp__table *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->ncols = ncols;
    t->kind = calloc(ncols, sizeof(*t->kind));
    t->tb = scols_new_table();
    if (!t->kind || !t->tb)
        goto fail;
    /* Cells are escaped here (hp__out_escape), once, as every other line the CLI prints;
     * libsmartcols' own encoding would escape the backslashes of those escapes again. */
    scols_table_enable_noencoding(t->tb, 1);
    scols_table_enable_colors(t->tb, color_on);
    scols_table_enable_noheadings(t->tb, no_headers);
    if (scols_table_set_column_separator(t->tb, "  ") != 0)
        goto fail;
    for (size_t i = 0; i < ncols; i++) {
        struct libscols_column *cl;
        int flags = 0;
        double share = 0;
        t->kind[i] = column_kind(headers[i]);
        if (t->kind[i] == KIND_NAME || t->kind[i] == KIND_TEXT) {
            flags = SCOLS_FL_TRUNC;
            share = t->kind[i] == KIND_NAME ? NAME_SHARE : TEXT_SHARE;
        } else if (t->kind[i] == KIND_NUMBER || t->kind[i] == KIND_COST ||
                   t->kind[i] == KIND_MINOR) {
            flags = SCOLS_FL_RIGHT;
        }
        cl = scols_table_new_column(t->tb, headers[i], share, flags);
        if (!cl)
            goto fail;
        if (color_on)
            scols_cell_set_color(scols_column_get_header(cl), "\033[" HP__SGR_BOLD "m");
    }
    return t;
fail:
    hp__table_free(t);
    return NULL;
}

void hp__table_row(hp__table *t, const char *const *cells)
{
    struct libscols_line *ln;

    if (!t || !(ln = scols_table_new_line(t->tb, NULL)))
        return;
    for (size_t i = 0; i < t->ncols; i++) {
        const char *text = cells[i] ? cells[i] : "-";
        char glyphed[96], *esc;
        size_t g;
        if (t->kind[i] == KIND_STATUS && (g = glyph_index(text)) < N_GLYPHS) {
            snprintf(glyphed, sizeof(glyphed), "%s %s", glyphs[g].glyph, text);
            text = glyphed;
            if (color_on) {
                char sgr[16];
                snprintf(sgr, sizeof(sgr), "\033[%sm", glyphs[g].sgr);
                scols_cell_set_color(scols_line_get_cell(ln, i), sgr);
            }
        }
        esc = hp__out_escape(text);
        if (esc && scols_line_refer_data(ln, i, esc) != 0)
            free(esc);
    }
}

/* The columns on screen of the character at s (len bytes left) in the current locale,
 * as libsmartcols counts them, and its bytes in *n; a byte that is not a character is
 * one column. */
static size_t char_width(const char *s, size_t len, size_t *n)
{
    mbstate_t st;
    wchar_t wc;
    int cw;

    memset(&st, 0, sizeof(st));
    *n = mbrtowc(&wc, s, len, &st);
    if (*n == (size_t)-1 || *n == (size_t)-2 || *n == 0) {
        *n = 1;
        return 1;
    }
    cw = wcwidth(wc);
    return cw < 0 ? 1 : (size_t)cw;
}

static size_t text_width(const char *s)
{
    size_t len = strlen(s), w = 0, n;

    for (size_t off = 0; off < len; off += n)
        w += char_width(s + off, len - off, &n);
    return w;
}

/* s cut to w columns with "…" in its middle (a name) or at its end (a text): a new
 * string, or NULL when s fits or there is no memory. A wide character is never split. */
static char *ellipsize(const char *s, size_t w, int kind)
{
    size_t len = strlen(s), total = text_width(s), head, tail, hb = 0, tb, seen = 0, n;
    char *out;

    if (total <= w || w == 0)
        return NULL;
    tail = kind == KIND_NAME ? (w - 1) / 3 : 0;
    head = w - 1 - tail;
    for (size_t cw; hb < len && seen + (cw = char_width(s + hb, len - hb, &n)) <= head; hb += n)
        seen += cw;
    /* the tail starts at the first character after which at most tail columns remain */
    for (tb = hb; tb < len && total - seen > tail; tb += n)
        seen += char_width(s + tb, len - tb, &n);
    out = malloc(hb + 3 + (len - tb) + 1);
    if (!out)
        return NULL;
    memcpy(out, s, hb);
    memcpy(out + hb, "\u2026", 3);
    memcpy(out + hb + 3, s + tb, len - tb + 1);
    return out;
}

/* Column widths libsmartcols chose for the last layout, into w (ncols). */
static int layout(hp__table *t, size_t *w)
{
    char *text = NULL;
    int rc = scols_print_table_to_string(t->tb, &text);

    free(text);
    for (size_t c = 0; rc == 0 && c < t->ncols; c++)
        w[c] = scols_column_get_width(scols_table_get_column(t->tb, c));
    return rc;
}

/* Fits the table to limit columns: libsmartcols picks the widths (names and texts cut
 * down to their share of the terminal first, then towards their header's width); the
 * texts are left out when the names could not keep their share with them, then the
 * costs (CPU%, MEM), then the attempt count (TRY); then the cells too wide for their
 * column are cut here, as a name must lose its middle. */
static void fit(hp__table *t, size_t limit)
{
    static const int dropped[] = {KIND_TEXT, KIND_COST, KIND_MINOR};
    size_t *w = calloc(t->ncols, sizeof(*w)), *counted = calloc(t->ncols, sizeof(*counted));
    size_t need = 0;
    struct libscols_iter *itr = NULL;
    struct libscols_line *ln;

    if (!w || !counted)
        goto out;
    scols_table_set_termforce(t->tb, SCOLS_TERMFORCE_NEVER); /* the natural widths */
    if (layout(t, w) != 0)
        goto out;
    for (size_t c = 0; c < t->ncols; c++) {
        size_t share = (size_t)((t->kind[c] == KIND_NAME   ? NAME_SHARE
                                 : t->kind[c] == KIND_TEXT ? TEXT_SHARE
                                                           : 0) *
                                (double)limit);
        counted[c] = share && w[c] > share ? share : w[c];
        need += (c ? 2 : 0) + counted[c];
    }
    /* Left out while too wide: the texts first, then what the processes cost (CPU%, MEM):
     * on a narrow terminal a status or a name matters more. */
    for (size_t k = 0; k < sizeof(dropped) / sizeof(dropped[0]) && need > limit; k++)
        for (size_t c = 0; c < t->ncols; c++) {
            struct libscols_column *cl = scols_table_get_column(t->tb, c);
            if (t->kind[c] != dropped[k])
                continue;
            scols_column_set_flags(cl, scols_column_get_flags(cl) | SCOLS_FL_HIDDEN);
            need = need > counted[c] + 2 ? need - counted[c] - 2 : 0;
        }
    scols_table_set_termforce(t->tb, SCOLS_TERMFORCE_ALWAYS);
    scols_table_set_termwidth(t->tb, limit);
    if (layout(t, w) != 0 || !(itr = scols_new_iter(SCOLS_ITER_FORWARD)))
        goto out;
    while (scols_table_next_line(t->tb, itr, &ln) == 0)
        for (size_t c = 0; c < t->ncols; c++) {
            char *cut;
            if (t->kind[c] != KIND_NAME && t->kind[c] != KIND_TEXT)
                continue;
            cut = ellipsize(scols_cell_get_data(scols_line_get_cell(ln, c)), w[c], t->kind[c]);
            if (cut && scols_line_refer_data(ln, c, cut) != 0)
                free(cut);
        }
out:
    scols_free_iter(itr);
    free(w);
    free(counted);
}

void hp__table_print(hp__table *t, FILE *out)
{
    size_t limit = hp__out_columns();
    char *text = NULL;

    if (!t)
        return;
    if (limit > 0)
        fit(t, limit);
    else
        scols_table_set_termforce(t->tb, SCOLS_TERMFORCE_NEVER); /* a pipe: whole values */
    if (scols_print_table_to_string(t->tb, &text) != 0 || !text)
        goto out;
    /* No blanks at the end of a line: a row whose last cells are empty ends with the
     * last cell that has something. */
    for (char *line = text, *nl; *line; line = nl + 1) {
        size_t n;
        nl = strchr(line, '\n');
        n = nl ? (size_t)(nl - line) : strlen(line);
        while (n > 0 && line[n - 1] == ' ')
            n--;
        fwrite(line, 1, n, out);
        fputc('\n', out);
        if (!nl)
            break;
    }
out:
    free(text);
}

void hp__table_free(hp__table *t)
{
    if (!t)
        return;
    scols_unref_table(t->tb);
    free(t->kind);
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
