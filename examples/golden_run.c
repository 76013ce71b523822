/* SPDX-License-Identifier: Apache-2.0 */
/* The golden ad-hoc run in C: the run `one-shot` with one action `task`, started and
 * waited for. The endpoint comes from the environment through the auto factory. Exits 0
 * when the run succeeded, 1 otherwise. */
#include <hero_proc/hero_proc.h>

#include <inttypes.h>
#include <stdio.h>

int main(void)
{
    hp_error err;
    int64_t run_id;
    hp_run *run = NULL;
    int ok;
    hp_client *proc = hp_factory_auto(NULL, &err);
    hp_run_builder *rb;

    if (!proc) {
        fprintf(stderr, "golden_run: %s\n", err.message);
        return 1;
    }
    rb = hp_run_builder_new(proc, "one-shot");
    hp_action_script(hp_run_builder_action(rb, "task"), "echo one-shot done");
    if (hp_run_builder_start(rb, &run_id, &err) != HP_OK ||
        hp_client_run_wait(proc, run_id, 60000, &run, &err) != HP_OK) {
        fprintf(stderr, "golden_run: %s\n", err.message);
        hp_run_builder_free(rb);
        hp_client_free(proc);
        return 1;
    }
    ok = run->status == HP_RUN_SUCCEEDED;
    printf("run %" PRId64 " one-shot: %s\n", run_id, hp_run_state_name(run->status));
    hp_run_free(run);
    hp_run_builder_free(rb);
    hp_client_free(proc);
    return ok ? 0 : 1;
}
