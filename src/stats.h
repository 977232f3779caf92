#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"

/*
 * Upper bounds of the session duration buckets, in seconds: fine enough
 * to tell a 2 s session from a 5 s one.
 */
#define STATS_SESSION_NBOUNDS	13
extern const double	 stats_session_bounds[STATS_SESSION_NBOUNDS];

/* The daemon's counters, bumped in place by events.c and client.c. */
struct stats {
	uint64_t	 started;		/* mono ns */
	uint64_t	 clients;
	uint64_t	 clients_peak;
	uint64_t	 accepted;
	uint64_t	 rejected;
	uint64_t	 disconnects;
	uint64_t	 timeouts;
	uint64_t	 kicked;
	uint64_t	 replaced;
	uint64_t	 overflows;
	uint64_t	 pings;
	uint64_t	 data_lines;
	uint64_t	 messages_sent;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 auth_failures;
	uint64_t	 handshake_failures;
	uint64_t	 proxy_failures;
	uint64_t	 flapping;		/* HELLOs refused */
	uint64_t	 seq;			/* last event number */
	uint64_t	 accept_pauses;		/* out of descriptors */
	uint64_t	 by_reason[REASON__COUNT];	/* disconnects */
	uint64_t	 pushes_queued;		/* kept by the store */
	uint64_t	 pushes_acked;
	uint64_t	 pushes_expired;
	uint64_t	 pushes_pending;

	/*
	 * Finished client sessions, for the duration histogram: a count
	 * per bound, then one over the last.
	 */
	uint64_t	 session_buckets[STATS_SESSION_NBOUNDS + 1];
	uint64_t	 session_count;
	double		 session_sum;		/* s */

	/* Every silence over its client's timeout, for the gap histogram. */
	uint64_t	 gap_buckets[7];	/* per bound, and over the last */
	uint64_t	 gap_count;
	double		 gap_sum;
};

extern struct stats	 stats;

enum stat_kind {
	STAT_COUNTER,		/* only grows */
	STAT_GAUGE
};

/* One numeric STATS key, in SPEC §4 order, as read at that moment. */
struct stat_value {
	const char	*name;
	enum stat_kind	 kind;
	const char	*help;
	uint64_t	 value;
};

#define STATS_MAX	32

size_t	 stats_snapshot(struct stat_value *, size_t);
void	 stats_session_ended(double);

#endif /* STATS_H */
