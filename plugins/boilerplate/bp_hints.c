/*
 * bp_hints.c - loading class/id hints and scoring attribute values (an
 * Aho-Corasick automaton for substrings, a word hash set for whole words).
 */
#include "autoconfig.h"

#include "bp_hints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bp__ac_class(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        c = (unsigned char)(c | 0x20);
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '0' && c <= '9')
        return 26 + (c - '0');
    if (c == '-' || c == '_')
        return 36;
    return 37;
}

static int32_t bp__new_state(bp_hints_t *h)
{
    if (bp_grow(&h->go, &h->capstates, h->nstates + 1, sizeof *h->go) != 0)
        return -1;
    size_t cap = h->capstates;
    /* fail, term and out_next grow alongside go */
    int32_t *f = realloc(h->fail, cap * sizeof *f);
    if (f == NULL)
        return -1;
    h->fail = f;
    int32_t *t = realloc(h->term, cap * sizeof *t);
    if (t == NULL)
        return -1;
    h->term = t;
    int32_t *o = realloc(h->out_next, cap * sizeof *o);
    if (o == NULL)
        return -1;
    h->out_next = o;
    int32_t s = (int32_t)h->nstates++;
    for (int i = 0; i < BP_AC_ALPHA; i++)
        h->go[s][i] = -1;
    h->fail[s] = 0;
    h->term[s] = -1;
    h->out_next[s] = -1;
    return s;
}

int bp_hints_load(bp_hints_t *h, const char *path, bp_kind_fn kind_fn, void *ctx, char *err,
                  size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        char kind[64], match[256];
        int weight;
        if (sscanf(p, "%d %63s %255s", &weight, kind, match) != 3 ||
            (match[0] != '~' && match[0] != '=') || match[1] == '\0') {
            snprintf(err, errlen,
                     "%s:%d: expected \"<weight> <kind|-> <~substring|=word>\", got \"%.60s\"",
                     path, lineno, p);
            fclose(f);
            return -1;
        }
        if (h->n >= BP_HINTS_MAX) {
            snprintf(err, errlen, "%s:%d: too many hints (at most %d)", path, lineno,
                     BP_HINTS_MAX);
            fclose(f);
            return -1;
        }
        int k = -1;
        if (strcmp(kind, "-") != 0) {
            k = kind_fn(ctx, kind);
            if (k < 0) {
                snprintf(err, errlen, "%s:%d: cannot register kind \"%s\"", path, lineno, kind);
                fclose(f);
                return -1;
            }
        }
        for (char *c = match + 1; *c; c++)
            *c = (char)bp_ascii_lower((unsigned char)*c);
        if (bp_grow(&h->v, &h->cap, h->n + 1, sizeof *h->v) != 0 ||
            (h->v[h->n].text = strdup(match)) == NULL) {
            fclose(f);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        h->v[h->n].weight = weight;
        h->v[h->n].kind = k;
        h->n++;
    }
    fclose(f);
    return 0;
}

int bp_hints_build(bp_hints_t *h)
{
    h->nstates = 0;
    if (bp__new_state(h) < 0)
        return -1;
    free(h->word_next);
    h->word_next = malloc((h->n ? h->n : 1) * sizeof *h->word_next);
    if (h->word_next == NULL)
        return -1;
    bp_map_free(&h->words);
    /* term chains: hint ids ending in a state, linked through term_next */
    free(h->term_next);
    h->term_next = malloc((h->n ? h->n : 1) * sizeof *h->term_next);
    if (h->term_next == NULL)
        return -1;
    for (size_t i = 0; i < h->n; i++) {
        const char *t = h->v[i].text;
        h->term_next[i] = -1;
        h->word_next[i] = -1;
        if (t[0] == '=') {
            uint64_t key = bp_hash_bytes(t + 1, strlen(t + 1));
            uint32_t *v = bp_map_get(&h->words, key);
            if (v != NULL) {
                h->word_next[i] = (int32_t)*v - 1;
                *v = (uint32_t)i + 1;
            } else if (bp_map_put(&h->words, key, (uint32_t)i + 1) != 0) {
                return -1;
            }
            continue;
        }
        int32_t s = 0;
        for (const char *c = t + 1; *c; c++) {
            int a = bp__ac_class((unsigned char)*c);
            if (h->go[s][a] < 0) {
                int32_t ns = bp__new_state(h);
                if (ns < 0)
                    return -1;
                h->go[s][a] = ns;
            }
            s = h->go[s][a];
        }
        h->term_next[i] = h->term[s];
        h->term[s] = (int32_t)i;
    }
    /* BFS for fail links and the full transition table */
    int32_t *queue = malloc(h->nstates * sizeof *queue);
    if (queue == NULL)
        return -1;
    size_t qh = 0, qt = 0;
    for (int a = 0; a < BP_AC_ALPHA; a++) {
        int32_t s = h->go[0][a];
        if (s < 0) {
            h->go[0][a] = 0;
        } else {
            h->fail[s] = 0;
            queue[qt++] = s;
        }
    }
    while (qh < qt) {
        int32_t r = queue[qh++];
        /* output link: nearest state on the fail chain that ends a hint */
        int32_t fs = h->fail[r];
        h->out_next[r] = (h->term[fs] >= 0) ? fs : h->out_next[fs];
        for (int a = 0; a < BP_AC_ALPHA; a++) {
            int32_t s = h->go[r][a];
            if (s < 0) {
                h->go[r][a] = h->go[h->fail[r]][a];
            } else {
                h->fail[s] = h->go[h->fail[r]][a];
                queue[qt++] = s;
            }
        }
    }
    free(queue);
    h->built = 1;
    return 0;
}

void bp_hints_free(bp_hints_t *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i].text);
    free(h->v);
    free(h->go);
    free(h->fail);
    free(h->out);
    free(h->out_next);
    free(h->term);
    free(h->term_next);
    free(h->word_next);
    bp_map_free(&h->words);
    memset(h, 0, sizeof *h);
}

static void bp__hit(const bp_hints_t *h, int32_t i, unsigned char *seen, bp_hint_score_t *sc)
{
    if (seen[i])
        return;
    seen[i] = 1;
    const bp_hint_t *hint = &h->v[i];
    sc->score += hint->weight;
    if (hint->weight < sc->neg) {
        sc->neg = hint->weight;
        sc->kind = hint->kind;
    }
    if (hint->weight > sc->pos)
        sc->pos = hint->weight;
}

void bp_hints_score(const bp_hints_t *h, const char *s, size_t n, unsigned char *seen,
                    bp_hint_score_t *sc)
{
    if (!h->built || n == 0)
        return;
    int32_t st = 0;
    size_t w0 = 0;
    char word[64];
    size_t wl = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : ' ';
        int a = bp__ac_class(c);
        if (i < n) {
            st = h->go[st][a];
            for (int32_t o = h->term[st] >= 0 ? st : h->out_next[st]; o > 0; o = h->out_next[o])
                for (int32_t t = h->term[o]; t >= 0; t = h->term_next[t])
                    bp__hit(h, t, seen, sc);
        }
        /* whole words: runs of [a-z0-9] */
        if (a < 36) {
            if (wl < sizeof word)
                word[wl] = (char)bp_ascii_lower(c);
            wl++;
        } else {
            if (wl > 0 && wl <= sizeof word && h->words.n) {
                uint32_t *v = bp_map_get(&h->words, bp_hash_bytes(word, wl));
                if (v != NULL)
                    for (int32_t t = (int32_t)*v - 1; t >= 0; t = h->word_next[t])
                        bp__hit(h, t, seen, sc);
            }
            wl = 0;
            w0 = i + 1;
        }
    }
    (void)w0;
}
