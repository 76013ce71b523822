/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the rooms of src/common behind spec.h (spec*.c, problems.c, str.c): the helpers
 * and the reporter they share. Nothing outside them includes it. */
#ifndef HP_COMMON_SPEC_INT_H
#define HP_COMMON_SPEC_INT_H

#include "common/json.h"
#include "common/spec.h"

#include <stdarg.h>
#include <stddef.h>

/* str.c: strings and string arrays. */
char *hp__dup_str(const char *s); /* NULL without memory */
/* Copies s (may be NULL) into *dst; -1 only when an allocation failed. */
int hp__copy_str(char **dst, const char *s);
void hp__free_strv(char **v, size_t n);
/* *dst gets a copy of the n strings of src (NULL, 0 when there are none); -1 when an
 * allocation failed, *dst then holding what was copied so far (*dn slots) for the caller
 * to free. */
int hp__copy_strv(char ***dst, size_t *dn, char *const *src, size_t n);
/* A new string formatted from fmt and ap; NULL without memory. */
char *hp__vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Adds key: [v...] to obj (a NULL element as null); nothing when n is 0. -1 without memory. */
int hp__add_string_array(cJSON *obj, const char *key, char *const *v, size_t n);

/* problems.c: storing records. */
void hp__problem_free(hp_problem *p);
/* Appends *p, whose members it takes on every path (freed when it cannot be stored). */
int hp__problems_take(hp_problems *pb, hp_problem *p);
/* 1 when pb takes one more problem; at the limit, adds the entry that says so once. */
int hp__problems_room(hp_problems *pb);

/* spec_report.c: the wording and the path of a problem found by the parse or the checks. */

/* Counts every problem itself, so a full or NULL list never makes input look valid. */
typedef struct reporter {
    hp_problems *pb;
    size_t found;
    const char *owner; /* "run 'ci'", may be NULL or "" */
    int lenient;       /* fields it does not know are skipped, not refused */
} reporter;

/* A JSON pointer being written: cut (never overflowing) past its size. */
typedef struct where {
    char s[256];
} where;

/* How a sentence opens: see hp__vreport. */
typedef enum say { SAY_RAW, SAY_OF, SAY_BY } say;

typedef struct label {
    char s[HP_NAME_SHOW_SIZE + 32];
} label;

/* Each returns w->s: the pointer set from fmt, with "/" and token (escaped) appended, with
 * "/<i>" appended, and the path of an action's field ("/actions/<position - 1>/<field>",
 * or "/<field>" for a lone action, position 0; field NULL = the action itself). */
const char *hp__where_set(where *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *hp__where_key(where *w, const char *token);
const char *hp__where_index(where *w, size_t i);
const char *hp__where_action(where *w, size_t position, const char *field);

/* SAY_RAW: the message as given (the owner is its subject). SAY_OF: "<owner>: [<who>: ]
 * <message>". SAY_BY: "<owner>: <who> <message>" (the action is its subject). out (may be
 * NULL) gives its cycle to the record. */
void hp__vreport(reporter *r, hp_problem_code code, const char *path, say how, const char *who,
                 hp_problem *out, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));
/* hp__vreport with SAY_OF, SAY_BY and SAY_RAW. */
void hp__report(reporter *r, hp_problem_code code, const char *path, const char *who,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void hp__report_by(reporter *r, hp_problem_code code, const char *path, const char *who,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void hp__report_raw(reporter *r, hp_problem_code code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "action 'x'" for a named action, else "action #N" (1-based), else "action". */
const char *hp__action_label(label *l, const char *name, size_t position);
/* "service 'api'" or "service (unnamed)". */
const char *hp__owner_label(label *l, const char *kind, const char *name);

#endif
