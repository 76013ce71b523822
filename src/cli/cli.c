/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's spine: global options, the table of groups and verbs with their help texts,
 * dispatch, and what every command shares (connecting through the factory without ever
 * starting a server, errors to exit codes, option parsing, interrupts, input files).
 * What a verb does is in its group's file; how things look is output.c's. */
#include "config.h"

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const hp__cli_group groups[] = {
    {"service", "define, start, stop and inspect services", hp__cli_service_verbs},
    {"run", "submit ad-hoc runs, wait for them, read their logs", hp__cli_run_verbs},
    {"job", "list jobs and read a job's logs", hp__cli_job_verbs},
    {"logs", "read the log lines of services, runs and jobs", hp__cli_logs_verbs},
    {"secret", "store secrets that actions use as ${secret:NAME}", hp__cli_secret_verbs},
    {"system", "check the server", hp__cli_system_verbs},
    {"token", "API tokens with a role for the TCP endpoint (admin)", hp__cli_token_verbs},
    {"context", "named servers to talk to (no server needed)", hp__cli_context_verbs},
    {"events", "print the server's state changes, or follow them", hp__cli_events_verbs},
};
#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

static const char exit_text[] =
    "Exit status: 0 success; 1 the operation failed (a run failed or was cancelled,\n"
    "a service did not start, NAME or ID not found); 2 usage or validation error\n"
    "(nothing was sent); 3 the server cannot be reached; 4 it refused the token;\n"
    "5 a wait ran out of time.\n";

static void usage_main(FILE *out)
{
    fprintf(out, "Usage: hero_proc [--socket PATH | --url URL | --context NAME] [--pin PIN]\n"
                 "                 [--cacert FILE] [--json] [--no-color] [--no-headers]\n"
                 "                 GROUP VERB [ARGS]\n"
                 "Control the services, runs, jobs, logs and secrets of a hero_proc server.\n"
                 "\n"
                 "Groups:\n");
    for (size_t g = 0; g < N_GROUPS; g++) {
        fprintf(out, "  %-8s %s\n", groups[g].name, groups[g].summary);
        for (const hp__cli_verb *v = groups[g].verbs; v->name; v++)
            fprintf(out, "             %s %s%s%s\n", groups[g].name, v->name, *v->args ? " " : "",
                    v->args);
    }
    fprintf(out,
            "\n"
            "Options (before GROUP; --json, --no-color, --no-headers also after the verb):\n"
            "  --socket PATH     the server's Unix socket\n"
            "  --url URL         the server over HTTP(S) (token from HERO_PROC_TOKEN)\n"
            "  --context NAME    a server named in the contexts file (hero_proc context)\n"
            "  --pin PIN         https: trust the server whose public key has this pin\n"
            "                    (sha256//BASE64, printed by hero_proc_server\n"
            "                    --tls-self-signed); also HERO_PROC_PIN\n"
            "  --cacert FILE     https: verify the server against this CA; also\n"
            "                    HERO_PROC_CACERT\n"
            "  --all-contexts    with service list: every context at once, merged with a\n"
            "                    HOST column; unreachable hosts are marked (exit 3)\n"
            "  --json            print the server's JSON answer and nothing else\n"
            "  --no-color        no colour even on a terminal (also NO_COLOR)\n"
            "  --no-headers      tables without their header line\n"
            "  -h, --help        show this help and exit; GROUP --help and\n"
            "                    GROUP VERB --help show theirs\n"
            "  -V, --version     show the version and exit\n"
            "\n"
            "Tables fit the terminal's width (else $COLUMNS; a pipe gets whole values):\n"
            "names are shortened in the middle, descriptions and errors at the end, with \u2026.\n"
            "\n"
            "Environment: HERO_PROC_SOCKET, HERO_PROC_URL and HERO_PROC_TOKEN choose the\n"
            "server, then HERO_PROC_CONTEXT, then the context `context use` made current;\n"
            "else $PATH_SOCKET/hero_proc/rpc.sock, $HERO_SOCKET_DIR/hero_proc/rpc.sock,\n"
            "~/hero/var/sockets/hero_proc/rpc.sock. hero_proc never starts a server:\n"
            "run hero_proc_server --daemon (or hero_proc_tui) first.\n"
            "\n");
    fputs(exit_text, out);
}

static void usage_group(const hp__cli_group *g, FILE *out)
{
    fprintf(out, "Usage: hero_proc %s VERB [ARGS]\n%c%s.\n\nVerbs:\n", g->name,
            g->summary[0] - 'a' + 'A', g->summary + 1);
    for (const hp__cli_verb *v = g->verbs; v->name; v++) {
        char syn[160];
        snprintf(syn, sizeof(syn), "%s%s%s", v->name, *v->args ? " " : "", v->args);
        if (strlen(syn) > 36) /* the summary goes under a long synopsis */
            fprintf(out, "  %s\n  %-36s %s\n", syn, "", v->summary);
        else
            fprintf(out, "  %-36s %s\n", syn, v->summary);
    }
    fprintf(out, "\nhero_proc %s VERB --help shows a verb's options.\n\n", g->name);
    fputs(exit_text, out);
}

static void usage_verb(const hp__cli_group *g, const hp__cli_verb *v, FILE *out)
{
    fprintf(out, "Usage: hero_proc %s %s%s%s\n%c%s.\n", g->name, v->name, *v->args ? " " : "",
            v->args, v->summary[0] - 'a' + 'A', v->summary + 1);
    if (v->help)
        fprintf(out, "\n%s", v->help);
    fprintf(out, "\n  --json            print the server's JSON answer\n"
                 "  --no-color        no colour\n"
                 "  --no-headers      tables without their header line\n"
                 "  -h, --help        show this help and exit\n\n");
    fputs(exit_text, out);
}

int hp__cli_usage(hp_cli *cli, const char *fmt, ...)
{
    va_list ap;

    fputs("hero_proc: ", stderr);
    if (cli->group)
        fprintf(stderr, cli->verb ? "%s " : "%s: ", cli->group->name);
    if (cli->verb)
        fprintf(stderr, "%s: ", cli->verb->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cli->verb)
        fprintf(stderr, "Usage: hero_proc %s %s %s\nTry 'hero_proc %s %s --help'.\n",
                cli->group->name, cli->verb->name, cli->verb->args, cli->group->name,
                cli->verb->name);
    else if (cli->group)
        fprintf(stderr, "Usage: hero_proc %s VERB [ARGS]\nTry 'hero_proc %s --help'.\n",
                cli->group->name, cli->group->name);
    else
        fprintf(stderr, "Usage: hero_proc [OPTIONS] GROUP VERB [ARGS]\nTry 'hero_proc --help'.\n");
    return HP_CLI_USAGE;
}

int hp__cli_getopt(hp_cli *cli, int argc, char **argv, const char *shorts,
                   const struct option *longs)
{
    static const struct option common[] = {HP__CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, shorts, longs ? longs : common, NULL);
        if (c == 0x100) {
            cli->json = 1;
            continue;
        }
        if (c == 0x101) {
            cli->no_color = 1;
            hp__out_setup(0);
            continue;
        }
        if (c == 0x102) {
            hp__out_no_headers();
            continue;
        }
        break;
    }
    if (c == '?' || c == ':') {
        const char *bad = argv[optind - 1];
        if (optopt && strchr(shorts, optopt) && strchr(shorts, optopt)[1] == ':')
            hp__cli_usage(cli, "option -%c needs a value", optopt);
        else if (optopt)
            hp__cli_usage(cli, "unknown option -%c", optopt);
        else
            hp__cli_usage(cli, "unknown option or missing value: %s", bad);
        return '?';
    }
    return c;
}

int hp__cli_positionals(hp_cli *cli, int argc, int min, int max)
{
    int n = argc - optind;

    if (n < min)
        return hp__cli_usage(cli, "missing argument");
    if (n > max)
        return hp__cli_usage(cli, "unexpected argument");
    return 0;
}

int hp__cli_parse_int(hp_cli *cli, const char *what, const char *s, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max)
        return hp__cli_usage(cli, "%s must be a number from 1 to %lld, not '%s'", what,
                             (long long)max, s);
    *out = v;
    return 0;
}

/* ---- connection and errors ---------------------------------------------------------- */

int hp__cli_exit_code(const hp_error *err)
{
    switch (err->code) {
    case HP_OK:
        return HP_CLI_OK;
    case HP_E_CONNECT:
    case HP_E_HTTP:
    case HP_E_PROTOCOL:
        return HP_CLI_UNREACHABLE;
    case HP_E_UNAUTHORIZED:
        return HP_CLI_UNAUTHORIZED;
    case HP_E_TIMEOUT:
        /* No rpc_code: the transport gave up, the server did not answer. */
        return err->rpc_code ? HP_CLI_TIMEOUT : HP_CLI_UNREACHABLE;
    case HP_E_VALIDATION:
    case HP_E_USAGE:
    case HP_E_INVALID:
        return HP_CLI_USAGE;
    default:
        return err->rpc_code == -32602 ? HP_CLI_USAGE : HP_CLI_FAILED;
    }
}

int hp__cli_json_done(hp_cli *cli, cJSON *res)
{
    if (!cli->json)
        return 0;
    hp__out_json(res, 0);
    cJSON_Delete(res);
    return 1;
}

int hp__cli_fail(hp_cli *cli, const char *what, const hp_error *err)
{
    int rc = hp__cli_exit_code(err);
    char *msg = hp__out_escape(err->message[0] ? err->message : hp_strerror(err->code));
    const hp_problems *pb = cli->client ? hp_sdk_problems(hp_client_sdk(cli->client)) : NULL;

    fprintf(stderr, "hero_proc: %s%s%s\n", what ? what : "", what ? ": " : "", msg ? msg : "");
    free(msg);
    if (pb && pb->count > 1 && err->rpc_code == -32602)
        for (size_t i = 0; i < pb->count; i++) {
            char *p = hp__out_escape(pb->items[i]);
            fprintf(stderr, "  - %s\n", p ? p : "");
            free(p);
        }
    /* A token the server knows but whose role is too low: the server's message says so. */
    if (rc == HP_CLI_UNAUTHORIZED && !strstr(err->message, " role"))
        fprintf(stderr, "hero_proc: unauthorized: the server refused the token; set "
                        "HERO_PROC_TOKEN to the one in its data dir (the file token)\n");
    if (rc == HP_CLI_UNREACHABLE && err->code == HP_E_CONNECT) {
        hp_endpoint ep = {0};
        hp_error ignored;
        hp_endpoint_flags f = {
            .socket_path = cli->socket_path, .url = cli->url, .context = cli->context};
        hp_endpoint_resolve_flags(&f, &ep, &ignored);
        if (ep.url)
            fprintf(stderr, "hero_proc: check --url or HERO_PROC_URL, and that the server "
                            "listens there (hero_proc_server --http ADDR:PORT)\n");
        else
            fprintf(stderr,
                    "hero_proc: start a server with: hero_proc_server --daemon%s%s "
                    "(or run hero_proc_tui, which starts one)\n",
                    ep.socket_path ? " --socket " : "", ep.socket_path ? ep.socket_path : "");
        hp_endpoint_clear(&ep);
    }
    return rc;
}

hp_sdk *hp__cli_sdk(hp_cli *cli, int *rc)
{
    hp_factory_options o = {0};
    hp_error err;

    if (cli->client)
        return hp_client_sdk(cli->client);
    o.socket_path = cli->socket_path;
    o.url = cli->url;
    o.context = cli->context;
    o.pin = cli->pin;
    o.cacert = cli->cacert;
    o.no_spawn = 1;
    hp_error_clear(&err);
    cli->client = hp_factory_auto(&o, &err);
    if (!cli->client) {
        *rc = hp__cli_fail(cli, "cannot connect", &err);
        return NULL;
    }
    return hp_client_sdk(cli->client);
}

int hp__cli_call_id(hp_cli *cli, int argc, char **argv, const char *method, const char *what,
                    int64_t *id, cJSON **result)
{
    cJSON *params;
    int rc;

    while ((rc = hp__cli_getopt(cli, argc, argv, "", NULL)) != -1)
        return HP_CLI_USAGE;
    if ((rc = hp__cli_positionals(cli, argc, 1, 1)) != 0 ||
        (rc = hp__cli_parse_int(cli, "ID", argv[optind], INT64_C(9007199254740991), id)) != 0)
        return rc;
    params = cJSON_CreateObject();
    cJSON_AddNumberToObject(params, "id", (double)*id);
    return hp__cli_call(cli, method, params, result, what);
}

int hp__cli_call(hp_cli *cli, const char *method, cJSON *params, cJSON **result, const char *what)
{
    int rc = 0;
    hp_sdk *sdk = hp__cli_sdk(cli, &rc);
    hp_error err;

    *result = NULL;
    if (!sdk) {
        cJSON_Delete(params);
        return rc;
    }
    hp_error_clear(&err);
    if (hp_sdk_call(sdk, method, params, result, &err) != HP_OK)
        return hp__cli_fail(cli, what, &err);
    return 0;
}

/* ---- interrupts and files --------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

void hp__cli_catch_interrupt(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int hp__cli_interrupted(void)
{
    return interrupted;
}

void hp__cli_sleep_ms(long ms)
{
    while (ms > 0 && !interrupted) {
        long step = ms < 50 ? ms : 50;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

int hp__cli_read_file(hp_cli *cli, const char *path, size_t max, char **out, size_t *len)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    *out = NULL;
    *len = 0;
    if (!f) {
        fprintf(stderr, "hero_proc: cannot open %s: %s\n", path, strerror(errno));
        return HP_CLI_USAGE;
    }
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            char *grown;
            cap = cap ? cap * 2 : 8192;
            grown = realloc(buf, cap + 1);
            if (!grown)
                break;
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max) {
            fprintf(stderr, "hero_proc: %s is larger than %zu bytes\n", is_stdin ? "stdin" : path,
                    max);
            free(buf);
            if (!is_stdin)
                fclose(f);
            (void)cli;
            return HP_CLI_USAGE;
        }
        if (got == 0)
            break;
    }
    if (ferror(f) || !buf) {
        fprintf(stderr, "hero_proc: cannot read %s\n", is_stdin ? "stdin" : path);
        free(buf);
        if (!is_stdin)
            fclose(f);
        return HP_CLI_USAGE;
    }
    if (!is_stdin)
        fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

static int dispatch(hp_cli *cli, int argc, char **argv)
{
    const char *gname = argv[0];

    for (size_t g = 0; g < N_GROUPS; g++) {
        if (strcmp(groups[g].name, gname) != 0)
            continue;
        cli->group = &groups[g];
        if (argc < 2 && strcmp(gname, "events") == 0) { /* `hero_proc events` */
            cli->verb = &hp__cli_events_verbs[0];
            optind = 0;
            return cli->verb->fn(cli, argc, argv);
        }
        if (argc < 2)
            return hp__cli_usage(cli, "missing VERB");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
            usage_group(cli->group, stdout);
            return HP_CLI_OK;
        }
        for (const hp__cli_verb *v = groups[g].verbs; v->name; v++) {
            if (strcmp(v->name, argv[1]) != 0)
                continue;
            cli->verb = v;
            if (wants_help(argc - 1, argv + 1)) {
                usage_verb(cli->group, v, stdout);
                return HP_CLI_OK;
            }
            optind = 0;
            return v->fn(cli, argc - 1, argv + 1);
        }
        /* `hero_proc logs web`, `logs run 12`, `events -f`: their verb may be left out. */
        if (strcmp(gname, "logs") == 0 || strcmp(gname, "events") == 0) {
            for (const hp__cli_verb *v = groups[g].verbs; v->name; v++)
                if (strcmp(v->name, "show") == 0) {
                    cli->verb = v;
                    optind = 0;
                    return v->fn(cli, argc, argv);
                }
        }
        return hp__cli_usage(cli, "unknown verb '%s'", argv[1]);
    }
    return hp__cli_usage(
        cli, "unknown group '%s' (service, run, job, logs, secret, system, token, context, events)",
        gname);
}

int hp_cli_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'}, {"url", required_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},         {"no-color", no_argument, NULL, 'C'},
        {"no-headers", no_argument, NULL, 'H'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {"context", required_argument, NULL, 'x'},
        {"pin", required_argument, NULL, 'P'},    {"cacert", required_argument, NULL, 'A'},
        {"all-contexts", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0},
    };
    hp_cli cli = {0};
    int opt, rc;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage_main(stdout);
            return HP_CLI_OK;
        case 'V':
            printf("hero_proc %s\n", PACKAGE_VERSION);
            return HP_CLI_OK;
        case 's':
            cli.socket_path = optarg;
            break;
        case 'u':
            cli.url = optarg;
            break;
        case 'x':
            cli.context = optarg;
            break;
        case 'P':
            cli.pin = optarg;
            break;
        case 'A':
            cli.cacert = optarg;
            break;
        case 'a':
            cli.all_contexts = 1;
            break;
        case 'j':
            cli.json = 1;
            break;
        case 'C':
            cli.no_color = 1;
            break;
        case 'H':
            hp__out_no_headers();
            break;
        default:
            if (optopt)
                return hp__cli_usage(&cli, "unknown option -%c", optopt);
            return hp__cli_usage(&cli, "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (cli.socket_path && cli.url)
        return hp__cli_usage(&cli, "give --socket or --url, not both");
    if (cli.context && (cli.socket_path || cli.url))
        return hp__cli_usage(&cli, "give --context or --%s, not both",
                             cli.socket_path ? "socket" : "url");
    if (optind >= argc)
        return hp__cli_usage(&cli, "missing GROUP");
    hp__out_setup(!cli.no_color);
    if (cli.all_contexts && (cli.context || cli.socket_path || cli.url))
        return hp__cli_usage(&cli, "--all-contexts asks every context: no --context, --socket "
                                   "or --url with it");
    rc = cli.all_contexts ? hp__cli_all_contexts(&cli, argc - optind, argv + optind)
                          : dispatch(&cli, argc - optind, argv + optind);
    if (fflush(stdout) != 0 && rc == HP_CLI_OK)
        rc = HP_CLI_FAILED;
    hp_client_free(cli.client);
    return rc;
}

int hp__cli_parse_json(const char *text, size_t len, const char *path, cJSON **out)
{
    const char *end = NULL;

    *out = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!*out) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0, line = 1;
        for (size_t i = 0; i < at && i < len; i++)
            line += text[i] == '\n';
        fprintf(stderr, "hero_proc: %s is not valid JSON (line %zu)\n",
                strcmp(path, "-") == 0 ? "stdin" : path, line);
        return HP_CLI_USAGE;
    }
    if (!cJSON_IsObject(*out)) {
        fprintf(stderr, "hero_proc: %s must hold a JSON object\n",
                strcmp(path, "-") == 0 ? "stdin" : path);
        cJSON_Delete(*out);
        *out = NULL;
        return HP_CLI_USAGE;
    }
    return 0;
}

int hp__cli_print_problems(const char *path, const hp_problems *pb)
{
    fprintf(stderr, "hero_proc: %s is invalid; nothing was sent:\n",
            strcmp(path, "-") == 0 ? "stdin" : path);
    for (size_t i = 0; i < pb->count; i++) {
        char *p = hp__out_escape(pb->items[i]);
        fprintf(stderr, "  - %s\n", p ? p : "");
        free(p);
    }
    return HP_CLI_USAGE;
}
