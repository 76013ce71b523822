/* SPDX-License-Identifier: Apache-2.0 */
/* A run with a dependency in C: `build-run` runs `build`, then `test` once build has
 * succeeded; waits for the run and prints each job's status. The endpoint comes from the
 * environment through the auto factory. Exits 0 when the run succeeded, 1 when it did
 * not (or the server could not be reached). */
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
    hp_action *a;

    if (!proc) {
        fprintf(stderr, "build_run: %s\n", err.message);
        return 1;
    }
    rb = hp_run_builder_new(proc, "build-run");
    a = hp_run_builder_action(rb, "build");
    hp_action_command(a, "sh -c 'echo building && echo built'");
    a = hp_run_builder_action(rb, "test");
    hp_action_command(a, "test -d /tmp");
    hp_action_depends_on(a, "build", NULL);
    if (hp_run_builder_start(rb, &run_id, &err) != HP_OK ||
        hp_client_run_wait(proc, run_id, 60000, &run, &err) != HP_OK) {
        fprintf(stderr, "build_run: %s\n", err.message);
        hp_run_builder_free(rb);
        hp_client_free(proc);
        return 1;
    }
    for (size_t i = 0; i < run->n_jobs; i++)
        printf("%-6s %s\n", run->jobs[i].action, hp_job_state_name(run->jobs[i].status));
    ok = run->status == HP_RUN_SUCCEEDED;
    printf("run %" PRId64 " build-run: %s\n", run_id, hp_run_state_name(run->status));
    hp_run_free(run);
    hp_run_builder_free(rb);
    hp_client_free(proc);
    return ok ? 0 : 1;
}
