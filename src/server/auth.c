/* SPDX-License-Identifier: Apache-2.0 */
/* Roles and tokens. The role a method needs comes from the contract's x-role, so the
 * published API and the check are one table. A token is 32 random bytes shown once; the
 * store and memory keep only its BLAKE2b hash, which is enough for a secret that long
 * (no password stretching needed). */
#include "config.h"

#include "server/auth.h"

#include "common/json.h"
#include "server/loop.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum { HASH_LEN = crypto_generichash_BYTES, TOKEN_BYTES = 32 };

typedef struct method_role {
    char *method;
    hpd_role role;
} method_role;

typedef struct token_rec {
    char *name;
    hpd_role role;
    unsigned char hash[HASH_LEN];
    int64_t created_at_ms;
} token_rec;

struct hpd_auth {
    hpd_store *store;
    method_role *methods;
    size_t n_methods;
    token_rec *tokens;
    size_t n_tokens;
    hpd_role caller;
};

static const char *const role_names[] = {NULL, "read", "operate", "admin"};

const char *hpd_role_name(hpd_role r)
{
    return r >= HPD_ROLE_READ && r <= HPD_ROLE_ADMIN ? role_names[r] : NULL;
}

hpd_role hpd_role_parse(const char *name)
{
    for (int r = HPD_ROLE_READ; name && r <= HPD_ROLE_ADMIN; r++)
        if (strcmp(role_names[r], name) == 0)
            return (hpd_role)r;
    return HPD_ROLE_NONE;
}

static void hash_token(const char *token, unsigned char out[HASH_LEN])
{
    crypto_generichash(out, HASH_LEN, (const unsigned char *)token, strlen(token), NULL, 0);
}

static int add_token(hpd_auth *a, const char *name, hpd_role role, const unsigned char *hash,
                     int64_t created)
{
    token_rec *grown = realloc(a->tokens, (a->n_tokens + 1) * sizeof(*grown));
    token_rec *t;

    if (!grown)
        return -1;
    a->tokens = grown;
    t = &a->tokens[a->n_tokens];
    t->name = strdup(name);
    if (!t->name)
        return -1;
    t->role = role;
    memcpy(t->hash, hash, HASH_LEN);
    t->created_at_ms = created;
    a->n_tokens++;
    return 0;
}

static int on_stored(void *ud, const char *name, const char *role, const void *hash, size_t len,
                     int64_t created)
{
    hpd_role r = hpd_role_parse(role);

    /* A row this release cannot read grants nothing. */
    if (len != HASH_LEN || r == HPD_ROLE_NONE)
        return 0;
    return add_token(ud, name, r, hash, created);
}

static int read_roles(hpd_auth *a, const char *openrpc, size_t len, hp_error *err)
{
    cJSON *doc = cJSON_ParseWithLength(openrpc, len);
    const cJSON *m, *methods = cJSON_GetObjectItemCaseSensitive(doc, "methods");
    size_t n = (size_t)cJSON_GetArraySize(methods);
    int rc = -1;

    if (!cJSON_IsArray(methods)) {
        hp_error_set(err, HP_E_INTERNAL, "the embedded contract has no methods");
        goto out;
    }
    a->methods = calloc(n ? n : 1, sizeof(*a->methods));
    if (!a->methods) {
        hp_error_set_code(err, HP_E_NOMEM);
        goto out;
    }
    cJSON_ArrayForEach (m, methods) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "x-role");
        hpd_role r = cJSON_IsString(role) ? hpd_role_parse(role->valuestring) : HPD_ROLE_NONE;
        if (!cJSON_IsString(name))
            continue;
        a->methods[a->n_methods].method = strdup(name->valuestring);
        if (!a->methods[a->n_methods].method) {
            hp_error_set_code(err, HP_E_NOMEM);
            goto out;
        }
        a->methods[a->n_methods++].role = r == HPD_ROLE_NONE ? HPD_ROLE_ADMIN : r;
    }
    rc = 0;
out:
    cJSON_Delete(doc);
    return rc;
}

hpd_auth *hpd_auth_new(hpd_store *st, const char *openrpc, size_t len, hp_error *err)
{
    hpd_auth *a = calloc(1, sizeof(*a));

    if (!a || sodium_init() < 0) {
        free(a);
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    a->store = st;
    a->caller = HPD_ROLE_ADMIN;
    if (read_roles(a, openrpc, len, err) != 0 ||
        (st && hpd_store_token_load(st, on_stored, a, err) != 0)) {
        hpd_auth_free(a);
        return NULL;
    }
    return a;
}

void hpd_auth_free(hpd_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_methods; i++)
        free(a->methods[i].method);
    for (size_t i = 0; i < a->n_tokens; i++)
        free(a->tokens[i].name);
    free(a->methods);
    free(a->tokens);
    free(a);
}

hpd_role hpd_auth_token_role(const hpd_auth *a, const char *token)
{
    unsigned char h[HASH_LEN];
    hpd_role found = HPD_ROLE_NONE;

    if (!a || !token || !*token)
        return HPD_ROLE_NONE;
    hash_token(token, h);
    /* Every hash is compared, in constant time: the time taken says nothing of which. */
    for (size_t i = 0; i < a->n_tokens; i++)
        if (sodium_memcmp(h, a->tokens[i].hash, HASH_LEN) == 0)
            found = a->tokens[i].role;
    return found;
}

void hpd_auth_set_caller(hpd_auth *a, hpd_role r)
{
    if (a)
        a->caller = r;
}

hpd_role hpd_auth_caller(const hpd_auth *a)
{
    return a ? a->caller : HPD_ROLE_ADMIN;
}

hpd_role hpd_auth_needs(const hpd_auth *a, const char *method)
{
    for (size_t i = 0; a && i < a->n_methods; i++)
        if (strcmp(a->methods[i].method, method) == 0)
            return a->methods[i].role;
    return HPD_ROLE_ADMIN;
}

int hpd_auth_allows(const hpd_auth *a, const char *method, hpd_role *needed)
{
    hpd_role need;

    if (!a)
        return 1;
    need = hpd_auth_needs(a, method);
    if (needed)
        *needed = need;
    return a->caller >= need;
}

static token_rec *find(const hpd_auth *a, const char *name)
{
    for (size_t i = 0; i < a->n_tokens; i++)
        if (strcmp(a->tokens[i].name, name) == 0)
            return &a->tokens[i];
    return NULL;
}

int hpd_auth_token_create(hpd_auth *a, const char *name, hpd_role role, char **token, hp_error *err)
{
    unsigned char raw[TOKEN_BYTES], h[HASH_LEN];
    char hex[2 * TOKEN_BYTES + 1];
    int64_t now = hpd_now_ms();

    *token = NULL;
    if (find(a, name))
        return hp_error_set(err, HP_E_CONFLICT, "token '%s' exists; revoke it first", name);
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    hash_token(hex, h);
    if (a->store &&
        hpd_store_token_add(a->store, name, hpd_role_name(role), h, HASH_LEN, now, err) != 0)
        goto fail;
    if (add_token(a, name, role, h, now) != 0 || !(*token = strdup(hex))) {
        hp_error_set_code(err, HP_E_NOMEM);
        goto fail;
    }
    sodium_memzero(hex, sizeof(hex));
    return HP_OK;
fail:
    sodium_memzero(hex, sizeof(hex));
    return err ? err->code : HP_E_INTERNAL;
}

int hpd_auth_token_revoke(hpd_auth *a, const char *name, hp_error *err)
{
    token_rec *t = find(a, name);
    size_t i;

    if (!t)
        return hp_error_set(err, HP_E_NOT_FOUND, "no token '%s'", name);
    if (a->store && hpd_store_token_delete(a->store, name, err) != 0)
        return err ? err->code : HP_E_INTERNAL;
    i = (size_t)(t - a->tokens);
    free(t->name);
    memmove(&a->tokens[i], &a->tokens[i + 1], (a->n_tokens - i - 1) * sizeof(*t));
    a->n_tokens--;
    return HP_OK;
}

cJSON *hpd_auth_token_list(const hpd_auth *a)
{
    cJSON *list = cJSON_CreateArray();

    for (size_t i = 0; list && i < a->n_tokens; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            cJSON_Delete(list);
            return NULL;
        }
        cJSON_AddStringToObject(o, "name", a->tokens[i].name);
        cJSON_AddStringToObject(o, "role", hpd_role_name(a->tokens[i].role));
        hp_json_add_int(o, "created_at_ms", a->tokens[i].created_at_ms);
    }
    return list;
}
