/*
 * bp_stage.c - the boilerplate stage's plugin glue: parameter table,
 * create/destroy (loading every data file), per-thread scratch, and the
 * process hook that picks the text, Markdown or HTML path, rewrites the
 * document's text and writes annotations.boilerplate.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <textmill/json.h>
#include <textmill/stage.h>

#include "bp_doc.h"

#define BP_DEFAULT_PHRASES                                                                     \
    "[\"data/phrases.en.txt\", \"data/phrases.fr.txt\", \"data/phrases.de.txt\", "           \
    "\"data/phrases.es.txt\", \"data/phrases.it.txt\", \"data/phrases.pt.txt\", "            \
    "\"data/phrases.nl.txt\", \"data/phrases.meta.txt\"]"
#define BP_DEFAULT_STOPWORDS                                                                   \
    "[\"data/stopwords.en.txt\", \"data/stopwords.fr.txt\", \"data/stopwords.de.txt\", "     \
    "\"data/stopwords.es.txt\", \"data/stopwords.it.txt\", \"data/stopwords.pt.txt\", "      \
    "\"data/stopwords.nl.txt\", \"data/stopwords.sv.txt\", \"data/stopwords.da.txt\", "      \
    "\"data/stopwords.no.txt\", \"data/stopwords.fi.txt\", \"data/stopwords.pl.txt\", "      \
    "\"data/stopwords.ru.txt\"]"

static const tm_param_t bp_params[] = {
    {.key = "phrases", .type = TM_PARAM_PATH_LIST, .default_json = BP_DEFAULT_PHRASES,
     .description = "boilerplate phrase/pattern files (format: README.md); relative paths are "
                    "resolved against the stage's data directory"},
    {.key = "extra_phrases", .type = TM_PARAM_PATH_LIST, .default_json = "[]",
     .description = "your own phrase files, loaded after \"phrases\""},
    {.key = "stopwords", .type = TM_PARAM_PATH_LIST, .default_json = BP_DEFAULT_STOPWORDS,
     .description = "stop-word lists, one per language, named stopwords.<lang>.txt"},
    {.key = "class_hints", .type = TM_PARAM_PATH_LIST, .default_json = "[\"data/class_hints.txt\"]",
     .description = "HTML class/id/role hint files (\"<weight> <kind> <~substring|=word>\")"},
    {.key = "extra_class_hints", .type = TM_PARAM_PATH_LIST, .default_json = "[]",
     .description = "your own class/id hint files, loaded after \"class_hints\""},
    {.key = "agencies", .type = TM_PARAM_PATH_LIST, .default_json = "[\"data/agencies.txt\"]",
     .description = "wire-agency names, one per line, for annotations.boilerplate.syndicated_from"},
    {.key = "keep_header", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "keep the headline, standfirst, byline and dateline found just before the "
                    "article body (false: report them in the annotation only)"},
    {.key = "sniff_html", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "parse text/plain documents that are obviously HTML pages as HTML"},
    {.key = "sniff_markdown", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "treat text/plain documents with Markdown links as Markdown"},
    {.key = "markdown_links", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "reduce Markdown [text](url) links to their text, drop images and <url> "
                    "autolinks"},
    {.key = "max_removed_spans", .type = TM_PARAM_INT, .default_json = "2000", .min = 0,
     .max = 1000000, .description = "at most this many spans in annotations.boilerplate.removed"},
    {.key = "html_max_depth", .type = TM_PARAM_INT, .default_json = "256", .min = 16,
     .max = 4096,
     .description = "HTML elements nested deeper than this are flattened before parsing"},
    {.key = "min_good_words", .type = TM_PARAM_INT, .default_json = "10", .min = 2, .max = 200,
     .description = "a prose block has at least this many words"},
    {.key = "min_stop_density", .type = TM_PARAM_DOUBLE, .default_json = "0.2", .min = 0,
     .max = 1, .description = "a prose block has at least this share of stop words"},
    {.key = "short_doc_blocks", .type = TM_PARAM_INT, .default_json = "2", .min = 0, .max = 1000,
     .description = "documents with at most this many blocks are only phrase-filtered (tweets, "
                    "single sentences)"},
    {0},
};

typedef struct bp_stage {
    const tm_host_t *host;
    bp_conf_t conf;
    tm_metric_t *m_removed, *m_allbp;
} bp_stage_t;

static int bp__kind_cb(void *ctx, const char *name) { return bp_lex_kind(ctx, name); }

static int bp__load_list(bp_stage_t *st, const cJSON *config, const char *key, int what,
                         tm_err_t *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(config, key);
    const cJSON *it;
    char msg[400];
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            continue;
        int rc;
        msg[0] = '\0';
        switch (what) {
        case 0: rc = bp_lex_load_phrases(&st->conf.lex, it->valuestring, msg, sizeof msg); break;
        case 1: rc = bp_lex_load_stopwords(&st->conf.lex, it->valuestring, msg, sizeof msg); break;
        case 2:
            rc = bp_hints_load(&st->conf.hints, it->valuestring, bp__kind_cb, &st->conf.lex, msg,
                               sizeof msg);
            break;
        default: rc = bp_lex_load_agencies(&st->conf.lex, it->valuestring, msg, sizeof msg); break;
        }
        if (rc != 0)
            return tm_err_set(err, TM_EINVAL, "data_file_invalid", "boilerplate: config key \"%s\": %s",
                              key, msg);
    }
    return TM_OK;
}

static void bp_destroy(void *instance)
{
    bp_stage_t *st = instance;
    if (st == NULL)
        return;
    bp_lex_free(&st->conf.lex);
    bp_hints_free(&st->conf.hints);
    free(st);
}

static int bp_create(const tm_host_t *host, const cJSON *config, void **instance, tm_err_t *err)
{
    bp_stage_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "boilerplate: out of memory");
    st->host = host;
    bp_conf_t *c = &st->conf;
    bp_lex_init(&c->lex);
    /* built-in kinds first, so their indexes are stable */
    int *kp[] = {&c->k.navigation,    &c->k.related_link, &c->k.low_content, &c->k.header,
                 &c->k.footer,        &c->k.comments,     &c->k.share,       &c->k.advertisement,
                 &c->k.photo_credit,  &c->k.markup,       &c->k.hidden,      &c->k.form,
                 &c->k.reprint_notice, &c->k.donation_appeal, &c->k.source_url, &c->k.copyright};
    const char *kn[] = {"navigation",   "related_link", "low_content",   "header",
                        "footer",       "comment_prompt", "share",        "advertisement",
                        "photo_credit", "markup",       "hidden",        "form",
                        "reprint_notice", "donation_appeal", "source_url", "copyright"};
    for (size_t i = 0; i < sizeof kp / sizeof kp[0]; i++)
        *kp[i] = bp_lex_kind(&c->lex, kn[i]);
    int rc;
    if ((rc = bp__load_list(st, config, "stopwords", 1, err)) != TM_OK ||
        (rc = bp__load_list(st, config, "phrases", 0, err)) != TM_OK ||
        (rc = bp__load_list(st, config, "extra_phrases", 0, err)) != TM_OK ||
        (rc = bp__load_list(st, config, "class_hints", 2, err)) != TM_OK ||
        (rc = bp__load_list(st, config, "extra_class_hints", 2, err)) != TM_OK ||
        (rc = bp__load_list(st, config, "agencies", 3, err)) != TM_OK) {
        bp_destroy(st);
        return rc;
    }
    if (bp_lex_finish(&c->lex) != 0 || bp_hints_build(&c->hints) != 0) {
        bp_destroy(st);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "boilerplate: out of memory");
    }
    c->k.read_more = bp_lex_kind_find(&c->lex, "read_more");
    c->k.author_bio = bp_lex_kind_find(&c->lex, "author_bio");
#define BP_CFG(k) cJSON_GetObjectItemCaseSensitive(config, k)
    c->keep_header = cJSON_IsTrue(BP_CFG("keep_header"));
    c->sniff_html = cJSON_IsTrue(BP_CFG("sniff_html"));
    c->sniff_markdown = cJSON_IsTrue(BP_CFG("sniff_markdown"));
    c->markdown_links = cJSON_IsTrue(BP_CFG("markdown_links"));
    c->max_spans = BP_CFG("max_removed_spans")->valueint;
    c->html_max_depth = BP_CFG("html_max_depth")->valueint;
    c->min_good_words = BP_CFG("min_good_words")->valueint;
    c->min_stop_density = BP_CFG("min_stop_density")->valuedouble;
    c->short_doc_blocks = BP_CFG("short_doc_blocks")->valueint;
#undef BP_CFG
    st->m_removed = host->metric_new(host, TM_METRIC_COUNTER, "boilerplate_removed_bytes_total",
                                     "Input bytes removed as boilerplate.");
    st->m_allbp = host->metric_new(host, TM_METRIC_COUNTER, "boilerplate_all_boilerplate_total",
                                   "Documents that were all boilerplate.");
    *instance = st;
    return TM_OK;
}

typedef struct bp_tls {
    bp_scratch_t s;
    bp_result_t r;
} bp_tls_t;

static int bp_thread_init(void *instance, void **thread_state, tm_err_t *err)
{
    (void)instance;
    bp_tls_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "boilerplate: out of memory");
    *thread_state = t;
    return TM_OK;
}

static void bp_thread_fini(void *instance, void *thread_state)
{
    (void)instance;
    bp_tls_t *t = thread_state;
    if (t == NULL)
        return;
    free(t->s.toks.v);
    free(t->s.blocks);
    bp_buf_free(&t->s.tmp);
    bp_buf_free(&t->s.tmp2);
    bp_scan_free(&t->s.scan);
    bp_html_scratch_free(t->s.html);
    bp_result_free(&t->r);
    free(t);
}

/* Append s[0, n) as a JSON string (the host's escaping); room is made by
 * the caller. */
static char *bp__jstr(char *o, const char *s, size_t n)
{
    return o + tm_json_write_string(o, s, n);
}

static char *bp__jkey(char *o, const char *key)
{
    size_t n = strlen(key);
    *o++ = '"';
    memcpy(o, key, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    return o;
}

/* The annotation bp__annotation builds, written straight as the JSON text
 * the host would print from that tree (compact, keys in the same order,
 * integers in decimal, strings escaped by <textmill/json.h>) and attached
 * as a cJSON_Raw item: no tree is built and walked again per document.
 * Strings stop at a NUL byte, as cJSON's do.  buf: scratch.  NULL when out
 * of memory. */
static cJSON *bp__annotation_raw(const bp_conf_t *c, const bp_result_t *r, size_t in_len,
                                 bp_buf_t *buf)
{
    const bp_buf_t *strs[] = {&r->lang, &r->title, &r->byline, &r->published};
    size_t need = 256 + 32 + 6 * sizeof r->published_iso;
    for (size_t i = 0; i < r->nspans; i++)
        need += 48 + 6 * strlen(c->lex.kinds[r->spans[i].kind]);
    for (size_t i = 0; i < 4; i++)
        need += 16 + 6 * strs[i]->len;
    need += 32 + 6 * r->syndicated.len;
    buf->len = 0;
    if (bp_buf_reserve(buf, need) != 0)
        return NULL;
    char *o = buf->p;
    *o++ = '{';
    o = bp__jkey(o, "removed");
    *o++ = '[';
    for (size_t i = 0; i < r->nspans; i++) {
        if (i)
            *o++ = ',';
        *o++ = '{';
        o = bp__jkey(o, "start");
        o += tm_json_write_u64(o, r->spans[i].start);
        *o++ = ',';
        o = bp__jkey(o, "end");
        o += tm_json_write_u64(o, r->spans[i].end);
        *o++ = ',';
        o = bp__jkey(o, "kind");
        const char *k = c->lex.kinds[r->spans[i].kind];
        o = bp__jstr(o, k, strlen(k));
        *o++ = '}';
    }
    *o++ = ']';
    if (r->truncated) {
        *o++ = ',';
        o = bp__jkey(o, "removed_truncated");
        memcpy(o, "true", 4);
        o += 4;
    }
    *o++ = ',';
    o = bp__jkey(o, "removed_bytes");
    o += tm_json_write_u64(o, r->removed_bytes);
    *o++ = ',';
    o = bp__jkey(o, "input_bytes");
    o += tm_json_write_u64(o, in_len);
    *o++ = ',';
    o = bp__jkey(o, "output_bytes");
    o += tm_json_write_u64(o, r->out.len);
    *o++ = ',';
    o = bp__jkey(o, "format");
    const char *fmt = r->path ? r->path : "text";
    o = bp__jstr(o, fmt, strlen(fmt));
    static const char *const keys[] = {"lang", "title", "byline", "published"};
    for (size_t i = 0; i < 4; i++) {
        if (!strs[i]->len)
            continue;
        *o++ = ',';
        o = bp__jkey(o, keys[i]);
        o = bp__jstr(o, strs[i]->p, strlen(strs[i]->p));
    }
    if (r->published_iso[0]) {
        *o++ = ',';
        o = bp__jkey(o, "published_iso");
        o = bp__jstr(o, r->published_iso, strlen(r->published_iso));
    }
    if (r->syndicated.len) {
        *o++ = ',';
        o = bp__jkey(o, "syndicated_from");
        o = bp__jstr(o, r->syndicated.p, strlen(r->syndicated.p));
    }
    *o++ = '}';
    *o = '\0';
    buf->len = (size_t)(o - buf->p);
    return cJSON_CreateRaw(buf->p);
}

static int bp_process(void *instance, void *thread_state, tm_doc_t *doc, tm_err_t *err)
{
    bp_stage_t *st = instance;
    const tm_host_t *h = st->host;
    bp_tls_t *tls = thread_state;
    const bp_conf_t *c = &st->conf;
    size_t len = 0;
    const char *text = h->doc_text(doc, &len);
    const char *ct = h->doc_content_type(doc);
    bp_result_t *r = &tls->r;
    bp_result_reset(r);
    int html = 0, md = 0;
    if (ct != NULL && strcmp(ct, "text/html") == 0)
        html = 1;
    else if (ct != NULL && strcmp(ct, "text/markdown") == 0)
        md = 1;
    else if (c->sniff_html && bp_sniff_html(text, len))
        html = 1;
    else if (c->sniff_markdown && bp_sniff_markdown(text, len))
        md = 1;
    int rc = html ? bp_html_clean(c, &tls->s, text, len, r)
                  : bp_text_clean(c, &tls->s, text, len, md, h->doc_field(doc, "lang"), r);
    if (rc != 0)
        return tm_err_set(err, TM_EDOC, "out_of_memory", "boilerplate: out of memory");
    bp_result_finish(r, c);
    cJSON *a = bp__annotation_raw(c, r, len, &tls->s.tmp);
    if (a == NULL)
        return tm_err_set(err, TM_EDOC, "out_of_memory", "boilerplate: out of memory");
    h->metric_add(st->m_removed, (double)(len - (r->out.len < len ? r->out.len : len)));
    int changed = r->out.len != len || memcmp(r->out.p, text, len) != 0;
    /* text is borrowed and invalid after doc_set_text: annotate first */
    if (h->doc_annotate(doc, "boilerplate", a) != TM_OK)
        return tm_err_set(err, TM_EDOC, "annotate_failed", "boilerplate: cannot annotate");
    if (changed) {
        int src = h->doc_set_text(doc, r->out.p, r->out.len);
        if (src != TM_OK)
            return tm_err_set(err, TM_EDOC, "set_text_failed",
                              "boilerplate: the host refused the cleaned text (%d)", src);
    }
    if (r->out.len == 0) {
        h->metric_add(st->m_allbp, 1);
        return tm_err_set(err, TM_EDOC, "all_boilerplate",
                          "boilerplate: nothing is left of this %s document after removing "
                          "boilerplate (%zu bytes in, %zu removed spans); the text is now empty",
                          html ? "HTML" : md ? "Markdown" : "plain-text", len, r->nspans);
    }
    return TM_OK;
}

static const tm_stage_desc_t bp_stage = {
    TM_STAGE_DESC_HEADER,
    .name = "boilerplate",
    .version = "1.0.0",
    .description = "strips page chrome (navigation, share/newsletter/cookie blocks, donation "
                   "appeals, captions, related links, comments) from plain-text, Markdown and "
                   "HTML news pages",
    .flags = TM_STAGE_REWRITES_TEXT,
    .params = bp_params,
    .create = bp_create,
    .destroy = bp_destroy,
    .thread_init = bp_thread_init,
    .thread_fini = bp_thread_fini,
    .process = bp_process,
};

TM_STAGE_EXPORT(bp_stage)
