/*
 * testhost.h - run one stage in-process, without the daemon, for unit tests
 * and fuzz harnesses.
 *
 * It uses the daemon's real document model, parameter validation and host
 * table, so a stage under test sees exactly what it sees in textmilld; only
 * the threading is simpler (one thread; process_ordered runs right after
 * process).
 */
#ifndef TM_TESTHOST_H
#define TM_TESTHOST_H

#include <textmill/stage.h>

#include "../../daemon/doc.h"

typedef struct tm_testhost tm_testhost_t;

/* Build an instance of desc with config_json (NULL = {}), resolving PATH
 * keys against data_dir.  On failure returns NULL and fills err. */
tm_testhost_t *tm_testhost_open(const tm_stage_desc_t *desc, const char *config_json,
                                const char *data_dir, const char *state_dir, tm_err_t *err);
void tm_testhost_close(tm_testhost_t **thp);

/* A document with this text (copied; len may be (size_t)-1 for strlen) and
 * content type (NULL = text/plain).  Owned by the caller: tm_doc_destroy. */
tm_doc_t *tm_testhost_doc(const char *id, const char *text, size_t len, const char *content_type);

/* Run the stage's process and process_ordered hooks on doc.  Returns the
 * first non-OK return code, with err filled. */
int tm_testhost_run(tm_testhost_t *th, tm_doc_t *doc, tm_err_t *err);

/* The annotation a stage attached, or NULL: for a raw item carrying its
 * tree as child, that tree, which is what a later stage reads (the raw item
 * itself is in doc->annotations). */
const cJSON *tm_testhost_annotation(const tm_doc_t *doc, const char *key);

/* The host table (to read its fields in tests). */
const tm_host_t *tm_testhost_host(const tm_testhost_t *th);

#endif
