/*
 * quotes.c - the quotes stage: direct, mixed and indirect quotations with
 * their resolved speakers, in annotations.quotes and annotations.speakers.
 *
 * This file owns the plugin glue: the parameter table, loading the lexicon
 * files named in the config, per-thread scratch space, and the process hook
 * that runs the passes of qt.h in order.  The algorithm is described in
 * plugins/quotes/README.md.
 */
#include <stdlib.h>
#include <string.h>
#include <textmill/stage.h>

#include "qt.h"

typedef struct quotes_stage {
    const tm_host_t *host;
    qt_lex_t lex;
    qt_cfg_t cfg;
    tm_metric_t *m_quotes;
    tm_metric_t *m_docs;
} quotes_stage_t;

static const tm_param_t quotes_params[] = {
    {.key = "cue_verbs", .type = TM_PARAM_PATH, .default_json = "\"cue_verbs.txt\"",
     .description = "reporting verbs, one lemma a line: \"lemma: forms... @tags\""},
    {.key = "lexicons", .type = TM_PARAM_PATH_LIST,
     .default_json = "[\"cue_phrases.txt\", \"titles.txt\", \"roles.txt\", \"pronouns.txt\", "
                     "\"function_words.txt\"]",
     .description = "word lists, one entry a line: \"word or phrase @tag...\" (see README)"},
    {.key = "extra_cue_verbs", .type = TM_PARAM_STRING_LIST, .default_json = "[]",
     .description = "more reporting verbs, each a line in the cue_verbs format"},
    {.key = "extra_words", .type = TM_PARAM_STRING_LIST, .default_json = "[]",
     .description = "more lexicon entries, each a line in the lexicons format"},
    {.key = "min_words_unattributed", .type = TM_PARAM_INT, .default_json = "4", .min = 1,
     .max = 1000,
     .description = "a quotation with no speaker is reported only from this many words "
                    "(shorter ones are scare quotes, titles, nicknames)"},
    {.key = "indirect", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "report indirect speech (\"Trump said that he will ...\")"},
    {.key = "belief_verbs", .type = TM_PARAM_BOOL, .default_json = "false",
     .description = "also report clauses of thought/belief verbs (@belief) as indirect"},
    {.key = "mixed_clauses", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "report the reported clause around a short quoted fragment as well"},
    {.key = "single_quotes", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "pair single quote marks (UK style, headlines) outside double quotes"},
    {.key = "continuation", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "a quote opening a paragraph without a cue continues the previous speaker"},
    {.key = "speakers", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "emit annotations.speakers (people, roles, mentions)"},
    {.key = "min_confidence", .type = TM_PARAM_DOUBLE, .default_json = "0", .min = 0, .max = 1,
     .description = "drop quotations whose confidence is below this"},
    {.key = "raw_output", .type = TM_PARAM_BOOL, .default_json = "false",
     .description = "attach quotes and speakers as pre-serialised JSON only (the result is "
                    "the same): a little cheaper when no later stage reads them, much dearer "
                    "when one does (it parses them); false: the JSON text with its cJSON tree "
                    "beside it, for the default pipeline, where sentiment reads both"},
    {0},
};

static int cfg_bool(const cJSON *c, const char *k)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, k));
}

static void quotes_destroy(void *instance)
{
    quotes_stage_t *st = instance;
    if (st == NULL)
        return;
    qt_lex_free(&st->lex);
    free(st);
}

static int load_lines(quotes_stage_t *st, const cJSON *list, int kind, const char *key, tm_err_t *err)
{
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, list)
    {
        char msg[300];
        if (!cJSON_IsString(it) || qt_lex_line(&st->lex, it->valuestring, kind, msg, sizeof msg) != 0)
            return tm_err_set(err, TM_EINVAL, "bad_lexicon_entry", "quotes: \"%s\"[%d]: %s", key,
                              i, cJSON_IsString(it) ? msg : "not a string");
        i++;
    }
    return TM_OK;
}

static int quotes_create(const tm_host_t *host, const cJSON *config, void **instance, tm_err_t *err)
{
    quotes_stage_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "quotes: out of memory");
    st->host = host;
    qt_lex_init(&st->lex);
    char msg[400];
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(config, "cue_verbs");
    if (!cJSON_IsString(cv) || qt_lex_load(&st->lex, cv->valuestring, QT_FILE_CUES, msg, sizeof msg) != 0) {
        int rc = tm_err_set(err, TM_EIO, "lexicon_unreadable", "quotes: \"cue_verbs\": %s",
                            cJSON_IsString(cv) ? msg : "not a path");
        quotes_destroy(st);
        return rc;
    }
    const cJSON *lx = cJSON_GetObjectItemCaseSensitive(config, "lexicons"), *it;
    cJSON_ArrayForEach(it, lx)
    {
        if (!cJSON_IsString(it) || qt_lex_load(&st->lex, it->valuestring, QT_FILE_TAGGED, msg, sizeof msg) != 0) {
            int rc = tm_err_set(err, TM_EIO, "lexicon_unreadable", "quotes: \"lexicons\": %s",
                                cJSON_IsString(it) ? msg : "not a path");
            quotes_destroy(st);
            return rc;
        }
    }
    int rc = load_lines(st, cJSON_GetObjectItemCaseSensitive(config, "extra_cue_verbs"), QT_FILE_CUES,
                        "extra_cue_verbs", err);
    if (rc == TM_OK)
        rc = load_lines(st, cJSON_GetObjectItemCaseSensitive(config, "extra_words"), QT_FILE_TAGGED,
                        "extra_words", err);
    if (rc == TM_OK && qt_lex_pack(&st->lex) != 0)
        rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "quotes: out of memory");
    if (rc != TM_OK) {
        quotes_destroy(st);
        return rc;
    }
    st->cfg.min_words_unattributed =
        cJSON_GetObjectItemCaseSensitive(config, "min_words_unattributed")->valueint;
    st->cfg.indirect = cfg_bool(config, "indirect");
    st->cfg.belief = cfg_bool(config, "belief_verbs");
    st->cfg.mixed_clauses = cfg_bool(config, "mixed_clauses");
    st->cfg.single_quotes = cfg_bool(config, "single_quotes");
    st->cfg.continuation = cfg_bool(config, "continuation");
    st->cfg.speakers = cfg_bool(config, "speakers");
    st->cfg.raw_output = cfg_bool(config, "raw_output");
    st->cfg.min_confidence = cJSON_GetObjectItemCaseSensitive(config, "min_confidence")->valuedouble;
    st->m_quotes = host->metric_new(host, TM_METRIC_COUNTER, "quotes_total",
                                    "Quotations reported by the quotes stage.");
    st->m_docs = host->metric_new(host, TM_METRIC_COUNTER, "quotes_documents_with_quotes_total",
                                  "Documents with at least one quotation.");
    *instance = st;
    return TM_OK;
}

static int quotes_thread_init(void *instance, void **thread_state, tm_err_t *err)
{
    (void)instance;
    qt_doc_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "quotes: out of memory");
    *thread_state = d;
    return TM_OK;
}

static void quotes_thread_fini(void *instance, void *thread_state)
{
    (void)instance;
    qt_doc_t *d = thread_state;
    if (d != NULL) {
        qt_doc_free(d);
        free(d);
    }
}

/* Keep scratch space from growing without bound after one huge document. */
static void trim_scratch(qt_doc_t *d)
{
    if (d->cap_tok > (1u << 20) || d->cap_js > (64u << 20)) {
        qt_doc_free(d);
    }
}

static int quotes_process(void *instance, void *thread_state, tm_doc_t *doc, tm_err_t *err)
{
    quotes_stage_t *st = instance;
    const tm_host_t *h = st->host;
    qt_doc_t local, *d = thread_state;
    int own = 0;
    if (d == NULL) { /* a host without thread_init */
        memset(&local, 0, sizeof local);
        d = &local;
        own = 1;
    }
    size_t len = 0;
    const char *text = h->doc_text(doc, &len);
    if (len > UINT32_MAX / 2)
        return tm_err_set(err, TM_EDOC, "too_large", "quotes: document of %zu bytes is too large",
                          len);
    qt_doc_reset(d, text, len, &st->lex, &st->cfg);
    int rc = TM_OK;
    cJSON *quotes = NULL, *speakers = NULL;
    if (qt_tokenize(d) != 0 || d->oom)
        goto oom;
    qt_pair_marks(d);
    qt_sentences(d);
    if (d->oom)
        goto oom;
    qt_attribute(d);
    qt_report(d);
    qt_propagate(d);
    qt_coref(d);
    if (d->oom)
        goto oom;
    size_t nq = 0;
    /* The JSON text goes into the result as it is (the core encodes
     * nothing), and the tree, hung on the raw item's child, is what
     * sentiment reads (nobody parses anything); stage.h, doc_annotation,
     * describes the pairing.  raw_output: the text alone. */
    int tree = !st->cfg.raw_output;
    if ((quotes = qt_emit_quotes_both(d, &nq, tree)) == NULL)
        goto oom;
    if (st->cfg.speakers && (speakers = qt_emit_speakers_both(d, tree)) == NULL)
        goto oom;
    h->metric_add(st->m_quotes, (double)nq);
    if (nq > 0)
        h->metric_add(st->m_docs, 1);
    int r1 = h->doc_annotate(doc, "quotes", quotes);
    quotes = NULL;
    int r2 = TM_OK;
    if (speakers != NULL) {
        r2 = h->doc_annotate(doc, "speakers", speakers);
        speakers = NULL;
    }
    if (r1 != TM_OK || r2 != TM_OK)
        rc = tm_err_set(err, TM_EDOC, "annotate_failed", "quotes: cannot annotate (%d)",
                        r1 != TM_OK ? r1 : r2);
    goto done;
oom:
    cJSON_Delete(quotes);
    cJSON_Delete(speakers);
    if (d->oom == QT_OOM_BUG)
        rc = tm_err_set(err, TM_EDOC, "internal_error",
                        "quotes: an annotation's size was miscounted on a %zu-byte document "
                        "(a bug in the stage; please report it with the document)",
                        len);
    else
        rc = tm_err_set(err, TM_EDOC, "out_of_memory",
                        "quotes: out of memory on a %zu-byte document", len);
done:
    if (own)
        qt_doc_free(d);
    else
        trim_scratch(d);
    return rc;
}

static const tm_stage_desc_t quotes_stage = {
    TM_STAGE_DESC_HEADER,
    .name = "quotes",
    .version = "1.0.0",
    .description = "direct, mixed and indirect quotations with resolved speakers",
    .params = quotes_params,
    .create = quotes_create,
    .destroy = quotes_destroy,
    .thread_init = quotes_thread_init,
    .thread_fini = quotes_thread_fini,
    .process = quotes_process,
};

TM_STAGE_EXPORT(quotes_stage)
