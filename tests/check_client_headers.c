/* SPDX-License-Identifier: Apache-2.0 */
/* Every installed header (src/common, src/client, src/builders and the umbrella
 * hero_proc/hero_proc.h) compiles on its own (first and only include of a file), with the
 * project's warning list as errors and no -I into src: a user of libhero_proc includes one
 * header, and its siblings are found by relative paths as in the installed tree. */
#include "config.h"

#include "check_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

static const char *const headers[] = {
    "src/client/sdk.h",      "src/client/types.h",     "src/client/endpoint.h",
    "src/client/call.h",     "src/common/status.h",    "src/common/spec.h",
    "src/common/problems.h", "src/builders/builder.h", "src/builders/factory.h"};

START_TEST(each_client_header_compiles_on_its_own)
{
    const char *header = headers[_i];
    char cmd[4096];
    int rc;

    snprintf(cmd, sizeof(cmd), "printf '#include \"%s/%s\"\\n' | %s -fsyntax-only %s -x c - 2>&1",
             hp_test_srcdir(), header, HPT_CC, HPT_HEADER_FLAGS);
    rc = system(cmd);
    ck_assert_msg(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
                  "%s does not compile on its own (status 0x%x)", header, rc);
}
END_TEST

/* The build directory (configure wrote include/hero_proc/hero_proc.h there). */
static const char *builddir(void)
{
    const char *dir = getenv("top_builddir");

    return dir && *dir ? dir : ".";
}

/* The umbrella header made by configure, with the module headers it includes from src. */
START_TEST(umbrella_header_compiles_with_its_version)
{
    char cmd[4096];
    int rc;

    snprintf(cmd, sizeof(cmd),
             "printf '#include <hero_proc/hero_proc.h>\\n"
             "_Static_assert(HERO_PROC_VERSION_MAJOR >= 0, \"major\");\\n"
             "static const char v[] = HERO_PROC_VERSION;\\n"
             "const char *hpt_version(void);\\n"
             "const char *hpt_version(void) { return v; }\\n' | "
             "%s -fsyntax-only -I'%s/include' -I'%s/src' %s -x c - 2>&1",
             HPT_CC, builddir(), hp_test_srcdir(), HPT_HEADER_FLAGS);
    rc = system(cmd);
    ck_assert_msg(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
                  "hero_proc/hero_proc.h does not compile (status 0x%x)", rc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client_headers");
    TCase *tc = tcase_create("client_headers");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, each_client_header_compiles_on_its_own, 0,
                        (int)(sizeof(headers) / sizeof(headers[0])));
    tcase_add_test(tc, umbrella_header_compiles_with_its_version);
    suite_add_tcase(s, tc);
    return hp_test_run(s);
}
