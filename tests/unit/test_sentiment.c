/*
 * Unit tests for the sentiment stage (plugins/sentiment), run in the test
 * host: the lexicon rules (negation, boosters, "but", capitals, punctuation,
 * idioms, emoji), bad input (internal-looking words, no letters, capitals
 * only, floods of '!', a 4 MB document), start-up errors for invalid
 * lexicon/rule/model files, and the people part with and without the quotes
 * stage's annotations.
 */
#include "unit.h"

#include <math.h>

#include "../support/testhost.h"
#include "../../plugins/sentiment/jsonw.h"
#include "../../plugins/sentiment/model.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

#ifndef TM_SENTIMENT_DATA
#define TM_SENTIMENT_DATA "plugins/sentiment"
#endif
#ifndef TM_SENTIMENT_TESTDATA
#define TM_SENTIMENT_TESTDATA "tests/data/sentiment"
#endif

static tm_testhost_t *open_stage(const char *config, tm_err_t *err)
{
    return tm_testhost_open(tm_stage_entry_v1(), config, TM_SENTIMENT_DATA, NULL, err);
}

static tm_testhost_t *g_th; /* the default-config stage, shared by the rule tests */

/* The stage's annotation as a reader of the result sees it: the stage
 * attaches its lists pre-serialised (cJSON raw items), so print the whole
 * annotation, check it is valid JSON, and put the parsed tree in its place
 * (once per document). */
static const cJSON *ann(tm_doc_t *doc)
{
    const cJSON *a = tm_testhost_annotation(doc, "sentiment");
    if (a == NULL)
        return NULL;
    int raw = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, a) raw |= cJSON_IsRaw(c);
    if (!raw)
        return a;
    char *txt = cJSON_PrintUnformatted(a);
    assert_non_null(txt);
    cJSON *parsed = cJSON_Parse(txt);
    free(txt);
    assert_non_null(parsed);
    assert_int_equal(tm_testhost_host(g_th)->doc_annotate(doc, "sentiment", parsed), TM_OK);
    return tm_testhost_annotation(doc, "sentiment");
}

/* Check every number in the annotation is finite and compounds in range. */
static void check_numbers(const cJSON *j)
{
    if (cJSON_IsNumber(j)) {
        assert_true(isfinite(j->valuedouble));
        if (j->string != NULL && strcmp(j->string, "compound") == 0) {
            assert_true(j->valuedouble >= -1.0 && j->valuedouble <= 1.0);
        }
        return;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, j) check_numbers(c);
}

/* Run text through the stage; returns the document (caller destroys). */
static tm_doc_t *run_text(tm_testhost_t *th, const char *text, size_t len)
{
    tm_err_t err = {{0}, {0}};
    tm_doc_t *doc = tm_testhost_doc("t", text, len, NULL);
    assert_non_null(doc);
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    const cJSON *a = ann(doc);
    assert_non_null(a);
    check_numbers(a);
    return doc;
}

static double compound(tm_testhost_t *th, const char *text)
{
    tm_doc_t *doc = run_text(th, text, (size_t)-1);
    double c = cJSON_GetObjectItem(ann(doc), "compound")->valuedouble;
    tm_doc_destroy(&doc);
    return c;
}


static int setup(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    g_th = open_stage(NULL, &err);
    if (g_th == NULL)
        fprintf(stderr, "cannot open the stage: %s\n", err.message);
    return g_th == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    tm_testhost_close(&g_th);
    return 0;
}

static void test_polarity(void **state)
{
    (void)state;
    assert_true(compound(g_th, "The book was good.") >= 0.05);
    assert_true(compound(g_th, "The book was horrible.") <= -0.05);
    assert_true(fabs(compound(g_th, "The book has 300 pages.")) < 0.05);
    tm_doc_t *doc = run_text(g_th, "The book was good.", (size_t)-1);
    const cJSON *a = ann(doc);
    assert_string_equal(cJSON_GetObjectItem(a, "label")->valuestring, "positive");
    double sum = cJSON_GetObjectItem(a, "pos")->valuedouble + cJSON_GetObjectItem(a, "neg")->valuedouble +
                 cJSON_GetObjectItem(a, "neu")->valuedouble;
    assert_true(fabs(sum - 1.0) < 0.01);
    tm_doc_destroy(&doc);
}

static void test_negation(void **state)
{
    (void)state;
    assert_true(compound(g_th, "The movie was not good.") <= -0.05);
    assert_true(compound(g_th, "The movie isn't good.") <= -0.05);
    assert_true(compound(g_th, "The movie isn\xe2\x80\x99t good.") <= -0.05); /* ’ */
    assert_true(compound(g_th, "The movie was not bad.") >= 0.05);
    /* Scope: a negation three words back still counts, five back does not. */
    assert_true(compound(g_th, "It was not a very good movie.") < 0);
    assert_true(compound(g_th, "Not that it matters, the food was good.") > 0);
    /* "at least" is not a negation, "least" before a word is. */
    assert_true(compound(g_th, "It was the least interesting talk.") < 0);
}

/* Negation leans negative by itself (negation_bias), and "un" + a positive
 * lexicon word is that word negated (un_prefix).  Learned valences are off
 * so that only the rule under test moves the score. */
static void test_negation_bias_and_un_prefix(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *on = open_stage("{\"learned_weight\": 0, \"entities\": false}", &err);
    tm_testhost_t *off = open_stage("{\"learned_weight\": 0, \"entities\": false, "
                                    "\"negation_bias\": 0, \"un_prefix\": false, \"question_positive\": 1, "
                                    "\"rules\": [\"rules.txt\", \"" TM_SENTIMENT_TESTDATA
                                    "/no_lean.txt\"]}",
                                    &err);
    assert_non_null(on);
    assert_non_null(off);
    /* No sentiment word: neutral without the bias, negative with it. */
    const char *plain = "The new policy did not apply to the alumni.";
    assert_true(fabs(compound(off, plain)) < 1e-9);
    assert_true(compound(on, plain) <= -0.05);
    assert_true(compound(on, "The policy didn\xe2\x80\x99t apply to the alumni.") <= -0.05);
    /* A contrast word weighs the bias like the words around it: a negation
     * before "but" counts less than one after it. */
    assert_true(compound(on, "It did not rain, but we stayed in.") >
                compound(on, "It rained, but we did not stay in."));
    /* "too" before a word leans negative too; "me too" at the end does not. */
    assert_true(compound(on, "The ride was too long.") <= -0.05);
    assert_true(fabs(compound(off, "The ride was too long.")) < 1e-9);
    assert_true(fabs(compound(on, "Me too.")) < 1e-9);
    /* "only" before a word, from rules.txt's "lean" list. */
    assert_true(compound(on, "They registered only half of the voters.") <= -0.05);
    assert_true(fabs(compound(off, "They registered only half of the voters.")) < 1e-9);
    /* A question's praise counts half (question_positive 0.5; off: 1), its
     * blame in full. */
    double qa = compound(on, "Is the food good?"), sa = compound(on, "The food is good.");
    assert_true(qa > 0.05 && qa < sa);
    assert_true(fabs(compound(off, "Is the food good?") - compound(off, "The food is good.")) < 1e-9);
    assert_true(fabs(compound(on, "Is the food bad?") - compound(on, "The food is bad.")) < 1e-9);
    /* "not bad" stays positive, just less so than without the bias. */
    assert_true(compound(on, "The food was not bad.") >= 0.05);
    assert_true(compound(on, "The food was not bad.") < compound(off, "The food was not bad."));
    /* un + a positive word the lexicon lacks: negative; off: unknown (0). */
    assert_true(compound(on, "It was unfunny.") <= -0.05);
    assert_true(compound(on, "The plot was unconvincing.") <= -0.05);
    assert_true(fabs(compound(off, "It was unfunny.")) < 1e-9);
    /* A word the lexicon has keeps its own valence ("unhappy"), and a
     * negative base is not flipped ("limited" -> "unlimited" stays unknown). */
    assert_true(compound(on, "She was unhappy.") <= -0.05);
    assert_true(fabs(compound(on, "Data is unlimited.")) < 1e-9);
    tm_testhost_close(&on);
    tm_testhost_close(&off);
}

static void test_boosters(void **state)
{
    (void)state;
    double good = compound(g_th, "The food was good."),
           very = compound(g_th, "The food was very good."),
           extremely = compound(g_th, "The food was extremely good."),
           slightly = compound(g_th, "The food was slightly good."),
           kindof = compound(g_th, "The food was kind of good.");
    assert_true(very > good);
    assert_true(extremely > good);
    assert_true(slightly < good && slightly > 0);
    assert_true(kindof < good && kindof > 0); /* a two-word dampener */
    /* Boosters intensify negatives too. */
    assert_true(compound(g_th, "The food was very bad.") < compound(g_th, "The food was bad."));
}

static void test_but(void **state)
{
    (void)state;
    /* What follows "but" weighs more than what precedes it. */
    double a = compound(g_th, "The food was good, but the service was terrible.");
    double b = compound(g_th, "The service was terrible, but the food was good.");
    assert_true(a < 0);
    assert_true(b > 0);
    /* Per sentence: a "but" does not reach into the next sentence. */
    tm_doc_t *doc = run_text(g_th, "The food was great. But the wait was awful.", (size_t)-1);
    const cJSON *s = cJSON_GetObjectItem(ann(doc), "sentences");
    assert_int_equal(cJSON_GetArraySize(s), 2);
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(s, 0), "compound")->valuedouble > 0);
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(s, 1), "compound")->valuedouble < 0);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(s, 0), "start")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(s, 0), "end")->valueint, 19);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(s, 1), "start")->valueint, 20);
    tm_doc_destroy(&doc);
}

static void test_caps_and_punctuation(void **state)
{
    (void)state;
    double plain = compound(g_th, "The show was good");
    assert_true(compound(g_th, "The show was GOOD") > plain);
    assert_true(compound(g_th, "The show was good!") > plain);
    assert_true(compound(g_th, "The show was good!!!") > compound(g_th, "The show was good!"));
    /* Every word in capitals: no emphasis (nothing stands out). */
    assert_true(fabs(compound(g_th, "THE SHOW WAS GOOD") - plain) < 1e-3);
    /* Exclamation marks count up to four; thousands change nothing more. */
    char *flood = malloc(20000);
    strcpy(flood, "The show was good");
    memset(flood + 17, '!', 10000);
    flood[10017] = '\0';
    double many = compound(g_th, flood);
    assert_true(fabs(many - compound(g_th, "The show was good!!!!")) < 1e-3);
    assert_true(many < 1.0);
    memset(flood, '!', 15000);
    flood[15000] = '\0';
    assert_true(compound(g_th, flood) == 0.0);
    free(flood);
}

static void test_idioms(void **state)
{
    (void)state;
    assert_true(compound(g_th, "That party was the bomb") > 0.3);     /* "bomb" alone is negative */
    assert_true(compound(g_th, "The merger was the kiss of death") < 0);
    assert_true(compound(g_th, "She felt under the weather") < 0);    /* no lexicon word at all */
    assert_true(fabs(compound(g_th, "We waited at the bus stop")) < 0.05);
    assert_true(compound(g_th, "Yeah right, great plan") < compound(g_th, "Great plan"));
}

static void test_emoji(void **state)
{
    (void)state;
    assert_true(compound(g_th, "Exam results today \xf0\x9f\x98\x80") > 0);    /* grinning face */
    assert_true(compound(g_th, "Exam results today \xf0\x9f\x98\xa2") < 0);    /* crying face */
    assert_true(compound(g_th, "Exam results today :)") > 0);
    assert_true(compound(g_th, "Exam results today :(") < 0);
    /* Sequences: ZWJ families, skin tones, flags, keycaps, lone modifiers. */
    compound(g_th, "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7"
                   "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\xf0\x9f\x87\xab\xf0\x9f\x87\xb7 1\xef\xb8\x8f\xe2\x83\xa3"
                   "\xf0\x9f\x8f\xbb\xe2\x80\x8d\xe2\x80\x8d\xef\xb8\x8f");
    char buf[4 * 3000 + 1];
    for (int i = 0; i < 3000; i++)
        memcpy(buf + 4 * i, "\xf0\x9f\x98\x8d", 4); /* 3000 x heart eyes */
    buf[sizeof buf - 1] = '\0';
    double c = compound(g_th, buf);
    assert_true(c > 0.9 && c <= 1.0);
}

static void test_internal_words(void **state)
{
    (void)state;
    /* Names of JavaScript internals are just unknown words here. */
    assert_true(compound(g_th, "constructor") == 0.0);
    assert_true(compound(g_th, "__proto__ constructor toString hasOwnProperty valueOf") == 0.0);
    assert_true(compound(g_th, "The constructor was great") > 0);
    assert_true(compound(g_th, "The constructor was great") ==
                compound(g_th, "The carpenter was great"));
}

/* A web address makes no tokens: its pieces ("http", "com", "bad") are not
 * words of the text. */
static void test_web_addresses(void **state)
{
    (void)state;
    double plain = compound(g_th, "I love it");
    assert_true(plain > 0.3);
    assert_true(fabs(compound(g_th, "I love it http://example.com/bad-awful-hate") - plain) < 1e-9);
    assert_true(fabs(compound(g_th, "I love it HTTPS://x.org/terrible") - plain) < 1e-9);
    assert_true(fabs(compound(g_th, "I love it www.hate.com") - plain) < 1e-9);
    /* A word that merely starts like one is still a word. */
    assert_true(compound(g_th, "I love it, wwwhat a terrible day") < plain);
}

static void test_no_letters(void **state)
{
    (void)state;
    assert_true(compound(g_th, "1234 5678 ... --- ??? ***") == 0.0);
    assert_true(compound(g_th, "   \n\n\t  ") == 0.0);
    assert_true(compound(g_th, "") == 0.0);
}

static void test_big_document(void **state)
{
    (void)state;
    const char *unit = "Mr. Smith said the plan was a terrible failure. Ms. Jones praised "
                       "the wonderful team! \xf0\x9f\x98\x80 The weather was fine.\n";
    size_t ul = strlen(unit), n = (4u << 20) / ul;
    char *big = malloc(n * ul + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(big + i * ul, unit, ul);
    big[n * ul] = '\0';
    tm_doc_t *doc = run_text(g_th, big, n * ul);
    const cJSON *a = ann(doc);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(a, "sentences")) >= (int)(3 * n));
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(a, "entities")) >= 2);
    tm_doc_destroy(&doc);
    /* One 4 MB "sentence" of capitalised words: bounded by max_mentions. */
    for (size_t i = 0; i + 6 < n * ul; i += 6)
        memcpy(big + i, "Trump ", 6);
    doc = run_text(g_th, big, n * ul);
    tm_doc_destroy(&doc);
    free(big);
}

static void test_custom_lexicon(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = open_stage("{\"lexicon\": \"" TM_SENTIMENT_TESTDATA "/custom_lexicon.txt\", "
                                   "\"entities\": false}",
                                   &err);
    assert_non_null(th);
    assert_true(compound(th, "What a zorgle day") > 0.3);
    assert_true(compound(th, "What a blarf day") < -0.3);
    assert_true(compound(th, "not zorgle") < 0); /* the rules apply to user words */
    tm_doc_t *doc = run_text(th, "zorgle", (size_t)-1);
    assert_null(cJSON_GetObjectItem(ann(doc), "entities"));
    tm_doc_destroy(&doc);
    tm_testhost_close(&th);
}

/* Phrases and emoticons of a user's lexicon pass the lookup filters that
 * sl_freeze builds (phrases' first word pairs, emoticons' end bytes). */
static void test_lookup_filters(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = open_stage("{\"extra_lexicons\": [\"" TM_SENTIMENT_TESTDATA
                                   "/filter_lexicon.txt\"], \"entities\": false}",
                                   &err);
    assert_non_null(th);
    assert_true(compound(th, "there was zorp blat fnord here") > 0.3); /* three-word phrase */
    assert_true(compound(th, "there was quux wibble here") < -0.3);    /* two-word phrase */
    assert_true(compound(th, "there was ZORP Blat fnord here") > 0.3); /* any case */
    assert_float_equal(compound(th, "there was zorp blat here"), 0, 1e-9); /* a prefix only */
    assert_float_equal(compound(th, "there was blat fnord here"), 0, 1e-9);
    assert_true(compound(th, "there it was %-]") > 0.3);         /* emoticon */
    assert_float_equal(compound(th, "there it was %-}"), 0, 1e-9);
    tm_testhost_close(&th);
}

/* Write bytes to a new temporary file; its path goes to path (room 64). */
static void write_temp(char *path, const char *bytes, size_t n)
{
    strcpy(path, "/tmp/test_sentiment_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The loaders' line handling (a byte order mark, CR LF and CR CR LF ends,
 * a blank line, a last line without its end), numbers parsed without strtod
 * giving the values strtod gives, line numbers in messages, and the emoji
 * table's first-code-point filter (a quotation mark sharing its first two
 * bytes with an emoji key matches nothing; a key starting with ASCII '#'
 * still matches). */
static void test_loader_lines_numbers_emoji(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    char path[64];
    static const char val[] = "\xef\xbb\xbf" "alpha\t1.5\r\nbeta\t-0.25\r\r\n\ngamma\t.5\n"
                              "delta\t1.\nepsilon\t0.1234567890123456\neta\t-3.999\tx\nzeta\t2";
    write_temp(path, val, sizeof val - 1);
    sl_lexicon_t lx;
    assert_int_equal(sl_init(&lx), TM_OK);
    assert_int_equal(sl_load_valences(&lx, path, &err), TM_OK);
    static const struct {
        const char *word, *num;
    } want[] = {{"alpha", "1.5"}, {"beta", "-0.25"}, {"gamma", ".5"}, {"delta", "1."},
                {"epsilon", "0.1234567890123456"}, {"eta", "-3.999"}, {"zeta", "2"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const sl_entry_t *e = sl_get(&lx, want[i].word, strlen(want[i].word));
        assert_non_null(e);
        assert_true(e->valence == (float)strtod(want[i].num, NULL));
    }
    assert_int_equal(lx.count, 7);
    remove(path);

    static const char bad[] = "a\t1\r\nb\t0.5\n\nc\t1.5x\n";
    write_temp(path, bad, sizeof bad - 1);
    assert_int_equal(sl_load_valences(&lx, path, &err), TM_EINVAL);
    assert_string_equal(err.code, "lexicon_invalid");
    assert_contains(err.message, ":4: valence \"1.5x\" of \"c\" is not a finite number");
    remove(path);

    /* U+203C (e2 80 bc) and a keycap "#" sequence. */
    static const char emo[] = "\xe2\x80\xbc\tdouble exclamation mark\n"
                              "#\xef\xb8\x8f\xe2\x83\xa3\tkeycap number sign\n";
    write_temp(path, emo, sizeof emo - 1);
    assert_int_equal(sl_load_emoji(&lx, path, &err), TM_OK);
    remove(path);
    size_t used = 0;
    const char *q = "\xe2\x80\x9cHi"; /* U+201C: e2 80 9c */
    assert_null(sl_emoji_match(&lx, q, strlen(q), &used));
    const char *x = "\xe2\x80\xbc!";
    const sl_emoji_t *em = sl_emoji_match(&lx, x, strlen(x), &used);
    assert_non_null(em);
    assert_int_equal(used, 3);
    assert_int_equal(em->nwords, 3);
    const char *k = "#\xef\xb8\x8f\xe2\x83\xa3x";
    em = sl_emoji_match(&lx, k, strlen(k), &used);
    assert_non_null(em);
    assert_int_equal(used, 7);
    assert_null(sl_emoji_match(&lx, "#ab", 3, &used));
    sl_free(&lx);
}

static void expect_create_error(const char *config, const char *code, const char *needle)
{
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = open_stage(config, &err);
    if (th != NULL) {
        tm_testhost_close(&th);
        fail_msg("create() accepted %s", config);
    }
    assert_string_equal(err.code, code);
    assert_contains(err.message, needle);
}

static void test_invalid_files(void **state)
{
    (void)state;
    expect_create_error("{\"lexicon\": \"" TM_SENTIMENT_TESTDATA "/bad_valence.txt\"}",
                        "lexicon_invalid", "bad_valence.txt:3: valence \"very\"");
    expect_create_error("{\"lexicon\": \"" TM_SENTIMENT_TESTDATA "/bad_notab.txt\"}",
                        "lexicon_invalid", "bad_notab.txt:2: expected TOKEN<TAB>VALENCE");
    expect_create_error("{\"lexicon\": \"" TM_SENTIMENT_TESTDATA "/bad_range.txt\"}",
                        "lexicon_invalid", "bad_range.txt:1: valence 9.5");
    expect_create_error("{\"lexicon\": \"" TM_SENTIMENT_TESTDATA "/no_such_file.txt\"}",
                        "lexicon_unreadable", "no_such_file.txt");
    expect_create_error("{\"extra_lexicons\": [\"" TM_SENTIMENT_TESTDATA "/bad_range.txt\"]}",
                        "lexicon_invalid", "bad_range.txt:1:");
    expect_create_error("{\"rules\": [\"" TM_SENTIMENT_TESTDATA "/bad_rules.txt\"]}",
                        "lexicon_invalid", "bad_rules.txt:3: booster \"much\" needs a number");
    expect_create_error("{\"names\": [\"" TM_SENTIMENT_TESTDATA "/bad_kind.txt\"]}",
                        "lexicon_invalid", "bad_kind.txt:2: unknown kind \"mystery\"");
    expect_create_error("{\"people_model\": \"" TM_SENTIMENT_TESTDATA "/bad_model.txt\"}",
                        "model_invalid", "bad_model.txt:4: feature index");
    expect_create_error("{\"people_model\": \"" TM_SENTIMENT_TESTDATA "/bad_model_nan.txt\"}",
                        "model_invalid", "bad_model_nan.txt:4: expected 3 finite weights");
    expect_create_error("{\"people_model\": \"" TM_SENTIMENT_TESTDATA "/bad_model_rows.txt\"}",
                        "model_invalid", "bad_model_rows.txt:4: row index missing, not increasing");
    expect_create_error("{\"people_model\": \"" TM_SENTIMENT_TESTDATA "/bad_model_rows_short.txt\"}",
                        "model_invalid", "bad_model_rows_short.txt:5: expected 3 integer weights");
    expect_create_error("{\"rules\": [\"" TM_SENTIMENT_TESTDATA "/bad_lean.txt\"]}",
                        "lexicon_invalid", "bad_lean.txt:3: lean \"way too\" must be one word");
    expect_create_error("{\"rules\": [\"" TM_SENTIMENT_TESTDATA "/bad_lean_range.txt\"]}",
                        "lexicon_invalid", "bad_lean_range.txt:2: lean \"only\" must be one word with a value between -1.27");
    expect_create_error("{\"people_bias\": [1, 2]}", "bad_config", "people_bias");
    /* The host's own validation of the parameter table. */
    expect_create_error("{\"alpha\": -1}", "bad_config", "alpha");
}

/* The compact "rows" form of the model file loads the same weights as "w"
 * lines: compare the summed scores of single features. */
static void test_model_rows_format(void **state)
{
    (void)state;
    pm_model_t a, b;
    tm_err_t err;
    memset(&err, 0, sizeof err);
    assert_int_equal(pm_load(&a, TM_SENTIMENT_TESTDATA "/model_w.txt", &err), TM_OK);
    assert_int_equal(pm_load(&b, TM_SENTIMENT_TESTDATA "/model_rows.txt", &err), TM_OK);
    static const uint32_t idx[] = {3, 4, 5};
    static const double want[][PM_CLASSES] = {{1, 0, -1}, {0, 0, 0}, {0.0005, 0.0006, -0.25}};
    for (size_t i = 0; i < 3; i++) {
        pm_feat_t ft = {idx[i], 1.0f};
        pm_feats_t fv = {.f = &ft, .n = 1, .cap = 1};
        double za[PM_CLASSES], zb[PM_CLASSES];
        pm_scores(&a, &fv, za);
        pm_scores(&b, &fv, zb);
        for (int k = 0; k < PM_CLASSES; k++) {
            assert_true(fabs(za[k] - want[i][k]) < 1e-4);
            assert_true(fabs(zb[k] - za[k]) < 1e-6);
        }
    }
    pm_free(&a);
    pm_free(&b);
    /* A hashing space smaller than one bitmap word (dim 16). */
    assert_int_equal(pm_load(&a, TM_SENTIMENT_TESTDATA "/model_dim16.txt", &err), TM_OK);
    pm_feat_t f16[2] = {{15, 1.0f}, {31, 1.0f}}; /* 31 folds onto 15 */
    pm_feats_t v16 = {.f = f16, .n = 2, .cap = 2};
    double z16[PM_CLASSES];
    pm_scores(&a, &v16, z16);
    assert_true(fabs(z16[0] - 2) < 1e-3 && fabs(z16[1]) < 1e-6 && fabs(z16[2] + 2) < 1e-3);
    pm_free(&a);
}

/* The entity whose name is name, or NULL. */
static const cJSON *entity(const cJSON *a, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(a, "entities")) {
        if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name) == 0)
            return e;
    }
    return NULL;
}

static int has_mention(const cJSON *e, int start, int end)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(e, "mentions")) {
        if (cJSON_GetObjectItem(m, "start")->valueint == start &&
            cJSON_GetObjectItem(m, "end")->valueint == end)
            return 1;
    }
    return 0;
}

static void test_entities_detected(void **state)
{
    (void)state;
    const char *text = "Mr. Trump attacked Hillary Clinton on Monday. He said she was a liar.\n"
                       "Clinton praised the wonderful volunteers of her campaign.";
    tm_doc_t *doc = run_text(g_th, text, (size_t)-1);
    const cJSON *a = ann(doc);
    const cJSON *trump = entity(a, "Trump"), *clinton = entity(a, "Hillary Clinton");
    assert_non_null(trump);
    assert_non_null(clinton);
    assert_true(has_mention(trump, 0, 9));     /* "Mr. Trump", title included */
    assert_true(has_mention(trump, 46, 48));   /* "He": Mr. makes Trump male */
    assert_true(has_mention(clinton, 19, 34));
    assert_true(has_mention(clinton, 54, 57)); /* "she" */
    assert_true(has_mention(clinton, 70, 77)); /* "Clinton": surname coreference */
    assert_null(entity(a, "Monday"));
    const cJSON *ev = cJSON_GetObjectItem(clinton, "evidence");
    assert_int_equal(cJSON_GetArraySize(ev), 3); /* one per sentence with a mention */
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 2), "start")->valueint, 70);
    const char *label = cJSON_GetObjectItem(clinton, "label")->valuestring;
    double c = cJSON_GetObjectItem(clinton, "compound")->valuedouble;
    assert_true((strcmp(label, "positive") == 0) == (c >= 0.05));
    assert_true((strcmp(label, "negative") == 0) == (c <= -0.05));
    tm_doc_destroy(&doc);
}

static void test_entities_names(void **state)
{
    (void)state;
    /* Titles and organisations around a name; a pronoun with no antecedent. */
    const char *text = "House Judiciary Committee Chairman Jerry Nadler said he expects "
                       "trouble, said the White House.";
    tm_doc_t *doc = run_text(g_th, text, (size_t)-1);
    const cJSON *a = ann(doc);
    const cJSON *n = entity(a, "Jerry Nadler");
    assert_non_null(n);
    assert_true(has_mention(n, 26, 47)); /* "Chairman Jerry Nadler" */
    assert_null(entity(a, "White House"));
    assert_null(entity(a, "House Judiciary Committee"));
    tm_doc_destroy(&doc);
    doc = run_text(g_th, "He said the plan was a disaster.", (size_t)-1);
    const cJSON *he = entity(ann(doc), "he");
    assert_non_null(he);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(he, "unresolved")));
    tm_doc_destroy(&doc);
}

static void test_entities_from_quotes_stage(void **state)
{
    (void)state;
    const char *text = "\"This treaty is a disgrace,\" Putin told reporters. "
                       "Vladimir Putin later met Angela Merkel.";
    /* quote 0..28; "Putin" 29..34; "Vladimir Putin" 51..65; "Angela Merkel" 76..89 */
    tm_err_t err = {{0}, {0}};
    tm_doc_t *doc = tm_testhost_doc("q", text, (size_t)-1, NULL);
    const tm_host_t *h = tm_testhost_host(g_th);
    cJSON *quotes = cJSON_Parse("[{\"start\": 0, \"end\": 28, \"text\": \"This treaty is a disgrace,\","
                                " \"speaker\": \"Vladimir Putin\", \"speaker_mention\": \"Putin\","
                                " \"speaker_start\": 29, \"speaker_end\": 34, \"cue\": \"told\", \"type\": "
                                "\"direct\", \"confidence\": 0.9},"
                                " {\"start\": 5, \"end\": 1}]");
    cJSON *speakers = cJSON_Parse("[{\"name\": \"Vladimir Putin\", \"role\": \"president\", "
                                  "\"mentions\": [{\"start\": 29, \"end\": 34, \"text\": \"Putin\"},"
                                  " {\"start\": 51, \"end\": 65, \"text\": \"Vladimir Putin\"}],"
                                  " \"quotes\": [0]}]");
    assert_int_equal(h->doc_annotate(doc, "quotes", quotes), TM_OK);
    assert_int_equal(h->doc_annotate(doc, "speakers", speakers), TM_OK);
    assert_int_equal(tm_testhost_run(g_th, doc, &err), TM_OK);
    const cJSON *a = ann(doc);
    check_numbers(a);
    /* One compound per quote, in the same order, keyed by its offsets. */
    const cJSON *q = cJSON_GetObjectItem(a, "quotes");
    assert_int_equal(cJSON_GetArraySize(q), 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(q, 0), "end")->valueint, 28);
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(q, 0), "compound")->valuedouble < -0.05);
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(q, 1), "compound")->valuedouble == 0.0);
    /* The quotes stage's canonical name and mentions; own detection adds Merkel. */
    const cJSON *putin = entity(a, "Vladimir Putin");
    assert_non_null(putin);
    assert_string_equal(cJSON_GetObjectItem(putin, "source")->valuestring, "quotes");
    assert_true(has_mention(putin, 29, 34));
    assert_true(has_mention(putin, 51, 65));
    assert_null(entity(a, "Putin"));
    assert_non_null(entity(a, "Angela Merkel"));
    tm_doc_destroy(&doc);
}

static void test_meta_targets(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    const char *text = "the senator from ohio was praised for his courage.";
    tm_doc_t *doc = tm_testhost_doc("m", text, (size_t)-1, NULL);
    doc->meta = cJSON_Parse("{\"sentiment_targets\": [{\"start\": 4, \"end\": 21, "
                            "\"name\": \"Rob Portman\"}, {\"start\": 900, \"end\": 5}]}");
    assert_int_equal(tm_testhost_run(g_th, doc, &err), TM_OK);
    const cJSON *a = ann(doc);
    const cJSON *e = entity(a, "Rob Portman");
    assert_non_null(e);
    /* The span overlaps the detected "the senator" (0..11): that mention is
     * reused and its person takes the name the user gave; "his" is theirs. */
    assert_true(has_mention(e, 0, 11));
    assert_true(has_mention(e, 38, 41));
    assert_null(entity(a, "the senator"));
    tm_doc_destroy(&doc);
    /* A span nothing was detected in becomes a person of its own. */
    doc = tm_testhost_doc("m2", "voters loved the plan", (size_t)-1, NULL);
    doc->meta = cJSON_Parse("{\"sentiment_targets\": [{\"start\": 0, \"end\": 6}]}");
    assert_int_equal(tm_testhost_run(g_th, doc, &err), TM_OK);
    e = entity(ann(doc), "voters");
    assert_non_null(e);
    assert_true(has_mention(e, 0, 6));
    tm_doc_destroy(&doc);
}

/* The shipped lexicon: valences, rules and names, frozen. */
static void load_shipped_lexicon(sl_lexicon_t *lx, tm_err_t *err)
{
    assert_int_equal(sl_init(lx), TM_OK);
    assert_int_equal(sl_load_valences(lx, TM_SENTIMENT_DATA "/vader_lexicon.txt", err), TM_OK);
    assert_int_equal(sl_load_rules(lx, TM_SENTIMENT_DATA "/rules.txt", err), TM_OK);
    assert_int_equal(sl_load_rules(lx, TM_SENTIMENT_DATA "/names.txt", err), TM_OK);
    assert_int_equal(sl_freeze(lx), TM_OK);
}

/* A token the tokenizer should make: offsets, lower-case form, flags and
 * sentence. */
typedef struct {
    uint32_t start, end;
    const char *low;
    uint16_t flags;
    uint32_t sent;
} tok_want_t;

/* Tokenize text into d (initialised here; the caller frees it) and check
 * every token against want[0, n): the fields above, the form's hash and its
 * lexicon entry. */
static void tokenize_as_wanted(st_doc_t *d, const sl_lexicon_t *lx, const char *text,
                               const tok_want_t *want, size_t n)
{
    st_doc_init(d);
    assert_int_equal(st_tokenize(d, lx, text, strlen(text)), TM_OK);
    assert_int_equal(d->ntok, n);
    for (size_t i = 0; i < d->ntok; i++) {
        const st_token_t *t = &d->tok[i];
        assert_int_equal(t->start, want[i].start);
        assert_int_equal(t->end, want[i].end);
        assert_string_equal(st_low(d, t), want[i].low);
        assert_int_equal(t->flags, want[i].flags);
        assert_int_equal(t->sent, want[i].sent);
        assert_true(t->hash == sl_hash(want[i].low, strlen(want[i].low)));
        assert_true(t->e == sl_get(lx, want[i].low, strlen(want[i].low)));
    }
}

/* The tokenizer's chunk shapes: the one-pass path (a word, maybe joined by
 * connectors, then punctuation) and the general one (short chunks with
 * punctuation, leading punctuation, digits first, web addresses) give the
 * forms, offsets, flags and sentences below. */
static void test_tokenizer_shapes(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    sl_lexicon_t lx;
    load_shipped_lexicon(&lx, &err);
    const char *text = "Trump's U.S. policy, www.example.com it. I'm 5. Don't e-mail ABC \"Yes.\" "
                       "said: 3M:-) rock'n'roll--fun";
    static const tok_want_t want[] = {
        {0, 7, "trump", TK_CAP | TK_ALPHA | TK_WEIRD | TK_POSS, 0},
        {8, 11, "u.s", TK_UPPER | TK_CAP | TK_ALPHA | TK_WEIRD | TK_DOT_AFTER, 0},
        {13, 19, "policy", TK_ALPHA | TK_COMMA_AFTER, 0},
        {37, 39, "it", TK_ALPHA | TK_DOT_AFTER, 0},
        {41, 44, "i'm", TK_CAP | TK_ALPHA | TK_WEIRD, 1},
        {45, 46, "5", TK_DIGIT | TK_DOT_AFTER, 1},
        {48, 53, "don't", TK_CAP | TK_ALPHA | TK_NT | TK_WEIRD, 2},
        {54, 60, "e-mail", TK_ALPHA | TK_WEIRD, 2},
        {61, 64, "abc", TK_UPPER | TK_CAP | TK_ALPHA | TK_QUOTE_AFTER, 2},
        {66, 69, "yes", TK_CAP | TK_ALPHA | TK_IN_QUOTE | TK_DOT_AFTER | TK_QUOTE_BEFORE | TK_QUOTE_AFTER, 2},
        {72, 76, "said", TK_ALPHA | TK_QUOTE_BEFORE | TK_COMMA_AFTER, 3},
        {78, 80, "3m", TK_UPPER | TK_CAP | TK_ALPHA | TK_DIGIT | TK_COMMA_AFTER, 3},
        {84, 95, "rock'n'roll", TK_ALPHA | TK_WEIRD, 3},
        {97, 100, "fun", TK_ALPHA, 3},
    };
    st_doc_t d;
    tokenize_as_wanted(&d, &lx, text, want, sizeof want / sizeof want[0]);
    assert_int_equal(d.nsent, 4);
    /* The lists the people rules and the scorer walk (st_doc_t.cand, .capw
     * and .scand): exactly the tokens their definitions name, in order; and
     * the scorer's fields as the scorer would set them for a word it does
     * not set up (eflags: the entry's flags). */
    size_t nc = 0, nw = 0, ns = 0;
    for (size_t i = 0; i < d.ntok; i++) {
        const st_token_t *t = &d.tok[i];
        if (t->e != NULL && (t->low_len == 3 || (t->lxflags & SL_PRONOUN))) {
            assert_true(nc < d.ncand);
            assert_int_equal(d.cand[nc++], i);
        }
        if (t->flags & (TK_CAP | TK_WEIRD)) {
            assert_true(nw < d.ncapw);
            assert_int_equal(d.capw[nw++], i);
        }
        if ((t->lxflags & ST_SCORER_FLAGS) || (t->flags & TK_NT) || (t->e != NULL && t->e->lean != 0)) {
            assert_true(ns < d.nscand);
            assert_int_equal(d.scand[ns++], i);
        }
        assert_int_equal(t->phrase_len, 1);
        assert_int_equal(t->eflags, t->e != NULL ? t->e->flags : 0);
        assert_true(t->lex == 0.0f && t->boost == 0.0f && t->score == 0.0f);
    }
    assert_int_equal(nc, d.ncand);
    assert_int_equal(nw, d.ncapw);
    assert_int_equal(ns, d.nscand);
    assert_true(d.nscand >= 3); /* "don't" (n't), "yes" and "fun" */
    assert_int_equal(d.ncapw, 9); /* trump u.s i'm don't e-mail abc yes 3m rock'n'roll */
    assert_true(d.ncand >= 2);    /* "yes" and "fun" have entries */
    st_doc_free(&d);
    sl_free(&lx);
}


/* sv_compound_range (a quote's compound) adds every unskipped token's score
 * and its own weight (negation_bias for a negation or a word in n't, the
 * "lean" value of a lean word before another word of its sentence): the
 * same as that sum made here over every token, including a word in n't
 * without lexicon entry ("blorbn't"), negations, a contrast, a lean word
 * and an idiom whose first word has no valence of its own ("in the black");
 * fails when the function leaves out tokens that add something. */
static void test_compound_range_sum(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    sl_lexicon_t lx;
    load_shipped_lexicon(&lx, &err);
    const char *text = "It blorbn't work, and it was not a good day. The plan was too long but "
                       "the staff were wonderful and kind! Nobody liked the awful, awful food? "
                       "The firm is in the black now.";
    st_doc_t d;
    st_doc_init(&d);
    assert_int_equal(st_tokenize(&d, &lx, text, strlen(text)), TM_OK);
    sv_params_t sp;
    sv_params_default(&sp);
    sp.negation_bias = -0.4;
    sv_params_prepare(&sp);
    sv_score(&d, &lx, &sp);
    int saw_nt_noentry = 0;
    for (size_t i = 0; i < d.ntok; i++)
        saw_nt_noentry |= d.tok[i].e == NULL && (d.tok[i].flags & TK_NT);
    assert_true(saw_nt_noentry);
    /* The idiom scored on its first word, "in". */
    int saw_idiom = 0;
    for (size_t i = 0; i + 2 < d.ntok; i++)
        saw_idiom |= d.tok[i].low_len == 2 && memcmp(st_low(&d, &d.tok[i]), "in", 2) == 0 &&
                     d.tok[i].score > 0 && (d.tok[i + 1].flags & TK_SKIP);
    assert_true(saw_idiom);
    size_t ranges[][2] = {{0, d.ntok}, {0, 3}, {1, 2}, {2, d.ntok - 1}, {d.ntok / 2, d.ntok + 5},
                          {d.ntok - 5, d.ntok}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        size_t a = ranges[r][0], b = ranges[r][1] < d.ntok ? ranges[r][1] : d.ntok;
        double s = 0;
        for (size_t i = a; i < b; i++) {
            const st_token_t *t = &d.tok[i];
            if (t->flags & TK_SKIP)
                continue;
            s += t->score;
            if ((t->eflags & SL_NEGATION) || (t->flags & TK_NT))
                s += sp.negation_bias;
            else if (t->e != NULL && t->e->lean != 0 && i + 1 < d.ntok &&
                     d.tok[i + 1].sent == t->sent && !(t->flags & (TK_COMMA_AFTER | TK_DOT_AFTER)) &&
                     (d.tok[i + 1].flags & TK_ALPHA))
                s += t->e->lean * 0.01;
        }
        if (s > 0)
            s = fmax(0.0, s - sp.neutral_band);
        else if (s < 0)
            s = fmin(0.0, s + sp.neutral_band);
        double amp = sv_punct(&sp, 1, 0);
        if (s > 0)
            s += amp;
        else if (s < 0)
            s -= amp;
        double want = sv_normalize(s, sp.alpha);
        assert_true(want == sv_compound_range(&d, &sp, a, ranges[r][1], 1, 0));
    }
    /* The first range has negations: it is not neutral. */
    assert_true(sv_compound_range(&d, &sp, 0, 3, 0, 0) < 0);
    st_doc_free(&d);
    sl_free(&lx);
}

/* Typographic apostrophes inside words and closing quotation marks after
 * them (the one-pass chunk takes both): forms, offsets, flags and
 * sentences as the general path gives them ("\u2019" is written as '\'',
 * adds no TK_WEIRD, and makes possessives and n't). */
static void test_tokenizer_typographic(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    sl_lexicon_t lx;
    load_shipped_lexicon(&lx, &err);
    const char *text = "A Trump\xe2\x80\x99s team said.\xe2\x80\x9d He don\xe2\x80\x99t know,"
                       "\xe2\x80\x9d Jones\xe2\x80\x99 90\xe2\x80\x99s Ok\xe2\x80\x9d";
    static const tok_want_t want[] = {
        {0, 1, "a", TK_UPPER | TK_CAP | TK_ALPHA, 0},
        {2, 11, "trump", TK_CAP | TK_ALPHA | TK_POSS, 0},
        {12, 16, "team", TK_ALPHA, 0},
        {17, 21, "said", TK_ALPHA | TK_DOT_AFTER | TK_QUOTE_AFTER, 0},
        {26, 28, "he", TK_CAP | TK_ALPHA | TK_QUOTE_BEFORE, 1},
        {29, 36, "don't", TK_ALPHA | TK_NT, 1},
        {37, 41, "know", TK_ALPHA | TK_COMMA_AFTER | TK_QUOTE_AFTER, 1},
        {46, 51, "jones", TK_CAP | TK_ALPHA | TK_QUOTE_BEFORE, 1},
        {55, 61, "90", TK_ALPHA | TK_DIGIT | TK_POSS, 1},
        {62, 64, "ok", TK_CAP | TK_ALPHA | TK_QUOTE_AFTER, 1},
    };
    st_doc_t d;
    tokenize_as_wanted(&d, &lx, text, want, sizeof want / sizeof want[0]);
    assert_int_equal(d.nsent, 2);
    assert_int_equal(d.sent[0].end, 25); /* past the closing mark */
    assert_int_equal(d.sent[1].start, 26);
    st_doc_free(&d);
    sl_free(&lx);
}

/* The word lane (plain words followed by one space, ", " or ". ") gives
 * what the general paths give: the same text with tabs for the spaces,
 * which the lane leaves to them, has the same tokens (every field the
 * tokenizer sets), sentences and lists; and a few of the lane's words have
 * the flags and sentences below. */
static void test_tokenizer_word_lane(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    sl_lexicon_t lx;
    load_shipped_lexicon(&lx, &err);
    const char *text = "\"Alpha beta2 GAMMA, delta. Www. wow. Mr. Smith went 3rd, x, yes. He said "
                       "good things.\nzeta, eta.\nTheta 1234567890123456 abcdefghijklmnop said\" "
                       "fine, ok. The end came here and she was happy                    ";
    size_t len = strlen(text);
    char *tabs = strdup(text);
    assert_non_null(tabs);
    for (size_t i = 0; i < len; i++)
        if (tabs[i] == ' ')
            tabs[i] = '\t';
    st_doc_t a, b;
    st_doc_init(&a);
    st_doc_init(&b);
    assert_int_equal(st_tokenize(&a, &lx, text, len), TM_OK);
    assert_int_equal(st_tokenize(&b, &lx, tabs, len), TM_OK);
    assert_true(a.ntok > 30);
    assert_int_equal(a.ntok, b.ntok);
    for (size_t i = 0; i < a.ntok; i++) {
        const st_token_t *x = &a.tok[i], *y = &b.tok[i];
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_string_equal(st_low(&a, x), st_low(&b, y));
        assert_int_equal(x->low_len, y->low_len);
        assert_int_equal(x->flags, y->flags);
        assert_int_equal(x->sent, y->sent);
        assert_true(x->hash == y->hash);
        assert_true(x->e == y->e);
        assert_int_equal(x->lxflags, y->lxflags);
        assert_int_equal(x->phrase_len, 1);
        assert_int_equal(x->eflags, x->lxflags);
    }
    assert_int_equal(a.nsent, b.nsent);
    for (size_t i = 0; i < a.nsent; i++) {
        assert_int_equal(a.sent[i].start, b.sent[i].start);
        assert_int_equal(a.sent[i].end, b.sent[i].end);
        assert_int_equal(a.sent[i].tok_begin, b.sent[i].tok_begin);
        assert_int_equal(a.sent[i].tok_end, b.sent[i].tok_end);
    }
    assert_int_equal(a.ncand, b.ncand);
    assert_memory_equal(a.cand, b.cand, a.ncand * sizeof *a.cand);
    assert_int_equal(a.ncapw, b.ncapw);
    assert_memory_equal(a.capw, b.capw, a.ncapw * sizeof *a.capw);
    assert_int_equal(a.nscand, b.nscand);
    assert_memory_equal(a.scand, b.scand, a.nscand * sizeof *a.scand);
    assert_int_equal(a.cap_diff, b.cap_diff);
    /* "GAMMA," inside the quote; "delta." ends the first sentence; "Mr." does
     * not end one; "eta." before a line break. */
    assert_string_equal(st_low(&a, &a.tok[2]), "gamma");
    assert_int_equal(a.tok[2].flags, TK_UPPER | TK_CAP | TK_ALPHA | TK_IN_QUOTE | TK_COMMA_AFTER);
    assert_string_equal(st_low(&a, &a.tok[3]), "delta");
    assert_int_equal(a.tok[3].flags, TK_ALPHA | TK_IN_QUOTE | TK_DOT_AFTER);
    assert_int_equal(a.tok[3].sent, 0);
    assert_int_equal(a.tok[4].sent, 1);
    assert_string_equal(st_low(&a, &a.tok[0]), "alpha");
    assert_int_equal(a.tok[0].flags, TK_CAP | TK_ALPHA | TK_IN_QUOTE | TK_QUOTE_BEFORE);
    assert_string_equal(st_low(&a, &a.tok[1]), "beta2");
    assert_int_equal(a.tok[1].flags, TK_ALPHA | TK_DIGIT | TK_IN_QUOTE);
    size_t smith = 0, eta = 0;
    for (size_t i = 0; i < a.ntok; i++) {
        if (strcmp(st_low(&a, &a.tok[i]), "smith") == 0)
            smith = i;
        if (strcmp(st_low(&a, &a.tok[i]), "eta") == 0)
            eta = i;
    }
    assert_true(smith > 0 && eta > 0);
    assert_int_equal(a.tok[smith].sent, a.tok[smith - 1].sent); /* Mr. Smith */
    assert_int_equal(a.tok[eta].flags & (TK_DOT_AFTER | TK_IN_QUOTE), TK_DOT_AFTER);
    assert_int_equal(a.tok[eta + 1].sent, a.tok[eta].sent + 1);
    st_doc_free(&a);
    st_doc_free(&b);
    free(tabs);
    sl_free(&lx);
}

/* The people model's sums made while the features are built (what the
 * stage uses) are bit-identical to pm__accumulate's over the feature list
 * (what the debug output and training read), and keeping the list or not
 * changes nothing. */
static void test_model_fused_sums(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    sl_lexicon_t lx;
    load_shipped_lexicon(&lx, &err);
    pm_model_t m;
    assert_int_equal(pm_load(&m, TM_SENTIMENT_DATA "/people_model.txt", &err), TM_OK);
    const char *text = "Senator Jane Doe praised the brave nurses on Monday. \"It was a wonderful, "
                       "wonderful day,\" Doe said. But Mr. Roe called her plan a terrible disaster, "
                       "and he blamed Doe for the awful delays.";
    st_doc_t d;
    st_doc_init(&d);
    assert_int_equal(st_tokenize(&d, &lx, text, strlen(text)), TM_OK);
    sv_params_t sp;
    sv_params_default(&sp);
    sv_params_prepare(&sp);
    sv_score(&d, &lx, &sp);
    pp_doc_t p;
    pp_doc_init(&p);
    p.lx = &lx;
    assert_int_equal(pp_find(&p, &d, NULL, NULL, NULL, 100), TM_OK);
    assert_true(p.nm >= 3);
    pm_feats_t keep = {0}, fused = {0}, other = {0};
    keep.model = fused.model = other.model = &m;
    keep.store = 1;
    for (size_t i = 0; i < p.nm; i++) {
        pm_sentinfo_t si1, si2;
        assert_true(pm_sentence_features(&d, &p, p.m[i].sent, m.dim, &fused, &si1));
        assert_true(pm_sentence_features(&d, &p, p.m[i].sent, m.dim, &other, &si2));
        assert_memory_equal(fused.acc, other.acc, sizeof fused.acc);
        assert_true(pm_features(&d, &p, &sp, i, m.dim, &si1, &fused));
        /* The nearest sentiment words from the sentence's list, as the
         * scans find them (nlex over the limit: the scans). */
        assert_true(si1.nlex <= PM_SENT_LEX);
        pm_sentinfo_t scan = si2;
        scan.nlex = PM_SENT_LEX + 1;
        assert_true(pm_features(&d, &p, &sp, i, m.dim, &scan, &other));
        assert_int_equal(other.n, 0);
        assert_memory_equal(fused.acc, other.acc, sizeof fused.acc);
    }
    for (size_t i = 0; i < p.nm; i++) {
        pm_sentinfo_t si1, si2;
        double z1[PM_CLASSES], z2[PM_CLASSES], z3[PM_CLASSES];
        assert_true(pm_sentence_features(&d, &p, p.m[i].sent, m.dim, &keep, &si1));
        assert_true(pm_sentence_features(&d, &p, p.m[i].sent, m.dim, &fused, &si2));
        assert_true(keep.n > 0);
        assert_int_equal(fused.n, 0);
        pm_scores(&m, &keep, z1);
        pm_scores_acc(&m, keep.acc, z2);
        pm_scores_acc(&m, fused.acc, z3);
        assert_memory_equal(z1, z2, sizeof z1);
        assert_memory_equal(z1, z3, sizeof z1);
        float p1[PM_CLASSES], p2[PM_CLASSES], p3[PM_CLASSES];
        assert_true(pm_features(&d, &p, &sp, i, m.dim, &si1, &keep));
        assert_true(pm_features(&d, &p, &sp, i, m.dim, &si2, &fused));
        assert_true(keep.n > 10);
        pm_predict(&m, &keep, NULL, z1, p1);
        pm_predict_acc(&m, keep.acc, NULL, z1, p2);
        pm_predict_acc(&m, fused.acc, NULL, z1, p3);
        assert_memory_equal(p1, p2, sizeof p1);
        assert_memory_equal(p1, p3, sizeof p1);
    }
    free(keep.f);
    free(fused.f);
    pp_doc_free(&p);
    st_doc_free(&d);
    pm_free(&m);
    sl_free(&lx);
}

/* A quote's compound counts the '!' in its span, wherever they fall (the
 * count takes 16 bytes at a time, then the rest). */
static double quote_compound(const char *text, size_t qend)
{
    tm_err_t err = {{0}, {0}};
    tm_doc_t *doc = tm_testhost_doc("qp", text, (size_t)-1, NULL);
    const tm_host_t *h = tm_testhost_host(g_th);
    char js[64];
    snprintf(js, sizeof js, "[{\"start\": 0, \"end\": %zu}]", qend);
    assert_int_equal(h->doc_annotate(doc, "quotes", cJSON_Parse(js)), TM_OK);
    assert_int_equal(tm_testhost_run(g_th, doc, &err), TM_OK);
    double c = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ann(doc), "quotes"), 0),
                                   "compound")->valuedouble;
    tm_doc_destroy(&doc);
    return c;
}

static void test_quote_exclamations(void **state)
{
    (void)state;
    /* 40 bytes of quote: one '!' inside the first 16-byte block, two in the tail. */
    const char *plain = "\"It is good. It was a good day, good..\" she said.";
    const char *one = "\"It is good! It was a good day, good..\" she said.";
    const char *three = "\"It is good! It was a good day, good!!\" she said.";
    double c0 = quote_compound(plain, 40), c1 = quote_compound(one, 40), c3 = quote_compound(three, 40);
    assert_true(c0 > 0.05);
    assert_true(c1 > c0);
    assert_true(c3 > c1);
    /* '!' outside the span do not count. */
    assert_true(quote_compound(three, 11) == quote_compound(plain, 11));
}

/* A quote's speaker span (speaker_start/speaker_end, as the quotes stage
 * writes them) marks the mention there as speaking; a mention elsewhere is
 * not marked. */
static void test_quote_speaker_span_marks_mention(void **state)
{
    (void)state;
    sl_lexicon_t lx;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(sl_init(&lx), TM_OK);
    assert_int_equal(sl_load_valences(&lx, TM_SENTIMENT_DATA "/vader_lexicon.txt", &err), TM_OK);
    assert_int_equal(sl_freeze(&lx), TM_OK);
    const char *text = "\"This treaty is a disgrace,\" Putin told reporters. "
                       "Vladimir Putin later met Angela Merkel.";
    st_doc_t d;
    st_doc_init(&d);
    assert_int_equal(st_tokenize(&d, &lx, text, strlen(text)), TM_OK);
    cJSON *quotes = cJSON_Parse("[{\"start\": 0, \"end\": 28, \"speaker\": \"Vladimir Putin\","
                                " \"speaker_mention\": \"Putin\", \"speaker_start\": 29,"
                                " \"speaker_end\": 34}]");
    cJSON *speakers = cJSON_Parse("[{\"name\": \"Vladimir Putin\", \"mentions\": ["
                                  "{\"start\": 29, \"end\": 34, \"text\": \"Putin\"},"
                                  " {\"start\": 51, \"end\": 65, \"text\": \"Vladimir Putin\"}]}]");
    pp_doc_t p;
    pp_doc_init(&p);
    p.lx = &lx;
    assert_int_equal(pp_find(&p, &d, quotes, speakers, NULL, 100), TM_OK);
    int spoke = -1, later = -1;
    for (size_t k = 0; k < p.nm; k++) {
        if (p.m[k].start == 29 && p.m[k].end == 34)
            spoke = p.m[k].speaker;
        if (p.m[k].start == 51 && p.m[k].end == 65)
            later = p.m[k].speaker;
    }
    assert_int_equal(spoke, 1);
    assert_int_equal(later, 0);
    cJSON_Delete(quotes);
    cJSON_Delete(speakers);
    pp_doc_free(&p);
    st_doc_free(&d);
    sl_free(&lx);
}

static void expect_num4(double v, const char *want)
{
    jw_buf_t b = {0};
    jw_num4(&b, v);
    jw_char(&b, '\0');
    assert_false(b.oom);
    assert_string_equal(b.s, want);
    jw_free(&b);
}

/* The pre-serialised lists: number and string formatting, and the same
 * result whether they are attached raw or as cJSON trees. */
static void test_json_output(void **state)
{
    (void)state;
    expect_num4(0, "0");
    expect_num4(-0.0, "0");
    expect_num4(0.00004, "0");
    expect_num4(-0.00005, "-0.0001");
    expect_num4(1, "1");
    expect_num4(-1, "-1");
    expect_num4(0.8461, "0.8461");
    expect_num4(0.25, "0.25");
    expect_num4(-0.10004, "-0.1");
    expect_num4(0.99996, "1");
    expect_num4(12.5, "12.5");
    expect_num4(NAN, "0");
    expect_num4(INFINITY, "0");
    /* Integers (offsets): each digit count's bounds, 32 bits and beyond,
     * against printf. */
    for (uint64_t p10 = 1;; p10 *= 10) {
        const uint64_t vals[3] = {p10 - 1, p10, p10 + 1};
        for (int k = 0; k < 3; k++) {
            char want[32];
            snprintf(want, sizeof want, "%llu", (unsigned long long)vals[k]);
            jw_buf_t u = {0};
            jw_uint(&u, vals[k]);
            jw_char(&u, '\0');
            assert_string_equal(u.s, want);
            jw_free(&u);
        }
        if (p10 > UINT64_MAX / 10)
            break;
    }
    const uint64_t edge[4] = {UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX, 4096};
    const char *const edge_want[4] = {"4294967295", "4294967296", "18446744073709551615", "4096"};
    for (int k = 0; k < 4; k++) {
        jw_buf_t u = {0};
        jw_uint(&u, edge[k]);
        jw_char(&u, '\0');
        assert_string_equal(u.s, edge_want[k]);
        jw_free(&u);
    }
    jw_buf_t b = {0};
    jw_str(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
    jw_char(&b, '\0');
    assert_string_equal(b.s, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    jw_free(&b);

    const char *text = "Senator Jane Doe praised the brave nurses. \"It was a wonderful day,\" "
                       "Doe said. But Mr. Roe called the plan a disaster.";
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *tree = open_stage("{\"raw_output\": false}", &err);
    assert_non_null(tree);
    tm_doc_t *d1 = tm_testhost_doc("raw", text, strlen(text), NULL),
             *d2 = tm_testhost_doc("tree", text, strlen(text), NULL);
    assert_int_equal(tm_testhost_run(g_th, d1, &err), TM_OK);
    assert_int_equal(tm_testhost_run(tree, d2, &err), TM_OK);
    const cJSON *raw = tm_testhost_annotation(d1, "sentiment"),
                *parsed = tm_testhost_annotation(d2, "sentiment");
    assert_true(cJSON_IsRaw(cJSON_GetObjectItem(raw, "sentences")));
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(parsed, "sentences")));
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(parsed, "entities")));
    char *t1 = cJSON_PrintUnformatted(raw), *t2 = cJSON_PrintUnformatted(parsed);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    /* The parsed form: three sentences, Doe and Roe. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(parsed, "sentences")), 3);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(parsed, "entities")) >= 2);
    tm_doc_destroy(&d1);
    tm_doc_destroy(&d2);
    tm_testhost_close(&tree);
}

/* Capitalised words that are not people: organisations ending in a company
 * or photo-credit word, acronyms, abbreviations, web addresses,
 * contractions, hyphenated pairs of two people, and sentence-initial
 * common words; the people in the same text are still found. */
static void test_not_people(void **state)
{
    (void)state;
    FILE *f = fopen(TM_SENTIMENT_TESTDATA "/not_people.txt", "rb");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    tm_doc_t *doc = run_text(g_th, text, n);
    const cJSON *a = ann(doc);
    assert_non_null(entity(a, "Maria Lopez"));
    assert_non_null(entity(a, "Ana Chen"));
    /* A double-barrelled surname is one person, not a pair. */
    assert_non_null(entity(a, "Stephanie Okafor-Brandt"));
    static const char *const not_people[] = {
        "Lopez-Chen", "Gather", "Super PAC", "PAC", "Big Tech", "Harbor Images", "Harbor",
        "Harbor.org", "I'm", "We're", "U.S", "U.S.", "FDA", "Photo"};
    for (size_t i = 0; i < sizeof not_people / sizeof not_people[0]; i++) {
        if (entity(a, not_people[i]) != NULL)
            fail_msg("\"%s\" reported as a person", not_people[i]);
    }
    /* Only the three people (and no unresolved pronoun) are reported. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "entities")), 3);
    tm_doc_destroy(&doc);
}

/* The same decisions when the word-form questions ("is this word also in
 * the text, in lower case?", asked of sentence-initial words and of the
 * parts of hyphenated pairs) come after the document's first 16, which are
 * answered by scanning the tokens, and are answered from the form set
 * built then: ten made-up hyphenated names first ask 30 of them. */
static void test_not_people_form_set(void **state)
{
    (void)state;
    FILE *f = fopen(TM_SENTIMENT_TESTDATA "/not_people.txt", "rb");
    assert_non_null(f);
    char text[8192];
    size_t n = 0;
    for (char c = 'a'; c < 'a' + 10; c++)
        n += (size_t)snprintf(text + n, sizeof text - n, "Qa%c-Zu%c left. ", c, c);
    n += fread(text + n, 1, sizeof text - n - 1, f);
    fclose(f);
    text[n] = '\0';
    tm_doc_t *doc = run_text(g_th, text, n);
    const cJSON *a = ann(doc);
    assert_non_null(entity(a, "Qaa-Zua")); /* (its parts are not words of the text) */
    assert_non_null(entity(a, "Maria Lopez"));
    assert_non_null(entity(a, "Ana Chen"));
    assert_non_null(entity(a, "Stephanie Okafor-Brandt"));
    assert_null(entity(a, "Lopez-Chen")); /* both parts are used alone */
    assert_null(entity(a, "Gather"));     /* "gather" is written in lower case too */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "entities")), 13);
    tm_doc_destroy(&doc);
}

/* sl_hash (the inlined short-input path) gives XXH3_64bits' values: the
 * trained weights are keyed by them. */
static void test_hash_is_xxh3(void **state)
{
    (void)state;
    char buf[80];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)('a' + (i * 7) % 26);
    for (size_t off = 0; off < 3; off++)
        for (size_t n = 0; n + off <= 64; n++)
            assert_true(sl_hash(buf + off, n) == XXH3_64bits(buf + off, n));
    assert_true(sl_hash("trump", 5) == XXH3_64bits("trump", 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_is_xxh3),
        cmocka_unit_test(test_not_people_form_set),
        cmocka_unit_test(test_polarity),
        cmocka_unit_test(test_negation),
        cmocka_unit_test(test_negation_bias_and_un_prefix),
        cmocka_unit_test(test_boosters),
        cmocka_unit_test(test_but),
        cmocka_unit_test(test_caps_and_punctuation),
        cmocka_unit_test(test_idioms),
        cmocka_unit_test(test_emoji),
        cmocka_unit_test(test_internal_words),
        cmocka_unit_test(test_web_addresses),
        cmocka_unit_test(test_no_letters),
        cmocka_unit_test(test_big_document),
        cmocka_unit_test(test_custom_lexicon),
        cmocka_unit_test(test_lookup_filters),
        cmocka_unit_test(test_loader_lines_numbers_emoji),
        cmocka_unit_test(test_invalid_files),
        cmocka_unit_test(test_model_rows_format),
        cmocka_unit_test(test_entities_detected),
        cmocka_unit_test(test_entities_names),
        cmocka_unit_test(test_entities_from_quotes_stage),
        cmocka_unit_test(test_quote_exclamations),
        cmocka_unit_test(test_meta_targets),
        cmocka_unit_test(test_json_output),
        cmocka_unit_test(test_model_fused_sums),
        cmocka_unit_test(test_quote_speaker_span_marks_mention),
        cmocka_unit_test(test_tokenizer_shapes),
        cmocka_unit_test(test_tokenizer_word_lane),
        cmocka_unit_test(test_tokenizer_typographic),
        cmocka_unit_test(test_compound_range_sum),
        cmocka_unit_test(test_not_people),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
