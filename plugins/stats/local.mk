# The example stage (also built out of tree by tests/e2e/test_example_plugin.py).
pkglib_LTLIBRARIES += plugins/stats.la
plugins_stats_la_SOURCES = plugins/stats/stats.c
plugins_stats_la_CFLAGS = $(TM_PLUGIN_CFLAGS)
plugins_stats_la_LDFLAGS = $(TM_PLUGIN_LDFLAGS)
plugins_stats_la_LIBADD = $(CJSON_LIBS)
EXTRA_DIST += plugins/stats/Makefile.example
