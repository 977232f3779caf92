/*
 * The body of GET /metrics in the Prometheus text format, from the same
 * table as STATS; http.c serves it.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "deadline.h"
#include "metrics.h"
#include "stats.h"

static void	 metrics_histogram(struct evbuffer *, const char *,
		    const char *, const double *, size_t, const uint64_t *,
		    double);

/*
 * The cumulative STATS keys as counters heartbeatd_<key>_total, clients,
 * clients_peak and uptime as gauges, and the session histogram.
 */
void
metrics_render(struct evbuffer *out)
{
	struct stat_value	 v[STATS_MAX];
	const char		*suffix;
	size_t			 i, n;

	n = stats_snapshot(v, STATS_MAX);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, "seq") == 0)
			continue;
		if (v[i].kind == STAT_COUNTER)
			suffix = "_total";
		else if (strcmp(v[i].name, "uptime") == 0)
			suffix = "_seconds";
		else
			suffix = "";
		evbuffer_add_printf(out, "# HELP heartbeatd_%s%s %s\n"
		    "# TYPE heartbeatd_%s%s %s\nheartbeatd_%s%s %llu\n",
		    v[i].name, suffix, v[i].help, v[i].name, suffix,
		    v[i].kind == STAT_COUNTER ? "counter" : "gauge",
		    v[i].name, suffix, (unsigned long long)v[i].value);
	}
	metrics_histogram(out, "heartbeatd_session_duration_seconds",
	    "Length of finished client sessions.", stats_session_bounds,
	    STATS_SESSION_NBOUNDS, stats.session_buckets, stats.session_sum);
	metrics_histogram(out, "heartbeatd_heartbeat_gap_ratio",
	    "Silences ended by a read, over the client's timeout.",
	    deadline_gap_bounds, DEADLINE_GAP_NBOUNDS, stats.gap_buckets,
	    stats.gap_sum);
}

/* One histogram: bounds[i] counts in buckets[i], the rest in buckets[n]. */
static void
metrics_histogram(struct evbuffer *out, const char *name, const char *help,
    const double *bounds, size_t n, const uint64_t *buckets, double sum)
{
	uint64_t	 cum = 0;
	size_t		 i;

	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name,
	    help, name);
	for (i = 0; i < n; i++) {
		cum += buckets[i];
		evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
		    bounds[i], (unsigned long long)cum);
	}
	cum += buckets[n];
	evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n"
	    "%s_count %llu\n", name, (unsigned long long)cum, name, sum, name,
	    (unsigned long long)cum);
}
