/* SPDX-License-Identifier: Apache-2.0 */
/* A fake HTTP responder on a Unix socket for the SDK tests: a thread that answers the
 * next requests with canned bytes, for the replies a real hero_proc_server never sends
 * (truncated JSON, a wrong id, HTTP 500, a huge or slow body). It records what it got. */
#ifndef HP_TESTS_FAKE_SERVER_H
#define HP_TESTS_FAKE_SERVER_H

#include <stddef.h>

typedef struct hpt_fake hpt_fake;

/* Listens on path (bound before it returns, so a client may connect at once) and
 * answers up to n requests, in order, with replies[i] (whole HTTP responses, copied),
 * each after waiting delay_ms or until the client hangs up. A reply that holds
 * "Connection: close" closes the connection after it. Fails the test when the socket
 * cannot be set up. */
hpt_fake *hpt_fake_start(const char *path, const char *const *replies, size_t n, int delay_ms);

/* A full "HTTP/1.1 200 OK" response around body (Content-Length set), newly allocated;
 * the caller frees it. */
char *hpt_fake_http(int status, const char *body);

/* Stops the thread (it gives up waiting for requests after 5 s), removes the socket
 * and frees f. Returns every request received, concatenated (caller frees; "" when
 * none). */
char *hpt_fake_finish(hpt_fake *f);

#endif
