/*
 * Connections that are not clients yet (SPEC §9): a PROXY header still to
 * read, a TLS handshake still to finish, or both, within hello_timeout of
 * the accept. Those of the client port count against max_clients but have
 * no id; once done, admission is decided on the real address and the
 * connection becomes a client, or it is logged as a reject. Those of the
 * admin port are handed to admin.c instead, and are not counted: they
 * are few.
 *
 * Handshakes cost real CPU, so a storm of reconnecting devices must not
 * starve the connected ones: each turn of the loop takes at most
 * PENDING_BUDGET steps, and no more than PENDING_TURN_NS of them, before
 * the clients' reads get their turn again; a connection ready beyond
 * that waits in a queue. Even its TLS state is made only then: SSL_new()
 * costs too much to pay for a whole accept backlog at once.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "client.h"
#include "conn.h"
#include "daemon.h"
#include "events.h"
#include "listener.h"
#include "log.h"
#include "pending.h"
#include "proxy.h"
#include "registry.h"
#include "stats.h"
#include "tls.h"
#include "util.h"
#include "xmalloc.h"

#define PENDING_BUDGET	8	/* steps per turn of the loop */
#define PENDING_TURN_NS	2000000	/* and their time per turn */

struct pending {
	struct conn		 conn;
	struct sockaddr_storage	 addr;		/* peer, or PROXY source */
	socklen_t		 addrlen;
	pending_done_cb		 done;		/* NULL: becomes a client */
	int			 flags;
#define PENDING_PROXY		 0x1		/* its PROXY header is due */
#define PENDING_QUEUED		 0x2		/* in the work queue */
#define PENDING_TLS		 0x4		/* its handshake is due */
	uint64_t		 started;	/* mono ns */
	struct event		*ev;
	unsigned char		*hdr;		/* PROXY bytes read so far */
	size_t			 hdrlen;
	TAILQ_ENTRY(pending)	 entry;		/* oldest first */
	TAILQ_ENTRY(pending)	 work;
};
TAILQ_HEAD(pending_list, pending);

static void	pending_refuse(int, int);
static void	pending_wait(struct pending *, short);
static void	pending_ready_cb(evutil_socket_t, short, void *);
static void	pending_work_arm(void);
static void	pending_work_cb(evutil_socket_t, short, void *);
static void	pending_step(struct pending *);
static int	pending_proxy(struct pending *);
static void	pending_done(struct pending *);
static void	pending_fail(struct pending *, enum hb_reason);
static void	pending_free(struct pending *);
static void	pending_deadline_cb(evutil_socket_t, short, void *);
static void	pending_deadline_arm(void);
static uint64_t	pending_timeout_ns(void);

static struct pending_list	 all = TAILQ_HEAD_INITIALIZER(all);
static struct pending_list	 queue = TAILQ_HEAD_INITIALIZER(queue);
static size_t			 npending;
static int			 spent;		/* steps in this turn */	/* of the client port */
static struct event		*work_ev, *deadline_ev;

size_t
pending_count(void)
{
	return (npending);
}

/*
 * Takes an accepted socket that owes a PROXY header (proxy) or a TLS
 * handshake (tls), or both; once through, it goes to done, or becomes a
 * client when done is NULL. Until a client connection is a client it
 * counts against max_clients, so that a flood of handshakes cannot pass
 * the limit.
 */
void
pending_new(int fd, const struct sockaddr *sa, socklen_t salen, int tls,
    int proxy, pending_done_cb done)
{
	struct pending	*p;

	if (done == NULL) {
		if (registry_count() + npending >= hb_conf->max_clients) {
			pending_refuse(fd, tls);
			events_reject(sa, REASON_FULL);
			return;
		}
		npending++;
	}
	p = xcalloc(1, sizeof(*p));
	p->conn.fd = fd;
	p->done = done;
	if (salen > sizeof(p->addr))
		salen = sizeof(p->addr);
	memcpy(&p->addr, sa, salen);
	p->addrlen = salen;
	p->started = mono_ns();
	if (proxy)
		p->flags |= PENDING_PROXY;
	if (tls)
		p->flags |= PENDING_TLS;
	if ((p->ev = event_new(hb_base, fd, EV_READ, pending_ready_cb,
	    p)) == NULL)
		fatalx("%s: event_new", __func__);
	TAILQ_INSERT_TAIL(&all, p, entry);
	if (deadline_ev == NULL || !evtimer_pending(deadline_ev, NULL))
		pending_deadline_arm();
	pending_wait(p, EV_READ);
}

/*
 * Refused at once, the daemon full: a plain connection gets its "BYE
 * full" (after a PROXY header that is read and dropped, so that close()
 * does not reset it away); a TLS one has no session to say it in.
 */
static void
pending_refuse(int fd, int tls)
{
	struct conn	 conn = { fd, NULL };
	char		 bye[32];
	int		 len;

	if (!tls) {
		len = snprintf(bye, sizeof(bye), "BYE %s\n",
		    reason_names[REASON_FULL]);
		stats.bytes_out += conn_goodbye(&conn, bye, len, 1);
	}
	close(fd);
}

/* Waits until the socket is readable or writable, as want says. */
static void
pending_wait(struct pending *p, short want)
{
	event_del(p->ev);
	event_assign(p->ev, hb_base, p->conn.fd, want, pending_ready_cb, p);
	event_add(p->ev, NULL);
}

/*
 * A connection can go on: at once while this turn's budget lasts and no
 * one waits before it, else at the back of the queue.
 */
static void
pending_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending	*p = arg;

	pending_work_arm();
	if (TAILQ_FIRST(&queue) == NULL && spent < PENDING_BUDGET) {
		spent++;
		pending_step(p);
		return;
	}
	TAILQ_INSERT_TAIL(&queue, p, work);
	p->flags |= PENDING_QUEUED;
}

/*
 * A timer of no delay runs after the next poll: it starts a new turn's
 * budget, and works through the queue with it.
 */
static void
pending_work_arm(void)
{
	struct timeval	 now = { 0, 0 };

	if (work_ev == NULL && (work_ev = evtimer_new(hb_base,
	    pending_work_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (!evtimer_pending(work_ev, NULL))
		evtimer_add(work_ev, &now);
}

static void
pending_work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending	*p;
	uint64_t	 t0 = mono_ns();

	for (spent = 0; spent < PENDING_BUDGET; spent++) {
		if ((p = TAILQ_FIRST(&queue)) == NULL)
			return;
		if (spent > 0 && mono_ns() - t0 > PENDING_TURN_NS)
			break;
		TAILQ_REMOVE(&queue, p, work);
		p->flags &= ~PENDING_QUEUED;
		pending_step(p);
	}
	if (TAILQ_FIRST(&queue) != NULL)
		pending_work_arm();
}

/* Takes the connection as far as the bytes at hand allow. */
static void
pending_step(struct pending *p)
{
	short	 want;
	int	 rv;

	if ((p->flags & PENDING_PROXY) && pending_proxy(p) != 1)
		return;
	if ((p->flags & PENDING_TLS) && p->conn.ssl == NULL &&
	    (p->conn.ssl = tls_accept_new(p->conn.fd)) == NULL) {
		pending_fail(p, REASON_HANDSHAKE);
		return;
	}
	if ((rv = conn_handshake(&p->conn, &want)) == 0)
		pending_wait(p, want);
	else if (rv == -1)
		pending_fail(p, REASON_HANDSHAKE);
	else
		pending_done(p);
}

/*
 * Reads the PROXY header, never a byte past it: what follows belongs to
 * TLS or to the client protocol. The bytes are peeked; a header that is
 * not whole yet is taken out of the socket (all of them belong to it) and
 * kept, so that the socket does not stay readable. Returns 1 when the
 * header is read, 0 when it waits, -1 when p failed and is gone.
 */
static int
pending_proxy(struct pending *p)
{
	struct proxy_hdr	 h;
	const char		*why;
	ssize_t			 n;

	if (p->hdr == NULL)
		p->hdr = xmalloc(PROXY_MAX);
	n = recv(p->conn.fd, p->hdr + p->hdrlen, PROXY_MAX - p->hdrlen,
	    MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		pending_wait(p, EV_READ);
		return (0);
	}
	switch (n <= 0 ? PROXY_BAD : proxy_parse(p->hdr, p->hdrlen + n, &h,
	    &why)) {
	case PROXY_MORE:
		if (recv(p->conn.fd, p->hdr + p->hdrlen, n, 0) != n)
			break;
		p->hdrlen += n;
		pending_wait(p, EV_READ);
		return (0);
	case PROXY_DONE:
		n = h.len - p->hdrlen;
		if (recv(p->conn.fd, p->hdr + p->hdrlen, n, 0) != n)
			break;
		if (!h.local) {
			memcpy(&p->addr, &h.src, h.srclen);
			p->addrlen = h.srclen;
		}
		free(p->hdr);
		p->hdr = NULL;
		p->flags &= ~PENDING_PROXY;
		return (1);
	case PROXY_BAD:
		log_debug("%s: %s", __func__,
		    n <= 0 ? "closed" : why);
		break;
	}
	pending_fail(p, REASON_PROXY);
	return (-1);
}

/*
 * The connection is through: it goes where pending_new() was told, or
 * admission is decided on its real address and it becomes a client. A
 * refused one gets its BYE, inside TLS if on TLS.
 */
static void
pending_done(struct pending *p)
{
	struct conn		 conn = p->conn;
	struct sockaddr_storage	 addr = p->addr;
	socklen_t		 addrlen = p->addrlen;
	pending_done_cb		 done = p->done;
	enum hb_reason		 why;
	char			 bye[32];
	int			 len;

	p->conn.ssl = NULL;
	p->conn.fd = -1;
	pending_free(p);
	if (done != NULL) {
		done(&conn, (struct sockaddr *)&addr, addrlen);
		return;
	}
	if (listener_admit((struct sockaddr *)&addr, &why) == -1) {
		len = snprintf(bye, sizeof(bye), "BYE %s\n", reason_names[why]);
		stats.bytes_out += conn_goodbye(&conn, bye, len, 1);
		conn_free_tls(&conn);
		close(conn.fd);
		events_reject((struct sockaddr *)&addr, why);
		return;
	}
	client_new(&conn, (struct sockaddr *)&addr, addrlen);
}

/* Closes p without a word and logs why: handshake or proxy. */
static void
pending_fail(struct pending *p, enum hb_reason reason)
{
	struct sockaddr_storage	 addr = p->addr;

	pending_free(p);
	events_reject((struct sockaddr *)&addr, reason);
}

static void
pending_free(struct pending *p)
{
	TAILQ_REMOVE(&all, p, entry);
	if (p->done == NULL)
		npending--;
	if (p->flags & PENDING_QUEUED)
		TAILQ_REMOVE(&queue, p, work);
	event_free(p->ev);
	free(p->hdr);
	conn_free_tls(&p->conn);
	if (p->conn.fd != -1)
		close(p->conn.fd);
	free(p);
}

static uint64_t
pending_timeout_ns(void)
{
	return ((uint64_t)(hb_conf->hello_timeout * 1e9 + 0.5));
}

/* Arms the deadline timer for the oldest pending connection. */
static void
pending_deadline_arm(void)
{
	struct pending	*p;
	struct timeval	 tv;
	uint64_t	 now = mono_ns(), due, ns = 0;

	if ((p = TAILQ_FIRST(&all)) == NULL)
		return;
	if (deadline_ev == NULL && (deadline_ev = evtimer_new(hb_base,
	    pending_deadline_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	due = p->started + pending_timeout_ns();
	if (due > now)
		ns = due - now + 999;
	tv.tv_sec = ns / 1000000000ULL;
	tv.tv_usec = (ns % 1000000000ULL) / 1000;
	evtimer_add(deadline_ev, &tv);
}

/* Fails the connections that ran out of hello_timeout, oldest first. */
static void
pending_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending	*p;
	uint64_t	 now = mono_ns(), timeout = pending_timeout_ns();

	while ((p = TAILQ_FIRST(&all)) != NULL &&
	    p->started + timeout <= now)
		pending_fail(p, (p->flags & PENDING_PROXY) ? REASON_PROXY :
		    REASON_HANDSHAKE);
	pending_deadline_arm();
}

/* After a reload: hello_timeout may have changed. */
void
pending_rearm(void)
{
	if (TAILQ_FIRST(&all) != NULL)
		pending_deadline_cb(-1, EV_TIMEOUT, NULL);
}

/* Closes every pending connection quietly, as the daemon stops. */
void
pending_close_all(void)
{
	struct pending	*p;

	while ((p = TAILQ_FIRST(&all)) != NULL)
		pending_free(p);
	if (work_ev != NULL)
		event_free(work_ev);
	if (deadline_ev != NULL)
		event_free(deadline_ev);
	work_ev = deadline_ev = NULL;
}
