/* A plugin built against a newer minor ABI than the host's: refused. */
#include <textmill/stage.h>

static int create(const tm_host_t *h, const cJSON *c, void **inst, tm_err_t *err)
{
    (void)h; (void)c; (void)err;
    *inst = NULL;
    return TM_OK;
}
static int process(void *i, void *t, tm_doc_t *d, tm_err_t *e)
{
    (void)i; (void)t; (void)d; (void)e;
    return TM_OK;
}
static const tm_stage_desc_t desc = {
    .abi_major = TM_ABI_MAJOR, .abi_minor = TM_ABI_MINOR + 1,
    .struct_size = sizeof(tm_stage_desc_t), .name = "newer_minor", .version = "0",
    .create = create, .process = process,
};
TM_STAGE_EXPORT(desc)
