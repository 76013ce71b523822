/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets sealed at rest (crypto_secretbox, XSalsa20-Poly1305) under a 32-byte key file
 * apart from the database, and the start-time migration of plaintext secrets. Plaintext
 * and the key live in sodium_malloc buffers: guard pages, mlock, MADV_DONTDUMP, wiped on
 * free. The store and its SQL are not here: this file only turns values into sealed text
 * and back. */
#include "config.h"

#include "server/secretbox.h"
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { KEY_BYTES = crypto_secretbox_KEYBYTES, NONCE_BYTES = crypto_secretbox_NONCEBYTES };

struct hpd_secretbox {
    unsigned char *key; /* sodium_malloc, read-only once loaded */
    char *path;
};

static int sodium_ready(hp_error *err)
{
    if (sodium_init() < 0)
        return hp_error_set(err, HP_E_SYSTEM, "libsodium cannot be initialised"), -1;
    return 0;
}

char *hpd_secret_alloc(size_t size)
{
    char *p;

    if (sodium_init() < 0)
        return NULL;
    p = sodium_malloc(size ? size : 1);
    if (p)
        sodium_memzero(p, size ? size : 1);
    return p;
}

void hpd_secret_free(char *p)
{
    sodium_free(p); /* wipes, NULL safe */
}

void hpd_secret_wipe(char *s)
{
    if (s)
        sodium_memzero(s, strlen(s));
}

void hpd_secret_wipe_len(char *p, size_t len)
{
    if (p)
        sodium_memzero(p, len);
}

const char *hpd_secretbox_path(const hpd_secretbox *sb)
{
    return sb ? sb->path : NULL;
}

void hpd_secretbox_free(hpd_secretbox *sb)
{
    if (!sb)
        return;
    sodium_free(sb->key);
    free(sb->path);
    free(sb);
}

/* Reads the key from an open file, after checking what the file is. */
static int read_key(int fd, const char *path, unsigned char *key, hp_error *err)
{
    struct stat st;
    size_t got = 0;

    if (fstat(fd, &st) != 0)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot stat key file %s", path), -1;
    if (!S_ISREG(st.st_mode))
        return hp_error_set(err, HP_E_INVALID, "key file %s is not a regular file", path), -1;
    if (st.st_mode & 077)
        return hp_error_set(err, HP_E_INVALID,
                            "key file %s is readable by others (mode %03o); it must be 0600 "
                            "(chmod 600 %s)",
                            path, (unsigned)(st.st_mode & 0777), path),
               -1;
    if (st.st_uid != geteuid())
        return hp_error_set(err, HP_E_INVALID, "key file %s belongs to uid %u, not to us (%u)",
                            path, (unsigned)st.st_uid, (unsigned)geteuid()),
               -1;
    if (st.st_size != KEY_BYTES)
        return hp_error_set(err, HP_E_INVALID,
                            "key file %s has %lld bytes; a key has exactly %d (a damaged or "
                            "foreign file?)",
                            path, (long long)st.st_size, KEY_BYTES),
               -1;
    while (got < KEY_BYTES) {
        ssize_t n = read(fd, key + got, KEY_BYTES - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return hp_error_set_errno(err, HP_E_SYSTEM, n < 0 ? errno : EIO,
                                      "cannot read key file %s", path),
                   -1;
        got += (size_t)n;
    }
    return 0;
}

/* Creates the key file: O_EXCL so that two starts never write two keys, 0600 from the
 * first byte, synced before it is used to seal anything. 1 created, 0 it appeared
 * meanwhile (read it instead), -1 error. */
static int create_key(const char *path, unsigned char *key, hp_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    size_t put = 0;

    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot create key file %s", path), -1;
    }
    randombytes_buf(key, KEY_BYTES);
    while (put < KEY_BYTES) {
        ssize_t n = write(fd, key + put, KEY_BYTES - put);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        put += (size_t)n;
    }
    if (put < KEY_BYTES || fsync(fd) != 0) {
        int e = errno ? errno : EIO;
        close(fd);
        unlink(path);
        return hp_error_set_errno(err, HP_E_SYSTEM, e, "cannot write key file %s", path), -1;
    }
    close(fd);
    return 1;
}

hpd_secretbox *hpd_secretbox_open(const char *key_path, int create, hp_error *err)
{
    hpd_secretbox *sb = NULL;
    int fd = -1;

    if (!key_path)
        return hp_error_set(err, HP_E_INVALID, "no key file given"), NULL;
    if (sodium_ready(err) != 0)
        return NULL;
    if (!(sb = calloc(1, sizeof(*sb))) || !(sb->path = strdup(key_path)) ||
        !(sb->key = sodium_malloc(KEY_BYTES))) {
        hp_error_set_code(err, HP_E_NOMEM);
        goto fail;
    }
    for (int tries = 0; tries < 2; tries++) {
        fd = open(key_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            break;
        if (errno != ENOENT) {
            hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot open key file %s", key_path);
            goto fail;
        }
        if (!create) {
            hp_error_set(err, HP_E_NOT_FOUND, "key file %s does not exist", key_path);
            goto fail;
        }
        switch (create_key(key_path, sb->key, err)) {
        case 1:
            sodium_mprotect_readonly(sb->key);
            return sb;
        case -1:
            goto fail;
        default:
            break; /* created by someone else meanwhile: read theirs */
        }
    }
    if (fd < 0) {
        hp_error_set(err, HP_E_SYSTEM, "cannot open key file %s", key_path);
        goto fail;
    }
    if (read_key(fd, key_path, sb->key, err) != 0)
        goto fail;
    close(fd);
    sodium_mprotect_readonly(sb->key);
    return sb;
fail:
    if (fd >= 0)
        close(fd);
    hpd_secretbox_free(sb);
    return NULL;
}

int hpd_secretbox_is_sealed(const char *stored)
{
    return stored && strncmp(stored, HPD_SEALED_PREFIX, strlen(HPD_SEALED_PREFIX)) == 0;
}

char *hpd_secretbox_seal(const hpd_secretbox *sb, const char *plain, hp_error *err)
{
    size_t plen = strlen(plain), blen = NONCE_BYTES + crypto_secretbox_MACBYTES + plen;
    size_t b64len = sodium_base64_encoded_len(blen, sodium_base64_VARIANT_ORIGINAL);
    size_t prefix = strlen(HPD_SEALED_PREFIX);
    unsigned char *box = malloc(blen);
    char *out = malloc(prefix + b64len);

    if (!box || !out) {
        free(box);
        free(out);
        return hp_error_set_code(err, HP_E_NOMEM), NULL;
    }
    randombytes_buf(box, NONCE_BYTES);
    crypto_secretbox_easy(box + NONCE_BYTES, (const unsigned char *)plain, plen, box, sb->key);
    memcpy(out, HPD_SEALED_PREFIX, prefix);
    sodium_bin2base64(out + prefix, b64len, box, blen, sodium_base64_VARIANT_ORIGINAL);
    free(box);
    return out;
}

char *hpd_secretbox_unseal(const hpd_secretbox *sb, const char *stored, hp_error *err)
{
    size_t prefix = strlen(HPD_SEALED_PREFIX), b64len, blen;
    unsigned char *box = NULL;
    char *plain = NULL;

    if (!hpd_secretbox_is_sealed(stored))
        return hp_error_set(err, HP_E_INVALID, "the stored value is not sealed"), NULL;
    b64len = strlen(stored + prefix);
    if (!(box = malloc(b64len / 4 * 3 + 3)))
        return hp_error_set_code(err, HP_E_NOMEM), NULL;
    if (sodium_base642bin(box, b64len / 4 * 3 + 3, stored + prefix, b64len, NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        blen < NONCE_BYTES + crypto_secretbox_MACBYTES) {
        hp_error_set(err, HP_E_PARSE, "the stored value is damaged");
        goto out;
    }
    if (!(plain = hpd_secret_alloc(blen - NONCE_BYTES - crypto_secretbox_MACBYTES + 1))) {
        hp_error_set_code(err, HP_E_NOMEM);
        goto out;
    }
    if (crypto_secretbox_open_easy((unsigned char *)plain, box + NONCE_BYTES, blen - NONCE_BYTES,
                                   box, sb->key) != 0) {
        hpd_secret_free(plain);
        plain = NULL;
        hp_error_set(err, HP_E_INVALID,
                     "the stored value does not open under the key in %s (another key file?)",
                     sb->path);
        goto out;
    }
    plain[blen - NONCE_BYTES - crypto_secretbox_MACBYTES] = '\0';
out:
    free(box);
    return plain;
}

/* ---- start-time migration ---------------------------------------------------------- */

typedef struct prepare_ctx {
    const char *key_path;
    hpd_secretbox *sb;
    int64_t sealed, plain;
} prepare_ctx;

static int count_secret(void *ud, const char *name, const char *value, char **replacement,
                        hp_error *err)
{
    prepare_ctx *pc = ud;

    (void)name;
    (void)replacement;
    (void)err;
    if (hpd_secretbox_is_sealed(value))
        pc->sealed++;
    else
        pc->plain++;
    return 0;
}

/* Sealed values must open (a wrong key is found at start, not at a job's spawn);
 * plaintext ones are sealed. */
static int migrate_secret(void *ud, const char *name, const char *value, char **replacement,
                          hp_error *err)
{
    prepare_ctx *pc = ud;
    hp_error why;

    if (hpd_secretbox_is_sealed(value)) {
        char *plain = hpd_secretbox_unseal(pc->sb, value, &why);
        if (!plain)
            return hp_error_set(err, HP_E_INVALID, "secret '%s' cannot be read: %s", name,
                                why.message),
                   -1;
        hpd_secret_free(plain);
        return 0;
    }
    *replacement = hpd_secretbox_seal(pc->sb, value ? value : "", err);
    return *replacement ? 0 : -1;
}

int hpd_secrets_prepare(hpd_store *st, const char *key_path, hpd_secretbox **sb, int64_t *migrated,
                        hp_error *err)
{
    prepare_ctx pc = {.key_path = key_path};
    hp_error why;

    *sb = NULL;
    if (migrated)
        *migrated = 0;
    if (hpd_store_secret_each(st, count_secret, &pc, NULL, err) != 0)
        return -1;
    hp_error_clear(&why);
    pc.sb = hpd_secretbox_open(key_path, pc.sealed == 0 && pc.plain > 0, &why);
    if (!pc.sb) {
        if (why.code != HP_E_NOT_FOUND)
            return hp_error_set(err, why.code, "%s", why.message), -1;
        if (pc.sealed > 0)
            return hp_error_set(err, HP_E_NOT_FOUND,
                                "key file %s is missing: the %lld stored secrets are encrypted "
                                "and cannot be read without it (restore the file, or give "
                                "its place with --secrets-key)",
                                key_path, (long long)pc.sealed),
                   -1;
        return 0; /* no secrets yet: the key is made by the first secret.set */
    }
    if (hpd_store_secret_each(st, migrate_secret, &pc, migrated, err) != 0) {
        hpd_secretbox_free(pc.sb);
        return -1;
    }
    *sb = pc.sb;
    return 0;
}

/* ---- the daemon's secrets ------------------------------------------------------------ */

int hpd_secret_set(hpd_server *srv, const char *name, const char *value, int64_t now_ms,
                   int64_t *created_at_ms, hp_error *err)
{
    char *sealed;
    int rc;

    if (!srv->secrets && !(srv->secrets = hpd_secretbox_open(srv->secrets_key, 1, err)))
        return -1;
    if (!(sealed = hpd_secretbox_seal(srv->secrets, value, err)))
        return -1;
    rc = hpd_store_secret_set(srv->store, name, sealed, now_ms, created_at_ms, err);
    free(sealed);
    return rc;
}

int hpd_secret_get(hpd_server *srv, const char *name, char **value, int64_t *created_at_ms,
                   int64_t *updated_at_ms, hp_error *err)
{
    char *stored = NULL;
    hp_error why;
    int rc;

    if (value)
        *value = NULL;
    rc = hpd_store_secret_get(srv->store, name, value ? &stored : NULL, created_at_ms,
                              updated_at_ms, err);
    if (rc != 1 || !value)
        return rc;
    /* Without a key every stored value was plaintext at start and sealed since, so a
     * secret here means the key exists. */
    if (!srv->secrets && !(srv->secrets = hpd_secretbox_open(srv->secrets_key, 0, &why))) {
        free(stored);
        return hp_error_set(err, HP_E_INTERNAL, "secret '%s' cannot be read: %s", name,
                            why.message),
               -1;
    }
    *value = hpd_secretbox_unseal(srv->secrets, stored, &why);
    free(stored);
    if (!*value)
        return hp_error_set(err, why.code, "secret '%s' cannot be read: %s", name, why.message), -1;
    return 1;
}
