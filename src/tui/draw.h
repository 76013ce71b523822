/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_tui's drawing helpers: text measured and clipped by wcwidth with control
 * characters escaped, the status table (glyph, word, colour), colours that honour
 * NO_COLOR, times and durations, and table columns. No data fetching here. */
#ifndef HP_TUI_DRAW_H
#define HP_TUI_DRAW_H

#include "client/types.h"

#include <curses.h>
#include <stddef.h>
#include <stdint.h>

/* Colour roles; tui_attr gives the attribute for one (0 without colours). */
enum {
    TUI_C_NONE,
    TUI_C_GREEN,
    TUI_C_RED,
    TUI_C_YELLOW,
    TUI_C_CYAN,
    TUI_C_MAGENTA,
    TUI_C_BLUE,
    TUI_C_BAR
};

/* X(id, word, glyph, ascii, colour): every status the views show. */
#define TUI_STATUS_TABLE(X)                                                                        \
    X(TUI_ST_PENDING, "pending", "\xe2\x97\x8b", "o", TUI_C_YELLOW)                                \
    X(TUI_ST_RUNNING, "running", "\xe2\x97\x8f", "*", TUI_C_GREEN)                                 \
    X(TUI_ST_RETRYING, "retrying", "\xe2\x86\xbb", "~", TUI_C_YELLOW)                              \
    X(TUI_ST_SUCCEEDED, "succeeded", "\xe2\x9c\x93", "+", TUI_C_GREEN)                             \
    X(TUI_ST_SUCCESS, "success", "\xe2\x9c\x93", "+", TUI_C_GREEN)                                 \
    X(TUI_ST_FAILED, "failed", "\xe2\x9c\x97", "x", TUI_C_RED)                                     \
    X(TUI_ST_TIMED_OUT, "timed_out", "\xe2\x8c\x9b", "x", TUI_C_RED)                               \
    X(TUI_ST_CANCELLED, "cancelled", "\xe2\x8a\x98", "-", TUI_C_MAGENTA)                           \
    X(TUI_ST_SKIPPED, "skipped", "\xe2\x86\xb7", "-", TUI_C_NONE)                                  \
    X(TUI_ST_INACTIVE, "inactive", "\xc2\xb7", ".", TUI_C_NONE)                                    \
    X(TUI_ST_EXITED, "exited", "\xe2\x96\xa0", "#", TUI_C_YELLOW)                                  \
    X(TUI_ST_DEGRADED, "degraded", "\xe2\x97\x90", "!", TUI_C_YELLOW)                              \
    X(TUI_ST_UNKNOWN, "unknown", "?", "?", TUI_C_NONE)

typedef enum tui_status {
#define TUI__ST_ENUM(id, word, glyph, ascii, colour) id,
    TUI_STATUS_TABLE(TUI__ST_ENUM)
#undef TUI__ST_ENUM
        TUI_ST__COUNT
} tui_status;

tui_status tui_status_of_service(hp_service_state s);
tui_status tui_status_of_run(hp_run_state s);
tui_status tui_status_of_job(hp_job_state s);
const char *tui_status_word(tui_status s);
/* The colour role of s (TUI_C_*). */
int tui_status_colour(tui_status s);

/* Set once after initscr: colours on unless NO_COLOR, UTF-8 glyphs when the locale is. */
void tui_draw_init(int colour, int utf8);
/* The colours of slot (TUI_C_*) from the settings file, before tui_draw_init: fg and bg
 * a curses colour, -1 the terminal's default, -2 unchanged. */
void tui_draw_theme(int slot, short fg, short bg);
int tui_draw_utf8(void);
attr_t tui_attr(int colour);

/* Writes s (UTF-8, any bytes) at (y, x) in at most width columns: control characters as
 * ^X or \xNN, invalid bytes as \xNN, tabs to the next multiple of 8, wide characters
 * measured by wcwidth. Returns the columns used. */
int tui_put(WINDOW *w, int y, int x, int width, const char *s);
/* s over as many rows of width columns as it needs, at most max_rows drawn; returns
 * the rows drawn (w NULL: only measures and returns the rows it needs). */
int tui_put_wrapped(WINDOW *w, int y, int x, int width, int max_rows, const char *s);
/* tui_put and tui_put_wrapped with each match of needle (NULL: none) drawn with attr on
 * top; needle matches as tui_find says. */
int tui_put_marked(WINDOW *w, int y, int x, int width, const char *s, const char *needle,
                   attr_t attr);
int tui_put_wrapped_marked(WINDOW *w, int y, int x, int width, int max_rows, const char *s,
                           const char *needle, attr_t attr);
/* The first match of needle in s, NULL when none (or needle is empty): a needle without
 * capitals matches in any case (smart case, as in less -i). */
const char *tui_find(const char *s, const char *needle);
/* The display width of s as tui_put would draw it. */
int tui_width(const char *s);
/* Fills width columns at (y, x) with blanks. */
void tui_blank(WINDOW *w, int y, int x, int width);
/* glyph + space + word in the status colour; returns the columns used. */
int tui_put_status(WINDOW *w, int y, int x, int width, tui_status s);

/* values as a sparkline of ▁▂▃▄▅▆▇█ (the highest value, at least 1, is the top), one
 * character per value, the last width values; "_" to "#" without UTF-8. Returns the
 * columns used. */
int tui_put_spark(WINDOW *w, int y, int x, int width, const double *values, size_t n);
/* "512K", "4.7M", "1.2G" (1024-based); "-" for 0 or less (nothing sampled). */
void tui_fmt_bytes(int64_t bytes, char *buf, size_t size);
/* "42s", "3m05s", "2h07m", "4d03h"; "-" for ms < 0. */
void tui_fmt_duration(int64_t ms, char *buf, size_t size);
/* A wall-clock time (ms since the epoch): "HH:MM:SS" today, else "MM-DD HH:MM"; "-"
 * for 0. */
void tui_fmt_time(int64_t epoch_ms, char *buf, size_t size);
int64_t tui_wall_ms(void);
/* "HH:MM:SS.mmm" local time of a log line. */
void tui_fmt_clock(int64_t epoch_ms, char *buf, size_t size);
/* Screen tests: the wall clock stands still at wall_ms (0: the real clock again). */
void tui_draw_fix_clock(int64_t wall_ms);

/* One table column: a header and a width (0 = take the rest). */
typedef struct tui_column {
    const char *header;
    int width;
} tui_column;
/* Widths of the n columns fitted to total: fixed ones as given while they fit (one
 * space apart), the flexible one the rest; columns that do not fit get 0. */
void tui_columns_fit(const tui_column *cols, size_t n, int total, int *out);
/* The header row of a table in bold. */
void tui_columns_header(WINDOW *w, int y, int x, const tui_column *cols, const int *widths,
                        size_t n);

/* The same with column sorted (-1: none) marked by an arrow, down when desc. */
void tui_columns_header_sorted(WINDOW *w, int y, int x, const tui_column *cols, const int *widths,
                               size_t n, int sorted, int desc);

/* Walks the cells of one table row: each call fills the next column (skipped when the
 * column did not fit). */
typedef struct tui_cells {
    WINDOW *w;
    int y, x;
    const int *widths;
    size_t col;
} tui_cells;
void tui_cell(tui_cells *t, const char *s);
/* A name: when wider than its column, shortened in the middle with an ellipsis, so
 * "backup-db-one" and "backup-db-two" stay apart. */
void tui_cell_name(tui_cells *t, const char *s);
void tui_cell_status(tui_cells *t, tui_status s);
void tui_cell_attr(tui_cells *t, const char *s, attr_t attr); /* s with attr on top */

#endif
