/*
 * Unit tests for the dedup stage's shared Redis index: a real redis-server
 * on loopback (skipped when redis-server is not installed).  Two stage
 * instances stand for two daemons sharing one index; an instance that
 * starts later sees what the others indexed (restart); a server that stops
 * mid-stream gives each document a clear error and the stage recovers when
 * it comes back; other sketch settings on the same prefix are refused.
 */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/testhost.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

static char data_dir[4096], rdir[64];
static int port;
static pid_t rpid;

static int start_redis(void)
{
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    rpid = fork();
    if (rpid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", rdir, (char *)NULL);
        _exit(127);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "redis-cli -p %d ping >/dev/null 2>&1", port);
    for (int i = 0; i < 100; i++) {
        if (system(cmd) == 0)
            return 0;
        usleep(50000);
    }
    return -1;
}

static void stop_redis(void)
{
    if (rpid > 0) {
        kill(rpid, SIGTERM);
        waitpid(rpid, NULL, 0);
    }
    rpid = 0;
}

static int setup(void **state)
{
    (void)state;
    if (system("command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1") !=
        0)
        return 0;
    strcpy(rdir, "/tmp/tm-dedup-redis-XXXXXX");
    if (mkdtemp(rdir) == NULL)
        return -1;
    port = 20000 + (int)(getpid() % 20000);
    return start_redis();
}

static int teardown(void **state)
{
    (void)state;
    stop_redis();
    if (rdir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", rdir);
        if (system(cmd) != 0)
            return -1;
    }
    return 0;
}

static char *article(unsigned seed)
{
    static const char *const w[] = {"harbour", "council", "storm", "bridge", "budget", "school",
                                    "river", "market", "said", "after", "the", "of", "and",
                                    "mayor", "workers", "station", "opened", "closed", "new",
                                    "plans", "court", "energy", "water", "report"};
    size_t cap = 8192, n = 0;
    char *s = malloc(cap);
    uint32_t x = seed * 2654435761u + 99u;
    for (int i = 0; i < 300; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        n += (size_t)snprintf(s + n, cap - n, "%s%s", i ? " " : "", w[x % 24]);
    }
    return s;
}

static tm_testhost_t *open_redis(const char *extra)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"backend\": \"redis\", \"redis_port\": %d, \"redis_prefix\": \"t:\", "
             "\"redis_retry_ms\": 0%s}",
             port, extra);
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = tm_testhost_open(tm_stage_entry_v1(), cfg, data_dir, NULL, &err);
    if (th == NULL)
        fail_msg("open: %s: %s", err.code, err.message);
    return th;
}

/* Run; returns the status (static buffer) or the error code. */
static const char *run(tm_testhost_t *th, const char *id, const char *text, char *of, size_t ofsz)
{
    static char out[64];
    tm_err_t err = {{0}, {0}};
    tm_doc_t *doc = tm_testhost_doc(id, text, (size_t)-1, NULL);
    int rc = tm_testhost_run(th, doc, &err);
    if (rc != TM_OK) {
        snprintf(out, sizeof out, "%s", err.code);
        if (of != NULL)
            snprintf(of, ofsz, "%s", err.message);
    } else {
        const cJSON *raw = tm_testhost_annotation(doc, "dedup");
        assert_true(cJSON_IsRaw(raw)); /* JSON text, parsed here */
        cJSON *a = cJSON_Parse(raw->valuestring);
        assert_non_null(a);
        snprintf(out, sizeof out, "%s", cJSON_GetObjectItem(a, "status")->valuestring);
        const cJSON *d = cJSON_GetObjectItem(a, "duplicate_of");
        if (of != NULL)
            snprintf(of, ofsz, "%s", cJSON_IsString(d) ? d->valuestring : "");
        cJSON_Delete(a);
    }
    tm_doc_destroy(&doc);
    return out;
}

static void test_two_daemons_share_one_index(void **state)
{
    (void)state;
    if (rpid == 0)
        skip();
    tm_testhost_t *a = open_redis(""), *b = open_redis("");
    char *t1 = article(1), *t2 = article(2);
    char of[600];
    assert_string_equal(run(a, "a1", t1, of, sizeof of), "unique");
    assert_string_equal(run(b, "b1", t1, of, sizeof of), "exact_duplicate");
    assert_string_equal(of, "a1");
    assert_string_equal(run(b, "b2", t2, of, sizeof of), "unique");
    /* a near copy (a word changed, a line added) seen by the other daemon */
    char *near = malloc(strlen(t2) + 64);
    strcpy(near, "Reprinted with permission. ");
    strcat(near, t2);
    { char *p = strstr(near, "the"); if (p != NULL) memcpy(p, "thx", 3); }
    assert_string_equal(run(a, "a2", near, of, sizeof of), "near_duplicate");
    assert_string_equal(of, "b2");
    tm_testhost_close(&a);
    /* restart: a new instance remembers */
    a = open_redis("");
    assert_string_equal(run(a, "a3", t2, of, sizeof of), "exact_duplicate");
    assert_string_equal(of, "b2");
    tm_testhost_close(&a);
    tm_testhost_close(&b);
    free(t1), free(t2), free(near);
}

static void test_server_stops_mid_stream(void **state)
{
    (void)state;
    if (rpid == 0)
        skip();
    tm_testhost_t *a = open_redis("");
    char *t = article(7);
    char msg[600];
    assert_string_equal(run(a, "s1", t, msg, sizeof msg), "unique");
    stop_redis();
    assert_string_equal(run(a, "s2", t, msg, sizeof msg), "index_unavailable");
    assert_contains(msg, "Redis at 127.0.0.1");
    assert_string_equal(run(a, "s3", t, msg, sizeof msg), "index_unavailable");
    assert_int_equal(start_redis(), 0); /* empty again: nothing saved */
    assert_string_equal(run(a, "s4", t, msg, sizeof msg), "unique");
    assert_string_equal(run(a, "s5", t, msg, sizeof msg), "exact_duplicate");
    assert_string_equal(msg, "s4");
    tm_testhost_close(&a);
    free(t);
}

static void test_other_settings_refused(void **state)
{
    (void)state;
    if (rpid == 0)
        skip();
    tm_testhost_t *a = open_redis("");
    tm_testhost_close(&a);
    char cfg[256];
    snprintf(cfg, sizeof cfg,
             "{\"backend\": \"redis\", \"redis_port\": %d, \"redis_prefix\": \"t:\", "
             "\"shingle_size\": 5}",
             port);
    tm_err_t err = {{0}, {0}};
    assert_null(tm_testhost_open(tm_stage_entry_v1(), cfg, data_dir, NULL, &err));
    assert_contains(err.message, "redis_prefix");
    /* nothing listening: start-up refused, naming the server */
    snprintf(cfg, sizeof cfg, "{\"backend\": \"redis\", \"redis_port\": %d}", port + 1);
    memset(&err, 0, sizeof err);
    assert_null(tm_testhost_open(tm_stage_entry_v1(), cfg, data_dir, NULL, &err));
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", port + 1);
    assert_contains(err.message, want);
}

int main(void)
{
    const char *src = getenv("TM_SRCDIR");
    snprintf(data_dir, sizeof data_dir, "%s/plugins/dedup", src != NULL ? src : ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_daemons_share_one_index),
        cmocka_unit_test(test_server_stops_mid_stream),
        cmocka_unit_test(test_other_settings_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
