/*
 * The [http] listener (SPEC §8, §15), served by libevent's evhttp:
 * /metrics (metrics.c), the dashboard at /, and the API under /api/v1/
 * (http_api.c, http_sse.c). Here are the sockets, the routing, who may
 * ask (a token or a session cookie, or a loopback peer when no token is
 * set) and the sessions the dashboard logs in with.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "conf.h"
#include "daemon.h"
#include "http.h"
#include "http_api.h"
#include "http_body.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "xmalloc.h"

#define HTTP_HEADERS_MAX	8192	/* bytes of a request's headers */
#define HTTP_TIMEOUT		30	/* s a read or a write may stall */
#define HTTP_API_PREFIX		"/api/v1/"
#define SESSION_COOKIE		"hb_session"
#define SESSION_BYTES		32	/* random bytes of a session id */
#define SESSIONS_MAX		256	/* the oldest goes past this */
#define SESSION_IDLE		86400	/* s unused before a session ends */

/* A dashboard login: the cookie's value, and when it was last used. */
struct http_sess {
	char		 id[SESSION_BYTES * 2 + 1];
	time_t		 used;
};

static void	*http_attach(int);
static void	 http_detach(void *);
static void	 http_request_cb(struct evhttp_request *, void *);
static int	 http_token_in_query(struct evhttp_request *);
static int	 http_access(struct evhttp_request *, int);
static int	 http_local(struct evhttp_request *);
static int	 http_same_origin(struct evhttp_request *);
static int	 http_bearer(struct evhttp_request *);
static struct http_sess *sess_find(struct evhttp_request *);
static void	 sess_new(struct evhttp_request *);
static void	 sess_end(struct evhttp_request *);
static void	 http_page(struct evhttp_request *, const char *,
		    void (*)(struct evbuffer *));
static void	 dashboard_render(struct evbuffer *);

static struct evhttp	*http;
static struct lset	 socks = {
	"http listen", http_attach, http_detach,
	TAILQ_HEAD_INITIALIZER(socks.socks),
	TAILQ_HEAD_INITIALIZER(socks.added), NULL
};
static struct http_sess	 sessions[SESSIONS_MAX];

/*
 * The server is made with its first socket: every method reaches the
 * routing, which says 405 itself; bodies, headers and stalls are bounded.
 */
static void *
http_attach(int fd)
{
	struct evhttp_bound_socket	*bound;

	if (http == NULL) {
		if ((http = evhttp_new(hb_base)) == NULL)
			fatalx("%s: evhttp_new", __func__);
		evhttp_set_allowed_methods(http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
		    EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
		evhttp_set_max_body_size(http, HTTP_BODY_MAX);
		evhttp_set_max_headers_size(http, HTTP_HEADERS_MAX);
		evhttp_set_timeout(http, HTTP_TIMEOUT);
		evhttp_set_gencb(http, http_request_cb, NULL);
	}
	if ((bound = evhttp_accept_socket_with_handle(http, fd)) == NULL)
		fatalx("%s: evhttp_accept_socket_with_handle", __func__);
	listener_guard(evhttp_bound_socket_get_listener(bound));
	return (bound);
}

static void
http_detach(void *handle)
{
	listener_unguard(evhttp_bound_socket_get_listener(handle));
	evhttp_del_accept_socket(http, handle);
}

int
http_prepare(const struct hb_config *conf, char **cause)
{
	return (lset_prepare(&socks, &conf->http_listen, cause));
}

void
http_commit(const struct hb_config *conf)
{
	lset_commit(&socks, &conf->http_listen);
}

void
http_abort(void)
{
	lset_abort(&socks);
}

/* Closes the sockets, every event stream and every connection. */
void
http_close(void)
{
	lset_close(&socks);
	sse_close_all();
	if (http != NULL) {
		evhttp_free(http);
		http = NULL;
	}
	memset(sessions, 0, sizeof(sessions));
}

/*
 * Routes a request: /metrics as ever, then, once access is granted, the
 * dashboard and the API; any other path is not found.
 */
static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	const char	*path;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		path = "";
	if (strcmp(path, "/metrics") == 0) {
		http_page(req, METRICS_CONTENT_TYPE, metrics_render);
		return;
	}
	if (strcmp(path, "/") == 0) {
		if (http_access(req, 0) == 0)
			http_page(req, "text/html; charset=utf-8",
			    dashboard_render);
		return;
	}
	if (strncmp(path, HTTP_API_PREFIX, strlen(HTTP_API_PREFIX)) != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	path += strlen(HTTP_API_PREFIX);
	if (strcmp(path, "session") == 0) {
		if (http_access(req, 0) == 0)
			http_session(req);
	} else if (http_access(req, 1) == 0)
		api_dispatch(req, path);
}

/* Returns 1 when the query string has a token parameter. */
static int
http_token_in_query(struct evhttp_request *req)
{
	struct evkeyvalq	 q;
	const char		*query;
	int			 found;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query == NULL)
		return (0);
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(query, &q) == -1)
		return (0);
	found = evhttp_find_header(&q, "token") != NULL;
	evhttp_clear_headers(&q);
	return (found);
}

/*
 * Decides whether req may be served, and answers it when not. A token is
 * never taken from a URL. With [admin] token set, the page is open to
 * all, and the API (authed set) needs the token as a Bearer or a session
 * cookie. Without one, everything answers to loopback peers only, asked
 * for by a loopback name and not from another site's page, so that
 * neither a page elsewhere nor DNS rebinding can reach it through a
 * browser. Returns 0 to go on, -1 once answered.
 */
static int
http_access(struct evhttp_request *req, int authed)
{
	if (http_token_in_query(req)) {
		http_error(req, HTTP_BADREQUEST, "syntax",
		    "a token never goes in a URL: use a header or a session");
		return (-1);
	}
	if (hb_conf->admin_token == NULL) {
		if (!http_local(req)) {
			http_error(req, 403, "auth",
			    "without [admin] token only loopback is served, "
			    "by a loopback name");
			return (-1);
		}
		if (!http_same_origin(req)) {
			http_error(req, 403, "auth", "cross-origin request");
			return (-1);
		}
		return (0);
	}
	if (!authed || http_bearer(req) || sess_find(req) != NULL)
		return (0);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", "Bearer");
	http_error(req, 401, "auth", "a Bearer token or a session is needed");
	return (-1);
}

/*
 * Whether the peer is on loopback (127.0.0.0/8 or ::1) and named the
 * server by a loopback name: an address literal or localhost.
 */
static int
http_local(struct evhttp_request *req)
{
	const struct sockaddr	*sa;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	const char		*host;
	char			 name[64];

	sa = evhttp_connection_get_addr(evhttp_request_get_connection(req));
	if (sa == NULL || !addr_is_loopback(sa))
		return (0);
	if ((host = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Host")) == NULL)
		return (1);
	if (host[0] == '[') {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(host + 1,
		    "]"), host + 1);
		return (inet_pton(AF_INET6, name, &a6) == 1);
	}
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(host, ":"), host);
	return (strcasecmp(name, "localhost") == 0 ||
	    inet_pton(AF_INET, name, &a4) == 1);
}

/* An Origin, when a browser sends one, must be this server's own. */
static int
http_same_origin(struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	const char		*origin, *host;

	if ((origin = evhttp_find_header(in, "Origin")) == NULL)
		return (1);
	if ((host = evhttp_find_header(in, "Host")) == NULL ||
	    strncmp(origin, "http://", 7) != 0)
		return (0);
	return (strcasecmp(origin + 7, host) == 0);
}

/* Whether the request carries "Authorization: Bearer <the token>". */
static int
http_bearer(struct evhttp_request *req)
{
	const char	*auth;

	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return (0);
	auth += 7;
	return (secret_equal(auth, strlen(auth), hb_conf->admin_token));
}

/*
 * The live session named by req's cookie, if any, marked as used now.
 * Ids are compared in constant time.
 */
static struct http_sess *
sess_find(struct evhttp_request *req)
{
	const char	*cookie, *p;
	size_t		 i, len;
	time_t		 now = time(NULL);

	cookie = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Cookie");
	for (p = cookie; p != NULL; p = strchr(p, ';')) {
		p += strspn(p, "; ");
		if (strncmp(p, SESSION_COOKIE "=", sizeof(SESSION_COOKIE)) != 0)
			continue;
		p += sizeof(SESSION_COOKIE);
		len = strcspn(p, "; ");
		for (i = 0; i < SESSIONS_MAX; i++) {
			if (sessions[i].id[0] == '\0' ||
			    now - sessions[i].used > SESSION_IDLE ||
			    !secret_equal(p, len, sessions[i].id))
				continue;
			sessions[i].used = now;
			return (&sessions[i]);
		}
	}
	return (NULL);
}

/* Starts a session in the slot of an ended one or the least used. */
static void
sess_new(struct evhttp_request *req)
{
	struct http_sess	*s = &sessions[0];
	unsigned char		 raw[SESSION_BYTES];
	char			 cookie[160];
	size_t			 i;

	for (i = 1; i < SESSIONS_MAX && s->id[0] != '\0'; i++) {
		if (sessions[i].id[0] == '\0' ||
		    sessions[i].used < s->used)
			s = &sessions[i];
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	for (i = 0; i < sizeof(raw); i++)
		snprintf(s->id + 2 * i, 3, "%02x", raw[i]);
	s->used = time(NULL);
	snprintf(cookie, sizeof(cookie), SESSION_COOKIE "=%s; HttpOnly; "
	    "SameSite=Strict; Path=/", s->id);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Set-Cookie", cookie);
}

/* Ends req's session, if it has one, and tells the browser to forget. */
static void
sess_end(struct evhttp_request *req)
{
	struct http_sess	*s;

	if ((s = sess_find(req)) != NULL)
		memset(s, 0, sizeof(*s));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Set-Cookie", SESSION_COOKIE "=; HttpOnly; SameSite=Strict; "
	    "Path=/; Max-Age=0");
}

/*
 * POST /api/v1/session {"token": ...}: the dashboard's login, a session
 * cookie for the right token (for any, when none is set); DELETE ends it.
 */
void
http_session(struct evhttp_request *req)
{
	struct http_body	 b;
	int			 ok;

	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_DELETE:
		sess_end(req);
		evhttp_send_reply(req, HTTP_NOCONTENT, "No Content", NULL);
		return;
	case EVHTTP_REQ_POST:
		break;
	default:
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST, DELETE");
		http_error(req, HTTP_BADMETHOD, "method", "POST or DELETE");
		return;
	}
	if (http_body_read(req, BODY_SESSION, &b) == -1)
		return;
	ok = hb_conf->admin_token == NULL || secret_equal(b.token, b.tokenlen,
	    hb_conf->admin_token);
	http_body_free(&b);
	if (!ok) {
		log_warnx("http auth failed");
		http_error(req, 401, "auth", "bad token");
		return;
	}
	sess_new(req);
	evhttp_send_reply(req, HTTP_NOCONTENT, "No Content", NULL);
}

/*
 * GET or HEAD of a page that render writes; 405 for other methods.
 * evhttp would send a body with HEAD: its length alone is the answer.
 */
static void
http_page(struct evhttp_request *req, const char *ctype,
    void (*render)(struct evbuffer *))
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*body;
	char			 length[32];

	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD:
		break;
	default:
		evhttp_add_header(out, "Allow", "GET, HEAD");
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	if ((body = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	render(body);
	evhttp_add_header(out, "Content-Type", ctype);
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(length, sizeof(length), "%zu",
		    evbuffer_get_length(body));
		evhttp_add_header(out, "Content-Length", length);
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
	} else
		evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* The dashboard, which carries everything it needs. */
static void
dashboard_render(struct evbuffer *out)
{
	evbuffer_add_reference(out, dashboard_html, dashboard_html_len, NULL,
	    NULL);
}

/*
 * Lets go of req, whose connection is going away before its reply ended.
 * When the connection failed (the peer gone, a stall), evhttp has taken
 * req off it and leaves it to us to free; otherwise req goes with it.
 */
void
http_abandon(struct evhttp_request *req)
{
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_request_free(req);
}

/* Answers req with status code and the JSON value v, which it takes. */
void
http_json(struct evhttp_request *req, int code, json_t *v)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*body;
	char			*text;

	if ((text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15) |
	    JSON_ENCODE_ANY)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(v);
	if ((body = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	evbuffer_add(body, text, strlen(text));
	evbuffer_add(body, "\n", 1);
	free(text);
	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply(req, code, NULL, body);
	evbuffer_free(body);
}

/*
 * Answers req with {"error": error, "message": fmt...} and status code.
 * The message may quote what the request sent: any byte that is not
 * printable ASCII becomes '?', so that it is always a JSON string.
 */
void
http_error(struct evhttp_request *req, int code, const char *error,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *p;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("%s: vasprintf", __func__);
	va_end(ap);
	for (p = msg; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	}
	http_json(req, code, json_pack("{s:s, s:s}", "error", error,
	    "message", msg));
	free(msg);
}
