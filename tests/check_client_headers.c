/* Every installed header (src/client and src/common) compiles on its own (first and only
 * include of a file), with the project's warning list as errors: a user of hero_proc_sdk
 * includes one header and needs nothing else. The compiler and flags come from configure. */
#include "config.h"

#include "check_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

static const char *const headers[] = {"client/sdk.h",     "client/types.h",     "client/endpoint.h",
                                      "client/jsonrpc.h", "client/transport.h", "client/stubs.h",
                                      "client/call.h",    "common/status.h",    "common/spec.h",
                                      "common/problems.h"};

START_TEST(each_client_header_compiles_on_its_own)
{
    const char *header = headers[_i];
    char cmd[4096];
    int rc;

    snprintf(cmd, sizeof(cmd),
             "printf '#include \"%s\"\\n' | %s -fsyntax-only -I'%s/src' %s -x c - 2>&1", header,
             HPT_CC, hp_test_srcdir(), HPT_HEADER_FLAGS);
    rc = system(cmd);
    ck_assert_msg(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
                  "%s does not compile on its own (status 0x%x)", header, rc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client_headers");
    TCase *tc = tcase_create("client_headers");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, each_client_header_compiles_on_its_own, 0,
                        (int)(sizeof(headers) / sizeof(headers[0])));
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
