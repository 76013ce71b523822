/* SPDX-License-Identifier: Apache-2.0 */
/* The terminal and the one poll() loop: curses set up and restored (even on a crash), the
 * signals through a self-pipe, keys read, the events follower's pipe (a change fetched at
 * once, a failure flashed), the fleet pollers' pipe, the refresh timer (refresh.c decides
 * what a tick fetches) and the redraw. */
#include "config.h"

#include "tui/app_int.h"

#include "tui/draw.h"
#include "tui/events.h"
#include "tui/fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

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

int tui__signals_install(void)
{
    struct sigaction sa;
    static const int quit_sigs[] = {SIGWINCH, SIGTERM, SIGINT, SIGHUP};
    /* Fatal ones, and SIGQUIT (Ctrl-\): the terminal is restored before the default
     * action (a core) runs. */
    static const int crash_sigs[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGQUIT};

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

void tui__term_start(void)
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
    /* Every button event, though only presses and the wheel do anything: an event left
     * out of the mask (a release) makes ncurses wait in a blocking read for one in it,
     * and the loop, stuck there, would not redraw after a resize until a key came. */
    mousemask(ALL_MOUSE_EVENTS, NULL);
    mouseinterval(0);
    curs_set(0);
    tui_draw_init(has_colors() && !(no_colour && *no_colour),
                  codeset && strcmp(codeset, "UTF-8") == 0);
}

void tui__term_stop(void)
{
    endwin();
    curses_on = 0;
}

static void read_keys(tui_app *app)
{
    wint_t wc;
    int r;

    while (!app->quit && (r = wget_wch(stdscr, &wc)) != ERR) {
        app->interrupted = 0;
        tui__key_in(app, (int)wc, r == KEY_CODE_YES);
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
            } else if (sigs[i] == SIGINT && tui__top(app)->ops->raw_key && !app->interrupted) {
                /* Ctrl-C in a form is Esc: it asks before typed work is lost. A second
                 * Ctrl-C with no key between quits. */
                app->interrupted = 1;
                tui__key_in(app, ESC, 0);
            } else {
                app->quit = 1;
            }
        }
    }
}

/* The answer to a key stays readable for a while: a failure that comes meanwhile (a
 * service crash-looping elsewhere) is held and flashed after it, the latest one. */
enum { SAID_KEEP_MS = 3000, FLASH_MS = 2000 };

static void flash_held(tui_app *app)
{
    long long now = tui_now_ms();

    if (!app->held_flash[0] ||
        (app->said_at && now - app->said_at < SAID_KEEP_MS && !app->flash_until))
        return;
    snprintf(app->status, sizeof(app->status), "%s", app->held_flash);
    app->status_error = 1;
    app->held_flash[0] = '\0';
    app->flash_until = now + FLASH_MS;
    app->dirty = 1;
}

/* What the events follower brought: the events into the model, a look at the view at
 * once when one concerns it (a change shows without waiting for the timer), a failure
 * flashed in the status line and, with --bell, rung. Following again (a server back, or
 * the first answer) or events lost fetch the view whole, since events were missed. */
int tui__events_in(tui_app *app, int state, hp_event_page *page)
{
    int fresh = 0;

    if (state != app->events_state) {
        if (state == TUI_EVENTS_FOLLOWING)
            app->refetch = TUI_REFETCH_FORCE;
        app->events_state = state;
        app->dirty = 1;
    }
    if (page && page->dropped > 0)
        app->refetch = TUI_REFETCH_FORCE;
    if (!page)
        return app->refetch != 0;
    for (size_t i = 0; i < page->n_events; i++) {
        const hp_event *e = &page->events[i];
        if (tui__event_concerns(app, e))
            fresh = 1;
        if (e->kind && strcmp(e->kind, "server_restarting") == 0) {
            /* Shown before the next call, which waits for the new image. */
            app->model.restarting_at_ms = tui_now_ms();
            app->model.restarting_answered = 0;
            tui__render(app);
        }
        if (!tui_event_is_failure(e))
            continue;
        snprintf(app->held_flash, sizeof(app->held_flash), "! %s%s%s", e->service ? e->service : "",
                 e->service ? ": " : "", e->text);
        if (app->bell)
            beep();
    }
    flash_held(app);
    app->dirty |= page->n_events > 0; /* the Events view and its count */
    tui_model_events_add(&app->model, page);
    if (fresh && !app->refetch)
        app->refetch = TUI_REFETCH;
    return app->refetch != 0;
}

static int take_events(tui_app *app)
{
    int state = 0;
    hp_event_page *page = tui_events_take(app->events, &state);

    return tui__events_in(app, state, page);
}

void tui__loop(tui_app *app)
{
    long long next = 0;

    while (!app->quit) {
        struct pollfd fds[4] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                {.fd = sig_pipe[0], .events = POLLIN},
                                {.fd = tui_events_fd(app->events), .events = POLLIN},
                                {.fd = tui_fleet_fd(app->fleet), .events = POLLIN}};
        long long now = tui_now_ms();
        int timeout;

        if (now >= next) {
            if (app->behind && app->dirty) { /* what the last slice of work found shows first */
                tui__render(app);
                app->dirty = 0;
            }
            app->behind = 0;
            if (!app->paused) /* `Z`: what is shown stays until `Z` again */
                tui__refresh_tick(app);
            next = now + (app->behind ? 0 : app->burst ? BURST_MS : app->interval_ms);
            if (app->burst)
                app->burst--;
        }
        if (app->dirty) {
            tui__render(app);
            app->dirty = 0;
        }
        flash_held(app);
        if (app->dirty) {
            tui__render(app);
            app->dirty = 0;
        }
        if (app->flash_until && tui_now_ms() >= app->flash_until) {
            app->flash_until = 0; /* the flash ends: drawn once more without it */
            tui__render(app);
        }
        if (app->fleet) /* polled only while shown: a drill-in or another view stops it */
            tui_fleet_pause(app->fleet, app->paused || tui__top(app)->ops != &tui_view_fleet);
        {
            long long wake = app->flash_until && app->flash_until < next ? app->flash_until : next;
            if (app->held_flash[0] && app->said_at + SAID_KEEP_MS < wake)
                wake = app->said_at + SAID_KEEP_MS;
            timeout = (int)(wake - tui_now_ms());
        }
        if (poll(fds, 4, timeout > 0 ? timeout : 0) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents & POLLIN)
            read_signals(app);
        if (fds[2].revents & POLLIN) {
            long long flashed = app->flash_until;
            if (take_events(app))
                next = tui_now_ms(); /* what changed is fetched now, not at the next tick */
            if (app->flash_until != flashed) { /* a failure shows before that fetch */
                tui__render(app);
                app->dirty = 0;
            }
        }
        if (fds[3].revents & POLLIN) { /* a host of the fleet brought news */
            tui_fleet_drain(app->fleet);
            if (tui__top(app)->ops == &tui_view_fleet)
                next = tui_now_ms();
        }
        if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            app->quit = 1;
            break;
        }
        if (fds[0].revents & POLLIN) {
            int avail = 0;
            /* Readable with nothing to read is end-of-file: the terminal went away. */
            if (ioctl(STDIN_FILENO, FIONREAD, &avail) == 0 && avail == 0) {
                app->quit = 1;
                break;
            }
            read_keys(app);
            if (app->burst == BURST_POLLS)
                next = tui_now_ms() + BURST_MS; /* the first look after an action */
            if (app->behind) /* a key began work in slices (a search): the next one now */
                next = tui_now_ms();
        }
    }
}
