/* store_redis.c - the Redis backend: NOT IMPLEMENTED yet; create() refuses
 * backend "redis" with a message naming the working choice. */
#include "autoconfig.h"

#include "backend.h"
int dd_redis_open(const tm_host_t *host, const dd_redis_cfg_t *cfg, dd_replay_fn replay,
                  void *ctx, dd_backend_t **out, tm_err_t *err)
{
    (void)host; (void)cfg; (void)replay; (void)ctx; *out = NULL;
    return tm_err_set(err, TM_EINVAL, "bad_config", "dedup: backend \"redis\" is not implemented in this version; use \"backend\": \"lmdb\"");
}
