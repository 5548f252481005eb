/*
 * fold.c - loading and looking up the dedup stage's character tables:
 * named HTML entities (name -> 1 or 2 code points) in an open-addressing
 * hash table, punctuation folds (code point -> up to 4 code points) in a
 * sorted array.
 */
#include "autoconfig.h"

#include "fold.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#define DD_ENTITY_NAME_MAX 32

typedef struct dd_entity {
    char name[DD_ENTITY_NAME_MAX];
    uint8_t len;
    uint8_t ncp;
    int32_t cp[2];
} dd_entity_t;

typedef struct dd_punct {
    int32_t cp;
    int32_t n;
    int32_t out[4];
} dd_punct_t;

struct dd_fold {
    dd_entity_t *ent;   /* open addressing, len == 0 means empty */
    size_t ent_mask, ent_count;
    dd_punct_t *punct;  /* sorted by cp */
    size_t punct_count;
};

static size_t dd__ent_slot(const dd_fold_t *f, const char *name, size_t len)
{
    return (size_t)XXH3_64bits(name, len) & f->ent_mask;
}

static int dd__ent_put(dd_fold_t *f, const char *name, size_t len, const int32_t *cp, int ncp)
{
    size_t i = dd__ent_slot(f, name, len);
    while (f->ent[i].len != 0) {
        if (f->ent[i].len == len && memcmp(f->ent[i].name, name, len) == 0)
            break; /* a later line overrides */
        i = (i + 1) & f->ent_mask;
    }
    if (f->ent[i].len == 0)
        f->ent_count++;
    memcpy(f->ent[i].name, name, len);
    f->ent[i].len = (uint8_t)len;
    f->ent[i].ncp = (uint8_t)ncp;
    f->ent[i].cp[0] = cp[0];
    f->ent[i].cp[1] = ncp > 1 ? cp[1] : 0;
    return TM_OK;
}

/* Parse up to max hex code points separated by spaces; returns the count
 * or -1 on a malformed field. */
static int dd__parse_cps(const char *s, int32_t *out, int max)
{
    int n = 0;
    while (*s == ' ')
        s++;
    while (*s != '\0' && *s != '\t' && *s != '#') {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 16);
        if (end == s || errno != 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || n >= max)
            return -1;
        out[n++] = (int32_t)v;
        s = end;
        while (*s == ' ')
            s++;
    }
    return n;
}

static int dd__load_entities(dd_fold_t *f, const char *path, tm_err_t *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return tm_err_set(err, TM_EIO, "data_unreadable",
                          "dedup: cannot open entity table %s: %s (config key entities_file)",
                          path, strerror(errno));
    char line[512];
    unsigned lineno = 0;
    int rc = TM_OK;
    while (fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        size_t l = strlen(line);
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (l == 0 || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        size_t nlen = tab != NULL ? (size_t)(tab - line) : 0;
        int32_t cp[2];
        int ncp = tab != NULL ? dd__parse_cps(tab + 1, cp, 2) : -1;
        if (nlen == 0 || nlen >= DD_ENTITY_NAME_MAX || ncp <= 0) {
            rc = tm_err_set(err, TM_EINVAL, "data_invalid",
                            "dedup: %s:%u: expected \"name<TAB>hex code points\" (1 or 2, "
                            "name under %d characters)",
                            path, lineno, DD_ENTITY_NAME_MAX);
            break;
        }
        if (f->ent_count * 2 >= f->ent_mask) {
            rc = tm_err_set(err, TM_EINVAL, "data_invalid",
                            "dedup: %s: more than %zu entities", path, f->ent_mask / 2);
            break;
        }
        dd__ent_put(f, line, nlen, cp, ncp);
    }
    fclose(fp);
    return rc;
}

static int dd__punct_cmp(const void *a, const void *b)
{
    int32_t x = ((const dd_punct_t *)a)->cp, y = ((const dd_punct_t *)b)->cp;
    return (x > y) - (x < y);
}

static int dd__load_punct(dd_fold_t *f, const char *path, tm_err_t *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return tm_err_set(err, TM_EIO, "data_unreadable",
                          "dedup: cannot open punctuation table %s: %s (config key "
                          "punct_fold_file)",
                          path, strerror(errno));
    char line[512];
    unsigned lineno = 0;
    size_t cap = 0;
    int rc = TM_OK;
    while (fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        size_t l = strlen(line);
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (l == 0 || line[0] == '#')
            continue;
        dd_punct_t p = {0};
        char *tab = strchr(line, '\t');
        int32_t c[1];
        if (tab != NULL)
            *tab = '\0';
        int nc = dd__parse_cps(line, c, 1);
        p.n = tab != NULL ? dd__parse_cps(tab + 1, p.out, 4) : -1;
        if (nc != 1 || p.n < 0) {
            rc = tm_err_set(err, TM_EINVAL, "data_invalid",
                            "dedup: %s:%u: expected \"hex code point<TAB>0 to 4 hex code "
                            "points\"",
                            path, lineno);
            break;
        }
        p.cp = c[0];
        if (f->punct_count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            dd_punct_t *np = realloc(f->punct, ncap * sizeof *np);
            if (np == NULL) {
                rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
                break;
            }
            f->punct = np;
            cap = ncap;
        }
        f->punct[f->punct_count++] = p;
    }
    fclose(fp);
    if (rc == TM_OK && f->punct_count > 1)
        qsort(f->punct, f->punct_count, sizeof *f->punct, dd__punct_cmp);
    return rc;
}

int dd_fold_load(const char *entities_path, const char *punct_path, dd_fold_t **out,
                 tm_err_t *err)
{
    *out = NULL;
    dd_fold_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
    f->ent_mask = 8191; /* room for 4096 entities at half load */
    f->ent = calloc(f->ent_mask + 1, sizeof *f->ent);
    if (f->ent == NULL) {
        dd_fold_free(f);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
    }
    int rc = TM_OK;
    if (entities_path != NULL && entities_path[0] != '\0')
        rc = dd__load_entities(f, entities_path, err);
    if (rc == TM_OK && punct_path != NULL && punct_path[0] != '\0')
        rc = dd__load_punct(f, punct_path, err);
    if (rc != TM_OK) {
        dd_fold_free(f);
        return rc;
    }
    *out = f;
    return TM_OK;
}

void dd_fold_free(dd_fold_t *f)
{
    if (f == NULL)
        return;
    free(f->ent);
    free(f->punct);
    free(f);
}

int dd_fold_entity(const dd_fold_t *f, const char *name, size_t len, int32_t cp[2])
{
    if (len == 0 || len >= DD_ENTITY_NAME_MAX || f->ent_count == 0)
        return 0;
    size_t i = dd__ent_slot(f, name, len);
    while (f->ent[i].len != 0) {
        if (f->ent[i].len == len && memcmp(f->ent[i].name, name, len) == 0) {
            cp[0] = f->ent[i].cp[0];
            cp[1] = f->ent[i].cp[1];
            return f->ent[i].ncp;
        }
        i = (i + 1) & f->ent_mask;
    }
    return 0;
}

int dd_fold_punct(const dd_fold_t *f, int32_t cp, int32_t out[4])
{
    size_t lo = 0, hi = f->punct_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->punct[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < f->punct_count && f->punct[lo].cp == cp) {
        for (int i = 0; i < f->punct[lo].n; i++)
            out[i] = f->punct[lo].out[i];
        return f->punct[lo].n;
    }
    return -1;
}

size_t dd_fold_entity_count(const dd_fold_t *f) { return f->ent_count; }
