/*
 * params.h - declarative parameter tables (tm_param_t) for the daemon's own
 * config and for every stage's config: validation with messages that name
 * the key, defaults filled in, relative paths resolved, and the table
 * printed for --describe-stage / --help-config.
 */
#ifndef TM_PARAMS_H
#define TM_PARAMS_H

#include <stdio.h>
#include <textmill/stage.h>

/* Validate `user` (borrowed; NULL means {}) against `table`.  On success,
 * *out (owned by the caller) holds every declared key, with the user's value
 * or the default, PATH values resolved against base_dir (when not NULL).
 * `where` prefixes messages, e.g. "stage \"dedup\"".  Unknown keys, wrong
 * types and out-of-range values fail with TM_EINVAL and code "bad_config". */
int tm_params_apply(const tm_param_t *table, const cJSON *user, const char *where,
                    const char *base_dir, cJSON **out, tm_err_t *err);

/* Check that the table itself is well formed (keys unique, defaults parse
 * and match their type).  Used by the loader so a plugin author learns about
 * a broken table at load time, not at the first config that omits a key. */
int tm_params_check_table(const tm_param_t *table, const char *where, tm_err_t *err);

/* Print the table as aligned text: key, type, default, description. */
void tm_params_describe(FILE *out, const tm_param_t *table);

const char *tm_param_type_name(tm_param_type_t type);

/* Join dir and rel into out ("rel" unchanged when absolute or dir is NULL).
 * Returns TM_EINVAL when it does not fit. */
int tm_path_join(char *out, size_t size, const char *dir, const char *rel);

#endif
