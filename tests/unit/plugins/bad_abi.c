/* A plugin that claims a future ABI major: the loader must refuse it with
 * an "abi_mismatch" message naming both versions. */
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
    .abi_major = TM_ABI_MAJOR + 1, .abi_minor = 0, .struct_size = sizeof(tm_stage_desc_t),
    .name = "bad_abi", .version = "0", .create = create, .process = process,
};
TM_STAGE_EXPORT(desc)
