/* SPDX-License-Identifier: Apache-2.0 */
/* How the JSON parse and the validation word a problem: the sentence that names the service
 * or run and the action, and the JSON pointer of the field. It checks nothing itself. */
#include "config.h"

#include "common/spec_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hp__where_set(where *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(w->s, sizeof(w->s), fmt, ap);
    va_end(ap);
    return w->s;
}

/* Appends "/" and token, escaped. */
const char *hp__where_key(where *w, const char *token)
{
    return hp_json_pointer_key(w->s, sizeof(w->s), w->s, token);
}

/* Appends "/<i>", an array index. */
const char *hp__where_index(where *w, size_t i)
{
    size_t used = strlen(w->s);

    snprintf(w->s + used, sizeof(w->s) - used, "/%zu", i);
    return w->s;
}

/* The path of an action's field: "/actions/<position - 1>/<field>", or "/<field>" for a
 * lone action (position 0); field NULL = the action itself. */
const char *hp__where_action(where *w, size_t position, const char *field)
{
    w->s[0] = '\0';
    if (position)
        hp__where_set(w, "/actions/%zu", position - 1);
    if (field)
        hp__where_key(w, field);
    return w->s;
}

/* SAY_RAW: the message as given (the owner is its subject). SAY_OF: "<owner>: [<who>: ]
 * <message>". SAY_BY: "<owner>: <who> <message>" (the action is its subject). detail
 * points past the owner and who. out (may be NULL) gives a cycle to the record. */
void hp__vreport(reporter *r, hp_problem_code code, const char *path, say how, const char *who,
                 hp_problem *out, const char *fmt, va_list ap)
{
    hp_problem p = {.code = code};
    char *msg;
    int own = how != SAY_RAW && r->owner && *r->owner;
    size_t head = 0, len;

    r->found++;
    if (out) {
        p.cycle = out->cycle;
        p.n_cycle = out->n_cycle;
        out->cycle = NULL;
        out->n_cycle = 0;
    }
    msg = hp__vformat(fmt, ap);
    if (!msg || !hp__problems_room(r->pb)) {
        free(msg);
        hp__problem_free(&p);
        return;
    }
    if (own)
        head += strlen(r->owner) + 2;
    if (how != SAY_RAW && who)
        head += strlen(who) + (how == SAY_BY ? 1 : 2);
    len = head + strlen(msg);
    p.message = malloc(len + 1);
    if (p.message) {
        snprintf(p.message, len + 1, "%s%s%s%s%s", own ? r->owner : "", own ? ": " : "",
                 how != SAY_RAW && who ? who : "",
                 how != SAY_RAW && who ? (how == SAY_BY ? " " : ": ") : "", msg);
        p.detail = head;
    }
    free(msg);
    p.path = hp__dup_str(path ? path : "");
    hp__problems_take(r->pb, &p);
}

/* "<owner>: [<who>: ]<message>". */
void hp__report(reporter *r, hp_problem_code code, const char *path, const char *who,
                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hp__vreport(r, code, path, SAY_OF, who, NULL, fmt, ap);
    va_end(ap);
}

/* "<owner>: <who> <message>", for sentences that have the action as their subject. */
void hp__report_by(reporter *r, hp_problem_code code, const char *path, const char *who,
                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hp__vreport(r, code, path, SAY_BY, who, NULL, fmt, ap);
    va_end(ap);
}

/* The message as given, for sentences that have the owner as their subject. */
void hp__report_raw(reporter *r, hp_problem_code code, const char *path, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hp__vreport(r, code, path, SAY_RAW, NULL, NULL, fmt, ap);
    va_end(ap);
}

/* "action 'x'" for a named action, else "action #N" (1-based), else "action". */
const char *hp__action_label(label *l, const char *name, size_t position)
{
    char shown[HP_NAME_SHOW_SIZE];

    if (name)
        snprintf(l->s, sizeof(l->s), "action '%s'", hp_name_show(name, shown, sizeof(shown)));
    else if (position)
        snprintf(l->s, sizeof(l->s), "action #%zu", position);
    else
        snprintf(l->s, sizeof(l->s), "action");
    return l->s;
}

/* "service 'api'" or "service (unnamed)". */
const char *hp__owner_label(label *l, const char *kind, const char *name)
{
    char shown[HP_NAME_SHOW_SIZE];

    if (name)
        snprintf(l->s, sizeof(l->s), "%s '%s'", kind, hp_name_show(name, shown, sizeof(shown)));
    else
        snprintf(l->s, sizeof(l->s), "%s (unnamed)", kind);
    return l->s;
}
