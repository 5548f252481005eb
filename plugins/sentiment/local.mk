# The sentiment stage: lexicon rules (VADER tradition) + a trained people model.
pkglib_LTLIBRARIES += plugins/sentiment.la
TM_SENTIMENT_SOURCES = \
	plugins/sentiment/sentiment.c \
	plugins/sentiment/jsonw.c plugins/sentiment/jsonw.h \
	plugins/sentiment/lexicon.c plugins/sentiment/lexicon.h \
	plugins/sentiment/text.c plugins/sentiment/text.h \
	plugins/sentiment/score.c plugins/sentiment/score.h \
	plugins/sentiment/people.c plugins/sentiment/people.h \
	plugins/sentiment/model.c plugins/sentiment/model.h
plugins_sentiment_la_SOURCES = $(TM_SENTIMENT_SOURCES)
plugins_sentiment_la_CFLAGS = $(TM_PLUGIN_CFLAGS) $(UTF8PROC_CFLAGS) $(XXHASH_CFLAGS)
plugins_sentiment_la_LDFLAGS = $(TM_PLUGIN_LDFLAGS)
plugins_sentiment_la_LIBADD = $(CJSON_LIBS) $(UTF8PROC_LIBS) $(XXHASH_LIBS) -lm

sentimentdatadir = $(pkgdatadir)/sentiment
dist_sentimentdata_DATA = \
	plugins/sentiment/vader_lexicon.txt \
	plugins/sentiment/vader_emoji_utf8_lexicon.txt \
	plugins/sentiment/vader_lexicon.LICENSE.txt \
	plugins/sentiment/rules.txt \
	plugins/sentiment/names.txt \
	plugins/sentiment/news_lexicon.txt \
	plugins/sentiment/people_model.txt
EXTRA_DIST += plugins/sentiment/README.md plugins/sentiment/SOURCES.md \
	plugins/sentiment/train/train_targets.py tests/fuzz/fuzz_sentiment.c \
	tests/fuzz/fuzz_sentiment_files.c tests/fuzz/sentiment.dict \
	tests/fuzz/corpus/sentiment tests/fuzz/corpus/sentiment_files \
	tests/data/sentiment bench/sentiment.sh

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_sentiment
TESTS += tests/unit/test_sentiment
tests_unit_test_sentiment_SOURCES = tests/unit/test_sentiment.c $(TM_SENTIMENT_SOURCES)
tests_unit_test_sentiment_CFLAGS = $(TM_UNIT_CFLAGS) $(UTF8PROC_CFLAGS) $(XXHASH_CFLAGS) \
	-DTM_SENTIMENT_DATA='"$(abs_top_srcdir)/plugins/sentiment"' \
	-DTM_SENTIMENT_TESTDATA='"$(abs_top_srcdir)/tests/data/sentiment"'
tests_unit_test_sentiment_LDADD = $(TM_UNIT_LIBS)
endif
