/* SPDX-License-Identifier: Apache-2.0 */
/* The TCP endpoint's TLS material: a certificate and key read from the operator's files,
 * or a self-signed pair made once in the data dir with GnuTLS; and the SHA-256 pin of the
 * certificate's public key in the form clients give libcurl (CURLOPT_PINNEDPUBLICKEY). */
#ifndef HPD_TLS_H
#define HPD_TLS_H

#include "common/status.h"

/* PEM texts for libmicrohttpd and the pin "sha256//BASE64"; free with hpd_tls_clear. */
typedef struct hpd_tls {
    char *cert_pem;
    char *key_pem;
    char *pin;
} hpd_tls;

/* Reads cert_file and key_file (both given), or with both NULL makes (first time) or
 * reads <data_dir>/tls.crt and tls.key (0600). Also writes the pin to <data_dir>/tls.pin
 * when self-signed. HP_OK or err naming the file. */
int hpd_tls_load(const char *cert_file, const char *key_file, const char *data_dir, hpd_tls *out,
                 hp_error *err);
/* The pin of a PEM certificate: "sha256//BASE64" (caller frees), NULL with err. */
char *hpd_tls_pin(const char *cert_pem, hp_error *err);
void hpd_tls_clear(hpd_tls *t);

#endif
