/*
 * sentiment.c - the "sentiment" stage: parameters, start-up (lexicons,
 * rules, names, people model), and process(): tokenize, score sentences,
 * find people, run the people model, and write annotations.sentiment
 * (document, sentences, quotes, entities).  Everything read at start-up is
 * read-only afterwards; per-thread scratch lives in thread_init's state.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <textmill/stage.h>

#include "jsonw.h"
#include "lexicon.h"
#include "model.h"
#include "people.h"
#include "score.h"
#include "text.h"

typedef struct sentiment_stage {
    const tm_host_t *host;
    sl_lexicon_t lx;
    sv_params_t sp;
    pm_model_t model;
    double people_bias[PM_CLASSES];
    int sentences, entities, debug_features, raw_output;
    size_t max_mentions, max_entities, max_evidence;
    tm_metric_t *m_entities;
} sentiment_stage_t;

typedef struct sentiment_tls {
    st_doc_t d;
    pp_doc_t p;
    pm_feats_t f, sf;
    jw_buf_t out, dbg;       /* the lists being written; debug feature text */
    uint32_t *cnt, *order, *dbg_off; /* write_entities' grouping scratch */
    size_t cnt_cap, order_cap, dbg_cap;
} sentiment_tls_t;

static const tm_param_t sentiment_params[] = {
    {.key = "lexicon", .type = TM_PARAM_PATH, .default_json = "\"vader_lexicon.txt\"",
     .description = "valence lexicon, VADER format: TOKEN<TAB>MEAN(-4..4)[<TAB>...]; a token "
                    "with spaces is a phrase"},
    {.key = "extra_lexicons", .type = TM_PARAM_PATH_LIST, .default_json = "[]",
     .description = "more valence files in the same format, loaded after \"lexicon\" (later "
                    "entries override earlier ones)"},
    {.key = "inflections", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "give unknown inflected forms of lexicon words (deaths, loved, sensibly) "
                    "their base word's valence"},
    {.key = "un_prefix", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "with inflections: \"un\" + a positive lexicon word the lexicon lacks "
                    "(unfunny, unconvincing) is that word negated (valence x negation_scalar)"},
    {.key = "learned_lexicon", .type = TM_PARAM_PATH, .default_json = "\"news_lexicon.txt\"",
     .description = "learned valences (VADER format) for words the lexicon lacks, trained on "
                    "news by train/train_targets.py; \"\" for none"},
    {.key = "learned_weight", .type = TM_PARAM_DOUBLE, .default_json = "0.2", .min = 0, .max = 10,
     .description = "multiplier of the learned valences (0: off)"},
    {.key = "emoji_lexicon", .type = TM_PARAM_PATH,
     .default_json = "\"vader_emoji_utf8_lexicon.txt\"",
     .description = "emoji descriptions (EMOJI<TAB>words); an emoji is scored as its words"},
    {.key = "rules", .type = TM_PARAM_PATH_LIST, .default_json = "[\"rules.txt\"]",
     .description = "rule word files: boosters, negations, contrast words, idioms (see rules.txt)"},
    {.key = "names", .type = TM_PARAM_PATH_LIST, .default_json = "[\"names.txt\"]",
     .description = "word classes for finding people: titles, pronouns, speech verbs, "
                    "non-names, organisation words (see names.txt)"},
    {.key = "people_model", .type = TM_PARAM_PATH, .default_json = "\"people_model.txt\"",
     .description = "weights of the people model (train/train_targets.py writes them)"},
    {.key = "sentences", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "report each sentence's offsets and compound"},
    {.key = "entities", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "find people and report the sentiment toward each"},
    {.key = "max_mentions", .type = TM_PARAM_INT, .default_json = "5000", .min = 1, .max = 1e6,
     .description = "person mentions considered per document, at most"},
    {.key = "max_entities", .type = TM_PARAM_INT, .default_json = "300", .min = 1, .max = 1e5,
     .description = "people reported per document, at most"},
    {.key = "max_evidence", .type = TM_PARAM_INT, .default_json = "20", .min = 0, .max = 1e4,
     .description = "evidence sentences listed per person, at most"},
    {.key = "caps_increment", .type = TM_PARAM_DOUBLE, .default_json = "0.733", .min = 0, .max = 4,
     .description = "added to a sentiment word (or booster) in ALL CAPS amid lower case (VADER)"},
    {.key = "negation_scalar", .type = TM_PARAM_DOUBLE, .default_json = "-0.6", .min = -2,
     .max = 0, .description = "a negated word's valence is multiplied by this (VADER)"},
    {.key = "negation_window", .type = TM_PARAM_INT, .default_json = "3", .min = 1, .max = 8,
     .description = "words before a sentiment word searched for a negation"},
    {.key = "but_before", .type = TM_PARAM_DOUBLE, .default_json = "0.3", .min = 0, .max = 4,
     .description = "weight of sentiment before a contrast word (\"but\") in its sentence"},
    {.key = "but_after", .type = TM_PARAM_DOUBLE, .default_json = "1.5", .min = 0, .max = 4,
     .description = "weight of sentiment after a contrast word in its sentence"},
    {.key = "exclamation_step", .type = TM_PARAM_DOUBLE, .default_json = "0.292", .min = 0,
     .max = 4, .description = "emphasis added per '!' (VADER)"},
    {.key = "max_exclamations", .type = TM_PARAM_INT, .default_json = "4", .min = 0, .max = 100,
     .description = "'!' counted at most"},
    {.key = "alpha", .type = TM_PARAM_DOUBLE, .default_json = "12", .min = 0.01, .max = 1000,
     .description = "compound = x / sqrt(x^2 + alpha) of the summed valence x (VADER: 15)"},
    {.key = "neutral_band", .type = TM_PARAM_DOUBLE, .default_json = "0", .min = 0, .max = 4,
     .description = "summed valence within this distance of 0 counts as neutral"},
    {.key = "positive_scale", .type = TM_PARAM_DOUBLE, .default_json = "0.7", .min = 0, .max = 2,
     .description = "positive valences are multiplied by this (the VADER lexicon leans "
                    "positive on edited text; 1: as VADER)"},
    {.key = "polar_damping", .type = TM_PARAM_DOUBLE, .default_json = "0.4", .min = 0, .max = 1,
     .description = "a sentence's summed valence is divided by (its sentiment words)^this "
                    "(0: plain sum, as VADER)"},
    {.key = "negation_bias", .type = TM_PARAM_DOUBLE, .default_json = "-0.3", .min = -4, .max = 4,
     .description = "valence each negation word (not, n't, never, without...) adds to its "
                    "sentence: negated statements lean negative (0: none, as VADER)"},
    {.key = "question_positive", .type = TM_PARAM_DOUBLE, .default_json = "0.5", .min = 0, .max = 1,
     .description = "a question's positive valence is multiplied by this (1: as VADER)"},
    {.key = "doc_sentences", .type = TM_PARAM_DOUBLE, .default_json = "0", .min = 0, .max = 1e6,
     .description = "for documents with more sentences, the summed valence is scaled by "
                    "sqrt(doc_sentences / sentences) (0: never)"},
    {.key = "people_bias", .type = TM_PARAM_JSON, .default_json = "[0, 0, 0]",
     .description = "added to the people model's negative/neutral/positive scores (prior shift)"},
    {.key = "raw_output", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "attach sentences, quotes and entities as pre-serialised JSON (fast; the "
                    "output is the same); false: as cJSON trees, for a later stage that reads "
                    "them through doc_annotation"},
    {.key = "debug_features", .type = TM_PARAM_BOOL, .default_json = "false",
     .description = "add each mention's model features to the output (for training)"},
    {0},
};

static double cfg_num(const cJSON *c, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(c, k)->valuedouble;
}
static const char *cfg_str(const cJSON *c, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(c, k)->valuestring;
}

static void sentiment_destroy(void *instance)
{
    sentiment_stage_t *st = instance;
    if (st == NULL)
        return;
    sl_free(&st->lx);
    pm_free(&st->model);
    free(st);
}

static int load_list(sentiment_stage_t *st, const cJSON *config, const char *key,
                     int (*fn)(sl_lexicon_t *, const char *, tm_err_t *), tm_err_t *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(config, key)) {
        int rc = fn(&st->lx, it->valuestring, err);
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

static int sentiment_create(const tm_host_t *host, const cJSON *config, void **instance,
                            tm_err_t *err)
{
    sentiment_stage_t *st = calloc(1, sizeof *st);
    if (st == NULL || sl_init(&st->lx) != TM_OK) {
        free(st);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory");
    }
    st->host = host;
    int rc = sl_load_valences(&st->lx, cfg_str(config, "lexicon"), err);
    if (rc == TM_OK)
        rc = load_list(st, config, "extra_lexicons", sl_load_valences, err);
    if (rc == TM_OK && cfg_str(config, "emoji_lexicon")[0] != '\0')
        rc = sl_load_emoji(&st->lx, cfg_str(config, "emoji_lexicon"), err);
    if (rc == TM_OK)
        rc = load_list(st, config, "rules", sl_load_rules, err);
    if (rc == TM_OK)
        rc = load_list(st, config, "names", sl_load_rules, err);
    if (rc == TM_OK && cfg_str(config, "learned_lexicon")[0] != '\0' &&
        cfg_num(config, "learned_weight") > 0)
        rc = sl_load_learned(&st->lx, cfg_str(config, "learned_lexicon"), err);
    if (rc == TM_OK && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "inflections")) &&
        (sl_derive_inflections(&st->lx) != TM_OK ||
         (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "un_prefix")) &&
          sl_derive_un(&st->lx, cfg_num(config, "negation_scalar")) != TM_OK)))
        rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory");
    if (rc == TM_OK && sl_freeze(&st->lx) != TM_OK)
        rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory");
    st->entities = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "entities"));
    if (rc == TM_OK && st->entities)
        rc = pm_load(&st->model, cfg_str(config, "people_model"), err);
    if (rc != TM_OK) {
        sentiment_destroy(st);
        return rc;
    }
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(config, "people_bias");
    if (!cJSON_IsArray(pb) || cJSON_GetArraySize(pb) != PM_CLASSES) {
        sentiment_destroy(st);
        return tm_err_set(err, TM_EINVAL, "bad_config",
                          "sentiment: \"people_bias\" must be an array of 3 numbers "
                          "(negative, neutral, positive)");
    }
    for (int k = 0; k < PM_CLASSES; k++) {
        const cJSON *x = cJSON_GetArrayItem(pb, k);
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || fabs(x->valuedouble) > 100) {
            sentiment_destroy(st);
            return tm_err_set(err, TM_EINVAL, "bad_config",
                              "sentiment: \"people_bias\" item %d must be a number in -100..100", k);
        }
        st->people_bias[k] = x->valuedouble;
    }
    sv_params_default(&st->sp);
    st->sp.caps_incr = cfg_num(config, "caps_increment");
    st->sp.neg_scalar = cfg_num(config, "negation_scalar");
    st->sp.negation_window = (int)cfg_num(config, "negation_window");
    st->sp.but_before = cfg_num(config, "but_before");
    st->sp.but_after = cfg_num(config, "but_after");
    st->sp.excl_step = cfg_num(config, "exclamation_step");
    st->sp.excl_max = (int)cfg_num(config, "max_exclamations");
    st->sp.alpha = cfg_num(config, "alpha");
    st->sp.neutral_band = cfg_num(config, "neutral_band");
    st->sp.doc_sentences = cfg_num(config, "doc_sentences");
    st->sp.learned_weight = cfg_num(config, "learned_weight");
    st->sp.polar_damping = cfg_num(config, "polar_damping");
    st->sp.positive_scale = cfg_num(config, "positive_scale");
    st->sp.negation_bias = cfg_num(config, "negation_bias");
    st->sp.question_positive = cfg_num(config, "question_positive");
    sv_params_prepare(&st->sp);
    st->sentences = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "sentences"));
    st->debug_features = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "debug_features"));
    st->raw_output = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "raw_output"));
    st->max_mentions = (size_t)cfg_num(config, "max_mentions");
    st->max_entities = (size_t)cfg_num(config, "max_entities");
    st->max_evidence = (size_t)cfg_num(config, "max_evidence");
    st->m_entities = host->metric_new(host, TM_METRIC_COUNTER, "sentiment_entities_total",
                                      "People reported by the sentiment stage.");
    *instance = st;
    return TM_OK;
}

static int sentiment_thread_init(void *instance, void **tls, tm_err_t *err)
{
    (void)instance;
    sentiment_tls_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory");
    st_doc_init(&t->d);
    pp_doc_init(&t->p);
    *tls = t;
    return TM_OK;
}

static void sentiment_thread_fini(void *instance, void *tls)
{
    (void)instance;
    sentiment_tls_t *t = tls;
    if (t == NULL)
        return;
    st_doc_free(&t->d);
    pp_doc_free(&t->p);
    free(t->f.f);
    free(t->sf.f);
    jw_free(&t->out);
    jw_free(&t->dbg);
    free(t->cnt);
    free(t->order);
    free(t->dbg_off);
    free(t);
}

/* ---- output ------------------------------------------------------------ */

static const char *label_of(double c) { return c >= 0.05 ? "positive" : c <= -0.05 ? "negative" : "neutral"; }

static double round3(double x) { return isfinite(x) ? round(x * 1000.0) / 1000.0 : 0.0; }

static void jw_span(jw_buf_t *b, uint32_t s, uint32_t e)
{
    jw_span_open(b, s, e);
    JW_LIT(b, "},");
}

static void jw_span_compound(jw_buf_t *b, uint32_t s, uint32_t e, double c)
{
    jw_span_open(b, s, e);
    JW_LIT(b, ",\"compound\":");
    jw_num4(b, c);
    JW_LIT(b, "},");
}

/* Attach the writer's list under key: a raw item (or a parsed tree when
 * the config asks for one).  0 on out of memory. */
static int attach(sentiment_stage_t *st, cJSON *a, const char *key, jw_buf_t *b)
{
    cJSON *it = jw_item(b, !st->raw_output);
    return it != NULL && cJSON_AddItemToObjectCS(a, key, it);
}

/* Count '!' and '?' in text[a, b).  Both are rare in a quotation: 16 bytes
 * are compared at a time, and only a block holding one is counted. */
static void punct_counts(const char *text, uint32_t a, uint32_t b, size_t *excl, size_t *quest)
{
    size_t ex = 0, qu = 0;
    uint32_t i = a;
#ifdef __SSE2__
    const __m128i ce = _mm_set1_epi8('!'), cq = _mm_set1_epi8('?');
    for (; b - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(text + i));
        unsigned me = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, ce));
        unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, cq));
        for (; me != 0; me &= me - 1)
            ex++;
        for (; mq != 0; mq &= mq - 1)
            qu++;
    }
#endif
    for (; i < b; i++) {
        if (text[i] == '!')
            ex++;
        else if (text[i] == '?')
            qu++;
    }
    *excl = ex;
    *quest = qu;
}

/* The compound of an entity from its model probabilities: p(pos) - p(neg),
 * kept consistent with the predicted class at the +-0.05 thresholds. */
static double entity_compound(const double prob[PM_CLASSES], int *label)
{
    int k = 0;
    for (int c = 1; c < PM_CLASSES; c++)
        if (prob[c] > prob[k])
            k = c;
    double c = prob[2] - prob[0];
    if (k == 1)
        c = 0.049 * c; /* neutral: inside the band */
    else if (k == 2)
        c = c < 0.05 ? 0.05 : c;
    else
        c = c > -0.05 ? -0.05 : c;
    *label = k;
    if (c > 1)
        c = 1;
    if (c < -1)
        c = -1;
    return c;
}

static int grow_u32(uint32_t **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 1;
    size_t nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    uint32_t *np = realloc(*p, nc * sizeof *np);
    if (np == NULL)
        return 0;
    *p = np;
    *cap = nc;
    return 1;
}

/* Score every mention with the people model, average per person, and write
 * the entities list into t->out.  Returns the number of people written, or
 * -1 on out of memory. */
static long write_entities(sentiment_stage_t *st, sentiment_tls_t *t)
{
    st_doc_t *d = &t->d;
    pp_doc_t *p = &t->p;
    jw_buf_t *b = &t->out;
    jw_reset(b);
    jw_reset(&t->dbg);
    /* Per entity: count, then first slot in order[]; per mention: debug
     * feature text span. */
    if (!grow_u32(&t->cnt, &t->cnt_cap, p->ne + 1) || !grow_u32(&t->order, &t->order_cap, p->nm + 1) ||
        (st->debug_features && !grow_u32(&t->dbg_off, &t->dbg_cap, 2 * p->nm + 2)))
        return -1;
    memset(t->cnt, 0, (p->ne + 1) * sizeof *t->cnt);
    /* The model's sums are made with the features; the lists are kept only
     * for the debug output. */
    t->f.model = t->sf.model = &st->model;
    t->f.store = t->sf.store = st->debug_features;
    for (size_t e = 0; e < p->ne; e++)
        p->ent[e].prob[0] = p->ent[e].prob[1] = p->ent[e].prob[2] = 0;
    uint32_t cur_sent = UINT32_MAX;
    double shared[PM_CLASSES] = {0, 0, 0};
    pm_sentinfo_t sinfo = {.nlex = PM_SENT_LEX + 1}; /* set by pm_sentence_features */
    for (size_t i = 0; i < p->nm; i++) {
        pp_mention_t *m = &p->m[i];
        if (m->entity < 0 || (size_t)m->entity >= p->ne)
            continue;
        if (m->sent != cur_sent) {
            /* The sentence's shared features, scored once for its mentions. */
            cur_sent = m->sent;
            if (!pm_sentence_features(d, p, m->sent, st->model.dim, &t->sf, &sinfo))
                return -1;
            pm_scores_acc(&st->model, t->sf.acc, shared);
        }
        if (!pm_features(d, p, &st->sp, i, st->model.dim, &sinfo, &t->f))
            return -1;
        pm_predict_acc(&st->model, t->f.acc, st->people_bias, shared, m->prob);
        double w = m->kind == PP_PRONOUN ? 0.6 : 1.0;
        pp_entity_t *e = &p->ent[m->entity];
        for (int c = 0; c < PM_CLASSES; c++)
            e->prob[c] += w * m->prob[c];
        t->cnt[m->entity]++;
        if (st->debug_features) {
            jw_buf_t *g = &t->dbg;
            t->dbg_off[2 * i] = (uint32_t)g->len;
            JW_LIT(g, ",\"features\":[");
            for (int part = 0; part < 2; part++) {
                const pm_feats_t *fs = part == 0 ? &t->sf : &t->f;
                for (size_t k = 0; k < fs->n; k++) {
                    jw_char(g, '[');
                    jw_uint(g, fs->f[k].idx);
                    jw_char(g, ',');
                    jw_numg(g, fs->f[k].val);
                    JW_LIT(g, "],");
                }
            }
            jw_unsep(g);
            JW_LIT(g, "],\"kind\":");
            jw_uint(g, m->kind);
            t->dbg_off[2 * i + 1] = (uint32_t)g->len;
            if (g->oom)
                return -1;
        }
    }
    /* Mentions grouped by entity, in document order within each. */
    uint32_t run = 0;
    for (size_t e = 0; e <= p->ne; e++) {
        uint32_t c = t->cnt[e];
        t->cnt[e] = run;
        run += c;
    }
    for (size_t i = 0; i < p->nm; i++) {
        int32_t e = p->m[i].entity;
        if (e >= 0 && (size_t)e < p->ne)
            t->order[t->cnt[e]++] = (uint32_t)i;
    }
    /* cnt[e] is now the end of entity e's run; its start is cnt[e-1]. */
    static const char *const labels[PM_CLASSES] = {"negative", "neutral", "positive"};
    long written = 0;
    jw_char(b, '[');
    for (size_t e = 0; e < p->ne; e++) {
        uint32_t from = e > 0 ? t->cnt[e - 1] : 0, to = t->cnt[e];
        if (from == to)
            continue; /* a quotes-stage speaker without a usable mention */
        pp_entity_t *en = &p->ent[e];
        double wsum = 0;
        for (uint32_t k = from; k < to; k++)
            wsum += p->m[t->order[k]].kind == PP_PRONOUN ? 0.6 : 1.0;
        double prob[PM_CLASSES];
        for (int c = 0; c < PM_CLASSES; c++)
            prob[c] = wsum > 0 ? en->prob[c] / wsum : 1.0 / PM_CLASSES;
        int label;
        double comp = entity_compound(prob, &label);
        JW_LIT(b, "{\"name\":");
        jw_str(b, pp_str(p, en->name_off), strlen(pp_str(p, en->name_off)));
        JW_LIT(b, ",\"compound\":");
        jw_num4(b, comp);
        JW_LIT(b, ",\"label\":\"");
        jw_lit(b, labels[label], strlen(labels[label]));
        jw_char(b, '"');
        if (st->debug_features) {
            JW_LIT(b, ",\"probabilities\":{\"negative\":");
            jw_num4(b, prob[0]);
            JW_LIT(b, ",\"neutral\":");
            jw_num4(b, prob[1]);
            JW_LIT(b, ",\"positive\":");
            jw_num4(b, prob[2]);
            jw_char(b, '}');
        }
        if (en->unresolved)
            JW_LIT(b, ",\"unresolved\":true");
        if (en->from_quotes)
            JW_LIT(b, ",\"source\":\"quotes\"");
        JW_LIT(b, ",\"mentions\":[");
        for (uint32_t k = from; k < to; k++) {
            const pp_mention_t *m = &p->m[t->order[k]];
            jw_span_open(b, m->start, m->end);
            if (st->debug_features) {
                uint32_t a = t->dbg_off[2 * t->order[k]], z = t->dbg_off[2 * t->order[k] + 1];
                jw_lit(b, t->dbg.s + a, z - a);
            }
            JW_LIT(b, "},");
        }
        jw_unsep(b);
        JW_LIT(b, "],\"evidence\":[");
        uint32_t last = UINT32_MAX;
        size_t nev = 0;
        for (uint32_t k = from; k < to && nev < st->max_evidence; k++) {
            const pp_mention_t *m = &p->m[t->order[k]];
            if (m->sent < d->nsent && m->sent != last) {
                jw_span(b, d->sent[m->sent].start, d->sent[m->sent].end);
                last = m->sent;
                nev++;
            }
        }
        jw_unsep(b);
        JW_LIT(b, "]},");
        written++;
    }
    jw_unsep(b);
    jw_char(b, ']');
    return b->oom ? -1 : written;
}

static int sentiment_process(void *instance, void *tls, tm_doc_t *doc, tm_err_t *err)
{
    sentiment_stage_t *st = instance;
    sentiment_tls_t *t = tls;
    const tm_host_t *h = st->host;
    size_t len = 0;
    const char *text = h->doc_text(doc, &len);
    if (text == NULL)
        len = 0;
    if (len > UINT32_MAX - 1)
        return tm_err_set(err, TM_EDOC, "too_large", "sentiment: text longer than 4 GiB");
    if (st_tokenize(&t->d, &st->lx, text != NULL ? text : "", len) != TM_OK)
        return tm_err_set(err, TM_EDOC, "out_of_memory", "sentiment: out of memory");
    sv_score(&t->d, &st->lx, &st->sp);
    sv_totals_t tot;
    sv_document(&t->d, &st->sp, &tot);

    /* The document's own numbers stay ordinary cJSON numbers (a later stage
     * may read them); the bulk lists are written by jsonw.c. */
    cJSON *a = cJSON_CreateObject();
    if (a == NULL)
        return tm_err_set(err, TM_EDOC, "out_of_memory", "sentiment: out of memory");
    double comp = isfinite(tot.compound) ? round(tot.compound * 10000.0) / 10000.0 : 0.0;
    int ok = cJSON_AddNumberToObject(a, "compound", comp) != NULL &&
             cJSON_AddNumberToObject(a, "pos", round3(tot.pos)) != NULL &&
             cJSON_AddNumberToObject(a, "neg", round3(tot.neg)) != NULL &&
             cJSON_AddNumberToObject(a, "neu", round3(tot.neu)) != NULL &&
             cJSON_AddStringToObject(a, "label", label_of(comp)) != NULL;
    jw_buf_t *b = &t->out;
    if (ok && st->sentences) {
        jw_reset(b);
        jw_char(b, '[');
        for (size_t i = 0; i < t->d.nsent; i++) {
            const st_sentence_t *se = &t->d.sent[i];
            jw_span_compound(b, se->start, se->end, se->compound);
        }
        jw_unsep(b);
        jw_char(b, ']');
        ok = attach(st, a, "sentences", b);
    }
    const cJSON *quotes = h->doc_annotation(doc, "quotes");
    if (ok && cJSON_IsArray(quotes)) {
        /* Each quote's span and tokens, read once (pp_find uses them too). */
        ok = pp_parse_quotes(&t->p, &t->d, quotes) == TM_OK;
        jw_reset(b);
        jw_char(b, '[');
        for (size_t k = 0; ok && k < t->p.nq; k++) {
            const pp_quote_t *pq = &t->p.q[k];
            /* A span of the text without tokens scores 0, as the empty
             * token range does. */
            double c = 0;
            if (pq->ok) {
                size_t ex, qu;
                punct_counts(text, pq->start, pq->end, &ex, &qu);
                c = sv_compound_range(&t->d, &st->sp, pq->tok_begin, pq->tok_end, ex, qu);
            }
            jw_span_compound(b, pq->start, pq->end, c);
        }
        jw_unsep(b);
        jw_char(b, ']');
        ok = ok && attach(st, a, "quotes", b);
    }
    if (ok && st->entities) {
        const cJSON *meta = h->doc_meta(doc);
        const cJSON *targets =
            meta != NULL ? cJSON_GetObjectItemCaseSensitive(meta, "sentiment_targets") : NULL;
        t->p.max_entities = st->max_entities;
        t->p.lx = &st->lx;
        long n = -1;
        if (pp_find(&t->p, &t->d, quotes, h->doc_annotation(doc, "speakers"), targets,
                    st->max_mentions) == TM_OK)
            n = write_entities(st, t);
        ok = n >= 0 && attach(st, a, "entities", b);
        if (ok)
            h->metric_add(st->m_entities, (double)n);
    }
    if (!ok) {
        cJSON_Delete(a);
        return tm_err_set(err, TM_EDOC, "out_of_memory", "sentiment: out of memory");
    }
    int rc = h->doc_annotate(doc, "sentiment", a);
    if (rc != TM_OK)
        return tm_err_set(err, TM_EDOC, "annotate_failed", "sentiment: cannot annotate (%d)", rc);
    return TM_OK;
}

static const tm_stage_desc_t sentiment_stage = {
    TM_STAGE_DESC_HEADER,
    .name = "sentiment",
    .version = "1.0.0",
    .description = "document, sentence, quote and per-person sentiment (VADER-style lexicon "
                   "rules + a trained people model)",
    .params = sentiment_params,
    .create = sentiment_create,
    .destroy = sentiment_destroy,
    .thread_init = sentiment_thread_init,
    .thread_fini = sentiment_thread_fini,
    .process = sentiment_process,
};

TM_STAGE_EXPORT(sentiment_stage)
