/*
 * config.c - loading and validating the daemon's config file.
 */
#include "autoconfig.h"

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "params.h"
#include "workers.h"

#ifndef TM_PKGLIBDIR
#define TM_PKGLIBDIR "/usr/local/lib/textmill"
#endif
#ifndef TM_PKGDATADIR
#define TM_PKGDATADIR "/usr/local/share/textmill"
#endif
#ifndef TM_SYSCONFDIR
#define TM_SYSCONFDIR "/usr/local/etc"
#endif

const tm_param_t tm_config_params[] = {
    {.key = "ingest", .type = TM_PARAM_STRING, .default_json = "\"tcp://127.0.0.1:7710\"",
     .description = "ROUTER endpoint for acknowledged input (\"\" = off)"},
    {.key = "push", .type = TM_PARAM_STRING, .default_json = "\"tcp://127.0.0.1:7711\"",
     .description = "PULL endpoint for fire-and-forget input (\"\" = off)"},
    {.key = "publish", .type = TM_PARAM_STRING, .default_json = "\"tcp://127.0.0.1:7720\"",
     .description = "PUB endpoint for results and errors (\"\" = off)"},
    {.key = "deliver", .type = TM_PARAM_STRING, .default_json = "\"\"",
     .description = "PUSH endpoint: results load-balanced with backpressure (\"\" = off)"},
    {.key = "workers", .type = TM_PARAM_INT, .default_json = "0", .min = 0, .max = 1024,
     .description = "worker threads running the stages; 0 = one per CPU"},
    {.key = "max_in_flight", .type = TM_PARAM_INT, .default_json = "4096", .min = 1, .max = 1000000,
     .description = "documents accepted but not yet published; at the bound, intake pauses"},
    {.key = "max_doc_bytes", .type = TM_PARAM_INT, .default_json = "4194304", .min = 64,
     .max = 1073741824, .description = "largest accepted message, in bytes"},
    {.key = "max_meta_depth", .type = TM_PARAM_INT, .default_json = "32", .min = 1, .max = 500,
     .description = "deepest nesting accepted inside \"meta\""},
    {.key = "log_level", .type = TM_PARAM_ENUM, .default_json = "\"info\"",
     .choices = "error|warn|info|debug", .description = "least severe level that is logged"},
    {.key = "plugin_dir", .type = TM_PARAM_PATH, .default_json = "null",
     .description = "where <stage>.so plugins are found (default: " TM_PKGLIBDIR ")"},
    {.key = "data_dir", .type = TM_PARAM_PATH, .default_json = "null",
     .description = "stage data files, <data_dir>/<stage>/ (default: " TM_PKGDATADIR ")"},
    {.key = "state_dir", .type = TM_PARAM_PATH, .default_json = "\"\"",
     .description = "writable directory for persistent state (\"\" = none)"},
    {.key = "shutdown_grace_ms", .type = TM_PARAM_INT, .default_json = "10000", .min = 0,
     .max = 3600000, .description = "on SIGTERM, how long to finish documents in flight"},
    {.key = "ingest_hwm", .type = TM_PARAM_INT, .default_json = "10000", .min = 1, .max = 10000000,
     .description = "ZeroMQ receive high-water mark of the input sockets, in messages"},
    {.key = "publish_hwm", .type = TM_PARAM_INT, .default_json = "10000", .min = 1,
     .max = 10000000, .description = "ZeroMQ send high-water mark per PUB subscriber"},
    {.key = "deliver_hwm", .type = TM_PARAM_INT, .default_json = "10000", .min = 1,
     .max = 10000000, .description = "ZeroMQ send high-water mark of the PUSH output"},
    /* ---- durability (spool.h) ---- */
    {.key = "spool", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "write every accepted document to <state_dir>/spool before acking it and "
                    "replay unfinished ones after a crash (needs state_dir)"},
    {.key = "spool_fsync", .type = TM_PARAM_ENUM, .default_json = "\"batch\"",
     .choices = "batch|interval|off",
     .description = "batch: fsync each group commit before its acks; interval: fsync every "
                    "spool_fsync_interval_ms; off: never (survives process crashes only)"},
    {.key = "spool_fsync_interval_ms", .type = TM_PARAM_INT, .default_json = "1000", .min = 10,
     .max = 600000, .description = "fsync period when spool_fsync is \"interval\""},
    {.key = "spool_batch_max", .type = TM_PARAM_INT, .default_json = "512", .min = 1,
     .max = 65536, .description = "most documents written in one group commit"},
    {.key = "spool_max_mb", .type = TM_PARAM_INT, .default_json = "1024", .min = 1,
     .max = 1048576, .description = "largest size of the spool file, in MiB"},
    {.key = "spool_retire_ms", .type = TM_PARAM_INT, .default_json = "250", .min = 0,
     .max = 600000,
     .description = "keep a spooled document this long after its result was handed to "
                    "ZeroMQ, so a kill -9 before ZeroMQ sent it redelivers it"},
    {.key = "poison_max_crashes", .type = TM_PARAM_INT, .default_json = "3", .min = 1,
     .max = 1000,
     .description = "a document that was in a stage when the daemon crashed this many times "
                    "goes to the dead-letter output instead of being replayed"},
    {.key = "stage_failure_policy", .type = TM_PARAM_ENUM, .default_json = "\"record\"",
     .choices = "record|dead_letter",
     .description = "record: a stage error goes into the result's \"errors\" (protocol v1); "
                    "dead_letter: retry the stage, then dead-letter the document"},
    {.key = "stage_max_attempts", .type = TM_PARAM_INT, .default_json = "3", .min = 1, .max = 100,
     .description = "with stage_failure_policy dead_letter: attempts of a failing stage"},
    /* ---- resources ---- */
    {.key = "memory_limit_mb", .type = TM_PARAM_INT, .default_json = "0", .min = 0,
     .max = 1048576,
     .description = "cap on the daemon's memory (0 = none): bytes held in flight are kept "
                    "under half of it, ZeroMQ queues are sized to fit, and intake pauses "
                    "while RSS is above 90%"},
    /* ---- operations ---- */
    {.key = "http", .type = TM_PARAM_STRING, .default_json = "\"127.0.0.1:7730\"",
     .description = "HOST:PORT of the HTTP endpoint for /metrics, /healthz, /readyz (\"\" = "
                    "off; port 0 = any)"},
    {.key = "ready_stall_ms", .type = TM_PARAM_INT, .default_json = "30000", .min = 100,
     .max = 3600000,
     .description = "/readyz fails when documents are in flight and none finished for this "
                    "long"},
    {.key = "curve_secret_key", .type = TM_PARAM_PATH, .default_json = "\"\"",
     .description = "server certificate with its CURVE secret key (textmill keygen); set, "
                    "every socket requires CurveZMQ (\"\" = off)"},
    {.key = "curve_allowed_keys", .type = TM_PARAM_PATH, .default_json = "\"\"",
     .description = "file or directory of client public keys allowed to connect (required "
                    "with curve_secret_key); re-read on SIGHUP"},
    {.key = "allow_root", .type = TM_PARAM_BOOL, .default_json = "false",
     .description = "allow running as root (refused by default; also --allow-root)"},
    {.key = "pipeline", .type = TM_PARAM_JSON, .default_json = "[]",
     .description = "ordered list of stage entries: {\"stage\", \"path\", \"name\", "
                    "\"enabled\", \"config\"}"},
    {0},
};

const char *tm_config_default_path(void) { return TM_SYSCONFDIR "/textmill/textmill.conf"; }

void tm_config_strip_comments(char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '"') {
            /* Skip a string, honouring escapes. */
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
        } else if (c == '/' && i + 1 < len && s[i + 1] == '/') {
            while (i < len && s[i] != '\n')
                s[i++] = ' ';
        } else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            s[i++] = ' ';
            s[i++] = ' ';
            while (i < len && !(s[i] == '*' && i + 1 < len && s[i + 1] == '/')) {
                if (s[i] != '\n')
                    s[i] = ' ';
                i++;
            }
            for (int k = 0; k < 2 && i < len; k++)
                s[i++] = ' ';
        } else {
            i++;
        }
    }
}

static void tm__line_col(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static const char *tm__str(const cJSON *root, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double tm__num(const cJSON *root, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Fill a path key that is still null from the environment, else the
 * compiled default. */
static int tm__default_path(cJSON *root, const char *key, const char *env, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsString(v) && v->valuestring[0] != '\0')
        return 1;
    const char *e = getenv(env);
    cJSON *nv = cJSON_CreateString(e != NULL && e[0] != '\0' ? e : dflt);
    return nv != NULL && cJSON_ReplaceItemInObjectCaseSensitive(root, key, nv);
}

int tm_config_parse(const char *text, size_t len, const char *name, const char *base_dir,
                    const cJSON *overrides, tm_config_t **out, tm_err_t *err)
{
    *out = NULL;
    cJSON *user = NULL, *merged = NULL;
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    memcpy(buf, text, len);
    buf[len] = '\0';
    tm_config_strip_comments(buf, len);
    const char *end = NULL;
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r'))
        i++;
    if (i == len) {
        user = cJSON_CreateObject(); /* an empty file means all defaults */
    } else {
        user = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
        if (user == NULL) {
            int line, col;
            tm__line_col(buf, end != NULL ? (size_t)(end - buf) : 0, &line, &col);
            free(buf);
            return tm_err_set(err, TM_EINVAL, "bad_config",
                              "%s:%d:%d: not valid JSON (comments // and /* */ are allowed; "
                              "trailing commas are not)",
                              name, line, col);
        }
        for (const char *p = end; p < buf + len; p++) {
            if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r') {
                int line, col;
                tm__line_col(buf, (size_t)(p - buf), &line, &col);
                free(buf);
                cJSON_Delete(user);
                return tm_err_set(err, TM_EINVAL, "bad_config",
                                  "%s:%d:%d: unexpected text after the top-level object", name,
                                  line, col);
            }
        }
    }
    free(buf);
    if (!cJSON_IsObject(user)) {
        cJSON_Delete(user);
        return tm_err_set(err, TM_EINVAL, "bad_config", "%s: the config must be a JSON object",
                          name);
    }
    int rc = tm_params_apply(tm_config_params, user, name, base_dir, &merged, err);
    cJSON_Delete(user);
    if (rc != TM_OK)
        return rc;
    /* Overrides (command line) are validated by the same table, but their
     * paths are relative to the working directory. */
    if (overrides != NULL) {
        cJSON *ov = NULL;
        const cJSON *it;
        cJSON *only = cJSON_Duplicate(overrides, 1);
        rc = only != NULL ? TM_OK : TM_ENOMEM;
        if (rc == TM_OK) {
            /* Validate just the given keys: apply, then copy those keys. */
            rc = tm_params_apply(tm_config_params, only, "command line", NULL, &ov, err);
        }
        if (rc == TM_OK) {
            cJSON_ArrayForEach(it, overrides)
            {
                cJSON *v = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ov, it->string), 1);
                if (v == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(merged, it->string, v)) {
                    cJSON_Delete(v);
                    rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
                    break;
                }
            }
        }
        cJSON_Delete(only);
        cJSON_Delete(ov);
        if (rc != TM_OK) {
            cJSON_Delete(merged);
            return rc;
        }
    }
    if (!tm__default_path(merged, "plugin_dir", "TEXTMILL_PLUGIN_DIR", TM_PKGLIBDIR) ||
        !tm__default_path(merged, "data_dir", "TEXTMILL_DATA_DIR", TM_PKGDATADIR)) {
        cJSON_Delete(merged);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    }
    /* systemd's StateDirectory= hands the directory over in STATE_DIRECTORY
     * (colon-separated when there are several: the first is ours). */
    const char *sd_state = getenv("STATE_DIRECTORY");
    if (tm__str(merged, "state_dir")[0] == '\0' && sd_state != NULL && sd_state[0] != '\0') {
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", (int)strcspn(sd_state, ":"), sd_state);
        cJSON *nv = cJSON_CreateString(dir);
        if (nv == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(merged, "state_dir", nv)) {
            cJSON_Delete(nv);
            cJSON_Delete(merged);
            return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
        }
    }
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(merged, "pipeline");
    if (!cJSON_IsArray(pl)) {
        cJSON_Delete(merged);
        return tm_err_set(err, TM_EINVAL, "bad_config",
                          "%s: \"pipeline\" must be an array of stage entries", name);
    }
    const cJSON *e;
    int idx = 0;
    cJSON_ArrayForEach(e, pl)
    {
        if (!cJSON_IsObject(e)) {
            cJSON_Delete(merged);
            return tm_err_set(err, TM_EINVAL, "bad_config",
                              "%s: pipeline[%d] must be an object like {\"stage\": \"dedup\"}",
                              name, idx);
        }
        idx++;
    }

    tm_config_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        cJSON_Delete(merged);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    }
    c->root = merged;
    snprintf(c->path, sizeof c->path, "%s", name);
    c->ingest = tm__str(merged, "ingest");
    c->push = tm__str(merged, "push");
    c->publish = tm__str(merged, "publish");
    c->deliver = tm__str(merged, "deliver");
    unsigned w = (unsigned)tm__num(merged, "workers");
    c->workers = w > 0 ? w : tm_cpu_count();
    c->max_in_flight = (size_t)tm__num(merged, "max_in_flight");
    c->max_doc_bytes = (size_t)tm__num(merged, "max_doc_bytes");
    c->max_meta_depth = (int)tm__num(merged, "max_meta_depth");
    c->log_level = tm_log_level_from_name(tm__str(merged, "log_level"));
    c->plugin_dir = tm__str(merged, "plugin_dir");
    c->data_dir = tm__str(merged, "data_dir");
    c->state_dir = tm__str(merged, "state_dir");
    c->shutdown_grace_ms = (unsigned)tm__num(merged, "shutdown_grace_ms");
    c->ingest_hwm = (int)tm__num(merged, "ingest_hwm");
    c->publish_hwm = (int)tm__num(merged, "publish_hwm");
    c->deliver_hwm = (int)tm__num(merged, "deliver_hwm");
    c->spool = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "spool"));
    const char *fs = tm__str(merged, "spool_fsync");
    c->spool_fsync = strcmp(fs, "interval") == 0 ? 1 : strcmp(fs, "off") == 0 ? 2 : 0;
    c->spool_fsync_interval_ms = (unsigned)tm__num(merged, "spool_fsync_interval_ms");
    c->spool_batch_max = (unsigned)tm__num(merged, "spool_batch_max");
    c->spool_max_mb = (size_t)tm__num(merged, "spool_max_mb");
    c->spool_retire_ms = (unsigned)tm__num(merged, "spool_retire_ms");
    c->poison_max_crashes = (unsigned)tm__num(merged, "poison_max_crashes");
    c->stage_dead_letter = strcmp(tm__str(merged, "stage_failure_policy"), "dead_letter") == 0;
    c->stage_max_attempts = (unsigned)tm__num(merged, "stage_max_attempts");
    c->memory_limit_mb = (size_t)tm__num(merged, "memory_limit_mb");
    c->http = tm__str(merged, "http");
    c->ready_stall_ms = (unsigned)tm__num(merged, "ready_stall_ms");
    c->curve_secret_key = tm__str(merged, "curve_secret_key");
    c->curve_allowed_keys = tm__str(merged, "curve_allowed_keys");
    c->allow_root = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "allow_root"));
    if (c->curve_secret_key[0] != '\0' && c->curve_allowed_keys[0] == '\0') {
        tm_config_free(&c);
        return tm_err_set(err, TM_EINVAL, "bad_config",
                          "%s: \"curve_secret_key\" is set but \"curve_allowed_keys\" is not; "
                          "list the client public keys allowed to connect",
                          name);
    }
    c->pipeline = pl;
    *out = c;
    return TM_OK;
}

int tm_config_load(const char *path, const cJSON *overrides, tm_config_t **out, tm_err_t *err)
{
    if (path == NULL)
        return tm_config_parse("{}", 2, "(built-in defaults)", NULL, overrides, out, err);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tm_err_set(err, TM_EIO, "bad_config", "cannot open config file %s: %s", path,
                          strerror(errno));
    size_t cap = 8192, len = 0;
    char *text = malloc(cap);
    int rc = TM_OK;
    while (text != NULL) {
        if (len == cap) {
            if (cap > (size_t)64 << 20) {
                rc = tm_err_set(err, TM_EINVAL, "bad_config", "%s: config file is too large",
                                path);
                break;
            }
            char *nt = realloc(text, cap * 2);
            if (nt == NULL)
                break;
            text = nt;
            cap *= 2;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (text == NULL || (rc == TM_OK && ferror(f)))
        rc = tm_err_set(err, TM_EIO, "bad_config", "cannot read config file %s", path);
    fclose(f);
    if (rc == TM_OK) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash != NULL)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        rc = tm_config_parse(text, len, path, dir, overrides, out, err);
    }
    free(text);
    return rc;
}

void tm_config_free(tm_config_t **cp)
{
    tm_config_t *c = *cp;
    if (c == NULL)
        return;
    cJSON_Delete(c->root);
    free(c);
    *cp = NULL;
}
