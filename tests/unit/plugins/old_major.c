/* A plugin from an older ABI major: it exports tm_stage_entry_v0 only.
 * The loader must say "ABI mismatch", not "not a plugin". */
#include <textmill/stage.h>

TM_PUBLIC const void *tm_stage_entry_v0(void);
TM_PUBLIC const void *tm_stage_entry_v0(void) { return "v0"; }
