/*
 * qt_np.c - speaker noun phrases next to a reporting cue.
 *
 * Without a tagger, a speaker phrase is read from word classes: proper-name
 * tokens (capitalised, not function words), titles and role nouns from the
 * lexicon ("Kremlin spokesman Dmitry Peskov", "the Russian president",
 * "Sen. Marco Rubio"), possessors ("Mr Putin's spokesperson"), a determiner
 * as the left edge, and "of/to/for" inside a role ("a senior aide to Putin").
 * Pronouns are phrases of their own.  qt_np_finish() splits a phrase into
 * its proper-name part and its title/role part.
 *
 * qt_np_subject_of() finds the subject of a cue verb: it steps back over
 * adverbs and auxiliaries ("has repeatedly said"), over an appositive or a
 * parenthetical between commas ("Dmitry Peskov, Mr Putin's spokesperson,
 * said"), over a relative pronoun ("McCain, who ... said"), and for a
 * participle ("..., adding that") takes the subject of the clause it hangs
 * on.  Every walk is bounded by QT_WIN_* windows.
 */
#include "qt.h"

#include <string.h>

/* A capitalised word that can be part of a proper name (qt_namey() reads
 * the answer that qt_sentences stored). */
int qt_namey_rule(const qt_doc_t *d, int32_t i)
{
    if (i < 0 || (size_t)i >= d->n_tok)
        return 0;
    const qt_tok_t *tk = &d->tok[i];
    if (tk->kind != TK_WORD || !(tk->flags & (TF_CAP | TF_UPPER)) || (tk->flags & TF_INQ))
        return 0;
    if (tk->lex & (LX_TITLE | LX_ROLE))
        return 0;
    if ((tk->flags & TF_TCASE) && (tk->lex & (LX_DET | LX_PREP | LX_CONJ | LX_AUX | LX_PRON | LX_WH |
                                              LX_FUNC | LX_TIME | LX_NEG | LX_THAT | LX_ADV | LX_CUE)))
        return 0; /* "France Asked Trump And Putin To ...": capitalised for the headline */
    if (tk->lex & (LX_DET | LX_PREP | LX_CONJ | LX_AUX | LX_PRON | LX_WH | LX_FUNC | LX_TIME |
                   LX_NEG | LX_THAT | LX_ADV | LX_CUE)) {
        /* "Theresa May", "Hope Hicks", "The Post": a word of another class
         * inside a name */
        const qt_tok_t *p = i > 0 ? &d->tok[i - 1] : NULL;
        const qt_tok_t *n = (size_t)i + 1 < d->n_tok ? &d->tok[i + 1] : NULL;
        uint32_t fn = LX_DET | LX_PREP | LX_CONJ | LX_AUX | LX_PRON | LX_WH | LX_FUNC | LX_CUE |
                      LX_TIME | LX_TITLE | LX_ROLE | LX_NEG | LX_THAT | LX_ADV;
        int pn = p != NULL && p->kind == TK_WORD && (p->flags & TF_CAP) && !(p->lex & fn) &&
                 p->e + 1 >= tk->s;
        int nn = n != NULL && n->kind == TK_WORD && (n->flags & TF_CAP) && !(n->lex & fn);
        if (tk->lex & (LX_DET | LX_PREP | LX_CONJ | LX_PRON | LX_WH | LX_FUNC | LX_NEG | LX_THAT | LX_ADV))
            return pn && !(tk->lex & (LX_DET | LX_PREP | LX_CONJ | LX_PRON | LX_WH | LX_THAT));
        if (tk->lex & LX_TIME) {
            /* "Jan Novak", "June Carter" but not "on Tuesday Trump said" */
            if (pn)
                return 1;
            if (!nn)
                return 0;
            if (tk->flags & TF_SSTART)
                return 1;
            return p != NULL && !(p->kind == TK_WORD && (p->lex & (LX_PREP | LX_DET | LX_TIME))) &&
                   p->kind != TK_NUM;
        }
        if (tk->flags & TF_SSTART)
            return nn && !(tk->lex & LX_CUE);
        if (tk->lex & LX_CUE)
            return 1; /* a capitalised verb form mid-sentence is a name */
        return pn || nn;
    }
    return 1;
}

static QT_INLINE int is_titlish(const qt_doc_t *d, int32_t i)
{
    return tk_is(d, i, LX_TITLE | LX_ROLE | LX_MOD) && !(d->tok[i].flags & TF_INQ);
}

static QT_INLINE int abbr_dot(const qt_doc_t *d, int32_t i)
{
    return i >= 0 && (size_t)i < d->n_tok && d->tok[i].kind == TK_PUNCT && d->tok[i].cp == '.' &&
           (d->tok[i].flags & TF_ABBR) && !(d->tok[i].flags & TF_SPB);
}

static QT_INLINE int plain_lower(const qt_doc_t *d, int32_t i)
{
    if (i < 0 || (size_t)i >= d->n_tok)
        return 0;
    const qt_tok_t *tk = &d->tok[i];
    return tk->kind == TK_WORD && !(tk->flags & (TF_CAP | TF_INQ)) &&
           !(tk->lex & (LX_DET | LX_PREP | LX_CONJ | LX_AUX | LX_PRON | LX_WH | LX_FUNC |
                        LX_TIME | LX_NEG | LX_THAT | LX_ADV | LX_CUE | LX_ROLE | LX_TITLE |
                        LX_MOD)) && !qt_tok_ly(d, tk);
}

static QT_INLINE int year_old(const qt_doc_t *d, int32_t i)
{
    if (i < 0 || (size_t)i >= d->n_tok)
        return 0;
    const qt_tok_t *tk = &d->tok[i];
    size_t n = tk->ce - tk->s;
    return (tk->kind == TK_NUM || tk->kind == TK_WORD) && n > 9 &&
           memcmp(d->t + tk->ce - 9, "-year-old", 9) == 0;
}

static QT_INLINE int subj_pron(const qt_doc_t *d, int32_t i)
{
    return tk_is(d, i, LX_PRON) && (d->tok[i].extra & LXX_SUBJ) && !(d->tok[i].flags & TF_INQ);
}

static int subject_edge(const qt_doc_t *d, int32_t s, int32_t lim);

static void np_clear(qt_np_t *np)
{
    memset(np, 0, sizeof *np);
    np->s = np->e = -1;
    np->name_s = np->name_e = np->role_s = np->role_e = np->head = -1;
    np->appos_s = np->appos_e = -1;
}

void qt_np_finish(const qt_doc_t *d, qt_np_t *np)
{
    np->name_s = np->name_e = np->role_s = np->role_e = -1;
    np->person = 0;
    np->gender = 0;
    if (np->s < 0)
        return;
    if (np->kind == NP_PRON) {
        np->head = np->s;
        np->person = 1;
        uint16_t x = d->tok[np->s].extra;
        np->gender = (uint8_t)(x & (LXX_MALE | LXX_FEMALE));
        return;
    }
    /* proper-name part: the run of name tokens at the right end */
    int32_t e = np->e, k = e;
    if (qt_namey(d, k) || (d->tok[k].kind == TK_WORD && (d->tok[k].flags & TF_UPPER) &&
                        !(d->tok[k].lex & (LX_TITLE | LX_ROLE)))) {
        while (k - 1 >= np->s) {
            if (qt_namey(d, k - 1) && !(d->tok[k - 1].flags & TF_POSS)) {
                k--;
                continue;
            }
            if (abbr_dot(d, k - 1) && k - 2 >= np->s && qt_namey(d, k - 2) &&
                d->tok[k - 2].ce - d->tok[k - 2].s == 1) {
                k -= 2; /* initial "J." */
                continue;
            }
            if (tk_is(d, k - 1, LX_PARTICLE) && k - 2 >= np->s && qt_namey(d, k - 2)) {
                k -= 2;
                continue;
            }
            break;
        }
        np->name_s = k;
        np->name_e = e;
        np->kind = NP_NAME;
        np->head = e;
        /* "a senior aide to Putin", "the spokesman for Clinton": the name is
         * the complement of a lower-case role noun, which is the head */
        int32_t j = k - 1;
        while (j > np->s && (tk_is(d, j, LX_TITLE) || abbr_dot(d, j)))
            j--; /* "an aide to Sen. Marco Rubio" */
        if (j - 1 >= np->s && tk_is(d, j, LX_PREP) && tk_is(d, j - 1, LX_ROLE) &&
            !(d->tok[j - 1].flags & (TF_CAP | TF_UPPER))) {
            np->name_s = np->name_e = -1;
            np->kind = NP_ROLE;
            np->head = j - 1;
        }
    } else {
        np->kind = NP_ROLE;
        np->head = e;
    }
    /* title/role part: everything before the name, without a determiner */
    int32_t rs = np->s, re = np->name_s >= 0 ? np->name_s - 1 : np->head;
    while (rs <= re && tk_is(d, rs, LX_DET))
        rs++;
    while (re >= rs && (abbr_dot(d, re) || d->tok[re].kind == TK_PUNCT))
        re--;
    if (rs <= re) {
        np->role_s = rs;
        np->role_e = re;
    }
    /* a possessor's title is not the phrase's ("Mr Trump's Paris trip") */
    int32_t from = np->s;
    for (int32_t i = np->e; i > np->s; i--)
        if (d->tok[i - 1].flags & TF_POSS) {
            from = i;
            break;
        }
    for (int32_t i = from; i <= np->e; i++) {
        const qt_tok_t *tk = &d->tok[i];
        if (tk->kind != TK_WORD || (tk->flags & TF_POSS))
            continue;
        if (tk->lex & LX_PERSON)
            np->person = 1;
        if (tk->lex & (LX_TITLE | LX_ROLE | LX_PERSON))
            np->gender |= (uint8_t)(tk->extra & (LXX_MALE | LXX_FEMALE));
    }
    if (np->kind == NP_ROLE && !(d->tok[np->head].lex & (LX_ROLE | LX_TITLE)) && !year_old(d, np->head) &&
        (d->tok[np->head].flags & (TF_CAP | TF_UPPER))) {
        np->kind = NP_NAME; /* an acronym such as "CNN" */
        np->name_s = np->name_e = np->head;
    }
}

/* A noun phrase ending at token end, not reaching before lim. */
int qt_np_left(const qt_doc_t *d, int32_t end, int32_t lim, qt_np_t *np)
{
    np_clear(np);
    if (end < lim || end < 0 || (size_t)end >= d->n_tok)
        return 0;
    const qt_tok_t *tk = &d->tok[end];
    if (tk->flags & TF_INQ)
        return 0;
    if (subj_pron(d, end)) {
        np->s = np->e = end;
        np->kind = NP_PRON;
        qt_np_finish(d, np);
        return 1;
    }
    int head_name = qt_namey(d, end) || (tk->kind == TK_WORD && (tk->flags & TF_UPPER) &&
                                      !(tk->lex & (LX_PRON | LX_DET | LX_CONJ | LX_PREP)));
    int head_role = tk_is(d, end, LX_ROLE | LX_TITLE) || year_old(d, end);
    if (!head_name && !head_role && plain_lower(d, end) && !(tk->flags & TF_POSS)) {
        /* "the influential US daily", "the moderator": a plain noun with
         * a determiner close on its left */
        for (int32_t m = end - 1; m >= lim && end - m <= 4; m--) {
            if (tk_is(d, m, LX_DET) && !tk_is(d, m, LX_PRON) && !(d->tok[m].flags & TF_POSS)) {
                if (!subject_edge(d, m, lim))
                    return 0; /* "at the time": not a subject */
                np->s = m;
                np->e = end;
                qt_np_finish(d, np);
                np->kind = NP_ROLE;
                return 1;
            }
            if (!(plain_lower(d, m) || qt_namey(d, m) || is_titlish(d, m) ||
                  d->tok[m].kind == TK_NUM || (d->tok[m].flags & TF_UPPER)))
                break;
        }
        return 0;
    }
    if (!head_name && !head_role)
        return 0;
    if (tk->flags & TF_POSS)
        return 0; /* "Trump's said" is not a subject */
    int have_role = head_role, nlower = 0;
    int32_t j = end;
    while (j - 1 >= lim && end - (j - 1) < QT_WIN_NP) {
        int32_t k = j - 1;
        const qt_tok_t *t = &d->tok[k];
        if (t->flags & TF_INQ)
            break;
        if (abbr_dot(d, k) && k - 1 >= lim &&
            (tk_is(d, k - 1, LX_TITLE) || (qt_namey(d, k - 1) && d->tok[k - 1].ce - d->tok[k - 1].s == 1))) {
            j = k;
            continue;
        }
        if (t->kind == TK_WORD) {
            if (qt_namey(d, k) || is_titlish(d, k) || (t->flags & TF_UPPER)) {
                if (t->lex & (LX_TITLE | LX_ROLE))
                    have_role = 1;
                j = k;
                continue;
            }
            if ((t->flags & TF_POSS) && (t->flags & TF_CAP)) {
                j = k;
                continue;
            }
            if (tk_is(d, k, LX_PARTICLE) && qt_namey(d, k - 1) && qt_namey(d, k + 1)) {
                j = k;
                continue;
            }
            if (tk_is(d, k, LX_DET) && !(t->flags & TF_POSS)) {
                if (tk_is(d, k, LX_PRON))
                    break; /* "his" is not a determiner here */
                j = k;
                break;
            }
            if (tk_is(d, k, LX_PREP) && is_titlish(d, k - 1) && k - 1 >= lim &&
                (qt_tok_eq(d, k, "of") || qt_tok_eq(d, k, "to") || qt_tok_eq(d, k, "for") ||
                 qt_tok_eq(d, k, "at"))) {
                j = k;
                continue;
            }
            if (plain_lower(d, k) && !have_role && nlower < 2 && !(t->flags & TF_POSS) &&
                qt_namey(d, k + 1) && (qt_namey(d, k - 1) || tk_is(d, k - 1, LX_DET))) {
                /* "Cruz constituent Dan Golvach", "a smiling Clinton" */
                nlower++;
                j = k;
                continue;
            }
            if (plain_lower(d, k) && have_role && nlower < 3 && !(t->flags & TF_POSS)) {
                /* "the state party chairwoman": only when a determiner,
                 * title or capitalised word closes the phrase on the left */
                int32_t m = k - 1;
                int ok = 0;
                for (int step = 0; step < 3 && m >= lim; step++, m--) {
                    if (tk_is(d, m, LX_DET) || qt_namey(d, m) || is_titlish(d, m) ||
                        (d->tok[m].kind == TK_WORD && (d->tok[m].flags & TF_CAP))) {
                        ok = 1;
                        break;
                    }
                    if (!plain_lower(d, m))
                        break;
                }
                if (ok) {
                    nlower++;
                    j = k;
                    continue;
                }
            }
            break;
        }
        if (t->kind == TK_NUM && have_role) {
            j = k;
            continue;
        }
        break;
    }
    /* a phrase of only a determiner and lower-case words is not a speaker */
    np->s = j;
    np->e = end;
    qt_np_finish(d, np);
    return 1;
}

/* A noun phrase starting at token start, not reaching past lim. */
int qt_np_right(const qt_doc_t *d, int32_t start, int32_t lim, qt_np_t *np)
{
    np_clear(np);
    if (start < 0 || (size_t)start >= d->n_tok || start > lim)
        return 0;
    if ((size_t)lim >= d->n_tok)
        lim = (int32_t)d->n_tok - 1;
    if (d->tok[start].flags & TF_INQ)
        return 0;
    if (subj_pron(d, start) || (tk_is(d, start, LX_PRON) && !tk_is(d, start, LX_DET))) {
        np->s = np->e = start;
        np->kind = NP_PRON;
        qt_np_finish(d, np);
        return 1;
    }
    int32_t j = start, last = -1;
    int det = 0;
    if (tk_is(d, j, LX_DET) && !tk_is(d, j, LX_PRON)) {
        det = 1;
        j++;
    }
    while (j <= lim && j - start < QT_WIN_NP) {
        const qt_tok_t *t = &d->tok[j];
        if (t->flags & TF_INQ)
            break;
        if (abbr_dot(d, j) && last == j - 1) {
            j++;
            continue;
        }
        if (t->kind == TK_WORD) {
            if (t->flags & TF_POSS) {
                if (t->flags & TF_CAP) { /* possessor: "Putin's spokesman" */
                    j++;
                    continue;
                }
                break;
            }
            if (qt_namey(d, j) || is_titlish(d, j) || (t->flags & TF_UPPER)) {
                last = j++;
                continue;
            }
            if (tk_is(d, j, LX_PARTICLE) && last == j - 1 && qt_namey(d, j + 1)) {
                j++;
                continue;
            }
            if (plain_lower(d, j)) {
                /* modifier before a role: "the state party chairwoman";
                 * a noun between names: "Cruz constituent Dan Golvach",
                 * "a smiling Clinton" */
                int32_t m = j;
                while (m <= lim && m - j < 3 && plain_lower(d, m))
                    m++;
                if (m <= lim && (tk_is(d, m, LX_ROLE | LX_TITLE) ||
                                 ((det || last >= 0) && qt_namey(d, m)) ||
                                 (j == start && qt_namey(d, m) && qt_namey(d, m + 1)))) {
                    /* also "harbour master Lisa Grün", "psychologist Vaile Wright" */
                    j = m;
                    continue;
                }
                /* "the moderator said": a plain noun heading the phrase
                 * when a reporting verb follows */
                if (det && last < 0 && m <= lim) {
                    int32_t v = m;
                    while (v <= lim && v - m < 2 && d->tok[v].kind == TK_WORD &&
                           ((d->tok[v].lex & LX_ADV) || qt_tok_ly(d, &d->tok[v])))
                        v++;
                    if (qt_cue_verb(d, v, LX_SPEECH | LX_BELIEF | LX_FRAG)) {
                        last = m - 1;
                        j = m;
                    }
                }
                break;
            }
            if (qt_tok_eq(d, j, "of") && last == j - 1 && is_titlish(d, last) && j + 1 <= lim &&
                (qt_namey(d, j + 1) || tk_is(d, j + 1, LX_DET))) {
                j++;
                continue;
            }
            break;
        }
        if (t->kind == TK_NUM && (det || last >= 0) && year_old(d, j)) {
            last = j++;
            continue;
        }
        if (t->kind == TK_NUM && det && last < 0 && (tk_is(d, j + 1, LX_ROLE) || qt_namey(d, j + 1))) {
            j++;
            continue; /* "a 2008 Clinton veteran" */
        }
        break;
    }
    if (last < 0)
        return 0;
    np->s = start;
    np->e = last;
    qt_np_finish(d, np);
    if (np->kind == NP_ROLE && !det && !(d->tok[np->head].flags & TF_CAP) && np->s == np->head &&
        !(d->tok[np->head].lex & LX_PLURAL))
        return 0; /* a bare lower-case noun ("officials" is fine) */
    return 1;
}

void qt_np_appos(const qt_doc_t *d, qt_np_t *np, int32_t a, int32_t lim)
{
    qt_np_t ap;
    if (a < 0 || a > lim || !qt_np_right(d, a, lim, &ap))
        return;
    if (ap.kind == NP_ROLE || (ap.role_s >= 0 && ap.name_s < 0)) {
        np->appos_s = ap.s;
        np->appos_e = ap.e;
    }
}

/* qt_cue_verb (qt.h) for a cue form that is also a noun: is it a verb here? */
int qt_cue_verb_noun(const qt_doc_t *d, int32_t k)
{
    const qt_tok_t *t = &d->tok[k];
    /* "report", "calls", "comment": also nouns */
    if (t->flags & TF_CAP)
        return 0;
    if (k > 0) {
        const qt_tok_t *p = &d->tok[k - 1];
        if (p->kind == TK_WORD && !(p->flags & TF_POSS) &&
            (((p->lex & LX_PRON) && (p->extra & LXX_SUBJ)) ||
             ((p->lex & (LX_AUX | LX_ADV | LX_NEG)) && !(p->lex & (LX_DET | LX_PRON))) ||
             qt_tok_ly(d, p) || qt_tok_eq(d, k - 1, "to")))
            return 1;
        int pn = p->kind == TK_WORD && !(p->flags & TF_POSS) &&
                 ((p->flags & TF_CAP) || (p->lex & LX_ROLE)) && !(p->lex & (LX_DET | LX_PREP)) &&
                 !(k >= 2 && tk_is(d, k - 2, LX_DET | LX_PREP)); /* "the Russian press that" */
        if (pn && (size_t)k + 1 < d->n_tok) {
            const qt_tok_t *n = &d->tok[k + 1];
            if ((n->kind == TK_WORD && (n->lex & LX_THAT)) ||
                (n->kind == TK_PUNCT && (n->cp == ':' || n->cp == ',')) ||
                (n->kind == TK_QMARK && (n->qm & QM_LEFT)))
                return 1;
        }
    }
    return 0;
}

static int32_t sent_start(const qt_doc_t *d, int32_t i) { return d->sstart[d->tok[i].sent]; }

static int skippable_mid(const qt_doc_t *d, int32_t k)
{
    if (k < 0)
        return 0;
    const qt_tok_t *t = &d->tok[k];
    if (t->kind != TK_WORD || (t->flags & TF_INQ))
        return 0;
    if (t->lex & (LX_ADV | LX_AUX | LX_NEG))
        return !(t->lex & (LX_PRON | LX_DET));
    return qt_tok_ly(d, t);
}

/* Good left edge for a subject: sentence start, a conjunction, a comma. */
static int subject_edge(const qt_doc_t *d, int32_t s, int32_t lim)
{
    if (s <= lim)
        return 1;
    const qt_tok_t *p = &d->tok[s - 1];
    if (p->kind == TK_PUNCT)
        return p->cp == ',' || p->cp == ':' || p->cp == ';' || p->cp == 0x2014 ||
               p->cp == 0x2013 || p->cp == '(' || p->cp == '-';
    if (p->kind == TK_QMARK)
        return 1;
    if (p->kind == TK_WORD)
        return (p->lex & (LX_CONJ | LX_WH | LX_THAT)) != 0 || (p->flags & TF_SSTART) ||
               qt_tok_eq(d, s - 1, "then") || qt_tok_eq(d, s - 1, "as") ||
               qt_tok_eq(d, s - 1, "after") || qt_tok_eq(d, s - 1, "before") ||
               qt_tok_eq(d, s - 1, "since") || qt_tok_eq(d, s - 1, "until");
    return 0;
}

static int32_t finite_cue_left(const qt_doc_t *d, int32_t cue, int32_t lim)
{
    for (int32_t k = cue - 1; k >= lim && cue - k < QT_WIN_BEFORE; k--) {
        const qt_tok_t *t = &d->tok[k];
        if (t->q >= 0) {
            k = d->q[t->q].open; /* skip a quotation */
            continue;
        }
        if (t->kind == TK_PARA)
            break;
        if (t->kind == TK_WORD && !(t->lex & LX_ING) &&
            qt_cue_verb(d, k, LX_SPEECH | LX_BELIEF | LX_FRAG))
            return k;
    }
    return -1;
}

int qt_np_sentence_subject(const qt_doc_t *d, int32_t from, int32_t lim, qt_np_t *np)
{
    int32_t i = from;
    for (int guard = 0; guard < 4 && i <= lim; guard++) {
        const qt_tok_t *t = &d->tok[i];
        if (t->q >= 0) { /* a leading quotation: skip it and its comma */
            const qt_quote_t *q = &d->q[t->q];
            i = (q->close >= 0 ? q->close : q->ce) + 1;
            while (i <= lim && (tk_punct(d, i, ',') || tk_dash(d, i)))
                i++;
            continue;
        }
        if (t->kind == TK_WORD && (t->lex & LX_CONJ)) {
            i++;
            continue;
        }
        if (t->kind == TK_WORD && ((t->lex & (LX_PREP | LX_TIME | LX_ADV)) || qt_tok_ly(d, t)) &&
            !(t->lex & (LX_PRON | LX_DET))) {
            /* an introductory phrase closed by a comma */
            int32_t k = i + 1;
            while (k <= lim && k - i < 14 && !tk_punct(d, k, ',') && d->tok[k].q < 0 &&
                   !(d->tok[k].kind == TK_WORD && (d->tok[k].lex & LX_CUE) && !(d->tok[k].lex & LX_NOUNLIKE)))
                k++;
            if (k <= lim && tk_punct(d, k, ',')) {
                i = k + 1;
                continue;
            }
            return 0;
        }
        break;
    }
    if (i > lim)
        return 0;
    if (!qt_np_right(d, i, lim, np))
        return 0;
    return np->kind == NP_NAME || np->kind == NP_PRON || np->kind == NP_ROLE;
}

static int good_subject(const qt_doc_t *d, const qt_np_t *np)
{
    if (np->s < 0)
        return 0;
    if (np->kind == NP_PRON) {
        uint16_t x = d->tok[np->s].extra;
        return (x & LXX_SUBJ) != 0;
    }
    if (np->kind == NP_ROLE) {
        /* a role phrase needs a determiner, a capitalised word or plural */
        const qt_tok_t *h = &d->tok[np->head];
        if (np->s < np->head || (h->flags & TF_CAP) || (h->lex & LX_PLURAL))
            return 1;
        return 0;
    }
    return 1;
}

int qt_np_subject_of(const qt_doc_t *d, int32_t cue, qt_np_t *np)
{
    np_clear(np);
    if (cue <= 0)
        return 0;
    int32_t ss = sent_start(d, cue);
    int32_t lim = cue - QT_WIN_APPOS > ss ? cue - QT_WIN_APPOS : ss;
    const qt_tok_t *ct = &d->tok[cue];
    if ((ct->lex & LX_ING) && (tk_punct(d, cue - 1, ',') || tk_dash(d, cue - 1) ||
                               (cue - 1 >= 0 && d->tok[cue - 1].kind == TK_QMARK) ||
                               tk_is(d, cue - 1, LX_CONJ) || tk_is(d, cue - 1, LX_PREP))) {
        /* "..., adding that": the subject of the clause it hangs on.
         * Find that clause's start (a comma, conjunction, relative word),
         * take the reporting verb in it, else its first phrase. */
        int32_t cs = cue - 2;
        while (cs >= lim && cue - cs < QT_WIN_APPOS) {
            const qt_tok_t *t = &d->tok[cs];
            if (t->q >= 0) {
                cs = d->q[t->q].open - 1;
                continue;
            }
            if ((t->kind == TK_PUNCT && (t->cp == ',' || t->cp == ';' || t->cp == ':')) ||
                (t->kind == TK_WORD && (t->lex & (LX_CONJ | LX_WH)) && !(t->lex & LX_PREP)) ||
                t->kind == TK_PARA)
                break;
            cs--;
        }
        cs++;
        if (cs < lim)
            cs = lim;
        int32_t f = finite_cue_left(d, cue, cs);
        if (f >= 0 && f != cue && qt_np_subject_of(d, f, np))
            return 1;
        if (cs > ss && qt_np_right(d, cs, cue - 1, np) && np->kind != NP_NONE && good_subject(d, np) &&
            np->e + 1 < cue - 1)
            return 1;
        f = finite_cue_left(d, cue, lim);
        if (f >= 0 && f != cue && qt_np_subject_of(d, f, np))
            return 1;
        if (tk_is(d, cue - 1, LX_PREP)) {
            /* "before saying", "after telling": subject of the clause */
            return qt_np_sentence_subject(d, ss, cue - 2, np) && good_subject(d, np);
        }
        return qt_np_sentence_subject(d, ss, cue - 1, np) && good_subject(d, np);
    }
    int32_t k = cue - 1;
    for (int s = 0; s < 4 && k >= lim && skippable_mid(d, k); s++)
        k--;
    /* "Trump on Tuesday said" */
    if (k >= lim && tk_is(d, k, LX_TIME)) {
        int32_t m = k;
        while (m >= lim && k - m < 4 && (tk_is(d, m, LX_TIME) || d->tok[m].kind == TK_NUM))
            m--;
        if (tk_is(d, m, LX_PREP) || tk_is(d, m, LX_DET))
            m--;
        if (m >= lim && (qt_namey(d, m) || subj_pron(d, m) || tk_is(d, m, LX_ROLE)))
            k = m;
    }
    if (k < lim)
        return 0;
    if (tk_punct(d, k, ')')) {
        /* "Rep. Gwen Moore (D-Wis.) said" */
        int32_t m = k - 1;
        while (m >= lim && k - m < 10 && !tk_punct(d, m, '(') && d->tok[m].kind != TK_PARA)
            m--;
        if (tk_punct(d, m, '(') && qt_np_left(d, m - 1, lim, np) && good_subject(d, np))
            return 1;
    }
    int quote_comma = k >= 0 && d->tok[k].kind == TK_QMARK && d->tok[k].q >= 0 &&
                      d->q[d->tok[k].q].close == k && (d->q[d->tok[k].q].flags & QF_ENDS_COMMA);
    if (tk_punct(d, k, ',') || tk_dash(d, k) || tk_punct(d, k, ')') || quote_comma) {
        /* an appositive or a parenthetical before the cue */
        int32_t best = -1;
        qt_np_t cand;
        for (int32_t c = k - 1; c >= lim; c--) {
            const qt_tok_t *t = &d->tok[c];
            if (t->q >= 0) {
                c = d->q[t->q].open;
                continue;
            }
            if (t->kind == TK_PARA || tk_stop(d, c))
                break;
            if (!(tk_punct(d, c, ',') || tk_dash(d, c) || tk_punct(d, c, '(')))
                continue;
            if (qt_np_left(d, c - 1, lim, &cand) && good_subject(d, &cand) &&
                cand.kind != NP_ROLE && subject_edge(d, cand.s, ss)) {
                *np = cand;
                best = c;
                if (cand.s <= ss || tk_is(d, cand.s - 1, LX_CONJ))
                    break;
            }
        }
        if (best < 0) {
            /* "the Russian official, however, said": nearest phrase */
            for (int32_t c = k - 1; c >= lim && k - c < 4; c--) {
                if (tk_punct(d, c, ',') && qt_np_left(d, c - 1, lim, &cand) && good_subject(d, &cand)) {
                    *np = cand;
                    return 1;
                }
            }
            return 0;
        }
        qt_np_appos(d, np, best + 1, k - 1);
        return 1;
    }
    if (tk_is(d, k, LX_WH)) {
        /* "McCain, who has since died, said" is handled above; here "Smith, who said" */
        int32_t a = k - 1;
        if (tk_punct(d, a, ','))
            a--;
        if (qt_np_left(d, a, lim, np) && np->kind != NP_PRON)
            return 1;
        return 0;
    }
    if (tk_is(d, k, LX_CONJ) && !tk_is(d, k, LX_WH)) {
        /* "Trump described ... but later said": the subject of the first verb */
        int32_t f = finite_cue_left(d, k, lim);
        if (f >= 0 && qt_np_subject_of(d, f, np))
            return 1;
        return qt_np_sentence_subject(d, ss, k - 1, np) && good_subject(d, np) &&
               np->kind != NP_ROLE;
    }
    if (qt_np_left(d, k, lim, np) && good_subject(d, np))
        return 1;
    /* "Several supporters of reform said": a role phrase with a
     * prepositional complement; the phrase runs to the cue */
    if (np->s > lim + 1 && (qt_tok_eq(d, np->s - 1, "of") || qt_tok_eq(d, np->s - 1, "for") ||
                            qt_tok_eq(d, np->s - 1, "from") || qt_tok_eq(d, np->s - 1, "in"))) {
        qt_np_t outer;
        if (qt_np_left(d, np->s - 2, lim, &outer) && good_subject(d, &outer) && outer.kind == NP_ROLE) {
            outer.e = k;
            *np = outer;
            return 1;
        }
    }
    /* "Mr. Trump had at the time praised": the sentence subject, when only
     * auxiliaries, adverbs and a short phrase stand between it and the cue */
    if (qt_np_sentence_subject(d, ss, cue - 1, np) && good_subject(d, np) && np->e < cue) {
        int gap = 0;
        for (int32_t m = np->e + 1; m < cue; m++, gap++) {
            const qt_tok_t *t = &d->tok[m];
            if (gap > 7 || t->kind != TK_WORD || (t->flags & (TF_INQ | TF_CAP)) ||
                (t->lex & (LX_CUE | LX_WH | LX_THAT | LX_CONJ | LX_PRON)))
                return 0;
            if (!(t->lex & (LX_AUX | LX_ADV | LX_NEG | LX_PREP | LX_DET | LX_TIME)) &&
                !qt_tok_ly(d, t) && !(m > np->e + 1 && tk_is(d, m - 1, LX_DET | LX_PREP)))
                return 0;
        }
        return 1;
    }
    np_clear(np);
    return 0;
}
