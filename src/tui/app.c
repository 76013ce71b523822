/* hero_proc_tui's application: the command line, the connection at start (auto factory,
 * --demo), the terminal and its signals, the one poll() loop with the refresh timer, the
 * frame stack, key dispatch through the key table, the dialog, the help overlay and the
 * chrome (header, banner, status and hint bars). Views draw their own rows. */
#include "config.h"

#include "tui/demo.h"
#include "tui/draw.h"
#include "tui/keys.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

enum { EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };
enum { MAX_DEPTH = 8, BURST_POLLS = 4, BURST_MS = 250, ESC = 27 };
/* f->filter (`/` of lists, `&` of logs), f->search, the `:` command line */
enum { EDIT_FILTER = 1, EDIT_SEARCH = 2, EDIT_COMMAND = 3 };
enum { HELP_LINES = 96, HELP_WIDTH = 84, CTRL_A = 1, CTRL_E = 5, CTRL_U = 21 };

typedef struct tui_dialog {
    int open;
    int focus_ok; /* 0: Cancel (the default), 1: the action */
    char text[160];
    char button[16];
    int discard; /* it asks to close the form on top, not to run act */
    tui_action act;
} tui_dialog;

struct tui_app {
    tui_model model;
    tui_frame stack[MAX_DEPTH];
    int depth;
    int read_only;
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
    int editing;        /* typing: EDIT_FILTER or EDIT_SEARCH (the top frame's), EDIT_COMMAND */
    char cmdline[256];  /* the `:` command line being typed */
    size_t cmd_pos;     /* the cursor in it, a byte offset at a character's start */
    char cmd_note[160]; /* Tab's candidates, shown after the command line */
    tui_dialog dialog;
    char status[256];
    int status_error;
};

/* ---- signals: a self-pipe for the loop, endwin before a crash ----------------------- */

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t curses_on;

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    if (write(sig_pipe[1], &b, 1) < 0) {
        /* the pipe is full: the loop has wake-ups pending anyway */
    }
    errno = saved;
}

static void on_crash(int sig)
{
    if (curses_on)
        endwin();
    /* SA_RESETHAND restored the default action: the re-raise kills with sig (and a core). */
    raise(sig);
}

static int install_signals(void)
{
    struct sigaction sa;
    static const int quit_sigs[] = {SIGWINCH, SIGTERM, SIGINT, SIGHUP};
    static const int crash_sigs[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof(quit_sigs) / sizeof(quit_sigs[0]); i++)
        sigaction(quit_sigs[i], &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof(crash_sigs) / sizeof(crash_sigs[0]); i++)
        sigaction(crash_sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* ---- what views may ask -------------------------------------------------------------- */

void tui_app_more_waiting(tui_app *app)
{
    app->behind = 1;
}

tui_model *tui_app_model(tui_app *app)
{
    return &app->model;
}

int tui_app_read_only(const tui_app *app)
{
    return app->read_only;
}

int tui_app_stale(const tui_app *app)
{
    return app->model.calls > 0 && !app->model.connected;
}

void tui_app_status(tui_app *app, int error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(app->status, sizeof(app->status), fmt, ap);
    va_end(ap);
    app->status_error = error;
    app->dirty = 1;
}

static tui_frame *top(tui_app *app)
{
    return &app->stack[app->depth - 1];
}

static void leave(tui_frame *f)
{
    if (f->ops && f->ops->leave)
        f->ops->leave(f);
    free(f->map);
    memset(f, 0, sizeof(*f));
}

tui_frame *tui_app_push(tui_app *app, const tui_view_ops *ops, const tui_frame *proto)
{
    tui_frame *f;

    if (app->depth == MAX_DEPTH) {
        /* Deep enough: forget the oldest sub-view, keep the base view. */
        leave(&app->stack[1]);
        memmove(&app->stack[1], &app->stack[2], sizeof(app->stack[0]) * (MAX_DEPTH - 2));
        app->depth--;
    }
    f = &app->stack[app->depth++];
    memset(f, 0, sizeof(*f));
    if (proto) {
        memcpy(f->service, proto->service, sizeof(f->service));
        f->run_id = proto->run_id;
        f->job_id = proto->job_id;
    }
    f->ops = ops;
    app->dirty = 1;
    return f;
}

static void pop(tui_app *app)
{
    if (app->depth > 1)
        leave(&app->stack[--app->depth]);
    app->dirty = 1;
}

/* The top-level view a view command (keys 1 2 3 4, :services ...) switches to, else NULL. */
static const tui_view_ops *view_of(tui_cmd cmd)
{
    switch (cmd) {
    case TUI_CMD_VIEW_SERVICES:
        return &tui_view_services;
    case TUI_CMD_VIEW_RUNS:
        return &tui_view_runs;
    case TUI_CMD_VIEW_JOBS:
        return &tui_view_jobs;
    case TUI_CMD_VIEW_SECRETS:
        return &tui_view_secrets;
    default:
        return NULL;
    }
}

static void reset(tui_app *app, const tui_view_ops *ops)
{
    while (app->depth > 0)
        leave(&app->stack[--app->depth]);
    tui_app_push(app, ops, NULL);
}

static void run_action(tui_app *app, const tui_action *act)
{
    char msg[256];
    int rc = tui_model_act(&app->model, act, msg, sizeof(msg));

    tui_app_status(app, rc != 0, "%s", msg);
    app->burst = BURST_POLLS;
}

void tui_app_close(tui_app *app, const char *service, int64_t run_id, const char *msg)
{
    tui_frame proto;

    pop(app);
    if (msg)
        tui_app_status(app, 0, "%s", msg);
    if (service)
        snprintf(top(app)->select, sizeof(top(app)->select), "%s", service);
    if (run_id) {
        memset(&proto, 0, sizeof(proto));
        proto.run_id = run_id;
        tui_app_push(app, &tui_view_jobs, &proto);
        tui_app_push(app, &tui_view_logs, &proto);
    }
    app->burst = BURST_POLLS;
}

void tui_app_ask_discard(tui_app *app, const char *text)
{
    tui_dialog *d = &app->dialog;

    memset(d, 0, sizeof(*d));
    snprintf(d->text, sizeof(d->text), "%s", text);
    snprintf(d->button, sizeof(d->button), "Discard");
    d->discard = 1;
    d->open = 1;
    app->dirty = 1;
}

void tui_app_request(tui_app *app, const tui_action *act)
{
    tui_dialog *d = &app->dialog;

    if (app->read_only) {
        tui_app_status(app, 1, "read-only: actions are off");
        return;
    }
    if (act->kind == TUI_ACT_START) {
        run_action(app, act);
        return;
    }
    memset(d, 0, sizeof(*d));
    d->act = *act;
    switch (act->kind) {
    case TUI_ACT_STOP:
        snprintf(d->text, sizeof(d->text), "Stop service '%s'?", act->service);
        snprintf(d->button, sizeof(d->button), "Stop");
        break;
    case TUI_ACT_RESTART:
        snprintf(d->text, sizeof(d->text), "Restart service '%s'?", act->service);
        snprintf(d->button, sizeof(d->button), "Restart");
        break;
    case TUI_ACT_DELETE:
        snprintf(d->text, sizeof(d->text), "Delete service '%s'? It is stopped first.",
                 act->service);
        snprintf(d->button, sizeof(d->button), "Delete");
        break;
    default:
        snprintf(d->text, sizeof(d->text), "Cancel run %lld?", (long long)act->run_id);
        snprintf(d->button, sizeof(d->button), "Cancel run");
        break;
    }
    d->open = 1;
    app->dirty = 1;
}

/* ---- list helpers (view.h) ------------------------------------------------------------ */

int tui_frame_sort_col(const tui_frame *f)
{
    if (!f->ops->cmp || f->ops->n_columns <= 0)
        return -1;
    if (f->sort_col <= 0 || f->sort_col > f->ops->n_columns)
        return f->ops->default_sort;
    return f->sort_col - 1;
}

typedef struct sort_ctx {
    tui_app *app;
    const tui_frame *f;
    int col, desc;
} sort_ctx;

static int by_column(const void *pa, const void *pb, void *ud)
{
    const sort_ctx *c = ud;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int r = c->f->ops->cmp(c->app, c->f, c->col, a, b);

    if (r)
        return c->desc ? -r : r;
    return a < b ? -1 : a > b; /* ties keep the model's order, inverted or not */
}

/* Rebuilds f->map from the model: the rows matching the filter, sorted on the frame's
 * column (by default the status: problems first, each group in the model's order), in
 * the model's order for a view without columns. Without memory the map is dropped:
 * rows show unfiltered. */
static void remap(tui_app *app, tui_frame *f)
{
    size_t n = f->ops->rows(app, f), k = 0;
    size_t *map;
    int col = tui_frame_sort_col(f);

    free(f->map);
    f->map = NULL;
    f->n_map = 0;
    if (!f->ops->match || n == 0 || !(map = malloc(n * sizeof(*map))))
        return;
    for (size_t i = 0; i < n; i++)
        if (!f->filter[0] || f->ops->match(app, f, i, f->filter))
            map[k++] = i;
    if (col >= 0) {
        sort_ctx c = {app, f, col, f->sort_desc};
        qsort_r(map, k, sizeof(*map), by_column, &c);
    }
    f->map = map;
    f->n_map = k;
}

size_t tui_frame_count(tui_app *app, const tui_frame *f)
{
    return f->map ? f->n_map : f->ops->rows(app, f);
}

size_t tui_frame_row(const tui_frame *f, size_t shown)
{
    return f->map ? f->map[shown] : shown;
}

size_t tui_frame_selected(tui_app *app, const tui_frame *f)
{
    if (f->sel >= tui_frame_count(app, f))
        return (size_t)-1;
    return tui_frame_row(f, f->sel);
}

const char *tui_frame_empty(const tui_frame *f, const char *none, char *buf, size_t size)
{
    if (!f->filter[0])
        return none;
    snprintf(buf, size, "nothing matches /%s (Esc clears the filter)", f->filter);
    return buf;
}

void tui_list_scroll(tui_frame *f, size_t n, int h)
{
    size_t page = h > 0 ? (size_t)h : 1;

    f->page = (int)page;
    if (n == 0) {
        f->sel = f->top = 0;
        return;
    }
    if (f->sel >= n)
        f->sel = n - 1;
    if (f->sel < f->top)
        f->top = f->sel;
    if (f->sel >= f->top + page)
        f->top = f->sel - page + 1;
    if (f->top + page > n)
        f->top = n > page ? n - page : 0;
}

void tui_row_begin(tui_app *app, const tui_frame *f, WINDOW *w, int y, int x, int width, size_t i)
{
    wattrset(w, (i == f->sel ? A_REVERSE : A_NORMAL) | (tui_app_stale(app) ? A_DIM : A_NORMAL));
    tui_blank(w, y, x, width);
}

void tui_row_end(WINDOW *w)
{
    wattrset(w, A_NORMAL);
}

void tui_list_header(const tui_frame *f, WINDOW *w, int y, int x, const int *widths)
{
    tui_columns_header_sorted(w, y, x, f->ops->columns, widths, (size_t)f->ops->n_columns,
                              tui_frame_sort_col(f), f->sort_desc);
}

void tui_list_draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width,
                   const void *items, const char *none, tui_row_fn row)
{
    int wd[32];
    size_t n = tui_frame_count(app, f);
    size_t n_cols = (size_t)f->ops->n_columns;
    char empty[160];

    if (n_cols > sizeof(wd) / sizeof(wd[0]))
        n_cols = sizeof(wd) / sizeof(wd[0]);
    tui_columns_fit(f->ops->columns, n_cols, width, wd);
    tui_list_header(f, w, y, x, wd);
    tui_list_scroll(f, n, h - 1);
    if (n == 0) {
        tui_put(w, y + 1, x, width,
                items ? tui_frame_empty(f, none, empty, sizeof(empty))
                      : "waiting for the server...");
        return;
    }
    for (int r = 0; r < h - 1 && f->top + (size_t)r < n; r++) {
        tui_cells t = {w, y + 1 + r, x, wd, 0};
        tui_row_begin(app, f, w, y + 1 + r, x, width, f->top + (size_t)r);
        row(&t, items, tui_frame_row(f, f->top + (size_t)r));
        tui_row_end(w);
    }
}

/* ---- drawing ---------------------------------------------------------------------- */

static void draw_header(tui_app *app, int cols)
{
    const tui_model *m = &app->model;
    char crumbs[512], part[128];
    size_t len = 0;
    int x;
    const char *state;
    int colour;

    if (!m->calls) {
        state = "connecting";
        colour = TUI_C_YELLOW;
    } else if (m->connected) {
        state = "connected";
        colour = TUI_C_GREEN;
    } else {
        state = "unreachable";
        colour = TUI_C_RED;
    }
    crumbs[0] = '\0';
    for (int i = 0; i < app->depth; i++) {
        const tui_frame *f = &app->stack[i];
        if (f->ops->title)
            f->ops->title(f, part, sizeof(part));
        else
            snprintf(part, sizeof(part), "%s", f->ops->name);
        len += (size_t)snprintf(crumbs + len, sizeof(crumbs) - len, "%s%s",
                                i ? (tui_draw_utf8() ? " \xe2\x80\xba " : " > ") : "", part);
        if (len >= sizeof(crumbs))
            break;
    }
    wattrset(stdscr, tui_attr(TUI_C_BAR));
    tui_blank(stdscr, 0, 0, cols);
    wattron(stdscr, A_BOLD);
    x = 1 + tui_put(stdscr, 0, 1, cols - 1, crumbs);
    wattroff(stdscr, A_BOLD);
    x += tui_put(stdscr, 0, x, cols - x, "  ");
    wattrset(stdscr, tui_attr(colour) | A_REVERSE | A_BOLD);
    x += tui_put(stdscr, 0, x, cols - x, state);
    if (m->connected && !m->store.ok) {
        /* The server answers but cannot write its database: changes wait in its memory. */
        char store[192];
        snprintf(store, sizeof(store), " store failing: %s ",
                 m->store.error ? m->store.error : "unknown error");
        wattrset(stdscr, tui_attr(TUI_C_BAR));
        x += tui_put(stdscr, 0, x, cols - x, "  ");
        wattrset(stdscr, tui_attr(TUI_C_RED) | A_REVERSE | A_BOLD);
        x += tui_put(stdscr, 0, x, cols - x, store);
    }
    wattrset(stdscr, tui_attr(TUI_C_BAR));
    x += tui_put(stdscr, 0, x, cols - x, "  ");
    tui_put(stdscr, 0, x, cols - x, m->endpoint);
    wattrset(stdscr, A_NORMAL);
}

static void draw_banner(tui_app *app, int y, int cols)
{
    const tui_model *m = &app->model;
    char text[1024];
    long long wait = m->retry_at_ms - tui_now_ms();

    char retry[32];

    snprintf(retry, sizeof(retry), wait > 0 ? "retry in %llds" : "retrying", (wait + 999) / 1000);
    if (strstr(m->reason, m->endpoint_full))
        snprintf(text, sizeof(text), " server unreachable (%s): %s ", retry, m->reason);
    else
        snprintf(text, sizeof(text), " cannot reach the server at %s (%s): %s ", m->endpoint, retry,
                 m->reason);
    wattrset(stdscr, tui_attr(TUI_C_RED) | A_REVERSE | A_BOLD);
    tui_blank(stdscr, y, 0, cols);
    tui_put(stdscr, y, 0, cols, text);
    wattrset(stdscr, A_NORMAL);
}

static void draw_dialog(tui_app *app, int rows, int cols)
{
    tui_dialog *d = &app->dialog;
    int w = tui_width(d->text) + 6, h = 6, y, x;
    char cancel[32], ok[32];
    WINDOW *win;

    if (w < 36)
        w = 36;
    if (w > cols)
        w = cols;
    if (h > rows)
        h = rows;
    y = (rows - h) / 2;
    x = (cols - w) / 2;
    win = newwin(h, w, y, x);
    if (!win)
        return;
    werase(win);
    box(win, 0, 0);
    tui_put(win, 1, 2, w - 4, d->text);
    tui_put(win, 2, 2, w - 4, "y confirms, n or Esc cancels");
    snprintf(cancel, sizeof(cancel), "[ Cancel ]");
    snprintf(ok, sizeof(ok), "[ %s ]", d->button);
    wattrset(win, d->focus_ok ? A_NORMAL : A_REVERSE | A_BOLD);
    tui_put(win, h - 2, 2, w - 4, cancel);
    wattrset(win, d->focus_ok ? A_REVERSE | A_BOLD : A_NORMAL);
    tui_put(win, h - 2, 4 + tui_width(cancel), w - 6 - tui_width(cancel), ok);
    wattrset(win, A_NORMAL);
    wnoutrefresh(win);
    delwin(win);
}

/* The help: one column of the key table's lines then the commands, scrolled with j/k,
 * PgUp/PgDn, g/G when it is taller than the screen. */
static void draw_help(tui_app *app, int rows, int cols)
{
    char lines[HELP_LINES][96];
    const tui_frame *f = top(app);
    int n = (int)tui_key_help(f->ops->scope, app->read_only, lines, HELP_LINES);
    int w = cols < HELP_WIDTH ? cols : HELP_WIDTH, h = n + 2, y, x, page, last;
    char title[128];
    WINDOW *win;

    if (h > rows)
        h = rows;
    page = h - 2 > 0 ? h - 2 : 1;
    last = n > page ? n - page : 0;
    if (app->help_top > last)
        app->help_top = last;
    if (app->help_top < 0)
        app->help_top = 0;
    app->help_page = page;
    y = (rows - h) / 2;
    x = (cols - w) / 2;
    win = newwin(h, w, y, x);
    if (!win)
        return;
    werase(win);
    box(win, 0, 0);
    snprintf(title, sizeof(title), " Help: %s keys (%sother keys close) ", f->ops->name,
             last ? "j/k PgUp/PgDn scroll, " : "");
    wattron(win, A_BOLD);
    tui_put(win, 0, 2, w - 4, title);
    wattroff(win, A_BOLD);
    for (int r = 0; r < page && app->help_top + r < n; r++) {
        const char *line = lines[app->help_top + r];
        if (strncmp(line, "Commands", 8) == 0)
            wattron(win, A_BOLD);
        tui_put(win, 1 + r, 2, w - 4, line);
        wattroff(win, A_BOLD);
    }
    if (last) {
        char where[48];
        snprintf(where, sizeof(where), " %d-%d of %d ", app->help_top + 1,
                 app->help_top + page < n ? app->help_top + page : n, n);
        tui_put(win, h - 1, w - 2 - tui_width(where), tui_width(where), where);
    }
    wnoutrefresh(win);
    delwin(win);
}

/* The `:` line at row y: the text with the cursor cell in reverse, then Tab's note. */
static void draw_prompt(tui_app *app, int y, int cols)
{
    const char *t = app->cmdline;
    size_t pos = app->cmd_pos, next = pos;
    char before[256], at[8];
    int used;

    if (t[next])
        next++;
    while (t[next] && (t[next] & 0xC0) == 0x80)
        next++;
    snprintf(before, sizeof(before), "%.*s", (int)pos, t);
    snprintf(at, sizeof(at), "%.*s", (int)(next - pos), t + pos);
    wattrset(stdscr, A_BOLD);
    used = tui_put(stdscr, y, 0, cols, ":");
    used += tui_put(stdscr, y, used, cols - used, before);
    wattrset(stdscr, A_REVERSE);
    used += tui_put(stdscr, y, used, cols - used, at[0] ? at : " ");
    wattrset(stdscr, A_BOLD);
    used += tui_put(stdscr, y, used, cols - used, t + next);
    wattrset(stdscr, A_DIM);
    if (app->cmd_note[0] && used + 3 < cols)
        tui_put(stdscr, y, used + 3, cols - used - 3, app->cmd_note);
    wattrset(stdscr, A_NORMAL);
}

static void render(tui_app *app)
{
    int rows = LINES, cols = COLS, y = 1;
    tui_frame *f = top(app);
    char hints[512];

    werase(stdscr);
    if (rows < 4 || cols < 10) {
        tui_put(stdscr, 0, 0, cols, "terminal too small");
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    draw_header(app, cols);
    if (tui_app_stale(app)) {
        draw_banner(app, y, cols);
        y++;
    }
    app->view_y = y;
    remap(app, f);
    if (rows - 2 - y > 0)
        f->ops->draw(app, f, stdscr, y, 0, rows - 2 - y, cols);
    if (app->editing == EDIT_COMMAND) {
        draw_prompt(app, rows - 2, cols);
    } else if (app->editing || f->filter[0]) {
        int used, search = app->editing == EDIT_SEARCH;
        wattrset(stdscr, A_BOLD);
        used = tui_put(stdscr, rows - 2, 0, cols, search || f->ops != &tui_view_logs ? "/" : "&");
        used += tui_put(stdscr, rows - 2, used, cols - used, search ? f->search : f->filter);
        if (app->editing)
            tui_put(stdscr, rows - 2, used, cols - used, "_  (Enter keeps, Esc clears)");
        wattrset(stdscr, app->status_error ? tui_attr(TUI_C_RED) | A_BOLD : A_NORMAL);
        if (!app->editing && app->status[0] && used + 3 < cols) /* what a key or : said */
            tui_put(stdscr, rows - 2, used + 3, cols - used - 3, app->status);
        wattrset(stdscr, A_NORMAL);
    } else if (app->status[0]) {
        wattrset(stdscr, app->status_error ? tui_attr(TUI_C_RED) | A_BOLD : A_NORMAL);
        tui_put(stdscr, rows - 2, 0, cols, app->status);
        wattrset(stdscr, A_NORMAL);
    }
    if (app->editing == EDIT_COMMAND)
        snprintf(hints, sizeof(hints),
                 "Enter runs  Esc cancels  Tab completes  Ctrl-U clears  :help lists them");
    else
        tui_key_hints(f->ops->scope, app->read_only, hints, sizeof(hints));
    wattrset(stdscr, tui_attr(TUI_C_BAR));
    tui_blank(stdscr, rows - 1, 0, cols);
    tui_put(stdscr, rows - 1, 1, cols - 1, hints);
    wattrset(stdscr, A_NORMAL);
    wnoutrefresh(stdscr);
    if (f->ops->paint)
        f->ops->paint(app, f);
    if (app->help || app->dialog.open)
        curs_set(0);
    if (app->help)
        draw_help(app, rows, cols);
    if (app->dialog.open)
        draw_dialog(app, rows, cols);
    doupdate();
}

/* ---- data ---------------------------------------------------------------------------- */

/* 1 when the view shows a clock that moves (uptime, duration of something running). */
static int live(tui_app *app)
{
    const tui_model *m = &app->model;
    const tui_view_ops *ops = top(app)->ops;

    if (ops == &tui_view_services && m->services) {
        for (size_t i = 0; i < m->services->n_services; i++)
            if (m->services->services[i].status == HP_SERVICE_RUNNING)
                return 1;
    } else if (ops == &tui_view_runs && m->runs) {
        for (size_t i = 0; i < m->runs->n_runs; i++)
            if (!hp_run_state_is_final(m->runs->runs[i].status))
                return 1;
    } else if (ops == &tui_view_jobs && m->jobs) {
        for (size_t i = 0; i < m->jobs->n_jobs; i++)
            if (!hp_job_state_is_final(m->jobs->jobs[i].status))
                return 1;
    }
    return 0;
}

/* The identity of the selected row into buf ("" when none or the view has none). */
static void selected_key(tui_app *app, const tui_frame *f, char *buf, size_t size)
{
    buf[0] = '\0';
    if (f->ops->row_key && tui_frame_selected(app, f) != (size_t)-1)
        f->ops->row_key(app, f, tui_frame_selected(app, f), buf, size);
}

/* Puts the selection back on the row whose identity is key, after rows moved. */
static void reselect(tui_app *app, tui_frame *f, const char *key)
{
    char other[128];
    size_t n = key[0] ? tui_frame_count(app, f) : 0;

    for (size_t i = 0; i < n; i++) {
        f->ops->row_key(app, f, tui_frame_row(f, i), other, sizeof(other));
        if (strcmp(key, other) == 0) {
            f->sel = i;
            return;
        }
    }
}

static void refresh_data(tui_app *app, int force)
{
    tui_frame *f = top(app);
    int was = app->model.connected, stale = tui_app_stale(app);
    char key[128];

    selected_key(app, f, key, sizeof(key));
    if (f->ops->update(app, f, force || !was) == 1) {
        app->dirty = 1;
        remap(app, f);
        reselect(app, f, key);
    }
    if (f->select[0] && f->ops->row_key) { /* a row asked for (a saved service) is listed */
        size_t before = f->sel;
        reselect(app, f, f->select);
        selected_key(app, f, key, sizeof(key));
        if (strcmp(key, f->select) == 0) {
            f->select[0] = '\0';
            app->dirty |= f->sel != before;
        }
    }
    if (tui_model_store(&app->model) != 0) /* at most every TUI_STORE_EVERY_MS */
        app->dirty = 1;
    if (app->model.connected != was || stale || tui_app_stale(app) || live(app))
        app->dirty = 1;
}

/* ---- keys ------------------------------------------------------------------------------ */

static int navigate(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    size_t n = tui_frame_count(app, f), page = f->page > 1 ? (size_t)f->page - 1 : 1;

    switch (cmd) {
    case TUI_CMD_UP:
        f->sel = f->sel ? f->sel - 1 : 0;
        break;
    case TUI_CMD_DOWN:
        f->sel = f->sel + 1 < n ? f->sel + 1 : f->sel;
        break;
    case TUI_CMD_PAGE_UP:
        f->sel = f->sel > page ? f->sel - page : 0;
        break;
    case TUI_CMD_PAGE_DOWN:
        f->sel = n == 0 ? 0 : (f->sel + page < n ? f->sel + page : n - 1);
        break;
    case TUI_CMD_TOP:
        f->sel = 0;
        break;
    case TUI_CMD_BOTTOM:
        f->sel = n ? n - 1 : 0;
        break;
    default:
        return 0;
    }
    return TUI_HANDLED | TUI_REDRAW;
}

/* What the dialog's confirmation does. */
static void confirmed(tui_app *app, const tui_dialog *d)
{
    if (d->discard)
        tui_app_close(app, NULL, 0, "changes discarded");
    else
        run_action(app, &d->act);
}

static int dialog_key(tui_app *app, int code, int func)
{
    tui_dialog *d = &app->dialog;

    if (!func && (code == 'y' || code == 'Y')) {
        d->open = 0;
        confirmed(app, d);
    } else if (!func && (code == 'n' || code == 'N' || code == ESC || code == 'q')) {
        d->open = 0;
        tui_app_status(app, 0, "cancelled");
    } else if ((!func && (code == '\t' || code == 'h' || code == 'l')) ||
               (func && (code == KEY_LEFT || code == KEY_RIGHT || code == KEY_BTAB))) {
        d->focus_ok = !d->focus_ok;
    } else if ((!func && (code == '\n' || code == '\r')) || (func && code == KEY_ENTER)) {
        d->open = 0;
        if (d->focus_ok)
            confirmed(app, d);
        else
            tui_app_status(app, 0, "cancelled");
    }
    return TUI_HANDLED | TUI_REFRESH;
}

static const tui_view_ops *const base_views[] = {&tui_view_services, &tui_view_runs,
                                                 &tui_view_jobs};

/* A key while a pattern is typed: text, Backspace, Enter keeps, Esc clears. A search
 * jumps to its first match on Enter. */
static int filter_key(tui_app *app, tui_frame *f, int code, int func)
{
    int search = app->editing == EDIT_SEARCH;
    char *text = search ? f->search : f->filter;
    size_t size = search ? sizeof(f->search) : sizeof(f->filter);
    size_t len = strlen(text);

    if ((!func && (code == '\n' || code == '\r')) || (func && code == KEY_ENTER)) {
        app->editing = 0;
        if (search && text[0] && f->ops->key)
            return f->ops->key(app, f, TUI_CMD_SEARCH) | TUI_REDRAW;
    } else if (!func && code == ESC) {
        app->editing = 0;
        text[0] = '\0';
    } else if ((func && code == KEY_BACKSPACE) || (!func && (code == 127 || code == 8))) {
        while (len > 0 && (text[len - 1] & 0xC0) == 0x80)
            len--; /* UTF-8 continuation bytes */
        if (len > 0)
            len--;
        text[len] = '\0';
    } else if (!func && code >= ' ' && code != 127) {
        char mb[MB_LEN_MAX];
        mbstate_t st;
        size_t n;
        memset(&st, 0, sizeof(st));
        n = wcrtomb(mb, (wchar_t)code, &st);
        if (n != (size_t)-1 && len + n < size) {
            memcpy(text + len, mb, n);
            text[len + n] = '\0';
        }
    } else {
        return TUI_REDRAW;
    }
    if (search)
        return TUI_REDRAW; /* the matches are highlighted as it is typed */
    f->sel = f->top = 0;
    remap(app, f);
    return TUI_REDRAW;
}

static int run_cmd(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    int flags = f->ops->key ? f->ops->key(app, f, cmd) : 0;

    return flags ? flags : navigate(app, f, cmd);
}

/* The wheel scrolls by three rows; a click selects a row, a click on the selected row
 * opens it (as Enter). */
static int handle_mouse(tui_app *app)
{
    tui_frame *f = top(app);
    MEVENT ev;
    int flags = 0;

    if (getmouse(&ev) != OK || app->dialog.open)
        return 0;
    if (app->help) {
        if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED))
            app->help_top += ev.bstate & BUTTON4_PRESSED ? -3 : 3; /* draw_help clamps */
        else
            app->help = 0;
        if (app->help_top < 0)
            app->help_top = 0;
        return TUI_REDRAW;
    }
    if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        for (int i = 0; i < 3; i++)
            flags |= run_cmd(app, f, ev.bstate & BUTTON4_PRESSED ? TUI_CMD_UP : TUI_CMD_DOWN);
        return flags;
    }
    if ((ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) && f->ops != &tui_view_logs &&
        ev.y > app->view_y) {
        size_t row = f->top + (size_t)(ev.y - app->view_y - 1);
        if (row >= tui_frame_count(app, f))
            return 0;
        if (row == f->sel)
            return run_cmd(app, f, TUI_CMD_ENTER) | TUI_REDRAW;
        f->sel = row;
        return TUI_HANDLED | TUI_REDRAW;
    }
    return 0;
}

/* `<` `>` move the sort column, `I` inverts the order; the selection stays on its row. */
static int sort_key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    int col = tui_frame_sort_col(f);
    char key[128];

    if (col < 0)
        return 0;
    selected_key(app, f, key, sizeof(key));
    if (cmd == TUI_CMD_SORT_INVERT)
        f->sort_desc = !f->sort_desc;
    else if (cmd == TUI_CMD_SORT_LEFT && col > 0)
        col--;
    else if (cmd == TUI_CMD_SORT_RIGHT && col + 1 < f->ops->n_columns)
        col++;
    f->sort_col = col + 1;
    remap(app, f);
    reselect(app, f, key);
    tui_app_status(app, 0, "sorted by %s, %s", f->ops->columns[col].header,
                   f->sort_desc ? "descending" : "ascending");
    return TUI_HANDLED | TUI_REDRAW;
}

/* text into dst of size bytes, cut at a character's start when it is longer. */
static void copy_text(char *dst, size_t size, const char *text)
{
    size_t n = strlen(text);

    if (n >= size) {
        n = size - 1;
        while (n > 0 && (text[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, text, n);
    dst[n] = '\0';
}

/* A positive id from text, 0 when it is not one. */
static int64_t parse_id(const char *text)
{
    char *end;
    long long id;

    errno = 0;
    id = strtoll(text, &end, 10);
    return errno || end == text || *end || id <= 0 ? 0 : (int64_t)id;
}

/* Runs a `:` command line; returns TUI_* flags. What it did or why not is in the status
 * line. */
static int exec_command(tui_app *app, const char *line)
{
    const tui_command *c;
    char arg[192], msg[256];
    tui_frame *f = top(app), proto;
    tui_action act;
    int flags;

    int rc = tui_command_parse(line, app->read_only, &c, arg, sizeof(arg), msg, sizeof(msg));
    if (rc == 1)
        return TUI_REDRAW;
    if (rc < 0) {
        tui_app_status(app, 1, "%s", msg);
        return TUI_REDRAW;
    }
    memset(&proto, 0, sizeof(proto));
    memset(&act, 0, sizeof(act));
    if (view_of(c->cmd)) {
        reset(app, view_of(c->cmd));
        return TUI_REFRESH;
    }
    switch (c->cmd) {
    case TUI_CMD_LOGS:
        flags = f->ops != &tui_view_logs && f->ops->key ? f->ops->key(app, f, TUI_CMD_LOGS) : 0;
        if (!flags)
            tui_app_status(app, 1, ":logs shows the log of the selected service, run or job%s",
                           f->ops == &tui_view_logs ? ": this is one" : ": select one first");
        return flags | TUI_REDRAW;
    case TUI_CMD_START:
    case TUI_CMD_STOP:
    case TUI_CMD_RESTART:
        if (strlen(arg) > HP_NAME_MAX ||
            (app->model.services && !tui_model_find_service(&app->model, arg))) {
            tui_app_status(app, 1, "no service '%s' (Tab completes commands, not names)", arg);
            return TUI_REDRAW;
        }
        act.kind = c->cmd == TUI_CMD_START  ? TUI_ACT_START
                   : c->cmd == TUI_CMD_STOP ? TUI_ACT_STOP
                                            : TUI_ACT_RESTART;
        copy_text(act.service, sizeof(act.service), arg);
        tui_app_request(app, &act);
        return TUI_REDRAW;
    case TUI_CMD_NEW:
        if (!arg[0]) /* the kind of the view shown: runs in Runs, else a service */
            return tui_form_new(app, f->ops == &tui_view_runs) | TUI_REDRAW;
        if (strcmp(arg, "service") == 0 || strcmp(arg, "run") == 0)
            return tui_form_new(app, strcmp(arg, "run") == 0) | TUI_REDRAW;
        tui_app_status(app, 1, ":new takes service or run, not '%s'", arg);
        return TUI_REDRAW;
    case TUI_CMD_EDIT:
        if (strlen(arg) > HP_NAME_MAX) {
            tui_app_status(app, 1, "no service '%.64s...'", arg);
            return TUI_REDRAW;
        }
        return tui_form_edit_service(app, arg) | TUI_REDRAW;
    case TUI_CMD_RERUN:
    case TUI_CMD_OPEN_RUN:
    case TUI_CMD_OPEN_JOB: {
        int64_t id = parse_id(arg);
        if (!id) {
            tui_app_status(app, 1, ":%s takes a number, not '%s'", c->name, arg);
            return TUI_REDRAW;
        }
        if (c->cmd == TUI_CMD_RERUN)
            return tui_form_rerun(app, id) | TUI_REDRAW;
        if (c->cmd == TUI_CMD_OPEN_RUN)
            proto.run_id = id;
        else
            proto.job_id = id;
        tui_app_push(app, c->cmd == TUI_CMD_OPEN_RUN ? &tui_view_jobs : &tui_view_logs, &proto);
        return TUI_REFRESH;
    }
    case TUI_CMD_FILTER:
        if (f->ops == &tui_view_logs) { /* `/` of a log searches */
            copy_text(f->search, sizeof(f->search), arg);
            if (arg[0] && f->ops->key)
                return f->ops->key(app, f, TUI_CMD_SEARCH) | TUI_REDRAW;
            return TUI_REDRAW;
        }
        copy_text(f->filter, sizeof(f->filter), arg);
        f->sel = f->top = 0;
        remap(app, f);
        return TUI_REDRAW;
    case TUI_CMD_QUIT:
        return TUI_QUIT;
    case TUI_CMD_HELP:
        app->help = 1;
        app->help_top = 0;
        return TUI_REDRAW;
    default:
        return TUI_REDRAW;
    }
}

/* The start of the character before byte offset pos of t. */
static size_t char_before(const char *t, size_t pos)
{
    if (pos > 0)
        pos--;
    while (pos > 0 && (t[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

/* The start of the character after the one at byte offset pos of t. */
static size_t char_after(const char *t, size_t pos)
{
    if (t[pos])
        pos++;
    while (t[pos] && (t[pos] & 0xC0) == 0x80)
        pos++;
    return pos;
}

/* A key on the `:` line: text in at the cursor, Left/Right/Home/End move it, Backspace
 * and Delete, Ctrl-U clears, Tab completes the command name, Enter runs, Esc cancels. */
static int command_key(tui_app *app, int code, int func)
{
    char *t = app->cmdline;
    size_t len = strlen(t), pos = app->cmd_pos;

    app->cmd_note[0] = '\0';
    if ((!func && (code == '\n' || code == '\r')) || (func && code == KEY_ENTER)) {
        char line[sizeof(app->cmdline)];
        memcpy(line, t, sizeof(line));
        app->editing = 0;
        t[0] = '\0';
        app->cmd_pos = 0;
        return exec_command(app, line) | TUI_REDRAW;
    } else if (!func && code == ESC) {
        app->editing = 0;
        t[0] = '\0';
        pos = 0;
    } else if ((func && code == KEY_BACKSPACE) || (!func && (code == 127 || code == 8))) {
        if (pos == 0 && len == 0) {
            app->editing = 0; /* Backspace on an empty line closes it, as in k9s and vi */
        } else if (pos > 0) {
            size_t from = char_before(t, pos);
            memmove(t + from, t + pos, len - pos + 1);
            pos = from;
        }
    } else if (func && code == KEY_DC) {
        size_t to = char_after(t, pos);
        memmove(t + pos, t + to, len - to + 1);
    } else if (func && code == KEY_LEFT) {
        pos = char_before(t, pos);
    } else if (func && code == KEY_RIGHT) {
        pos = char_after(t, pos);
    } else if ((func && code == KEY_HOME) || (!func && code == CTRL_A)) {
        pos = 0;
    } else if ((func && code == KEY_END) || (!func && code == CTRL_E)) {
        pos = len;
    } else if (!func && code == CTRL_U) {
        t[0] = '\0';
        pos = 0;
    } else if (!func && code == '\t') {
        size_t n = tui_command_complete(t, sizeof(app->cmdline), app->read_only, app->cmd_note,
                                        sizeof(app->cmdline));
        if (n == 0 && !strchr(t, ' '))
            snprintf(app->cmd_note, sizeof(app->cmd_note), "no command starts with '%s'", t);
        else if (n == 1)
            app->cmd_note[0] = '\0';
        pos = strlen(t);
    } else if (!func && code >= ' ' && code != 127) {
        char mb[MB_LEN_MAX];
        mbstate_t st;
        size_t n;
        memset(&st, 0, sizeof(st));
        n = wcrtomb(mb, (wchar_t)code, &st);
        if (n != (size_t)-1 && len + n < sizeof(app->cmdline)) {
            memmove(t + pos + n, t + pos, len - pos + 1);
            memcpy(t + pos, mb, n);
            pos += n;
        }
    }
    app->cmd_pos = pos;
    return TUI_HANDLED | TUI_REDRAW;
}

/* A key while the help is open: j/k, PgUp/PgDn, g/G scroll it, any other closes it. */
static int help_key(tui_app *app, int code, int func)
{
    int page = app->help_page > 1 ? app->help_page - 1 : 1;
    tui_cmd cmd = tui_key_lookup(code, func, TUI_SCOPE_ALL, 1);

    if (!func && code == ' ')
        cmd = TUI_CMD_PAGE_DOWN;
    switch (cmd) {
    case TUI_CMD_UP:
        app->help_top--;
        break;
    case TUI_CMD_DOWN:
        app->help_top++;
        break;
    case TUI_CMD_PAGE_UP:
        app->help_top -= page;
        break;
    case TUI_CMD_PAGE_DOWN:
        app->help_top += page;
        break;
    case TUI_CMD_TOP:
        app->help_top = 0;
        break;
    case TUI_CMD_BOTTOM:
        app->help_top = HELP_LINES; /* draw_help clamps it to the last page */
        break;
    default:
        app->help = 0;
        break;
    }
    if (app->help_top < 0)
        app->help_top = 0;
    return TUI_REDRAW;
}

static int handle_key(tui_app *app, int code, int func)
{
    tui_frame *f = top(app);
    tui_cmd cmd;

    if (func && code == KEY_RESIZE)
        return TUI_REDRAW;
    if (func && code == KEY_MOUSE && f->ops->raw_key && !app->help && !app->dialog.open)
        return f->ops->raw_key(app, f, code, func); /* a form's own clicks */
    if (func && code == KEY_MOUSE)
        return handle_mouse(app);
    if (app->dialog.open)
        return dialog_key(app, code, func);
    if (app->help)
        return help_key(app, code, func);
    if (f->ops->raw_key) {
        int flags = f->ops->raw_key(app, f, code, func);
        if (flags)
            return flags;
    }
    if (app->editing == EDIT_COMMAND)
        return command_key(app, code, func);
    if (app->editing)
        return filter_key(app, f, code, func);
    if (!func && code == ESC && (f->filter[0] || f->search[0])) {
        f->filter[0] = '\0'; /* Esc clears a filter or search before it goes back */
        f->search[0] = '\0';
        remap(app, f);
        return TUI_REDRAW;
    }
    cmd = tui_key_lookup(code, func, f->ops->scope, app->read_only);
    if (cmd == TUI_CMD_NONE) {
        if (app->read_only && tui_key_lookup(code, func, f->ops->scope, 0) != TUI_CMD_NONE) {
            tui_app_status(app, 1,
                           "read-only: nothing can be changed (start, stop, restart, delete, "
                           "cancel, new, edit, rerun)");
            return TUI_REDRAW;
        }
        return 0;
    }
    if (view_of(cmd)) {
        reset(app, view_of(cmd));
        return TUI_REFRESH;
    }
    switch (cmd) {
    case TUI_CMD_QUIT:
        if (app->depth == 1)
            return TUI_QUIT;
        pop(app);
        return TUI_REFRESH;
    case TUI_CMD_BACK:
        pop(app);
        return TUI_REFRESH;
    case TUI_CMD_HELP:
        app->help = 1;
        app->help_top = 0;
        return TUI_REDRAW;
    case TUI_CMD_COMMAND:
        app->editing = EDIT_COMMAND;
        app->cmdline[0] = '\0';
        app->cmd_pos = 0;
        app->cmd_note[0] = '\0';
        return TUI_REDRAW;
    case TUI_CMD_NEXT_VIEW: {
        size_t i = 0;
        while (i < 3 && base_views[i] != app->stack[0].ops)
            i++;
        reset(app, base_views[i >= 3 ? 0 : (i + 1) % 3]);
        return TUI_REFRESH;
    }
    case TUI_CMD_REFRESH:
        return TUI_REFRESH;
    case TUI_CMD_FILTER:
        app->editing = EDIT_FILTER;
        return TUI_REDRAW;
    case TUI_CMD_GREP: /* a new pattern: & then Enter clears */
        app->editing = EDIT_FILTER;
        f->filter[0] = '\0';
        return TUI_REDRAW;
    case TUI_CMD_SEARCH:
        app->editing = EDIT_SEARCH;
        f->search[0] = '\0';
        return TUI_REDRAW;
    case TUI_CMD_SORT_LEFT:
    case TUI_CMD_SORT_RIGHT:
    case TUI_CMD_SORT_INVERT:
        return sort_key(app, f, cmd);
    default:
        break;
    }
    return run_cmd(app, f, cmd);
}

/* One key through the dispatch and its flags' effects. */
static void key_in(tui_app *app, int code, int func)
{
    int flags = handle_key(app, code, func);

    if (flags & TUI_QUIT)
        app->quit = 1;
    if (flags & TUI_REFRESH)
        refresh_data(app, 1);
    if (flags & (TUI_REDRAW | TUI_REFRESH))
        app->dirty = 1;
}

static void read_keys(tui_app *app)
{
    wint_t wc;
    int r;

    while (!app->quit && (r = wget_wch(stdscr, &wc)) != ERR) {
        app->interrupted = 0;
        key_in(app, (int)wc, r == KEY_CODE_YES);
    }
}

static void read_signals(tui_app *app)
{
    unsigned char sigs[32];
    ssize_t n;

    while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (sigs[i] == SIGWINCH) {
                struct winsize ws;
                if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
                    resizeterm(ws.ws_row, ws.ws_col);
                app->dirty = 1;
            } else if (sigs[i] == SIGINT && top(app)->ops->raw_key && !app->interrupted) {
                /* Ctrl-C in a form is Esc: it asks before typed work is lost. A second
                 * Ctrl-C with no key between quits. */
                app->interrupted = 1;
                key_in(app, ESC, 0);
            } else {
                app->quit = 1;
            }
        }
    }
}

static void loop(tui_app *app)
{
    long long next = 0;

    while (!app->quit) {
        struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                {.fd = sig_pipe[0], .events = POLLIN}};
        long long now = tui_now_ms();
        int timeout;

        if (now >= next) {
            app->behind = 0;
            refresh_data(app, 0);
            next = now + (app->behind ? 0 : app->burst ? BURST_MS : app->interval_ms);
            if (app->burst)
                app->burst--;
        }
        if (app->dirty) {
            render(app);
            app->dirty = 0;
        }
        timeout = (int)(next - tui_now_ms());
        if (poll(fds, 2, timeout > 0 ? timeout : 0) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents & POLLIN)
            read_signals(app);
        if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            app->quit = 1;
            break;
        }
        if (fds[0].revents & POLLIN) {
            read_keys(app);
            if (app->burst == BURST_POLLS)
                next = tui_now_ms() + BURST_MS; /* the first look after an action */
        }
    }
}

/* ---- headless ------------------------------------------------------------------------ */

tui_app *tui_app_headless_new(const char *endpoint, int read_only)
{
    tui_app *app = calloc(1, sizeof(*app));

    if (!app)
        return NULL;
    tui_model_init(&app->model, NULL, endpoint, NULL);
    app->model.connected = 1;
    app->model.ever_connected = 1;
    app->model.calls = 1;
    app->read_only = read_only;
    app->interval_ms = 1000;
    tui_app_push(app, &tui_view_services, NULL);
    return app;
}

void tui_app_headless_free(tui_app *app)
{
    if (!app)
        return;
    while (app->depth > 0)
        leave(&app->stack[--app->depth]);
    tui_model_free(&app->model);
    free(app);
}

tui_frame *tui_app_show(tui_app *app, const tui_view_ops *ops, const tui_frame *proto)
{
    while (app->depth > 0)
        leave(&app->stack[--app->depth]);
    return tui_app_push(app, ops, proto);
}

void tui_app_overlay(tui_app *app, int help, const tui_action *act)
{
    app->help = help;
    app->help_top = 0;
    if (act)
        tui_app_request(app, act);
}

void tui_app_render(tui_app *app)
{
    render(app);
}

int tui_app_key(tui_app *app, int code, int func)
{
    key_in(app, code, func);
    return app->quit;
}

const tui_frame *tui_app_top(tui_app *app)
{
    return top(app);
}

/* ---- start-up ------------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out, "Usage: hero_proc_tui [OPTION]...\n"
                 "Watch and control the services and runs of a hero_proc server.\n"
                 "\n"
                 "  --socket PATH     connect to the server on this Unix socket\n"
                 "  --url URL         connect over HTTP (token from HERO_PROC_TOKEN)\n"
                 "  --no-spawn        never start an embedded server\n"
                 "  -i SECONDS        refresh interval (default 1)\n"
                 "  --read-only       hide the actions that change anything\n"
                 "  --demo            load the demo services into the server\n"
                 "  -h, --help        show this help and exit\n"
                 "  -V, --version     show the version and exit\n"
                 "\n"
                 "Without --socket or --url: HERO_PROC_SOCKET, HERO_PROC_URL, then the default\n"
                 "socket; when nothing answers there, hero_proc_server is started on it.\n"
                 "Press ? in the dashboard for the keys.\n");
}

typedef struct tui_opts {
    const char *socket, *url;
    int no_spawn, read_only, demo;
    long interval_ms;
} tui_opts;

/* 0 to go on, else the exit status + 1 (so that 0 = success exits too). */
static int parse(int argc, char **argv, tui_opts *o)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'}, {"url", required_argument, NULL, 'u'},
        {"no-spawn", no_argument, NULL, 'n'},     {"read-only", no_argument, NULL, 'r'},
        {"demo", no_argument, NULL, 'd'},         {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int opt;
    char *end;
    double secs;

    o->interval_ms = 1000;
    while ((opt = getopt_long(argc, argv, "hVi:", options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            return 1 + EXIT_SUCCESS;
        case 'V':
            printf("hero_proc_tui %s\n", PACKAGE_VERSION);
            return 1 + EXIT_SUCCESS;
        case 's':
            o->socket = optarg;
            break;
        case 'u':
            o->url = optarg;
            break;
        case 'n':
            o->no_spawn = 1;
            break;
        case 'r':
            o->read_only = 1;
            break;
        case 'd':
            o->demo = 1;
            break;
        case 'i':
            errno = 0;
            secs = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(secs >= 0.1 && secs <= 3600)) {
                fprintf(stderr, "hero_proc_tui: -i takes seconds between 0.1 and 3600, not '%s'\n",
                        optarg);
                usage(stderr);
                return 1 + EXIT_USAGE;
            }
            o->interval_ms = (long)(secs * 1000);
            break;
        default:
            usage(stderr);
            return 1 + EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hero_proc_tui: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 1 + EXIT_USAGE;
    }
    if (o->socket && o->url) {
        fprintf(stderr, "hero_proc_tui: give --socket or --url, not both\n");
        usage(stderr);
        return 1 + EXIT_USAGE;
    }
    return 0;
}

/* Connects (starting the server when allowed and needed) and loads the demo. */
static int connect_server(tui_app *app, const tui_opts *o)
{
    hp_factory_options fo = {
        .socket_path = o->socket, .url = o->url, .no_spawn = o->no_spawn, .timeout_ms = 5000};
    hp_error err = {0}, err2 = {0};
    hp_client *c = hp_factory_auto(&fo, &err);
    char reason[256] = "";

    if (!c) {
        /* Nobody answers and none could be started: keep a client on the endpoint, to
         * say why in the banner and to retry with backoff. */
        hp_endpoint ep;
        snprintf(reason, sizeof(reason), "%s", err.message);
        if (hp_endpoint_resolve(o->socket, o->url, &ep, &err2) == HP_OK) {
            c = ep.url ? hp_factory_http(ep.url, ep.token, &err2)
                       : hp_factory_local_uds(ep.socket_path, &err2);
            hp_endpoint_clear(&ep);
        }
        if (!c) {
            fprintf(stderr, "hero_proc_tui: %s\n", err.message);
            return -1;
        }
    }
    tui_model_init(&app->model, c, hp_client_endpoint(c), reason);
    if (reason[0] && !o->no_spawn)
        tui_app_status(app, 1, "%s", reason);
    else if (hp_client_started_server(c))
        tui_app_status(app, 0, "started hero_proc_server on %s", hp_client_endpoint(c));
    if (o->demo) {
        char dir[4096], msg[512];
        if (!tui_demo_dir(dir, sizeof(dir)))
            tui_app_status(app, 1, "demo: no data/demo folder found (set HERO_PROC_DATA)");
        else if (tui_demo_load(hp_client_sdk(c), dir, msg, sizeof(msg)) != 0)
            tui_app_status(app, 1, "%s", msg);
        else if (!hp_client_started_server(c))
            tui_app_status(app, 0, "%s", msg);
        else
            tui_app_status(app, 0, "started hero_proc_server on %s; %s", hp_client_endpoint(c),
                           msg);
    }
    return 0;
}

static void start_curses(void)
{
    const char *no_colour = getenv("NO_COLOR");
    const char *codeset = nl_langinfo(CODESET);

    initscr();
    curses_on = 1;
    cbreak();
    {
        /* Ctrl-S saves a form: the terminal's XON/XOFF must not swallow it. */
        struct termios t;
        if (tcgetattr(STDIN_FILENO, &t) == 0) {
            t.c_iflag &= ~(tcflag_t)IXON;
            tcsetattr(STDIN_FILENO, TCSANOW, &t);
        }
        def_prog_mode();
    }
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    curs_set(0);
    tui_draw_init(has_colors() && !(no_colour && *no_colour),
                  codeset && strcmp(codeset, "UTF-8") == 0);
}

int tui_main(int argc, char **argv)
{
    static tui_app app; /* static: the crash handler and the loop share one */
    tui_opts o = {0};
    int rc = parse(argc, argv, &o);

    if (rc)
        return rc - 1;
    setlocale(LC_ALL, "");
    app.read_only = o.read_only;
    app.interval_ms = o.interval_ms;
    if (connect_server(&app, &o) != 0)
        return EXIT_UNREACHABLE;
    if (install_signals() != 0) {
        fprintf(stderr, "hero_proc_tui: cannot set up signals: %s\n", strerror(errno));
        tui_model_free(&app.model);
        return EXIT_UNREACHABLE;
    }
    start_curses();
    tui_app_push(&app, &tui_view_services, NULL);
    loop(&app);
    endwin();
    curses_on = 0;
    while (app.depth > 0)
        leave(&app.stack[--app.depth]);
    tui_model_free(&app.model);
    return EXIT_SUCCESS;
}
