/* hero_proc: command line entry point of the CLI.
 * Parses the global options of DESIGN section 7; the groups land with their issue. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

enum { EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static void usage(FILE *out)
{
    fprintf(out, "Usage: hero_proc [--socket PATH | --url URL] [--json] GROUP VERB [ARGS]\n"
                 "Control the services, runs, jobs, logs and secrets of a hero_proc server.\n"
                 "\n"
                 "Groups: service, run, job, logs, secret, system\n"
                 "\n"
                 "  --socket PATH     connect to the server on this Unix socket\n"
                 "  --url URL         connect over HTTP (token from HERO_PROC_TOKEN)\n"
                 "  --json            print results as JSON\n"
                 "  -h, --help        show this help and exit\n"
                 "  -V, --version     show the version and exit\n"
                 "\n"
                 "Exit status: 0 success, 1 operation failed, 2 usage or validation error,\n"
                 "3 server unreachable.\n");
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'}, {"url", required_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        case 'V':
            printf("hero_proc %s\n", PACKAGE_VERSION);
            return EXIT_SUCCESS;
        case 's':
        case 'u':
        case 'j':
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "hero_proc: missing GROUP\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    fprintf(stderr, "hero_proc: the '%s' group is not built yet\n", argv[optind]);
    return EXIT_UNREACHABLE;
}
