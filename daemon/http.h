/*
 * http.h - the operations endpoint (/metrics, /healthz, /readyz) on
 * libmicrohttpd, which runs its own thread: a slow or stuck scraper never
 * touches the event loop.  Only GET and HEAD are answered; the server decides
 * what each path returns through one callback.
 */
#ifndef TM_HTTP_H
#define TM_HTTP_H

#include <stddef.h>
#include <textmill/stage.h>

typedef struct tm_http tm_http_t;

/* Answer a GET of path: return the HTTP status, set *body (malloc'd, taken
 * over) and *ctype (static).  Runs on the HTTP thread. */
typedef int (*tm_http_handler)(void *ctx, const char *path, char **body, size_t *len,
                               const char **ctype);

/* Listen on "HOST:PORT" (an IPv4 address; port 0 = any free port).  *port
 * receives the bound port. */
int tm_http_start(const char *hostport, tm_http_handler handler, void *ctx, tm_http_t **out,
                  unsigned *port, tm_err_t *err);
void tm_http_stop(tm_http_t **hp);

#endif
