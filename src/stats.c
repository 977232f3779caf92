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

static const struct {
	const char	*name;
	enum stat_kind	 kind;
	size_t		 offset;
} stat_fields[] = {
	{ "clients", STAT_GAUGE, offsetof(struct stats, clients) },
	{ "clients_peak", STAT_GAUGE, offsetof(struct stats, clients_peak) },
	{ "accepted", STAT_COUNTER, offsetof(struct stats, accepted) },
	{ "rejected", STAT_COUNTER, offsetof(struct stats, rejected) },
	{ "disconnects", STAT_COUNTER, offsetof(struct stats, disconnects) },
	{ "timeouts", STAT_COUNTER, offsetof(struct stats, timeouts) },
	{ "kicked", STAT_COUNTER, offsetof(struct stats, kicked) },
	{ "replaced", STAT_COUNTER, offsetof(struct stats, replaced) },
	{ "overflows", STAT_COUNTER, offsetof(struct stats, overflows) },
	{ "pings", STAT_COUNTER, offsetof(struct stats, pings) },
	{ "data_lines", STAT_COUNTER, offsetof(struct stats, data_lines) },
	{ "messages_sent", STAT_COUNTER,
	    offsetof(struct stats, messages_sent) },
	{ "bytes_in", STAT_COUNTER, offsetof(struct stats, bytes_in) },
	{ "bytes_out", STAT_COUNTER, offsetof(struct stats, bytes_out) },
};

/*
 * Fills out with uptime, the counters, log_dropped and seq, in the order
 * of SPEC §4 (version, a string, is the caller's). Returns how many.
 */
size_t
stats_snapshot(struct stat_value *out, size_t max)
{
	size_t	 i, n = 0;

	if (max < STATS_MAX)
		return (0);
	out[n].name = "uptime";
	out[n].kind = STAT_GAUGE;
	out[n++].value = (uint64_t)mono_seconds(stats.started, mono_ns());
	for (i = 0; i < sizeof(stat_fields) / sizeof(stat_fields[0]); i++) {
		out[n].name = stat_fields[i].name;
		out[n].kind = stat_fields[i].kind;
		out[n++].value = *(const uint64_t *)
		    ((const char *)&stats + stat_fields[i].offset);
	}
	out[n].name = "log_dropped";
	out[n].kind = STAT_COUNTER;
	out[n++].value = log_dropped();
	out[n].name = "seq";
	out[n].kind = STAT_GAUGE;
	out[n++].value = stats.seq;
	return (n);
}
