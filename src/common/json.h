/* SPDX-License-Identifier: Apache-2.0 */
/* JSON helpers that src/common, the client and the daemon share but that are not part of the
 * installed API: libhero_proc does not export them and no installed header declares them. */
#ifndef HP_COMMON_JSON_H
#define HP_COMMON_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Adds key: v to the object o as a JSON integer; returns the item, NULL without memory.
 * cJSON prints a number with %1.15g and parses it back to check the digits; an integer
 * written once as text (a raw item) costs a fraction of that, and the daemon's job, run
 * and log lists are mostly integers. (A raw item prints as given; read numbers from a
 * parsed copy, not from the object built.) */
cJSON *hp_json_add_int(cJSON *o, const char *key, int64_t v);

/* Writes prefix then "/" and token into buf (size bytes, caller-owned), with '~' as "~0"
 * and '/' as "~1" (RFC 6901); cut, never overflowing. NULL token = "". Returns buf. */
const char *hp_json_pointer_key(char *buf, size_t size, const char *prefix, const char *token);

#endif
