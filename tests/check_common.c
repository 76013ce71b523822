/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by every Check suite. Each test gets its own temporary directory so
 * suites can run in parallel (make -j check) without sharing any path. */
#include "config.h"

#include "check_common.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[4096];

void hp_test_tmpdir_setup(void)
{
    const char *base = getenv("TMPDIR");

    if (!base || !*base)
        base = "/tmp";
    snprintf(tmpdir, sizeof(tmpdir), "%s/hp-test-XXXXXX", base);
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp in %s: %s", base, strerror(errno));
}

void hp_test_tmpdir_teardown(void)
{
    if (tmpdir[0])
        hp_test_rmtree(tmpdir);
    tmpdir[0] = '\0';
}

const char *hp_test_tmpdir(void)
{
    return tmpdir;
}

char *hp_test_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);

    ck_assert_ptr_nonnull(path);
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

const char *hp_test_srcdir(void)
{
    const char *dir = getenv("srcdir");

    return dir && *dir ? dir : ".";
}

char *hp_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t used = 0, cap = 0, n;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - used < 4096) {
            char *grown = realloc(data, cap ? cap * 2 : 8192);
            if (!grown) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
            cap = cap ? cap * 2 : 8192;
        }
        n = fread(data + used, 1, cap - used - 1, f);
        used += n;
        if (n == 0)
            break;
    }
    fclose(f);
    data[used] = '\0';
    if (len)
        *len = used;
    return data;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int hp_test_rmtree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int hp_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
