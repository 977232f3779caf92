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

const double	 stats_session_bounds[] = {
	1, 10, 60, 300, 900, 3600, 14400, 86400, 604800
};
const size_t	 stats_session_nbounds =
    sizeof(stats_session_bounds) / sizeof(stats_session_bounds[0]);

#define FIELD(name, kind, help) \
	{ #name, kind, help, offsetof(struct stats, name) }

static const struct {
	const char	*name;
	enum stat_kind	 kind;
	const char	*help;
	size_t		 offset;
} stat_fields[] = {
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
};

static void	stat_put(struct stat_value *, const char *, enum stat_kind,
		    const char *, uint64_t);

static void
stat_put(struct stat_value *v, const char *name, enum stat_kind kind,
    const char *help, uint64_t value)
{
	v->name = name;
	v->kind = kind;
	v->help = help;
	v->value = value;
}

/*
 * Fills out with uptime, the counters, log_dropped and seq, in the order
 * of SPEC §4 (version, a string, is the caller's), then the keys SPEC
 * does not name. Returns how many.
 */
size_t
stats_snapshot(struct stat_value *out, size_t max)
{
	size_t	 i, n = 0;

	if (max < STATS_MAX)
		return (0);
	stat_put(&out[n++], "uptime", STAT_GAUGE, "Seconds since start.",
	    (uint64_t)mono_seconds(stats.started, mono_ns()));
	for (i = 0; i < sizeof(stat_fields) / sizeof(stat_fields[0]); i++)
		stat_put(&out[n++], stat_fields[i].name, stat_fields[i].kind,
		    stat_fields[i].help, *(const uint64_t *)
		    ((const char *)&stats + stat_fields[i].offset));
	stat_put(&out[n++], "log_dropped", STAT_COUNTER,
	    "Log lines dropped because syslog could not take them.",
	    log_dropped());
	stat_put(&out[n++], "seq", STAT_GAUGE, "Number of the last event.",
	    stats.seq);
	stat_put(&out[n++], "accept_pauses", STAT_COUNTER,
	    "Times accepting paused because file descriptors ran out.",
	    stats.accept_pauses);
	return (n);
}

/* Counts a finished session of the given length in its bucket. */
void
stats_session_ended(double seconds)
{
	size_t	 i;

	for (i = 0; i < stats_session_nbounds; i++) {
		if (seconds <= stats_session_bounds[i]) {
			stats.session_buckets[i]++;
			break;
		}
	}
	stats.session_count++;
	stats.session_sum += seconds;
}
