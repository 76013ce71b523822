/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_tui's application: its state, the frame stack and the functions views call
 * (tui.h), the headless driver of the tests, and the start (options, connection, tui_main).
 * The rooms around it: loop.c (terminal, signals, poll loop), dispatch.c (keys), cmdline.c
 * (the `:` line), dialog.c (dialog and help), render.c (chrome), refresh.c (polling),
 * list.c (list helpers of view.h). Views draw their own rows. */
#include "config.h"

#include "tui/app_int.h"
#include "tui/events.h"

#include "client/context.h"
#include "tui/demo.h"
#include "tui/fleet.h"
#include "tui/draw.h"
#include "tui/tuiconf.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

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

int tui_app_events_state(const tui_app *app)
{
    return app->events_state;
}

int tui_app_stale(const tui_app *app)
{
    /* The fleet shows each host's state in its strip, not the connection's. */
    if (app->depth > 0 && app->stack[app->depth - 1].ops == &tui_view_fleet)
        return 0;
    return app->model.calls > 0 && !app->model.connected;
}

void tui_app_status(tui_app *app, int error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(app->status, sizeof(app->status), fmt, ap);
    va_end(ap);
    app->status_error = error;
    app->said_at = tui_now_ms();
    app->dirty = 1;
}

tui_frame *tui__top(tui_app *app)
{
    return &app->stack[app->depth - 1];
}

tui_frame *tui_app_frame(tui_app *app)
{
    return tui__top(app);
}

static void leave(tui_frame *f)
{
    if (f->ops && f->ops->leave)
        f->ops->leave(f);
    tui__marks_clear(f);
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

void tui__pop(tui_app *app)
{
    if (app->depth > 1)
        leave(&app->stack[--app->depth]);
    app->dirty = 1;
}

/* The top-level view a view command (keys 1 2 3 4, :services ...) switches to, else NULL. */
const tui_view_ops *tui__view_of(tui_cmd cmd)
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
    case TUI_CMD_VIEW_EVENTS:
        return &tui_view_events;
    case TUI_CMD_VIEW_FLEET:
        return &tui_view_fleet;
    default:
        return NULL;
    }
}

void tui__reset(tui_app *app, const tui_view_ops *ops)
{
    while (app->depth > 0)
        leave(&app->stack[--app->depth]);
    tui_app_push(app, ops, NULL);
}

/* An action of the fleet goes to its host's connection, any other to the dashboard's. */
static int act_on(tui_app *app, const tui_action *act, char *msg, size_t size)
{
    if (act->host[0] && app->fleet)
        return tui_fleet_act(app->fleet, act, msg, size);
    return tui_model_act(&app->model, act, msg, size);
}

void tui__run_action(tui_app *app, const tui_action *act)
{
    char msg[256];
    int rc = act_on(app, act, msg, sizeof(msg));

    if (act->host[0])
        tui_app_status(app, rc != 0, "%s: %s", act->host, msg);
    else
        tui_app_status(app, rc != 0, "%s", msg);
    app->burst = BURST_POLLS;
}

/* "restart", "run 12": the verb and the object of an action, for questions and results. */
static const char *verb(tui_act kind)
{
    switch (kind) {
    case TUI_ACT_START:
        return "start";
    case TUI_ACT_STOP:
        return "stop";
    case TUI_ACT_RESTART:
        return "restart";
    case TUI_ACT_CANCEL:
    case TUI_ACT_JOB_CANCEL:
        return "cancel";
    default:
        return "delete";
    }
}

static const char *done_verb(tui_act kind)
{
    switch (kind) {
    case TUI_ACT_START:
        return "started";
    case TUI_ACT_STOP:
        return "stopped";
    case TUI_ACT_RESTART:
        return "restarted";
    case TUI_ACT_CANCEL:
    case TUI_ACT_JOB_CANCEL:
        return "cancelled";
    default:
        return "deleted";
    }
}

static void act_name(const tui_action *a, char *buf, size_t size)
{
    if (a->kind == TUI_ACT_CANCEL || a->kind == TUI_ACT_RUN_DELETE)
        snprintf(buf, size, "run %lld", (long long)a->run_id);
    else if (a->kind == TUI_ACT_JOB_CANCEL)
        snprintf(buf, size, "job %lld", (long long)a->job_id);
    else if (a->host[0]) /* a long name is cut: the line is for a reader, not a parser */
        snprintf(buf, size, "%.40s on %.40s", a->service, a->host);
    else
        snprintf(buf, size, "%s", a->service);
}

static const char *act_noun(tui_act kind, size_t n)
{
    switch (kind) {
    case TUI_ACT_CANCEL:
    case TUI_ACT_RUN_DELETE:
        return n == 1 ? "run" : "runs";
    case TUI_ACT_JOB_CANCEL:
        return n == 1 ? "job" : "jobs";
    case TUI_ACT_SECRET_DELETE:
        return n == 1 ? "secret" : "secrets";
    default:
        return n == 1 ? "service" : "services";
    }
}

void tui__dialog_close(tui_app *app)
{
    tui_dialog *d = &app->dialog;

    free(d->acts);
    d->acts = NULL;
    d->n_acts = 0;
    d->open = 0;
}

void tui__run_dialog(tui_app *app, tui_dialog *d, int keep_history)
{
    char msg[256], name[96], failed[256] = "";
    size_t ok = 0, bad = 0, used = 0;
    tui_frame *f = tui__top(app);

    if (!d->acts) {
        tui_action act = d->act;
        act.keep_history = keep_history;
        tui__dialog_close(app);
        tui__run_action(app, &act);
        return;
    }
    for (size_t i = 0; i < d->n_acts; i++) {
        tui_action *a = &d->acts[i];
        a->keep_history = keep_history;
        if (act_on(app, a, msg, sizeof(msg)) == 0) {
            ok++;
            continue;
        }
        bad++;
        act_name(a, name, sizeof(name));
        if (used < sizeof(failed))
            used += (size_t)snprintf(failed + used, sizeof(failed) - used, "%s%s (%s)",
                                     bad > 1 ? ", " : "", name, msg);
    }
    /* The rows done are unmarked; the ones that failed stay marked, to try again. */
    if (bad == 0)
        tui__marks_clear(f);
    if (bad)
        tui_app_status(app, 1, "%s %zu, failed %zu: %s", done_verb(d->acts[0].kind), ok, bad,
                       failed);
    else
        tui_app_status(app, 0, "%s %zu %s%s", done_verb(d->acts[0].kind), ok,
                       act_noun(d->acts[0].kind, ok), keep_history ? " (history kept)" : "");
    tui__dialog_close(app);
    app->burst = BURST_POLLS;
}

void tui_app_request_many(tui_app *app, tui_action *acts, size_t n)
{
    tui_dialog *d = &app->dialog;
    char name[96];
    size_t used;

    if (app->read_only || n == 0) {
        if (n)
            tui_app_status(app, 1, "read-only: actions are off");
        free(acts);
        return;
    }
    tui__dialog_close(app);
    memset(d, 0, sizeof(*d));
    d->acts = acts;
    d->n_acts = n;
    d->act = acts[0];
    used = (size_t)snprintf(d->text, sizeof(d->text),
                            "%c%s %zu marked %s%s: ", verb(acts[0].kind)[0] - 'a' + 'A',
                            verb(acts[0].kind) + 1, n, act_noun(acts[0].kind, n),
                            acts[0].kind == TUI_ACT_DELETE ? " (stopped first)" : "");
    for (size_t i = 0; i < n && i < 10 && used < sizeof(d->text); i++) {
        act_name(&acts[i], name, sizeof(name));
        used +=
            (size_t)snprintf(d->text + used, sizeof(d->text) - used, "%s%s", i ? ", " : "", name);
    }
    if (n > 10 && used < sizeof(d->text))
        used += (size_t)snprintf(d->text + used, sizeof(d->text) - used, " and %zu more", n - 10);
    if (used < sizeof(d->text))
        snprintf(d->text + used, sizeof(d->text) - used, "?");
    snprintf(d->button, sizeof(d->button), "%c%s %u", verb(acts[0].kind)[0] - 'a' + 'A',
             verb(acts[0].kind) + 1, (unsigned)(n > 99999 ? 99999 : n));
    d->open = 1;
    app->dirty = 1;
}

void tui_app_close(tui_app *app, const char *service, int64_t run_id, const char *msg)
{
    tui_frame proto;

    tui__pop(app);
    if (msg)
        tui_app_status(app, 0, "%s", msg);
    if (service)
        snprintf(tui__top(app)->select, sizeof(tui__top(app)->select), "%s", service);
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

    tui__dialog_close(app);
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
    char where[80] = "", names[400];
    size_t n;

    if (app->read_only) {
        tui_app_status(app, 1, "read-only: actions are off");
        return;
    }
    if (act->kind == TUI_ACT_START) {
        tui__run_action(app, act);
        return;
    }
    tui__dialog_close(app);
    memset(d, 0, sizeof(*d));
    d->act = *act;
    if (act->host[0]) /* "service 'web' on edge": the fleet's rows name their host */
        snprintf(where, sizeof(where), " on %s", act->host);
    switch (act->kind) {
    case TUI_ACT_STOP:
        /* The server refuses to stop what running services require: they are named here,
         * and confirming stops them first (cascade). A fleet row's host has its own
         * services, which the model does not hold: its server's refusal says it. */
        n = act->host[0] ? 0
                         : tui_model_dependants(&app->model, act->service, 1, names, sizeof(names));
        d->act.cascade = n > 0;
        if (n)
            snprintf(d->text, sizeof(d->text), "Stop service '%s'? %s %s %s it: %s first.",
                     act->service, n == 1 ? "Service" : "Services", names,
                     n == 1 ? "requires" : "require", n == 1 ? "it stops" : "they stop");
        else
            snprintf(d->text, sizeof(d->text), "Stop service '%s'%s?", act->service, where);
        snprintf(d->button, sizeof(d->button), n ? "Stop %zu" : "Stop", n + 1);
        break;
    case TUI_ACT_RESTART:
        snprintf(d->text, sizeof(d->text), "Restart service '%s'%s?", act->service, where);
        snprintf(d->button, sizeof(d->button), "Restart");
        break;
    case TUI_ACT_DELETE:
        n = act->host[0] ? 0
                         : tui_model_dependants(&app->model, act->service, 0, names, sizeof(names));
        d->act.cascade = n > 0;
        if (n)
            snprintf(d->text, sizeof(d->text),
                     "Delete service '%s'? It is stopped first. %s %s %s it: %s deleted first.",
                     act->service, n == 1 ? "Service" : "Services", names,
                     n == 1 ? "requires" : "require", n == 1 ? "it is" : "they are");
        else
            snprintf(d->text, sizeof(d->text), "Delete service '%s'%s? It is stopped first.",
                     act->service, where);
        snprintf(d->button, sizeof(d->button), n ? "Delete %zu" : "Delete", n + 1);
        break;
    case TUI_ACT_RUN_DELETE:
        snprintf(d->text, sizeof(d->text), "Delete run %lld with its jobs and logs?",
                 (long long)act->run_id);
        snprintf(d->button, sizeof(d->button), "Delete");
        break;
    case TUI_ACT_JOB_CANCEL:
        snprintf(d->text, sizeof(d->text), "Cancel job %lld?", (long long)act->job_id);
        snprintf(d->button, sizeof(d->button), "Cancel job");
        break;
    case TUI_ACT_SECRET_DELETE:
        snprintf(d->text, sizeof(d->text), "Delete secret '%s'?", act->service);
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

/* ---- the fleet ------------------------------------------------------------------------ */

struct tui_fleet *tui_app_fleet(tui_app *app)
{
    char msg[256];

    if (!app->fleet) {
        app->fleet = tui_fleet_start(app->interval_ms, msg, sizeof(msg));
        if (!app->fleet)
            tui_app_status(app, 1, "%s", msg);
    }
    return app->fleet;
}

int tui_app_use_context(tui_app *app, const char *name)
{
    hp_factory_options fo = {.context = name, .no_spawn = 1, .timeout_ms = 5000};
    hp_endpoint ep;
    hp_error err;
    hp_client *c;

    if (strcmp(app->context, name) == 0 && app->model.client)
        return 0;
    hp_error_clear(&err);
    c = hp_factory_auto(&fo, &err);
    if (!c) {
        tui_app_status(app, 1, "%s: %s", name, err.message);
        return -1;
    }
    /* The views under the fleet see one server, as ever: this one's. */
    tui_events_stop(app->events);
    app->events = NULL;
    app->events_state = TUI_EVENTS_TRYING;
    tui_model_free(&app->model);
    tui_model_init(&app->model, c, hp_client_endpoint(c), "");
    snprintf(app->context, sizeof(app->context), "%s", name);
    memset(&ep, 0, sizeof(ep));
    if (hp__context_endpoint(name, &ep, &err) == HP_OK) {
        if (!ep.url && !ep.socket_path) /* local: the socket the client found */
            ep.socket_path = strdup(hp_client_endpoint(c));
        if (ep.url || ep.socket_path)
            app->events = tui_events_start(&ep);
        hp_endpoint_clear(&ep);
    }
    tui_app_status(app, 0, "on %s (%s): Esc goes back to the fleet", name, app->model.endpoint);
    return 0;
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
    tui__dialog_close(app);
    tui_fleet_stop(app->fleet);
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
    tui__render(app);
}

int tui_app_key(tui_app *app, int code, int func)
{
    tui__key_in(app, code, func);
    return app->quit;
}

const tui_frame *tui_app_top(tui_app *app)
{
    return tui__top(app);
}

void tui_app_headless_events(tui_app *app, int state, hp_event_page *page)
{
    tui__events_in(app, state, page);
}

void tui_app_headless_tick(tui_app *app)
{
    tui__refresh_tick(app);
}

/* ---- start-up ------------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out, "Usage: hero_proc_tui [OPTION]...\n"
                 "Watch and control the services and runs of a hero_proc server.\n"
                 "\n"
                 "  --socket PATH     connect to the server on this Unix socket\n"
                 "  --url URL         connect over HTTP(S) (token from HERO_PROC_TOKEN)\n"
                 "  --context NAME    connect to a server of the contexts file\n"
                 "  --pin PIN         https: trust the server whose key has this pin\n"
                 "  --cacert FILE     https: verify the server against this CA\n"
                 "  --no-spawn        never start an embedded server\n"
                 "  -i SECONDS        refresh interval (default 1)\n"
                 "  --read-only       hide the actions that change anything\n"
                 "  --demo            load the demo services into the server\n"
                 "  --bell            ring the terminal's bell on a failure or a crash loop\n"
                 "  --fleet           every context's services in one list (key 0, :fleet)\n"
                 "  -h, --help        show this help and exit\n"
                 "  -V, --version     show the version and exit\n"
                 "\n"
                 "Without --socket, --url or --context: HERO_PROC_SOCKET, HERO_PROC_URL,\n"
                 "HERO_PROC_CONTEXT, the current context, then the default socket; when\n"
                 "nothing answers there, hero_proc_server is started on it.\n"
                 "Settings (keys, colours, first view): $XDG_CONFIG_HOME/hero_proc/tui.json.\n"
                 "Press ? in the dashboard for the keys.\n");
}

typedef struct tui_opts {
    const char *socket, *url, *context, *pin, *cacert;
    int no_spawn, read_only, demo, bell, fleet;
    long interval_ms;
    int interval_given; /* -i: wins over the settings file */
} tui_opts;

/* 0 to go on, else the exit status + 1 (so that 0 = success exits too). */
static int parse(int argc, char **argv, tui_opts *o)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'},
        {"url", required_argument, NULL, 'u'},
        {"no-spawn", no_argument, NULL, 'n'},
        {"read-only", no_argument, NULL, 'r'},
        {"demo", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"context", required_argument, NULL, 'x'},
        {"pin", required_argument, NULL, 'P'},
        {"cacert", required_argument, NULL, 'A'},
        {"bell", no_argument, NULL, 'b'},
        {"fleet", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
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
        case 'x':
            o->context = optarg;
            break;
        case 'P':
            o->pin = optarg;
            break;
        case 'A':
            o->cacert = optarg;
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
        case 'b':
            o->bell = 1;
            break;
        case 'f':
            o->fleet = 1;
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
            o->interval_given = 1;
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
    if ((o->socket && o->url) || (o->context && (o->socket || o->url))) {
        fprintf(stderr, "hero_proc_tui: give one of --socket, --url and --context\n");
        usage(stderr);
        return 1 + EXIT_USAGE;
    }
    return 0;
}

/* A read token makes the dashboard read-only by itself: the server would refuse every
 * action anyway, so they are hidden, and the header says why. An older server (no role
 * in system.info) or a failed call changes nothing: the server still decides. */
static void follow_role(tui_app *app, hp_client *c)
{
    hp_system_info *info = NULL;
    hp_error err;

    if (hp_sdk_info(hp_client_sdk(c), &info, &err) == HP_OK && info->role &&
        strcmp(info->role, "read") == 0) {
        app->read_only = 1;
        app->read_only_why = " read-only: read token ";
    }
    hp_system_info_free(info);
}

/* Connects (starting the server when allowed and needed) and loads the demo. */
static int connect_server(tui_app *app, const tui_opts *o)
{
    hp_factory_options fo = {.socket_path = o->socket,
                             .url = o->url,
                             .context = o->context,
                             .pin = o->pin,
                             .cacert = o->cacert,
                             .no_spawn = o->no_spawn,
                             .timeout_ms = 5000};
    hp_endpoint_flags flags = {.socket_path = o->socket, .url = o->url, .context = o->context};
    hp_error err = {0}, err2 = {0};
    hp_client *c = hp_factory_auto(&fo, &err);
    char reason[256] = "";

    if (!c) {
        /* Nobody answers and none could be started: keep a client on the endpoint, to
         * say why in the banner and to retry with backoff. */
        hp_endpoint ep;
        snprintf(reason, sizeof(reason), "%s", err.message);
        /* A URL's client fails only on a bad URL or pin: nothing to retry then. */
        if (hp_endpoint_resolve_flags(&flags, &ep, &err2) == HP_OK) {
            c = ep.url ? NULL : hp_factory_local_uds(ep.socket_path, &err2);
            hp_endpoint_clear(&ep);
        }
        if (!c) {
            fprintf(stderr, "hero_proc_tui: %s\n", err.message);
            return -1;
        }
    }
    tui_model_init(&app->model, c, hp_client_endpoint(c), reason);
    if (!reason[0])
        follow_role(app, c);
    {
        /* The follower's own connection to the same endpoint (the token from the
         * environment or the flags, as the factory found it). */
        const char *where = hp_client_endpoint(c);
        hp_endpoint_flags all = {.socket_path = o->socket,
                                 .url = o->url,
                                 .context = o->context,
                                 .pin = o->pin,
                                 .cacert = o->cacert};
        hp_endpoint ep;
        if (where && hp_endpoint_resolve_flags(&all, &ep, &err2) == HP_OK) {
            if (where[0] == '/' && !ep.url) { /* the socket the client found (or started) */
                free(ep.socket_path);
                ep.socket_path = strdup(where);
            }
            app->events = tui_events_start(&ep);
            hp_endpoint_clear(&ep);
        }
    }
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

/* The dashboard draws on a terminal and reads keys from it: without one (input from a file
 * or /dev/null, output to a pipe) it would draw into nothing and read end-of-file for
 * ever, and TERM=dumb cannot move the cursor. Refused before any server is started. */
static int terminal_usable(void)
{
    const char *term = getenv("TERM");

    if (!isatty(STDIN_FILENO)) {
        fprintf(stderr, "hero_proc_tui: standard input is not a terminal; run it in one "
                        "(hero_proc is the command line for scripts)\n");
        return 0;
    }
    if (!isatty(STDOUT_FILENO)) {
        fprintf(stderr, "hero_proc_tui: standard output is not a terminal; run it in one "
                        "(hero_proc is the command line for scripts)\n");
        return 0;
    }
    if (!term || !*term || strcmp(term, "dumb") == 0) {
        fprintf(stderr,
                "hero_proc_tui: TERM is %s, which cannot draw the dashboard; set it to your "
                "terminal's type (e.g. TERM=xterm-256color)\n",
                term && *term ? term : "not set");
        return 0;
    }
    return 1;
}

int tui_main(int argc, char **argv)
{
    static tui_app app; /* static: the crash handler and the loop share one */
    static tui_conf conf;
    char conf_path[4096], conf_msg[512];
    int conf_rc;
    tui_frame *first;
    tui_opts o = {0};
    int rc = parse(argc, argv, &o);

    if (rc)
        return rc - 1;
    if (!terminal_usable())
        return EXIT_USAGE;
    setlocale(LC_ALL, "");
    /* The settings file: a bad one is said in the status line and changes nothing. */
    conf_rc = tui_conf_path(conf_path, sizeof(conf_path))
                  ? tui_conf_load(conf_path, &conf, conf_msg, sizeof(conf_msg))
                  : 1;
    if (conf_rc == 0)
        tui_conf_apply(&conf);
    app.read_only = o.read_only;
    app.bell = o.bell;
    app.interval_ms =
        conf_rc == 0 && conf.interval_ms && !o.interval_given ? conf.interval_ms : o.interval_ms;
    /* The fleet starts no server: it shows the ones that are there. Its hosts are asked
     * first, so their answers are on the way while the dashboard connects. */
    if (o.fleet) {
        o.no_spawn = 1;
        tui_app_fleet(&app);
    }
    if (connect_server(&app, &o) != 0) {
        if (!o.fleet)
            return EXIT_UNREACHABLE;
        tui_model_init(&app.model, NULL, "-", "no connection outside the fleet");
    }
    if (conf_rc < 0)
        tui_app_status(&app, 1, "%s; started with the defaults", conf_msg);
    if (tui__signals_install() != 0) {
        fprintf(stderr, "hero_proc_tui: cannot set up signals: %s\n", strerror(errno));
        tui_model_free(&app.model);
        return EXIT_UNREACHABLE;
    }
    tui__term_start();
    first = tui_app_push(&app,
                         o.fleet                     ? &tui_view_fleet
                         : conf_rc == 0 && conf.view ? conf.view
                                                     : &tui_view_services,
                         NULL);
    if (conf_rc == 0 && !o.fleet) {
        first->sort_col = conf.sort_col;
        first->sort_desc = conf.sort_desc;
    }
    tui__loop(&app);
    tui__term_stop();
    while (app.depth > 0)
        leave(&app.stack[--app.depth]);
    tui__dialog_close(&app);
    tui_events_stop(app.events);
    tui_fleet_stop(app.fleet);
    tui_model_free(&app.model);
    return EXIT_SUCCESS;
}
