/* hero_proc_tui: command line entry point of the dashboard.
 * Parses the command line of DESIGN section 7; the dashboard lands with its issue. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

enum { EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

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
                 "  -V, --version     show the version and exit\n");
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'}, {"url", required_argument, NULL, 'u'},
        {"no-spawn", no_argument, NULL, 'n'},     {"read-only", no_argument, NULL, 'r'},
        {"demo", no_argument, NULL, 'd'},         {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "hVi:", options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        case 'V':
            printf("hero_proc_tui %s\n", PACKAGE_VERSION);
            return EXIT_SUCCESS;
        case 's':
        case 'u':
        case 'n':
        case 'r':
        case 'd':
        case 'i':
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hero_proc_tui: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    fprintf(stderr, "hero_proc_tui: the dashboard is not built yet\n");
    return EXIT_UNREACHABLE;
}
