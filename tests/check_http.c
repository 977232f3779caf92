/*
 * Integration tests for the HTTP API (SPEC §15): every /api/v1/ endpoint
 * against the real daemon over raw HTTP/1.0, its status codes and JSON
 * bodies (parsed with jansson), who may ask (a token as a Bearer or a
 * session cookie, loopback alone without one), the errors, and the event
 * stream with its resume, its gap and a reader that cannot keep up.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "check_main.h"
#include "itest.h"

#define TMO		3000	/* ms to wait for any one answer */
#define QUIET_MS	100	/* ms of silence that show nothing comes */
#define FLOOD_LINE	1000	/* bytes of one data line in the flood */
#define FLOOD_CHUNK	200	/* data lines per write in the flood */
#define JSON_CTYPE	"application/json"
#define SSE_CTYPE	"text/event-stream"
#define TOKEN		"s3cret-t0ken"

#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 30\n"					\
	"%s"								\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"%s"								\
	"[http]\n"							\
	"listen = 127.0.0.1:%d\n"					\
	"[log]\n"							\
	"syslog = no\n"							\
	"%s"

/* A request the API refuses, and the error it answers with. */
struct refusal {
	const char	*method;
	const char	*path;
	const char	*headers;
	const char	*body;
	int		 status;
	const char	*error;
	const char	*message;	/* NULL: any */
};

static const struct refusal refusals[] = {
	{ "GET", "/api/v1/nothing", NULL, NULL, 404, "notfound",
	    "no such endpoint" },
	{ "GET", "/api/v1/", NULL, NULL, 404, "notfound", NULL },
	{ "GET", "/api/v1/clients/x", NULL, NULL, 404, "notfound", NULL },
	{ "POST", "/api/v1/clients", NULL, "{}", 405, "method", "GET only" },
	{ "DELETE", "/api/v1/stats", NULL, NULL, 405, "method", NULL },
	{ "GET", "/api/v1/send", NULL, NULL, 405, "method", "POST only" },
	{ "PUT", "/api/v1/kick", NULL, "{}", 405, "method", NULL },
	{ "GET", "/api/v1/session", NULL, NULL, 405, "method",
	    "POST or DELETE" },
	{ "GET", "/api/v1/clients?token=x", NULL, NULL, 400, "syntax",
	    "a token never goes in a URL: use a header or a session" },
	{ "GET", "/?a=1&token=", NULL, NULL, 400, "syntax", NULL },
	{ "GET", "/api/v1/clients?limit=1001", NULL, NULL, 400, "syntax",
	    "limit: out of range (0-1000)" },
	{ "GET", "/api/v1/clients?offset=-1", NULL, NULL, 400, "syntax",
	    NULL },
	{ "GET", "/api/v1/clients?select=idle%3Ex", NULL, NULL, 400, "syntax",
	    "bad number: idle>x" },
	{ "GET", "/api/v1/seen/bad%20name", NULL, NULL, 400, "syntax", NULL },
	{ "GET", "/api/v1/events?verbs=connect,nope", NULL, NULL, 400,
	    "syntax", "unknown verb in: connect,nope" },
	{ "GET", "/api/v1/events", "Last-Event-ID: x\r\n", NULL, 400,
	    "syntax", NULL },
	{ "POST", "/api/v1/send", NULL, "", 400, "json", NULL },
	{ "POST", "/api/v1/send", NULL, "{\"target\": \"#1\",", 400, "json",
	    NULL },
	{ "POST", "/api/v1/send", NULL, "[1, 2]", 400, "syntax",
	    "not a JSON object" },
	{ "POST", "/api/v1/send", NULL, "{\"target\": \"#1\"}", 400, "syntax",
	    "missing key: message" },
	{ "POST", "/api/v1/send", NULL, "{\"target\": 1, \"message\": \"m\"}",
	    400, "syntax", "target: not a string" },
	{ "POST", "/api/v1/send", NULL,
	    "{\"target\": \"#1\", \"message\": \"m\", \"x\": 1}", 400, "syntax",
	    "unknown key: x" },
	{ "POST", "/api/v1/send", NULL,
	    "{\"target\": \"#1\", \"target\": \"#2\", \"message\": \"m\"}", 400,
	    "json", NULL },
	{ "POST", "/api/v1/send", NULL,
	    "{\"target\": \"\", \"message\": \"m\"}", 400, "syntax",
	    "empty selector" },
	{ "POST", "/api/v1/send", NULL,
	    "{\"target\": \"#1\", \"message\": \"\"}", 400, "syntax",
	    "empty message" },
	{ "POST", "/api/v1/send", NULL,
	    "{\"target\": \"#1\", \"message\": \"two\\nlines\"}", 400,
	    "syntax", "message holds CR, LF or NUL" },
	{ "POST", "/api/v1/send", NULL,
	    "{\"target\": \"#1\", \"message\": \"nul\\u0000\"}", 400, "json",
	    NULL },
	{ "POST", "/api/v1/send", NULL, "{\"target\": \"#1\", \"message\": \""
	    "0123456789012345678901234567890123456789\"}", 400, "toolong",
	    "message exceeds 32 bytes" },
	{ "POST", "/api/v1/kick", NULL, "{\"select\": \"\"}", 400, "syntax",
	    "empty selector" },
	{ "POST", "/api/v1/kick", NULL, "{\"select\": \"age>\"}", 400,
	    "syntax", NULL },
	{ "POST", "/api/v1/push", NULL, "{\"name\": \"a b\", \"message\": "
	    "\"m\"}", 400, "syntax", NULL },
	{ "POST", "/api/v1/push", NULL, "{\"name\": \"a\", \"ttl\": -1, "
	    "\"message\": \"m\"}", 400, "syntax", "ttl: not a whole number" },
	{ "POST", "/api/v1/push", NULL, "{\"name\": \"a\", \"ttl\": 2592001, "
	    "\"message\": \"m\"}", 400, "syntax", "ttl: 0-2592000" },
	{ "POST", "/api/v1/push", NULL, "{\"name\": \"a\", \"ttl\": 1.5, "
	    "\"message\": \"m\"}", 400, "syntax", NULL },
	{ "POST", "/api/v1/session", NULL, "{}", 400, "syntax",
	    "missing key: token" },
};

static struct hbd	*start(const char *, const char *, const char *,
			    int *);
static json_t		*answer(const struct http *, int);
static json_t		*get(int, const char *, int);
static void		 expect_json(const char *, json_t *, json_t *);
static void		 expect_error(const struct http *, int, const char *,
			    const char *);
static void		 expect_body(int, const char *, const char *,
			    const char *, int, const char *);
static struct hbc	*events(int, const char *, const char *);
static void		 expect_event(struct hbc *, unsigned long long,
			    const char *, const char *);
static void		 rewrite_conf(struct hbd *, const char *);
static char		*curl_in(struct hbd *, const char *, const char *);

/*
 * Starts the daemon with extra [server] and [admin] lines and more
 * sections, its HTTP listener on a free port stored in *port.
 */
static struct hbd *
start(const char *server, const char *admin, const char *more, int *port)
{
	struct hbd	*d;
	char		 conf[2048];
	int		 fd;

	*port = hb_reserve_port(&fd);
	snprintf(conf, sizeof(conf), CONF_FMT, server, admin, *port, more);
	d = hbd_start(conf);
	close(fd);
	return (d);
}

/* r's JSON body, asserting status and the JSON content type. */
static json_t *
answer(const struct http *r, int status)
{
	json_error_t	 err;
	json_t		*v;

	ck_assert_msg(r->status == status, "status %d, want %d: %s",
	    r->status, status, r->body);
	ck_assert_msg(strcmp(r->ctype, JSON_CTYPE) == 0, "Content-Type %s",
	    r->ctype);
	ck_assert_msg(r->clen == -1 || r->clen == (long)r->bodylen,
	    "Content-Length %ld, body %zu", r->clen, r->bodylen);
	ck_assert_msg(r->bodylen > 0 && r->body[r->bodylen - 1] == '\n',
	    "no newline after the JSON");
	v = json_loads(r->body, 0, &err);
	ck_assert_msg(v != NULL, "not JSON (%s): %s", err.text, r->body);
	return (v);
}

/* GET path on port: its JSON body, asserting status. */
static json_t *
get(int port, const char *path, int status)
{
	struct http	 r;
	json_t		*v;

	hb_http(port, "GET", path, NULL, NULL, &r);
	v = answer(&r, status);
	free(r.body);
	return (v);
}

/* Asserts that v (what, for the message) equals want, which it takes. */
static void
expect_json(const char *what, json_t *v, json_t *want)
{
	int	 same;

	same = json_equal(v, want);
	json_decref(want);
	ck_assert_msg(same, "%s: %s", what, json_dumps(v, JSON_ENCODE_ANY));
}

/* Asserts {"error": error, "message": message (NULL: any string)}. */
static void
expect_error(const struct http *r, int status, const char *error,
    const char *message)
{
	json_t		*v;
	const char	*e, *m;

	v = answer(r, status);
	ck_assert_msg(json_unpack(v, "{s:s, s:s !}", "error", &e, "message",
	    &m) == 0, "not an error: %s", r->body);
	ck_assert_str_eq(e, error);
	if (message != NULL)
		ck_assert_str_eq(m, message);
	json_decref(v);
}

/* Asserts that method path answers status and exactly want. */
static void
expect_body(int port, const char *method, const char *path,
    const char *body, int status, const char *want)
{
	struct http	 r;

	hb_http(port, method, path, NULL, body, &r);
	json_decref(answer(&r, status));
	ck_assert_str_eq(r.body, want);
	free(r.body);
}

/*
 * Opens GET /api/v1/events + query, with a Last-Event-ID unless last is
 * NULL, and asserts its 200 head.
 */
static struct hbc *
events(int port, const char *query, const char *last)
{
	struct hbc	*h;
	struct http	 r;
	char		 path[256], hdr[128] = "";

	snprintf(path, sizeof(path), "/api/v1/events%s", query);
	if (last != NULL)
		snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s\r\n", last);
	h = hb_http_send(port, NULL, "GET", path, hdr, NULL);
	hb_http_head(h, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, SSE_CTYPE);
	ck_assert_str_eq(hb_http_header(&r, "Cache-Control"), "no-store");
	return (h);
}

/* Asserts the next event: its id, verb and data (a regex after "^"). */
static void
expect_event(struct hbc *h, unsigned long long id, const char *verb,
    const char *data)
{
	const char	*line;
	char		 want[512];

	snprintf(want, sizeof(want), "id: %llu", id);
	hbc_expect(h, want, TMO);
	snprintf(want, sizeof(want), "event: %s", verb);
	hbc_expect(h, want, TMO);
	line = hbc_readline(h, TMO);
	ck_assert_msg(line != NULL, "no data line");
	snprintf(want, sizeof(want), "^data: %s$", data);
	hb_assert_match(line, want);
	hbc_expect(h, "", TMO);
}

/* Writes text as d's config file, for a reload. */
static void
rewrite_conf(struct hbd *d, const char *text)
{
	FILE	*f;

	f = fopen(d->conf, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * GET clients: the page of clients a selector matches, oldest first,
 * with LIST's fields as JSON values, the total and the seq to resume
 * events from.
 */
START_TEST(test_http_clients)
{
	struct hbd	*d;
	struct hbc	*c[3];
	json_t		*v, *row;
	const char	*addr, *name;
	char		 want[64];
	json_int_t	 seq, total, offset, id, in, out, near;
	double		 age, idle, timeout, gap;
	int		 port;

	d = start("", "", "", &port);
	expect_body(port, "GET", "/api/v1/clients", NULL, 200,
	    "{\"seq\":0,\"total\":0,\"offset\":0,\"clients\":[]}\n");
	c[0] = hbc_connect(d->port);
	hbc_send(c[0], "PING x\n");
	hbc_expect(c[0], "PONG x", TMO);
	c[1] = hbc_named(d, 2, "sensor-7");
	c[2] = hbc_named(d, 3, "pump-1");
	v = get(port, "/api/v1/clients", 200);
	ck_assert_int_eq(json_unpack(v, "{s:I, s:I, s:I, s:o !}", "seq", &seq,
	    "total", &total, "offset", &offset, "clients", &row), 0);
	ck_assert_int_eq(seq, 5);
	ck_assert_int_eq(total, 3);
	ck_assert_int_eq(offset, 0);
	ck_assert_int_eq(json_array_size(row), 3);
	ck_assert_int_eq(json_unpack(json_array_get(row, 0),
	    "{s:I, s:n, s:s, s:F, s:F, s:I, s:I, s:F, s:F, s:I !}", "id", &id,
	    "name", "addr", &addr, "age", &age, "idle", &idle, "in", &in,
	    "out", &out, "timeout", &timeout, "gap_max", &gap, "near",
	    &near), 0);
	ck_assert_int_eq(id, 1);
	snprintf(want, sizeof(want), "127.0.0.1:%d", hbc_local_port(c[0]));
	ck_assert_str_eq(addr, want);
	ck_assert_msg(age >= 0 && age < 10 && idle >= 0 && idle <= age,
	    "age %g idle %g", age, idle);
	ck_assert_int_eq(in, 7);
	ck_assert_int_eq(out, 7);
	ck_assert(timeout == 30);
	ck_assert(gap >= 0);
	ck_assert_int_eq(near, 0);
	ck_assert_int_eq(json_unpack(json_array_get(row, 1), "{s:I, s:s}",
	    "id", &id, "name", &name), 0);
	ck_assert_int_eq(id, 2);
	ck_assert_str_eq(name, "sensor-7");
	json_decref(v);

	/* A selector, and the pages of it. */
	v = get(port, "/api/v1/clients?select=sensor-*%20age%3C100", 200);
	ck_assert_int_eq(json_unpack(v, "{s:I, s:[{s:I}]}", "total", &total,
	    "clients", "id", &id), 0);
	ck_assert_int_eq(total, 1);
	ck_assert_int_eq(id, 2);
	json_decref(v);
	v = get(port, "/api/v1/clients?offset=1&limit=1", 200);
	ck_assert_int_eq(json_unpack(v, "{s:I, s:I, s:[{s:I}]}", "total",
	    &total, "offset", &offset, "clients", "id", &id), 0);
	ck_assert_int_eq(total, 3);
	ck_assert_int_eq(offset, 1);
	ck_assert_int_eq(id, 2);
	json_decref(v);
	expect_body(port, "GET", "/api/v1/clients?offset=3", NULL, 200,
	    "{\"seq\":5,\"total\":3,\"offset\":3,\"clients\":[]}\n");
	expect_body(port, "GET", "/api/v1/clients?limit=0&select=unnamed",
	    NULL, 200, "{\"seq\":5,\"total\":1,\"offset\":0,\"clients\":[]}\n");
	hbd_finish(d, c[0], c[1], c[2], NULL);
}
END_TEST

/*
 * GET stats: STATS as numbers, version a string, and the disconnects by
 * reason; GET history: the clients sampled every 10 s.
 */
START_TEST(test_http_stats)
{
	static const char *const keys[] = {
		"version", "uptime", "clients", "clients_peak", "accepted",
		"rejected", "disconnects", "timeouts", "kicked", "replaced",
		"overflows", "pings", "data_lines", "messages_sent",
		"bytes_in", "bytes_out", "log_dropped", "seq",
	};
	struct hbd	*d;
	struct hbc	*c, *k, *a;
	json_t		*v;
	const char	*key;
	json_t		*val;
	size_t		 i;
	int		 port;

	d = start("", "", "", &port);
	c = hbc_connect(d->port);
	hbc_send(c, "PING\nQUIT\n");
	hbc_expect(c, "PONG", TMO);
	hbc_expect_bye(c, "quit", TMO);
	hbc_close(c);
	k = hbc_named(d, 2, "k");
	a = hbc_admin(d);
	hbc_expect_cmd(a, "KICK k", "OK", TMO);
	hbc_expect_bye(k, "kicked", TMO);
	hbc_close(k);
	hbd_expect_log(d, "disconnect #2 ", TMO);
	v = get(port, "/api/v1/stats", 200);
	for (i = 0; i < nitems(keys); i++)
		ck_assert_msg(json_object_get(v, keys[i]) != NULL, "no %s",
		    keys[i]);
	ck_assert_str_eq(json_string_value(json_object_get(v, "version")),
	    "0.1.0");
	json_object_foreach(v, key, val) {
		if (strcmp(key, "version") == 0 ||
		    strcmp(key, "disconnects_by_reason") == 0)
			continue;
		ck_assert_msg(json_is_integer(val), "%s is no number", key);
		if (strcmp(key, "uptime") != 0)
			ck_assert_int_eq(json_integer_value(val),
			    hbc_stat(a, key));
	}
	expect_json("disconnects_by_reason", json_object_get(v,
	    "disconnects_by_reason"), json_pack("{s:i, s:i}", "quit", 1,
	    "kicked", 1));
	json_decref(v);
	expect_body(port, "GET", "/api/v1/history", NULL, 200,
	    "{\"interval\":10,\"clients\":[0]}\n");
	hbd_finish(d, a, NULL);
}
END_TEST

/* GET seen/<name> and GET seen?select=: the last-seen registry. */
START_TEST(test_http_seen)
{
	struct hbd	*d;
	struct hbc	*c, *o;
	struct http	 r;
	json_t		*v;
	const char	*since, *last;
	char		 want[1024];
	json_int_t	 total;
	int		 port;

	d = start("", "", "", &port);
	hb_http(port, "GET", "/api/v1/seen/sensor-7", NULL, NULL, &r);
	expect_error(&r, 404, "notfound", "never seen");
	free(r.body);
	expect_body(port, "GET", "/api/v1/seen", NULL, 200,
	    "{\"total\":0,\"offset\":0,\"seen\":[]}\n");
	c = hbc_named(d, 1, "sensor-7");
	o = hbc_named(d, 2, "online-1");
	hbc_close(c);
	hbd_expect_log(d, "disconnect #1 ", TMO);
	v = get(port, "/api/v1/seen/sensor-7", 200);
	ck_assert_int_eq(json_unpack(v, "{s:s, s:s}", "since", &since,
	    "last_seen", &last), 0);
	hb_assert_match(since, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$");
	json_object_del(v, "since");
	json_object_del(v, "last_seen");
	json_object_del(v, "for");
	json_object_del(v, "addr");
	expect_json("seen/sensor-7", v, json_pack("{s:s, s:s, s:s, s:i}",
	    "name", "sensor-7", "state", "offline", "reason", "closed",
	    "sessions", 1));
	json_decref(v);
	v = get(port, "/api/v1/seen?select=offline", 200);
	ck_assert_int_eq(json_unpack(v, "{s:I}", "total", &total), 0);
	ck_assert_int_eq(total, 1);
	json_decref(v);
	v = get(port, "/api/v1/seen?select=online", 200);
	snprintf(want, sizeof(want), "127.0.0.1:%d", hbc_local_port(o));
	expect_json("addr", json_object_get(json_array_get(
	    json_object_get(v, "seen"), 0), "addr"), json_string(want));
	ck_assert_msg(json_is_null(json_object_get(json_array_get(
	    json_object_get(v, "seen"), 0), "reason")), "reason not null");
	json_decref(v);
	expect_body(port, "GET", "/api/v1/seen?limit=1&offset=2", NULL, 200,
	    "{\"total\":2,\"offset\":2,\"seen\":[]}\n");
	hbd_finish(d, o, NULL);
}
END_TEST

/* POST send: to a target (404 when gone) and to a selection. */
START_TEST(test_http_send)
{
	struct hbd	*d;
	struct hbc	*c[3];
	struct http	 r;
	int		 port;

	d = start("max_line = 32\n", "", "", &port);
	c[0] = hbc_named(d, 1, "sensor-1");
	c[1] = hbc_named(d, 2, "sensor-2");
	c[2] = hbc_named(d, 3, "pump");
	expect_body(port, "POST", "/api/v1/send",
	    "{\"target\": \"#1\", \"message\": \"hi one\"}", 200,
	    "{\"sent\":1}\n");
	hbc_expect(c[0], "hi one", TMO);
	expect_body(port, "POST", "/api/v1/send",
	    "{\"message\": \"sensors\", \"target\": \"sensor-*\"}", 200,
	    "{\"sent\":2}\n");
	hbc_expect(c[0], "sensors", TMO);
	hbc_expect(c[1], "sensors", TMO);
	expect_body(port, "POST", "/api/v1/send",
	    "{\"target\": \"pump tls\", \"message\": \"x\"}", 200,
	    "{\"sent\":0}\n");
	hb_http(port, "POST", "/api/v1/send",
	    NULL, "{\"target\": \"ghost\", \"message\": \"x\"}", &r);
	expect_error(&r, 404, "notfound", "no such client");
	free(r.body);
	hbc_expect_silence(c[2], QUIET_MS);
	hbd_finish(d, c[0], c[1], c[2], NULL);
}
END_TEST

/* POST kick: a target (404 when gone) or a selection, maybe none. */
START_TEST(test_http_kick)
{
	struct hbd	*d;
	struct hbc	*c[3];
	struct http	 r;
	int		 port;

	d = start("", "", "", &port);
	c[0] = hbc_named(d, 1, "sensor-1");
	c[1] = hbc_named(d, 2, "sensor-2");
	c[2] = hbc_named(d, 3, "pump");
	expect_body(port, "POST", "/api/v1/kick", "{\"select\": \"pump\"}",
	    200, "{\"kicked\":1}\n");
	hbc_expect_bye(c[2], "kicked", TMO);
	hb_http(port, "POST", "/api/v1/kick", NULL, "{\"select\": \"#3\"}",
	    &r);
	expect_error(&r, 404, "notfound", "no such client");
	free(r.body);
	expect_body(port, "POST", "/api/v1/kick", "{\"select\": \"nobody-*\"}",
	    200, "{\"kicked\":0}\n");
	expect_body(port, "POST", "/api/v1/kick", "{\"select\": \"sensor-?\"}",
	    200, "{\"kicked\":2}\n");
	hbc_expect_bye(c[0], "kicked", TMO);
	hbc_expect_bye(c[1], "kicked", TMO);
	hbd_finish(d, c[0], c[1], c[2], NULL);
}
END_TEST

/* POST push: an id once kept; delivered at HELLO; 507 past a limit. */
START_TEST(test_http_push)
{
	struct hbd	*d;
	struct hbc	*c;
	struct http	 r;
	json_int_t	 id;
	json_t		*v;
	int		 port;

	d = start("", "", "[push]\nmax_per_name = 1\n", &port);
	hb_http(port, "POST", "/api/v1/push", NULL,
	    "{\"name\": \"dev-1\", \"ttl\": 60, \"message\": \"reboot now\"}",
	    &r);
	v = answer(&r, 200);
	ck_assert_msg(json_unpack(v, "{s:I !}", "id", &id) == 0 && id > 0,
	    "not an id: %s", r.body);
	json_decref(v);
	free(r.body);
	hb_http(port, "POST", "/api/v1/push", NULL,
	    "{\"name\": \"dev-1\", \"message\": \"again\"}", &r);
	expect_error(&r, 507, "full", "name has 1 pending pushes");
	free(r.body);
	c = hbc_named(d, 1, "dev-1");
	hbc_expect(c, check_linef("MSG %lld reboot now", (long long)id), TMO);
	hbd_finish(d, c, NULL);
}
END_TEST

/* POST reload: the keys that changed, none, or the config's error. */
START_TEST(test_http_reload)
{
	struct hbd	*d;
	struct http	 r;
	char		 conf[PATH_MAX + 1024];
	int		 port;

	d = start("", "", "", &port);
	expect_body(port, "POST", "/api/v1/reload", NULL, 200,
	    "{\"changed\":[]}\n");
	snprintf(conf, sizeof(conf), CONF_FMT, "max_line = 99\n",
	    "watch_backlog = 5\n", port, "");
	rewrite_conf(d, conf);
	expect_body(port, "POST", "/api/v1/reload", NULL, 200,
	    "{\"changed\":[\"server.max_line\",\"admin.watch_backlog\"]}\n");
	hbd_expect_log(d, "reload ok changed=server.max_line,"
	    "admin.watch_backlog", TMO);
	rewrite_conf(d, "[server]\nmax_line = x\n");
	hb_http(port, "POST", "/api/v1/reload", NULL, NULL, &r);
	snprintf(conf, sizeof(conf), "%s:2: max_line: not a number: \"x\"",
	    d->conf);
	expect_error(&r, 400, "config", conf);
	free(r.body);
	/* Nothing changed: the port still answers. */
	json_decref(get(port, "/api/v1/stats", 200));
	hbd_finish(d, NULL);
}
END_TEST

/* What the API refuses: its status and the JSON error. */
START_TEST(test_http_errors)
{
	const struct refusal	*x;
	struct hbd		*d;
	struct http		 r;
	int			 port;

	d = start("max_line = 32\n", "", "", &port);
	for (x = refusals; x < refusals + nitems(refusals); x++) {
		hb_http(port, x->method, x->path, x->headers, x->body, &r);
		ck_assert_msg(r.status == x->status, "%s %s: %d", x->method,
		    x->path, r.status);
		expect_error(&r, x->status, x->error, x->message);
		if (x->status == 405)
			ck_assert_ptr_nonnull(hb_http_header(&r, "Allow"));
		free(r.body);
	}
	hbd_finish(d, NULL);
}
END_TEST

/*
 * A body over 64 KiB is refused by evhttp itself, before it is read
 * (with its own HTML page); one of 64 KiB is read. Paths outside /api,
 * / and /metrics are evhttp's 404.
 */
START_TEST(test_http_too_large)
{
	struct hbd	*d;
	struct http	 r;
	char		*big;
	int		 port;

	d = start("", "", "", &port);
	big = malloc(65537 + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', 65537);
	big[65537] = '\0';
	big[0] = '{';
	big[65536] = '}';
	hb_http(port, "POST", "/api/v1/send", NULL, big, &r);
	ck_assert_int_eq(r.status, 413);
	free(r.body);
	big[65535] = '}';
	big[65536] = '\0';
	hb_http(port, "POST", "/api/v1/send", NULL, big, &r);
	expect_error(&r, 400, "syntax", "missing key: target");
	free(r.body);
	free(big);
	hb_http(port, "GET", "/nothing", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	free(r.body);
	json_decref(get(port, "/api/v1/stats", 200));
	hbd_finish(d, NULL);
}
END_TEST

/*
 * With [admin] token: the API needs the token as a Bearer or a session
 * cookie from POST session, which DELETE ends; the page itself is open.
 */
START_TEST(test_http_token)
{
	struct hbd	*d;
	struct http	 r;
	const char	*cookie;
	char		 hdr[256], id[80];
	int		 port;

	d = start("", "token = " TOKEN "\n", "", &port);
	hb_http(port, "GET", "/api/v1/stats", NULL, NULL, &r);
	expect_error(&r, 401, "auth", "a Bearer token or a session is needed");
	ck_assert_str_eq(hb_http_header(&r, "WWW-Authenticate"), "Bearer");
	free(r.body);
	hb_http(port, "POST", "/api/v1/kick", "Authorization: Bearer nope\r\n",
	    "{\"select\": \"*\"}", &r);
	expect_error(&r, 401, "auth", NULL);
	free(r.body);
	hb_http(port, "GET", "/api/v1/stats",
	    "Authorization: Bearer " TOKEN "\r\n", NULL, &r);
	json_decref(answer(&r, 200));
	free(r.body);
	hb_http(port, "GET", "/api/v1/stats?token=" TOKEN, NULL, NULL, &r);
	expect_error(&r, 400, "syntax", NULL);
	free(r.body);

	/* The dashboard's login. */
	hb_http(port, "POST", "/api/v1/session", NULL,
	    "{\"token\": \"wrong\"}", &r);
	expect_error(&r, 401, "auth", "bad token");
	ck_assert_ptr_null(hb_http_header(&r, "Set-Cookie"));
	free(r.body);
	hb_http(port, "POST", "/api/v1/session", NULL,
	    "{\"token\": \"" TOKEN "\"}", &r);
	ck_assert_int_eq(r.status, 204);
	cookie = hb_http_header(&r, "Set-Cookie");
	ck_assert_ptr_nonnull(cookie);
	hb_assert_match(cookie, "^hb_session=[0-9a-f]{64}; HttpOnly; "
	    "SameSite=Strict; Path=/$");
	snprintf(id, sizeof(id), "%.75s", cookie);
	id[strcspn(id, ";")] = '\0';
	free(r.body);
	snprintf(hdr, sizeof(hdr), "Cookie: theme=dark; %s\r\n", id);
	hb_http(port, "GET", "/api/v1/clients", hdr, NULL, &r);
	json_decref(answer(&r, 200));
	free(r.body);
	hb_http(port, "DELETE", "/api/v1/session", hdr, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	hb_assert_match(hb_http_header(&r, "Set-Cookie"),
	    "^hb_session=; .*Max-Age=0");
	free(r.body);
	hb_http(port, "GET", "/api/v1/clients", hdr, NULL, &r);
	expect_error(&r, 401, "auth", NULL);
	free(r.body);
	snprintf(hdr, sizeof(hdr), "Cookie: hb_session=%064d\r\n", 0);
	hb_http(port, "GET", "/api/v1/clients", hdr, NULL, &r);
	expect_error(&r, 401, "auth", NULL);
	free(r.body);

	/* The page asks nothing; /metrics is as it was. */
	hb_http(port, "GET", "/", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, "text/html; charset=utf-8");
	ck_assert_msg(strncmp(r.body, "<!doctype html>", 15) == 0, "%s",
	    r.body);
	free(r.body);
	hb_http(port, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	free(r.body);
	hbd_finish(d, NULL);
}
END_TEST

/*
 * Without a token, the page and the API answer loopback peers that name
 * the server by a loopback name, and no other site's page.
 */
START_TEST(test_http_loopback)
{
	static const char *const refused[] = {
		"Host: evil.example\r\n",
		"Host: evil.example:9477\r\n",
		"Origin: http://evil.example\r\n",
		"Origin: null\r\n",
	};
	static const char *const served[] = {
		"Host: localhost:9477\r\n",
		"Host: [::1]:9477\r\n",
		"Host: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n",
	};
	struct hbd	*d;
	struct http	 r;
	struct hbc	*h;
	size_t		 i;
	int		 port;

	d = start("", "", "", &port);
	for (i = 0; i < nitems(refused); i++) {
		hb_http(port, "GET", "/api/v1/stats", refused[i], NULL, &r);
		expect_error(&r, 403, "auth", NULL);
		free(r.body);
		hb_http(port, "GET", "/", refused[i], NULL, &r);
		expect_error(&r, 403, "auth", NULL);
		free(r.body);
	}
	for (i = 0; i < nitems(served); i++) {
		hb_http(port, "GET", "/api/v1/stats", served[i], NULL, &r);
		json_decref(answer(&r, 200));
		free(r.body);
	}
	/* 127.0.0.0/8 is loopback: another address of it is served too. */
	h = hb_http_send(port, "127.0.0.2", "GET", "/api/v1/history", NULL,
	    NULL);
	hb_http_head(h, &r);
	hb_http_body(h, &r);
	hbc_close(h);
	json_decref(answer(&r, 200));
	free(r.body);
	hbd_finish(d, NULL);
}
END_TEST

/*
 * What curl, in the network namespace of d, gets for url with the extra
 * arguments: "<status> <body>". Its source address is the URL's own.
 */
static char *
curl_in(struct hbd *d, const char *extra, const char *url)
{
	char	 netns[64], *out, *argv[16];
	int	 fd[2], n = 0, rc;
	size_t	 len = 0;
	ssize_t	 got;
	pid_t	 pid;

	snprintf(netns, sizeof(netns), "--net=/proc/%d/ns/net", (int)d->pid);
	argv[n++] = "nsenter";
	argv[n++] = netns;
	argv[n++] = "curl";
	argv[n++] = "-s";
	argv[n++] = "-w";
	argv[n++] = "%{http_code} ";
	argv[n++] = "-H";
	argv[n++] = (char *)extra;
	argv[n++] = (char *)url;
	argv[n] = NULL;
	ck_assert_int_eq(pipe(fd), 0);
	pid = hb_spawn(argv, fd[1], fd[1]);
	close(fd[1]);
	out = calloc(1, 4096);
	ck_assert_ptr_nonnull(out);
	while (len < 4095 && (got = read(fd[0], out + len, 4095 - len)) > 0)
		len += got;
	close(fd[0]);
	rc = hb_reap(pid, TMO);
	ck_assert_msg(rc == 0, "curl: exit %d: %s", rc, out);
	return (out);
}

/*
 * A peer off loopback, in a network namespace of the test's own where
 * 192.0.2.1 (TEST-NET-1) is an address of lo: without a token it is
 * refused 403, and a loopback peer there is served; with a token it is
 * served with the token. Needs root (unshare, nsenter) and curl.
 */
START_TEST(test_http_not_loopback)
{
	static const char	 wrap[] = "#!/bin/sh\n"
	    "ip link set lo up && ip addr add 192.0.2.1/32 dev lo && "
	    "exec \"$@\"\n";
	static const char	 off[] = "http://192.0.2.1:9477/api/v1/stats";
	static const char	 on[] = "http://127.0.0.1:9477/api/v1/stats";
	struct hbd		*d;
	char			 env[PATH_MAX + 32], conf[512], *script, *out;
	int			 token;

	if (geteuid() != 0 || getenv("HEARTBEATD_WRAPPER") != NULL ||
	    system("unshare -n true 2>/dev/null && command -v curl "
	    ">/dev/null") != 0)
		return;
	script = hb_write_file("netns.sh", wrap);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(env, sizeof(env), "unshare -n %s", script);
	for (token = 0; token < 2; token++) {
		snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:0\n"
		    "[admin]\nlisten = 127.0.0.1:0\n%s[http]\n"
		    "listen = 192.0.2.1:9477 127.0.0.1:9477\n[log]\n"
		    "syslog = no\n", token ? "token = " TOKEN "\n" : "");
		setenv("HEARTBEATD_WRAPPER", env, 1);
		d = hbd_start(conf);
		unsetenv("HEARTBEATD_WRAPPER");
		if (!token) {
			out = curl_in(d, "X-Peer: off", off);
			hb_assert_match(out, "^\\{\"error\":\"auth\",\"message\":"
			    "\"without \\[admin\\] token only loopback is "
			    "served, by a loopback name\"\\}\n403 $");
			free(out);
			out = curl_in(d, "X-Peer: on", on);
			hb_assert_match(out, "^\\{\"version\".*\n200 $");
		} else {
			out = curl_in(d, "X-Peer: off", off);
			hb_assert_match(out, "^\\{\"error\":\"auth\".*\n401 $");
			free(out);
			out = curl_in(d, "Authorization: Bearer " TOKEN, off);
			hb_assert_match(out, "^\\{\"version\".*\n200 $");
		}
		free(out);
		hbd_finish(d, NULL);
	}
	free(script);
}
END_TEST

/*
 * GET events: every event as it happens, "id: <seq>", "event: <verb>"
 * and WATCH's text; ?verbs= keeps to those kinds.
 */
START_TEST(test_http_events)
{
	struct hbd	*d;
	struct hbc	*all, *some, *c;
	int		 port;

	d = start("", "", "", &port);
	all = events(port, "", NULL);
	some = events(port, "?verbs=hello,disconnect", NULL);
	c = hbc_connect(d->port);
	hbc_send(c, "HELLO dev-1\nsome data\\\n");
	hbc_expect(c, "OK #1", TMO);
	expect_event(all, 1, "connect", "connect #1 addr=127\\.0\\.0\\.1:[0-9]+ "
	    "clients=1");
	expect_event(all, 2, "hello", "hello #1 name=dev-1");
	expect_event(all, 3, "data", "data #1 some data\\\\\\\\");
	hbc_send(c, "QUIT\n");
	hbc_expect_bye(c, "quit", TMO);
	expect_event(all, 4, "disconnect", "disconnect #1 .* reason=quit .*");
	expect_event(some, 2, "hello", "hello #1 name=dev-1");
	expect_event(some, 4, "disconnect", "disconnect #1 .*");
	hbc_expect_silence(some, QUIET_MS);
	hbd_finish(d, all, some, c, NULL);
}
END_TEST

/*
 * Last-Event-ID resumes as WATCH FROM: the kept events after it, then
 * live ones; when some are no longer kept, a "gap" event names the
 * oldest kept, and the stream goes on from there.
 */
START_TEST(test_http_events_resume)
{
	struct hbd	*d;
	struct hbc	*h, *c;
	int		 port;

	d = start("", "watch_backlog = 3\n", "", &port);
	c = hbc_connect(d->port);
	hbc_send(c, "one\ntwo\nthree\nfour\nPING\n");
	hbc_expect(c, "PONG", TMO);

	h = events(port, "", "3");
	expect_event(h, 4, "data", "data #1 three");
	expect_event(h, 5, "data", "data #1 four");
	hbc_send(c, "five\n");
	expect_event(h, 6, "data", "data #1 five");
	hbc_close(h);

	h = events(port, "?verbs=data", "1");
	hbc_expect(h, "event: gap", TMO);
	hbc_expect(h, "data: oldest=4", TMO);
	hbc_expect(h, "", TMO);
	expect_event(h, 4, "data", "data #1 three");
	expect_event(h, 5, "data", "data #1 four");
	expect_event(h, 6, "data", "data #1 five");
	hbc_close(h);

	/* At or past the last event: live only. */
	h = events(port, "", "99");
	hbc_expect_silence(h, QUIET_MS);
	hbc_send(c, "six\n");
	expect_event(h, 7, "data", "data #1 six");
	hbd_finish(d, h, c, NULL);
}
END_TEST

/*
 * A reader that does not read falls send_buffer_limit behind while a
 * client floods data lines: the daemon goes on, and the reader, reading
 * at last, finds its events in order up to an "overflow" event, then
 * the end of the stream.
 */
START_TEST(test_http_events_slow)
{
	struct hbd		*d;
	struct hbc		*h, *c;
	unsigned long long	 id, last = 1;
	const char		*line;
	char			*chunk;
	long			 lines, i;
	int			 rcvbuf = 4096, j, port;

	d = start("send_buffer_limit = 2048\n", "watch_backlog = 10\n", "",
	    &port);
	c = hbc_connect(d->port);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", TMO);
	h = events(port, "", NULL);
	ck_assert_int_eq(setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)), 0);
	chunk = malloc(FLOOD_CHUNK * FLOOD_LINE);
	ck_assert_ptr_nonnull(chunk);
	memset(chunk, 'x', FLOOD_CHUNK * FLOOD_LINE);
	for (j = 1; j <= FLOOD_CHUNK; j++)
		chunk[j * FLOOD_LINE - 1] = '\n';
	lines = 2 * hb_tcp_wmem_max() / FLOOD_LINE + 2000;
	for (i = 0; i < lines; i += FLOOD_CHUNK)
		hbc_sendn(c, chunk, FLOOD_CHUNK * FLOOD_LINE);
	free(chunk);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", TMO);
	while ((line = hbc_readline(h, TMO)) != NULL &&
	    strncmp(line, "id: ", 4) == 0) {
		ck_assert_msg(sscanf(line, "id: %llu", &id) == 1, "%s", line);
		ck_assert_msg(id == last + 1, "id %llu after %llu", id, last);
		last = id;
		hbc_expect(h, "event: data", TMO);
		ck_assert_ptr_nonnull(hbc_readline(h, TMO));
		hbc_expect(h, "", TMO);
	}
	ck_assert_msg(line != NULL, "no overflow after id %llu", last);
	ck_assert_str_eq(line, "event: overflow");
	hbc_expect(h, "data: ", TMO);
	hbc_expect(h, "", TMO);
	hbc_expect_closed(h, TMO);
	ck_assert_msg(last < 1 + (unsigned long long)lines,
	    "the reader got all %ld events", lines);
	hbc_close(h);
	json_decref(get(port, "/api/v1/stats", 200));
	hbd_finish(d, c, NULL);
}
END_TEST

/* A reader hears ": keepalive" every 15 s while nothing happens. */
START_TEST(test_http_events_keepalive)
{
	struct hbd	*d;
	struct hbc	*h;
	int		 port;

	d = start("", "", "", &port);
	h = events(port, "", NULL);
	hbc_expect(h, ": keepalive", 20000);
	hbc_expect(h, "", TMO);
	hbd_finish(d, h, NULL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("http");
	HB_TCASE(s, "clients", test_http_clients, 1);
	HB_TCASE(s, "stats", test_http_stats, 1);
	HB_TCASE(s, "seen", test_http_seen, 1);
	HB_TCASE(s, "send", test_http_send, 1);
	HB_TCASE(s, "kick", test_http_kick, 1);
	HB_TCASE(s, "push", test_http_push, 1);
	HB_TCASE(s, "reload", test_http_reload, 1);
	HB_TCASE(s, "errors", test_http_errors, 1);
	HB_TCASE(s, "too_large", test_http_too_large, 1);
	HB_TCASE(s, "token", test_http_token, 1);
	HB_TCASE(s, "loopback", test_http_loopback, 1);
	HB_TCASE(s, "not_loopback", test_http_not_loopback, 1);
	HB_TCASE(s, "events", test_http_events, 1);
	HB_TCASE(s, "events_resume", test_http_events_resume, 1);
	HB_TCASE(s, "events_slow", test_http_events_slow, 1);
	tc = tcase_create("events_keepalive");
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_http_events_keepalive);
	suite_add_tcase(s, tc);
	return (s);
}
