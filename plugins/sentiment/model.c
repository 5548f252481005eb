/*
 * model.c - feature extraction and the linear people model (see model.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif


/* ---- weights file ------------------------------------------------------
 *   # comment
 *   format  textmill-people-lr  1
 *   dim     262144
 *   bias    B_NEG  B_NEU  B_POS
 *   w       INDEX  W_NEG  W_NEU  W_POS      (any number of lines)
 *   rows    INDEX  N1 N2 N3  [GAP  N1 N2 N3]...   (any number of lines)
 * "rows" is the compact form the training script writes: weights as integers
 * in units of 1e-4, the first row at INDEX, each further row GAP (>= 1)
 * indices after the previous one.  Fields are separated by tabs or spaces. */

void pm_free(pm_model_t *m)
{
    free(m->w);
    free(m->block); /* bits and rows */
    memset(m, 0, sizeof *m);
}

static void pm__flag_rows(pm_model_t *m);

static int pm__bad(tm_err_t *err, const char *path, long line, const char *what)
{
    return tm_err_set(err, TM_EINVAL, "model_invalid", "sentiment: %s:%ld: %s", path, line, what);
}

int pm_load(pm_model_t *m, const char *path, tm_err_t *err)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tm_err_set(err, TM_EIO, "model_unreadable", "sentiment: cannot open %s: %s", path,
                          strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long ln = 0;
    int rc = TM_OK, have_format = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        ln++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
            continue;
        char *save = NULL;
        char *kw = strtok_r(s, " \t\r\n", &save);
        if (kw == NULL)
            continue;
        if (strcmp(kw, "format") == 0) {
            char *name = strtok_r(NULL, " \t\r\n", &save), *ver = strtok_r(NULL, " \t\r\n", &save);
            if (name == NULL || ver == NULL || strcmp(name, "textmill-people-lr") != 0 ||
                strcmp(ver, "1") != 0) {
                rc = pm__bad(err, path, ln, "expected \"format textmill-people-lr 1\"");
                goto out;
            }
            have_format = 1;
        } else if (strcmp(kw, "dim") == 0) {
            char *v = strtok_r(NULL, " \t\r\n", &save), *end = NULL;
            unsigned long d = v != NULL ? strtoul(v, &end, 10) : 0;
            if (!have_format || m->w != NULL || v == NULL || *end != '\0' || d < 16 ||
                d > (1ul << 24) || (d & (d - 1)) != 0) {
                rc = pm__bad(err, path, ln,
                             "dim must follow format, once, and be a power of two in 16..2^24");
                goto out;
            }
            m->dim = (uint32_t)d;
            m->w = calloc((size_t)d * PM_CLASSES, sizeof *m->w);
            if (m->w == NULL) {
                rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory");
                goto out;
            }
        } else if (strcmp(kw, "bias") == 0 || strcmp(kw, "w") == 0) {
            int is_w = kw[0] == 'w';
            unsigned long idx = 0;
            if (m->w == NULL) {
                rc = pm__bad(err, path, ln, "weights before \"dim\"");
                goto out;
            }
            if (is_w) {
                char *v = strtok_r(NULL, " \t\r\n", &save), *end = NULL;
                idx = v != NULL ? strtoul(v, &end, 10) : 0;
                if (v == NULL || *end != '\0' || idx >= m->dim) {
                    rc = pm__bad(err, path, ln, "feature index missing or not below dim");
                    goto out;
                }
            }
            float vals[PM_CLASSES];
            for (int c = 0; c < PM_CLASSES; c++) {
                char *v = strtok_r(NULL, " \t\r\n", &save), *end = NULL;
                double x = v != NULL ? strtod(v, &end) : NAN;
                if (v == NULL || *end != '\0' || !isfinite(x) || fabs(x) > 1e4) {
                    rc = pm__bad(err, path, ln, "expected 3 finite weights (negative neutral positive)");
                    goto out;
                }
                vals[c] = (float)x;
            }
            if (strtok_r(NULL, " \t\r\n", &save) != NULL) {
                rc = pm__bad(err, path, ln, "too many fields");
                goto out;
            }
            float *dst = is_w ? m->w + idx * PM_CLASSES : m->bias;
            memcpy(dst, vals, sizeof vals);
        } else if (strcmp(kw, "rows") == 0) {
            if (m->w == NULL) {
                rc = pm__bad(err, path, ln, "weights before \"dim\"");
                goto out;
            }
            unsigned long idx = 0;
            int first = 1;
            char *v;
            while ((v = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
                char *end = NULL;
                unsigned long step = strtoul(v, &end, 10);
                if (*end != '\0' || v[0] == '-' || (!first && step == 0) || step >= m->dim ||
                    idx + step >= m->dim) {
                    rc = pm__bad(err, path, ln, "row index missing, not increasing or not below dim");
                    goto out;
                }
                idx += step;
                first = 0;
                for (int c = 0; c < PM_CLASSES; c++) {
                    char *q = strtok_r(NULL, " \t\r\n", &save);
                    long x = q != NULL ? strtol(q, &end, 10) : 0;
                    if (q == NULL || *end != '\0' || x < -100000000L || x > 100000000L) {
                        rc = pm__bad(err, path, ln,
                                     "expected 3 integer weights (units of 1e-4) after each row index");
                        goto out;
                    }
                    m->w[idx * PM_CLASSES + (size_t)c] = (float)((double)x * 1e-4);
                }
            }
            if (first) {
                rc = pm__bad(err, path, ln, "\"rows\" without a row");
                goto out;
            }
        } else {
            char msg[120];
            snprintf(msg, sizeof msg, "unknown keyword \"%.40s\" (expected format, dim, bias, w or rows)", kw);
            rc = pm__bad(err, path, ln, msg);
            goto out;
        }
    }
    if (m->w == NULL)
        rc = tm_err_set(err, TM_EINVAL, "model_invalid", "sentiment: %s: no \"format\"/\"dim\" header",
                        path);
    if (rc == TM_OK) {
        /* Compact the weights (see model.h). */
        size_t words = (m->dim + 63) / 64, nset = 0; /* dim may be below 64 */
        for (size_t i = 0; i < m->dim; i++) {
            const float *w = m->w + i * PM_CLASSES;
            nset += w[0] != 0 || w[1] != 0 || w[2] != 0;
        }
        /* One block, read at random: bitmap with ranks, rows. */
        size_t bp = words * sizeof *m->bits, bw = (nset + 2) * PM_CLASSES * sizeof *m->rows;
        m->block = sl_alloc_table(bp + bw);
        if (m->block != NULL) {
            memset(m->block, 0, bp);
            m->bits = (pm_bits_t *)m->block;
            m->rows = (int16_t *)((char *)m->block + bp);
            for (size_t i = 0; i < m->dim; i++) {
                const float *w = m->w + i * PM_CLASSES;
                if (w[0] != 0 || w[1] != 0 || w[2] != 0)
                    m->bits[i >> 6].set |= 1ull << (i & 63);
            }
        }
        /* 16-bit weights: a quarter of the cache footprint of floats, and
         * a step of max|w|/32767, far below what training can resolve. */
        float maxabs = 0;
        for (size_t i = 0; i < (size_t)m->dim * PM_CLASSES; i++)
            maxabs = fabsf(m->w[i]) > maxabs ? fabsf(m->w[i]) : maxabs;
        m->scale = maxabs > 0 ? maxabs / 32767.0f : 1.0f;
        if (m->bits == NULL || m->rows == NULL) {
            rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "sentiment: out of memory");
        } else {
            size_t r = 0;
            for (size_t wd = 0; wd < words; wd++) {
                m->bits[wd].rank = r;
                for (size_t b = 0; b < 64; b++) {
                    if (!(m->bits[wd].set & (1ull << b)))
                        continue;
                    const float *src = m->w + (wd * 64 + b) * PM_CLASSES;
                    for (int k = 0; k < PM_CLASSES; k++)
                        m->rows[r * PM_CLASSES + (size_t)k] = (int16_t)lrintf(src[k] / m->scale);
                    r++;
                }
            }
            m->nrows = nset;
            for (int k = 0; k < 2 * PM_CLASSES; k++) /* the zero row after the last, and padding (model.h) */
                m->rows[nset * PM_CLASSES + (size_t)k] = 0;
            free(m->w);
            m->w = NULL;
            pm__flag_rows(m);
        }
    }
out:
    free(line);
    fclose(f);
    if (rc != TM_OK)
        pm_free(m);
    else
        m->loaded = 1;
    return rc;
}

/* On x86-64 with GCC, a second copy built for CPUs with POPCNT (chosen once
 * at load time through an ifunc): one instruction instead of the SWAR dozen
 * per feature. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__POPCNT__) && \
    defined(__has_attribute)
#if __has_attribute(target_clones)
#define PM_CLONES __attribute__((target_clones("popcnt", "default")))
#define PM_POPCNT_CLONES 1
#endif
#endif
#ifndef PM_CLONES
#define PM_CLONES
#endif
/* Set bits of x.  Without -mpopcnt, __builtin_popcountll is a libgcc call;
 * this SWAR form is a dozen inline instructions. */
static inline unsigned pm__popcount(uint64_t x)
{
#if defined(__POPCNT__) || defined(PM_POPCNT_CLONES)
    return (unsigned)__builtin_popcountll(x); /* an instruction in the popcnt clone */
#else
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* ---- features ---------------------------------------------------------- */

enum {
    F_BIAS_UNUSED, F_S, F_L, F_R, F_L1, F_R1, F_L2, F_R2, F_LB, F_RB, F_NUM, F_BIN, F_KIND,
    F_TITLE, F_NEARL, F_NEARR, F_NPERS, F_POS, F_SPKQ, F_INQ, F_LEXW, F_BETWEEN, F_VERB,
};
_Static_assert(F_VERB < PM_FLAG_TMPLS, "model.h: PM_FLAG_TMPLS covers every template");

#define PM_CONTEXT 60 /* tokens of context on each side, at most */

typedef struct pm_ctx {
    pm_feats_t *out;
    uint32_t mask;
    int oom;
    /* out->model's tables and the running sums (locals while features are made) */
    const pm_model_t *model;
    int store;
    int fused; /* a constant in each copy of the builders: model set, store 0 */
    double a0, a1, a2;
    /* Sums of the features of value 1 made before any other (window and
     * sentence words): integer rows added as integers, exactly what the
     * double sums would hold (all partial sums are integers far below
     * 2^53), folded into a0..a2 by pm__fold before the first other value. */
    int64_t i0, i1, i2;
#ifdef __SSE2__
    /* The same sums' latest part, a 32-bit lane per class (a row is loaded
     * and sign-extended as one vector): folded into i0..i2 by pm__fold,
     * and by pm__sentence_features every PM_LANE_ADDS features, before a
     * lane could overflow (PM_LANE_ADDS * 32767 < 2^31). */
    __m128i iv;
#endif
#define PM_LANE_ADDS 65536
#define PM_LANE_RUN (PM_LANE_ADDS - 1) /* tokens per run of pm__sentence_features */
    const pm_bits_t *bits;
    const int16_t *rows;
    size_t zrow; /* the model's zero row (its nrows) */
    uint32_t dmask;
    uint32_t mdmask; /* mask & dmask: a feature's index into the model's space */
    const int32_t *flag_row; /* the model's flag_row (fused builders) */
} pm_ctx_t;

__attribute__((always_inline)) static inline void pm__add(pm_ctx_t *c, uint64_t h, float v)
{
    pm_feats_t *o = c->out;
    if (c->fused || c->model != NULL) {
        /* The feature's weight row (none for a feature never seen in
         * training), added as pm__accumulate adds it. */
        uint32_t idx = (uint32_t)h & c->mdmask;
        const pm_bits_t *pb = &c->bits[idx >> 6];
        uint64_t word = pb->set, bit = 1ull << (idx & 63);
        if (word & bit) {
            const int16_t *rw =
                c->rows + (pb->rank + (size_t)pm__popcount(word & (bit - 1))) * PM_CLASSES;
            double dv = v;
            c->a0 += dv * rw[0];
            c->a1 += dv * rw[1];
            c->a2 += dv * rw[2];
        }
        if (c->fused || !c->store)
            return;
    }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 256;
        pm_feat_t *nf = realloc(o->f, nc * sizeof *nf);
        if (nf == NULL) {
            c->oom = 1;
            return;
        }
        o->f = nf;
        o->cap = nc;
    }
    o->f[o->n].idx = (uint32_t)(h & c->mask);
    o->f[o->n].val = v;
    o->n++;
}

/* A feature of value 1 (fused builders: into the integer sums). */
__attribute__((always_inline)) static inline void pm__add1(pm_ctx_t *c, uint64_t h)
{
    if (!c->fused) {
        pm__add(c, h, 1.0f);
        return;
    }
    uint32_t idx = (uint32_t)h & c->mdmask;
    const pm_bits_t *pb = &c->bits[idx >> 6];
    uint64_t word = pb->set, bit = 1ull << (idx & 63);
#ifdef __SSE2__
    /* Without a branch: a feature never seen in training adds the zero row
     * (model.h), so a miss in the model costs no misprediction and the
     * loads of successive features overlap. */
    size_t hit = (size_t)0 - (size_t)((word >> (idx & 63)) & 1);
    size_t row = c->zrow ^ ((c->zrow ^ (pb->rank + (size_t)pm__popcount(word & (bit - 1)))) & hit);
    const int16_t *rw = c->rows + row * PM_CLASSES;
    /* Four int16 (the row and the next row's first weight, or padding after
     * the zero row: model.h), to 32 bits; lane 3 is not read. */
    __m128i r = _mm_loadl_epi64((const __m128i *)(const void *)rw);
    c->iv = _mm_add_epi32(c->iv, _mm_srai_epi32(_mm_unpacklo_epi16(r, r), 16));
#else
    if (word & bit) {
        const int16_t *rw = c->rows + (pb->rank + (size_t)pm__popcount(word & (bit - 1))) * PM_CLASSES;
        c->i0 += rw[0];
        c->i1 += rw[1];
        c->i2 += rw[2];
    }
#endif
}

/* The 32-bit lanes into i0..i2. */
__attribute__((always_inline)) static inline void pm__lanes(pm_ctx_t *c)
{
#ifdef __SSE2__
    c->i0 += _mm_cvtsi128_si32(c->iv);
    c->i1 += _mm_cvtsi128_si32(_mm_shuffle_epi32(c->iv, 1));
    c->i2 += _mm_cvtsi128_si32(_mm_shuffle_epi32(c->iv, 2));
    c->iv = _mm_setzero_si128();
#else
    (void)c;
#endif
}

/* The integer sums into a0..a2 (0 until then: the same doubles). */
__attribute__((always_inline)) static inline void pm__fold(pm_ctx_t *c)
{
    if (c->fused) {
        pm__lanes(c);
        c->a0 += (double)c->i0;
        c->a1 += (double)c->i1;
        c->a2 += (double)c->i2;
        c->i0 = c->i1 = c->i2 = 0;
    }
}

/* The sums made, into the output's acc. */
static inline void pm__done(pm_ctx_t *c)
{
    c->out->acc[0] = c->a0;
    c->out->acc[1] = c->a1;
    c->out->acc[2] = c->a2;
}

__attribute__((always_inline)) static inline uint64_t pm__seed(int tmpl) { return 0x9E3779B97F4A7C15ull * (uint64_t)(tmpl + 1); }

/* A 64-bit finaliser (MurmurHash3's fmix64): word hashes come from the
 * tokenizer (xxHash), features only mix them with the template. */
__attribute__((always_inline)) static inline uint64_t pm__mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

#define PM_PERSON_HASH 0x5045525330ull /* "<person>" */
#define PM_NUM_HASH 0x4E554D30ull      /* "<num>" */

/* The word hash a feature uses for token i. */
__attribute__((always_inline)) static inline uint64_t pm__word(const st_doc_t *d, const pp_doc_t *p, size_t i)
{
    const st_token_t *t = &d->tok[i];
    if (p->tok_person[i])
        return PM_PERSON_HASH;
    if ((t->flags & TK_DIGIT) && !(t->flags & TK_ALPHA))
        return PM_NUM_HASH;
    return t->hash;
}

__attribute__((always_inline)) static inline void pm__word_feat(pm_ctx_t *c, int tmpl, uint64_t wh, float v)
{
    pm__add(c, pm__mix(wh ^ pm__seed(tmpl)), v);
}

__attribute__((always_inline)) static inline void pm__word_feat1(pm_ctx_t *c, int tmpl, uint64_t wh)
{
    pm__add1(c, pm__mix(wh ^ pm__seed(tmpl)));
}

__attribute__((always_inline)) static inline void pm__pair_feat1(pm_ctx_t *c, int tmpl, uint64_t w1, uint64_t w2)
{
    pm__add1(c, pm__mix((w1 * 0x9E3779B97F4A7C15ull + w2) ^ pm__seed(tmpl)));
}

__attribute__((always_inline)) static inline void pm__pair_feat(pm_ctx_t *c, int tmpl, uint64_t w1, uint64_t w2, float v)
{
    pm__add(c, pm__mix((w1 * 0x9E3779B97F4A7C15ull + w2) ^ pm__seed(tmpl)), v);
}

__attribute__((always_inline)) static inline uint64_t pm__flag_hash(int tmpl, int value)
{
    return pm__mix(pm__seed(tmpl) ^ (0xD6E8FEB86659FD93ull * (uint64_t)(value + 7)));
}

__attribute__((always_inline)) static inline void pm__flag(pm_ctx_t *c, int tmpl, int value, float v)
{
    if (c->fused && value >= PM_FLAG_MIN && value < PM_FLAG_MIN + PM_FLAG_VALS) {
        /* The row found at load time: the same row pm__add would find, added
         * in the same order and arithmetic (the zero row for a flag without
         * weights). */
        size_t r = (size_t)c->flag_row[tmpl * PM_FLAG_VALS + (value - PM_FLAG_MIN)];
        if (!(__builtin_constant_p(v) && v == 1.0f) && r == c->zrow)
            return; /* (0 * v is not 0 for every v) */
        /* Value 1, no branch: adding 1 * 0 leaves a sum unchanged (a sum
         * that starts at +0 is never -0). */
        const int16_t *rw = c->rows + r * PM_CLASSES;
        double dv = v;
        c->a0 += dv * rw[0];
        c->a1 += dv * rw[1];
        c->a2 += dv * rw[2];
        return;
    }
    pm__add(c, pm__flag_hash(tmpl, value), v);
}

/* model->flag_row: the weight row of every (template, value) flag feature
 * for hashing space model->dim. */
static void pm__flag_rows(pm_model_t *m)
{
    uint32_t dmask = m->dim - 1;
    for (int t = 0; t < PM_FLAG_TMPLS; t++)
        for (int v = 0; v < PM_FLAG_VALS; v++) {
            uint32_t idx = (uint32_t)pm__flag_hash(t, v + PM_FLAG_MIN) & dmask;
            uint64_t word = m->bits[idx >> 6].set, bit = 1ull << (idx & 63);
            m->flag_row[t * PM_FLAG_VALS + v] =
                (word & bit) ? (int32_t)(m->bits[idx >> 6].rank + pm__popcount(word & (bit - 1)))
                             : (int32_t)m->nrows; /* the zero row */
        }
}

static int pm__bin(double x)
{
    if (x <= -0.5)
        return -2;
    if (x <= -0.05)
        return -1;
    if (x < 0.05)
        return 0;
    if (x < 0.5)
        return 1;
    return 2;
}

__attribute__((always_inline)) static inline int pm__sentence_features(const st_doc_t *d, const pp_doc_t *p, size_t sent,
                                                                     uint32_t dim, pm_feats_t *out,
                                                                     pm_sentinfo_t *info, const int fused)
{
    pm_ctx_t c = {.out = out, .mask = dim - 1, .model = out->model, .store = out->store, .fused = fused};
    if (c.model != NULL) {
        c.bits = c.model->bits;
        c.rows = c.model->rows;
        c.zrow = c.model->nrows;
        c.dmask = c.model->dim - 1;
        c.mdmask = c.mask & c.dmask;
    }
    out->n = 0;
    out->acc[0] = out->acc[1] = out->acc[2] = 0;
    info->qtok = 0;
    info->qsum = info->outsum = 0;
    info->sent = sent;
    info->nlex = PM_SENT_LEX + 1; /* (none listed: the features scan) */
    if (sent >= d->nsent)
        return 1;
    const st_sentence_t *se = &d->sent[sent];
    /* (locals, written to info at the end: the byte loads below may alias
     * info's fields, which would keep them in memory) */
    size_t nlex = 0, qtok = 0;
    double qsum = 0, outsum = 0;
    /* In runs of fewer than PM_LANE_ADDS tokens (a feature a token at
     * most), the lanes folded after each. */
    for (size_t r0 = se->tok_begin; r0 < se->tok_end; r0 += PM_LANE_RUN) {
        const size_t r1 = se->tok_end - r0 > PM_LANE_RUN ? r0 + PM_LANE_RUN : se->tok_end;
        for (size_t i = r0; i < r1; i++) {
            const st_token_t *t = &d->tok[i];
            double s = (t->flags & TK_LEARNED) ? 0.0 : t->score;
            if (s != 0) {
                if (nlex < PM_SENT_LEX)
                    info->lex[nlex] = (uint32_t)i;
                nlex++;
            }
            if (p->tok_quote[i]) {
                qtok++;
                qsum += s;
            } else {
                outsum += s;
            }
            if ((t->flags & TK_SKIP) && !p->tok_person[i])
                continue;
            pm__word_feat1(&c, F_S, pm__word(d, p, i));
        }
        pm__lanes(&c);
    }
    info->qtok = qtok;
    info->qsum = qsum;
    info->outsum = outsum;
    info->nlex = nlex;
    pm__fold(&c);
    pm__done(&c);
    return !c.oom;
}

__attribute__((always_inline)) static inline int pm__features(const st_doc_t *d, const pp_doc_t *p,
                                                            const sv_params_t *sp, size_t mi, uint32_t dim,
                                                            const pm_sentinfo_t *info, pm_feats_t *out,
                                                            const int fused)
{
    const pp_mention_t *m = &p->m[mi];
    pm_ctx_t c = {.out = out, .mask = dim - 1, .model = out->model, .store = out->store, .fused = fused};
    if (c.model != NULL) {
        c.bits = c.model->bits;
        c.rows = c.model->rows;
        c.zrow = c.model->nrows;
        c.dmask = c.model->dim - 1;
        c.mdmask = c.mask & c.dmask;
        c.flag_row = c.model->flag_row; /* (fused: the full hashing space, see pm_features) */
    }
    out->n = 0;
    out->acc[0] = out->acc[1] = out->acc[2] = 0;
    if (m->sent >= d->nsent)
        return 1;
    const st_sentence_t *se = &d->sent[m->sent];
    size_t sa = se->tok_begin, sb = se->tok_end;
    size_t tb = m->tok_begin, te = m->tok_end;
    if (tb < sa)
        tb = sa;
    if (te > sb)
        te = sb;
    if (te < tb)
        te = tb;
    /* Bound the context, so a sentence without end costs no more than a
     * long sentence does. */
    if (tb > sa + PM_CONTEXT)
        sa = tb - PM_CONTEXT;
    if (sb > te + PM_CONTEXT)
        sb = te + PM_CONTEXT;
    const int W = 6;

    /* Sentence words, and windows on each side with distance marks. */
    /* Sentence sums without the mention's own words. */
    double lexL = 0, lexR = 0;
    double lexS = se->lex_sum, lexPos = se->lex_pos, lexNeg = se->lex_neg;
    for (size_t i = tb; i < te; i++) {
        const st_token_t *t = &d->tok[i];
        double s = (t->flags & TK_LEARNED) ? 0.0 : t->score;
        lexS -= s;
        if (s > 0)
            lexPos -= s;
        else
            lexNeg -= s;
    }
    size_t wa = tb > sa + (size_t)W ? tb - (size_t)W : sa;
    /* Each window word's hash made once (the pairs reuse it; value-1
     * features go to integer sums, where order does not matter). */
    uint64_t w = wa < tb ? pm__word(d, p, wa) : 0;
    for (size_t i = wa; i < tb; i++) {
        const st_token_t *t = &d->tok[i];
        lexL += (t->flags & TK_LEARNED) ? 0.0 : t->score;
        pm__word_feat1(&c, F_L, w);
        if (tb - i == 1)
            pm__word_feat1(&c, F_L1, w);
        else if (tb - i == 2)
            pm__word_feat1(&c, F_L2, w);
        if (i + 1 < tb) {
            uint64_t wn = pm__word(d, p, i + 1);
            pm__pair_feat1(&c, F_LB, w, wn);
            w = wn;
        }
    }
    size_t wb = te + (size_t)W < sb ? te + (size_t)W : sb;
    w = te < wb ? pm__word(d, p, te) : 0;
    for (size_t i = te; i < wb; i++) {
        const st_token_t *t = &d->tok[i];
        lexR += (t->flags & TK_LEARNED) ? 0.0 : t->score;
        pm__word_feat1(&c, F_R, w);
        if (i == te)
            pm__word_feat1(&c, F_R1, w);
        else if (i == te + 1)
            pm__word_feat1(&c, F_R2, w);
        if (i + 1 < wb) {
            uint64_t wn = pm__word(d, p, i + 1);
            pm__pair_feat1(&c, F_RB, w, wn);
            w = wn;
        }
    }
    pm__fold(&c); /* the first value that is not 1 follows */
    /* Lexicon scores as real values (VADER scale / 4). */
    pm__flag(&c, F_NUM, 0, (float)(lexL / 4));
    pm__flag(&c, F_NUM, 1, (float)(lexR / 4));
    pm__flag(&c, F_NUM, 2, (float)(lexS / 4));
    pm__flag(&c, F_NUM, 3, (float)(lexPos / 4));
    pm__flag(&c, F_NUM, 4, (float)(lexNeg / 4));
    pm__flag(&c, F_NUM, 5, se->lex_compound);
    pm__flag(&c, F_BIN, pm__bin(se->lex_compound), 1.0f);
    pm__flag(&c, F_BIN, 10 + pm__bin(sv_normalize(lexL, sp->alpha)), 1.0f);
    pm__flag(&c, F_BIN, 20 + pm__bin(sv_normalize(lexR, sp->alpha)), 1.0f);

    /* Nearest sentiment word on each side: sign and distance (from the
     * sentence's list when it has one: the last listed token before tb, if
     * at sa or after, and the first at te or after, if before sb; the same
     * tokens the scans find). */
    size_t nearl = SIZE_MAX, nearr = SIZE_MAX;
    if (info->sent == m->sent && info->nlex <= PM_SENT_LEX) {
        size_t k = 0, n = info->nlex;
        while (k < n && info->lex[k] < tb)
            k++;
        if (k > 0 && info->lex[k - 1] >= sa)
            nearl = info->lex[k - 1];
        while (k < n && info->lex[k] < te)
            k++;
        if (k < n && info->lex[k] < sb)
            nearr = info->lex[k];
        if (nearl != SIZE_MAX) {
            double s = (d->tok[nearl].flags & TK_LEARNED) ? 0.0 : d->tok[nearl].score;
            size_t dist = tb - nearl;
            int db = dist <= 1 ? 0 : dist <= 3 ? 1 : dist <= 6 ? 2 : 3;
            pm__flag(&c, F_NEARL, (s > 0 ? 10 : 20) + db, 1.0f);
            pm__word_feat(&c, F_LEXW, pm__word(d, p, nearl), 1.0f);
        }
        if (nearr != SIZE_MAX) {
            double s = (d->tok[nearr].flags & TK_LEARNED) ? 0.0 : d->tok[nearr].score;
            size_t dist = nearr - te + 1;
            int db = dist <= 1 ? 0 : dist <= 3 ? 1 : dist <= 6 ? 2 : 3;
            pm__flag(&c, F_NEARR, (s > 0 ? 10 : 20) + db, 1.0f);
            pm__word_feat(&c, F_LEXW, pm__word(d, p, nearr), 0.5f);
        }
    } else {
    for (size_t i = tb; i > sa; i--) {
        double s = (d->tok[i - 1].flags & TK_LEARNED) ? 0.0 : d->tok[i - 1].score;
        if (s != 0) {
            size_t dist = tb - (i - 1);
            int db = dist <= 1 ? 0 : dist <= 3 ? 1 : dist <= 6 ? 2 : 3;
            pm__flag(&c, F_NEARL, (s > 0 ? 10 : 20) + db, 1.0f);
            pm__word_feat(&c, F_LEXW, pm__word(d, p, i - 1), 1.0f);
            break;
        }
    }
    for (size_t i = te; i < sb; i++) {
        double s = (d->tok[i].flags & TK_LEARNED) ? 0.0 : d->tok[i].score;
        if (s != 0) {
            size_t dist = i - te + 1;
            int db = dist <= 1 ? 0 : dist <= 3 ? 1 : dist <= 6 ? 2 : 3;
            pm__flag(&c, F_NEARR, (s > 0 ? 10 : 20) + db, 1.0f);
            pm__word_feat(&c, F_LEXW, pm__word(d, p, i), 0.5f);
            break;
        }
    }
    }

    /* The mention itself. */
    pm__flag(&c, F_KIND, m->kind, 1.0f);
    if (m->titled && tb < d->ntok)
        pm__word_feat(&c, F_TITLE, d->tok[tb].hash, 1.0f);
    if (te > tb && (d->tok[te - 1].flags & TK_POSS))
        pm__flag(&c, F_KIND, 10, 1.0f);
    if (m->kind == PP_PRONOUN && tb < d->ntok)
        pm__word_feat(&c, F_KIND, d->tok[tb].hash, 1.0f);

    /* Position and the other people in the sentence. */
    size_t npers = 0, before = 0;
    for (size_t k = mi; k > 0 && p->m[k - 1].sent == m->sent && before < 8; k--)
        before++;
    npers = before;
    for (size_t k = mi + 1; k < p->nm && p->m[k].sent == m->sent && npers < 8; k++)
        npers++;
    pm__flag(&c, F_NPERS, npers > 3 ? 3 : (int)npers, 1.0f);
    pm__flag(&c, F_NPERS, 10 + (before == 0 ? 0 : 1), 1.0f);
    size_t span = sb > sa ? sb - sa : 1;
    int pos = (int)(5 * (tb - sa) / span);
    pm__flag(&c, F_POS, pos > 4 ? 4 : pos, 1.0f);
    if (tb == sa)
        pm__flag(&c, F_POS, 10, 1.0f);

    /* Quotation context. */
    int inq = tb < d->ntok && p->tok_quote[tb];
    size_t qtok = info->qtok;
    double qsum = info->qsum, outsum = info->outsum;
    if (inq)
        pm__flag(&c, F_INQ, 1, 1.0f);
    if (qtok > 0) {
        pm__flag(&c, F_INQ, 2, 1.0f);
        pm__flag(&c, F_INQ, 10 + (inq ? 10 : 0) + pm__bin(sv_normalize(qsum, sp->alpha)), 1.0f);
        pm__flag(&c, F_NUM, 6, (float)(qsum / 4));
        pm__flag(&c, F_NUM, 7, (float)(outsum / 4));
    }
    if (m->speaker) {
        pm__flag(&c, F_SPKQ, 0, 1.0f);
        pm__flag(&c, F_SPKQ, 10 + pm__bin(qtok > 0 ? sv_normalize(qsum, sp->alpha) : se->lex_compound),
                 1.0f);
    }
    pm__done(&c);
    if (c.oom)
        return 0;
    return 1;
}

/* Two copies of each builder: the stage's (sums only) and the general one. */
PM_CLONES int pm_sentence_features(const st_doc_t *d, const pp_doc_t *p, size_t sent, uint32_t dim,
                                   pm_feats_t *out, pm_sentinfo_t *info)
{
    if (out->model != NULL && !out->store)
        return pm__sentence_features(d, p, sent, dim, out, info, 1);
    return pm__sentence_features(d, p, sent, dim, out, info, 0);
}

PM_CLONES int pm_features(const st_doc_t *d, const pp_doc_t *p, const sv_params_t *sp, size_t mi,
                          uint32_t dim, const pm_sentinfo_t *info, pm_feats_t *out)
{
    /* (The fused copy reads flag_row, which is for the model's own hashing
     * space; the general one adds the same rows in the same order.) */
    if (out->model != NULL && !out->store && ((dim - 1) & (out->model->dim - 1)) == out->model->dim - 1)
        return pm__features(d, p, sp, mi, dim, info, out, 1);
    return pm__features(d, p, sp, mi, dim, info, out, 0);
}

/* Sum the (quantised) weight rows of f's features into acc.  In batches:
 * first find every feature's row and start loading it, then add them, so
 * the rows' cache misses overlap instead of queueing. */
#define PM_BATCH 16
_Static_assert(PM_CLASSES == 3, "pm__accumulate sums three classes");
PM_CLONES static void pm__accumulate(const pm_model_t *m, const pm_feats_t *f, double acc[PM_CLASSES])
{
    const int16_t *rw[PM_BATCH];
    double a0 = acc[0], a1 = acc[1], a2 = acc[2]; /* in registers, not through memory */
    for (size_t base = 0; base < f->n; base += PM_BATCH) {
        size_t n = f->n - base < PM_BATCH ? f->n - base : PM_BATCH;
        for (size_t j = 0; j < n; j++) {
            uint32_t idx = f->f[base + j].idx & (m->dim - 1);
            uint64_t word = m->bits[idx >> 6].set, bit = 1ull << (idx & 63);
            if (!(word & bit)) {
                rw[j] = NULL; /* a feature never seen in training */
                continue;
            }
            size_t row = m->bits[idx >> 6].rank + (size_t)pm__popcount(word & (bit - 1));
            rw[j] = m->rows + row * PM_CLASSES;
            sl__prefetch1(rw[j]);
        }
        for (size_t j = 0; j < n; j++) {
            if (rw[j] == NULL)
                continue;
            double v = f->f[base + j].val;
            a0 += v * rw[j][0];
            a1 += v * rw[j][1];
            a2 += v * rw[j][2];
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
}

void pm_scores(const pm_model_t *m, const pm_feats_t *f, double z[PM_CLASSES])
{
    double acc[PM_CLASSES] = {0, 0, 0};
    pm__accumulate(m, f, acc);
    for (int k = 0; k < PM_CLASSES; k++)
        z[k] = acc[k] * m->scale;
}

void pm_predict(const pm_model_t *m, const pm_feats_t *f, const double extra_bias[PM_CLASSES],
                const double shared[PM_CLASSES], float prob[PM_CLASSES])
{
    double acc[PM_CLASSES] = {0, 0, 0};
    pm__accumulate(m, f, acc);
    pm_predict_acc(m, acc, extra_bias, shared, prob);
}

void pm_scores_acc(const pm_model_t *m, const double acc[PM_CLASSES], double z[PM_CLASSES])
{
    for (int k = 0; k < PM_CLASSES; k++)
        z[k] = acc[k] * m->scale;
}

void pm_predict_acc(const pm_model_t *m, const double acc[PM_CLASSES],
                    const double extra_bias[PM_CLASSES], const double shared[PM_CLASSES],
                    float prob[PM_CLASSES])
{
    double z[PM_CLASSES];
    for (int k = 0; k < PM_CLASSES; k++)
        z[k] = (double)m->bias[k] + (extra_bias != NULL ? extra_bias[k] : 0.0) +
               (shared != NULL ? shared[k] : 0.0) + acc[k] * m->scale;
    double mx = z[0];
    for (int k = 1; k < PM_CLASSES; k++)
        if (z[k] > mx)
            mx = z[k];
    double sum = 0;
    for (int k = 0; k < PM_CLASSES; k++) {
        /* exp(±0) is exactly 1: the largest class's call is skipped (a NaN
         * difference still goes through exp). */
        double dz = z[k] - mx;
        z[k] = dz == 0 ? 1.0 : exp(dz);
        sum += z[k];
    }
    for (int k = 0; k < PM_CLASSES; k++) {
        double pk = sum > 0 && isfinite(sum) ? z[k] / sum : 1.0 / PM_CLASSES;
        prob[k] = (float)(isfinite(pk) ? pk : 1.0 / PM_CLASSES);
    }
}
