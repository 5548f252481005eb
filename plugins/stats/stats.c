/*
 * stats.c - the example stage: word, sentence and paragraph counts and an
 * estimated reading time, in annotations.stats.
 *
 * It is deliberately complete but small, to show everything a stage needs:
 * a parameter table, create/destroy, a thread-safe process hook, errors
 * through tm_err_set, a metric, and the single exported entry point.  It
 * builds out of tree against the installed header alone:
 *
 *   cc -std=c11 -O2 -fPIC -shared -fvisibility=hidden \
 *      $(pkg-config --cflags textmill) stats.c -o stats.so $(pkg-config --libs libcjson)
 *
 * (Makefile.example beside this file does exactly that.)
 */
#include <stdlib.h>
#include <textmill/stage.h>

typedef struct stats_stage {
    const tm_host_t *host;  /* borrowed; valid until destroy */
    double words_per_minute;
    tm_metric_t *words;     /* owned by the host */
} stats_stage_t;

static const tm_param_t stats_params[] = {
    {.key = "words_per_minute", .type = TM_PARAM_INT, .default_json = "238", .min = 50,
     .max = 2000, .description = "reading speed for reading_time_s (238: adult silent reading)"},
    {0},
};

static int stats_create(const tm_host_t *host, const cJSON *config, void **instance,
                        tm_err_t *err)
{
    stats_stage_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "stats: out of memory");
    st->host = host;
    /* The host validated config against stats_params: the key is present. */
    st->words_per_minute = cJSON_GetObjectItemCaseSensitive(config, "words_per_minute")->valuedouble;
    st->words = host->metric_new(host, TM_METRIC_COUNTER, "stats_words_total",
                                 "Words counted by the stats stage.");
    *instance = st;
    return TM_OK;
}

static void stats_destroy(void *instance) { free(instance); }

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static int stats_process(void *instance, void *thread_state, tm_doc_t *doc, tm_err_t *err)
{
    stats_stage_t *st = instance;
    const tm_host_t *h = st->host;
    size_t len = 0;
    const unsigned char *t = (const unsigned char *)h->doc_text(doc, &len);
    long words = 0, sentences = 0, paragraphs = 0;
    int in_word = 0, in_para = 0, pending_sentence = 0;
    (void)thread_state;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = t[i];
        if (c == '\n') {
            /* A line break ends a paragraph; a paragraph ends a sentence. */
            if (in_para) {
                paragraphs++;
                if (pending_sentence || in_word)
                    sentences++;
                pending_sentence = 0;
            }
            in_para = 0;
            in_word = 0;
            continue;
        }
        if (is_space(c)) {
            in_word = 0;
            continue;
        }
        in_para = 1;
        if (c == '.' || c == '!' || c == '?') {
            /* "...", "?!": one sentence end; it counts once followed by space. */
            size_t j = i + 1;
            while (j < len && (t[j] == '.' || t[j] == '!' || t[j] == '?' || t[j] == '"' ||
                               t[j] == ')' || t[j] == '\''))
                j++;
            if (j >= len || is_space(t[j])) {
                if (in_word || pending_sentence)
                    sentences++;
                pending_sentence = 0;
                in_word = 0;
                i = j - 1;
                continue;
            }
        }
        if (!in_word) {
            /* Count words that contain a letter or digit (ASCII or any
             * multi-byte character), not lone punctuation. */
            size_t j = i;
            int wordy = 0;
            while (j < len && !is_space(t[j])) {
                if (t[j] >= 0x80 || (t[j] >= '0' && t[j] <= '9') ||
                    ((t[j] | 0x20) >= 'a' && (t[j] | 0x20) <= 'z'))
                    wordy = 1;
                j++;
            }
            if (wordy) {
                words++;
                pending_sentence = 1;
            }
            in_word = 1;
        }
    }
    if (in_para) {
        paragraphs++;
        if (pending_sentence)
            sentences++;
    }
    cJSON *a = cJSON_CreateObject();
    if (a == NULL)
        return tm_err_set(err, TM_EDOC, "out_of_memory", "stats: out of memory");
    cJSON_AddNumberToObject(a, "bytes", (double)len);
    cJSON_AddNumberToObject(a, "words", (double)words);
    cJSON_AddNumberToObject(a, "sentences", (double)sentences);
    cJSON_AddNumberToObject(a, "paragraphs", (double)paragraphs);
    cJSON_AddNumberToObject(a, "reading_time_s",
                            (double)(long)((double)words * 60.0 / st->words_per_minute + 0.5));
    h->metric_add(st->words, (double)words);
    int rc = h->doc_annotate(doc, "stats", a); /* takes ownership of a */
    if (rc != TM_OK)
        return tm_err_set(err, TM_EDOC, "annotate_failed", "stats: cannot annotate (%d)", rc);
    return TM_OK;
}

static const tm_stage_desc_t stats_stage = {
    TM_STAGE_DESC_HEADER,
    .name = "stats",
    .version = "1.0.0",
    .description = "example stage: word, sentence and paragraph counts, reading time",
    .params = stats_params,
    .create = stats_create,
    .destroy = stats_destroy,
    .process = stats_process,
};

TM_STAGE_EXPORT(stats_stage)
