/*
 * qt_coref.c - the people of a document: canonical names, pronoun and
 * role-noun resolution, mentions.
 *
 *  1. Proper-name runs (capitalised tokens outside quotations) are
 *     collected; a run of two or more name tokens, or one after a personal
 *     title ("Mr Putin"), introduces an entity keyed by its last token.  A
 *     title or role before the run ("Kremlin spokesman Dmitry Peskov") or an
 *     appositive after a speaker becomes the entity's role.
 *  2. Every run is assigned, in text order, to the entity with the same last
 *     name (or first name) mentioned most recently; "Clinton" after "Bill
 *     Clinton" is Bill, after "Hillary Clinton" is Hillary.
 *  3. Speakers: a name resolves through its last name; "he"/"she" to the
 *     most recent speaker or sentence subject of a compatible gender; a
 *     definite role noun ("the Russian president") to the most recent entity
 *     with that role, else to the most recent speaker.  An indefinite role
 *     ("a spokesman") stays unresolved: its mention is its name.
 *  4. Mentions (names, and the pronouns and role nouns that speak) are kept
 *     per entity for annotations.speakers.
 */
#include "qt.h"

#include <stdlib.h>
#include <string.h>

#define QT_RECENT_SPEAKERS 8

static int32_t imax(int32_t a, int32_t b) { return a > b ? a : b; }

static QT_INLINE int name_tok(const qt_doc_t *d, int32_t i)
{
    return qt_namey(d, i) && !(d->tok[i].lex & LX_MOD);
}

/* ------------------------------------------------------------ entity map */

static void map_put(qt_doc_t *d, int32_t e);

/* (Re)build the map when it is more than a quarter full. */
static int map_ensure(qt_doc_t *d)
{
    if (d->n_emap > 0 && d->n_ent * 4 <= d->n_emap / 2)
        return 0;
    size_t need = 64;
    while (need < d->n_ent * 8)
        need *= 2;
    d->n_emap = 0;
    if (qt_vec_grow((void **)&d->emap, &d->cap_emap, need * 2, sizeof *d->emap) != 0)
        return -1;
    d->n_emap = need * 2;
    for (size_t i = 0; i < d->n_emap; i++)
        d->emap[i] = -1;
    for (size_t k = 0; k + 1 < d->n_ent; k++) {
        d->ent[k].next_last = d->ent[k].next_first = -1;
        map_put(d, (int32_t)k);
    }
    return 0;
}

static QT_INLINE int32_t *map_slot(qt_doc_t *d, uint64_t h, int first)
{
    size_t half = d->n_emap / 2, mask = half - 1;
    int32_t *base = d->emap + (first ? half : 0);
    size_t j = (size_t)(qt_hmix(h) >> 32) & mask;
    for (size_t probe = 0; probe < half; probe++) {
        int32_t e = base[j];
        if (e < 0)
            return &base[j];
        uint64_t eh = first ? d->ent[e].first_h : d->ent[e].last_h;
        if (eh == h)
            return &base[j];
        j = (j + 1) & mask;
    }
    return NULL;
}

static QT_INLINE int32_t map_get(qt_doc_t *d, uint64_t h, int first)
{
    if (h == 0 || d->n_emap == 0)
        return -1;
    int32_t *s = map_slot(d, h, first);
    return s != NULL ? *s : -1;
}

static void map_put(qt_doc_t *d, int32_t e)
{
    qt_ent_t *en = &d->ent[e];
    int32_t *s = map_slot(d, en->last_h, 0);
    if (s != NULL) {
        en->next_last = *s;
        *s = e;
    }
    if (en->first_h != 0) {
        s = map_slot(d, en->first_h, 1);
        if (s != NULL) {
            en->next_first = *s;
            *s = e;
        }
    }
}

/* ------------------------------------------------------------ runs */

static int32_t run_end(const qt_doc_t *d, int32_t a, int32_t n)
{
    int32_t b = a;
    for (;;) {
        if (name_tok(d, b + 1) && d->tok[b + 1].s <= d->tok[b].e + 1 && !(d->tok[b].flags & TF_POSS)) {
            b++;
            continue;
        }
        /* initial: "Donald J. Trump" */
        if (b + 2 < n && d->tok[b].ce - d->tok[b].s == 1 && tk_punct(d, b + 1, '.') &&
            name_tok(d, b + 2)) {
            b += 2;
            continue;
        }
        if (b + 2 < n && tk_is(d, b + 1, LX_PARTICLE) && !(d->tok[b + 1].flags & TF_CAP) &&
            name_tok(d, b + 2)) {
            b += 2;
            continue;
        }
        break;
    }
    return b;
}

static int run_words(const qt_doc_t *d, int32_t a, int32_t b)
{
    if (a == b) /* most runs */
        return d->tok[a].kind == TK_WORD;
    int w = 0;
    for (int32_t k = a; k <= b; k++)
        if (d->tok[k].kind == TK_WORD)
            w++;
    return w;
}

static void collect_runs(qt_doc_t *d)
{
    int32_t n = (int32_t)d->n_tok, next = 0;
    d->n_runs = 0;
    /* the candidates: the words that can be part of a name (TF_NAMEY,
     * listed by qt_sentences; every other capitalised word fails name_tok) */
    for (size_t ci = 0; ci < d->n_names; ci++) {
        int32_t i = d->names[ci];
        if (i < next)
            continue;
        const qt_tok_t *t = &d->tok[i];
        if (t->kind != TK_WORD || !(t->flags & (TF_CAP | TF_UPPER)) || !name_tok(d, i))
            continue;
        int32_t b = run_end(d, i, n);
        next = b + 1;
        if (b - i > 6) /* a title-case line, not a name */
            continue;
        if (QT_PUSH(d, runs, i) != 0 || QT_PUSH(d, runs, b) != 0)
            return;
    }
}

/* Title/role words right before a run, and the person/gender they imply. */
static void run_title(const qt_doc_t *d, int32_t a, int32_t b, qt_np_t *np)
{
    if (!qt_np_left(d, b, imax(0, a - QT_WIN_NP), np)) {
        memset(np, 0, sizeof *np);
        np->role_s = np->role_e = -1;
        np->s = -1;
        return;
    }
    if (np->kind != NP_NAME) {
        /* "a senior aide to Mayor Lena Ortiz": the phrase is the aide's;
         * only the titles right before the run are the person's */
        int32_t k = a;
        np->person = 0;
        np->gender = 0;
        while (k - 1 > np->s && (d->tok[k - 1].lex & LX_TITLE) && d->tok[k - 1].kind == TK_WORD) {
            k--;
            np->person |= (d->tok[k].lex & LX_PERSON) != 0;
            np->gender |= (uint8_t)(d->tok[k].extra & (LXX_MALE | LXX_FEMALE));
        }
        np->appos_s = np->appos_e = -1;
        np->role_s = k < a ? k : -1;
        np->role_e = k < a ? a - 1 : -1;
    }
}

/* Is there a word with LX_PERSON in tokens [from, to]?  run_title() can
 * mark a run as titled (np.person) only through such a word between its
 * look-back limit and the run's end: qt_np_finish() sets person from
 * LX_PERSON words of the phrase, run_title() from LX_TITLE words before the
 * run, and the run's last token, a name token, is never a pronoun.  So a
 * one-word run with none is skipped without reading its phrase.  The words
 * are d->pers (in order); *cur walks it, for calls with from never
 * decreasing. */
static int person_word_in(const qt_doc_t *d, size_t *cur, int32_t from, int32_t to)
{
    size_t c = *cur;
    while (c < d->n_pers && d->pers[c] < from)
        c++;
    *cur = c;
    return c < d->n_pers && d->pers[c] <= to;
}

static int32_t new_entity(qt_doc_t *d, int32_t a, int32_t b)
{
    qt_ent_t e;
    memset(&e, 0, sizeof e);
    e.name_s = a;
    e.name_e = b;
    e.role_s = e.role_e = -1;
    e.last_h = d->tok[b].h;
    int words = run_words(d, a, b);
    e.first_h = words >= 2 ? d->tok[a].h : 0;
    e.men_head = e.men_tail = -1;
    e.last_tok = -1;
    e.next_last = e.next_first = -1;
    e.ntok = (uint8_t)words;
    if (QT_PUSH(d, ent, e) != 0)
        return -1;
    int32_t id = (int32_t)d->n_ent - 1;
    if (map_ensure(d) != 0) {
        d->oom = 1;
        return -1;
    }
    map_put(d, id);
    return id;
}

/* Entity for a name run: same last name, and same first name when both
 * have one; the most recently mentioned wins, else the first one. */
static int32_t find_entity(qt_doc_t *d, int32_t a, int32_t b)
{
    uint64_t lh = d->tok[b].h;
    int multi = run_words(d, a, b) >= 2;
    uint64_t fh = multi ? d->tok[a].h : 0;
    int32_t best = -1, first = -1;
    int chain = 0;
    for (int32_t e = map_get(d, lh, 0); e >= 0 && chain < 64; e = d->ent[e].next_last, chain++) {
        const qt_ent_t *en = &d->ent[e];
        if (multi && en->first_h != 0 && en->first_h != fh)
            continue;
        if (first < 0 || e < first)
            first = e;
        if (en->last_tok >= 0 && (best < 0 || en->last_tok > d->ent[best].last_tok))
            best = e;
    }
    if (best >= 0)
        return best;
    if (first >= 0)
        return first;
    if (!multi) {
        /* a first name alone ("Hillary") */
        chain = 0;
        for (int32_t e = map_get(d, lh, 1); e >= 0 && chain < 64; e = d->ent[e].next_first, chain++) {
            if (d->ent[e].first_h == lh)
                return e;
        }
    }
    return -1;
}

static QT_INLINE void add_mention(qt_doc_t *d, int32_t e, uint32_t s, uint32_t en, int32_t tok)
{
    qt_mention_t m = {s, en, e, -1, tok};
    if (QT_PUSH(d, men, m) != 0)
        return;
    d->ent[e].nmen++;
    if (tok > d->ent[e].last_tok)
        d->ent[e].last_tok = tok;
}

static int role_rank(const qt_doc_t *d, int32_t rs, int32_t re)
{
    /* only the words after a possessor count ("Mr Trump's Paris trip" gives
     * Paris no role, "Mr Putin's spokesperson" is a spokesperson), and a
     * plural role ("US presidents Trump and Putin") is no one's */
    for (int32_t k = re + 1; k > rs; k--)
        if (d->tok[k - 1].flags & TF_POSS) {
            rs = k;
            break;
        }
    int rank = 0;
    for (int32_t k = rs; k <= re; k++) {
        if (tk_is(d, k, LX_PLURAL))
            continue;
        if (tk_is(d, k, LX_ROLE))
            return 2;
        if (tk_is(d, k, LX_TITLE))
            rank = 1;
    }
    return rank;
}

static void set_role(qt_doc_t *d, int32_t e, int32_t rs, int32_t re)
{
    if (e < 0 || rs < 0 || re < rs)
        return;
    qt_ent_t *en = &d->ent[e];
    /* a role needs a role noun or title in it; one with a role noun
     * ("Russian president") beats a bare honorific ("Mr"), then the longer */
    int rank = role_rank(d, rs, re);
    if (rank == 0)
        return;
    int cur = en->role_s < 0 ? 0 : role_rank(d, en->role_s, en->role_e);
    if (rank > cur || (rank == cur && (re - rs) > (en->role_e - en->role_s))) {
        en->role_s = rs;
        en->role_e = re;
    }
}

static void note_title(qt_doc_t *d, int32_t e, const qt_np_t *np)
{
    if (e < 0 || np->s < 0)
        return;
    qt_ent_t *en = &d->ent[e];
    if (np->person)
        en->person = 1;
    if (np->gender && !en->gender)
        en->gender = np->gender;
    if (np->role_s >= 0)
        set_role(d, e, np->role_s, np->role_e);
    if (np->appos_s >= 0) {
        int32_t rs = np->appos_s;
        while (rs < np->appos_e && tk_is(d, rs, LX_DET) && !(d->tok[rs].flags & TF_POSS))
            rs++;
        set_role(d, e, rs, np->appos_e);
    }
}

/* ------------------------------------------------------------ speakers */

typedef struct {
    int32_t ents[QT_RECENT_SPEAKERS];
    int32_t para[QT_RECENT_SPEAKERS];
    int n;
} recent_t;

static void recent_push(recent_t *r, int32_t e, int32_t para)
{
    if (e < 0)
        return;
    if (r->n > 0 && r->ents[0] == e) {
        r->para[0] = para;
        return;
    }
    int k = r->n < QT_RECENT_SPEAKERS ? r->n : QT_RECENT_SPEAKERS - 1;
    memmove(r->ents + 1, r->ents, (size_t)k * sizeof r->ents[0]);
    memmove(r->para + 1, r->para, (size_t)k * sizeof r->para[0]);
    r->ents[0] = e;
    r->para[0] = para;
    if (r->n < QT_RECENT_SPEAKERS)
        r->n++;
}

static int gender_ok(const qt_ent_t *en, uint8_t g)
{
    return g == 0 || en->gender == 0 || (en->gender & g);
}

static int in_role(const qt_doc_t *d, const qt_ent_t *en, uint64_t h)
{
    for (int32_t k = en->role_s; k <= en->role_e; k++)
        if ((d->tok[k].kind == TK_WORD || d->tok[k].kind == TK_NUM) && d->tok[k].h == h)
            return 1;
    return 0;
}

/* The entity's role holds the phrase's head, and every capitalised
 * modifier of the phrase ("the Russian president" is not "U.S. President"). */
static int role_match(const qt_doc_t *d, const qt_ent_t *en, const qt_np_t *np)
{
    if (en->role_s < 0 || !in_role(d, en, d->tok[np->head].h))
        return 0;
    /* a capitalised modifier of the phrase missing from the role vetoes the
     * match only when the role has capitalised modifiers of its own
     * ("the Russian president" is not "U.S. President", but may be "President") */
    int role_caps = 0;
    for (int32_t k = en->role_s; k <= en->role_e; k++) {
        const qt_tok_t *t = &d->tok[k];
        if ((t->kind == TK_WORD) && (t->flags & (TF_CAP | TF_UPPER)) && !(t->lex & (LX_TITLE | LX_ROLE | LX_DET)))
            role_caps = 1;
    }
    for (int32_t k = np->s; k < np->head; k++) {
        const qt_tok_t *t = &d->tok[k];
        if (t->kind == TK_WORD && (t->flags & TF_CAP) && !(t->lex & (LX_DET | LX_TITLE | LX_ROLE)) &&
            !in_role(d, en, t->h) && role_caps)
            return 0;
    }
    return 1;
}

typedef struct {
    recent_t spk;          /* recent speakers */
    int32_t subj[QT_RECENT_SPEAKERS]; /* recent sentence-subject entities */
    int32_t subj_tok[QT_RECENT_SPEAKERS];
    int nsubj;
    size_t run_i;          /* next run to consume */
} walk_t;

static void push_subj(walk_t *w, int32_t e, int32_t tok)
{
    if (e < 0)
        return;
    int k = w->nsubj < QT_RECENT_SPEAKERS ? w->nsubj : QT_RECENT_SPEAKERS - 1;
    memmove(w->subj + 1, w->subj, (size_t)k * sizeof w->subj[0]);
    memmove(w->subj_tok + 1, w->subj_tok, (size_t)k * sizeof w->subj_tok[0]);
    w->subj[0] = e;
    w->subj_tok[0] = tok;
    if (w->nsubj < QT_RECENT_SPEAKERS)
        w->nsubj++;
}

/* Is the run at a the subject of its sentence (roughly: first phrase)? */
static int run_is_subject(const qt_doc_t *d, int32_t a)
{
    int32_t ss = d->sstart[d->tok[a].sent];
    int32_t k = a - 1;
    int steps = 0;
    while (k >= ss && steps < 6) {
        const qt_tok_t *t = &d->tok[k];
        if (t->kind == TK_WORD && (t->lex & (LX_TITLE | LX_ROLE | LX_MOD | LX_DET)))
            k--;
        else if (t->kind == TK_WORD && (t->flags & TF_CAP) && !(t->lex & (LX_CONJ | LX_PREP)))
            k--;
        else if (t->kind == TK_PUNCT && t->cp == '.' && (t->flags & TF_ABBR))
            k--;
        else
            break;
        steps++;
    }
    if (k < ss)
        return 1;
    const qt_tok_t *t = &d->tok[k];
    return (t->kind == TK_WORD && (t->lex & LX_CONJ) && k == ss) ||
           (t->kind == TK_PUNCT && t->cp == ',' && k - ss < 12);
}

/* Consume name runs up to token limit: assign to entities, update recency. */
static void walk_runs(qt_doc_t *d, walk_t *w, int32_t limit)
{
    while (w->run_i + 1 < d->n_runs && d->runs[w->run_i] < limit) {
        int32_t a = d->runs[w->run_i], b = d->runs[w->run_i + 1];
        w->run_i += 2;
        int32_t e = find_entity(d, a, b);
        if (e < 0)
            continue;
        uint32_t s = d->tok[a].s, en = d->tok[b].ce;
        add_mention(d, e, s, en, a);
        if (run_is_subject(d, a))
            push_subj(w, e, a);
    }
}

static int32_t resolve_np(qt_doc_t *d, walk_t *w, const qt_np_t *np, uint32_t para, int create)
{
    if (np->s < 0)
        return -1;
    if (np->kind == NP_NAME && np->name_s >= 0) {
        int32_t e = find_entity(d, np->name_s, np->name_e);
        if (e < 0 && create) {
            e = new_entity(d, np->name_s, np->name_e);
            if (e >= 0) {
                add_mention(d, e, d->tok[np->name_s].s, d->tok[np->name_e].ce, np->name_s);
            }
        }
        if (e >= 0)
            note_title(d, e, np);
        return e;
    }
    if (np->kind == NP_PRON) {
        uint16_t x = d->tok[np->s].extra;
        if (x & (LXX_FIRST | LXX_PLURAL | LXX_NEUTER))
            return -1;
        uint8_t g = (uint8_t)(x & (LXX_MALE | LXX_FEMALE));
        /* most recent of: speakers (within a few paragraphs), sentence subjects */
        int32_t best = -1, best_tok = -1;
        for (int k = 0; k < w->spk.n; k++) {
            const qt_ent_t *en = &d->ent[w->spk.ents[k]];
            if (para - (uint32_t)w->spk.para[k] > 4)
                break;
            if (gender_ok(en, g)) {
                best = w->spk.ents[k];
                best_tok = en->last_tok;
                break;
            }
        }
        for (int k = 0; k < w->nsubj; k++) {
            const qt_ent_t *en = &d->ent[w->subj[k]];
            if (!gender_ok(en, g))
                continue;
            if (w->subj_tok[k] > best_tok && (en->person || en->ntok >= 2) &&
                d->tok[w->subj_tok[k]].para + 1 >= para) {
                best = w->subj[k];
            }
            break;
        }
        return best;
    }
    if (np->kind == NP_ROLE) {
        int32_t s = np->s;
        int indefinite = tk_is(d, s, LX_DET) && (qt_tok_eq(d, s, "a") || qt_tok_eq(d, s, "an") ||
                                                  qt_tok_eq(d, s, "one") || qt_tok_eq(d, s, "another"));
        if (indefinite || (d->tok[np->head].lex & LX_PLURAL))
            return -1;
        int32_t best = -1;
        size_t from = d->n_ent > 256 ? d->n_ent - 256 : 0;
        for (size_t e = from; e < d->n_ent; e++) {
            const qt_ent_t *en = &d->ent[e];
            if (role_match(d, en, np) && gender_ok(en, np->gender) &&
                (best < 0 || en->last_tok > d->ent[best].last_tok))
                best = (int32_t)e;
        }
        if (best >= 0)
            return best;
        if (d->tok[np->head].lex & (LX_PERSON | LX_TITLE | LX_ROLE)) {
            for (int k = 0; k < w->spk.n; k++) {
                const qt_ent_t *en = &d->ent[w->spk.ents[k]];
                if (gender_ok(en, np->gender) && en->ntok >= 1 &&
                    (en->role_s < 0 || !(d->tok[en->role_s].lex & LX_PLURAL))) {
                    /* "the Russian president" for the last speaker: the
                     * phrase is his role when he has only an honorific */
                    if (np->role_s >= 0 &&
                        (en->role_s < 0 || role_rank(d, en->role_s, en->role_e) < 2))
                        set_role(d, w->spk.ents[k], np->role_s, np->role_e);
                    return w->spk.ents[k];
                }
            }
        }
        return -1;
    }
    return -1;
}

static int cmp_men(const void *a, const void *b)
{
    const qt_mention_t *x = a, *y = b;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    return (x->e > y->e) - (x->e < y->e);
}

void qt_coref(qt_doc_t *d)
{
    collect_runs(d);
    size_t pcur = 0; /* person_word_in's place in d->pers (runs come in text order) */
    /* 1. entities from full names and titled names */
    for (size_t r = 0; r + 1 < d->n_runs; r += 2) {
        int32_t a = d->runs[r], b = d->runs[r + 1];
        int words = run_words(d, a, b);
        if (words < 2 && !person_word_in(d, &pcur, imax(0, a - QT_WIN_NP), b))
            continue; /* cannot be titled (see person_word_in) */
        qt_np_t np;
        run_title(d, a, b, &np);
        int titled = np.s >= 0 && np.s < a && np.person;
        if (words < 2 && !titled)
            continue;
        if (d->n_ent >= 65536)
            break;
        int32_t e = -1;
        if (d->n_emap > 0)
            e = find_entity(d, a, b);
        if (e >= 0 && (words < 2 || d->ent[e].first_h != 0)) {
            note_title(d, e, &np);
            continue;
        }
        if (e >= 0 && words >= 2 && d->ent[e].first_h == 0) {
            /* "Mr Putin" seen first, "Vladimir Putin" now: upgrade */
            d->ent[e].name_s = a;
            d->ent[e].name_e = b;
            d->ent[e].first_h = d->tok[a].h;
            d->ent[e].ntok = (uint8_t)words;
            note_title(d, e, &np);
            int32_t *s = map_slot(d, d->ent[e].first_h, 1);
            if (s != NULL) {
                d->ent[e].next_first = *s;
                *s = e;
            }
        } else {
            e = new_entity(d, a, b);
            if (e < 0)
                return;
            note_title(d, e, &np);
        }
    }
    if (map_ensure(d) != 0)
        return;
    /* 2/3. walk runs and speakers in text order */
    d->n_keys = 0;
    for (size_t i = 0; i < d->n_q; i++) {
        const qt_quote_t *q = &d->q[i];
        if (q->sp.s < 0 || q->src >= 0 || (q->flags & QF_DROP))
            continue;
        if (QT_PUSH(d, keys, ((uint64_t)(uint32_t)q->sp.s << 32) | i) != 0)
            return;
    }
    if (d->n_keys > 1)
        qt_sort_u64(d->keys, d->n_keys);
    walk_t w;
    memset(&w, 0, sizeof w);
    for (size_t k = 0; k < d->n_keys; k++) {
        qt_quote_t *q = &d->q[d->keys[k] & 0xffffffffu];
        walk_runs(d, &w, q->sp.s);
        /* the speaker phrase's own name run */
        int32_t e = resolve_np(d, &w, &q->sp, q->para, 1);
        q->ent = e;
        if (e >= 0) {
            d->ent[e].is_speaker = 1;
            if (q->sp.kind == NP_PRON || q->sp.kind == NP_ROLE) {
                add_mention(d, e, d->tok[q->sp.s].s, d->tok[q->sp.e].ce, q->sp.s);
            }
            if (q->sp.kind == NP_PRON)
                d->ent[e].person = 1;
            recent_push(&w.spk, e, (int32_t)q->para);
        }
    }
    walk_runs(d, &w, INT32_MAX);
    /* inherited speakers: follow the source (sources come first in text
     * order, except "A." "B," he said; two rounds settle both) */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < d->n_q; i++) {
            qt_quote_t *q = &d->q[i];
            if (q->src >= 0 && (size_t)q->src < d->n_q)
                q->ent = d->q[q->src].ent;
        }
    }
    /* mentions sorted by offset; drop exact duplicates */
    if (d->n_men > 1)
        qt_sort(d->men, d->n_men, sizeof *d->men, cmp_men);
    size_t o = 0;
    for (size_t i = 0; i < d->n_men; i++) {
        if (o > 0 && d->men[o - 1].s == d->men[i].s && d->men[o - 1].e == d->men[i].e &&
            d->men[o - 1].ent == d->men[i].ent)
            continue;
        d->men[o++] = d->men[i];
    }
    d->n_men = o;
    for (size_t e = 0; e < d->n_ent; e++) {
        d->ent[e].men_head = d->ent[e].men_tail = -1;
        d->ent[e].nmen = 0;
    }
    for (size_t i = 0; i < d->n_men; i++) {
        qt_mention_t *m = &d->men[i];
        qt_ent_t *en = &d->ent[m->ent];
        m->next = -1;
        if (en->men_tail >= 0)
            d->men[en->men_tail].next = (int32_t)i;
        else
            en->men_head = (int32_t)i;
        en->men_tail = (int32_t)i;
        en->nmen++;
    }
    for (size_t i = 0; i < d->n_q; i++) {
        const qt_quote_t *q = &d->q[i];
        if (q->ent >= 0 && !(q->flags & QF_DROP))
            d->ent[q->ent].nquotes++;
    }
}
