/*
 * The transport under a connection: reads, writes, the handshake and the
 * goodbye, for plain sockets and for TLS, which calls OpenSSL directly on
 * the socket (no bufferevent_openssl, whose 2.1 release mishandles
 * OpenSSL 3's unexpected EOF and doubles the buffers).
 *
 * Every OpenSSL call starts with an empty error queue and leaves one
 * behind when it fails: the queue is per thread, and an error left in it
 * would be taken by SSL_get_error() for the next connection's.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "heartbeatd.h"

#define TLS_RECORD_MAX	16384	/* plaintext bytes in one TLS record */
#define GOODBYE_READS	4	/* reads of what the peer sent meanwhile */

/* How one kind of transport moves bytes. */
struct conn_ops {
	ssize_t	 (*read)(struct conn *, void *, size_t, short *);
	ssize_t	 (*write)(struct conn *, const struct iovec *, int, short *);
	ssize_t	 (*write_buffer)(struct conn *, struct evbuffer *, short *);
	ssize_t	 (*last_line)(struct conn *, const char *, size_t);
};

static ssize_t	plain_read(struct conn *, void *, size_t, short *);
static ssize_t	plain_write(struct conn *, const struct iovec *, int, short *);
static ssize_t	plain_write_buffer(struct conn *, struct evbuffer *, short *);
static ssize_t	plain_last_line(struct conn *, const char *, size_t);
static ssize_t	tls_read(struct conn *, void *, size_t, short *);
static ssize_t	tls_write(struct conn *, const struct iovec *, int, short *);
static ssize_t	tls_write_buffer(struct conn *, struct evbuffer *, short *);
static ssize_t	tls_last_line(struct conn *, const char *, size_t);
static ssize_t	tls_write_bytes(struct conn *, const void *, size_t, short *);
static ssize_t	tls_result(struct conn *, int, short *);
static int	io_again(void);

static const struct conn_ops plain_ops = {
	plain_read, plain_write, plain_write_buffer, plain_last_line
};
static const struct conn_ops tls_ops = {
	tls_read, tls_write, tls_write_buffer, tls_last_line
};

#define OPS(c)	((c)->ssl == NULL ? &plain_ops : &tls_ops)

static int
io_again(void)
{
	return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

/*
 * Reads up to len bytes. Returns the count, 0 at the end of the stream,
 * CONN_AGAIN with *want set, or CONN_ERROR.
 */
ssize_t
conn_read(struct conn *c, void *buf, size_t len, short *want)
{
	return (OPS(c)->read(c, buf, len, want));
}

/*
 * Writes what the socket takes now. Returns the bytes written, maybe 0
 * (then *want says when to retry), or CONN_ERROR. A TLS write that
 * stopped short must be retried with the same bytes first, at least as
 * many: the output queue keeps them in order, so it is.
 */
ssize_t
conn_writev(struct conn *c, const struct iovec *iov, int iovcnt,
    short *want)
{
	return (OPS(c)->write(c, iov, iovcnt, want));
}

/* Writes from the front of buf and drains what went out; as above. */
ssize_t
conn_write_buffer(struct conn *c, struct evbuffer *buf, short *want)
{
	return (OPS(c)->write_buffer(c, buf, want));
}

/*
 * Runs the TLS handshake on. Returns 1 when it is done, 0 when it waits
 * for *want, or -1 when it failed. A plain connection has none.
 */
int
conn_handshake(struct conn *c, short *want)
{
	ssize_t	 rv;

	if (c->ssl == NULL)
		return (1);
	ERR_clear_error();
	if ((rv = SSL_do_handshake(c->ssl)) == 1)
		return (1);
	rv = tls_result(c, rv, want);
	return (rv == CONN_AGAIN ? 0 : -1);
}

/*
 * The last words on a connection, best effort and without waiting: line
 * (if not NULL) and, on TLS, a close_notify. With linger the sending side
 * is shut and what the peer sent meanwhile is read, so that the kernel
 * does not answer close() with a reset that would destroy those words.
 * Returns the bytes of line written.
 */
ssize_t
conn_goodbye(struct conn *c, const char *line, size_t len, int linger)
{
	char	 buf[HB_READ_CHUNK];
	ssize_t	 n = 0;
	int	 i;

	if (line != NULL)
		n = OPS(c)->last_line(c, line, len);
	if (c->ssl != NULL) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	if (!linger)
		return (n > 0 ? n : 0);
	shutdown(c->fd, SHUT_WR);
	for (i = 0; i < GOODBYE_READS; i++) {
		if (recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
	}
	return (n > 0 ? n : 0);
}

/*
 * Whether TLS holds bytes read ahead from the socket: they wake no poll,
 * so a reader must go on while there are some.
 */
int
conn_pending(const struct conn *c)
{
	return (c->ssl != NULL && SSL_has_pending(c->ssl));
}

/* Frees the TLS state; the socket is the caller's to close. */
void
conn_free_tls(struct conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
}

static ssize_t
plain_read(struct conn *c, void *buf, size_t len, short *want)
{
	ssize_t	 n;

	if ((n = recv(c->fd, buf, len, 0)) >= 0)
		return (n);
	if (!io_again())
		return (CONN_ERROR);
	*want = EV_READ;
	return (CONN_AGAIN);
}

static ssize_t
plain_write(struct conn *c, const struct iovec *iov, int iovcnt,
    short *want)
{
	struct msghdr	 msg;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = iovcnt;
	if ((n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT)) >= 0)
		return (n);
	if (!io_again())
		return (CONN_ERROR);
	*want = EV_WRITE;
	return (0);
}

static ssize_t
plain_write_buffer(struct conn *c, struct evbuffer *buf, short *want)
{
	int	 n;

	if ((n = evbuffer_write(buf, c->fd)) >= 0)
		return (n);
	if (!io_again())
		return (CONN_ERROR);
	*want = EV_WRITE;
	return (0);
}

/*
 * MSG_MORE holds the line back for the FIN that close() or shutdown()
 * sends right after, so a goodbye costs the peer one segment, not two.
 */
static ssize_t
plain_last_line(struct conn *c, const char *line, size_t len)
{
	return (send(c->fd, line, len, MSG_MORE | MSG_NOSIGNAL |
	    MSG_DONTWAIT));
}

/* Turns a failed SSL call's return value into CONN_AGAIN, 0 or an error. */
static ssize_t
tls_result(struct conn *c, int rv, short *want)
{
	int	 error = SSL_get_error(c->ssl, rv);

	switch (error) {
	case SSL_ERROR_WANT_READ:
		*want = EV_READ;
		return (CONN_AGAIN);
	case SSL_ERROR_WANT_WRITE:
		*want = EV_WRITE;
		return (CONN_AGAIN);
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && io_again()) {
			*want = EV_READ;
			return (CONN_AGAIN);
		}
		/* FALLTHROUGH */
	default:
		ERR_clear_error();
		return (CONN_ERROR);
	}
}

/*
 * A closed stream without close_notify also reads as 0: tls.c sets
 * SSL_OP_IGNORE_UNEXPECTED_EOF, since devices drop off without one.
 */
static ssize_t
tls_read(struct conn *c, void *buf, size_t len, short *want)
{
	int	 n;

	ERR_clear_error();
	if ((n = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX :
	    (int)len)) > 0)
		return (n);
	return (tls_result(c, n, want));
}

/*
 * SSL_write takes one buffer: small vectors (a PONG, a reply) are
 * gathered into one record, larger ones go a vector at a time.
 */
static ssize_t
tls_write(struct conn *c, const struct iovec *iov, int iovcnt, short *want)
{
	char	 buf[TLS_RECORD_MAX];
	size_t	 len = 0;
	int	 i;

	if (iovcnt == 1)
		return (tls_write_bytes(c, iov[0].iov_base, iov[0].iov_len,
		    want));
	for (i = 0; i < iovcnt; i++) {
		if (len + iov[i].iov_len > sizeof(buf))
			break;
		memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	if (i == 0)
		return (tls_write_bytes(c, iov[0].iov_base, iov[0].iov_len,
		    want));
	return (tls_write_bytes(c, buf, len, want));
}

/*
 * Record after record from the front of buf, each made contiguous, until
 * the socket takes no more: a retry after a short write offers at least
 * the bytes offered before, as OpenSSL requires.
 */
static ssize_t
tls_write_buffer(struct conn *c, struct evbuffer *buf, short *want)
{
	size_t		 len;
	unsigned char	*p;
	ssize_t		 n, total = 0;

	while ((len = evbuffer_get_length(buf)) > 0) {
		if (len > TLS_RECORD_MAX)
			len = TLS_RECORD_MAX;
		if ((p = evbuffer_pullup(buf, len)) == NULL)
			break;
		if ((n = tls_write_bytes(c, p, len, want)) == CONN_ERROR)
			return (CONN_ERROR);
		if (n == 0)
			break;
		evbuffer_drain(buf, n);
		total += n;
	}
	return (total);
}

/*
 * With renegotiation off a server's write never waits to read; if one
 * did, retrying on writability would spin, so that counts as an error.
 */
static ssize_t
tls_write_bytes(struct conn *c, const void *p, size_t len, short *want)
{
	ssize_t	 rv;
	int	 n;

	if (len == 0)
		return (0);
	ERR_clear_error();
	if ((n = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX :
	    (int)len)) > 0)
		return (n);
	rv = tls_result(c, n, want);
	if (rv == CONN_AGAIN && *want == EV_WRITE)
		return (0);
	return (CONN_ERROR);
}

static ssize_t
tls_last_line(struct conn *c, const char *line, size_t len)
{
	short	 want;

	return (tls_write_bytes(c, line, len, &want));
}
