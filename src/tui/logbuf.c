/* SPDX-License-Identifier: Apache-2.0 */
/* The Logs view's bounded ring buffer: fixed line slots plus a byte budget, eviction of
 * the oldest with a dropped count. No I/O and no drawing. */
#include "config.h"

#include "tui/logbuf.h"

#include <stdlib.h>
#include <string.h>

tui_logbuf *tui_logbuf_new(size_t max_lines, size_t max_bytes)
{
    tui_logbuf *b = calloc(1, sizeof(*b));

    if (!b || max_lines == 0)
        goto fail;
    b->ring = calloc(max_lines, sizeof(*b->ring));
    if (!b->ring)
        goto fail;
    b->cap = max_lines;
    b->max_bytes = max_bytes;
    return b;
fail:
    free(b);
    return NULL;
}

static void drop_oldest(tui_logbuf *b)
{
    tui_log_entry *e = &b->ring[b->head];

    b->bytes -= strlen(e->text) + 1;
    free(e->text);
    memset(e, 0, sizeof(*e));
    b->head = (b->head + 1) % b->cap;
    b->count--;
    b->dropped++;
    b->base++;
}

static void drop_newest(tui_logbuf *b)
{
    tui_log_entry *e = &b->ring[(b->head + b->count - 1) % b->cap];

    b->bytes -= strlen(e->text) + 1;
    free(e->text);
    memset(e, 0, sizeof(*e));
    b->count--;
}

void tui_logbuf_free(tui_logbuf *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->count; i++)
        free(b->ring[(b->head + i) % b->cap].text);
    free(b->ring);
    free(b);
}

/* One line in at either end: at the back evicting the oldest (counted as dropped), or in
 * front evicting the newest (still on the server, so not counted). */
static int put(tui_logbuf *b, const char *text, int64_t ts_ms, int64_t seq, int stream, int front)
{
    size_t len = strlen(text ? text : "");
    tui_log_entry *e;
    char *copy = malloc(len + 1);

    if (!copy)
        return -1;
    memcpy(copy, text ? text : "", len + 1);
    while (b->count > 0 && tui_logbuf_full(b, len))
        (front ? drop_newest : drop_oldest)(b);
    if (front) {
        b->head = (b->head + b->cap - 1) % b->cap;
        b->base--;
        e = &b->ring[b->head];
    } else {
        e = &b->ring[(b->head + b->count) % b->cap];
    }
    e->text = copy;
    e->ts_ms = ts_ms;
    e->seq = seq;
    e->stream = stream;
    b->count++;
    b->bytes += len + 1;
    return 0;
}

int tui_logbuf_push(tui_logbuf *b, const char *text, int64_t ts_ms, int64_t seq, int stream)
{
    return put(b, text, ts_ms, seq, stream, 0);
}

int tui_logbuf_unshift(tui_logbuf *b, const char *text, int64_t ts_ms, int64_t seq, int stream)
{
    return put(b, text, ts_ms, seq, stream, 1);
}

void tui_logbuf_clear(tui_logbuf *b)
{
    while (b->count > 0)
        drop_newest(b);
}

int tui_logbuf_full(const tui_logbuf *b, size_t len)
{
    return b->count == b->cap || b->bytes + len + 1 > b->max_bytes;
}

const tui_log_entry *tui_logbuf_at(const tui_logbuf *b, size_t i)
{
    if (i >= b->count)
        return NULL;
    return &b->ring[(b->head + i) % b->cap];
}
