/* SPDX-License-Identifier: Apache-2.0 */
/* --demo: finds the demo folder (data/demo) and loads its services and runs into the
 * server. Idempotent: services are set again, runs submitted only when absent. */
#ifndef HP_TUI_DEMO_H
#define HP_TUI_DEMO_H

#include "client/sdk.h"

#include <stddef.h>

/* The demo folder: $HERO_PROC_DATA/demo or $HERO_PROC_DATA, the source tree's
 * data/demo, then $(pkgdatadir)/demo. Writes into buf; NULL when none exists. */
const char *tui_demo_dir(char *buf, size_t size);

/* Loads every *.service.json (service.set, then service.start when wanted start and not
 * running) and *.run.json (run.submit unless a run of that name exists) of dir. msg gets
 * a summary or the first problem. Returns 0 when everything loaded, -1 otherwise. */
int tui_demo_load(hp_sdk *sdk, const char *dir, char *msg, size_t size);

#endif
