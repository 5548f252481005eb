/* Unit tests for daemon/doc.c: the document model and its accessors. */
#include "unit.h"

#include "../../daemon/doc.h"
#include "../../daemon/log.h"

static tm_host_t host;

static tm_doc_t *make(const char *text)
{
    tm_doc_t *d = tm_doc_new();
    d->id = strdup("d1");
    d->text = strdup(text);
    d->text_len = strlen(text);
    return d;
}

static void test_annotate_takes_ownership_and_replaces(void **state)
{
    (void)state;
    tm_doc_t *d = make("hello");
    assert_int_equal(host.doc_annotate(d, "a", cJSON_CreateNumber(1)), TM_OK);
    assert_int_equal(host.doc_annotate(d, "a", cJSON_CreateNumber(2)), TM_OK);
    assert_int_equal(host.doc_annotation(d, "a")->valueint, 2);
    assert_int_equal(cJSON_GetArraySize(d->annotations), 1);
    /* Ownership is taken on failure too (ASan would report a leak). */
    assert_int_equal(host.doc_annotate(d, "", cJSON_CreateNumber(3)), TM_EINVAL);
    assert_int_equal(host.doc_annotate(d, "x", NULL), TM_EINVAL);
    assert_null(host.doc_annotation(d, "missing"));
    tm_doc_destroy(&d);
    assert_null(d);
}

/* A raw (pre-serialised) annotation reads back as a tree, parsed once; raw
 * text that is not JSON comes back untouched. */
static void test_raw_annotation_is_parsed_on_read(void **state)
{
    (void)state;
    tm_doc_t *d = make("hello");
    assert_int_equal(host.doc_annotate(d, "q", cJSON_CreateRaw("[{\"speaker\":\"Ann\"}]")), TM_OK);
    const cJSON *q = host.doc_annotation(d, "q");
    assert_true(cJSON_IsArray(q));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(q, 0), "speaker")->valuestring, "Ann");
    assert_ptr_equal(host.doc_annotation(d, "q"), q); /* parsed once, replaced in place */
    assert_int_equal(host.doc_annotate(d, "bad", cJSON_CreateRaw("{not json")), TM_OK);
    assert_true(cJSON_IsRaw(host.doc_annotation(d, "bad")));
    assert_int_equal(cJSON_GetArraySize(d->annotations), 2);
    tm_doc_destroy(&d);
}

/* A raw annotation carrying its tree as child: readers get that tree (no
 * parse, the raw item stays for the result), and destroying the document
 * frees both (ASan would report a leak). */
static void test_raw_annotation_with_tree_reads_the_tree(void **state)
{
    (void)state;
    tm_doc_t *d = make("hello");
    cJSON *raw = cJSON_CreateRaw("[{\"speaker\":\"Ann\"}]");
    cJSON *tree = cJSON_CreateArray();
    cJSON *q0 = cJSON_CreateObject();
    cJSON_AddStringToObject(q0, "speaker", "Bea"); /* differs from the text: shows which was read */
    cJSON_AddItemToArray(tree, q0);
    raw->child = tree;
    assert_int_equal(host.doc_annotate(d, "q", raw), TM_OK);
    assert_ptr_equal(host.doc_annotation(d, "q"), tree);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(tree, 0), "speaker")->valuestring, "Bea");
    assert_true(cJSON_IsRaw(cJSON_GetObjectItem(d->annotations, "q")));
    assert_ptr_equal(cJSON_GetObjectItem(d->annotations, "q")->child, tree);
    tm_doc_destroy(&d);
}

static void test_set_text_only_for_rewriting_stages(void **state)
{
    (void)state;
    tm_doc_t *d = make("hello");
    d->cur_flags = 0;
    assert_int_equal(host.doc_set_text(d, "x", 1), TM_EPERM);
    d->cur_flags = TM_STAGE_REWRITES_TEXT;
    assert_int_equal(host.doc_set_text(d, "bad\xff", 4), TM_EINVAL);
    assert_int_equal(host.doc_set_text(d, "a\0b", 3), TM_EINVAL);
    assert_int_equal(host.doc_set_text(d, "new text", 8), TM_OK);
    size_t len;
    assert_string_equal(host.doc_text(d, &len), "new text");
    assert_int_equal(len, 8);
    assert_int_equal(host.doc_set_text(d, "", 0), TM_OK);
    assert_string_equal(host.doc_text(d, &len), "");
    tm_doc_destroy(&d);
}

static void test_route_suffix_is_validated(void **state)
{
    (void)state;
    tm_doc_t *d = make("x");
    assert_string_equal(d->topic, "result.unique");
    assert_int_equal(host.doc_set_route(d, "near_duplicate", 0), TM_OK);
    assert_string_equal(d->topic, "result.near_duplicate");
    assert_int_equal(host.doc_set_route(d, "Bad Topic", 0), TM_EINVAL);
    assert_int_equal(host.doc_set_route(d, "", 0), TM_EINVAL);
    assert_int_equal(host.doc_set_route(d, NULL, TM_ROUTE_DROP), TM_OK);
    assert_int_equal(d->route_flags, TM_ROUTE_DROP);
    assert_string_equal(d->topic, "result.near_duplicate");
    tm_doc_destroy(&d);
}

static int freed;
static void count_free(void *p)
{
    freed++;
    free(p);
}

static void test_stash_is_per_stage_and_freed(void **state)
{
    (void)state;
    tm_doc_t *d = make("x");
    freed = 0;
    d->cur_stage = 1;
    assert_int_equal(host.doc_stash_put(d, malloc(4), count_free), TM_OK);
    d->cur_stage = 2;
    assert_null(host.doc_stash_take(d)); /* another stage's */
    assert_int_equal(host.doc_stash_put(d, malloc(4), count_free), TM_OK);
    d->cur_stage = 1;
    void *p = host.doc_stash_take(d);
    assert_non_null(p);
    free(p);
    tm_doc_destroy(&d); /* frees stage 2's entry */
    assert_int_equal(freed, 1);
}

static void test_fields_and_meta(void **state)
{
    (void)state;
    tm_doc_t *d = make("x");
    d->fields[TM_FIELD_SOURCE] = strdup("Reuters");
    d->meta = cJSON_Parse("{\"k\":1}");
    assert_string_equal(host.doc_field(d, "source"), "Reuters");
    assert_null(host.doc_field(d, "url"));
    assert_null(host.doc_field(d, "nonsense"));
    assert_int_equal(cJSON_GetObjectItem(host.doc_meta(d), "k")->valueint, 1);
    assert_string_equal(host.doc_content_type(d), "text/plain");
    assert_string_equal(host.doc_id(d), "d1");
    tm_doc_destroy(&d);
}

static void test_log_quote(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(tm_log_quote(buf, sizeof buf, "a \"b\"\n"), "\"a \\\"b\\\"\\x0a\"");
    tm_log_quote(buf, sizeof buf, "a very long value that will not fit in the buffer");
    assert_true(strlen(buf) < sizeof buf);
    assert_contains(buf, "...");
}

int main(void)
{
    tm_doc_fill_host(&host);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_annotate_takes_ownership_and_replaces),
        cmocka_unit_test(test_raw_annotation_is_parsed_on_read),
        cmocka_unit_test(test_raw_annotation_with_tree_reads_the_tree),
        cmocka_unit_test(test_set_text_only_for_rewriting_stages),
        cmocka_unit_test(test_route_suffix_is_validated),
        cmocka_unit_test(test_stash_is_per_stage_and_freed),
        cmocka_unit_test(test_fields_and_meta),
        cmocka_unit_test(test_log_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
