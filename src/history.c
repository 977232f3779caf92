/*
 * The connected-clients count over the last hour: a ring of samples,
 * taken by one timer, read by GET /api/v1/history.
 */

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "daemon.h"
#include "history.h"
#include "log.h"
#include "stats.h"

static void	 history_sample(void);
static void	 history_tick_cb(evutil_socket_t, short, void *);

static struct {
	uint64_t	 v[HISTORY_MAX];
	size_t		 head;		/* index of the oldest */
	size_t		 n;
	struct event	*ev;
} ring;

static void
history_sample(void)
{
	ring.v[(ring.head + ring.n) % HISTORY_MAX] = stats.clients;
	if (ring.n < HISTORY_MAX)
		ring.n++;
	else
		ring.head = (ring.head + 1) % HISTORY_MAX;
}

static void
history_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	history_sample();
}

/* Takes the first sample now and one every HISTORY_INTERVAL from now. */
void
history_start(void)
{
	struct timeval	 tv = { HISTORY_INTERVAL, 0 };

	ring.head = ring.n = 0;
	history_sample();
	if ((ring.ev = event_new(hb_base, -1, EV_PERSIST, history_tick_cb,
	    NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	evtimer_add(ring.ev, &tv);
}

void
history_stop(void)
{
	if (ring.ev != NULL)
		event_free(ring.ev);
	ring.ev = NULL;
}

/* Copies up to max samples, oldest first, to out; returns how many. */
size_t
history_get(uint64_t *out, size_t max)
{
	size_t	 i, n = ring.n < max ? ring.n : max;

	for (i = 0; i < n; i++)
		out[i] = ring.v[(ring.head + ring.n - n + i) % HISTORY_MAX];
	return (n);
}
