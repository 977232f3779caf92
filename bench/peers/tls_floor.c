/*
 * tls_floor: the TLS floor of bench/run, epoll_floor's PING -> PONG loop
 * over OpenSSL and nothing else. An accepted socket gets an SSL in server
 * mode on its raw fd; SSL_accept() runs from the same level-triggered loop
 * until the handshake is done. After it, an event is SSL_read()s until
 * OpenSSL holds nothing more (read-ahead: one read(2) takes every record
 * that has arrived), and the PONGs of each SSL_read() go out in one
 * SSL_write(): a line that starts with "PING" is answered "PONG" and the
 * rest of the line, byte for byte, with no allocation per message. A write
 * not taken whole closes the connection, as in epoll_floor.
 *
 * It is the least a TLS server can do, so its settings are the cheapest
 * ones the contract allows: TLS 1.2 at least, no renegotiation, no
 * compression, no session cache and no tickets (every handshake is a full
 * one and nothing is sent after it), and buffers released while a
 * connection is idle (SSL_MODE_RELEASE_BUFFERS): a held connection costs
 * what OpenSSL itself keeps.
 *
 * With -t SECONDS a connection silent that long is closed, without a word,
 * by floor.c's list. Handshakes in progress are on it too.
 *
 * usage: tls_floor [-t SECONDS] -c CERT -k KEY PORT   (on 127.0.0.1)
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "floor.h"

#define MAX_EVENTS	256
#define READ_SIZE	16384		/* a whole TLS record's plaintext */

struct conn {
	SSL		*ssl;		/* NULL: not open */
	uint8_t		 ready;		/* the handshake is done */
	uint8_t		 out;		/* waiting for EPOLLOUT */
	uint8_t		 pos;		/* bytes of the line so far, up to 4 */
	uint8_t		 ping;		/* the line so far matches "PING" */
};

static struct conn	*conns;
static SSL_CTX		*ctx;
static int		 epfd;
static uint64_t		 now;

static void	usage(void) __attribute__((__noreturn__));
static void	ssl_die(const char *) __attribute__((__noreturn__));
static SSL_CTX	*ctx_new(const char *, const char *);
static void	conn_close(int);
static void	conn_want(int, int);
static void	on_accept(int);
static void	on_handshake(int);
static void	on_read(int);
static size_t	pong(struct conn *, const char *, size_t, char *);

static void
usage(void)
{
	fprintf(stderr, "usage: tls_floor [-t SECONDS] -c CERT -k KEY PORT\n");
	exit(2);
}

static void
ssl_die(const char *what)
{
	fprintf(stderr, "tls_floor: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static SSL_CTX *
ctx_new(const char *cert, const char *key)
{
	SSL_CTX	*c;

	if ((c = SSL_CTX_new(TLS_server_method())) == NULL)
		ssl_die("SSL_CTX_new");
	if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1)
		ssl_die("TLS 1.2");
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(c, 0);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(c, 1);
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1)
		ssl_die(cert);
	if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c) != 1)
		ssl_die(key);
	return (c);
}

static void
conn_close(int fd)
{
	struct conn	*c = &conns[fd];

	tlist_remove(fd);
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(fd);
}

/* Waits for EPOLLOUT (out) or EPOLLIN, with no syscall when it already is. */
static void
conn_want(int fd, int out)
{
	if (conns[fd].out == out)
		return;
	conns[fd].out = out;
	floor_watch(epfd, EPOLL_CTL_MOD, fd, out ? EPOLLOUT : EPOLLIN);
}

/* The handshake waits for the ClientHello's EPOLLIN: no read in vain. */
static void
on_accept(int lfd)
{
	struct conn	*c;
	int		 fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) != -1) {
		c = &conns[fd];
		memset(c, 0, sizeof(*c));
		if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl,
		    fd) != 1)
			ssl_die("SSL_new");
		SSL_set_accept_state(c->ssl);
		floor_watch(epfd, EPOLL_CTL_ADD, fd, EPOLLIN);
		tlist_add(fd, now);
	}
}

/*
 * One step of the handshake. The client's first line may have come with
 * its Finished and already sit in OpenSSL's buffer, where no epoll event
 * will announce it: it is read at once.
 */
static void
on_handshake(int fd)
{
	struct conn	*c = &conns[fd];
	int		 r;

	if ((r = SSL_accept(c->ssl)) == 1) {
		c->ready = 1;
		conn_want(fd, 0);
		if (SSL_has_pending(c->ssl))
			on_read(fd);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		conn_want(fd, 0);
		break;
	case SSL_ERROR_WANT_WRITE:
		conn_want(fd, 1);
		break;
	default:
		conn_close(fd);
	}
}

/* Each SSL_read()'s PONGs in one SSL_write, until OpenSSL holds no more. */
static void
on_read(int fd)
{
	static char	 in[READ_SIZE], out[READ_SIZE];
	struct conn	*c = &conns[fd];
	size_t		 o;
	int		 n, got = 0;

	do {
		if ((n = SSL_read(c->ssl, in, sizeof(in))) <= 0) {
			if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ)
				break;
			conn_close(fd);
			return;
		}
		got = 1;
		o = pong(c, in, n, out);
		if (o > 0 && SSL_write(c->ssl, out, (int)o) != (int)o) {
			conn_close(fd);
			return;
		}
	} while (SSL_has_pending(c->ssl));
	if (got)
		tlist_touch(fd, now);
}

/*
 * Copies the answer to in[0..n) to out, which has room for n bytes: every
 * line that starts with "PING" comes back with "PONG" in its place, other
 * lines not at all. Lines may be split across calls. Returns the bytes.
 */
static size_t
pong(struct conn *c, const char *in, size_t n, char *out)
{
	size_t	 i, o = 0;

	for (i = 0; i < n; i++) {
		if (c->pos == 4) {
			if (c->ping)
				out[o++] = in[i];
			if (in[i] == '\n')
				c->pos = 0;
			continue;
		}
		if (in[i] == '\n') {
			c->pos = 0;
			continue;
		}
		if (c->pos == 0)
			c->ping = 1;
		if (in[i] != "PING"[c->pos])
			c->ping = 0;
		if (++c->pos == 4 && c->ping) {
			memcpy(out + o, "PONG", 4);
			o += 4;
		}
	}
	return (o);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 ev[MAX_EVENTS];
	const char		*cert = NULL, *key = NULL;
	char			*end;
	double			 t;
	uint64_t		 timeout = 0;
	int			 ch, lfd, fd, i, n, nfd, wait = -1;

	while ((ch = getopt(argc, argv, "c:k:t:")) != -1) {
		switch (ch) {
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 't':
			t = strtod(optarg, &end);
			if (*end != '\0' || t <= 0 || t > 86400)
				usage();
			timeout = (uint64_t)(t * 1e9);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || cert == NULL || key == NULL)
		usage();
	ctx = ctx_new(cert, key);
	nfd = floor_fd_limit();
	if ((conns = calloc(nfd, sizeof(*conns))) == NULL)
		floor_die("calloc");
	tlist_init(nfd, timeout);
	signal(SIGPIPE, SIG_IGN);

	if ((epfd = epoll_create1(0)) == -1)
		floor_die("epoll_create1");
	lfd = floor_listen(epfd, (uint16_t)strtol(argv[optind], NULL, 10));

	for (;;) {
		if ((n = epoll_wait(epfd, ev, MAX_EVENTS, wait)) == -1) {
			if (errno == EINTR)
				continue;
			floor_die("epoll_wait");
		}
		if (tlist_on())
			now = floor_mono_ns();
		for (i = 0; i < n; i++) {
			fd = ev[i].data.fd;
			if (fd == lfd)
				on_accept(fd);
			else if (conns[fd].ssl != NULL && conns[fd].ready)
				on_read(fd);
			else if (conns[fd].ssl != NULL)
				on_handshake(fd);
		}
		wait = tlist_expire(now, conn_close);
	}
}
