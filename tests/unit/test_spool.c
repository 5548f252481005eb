/* Unit tests for daemon/spool.c: the record layout, crash-record lines,
 * group-committed appends, delayed removal, replay in key order, crash
 * blame, dead letters, and writes after stop. */
#include "unit.h"

#include <pthread.h>
#include <unistd.h>

#include "../../daemon/spool.h"

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, failed;
    uint64_t keys[256];
} sink_t;

static void on_done(void *ctx, void *item, uint64_t key, int ok, const char *why)
{
    sink_t *s = ctx;
    (void)why;
    pthread_mutex_lock(&s->lock);
    if (ok)
        s->keys[(uintptr_t)item] = key;
    else
        s->failed++;
    s->done++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void wait_done(sink_t *s, int n)
{
    pthread_mutex_lock(&s->lock);
    while (s->done < n)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/tm-spool-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rm_rf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static tm_spool_t *open_spool(const char *dir, sink_t *s, unsigned retire_ms)
{
    tm_spool_opts_t o = {.state_dir = dir, .enabled = 1, .fsync = TM_SPOOL_FSYNC_BATCH,
                         .batch_max = 16, .map_bytes = 16 << 20, .retire_ms = retire_ms,
                         .max_crashes = 3, .workers = 2};
    tm_spool_t *sp = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_spool_open(&o, on_done, s, &sp, &err), TM_OK);
    return sp;
}

static void test_record_roundtrip_and_rejects(void **state)
{
    (void)state;
    char buf[256];
    tm_spool_entry_t e = {.attempts = 2, .last_signal = 11, .raw = "{\"text\":\"x\"}",
                          .raw_len = 12};
    snprintf(e.stage, sizeof e.stage, "quotes");
    size_t n = tm_spool_record_encode(buf, sizeof buf, &e);
    assert_int_equal(n, TM_SPOOL_HEADER_BYTES + 12);
    tm_spool_entry_t d;
    assert_int_equal(tm_spool_record_decode(buf, n, &d), TM_OK);
    assert_int_equal(d.attempts, 2);
    assert_int_equal(d.last_signal, 11);
    assert_string_equal(d.stage, "quotes");
    assert_int_equal(d.raw_len, 12);
    assert_memory_equal(d.raw, "{\"text\":\"x\"}", 12);
    assert_int_equal(tm_spool_record_decode(buf, n - 1, &d), TM_EINVAL); /* length mismatch */
    assert_int_equal(tm_spool_record_decode(buf, 10, &d), TM_EINVAL);    /* short */
    buf[0] = 'X';
    assert_int_equal(tm_spool_record_decode(buf, n, &d), TM_EINVAL);     /* magic */
    assert_int_equal(tm_spool_record_encode(buf, 20, &e), 0);            /* no room */
}

static void test_crash_lines(void **state)
{
    (void)state;
    uint64_t key;
    int sig;
    char stage[64], id[64];
#define LINE(s) tm_spool_crash_line((s), strlen(s), &key, &sig, stage, sizeof stage, id, sizeof id)
    assert_int_equal(LINE("42 11 quotes\n"), TM_OK);
    assert_true(key == 42);
    assert_int_equal(sig, 11);
    assert_string_equal(stage, "quotes");
    assert_string_equal(id, "");
    assert_int_equal(LINE("0 6 dedup doc%201%25\n"), TM_OK); /* not spooled: the id counts */
    assert_true(key == 0);
    assert_string_equal(id, "doc 1%");
    assert_int_equal(LINE("0 11 x"), TM_EINVAL);    /* neither key nor id */
    assert_int_equal(LINE("12 x"), TM_EINVAL);
    assert_int_equal(LINE("12 6 "), TM_EINVAL);
    assert_int_equal(LINE("3 6 s bad%2"), TM_EINVAL); /* truncated escape */
    assert_int_equal(LINE("3 6 s nul%00"), TM_EINVAL);
    assert_int_equal(LINE("99999999999999999999999 6 a"), TM_EINVAL);
#undef LINE
}

static void test_append_retire_replay_blame(void **state)
{
    (void)state;
    char *dir = tmpdir();
    sink_t s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {0}};
    tm_spool_t *sp = open_spool(dir, &s, 0);
    enum { N = 100 };
    for (uintptr_t i = 0; i < N; i++) {
        char doc[64];
        int n = snprintf(doc, sizeof doc, "{\"id\":\"d%u\",\"text\":\"t\"}", (unsigned)i);
        tm_spool_append(sp, (void *)i, strndup(doc, (size_t)n), (size_t)n);
    }
    wait_done(&s, N);
    assert_int_equal(s.failed, 0);
    for (int i = 1; i < N; i++)
        assert_true(s.keys[i] > s.keys[i - 1]); /* keys follow append order */
    uint64_t depth, bytes;
    tm_spool_depth(sp, &depth, &bytes);
    assert_true(depth == N);
    for (int i = 0; i < N; i += 2)
        tm_spool_retire(sp, s.keys[i]);
    tm_spool_close(&sp); /* writes every queued removal first */
    assert_null(sp);

    /* The previous run "crashed" with d1 inside stage quotes. */
    char path[4200];
    snprintf(path, sizeof path, "%s/crash-record", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%llu 11 quotes d1\ngarbage line\n0 6 sentiment never%%20stored\n",
            (unsigned long long)s.keys[1]);
    fclose(f);

    sp = open_spool(dir, &s, 0);
    tm_spool_depth(sp, &depth, &bytes);
    assert_true(depth == N / 2);
    /* Both ids are suspects now, the stored one and the one never stored. */
    char stage[64];
    int sig = 0;
    assert_int_equal(tm_spool_suspect(sp, "d1", stage, sizeof stage, &sig), 1);
    assert_string_equal(stage, "quotes");
    assert_int_equal(tm_spool_suspect(sp, "never stored", stage, sizeof stage, &sig), 1);
    assert_string_equal(stage, "sentiment");
    assert_int_equal(sig, 6);
    assert_int_equal(tm_spool_suspect(sp, "d3", stage, sizeof stage, &sig), 0);
    tm_spool_forget_suspect(sp, "never stored");
    assert_int_equal(tm_spool_suspect(sp, "never stored", stage, sizeof stage, &sig), 0);
    uint64_t after = 0;
    int seen = 0;
    tm_spool_entry_t e;
    while (tm_spool_replay_next(sp, after, &e) == 1) {
        int i = 2 * seen + 1;
        char want[64];
        snprintf(want, sizeof want, "{\"id\":\"d%d\",\"text\":\"t\"}", i);
        assert_true(e.key == s.keys[i]);
        assert_string_equal(e.raw, want);
        assert_int_equal(e.attempts, i == 1 ? 1 : 0);
        if (i == 1) {
            assert_string_equal(e.stage, "quotes");
            assert_int_equal(e.last_signal, 11);
        }
        after = e.key;
        free(e.raw);
        seen++;
    }
    assert_int_equal(seen, N / 2);
    /* A dead letter: its line lands in the file and the entry goes. */
    tm_spool_dead(sp, s.keys[1], "{\"id\":\"d1\",\"status\":\"dead\"}", 27);
    tm_spool_close(&sp);
    snprintf(path, sizeof path, "%s/dead-letters.jsonl", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    char line[128] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "{\"id\":\"d1\",\"status\":\"dead\"}\n");
    /* The crash record was consumed: no more blame on the next start; the
     * forgotten suspect stays forgotten, the other one stays. */
    sp = open_spool(dir, &s, 0);
    assert_int_equal(tm_spool_suspect(sp, "never stored", stage, sizeof stage, &sig), 0);
    assert_int_equal(tm_spool_suspect(sp, "d1", stage, sizeof stage, &sig), 1);
    tm_spool_depth(sp, &depth, &bytes);
    assert_true(depth == N / 2 - 1);
    assert_int_equal(tm_spool_replay_next(sp, 0, &e), 1);
    assert_true(e.key == s.keys[3]);
    assert_int_equal(e.attempts, 0);
    free(e.raw);
    tm_spool_close(&sp);
    rm_rf(dir);
    free(dir);
}

static void test_retire_waits_and_stop_fails_appends(void **state)
{
    (void)state;
    char *dir = tmpdir();
    sink_t s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {0}};
    tm_spool_t *sp = open_spool(dir, &s, 300);
    tm_spool_append(sp, (void *)0, strdup("{\"text\":\"a\"}"), 12);
    wait_done(&s, 1);
    tm_spool_retire(sp, s.keys[0]);
    usleep(100 * 1000);
    uint64_t depth, bytes;
    tm_spool_depth(sp, &depth, &bytes);
    assert_true(depth == 1); /* still there inside the retire delay */
    for (int i = 0; i < 100 && depth != 0; i++) {
        usleep(20 * 1000);
        tm_spool_depth(sp, &depth, &bytes);
    }
    assert_true(depth == 0);
    tm_spool_stop(sp);
    tm_spool_append(sp, (void *)1, strdup("{\"text\":\"b\"}"), 12);
    assert_int_equal(s.done, 2); /* failed back at once, on this thread */
    assert_int_equal(s.failed, 1);
    tm_spool_close(&sp);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_roundtrip_and_rejects),
        cmocka_unit_test(test_crash_lines),
        cmocka_unit_test(test_append_retire_replay_blame),
        cmocka_unit_test(test_retire_waits_and_stop_fails_appends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
