/*
 * codec.c - wire protocol v1: parse and validate input documents, encode
 * acks, results and error records.
 */
#include "autoconfig.h"

#include "codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "jtext.h"
#include "textmill/json.h"
#include "utf8.h"

/* Does the raw JSON contain a \u0000 escape?  Backslashes are only legal
 * inside strings, and escapes are read left to right, so skipping "\\"
 * pairs is enough to tell "\u0000" from "\\u0000". */
static int tm__has_nul_escape(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (p + 1 >= end)
            return 0;
        if (p[1] == 'u' && end - p >= 6 && memcmp(p + 2, "0000", 4) == 0)
            return 1;
        p += 2;
    }
    return 0;
}

static int tm__json_depth(const cJSON *v)
{
    int best = 0;
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return 0;
    for (const cJSON *c = v->child; c != NULL; c = c->next) {
        int d = tm__json_depth(c);
        if (d > best)
            best = d;
    }
    return best + 1;
}

/* Take ownership of a cJSON string's buffer, leaving the item empty. */
static char *tm__steal_string(cJSON *item)
{
    char *s = item->valuestring;
    item->valuestring = NULL;
    return s;
}

static int tm__parse_content_type(const char *ct, const char **out)
{
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    static const struct {
        const char *name;
        const char *value;
    } known[] = {{"text/plain", TM_CT_PLAIN}, {"text/html", TM_CT_HTML},
                 {"text/markdown", TM_CT_MARKDOWN}, {"application/xhtml+xml", TM_CT_HTML},
                 {"text/x-markdown", TM_CT_MARKDOWN}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strlen(known[i].name) == n && strncasecmp(ct, known[i].name, n) == 0) {
            *out = known[i].value;
            return 1;
        }
    }
    return 0;
}

/* Offset of the first byte after a JSON value that is not whitespace, or
 * SIZE_MAX when there is none. */
static size_t tm__trailing_at(const char *p, const char *end, const char *base)
{
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return (size_t)(p - base);
    return SIZE_MAX;
}

/* The fast path (jtext.h): the text decoded by the scanner, the rest of the
 * message parsed by cJSON.  Returns the tree (text member "") and fills *ft,
 * or NULL when the fast path does not apply; *oom is set when it failed for
 * lack of memory. */
static cJSON *tm__parse_fast(const char *buf, size_t len, tm_jtext_t *ft, int *oom)
{
    int f = tm_jtext_find(buf, len, ft);
    if (f <= 0) {
        *oom = f < 0;
        return NULL;
    }
    size_t rlen = 0;
    char *rest = tm_jtext_rest(buf, len, ft, &rlen);
    cJSON *root = NULL;
    if (rest != NULL) {
        const char *end = NULL;
        root = cJSON_ParseWithLengthOpts(rest, rlen, &end, 0);
        if (root != NULL && (!cJSON_IsObject(root) || tm__trailing_at(end, rest + rlen, rest) != SIZE_MAX)) {
            cJSON_Delete(root);
            root = NULL;
        }
        free(rest);
    }
    if (root == NULL) {
        *oom = rest == NULL;
        free(ft->text);
        ft->text = NULL;
    }
    return root;
}

static int tm__doc_parse(const char *buf, size_t len, const tm_limits_t *lim, tm_doc_t **out,
                         char **id_out, tm_err_t *err, int fast)
{
    *out = NULL;
    *id_out = NULL;
    if (len == 0)
        return tm_err_set(err, TM_EINVAL, TM_PROTO_E_EMPTY_FRAME, "the message is empty");
    if (lim->max_doc_bytes > 0 && len > lim->max_doc_bytes)
        return tm_err_set(err, TM_EINVAL, TM_PROTO_E_TOO_LARGE,
                          "document is %zu bytes, more than max_doc_bytes (%zu)", len,
                          lim->max_doc_bytes);
    const char *nul = memchr(buf, '\0', len);
    size_t bad_utf8 = tm_utf8_invalid_at(buf, len);
    int nul_escape = nul == NULL && tm__has_nul_escape(buf, len);

    const char *end = NULL;
    cJSON *root = NULL;
    tm_jtext_t ft = {0, 0, NULL, 0};
    if (fast && nul == NULL && bad_utf8 >= len && !nul_escape) {
        int oom = 0;
        root = tm__parse_fast(buf, len, &ft, &oom);
        if (oom)
            return tm_err_set(err, TM_ENOMEM, TM_PROTO_E_INTERNAL, "out of memory");
    }
    if (root == NULL && nul == NULL)
        root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    int rc = TM_OK;

    /* The id, when readable, goes into every error reply. */
    const cJSON *jid = root != NULL ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL;
    if (cJSON_IsString(jid) && jid->valuestring[0] != '\0' &&
        strlen(jid->valuestring) <= TM_MAX_ID_BYTES &&
        tm_utf8_valid(jid->valuestring, strlen(jid->valuestring)))
        *id_out = strdup(jid->valuestring);

    if (nul != NULL) {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_NUL_BYTE,
                        "the message contains a NUL byte at offset %zu", (size_t)(nul - buf));
        goto fail;
    }
    if (bad_utf8 < len) {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_INVALID_UTF8,
                        "the message is not valid UTF-8 (first bad byte at offset %zu)", bad_utf8);
        goto fail;
    }
    if (root == NULL) {
        size_t at = end != NULL ? (size_t)(end - buf) : 0;
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_INVALID_JSON,
                        "the message is not valid JSON (parse error near offset %zu)", at);
        goto fail;
    }
    size_t trailing = ft.text != NULL ? SIZE_MAX : tm__trailing_at(end, buf + len, buf);
    if (trailing != SIZE_MAX) {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_INVALID_JSON,
                        "unexpected data after the JSON value at offset %zu", trailing);
        goto fail;
    }
    if (!cJSON_IsObject(root)) {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_NOT_OBJECT,
                        "a document must be a JSON object, not %s",
                        cJSON_IsArray(root)    ? "an array"
                        : cJSON_IsString(root) ? "a string"
                        : cJSON_IsNumber(root) ? "a number"
                                               : "a literal");
        goto fail;
    }
    if (nul_escape) {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_NUL_BYTE,
                        "the document contains a \\u0000 (NUL) escape");
        goto fail;
    }
    if (jid != NULL && !cJSON_IsNull(jid) && *id_out == NULL) {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_INVALID_ID,
                        "\"id\" must be a non-empty string of at most %d bytes",
                        TM_MAX_ID_BYTES);
        goto fail;
    }

    cJSON *jtext = cJSON_GetObjectItemCaseSensitive(root, "text");
    if (jtext == NULL || cJSON_IsNull(jtext)) {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_MISSING_TEXT,
                        "the document has no \"text\" field");
        goto fail;
    }
    if (!cJSON_IsString(jtext)) {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_TEXT_NOT_STRING, "\"text\" must be a string");
        goto fail;
    }
    if ((ft.text != NULL ? ft.text : jtext->valuestring)[0] == '\0') {
        rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_EMPTY_TEXT, "\"text\" is empty");
        goto fail;
    }

    const char *ct = TM_CT_PLAIN;
    const cJSON *jct = cJSON_GetObjectItemCaseSensitive(root, "content_type");
    if (jct != NULL && !cJSON_IsNull(jct)) {
        if (!cJSON_IsString(jct)) {
            rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_INVALID_FIELD,
                            "\"content_type\" must be a string");
            goto fail;
        }
        if (!tm__parse_content_type(jct->valuestring, &ct)) {
            char shown[64];
            snprintf(shown, sizeof shown, "%.60s", jct->valuestring);
            rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_UNSUPPORTED_CT,
                            "content_type \"%s\" is not supported (use text/plain, text/html or "
                            "text/markdown)",
                            shown);
            goto fail;
        }
    }
    for (int i = 0; i < TM_FIELD_COUNT; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, tm_doc_field_names[i]);
        if (f != NULL && !cJSON_IsNull(f) && !cJSON_IsString(f)) {
            rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_INVALID_FIELD,
                            "\"%s\" must be a string", tm_doc_field_names[i]);
            goto fail;
        }
    }
    cJSON *jmeta = cJSON_GetObjectItemCaseSensitive(root, "meta");
    if (jmeta != NULL && !cJSON_IsNull(jmeta)) {
        if (!cJSON_IsObject(jmeta)) {
            rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_INVALID_FIELD,
                            "\"meta\" must be an object");
            goto fail;
        }
        int depth = tm__json_depth(jmeta);
        if (lim->max_meta_depth > 0 && depth > lim->max_meta_depth) {
            rc = tm_err_set(err, TM_EINVAL, TM_PROTO_E_META_TOO_DEEP,
                            "\"meta\" is nested %d levels deep, more than max_meta_depth (%d)",
                            depth, lim->max_meta_depth);
            goto fail;
        }
    }

    /* Valid: move the pieces into a document without copying the text. */
    tm_doc_t *doc = tm_doc_new();
    if (doc == NULL) {
        rc = tm_err_set(err, TM_ENOMEM, TM_PROTO_E_INTERNAL, "out of memory");
        goto fail;
    }
    doc->content_type = ct;
    if (ft.text != NULL) {
        doc->input_len = ft.len;
        doc->text = ft.text;
        ft.text = NULL;
    } else {
        doc->input_len = strlen(jtext->valuestring);
        doc->text = tm__steal_string(jtext);
    }
    doc->text_len = doc->input_len;
    if (*id_out != NULL)
        doc->id = strdup(*id_out);
    for (int i = 0; i < TM_FIELD_COUNT; i++) {
        cJSON *f = cJSON_GetObjectItemCaseSensitive(root, tm_doc_field_names[i]);
        if (cJSON_IsString(f))
            doc->fields[i] = tm__steal_string(f);
    }
    if (cJSON_IsObject(jmeta))
        doc->meta = cJSON_DetachItemViaPointer(root, jmeta);
    cJSON_Delete(root);
    if (*id_out != NULL && doc->id == NULL) {
        tm_doc_destroy(&doc);
        free(*id_out);
        *id_out = NULL;
        return tm_err_set(err, TM_ENOMEM, TM_PROTO_E_INTERNAL, "out of memory");
    }
    *out = doc;
    return TM_OK;

fail:
    cJSON_Delete(root);
    free(ft.text);
    return rc;
}

int tm_doc_parse(const char *buf, size_t len, const tm_limits_t *lim, tm_doc_t **out,
                 char **id_out, tm_err_t *err)
{
    return tm__doc_parse(buf, len, lim, out, id_out, err, 1);
}

int tm_doc_parse_reference(const char *buf, size_t len, const tm_limits_t *lim, tm_doc_t **out,
                           char **id_out, tm_err_t *err)
{
    return tm__doc_parse(buf, len, lim, out, id_out, err, 0);
}

/* Print a tree that mostly references the document's own buffers, sizing the
 * print buffer from the text so that cJSON rarely has to grow it. */
static char *tm__print(cJSON *root, size_t hint, size_t *len)
{
    if (root == NULL)
        return NULL;
    size_t pre = hint + hint / 8 + 256;
    if (pre > (size_t)1 << 30)
        pre = (size_t)1 << 30;
    char *s = cJSON_PrintBuffered(root, (int)pre, 0);
    cJSON_Delete(root);
    if (s != NULL && len != NULL)
        *len = strlen(s);
    return s;
}

/* A growable output buffer for result encoding. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} tm__out_t;

/* The slow half of tm__reserve: grow the buffer (or note that we cannot). */
static int tm__grow(tm__out_t *o, size_t more)
{
    if (o->oom)
        return 0;
    size_t ncap = o->cap * 2;
    if (ncap < o->len + more + 1)
        ncap = o->len + more + 1;
    char *ns = realloc(o->s, ncap);
    if (ns == NULL) {
        o->oom = 1;
        return 0;
    }
    o->s = ns;
    o->cap = ncap;
    return 1;
}

/* Room for more bytes plus a NUL?  Inline: a result is hundreds of small
 * writes, and the buffer is sized up front so that they rarely grow it. */
static inline int tm__reserve(tm__out_t *o, size_t more)
{
    return o->len + more + 1 <= o->cap || tm__grow(o, more);
}

static inline void tm__put(tm__out_t *o, const char *s, size_t n)
{
    if (!tm__reserve(o, n))
        return;
    memcpy(o->s + o->len, s, n);
    o->len += n;
}

static inline void tm__put_char(tm__out_t *o, char c)
{
    if (tm__reserve(o, 1))
        o->s[o->len++] = c;
}

#define TM__PUT_LIT(o, lit) tm__put((o), (lit), sizeof(lit) - 1)

/* Write s as a JSON string, escaping exactly what cJSON escapes (quote,
 * backslash, control characters; UTF-8 passes through).  Runs without
 * escapes, i.e. nearly all news text, are copied eight bytes at a time;
 * this is the hot path of every result. */
static void tm__put_json_string(tm__out_t *o, const char *s, size_t n)
{
    tm__put_char(o, '"');
    /* In pieces, so that the worst case (every byte \u00XX) never asks for
     * more than 6 KB of headroom. */
    while (n > 0) {
        size_t k = n < 1024 ? n : 1024;
        if (!tm__reserve(o, 6 * k))
            return;
        o->len += tm_json_escape(o->s + o->len, s, k);
        s += k;
        n -= k;
    }
    tm__put_char(o, '"');
}

static void tm__put_u64(tm__out_t *o, unsigned long long u)
{
    if (tm__reserve(o, 20))
        o->len += tm_json_write_u64(o->s + o->len, u);
}

/* What "%.15g" prints for d, without printf, when d is the double nearest
 * a decimal with at most 8 places and 15 significant digits between 1e-4
 * and 1e9: the scores and similarities stages round to a few places.
 * N / 10^k with N < 2^53 is correctly rounded in IEEE arithmetic, so it
 * equals d exactly when d is the double nearest N * 10^-k; that decimal is
 * then also d rounded to 15 digits, since it is on the 15-digit grid and a
 * double is far closer to it than half a grid step.  The smallest such k
 * gives the digits printf keeps after dropping trailing zeros.  printf's
 * exact-binary algorithm costs thousands of instructions a number; this is
 * a handful of multiplies.  Returns 0 (use printf) for anything else. */
static int tm__short_decimal(double d, char *out, int *len)
{
    static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e9))
        return 0;
    for (int k = 1; k <= 8; k++) {
        double n = floor(a * pow10[k] + 0.5);
        if (n >= 1e15)
            return 0;
        if (n / pow10[k] != a)
            continue;
        /* The digits of n, with the point k places from the right. */
        char dig[20];
        size_t nd = tm_json_write_u64(dig, (uint64_t)n), uk = (size_t)k;
        char *p = out;
        if (d < 0)
            *p++ = '-';
        if (nd <= uk) { /* 0.00ddd */
            *p++ = '0';
            *p++ = '.';
            memset(p, '0', uk - nd);
            p += uk - nd;
            memcpy(p, dig, nd);
            p += nd;
        } else {
            memcpy(p, dig, nd - uk);
            p += nd - uk;
            *p++ = '.';
            memcpy(p, dig + nd - uk, uk);
            p += uk;
        }
        *len = (int)(p - out);
        return 1;
    }
    return 0;
}

/* A JSON number the way a reader wants it: integers as integers, other
 * values with 15 significant digits (what a double reliably holds), NaN and
 * infinities as null (JSON has no spelling for them).  cJSON's printer does
 * the same but then re-parses every number with sscanf() to choose between
 * 15 and 17 digits, which made numbers the dearest part of a result. */
static void tm__put_json_number(tm__out_t *o, double d)
{
    char num[32];
    int n;
    if (isnan(d) || isinf(d)) {
        TM__PUT_LIT(o, "null");
        return;
    }
    if (d == floor(d) && fabs(d) < 9007199254740992.0) { /* 2^53: exact */
        long long v = (long long)d;
        if (v < 0)
            tm__put_char(o, '-');
        tm__put_u64(o, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
        return;
    }
    if (tm__short_decimal(d, num, &n)) {
        tm__put(o, num, (size_t)n);
        return;
    }
    n = snprintf(num, sizeof num, "%.15g", d);
    tm__put(o, num, (size_t)n);
}

/* Serialise a cJSON tree with the same escaper as the text, without
 * cJSON_PrintUnformatted's intermediate buffer.  Plugins' annotations go
 * through here once per result. */
static void tm__put_json(tm__out_t *o, const cJSON *v)
{
    switch (v->type & 0xff) {
    case cJSON_False: TM__PUT_LIT(o, "false"); return;
    case cJSON_True: TM__PUT_LIT(o, "true"); return;
    case cJSON_NULL: TM__PUT_LIT(o, "null"); return;
    case cJSON_Number: tm__put_json_number(o, v->valuedouble); return;
    case cJSON_String:
        if (v->valuestring == NULL)
            TM__PUT_LIT(o, "\"\"");
        else
            tm__put_json_string(o, v->valuestring, strlen(v->valuestring));
        return;
    case cJSON_Raw:
        if (v->valuestring == NULL)
            TM__PUT_LIT(o, "null");
        else
            tm__put(o, v->valuestring, strlen(v->valuestring));
        return;
    case cJSON_Array:
    case cJSON_Object: {
        int obj = (v->type & 0xff) == cJSON_Object;
        tm__put_char(o, obj ? '{' : '[');
        for (const cJSON *c = v->child; c != NULL; c = c->next) {
            if (c != v->child)
                tm__put_char(o, ',');
            if (obj) {
                const char *k = c->string != NULL ? c->string : "";
                tm__put_json_string(o, k, strlen(k));
                tm__put_char(o, ':');
            }
            tm__put_json(o, c);
        }
        tm__put_char(o, obj ? '}' : ']');
        return;
    }
    default: /* cJSON_Invalid: cJSON prints nothing; keep the JSON valid */
        TM__PUT_LIT(o, "null");
        return;
    }
}

static void tm__put_key(tm__out_t *o, const char *key)
{
    tm__put_char(o, ',');
    tm__put_json_string(o, key, strlen(key));
    tm__put_char(o, ':');
}

/* About how many bytes v prints as, looking two levels down: the stages'
 * pre-serialised (cJSON_Raw) annotations exactly, other values by a guess.
 * A result buffer sized from it is rarely grown: growing one copies the
 * whole result so far (on news, two results in three grew once when only
 * the text was counted). */
static size_t tm__size_hint(const cJSON *v, int depth)
{
    switch (v->type & 0xff) {
    case cJSON_Raw:
    case cJSON_String:
        return (v->valuestring != NULL ? strlen(v->valuestring) : 0) + 8;
    case cJSON_Array:
    case cJSON_Object: {
        size_t n = 2;
        for (const cJSON *c = v->child; c != NULL; c = c->next)
            n += (c->string != NULL ? strlen(c->string) + 4 : 1) +
                 (depth > 0 ? tm__size_hint(c, depth - 1) : 48);
        return n;
    }
    default:
        return 24;
    }
}

char *tm_result_encode(const tm_doc_t *doc, const char *const *stage_names, size_t nstages,
                       uint64_t total_us, size_t *len)
{
    /* The text and the annotations make a result; the slack covers the
     * escaper's headroom (it asks for 6 bytes per input byte, 1 KB at a
     * time) and the small members. */
    tm__out_t o = {NULL, 0, 0, 0};
    o.cap = doc->text_len + doc->text_len / 16 + 512 + 6 * 1024;
    if (doc->annotations != NULL)
        o.cap += tm__size_hint(doc->annotations, 2);
    o.s = malloc(o.cap);
    if (o.s == NULL)
        return NULL;
    /* "id" comes first: clients (textmill bench) find it without parsing. */
    TM__PUT_LIT(&o, "{\"id\":");
    tm__put_json_string(&o, doc->id, strlen(doc->id));
    TM__PUT_LIT(&o, ",\"text\":");
    tm__put_json_string(&o, doc->text, doc->text_len);
    for (int i = 0; i < TM_FIELD_COUNT; i++) {
        if (doc->fields[i] != NULL) {
            tm__put_key(&o, tm_doc_field_names[i]);
            tm__put_json_string(&o, doc->fields[i], strlen(doc->fields[i]));
        }
    }
    if (doc->meta != NULL) {
        TM__PUT_LIT(&o, ",\"meta\":");
        tm__put_json(&o, doc->meta);
    }
    TM__PUT_LIT(&o, ",\"annotations\":");
    if (doc->annotations != NULL)
        tm__put_json(&o, doc->annotations);
    else
        TM__PUT_LIT(&o, "{}");
    TM__PUT_LIT(&o, ",\"timing_us\":{");
    for (size_t i = 0; i < nstages && i < TM_MAX_STAGES; i++) {
        if (!(doc->ran_mask & (1u << i)))
            continue;
        tm__put_json_string(&o, stage_names[i], strlen(stage_names[i]));
        tm__put_char(&o, ':');
        tm__put_u64(&o, doc->timing_us[i]);
        tm__put_char(&o, ',');
    }
    TM__PUT_LIT(&o, "\"total\":");
    tm__put_u64(&o, (unsigned long long)total_us);
    tm__put_char(&o, '}');
    if (doc->errors != NULL) {
        TM__PUT_LIT(&o, ",\"errors\":");
        tm__put_json(&o, doc->errors);
    }
    if (doc->redelivered)
        TM__PUT_LIT(&o, ",\"redelivered\":true");
    tm__put_char(&o, '}');
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    o.s[o.len] = '\0';
    if (len != NULL)
        *len = o.len;
    return o.s;
}

char *tm_ack_encode(const char *id, size_t *len)
{
    /* One per accepted document: written directly, like results. */
    size_t idlen = strlen(id);
    tm__out_t o = {malloc(idlen + 48), 0, idlen + 48, 0};
    if (o.s == NULL)
        return NULL;
    TM__PUT_LIT(&o, "{\"id\":");
    tm__put_json_string(&o, id, idlen);
    TM__PUT_LIT(&o, ",\"status\":\"accepted\"}");
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    o.s[o.len] = '\0';
    if (len != NULL)
        *len = o.len;
    return o.s;
}

char *tm_error_encode(const char *id, const char *status, const tm_err_t *err, long line,
                      size_t *len)
{
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    cJSON *jid = id != NULL ? cJSON_CreateStringReference(id) : cJSON_CreateNull();
    int ok = cJSON_AddItemToObject(root, "id", jid) &&
             cJSON_AddStringToObject(root, "status", status) != NULL;
    cJSON *e = ok ? cJSON_AddObjectToObject(root, "error") : NULL;
    ok = ok && e != NULL &&
         cJSON_AddStringToObject(e, "code", err->code[0] ? err->code : TM_PROTO_E_INTERNAL) &&
         cJSON_AddStringToObject(e, "message", err->message);
    if (ok && line > 0)
        ok = cJSON_AddNumberToObject(root, "line", (double)line) != NULL;
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return tm__print(root, 64 + strlen(err->message), len);
}

char *tm_dead_encode(const char *id, const char *stage, const char *reason, const tm_err_t *err,
                     unsigned attempts, const cJSON *document, size_t *len)
{
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    cJSON *jid = id != NULL ? cJSON_CreateString(id) : cJSON_CreateNull();
    int ok = cJSON_AddItemToObject(root, "id", jid) &&
             cJSON_AddStringToObject(root, "status", "dead") != NULL &&
             cJSON_AddStringToObject(root, "stage", stage != NULL ? stage : "") != NULL &&
             cJSON_AddStringToObject(root, "reason", reason) != NULL;
    cJSON *e = ok ? cJSON_AddObjectToObject(root, "error") : NULL;
    ok = ok && e != NULL &&
         cJSON_AddStringToObject(e, "code", err->code[0] ? err->code : TM_PROTO_E_INTERNAL) &&
         cJSON_AddStringToObject(e, "message", err->message) &&
         cJSON_AddNumberToObject(root, "attempts", (double)attempts) != NULL;
    if (ok && document != NULL) {
        cJSON *d = cJSON_Duplicate(document, 1);
        ok = d != NULL && cJSON_AddItemToObject(root, "document", d);
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (s != NULL && len != NULL)
        *len = strlen(s);
    return s;
}

char *tm_dead_encode_doc(const tm_doc_t *doc, size_t *len)
{
    cJSON *d = cJSON_CreateObject();
    if (d == NULL)
        return NULL;
    cJSON_AddStringToObject(d, "id", doc->id);
    cJSON_AddStringToObject(d, "text", doc->text);
    if (doc->content_type != TM_CT_PLAIN)
        cJSON_AddStringToObject(d, "content_type", doc->content_type);
    for (int i = 0; i < TM_FIELD_COUNT; i++)
        if (doc->fields[i] != NULL)
            cJSON_AddStringToObject(d, tm_doc_field_names[i], doc->fields[i]);
    if (doc->meta != NULL)
        cJSON_AddItemToObject(d, "meta", cJSON_Duplicate(doc->meta, 1));
    char *s = tm_dead_encode(doc->id, doc->dead_stage,
                             doc->dead_reason != NULL ? doc->dead_reason : "stage_failed",
                             &doc->dead_err,
                             doc->dead_attempts, d, len);
    cJSON_Delete(d);
    return s;
}
