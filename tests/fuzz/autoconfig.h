/* Stand-in for configure's autoconfig.h in fuzz builds (tests/fuzz/build.sh
 * compiles the sources directly with clang, without configure). */
#ifndef TM_FUZZ_AUTOCONFIG_H
#define TM_FUZZ_AUTOCONFIG_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "fuzz"
#endif
#endif
