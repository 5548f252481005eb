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
 * Two writers with the same content: cJSON trees (quotes_tree,
 * speakers_tree), and pre-serialised JSON (qt_emit_quotes_raw,
 * qt_emit_speakers_raw) written straight into a per-thread buffer, spelled
 * exactly as the core's codec prints the trees (integers as integers, other
 * numbers with %.15g, the codec's string escapes), so the result text is
 * the same either way.  qt_emit_quotes_both / qt_emit_speakers_both attach
 * both in one allocation: a cJSON raw item holding the text, with the tree
 * on its child (the core copies the text into the result; later stages read
 * the tree; nobody encodes or parses anything).
 */
#include "qt.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <textmill/json.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------ cJSON trees
 *
 * Each annotation is an ordinary cJSON tree living in ONE allocation: the
 * nodes (laid out as cJSON's constructors would fill them: the same type
 * bits, links and constant keys as cJSON_AddItemToObjectCS) followed by the
 * strings' bytes.  Only the root carries cJSON_IsReference, which tells
 * cJSON_Delete not to descend: deleting the root frees the whole block with
 * one free().  Readers see a normal tree (cJSON_IsArray & co. test the type
 * byte only; cJSON_Duplicate makes an ordinary deep copy), the codec prints
 * it as any tree, and a document's annotation costs one malloc and one free
 * instead of two per field.  The nodes must not be detached or deleted one
 * by one, which the ABI rules out anyway (doc_annotation returns const).
 *
 * A counting pass (nodes and string bytes: a lean copy of the emitter's
 * branches, quotes_count / speakers_count) sizes the block, then the
 * emitter fills it; the filling never writes past the counted room, and a
 * disagreement (a bug) fails the document instead. */

typedef struct {
    size_t nn;    /* nodes */
    size_t nb;    /* string bytes (with their NULs) */
    size_t cap_nn, cap_nb; /* the block's room (never written past; 0 when counting) */
    cJSON *node;  /* fill: next free node */
    char *str;    /* fill: next free string byte */
} ja_t;

typedef struct {
    cJSON *obj;  /* the object or array being filled (NULL when counting) */
    cJSON *last; /* its last member */
} jb_t;

/* A new item of type, appended to b under key k (a string constant, or
 * NULL for an array element or the root).  NULL when counting. */
static QT_INLINE cJSON *ja_item(ja_t *a, jb_t *b, const char *k, int type)
{
    /* counting (cap_nn 0), or a count that was short: nothing written */
    if (a->nn++ >= a->cap_nn)
        return NULL;
    cJSON *v = a->node++;
    /* every field, as cJSON_New_Item's memset would leave it */
    *v = (cJSON){.type = type};
    if (b == NULL)
        return v;
    if (k != NULL) {
        v->string = (char *)(uintptr_t)k;
        v->type = type | cJSON_StringIsConst;
    }
    /* linked as cJSON's add_item_to_array links it */
    cJSON *obj = b->obj;
    if (obj->child == NULL) {
        obj->child = v;
        v->prev = v;
    } else {
        b->last->next = v;
        v->prev = b->last;
        obj->child->prev = v;
    }
    b->last = v;
    return v;
}

static QT_INLINE void ja_open(ja_t *a, jb_t *b, const char *k, int type, jb_t *out)
{
    out->obj = ja_item(a, b, k, type);
    out->last = NULL;
}

static QT_INLINE void put_num(ja_t *a, jb_t *b, const char *k, double x)
{
    cJSON *v = ja_item(a, b, k, cJSON_Number);
    if (v == NULL)
        return;
    v->valuedouble = x;
    /* as cJSON_CreateNumber */
    if (x >= INT_MAX)
        v->valueint = INT_MAX;
    else if (x <= (double)INT_MIN)
        v->valueint = INT_MIN;
    else
        v->valueint = (int)x;
}

/* A non-negative integer (as cJSON_CreateNumber stores it). */
static QT_INLINE void put_u32(ja_t *a, jb_t *b, const char *k, uint32_t x)
{
    cJSON *v = ja_item(a, b, k, cJSON_Number);
    if (v == NULL)
        return;
    v->valuedouble = (double)x;
    v->valueint = x >= (uint32_t)INT_MAX ? INT_MAX : (int)x;
}

static QT_INLINE void put_null(ja_t *a, jb_t *b, const char *k) { (void)ja_item(a, b, k, cJSON_NULL); }

/* A string constant, not copied (as cJSON_CreateStringReference). */
static QT_INLINE void put_ref(ja_t *a, jb_t *b, const char *k, const char *str)
{
    cJSON *v = ja_item(a, b, k, cJSON_String | cJSON_IsReference);
    if (v != NULL)
        v->valuestring = (char *)(uintptr_t)str;
}

/* The text bytes [s, e) as a string item. */
static QT_INLINE void add_str(const qt_doc_t *d, ja_t *a, jb_t *b, const char *k, uint32_t s, uint32_t e)
{
    size_t n = e > s ? e - s : 0;
    a->nb += n + 1;
    cJSON *v = ja_item(a, b, k, cJSON_String);
    if (v == NULL || a->nb > a->cap_nb)
        return;
    memcpy(a->str, d->t + s, n);
    a->str[n] = '\0';
    v->valuestring = a->str;
    a->str += n + 1;
}

/* Runs count (or fn) to count, allocates the block, runs fn to fill it.
 * With raw (rawlen bytes of JSON text, NUL-terminated, saying the same as
 * the tree), the block also holds a cJSON_Raw item before the nodes, with a
 * copy of raw after the strings and the tree as its child; that item is
 * returned, and carries cJSON_IsReference (cJSON_Delete frees the block,
 * and so the tree and the text, without descending).  With rawlen but no
 * count/fn, the raw item alone.
 * NULL (and d->oom) when out of memory, or when the count disagrees with
 * the filling (a bug: the fill pass never writes past the counted room). */
static cJSON *ja_build(qt_doc_t *d, void (*count)(qt_doc_t *, ja_t *),
                       void (*fn)(qt_doc_t *, ja_t *), const char *raw, size_t rawlen)
{
    ja_t a;
    memset(&a, 0, sizeof a);
    if (fn != NULL) {
        (count != NULL ? count : fn)(d, &a);
        if (a.nn == 0) {
            d->oom = 1;
            return NULL;
        }
    }
    size_t lead = raw != NULL ? 1 : 0, tail = raw != NULL ? rawlen + 1 : 0;
    if (a.nn > (SIZE_MAX - a.nb - tail) / sizeof(cJSON) - lead) {
        d->oom = 1;
        return NULL;
    }
    size_t nodes = (lead + a.nn) * sizeof(cJSON);
    char *blk = cJSON_malloc(nodes + a.nb + tail);
    if (blk == NULL) {
        d->oom = 1;
        return NULL;
    }
    cJSON *root = NULL;
    if (fn != NULL) {
        ja_t f;
        memset(&f, 0, sizeof f);
        f.cap_nn = a.nn;
        f.cap_nb = a.nb;
        f.node = (cJSON *)(void *)blk + lead;
        f.str = blk + nodes;
        fn(d, &f);
        if (f.nn != a.nn || f.nb != a.nb) {
            cJSON_free(blk);
            d->oom = QT_OOM_BUG;
            return NULL;
        }
        root = (cJSON *)(void *)blk + lead;
        root->type |= cJSON_IsReference; /* cJSON_Delete: free the block, do not descend */
    }
    if (raw == NULL)
        return root;
    char *text = blk + nodes + a.nb;
    memcpy(text, raw, rawlen + 1);
    cJSON *item = (cJSON *)(void *)blk;
    *item = (cJSON){.type = cJSON_Raw | cJSON_IsReference, .valuestring = text, .child = root};
    return item;
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
        qt_quote_t *q = &d->q[i];
        if (q->flags & QF_DROP)
            continue;
        q->conf = confidence(d, q); /* (the writers print it) */
        if (q->conf < d->cfg->min_confidence)
            continue;
        if (QT_PUSH(d, keys, ((uint64_t)q->s << 32) | i) != 0)
            break;
    }
    if (d->n_keys > 1)
        qt_sort_u64(d->keys, d->n_keys);
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

static void quotes_tree(qt_doc_t *d, ja_t *a)
{
    jb_t arr, ob;
    ja_open(a, NULL, NULL, cJSON_Array, &arr);
    for (size_t k = 0; k < d->n_keys; k++) {
        const qt_quote_t *q = &d->q[d->keys[k] & 0xffffffffu];
        ja_open(a, &arr, NULL, cJSON_Object, &ob);
        jb_t *o = &ob;
        put_u32(a, o, "start", (uint32_t)q->s);
        put_u32(a, o, "end", (uint32_t)q->e);
        add_str(d, a, o, "text", q->s, q->e);
        if (q->ent >= 0) {
            uint32_t s, e;
            ent_name(d, &d->ent[q->ent], &s, &e);
            add_str(d, a, o, "speaker", s, e);
        } else if (q->sp.s >= 0 && q->sp.kind == NP_NAME && q->sp.name_s >= 0) {
            add_str(d, a, o, "speaker", d->tok[q->sp.name_s].s, d->tok[q->sp.name_e].ce);
        } else if (q->sp.s >= 0 && q->sp.kind != NP_PRON) {
            /* an unresolved role ("a spokesman", "the operator"): as written */
            add_str(d, a, o, "speaker", d->tok[q->sp.s].s, d->tok[q->sp.e].ce);
        } else {
            put_null(a, o, "speaker");
        }
        if (q->sp.s >= 0) {
            uint32_t s = d->tok[q->sp.s].s, e = d->tok[q->sp.e].ce;
            add_str(d, a, o, "speaker_mention", s, e);
        } else {
            put_null(a, o, "speaker_mention");
        }
        if (q->cue >= 0) {
            int32_t ce = q->cue_e >= q->cue ? q->cue_e : q->cue;
            add_str(d, a, o, "cue", d->tok[q->cue].s, d->tok[ce].e);
        } else {
            put_null(a, o, "cue");
        }
        put_ref(a, o, "type", type_name(q->type));
        put_num(a, o, "confidence", q->conf);
        if (q->sp.s >= 0) {
            put_u32(a, o, "speaker_start", (uint32_t)d->tok[q->sp.s].s);
            put_u32(a, o, "speaker_end", (uint32_t)d->tok[q->sp.e].ce);
        }
        if (q->cue >= 0) {
            int32_t ce = q->cue_e >= q->cue ? q->cue_e : q->cue;
            put_u32(a, o, "cue_start", (uint32_t)d->tok[q->cue].s);
            put_u32(a, o, "cue_end", (uint32_t)d->tok[ce].e);
        }
        put_u32(a, o, "paragraph", (uint32_t)q->para);
        if (q->host >= 0 && d->tmp2[q->host] >= 0)
            put_u32(a, o, "fragment_of", (uint32_t)d->tmp2[q->host]);
    }
}

static size_t span(uint32_t s, uint32_t e) { return e > s ? e - s : 0; }

/* What quotes_tree builds: its nodes and string bytes, without building. */
static void quotes_count(qt_doc_t *d, ja_t *a)
{
    size_t nn = 1, nb = 0;
    for (size_t k = 0; k < d->n_keys; k++) {
        const qt_quote_t *q = &d->q[d->keys[k] & 0xffffffffu];
        /* object, start, end, text, speaker, speaker_mention, cue, type,
         * confidence, paragraph */
        nn += 10;
        nb += span(q->s, q->e) + 1;
        if (q->ent >= 0) {
            uint32_t s, e;
            ent_name(d, &d->ent[q->ent], &s, &e);
            nb += span(s, e) + 1;
        } else if (q->sp.s >= 0 && q->sp.kind == NP_NAME && q->sp.name_s >= 0) {
            nb += span(d->tok[q->sp.name_s].s, d->tok[q->sp.name_e].ce) + 1;
        } else if (q->sp.s >= 0 && q->sp.kind != NP_PRON) {
            nb += span(d->tok[q->sp.s].s, d->tok[q->sp.e].ce) + 1;
        }
        if (q->sp.s >= 0) {
            nb += span(d->tok[q->sp.s].s, d->tok[q->sp.e].ce) + 1;
            nn += 2;
        }
        if (q->cue >= 0) {
            int32_t ce = q->cue_e >= q->cue ? q->cue_e : q->cue;
            nb += span(d->tok[q->cue].s, d->tok[ce].e) + 1;
            nn += 2;
        }
        if (q->host >= 0 && d->tmp2[q->host] >= 0)
            nn++;
    }
    a->nn = nn;
    a->nb = nb;
}


static void speakers_tree(qt_doc_t *d, ja_t *a)
{
    jb_t arr, o, ms, mo;
    ja_open(a, NULL, NULL, cJSON_Array, &arr);
    for (size_t i = 0; i < d->n_ent; i++) {
        const qt_ent_t *en = &d->ent[i];
        if (en->nmen == 0 || !(en->is_speaker || en->person))
            continue;
        if (!en->nquotes && !en->person)
            continue;
        ja_open(a, &arr, NULL, cJSON_Object, &o);
        uint32_t s, e;
        ent_name(d, en, &s, &e);
        add_str(d, a, &o, "name", s, e);
        if (en->role_s >= 0)
            add_str(d, a, &o, "role", d->tok[en->role_s].s, d->tok[en->role_e].ce);
        else
            put_null(a, &o, "role");
        ja_open(a, &o, "mentions", cJSON_Array, &ms);
        for (int32_t m = en->men_head; m >= 0; m = d->men[m].next) {
            ja_open(a, &ms, NULL, cJSON_Object, &mo);
            put_u32(a, &mo, "start", (uint32_t)d->men[m].s);
            put_u32(a, &mo, "end", (uint32_t)d->men[m].e);
            add_str(d, a, &mo, "text", d->men[m].s, d->men[m].e);
        }
        put_u32(a, &o, "quotes", (uint32_t)en->nquotes);
    }
}

/* What speakers_tree builds: its nodes and string bytes, without building. */
static void speakers_count(qt_doc_t *d, ja_t *a)
{
    size_t nn = 1, nb = 0;
    for (size_t i = 0; i < d->n_ent; i++) {
        const qt_ent_t *en = &d->ent[i];
        if (en->nmen == 0 || !(en->is_speaker || en->person))
            continue;
        if (!en->nquotes && !en->person)
            continue;
        nn += 5; /* object, name, role, mentions, quotes */
        uint32_t s, e;
        ent_name(d, en, &s, &e);
        nb += span(s, e) + 1;
        if (en->role_s >= 0)
            nb += span(d->tok[en->role_s].s, d->tok[en->role_e].ce) + 1;
        for (int32_t m = en->men_head; m >= 0; m = d->men[m].next) {
            nn += 4; /* object, start, end, text */
            nb += span(d->men[m].s, d->men[m].e) + 1;
        }
    }
    a->nn = nn;
    a->nb = nb;
}


/* ------------------------------------------------------------ raw JSON */

/* Grows d->js to hold n more bytes plus a NUL (js_room's rare case). */
static int js_grow(qt_doc_t *d, size_t n)
{
    if (qt_vec_grow((void **)&d->js, &d->cap_js, d->n_js + n + 1, 1) != 0) {
        d->oom = 1;
        return 0;
    }
    return 1;
}

/* Room for n more bytes in d->js (plus a NUL); 0 when there is none.
 * Inline: the writers below call it for every literal and number. */
static QT_INLINE int js_room(qt_doc_t *d, size_t n)
{
    if (d->n_js + n + 1 <= d->cap_js)
        return 1;
    return js_grow(d, n);
}

static QT_INLINE void js_put(qt_doc_t *d, const char *s, size_t n)
{
    if (js_room(d, n)) {
        memcpy(d->js + d->n_js, s, n);
        d->n_js += n;
    }
}

#define JS_LIT(d, lit) js_put((d), (lit), sizeof(lit) - 1)

/* A JSON string of text bytes [s, e), escaped as the codec escapes (the
 * SDK's textmill/json.h, which the host's encoder uses too), written at o,
 * which has room for JS_STR_ROOM(e - s) bytes; returns its end. */
#define JS_STR_ROOM(n) (6 * (size_t)(n) + 2) /* 6 bytes per input byte (\u00XX), the quotes */
static char *js_str_at(const qt_doc_t *d, char *o, uint32_t s, uint32_t e)
{
    size_t n = e > s ? e - s : 0;
#ifdef __SSE2__
    /* Sixteen bytes at a time while they lie within the text and its NUL
     * (t[d->n]): a block with no byte to escape is stored as it is (the
     * output has room for 6 bytes per input byte); the rest, from the first
     * block that has one, as the SDK writes it.  The last block may reach
     * past the string: its bytes there neither count nor stay (k stops at
     * n), and with n >= 4 they fit in the room (n + 16 < 6n + 2). */
    const char *src = d->t + s;
    size_t k = 0;
    *o++ = '"';
    if (n >= 4) { /* (a block stored past a short string's end would overrun its room) */
        size_t lim = d->n + 1 - s; /* bytes readable from src */
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                      c1f = _mm_set1_epi8(0x1f);
        while (k < n && k + 16 <= lim) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + k));
            __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                       _mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v)); /* v <= 0x1f */
            unsigned m = (unsigned)_mm_movemask_epi8(bad);
            size_t left = n - k;
            if (left < 16)
                m &= (1u << left) - 1; /* bytes past the string do not count */
            if (m != 0)
                break;
            _mm_storeu_si128((__m128i *)(void *)(o + k), v);
            k += left < 16 ? left : 16;
        }
    }
    o += k;
    if (k < n)
        o += tm_json_escape(o, src + k, n - k);
    *o++ = '"';
    return o;
#else
    return o + tm_json_write_string(o, d->t + s, n);
#endif
}

/* A confidence: confidence() returns k / 100.0 for an integer k in 0..100,
 * which %.15g prints as the shortest decimal ("0.92", "0.8", "1", "0"). */
static char *js_conf_at(char *o, double c)
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
    memcpy(o, num, (size_t)n);
    return o + n;
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

/* Writing at a local pointer o into room reserved beforehand (js_room for
 * a whole quotation, speaker or mention: a bound on what it can take). */
#define O_LIT(lit) (memcpy(o, (lit), sizeof(lit) - 1), o += sizeof(lit) - 1)
#define O_KEY(lit) O_LIT("," lit ":")
#define O_UINT(v) (o += tm_json_write_u64(o, (v)))
#define O_ROOM_FIXED 512 /* the keys, punctuation and numbers of one record */

/* The text bytes [s, e) as a JSON string at o, or null when !have. */
static QT_INLINE char *js_optstr_at(const qt_doc_t *d, char *o, int have, uint32_t s, uint32_t e)
{
    if (have)
        return js_str_at(d, o, s, e);
    memcpy(o, "null", 4);
    return o + 4;
}

/* A span object opened at o, the part quotes and mentions share:
 * {"start":s,"end":e,"text":"<text bytes [s, e)>" (the caller closes it). */
static QT_INLINE char *js_span_open_at(const qt_doc_t *d, char *o, uint32_t s, uint32_t e)
{
    O_LIT("{\"start\":");
    O_UINT(s);
    O_KEY("\"end\"");
    O_UINT(e);
    O_KEY("\"text\"");
    return js_str_at(d, o, s, e);
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
        /* the spans of the speaker (have_spk: a name or role to print),
         * mention and cue */
        uint32_t spk_s = 0, spk_e = 0, men_s = 0, men_e = 0, cue_s = 0, cue_e = 0;
        int have_spk = 1;
        if (q->ent >= 0)
            ent_name(d, &d->ent[q->ent], &spk_s, &spk_e);
        else if (q->sp.s >= 0 && q->sp.kind == NP_NAME && q->sp.name_s >= 0)
            spk_s = d->tok[q->sp.name_s].s, spk_e = d->tok[q->sp.name_e].ce;
        else if (q->sp.s >= 0 && q->sp.kind != NP_PRON)
            spk_s = d->tok[q->sp.s].s, spk_e = d->tok[q->sp.e].ce;
        else
            have_spk = 0;
        if (q->sp.s >= 0)
            men_s = d->tok[q->sp.s].s, men_e = d->tok[q->sp.e].ce;
        if (q->cue >= 0) {
            int32_t ce = q->cue_e >= q->cue ? q->cue_e : q->cue;
            cue_s = d->tok[q->cue].s, cue_e = d->tok[ce].e;
        }
        size_t room = O_ROOM_FIXED + JS_STR_ROOM(span(q->s, q->e)) +
                      JS_STR_ROOM(span(spk_s, spk_e)) + JS_STR_ROOM(span(men_s, men_e)) +
                      JS_STR_ROOM(span(cue_s, cue_e));
        if (!js_room(d, room))
            break;
        char *o = d->js + d->n_js;
        if (k > 0)
            O_LIT(",");
        o = js_span_open_at(d, o, q->s, q->e);
        O_KEY("\"speaker\"");
        o = js_optstr_at(d, o, have_spk, spk_s, spk_e);
        O_KEY("\"speaker_mention\"");
        o = js_optstr_at(d, o, q->sp.s >= 0, men_s, men_e);
        O_KEY("\"cue\"");
        o = js_optstr_at(d, o, q->cue >= 0, cue_s, cue_e);
        O_KEY("\"type\"");
        if (q->type == QT_MIXED)
            O_LIT("\"mixed\"");
        else if (q->type == QT_INDIRECT)
            O_LIT("\"indirect\"");
        else
            O_LIT("\"direct\"");
        O_KEY("\"confidence\"");
        o = js_conf_at(o, q->conf);
        if (q->sp.s >= 0) {
            O_KEY("\"speaker_start\"");
            O_UINT(men_s);
            O_KEY("\"speaker_end\"");
            O_UINT(men_e);
        }
        if (q->cue >= 0) {
            O_KEY("\"cue_start\"");
            O_UINT(cue_s);
            O_KEY("\"cue_end\"");
            O_UINT(cue_e);
        }
        O_KEY("\"paragraph\"");
        O_UINT((uint32_t)q->para);
        if (q->host >= 0 && d->tmp2[q->host] >= 0) {
            O_KEY("\"fragment_of\"");
            O_UINT((uint32_t)d->tmp2[q->host]);
        }
        O_LIT("}");
        d->n_js = (size_t)(o - d->js);
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
        uint32_t s, e, rs = 0, re = 0;
        ent_name(d, en, &s, &e);
        if (en->role_s >= 0)
            rs = d->tok[en->role_s].s, re = d->tok[en->role_e].ce;
        if (!js_room(d, O_ROOM_FIXED + JS_STR_ROOM(span(s, e)) + JS_STR_ROOM(span(rs, re))))
            break;
        char *o = d->js + d->n_js;
        if (!first)
            O_LIT(",");
        first = 0;
        O_LIT("{\"name\":");
        o = js_str_at(d, o, s, e);
        O_KEY("\"role\"");
        o = js_optstr_at(d, o, en->role_s >= 0, rs, re);
        O_KEY("\"mentions\"");
        O_LIT("[");
        d->n_js = (size_t)(o - d->js);
        for (int32_t m = en->men_head; m >= 0; m = d->men[m].next) {
            const qt_mention_t *mn = &d->men[m];
            if (!js_room(d, O_ROOM_FIXED + JS_STR_ROOM(span(mn->s, mn->e))))
                break;
            o = d->js + d->n_js;
            if (m != en->men_head)
                O_LIT(",");
            o = js_span_open_at(d, o, mn->s, mn->e);
            O_LIT("}");
            d->n_js = (size_t)(o - d->js);
        }
        if (d->oom || !js_room(d, O_ROOM_FIXED))
            break;
        o = d->js + d->n_js;
        O_LIT("]");
        O_KEY("\"quotes\"");
        O_UINT((uint32_t)en->nquotes);
        O_LIT("}");
        d->n_js = (size_t)(o - d->js);
    }
    JS_LIT(d, "]");
    return js_finish(d);
}

#undef O_LIT
#undef O_KEY
#undef O_UINT

/* ------------------------------------------------------------ both */

cJSON *qt_emit_quotes_both(qt_doc_t *d, size_t *count, int tree)
{
    /* the raw writer orders the quotations (d->keys, d->tmp2), which the
     * tree reads as they are */
    const char *js = qt_emit_quotes_raw(d, count);
    if (js == NULL)
        return NULL;
    return tree ? ja_build(d, quotes_count, quotes_tree, js, d->n_js)
                : ja_build(d, NULL, NULL, js, d->n_js);
}

cJSON *qt_emit_speakers_both(qt_doc_t *d, int tree)
{
    const char *js = qt_emit_speakers_raw(d);
    if (js == NULL)
        return NULL;
    return tree ? ja_build(d, speakers_count, speakers_tree, js, d->n_js)
                : ja_build(d, NULL, NULL, js, d->n_js);
}
