/*
 * dedup_micro.c - in-process timings of two parts of the dedup stage on
 * real texts, for changes whose wall-clock effect is too small to see in
 * `textmill run --stats` on a shared machine (plugins/dedup/README.md):
 *  - normalizing a document's text (canonical text and token hashes), per
 *    document;
 *  - building a document's sketch (shingle hashes, sample sort), per
 *    document;
 *  - verifying a candidate (dd_compare) with the merge of the sorted
 *    samples and with the hash-set pass (xset.no_isect), per candidate:
 *    each document against three others, limit 3, frequencies of all.
 * Prints the best of R rounds.  Not built by make:
 *   gcc -O2 -Iplugins/dedup -I. -Iinclude -o /tmp/dedup_micro bench/dedup_micro.c \
 *       plugins/dedup/{normalize,sketch,verify,dftable,texthash,fold,memindex}.c \
 *       -lutf8proc -lxxhash
 *   /tmp/dedup_micro /work/shared/corpus/news-1k.jsonl 30
 * (Texts are taken from each line's "text" member as written, JSON escapes
 * included: enough for timing.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dftable.h"
#include "normalize.h"
#include "sketch.h"
#include "verify.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DOCS.jsonl ROUNDS\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    const int rounds = atoi(argv[2]);
    enum { MAXD = 1000 };
    dd_norm_opts_t o = {.fold = NULL, .fold_diacritics = 1, .strip_markup = 1};
    dd_sketch_cfg_t c = {.shingle_size = 4, .sample_rate = 4, .sample_min = 64, .sample_max = 256,
                         .anchor_rate = 16, .anchor_min = 6, .anchor_max = 24};
    dd_verify_cfg_t vc = {.jaccard = 0.45, .containment = 0.65, .extension = 0.8,
                          .min_content = 24, .boilerplate_margin = 2};
    static dd_scratch_t tokd[MAXD];
    static char *TX[MAXD];
    static size_t TL[MAXD];
    static dd_sample_t S[MAXD];
    static uint16_t *DF[MAXD];
    dd_df_t *df = dd_df_new(10000, 256);
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (n < MAXD && getline(&line, &cap, f) > 0) {
        char *t = strstr(line, "\"text\": \"");
        char *e = t != NULL ? strrchr(t + 9, '"') : NULL;
        if (e == NULL)
            continue;
        t += 9;
        TL[n] = (size_t)(e - t);
        TX[n] = strndup(t, TL[n]);
        dd_normalize(&o, t, (size_t)(e - t), &tokd[n]);
        dd_sketch_t sk;
        tokd[n].canon_len = 0; /* the sketch, not the whole-text hash */
        dd_sketch_build(&c, &tokd[n], "", 0, &sk);
        S[n].n = sk.s.n;
        S[n].tau = sk.s.tau;
        S[n].h = malloc((size_t)sk.s.n * 4 + 4);
        memcpy(S[n].h, sk.s.h, (size_t)sk.s.n * 4);
        dd_df_add(df, S[n].h, S[n].n, (uint64_t)n + 1);
        n++;
    }
    fclose(f);
    free(line);
    for (int i = 0; i < n; i++) {
        DF[i] = malloc((size_t)S[i].n * 2 + 2);
        dd_df_get_many(df, S[i].h, S[i].n, DF[i]);
    }
    static uint32_t scratch[70000];
    static uint16_t sdf[70000];
    double norm = 1e9, sketch = 1e9, cmp[2] = {1e9, 1e9};
    unsigned long sink = 0;
    dd_scratch_t ns = {0};
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (int i = 0; i < n; i++) {
            dd_normalize(&o, TX[i], TL[i], &ns);
            sink += ns.ntok;
        }
        double dn = (now() - t0) / n * 1e9;
        norm = dn < norm ? dn : norm;
        t0 = now();
        for (int i = 0; i < n; i++) {
            dd_sketch_t sk;
            dd_sketch_build(&c, &tokd[i], "", 0, &sk);
            sink += sk.s.n;
        }
        double dt = (now() - t0) / n * 1e9;
        sketch = dt < sketch ? dt : sketch;
        for (int mode = 0; mode < 2; mode++) {
            t0 = now();
            for (int i = 0; i < n; i++) {
                dd_xset_t xs = {0};
                dd_xset_build(&xs, &S[i], DF[i]);
                xs.no_isect = mode;
                for (int k = 1; k <= 3; k++) {
                    int j = (i + k * 37) % n;
                    dd_record_t y = {.n = S[j].n, .tau = S[j].tau, .h = S[j].h, .cluster_seq = 1};
                    dd_cmp_t out;
                    dd_compare(&vc, &S[i], &xs, DF[i], &y, df, 3, scratch, sdf, &out);
                    sink += out.ni + out.ny;
                }
                dd_xset_free(&xs);
            }
            dt = (now() - t0) / (n * 3) * 1e9;
            cmp[mode] = dt < cmp[mode] ? dt : cmp[mode];
        }
    }
    printf("%d documents, best of %d rounds: normalize %.0f ns/document; sketch %.0f ns/document; "
           "verification %.0f ns/candidate (merge), %.0f ns/candidate (set pass) [%lu]\n",
           n, rounds, norm, sketch, cmp[0], cmp[1], sink);
    dd_scratch_free(&ns);
    for (int i = 0; i < n; i++) {
        free(S[i].h);
        free(TX[i]);
        free(DF[i]);
        dd_scratch_free(&tokd[i]);
    }
    dd_df_free(df);
    return 0;
}
