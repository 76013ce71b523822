/* SPDX-License-Identifier: Apache-2.0 */
/* The store's secrets table: set, get, list, delete, count, and the rewrite of every value
 * (key rotation) with secure_delete. It does not encrypt: secretbox.c does, above it. */
#include "config.h"

#include "server/store_int.h"

#include <stdlib.h>

int hpd_store_secret_set(hpd_store *st, const char *name, const char *value, int64_t now_ms,
                         int64_t *created_at_ms, hp_error *err)
{
    sqlite3_stmt *s;

    if (!st || !name || !value)
        return hp_error_set(err, HP_E_INVALID, "store: a secret needs a name and a value"), -1;
    s = st->stmt[ST_SECRET_SET];
    hpd__bind_text(s, 1, name);
    hpd__bind_text(s, 2, value);
    sqlite3_bind_int64(s, 3, now_ms);
    if (hpd__run_stmt(st, s, err, "cannot save secret '%s'", name) != 0)
        return -1;
    if (created_at_ms) {
        s = st->stmt[ST_SECRET_GET];
        hpd__bind_text(s, 1, name);
        if (hpd__step_row(st, s, err, "cannot read a secret") != 1)
            return -1;
        *created_at_ms = sqlite3_column_int64(s, 1);
        hpd__finish(s);
    }
    return 0;
}

int hpd_store_secret_get(hpd_store *st, const char *name, char **value, int64_t *created_at_ms,
                         int64_t *updated_at_ms, hp_error *err)
{
    sqlite3_stmt *s;
    int rc;

    if (value)
        *value = NULL;
    if (!st || !name)
        return hp_error_set(err, HP_E_INVALID, "store: a secret needs a name"), -1;
    s = st->stmt[ST_SECRET_GET];
    hpd__bind_text(s, 1, name);
    rc = hpd__step_row(st, s, err, "cannot read a secret");
    if (rc != 1)
        return rc;
    if (value && !(*value = hpd__dup_column(s, 0))) {
        hpd__finish(s);
        return hpd__nomem(err, "cannot read a secret");
    }
    if (created_at_ms)
        *created_at_ms = sqlite3_column_int64(s, 1);
    if (updated_at_ms)
        *updated_at_ms = sqlite3_column_int64(s, 2);
    hpd__finish(s);
    return 1;
}

cJSON *hpd_store_secret_list(hpd_store *st, hp_error *err)
{
    sqlite3_stmt *s;
    cJSON *list;
    int rc;

    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), NULL;
    if (!(list = cJSON_CreateArray()))
        return hpd__nomem(err, "cannot list the secrets"), NULL;
    s = st->stmt[ST_SECRET_LIST];
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        cJSON *one = cJSON_CreateObject();

        if (!one || !cJSON_AddStringToObject(one, "name", name ? name : "") ||
            !hp_json_add_int(one, "created_at_ms", sqlite3_column_int64(s, 1)) ||
            !hp_json_add_int(one, "updated_at_ms", sqlite3_column_int64(s, 2)) ||
            !cJSON_AddItemToArray(list, one)) {
            cJSON_Delete(one);
            hpd__finish(s);
            cJSON_Delete(list);
            return hpd__nomem(err, "cannot list the secrets"), NULL;
        }
    }
    if (rc != SQLITE_DONE) {
        hpd__db_fail(st, err, "cannot list the secrets");
        hpd__finish(s);
        cJSON_Delete(list);
        return NULL;
    }
    hpd__finish(s);
    return list;
}

int hpd_store_secret_delete(hpd_store *st, const char *name, hp_error *err)
{
    sqlite3_stmt *s;

    if (!st || !name)
        return hp_error_set(err, HP_E_INVALID, "store: a secret needs a name"), -1;
    s = st->stmt[ST_SECRET_DELETE];
    hpd__bind_text(s, 1, name);
    if (hpd__run_stmt(st, s, err, "cannot delete secret '%s'", name) != 0)
        return -1;
    return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int64_t hpd_store_secret_count(hpd_store *st)
{
    sqlite3_stmt *s;
    int64_t n;

    if (!st)
        return -1;
    s = st->stmt[ST_SECRET_COUNT];
    if (hpd__step_row(st, s, NULL, "cannot count the secrets") != 1)
        return -1;
    n = sqlite3_column_int64(s, 0);
    hpd__finish(s);
    return n;
}

/* Visits every secret with its stored value, then writes the replacements fn gave in
 * one transaction. secure_delete is on meanwhile so that the replaced values are zeroed in
 * the file rather than left in free space, and the WAL is checkpointed and truncated so
 * that no page image with them stays there either. */
int hpd_store_secret_each(hpd_store *st, hpd_secret_each_fn fn, void *ctx, int64_t *rewritten,
                          hp_error *err)
{
    sqlite3_stmt *sel = NULL, *upd = NULL, *pragma = NULL;
    char **names = NULL, **values = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, secure = -1, in_tx = 0;

    if (rewritten)
        *rewritten = 0;
    if (!st || !fn)
        return hp_error_set(err, HP_E_INVALID, "store: no store or callback given"), -1;
    if (sqlite3_prepare_v2(st->db, "SELECT name, value FROM secrets ORDER BY name", -1, &sel,
                           NULL) != SQLITE_OK) {
        hpd__db_fail(st, err, "cannot read the secrets");
        goto out;
    }
    for (;;) {
        char *replacement = NULL;
        int step = sqlite3_step(sel);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            hpd__db_fail(st, err, "cannot read the secrets");
            goto out;
        }
        if (fn(ctx, (const char *)sqlite3_column_text(sel, 0),
               (const char *)sqlite3_column_text(sel, 1), &replacement, err) != 0)
            goto out;
        if (!replacement)
            continue;
        if (n == cap) {
            size_t grown_cap = cap ? cap * 2 : 16;
            char **gn = realloc(names, grown_cap * sizeof(*gn)), **gv;
            if (gn)
                names = gn;
            gv = gn ? realloc(values, grown_cap * sizeof(*gv)) : NULL;
            if (!gv) {
                free(replacement);
                hpd__nomem(err, "cannot rewrite the secrets");
                goto out;
            }
            values = gv;
            cap = grown_cap;
        }
        values[n] = replacement;
        if (!(names[n] = hpd__dup_column(sel, 0))) {
            free(replacement);
            hpd__nomem(err, "cannot rewrite the secrets");
            goto out;
        }
        n++;
    }
    sqlite3_finalize(sel);
    sel = NULL;
    if (n == 0) {
        rc = 0;
        goto out;
    }
    if (sqlite3_prepare_v2(st->db, "PRAGMA secure_delete", -1, &pragma, NULL) == SQLITE_OK &&
        sqlite3_step(pragma) == SQLITE_ROW)
        secure = sqlite3_column_int(pragma, 0);
    sqlite3_finalize(pragma);
    if (sqlite3_exec(st->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "UPDATE secrets SET value = ?2 WHERE name = ?1", -1, &upd,
                           NULL) != SQLITE_OK) {
        hpd__db_fail(st, err, "cannot rewrite the secrets");
        goto out;
    }
    if (hpd__begin(st, err) != 0)
        goto out;
    in_tx = 1;
    for (size_t i = 0; i < n; i++) {
        hpd__bind_text(upd, 1, names[i]);
        hpd__bind_text(upd, 2, values[i]);
        if (hpd__run_stmt(st, upd, err, "cannot rewrite secret '%s'", names[i]) != 0)
            goto out;
    }
    if (hpd__commit(st, err) != 0)
        goto out;
    in_tx = 0;
    if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
        SQLITE_OK) {
        hpd__db_fail(st, err, "cannot checkpoint after rewriting the secrets");
        goto out;
    }
    if (rewritten)
        *rewritten = (int64_t)n;
    rc = 0;
out:
    if (in_tx)
        hpd__rollback(st);
    if (secure == 0)
        sqlite3_exec(st->db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
        free(values[i]);
    }
    free(names);
    free(values);
    return rc;
}
