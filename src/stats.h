#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_SESSION_BUCKETS	13	/* stats_session_bounds[] */

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
	uint64_t	 seq;			/* last event number */
	uint64_t	 accept_pauses;		/* out of descriptors */

	/*
	 * Finished client sessions, for the duration histogram: one count
	 * per bound, not cumulative.
	 */
	uint64_t	 session_buckets[STATS_SESSION_BUCKETS];
	uint64_t	 session_count;
	double		 session_sum;		/* s */
};

/* Upper bounds of the session duration buckets, in seconds. */
extern const double	 stats_session_bounds[];
extern const size_t	 stats_session_nbounds;

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
