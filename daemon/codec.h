/*
 * codec.h - wire protocol v1 codec (proto/protocol.md): input documents in,
 * acks, results and error records out.
 *
 * Parsing validates everything the protocol promises to check and reports
 * the first problem with its documented error code (TM_PROTO_E_* below).
 * Encoding builds each message once, as one JSON text, on the worker thread.
 */
#ifndef TM_CODEC_H
#define TM_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"

/* Error codes of protocol v1, as they appear in "error":{"code":...}. */
#define TM_PROTO_E_INVALID_JSON "invalid_json"
#define TM_PROTO_E_NOT_OBJECT "not_object"
#define TM_PROTO_E_MISSING_TEXT "missing_text"
#define TM_PROTO_E_TEXT_NOT_STRING "text_not_string"
#define TM_PROTO_E_EMPTY_TEXT "empty_text"
#define TM_PROTO_E_INVALID_UTF8 "invalid_utf8"
#define TM_PROTO_E_NUL_BYTE "nul_byte"
#define TM_PROTO_E_TOO_LARGE "too_large"
#define TM_PROTO_E_META_TOO_DEEP "meta_too_deep"
#define TM_PROTO_E_INVALID_ID "invalid_id"
#define TM_PROTO_E_INVALID_FIELD "invalid_field"
#define TM_PROTO_E_UNSUPPORTED_CT "unsupported_content_type"
#define TM_PROTO_E_DUPLICATE_ID "duplicate_id"
#define TM_PROTO_E_BAD_FRAMES "bad_frames"
#define TM_PROTO_E_EMPTY_FRAME "empty_frame"
#define TM_PROTO_E_SHUTTING_DOWN "shutting_down"
#define TM_PROTO_E_INTERNAL "internal_error"
#define TM_PROTO_E_POISON "poison"

#define TM_MAX_ID_BYTES 256

typedef struct tm_limits {
    size_t max_doc_bytes;  /* whole message */
    int max_meta_depth;    /* nesting levels inside "meta" */
} tm_limits_t;

/* Parse one document.  buf[len] must be a NUL byte (cJSON may read one byte
 * past the given length).  On success *out is a new document (owned by the
 * caller) and TM_OK is returned.  On failure a negative code is returned,
 * err holds the protocol error code and a message, and *id_out holds the
 * document's id when it could be read (owned by the caller), else NULL. */
int tm_doc_parse(const char *buf, size_t len, const tm_limits_t *lim, tm_doc_t **out,
                 char **id_out, tm_err_t *err);
/* The same without the fast path for the text member (jtext.h): cJSON
 * parses the whole message.  For tests and fuzzing, which check that both
 * give the same answer. */
int tm_doc_parse_reference(const char *buf, size_t len, const tm_limits_t *lim, tm_doc_t **out,
                           char **id_out, tm_err_t *err);

/* Encode a result.  stage_names[i] names doc->timing_us[i].  Returns a
 * malloc'd JSON text (owned by the caller; free with free()) and its length,
 * or NULL when out of memory. */
char *tm_result_encode(const tm_doc_t *doc, const char *const *stage_names, size_t nstages,
                       uint64_t total_us, size_t *len);

/* {"id":"..","status":"accepted"} */
char *tm_ack_encode(const char *id, size_t *len);

/* {"id":..|null,"status":status,"error":{"code":..,"message":..}}
 * status is "rejected" in ingest replies and "error" on the error topic and
 * in batch output.  line > 0 adds "line":N (batch mode). */
char *tm_error_encode(const char *id, const char *status, const tm_err_t *err, long line,
                      size_t *len);

/* A dead-letter record (the "dead" topic and <state_dir>/dead-letters.jsonl):
 * {"id":..|null,"status":"dead","stage":..,"reason":"stage_failed"|"crashed",
 *  "error":{"code":..,"message":..},"attempts":N,"document":{..}}
 * document (borrowed, may be NULL) is the input document. */
char *tm_dead_encode(const char *id, const char *stage, const char *reason, const tm_err_t *err,
                     unsigned attempts, const cJSON *document, size_t *len);
/* The same for a document a stage gave up on (doc->dead set). */
char *tm_dead_encode_doc(const tm_doc_t *doc, size_t *len);

#endif
