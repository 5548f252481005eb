/*
 * fuzz_spool_record.c - libFuzzer harness for what the spool reads back
 * from disk after a crash: spool records (a torn or foreign record must be
 * refused, never trusted) and crash-record lines.
 *
 * FUZZ-SOURCES: daemon/spool.c daemon/crash.c daemon/metrics.c
 * FUZZ-PKGS: lmdb
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "../../daemon/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tm_spool_entry_t e;
    if (tm_spool_record_decode(data, size, &e) == TM_OK) {
        /* A record that decodes re-encodes to the same bytes' meaning. */
        if (e.raw_len + TM_SPOOL_HEADER_BYTES != size || strlen(e.stage) >= sizeof e.stage)
            abort();
        unsigned char *buf = malloc(size);
        if (buf == NULL)
            return 0;
        size_t n = tm_spool_record_encode(buf, size, &e);
        tm_spool_entry_t d;
        if (n != size || tm_spool_record_decode(buf, n, &d) != TM_OK ||
            d.attempts != e.attempts || d.raw_len != e.raw_len ||
            memcmp(d.raw, e.raw, e.raw_len) != 0 || strcmp(d.stage, e.stage) != 0)
            abort();
        free(buf);
    }
    uint64_t key;
    int sig;
    char stage[64], id[300];
    if (tm_spool_crash_line((const char *)data, size, &key, &sig, stage, sizeof stage, id,
                            sizeof id) == TM_OK &&
        ((key == 0 && id[0] == '\0') || stage[0] == '\0' || strlen(stage) >= sizeof stage ||
         strlen(id) >= sizeof id))
        abort();
    return 0;
}
