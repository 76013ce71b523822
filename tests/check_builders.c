/* SPDX-License-Identifier: Apache-2.0 */
/* The builders of hero_proc_factory offline (no server, no client): every validation rule
 * with the exact sentence naming the service or run and the action, the sticky first
 * error, the dependency order, and the designated-initializer shortcut. save/start
 * against a real server are check_factory's. */
#include "config.h"

#include "builders/builder.h"
#include "check_common.h"
#include "client/sdk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hp_error E;

/* Builds rb, which must fail validation with message; returns its problems. */
static const hp_problems *run_fails(hp_run_builder *rb, const char *message)
{
    hp_action_spec *actions = (hp_action_spec *)1;
    size_t n = 99;

    hp_error_clear(&E);
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_E_VALIDATION);
    ck_assert_str_eq(E.message, message);
    ck_assert_ptr_null(actions);
    ck_assert_uint_eq(n, 0);
    return hp_run_builder_problems(rb);
}

static const hp_problems *service_fails(hp_service_builder *sb, const char *message)
{
    hp_service_config cfg;

    hp_error_clear(&E);
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_E_VALIDATION);
    ck_assert_str_eq(E.message, message);
    ck_assert_ptr_null(cfg.actions);
    return hp_service_builder_problems(sb);
}

/* The problems list holds exactly the given sentences, in order (NULL-terminated). */
static void problems_are(const hp_problems *pb, ...) __attribute__((sentinel));

static void problems_are(const hp_problems *pb, ...)
{
    va_list ap;
    size_t i = 0;

    va_start(ap, pb);
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *)) {
        ck_assert_msg(i < pb->count, "missing problem %zu: %s", i, want);
        ck_assert_str_eq(pb->items[i], want);
        i++;
    }
    va_end(ap);
    ck_assert_msg(i == pb->count, "%zu problems, expected %zu; extra: %s", pb->count, i,
                  pb->count > i ? pb->items[i] : "");
}

static hp_action *script(hp_run_builder *rb, const char *name, const char *text)
{
    hp_action *a = hp_run_builder_action(rb, name);

    hp_action_script(a, text);
    return a;
}

/* The names of the built actions, "a,b,c". */
static char *names_of(const hp_action_spec *actions, size_t n)
{
    static char buf[512];

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, actions[i].name);
    }
    return buf;
}

static char *service_json(const hp_service_config *cfg)
{
    cJSON *j = hp_service_config_to_json(cfg);
    char *s;

    ck_assert_ptr_nonnull(j);
    s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ck_assert_ptr_nonnull(s);
    return s;
}

static char *actions_json(const hp_action_spec *actions, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    char *s;

    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, hp_action_spec_to_json(&actions[i]));
    s = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* ---- ordering ----------------------------------------------------------------------- */

START_TEST(run_builder_orders_dependencies_first_with_ties_by_insertion_order)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action_spec *actions;
    size_t n;

    hp_action_depends_on(script(rb, "deploy", "echo deploy"), "test", "lint", NULL);
    hp_action_depends_on(script(rb, "test", "echo test"), "build", NULL);
    script(rb, "lint", "echo lint");
    script(rb, "build", "echo build");
    hp_action_depends_on(script(rb, "docs", "echo docs"), "build", NULL);
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_OK);
    /* lint and build are ready first; once build is done, test (inserted before docs)
     * goes before docs; deploy waits for both of its dependencies. */
    ck_assert_str_eq(names_of(actions, n), "lint,build,test,deploy,docs");
    ck_assert_uint_eq(hp_run_builder_problems(rb)->count, 0);
    hp_actions_free(actions, n);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(ready_actions_go_by_insertion_order_not_by_when_they_became_ready)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action_spec *actions;
    size_t n;

    script(rb, "a", "true");
    hp_action_depends_on(script(rb, "b", "true"), "a", NULL);
    script(rb, "c", "true");
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_OK);
    ck_assert_str_eq(names_of(actions, n), "a,b,c");
    hp_actions_free(actions, n);
    /* The same input builds the same order every time. */
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_OK);
    ck_assert_str_eq(names_of(actions, n), "a,b,c");
    hp_actions_free(actions, n);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(service_builder_builds_the_config_with_its_fields_and_ordered_actions)
{
    hp_service_builder *sb = hp_service_builder_new(NULL, "myapp");
    hp_service_config cfg;
    hp_action *a;

    hp_service_builder_description(sb, "Web service");
    hp_service_builder_wanted_start(sb, 7);
    a = hp_service_builder_action(sb, "start");
    hp_action_script(a, "python app.py");
    hp_action_depends_on(a, "prepare", NULL);
    hp_action_restart_always(a);
    a = hp_service_builder_action(sb, "prepare");
    hp_action_script(a, "python setup.py");
    hp_action_cwd(a, "/srv/myapp");
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_OK);
    ck_assert_str_eq(cfg.name, "myapp");
    ck_assert_str_eq(cfg.description, "Web service");
    ck_assert_int_eq(cfg.wanted_start, 1);
    ck_assert_uint_eq(cfg.n_actions, 2);
    ck_assert_str_eq(cfg.actions[0].name, "prepare");
    ck_assert_str_eq(cfg.actions[0].cwd, "/srv/myapp");
    ck_assert_str_eq(cfg.actions[1].name, "start");
    ck_assert_int_eq(cfg.actions[1].restart, HP_RESTART_ALWAYS);
    hp_service_config_free(&cfg);
    hp_service_builder_free(sb);
}
END_TEST

/* ---- validation rules ----------------------------------------------------------------- */

START_TEST(run_builder_rejects_duplicate_action_names)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");

    script(rb, "build", "make");
    script(rb, "build", "make again");
    problems_are(run_fails(rb, "run 'ci': duplicate action name 'build'"),
                 "run 'ci': duplicate action name 'build'", NULL);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(run_builder_rejects_an_unknown_dependency_naming_the_action)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");

    script(rb, "build", "make");
    hp_action_depends_on(script(rb, "test", "make check"), "biuld", NULL);
    problems_are(run_fails(rb, "run 'ci': action 'test' depends on unknown action 'biuld'"),
                 "run 'ci': action 'test' depends on unknown action 'biuld'", NULL);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(run_builder_rejects_a_cycle_as_its_path)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");

    hp_action_depends_on(script(rb, "a", "true"), "b", NULL);
    hp_action_depends_on(script(rb, "b", "true"), "a", NULL);
    problems_are(run_fails(rb, "run 'ci': dependency cycle: a -> b -> a"),
                 "run 'ci': dependency cycle: a -> b -> a", NULL);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(a_longer_cycle_starts_at_its_earliest_action_and_a_self_dependency_is_a_to_a)
{
    hp_service_builder *sb = hp_service_builder_new(NULL, "api");
    hp_action *a;

    a = hp_service_builder_action(sb, "first");
    hp_action_script(a, "true");
    hp_action_depends_on(a, "first", NULL);
    a = hp_service_builder_action(sb, "x");
    hp_action_script(a, "true");
    hp_action_depends_on(a, "z", NULL);
    a = hp_service_builder_action(sb, "y");
    hp_action_script(a, "true");
    hp_action_depends_on(a, "x", NULL);
    a = hp_service_builder_action(sb, "z");
    hp_action_script(a, "true");
    hp_action_depends_on(a, "y", NULL);
    problems_are(service_fails(sb, "service 'api': dependency cycle: first -> first "
                                   "(and 1 more problem)"),
                 "service 'api': dependency cycle: first -> first",
                 "service 'api': dependency cycle: x -> z -> y -> x", NULL);
    hp_service_builder_free(sb);
}
END_TEST

START_TEST(an_action_needs_exactly_one_of_script_and_command)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action *both = hp_run_builder_action(rb, "both");

    hp_action_script(both, "echo hi");
    hp_action_command(both, "echo hi");
    hp_run_builder_action(rb, "neither");
    hp_action_command(hp_run_builder_action(rb, "quote"), "echo 'unterminated");
    hp_action_script(hp_run_builder_action(rb, "blank"), "   ");
    problems_are(run_fails(rb, "run 'ci': action 'both' has both script and command; give "
                               "exactly one (and 3 more problems)"),
                 "run 'ci': action 'both' has both script and command; give exactly one",
                 "run 'ci': action 'neither' has neither script nor command",
                 "run 'ci': action 'quote': command cannot be split: unterminated quote",
                 "run 'ci': action 'blank': script is empty", NULL);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(numeric_bounds_are_checked_and_every_problem_is_listed)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action *a = script(rb, "slow", "sleep 1");
    hp_action *b = script(rb, "edge", "true");

    hp_action_timeout_secs(a, HP_TIMEOUT_MAX_SECS + 1);
    hp_action_retry(a, -1);
    hp_action_retry_delay_ms(a, HP_RETRY_DELAY_MAX_MS + 1);
    hp_action_timeout_secs(b, -1);
    hp_action_retry(b, HP_RETRY_MAX + 1);
    hp_action_retry_delay_ms(b, -5);
    problems_are(run_fails(rb, "run 'ci': action 'slow': timeout_secs must be between 0 and "
                               "604800 (and 5 more problems)"),
                 "run 'ci': action 'slow': timeout_secs must be between 0 and 604800",
                 "run 'ci': action 'slow': retry must be between 0 and 100",
                 "run 'ci': action 'slow': retry_delay_ms must be between 0 and 3600000",
                 "run 'ci': action 'edge': timeout_secs must be between 0 and 604800",
                 "run 'ci': action 'edge': retry must be between 0 and 100",
                 "run 'ci': action 'edge': retry_delay_ms must be between 0 and 3600000", NULL);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(the_bounds_themselves_are_accepted)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action *a = script(rb, "max", "true");
    hp_action *b = script(rb, "zero", "true");
    hp_action_spec *actions;
    size_t n;

    hp_action_timeout_secs(a, HP_TIMEOUT_MAX_SECS);
    hp_action_retry(a, HP_RETRY_MAX);
    hp_action_retry_delay_ms(a, HP_RETRY_DELAY_MAX_MS);
    hp_action_restart_on_failure(a);
    hp_action_timeout_secs(b, 0);
    hp_action_retry(b, 0);
    hp_action_retry_delay_ms(b, 0);
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_OK);
    ck_assert_int_eq(actions[0].timeout_secs, HP_TIMEOUT_MAX_SECS);
    ck_assert_int_eq(actions[0].retry, HP_RETRY_MAX);
    ck_assert_int_eq(actions[0].retry_delay_ms, HP_RETRY_DELAY_MAX_MS);
    ck_assert_int_eq(actions[0].restart, HP_RESTART_ON_FAILURE);
    hp_actions_free(actions, n);
    hp_run_builder_free(rb);
}
END_TEST

/* The probe setters: numbers set before the kind are kept, the rest take the defaults, a
 * later kind replaces the earlier one, and the server's rules apply. */
START_TEST(probe_setters_build_the_probe_and_its_mistakes_are_problems)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action *a = script(rb, "web", "sleep 100");
    hp_action *b = script(rb, "bad", "sleep 100");
    hp_action_spec *actions;
    size_t n;

    hp_action_probe_retries(a, 7);
    hp_action_probe_exec(a, "true");
    hp_action_probe_http(a, "http://127.0.0.1:8080/health");
    hp_action_probe_start_grace_ms(a, 1500);
    hp_action_restart_on_failure(a);
    hp_action_on_unhealthy_restart(a);
    hp_action_probe_tcp(b, "nowhere");
    hp_action_probe_interval_ms(b, 5);
    problems_are(run_fails(rb, "run 'ci': action 'bad': probe tcp must be host:port with a port "
                               "1..65535 (and 1 more problem)"),
                 "run 'ci': action 'bad': probe tcp must be host:port with a port 1..65535",
                 "run 'ci': action 'bad': probe interval_ms must be between 100 and 86400000",
                 NULL);
    hp_action_probe_tcp(b, "db:5432");
    hp_action_probe_interval_ms(b, 100);
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_OK);
    ck_assert_int_eq(actions[0].probe.kind, HP_PROBE_HTTP);
    ck_assert_str_eq(actions[0].probe.target, "http://127.0.0.1:8080/health");
    ck_assert_int_eq(actions[0].probe.retries, 7);
    ck_assert_int_eq(actions[0].probe.interval_ms, HP_PROBE_INTERVAL_MS);
    ck_assert_int_eq(actions[0].probe.timeout_ms, HP_PROBE_TIMEOUT_MS);
    ck_assert_int_eq(actions[0].probe.start_grace_ms, 1500);
    ck_assert_int_eq(actions[0].on_unhealthy_restart, 1);
    ck_assert_int_eq(actions[1].probe.kind, HP_PROBE_TCP);
    ck_assert_int_eq(actions[1].probe.retries, HP_PROBE_RETRIES);
    hp_actions_free(actions, n);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(restart_always_is_refused_in_a_run_and_accepted_in_a_service)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "one-shot");
    hp_service_builder *sb = hp_service_builder_new(NULL, "api");
    hp_service_config cfg;
    hp_action *a;

    hp_action_restart_always(script(rb, "serve", "sleep 100"));
    problems_are(run_fails(rb, "run 'one-shot': action 'serve': restart 'always' is only "
                               "allowed in services"),
                 "run 'one-shot': action 'serve': restart 'always' is only allowed in services",
                 NULL);
    a = hp_service_builder_action(sb, "serve");
    hp_action_script(a, "sleep 100");
    hp_action_restart_always(a);
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_OK);
    ck_assert_int_eq(cfg.actions[0].restart, HP_RESTART_ALWAYS);
    hp_service_config_free(&cfg);
    hp_service_builder_free(sb);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(names_with_control_characters_are_rejected_and_shown_escaped)
{
    hp_service_builder *sb = hp_service_builder_new(NULL, "bad\nname");
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action *a = hp_service_builder_action(sb, "tab\there");

    hp_action_script(a, "true");
    hp_action_cwd(a, "/tmp/\x1b[31m");
    problems_are(service_fails(sb, "service name 'bad\\x0aname' is invalid: use 1 to 64 "
                                   "characters of A-Z a-z 0-9 _ . - (and 2 more problems)"),
                 "service name 'bad\\x0aname' is invalid: use 1 to 64 characters of A-Z a-z "
                 "0-9 _ . -",
                 "service 'bad\\x0aname': action name 'tab\\x09here' is invalid: use 1 to 64 "
                 "characters of A-Z a-z 0-9 _ . -",
                 "service 'bad\\x0aname': action 'tab\\x09here': cwd contains a control "
                 "character",
                 NULL);
    script(rb, "has space", "true");
    script(rb, "", "true");
    problems_are(run_fails(rb, "run 'ci': action name 'has space' is invalid: use 1 to 64 "
                               "characters of A-Z a-z 0-9 _ . - (and 1 more problem)"),
                 "run 'ci': action name 'has space' is invalid: use 1 to 64 characters of A-Z "
                 "a-z 0-9 _ . -",
                 "run 'ci': action name '' is invalid: use 1 to 64 characters of A-Z a-z 0-9 "
                 "_ . -",
                 NULL);
    hp_service_builder_free(sb);
    hp_run_builder_free(rb);
}
END_TEST

/* The builders share the server's name rules: a name becomes a folder name. */
START_TEST(dot_names_are_rejected_by_the_builders)
{
    hp_service_builder *sb = hp_service_builder_new(NULL, "..");
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");

    hp_action_script(hp_service_builder_action(sb, "a"), "true");
    problems_are(service_fails(sb, "service name '..' is invalid: '.' and '..' are not names, as "
                                   "names become folder names"),
                 "service name '..' is invalid: '.' and '..' are not names, as names become "
                 "folder names",
                 NULL);
    script(rb, ".", "true");
    problems_are(run_fails(rb, "run 'ci': action name '.' is invalid: '.' and '..' are not "
                               "names, as names become folder names"),
                 "run 'ci': action name '.' is invalid: '.' and '..' are not names, as names "
                 "become folder names",
                 NULL);
    hp_service_builder_free(sb);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(a_builder_without_actions_is_rejected)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "empty");

    problems_are(run_fails(rb, "run 'empty' has no actions; give at least one"),
                 "run 'empty' has no actions; give at least one", NULL);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(problems_are_records_with_the_path_of_the_field_in_insertion_order)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    const hp_problems *pb;
    hp_action *test;

    script(rb, "build", "make");
    test = script(rb, "test", "make check");
    hp_action_depends_on(test, "build", "biuld", NULL);
    hp_action_timeout_secs(test, -1);
    pb = run_fails(rb, "run 'ci': action 'test': timeout_secs must be between 0 and 604800 (and 1 "
                       "more problem)");
    ck_assert_uint_eq(pb->count, 2);
    ck_assert_int_eq(pb->records[0].code, HP_PROBLEM_VALUE_RANGE);
    ck_assert_str_eq(pb->records[0].path, "/actions/1/timeout_secs");
    ck_assert_int_eq(pb->records[1].code, HP_PROBLEM_DEP_UNKNOWN);
    ck_assert_str_eq(pb->records[1].path, "/actions/1/depends_on/1");
    ck_assert_str_eq(pb->records[1].message + pb->records[1].detail,
                     "depends on unknown action 'biuld'");
    ck_assert_ptr_eq(pb->items[1], pb->records[1].message);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(a_sticky_error_is_also_a_problem_on_its_field)
{
    hp_service_builder *sb = hp_service_builder_new(NULL, NULL);
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_service_config cfg;
    hp_action_spec *actions;
    size_t n;
    const hp_problems *pb;

    hp_action_script(hp_service_builder_action(sb, "serve"), "./serve");
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_E_INVALID);
    pb = hp_service_builder_problems(sb);
    ck_assert_uint_eq(pb->count, 1);
    ck_assert_int_eq(pb->records[0].code, HP_PROBLEM_NAME_MISSING);
    ck_assert_str_eq(pb->records[0].path, "/name");
    ck_assert_str_eq(pb->items[0], E.message);

    script(rb, "build", "make");
    hp_action_cwd(hp_run_builder_action(rb, "test"), NULL);
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_E_INVALID);
    pb = hp_run_builder_problems(rb);
    ck_assert_uint_eq(pb->count, 1);
    ck_assert_int_eq(pb->records[0].code, HP_PROBLEM_VALUE_MISSING);
    ck_assert_str_eq(pb->records[0].path, "/actions/1/cwd");
    ck_assert_str_eq(pb->items[0], "run 'ci': action 'test': cwd is NULL");
    hp_service_builder_free(sb);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(problems_of_a_later_build_replace_the_earlier_ones)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action_spec *actions;
    size_t n;

    hp_action_depends_on(script(rb, "test", "true"), "build", NULL);
    problems_are(run_fails(rb, "run 'ci': action 'test' depends on unknown action 'build'"),
                 "run 'ci': action 'test' depends on unknown action 'build'", NULL);
    script(rb, "build", "true");
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_OK);
    ck_assert_str_eq(names_of(actions, n), "build,test");
    ck_assert_uint_eq(hp_run_builder_problems(rb)->count, 0);
    hp_actions_free(actions, n);
    hp_run_builder_free(rb);
}
END_TEST

/* ---- sticky errors and NULL handles --------------------------------------------------- */

START_TEST(a_null_script_sticks_and_is_reported_at_build_after_later_valid_setters)
{
    hp_service_builder *sb = hp_service_builder_new(NULL, "api");
    hp_action *a = hp_service_builder_action(sb, "start");
    hp_service_config cfg;

    hp_action_script(a, NULL);
    hp_action_script(a, "echo fine");
    hp_action_cwd(a, NULL); /* a second error: the first one is kept */
    hp_action_cwd(a, "/tmp");
    hp_service_builder_description(sb, "ok");
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_E_INVALID);
    ck_assert_str_eq(E.message, "service 'api': action 'start': script is NULL");
    ck_assert_ptr_null(cfg.name);
    ck_assert_ptr_null(cfg.actions);
    /* Sticky: a second build says the same. */
    hp_error_clear(&E);
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_E_INVALID);
    ck_assert_str_eq(E.message, "service 'api': action 'start': script is NULL");
    ck_assert_int_eq(hp_service_builder_save(sb, &E), HP_E_INVALID);
    ck_assert_str_eq(E.message, "service 'api': action 'start': script is NULL");
    hp_service_builder_free(sb);
}
END_TEST

static void null_script(hp_action *a)
{
    hp_action_script(a, NULL);
}
static void null_interpreter(hp_action *a)
{
    hp_action_interpreter(a, NULL);
}
static void null_command(hp_action *a)
{
    hp_action_command(a, NULL);
}
static void null_cwd(hp_action *a)
{
    hp_action_cwd(a, NULL);
}
static void null_env_key(hp_action *a)
{
    hp_action_env(a, NULL, "v");
}
static void null_env_value(hp_action *a)
{
    hp_action_env(a, "K", NULL);
}
static void null_tag(hp_action *a)
{
    hp_action_tag(a, NULL);
}

START_TEST(a_null_argument_to_a_setter_names_the_setter)
{
    static const struct {
        void (*set)(hp_action *);
        const char *message;
    } cases[] = {
        {null_script, "run 'ci': action 'x': script is NULL"},
        {null_interpreter, "run 'ci': action 'x': interpreter is NULL"},
        {null_command, "run 'ci': action 'x': command is NULL"},
        {null_cwd, "run 'ci': action 'x': cwd is NULL"},
        {null_env_key, "run 'ci': action 'x': env key is NULL"},
        {null_env_value, "run 'ci': action 'x': env value is NULL"},
        {null_tag, "run 'ci': action 'x': tag is NULL"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
        hp_action *a = script(rb, "x", "true");
        hp_action_spec *actions;
        size_t n;

        cases[i].set(a);
        hp_error_clear(&E);
        ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_E_INVALID);
        ck_assert_str_eq(E.message, cases[i].message);
        ck_assert_int_eq(hp_run_builder_start(rb, NULL, &E), HP_E_INVALID);
        ck_assert_str_eq(E.message, cases[i].message);
        hp_run_builder_free(rb);
    }
}
END_TEST

START_TEST(a_null_builder_and_a_null_action_chain_do_not_crash)
{
    hp_action *a = hp_service_builder_action(NULL, "x");
    hp_service_config cfg;
    hp_action_spec *actions;
    size_t n;

    ck_assert_ptr_null(a);
    ck_assert_ptr_null(hp_run_builder_action(NULL, "x"));
    hp_action_script(a, "x");
    hp_action_interpreter(a, "bash");
    hp_action_command(a, "x");
    hp_action_cwd(a, "/");
    hp_action_env(a, "K", "V");
    hp_action_timeout_secs(a, 1);
    hp_action_depends_on(a, "y", NULL);
    hp_action_retry(a, 1);
    hp_action_retry_delay_ms(a, 1);
    hp_action_restart_always(a);
    hp_action_restart_on_failure(a);
    hp_action_tag(a, "t");
    hp_service_builder_description(NULL, "d");
    hp_service_builder_wanted_start(NULL, 1);
    ck_assert_int_ne(hp_service_builder_build(NULL, &cfg, &E), HP_OK);
    ck_assert_int_ne(hp_service_builder_save(NULL, &E), HP_OK);
    ck_assert_int_ne(hp_run_builder_build(NULL, &actions, &n, &E), HP_OK);
    ck_assert_ptr_null(actions);
    ck_assert_int_ne(hp_run_builder_start(NULL, NULL, &E), HP_OK);
    ck_assert_uint_eq(hp_service_builder_problems(NULL)->count, 0);
    ck_assert_uint_eq(hp_run_builder_problems(NULL)->count, 0);
    hp_service_builder_free(NULL);
    hp_run_builder_free(NULL);
}
END_TEST

START_TEST(an_action_without_a_name_sticks_and_its_setters_are_ignored)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action *a = hp_run_builder_action(rb, NULL);

    ck_assert_ptr_null(a);
    hp_action_script(a, "true");
    script(rb, "fine", "true");
    hp_error_clear(&E);
    {
        hp_action_spec *actions;
        size_t n;
        ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_E_INVALID);
    }
    ck_assert_str_eq(E.message, "run 'ci': an action name is missing");
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(a_builder_without_a_name_reports_it_at_build)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, NULL);
    hp_service_builder *sb = hp_service_builder_new(NULL, NULL);
    hp_service_config cfg;
    hp_action_spec *actions;
    size_t n;

    script(rb, "a", "true");
    hp_action_script(hp_service_builder_action(sb, "a"), "true");
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_E_INVALID);
    ck_assert_str_eq(E.message, "run name is missing");
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_E_INVALID);
    ck_assert_str_eq(E.message, "service name is missing");
    hp_run_builder_free(rb);
    hp_service_builder_free(sb);
}
END_TEST

START_TEST(save_and_start_without_a_client_say_so)
{
    hp_service_builder *sb = hp_service_builder_new(NULL, "api");
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    int64_t id = 42;

    hp_action_script(hp_service_builder_action(sb, "start"), "true");
    script(rb, "a", "true");
    ck_assert_int_eq(hp_service_builder_save(sb, &E), HP_E_INVALID);
    ck_assert_str_eq(E.message, "service 'api': the builder has no client to save to");
    ck_assert_int_eq(hp_run_builder_start(rb, &id, &E), HP_E_INVALID);
    ck_assert_str_eq(E.message, "run 'ci': the builder has no client to start on");
    ck_assert_int_eq(id, 0);
    hp_service_builder_free(sb);
    hp_run_builder_free(rb);
}
END_TEST

/* ---- setters ------------------------------------------------------------------------ */

START_TEST(env_replaces_a_key_in_place_and_depends_on_ignores_duplicates)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    hp_action *a = script(rb, "test", "env");
    hp_action_spec *actions;
    size_t n;

    script(rb, "build", "true");
    hp_action_env(a, "A", "1");
    hp_action_env(a, "B", "2");
    hp_action_env(a, "A", "3");
    hp_action_depends_on(a, "build", "build", NULL);
    hp_action_depends_on(a, "build", NULL);
    hp_action_tag(a, "slow");
    hp_action_interpreter(a, "/bin/bash");
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_OK);
    ck_assert_str_eq(actions[1].name, "test");
    ck_assert_uint_eq(actions[1].n_env, 2);
    ck_assert_str_eq(actions[1].env[0].key, "A");
    ck_assert_str_eq(actions[1].env[0].value, "3");
    ck_assert_str_eq(actions[1].env[1].key, "B");
    ck_assert_str_eq(actions[1].env[1].value, "2");
    ck_assert_uint_eq(actions[1].n_depends_on, 1);
    ck_assert_str_eq(actions[1].depends_on[0], "build");
    ck_assert_uint_eq(actions[1].n_tags, 1);
    ck_assert_str_eq(actions[1].tags[0], "slow");
    ck_assert_str_eq(actions[1].interpreter, "/bin/bash");
    hp_actions_free(actions, n);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(setters_copy_their_input)
{
    hp_run_builder *rb = hp_run_builder_new(NULL, "ci");
    char name[] = "step", text[] = "echo original", key[] = "K", dep[] = "base";
    hp_action *a = hp_run_builder_action(rb, name);
    hp_action_spec *actions;
    size_t n;

    hp_action_script(a, text);
    hp_action_env(a, key, text);
    hp_action_depends_on(a, dep, NULL);
    script(rb, "base", "true");
    memset(name, 'x', 4);
    memset(text, 'x', 4);
    key[0] = 'Z';
    dep[0] = 'c';
    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_OK);
    ck_assert_str_eq(actions[1].name, "step");
    ck_assert_str_eq(actions[1].script, "echo original");
    ck_assert_str_eq(actions[1].env[0].key, "K");
    ck_assert_str_eq(actions[1].depends_on[0], "base");
    hp_actions_free(actions, n);
    hp_run_builder_free(rb);
}
END_TEST

/* ---- the designated-initializer shortcut ---------------------------------------------- */

START_TEST(service_def_builds_the_same_config_as_the_setters)
{
    static const char *const env[] = {"PORT=8080", "MODE=a=b", NULL};
    static const char *const deps[] = {"prepare", NULL};
    static const hp_action_def actions[] = {
        {.name = "start",
         .script = "python app.py",
         .interpreter = "/usr/bin/env python3",
         .cwd = "/srv/myapp",
         .env = env,
         .depends_on = deps,
         .timeout_secs = 30,
         .retry = 2,
         .retry_delay_ms = 500,
         .restart = HP_RESTART_ALWAYS},
        {.name = "prepare", .command = "python setup.py"},
        {0},
    };
    static const hp_service_def def = {
        .name = "myapp", .description = "Web service", .wanted_start = 1, .actions = actions};
    hp_service_builder *from_def = hp_service_builder_from_def(NULL, &def);
    hp_service_builder *sb = hp_service_builder_new(NULL, "myapp");
    hp_service_config a, b;
    hp_action *x;
    char *ja, *jb;

    hp_service_builder_description(sb, "Web service");
    hp_service_builder_wanted_start(sb, 1);
    x = hp_service_builder_action(sb, "start");
    hp_action_script(x, "python app.py");
    hp_action_interpreter(x, "/usr/bin/env python3");
    hp_action_cwd(x, "/srv/myapp");
    hp_action_env(x, "PORT", "8080");
    hp_action_env(x, "MODE", "a=b");
    hp_action_depends_on(x, "prepare", NULL);
    hp_action_timeout_secs(x, 30);
    hp_action_retry(x, 2);
    hp_action_retry_delay_ms(x, 500);
    hp_action_restart_always(x);
    hp_action_command(hp_service_builder_action(sb, "prepare"), "python setup.py");
    ck_assert_int_eq(hp_service_builder_build(from_def, &a, &E), HP_OK);
    ck_assert_int_eq(hp_service_builder_build(sb, &b, &E), HP_OK);
    ja = service_json(&a);
    jb = service_json(&b);
    ck_assert_str_eq(ja, jb);
    ck_assert_str_eq(a.actions[0].name, "prepare");
    free(ja);
    free(jb);
    hp_service_config_free(&a);
    hp_service_config_free(&b);
    hp_service_builder_free(from_def);
    hp_service_builder_free(sb);
}
END_TEST

START_TEST(run_def_builds_the_same_actions_as_the_setters)
{
    static const char *const deps[] = {"build", NULL};
    const hp_run_def def = {
        .name = "build-run",
        .actions = (const hp_action_def[]){
            {.name = "test", .command = "test -d /tmp", .depends_on = deps},
            {.name = "build", .script = "echo building", .restart = HP_RESTART_ON_FAILURE},
            {0},
        }};
    hp_run_builder *from_def = hp_run_builder_from_def(NULL, &def);
    hp_run_builder *rb = hp_run_builder_new(NULL, "build-run");
    hp_action_spec *a, *b;
    size_t na, nb;
    hp_action *x;
    char *ja, *jb;

    x = hp_run_builder_action(rb, "test");
    hp_action_command(x, "test -d /tmp");
    hp_action_depends_on(x, "build", NULL);
    x = script(rb, "build", "echo building");
    hp_action_restart_on_failure(x);
    ck_assert_int_eq(hp_run_builder_build(from_def, &a, &na, &E), HP_OK);
    ck_assert_int_eq(hp_run_builder_build(rb, &b, &nb, &E), HP_OK);
    ja = actions_json(a, na);
    jb = actions_json(b, nb);
    ck_assert_str_eq(ja, jb);
    ck_assert_str_eq(names_of(a, na), "build,test");
    free(ja);
    free(jb);
    hp_actions_free(a, na);
    hp_actions_free(b, nb);
    hp_run_builder_free(from_def);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(a_def_env_entry_without_an_equals_sign_is_reported_naming_the_run)
{
    static const char *const env[] = {"NOEQUALS", NULL};
    const hp_run_def def = {
        .name = "ci",
        .actions = (const hp_action_def[]){{.name = "a", .script = "true", .env = env}, {0}}};
    hp_run_builder *rb = hp_run_builder_from_def(NULL, &def);
    hp_action_spec *actions;
    size_t n;

    ck_assert_int_eq(hp_run_builder_build(rb, &actions, &n, &E), HP_E_INVALID);
    ck_assert_str_eq(E.message, "run 'ci': action 'a': env entry 'NOEQUALS' is not KEY=VALUE");
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(a_def_is_validated_like_the_setters)
{
    const hp_run_def def = {
        .name = "ci",
        .actions = (const hp_action_def[]){
            {.name = "serve", .script = "sleep 1", .restart = HP_RESTART_ALWAYS},
            {.name = "serve", .command = "true", .script = "true"},
            {0}}};
    hp_run_builder *rb = hp_run_builder_from_def(NULL, &def);

    problems_are(run_fails(rb, "run 'ci': action 'serve': restart 'always' is only allowed in "
                               "services (and 2 more problems)"),
                 "run 'ci': action 'serve': restart 'always' is only allowed in services",
                 "run 'ci': duplicate action name 'serve'",
                 "run 'ci': action 'serve' has both script and command; give exactly one", NULL);
    hp_run_builder_free(rb);
}
END_TEST

static Suite *builders_suite(void)
{
    Suite *s = suite_create("builders");
    TCase *order = tcase_create("order");
    TCase *rules = tcase_create("rules");
    TCase *sticky = tcase_create("sticky");
    TCase *setters = tcase_create("setters");
    TCase *defs = tcase_create("defs");

    tcase_add_test(order, run_builder_orders_dependencies_first_with_ties_by_insertion_order);
    tcase_add_test(order, ready_actions_go_by_insertion_order_not_by_when_they_became_ready);
    tcase_add_test(order, service_builder_builds_the_config_with_its_fields_and_ordered_actions);
    suite_add_tcase(s, order);

    tcase_add_test(rules, run_builder_rejects_duplicate_action_names);
    tcase_add_test(rules, run_builder_rejects_an_unknown_dependency_naming_the_action);
    tcase_add_test(rules, run_builder_rejects_a_cycle_as_its_path);
    tcase_add_test(rules,
                   a_longer_cycle_starts_at_its_earliest_action_and_a_self_dependency_is_a_to_a);
    tcase_add_test(rules, an_action_needs_exactly_one_of_script_and_command);
    tcase_add_test(rules, numeric_bounds_are_checked_and_every_problem_is_listed);
    tcase_add_test(rules, the_bounds_themselves_are_accepted);
    tcase_add_test(rules, probe_setters_build_the_probe_and_its_mistakes_are_problems);
    tcase_add_test(rules, restart_always_is_refused_in_a_run_and_accepted_in_a_service);
    tcase_add_test(rules, names_with_control_characters_are_rejected_and_shown_escaped);
    tcase_add_test(rules, dot_names_are_rejected_by_the_builders);
    tcase_add_test(rules, a_builder_without_actions_is_rejected);
    tcase_add_test(rules, problems_of_a_later_build_replace_the_earlier_ones);
    tcase_add_test(rules, problems_are_records_with_the_path_of_the_field_in_insertion_order);
    tcase_add_test(rules, a_sticky_error_is_also_a_problem_on_its_field);
    suite_add_tcase(s, rules);

    tcase_add_test(sticky, a_null_script_sticks_and_is_reported_at_build_after_later_valid_setters);
    tcase_add_test(sticky, a_null_argument_to_a_setter_names_the_setter);
    tcase_add_test(sticky, a_null_builder_and_a_null_action_chain_do_not_crash);
    tcase_add_test(sticky, an_action_without_a_name_sticks_and_its_setters_are_ignored);
    tcase_add_test(sticky, a_builder_without_a_name_reports_it_at_build);
    tcase_add_test(sticky, save_and_start_without_a_client_say_so);
    suite_add_tcase(s, sticky);

    tcase_add_test(setters, env_replaces_a_key_in_place_and_depends_on_ignores_duplicates);
    tcase_add_test(setters, setters_copy_their_input);
    suite_add_tcase(s, setters);

    tcase_add_test(defs, service_def_builds_the_same_config_as_the_setters);
    tcase_add_test(defs, run_def_builds_the_same_actions_as_the_setters);
    tcase_add_test(defs, a_def_env_entry_without_an_equals_sign_is_reported_naming_the_run);
    tcase_add_test(defs, a_def_is_validated_like_the_setters);
    suite_add_tcase(s, defs);
    return s;
}

int main(void)
{
    return hp_test_run(builders_suite());
}
