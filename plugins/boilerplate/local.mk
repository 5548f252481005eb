# The boilerplate stage: strips page chrome from plain text, Markdown and HTML.
BP_SOURCES = plugins/boilerplate/bp_stage.c plugins/boilerplate/bp_util.c \
	plugins/boilerplate/bp_util.h plugins/boilerplate/bp_lex.c plugins/boilerplate/bp_lex.h \
	plugins/boilerplate/bp_hints.c plugins/boilerplate/bp_hints.h \
	plugins/boilerplate/bp_doc.h plugins/boilerplate/bp_text.c plugins/boilerplate/bp_meta.c \
	plugins/boilerplate/bp_md.c plugins/boilerplate/bp_html.c \
	plugins/boilerplate/bp_html.h plugins/boilerplate/bp_html_pre.c \
	plugins/boilerplate/bp_scan.c plugins/boilerplate/bp_scan.h
BP_CFLAGS = $(UTF8PROC_CFLAGS) $(XXHASH_CFLAGS) $(GUMBO_CFLAGS)
BP_LIBS = $(CJSON_LIBS) $(UTF8PROC_LIBS) $(XXHASH_LIBS) $(GUMBO_LIBS)

pkglib_LTLIBRARIES += plugins/boilerplate.la
plugins_boilerplate_la_SOURCES = $(BP_SOURCES)
plugins_boilerplate_la_CFLAGS = $(TM_PLUGIN_CFLAGS) $(BP_CFLAGS)
plugins_boilerplate_la_LDFLAGS = $(TM_PLUGIN_LDFLAGS)
plugins_boilerplate_la_LIBADD = $(BP_LIBS)

boilerplatedatadir = $(pkgdatadir)/boilerplate/data
dist_boilerplatedata_DATA = \
	plugins/boilerplate/data/phrases.en.txt plugins/boilerplate/data/phrases.fr.txt \
	plugins/boilerplate/data/phrases.de.txt plugins/boilerplate/data/phrases.es.txt \
	plugins/boilerplate/data/phrases.it.txt plugins/boilerplate/data/phrases.pt.txt \
	plugins/boilerplate/data/phrases.nl.txt plugins/boilerplate/data/phrases.meta.txt \
	plugins/boilerplate/data/stopwords.en.txt plugins/boilerplate/data/stopwords.fr.txt \
	plugins/boilerplate/data/stopwords.de.txt plugins/boilerplate/data/stopwords.es.txt \
	plugins/boilerplate/data/stopwords.it.txt plugins/boilerplate/data/stopwords.pt.txt \
	plugins/boilerplate/data/stopwords.nl.txt plugins/boilerplate/data/stopwords.sv.txt \
	plugins/boilerplate/data/stopwords.da.txt plugins/boilerplate/data/stopwords.no.txt \
	plugins/boilerplate/data/stopwords.fi.txt plugins/boilerplate/data/stopwords.pl.txt \
	plugins/boilerplate/data/stopwords.ru.txt plugins/boilerplate/data/class_hints.txt \
	plugins/boilerplate/data/agencies.txt
EXTRA_DIST += plugins/boilerplate/README.md plugins/boilerplate/SOURCES.md bench/boilerplate.sh

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_boilerplate
TESTS += tests/unit/test_boilerplate
tests_unit_test_boilerplate_SOURCES = tests/unit/test_boilerplate.c $(BP_SOURCES)
tests_unit_test_boilerplate_CFLAGS = $(TM_UNIT_CFLAGS) $(BP_CFLAGS)
tests_unit_test_boilerplate_LDADD = $(TM_UNIT_LIBS) $(BP_LIBS)
endif

# End-to-end: the real textmilld with the stage, over ZeroMQ (via the CLI).
TESTS += tests/e2e/test_boilerplate.py
EXTRA_DIST += tests/e2e/test_boilerplate.py
