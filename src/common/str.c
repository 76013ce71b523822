/* SPDX-License-Identifier: Apache-2.0 */
/* Strings and string arrays for the common rooms: copy, free, format into a new string,
 * add to a JSON object. Nothing here knows what a spec or a problem is. */
#include "config.h"

#include "common/spec_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *hp__dup_str(const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = malloc(len);

    if (d)
        memcpy(d, s, len);
    return d;
}

/* Copies s (may be NULL) into *dst; -1 only when an allocation failed. */
int hp__copy_str(char **dst, const char *s)
{
    *dst = NULL;
    if (!s)
        return 0;
    *dst = hp__dup_str(s);
    return *dst ? 0 : -1;
}

void hp__free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int hp__copy_strv(char ***dst, size_t *dn, char *const *src, size_t n)
{
    *dst = NULL;
    *dn = 0;
    if (!src || n == 0)
        return 0;
    *dst = calloc(n, sizeof(**dst));
    if (!*dst)
        return -1;
    *dn = n;
    for (size_t i = 0; i < n; i++)
        if (hp__copy_str(&(*dst)[i], src[i]) != 0)
            return -1;
    return 0;
}

char *hp__vformat(const char *fmt, va_list ap)
{
    va_list copy;
    int len;
    char *msg;

    va_copy(copy, ap);
    len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0)
        return NULL;
    msg = malloc((size_t)len + 1);
    if (msg)
        vsnprintf(msg, (size_t)len + 1, fmt, ap);
    return msg;
}

int hp__add_string_array(cJSON *obj, const char *key, char *const *v, size_t n)
{
    cJSON *arr;

    if (!v || n == 0)
        return 0;
    arr = cJSON_AddArrayToObject(obj, key);
    if (!arr)
        return -1;
    for (size_t i = 0; i < n; i++) {
        cJSON *s = v[i] ? cJSON_CreateString(v[i]) : cJSON_CreateNull();
        if (!s)
            return -1;
        cJSON_AddItemToArray(arr, s);
    }
    return 0;
}
