/*
 * qt_attr.c - finds the cue and the speaker of every quotation, carries
 * speakers to quotations that have none, and drops scare quotes.
 *
 * Rules for one quotation, tried in order:
 *   after   "...," Trump said / "...," said Trump / "...," Dmitry Peskov,
 *           the Kremlin spokesman, said / "...," according to X
 *   before  Trump told reporters: "..." / He added, however, that "..." /
 *           Putin described the talks as "very, very good" (a fragment:
 *           words of the reported clause stand between cue and quote)
 *   according to X anywhere in the quotation's sentence
 * Then, per paragraph (qt_propagate): a quotation with no cue takes the
 * speaker of an earlier (or else a later) quotation of its paragraph; a
 * quotation opening a paragraph takes the last speaker of the previous
 * paragraph (continued quotes; "X told reporters:" ending a paragraph).
 * Finally, a quotation still without a speaker is kept only when it is long
 * enough to be speech (scare quotes, titles and nicknames are dropped).
 */
#include "qt.h"

#include <stdlib.h>
#include <string.h>

static int32_t imin(int32_t a, int32_t b) { return a < b ? a : b; }
static int32_t imax(int32_t a, int32_t b) { return a > b ? a : b; }

/* A cue token that really is a reporting verb here. */
static int cue_here(const qt_doc_t *d, int32_t k)
{
    return qt_cue_verb(d, k, LX_SPEECH | LX_BELIEF | LX_FRAG);
}

static void assign(qt_doc_t *d, qt_quote_t *q, int32_t cue, int32_t cue_e, const qt_np_t *np, int how)
{
    q->cue = cue;
    q->cue_e = cue_e >= 0 ? cue_e : cue;
    q->sp = *np;
    q->how = (uint8_t)how;
    if (cue >= 0)
        d->tok[cue].flags |= TF_USED;
}

static int skip_adv(const qt_doc_t *d, int32_t k, int32_t lim)
{
    for (int s = 0; s < 4 && k <= lim; s++) {
        const qt_tok_t *t = &d->tok[k];
        if (t->kind == TK_WORD && !(t->flags & TF_INQ) &&
            (((t->lex & (LX_ADV | LX_AUX | LX_NEG)) && !(t->lex & (LX_PRON | LX_DET))) ||
             qt_tok_ly(d, t)))
            k++;
        else
            break;
    }
    return k;
}

/* Does the clause starting at k end (stop, paragraph, end) within max tokens? */
static int ends_soon(const qt_doc_t *d, int32_t k, int max)
{
    for (int s = 0; s < max; s++, k++) {
        if ((size_t)k >= d->n_tok)
            return 1;
        const qt_tok_t *t = &d->tok[k];
        if (t->kind == TK_PARA || tk_stop(d, k) || (t->kind == TK_QMARK && (t->qm & QM_LEFT)))
            return 1;
        if (t->kind == TK_PUNCT && (t->cp == ',' || t->cp == ';'))
            return 1;
    }
    return 0;
}

static int source_after(const qt_doc_t *d, int32_t k, int32_t *end)
{
    return qt_find_phrase(d, k, LXX_SOURCE_AFTER, end) >= 0 && !(d->tok[k].flags & TF_INQ);
}

/* After an inverted cue: "says a narrator." - a determiner and plain
 * nouns up to the end of the clause. */
static int np_inverted_plain(const qt_doc_t *d, int32_t k, int32_t lim, qt_np_t *np)
{
    if (!tk_is(d, k, LX_DET) || tk_is(d, k, LX_PRON))
        return 0;
    int32_t m = k + 1;
    while (m <= lim && m - k <= 4 && d->tok[m].kind == TK_WORD && !(d->tok[m].flags & TF_INQ) &&
           !(d->tok[m].lex & (LX_DET | LX_PREP | LX_CONJ | LX_AUX | LX_PRON | LX_WH | LX_THAT |
                              LX_CUE | LX_NEG)))
        m++;
    if (m == k + 1 || m > lim + 1)
        return 0;
    if (m <= lim && !(d->tok[m].kind == TK_PUNCT || d->tok[m].kind == TK_PARA ||
                      tk_is(d, m, LX_WH | LX_PREP)))
        return 0;
    memset(np, 0, sizeof *np);
    np->s = k;
    np->e = m - 1;
    np->appos_s = np->appos_e = -1;
    qt_np_finish(d, np);
    np->kind = NP_ROLE;
    return 1;
}

static int attr_after(qt_doc_t *d, qt_quote_t *q)
{
    if (q->close < 0)
        return 0;
    int32_t n = (int32_t)d->n_tok, j = q->close + 1;
    int skipped = 0;
    while (j < n && skipped < 2 && (tk_punct(d, j, ',') || tk_dash(d, j))) {
        j++;
        skipped++;
    }
    if (j >= n || d->tok[j].kind != TK_WORD || (d->tok[j].flags & TF_INQ))
        return 0;
    int32_t lim = imin(n - 1, j + QT_WIN_AFTER);
    qt_np_t np;
    int32_t cue = -1, cue_e = -1, pe;
    if (cue_here(d, j) && !tk_is(d, j, LX_ING) && (d->tok[j].lex & (LX_SPEECH | LX_INVERT))) {
        int32_t k = skip_adv(d, j + 1, lim);
        if (qt_np_right(d, k, lim, &np) || np_inverted_plain(d, k, lim, &np)) {
            cue = j;
            if (tk_punct(d, np.e + 1, ',') && np.kind != NP_PRON)
                qt_np_appos(d, &np, np.e + 2, lim);
        }
    } else if (source_after(d, j, &pe)) {
        if (qt_np_right(d, pe + 1, lim, &np)) {
            cue = j;
            cue_e = pe;
        }
    } else if (qt_np_right(d, j, lim, &np)) {
        int32_t k = np.e + 1;
        if (tk_punct(d, k, ',') && np.kind != NP_PRON) {
            /* an appositive (up to five comma-separated parts, quotes
             * inside allowed) before the cue */
            int32_t m = k + 1, parts = 0, first_end = -1;
            while (m <= lim && m - k < QT_WIN_APPOS && parts < 5) {
                const qt_tok_t *u = &d->tok[m];
                if (u->q >= 0) {
                    const qt_quote_t *iq = &d->q[u->q];
                    if (iq->close < 0)
                        break;
                    m = iq->close + 1;
                    continue;
                }
                if (tk_stop(d, m) || u->kind == TK_PARA)
                    break;
                if (tk_punct(d, m, ',')) {
                    if (first_end < 0)
                        first_end = m - 1;
                    parts++;
                    if (cue_here(d, skip_adv(d, m + 1, lim)))
                        break;
                }
                m++;
            }
            if (tk_punct(d, m, ',') && cue_here(d, skip_adv(d, m + 1, lim))) {
                qt_np_appos(d, &np, k + 1, first_end >= 0 ? first_end : m - 1);
                k = m + 1;
            }
        }
        k = skip_adv(d, k, lim);
        if (cue_here(d, k) && !tk_is(d, k, LX_ING)) {
            cue = k;
            int32_t e2;
            if (qt_find_phrase(d, k, LXX_CUE_PHRASE, &e2) >= 0)
                cue_e = e2;
        }
    }
    if (cue < 0 && (q->flags & QF_ENDS_COMMA)) {
        /* a longer speaker phrase: '"...," a narrator in the Clinton ad asks',
         * '"...," panel Chairman Rep. Jason Chaffetz (R-Utah) said' */
        int32_t m = j;
        int paren = 0;
        while (m <= lim && m - j < 12) {
            const qt_tok_t *u = &d->tok[m];
            if (u->kind == TK_PUNCT && u->cp == '(') {
                paren++;
                m++;
                continue;
            }
            if (u->kind == TK_PUNCT && u->cp == ')' && paren > 0) {
                paren--;
                m++;
                continue;
            }
            if (paren > 0 && u->kind != TK_PARA && !(u->flags & TF_INQ)) {
                m++;
                continue;
            }
            if (u->kind == TK_PUNCT && u->cp == '.' && (u->flags & TF_ABBR)) {
                m++;
                continue;
            }
            if (u->kind == TK_NUM) {
                m++;
                continue;
            }
            if (u->kind != TK_WORD || (u->flags & TF_INQ) ||
                (u->lex & (LX_AUX | LX_THAT | LX_WH | LX_CONJ | LX_NEG)))
                break;
            if (m > j && cue_here(d, m) && !tk_is(d, m, LX_ING)) {
                cue = m;
                break;
            }
            /* a verb form as a modifier before a title ("state Sen. Holm")
             * is not a cue */
            if ((u->lex & LX_CUE) && !tk_is(d, m + 1, LX_TITLE | LX_ROLE))
                break;
            m++;
        }
        if (cue >= 0) {
            int32_t e = cue - 1;
            while (e > j && (tk_punct(d, e, ')') || qt_tok_ly(d, &d->tok[e]) ||
                             tk_is(d, e, LX_ADV))) {
                if (tk_punct(d, e, ')')) {
                    while (e > j && !tk_punct(d, e, '('))
                        e--;
                }
                e--;
            }
            memset(&np, 0, sizeof np);
            np.s = j;
            np.e = e;
            np.appos_s = np.appos_e = -1;
            qt_np_finish(d, &np);
            if (np.kind == NP_NONE || e < j)
                cue = -1;
        }
    }
    if (cue < 0)
        return 0;
    if (!(q->flags & QF_ENDS_COMMA)) {
        /* "... probably not." Trump said.  Only when the cue clause ends at once. */
        int32_t after = (cue_e >= 0 ? cue_e : cue) + 1;
        if (np.e >= after)
            after = np.e + 1;
        if (!ends_soon(d, after, 6))
            return 0;
    }
    assign(d, q, cue, cue_e, &np, HOW_AFTER);
    return 1;
}

/* Skip what may stand between a cue and its content: a listener object,
 * adverbs, time words, prepositional phrases, commas.  Returns the first
 * token of the content (or of "that"). */
static int32_t skip_to_content(const qt_doc_t *d, int32_t c, int32_t lim)
{
    int32_t p = c + 1;
    int32_t pe;
    if (qt_find_phrase(d, c, LXX_CUE_PHRASE, &pe) >= 0)
        p = pe + 1;
    if (p > lim)
        return p;
    if (tk_is(d, c, LX_OBJECT)) {
        qt_np_t np;
        if (qt_np_right(d, p, lim, &np))
            p = np.e + 1;
        else if (tk_is(d, p, LX_PRON))
            p++;
        else if (p <= lim && d->tok[p].kind == TK_WORD && !(d->tok[p].lex & (LX_THAT | LX_PREP)) &&
                 !(d->tok[p].flags & TF_INQ) && qt_tok_eq(d, p, "reporters"))
            p++;
    }
    for (int guard = 0; guard < 12 && p <= lim; guard++) {
        const qt_tok_t *t = &d->tok[p];
        if (t->flags & TF_INQ)
            break;
        if (t->kind == TK_PUNCT && (t->cp == ',' || t->cp == 0x2014 || t->cp == 0x2013)) {
            p++;
            continue;
        }
        if (t->kind == TK_NUM) {
            p++;
            continue;
        }
        if (t->kind != TK_WORD)
            break;
        if (t->lex & LX_THAT)
            break;
        if ((t->lex & (LX_TIME)) || ((t->lex & LX_ADV) && !(t->lex & (LX_PRON | LX_DET))) ||
            qt_tok_ly(d, t)) {
            p++;
            continue;
        }
        if ((t->lex & LX_PREP) && !(t->lex & LX_CONJ)) {
            /* a prepositional phrase: prep [det] words... */
            int32_t m = p + 1;
            if (tk_is(d, m, LX_DET))
                m++;
            int words = 0;
            while (m <= lim && words < 6) {
                const qt_tok_t *u = &d->tok[m];
                if (u->flags & TF_INQ)
                    break;
                if (u->kind == TK_NUM || (u->kind == TK_WORD && ((u->flags & TF_CAP) ||
                                                                (u->lex & LX_TIME) ||
                                                                (!(u->lex & (LX_THAT | LX_PREP | LX_DET | LX_PRON | LX_CONJ | LX_AUX | LX_WH | LX_CUE)) &&
                                                                 !(u->flags & TF_POSS)))) ||
                    (u->kind == TK_PUNCT && u->cp == '.' && (u->flags & TF_ABBR))) {
                    m++;
                    words++;
                    continue;
                }
                if (u->kind == TK_WORD && (u->lex & LX_PREP) && words > 0 && !(u->lex & LX_THAT)) {
                    /* "in an interview with Fox News" */
                    m++;
                    if (tk_is(d, m, LX_DET))
                        m++;
                    continue;
                }
                break;
            }
            if (words == 0)
                break;
            p = m;
            continue;
        }
        break;
    }
    return p;
}

/* "Philip Bump: “...”", "Cecile Richards: ‘...’", "From the report: “...”" */
static int attr_colon_name(qt_doc_t *d, qt_quote_t *q)
{
    int32_t o = q->open;
    if (!tk_punct(d, o - 1, ':'))
        return 0;
    int32_t ss = d->sstart[d->tok[o].sent];
    qt_np_t np;
    if (!qt_np_left(d, o - 2, imax(ss, o - 2 - QT_WIN_NP), &np) || np.kind == NP_PRON)
        return 0;
    int32_t b = np.s - 1;
    int edge = np.s <= ss || d->tok[b].kind == TK_PARA || tk_dash(d, b) || tk_punct(d, b, ',') ||
               tk_punct(d, b, ')') || qt_tok_eq(d, b, "from") || tk_punct(d, b, '.') ||
               (d->tok[np.s].flags & TF_PSTART);
    if (!edge)
        return 0;
    assign(d, q, -1, -1, &np, HOW_BEFORE);
    q->flags |= QF_COLON_INTRO;
    return 1;
}

static int attr_before(qt_doc_t *d, qt_quote_t *q)
{
    int32_t o = q->open;
    int32_t ss = d->sstart[d->tok[o].sent];
    int32_t lim = imax(ss, o - QT_WIN_BEFORE);
    if (attr_colon_name(d, q))
        return 1;
    int32_t c = -1;
    for (int32_t k = o - 1; k >= lim; k--) {
        const qt_tok_t *t = &d->tok[k];
        if (t->q >= 0) {
            k = d->q[t->q].open;
            continue;
        }
        if (t->kind == TK_PARA)
            break;
        if (cue_here(d, k)) {
            c = k;
            break;
        }
    }
    if (c < 0)
        return 0;
    int32_t p = skip_to_content(d, c, o);
    int that = 0;
    if (p < o && (tk_is(d, p, LX_THAT) || tk_punct(d, p, ':'))) {
        that = tk_is(d, p, LX_THAT);
        if (tk_punct(d, p, ':'))
            q->flags |= QF_COLON_INTRO;
        p++;
    }
    while (p < o && (tk_punct(d, p, ',') || tk_dash(d, p)))
        p++;
    int how = HOW_BEFORE;
    if (p < o) {
        how = HOW_FRAG;
        q->flags |= QF_FRAG;
        if (o - c > 30)
            return 0;
    } else if (that) {
        q->flags |= QF_FRAG;
    }
    qt_np_t np;
    /* "Said Comey, “...”": an inverted cue opening its sentence, its
     * subject right after it and a comma or colon before the quote */
    if ((d->tok[c].flags & TF_SSTART) && (d->tok[c].lex & LX_INVERT) && o - c <= QT_WIN_NP + 2 &&
        (tk_punct(d, o - 1, ',') || tk_punct(d, o - 1, ':')) && qt_np_right(d, c + 1, o - 2, &np) &&
        np.e == o - 2 && np.kind != NP_PRON) {
        q->flags &= ~(uint32_t)QF_FRAG;
        assign(d, q, c, c, &np, HOW_BEFORE);
        return 1;
    }
    if (!qt_np_subject_of(d, c, &np))
        return 0;
    int32_t ce;
    if (qt_find_phrase(d, c, LXX_CUE_PHRASE, &ce) < 0)
        ce = c;
    assign(d, q, c, ce, &np, how);
    return 1;
}

static int attr_according(qt_doc_t *d, qt_quote_t *q)
{
    uint32_t sent = d->tok[q->open].sent;
    int32_t a = imax(d->sstart[sent], q->open - QT_WIN_BEFORE);
    int32_t end = q->close >= 0 ? q->close : q->ce - 1;
    int32_t b = imin((int32_t)d->n_tok - 1, end + QT_WIN_AFTER);
    /* the tokens [a, b] of the quotation's sentence (contiguous, from a on,
     * up to a paragraph break, which can only be its last token), outside
     * quotations, where "according to" starts: such a phrase start is in
     * d->cues (qt_tokenize lists every token with LX_PHRASE there, in
     * order), so only those are looked at */
    int32_t last = (size_t)sent + 1 < d->n_sstart ? d->sstart[sent + 1] - 1 : (int32_t)d->n_tok - 1;
    if (d->tok[last].kind == TK_PARA)
        last--;
    const int32_t kb = imin(b, last); /* (b stays the phrase's limit) */
    size_t lo = 0, hi = d->n_cues; /* the first cue at or after a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->cues[mid] < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t ci = lo; ci < d->n_cues && d->cues[ci] <= kb; ci++) {
        const int32_t k = d->cues[ci];
        const qt_tok_t *t = &d->tok[k];
        if (t->q >= 0)
            continue;
        int32_t pe;
        if (source_after(d, k, &pe)) {
            qt_np_t np;
            if (qt_np_right(d, pe + 1, b, &np)) {
                assign(d, q, k, pe, &np, HOW_ACCORDING);
                return 1;
            }
        }
    }
    return 0;
}

void qt_attribute(qt_doc_t *d)
{
    for (size_t i = 0; i < d->nquotes_marked; i++) {
        qt_quote_t *q = &d->q[i];
        q->type = QT_DIRECT;
        /* a whole sentence introduced by "X boasted," or "X said:" keeps that
         * cue even when a new sentence after it has a verb of saying */
        if ((q->flags & QF_ENDS_STOP) && q->open > 0 &&
            (tk_punct(d, q->open - 1, ',') || tk_punct(d, q->open - 1, ':'))) {
            qt_quote_t saved = *q;
            if (attr_before(d, q)) {
                if (q->flags & QF_FRAG)
                    q->type = QT_MIXED;
                continue;
            }
            *q = saved; /* attr_before assigns nothing when it fails */
        }
        if (attr_after(d, q) || attr_before(d, q) || attr_according(d, q)) {
            if (q->flags & QF_FRAG)
                q->type = QT_MIXED;
            continue;
        }
    }
}

/* ------------------------------------------------------------ propagation */

static int has_speaker(const qt_quote_t *q) { return q->sp.s >= 0; }

static void inherit(qt_quote_t *q, const qt_quote_t *src, int32_t srcidx, int how)
{
    q->sp = src->sp;
    q->cue = src->cue;
    q->cue_e = src->cue_e;
    q->how = (uint8_t)how;
    q->flags |= QF_INHERIT;
    q->ent = src->ent;
    q->src = srcidx;
}

/* A paragraph ending in "X told reporters:" hands X to the next one. */
static int colon_speaker(qt_doc_t *d, uint32_t para, qt_quote_t *out)
{
    if (para >= d->n_pstart)
        return 0;
    int32_t a = d->pstart[para];
    int32_t b = para + 1 < d->n_pstart ? d->pstart[para + 1] - 1 : (int32_t)d->n_tok;
    int32_t last = b - 1;
    while (last >= a && d->tok[last].kind == TK_PARA)
        last--;
    if (last < a || !tk_punct(d, last, ':'))
        return 0;
    for (int32_t k = last - 1; k >= a && last - k < QT_WIN_BEFORE; k--) {
        if (d->tok[k].q >= 0 || tk_stop(d, k))
            break;
        if (cue_here(d, k)) {
            qt_np_t np;
            if (qt_np_subject_of(d, k, &np) ||
                ((d->tok[k].lex & LX_INVERT) && qt_np_right(d, k + 1, last - 1, &np) &&
                 np.e == last - 1)) {
                memset(out, 0, sizeof *out);
                out->sp = np;
                out->cue = out->cue_e = k;
                out->ent = -1;
                return 1;
            }
            break;
        }
    }
    /* no reporting verb: the subject of the sentence ("Trump ... boomed:") */
    int32_t ss = d->sstart[d->tok[last].sent];
    qt_np_t np;
    if (ss >= a && qt_np_sentence_subject(d, ss, last - 1, &np) &&
        (np.kind == NP_NAME || np.kind == NP_PRON || (np.kind == NP_ROLE && np.s < np.head))) {
        memset(out, 0, sizeof *out);
        out->sp = np;
        out->cue = out->cue_e = -1;
        out->ent = -1;
        return 1;
    }
    return 0;
}

/* The speaker of the last reporting verb in a paragraph's last sentence
 * ("Trump spoke only in evasive bromides."), for the quotes that follow. */
static int para_speech(qt_doc_t *d, uint32_t para, qt_quote_t *out)
{
    if (para >= d->n_pstart)
        return 0;
    int32_t a = d->pstart[para];
    int32_t b = para + 1 < d->n_pstart ? d->pstart[para + 1] - 1 : (int32_t)d->n_tok;
    int32_t last = b - 1;
    while (last >= a && d->tok[last].kind == TK_PARA)
        last--;
    if (last < a)
        return 0;
    uint32_t sent = d->tok[last].sent;
    for (int32_t k = last; k >= a && last - k < QT_WIN_CLAUSE && d->tok[k].sent == sent; k--) {
        if (d->tok[k].q >= 0)
            continue;
        if (cue_here(d, k) && (d->tok[k].lex & LX_SPEECH)) {
            qt_np_t np;
            if (qt_np_subject_of(d, k, &np)) {
                memset(out, 0, sizeof *out);
                out->sp = np;
                out->cue = out->cue_e = k;
                out->ent = -1;
                return 1;
            }
        }
    }
    return 0;
}

void qt_propagate(qt_doc_t *d)
{
    size_t nq = d->n_q;
    /* quotations in text order: sort (start << 32 | index) keys */
    d->n_keys = 0;
    d->n_tmp = 0;
    for (size_t i = 0; i < nq; i++)
        if (QT_PUSH(d, keys, ((uint64_t)d->q[i].s << 32) | (uint64_t)i) != 0)
            return;
    if (d->n_keys > 1)
        qt_sort_u64(d->keys, d->n_keys);
    for (size_t i = 0; i < d->n_keys; i++)
        if (QT_PUSH(d, tmp, (int32_t)(d->keys[i] & 0xffffffffu)) != 0)
            return;
    const int32_t *ord = d->tmp;
    int32_t prev_last = -1;      /* last attributed item of the previous paragraph */
    uint32_t prev_para = UINT32_MAX;
    size_t i = 0;
    while (i < d->n_tmp) {
        uint32_t para = d->q[ord[i]].para;
        size_t j = i;
        while (j < d->n_tmp && d->q[ord[j]].para == para)
            j++;
        /* (a) a quote opening the paragraph continues the previous speaker */
        qt_quote_t *first = &d->q[ord[i]];
        if (d->cfg->continuation && !has_speaker(first) && !(first->flags & QF_CLAUSE) &&
            (first->flags & QF_PARA_START) && para > 0) {
            qt_quote_t tmpq;
            if (colon_speaker(d, para - 1, &tmpq)) {
                inherit(first, &tmpq, -1, HOW_PREV_PARA);
                first->flags |= QF_COLON_INTRO;
            } else if (prev_para == para - 1 && prev_last >= 0) {
                inherit(first, &d->q[prev_last], prev_last, HOW_PREV_PARA);
            } else if (para_speech(d, para - 1, &tmpq)) {
                inherit(first, &tmpq, -1, HOW_PREV_PARA);
            }
        }
        /* (b) earlier quote of the same paragraph */
        int32_t last = -1;
        for (size_t k = i; k < j; k++) {
            qt_quote_t *q = &d->q[ord[k]];
            if (has_speaker(q)) {
                last = ord[k];
                continue;
            }
            if (last >= 0 && !(q->flags & QF_CLAUSE))
                inherit(q, &d->q[last], last, HOW_SAME_PARA);
            if (has_speaker(q))
                last = ord[k];
        }
        /* (c) later quote of the same paragraph: "A." "B," he said. */
        int32_t next = -1;
        for (size_t k = j; k-- > i;) {
            qt_quote_t *q = &d->q[ord[k]];
            if (has_speaker(q) && !(q->flags & QF_CLAUSE) && q->how != HOW_FRAG) {
                next = ord[k];
                continue;
            }
            if (!has_speaker(q) && next >= 0 && !(q->flags & QF_CLAUSE))
                inherit(q, &d->q[next], next, HOW_SAME_PARA);
        }
        /* the paragraph's last speaker, for the next paragraph */
        int32_t lastsp = -1;
        for (size_t k = i; k < j; k++)
            if (has_speaker(&d->q[ord[k]]) && !(d->q[ord[k]].flags & QF_DROP))
                lastsp = ord[k];
        prev_last = lastsp;
        prev_para = para;
        i = j;
    }
    /* scare quotes, titles, nicknames */
    for (size_t k = 0; k < d->nquotes_marked; k++) {
        qt_quote_t *q = &d->q[k];
        if (has_speaker(q)) {
            if ((q->flags & QF_TITLELIKE) && q->how == HOW_FRAG && q->nwords <= 6)
                q->flags |= QF_DROP;
            continue;
        }
        if (q->nwords < d->cfg->min_words_unattributed || (q->flags & QF_TITLELIKE))
            q->flags |= QF_DROP;
        else if ((q->flags & QF_SINGLE) && q->nwords < 8)
            q->flags |= QF_DROP;
    }
}
