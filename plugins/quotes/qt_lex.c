/*
 * qt_lex.c - the lexicon: reporting verbs, cue phrases, titles, role nouns,
 * pronouns and function words, loaded from the data files into one
 * open-addressing hash table keyed by the lower-cased word (the word itself
 * up to eight bytes, its xxh3 hash beyond; qt_hash_lowered in qt.h),
 * plus a small table of multi-word phrases.
 *
 * Two line formats (blank lines and '#' comments are ignored):
 *
 *   QT_FILE_CUES     "lemma: form form ... @tag ..."   (cue_verbs.txt)
 *                    every form and the lemma become reporting-verb forms;
 *                    forms ending in -ing are participles; a form written
 *                    with a trailing '*' is also a common noun.
 *   QT_FILE_TAGGED   "word-or-phrase @tag @tag ..."     (all other files)
 *
 * Tags are listed in tag_table below; a word listed in several files gets
 * the union of its classes.  Words are matched case-insensitively (ASCII)
 * with typographic apostrophes folded to "'".
 */
#include "qt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct {
    const char *name;
    uint32_t cls;
    uint16_t extra;
} tag_t;

static const tag_t tag_table[] = {
    {"speech", LX_SPEECH, 0},      {"belief", LX_BELIEF, 0},
    {"invert", LX_INVERT, 0},      {"object", LX_OBJECT, 0},
    {"clause", LX_CLAUSE, 0},      {"frag", LX_FRAG, 0},
    {"np", LX_NPCONT, 0},
    {"cue", LX_CUE, 0},            {"title", LX_TITLE, 0},
    {"role", LX_ROLE, 0},          {"mod", LX_MOD, 0},
    {"pron", LX_PRON, 0},          {"det", LX_DET, 0},
    {"prep", LX_PREP, 0},          {"conj", LX_CONJ, 0},
    {"aux", LX_AUX, 0},            {"adv", LX_ADV, 0},
    {"wh", LX_WH, 0},              {"time", LX_TIME, 0},
    {"abbr", LX_ABBR, 0},          {"func", LX_FUNC, 0},
    {"particle", LX_PARTICLE, 0},  {"person", LX_PERSON, 0},
    {"neg", LX_NEG, 0},            {"that", LX_THAT, 0},
    {"plural", LX_PLURAL, LXX_PLURAL},  {"inf", LX_INF, 0},
    {"question", LX_QUESTION, 0},
    {"m", 0, LXX_MALE},            {"f", 0, LXX_FEMALE},
    {"pl", 0, LXX_PLURAL},         {"first", 0, LXX_FIRST},
    {"neuter", 0, LXX_NEUTER},     {"subj", 0, LXX_SUBJ},
    {"source_after", 0, LXX_SOURCE_AFTER},
    {"cue_phrase", LX_CUE, LXX_CUE_PHRASE},
    {"adjunct", 0, LXX_ADJUNCT},
};

/* qt_lex_classes' table while there is none (ph_ok 0): readable, empty. */
static const uint64_t pilot_none[2] = {0, 0};
static const qt_lexhot_t hot_none[2] = {{0, 0}, {0, 0}};

static void ph_reset(qt_lex_t *lx)
{
    if (lx->ph_ok) {
        free((void *)(uintptr_t)lx->pilot);
        free((void *)(uintptr_t)lx->hot);
    }
    lx->pilot = pilot_none;
    lx->hot = hot_none;
    lx->pbshift = 63;
    lx->phshift = 63;
    lx->ph_ok = 0;
}

void qt_lex_init(qt_lex_t *lx)
{
    memset(lx, 0, sizeof *lx);
    ph_reset(lx);
}

void qt_lex_free(qt_lex_t *lx)
{
    free(lx->tab);
    free(lx->phr);
    ph_reset(lx);
    memset(lx, 0, sizeof *lx);
    ph_reset(lx);
}

uint64_t qt_hash_word(const char *s, size_t n)
{
    char buf[QT_MAX_WORD];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (k >= sizeof buf)
            return 0; /* too long: matches nothing */
        if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0x99 || (unsigned char)s[i + 2] == 0x98)) {
            buf[k++] = '\'';
            i += 2;
            continue;
        }
        buf[k++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    return qt_hash_lowered(buf, k);
}

static int lex_rehash(qt_lex_t *lx, size_t newsize)
{
    qt_lexent_t *nt = calloc(newsize, sizeof *nt);
    if (nt == NULL)
        return -1;
    unsigned shift = 64;
    for (size_t k = newsize; k > 1; k >>= 1)
        shift--;
    for (size_t i = 0; lx->tab != NULL && i <= lx->mask; i++) {
        if (!lx->tab[i].used)
            continue;
        size_t j = (size_t)(qt_hmix(lx->tab[i].h) >> shift);
        while (nt[j].used)
            j = (j + 1) & (newsize - 1);
        nt[j] = lx->tab[i];
    }
    free(lx->tab);
    lx->tab = nt;
    lx->mask = newsize - 1;
    lx->shift = shift;
    return 0;
}

/* 1..8: the length of a word of up to eight bytes from its key (the word
 * itself); a longer word's key (a hash) counts as 8, as a rule. */
static unsigned key_len(uint64_t h)
{
    unsigned n = 1;
    while (n < 8 && (h >> (8 * n)) != 0)
        n++;
    return n;
}

uint64_t qt_lex_classes_walk(const qt_lex_t *lx, uint64_t h)
{
    const qt_lexent_t *f = qt_lex_get(lx, h);
    return f != NULL ? (uint64_t)f->cls | (uint64_t)f->extra << 32 : 0;
}

/* The pilot word of pilot number p (p = 0, 1, ...). */
static uint64_t ph_pilot(uint32_t p) { return (uint64_t)(p + 1u) * 0x9FB21C651E98DF25ull; }

/* qt_lex_classes' perfect hash of the n keys in ents (hash and displace,
 * as PTHash): keys grouped in buckets of about four by the top bits of
 * qt_hmix; the biggest buckets first, each takes the first pilot that sends
 * all its keys to free slots of hot (at most 8/9 full).  0 with the table
 * in lx (ph_ok), or without one when no layout was found in four sizes (it
 * takes a few pilots a bucket; ph_ok stays 0 and qt_lex_classes walks tab,
 * the same answers); -1 when out of memory (lx unchanged). */
static int ph_build(qt_lex_t *lx, const qt_lexent_t *ents, size_t n)
{
    if (n > ((size_t)1 << 28))
        return 0;
    size_t nb = 2, ns = 2;
    unsigned bbits = 1, sbits = 1;
    while (nb * 4 < n)
        nb *= 2, bbits++;
    while (ns < n + n / 8 + 1)
        ns *= 2, sbits++;
    for (int attempt = 0; attempt < 4; attempt++, ns *= 2, sbits++) {
        uint64_t *pilot = calloc(nb, sizeof *pilot);
        qt_lexhot_t *hot = calloc(ns, sizeof *hot);
        uint32_t *start = calloc(nb + 1, sizeof *start); /* keys of bucket b: by_b[start[b]..start[b + 1]) */
        uint32_t *by_b = malloc((n + 1) * sizeof *by_b);
        uint32_t *order = malloc(nb * sizeof *order);
        if (pilot == NULL || hot == NULL || start == NULL || by_b == NULL || order == NULL) {
            free(pilot), free(hot), free(start), free(by_b), free(order);
            return -1;
        }
        const unsigned bshift = 64 - bbits, sshift = 64 - sbits;
        for (size_t k = 0; k < n; k++)
            start[(qt_hmix(ents[k].h) >> bshift) + 1]++;
        for (size_t b = 0; b < nb; b++)
            start[b + 1] += start[b];
        {
            uint32_t *fill = malloc(nb * sizeof *fill);
            if (fill == NULL) {
                free(pilot), free(hot), free(start), free(by_b), free(order);
                return -1;
            }
            memcpy(fill, start, nb * sizeof *fill);
            for (size_t k = 0; k < n; k++)
                by_b[fill[qt_hmix(ents[k].h) >> bshift]++] = (uint32_t)k;
            free(fill);
        }
        /* buckets by size, biggest first (a stable pass per size) */
        size_t no = 0, maxsz = 0;
        for (size_t b = 0; b < nb; b++)
            if (start[b + 1] - start[b] > maxsz)
                maxsz = start[b + 1] - start[b];
        for (size_t sz = maxsz; sz > 0; sz--)
            for (size_t b = 0; b < nb; b++)
                if (start[b + 1] - start[b] == sz)
                    order[no++] = (uint32_t)b;
        int ok = maxsz <= 64;
        for (size_t oi = 0; ok && oi < no; oi++) {
            const size_t b = order[oi], k0 = start[b], k1 = start[b + 1];
            size_t slot[64];
            uint32_t p = 0;
            for (; p < (1u << 20); p++) {
                const uint64_t pw = ph_pilot(p);
                size_t k = k0;
                for (; k < k1; k++) {
                    const uint64_t m = qt_hmix(ents[by_b[k]].h);
                    const size_t j = (size_t)(((m ^ pw) * QT_PH_MUL) >> sshift);
                    if (hot[j].h != 0)
                        break;
                    size_t c = k0;
                    while (c < k && slot[c - k0] != j)
                        c++;
                    if (c < k)
                        break;
                    slot[k - k0] = j;
                }
                if (k == k1)
                    break;
            }
            if (p == (1u << 20)) {
                ok = 0;
                break;
            }
            pilot[b] = ph_pilot(p);
            for (size_t k = k0; k < k1; k++) {
                const qt_lexent_t *e = &ents[by_b[k]];
                hot[slot[k - k0]].h = e->h;
                hot[slot[k - k0]].v = (uint64_t)e->cls | (uint64_t)e->extra << 32;
            }
        }
        free(start), free(by_b), free(order);
        if (!ok) {
            free(pilot), free(hot);
            continue;
        }
        ph_reset(lx);
        lx->pilot = pilot;
        lx->hot = hot;
        lx->pbshift = bshift;
        lx->phshift = sshift;
        lx->ph_ok = 1;
        return 0;
    }
    return 0;
}

/* Re-inserts the entries shortest word first, so that the short words
 * (the function words and "said": most look-ups) sit in their home slots
 * and a look-up finds them with one compare.  The same entries in a table
 * of the same size, so the same answers. */
int qt_lex_pack(qt_lex_t *lx)
{
    if (lx->tab == NULL) /* no entries: an empty table, for qt_lex_classes */
        return lex_rehash(lx, 1024) != 0 ? -1 : ph_build(lx, NULL, 0);
    size_t size = lx->mask + 1, n = 0;
    qt_lexent_t *old = malloc(lx->count * sizeof *old);
    qt_lexent_t *nt = calloc(size, sizeof *nt);
    if (old == NULL || nt == NULL) {
        free(old);
        free(nt);
        return -1;
    }
    for (unsigned len = 1; len <= 8; len++)
        for (size_t i = 0; i < size; i++)
            if (lx->tab[i].used && key_len(lx->tab[i].h) == len)
                old[n++] = lx->tab[i];
    if (n != lx->count) { /* (cannot happen: every entry has a length 1..8) */
        free(old);
        free(nt);
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        size_t j = (size_t)(qt_hmix(old[k].h) >> lx->shift);
        while (nt[j].used)
            j = (j + 1) & lx->mask;
        nt[j] = old[k];
    }
    free(lx->tab);
    lx->tab = nt;
    /* qt_lex_classes' table (without one, the same answers by the walk) */
    const int rc = ph_build(lx, old, n);
    free(old);
    return rc;
}

static int lex_put(qt_lex_t *lx, uint64_t h, uint32_t cls, uint16_t extra)
{
    ph_reset(lx); /* (stale once the table changes: qt_lex_pack builds it again) */
    if (lx->tab == NULL || (lx->count + 1) * 2 > lx->mask + 1) {
        if (lex_rehash(lx, lx->tab == NULL ? 1024 : (lx->mask + 1) * 2) != 0)
            return -1;
    }
    size_t j = (size_t)(qt_hmix(h) >> lx->shift);
    while (lx->tab[j].used && lx->tab[j].h != h)
        j = (j + 1) & lx->mask;
    if (!lx->tab[j].used) {
        lx->tab[j].used = 1;
        lx->tab[j].h = h;
        lx->count++;
        uint32_t b = (uint32_t)(qt_hmix(h) >> (64 - QT_LEX_FILTER_BITS));
        lx->filter[b >> 6] |= 1ull << (b & 63);
    }
    lx->tab[j].cls |= cls;
    lx->tab[j].extra |= extra;
    return 0;
}

int qt_lex_add(qt_lex_t *lx, const char *word, size_t n, uint32_t cls, uint16_t extra)
{
    /* Split into words. */
    uint64_t hs[QT_MAX_PHRASE];
    size_t nw = 0, i = 0;
    while (i < n) {
        while (i < n && (word[i] == ' ' || word[i] == '\t'))
            i++;
        size_t st = i;
        while (i < n && word[i] != ' ' && word[i] != '\t')
            i++;
        if (i > st) {
            if (nw >= QT_MAX_PHRASE)
                return -2;
            hs[nw++] = qt_hash_word(word + st, i - st);
        }
    }
    if (nw == 0)
        return -3;
    if (nw == 1)
        return lex_put(lx, hs[0], cls, extra);
    if (lx->nphr == lx->capphr) {
        size_t nc = lx->capphr ? lx->capphr * 2 : 32;
        qt_phrase_t *np = realloc(lx->phr, nc * sizeof *np);
        if (np == NULL)
            return -1;
        lx->phr = np;
        lx->capphr = nc;
    }
    if (lx->nphr >= 254)
        return -4; /* token phrase index is 8 bits */
    qt_phrase_t *p = &lx->phr[lx->nphr++];
    memset(p, 0, sizeof *p);
    memcpy(p->h, hs, nw * sizeof hs[0]);
    p->n = (uint8_t)nw;
    p->cls = cls;
    p->extra = extra;
    if (lex_put(lx, hs[0], LX_PHRASE, 0) != 0)
        return -1;
    /* chain it to the phrases with the same first word, keeping file order */
    uint8_t self = (uint8_t)lx->nphr; /* 1 + its index */
    qt_lexent_t *le = (qt_lexent_t *)qt_lex_get(lx, hs[0]);
    if (le->phr == 0) {
        le->phr = self;
    } else {
        qt_phrase_t *q = &lx->phr[le->phr - 1];
        while (q->next)
            q = &lx->phr[q->next - 1];
        q->next = self;
    }
    return 0;
}

static int parse_tags(const char *s, uint32_t *cls, uint16_t *extra, char *msg, size_t msgsz)
{
    /* s points at a run of "@tag @tag"; anything else is an error. */
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (*s != '@') {
            snprintf(msg, msgsz, "expected a @tag, found \"%.20s\"", s);
            return -1;
        }
        s++;
        const char *st = s;
        while (*s && *s != ' ' && *s != '\t')
            s++;
        size_t len = (size_t)(s - st);
        size_t k;
        for (k = 0; k < sizeof tag_table / sizeof tag_table[0]; k++) {
            if (strlen(tag_table[k].name) == len && memcmp(tag_table[k].name, st, len) == 0) {
                *cls |= tag_table[k].cls;
                *extra |= tag_table[k].extra;
                break;
            }
        }
        if (k == sizeof tag_table / sizeof tag_table[0]) {
            snprintf(msg, msgsz, "unknown tag \"@%.*s\"", (int)(len > 30 ? 30 : len), st);
            return -1;
        }
    }
    return 0;
}

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

int qt_lex_line(qt_lex_t *lx, const char *line, int kind, char *msg, size_t msgsz)
{
    char buf[512];
    size_t n = strlen(line);
    if (n >= sizeof buf) {
        snprintf(msg, msgsz, "line longer than %zu bytes", sizeof buf - 1);
        return -1;
    }
    memcpy(buf, line, n + 1);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    char *hash = strchr(buf, '#');
    if (hash != NULL)
        *hash = '\0';
    /* words part ends at the first '@' */
    char *at = strchr(buf, '@');
    uint32_t cls = 0;
    uint16_t extra = 0;
    if (at != NULL) {
        if (parse_tags(at, &cls, &extra, msg, msgsz) != 0)
            return -1;
        *at = '\0';
    }
    char *w = buf;
    while (*w == ' ' || *w == '\t' || *w == '\r' || *w == '\n')
        w++;
    size_t wl = strlen(w);
    while (wl > 0 && (w[wl - 1] == ' ' || w[wl - 1] == '\t' || w[wl - 1] == '\r' || w[wl - 1] == '\n'))
        w[--wl] = '\0';
    if (wl == 0) {
        if (at != NULL) {
            snprintf(msg, msgsz, "tags without a word");
            return -1;
        }
        return 0; /* blank or comment */
    }
    if (kind == QT_FILE_CUES) {
        char *colon = strchr(w, ':');
        if (colon == NULL) {
            snprintf(msg, msgsz, "expected \"lemma: forms ... @tags\"");
            return -1;
        }
        *colon = '\0';
        cls |= LX_CUE;
        /* lemma */
        char *lem = w;
        size_t ll = strlen(lem);
        while (ll > 0 && (lem[ll - 1] == ' ' || lem[ll - 1] == '\t'))
            lem[--ll] = '\0';
        if (ll == 0 || strchr(lem, ' ') != NULL) {
            snprintf(msg, msgsz, "the lemma must be one word");
            return -1;
        }
        uint32_t lc = cls;
        if (lem[ll - 1] == '*') { /* also a common noun */
            lem[--ll] = '\0';
            lc |= LX_NOUNLIKE;
        }
        if (ll == 0 || qt_lex_add(lx, lem, ll, lc, extra) != 0)
            goto oom;
        char *p = colon + 1;
        while (*p) {
            while (*p == ' ' || *p == '\t')
                p++;
            char *st = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            size_t fl = (size_t)(p - st);
            if (fl == 0)
                break;
            uint32_t fc = cls;
            if (st[fl - 1] == '*') {
                fl--;
                fc |= LX_NOUNLIKE;
                if (fl == 0)
                    continue;
            }
            if (ends_with(st, fl, "ing"))
                fc |= LX_ING;
            if (qt_lex_add(lx, st, fl, fc, extra) != 0)
                goto oom;
        }
        return 0;
    }
    if (cls == 0 && extra == 0) {
        snprintf(msg, msgsz, "\"%.40s\" has no @tag", w);
        return -1;
    }
    int rc = qt_lex_add(lx, w, wl, cls, extra);
    if (rc == -2) {
        snprintf(msg, msgsz, "phrase \"%.40s\" has more than %d words", w, QT_MAX_PHRASE);
        return -1;
    }
    if (rc == -4) {
        snprintf(msg, msgsz, "too many multi-word phrases (at most 254)");
        return -1;
    }
    if (rc != 0)
        goto oom;
    return 0;
oom:
    snprintf(msg, msgsz, "out of memory");
    return -1;
}

int qt_lex_load(qt_lex_t *lx, const char *path, int kind, char *msg, size_t msgsz)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(msg, msgsz, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    char lm[300];
    int ln = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        ln++;
        size_t l = strlen(line);
        if (l == sizeof line - 1 && line[l - 1] != '\n') {
            snprintf(msg, msgsz, "%s:%d: line longer than %zu bytes", path, ln, sizeof line - 2);
            fclose(f);
            return -1;
        }
        if (qt_lex_line(lx, line, kind, lm, sizeof lm) != 0) {
            snprintf(msg, msgsz, "%s:%d: %s", path, ln, lm);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}
