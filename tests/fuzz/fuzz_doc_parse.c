/*
 * fuzz_doc_parse.c - libFuzzer harness for document intake: the protocol
 * codec's parser and validator, then result encoding of what it accepts.
 * Every input must end as a document or as an error with a known code, and
 * the fast path for the text member (jtext.c) must give exactly what cJSON
 * alone gives: the same document or the same error code and message.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "../../daemon/codec.h"

static const char *const tm__codes[] = {
    TM_PROTO_E_INVALID_JSON, TM_PROTO_E_NOT_OBJECT,   TM_PROTO_E_MISSING_TEXT,
    TM_PROTO_E_TEXT_NOT_STRING, TM_PROTO_E_EMPTY_TEXT, TM_PROTO_E_INVALID_UTF8,
    TM_PROTO_E_NUL_BYTE,     TM_PROTO_E_TOO_LARGE,    TM_PROTO_E_META_TOO_DEEP,
    TM_PROTO_E_INVALID_ID,   TM_PROTO_E_INVALID_FIELD, TM_PROTO_E_UNSUPPORTED_CT,
    TM_PROTO_E_EMPTY_FRAME,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    tm_limits_t lim = {.max_doc_bytes = 1 << 20, .max_meta_depth = 8};
    tm_doc_t *doc = NULL;
    char *id = NULL;
    tm_err_t err = {{0}, {0}};
    int rc = tm_doc_parse(buf, size, &lim, &doc, &id, &err);
    {
        tm_doc_t *ref = NULL;
        char *ref_id = NULL;
        tm_err_t ref_err = {{0}, {0}};
        int ref_rc = tm_doc_parse_reference(buf, size, &lim, &ref, &ref_id, &ref_err);
        if (ref_rc != rc || (id == NULL) != (ref_id == NULL) ||
            (id != NULL && strcmp(id, ref_id) != 0))
            abort();
        if (rc == TM_OK && (ref->text_len != doc->text_len ||
                            memcmp(ref->text, doc->text, doc->text_len) != 0 ||
                            ref->content_type != doc->content_type))
            abort();
        if (rc != TM_OK &&
            (strcmp(err.code, ref_err.code) != 0 || strcmp(err.message, ref_err.message) != 0))
            abort();
        tm_doc_destroy(&ref);
        free(ref_id);
    }
    if (rc == TM_OK) {
        if (doc == NULL || doc->text == NULL || strlen(doc->text) != doc->text_len)
            abort();
        if (doc->id == NULL)
            doc->id = strdup("fuzz");
        const char *names[1] = {"x"};
        size_t len = 0;
        char *out = tm_result_encode(doc, names, 0, 1, &len);
        if (out != NULL) {
            cJSON *back = cJSON_ParseWithLength(out, len + 1);
            if (back == NULL)
                abort(); /* we must always emit valid JSON */
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(back, "text");
            if (!cJSON_IsString(t) || strcmp(t->valuestring, doc->text) != 0)
                abort(); /* and it must carry the text unchanged */
            cJSON_Delete(back);
        }
        free(out);
        tm_doc_destroy(&doc);
    } else {
        int known = 0;
        for (size_t i = 0; i < sizeof tm__codes / sizeof tm__codes[0]; i++)
            known |= strcmp(err.code, tm__codes[i]) == 0;
        if (!known || doc != NULL)
            abort();
    }
    free(id);
    free(buf);
    return 0;
}
