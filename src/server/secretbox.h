/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets at rest: values are sealed with libsodium's crypto_secretbox under a key file
 * kept apart from the database, and stored as "sb1:" base64(nonce || ciphertext). The
 * store only ever sees sealed text; plaintext lives in guarded, mlocked, non-dumpable
 * buffers (sodium_malloc) that are wiped when freed. */
#ifndef HPD_SECRETBOX_H
#define HPD_SECRETBOX_H

#include "common/status.h"
#include "server/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hpd_secretbox hpd_secretbox;

/* Prefix of a sealed value; anything else in the store is plaintext of an older release. */
#define HPD_SEALED_PREFIX "sb1:"

/* The key in key_path (copied): loaded when the file exists (it must be a regular file of
 * 32 bytes, readable by its owner only), else created (O_EXCL, 0600, 32 random bytes)
 * when create is set. NULL with err; err->code HP_E_NOT_FOUND when the file is missing
 * and create is not set. */
hpd_secretbox *hpd_secretbox_open(const char *key_path, int create, hp_error *err);
void hpd_secretbox_free(hpd_secretbox *sb); /* NULL safe; wipes the key */
const char *hpd_secretbox_path(const hpd_secretbox *sb);
/* 1 when stored is sealed text (starts with HPD_SEALED_PREFIX). */
int hpd_secretbox_is_sealed(const char *stored);
/* Sealed text of plain (malloc'd; caller frees), a fresh random nonce each time. NULL
 * with err. */
char *hpd_secretbox_seal(const hpd_secretbox *sb, const char *plain, hp_error *err);
/* The plaintext of sealed text in a guarded buffer the caller releases with
 * hpd_secret_free. NULL with err: not sealed text, or not sealed under this key. */
char *hpd_secretbox_unseal(const hpd_secretbox *sb, const char *stored, hp_error *err);

/* A guarded buffer of size bytes (zeroed), for plaintext; NULL without memory. */
char *hpd_secret_alloc(size_t size);
/* Wipes and frees a buffer of hpd_secret_alloc. NULL safe. */
void hpd_secret_free(char *p);
/* Wipes a string of ordinary memory that held a secret (NULL safe); does not free. */
void hpd_secret_wipe(char *s);
void hpd_secret_wipe_len(char *p, size_t len); /* the first len bytes; NULL safe */

/* What the daemon does at start with the secrets in st and the key file at key_path:
 * every secret of an older release (plaintext) is sealed and rewritten, creating the key
 * when needed; sealed secrets must open under the key. *sb gets the key when the file
 * exists or was created, else NULL (no secrets yet: it is created on the first set).
 * *migrated (may be NULL) gets how many secrets were sealed. 0, or -1 with err whose
 * message says why the daemon cannot start. */
int hpd_secrets_prepare(hpd_store *st, const char *key_path, hpd_secretbox **sb, int64_t *migrated,
                        hp_error *err);

/* The daemon's secret.set and secret lookups (the server's key, made by the first set
 * when there is none yet). Same contract as hpd_store_secret_set and _get, except that a
 * value found is in a buffer of hpd_secret_alloc: release it with hpd_secret_free. */
struct hpd_server;
int hpd_secret_set(struct hpd_server *srv, const char *name, const char *value, int64_t now_ms,
                   int64_t *created_at_ms, hp_error *err);
int hpd_secret_get(struct hpd_server *srv, const char *name, char **value, int64_t *created_at_ms,
                   int64_t *updated_at_ms, hp_error *err);

#endif
