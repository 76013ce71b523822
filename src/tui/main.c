/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_tui: the dashboard's entry point. Everything, the command line included,
 * is in libhptui (app.c) so the tests link the same code. */
#include "config.h"

#include "tui/tui.h"

int main(int argc, char **argv)
{
    return tui_main(argc, argv);
}
