/* SPDX-License-Identifier: Apache-2.0 */
/* HTTPS on the TCP endpoint, through the SDK as a remote user meets it: a self-signed
 * certificate made once and trusted by its pin, a wrong pin refused before the request
 * leaves, a certificate from a CA (made here with GnuTLS) verified against a CA file,
 * and plain HTTP off the loopback refused unless the operator insists. */
#include "config.h"

#include "check_common.h"
#include "client/call.h"
#include "client/sdk.h"
#include "server_harness.h"

#include <arpa/inet.h>
#include <signal.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The pin of no key anyone holds. */
#define WRONG_PIN "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* A file of the server's data dir, first line only; caller frees. */
static char *data_line(const char *name)
{
    char path[4200], *text;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/%s", hpt_data_dir(), name);
    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    text = calloc(1, 4096);
    n = (long)fread(text, 1, 4095, f);
    fclose(f);
    ck_assert_int_gt(n, 0);
    text[strcspn(text, "\r\n")] = '\0';
    return text;
}

static int data_mode(const char *name)
{
    char path[4200];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", hpt_data_dir(), name);
    ck_assert_int_eq(stat(path, &st), 0);
    return (int)(st.st_mode & 0777);
}

static char addr_buf[64], url_buf[96];

/* Starts the harness's server with --http on a free loopback port and the TLS args. */
static void start_https(const char *a, const char *b)
{
    int port = hpt_free_port();

    hpt_server_signal_and_wait(SIGTERM, 10000);
    snprintf(addr_buf, sizeof(addr_buf), "127.0.0.1:%d", port);
    snprintf(url_buf, sizeof(url_buf), "https://127.0.0.1:%d", port);
    hpt_server_extra_args("--http", addr_buf);
    hpt_server_more_args(a, b);
    hpt_server_start();
}

/* An SDK call over HTTPS with the data dir's token; HP_OK or the failure in err. */
static hp_status remote_call(const char *url, const char *pin, const char *cacert,
                             const char *method, cJSON *params, hp_error *err)
{
    char *token = data_line("token");
    /* Handshakes are slow under the sanitizers and valgrind: generous timeouts. */
    hp_sdk_options o = {.url = url,
                        .token = token,
                        .pin = pin,
                        .cacert = cacert,
                        .connect_timeout_ms = 20000,
                        .timeout_ms = 30000};
    hp_sdk *sdk;
    cJSON *result = NULL;
    hp_status st;

    hp_error_clear(err);
    sdk = hp_sdk_new(&o, err);
    if (!sdk) {
        cJSON_Delete(params);
        free(token);
        return err->code;
    }
    st = hp_sdk_call(sdk, method, params, &result, err);
    cJSON_Delete(result);
    hp_sdk_free(sdk);
    free(token);
    return st;
}

START_TEST(a_self_signed_certificate_is_trusted_by_its_pin)
{
    hp_error err;
    char *pin, *again;

    start_https("--tls-self-signed", NULL);
    pin = data_line("tls.pin");
    ck_assert_msg(strncmp(pin, "sha256//", 8) == 0 && strlen(pin) == 8 + 44, "pin '%s'", pin);
    ck_assert_int_eq(data_mode("tls.key"), 0600);
    ck_assert_int_eq(data_mode("tls.crt"), 0600);
    ck_assert_msg(remote_call(url_buf, pin, NULL, "system.ping", NULL, &err) == HP_OK, "%s",
                  err.message);
    /* The pair is kept: a restart serves the same key, so clients keep their pin. */
    hpt_server_signal_and_wait(SIGTERM, 10000);
    hpt_server_start();
    again = data_line("tls.pin");
    ck_assert_str_eq(again, pin);
    ck_assert_msg(remote_call(url_buf, pin, NULL, "system.ping", NULL, &err) == HP_OK, "%s",
                  err.message);
    free(again);
    free(pin);
}
END_TEST

START_TEST(a_wrong_pin_is_refused_before_the_request_is_sent)
{
    hp_error err;
    cJSON *runs;
    char plain[96];

    start_https("--tls-self-signed", NULL);
    ck_assert_int_eq(remote_call(url_buf, WRONG_PIN, NULL, "run.submit",
                                 hpt_jsonf("{\"name\":\"never\",\"actions\":[{\"name\":\"a\","
                                           "\"command\":\"true\"}]}"),
                                 &err),
                     HP_E_CONNECT);
    ck_assert_msg(strstr(err.message, "pin") && strstr(err.message, "nothing was sent"), "%s",
                  err.message);
    /* Without a pin or a CA the system's CAs do not know the daemon's own certificate. */
    ck_assert_int_ne(remote_call(url_buf, NULL, NULL, "system.ping", NULL, &err), HP_OK);
    /* Nor does plain HTTP reach the TLS port. */
    snprintf(plain, sizeof(plain), "http://%s", addr_buf);
    ck_assert_int_ne(remote_call(plain, NULL, NULL, "system.ping", NULL, &err), HP_OK);
    runs = hpt_ok("run.list", NULL);
    ck_assert_msg(!hpt_json_contains(runs, "never"), "the refused run.submit reached the server");
    cJSON_Delete(runs);
}
END_TEST

/* ---- a CA and a server certificate it signed ---------------------------------------- */

static void write_datum(const char *name, const gnutls_datum_t *d)
{
    char *path = hpt_path(name);
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(d->data, 1, d->size, f), d->size);
    fclose(f);
    free(path);
}

static void make_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, int is_ca,
                      unsigned char serial)
{
    time_t now = time(NULL);
    const char *cn = is_ca ? "test CA" : "127.0.0.1";
    unsigned char ip[4];

    inet_pton(AF_INET, "127.0.0.1", ip);
    ck_assert_int_eq(gnutls_x509_privkey_generate(
                         key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                     0);
    ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, &serial, 1), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, now - 3600), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, now + 86400), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                                   (unsigned)strlen(cn)),
                     0);
    ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(crt, is_ca, -1), 0);
    if (is_ca) {
        ck_assert_int_eq(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN), 0);
    } else {
        ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip,
                                                              sizeof(ip), GNUTLS_FSAN_APPEND),
                         0);
        ck_assert_int_eq(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
    }
}

/* ca.crt, srv.crt and srv.key in the test's directory. */
static void make_ca_signed_pair(void)
{
    gnutls_x509_privkey_t ca_key, key;
    gnutls_x509_crt_t ca, crt;
    gnutls_datum_t d;

    ck_assert_int_eq(gnutls_x509_privkey_init(&ca_key), 0);
    ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
    ck_assert_int_eq(gnutls_x509_crt_init(&ca), 0);
    ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
    make_cert(ca, ca_key, 1, 1);
    ck_assert_int_eq(gnutls_x509_crt_sign2(ca, ca, ca_key, GNUTLS_DIG_SHA256, 0), 0);
    make_cert(crt, key, 0, 2);
    ck_assert_int_eq(gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0), 0);
    ck_assert_int_eq(gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &d), 0);
    write_datum("ca.crt", &d);
    gnutls_free(d.data);
    ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
    write_datum("srv.crt", &d);
    gnutls_free(d.data);
    ck_assert_int_eq(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), 0);
    write_datum("srv.key", &d);
    gnutls_free(d.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_privkey_deinit(key);
    gnutls_x509_privkey_deinit(ca_key);
}

START_TEST(a_certificate_from_a_ca_is_verified_against_the_ca_file)
{
    char *cert = hpt_path("srv.crt"), *key = hpt_path("srv.key"), *ca = hpt_path("ca.crt");
    hp_error err;

    make_ca_signed_pair();
    hpt_server_signal_and_wait(SIGTERM, 10000);
    {
        int port = hpt_free_port();
        snprintf(addr_buf, sizeof(addr_buf), "127.0.0.1:%d", port);
        snprintf(url_buf, sizeof(url_buf), "https://127.0.0.1:%d", port);
    }
    /* --http ADDR --tls-cert FILE --tls-key FILE: four arguments. */
    hpt_server_extra_args("--http", addr_buf);
    {
        char cert_arg[4300], key_arg[4300];
        snprintf(cert_arg, sizeof(cert_arg), "--tls-cert=%s", cert);
        snprintf(key_arg, sizeof(key_arg), "--tls-key=%s", key);
        hpt_server_more_args(cert_arg, key_arg);
    }
    hpt_server_start();
    ck_assert_msg(remote_call(url_buf, NULL, ca, "system.ping", NULL, &err) == HP_OK, "%s",
                  err.message);
    /* The system's CAs never signed it. */
    ck_assert_int_ne(remote_call(url_buf, NULL, NULL, "system.ping", NULL, &err), HP_OK);
    free(cert);
    free(key);
    free(ca);
}
END_TEST

/* ---- plain HTTP off the loopback ----------------------------------------------------- */

static int run_server(const char *err_name, char *const args[])
{
    char *err_path = hpt_path(err_name);
    pid_t pid = fork();
    int status;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *f = freopen(err_path, "w", stderr);
        if (!f)
            _exit(126);
        execv(hpt_server_binary(), args);
        _exit(127);
    }
    free(err_path);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "the server died of signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

START_TEST(plain_http_on_every_address_needs_insecure_http)
{
    char *sock = hpt_path("any.sock"), *data = hpt_path("any-data"), *err;
    char addr[64];
    char *args[] = {(char *)(uintptr_t) "hero_proc_server",
                    (char *)(uintptr_t) "--socket",
                    sock,
                    (char *)(uintptr_t) "--data-dir",
                    data,
                    (char *)(uintptr_t) "--http",
                    addr,
                    (char *)(uintptr_t) "--http-allow-remote",
                    NULL};
    hp_error e;
    char url[96];
    int port = hpt_free_port();

    snprintf(addr, sizeof(addr), "0.0.0.0:%d", port);
    ck_assert_int_eq(run_server("any.err", args), 100);
    err = hpt_read("any.err");
    ck_assert_msg(strstr(err, "not a loopback address") && strstr(err, "--insecure-http") &&
                      strstr(err, "--tls-self-signed"),
                  "stderr: %s", err);
    free(err);
    /* The operator insists: it serves, plain. */
    hpt_server_signal_and_wait(SIGTERM, 10000);
    hpt_server_extra_args("--http", addr);
    hpt_server_more_args("--insecure-http", NULL);
    hpt_server_start();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    ck_assert_msg(remote_call(url, NULL, NULL, "system.ping", NULL, &e) == HP_OK, "%s", e.message);
    free(sock);
    free(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("server_tls");
    TCase *tc = tcase_create("tls");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_self_signed_certificate_is_trusted_by_its_pin);
    tcase_add_test(tc, a_wrong_pin_is_refused_before_the_request_is_sent);
    tcase_add_test(tc, a_certificate_from_a_ca_is_verified_against_the_ca_file);
    tcase_add_test(tc, plain_http_on_every_address_needs_insecure_http);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
