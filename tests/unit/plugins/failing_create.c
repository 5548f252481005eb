/* A plugin whose create() always fails: start-up must be refused with its
 * message. */
#include <textmill/stage.h>

static const tm_param_t params[] = {
    {.key = "lexicon", .type = TM_PARAM_PATH, .default_json = "\"missing.txt\"",
     .description = "a file that does not exist"},
    {0},
};
static int create(const tm_host_t *h, const cJSON *c, void **inst, tm_err_t *err)
{
    (void)h;
    *inst = NULL;
    const cJSON *lex = cJSON_GetObjectItemCaseSensitive(c, "lexicon");
    return tm_err_set(err, TM_EIO, "lexicon_unreadable", "cannot open lexicon %s",
                      cJSON_IsString(lex) ? lex->valuestring : "?");
}
static int process(void *i, void *t, tm_doc_t *d, tm_err_t *e)
{
    (void)i; (void)t; (void)d; (void)e;
    return TM_OK;
}
static const tm_stage_desc_t desc = {
    TM_STAGE_DESC_HEADER, .name = "failing_create", .version = "0", .params = params,
    .create = create, .process = process,
};
TM_STAGE_EXPORT(desc)
