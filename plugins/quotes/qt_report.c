/*
 * qt_report.c - reported speech: the content clause of a reporting verb
 * that is not (only) a quotation.
 *
 *   forward    Trump said on November 5 that he will "probably not" have ...
 *              Babcock said Trump is his third choice.
 *   backward   The bigger risk is a clash, he said.  / ..., said Trump.
 *   middle     The bigger risk, he said, is a clash ...  (two parts)
 *   according  According to Ushakov, the two will meet. / ..., according to X.
 *
 * A clause runs to the end of its sentence, and stops earlier at a
 * semicolon, at ", adding/saying", at ", according to", and at a
 * coordinated clause with a reporting verb of its own ("..., and Peskov
 * said ...").  A clause that is (mostly) one quotation is not reported again:
 * the quotation stands for it.  A clause holding a shorter quoted fragment
 * is reported as "mixed" beside the fragment.
 */
#include "qt.h"

#include <string.h>

static int32_t imin(int32_t a, int32_t b) { return a < b ? a : b; }
static int32_t imax(int32_t a, int32_t b) { return a > b ? a : b; }

static QT_INLINE int cue_ok(const qt_doc_t *d, int32_t k)
{
    return qt_cue_verb(d, k, LX_SPEECH | (d->cfg->belief ? LX_BELIEF : 0u));
}

static int32_t sent_end(const qt_doc_t *d, int32_t from)
{
    /* A sentence's tokens are contiguous, from its d->sstart to the next
     * one's, and a TK_PARA token can only be its last (qt_sentences starts
     * a sentence after each); the result is the last token before that
     * TK_PARA or the next sentence, at most QT_WIN_CLAUSE tokens on. */
    uint32_t s = d->tok[from].sent;
    int32_t last = (size_t)s + 1 < d->n_sstart ? d->sstart[s + 1] - 1 : (int32_t)d->n_tok - 1;
    if (last > from && d->tok[last].kind == TK_PARA)
        last--;
    if (last - from > QT_WIN_CLAUSE)
        last = from + QT_WIN_CLAUSE;
    return last >= from ? last : from; /* inclusive */
}

/* Does a reporting verb with its own subject start within a few tokens? */
static int clause_with_cue(const qt_doc_t *d, int32_t k, int32_t lim)
{
    for (int32_t m = k; m <= lim && m - k < 7; m++) {
        const qt_tok_t *t = &d->tok[m];
        if (t->kind != TK_WORD || (t->flags & TF_INQ))
            return 0;
        if (cue_ok(d, m) && !(t->lex & LX_ING)) {
            qt_np_t np;
            return m > k && qt_np_left(d, m - 1, k, &np) && np.s == k;
        }
    }
    return 0;
}

static int32_t clause_stop(const qt_doc_t *d, int32_t p, int32_t end)
{
    for (int32_t m = p; m <= end; m++) {
        const qt_tok_t *t = &d->tok[m];
        if (t->q >= 0) {
            const qt_quote_t *q = &d->q[t->q];
            int32_t qe = q->close >= 0 ? q->close : q->ce - 1;
            if (qe > m)
                m = qe;
            continue;
        }
        if (t->kind == TK_PARA)
            return m;
        if (t->kind == TK_PUNCT && t->cp == ';')
            return m;
        if (t->kind == TK_PUNCT && (t->cp == ',' || t->cp == 0x2014 || t->cp == 0x2013)) {
            int32_t nx = m + 1;
            int32_t pe;
            if (nx > end)
                return m;
            if (tk_is(d, nx, LX_CUE) && tk_is(d, nx, LX_ING))
                return m;
            if (qt_find_phrase(d, nx, LXX_SOURCE_AFTER, &pe) >= 0)
                return m;
            if (tk_is(d, nx, LX_CONJ) && clause_with_cue(d, nx + 1, end))
                return m;
            if (clause_with_cue(d, nx, end))
                return m;
            /* ", said Trump" */
            if (cue_ok(d, nx) && (d->tok[nx].lex & LX_INVERT))
                return m;
        }
        if (t->kind == TK_WORD && (t->lex & LX_CONJ) && m > p &&
            (clause_with_cue(d, m + 1, end) || tk_is(d, m + 1, LX_CUE) ||
             (tk_is(d, m + 1, LX_ADV) && tk_is(d, m + 2, LX_CUE))))
            return m; /* "... and said", "..., but cautioned" */
        if (t->kind == TK_WORD && (t->lex & LX_CONJ) && m > p && tk_punct(d, m - 1, ',') &&
            m + 1 <= end && d->tok[m + 1].kind == TK_WORD && !(d->tok[m + 1].flags & TF_CAP) &&
            d->tok[m + 1].ce - d->tok[m + 1].s > 3 && d->t[d->tok[m + 1].ce - 1] == 'd' &&
            d->t[d->tok[m + 1].ce - 2] == 'e')
            return m - 1; /* ", but cautioned": a second verb of the subject */
    }
    return end + 1;
}

static int overlaps_clause(const qt_doc_t *d, uint32_t s, uint32_t e)
{
    /* clauses are made in text order: an overlapping one is among the last
     * few (bounded, so that a document of thousands of clauses stays linear) */
    size_t from = d->n_q > d->nquotes_marked + 16 ? d->n_q - 16 : d->nquotes_marked;
    for (size_t i = from; i < d->n_q; i++) {
        const qt_quote_t *q = &d->q[i];
        uint32_t a = q->s > s ? q->s : s, b = q->e < e ? q->e : e;
        if (b > a && (b - a) * 2 > (e - s < q->e - q->s ? e - s : q->e - q->s))
            return 1;
    }
    return 0;
}

static void emit_clause(qt_doc_t *d, int32_t a, int32_t b, int32_t cue, int32_t cue_e,
                        const qt_np_t *np)
{
    /* b exclusive; trim punctuation and quote marks that are not paired */
    while (b > a && (d->tok[b - 1].kind == TK_PUNCT || d->tok[b - 1].kind == TK_PARA) &&
           d->tok[b - 1].q < 0)
        b--;
    while (a < b && d->tok[a].kind == TK_PUNCT && d->tok[a].q < 0)
        a++;
    if (b <= a)
        return;
    /* never cut a quotation */
    if (d->tok[a].q >= 0)
        a = imin(a, d->q[d->tok[a].q].open);
    if (d->tok[b - 1].q >= 0) {
        const qt_quote_t *q = &d->q[d->tok[b - 1].q];
        b = imax(b, (q->close >= 0 ? q->close : q->ce - 1) + 1);
    }
    int words = 0, maxq = 0, nq = 0;
    for (int32_t k = a; k < b; k++) {
        const qt_tok_t *t = &d->tok[k];
        if (t->kind == TK_WORD || t->kind == TK_NUM)
            words++;
        if (t->kind == TK_QMARK && t->q >= 0 && d->q[t->q].open == k) {
            nq++;
            if (d->q[t->q].nwords > maxq)
                maxq = d->q[t->q].nwords;
        }
    }
    if (words < 2)
        return;
    if (nq > 0 && maxq * 3 >= words * 2)
        return; /* the quotation stands for the clause */
    if (nq > 0 && !d->cfg->mixed_clauses)
        return;
    if (nq == 0 && !d->cfg->indirect)
        return;
    uint32_t s = d->tok[a].s, e = d->tok[b - 1].e;
    if (overlaps_clause(d, s, e))
        return;
    qt_quote_t c;
    memset(&c, 0, sizeof c);
    c.open = c.close = -1;
    c.cs = a;
    c.ce = b;
    c.s = s;
    c.e = e;
    c.para = d->tok[a].para;
    c.sent = d->tok[a].sent;
    c.flags = QF_CLAUSE;
    c.cue = cue;
    c.cue_e = cue_e >= 0 ? cue_e : cue;
    c.sp = *np;
    c.ent = -1;
    c.host = -1;
    c.src = -1;
    c.type = nq > 0 ? QT_MIXED : QT_INDIRECT;
    c.how = HOW_CLAUSE;
    c.nwords = (uint16_t)(words > 65535 ? 65535 : words);
    if (QT_PUSH(d, q, c) != 0)
        return;
    int32_t ci = (int32_t)d->n_q - 1;
    /* fragments inside take the clause's speaker when they have none */
    for (int32_t k = a; k < b; k++) {
        const qt_tok_t *t = &d->tok[k];
        if (t->kind == TK_QMARK && t->q >= 0 && d->q[t->q].open == k) {
            qt_quote_t *fq = &d->q[t->q];
            fq->host = ci;
            if (fq->sp.s < 0) {
                fq->sp = *np;
                fq->cue = cue;
                fq->cue_e = c.cue_e;
                fq->how = HOW_FRAG;
                fq->flags |= QF_FRAG;
                fq->type = QT_MIXED;
            }
        }
    }
}

/* Subordinating conjunctions that may open a clause inside a content clause. */
static int subordinator(const qt_doc_t *d, int32_t k)
{
    static const char *const w[] = {"when", "while", "because", "although", "though", "if",
                                    "since", "unless", "once", "whereas", "as", "after",
                                    "before", "until"};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (qt_tok_eq(d, k, w[i]))
            return 1;
    return 0;
}

/* Prepositions that introduce the topic of a noun-phrase cue ("spoke about
 * the plan", "warned of a crisis"); others ("spoke for an hour", "spoke to
 * reporters") introduce adjuncts. */
static int np_topic_prep(const qt_doc_t *d, int32_t k)
{
    return qt_tok_eq(d, k, "about") || qt_tok_eq(d, k, "of") || qt_tok_eq(d, k, "on") ||
           qt_tok_eq(d, k, "against") || qt_tok_eq(d, k, "over");
}

/* A subject pronoun with a contracted auxiliary: "he'd", "she’ll", "they're". */
static int contracted_subject(const qt_doc_t *d, int32_t p)
{
    const qt_tok_t *t = &d->tok[p];
    const char *w = d->t + t->s;
    size_t n = t->e - t->s;
    for (size_t i = 1; i < n && i < 6; i++) {
        int ap = w[i] == '\'' ? 1 : (i + 2 < n && (unsigned char)w[i] == 0xE2 &&
                                     (unsigned char)w[i + 1] == 0x80 && (unsigned char)w[i + 2] == 0x99)
                                        ? 3
                                        : 0;
        if (ap == 0)
            continue;
        if (i + ap >= n)
            return 0;
        const qt_lexent_t *le = qt_lex_get(d->lx, qt_hash_word(w, i));
        return le != NULL && (le->cls & LX_PRON) && (le->extra & LXX_SUBJ);
    }
    return 0;
}

/* A content clause may start with these. */
static int clause_start_ok(const qt_doc_t *d, int32_t p)
{
    if (p < 0 || (size_t)p >= d->n_tok)
        return 0;
    const qt_tok_t *t = &d->tok[p];
    if (t->kind == TK_QMARK)
        return t->q >= 0;
    if (t->kind == TK_NUM)
        return 1;
    if (t->kind != TK_WORD)
        return 0;
    if (t->lex & (LX_PRON | LX_DET))
        return (t->extra & LXX_SUBJ) || (t->lex & LX_DET) || qt_tok_eq(d, p, "it");
    if (contracted_subject(d, p))
        return 1;
    if (t->lex & (LX_PREP | LX_AUX | LX_CONJ | LX_WH | LX_CUE | LX_NEG | LX_ADV))
        return qt_tok_eq(d, p, "there");
    if (t->flags & TF_CAP)
        return 1;
    if (qt_tok_eq(d, p, "there"))
        return 1;
    /* a quantified subject: "most of the regions continued ...", "many
     * voters are ..." */
    if ((qt_tok_eq(d, p, "most") || qt_tok_eq(d, p, "many") || qt_tok_eq(d, p, "few") ||
         qt_tok_eq(d, p, "several") || qt_tok_eq(d, p, "much")) &&
        (size_t)p + 1 < d->n_tok && d->tok[p + 1].kind == TK_WORD &&
        !(d->tok[p + 1].lex & (LX_THAT | LX_CONJ | LX_AUX | LX_CUE)))
        return 1;
    /* "caucuses are ...", "political correctness has run amok": a plain
     * noun phrase followed soon by an auxiliary or a quotation */
    if (t->lex & (LX_PREP | LX_CONJ | LX_CUE))
        return 0;
    for (int32_t m = p + 1; (size_t)m < d->n_tok && m - p <= 12; m++) {
        const qt_tok_t *u = &d->tok[m];
        if (u->kind == TK_WORD && (u->lex & (LX_AUX | LX_NEG)) && !(u->flags & TF_INQ))
            return 1;
        if (u->kind == TK_QMARK && u->q >= 0 && d->q[u->q].open == m)
            return m - p <= 4;
        if (u->kind == TK_PUNCT && u->cp == ',')
            continue;
        if (u->kind != TK_WORD || ((u->lex & (LX_THAT | LX_WH)) && !(m > p && (u->lex & LX_WH))))
            return 0; /* "fathers who adopt would not ..." passes */
    }
    return 0;
}

static void forward(qt_doc_t *d, int32_t c, const qt_np_t *np)
{
    int32_t end = sent_end(d, c);
    int32_t ce = c, pe;
    if (qt_find_phrase(d, c, LXX_CUE_PHRASE, &pe) >= 0)
        ce = pe;
    int32_t p = ce + 1;
    /* listener object, adverbs, time, prepositional phrases */
    {
        /* reuse the attribution skipper through a tiny local copy of its rules */
        int32_t lim = end;
        if (tk_is(d, c, LX_OBJECT) && p <= lim) {
            qt_np_t o;
            if (qt_np_right(d, p, lim, &o)) {
                p = o.e + 1;
                /* "a Planned Parenthood gathering" */
                for (int s = 0; s < 2 && p <= lim && d->tok[p].kind == TK_WORD &&
                                !(d->tok[p].flags & (TF_INQ | TF_CAP)) &&
                                !(d->tok[p].lex & (LX_THAT | LX_PREP | LX_DET | LX_PRON | LX_CONJ |
                                                   LX_AUX | LX_WH | LX_CUE | LX_ADV | LX_TIME));
                     s++)
                    p++;
            } else if (tk_is(d, p, LX_PRON)) {
                p++;
            } else if (qt_tok_eq(d, p, "reporters")) {
                p++;
            } else if (tk_is(d, p, LX_DET) && !tk_is(d, p, LX_THAT)) {
                /* "told a packed college gym": a listener the phrase reader
                 * does not know is still the object, not the content */
                p++;
                for (int s = 0; s < 5 && p <= lim && d->tok[p].kind == TK_WORD &&
                                !(d->tok[p].flags & TF_INQ) &&
                                !(d->tok[p].lex & (LX_THAT | LX_PREP | LX_DET | LX_PRON | LX_CONJ |
                                                   LX_AUX | LX_WH | LX_CUE | LX_TIME));
                     s++)
                    p++;
            }
        }
        for (int g = 0; g < 10 && p <= lim; g++) {
            const qt_tok_t *t = &d->tok[p];
            if (t->flags & TF_INQ)
                break;
            if (t->kind == TK_PUNCT && t->cp == ',') {
                p++;
                continue;
            }
            if (t->kind == TK_WORD && ((t->lex & LX_TIME) || qt_tok_ly(d, t) ||
                                       ((t->lex & LX_ADV) && !(t->lex & (LX_PRON | LX_DET)))) &&
                !(t->lex & LX_THAT)) {
                p++;
                continue;
            }
            if (t->kind == TK_WORD && (t->lex & LX_DET) && tk_is(d, p + 1, LX_TIME)) {
                p += 2; /* "this year", "last week" */
                continue;
            }
            if (t->kind == TK_WORD && (t->lex & LX_PREP) && !(t->lex & (LX_THAT | LX_CONJ))) {
                int32_t m = p + 1, w = 0;
                if (tk_is(d, m, LX_DET))
                    m++;
                while (m <= lim && w < 6) {
                    const qt_tok_t *u = &d->tok[m];
                    if (u->flags & TF_INQ)
                        break;
                    if (u->kind == TK_NUM ||
                        (u->kind == TK_PUNCT && u->cp == '.' && (u->flags & TF_ABBR)) ||
                        (u->kind == TK_WORD && ((u->lex & LX_TIME) ||
                                                ((u->flags & TF_CAP) && !(u->lex & (LX_PRON | LX_DET | LX_CONJ)))))) {
                        m++;
                        w++;
                        continue;
                    }
                    if (u->kind == TK_WORD && w == 0 && !(u->flags & TF_POSS) &&
                        !(u->lex & (LX_THAT | LX_PREP | LX_DET | LX_PRON | LX_CONJ | LX_AUX |
                                    LX_WH | LX_CUE))) {
                        m++;
                        w++;
                        continue;
                    }
                    if (u->kind == TK_WORD && (u->lex & LX_PREP) && w > 0 && !(u->lex & LX_THAT)) {
                        m++;
                        if (tk_is(d, m, LX_DET))
                            m++;
                        continue;
                    }
                    break;
                }
                if (w == 0)
                    break;
                /* a PP must be followed by "that", a comma or a quotation to
                 * count as an adjunct; otherwise it is the content */
                if (m <= lim && (tk_is(d, m, LX_THAT) || tk_punct(d, m, ',') || tk_punct(d, m, ':') ||
                                 d->tok[m].kind == TK_QMARK || clause_start_ok(d, m))) {
                    p = m;
                    continue;
                }
                /* "said in an interview taped before the vote that ...": a
                 * short modifier of the adjunct, then "that" and a clause */
                int32_t z = m;
                while (z <= lim && z - m < 8 && d->tok[z].kind == TK_WORD &&
                       !(d->tok[z].flags & TF_INQ) && !(d->tok[z].lex & (LX_CUE | LX_WH | LX_AUX)) &&
                       !qt_tok_eq(d, z, "that"))
                    z++;
                if (z > m && z + 1 <= lim && qt_tok_eq(d, z, "that") && clause_start_ok(d, z + 1)) {
                    p = z;
                    continue;
                }
                break;
            }
            break;
        }
    }
    if (p > end)
        return;
    int that = tk_is(d, p, LX_THAT);
    int colon = tk_punct(d, p, ':');
    int inf = !that && (d->tok[c].lex & LX_INF) && qt_tok_eq(d, p, "to") && p + 1 <= end &&
              d->tok[p + 1].kind == TK_WORD && !(d->tok[p + 1].flags & TF_CAP) &&
              !(d->tok[p + 1].lex & (LX_DET | LX_PRON | LX_PREP | LX_TIME));
    /* "asked how it is conservative to ...", "wondered why ..." */
    int wh = !that && !colon && (d->tok[c].lex & LX_QUESTION) &&
             (tk_is(d, p, LX_WH) || qt_tok_eq(d, p, "when") || qt_tok_eq(d, p, "where")) &&
             p + 1 <= end && d->tok[p + 1].kind == TK_WORD;
    int32_t a = p;
    if (colon)
        a = p + 1;
    if (!that && !colon && !inf && !wh && !clause_start_ok(d, p))
        return;
    /* "that" then a subordinate clause ("that when ..., the town was")
     * opens a content clause; "that" then a preposition, a coordinator or
     * a verb is a pronoun ("said that on Monday", "said that and more") */
    if (that && (p + 1 > end || d->tok[p + 1].kind == TK_PUNCT || tk_is(d, p + 1, LX_PREP | LX_CUE) ||
                 (tk_is(d, p + 1, LX_CONJ) && !subordinator(d, p + 1))))
        return;
    int32_t b = clause_stop(d, that ? p + 1 : a, end);
    emit_clause(d, a, b, c, ce, np);
}

static void backward(qt_doc_t *d, int32_t c, int32_t subj_s, const qt_np_t *np)
{
    /* content: sentence start .. the comma before the subject */
    int32_t comma = subj_s - 1;
    if (!(tk_punct(d, comma, ',') || tk_dash(d, comma)))
        return;
    int32_t a = d->sstart[d->tok[c].sent];
    if (comma - a > QT_WIN_CLAUSE)
        a = comma - QT_WIN_CLAUSE;
    /* middle attribution: "X, he said, Y." */
    emit_clause(d, a, comma, c, c, np);
}

/* "..., said Alan Abramowitz, a demographer at Emory University.": the
 * words after the speaker's comma describe the speaker (a determiner, a
 * role or title, a name before any verb) and are no content. */
static int appositive_at(const qt_doc_t *d, int32_t k, int32_t end)
{
    for (int32_t m = k; m <= end && m - k < 6; m++) {
        const qt_tok_t *t = &d->tok[m];
        if (t->kind != TK_WORD)
            return 0;
        if (t->lex & (LX_AUX | LX_NEG | LX_CUE | LX_THAT | LX_PRON))
            return 0;
        if ((t->lex & (LX_ROLE | LX_TITLE | LX_DET)) || (t->flags & TF_CAP))
            return 1;
    }
    return 0;
}

static int ends_clause_after(const qt_doc_t *d, int32_t k, int32_t *comma)
{
    /* after the cue: adjuncts then the end of the sentence (or a comma) */
    *comma = -1;
    for (int s = 0; s < 8; s++, k++) {
        if ((size_t)k >= d->n_tok)
            return 1;
        const qt_tok_t *t = &d->tok[k];
        if (t->kind == TK_PARA || tk_stop(d, k))
            return 1;
        if (t->kind == TK_PUNCT && t->cp == ',') {
            *comma = k;
            return 1;
        }
        if (t->kind == TK_QMARK)
            return 0;
        if (t->kind == TK_WORD && (t->lex & (LX_THAT | LX_CUE)))
            return 0;
        /* "..., both candidates said it was no big deal": a finite verb
         * after the cue means the content follows it */
        if (t->kind == TK_WORD && (t->lex & LX_AUX) && s > 0)
            return 0;
    }
    return 0;
}

void qt_report(qt_doc_t *d)
{
    if (!d->cfg->indirect && !d->cfg->mixed_clauses)
        return;
    int32_t n = (int32_t)d->n_tok, next_c = 0;
    /* the candidates: tokens with LX_CUE or LX_PHRASE, listed by qt_tokenize */
    for (size_t ci = 0; ci < d->n_cues; ci++) {
        int32_t c = d->cues[ci];
        if (c < next_c)
            continue;
        const qt_tok_t *t = &d->tok[c];
        if (t->kind != TK_WORD || (t->flags & TF_INQ) || !(t->lex & (LX_CUE | LX_PHRASE)))
            continue;
        int32_t pe;
        if (t->phrase && qt_find_phrase(d, c, LXX_SOURCE_AFTER, &pe) >= 0) {
            /* according to X */
            qt_np_t np;
            int32_t end = sent_end(d, c);
            if (!qt_np_right(d, pe + 1, end, &np))
                continue;
            int32_t ss = d->sstart[t->sent];
            int32_t k = c - 1;
            while (k >= ss && tk_is(d, k, LX_CONJ))
                k--;
            if (k < ss) {
                int32_t m = np.e + 1;
                while (m <= end && tk_punct(d, m, ','))
                    m++;
                if (m <= end)
                    emit_clause(d, m, clause_stop(d, m, end), c, pe, &np);
            } else if (tk_punct(d, c - 1, ',') || tk_dash(d, c - 1)) {
                emit_clause(d, imax(ss, c - 1 - QT_WIN_CLAUSE), c - 1, c, pe, &np);
            }
            next_c = pe + 1;
            continue;
        }
        int ok = cue_ok(d, c);
        if (ok && (t->lex & (LX_FRAG | LX_NPCONT)) && !(t->lex & LX_CLAUSE) &&
            !(t->lex & LX_ING)) {
            /* "Graham called both Trump and Clinton “crazy”", "Carson
             * criticized the news media": the object (with its quoted
             * description) is the content */
            qt_np_t np;
            if (!qt_np_subject_of(d, c, &np))
                continue;
            int32_t end = sent_end(d, c);
            int32_t b = clause_stop(d, c + 1, end);
            int hasq = 0;
            for (int32_t k = c + 1; k < b && k - c < QT_WIN_CLAUSE; k++)
                if (d->tok[k].q >= 0)
                    hasq = 1;
            /* "spoke for an hour", "criticized on Tuesday": a prepositional
             * phrase or a time word is no noun-phrase content */
            if (!hasq && (tk_is(d, c + 1, LX_TIME) || d->tok[c + 1].kind != TK_WORD ||
                          (tk_is(d, c + 1, LX_PREP) && !np_topic_prep(d, c + 1))))
                continue;
            if ((hasq && d->cfg->mixed_clauses) || (!hasq && d->cfg->indirect))
                emit_clause(d, c + 1, b, c, c, &np);
            continue;
        }
        if (!ok || !(t->lex & LX_CLAUSE))
            continue;
        qt_np_t np;
        /* inverted: "..., said Trump." */
        if ((t->lex & LX_INVERT) && tk_punct(d, c - 1, ',') && !(t->lex & LX_ING)) {
            int32_t end = sent_end(d, c);
            if (qt_np_right(d, c + 1, end, &np)) {
                int32_t comma;
                if (ends_clause_after(d, np.e + 1, &comma)) {
                    backward(d, c, c, &np);
                    if (comma >= 0 && comma < end && !appositive_at(d, comma + 1, end))
                        emit_clause(d, comma + 1, clause_stop(d, comma + 1, end), c, c, &np);
                    continue;
                }
            }
        }
        if (!qt_np_subject_of(d, c, &np))
            continue;
        int32_t comma;
        int32_t after = c + 1;
        if (tk_is(d, c, LX_OBJECT)) {
            qt_np_t o;
            if (qt_np_right(d, after, imin(n - 1, after + QT_WIN_NP), &o) && o.kind != NP_PRON)
                after = o.e + 1;
            else if (tk_is(d, after, LX_PRON) || qt_tok_eq(d, after, "reporters"))
                after++;
        }
        if (np.s >= 0 && np.s < c && tk_punct(d, np.s - 1, ',') && !(t->lex & LX_ING) &&
            ends_clause_after(d, after, &comma)) {
            backward(d, c, np.s, &np);
            if (comma >= 0) {
                int32_t end = sent_end(d, c);
                if (comma < end && !tk_is(d, comma + 1, LX_CUE))
                    emit_clause(d, comma + 1, clause_stop(d, comma + 1, end), c, c, &np);
            }
            continue;
        }
        forward(d, c, &np);
    }
}
