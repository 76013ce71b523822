/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_tui's shared types: the app, the stack of view frames, the view ops table,
 * the commands the key table maps to and the flags key handlers return. Views draw only
 * the plain structs of the model (model.h); they never call the SDK themselves. */
#ifndef HP_TUI_TUI_H
#define HP_TUI_TUI_H

#include "tui/model.h"

#include <curses.h>
#include <stddef.h>
#include <stdint.h>

/* What a key handler did: the loop redraws, refetches or quits accordingly. */
enum { TUI_HANDLED = 1, TUI_REDRAW = 2, TUI_REFRESH = 4, TUI_QUIT = 8 };

/* The views a key applies to (a mask in the key table). */
enum {
    TUI_SCOPE_SERVICES = 1,
    TUI_SCOPE_RUNS = 2,
    TUI_SCOPE_JOBS = 4,
    TUI_SCOPE_LOGS = 8,
    TUI_SCOPE_SECRETS = 16,
    TUI_SCOPE_FORM = 32, /* a form: its own keys only (typed keys are text there) */
    TUI_SCOPE_EVENTS = 64,
    TUI_SCOPE_FLEET = 128, /* the Services keys that act on a row of any host */
    TUI_SCOPE_LISTS = 1 | 2 | 4 | 16 | 128,
    TUI_SCOPE_ALL = 31 | 64 | 128
};

typedef enum tui_cmd {
    TUI_CMD_NONE,
    TUI_CMD_QUIT,
    TUI_CMD_BACK,
    TUI_CMD_HELP,
    TUI_CMD_VIEW_SERVICES,
    TUI_CMD_VIEW_RUNS,
    TUI_CMD_VIEW_JOBS,
    TUI_CMD_VIEW_SECRETS,
    TUI_CMD_VIEW_EVENTS,
    TUI_CMD_VIEW_FLEET, /* `0`, :fleet: every context's services in one list */
    TUI_CMD_NEXT_VIEW,
    TUI_CMD_UP,
    TUI_CMD_DOWN,
    TUI_CMD_PAGE_UP,
    TUI_CMD_PAGE_DOWN,
    TUI_CMD_TOP,
    TUI_CMD_BOTTOM,
    TUI_CMD_ENTER,
    TUI_CMD_LOGS,
    TUI_CMD_FOLLOW,
    TUI_CMD_WRAP,
    TUI_CMD_TIMESTAMPS,
    TUI_CMD_REFRESH,
    TUI_CMD_FILTER,
    TUI_CMD_SORT_LEFT,
    TUI_CMD_SORT_RIGHT,
    TUI_CMD_SORT_INVERT,
    TUI_CMD_SEARCH,
    TUI_CMD_SEARCH_NEXT,
    TUI_CMD_SEARCH_PREV,
    TUI_CMD_GREP,
    TUI_CMD_START,
    TUI_CMD_STOP,
    TUI_CMD_RESTART,
    TUI_CMD_DELETE,
    TUI_CMD_CANCEL,
    TUI_CMD_COMMAND,  /* `:` opens the command line */
    TUI_CMD_OPEN_RUN, /* `:run ID`: the jobs of a run */
    TUI_CMD_OPEN_JOB, /* `:job ID`: the log of a job */
    TUI_CMD_NEW,      /* a form: new service (Services), new run (Runs) */
    TUI_CMD_EDIT,     /* a form: the selected service */
    TUI_CMD_RERUN,    /* a form: the selected run's actions again */
    TUI_CMD_FORM_NEXT,
    TUI_CMD_FORM_PREV,
    TUI_CMD_FORM_SUBMIT,
    TUI_CMD_FORM_PREVIEW,
    TUI_CMD_FORM_EDITOR,
    TUI_CMD_FORM_ADD,
    TUI_CMD_FORM_REMOVE,
    TUI_CMD_FORM_MOVE_UP,
    TUI_CMD_FORM_MOVE_DOWN,
    TUI_CMD_FORM_TOGGLE,
    TUI_CMD_MARK,        /* Space: marks the row (the verbs then act on the marked rows) */
    TUI_CMD_MARK_ALL,    /* `*`: marks every row shown */
    TUI_CMD_UNMARK,      /* `u`: clears the marks */
    TUI_CMD_REDRAW_ALL,  /* Ctrl-L: the whole screen drawn again */
    TUI_CMD_PAUSE,       /* `Z`: live updates paused / resumed */
    TUI_CMD_SAVE,        /* logs: Ctrl-S asks for a file name, then as :w */
    TUI_CMD_WRITE,       /* `:w FILE`: the log shown into a new file */
    TUI_CMD_WRITE_FORCE, /* `:w! FILE`: the same, over an existing file */
    TUI_CMD_SINCE,       /* `:since WHEN`: the log's lines from then on */
    TUI_CMD_HISTORY      /* `h`: the runs of the selected service */
} tui_cmd;

typedef struct tui_app tui_app;
typedef struct tui_frame tui_frame;

/* One view: a const table per file (view_*.c). rows/draw/key see only the model. */
typedef struct tui_view_ops {
    const char *name; /* "Services": the breadcrumb when title is NULL */
    unsigned scope;   /* TUI_SCOPE_* bit of this view */
    /* The breadcrumb of this frame, e.g. "Jobs of web". */
    void (*title)(const tui_frame *f, char *buf, size_t size);
    /* Fetches what the view shows; 1 when it changed, 0 unchanged, -1 on failure. */
    int (*update)(tui_app *app, tui_frame *f, int force);
    /* Number of rows in the model (before the filter). */
    size_t (*rows)(tui_app *app, const tui_frame *f);
    /* 1 when model row i has needle in its name or status word (NULL: no `/` filter and
     * no reordering; rows are shown as the model has them). */
    int (*match)(tui_app *app, const tui_frame *f, size_t i, const char *needle);
    /* 0 for a row in trouble (failed, crash loop, retrying), shown first; 1 otherwise.
     * NULL: every row ranks the same. */
    int (*rank)(tui_app *app, const tui_frame *f, size_t i);
    /* Draws into w inside the rectangle (y, x, h, wd). */
    void (*draw)(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int wd);
    /* A command for this view; returns TUI_* flags, 0 when not handled. */
    int (*key)(tui_app *app, tui_frame *f, tui_cmd cmd);
    /* A `:` command about this view's objects named by arg, whatever frame is shown
     * (`:new`, `:edit NAME`, `:rerun ID`; arg checked by the command line): TUI_* flags,
     * 0 when not handled (NULL: none). The app reaches the forms only this way. */
    int (*command)(tui_app *app, tui_cmd cmd, const char *arg);
    /* Frees the frame's private state (NULL: nothing to free). */
    void (*leave)(tui_frame *f);
    /* The table's columns (struct tui_column of draw.h), for the sort keys and the
     * header's arrow; NULL: the view cannot be sorted. */
    const struct tui_column *columns;
    int n_columns;
    int default_sort; /* the column sorted on at first (its cmp ranks problems first) */
    /* Compares model rows a and b on column col, ascending: <0, 0 or >0. Ties keep the
     * model's order. */
    int (*cmp)(tui_app *app, const tui_frame *f, int col, size_t a, size_t b);
    /* The identity of row i (a name or an id) into buf, so the selection stays on the
     * same object when rows move (NULL: the selection stays on its index). */
    void (*row_key)(tui_app *app, const tui_frame *f, size_t i, char *buf, size_t size);
    /* Every key before the key table (a form, where typed keys are text): TUI_* flags,
     * 0 to let the app handle it (NULL: the key table only). */
    int (*raw_key)(tui_app *app, tui_frame *f, int code, int func);
    /* After the screen's own windows are out (before overlays): a view's windows of its
     * own, e.g. a form's pad, and the cursor (NULL: none). */
    void (*paint)(tui_app *app, tui_frame *f);
    /* The action cmd (start, stop, restart, delete, cancel) on model row i into *act: 1
     * when cmd is one of this view's verbs, 0 otherwise (NULL: the view has none). The
     * app applies it to the selected row, or to every marked row after one question. */
    int (*action)(tui_app *app, const tui_frame *f, size_t i, tui_cmd cmd, tui_action *act);
} tui_view_ops;

struct tui_frame {
    const tui_view_ops *ops;
    size_t sel;                    /* selected row */
    size_t top;                    /* first visible row */
    int page;                      /* visible rows at the last draw */
    char service[HP_NAME_MAX + 1]; /* filter: "" = every service */
    int64_t run_id;                /* filter: 0 = every run */
    int64_t job_id;                /* logs: the job shown */
    void *state;                   /* view-private, freed by ops->leave */
    char filter[64];               /* `/`: shown rows contain it in their name or status */
    size_t *map;                   /* shown row -> model row (sorted, filtered) */
    size_t n_map;
    /* what the map was made from: the model's row count, the filter and the order */
    size_t map_rows;
    char map_filter[64];
    int map_sort_col, map_sort_desc;
    int sort_col;     /* 0: the view's default_sort, else the column + 1 */
    int sort_desc;    /* `I`: the order inverted */
    char search[64];  /* logs: the `/` pattern highlighted, n/N jump between matches */
    char select[128]; /* the row key to select once it appears (then cleared) */
    char **marks;     /* the row keys marked (Space, `*`), owned; dropped with their rows */
    size_t n_marks;
};

extern const tui_view_ops tui_view_services;
extern const tui_view_ops tui_view_runs;
extern const tui_view_ops tui_view_jobs;
extern const tui_view_ops tui_view_logs;
extern const tui_view_ops tui_view_secrets;
extern const tui_view_ops tui_view_events;
extern const tui_view_ops tui_view_fleet;
/* 1 for an event a user should notice: a failed exit, a failed service, a crash loop,
 * an unhealthy job (view_events.c). */
int tui_event_is_failure(const hp_event *e);
extern const tui_view_ops tui_view_form;

struct tui_form;
/* Opens a form frame over the current view with form (taken on every path; its kind
 * says service or run). edit 1: it edits an existing service. NULL without memory. */
tui_frame *tui_form_open(tui_app *app, struct tui_form *form, int edit);
/* What opens forms (view_form.c), for the Services and Runs views' keys and commands
 * (the app itself never calls them): n (run 0: a service, 1: a run), e and R. Each
 * returns TUI_* flags; a failure is said in the status line. */
int tui_form_new(tui_app *app, int run);
int tui_form_edit_service(tui_app *app, const char *name);
int tui_form_rerun(tui_app *app, int64_t run_id);
/* The form of a form frame as typed so far (borrowed; screen tests). */
const struct tui_form *tui_form_of(tui_frame *f);
/* Shows every problem of a form frame, as after a refused submit (screen tests). */
void tui_form_show_problems(tui_frame *f);
/* Appends a page of lines to a Logs frame, as its update does (headless tests). */
void tui_view_logs_feed(tui_frame *f, const hp_log_page *p);
/* A service's Logs frame moves to the service's new run_id: a separator line
 * "— run N started —", then the new run's lines from its start (its update does this
 * when the service's run changes). */
void tui_view_logs_switch_run(tui_frame *f, int64_t run_id);

/* `:w FILE` (force: `:w!`, over an existing file): the lines a Logs frame shows (those
 * `&` and `:since` keep, else every line it holds) into FILE, one a line; the count or
 * the reason in the status line. TUI_* flags. */
int tui_view_logs_write(tui_app *app, tui_frame *f, const char *path, int force);
/* `:since WHEN` ("10m", "2h", "14:05"; "" clears): a Logs frame shows the lines from then
 * on; a bad WHEN is said in the status line. TUI_* flags. */
int tui_view_logs_since(tui_app *app, tui_frame *f, const char *when);

/* The column f is sorted on (0-based; -1 when the view cannot be sorted). */
int tui_frame_sort_col(const tui_frame *f);

/* ---- what views may ask of the app (app.c) ----------------------------------------- */
tui_model *tui_app_model(tui_app *app);
/* A view fetched a full share and more is waiting (a log flood): the next refresh comes at
 * once instead of after the interval, so the view keeps up with the producer. */
void tui_app_more_waiting(tui_app *app);
int tui_app_read_only(const tui_app *app);
/* The events follower's state: 1 following events.wait, 0 not yet, -1 the server has
 * none (the dashboard polls). */
int tui_app_events_state(const tui_app *app);
int tui_app_stale(const tui_app *app); /* 1 when rows are from before a lost connection */
/* The fleet's pollers (fleet.h), started at the first call; NULL when the contexts file
 * cannot be read (the status line says why). */
struct tui_fleet *tui_app_fleet(tui_app *app);
/* Moves the dashboard's connection (and its events follower) to context name, for the
 * views under the fleet: 0, or -1 with the reason in the status line. */
int tui_app_use_context(tui_app *app, const char *name);
/* The frame shown (borrowed), for a prompt's function to act on. */
tui_frame *tui_app_frame(tui_app *app);
/* Pushes a new frame (ops, filters copied from proto, may be NULL); returns it. */
tui_frame *tui_app_push(tui_app *app, const tui_view_ops *ops, const tui_frame *proto);
/* Closes the top frame (a form) with msg (may be NULL) in the status line: with service
 * (may be NULL) the view below selects that service once it is listed; with run_id the
 * run's jobs and, over them, its live log are shown. */
void tui_app_close(tui_app *app, const char *service, int64_t run_id, const char *msg);
/* Asks with text whether to close the form on top and lose its changes (the dialog of
 * the actions: Cancel focused, y confirms). */
void tui_app_ask_discard(tui_app *app, const char *text);
/* Runs act, asking first when it is destructive (stop, restart, delete, cancel). */
void tui_app_request(tui_app *app, const tui_action *act);
/* Asks once about acts[0..n) (the marked rows: taken on every path, freed with free),
 * naming the first ten; then runs each and sums up in the status line. */
void tui_app_request_many(tui_app *app, tui_action *acts, size_t n);
/* 1 when row key (row_key's identity) is marked in f. */
int tui_frame_marked(const tui_frame *f, const char *key);
/* What a prompt does with the line typed (borrowed; wiped after the call when hidden). */
typedef void (*tui_prompt_fn)(tui_app *app, const char *text);
/* Asks for one line in the status line after label: Enter calls done with it, Esc
 * cancels. hidden 1: nothing typed is drawn, not even its length (a secret's value). */
void tui_app_prompt(tui_app *app, const char *label, int hidden, tui_prompt_fn done);
/* The status line: printf-style, error 1 shows it as a problem. */
void tui_app_status(tui_app *app, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- headless (screen tests): an app without a server, drawn on the current SCREEN -- */
/* A new app whose model has no client; the caller fills tui_app_model(app)'s lists. */
tui_app *tui_app_headless_new(const char *endpoint, int read_only);
void tui_app_headless_free(tui_app *app); /* NULL safe */
/* Replaces the frame stack with one frame of ops (filters from proto, may be NULL). */
tui_frame *tui_app_show(tui_app *app, const tui_view_ops *ops, const tui_frame *proto);
/* Opens the help overlay (help 1) and/or the confirmation of act (may be NULL). */
void tui_app_overlay(tui_app *app, int help, const tui_action *act);
/* Draws everything and updates the screen, as the loop does. */
void tui_app_render(tui_app *app);
/* One key (func 1 for KEY_* codes, KEY_MOUSE reads the mouse queue) as the loop handles
 * it; returns 1 when it asked to quit. */
int tui_app_key(tui_app *app, int code, int func);
/* The frame shown (borrowed). */
const tui_frame *tui_app_top(tui_app *app);
/* What the loop does with the events follower's hand-over (state TUI_EVENTS_*, page taken,
 * may be NULL) and at a tick of its timer: the tests of what a tick fetches. */
void tui_app_headless_events(tui_app *app, int state, hp_event_page *page);
void tui_app_headless_tick(tui_app *app);

/* The whole program: parses argv, runs the dashboard, restores the terminal. Returns
 * the exit status (0, 2 usage, 3 unreachable at start with no way on). */
int tui_main(int argc, char **argv);

#endif
