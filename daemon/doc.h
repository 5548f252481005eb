/*
 * doc.h - the document model: one input document on its way through the
 * pipeline, with the annotations, timings and errors it collects.
 *
 * A tm_doc_t is owned by exactly one thread at a time (the worker running
 * it); stages reach it only through the accessor functions in the host
 * table (host.c), never through this struct.
 */
#ifndef TM_DOC_H
#define TM_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <textmill/stage.h>

#define TM_MAX_STAGES 32

enum tm_doc_field {
    TM_FIELD_URL = 0,
    TM_FIELD_SOURCE,
    TM_FIELD_LANG,
    TM_FIELD_PUBLISHED_AT,
    TM_FIELD_COUNT
};

extern const char *const tm_doc_field_names[TM_FIELD_COUNT];

typedef struct tm_stash {
    struct tm_stash *next;
    int stage;
    void *ptr;
    void (*free_fn)(void *);
} tm_stash_t;

struct tm_doc {
    char *id;                  /* owned, NUL-terminated */
    char *text;                /* owned, NUL-terminated, valid UTF-8, no NUL */
    size_t text_len;
    size_t input_len;          /* length of the text as received */
    const char *content_type;  /* one of the static TM_CT_* strings */
    char *fields[TM_FIELD_COUNT]; /* owned or NULL */
    cJSON *meta;               /* owned or NULL */
    cJSON *annotations;        /* owned object or NULL until the first annotate */
    cJSON *errors;             /* owned array or NULL until the first error */
    tm_stash_t *stash;         /* owned list */
    uint32_t timing_us[TM_MAX_STAGES];
    uint32_t ran_mask;         /* bit i: stage i ran and has a timing */
    uint64_t seq;              /* arrival order within its pipeline */
    uint64_t t_start_ns;       /* when parsing began, for timing_us.total */
    int cur_stage;             /* index of the stage being run, or -1 */
    uint32_t cur_flags;        /* that stage's descriptor flags */
    unsigned route_flags;      /* enum tm_route_flags */
    char topic[40];            /* "result.<suffix>" */
    int id_assigned;           /* the host made up the id */
    int redelivered;           /* replayed from the spool after a restart */
    void *owner;               /* the job carrying this document (borrowed) */
    uint64_t spool_key;        /* its key in the durable spool, 0 = not spooled */
    /* Set when a stage failed on it stage_max_attempts times under the
     * dead_letter policy: later stages skip it and it is dead-lettered. */
    int dead;
    const char *dead_reason;   /* "stage_failed" or "crashed" (static) */
    unsigned dead_attempts;
    char dead_stage[64];
    tm_err_t dead_err;
};

extern const char TM_CT_PLAIN[];
extern const char TM_CT_HTML[];
extern const char TM_CT_MARKDOWN[];

/* A new empty document (owned by the caller), or NULL when out of memory. */
tm_doc_t *tm_doc_new(void);
/* Free the document and everything it owns; sets *docp to NULL. */
void tm_doc_destroy(tm_doc_t **docp);

/* Record a per-stage document error in doc->errors. */
void tm_doc_add_error(tm_doc_t *doc, const char *stage, const tm_err_t *err);

/* Replace the text with a copy of text[0..len).  Checks UTF-8 and NUL. */
int tm_doc_replace_text(tm_doc_t *doc, const char *text, size_t len);

/* Fill in the document accessors of a host table. */
void tm_doc_fill_host(tm_host_t *host);

#endif
