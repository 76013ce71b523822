/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the SDK's reply handling: arbitrary bytes go through
 * hp__rpc_parse_reply (the strict JSON-RPC reply check), and whatever parses as JSON
 * (the value itself and its "result" member) through every typed hp_*_from_json parser,
 * with a to_json round trip of what they accept. It does not touch the transport: the
 * socket and HTTP layers are libcurl's. Built by --enable-fuzzing (clang only). */
#include "client/jsonrpc.h"
#include "client/types.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse, serialize and free: a value the parser accepts must come back out. */
#define ROUND_TRIP(T, json)                                                                        \
    do {                                                                                           \
        hp_error e_;                                                                               \
        hp_##T *v_ = hp_##T##_from_json(json, &e_);                                                \
        if (v_) {                                                                                  \
            cJSON *back_ = hp_##T##_to_json(v_);                                                   \
            cJSON_Delete(back_);                                                                   \
            hp_##T##_free(v_);                                                                     \
        }                                                                                          \
    } while (0)

static void typed(const cJSON *json)
{
    ROUND_TRIP(job, json);
    ROUND_TRIP(run, json);
    ROUND_TRIP(service_summary, json);
    ROUND_TRIP(service_status, json);
    ROUND_TRIP(service_record, json);
    ROUND_TRIP(log_line, json);
    ROUND_TRIP(log_page, json);
    ROUND_TRIP(secret_meta, json);
    ROUND_TRIP(secret, json);
    ROUND_TRIP(system_info, json);
    ROUND_TRIP(pong, json);
    ROUND_TRIP(service_list, json);
    ROUND_TRIP(run_list, json);
    ROUND_TRIP(job_list, json);
    ROUND_TRIP(secret_list, json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    hp_problems pb = {0};
    hp_error err;
    cJSON *result, *json;

    /* The id the reply must carry: 1, as for a client's first call. */
    result = hp__rpc_parse_reply(text, size, 1, &pb, &err);
    if (result)
        typed(result);
    cJSON_Delete(result);
    hp_problems_free(&pb);

    json = cJSON_ParseWithLength(text, size);
    if (json) {
        typed(json);
        typed(cJSON_GetObjectItemCaseSensitive(json, "result"));
    }
    cJSON_Delete(json);
    return 0;
}
