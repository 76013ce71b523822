/* SPDX-License-Identifier: Apache-2.0 */
/* The golden service in C: the service `api` with one action `start`, a long-running loop
 * standing in for `bun run server.ts`, saved then started. The endpoint comes from the
 * environment (HERO_PROC_SOCKET, HERO_PROC_URL, else the default socket, starting a
 * server there when none answers). Prints the id of the run that was started. */
#include <hero_proc/hero_proc.h>

#include <inttypes.h>
#include <stdio.h>

int main(void)
{
    hp_error err;
    int64_t run_id;
    hp_client *proc = hp_factory_auto(NULL, &err);
    hp_service_builder *sb;
    hp_action *a;

    if (!proc) {
        fprintf(stderr, "golden_service: %s\n", err.message);
        return 1;
    }
    sb = hp_service_builder_new(proc, "api");
    hp_service_builder_description(sb, "The API server");
    a = hp_service_builder_action(sb, "start");
    hp_action_script(a, "while true; do echo \"api: serving\"; sleep 1; done");
    hp_action_restart_always(a);
    if (hp_service_builder_save(sb, &err) != HP_OK ||
        hp_client_service_start(proc, "api", &run_id, &err) != HP_OK) {
        fprintf(stderr, "golden_service: %s\n", err.message);
        hp_service_builder_free(sb);
        hp_client_free(proc);
        return 1;
    }
    printf("service api started: run %" PRId64 "\n", run_id);
    hp_service_builder_free(sb);
    hp_client_free(proc);
    return 0;
}
