/*
 * idset.h - the set of document ids currently in flight, so that a second
 * document with the id of one still being processed is rejected
 * (duplicate_id) instead of producing two results under one id.
 * Thread-safe: workers add, workers remove.
 */
#ifndef TM_IDSET_H
#define TM_IDSET_H

#include <stddef.h>

typedef struct tm_idset tm_idset_t;

tm_idset_t *tm_idset_new(void);
void tm_idset_destroy(tm_idset_t **sp);

/* 1 when added, 0 when already present, -1 when out of memory. */
int tm_idset_add(tm_idset_t *s, const char *id);
/* 1 when removed, 0 when absent. */
int tm_idset_remove(tm_idset_t *s, const char *id);
size_t tm_idset_count(tm_idset_t *s);

#endif
