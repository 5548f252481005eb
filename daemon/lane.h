/*
 * lane.h - the ordered lane: lets documents that finish their parallel
 * stages in any order pass one point (a stage's process_ordered hook) one at
 * a time, in arrival order.
 *
 * No worker ever blocks here.  A document that arrives out of turn is parked
 * in a ring indexed by its sequence number and its worker moves on; whoever
 * delivers the document the lane is waiting for becomes the lane's drainer
 * and takes every consecutive parked document through, handing each one
 * back to the pool afterwards.  Sequence numbers are dense: every number
 * handed out at intake either arrives with its document or is skipped.
 */
#ifndef TM_LANE_H
#define TM_LANE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tm_lane tm_lane_t;

/* A parked entry that stands for a sequence number without a document
 * (rejected at intake). */
#define TM_LANE_SKIP ((void *)1)

/* capacity is the initial ring size (rounded up to a power of two); size it
 * to the number of documents in flight.  The ring grows when skipped
 * numbers pile up behind a slow document. */
tm_lane_t *tm_lane_new(size_t capacity);
void tm_lane_destroy(tm_lane_t **lp);

/* Park item (a document or TM_LANE_SKIP) under seq.  Returns 1 when the
 * caller has become the drainer and must call tm_lane_next() until it
 * returns NULL; 0 when someone else will take the item through. */
int tm_lane_arrive(tm_lane_t *lane, uint64_t seq, void *item);

/* For the drainer: the next item in order, or NULL when the lane has caught
 * up (the caller is then no longer the drainer). */
void *tm_lane_next(tm_lane_t *lane);

/* Sequence number the lane waits for next (for tests and metrics). */
uint64_t tm_lane_position(tm_lane_t *lane);

#endif
