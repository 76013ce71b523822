/* SPDX-License-Identifier: Apache-2.0 */
/* TLS material for the TCP endpoint: the operator's PEM files, or a self-signed ECDSA
 * certificate the daemon makes once in its data dir (GnuTLS), and the SHA-256 pin of its
 * public key. A pin lets a client trust one daemon without a CA; the pin survives
 * restarts because the key is kept. */
#include "config.h"

#include "server/tls.h"

#include "common/file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_PEM = 1 << 20 };

/* A self-signed certificate is good for ten years: rotating it changes the pin every
 * client holds, so it should happen when the operator decides, not by expiry. */
#define CERT_LIFETIME_S (10LL * 365 * 24 * 3600)

static char *path_in(const char *dir, const char *name)
{
    size_t ld = strlen(dir), ln = strlen(name);
    char *p = malloc(ld + ln + 2);

    if (p) {
        memcpy(p, dir, ld);
        p[ld] = '/';
        memcpy(p + ld + 1, name, ln + 1);
    }
    return p;
}

/* The whole file as a string; NULL with err naming it. */
static char *read_text(const char *path, hp_error *err)
{
    size_t len;
    char *buf = hp__read_small_file(path, MAX_PEM, &len);

    if (!buf) {
        if (errno == EFBIG)
            hp_error_set(err, HP_E_INVALID, "%s is too large", path);
        else
            hp_error_set_errno(err, errno == ENOMEM ? HP_E_NOMEM : HP_E_SYSTEM, errno,
                               "cannot read %s", path);
        return NULL;
    }
    if (len == 0) {
        hp_error_set(err, HP_E_INVALID, "%s is empty", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* Writes text to path through a 0600 temporary file and a rename, so a crash leaves
 * either no file or a whole one. */
static int write_private(const char *path, const char *text, hp_error *err)
{
    size_t len = strlen(text), lp = strlen(path);
    char *tmp = malloc(lp + 5);
    int fd = -1, rc = -1;

    if (!tmp)
        return hp_error_set_code(err, HP_E_NOMEM);
    memcpy(tmp, path, lp);
    memcpy(tmp + lp, ".tmp", 5);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot write %s", tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot rename %s", tmp);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static char *dup_datum(const gnutls_datum_t *d)
{
    char *s = malloc(d->size + 1);

    if (s) {
        memcpy(s, d->data, d->size);
        s[d->size] = '\0';
    }
    return s;
}

char *hpd_tls_pin(const char *cert_pem, hp_error *err)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t pem = {(unsigned char *)(uintptr_t)cert_pem, (unsigned)strlen(cert_pem)};
    gnutls_datum_t der = {NULL, 0};
    unsigned char digest[32];
    char b64[64], *pin = NULL;
    int rc;

    if ((rc = gnutls_x509_crt_init(&crt)) < 0 ||
        (rc = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM)) < 0 ||
        (rc = gnutls_pubkey_init(&pub)) < 0 || (rc = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
        (rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der)) < 0 ||
        (rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest)) < 0) {
        hp_error_set(err, HP_E_INVALID, "not a usable certificate: %s", gnutls_strerror(rc));
        goto out;
    }
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    pin = malloc(strlen(b64) + 9);
    if (!pin) {
        hp_error_set_code(err, HP_E_NOMEM);
        goto out;
    }
    memcpy(pin, "sha256//", 8);
    memcpy(pin + 8, b64, strlen(b64) + 1);
out:
    gnutls_free(der.data);
    if (pub)
        gnutls_pubkey_deinit(pub);
    if (crt)
        gnutls_x509_crt_deinit(crt);
    return pin;
}

/* A P-256 key and a certificate signed by it, for localhost, 127.0.0.1, ::1 and this
 * host's name: the names a client of a fresh daemon uses. */
static int make_self_signed(hpd_tls *out, hp_error *err)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t cpem = {NULL, 0}, kpem = {NULL, 0};
    unsigned char serial[16], v4[4], v6[16];
    char host[256];
    time_t now = time(NULL);
    int rc, ret = -1;

    if (getrandom(serial, sizeof(serial), 0) != (ssize_t)sizeof(serial))
        return hp_error_set_errno(err, HP_E_SYSTEM, errno, "getrandom");
    serial[0] &= 0x7f; /* a positive serial number */
    inet_pton(AF_INET, "127.0.0.1", v4);
    inet_pton(AF_INET6, "::1", v6);
    if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
        (rc = gnutls_x509_privkey_generate(
             key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
        (rc = gnutls_x509_crt_init(&crt)) < 0 || (rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
        (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
        (rc = gnutls_x509_crt_set_expiration_time(crt, now + CERT_LIFETIME_S)) < 0 ||
        (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "hero_proc", 9)) <
            0 ||
        (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                   GNUTLS_FSAN_APPEND)) < 0 ||
        (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, sizeof(v4),
                                                   GNUTLS_FSAN_APPEND)) < 0 ||
        (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, sizeof(v6),
                                                   GNUTLS_FSAN_APPEND)) < 0)
        goto fail;
    if (gethostname(host, sizeof(host)) == 0 && host[0] && strcmp(host, "localhost") != 0) {
        host[sizeof(host) - 1] = '\0';
        if ((rc = gnutls_x509_crt_set_subject_alt_name(
                 crt, GNUTLS_SAN_DNSNAME, host, (unsigned)strlen(host), GNUTLS_FSAN_APPEND)) < 0)
            goto fail;
    }
    if ((rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
        (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
        (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
        (rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
        (rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0 ||
        (rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem)) < 0)
        goto fail;
    out->cert_pem = dup_datum(&cpem);
    out->key_pem = dup_datum(&kpem);
    if (!out->cert_pem || !out->key_pem)
        hp_error_set_code(err, HP_E_NOMEM);
    else
        ret = 0;
    goto out;
fail:
    hp_error_set(err, HP_E_SYSTEM, "cannot make a self-signed certificate: %s",
                 gnutls_strerror(rc));
out:
    if (kpem.data) {
        sodium_memzero(kpem.data, kpem.size);
        gnutls_free(kpem.data);
    }
    gnutls_free(cpem.data);
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return ret;
}

int hpd_tls_load(const char *cert_file, const char *key_file, const char *data_dir, hpd_tls *out,
                 hp_error *err)
{
    char *cert_path = NULL, *key_path = NULL, *pin_path = NULL, *pin_line = NULL;
    int self_signed = !cert_file, rc = -1;

    memset(out, 0, sizeof(*out));
    if (self_signed) {
        cert_path = path_in(data_dir, "tls.crt");
        key_path = path_in(data_dir, "tls.key");
        pin_path = path_in(data_dir, "tls.pin");
        if (!cert_path || !key_path || !pin_path) {
            hp_error_set_code(err, HP_E_NOMEM);
            goto out;
        }
        cert_file = cert_path;
        key_file = key_path;
    }
    if (self_signed) {
        int has_cert = access(cert_file, F_OK) == 0, has_key = access(key_file, F_OK) == 0;
        /* Half a pair is the operator's to look at, never overwritten. */
        if (has_cert != has_key) {
            hp_error_set(err, HP_E_INVALID,
                         "%s exists but %s does not: remove it to make a new pair",
                         has_cert ? cert_file : key_file, has_cert ? key_file : cert_file);
            goto out;
        }
        if (!has_cert &&
            (make_self_signed(out, err) != 0 || write_private(key_file, out->key_pem, err) != 0 ||
             write_private(cert_file, out->cert_pem, err) != 0))
            goto out;
    }
    if (!out->cert_pem && (!(out->cert_pem = read_text(cert_file, err)) ||
                           !(out->key_pem = read_text(key_file, err))))
        goto out;
    out->pin = hpd_tls_pin(out->cert_pem, err);
    if (!out->pin) {
        char why[sizeof(err->message)];
        memcpy(why, err ? err->message : "", err ? sizeof(why) : 1);
        hp_error_set(err, HP_E_INVALID, "%s: %.200s", cert_file, why);
        goto out;
    }
    if (self_signed) {
        size_t n = strlen(out->pin);
        pin_line = malloc(n + 2);
        if (!pin_line) {
            hp_error_set_code(err, HP_E_NOMEM);
            goto out;
        }
        memcpy(pin_line, out->pin, n);
        memcpy(pin_line + n, "\n", 2);
        if (write_private(pin_path, pin_line, err) != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        hpd_tls_clear(out);
    free(pin_line);
    free(cert_path);
    free(key_path);
    free(pin_path);
    return rc;
}

void hpd_tls_clear(hpd_tls *t)
{
    if (!t)
        return;
    if (t->key_pem) {
        sodium_memzero(t->key_pem, strlen(t->key_pem));
        free(t->key_pem);
    }
    free(t->cert_pem);
    free(t->pin);
    memset(t, 0, sizeof(*t));
}
