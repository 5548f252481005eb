/*
 * fuzz_sentiment_files.c - libFuzzer harness for the sentiment stage's data
 * file loaders (VADER lexicon, emoji lexicon, rule/name lists, people model):
 * a user may point the config at any file, so every input must either load
 * or fail with a message naming the file (and the line, when a line is bad).
 * The first byte picks the loader.
 *
 * FUZZ-SOURCES: plugins/sentiment/lexicon.c plugins/sentiment/model.c plugins/sentiment/text.c plugins/sentiment/score.c plugins/sentiment/people.c
 * FUZZ-PKGS:
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../plugins/sentiment/lexicon.h"
#include "../../plugins/sentiment/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[] = "/tmp/fuzz_sentiment_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    tm_err_t err = {{0}, {0}};
    int rc;
    sl_lexicon_t lx;
    if (sl_init(&lx) != TM_OK) {
        unlink(path);
        return 0;
    }
    switch (data[0] % 5) {
    case 0: rc = sl_load_valences(&lx, path, &err); break;
    case 1: rc = sl_load_emoji(&lx, path, &err); break;
    case 2: rc = sl_load_rules(&lx, path, &err); break;
    case 3: rc = sl_load_learned(&lx, path, &err); break;
    default: {
        pm_model_t m;
        rc = pm_load(&m, path, &err);
        if (rc == TM_OK)
            pm_free(&m);
        break;
    }
    }
    if (rc == TM_OK && data[0] % 5 != 4) {
        if (sl_derive_inflections(&lx) != TM_OK)
            abort();
        /* Whatever loaded must be usable. */
        st_doc_t d;
        st_doc_init(&d);
        const char *t = "Not very GOOD at all, but the kiss of death :) \xf0\x9f\x98\x80 !!";
        if (st_tokenize(&d, &lx, t, strlen(t)) == TM_OK) {
            sv_params_t p;
            sv_params_default(&p);
            sv_score(&d, &lx, &p);
            sv_totals_t tot;
            sv_document(&d, &p, &tot);
            if (!(tot.compound >= -1.0 && tot.compound <= 1.0))
                abort();
        }
        st_doc_free(&d);
    }
    if (rc != TM_OK && (err.message[0] == '\0' || strstr(err.message, path) == NULL))
        abort(); /* the message names the file */
    sl_free(&lx);
    unlink(path);
    return 0;
}
