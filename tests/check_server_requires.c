/* SPDX-License-Identifier: Apache-2.0 */
/* Services that require other services, on a real hero_proc_server: a chain started in
 * order (each only once what it requires runs, healthy when probed), a cycle across
 * services and an unknown service refused at service.set, stop and delete of a required
 * service refused without cascade and done with it, and the boot's autostart in order. */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEADLINE_MS = 20000, INVALID_PARAMS = -32602, CONFLICT = -32001 };

/* service.set of {name, wanted (NULL = omitted), requires (a JSON array text, NULL =
 * none), the one action taken}; returns the error code (0 on success). */
static int set_service(const char *name, const char *wanted, const char *requires, cJSON *action)
{
    cJSON *params = cJSON_CreateObject();
    cJSON *config = cJSON_AddObjectToObject(params, "config");
    cJSON *r;
    int code = 0;

    cJSON_AddStringToObject(config, "name", name);
    if (wanted)
        cJSON_AddStringToObject(config, "wanted", wanted);
    if (requires)
        cJSON_AddItemToObject(config, "requires", hpt_jsonf("%s", requires));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(config, "actions"), action);
    r = hpt_call("service.set", params, &code);
    cJSON_Delete(r);
    return code;
}

static cJSON *restart_always(cJSON *action)
{
    cJSON_AddStringToObject(action, "restart", "always");
    return action;
}

/* The chain of the tests, a requires b requires c. Probed, c becomes healthy a second
 * after it starts (when it writes c.ready), and b refuses to run (exit 1, then a restart
 * the test sees) when c.ready is not there yet. */
static void set_chain(const char *wanted, int probed)
{
    cJSON *c = restart_always(
        hpt_script("main", probed ? "sleep 1; touch c.ready; exec sleep 1000" : "exec sleep 1000"));

    if (probed)
        cJSON_AddItemToObject(c, "probe",
                              hpt_jsonf("{\"exec\":\"test -f c.ready\",\"interval_ms\":100,"
                                        "\"retries\":1}"));
    ck_assert_int_eq(set_service("c", wanted, NULL, c), 0);
    ck_assert_int_eq(set_service("b", wanted, "[\"c\"]",
                                 restart_always(hpt_script(
                                     "main", probed ? "test -f c.ready || exit 1; exec sleep 1000"
                                                    : "exec sleep 1000"))),
                     0);
    ck_assert_int_eq(
        set_service("a", wanted, "[\"b\"]", restart_always(hpt_script("main", "exec sleep 1000"))),
        0);
}

static int running(const char *service)
{
    cJSON *st = hpt_ok("service.status", hpt_name(service));
    int ok = strcmp(hpt_str(st, "status"), "running") == 0 &&
             cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "jobs")) > 0;
    const cJSON *job = ok ? hpt_job_of(st, "main") : NULL;

    ok = ok && strcmp(hpt_str(job, "status"), "running") == 0 && hpt_int_or0(job, "pid") > 0;

    cJSON_Delete(st);
    return ok;
}

static int service_runs(void *ud)
{
    return running(ud);
}

static int chain_running(void *ud)
{
    (void)ud;
    return running("a") && running("b") && running("c");
}

/* started_at_ms and restarts of the service's job "main". */
static int64_t started_at(const char *service, int64_t *restarts)
{
    cJSON *st = hpt_ok("service.status", hpt_name(service));
    const cJSON *job = hpt_job_of(st, "main");
    int64_t at = hpt_int(job, "started_at_ms");

    if (restarts)
        *restarts = hpt_int(job, "restarts");
    cJSON_Delete(st);
    return at;
}

/* Each of the chain started once, c before b before a (a started one would have failed
 * its check and restarted). */
static void assert_started_in_order(int64_t gap_ms)
{
    int64_t ra, rb, rc;
    int64_t ta = started_at("a", &ra), tb = started_at("b", &rb), tc = started_at("c", &rc);

    ck_assert_int_eq(ra + rb + rc, 0);
    ck_assert_int_le(tc + gap_ms, tb);
    ck_assert_int_le(tb, ta);
}

START_TEST(starting_a_service_starts_what_it_requires_first_in_order)
{
    cJSON *run;

    set_chain(NULL, 0);
    run = hpt_ok("service.start", hpt_name("a"));
    cJSON_Delete(run);
    ck_assert_msg(hpt_wait_until(chain_running, NULL, DEADLINE_MS), "the chain did not run");
    assert_started_in_order(0);
    /* What a's start started is wanted started, as if it had been started by hand. */
    run = hpt_ok("service.get", hpt_name("c"));
    ck_assert_str_eq(hpt_str(run, "wanted"), "start");
    cJSON_Delete(run);
}
END_TEST

START_TEST(a_probed_requirement_is_waited_for_until_healthy)
{
    set_chain(NULL, 1);
    cJSON_Delete(hpt_ok("service.start", hpt_name("a")));
    ck_assert_msg(hpt_wait_until(chain_running, NULL, DEADLINE_MS), "the chain did not run");
    /* c ran a second before its probe passed: b waited that second. */
    assert_started_in_order(1000);
}
END_TEST

static int failed(void *ud)
{
    cJSON *st = hpt_ok("service.status", hpt_name(ud));
    int ok = strcmp(hpt_str(st, "status"), "failed") == 0;

    cJSON_Delete(st);
    return ok;
}

START_TEST(a_requirement_that_fails_skips_the_dependant_naming_it)
{
    char b[] = "b";
    cJSON *st;
    const cJSON *job;

    ck_assert_int_eq(set_service("c", NULL, NULL, hpt_script("main", "exit 3")), 0);
    ck_assert_int_eq(set_service("b", NULL, "[\"c\"]", hpt_script("main", "touch b.ran")), 0);
    cJSON_Delete(hpt_ok("service.start", hpt_name("b")));
    ck_assert_msg(hpt_wait_until(failed, b, DEADLINE_MS), "b did not fail");
    st = hpt_ok("service.status", hpt_name("b"));
    job = hpt_job_of(st, "main");
    ck_assert_str_eq(hpt_str(job, "status"), "skipped");
    ck_assert_str_eq(hpt_str(job, "error"), "required service 'c' failed");
    cJSON_Delete(st);
    ck_assert_ptr_null(hpt_read("b.ran"));
}
END_TEST

START_TEST(a_cycle_across_services_is_refused_with_its_path)
{
    const cJSON *details, *d;

    ck_assert_int_eq(set_service("c", NULL, NULL, hpt_command("main", "sleep 1000")), 0);
    ck_assert_int_eq(set_service("b", NULL, "[\"c\"]", hpt_command("main", "sleep 1000")), 0);
    ck_assert_int_eq(set_service("a", NULL, "[\"b\"]", hpt_command("main", "sleep 1000")), 0);
    ck_assert_int_eq(set_service("c", NULL, "[\"a\"]", hpt_command("main", "sleep 1000")),
                     INVALID_PARAMS);
    ck_assert_msg(strstr(hpt_error_message(), "requires cycle: c -> a -> b -> c"), "%s",
                  hpt_error_message());
    details = cJSON_GetObjectItemCaseSensitive(hpt_error_data(), "details");
    d = cJSON_GetArrayItem(details, 0);
    ck_assert_str_eq(hpt_str(d, "code"), "dep_cycle");
    ck_assert_str_eq(hpt_str(d, "path"), "/config/requires/0");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "cycle")), 3);

    ck_assert_int_eq(set_service("x", NULL, "[\"x\"]", hpt_command("main", "sleep 1000")),
                     INVALID_PARAMS);
    ck_assert_msg(strstr(hpt_error_message(), "requires cycle: x -> x"), "%s", hpt_error_message());
    ck_assert_int_eq(set_service("x", NULL, "[\"nope\"]", hpt_command("main", "sleep 1000")),
                     INVALID_PARAMS);
    ck_assert_msg(strstr(hpt_error_message(), "requires unknown service 'nope'"), "%s",
                  hpt_error_message());
    /* Nothing was stored by the refusals: c still requires nothing. */
    {
        cJSON *c = hpt_ok("service.get", hpt_name("c"));
        ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(c, "requires"));
        cJSON_Delete(c);
    }
}
END_TEST

static int inactive(void *ud)
{
    cJSON *st = hpt_ok("service.status", hpt_name(ud));
    int ok = strcmp(hpt_str(st, "status"), "inactive") == 0;

    cJSON_Delete(st);
    return ok;
}

START_TEST(stopping_a_required_service_needs_cascade)
{
    int code = 0;
    cJSON *r;

    set_chain(NULL, 0);
    cJSON_Delete(hpt_ok("service.start", hpt_name("a")));
    ck_assert(hpt_wait_until(chain_running, NULL, DEADLINE_MS));

    r = hpt_call("service.stop", hpt_name("c"), &code);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(code, CONFLICT);
    ck_assert_str_eq(hpt_error_message(), "cannot stop service 'c': running services 'b', 'a' "
                                          "require it; stop them first or pass cascade");
    ck_assert(hpt_json_contains(hpt_error_data(), "\"dependants\""));
    ck_assert(chain_running(NULL));

    /* Deleting it is refused too, naming them. */
    ck_assert_ptr_null(hpt_call("service.delete", hpt_name("b"), &code));
    ck_assert_int_eq(code, CONFLICT);
    ck_assert_str_eq(hpt_error_message(),
                     "cannot delete service 'b': service 'a' requires it; delete it first or "
                     "pass cascade");

    r = hpt_jsonf("{\"name\":\"c\",\"cascade\":true}");
    cJSON_Delete(hpt_ok("service.stop", r));
    {
        char a[] = "a", b[] = "b", c[] = "c";
        ck_assert(hpt_wait_until(inactive, a, DEADLINE_MS));
        ck_assert(hpt_wait_until(inactive, b, DEADLINE_MS));
        ck_assert(hpt_wait_until(inactive, c, DEADLINE_MS));
    }
    r = hpt_ok("service.get", hpt_name("a"));
    ck_assert_str_eq(hpt_str(r, "wanted"), "stop");
    cJSON_Delete(r);

    /* A stopped dependant does not hold a stop back. */
    cJSON_Delete(hpt_ok("service.start", hpt_name("b")));
    {
        char b[] = "b";
        ck_assert(hpt_wait_until(service_runs, b, DEADLINE_MS));
    }
    cJSON_Delete(hpt_ok("service.delete", hpt_jsonf("{\"name\":\"b\",\"cascade\":true}")));
    ck_assert_ptr_null(hpt_call("service.get", hpt_name("a"), &code));
    ck_assert_int_eq(code, -32000);
    cJSON_Delete(hpt_ok("service.stop", hpt_name("c")));
}
END_TEST

START_TEST(the_boot_starts_wanted_services_in_required_order)
{
    set_chain("start", 0);
    /* service.set starts nothing: the restart of the daemon does, in order. */
    ck_assert(!running("c"));
    ck_assert_int_eq(hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS), 0);
    hpt_server_start();
    ck_assert_msg(hpt_wait_until(chain_running, NULL, DEADLINE_MS), "the chain did not run");
    assert_started_in_order(0);
}
END_TEST

static Suite *server_requires_suite(void)
{
    Suite *s = suite_create("server_requires");
    TCase *tc = tcase_create("server_requires");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, starting_a_service_starts_what_it_requires_first_in_order);
    tcase_add_test(tc, a_probed_requirement_is_waited_for_until_healthy);
    tcase_add_test(tc, a_requirement_that_fails_skips_the_dependant_naming_it);
    tcase_add_test(tc, a_cycle_across_services_is_refused_with_its_path);
    tcase_add_test(tc, stopping_a_required_service_needs_cascade);
    tcase_add_test(tc, the_boot_starts_wanted_services_in_required_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(server_requires_suite());
}
