/* SPDX-License-Identifier: Apache-2.0 */
/* The status table's messages and the hp_error formatting helpers.
 * Messages are cut to the struct's fixed buffer; nothing here allocates. */
#include "config.h"

#include "common/status.h"

#include <stdio.h>
#include <string.h>

static const char *const messages[] = {
#define HP__STATUS_MESSAGE(code, message) message,
    HP_STATUS_TABLE(HP__STATUS_MESSAGE)
#undef HP__STATUS_MESSAGE
};

static const char *const names[] = {
#define HP__STATUS_NAME(code, message) #code,
    HP_STATUS_TABLE(HP__STATUS_NAME)
#undef HP__STATUS_NAME
};

const char *hp_strerror(hp_status code)
{
    if ((unsigned)code >= HP_STATUS__COUNT)
        return "unknown status";
    return messages[code];
}

const char *hp_status_name(hp_status code)
{
    if ((unsigned)code >= HP_STATUS__COUNT)
        return NULL;
    return names[code];
}

void hp_error_clear(hp_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof(*err));
    err->code = HP_OK;
}

hp_status hp_error_setv(hp_error *err, hp_status code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    hp_error_clear(err);
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    return code;
}

hp_status hp_error_set_code(hp_error *err, hp_status code)
{
    return hp_error_set(err, code, "%s", hp_strerror(code));
}

hp_status hp_error_set(hp_error *err, hp_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hp_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

hp_status hp_error_set_errno(hp_error *err, hp_status code, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t used;

    if (!err)
        return code;
    va_start(ap, fmt);
    hp_error_setv(err, code, fmt, ap);
    va_end(ap);
    err->sys_errno = errnum;
    used = strlen(err->message);
    if (used < sizeof(err->message) - 1)
        snprintf(err->message + used, sizeof(err->message) - used, ": %s", strerror(errnum));
    return code;
}
