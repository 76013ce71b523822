/* SPDX-License-Identifier: Apache-2.0 */
/* Which problems the form view shows and where: a field's problem once the field was left
 * (all of them after a refused submit), and the message line under the pad (the form's
 * note, else the focused field's problem, else a count). The problems are form.c's. */
#include "config.h"

#include "tui/view_form_int.h"

#include <stdarg.h>
#include <stdio.h>

int tui__fv_shown(const form_view *v, int action, int id)
{
    unsigned touched = action < 0 ? v->form.touched : v->form.actions[action].touched;

    return v->all_shown || (touched & (1u << id));
}

const tui_form_problem *tui__fv_problem_of(const form_view *v, const item *it)
{
    if (it->id >= TUI_F_COUNT || !tui__fv_shown(v, it->action, it->id))
        return NULL;
    return tui_form_problem_at(&v->form, it->action, (tui_field)it->id);
}

void tui__fv_note(form_view *v, int error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v->note, sizeof(v->note), fmt, ap);
    va_end(ap);
    v->note_error = error;
}

/* The message line into line: the note, else the focused field's problem, else what to do
 * (the count of the problems shown, or the keys). Returns 1 when it is a problem. */
int tui__fv_message(const form_view *v, char *line, size_t size)
{
    const item *it;
    const tui_form_problem *p;

    it = &v->items[v->focus];
    p = tui__fv_problem_of(v, it);
    if (v->note[0]) {
        snprintf(line, size, "%s", v->note);
    } else if (p) {
        snprintf(line, size, "%s", p->text);
    } else if (it->read_only) {
        snprintf(line, size,
                 "this text has long lines, tabs or wide characters: Ctrl-E edits it in $EDITOR");
    } else {
        size_t n = 0;
        int prev = 0; /* the entry before was shown: an `again` of it is the same sentence */
        for (size_t i = 0; i < v->form.n_problems; i++) {
            const tui_form_problem *q = &v->form.problems[i];
            int now = tui__fv_shown(v, q->action, q->field) != 0;
            n += now && !(q->again && prev);
            prev = now || (q->again && prev);
        }
        if (n)
            snprintf(line, size, "%zu problem%s to fix before %s", n, n == 1 ? "" : "s",
                     v->form.kind == TUI_FORM_SERVICE ? "saving" : "starting");
        else
            snprintf(line, size, "Ctrl-S %s  Ctrl-P preview  Esc closes",
                     v->form.kind == TUI_FORM_SERVICE ? "saves" : "starts the run");
    }
    return (v->note[0] && v->note_error) || (!v->note[0] && p);
}
