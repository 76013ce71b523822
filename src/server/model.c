/* SPDX-License-Identifier: Apache-2.0 */
/* Names of the job and run states, read from the X-macro tables of model.h, and the
 * final-state predicate. No allocation, no I/O; the model's behaviour lives elsewhere. */
#include "config.h"

#include "server/model.h"

#include <string.h>

#define NAME_ENTRY(e, s) [e] = s,
static const char *const job_names[] = {HPD_JOB_STATES(NAME_ENTRY)};
static const char *const run_names[] = {HPD_RUN_STATES(NAME_ENTRY)};
#undef NAME_ENTRY

#define N_JOB_STATES (sizeof(job_names) / sizeof(job_names[0]))
#define N_RUN_STATES (sizeof(run_names) / sizeof(run_names[0]))

const char *hpd_job_state_name(hpd_job_state s)
{
    return (size_t)s < N_JOB_STATES ? job_names[s] : "unknown";
}

const char *hpd_run_state_name(hpd_run_state s)
{
    return (size_t)s < N_RUN_STATES ? run_names[s] : "unknown";
}

int hpd_job_state_parse(const char *name, hpd_job_state *out)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < N_JOB_STATES; i++)
        if (strcmp(name, job_names[i]) == 0) {
            *out = (hpd_job_state)i;
            return 0;
        }
    return -1;
}

int hpd_run_state_parse(const char *name, hpd_run_state *out)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < N_RUN_STATES; i++)
        if (strcmp(name, run_names[i]) == 0) {
            *out = (hpd_run_state)i;
            return 0;
        }
    return -1;
}

int hpd_job_state_final(hpd_job_state s)
{
    switch (s) {
    case HPD_JOB_SUCCEEDED:
    case HPD_JOB_FAILED:
    case HPD_JOB_TIMED_OUT:
    case HPD_JOB_CANCELLED:
    case HPD_JOB_SKIPPED:
        return 1;
    case HPD_JOB_PENDING:
    case HPD_JOB_RUNNING:
    case HPD_JOB_RETRYING:
        break;
    }
    return 0;
}
