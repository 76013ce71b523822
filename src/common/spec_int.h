/* Private to the pieces of src/common's spec (spec.c, problems.c, str.c and the rooms split
 * from spec.c): the helpers they share. Nothing outside src/common includes it. */
#ifndef HP_COMMON_SPEC_INT_H
#define HP_COMMON_SPEC_INT_H

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

#endif
