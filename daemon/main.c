/*
 * main.c - textmilld's command line: flags, config loading, and the
 * --check-config / --describe-stage / --help-config modes.
 *
 * Exit codes: 0 clean stop; 64 bad usage; 78 (EX_CONFIG) bad config or a
 * plugin that cannot be loaded, so systemd's RestartPreventExitStatus=78
 * keeps a broken config from restart-looping; 1 other start-up failures.
 */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "log.h"
#include "params.h"
#include "pipeline.h"
#include "server.h"

#define TM_EX_USAGE 64
#define TM_EX_CONFIG 78

static void tm__usage(FILE *out)
{
    fprintf(out,
            "Usage: textmilld [OPTIONS]\n"
            "Text-analytics pipeline daemon: documents in over ZeroMQ, through stage plugins,\n"
            "results out over ZeroMQ.  See proto/protocol.md for the wire protocol.\n"
            "\n"
            "  -c, --config FILE        config file (default %s if it exists)\n"
            "      --ingest EP          ROUTER endpoint for acknowledged input (\"\" = off)\n"
            "      --push EP            PULL endpoint for fire-and-forget input (\"\" = off)\n"
            "      --publish EP         PUB endpoint for results (\"\" = off)\n"
            "      --deliver EP         PUSH endpoint for load-balanced results (\"\" = off)\n"
            "      --http HOST:PORT     /metrics, /healthz, /readyz (\"\" = off, port 0 = any)\n"
            "  -w, --workers N          worker threads (0 = one per CPU)\n"
            "  -l, --log-level LEVEL    error, warn, info or debug\n"
            "      --plugin-dir DIR     where stage plugins are found\n"
            "      --data-dir DIR       where stage data files are found\n"
            "      --state-dir DIR      writable directory for persistent state\n"
            "      --endpoints-file F   write the bound endpoints as JSON to F once ready\n"
            "      --allow-root         run even as root (refused by default)\n"
            "      --check-config       load the config and every plugin, then exit\n"
            "      --describe-stage S   print a stage plugin's config keys (name or .so path)\n"
            "      --help-config        print every daemon config key\n"
            "  -V, --version            print the version\n"
            "  -h, --help               print this help\n",
            tm_config_default_path());
}

static int tm__add_override(cJSON *ov, const char *key, const char *value, int numeric)
{
    if (numeric) {
        char *end = NULL;
        double d = strtod(value, &end);
        if (end == value || *end != '\0') {
            fprintf(stderr, "textmilld: --%s needs a number, got \"%s\"\n", key, value);
            return -1;
        }
        cJSON_AddNumberToObject(ov, key, d);
    } else {
        cJSON_AddStringToObject(ov, key, value);
    }
    return 0;
}

int main(int argc, char **argv)
{
    enum {
        OPT_INGEST = 256, OPT_PUSH, OPT_PUBLISH, OPT_DELIVER, OPT_PLUGIN_DIR, OPT_DATA_DIR,
        OPT_STATE_DIR, OPT_ENDPOINTS_FILE, OPT_CHECK, OPT_DESCRIBE, OPT_HELP_CONFIG,
        OPT_ALLOW_ROOT, OPT_HTTP
    };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"ingest", required_argument, NULL, OPT_INGEST},
        {"push", required_argument, NULL, OPT_PUSH},
        {"publish", required_argument, NULL, OPT_PUBLISH},
        {"deliver", required_argument, NULL, OPT_DELIVER},
        {"workers", required_argument, NULL, 'w'},
        {"log-level", required_argument, NULL, 'l'},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"endpoints-file", required_argument, NULL, OPT_ENDPOINTS_FILE},
        {"allow-root", no_argument, NULL, OPT_ALLOW_ROOT},
        {"http", required_argument, NULL, OPT_HTTP},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"describe-stage", required_argument, NULL, OPT_DESCRIBE},
        {"help-config", no_argument, NULL, OPT_HELP_CONFIG},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *endpoints_file = NULL, *describe = NULL;
    int check_only = 0, rc;
    cJSON *ov = cJSON_CreateObject();
    if (ov == NULL)
        return 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:w:l:Vh", longopts, NULL)) != -1) {
        rc = 0;
        switch (opt) {
        case 'c': config_path = optarg; break;
        case OPT_INGEST: rc = tm__add_override(ov, "ingest", optarg, 0); break;
        case OPT_PUSH: rc = tm__add_override(ov, "push", optarg, 0); break;
        case OPT_PUBLISH: rc = tm__add_override(ov, "publish", optarg, 0); break;
        case OPT_DELIVER: rc = tm__add_override(ov, "deliver", optarg, 0); break;
        case 'w': rc = tm__add_override(ov, "workers", optarg, 1); break;
        case 'l': rc = tm__add_override(ov, "log_level", optarg, 0); break;
        case OPT_PLUGIN_DIR: rc = tm__add_override(ov, "plugin_dir", optarg, 0); break;
        case OPT_DATA_DIR: rc = tm__add_override(ov, "data_dir", optarg, 0); break;
        case OPT_STATE_DIR: rc = tm__add_override(ov, "state_dir", optarg, 0); break;
        case OPT_ENDPOINTS_FILE: endpoints_file = optarg; break;
        case OPT_ALLOW_ROOT: cJSON_AddTrueToObject(ov, "allow_root"); break;
        case OPT_HTTP: rc = tm__add_override(ov, "http", optarg, 0); break;
        case OPT_CHECK: check_only = 1; break;
        case OPT_DESCRIBE: describe = optarg; break;
        case OPT_HELP_CONFIG:
            printf("textmilld config keys (JSON; // and /* */ comments allowed):\n");
            tm_params_describe(stdout, tm_config_params);
            printf("\neach \"pipeline\" entry:\n");
            tm_params_describe(stdout, tm_pipeline_entry_params);
            cJSON_Delete(ov);
            return 0;
        case 'V': {
            char an[48];
            printf("textmilld %s (stage ABI %d.%d, %s)\n", PACKAGE_VERSION, TM_ABI_MAJOR,
                   TM_ABI_MINOR, tm_allocator_name(an, sizeof an));
            cJSON_Delete(ov);
            return 0;
        }
        case 'h':
            tm__usage(stdout);
            cJSON_Delete(ov);
            return 0;
        default:
            tm__usage(stderr);
            cJSON_Delete(ov);
            return TM_EX_USAGE;
        }
        if (rc != 0) {
            cJSON_Delete(ov);
            return TM_EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "textmilld: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        cJSON_Delete(ov);
        return TM_EX_USAGE;
    }
    if (config_path == NULL && access(tm_config_default_path(), R_OK) == 0)
        config_path = tm_config_default_path();

    tm_err_t err = {{0}, {0}};
    tm_config_t *cfg = NULL;
    rc = tm_config_load(config_path, ov, &cfg, &err);
    if (rc != TM_OK) {
        char reason[600];
        tm_log(TM_LOG_ERROR, "main", "msg=\"invalid config\" reason=%s",
               tm_log_quote(reason, sizeof reason, err.message));
        fprintf(stderr, "textmilld: %s\n", err.message);
        cJSON_Delete(ov);
        return TM_EX_CONFIG;
    }
    tm_log_set_level(cfg->log_level);

    if (describe != NULL) {
        cJSON_Delete(ov);
        rc = tm_pipeline_describe_stage(cfg->plugin_dir, describe, stdout, &err);
        tm_config_free(&cfg);
        if (rc != TM_OK) {
            fprintf(stderr, "textmilld: %s\n", err.message);
            return TM_EX_CONFIG;
        }
        return 0;
    }
    if (check_only) {
        cJSON_Delete(ov);
        tm_pipeline_opts_t popts = {
            .plugin_dir = cfg->plugin_dir, .data_dir = cfg->data_dir,
            .state_dir = cfg->state_dir[0] ? cfg->state_dir : NULL, .workers = cfg->workers,
            .mode = TM_HOST_DAEMON, .max_in_flight = cfg->max_in_flight, .metrics = NULL};
        tm_pipeline_t *p = NULL;
        rc = tm_pipeline_new(&popts, cfg->pipeline, &p, &err);
        if (rc != TM_OK) {
            fprintf(stderr, "textmilld: %s\n", err.message);
            tm_config_free(&cfg);
            return TM_EX_CONFIG;
        }
        printf("config OK: %s, %zu stage(s)%s", config_path ? config_path : "(built-in defaults)",
               p->n, p->n ? ":" : "\n");
        for (size_t i = 0; i < p->n; i++)
            printf(" %s%s", p->names[i], i + 1 == p->n ? "\n" : ",");
        tm_pipeline_unref(&p);
        tm_config_free(&cfg);
        return 0;
    }
    /* A network daemon has no business running as root: the systemd unit
     * gives it a dynamic user. */
    const char *env_root = getenv("TEXTMILL_ALLOW_ROOT");
    if (geteuid() == 0 && !cfg->allow_root && !(env_root != NULL && strcmp(env_root, "1") == 0)) {
        fprintf(stderr,
                "textmilld: refusing to run as root. Run it as an unprivileged user (the "
                "systemd unit uses DynamicUser=yes), or, if you really mean it, pass "
                "--allow-root (or set \"allow_root\": true, or TEXTMILL_ALLOW_ROOT=1).\n");
        tm_log(TM_LOG_ERROR, "main", "msg=\"refusing to run as root\"");
        tm_config_free(&cfg);
        cJSON_Delete(ov);
        return TM_EX_CONFIG;
    }
    char an[48];
    tm_log(TM_LOG_INFO, "main", "msg=\"starting\" version=%s allocator=\"%s\" config=%s",
           PACKAGE_VERSION, tm_allocator_name(an, sizeof an),
           config_path ? config_path : "(built-in defaults)");
    tm_server_t *srv = NULL;
    rc = tm_server_new(cfg, config_path, ov, endpoints_file, &srv, &err);
    cJSON_Delete(ov);
    if (rc != TM_OK) {
        char reason[600];
        tm_log(TM_LOG_ERROR, "main", "msg=\"start-up failed\" code=%s reason=%s", err.code,
               tm_log_quote(reason, sizeof reason, err.message));
        fprintf(stderr, "textmilld: %s\n", err.message);
        int cfg_err = strcmp(err.code, "bind_failed") != 0 && strcmp(err.code, "socket_failed") != 0 &&
                      strcmp(err.code, "loop_failed") != 0;
        return cfg_err ? TM_EX_CONFIG : 1;
    }
    rc = tm_server_run(srv);
    tm_server_destroy(&srv);
    tm_log(TM_LOG_INFO, "main", "msg=\"stopped\"");
    return rc;
}
