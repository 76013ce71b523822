/* hero_proc_tui's key table: every key, the views it applies to, the command it maps to
 * and its help sentence, in one place. The help overlay and the hint bar are generated
 * from it, so what the help says is what the keys do. */
#ifndef HP_TUI_KEYS_H
#define HP_TUI_KEYS_H

#include "tui/tui.h"

#include <stddef.h>

enum {
    TUI_KEY_ACTION = 1, /* changes something on the server: gone with --read-only */
    TUI_KEY_HINT = 2    /* shown in the hint bar of the views in scope */
};

typedef struct tui_key {
    int code;          /* a character, or a KEY_* code when func */
    int func;          /* 1 for KEY_* codes (wget_wch's KEY_CODE_YES) */
    const char *label; /* shown in the help; NULL: an alias of the entry before */
    tui_cmd cmd;
    unsigned scope; /* TUI_SCOPE_* mask */
    unsigned flags; /* TUI_KEY_* */
    const char *help;
} tui_key;

extern const tui_key tui_keys[];
extern const size_t tui_n_keys;

/* The command of a key in scope; TUI_CMD_NONE when none. read_only skips actions. */
tui_cmd tui_key_lookup(int code, int func, unsigned scope, int read_only);
/* The hint bar text for scope, e.g. "q quit  ? help  s start ...". */
void tui_key_hints(unsigned scope, int read_only, char *buf, size_t size);
/* Help lines for scope into lines (each up to 80 bytes, caller's); returns the count. */
size_t tui_key_help(unsigned scope, int read_only, char lines[][96], size_t max);

#endif
