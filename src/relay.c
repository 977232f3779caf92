/*
 * TLS on the admin port without a second session implementation: once
 * its handshake is done, a TLS admin connection is relayed over a
 * socketpair to an ordinary admin session, so that AUTH, pipelining,
 * backpressure and WATCH are exactly those of TCP. A relay moves bytes
 * both ways and owes either end at most send_buffer_limit: it stops
 * reading one end while what it owes the other exceeds that, so a slow
 * peer cannot make it hold more.
 *
 * Half-closes pass through. The peer's end of stream (close_notify, or a
 * bare FIN) shuts the session's receiving side once everything the peer
 * sent is delivered, so the session answers what it got and closes; the
 * session's close ends the relay once its last words are out, with a
 * close_notify. An error on the TLS side ends both at once.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conn.h"
#include "daemon.h"
#include "heartbeatd.h"
#include "log.h"
#include "relay.h"
#include "xmalloc.h"

/* One end of a relay and what the relay owes it. */
struct relay_end {
	struct conn		 conn;
	struct event		*ev;
	struct evbuffer		*out;		/* bytes owed to it */
	short			 read_want;	/* EV_READ; EV_WRITE for TLS */
	int			 flags;
#define END_EOF			 0x1		/* it sends no more */
#define END_SHUT		 0x2		/* it is sent no more */
};

struct relay {
	struct relay_end	 peer;		/* the TLS connection */
	struct relay_end	 session;	/* our end of the socketpair */
	TAILQ_ENTRY(relay)	 entry;
};

static void	relay_end_init(struct relay *, struct relay_end *, int);
static void	relay_cb(evutil_socket_t, short, void *);
static int	relay_move(struct relay *, struct relay_end *,
		    struct relay_end *);
static int	relay_may_read(const struct relay_end *,
		    const struct relay_end *);
static int	relay_read(struct relay *, struct relay_end *,
		    struct relay_end *);
static int	relay_flush(struct relay *, struct relay_end *);
static int	relay_shut(struct relay *, struct relay_end *);
static void	relay_arm(struct relay *, struct relay_end *,
		    const struct relay_end *);
static void	relay_free(struct relay *);
static void	relay_end_free(struct relay_end *);

static TAILQ_HEAD(, relay)	 relays = TAILQ_HEAD_INITIALIZER(relays);

/*
 * Relays tls, whose handshake is done, to the session on the other end
 * of the socketpair whose end fd is; takes both. What the peer sent with
 * its handshake may wait inside OpenSSL already, so the relay reads at
 * once rather than waiting for the socket.
 */
void
relay_new(const struct conn *tls, int fd)
{
	struct relay	*r;

	r = xcalloc(1, sizeof(*r));
	r->peer.conn = *tls;
	relay_end_init(r, &r->peer, tls->fd);
	relay_end_init(r, &r->session, fd);
	TAILQ_INSERT_TAIL(&relays, r, entry);
	relay_cb(-1, 0, r);
}

static void
relay_end_init(struct relay *r, struct relay_end *e, int fd)
{
	e->conn.fd = fd;
	e->read_want = EV_READ;
	if ((e->ev = event_new(hb_base, fd, 0, relay_cb, r)) == NULL)
		fatalx("%s: event_new", __func__);
	if ((e->out = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
}

/*
 * Either socket is ready: both directions move as far as they can, and
 * the relay waits for what each end needs next.
 */
static void
relay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay	*r = arg;

	if (relay_move(r, &r->peer, &r->session) == -1 ||
	    relay_move(r, &r->session, &r->peer) == -1)
		return;
	relay_arm(r, &r->peer, &r->session);
	relay_arm(r, &r->session, &r->peer);
}

/*
 * Passes what "from" sends on to "to", writing before each read so that
 * room made at "to" lets "from" be read again. Once "from" has ended and
 * all it sent is out, "to" is shut. Returns -1 when r was freed.
 */
static int
relay_move(struct relay *r, struct relay_end *from, struct relay_end *to)
{
	int	 rv;

	do {
		if (relay_flush(r, to) == -1 ||
		    (rv = relay_read(r, from, to)) == -1)
			return (-1);
	} while (rv == 1);
	if ((from->flags & END_EOF) && !(to->flags & END_SHUT) &&
	    evbuffer_get_length(to->out) == 0)
		return (relay_shut(r, to));
	return (0);
}

/* Whether "from" may be read: it has not ended and "to" has room. */
static int
relay_may_read(const struct relay_end *from, const struct relay_end *to)
{
	return (!(from->flags & END_EOF) && !(to->flags & END_SHUT) &&
	    evbuffer_get_length(to->out) < hb_conf->send_buffer_limit);
}

/*
 * Reads a chunk from "from" into what "to" is owed. Returns 1 when bytes
 * came, 0 when none can come now, or -1 when the TLS side failed and r
 * was freed. The session's side fails only when the session closed with
 * bytes of ours unread (a wrong AUTH, say): the answers it wrote before
 * are read first, and the failure is its end of stream.
 */
static int
relay_read(struct relay *r, struct relay_end *from, struct relay_end *to)
{
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	if (!relay_may_read(from, to))
		return (0);
	if (evbuffer_reserve_space(to->out, HB_READ_CHUNK, &v, 1) < 1)
		fatalx("%s: evbuffer_reserve_space", __func__);
	from->read_want = EV_READ;
	if ((n = conn_read(&from->conn, v.iov_base, v.iov_len,
	    &from->read_want)) > 0) {
		v.iov_len = n;
		evbuffer_commit_space(to->out, &v, 1);
		return (1);
	}
	evbuffer_commit_space(to->out, NULL, 0);
	if (n == CONN_AGAIN)
		return (0);
	if (n == CONN_ERROR && from == &r->peer) {
		relay_free(r);
		return (-1);
	}
	from->flags |= END_EOF;
	return (0);
}

/*
 * Writes what "to" is owed, as far as its socket takes it. Returns -1
 * when the TLS side failed and r was freed. A session that cannot be
 * written to has closed: nothing more is sent to it, and its last words
 * are still read.
 */
static int
relay_flush(struct relay *r, struct relay_end *to)
{
	ssize_t	 n;
	short	 want;

	while (evbuffer_get_length(to->out) > 0) {
		if ((n = conn_write_buffer(&to->conn, to->out, &want)) > 0)
			continue;
		if (n == 0)
			return (0);
		if (to == &r->peer) {
			relay_free(r);
			return (-1);
		}
		evbuffer_drain(to->out, evbuffer_get_length(to->out));
		to->flags |= END_SHUT;
	}
	return (0);
}

/*
 * The other end is done: the session hears the end of stream and may
 * still answer; the peer gets a close_notify, and then nothing is left
 * to relay. Returns -1 when r was freed.
 */
static int
relay_shut(struct relay *r, struct relay_end *to)
{
	if (to == &r->peer) {
		conn_goodbye(&to->conn, NULL, 0, 1);
		relay_free(r);
		return (-1);
	}
	shutdown(to->conn.fd, SHUT_WR);
	to->flags |= END_SHUT;
	return (0);
}

/* Waits for e to take what it is owed, or to send what can be taken. */
static void
relay_arm(struct relay *r, struct relay_end *e, const struct relay_end *other)
{
	short	 what = 0;

	if (relay_may_read(e, other))
		what |= e->read_want;
	if (evbuffer_get_length(e->out) > 0)
		what |= EV_WRITE;
	event_del(e->ev);
	if (what == 0)
		return;
	event_assign(e->ev, hb_base, e->conn.fd, what, relay_cb, r);
	event_add(e->ev, NULL);
}

static void
relay_free(struct relay *r)
{
	TAILQ_REMOVE(&relays, r, entry);
	relay_end_free(&r->peer);
	relay_end_free(&r->session);
	free(r);
}

static void
relay_end_free(struct relay_end *e)
{
	event_free(e->ev);
	evbuffer_free(e->out);
	conn_free_tls(&e->conn);
	close(e->conn.fd);
}

/* Ends every relay with a close_notify, as the daemon stops. */
void
relay_close_all(void)
{
	struct relay	*r;

	while ((r = TAILQ_FIRST(&relays)) != NULL) {
		conn_goodbye(&r->peer.conn, NULL, 0, 0);
		relay_free(r);
	}
}
