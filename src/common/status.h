/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes and the caller-owned error struct shared by every layer.
 * One X-macro table holds each code with its message, so the enum, the names
 * and the messages cannot drift apart. */
#ifndef HP_COMMON_STATUS_H
#define HP_COMMON_STATUS_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(code, message): every status a library call can return. */
#define HP_STATUS_TABLE(X)                                                                         \
    X(HP_OK, "success")                                                                            \
    X(HP_E_INVALID, "invalid argument")                                                            \
    X(HP_E_NOMEM, "out of memory")                                                                 \
    X(HP_E_SYSTEM, "system call failed")                                                           \
    X(HP_E_USAGE, "invalid usage")                                                                 \
    X(HP_E_VALIDATION, "validation failed")                                                        \
    X(HP_E_CONNECT, "cannot reach the hero_proc server")                                           \
    X(HP_E_TIMEOUT, "the operation timed out")                                                     \
    X(HP_E_HTTP, "the server answered with an HTTP error")                                         \
    X(HP_E_PROTOCOL, "the server sent a malformed reply")                                          \
    X(HP_E_RPC, "the server reported an error")                                                    \
    X(HP_E_NOT_FOUND, "not found")                                                                 \
    X(HP_E_CONFLICT, "already exists or conflicts")                                                \
    X(HP_E_STATE, "not allowed in the current state")                                              \
    X(HP_E_UNAUTHORIZED, "not authorized")                                                         \
    X(HP_E_LIMIT, "a limit was reached")                                                           \
    X(HP_E_PARSE, "malformed input")                                                               \
    X(HP_E_INTERNAL, "internal error")

typedef enum hp_status {
#define HP__STATUS_ENUM(code, message) code,
    HP_STATUS_TABLE(HP__STATUS_ENUM)
#undef HP__STATUS_ENUM
        HP_STATUS__COUNT
} hp_status;

/* The last parameter of every fallible call; may be NULL. Filled on failure only. */
typedef struct hp_error {
    hp_status code;
    int sys_errno;    /* errno when a system call failed, else 0 */
    long http_status; /* HTTP status of the reply, else 0 */
    int rpc_code;     /* JSON-RPC error code from the server, else 0 */
    char message[256];
} hp_error;

/* The fixed message of a status; never NULL ("unknown status" when out of range). */
const char *hp_strerror(hp_status code);

/* The code's identifier, e.g. "HP_E_NOT_FOUND"; NULL when out of range. */
const char *hp_status_name(hp_status code);

/* Resets err (may be NULL) to HP_OK with an empty message. */
void hp_error_clear(hp_error *err);

/* Sets code with its table message (hp_strerror) and returns code; err may be NULL. */
hp_status hp_error_set_code(hp_error *err, hp_status code);

/* Sets code and a formatted message (cut to fit, never overflowing) and returns code.
 * err may be NULL: the code is still returned. */
hp_status hp_error_set(hp_error *err, hp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As hp_error_set, with ": <strerror(errnum)>" appended and sys_errno recorded. */
hp_status hp_error_set_errno(hp_error *err, hp_status code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

hp_status hp_error_setv(hp_error *err, hp_status code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#ifdef __cplusplus
}
#endif

#endif
