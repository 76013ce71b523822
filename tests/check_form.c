/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's forms (src/tui/form.c) without a terminal: each field onto its builder
 * setter, the builders' problems on the field they are about, the editing helpers that
 * keep depends_on consistent, the request and the hero_proc command a submit stands for;
 * then submits and the command lines themselves against a real hero_proc_server. The
 * form's screen is check_tui's. */
#include "config.h"

#include "builders/builder.h"
#include "builders/factory.h"
#include "check_common.h"
#include "server_harness.h"
#include "tui/form.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tui_form F;

static void service_setup(void)
{
    ck_assert_int_eq(tui_form_init(&F, TUI_FORM_SERVICE), 0);
    ck_assert_int_eq(tui_form_set(&F.name, "web"), 0);
}

static void form_teardown(void)
{
    tui_form_free(&F);
}

/* Makes F a run form named name. */
static void as_run(const char *name)
{
    tui_form_free(&F);
    ck_assert_int_eq(tui_form_init(&F, TUI_FORM_RUN), 0);
    ck_assert_int_eq(tui_form_set(&F.name, name), 0);
}

static void set(char **slot, const char *text)
{
    ck_assert_int_eq(tui_form_set(slot, text), 0);
}

/* A new action of F with a script (NULL: no body); returns it. */
static tui_form_action *act(const char *name, const char *script)
{
    int i = tui_form_add_action(&F, name);

    ck_assert_int_ge(i, 0);
    if (script)
        set(&F.actions[i].body, script);
    return &F.actions[i];
}

static void dep(size_t i, const char *name)
{
    ck_assert_int_eq(tui_form_toggle_depends(&F, i, name), 0);
}

static const char *field_name(tui_field f)
{
    static const char *const names[TUI_F_COUNT] = {
        "NAME",
        "DESCRIPTION",
        "WANTED",
        "REQUIRES",
        "ACTIONS",
        "A_NAME",
        "A_KIND",
        "A_BODY",
        "A_INTERP",
        "A_CWD",
        "A_ENV",
        "A_TIMEOUT",
        "A_RETRY",
        "A_RETRY_DELAY",
        "A_RESTART",
        "A_DEPENDS",
        "A_PROBE",
        "A_PROBE_TARGET",
        "A_PROBE_INTERVAL",
        "A_PROBE_TIMEOUT",
        "A_PROBE_RETRIES",
        "A_PROBE_GRACE",
        "A_ON_UNHEALTHY",
        "OTHER",
    };

    return (unsigned)f < TUI_F_COUNT ? names[f] : "?";
}

/* The entries of the last check, one a line: "<action> <FIELD>[+] <shown>" ('+' for an
 * entry whose sentence the one before already said). */
static const char *entries(void)
{
    static char buf[8192];
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < F.n_problems && used < sizeof(buf); i++) {
        const tui_form_problem *p = &F.problems[i];
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%d %s%s %s\n", p->action,
                                 field_name(p->field), p->again ? "+" : "", p->shown);
    }
    return buf;
}

/* tui_form_check gives want problems (sentences) and the entries listed. */
static void check_gives(int want, const char *want_entries)
{
    ck_assert_int_eq(tui_form_check(&F), want);
    ck_assert_str_eq(entries(), want_entries);
}

/* The whole sentence of the first entry at (action, field). */
static const char *text_at(int action, tui_field field)
{
    const tui_form_problem *p = tui_form_problem_at(&F, action, field);

    ck_assert_msg(p != NULL, "no problem at %d %s; entries:\n%s", action, field_name(field),
                  entries());
    return p->text;
}

static void json_eq(const cJSON *got, const cJSON *want)
{
    char *g = cJSON_PrintUnformatted(got), *w = cJSON_PrintUnformatted(want);

    ck_assert_msg(cJSON_Compare(got, want, 1), "got  %s\nwant %s", g, w);
    free(g);
    free(w);
}

/* "build" (a script) and "serve" (a command depending on build), serve added first. */
static void two_actions(void)
{
    tui_form_action *serve = act("serve", NULL);

    serve->is_command = 1;
    set(&serve->body, "python3 -m http.server\n8080");
    act("build", "make\nmake install");
    dep(0, "build");
}

/* ---- the mapping ----------------------------------------------------------------------- */

START_TEST(a_two_action_service_maps_to_the_builders_config_in_dependency_order)
{
    hp_problems pb = {0};
    hp_service_builder *sb;
    hp_service_config cfg;
    hp_error E;

    set(&F.description, "the site");
    F.wanted_start = 1;
    two_actions();
    check_gives(0, "");
    sb = tui_form_service_builder(&F, NULL, &pb);
    ck_assert_ptr_nonnull(sb);
    ck_assert_uint_eq(pb.count, 0);
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_OK);
    ck_assert_str_eq(cfg.name, "web");
    ck_assert_str_eq(cfg.description, "the site");
    ck_assert_int_eq(cfg.wanted_start, 1);
    ck_assert_uint_eq(cfg.n_actions, 2);
    ck_assert_str_eq(cfg.actions[0].name, "build");
    ck_assert_str_eq(cfg.actions[0].script, "make\nmake install");
    ck_assert_ptr_null(cfg.actions[0].command);
    ck_assert_ptr_null(cfg.actions[0].interpreter);
    ck_assert_str_eq(cfg.actions[1].name, "serve");
    ck_assert_ptr_null(cfg.actions[1].script);
    ck_assert_str_eq(cfg.actions[1].command, "python3 -m http.server 8080");
    ck_assert_uint_eq(cfg.actions[1].n_depends_on, 1);
    ck_assert_str_eq(cfg.actions[1].depends_on[0], "build");
    hp_service_config_free(&cfg);
    hp_service_builder_free(sb);
}
END_TEST

/* Requires as typed (blanks or commas) reaches the builder; the service itself or a
 * name typed twice is a problem on the field. */
START_TEST(requires_reaches_the_builder_and_its_problems_the_field)
{
    hp_problems pb = {0};
    hp_service_builder *sb;
    hp_service_config cfg, back;
    tui_form again;
    hp_error E;

    two_actions();
    set(&F.requires, " db, cache ");
    check_gives(0, "");
    sb = tui_form_service_builder(&F, NULL, &pb);
    ck_assert_ptr_nonnull(sb);
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, &E), HP_OK);
    ck_assert_uint_eq(cfg.n_requires, 2);
    ck_assert_str_eq(cfg.requires[0], "db");
    ck_assert_str_eq(cfg.requires[1], "cache");
    /* The edit form of that config shows them back, as the field takes them. */
    ck_assert_int_eq(tui_form_from_service(&again, &cfg), 0);
    ck_assert_str_eq(again.requires, "db cache");
    sb = (hp_service_builder_free(sb), tui_form_service_builder(&again, NULL, &pb));
    ck_assert_int_eq(hp_service_builder_build(sb, &back, &E), HP_OK);
    ck_assert_uint_eq(back.n_requires, 2);
    hp_service_config_free(&back);
    hp_service_builder_free(sb);
    tui_form_free(&again);
    hp_service_config_free(&cfg);
    hp_problems_free(&pb);

    set(&F.requires, "db web db");
    check_gives(2, "-1 REQUIRES requires cycle: web -> web\n"
                   "-1 REQUIRES requires names service 'db' twice\n");
}
END_TEST

START_TEST(every_field_of_an_action_reaches_its_setter)
{
    tui_form_action *a = act("serve", "exec ./serve");
    hp_service_builder *sb;
    hp_service_config cfg;
    const hp_action_spec *s;
    char web[] = "web", *tags[] = {web};

    set(&a->interpreter, "/bin/bash");
    set(&a->cwd, "/srv/www");
    set(&a->env, "PORT=8080\n\n  \nURL=http://x/?a=b\r\nEMPTY=\n");
    set(&a->timeout, " 30 ");
    set(&a->retry, "3");
    set(&a->retry_delay, "250");
    a->restart = HP_RESTART_ALWAYS;
    a->tags = tags; /* borrowed for the mapping only */
    a->n_tags = 1;
    sb = tui_form_service_builder(&F, NULL, NULL);
    a->tags = NULL;
    a->n_tags = 0;
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, NULL), HP_OK);
    s = &cfg.actions[0];
    ck_assert_str_eq(s->script, "exec ./serve");
    ck_assert_str_eq(s->interpreter, "/bin/bash");
    ck_assert_str_eq(s->cwd, "/srv/www");
    ck_assert_uint_eq(s->n_env, 3);
    ck_assert_str_eq(s->env[0].key, "PORT");
    ck_assert_str_eq(s->env[0].value, "8080");
    ck_assert_str_eq(s->env[1].key, "URL");
    ck_assert_str_eq(s->env[1].value, "http://x/?a=b"); /* split at the first '=' */
    ck_assert_str_eq(s->env[2].key, "EMPTY");
    ck_assert_str_eq(s->env[2].value, "");
    ck_assert_int_eq(s->timeout_secs, 30);
    ck_assert_int_eq(s->retry, 3);
    ck_assert_int_eq(s->retry_delay_ms, 250);
    ck_assert_int_eq(s->restart, HP_RESTART_ALWAYS);
    ck_assert_uint_eq(s->n_tags, 1);
    ck_assert_str_eq(s->tags[0], "web");
    hp_service_config_free(&cfg);
    hp_service_builder_free(sb);
}
END_TEST

START_TEST(a_command_is_one_line_and_empty_fields_are_not_set)
{
    tui_form_action *a = act("serve", NULL);
    hp_service_builder *sb;
    hp_service_config cfg;
    const hp_action_spec *s;

    a->is_command = 1;
    set(&a->body, "printf '%s\\n' \\\nhello\nworld");
    set(&a->interpreter, "/bin/bash"); /* a command has no interpreter */
    a->restart = HP_RESTART_ON_FAILURE;
    sb = tui_form_service_builder(&F, NULL, NULL);
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, NULL), HP_OK);
    s = &cfg.actions[0];
    /* a backslash-newline joins the lines as in a shell; other newlines are blanks */
    ck_assert_str_eq(s->command, "printf '%s\\n' hello world");
    ck_assert_ptr_null(s->interpreter);
    ck_assert_ptr_null(s->cwd);
    ck_assert_uint_eq(s->n_env, 0);
    ck_assert_int_eq(s->timeout_secs, 0);
    ck_assert_int_eq(s->retry, 0);
    ck_assert_int_eq(s->retry_delay_ms, 0);
    ck_assert_int_eq(s->restart, HP_RESTART_ON_FAILURE);
    ck_assert_ptr_null(cfg.description);
    ck_assert_int_eq(cfg.wanted_start, 0);
    hp_service_config_free(&cfg);
    hp_service_builder_free(sb);
}
END_TEST

/* ---- problems on their fields ------------------------------------------------------------ */

START_TEST(a_cycle_goes_to_the_depends_on_of_every_action_on_its_path)
{
    act("a", "true");
    act("b", "true");
    act("c", "true");
    dep(0, "b");
    dep(1, "a");
    dep(2, "a");
    check_gives(1, "0 A_DEPENDS dependency cycle: a -> b -> a\n"
                   "1 A_DEPENDS+ dependency cycle: a -> b -> a\n");
    ck_assert_str_eq(text_at(1, TUI_F_A_DEPENDS), "service 'web': dependency cycle: a -> b -> a");
    ck_assert_int_eq(tui_form_problem_at(&F, 1, TUI_F_A_DEPENDS)->code, HP_PROBLEM_DEP_CYCLE);
    ck_assert_ptr_null(tui_form_problem_at(&F, 2, TUI_F_A_DEPENDS));
    /* A self-dependency is the same, on the one action. */
    tui_form_toggle_depends(&F, 1, "a");
    dep(2, "c");
    check_gives(1, "2 A_DEPENDS dependency cycle: c -> c\n");
    ck_assert_int_eq(tui_form_problem_at(&F, 2, TUI_F_A_DEPENDS)->code, HP_PROBLEM_DEP_SELF);
}
END_TEST

START_TEST(an_unknown_dependency_goes_to_the_depends_on_of_that_action)
{
    act("build", "make");
    act("serve", "./serve");
    dep(1, "biuld");
    check_gives(1, "1 A_DEPENDS depends on unknown action 'biuld'\n");
    ck_assert_str_eq(text_at(1, TUI_F_A_DEPENDS),
                     "service 'web': action 'serve' depends on unknown action 'biuld'");
}
END_TEST

START_TEST(a_timeout_that_is_not_a_number_is_a_problem_on_timeout_and_nothing_is_built)
{
    hp_problems pb = {0};
    hp_service_builder *sb;
    const char *method = "x";

    set(&act("serve", "./serve")->timeout, "5s");
    check_gives(1, "0 A_TIMEOUT timeout '5s' is not a whole number of seconds\n");
    ck_assert_str_eq(
        text_at(0, TUI_F_A_TIMEOUT),
        "service 'web': action 'serve': timeout '5s' is not a whole number of seconds");
    ck_assert_ptr_null(tui_form_request(&F, &method));
    ck_assert_ptr_null(method);
    ck_assert_ptr_null(tui_form_command(&F));
    /* The builder itself would take it (the field is left unset): the sentence says no. */
    sb = tui_form_service_builder(&F, NULL, &pb);
    ck_assert_ptr_nonnull(sb);
    ck_assert_uint_eq(pb.count, 1);
    ck_assert_str_eq(
        pb.items[0],
        "service 'web': action 'serve': timeout '5s' is not a whole number of seconds");
    /* With the path of the field it is about, as the builders' own problems. */
    ck_assert_int_eq(pb.records[0].code, HP_PROBLEM_FIELD_TYPE);
    ck_assert_str_eq(pb.records[0].path, "/actions/0/timeout_secs");
    hp_problems_free(&pb);
    hp_service_builder_free(sb);
}
END_TEST

START_TEST(numbers_that_are_not_whole_or_too_large_go_to_their_own_field)
{
    tui_form_action *a = act("serve", "./serve");

    set(&a->timeout, "-1");
    set(&a->retry, "two");
    set(&a->retry_delay, "1.5");
    check_gives(3, "0 A_TIMEOUT timeout '-1' is not a whole number of seconds\n"
                   "0 A_RETRY retry 'two' is not a whole number\n"
                   "0 A_RETRY_DELAY retry delay '1.5' is not a whole number of milliseconds\n");
    /* Too large for a long or an int: the form's sentence; within them: the builder's. */
    set(&a->timeout, "99999999999999999999");
    set(&a->retry, "4294967296");
    set(&a->retry_delay, "3600001");
    check_gives(3,
                "0 A_TIMEOUT timeout '99999999999999999999' is too large: at most 604800 seconds\n"
                "0 A_RETRY retry '4294967296' is too large: at most 100 extra attempts\n"
                "0 A_RETRY_DELAY retry_delay_ms must be between 0 and 3600000\n");
    set(&a->timeout, "604801");
    set(&a->retry, "101");
    set(&a->retry_delay, "");
    check_gives(2, "0 A_TIMEOUT timeout_secs must be between 0 and 604800\n"
                   "0 A_RETRY retry must be between 0 and 100\n");
    set(&a->timeout, "\t604800 ");
    set(&a->retry, " ");
    check_gives(0, "");
}
END_TEST

START_TEST(an_env_line_without_an_equals_sign_is_a_problem_on_env)
{
    set(&act("serve", "./serve")->env, "PORT=8080\nDEBUG\n");
    check_gives(1, "0 A_ENV env line 'DEBUG' is not KEY=VALUE\n");
    ck_assert_str_eq(text_at(0, TUI_F_A_ENV),
                     "service 'web': action 'serve': env line 'DEBUG' is not KEY=VALUE");
    set(&F.actions[0].env, "1PORT=8080\n");
    check_gives(1, "0 A_ENV env key '1PORT' is invalid: use A-Z a-z 0-9 _ and do not start "
                   "with a digit\n");
}
END_TEST

START_TEST(an_empty_form_has_the_no_actions_problem_on_actions)
{
    check_gives(1, "-1 ACTIONS service 'web' has no actions; give at least one\n");
    ck_assert_str_eq(text_at(-1, TUI_F_ACTIONS), "service 'web' has no actions; give at least one");
}
END_TEST

START_TEST(an_invalid_service_name_goes_to_name)
{
    set(&F.name, "my web");
    act("serve", "./serve");
    check_gives(1, "-1 NAME service name 'my web' is invalid: use 1 to 64 characters of A-Z "
                   "a-z 0-9 _ . -\n");
    set(&F.name, "");
    check_gives(1, "-1 NAME service name '' is invalid: use 1 to 64 characters of A-Z a-z 0-9 "
                   "_ . -\n");
}
END_TEST

START_TEST(restart_always_in_a_run_is_refused_on_restart)
{
    as_run("ci");
    act("test", "make check")->restart = HP_RESTART_ALWAYS;
    check_gives(1, "0 A_RESTART restart 'always' is only allowed in services\n");
    ck_assert_str_eq(text_at(0, TUI_F_A_RESTART),
                     "run 'ci': action 'test': restart 'always' is only allowed in services");
}
END_TEST

START_TEST(each_problem_of_an_action_lands_on_its_field)
{
    tui_form_action *a;
    char long_text[1100];

    act("none", "");
    a = act("cmd", NULL);
    a->is_command = 1;
    set(&a->body, "echo 'open");
    set(&act("ctl", "true")->interpreter, "/bin/sh\t-e");
    set(&F.actions[2].cwd, "/tmp\x01");
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    set(&F.description, long_text);
    check_gives(5, "0 A_BODY script is empty\n"
                   "1 A_BODY command cannot be split: unterminated quote\n"
                   "2 A_INTERP interpreter contains a control character\n"
                   "2 A_CWD cwd contains a control character\n"
                   "-1 DESCRIPTION description is longer than 1024 bytes\n");
}
END_TEST

START_TEST(duplicate_names_go_to_every_later_action_of_the_name_and_its_own_problems)
{
    act("x", "true");
    act("y", "true");
    act("x", ""); /* its own problem: only this x has an empty script */
    check_gives(2, "2 A_NAME duplicate action name 'x'\n"
                   "2 A_BODY script is empty\n");
    /* The same sentence for each x: each x gets one of them. */
    set(&F.actions[0].body, "");
    check_gives(3, "0 A_BODY script is empty\n"
                   "2 A_NAME duplicate action name 'x'\n"
                   "2 A_BODY script is empty\n");
    /* A third x has to be renamed too, and a dependency on x is not unknown. */
    act("x", "true");
    dep(1, "x");
    set(&F.actions[0].body, "true");
    set(&F.actions[2].body, "true");
    check_gives(1, "2 A_NAME duplicate action name 'x'\n"
                   "3 A_NAME+ duplicate action name 'x'\n");
}
END_TEST

START_TEST(problems_name_actions_as_the_builders_show_them)
{
    act("a\tb", "");
    act("a", "true");
    check_gives(2, "0 A_NAME action name 'a\\x09b' is invalid: use 1 to 64 characters of A-Z "
                   "a-z 0-9 _ . -\n"
                   "0 A_BODY script is empty\n");
    ck_assert_str_eq(text_at(0, TUI_F_A_BODY), "service 'web': action 'a\\x09b': script is empty");
}
END_TEST

START_TEST(a_builder_error_without_problems_is_still_a_problem)
{
    /* A NULL name sticks in the builder, which then reports no problem list. */
    free(F.name);
    F.name = NULL;
    act("serve", "./serve");
    check_gives(1, "-1 NAME service name is missing\n");
    ck_assert_ptr_null(tui_form_request(&F, NULL));
}
END_TEST

START_TEST(a_new_check_replaces_the_problems_of_the_last)
{
    act("serve", "");
    ck_assert_int_eq(tui_form_check(&F), 1);
    set(&F.actions[0].body, "./serve");
    check_gives(0, "");
    ck_assert_ptr_null(F.problems);
    ck_assert_ptr_null(tui_form_problem_at(&F, 0, TUI_F_A_BODY));
}
END_TEST

/* ---- editing ---------------------------------------------------------------------------- */

START_TEST(renaming_an_action_renames_every_dependency_on_it)
{
    two_actions();
    act("test", "make check");
    dep(2, "build");
    dep(2, "serve");
    ck_assert_int_eq(tui_form_rename_action(&F, 1, "compile"), 0);
    ck_assert_str_eq(F.actions[1].name, "compile");
    ck_assert(tui_form_depends(&F, 0, "compile"));
    ck_assert(!tui_form_depends(&F, 0, "build"));
    ck_assert(tui_form_depends(&F, 2, "compile"));
    check_gives(0, "");
    /* Renamed onto a name already depended on: one entry, not two. */
    ck_assert_int_eq(tui_form_rename_action(&F, 1, "serve"), 0);
    ck_assert_uint_eq(F.actions[2].n_depends_on, 1);
    ck_assert_str_eq(F.actions[2].depends_on[0], "serve");
    /* While another action keeps the old name, references still name that one. */
    ck_assert_int_eq(tui_form_rename_action(&F, 1, "other"), 0);
    ck_assert_str_eq(F.actions[2].depends_on[0], "serve");
}
END_TEST

START_TEST(removing_an_action_drops_every_dependency_on_it)
{
    two_actions();
    act("test", "make check");
    dep(2, "build");
    dep(2, "serve");
    set(&F.actions[2].body, "");
    ck_assert_int_eq(tui_form_check(&F), 1);
    tui_form_remove_action(&F, 1);
    ck_assert_uint_eq(F.n_actions, 2);
    ck_assert_str_eq(F.actions[0].name, "serve");
    ck_assert_str_eq(F.actions[1].name, "test");
    ck_assert_uint_eq(F.actions[0].n_depends_on, 0);
    ck_assert_uint_eq(F.actions[1].n_depends_on, 1);
    ck_assert_str_eq(F.actions[1].depends_on[0], "serve");
    /* the last check's problem follows its action to its new index */
    ck_assert_str_eq(entries(), "1 A_BODY script is empty\n");
    tui_form_remove_action(&F, 1);
    ck_assert_str_eq(entries(), "");
    tui_form_remove_action(&F, 5); /* out of range: nothing */
    ck_assert_uint_eq(F.n_actions, 1);
}
END_TEST

START_TEST(moving_swaps_neighbours_and_stops_at_the_ends)
{
    two_actions();
    act("test", "");
    ck_assert_int_eq(tui_form_check(&F), 1);
    ck_assert_int_eq(tui_form_move_action(&F, 0, -1), -1);
    ck_assert_int_eq(tui_form_move_action(&F, 2, 1), -1);
    ck_assert_int_eq(tui_form_move_action(&F, 2, -1), 0);
    ck_assert_str_eq(F.actions[1].name, "test");
    ck_assert_str_eq(F.actions[2].name, "build");
    ck_assert_str_eq(entries(), "1 A_BODY script is empty\n");
    ck_assert(tui_form_depends(&F, 0, "build"));
}
END_TEST

START_TEST(toggling_a_dependency_adds_it_then_removes_it)
{
    two_actions();
    ck_assert(tui_form_depends(&F, 0, "build"));
    dep(0, "build");
    ck_assert(!tui_form_depends(&F, 0, "build"));
    ck_assert_uint_eq(F.actions[0].n_depends_on, 0);
    dep(0, "build");
    ck_assert(tui_form_depends(&F, 0, "build"));
    ck_assert_int_eq(tui_form_toggle_depends(&F, 9, "build"), -1);
    ck_assert(!tui_form_depends(&F, 9, "build"));
}
END_TEST

/* ---- prefilled forms, requests and commands ------------------------------------------------ */

/* A service with every field set, through the builder (so in dependency order). */
static void full_config(hp_service_config *cfg)
{
    hp_service_builder *sb = hp_service_builder_new(NULL, "api");
    hp_action *a;

    hp_service_builder_description(sb, "the API");
    hp_service_builder_wanted_start(sb, 1);
    a = hp_service_builder_action(sb, "migrate");
    hp_action_command(a, "./manage migrate --noinput");
    hp_action_cwd(a, "/srv/api");
    hp_action_timeout_secs(a, 120);
    hp_action_retry(a, 2);
    hp_action_retry_delay_ms(a, 500);
    hp_action_restart_on_failure(a);
    a = hp_service_builder_action(sb, "serve");
    hp_action_script(a, "exec ./serve\n--port 8080");
    hp_action_interpreter(a, "/bin/bash");
    hp_action_env(a, "PORT", "8080");
    hp_action_env(a, "TOKEN", "${secret:api_token}");
    hp_action_depends_on(a, "migrate", NULL);
    hp_action_restart_always(a);
    hp_action_tag(a, "web");
    hp_action_tag(a, "front");
    ck_assert_int_eq(hp_service_builder_build(sb, cfg, NULL), HP_OK);
    hp_service_builder_free(sb);
}

/* The Probe section: each mistake on its own field, and a service's probe comes back as it
 * was sent. */
START_TEST(probe_fields_reach_the_builder_and_their_problems_their_fields)
{
    tui_form_action *a = act("serve", "./serve");
    hp_service_config cfg = {0};
    const char *method = NULL;
    cJSON *req;

    a->probe = HP_PROBE_TCP;
    set(&a->probe_target, "localhost");
    set(&a->probe_interval, "fast");
    set(&a->probe_retries, "0");
    a->on_unhealthy_restart = 1;
    check_gives(4, "0 A_PROBE_INTERVAL probe interval 'fast' is not a whole number\n"
                   "0 A_PROBE_TARGET probe tcp must be host:port with a port 1..65535\n"
                   "0 A_PROBE_RETRIES probe retries must be between 1 and 100\n"
                   "0 A_ON_UNHEALTHY on_unhealthy 'restart' needs restart 'always' or "
                   "'on_failure'\n");
    set(&a->probe_target, "127.0.0.1:8080");
    set(&a->probe_interval, "250");
    set(&a->probe_retries, "");
    a->restart = HP_RESTART_ALWAYS;
    check_gives(0, "");
    req = tui_form_request(&F, &method);
    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(hp_service_config_from_json(cJSON_GetObjectItem(req, "config"), &cfg, NULL),
                     0);
    ck_assert_int_eq(cfg.actions[0].probe.kind, HP_PROBE_TCP);
    ck_assert_int_eq(cfg.actions[0].probe.interval_ms, 250);
    ck_assert_int_eq(cfg.actions[0].probe.retries, HP_PROBE_RETRIES);
    ck_assert_int_eq(cfg.actions[0].on_unhealthy_restart, 1);
    cJSON_Delete(req);
    tui_form_free(&F);
    ck_assert_int_eq(tui_form_from_service(&F, &cfg), 0);
    ck_assert_int_eq(F.actions[0].probe, HP_PROBE_TCP);
    ck_assert_str_eq(F.actions[0].probe_target, "127.0.0.1:8080");
    ck_assert_str_eq(F.actions[0].probe_interval, "250");
    ck_assert_str_eq(F.actions[0].probe_timeout, "2000");
    ck_assert_int_eq(F.actions[0].on_unhealthy_restart, 1);
    hp_service_config_free(&cfg);
}
END_TEST

START_TEST(a_form_from_a_service_sends_the_same_config_back)
{
    hp_service_config cfg;
    const char *method = NULL;
    cJSON *req, *want;

    tui_form_free(&F);
    full_config(&cfg);
    ck_assert_int_eq(tui_form_from_service(&F, &cfg), 0);
    ck_assert_int_eq(F.kind, TUI_FORM_SERVICE);
    ck_assert_str_eq(F.name, "api");
    ck_assert_str_eq(F.description, "the API");
    ck_assert_int_eq(F.wanted_start, 1);
    ck_assert_uint_eq(F.n_actions, 2);
    ck_assert_int_eq(F.actions[0].is_command, 1);
    ck_assert_str_eq(F.actions[0].body, "./manage migrate --noinput");
    ck_assert_str_eq(F.actions[0].interpreter, "");
    ck_assert_str_eq(F.actions[0].cwd, "/srv/api");
    ck_assert_str_eq(F.actions[0].timeout, "120");
    ck_assert_str_eq(F.actions[0].retry, "2");
    ck_assert_str_eq(F.actions[0].retry_delay, "500");
    ck_assert_str_eq(F.actions[0].env, "");
    ck_assert_int_eq(F.actions[1].is_command, 0);
    ck_assert_str_eq(F.actions[1].body, "exec ./serve\n--port 8080");
    ck_assert_str_eq(F.actions[1].interpreter, "/bin/bash");
    ck_assert_str_eq(F.actions[1].env, "PORT=8080\nTOKEN=${secret:api_token}\n");
    ck_assert_str_eq(F.actions[1].timeout, "");
    ck_assert_int_eq(F.actions[1].restart, HP_RESTART_ALWAYS);
    ck_assert_uint_eq(F.actions[1].n_tags, 2);
    ck_assert(tui_form_depends(&F, 1, "migrate"));
    check_gives(0, "");
    req = tui_form_request(&F, &method);
    ck_assert_ptr_nonnull(req);
    ck_assert_str_eq(method, "service.set");
    want = cJSON_CreateObject();
    cJSON_AddItemToObject(want, "config", hp_service_config_to_json(&cfg));
    json_eq(req, want);
    cJSON_Delete(want);
    cJSON_Delete(req);
    hp_service_config_free(&cfg);
}
END_TEST

START_TEST(a_form_from_a_run_sends_the_same_actions_back)
{
    char build[] = "build", make[] = "make", test[] = "test", check[] = "make check";
    char *deps[] = {build};
    hp_action_spec specs[2] = {{0}};
    const char *method = NULL;
    cJSON *req, *want, *arr;

    specs[0].name = build;
    specs[0].script = make;
    specs[0].retry = 1;
    specs[1].name = test;
    specs[1].command = check;
    specs[1].depends_on = deps;
    specs[1].n_depends_on = 1;
    specs[1].timeout_secs = 600;
    tui_form_free(&F);
    ck_assert_int_eq(tui_form_from_run(&F, "ci", specs, 2), 0);
    ck_assert_int_eq(F.kind, TUI_FORM_RUN);
    ck_assert_str_eq(F.name, "ci");
    ck_assert_str_eq(F.actions[1].timeout, "600");
    req = tui_form_request(&F, &method);
    ck_assert_ptr_nonnull(req);
    ck_assert_str_eq(method, "run.submit");
    want = cJSON_CreateObject();
    cJSON_AddStringToObject(want, "name", "ci");
    arr = cJSON_AddArrayToObject(want, "actions");
    cJSON_AddItemToArray(arr, hp_action_spec_to_json(&specs[0]));
    cJSON_AddItemToArray(arr, hp_action_spec_to_json(&specs[1]));
    json_eq(req, want);
    cJSON_Delete(want);
    cJSON_Delete(req);
}
END_TEST

START_TEST(the_request_is_what_the_builder_builds)
{
    hp_service_builder *sb;
    hp_run_builder *rb;
    hp_service_config cfg;
    hp_action_spec *specs;
    size_t n;
    cJSON *req, *want, *arr;
    const cJSON *first;

    set(&F.description, "the site");
    two_actions();
    sb = tui_form_service_builder(&F, NULL, NULL);
    ck_assert_int_eq(hp_service_builder_build(sb, &cfg, NULL), HP_OK);
    req = tui_form_request(&F, NULL);
    want = cJSON_CreateObject();
    cJSON_AddItemToObject(want, "config", hp_service_config_to_json(&cfg));
    json_eq(req, want);
    /* in dependency order: build first, though serve was added first */
    first =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(req, "config"), "actions"), 0);
    ck_assert_str_eq(hpt_str(first, "name"), "build");
    cJSON_Delete(want);
    cJSON_Delete(req);
    hp_service_config_free(&cfg);
    hp_service_builder_free(sb);

    as_run("ci");
    two_actions();
    rb = tui_form_run_builder(&F, NULL, NULL);
    ck_assert_int_eq(hp_run_builder_build(rb, &specs, &n, NULL), HP_OK);
    req = tui_form_request(&F, NULL);
    want = cJSON_CreateObject();
    cJSON_AddStringToObject(want, "name", "ci");
    arr = cJSON_AddArrayToObject(want, "actions");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, hp_action_spec_to_json(&specs[i]));
    json_eq(req, want);
    cJSON_Delete(want);
    cJSON_Delete(req);
    hp_actions_free(specs, n);
    hp_run_builder_free(rb);
}
END_TEST

START_TEST(the_command_is_a_heredoc_of_the_json_then_the_start)
{
    char *cmd;

    act("serve", "./serve");
    cmd = tui_form_command(&F);
    ck_assert_str_eq(cmd, "hero_proc service set - <<'EOF'\n"
                          "{\n"
                          "\t\"name\":\t\"web\",\n"
                          "\t\"actions\":\t[{\n"
                          "\t\t\t\"name\":\t\"serve\",\n"
                          "\t\t\t\"script\":\t\"./serve\"\n"
                          "\t\t}],\n"
                          "\t\"wanted\":\t\"stop\"\n"
                          "}\n"
                          "EOF\n");
    free(cmd);
    F.wanted_start = 1;
    cmd = tui_form_command(&F);
    ck_assert_ptr_nonnull(strstr(cmd, "\t\"wanted\":\t\"start\"\n}\nEOF\n"
                                      "hero_proc service start web\n"));
    ck_assert_str_eq(cmd + strlen(cmd) - strlen("EOF\nhero_proc service start web\n"),
                     "EOF\nhero_proc service start web\n");
    free(cmd);
    set(&F.name, "-web");
    cmd = tui_form_command(&F);
    ck_assert_ptr_nonnull(strstr(cmd, "EOF\nhero_proc service start -- -web\n"));
    free(cmd);

    as_run("ci");
    act("test", "make check");
    cmd = tui_form_command(&F);
    ck_assert_str_eq(cmd, "hero_proc run submit - <<'EOF'\n"
                          "{\n"
                          "\t\"name\":\t\"ci\",\n"
                          "\t\"actions\":\t[{\n"
                          "\t\t\t\"name\":\t\"test\",\n"
                          "\t\t\t\"script\":\t\"make check\"\n"
                          "\t\t}]\n"
                          "}\n"
                          "EOF\n");
    free(cmd);
}
END_TEST

START_TEST(submit_sends_nothing_while_the_form_has_problems)
{
    char msg[256];
    int64_t run_id = 7;

    act("serve", "");
    set(&act("test", "make check")->retry, "x");
    /* No client at all: reaching for one would crash or say so. */
    ck_assert_int_eq(tui_form_submit(&F, NULL, &run_id, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "2 problems: service 'web': action 'test': retry 'x' is not a whole "
                          "number");
    ck_assert_int_eq(run_id, 0);
    ck_assert_uint_eq(F.n_problems, 2);
    set(&F.actions[1].retry, "");
    ck_assert_int_eq(tui_form_submit(&F, NULL, NULL, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "1 problem: service 'web': action 'serve': script is empty");
    /* Once valid, it does go to the builder, which has nowhere to send it. */
    set(&F.actions[0].body, "./serve");
    ck_assert_int_eq(tui_form_submit(&F, NULL, NULL, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "service 'web': the builder has no client to save to");
}
END_TEST

/* ---- against a real server ---------------------------------------------------------------- */

static void live_setup(void)
{
    hpt_setup();
    service_setup();
}

static void live_teardown(void)
{
    form_teardown();
    hpt_teardown();
}

/* The service as the server keeps it, in the shape service.set takes. */
static cJSON *server_config(const char *name)
{
    cJSON *got = hpt_ok("service.get", hpt_name(name));

    cJSON_DeleteItemFromObjectCaseSensitive(got, "created_at_ms");
    cJSON_DeleteItemFromObjectCaseSensitive(got, "updated_at_ms");
    return got;
}

START_TEST(submit_saves_and_starts_a_service_and_starts_a_run)
{
    hp_error E;
    hp_client *c = hp_factory_local_uds(hpt_socket_path(), &E);
    char msg[256], want[128];
    int64_t run_id = 0;
    cJSON *req, *got, *run;

    ck_assert_ptr_nonnull(c);
    set(&F.description, "the site");
    act("build", "echo built");
    act("serve", "echo served");
    dep(1, "build");
    ck_assert_int_eq(tui_form_submit(&F, c, &run_id, msg, sizeof(msg)), 0);
    ck_assert_str_eq(msg, "saved service 'web'");
    ck_assert_int_eq(run_id, 0);
    req = tui_form_request(&F, NULL);
    got = server_config("web");
    json_eq(got, cJSON_GetObjectItem(req, "config"));
    cJSON_Delete(got);
    cJSON_Delete(req);

    F.wanted_start = 1;
    ck_assert_int_eq(tui_form_submit(&F, c, &run_id, msg, sizeof(msg)), 0);
    ck_assert_int_gt(run_id, 0);
    snprintf(want, sizeof(want), "saved service 'web' and started it (run %lld)",
             (long long)run_id);
    ck_assert_str_eq(msg, want);
    run = hpt_wait_run(run_id, 20000);
    ck_assert_str_eq(hpt_str(run, "status"), "succeeded");
    cJSON_Delete(run);

    as_run("ci");
    act("test", "echo tested");
    ck_assert_int_eq(tui_form_submit(&F, c, &run_id, msg, sizeof(msg)), 0);
    snprintf(want, sizeof(want), "started run 'ci' (run %lld)", (long long)run_id);
    ck_assert_str_eq(msg, want);
    run = hpt_wait_run(run_id, 20000);
    ck_assert_str_eq(hpt_str(run, "name"), "ci");
    ck_assert_str_eq(hpt_str(run, "status"), "succeeded");
    cJSON_Delete(run);
    hp_client_free(c);
}
END_TEST

/* Runs the form's command lines with sh, hero_proc from the build tree on the test's
 * server; returns the exit status. */
static int run_command(void)
{
    char *cmd = tui_form_command(&F), *path = hpt_path("cmd.sh"), line[8192];
    const char *top = getenv("top_builddir");
    FILE *fp;
    int rc;

    ck_assert_ptr_nonnull(cmd);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(cmd, fp);
    fclose(fp);
    snprintf(line, sizeof(line), "PATH='%s':\"$PATH\" HERO_PROC_SOCKET='%s' sh '%s' >/dev/null",
             top && *top ? top : ".", hpt_socket_path(), path);
    rc = system(line);
    free(cmd);
    free(path);
    return rc;
}

START_TEST(the_command_lines_do_the_same_with_the_real_cli)
{
    cJSON *req, *got, *status;
    tui_form_action *a;

    set(&F.description, "it's \"quoted\"\nand\ttabbed");
    a = act("serve", "echo 'EOF'\necho \"$HOME\" `date` \\\\ done");
    set(&a->env, "A=1\nB=x=y\n");
    set(&a->timeout, "60");
    a = act("build", NULL);
    a->is_command = 1;
    set(&a->body, "echo built");
    dep(0, "build");
    F.wanted_start = 1;
    ck_assert_int_eq(run_command(), 0);
    req = tui_form_request(&F, NULL);
    got = server_config("web");
    json_eq(got, cJSON_GetObjectItem(req, "config"));
    cJSON_Delete(got);
    cJSON_Delete(req);
    status = hpt_ok("service.status", hpt_name("web"));
    ck_assert_int_gt(hpt_int(status, "run_id"), 0);
    cJSON_Delete(status);

    as_run("ci");
    act("test", "echo tested");
    ck_assert_int_eq(run_command(), 0);
    got = hpt_ok("run.list", NULL);
    ck_assert(hpt_json_contains(got, "\"name\":\"ci\""));
    cJSON_Delete(got);
}
END_TEST

static Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *mapping = tcase_create("mapping");
    TCase *problems = tcase_create("problems");
    TCase *editing = tcase_create("editing");
    TCase *sending = tcase_create("sending");
    TCase *live = tcase_create("live");

    tcase_add_checked_fixture(mapping, service_setup, form_teardown);
    tcase_add_test(mapping, a_two_action_service_maps_to_the_builders_config_in_dependency_order);
    tcase_add_test(mapping, requires_reaches_the_builder_and_its_problems_the_field);
    tcase_add_test(mapping, every_field_of_an_action_reaches_its_setter);
    tcase_add_test(mapping, a_command_is_one_line_and_empty_fields_are_not_set);
    suite_add_tcase(s, mapping);

    tcase_add_checked_fixture(problems, service_setup, form_teardown);
    tcase_add_test(problems, a_cycle_goes_to_the_depends_on_of_every_action_on_its_path);
    tcase_add_test(problems, an_unknown_dependency_goes_to_the_depends_on_of_that_action);
    tcase_add_test(problems,
                   a_timeout_that_is_not_a_number_is_a_problem_on_timeout_and_nothing_is_built);
    tcase_add_test(problems, numbers_that_are_not_whole_or_too_large_go_to_their_own_field);
    tcase_add_test(problems, an_env_line_without_an_equals_sign_is_a_problem_on_env);
    tcase_add_test(problems, an_empty_form_has_the_no_actions_problem_on_actions);
    tcase_add_test(problems, an_invalid_service_name_goes_to_name);
    tcase_add_test(problems, restart_always_in_a_run_is_refused_on_restart);
    tcase_add_test(problems, probe_fields_reach_the_builder_and_their_problems_their_fields);
    tcase_add_test(problems, each_problem_of_an_action_lands_on_its_field);
    tcase_add_test(problems,
                   duplicate_names_go_to_every_later_action_of_the_name_and_its_own_problems);
    tcase_add_test(problems, problems_name_actions_as_the_builders_show_them);
    tcase_add_test(problems, a_builder_error_without_problems_is_still_a_problem);
    tcase_add_test(problems, a_new_check_replaces_the_problems_of_the_last);
    suite_add_tcase(s, problems);

    tcase_add_checked_fixture(editing, service_setup, form_teardown);
    tcase_add_test(editing, renaming_an_action_renames_every_dependency_on_it);
    tcase_add_test(editing, removing_an_action_drops_every_dependency_on_it);
    tcase_add_test(editing, moving_swaps_neighbours_and_stops_at_the_ends);
    tcase_add_test(editing, toggling_a_dependency_adds_it_then_removes_it);
    suite_add_tcase(s, editing);

    tcase_add_checked_fixture(sending, service_setup, form_teardown);
    tcase_add_test(sending, a_form_from_a_service_sends_the_same_config_back);
    tcase_add_test(sending, a_form_from_a_run_sends_the_same_actions_back);
    tcase_add_test(sending, the_request_is_what_the_builder_builds);
    tcase_add_test(sending, the_command_is_a_heredoc_of_the_json_then_the_start);
    tcase_add_test(sending, submit_sends_nothing_while_the_form_has_problems);
    suite_add_tcase(s, sending);

    tcase_add_checked_fixture(live, live_setup, live_teardown);
    tcase_add_test(live, submit_saves_and_starts_a_service_and_starts_a_run);
    tcase_add_test(live, the_command_lines_do_the_same_with_the_real_cli);
    suite_add_tcase(s, live);
    return s;
}

int main(void)
{
    return hp_test_run(form_suite());
}
