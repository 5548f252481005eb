# The dedup stage: exact and near-duplicate detection (plugins/dedup/README.md).
DD_SOURCES = plugins/dedup/dedup.c plugins/dedup/dedup.h \
	plugins/dedup/normalize.c plugins/dedup/normalize.h \
	plugins/dedup/fold.c plugins/dedup/fold.h \
	plugins/dedup/html.c plugins/dedup/html.h \
	plugins/dedup/sketch.c plugins/dedup/sketch.h \
	plugins/dedup/texthash.c plugins/dedup/texthash.h \
	plugins/dedup/dftable.c plugins/dedup/dftable.h \
	plugins/dedup/verify.c plugins/dedup/verify.h \
	plugins/dedup/candset.c plugins/dedup/candset.h \
	plugins/dedup/memindex.c plugins/dedup/memindex.h \
	plugins/dedup/backend.h \
	plugins/dedup/store_lmdb.c plugins/dedup/store_redis.c
DD_CFLAGS = $(UTF8PROC_CFLAGS) $(XXHASH_CFLAGS) $(LMDB_CFLAGS) $(GUMBO_CFLAGS) $(HIREDIS_CFLAGS)
DD_LIBS = $(CJSON_LIBS) $(UTF8PROC_LIBS) $(XXHASH_LIBS) $(LMDB_LIBS) $(GUMBO_LIBS) \
	$(HIREDIS_LIBS) $(PTHREAD_LIBS)

pkglib_LTLIBRARIES += plugins/dedup.la
plugins_dedup_la_SOURCES = $(DD_SOURCES)
plugins_dedup_la_CFLAGS = $(TM_PLUGIN_CFLAGS) $(DD_CFLAGS)
plugins_dedup_la_LDFLAGS = $(TM_PLUGIN_LDFLAGS)
plugins_dedup_la_LIBADD = $(DD_LIBS)

dedupdatadir = $(pkgdatadir)/dedup
dist_dedupdata_DATA = plugins/dedup/html-entities.tsv plugins/dedup/punct-fold.tsv
EXTRA_DIST += plugins/dedup/README.md plugins/dedup/SOURCES.md bench/dedup.sh bench/dedup_micro.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_dedup
TESTS += tests/unit/test_dedup
tests_unit_test_dedup_SOURCES = tests/unit/test_dedup.c $(DD_SOURCES)
tests_unit_test_dedup_CFLAGS = $(TM_UNIT_CFLAGS) $(DD_CFLAGS)
tests_unit_test_dedup_LDADD = $(TM_UNIT_LIBS) $(DD_LIBS)
check_PROGRAMS += tests/unit/test_dedup_redis
TESTS += tests/unit/test_dedup_redis
tests_unit_test_dedup_redis_SOURCES = tests/unit/test_dedup_redis.c $(DD_SOURCES)
tests_unit_test_dedup_redis_CFLAGS = $(TM_UNIT_CFLAGS) $(DD_CFLAGS)
tests_unit_test_dedup_redis_LDADD = $(TM_UNIT_LIBS) $(DD_LIBS)
endif
TM_DD_E2E_TESTS = tests/e2e/test_dedup.py tests/e2e/test_dedup_redis.py
TESTS += $(TM_DD_E2E_TESTS)
EXTRA_DIST += $(TM_DD_E2E_TESTS)
