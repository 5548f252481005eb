/*
 * Unit tests for the dedup stage (plugins/dedup), run in the test host:
 * exact and near copies, truncated copies, different stories kept apart,
 * degenerate input, the persistent LMDB index across a restart, a
 * corrupted index refused at start-up, and config validation.
 *
 * Fixture texts are generated here from a small vocabulary with a fixed
 * PRNG (no evaluation data), so each "article" has its own word stream.
 */
#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "../support/testhost.h"
#include "../../plugins/dedup/dedup.h"
#include "../../plugins/dedup/memindex.h"
#include "../../plugins/dedup/dftable.h"
#include "../../plugins/dedup/verify.h"
#include "../../plugins/dedup/normalize.h"
#include "../../plugins/dedup/sketch.h"

#include <utf8proc.h>
#include <xxhash.h>

const tm_stage_desc_t *tm_stage_entry_v1(void);

static const char *const words[] = {
    "council", "river", "budget", "school", "harbour", "minister", "storm", "bridge",
    "market", "festival", "railway", "hospital", "election", "police", "museum", "farmers",
    "water", "energy", "court", "village", "report", "airport", "teachers", "workers",
    "plans", "said", "would", "after", "before", "during", "against", "because",
    "local", "national", "new", "old", "large", "small", "early", "late",
    "officials", "residents", "company", "union", "mayor", "judge", "station", "office",
    "announced", "rejected", "approved", "delayed", "opened", "closed", "raised", "cut",
    "on", "the", "a", "of", "in", "to", "and", "for"};
#define NWORDS (sizeof words / sizeof words[0])

/* An article of npar paragraphs of 5 sentences of 12 words, from seed. */
static char *article(unsigned seed, int npar)
{
    size_t cap = (size_t)npar * 5 * 12 * 12 + 64, n = 0;
    char *s = malloc(cap);
    uint32_t x = seed * 2654435761u + 12345u;
    for (int p = 0; p < npar; p++) {
        for (int k = 0; k < 5; k++) {
            for (int w = 0; w < 12; w++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                const char *wd = words[x % NWORDS];
                n += (size_t)snprintf(s + n, cap - n, "%s%c%s", w == 0 && k == 0 ? "" : " ",
                                      w == 0 ? (char)(wd[0] - 32) : wd[0], wd + 1);
            }
            n += (size_t)snprintf(s + n, cap - n, ".");
        }
        n += (size_t)snprintf(s + n, cap - n, "\n\n");
    }
    return s;
}

/* The first `keep` paragraphs of text, plus a trailer. */
static char *first_paragraphs(const char *text, int keep, const char *trailer)
{
    const char *p = text;
    for (int i = 0; i < keep && p != NULL; i++) {
        p = strstr(p, "\n\n");
        if (p != NULL)
            p += 2;
    }
    size_t n = p != NULL ? (size_t)(p - text) : strlen(text);
    char *s = malloc(n + strlen(trailer) + 1);
    memcpy(s, text, n);
    strcpy(s + n, trailer);
    return s;
}

static char *concat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

static char data_dir[4096];

static tm_testhost_t *open_stage(const char *config, const char *state_dir)
{
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = tm_testhost_open(tm_stage_entry_v1(), config, data_dir, state_dir, &err);
    if (th == NULL)
        fail_msg("open failed: %s: %s", err.code, err.message);
    return th;
}

/* Run one document; return a copy of its annotation (caller frees). */
static cJSON *run(tm_testhost_t *th, const char *id, const char *text)
{
    tm_err_t err = {{0}, {0}};
    tm_doc_t *doc = tm_testhost_doc(id, text, (size_t)-1, NULL);
    int rc = tm_testhost_run(th, doc, &err);
    if (rc != TM_OK)
        fail_msg("run %s: %d %s: %s", id, rc, err.code, err.message);
    const cJSON *a = tm_testhost_annotation(doc, "dedup");
    assert_non_null(a);
    /* the stage attaches its annotation as JSON text (the daemon parses
     * it for readers; the test host does not) */
    assert_true(cJSON_IsRaw(a));
    cJSON *c = cJSON_Parse(a->valuestring);
    assert_non_null(c);
    tm_doc_destroy(&doc);
    return c;
}

static const char *str(const cJSON *a, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(a, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *a, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(a, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1.0;
}

#define EXPECT(a, st, of)                                                                      \
    do {                                                                                       \
        assert_string_equal(str((a), "status"), (st));                                         \
        if ((of) == NULL)                                                                      \
            assert_true(cJSON_IsNull(cJSON_GetObjectItem((a), "duplicate_of")));               \
        else                                                                                   \
            assert_string_equal(str((a), "duplicate_of"), (of));                               \
    } while (0)

static void test_exact_and_normalised_exact(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL, NULL);
    char *a = article(1, 4);
    cJSON *r = run(th, "a", a);
    EXPECT(r, "unique", NULL);
    assert_string_equal(str(r, "cluster"), "a");
    cJSON_Delete(r);

    r = run(th, "a-copy", a);
    EXPECT(r, "exact_duplicate", "a");
    assert_string_equal(str(r, "cluster"), "a");
    cJSON_Delete(r);

    /* upper case, doubled spaces, CRLF: the same normalised text */
    char *b = strdup(a);
    for (char *p = b; *p; p++)
        if (*p >= 'a' && *p <= 'z' && (p - b) % 7 == 0)
            *p = (char)(*p - 32);
    char *c = concat3("  ", b, "\r\n\r\n");
    r = run(th, "a-case", c);
    assert_string_not_equal(str(r, "status"), "unique");
    assert_string_equal(str(r, "duplicate_of"), "a");
    cJSON_Delete(r);

    /* an unrelated article stays unique */
    char *u = article(2, 4);
    r = run(th, "u", u);
    EXPECT(r, "unique", NULL);
    assert_string_equal(str(r, "cluster"), "u");
    cJSON_Delete(r);
    free(a), free(b), free(c), free(u);
    tm_testhost_close(&th);
}

/* Ids that JSON must escape (quote, backslash, controls, non-ASCII) come
 * back intact from the annotation's JSON text, and the numbers are the
 * ones the host prints (3 places, trailing zeros dropped). */
static void test_annotation_text_escapes_ids(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL, NULL);
    const char *odd = "q\"b\\s\x01\t\x1f/\xc3\xa9<\xe2\x80\xa8>";
    char *a = article(3, 4);
    cJSON *r = run(th, odd, a);
    EXPECT(r, "unique", NULL);
    assert_string_equal(str(r, "cluster"), odd);
    cJSON_Delete(r);
    r = run(th, "plain", a);
    EXPECT(r, "exact_duplicate", odd);
    assert_string_equal(str(r, "matched"), odd);
    assert_true(num(r, "similarity") == 1.0);
    cJSON_Delete(r);
    /* a near copy: every number on the 1/1000 grid */
    char *b = concat3("Breaking: ", a, " Read more at the site.");
    r = run(th, "near", b);
    EXPECT(r, "near_duplicate", odd);
    double sim = num(r, "similarity"), con = num(r, "containment");
    assert_true(sim > 0 && sim <= 1 && con > 0 && con <= 1);
    assert_true(sim * 1000 == (double)(long)(sim * 1000 + 0.5));
    assert_true(con * 1000 == (double)(long)(con * 1000 + 0.5));
    cJSON_Delete(r);
    free(a), free(b);
    tm_testhost_close(&th);
}

/* The annotation's numbers: k / 1000 written as printf's "%.15g" writes
 * the double nearest it (what the host printed from the cJSON tree). */
static void test_json_milli_is_printf(void **state)
{
    (void)state;
    for (long k = 0; k <= 100000; k++) {
        char want[64], got[64];
        snprintf(want, sizeof want, "%.15g", (double)k / 1000.0);
        char *e = dd_json_milli(got, k);
        *e = '\0';
        assert_string_equal(got, want);
    }
}

static void test_near_copy_under_other_chrome(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL, NULL);
    char *a = article(10, 6);
    char *orig = concat3("Daily Example Herald | Subscribe to our newsletter\n\n", a,
                         "Copyright Daily Example Herald. All rights reserved.\n");
    char *copy = concat3("Breaking: edited headline here\nJoin our channel for updates\n\n", a,
                         "This article was reprinted with permission. Share this story.\n");
    cJSON *r = run(th, "orig", orig);
    EXPECT(r, "unique", NULL);
    cJSON_Delete(r);
    r = run(th, "copy", copy);
    EXPECT(r, "near_duplicate", "orig");
    assert_string_equal(str(r, "cluster"), "orig");
    assert_true(num(r, "similarity") > 0.5 && num(r, "similarity") <= 1.0);
    cJSON_Delete(r);
    free(a), free(orig), free(copy);
    tm_testhost_close(&th);
}

static void test_truncated_copy_has_containment(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL, NULL);
    char *a = article(20, 8);
    char *cut = first_paragraphs(a, 4, "Read more on our website.\n");
    cJSON *r = run(th, "full", a);
    cJSON_Delete(r);
    r = run(th, "cut", cut);
    EXPECT(r, "near_duplicate", "full");
    assert_true(num(r, "containment") >= 0.9);
    /* half the text: Jaccard is far below containment */
    assert_true(num(r, "similarity") < num(r, "containment"));
    cJSON_Delete(r);
    free(a), free(cut);
    tm_testhost_close(&th);
}

static void test_copy_of_copy_points_to_earliest(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL, NULL);
    char *a = article(30, 6);
    char *c1 = concat3("Edited headline one\n\n", a, "Share this.\n");
    char *c2 = concat3("Another outlet banner\n\n", a, "Comments are closed.\n");
    cJSON_Delete(run(th, "first", a));
    char *o = article(31, 6);
    cJSON_Delete(run(th, "other", o));
    free(o);
    cJSON *r = run(th, "c1", c1);
    EXPECT(r, "near_duplicate", "first");
    cJSON_Delete(r);
    r = run(th, "c2", c2);
    assert_string_equal(str(r, "duplicate_of"), "first");
    assert_string_equal(str(r, "cluster"), "first");
    cJSON_Delete(r);
    free(a), free(c1), free(c2);
    tm_testhost_close(&th);
}

/* The five seed articles: one event told by five outlets, no copies. */
static void test_same_event_articles_stay_apart(void **state)
{
    (void)state;
    char path[4200];
    const char *src = getenv("TM_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/data/seeds.jsonl", src != NULL ? src : ".");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    tm_testhost_t *th = open_stage(NULL, NULL);
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *d = cJSON_Parse(line);
        assert_non_null(d);
        cJSON *r = run(th, str(d, "id"), str(d, "text"));
        EXPECT(r, "unique", NULL);
        cJSON_Delete(r);
        cJSON_Delete(d);
        n++;
    }
    assert_int_equal(n, 5);
    free(line);
    fclose(f);
    tm_testhost_close(&th);
}

static void test_degenerate_input(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL, NULL);
    cJSON *r = run(th, "empty", " ");
    EXPECT(r, "unique", NULL);
    cJSON_Delete(r);
    /* one word repeated: one distinct shingle, never a near match */
    size_t n = 200000;
    char *rep = malloc(n * 5 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(rep + i * 5, "word ", 5);
    rep[n * 5] = '\0';
    r = run(th, "rep1", rep);
    EXPECT(r, "unique", NULL);
    cJSON_Delete(r);
    r = run(th, "rep2", rep);
    EXPECT(r, "exact_duplicate", "rep1");
    cJSON_Delete(r);
    /* a short, different text made of the same word is not a near copy */
    r = run(th, "rep3", "word word word word word word word word end");
    EXPECT(r, "unique", NULL);
    cJSON_Delete(r);
    /* a flood of identical documents all point at the first */
    char *a = article(40, 3);
    char id[32];
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "flood-%d", i);
        r = run(th, id, a);
        if (i == 0)
            EXPECT(r, "unique", NULL);
        else
            EXPECT(r, "exact_duplicate", "flood-0");
        cJSON_Delete(r);
    }
    free(a);
    free(rep);
    tm_testhost_close(&th);
}

static void test_markup_and_entities_fold(void **state)
{
    (void)state;
    tm_testhost_t *th = open_stage(NULL, NULL);
    const char *plain = "The mayor said \"we will rebuild the bridge\" and the council agreed. "
                        "Workers began on Monday, residents said, and the river road reopened "
                        "after three weeks of storm damage repairs in the old harbour district "
                        "where local farmers sell produce at the weekly market near the station.";
    const char *html = "<p>The mayor said &quot;we will rebuild the bridge&quot; and the council "
                       "agreed.</p> Workers began on Monday, residents said, and the river road "
                       "reopened after three weeks of storm damage repairs in the old harbour "
                       "district where local farmers sell produce at the weekly market near the "
                       "station.";
    cJSON_Delete(run(th, "p", plain));
    cJSON *r = run(th, "h", html);
    assert_string_not_equal(str(r, "status"), "unique");
    assert_string_equal(str(r, "duplicate_of"), "p");
    cJSON_Delete(r);
    tm_testhost_close(&th);
}

static int rm_rf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void test_index_survives_restart(void **state)
{
    (void)state;
    char dir[] = "/tmp/tm-dedup-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *a = article(50, 5), *b = article(51, 5);
    char *near = concat3("Other outlet\n\n", b, "Read more.\n");
    tm_testhost_t *th = open_stage("{\"sync\": true}", dir);
    cJSON_Delete(run(th, "before-a", a));
    cJSON_Delete(run(th, "before-b", b));
    tm_testhost_close(&th);

    th = open_stage("{\"sync\": true}", dir);
    cJSON *r = run(th, "after-a", a);
    EXPECT(r, "exact_duplicate", "before-a");
    cJSON_Delete(r);
    r = run(th, "after-b", near);
    EXPECT(r, "near_duplicate", "before-b");
    cJSON_Delete(r);
    tm_testhost_close(&th);

    /* without state_dir every run starts empty */
    th = open_stage(NULL, NULL);
    r = run(th, "fresh", a);
    EXPECT(r, "unique", NULL);
    cJSON_Delete(r);
    tm_testhost_close(&th);
    free(a), free(b), free(near);
    assert_int_equal(rm_rf(dir), 0);
}

static void test_corrupt_index_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/tm-dedup-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[4200], file[4300];
    snprintf(sub, sizeof sub, "%s/dedup", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(file, sizeof file, "%s/data.mdb", sub);
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc(0x5a, f);
    fclose(f);
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = tm_testhost_open(tm_stage_entry_v1(), NULL, data_dir, dir, &err);
    assert_null(th);
    assert_contains(err.message, sub); /* names the index it could not open */
    assert_int_equal(rm_rf(dir), 0);
}

static void test_config_validated(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"jaccard_threshold\": 1.5}", data_dir,
                                 NULL, &err));
    assert_contains(err.message, "jaccard_threshold");
    memset(&err, 0, sizeof err);
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"index_dir\": \"../x\"}", data_dir,
                                 NULL, &err));
    assert_contains(err.message, "index_dir");
    memset(&err, 0, sizeof err);
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"entities_file\": \"nope.tsv\"}",
                                 data_dir, NULL, &err));
    assert_contains(err.message, "nope.tsv");
}

/* ---- normalisation: the 16-byte block path against a plain model ----
 * For ASCII text without '&', '<' and '`' the rules reduce to: letters
 * lower-cased, every run of spaces and line breaks one space (none at the
 * ends), punctuation kept, tokens = runs of letters and digits.  Random
 * texts put every kind of boundary at every offset of a block. */
static size_t ascii_model(const char *t, char *canon, uint64_t *tok, size_t *ntok)
{
    size_t n = 0, nt = 0, ws = (size_t)-1;
    int pend = 0;
    for (const char *p = t;; p++) {
        unsigned char c = (unsigned char)*p;
        int word = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        if (word) {
            if (ws == (size_t)-1) {
                if (pend && n > 0)
                    canon[n++] = ' ';
                pend = 0;
                ws = n;
            }
            canon[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            continue;
        }
        if (ws != (size_t)-1) {
            tok[nt++] = XXH3_64bits(canon + ws, n - ws);
            ws = (size_t)-1;
        }
        if (c == 0)
            break;
        if (c == ' ' || c == '\n' || c == '\t') {
            pend = 1;
            continue;
        }
        if (pend && n > 0)
            canon[n++] = ' ';
        pend = 0;
        canon[n++] = (char)c;
    }
    *ntok = nt;
    return n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* dd_sort_unique (insertion, bucket and radix paths) against qsort and a
 * pass dropping repeats: spread hashes, many repeats, values crowded into
 * a few buckets, zeros and the maximum. */
static void test_sort_unique(void **state)
{
    (void)state;
    uint32_t *a = malloc(5000 * sizeof *a), *b = malloc(5000 * sizeof *b),
             *tmp = malloc(5000 * sizeof *tmp);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(tmp);
    uint32_t x = 2463534242u;
    for (size_t n = 0; n <= 4600; n += n < 80 ? 1 : 113) {
        for (int kind = 0; kind < 4; kind++) {
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                a[i] = kind == 0   ? x
                       : kind == 1 ? x % 97          /* many repeats */
                       : kind == 2 ? (x & 0xFF) | 0x40000000u /* one bucket */
                                   : (x & 1 ? 0 : UINT32_MAX);
            }
            memcpy(b, a, n * sizeof *a);
            qsort(b, n, sizeof *b, cmp_u32);
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (m == 0 || b[m - 1] != b[i])
                    b[m++] = b[i];
            assert_int_equal(dd_sort_unique(a, n, tmp), m);
            assert_memory_equal(a, b, m * sizeof *a);
        }
    }
    free(a), free(b), free(tmp);
}

/* The whole-text hash (AVX2 path when the CPU has it) gives XXH3_64bits's
 * values at every length and alignment. */
static void test_text_hash_is_xxh3(void **state)
{
    (void)state;
    size_t cap = 9000;
    unsigned char *buf = malloc(cap + 64);
    assert_non_null(buf);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < cap + 64; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    for (size_t len = 0; len <= cap; len += len < 300 ? 1 : 97)
        for (size_t off = 0; off < 64; off += 13)
            assert_true(dd_text_hash(buf + off, len) == XXH3_64bits(buf + off, len));
    free(buf);
}

/* Shingle hashes (sketch.c writes XXH3 of 32 bytes out by hand): with
 * every hash kept, the sample is exactly the sorted distinct top halves of
 * XXH3_64bits over each run of four token hashes.  Both ways to keep them
 * all: rate 1 (the unrolled loop that only samples), and a sample_min no
 * text reaches (the short-text path, which hashes every shingle again). */
static void test_shingle_hash_is_xxh3(void **state)
{
    (void)state;
    dd_sketch_cfg_t c = {.shingle_size = 4, .sample_rate = 1, .sample_min = 1,
                         .sample_max = 65536, .anchor_rate = 1, .anchor_min = 0,
                         .anchor_max = 1};
    dd_scratch_t s = {0};
    uint64_t x = 88172645463325252ull;
    for (size_t iter = 0; iter < 40; iter++) {
        size_t ntok = 4 + (iter % 20) * 37;
        if (iter == 20) {
            c.sample_rate = 4096;
            c.sample_min = 65536;
        }
        assert_int_equal(dd_grow((void **)&s.tok, &s.tok_cap, ntok, sizeof *s.tok), 0);
        for (size_t i = 0; i < ntok; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s.tok[i] = i % 5 == 4 ? 0 : i % 7 == 6 ? ~0ull : x; /* edge values too */
        }
        s.ntok = ntok;
        s.canon_len = 0;
        dd_sketch_t sk;
        assert_int_equal(dd_sketch_build(&c, &s, "", 0, &sk), 0);
        uint32_t *want = malloc(ntok * sizeof *want), *tmp = malloc(ntok * sizeof *tmp);
        assert_non_null(want);
        assert_non_null(tmp);
        size_t n = ntok - 3;
        for (size_t i = 0; i < n; i++)
            want[i] = (uint32_t)(XXH3_64bits(s.tok + i, 32) >> 32);
        n = dd_sort_unique(want, n, tmp);
        assert_int_equal(sk.s.n, n);
        assert_memory_equal(sk.s.h, want, n * sizeof *want);
        free(want);
        free(tmp);
    }
    dd_scratch_free(&s);
}

/* The batch probe of the anchor postings gives the postings of every key,
 * in key order, exactly as one dd_anchors_get per key: keys with many
 * postings, repeats, absent keys and key 0 (stored as 1), in a table
 * crowded enough that probe runs cross. */
struct anchor_log {
    uint32_t got[4096][2];
    size_t n;
};
static void anchor_one(void *ctx, uint32_t seq)
{
    struct anchor_log *l = ctx;
    l->got[l->n][0] = UINT32_MAX; /* filled in by the caller's key index */
    l->got[l->n++][1] = seq;
}
static void anchor_many(void *ctx, size_t i, uint32_t seq)
{
    struct anchor_log *l = ctx;
    l->got[l->n][0] = (uint32_t)i;
    l->got[l->n++][1] = seq;
}
static void test_anchor_batch_probe(void **state)
{
    (void)state;
    dd_anchors_t *a = dd_anchors_new(1200); /* keys on both sides of the split */
    assert_non_null(a);
    uint32_t x = 2463534242u;
    for (uint32_t seq = 1; seq <= 600; seq++)
        for (int k = 0; k < 5; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            uint32_t key = k == 0 ? seq % 7 : k == 1 ? 1000 + seq % 50 : x % 3000;
            assert_true(dd_anchors_add(a, key, seq, 64) >= 0);
        }
    uint32_t keys[300];
    uint64_t hash[300];
    for (size_t i = 0; i < 300; i++) {
        keys[i] = i < 10 ? (uint32_t)i : i < 60 ? 1000 + (uint32_t)i % 60 : (uint32_t)(i * 37 % 5000);
        hash[i] = dd_anchors_hash(keys[i]);
    }
    static struct anchor_log want, got;
    want.n = got.n = 0;
    for (size_t i = 0; i < 300; i++) {
        size_t before = want.n;
        size_t c = dd_anchors_get(a, keys[i], anchor_one, &want);
        assert_int_equal(c, want.n - before);
        for (size_t k = before; k < want.n; k++)
            want.got[k][0] = (uint32_t)i;
    }
    assert_true(want.n > 600);
    /* the bulk table hashes (eight at a time with AVX2) are the one-key ones */
    uint64_t bulk[300];
    for (size_t n = 0; n <= 300; n += n < 40 ? 1 : 37) {
        memset(bulk, 0xAB, sizeof bulk);
        dd_anchors_hash_many(keys, n, bulk);
        for (size_t i = 0; i < n; i++)
            assert_true(bulk[i] == hash[i]);
    }
    uint32_t edge[9] = {0, 1, UINT32_MAX, 0x80000000u, 2, 0, 7, UINT32_MAX - 1, 0};
    dd_anchors_hash_many(edge, 9, bulk);
    for (size_t i = 0; i < 9; i++)
        assert_true(bulk[i] == dd_anchors_hash(edge[i]));
    dd_anchors_get_many_h(a, keys, hash, 300, anchor_many, &got);
    assert_int_equal(got.n, want.n);
    assert_memory_equal(got.got, want.got, want.n * sizeof want.got[0]);
    /* ascending keys (what the lookup passes): the sorted probe finds the
     * same postings in the same order, for every count and at every place
     * of the split (key 0 and keys equal to the split among them) */
    keys[150] = 1200;
    keys[151] = 1200;
    qsort(keys, 300, sizeof keys[0], cmp_u32);
    for (size_t i = 0; i < 300; i++)
        hash[i] = dd_anchors_hash(keys[i]);
    for (size_t n = 0; n <= 300; n += n < 20 ? 1 : 23) {
        want.n = got.n = 0;
        dd_anchors_get_many_h(a, keys, hash, n, anchor_many, &want);
        dd_anchors_get_sorted_h(a, keys, hash, n, anchor_many, &got);
        assert_int_equal(got.n, want.n);
        assert_memory_equal(got.got, want.got, want.n * sizeof want.got[0]);
        if (n == 300)
            assert_true(want.n > 600);
    }
    dd_anchors_free(a);
    /* adding a document's anchors in one call leaves the tables as one
     * call per key does: the same postings in the same order for every key
     * (repeats, keys at posting_max, key 0, both tables, growth) */
    {
        dd_anchors_t *one = dd_anchors_new(1200), *many = dd_anchors_new(1200);
        assert_non_null(one);
        assert_non_null(many);
        uint32_t dk[24];
        uint64_t dh[24];
        uint32_t y = 88675123u;
        for (uint32_t seq = 1; seq <= 2000; seq++) {
            for (int k = 0; k < 24; k++) {
                y ^= y << 13, y ^= y >> 17, y ^= y << 5;
                dk[k] = k == 0 ? 0 : k == 1 ? seq % 5 : k < 4 ? 1100 + y % 200 : y % 9000;
                dh[k] = dd_anchors_hash(dk[k]);
            }
            dk[5] = dk[4]; /* a repeat within the document */
            dh[5] = dh[4];
            for (int k = 0; k < 24; k++)
                assert_true(dd_anchors_add_h(one, dk[k], dh[k], seq, 8) >= 0);
            assert_int_equal(dd_anchors_add_many_h(many, dk, dh, 24, seq, 8), 0);
        }
        assert_int_equal(dd_anchors_count(many), dd_anchors_count(one));
        for (uint32_t key = 0; key < 9000; key++) {
            want.n = got.n = 0;
            dd_anchors_get(one, key, anchor_one, &want);
            dd_anchors_get(many, key, anchor_one, &got);
            assert_int_equal(got.n, want.n);
            assert_memory_equal(got.got, want.got, want.n * sizeof want.got[0]);
        }
        dd_anchors_free(one);
        dd_anchors_free(many);
    }
    /* one table empty: postings only above, then only at or below the split */
    for (int side = 0; side < 2; side++) {
        a = dd_anchors_new(side == 0 ? 5 : 100000);
        assert_non_null(a);
        for (uint32_t seq = 1; seq <= 200; seq++)
            assert_true(dd_anchors_add(a, 10 + seq % 97, seq, 64) >= 0);
        want.n = got.n = 0;
        dd_anchors_get_many_h(a, keys, hash, 300, anchor_many, &want);
        dd_anchors_get_sorted_h(a, keys, hash, 300, anchor_many, &got);
        assert_true(want.n > 0);
        assert_int_equal(got.n, want.n);
        assert_memory_equal(got.got, want.got, want.n * sizeof want.got[0]);
        dd_anchors_free(a);
    }
}

/* The boilerplate table's counter slots worked out in bulk (eight at a
 * time with AVX2 when the CPU has it) are the one-hash reference's, for
 * every count (the tail after the last group of eight too), edge hashes,
 * and two table sizes; and counts added from slots read back per hash. */
static void test_df_slots_match_reference(void **state)
{
    (void)state;
    static uint32_t h[1000];
    static dd_dfslot_t slot[1000];
    uint32_t x = 88675123u;
    for (size_t i = 0; i < 1000; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        h[i] = i < 4 ? (uint32_t[]){0, 1, UINT32_MAX, 0x80000000u}[i] : x;
    }
    for (int size = 0; size < 2; size++) {
        dd_df_t *df = dd_df_new(size == 0 ? 50 : 10000, 256);
        assert_non_null(df);
        for (size_t n = 0; n <= 40; n++) {
            memset(slot, 0xAB, sizeof slot);
            dd_df_slots(df, h + n, n, slot);
            for (size_t i = 0; i < n; i++)
                assert_true(slot[i] == dd_df_slot(df, h[n + i]));
        }
        dd_df_slots(df, h, 1000, slot);
        for (size_t i = 0; i < 1000; i++)
            assert_true(slot[i] == dd_df_slot(df, h[i]));
        assert_int_equal(dd_df_add_slots(df, slot, 200, 7), 0);
        assert_int_equal(dd_df_add_slots(df, slot + 100, 200, 8), 0);
        for (size_t i = 0; i < 200; i++)
            assert_true(dd_df_get(df, h[i]) >= (i >= 100 ? 2u : 1u));
        /* the bulk read (slots in groups) is the one-hash read */
        static uint16_t got[1000];
        for (size_t n = 0; n <= 1000; n += n < 80 ? 1 : 123) {
            dd_df_get_many(df, h, n, got);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(got[i], dd_df_get(df, h[i]));
        }
        dd_df_free(df);
    }
}

/* A comparison gives the same counts and decision whether the new
 * document's sample is merged with the candidate's (dd__isect_avx2 and
 * dd__bonly_avx2 when the CPU has AVX2) or the candidate's entries are
 * looked up in the set: samples of every size around the block width
 * (0-40, and up to 600), overlaps from none to all, every tau cut, x's
 * frequencies on both sides of the limit, limit 0, and a candidate whose
 * own entries' frequencies are looked up (a copy: high containment) in a
 * table where some of them are common. */
static uint32_t sorted_unique(uint32_t *v, uint32_t n)
{
    qsort(v, n, sizeof *v, cmp_u32);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    return m;
}

static void test_compare_merge_matches_set(void **state)
{
    (void)state;
    dd_verify_cfg_t c = {.jaccard = 0.45, .containment = 0.65, .extension = 0.8,
                         .min_content = 24};
    dd_df_t *df = dd_df_new(1000, 1024);
    assert_non_null(df);
    static uint32_t pool[2048], xh[1024], yh[1024], common[256], scratch[1024];
    static uint16_t xdf[1024], sdf[1024];
    uint32_t r = 2463534242u;
#define RND() (r ^= r << 13, r ^= r >> 17, r ^= r << 5, r)
    for (int k = 0; k < 256; k++)
        common[k] = RND() >> 2;
    /* some shingles held by many documents */
    for (int d = 0; d < 12; d++)
        assert_int_equal(dd_df_add(df, common, 256, (uint64_t)d + 1), 0);
    unsigned merged_df_path = 0;
    for (int t = 0; t < 4000; t++) {
        uint32_t np = t < 1600 ? (uint32_t)(t % 41) + 1 : (uint32_t)(RND() % 600) + 1;
        uint32_t tau = t % 3 == 0 ? UINT32_MAX >> 2 : (RND() >> 2) | 1u;
        for (uint32_t k = 0; k < np; k++)
            pool[k] = k % 5 == 4 ? common[RND() % 256] : RND() >> 2;
        unsigned share = (unsigned)(t % 11) * 10; /* percent of y drawn from x */
        uint32_t nx = 0, ny = 0;
        for (uint32_t k = 0; k < np; k++) {
            if (pool[k] <= tau)
                xh[nx++] = pool[k];
        }
        uint32_t nyw = t % 7 == 0 ? np / 2 + 1 : np;
        for (uint32_t k = 0; k < nyw; k++) {
            uint32_t v = (RND() % 100) < share && nx > 0 ? xh[RND() % nx] : RND() >> 2;
            if (v <= tau || t % 2)
                yh[ny++] = v;
        }
        nx = sorted_unique(xh, nx);
        ny = sorted_unique(yh, ny);
        for (uint32_t k = 0; k < nx; k++)
            xdf[k] = (uint16_t)(t % 4 == 0 ? 0 : RND() % 6);
        dd_sample_t x = {.n = nx, .tau = tau, .h = xh};
        uint32_t ytau = t % 2 ? UINT32_MAX >> 1 : tau;
        dd_record_t y = {.n = ny, .tau = ytau, .h = yh, .cluster_seq = 1};
        unsigned limit = t % 5 == 0 ? 0 : (unsigned)(RND() % 6) + 1;
        dd_cmp_t a, b;
        dd_xset_t s1 = {0}, s2 = {0};
        assert_int_equal(dd_xset_build(&s1, &x, xdf), 0);
        assert_int_equal(dd_xset_build(&s2, &x, xdf), 0);
        s2.no_isect = 1;
        dd_compare(&c, &x, &s1, xdf, &y, df, limit, scratch, sdf, &a);
        dd_compare(&c, &x, &s2, xdf, &y, df, limit, scratch, sdf, &b);
        assert_int_equal(a.nx, b.nx);
        assert_int_equal(a.ny, b.ny);
        assert_int_equal(a.ni, b.ni);
        assert_int_equal(a.pass, b.pass);
        assert_true(a.jaccard == b.jaccard && a.cx == b.cx && a.cy == b.cy && a.small == b.small);
        merged_df_path += limit > 0 && (a.cx >= c.jaccard / 2);
        dd_xset_free(&s1);
        dd_xset_free(&s2);
    }
#undef RND
    assert_true(merged_df_path > 100); /* the frequency lookups were compared too */
    dd_df_free(df);
}

/* Counting frequencies below a limit (eight at a time) is the plain
 * count: every limit edge (0, 1, 65535, 65536, a middle one), lengths
 * around the vector width and past what 16-bit lane counters hold
 * (300,000 entries: 37,500 per lane). */
static void test_count_below(void **state)
{
    (void)state;
    static uint16_t v[300000];
    uint32_t x = 123456789u;
    for (size_t i = 0; i < 300000; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        v[i] = i % 11 == 0 ? 65535 : i % 13 == 0 ? 0 : (uint16_t)(x % 7 == 0 ? x : x % 40);
    }
    const unsigned lims[] = {0, 1, 2, 3, 17, 40, 65534, 65535, 65536, 100000};
    const size_t lens[] = {0, 1, 7, 8, 9, 15, 16, 17, 255, 32767, 32768, 32769, 70000, 300000};
    for (size_t a = 0; a < sizeof lims / sizeof lims[0]; a++)
        for (size_t b = 0; b < sizeof lens / sizeof lens[0]; b++) {
            size_t want = 0;
            for (size_t i = 0; i < lens[b]; i++)
                want += v[i] < lims[a];
            assert_int_equal(dd_count_below(v, lens[b], lims[a]), want);
            if (lens[b] > 3)
                assert_int_equal(dd_count_below(v + 3, lens[b] - 3, lims[a]),
                                 want - (v[0] < lims[a]) - (v[1] < lims[a]) - (v[2] < lims[a]));
        }
}

static void test_normalize_blocks_match_model(void **state)
{
    (void)state;
    static const char *const pieces[] = {" ", " ", " ", "  ", "\n", "\n\n", " \n ", "\t", ",",
                                         ".", "!", "\"", "'", "(", ")", "-", "--", ":", "~",
                                         "{", "@", "[", "_"};
    dd_norm_opts_t o = {.fold = NULL, .fold_diacritics = 1, .strip_markup = 1};
    dd_scratch_t s = {0};
    char text[256], canon[256];
    uint64_t tok[256];
    uint32_t x = 2463534242u;
    /* even iterations: 32-byte blocks when the CPU has AVX2; odd: 16-byte */
    for (int iter = 0; iter < 40000; iter++) {
        o.sse2_only = iter & 1;
        size_t n = 0;
        while (n < 200) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if (x % 3 != 0) {
                /* a word of 1-20 letters and digits, some upper case */
                unsigned wl = 1 + (x >> 8) % 20;
                for (unsigned k = 0; k < wl && n < 200; k++) {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                    text[n++] = al[x % (sizeof al - 1)];
                }
            } else {
                const char *pc = pieces[(x >> 8) % (sizeof pieces / sizeof pieces[0])];
                for (; *pc && n < 200; pc++)
                    text[n++] = *pc;
            }
            if ((x >> 20) % 23 == 0)
                break;
        }
        text[n] = '\0';
        size_t nt = 0;
        size_t cl = ascii_model(text, canon, tok, &nt);
        assert_int_equal(dd_normalize(&o, text, n, &s), 0);
        if (s.canon_len != cl || memcmp(s.canon, canon, cl) != 0)
            fail_msg("canonical text differs for \"%s\": \"%.*s\" vs \"%.*s\"", text,
                     (int)s.canon_len, s.canon, (int)cl, canon);
        assert_int_equal(s.ntok, nt);
        assert_memory_equal(s.tok, tok, nt * sizeof *tok);
    }
    /* A token that starts in the ASCII blocks and goes on with a non-ASCII
     * letter is one token ("Café" = "cafe"), wherever the block ends. */
    for (int k = 0; k < 40; k++) {
        char a[128], b[128];
        memset(a, 'Q', (size_t)k);
        memset(b, 'q', (size_t)k);
        snprintf(a + k, sizeof a - (size_t)k, " Caf\xc3\xa9s, and  more words follow here");
        snprintf(b + k, sizeof b - (size_t)k, " cafes, and more words follow here");
        assert_int_equal(dd_normalize(&o, a, strlen(a), &s), 0);
        size_t n1 = s.ntok;
        uint64_t t1[16];
        memcpy(t1, s.tok, n1 * sizeof *t1);
        assert_int_equal(dd_normalize(&o, b, strlen(b), &s), 0);
        assert_int_equal(s.ntok, n1);
        assert_memory_equal(s.tok, t1, n1 * sizeof *t1);
    }
    dd_scratch_free(&s);
}

/* Blocks dense with tokens (up to 16 in a 16-byte block, 32 in a 32-byte
 * one: one-letter words between single separators) and long tokens, at
 * every offset and length, in both block paths, against the model: the
 * block path writes token offsets eight at a time and goes on past eight
 * only when a block has more. */
static void test_normalize_dense_tokens_match_model(void **state)
{
    (void)state;
    dd_norm_opts_t o = {.fold = NULL, .fold_diacritics = 1, .strip_markup = 1};
    dd_scratch_t s = {0};
    char text[600], canon[600];
    uint64_t tok[600];
    static const char *const seps = " ,.-/";
    for (int iter = 0; iter < 4000; iter++) {
        o.sse2_only = iter & 1;
        unsigned pre = (unsigned)(iter / 2) % 40, run = 20 + (unsigned)(iter / 80) % 400;
        size_t n = 0;
        for (unsigned k = 0; k < pre; k++)
            text[n++] = 'P';
        text[n++] = ' ';
        for (unsigned k = 0; k < run && n + 40 < sizeof text; k++) {
            /* mostly one-letter words, now and then a long one */
            unsigned wl = (k * 7 + (unsigned)iter) % 23 == 0 ? 1 + (k + (unsigned)iter) % 30 : 1;
            for (unsigned j = 0; j < wl; j++)
                text[n++] = (char)((j + k) % 3 == 0 ? 'A' + (k + j) % 26 : 'a' + (k * 3 + j) % 26);
            text[n++] = seps[(k / 3 + (unsigned)iter) % 5];
        }
        memcpy(text + n, " tail of the text here", 22);
        n += 22;
        text[n] = '\0';
        size_t nt = 0;
        size_t cl = ascii_model(text, canon, tok, &nt);
        assert_int_equal(dd_normalize(&o, text, n, &s), 0);
        if (s.canon_len != cl || memcmp(s.canon, canon, cl) != 0)
            fail_msg("canonical text differs for \"%s\"", text);
        assert_int_equal(s.ntok, nt);
        assert_memory_equal(s.tok, tok, nt * sizeof *tok);
    }
    dd_scratch_free(&s);
}

/* The table of common characters (dd_norm_prepare) gives what the full
 * utf8proc path gives, for every character it covers, in every context,
 * with every option set. */
static void test_normalize_prepared_table_matches_full_path(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    char ent[4200], pf[4200];
    snprintf(ent, sizeof ent, "%s/html-entities.tsv", data_dir);
    snprintf(pf, sizeof pf, "%s/punct-fold.tsv", data_dir);
    dd_fold_t *fold = NULL;
    assert_int_equal(dd_fold_load(ent, pf, &fold, &err), TM_OK);
    /* '@' stands for the character */
    /* the long ones take the 32-byte block path around the character */
    static const char *const ctx[] = {
        "ab@cd", "ab @ cd", "@x", "x@", "A@@B", "caf\xc3\xa9@s", "1@2", "@", "word@\xcc\x81next",
        "The quick brown fox jumps over the lazy dog@s and then the next words follow on",
        "A first line of plain words that is long enough for the blocks,@ and on and on here",
        "Plain words before it@@ and more of them after it, plenty for a 32-byte block path",
        "Plain words before it @\n\nand more of them after it, plenty for a 32-byte block path",
        "Words words words words words words@\xc3\xa9t\xc3\xa9 words words words words words",
        "Short then a very long run of text that goes on@ 12345 and further words past the end"};
    dd_scratch_t s1 = {0}, s2 = {0};
    size_t prepared = 0;
    for (int cfg = 0; cfg < 8; cfg++) {
        dd_norm_opts_t full = {.fold = (cfg & 4) ? NULL : fold, .fold_diacritics = cfg & 1,
                               .strip_markup = (cfg >> 1) & 1};
        dd_norm_opts_t fast = full;
        assert_int_equal(dd_norm_prepare(&fast), 0);
        assert_non_null(fast.uni);
        for (int32_t cp = 0x80; cp < 0x2080; cp++) {
            if (cp == 0xC0)
                cp = 0x2000;
            const dd_uni_entry_t *e = cp < 0xC0 ? &fast.uni[cp - 0x80]
                                                : &fast.uni[DD_UNI_LAT1 + (cp - 0x2000)];
            prepared += e->kind != DD_UNI_FULL;
            char u[8];
            int ul = (int)utf8proc_encode_char(cp, (utf8proc_uint8_t *)u);
            u[ul] = '\0';
            for (size_t k = 0; k < sizeof ctx / sizeof ctx[0]; k++) {
                char text[256];
                size_t tl = 0;
                for (const char *c = ctx[k]; *c; c++) {
                    if (*c == '@') {
                        memcpy(text + tl, u, (size_t)ul);
                        tl += (size_t)ul;
                    } else {
                        text[tl++] = *c;
                    }
                }
                text[tl] = '\0';
                assert_int_equal(dd_normalize(&full, text, strlen(text), &s1), 0);
                assert_int_equal(dd_normalize(&fast, text, strlen(text), &s2), 0);
                if (s1.canon_len != s2.canon_len || memcmp(s1.canon, s2.canon, s1.canon_len) != 0)
                    fail_msg("U+%04X in \"%s\" (options %d): \"%.*s\" vs \"%.*s\"", (unsigned)cp,
                             ctx[k], cfg, (int)s1.canon_len, s1.canon, (int)s2.canon_len, s2.canon);
                assert_int_equal(s1.ntok, s2.ntok);
                assert_memory_equal(s1.tok, s2.tok, s1.ntok * sizeof *s1.tok);
            }
        }
        dd_norm_release(&fast);
        assert_null(fast.uni);
    }
    /* most of the covered range is punctuation, spaces and format characters */
    assert_true(prepared > 8 * 100);
    dd_scratch_free(&s1);
    dd_scratch_free(&s2);
    dd_fold_free(fold);
}

int main(void)
{
    const char *src = getenv("TM_SRCDIR");
    snprintf(data_dir, sizeof data_dir, "%s/plugins/dedup", src != NULL ? src : ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_normalised_exact),
        cmocka_unit_test(test_annotation_text_escapes_ids),
        cmocka_unit_test(test_json_milli_is_printf),
        cmocka_unit_test(test_near_copy_under_other_chrome),
        cmocka_unit_test(test_truncated_copy_has_containment),
        cmocka_unit_test(test_copy_of_copy_points_to_earliest),
        cmocka_unit_test(test_same_event_articles_stay_apart),
        cmocka_unit_test(test_degenerate_input),
        cmocka_unit_test(test_markup_and_entities_fold),
        cmocka_unit_test(test_index_survives_restart),
        cmocka_unit_test(test_corrupt_index_refused),
        cmocka_unit_test(test_config_validated),
        cmocka_unit_test(test_sort_unique),
        cmocka_unit_test(test_text_hash_is_xxh3),
        cmocka_unit_test(test_shingle_hash_is_xxh3),
        cmocka_unit_test(test_anchor_batch_probe),
        cmocka_unit_test(test_df_slots_match_reference),
        cmocka_unit_test(test_count_below),
        cmocka_unit_test(test_compare_merge_matches_set),
        cmocka_unit_test(test_normalize_blocks_match_model),
        cmocka_unit_test(test_normalize_dense_tokens_match_model),
        cmocka_unit_test(test_normalize_prepared_table_matches_full_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
