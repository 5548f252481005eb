/* Unit tests for daemon/codec.c: wire protocol v1 parsing and encoding. */
#include "unit.h"
#include <math.h>

#include "../../daemon/codec.h"
#include "../../daemon/jtext.h"
#include "textmill/json.h"

static const tm_limits_t lim = {.max_doc_bytes = 4096, .max_meta_depth = 4};

/* Parse a C string; returns rc and fills doc/id/err. */
static int parse(const char *s, size_t len, tm_doc_t **doc, char **id, tm_err_t *err)
{
    char *buf = malloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';
    int rc = tm_doc_parse(buf, len, &lim, doc, id, err);
    free(buf);
    return rc;
}

static void expect_reject(const char *s, size_t len, const char *code, const char *want_id)
{
    tm_doc_t *doc = NULL;
    char *id = NULL;
    tm_err_t err = {{0}, {0}};
    int rc = parse(s, len, &doc, &id, &err);
    if (rc == TM_OK)
        fail_msg("expected %s for %.60s, got a document", code, s);
    assert_null(doc);
    assert_string_equal(err.code, code);
    assert_true(strlen(err.message) > 10);
    if (want_id != NULL) {
        if (id == NULL || strcmp(id, want_id) != 0)
            fail_msg("%.60s: expected id %s, got %s", s, want_id, id != NULL ? id : "(null)");
    } else if (id != NULL) {
        fail_msg("%.60s: expected no id, got %s", s, id);
    }
    free(id);
}

#define REJECT(lit, code, id) expect_reject(lit, sizeof(lit) - 1, code, id)

static void test_valid_document(void **state)
{
    (void)state;
    const char *s = "{\"id\":\"doc-1\",\"text\":\"Caf\\u00e9 \\\"quoted\\\"\\nline\","
                    "\"content_type\":\"text/html; charset=utf-8\",\"url\":\"http://x\","
                    "\"lang\":\"en\",\"meta\":{\"a\":{\"b\":[1,2]}},\"gold_x\":1}";
    tm_doc_t *doc = NULL;
    char *id = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(parse(s, strlen(s), &doc, &id, &err), TM_OK);
    assert_string_equal(doc->id, "doc-1");
    assert_string_equal(id, "doc-1");
    assert_string_equal(doc->text, "Caf\xc3\xa9 \"quoted\"\nline");
    assert_int_equal(doc->text_len, strlen("Caf\xc3\xa9 \"quoted\"\nline"));
    assert_string_equal(doc->content_type, "text/html");
    assert_string_equal(doc->fields[TM_FIELD_URL], "http://x");
    assert_string_equal(doc->fields[TM_FIELD_LANG], "en");
    assert_null(doc->fields[TM_FIELD_SOURCE]);
    assert_non_null(doc->meta);
    free(id);
    tm_doc_destroy(&doc);
}

static void test_rejections_have_specific_codes(void **state)
{
    (void)state;
    REJECT("", "empty_frame", NULL);
    REJECT("{\"id\":\"x\",\"text\":", "invalid_json", NULL);
    REJECT("{\"id\":\"x\",\"text\":\"a\"} trailing", "invalid_json", "x");
    REJECT("[1,2]", "not_object", NULL);
    REJECT("\"text\"", "not_object", NULL);
    REJECT("{\"id\":\"x\"}", "missing_text", "x");
    REJECT("{\"id\":\"x\",\"text\":null}", "missing_text", "x");
    REJECT("{\"id\":\"x\",\"text\":42}", "text_not_string", "x");
    REJECT("{\"id\":\"x\",\"text\":\"\"}", "empty_text", "x");
    REJECT("{\"id\":\"x\",\"text\":\"a\xff\"}", "invalid_utf8", "x");
    REJECT("{\"id\":\"x\",\"text\":\"a\\u0000b\"}", "nul_byte", "x");
    REJECT("{\"id\":\"x\",\"text\":\"a\0b\"}", "nul_byte", NULL);
    REJECT("{\"id\":7,\"text\":\"a\"}", "invalid_id", NULL);
    REJECT("{\"id\":\"\",\"text\":\"a\"}", "invalid_id", NULL);
    REJECT("{\"id\":\"x\",\"text\":\"a\",\"content_type\":\"application/pdf\"}",
           "unsupported_content_type", "x");
    REJECT("{\"id\":\"x\",\"text\":\"a\",\"url\":5}", "invalid_field", "x");
    REJECT("{\"id\":\"x\",\"text\":\"a\",\"meta\":[1]}", "invalid_field", "x");
    REJECT("{\"id\":\"x\",\"text\":\"a\",\"meta\":{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}}",
           "meta_too_deep", "x");
}

static void test_escaped_backslash_is_not_a_nul(void **state)
{
    (void)state;
    const char *s = "{\"text\":\"path C:\\\\u0000dir\"}";
    tm_doc_t *doc = NULL;
    char *id = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(parse(s, strlen(s), &doc, &id, &err), TM_OK);
    assert_string_equal(doc->text, "path C:\\u0000dir");
    assert_null(doc->id); /* assigned later, by the job */
    tm_doc_destroy(&doc);
}

/* The text fast path (jtext.c) takes the plain case and declines the rest. */
static void test_jtext_finds_the_top_level_text(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int found;
        const char *text;
    } cases[] = {
        {"{\"id\":\"a\",\"text\":\"one \\\"two\\\"\\n\\tthree\\\\ \\/\"}", 1, "one \"two\"\n\tthree\\ /"},
        /* a "text" key inside meta or a string is not the member */
        {"{\"meta\":{\"text\":\"inner\",\"x\":[\"]\",{\"text\":1}]},\"s\":\"\\\"text\\\":\",\"text\":\"outer\"}",
         1, "outer"},
        {" \n{ \"n\" : -1.5e3 , \"b\" : true , \"text\" : \"spaced\" } ", 1, "spaced"},
        {"{\"text\":\"caf\xc3\xa9, 8+ bytes long, no escapes at all here\"}", 1,
         "caf\xc3\xa9, 8+ bytes long, no escapes at all here"},
        {"{\"text\":\"\"}", 1, ""},
        /* \u escapes, as Python's json.dumps writes every non-ASCII character */
        {"{\"text\":\"caf\\u00e9 \\u20ac \\u00E9\\ud83d\\ude00 \\u0041\"}", 1,
         "caf\xc3\xa9 \xe2\x82\xac \xc3\xa9\xf0\x9f\x98\x80 A"},
        {"{\"text\":\"\\ud800 lone high\"}", 0, NULL},   /* cJSON rejects these */
        {"{\"text\":\"\\udc00 lone low\"}", 0, NULL},
        {"{\"text\":\"\\ud800\\u0041 unpaired\"}", 0, NULL},
        {"{\"text\":\"\\u00zz bad hex\"}", 0, NULL},     /* cJSON reads it as zero */
        {"{\"text\":\"\\u12\"}", 0, NULL},
        {"{\"te\\u0078t\":\"x\",\"text\":\"y\"}", 0, NULL}, /* an escaped key */
        {"{\"text\":42}", 0, NULL},                   /* not a string */
        {"{\"id\":\"a\"}", 0, NULL},                  /* no text */
        {"[\"text\"]", 0, NULL},
        {"{\"text\":\"unterminated", 0, NULL},
        {"{\"text\":\"bad \\q escape\"}", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tm_jtext_t j = {0, 0, NULL, 0};
        int rc = tm_jtext_find(cases[i].json, strlen(cases[i].json), &j);
        if (rc != cases[i].found)
            fail_msg("case %zu (%s): tm_jtext_find gave %d", i, cases[i].json, rc);
        if (rc == 1) {
            assert_string_equal(j.text, cases[i].text);
            assert_int_equal(j.len, strlen(cases[i].text));
            assert_int_equal(cases[i].json[j.lit_start], '"');
            assert_int_equal(cases[i].json[j.lit_end - 1], '"');
            size_t rlen = 0;
            char *rest = tm_jtext_rest(cases[i].json, strlen(cases[i].json), &j, &rlen);
            assert_non_null(rest);
            assert_int_equal(rlen, strlen(rest));
            assert_non_null(strstr(rest, "\"text\"") );
            free(rest);
            free(j.text);
        }
    }
}

/* Whatever the input, the fast path and cJSON alone agree: same document,
 * or the same error code and message. */
static void test_fast_path_matches_cjson(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "{\"id\":\"d1\",\"text\":\"A \\\"quote\\\" and a line\\nbreak.\",\"title\":\"T\"}",
        "{\"text\":\"\"}",
        "{\"text\":\"x\",\"text\":\"second\"}",
        "{\"text\":\"ok\"} trailing",
        "{\"text\":\"ok\",}",
        "{\"text\":\"ok\",\"title\":5}",
        "{\"text\":\"ok\",\"content_type\":\"image/png\"}",
        "{\"id\":\"\",\"text\":\"ok\"}",
        "{\"meta\":[1],\"text\":\"ok\"}",
        "{\"meta\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}},\"text\":\"deep\"}",
        "{\"text\":\"raw\ttab and \x01 control\"}",
        "{\"text\":\"\\ud800 lone surrogate\"}",
        "{\"text\":\"pair \\ud83d\\ude00\"}",
        "{\"text\":\"\\u00e9\\u0000 nul escape\"}",
        "{\"text\":\"hex \\u00zz then more\"}",
        "{\"text\":\"high \\udbff\\udfff top\"}",
        "{\"text\":\"short \\ud83d\\ude\"}",
        "{\"text\":\"ends \\u00e\"}",
        "{\"text\":\"ok\" \"x\":1}",
        "{\"text\" \"ok\"}",
        "{\"a\":[1,2,{\"b\":\"}\"}],\"text\":\"after brackets\"}",
        "{\"a\":tru,\"text\":\"bad literal before\"}",
        "{\"text\":\"ok\",\"a\":nul}",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        size_t len = strlen(inputs[i]);
        char *buf = malloc(len + 1);
        memcpy(buf, inputs[i], len + 1);
        tm_doc_t *a = NULL, *b = NULL;
        char *ia = NULL, *ib = NULL;
        tm_err_t ea = {{0}, {0}}, eb = {{0}, {0}};
        int ra = tm_doc_parse(buf, len, &lim, &a, &ia, &ea);
        int rb = tm_doc_parse_reference(buf, len, &lim, &b, &ib, &eb);
        if (ra != rb)
            fail_msg("input %zu (%s): fast %d, reference %d", i, inputs[i], ra, rb);
        if (ra == TM_OK) {
            assert_int_equal(a->text_len, b->text_len);
            assert_memory_equal(a->text, b->text, a->text_len);
            assert_ptr_equal(a->content_type, b->content_type);
        } else {
            assert_string_equal(ea.code, eb.code);
            assert_string_equal(ea.message, eb.message);
        }
        assert_true((ia == NULL) == (ib == NULL));
        if (ia != NULL)
            assert_string_equal(ia, ib);
        tm_doc_destroy(&a);
        tm_doc_destroy(&b);
        free(ia);
        free(ib);
        free(buf);
    }
}

/* The escaper and the text scanner look at 16 bytes (SSE2), then 8, then
 * one at a time: a byte that matters must be found in every one of those
 * paths, at every offset, and bytes that look alike (0x20, 0x7f, 0x80,
 * 0xff, next to the classes compared) must not be.  Checked against a byte
 * at a time escaper and against cJSON's decoding. */
static size_t tm__escape_bytewise(char *out, const char *s, size_t n)
{
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        if (tm_json_needs_escape((unsigned char)s[i]))
            o += tm_json_escape_byte((unsigned char)s[i], o);
        else
            *o++ = s[i];
    }
    return (size_t)(o - out);
}

static void test_escape_and_scan_at_every_offset(void **state)
{
    (void)state;
    static const unsigned char probes[] = {'"', '\\', 0x01, 0x1f, '\n', 0x20, 0x21, 0x5b,
                                           0x5d, 0x7f, 0x80, 0xc3, 0xff};
    char s[64], want[64 * 6], got[64 * 6];
    for (size_t n = 0; n <= 48; n++) {
        for (size_t at = 0; at <= n; at++) {
            for (size_t k = 0; k < sizeof probes; k++) {
                for (size_t i = 0; i < n; i++)
                    s[i] = (char)('a' + i % 26);
                if (at < n)
                    s[at] = (char)probes[k];
                size_t wl = tm__escape_bytewise(want, s, n);
                size_t gl = tm_json_escape(got, s, n);
                if (wl != gl || memcmp(want, got, wl) != 0)
                    fail_msg("escape: length %zu, byte 0x%02x at %zu", n, probes[k], at);
                /* The run before the first byte that ends or escapes a string. */
                size_t first = n;
                for (size_t i = 0; i < n; i++)
                    if (s[i] == '"' || s[i] == '\\') {
                        first = i;
                        break;
                    }
                size_t run = tm_json__plain_run(s, n, 0);
                if (run > first || (first < n && n - run >= 8 && run != first) ||
                    (first == n && n - run >= 8))
                    fail_msg("plain run: length %zu, byte 0x%02x at %zu: %zu", n, probes[k], at,
                             run);
                /* The same text as a document: the fast path decodes what
                 * cJSON decodes (raw control bytes and 0xc3 alone are left
                 * to the validators, which both paths share). */
                char doc[64 * 6 + 32];
                int dl = snprintf(doc, sizeof doc, "{\"text\":\"%.*s\"}", (int)wl, want);
                tm_doc_t *a = NULL, *b = NULL;
                char *ia = NULL, *ib = NULL;
                tm_err_t ea = {{0}, {0}}, eb = {{0}, {0}};
                int ra = tm_doc_parse(doc, (size_t)dl, &lim, &a, &ia, &ea);
                int rb = tm_doc_parse_reference(doc, (size_t)dl, &lim, &b, &ib, &eb);
                if (ra != rb)
                    fail_msg("parse: length %zu, byte 0x%02x at %zu: fast %d, cJSON %d", n,
                             probes[k], at, ra, rb);
                if (ra == TM_OK) {
                    assert_int_equal(a->text_len, b->text_len);
                    assert_memory_equal(a->text, b->text, a->text_len);
                    if (probes[k] < 0x80 || at == n)
                        assert_memory_equal(a->text, s, n);
                } else {
                    assert_string_equal(ea.code, eb.code);
                }
                tm_doc_destroy(&a);
                tm_doc_destroy(&b);
                free(ia);
                free(ib);
            }
        }
    }
}

static void test_too_large(void **state)
{
    (void)state;
    size_t n = lim.max_doc_bytes + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    expect_reject(big, n, "too_large", NULL);
    free(big);
}

static void test_deeply_nested_json_does_not_crash(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *s = malloc(depth * 2 + 64);
    size_t o = 0;
    o += (size_t)sprintf(s, "{\"text\":\"a\",\"meta\":");
    for (size_t i = 0; i < depth; i++)
        s[o++] = '[';
    for (size_t i = 0; i < depth; i++)
        s[o++] = ']';
    s[o++] = '}';
    tm_doc_t *doc = NULL;
    char *id = NULL;
    tm_err_t err = {{0}, {0}};
    tm_limits_t big = {.max_doc_bytes = 0, .max_meta_depth = 32};
    char *buf = malloc(o + 1);
    memcpy(buf, s, o);
    buf[o] = '\0';
    assert_int_not_equal(tm_doc_parse(buf, o, &big, &doc, &id, &err), TM_OK);
    assert_string_equal(err.code, "invalid_json"); /* cJSON's nesting limit */
    free(buf);
    free(s);
}

static void test_result_round_trip(void **state)
{
    (void)state;
    const char *s = "{\"id\":\"r1\",\"text\":\"Hello \\\"w\\\"\",\"source\":\"wire\","
                    "\"meta\":{\"k\":[1,\"v\"]}}";
    tm_doc_t *doc = NULL;
    char *id = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(parse(s, strlen(s), &doc, &id, &err), TM_OK);
    doc->annotations = cJSON_Parse("{\"stats\":{\"words\":2}}");
    doc->timing_us[0] = 12;
    doc->ran_mask = 1;
    tm_err_t serr = {"boom", "stage exploded"};
    tm_doc_add_error(doc, "stats", &serr);
    const char *names[] = {"stats"};
    size_t len = 0;
    char *out = tm_result_encode(doc, names, 1, 99, &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    assert_true(strncmp(out, "{\"id\":\"r1\",", 11) == 0); /* id first: clients scan for it */
    cJSON *r = cJSON_Parse(out);
    assert_string_equal(cJSON_GetObjectItem(r, "text")->valuestring, "Hello \"w\"");
    assert_string_equal(cJSON_GetObjectItem(r, "source")->valuestring, "wire");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "meta"), "k")->child->valueint, 1);
    cJSON *timing = cJSON_GetObjectItem(r, "timing_us");
    assert_int_equal(cJSON_GetObjectItem(timing, "stats")->valueint, 12);
    assert_int_equal(cJSON_GetObjectItem(timing, "total")->valueint, 99);
    cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "errors"), 0);
    assert_string_equal(cJSON_GetObjectItem(e0, "stage")->valuestring, "stats");
    assert_string_equal(cJSON_GetObjectItem(e0, "code")->valuestring, "boom");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "annotations"),
                                                             "stats"),
                                         "words")
                         ->valueint,
                     2);
    cJSON_Delete(r);
    free(out);
    free(id);
    tm_doc_destroy(&doc);
}

/* The result encoder escapes text itself (fast path); what cJSON reads back
 * must be exactly the text, for every ASCII byte and for UTF-8. */
static void test_result_text_escaping(void **state)
{
    (void)state;
    char text[600];
    size_t n = 0;
    for (int round = 0; round < 3; round++) {
        for (int c = 1; c < 128; c++)
            text[n++] = (char)c;
        memcpy(text + n, "caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d", 13);
        n += 13;
    }
    text[n] = '\0';
    tm_doc_t *doc = tm_doc_new();
    doc->id = strdup("id \"with\" \\ and \n");
    doc->text = strdup(text);
    doc->text_len = n;
    size_t len = 0;
    char *out = tm_result_encode(doc, NULL, 0, 1, &len);
    cJSON *r = cJSON_Parse(out);
    assert_non_null(r);
    assert_string_equal(cJSON_GetObjectItem(r, "text")->valuestring, text);
    assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, doc->id);
    assert_non_null(strstr(out, "\\u0001"));
    cJSON_Delete(r);
    free(out);
    tm_doc_destroy(&doc);
}

/* Annotations are serialised by the codec itself, not by cJSON: every kind
 * of value must read back as what the stage wrote, numbers included. */
static void test_result_annotations_serialise_every_value(void **state)
{
    (void)state;
    tm_doc_t *doc = tm_doc_new();
    doc->id = strdup("n1");
    doc->text = strdup("t");
    doc->text_len = 1;
    doc->annotations = cJSON_CreateObject();
    cJSON *a = cJSON_AddObjectToObject(doc->annotations, "k\"ey");
    cJSON_AddNumberToObject(a, "zero", 0);
    cJSON_AddNumberToObject(a, "neg", -42);
    cJSON_AddNumberToObject(a, "big", 4503599627370496.0);
    cJSON_AddNumberToObject(a, "frac", -0.8234);
    cJSON_AddNumberToObject(a, "third", 1.0 / 3.0);
    cJSON_AddNumberToObject(a, "tiny", 1.5e-300);
    cJSON_AddNumberToObject(a, "nan", NAN);
    cJSON_AddTrueToObject(a, "t");
    cJSON_AddFalseToObject(a, "f");
    cJSON_AddNullToObject(a, "null");
    cJSON_AddRawToObject(a, "raw", "[1,2]");
    cJSON_AddItemToObject(a, "empty_arr", cJSON_CreateArray());
    cJSON_AddItemToObject(a, "empty_obj", cJSON_CreateObject());
    cJSON *arr = cJSON_AddArrayToObject(a, "arr");
    cJSON_AddItemToArray(arr, cJSON_CreateString("x\ny"));
    cJSON_AddItemToArray(arr, cJSON_CreateNumber(7));
    size_t len = 0;
    char *out = tm_result_encode(doc, NULL, 0, 1, &len);
    assert_non_null(out);
    cJSON *r = cJSON_Parse(out);
    assert_non_null(r);
    cJSON *b = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "annotations"), "k\"ey");
    assert_non_null(b);
    assert_true(cJSON_GetObjectItem(b, "zero")->valuedouble == 0);
    assert_true(cJSON_GetObjectItem(b, "neg")->valuedouble == -42);
    assert_true(cJSON_GetObjectItem(b, "big")->valuedouble == 4503599627370496.0);
    assert_true(cJSON_GetObjectItem(b, "frac")->valuedouble == -0.8234);
    assert_true(fabs(cJSON_GetObjectItem(b, "third")->valuedouble - 1.0 / 3.0) < 1e-14);
    assert_true(fabs(cJSON_GetObjectItem(b, "tiny")->valuedouble / 1.5e-300 - 1) < 1e-14);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(b, "nan")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "t")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(b, "f")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(b, "null")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b, "raw")), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b, "empty_arr")), 0);
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(b, "empty_obj")));
    cJSON *arr2 = cJSON_GetObjectItem(b, "arr");
    assert_string_equal(cJSON_GetArrayItem(arr2, 0)->valuestring, "x\ny");
    assert_int_equal(cJSON_GetArrayItem(arr2, 1)->valueint, 7);
    /* integers print as integers, fractions without 17-digit noise */
    assert_non_null(strstr(out, "\"neg\":-42,"));
    assert_non_null(strstr(out, "\"frac\":-0.8234,"));
    cJSON_Delete(r);
    free(out);
    tm_doc_destroy(&doc);
}

/* Numbers print exactly as "%.15g" would print them, whichever way the
 * encoder takes (its short-decimal path or printf). */
static void test_result_numbers_match_printf(void **state)
{
    (void)state;
    double vals[4000];
    size_t nv = 0;
    static const double fixed[] = {0.5, -0.5, 0.1, 0.2, 0.3, 0.7, 0.05, 0.0001, 0.00012, 0.000099,
                                   1e-4, 9.99999999, 123456.78, 999999999.5, 1e9, 0.1 + 0.2,
                                   2.675, 1.005, -0.8234, 0.33333333, 0.123456789, 5e-5, 1e15 + 0.5,
                                   0.5 + 1e-13, 0.25 - 3e-14, 12.5 + 1e-11, 0.1 + 1e-15};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        vals[nv++] = fixed[i];
    unsigned long long x = 88172645463325252ULL; /* xorshift: a fixed sequence */
    while (nv < sizeof vals / sizeof vals[0]) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
        int places = (int)(x % 10);
        double scale = 1;
        for (int k = 0; k < places; k++)
            scale *= 10;
        double v = (x & 1) ? u * 2 - 1 : u * 1000; /* sign and magnitude */
        if (places < 9)
            v = floor(v * scale + 0.5) / scale; /* a few decimals, as stages round */
        vals[nv++] = v;
    }
    tm_doc_t *doc = tm_doc_new();
    doc->id = strdup("n");
    doc->text = strdup("t");
    doc->text_len = 1;
    doc->annotations = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(doc->annotations, "v");
    for (size_t i = 0; i < nv; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(vals[i]));
    size_t len = 0;
    char *out = tm_result_encode(doc, NULL, 0, 1, &len);
    assert_non_null(out);
    const char *p = strstr(out, "\"v\":[");
    assert_non_null(p);
    p += 5;
    for (size_t i = 0; i < nv; i++) {
        char want[40];
        if (vals[i] == floor(vals[i]) && fabs(vals[i]) < 9007199254740992.0)
            snprintf(want, sizeof want, "%lld", (long long)vals[i]);
        else
            snprintf(want, sizeof want, "%.15g", vals[i]);
        size_t n = strcspn(p, ",]");
        if (n != strlen(want) || memcmp(p, want, n) != 0)
            fail_msg("value %zu (%.17g): encoded %.*s, printf gives %s", i, vals[i], (int)n, p,
                     want);
        p += n + 1;
    }
    free(out);
    tm_doc_destroy(&doc);
}

/* The SDK's integer writers (host and stages use them) print what
 * printf prints: every power of ten and its neighbours, the 32-bit edge,
 * the largest value, and a fixed pseudo-random spread of magnitudes. */
static void test_json_write_u64_matches_printf(void **state)
{
    (void)state;
    uint64_t vals[1200];
    size_t nv = 0;
    uint64_t p = 1;
    for (int e = 0; e < 20; e++, p *= 10) {
        vals[nv++] = p - 1;
        vals[nv++] = p;
        vals[nv++] = p + 1;
    }
    vals[nv++] = UINT32_MAX;
    vals[nv++] = (uint64_t)UINT32_MAX + 1;
    vals[nv++] = UINT64_MAX;
    uint64_t x = 88172645463325252ULL;
    while (nv < sizeof vals / sizeof vals[0]) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vals[nv++] = x >> (x % 64); /* every magnitude */
    }
    for (size_t i = 0; i < nv; i++) {
        char got[24], want[24];
        size_t n = tm_json_write_u64(got, vals[i]);
        got[n] = '\0';
        snprintf(want, sizeof want, "%llu", (unsigned long long)vals[i]);
        if (strcmp(got, want) != 0)
            fail_msg("tm_json_write_u64(%s) wrote %s", want, got);
        if (vals[i] <= UINT32_MAX) {
            n = tm_json_write_u32(got, (uint32_t)vals[i]);
            got[n] = '\0';
            if (strcmp(got, want) != 0)
                fail_msg("tm_json_write_u32(%s) wrote %s", want, got);
        }
    }
}

static void test_ack_and_error_encoding(void **state)
{
    (void)state;
    size_t len;
    char *ack = tm_ack_encode("a\"b", &len);
    assert_string_equal(ack, "{\"id\":\"a\\\"b\",\"status\":\"accepted\"}");
    free(ack);
    tm_err_t err = {"invalid_json", "bad \"json\""};
    char *rej = tm_error_encode(NULL, "rejected", &err, 0, &len);
    assert_string_equal(rej, "{\"id\":null,\"status\":\"rejected\",\"error\":{\"code\":"
                             "\"invalid_json\",\"message\":\"bad \\\"json\\\"\"}}");
    free(rej);
    char *line = tm_error_encode("x", "error", &err, 7, &len);
    cJSON *j = cJSON_Parse(line);
    assert_int_equal(cJSON_GetObjectItem(j, "line")->valueint, 7);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "error");
    cJSON_Delete(j);
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_document),
        cmocka_unit_test(test_rejections_have_specific_codes),
        cmocka_unit_test(test_escaped_backslash_is_not_a_nul),
        cmocka_unit_test(test_jtext_finds_the_top_level_text),
        cmocka_unit_test(test_fast_path_matches_cjson),
        cmocka_unit_test(test_escape_and_scan_at_every_offset),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_deeply_nested_json_does_not_crash),
        cmocka_unit_test(test_result_round_trip),
        cmocka_unit_test(test_result_text_escaping),
        cmocka_unit_test(test_result_annotations_serialise_every_value),
        cmocka_unit_test(test_result_numbers_match_printf),
        cmocka_unit_test(test_json_write_u64_matches_printf),
        cmocka_unit_test(test_ack_and_error_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
