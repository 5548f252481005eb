/*
 * params.c - validation of config objects against tm_param_t tables.
 *
 * One code path serves the daemon's own keys and every stage's keys, so the
 * rules (and the wording of errors) are the same everywhere.
 */
#include "autoconfig.h"

#include "params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *tm_param_type_name(tm_param_type_t type)
{
    switch (type) {
    case TM_PARAM_BOOL: return "bool";
    case TM_PARAM_INT: return "int";
    case TM_PARAM_DOUBLE: return "number";
    case TM_PARAM_STRING: return "string";
    case TM_PARAM_ENUM: return "enum";
    case TM_PARAM_PATH: return "path";
    case TM_PARAM_STRING_LIST: return "string list";
    case TM_PARAM_PATH_LIST: return "path list";
    case TM_PARAM_JSON: return "json";
    }
    return "?";
}

int tm_path_join(char *out, size_t size, const char *dir, const char *rel)
{
    int n;
    if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
        n = snprintf(out, size, "%s", rel);
    else
        n = snprintf(out, size, "%s/%s", dir, rel);
    return (n < 0 || (size_t)n >= size) ? TM_EINVAL : TM_OK;
}

static int tm__choice_ok(const char *choices, const char *value)
{
    size_t vlen = strlen(value);
    const char *p = choices;
    while (p != NULL && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (len == vlen && strncmp(p, value, len) == 0)
            return 1;
        p = bar != NULL ? bar + 1 : NULL;
    }
    return 0;
}

/* Short rendering of a JSON value for error messages. */
static void tm__render(const cJSON *v, char *buf, size_t size)
{
    char *s = cJSON_PrintUnformatted(v);
    if (s == NULL) {
        snprintf(buf, size, "?");
        return;
    }
    if (strlen(s) > 60)
        snprintf(buf, size, "%.57s...", s);
    else
        snprintf(buf, size, "%s", s);
    cJSON_free(s);
}

static int tm__is_string_array(const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) if (!cJSON_IsString(it)) return 0;
    return 1;
}

/* "an integer", "a string list": for messages. */
static const char *tm__type_phrase(tm_param_type_t type)
{
    switch (type) {
    case TM_PARAM_BOOL: return "a bool (true or false)";
    case TM_PARAM_INT: return "an integer";
    case TM_PARAM_DOUBLE: return "a number";
    case TM_PARAM_STRING: return "a string";
    case TM_PARAM_ENUM: return "a string";
    case TM_PARAM_PATH: return "a path (string)";
    case TM_PARAM_STRING_LIST: return "a string list";
    case TM_PARAM_PATH_LIST: return "a path list";
    case TM_PARAM_JSON: return "JSON";
    }
    return "?";
}

/* Check one value against its declaration. */
static int tm__check_value(const tm_param_t *p, const cJSON *v, const char *where, tm_err_t *err)
{
    char shown[80];
    if (cJSON_IsNull(v) && p->default_json != NULL && strcmp(p->default_json, "null") == 0)
        return TM_OK; /* explicitly unset */
    switch (p->type) {
    case TM_PARAM_BOOL:
        if (cJSON_IsBool(v))
            return TM_OK;
        break;
    case TM_PARAM_INT:
    case TM_PARAM_DOUBLE:
        if (cJSON_IsNumber(v)) {
            double d = v->valuedouble;
            if (!isfinite(d))
                break;
            if (p->type == TM_PARAM_INT && d != floor(d)) {
                tm__render(v, shown, sizeof shown);
                return tm_err_set(err, TM_EINVAL, "bad_config",
                                  "%s: config key \"%s\" must be a whole number, got %s", where,
                                  p->key, shown);
            }
            if (p->min <= p->max && (d < p->min || d > p->max)) {
                tm__render(v, shown, sizeof shown);
                return tm_err_set(err, TM_EINVAL, "bad_config",
                                  "%s: config key \"%s\" must be between %.15g and %.15g, got %s",
                                  where, p->key, p->min, p->max, shown);
            }
            return TM_OK;
        }
        break;
    case TM_PARAM_STRING:
    case TM_PARAM_PATH:
        if (cJSON_IsString(v))
            return TM_OK;
        break;
    case TM_PARAM_ENUM:
        if (cJSON_IsString(v)) {
            if (tm__choice_ok(p->choices, v->valuestring))
                return TM_OK;
            tm__render(v, shown, sizeof shown);
            return tm_err_set(err, TM_EINVAL, "bad_config",
                              "%s: config key \"%s\" must be one of %s, got %s", where, p->key,
                              p->choices != NULL ? p->choices : "(none)", shown);
        }
        break;
    case TM_PARAM_STRING_LIST:
    case TM_PARAM_PATH_LIST:
        if (tm__is_string_array(v))
            return TM_OK;
        break;
    case TM_PARAM_JSON:
        return TM_OK;
    }
    tm__render(v, shown, sizeof shown);
    return tm_err_set(err, TM_EINVAL, "bad_config", "%s: config key \"%s\" must be %s, got %s",
                      where, p->key, tm__type_phrase(p->type), shown);
}

static cJSON *tm__resolve_paths(const tm_param_t *p, cJSON *v, const char *base_dir)
{
    char path[4096];
    if (base_dir == NULL)
        return v;
    if (p->type == TM_PARAM_PATH && cJSON_IsString(v) && v->valuestring[0] != '\0') {
        if (tm_path_join(path, sizeof path, base_dir, v->valuestring) == TM_OK)
            cJSON_SetValuestring(v, path);
    } else if (p->type == TM_PARAM_PATH_LIST && cJSON_IsArray(v)) {
        cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (cJSON_IsString(it) && it->valuestring[0] != '\0' &&
                tm_path_join(path, sizeof path, base_dir, it->valuestring) == TM_OK)
                cJSON_SetValuestring(it, path);
        }
    }
    return v;
}

int tm_params_check_table(const tm_param_t *table, const char *where, tm_err_t *err)
{
    for (const tm_param_t *p = table; p != NULL && p->key != NULL; p++) {
        for (const tm_param_t *q = table; q != p; q++)
            if (strcmp(q->key, p->key) == 0)
                return tm_err_set(err, TM_EINVAL, "bad_param_table",
                                  "%s: parameter table declares \"%s\" twice", where, p->key);
        if (p->type < TM_PARAM_BOOL || p->type > TM_PARAM_JSON)
            return tm_err_set(err, TM_EINVAL, "bad_param_table",
                              "%s: parameter \"%s\" has unknown type %d", where, p->key,
                              (int)p->type);
        const char *dj = p->default_json != NULL ? p->default_json : "null";
        cJSON *d = cJSON_Parse(dj);
        if (d == NULL)
            return tm_err_set(err, TM_EINVAL, "bad_param_table",
                              "%s: default of parameter \"%s\" is not JSON: %s", where, p->key, dj);
        int rc = cJSON_IsNull(d) ? TM_OK : tm__check_value(p, d, where, err);
        cJSON_Delete(d);
        if (rc != TM_OK)
            return tm_err_set(err, TM_EINVAL, "bad_param_table",
                              "%s: default of parameter \"%s\" does not match its type: %s", where,
                              p->key, dj);
    }
    return TM_OK;
}

int tm_params_apply(const tm_param_t *table, const cJSON *user, const char *where,
                    const char *base_dir, cJSON **out, tm_err_t *err)
{
    *out = NULL;
    if (user != NULL && !cJSON_IsNull(user) && !cJSON_IsObject(user))
        return tm_err_set(err, TM_EINVAL, "bad_config", "%s: \"config\" must be an object", where);

    /* Unknown keys first: a typo should be reported as a typo, not as a
     * missing value further down. */
    const cJSON *it;
    if (user != NULL) {
        cJSON_ArrayForEach(it, user)
        {
            const tm_param_t *p = table;
            while (p != NULL && p->key != NULL && strcmp(p->key, it->string) != 0)
                p++;
            if (p == NULL || p->key == NULL) {
                char known[300] = "";
                size_t o = 0;
                for (p = table; p != NULL && p->key != NULL && o < sizeof known - 40; p++) {
                    int n = snprintf(known + o, sizeof known - o, "%s%s", o ? ", " : "", p->key);
                    if (n > 0)
                        o += (size_t)n;
                }
                return tm_err_set(err, TM_EINVAL, "bad_config",
                                  "%s: unknown config key \"%s\" (known keys: %s)", where,
                                  it->string, o ? known : "none");
            }
        }
    }

    cJSON *merged = cJSON_CreateObject();
    if (merged == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "%s: out of memory", where);
    for (const tm_param_t *p = table; p != NULL && p->key != NULL; p++) {
        const cJSON *uv = user != NULL ? cJSON_GetObjectItemCaseSensitive(user, p->key) : NULL;
        cJSON *v;
        if (uv != NULL) {
            int rc = tm__check_value(p, uv, where, err);
            if (rc != TM_OK) {
                cJSON_Delete(merged);
                return rc;
            }
            v = cJSON_Duplicate(uv, 1);
        } else {
            v = cJSON_Parse(p->default_json != NULL ? p->default_json : "null");
        }
        if (v == NULL) {
            cJSON_Delete(merged);
            return tm_err_set(err, TM_EINVAL, "bad_config",
                              "%s: default of config key \"%s\" is not valid JSON", where, p->key);
        }
        cJSON_AddItemToObject(merged, p->key, tm__resolve_paths(p, v, base_dir));
    }
    *out = merged;
    return TM_OK;
}

void tm_params_describe(FILE *out, const tm_param_t *table)
{
    int kw = 3, tw = 4, dw = 7;
    for (const tm_param_t *p = table; p != NULL && p->key != NULL; p++) {
        int k = (int)strlen(p->key), t = (int)strlen(tm_param_type_name(p->type));
        int d = (int)strlen(p->default_json != NULL ? p->default_json : "null");
        kw = k > kw ? k : kw;
        tw = t > tw ? t : tw;
        dw = d > dw ? d : dw;
    }
    if (dw > 30)
        dw = 30;
    fprintf(out, "  %-*s  %-*s  %-*s  %s\n", kw, "key", tw, "type", dw, "default", "description");
    if (table == NULL || table->key == NULL) {
        fprintf(out, "  (no config keys)\n");
        return;
    }
    for (const tm_param_t *p = table; p->key != NULL; p++) {
        fprintf(out, "  %-*s  %-*s  %-*s  %s", kw, p->key, tw, tm_param_type_name(p->type), dw,
                p->default_json != NULL ? p->default_json : "null",
                p->description != NULL ? p->description : "");
        if (p->type == TM_PARAM_ENUM && p->choices != NULL)
            fprintf(out, " (one of: %s)", p->choices);
        else if ((p->type == TM_PARAM_INT || p->type == TM_PARAM_DOUBLE) && p->min <= p->max)
            fprintf(out, " (%.*f..%.*f)", p->min == (long long)p->min ? 0 : 3, p->min,
                    p->max == (long long)p->max ? 0 : 3, p->max);
        fputc('\n', out);
    }
}
