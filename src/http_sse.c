/*
 * GET /api/v1/events: the WATCH feed as Server-Sent Events (SPEC §15).
 * Each event is "id: <seq>", "event: <verb>" and "data: <its WATCH
 * text>"; a Last-Event-ID resumes as WATCH FROM does, from the backlog.
 * Events go out through evhttp's chunked reply, and a reader that falls
 * send_buffer_limit behind is told and let go, as a slow watcher is: the
 * daemon never waits for one.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "http_api.h"
#include "log.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define SSE_KEEPALIVE	15	/* s between comment lines */

/* One reader of the stream. */
struct sse_reader {
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	unsigned			 verbs;		/* EVENT_BIT()s */
	size_t				 replayed;	/* bytes of the resume */
	TAILQ_ENTRY(sse_reader)		 entry;
};
TAILQ_HEAD(sse_readers, sse_reader);

static int	 sse_args(struct evhttp_request *, uint64_t *, unsigned *);
static int	 sse_verbs(const char *, unsigned *);
static void	 sse_send(struct sse_reader *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static size_t	 sse_queued(const struct sse_reader *);
static void	 sse_event(void *, uint64_t, enum event_kind, const char *,
		    size_t);
static void	 sse_sink(uint64_t, enum event_kind, const char *, size_t);
static void	 sse_keepalive_cb(evutil_socket_t, short, void *);
static void	 sse_closed_cb(struct evhttp_connection *, void *);
static void	 sse_forget(struct sse_reader *);

static struct sse_readers	 readers = TAILQ_HEAD_INITIALIZER(readers);
static struct event		*keepalive;
static struct evbuffer		*chunk;

/*
 * The verbs to stream (?verbs=connect,hello; all without) and where to
 * resume (Last-Event-ID; UINT64_MAX: live only). Returns 0, or -1 once
 * it has answered 400.
 */
static int
sse_args(struct evhttp_request *req, uint64_t *from, unsigned *verbs)
{
	struct evkeyvalq	 q;
	const char		*query, *v, *why;
	int			 rc = 0;

	*from = UINT64_MAX;
	*verbs = EVENT_ALL;
	v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Last-Event-ID");
	if (v != NULL && parse_u64(v, 0, UINT64_MAX, from, &why) == -1) {
		http_error(req, HTTP_BADREQUEST, "syntax",
		    "Last-Event-ID: %s", why);
		return (-1);
	}
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		http_error(req, HTTP_BADREQUEST, "syntax", "bad query string");
		return (-1);
	}
	if ((v = evhttp_find_header(&q, "verbs")) != NULL &&
	    sse_verbs(v, verbs) == -1) {
		http_error(req, HTTP_BADREQUEST, "syntax", "unknown verb in: "
		    "%.64s", v);
		rc = -1;
	}
	evhttp_clear_headers(&q);
	return (rc);
}

/* Parses a comma-separated list of verbs into *verbs; -1: one unknown. */
static int
sse_verbs(const char *list, unsigned *verbs)
{
	size_t	 len;
	int	 kind;

	*verbs = 0;
	for (; *list != '\0'; list += len + (list[len] == ',')) {
		if ((len = strcspn(list, ",")) == 0)
			continue;
		if ((kind = events_verb(list, len)) == -1)
			return (-1);
		*verbs |= EVENT_BIT(kind);
	}
	if (*verbs == 0)
		*verbs = EVENT_ALL;
	return (0);
}

/*
 * Starts the stream: the headers at once, then, for a Last-Event-ID, the
 * kept events after it (after one "gap" event naming the oldest kept,
 * when some are no longer kept), then every event as it happens.
 */
void
sse_open(struct evhttp_request *req, const char *rest)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct sse_reader	*r;
	struct timeval		 tv = { SSE_KEEPALIVE, 0 };
	uint64_t		 from, gap;
	unsigned		 verbs;

	if (sse_args(req, &from, &verbs) == -1)
		return;
	r = xcalloc(1, sizeof(*r));
	r->req = req;
	r->evcon = evhttp_request_get_connection(req);
	r->verbs = verbs;
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, HTTP_OK, "OK");
	evhttp_connection_set_closecb(r->evcon, sse_closed_cb, r);
	if ((gap = events_gap(from)) != 0) {
		sse_send(r, "event: gap\ndata: oldest=%llu\n\n",
		    (unsigned long long)gap);
		from = gap - 1;
	}
	if (from < stats.seq)
		events_replay(from, sse_event, r);
	r->replayed = sse_queued(r);
	if (TAILQ_EMPTY(&readers)) {
		events_sink_add(sse_sink);
		if ((keepalive = event_new(hb_base, -1, EV_PERSIST,
		    sse_keepalive_cb, NULL)) == NULL)
			fatalx("%s: event_new", __func__);
		evtimer_add(keepalive, &tv);
	}
	TAILQ_INSERT_TAIL(&readers, r, entry);
}

/* Sends r one piece of the stream. */
static void
sse_send(struct sse_reader *r, const char *fmt, ...)
{
	va_list	 ap;

	if (chunk == NULL && (chunk = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	va_start(ap, fmt);
	evbuffer_add_vprintf(chunk, fmt, ap);
	va_end(ap);
	evhttp_send_reply_chunk(r->req, chunk);
}

/* Bytes of r's stream not yet written to its socket. */
static size_t
sse_queued(const struct sse_reader *r)
{
	return (evbuffer_get_length(bufferevent_get_output(
	    evhttp_connection_get_bufferevent(r->evcon))));
}

/* Sends an event to a reader, when it is of a kind the reader wants. */
static void
sse_event(void *arg, uint64_t seq, enum event_kind kind, const char *text,
    size_t len)
{
	struct sse_reader	*r = arg;

	if (r->verbs & EVENT_BIT(kind))
		sse_send(r, "id: %llu\nevent: %s\ndata: %.*s\n\n",
		    (unsigned long long)seq, events_verbs[kind], (int)len,
		    text);
}

/*
 * The live feed. A reader more than send_buffer_limit behind (beyond
 * what its resume sent) gets an "overflow" event after those it has, so
 * that it knows to resume from its last id, and its reply ends; the
 * connection's write timeout ends one that does not read at all.
 */
static void
sse_sink(uint64_t seq, enum event_kind kind, const char *text, size_t len)
{
	struct sse_reader	*r, *next;

	TAILQ_FOREACH_SAFE(r, &readers, entry, next) {
		/* What has drained can no longer be the resume's. */
		if (sse_queued(r) < r->replayed)
			r->replayed = sse_queued(r);
		sse_event(r, seq, kind, text, len);
		if (sse_queued(r) <= hb_conf->send_buffer_limit + r->replayed)
			continue;
		sse_send(r, "event: overflow\ndata: \n\n");
		evhttp_connection_set_closecb(r->evcon, NULL, NULL);
		evhttp_send_reply_end(r->req);
		sse_forget(r);
	}
}

/* A comment line now and then, so that proxies and peers see life. */
static void
sse_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sse_reader	*r;

	TAILQ_FOREACH(r, &readers, entry)
		sse_send(r, ": keepalive\n\n");
}

/* The reader's connection is going away: forget it and its reply. */
static void
sse_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct sse_reader	*r = arg;

	http_abandon(r->req);
	sse_forget(r);
}

/* Frees r; the feed and the timer stop with the last reader. */
static void
sse_forget(struct sse_reader *r)
{
	TAILQ_REMOVE(&readers, r, entry);
	free(r);
	if (!TAILQ_EMPTY(&readers))
		return;
	events_sink_remove(sse_sink);
	event_free(keepalive);
	keepalive = NULL;
}

/* Lets every reader go, before evhttp frees their connections. */
void
sse_close_all(void)
{
	struct sse_reader	*r;

	while ((r = TAILQ_FIRST(&readers)) != NULL) {
		evhttp_connection_set_closecb(r->evcon, NULL, NULL);
		sse_forget(r);
	}
	if (chunk != NULL)
		evbuffer_free(chunk);
	chunk = NULL;
}
