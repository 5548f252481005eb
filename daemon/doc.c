/*
 * doc.c - the document model and the document accessors of the host table.
 */
#include "autoconfig.h"

#include "doc.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

const char TM_CT_PLAIN[] = "text/plain";
const char TM_CT_HTML[] = "text/html";
const char TM_CT_MARKDOWN[] = "text/markdown";

const char *const tm_doc_field_names[TM_FIELD_COUNT] = {"url", "source", "lang", "published_at"};

tm_doc_t *tm_doc_new(void)
{
    tm_doc_t *doc = calloc(1, sizeof *doc);
    if (doc == NULL)
        return NULL;
    doc->content_type = TM_CT_PLAIN;
    doc->cur_stage = -1;
    memcpy(doc->topic, "result.unique", sizeof "result.unique");
    return doc;
}

void tm_doc_destroy(tm_doc_t **docp)
{
    tm_doc_t *doc = *docp;
    if (doc == NULL)
        return;
    free(doc->id);
    free(doc->text);
    for (int i = 0; i < TM_FIELD_COUNT; i++)
        free(doc->fields[i]);
    cJSON_Delete(doc->meta);
    cJSON_Delete(doc->annotations);
    cJSON_Delete(doc->errors);
    while (doc->stash != NULL) {
        tm_stash_t *s = doc->stash;
        doc->stash = s->next;
        if (s->free_fn != NULL)
            s->free_fn(s->ptr);
        free(s);
    }
    free(doc);
    *docp = NULL;
}

void tm_doc_add_error(tm_doc_t *doc, const char *stage, const tm_err_t *err)
{
    if (doc->errors == NULL && (doc->errors = cJSON_CreateArray()) == NULL)
        return;
    cJSON *e = cJSON_CreateObject();
    if (e == NULL)
        return;
    cJSON_AddStringToObject(e, "stage", stage);
    cJSON_AddStringToObject(e, "code", err->code[0] ? err->code : "stage_error");
    cJSON_AddStringToObject(e, "message", err->message[0] ? err->message : "stage failed");
    cJSON_AddItemToArray(doc->errors, e);
}

int tm_doc_replace_text(tm_doc_t *doc, const char *text, size_t len)
{
    if (text == NULL && len > 0)
        return TM_EINVAL;
    if (len > 0 && (memchr(text, '\0', len) != NULL || !tm_utf8_valid(text, len)))
        return TM_EINVAL;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return TM_ENOMEM;
    if (len > 0)
        memcpy(copy, text, len);
    copy[len] = '\0';
    free(doc->text);
    doc->text = copy;
    doc->text_len = len;
    return TM_OK;
}

/* ---- accessors handed to stages through the host table ---- */

static const char *tm__doc_id(const tm_doc_t *doc) { return doc->id; }

static const char *tm__doc_text(const tm_doc_t *doc, size_t *len)
{
    if (len != NULL)
        *len = doc->text_len;
    return doc->text;
}

static const char *tm__doc_content_type(const tm_doc_t *doc) { return doc->content_type; }

static const char *tm__doc_field(const tm_doc_t *doc, const char *name)
{
    if (name == NULL)
        return NULL;
    for (int i = 0; i < TM_FIELD_COUNT; i++)
        if (strcmp(name, tm_doc_field_names[i]) == 0)
            return doc->fields[i];
    return NULL;
}

static const cJSON *tm__doc_meta(const tm_doc_t *doc) { return doc->meta; }

/* A stage may attach an annotation as pre-serialised JSON (cJSON_Raw): the
 * cheap way to write a large one, and the codec copies it out verbatim.  A
 * later stage reading it gets a tree.  When the writer hung the same value
 * as a tree under the raw item's child, that is it: the reader gets the
 * tree, the result gets the stage's own bytes, and nobody parses or encodes
 * anything twice.  Otherwise the raw text is parsed on first read and
 * replaces the raw item in place (one worker owns a document at a time, so
 * this needs no lock).  Unparseable raw text is returned as it is. */
static const cJSON *tm__doc_annotation(const tm_doc_t *doc, const char *key)
{
    if (doc->annotations == NULL || key == NULL)
        return NULL;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc->annotations, key);
    if (v == NULL || !cJSON_IsRaw(v) || v->valuestring == NULL)
        return v;
    if (v->child != NULL)
        return v->child;
    cJSON *tree = cJSON_ParseWithOpts(v->valuestring, NULL, 1);
    if (tree == NULL)
        return v;
    if (!cJSON_ReplaceItemInObjectCaseSensitive(doc->annotations, key, tree)) {
        cJSON_Delete(tree);
        return v;
    }
    return tree;
}

static int tm__doc_annotate(tm_doc_t *doc, const char *key, cJSON *value)
{
    if (value == NULL)
        return TM_EINVAL;
    if (key == NULL || key[0] == '\0') {
        cJSON_Delete(value);
        return TM_EINVAL;
    }
    if (doc->annotations == NULL && (doc->annotations = cJSON_CreateObject()) == NULL) {
        cJSON_Delete(value);
        return TM_ENOMEM;
    }
    if (cJSON_GetObjectItemCaseSensitive(doc->annotations, key) != NULL) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(doc->annotations, key, value)) {
            cJSON_Delete(value);
            return TM_ENOMEM;
        }
        return TM_OK;
    }
    if (!cJSON_AddItemToObject(doc->annotations, key, value)) {
        cJSON_Delete(value);
        return TM_ENOMEM;
    }
    return TM_OK;
}

static int tm__doc_set_text(tm_doc_t *doc, const char *text, size_t len)
{
    if (!(doc->cur_flags & TM_STAGE_REWRITES_TEXT))
        return TM_EPERM;
    return tm_doc_replace_text(doc, text, len);
}

static int tm__doc_set_route(tm_doc_t *doc, const char *suffix, unsigned flags)
{
    if (suffix != NULL) {
        size_t n = strlen(suffix);
        if (n == 0 || n + sizeof "result." > sizeof doc->topic)
            return TM_EINVAL;
        for (size_t i = 0; i < n; i++) {
            char c = suffix[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
                return TM_EINVAL;
        }
        /* Fits, checked above; memcpy, since snprintf cost ~700
         * instructions on a path every document takes once dedup runs. */
        memcpy(doc->topic, "result.", sizeof "result." - 1);
        memcpy(doc->topic + sizeof "result." - 1, suffix, n + 1);
    }
    doc->route_flags = flags;
    return TM_OK;
}

static int tm__doc_stash_put(tm_doc_t *doc, void *ptr, void (*free_fn)(void *))
{
    tm_stash_t *s = malloc(sizeof *s);
    if (s == NULL)
        return TM_ENOMEM;
    s->stage = doc->cur_stage;
    s->ptr = ptr;
    s->free_fn = free_fn;
    s->next = doc->stash;
    doc->stash = s;
    return TM_OK;
}

static void *tm__doc_stash_take(tm_doc_t *doc)
{
    for (tm_stash_t **pp = &doc->stash; *pp != NULL; pp = &(*pp)->next) {
        tm_stash_t *s = *pp;
        if (s->stage == doc->cur_stage) {
            void *ptr = s->ptr;
            *pp = s->next;
            free(s);
            return ptr;
        }
    }
    return NULL;
}

void tm_doc_fill_host(tm_host_t *host)
{
    host->doc_id = tm__doc_id;
    host->doc_text = tm__doc_text;
    host->doc_content_type = tm__doc_content_type;
    host->doc_field = tm__doc_field;
    host->doc_meta = tm__doc_meta;
    host->doc_annotation = tm__doc_annotation;
    host->doc_annotate = tm__doc_annotate;
    host->doc_set_text = tm__doc_set_text;
    host->doc_set_route = tm__doc_set_route;
    host->doc_stash_put = tm__doc_stash_put;
    host->doc_stash_take = tm__doc_stash_take;
}
