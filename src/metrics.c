/*
 * GET /metrics in the Prometheus text format, served by libevent's evhttp
 * on the [metrics] listen addresses, from the same table as STATS.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "deadline.h"
#include "metrics.h"
#include "stats.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

static void	*metrics_attach(int);
static void	 metrics_detach(void *);
static void	 metrics_request_cb(struct evhttp_request *, void *);
static void	 metrics_render(struct evbuffer *);
static void	 metrics_histogram(struct evbuffer *, const char *,
		    const char *, const double *, size_t, const uint64_t *,
		    double);

static struct evhttp	*http;
static struct lset	 socks = {
	"metrics listen", metrics_attach, metrics_detach,
	TAILQ_HEAD_INITIALIZER(socks.socks),
	TAILQ_HEAD_INITIALIZER(socks.added), NULL
};

static void *
metrics_attach(int fd)
{
	struct evhttp_bound_socket	*bound;

	if (http == NULL) {
		if ((http = evhttp_new(hb_base)) == NULL)
			fatalx("%s: evhttp_new", __func__);
		evhttp_set_allowed_methods(http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
		    EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
		evhttp_set_gencb(http, metrics_request_cb, NULL);
	}
	if ((bound = evhttp_accept_socket_with_handle(http, fd)) == NULL)
		fatalx("%s: evhttp_accept_socket_with_handle", __func__);
	listener_guard(evhttp_bound_socket_get_listener(bound));
	return (bound);
}

static void
metrics_detach(void *handle)
{
	listener_unguard(evhttp_bound_socket_get_listener(handle));
	evhttp_del_accept_socket(http, handle);
}

int
metrics_prepare(const struct hb_config *conf, char **cause)
{
	return (lset_prepare(&socks, &conf->metrics_listen, cause));
}

void
metrics_commit(const struct hb_config *conf)
{
	lset_commit(&socks, &conf->metrics_listen);
}

void
metrics_abort(void)
{
	lset_abort(&socks);
}

void
metrics_close(void)
{
	lset_close(&socks);
	if (http != NULL) {
		evhttp_free(http);
		http = NULL;
	}
}

/* /metrics for GET and HEAD; 404 for other paths, 405 other methods. */
static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq	*headers = evhttp_request_get_output_headers(req);
	struct evbuffer		*body;
	const char		*path;
	char			 length[32];

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD:
		break;
	default:
		evhttp_add_header(headers, "Allow", "GET, HEAD");
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	if ((body = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	metrics_render(body);
	evhttp_add_header(headers, "Content-Type", METRICS_CONTENT_TYPE);
	/* evhttp would send a HEAD body; the length alone is the answer. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(length, sizeof(length), "%zu",
		    evbuffer_get_length(body));
		evhttp_add_header(headers, "Content-Length", length);
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
	} else
		evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/*
 * The cumulative STATS keys as counters heartbeatd_<key>_total, clients,
 * clients_peak and uptime as gauges, and the session histogram.
 */
static void
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
