/*
 * lexicon.c - the word table (xxHash, open addressing, linear probing) and
 * the loaders for the three file formats the stage reads: VADER valences,
 * the emoji descriptions, and the project's own rule/name lists.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */

#include "lexicon.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <utf8proc.h>
/* (xxHash: lexicon.h includes its header-only build; sl_hash is inline there.) */


int sl_init(sl_lexicon_t *lx)
{
    memset(lx, 0, sizeof *lx);
    /* Small to start (a table per fuzz input, a test's few words); the
     * index and the entries grow four-fold, so the shipped lexicons
     * (~49,000 keys with the derived forms) take one rehash and two moves. */
    lx->cap = 1u << 14;
    lx->index = calloc(lx->cap, sizeof *lx->index);
    lx->ecap = 1u << 12;
    lx->bloom = calloc(SL_BLOOM_BITS / 64, sizeof *lx->bloom);
    lx->ents = malloc(lx->ecap * sizeof *lx->ents);
    lx->hashes = malloc(lx->ecap * sizeof *lx->hashes);
    lx->emoji_cap = 1u << 13;
    lx->emoji = calloc(lx->emoji_cap, sizeof *lx->emoji);
    lx->emoji_first = calloc(SL_EMOJI_FIRST_CPS / 64, sizeof *lx->emoji_first);
    lx->keys_cap = 1u << 16;
    lx->keys = malloc(lx->keys_cap);
    if (lx->index == NULL || lx->ents == NULL || lx->hashes == NULL || lx->bloom == NULL ||
        lx->emoji == NULL || lx->emoji_first == NULL || lx->keys == NULL) {
        sl_free(lx);
        return TM_ENOMEM;
    }
    lx->keys_len = 1; /* offset 0 = "no key" */
    lx->keys[0] = '\0';
    return TM_OK;
}

void *sl_alloc_table(size_t bytes)
{
    /* Tables read at random (the lexicon, the people model) go on a
     * transparent huge page where the system allows it: one TLB entry
     * instead of hundreds keeps lookups from waiting on page walks.  Only
     * from 1 MB (the 2 MB lexicon table): the people model's 0.4 MB block
     * measured no faster on a huge page, which would cost 1.6 MB unused. */
    const size_t huge = (size_t)2 << 20;
    if (bytes < ((size_t)1 << 20))
        return aligned_alloc(64, (bytes + 63) / 64 * 64);
    size_t rounded = (bytes + huge - 1) / huge * huge;
    void *p = aligned_alloc(huge, rounded);
#ifdef MADV_HUGEPAGE
    if (p != NULL)
        (void)madvise(p, rounded, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
    return p;
}

/* The phrase-pair filter: for every phrase (or phrase prefix) key, the
 * hashes of its first two space-separated words.  Left NULL on out of
 * memory (the scorer then tries every pair). */
static void sl__build_pairs(sl_lexicon_t *lx)
{
    free(lx->pairs);
    lx->pairs = calloc(SL_PAIR_BITS / 64, sizeof *lx->pairs);
    if (lx->pairs == NULL)
        return;
    for (size_t e = 0; e < lx->count; e++) {
        const sl_entry_t *en = &lx->ents[e];
        if (!(en->flags & (SL_PHRASE | SL_PHRASE_PREFIX)))
            continue;
        const char *k = lx->keys + en->key_off;
        size_t n = en->key_len, s1 = 0;
        while (s1 < n && k[s1] != ' ')
            s1++;
        if (s1 >= n)
            continue; /* one word: never equal to two joined words */
        size_t s2 = s1 + 1;
        while (s2 < n && k[s2] != ' ')
            s2++;
        size_t bit = sl_pair_bit(sl_hash(k, s1), sl_hash(k + s1 + 1, s2 - s1 - 1));
        lx->pairs[bit >> 6] |= 1ull << (bit & 63);
    }
}

/* The emoticon end-bytes filter (see sl_lexicon.ends); NULL on out of memory. */
static void sl__build_ends(sl_lexicon_t *lx)
{
    free(lx->ends);
    lx->ends = calloc(65536 / 64, sizeof *lx->ends);
    if (lx->ends == NULL)
        return;
    for (size_t e = 0; e < lx->count; e++) {
        const sl_entry_t *en = &lx->ents[e];
        if (!(en->flags & SL_VALENCE) || (en->flags & SL_DERIVED) || en->key_len == 0 ||
            en->key_len > SL_ENDS_MAXLEN)
            continue; /* (derived forms are a-z only: sl__bases and the suffixes) */
        const unsigned char *k = (const unsigned char *)lx->keys + en->key_off;
        int punct = 0;
        for (size_t i = 0; i < en->key_len; i++) {
            unsigned char c = k[i];
            if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                punct = 1;
        }
        if (!punct)
            continue;
        size_t bit = (size_t)k[0] << 8 | k[en->key_len - 1];
        lx->ends[bit >> 6] |= 1ull << (bit & 63);
    }
}

int sl_freeze(sl_lexicon_t *lx)
{
    free(lx->flat);
    lx->flat = NULL;
    sl__build_pairs(lx);
    sl__build_ends(lx);
    /* Load up to 0.6: half the memory of 0.5 for a lexicon of ~36,000 keys
     * (2 MB instead of 4 MB), probes still mostly within one cache line. */
    size_t cap = 64;
    while (cap * 3 < lx->count * 5)
        cap *= 2;
    sl_slot_t *t = sl_alloc_table(cap * sizeof *t);
    if (t == NULL)
        return TM_ENOMEM;
    memset(t, 0, cap * sizeof *t);
    for (size_t e = 0; e < lx->count; e++) {
        const sl_entry_t *en = &lx->ents[e];
        uint64_t h = lx->hashes[e]; /* sl_hash of the key, kept by sl__insert */
        size_t i = (size_t)h & (cap - 1);
        while (t[i].e.key_len != 0)
            i = (i + 1) & (cap - 1);
        t[i].hash = h;
        t[i].e = *en;
    }
    lx->flat = t;
    lx->flat_mask = cap - 1;
    return TM_OK;
}

void sl_free(sl_lexicon_t *lx)
{
    free(lx->flat);
    free(lx->pairs);
    free(lx->ends);
    free(lx->index);
    free(lx->ents);
    free(lx->hashes);
    free(lx->bloom);
    free(lx->keys);
    free(lx->emoji);
    free(lx->emoji_first);
    free(lx->ewords);
    memset(lx, 0, sizeof *lx);
}

/* Append bytes (NUL-terminated) to the key arena; returns the offset or 0. */
static uint32_t sl__intern(sl_lexicon_t *lx, const char *s, size_t len)
{
    if (lx->keys_len + len + 1 > lx->keys_cap) {
        size_t nc = lx->keys_cap * 2;
        while (nc < lx->keys_len + len + 1)
            nc *= 2;
        if (nc > UINT32_MAX)
            return 0;
        char *nk = realloc(lx->keys, nc);
        if (nk == NULL)
            return 0;
        lx->keys = nk;
        lx->keys_cap = nc;
    }
    uint32_t off = (uint32_t)lx->keys_len;
    memcpy(lx->keys + off, s, len);
    lx->keys[off + len] = '\0';
    lx->keys_len += len + 1;
    return off;
}

const sl_entry_t *sl__get_loading(const sl_lexicon_t *lx, uint64_t h, const char *key, size_t len)
{
    size_t mask = lx->cap - 1;
    uint64_t tag = h >> 32;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t v = lx->index[i];
        if (v == 0)
            return NULL;
        if ((v >> 32) == tag) {
            const sl_entry_t *e = &lx->ents[(v & 0xFFFFFFFFu) - 1];
            if (e->key_len == len && memcmp(lx->keys + e->key_off, key, len) == 0)
                return e;
        }
    }
}

const sl_entry_t *sl_get(const sl_lexicon_t *lx, const char *key, size_t len)
{
    if (len == 0 || len > UINT16_MAX)
        return NULL;
    return sl_get_hashed(lx, sl_hash(key, len), key, len);
}

static void sl__place(uint64_t *index, size_t cap, uint64_t h, size_t entry)
{
    size_t mask = cap - 1, i = (size_t)h & mask;
    while (index[i] != 0)
        i = (i + 1) & mask;
    index[i] = ((h >> 32) << 32) | (uint64_t)(entry + 1);
}

static int sl__grow(sl_lexicon_t *lx)
{
    size_t nc = lx->cap * 4;
    uint64_t *ni = calloc(nc, sizeof *ni);
    if (ni == NULL)
        return TM_ENOMEM;
    for (size_t e = 0; e < lx->count; e++)
        sl__place(ni, nc, lx->hashes[e], e);
    free(lx->index);
    lx->index = ni;
    lx->cap = nc;
    return TM_OK;
}

/* Insert a key that is not in the table (h: its sl_hash); the new entry,
 * zeroed but for its key, or NULL on out of memory. */
/* The table changes again: back to the loading index (sl_get reads the
 * entries themselves, which the caller may change), and the filters
 * sl_freeze built are dropped (a new phrase may start with any pair). */
static void sl__thaw(sl_lexicon_t *lx)
{
    if (lx->flat != NULL) {
        free(lx->flat);
        lx->flat = NULL;
    }
    if (lx->pairs != NULL) {
        free(lx->pairs);
        lx->pairs = NULL;
    }
    if (lx->ends != NULL) {
        free(lx->ends);
        lx->ends = NULL;
    }
}

static sl_entry_t *sl__insert(sl_lexicon_t *lx, uint64_t h, const char *key, size_t len)
{
    sl__thaw(lx);
    if (lx->count >= UINT32_MAX - 1)
        return NULL;
    if ((lx->count + 1) * 4 > lx->cap * 3 && sl__grow(lx) != TM_OK)
        return NULL;
    if (lx->count == lx->ecap) {
        size_t nc = lx->ecap * 4;
        sl_entry_t *ne = realloc(lx->ents, nc * sizeof *ne);
        if (ne == NULL)
            return NULL;
        lx->ents = ne;
        uint64_t *nh = realloc(lx->hashes, nc * sizeof *nh);
        if (nh == NULL)
            return NULL;
        lx->hashes = nh;
        lx->ecap = nc;
    }
    uint32_t off = sl__intern(lx, key, len);
    if (off == 0)
        return NULL;
    sl_entry_t *e = &lx->ents[lx->count];
    memset(e, 0, sizeof *e);
    e->key_off = off;
    e->key_len = (uint16_t)len;
    lx->hashes[lx->count] = h;
    sl__place(lx->index, lx->cap, h, lx->count);
    size_t bit = sl_bloom_bit(h);
    lx->bloom[bit >> 6] |= 1ull << (bit & 63);
    lx->count++;
    return e;
}

sl_entry_t *sl_put(sl_lexicon_t *lx, const char *key, size_t len)
{
    if (len == 0 || len > UINT16_MAX)
        return NULL;
    sl__thaw(lx); /* (before the look-up: a key found is changed by the caller) */
    uint64_t h = sl_hash(key, len);
    const sl_entry_t *found = sl_get_hashed(lx, h, key, len);
    if (found != NULL)
        return (sl_entry_t *)found;
    return sl__insert(lx, h, key, len);
}

/* ---- file reading ------------------------------------------------------ */

/* The whole file is read at open (one buffer, no per-line getline and
 * copy); sl__next hands out its lines in place, NUL-terminated.  A read
 * error leaves the stream's error flag set for the callers' ferror test,
 * after the lines read before it. */
typedef struct sl_reader {
    FILE *f;
    const char *path;
    char *line;
    char *buf;        /* the file's bytes, plus one for a NUL */
    size_t len, pos;  /* bytes in buf; start of the next line */
    long lineno;
} sl_reader_t;

static int sl__open(sl_reader_t *r, const char *path, tm_err_t *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->f = fopen(path, "rb");
    if (r->f == NULL)
        return tm_err_set(err, TM_EIO, "lexicon_unreadable", "sentiment: cannot open %s: %s", path,
                          strerror(errno));
    /* A regular file: its size (plus the NUL and one byte to see the end);
     * else (a pipe) grown as it comes. */
    size_t cap = 0, first = (size_t)1 << 17;
    struct stat sb;
    if (fstat(fileno(r->f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 0 &&
        (unsigned long long)sb.st_size < (unsigned long long)SIZE_MAX / 4)
        first = (size_t)sb.st_size + 2;
    for (;;) {
        if (cap - r->len < 2 || (cap > first && cap - r->len < 65536 + 1)) {
            size_t nc = cap ? cap * 2 : first;
            char *nb = realloc(r->buf, nc);
            if (nb == NULL) {
                fclose(r->f);
                free(r->buf);
                r->f = NULL;
                r->buf = NULL;
                return tm_err_set(err, TM_ENOMEM, "out_of_memory",
                                  "sentiment: out of memory loading %s", path);
            }
            r->buf = nb;
            cap = nc;
        }
        size_t got = fread(r->buf + r->len, 1, cap - r->len - 1, r->f);
        r->len += got;
        if (got == 0 || feof(r->f) || ferror(r->f))
            break;
    }
    r->buf[r->len] = '\0';
    return TM_OK;
}

static void sl__close(sl_reader_t *r)
{
    if (r->f != NULL)
        fclose(r->f);
    free(r->buf);
    r->f = NULL;
    r->buf = NULL;
    r->line = NULL;
}

/* Next line without its line end (and trailing CRs), NUL-terminated in
 * place; -1 at the end.  A UTF-8 byte order mark before the first line is
 * skipped. */
static ssize_t sl__next(sl_reader_t *r)
{
    if (r->pos >= r->len)
        return -1;
    char *a = r->buf + r->pos;
    char *nl = memchr(a, '\n', r->len - r->pos);
    size_t n = nl != NULL ? (size_t)(nl - a) : r->len - r->pos;
    r->pos += n + (nl != NULL);
    a[n] = '\0'; /* the '\n', or the byte past the buffer's end */
    r->lineno++;
    while (n > 0 && a[n - 1] == '\r')
        a[--n] = '\0';
    if (r->lineno == 1 && n >= 3 && memcmp(a, "\xef\xbb\xbf", 3) == 0) {
        a += 3;
        n -= 3;
    }
    r->line = a;
    return (ssize_t)n;
}

static int sl__bad(sl_reader_t *r, tm_err_t *err, const char *what)
{
    return tm_err_set(err, TM_EINVAL, "lexicon_invalid", "sentiment: %s:%ld: %s", r->path,
                      r->lineno, what);
}

static int sl__valid_utf8(const char *s, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII (what utf8proc_iterate accepts, one byte each): eight
         * bytes at a time while none has its high bit set. */
        uint64_t w;
        if (i + 8 <= len && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0)) {
            i += 8;
            continue;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0 || cp < 0)
            return 0;
        i += (size_t)n;
    }
    return 1;
}

/* Parse a finite number filling the whole field. */
static int sl__number(const char *s, double *out)
{
    if (*s == '\0')
        return 0;
    /* The lexicons' plain decimals ("-1.5", "2"): at most 15 digits, so the
     * digits are an exact integer m < 2^53 and 10^k (k <= 15) an exact double,
     * and m / 10^k, one correctly rounded division, is the double strtod
     * gives (Clinger's fast path).  Anything else goes to strtod. */
    static const double p10[16] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    {
        const char *p = s;
        int neg = *p == '-';
        p += neg;
        uint64_t m = 0;
        int digits = 0, frac = 0, ok = *p >= '0' && *p <= '9';
        while (*p >= '0' && *p <= '9') {
            m = m * 10 + (uint64_t)(*p++ - '0');
            digits++;
        }
        if (ok && *p == '.') {
            p++;
            ok = *p >= '0' && *p <= '9';
            while (*p >= '0' && *p <= '9') {
                m = m * 10 + (uint64_t)(*p++ - '0');
                digits++;
                frac++;
            }
        }
        if (ok && *p == '\0' && digits <= 15) {
            double v = (double)m / p10[frac];
            *out = neg ? -v : v;
            return 1;
        }
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Lower-case ASCII copy, collapsing runs of spaces; returns words. */
static int sl__norm_phrase(const char *in, size_t len, char *out, size_t *outlen)
{
    size_t o = 0;
    int words = 0, in_word = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || c == '\t') {
            in_word = 0;
            continue;
        }
        if (!in_word) {
            if (o > 0)
                out[o++] = ' ';
            words++;
            in_word = 1;
        }
        out[o++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    out[o] = '\0';
    *outlen = o;
    return words;
}

/* Mark the first word of a phrase so the scorer knows to try phrases there. */
static int sl__mark_phrase_start(sl_lexicon_t *lx, const char *phrase, size_t len, int words)
{
    const char *sp = memchr(phrase, ' ', len);
    if (sp == NULL)
        return TM_OK;
    sl_entry_t *first = sl_put(lx, phrase, (size_t)(sp - phrase));
    if (first == NULL)
        return TM_ENOMEM;
    first->flags |= SL_PHRASE_START;
    const char *sp2 = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - phrase));
    if (sp2 != NULL) {
        sl_entry_t *two = sl_put(lx, phrase, (size_t)(sp2 - phrase));
        if (two == NULL)
            return TM_ENOMEM;
        two->flags |= SL_PHRASE_PREFIX;
    }
    if (words > lx->max_phrase_words)
        lx->max_phrase_words = words;
    return TM_OK;
}

static int sl__load_valences(sl_lexicon_t *lx, const char *path, int learned, tm_err_t *err)
{
    sl_reader_t r;
    int rc = sl__open(&r, path, err);
    if (rc != TM_OK)
        return rc;
    ssize_t n;
    long entries = 0;
    char buf[512];
    while ((n = sl__next(&r)) >= 0) {
        if (n == 0 || (n >= 2 && r.line[0] == '#' && r.line[1] == ' '))
            continue; /* blank, or a "# comment" (no token starts with "# ") */
        if (!sl__valid_utf8(r.line, (size_t)n)) {
            rc = sl__bad(&r, err, "not valid UTF-8");
            goto out;
        }
        char *tab = strchr(r.line, '\t');
        if (tab == NULL) {
            rc = sl__bad(&r, err, "expected TOKEN<TAB>VALENCE (no tab found)");
            goto out;
        }
        *tab = '\0';
        char *val = tab + 1;
        char *tab2 = strchr(val, '\t');
        if (tab2 != NULL)
            *tab2 = '\0';
        size_t klen = (size_t)(tab - r.line);
        if (klen == 0 || klen >= sizeof buf / 2) {
            rc = sl__bad(&r, err, klen == 0 ? "empty token" : "token longer than 255 bytes");
            goto out;
        }
        double v;
        if (!sl__number(val, &v)) {
            char msg[160];
            snprintf(msg, sizeof msg, "valence \"%.40s\" of \"%.40s\" is not a finite number", val,
                     r.line);
            rc = sl__bad(&r, err, msg);
            goto out;
        }
        if (v < -4.0 || v > 4.0) {
            char msg[160];
            snprintf(msg, sizeof msg, "valence %g of \"%.40s\" is outside VADER's -4..4 scale", v,
                     r.line);
            rc = sl__bad(&r, err, msg);
            goto out;
        }
        const char *key = r.line;
        size_t len = klen;
        int words = 1;
        if (memchr(r.line, ' ', klen) != NULL) {
            words = sl__norm_phrase(r.line, klen, buf, &len);
            key = buf;
            if (words > 6) {
                rc = sl__bad(&r, err, "phrases may have at most 6 words");
                goto out;
            }
        }
        sl_entry_t *e = sl_put(lx, key, len);
        if (e == NULL) {
            rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory loading %s",
                            path);
            goto out;
        }
        if (learned) {
            if (words == 1) {
                e->flags |= SL_LEARNED;
                e->learned = (float)v;
            }
        } else if (words > 1) {
            e->flags |= SL_PHRASE;
            e->phrase_kind = SL_PHRASE_VALENCE;
            e->phrase_words = (uint8_t)words;
            e->valence = (float)v;
            if (sl__mark_phrase_start(lx, key, len, words) != TM_OK) {
                rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory");
                goto out;
            }
        } else {
            e->flags |= SL_VALENCE;
            e->valence = (float)v;
        }
        entries++;
    }
    if (ferror(r.f)) {
        rc = tm_err_set(err, TM_EIO, "lexicon_unreadable", "sentiment: error reading %s", path);
        goto out;
    }
    if (entries == 0)
        rc = tm_err_set(err, TM_EINVAL, "lexicon_invalid", "sentiment: %s: no entries", path);
out:
    sl__close(&r);
    return rc;
}

int sl_load_valences(sl_lexicon_t *lx, const char *path, tm_err_t *err)
{
    return sl__load_valences(lx, path, 0, err);
}

int sl_load_learned(sl_lexicon_t *lx, const char *path, tm_err_t *err)
{
    return sl__load_valences(lx, path, 1, err);
}

/* Add form (base with its last `drop` bytes replaced by suffix) if unknown. */
static int sl__derive(sl_lexicon_t *lx, const char *base, size_t n, size_t drop, const char *suffix,
                      float v)
{
    char buf[80];
    size_t sl = strlen(suffix);
    if (n < drop || n - drop + sl >= sizeof buf)
        return TM_OK;
    memcpy(buf, base, n - drop);
    memcpy(buf + n - drop, suffix, sl);
    size_t len = n - drop + sl;
    uint64_t h = sl_hash(buf, len); /* hashed once for the test and the insert */
    if (sl_get_hashed(lx, h, buf, len) != NULL)
        return TM_OK;
    sl_entry_t *e = sl__insert(lx, h, buf, len);
    if (e == NULL)
        return TM_ENOMEM;
    e->flags = SL_VALENCE | SL_DERIVED;
    e->valence = v;
    return TM_OK;
}

/* A base word that derived forms are made from, copied out of the table:
 * inserting the derived forms moves entries and keys. */
typedef struct sl__base {
    uint32_t off;
    uint16_t len;
    float v;
} sl__base_t;

/* The lexicon's plain words, at least 4 ASCII lower-case letters with a
 * valence, that are not boosters or negations nor carry any of the flags in
 * skip; only positive ones, not starting with "un", when positive_not_un.
 * Returns a malloc'd array of *nb (the caller frees it), or NULL when out of
 * memory. */
static sl__base_t *sl__bases(const sl_lexicon_t *lx, unsigned skip, int positive_not_un, size_t *nb)
{
    sl__base_t *bl = malloc((lx->count + 1) * sizeof *bl);
    *nb = 0;
    if (bl == NULL)
        return NULL;
    for (size_t i = 0; i < lx->count; i++) {
        const sl_entry_t *e = &lx->ents[i];
        if (!(e->flags & SL_VALENCE) || (e->flags & (SL_BOOSTER | SL_NEGATION | skip)) ||
            e->key_len < 4 || (positive_not_un && e->valence <= 0))
            continue;
        const char *k = lx->keys + e->key_off;
        int alpha = 1;
        for (size_t j = 0; j < e->key_len; j++)
            alpha &= (k[j] >= 'a' && k[j] <= 'z');
        if (!alpha || (positive_not_un && k[0] == 'u' && k[1] == 'n'))
            continue;
        bl[*nb].off = e->key_off;
        bl[*nb].len = e->key_len;
        bl[*nb].v = e->valence;
        (*nb)++;
    }
    return bl;
}

int sl_derive_inflections(sl_lexicon_t *lx)
{
    /* Collect the base words first: inserting while walking the table
     * would move entries. */
    size_t nb = 0;
    int rc = TM_OK;
    sl__base_t *bl = sl__bases(lx, 0, 0, &nb);
    if (bl == NULL)
        return TM_ENOMEM;
    for (size_t b = 0; b < nb && rc == TM_OK; b++) {
        char k[80];
        size_t n = bl[b].len;
        if (n >= sizeof k)
            continue;
        memcpy(k, lx->keys + bl[b].off, n); /* the arena may move on insert */
        float v = bl[b].v;
        char last = k[n - 1], prev = k[n - 2];
        int vowel_y = prev == 'a' || prev == 'e' || prev == 'o' || prev == 'u';
        if (last == 'y' && !vowel_y) {
            rc |= sl__derive(lx, k, n, 1, "ies", v);
            rc |= sl__derive(lx, k, n, 1, "ied", v);
            rc |= sl__derive(lx, k, n, 1, "ily", v);
        } else if (last == 'e') {
            rc |= sl__derive(lx, k, n, 0, "s", v);
            rc |= sl__derive(lx, k, n, 0, "d", v);
            rc |= sl__derive(lx, k, n, 1, "ing", v);
            if (prev == 'l')
                rc |= sl__derive(lx, k, n, 1, "y", v); /* sensible -> sensibly */
            else
                rc |= sl__derive(lx, k, n, 0, "ly", v);
        } else if (last == 's' || last == 'x' || last == 'z' || (last == 'h' && (prev == 'c' || prev == 's'))) {
            rc |= sl__derive(lx, k, n, 0, "es", v);
            rc |= sl__derive(lx, k, n, 0, "ed", v);
            rc |= sl__derive(lx, k, n, 0, "ing", v);
            rc |= sl__derive(lx, k, n, 0, "ly", v);
        } else {
            rc |= sl__derive(lx, k, n, 0, "s", v);
            rc |= sl__derive(lx, k, n, 0, "ed", v);
            rc |= sl__derive(lx, k, n, 0, "ing", v);
            if (n > 4 && last == 'c')
                rc |= sl__derive(lx, k, n, 0, "ally", v);
            else
                rc |= sl__derive(lx, k, n, 0, "ly", v);
        }
    }
    free(bl);
    return rc == TM_OK ? TM_OK : TM_ENOMEM;
}

int sl_derive_un(sl_lexicon_t *lx, double scalar)
{
    if (scalar == 0)
        return TM_OK;
    size_t nb = 0;
    int rc = TM_OK;
    sl__base_t *bl = sl__bases(lx, SL_PHRASE, 1, &nb);
    if (bl == NULL)
        return TM_ENOMEM;
    for (size_t b = 0; b < nb && rc == TM_OK; b++) {
        char k[80];
        size_t n = bl[b].len;
        if (n + 2 >= sizeof k)
            continue;
        k[0] = 'u';
        k[1] = 'n';
        memcpy(k + 2, lx->keys + bl[b].off, n);
        rc |= sl__derive(lx, k, n + 2, 0, "", (float)(bl[b].v * scalar));
    }
    free(bl);
    return rc == TM_OK ? TM_OK : TM_ENOMEM;
}

static int sl__emoji_grow(sl_lexicon_t *lx)
{
    size_t nc = lx->emoji_cap * 2;
    sl_emoji_t *ns = calloc(nc, sizeof *ns);
    if (ns == NULL)
        return TM_ENOMEM;
    for (size_t i = 0; i < lx->emoji_cap; i++) {
        if (lx->emoji[i].key_off == 0)
            continue;
        size_t j = (size_t)lx->emoji[i].hash & (nc - 1);
        while (ns[j].key_off != 0)
            j = (j + 1) & (nc - 1);
        ns[j] = lx->emoji[i];
    }
    free(lx->emoji);
    lx->emoji = ns;
    lx->emoji_cap = nc;
    return TM_OK;
}

static const sl_emoji_t *sl__emoji_get(const sl_lexicon_t *lx, const char *s, size_t len)
{
    uint64_t h = sl_hash(s, len);
    size_t mask = lx->emoji_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const sl_emoji_t *e = &lx->emoji[i];
        if (e->key_off == 0)
            return NULL;
        if (e->hash == h && e->key_len == len && memcmp(lx->keys + e->key_off, s, len) == 0)
            return e;
    }
}

/* Note the first code point of an emoji key (valid UTF-8, not empty: see
 * sl_emoji_never_starts). */
static void sl__emoji_first_add(sl_lexicon_t *lx, const char *key, size_t len)
{
    utf8proc_int32_t cp = -1;
    utf8proc_iterate((const utf8proc_uint8_t *)key, (utf8proc_ssize_t)len, &cp);
    if (cp >= 0 && cp < SL_EMOJI_FIRST_CPS)
        lx->emoji_first[(size_t)cp >> 6] |= 1ull << (cp & 63);
    else
        lx->emoji_first_other = 1; /* (not in the bitmap: never filtered out) */
}

const sl_emoji_t *sl_emoji_match(const sl_lexicon_t *lx, const char *s, size_t len, size_t *used)
{
    if (lx->emoji_count == 0)
        return NULL;
    size_t max = len < lx->emoji_max_bytes ? len : lx->emoji_max_bytes;
    /* Try candidate lengths at code point boundaries, longest first. */
    for (size_t n = max; n > 0; n--) {
        if (n < len && ((unsigned char)s[n] & 0xC0) == 0x80)
            continue; /* not a boundary */
        const sl_emoji_t *e = sl__emoji_get(lx, s, n);
        if (e != NULL) {
            *used = n;
            return e;
        }
    }
    return NULL;
}

int sl_load_emoji(sl_lexicon_t *lx, const char *path, tm_err_t *err)
{
    sl_reader_t r;
    int rc = sl__open(&r, path, err);
    if (rc != TM_OK)
        return rc;
    ssize_t n;
    char buf[1024];
    while ((n = sl__next(&r)) >= 0) {
        if (n == 0)
            continue;
        if (!sl__valid_utf8(r.line, (size_t)n)) {
            rc = sl__bad(&r, err, "not valid UTF-8");
            goto out;
        }
        char *tab = strchr(r.line, '\t');
        if (tab == NULL || tab == r.line || tab[1] == '\0') {
            rc = sl__bad(&r, err, "expected EMOJI<TAB>description");
            goto out;
        }
        size_t klen = (size_t)(tab - r.line);
        const char *desc = tab + 1;
        size_t dlen = strlen(desc);
        if (klen > 64 || dlen >= sizeof buf) {
            rc = sl__bad(&r, err, "emoji or description too long");
            goto out;
        }
        int non_ascii = 0;
        for (size_t i = 0; i < klen; i++)
            non_ascii |= (unsigned char)r.line[i] >= 0x80;
        if (!non_ascii) {
            rc = sl__bad(&r, err, "an emoji key must contain a non-ASCII character");
            goto out;
        }
        if ((lx->emoji_count + 1) * 2 > lx->emoji_cap && sl__emoji_grow(lx) != TM_OK)
            goto oom;
        if (sl__emoji_get(lx, r.line, klen) != NULL)
            continue; /* first definition wins */
        size_t dnorm_len;
        int words = sl__norm_phrase(desc, dlen, buf, &dnorm_len);
        if (words == 0 || words > 32) {
            rc = sl__bad(&r, err, "a description needs 1 to 32 words");
            goto out;
        }
        uint32_t koff = sl__intern(lx, r.line, klen);
        uint32_t doff = sl__intern(lx, buf, dnorm_len);
        if (koff == 0 || doff == 0)
            goto oom;
        if (lx->ewords_len + 2 * (size_t)words > lx->ewords_cap) {
            size_t nc = lx->ewords_cap ? lx->ewords_cap * 2 : 4096;
            while (nc < lx->ewords_len + 2 * (size_t)words)
                nc *= 2;
            uint32_t *nw = realloc(lx->ewords, nc * sizeof *nw);
            if (nw == NULL)
                goto oom;
            lx->ewords = nw;
            lx->ewords_cap = nc;
        }
        uint32_t words_off = (uint32_t)(lx->ewords_len / 2);
        size_t p = 0;
        while (p < dnorm_len) {
            size_t q = p;
            while (q < dnorm_len && buf[q] != ' ')
                q++;
            lx->ewords[lx->ewords_len++] = doff + (uint32_t)p;
            lx->ewords[lx->ewords_len++] = (uint32_t)(q - p);
            p = q + 1;
        }
        sl__emoji_first_add(lx, r.line, klen);
        uint64_t h = sl_hash(r.line, klen);
        size_t mask = lx->emoji_cap - 1, i = (size_t)h & mask;
        while (lx->emoji[i].key_off != 0)
            i = (i + 1) & mask;
        sl_emoji_t *e = &lx->emoji[i];
        e->hash = h;
        e->key_off = koff;
        e->key_len = (uint16_t)klen;
        e->nwords = (uint16_t)words;
        e->words_off = words_off;
        lx->emoji_count++;
        if (klen > lx->emoji_max_bytes)
            lx->emoji_max_bytes = klen;
    }
    if (ferror(r.f))
        rc = tm_err_set(err, TM_EIO, "lexicon_unreadable", "sentiment: error reading %s", path);
out:
    sl__close(&r);
    return rc;
oom:
    sl__close(&r);
    return tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory loading %s", path);
}

/* Rule kinds of the rules/names files. */
static const struct {
    const char *kind;
    uint16_t flag;
    int value; /* 0 none, 1 required number, 2 optional gender */
} sl_kinds[] = {
    {"booster", SL_BOOSTER, 1},     {"negation", SL_NEGATION, 0}, {"contrast", SL_CONTRAST, 0},
    {"idiom", 0, 1},                {"neutral", 0, 0},            {"title", SL_TITLE, 2},
    {"not_name", SL_NOT_NAME, 0},   {"org", SL_ORG, 0},           {"pronoun", SL_PRONOUN, 2},
    {"speech", SL_SPEECH, 0},       {"function", SL_FUNCTION, 0}, {"name_link", SL_NAME_LINK, 0},
    {"lean", 0, 1},
};

static int sl__gender(const char *s)
{
    if (strcmp(s, "m") == 0)
        return SL_GENDER_MALE;
    if (strcmp(s, "f") == 0)
        return SL_GENDER_FEMALE;
    if (strcmp(s, "p") == 0)
        return SL_GENDER_PLURAL;
    if (strcmp(s, "-") == 0)
        return SL_GENDER_NONE;
    return -1;
}

int sl_load_rules(sl_lexicon_t *lx, const char *path, tm_err_t *err)
{
    sl_reader_t r;
    int rc = sl__open(&r, path, err);
    if (rc != TM_OK)
        return rc;
    ssize_t n;
    char buf[512], msg[200];
    while ((n = sl__next(&r)) >= 0) {
        char *s = r.line;
        while (*s == ' ')
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        if (!sl__valid_utf8(r.line, (size_t)n)) {
            rc = sl__bad(&r, err, "not valid UTF-8");
            goto out;
        }
        char *f[3] = {s, NULL, NULL};
        int nf = 1;
        for (char *p = s; *p != '\0' && nf < 4; p++) {
            if (*p == '\t') {
                *p = '\0';
                if (nf == 3) {
                    rc = sl__bad(&r, err, "too many tab-separated fields (at most 3)");
                    goto out;
                }
                f[nf++] = p + 1;
            }
        }
        int k = -1;
        for (size_t i = 0; i < sizeof sl_kinds / sizeof sl_kinds[0]; i++)
            if (strcmp(f[0], sl_kinds[i].kind) == 0)
                k = (int)i;
        if (k < 0) {
            snprintf(msg, sizeof msg,
                     "unknown kind \"%.40s\" (expected booster, negation, contrast, idiom, "
                     "neutral, title, not_name, org, pronoun, speech, function, name_link or lean)",
                     f[0]);
            rc = sl__bad(&r, err, msg);
            goto out;
        }
        if (nf < 2 || f[1][0] == '\0') {
            rc = sl__bad(&r, err, "missing the word or phrase (KIND<TAB>WORD[<TAB>VALUE])");
            goto out;
        }
        size_t plen;
        if (strlen(f[1]) >= sizeof buf / 2) {
            rc = sl__bad(&r, err, "word or phrase longer than 255 bytes");
            goto out;
        }
        int words = sl__norm_phrase(f[1], strlen(f[1]), buf, &plen);
        if (words == 0 || words > 6) {
            rc = sl__bad(&r, err, "a phrase needs 1 to 6 words");
            goto out;
        }
        double v = 0;
        int gender = SL_GENDER_NONE;
        if (sl_kinds[k].value == 1) {
            if (nf < 3 || !sl__number(f[2], &v) || v < -4.0 || v > 4.0) {
                snprintf(msg, sizeof msg, "%s \"%.60s\" needs a number between -4 and 4 as its "
                         "third field", f[0], f[1]);
                rc = sl__bad(&r, err, msg);
                goto out;
            }
        } else if (sl_kinds[k].value == 2) {
            if (nf == 3 && (gender = sl__gender(f[2])) < 0) {
                snprintf(msg, sizeof msg, "gender \"%.20s\" must be m, f, p or -", f[2]);
                rc = sl__bad(&r, err, msg);
                goto out;
            }
        } else if (nf == 3) {
            snprintf(msg, sizeof msg, "%s takes no value (got \"%.40s\")", f[0], f[2]);
            rc = sl__bad(&r, err, msg);
            goto out;
        }
        int is_lean = strcmp(f[0], "lean") == 0;
        if (is_lean && (words != 1 || v < -1.27 || v > 1.27)) {
            snprintf(msg, sizeof msg, "lean \"%.60s\" must be one word with a value between "
                     "-1.27 and 1.27", f[1]);
            rc = sl__bad(&r, err, msg);
            goto out;
        }
        sl_entry_t *e = sl_put(lx, buf, plen);
        if (e == NULL) {
            rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory loading %s",
                            path);
            goto out;
        }
        if (is_lean) {
            e->lean = (int8_t)lround(v * 100.0);
            continue;
        }
        int is_idiom = strcmp(f[0], "idiom") == 0, is_neutral = strcmp(f[0], "neutral") == 0;
        if (words > 1 || is_idiom || is_neutral) {
            if (words == 1) {
                /* A one-word idiom is just a valence; "neutral" clears one. */
                if (is_idiom) {
                    e->flags |= SL_VALENCE;
                    e->valence = (float)v;
                } else if (is_neutral) {
                    e->flags &= (uint16_t)~SL_VALENCE;
                    e->valence = 0;
                } else {
                    e->flags |= sl_kinds[k].flag;
                }
                continue;
            }
            e->flags |= SL_PHRASE;
            e->phrase_words = (uint8_t)words;
            if (is_idiom) {
                e->phrase_kind = SL_PHRASE_VALENCE;
                e->valence = (float)v;
            } else if (is_neutral) {
                e->phrase_kind = SL_PHRASE_NEUTRAL;
            } else if (sl_kinds[k].flag == SL_BOOSTER) {
                e->phrase_kind = SL_PHRASE_BOOSTER;
                e->booster = (float)v;
            } else {
                /* Multi-word names of other kinds (titles like "prime minister",
                 * negations like "no longer") behave as their class. */
                e->flags |= sl_kinds[k].flag;
                e->phrase_kind = 0;
                e->gender = (uint8_t)gender;
            }
            if (sl__mark_phrase_start(lx, buf, plen, words) != TM_OK) {
                rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory");
                goto out;
            }
            continue;
        }
        e->flags |= sl_kinds[k].flag;
        if (sl_kinds[k].flag == SL_BOOSTER)
            e->booster = (float)v;
        if (sl_kinds[k].value == 2 && gender != SL_GENDER_NONE)
            e->gender = (uint8_t)gender;
    }
    if (ferror(r.f))
        rc = tm_err_set(err, TM_EIO, "lexicon_unreadable", "sentiment: error reading %s", path);
out:
    sl__close(&r);
    return rc;
}
