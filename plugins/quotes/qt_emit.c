/*
 * qt_emit.c - builds annotations.quotes and annotations.speakers.
 *
 * quotes: one object per reported quotation, in text order:
 *   start, end         UTF-8 byte offsets of the quoted words (marks excluded)
 *   text               those bytes
 *   speaker            canonical name of the resolved person, or null
 *   speaker_mention    the speaker phrase as written next to the cue, or null
 *   cue                the reporting verb or phrase, or null
 *   type               "direct" | "mixed" | "indirect"
 *   confidence         0..1
 *   speaker_start/_end, cue_start/_end   offsets of mention and cue (when known)
 *   paragraph          0-based paragraph (line) index
 *   fragment_of        for a quoted fragment: index (in this list) of the
 *                      reported clause around it, when that is listed too
 * speakers: one object per person or source that speaks or carries a
 * personal title: name, role (or null), mentions [{start, end, text}],
 * quotes (how many quotations are attributed to it).
 *
 * Two writers with the same content: cJSON trees (qt_emit_quotes,
 * qt_emit_speakers), and pre-serialised JSON (qt_emit_quotes_raw,
 * qt_emit_speakers_raw) written straight into a per-thread buffer, spelled
 * exactly as the core's codec prints the trees (integers as integers, other
 * numbers with %.15g, the codec's string escapes), so the result text is
 * byte-identical and there is no cJSON node per field to build, encode and
 * free.
 */
#include "qt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <textmill/json.h>

static const char *sub(qt_doc_t *d, uint32_t s, uint32_t e)
{
    size_t n = e > s ? e - s : 0;
    if (qt_vec_grow((void **)&d->buf, &d->cap_buf, n + 1, 1) != 0) {
        d->oom = 1;
        return "";
    }
    memcpy(d->buf, d->t + s, n);
    d->buf[n] = '\0';
    return d->buf;
}

/* Keys are string constants: cJSON_AddItemToObjectCS does not copy them,
 * which halves the allocations of a quote object. */
static void put(qt_doc_t *d, cJSON *o, const char *k, cJSON *v)
{
    if (v == NULL || !cJSON_AddItemToObjectCS(o, k, v)) {
        cJSON_Delete(v);
        d->oom = 1;
    }
}

static void put_num(qt_doc_t *d, cJSON *o, const char *k, double v)
{
    put(d, o, k, cJSON_CreateNumber(v));
}

static void put_null(qt_doc_t *d, cJSON *o, const char *k) { put(d, o, k, cJSON_CreateNull()); }

static int add_str(qt_doc_t *d, cJSON *o, const char *k, uint32_t s, uint32_t e)
{
    put(d, o, k, cJSON_CreateString(sub(d, s, e)));
    return d->oom ? -1 : 0;
}

static double confidence(const qt_doc_t *d, const qt_quote_t *q)
{
    double c;
    switch (q->how) {
    case HOW_AFTER: c = 0.92; break;
    case HOW_BEFORE: c = 0.88; break;
    case HOW_FRAG: c = 0.75; break;
    case HOW_ACCORDING: c = 0.8; break;
    case HOW_SAME_PARA: c = 0.8; break;
    case HOW_PREV_PARA: c = 0.7; break;
    case HOW_CLAUSE: c = 0.6; break;
    default: c = 0.5; break;
    }
    if (q->sp.s >= 0 && q->ent < 0 && q->sp.kind == NP_PRON)
        c -= 0.1;
    if (q->flags & QF_SINGLE)
        c -= 0.05;
    if (q->flags & QF_OPEN_END)
        c -= 0.05;
    (void)d;
    return (double)(int)(c * 100 + 0.5) / 100.0;
}

static const char *type_name(int t)
{
    return t == QT_MIXED ? "mixed" : t == QT_INDIRECT ? "indirect" : "direct";
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void ent_name(const qt_doc_t *d, const qt_ent_t *en, uint32_t *s, uint32_t *e)
{
    *s = d->tok[en->name_s].s;
    *e = d->tok[en->name_e].ce;
}

/* The quotes that are emitted, in text order, as (start << 32 | index) in
 * d->keys, and each quote's position in the output (or -1) in d->tmp2, for
 * fragment_of.  Shared by the tree and the raw writer, which must agree.
 * Returns -1 (d->oom set) when out of memory. */
static int qt__order_emitted(qt_doc_t *d)
{
    d->n_keys = 0;
    for (size_t i = 0; i < d->n_q; i++) {
        const qt_quote_t *q = &d->q[i];
        if (q->flags & QF_DROP)
            continue;
        if (confidence(d, q) < d->cfg->min_confidence)
            continue;
        if (QT_PUSH(d, keys, ((uint64_t)q->s << 32) | i) != 0)
            break;
    }
    if (d->n_keys > 1)
        qsort(d->keys, d->n_keys, sizeof *d->keys, cmp_u64);
    d->n_tmp2 = 0;
    if (qt_vec_grow((void **)&d->tmp2, &d->cap_tmp2, d->n_q + 1, sizeof *d->tmp2) != 0) {
        d->oom = 1;
        return -1;
    }
    for (size_t i = 0; i < d->n_q; i++)
        d->tmp2[i] = -1;
    for (size_t k = 0; k < d->n_keys; k++)
        d->tmp2[d->keys[k] & 0xffffffffu] = (int32_t)k;
    return 0;
}

cJSON *qt_emit_quotes(qt_doc_t *d)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    if (qt__order_emitted(d) != 0)
        return arr;
    for (size_t k = 0; k < d->n_keys; k++) {
        const qt_quote_t *q = &d->q[d->keys[k] & 0xffffffffu];
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            d->oom = 1;
            break;
        }
        put_num(d, o, "start", (double)q->s);
        put_num(d, o, "end", (double)q->e);
        add_str(d, o, "text", q->s, q->e);
        if (q->ent >= 0) {
            uint32_t s, e;
            ent_name(d, &d->ent[q->ent], &s, &e);
            add_str(d, o, "speaker", s, e);
        } else if (q->sp.s >= 0 && q->sp.kind == NP_NAME && q->sp.name_s >= 0) {
            add_str(d, o, "speaker", d->tok[q->sp.name_s].s, d->tok[q->sp.name_e].ce);
        } else if (q->sp.s >= 0 && q->sp.kind != NP_PRON) {
            /* an unresolved role ("a spokesman", "the operator"): as written */
            add_str(d, o, "speaker", d->tok[q->sp.s].s, d->tok[q->sp.e].ce);
        } else {
            put_null(d, o, "speaker");
        }
        if (q->sp.s >= 0) {
            uint32_t s = d->tok[q->sp.s].s, e = d->tok[q->sp.e].ce;
            add_str(d, o, "speaker_mention", s, e);
        } else {
            put_null(d, o, "speaker_mention");
        }
        if (q->cue >= 0) {
            int32_t ce = q->cue_e >= q->cue ? q->cue_e : q->cue;
            add_str(d, o, "cue", d->tok[q->cue].s, d->tok[ce].e);
        } else {
            put_null(d, o, "cue");
        }
        put(d, o, "type", cJSON_CreateStringReference(type_name(q->type)));
        put_num(d, o, "confidence", confidence(d, q));
        if (q->sp.s >= 0) {
            put_num(d, o, "speaker_start", (double)d->tok[q->sp.s].s);
            put_num(d, o, "speaker_end", (double)d->tok[q->sp.e].ce);
        }
        if (q->cue >= 0) {
            int32_t ce = q->cue_e >= q->cue ? q->cue_e : q->cue;
            put_num(d, o, "cue_start", (double)d->tok[q->cue].s);
            put_num(d, o, "cue_end", (double)d->tok[ce].e);
        }
        put_num(d, o, "paragraph", (double)q->para);
        if (q->host >= 0 && d->tmp2[q->host] >= 0)
            put_num(d, o, "fragment_of", (double)d->tmp2[q->host]);
    }
    return arr;
}

cJSON *qt_emit_speakers(qt_doc_t *d)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < d->n_ent; i++) {
        const qt_ent_t *en = &d->ent[i];
        if (en->nmen == 0 || !(en->is_speaker || en->person))
            continue;
        if (!en->nquotes && !en->person)
            continue;
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            d->oom = 1;
            break;
        }
        uint32_t s, e;
        ent_name(d, en, &s, &e);
        add_str(d, o, "name", s, e);
        if (en->role_s >= 0)
            add_str(d, o, "role", d->tok[en->role_s].s, d->tok[en->role_e].ce);
        else
            put_null(d, o, "role");
        cJSON *ms = cJSON_CreateArray();
        put(d, o, "mentions", ms);
        if (d->oom)
            ms = NULL;
        for (int32_t m = en->men_head; ms != NULL && m >= 0; m = d->men[m].next) {
            cJSON *mo = cJSON_CreateObject();
            if (mo == NULL || !cJSON_AddItemToArray(ms, mo)) {
                cJSON_Delete(mo);
                d->oom = 1;
                break;
            }
            put_num(d, mo, "start", (double)d->men[m].s);
            put_num(d, mo, "end", (double)d->men[m].e);
            add_str(d, mo, "text", d->men[m].s, d->men[m].e);
        }
        put_num(d, o, "quotes", (double)en->nquotes);
    }
    return arr;
}

/* ------------------------------------------------------------ raw JSON */

/* Room for n more bytes in d->js (plus a NUL); 0 when there is none. */
static int js_room(qt_doc_t *d, size_t n)
{
    if (d->n_js + n + 1 <= d->cap_js)
        return 1;
    if (qt_vec_grow((void **)&d->js, &d->cap_js, d->n_js + n + 1, 1) != 0) {
        d->oom = 1;
        return 0;
    }
    return 1;
}

static void js_put(qt_doc_t *d, const char *s, size_t n)
{
    if (js_room(d, n)) {
        memcpy(d->js + d->n_js, s, n);
        d->n_js += n;
    }
}

#define JS_LIT(d, lit) js_put((d), (lit), sizeof(lit) - 1)

static void js_uint(qt_doc_t *d, uint32_t v)
{
    if (js_room(d, 20))
        d->n_js += tm_json_write_u64(d->js + d->n_js, v);
}

/* A JSON string of text bytes [s, e), escaped as the codec escapes (the
 * SDK's textmill/json.h, which the host's encoder uses too). */
static void js_str(qt_doc_t *d, uint32_t s, uint32_t e)
{
    size_t n = e > s ? e - s : 0;
    /* at most 6 bytes per input byte (\u00XX) plus the quotes */
    if (!js_room(d, 6 * n + 2))
        return;
    d->n_js += tm_json_write_string(d->js + d->n_js, d->t + s, n);
}

/* A confidence: confidence() returns k / 100.0 for an integer k in 0..100,
 * which %.15g prints as the shortest decimal ("0.92", "0.8", "1", "0"). */
static void js_conf(qt_doc_t *d, double c)
{
    int k = (int)(c * 100 + 0.5);
    char num[32];
    int n;
    if (k >= 0 && k <= 100 && (double)k / 100.0 == c) {
        if (k == 0 || k == 100) {
            num[0] = k ? '1' : '0';
            n = 1;
        } else {
            num[0] = '0';
            num[1] = '.';
            num[2] = (char)('0' + k / 10);
            num[3] = (char)('0' + k % 10);
            n = k % 10 ? 4 : 3;
        }
    } else { /* not reached with today's confidence(); the codec's spelling */
        n = snprintf(num, sizeof num, "%.15g", c);
    }
    js_put(d, num, (size_t)n);
}

/* "key": with the separator before it unless it opens the object. */
#define JS_KEY(d, lit) JS_LIT((d), "," lit ":")

static char *js_finish(qt_doc_t *d)
{
    if (d->oom || !js_room(d, 0))
        return NULL;
    d->js[d->n_js] = '\0';
    return d->js;
}

static void js_optstr(qt_doc_t *d, int have, uint32_t s, uint32_t e)
{
    if (have)
        js_str(d, s, e);
    else
        JS_LIT(d, "null");
}

char *qt_emit_quotes_raw(qt_doc_t *d, size_t *count)
{
    d->n_js = 0;
    *count = 0;
    if (qt__order_emitted(d) != 0)
        return NULL;
    JS_LIT(d, "[");
    for (size_t k = 0; k < d->n_keys && !d->oom; k++) {
        const qt_quote_t *q = &d->q[d->keys[k] & 0xffffffffu];
        if (k > 0)
            JS_LIT(d, ",");
        JS_LIT(d, "{\"start\":");
        js_uint(d, q->s);
        JS_KEY(d, "\"end\"");
        js_uint(d, q->e);
        JS_KEY(d, "\"text\"");
        js_str(d, q->s, q->e);
        JS_KEY(d, "\"speaker\"");
        if (q->ent >= 0) {
            uint32_t s, e;
            ent_name(d, &d->ent[q->ent], &s, &e);
            js_str(d, s, e);
        } else if (q->sp.s >= 0 && q->sp.kind == NP_NAME && q->sp.name_s >= 0) {
            js_str(d, d->tok[q->sp.name_s].s, d->tok[q->sp.name_e].ce);
        } else if (q->sp.s >= 0 && q->sp.kind != NP_PRON) {
            js_str(d, d->tok[q->sp.s].s, d->tok[q->sp.e].ce);
        } else {
            JS_LIT(d, "null");
        }
        JS_KEY(d, "\"speaker_mention\"");
        js_optstr(d, q->sp.s >= 0, q->sp.s >= 0 ? d->tok[q->sp.s].s : 0,
                  q->sp.s >= 0 ? d->tok[q->sp.e].ce : 0);
        int32_t ce = q->cue_e >= q->cue ? q->cue_e : q->cue;
        JS_KEY(d, "\"cue\"");
        js_optstr(d, q->cue >= 0, q->cue >= 0 ? d->tok[q->cue].s : 0,
                  q->cue >= 0 ? d->tok[ce].e : 0);
        JS_KEY(d, "\"type\"");
        if (q->type == QT_MIXED)
            JS_LIT(d, "\"mixed\"");
        else if (q->type == QT_INDIRECT)
            JS_LIT(d, "\"indirect\"");
        else
            JS_LIT(d, "\"direct\"");
        JS_KEY(d, "\"confidence\"");
        js_conf(d, confidence(d, q));
        if (q->sp.s >= 0) {
            JS_KEY(d, "\"speaker_start\"");
            js_uint(d, d->tok[q->sp.s].s);
            JS_KEY(d, "\"speaker_end\"");
            js_uint(d, d->tok[q->sp.e].ce);
        }
        if (q->cue >= 0) {
            JS_KEY(d, "\"cue_start\"");
            js_uint(d, d->tok[q->cue].s);
            JS_KEY(d, "\"cue_end\"");
            js_uint(d, d->tok[ce].e);
        }
        JS_KEY(d, "\"paragraph\"");
        js_uint(d, (uint32_t)q->para);
        if (q->host >= 0 && d->tmp2[q->host] >= 0) {
            JS_KEY(d, "\"fragment_of\"");
            js_uint(d, (uint32_t)d->tmp2[q->host]);
        }
        JS_LIT(d, "}");
        ++*count;
    }
    JS_LIT(d, "]");
    return js_finish(d);
}

char *qt_emit_speakers_raw(qt_doc_t *d)
{
    d->n_js = 0;
    JS_LIT(d, "[");
    int first = 1;
    for (size_t i = 0; i < d->n_ent && !d->oom; i++) {
        const qt_ent_t *en = &d->ent[i];
        if (en->nmen == 0 || !(en->is_speaker || en->person))
            continue;
        if (!en->nquotes && !en->person)
            continue;
        if (!first)
            JS_LIT(d, ",");
        first = 0;
        uint32_t s, e;
        ent_name(d, en, &s, &e);
        JS_LIT(d, "{\"name\":");
        js_str(d, s, e);
        JS_KEY(d, "\"role\"");
        js_optstr(d, en->role_s >= 0, en->role_s >= 0 ? d->tok[en->role_s].s : 0,
                  en->role_s >= 0 ? d->tok[en->role_e].ce : 0);
        JS_KEY(d, "\"mentions\"");
        JS_LIT(d, "[");
        for (int32_t m = en->men_head; m >= 0; m = d->men[m].next) {
            if (m != en->men_head)
                JS_LIT(d, ",");
            JS_LIT(d, "{\"start\":");
            js_uint(d, d->men[m].s);
            JS_KEY(d, "\"end\"");
            js_uint(d, d->men[m].e);
            JS_KEY(d, "\"text\"");
            js_str(d, d->men[m].s, d->men[m].e);
            JS_LIT(d, "}");
        }
        JS_LIT(d, "]");
        JS_KEY(d, "\"quotes\"");
        js_uint(d, (uint32_t)en->nquotes);
        JS_LIT(d, "}");
    }
    JS_LIT(d, "]");
    return js_finish(d);
}
