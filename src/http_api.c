/*
 * The endpoints under /api/v1/ (SPEC §15): the admin protocol's
 * commands in JSON, through the same operations (ops.c, seen.c, stats.c,
 * daemon_reload()) that the admin commands use. Access is decided before
 * anything here runs (http.c); the event stream is http_sse.c.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "client.h"
#include "conf.h"
#include "daemon.h"
#include "history.h"
#include "http_api.h"
#include "http_body.h"
#include "ops.h"
#include "proto.h"
#include "push.h"
#include "registry.h"
#include "seen.h"
#include "select.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define PAGE_DEFAULT	100	/* rows when no limit is asked for */
#define PAGE_MAX	1000	/* rows in one answer at most */

/* An endpoint: its name after /api/v1/ and the methods it takes. */
struct api_route {
	const char	*name;
	int		 methods;	/* EVHTTP_REQ_* */
	const char	*allow;		/* the same, for an Allow header */
	int		 sub;		/* may go on as name/<word> */
	void		(*fn)(struct evhttp_request *, const char *);
};

/*
 * A push waiting for the store: the request to answer, NULL once its
 * connection is gone, when the answer only frees this.
 */
struct api_push {
	struct evhttp_request	*req;
};

/* What a list's query string asks for: a selection and a page of it. */
struct api_query {
	struct selector		 sel;
	uint64_t		 offset;
	uint64_t		 limit;
};

static int	 api_query(struct evhttp_request *, struct api_query *);
static int	 api_selector(struct evhttp_request *, const char *, size_t,
		    struct selector *, int);
static int	 api_message(struct evhttp_request *, const char *, size_t);
static double	 api_round(double);
static json_t	*api_client(const struct client *, uint64_t);
static json_t	*api_seen_entry(const struct seen_entry *, int64_t);
static void	 api_clients(struct evhttp_request *, const char *);
static void	 api_stats(struct evhttp_request *, const char *);
static void	 api_history(struct evhttp_request *, const char *);
static void	 api_seen(struct evhttp_request *, const char *);
static void	 api_seen_one(struct evhttp_request *, const char *);
static void	 api_act(struct evhttp_request *, enum http_body_kind);
static void	 api_result(struct evhttp_request *, enum ops_result,
		    const char *, uint64_t);
static void	 api_send(struct evhttp_request *, const char *);
static void	 api_kick(struct evhttp_request *, const char *);
static void	 api_push(struct evhttp_request *, const char *);
static void	 api_push_answer(void *, uint64_t, const char *);
static void	 api_push_gone_cb(struct evhttp_connection *, void *);
static void	 api_reload(struct evhttp_request *, const char *);

static const struct api_route api_routes[] = {
	{ "clients", EVHTTP_REQ_GET, "GET", 0, api_clients },
	{ "stats", EVHTTP_REQ_GET, "GET", 0, api_stats },
	{ "history", EVHTTP_REQ_GET, "GET", 0, api_history },
	{ "seen", EVHTTP_REQ_GET, "GET", 1, api_seen },
	{ "send", EVHTTP_REQ_POST, "POST", 0, api_send },
	{ "kick", EVHTTP_REQ_POST, "POST", 0, api_kick },
	{ "push", EVHTTP_REQ_POST, "POST", 0, api_push },
	{ "reload", EVHTTP_REQ_POST, "POST", 0, api_reload },
	{ "events", EVHTTP_REQ_GET, "GET", 0, sse_open },
};

/*
 * Runs the endpoint that path (after /api/v1/) names, or answers 404 for
 * none and 405 for a method it does not take.
 */
void
api_dispatch(struct evhttp_request *req, const char *path)
{
	const struct api_route	*r;
	size_t			 i, n;

	for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		r = &api_routes[i];
		n = strlen(r->name);
		if (strncmp(path, r->name, n) != 0 ||
		    (path[n] != '\0' && !(r->sub && path[n] == '/')))
			continue;
		if (!(evhttp_request_get_command(req) & r->methods)) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Allow", r->allow);
			http_error(req, HTTP_BADMETHOD, "method",
			    "%s only", r->allow);
			return;
		}
		r->fn(req, path + n);
		return;
	}
	http_error(req, HTTP_NOTFOUND, "notfound", "no such endpoint");
}

/*
 * Reads req's body as the JSON object kind takes. Returns 0, or -1 once
 * it has answered 400 with what is wrong.
 */
int
http_body_read(struct evhttp_request *req, enum http_body_kind kind,
    struct http_body *b)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in);
	char		 why[HTTP_WHY_MAX];
	const char	*code;

	if (http_body_parse(kind, (const char *)evbuffer_pullup(in, len), len,
	    b, &code, why) == 0)
		return (0);
	http_error(req, HTTP_BADREQUEST, code, "%s", why);
	return (-1);
}

/*
 * Parses the query string of a list: select (none: all), offset (default
 * 0) and limit (default PAGE_DEFAULT, at most PAGE_MAX). Returns 0, or
 * -1 once it has answered 400.
 */
static int
api_query(struct evhttp_request *req, struct api_query *q)
{
	struct evkeyvalq	 kv;
	const char		*query, *v, *why;
	int			 rc = -1;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&kv);
	if (query != NULL && evhttp_parse_query_str(query, &kv) == -1) {
		http_error(req, HTTP_BADREQUEST, "syntax", "bad query string");
		return (-1);
	}
	q->offset = 0;
	q->limit = PAGE_DEFAULT;
	if ((v = evhttp_find_header(&kv, "offset")) != NULL &&
	    parse_u64(v, 0, UINT64_MAX, &q->offset, &why) == -1)
		http_error(req, HTTP_BADREQUEST, "syntax", "offset: %s", why);
	else if ((v = evhttp_find_header(&kv, "limit")) != NULL &&
	    parse_u64(v, 0, PAGE_MAX, &q->limit, &why) == -1)
		http_error(req, HTTP_BADREQUEST, "syntax", "limit: %s (0-%d)",
		    why, PAGE_MAX);
	else {
		v = evhttp_find_header(&kv, "select");
		rc = api_selector(req, v, v != NULL ? strlen(v) : 0, &q->sel,
		    0);
	}
	evhttp_clear_headers(&kv);
	return (rc);
}

/*
 * Parses a selector, answering 400 with the parser's reason for a bad
 * one, or for none when need is set. Returns 0 or -1.
 */
static int
api_selector(struct evhttp_request *req, const char *s, size_t len,
    struct selector *sel, int need)
{
	const char	*why;

	if (select_parse(s != NULL ? s : "", s != NULL ? len : 0, sel,
	    &why) == -1) {
		http_error(req, HTTP_BADREQUEST, "syntax", "%s", why);
		return (-1);
	}
	if (sel->n == 0 && need) {
		http_error(req, HTTP_BADREQUEST, "syntax", "empty selector");
		return (-1);
	}
	return (0);
}

/* Checks a message as SEND does; answers 400 and returns -1 if bad. */
static int
api_message(struct evhttp_request *req, const char *msg, size_t len)
{
	const char	*code;

	if (message_check(msg, len, hb_conf->max_line, &code) == 0)
		return (0);
	if (strcmp(code, "toolong") == 0)
		http_error(req, HTTP_BADREQUEST, code,
		    "message exceeds %zu bytes", hb_conf->max_line);
	else if (len == 0)
		http_error(req, HTTP_BADREQUEST, code, "empty message");
	else
		http_error(req, HTTP_BADREQUEST, code,
		    "message holds CR, LF or NUL");
	return (-1);
}

/* Seconds to one decimal, as LIST shows them. */
static double
api_round(double s)
{
	return (round(s * 10) / 10);
}

/* A client as a JSON object with LIST's fields. */
static json_t *
api_client(const struct client *c, uint64_t now)
{
	struct ops_client	 v;

	ops_describe(c, now, &v);
	return (json_pack("{s:I, s:s?, s:s, s:f, s:f, s:I, s:I, s:f, s:f, "
	    "s:I}", "id", (json_int_t)v.id, "name", v.name, "addr", v.addr,
	    "age", api_round(v.age), "idle", api_round(v.idle),
	    "in", (json_int_t)v.in, "out", (json_int_t)v.out,
	    "timeout", v.timeout, "gap_max", api_round(v.gap_max),
	    "near", (json_int_t)v.near));
}

/*
 * GET clients?select=&offset=&limit=: one page of the clients a selector
 * matches, oldest first, with how many match and the seq of the last
 * event before it, from which GET events resumes.
 */
static void
api_clients(struct evhttp_request *req, const char *rest)
{
	struct api_query	 q;
	struct client		*c;
	json_t			*rows;
	uint64_t		 total = 0, now = mono_ns();

	if (api_query(req, &q) == -1)
		return;
	rows = json_array();
	TAILQ_FOREACH(c, registry_list(), entry) {
		if (!ops_matches(c, &q.sel, now))
			continue;
		if (total >= q.offset && total - q.offset < q.limit)
			json_array_append_new(rows, api_client(c, now));
		total++;
	}
	http_json(req, HTTP_OK, json_pack("{s:I, s:I, s:I, s:o}",
	    "seq", (json_int_t)stats.seq, "total", (json_int_t)total,
	    "offset", (json_int_t)q.offset, "clients", rows));
}

/*
 * GET stats: STATS as one object of numbers (version a string), and the
 * disconnects counted by reason, each reason that has happened.
 */
static void
api_stats(struct evhttp_request *req, const char *rest)
{
	struct stat_value	 v[STATS_MAX];
	json_t			*o, *by;
	size_t			 i, n;

	o = json_pack("{s:s}", "version", PACKAGE_VERSION);
	n = stats_snapshot(v, STATS_MAX);
	for (i = 0; i < n; i++)
		json_object_set_new(o, v[i].name,
		    json_integer((json_int_t)v[i].value));
	by = json_object();
	for (i = 0; i < REASON__COUNT; i++) {
		if (stats.by_reason[i] > 0)
			json_object_set_new(by, reason_names[i],
			    json_integer((json_int_t)stats.by_reason[i]));
	}
	json_object_set_new(o, "disconnects_by_reason", by);
	http_json(req, HTTP_OK, o);
}

/* GET history: the clients connected, every HISTORY_INTERVAL s. */
static void
api_history(struct evhttp_request *req, const char *rest)
{
	uint64_t	 v[HISTORY_MAX];
	json_t		*a;
	size_t		 i, n;

	n = history_get(v, HISTORY_MAX);
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	http_json(req, HTTP_OK, json_pack("{s:i, s:o}", "interval",
	    HISTORY_INTERVAL, "clients", a));
}

/* A last-seen entry as a JSON object with SEEN's fields. */
static json_t *
api_seen_entry(const struct seen_entry *e, int64_t now)
{
	struct seen_view	 v;

	seen_view(e, now, &v);
	return (json_pack("{s:s, s:s, s:s?, s:s, s:I, s:s, s:s?, s:I}",
	    "name", v.name, "state", v.state,
	    "addr", strcmp(v.addr, "-") == 0 ? NULL : v.addr,
	    "since", v.since, "for", (json_int_t)v.for_secs,
	    "last_seen", v.last_seen,
	    "reason", strcmp(v.reason, "-") == 0 ? NULL : v.reason,
	    "sessions", (json_int_t)v.sessions));
}

/*
 * GET seen/<name>: that name's entry; GET seen?select=&offset=&limit=:
 * a page of the entries a selector (none: all) matches, longest in
 * their state first.
 */
static void
api_seen(struct evhttp_request *req, const char *rest)
{
	struct seen_entry	**v;
	struct api_query	  q;
	json_t			 *rows;
	int64_t			  now = time(NULL);
	size_t			  i, n;

	if (*rest == '/') {
		api_seen_one(req, rest + 1);
		return;
	}
	if (api_query(req, &q) == -1)
		return;
	n = seen_select(ops_seen_match, &q.sel, now, &v);
	rows = json_array();
	for (i = q.offset; i < n && i - q.offset < q.limit; i++)
		json_array_append_new(rows, api_seen_entry(v[i], now));
	free(v);
	http_json(req, HTTP_OK, json_pack("{s:I, s:I, s:o}", "total",
	    (json_int_t)n, "offset", (json_int_t)q.offset, "seen", rows));
}

static void
api_seen_one(struct evhttp_request *req, const char *encoded)
{
	struct seen_entry	*e;
	const char		*why;
	char			*name;
	size_t			 len;

	if ((name = evhttp_uridecode(encoded, 0, &len)) == NULL) {
		http_error(req, HTTP_BADREQUEST, "syntax", "bad name");
		return;
	}
	if (name_check(name, len, &why) == -1)
		http_error(req, HTTP_BADREQUEST, "syntax", "%s", why);
	else if ((e = seen_find(name)) == NULL)
		http_error(req, HTTP_NOTFOUND, "notfound", "never seen");
	else
		http_json(req, HTTP_OK, api_seen_entry(e, time(NULL)));
	free(name);
}

/*
 * POST send {"target", "message"} and POST kick {"select"}: as SEND (to
 * a target or any selector) and KICK, answered by api_result().
 */
static void
api_act(struct evhttp_request *req, enum http_body_kind kind)
{
	struct http_body	 b;
	struct selector		 sel;
	enum ops_result		 rv;
	uint64_t		 n;

	if (http_body_read(req, kind, &b) == -1)
		return;
	if (kind == BODY_KICK) {
		if (api_selector(req, b.select, b.selectlen, &sel, 1) == 0) {
			rv = ops_kick(&sel, &n);
			api_result(req, rv, "kicked", n);
		}
	} else if (api_selector(req, b.target, b.targetlen, &sel, 1) == 0 &&
	    api_message(req, b.message, b.messagelen) == 0) {
		rv = ops_send(&sel, b.message, b.messagelen, &n);
		api_result(req, rv, "sent", n);
	}
	http_body_free(&b);
}

/*
 * Answers what ops did: {key: n}, 404 when a single target is not
 * connected, 409 when it was dropped for overflow.
 */
static void
api_result(struct evhttp_request *req, enum ops_result rv, const char *key,
    uint64_t n)
{
	switch (rv) {
	case OPS_OK:
		http_json(req, HTTP_OK, json_pack("{s:I}", key,
		    (json_int_t)n));
		break;
	case OPS_NOTFOUND:
		http_error(req, HTTP_NOTFOUND, "notfound", "no such client");
		break;
	case OPS_OVERFLOW:
		http_error(req, 409, "overflow", "client dropped");
		break;
	}
}

static void
api_send(struct evhttp_request *req, const char *rest)
{
	api_act(req, BODY_SEND);
}

static void
api_kick(struct evhttp_request *req, const char *rest)
{
	api_act(req, BODY_KICK);
}

/*
 * POST push {"name", "ttl", "message"}: as PUSH, answered {"id": n} only
 * once the store has the push; 507 past a limit, 503 when the store
 * fails.
 */
static void
api_push(struct evhttp_request *req, const char *rest)
{
	struct http_body		 b;
	struct api_push			*p;
	struct evhttp_connection	*evcon;
	const char			*why;

	if (http_body_read(req, BODY_PUSH, &b) == -1)
		return;
	if (name_check(b.name, b.namelen, &why) == -1)
		http_error(req, HTTP_BADREQUEST, "syntax", "name: %s", why);
	else if (b.ttl > PUSH_TTL_MAX)
		http_error(req, HTTP_BADREQUEST, "syntax", "ttl: 0-%d",
		    PUSH_TTL_MAX);
	else if (api_message(req, b.message, b.messagelen) == 0) {
		p = xcalloc(1, sizeof(*p));
		p->req = req;
		evcon = evhttp_request_get_connection(req);
		evhttp_connection_set_closecb(evcon, api_push_gone_cb, p);
		if (push_submit(b.name, b.ttl, b.message, b.messagelen,
		    api_push_answer, p, &why) == -1) {
			evhttp_connection_set_closecb(evcon, NULL, NULL);
			free(p);
			http_error(req, 507, "full", "%s", why);
		}
	}
	http_body_free(&b);
}

/* The store has spoken: answer the push, if its asker is still there. */
static void
api_push_answer(void *arg, uint64_t id, const char *error)
{
	struct api_push	*p = arg;

	if (p->req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(
		    p->req), NULL, NULL);
		if (error != NULL)
			http_error(p->req, 503, "unavailable", "%s", error);
		else
			http_json(p->req, HTTP_OK, json_pack("{s:I}", "id",
			    (json_int_t)id));
	}
	free(p);
}

/* The push's connection is gone before its answer, which only frees p. */
static void
api_push_gone_cb(struct evhttp_connection *evcon, void *arg)
{
	struct api_push	*p = arg;

	http_abandon(p->req);
	p->req = NULL;
}

/*
 * POST reload: as RELOAD: {"changed": ["section.key", ...]}, empty when
 * nothing did, or 400 with the config's error.
 */
static void
api_reload(struct evhttp_request *req, const char *rest)
{
	char	*changed, *cause, *p, *key;
	json_t	*a;

	if (daemon_reload(&changed, &cause) == -1) {
		http_error(req, HTTP_BADREQUEST, "config", "%s", cause);
		free(cause);
		return;
	}
	a = json_array();
	for (p = changed; (key = strsep(&p, ",")) != NULL;)
		json_array_append_new(a, json_string(key));
	free(changed);
	http_json(req, HTTP_OK, json_pack("{s:o}", "changed", a));
}
