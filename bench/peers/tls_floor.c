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
 * usage: tls_floor [-t SECONDS] CERT KEY PORT   (PEM files; on 127.0.0.1)
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "floor.h"

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
static int		 lfd;		/* the listener */

static void	usage(void) __attribute__((__noreturn__));
static void	ssl_die(const char *) __attribute__((__noreturn__));
static SSL_CTX	*ctx_new(const char *, const char *);
static void	conn_close(int);
static void	conn_want(int, int);
static void	on_event(int);
static void	on_accept(void);
static void	on_handshake(int);
static void	on_read(int);
static size_t	pong(struct conn *, const char *, size_t, char *);

static void
usage(void)
{
	fprintf(stderr, "usage: tls_floor [-t SECONDS] CERT KEY PORT\n");
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

/*
 * Closes fd. What went wrong, if anything, is dropped from the error queue,
 * or SSL_get_error() would blame the next connection's WANT_READ on it.
 */
static void
conn_close(int fd)
{
	struct conn	*c = &conns[fd];

	ERR_clear_error();
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
	floor_watch(EPOLL_CTL_MOD, fd, out ? EPOLLOUT : EPOLLIN);
}

static void
on_event(int fd)
{
	if (fd == lfd)
		on_accept();
	else if (conns[fd].ssl != NULL && conns[fd].ready)
		on_read(fd);
	else if (conns[fd].ssl != NULL)
		on_handshake(fd);
}

/* The handshake waits for the ClientHello's EPOLLIN: no read in vain. */
static void
on_accept(void)
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
		floor_watch(EPOLL_CTL_ADD, fd, EPOLLIN);
		tlist_add(fd);
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
	r = SSL_get_error(c->ssl, r);
	if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
		conn_want(fd, r == SSL_ERROR_WANT_WRITE);
	else
		conn_close(fd);
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
		tlist_touch(fd);
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
	uint64_t	 timeout = 0;
	int		 ch;

	while ((ch = getopt(argc, argv, "t:")) != -1) {
		if (ch != 't')
			usage();
		timeout = floor_seconds(optarg);
	}
	if (optind != argc - 3)
		usage();
	ctx = ctx_new(argv[optind], argv[optind + 1]);
	if ((conns = calloc(floor_init(timeout), sizeof(*conns))) == NULL)
		floor_die("calloc");
	lfd = floor_listen((uint16_t)strtol(argv[optind + 2], NULL, 10));
	floor_loop(on_event, conn_close);
}
