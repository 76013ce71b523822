/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to hero_proc_sdk: the call every typed wrapper (sdk.c) goes through, with its own
 * timeout and the path of a request that could not be built. Defined in call.c. */
#ifndef HP_CLIENT_CALL_INT_H
#define HP_CLIENT_CALL_INT_H

#include "client/call.h"

#include <cjson/cJSON.h>

/* The common path of every wrapper: params (NULL = allocation failed when want_params)
 * consumed; the result (caller deletes) or NULL with *st and err. */
cJSON *hp__sdk_call(hp_sdk *sdk, const char *method, int want_params, cJSON *params, int bad,
                    long timeout_ms, hp_status *st, hp_error *err);

#endif
