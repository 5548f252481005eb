/*
 * loader.h - finding and loading stage plugins (.so files) and checking
 * that they speak our ABI.
 *
 * Every failure names the file and the reason: missing file, not a textmill
 * plugin, ABI mismatch (expected and found versions), broken descriptor.
 */
#ifndef TM_LOADER_H
#define TM_LOADER_H

#include <textmill/stage.h>

typedef struct tm_plugin {
    void *dl;              /* dlopen handle */
    tm_stage_desc_t desc;  /* the plugin's descriptor, zero-extended to our size */
    char path[4096];
    int fd;                /* >= 0 when loaded fresh through /proc/self/fd */
    int via_path;          /* loaded under its own path name (registry entry) */
} tm_plugin_t;

/* Resolve a stage name to a file: <dir>/<name>.so, then <dir>/.libs/<name>.so
 * (a libtool build tree).  Fails with TM_ENOENT naming the paths tried. */
int tm_plugin_find(const char *dir, const char *name, char *path, size_t size, tm_err_t *err);

/* Load and check a plugin.  *out is owned by the caller.  When the file at
 * path was replaced (another inode) since the copy loaded under that name,
 * the new file is loaded fresh, beside the old one: hot reload picks up a
 * rebuilt plugin while old documents finish in the old code.  Replace
 * plugin files by renaming a new file over them (as `make install` and
 * package managers do); rewriting a loaded .so in place crashes any
 * program that has it mapped. */
int tm_plugin_open(const char *path, tm_plugin_t **out, tm_err_t *err);

/* dlclose and free; sets *pp to NULL. */
void tm_plugin_close(tm_plugin_t **pp);

#endif
