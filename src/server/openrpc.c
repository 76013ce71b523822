/* SPDX-License-Identifier: Apache-2.0 */
/* data/openrpc.json embedded at build time, byte for byte, NUL-terminated: served by
 * GET /openrpc.json and rpc.discover. */
#include "config.h"

__asm__(".section .rodata\n"
        ".global hpd_openrpc_json\n"
        ".type hpd_openrpc_json, @object\n"
        "hpd_openrpc_json:\n"
        ".incbin \"" HPD_OPENRPC_PATH "\"\n"
        ".global hpd_openrpc_json_end\n"
        ".type hpd_openrpc_json_end, @object\n"
        "hpd_openrpc_json_end:\n"
        ".byte 0\n"
        ".section .note.GNU-stack,\"\",@progbits\n"
        ".text\n");
