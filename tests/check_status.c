/* SPDX-License-Identifier: Apache-2.0 */
/* The status table and hp_error: every code has a name and a message, messages are
 * formatted and cut safely, and a NULL error is accepted everywhere. */
#include "config.h"

#include "check_common.h"
#include "common/status.h"

#include <errno.h>
#include <string.h>

START_TEST(status_table_has_a_message_for_every_code)
{
    for (int code = 0; code < HP_STATUS__COUNT; code++) {
        const char *msg = hp_strerror((hp_status)code);
        ck_assert_msg(msg && *msg, "code %d has no message", code);
        ck_assert_msg(strcmp(msg, "unknown status") != 0, "code %d falls outside the table", code);
    }
}
END_TEST

START_TEST(status_messages_and_names_are_unique)
{
    for (int a = 0; a < HP_STATUS__COUNT; a++)
        for (int b = a + 1; b < HP_STATUS__COUNT; b++) {
            ck_assert_str_ne(hp_strerror((hp_status)a), hp_strerror((hp_status)b));
            ck_assert_str_ne(hp_status_name((hp_status)a), hp_status_name((hp_status)b));
        }
}
END_TEST

START_TEST(status_names_spell_their_codes)
{
    ck_assert_str_eq(hp_status_name(HP_OK), "HP_OK");
    ck_assert_str_eq(hp_status_name(HP_E_NOT_FOUND), "HP_E_NOT_FOUND");
    ck_assert_str_eq(hp_status_name(HP_E_INTERNAL), "HP_E_INTERNAL");
    ck_assert_int_eq(HP_OK, 0);
}
END_TEST

START_TEST(strerror_of_an_unknown_code_says_unknown)
{
    ck_assert_str_eq(hp_strerror(HP_STATUS__COUNT), "unknown status");
    ck_assert_str_eq(hp_strerror((hp_status)-1), "unknown status");
    ck_assert_ptr_null(hp_status_name(HP_STATUS__COUNT));
}
END_TEST

START_TEST(error_set_formats_the_message_and_returns_the_code)
{
    hp_error err;

    hp_error_clear(&err);
    ck_assert_int_eq(hp_error_set(&err, HP_E_VALIDATION,
                                  "run '%s': action '%s' depends on unknown action '%s'", "ci",
                                  "test", "biuld"),
                     HP_E_VALIDATION);
    ck_assert_int_eq(err.code, HP_E_VALIDATION);
    ck_assert_str_eq(err.message, "run 'ci': action 'test' depends on unknown action 'biuld'");
    ck_assert_int_eq(err.sys_errno, 0);
    ck_assert_int_eq(err.rpc_code, 0);
}
END_TEST

START_TEST(error_set_cuts_a_long_message_without_overflow)
{
    hp_error err;
    char big[1000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    hp_error_set(&err, HP_E_INVALID, "%s", big);
    ck_assert_uint_eq(strlen(err.message), sizeof(err.message) - 1);
    ck_assert_int_eq(err.message[0], 'x');
}
END_TEST

START_TEST(error_set_errno_appends_the_system_reason)
{
    hp_error err;

    hp_error_set_errno(&err, HP_E_CONNECT, ENOENT, "no hero_proc server at %s", "/x/rpc.sock");
    ck_assert_str_eq(err.message, "no hero_proc server at /x/rpc.sock: No such file or directory");
    ck_assert_int_eq(err.sys_errno, ENOENT);
    ck_assert_int_eq(err.code, HP_E_CONNECT);
}
END_TEST

START_TEST(error_set_accepts_a_null_error)
{
    ck_assert_int_eq(hp_error_set(NULL, HP_E_NOMEM, "x"), HP_E_NOMEM);
    ck_assert_int_eq(hp_error_set_errno(NULL, HP_E_SYSTEM, EIO, "y"), HP_E_SYSTEM);
    hp_error_clear(NULL);
}
END_TEST

START_TEST(error_set_code_uses_the_table_message)
{
    hp_error err;

    ck_assert_int_eq(hp_error_set_code(&err, HP_E_TIMEOUT), HP_E_TIMEOUT);
    ck_assert_str_eq(err.message, "the operation timed out");
    ck_assert_int_eq(hp_error_set_code(NULL, HP_E_LIMIT), HP_E_LIMIT);
}
END_TEST

START_TEST(error_clear_forgets_the_previous_error)
{
    hp_error err;

    hp_error_set_errno(&err, HP_E_SYSTEM, EACCES, "open %s", "f");
    err.http_status = 500;
    err.rpc_code = -32000;
    hp_error_clear(&err);
    ck_assert_int_eq(err.code, HP_OK);
    ck_assert_int_eq(err.sys_errno, 0);
    ck_assert_int_eq(err.http_status, 0);
    ck_assert_int_eq(err.rpc_code, 0);
    ck_assert_str_eq(err.message, "");
}
END_TEST

static Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("status");

    tcase_add_test(tc, status_table_has_a_message_for_every_code);
    tcase_add_test(tc, status_messages_and_names_are_unique);
    tcase_add_test(tc, status_names_spell_their_codes);
    tcase_add_test(tc, strerror_of_an_unknown_code_says_unknown);
    tcase_add_test(tc, error_set_formats_the_message_and_returns_the_code);
    tcase_add_test(tc, error_set_cuts_a_long_message_without_overflow);
    tcase_add_test(tc, error_set_errno_appends_the_system_reason);
    tcase_add_test(tc, error_set_accepts_a_null_error);
    tcase_add_test(tc, error_set_code_uses_the_table_message);
    tcase_add_test(tc, error_clear_forgets_the_previous_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(status_suite());
}
