/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a small file whole (a certificate, a contexts file, a settings file): one place
 * for the size bound and the errors, so each caller only words its message. Internal. */
#ifndef HP_COMMON_FILE_H
#define HP_COMMON_FILE_H

#include <stddef.h>

/* The whole file at path as a NUL-terminated string, its length in *len (when len is not
 * NULL). NULL with errno set: the open's or the read's (ENOENT: no file), EFBIG when it
 * holds more than max bytes, ENOMEM. */
char *hp__read_small_file(const char *path, size_t max, size_t *len);

#endif
