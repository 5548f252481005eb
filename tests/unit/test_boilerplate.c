/*
 * Unit tests for the boilerplate stage (plugins/boilerplate), run in the
 * test host on fixtures in tests/data/boilerplate/ (written for these tests).
 */
#include "unit.h"

#include <time.h>

#include "../support/testhost.h"
#include "../../plugins/boilerplate/bp_lex.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

static char g_data[4096], g_fix[4096];

static const char *data_dir(void)
{
    const char *s = getenv("TM_SRCDIR");
    snprintf(g_data, sizeof g_data, "%s/plugins/boilerplate", s != NULL ? s : ".");
    return g_data;
}

static const char *fixture_path(const char *name)
{
    const char *s = getenv("TM_SRCDIR");
    snprintf(g_fix, sizeof g_fix, "%s/tests/data/boilerplate/%s", s != NULL ? s : ".", name);
    return g_fix;
}

static char *slurp(const char *name, size_t *len)
{
    FILE *f = fopen(fixture_path(name), "rb");
    if (f == NULL)
        fail_msg("cannot open fixture %s", fixture_path(name));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static tm_testhost_t *open_stage(const char *config)
{
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = tm_testhost_open(tm_stage_entry_v1(), config, data_dir(), NULL, &err);
    if (th == NULL)
        fail_msg("open failed: %s: %s", err.code, err.message);
    return th;
}

typedef struct run {
    tm_doc_t *doc;
    int rc;
    tm_err_t err;
    const cJSON *ann;
    char *input;
    size_t input_len;
} run_t;

static void run_text(tm_testhost_t *th, run_t *r, const char *text, size_t len, const char *ct)
{
    memset(r, 0, sizeof *r);
    r->input = malloc(len + 1);
    assert_non_null(r->input);
    memcpy(r->input, text, len);
    r->input[len] = '\0';
    r->input_len = len;
    r->doc = tm_testhost_doc("t", text, len, ct);
    assert_non_null(r->doc);
    r->rc = tm_testhost_run(th, r->doc, &r->err);
    /* through the ABI, as a later stage reads it: the stage attaches its
     * annotation as raw JSON, which the host parses on first read */
    r->ann = tm_testhost_host(th)->doc_annotation(r->doc, "boilerplate");
}

static void run_fixture(tm_testhost_t *th, run_t *r, const char *name, const char *ct)
{
    size_t len;
    char *t = slurp(name, &len);
    run_text(th, r, t, len, ct);
    free(t);
}

static void run_free(run_t *r)
{
    tm_doc_destroy(&r->doc);
    free(r->input);
}

static const char *str(const cJSON *a, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The removed span of a kind whose input text contains needle. */
static const cJSON *span_with(const run_t *r, const char *kind, const char *needle)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(r->ann, "removed");
    const cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        int a = cJSON_GetObjectItem(s, "start")->valueint;
        int b = cJSON_GetObjectItem(s, "end")->valueint;
        if (strcmp(str(s, "kind"), kind) != 0)
            continue;
        if (a < 0 || b > (int)r->input_len || a >= b)
            fail_msg("span [%d, %d) outside the input (%zu bytes)", a, b, r->input_len);
        char *piece = strndup(r->input + a, (size_t)(b - a));
        int hit = strstr(piece, needle) != NULL;
        free(piece);
        if (hit)
            return s;
    }
    return NULL;
}

static void assert_span(const run_t *r, const char *kind, const char *needle)
{
    if (span_with(r, kind, needle) == NULL)
        fail_msg("no removed span of kind %s holding \"%s\"", kind, needle);
}

static void assert_absent(const char *text, const char *needle)
{
    if (strstr(text, needle) != NULL)
        fail_msg("\"%s\" should have been removed from:\n%s", needle, text);
}

/* ------------------------------------------------------------------------ */

static void test_donation_appeal_glued_sentence_comments(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "appeal.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    /* the appeal and its glued last sentence go, the article sentence stays */
    assert_absent(out, "Your support helps us");
    assert_absent(out, "Readers like you");
    assert_absent(out, "Your support makes all the difference");
    assert_contains(out, "The harbour council on Tuesday approved a new ferry timetable");
    /* the glued line is split: the kept sentence starts its line */
    assert_contains(out, "\nThe harbour council on Tuesday");
    assert_absent(out, "Join our commenting forum");
    assert_absent(out, "\nComments");
    /* headline, standfirst and the quotation stay */
    assert_contains(out, "Harbour council approves new ferry timetable\n");
    assert_contains(out, "Evening sailings return after two years");
    assert_contains(out, "\xe2\x80\x9cWe listened to the people");
    assert_span(&r, "donation_appeal", "Your support makes all the difference.");
    assert_span(&r, "comment_prompt", "Join our commenting forum");
    assert_string_equal(str(r.ann, "title"), "Harbour council approves new ferry timetable");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_channel_caption_reprint(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "channel.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    assert_absent(out, "Telegram channel");
    assert_absent(out, "Photo by Ana Ruiz");
    assert_absent(out, "reprinted with permission");
    assert_contains(out, "Islands vote to keep the lighthouse keepers");
    assert_contains(out, "\xe2\x80\x9cThe light is more than a lamp, it is a neighbour,\xe2\x80\x9d");
    assert_span(&r, "channel_ad", "Telegram channel");
    assert_span(&r, "photo_credit", "(Harbour Times Photo by Ana Ruiz)");
    assert_span(&r, "reprint_notice", "originally published by The Island Courier");
    assert_string_equal(str(r.ann, "syndicated_from"), "The Island Courier");
    /* paragraphs keep their blank-line separators */
    assert_contains(out, "lighthouse keepers\n\nResidents of the outer islands");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_markdown_links_related_image(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "storm.md", "text/markdown");
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    assert_contains(out, "and officials said it could stay shut");
    assert_absent(out, "https://example.org/officials");
    assert_absent(out, "](");
    assert_absent(out, "Cliff repairs delayed");
    assert_absent(out, "A flooded road");
    assert_contains(out, "By Harbour Wire");
    assert_span(&r, "related_link", "**Related article:**");
    assert_string_equal(str(r.ann, "format"), "markdown");
    assert_string_equal(str(r.ann, "byline"), "Harbour Wire");
    assert_string_equal(str(r.ann, "published_iso"), "2021-03-03");
    assert_string_equal(str(r.ann, "title"), "Storm closes the coastal road");
    /* no run of empty lines where the image was */
    assert_absent(out, "\n\n\n");
    run_free(&r);
    tm_testhost_close(&th);
}

/* Teasers of other stories after the article: (headline, one-sentence
 * summary) pairs are cut as related links, the article stays whole. */
static void test_teaser_list_after_article(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "teasers.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    assert_contains(out, "Library extends weekend opening hours");
    assert_contains(out, "The town library will open on Sunday afternoons");
    assert_contains(out, "The trial will be reviewed next autumn");
    assert_absent(out, "Bridge works to close the ring road");
    assert_absent(out, "The weekly market will move");
    assert_absent(out, "Swimming pool reopens");
    assert_span(&r, "related_link", "Farmers market moves to the square");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_labelled_teaser_before_prose(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    /* text: only the labelled teaser goes when the article's sentence
     * follows it on the same line; a teaser alone goes whole */
    run_fixture(th, &r, "labelled_teasers.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    assert_contains(out, "time.\nLocal residents have now asked the council");
    assert_contains(out, "\n\xe2\x80\x9cWe did our job and we did it well,\xe2\x80\x9d the mayor told");
    assert_contains(out, "\nThe harbour plan will come back to the council");
    assert_contains(out, "\nResidents gathered on the harbour wall");
    assert_absent(out, "RELATED");
    assert_absent(out, "Second Barrier");
    assert_absent(out, "SEE ALSO");
    assert_absent(out, "Save The Old Town");
    assert_absent(out, "Council Delays Vote");
    assert_absent(out, "Jane Marsh");
    assert_absent(out, "Ferry Timetable");
    assert_absent(out, "Harbour Master Retires");
    assert_span(&r, "related_link", "(RELATED: Town Council Votes To Fund Second Barrier [VIDEO])");
    assert_span(&r, "related_link", "SEE ALSO: Mayor Says Barrier Will Save The Old Town");
    assert_span(&r, "photo_credit", "Photo: Jane Marsh/Coastal Press");
    /* the teaser's span ends before the prose */
    assert_null(span_with(&r, "related_link", "Local residents"));
    run_free(&r);

    /* HTML: the same inside paragraphs */
    run_fixture(th, &r, "labelled_teasers.html", "text/html");
    assert_int_equal(r.rc, TM_OK);
    out = r.doc->text;
    assert_contains(out, "\n\nLocal residents have now asked the council");
    assert_contains(out, "\n\n\xe2\x80\x9cWe did our job and we did it well,\xe2\x80\x9d");
    assert_absent(out, "RELATED");
    assert_absent(out, "Second Barrier");
    assert_absent(out, "Save The Old Town");
    assert_absent(out, "Ferry Timetable");
    assert_span(&r, "related_link", "Town Council Votes To Fund Second Barrier [VIDEO]</a>)");
    assert_null(span_with(&r, "related_link", "Local residents"));
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_gallery_resume_and_rows(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "gallery_rows.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    /* the article on both sides of a photo gallery */
    assert_contains(out, "The harbour festival will return this summer");
    assert_contains(out, "Organisers expect about twenty thousand visitors");
    assert_contains(out, "Tickets for the evening concerts");
    /* the gallery's counters and captions go */
    assert_absent(out, "Photo 1 of 5");
    assert_absent(out, "Fireworks");
    assert_absent(out, "Lighthouse Park\n");
    assert_span(&r, "photo_credit", "Photo 3 of 5");
    /* a caption ending in "Credit: Name" (a trailing "*" in a suffix pattern) */
    assert_absent(out, "before the first stalls open");
    assert_span(&r, "photo_credit", "Credit: Jane Marsh");
    /* the schedule after the body stays, the menu after it goes */
    assert_contains(out, "Festival dates\nJune 12 \xe2\x80\x93 Old Quay @ Main Stage\n");
    assert_contains(out, "June 15 \xe2\x80\x93 Lighthouse Park @ Closing Concert");
    assert_absent(out, "Weather");
    assert_absent(out, "About us");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_numeric_table_and_arrow_cards(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "standings.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    /* a standings table (rows of numbers) is the article, not a menu */
    assert_contains(out, "On this page you will always find the current table");
    assert_contains(out, "Final table of the Riverside League after 30 rounds:\n"
                         "Pos Club Played Won Drawn Lost Points\n1 Northgate Rovers 30 21 5 4 68\n");
    assert_contains(out, "8 Riverside Albion 30 5 4 21 19\n");
    assert_contains(out, "The last club goes down to the second division.");
    /* teasers of other pages behind link arrows, with their blurbs */
    assert_absent(out, "Column by Sam Porter");
    assert_absent(out, "Click on the photo");
    assert_absent(out, "statistics and everything else");
    assert_absent(out, "the transfers and the injuries");
    assert_span(&r, "related_link", "\xc2\xbb Preview of the Cup Final 2023");
    assert_span(&r, "related_link", "A long episode of the league podcast");
    assert_absent(out, "Fixtures");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_list_article_details(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "listicle.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    /* archive counts above the headline are no dates of the article */
    assert_absent(out, "March (11)");
    assert_absent(out, "January (9)");
    assert_contains(out, "Five gadgets worth buying this winter\nNovember 18, 2019\nWinter is");
    /* numbered headings and product lines with their prices stay, the
     * photo credit between them goes */
    assert_contains(out, "1. Kitchen Speaker Mini\nKitchen Speaker Mini for $49\n");
    assert_contains(out, "2. Smart Lock Two\nSmart Lock Two for $199\n");
    assert_absent(out, "Tom Reed/TechDesk");
    /* the same interview question put twice */
    assert_contains(out, "The lock maker answered as well.\nWhat comes next for your company?\n"
                         "The lock will learn");
    /* an embedded post with its signature ends the article; the headline
     * of another story after it does not */
    assert_contains(out, "see you there! https://t.co/abc123\n"
                         "\xe2\x80\x94 Winter Tech Fair (@wintertechfair) November 18, 2019");
    assert_absent(out, "Council votes to close the old library");
    assert_span(&r, "footer", "Council votes to close the old library");
    run_free(&r);
    tm_testhost_close(&th);
}

/* Two tokenizer paths gave the same tokens, each with the word table's
 * index of its word (or none). */
static void assert_same_tokens(const bp_toks_t *a, const bp_toks_t *b, bp_lex_t *lex)
{
    assert_int_equal(a->n, b->n);
    for (size_t k = 0; k < a->n; k++) {
        assert_int_equal(a->v[k].start, b->v[k].start);
        assert_int_equal(a->v[k].end, b->v[k].end);
        assert_true(a->v[k].h == b->v[k].h);
        assert_int_equal(a->v[k].flags, b->v[k].flags);
        uint32_t *v = bp_map_get(&lex->words, b->v[k].h);
        assert_int_equal(a->v[k].wi, v != NULL ? *v : UINT32_MAX);
    }
}

/* The tokenizer's word table (bp_lex_index: a sparse copy of lex->words
 * whose empty slots hold UINT32_MAX) gives every token the index
 * lex->words gives it: 6000 known words, so that many look-ups meet
 * another word in their first slot and probe on (a probe that stops
 * there, or that takes an empty slot's key for a match, fails), among
 * as many unknown ones; and the language counts that come with it. */
static void test_tokenizer_word_table(void **state)
{
    (void)state;
    bp_lex_t *lex = calloc(1, sizeof *lex);
    assert_non_null(lex);
    bp_lex_init(lex);
    const uint32_t nknown = 6000;
    char w[32];
    for (uint32_t i = 0; i < nknown; i++) {
        int n = snprintf(w, sizeof w, "k%c%c%u", 'a' + (int)(i % 26), 'a' + (int)(i / 26 % 26), i);
        assert_int_equal(bp_map_put(&lex->words, bp_hash_folded(w, (size_t)n), i), 0);
    }
    lex->langq = 4;
    lex->langlanes = calloc(4 * nknown, sizeof *lex->langlanes);
    assert_non_null(lex->langlanes);
    for (size_t i = 0; i < nknown; i++)
        lex->langlanes[4 * i + (i % 16) / 4] |= UINT64_C(1) << (16 * (i % 4));
    assert_int_equal(bp_lex_index(lex), 0);
    /* at most one slot in 8 used, and some words not in their first slot */
    size_t cap = (size_t)1 << (64 - lex->wtab_shift), used = 0, moved = 0;
    for (size_t j = 0; j < cap; j++) {
        if (lex->wtab[j].key == 0) {
            assert_int_equal(lex->wtab[j].val, UINT32_MAX);
            continue;
        }
        used++;
        moved += (lex->wtab[j].key >> lex->wtab_shift) != j;
    }
    assert_int_equal(used, nknown);
    assert_true(8 * used <= cap);
    assert_true(moved > 0);
    /* a text of known words (every one of them, some capitalised) and
     * unknown ones (the same with a 'u' in front) */
    bp_buf_t text = {0};
    for (uint32_t i = 0; i < nknown; i++) {
        int n = snprintf(w, sizeof w, "%sk%c%c%u ", i % 3 ? "" : "u", (i % 7 ? 'a' : 'A') + (int)(i % 26),
                         'a' + (int)(i / 26 % 26), i);
        assert_int_equal(bp_buf_put(&text, w, (size_t)n), 0);
        n = snprintf(w, sizeof w, "k%c%c%u. ", 'a' + (int)(i % 26), 'a' + (int)(i / 26 % 26), i);
        assert_int_equal(bp_buf_put(&text, w, (size_t)n), 0);
    }
    bp_scan_t sc = {0};
    bp_toks_t a = {0}, b = {0};
    assert_int_equal(bp_scan_build(&sc, text.p, text.len), 0);
    bp_scan_split_gp(&sc, text.p, lex->u3gp, BP_CC_WORD);
    uint64_t lang4[4] = {0}, want[4] = {0};
    assert_int_equal(bp_tokenize_text_langs(text.p, &sc, lex, &a, lang4), 0);
    assert_int_equal(bp_tokenize_in(text.p, 0, text.len, text.len, lex, &b), 0);
    assert_same_tokens(&a, &b, lex);
    size_t known = 0;
    for (size_t k = 0; k < a.n; k++)
        if (a.v[k].wi != UINT32_MAX) {
            known++;
            if (k < BP_LANG_TOKENS)
                for (int q = 0; q < 4; q++)
                    want[q] += lex->langlanes[4 * (size_t)a.v[k].wi + q];
        }
    assert_int_equal(known, nknown + 2 * nknown / 3);
    for (int q = 0; q < 4; q++)
        assert_true(lang4[q] == want[q]);
    bp_scan_free(&sc);
    bp_buf_free(&text);
    bp_lex_free(lex);
    free(lex);
    free(a.v);
    free(b.v);
}

/* The tokenizer's 8-bytes-at-a-time path makes the same tokens as the
 * general loop (which a word at the end of the text, with fewer than 8
 * bytes left, always takes). */
static void test_tokenizer_fast_path(void **state)
{
    (void)state;
    static const char *const words[] = {"a",      "I",       "to",      "The",     "NASA",
                                        "iPhone", "Report",  "WORLD",   "zebra",   "quickly",
                                        "Greatly", "ABCDEFG", "abcdefgh", "Crossing", "x1",
                                        "2019",   "self_made", "Zz",     "aZ",      "Q",
                                        "Establishment", "UNDERSTANDING", "AbcdefghIjklmnop",
                                        "Internationalization", "ninechars", "Mixedcase1"};
    static const char *const after[] = {" ", ".", ",", "\n", "\xe2\x80\x99s", "-x", "1", "_"};
    bp_toks_t a = {0}, b = {0};
    char buf[96];
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        for (size_t f = 0; f < sizeof after / sizeof *after; f++) {
            /* with room after the word (fast path) and without (general) */
            int n = snprintf(buf, sizeof buf, "%s%s padding text", words[w], after[f]);
            a.n = b.n = 0;
            assert_int_equal(bp_tokenize(buf, 0, (size_t)n, &a), 0);
            size_t wl = strlen(words[w]) + strlen(after[f]);
            assert_int_equal(bp_tokenize(buf, 0, wl, &b), 0);
            assert_true(a.n >= 1 && b.n >= 1);
            assert_int_equal(a.v[0].start, b.v[0].start);
            assert_int_equal(a.v[0].end, b.v[0].end);
            assert_true(a.v[0].h == b.v[0].h);
            assert_int_equal(a.v[0].flags, b.v[0].flags);
            /* and the data files' hash of the same word */
            assert_true(a.v[0].h == bp_hash_folded(buf + a.v[0].start, a.v[0].end - a.v[0].start));
        }
    }
    /* reading past the end (up to a limit) never changes the tokens */
    {
        static const char text[] = "Home\nNews Sport\nabcdefgh\nWORLD!\nEstablishments\n"
                                   "INTERNATIONALLY x";
        size_t len = sizeof text - 1;
        for (size_t e = 0; e <= len; e++) {
            a.n = b.n = 0;
            assert_int_equal(bp_tokenize_in(text, 0, e, len, NULL, &a), 0);
            assert_int_equal(bp_tokenize(text, 0, e, &b), 0);
            assert_int_equal(a.n, b.n);
            for (size_t k = 0; k < a.n; k++) {
                assert_int_equal(a.v[k].end, b.v[k].end);
                assert_true(a.v[k].h == b.v[k].h);
                assert_int_equal(a.v[k].flags, b.v[k].flags);
            }
        }
    }
    /* 2-byte UTF-8 characters from the lex tables, the same as through
     * utf8proc: Cyrillic, Greek, Latin-1, a capital whose lower case is a
     * 3-byte character, dotted I, non-letters (NBSP, section sign) */
    {
        static const char text[] = "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 "
                                   "\xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1 Z\xc3\xbcrich "
                                   "\xc3\x89" "COLE \xc8\xba" "B \xc4\xb0stanbul \xc2\xa0x\xc2\xa7y "
                                   "caf\xc3\xa9s \xd0\xa1\xd0\xa8\xd0\x90\xc3";
        size_t len = sizeof text - 1;
        bp_lex_t *lex = calloc(1, sizeof *lex);
        assert_non_null(lex);
        bp_lex_init(lex);
        for (size_t e = 0; e <= len; e++) {
            a.n = b.n = 0;
            assert_int_equal(bp_tokenize_in(text, 0, e, len, lex, &a), 0);
            assert_int_equal(bp_tokenize(text, 0, e, &b), 0);
            assert_same_tokens(&a, &b, lex);
        }
        a.n = 0;
        assert_int_equal(bp_tokenize_in(text, 0, len, len, lex, &a), 0);
        assert_true(a.n >= 10);
        /* "ЭCOLE"-style all-capitals and case folding through the table */
        assert_true(a.v[0].h == bp_hash_folded("\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0", 12));
        assert_int_equal(a.v[3].flags, BP_TF_ALPHA | BP_TF_UPPER | BP_TF_CAPS);
        bp_lex_free(lex);
        free(lex);
    }
    /* flags of a few words */
    a.n = 0;
    assert_int_equal(bp_tokenize("NASA said Report 2019 iPhone ok......", 0, 37, &a), 0);
    assert_int_equal(a.n, 6);
    assert_int_equal(a.v[0].flags, BP_TF_ALPHA | BP_TF_UPPER | BP_TF_CAPS);
    assert_int_equal(a.v[1].flags, BP_TF_ALPHA | BP_TF_LOWER);
    assert_int_equal(a.v[2].flags, BP_TF_ALPHA | BP_TF_UPPER);
    assert_int_equal(a.v[3].flags, BP_TF_DIGIT);
    assert_int_equal(a.v[4].flags, BP_TF_ALPHA | BP_TF_LOWER);
    assert_true(a.v[1].h == bp_hash_folded("SAID", 4));
    free(a.v);
    free(b.v);
}

/* The whole-text tokenizer (bitmaps, runs of word bytes) makes exactly the
 * tokens of the general one, and the bitmaps say what each byte is: texts
 * built from ASCII words of every length around 8, 16 and 64 bytes,
 * capitals, digits, '_', 2-, 3- and 4-byte characters (letters and not),
 * invalid and truncated UTF-8, punctuation, at every offset against the
 * 64-byte chunks. */
static void test_tokenizer_whole_text(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "a", "I", "to", "the", "News", "NASA", "report", "Reports", "abcdefgh", "ABCDEFGHI",
        "Establishment", "abcdefghijklmnop", "Abcdefghijklmnopq", "x1", "2019", "self_made", "_",
        "G20", "mp3", "4K", "COVID19", "Q3", "B52s", "iPhone5", "x1Y",
        "It\xe2\x80\x99s", "1990\xe2\x80\x99s",
        "\xe2\x80\x9cNASA\xe2\x80\x9d", "war\xe2\x80\x94" "and", "x\xe2\x80\xa6Yz9",
        "1234567890123456", "12345678901234567",
        "\xc3\xa9t\xc3\xa9", "Z\xc3\xbcrich", "\xd0\x9c\xd0\xbe\xd1\x81", "don\xe2\x80\x99t",
        "\xe2\x80\x9cQuote\xe2\x80\x9d", "\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x98\x80", "\xc3",
        "\xe2\x80", "\x80\xbf", "\xff", "\xc2\xa0", "\xc2\xa9", " ", "  ", "\n", ".", "!?", ",",
        "/", "|", ":", "-", "'", "(x)", "www.example.com", "http://a.b/c_d"};
    const size_t np = sizeof pieces / sizeof *pieces;
    bp_lex_t *lex = calloc(1, sizeof *lex);
    assert_non_null(lex);
    bp_lex_init(lex);
    /* a word table: bp_tokenize_text fills wi from it */
    static const char *const known[] = {"the", "news", "report", "nasa", "establishment",
                                        "abcdefghijklmnop", "z\xc3\xbcrich", "it", "s", "don",
                                        "t", "quote", "2019", "g20", "x1"};
    const size_t nknown = sizeof known / sizeof *known;
    for (uint32_t i = 0; i < nknown; i++)
        assert_int_equal(bp_map_put(&lex->words, bp_hash_folded(known[i], strlen(known[i])), i), 0);
    /* ... and language lanes: word i counts for languages i % 16 and
     * (i * 7) % 16 (bp_tokenize_text_langs adds them up) */
    lex->langq = 4;
    lex->langlanes = calloc(4 * nknown, sizeof *lex->langlanes);
    assert_non_null(lex->langlanes);
    for (size_t i = 0; i < nknown; i++) {
        lex->langlanes[4 * i + (i % 16) / 4] |= UINT64_C(1) << (16 * (i % 4));
        lex->langlanes[4 * i + ((i * 7) % 16) / 4] |= UINT64_C(1) << (16 * ((i * 7) % 4));
    }
    /* the tokenizer's copies of both */
    assert_int_equal(bp_lex_index(lex), 0);
    bp_scan_t sc = {0};
    bp_toks_t a = {0}, b = {0};
    char text[1200];
    uint32_t rng = 12345;
    for (int round = 0; round < 3000; round++) {
        size_t len = 0;
        /* a long letter run now and then: words past 16 and 64 bytes */
        size_t target = 1 + (size_t)(round % 700);
        while (len < target) {
            rng = rng * 1103515245u + 12345u;
            uint32_t r = rng >> 8;
            const char *pc = pieces[r % np];
            size_t pl = strlen(pc);
            if (r % 97 == 0) {
                size_t run = 60 + r % 20;
                if (len + run >= sizeof text)
                    break;
                for (size_t k = 0; k < run; k++)
                    text[len++] = (char)((k % 5 == 0) ? 'A' + (int)(k % 26) : 'a' + (int)(k % 26));
                continue;
            }
            if (len + pl >= sizeof text)
                break;
            memcpy(text + len, pc, pl);
            len += pl;
        }
        assert_int_equal(bp_scan_build(&sc, text, len), 0);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)text[i];
            int upper = c >= 'A' && c <= 'Z', letter = upper || (c >= 'a' && c <= 'z');
            int cand = letter || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
            int punct = c == '.' || c == '!' || c == '?' || c == '/' || c == '|' || c == ':' ||
                        c == 0xC2;
            assert_int_equal(bp_scan_bit(&sc, BP_SC_UPPER, i), upper);
            assert_int_equal(bp_scan_bit(&sc, BP_SC_LETTER, i), letter);
            assert_int_equal(bp_scan_bit(&sc, BP_SC_CAND, i), cand);
            assert_int_equal(bp_scan_bit(&sc, BP_SC_PUNCT, i), punct);
            assert_int_equal(bp_scan_bit(&sc, BP_SC_ALNUM, i), letter || (c >= '0' && c <= '9'));
        }
        assert_int_equal(bp_scan_bits(&sc, BP_SC_CAND, len), 0);
        /* the word-at-a-time iterator visits the bytes bp_scan_next finds,
         * in any range (across chunk edges, empty, ending anywhere), and
         * then gives e0 */
        for (int r = 0; r < 8; r++) {
            rng = rng * 1103515245u + 12345u;
            size_t i0 = len ? (rng >> 8) % (len + 1) : 0;
            rng = rng * 1103515245u + 12345u;
            size_t e0 = i0 + (rng >> 8) % (len + 1 - i0);
            bp_scan_iter_t it;
            size_t want = bp_scan_next(&sc, BP_SC_PUNCT, i0, e0);
            size_t got = bp_scan_iter_init(&it, &sc, BP_SC_PUNCT, i0, e0);
            for (;;) {
                /* (bp_scan_next may return any value >= e0 for none) */
                assert_int_equal(got, want < e0 ? want : e0);
                if (got >= e0)
                    break;
                want = bp_scan_next(&sc, BP_SC_PUNCT, want + 1, e0);
                got = bp_scan_iter_next(&it);
            }
        }
        /* the same tokens with the bitmaps as built, then with the
         * punctuation of U+2000-U+203F taken out of the candidates */
        for (int split = 0; split < 2; split++) {
            if (split)
                bp_scan_split_gp(&sc, text, lex->u3gp, BP_CC_WORD);
            a.n = b.n = 0;
            assert_int_equal(bp_tokenize_text(text, &sc, lex, &a), 0);
            assert_int_equal(bp_tokenize_in(text, 0, len, len, lex, &b), 0);
            assert_same_tokens(&a, &b, lex);
            /* the same tokens with the language counts */
            uint64_t lang4[4] = {0}, want[4] = {0};
            b.n = 0;
            assert_int_equal(bp_tokenize_text_langs(text, &sc, lex, &b, lang4), 0);
            assert_int_equal(a.n, b.n);
            for (size_t k = 0; k < a.n; k++) {
                assert_int_equal(a.v[k].start, b.v[k].start);
                assert_int_equal(b.v[k].wi, a.v[k].wi);
                if (a.v[k].wi != UINT32_MAX)
                    for (int q = 0; q < 4; q++)
                        want[q] += lex->langlanes[4 * (size_t)a.v[k].wi + q];
            }
            for (int q = 0; q < 4; q++)
                assert_true(lang4[q] == want[q]);
        }
    }
    /* every byte value, at every offset of a 32-byte vector: the
     * punctuation bitmap holds exactly . ! ? / | : and 0xC2 */
    {
        char all[256 * 3];
        for (size_t i = 0; i < sizeof all; i++)
            all[i] = (char)((i * 7 + i / 256) & 0xFF);
        assert_int_equal(bp_scan_build(&sc, all, sizeof all), 0);
        for (size_t i = 0; i < sizeof all; i++) {
            unsigned char c = (unsigned char)all[i];
            int punct = c == '.' || c == '!' || c == '?' || c == '/' || c == '|' || c == ':' ||
                        c == 0xC2;
            assert_int_equal(bp_scan_bit(&sc, BP_SC_PUNCT, i), punct);
        }
    }
    /* only the first BP_LANG_TOKENS tokens count: 5000 words "the" (word
     * 0: language 0, counted once per token in lane 0); 70000 of them
     * overflow the 16-bit lane while every token is added, and the
     * tail's subtraction must undo the carry into lane 1 */
    for (size_t n = 5000; n <= 70000; n += 65000) {
        size_t tl = 4 * n;
        char *many = malloc(tl + 1);
        assert_non_null(many);
        for (size_t i = 0; i < n; i++)
            memcpy(many + 4 * i, i % 3 ? "the " : "The ", 4);
        many[tl] = '\0';
        assert_int_equal(bp_scan_build(&sc, many, tl), 0);
        uint64_t lang4[4] = {0};
        b.n = 0;
        assert_int_equal(bp_tokenize_text_langs(many, &sc, lex, &b, lang4), 0);
        assert_int_equal(b.n, n);
        assert_true(lang4[0] == BP_LANG_TOKENS);
        assert_true(lang4[1] == 0 && lang4[2] == 0 && lang4[3] == 0);
        free(many);
    }
    /* the split clears exactly the three bytes of a non-word E2 80 xx,
     * not those of one cut short by the end of the text */
    {
        static const char q[] = "a\xe2\x80\x9c" "b\xe2\x80";
        static const int want[] = {1, 0, 0, 0, 1, 1, 1};
        assert_int_equal(bp_scan_build(&sc, q, sizeof q - 1), 0);
        bp_scan_split_gp(&sc, q, lex->u3gp, BP_CC_WORD);
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
            assert_int_equal(bp_scan_bit(&sc, BP_SC_CAND, i), want[i]);
    }
    /* a run of capitals longer than a chunk, and the empty text */
    memset(text, 'Q', 150);
    assert_int_equal(bp_scan_build(&sc, text, 150), 0);
    a.n = 0;
    assert_int_equal(bp_tokenize_text(text, &sc, lex, &a), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.v[0].end, 150);
    assert_int_equal(a.v[0].flags, BP_TF_ALPHA | BP_TF_UPPER | BP_TF_CAPS);
    assert_int_equal(bp_scan_build(&sc, text, 0), 0);
    a.n = 0;
    assert_int_equal(bp_tokenize_text(text, &sc, lex, &a), 0);
    assert_int_equal(a.n, 0);
    bp_scan_free(&sc);
    bp_lex_free(lex);
    free(lex);
    free(a.v);
    free(b.v);
}

/* The annotation is written as raw JSON: exactly the text cJSON prints for
 * the same tree (keys, order, integers, string escapes), valid JSON, with
 * removed_truncated when max_removed_spans cuts the list. */
static void test_raw_annotation(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage("{\"max_removed_spans\": 1}");
    size_t len;
    char *t = slurp("appeal.txt", &len);
    /* a headline (as long as the fixture's) with quotation marks and a
     * backslash in it */
    const char *head = "Harbour council approves new ferry timetable";
    const char *odd = "Harbour \"council\" approves new ferry\\timetab";
    assert_int_equal(strlen(odd), strlen(head));
    char *p = strstr(t, head);
    assert_non_null(p);
    memcpy(p, odd, strlen(head));
    tm_doc_t *doc = tm_testhost_doc("t", t, len, NULL);
    assert_non_null(doc);
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    const cJSON *raw = tm_testhost_annotation(doc, "boilerplate");
    assert_non_null(raw);
    assert_true(cJSON_IsRaw(raw));
    char *rawtext = strdup(raw->valuestring);
    assert_non_null(rawtext);
    const cJSON *ann = tm_testhost_host(th)->doc_annotation(doc, "boilerplate");
    assert_non_null(ann);
    char *printed = cJSON_PrintUnformatted(ann);
    assert_non_null(printed);
    assert_string_equal(rawtext, printed);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ann, "removed")), 1);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ann, "removed_truncated")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(ann, "input_bytes")->valueint, (int)len);
    assert_string_equal(str(ann, "title"), odd);
    assert_non_null(strstr(rawtext, "\"title\":\"Harbour \\\"council\\\" approves new ferry\\\\timetab\""));
    free(printed);
    free(rawtext);
    free(t);
    tm_doc_destroy(&doc);
    tm_testhost_close(&th);
}

/* The language comes from the stop words of the text's first tokens:
 * each text below is counted for several lists (French "la", "de" and
 * "des" are also in others), and the one with most hits wins. */
static void test_language_from_stop_words(void **state)
{
    (void)state;
    static const struct {
        const char *text, *lang;
    } cases[] = {
        {"Die Stadt hat am Montag beschlossen, dass die neue Bruecke nicht vor dem "
         "Sommer gebaut wird. Der Buergermeister sagte, es gebe noch keine Einigung "
         "mit dem Land und den Firmen, die sich beworben haben.\n",
         "de"},
        {"La ville a decide lundi que le nouveau pont ne sera pas construit avant la fin "
         "de l'annee. Le maire a dit qu'il n'y avait pas encore d'accord avec la region "
         "et les entreprises qui se sont presentees.\n",
         "fr"},
        {"The city decided on Monday that the new bridge will not be built before the "
         "summer. The mayor said there was still no agreement with the region and the "
         "companies that had applied for the work.\n",
         "en"},
    };
    tm_testhost_t *th = open_stage("{}");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run_t r;
        run_text(th, &r, cases[i].text, strlen(cases[i].text), NULL);
        assert_non_null(str(r.ann, "lang"));
        assert_string_equal(str(r.ann, "lang"), cases[i].lang);
        run_free(&r);
    }
    tm_testhost_close(&th);
}

static void test_author_bio(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "author_bio.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    /* a heading over the article's last section stays ... */
    assert_contains(out, "Northgate Gets Its Lane\nNorthgate residents, who had asked");
    assert_contains(out, "past the old market hall.");
    /* ... the author's name and biography after it go */
    assert_absent(out, "Maria Lopes");
    assert_absent(out, "covers the town council");
    assert_span(&r, "author_bio", "Maria Lopes joined the Riverside Herald");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_html_layout_div_and_split_article(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    /* text straight inside a layout div, next to blocks: that div is the
     * content, not the address in the footer */
    run_fixture(th, &r, "layout_div.html", "text/html");
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    assert_contains(out, "The harbour festival will return this summer");
    assert_contains(out, "since the last festival ran over budget.");
    assert_absent(out, "February (7)");
    assert_absent(out, "1 Quay Street");
    assert_absent(out, "Twitter");
    run_free(&r);
    /* an article cut in two containers of one class by a sidebar and a
     * figure: both halves, in order, without the sidebar */
    run_fixture(th, &r, "split_article.html", "text/html");
    assert_int_equal(r.rc, TM_OK);
    out = r.doc->text;
    assert_contains(out, "The old swing bridge over the canal will close");
    assert_contains(out, "at peak times.\n\nThe bridge, built in 1904,");
    assert_contains(out, "if needed.");
    assert_absent(out, "Share this article");
    assert_absent(out, "delivered to your inbox");
    assert_absent(out, "All rights reserved");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_read_more_cards(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "read_more_cards.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    assert_contains(out, "The town library will open on Sunday afternoons");
    assert_contains(out, "many students had asked for a quiet place on Sundays as well.");
    /* (headline, byline, summary, "READ MORE") cards of other stories */
    assert_absent(out, "Cycle Lane");
    assert_absent(out, "fuel costs");
    assert_absent(out, "Written by");
    assert_absent(out, "READ MORE");
    assert_span(&r, "related_link", "The two-mile lane links the harbour");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_html_page(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "page.html", "text/html");
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    /* every paragraph of the body, separated by blank lines */
    assert_contains(out, "The harbour council on Tuesday approved");
    assert_contains(out, "commuters.\n\n\xe2\x80\x9cWe listened");
    assert_contains(out, "two thousand replies.\n\nOperators had cut");
    assert_contains(out, "a night away from home.");
    /* furniture gone */
    assert_absent(out, "We use cookies");
    assert_absent(out, "Home");
    assert_absent(out, "Share on Facebook");
    assert_absent(out, "newsletter");
    assert_absent(out, "Lighthouse keepers stay");
    assert_absent(out, "Great news for the islands");
    assert_absent(out, "Ten beaches");
    assert_absent(out, "All rights reserved");
    assert_absent(out, "Photo: Ana Ruiz");
    assert_absent(out, "not text");
    assert_absent(out, "<");
    assert_span(&r, "cookie_notice", "We use cookies");
    assert_span(&r, "navigation", "<nav");
    assert_span(&r, "share", "Share on Facebook");
    assert_span(&r, "newsletter", "Sign up to our morning newsletter");
    assert_span(&r, "comment_prompt", "Great news for the islands");
    assert_span(&r, "related_link", "Lighthouse keepers stay");
    assert_span(&r, "footer", "All rights reserved");
    assert_string_equal(str(r.ann, "format"), "html");
    assert_string_equal(str(r.ann, "title"), "Harbour council approves new ferry timetable");
    assert_string_equal(str(r.ann, "byline"), "Mara Lint");
    assert_string_equal(str(r.ann, "published_iso"), "2021-03-02");
    run_free(&r);
    tm_testhost_close(&th);
}

/* One paragraph per pair of wrapper divs: the article is their common
 * ancestor, not the single best paragraph's wrapper. */
static void test_html_wrapped_paragraphs(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "cards.html", "text/html");
    assert_int_equal(r.rc, TM_OK);
    const char *out = r.doc->text;
    assert_contains(out, "The valley rail line reopened on Thursday");
    assert_contains(out, "Engineers rebuilt the embankment");
    assert_contains(out, "Commuters said the replacement buses");
    assert_contains(out, "The operator said the full timetable");
    assert_contains(out, "A review of drainage along the whole line");
    assert_absent(out, "Council budget approved");
    assert_absent(out, "All rights reserved");
    assert_absent(out, "Sport");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_html_sent_as_plain_text_is_sniffed(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    run_fixture(th, &r, "page.html", "text/plain");
    assert_int_equal(r.rc, TM_OK);
    assert_string_equal(str(r.ann, "format"), "html");
    assert_absent(r.doc->text, "<p>");
    assert_contains(r.doc->text, "Operators had cut the evening service");
    run_free(&r);
    tm_testhost_close(&th);
    /* with sniffing off it is text: no crash, tags stay text */
    th = open_stage("{\"sniff_html\": false}");
    run_fixture(th, &r, "page.html", "text/plain");
    assert_true(r.rc == TM_OK || r.rc == TM_EDOC);
    assert_string_equal(str(r.ann, "format"), "text");
    run_free(&r);
    tm_testhost_close(&th);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_html_deep_nesting(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    const char *tags[] = {"<div>", "<b>", "<span>", "<li><ul>", "<table><tr><td>", "<a href=x>"};
    for (size_t k = 0; k < sizeof tags / sizeof tags[0]; k++) {
        size_t tl = strlen(tags[k]), n = 100000;
        const char *tail = "The deepest paragraph still reads like an article sentence, with words.";
        char *html = malloc(tl * n + strlen(tail) + 1);
        assert_non_null(html);
        for (size_t i = 0; i < n; i++)
            memcpy(html + i * tl, tags[k], tl);
        strcpy(html + tl * n, tail);
        double t0 = now_s();
        run_t r;
        run_text(th, &r, html, strlen(html), "text/html");
        double dt = now_s() - t0;
        /* a result either way; no crash, no hang (generous bound for ASan) */
        assert_true(r.rc == TM_OK || r.rc == TM_EDOC);
        if (dt > 20.0)
            fail_msg("%s x %zu took %.1f s", tags[k], n, dt);
        if (r.rc == TM_OK)
            assert_contains(r.doc->text, "The deepest paragraph");
        run_free(&r);
        free(html);
    }
    tm_testhost_close(&th);
}

static void test_long_line_and_malformed(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    /* one 4 MB line of prose */
    const char *sent = "The council met again on Tuesday and voted for the plan. ";
    size_t sl = strlen(sent), n = (4u << 20) / sl;
    char *big = malloc(sl * n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        memcpy(big + i * sl, sent, sl);
    big[sl * n - 1] = '\0';
    run_t r;
    double t0 = now_s();
    run_text(th, &r, big, strlen(big), NULL);
    assert_int_equal(r.rc, TM_OK);
    assert_true(now_s() - t0 < 20.0);
    run_free(&r);
    /* the same bytes as one HTML text node, and truncated HTML */
    run_text(th, &r, big, strlen(big), "text/html");
    assert_int_equal(r.rc, TM_OK);
    run_free(&r);
    free(big);
    const char *bad[] = {"<html><body><p>unterminated <a href=\"x", "<<<<>>>>", "<!--", "<p",
                         "</div></div></p>", "<script>never closed", "<title>x",
                         "<plaintext><p>x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_text(th, &r, bad[i], strlen(bad[i]), "text/html");
        assert_true(r.rc == TM_OK || r.rc == TM_EDOC);
        assert_non_null(r.ann);
        run_free(&r);
    }
    tm_testhost_close(&th);
}

static void test_all_boilerplate_is_an_error(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    run_t r;
    const char *t = "Share this article\nFacebook\nTwitter\nEmail\nComments\n";
    run_text(th, &r, t, strlen(t), NULL);
    assert_int_equal(r.rc, TM_EDOC);
    assert_string_equal(r.err.code, "all_boilerplate");
    assert_contains(r.err.message, "nothing is left");
    assert_int_equal(r.doc->text_len, 0);
    assert_non_null(r.ann);
    run_free(&r);
    /* white space only */
    run_text(th, &r, "  \n\n  ", 6, NULL);
    assert_int_equal(r.rc, TM_EDOC);
    assert_string_equal(r.err.code, "all_boilerplate");
    run_free(&r);
    /* an HTML page that is all navigation */
    const char *h = "<html><body><nav><a href=/>Home</a><a href=/n>News</a></nav>"
                    "<footer>Privacy policy</footer></body></html>";
    run_text(th, &r, h, strlen(h), "text/html");
    assert_int_equal(r.rc, TM_EDOC);
    assert_string_equal(r.err.code, "all_boilerplate");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_clean_texts_are_untouched(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    const char *texts[] = {
        "Somehow I was blessed with really amazing friends. So lucky.",
        "Stupid rain. Stupid treadmill hell.",
        "Comments from the minister drew criticism on Monday.",
        "The food was great and the staff were lovely, we will be back!",
        "\xe2\x80\x9cWe will not organise any meetings here,\xe2\x80\x9d the president said.\n\n"
        "The two leaders met briefly at lunch, officials said, and agreed to talk again at "
        "the summit later this month.\n\nHe added that the dialogue would continue.",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        run_t r;
        run_text(th, &r, texts[i], strlen(texts[i]), NULL);
        assert_int_equal(r.rc, TM_OK);
        assert_string_equal(r.doc->text, texts[i]);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.ann, "removed")), 0);
        assert_int_equal(cJSON_GetObjectItem(r.ann, "removed_bytes")->valueint, 0);
        run_free(&r);
    }
    tm_testhost_close(&th);
}

static void test_offsets_point_into_the_input(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL);
    const char *t = "Lead headline about the river\n"
                    "Advertisement\n"
                    "The river rose by two metres overnight, and the town council opened two "
                    "shelters for families whose homes were flooded.\n"
                    "Share on Facebook\n"
                    "Officials said the water would fall slowly over the next three days, "
                    "and asked people to stay away from the banks.\n"
                    "Original url:\n"
                    "<https://news.example.org/river>\n";
    run_t r;
    run_text(th, &r, t, strlen(t), NULL);
    assert_int_equal(r.rc, TM_OK);
    const cJSON *arr = cJSON_GetObjectItem(r.ann, "removed");
    const char *want[][2] = {{"advertisement", "Advertisement"},
                             {"share", "Share on Facebook"},
                             {"source_url", "Original url:"},
                             {"source_url", "<https://news.example.org/river>"}};
    size_t total = 0;
    for (size_t i = 0; i < 4; i++) {
        const cJSON *s = span_with(&r, want[i][0], want[i][1]);
        if (s == NULL)
            fail_msg("no %s span for \"%s\"", want[i][0], want[i][1]);
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        int a = cJSON_GetObjectItem(s, "start")->valueint;
        int b = cJSON_GetObjectItem(s, "end")->valueint;
        /* spans hold whole lines: they start at a line start */
        assert_true(a == 0 || t[a - 1] == '\n');
        total += (size_t)(b - a);
    }
    assert_int_equal(cJSON_GetObjectItem(r.ann, "removed_bytes")->valueint, (int)total);
    assert_int_equal(cJSON_GetObjectItem(r.ann, "input_bytes")->valueint, (int)strlen(t));
    assert_int_equal(cJSON_GetObjectItem(r.ann, "output_bytes")->valueint, (int)r.doc->text_len);
    assert_absent(r.doc->text, "Advertisement");
    assert_contains(r.doc->text, "flooded.\nOfficials said");
    run_free(&r);
    tm_testhost_close(&th);
}

static void test_config_user_phrases_and_errors(void **state)
{
    (void)state;
    char cfg[8192];
    snprintf(cfg, sizeof cfg, "{\"extra_phrases\": [\"%s\"]}", fixture_path("custom_phrases.txt"));
    tm_testhost_t *th = open_stage(cfg);
    const char *t = "Tide times for the north harbour\n"
                    "The spring tide reached its highest level in a decade on Sunday, flooding "
                    "the quay and the fish market for about an hour.\n"
                    "Harbour staff said the water left no lasting damage to the buildings.\n";
    run_t r;
    run_text(th, &r, t, strlen(t), NULL);
    assert_int_equal(r.rc, TM_OK);
    assert_span(&r, "tide_table", "Tide times for the north harbour");
    assert_absent(r.doc->text, "Tide times");
    run_free(&r);
    /* "contains,max=8": found after the first word in a block of 8 words,
     * not in one of 9 */
    const char *t2 = "The spring tide reached its highest level in a decade on Sunday, flooding "
                     "the quay and the fish market for about an hour.\n"
                     "Check the ferry timetable before you travel today\n"
                     "Harbour staff said the water left no lasting damage to the buildings.\n"
                     "Please check the ferry timetable before you travel today\n"
                     "The council will inspect the sea wall again after the next storm.\n";
    run_text(th, &r, t2, strlen(t2), NULL);
    assert_int_equal(r.rc, TM_OK);
    assert_span(&r, "ferry_notice", "Check the ferry timetable before you travel today");
    assert_null(span_with(&r, "ferry_notice", "Please check"));
    run_free(&r);
    tm_testhost_close(&th);

    tm_err_t err = {{0}, {0}};
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"extra_phrases\": [\"/nonexistent/x.txt\"]}",
                                 data_dir(), NULL, &err));
    assert_contains(err.message, "/nonexistent/x.txt");
    assert_contains(err.message, "extra_phrases");
    snprintf(cfg, sizeof cfg, "{\"extra_phrases\": [\"%s\"]}", fixture_path("bad_phrases.txt"));
    assert_null(tm_testhost_open(tm_stage_entry_v1(), cfg, data_dir(), NULL, &err));
    assert_contains(err.message, "bad_phrases.txt:3");
    assert_contains(err.message, "unknown mode");
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"min_stop_density\": 2}", data_dir(),
                                 NULL, &err));
    assert_contains(err.message, "min_stop_density");
}

static void test_keep_header_off(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage("{\"keep_header\": false}");
    run_t r;
    run_fixture(th, &r, "appeal.txt", NULL);
    assert_int_equal(r.rc, TM_OK);
    assert_absent(r.doc->text, "Harbour council approves");
    /* still reported */
    assert_string_equal(str(r.ann, "title"), "Harbour council approves new ferry timetable");
    assert_span(&r, "header", "Harbour council approves new ferry timetable");
    run_free(&r);
    tm_testhost_close(&th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_donation_appeal_glued_sentence_comments),
        cmocka_unit_test(test_channel_caption_reprint),
        cmocka_unit_test(test_markdown_links_related_image),
        cmocka_unit_test(test_teaser_list_after_article),
        cmocka_unit_test(test_labelled_teaser_before_prose),
        cmocka_unit_test(test_gallery_resume_and_rows),
        cmocka_unit_test(test_html_layout_div_and_split_article),
        cmocka_unit_test(test_read_more_cards),
        cmocka_unit_test(test_numeric_table_and_arrow_cards),
        cmocka_unit_test(test_list_article_details),
        cmocka_unit_test(test_tokenizer_fast_path),
        cmocka_unit_test(test_tokenizer_whole_text),
        cmocka_unit_test(test_tokenizer_word_table),
        cmocka_unit_test(test_author_bio),
        cmocka_unit_test(test_language_from_stop_words),
        cmocka_unit_test(test_raw_annotation),
        cmocka_unit_test(test_html_page),
        cmocka_unit_test(test_html_wrapped_paragraphs),
        cmocka_unit_test(test_html_sent_as_plain_text_is_sniffed),
        cmocka_unit_test(test_html_deep_nesting),
        cmocka_unit_test(test_long_line_and_malformed),
        cmocka_unit_test(test_all_boilerplate_is_an_error),
        cmocka_unit_test(test_clean_texts_are_untouched),
        cmocka_unit_test(test_offsets_point_into_the_input),
        cmocka_unit_test(test_config_user_phrases_and_errors),
        cmocka_unit_test(test_keep_header_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
