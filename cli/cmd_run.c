/*
 * cmd_run.c - `textmill run`: the daemon's pipeline over JSONL, offline.
 *
 * It loads the same config and plugins as textmilld, but ignores the
 * config's state_dir: without --state-dir, stages keep no state between
 * runs, so two runs over one file give the same answer.
 */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/batch.h"
#include "../daemon/config.h"
#include "../daemon/log.h"
#include "cli.h"

static void tm__usage(FILE *out)
{
    fprintf(out,
            "Usage: textmill run [OPTIONS] < docs.jsonl > results.jsonl\n"
            "Runs every input line through the configured stage pipeline, using all cores;\n"
            "writes one result (or error object) per non-blank input line, in input order.\n"
            "\n"
            "  -c, --config FILE      config file (default %s if it exists)\n"
            "  -w, --workers N        worker threads (default: the config's, 0 = one per CPU)\n"
            "      --plugin-dir DIR   where stage plugins are found\n"
            "      --data-dir DIR     where stage data files are found\n"
            "      --state-dir DIR    persistent stage state (default: none, a fresh run)\n"
            "      --max-in-flight N  documents in the pipeline at once (default 4096)\n"
            "  -l, --log-level LEVEL  error, warn, info or debug (default warn)\n"
            "      --stats            print throughput and per-stage cost to stderr\n"
            "Exit status: 0, also when some lines were bad; 1 on a fatal error; 78 on a bad\n"
            "config or plugin.\n",
            tm_config_default_path());
}

static void tm__print_stats(const tm_batch_stats_t *st, tm_pipeline_t *p)
{
    double mb = (double)st->in_bytes / 1e6;
    fprintf(stderr,
            "textmill run: %llu lines (%llu results, %llu errors), %.2f MB in %.3f s: "
            "%.0f docs/s, %.2f MB/s\n",
            st->lines, st->results, st->errors, mb, st->seconds,
            st->seconds > 0 ? (double)st->lines / st->seconds : 0,
            st->seconds > 0 ? mb / st->seconds : 0);
    for (size_t i = 0; i < p->n; i++) {
        double secs = tm_metric_value(p->stages[i].m_seconds);
        unsigned long long n = tm_metric_count(p->stages[i].m_seconds);
        /* Per document, not per call: a stage with an ordered half is
         * called twice for each document.  CPU is the stages' own thread CPU
         * time (not inflated by a busy machine); MB/s is input text per CPU
         * second, i.e. one core's speed. */
        double cpu = (double)atomic_load(&p->stages[i].cpu_ns) / 1e9;
        fprintf(stderr, "  stage %-14s %8llu calls %9.3f s CPU %9.2f us/doc %9.1f MB/s"
                        " (%.3f s wall)\n",
                p->names[i], n, cpu, st->lines ? cpu * 1e6 / (double)st->lines : 0,
                cpu > 0 ? mb / cpu : 0, secs);
    }
}

int tm_cmd_run(int argc, char **argv)
{
    enum { OPT_PLUGIN_DIR = 256, OPT_DATA_DIR, OPT_STATE_DIR, OPT_MAX_IN_FLIGHT, OPT_STATS };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"workers", required_argument, NULL, 'w'},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"max-in-flight", required_argument, NULL, OPT_MAX_IN_FLIGHT},
        {"log-level", required_argument, NULL, 'l'},
        {"stats", no_argument, NULL, OPT_STATS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *state_dir = NULL;
    int stats = 0, opt;
    long max_in_flight = 4096;
    cJSON *ov = cJSON_CreateObject();
    cJSON_AddStringToObject(ov, "log_level", "warn");
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:w:l:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'w': cJSON_AddNumberToObject(ov, "workers", atof(optarg)); break;
        case 'l': cJSON_ReplaceItemInObject(ov, "log_level", cJSON_CreateString(optarg)); break;
        case OPT_PLUGIN_DIR: cJSON_AddStringToObject(ov, "plugin_dir", optarg); break;
        case OPT_DATA_DIR: cJSON_AddStringToObject(ov, "data_dir", optarg); break;
        case OPT_STATE_DIR: state_dir = optarg; break;
        case OPT_MAX_IN_FLIGHT: max_in_flight = atol(optarg); break;
        case OPT_STATS: stats = 1; break;
        case 'h': tm__usage(stdout); cJSON_Delete(ov); return 0;
        default: tm__usage(stderr); cJSON_Delete(ov); return 64;
        }
    }
    if (optind < argc || max_in_flight < 1) {
        tm__usage(stderr);
        cJSON_Delete(ov);
        return 64;
    }
    if (config_path == NULL && access(tm_config_default_path(), R_OK) == 0)
        config_path = tm_config_default_path();
    tm_err_t err = {{0}, {0}};
    tm_config_t *cfg = NULL;
    int rc = tm_config_load(config_path, ov, &cfg, &err);
    cJSON_Delete(ov);
    if (rc != TM_OK) {
        fprintf(stderr, "textmill run: %s\n", err.message);
        return 78;
    }
    tm_log_set_level(cfg->log_level);
    tm_metrics_t *metrics = tm_metrics_new();
    tm_pipeline_opts_t popts = {
        .plugin_dir = cfg->plugin_dir,
        .data_dir = cfg->data_dir,
        .state_dir = state_dir,
        .workers = cfg->workers,
        .mode = TM_HOST_BATCH,
        .max_in_flight = (size_t)max_in_flight,
        .metrics = metrics,
        .cpu_time = stats,
    };
    tm_pipeline_t *p = NULL;
    tm_pool_t *pool = NULL;
    int status = 0;
    if (tm_pipeline_new(&popts, cfg->pipeline, &p, &err) != TM_OK) {
        fprintf(stderr, "textmill run: %s\n", err.message);
        status = 78;
        goto out;
    }
    if (tm_pool_new(cfg->workers, &pool, &err) != TM_OK) {
        fprintf(stderr, "textmill run: %s\n", err.message);
        status = 1;
        goto out;
    }
    tm_limits_t lim = {.max_doc_bytes = cfg->max_doc_bytes, .max_meta_depth = cfg->max_meta_depth};
    tm_batch_stats_t st;
    rc = tm_batch_run(stdin, stdout, p, pool, &lim, (size_t)max_in_flight, &st, &err);
    if (rc != TM_OK) {
        fprintf(stderr, "textmill run: %s\n", err.message);
        status = 1;
    }
    if (atomic_load(&p->fatal) > 0) {
        fprintf(stderr, "textmill run: %d stage(s) were disabled by a fatal error (see log)\n",
                atomic_load(&p->fatal));
        status = 1;
    }
    if (stats)
        tm__print_stats(&st, p);
out:
    tm_pool_destroy(&pool);
    tm_pipeline_unref(&p);
    tm_metrics_destroy(&metrics);
    tm_config_free(&cfg);
    return status;
}
