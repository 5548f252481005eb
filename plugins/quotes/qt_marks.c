/*
 * qt_marks.c - pairs quote marks into quotations, paragraph by paragraph.
 *
 * Double level first: curly “…”, straight "…", low-9 „…“, guillemets «…»
 * and »…«, '' … '' (two apostrophes), ``…''.  Direction comes from the mark
 * itself when it is typographic and from its flanking (whitespace before or
 * after) when it is straight; a mark that can only open, found while a
 * quotation is open, restarts it (the earlier mark was stray).  A paragraph
 * that ends inside a quotation closes it there (the multi-paragraph
 * convention: the next paragraph opens again).
 *
 * Single level (‘…’, '…', ‹…›), only outside double quotations: a closing
 * mark must be right-flanking; apostrophes inside words never reach here
 * (the tokenizer keeps them in the word), and a plural possessive
 * ("Sanders’ campaign") is passed over when a later closing mark exists.
 * The search for a closing mark is bounded, so pairing is linear.
 */
#include "qt.h"

#include <stdlib.h>
#include <string.h>

#define QT_WIN_SINGLE 200 /* tokens searched for a single closing mark */

static int can_open(int code, int fl)
{
    switch (code) {
    case QM_LDQ:
    case QM_LOWDQ:
    case QM_REVDQ:
    case QM_LGUIL:
    case QM_GRAVE2:
    case QM_CJK_L:
        return fl != QM_RIGHT;
    case QM_DQ:
    case QM_APOS2:
        return fl != QM_RIGHT;
    case QM_RDQ:
    case QM_RGUIL:
        return fl == QM_LEFT;
    default:
        return 0;
    }
}

/* An opening mark that cannot be read as closing. */
static int strong_open(int code, int fl)
{
    switch (code) {
    case QM_LDQ:
    case QM_LOWDQ:
    case QM_LGUIL:
    case QM_GRAVE2:
    case QM_CJK_L:
        return fl != QM_RIGHT;
    case QM_DQ:
    case QM_APOS2:
        return fl == QM_LEFT;
    default:
        return 0;
    }
}

static int can_close(int ostyle, int code, int fl)
{
    if (fl == QM_LEFT && !(ostyle == QM_LOWDQ && code == QM_LDQ))
        return 0; /* looks like an opening mark */
    switch (ostyle) {
    case QM_LDQ:
    case QM_DQ:
        return code == QM_RDQ || code == QM_DQ || code == QM_APOS2 ||
               (code == QM_LDQ && fl == QM_RIGHT);
    case QM_LOWDQ:
        return code == QM_LDQ || code == QM_RDQ || code == QM_DQ;
    case QM_REVDQ:
    case QM_RDQ:
        return code == QM_RDQ || code == QM_DQ;
    case QM_LGUIL:
        return code == QM_RGUIL;
    case QM_RGUIL:
        return code == QM_LGUIL;
    case QM_APOS2:
    case QM_GRAVE2:
        return code == QM_APOS2 || code == QM_RDQ || code == QM_DQ;
    case QM_CJK_L:
        return code == QM_CJK_R;
    default:
        return 0;
    }
}

static int single_open(int code, int fl)
{
    switch (code) {
    case QM_LSQ:
    case QM_LOWSQ:
    case QM_LSGUIL:
        return fl != QM_RIGHT;
    case QM_SQ:
        return fl == QM_LEFT;
    case QM_RSGUIL:
        return fl == QM_LEFT;
    default:
        return 0;
    }
}

static int single_close(int ostyle, int code, int fl)
{
    if (fl == QM_LEFT)
        return 0;
    switch (ostyle) {
    case QM_LSQ:
    case QM_SQ:
        return (code == QM_RSQ || code == QM_SQ) && (fl & QM_RIGHT);
    case QM_LOWSQ:
        return (code == QM_LSQ || code == QM_RSQ) && (fl & QM_RIGHT);
    case QM_LSGUIL:
        return code == QM_RSGUIL;
    case QM_RSGUIL:
        return code == QM_LSGUIL;
    default:
        return 0;
    }
}

static void add_quote(qt_doc_t *d, int32_t open, int32_t close, int32_t pend, int single)
{
    int32_t cs = open + 1, ce = close >= 0 ? close : pend;
    /* content must hold a word */
    int words = 0;
    for (int32_t k = cs; k < ce; k++)
        if (d->tok[k].kind == TK_WORD || d->tok[k].kind == TK_NUM)
            words++;
    if (words == 0)
        return;
    qt_quote_t q;
    memset(&q, 0, sizeof q);
    q.open = open;
    q.close = close;
    q.cs = cs;
    q.ce = ce;
    q.s = d->tok[cs].s;
    q.e = d->tok[ce - 1].e;
    q.para = d->tok[open].para;
    q.cue = q.cue_e = -1;
    q.sp.s = -1;
    q.ent = -1;
    q.host = -1;
    q.src = -1;
    q.nwords = (uint16_t)(words > 65535 ? 65535 : words);
    if (close < 0)
        q.flags |= QF_OPEN_END;
    if (single)
        q.flags |= QF_SINGLE;
    if (d->tok[open].flags & TF_PSTART)
        q.flags |= QF_PARA_START;
    const qt_tok_t *last = &d->tok[ce - 1];
    if (last->kind == TK_PUNCT) {
        uint32_t c = last->cp;
        if (c == ',' || c == '?' || c == '!' || c == 0x2014 || c == 0x2013 || c == '-' ||
            c == 0x2026 || c == ';')
            q.flags |= QF_ENDS_COMMA;
        if (c == '.' || c == '!' || c == '?' || c == 0x2026)
            q.flags |= QF_ENDS_STOP;
    }
    if (close >= 0 && (size_t)close + 1 < d->n_tok) {
        const qt_tok_t *nx = &d->tok[close + 1];
        if (nx->kind == TK_PUNCT && (nx->cp == ',' || nx->cp == 0x2014 || nx->cp == 0x2013 ||
                                     nx->cp == '-'))
            q.flags |= QF_ENDS_COMMA;
    }
    /* title-like: every content word capitalised (or a short function word) */
    if (words <= 8) {
        int caps = 0, other = 0;
        for (int32_t k = cs; k < ce; k++) {
            const qt_tok_t *tk = &d->tok[k];
            if (tk->kind == TK_WORD) {
                if (tk->flags & TF_CAP)
                    caps++;
                else if (!(tk->lex & (LX_DET | LX_PREP | LX_CONJ)) || (tk->ce - tk->s) > 4)
                    other++;
            } else if (tk->kind == TK_PUNCT && tk->cp != ':' && tk->cp != '-' && tk->cp != '&' &&
                       tk->cp != 0x2013 && tk->cp != ',' && tk->cp != '!' && tk->cp != '?') {
                other++;
            }
        }
        if (caps > 0 && other == 0)
            q.flags |= QF_TITLELIKE;
    }
    if (QT_PUSH(d, q, q) != 0)
        return;
    int32_t qi = (int32_t)d->n_q - 1;
    int32_t stop = close >= 0 ? close : ce - 1;
    for (int32_t k = open; k <= stop; k++) {
        d->tok[k].q = qi;
        d->tok[k].flags |= TF_INQ;
    }
}

/* First token after the paragraph that holds token k (a paragraph break
 * or the end of the document). */
static int32_t para_end(const qt_doc_t *d, int32_t k)
{
    int32_t n = (int32_t)d->n_tok;
    while (k < n && d->tok[k].kind != TK_PARA)
        k++;
    return k;
}

/* The marks of one paragraph are d->marks[ma, mb). */
static void pair_double(qt_doc_t *d, size_t ma, size_t mb)
{
    int32_t open = -1;
    int ostyle = 0;
    for (size_t mi = ma; mi < mb; mi++) {
        int32_t k = d->marks[mi];
        const qt_tok_t *tk = &d->tok[k];
        int code = QM_CODE(tk->qm), fl = tk->qm & (QM_LEFT | QM_RIGHT);
        if (qm_is_single(code))
            continue;
        if (open < 0) {
            if (can_open(code, fl)) {
                open = k;
                ostyle = code;
            }
        } else if (can_close(ostyle, code, fl)) {
            add_quote(d, open, k, k, 0);
            open = -1;
        } else if (strong_open(code, fl)) {
            open = k; /* the earlier opening mark was stray */
            ostyle = code;
        }
    }
    if (open >= 0) {
        int32_t b = para_end(d, open + 1);
        if (open + 1 < b)
            add_quote(d, open, -1, b, 0);
    }
}

static int possessive_like(const qt_doc_t *d, int32_t m)
{
    /* "Sanders’ campaign": word ending in s/z, then a lower-case word */
    if (m <= 0 || (size_t)m + 1 >= d->n_tok)
        return 0;
    const qt_tok_t *pw = &d->tok[m - 1], *nw = &d->tok[m + 1];
    if (pw->kind != TK_WORD || pw->e != d->tok[m].s)
        return 0;
    char c = d->t[pw->e - 1];
    if (c != 's' && c != 'z')
        return 0;
    return nw->kind == TK_WORD && !(nw->flags & TF_CAP);
}

static void pair_single(qt_doc_t *d, size_t ma, size_t mb)
{
    for (size_t mi = ma; mi < mb; mi++) {
        int32_t k = d->marks[mi];
        const qt_tok_t *tk = &d->tok[k];
        if (tk->q >= 0)
            continue;
        int code = QM_CODE(tk->qm), fl = tk->qm & (QM_LEFT | QM_RIGHT);
        if (!qm_is_single(code) || !single_open(code, fl))
            continue;
        int32_t found = -1, weak = -1;
        size_t found_mi = 0, weak_mi = 0;
        for (size_t mj = mi + 1; mj < mb; mj++) {
            int32_t m = d->marks[mj];
            if (m - k >= QT_WIN_SINGLE)
                break;
            const qt_tok_t *tm = &d->tok[m];
            if (tm->q >= 0)
                break; /* never across a double quotation */
            int c2 = QM_CODE(tm->qm), f2 = tm->qm & (QM_LEFT | QM_RIGHT);
            if (!qm_is_single(c2))
                break;
            if (single_close(code, c2, f2)) {
                if (possessive_like(d, m)) {
                    if (weak < 0) {
                        weak = m;
                        weak_mi = mj;
                    }
                    continue;
                }
                found = m;
                found_mi = mj;
                break;
            }
            if (single_open(c2, f2) && c2 == code && !(f2 & QM_RIGHT))
                break; /* another opening mark of the same kind */
        }
        if (found < 0) {
            found = weak;
            found_mi = weak_mi;
        }
        if (found < 0)
            continue;
        size_t before = d->n_q;
        add_quote(d, k, found, found, 1);
        if (d->n_q > before)
            mi = found_mi;
    }
}

static int cmp_open(const void *a, const void *b)
{
    const qt_quote_t *x = a, *y = b;
    return (x->open > y->open) - (x->open < y->open);
}

void qt_pair_marks(qt_doc_t *d)
{
    int any_single = 0;
    size_t nm = d->n_marks, ma = 0;
    while (ma < nm) {
        uint32_t para = d->tok[d->marks[ma]].para;
        size_t mb = ma;
        while (mb < nm && d->tok[d->marks[mb]].para == para)
            mb++;
        size_t before = d->n_q;
        pair_double(d, ma, mb);
        if (d->cfg->single_quotes) {
            pair_single(d, ma, mb);
            if (d->n_q > before)
                any_single = 1;
        }
        ma = mb;
    }
    if (any_single) {
        /* single-level quotations were appended per paragraph: re-sort and
         * renumber the token back-references */
        if (d->n_q > 1)
            qt_sort(d->q, d->n_q, sizeof *d->q, cmp_open);
        for (size_t i = 0; i < d->n_q; i++) {
            const qt_quote_t *q = &d->q[i];
            int32_t stop = q->close >= 0 ? q->close : q->ce - 1;
            for (int32_t k = q->open; k <= stop; k++)
                d->tok[k].q = (int32_t)i;
        }
    }
    d->nquotes_marked = d->n_q;
}
