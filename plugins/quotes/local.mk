# The quotes stage: direct, mixed and indirect quotations with resolved speakers.
QT_SOURCES = plugins/quotes/quotes.c plugins/quotes/qt.h plugins/quotes/qt_lex.c \
	plugins/quotes/qt_tok.c plugins/quotes/qt_marks.c plugins/quotes/qt_np.c \
	plugins/quotes/qt_attr.c plugins/quotes/qt_report.c plugins/quotes/qt_coref.c \
	plugins/quotes/qt_emit.c
pkglib_LTLIBRARIES += plugins/quotes.la
plugins_quotes_la_SOURCES = $(QT_SOURCES)
plugins_quotes_la_CFLAGS = $(TM_PLUGIN_CFLAGS) $(UTF8PROC_CFLAGS) $(XXHASH_CFLAGS)
plugins_quotes_la_LDFLAGS = $(TM_PLUGIN_LDFLAGS)
plugins_quotes_la_LIBADD = $(CJSON_LIBS) $(UTF8PROC_LIBS) $(XXHASH_LIBS)

quotesdatadir = $(pkgdatadir)/quotes
dist_quotesdata_DATA = plugins/quotes/cue_verbs.txt plugins/quotes/cue_phrases.txt \
	plugins/quotes/titles.txt plugins/quotes/roles.txt plugins/quotes/pronouns.txt \
	plugins/quotes/function_words.txt
EXTRA_DIST += plugins/quotes/README.md plugins/quotes/SOURCES.md bench/quotes.sh \
	tests/fuzz/fuzz_quotes.c tests/fuzz/corpus/quotes tests/fuzz/quotes.dict

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_quotes
TESTS += tests/unit/test_quotes
tests_unit_test_quotes_SOURCES = tests/unit/test_quotes.c $(QT_SOURCES)
tests_unit_test_quotes_CFLAGS = $(TM_UNIT_CFLAGS) $(UTF8PROC_CFLAGS) $(XXHASH_CFLAGS)
tests_unit_test_quotes_LDADD = $(TM_UNIT_LIBS)
endif

# End-to-end: the real CLI and daemon with the built plugin and its data.
TESTS += tests/e2e/test_quotes.py
EXTRA_DIST += tests/e2e/test_quotes.py
