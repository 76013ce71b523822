/* SPDX-License-Identifier: Apache-2.0 */
/* Splits a command line into argv the way a shell would, without a shell: quotes and
 * backslashes only. It never globs, expands variables or runs anything. */
#include "config.h"

#include "common/spec.h"

#include <stdlib.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void hp_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

/* Appends a copy of word (len bytes) to argv, keeping room for the final NULL. */
static int argv_push(char ***argv, size_t *argc, size_t *cap, const char *word, size_t len)
{
    char *copy;

    if (*argc + 2 > *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 8;
        char **grown = realloc(*argv, grown_cap * sizeof(*grown));
        if (!grown)
            return -1;
        *argv = grown;
        *cap = grown_cap;
    }
    copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, word, len);
    copy[len] = '\0';
    (*argv)[(*argc)++] = copy;
    (*argv)[*argc] = NULL;
    return 0;
}

char **hp_split_command(const char *cmd, hp_error *err)
{
    char **argv = NULL, *word = NULL;
    size_t argc = 0, cap = 0;
    const char *p = cmd;
    const char *problem = "empty command";

    if (!cmd)
        goto invalid;
    word = malloc(strlen(cmd) + 1);
    if (!word)
        goto nomem;
    for (;;) {
        size_t len = 0;
        int quoted = 0;

        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        while (*p && !is_blank(*p)) {
            if (*p == '\'') {
                quoted = 1;
                for (p++; *p && *p != '\''; p++)
                    word[len++] = *p;
                if (!*p)
                    goto unterminated;
                p++;
            } else if (*p == '"') {
                quoted = 1;
                for (p++; *p && *p != '"'; p++) {
                    if (p[0] == '\\' && p[1] == '\n') {
                        p++;
                        continue;
                    }
                    if (p[0] == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == '$' || p[1] == '`'))
                        p++;
                    word[len++] = *p;
                }
                if (!*p)
                    goto unterminated;
                p++;
            } else if (*p == '\\') {
                if (!p[1]) {
                    problem = "trailing backslash";
                    goto invalid;
                }
                if (p[1] != '\n')
                    word[len++] = p[1];
                p += 2;
            } else {
                word[len++] = *p++;
            }
        }
        if ((len || quoted) && argv_push(&argv, &argc, &cap, word, len) != 0)
            goto nomem;
    }
    if (argc == 0)
        goto invalid;
    free(word);
    return argv;
unterminated:
    problem = "unterminated quote";
invalid:
    hp_error_set(err, HP_E_VALIDATION, "%s", problem);
    goto fail;
nomem:
    hp_error_set_code(err, HP_E_NOMEM);
fail:
    free(word);
    hp_argv_free(argv);
    return NULL;
}
