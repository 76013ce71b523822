/* SPDX-License-Identifier: Apache-2.0 */
/* The contexts file as a user meets it: contexts added, saved and read back the same;
 * the endpoint a command then talks to (by --context, HERO_PROC_CONTEXT, the current
 * one, and the implicit local); and every bad file (missing, unreadable, not JSON,
 * unknown keys) refused with a message that names the file. */
#include "config.h"

#include "check_common.h"
#include "client/context.h"
#include "client/endpoint.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *file;

static void setup(void)
{
    char *cfg;

    hp_test_tmpdir_setup();
    cfg = hp_test_join(hp_test_tmpdir(), "config");
    setenv("XDG_CONFIG_HOME", cfg, 1);
    free(cfg);
    unsetenv("HERO_PROC_CONTEXT");
    unsetenv("HERO_PROC_SOCKET");
    unsetenv("HERO_PROC_URL");
    unsetenv("HERO_PROC_TOKEN");
    unsetenv("HERO_PROC_PIN");
    unsetenv("HERO_PROC_CACERT");
    file = hp_test_join(hp_test_tmpdir(), "config/hero_proc/contexts.json");
}

static void teardown(void)
{
    free(file);
    hp_test_tmpdir_teardown();
}

static void write_text(const char *path, const char *text)
{
    FILE *f;
    char *dir = hp_test_join(hp_test_tmpdir(), "config");

    mkdir(dir, 0700);
    free(dir);
    dir = hp_test_join(hp_test_tmpdir(), "config/hero_proc");
    mkdir(dir, 0700);
    free(dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(contexts_added_are_read_back_the_same)
{
    hp_contexts all, again;
    hp_context edge = {
        .name = (char *)(uintptr_t) "edge-1",
        .url = (char *)(uintptr_t) "https://10.0.0.5:8443",
        .token_file = (char *)(uintptr_t) "/etc/hp/edge.tok",
        .pin = (char *)(uintptr_t) "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        .cacert = (char *)(uintptr_t) "/etc/hp/ca.pem"};
    hp_context lab = {.name = (char *)(uintptr_t) "lab",
                      .socket = (char *)(uintptr_t) "/run/hp/rpc.sock"};
    hp_error err;
    struct stat st;

    ck_assert_int_eq(hp_contexts_load(NULL, 0, &all, &err), HP_OK);
    ck_assert_str_eq(all.path, file);
    ck_assert_uint_eq(all.count, 0);
    ck_assert_int_eq(hp_contexts_add(&all, &edge, &err), HP_OK);
    ck_assert_int_eq(hp_contexts_add(&all, &lab, &err), HP_OK);
    ck_assert_int_eq(hp_contexts_add(&all, &lab, &err), HP_E_CONFLICT);
    all.current = strdup("lab");
    ck_assert_int_eq(hp_contexts_save(&all, &err), HP_OK);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);

    ck_assert_int_eq(hp_contexts_load(NULL, 1, &again, &err), HP_OK);
    ck_assert_uint_eq(again.count, 2);
    ck_assert_str_eq(again.current, "lab");
    ck_assert_str_eq(hp_contexts_find(&again, "edge-1")->url, edge.url);
    ck_assert_str_eq(hp_contexts_find(&again, "edge-1")->token_file, edge.token_file);
    ck_assert_str_eq(hp_contexts_find(&again, "edge-1")->pin, edge.pin);
    ck_assert_str_eq(hp_contexts_find(&again, "edge-1")->cacert, edge.cacert);
    ck_assert_str_eq(hp_contexts_find(&again, "lab")->socket, lab.socket);
    ck_assert_ptr_null(hp_contexts_find(&again, "lab")->url);
    ck_assert_int_eq(hp_contexts_remove(&again, "lab", &err), HP_OK);
    ck_assert_ptr_null(again.current); /* back to local */
    ck_assert_int_eq(hp_contexts_remove(&again, "lab", &err), HP_E_NOT_FOUND);
    hp_contexts_clear(&again);
    hp_contexts_clear(&all);
}
END_TEST

START_TEST(the_endpoint_follows_the_context_asked_for)
{
    hp_endpoint ep;
    hp_endpoint_flags f = {0};
    hp_error err;
    char *tok = hp_test_join(hp_test_tmpdir(), "edge.tok"), text[4300];

    write_text(tok, "s3cr3t\n");
    snprintf(text, sizeof(text),
             "{\"current\": \"lab\", \"contexts\": ["
             "{\"name\": \"edge\", \"url\": \"https://10.0.0.5:8443\", \"token_file\": \"%s\","
             " \"pin\": \"sha256//xyz=\"},"
             "{\"name\": \"lab\", \"socket\": \"/run/lab.sock\"}]}",
             tok);
    write_text(file, text);

    /* Nothing asked: the current context. */
    ck_assert_int_eq(hp_endpoint_resolve_flags(NULL, &ep, &err), HP_OK);
    ck_assert_str_eq(ep.socket_path, "/run/lab.sock");
    ck_assert_str_eq(ep.context, "lab");
    hp_endpoint_clear(&ep);
    /* --context: the URL with its token and pin. */
    f.context = "edge";
    ck_assert_int_eq(hp_endpoint_resolve_flags(&f, &ep, &err), HP_OK);
    ck_assert_str_eq(ep.url, "https://10.0.0.5:8443");
    ck_assert_str_eq(ep.token, "s3cr3t");
    ck_assert_str_eq(ep.pin, "sha256//xyz=");
    ck_assert_str_eq(ep.source, "--context");
    hp_endpoint_clear(&ep);
    /* --pin on the command line wins over the context's. */
    f.pin = "sha256//other=";
    ck_assert_int_eq(hp_endpoint_resolve_flags(&f, &ep, &err), HP_OK);
    ck_assert_str_eq(ep.pin, "sha256//other=");
    hp_endpoint_clear(&ep);
    /* HERO_PROC_CONTEXT over the current one; local is the default socket. */
    setenv("HERO_PROC_CONTEXT", "edge", 1);
    ck_assert_int_eq(hp_endpoint_resolve_flags(NULL, &ep, &err), HP_OK);
    ck_assert_str_eq(ep.url, "https://10.0.0.5:8443");
    hp_endpoint_clear(&ep);
    setenv("HERO_PROC_CONTEXT", "local", 1);
    ck_assert_int_eq(hp_endpoint_resolve_flags(NULL, &ep, &err), HP_OK);
    ck_assert_str_eq(ep.context, "local");
    ck_assert_ptr_nonnull(strstr(ep.socket_path, "hero_proc/rpc.sock"));
    hp_endpoint_clear(&ep);
    /* --context with --socket is a usage error; an unknown name says where it looked. */
    f = (hp_endpoint_flags){.context = "edge", .socket_path = "/x.sock"};
    ck_assert_int_eq(hp_endpoint_resolve_flags(&f, &ep, &err), HP_E_USAGE);
    f = (hp_endpoint_flags){.context = "nowhere"};
    ck_assert_int_eq(hp_endpoint_resolve_flags(&f, &ep, &err), HP_E_USAGE);
    ck_assert_msg(strstr(err.message, "nowhere") && strstr(err.message, file), "%s", err.message);
    free(tok);
}
END_TEST

/* The error of --context edge with the file as it is: it must name the file. */
static void assert_refused(const char *why, const char *expect)
{
    hp_endpoint ep;
    hp_endpoint_flags f = {.context = "edge"};
    hp_error err;
    hp_contexts all;

    ck_assert_msg(hp_endpoint_resolve_flags(&f, &ep, &err) != HP_OK, "%s accepted", why);
    ck_assert_msg(strstr(err.message, file) != NULL, "%s: '%s' does not name %s", why, err.message,
                  file);
    ck_assert_msg(strstr(err.message, expect) != NULL, "%s: '%s' does not say '%s'", why,
                  err.message, expect);
    /* Without a context asked, a bad file is an error too (a missing one is not). */
    ck_assert_int_ne(hp_contexts_load(NULL, 0, &all, &err), HP_OK);
}

START_TEST(bad_files_are_refused_naming_the_file)
{
    hp_endpoint ep;
    hp_endpoint_flags f = {.context = "edge"};
    hp_error err;

    /* Missing: only an error when a context is asked for. */
    ck_assert_int_eq(hp_endpoint_resolve_flags(&f, &ep, &err), HP_E_SYSTEM);
    ck_assert_msg(strstr(err.message, file) && strstr(err.message, "no contexts file"), "%s",
                  err.message);
    ck_assert_int_eq(hp_endpoint_resolve_flags(NULL, &ep, &err), HP_OK);
    ck_assert_str_eq(ep.context, "local");
    hp_endpoint_clear(&ep);

    write_text(file, "{\"contexts\": [{\"name\": \"edge\", \"url\": ");
    assert_refused("invalid JSON", "not a JSON object");
    write_text(file, "{\"contexts\": [], \"default\": \"edge\"}");
    assert_refused("an unknown key at the top", "unknown key \"default\"");
    write_text(file, "{\"contexts\": [{\"name\": \"edge\", \"url\": \"https://h\", \"tokn\": "
                     "\"/t\"}]}");
    assert_refused("an unknown key in a context", "unknown key \"tokn\"");
    write_text(file, "{\"contexts\": [{\"name\": \"edge\", \"url\": \"https://h\", \"socket\": "
                     "\"/s\"}]}");
    assert_refused("both url and socket", "exactly one of");
    /* Unreadable: a directory where the file should be (the tests may run as root, who
     * reads any mode). */
    remove(file);
    ck_assert_int_eq(mkdir(file, 0700), 0);
    assert_refused("an unreadable file", "cannot read the contexts file");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("contexts");
    TCase *tc = tcase_create("file");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, contexts_added_are_read_back_the_same);
    tcase_add_test(tc, the_endpoint_follows_the_context_asked_for);
    tcase_add_test(tc, bad_files_are_refused_naming_the_file);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
