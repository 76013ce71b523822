/* SPDX-License-Identifier: Apache-2.0 */
/* sdk_tour: a walk through every domain of hero_proc_sdk against the server found from
 * the environment (HERO_PROC_SOCKET, HERO_PROC_URL + HERO_PROC_TOKEN, default socket).
 * One line per step; exit 0 only when every step succeeded, else the SDK's message and
 * exit 1 at once. It uses the SDK layer only: no builders, no raw JSON. */
#include <hero_proc/hero_proc.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hp_sdk *sdk;
static hp_error err;

static void check(hp_status st, const char *step)
{
    if (st == HP_OK)
        return;
    fprintf(stderr, "sdk_tour: %s failed: %s\n", step, err.message);
    hp_sdk_free(sdk);
    exit(1);
}

static void require(int ok, const char *step, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "sdk_tour: %s failed: %s\n", step, what);
    hp_sdk_free(sdk);
    exit(1);
}

static void tour_services(void)
{
    char svc[] = "sdk-tour", act[] = "main", script[] = "echo sdk tour service; exec sleep 60";
    hp_action_spec a = {.name = act, .script = script};
    hp_service_config cfg = {.name = svc, .actions = &a, .n_actions = 1};
    hp_service_list *list = NULL;
    hp_service_record *rec = NULL;
    hp_service_status *status = NULL;
    hp_run *run = NULL;
    int created = 0;

    check(hp_services_put(sdk, &cfg, &created, &err), "service set");
    printf("service set: %s (%s)\n", svc, created ? "created" : "replaced");
    check(hp_services_list(sdk, 0, &list, &err), "service list");
    printf("service list: %zu service(s), rev %" PRId64 "\n", list->n_services, list->rev);
    hp_service_list_free(list);
    check(hp_services_get(sdk, svc, &rec, &err), "service get");
    printf("service get: %s with %zu action(s)\n", rec->config.name, rec->config.n_actions);
    hp_service_record_free(rec);
    check(hp_services_start(sdk, svc, &run, &err), "service start");
    printf("service start: run %" PRId64 "\n", run->id);
    hp_run_free(run);
    check(hp_services_status(sdk, svc, &status, &err), "service status");
    printf("service status: %s, wanted %s, %zu job(s)\n", hp_service_state_name(status->status),
           status->wanted_start ? "start" : "stop", status->n_jobs);
    hp_service_status_free(status);
    check(hp_services_stop(sdk, svc, &status, &err), "service stop");
    printf("service stop: %s, wanted %s\n", hp_service_state_name(status->status),
           status->wanted_start ? "start" : "stop");
    hp_service_status_free(status);
    check(hp_services_delete(sdk, svc, &err), "service delete");
    printf("service delete: %s\n", svc);
}

static void tour_runs(void)
{
    char name[] = "sdk-tour-run", act[] = "hello", script[] = "echo hello from sdk_tour";
    hp_action_spec a = {.name = act, .script = script};
    hp_run *run = NULL;
    hp_run_list *runs = NULL;
    hp_job_list *jobs = NULL;
    hp_log_page *page = NULL;
    hp_job_filter jf = {0};
    char src[64];
    int64_t id, job_id;

    check(hp_runs_submit(sdk, name, &a, 1, &run, &err), "run submit");
    id = run->id;
    printf("run submit: run %" PRId64 " (%s)\n", id, hp_run_state_name(run->status));
    hp_run_free(run);
    check(hp_runs_wait(sdk, id, 10000, &run, &err), "run wait");
    printf("run wait: run %" PRId64 " %s\n", id, hp_run_state_name(run->status));
    require(run->status == HP_RUN_SUCCEEDED, "run wait", "the run did not succeed");
    hp_run_free(run);
    check(hp_runs_get(sdk, id, &run, &err), "run get");
    printf("run get: run %" PRId64 " with %zu job(s), %" PRId64 " succeeded\n", id, run->n_jobs,
           run->counts.succeeded);
    hp_run_free(run);
    check(hp_runs_list(sdk, NULL, &runs, &err), "run list");
    printf("run list: %zu run(s)\n", runs->n_runs);
    hp_run_list_free(runs);

    jf.run_id = id;
    check(hp_jobs_list(sdk, &jf, &jobs, &err), "job list");
    require(jobs->n_jobs == 1, "job list", "the run should have one job");
    job_id = jobs->jobs[0].id;
    printf("job list: %zu job(s), job %" PRId64 " %s\n", jobs->n_jobs, job_id,
           hp_job_state_name(jobs->jobs[0].status));
    hp_job_list_free(jobs);
    check(hp_jobs_logs(sdk, job_id, 0, 0, 0, &page, &err), "job logs");
    printf("job logs: %zu line(s)\n", page->n_lines);
    hp_log_page_free(page);

    snprintf(src, sizeof(src), "run.%" PRId64, id);
    check(hp_logs_tail(sdk, src, 0, 100, &page, &err), "logs tail");
    printf("logs tail: %zu line(s) from %s\n", page->n_lines, src);
    for (size_t i = 0; i < page->n_lines; i++)
        if (page->lines[i].stream == HP_STREAM_STDOUT)
            printf("  %s\n", page->lines[i].line);
    hp_log_page_free(page);
}

static void tour_secrets(void)
{
    const char *name = "sdk_tour_secret";
    hp_secret_list *list = NULL;
    hp_secret *secret = NULL;

    check(hp_secrets_set(sdk, name, "s3cret", NULL, &err), "secret set");
    printf("secret set: %s\n", name);
    check(hp_secrets_list(sdk, 0, &list, &err), "secret list");
    printf("secret list: %zu secret(s)\n", list->n_secrets);
    hp_secret_list_free(list);
    check(hp_secrets_get(sdk, name, &secret, &err), "secret get");
    require(strcmp(secret->value, "s3cret") == 0, "secret get", "the value differs");
    printf("secret get: %s (value matches)\n", secret->name);
    hp_secret_free(secret);
    check(hp_secrets_delete(sdk, name, &err), "secret delete");
    printf("secret delete: %s\n", name);
}

int main(void)
{
    hp_pong *pong = NULL;

    sdk = hp_sdk_new_auto(NULL, NULL, 0, &err);
    if (!sdk) {
        fprintf(stderr, "sdk_tour: %s\n", err.message);
        return 1;
    }
    check(hp_sdk_ping(sdk, &pong, &err), "ping");
    printf("ping: hero_proc_server %s at %s\n", pong->version, hp_sdk_endpoint(sdk));
    hp_pong_free(pong);
    tour_services();
    tour_runs();
    tour_secrets();
    printf("sdk_tour: every step succeeded\n");
    hp_sdk_free(sdk);
    return 0;
}
