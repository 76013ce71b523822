/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc: the command line entry point of the CLI. Everything else is in
 * libhpcli.a (src/cli/cli.c and the group files), which the tests can link. */
#include "config.h"

#include "cli/cli.h"

int main(int argc, char **argv)
{
    return hp_cli_main(argc, argv);
}
