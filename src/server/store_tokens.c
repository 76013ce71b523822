/* SPDX-License-Identifier: Apache-2.0 */
/* The store's tokens table: name, role and the BLAKE2b hash of each API token (never the
 * token itself). Tokens change rarely, so each call prepares its own statement instead
 * of joining the store's prepared set. auth.c keeps them in memory above it. */
#include "config.h"

#include "server/store_int.h"

#include <stdlib.h>
#include <string.h>

static sqlite3_stmt *prepare(hpd_store *st, const char *sql, hp_error *err)
{
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        hpd__db_fail(st, err, "cannot read the tokens of %s", st->path);
        return NULL;
    }
    return s;
}

int hpd_store_token_add(hpd_store *st, const char *name, const char *role,
                        const unsigned char *hash, size_t hash_len, int64_t now_ms, hp_error *err)
{
    sqlite3_stmt *s = prepare(
        st, "INSERT INTO tokens(name, role, hash, created_at_ms) VALUES(?1, ?2, ?3, ?4)", err);
    int rc;

    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, hash, (int)hash_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now_ms);
    rc = sqlite3_step(s) == SQLITE_DONE ? 0 : hpd__db_fail(st, err, "cannot save token '%s'", name);
    sqlite3_finalize(s);
    return rc;
}

int hpd_store_token_delete(hpd_store *st, const char *name, hp_error *err)
{
    sqlite3_stmt *s = prepare(st, "DELETE FROM tokens WHERE name = ?1", err);
    int rc;

    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? 0
                                        : hpd__db_fail(st, err, "cannot delete token '%s'", name);
    sqlite3_finalize(s);
    return rc;
}

int hpd_store_token_load(hpd_store *st, hpd_store_token_fn fn, void *ud, hp_error *err)
{
    sqlite3_stmt *s =
        prepare(st, "SELECT name, role, hash, created_at_ms FROM tokens ORDER BY name", err);
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        const char *role = (const char *)sqlite3_column_text(s, 1);
        const void *hash = sqlite3_column_blob(s, 2);
        size_t len = (size_t)sqlite3_column_bytes(s, 2);
        if (name && role && hash &&
            fn(ud, name, role, hash, len, sqlite3_column_int64(s, 3)) != 0) {
            sqlite3_finalize(s);
            return hp_error_set_code(err, HP_E_NOMEM), -1;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : hpd__db_fail(st, err, "cannot read the tokens of %s", st->path);
}
