/*
 * unit.h - what every cmocka unit test includes.
 */
#ifndef TM_UNIT_H
#define TM_UNIT_H

#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Path of a test plugin built under tests/unit/plugins (libtool puts the
 * .so in .libs/).  TM_BUILDDIR is set by `make check`. */
static inline const char *tm_test_plugin(const char *name, char *buf, size_t size)
{
    const char *b = getenv("TM_BUILDDIR");
    snprintf(buf, size, "%s/tests/unit/plugins/.libs/%s.so", b != NULL ? b : ".", name);
    return buf;
}

/* The build tree's plugin directory (plugins/.libs holds the shipped stages). */
static inline const char *tm_test_plugin_dir(char *buf, size_t size)
{
    const char *b = getenv("TM_BUILDDIR");
    snprintf(buf, size, "%s/plugins", b != NULL ? b : ".");
    return buf;
}

#define assert_contains(haystack, needle)                                                      \
    do {                                                                                       \
        const char *h__ = (haystack);                                                          \
        if (h__ == NULL || strstr(h__, (needle)) == NULL)                                      \
            fail_msg("expected \"%s\" to contain \"%s\"", h__ ? h__ : "(null)", (needle));     \
    } while (0)

#endif
