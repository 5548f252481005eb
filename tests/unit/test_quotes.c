/*
 * Unit tests for the quotes stage (plugins/quotes), run in the test host.
 *
 * test_cases runs every fixture of tests/data/quotes/cases.jsonl (quote mark
 * styles, cue positions, paragraphs, headlines, speaker forms, fragments,
 * scare quotes, indirect speech) and checks the expected quotations,
 * speakers and roles; the other tests check the annotation invariants
 * (offsets, mentions), the configuration errors, the options and bad input;
 * test_raw_output checks that raw_output gives byte-identical results;
 * test_word_forms checks the tokenizer's word keys, possessives, case flags
 * and -ly adverbs; test_lex_pack that re-laying the lexicon's table keeps
 * every answer; test_namey the proper-name flag qt_sentences sets;
 * test_tok_eq the word compare against its byte form.
 */
#include "unit.h"

#include "../../daemon/codec.h"
#include "../support/testhost.h"
#include "../../plugins/quotes/qt.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

static char data_dir[4200];
static char src_dir[4096];

static int setup(void **state)
{
    (void)state;
    const char *s = getenv("TM_SRCDIR");
    snprintf(src_dir, sizeof src_dir, "%s", s != NULL ? s : ".");
    snprintf(data_dir, sizeof data_dir, "%s/plugins/quotes", src_dir);
    return 0;
}

static tm_testhost_t *open_stage(const char *config)
{
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = tm_testhost_open(tm_stage_entry_v1(), config, data_dir, NULL, &err);
    if (th == NULL)
        fail_msg("quotes stage did not open: %s: %s", err.code, err.message);
    return th;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    b[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return b;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* Offsets of quotes, speaker mentions, cues and speaker mentions in
 * annotations.speakers all point at their text. */
static int check_invariants(const char *name, const char *text, const cJSON *quotes,
                            const cJSON *speakers)
{
    int bad = 0;
    size_t n = strlen(text);
    const cJSON *q;
    cJSON_ArrayForEach(q, quotes)
    {
        int s = num(q, "start"), e = num(q, "end");
        const char *t = str(q, "text");
        if (s < 0 || e <= s || (size_t)e > n || t == NULL || strlen(t) != (size_t)(e - s) ||
            memcmp(text + s, t, (size_t)(e - s)) != 0) {
            print_message("%s: quote offsets [%d,%d) do not match its text\n", name, s, e);
            bad++;
        }
        const char *ty = str(q, "type");
        if (ty == NULL || (strcmp(ty, "direct") && strcmp(ty, "mixed") && strcmp(ty, "indirect"))) {
            print_message("%s: bad type\n", name);
            bad++;
        }
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(q, "confidence");
        if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble > 1) {
            print_message("%s: bad confidence\n", name);
            bad++;
        }
        const char *m = str(q, "speaker_mention");
        if (m != NULL) {
            int ms = num(q, "speaker_start"), me = num(q, "speaker_end");
            if (ms < 0 || me <= ms || (size_t)me > n || strlen(m) != (size_t)(me - ms) ||
                memcmp(text + ms, m, (size_t)(me - ms)) != 0) {
                print_message("%s: speaker_mention offsets do not match \"%s\"\n", name, m);
                bad++;
            }
        }
        const char *cue = str(q, "cue");
        if (cue != NULL) {
            int cs = num(q, "cue_start"), ce = num(q, "cue_end");
            if (cs < 0 || ce <= cs || (size_t)ce > n || memcmp(text + cs, cue, (size_t)(ce - cs)) != 0) {
                print_message("%s: cue offsets do not match \"%s\"\n", name, cue);
                bad++;
            }
        }
    }
    const cJSON *sp;
    cJSON_ArrayForEach(sp, speakers)
    {
        if (str(sp, "name") == NULL || num(sp, "quotes") < 0) {
            print_message("%s: speaker without name or quote count\n", name);
            bad++;
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(sp, "mentions"))
        {
            int s = num(m, "start"), e = num(m, "end");
            const char *t = str(m, "text");
            if (s < 0 || e <= s || (size_t)e > n || t == NULL || strlen(t) != (size_t)(e - s) ||
                memcmp(text + s, t, (size_t)(e - s)) != 0) {
                print_message("%s: mention offsets do not match\n", name);
                bad++;
            }
        }
    }
    return bad;
}

static int eq_or_null(const char *want_str, int want_null, const char *got)
{
    if (want_null)
        return got == NULL;
    return got != NULL && strcmp(want_str, got) == 0;
}

static int check_case(tm_testhost_t *th, const cJSON *c)
{
    const char *name = str(c, "name"), *text = str(c, "text");
    tm_err_t err = {{0}, {0}};
    tm_doc_t *doc = tm_testhost_doc(name, text, (size_t)-1, NULL);
    int rc = tm_testhost_run(th, doc, &err);
    assert_int_equal(rc, TM_OK);
    const cJSON *quotes = tm_testhost_annotation(doc, "quotes");
    const cJSON *speakers = tm_testhost_annotation(doc, "speakers");
    assert_non_null(quotes);
    assert_non_null(speakers);
    int bad = check_invariants(name, text, quotes, speakers);
    const cJSON *ex;
    cJSON_ArrayForEach(ex, cJSON_GetObjectItemCaseSensitive(c, "expect"))
    {
        const char *want = str(ex, "text");
        const cJSON *found = NULL, *q;
        cJSON_ArrayForEach(q, quotes)
        {
            const char *t = str(q, "text");
            if (t != NULL && strcmp(t, want) == 0) {
                found = q;
                break;
            }
        }
        if (found == NULL) {
            print_message("%s: no quote \"%s\"\n", name, want);
            bad++;
            continue;
        }
        const char *fields[][2] = {{"speaker", "speaker"}, {"mention", "speaker_mention"},
                                   {"cue", "cue"}, {"type", "type"}};
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(ex, fields[k][0]);
            if (w == NULL)
                continue;
            const char *got = str(found, fields[k][1]);
            if (!eq_or_null(cJSON_IsString(w) ? w->valuestring : NULL, cJSON_IsNull(w), got)) {
                print_message("%s: quote \"%s\": %s is \"%s\", want \"%s\"\n", name, want,
                              fields[k][1], got ? got : "null",
                              cJSON_IsString(w) ? w->valuestring : "null");
                bad++;
            }
        }
    }
    cJSON_ArrayForEach(ex, cJSON_GetObjectItemCaseSensitive(c, "absent"))
    {
        const cJSON *q;
        cJSON_ArrayForEach(q, quotes)
        {
            const char *t = str(q, "text");
            if (t != NULL && strstr(t, ex->valuestring) != NULL) {
                print_message("%s: unexpected quote \"%s\"\n", name, t);
                bad++;
            }
        }
    }
    cJSON_ArrayForEach(ex, cJSON_GetObjectItemCaseSensitive(c, "speakers"))
    {
        const char *want = str(ex, "name");
        const cJSON *found = NULL, *sp;
        cJSON_ArrayForEach(sp, speakers)
        {
            if (str(sp, "name") != NULL && strcmp(str(sp, "name"), want) == 0)
                found = sp;
        }
        if (found == NULL) {
            print_message("%s: no speaker \"%s\"\n", name, want);
            bad++;
            continue;
        }
        if (str(ex, "role") != NULL &&
            (str(found, "role") == NULL || strcmp(str(found, "role"), str(ex, "role")) != 0)) {
            print_message("%s: speaker %s role \"%s\", want \"%s\"\n", name, want,
                          str(found, "role") ? str(found, "role") : "null", str(ex, "role"));
            bad++;
        }
        const cJSON *mi;
        cJSON_ArrayForEach(mi, cJSON_GetObjectItemCaseSensitive(ex, "mentions_include"))
        {
            int ok = 0;
            const cJSON *m;
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(found, "mentions"))
            {
                if (str(m, "text") != NULL && strcmp(str(m, "text"), mi->valuestring) == 0)
                    ok = 1;
            }
            if (!ok) {
                print_message("%s: speaker %s has no mention \"%s\"\n", name, want, mi->valuestring);
                bad++;
            }
        }
    }
    cJSON_ArrayForEach(ex, cJSON_GetObjectItemCaseSensitive(c, "speakers_absent"))
    {
        const cJSON *sp;
        cJSON_ArrayForEach(sp, speakers)
        {
            if (str(sp, "name") != NULL && strcmp(str(sp, "name"), ex->valuestring) == 0) {
                print_message("%s: unexpected speaker \"%s\"\n", name, ex->valuestring);
                bad++;
            }
        }
    }
    if (bad) {
        char *out = cJSON_PrintUnformatted(quotes);
        print_message("%s: got %s\n", name, out);
        free(out);
    }
    tm_doc_destroy(&doc);
    return bad;
}

static void test_cases(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/data/quotes/cases.jsonl", src_dir);
    char *all = read_file(path, NULL);
    assert_non_null(all);
    tm_testhost_t *th = open_stage(NULL);
    int bad = 0, n = 0;
    for (char *line = strtok(all, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        cJSON *c = cJSON_Parse(line);
        assert_non_null(c);
        bad += check_case(th, c);
        n++;
        cJSON_Delete(c);
    }
    free(all);
    tm_testhost_close(&th);
    assert_true(n >= 20);
    if (bad)
        fail_msg("%d check(s) failed in %s", bad, path);
}

/* The five sample articles (copied from the shared seeds, as allowed): the
 * invariants hold and the headline quote is Putin's. */
static void test_seed_invariants(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/data/seeds.jsonl", src_dir);
    char *all = read_file(path, NULL);
    assert_non_null(all);
    tm_testhost_t *th = open_stage(NULL);
    int bad = 0, headline = 0;
    for (char *line = strtok(all, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        cJSON *c = cJSON_Parse(line);
        assert_non_null(c);
        const char *text = str(c, "text");
        tm_err_t err = {{0}, {0}};
        tm_doc_t *doc = tm_testhost_doc(str(c, "id"), text, (size_t)-1, NULL);
        assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
        const cJSON *quotes = tm_testhost_annotation(doc, "quotes");
        bad += check_invariants(str(c, "id"), text, quotes, tm_testhost_annotation(doc, "speakers"));
        const cJSON *q;
        cJSON_ArrayForEach(q, quotes)
        {
            if (num(q, "paragraph") == 1 && str(q, "speaker") != NULL &&
                strcmp(str(q, "speaker"), "Vladimir Putin") == 0)
                headline = 1;
        }
        tm_doc_destroy(&doc);
        cJSON_Delete(c);
    }
    free(all);
    tm_testhost_close(&th);
    assert_int_equal(bad, 0);
    assert_true(headline);
}

static void test_config_errors(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"cue_verbs\": \"no-such-file.txt\"}",
                                 data_dir, NULL, &err));
    assert_string_equal(err.code, "lexicon_unreadable");
    assert_contains(err.message, "no-such-file.txt");
    memset(&err, 0, sizeof err);
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"extra_words\": [\"gadzooks @bogus\"]}",
                                 data_dir, NULL, &err));
    assert_string_equal(err.code, "bad_lexicon_entry");
    assert_contains(err.message, "@bogus");
    memset(&err, 0, sizeof err);
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"extra_cue_verbs\": [\"no colon here\"]}",
                                 data_dir, NULL, &err));
    assert_contains(err.message, "extra_cue_verbs");
    memset(&err, 0, sizeof err);
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"min_words_unattributed\": 0}", data_dir,
                                 NULL, &err));
    assert_contains(err.message, "min_words_unattributed");
}

static const cJSON *find_quote(const cJSON *quotes, const char *text)
{
    const cJSON *q;
    cJSON_ArrayForEach(q, quotes)
    {
        if (str(q, "text") != NULL && strcmp(str(q, "text"), text) == 0)
            return q;
    }
    return NULL;
}

static void test_extra_cue_verb(void **state)
{
    (void)state;
    const char *text = "“The vote is a farce,” Councillor Bo Yates harrumphed.";
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = open_stage(NULL);
    tm_doc_t *doc = tm_testhost_doc("x", text, (size_t)-1, NULL);
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    const cJSON *q = find_quote(tm_testhost_annotation(doc, "quotes"), "The vote is a farce,");
    assert_non_null(q);
    assert_null(str(q, "speaker")); /* "harrumph" is not a cue by default */
    tm_doc_destroy(&doc);
    tm_testhost_close(&th);

    th = open_stage("{\"extra_cue_verbs\": [\"harrumph: harrumphs harrumphed harrumphing @speech @invert\"]}");
    doc = tm_testhost_doc("x", text, (size_t)-1, NULL);
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    q = find_quote(tm_testhost_annotation(doc, "quotes"), "The vote is a farce,");
    assert_non_null(q);
    assert_string_equal(str(q, "speaker"), "Bo Yates");
    assert_string_equal(str(q, "cue"), "harrumphed");
    tm_doc_destroy(&doc);
    tm_testhost_close(&th);
}

static void test_options(void **state)
{
    (void)state;
    const char *text = "The river flooded the old town on Monday.\n"
                       "“Closed until further notice because of the flooding downstairs.”\n"
                       "Prime Minister Sara Lund said that she will not run again.";
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = open_stage("{\"indirect\": false, \"speakers\": false, "
                                   "\"min_words_unattributed\": 20}");
    tm_doc_t *doc = tm_testhost_doc("x", text, (size_t)-1, NULL);
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    const cJSON *quotes = tm_testhost_annotation(doc, "quotes");
    assert_non_null(quotes);
    assert_int_equal(cJSON_GetArraySize(quotes), 0);
    assert_null(tm_testhost_annotation(doc, "speakers"));
    tm_doc_destroy(&doc);
    tm_testhost_close(&th);

    th = open_stage(NULL);
    doc = tm_testhost_doc("x", text, (size_t)-1, NULL);
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    quotes = tm_testhost_annotation(doc, "quotes");
    assert_int_equal(cJSON_GetArraySize(quotes), 2);
    tm_doc_destroy(&doc);
    tm_testhost_close(&th);
}

static void run_text(tm_testhost_t *th, const char *text, size_t len)
{
    tm_err_t err = {{0}, {0}};
    tm_doc_t *doc = tm_testhost_doc("bad", text, len, NULL);
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    const cJSON *quotes = tm_testhost_annotation(doc, "quotes");
    assert_non_null(quotes);
    assert_int_equal(check_invariants("bad input", text, quotes, tm_testhost_annotation(doc, "speakers")), 0);
    tm_doc_destroy(&doc);
}

/* Unbalanced marks, thousands of marks in a row, one long quotation, text
 * without sentence breaks, endless commas: no crash, valid annotations. */
static void test_bad_input(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    size_t n = 300000;
    char *b = malloc(n + 16);
    assert_non_null(b);
    const char *pieces[] = {"\"", "\xe2\x80\x9c", "\xe2\x80\x9d", "'", "\xe2\x80\x99", "\xc2\xab",
                            "\xc2\xbb", "\xe2\x80\x9e", "''", "``"};
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        size_t k = 0, pl = strlen(pieces[p]);
        while (k + pl < n) {
            memcpy(b + k, pieces[p], pl);
            k += pl;
        }
        b[k] = '\0';
        run_text(th, b, k);
    }
    /* one long quotation */
    size_t k = 0;
    memcpy(b, "Mr Vane said: \xe2\x80\x9c", 17);
    k = 17;
    while (k + 20 < n) {
        memcpy(b + k, "we will said he go ", 19);
        k += 19;
    }
    memcpy(b + k, "\xe2\x80\x9d", 3);
    k += 3;
    b[k] = '\0';
    run_text(th, b, k);
    /* no sentence breaks, many cues and commas */
    k = 0;
    while (k + 40 < n) {
        memcpy(b + k, "Trump, he said, told Mr Putin that, ", 36);
        k += 36;
    }
    b[k] = '\0';
    run_text(th, b, k);
    /* alternating unbalanced marks and words */
    k = 0;
    while (k + 20 < n) {
        memcpy(b + k, "\xe2\x80\x9cOne ' two \xc2\xbb ", 15);
        k += 15;
    }
    b[k] = '\0';
    run_text(th, b, k);
    run_text(th, "", 0);
    run_text(th, "\n\n\n", 3);
    free(b);
    tm_testhost_close(&th);
}


/* One text through the default stage (the JSON text with its tree as the
 * raw item's child) and the raw_output stage (the text alone): the encoded
 * results are the same bytes, and so is the result of a document carrying
 * plain copies of the default stage's trees (the tree and the text it rides
 * with say the same thing, to the byte); a reader gets the same tree back
 * through the host's doc_annotation from both.  Returns failures. */
static int same_result(tm_testhost_t *tree, tm_testhost_t *raw, const char *id, const char *text,
                       size_t len)
{
    tm_err_t e1 = {{0}, {0}}, e2 = {{0}, {0}};
    tm_doc_t *d1 = tm_testhost_doc(id, text, len, NULL), *d2 = tm_testhost_doc(id, text, len, NULL);
    assert_non_null(d1);
    assert_non_null(d2);
    assert_int_equal(tm_testhost_run(tree, d1, &e1), TM_OK);
    assert_int_equal(tm_testhost_run(raw, d2, &e2), TM_OK);
    int bad = 0;
    const char *keys[] = {"quotes", "speakers"};
    tm_doc_t *d3 = tm_testhost_doc(id, text, len, NULL);
    assert_non_null(d3);
    for (size_t k = 0; k < 2; k++) {
        const cJSON *both = cJSON_GetObjectItemCaseSensitive(d1->annotations, keys[k]);
        const cJSON *t = tm_testhost_annotation(d1, keys[k]);
        const cJSON *r = tm_testhost_annotation(d2, keys[k]);
        if (!cJSON_IsRaw(both) || !cJSON_IsArray(t) || t != both->child || !cJSON_IsRaw(r) ||
            r->child != NULL) {
            print_error("%s: %s is not text with its tree / text alone\n", id, keys[k]);
            bad++;
        }
        assert_int_equal(tm_testhost_host(tree)->doc_annotate(d3, keys[k], cJSON_Duplicate(t, 1)),
                         TM_OK);
    }
    size_t l1 = 0, l2 = 0, l3 = 0;
    char *r1 = tm_result_encode(d1, NULL, 0, 0, &l1), *r2 = tm_result_encode(d2, NULL, 0, 0, &l2);
    char *r3 = tm_result_encode(d3, NULL, 0, 0, &l3);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_non_null(r3);
    if (l1 != l2 || memcmp(r1, r2, l1) != 0) {
        print_error("%s: results differ\n  default: %s\n  raw:     %s\n", id, r1, r2);
        bad++;
    }
    if (l1 != l3 || memcmp(r1, r3, l1) != 0) {
        print_error("%s: the tree encodes differently from its text\n  text: %s\n  tree: %s\n", id,
                    r1, r3);
        bad++;
    }
    free(r3);
    tm_doc_destroy(&d3);
    for (size_t k = 0; k < 2; k++) {
        const cJSON *t = tm_testhost_annotation(d1, keys[k]);
        const cJSON *r = tm_testhost_host(raw)->doc_annotation(d2, keys[k]);
        if (!cJSON_IsArray(r) || !cJSON_Compare(t, r, 1)) {
            print_error("%s: parsed raw %s differs from the tree\n", id, keys[k]);
            bad++;
        }
    }
    free(r1);
    free(r2);
    tm_doc_destroy(&d1);
    tm_doc_destroy(&d2);
    return bad;
}

static void test_raw_output(void **state)
{
    (void)state;
    tm_testhost_t *tree = open_stage("{\"raw_output\": false}");
    tm_testhost_t *raw = open_stage("{\"raw_output\": true}");
    int bad = 0, n = 0;
    const char *files[] = {"tests/data/quotes/cases.jsonl", "tests/data/seeds.jsonl"};
    for (size_t f = 0; f < 2; f++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", src_dir, files[f]);
        char *all = read_file(path, NULL);
        assert_non_null(all);
        for (char *line = strtok(all, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            cJSON *c = cJSON_Parse(line);
            assert_non_null(c);
            bad += same_result(tree, raw, str(c, "id"), str(c, "text"), (size_t)-1);
            n++;
            cJSON_Delete(c);
        }
        free(all);
    }
    /* every byte the codec escapes, inside quotations, speakers and cues */
    static const char esc[] =
        "Mr Ned Quill said: \"A \\\\ back\\slash, a \"quote\", a\ttab, \x01\x1f\x7f \b\f\r "
        "and more words here,\" he added.\n"
        "\xe2\x80\x9c" "Tabs\there and \\ there and \x02 there,\xe2\x80\x9d said Ida \\ Vole, the "
        "\"harbour\" master.\nIda Vole told reporters that the \x03 rain \"will\tstop\".";
    bad += same_result(tree, raw, "escapes", esc, sizeof esc - 1);
    bad += same_result(tree, raw, "empty", "", 0);
    tm_testhost_close(&tree);
    tm_testhost_close(&raw);
    assert_true(n >= 25);
    assert_int_equal(bad, 0);
}

/* The tokenizer's word forms, whichever of its paths makes them (the run
 * of plain words, the byte loop, the apostrophe words, the full scanner):
 * every word's key is the lexicon's hash of its core (qt_hash_word: ASCII
 * lower-cased, apostrophes folded), a trailing 's is a possessive outside
 * the core, and the case flags and -ly adverbs follow their rules. */
/* qt_lex_pack re-lays the table: every key gives the same classes after
 * it, absent keys stay absent, and the short words come out in one probe
 * (the point of it).  Shipped lexicons plus a colliding crowd of words. */
static void test_lex_pack(void **state)
{
    (void)state;
    qt_lex_t lx;
    qt_lex_init(&lx);
    char path[4400], msg[400];
    snprintf(path, sizeof path, "%s/cue_verbs.txt", data_dir);
    assert_int_equal(qt_lex_load(&lx, path, QT_FILE_CUES, msg, sizeof msg), 0);
    static const char *const files[] = {"titles.txt", "roles.txt", "pronouns.txt",
                                        "function_words.txt", "cue_phrases.txt"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        snprintf(path, sizeof path, "%s/%s", data_dir, files[f]);
        assert_int_equal(qt_lex_load(&lx, path, QT_FILE_TAGGED, msg, sizeof msg), 0);
    }
    char w[16];
    for (int k = 0; k < 3000; k++) { /* long (hashed) and short keys */
        int n = snprintf(w, sizeof w, k % 2 ? "zq%dx" : "longword%05d", k);
        assert_int_equal(qt_lex_add(&lx, w, (size_t)n, LX_ROLE, (uint16_t)(k & 7)), 0);
    }
    size_t size = lx.mask + 1, n = 0;
    qt_lexent_t *before = malloc(lx.count * sizeof *before);
    assert_non_null(before);
    for (size_t i = 0; i < size; i++)
        if (lx.tab[i].used)
            before[n++] = lx.tab[i];
    assert_int_equal(n, lx.count);
    assert_int_equal(qt_lex_pack(&lx), 0);
    assert_int_equal(lx.ph_ok, 1); /* qt_lex_classes' perfect hash is built */
    assert_int_equal(lx.mask + 1, size);
    size_t used = 0;
    for (size_t i = 0; i < size; i++)
        used += lx.tab[i].used;
    assert_int_equal(used, n);
    for (size_t k = 0; k < n; k++) {
        const qt_lexent_t *le = qt_lex_get(&lx, before[k].h);
        assert_non_null(le);
        assert_int_equal(le->cls, before[k].cls);
        assert_int_equal(le->extra, before[k].extra);
        assert_int_equal(le->phr, before[k].phr);
    }
    assert_null(qt_lex_get(&lx, qt_hash_word("zzyzx", 5)));
    assert_null(qt_lex_get(&lx, qt_hash_word("notalistedword", 14)));
    /* qt_lex_classes (the tokenizer's look-up) gives qt_lex_get's answer
     * for every key, those off their home slot too (they take the walk),
     * and 0 for absent words, whether the filter rules them out or not
     * (5000 of them: some pass it) */
    size_t off_home = 0, passed = 0;
    for (size_t k = 0; k < n; k++) {
        const uint64_t h = before[k].h;
        off_home += qt_lex_get(&lx, h) != &lx.tab[qt_hmix(h) >> lx.shift];
        assert_int_equal(qt_lex_classes(&lx, h) & 0xffffffffffffull,
                         (uint64_t)before[k].cls | (uint64_t)before[k].extra << 32);
    }
    assert_true(off_home > 0);
    for (int k = 0; k < 5000; k++) {
        int wn = snprintf(w, sizeof w, k % 2 ? "qz%dy" : "absent%07d", k);
        const uint64_t h = qt_hash_word(w, (size_t)wn);
        const uint32_t b = (uint32_t)(qt_hmix(h) >> (64 - QT_LEX_FILTER_BITS));
        passed += (lx.filter[b >> 6] >> (b & 63)) & 1;
        assert_null(qt_lex_get(&lx, h));
        assert_int_equal(qt_lex_classes(&lx, h), 0);
    }
    assert_true(passed > 0);
    /* "the", "of", "said": in their home slots now */
    static const char *const shortw[] = {"the", "of", "said", "a", "and"};
    for (size_t k = 0; k < sizeof shortw / sizeof *shortw; k++) {
        uint64_t h = qt_hash_word(shortw[k], strlen(shortw[k]));
        const qt_lexent_t *le = qt_lex_get(&lx, h);
        assert_non_null(le);
        assert_ptr_equal(le, &lx.tab[qt_hmix(h) >> lx.shift]);
    }
    free(before);
    qt_lex_free(&lx);

    /* a long word added first takes "the"'s home slot; after the pack
     * "the" has it (and the long word is still found) */
    qt_lex_init(&lx);
    assert_int_equal(qt_lex_add(&lx, "x", 1, LX_FUNC, 0), 0); /* makes the table */
    const uint64_t the = qt_hash_word("the", 3);
    const size_t home = (size_t)(qt_hmix(the) >> lx.shift);
    int k = 0, m = 0;
    for (; k < 1000000; k++) {
        m = snprintf(w, sizeof w, "longword%07d", k);
        if ((size_t)(qt_hmix(qt_hash_word(w, (size_t)m)) >> lx.shift) == home)
            break;
    }
    assert_true(k < 1000000);
    assert_int_equal(qt_lex_add(&lx, w, (size_t)m, LX_ROLE, 0), 0);
    assert_int_equal(qt_lex_add(&lx, "the", 3, LX_DET, 0), 0);
    assert_ptr_not_equal(qt_lex_get(&lx, the), &lx.tab[home]);
    assert_int_equal(qt_lex_pack(&lx), 0);
    assert_ptr_equal(qt_lex_get(&lx, the), &lx.tab[home]);
    assert_int_equal(qt_lex_get(&lx, the)->cls, LX_DET);
    assert_non_null(qt_lex_get(&lx, qt_hash_word(w, (size_t)m)));
    assert_int_equal(qt_lex_get(&lx, qt_hash_word(w, (size_t)m))->cls, LX_ROLE);
    qt_lex_free(&lx);
}

/* Tokenize text into d (zeroed here; the caller frees it), pair its
 * quotation marks and find its sentences, as the stage does before its
 * rules run. */
static void scan_sentences(qt_doc_t *d, const char *text, const qt_lex_t *lx, const qt_cfg_t *cfg)
{
    memset(d, 0, sizeof *d);
    qt_doc_reset(d, text, strlen(text), lx, cfg);
    assert_int_equal(qt_tokenize(d), 0);
    qt_pair_marks(d);
    qt_sentences(d);
    assert_int_equal(d->oom, 0);
}

/* TF_NAMEY, as qt_sentences sets it on capitalised words (most of them
 * without calling qt_namey_rule): a capitalised word in no list is a name
 * outside a quotation and not inside one; a title is not; a capitalised
 * function word inside a name is ("Theresa May said"). */
static void test_namey(void **state)
{
    (void)state;
    qt_lex_t lx;
    qt_lex_init(&lx);
    assert_int_equal(qt_lex_add(&lx, "mayor", 5, LX_TITLE | LX_PERSON, 0), 0);
    assert_int_equal(qt_lex_add(&lx, "may", 3, LX_AUX, 0), 0);
    assert_int_equal(qt_lex_add(&lx, "said", 4, LX_CUE | LX_SPEECH | LX_CLAUSE, 0), 0);
    qt_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.single_quotes = 1;
    const char *text = "Mayor Smith said \"Jones left Paris\" and Theresa May said no.";
    static const struct {
        const char *word; /* with the space after it: found once */
        int namey;
    } want[] = {{"Mayor ", 0}, {"Smith ", 1}, {"Jones ", 0}, {"Paris\"", 0}, {"Theresa ", 1},
                {"May ", 1}};
    qt_doc_t d;
    scan_sentences(&d, text, &lx, &cfg);
    for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
        const char *at = strstr(text, want[w].word);
        assert_non_null(at);
        const qt_tok_t *tk = NULL;
        for (size_t k = 0; k < d.n_tok; k++)
            if (d.tok[k].s == (uint32_t)(at - text))
                tk = &d.tok[k];
        assert_non_null(tk);
        if (((tk->flags & TF_NAMEY) != 0) != want[w].namey ||
            want[w].namey != qt_namey_rule(&d, (int32_t)(tk - d.tok)))
            fail_msg("\"%s\": flags %#x lex %#x TF_NAMEY %d, rule %d, want %d", want[w].word, tk->flags, tk->lex,
                     (tk->flags & TF_NAMEY) != 0, qt_namey_rule(&d, (int32_t)(tk - d.tok)),
                     want[w].namey);
    }
    qt_doc_free(&d);
    qt_lex_free(&lx);
}

/* A title-case paragraph ("Putin Says He Will Not Meet Trump") is found at
 * its second capitalised function word, after its earlier capitalised words
 * were judged: they are judged again, so that every word's TF_NAMEY and
 * the d->names list are qt_namey_rule's answers with the paragraph's
 * TF_TCASE ("Says" is a name mid-sentence in running text, not in a
 * headline); the paragraphs around it keep theirs. */
static void test_namey_title_case(void **state)
{
    (void)state;
    qt_lex_t lx;
    qt_lex_init(&lx);
    assert_int_equal(qt_lex_add(&lx, "says", 4, LX_CUE | LX_SPEECH | LX_CLAUSE, 0), 0);
    assert_int_equal(qt_lex_add(&lx, "he", 2, LX_PRON, LXX_MALE), 0);
    assert_int_equal(qt_lex_add(&lx, "will", 4, LX_AUX, 0), 0);
    assert_int_equal(qt_lex_add(&lx, "not", 3, LX_NEG, 0), 0);
    assert_int_equal(qt_lex_add(&lx, "and", 3, LX_CONJ, 0), 0);
    assert_int_equal(qt_lex_pack(&lx), 0);
    qt_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *text = "Mary Smith left early and Jones Says stayed.\n"
                       "Putin Says He Will Not Meet Trump And Macron\n"
                       "Then Jones Says he left.";
    qt_doc_t d;
    scan_sentences(&d, text, &lx, &cfg);
    size_t nn = 0, tcase = 0;
    for (size_t k = 0; k < d.n_tok; k++) {
        const int rule = qt_namey_rule(&d, (int32_t)k);
        assert_int_equal((d.tok[k].flags & TF_NAMEY) != 0, rule);
        if (rule) {
            assert_true(nn < d.n_names);
            assert_int_equal(d.names[nn], (int32_t)k);
            nn++;
        }
        tcase += d.tok[k].kind == TK_WORD && (d.tok[k].flags & TF_TCASE);
    }
    assert_int_equal(nn, d.n_names);
    assert_int_equal(tcase, 9); /* the headline's nine words */
    /* "Says": a name in the first and last paragraphs, not in the headline */
    size_t says = 0;
    for (size_t k = 0; k < d.n_tok; k++) {
        if (d.tok[k].kind != TK_WORD || d.tok[k].e - d.tok[k].s != 4 ||
            memcmp(text + d.tok[k].s, "Says", 4) != 0)
            continue;
        assert_int_equal((d.tok[k].flags & TF_NAMEY) != 0, says != 1);
        says++;
    }
    assert_int_equal(says, 3);
    qt_doc_free(&d);
    qt_lex_free(&lx);
}

/* qt_tok_eq (a key compare for words of up to eight bytes) answers as the
 * byte compare does, over words in every case, with apostrophes, digits,
 * possessives, punctuation, and longer words. */
static void test_tok_eq(void **state)
{
    (void)state;
    qt_lex_t lx;
    qt_lex_init(&lx);
    assert_int_equal(qt_lex_pack(&lx), 0); /* (an empty lexicon: a table all the same) */
    qt_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *text = "That THAT tHaT that's that\xe2\x80\x99s thats th'at to TO To. 2to to2 "
                       "Reporters REPORTERS reporter reporterss, \"to\" of-that that-of "
                       "\xc3\x9c" "ber over OVER o ver another ANOTHER";
    static const char *const words[] = {"that", "to", "reporters", "over", "another", "of", "t", "a"};
    qt_doc_t d;
    memset(&d, 0, sizeof d);
    qt_doc_reset(&d, text, strlen(text), &lx, &cfg);
    assert_int_equal(qt_tokenize(&d), 0);
    int hits = 0;
    for (int32_t i = -1; i <= (int32_t)d.n_tok; i++)
        for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
            int a = qt_tok_eq(&d, i, words[w]), b = qt_tok_eq_bytes(&d, i, words[w]);
            if (a != b)
                fail_msg("token %d, \"%s\": %d, bytes %d", i, words[w], a, b);
            hits += a;
        }
    /* That THAT tHaT that('s)x2 | to TO To | Reporters REPORTERS | over OVER | another ANOTHER */
    assert_int_equal(hits, 5 + 3 + 1 + 2 + 2 + 2);
    qt_doc_free(&d);
    qt_lex_free(&lx);
}

static void test_word_forms(void **state)
{
    (void)state;
    qt_lex_t lx;
    qt_lex_init(&lx);
    assert_int_equal(qt_lex_add(&lx, "don't", 5, LX_AUX | LX_NEG, 0), 0);
    assert_int_equal(qt_lex_add(&lx, "mayor", 5, LX_TITLE | LX_PERSON, 0), 0);
    qt_lex_t lx2; /* "mayor" alone (the end cases) */
    qt_lex_init(&lx2);
    assert_int_equal(qt_lex_add(&lx2, "mayor", 5, LX_TITLE | LX_PERSON, 0), 0);
    qt_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    static const struct {
        const char *word; /* as written, then a space */
        size_t core;      /* bytes of the core */
        unsigned flags;   /* expected of TF_CAP | TF_UPPER | TF_POSS */
        int ly;           /* qt_tok_ly */
        uint32_t lex;     /* expected classes */
    } cases[] = {
        {"Mayor\xe2\x80\x99s", 5, TF_CAP | TF_POSS, 0, LX_TITLE | LX_PERSON},
        {"mayor's", 5, TF_POSS, 0, LX_TITLE | LX_PERSON},
        {"MAYOR\xe2\x80\x99S", 9, TF_CAP | TF_UPPER, 0, 0},
        {"Don\xe2\x80\x99t", 7, TF_CAP, 0, LX_AUX | LX_NEG},
        {"DON'T", 5, TF_CAP | TF_UPPER, 0, LX_AUX | LX_NEG},
        {"I\xe2\x80\x99M", 5, TF_CAP | TF_UPPER, 0, 0},
        {"rock\xe2\x80\x99n\xe2\x80\x99roll", 15, 0, 0, 0},
        {"well-known", 10, 0, 0, 0},
        {"quickly", 7, 0, 1, 0},
        {"Quickly", 7, TF_CAP, 0, 0},
        {"QUICKLY", 7, TF_CAP | TF_UPPER, 0, 0},
        /* TF_UPPER from word_lane's masks: two capitals, no lower case */
        {"McDONALD", 8, TF_CAP, 0, 0},
        {"A1B", 3, TF_CAP | TF_UPPER, 0, 0},
        {"A1", 2, TF_CAP, 0, 0},
        {"ABCDEFGHIJKLMNO", 15, TF_CAP | TF_UPPER, 0, 0},
        {"ABCDEFGHIJKLMNo", 15, TF_CAP, 0, 0},
        {"a\xe2\x80\x99" "bly", 7, 0, 1, 0},  /* folded: 5 bytes */
        {"x\xe2\x80\x99ly", 6, 0, 0, 0},   /* folded: 4 bytes */
        {"re'ally", 7, 0, 1, 0},
        {"extraordinarily", 15, 0, 1, 0},
        {"counterrevolutionarily", 22, 0, 1, 0},
        {"fly", 3, 0, 0, 0},
        {"U.S.", 4, TF_CAP | TF_UPPER, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* the word at the start, in the middle (after a plain word) and
         * at the very end of a text */
        char text[160];
        for (int where = 0; where < 3; where++) {
            const char *w = cases[c].word;
            int len = where == 0   ? snprintf(text, sizeof text, "%s said it today.", w)
                      : where == 1 ? snprintf(text, sizeof text, "And %s said it.", w)
                                   : snprintf(text, sizeof text, "It was %s", w);
            size_t at = where == 0 ? 0 : where == 1 ? 4 : 7;
            qt_doc_t d;
            memset(&d, 0, sizeof d);
            qt_doc_reset(&d, text, (size_t)len, &lx, &cfg);
            assert_int_equal(qt_tokenize(&d), 0);
            const qt_tok_t *tk = NULL;
            for (size_t k = 0; k < d.n_tok; k++)
                if (d.tok[k].s == at)
                    tk = &d.tok[k];
            if (tk == NULL)
                fail_msg("case %zu (%d): no token at %zu", c, where, at);
            if (tk->e != at + strlen(w) || tk->ce != at + cases[c].core ||
                (tk->flags & (TF_CAP | TF_UPPER | TF_POSS)) != cases[c].flags ||
                qt_tok_ly(&d, tk) != cases[c].ly || tk->lex != cases[c].lex ||
                tk->h != qt_hash_word(text + tk->s, tk->ce - tk->s))
                fail_msg("case %zu (%d) \"%s\": e %u ce %u flags %#x ly %d lex %#x", c, where, w,
                         tk->e, tk->ce, tk->flags, qt_tok_ly(&d, tk), tk->lex);
            qt_doc_free(&d);
        }
    }
    /* a word before a character starting with 0xE2: the word ends there
     * (dashes, double quote marks, ellipsis, U+2019 before no letter) or
     * goes on (U+2019 or U+2011 before a letter) exactly as the full
     * scanner has it */
    static const struct {
        const char *after; /* what follows "mayor" */
        size_t len;        /* the word's bytes */
        uint32_t lex;
    } ends[] = {
        {"\xe2\x80\x9d said", 5, LX_TITLE | LX_PERSON},   /* ” */
        {"\xe2\x80\x9c said", 5, LX_TITLE | LX_PERSON},   /* “ */
        {"\xe2\x80\x94said", 5, LX_TITLE | LX_PERSON},    /* — */
        {"\xe2\x80\x93 said", 5, LX_TITLE | LX_PERSON},   /* – */
        {"\xe2\x80\xa6 said", 5, LX_TITLE | LX_PERSON},   /* … */
        {"\xe2\x80\x99 said", 5, LX_TITLE | LX_PERSON},   /* ’ then a space */
        {"\xe2\x80\x99, said", 5, LX_TITLE | LX_PERSON},  /* ’ then a comma */
        {"\xe2\x80\x99", 5, LX_TITLE | LX_PERSON},        /* ’ at the end */
        {"\xe2\x80\x99" "9 said", 5, LX_TITLE | LX_PERSON}, /* ’ then a digit */
        {"\xe2\x80\x99" "d said", 9, 0},                  /* ’ then a letter: one word */
        {"\xe2\x80\x99\xc3\xa9 said", 10, 0},            /* ’ then a non-ASCII letter */
        {"\xe2\x80\x91x said", 9, 0},                     /* non-breaking hyphen */
        {"\xe2\x80\x98 said", 5, LX_TITLE | LX_PERSON},   /* ‘ */
    };
    for (size_t c = 0; c < sizeof ends / sizeof ends[0]; c++) {
        for (int where = 0; where < 2; where++) {
            char text[160];
            int len = snprintf(text, sizeof text, "%smayor%s", where ? "The " : "", ends[c].after);
            size_t at = where ? 4 : 0;
            qt_doc_t d;
            memset(&d, 0, sizeof d);
            qt_doc_reset(&d, text, (size_t)len, &lx2, &cfg);
            assert_int_equal(qt_tokenize(&d), 0);
            const qt_tok_t *tk = NULL;
            for (size_t k = 0; k < d.n_tok; k++)
                if (d.tok[k].s == at)
                    tk = &d.tok[k];
            if (tk == NULL || tk->kind != TK_WORD || tk->e != at + ends[c].len || tk->ce != tk->e ||
                tk->lex != ends[c].lex || tk->h != qt_hash_word(text + tk->s, tk->ce - tk->s))
                fail_msg("end case %zu (%d): e %u lex %#x", c, where, tk ? tk->e : 0, tk ? tk->lex : 0);
            qt_doc_free(&d);
        }
    }
    qt_lex_free(&lx2);
    qt_lex_free(&lx);
}

/* Every token's sentence index (qt_sentences fills four tokens per step,
 * running past a sentence's end into the next one, which writes them
 * again): the last sentence starting at or before it, for sentences of one
 * to nine tokens, a paragraph break, and a text ending mid-group. */
static void test_sent_index(void **state)
{
    (void)state;
    qt_lex_t lx;
    qt_lex_init(&lx);
    assert_int_equal(qt_lex_pack(&lx), 0);
    qt_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *text = "Go. Aa bb. Cc dd ee. Ff gg hh ii. Jj kk ll mm nn oo pp qq.\n"
                       "Rr ss. Tt uu vv ww xx. Yy zz aa bb";
    qt_doc_t d;
    scan_sentences(&d, text, &lx, &cfg);
    assert_int_equal(d.n_sstart, 8);
    size_t s = 0;
    for (size_t k = 0; k < d.n_tok; k++) {
        while (s + 1 < d.n_sstart && (size_t)d.sstart[s + 1] <= k)
            s++;
        assert_int_equal(d.tok[k].sent, s);
    }
    assert_int_equal(d.tok[d.n_tok - 1].sent, 7);
    qt_doc_free(&d);
    qt_lex_free(&lx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_seed_invariants),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_extra_cue_verb),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_raw_output),
        cmocka_unit_test(test_word_forms),
        cmocka_unit_test(test_lex_pack),
        cmocka_unit_test(test_namey),
        cmocka_unit_test(test_namey_title_case),
        cmocka_unit_test(test_tok_eq),
        cmocka_unit_test(test_sent_index),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
