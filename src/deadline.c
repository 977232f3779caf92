/*
 * Heartbeat deadlines (SPEC §3, §10) and the quality of each client's
 * heartbeats.
 *
 * Every client that shares one timeout sits in one list ordered by its
 * last byte, so the list's order is the order of its deadlines too. A
 * read stamps last_rx and moves the client to the tail of its list: O(1),
 * however many distinct timeouts are in use. Each list has one timer,
 * waiting for its head; libevent's timer heap orders the lists. No client
 * is visited before its deadline, and a client costs no timer event of
 * its own. A list is made when a client first needs its timeout and
 * freed by its own timer once it is empty.
 *
 * Clients that still owe a HELLO with a token wait in the hello list
 * instead: their lines are no heartbeats, and its deadline is
 * hello_timeout from connecting.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client.h"
#include "daemon.h"
#include "deadline.h"
#include "log.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define EXPIRE_BATCH	256	/* drops per callback, so reads get a turn */

/* Clients that share one timeout, ordered by last byte. */
struct deadlines {
	struct client_list	 clients;
	struct event		*ev;
	uint64_t		 ns;		/* the timeout */
	uint64_t		 near_ns;	/* half of it: a near miss */
	uint64_t		 gap_ns[DEADLINE_GAP_NBOUNDS];
	enum hb_reason		 reason;	/* why the expired are dropped */
	RB_ENTRY(deadlines)	 node;
};
RB_HEAD(deadlines_tree, deadlines);

static int	deadlines_cmp(struct deadlines *, struct deadlines *);
RB_PROTOTYPE_INTERNAL(deadlines_tree, deadlines, node, deadlines_cmp,
    RB_STATIC)

static struct deadlines *deadlines_get(uint64_t);
static void	deadlines_set(struct deadlines *, uint64_t);
static void	deadlines_append(struct deadlines *, struct client *);
static void	deadlines_arm(struct deadlines *, uint64_t);
static void	deadlines_expire_cb(evutil_socket_t, short, void *);
static void	deadlines_free(struct deadlines *);
static int	client_by_last_rx(const void *, const void *);

const double	 deadline_gap_bounds[DEADLINE_GAP_NBOUNDS] = {
	0.1, 0.25, 0.5, 0.75, 0.9, 1
};

static struct deadlines_tree	 by_timeout = RB_INITIALIZER(&by_timeout);
static struct deadlines		 hellos = {
	TAILQ_HEAD_INITIALIZER(hellos.clients), NULL, 0, 0, { 0 },
	REASON_AUTH, { NULL, NULL, NULL, 0 }
};
static deadline_expire_fn	 expire_fn;

RB_GENERATE_INTERNAL(deadlines_tree, deadlines, node, deadlines_cmp,
    RB_STATIC)

static int
deadlines_cmp(struct deadlines *a, struct deadlines *b)
{
	return (a->ns < b->ns ? -1 : a->ns > b->ns);
}

/* expire is called for each client whose deadline passed, in batches. */
void
deadline_init(deadline_expire_fn expire)
{
	expire_fn = expire;
}

/* Seconds as nanoseconds, rounded. */
uint64_t
deadline_ns(double seconds)
{
	return ((uint64_t)(seconds * 1e9 + 0.5));
}

static void
deadlines_set(struct deadlines *dl, uint64_t ns)
{
	size_t	 i;

	dl->ns = ns;
	dl->near_ns = ns / 2;
	for (i = 0; i < DEADLINE_GAP_NBOUNDS; i++)
		dl->gap_ns[i] = (uint64_t)(ns * deadline_gap_bounds[i]);
}

/* The list of clients with timeout ns, made if there is none yet. */
static struct deadlines *
deadlines_get(uint64_t ns)
{
	struct deadlines	 key, *dl;

	key.ns = ns;
	if ((dl = RB_FIND(deadlines_tree, &by_timeout, &key)) != NULL)
		return (dl);
	dl = xcalloc(1, sizeof(*dl));
	TAILQ_INIT(&dl->clients);
	deadlines_set(dl, ns);
	dl->reason = REASON_TIMEOUT;
	if ((dl->ev = evtimer_new(hb_base, deadlines_expire_cb, dl)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	RB_INSERT(deadlines_tree, &by_timeout, dl);
	return (dl);
}

/* Appends c, whose last_rx is the newest, and starts the timer if idle. */
static void
deadlines_append(struct deadlines *dl, struct client *c)
{
	c->deadlines = dl;
	TAILQ_INSERT_TAIL(&dl->clients, c, activity);
	if (dl->ev == NULL || !evtimer_pending(dl->ev, NULL))
		deadlines_arm(dl, dl->ns);
}

/* Files c under timeout ns (a client that has proven its name). */
void
deadline_add(struct client *c, uint64_t ns)
{
	deadlines_append(deadlines_get(ns), c);
}

/* Files c under hello_timeout: it owes a HELLO with a token. */
void
deadline_add_hello(struct client *c)
{
	if (hellos.ns == 0)
		deadlines_set(&hellos, deadline_ns(hb_conf->hello_timeout));
	deadlines_append(&hellos, c);
}

void
deadline_remove(struct client *c)
{
	TAILQ_REMOVE(&c->deadlines->clients, c, activity);
	c->deadlines = NULL;
}

/* c's timeout in ns: its list's. */
uint64_t
deadline_timeout(const struct client *c)
{
	return (c->deadlines->ns);
}

/*
 * A read ended a silence of gap ns: c's quality is updated, and it goes
 * to the tail of its list. This runs for every read: it must stay O(1)
 * and cheap.
 */
void
deadline_touch(struct client *c, uint64_t now)
{
	struct deadlines	*dl = c->deadlines;
	uint64_t		 gap = now - c->last_rx;
	size_t			 i;

	c->last_rx = now;
	if (gap > c->gap_max)
		c->gap_max = gap;
	if (gap > dl->near_ns)
		c->near++;
	for (i = 0; i < DEADLINE_GAP_NBOUNDS && gap > dl->gap_ns[i]; i++)
		;
	stats.gap_buckets[i]++;
	stats.gap_count++;
	stats.gap_sum += (double)gap / dl->ns;
	if (TAILQ_NEXT(c, activity) != NULL) {
		TAILQ_REMOVE(&dl->clients, c, activity);
		TAILQ_INSERT_TAIL(&dl->clients, c, activity);
	}
}

/* Arms dl's timer to fire in ns nanoseconds, rounded up. */
static void
deadlines_arm(struct deadlines *dl, uint64_t ns)
{
	struct timeval	 tv;

	if (dl->ev == NULL && (dl->ev = evtimer_new(hb_base,
	    deadlines_expire_cb, dl)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	ns += 999;
	tv.tv_sec = ns / 1000000000ULL;
	tv.tv_usec = (ns % 1000000000ULL) / 1000;
	evtimer_add(dl->ev, &tv);
}

/*
 * Drops the clients whose deadline has passed, oldest first, a batch at
 * a time, and waits for the next deadline. libevent's clock is the coarse
 * one and may wake this early: the precise monotonic clock decides, so a
 * client is dropped no sooner than its timeout after its last byte. A
 * list left empty is freed here, the only place that knows it is not in
 * use.
 */
static void
deadlines_expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deadlines	*dl = arg;
	struct client		*c, *batch[EXPIRE_BATCH];
	uint64_t		 now = mono_ns();
	size_t			 n = 0;

	TAILQ_FOREACH(c, &dl->clients, activity) {
		if (c->last_rx + dl->ns > now || n == EXPIRE_BATCH)
			break;
		batch[n++] = c;
	}
	if (n > 0)
		expire_fn(batch, n, dl->reason);
	if ((c = TAILQ_FIRST(&dl->clients)) == NULL) {
		if (dl != &hellos)
			deadlines_free(dl);
		return;
	}
	if (n == EXPIRE_BATCH || c->last_rx + dl->ns <= now)
		deadlines_arm(dl, 0);
	else
		deadlines_arm(dl, c->last_rx + dl->ns - now);
}

static void
deadlines_free(struct deadlines *dl)
{
	RB_REMOVE(deadlines_tree, &by_timeout, dl);
	event_free(dl->ev);
	free(dl);
}

static int
client_by_last_rx(const void *a, const void *b)
{
	const struct client	*ca = *(struct client *const *)a;
	const struct client	*cb = *(struct client *const *)b;

	return (ca->last_rx < cb->last_rx ? -1 : ca->last_rx > cb->last_rx);
}

/*
 * After a reload: every client is filed anew under the timeout granted
 * now (timeout_of), in order of last byte, and every list checks its
 * deadlines at once, so one already silent longer than its new timeout is
 * dropped at once. A reload is rare; this is the one pass over all.
 */
void
deadline_refile(struct client_list *all, size_t n,
    uint64_t (*timeout_of)(const struct client *))
{
	struct deadlines	*dl, *next;
	struct client		*c, **v;
	size_t			 i, m = 0;

	v = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*v));
	TAILQ_FOREACH(c, all, entry) {
		if (c->deadlines != NULL && c->deadlines != &hellos && m < n)
			v[m++] = c;
	}
	qsort(v, m, sizeof(*v), client_by_last_rx);
	for (i = 0; i < m; i++)
		deadline_remove(v[i]);
	for (i = 0; i < m; i++)
		deadline_add(v[i], timeout_of(v[i]));
	free(v);
	deadlines_set(&hellos, deadline_ns(hb_conf->hello_timeout));
	RB_FOREACH_SAFE(dl, deadlines_tree, &by_timeout, next)
		deadlines_expire_cb(-1, EV_TIMEOUT, dl);
	if (TAILQ_FIRST(&hellos.clients) != NULL)
		deadlines_expire_cb(-1, EV_TIMEOUT, &hellos);
}

/* Frees every list; the daemon stops and every client is gone. */
void
deadline_free_all(void)
{
	struct deadlines	*dl, *next;

	RB_FOREACH_SAFE(dl, deadlines_tree, &by_timeout, next)
		deadlines_free(dl);
	if (hellos.ev != NULL) {
		event_free(hellos.ev);
		hellos.ev = NULL;
	}
}
