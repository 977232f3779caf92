/*
 * One client connection: the line protocol, the heartbeat timer, the send
 * path with its send_buffer_limit, and client_close(), the only way a
 * client ends.
 *
 * Reads go through one shared buffer and complete lines are handled in
 * place; a client holds memory of its own only for a pending partial line
 * or for output the kernel would not take at once.
 *
 * Heartbeats: every client has the same timeout, so ordering the clients
 * by their last byte orders their deadlines too. A read stamps last_rx and
 * moves the client to the tail of that list; one timer waits for the
 * head's deadline and drops the expired clients from the head, a batch at
 * a time. No client is visited before its deadline, there is no timer
 * heap to keep in order, and a client costs no timer event of its own.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "daemon.h"
#include "events.h"
#include "listener.h"
#include "log.h"
#include "proto.h"
#include "registry.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

static void	client_read_cb(evutil_socket_t, short, void *);
static void	client_write_cb(evutil_socket_t, short, void *);
static void	client_expire_cb(evutil_socket_t, short, void *);
static void	client_expire_arm(uint64_t);
static int	client_line_cb(void *, const char *, size_t);
static int	client_ping(struct client *, const char *, size_t);
static int	client_hello(struct client *, const struct words *);
static int	client_reply(struct client *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static int	client_sendv(struct client *, struct iovec *, int);
static int	client_queue(struct client *, struct iovec *, int, size_t);
static void	client_sent(struct client *, size_t);
static void	client_eof(struct client *);
static void	client_last_words(struct client *, enum hb_reason);
static uint64_t	client_timeout_ns(void);

#define EXPIRE_BATCH	256	/* drops per callback, so reads get a turn */

static uint64_t		 next_id;
static struct client_list by_activity = TAILQ_HEAD_INITIALIZER(by_activity);
static struct event	*expire_ev;

/*
 * Descriptors of the clients dropped in one expiry batch, closed together
 * at its end: back-to-back closes let the peers' wake-ups coalesce, which
 * on loopback costs more than everything else a drop does.
 */
static int		 deferred_fds[EXPIRE_BATCH];
static int		 ndeferred = -1;	/* -1: close at once */

/* Takes a connected, non-blocking socket and registers the client. */
struct client *
client_new(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct client	*c;

	c = xcalloc(1, sizeof(*c));
	c->id = ++next_id;
	c->fd = fd;
	if (salen > sizeof(c->addr))
		salen = sizeof(c->addr);
	memcpy(&c->addr, sa, salen);
	c->connected = c->last_rx = mono_ns();
	c->ev_read = event_new(hb_base, fd, EV_READ | EV_PERSIST,
	    client_read_cb, c);
	if (c->ev_read == NULL)
		fatalx("%s: event_new", __func__);
	event_add(c->ev_read, NULL);
	TAILQ_INSERT_TAIL(&by_activity, c, activity);
	if (expire_ev == NULL || !evtimer_pending(expire_ev, NULL))
		client_expire_arm(client_timeout_ns());
	registry_add(c);
	events_connect(c);
	return (c);
}

static uint64_t
client_timeout_ns(void)
{
	return ((uint64_t)(hb_conf->heartbeat_timeout * 1e9 + 0.5));
}

/* Arms the expiry timer to fire in ns nanoseconds, rounded up. */
static void
client_expire_arm(uint64_t ns)
{
	struct timeval	 tv;

	if (expire_ev == NULL &&
	    (expire_ev = evtimer_new(hb_base, client_expire_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	ns += 999;
	tv.tv_sec = ns / 1000000000ULL;
	tv.tv_usec = (ns % 1000000000ULL) / 1000;
	evtimer_add(expire_ev, &tv);
}

/*
 * Drops the clients whose deadline has passed, oldest first, and waits
 * for the next deadline. libevent's clock is the coarse one and may wake
 * this early: the precise monotonic clock decides, so a client is dropped
 * no sooner than the timeout after its last byte.
 */
static void
client_expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c;
	uint64_t	 now = mono_ns(), timeout = client_timeout_ns();
	int		 i;

	ndeferred = 0;
	while ((c = TAILQ_FIRST(&by_activity)) != NULL) {
		if (c->last_rx + timeout > now) {
			client_expire_arm(c->last_rx + timeout - now);
			break;
		}
		if (ndeferred == EXPIRE_BATCH) {
			client_expire_arm(0);
			break;
		}
		client_close(c, (c->flags & CLIENT_EOF) ? REASON_CLOSED :
		    REASON_TIMEOUT);
	}
	for (i = 0; i < ndeferred; i++)
		close(deferred_fds[i]);
	ndeferred = -1;
}

/* After a reload: every deadline is counted anew from the last byte. */
void
client_rearm_all(void)
{
	if (TAILQ_FIRST(&by_activity) != NULL)
		client_expire_cb(-1, EV_TIMEOUT, NULL);
}

static void
client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static char	 buf[HB_READ_CHUNK];
	struct client	*c = arg;
	ssize_t		 n;
	int		 rv;

	if ((n = recv(fd, buf, sizeof(buf), 0)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_close(c, REASON_RESET);
		return;
	}
	if (n == 0) {
		client_eof(c);
		return;
	}
	c->last_rx = mono_ns();
	if (TAILQ_NEXT(c, activity) != NULL) {
		TAILQ_REMOVE(&by_activity, c, activity);
		TAILQ_INSERT_TAIL(&by_activity, c, activity);
	}
	c->bytes_in += n;
	stats.bytes_in += n;
	rv = linebuf_feed(&c->lb, buf, n, hb_conf->max_line, client_line_cb, c);
	if (rv == LINE_TOOLONG &&
	    client_reply(c, "ERR toolong line exceeds %zu bytes",
	    hb_conf->max_line) == 0)
		client_close(c, REASON_TOOLONG);
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
	if (proto_is(&w, "PING"))
		return (client_ping(c, line, len));
	if (proto_is(&w, "HELLO"))
		return (client_hello(c, &w));
	if (proto_is(&w, "QUIT")) {
		client_close(c, REASON_QUIT);
		return (-1);
	}
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
 * HELLO <name>: names the connection. A name held by another client is
 * taken from it (duplicate_name = replace) or refused (reject).
 */
static int
client_hello(struct client *c, const struct words *w)
{
	char		 name[HB_NAME_MAX + 1];
	const char	*p, *why;
	size_t		 len;
	struct client	*other;

	if (hello_name(w->rest, w->restlen, &p, &len, &why) == -1)
		return (client_reply(c, "ERR badname %s", why));
	memcpy(name, p, len);
	name[len] = '\0';
	if ((other = registry_by_name(name)) != c) {
		if (other != NULL && hb_conf->duplicate_name == DUP_REJECT)
			return (client_reply(c, "ERR taken name in use"));
		if (other != NULL)
			client_close(other, REASON_REPLACED);
		registry_set_name(c, name);
		events_hello(c);
	}
	return (client_reply(c, "OK #%llu", (unsigned long long)c->id));
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
 * common case, and queues what the kernel does not take. Returns 0, or -1
 * when c was closed: a write error, or output over send_buffer_limit.
 */
static int
client_sendv(struct client *c, struct iovec *iov, int iovcnt)
{
	struct msghdr	 msg;
	ssize_t		 n;
	size_t		 left;
	int		 i;

	for (left = 0, i = 0; i < iovcnt; i++)
		left += iov[i].iov_len;
	if (c->outq != NULL && evbuffer_get_length(c->outq) > 0)
		return (client_queue(c, iov, iovcnt, left));
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = iovcnt;
	if ((n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			client_close(c, REASON_RESET);
			return (-1);
		}
		n = 0;
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
	if (c->ev_write == NULL && (c->ev_write = event_new(hb_base, c->fd,
	    EV_WRITE | EV_PERSIST, client_write_cb, c)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(c->ev_write, NULL);
	return (0);
}

static void
client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	int		 n;

	if ((n = evbuffer_write(c->outq, fd)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_close(c, REASON_RESET);
		return;
	}
	client_sent(c, n);
	if (evbuffer_get_length(c->outq) > 0)
		return;
	event_del(c->ev_write);
	if (c->flags & CLIENT_EOF)
		client_close(c, REASON_CLOSED);
}

/*
 * Sends "BYE <reason>" after whatever is queued, with one non-blocking
 * write: a slow peer does not hold the daemon up. MSG_MORE holds the line
 * back for the FIN that close() or shutdown() sends right after, so the
 * goodbye costs the peer one segment, not two. Unless the peer was silent
 * (a timeout), what it sent meanwhile is read first, so that the kernel
 * does not answer close() with a reset that would destroy those words.
 */
static void
client_last_words(struct client *c, enum hb_reason reason)
{
	char	 buf[HB_READ_CHUNK];
	ssize_t	 n;
	int	 i, len;

	len = snprintf(buf, sizeof(buf), "BYE %s\n", reason_names[reason]);
	if (c->outq != NULL && evbuffer_get_length(c->outq) > 0) {
		evbuffer_add(c->outq, buf, len);
		n = evbuffer_write(c->outq, c->fd);
	} else
		n = send(c->fd, buf, len, MSG_MORE | MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	if (n > 0)
		client_sent(c, n);
	if (reason == REASON_TIMEOUT)
		return;
	shutdown(c->fd, SHUT_WR);
	for (i = 0; i < 4; i++) {
		if (recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
	}
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
	TAILQ_REMOVE(&by_activity, c, activity);
	events_disconnect(c, reason);
	event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->outq != NULL)
		evbuffer_free(c->outq);
	linebuf_clear(&c->lb);
	if (ndeferred >= 0 && ndeferred < EXPIRE_BATCH)
		deferred_fds[ndeferred++] = c->fd;
	else
		close(c->fd);
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
	if (expire_ev != NULL) {
		event_free(expire_ev);
		expire_ev = NULL;
	}
}
