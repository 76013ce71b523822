/* SPDX-License-Identifier: Apache-2.0 */
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

/* Mutable only through tui_key_bind (the settings file), before the dashboard starts. */
extern tui_key tui_keys[];
extern const size_t tui_n_keys;

/* A key given to a command by the settings file. */
typedef struct tui_key_binding {
    tui_cmd cmd;
    int code, func;
    char label[16];
} tui_key_binding;
/* 0 when the bindings b[0..n) can be taken: each command has a key of its own to change
 * (outside forms, whose typed keys are text), and no new key is one that another
 * command keeps in a view they share. Else -1 with the sentence in msg. */
int tui_key_check(const tui_key_binding *b, size_t n, char *msg, size_t size);
/* Gives each command of b[0..n) its key (checked first): every labelled entry of the
 * command outside forms takes the key and label; unlabelled aliases (arrows) stay. */
void tui_key_bind(const tui_key_binding *b, size_t n);

/* The command of a key in scope; TUI_CMD_NONE when none. read_only skips actions. */
tui_cmd tui_key_lookup(int code, int func, unsigned scope, int read_only);
/* The hint bar text for scope, e.g. "q quit  ? help  s start ...". */
void tui_key_hints(unsigned scope, int read_only, char *buf, size_t size);
/* Help lines for scope into lines (caller's), the keys then the `:` commands; returns
 * the count. */
size_t tui_key_help(unsigned scope, int read_only, char lines[][96], size_t max);

/* The `:` command line's commands, kept next to the keys so the help lists both. */
typedef struct tui_command {
    const char *name;  /* "services": any prefix that names one command is accepted */
    const char *alias; /* "svc" (k9s's short names), or NULL */
    const char *arg;   /* "NAME", "ID", "TEXT" in the help; NULL: takes none */
    int arg_needed;    /* 1 when the argument must be given */
    tui_cmd cmd;
    unsigned flags; /* TUI_KEY_ACTION: gone with --read-only */
    const char *help;
} tui_command;

extern const tui_command tui_commands[];
extern const size_t tui_n_commands;

/* Parses a command line (the text after `:`): the command into *cmd, its argument
 * (trimmed, "" when none) into arg. Returns 0, 1 when the line is empty, or -1 with the
 * sentence for the status line in msg ("unknown command 'x': try :help", an ambiguous
 * prefix, a missing argument, an action refused by read_only). A prefix naming several
 * commands picks the one that fits the argument: `:ru` is :runs, `:ru 5` is :run 5. */
int tui_command_parse(const char *line, int read_only, const tui_command **cmd, char *arg,
                      size_t arg_size, char *msg, size_t msg_size);
/* Tab on a command line of size bytes: completes the command name in place (with a
 * space after a unique name that takes an argument, the common prefix of several).
 * Names the candidates in list (may be NULL). Returns how many commands matched. */
size_t tui_command_complete(char *line, size_t size, int read_only, char *list, size_t list_size);

#endif
