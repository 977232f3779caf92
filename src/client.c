/*
 * One client connection: the line protocol, the heartbeat timer, the send
 * path with its send_buffer_limit, and client_close(), the only way a
 * client ends.
 *
 * Reads go through one shared buffer and complete lines are handled in
 * place; a client holds memory of its own only for a pending partial line
 * or for output the kernel would not take at once.
 *
 * Deadlines live in deadline.c: a read files the client anew there, and
 * the lists call back here to drop the clients whose time has run out. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "conf.h"
#include "daemon.h"
#include "deadline.h"
#include "events.h"
#include "listener.h"
#include "log.h"
#include "proto.h"
#include "push.h"
#include "registry.h"
#include "seen.h"
#include "stats.h"
#include "tls.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

static void	client_read_cb(evutil_socket_t, short, void *);
static int	client_read(struct client *);
static void	client_write_cb(evutil_socket_t, short, void *);
static void	client_expire(struct client **, size_t, enum hb_reason);
static uint64_t	client_timeout_ns(const struct client *);
static void	client_set_timeout(struct client *, double);
static int	client_auth_start(struct client *);
static int	client_line_cb(void *, const char *, size_t);
static int	client_ping(struct client *, const char *, size_t);
static int	client_hello(struct client *, const struct words *);
static int	client_prove(struct client *, const char *,
		    const struct hello *);
static int	client_take_name(struct client *, const char *);
static int	client_admit(struct client *, struct client *, const char *);
static int	client_reply(struct client *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	client_wait_write(struct client *);
static void	client_read_waits(struct client *);
static int	client_queue(struct client *, struct iovec *, int, size_t);
static void	client_sent(struct client *, size_t);
static void	client_eof(struct client *);
static void	client_last_words(struct client *, enum hb_reason);

#define EXPIRE_BATCH	256	/* at most this many drops at once */

static uint64_t		 next_id;

/*
 * Descriptors of the clients dropped in one expiry batch, closed together
 * at its end: back-to-back closes let the peers' wake-ups coalesce, which
 * on loopback costs more than everything else a drop does.
 */
static int		 deferred_fds[EXPIRE_BATCH];
static int		 ndeferred = -1;	/* -1: close at once */

/*
 * Takes a connected, non-blocking socket (with its TLS handshake done)
 * and registers the client. Returns it, or NULL when the auth mode
 * closed it at once.
 */
struct client *
client_new(const struct conn *conn, const struct sockaddr *sa,
    socklen_t salen)
{
	struct client	*c;

	c = xcalloc(1, sizeof(*c));
	c->id = ++next_id;
	c->conn = *conn;
	if (salen > sizeof(c->addr))
		salen = sizeof(c->addr);
	memcpy(&c->addr, sa, salen);
	c->connected = c->last_rx = mono_ns();
	c->ev_read = event_new(hb_base, conn->fd, EV_READ | EV_PERSIST,
	    client_read_cb, c);
	if (c->ev_read == NULL)
		fatalx("%s: event_new", __func__);
	event_add(c->ev_read, NULL);
	registry_add(c);
	events_connect(c);
	deadline_init(client_expire);
	if (client_auth_start(c) == -1)
		return (NULL);
	if (conn_pending(&c->conn))
		event_active(c->ev_read, EV_READ, 0);
	return (c);
}

/*
 * The auth mode decides how a new client gets its name: not at all yet
 * (none), from its verified certificate (cert, any), or by a HELLO with a
 * token (token, and any without a certificate). Returns -1 when c was
 * closed.
 */
static int
client_auth_start(struct client *c)
{
	enum hb_auth_mode	 mode = hb_conf->auth_mode;
	char			 name[HB_NAME_MAX + 1];
	int			 rv = 0;

	if (mode == AUTH_CERT || mode == AUTH_ANY)
		rv = tls_peer_name(c->conn.ssl, name, sizeof(name));
	if (rv == -1 || (rv == 0 && mode == AUTH_CERT)) {
		client_close(c, REASON_AUTH);
		return (-1);
	}
	if (rv == 1) {
		c->flags |= CLIENT_CERT;
		deadline_add(c, client_timeout_ns(c));
		if (client_take_name(c, name) == -1)
			return (-1);
		if (c->name[0] == '\0') {
			client_close(c, REASON_AUTH);
			return (-1);
		}
		return (push_online(c));
	}
	if (mode == AUTH_NONE) {
		deadline_add(c, client_timeout_ns(c));
		return (0);
	}
	c->flags |= CLIENT_UNPROVEN;
	deadline_add_hello(c);
	return (0);
}

/*
 * The timeout c has: the one it asked for in its HELLO clamped into
 * [heartbeat_timeout_min, heartbeat_timeout_max] (0: heartbeat_timeout),
 * or heartbeat_timeout.
 */
double
client_granted(const struct client *c)
{
	double	 t = hb_conf->heartbeat_timeout, lo, hi;

	if (!(c->flags & CLIENT_TIMEOUT))
		return (t);
	lo = hb_conf->heartbeat_timeout_min > 0 ?
	    hb_conf->heartbeat_timeout_min : t;
	hi = hb_conf->heartbeat_timeout_max > 0 ?
	    hb_conf->heartbeat_timeout_max : t;
	if (c->timeout_asked < lo)
		return (lo);
	return (c->timeout_asked > hi ? hi : c->timeout_asked);
}

static uint64_t
client_timeout_ns(const struct client *c)
{
	return (deadline_ns(client_granted(c)));
}

/*
 * Drops clients whose time ran out. Their descriptors are closed together
 * at the end: back-to-back closes let the peers' wake-ups coalesce, which
 * on loopback costs more than everything else a drop does.
 */
static void
client_expire(struct client **v, size_t n, enum hb_reason reason)
{
	size_t	 i;

	ndeferred = 0;
	for (i = 0; i < n; i++)
		client_close(v[i], (v[i]->flags & CLIENT_EOF) ?
		    REASON_CLOSED : reason);
	for (i = 0; i < (size_t)ndeferred; i++)
		close(deferred_fds[i]);
	ndeferred = -1;
}

/* After a reload: timeouts are granted and counted anew. */
void
client_rearm_all(void)
{
	deadline_refile(registry_list(), registry_count(), client_timeout_ns);
}

static void
client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;

	while (client_read(c) == 0 && conn_pending(&c->conn))
		;
}

/*
 * One read, and the lines it completes. Returns 0, or -1 when there is
 * nothing more to read now or c was closed. TLS reads ahead: what it
 * holds already wakes no poll, so the caller reads on while it has some.
 */
static int
client_read(struct client *c)
{
	static char	 buf[HB_READ_CHUNK];
	ssize_t		 n;
	short		 want;
	int		 rv;

	if ((n = conn_read(&c->conn, buf, sizeof(buf), &want)) ==
	    CONN_AGAIN) {
		if (want == EV_WRITE)
			client_read_waits(c);
		return (-1);
	}
	if (n == CONN_ERROR) {
		client_close(c, REASON_RESET);
		return (-1);
	}
	if (n == 0) {
		client_eof(c);
		return (-1);
	}
	if (!(c->flags & CLIENT_UNPROVEN))
		deadline_touch(c, mono_ns());
	c->bytes_in += n;
	stats.bytes_in += n;
	rv = linebuf_feed(&c->lb, buf, n, hb_conf->max_line, client_line_cb, c);
	if (rv == LINE_TOOLONG &&
	    client_reply(c, "ERR toolong line exceeds %zu bytes",
	    hb_conf->max_line) == 0)
		client_close(c, REASON_TOOLONG);
	return (rv == LINE_OK ? 0 : -1);
}

/*
 * The peer shut down its side: its complete lines are answered already,
 * a partial one is dropped, and the connection closes once the answers
 * are out.
 */
static void
client_eof(struct client *c)
{
	event_del(c->ev_read);
	linebuf_clear(&c->lb);
	c->flags |= CLIENT_EOF;
	if (c->outq == NULL || evbuffer_get_length(c->outq) == 0)
		client_close(c, REASON_CLOSED);
}

static int
client_line_cb(void *arg, const char *line, size_t len)
{
	struct client	*c = arg;
	struct words	 w;

	proto_split(line, len, &w);
	if (proto_is(&w, "HELLO"))
		return (client_hello(c, &w));
	if (proto_is(&w, "QUIT")) {
		client_close(c, REASON_QUIT);
		return (-1);
	}
	if (c->flags & CLIENT_UNPROVEN)
		return (client_reply(c, "ERR auth hello first"));
	if (proto_is(&w, "PING"))
		return (client_ping(c, line, len));
	if (proto_is(&w, "ACK"))
		return (push_ack(c, w.rest, w.restlen));
	events_data(c, line, len);
	if (hb_conf->data_reply == DATA_REPLY_OK)
		return (client_reply(c, "OK"));
	if (hb_conf->data_reply == DATA_REPLY_ECHO)
		return (client_send_line(c, line, len));
	return (0);
}

/* PING [payload] is answered PONG [payload], the payload byte for byte. */
static int
client_ping(struct client *c, const char *line, size_t len)
{
	struct iovec	 iov[3];

	stats.pings++;
	iov[0].iov_base = (void *)"PONG";
	iov[0].iov_len = 4;
	iov[1].iov_base = (void *)(line + 4);
	iov[1].iov_len = len - 4;
	iov[2].iov_base = (void *)"\n";
	iov[2].iov_len = 1;
	return (client_sendv(c, iov, 3));
}

/*
 * HELLO <name> [token=<token>] [timeout=<s>]: names the connection. In
 * the token modes the name must be proven by a token, and a certificate's
 * name cannot be changed at all. Nothing changes unless every option is
 * good.
 */
static int
client_hello(struct client *c, const struct words *w)
{
	char		 name[HB_NAME_MAX + 1];
	struct hello	 h;
	const char	*why;
	double		 asked = -1;
	int		 rv, fresh;

	if ((rv = hello_parse(w->rest, w->restlen, &h, &why)) != 0)
		return (client_reply(c, "ERR %s %s",
		    rv == HELLO_BADNAME ? "badname" : "syntax", why));
	if (h.timeout.s != NULL && hello_timeout(&h, &asked, &why) == -1)
		return (client_reply(c, "ERR syntax timeout %s", why));
	memcpy(name, h.name, h.namelen);
	name[h.namelen] = '\0';
	if ((c->flags & CLIENT_CERT) && strcmp(name, c->name) != 0)
		return (client_reply(c, "ERR auth name bound to certificate"));
	if (!(c->flags & CLIENT_CERT) && hb_conf->auth_mode != AUTH_NONE &&
	    client_prove(c, name, &h) == -1)
		return (-1);
	fresh = strcmp(c->name, name) != 0;
	if (client_take_name(c, name) == -1)
		return (-1);
	if (strcmp(c->name, name) != 0)
		return (0);
	if (asked < 0)
		rv = client_reply(c, "OK #%llu", (unsigned long long)c->id);
	else {
		client_set_timeout(c, asked);
		rv = client_reply(c, "OK #%llu timeout=%g",
		    (unsigned long long)c->id, client_granted(c));
	}
	/* Its pushes follow the answer, which the client waits for. */
	if (rv == -1 || !fresh)
		return (rv);
	return (push_online(c));
}

/* c asked for a timeout of its own: it applies from c's last byte, now. */
static void
client_set_timeout(struct client *c, double asked)
{
	c->timeout_asked = asked;
	c->flags |= CLIENT_TIMEOUT;
	deadline_remove(c);
	deadline_add(c, client_timeout_ns(c));
}

/*
 * Checks HELLO's token for name. A bad one is answered and closes c, and
 * -1 is returned; a good one ends the wait for a HELLO, so the client's
 * heartbeats count from now on.
 */
static int
client_prove(struct client *c, const char *name, const struct hello *h)
{
	const char	*why;

	if (h->token.s == NULL || token_verify(&hb_conf->auth_secret, name,
	    h->token.s, h->token.len, (uint64_t)time(NULL), &why) == -1) {
		if (client_reply(c, "ERR auth bad token") == 0)
			client_close(c, REASON_AUTH);
		return (-1);
	}
	return (0);
}

/*
 * Gives c the name, taking it from another client (duplicate_name =
 * replace) or answering "ERR taken" (reject). A client still owing its
 * HELLO has proven itself once it holds the name. Returns -1 when c was
 * closed.
 */
static int
client_take_name(struct client *c, const char *name)
{
	struct client	*other;

	if ((other = registry_by_name(name)) == c)
		return (0);
	if (other != NULL && hb_conf->duplicate_name == DUP_REJECT)
		return (client_reply(c, "ERR taken name in use"));
	if (client_admit(c, other, name) == -1)
		return (-1);
	if (other != NULL)
		client_close(other, REASON_REPLACED);
	if (c->name[0] != '\0') {
		push_offline(c);
		events_renamed(c);
	}
	registry_set_name(c, name);
	if (c->flags & CLIENT_UNPROVEN) {
		deadline_remove(c);
		c->flags &= ~CLIENT_UNPROVEN;
		c->last_rx = mono_ns();
		deadline_add(c, client_timeout_ns(c));
	}
	events_hello(c);
	return (0);
}

/*
 * Flap damping (SPEC §12): a HELLO for a held name, or the one too many
 * that starts a hold, gets "BYE flapping", and so does the client that
 * holds the name when the hold starts. Returns -1 when c was closed.
 */
static int
client_admit(struct client *c, struct client *holder, const char *name)
{
	uint64_t	 sessions;

	switch (seen_admit(name, time(NULL), &sessions)) {
	case SEEN_ADMITTED:
		return (0);
	case SEEN_HOLDS:
		events_flapping(name, sessions, hb_conf->flap_hold);
		if (holder != NULL)
			client_close(holder, REASON_FLAPPING);
		break;
	case SEEN_REFUSED:
		break;
	}
	stats.flapping++;
	client_close(c, REASON_FLAPPING);
	return (-1);
}

/* Sends a short formatted line. Returns 0, or -1 when c was closed. */
static int
client_reply(struct client *c, const char *fmt, ...)
{
	char	 line[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	return (client_send(c, line, n));
}

/* Queues raw bytes. Returns 0, or -1 when c was closed (it is gone). */
int
client_send(struct client *c, const char *data, size_t len)
{
	struct iovec	 iov;

	iov.iov_base = (void *)data;
	iov.iov_len = len;
	return (client_sendv(c, &iov, 1));
}

/* Bytes queued to c that the kernel has not taken yet. */
size_t
client_queued(const struct client *c)
{
	return (c->outq != NULL ? evbuffer_get_length(c->outq) : 0);
}

/* Queues msg and a newline, as SEND and BROADCAST do. */
int
client_send_line(struct client *c, const char *msg, size_t len)
{
	struct iovec	 iov[2];

	iov[0].iov_base = (void *)msg;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	return (client_sendv(c, iov, 2));
}

static void
client_sent(struct client *c, size_t n)
{
	c->bytes_out += n;
	stats.bytes_out += n;
}

/*
 * Writes straight to the socket when nothing is queued, which is the
 * common case, and queues what the kernel does not take; iov may be
 * changed. Returns 0, or -1 when c was closed: a write error, or output
 * over send_buffer_limit.
 */
int
client_sendv(struct client *c, struct iovec *iov, int iovcnt)
{
	ssize_t		 n;
	size_t		 left;
	short		 want;
	int		 i;

	for (left = 0, i = 0; i < iovcnt; i++)
		left += iov[i].iov_len;
	if (c->outq != NULL && evbuffer_get_length(c->outq) > 0)
		return (client_queue(c, iov, iovcnt, left));
	if ((n = conn_writev(&c->conn, iov, iovcnt, &want)) == CONN_ERROR) {
		client_close(c, REASON_RESET);
		return (-1);
	}
	client_sent(c, n);
	if ((size_t)n == left)
		return (0);
	for (i = 0; (size_t)n >= iov[i].iov_len; i++)
		n -= iov[i].iov_len;
	iov[i].iov_base = (char *)iov[i].iov_base + n;
	iov[i].iov_len -= n;
	return (client_queue(c, iov + i, iovcnt - i, left - (size_t)n));
}

/* Appends to the output queue, or drops c if that passes the limit. */
static int
client_queue(struct client *c, struct iovec *iov, int iovcnt, size_t len)
{
	int	 i;

	if (c->outq == NULL && (c->outq = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	if (evbuffer_get_length(c->outq) + len > hb_conf->send_buffer_limit) {
		client_close(c, REASON_OVERFLOW);
		return (-1);
	}
	for (i = 0; i < iovcnt; i++)
		evbuffer_add(c->outq, iov[i].iov_base, iov[i].iov_len);
	client_wait_write(c);
	return (0);
}

static void
client_wait_write(struct client *c)
{
	if (c->ev_write == NULL && (c->ev_write = event_new(hb_base,
	    c->conn.fd, EV_WRITE | EV_PERSIST, client_write_cb, c)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(c->ev_write, NULL);
}

/* A TLS read must write first: it is retried once the socket takes data. */
static void
client_read_waits(struct client *c)
{
	c->flags |= CLIENT_READ_WAITS;
	client_wait_write(c);
}

static void
client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	ssize_t		 n;
	short		 want;

	if (c->outq != NULL && evbuffer_get_length(c->outq) > 0) {
		if ((n = conn_write_buffer(&c->conn, c->outq, &want)) ==
		    CONN_ERROR) {
			client_close(c, REASON_RESET);
			return;
		}
		client_sent(c, n);
		if (evbuffer_get_length(c->outq) > 0)
			return;
	}
	if (c->flags & CLIENT_EOF) {
		client_close(c, REASON_CLOSED);
		return;
	}
	event_del(c->ev_write);
	if (c->flags & CLIENT_READ_WAITS) {
		c->flags &= ~CLIENT_READ_WAITS;
		client_read_cb(fd, EV_READ, c);
	}
}

/*
 * Sends "BYE <reason>" after whatever is queued, with one non-blocking
 * write: a slow peer does not hold the daemon up. Unless the peer was
 * silent (a timeout), what it sent meanwhile is read first (conn.c).
 */
static void
client_last_words(struct client *c, enum hb_reason reason)
{
	char	 bye[32];
	ssize_t	 n;
	short	 want;
	int	 len, linger = reason != REASON_TIMEOUT;

	len = snprintf(bye, sizeof(bye), "BYE %s\n", reason_names[reason]);
	if (c->outq == NULL || evbuffer_get_length(c->outq) == 0) {
		client_sent(c, conn_goodbye(&c->conn, bye, len, linger));
		return;
	}
	evbuffer_add(c->outq, bye, len);
	if ((n = conn_write_buffer(&c->conn, c->outq, &want)) > 0)
		client_sent(c, n);
	conn_goodbye(&c->conn, NULL, 0, linger);
}

/*
 * The one teardown: last words unless the peer left on its own, then out
 * of the registry, the disconnect event, and c is freed. Callers must not
 * touch c afterwards.
 */
void
client_close(struct client *c, enum hb_reason reason)
{
	if (c->flags & CLIENT_CLOSING)
		return;
	c->flags |= CLIENT_CLOSING;
	if (reason != REASON_CLOSED && reason != REASON_RESET)
		client_last_words(c, reason);
	registry_remove(c);
	if (c->name[0] != '\0')
		push_offline(c);
	if (c->deadlines != NULL)
		deadline_remove(c);
	events_disconnect(c, reason);
	event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->outq != NULL)
		evbuffer_free(c->outq);
	linebuf_clear(&c->lb);
	conn_free_tls(&c->conn);
	if (ndeferred >= 0 && ndeferred < EXPIRE_BATCH)
		deferred_fds[ndeferred++] = c->conn.fd;
	else
		close(c->conn.fd);
	free(c);
	listener_resume();
}

/* Closes every client, oldest first, as the daemon stops. */
void
client_close_all(enum hb_reason reason)
{
	struct client	*c;

	while ((c = TAILQ_FIRST(registry_list())) != NULL)
		client_close(c, reason);
	deadline_free_all();
}
