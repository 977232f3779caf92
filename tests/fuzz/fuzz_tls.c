/*
 * libFuzzer harness for the TLS read path of a client connection: the
 * daemon's own server context (tls.c, with a certificate made in-process
 * at startup, and client certificates asked for) on memory BIOs, driven
 * by conn.c's handshake and read calls as pending.c and client.c drive
 * them, with whatever plaintext comes out fed to the client line framing
 * and every line answered through conn.c's write path.
 *
 * Input: byte 0 seeds the chunk sizes, byte 1 holds the knobs below, the
 * rest is cut into chunks. By default the chunks are the client's flights
 * of TLS records, straight into the server's read BIO: a ClientHello and,
 * under TLS 1.2, a certificate that the server parses before any secret
 * is needed. With KNOB_SESSION an in-process client first completes a
 * real handshake, and the chunks are plaintext that it sends (with
 * KNOB_INJECT, some go raw between its records instead): whatever
 * conn_read() returns must then be what the client sent, in order.
 *
 * conn.c reads and writes through c->ssl alone; only its goodbye touches
 * the socket, and only with linger. So the daemon's SSL, made by
 * tls_accept_new() on no socket, works on memory BIOs unchanged.
 */

#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conn.h"
#include "daemon.h"
#include "heartbeatd.h"
#include "proto.h"
#include "tls.h"
#include "xmalloc.h"

#include "fuzz_common.h"

#define KNOB_SESSION	0x01	/* a real client handshakes first */
#define KNOB_TLS12	0x02	/* that client stops at TLS 1.2 */
#define KNOB_CERT	0x04	/* and shows the test certificate */
#define KNOB_INJECT	0x08	/* some chunks go raw, past the client */
#define KNOB_MAX_LINE	0x30	/* >> 4: index into max_lines */
#define KNOB_BUFFER	0x40	/* answers by conn_write_buffer() */
#define KNOB_CLOSE	0x80	/* the client ends with a close_notify */

#define CERT_NAME	"fuzz-device"
#define HANDSHAKE_ROUNDS 8	/* flights a real handshake takes, at most */

static const size_t max_lines[4] = { 16, 64, 1024, 4096 };

/* One connection: the server's end as the daemon holds it, and a peer. */
struct session {
	struct conn	 server;	/* fd -1, ssl on in and out */
	BIO		*in;		/* what the server reads */
	BIO		*out;		/* what the server writes */
	SSL		*client;	/* the real client, or NULL */
	int		 closed;	/* the server's read ended */
	int		 injected;	/* raw bytes passed the client */
	uint8_t		 knobs;
	struct linebuf	 lb;
	struct evbuffer	*outq;		/* answers (KNOB_BUFFER) */
	uint8_t		*sent;		/* what the client sent */
	size_t		 nsent;
	size_t		 ngot;		/* bytes conn_read() gave */
};

static EVP_PKEY	*test_key;
static X509	*test_cert;
static SSL_CTX	*client_ctx;

/* Aborts when a conn.c call left an error behind for the next one. */
static void
check_errors(const char *call)
{
	unsigned long	 e;

	if ((e = ERR_peek_error()) != 0)
		fuzz_fail("%s left an OpenSSL error queued: %s", call,
		    ERR_error_string(e, NULL));
}

/* A self-signed P-256 certificate for CERT_NAME, made in memory. */
static void
make_identity(void)
{
	X509_NAME	*name;

	if ((test_key = EVP_EC_gen("P-256")) == NULL ||
	    (test_cert = X509_new()) == NULL)
		fuzz_fail("EVP_EC_gen or X509_new failed");
	name = X509_get_subject_name(test_cert);
	if (X509_set_version(test_cert, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(test_cert), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(test_cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(test_cert), 86400L * 3650) ==
	    NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)CERT_NAME, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(test_cert, name) != 1 ||
	    X509_set_pubkey(test_cert, test_key) != 1 ||
	    X509_sign(test_cert, test_key, EVP_sha256()) == 0)
		fuzz_fail("cannot make the test certificate");
}

/* The PEM of the test certificate (key unset) or key, as a file path. */
static char *
identity_file(int key)
{
	BIO	*bio;
	char	*pem, *path;
	long	 len;
	int	 ok;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		fuzz_fail("BIO_new failed");
	ok = key ? PEM_write_bio_PrivateKey(bio, test_key, NULL, NULL, 0,
	    NULL, NULL) : PEM_write_bio_X509(bio, test_cert);
	if (ok != 1 || (len = BIO_get_mem_data(bio, &pem)) <= 0)
		fuzz_fail("cannot write the test identity");
	path = fuzz_temp_file(pem, len, NULL);
	BIO_free(bio);
	return (path);
}

/*
 * The daemon's TLS context as [tls] would make it: the test certificate
 * and key, and client certificates asked for and checked against it. tls.c
 * reads files, so they are memory files.
 */
static void
server_context(void)
{
	char	*cause;

	hb_conf->tls_cert = identity_file(0);
	hb_conf->tls_key = identity_file(1);
	hb_conf->tls_ca = xstrdup(hb_conf->tls_cert);
	hb_conf->tls_verify_client = VERIFY_OPTIONAL;
	if (tls_prepare(hb_conf, &cause) == -1)
		fuzz_fail("%s", cause);
	tls_commit();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	free(fuzz_init());
	make_identity();
	server_context();
	if ((client_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		fuzz_fail("SSL_CTX_new failed");
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	return (0);
}

/* Moves what one memory BIO holds into another (NULL: drops it). */
static void
shuttle(BIO *from, BIO *to)
{
	char	 buf[4096];
	int	 n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
		if (to != NULL && BIO_write(to, buf, n) != n)
			fuzz_fail("BIO_write failed");
	}
}

/* Answers a line as a client would be answered, through conn.c. */
static int
answer(struct session *s, const char *line, size_t len)
{
	struct iovec	 iov[2];
	ssize_t		 n;
	short		 want;

	iov[0].iov_base = (void *)line;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	if (!(s->knobs & KNOB_BUFFER)) {
		n = conn_writev(&s->server, iov, 2, &want);
		check_errors("conn_writev");
		return (n == CONN_ERROR ? -1 : 0);
	}
	evbuffer_add(s->outq, line, len);
	evbuffer_add(s->outq, "\n", 1);
	while (evbuffer_get_length(s->outq) > 0) {
		n = conn_write_buffer(&s->server, s->outq, &want);
		check_errors("conn_write_buffer");
		if (n <= 0)
			return (-1);
	}
	return (0);
}

/* Each framed line is parsed as client.c would, then answered. */
static int
framed_line(void *arg, const char *line, size_t len)
{
	struct session	*s = arg;
	struct words	 w;
	struct hello	 h;
	const char	*why;

	proto_split(line, len, &w);
	if (proto_is(&w, "HELLO"))
		(void)hello_parse(w.rest, w.restlen, &h, &why);
	if (answer(s, line, len) == -1) {
		s->closed = 1;
		return (-1);
	}
	return (0);
}

/*
 * Reads what the server can as client_read_cb() does, into the line
 * framing. Every byte must be one the client sent, in its order. Returns
 * the last conn_read() result, or CONN_ERROR once the server stopped.
 */
static ssize_t
server_read(struct session *s)
{
	static char	 buf[HB_READ_CHUNK];
	ssize_t		 n;
	short		 want;

	while (!s->closed) {
		n = conn_read(&s->server, buf, sizeof(buf), &want);
		check_errors("conn_read");
		if (n <= 0) {
			if (n != CONN_AGAIN)
				s->closed = 1;
			return (n);
		}
		if (s->client != NULL && (s->ngot + n > s->nsent ||
		    memcmp(s->sent + s->ngot, buf, n) != 0))
			fuzz_fail("conn_read returned %zd bytes the client did "
			    "not send", n);
		s->ngot += n;
		if (linebuf_feed(&s->lb, buf, n, hb_conf->max_line, framed_line,
		    s) == LINE_TOOLONG)
			s->closed = 1;
	}
	return (CONN_ERROR);
}

/* The server's handshake step, as pending_step() takes it. */
static int
server_handshake(struct session *s)
{
	short	 want;
	int	 rv;

	rv = conn_handshake(&s->server, &want);
	check_errors("conn_handshake");
	if (rv == 0 && want != EV_READ)
		fuzz_fail("a handshake on memory BIOs waits to write");
	return (rv);
}

/*
 * Runs a real handshake between the in-process client and the server;
 * it must succeed, and a client certificate must name the connection as
 * it would in [auth] mode cert.
 */
static void
handshake(struct session *s)
{
	char	 name[HB_NAME_MAX + 1];
	int	 i, rv = 0, want_name;

	for (i = 0; i < HANDSHAKE_ROUNDS &&
	    (rv != 1 || !SSL_is_init_finished(s->client)); i++) {
		(void)SSL_do_handshake(s->client);
		ERR_clear_error();
		shuttle(SSL_get_wbio(s->client), s->in);
		if ((rv = server_handshake(s)) == -1)
			fuzz_fail("a real client's handshake failed");
		shuttle(s->out, SSL_get_rbio(s->client));
	}
	if (rv != 1 || !SSL_is_init_finished(s->client))
		fuzz_fail("no handshake in %d rounds", HANDSHAKE_ROUNDS);
	want_name = (s->knobs & KNOB_CERT) ? 1 : 0;
	if (tls_peer_name(s->server.ssl, name, sizeof(name)) != want_name ||
	    (want_name && strcmp(name, CERT_NAME) != 0))
		fuzz_fail("the client certificate %s not name the connection",
		    want_name ? "does" : "should");
}

/* The client's side of a session: its own SSL on memory BIOs. */
static void
client_new_session(struct session *s)
{
	BIO	*in, *out;

	if ((s->client = SSL_new(client_ctx)) == NULL ||
	    (in = BIO_new(BIO_s_mem())) == NULL ||
	    (out = BIO_new(BIO_s_mem())) == NULL)
		fuzz_fail("SSL_new or BIO_new failed");
	SSL_set_bio(s->client, in, out);
	SSL_set_connect_state(s->client);
	if ((s->knobs & KNOB_TLS12) &&
	    SSL_set_max_proto_version(s->client, TLS1_2_VERSION) != 1)
		fuzz_fail("SSL_set_max_proto_version failed");
	if ((s->knobs & KNOB_CERT) &&
	    (SSL_use_certificate(s->client, test_cert) != 1 ||
	    SSL_use_PrivateKey(s->client, test_key) != 1))
		fuzz_fail("cannot give the client its certificate");
}

/* The client sends chunk as plaintext, or raw when injected. */
static void
client_send(struct session *s, const uint8_t *chunk, size_t n, int raw)
{
	if (raw) {
		BIO_write(s->in, chunk, n);
		s->injected = 1;
		return;
	}
	if (SSL_write(s->client, chunk, n) != (int)n)
		fuzz_fail("the client's SSL_write failed");
	s->sent = xreallocarray(s->sent, s->nsent + n, 1);
	memcpy(s->sent + s->nsent, chunk, n);
	s->nsent += n;
	shuttle(SSL_get_wbio(s->client), s->in);
}

/* The client reads what the server answered, and drops it. */
static void
client_drain(struct session *s)
{
	char	 buf[4096];

	shuttle(s->out, SSL_get_rbio(s->client));
	while (SSL_read(s->client, buf, sizeof(buf)) > 0)
		;
	ERR_clear_error();
}

/* A real client's session: handshake, then the chunks as its plaintext. */
static void
run_session(struct session *s, struct fuzz_in *in)
{
	const uint8_t	*chunk;
	size_t		 n;
	int		 raw;

	client_new_session(s);
	handshake(s);
	while (!s->closed && (n = fuzz_in_chunk(in, &chunk)) > 0) {
		raw = (s->knobs & KNOB_INJECT) && fuzz_in_rand(in) % 4 == 0;
		client_send(s, chunk, n, raw);
		server_read(s);
		client_drain(s);
	}
	if (s->closed || !(s->knobs & KNOB_CLOSE))
		return;
	(void)SSL_shutdown(s->client);
	ERR_clear_error();
	shuttle(SSL_get_wbio(s->client), s->in);
	if (server_read(s) != 0 && !s->injected)
		fuzz_fail("a close_notify did not end the stream");
}

/* The chunks are the client's flights, whatever they hold. */
static void
run_raw(struct session *s, struct fuzz_in *in)
{
	const uint8_t	*chunk;
	size_t		 n;
	int		 rv = 0;

	while (rv == 0 && (n = fuzz_in_chunk(in, &chunk)) > 0) {
		BIO_write(s->in, chunk, n);
		rv = server_handshake(s);
		shuttle(s->out, NULL);
	}
	if (rv == 1)
		server_read(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session	 s;
	struct fuzz_in	 in;

	memset(&s, 0, sizeof(s));
	fuzz_in_init(&in, data, size);
	s.knobs = fuzz_in_byte(&in);
	hb_conf->max_line = max_lines[(s.knobs & KNOB_MAX_LINE) >> 4];
	if ((s.outq = evbuffer_new()) == NULL ||
	    (s.in = BIO_new(BIO_s_mem())) == NULL ||
	    (s.out = BIO_new(BIO_s_mem())) == NULL)
		fuzz_fail("evbuffer_new or BIO_new failed");
	s.server.fd = -1;
	if ((s.server.ssl = tls_accept_new(-1)) == NULL)
		fuzz_fail("no TLS context");
	SSL_set_bio(s.server.ssl, s.in, s.out);
	if (s.knobs & KNOB_SESSION)
		run_session(&s, &in);
	else
		run_raw(&s, &in);
	if (!s.closed) {
		conn_goodbye(&s.server, "BYE closed\n", 11, 0);
		check_errors("conn_goodbye");
	}
	conn_free_tls(&s.server);
	SSL_free(s.client);
	linebuf_clear(&s.lb);
	evbuffer_free(s.outq);
	free(s.sent);
	return (0);
}
