/* SPDX-License-Identifier: Apache-2.0 */
/* ActionSpec and ServiceConfig: JSON parse and emit, every validation rule of DESIGN
 * section 2 with the exact sentence a user reads, several problems at once, the
 * deterministic order, and the shell-style command split. */
#include "config.h"

#include "check_common.h"
#include "common/spec.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON written with single quotes for readability: 'x' becomes "x". */
static cJSON *json_of(const char *text)
{
    char *copy = strdup(text);
    cJSON *json;

    ck_assert_ptr_nonnull(copy);
    for (char *p = copy; *p; p++)
        if (*p == '\'')
            *p = '"';
    json = cJSON_Parse(copy);
    ck_assert_msg(json != NULL, "test JSON does not parse: %s", copy);
    free(copy);
    return json;
}

/* Writable strings for specs built by hand (the build makes literals const). */
static char s_a[] = "a", s_b[] = "b", s_z[] = "z", s_x[] = "x", s_s[] = "s", s_ok[] = "ok",
            s_tag[] = "tag", s_empty[] = "";

static char *joined(const hp_problems *pb)
{
    static char buf[8192];
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < pb->count && used < sizeof(buf); i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "\n  %s", pb->items[i]);
    return buf;
}

static void assert_problem(const hp_problems *pb, const char *msg)
{
    for (size_t i = 0; i < pb->count; i++)
        if (strcmp(pb->items[i], msg) == 0)
            return;
    ck_abort_msg("missing problem \"%s\"; got:%s", msg, joined(pb));
}

/* Parses an actions array (must parse cleanly) and validates it; problems go to pb. */
static size_t validate_json(const char *kind, const char *name, const char *actions,
                            hp_problems *pb)
{
    cJSON *json = json_of(actions);
    hp_action_spec *a = NULL;
    size_t n = 0, found;
    hp_problems parse = {0};

    ck_assert_msg(hp_actions_from_json(json, &a, &n, "run 'ci'", &parse) == 0, "parse problems:%s",
                  joined(&parse));
    found = hp_spec_validate(kind, name, a, n, pb);
    hp_actions_free(a, n);
    hp_problems_free(&parse);
    cJSON_Delete(json);
    return found;
}

static void assert_only_problem(const char *kind, const char *name, const char *actions,
                                const char *msg)
{
    hp_problems pb = {0};
    size_t found = validate_json(kind, name, actions, &pb);

    ck_assert_msg(found == 1 && pb.count == 1, "expected only \"%s\"; got %zu:%s", msg, found,
                  joined(&pb));
    ck_assert_str_eq(pb.items[0], msg);
    hp_problems_free(&pb);
}

/* 1 when json, printed unformatted, contains text. */
static int contains_text(const cJSON *json, const char *text)
{
    char *printed = cJSON_PrintUnformatted(json);
    int found = printed && strstr(printed, text) != NULL;

    free(printed);
    return found;
}

static const char *const myapp_json =
    "{'name':'myapp','description':'Web service','wanted':'start','actions':["
    "{'name':'prepare','script':'python setup.py','cwd':'/srv/myapp','env':{'MODE':'prod',"
    "'TOKEN':'${secret:TOKEN}'},'timeout_secs':60,'tags':['setup']},"
    "{'name':'start','command':'python app.py --port 8080','depends_on':['prepare'],"
    "'restart':'always','retry':3,'retry_delay_ms':500,'interpreter':'/bin/bash'}]}";

START_TEST(valid_service_parses_with_every_field)
{
    cJSON *json = json_of(myapp_json);
    hp_service_config c;
    hp_problems pb = {0};

    ck_assert_int_eq(hp_service_config_from_json(json, &c, &pb), 0);
    ck_assert_uint_eq(pb.count, 0);
    ck_assert_str_eq(c.name, "myapp");
    ck_assert_str_eq(c.description, "Web service");
    ck_assert_int_eq(c.wanted_start, 1);
    ck_assert_uint_eq(c.n_actions, 2);
    ck_assert_str_eq(c.actions[0].script, "python setup.py");
    ck_assert_str_eq(c.actions[0].cwd, "/srv/myapp");
    ck_assert_uint_eq(c.actions[0].n_env, 2);
    ck_assert_str_eq(c.actions[0].env[1].key, "TOKEN");
    ck_assert_str_eq(c.actions[0].env[1].value, "${secret:TOKEN}");
    ck_assert_int_eq(c.actions[0].timeout_secs, 60);
    ck_assert_str_eq(c.actions[0].tags[0], "setup");
    ck_assert_ptr_null(c.actions[0].command);
    ck_assert_str_eq(c.actions[1].command, "python app.py --port 8080");
    ck_assert_str_eq(c.actions[1].depends_on[0], "prepare");
    ck_assert_int_eq(c.actions[1].restart, HP_RESTART_ALWAYS);
    ck_assert_int_eq(c.actions[1].retry, 3);
    ck_assert_int_eq(c.actions[1].retry_delay_ms, 500);
    ck_assert_uint_eq(hp_service_config_validate(&c, &pb), 0);
    ck_assert_uint_eq(pb.count, 0);
    hp_service_config_free(&c);
    cJSON_Delete(json);
}
END_TEST

START_TEST(service_round_trips_through_to_json_and_from_json)
{
    cJSON *json = json_of(myapp_json), *emitted, *again_json;
    hp_service_config c, again;
    char *text1, *text2;

    ck_assert_int_eq(hp_service_config_from_json(json, &c, NULL), 0);
    emitted = hp_service_config_to_json(&c);
    ck_assert_ptr_nonnull(emitted);
    ck_assert_int_eq(hp_service_config_from_json(emitted, &again, NULL), 0);
    again_json = hp_service_config_to_json(&again);
    text1 = cJSON_PrintUnformatted(emitted);
    text2 = cJSON_PrintUnformatted(again_json);
    ck_assert_str_eq(text1, text2);
    ck_assert_msg(cJSON_Compare(json, emitted, 1), "emitted JSON differs from input: %s", text1);
    ck_assert_str_eq(again.actions[1].interpreter, "/bin/bash");
    ck_assert_int_eq(again.actions[1].restart, HP_RESTART_ALWAYS);
    free(text1);
    free(text2);
    cJSON_Delete(again_json);
    cJSON_Delete(emitted);
    hp_service_config_free(&again);
    hp_service_config_free(&c);
    cJSON_Delete(json);
}
END_TEST

START_TEST(requires_round_trips_and_its_own_mistakes_are_reported_on_it)
{
    cJSON *json = json_of("{'name':'web','requires':['db','cache'],'actions':["
                          "{'name':'main','command':'true'}]}"),
          *emitted;
    hp_service_config c;
    hp_problems pb = {0};

    ck_assert_int_eq(hp_service_config_from_json(json, &c, &pb), 0);
    ck_assert_uint_eq(c.n_requires, 2);
    ck_assert_str_eq(c.requires[1], "cache");
    ck_assert_uint_eq(hp_service_config_validate(&c, &pb), 0);
    emitted = hp_service_config_to_json(&c);
    ck_assert_msg(contains_text(emitted, "\"requires\":[\"db\",\"cache\"]"),
                  "requires is emitted as given");
    cJSON_Delete(emitted);
    hp_service_config_free(&c);
    cJSON_Delete(json);

    json = json_of("{'name':'web','requires':['web','db','db','bad name'],'actions':["
                   "{'name':'main','command':'true'}]}");
    ck_assert_int_eq(hp_service_config_from_json(json, &c, &pb), 0);
    ck_assert_uint_eq(hp_service_config_validate(&c, &pb), 3);
    ck_assert_str_eq(pb.items[0], "service 'web': requires cycle: web -> web");
    ck_assert_str_eq(pb.records[0].path, "/requires/0");
    ck_assert_str_eq(pb.items[1], "service 'web': requires names service 'db' twice");
    ck_assert_str_eq(pb.records[2].path, "/requires/3");
    hp_service_config_free(&c);
    hp_problems_free(&pb);
    cJSON_Delete(json);
    json = json_of("{'name':'web','requires':'db','actions':[{'name':'main','command':'true'}]}");
    ck_assert_int_eq(hp_service_config_from_json(json, &c, &pb), -1);
    ck_assert_str_eq(pb.records[0].path, "/requires");
    hp_service_config_free(&c);
    hp_problems_free(&pb);
    cJSON_Delete(json);
}
END_TEST

START_TEST(action_to_json_omits_defaults_but_keeps_the_name)
{
    hp_action_spec a = {0};
    cJSON *json;
    char *text;

    a.name = strdup("build");
    a.script = strdup("make");
    json = hp_action_spec_to_json(&a);
    text = cJSON_PrintUnformatted(json);
    ck_assert_str_eq(text, "{\"name\":\"build\",\"script\":\"make\"}");
    free(text);
    cJSON_Delete(json);
    hp_action_spec_free(&a);
    json = hp_action_spec_to_json(&a);
    text = cJSON_PrintUnformatted(json);
    ck_assert_str_eq(text, "{\"name\":null}");
    free(text);
    cJSON_Delete(json);
    ck_assert_ptr_null(hp_action_spec_to_json(NULL));
}
END_TEST

START_TEST(duplicate_action_name_is_reported_once)
{
    assert_only_problem("service", "api",
                        "[{'name':'start','script':'a'},{'name':'start','script':'b'},"
                        "{'name':'start','script':'c'}]",
                        "service 'api': duplicate action name 'start'");
}
END_TEST

START_TEST(unknown_dependency_names_the_service_and_the_action)
{
    assert_only_problem("service", "myapp",
                        "[{'name':'start','script':'x','depends_on':['prep','prep']}]",
                        "service 'myapp': action 'start' depends on unknown action 'prep'");
}
END_TEST

START_TEST(cycle_is_reported_once_as_its_path)
{
    assert_only_problem("run", "ci",
                        "[{'name':'a','script':'x','depends_on':['b']},"
                        "{'name':'b','script':'x','depends_on':['c']},"
                        "{'name':'c','script':'x','depends_on':['a']}]",
                        "run 'ci': dependency cycle: a -> b -> c -> a");
}
END_TEST

START_TEST(cycle_path_starts_from_the_earliest_inserted_action)
{
    /* The walk enters the cycle at c (through z), yet the path starts at b. */
    assert_only_problem("run", "ci",
                        "[{'name':'z','script':'x','depends_on':['c']},"
                        "{'name':'b','script':'x','depends_on':['c']},"
                        "{'name':'c','script':'x','depends_on':['b']}]",
                        "run 'ci': dependency cycle: b -> c -> b");
}
END_TEST

START_TEST(two_separate_cycles_are_both_reported)
{
    hp_problems pb = {0};

    ck_assert_uint_eq(validate_json("run", "ci",
                                    "[{'name':'a','script':'x','depends_on':['b']},"
                                    "{'name':'b','script':'x','depends_on':['a']},"
                                    "{'name':'c','script':'x','depends_on':['d']},"
                                    "{'name':'d','script':'x','depends_on':['c']}]",
                                    &pb),
                      2);
    ck_assert_str_eq(pb.items[0], "run 'ci': dependency cycle: a -> b -> a");
    ck_assert_str_eq(pb.items[1], "run 'ci': dependency cycle: c -> d -> c");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(a_long_cycle_path_is_shortened_to_stay_readable)
{
    hp_action_spec a[20];
    char names[20][8], *deps[20];
    hp_problems pb = {0};

    memset(a, 0, sizeof(a));
    for (size_t i = 0; i < 20; i++) {
        snprintf(names[i], sizeof(names[i]), "s%zu", i);
        a[i].name = names[i];
        a[i].script = names[i];
    }
    for (size_t i = 0; i < 20; i++) {
        deps[i] = names[(i + 1) % 20];
        a[i].depends_on = &deps[i];
        a[i].n_depends_on = 1;
    }
    ck_assert_uint_eq(hp_spec_validate("run", "ci", a, 20, &pb), 1);
    ck_assert_str_eq(pb.items[0], "run 'ci': dependency cycle: s0 -> s1 -> s2 -> s3 -> s4 -> s5 "
                                  "-> s6 -> s7 -> s8 -> s9 -> s10 -> s11 -> s12 -> s13 -> s14 "
                                  "-> s15 -> ... -> s0");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(self_dependency_is_a_cycle_of_one)
{
    assert_only_problem("run", "ci", "[{'name':'a','script':'x','depends_on':['a']}]",
                        "run 'ci': dependency cycle: a -> a");
}
END_TEST

START_TEST(both_script_and_command_are_refused)
{
    assert_only_problem("run", "ci", "[{'name':'x','script':'make','command':'make'}]",
                        "run 'ci': action 'x' has both script and command; give exactly one");
}
END_TEST

START_TEST(neither_script_nor_command_is_refused)
{
    assert_only_problem("run", "ci", "[{'name':'x','cwd':'/tmp'}]",
                        "run 'ci': action 'x' has neither script nor command");
}
END_TEST

START_TEST(empty_script_and_empty_command_are_refused)
{
    assert_only_problem("run", "ci", "[{'name':'x','script':'  \\n'}]",
                        "run 'ci': action 'x': script is empty");
    assert_only_problem("run", "ci", "[{'name':'x','command':' '}]",
                        "run 'ci': action 'x': command is empty");
}
END_TEST

START_TEST(command_that_cannot_be_split_is_refused)
{
    assert_only_problem("run", "ci", "[{'name':'x','command':'echo \\'hi'}]",
                        "run 'ci': action 'x': command cannot be split: unterminated quote");
}
END_TEST

START_TEST(bad_action_name_shows_control_characters_escaped)
{
    hp_action_spec a = {0};
    hp_problems pb = {0};

    a.name = strdup("a\001b");
    a.script = strdup("true");
    ck_assert_uint_eq(hp_spec_validate("run", "ci", &a, 1, &pb), 1);
    ck_assert_str_eq(pb.items[0], "run 'ci': action name 'a\\x01b' is invalid: use 1 to 64 "
                                  "characters of A-Z a-z 0-9 _ . -");
    hp_problems_free(&pb);
    hp_action_spec_free(&a);
}
END_TEST

START_TEST(long_and_odd_names_are_cut_and_escaped_for_display)
{
    char name[200], buf[HP_NAME_SHOW_SIZE], small[8];

    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    hp_name_show(name, buf, sizeof(buf));
    ck_assert_uint_eq(strlen(buf), 64);
    ck_assert_str_eq(buf + 61, "...");
    name[64] = '\0';
    ck_assert_str_eq(hp_name_show(name, buf, sizeof(buf)), name); /* 64 fits whole */
    ck_assert_str_eq(hp_name_show("tab\there\\\x7f\xc3\xa9", buf, sizeof(buf)),
                     "tab\\x09here\\\\\\x7f\\xc3\\xa9");
    ck_assert_str_eq(hp_name_show("abcdefghij", small, sizeof(small)), "abcd...");
    ck_assert_str_eq(hp_name_show(NULL, buf, sizeof(buf)), "");
    ck_assert_int_eq(hp_name_is_valid(name), 1);
    name[64] = 'n';
    name[65] = '\0';
    ck_assert_int_eq(hp_name_is_valid(name), 0);
    ck_assert_int_eq(hp_name_is_valid(""), 0);
    ck_assert_int_eq(hp_name_is_valid(NULL), 0);
    ck_assert_int_eq(hp_name_is_valid("web-1.api_v2"), 1);
    ck_assert_int_eq(hp_name_is_valid("a b"), 0);
}
END_TEST

START_TEST(out_of_range_timeout_is_refused)
{
    assert_only_problem("run", "ci", "[{'name':'x','script':'s','timeout_secs':604801}]",
                        "run 'ci': action 'x': timeout_secs must be between 0 and 604800");
    assert_only_problem("run", "ci", "[{'name':'x','script':'s','timeout_secs':-1}]",
                        "run 'ci': action 'x': timeout_secs must be between 0 and 604800");
    ck_assert_uint_eq(
        validate_json("run", "ci", "[{'name':'x','script':'s','timeout_secs':604800}]", NULL), 0);
}
END_TEST

START_TEST(out_of_range_retry_and_retry_delay_are_refused)
{
    hp_problems pb = {0};

    ck_assert_uint_eq(validate_json("run", "ci",
                                    "[{'name':'x','script':'s','retry':101,"
                                    "'retry_delay_ms':3600001}]",
                                    &pb),
                      2);
    ck_assert_str_eq(pb.items[0], "run 'ci': action 'x': retry must be between 0 and 100");
    ck_assert_str_eq(pb.items[1],
                     "run 'ci': action 'x': retry_delay_ms must be between 0 and 3600000");
    hp_problems_free(&pb);
    ck_assert_uint_eq(validate_json("run", "ci",
                                    "[{'name':'x','script':'s','retry':100,"
                                    "'retry_delay_ms':3600000}]",
                                    NULL),
                      0);
}
END_TEST

START_TEST(restart_always_is_refused_in_a_run_but_allowed_in_a_service)
{
    const char *actions = "[{'name':'x','script':'s','restart':'always'}]";

    assert_only_problem("run", "ci", actions,
                        "run 'ci': action 'x': restart 'always' is only allowed in services");
    ck_assert_uint_eq(validate_json("service", "web", actions, NULL), 0);
    ck_assert_uint_eq(
        validate_json("run", "ci", "[{'name':'x','script':'s','restart':'on_failure'}]", NULL), 0);
}
END_TEST

START_TEST(too_many_actions_and_no_actions_are_refused)
{
    hp_action_spec a[HP_ACTIONS_MAX + 1];
    char names[HP_ACTIONS_MAX + 1][16];
    hp_problems pb = {0};

    memset(a, 0, sizeof(a));
    for (size_t i = 0; i <= HP_ACTIONS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "step%zu", i);
        a[i].name = names[i];
        a[i].script = names[i];
    }
    ck_assert_uint_eq(hp_spec_validate("service", "big", a, HP_ACTIONS_MAX, NULL), 0);
    ck_assert_uint_eq(hp_spec_validate("service", "big", a, HP_ACTIONS_MAX + 1, &pb), 1);
    ck_assert_str_eq(pb.items[0], "service 'big' has 65 actions; at most 64 are allowed");
    hp_problems_free(&pb);
    ck_assert_uint_eq(hp_spec_validate("run", "ci", NULL, 0, &pb), 1);
    ck_assert_str_eq(pb.items[0], "run 'ci' has no actions; give at least one");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(bad_env_keys_are_refused)
{
    hp_problems pb = {0};

    ck_assert_uint_eq(validate_json("run", "ci",
                                    "[{'name':'x','script':'s','env':{'1BAD':'v','OK_1':'v',"
                                    "'A-B':'v','_fine':'v','OK_1':'w'}}]",
                                    &pb),
                      3);
    ck_assert_str_eq(pb.items[0], "run 'ci': action 'x': env key '1BAD' is invalid: use A-Z "
                                  "a-z 0-9 _ and do not start with a digit");
    ck_assert_str_eq(pb.items[1], "run 'ci': action 'x': env key 'A-B' is invalid: use A-Z "
                                  "a-z 0-9 _ and do not start with a digit");
    ck_assert_str_eq(pb.items[2], "run 'ci': action 'x': duplicate env key 'OK_1'");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(control_characters_in_cwd_and_interpreter_are_refused)
{
    hp_problems pb = {0};

    ck_assert_uint_eq(validate_json("run", "ci",
                                    "[{'name':'x','script':'s','cwd':'/tmp\\n',"
                                    "'interpreter':'/bin/sh\\u007f'}]",
                                    &pb),
                      2);
    assert_problem(&pb, "run 'ci': action 'x': cwd contains a control character");
    assert_problem(&pb, "run 'ci': action 'x': interpreter contains a control character");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(tags_are_bounded)
{
    hp_action_spec a = {0};
    char *tags[HP_TAGS_MAX + 1];
    char long_tag[HP_TAG_MAX + 2];
    hp_problems pb = {0};

    memset(long_tag, 't', sizeof(long_tag) - 1);
    long_tag[sizeof(long_tag) - 1] = '\0';
    for (size_t i = 0; i <= HP_TAGS_MAX; i++)
        tags[i] = s_tag;
    tags[1] = long_tag;
    tags[2] = s_empty;
    a.name = s_x;
    a.script = s_s;
    a.tags = tags;
    a.n_tags = HP_TAGS_MAX + 1;
    ck_assert_uint_eq(hp_spec_validate("run", "ci", &a, 1, &pb), 3);
    ck_assert_str_eq(pb.items[0], "run 'ci': action 'x' has 33 tags; at most 32 are allowed");
    ck_assert_str_eq(pb.items[2], "run 'ci': action 'x': tag '' must be 1 to 64 bytes");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(several_problems_are_reported_at_once)
{
    hp_problems pb = {0};
    size_t found = validate_json("run", "bad name",
                                 "[{'name':'a','script':'s','command':'c','depends_on':['b']},"
                                 "{'name':'b','depends_on':['a','zz'],'timeout_secs':-5},"
                                 "{'name':'a','script':'s','restart':'always'}]",
                                 &pb);

    ck_assert_msg(found == 8 && pb.count == 8, "got %zu:%s", found, joined(&pb));
    ck_assert_str_eq(pb.items[0], "run name 'bad name' is invalid: use 1 to 64 characters of "
                                  "A-Z a-z 0-9 _ . -");
    ck_assert_str_eq(pb.items[1], "run 'bad name': action 'a' has both script and command; "
                                  "give exactly one");
    ck_assert_str_eq(pb.items[2], "run 'bad name': action 'b' has neither script nor command");
    ck_assert_str_eq(pb.items[3],
                     "run 'bad name': action 'b': timeout_secs must be between 0 and 604800");
    ck_assert_str_eq(pb.items[4], "run 'bad name': action 'b' depends on unknown action 'zz'");
    ck_assert_str_eq(pb.items[5], "run 'bad name': duplicate action name 'a'");
    ck_assert_str_eq(pb.items[6],
                     "run 'bad name': action 'a': restart 'always' is only allowed in services");
    ck_assert_str_eq(pb.items[7], "run 'bad name': dependency cycle: a -> b -> a");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(wrong_json_types_are_reported)
{
    cJSON *json = json_of("{'name':'x','script':5,'timeout_secs':'10','retry':1.5,"
                          "'depends_on':'a','env':['A'],'tags':[1],'cwd':null,'extra':true}");
    hp_action_spec a;
    hp_problems pb = {0};

    ck_assert_int_eq(hp_action_spec_from_json(json, &a, "run 'ci'", &pb), -1);
    ck_assert_msg(pb.count == 7, "got:%s", joined(&pb));
    assert_problem(&pb, "run 'ci': action 'x': unknown field 'extra'");
    assert_problem(&pb, "run 'ci': action 'x': script must be a string");
    assert_problem(&pb, "run 'ci': action 'x': timeout_secs must be an integer");
    assert_problem(&pb, "run 'ci': action 'x': retry must be an integer");
    assert_problem(&pb, "run 'ci': action 'x': depends_on must be an array of strings");
    assert_problem(&pb, "run 'ci': action 'x': env must be an object");
    assert_problem(&pb, "run 'ci': action 'x': tags must be an array of strings");
    ck_assert_str_eq(a.name, "x");
    ck_assert_ptr_null(a.script);
    ck_assert_int_eq(a.timeout_secs, 0);
    hp_action_spec_free(&a);
    hp_problems_free(&pb);
    cJSON_Delete(json);
}
END_TEST

/* A typo in a field name used to be stored and silently do nothing. */
START_TEST(unknown_fields_are_refused_with_the_field_meant)
{
    cJSON *json = json_of("{'name':'svc','bogus':1,'actions':["
                          "{'name':'a','scirpt':'echo hi','timeout_sec':1},"
                          "{'name':'b','script':'true','depend':['a'],'zzzzzz':0}]}");
    hp_service_config c;
    hp_problems pb = {0};

    ck_assert_int_eq(hp_service_config_from_json(json, &c, &pb), -1);
    ck_assert_msg(pb.count == 5, "got:%s", joined(&pb));
    assert_problem(&pb, "service 'svc': unknown field 'bogus'");
    assert_problem(&pb, "service 'svc': action 'a': unknown field 'scirpt' (at "
                        "actions[0].scirpt); did you mean script?");
    assert_problem(&pb, "service 'svc': action 'a': unknown field 'timeout_sec' (at "
                        "actions[0].timeout_sec); did you mean timeout_secs?");
    assert_problem(&pb, "service 'svc': action 'b': unknown field 'depend' (at "
                        "actions[1].depend); did you mean depends_on?");
    assert_problem(&pb, "service 'svc': action 'b': unknown field 'zzzzzz' (at "
                        "actions[1].zzzzzz)");
    hp_service_config_free(&c);
    hp_problems_free(&pb);
    cJSON_Delete(json);
}
END_TEST

/* What a server answers may carry more (a record's times; fields of a newer server). */
START_TEST(lenient_parsing_skips_unknown_fields)
{
    cJSON *json = json_of("{'name':'svc','created_at_ms':5,'actions':["
                          "{'name':'a','script':'true','future':1}]}");
    hp_service_config c;
    hp_action_spec *a = NULL;
    size_t n = 0;

    ck_assert_int_eq(hp_service_config_from_json_lenient(json, &c, NULL), 0);
    ck_assert_str_eq(c.actions[0].script, "true");
    ck_assert_int_eq(
        hp_actions_from_json_lenient(cJSON_GetObjectItem(json, "actions"), &a, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    hp_actions_free(a, n);
    hp_service_config_free(&c);
    cJSON_Delete(json);
}
END_TEST

/* Names become folder names once logs move to files. */
START_TEST(dot_and_dot_dot_are_not_names)
{
    char dots[] = "..", script[] = "true";
    hp_action_spec a = {.name = dots, .script = script};
    hp_problems pb = {0};

    ck_assert(!hp_name_is_valid("."));
    ck_assert(!hp_name_is_valid(".."));
    ck_assert(hp_name_is_valid("..."));
    ck_assert(hp_name_is_valid(".a"));
    ck_assert_uint_eq(hp_spec_validate("service", ".", &a, 1, &pb), 2);
    assert_problem(&pb, "service name '.' is invalid: '.' and '..' are not names, as names "
                        "become folder names");
    assert_problem(&pb, "service '.': action name '..' is invalid: '.' and '..' are not names, "
                        "as names become folder names");
    hp_problems_free(&pb);
}
END_TEST

START_TEST(unknown_enum_values_huge_numbers_and_non_string_env_are_reported)
{
    cJSON *json = json_of("{'name':'svc','wanted':'maybe','description':7,'actions':["
                          "{'name':'x','script':'s','restart':'sometimes','env':{'A':1},"
                          "'timeout_secs':1e300},"
                          "[1],"
                          "{'name':3,'script':'s'}]}");
    hp_service_config c;
    hp_problems pb = {0};

    ck_assert_int_eq(hp_service_config_from_json(json, &c, &pb), -1);
    ck_assert_msg(pb.count == 7, "got:%s", joined(&pb));
    assert_problem(&pb, "service 'svc': description must be a string");
    assert_problem(&pb, "service 'svc': action 'x': restart must be one of never, on_failure, "
                        "always (got 'sometimes')");
    assert_problem(&pb, "service 'svc': action 'x': env value of 'A' must be a string");
    assert_problem(&pb, "service 'svc': action 'x': timeout_secs must be between 0 and 604800");
    assert_problem(&pb, "service 'svc': action #2 must be an object");
    assert_problem(&pb, "service 'svc': action #3: name must be a string");
    assert_problem(&pb, "service 'svc': wanted must be 'start' or 'stop'");
    ck_assert_uint_eq(c.n_actions, 3);
    hp_service_config_free(&c);
    hp_problems_free(&pb);
    cJSON_Delete(json);
}
END_TEST

START_TEST(service_config_rules_cover_name_and_description)
{
    hp_service_config c = {0};
    hp_action_spec a = {0};
    char description[HP_DESCRIPTION_MAX + 2];
    hp_problems pb = {0};

    memset(description, 'd', sizeof(description) - 1);
    description[sizeof(description) - 1] = '\0';
    a.name = s_x;
    a.script = s_s;
    c.actions = &a;
    c.n_actions = 1;
    c.description = description;
    ck_assert_uint_eq(hp_service_config_validate(&c, &pb), 2);
    ck_assert_str_eq(pb.items[0], "service name is missing");
    ck_assert_str_eq(pb.items[1], "service (unnamed): description is longer than 1024 bytes");
    hp_problems_free(&pb);
    description[HP_DESCRIPTION_MAX] = '\0';
    c.name = s_ok;
    ck_assert_uint_eq(hp_service_config_validate(&c, NULL), 0);
}
END_TEST

START_TEST(order_puts_dependencies_first_with_ties_in_insertion_order)
{
    cJSON *json = json_of("[{'name':'deploy','script':'s','depends_on':['test','build']},"
                          "{'name':'test','script':'s','depends_on':['build']},"
                          "{'name':'lint','script':'s'},"
                          "{'name':'build','script':'s','depends_on':['fetch']},"
                          "{'name':'fetch','script':'s'},"
                          "{'name':'docs','script':'s'}]");
    hp_action_spec *a;
    size_t n, order[6];
    const size_t expected[6] = {2, 4, 3, 1, 0, 5}; /* lint fetch build test deploy docs */

    ck_assert_int_eq(hp_actions_from_json(json, &a, &n, "run 'ci'", NULL), 0);
    ck_assert_uint_eq(n, 6);
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(hp_spec_order(a, n, order), 0);
        for (size_t i = 0; i < n; i++)
            ck_assert_uint_eq(order[i], expected[i]);
    }
    hp_actions_free(a, n);
    cJSON_Delete(json);
}
END_TEST

START_TEST(order_fails_on_a_cycle_or_an_unknown_dependency)
{
    hp_action_spec a[2] = {{0}};
    char *to_b[] = {s_b}, *to_a[] = {s_a}, *to_z[] = {s_z};
    size_t order[2];

    a[0].name = s_a;
    a[1].name = s_b;
    a[0].depends_on = to_b;
    a[0].n_depends_on = 1;
    a[1].depends_on = to_a;
    a[1].n_depends_on = 1;
    ck_assert_int_eq(hp_spec_order(a, 2, order), -1);
    a[1].depends_on = to_z;
    ck_assert_int_eq(hp_spec_order(a, 2, order), -1);
    a[1].n_depends_on = 0;
    ck_assert_int_eq(hp_spec_order(a, 2, order), 0);
    ck_assert_uint_eq(order[0], 1);
    ck_assert_uint_eq(order[1], 0);
    ck_assert_int_eq(hp_spec_order(NULL, 0, NULL), 0);
}
END_TEST

static void assert_split(const char *cmd, const char *const *expected)
{
    hp_error err;
    char **argv = hp_split_command(cmd, &err);
    size_t i;

    ck_assert_msg(argv != NULL, "split of [%s] failed: %s", cmd, err.message);
    for (i = 0; expected[i]; i++) {
        ck_assert_msg(argv[i] != NULL, "split of [%s] lacks word %zu", cmd, i);
        ck_assert_str_eq(argv[i], expected[i]);
    }
    ck_assert_msg(argv[i] == NULL, "split of [%s] has extra word [%s]", cmd, argv[i]);
    hp_argv_free(argv);
}

START_TEST(split_command_separates_words_and_honours_quotes)
{
    assert_split("  python   app.py\t--port 8080\n",
                 (const char *const[]){"python", "app.py", "--port", "8080", NULL});
    assert_split("echo 'a  b' \"c  d\" e'f g'h",
                 (const char *const[]){"echo", "a  b", "c  d", "ef gh", NULL});
    assert_split("printf '' \"\" x", (const char *const[]){"printf", "", "", "x", NULL});
    assert_split("echo '$HOME \\n *' \"*.c\"",
                 (const char *const[]){"echo", "$HOME \\n *", "*.c", NULL});
}
END_TEST

START_TEST(split_command_honours_backslash_escapes)
{
    assert_split("echo a\\ b \\'c\\\" \\\\",
                 (const char *const[]){"echo", "a b", "'c\"", "\\", NULL});
    assert_split("echo \"q\\\"x\\\\ \\$v \\`t\\` \\n\"",
                 (const char *const[]){"echo", "q\"x\\ $v `t` \\n", NULL});
    assert_split("ls \\\n-l", (const char *const[]){"ls", "-l", NULL});
}
END_TEST

START_TEST(split_command_reports_unterminated_quotes)
{
    hp_error err;

    ck_assert_ptr_null(hp_split_command("echo 'abc", &err));
    ck_assert_int_eq(err.code, HP_E_VALIDATION);
    ck_assert_str_eq(err.message, "unterminated quote");
    ck_assert_ptr_null(hp_split_command("echo \"abc\\\"", &err));
    ck_assert_str_eq(err.message, "unterminated quote");
    ck_assert_ptr_null(hp_split_command("'", NULL));
}
END_TEST

START_TEST(split_command_reports_empty_commands_and_trailing_backslash)
{
    hp_error err;

    ck_assert_ptr_null(hp_split_command("", &err));
    ck_assert_int_eq(err.code, HP_E_VALIDATION);
    ck_assert_str_eq(err.message, "empty command");
    ck_assert_ptr_null(hp_split_command(" \t\n", &err));
    ck_assert_str_eq(err.message, "empty command");
    ck_assert_ptr_null(hp_split_command(NULL, &err));
    ck_assert_str_eq(err.message, "empty command");
    ck_assert_ptr_null(hp_split_command("echo \\", &err));
    ck_assert_str_eq(err.message, "trailing backslash");
}
END_TEST

START_TEST(copy_is_deep_and_independent)
{
    cJSON *json = json_of(myapp_json);
    hp_service_config c;
    hp_action_spec copy;
    cJSON *a, *b;

    ck_assert_int_eq(hp_service_config_from_json(json, &c, NULL), 0);
    ck_assert_int_eq(hp_action_spec_copy(&copy, &c.actions[0]), 0);
    ck_assert_ptr_ne(copy.name, c.actions[0].name);
    ck_assert_ptr_ne(copy.env, c.actions[0].env);
    a = hp_action_spec_to_json(&c.actions[0]);
    hp_service_config_free(&c);
    b = hp_action_spec_to_json(&copy);
    ck_assert(cJSON_Compare(a, b, 1));
    cJSON_Delete(a);
    cJSON_Delete(b);
    hp_action_spec_free(&copy);
    ck_assert_int_eq(hp_action_spec_copy(&copy, NULL), -1);
    ck_assert_ptr_null(copy.name);
    cJSON_Delete(json);
}
END_TEST

START_TEST(restart_names_parse_and_print)
{
    hp_restart r = HP_RESTART_ALWAYS;

    ck_assert_str_eq(hp_restart_name(HP_RESTART_NEVER), "never");
    ck_assert_str_eq(hp_restart_name(HP_RESTART_ON_FAILURE), "on_failure");
    ck_assert_str_eq(hp_restart_name(HP_RESTART_ALWAYS), "always");
    ck_assert_int_eq(hp_restart_parse("on_failure", &r), 0);
    ck_assert_int_eq(r, HP_RESTART_ON_FAILURE);
    ck_assert_int_eq(hp_restart_parse("on-failure", &r), -1);
    ck_assert_int_eq(hp_restart_parse(NULL, &r), -1);
    ck_assert_int_eq(r, HP_RESTART_ON_FAILURE);
}
END_TEST

START_TEST(problems_keep_a_bounded_list_but_count_everything)
{
    hp_action_spec a[HP_ACTIONS_MAX] = {{0}};
    hp_problems pb = {0};

    for (size_t i = 0; i < HP_ACTIONS_MAX; i++) {
        a[i].name = s_x;
        a[i].retry = -1;
        a[i].timeout_secs = -1;
    }
    /* 1 duplicate + 64 * 3 (no program, timeout, retry) */
    ck_assert_uint_eq(hp_spec_validate("run", "ci", a, HP_ACTIONS_MAX, &pb), 193);
    ck_assert_uint_eq(pb.count, HP_PROBLEMS_MAX + 1);
    ck_assert_str_eq(pb.items[HP_PROBLEMS_MAX],
                     "more problems were found; only the first 100 are shown");
    hp_problems_free(&pb);
    ck_assert_uint_eq(pb.count, 0);
    hp_problems_add(&pb, "reused %d", 1);
    ck_assert_str_eq(pb.items[0], "reused 1");
    hp_problems_free(&pb);
}
END_TEST

/* ---- problem records: codes and paths ------------------------------------------------ */

/* The item a JSON pointer names in json (RFC 6901), NULL when there is none. */
static const cJSON *at_pointer(const cJSON *json, const char *path)
{
    char token[128];

    while (json && *path == '/') {
        size_t len = 0;
        for (path++; *path && *path != '/' && len + 1 < sizeof(token); path++) {
            if (path[0] == '~' && (path[1] == '0' || path[1] == '1')) {
                token[len++] = path[1] == '0' ? '~' : '/';
                path++;
            } else {
                token[len++] = *path;
            }
        }
        token[len] = '\0';
        if (cJSON_IsArray(json)) {
            char *end;
            long i = strtol(token, &end, 10);
            json = *end || i < 0 ? NULL : cJSON_GetArrayItem(json, (int)i);
        } else {
            json = cJSON_GetObjectItemCaseSensitive(json, token);
        }
    }
    return *path ? NULL : json;
}

/* Every problem of a service config (kind "service") or a run ({name, actions}) written
 * as JSON: parsed, then validated, as a server does. */
static size_t problems_of(const char *kind, const cJSON *json, hp_problems *pb)
{
    size_t found = 0;

    if (strcmp(kind, "service") == 0) {
        hp_service_config c = {0};
        found += hp_service_config_from_json(json, &c, pb) != 0;
        found += hp_service_config_validate(&c, pb);
        hp_service_config_free(&c);
    } else {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "name");
        hp_action_spec *a = NULL;
        size_t n = 0;
        found += hp_actions_from_json(cJSON_GetObjectItemCaseSensitive(json, "actions"), &a, &n,
                                      "run 'ci'", pb) != 0;
        found += hp_spec_validate("run", cJSON_GetStringValue(name), a, n, pb);
        hp_actions_free(a, n);
    }
    return found;
}

static int seen_codes[HP_PROBLEM__COUNT];

/* pb holds a record of code at path; when present, the path names an item of json. Returns
 * the record. */
static const hp_problem *assert_record(const hp_problems *pb, const cJSON *json,
                                       hp_problem_code code, const char *path, int present)
{
    for (size_t i = 0; i < pb->count; i++) {
        const hp_problem *p = &pb->records[i];
        if (p->code != code || strcmp(p->path, path) != 0)
            continue;
        ck_assert_ptr_eq(pb->items[i], p->message);
        ck_assert_uint_le(p->detail, strlen(p->message));
        if (present)
            ck_assert_msg(at_pointer(json, path) != NULL, "%s names nothing in the input", path);
        seen_codes[code] = 1;
        return p;
    }
    ck_abort_msg("no %s at \"%s\"; got:%s", hp_problem_code_name(code), path, joined(pb));
    return NULL;
}

#define A0 "'actions':[{'name':'a','script':'true'"

static void records_of_json(void)
{
    static const struct {
        const char *kind, *json;
        hp_problem_code code;
        const char *path;
        int present; /* the path names a field of the input (not a missing one) */
    } cases[] = {
        {"service", "{'name':'my web'," A0 "}]}", HP_PROBLEM_NAME_INVALID, "/name", 1},
        {"service", "{" A0 "}]}", HP_PROBLEM_NAME_MISSING, "/name", 0},
        {"service", "{'name':5," A0 "}]}", HP_PROBLEM_FIELD_TYPE, "/name", 1},
        {"service", "{'name':'web'," A0 "},{'script':'x'}]}", HP_PROBLEM_NAME_MISSING,
         "/actions/1/name", 0},
        {"service", "{'name':'web'," A0 "},{'name':'b c','script':'x'}]}", HP_PROBLEM_NAME_INVALID,
         "/actions/1/name", 1},
        {"service", "{'name':'web'," A0 "},{'name':'b','script':'x'},{'name':'a','script':'x'}]}",
         HP_PROBLEM_NAME_DUPLICATE, "/actions/2/name", 1},
        {"service", "{'name':'web','actions':[]}", HP_PROBLEM_ACTIONS_EMPTY, "/actions", 1},
        {"service", "{'name':'web','actions':{}}", HP_PROBLEM_FIELD_TYPE, "/actions", 1},
        {"service", "{'name':'web'," A0 "},3]}", HP_PROBLEM_FIELD_TYPE, "/actions/1", 1},
        {"service", "{'name':'web'," A0 ",'command':'true'}]}", HP_PROBLEM_PROGRAM_BOTH,
         "/actions/0/command", 1},
        {"service", "{'name':'web','actions':[{'name':'a'}]}", HP_PROBLEM_PROGRAM_MISSING,
         "/actions/0/script", 0},
        {"service", "{'name':'web','actions':[{'name':'a','script':' '}]}", HP_PROBLEM_VALUE_EMPTY,
         "/actions/0/script", 1},
        {"service", "{'name':'web','actions':[{'name':'a','command':''}]}", HP_PROBLEM_VALUE_EMPTY,
         "/actions/0/command", 1},
        {"service", "{'name':'web','actions':[{'name':'a','command':'echo \\\"x'}]}",
         HP_PROBLEM_COMMAND_SPLIT, "/actions/0/command", 1},
        {"service", "{'name':'web'," A0 ",'cwd':''}]}", HP_PROBLEM_VALUE_EMPTY, "/actions/0/cwd",
         1},
        {"service", "{'name':'web'," A0 ",'interpreter':'/bin/sh\\u0001'}]}",
         HP_PROBLEM_VALUE_CONTROL, "/actions/0/interpreter", 1},
        {"service", "{'name':'web'," A0 ",'timeout_secs':604801}]}", HP_PROBLEM_VALUE_RANGE,
         "/actions/0/timeout_secs", 1},
        {"service", "{'name':'web'," A0 ",'timeout_secs':1e12}]}", HP_PROBLEM_VALUE_RANGE,
         "/actions/0/timeout_secs", 1},
        {"service", "{'name':'web'," A0 ",'timeout_secs':'5'}]}", HP_PROBLEM_FIELD_TYPE,
         "/actions/0/timeout_secs", 1},
        {"service", "{'name':'web'," A0 ",'retry':101}]}", HP_PROBLEM_VALUE_RANGE,
         "/actions/0/retry", 1},
        {"service", "{'name':'web'," A0 ",'retry_delay_ms':3600001}]}", HP_PROBLEM_VALUE_RANGE,
         "/actions/0/retry_delay_ms", 1},
        {"run", "{'name':'ci'," A0 ",'restart':'always'}]}", HP_PROBLEM_RESTART_SERVICE_ONLY,
         "/actions/0/restart", 1},
        {"service", "{'name':'web'," A0 ",'restart':'sometimes'}]}", HP_PROBLEM_VALUE_CHOICE,
         "/actions/0/restart", 1},
        {"service", "{'name':'web','wanted':'maybe'," A0 "}]}", HP_PROBLEM_VALUE_CHOICE, "/wanted",
         1},
        {"service", "{'name':'web'," A0 ",'env':{'1PORT':'80'}}]}", HP_PROBLEM_ENV_KEY_INVALID,
         "/actions/0/env/1PORT", 1},
        {"service", "{'name':'web'," A0 ",'env':{'a/b~c':'1'}}]}", HP_PROBLEM_ENV_KEY_INVALID,
         "/actions/0/env/a~1b~0c", 1},
        {"service", "{'name':'web'," A0 ",'env':{'A':'1','A':'2'}}]}", HP_PROBLEM_ENV_KEY_DUPLICATE,
         "/actions/0/env/A", 1},
        {"service", "{'name':'web'," A0 ",'env':{'PORT':8080}}]}", HP_PROBLEM_FIELD_TYPE,
         "/actions/0/env/PORT", 1},
        {"service", "{'name':'web'," A0 ",'tags':['ok','']}]}", HP_PROBLEM_VALUE_LENGTH,
         "/actions/0/tags/1", 1},
        {"service", "{'name':'web'," A0 ",'tags':['a\\u0001']}]}", HP_PROBLEM_VALUE_CONTROL,
         "/actions/0/tags/0", 1},
        {"service", "{'name':'web'," A0 ",'depends_on':['a',3]}]}", HP_PROBLEM_FIELD_TYPE,
         "/actions/0/depends_on/1", 1},
        {"run", "{'name':'ci'," A0 "},{'name':'b','script':'x','depends_on':['a','zz']}]}",
         HP_PROBLEM_DEP_UNKNOWN, "/actions/1/depends_on/1", 1},
        {"service", "{'name':'web'," A0 ",'timeout_sec':5}]}", HP_PROBLEM_FIELD_UNKNOWN,
         "/actions/0/timeout_sec", 1},
        {"service", "{'name':'web','descripton':'x'," A0 "}]}", HP_PROBLEM_FIELD_UNKNOWN,
         "/descripton", 1},
        {"service", "{'name':'web','description':5," A0 "}]}", HP_PROBLEM_FIELD_TYPE,
         "/description", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'tcp':'db'}}]}", HP_PROBLEM_VALUE_FORM,
         "/actions/0/probe/tcp", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'tcp':'db:70000'}}]}", HP_PROBLEM_VALUE_FORM,
         "/actions/0/probe/tcp", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'http':'localhost:80/'}}]}",
         HP_PROBLEM_VALUE_FORM, "/actions/0/probe/http", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'exec':'echo \\\"x'}}]}",
         HP_PROBLEM_COMMAND_SPLIT, "/actions/0/probe/exec", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'exec':'true','timeout_ms':0}}]}",
         HP_PROBLEM_VALUE_RANGE, "/actions/0/probe/timeout_ms", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'exec':'true','start_grace_ms':-1}}]}",
         HP_PROBLEM_VALUE_RANGE, "/actions/0/probe/start_grace_ms", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'exec':'true','retries':'3'}}]}",
         HP_PROBLEM_FIELD_TYPE, "/actions/0/probe/retries", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'interval_ms':100}}]}", HP_PROBLEM_VALUE_MISSING,
         "/actions/0/probe/exec", 0},
        {"service", "{'name':'web'," A0 ",'probe':'true'}]}", HP_PROBLEM_FIELD_TYPE,
         "/actions/0/probe", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'exec':'true','every':1}}]}",
         HP_PROBLEM_FIELD_UNKNOWN, "/actions/0/probe/every", 1},
        {"service", "{'name':'web'," A0 ",'on_unhealthy':'restart'}]}", HP_PROBLEM_VALUE_MISSING,
         "/actions/0/on_unhealthy", 1},
        {"service", "{'name':'web'," A0 ",'probe':{'exec':'true'},'on_unhealthy':'restart'}]}",
         HP_PROBLEM_VALUE_CHOICE, "/actions/0/on_unhealthy", 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *json = json_of(cases[i].json);
        hp_problems pb = {0};
        ck_assert_uint_ge(problems_of(cases[i].kind, json, &pb), 1);
        assert_record(&pb, json, cases[i].code, cases[i].path, cases[i].present);
        hp_problems_free(&pb);
        cJSON_Delete(json);
    }
}

/* A probe goes through JSON and a copy unchanged, with the defaults of the fields left out. */
START_TEST(probe_round_trips_with_its_defaults)
{
    cJSON *json = json_of("{'name':'web','actions':[{'name':'a','script':'x','restart':'always',"
                          "'on_unhealthy':'restart','probe':{'http':'http://[::1]:8080/ok',"
                          "'retries':5}}]}");
    hp_service_config c = {0}, back = {0};
    hp_action_spec copy = {0};
    hp_problems pb = {0};
    cJSON *out;

    ck_assert_int_eq(hp_service_config_from_json(json, &c, &pb), 0);
    ck_assert_uint_eq(hp_service_config_validate(&c, &pb), 0);
    ck_assert_int_eq(c.actions[0].probe.kind, HP_PROBE_HTTP);
    ck_assert_str_eq(c.actions[0].probe.target, "http://[::1]:8080/ok");
    ck_assert_int_eq(c.actions[0].probe.interval_ms, HP_PROBE_INTERVAL_MS);
    ck_assert_int_eq(c.actions[0].probe.timeout_ms, HP_PROBE_TIMEOUT_MS);
    ck_assert_int_eq(c.actions[0].probe.retries, 5);
    ck_assert_int_eq(c.actions[0].on_unhealthy_restart, 1);
    ck_assert_int_eq(hp_action_spec_copy(&copy, &c.actions[0]), 0);
    ck_assert_str_eq(copy.probe.target, c.actions[0].probe.target);
    ck_assert_ptr_ne(copy.probe.target, c.actions[0].probe.target);
    out = hp_service_config_to_json(&c);
    ck_assert_int_eq(hp_service_config_from_json(out, &back, &pb), 0);
    ck_assert_int_eq(back.actions[0].probe.kind, HP_PROBE_HTTP);
    ck_assert_int_eq(back.actions[0].probe.retries, 5);
    ck_assert_int_eq(back.actions[0].on_unhealthy_restart, 1);
    ck_assert_str_eq(hp_probe_kind_name(HP_PROBE_TCP), "tcp");
    cJSON_Delete(out);
    hp_service_config_free(&back);
    hp_action_spec_free(&copy);
    hp_service_config_free(&c);
    hp_problems_free(&pb);
    cJSON_Delete(json);
}
END_TEST

START_TEST(each_problem_names_its_code_and_the_path_of_its_field)
{
    records_of_json();
}
END_TEST

static void records_of_cycles(void)
{
    cJSON *json =
        json_of("{'name':'ci','actions':[{'name':'a','script':'x','depends_on':['c','b']},"
                "{'name':'b','script':'x','depends_on':['a']},{'name':'c','script':'x'},"
                "{'name':'d','script':'x','depends_on':['d']}]}");
    hp_problems pb = {0};
    const hp_problem *p;

    ck_assert_uint_eq(problems_of("run", json, &pb), 2);
    p = assert_record(&pb, json, HP_PROBLEM_DEP_CYCLE, "/actions/0/depends_on/1", 1);
    ck_assert_str_eq(p->message, "run 'ci': dependency cycle: a -> b -> a");
    ck_assert_str_eq(p->message + p->detail, "dependency cycle: a -> b -> a");
    ck_assert_uint_eq(p->n_cycle, 2);
    ck_assert_str_eq(p->cycle[0], "a");
    ck_assert_str_eq(p->cycle[1], "b");
    p = assert_record(&pb, json, HP_PROBLEM_DEP_SELF, "/actions/3/depends_on/0", 1);
    ck_assert_uint_eq(p->n_cycle, 1);
    ck_assert_str_eq(p->cycle[0], "d");
    hp_problems_free(&pb);
    cJSON_Delete(json);
}

START_TEST(a_cycle_names_the_dependency_that_leaves_its_first_action_and_lists_its_actions)
{
    records_of_cycles();
}
END_TEST

/* The rules no JSON can break (a value the parse never leaves NULL) and the counts. */
static void records_by_hand(void)
{
    hp_env_var env[HP_ENV_MAX + 1];
    char *tags[HP_TAGS_MAX + 1], keys[HP_ENV_MAX + 1][8], long_text[HP_DESCRIPTION_MAX + 2];
    hp_action_spec a[HP_ACTIONS_MAX + 1] = {{0}};
    hp_service_config c = {0};
    hp_problems pb = {0};
    const hp_problem *p;

    a[0].name = s_a;
    a[0].script = s_ok;
    a[0].env = env;
    a[0].n_env = 1;
    env[0] = (hp_env_var){s_x, NULL};
    hp_spec_validate("run", "ci", a, 1, &pb);
    p = assert_record(&pb, NULL, HP_PROBLEM_VALUE_MISSING, "/actions/0/env/x", 0);
    ck_assert_str_eq(p->message + p->detail, "env 'x' has no value");
    hp_problems_free(&pb);

    for (size_t i = 0; i <= HP_ENV_MAX; i++) {
        snprintf(keys[i], sizeof(keys[i]), "K%zu", i);
        env[i] = (hp_env_var){keys[i], s_ok};
    }
    for (size_t i = 0; i <= HP_TAGS_MAX; i++)
        tags[i] = s_tag;
    a[0].n_env = HP_ENV_MAX + 1;
    a[0].tags = tags;
    a[0].n_tags = HP_TAGS_MAX + 1;
    hp_spec_validate("run", "ci", a, 1, &pb);
    p = assert_record(&pb, NULL, HP_PROBLEM_COUNT_RANGE, "/actions/0/env", 0);
    ck_assert_str_eq(p->message + p->detail, "has 65 env vars; at most 64 are allowed");
    assert_record(&pb, NULL, HP_PROBLEM_COUNT_RANGE, "/actions/0/tags", 0);
    hp_problems_free(&pb);

    for (size_t i = 0; i <= HP_ACTIONS_MAX; i++) {
        a[i].name = s_x;
        a[i].script = s_ok;
        a[i].env = NULL;
        a[i].n_env = 0;
        a[i].tags = NULL;
        a[i].n_tags = 0;
    }
    hp_spec_validate("run", "ci", a, HP_ACTIONS_MAX + 1, &pb);
    assert_record(&pb, NULL, HP_PROBLEM_COUNT_RANGE, "/actions", 0);
    hp_problems_free(&pb);

    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    a[0].name = s_a;
    c.name = s_x;
    c.description = long_text;
    c.actions = a;
    c.n_actions = 1;
    hp_service_config_validate(&c, &pb);
    assert_record(&pb, NULL, HP_PROBLEM_VALUE_LENGTH, "/description", 0);
    hp_problems_free(&pb);

    /* Two problems for each of 64 actions: more than the list keeps. */
    for (size_t i = 0; i < HP_ACTIONS_MAX; i++) {
        a[i].script = NULL;
        a[i].timeout_secs = -1;
    }
    hp_spec_validate("run", "ci", a, HP_ACTIONS_MAX, &pb);
    assert_record(&pb, NULL, HP_PROBLEM_TRUNCATED, "", 0);
    hp_problems_free(&pb);

    hp_problems_add(&pb, "param 'x' is odd");
    assert_record(&pb, NULL, HP_PROBLEM_INVALID, "", 0);
    hp_problems_add_at(&pb, HP_PROBLEM_VALUE_MISSING, "/limit", "param 'limit' is required");
    assert_record(&pb, NULL, HP_PROBLEM_VALUE_MISSING, "/limit", 0);
    hp_problems_free(&pb);
}

START_TEST(problems_built_by_hand_and_counts_have_their_codes_and_paths)
{
    records_by_hand();
}
END_TEST

/* No code is left untested (each test runs in its own process: all three again here). */
START_TEST(every_problem_code_is_produced_by_some_check)
{
    records_of_json();
    records_of_cycles();
    records_by_hand();
    for (int c = 0; c < HP_PROBLEM__COUNT; c++)
        if (c != HP_PROBLEM_NO_MEMORY) /* only when an allocation fails */
            ck_assert_msg(seen_codes[c], "no test produced %s",
                          hp_problem_code_name((hp_problem_code)c));
}
END_TEST

START_TEST(problem_records_survive_the_wire_and_old_readers_get_sentences)
{
    cJSON *json = json_of("{'name':'ci','actions':[{'name':'a','script':'x','depends_on':['b']},"
                          "{'name':'b','script':'x','depends_on':['a','zz']}]}");
    hp_problems pb = {0}, back = {0}, old = {0};
    cJSON *data, *sentences;
    hp_problem_code code;

    problems_of("run", json, &pb);
    ck_assert_uint_eq(pb.count, 2);
    data = hp_problems_to_json(&pb);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(hp_problems_from_json(data, &back), 2);
    for (size_t i = 0; i < pb.count; i++) {
        ck_assert_int_eq(back.records[i].code, pb.records[i].code);
        ck_assert_str_eq(back.records[i].path, pb.records[i].path);
        ck_assert_str_eq(back.items[i], pb.items[i]);
        ck_assert_uint_eq(back.records[i].n_cycle, pb.records[i].n_cycle);
    }
    ck_assert_str_eq(back.records[1].cycle[1], "b");
    /* A reader of the sentences alone, as before the records. */
    sentences = cJSON_CreateObject();
    cJSON_AddItemToObject(sentences, "problems",
                          cJSON_Duplicate(cJSON_GetObjectItem(data, "problems"), 1));
    ck_assert_uint_eq(hp_problems_from_json(sentences, &old), 2);
    ck_assert_str_eq(old.items[0], pb.items[0]);
    ck_assert_int_eq(old.records[0].code, HP_PROBLEM_INVALID);
    ck_assert_str_eq(old.records[0].path, "");
    /* A code from a newer server reads as the generic one. */
    ck_assert_int_eq(hp_problem_code_parse("probe_failed", &code), -1);
    ck_assert_int_eq(code, HP_PROBLEM_INVALID);
    ck_assert_int_eq(hp_problem_code_parse("dep_cycle", &code), 0);
    ck_assert_int_eq(code, HP_PROBLEM_DEP_CYCLE);
    ck_assert_int_eq(hp_problems_nest(&pb, 1, "/config"), 0);
    ck_assert_str_eq(pb.records[0].path, "/actions/1/depends_on/1");
    ck_assert_str_eq(pb.records[1].path, "/config/actions/0/depends_on/0");
    hp_problems_free(&pb);
    hp_problems_free(&back);
    hp_problems_free(&old);
    cJSON_Delete(sentences);
    cJSON_Delete(data);
    cJSON_Delete(json);
}
END_TEST

START_TEST(free_functions_accept_null_and_empty_values)
{
    hp_action_spec a = {0};
    hp_service_config c = {0};
    hp_problems pb = {0};

    hp_action_spec_free(NULL);
    hp_service_config_free(NULL);
    hp_actions_free(NULL, 3);
    hp_problems_free(NULL);
    hp_argv_free(NULL);
    hp_problems_add(NULL, "ignored");
    hp_action_spec_free(&a);
    hp_action_spec_free(&a);
    hp_service_config_free(&c);
    hp_problems_free(&pb);
}
END_TEST

static Suite *spec_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("spec");

    tcase_add_test(tc, valid_service_parses_with_every_field);
    tcase_add_test(tc, service_round_trips_through_to_json_and_from_json);
    tcase_add_test(tc, requires_round_trips_and_its_own_mistakes_are_reported_on_it);
    tcase_add_test(tc, action_to_json_omits_defaults_but_keeps_the_name);
    tcase_add_test(tc, duplicate_action_name_is_reported_once);
    tcase_add_test(tc, unknown_dependency_names_the_service_and_the_action);
    tcase_add_test(tc, cycle_is_reported_once_as_its_path);
    tcase_add_test(tc, cycle_path_starts_from_the_earliest_inserted_action);
    tcase_add_test(tc, two_separate_cycles_are_both_reported);
    tcase_add_test(tc, a_long_cycle_path_is_shortened_to_stay_readable);
    tcase_add_test(tc, self_dependency_is_a_cycle_of_one);
    tcase_add_test(tc, both_script_and_command_are_refused);
    tcase_add_test(tc, neither_script_nor_command_is_refused);
    tcase_add_test(tc, empty_script_and_empty_command_are_refused);
    tcase_add_test(tc, command_that_cannot_be_split_is_refused);
    tcase_add_test(tc, bad_action_name_shows_control_characters_escaped);
    tcase_add_test(tc, long_and_odd_names_are_cut_and_escaped_for_display);
    tcase_add_test(tc, out_of_range_timeout_is_refused);
    tcase_add_test(tc, out_of_range_retry_and_retry_delay_are_refused);
    tcase_add_test(tc, restart_always_is_refused_in_a_run_but_allowed_in_a_service);
    tcase_add_test(tc, too_many_actions_and_no_actions_are_refused);
    tcase_add_test(tc, bad_env_keys_are_refused);
    tcase_add_test(tc, control_characters_in_cwd_and_interpreter_are_refused);
    tcase_add_test(tc, tags_are_bounded);
    tcase_add_test(tc, several_problems_are_reported_at_once);
    tcase_add_test(tc, wrong_json_types_are_reported);
    tcase_add_test(tc, unknown_enum_values_huge_numbers_and_non_string_env_are_reported);
    tcase_add_test(tc, unknown_fields_are_refused_with_the_field_meant);
    tcase_add_test(tc, lenient_parsing_skips_unknown_fields);
    tcase_add_test(tc, dot_and_dot_dot_are_not_names);
    tcase_add_test(tc, service_config_rules_cover_name_and_description);
    tcase_add_test(tc, order_puts_dependencies_first_with_ties_in_insertion_order);
    tcase_add_test(tc, order_fails_on_a_cycle_or_an_unknown_dependency);
    tcase_add_test(tc, split_command_separates_words_and_honours_quotes);
    tcase_add_test(tc, split_command_honours_backslash_escapes);
    tcase_add_test(tc, split_command_reports_unterminated_quotes);
    tcase_add_test(tc, split_command_reports_empty_commands_and_trailing_backslash);
    tcase_add_test(tc, copy_is_deep_and_independent);
    tcase_add_test(tc, restart_names_parse_and_print);
    tcase_add_test(tc, problems_keep_a_bounded_list_but_count_everything);
    tcase_add_test(tc, free_functions_accept_null_and_empty_values);
    tcase_add_test(tc, each_problem_names_its_code_and_the_path_of_its_field);
    tcase_add_test(tc,
                   a_cycle_names_the_dependency_that_leaves_its_first_action_and_lists_its_actions);
    tcase_add_test(tc, problems_built_by_hand_and_counts_have_their_codes_and_paths);
    tcase_add_test(tc, every_problem_code_is_produced_by_some_check);
    tcase_add_test(tc, probe_round_trips_with_its_defaults);
    tcase_add_test(tc, problem_records_survive_the_wire_and_old_readers_get_sentences);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(spec_suite());
}
