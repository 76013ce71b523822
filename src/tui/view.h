/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the list views share (implemented in app.c): scrolling a frame so its
 * selection is visible, the attributes of a row (selected, stale), and the mapping of
 * shown rows (filtered, problems first) to model rows. */
#ifndef HP_TUI_VIEW_H
#define HP_TUI_VIEW_H

#include "tui/draw.h"
#include "tui/tui.h"

/* Clamps f->sel to n rows and moves f->top so the selection is within h rows. */
void tui_list_scroll(tui_frame *f, size_t n, int h);
/* Sets the attributes of row i (reverse when selected, dim when stale) and blanks it. */
void tui_row_begin(tui_app *app, const tui_frame *f, WINDOW *w, int y, int x, int width, size_t i);
void tui_row_end(WINDOW *w);
/* The header row of f's table (ops->columns fitted to widths), the sort column with an
 * arrow: up ascending, down descending. */
void tui_list_header(const tui_frame *f, WINDOW *w, int y, int x, const int *widths);

/* Draws row i of items (a view's list from the model, borrowed) into the cells. */
typedef void (*tui_row_fn)(tui_cells *t, const void *items, size_t i);
/* The body every list view shares: the header, scrolling, the shown rows through row,
 * and when no row is shown "waiting for the server..." (items NULL: nothing loaded yet)
 * or the none line (see tui_frame_empty). */
void tui_list_draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width,
                   const void *items, const char *none, tui_row_fn row);

/* Rows shown (after the filter) and the model row of shown row i. */
size_t tui_frame_count(tui_app *app, const tui_frame *f);
size_t tui_frame_row(const tui_frame *f, size_t shown);
/* The model row selected, or (size_t)-1 when nothing is. */
size_t tui_frame_selected(tui_app *app, const tui_frame *f);
/* The line to show when no row is: "no runs", or that the filter matched none. */
const char *tui_frame_empty(const tui_frame *f, const char *none, char *buf, size_t size);

/* view_services.c: a service's fields as the Services view sorts and shows them, shared
 * with the fleet's rows (which have a HOST column first and no ACT column). */
enum {
    TUI_SVC_NAME,
    TUI_SVC_STATUS,
    TUI_SVC_WANTED,
    TUI_SVC_ACTIONS,
    TUI_SVC_PID,
    TUI_SVC_RESTARTS,
    TUI_SVC_UPTIME,
    TUI_SVC_CPU,
    TUI_SVC_MEM,
    TUI_SVC_DESCRIPTION
};
/* 0 for a service with a problem (failed, degraded, crash loop), 1 otherwise. */
int tui_service_rank(const hp_service_summary *s);
/* Ascending on the TUI_SVC_* field; the status ranks problems first. */
int tui_service_cmp(const hp_service_summary *x, const hp_service_summary *y, int field);
/* s S r D on the service name: act filled and 1, or 0 for another command. */
int tui_service_action(tui_cmd cmd, const char *name, tui_action *act);
/* The row's cells from NAME to DESCRIPTION; ACT only when with_actions. */
void tui_service_cells(tui_cells *t, const hp_service_summary *s, int with_actions);

#endif
