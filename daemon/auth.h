/*
 * auth.h - CurveZMQ for every socket: the server certificate, the
 * allow-list of client public keys, and the ZAP handler (RFC 27) that
 * enforces it.
 *
 * Key files use czmq's certificate format, so `textmill keygen` and
 * czmq/zcert files are interchangeable:
 *     curve
 *         public-key = "<40 Z85 characters>"
 *         secret-key = "<40 Z85 characters>"      (secret certificate only)
 * An allow-list is a file of such certificates or of bare Z85 public keys,
 * one per line (# comments), or a directory whose every file is read.
 *
 * The ZAP handler runs on its own thread with a REP socket on
 * inproc://zeromq.zap.01, as libzmq expects; libzmq asks it about every
 * CURVE handshake and drops the connection when it answers 400, so an
 * unknown client gets nothing in and nothing out.  Decisions are counted
 * (textmill_auth_total{result}) and denials logged, rate-limited.  The
 * allow-list is swapped atomically on reload.
 */
#ifndef TM_AUTH_H
#define TM_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <textmill/stage.h>

#include "metrics.h"

typedef struct tm_auth tm_auth_t;
typedef struct tm_keyset tm_keyset_t;

/* Read a certificate: the public key (always) and the secret key (when
 * want_secret; then it must be there).  Keys are Z85 text, NUL-terminated. */
int tm_auth_load_cert(const char *path, int want_secret, char pub[41], char sec[41],
                      tm_err_t *err);

/* Parse allow-list text (fuzzed): every public key in it.  Returns the
 * number of keys added, or a negative code (bad key on a line). */
int tm_keyset_parse(tm_keyset_t *ks, const char *text, size_t len, const char *where,
                    tm_err_t *err);
tm_keyset_t *tm_keyset_new(void);
void tm_keyset_destroy(tm_keyset_t **ksp);
int tm_keyset_has(const tm_keyset_t *ks, const uint8_t key[32]);
size_t tm_keyset_count(const tm_keyset_t *ks);
/* Load a file or a directory of files. */
int tm_keyset_load(const char *path, tm_keyset_t **out, tm_err_t *err);

/* Start the ZAP handler in zctx with the allow-list at path. */
int tm_auth_start(void *zctx, const char *allowed_path, tm_metrics_t *metrics, tm_auth_t **out,
                  tm_err_t *err);
/* Swap in a new allow-list (already loaded; taken over). */
void tm_auth_set_keys(tm_auth_t *a, tm_keyset_t *ks);
/* Stop the thread and close its socket (before zmq_ctx_term). */
void tm_auth_stop(tm_auth_t **ap);

/* Make sock a CURVE server with the secret key, in the "textmill" domain. */
int tm_auth_curve_server(void *sock, const char *secret_z85);

#endif
