/*
 * fold.h - the dedup stage's character tables, loaded from data files:
 * HTML named character references (html-entities.tsv) and punctuation
 * folding (punct-fold.tsv).  Read-only after loading, so shared by every
 * worker without locks.
 */
#ifndef DD_FOLD_H
#define DD_FOLD_H

#include <stddef.h>
#include <stdint.h>
#include <textmill/stage.h>

typedef struct dd_fold dd_fold_t;

/* Load both tables.  Either path may be NULL or "" (table left empty).  On
 * failure returns TM_EIO/TM_EINVAL with err naming the file and line. */
int dd_fold_load(const char *entities_path, const char *punct_path, dd_fold_t **out,
                 tm_err_t *err);
void dd_fold_free(dd_fold_t *f);

/* Code points of the named entity name[0..len) (without '&' and ';'): up
 * to 2 written to cp; returns how many, 0 when the name is unknown. */
int dd_fold_entity(const dd_fold_t *f, const char *name, size_t len, int32_t cp[2]);

/* Replacement of a punctuation code point: returns the number of code
 * points written to out (up to 4); -1 when cp has no entry (keep it). */
int dd_fold_punct(const dd_fold_t *f, int32_t cp, int32_t out[4]);

/* Entries loaded (for tests). */
size_t dd_fold_entity_count(const dd_fold_t *f);

#endif
