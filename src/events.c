/*
 * Client events: numbering, counters, the operator's log lines, the
 * backlog kept for WATCH FROM and the live feed for WATCH, all from here
 * so that the log, STATS and WATCH can never disagree about what happened.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <syslog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "fleet.h"
#include "log.h"
#include "proto.h"
#include "seen.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define EVENT_LINE_MAX		512	/* bytes in any event but data */
#define BACKLOG_BYTES_MAX	(64UL * 1024 * 1024)
#define EVENTS_SINKS_MAX	4	/* live feeds: WATCH, SSE */
#define LOGGED_DEBUG		2	/* events_emit(): logged at debug */

/* A kept event; the ring holds consecutive sequence numbers. */
struct kept_event {
	char		*text;
	size_t		 len;
	enum event_kind	 kind;
};

static void	events_emit(enum event_kind, int, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	events_record(enum event_kind, const char *, size_t);
static void	backlog_drop_oldest(void);
static int	events_wanted(void);

_Static_assert(EVENT__COUNT < 32, "a set of event kinds fits an unsigned");

const char *const events_verbs[EVENT__COUNT] = {
	[EVENT_CONNECT] = "connect",
	[EVENT_HELLO] = "hello",
	[EVENT_DATA] = "data",
	[EVENT_DISCONNECT] = "disconnect",
	[EVENT_REJECT] = "reject",
	[EVENT_FLAPPING] = "flapping",
	[EVENT_PUSH] = "push",
	[EVENT_DELIVERED] = "delivered",
	[EVENT_ACKED] = "acked",
	[EVENT_EXPIRED] = "expired",
};

static events_sink_cb	 sinks[EVENTS_SINKS_MAX];
static size_t		 nsinks;

/*
 * The backlog: the last `cap` events, or fewer while their text passes
 * BACKLOG_BYTES_MAX, so that long data lines cannot grow it without bound.
 */
static struct {
	struct kept_event	*ring;
	size_t			 cap;
	size_t			 head;		/* index of the oldest */
	size_t			 n;
	size_t			 bytes;
} backlog;

/* Returns the kind whose verb is the len bytes at word, in any case, or -1. */
int
events_verb(const char *word, size_t len)
{
	int	 kind;

	for (kind = 0; kind < EVENT__COUNT; kind++) {
		if (strlen(events_verbs[kind]) == len &&
		    strncasecmp(events_verbs[kind], word, len) == 0)
			return (kind);
	}
	return (-1);
}

/* Adds a live feed, which gets every event from now on. */
void
events_sink_add(events_sink_cb cb)
{
	if (nsinks == EVENTS_SINKS_MAX)
		fatalx("%s: too many sinks", __func__);
	sinks[nsinks++] = cb;
}

void
events_sink_remove(events_sink_cb cb)
{
	size_t	 i;

	for (i = 0; i < nsinks; i++) {
		if (sinks[i] == cb) {
			sinks[i] = sinks[--nsinks];
			return;
		}
	}
}

static int
events_wanted(void)
{
	return (nsinks > 0 || backlog.cap > 0 || fleet_streams());
}

/* Sets how many events are kept, keeping the newest of those held. */
void
events_configure(size_t cap)
{
	struct kept_event	*ring = NULL;
	size_t			 i;

	if (cap == backlog.cap)
		return;
	while (backlog.n > cap)
		backlog_drop_oldest();
	if (cap > 0)
		ring = xcalloc(cap, sizeof(*ring));
	for (i = 0; i < backlog.n; i++)
		ring[i] = backlog.ring[(backlog.head + i) % backlog.cap];
	free(backlog.ring);
	backlog.ring = ring;
	backlog.cap = cap;
	backlog.head = 0;
}

static void
backlog_drop_oldest(void)
{
	struct kept_event	*e = &backlog.ring[backlog.head];

	backlog.bytes -= e->len;
	free(e->text);
	e->text = NULL;
	backlog.head = (backlog.head + 1) % backlog.cap;
	backlog.n--;
}

/*
 * Keeps the event numbered stats.seq and hands it to the live feeds and
 * to the fleet's stream.
 */
static void
events_record(enum event_kind kind, const char *text, size_t len)
{
	struct kept_event	*e;
	events_sink_cb		 feeds[EVENTS_SINKS_MAX];
	size_t			 i, n;

	if (backlog.cap > 0) {
		if (backlog.n == backlog.cap)
			backlog_drop_oldest();
		while (backlog.n > 0 && backlog.bytes + len > BACKLOG_BYTES_MAX)
			backlog_drop_oldest();
		e = &backlog.ring[(backlog.head + backlog.n) % backlog.cap];
		e->text = xstrndup(text, len);
		e->len = len;
		e->kind = kind;
		backlog.bytes += len;
		backlog.n++;
	}
	/*
	 * A sink may remove itself (its last reader dropped as slow) while
	 * it takes the event: the feeds are those at the event's start, so
	 * none after it is skipped. One removed may still be called, with
	 * no reader left to write to.
	 */
	n = nsinks;
	memcpy(feeds, sinks, n * sizeof(feeds[0]));
	for (i = 0; i < n; i++)
		feeds[i](stats.seq, kind, text, len);
	fleet_event(stats.seq, text, len);
}

/* Returns the number of the oldest kept event, or 0 when none is kept. */
uint64_t
events_oldest(void)
{
	return (backlog.n == 0 ? 0 : stats.seq - backlog.n + 1);
}

/*
 * Whether a reader that has every event up to `after` can resume from
 * the backlog (WATCH FROM, an SSE Last-Event-ID): 0 when it can, else the
 * first event it could get, the oldest kept or, when none is, seq + 1.
 */
uint64_t
events_gap(uint64_t after)
{
	uint64_t	 oldest = events_oldest();

	if (after >= stats.seq || (oldest != 0 && oldest <= after + 1))
		return (0);
	return (oldest == 0 ? stats.seq + 1 : oldest);
}

/*
 * Hands every kept event numbered above `after` to cb, oldest first.
 * The caller has checked with events_oldest() that none is missing.
 */
void
events_replay(uint64_t after, events_replay_cb cb, void *arg)
{
	struct kept_event	*e;
	uint64_t		 first = events_oldest(), seq;

	if (first == 0)
		return;
	for (seq = after + 1 > first ? after + 1 : first; seq <= stats.seq;
	    seq++) {
		e = &backlog.ring[(backlog.head + (seq - first)) %
		    backlog.cap];
		cb(arg, seq, e->kind, e->text, e->len);
	}
}

void
events_free(void)
{
	events_configure(0);
	nsinks = 0;
}

/*
 * Numbers an event and, when someone reads it, formats it once, its verb
 * first, for the log (at info if logged is 1, at debug if LOGGED_DEBUG),
 * the backlog and the live feed.
 */
static void
events_emit(enum event_kind kind, int logged, const char *fmt, ...)
{
	char	 text[EVENT_LINE_MAX];
	va_list	 ap;
	int	 n, level = logged == LOGGED_DEBUG ? LOG_DEBUG : LOG_INFO;

	stats.seq++;
	if (!events_wanted() && !(logged && log_enabled(level)))
		return;
	n = snprintf(text, sizeof(text), "%s ", events_verbs[kind]);
	va_start(ap, fmt);
	n += vsnprintf(text + n, sizeof(text) - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	if (logged == LOGGED_DEBUG)
		log_debug("%s", text);
	else if (logged)
		log_info("%s", text);
	events_record(kind, text, n);
}

void
events_connect(const struct client *c)
{
	char	 addr[ADDR_STRLEN];

	stats.accepted++;
	if (++stats.clients > stats.clients_peak)
		stats.clients_peak = stats.clients;
	events_emit(EVENT_CONNECT, 1, "#%llu addr=%s clients=%llu%s",
	    (unsigned long long)c->id,
	    addr_format(&c->addr.sa, addr, sizeof(addr)),
	    (unsigned long long)stats.clients,
	    c->conn.ssl != NULL ? " tls=yes" : "");
}

/* In the auth modes the line says how the name was proven. */
void
events_hello(const struct client *c)
{
	const char	*auth = "";

	if (c->flags & CLIENT_CERT)
		auth = " auth=cert";
	else if (hb_conf->auth_mode != AUTH_NONE)
		auth = " auth=token";
	seen_online(c->name, &c->addr.sa, time(NULL));
	fleet_hello(c);
	events_emit(EVENT_HELLO, 1, "#%llu name=%s%s",
	    (unsigned long long)c->id, c->name, auth);
}

/* A second HELLO: the old name goes offline, the hello line follows. */
void
events_renamed(const struct client *c)
{
	int64_t	 now = time(NULL);

	seen_offline(c->name, SEEN_RENAMED, now, now);
	fleet_bye(c->name, c->id);
}

/* Data lines are not logged; for WATCH they are escaped to one line. */
void
events_data(const struct client *c, const char *line, size_t len)
{
	static char	*buf;
	static size_t	 size;
	size_t		 need;

	stats.data_lines++;
	stats.seq++;
	if (!events_wanted())
		return;
	need = PROTO_ESCAPED_MAX(len) + 32;
	if (need > size) {
		free(buf);
		buf = xmalloc(need);
		size = need;
	}
	need = snprintf(buf, size, "%s #%llu ", events_verbs[EVENT_DATA],
	    (unsigned long long)c->id);
	need += proto_escape(line, len, buf + need);
	events_record(EVENT_DATA, buf, need);
}

void
events_disconnect(const struct client *c, enum hb_reason reason)
{
	char	 addr[ADDR_STRLEN];
	double	 age = mono_seconds(c->connected, mono_ns());

	stats.clients--;
	stats.disconnects++;
	stats.by_reason[reason]++;
	if (reason == REASON_TIMEOUT)
		stats.timeouts++;
	else if (reason == REASON_KICKED)
		stats.kicked++;
	else if (reason == REASON_REPLACED)
		stats.replaced++;
	else if (reason == REASON_OVERFLOW)
		stats.overflows++;
	else if (reason == REASON_AUTH)
		stats.auth_failures++;
	stats_session_ended(age);
	if (c->name[0] != '\0') {
		seen_offline(c->name, reason, mono_to_unix(c->last_rx),
		    time(NULL));
		fleet_bye(c->name, c->id);
	}
	events_emit(EVENT_DISCONNECT, 1, "#%llu addr=%s name=%s reason=%s "
	    "age=%.1f in=%llu out=%llu clients=%llu",
	    (unsigned long long)c->id,
	    addr_format(&c->addr.sa, addr, sizeof(addr)),
	    c->name[0] != '\0' ? c->name : "-", reason_names[reason], age,
	    (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
	    (unsigned long long)stats.clients);
}

void
events_reject(const struct sockaddr *sa, enum hb_reason reason)
{
	char	 addr[ADDR_STRLEN];

	if (reason == REASON_HANDSHAKE)
		stats.handshake_failures++;
	else if (reason == REASON_PROXY)
		stats.proxy_failures++;
	else
		stats.rejected++;
	events_emit(EVENT_REJECT, 1, "addr=%s reason=%s",
	    addr_format(sa, addr, sizeof(addr)), reason_names[reason]);
}

/* A name starts being held for flapping (SPEC §12): said once a hold. */
void
events_flapping(const char *name, uint64_t sessions, uint64_t hold)
{
	events_emit(EVENT_FLAPPING, 1, "name=%s sessions=%llu hold=%llu", name,
	    (unsigned long long)sessions, (unsigned long long)hold);
}

/*
 * Pushes (SPEC §13). A push and its expiry are logged at info; each
 * delivery and acknowledgement only at debug, so that tens of thousands
 * a second do not flood syslog.
 */
void
events_push(const char *name, uint64_t id)
{
	stats.pushes_queued++;
	events_emit(EVENT_PUSH, 1, "name=%s id=%llu", name,
	    (unsigned long long)id);
}

void
events_delivered(const struct client *c, uint64_t id)
{
	events_emit(EVENT_DELIVERED, LOGGED_DEBUG, "#%llu id=%llu",
	    (unsigned long long)c->id, (unsigned long long)id);
}

void
events_acked(const struct client *c, uint64_t id)
{
	stats.pushes_acked++;
	events_emit(EVENT_ACKED, LOGGED_DEBUG, "#%llu id=%llu",
	    (unsigned long long)c->id, (unsigned long long)id);
}

void
events_expired(const char *name, uint64_t id)
{
	stats.pushes_expired++;
	events_emit(EVENT_EXPIRED, 1, "name=%s id=%llu", name,
	    (unsigned long long)id);
}
