/* SPDX-License-Identifier: Apache-2.0 */
/* The form view's choices (Wanted, Kind, Restart, Probe, On unhealthy): drawn as radio
 * buttons, Left/Right/Space cycle them. */
#include "config.h"

#include "tui/view_form_int.h"

#include <stdio.h>

static const char *const choice_words[][4] = {
    [TUI_F_WANTED] = {"start", "stop", NULL},
    [TUI_F_A_KIND] = {"script", "command", NULL},
    [TUI_F_A_RESTART] = {"never", "on_failure", "always"},
    [TUI_F_A_PROBE] = {"none", "exec", "tcp", "http"},
    [TUI_F_A_ON_UNHEALTHY] = {"none", "restart", NULL},
};

static int choice_index(const form_view *v, const item *it)
{
    const tui_form_action *a;

    if (it->id == TUI_F_WANTED || it->action < 0)
        return v->form.wanted_start ? 0 : 1;
    a = &v->form.actions[it->action];
    if (it->id == TUI_F_A_PROBE)
        return (int)a->probe;
    if (it->id == TUI_F_A_ON_UNHEALTHY)
        return a->on_unhealthy_restart;
    return it->id == TUI_F_A_KIND ? a->is_command : (int)a->restart;
}

/* The choices of it: restart 'always' is for services, and shown in a run only while an
 * action has it (a rerun of a service's run), so the builder's refusal can be seen and
 * the choice changed. */
static int n_choices(const form_view *v, const item *it)
{
    if (it->id == TUI_F_A_PROBE)
        return 4;
    if (it->id != TUI_F_A_RESTART)
        return 2;
    return v->form.kind == TUI_FORM_SERVICE ||
                   v->form.actions[it->action].restart == HP_RESTART_ALWAYS
               ? 3
               : 2;
}

void tui__fv_draw_choice(form_view *v, const item *it, int focused)
{
    int x = it->col, n = n_choices(v, it);
    int sel = choice_index(v, it);

    for (int k = 0; k < n; k++) {
        char word[32];
        snprintf(word, sizeof(word), k == sel ? "(*) %s" : "( ) %s", choice_words[it->id][k]);
        wattrset(v->pad, k == sel && focused ? A_REVERSE | A_BOLD : k == sel ? A_BOLD : A_NORMAL);
        x += tui_put(v->pad, it->row, x, it->width - (x - it->col), word);
        wattrset(v->pad, A_NORMAL);
        x += tui_put(v->pad, it->row, x, it->width - (x - it->col), "  ");
    }
}

/* Left/Right/Space on a choice. */
void tui__fv_cycle_choice(form_view *v, const item *it, int delta)
{
    int n = n_choices(v, it);
    int k = (choice_index(v, it) + delta + n) % n;

    if (it->id == TUI_F_WANTED || it->action < 0) {
        v->form.wanted_start = k == 0;
    } else if (it->id == TUI_F_A_KIND) {
        v->form.actions[it->action].is_command = k;
        v->want_rebuild = 1; /* the body's field changes shape */
    } else if (it->id == TUI_F_A_PROBE) {
        v->form.actions[it->action].probe = (hp_probe_kind)k;
        v->want_rebuild = 1; /* the probe's fields come or go */
    } else if (it->id == TUI_F_A_ON_UNHEALTHY) {
        v->form.actions[it->action].on_unhealthy_restart = k;
    } else {
        v->form.actions[it->action].restart = (hp_restart)k;
    }
    v->dirty = 1;
    tui__fv_leave_item(v);
}
