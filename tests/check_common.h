/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the Check suites: per-test temporary directories, source paths,
 * file reading, and a main that reports through TAP on stdout. */
#ifndef HP_TESTS_CHECK_COMMON_H
#define HP_TESTS_CHECK_COMMON_H

#include <check.h>
#include <stddef.h>

/* Checked fixture: a fresh mkdtemp directory per test, removed with its contents after. */
void hp_test_tmpdir_setup(void);
void hp_test_tmpdir_teardown(void);

/* The current test's temporary directory (valid between setup and teardown). */
const char *hp_test_tmpdir(void);

/* "<dir>/<name>" in a newly allocated string; the caller frees it. */
char *hp_test_join(const char *dir, const char *name);

/* The source tree root: $srcdir (set by automake's test harness) or ".". */
const char *hp_test_srcdir(void);

/* Whole file as a NUL-terminated heap string (length in *len when non-NULL); NULL if
 * it cannot be read. The caller frees it. */
char *hp_test_read_file(const char *path, size_t *len);

/* Removes a directory tree; returns 0 on success. */
int hp_test_rmtree(const char *path);

/* Runs the suite with TAP on stdout; returns the process exit status. Takes s. */
int hp_test_run(Suite *s);

#endif
