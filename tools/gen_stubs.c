/* SPDX-License-Identifier: Apache-2.0 */
/* gen_stubs: writes src/client/stubs.h and stubs.c, one typed C function per method of
 * data/openrpc.json over hp_sdk_call (client/call.h). The output is already clang-format clean (the
 * generator wraps its own lines), so `make check` can compare it byte for byte with the
 * committed copy. It does not validate the document (tests/openrpc-meta.test does) and
 * knows the SDK's parsed types only through the table below. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLUMNS      100
#define COMMENT_TEXT (COLUMNS - 6) /* the opener or " * " before, the closer after */

/* The types client/types.h parses with hp_T_from_json: a result that is a $ref to one of
 * these components becomes a typed out-parameter. */
static const char *const typed_results[][2] = {
    {"Pong", "pong"},
    {"SystemInfo", "system_info"},
    {"ServiceRecord", "service_record"},
    {"ServiceStatus", "service_status"},
    {"Run", "run"},
    {"Job", "job"},
    {"LogPage", "log_page"},
    {"SecretMeta", "secret_meta"},
    {"Secret", "secret"},
};

/* Names the generated bodies use for themselves: a parameter may not take one. */
static const char *const reserved[] = {"sdk", "out", "result", "err", "p", "bad", "r", "e", "st"};

typedef enum kind { K_STRING, K_INTEGER, K_BOOLEAN, K_JSON } kind;

typedef struct param {
    const char *name;
    const char *doc;
    kind kind;
    int required;
} param;

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("gen_stubs: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("formatting failed");
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data)
            die("out of memory");
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    buf b = {0};
    char chunk[8192];
    size_t n;

    if (!f)
        die("%s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        put(&b, "%.*s", (int)n, chunk);
    if (ferror(f))
        die("%s: read failed", path);
    fclose(f);
    return b.data ? b.data : calloc(1, 1);
}

/* Writes text to path unless it already holds exactly that (keeps the timestamp, so an
 * unchanged spec does not rebuild the SDK). */
static void write_file(const char *path, const buf *b)
{
    FILE *f = fopen(path, "rb");

    if (f) {
        char *old = read_file(path);
        int same = strlen(old) == b->len && memcmp(old, b->data, b->len) == 0;
        free(old);
        fclose(f);
        if (same)
            return;
    }
    f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0)
        die("%s: cannot write: %s", path, strerror(errno));
}

/* Word-wraps text into a block comment; a star-slash in the text is split apart. */
static void comment(buf *b, const char *indent, const char *text)
{
    const char *s = text;
    size_t col = 0;
    int first = 1;

    put(b, "%s/* ", indent);
    while (*s) {
        size_t w;

        while (*s == ' ')
            s++;
        if (*s == '\n') { /* a forced line break; two make a blank line */
            put(b, "\n%s *", indent);
            col = 0;
            s++;
            continue;
        }
        w = strcspn(s, " \n");
        if (!w)
            break;
        if (col && col + 1 + w > COMMENT_TEXT) {
            put(b, "\n%s *", indent);
            col = 0;
        }
        if (col || !first)
            put(b, " ");
        first = 0;
        for (size_t i = 0; i < w; i++) {
            if (s[i] == '/' && i > 0 && s[i - 1] == '*')
                put(b, " ");
            put(b, "%c", s[i]);
        }
        col += (col ? 1 : 0) + w;
        s += w;
    }
    put(b, " */\n");
}

static const cJSON *resolve(const cJSON *schemas, const cJSON *schema)
{
    for (int depth = 0; depth < 16; depth++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(schema, "$ref");
        const char *prefix = "#/components/schemas/";
        if (!cJSON_IsString(ref))
            return schema;
        if (strncmp(ref->valuestring, prefix, strlen(prefix)) != 0)
            die("unsupported $ref %s", ref->valuestring);
        schema = cJSON_GetObjectItemCaseSensitive(schemas, ref->valuestring + strlen(prefix));
        if (!schema)
            die("unknown $ref %s", ref->valuestring);
    }
    die("$ref chain too deep");
}

static kind kind_of(const cJSON *schema)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");

    if (cJSON_IsString(type)) {
        if (!strcmp(type->valuestring, "string"))
            return K_STRING;
        if (!strcmp(type->valuestring, "integer"))
            return K_INTEGER;
        if (!strcmp(type->valuestring, "boolean"))
            return K_BOOLEAN;
        return K_JSON; /* object, array, number: passed through as JSON */
    }
    if (cJSON_GetObjectItemCaseSensitive(schema, "enum"))
        return K_STRING;
    return K_JSON;
}

static void check_identifier(const char *method, const char *name)
{
    if (!name[0] || isdigit((unsigned char)name[0]))
        die("%s: parameter '%s' is not a C identifier", method, name);
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            die("%s: parameter '%s' is not a C identifier", method, name);
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (!strcmp(name, reserved[i]))
            die("%s: parameter '%s' clashes with a name of the generated code", method, name);
}

/* The SDK type of a closed result, or NULL to answer raw JSON. */
static const char *typed_result(const cJSON *result_schema)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(result_schema, "$ref");
    const char *prefix = "#/components/schemas/";

    if (!cJSON_IsString(ref) || strncmp(ref->valuestring, prefix, strlen(prefix)) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(typed_results) / sizeof(typed_results[0]); i++)
        if (!strcmp(ref->valuestring + strlen(prefix), typed_results[i][0]))
            return typed_results[i][1];
    return NULL;
}

/* The C parameter declarations of a method, in order, into decls (each a heap string). */
static size_t declarations(const param *ps, size_t n, const char *typed, char **decls)
{
    size_t k = 0;
    buf b;

#define DECL(...)                                                                                  \
    do {                                                                                           \
        memset(&b, 0, sizeof(b));                                                                  \
        put(&b, __VA_ARGS__);                                                                      \
        decls[k++] = b.data;                                                                       \
    } while (0)
    DECL("hp_sdk *sdk");
    for (size_t i = 0; i < n; i++) {
        if (!ps[i].required && (ps[i].kind == K_INTEGER || ps[i].kind == K_BOOLEAN))
            DECL("int has_%s", ps[i].name);
        switch (ps[i].kind) {
        case K_STRING:
            DECL("const char *%s", ps[i].name);
            break;
        case K_INTEGER:
            DECL("int64_t %s", ps[i].name);
            break;
        case K_BOOLEAN:
            DECL("int %s", ps[i].name);
            break;
        case K_JSON:
            DECL("const cJSON *%s", ps[i].name);
            break;
        }
    }
    if (typed)
        DECL("hp_%s **out", typed);
    else
        DECL("cJSON **result");
    DECL("hp_error *err");
#undef DECL
    return k;
}

/* "hp_status name(a, b, ...)" bin-packed the way clang-format packs it: as many
 * declarations per line as fit, continuation lines aligned after the parenthesis. */
static void signature(buf *b, const char *fn, char **decls, size_t n, const char *end)
{
    size_t indent, col;

    put(b, "hp_status %s(", fn);
    indent = strlen("hp_status ") + strlen(fn) + 1;
    col = indent;
    for (size_t i = 0; i < n; i++) {
        const char *trail = i + 1 < n ? "," : end;
        size_t w = strlen(decls[i]) + strlen(trail);
        if (i > 0) {
            if (col + 1 + w > COLUMNS) {
                put(b, "\n%*s", (int)indent, "");
                col = indent;
            } else {
                put(b, " ");
                col++;
            }
        }
        put(b, "%s%s", decls[i], trail);
        col += w;
    }
    put(b, "\n");
}

static void param_doc(buf *d, const param *p)
{
    put(d, "\n%s: %s", p->name, p->doc && p->doc[0] ? p->doc : "(undocumented)");
    if (p->required)
        return;
    if (p->kind == K_INTEGER || p->kind == K_BOOLEAN)
        put(d, " Optional: sent only when has_%s is non-zero.", p->name);
    else
        put(d, " Optional: NULL is not sent.");
}

static void emit_method(buf *h, buf *c, const cJSON *schemas, const cJSON *m)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
    const cJSON *summary = cJSON_GetObjectItemCaseSensitive(m, "summary");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(m, "result");
    const cJSON *it;
    param ps[32];
    size_t n = 0, nd;
    char fn[128], *decls[80];
    const char *typed;
    buf doc = {0};

    if (!cJSON_IsString(name) || !cJSON_IsArray(params))
        die("a method without a name or params");
    snprintf(fn, sizeof(fn), "hp_stub_%s", name->valuestring);
    for (char *s = fn; *s; s++)
        if (*s == '.')
            *s = '_';
    cJSON_ArrayForEach (it, params) {
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(it, "schema");
        const cJSON *pname = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *pdoc = cJSON_GetObjectItemCaseSensitive(it, "description");
        if (n == sizeof(ps) / sizeof(ps[0]) || !cJSON_IsString(pname))
            die("%s: too many or unnamed parameters", name->valuestring);
        check_identifier(name->valuestring, pname->valuestring);
        ps[n].name = pname->valuestring;
        ps[n].doc = cJSON_IsString(pdoc) ? pdoc->valuestring : NULL;
        ps[n].kind = kind_of(resolve(schemas, schema));
        ps[n].required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "required"));
        n++;
    }
    typed = typed_result(cJSON_GetObjectItemCaseSensitive(result, "schema"));
    nd = declarations(ps, n, typed, decls);

    put(&doc, "%s: %s", name->valuestring,
        cJSON_IsString(summary) ? summary->valuestring : "(no summary)");
    for (size_t i = 0; i < n; i++)
        param_doc(&doc, &ps[i]);
    if (typed)
        put(&doc, "\n*out (may be NULL) gets the answer; free it with hp_%s_free.", typed);
    else
        put(&doc, "\n*result (may be NULL) gets the answer; delete it with cJSON_Delete.");
    put(h, "\n");
    comment(h, "", doc.data);
    signature(h, fn, decls, nd, ");");
    free(doc.data);

    put(c, "\n");
    signature(c, fn, decls, nd, ")");
    put(c, "{\n");
    if (n) {
        put(c, "    cJSON *p = cJSON_CreateObject();\n");
        put(c, "    int bad = p == NULL;\n");
    }
    if (typed)
        put(c, "    cJSON *r = NULL;\n    hp_error e;\n    hp_status st;\n");
    put(c, "\n");
    if (typed)
        put(c, "    if (out)\n        *out = NULL;\n");
    for (size_t i = 0; i < n; i++) {
        const char *k = ps[i].name;
        int opt = !ps[i].required && (ps[i].kind == K_INTEGER || ps[i].kind == K_BOOLEAN);
        if (opt)
            put(c, "    if (has_%s)\n    ", k);
        switch (ps[i].kind) {
        case K_STRING:
            put(c, "    bad |= add_string(p, \"%s\", %s);\n", k, k);
            break;
        case K_INTEGER:
            put(c, "    bad |= add_integer(p, \"%s\", %s);\n", k, k);
            break;
        case K_BOOLEAN:
            put(c, "    bad |= add_boolean(p, \"%s\", %s);\n", k, k);
            break;
        case K_JSON:
            put(c, "    bad |= add_json(p, \"%s\", %s);\n", k, k);
            break;
        }
    }
    if (typed) {
        put(c, "    st = call(sdk, \"%s\", %s, &r, err);\n", name->valuestring,
            n ? "p, bad" : "NULL, 0");
        put(c, "    if (st == HP_OK && out) {\n");
        put(c, "        *out = hp_%s_from_json(r, &e);\n", typed);
        put(c, "        if (!*out)\n            st = pass(&e, err);\n    }\n");
        put(c, "    cJSON_Delete(r);\n    return st;\n");
    } else {
        put(c, "    return call(sdk, \"%s\", %s, result, err);\n", name->valuestring,
            n ? "p, bad" : "NULL, 0");
    }
    put(c, "}\n");
    for (size_t i = 0; i < nd; i++)
        free(decls[i]);
}

static const char header_intro[] =
    "generated by tools/gen_stubs from data/openrpc.json — do not edit.\nRun `make stubs` "
    "after changing the contract; `make check` fails while this file is stale.\n\n"
    "The typed stubs of hero_proc_sdk: one function per method, named after it "
    "(service.get is hp_stub_service_get), over hp_sdk_call (client/call.h). Strings and JSON "
    "values are "
    "borrowed and copied into the request; an optional one that is NULL is not sent. An "
    "optional integer or boolean is sent only when its has_ flag is non-zero, otherwise the "
    "server applies the default of the contract. A result the SDK has a type for comes "
    "parsed, any other as cJSON. Returns HP_OK, or the failure's code with err "
    "(may be NULL) filled and the out-parameter NULL. Every rule of the contract is the "
    "server's to check. The call is bounded by the client's timeout (run.wait included: "
    "prefer hp_runs_wait, which extends it).";

static const char source_helpers[] =
    "#include \"client/stubs.h\"\n"
    "\n"
    "/* Adders that tolerate a NULL object (its allocation failed): non-zero on failure. */\n"
    "static int add_string(cJSON *p, const char *key, const char *v)\n"
    "{\n"
    "    if (!v)\n"
    "        return 0;\n"
    "    return !p || !cJSON_AddStringToObject(p, key, v);\n"
    "}\n"
    "\n"
    "static int add_integer(cJSON *p, const char *key, int64_t v)\n"
    "{\n"
    "    return !p || !cJSON_AddNumberToObject(p, key, (double)v);\n"
    "}\n"
    "\n"
    "static int add_boolean(cJSON *p, const char *key, int v)\n"
    "{\n"
    "    return !p || !cJSON_AddBoolToObject(p, key, v != 0);\n"
    "}\n"
    "\n"
    "static int add_json(cJSON *p, const char *key, const cJSON *v)\n"
    "{\n"
    "    cJSON *copy;\n"
    "\n"
    "    if (!v)\n"
    "        return 0;\n"
    "    copy = cJSON_Duplicate(v, 1);\n"
    "    if (p && copy && cJSON_AddItemToObject(p, key, copy))\n"
    "        return 0;\n"
    "    cJSON_Delete(copy);\n"
    "    return 1;\n"
    "}\n"
    "\n"
    "/* Sends p (consumed on every path) unless building it failed. */\n"
    "static hp_status call(hp_sdk *sdk, const char *method, cJSON *p, int bad, cJSON **result,\n"
    "                      hp_error *err)\n"
    "{\n"
    "    if (bad) {\n"
    "        cJSON_Delete(p);\n"
    "        if (result)\n"
    "            *result = NULL;\n"
    "        return hp_error_set(err, HP_E_NOMEM, \"%s: cannot build the request\", method);\n"
    "    }\n"
    "    return hp_sdk_call(sdk, method, p, result, err);\n"
    "}\n"
    "\n"
    "/* A result that does not parse: its error becomes the call's. */\n"
    "static hp_status pass(const hp_error *e, hp_error *err)\n"
    "{\n"
    "    if (err)\n"
    "        *err = *e;\n"
    "    return e->code;\n"
    "}\n";

int main(int argc, char **argv)
{
    char *text;
    cJSON *doc;
    const cJSON *methods, *schemas, *m;
    buf h = {0}, c = {0};
    int count = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: gen_stubs OPENRPC_JSON STUBS_H STUBS_C\n");
        return 100;
    }
    text = read_file(argv[1]);
    doc = cJSON_Parse(text);
    if (!doc)
        die("%s: not JSON", argv[1]);
    methods = cJSON_GetObjectItemCaseSensitive(doc, "methods");
    schemas = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "components"),
                                               "schemas");
    if (!cJSON_IsArray(methods))
        die("%s: no methods", argv[1]);

    put(&h, "/* SPDX-License-Identifier: Apache-2.0 */\n");
    comment(&h, "", header_intro);
    put(&h, "#ifndef HP_CLIENT_STUBS_H\n#define HP_CLIENT_STUBS_H\n\n");
    put(&h, "#include \"client/call.h\"\n#include \"client/types.h\"\n\n#include <cjson/cJSON.h>\n"
            "#include <stdint.h>\n");

    put(&c, "/* SPDX-License-Identifier: Apache-2.0 */\n");
    comment(
        &c, "",
        "generated by tools/gen_stubs from data/openrpc.json — do not edit.\nThe bodies of "
        "the stubs declared in client/stubs.h: each builds its params object and calls "
        "hp_sdk_call (client/call.c), never the wrappers of sdk.c; no checks of its own beyond a "
        "failed allocation.");
    put(&c, "%s", source_helpers);

    cJSON_ArrayForEach (m, methods) {
        emit_method(&h, &c, schemas, m);
        count++;
    }
    put(&h, "\n#endif\n");
    write_file(argv[2], &h);
    write_file(argv[3], &c);
    fprintf(stderr, "gen_stubs: %d methods\n", count);
    free(h.data);
    free(c.data);
    free(text);
    cJSON_Delete(doc);
    return 0;
}
