/*
 * Unit tests for src/deadline.c: the gap bookkeeping of every read
 * (gap_max, near misses, the gap-ratio histogram), lists per timeout kept
 * in last-byte order, and expiry in that order. The clients are made by
 * hand: the lists only read and write their deadline fields.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <check.h>

#include "check_main.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client.h"
#include "daemon.h"
#include "deadline.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define MS		1000000ULL	/* ns */
#define NCLIENTS	4

static void		 setup(void);
static void		 teardown(void);
static void		 expire(struct client **, size_t, enum hb_reason);

static struct client	*clients[NCLIENTS];
static struct client	*expired[NCLIENTS];
static size_t		 nexpired;

/* A list's callback: records what it drops, in order, and unfiles it. */
static void
expire(struct client **v, size_t n, enum hb_reason reason)
{
	size_t	 i;

	ck_assert_int_eq(reason, REASON_TIMEOUT);
	for (i = 0; i < n; i++) {
		ck_assert_uint_lt(nexpired, NCLIENTS);
		expired[nexpired++] = v[i];
		deadline_remove(v[i]);
	}
}

static void
setup(void)
{
	size_t	 i;

	ck_assert_ptr_nonnull(hb_base = event_base_new());
	deadline_init(expire);
	memset(&stats, 0, sizeof(stats));
	for (i = 0; i < NCLIENTS; i++) {
		clients[i] = xcalloc(1, sizeof(*clients[i]));
		clients[i]->id = i + 1;
	}
	nexpired = 0;
}

static void
teardown(void)
{
	size_t	 i;

	for (i = 0; i < NCLIENTS; i++) {
		if (clients[i]->deadlines != NULL)
			deadline_remove(clients[i]);
		free(clients[i]);
	}
	deadline_free_all();
	event_base_free(hb_base);
	hb_base = NULL;
}

/*
 * A read ends a silence: the longest is gap_max, one over half the
 * timeout is a near miss, and each lands in the bucket of its ratio to
 * the timeout (0.1 0.25 0.5 0.75 0.9 1, then over).
 */
START_TEST(test_deadline_gaps)
{
	static const struct {
		uint64_t	 gap;		/* ms, of a 1000 ms timeout */
		size_t		 bucket;
	} gaps[] = {
		{ 50, 0 }, { 100, 0 }, { 101, 1 }, { 400, 2 }, { 500, 2 },
		{ 501, 3 }, { 900, 4 }, { 1000, 5 }, { 1001, 6 }, { 5, 0 },
	};
	struct client	*c = clients[0];
	uint64_t	 now = 10000 * MS, want[7] = { 0 }, near = 0, max = 0;
	size_t		 i;

	c->last_rx = now;
	deadline_add(c, 1000 * MS);
	ck_assert_uint_eq(deadline_timeout(c), 1000 * MS);
	for (i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		now += gaps[i].gap * MS;
		deadline_touch(c, now);
		want[gaps[i].bucket]++;
		near += gaps[i].gap > 500;
		if (gaps[i].gap * MS > max)
			max = gaps[i].gap * MS;
		ck_assert_uint_eq(c->last_rx, now);
		ck_assert_uint_eq(c->gap_max, max);
		ck_assert_uint_eq(c->near, near);
	}
	for (i = 0; i < 7; i++)
		ck_assert_msg(stats.gap_buckets[i] == want[i],
		    "bucket %zu: %llu, not %llu", i,
		    (unsigned long long)stats.gap_buckets[i],
		    (unsigned long long)want[i]);
	ck_assert_uint_eq(stats.gap_count, sizeof(gaps) / sizeof(gaps[0]));
	ck_assert(stats.gap_sum > 4.557 && stats.gap_sum < 4.559);
}
END_TEST

/*
 * Two timeouts, two lists: a read moves a client to the tail of its own,
 * and each list drops its clients in last-byte order once their own
 * timeout has passed, no sooner.
 */
START_TEST(test_deadline_order)
{
	uint64_t	 t0 = mono_ns();
	size_t		 i;

	for (i = 0; i < NCLIENTS; i++) {
		clients[i]->last_rx = t0;
		deadline_add(clients[i], (i % 2 ? 60 : 30) * MS);
	}
	/* #1 reads again: #3, then #1 in the 30 ms list. */
	deadline_touch(clients[0], t0 + 5 * MS);
	while (nexpired < NCLIENTS)
		event_base_loop(hb_base, EVLOOP_ONCE);
	ck_assert_ptr_eq(expired[0], clients[2]);
	ck_assert_ptr_eq(expired[1], clients[0]);
	ck_assert_ptr_eq(expired[2], clients[1]);
	ck_assert_ptr_eq(expired[3], clients[3]);
	ck_assert_uint_ge(mono_ns() - t0, 60 * MS);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("deadline");
	tc = tcase_create("deadline");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_deadline_gaps);
	tcase_add_test(tc, test_deadline_order);
	suite_add_tcase(s, tc);
	return (s);
}
