/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_server: the command line of DESIGN section 7 turned into hpd_options; the
 * daemon itself is hpd_server_main. Exit 100 on usage errors, 111 when it cannot start. */
#include "config.h"

#include "server/holder.h"
#include "server/server.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_USAGE = 100 };

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: hero_proc_server [OPTION]...\n"
            "Supervise services and runs; serve the hero_proc JSON-RPC API.\n"
            "\n"
            "  --socket PATH          listen on this Unix socket (default: $PATH_SOCKET or\n"
            "                         $HERO_SOCKET_DIR /hero_proc/rpc.sock, else\n"
            "                         ~/hero/var/sockets/hero_proc/rpc.sock)\n"
            "  --data-dir DIR         keep the store in DIR (default ~/hero/var/hero_proc)\n"
            "  --http ADDR:PORT       also listen on TCP; requests need the bearer token in\n"
            "                         DIR/token\n"
            "  --tls-cert FILE        serve --http over TLS with this PEM certificate...\n"
            "  --tls-key FILE         ...and this PEM key\n"
            "  --tls-self-signed      serve --http over TLS with a key and certificate made\n"
            "                         once in DIR (tls.key, tls.crt); prints the pin\n"
            "  --insecure-http        allow plain --http on a non-loopback address\n"
            "  --http-allow-remote    kept for older command lines: a non-loopback --http\n"
            "                         needs TLS or --insecure-http\n"
            "  --daemon               detach once the socket is listening\n"
            "  --log-level LEVEL      error, warn, info (default) or debug (a line per call)\n"
            "  --kill-grace-ms N      SIGTERM to SIGKILL delay when stopping (default 5000)\n"
            "  --max-body BYTES       largest request body (default 1048576)\n"
            "  --log-bytes-per-job BYTES  log kept per job, oldest dropped first (default\n"
            "                         268435456, 256 MiB)\n"
            "  --log-bytes BYTES      log kept in all (default 4294967296, 4 GiB)\n"
            "  --max-runs N           finished runs kept (default 1000)\n"
            "  --max-services N       services kept (default 10000)\n"
            "  --max-active-runs N    runs pending or running at once (default 1000)\n"
            "  --max-secrets N        secrets kept (default 10000)\n"
            "  --secrets-key FILE     key that encrypts the secrets (default DIR/secrets.key,\n"
            "                         created 0600 on first use; keep it apart from backups)\n"
            "  --min-uptime-ms N      a service up this long that dies restarts at once;\n"
            "                         quicker failures back off (default 10000)\n"
            "  --no-cgroups           track a job's processes by its environment marker,\n"
            "                         not by a cgroup of its own\n"
            "  --no-realtime          keep the loop at the normal policy (only 5 nice levels\n"
            "                         above the jobs), not real-time priority 1\n"
            "  --max-connections N    connections open at once; past it the oldest idle one\n"
            "                         is closed (default 256)\n"
            "  --request-timeout-ms N a request not received whole by then is closed\n"
            "                         (default 10000)\n"
            "  --events-ring N        state changes kept for events.wait (default 4096)\n"
            "  --holder-grace-ms N    after a crash, the pipe holder keeps the jobs' output\n"
            "                         pipes this long for a new daemon (default 60000)\n"
            "  -h, --help             show this help and exit\n"
            "  -V, --version          show the version and exit\n"
            "\n"
            "SIGHUP upgrades it in place: it executes its binary again, jobs run on.\n"
            "Exit status: 0 after SIGTERM/SIGINT, 100 on usage error, 111 when it cannot start.\n");
}

static int parse_number(const char *opt, const char *text, long long min, long long max,
                        long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "hero_proc_server: %s wants a number from %lld to %lld, got '%s'\n", opt,
                min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    enum {
        O_SOCKET = 256,
        O_DATA,
        O_HTTP,
        O_REMOTE,
        O_DAEMON,
        O_LEVEL,
        O_GRACE,
        O_BODY,
        O_LINES,
        O_JOB_BYTES,
        O_BYTES,
        O_RUNS,
        O_SERVICES,
        O_ACTIVE,
        O_SECRETS,
        O_SECRETS_KEY,
        O_UPTIME,
        O_NOCG,
        O_NORT,
        O_CONNS,
        O_REQTIMEOUT,
        O_RESUME,
        O_TLS_CERT,
        O_TLS_KEY,
        O_TLS_SELF,
        O_INSECURE,
        O_EVENTS,
        O_HOLDER_GRACE
    };
    static const struct option options[] = {
        {"socket", required_argument, NULL, O_SOCKET},
        {"data-dir", required_argument, NULL, O_DATA},
        {"http", required_argument, NULL, O_HTTP},
        {"http-allow-remote", no_argument, NULL, O_REMOTE},
        {"daemon", no_argument, NULL, O_DAEMON},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"kill-grace-ms", required_argument, NULL, O_GRACE},
        {"max-body", required_argument, NULL, O_BODY},
        {"log-lines-per-job", required_argument, NULL, O_LINES},
        {"log-bytes-per-job", required_argument, NULL, O_JOB_BYTES},
        {"log-bytes", required_argument, NULL, O_BYTES},
        {"max-runs", required_argument, NULL, O_RUNS},
        {"max-services", required_argument, NULL, O_SERVICES},
        {"max-active-runs", required_argument, NULL, O_ACTIVE},
        {"max-secrets", required_argument, NULL, O_SECRETS},
        {"secrets-key", required_argument, NULL, O_SECRETS_KEY},
        {"min-uptime-ms", required_argument, NULL, O_UPTIME},
        {"no-cgroups", no_argument, NULL, O_NOCG},
        {"no-realtime", no_argument, NULL, O_NORT},
        {"max-connections", required_argument, NULL, O_CONNS},
        {"request-timeout-ms", required_argument, NULL, O_REQTIMEOUT},
        {"reexec-state", required_argument, NULL, O_RESUME}, /* internal: reexec.c */
        {"tls-cert", required_argument, NULL, O_TLS_CERT},
        {"tls-key", required_argument, NULL, O_TLS_KEY},
        {"tls-self-signed", no_argument, NULL, O_TLS_SELF},
        {"insecure-http", no_argument, NULL, O_INSECURE},
        {"events-ring", required_argument, NULL, O_EVENTS},
        {"holder-grace-ms", required_argument, NULL, O_HOLDER_GRACE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    hpd_options opt = {
        .log_level = 2,
        .max_body = 1024 * 1024,
        .kill_grace_ms = 5000,
        .log_bytes_per_job = 256LL << 20,
        .log_bytes = 4LL << 30,
        .max_finished_runs = 1000,
        .max_services = 10000,
        .max_active_runs = 1000,
        .max_secrets = 10000,
        .backoff_min_ms = 1000,
        .backoff_max_ms = 30000,
        .stable_ms = 10000,
        .max_connections = 256,
        .request_timeout_ms = 10000,
        .events_ring = 4096,
        .holder_grace_ms = 60000,
    };
    long long n;
    int c;

    if (argc > 1 && strcmp(argv[1], "--pipe-holder") == 0) /* internal: supervisor_holder.c */
        return hpd_holder_main(argc, argv);
    while ((c = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        case 'V':
            printf("hero_proc_server %s\n", PACKAGE_VERSION);
            return EXIT_SUCCESS;
        case O_SOCKET:
            opt.socket_path = optarg;
            break;
        case O_DATA:
            opt.data_dir = optarg;
            break;
        case O_HTTP:
            opt.http_addr = optarg;
            break;
        case O_REMOTE:
            opt.http_allow_remote = 1;
            break;
        case O_DAEMON:
            opt.daemonize = 1;
            break;
        case O_LEVEL:
            opt.log_level = -1;
            for (int i = 0; i < 4; i++)
                if (strcmp(optarg, levels[i]) == 0)
                    opt.log_level = i;
            if (opt.log_level < 0) {
                fprintf(stderr,
                        "hero_proc_server: --log-level wants error, warn, info or "
                        "debug, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case O_UPTIME:
            if (parse_number("--min-uptime-ms", optarg, 0, 86400000, &n) != 0)
                return EXIT_USAGE;
            opt.stable_ms = (uint64_t)n;
            break;
        case O_NOCG:
            opt.no_cgroups = 1;
            break;
        case O_NORT:
            opt.no_realtime = 1;
            break;
        case O_GRACE:
            if (parse_number("--kill-grace-ms", optarg, 0, 600000, &n) != 0)
                return EXIT_USAGE;
            opt.kill_grace_ms = (uint64_t)n;
            break;
        case O_BODY:
            if (parse_number("--max-body", optarg, 1024, 1LL << 30, &n) != 0)
                return EXIT_USAGE;
            opt.max_body = (size_t)n;
            break;
        case O_LINES:
            /* Kept so that an older command line still starts the daemon. */
            fprintf(stderr, "hero_proc_server: --log-lines-per-job is ignored: logs are kept by "
                            "bytes now (--log-bytes-per-job, --log-bytes)\n");
            break;
        case O_JOB_BYTES:
            if (parse_number("--log-bytes-per-job", optarg, 4096, 1LL << 50, &n) != 0)
                return EXIT_USAGE;
            opt.log_bytes_per_job = n;
            break;
        case O_BYTES:
            if (parse_number("--log-bytes", optarg, 4096, 1LL << 50, &n) != 0)
                return EXIT_USAGE;
            opt.log_bytes = n;
            break;
        case O_RUNS:
            if (parse_number("--max-runs", optarg, 1, 1000000, &n) != 0)
                return EXIT_USAGE;
            opt.max_finished_runs = n;
            break;
        case O_SERVICES:
            if (parse_number("--max-services", optarg, 1, 1000000, &n) != 0)
                return EXIT_USAGE;
            opt.max_services = n;
            break;
        case O_ACTIVE:
            if (parse_number("--max-active-runs", optarg, 1, 1000000, &n) != 0)
                return EXIT_USAGE;
            opt.max_active_runs = n;
            break;
        case O_SECRETS:
            if (parse_number("--max-secrets", optarg, 1, 1000000, &n) != 0)
                return EXIT_USAGE;
            opt.max_secrets = n;
            break;
        case O_SECRETS_KEY:
            opt.secrets_key = optarg;
            break;
        case O_CONNS:
            if (parse_number("--max-connections", optarg, 1, 100000, &n) != 0)
                return EXIT_USAGE;
            opt.max_connections = (unsigned)n;
            break;
        case O_REQTIMEOUT:
            if (parse_number("--request-timeout-ms", optarg, 100, 3600000, &n) != 0)
                return EXIT_USAGE;
            opt.request_timeout_ms = (uint64_t)n;
            break;
        case O_RESUME:
            if (parse_number("--reexec-state", optarg, 3, 1 << 20, &n) != 0)
                return EXIT_USAGE;
            opt.resume_fd = (int)n;
            break;
        case O_TLS_CERT:
            opt.tls_cert = optarg;
            break;
        case O_TLS_KEY:
            opt.tls_key = optarg;
            break;
        case O_TLS_SELF:
            opt.tls_self_signed = 1;
            break;
        case O_INSECURE:
            opt.insecure_http = 1;
            break;
        case O_EVENTS:
            if (parse_number("--events-ring", optarg, 1, 1000000, &n) != 0)
                return EXIT_USAGE;
            opt.events_ring = (size_t)n;
            break;
        case O_HOLDER_GRACE:
            if (parse_number("--holder-grace-ms", optarg, 1, 86400000, &n) != 0)
                return EXIT_USAGE;
            opt.holder_grace_ms = (uint64_t)n;
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!opt.tls_cert != !opt.tls_key || (opt.tls_cert && opt.tls_self_signed) ||
        ((opt.tls_cert || opt.tls_self_signed) && !opt.http_addr)) {
        fprintf(stderr, "hero_proc_server: TLS wants --http with either both --tls-cert and "
                        "--tls-key or --tls-self-signed\n");
        return EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "hero_proc_server: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    return hpd_server_main(&opt);
}
