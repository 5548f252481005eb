/*
 * utf8.h - UTF-8 validation.
 *
 * ASCII runs are skipped eight bytes at a time; every multi-byte sequence is
 * decoded and checked by utf8proc (overlongs, surrogates and code points
 * above U+10FFFF are invalid).
 */
#ifndef TM_UTF8_H
#define TM_UTF8_H

#include <stddef.h>

/* Offset of the first byte that is not part of valid UTF-8, or len when all
 * of s is valid.  NUL bytes count as valid here; callers that forbid them
 * look for them separately. */
size_t tm_utf8_invalid_at(const char *s, size_t len);

static inline int tm_utf8_valid(const char *s, size_t len) { return tm_utf8_invalid_at(s, len) == len; }

/* Length of the longest prefix of s[0..len) that does not end inside a
 * multi-byte sequence and is at most max bytes: for cutting text safely. */
size_t tm_utf8_clip(const char *s, size_t len, size_t max);

#endif
