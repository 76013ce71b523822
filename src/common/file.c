/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a small file whole (file.h). */
#include "config.h"

#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

char *hp__read_small_file(const char *path, size_t max, size_t *len)
{
    size_t got = 0;
    ssize_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), saved;
    char *buf;

    if (fd < 0)
        return NULL;
    if (!(buf = malloc(max + 2))) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    /* One byte past max tells a file of exactly max bytes from a larger one. */
    while (got <= max &&
           ((n = read(fd, buf + got, max + 1 - got)) > 0 || (n < 0 && errno == EINTR)))
        got += n > 0 ? (size_t)n : 0;
    saved = n < 0 ? errno : got > max ? EFBIG : 0;
    close(fd);
    if (saved) {
        free(buf);
        errno = saved;
        return NULL;
    }
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}
