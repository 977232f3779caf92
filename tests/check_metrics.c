/*
 * Integration tests for the Prometheus endpoint (SPEC §8): raw HTTP/1.0
 * requests to the real daemon's [metrics] listener.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define TMO		2000	/* ms to wait for any one answer */
#define PREFIX		"heartbeatd_"
#define HIST		"heartbeatd_session_duration_seconds"
#define GAP		"heartbeatd_heartbeat_gap_ratio"
#define CTYPE		"text/plain; version=0.0.4"

#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 30\n"					\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"[metrics]\n"							\
	"listen = 127.0.0.1:%d\n"					\
	"[log]\n"							\
	"syslog = no\n"

/* The cumulative STATS keys, exported as heartbeatd_<key>_total. */
static const char *counters[] = {
	"accepted", "rejected", "disconnects", "timeouts", "kicked",
	"replaced", "overflows", "pings", "data_lines", "messages_sent",
	"bytes_in", "bytes_out", "log_dropped",
};

/* The bucket bounds, fine enough to tell a 2 s session from a 5 s one. */
static const char *const bounds[] = {
	"0.5", "1", "2", "5", "10", "30", "60", "300", "900", "3600",
	"14400", "86400", "604800", "+Inf",
};

static const char *gauges[] = {
	PREFIX "clients", PREFIX "clients_peak", PREFIX "uptime_seconds",
};

/* A request the endpoint refuses, and its status. */
struct refusal {
	const char	*method;
	const char	*path;
	int		 status;
};

static const struct refusal notfound[] = {
	{ "GET", "/index.html", 404 },
	{ "HEAD", "/metric", 404 },
	{ "GET", "/metrics/", 404 },
	{ "HEAD", "/metricsx", 404 },
	{ "GET", "/other", 404 },
	{ "GET", "/Metrics", 404 },
};

static const struct refusal badmethod[] = {
	{ "POST", "/metrics", 405 },
	{ "PUT", "/metrics", 405 },
	{ "DELETE", "/metrics", 405 },
	{ "OPTIONS", "/metrics", 405 },
	{ "PATCH", "/metrics", 405 },
};

static struct hbd	*start(int *);
static void		 scrape(int, struct http *);
static const char	*find_line(const char *, const char *);
static double		 value(const struct http *, const char *);
static double		 counter(const struct http *, const char *);
static void		 expect_type(const struct http *, const char *,
			    const char *);
static void		 check_histogram(const struct http *, const char *);
static void		 session(struct hbd *, int);
static void		 expect_refused(const struct refusal *, size_t);

/* Starts the daemon with metrics on a free loopback port, stored in *port. */
static struct hbd *
start(int *port)
{
	struct hbd	*d;
	char		 conf[1024];
	int		 fd;

	*port = hb_reserve_port(&fd);
	snprintf(conf, sizeof(conf), CONF_FMT, *port);
	d = hbd_start(conf);
	close(fd);
	return (d);
}

/* GET /metrics, asserting a 200 in the exposition format. */
static void
scrape(int port, struct http *r)
{
	hb_http(port, "GET", "/metrics", NULL, NULL, r);
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(strncmp(r->ctype, CTYPE, strlen(CTYPE)) == 0,
	    "Content-Type: %s", r->ctype);
	if (r->clen != -1)
		ck_assert_int_eq(r->clen, r->bodylen);
	ck_assert_msg(r->bodylen > 0 && r->body[r->bodylen - 1] == '\n',
	    "the body does not end with a newline");
}

/* The line of text that starts with prefix, or NULL. */
static const char *
find_line(const char *text, const char *prefix)
{
	const char	*p;
	size_t		 n = strlen(prefix);

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, prefix, n) == 0)
			return (p);
	}
	return (NULL);
}

/* The value of the sample "name VALUE"; aborts when there is none. */
static double
value(const struct http *r, const char *name)
{
	const char	*line;
	char		 prefix[256], *end;
	double		 v;

	snprintf(prefix, sizeof(prefix), "%s ", name);
	line = find_line(r->body, prefix);
	ck_assert_msg(line != NULL, "no sample %s in:\n%s", name, r->body);
	v = strtod(line + strlen(prefix), &end);
	ck_assert_msg(end != line + strlen(prefix) && *end == '\n',
	    "bad sample: %.*s", (int)strcspn(line, "\n"), line);
	return (v);
}

/* The value of heartbeatd_<key>_total. */
static double
counter(const struct http *r, const char *key)
{
	char	 name[128];

	snprintf(name, sizeof(name), PREFIX "%s_total", key);
	return (value(r, name));
}

static void
expect_type(const struct http *r, const char *name, const char *type)
{
	char	 want[256];

	snprintf(want, sizeof(want), "# TYPE %s %s\n", name, type);
	ck_assert_msg(find_line(r->body, want) != NULL, "no \"%.*s\" in:\n%s",
	    (int)strlen(want) - 1, want, r->body);
}

/*
 * The histogram: buckets with rising bounds and cumulative counts, the
 * last le="+Inf" and equal to _count; then _sum.
 */
static void
check_histogram(const struct http *r, const char *name)
{
	const char	*p;
	char		 le[32], bucket[128], fmt[160], key[128];
	double		 bound, prevbound = -INFINITY, count, prev = 0;
	int		 n = 0, inf = 0;

	expect_type(r, name, "histogram");
	snprintf(bucket, sizeof(bucket), "%s_bucket{", name);
	snprintf(fmt, sizeof(fmt), "%s_bucket{le=\"%%31[^\"]\"} %%lf", name);
	for (p = r->body; (p = find_line(p, bucket)) != NULL;
	    p = strchr(p, '\n')) {
		ck_assert_msg(!inf, "a bucket after le=\"+Inf\"");
		ck_assert_msg(sscanf(p, fmt, le, &count) == 2,
		    "bad bucket: %.*s", (int)strcspn(p, "\n"), p);
		if (strcmp(le, "+Inf") == 0)
			inf = 1;
		else {
			bound = strtod(le, NULL);
			ck_assert_msg(bound > prevbound, "le=%s: not rising",
			    le);
			prevbound = bound;
		}
		ck_assert_msg(count >= prev, "bucket le=%s: %g below %g", le,
		    count, prev);
		prev = count;
		n++;
	}
	ck_assert_msg(n >= 2 && inf, "buckets: %d, +Inf: %d", n, inf);
	snprintf(key, sizeof(key), "%s_count", name);
	ck_assert_msg(value(r, key) == prev, "%s %g, +Inf %g", key,
	    value(r, key), prev);
	snprintf(key, sizeof(key), "%s_sum", name);
	ck_assert_msg(value(r, key) >= 0, "negative %s", key);
}

/* A client of d that connects, PINGs twice, sends data and quits. */
static void
session(struct hbd *d, int id)
{
	struct hbc	*c;
	char		 want[32];

	c = hbc_connect(d->port);
	hbc_send(c, "PING 1\nPING 2\ndata\nQUIT\n");
	hbc_expect(c, "PONG 1", TMO);
	hbc_expect(c, "PONG 2", TMO);
	hbc_expect(c, "BYE quit", TMO);
	hbc_expect_closed(c, TMO);
	hbc_close(c);
	snprintf(want, sizeof(want), "disconnect #%d ", id);
	hbd_expect_log(d, want, TMO);
}

/* Each request gets its status; /metrics still answers after them. */
static void
expect_refused(const struct refusal *x, size_t n)
{
	struct hbd	*d;
	struct http	 r;
	size_t		 i;
	int		 port;

	d = start(&port);
	for (i = 0; i < n; i++) {
		hb_http(port, x[i].method, x[i].path, NULL, NULL, &r);
		ck_assert_msg(r.status == x[i].status, "%s %s: want %d, got %d",
		    x[i].method, x[i].path, x[i].status, r.status);
		free(r.body);
	}
	scrape(port, &r);
	free(r.body);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}

/* Every counter, gauge and the histogram, each with its # TYPE line. */
START_TEST(test_metrics_format)
{
	struct hbd	*d;
	struct http	 r;
	char		 name[128];
	size_t		 i;
	int		 port;

	d = start(&port);
	session(d, 1);
	scrape(port, &r);
	for (i = 0; i < nitems(counters); i++) {
		snprintf(name, sizeof(name), PREFIX "%s_total", counters[i]);
		expect_type(&r, name, "counter");
		ck_assert_msg(counter(&r, counters[i]) >= 0, "%s", name);
	}
	for (i = 0; i < nitems(gauges); i++) {
		expect_type(&r, gauges[i], "gauge");
		ck_assert_msg(value(&r, gauges[i]) >= 0, "%s", gauges[i]);
	}
	check_histogram(&r, HIST);
	ck_assert_int_eq(value(&r, HIST "_count"), 1);
	/*
	 * The session's reads ended silences far shorter than a tenth of
	 * its timeout.
	 */
	check_histogram(&r, GAP);
	ck_assert_int_ge(value(&r, GAP "_count"), 1);
	ck_assert_int_eq(value(&r, GAP "_bucket{le=\"0.1\"}"),
	    value(&r, GAP "_count"));
	free(r.body);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* The counters move with a client that connects, pings and leaves. */
START_TEST(test_metrics_counts)
{
	struct hbd	*d;
	struct hbc	*c;
	struct http	 r0, r1, r2;
	int		 port;

	d = start(&port);
	scrape(port, &r0);
	ck_assert_int_eq(value(&r0, PREFIX "clients"), 0);
	c = hbc_connect(d->port);
	hbc_send(c, "PING\nPING\nsome data\nPING\n");
	hbc_expect(c, "PONG", TMO);
	hbc_expect(c, "PONG", TMO);
	hbc_expect(c, "PONG", TMO);
	scrape(port, &r1);
	ck_assert_int_eq(value(&r1, PREFIX "clients"), 1);
	ck_assert_int_eq(value(&r1, PREFIX "clients_peak"), 1);
	ck_assert_int_eq(counter(&r1, "accepted"),
	    counter(&r0, "accepted") + 1);
	ck_assert_int_eq(counter(&r1, "pings"), counter(&r0, "pings") + 3);
	ck_assert_int_eq(counter(&r1, "data_lines"),
	    counter(&r0, "data_lines") + 1);
	ck_assert_int_eq(counter(&r1, "bytes_in"),
	    counter(&r0, "bytes_in") + 25);
	ck_assert_int_eq(counter(&r1, "bytes_out"),
	    counter(&r0, "bytes_out") + 15);
	ck_assert_int_eq(counter(&r1, "disconnects"),
	    counter(&r0, "disconnects"));
	hbc_close(c);
	hbd_expect_log(d, "disconnect #1 ", TMO);
	scrape(port, &r2);
	ck_assert_int_eq(value(&r2, PREFIX "clients"), 0);
	ck_assert_int_eq(value(&r2, PREFIX "clients_peak"), 1);
	ck_assert_int_eq(counter(&r2, "disconnects"),
	    counter(&r0, "disconnects") + 1);
	ck_assert_int_eq(value(&r2, HIST "_count"),
	    value(&r0, HIST "_count") + 1);
	ck_assert_int_eq(value(&r2, HIST "_bucket{le=\"+Inf\"}"),
	    value(&r2, HIST "_count"));
	ck_assert_msg(value(&r2, HIST "_sum") < 5.0, "_sum %g",
	    value(&r2, HIST "_sum"));
	free(r0.body);
	free(r1.body);
	free(r2.body);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* The counters and gauges equal the STATS values, from the same table. */
START_TEST(test_metrics_stats)
{
	struct hbd	*d;
	struct hbc	*a;
	struct http	 r;
	size_t		 i;
	long long	 uptime;
	int		 port;

	d = start(&port);
	session(d, 1);
	session(d, 2);
	a = hbc_admin(d);
	scrape(port, &r);
	for (i = 0; i < nitems(counters); i++)
		ck_assert_msg(counter(&r, counters[i]) ==
		    hbc_stat(a, counters[i]), "%s: metrics %g", counters[i],
		    counter(&r, counters[i]));
	ck_assert_int_eq(value(&r, PREFIX "clients"),
	    hbc_stat(a, "clients"));
	ck_assert_int_eq(value(&r, PREFIX "clients_peak"),
	    hbc_stat(a, "clients_peak"));
	uptime = hbc_stat(a, "uptime");
	ck_assert_msg(fabs(value(&r, PREFIX "uptime_seconds") - uptime) <= 1,
	    "uptime %g, STAT uptime %lld",
	    value(&r, PREFIX "uptime_seconds"), uptime);
	free(r.body);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/*
 * The buckets are exactly those of bounds[]: a session of a moment counts
 * in each, one of 0.7 s in le="1" and above but not in le="0.5".
 */
START_TEST(test_metrics_buckets)
{
	struct hbd	*d;
	struct hbc	*c;
	struct http	 r;
	const char	*p;
	char		 name[128];
	size_t		 i, n = 0;
	int		 port;

	d = start(&port);
	session(d, 1);
	c = hbc_connect(d->port);
	hbc_expect_silence(c, 700);
	hbc_close(c);
	hbd_expect_log(d, "disconnect #2 ", TMO);
	scrape(port, &r);
	for (i = 0; i < nitems(bounds); i++) {
		snprintf(name, sizeof(name), HIST "_bucket{le=\"%s\"}",
		    bounds[i]);
		ck_assert_msg(value(&r, name) == (i == 0 ? 1 : 2), "%s %g",
		    name, value(&r, name));
	}
	for (p = r.body; (p = find_line(p, HIST "_bucket{")) != NULL;
	    p = strchr(p, '\n'))
		n++;
	ck_assert_int_eq(n, nitems(bounds));
	free(r.body);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* HEAD /metrics: 200 and the headers, no body. */
START_TEST(test_metrics_head)
{
	struct hbd	*d;
	struct http	 r;
	int		 port;

	d = start(&port);
	hb_http(port, "HEAD", "/metrics", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strncmp(r.ctype, CTYPE, strlen(CTYPE)) == 0,
	    "Content-Type: %s", r.ctype);
	ck_assert_msg(r.bodylen == 0, "HEAD got a body of %zu bytes: "
	    "\"%.60s...\"", r.bodylen, r.body);
	free(r.body);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Any other path is 404, for GET and HEAD. */
START_TEST(test_metrics_not_found)
{
	expect_refused(notfound, nitems(notfound));
}
END_TEST

/* Any other method than GET and HEAD is 405. */
START_TEST(test_metrics_method)
{
	expect_refused(badmethod, nitems(badmethod));
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	s = suite_create("metrics");
	HB_TCASE(s, "format", test_metrics_format, 1);
	HB_TCASE(s, "counts", test_metrics_counts, 1);
	HB_TCASE(s, "stats", test_metrics_stats, 1);
	HB_TCASE(s, "buckets", test_metrics_buckets, 1);
	HB_TCASE(s, "head", test_metrics_head, 1);
	HB_TCASE(s, "not_found", test_metrics_not_found, 1);
	HB_TCASE(s, "method", test_metrics_method, 1);
	return (s);
}
