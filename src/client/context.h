/* SPDX-License-Identifier: Apache-2.0 */
/* Contexts: named endpoints in $XDG_CONFIG_HOME/hero_proc/contexts.json (else
 * ~/.config/hero_proc/contexts.json), each a Unix socket or an https:// URL with its
 * token file, pin and CA file, and the one `hero_proc context use` made current. The
 * default socket is the implicit context "local", never written to the file. Used by
 * endpoint.c and the CLI's `context` commands; not part of the installed API. */
#ifndef HP_CLIENT_CONTEXT_H
#define HP_CLIENT_CONTEXT_H

#include "client/endpoint.h"
#include "common/status.h"

#include <stddef.h>

/* Exactly one of url and socket; the rest may be NULL. Owns its strings. */
typedef struct hp_context {
    char *name;
    char *url;
    char *socket;
    char *token_file;
    char *pin;
    char *cacert;
} hp_context;

typedef struct hp_contexts {
    char *path;    /* the file */
    char *current; /* NULL: "local" */
    hp_context *items;
    size_t count;
} hp_contexts;

/* The file's path (caller frees); NULL when out of memory. */
char *hp_contexts_path(void);
/* Reads path (NULL: hp_contexts_path()). A missing file is an empty list unless
 * must_exist. Every failure names the file: HP_E_SYSTEM (unreadable, missing with
 * must_exist), HP_E_PARSE (not JSON, unknown keys, wrong types, a context without a name
 * or with both or neither of url and socket). */
hp_status hp_contexts_load(const char *path, int must_exist, hp_contexts *out, hp_error *err);
/* Writes c to c->path (0600, its directory made 0700) through a rename. */
hp_status hp_contexts_save(const hp_contexts *c, hp_error *err);
/* The context of that name or NULL ("local" is never in the list). */
hp_context *hp_contexts_find(const hp_contexts *c, const char *name);
/* Adds a copy of ctx: HP_E_CONFLICT when the name exists, HP_E_USAGE when the name is
 * "local" or empty or ctx has not exactly one of url and socket. */
hp_status hp_contexts_add(hp_contexts *c, const hp_context *ctx, hp_error *err);
/* HP_E_NOT_FOUND when absent; the current context falls back to local when removed. */
hp_status hp_contexts_remove(hp_contexts *c, const char *name, hp_error *err);
void hp_contexts_clear(hp_contexts *c);

/* Fills out's socket_path or url, token (from token_file), pin, cacert and context from
 * the context name (NULL: the file's current one). Leaves out's endpoint unset for
 * "local" (the default socket follows). */
hp_status hp__context_endpoint(const char *name, hp_endpoint *out, hp_error *err);

#endif
