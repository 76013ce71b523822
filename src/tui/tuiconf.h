/* SPDX-License-Identifier: Apache-2.0 */
/* hero_proc_tui's settings file, $XDG_CONFIG_HOME/hero_proc/tui.json (else
 * ~/.config/hero_proc/tui.json): the refresh interval, theme colours, a key per command,
 * the view shown first and its sort. Read once at start; nothing here draws. */
#ifndef HP_TUI_TUICONF_H
#define HP_TUI_TUICONF_H

#include "tui/draw.h"
#include "tui/keys.h"
#include "tui/tui.h"

#include <stddef.h>

enum { TUI_CONF_KEYS = 32 };

typedef struct tui_conf {
    long interval_ms;         /* 0: not set */
    const tui_view_ops *view; /* NULL: Services */
    int sort_col;             /* 0: the view's default, else the column + 1 */
    int sort_desc;
    short fg[TUI_C_BAR + 1]; /* -2: not set; -1: the terminal's default */
    short bg[TUI_C_BAR + 1];
    tui_key_binding keys[TUI_CONF_KEYS];
    size_t n_keys;
} tui_conf;

/* The file's path into buf: $XDG_CONFIG_HOME/hero_proc/tui.json, else under
 * $HOME/.config; NULL when neither is set. */
const char *tui_conf_path(char *buf, size_t size);

/* Reads path into *c (every setting unset first). 0 when read, 1 when there is no file
 * (c unset), -1 when it is bad: msg names the file and the key, and c is left unset, so
 * the dashboard starts with its defaults. */
int tui_conf_load(const char *path, tui_conf *c, char *msg, size_t size);

/* Applies c's keys to the key table and its colours to the theme (before curses starts
 * its colours; NO_COLOR still turns every colour off). */
void tui_conf_apply(const tui_conf *c);

#endif
