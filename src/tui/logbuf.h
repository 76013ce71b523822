/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded ring of log lines for the Logs view: a line cap and a byte cap, oldest
 * evicted first and counted as dropped; lines put in front (a page of older lines) evict
 * the newest instead. Lines are copied in; the ring owns them. */
#ifndef HP_TUI_LOGBUF_H
#define HP_TUI_LOGBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct tui_log_entry {
    char *text;
    int64_t ts_ms;
    int64_t seq;
    int stream; /* hp_log_stream */
} tui_log_entry;

typedef struct tui_logbuf {
    tui_log_entry *ring;
    size_t cap, head, count; /* head: index of the oldest */
    size_t bytes, max_bytes;
    int64_t dropped; /* evicted here plus what the server reported dropped */
    /* The number of the oldest kept line, counted so that a line keeps its number while
     * lines come and go at either end: +1 for each line evicted from the front, -1 for
     * each line put in front. */
    int64_t base;
} tui_logbuf;

/* A new ring of max_lines lines and max_bytes bytes of text; NULL without memory. */
tui_logbuf *tui_logbuf_new(size_t max_lines, size_t max_bytes);
void tui_logbuf_free(tui_logbuf *b); /* NULL safe */
/* Appends a copy of text; evicts the oldest as needed. -1 without memory. */
int tui_logbuf_push(tui_logbuf *b, const char *text, int64_t ts_ms, int64_t seq, int stream);
/* Puts a copy of text in front of the oldest; evicts the newest as needed (not counted as
 * dropped: they are on the server still). -1 without memory. */
int tui_logbuf_unshift(tui_logbuf *b, const char *text, int64_t ts_ms, int64_t seq, int stream);
/* Forgets every line (base and dropped kept). */
void tui_logbuf_clear(tui_logbuf *b);
/* 1 when one more line of len bytes would evict another. */
int tui_logbuf_full(const tui_logbuf *b, size_t len);
/* The i-th line, 0 = the oldest kept; NULL past the end. Borrowed. */
const tui_log_entry *tui_logbuf_at(const tui_logbuf *b, size_t i);

#endif
