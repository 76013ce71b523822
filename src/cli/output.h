/* SPDX-License-Identifier: Apache-2.0 */
/* What the CLI prints and how: colour on or off, status glyphs, aligned tables, escaped
 * text, human durations and times, log lines and JSON. Everything writes to stdout
 * unless it says otherwise; nothing here talks to the server. */
#ifndef HP_CLI_OUTPUT_H
#define HP_CLI_OUTPUT_H

#include "client/types.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ANSI colour on stdout: 1 when stdout is a terminal, NO_COLOR is unset or empty, TERM is
 * not "dumb" and allow is 1. Decided once by hp__out_setup; hp__out_color reads it. */
void hp__out_setup(int allow);
int hp__out_color(void);

/* The status word with its glyph ("● running"), coloured when colour is on. Unknown
 * words get no glyph. Writes into buf (size bytes); returns buf. */
const char *hp__out_status(const char *word, char *buf, size_t size);

/* s with control characters, C1 controls, DEL and invalid UTF-8 bytes as \xNN and a
 * backslash as \\: safe to show on a terminal. A new string (caller frees); NULL only
 * when out of memory. NULL shows as "". */
char *hp__out_escape(const char *s);

/* Human durations: "850ms", "4.2s", "3m12s", "2h05m", "3d04h"; "-" when ms < 0. */
const char *hp__out_duration(int64_t ms, char *buf, size_t size);
/* A memory size in binary units, one decimal below 10: "512K", "1.5M", "12M", "3.2G"; "-"
 * for 0 or less. Writes into buf (size bytes); returns buf. */
const char *hp__out_size(int64_t bytes, char *buf, size_t size);
/* A wall-clock time (ms since the epoch) in local time: "14:03:12" when today, else
 * "2024-05-01 14:03"; "-" for 0. */
const char *hp__out_when(int64_t ms, char *buf, size_t size);
/* "HH:MM:SS.mmm" in local time. */
const char *hp__out_clock(int64_t ms, char *buf, size_t size);
/* Milliseconds since the epoch, now. */
int64_t hp__out_now_ms(void);

/* Wraps text in dim / bold / red / green / yellow when colour is on. Into buf. */
const char *hp__out_paint(const char *sgr, const char *text, char *buf, size_t size);
#define HP__SGR_DIM    "2"
#define HP__SGR_BOLD   "1"
#define HP__SGR_RED    "31"
#define HP__SGR_GREEN  "32"
#define HP__SGR_YELLOW "33"

/* The width tables fit: the terminal's (TIOCGWINSZ on stdout), else $COLUMNS, else 0,
 * no limit, so a pipe gets whole values. */
size_t hp__out_columns(void);
/* Tables print without their header line from now on (--no-headers). */
void hp__out_no_headers(void);

/* A table laid out by libsmartcols, fitted to hp__out_columns() (no limit: whole values):
 * NAME, SERVICE and ACTION cells shortened in the middle, DESCRIPTION and ERROR at the
 * end with "…" (and left out first on a narrow terminal); JOB, RUN, TRY, PID and EXIT
 * aligned right; a STATUS cell is a state word, shown with its glyph and colour. Cells
 * are copied and escaped (hp__out_escape); no line ends in blanks. */
typedef struct hp__table hp__table;
hp__table *hp__table_new(size_t ncols, const char *const *headers); /* NULL: no memory */
/* Appends one row of ncols strings (NULL shows as "-"). */
void hp__table_row(hp__table *t, const char *const *cells);
void hp__table_print(hp__table *t, FILE *out);
void hp__table_free(hp__table *t); /* NULL safe */

/* One log line "HH:MM:SS.mmm src out| text", stderr lines marked "err|" (red with
 * colour), supervisor lines "sys|" (dim); the text is escaped. */
void hp__out_log_line(const hp_log_line *l);

/* json printed pretty (compact 0) or on one line (compact 1), then a newline. */
void hp__out_json(const cJSON *json, int compact);

#endif
