/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the pieces of the dashboard's form data (form.c, form_builders.c,
 * form_check.c, form_send.c): the lists and the mapper they share. Nothing else includes
 * it; the views use form.h. */
#ifndef TUI_FORM_INT_H
#define TUI_FORM_INT_H

#include "tui/form.h"

#include <stddef.h>

/* "service '<name as shown>'" */
#define OWNER_SIZE (HP_NAME_SHOW_SIZE + 16)

/* form.c: strings and the problems list. */
/* A new string (caller frees), NULL without memory. */
char *tui__form_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Problems with their fields, as the check makes them (the items become f->problems). */
typedef struct plist {
    tui_form_problem *items;
    size_t n;
    int nomem;
} plist;

/* Appends a problem (text and shown copied); without memory pl->nomem is set. */
void tui__form_plist_add(plist *pl, hp_problem_code code, int action, tui_field field,
                         const char *text, const char *shown, int again);
void tui__form_plist_free(plist *pl);
/* Frees f->problems. */
void tui__form_problems_clear(tui_form *f);

/* form_builders.c: the form mapped onto the builders. */
typedef struct mapper {
    const tui_form *f;
    char owner[OWNER_SIZE];
    plist *out;   /* the mapping's problems with their fields; NULL: only counted */
    size_t found; /* counted even when out could not keep them */
    int nomem;
} mapper;

/* A mapper of f, a "service" or a "run" (kind), its problems into out (may be NULL). */
void tui__form_mapper_init(mapper *m, const tui_form *f, const char *kind, plist *out);
/* The builders of f with client (borrowed, may be NULL offline); the fields they cannot
 * hold as typed go to m. Caller frees; NULL without memory. */
hp_service_builder *tui__form_service_builder(const tui_form *f, hp_client *client, mapper *m);
hp_run_builder *tui__form_run_builder(const tui_form *f, hp_client *client, mapper *m);
/* The spec's member that a field of an action shows (NULL: none), for a problem's path. */
extern const char *const tui__form_field_keys[TUI_F_COUNT];

#endif
