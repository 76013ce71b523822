/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the daemon's request handling: arbitrary bytes go through
 * hpd_rpc_handle (bounds, raw-text checks, parse, batch, param checks, dispatch) against
 * a real server model and store in a temporary data dir, without HTTP. Methods that
 * spawn processes or wait (run.submit, service.start, service.restart, run.wait) answer
 * from a stub after their params passed the checks: thousands of runs a second must not
 * fork. Built by --enable-fuzzing (clang only). */
#include "config.h"

#include "server/loop.h"
#include "server/rpc.h"
#include "server/server.h"
#include "server/store.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hpd_server srv;
static hpd_method *methods;

static cJSON *m_stub(hpd_rpc_ctx *ctx)
{
    (void)ctx;
    return cJSON_CreateObject();
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* The run leaves no data dir behind. */
static void cleanup(void)
{
    hpd_store_close(srv.store);
    srv.store = NULL;
    nftw(srv.data_dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The server's own table, with the methods that fork or wait replaced by the stub. */
static int setup(void)
{
    static const char *const stubbed[] = {"run.submit", "service.start", "service.restart",
                                          "run.wait", NULL};
    static char dir[] = "/tmp/hero_proc_fuzz_XXXXXX";
    hpd_store_limits limits = {.log_bytes_per_job = 1 << 16, .log_bytes = 1 << 20};
    size_t n = 0;
    hp_error err;

    hp_error_clear(&err);
    if (!mkdtemp(dir))
        return -1;
    srv.opt.max_services = srv.opt.max_secrets = 64; /* the model stays small */
    srv.opt.max_active_runs = srv.opt.max_finished_runs = 16;
    srv.opt.log_bytes_per_job = 1 << 16;
    srv.next_run_id = srv.next_job_id = 1;
    srv.sigfd = -1;
    srv.data_dir = dir;
    srv.socket_path = dir;
    srv.store = hpd_store_open(dir, &limits, &err);
    srv.loop = hpd_loop_new();
    if (!srv.store || !srv.loop) {
        fprintf(stderr, "fuzz_server: cannot open a store in %s: %s\n", dir, err.message);
        return -1;
    }
    while (hpd_methods[n].name)
        n++;
    atexit(cleanup);
    methods = calloc(n + 1, sizeof(*methods));
    if (!methods)
        return -1;
    memcpy(methods, hpd_methods, (n + 1) * sizeof(*methods));
    for (size_t i = 0; i < n; i++)
        for (const char *const *s = stubbed; *s; s++)
            if (strcmp(methods[i].name, *s) == 0)
                methods[i].fn = m_stub;
    return 0;
}

static void never_done(void *ud, char *body)
{
    (void)ud;
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    char *out = NULL;
    hpd_batch *b;

    if (!ready) {
        if (setup() != 0)
            abort();
        ready = 1;
    }
    b = hpd_rpc_handle(&srv, methods, (const char *)data, size, &out, never_done, NULL);
    if (b) /* nothing defers here; if something did, the client "goes away" */
        hpd_rpc_abandon(b);
    free(out);
    return 0;
}
