/*
 * people.c - person mentions and entities (see people.h).
 */
#include "people.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void pp_doc_init(pp_doc_t *p) { memset(p, 0, sizeof *p); }

void pp_doc_free(pp_doc_t *p)
{
    free(p->m);
    free(p->ent);
    free(p->q);
    free(p->buf);
    free(p->tok_person);
    free(p->tok_quote);
    free(p->deferred);
    free(p->forms);
    free(p->forms_used);
    free(p->fkeys);
    free(p->m_tmp);
    memset(p, 0, sizeof *p);
}

static int pp__grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*ptr, nc * elem);
    if (np == NULL)
        return 0;
    *ptr = np;
    *cap = nc;
    return 1;
}

/* Store a string (lower-cased when lower) in the name buffer. */
static int pp__str(pp_doc_t *p, const char *s, size_t n, int lower, uint32_t *off)
{
    if (n > 256)
        n = 256;
    if (!pp__grow((void **)&p->buf, &p->buf_cap, p->buf_len + n + 1, 1))
        return 0;
    *off = (uint32_t)p->buf_len;
    char *o = p->buf + p->buf_len;
    if (!lower) {
        if (n > 0)
            memcpy(o, s, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            o[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
    }
    o[n] = '\0';
    p->buf_len += n + 1;
    return 1;
}

size_t pp_token_at(const st_doc_t *d, uint32_t off)
{
    /* The lower bound by halving a window [base, base + n) that holds it,
     * with a conditional move instead of a branch the data decides. */
    const st_token_t *tok = d->tok;
    size_t base = 0, n = d->ntok;
    if (n == 0)
        return 0;
    while (n > 1) {
        size_t half = n / 2;
        base = tok[base + half - 1].end <= off ? base + half : base;
        n -= half;
    }
    return base + (tok[base].end <= off);
}

/* Byte end of a name token without a possessive ending. */
static uint32_t pp__name_end(const st_doc_t *d, const st_token_t *t)
{
    const char *s = d->text;
    uint32_t e = t->end;
    if (!(t->flags & TK_POSS))
        return e;
    if (e >= t->start + 3 && s[e - 1] == 's' && s[e - 2] == '\'')
        return e - 2;
    if (e >= t->start + 4 && s[e - 1] == 's' && memcmp(s + e - 4, "\xe2\x80\x99", 3) == 0)
        return e - 4;
    if (e >= t->start + 2 && s[e - 1] == '\'')
        return e - 1;
    if (e >= t->start + 4 && memcmp(s + e - 3, "\xe2\x80\x99", 3) == 0)
        return e - 3;
    return e;
}

/* Last and first words of a name (ASCII-lower-cased, title words skipped). */
static void pp__name_parts(const char *name, size_t n, const char **first, size_t *flen,
                           const char **last, size_t *llen)
{
    size_t i = 0;
    *first = *last = NULL;
    *flen = *llen = 0;
    while (i < n) {
        while (i < n && (name[i] == ' ' || name[i] == '.'))
            i++;
        size_t j = i;
        while (j < n && name[j] != ' ')
            j++;
        if (j > i) {
            size_t k = j;
            while (k > i && (name[k - 1] == '.' || name[k - 1] == ','))
                k--;
            if (k > i) {
                if (*first == NULL) {
                    *first = name + i;
                    *flen = k - i;
                }
                *last = name + i;
                *llen = k - i;
            }
        }
        i = j;
    }
}

static int pp__eq_lower(const char *a, size_t an, const char *lower, size_t ln)
{
    if (an != ln)
        return 0;
    for (size_t i = 0; i < an; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lower[i])
            return 0;
    }
    return 1;
}

/* A new entity's index; -1 on out of memory, -2 when max_entities is reached.
 * f/fl, l/ll: pp__name_parts of the name. */
static int32_t pp__new_entity_parts(pp_doc_t *p, const char *name, size_t n, const char *f,
                                    size_t fl, const char *l, size_t ll, int gender, int from_quotes)
{
    if (p->max_entities > 0 && p->ne >= p->max_entities)
        return -2;
    if (!pp__grow((void **)&p->ent, &p->e_cap, p->ne + 1, sizeof *p->ent))
        return -1;
    pp_entity_t *e = &p->ent[p->ne];
    memset(e, 0, sizeof *e);
    if (!pp__str(p, name, n, 0, &e->name_off) ||
        !pp__str(p, l ? l : name, l ? ll : n, 1, &e->surname_off) ||
        !pp__str(p, f ? f : name, f ? fl : n, 1, &e->first_off))
        return -1;
    e->name_len = (uint32_t)(n > 256 ? 256 : n);
    e->surname_len = (uint32_t)(l ? (ll > 256 ? 256 : ll) : e->name_len);
    e->first_len = (uint32_t)(f ? (fl > 256 ? 256 : fl) : e->name_len);
    e->ntokens = 0;
    for (size_t i = 0; i < n; i++)
        if (name[i] == ' ')
            e->ntokens++;
    e->ntokens++;
    e->gender = (uint8_t)gender;
    e->from_quotes = (uint8_t)from_quotes;
    return (int32_t)p->ne++;
}

static int32_t pp__new_entity(pp_doc_t *p, const char *name, size_t n, int gender, int from_quotes)
{
    const char *f, *l;
    size_t fl, ll;
    pp__name_parts(name, n, &f, &fl, &l, &ll);
    return pp__new_entity_parts(p, name, n, f, fl, l, ll, gender, from_quotes);
}

static int pp__add_mention(pp_doc_t *p, const st_doc_t *d, uint32_t start, uint32_t end,
                           size_t tb, size_t te, size_t nb, int kind, int32_t ent)
{
    if (!pp__grow((void **)&p->m, &p->m_cap, p->nm + 1, sizeof *p->m))
        return 0;
    pp_mention_t *m = &p->m[p->nm++];
    memset(m, 0, sizeof *m);
    m->start = start;
    m->end = end;
    m->tok_begin = (uint32_t)tb;
    m->tok_end = (uint32_t)te;
    m->name_begin = (uint32_t)nb;
    m->sent = tb < d->ntok ? d->tok[tb].sent : (d->nsent ? (uint32_t)d->nsent - 1 : 0);
    m->kind = (uint8_t)kind;
    m->entity = ent;
    if (ent >= 0)
        p->ent[ent].nmentions++;
    for (size_t i = tb; i < te && i < d->ntok; i++)
        p->tok_person[i] = 1;
    return 1;
}

/* The entity a name (first/last words given) refers to, or -1. */
static int32_t pp__match(const pp_doc_t *p, const char *f, size_t fl, const char *l, size_t ll,
                         int ntok)
{
    int32_t best = -1;
    uint32_t best_n = 0;
    for (size_t i = 0; i < p->ne; i++) {
        const pp_entity_t *e = &p->ent[i];
        /* Neither the surname nor (one word) the first name has the
         * word's length: no match (most entities). */
        if (e->surname_len != ll && (ntok != 1 || e->first_len != ll))
            continue;
        if (e->unresolved)
            continue;
        int sur = pp__eq_lower(l, ll, pp_str(p, e->surname_off), e->surname_len);
        int ok = 0;
        if (ntok == 1) {
            ok = sur || (e->ntokens > 1 && pp__eq_lower(l, ll, pp_str(p, e->first_off),
                                                        e->first_len));
            if (ok && !sur)
                ok = 2; /* first-name match: weaker */
        } else if (sur) {
            /* Same surname: same person unless both have different first names. */
            if (e->ntokens == 1 || pp__eq_lower(f, fl, pp_str(p, e->first_off), e->first_len) ||
                fl == 1 || e->first_len == 1)
                ok = 1;
        }
        if (ok == 1 && (best < 0 || e->nmentions > best_n)) {
            best = (int32_t)i;
            best_n = e->nmentions;
        } else if (ok == 2 && best < 0) {
            best = (int32_t)i;
            best_n = 0;
        }
    }
    return best;
}

static int pp__common_word(const st_token_t *t);

/* "al-Assad", "el-Sissi": a lower-case particle glued to a capitalised name. */
static int pp__particle_name_slow(const char *s, size_t n);
static inline int pp__particle_name(const st_doc_t *d, const st_token_t *t)
{
    if (!(t->flags & (TK_WEIRD | TK_EMOJI)))
        return 0; /* no hyphen: '-' makes a word TK_WEIRD (emoji words keep their own bytes) */
    const char *s = d->text + t->start;
    size_t n = t->end - t->start;
    if (n < 4 || (s[2] != '-' && s[3] != '-'))
        return 0; /* the common case, decided inline without a loop */
    return pp__particle_name_slow(s, n);
}

static int pp__particle_name_slow(const char *s, size_t n)
{
    static const char *const pre[] = {"al-", "el-", "ad-", "as-", "bin-", "abu-", "ibn-"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        size_t l = strlen(pre[i]);
        if (n > l + 1 && memcmp(s, pre[i], l) == 0 && s[l] >= 'A' && s[l] <= 'Z')
            return 1;
    }
    return 0;
}

/* A contraction ("I'm", "We're", "You'll", "They'd"): never a name. */
static int pp__contraction(const st_doc_t *d, const st_token_t *t)
{
    const char *s = st_low(d, t);
    size_t n = t->low_len;
    if (n >= 3 && s[n - 2] == '\'' && (s[n - 1] == 'm' || s[n - 1] == 'd'))
        return 1;
    return n >= 4 && s[n - 3] == '\'' &&
           (memcmp(s + n - 2, "re", 2) == 0 || memcmp(s + n - 2, "ve", 2) == 0 ||
            memcmp(s + n - 2, "ll", 2) == 0);
}

/* A '.' followed by a lower-case letter inside the token: a web address or
 * file name ("Kremlin.ru", "Amazon.com"), not a name. */
static int pp__dotted_lower(const st_doc_t *d, const st_token_t *t)
{
    const char *s = d->text + t->start;
    size_t n = t->end - t->start;
    const char *dot = n > 2 ? memchr(s + 1, '.', n - 2) : NULL;
    while (dot != NULL) {
        if (dot[1] >= 'a' && dot[1] <= 'z')
            return 1;
        size_t rest = n - (size_t)(dot + 1 - s);
        dot = rest > 1 ? memchr(dot + 1, '.', rest - 1) : NULL;
    }
    return 0;
}

static int pp__is_name_tok(const st_doc_t *d, const st_token_t *t)
{
    if (t->flags & (TK_EMOJI | TK_DIGIT))
        return 0;
    if (!(t->flags & TK_CAP) || !(t->flags & TK_ALPHA))
        return pp__particle_name(d, t);
    if (t->e != NULL && (t->lxflags & (SL_PRONOUN | SL_FUNCTION)))
        return 0;
    if ((t->flags & TK_UPPER) && t->low_len > 1) {
        /* Capitals: a name in a transcript label or headline ("MARTIN:"),
         * unless it is a common word or a short acronym. */
        if (t->low_len < 3 || pp__common_word(t))
            return 0;
    }
    if (pp__contraction(d, t) || ((t->flags & TK_WEIRD) && pp__dotted_lower(d, t)))
        return 0; /* (a typographic apostrophe does not make a token "weird") */
    return 1;
}

/* Capitalised words that may sit in a run with names without being names:
 * titles, organisation/place words, never-name words ("Senate", "Mayor"). */
static int pp__cap_other(const st_token_t *t)
{
    if (!(t->flags & TK_CAP) || t->e == NULL)
        return 0;
    return (t->eflags & SL_TITLE) || (t->lxflags & (SL_TITLE | SL_ORG | SL_NOT_NAME)) != 0;
}

/* Only spaces between tokens i and i+1 (or the '.' of an initial or a
 * title: "J. Smith", "Sen. Warren"). */
static int pp__adjacent(const st_doc_t *d, size_t i)
{
    const st_token_t *t = &d->tok[i], *u = &d->tok[i + 1];
    if (t->sent != u->sent || (t->flags & TK_POSS))
        return 0;
    uint32_t k = t->end;
    if (k < u->start && d->text[k] == '.' &&
        ((t->low_len == 1 && (t->flags & TK_UPPER)) || (t->eflags & SL_TITLE) ||
         (t->e != NULL && (t->lxflags & SL_TITLE))))
        k++;
    for (; k < u->start; k++)
        if (d->text[k] != ' ')
            return 0;
    return 1;
}

static int pp__common_word(const st_token_t *t)
{
    return t->e != NULL &&
           (t->lxflags & (SL_VALENCE | SL_FUNCTION | SL_NOT_NAME | SL_BOOSTER | SL_NEGATION |
                           SL_SPEECH | SL_CONTRAST | SL_ORG | SL_DERIVED));
}

static int pp__suffix(const st_token_t *t, const st_doc_t *d, const char *suf)
{
    size_t n = strlen(suf);
    return t->low_len > n + 2 && memcmp(st_low(d, t) + t->low_len - n, suf, n) == 0;
}

/* Register a detected name [ms, k) with name tokens from nb.  Returns 0 on OOM. */
static int pp__name(pp_doc_t *p, const st_doc_t *d, size_t ms, size_t nb, size_t k, int gender,
                    int titled)
{
    const st_token_t *lt = &d->tok[k - 1];
    uint32_t name_start = d->tok[nb].start, name_end = pp__name_end(d, lt);
    if (name_end <= name_start)
        return 1;
    const char *name = d->text + name_start;
    size_t n = name_end - name_start;
    const char *f, *l;
    size_t fl, ll;
    pp__name_parts(name, n, &f, &fl, &l, &ll);
    if (l == NULL)
        return 1;
    int ntok = (int)(k - nb);
    int32_t ent = pp__match(p, f, fl, l, ll, ntok);
    if (ent < 0) {
        ent = pp__new_entity_parts(p, name, n, f, fl, l, ll, gender, 0);
        if (ent == -2)
            return 1; /* too many people: the rest are left out */
        if (ent < 0)
            return 0;
    } else {
        pp_entity_t *e = &p->ent[ent];
        if (!e->from_quotes && (uint32_t)ntok > e->ntokens && ntok <= 4) {
            /* A fuller form of the name becomes canonical. */
            uint32_t no, so, fo;
            if (!pp__str(p, name, n, 0, &no) || !pp__str(p, l, ll, 1, &so) ||
                !pp__str(p, f, fl, 1, &fo))
                return 0;
            e->name_off = no;
            e->name_len = (uint32_t)(n > 256 ? 256 : n);
            e->surname_off = so;
            e->surname_len = (uint32_t)(ll > 256 ? 256 : ll);
            e->first_off = fo;
            e->first_len = (uint32_t)(fl > 256 ? 256 : fl);
            e->ntokens = (uint32_t)ntok;
        }
        if (e->gender == SL_GENDER_NONE)
            e->gender = (uint8_t)gender;
    }
    if (!pp__add_mention(p, d, d->tok[ms].start, name_end, ms, k, nb, PP_NAME, ent))
        return 0;
    pp_mention_t *m = &p->m[p->nm - 1];
    m->titled = (uint8_t)titled;
    m->gender = (uint8_t)gender;
    /* "X said", "said X", "according to X": X speaks. */
    if (k < d->ntok && d->tok[k].sent == d->tok[ms].sent && d->tok[k].e != NULL &&
        (d->tok[k].lxflags & SL_SPEECH))
        m->speaker = 1;
    if (ms > 0 && d->tok[ms - 1].sent == d->tok[ms].sent && d->tok[ms - 1].e != NULL &&
        (d->tok[ms - 1].lxflags & SL_SPEECH))
        m->speaker = 1;
    if (ms > 1 && d->tok[ms - 2].e != NULL && (d->tok[ms - 2].lxflags & SL_SPEECH) &&
        st_is(d, &d->tok[ms - 1], "to", 2))
        m->speaker = 1;
    return 1;
}

/* First real token of a sentence (skipping emoji words). */
static size_t pp__first_tok(const st_doc_t *d, const st_sentence_t *s)
{
    /* Skip leading tokens that are emoji words. */
    size_t i = s->tok_begin;
    while (i < s->tok_end && (d->tok[i].flags & TK_EMOJI))
        i++;
    return i;
}

/* The set of the document's word forms (see pp_doc_t.forms). */
static inline uint64_t pp__form_key(uint64_t h)
{
    uint64_t key = h & ~(uint64_t)1;
    return key != 0 ? key : 2; /* 0 marks an empty slot */
}

static int pp__forms_build(pp_doc_t *p, const st_doc_t *d)
{
    size_t cap = 64; /* load at most 2/3 (distinct forms are fewer than tokens) */
    while (cap < d->ntok + d->ntok / 2)
        cap *= 2;
    if (cap > p->forms_cap) {
        /* A bigger table, zeroed once; the slots in use are always cleared
         * at the next pp_find (pp__forms_clear), so it stays zero. */
        uint64_t *nf = calloc(cap, sizeof *nf);
        uint32_t *nu = realloc(p->forms_used, cap * sizeof *nu);
        if (nu != NULL)
            p->forms_used = nu;
        if (nf == NULL || nu == NULL) {
            free(nf);
            return 0;
        }
        free(p->forms);
        p->forms = nf;
        p->forms_cap = cap;
    }
    p->forms_mask = cap - 1;
    size_t nused = 0;
    for (size_t i = 0; i < d->ntok; i++) {
        const st_token_t *t = &d->tok[i];
        if (t->low_len == 0 || (t->flags & TK_EMOJI))
            continue;
        uint64_t key = pp__form_key(t->hash);
        size_t k = (size_t)(t->hash >> 7) & p->forms_mask;
        while (p->forms[k] != 0 && (p->forms[k] & ~(uint64_t)1) != key)
            k = (k + 1) & p->forms_mask;
        if (p->forms[k] == 0)
            p->forms_used[nused++] = (uint32_t)k;
        p->forms[k] |= key | ((t->flags & TK_CAP) ? 0 : 1);
    }
    p->forms_nused = nused;
    p->forms_built = 1;
    return 1;
}

/* 0: the form (hash of a lower-case form) is not in the document; 1: only
 * capitalised; 3: also in lower case. */
static int pp__form(const pp_doc_t *p, uint64_t h)
{
    uint64_t key = pp__form_key(h);
    for (size_t k = (size_t)(h >> 7) & p->forms_mask;; k = (k + 1) & p->forms_mask) {
        if (p->forms[k] == 0)
            return 0;
        if ((p->forms[k] & ~(uint64_t)1) == key)
            return 1 | (int)((p->forms[k] & 1) << 1);
    }
}

/* The keys the scans of pp__form_ask compare (see pp_doc_t.fkeys), built
 * at the first question of a document.  0 on out of memory. */
static int pp__fkeys_build(pp_doc_t *p, const st_doc_t *d)
{
    size_t n = (d->ntok + 3) & ~(size_t)3; /* whole blocks of four */
    if (n > p->fkeys_cap) {
        size_t nc = p->fkeys_cap ? p->fkeys_cap : 256;
        while (nc < n)
            nc *= 2;
        uint32_t *nk = realloc(p->fkeys, nc * sizeof *nk);
        if (nk == NULL)
            return 0;
        p->fkeys = nk;
        p->fkeys_cap = nc;
    }
    for (size_t i = 0; i < d->ntok; i++) {
        const st_token_t *t = &d->tok[i];
        /* (odd: 0 never equals a key asked for) */
        p->fkeys[i] = (t->low_len == 0 || (t->flags & TK_EMOJI)) ? 0 : (uint32_t)(t->hash | 1);
    }
    for (size_t i = d->ntok; i < n; i++)
        p->fkeys[i] = 0;
    p->fkeys_n = n;
    return 1;
}

/* What pp__form tells of h (want: the bits asked for, 1 or 2), for the
 * first PP_FORM_SCANS questions of a document by a scan of its tokens (the
 * same tokens and keys the set holds: no set to build for a handful of
 * questions), then from the set, built at the next question. */
#define PP_FORM_SCANS 16
static int pp__form_ask(pp_doc_t *p, const st_doc_t *d, uint64_t h, int want)
{
    if (!p->forms_built && p->forms_scans < PP_FORM_SCANS) {
        if (p->forms_scans++ == 0 && !pp__fkeys_build(p, d))
            p->fkeys_n = SIZE_MAX; /* (out of memory: the tokens are scanned) */
        uint64_t key = pp__form_key(h), hm = h & ~(uint64_t)1;
        int r = 0;
        if (hm > 2 && p->fkeys_n != SIZE_MAX) {
            /* hm is the key, and no other hash maps to it: a token matches
             * when (its hash | 1) == hq.  Its low 32 bits are compared
             * first, four tokens at a time in the dense key array (tokens
             * without a form have key 0); a token whose 32 bits match is
             * then compared in full. */
            const uint64_t hq = hm | 1;
            const uint32_t kq = (uint32_t)hq;
            const uint32_t *k = p->fkeys;
            const size_t n = p->fkeys_n;
#ifdef __SSE2__
            const __m128i vq = _mm_set1_epi32((int)kq);
#endif
            for (size_t i = 0; i < n; i += 4) {
#ifdef __SSE2__
                unsigned mask = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(
                    _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(const void *)(k + i)), vq)));
#else
                unsigned mask = (unsigned)(k[i] == kq) | (unsigned)(k[i + 1] == kq) << 1 |
                                (unsigned)(k[i + 2] == kq) << 2 | (unsigned)(k[i + 3] == kq) << 3;
#endif
                for (; mask != 0; mask &= mask - 1) {
                    const st_token_t *t = &d->tok[i + (size_t)__builtin_ctz(mask)];
                    if ((t->hash | 1) != hq)
                        continue;
                    r |= 1 | ((t->flags & TK_CAP) ? 0 : 2);
                    if (r & want)
                        return r;
                }
            }
            return r;
        }
        const st_token_t *t = d->tok, *end = d->tok + d->ntok;
        for (;; t++) {
            if (hm > 2) { /* hm is the key, and no other hash maps to it */
                const uint64_t hq = hm | 1; /* (t->hash | 1) == hq: the same test */
                /* Four tokens a step, one branch for the four. */
                while (end - t >= 4 && ((t[0].hash | 1) != hq) & ((t[1].hash | 1) != hq) &
                                           ((t[2].hash | 1) != hq) & ((t[3].hash | 1) != hq))
                    t += 4;
                while (t < end && (t->hash | 1) != hq)
                    t++;
            } else
                while (t < end && pp__form_key(t->hash) != key)
                    t++;
            if (t == end)
                break;
            if (t->low_len == 0 || (t->flags & TK_EMOJI))
                continue;
            r |= 1 | ((t->flags & TK_CAP) ? 0 : 2);
            if (r & want)
                break;
        }
        return r;
    }
    if (!p->forms_built && !pp__forms_build(p, d))
        return 0;
    return pp__form(p, h);
}

/* "Trump-Putin", "Biden-Harris": a hyphenated pair of capitalised words each
 * of which the document also uses on its own, or one of which is an
 * organisation/place or never-name word ("U.S.-China"), names a relation
 * between two parties, not one person.  Double-barrelled names
 * ("Ocasio-Cortez") do not use their parts alone. */
static int pp__pair(pp_doc_t *p, const st_doc_t *d, const sl_lexicon_t *lx, const st_token_t *t)
{
    const char *s = d->text + t->start, *low = st_low(d, t);
    size_t n = t->end - t->start;
    if (n != t->low_len || memchr(low, '-', n) == NULL)
        return 0; /* no hyphen (or a non-ASCII case change: left alone) */
    size_t parts = 0, alone = 0, other = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && low[b] != '-')
            b++;
        if (b > a) {
            if (!(s[a] >= 'A' && s[a] <= 'Z'))
                return 0; /* "Obama-era", "al-Assad": not a pair of names */
            parts++;
            uint64_t h = sl_hash(low + a, b - a);
            if (pp__form_ask(p, d, h, 1) != 0)
                alone++;
            const sl_entry_t *e = lx != NULL ? sl_get_hashed(lx, h, low + a, b - a) : NULL;
            if (e != NULL && (e->flags & (SL_ORG | SL_NOT_NAME)))
                other++;
        }
        a = b + 1;
    }
    return parts >= 2 && (alone == parts || other > 0);
}

/* A sentence-initial capitalised word that is no name: the document also
 * writes it in lower case ("Meet" / "meet"). */
static int pp__initial_common(pp_doc_t *p, const st_doc_t *d, const st_token_t *t)
{
    return (pp__form_ask(p, d, t->hash, 2) & 2) != 0;
}

static int pp__detect(pp_doc_t *p, const st_doc_t *d, int pass, size_t max_mentions)
{
    if (pass == 0)
        p->ndeferred = 0;
    size_t nloop = pass == 0 ? d->nsent : p->ndeferred;
    size_t ci = 0; /* into d->capw: i only grows through the pass */
    for (size_t li = 0; li < nloop; li++) {
        size_t si = pass == 0 ? li : p->deferred[li];
        const st_sentence_t *se = &d->sent[si];
        size_t a = se->tok_begin, b = se->tok_end;
        size_t first = pp__first_tok(d, se);
        size_t i = a;
        while (i < b) {
            if (p->nm >= max_mentions)
                return 1;
            const st_token_t *t = &d->tok[i];
            if (!(t->flags & (TK_CAP | TK_WEIRD))) {
                /* No capital and no hyphen: no name starts here (see below);
                 * on to the next token that has one (st_doc_t.capw). */
                while (ci < d->ncapw && d->capw[ci] <= i)
                    ci++;
                i = ci < d->ncapw && d->capw[ci] < b ? d->capw[ci] : b;
                continue;
            }
            /* Most tokens are not capitalised: then only a particle name
             * ("al-Assad") can start a run (what pp__is_name_tok and
             * pp__cap_other decide, without the calls). */
            int name_t; /* pp__is_name_tok(d, t) */
            if (p->tok_person[i]) {
                i++;
                continue;
            }
            if (!(t->flags & TK_CAP)) {
                if ((t->flags & (TK_EMOJI | TK_DIGIT)) || !pp__particle_name(d, t)) {
                    i++;
                    continue;
                }
                name_t = 1; /* (a particle name is a name token) */
            } else {
                name_t = pp__is_name_tok(d, t);
                if (!name_t && !pp__cap_other(t)) {
                    i++;
                    continue;
                }
            }
            /* A run of adjacent capitalised words (and name particles).
             * nmask: bit q - i is pp__is_name_tok of token q of the run
             * (the first 64; PP_NAME_AT asks again after them). */
            uint64_t nmask = (uint64_t)name_t;
#define PP_NAME_AT(q)                                                                              \
    ((q) - i < 64 ? (int)((nmask >> ((q) - i)) & 1) : pp__is_name_tok(d, &d->tok[(q)]))
            size_t k = i + 1;
            while (k < b && !p->tok_person[k] && pp__adjacent(d, k - 1)) {
                const st_token_t *u = &d->tok[k];
                int name_u = pp__is_name_tok(d, u);
                if (name_u && k - i < 64)
                    nmask |= 1ull << (k - i);
                if (name_u || pp__cap_other(u)) {
                    k++;
                    continue;
                }
                if (u->e != NULL && (u->lxflags & SL_NAME_LINK) && k + 1 < b &&
                    pp__adjacent(d, k) && pp__is_name_tok(d, &d->tok[k + 1])) {
                    k++;
                    continue;
                }
                break;
            }
            size_t next = k;
            /* An organisation or place ("Cook County", "White House"). */
            const st_token_t *lt = &d->tok[k - 1];
            if (lt->e != NULL && (lt->lxflags & SL_ORG) && !(lt->flags & TK_POSS)) {
                i = next;
                continue;
            }
            /* The name is what follows the last title/organisation/non-name
             * word: "House Judiciary Committee Chairman Jerry Nadler". */
            size_t nb = i;
            for (size_t q = i; q < k; q++)
                if (pp__cap_other(&d->tok[q]) || !PP_NAME_AT(q))
                    nb = q + 1;
            /* A name particle cannot start the name ("de" of "Bill de Blasio" can
             * only follow a name). */
            while (nb < k && !PP_NAME_AT(nb))
                nb++;
#undef PP_NAME_AT
            if (nb >= k) {
                i = next;
                continue;
            }
            int titled = 0, gender = SL_GENDER_NONE;
            size_t ms = nb;
            if (nb > i) {
                const st_token_t *tt = &d->tok[nb - 1];
                if ((tt->eflags & SL_TITLE) || (tt->e != NULL && (tt->lxflags & SL_TITLE))) {
                    titled = 1;
                    ms = nb - 1;
                    if (tt->e != NULL)
                        gender = tt->e->gender;
                }
            }
            /* Long runs (headlines in title case or capitals): the name is
             * what follows the last common word; at most three words. */
            if (k - nb > 3) {
                for (size_t q = nb; q + 1 < k; q++)
                    if (pp__common_word(&d->tok[q]) || (d->tok[q].flags & TK_UPPER))
                        nb = q + 1;
                if (k - nb > 3)
                    nb = k - 2;
                if (!titled || nb > ms + 1)
                    ms = nb, titled = 0;
            }
            size_t ntok = k - nb;
            if (ntok == 1 && !titled) {
                /* A lone letter, an abbreviation ("U.S."), a lone acronym of
                 * up to four capitals ("PAC", "NATO", "SUV"), or a hyphenated
                 * pair ("Trump-Putin"): not a person. */
                const st_token_t *u = &d->tok[nb];
                if (u->low_len <= 1 || memchr(st_low(d, u), '.', u->low_len) != NULL ||
                    ((u->flags & TK_UPPER) && u->low_len <= 4) ||
                    ((u->flags & TK_WEIRD) && pp__pair(p, d, p->lx, u))) {
                    i = next;
                    continue;
                }
            }
            int initial = nb == first ||
                          (nb > a && (d->tok[nb - 1].flags & TK_IN_QUOTE) !=
                                         (d->tok[nb].flags & TK_IN_QUOTE));
            int known = -1; /* the lone word names a known person (-1: not asked yet) */
            if (ntok == 1 && !titled && pp__common_word(&d->tok[nb])) {
                /* A lone capitalised common word ("Hope") is a name only if
                 * the document knows that name already. */
                const st_token_t *u = &d->tok[nb];
                if (pp__match(p, st_low(d, u), u->low_len, st_low(d, u), u->low_len, 1) < 0) {
                    i = next;
                    continue;
                }
                known = 1;
            }
            if (ntok == 1 && !titled && initial) {
                const st_token_t *u = &d->tok[nb];
                if (known < 0) /* (nothing has changed the entities since the question above) */
                    known = pp__match(p, st_low(d, u), u->low_len, st_low(d, u), u->low_len, 1) >= 0;
                if (pass == 0 && !known) {
                    /* Decided in pass 1, when all full names are known. */
                    if (p->ndeferred == 0 || p->deferred[p->ndeferred - 1] != (uint32_t)si) {
                        if (!pp__grow((void **)&p->deferred, &p->deferred_cap, p->ndeferred + 1,
                                      sizeof *p->deferred))
                            return 0;
                        p->deferred[p->ndeferred++] = (uint32_t)si;
                    }
                    i = next;
                    continue;
                }
                if (!known) {
                    const st_token_t *nx = k < b ? &d->tok[k] : NULL;
                    int ok = (u->flags & TK_POSS) || (u->flags & TK_UPPER) ||
                             (nx != NULL && nx->e != NULL && (nx->lxflags & SL_SPEECH)) ||
                             (nx != NULL && !(nx->flags & TK_CAP) && (nx->flags & TK_ALPHA)) ||
                             (u->flags & TK_COMMA_AFTER);
                    if (pp__suffix(u, d, "ly"))
                        ok = 0;
                    /* Only the weak evidence (a lower-case word follows):
                     * a common word used as the first word ("Meet the..."). */
                    if (ok && !(u->flags & (TK_POSS | TK_UPPER | TK_COMMA_AFTER)) &&
                        !(nx != NULL && nx->e != NULL && (nx->lxflags & SL_SPEECH)) &&
                        pp__initial_common(p, d, u))
                        ok = 0;
                    if (!ok) {
                        i = next;
                        continue;
                    }
                }
            } else if (pass == 1) {
                i = next;
                continue;
            }
            if (!pp__name(p, d, ms, nb, k, gender, titled))
                return 0;
            i = k;
        }
    }
    return 1;
}

static int pp__cmp(const void *a, const void *b)
{
    const pp_mention_t *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

/* Stable merge sort of m[0..n) by start, through tmp[0..n). */
static void pp__msort(pp_mention_t *m, pp_mention_t *tmp, size_t n)
{
    if (n < 2)
        return;
    if (n <= 8) { /* stable insertion sort */
        for (size_t i = 1; i < n; i++) {
            if (m[i - 1].start <= m[i].start)
                continue;
            pp_mention_t x = m[i];
            size_t j = i;
            while (j > 0 && m[j - 1].start > x.start) {
                m[j] = m[j - 1];
                j--;
            }
            m[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    pp__msort(m, tmp, h);
    pp__msort(m + h, tmp, n - h);
    if (m[h - 1].start <= m[h].start)
        return; /* already in order */
    memcpy(tmp, m, h * sizeof *m);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        m[k++] = m[j].start < tmp[i].start ? m[j++] : tmp[i++]; /* ties: the left one first */
    while (i < h)
        m[k++] = tmp[i++];
}

/* Mentions [0, n) in text order, stably (n <= nm). */
static void pp__sort_run(pp_doc_t *p, size_t n)
{
    size_t i = 1;
    while (i < n && p->m[i - 1].start <= p->m[i].start)
        i++;
    if (i >= n)
        return;
    if (!pp__grow((void **)&p->m_tmp, &p->m_tmp_cap, n / 2 + 1, sizeof *p->m_tmp)) {
        qsort(p->m, n, sizeof *p->m, pp__cmp); /* (as pp__sort_mentions) */
        return;
    }
    pp__msort(p->m, p->m_tmp, n);
}

/* Mentions in text order; mentions starting at the same byte keep their
 * order (the same order glibc's merge-sorting qsort gave; no comparator
 * calls, and a sorted array costs one pass). */
static void pp__sort_mentions(pp_doc_t *p)
{
    size_t n = p->nm, i = 1;
    while (i < n && p->m[i - 1].start <= p->m[i].start)
        i++;
    if (i >= n)
        return;
    if (!pp__grow((void **)&p->m_tmp, &p->m_tmp_cap, n / 2 + 1, sizeof *p->m_tmp)) {
        qsort(p->m, n, sizeof *p->m, pp__cmp); /* stable as well in glibc, where it can allocate */
        return;
    }
    pp__msort(p->m, p->m_tmp, n);
}

/* Mentions [0, h) and [h, n) each in text order: one stable merge into
 * [0, n), the order pp__sort_mentions gives them (ties: the left one
 * first). */
static void pp__merge_runs(pp_doc_t *p, size_t h, size_t n)
{
    if (h == 0 || h >= n || p->m[h - 1].start <= p->m[h].start)
        return;
    if (!pp__grow((void **)&p->m_tmp, &p->m_tmp_cap, h, sizeof *p->m_tmp)) {
        pp__sort_mentions(p); /* (sorts all of p->m: [0, n) as well) */
        return;
    }
    pp_mention_t *m = p->m, *tmp = p->m_tmp;
    memcpy(tmp, m, h * sizeof *m);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        m[k++] = m[j].start < tmp[i].start ? m[j++] : tmp[i++];
    while (i < h)
        m[k++] = tmp[i++];
}

/* "the president": the latest person given that title, else a person of its own. */
static int pp__nominal(pp_doc_t *p, const st_doc_t *d, size_t i, size_t nnamed)
{
    const st_token_t *title = &d->tok[i + 1];
    int32_t ent = -1;
    (void)nnamed;
    for (size_t c = p->nm, steps = 0; c > 0 && steps < 256; c--, steps++) {
        const pp_mention_t *m = &p->m[c - 1];
        if (m->tok_end > i || !m->titled || m->entity < 0)
            continue;
        const st_token_t *mt = &d->tok[m->tok_begin];
        if (mt->low_len == title->low_len &&
            memcmp(st_low(d, mt), st_low(d, title), mt->low_len) == 0) {
            ent = m->entity;
            break;
        }
    }
    if (ent < 0) {
        char name[96];
        int n = snprintf(name, sizeof name, "the %.80s", st_low(d, title));
        for (size_t k = 0; k < p->ne; k++)
            if (p->ent[k].unresolved && p->ent[k].name_len == (uint32_t)n &&
                memcmp(pp_str(p, p->ent[k].name_off), name, (size_t)n) == 0)
                ent = (int32_t)k;
        if (ent < 0) {
            ent = pp__new_entity(p, name, (size_t)n, title->e->gender, 0);
            if (ent == -2)
                return 1;
            if (ent < 0)
                return 0;
            p->ent[ent].unresolved = 1;
        }
    }
    if (!pp__add_mention(p, d, d->tok[i].start, title->end, i, i + 2, i + 1, PP_NAME, ent))
        return 0;
    p->m[p->nm - 1].titled = 1;
    return 1;
}

static int pp__pronouns(pp_doc_t *p, const st_doc_t *d, size_t max_mentions)
{
    /* Named mentions are sorted; pronoun mentions are appended after them
     * in token order, and the two runs are merged at the end. */
    size_t nnamed = p->nm, cur = 0;
    int32_t unresolved[4] = {-1, -1, -1, -1};
    for (size_t ci = 0; ci < d->ncand; ci++) { /* (st_doc_t.cand: no other token goes on below) */
        const size_t i = d->cand[ci];
        const st_token_t *t = &d->tok[i];
        /* Only "the" (a title after it) and pronouns go on. */
        if (t->e == NULL || (t->low_len != 3 && !(t->lxflags & SL_PRONOUN)) || p->tok_person[i])
            continue;
        if (st_is(d, t, "the", 3) && i + 1 < d->ntok &&
            d->tok[i + 1].sent == t->sent && !p->tok_person[i + 1] &&
            !(d->tok[i + 1].flags & TK_CAP) && d->tok[i + 1].e != NULL &&
            (d->tok[i + 1].lxflags & SL_TITLE) &&
            (i + 2 >= d->ntok || !pp__is_name_tok(d, &d->tok[i + 2]) ||
             d->tok[i + 2].sent != t->sent)) {
            if (p->nm >= max_mentions)
                break;
            if (!pp__nominal(p, d, i, nnamed))
                return 0;
            continue;
        }
        if (!(t->lxflags & SL_PRONOUN))
            continue;
        int g = t->e->gender;
        if (g != SL_GENDER_MALE && g != SL_GENDER_FEMALE)
            continue;
        if (p->nm >= max_mentions)
            break;
        /* The nearest earlier mention in this or the 2 previous sentences
         * whose entity's gender fits: among named ones, then pronouns. */
        /* A person known to have the pronoun's gender wins over a nearer
         * one whose gender is unknown ("Mr. Trump met Hillary Clinton. He"). */
        const pp_mention_t *best = NULL, *unknown = NULL;
        size_t steps = 0;
        while (cur < nnamed && p->m[cur].tok_end <= i) /* (advanced only here, where it is read) */
            cur++;
        for (size_t c = cur; c > 0 && steps < 64; c--, steps++) {
            const pp_mention_t *m = &p->m[c - 1];
            if (m->tok_end > i)
                continue;
            if (m->sent + 2 < t->sent)
                break;
            if (m->entity < 0)
                continue;
            int eg = p->ent[m->entity].gender;
            if (eg == g) {
                best = m;
                break;
            }
            if (eg == SL_GENDER_NONE && unknown == NULL)
                unknown = m;
        }
        if (best == NULL)
            best = unknown;
        steps = 0;
        for (size_t c = p->nm; c > nnamed && steps < 64; c--, steps++) {
            const pp_mention_t *m = &p->m[c - 1];
            if (best != NULL && m->start < best->start)
                break;
            if (m->sent + 2 < t->sent)
                break;
            int eg = m->entity >= 0 ? p->ent[m->entity].gender : SL_GENDER_NONE;
            int nominal = m->kind == PP_NAME; /* "the senator" */
            if (m->entity >= 0 && (nominal || !p->ent[m->entity].unresolved) &&
                (eg == g || (nominal && eg == SL_GENDER_NONE)) &&
                (best == NULL || p->ent[best->entity].gender != g)) {
                best = m; /* a pronoun chain: "He ... he" */
                break;
            }
        }
        int32_t ent = best != NULL ? best->entity : -1;
        if (ent < 0) {
            if (unresolved[g] < 0) {
                unresolved[g] = pp__new_entity(p, g == SL_GENDER_MALE ? "he" : "she",
                                               g == SL_GENDER_MALE ? 2 : 3, g, 0);
                if (unresolved[g] == -2) {
                    unresolved[g] = -1;
                    continue;
                }
                if (unresolved[g] < 0)
                    return 0;
                p->ent[unresolved[g]].unresolved = 1;
            }
            ent = unresolved[g];
        } else if (p->ent[ent].gender == SL_GENDER_NONE) {
            p->ent[ent].gender = (uint8_t)g;
        }
        if (!pp__add_mention(p, d, t->start, t->end, i, i + 1, i, PP_PRONOUN, ent))
            return 0;
        p->m[p->nm - 1].gender = (uint8_t)g;
    }
    /* The named mentions (sorted) and the ones appended above (in token
     * order). */
    pp__merge_runs(p, nnamed, p->nm);
    return 1;
}

/* The first member of object o under each of the nk keys (NULL for a key
 * not there), in one walk over its members: what nk calls of
 * cJSON_GetObjectItemCaseSensitive give (which also stop at a member
 * without a key), without a walk and a strcmp per key. */
static void pp__members(const cJSON *o, const char *const *keys, int nk, const cJSON **out)
{
    int left = nk;
    for (int j = 0; j < nk; j++)
        out[j] = NULL;
    for (const cJSON *c = o->child; c != NULL && c->string != NULL && left > 0; c = c->next)
        for (int j = 0; j < nk; j++)
            if (out[j] == NULL && keys[j][0] == c->string[0] && strcmp(keys[j], c->string) == 0) {
                out[j] = c;
                left--;
                break;
            }
}

/* pp__members for a quote's five keys ("start", "end", "speaker",
 * "speaker_start", "speaker_end"; out in that order): the same members,
 * each name told apart by its first bytes and one comparison of the rest
 * instead of a strcmp per key it may be (a quote item has a dozen members,
 * five of them starting with "speaker"). */
static void pp__quote_members(const cJSON *o, const cJSON **out)
{
    int left = 5;
    for (int j = 0; j < 5; j++)
        out[j] = NULL;
    for (const cJSON *c = o->child; c != NULL && c->string != NULL && left > 0; c = c->next) {
        const char *k = c->string;
        int j = -1;
        if (k[0] == 'e') {
            if (strcmp(k + 1, "nd") == 0)
                j = 1;
        } else if (k[0] == 's') {
            if (k[1] == 't') {
                if (strcmp(k + 2, "art") == 0)
                    j = 0;
            } else if (k[1] == 'p' && strncmp(k + 2, "eaker", 5) == 0) {
                if (k[7] == '\0')
                    j = 2;
                else if (k[7] == '_')
                    j = strcmp(k + 8, "start") == 0 ? 3 : strcmp(k + 8, "end") == 0 ? 4 : -1;
            }
        }
        if (j >= 0 && out[j] == NULL) {
            out[j] = c;
            left--;
        }
    }
}

/* A [start, end) span from the number members a and b, checked against the
 * text (into *s, *e), and the first token at or after its start (*tb);
 * 1 when the span is one and covers a token. */
static int pp__span_at(const st_doc_t *d, const cJSON *xa, const cJSON *xb, uint32_t *s,
                       uint32_t *e, size_t *tb)
{
    if (!cJSON_IsNumber(xa) || !cJSON_IsNumber(xb))
        return 0;
    double a = xa->valuedouble, b = xb->valuedouble;
    if (!(a >= 0) || !(b > a) || b > (double)d->len)
        return 0;
    *s = (uint32_t)a;
    *e = (uint32_t)b;
    *tb = pp_token_at(d, *s);
    return *tb < d->ntok && d->tok[*tb].start < *e;
}

/* The same, with the end of its tokens in *te. */
static int pp__span_items(const st_doc_t *d, const cJSON *xa, const cJSON *xb, uint32_t *s,
                          uint32_t *e, size_t *tb, size_t *te)
{
    if (!pp__span_at(d, xa, xb, s, e, tb))
        return 0;
    size_t j = *tb;
    while (j < d->ntok && d->tok[j].start < *e)
        j++;
    *te = j;
    return 1;
}

/* The span object o gives under "start" and "end". */
static int pp__span(const st_doc_t *d, const cJSON *o, uint32_t *s, uint32_t *e, size_t *tb,
                    size_t *te)
{
    static const char *const keys[2] = {"start", "end"};
    const cJSON *x[2];
    if (!cJSON_IsObject(o))
        return 0;
    pp__members(o, keys, 2, x);
    return pp__span_items(d, x[0], x[1], s, e, tb, te);
}

int pp_parse_quotes(pp_doc_t *p, const st_doc_t *d, const cJSON *quotes)
{
    p->nq = 0;
    p->q_src = NULL;
    const cJSON *q;
    cJSON_ArrayForEach(q, quotes) {
        uint32_t s = 0, e = 0;
        size_t tb = 0, te = 0;
        /* The quote's members in one walk. */
        const cJSON *qx[5] = {NULL, NULL, NULL, NULL, NULL};
        int isobj = cJSON_IsObject(q);
        if (isobj)
            pp__quote_members(q, qx);
        int ok = isobj && pp__span_items(d, qx[0], qx[1], &s, &e, &tb, &te);
        if (!pp__grow((void **)&p->q, &p->q_cap, p->nq + 1, sizeof *p->q))
            return TM_ENOMEM;
        pp_quote_t *pq = &p->q[p->nq++];
        pq->start = s;
        pq->end = e;
        pq->tok_begin = (uint32_t)(ok ? tb : 0);
        pq->tok_end = (uint32_t)(ok ? te : 0);
        pq->ok = ok;
        pq->sp_start = qx[3];
        pq->sp_end = qx[4];
    }
    p->q_src = quotes;
    p->q_tok = d->tok;
    p->q_ntok = d->ntok;
    return TM_OK;
}

int pp_find(pp_doc_t *p, const st_doc_t *d, const cJSON *quotes, const cJSON *speakers,
            const cJSON *targets, size_t max_mentions)
{
    /* Quotes read by pp_parse_quotes for this document are kept. */
    int parsed = cJSON_IsArray(quotes) && p->q_src == quotes && p->q_tok == d->tok &&
                 p->q_ntok == d->ntok;
    p->q_src = NULL;
    if (!parsed)
        p->nq = 0;
    p->nm = p->ne = p->buf_len = 0;
    for (size_t j = 0; j < p->forms_nused; j++) /* the last document's forms */
        p->forms[p->forms_used[j]] = 0;
    p->forms_nused = 0;
    p->forms_built = 0;
    p->forms_scans = 0;
    if (!pp__grow((void **)&p->tok_person, &p->tok_person_cap, d->ntok + 1, sizeof *p->tok_person) ||
        !pp__grow((void **)&p->tok_quote, &p->tok_quote_cap, d->ntok + 1, sizeof *p->tok_quote))
        return TM_ENOMEM;
    memset(p->tok_person, 0, (d->ntok + 1) * sizeof *p->tok_person);
    memset(p->tok_quote, 0, (d->ntok + 1) * sizeof *p->tok_quote);

    /* Speakers from the quotes stage: canonical names and their mentions. */
    if (cJSON_IsArray(speakers)) {
        const cJSON *sp;
        cJSON_ArrayForEach(sp, speakers) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(sp, "name");
            if (!cJSON_IsString(nm) || nm->valuestring[0] == '\0')
                continue;
            int32_t ent = pp__new_entity(p, nm->valuestring, strlen(nm->valuestring),
                                         SL_GENDER_NONE, 1);
            if (ent == -2)
                break;
            if (ent < 0)
                return TM_ENOMEM;
            const cJSON *ms = cJSON_GetObjectItemCaseSensitive(sp, "mentions"), *m;
            cJSON_ArrayForEach(m, ms) {
                uint32_t s, e;
                size_t tb, te;
                if (p->nm >= max_mentions || !pp__span(d, m, &s, &e, &tb, &te))
                    continue;
                int overlap = 0;
                for (size_t q = tb; q < te; q++)
                    overlap |= p->tok_person[q];
                if (overlap)
                    continue;
                int kind = PP_SPEAKER;
                if (te == tb + 1 && d->tok[tb].e != NULL && (d->tok[tb].lxflags & SL_PRONOUN)) {
                    kind = PP_PRONOUN;
                    if (p->ent[ent].gender == SL_GENDER_NONE)
                        p->ent[ent].gender = d->tok[tb].e->gender;
                }
                if (!pp__add_mention(p, d, s, e, tb, te, tb, kind, ent))
                    return TM_ENOMEM;
            }
        }
    }
    /* Quotations: spans from the quotes stage, else the tokenizer's marks. */
    if (cJSON_IsArray(quotes)) {
        if (!parsed && pp_parse_quotes(p, d, quotes) != TM_OK)
            return TM_ENOMEM;
        for (size_t k = 0; k < p->nq; k++) {
            const pp_quote_t *pq = &p->q[k];
            if (!pq->ok)
                continue;
            for (size_t i = pq->tok_begin; i < pq->tok_end; i++)
                p->tok_quote[i] = 1;
            /* The speaker's mentions in the quote's sentence(s) speak (a
             * speaker span of the text that covers a token). */
            uint32_t ss, se2;
            size_t stb;
            if (!pp__span_at(d, pq->sp_start, pq->sp_end, &ss, &se2, &stb))
                continue;
            for (size_t m = 0; m < p->nm; m++)
                if (p->m[m].start < se2 && ss < p->m[m].end)
                    p->m[m].speaker = 1;
        }
    } else {
        for (size_t i = 0; i < d->ntok; i++)
            p->tok_quote[i] = (d->tok[i].flags & TK_IN_QUOTE) ? 1 : 0;
    }
    /* Own detection: full names first, then sentence-initial single words.
     * The speakers' mentions (in the quotes stage's order), then each
     * pass's (in text order): the speakers' sorted, then the three runs
     * merged, which gives the order one stable sort of all would. */
    size_t nspk = p->nm;
    if (!pp__detect(p, d, 0, max_mentions))
        return TM_ENOMEM;
    size_t npass0 = p->nm;
    if (!pp__detect(p, d, 1, max_mentions))
        return TM_ENOMEM;
    if (nspk > 1)
        pp__sort_run(p, nspk);
    pp__merge_runs(p, nspk, npass0);
    pp__merge_runs(p, npass0, p->nm);
    if (!pp__pronouns(p, d, max_mentions))
        return TM_ENOMEM;
    /* User-given targets that no detected mention covers. */
    int added = 0;
    if (cJSON_IsArray(targets)) {
        const cJSON *t;
        cJSON_ArrayForEach(t, targets) {
            uint32_t s, e;
            size_t tb, te;
            if (p->nm >= max_mentions || !pp__span(d, t, &s, &e, &tb, &te))
                continue;
            int overlap = 0;
            for (size_t q = tb; q < te; q++)
                overlap |= p->tok_person[q];
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
            if (overlap) {
                /* Already found: a name the user gives becomes the canonical one. */
                for (size_t k = 0; cJSON_IsString(nm) && nm->valuestring[0] && k < p->nm; k++) {
                    pp_mention_t *m = &p->m[k];
                    if (m->start < e && s < m->end && m->entity >= 0 &&
                        !p->ent[m->entity].from_quotes) {
                        pp_entity_t *en = &p->ent[m->entity];
                        uint32_t off;
                        if (!pp__str(p, nm->valuestring, strlen(nm->valuestring), 0, &off))
                            return TM_ENOMEM;
                        en->name_off = off;
                        en->name_len = (uint32_t)(strlen(nm->valuestring) > 256 ? 256 : strlen(nm->valuestring));
                        en->unresolved = 0;
                        break;
                    }
                }
                continue;
            }
            const char *name = cJSON_IsString(nm) && nm->valuestring[0] ? nm->valuestring
                                                                         : d->text + s;
            size_t n = cJSON_IsString(nm) && nm->valuestring[0] ? strlen(name) : (size_t)(e - s);
            const char *f, *l;
            size_t fl, ll;
            pp__name_parts(name, n, &f, &fl, &l, &ll);
            int32_t ent = l != NULL ? pp__match(p, f, fl, l, ll, 1 + (f != l)) : -1;
            if (ent < 0 && (ent = pp__new_entity(p, name, n, SL_GENDER_NONE, 0)) < 0) {
                if (ent == -2)
                    continue;
                return TM_ENOMEM;
            }
            int kind = te == tb + 1 && d->tok[tb].e != NULL && (d->tok[tb].lxflags & SL_PRONOUN)
                           ? PP_PRONOUN
                           : PP_NAME; /* scored like any detected mention */
            if (!pp__add_mention(p, d, s, e, tb, te, tb, kind, ent))
                return TM_ENOMEM;
            added = 1;
        }
    }
    if (added)
        if (p->nm > 1)
            pp__sort_mentions(p);
    return TM_OK;
}
