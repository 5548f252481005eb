/*
 * auth.c - CurveZMQ certificates, allow-lists and the ZAP handler thread
 * (see auth.h).
 */
#include "autoconfig.h"

#include "auth.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "log.h"

struct tm_keyset {
    uint8_t (*keys)[32];
    size_t n, cap;
};

struct tm_auth {
    void *zctx;
    pthread_t thread;
    int started;
    atomic_int stop;
    pthread_mutex_t lock;
    tm_keyset_t *keys;
    tm_metric_t *m_allowed, *m_denied;
    void *rep; /* created on the caller's thread, bound before start returns */
};

static tm_ratelimit_t tm__deny_rl = TM_RATELIMIT_INIT(5, 10);

tm_keyset_t *tm_keyset_new(void) { return calloc(1, sizeof(tm_keyset_t)); }

void tm_keyset_destroy(tm_keyset_t **ksp)
{
    if (*ksp == NULL)
        return;
    free((*ksp)->keys);
    free(*ksp);
    *ksp = NULL;
}

size_t tm_keyset_count(const tm_keyset_t *ks) { return ks != NULL ? ks->n : 0; }

int tm_keyset_has(const tm_keyset_t *ks, const uint8_t key[32])
{
    for (size_t i = 0; ks != NULL && i < ks->n; i++)
        if (memcmp(ks->keys[i], key, 32) == 0)
            return 1;
    return 0;
}

static int tm__keyset_add(tm_keyset_t *ks, const uint8_t key[32])
{
    if (tm_keyset_has(ks, key))
        return 0;
    if (ks->n == ks->cap) {
        size_t ncap = ks->cap ? ks->cap * 2 : 16;
        void *nk = realloc(ks->keys, ncap * 32);
        if (nk == NULL)
            return TM_ENOMEM;
        ks->keys = nk;
        ks->cap = ncap;
    }
    memcpy(ks->keys[ks->n++], key, 32);
    return 1;
}

static int tm__is_z85(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr(".-:+=^!/*?&<>()[]{}@%$#", c) != NULL;
}

/* Find `name = "KEY"` on a line; returns the key's start or NULL. */
static const char *tm__field(const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name), i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (len - i < nl || memcmp(line + i, name, nl) != 0)
        return NULL;
    i += nl;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len || line[i++] != '=')
        return NULL;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len || line[i++] != '"')
        return NULL;
    if (len - i < 41 || line[i + 40] != '"')
        return NULL;
    return line + i;
}

static int tm__decode_key(const char *z85, uint8_t out[32])
{
    char buf[41];
    for (int i = 0; i < 40; i++) {
        if (!tm__is_z85(z85[i]))
            return -1;
        buf[i] = z85[i];
    }
    buf[40] = '\0';
    return zmq_z85_decode(out, buf) != NULL ? 0 : -1;
}

int tm_keyset_parse(tm_keyset_t *ks, const char *text, size_t len, const char *where,
                    tm_err_t *err)
{
    int added = 0, lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += ll + 1;
        lineno++;
        while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
            ll--;
        size_t i = 0;
        while (i < ll && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == ll || line[i] == '#')
            continue;
        uint8_t key[32];
        const char *k = tm__field(line, ll, "public-key");
        if (k == NULL && ll - i == 40)
            k = line + i; /* a bare key */
        if (k == NULL) {
            /* Other lines of a certificate (metadata, curve, secret-key,
             * name = ...) carry no public key. */
            continue;
        }
        if (tm__decode_key(k, key) != 0)
            return tm_err_set(err, TM_EINVAL, "bad_key",
                              "%s:%d: not a Z85 CURVE public key (40 characters)", where, lineno);
        int rc = tm__keyset_add(ks, key);
        if (rc < 0)
            return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
        added += rc;
    }
    return added;
}

static char *tm__slurp(const char *path, size_t *len, tm_err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        tm_err_set(err, TM_EIO, "bad_key", "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(65536 + 1);
    size_t n = buf != NULL ? fread(buf, 1, 65536, f) : 0;
    int big = buf != NULL && !feof(f) && fgetc(f) != EOF;
    fclose(f);
    if (buf == NULL || big) {
        free(buf);
        tm_err_set(err, TM_EINVAL, "bad_key", "%s: larger than 64 KiB, not a key file", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int tm_keyset_load(const char *path, tm_keyset_t **out, tm_err_t *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return tm_err_set(err, TM_EIO, "bad_key", "curve_allowed_keys %s: %s", path,
                          strerror(errno));
    tm_keyset_t *ks = tm_keyset_new();
    if (ks == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    int rc = TM_OK;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d != NULL && rc >= 0 && (de = readdir(d)) != NULL) {
            char fp[4400];
            if (de->d_name[0] == '.')
                continue;
            snprintf(fp, sizeof fp, "%s/%s", path, de->d_name);
            if (stat(fp, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            size_t len;
            char *text = tm__slurp(fp, &len, err);
            rc = text != NULL ? tm_keyset_parse(ks, text, len, fp, err) : TM_EIO;
            free(text);
        }
        if (d != NULL)
            closedir(d);
    } else {
        size_t len;
        char *text = tm__slurp(path, &len, err);
        rc = text != NULL ? tm_keyset_parse(ks, text, len, path, err) : TM_EIO;
        free(text);
    }
    if (rc < 0) {
        tm_keyset_destroy(&ks);
        return rc;
    }
    *out = ks;
    return TM_OK;
}

int tm_auth_load_cert(const char *path, int want_secret, char pub[41], char sec[41],
                      tm_err_t *err)
{
    size_t len;
    char *text = tm__slurp(path, &len, err);
    if (text == NULL)
        return TM_EIO;
    pub[0] = sec[0] = '\0';
    int lineno = 0;
    for (char *line = text; line != NULL && *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl != NULL ? (size_t)(nl - line) : strlen(line);
        lineno++;
        const char *k;
        uint8_t bin[32];
        if ((k = tm__field(line, ll, "public-key")) != NULL && tm__decode_key(k, bin) == 0)
            snprintf(pub, 41, "%.40s", k);
        else if ((k = tm__field(line, ll, "secret-key")) != NULL && tm__decode_key(k, bin) == 0)
            snprintf(sec, 41, "%.40s", k);
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(text);
    if (pub[0] == '\0' || (want_secret && sec[0] == '\0'))
        return tm_err_set(err, TM_EINVAL, "bad_key",
                          "%s: no %s in it (make one with: textmill keygen NAME)", path,
                          pub[0] == '\0' ? "public-key = \"...\" line" : "secret-key = \"...\" line");
    return TM_OK;
}

int tm_auth_curve_server(void *sock, const char *secret_z85)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret_z85, 40) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "textmill", 8) != 0)
        return -1;
    return 0;
}

/* ---- the ZAP handler ---- */

static void tm__zap_reply(void *rep, zmq_msg_t *reqid, const char *code, const char *text,
                          const char *user)
{
    zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(rep, zmq_msg_data(reqid), zmq_msg_size(reqid), ZMQ_SNDMORE);
    zmq_send(rep, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(rep, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(rep, "", 0, 0);
}

static void tm__zap_one(tm_auth_t *a)
{
    /* version, request id, domain, address, identity, mechanism,
     * credentials... */
    zmq_msg_t f[8];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, a->rep, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < 8)
            f[n++] = m;
        else
            zmq_msg_close(&m);
    }
    if (n < 6) {
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
        return;
    }
    char addr[64] = "", mech[16] = "";
    snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&f[3]), (char *)zmq_msg_data(&f[3]));
    snprintf(mech, sizeof mech, "%.*s", (int)zmq_msg_size(&f[5]), (char *)zmq_msg_data(&f[5]));
    int ok = 0;
    char client[41] = "";
    if (strcmp(mech, "CURVE") == 0 && n >= 7 && zmq_msg_size(&f[6]) == 32) {
        zmq_z85_encode(client, zmq_msg_data(&f[6]), 32);
        pthread_mutex_lock(&a->lock);
        ok = tm_keyset_has(a->keys, zmq_msg_data(&f[6]));
        pthread_mutex_unlock(&a->lock);
    }
    if (ok) {
        tm_metric_add(a->m_allowed, 1);
        tm__zap_reply(a->rep, &f[1], "200", "OK", client);
    } else {
        tm_metric_add(a->m_denied, 1);
        tm_log_limited(&tm__deny_rl, TM_LOG_WARN, "auth",
                       "msg=\"client refused: key not in curve_allowed_keys\" address=%s "
                       "mechanism=%s client_key=%s",
                       addr[0] ? addr : "?", mech[0] ? mech : "?", client[0] ? client : "none");
        tm__zap_reply(a->rep, &f[1], "400", "client key not allowed", "");
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static void *tm__zap_main(void *arg)
{
    tm_auth_t *a = arg;
    pthread_setname_np(pthread_self(), "tm-zap");
    while (!atomic_load(&a->stop)) {
        zmq_pollitem_t it = {a->rep, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, 100);
        if (rc < 0 && errno == ETERM)
            break;
        if (rc > 0)
            tm__zap_one(a);
    }
    zmq_close(a->rep);
    a->rep = NULL;
    return NULL;
}

int tm_auth_start(void *zctx, const char *allowed_path, tm_metrics_t *metrics, tm_auth_t **out,
                  tm_err_t *err)
{
    *out = NULL;
    tm_keyset_t *ks = NULL;
    int rc = tm_keyset_load(allowed_path, &ks, err);
    if (rc != TM_OK)
        return rc;
    if (tm_keyset_count(ks) == 0)
        tm_log(TM_LOG_WARN, "auth", "msg=\"curve_allowed_keys lists no key: every client will be "
               "refused\" path=%s", allowed_path);
    tm_auth_t *a = calloc(1, sizeof *a);
    if (a == NULL) {
        tm_keyset_destroy(&ks);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    }
    a->zctx = zctx;
    a->keys = ks;
    pthread_mutex_init(&a->lock, NULL);
    a->m_allowed = tm_metrics_register(metrics, TM_METRIC_COUNTER, "textmill_auth_total",
                                       "CurveZMQ handshakes decided by the ZAP handler.",
                                       "result=\"allowed\"", NULL, 0);
    a->m_denied = tm_metrics_register(metrics, TM_METRIC_COUNTER, "textmill_auth_total",
                                      "CurveZMQ handshakes decided by the ZAP handler.",
                                      "result=\"denied\"", NULL, 0);
    a->rep = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    if (a->rep != NULL)
        zmq_setsockopt(a->rep, ZMQ_LINGER, &linger, sizeof linger);
    if (a->rep == NULL || zmq_bind(a->rep, "inproc://zeromq.zap.01") != 0) {
        rc = tm_err_set(err, TM_EFATAL, "socket_failed", "cannot start the ZAP handler: %s",
                        zmq_strerror(errno));
        if (a->rep != NULL)
            zmq_close(a->rep);
        a->rep = NULL;
        tm_auth_stop(&a);
        return rc;
    }
    if (pthread_create(&a->thread, NULL, tm__zap_main, a) != 0) {
        zmq_close(a->rep);
        a->rep = NULL;
        tm_auth_stop(&a);
        return tm_err_set(err, TM_EFATAL, "thread_failed", "cannot start the ZAP thread");
    }
    a->started = 1;
    tm_log(TM_LOG_INFO, "auth", "msg=\"CurveZMQ on: clients need an allowed key\" keys=%zu "
           "allow_list=%s", tm_keyset_count(ks), allowed_path);
    *out = a;
    return TM_OK;
}

void tm_auth_set_keys(tm_auth_t *a, tm_keyset_t *ks)
{
    pthread_mutex_lock(&a->lock);
    tm_keyset_t *old = a->keys;
    a->keys = ks;
    pthread_mutex_unlock(&a->lock);
    tm_keyset_destroy(&old);
}

void tm_auth_stop(tm_auth_t **ap)
{
    tm_auth_t *a = *ap;
    if (a == NULL)
        return;
    atomic_store(&a->stop, 1);
    if (a->started)
        pthread_join(a->thread, NULL);
    tm_keyset_destroy(&a->keys);
    pthread_mutex_destroy(&a->lock);
    free(a);
    *ap = NULL;
}
