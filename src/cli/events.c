/* SPDX-License-Identifier: Apache-2.0 */
/* The `events` group: the server's state changes (a job started, exited, was restarted,
 * a crash loop, a service failed, a run ended), printed one a line, and with -f followed
 * by long-polling events.wait, so a user can pipe failures into a notifier of their own.
 * It keeps no state between calls but the server's cursor. */
#include "config.h"

#include "cli/cli.h"
#include "cli/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A follow call waits this long: Ctrl-C is noticed between calls. */
#define FOLLOW_WAIT_MS 2000

static int is_failure(const hp_event *e)
{
    return (strcmp(e->kind, "job_exited") == 0 && e->failed) ||
           strcmp(e->kind, "service_failed") == 0 || strcmp(e->kind, "crash_loop") == 0 ||
           strcmp(e->kind, "job_unhealthy") == 0;
}

static void print_event(hp_cli *cli, const hp_event *e)
{
    char clock[32], kind[64], painted[96], where[96];
    char *text;

    if (cli->json) {
        cJSON *o = hp_event_to_json(e);
        hp__out_json(o, 1);
        cJSON_Delete(o);
        return;
    }
    hp__out_clock(e->ts_ms, clock, sizeof(clock));
    snprintf(kind, sizeof(kind), "%-14s", e->kind);
    if (e->service)
        snprintf(where, sizeof(where), "%s", e->service);
    else if (e->run_id)
        snprintf(where, sizeof(where), "run.%lld", (long long)e->run_id);
    else
        snprintf(where, sizeof(where), "-");
    text = hp__out_escape(e->text);
    printf("%s %s %s %s\n", clock,
           hp__out_paint(is_failure(e) ? HP__SGR_RED : HP__SGR_DIM, kind, painted, sizeof(painted)),
           where, text ? text : "");
    free(text);
}

/* Prints the page's events (those kept by the filter); *cursor moves past them. */
static void print_page(hp_cli *cli, const hp_event_page *page, int failures, int64_t *cursor)
{
    if (page->dropped > 0)
        fprintf(stderr,
                "hero_proc: %lld events were dropped before they were read (the "
                "server keeps --events-ring of them)\n",
                (long long)page->dropped);
    for (size_t i = 0; i < page->n_events; i++)
        if (!failures || is_failure(&page->events[i]))
            print_event(cli, &page->events[i]);
    *cursor = page->last_seq;
    fflush(stdout);
}

static int cmd_show(hp_cli *cli, int argc, char **argv)
{
    static const struct option longs[] = {{"follow", no_argument, NULL, 'f'},
                                          {"failures", no_argument, NULL, 'F'},
                                          {"after", required_argument, NULL, 'a'},
                                          HP__CLI_COMMON_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    hp_event_page *page = NULL;
    hp_error err;
    hp_sdk *sdk;
    int64_t cursor = 0;
    int follow = 0, failures = 0, c, rc = 0;

    while ((c = hp__cli_getopt(cli, argc, argv, "f", longs)) != -1) {
        if (c == 'f')
            follow = 1;
        else if (c == 'F')
            failures = 1;
        else if (c == 'a' &&
                 (rc = hp__cli_parse_int(cli, "--after", optarg, 9007199254740991LL, &cursor)) == 0)
            ;
        else
            return HP_CLI_USAGE;
    }
    if ((rc = hp__cli_positionals(cli, argc, 0, 0)) != 0)
        return rc;
    if (!(sdk = hp__cli_sdk(cli, &rc)))
        return rc;
    if (!follow) {
        if (hp_events_wait(sdk, cursor, 0, 0, &page, &err) != HP_OK)
            return hp__cli_fail(cli, "events", &err);
        if (cli->json && !failures) {
            cJSON *o = hp_event_page_to_json(page);
            hp__out_json(o, 0);
            cJSON_Delete(o);
        } else {
            print_page(cli, page, failures, &cursor);
        }
        hp_event_page_free(page);
        return HP_CLI_OK;
    }
    hp__cli_catch_interrupt();
    while (!hp__cli_interrupted()) {
        int64_t t0 = hp__out_now_ms();
        int empty;
        if (hp_events_wait(sdk, cursor, FOLLOW_WAIT_MS, 0, &page, &err) != HP_OK) {
            if (hp__cli_interrupted())
                break;
            return hp__cli_fail(cli, "events", &err);
        }
        empty = page->n_events == 0;
        print_page(cli, page, failures, &cursor);
        hp_event_page_free(page);
        /* Nothing, well before the wait was up: the server's waiters are full and it
         * answers at once; asking again at once would spin. */
        if (empty && hp__out_now_ms() - t0 < FOLLOW_WAIT_MS / 2)
            hp__cli_sleep_ms(FOLLOW_WAIT_MS / 2);
    }
    return HP_CLI_OK;
}

const hp__cli_verb hp__cli_events_verbs[] = {
    {"show", "[-f] [--failures] [--after SEQ]",
     "print the server's state changes (\"show\" may be left out)",
     "Lines read \"HH:MM:SS.mmm KIND SERVICE|run.ID TEXT\"; KIND is job_started,\n"
     "job_exited, job_restarted, job_healthy, job_unhealthy, crash_loop, service_failed,\n"
     "run_ended or server_restarting. With --json one JSON object per event (a page without -f).\n"
     "  -f, --follow      then keep printing new ones as they come, until Ctrl-C (exit 0)\n"
     "  --failures        only failures: a job that exited failed, a service that failed,\n"
     "                    a crash loop, a job that became unhealthy\n"
     "  --after SEQ       only events after this seq (the last one printed)\n"
     "Example: hero_proc events -f --failures --json | while read -r e; do notify \"$e\"; done\n",
     cmd_show},
    {NULL, NULL, NULL, NULL, NULL},
};
