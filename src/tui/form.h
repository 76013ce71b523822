/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's forms as data: a service or a one-shot run being composed, its fields
 * as the person typed them, the mapping onto the builders of src/builders (so the form
 * accepts exactly what the C API accepts), the problems of the last check attributed to
 * the field their path names, the request a submit sends and the equivalent hero_proc
 * command. Nothing here draws or talks to a server except tui_form_submit. The data and
 * its edits are form.c's, the mapping form_builders.c's, the check form_check.c's, the
 * request, command and submit form_send.c's. */
#ifndef HP_TUI_FORM_H
#define HP_TUI_FORM_H

#include "builders/builder.h"
#include "builders/factory.h"
#include "common/spec.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tui_form_kind { TUI_FORM_SERVICE, TUI_FORM_RUN } tui_form_kind;

/* The fields a problem can belong to: the form's own, then those of one action. */
typedef enum tui_field {
    TUI_F_NAME,
    TUI_F_DESCRIPTION, /* services only */
    TUI_F_WANTED,      /* services only */
    TUI_F_REQUIRES,    /* services only: the names of other services */
    TUI_F_ACTIONS,     /* the list: none, too many */
    TUI_F_A_NAME,
    TUI_F_A_KIND,
    TUI_F_A_BODY, /* the script or the command line */
    TUI_F_A_INTERPRETER,
    TUI_F_A_CWD,
    TUI_F_A_ENV,
    TUI_F_A_TIMEOUT,
    TUI_F_A_RETRY,
    TUI_F_A_RETRY_DELAY,
    TUI_F_A_RESTART,
    TUI_F_A_DEPENDS,
    TUI_F_A_PROBE,          /* the probe's kind: none, exec, tcp, http */
    TUI_F_A_PROBE_TARGET,   /* its command line, host:port or URL */
    TUI_F_A_PROBE_INTERVAL, /* its numbers as typed ("" = the default) */
    TUI_F_A_PROBE_TIMEOUT,
    TUI_F_A_PROBE_RETRIES,
    TUI_F_A_PROBE_GRACE,
    TUI_F_A_ON_UNHEALTHY,
    TUI_F_OTHER, /* tags and anything not shown as a field: only in the summary */
    TUI_F_COUNT
} tui_field;

/* One action as typed. Every string is owned and never NULL after tui_form_add_action
 * (empty = not set). */
typedef struct tui_form_action {
    char *name;
    int is_command;    /* 0: body is a script, 1: body is a command line */
    char *body;        /* a script's lines joined by '\n'; a command line */
    char *interpreter; /* "" = /bin/sh */
    char *cwd;
    char *env;         /* "KEY=VALUE" lines; blank lines are ignored */
    char *timeout;     /* seconds as typed: "" = 0 (none) */
    char *retry;       /* extra attempts as typed: "" = 0 */
    char *retry_delay; /* milliseconds as typed: "" = 0 */
    hp_restart restart;
    char **depends_on; /* names of other actions of the form */
    size_t n_depends_on;
    char **tags; /* kept from a prefilled spec (not a field), sent back as they were */
    size_t n_tags;
    hp_probe_kind probe;  /* HP_PROBE_NONE: no probe, the fields below are not sent */
    char *probe_target;   /* command line, host:port or URL */
    char *probe_interval; /* milliseconds as typed: "" = the default */
    char *probe_timeout;  /* milliseconds as typed: "" = the default */
    char *probe_retries;  /* failures in a row as typed: "" = the default */
    char *probe_grace;    /* milliseconds as typed: "" = 0 */
    int on_unhealthy_restart;
    unsigned touched; /* the view's: bit 1 << tui_field for each field left once (0 on copy) */
} tui_form_action;

typedef struct tui_form_problem {
    int action;           /* the action's index, -1 for the form's own fields */
    tui_field field;      /* the field it is about, from the problem's path */
    char *text;           /* the builder's sentence, whole */
    char *shown;          /* the same without the "service 'x': action 'y': " it starts with */
    int again;            /* 1: the entry before says the same of another action (a cycle, a
                           * duplicated name); a list of the sentences shows it once */
    hp_problem_code code; /* the builder's code (the form's own: field_type, value_range) */
} tui_form_problem;

typedef struct tui_form {
    tui_form_kind kind;
    char *name;
    char *description;
    int wanted_start;
    char *requires; /* service names as typed, separated by blanks or commas */
    tui_form_action *actions;
    size_t n_actions;
    unsigned touched;           /* the view's: bit 1 << tui_field of the form's fields left */
    tui_form_problem *problems; /* of the last tui_form_check, in the builders' order */
    size_t n_problems;
} tui_form;

/* "service" or "run" (static). */
const char *tui_form_kind_word(tui_form_kind kind);

/* An empty form of kind (no actions). Returns 0, -1 without memory. */
int tui_form_init(tui_form *f, tui_form_kind kind);
void tui_form_free(tui_form *f); /* frees every member; NULL safe; f is the caller's */

/* A form filled from a service's config (copied), e.g. service.get's for `e`. f is
 * overwritten like tui_form_init's; on -1 it is left empty and freeable. */
int tui_form_from_service(tui_form *f, const hp_service_config *cfg);
/* A run form filled from a run's name and actions (copied), for a rerun. */
int tui_form_from_run(tui_form *f, const char *name, const hp_action_spec *actions, size_t n);

/* Replaces *slot (a string of f) with a copy of text (NULL = ""). Returns 0 or -1. */
int tui_form_set(char **slot, const char *text);

/* A new action at the end, named name (copied; "" allowed). Returns its index, -1
 * without memory. */
int tui_form_add_action(tui_form *f, const char *name);
/* Removes action i and every depends_on naming it. */
void tui_form_remove_action(tui_form *f, size_t i);
/* Swaps action i with its neighbour (delta -1 up, +1 down); 0 when moved, -1 when at an
 * end. */
int tui_form_move_action(tui_form *f, size_t i, int delta);
/* Renames action i and every depends_on that named it by its old name. */
int tui_form_rename_action(tui_form *f, size_t i, const char *name);
/* Adds dep to action i's depends_on, or removes it when it is there. */
int tui_form_toggle_depends(tui_form *f, size_t i, const char *dep);
/* 1 when action i depends on dep. */
int tui_form_depends(const tui_form *f, size_t i, const char *dep);

/* The form's builders, with client (borrowed, may be NULL for an offline check). The
 * fields that the builders cannot hold as typed (a timeout that is not a number, an env
 * line without '=') are added to pb (may be NULL) as problems with the path of the field
 * they are about and sentences like the builders' own
 * ("service 'web': action 'serve': timeout 'x' is not a whole number of seconds") and
 * left unset. Caller frees the builder; NULL without memory. */
hp_service_builder *tui_form_service_builder(const tui_form *f, hp_client *client, hp_problems *pb);
hp_run_builder *tui_form_run_builder(const tui_form *f, hp_client *client, hp_problems *pb);

/* Maps the form to its builder and builds it offline: f->problems gets every problem
 * (the mapping's, then the builder's), each attributed to the field its record's path
 * names (/actions/N/<member> is action N's field; no sentence is read). A cycle goes to
 * the depends_on field of every action its record lists, a duplicated name to every
 * later action of the name. Returns the number of problems (sentences: entries with again 0; 0 =
 * ready to send), -1 without memory. */
int tui_form_check(tui_form *f);
/* The first problem of a field (action -1 for the form's own), NULL when none. */
const tui_form_problem *tui_form_problem_at(const tui_form *f, int action, tui_field field);

/* The method and params a submit sends: "service.set" with {"config": {...}} (the
 * builder's output, actions in dependency order) or "run.submit" with {"name", "actions"}.
 * NULL when the form has problems (after a check). Caller frees with cJSON_Delete. */
cJSON *tui_form_request(const tui_form *f, const char **method);
/* The equivalent hero_proc command lines (a heredoc of the same JSON into `hero_proc
 * service set -`, then `hero_proc service start NAME` when wanted is start; `hero_proc
 * run submit -` for a run). Caller frees; NULL when the form has problems. */
char *tui_form_command(const tui_form *f);

/* Sends the form: a service is saved (service.set) and started when wanted is start; a
 * run is submitted, *run_id (may be NULL) gets its id. Nothing is sent when the form has
 * problems (f->problems is refreshed). Returns 0, or -1 with the reason in msg. On
 * success msg says what was done ("saved service 'web' and started it"). */
int tui_form_submit(tui_form *f, hp_client *client, int64_t *run_id, char *msg, size_t size);

#endif
