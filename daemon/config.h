/*
 * config.h - the daemon's config file: JSON with // and / * * / comments,
 * validated against one declarative key table (tm_config_params) that also
 * documents every key (textmilld --help-config).
 *
 * Precedence, highest first: command-line flags, the config file, the
 * TEXTMILL_PLUGIN_DIR / TEXTMILL_DATA_DIR environment variables (for build
 * trees), compiled-in defaults.  Relative paths in the file are resolved
 * against the file's directory.
 */
#ifndef TM_CONFIG_H
#define TM_CONFIG_H

#include <stddef.h>
#include <textmill/stage.h>

typedef struct tm_config {
    cJSON *root;            /* every key, validated; owned */
    char path[4096];        /* file it came from, or "" for built-in defaults */
    /* Views into root (borrowed from it). */
    const char *ingest, *push, *publish, *deliver; /* "" = socket off */
    unsigned workers;       /* resolved: never 0 */
    size_t max_in_flight;
    size_t max_doc_bytes;
    int max_meta_depth;
    int log_level;
    const char *plugin_dir, *data_dir, *state_dir; /* state_dir "" = none */
    unsigned shutdown_grace_ms;
    int ingest_hwm, publish_hwm, deliver_hwm;
    /* Durability (spool.h). */
    int spool;
    int spool_fsync;        /* enum tm_spool_fsync */
    unsigned spool_fsync_interval_ms, spool_batch_max, spool_retire_ms;
    size_t spool_max_mb;
    unsigned poison_max_crashes;
    int stage_dead_letter;  /* stage_failure_policy "dead_letter" */
    unsigned stage_max_attempts;
    /* Resources and operations. */
    size_t memory_limit_mb; /* 0 = none */
    const char *http;       /* "" = off */
    unsigned ready_stall_ms;
    const char *curve_secret_key, *curve_allowed_keys; /* "" = off */
    int allow_root;
    const cJSON *pipeline;
} tm_config_t;

extern const tm_param_t tm_config_params[];

/* Load path (NULL: built-in defaults only) and apply overrides (borrowed
 * object of config keys, may be NULL).  *out is owned by the caller. */
int tm_config_load(const char *path, const cJSON *overrides, tm_config_t **out, tm_err_t *err);

/* The same from text in memory; name is used in messages. */
int tm_config_parse(const char *text, size_t len, const char *name, const char *base_dir,
                    const cJSON *overrides, tm_config_t **out, tm_err_t *err);

void tm_config_free(tm_config_t **cp);

/* Blank out comments (keeping newlines, so parse errors keep their line
 * numbers).  Works in place. */
void tm_config_strip_comments(char *text, size_t len);

/* The default config file path ($sysconfdir/textmill/textmill.conf). */
const char *tm_config_default_path(void);

#endif
