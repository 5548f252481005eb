/*
 * http.c - libmicrohttpd glue for the operations endpoint (see http.h).
 */
#include "autoconfig.h"

#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct tm_http {
    struct MHD_Daemon *mhd;
    tm_http_handler handler;
    void *ctx;
};

static enum MHD_Result tm__answer(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    tm_http_t *h = cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;
    struct MHD_Response *resp;
    int status;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "only GET and HEAD\n";
        resp = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        if (resp == NULL)
            return MHD_NO;
        MHD_add_response_header(resp, "Allow", "GET, HEAD");
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (*upload_size != 0) {
        *upload_size = 0; /* a body on a GET is ignored */
        return MHD_YES;
    } else {
        char *body = NULL;
        size_t len = 0;
        const char *ctype = "text/plain; charset=utf-8";
        status = h->handler(h->ctx, url, &body, &len, &ctype);
        if (body == NULL) {
            resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        } else {
            resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
            if (resp == NULL)
                free(body);
        }
        if (resp == NULL)
            return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", ctype);
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void tm__mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[400], q[450];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    tm_log(TM_LOG_WARN, "http", "msg=%s", tm_log_quote(q, sizeof q, msg));
}

int tm_http_start(const char *hostport, tm_http_handler handler, void *ctx, tm_http_t **out,
                  unsigned *port, tm_err_t *err)
{
    *out = NULL;
    char host[64];
    const char *colon = strrchr(hostport, ':');
    char *end = NULL;
    long p = colon != NULL ? strtol(colon + 1, &end, 10) : -1;
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof host || end == colon + 1 ||
        *end != '\0' || p < 0 || p > 65535)
        return tm_err_set(err, TM_EINVAL, "bad_config",
                          "\"http\" must be HOST:PORT, e.g. 127.0.0.1:7730 (got \"%s\")", hostport);
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)p);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return tm_err_set(err, TM_EINVAL, "bad_config",
                          "\"http\": \"%s\" is not an IPv4 address (use 127.0.0.1)", host);
    tm_http_t *h = calloc(1, sizeof *h);
    if (h == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    h->handler = handler;
    h->ctx = ctx;
    h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
                              (uint16_t)p, NULL, NULL, tm__answer, h,
                              MHD_OPTION_EXTERNAL_LOGGER, tm__mhd_log, NULL,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                              MHD_OPTION_END);
    if (h->mhd == NULL) {
        int e = errno;
        free(h);
        return tm_err_set(err, TM_EFATAL, "bind_failed",
                          "cannot serve HTTP on %s: %s (set \"http\" to another port, or \"\")",
                          hostport, e != 0 ? strerror(e) : "libmicrohttpd refused");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    *port = info != NULL ? info->port : (unsigned)p;
    tm_log(TM_LOG_INFO, "http", "msg=\"serving /metrics /healthz /readyz\" address=%s:%u", host,
           *port);
    *out = h;
    return TM_OK;
}

void tm_http_stop(tm_http_t **hp)
{
    tm_http_t *h = *hp;
    if (h == NULL)
        return;
    MHD_stop_daemon(h->mhd);
    free(h);
    *hp = NULL;
}
