/*
 * alloc.c - the name of the allocator this build runs on (see alloc.h).
 */
#include "autoconfig.h"

#include "alloc.h"

#include <stdio.h>

#ifdef TM_HAVE_MIMALLOC
#include <mimalloc.h>
#endif

const char *tm_allocator_name(char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
#ifdef TM_HAVE_MIMALLOC
    /* mi_version() is 209 for 2.0.9.  Calling it also keeps the library
     * in the executable's DT_NEEDED list under --as-needed, which is what
     * makes its malloc the process's malloc. */
    int v = mi_version();
    snprintf(buf, cap, "mimalloc %d.%d.%d", v / 100, (v / 10) % 10, v % 10);
#else
    snprintf(buf, cap, "glibc malloc");
#endif
    return buf;
}
