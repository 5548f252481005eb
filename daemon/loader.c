/*
 * loader.c - dlopen stage plugins and refuse the ones that do not fit.
 *
 * Like nginx's module signature check, a plugin built for another ABI is
 * refused with a message saying which versions were expected and found,
 * instead of crashing later on a misread struct.
 */
#include "autoconfig.h"

#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "params.h"

/* The smallest descriptor we accept: everything up to and including
 * process_ordered, i.e. the ABI 1.0 fields. */
#define TM_DESC_MIN_SIZE (offsetof(tm_stage_desc_t, process_ordered) + sizeof(void *))

int tm_plugin_find(const char *dir, const char *name, char *path, size_t size, tm_err_t *err)
{
    static const char *const subdirs[] = {"", ".libs/"};
    struct stat st;
    if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL)
        return tm_err_set(err, TM_EINVAL, "bad_stage_name",
                          "stage name \"%s\" is not a plain name", name != NULL ? name : "");
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        int n = snprintf(path, size, "%s/%s%s.so", dir, subdirs[i], name);
        if (n > 0 && (size_t)n < size && stat(path, &st) == 0)
            return TM_OK;
    }
    return tm_err_set(err, TM_ENOENT, "plugin_missing",
                      "stage \"%s\": no plugin file %s/%s.so (plugin_dir is %s; set \"path\" in "
                      "the pipeline entry or --plugin-dir)",
                      name, dir, name, dir);
}

static int tm__valid_name(const char *name)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > 48)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

/* Which file (device, inode) is loaded under each path name, and how many
 * open plugins use it: the dynamic linker matches a name before it looks at
 * the file, so a replaced file must be loaded under another name. */
typedef struct tm__loaded {
    struct tm__loaded *next;
    char *path;
    dev_t dev;
    ino_t ino;
    unsigned refs;
} tm__loaded_t;

static pthread_mutex_t tm__reg_lock = PTHREAD_MUTEX_INITIALIZER;
static tm__loaded_t *tm__reg;

static tm__loaded_t *tm__reg_find(const char *path)
{
    for (tm__loaded_t *l = tm__reg; l != NULL; l = l->next)
        if (strcmp(l->path, path) == 0)
            return l;
    return NULL;
}

/* dlopen path, or a fresh copy through /proc/self/fd when the name is taken
 * by an older file.  *fd_out is the descriptor to keep open (or -1). */
static void *tm__dlopen(const char *path, const struct stat *st, int *fd_out, int *via_path)
{
    *fd_out = -1;
    *via_path = 0;
    pthread_mutex_lock(&tm__reg_lock);
    tm__loaded_t *l = tm__reg_find(path);
    void *dl;
    if (l != NULL && l->refs > 0 && (l->dev != st->st_dev || l->ino != st->st_ino)) {
        pthread_mutex_unlock(&tm__reg_lock);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return NULL;
        char name[64];
        snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
        dl = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (dl == NULL)
            close(fd);
        else
            *fd_out = fd;
        return dl;
    }
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl != NULL) {
        if (l == NULL && (l = calloc(1, sizeof *l)) != NULL && (l->path = strdup(path)) != NULL) {
            l->next = tm__reg;
            tm__reg = l;
        } else if (l != NULL && l->path == NULL) {
            free(l);
            l = NULL;
        }
        if (l != NULL) {
            if (l->refs == 0) {
                l->dev = st->st_dev;
                l->ino = st->st_ino;
            }
            l->refs++;
            *via_path = 1;
        }
    }
    pthread_mutex_unlock(&tm__reg_lock);
    return dl;
}

static void tm__reg_release(const char *path)
{
    /* Without dlclose (TM_NO_DLCLOSE) the object stays loaded under its
     * name: keep counting it as in use. */
    if (getenv("TM_NO_DLCLOSE") != NULL)
        return;
    pthread_mutex_lock(&tm__reg_lock);
    tm__loaded_t *l = tm__reg_find(path);
    if (l != NULL && l->refs > 0)
        l->refs--;
    pthread_mutex_unlock(&tm__reg_lock);
}

int tm_plugin_open(const char *path, tm_plugin_t **out, tm_err_t *err)
{
    struct stat st;
    *out = NULL;
    if (stat(path, &st) != 0)
        return tm_err_set(err, TM_ENOENT, "plugin_missing", "plugin %s: %s", path,
                          strerror(errno));
    if (!S_ISREG(st.st_mode))
        return tm_err_set(err, TM_EINVAL, "not_a_plugin", "plugin %s: not a regular file", path);

    int fd = -1, via_path = 0;
    void *dl = tm__dlopen(path, &st, &fd, &via_path);
    if (dl == NULL) {
        const char *why = dlerror();
        return tm_err_set(err, TM_EINVAL, "not_a_plugin",
                          "plugin %s: cannot be loaded as a shared object: %s", path,
                          why != NULL ? why : "unknown dlopen error");
    }
    tm_stage_entry_fn entry = NULL;
    int rc;
    void *sym = dlsym(dl, TM_STAGE_ENTRY_SYMBOL);
    if (sym == NULL) {
        /* Built against another major?  Say so, instead of "not a plugin". */
        for (int major = 0; major <= 9; major++) {
            char other[40];
            snprintf(other, sizeof other, "tm_stage_entry_v%d", major);
            if (major != TM_ABI_MAJOR && dlsym(dl, other) != NULL) {
                tm_err_set(err, TM_EINVAL, "abi_mismatch",
                                  "plugin %s: ABI mismatch: built for stage ABI %d.x, this "
                                  "textmilld provides %d.%d; rebuild the plugin against this "
                                  "textmill's header",
                                  path, major, TM_ABI_MAJOR, TM_ABI_MINOR);
                rc = TM_EINVAL;
                goto fail;
            }
        }
        rc = tm_err_set(err, TM_EINVAL, "not_a_plugin",
                        "plugin %s: not a textmill plugin (it exports no %s symbol)", path,
                        TM_STAGE_ENTRY_SYMBOL);
        goto fail;
    }
    /* POSIX blesses this conversion for dlsym results. */
    memcpy(&entry, &sym, sizeof entry);
    const tm_stage_desc_t *d = entry();
    rc = TM_EINVAL;
    if (d == NULL) {
        tm_err_set(err, rc, "bad_descriptor", "plugin %s: %s() returned NULL", path,
                   TM_STAGE_ENTRY_SYMBOL);
        goto fail;
    }
    if (d->abi_major != TM_ABI_MAJOR || d->abi_minor > TM_ABI_MINOR) {
        tm_err_set(err, rc, "abi_mismatch",
                   "plugin %s: ABI mismatch: built for stage ABI %u.%u, this textmilld "
                   "provides %d.%d (same major and a minor no newer than the host's are needed)",
                   path, d->abi_major, d->abi_minor, TM_ABI_MAJOR, TM_ABI_MINOR);
        goto fail;
    }
    if (d->struct_size < TM_DESC_MIN_SIZE) {
        tm_err_set(err, rc, "bad_descriptor",
                   "plugin %s: descriptor is %u bytes, smaller than the %zu bytes of ABI %d.0",
                   path, d->struct_size, (size_t)TM_DESC_MIN_SIZE, TM_ABI_MAJOR);
        goto fail;
    }
    tm_plugin_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
        tm_err_set(err, TM_ENOMEM, "out_of_memory", "plugin %s: out of memory", path);
        goto fail;
    }
    /* Copy what the plugin declared; fields it does not know stay zero. */
    memcpy(&p->desc, d, d->struct_size < sizeof p->desc ? d->struct_size : sizeof p->desc);
    p->dl = dl;
    p->fd = fd;
    p->via_path = via_path;
    snprintf(p->path, sizeof p->path, "%s", path);
    char where[300];
    snprintf(where, sizeof where, "plugin %s", path);
    if (!tm__valid_name(p->desc.name))
        rc = tm_err_set(err, TM_EINVAL, "bad_descriptor",
                        "plugin %s: stage name must be 1-48 characters of [a-z0-9_]", path);
    else if (p->desc.create == NULL)
        rc = tm_err_set(err, TM_EINVAL, "bad_descriptor", "plugin %s: descriptor has no create hook",
                        path);
    else if (p->desc.process == NULL && p->desc.process_ordered == NULL)
        rc = tm_err_set(err, TM_EINVAL, "bad_descriptor",
                        "plugin %s: descriptor has neither process nor process_ordered", path);
    else
        rc = tm_params_check_table(p->desc.params, where, err);
    if (rc != TM_OK) {
        free(p);
        goto fail;
    }
    if (fd >= 0)
        tm_log(TM_LOG_INFO, "loader", "msg=\"plugin file replaced since it was loaded: loading "
               "the new one\" path=%s", path);
    *out = p;
    return TM_OK;
fail:
    dlclose(dl);
    if (fd >= 0)
        close(fd);
    if (via_path)
        tm__reg_release(path);
    return rc;
}

void tm_plugin_close(tm_plugin_t **pp)
{
    tm_plugin_t *p = *pp;
    if (p == NULL)
        return;
    /* Under AddressSanitizer, unloading hides the plugin's frames in leak
     * reports; TM_NO_DLCLOSE keeps plugins mapped for such runs. */
    if (p->dl != NULL && getenv("TM_NO_DLCLOSE") == NULL) {
        dlclose(p->dl);
        if (p->fd >= 0)
            close(p->fd);
    }
    /* With TM_NO_DLCLOSE a fresh copy stays loaded under /proc/self/fd/N:
     * its descriptor stays open so that the name is never reused. */
    if (p->via_path)
        tm__reg_release(p->path);
    free(p);
    *pp = NULL;
}
