/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the pieces of hero_proc_tui's application (app.c, loop.c, dispatch.c, cmdline.c,
 * dialog.c, render.c, refresh.c, list.c): the app's struct and what they share. */
#ifndef TUI_APP_INT_H
#define TUI_APP_INT_H

#include "tui/tui.h"
#include "tui/view.h"

#include <stddef.h>

enum { MAX_DEPTH = 8, BURST_POLLS = 4, BURST_MS = 250, ESC = 27 };
/* Following events: the view fetched at least this often all the same (what no event
 * tells, such as another client's service.set); app->refetch's values. */
enum { TUI_RESYNC_MS = 30000, TUI_REFETCH = 1, TUI_REFETCH_FORCE = 2 };
/* f->filter (`/` of lists, `&` of logs), f->search, the `:` command line */
enum { EDIT_FILTER = 1, EDIT_SEARCH = 2, EDIT_COMMAND = 3, EDIT_PROMPT = 4 };
enum { HELP_LINES = 96, HELP_WIDTH = 84, CTRL_A = 1, CTRL_E = 5, CTRL_U = 21 };

typedef struct tui_dialog {
    int open;
    int focus_ok; /* 0: Cancel (the default), 1: the action */
    char text[640];
    char button[32];
    int discard; /* it asks to close the form on top, not to run act */
    tui_action act;
    tui_action *acts; /* the marked rows' actions (owned), else NULL: act alone */
    size_t n_acts;
} tui_dialog;

struct tui_app {
    tui_model model;
    tui_frame stack[MAX_DEPTH];
    int depth;
    int read_only;
    const char *read_only_why; /* shown in the header: "read-only: read token"; or NULL */
    long interval_ms;
    int burst;
    int behind; /* a view has more data waiting: poll again at once */
    int help;
    int help_top;  /* the first line of the help shown (it scrolls when it does not fit) */
    int help_page; /* help lines shown at the last draw */
    int quit;
    int interrupted; /* Ctrl-C went to a form as Esc; another one quits */
    int dirty;
    int view_y;         /* the first row of the view at the last render (mouse clicks) */
    int paused;         /* `Z`: the timer fetches nothing until `Z` again */
    int editing;        /* typing: EDIT_FILTER or EDIT_SEARCH (the top frame's), EDIT_COMMAND */
    char cmdline[256];  /* the `:` command line being typed */
    size_t cmd_pos;     /* the cursor in it, a byte offset at a character's start */
    char cmd_note[160]; /* Tab's candidates, shown after the command line */
    char prompt[96];    /* EDIT_PROMPT: the label before the line (cmdline holds the text) */
    int prompt_hidden;  /* the text is not drawn */
    tui_prompt_fn prompt_done;
    tui_dialog dialog;
    char status[256];
    int status_error;
    struct tui_events *events; /* the events.wait follower, NULL when none */
    int events_state;          /* TUI_EVENTS_* as last taken */
    int bell;                  /* --bell: a failure rings */
    long long flash_until;     /* a failure shows in reverse until then (monotonic ms) */
    long long said_at;         /* when a key or a command last set the status (monotonic ms) */
    char held_flash[256];      /* a failure that came while that answer was being read */
    int refetch;               /* TUI_REFETCH*: the next tick fetches the view (an event) */
    long long resync_at;       /* following events: the view's next fetch all the same */
    struct tui_fleet *fleet;   /* the fleet's pollers once shown (`0`, --fleet), else NULL */
    char context[64];          /* the context the connection was moved to ("": as started) */
};

/* app.c: the frame stack and the actions (app->depth >= 1 once the app runs). */
tui_frame *tui__top(tui_app *app);
void tui__pop(tui_app *app);
/* Empties the stack and shows ops as the base view. */
void tui__reset(tui_app *app, const tui_view_ops *ops);
/* The top-level view a view command (keys 1 2 3 4, :services ...) switches to, else NULL. */
const tui_view_ops *tui__view_of(tui_cmd cmd);
void tui__run_action(tui_app *app, const tui_action *act);
/* Runs every action of the dialog (act, or its acts) and says how it went; keep_history
 * 1 keeps the old runs of restarted services. Frees the dialog's acts. */
void tui__run_dialog(tui_app *app, tui_dialog *d, int keep_history);
/* The dialog closed and its acts freed. */
void tui__dialog_close(tui_app *app);

/* list.c: the shown rows of f (filter and sort) computed again. */
void tui__remap(tui_app *app, tui_frame *f);
/* The identity of the selected row into buf ("" when none or the view has none). */
void tui__selected_key(tui_app *app, const tui_frame *f, char *buf, size_t size);
/* Puts the selection back on the row whose identity is key, after rows moved. */
void tui__reselect(tui_app *app, tui_frame *f, const char *key);
/* The marks: Space on the selected row (1 when there was one), `*` every row shown (-1
 * without memory), `u` none; those of rows gone from the model dropped. */
int tui__mark_toggle(tui_app *app, tui_frame *f);
int tui__mark_all(tui_app *app, tui_frame *f);
void tui__marks_clear(tui_frame *f);
void tui__marks_prune(tui_app *app, tui_frame *f);

/* refresh.c: one look at the top view's data (force: even when nothing changed). */
void tui__refresh_data(tui_app *app, int force);
/* The timer's tick: the view fetched as refresh_data does when polling (no events
 * followed), else only when app->refetch asks, TUI_RESYNC_MS passed, or the view shows
 * what moves without events; else only the store's health and the clocks. */
void tui__refresh_tick(tui_app *app);
/* 1 when event e may change what the top view shows (its service, its run). */
int tui__event_concerns(tui_app *app, const hp_event *e);

/* render.c: the whole screen, chrome and top view and overlays. */
void tui__render(tui_app *app);

/* dialog.c: the confirmation dialog and the help overlay. */
int tui__dialog_key(tui_app *app, int code, int func);
int tui__help_key(tui_app *app, int code, int func);
void tui__draw_dialog(tui_app *app, int rows, int cols);
void tui__draw_help(tui_app *app, int rows, int cols);

/* cmdline.c: the `:` command line. */
int tui__command_key(tui_app *app, int code, int func);
void tui__draw_prompt(tui_app *app, int y, int cols);

/* dispatch.c: one key through the dispatch and its flags' effects. */
void tui__key_in(tui_app *app, int code, int func);

/* loop.c: the terminal, its signals and the one poll() loop. */
int tui__signals_install(void);
void tui__term_start(void);
/* endwin, and a crash no longer needs it. */
void tui__term_stop(void);
void tui__loop(tui_app *app);
/* What the events follower handed over (its state TUI_EVENTS_*, page taken, may be NULL):
 * into the model, a failure flashed, app->refetch set when the view must be fetched.
 * Returns 1 when the next tick should come now. */
int tui__events_in(tui_app *app, int state, hp_event_page *page);

#endif
