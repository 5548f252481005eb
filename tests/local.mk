# Tests: cmocka unit tests (one program per module) and end-to-end tests
# that start the real textmilld on loopback and talk to it over ZeroMQ.
TEST_EXTENSIONS = .py
# Every test is bounded in time: a hang fails the test (exit 124) instead of
# stalling CI.  TM_TEST_TIMEOUT (seconds) raises the bound for slow builds.
TM_TEST_TIMEOUT = timeout -k 10 $${TM_TEST_TIMEOUT:-600}
PY_LOG_COMPILER = $(TM_TEST_TIMEOUT) $(PYTHON3)
LOG_COMPILER = $(TM_TEST_TIMEOUT)
AM_TESTS_ENVIRONMENT = \
	TM_BUILDDIR='$(abs_top_builddir)'; export TM_BUILDDIR; \
	TM_SRCDIR='$(abs_top_srcdir)'; export TM_SRCDIR; \
	TEXTMILL_PLUGIN_DIR='$(abs_top_builddir)/plugins'; export TEXTMILL_PLUGIN_DIR; \
	TEXTMILL_DATA_DIR='$(abs_top_srcdir)/plugins'; export TEXTMILL_DATA_DIR; \
	TM_NO_DLCLOSE=1; export TM_NO_DLCLOSE; \
	TEXTMILL_ALLOW_ROOT=1; export TEXTMILL_ALLOW_ROOT;

# Test plugins: deliberately broken ones for the loader, and probes for the
# pipeline and the daemon's error paths.
TM_TEST_PLUGIN_LDFLAGS = -module -avoid-version -shared -rpath /nowhere $(TM_SAN_CFLAGS)
check_LTLIBRARIES += tests/unit/plugins/bad_abi.la tests/unit/plugins/newer_minor.la \
	tests/unit/plugins/old_major.la tests/unit/plugins/no_entry.la \
	tests/unit/plugins/failing_create.la tests/unit/plugins/probe.la \
	tests/unit/plugins/rewriter.la
tests_unit_plugins_bad_abi_la_SOURCES = tests/unit/plugins/bad_abi.c
tests_unit_plugins_bad_abi_la_CFLAGS = $(TM_PLUGIN_CFLAGS)
tests_unit_plugins_bad_abi_la_LDFLAGS = $(TM_TEST_PLUGIN_LDFLAGS)
tests_unit_plugins_newer_minor_la_SOURCES = tests/unit/plugins/newer_minor.c
tests_unit_plugins_newer_minor_la_CFLAGS = $(TM_PLUGIN_CFLAGS)
tests_unit_plugins_newer_minor_la_LDFLAGS = $(TM_TEST_PLUGIN_LDFLAGS)
tests_unit_plugins_old_major_la_SOURCES = tests/unit/plugins/old_major.c
tests_unit_plugins_old_major_la_CFLAGS = $(TM_PLUGIN_CFLAGS)
tests_unit_plugins_old_major_la_LDFLAGS = $(TM_TEST_PLUGIN_LDFLAGS)
tests_unit_plugins_no_entry_la_SOURCES = tests/unit/plugins/no_entry.c
tests_unit_plugins_no_entry_la_CFLAGS = $(TM_PLUGIN_CFLAGS)
tests_unit_plugins_no_entry_la_LDFLAGS = $(TM_TEST_PLUGIN_LDFLAGS)
tests_unit_plugins_failing_create_la_SOURCES = tests/unit/plugins/failing_create.c
tests_unit_plugins_failing_create_la_CFLAGS = $(TM_PLUGIN_CFLAGS)
tests_unit_plugins_failing_create_la_LDFLAGS = $(TM_TEST_PLUGIN_LDFLAGS)
tests_unit_plugins_failing_create_la_LIBADD = $(CJSON_LIBS)
tests_unit_plugins_probe_la_SOURCES = tests/unit/plugins/probe.c
tests_unit_plugins_probe_la_CFLAGS = $(TM_PLUGIN_CFLAGS)
tests_unit_plugins_probe_la_LDFLAGS = $(TM_TEST_PLUGIN_LDFLAGS)
tests_unit_plugins_probe_la_LIBADD = $(CJSON_LIBS)
tests_unit_plugins_rewriter_la_SOURCES = tests/unit/plugins/rewriter.c
tests_unit_plugins_rewriter_la_CFLAGS = $(TM_PLUGIN_CFLAGS)
tests_unit_plugins_rewriter_la_LDFLAGS = $(TM_TEST_PLUGIN_LDFLAGS)

if HAVE_CMOCKA
# Shared by every unit test: the in-process stage host.
check_LIBRARIES = tests/libtesthost.a
tests_libtesthost_a_SOURCES = tests/support/testhost.c tests/support/testhost.h
tests_libtesthost_a_CFLAGS = $(libtmcore_a_CFLAGS)

TM_UNIT_CFLAGS = $(libtmcore_a_CFLAGS) $(CMOCKA_CFLAGS)
TM_UNIT_LIBS = tests/libtesthost.a $(TM_CORE_LIBS) $(CMOCKA_LIBS) -lm

TM_CORE_UNIT_TESTS = tests/unit/test_utf8 tests/unit/test_params tests/unit/test_config \
	tests/unit/test_codec tests/unit/test_doc tests/unit/test_loader tests/unit/test_lane \
	tests/unit/test_idset tests/unit/test_metrics tests/unit/test_pipeline \
	tests/unit/test_stats tests/unit/test_spool tests/unit/test_auth tests/unit/test_workers \
	tests/unit/test_zloop
check_PROGRAMS += $(TM_CORE_UNIT_TESTS)
TESTS += $(TM_CORE_UNIT_TESTS)

tests_unit_test_utf8_SOURCES = tests/unit/test_utf8.c
tests_unit_test_utf8_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_utf8_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_params_SOURCES = tests/unit/test_params.c
tests_unit_test_params_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_params_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_codec_SOURCES = tests/unit/test_codec.c
tests_unit_test_codec_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_codec_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_doc_SOURCES = tests/unit/test_doc.c
tests_unit_test_doc_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_doc_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_loader_SOURCES = tests/unit/test_loader.c
tests_unit_test_loader_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_loader_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_lane_SOURCES = tests/unit/test_lane.c
tests_unit_test_lane_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_lane_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_idset_SOURCES = tests/unit/test_idset.c
tests_unit_test_idset_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_idset_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_metrics_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_pipeline_SOURCES = tests/unit/test_pipeline.c
tests_unit_test_pipeline_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_pipeline_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_spool_SOURCES = tests/unit/test_spool.c
tests_unit_test_spool_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_spool_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c
tests_unit_test_auth_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_auth_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_zloop_SOURCES = tests/unit/test_zloop.c
tests_unit_test_zloop_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_zloop_LDADD = $(TM_UNIT_LIBS)
tests_unit_test_workers_SOURCES = tests/unit/test_workers.c
tests_unit_test_workers_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_workers_LDADD = $(TM_UNIT_LIBS)
# The example stage, compiled into its test (its entry point is then a
# plain function of the test program).
tests_unit_test_stats_SOURCES = tests/unit/test_stats.c plugins/stats/stats.c
tests_unit_test_stats_CFLAGS = $(TM_UNIT_CFLAGS)
tests_unit_test_stats_LDADD = $(TM_UNIT_LIBS)
endif

# End-to-end tests: the real textmilld on loopback, real ZeroMQ sockets.
TM_E2E_TESTS = tests/e2e/test_protocol.py tests/e2e/test_bad_input.py \
	tests/e2e/test_shutdown.py tests/e2e/test_cli.py tests/e2e/test_example_plugin.py \
	tests/e2e/test_durability.py tests/e2e/test_reload.py tests/e2e/test_ops.py \
	tests/e2e/test_prometheus.py tests/e2e/test_systemd.py
TESTS += $(TM_E2E_TESTS)
EXTRA_DIST += $(TM_E2E_TESTS) tests/e2e/tmtest.py tests/data
