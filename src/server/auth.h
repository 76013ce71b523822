/* SPDX-License-Identifier: Apache-2.0 */
/* Who may call what: the role each method needs (the contract's x-role, read once at
 * start), the API tokens with their roles (hashed in the store, kept in memory so a
 * revoked token is refused at once), and the role of the caller being served. */
#ifndef HPD_AUTH_H
#define HPD_AUTH_H

#include "common/status.h"
#include "server/store.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Ordered: each role may do what the ones below it may. */
typedef enum hpd_role {
    HPD_ROLE_NONE = 0,
    HPD_ROLE_READ = 1,
    HPD_ROLE_OPERATE = 2,
    HPD_ROLE_ADMIN = 3,
} hpd_role;

typedef struct hpd_auth hpd_auth;

/* Reads the roles from the contract (len bytes of openrpc) and the tokens from st
 * (borrowed). A method without x-role needs admin. NULL with err. */
hpd_auth *hpd_auth_new(hpd_store *st, const char *openrpc, size_t len, hp_error *err);
void hpd_auth_free(hpd_auth *a);

/* "read", "operate", "admin" (NULL for NONE) and back (NONE when unknown). */
const char *hpd_role_name(hpd_role r);
hpd_role hpd_role_parse(const char *name);

/* The role a bearer token carries, NONE when it is no live token. */
hpd_role hpd_auth_token_role(const hpd_auth *a, const char *token);
/* The caller of the calls dispatched next (the HTTP layer sets it per request). */
void hpd_auth_set_caller(hpd_auth *a, hpd_role r);
hpd_role hpd_auth_caller(const hpd_auth *a);
/* The role method needs. */
hpd_role hpd_auth_needs(const hpd_auth *a, const char *method);
/* 1 when the caller may call method; else 0 with *needed set. a NULL allows all. */
int hpd_auth_allows(const hpd_auth *a, const char *method, hpd_role *needed);

/* A new token of that role: *token (caller frees) is shown once and never kept.
 * HP_E_CONFLICT when the name exists. */
int hpd_auth_token_create(hpd_auth *a, const char *name, hpd_role role, char **token,
                          hp_error *err);
/* HP_E_NOT_FOUND when there is none of that name. */
int hpd_auth_token_revoke(hpd_auth *a, const char *name, hp_error *err);
/* [{name, role, created_at_ms}] in name order. */
cJSON *hpd_auth_token_list(const hpd_auth *a);

#endif
