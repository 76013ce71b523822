/* hero_proc_server: command line entry point of the supervisor daemon.
 * Parses the command line of DESIGN section 7; the daemon itself lands with its issue. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

enum { EXIT_USAGE = 100, EXIT_CANNOT_START = 111 };

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: hero_proc_server [OPTION]...\n"
            "Supervise services and runs; serve the hero_proc JSON-RPC API.\n"
            "\n"
            "  --socket PATH        listen on this Unix socket\n"
            "  --data-dir DIR       keep the store in DIR (default ~/hero/var/hero_proc)\n"
            "  --http ADDR:PORT     also listen on TCP (bearer token required)\n"
            "  --daemon             detach once the socket is listening\n"
            "  --log-level LEVEL    error, warn, info or debug\n"
            "  -h, --help           show this help and exit\n"
            "  -V, --version        show the version and exit\n"
            "\n"
            "Exit status: 0 after SIGTERM/SIGINT, 100 on usage error, 111 when it cannot start.\n");
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'},    {"data-dir", required_argument, NULL, 'd'},
        {"http", required_argument, NULL, 'H'},      {"daemon", no_argument, NULL, 'D'},
        {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},         {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        case 'V':
            printf("hero_proc_server %s\n", PACKAGE_VERSION);
            return EXIT_SUCCESS;
        case 's':
        case 'd':
        case 'H':
        case 'D':
        case 'l':
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hero_proc_server: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    fprintf(stderr, "hero_proc_server: the supervisor is not built yet\n");
    return EXIT_CANNOT_START;
}
