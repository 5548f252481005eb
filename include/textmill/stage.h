/*
 * textmill/stage.h - the stage-plugin ABI.
 *
 * This is the one public header of textmill and the product's contract with
 * the outside world.  A stage plugin is a shared object that exports exactly
 * one symbol, tm_stage_entry_v1 (the ABI major version is part of the name),
 * which returns a static descriptor (tm_stage_desc_t).  The host loads it with
 * dlopen(RTLD_NOW | RTLD_LOCAL), checks the descriptor and then drives the
 * stage through the hooks in the descriptor.  Everything the plugin may ask
 * of the host (logging, metrics, document access) reaches it through a table
 * of function pointers (tm_host_t), so a plugin never links against the
 * daemon; it links only against libcjson, which host and plugin share.
 *
 * Versioning (GStreamer's rule):
 *   - TM_ABI_MAJOR changes when an existing field or hook changes meaning or
 *     position.  The host refuses a plugin whose major differs from its own.
 *   - TM_ABI_MINOR grows when fields are appended to the end of a struct.
 *     The host refuses a plugin whose minor is newer than its own, and reads
 *     only the first desc->struct_size bytes of a descriptor, so an older
 *     plugin with a shorter descriptor keeps working.  A plugin must read
 *     host fields added after 1.0 only when host->abi_minor says they exist.
 *   - Structs only ever grow at their end; the reserved padding keeps room.
 *
 * Ownership rules, used throughout:
 *   - "borrowed": the callee may read it during the call only.
 *   - "owned":    the receiver becomes responsible for freeing it.
 * A plugin keeps no pointer into a document (text, meta, annotations) after
 * its process hook returns.
 *
 * Errors: hooks return TM_OK (0) or a negative TM_E* code and, on failure,
 * fill the caller-supplied tm_err_t with a short machine-readable code and a
 * message a user can act on.  tm_err_set() below does that.
 *
 * Threading: by default, process() is called concurrently from several worker
 * threads on different documents; per-thread scratch space comes from the
 * optional thread_init/thread_fini hooks.  A stage that needs to see
 * documents one at a time, in arrival order (deduplication does), provides
 * process_ordered(); the host runs it on a single ordered lane after the
 * stage's optional parallel process() hook.
 *
 * A minimal stage:
 *
 *     #include <textmill/stage.h>
 *
 *     static int hello_process(void *inst, void *tls, tm_doc_t *doc,
 *                              tm_err_t *err) {
 *         const tm_host_t *host = inst;
 *         size_t len;
 *         host->doc_text(doc, &len);
 *         (void)tls; (void)err;
 *         return host->doc_annotate(doc, "hello", cJSON_CreateNumber((double)len));
 *     }
 *     static int hello_create(const tm_host_t *host, const cJSON *config,
 *                             void **inst, tm_err_t *err) {
 *         (void)config; (void)err;
 *         *inst = (void *)host;
 *         return TM_OK;
 *     }
 *     static const tm_stage_desc_t hello = {
 *         TM_STAGE_DESC_HEADER, .name = "hello", .version = "1.0.0",
 *         .create = hello_create, .process = hello_process,
 *     };
 *     TM_STAGE_EXPORT(hello)
 *
 * Build it with
 *     cc -std=c11 -fPIC -shared -fvisibility=hidden \
 *        $(pkg-config --cflags textmill) hello.c -o hello.so \
 *        $(pkg-config --libs libcjson)
 * and list {"stage": "hello", "path": "/path/to/hello.so"} in the pipeline.
 * plugins/stats/ in the source tree is a complete example.
 */
#ifndef TEXTMILL_STAGE_H
#define TEXTMILL_STAGE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TM_ABI_MAJOR 1
#define TM_ABI_MINOR 0

/* The entry point's name carries the major version, so a plugin built for
 * another major is not even found: the loader reports an ABI mismatch by
 * looking for the other known names. */
#define TM_STAGE_ENTRY_SYMBOL "tm_stage_entry_v1"

#if defined(__GNUC__)
#define TM_PUBLIC __attribute__((visibility("default")))
#define TM_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define TM_PUBLIC
#define TM_PRINTF(fmt_idx, arg_idx)
#endif

/* ------------------------------------------------------------------------ */
/* Return codes                                                             */
/* ------------------------------------------------------------------------ */

enum {
    TM_OK = 0,
    /* This document failed in this stage.  The error is recorded in the
     * result's "errors" list and the document goes on to the next stage. */
    TM_EDOC = -1,
    /* The stage is broken (lost its state, ran out of a resource it cannot
     * recover).  The host disables the stage, logs the message and reports
     * the daemon as not ready; documents still flow through other stages. */
    TM_EFATAL = -2,
    TM_EINVAL = -3,  /* invalid argument or configuration */
    TM_ENOMEM = -4,  /* out of memory */
    TM_EIO = -5,     /* I/O error (files, state directory) */
    TM_EPERM = -6,   /* operation not allowed for this stage (e.g. set_text) */
    TM_ENOENT = -7,  /* not found */
};

/* A caller-supplied error slot.  code is a short snake_case identifier that
 * clients can switch on ("lexicon_unreadable"); message is for humans. */
typedef struct tm_err {
    char code[40];
    char message[472];
} tm_err_t;

/* Fill err (which may be NULL) and return rc, so a hook can write
 *     return tm_err_set(err, TM_EDOC, "empty_text", "nothing left after %s", x);
 */
static inline int tm_err_set(tm_err_t *err, int rc, const char *code, const char *fmt, ...)
    TM_PRINTF(4, 5);
static inline int tm_err_set(tm_err_t *err, int rc, const char *code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        snprintf(err->code, sizeof err->code, "%s", code != NULL ? code : "error");
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Configuration parameters                                                 */
/* ------------------------------------------------------------------------ */

/* Each stage declares the keys its "config" object accepts.  The host
 * validates the user's object against this table before create() is called:
 * unknown keys and values of the wrong type or out of range are rejected with
 * a message naming the key, and every key missing from the user's object is
 * filled in from its default.  So create() always receives an object holding
 * every declared key with a value of the declared type.  The same table
 * drives `textmilld --describe-stage NAME`. */
typedef enum tm_param_type {
    TM_PARAM_BOOL = 1,   /* JSON true/false */
    TM_PARAM_INT,        /* JSON number with no fraction, within [min, max] */
    TM_PARAM_DOUBLE,     /* JSON number within [min, max] */
    TM_PARAM_STRING,     /* JSON string */
    TM_PARAM_ENUM,       /* JSON string, one of the '|'-separated choices */
    TM_PARAM_PATH,       /* JSON string; a relative path is resolved against
                            host->data_dir before create() sees it */
    TM_PARAM_STRING_LIST,/* JSON array of strings */
    TM_PARAM_PATH_LIST,  /* JSON array of paths, each resolved like PATH */
    TM_PARAM_JSON,       /* any JSON value; the stage validates it itself */
} tm_param_type_t;

typedef struct tm_param {
    const char *key;
    tm_param_type_t type;
    /* The default as JSON text: "true", "3", "0.85", "\"en\"", "[]", "null".
     * "null" means "no default": the key is then passed as JSON null when the
     * user leaves it out. */
    const char *default_json;
    const char *description;
    double min, max;       /* INT and DOUBLE; ignored when min > max */
    const char *choices;   /* ENUM: "exact|near|all" */
    void *reserved[2];
} tm_param_t;

/* ------------------------------------------------------------------------ */
/* Host services                                                            */
/* ------------------------------------------------------------------------ */

typedef struct tm_doc tm_doc_t;        /* opaque, owned by the host */
typedef struct tm_metric tm_metric_t;  /* opaque, owned by the host */
typedef struct tm_host tm_host_t;

enum tm_log_level {
    TM_LOG_ERROR = 0,
    TM_LOG_WARN = 1,
    TM_LOG_INFO = 2,
    TM_LOG_DEBUG = 3,
};

enum tm_host_mode {
    TM_HOST_DAEMON = 1,  /* textmilld: long-running, documents from ZeroMQ */
    TM_HOST_BATCH = 2,   /* textmill run: JSONL on stdin, ends at EOF */
};

enum tm_metric_kind {
    TM_METRIC_COUNTER = 1,    /* monotonically increasing; metric_add(m, v>=0) */
    TM_METRIC_GAUGE = 2,      /* metric_set(m, v) or metric_add(m, +-v) */
    TM_METRIC_HISTOGRAM = 3,  /* metric_observe(m, v); seconds by convention */
};

/* Route flags for doc_set_route(). */
enum tm_route_flags {
    TM_ROUTE_DROP = 1u << 0,         /* publish nothing for this document */
    TM_ROUTE_PUBLISH_ONLY = 1u << 1, /* PUB topic only, not the PUSH deliver output */
};

/* The host table is created by the host, one per stage instance, and stays
 * valid (and unchanged) until after destroy() returns.  All strings are
 * borrowed.  The document accessors are safe to call from any worker thread
 * on the document that thread is processing. */
struct tm_host {
    uint16_t abi_major;       /* TM_ABI_MAJOR of the host */
    uint16_t abi_minor;       /* TM_ABI_MINOR of the host */
    uint32_t struct_size;     /* sizeof(tm_host_t) as the host built it */

    const char *stage_name;   /* the name this instance runs under */
    const char *host_version; /* textmill's version string */
    const char *data_dir;     /* read-only data shipped for this stage:
                                 <data_dir>/<stage name> */
    const char *state_dir;    /* writable directory for persistent state, or
                                 NULL when the host runs without one (batch
                                 mode without --state-dir) */
    unsigned workers;         /* threads that may call process() at once */
    unsigned mode;            /* enum tm_host_mode */

    /* Log one key=value line.  fmt produces the line's tail, by convention
     * starting with msg="...".  The host adds time, level and stage. */
    void (*log)(const tm_host_t *host, int level, const char *fmt, ...) TM_PRINTF(3, 4);

    /* Document accessors.  Every returned pointer is borrowed and valid until
     * the hook returns or the document is changed through doc_set_text(). */
    const char *(*doc_id)(const tm_doc_t *doc);
    /* The current text, NUL-terminated, valid UTF-8 without NUL bytes. */
    const char *(*doc_text)(const tm_doc_t *doc, size_t *len);
    /* "text/plain", "text/html" or "text/markdown" (parameters stripped). */
    const char *(*doc_content_type)(const tm_doc_t *doc);
    /* One of the optional string fields "url", "source", "lang",
     * "published_at"; NULL when the document has none. */
    const char *(*doc_field)(const tm_doc_t *doc, const char *name);
    /* The document's "meta" object, or NULL.  Read-only. */
    const cJSON *(*doc_meta)(const tm_doc_t *doc);
    /* An earlier stage's annotation under key, or NULL.  Read-only.  An
     * annotation attached as pre-serialised JSON (cJSON_CreateRaw) is parsed
     * here on first read, so writers may emit raw JSON and readers still get
     * a tree (ABI 1.0 hosts from textmill 0.1 on).  Raw text must be valid
     * JSON: the host copies it into the result verbatim, unchecked;
     * <textmill/json.h> writes strings exactly as the host does.
     * A writer that has the value as a tree too may hang that tree on the
     * raw item's child (the raw item owns it; cJSON_Delete frees both):
     * readers then get the child without any parsing, and the result gets
     * the raw bytes without any encoding.  The two must say the same thing.
     * (A host that predates this ignores the child and parses the text:
     * slower, same answer.) */
    const cJSON *(*doc_annotation)(const tm_doc_t *doc, const char *key);
    /* Attach value under annotations.<key>, replacing an earlier value of the
     * same key.  Takes ownership of value in every case, also on failure. */
    int (*doc_annotate)(tm_doc_t *doc, const char *key, cJSON *value);
    /* Replace the text (copied).  Only for stages flagged
     * TM_STAGE_REWRITES_TEXT; others get TM_EPERM.  The text must be valid
     * UTF-8 without NUL bytes (TM_EINVAL otherwise); it may be empty. */
    int (*doc_set_text)(tm_doc_t *doc, const char *text, size_t len);
    /* Choose the publish topic suffix ("near_duplicate" makes the topic
     * "result.near_duplicate") and route flags (enum tm_route_flags). */
    int (*doc_set_route)(tm_doc_t *doc, const char *topic_suffix, unsigned flags);
    /* Per-document scratch handed from this stage's process() to its
     * process_ordered().  The host calls free_fn(ptr) when the document is
     * done, unless the stage took it back with doc_stash_take(). */
    int (*doc_stash_put)(tm_doc_t *doc, void *ptr, void (*free_fn)(void *));
    void *(*doc_stash_take)(tm_doc_t *doc);

    /* Metrics, exported by the daemon (e.g. Prometheus).  The host prefixes
     * names with textmill_stage_ and adds a stage label.  metric_new returns
     * NULL on failure; the update functions accept NULL and do nothing. */
    tm_metric_t *(*metric_new)(const tm_host_t *host, int kind, const char *name, const char *help);
    void (*metric_add)(tm_metric_t *metric, double value);
    void (*metric_set)(tm_metric_t *metric, double value);
    void (*metric_observe)(tm_metric_t *metric, double value);

    /* Opaque to plugins. */
    void *host_private;

    void *reserved[16];
};

/* ------------------------------------------------------------------------ */
/* The stage descriptor                                                     */
/* ------------------------------------------------------------------------ */

enum tm_stage_flags {
    /* The stage may call doc_set_text().  Text-rewriting stages run before
     * all annotating stages (the host refuses a pipeline that orders them
     * otherwise), because annotations hold offsets into the final text. */
    TM_STAGE_REWRITES_TEXT = 1u << 0,
};

typedef struct tm_stage_desc {
    uint16_t abi_major;   /* TM_ABI_MAJOR the plugin was built against */
    uint16_t abi_minor;   /* TM_ABI_MINOR the plugin was built against */
    uint32_t struct_size; /* sizeof(tm_stage_desc_t) as the plugin built it */

    const char *name;        /* default stage name, [a-z0-9_]+ */
    const char *version;     /* the plugin's own version */
    const char *description; /* one line, for --describe-stage */
    uint32_t flags;          /* enum tm_stage_flags */
    const tm_param_t *params;/* terminated by an entry with key == NULL;
                                NULL means "accepts no config keys" */

    /* Required.  Build an instance from the validated config (borrowed; all
     * declared keys present).  host is borrowed but stays valid until
     * destroy() returns, so the instance may keep it.  On failure return a
     * negative code and fill err; start-up is then refused with that
     * message. */
    int (*create)(const tm_host_t *host, const cJSON *config, void **instance, tm_err_t *err);
    /* Optional.  Free the instance.  Called once, after every thread_fini. */
    void (*destroy)(void *instance);

    /* Optional.  Called once per worker thread before that thread's first
     * process() call; *thread_state is passed to process() on that thread. */
    int (*thread_init)(void *instance, void **thread_state, tm_err_t *err);
    /* Optional.  Frees a thread_state; may run on any thread, after the
     * owning worker has stopped using it. */
    void (*thread_fini)(void *instance, void *thread_state);

    /* Optional (but a stage needs process or process_ordered).  Runs
     * concurrently on several workers.  Returns TM_OK, TM_EDOC (recorded;
     * the document goes on) or TM_EFATAL (the stage is disabled). */
    int (*process)(void *instance, void *thread_state, tm_doc_t *doc, tm_err_t *err);
    /* Optional.  Runs after process(), one document at a time, in the order
     * documents arrived at the host.  thread_state is the calling worker's. */
    int (*process_ordered)(void *instance, void *thread_state, tm_doc_t *doc, tm_err_t *err);

    void *reserved[8];
} tm_stage_desc_t;

/* Use as the first initialiser of a descriptor. */
#define TM_STAGE_DESC_HEADER                                                   \
    .abi_major = TM_ABI_MAJOR, .abi_minor = TM_ABI_MINOR,                      \
    .struct_size = (uint32_t)sizeof(tm_stage_desc_t)

typedef const tm_stage_desc_t *(*tm_stage_entry_fn)(void);

/* Export the entry point for a descriptor.  Build the plugin with
 * -fvisibility=hidden so this is its only exported symbol. */
#define TM_STAGE_EXPORT(desc)                                                  \
    TM_PUBLIC const tm_stage_desc_t *tm_stage_entry_v1(void);                  \
    TM_PUBLIC const tm_stage_desc_t *tm_stage_entry_v1(void) { return &(desc); }

#ifdef __cplusplus
}
#endif

#endif /* TEXTMILL_STAGE_H */
