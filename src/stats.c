/*
 * The counter table behind the admin STATS and /metrics, so that both list
 * the same keys in the same order with the same meanings.
 */

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "stats.h"
#include "util.h"

struct stats	 stats;

const double	 stats_session_bounds[STATS_SESSION_NBOUNDS] = {
	0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400, 604800
};

#define FIELD(name, kind, help) \
	{ #name, kind, help, offsetof(struct stats, name) }

/* A counter of struct stats, as STATS and /metrics show it. */
struct stat_field {
	const char	*name;
	enum stat_kind	 kind;
	const char	*help;
	size_t		 offset;
};

/* SPEC §4's keys, then those of later sections after seq. */
static const struct stat_field stat_fields[] = {
	FIELD(clients, STAT_GAUGE, "Clients connected now."),
	FIELD(clients_peak, STAT_GAUGE, "Most clients connected at once."),
	FIELD(accepted, STAT_COUNTER, "Client connections registered."),
	FIELD(rejected, STAT_COUNTER,
	    "Connections refused for max_clients or max_clients_per_ip."),
	FIELD(disconnects, STAT_COUNTER, "Registered clients that left."),
	FIELD(timeouts, STAT_COUNTER, "Clients dropped for silence."),
	FIELD(kicked, STAT_COUNTER, "Clients closed by admin KICK."),
	FIELD(replaced, STAT_COUNTER,
	    "Clients closed because another took their name."),
	FIELD(overflows, STAT_COUNTER,
	    "Clients dropped for exceeding send_buffer_limit."),
	FIELD(pings, STAT_COUNTER, "PING lines answered."),
	FIELD(data_lines, STAT_COUNTER, "Data lines received."),
	FIELD(messages_sent, STAT_COUNTER,
	    "Lines queued to clients by SEND and BROADCAST."),
	FIELD(bytes_in, STAT_COUNTER, "Bytes received from clients."),
	FIELD(bytes_out, STAT_COUNTER, "Bytes sent to clients."),
}, later_fields[] = {
	FIELD(auth_failures, STAT_COUNTER,
	    "Clients closed for a missing or bad proof of their name."),
	FIELD(handshake_failures, STAT_COUNTER,
	    "Connections whose TLS handshake failed or timed out."),
	FIELD(proxy_failures, STAT_COUNTER,
	    "Connections with a missing, malformed or late PROXY header."),
	FIELD(flapping, STAT_COUNTER,
	    "HELLOs refused because their name is held for flapping."),
	FIELD(pushes_queued, STAT_COUNTER,
	    "Pushes kept, to be delivered until acknowledged or expired."),
	FIELD(pushes_acked, STAT_COUNTER, "Pushes acknowledged by a client."),
	FIELD(pushes_expired, STAT_COUNTER,
	    "Pushes whose ttl ran out before an acknowledgement."),
	FIELD(pushes_pending, STAT_GAUGE,
	    "Pushes waiting for an acknowledgement."),
};

static void	stat_put(struct stat_value *, const char *, enum stat_kind,
		    const char *, uint64_t);
static size_t	stat_put_fields(struct stat_value *,
		    const struct stat_field *, size_t);

static void
stat_put(struct stat_value *v, const char *name, enum stat_kind kind,
    const char *help, uint64_t value)
{
	v->name = name;
	v->kind = kind;
	v->help = help;
	v->value = value;
}

static size_t
stat_put_fields(struct stat_value *out, const struct stat_field *f,
    size_t nf)
{
	size_t	 i;

	for (i = 0; i < nf; i++)
		stat_put(&out[i], f[i].name, f[i].kind, f[i].help,
		    *(const uint64_t *)((const char *)&stats + f[i].offset));
	return (nf);
}

/*
 * Fills out with uptime, the counters, log_dropped and seq, in the order
 * of SPEC §4 (version, a string, is the caller's), then the keys SPEC
 * does not name. Returns how many.
 */
size_t
stats_snapshot(struct stat_value *out, size_t max)
{
	size_t	 n = 0;

	if (max < STATS_MAX)
		return (0);
	stat_put(&out[n++], "uptime", STAT_GAUGE, "Seconds since start.",
	    (uint64_t)mono_seconds(stats.started, mono_ns()));
	n += stat_put_fields(&out[n], stat_fields,
	    sizeof(stat_fields) / sizeof(stat_fields[0]));
	stat_put(&out[n++], "log_dropped", STAT_COUNTER,
	    "Log lines dropped because syslog could not take them.",
	    log_dropped());
	stat_put(&out[n++], "seq", STAT_GAUGE, "Number of the last event.",
	    stats.seq);
	stat_put(&out[n++], "accept_pauses", STAT_COUNTER,
	    "Times accepting paused because file descriptors ran out.",
	    stats.accept_pauses);
	n += stat_put_fields(&out[n], later_fields,
	    sizeof(later_fields) / sizeof(later_fields[0]));
	return (n);
}

/* Counts a finished session of the given length in its bucket. */
void
stats_session_ended(double seconds)
{
	size_t	 i;

	for (i = 0; i < STATS_SESSION_NBOUNDS; i++) {
		if (seconds <= stats_session_bounds[i])
			break;
	}
	stats.session_buckets[i]++;
	stats.session_count++;
	stats.session_sum += seconds;
}
