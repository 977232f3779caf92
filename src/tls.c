/*
 * The TLS context of the client and admin ports: the certificate, key and
 * CA files of [tls] loaded into one SSL_CTX. A reload builds a new
 * context beside the running one and swaps it in only when the whole
 * config applies; connections keep the context they started with (each
 * SSL holds a reference), new ones get the new one.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf.h"
#include "log.h"
#include "proto.h"
#include "tls.h"
#include "xmalloc.h"

static SSL_CTX	*tls_ctx_new(const struct hb_config *, char **);
static int	 tls_fail(const struct hb_config *, const char *,
		    const char *, char **);
static int	 tls_load_ca(SSL_CTX *, const struct hb_config *, char **);

static SSL_CTX	*current;	/* NULL: no TLS configured */
static SSL_CTX	*next;		/* between prepare and commit */

/*
 * Sets *cause to "FILE: [tls] key: path: reason". The first error queued
 * is the most precise (a missing file's errno, "no start line"); the
 * later ones only say which layer passed it on.
 */
static int
tls_fail(const struct hb_config *conf, const char *key, const char *path,
    char **cause)
{
	unsigned long	 e = ERR_peek_error();
	const char	*why = NULL;

	if (ERR_SYSTEM_ERROR(e))
		why = strerror(ERR_GET_REASON(e));
	else if (e != 0)
		why = ERR_reason_error_string(e);
	if (why == NULL)
		why = "cannot be loaded";
	xasprintf(cause, "%s: [tls] %s: %s: %s", conf->path, key, path, why);
	ERR_clear_error();
	return (-1);
}

/*
 * Client certificates are asked for when verify_client or the auth mode
 * wants them; a handshake fails without one only with "require".
 */
static int
tls_load_ca(SSL_CTX *ctx, const struct hb_config *conf, char **cause)
{
	STACK_OF(X509_NAME)	*names;
	int			 mode = SSL_VERIFY_PEER;

	if (conf->tls_ca == NULL)
		return (0);
	if (SSL_CTX_load_verify_locations(ctx, conf->tls_ca, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(conf->tls_ca)) == NULL)
		return (tls_fail(conf, "ca", conf->tls_ca, cause));
	SSL_CTX_set_client_CA_list(ctx, names);
	if (conf->tls_verify_client == VERIFY_REQUIRE)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	if (conf->tls_verify_client != VERIFY_NO ||
	    conf->auth_mode == AUTH_CERT || conf->auth_mode == AUTH_ANY)
		SSL_CTX_set_verify(ctx, mode, NULL);
	return (0);
}

/*
 * A server context for conf: TLS 1.2 at least, no renegotiation, no
 * compression, record buffers released while a connection is idle, reads
 * ahead (one read per record, not two), and no session cache or tickets:
 * a cache would hold memory for every client, and a ticket costs every
 * full handshake its encryption for a resumption few devices attempt.
 */
static SSL_CTX *
tls_ctx_new(const struct hb_config *conf, char **cause)
{
	SSL_CTX	*ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		fatalx("%s: SSL_CTX_new", __func__);
	SSL_CTX_set_min_proto_version(ctx, conf->tls_min_version);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_read_ahead(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->tls_cert) != 1)
		goto cert;
	if (SSL_CTX_use_PrivateKey_file(ctx, conf->tls_key,
	    SSL_FILETYPE_PEM) != 1)
		goto key;
	if (SSL_CTX_check_private_key(ctx) != 1)
		goto key;
	if (tls_load_ca(ctx, conf, cause) == -1) {
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
cert:
	tls_fail(conf, "cert", conf->tls_cert, cause);
	SSL_CTX_free(ctx);
	return (NULL);
key:
	tls_fail(conf, "key", conf->tls_key, cause);
	SSL_CTX_free(ctx);
	return (NULL);
}

/*
 * Loads conf's certificate, key and CA into a context kept aside until
 * tls_commit(). Returns 0, or -1 with *cause and nothing changed.
 */
int
tls_prepare(const struct hb_config *conf, char **cause)
{
	tls_abort();
	if (conf->tls_cert == NULL)
		return (0);
	if ((next = tls_ctx_new(conf, cause)) == NULL)
		return (-1);
	return (0);
}

/* New connections get the prepared context (or none). */
void
tls_commit(void)
{
	SSL_CTX_free(current);
	current = next;
	next = NULL;
}

void
tls_abort(void)
{
	SSL_CTX_free(next);
	next = NULL;
}

void
tls_free(void)
{
	tls_abort();
	SSL_CTX_free(current);
	current = NULL;
}

/* A server-side TLS state on fd, or NULL when no context is loaded. */
SSL *
tls_accept_new(int fd)
{
	SSL	*ssl;

	if (current == NULL)
		return (NULL);
	ERR_clear_error();
	if ((ssl = SSL_new(current)) == NULL || SSL_set_fd(ssl, fd) != 1)
		fatalx("%s: SSL_new", __func__);
	SSL_set_accept_state(ssl);
	return (ssl);
}

/*
 * The name a verified client certificate proves: its subject CN. Returns
 * 1 with name set, 0 when there is no verified certificate, or -1 when
 * its CN is not a valid client name.
 */
int
tls_peer_name(SSL *ssl, char *name, size_t size)
{
	X509		*cert;
	X509_NAME	*subject;
	ASN1_STRING	*cn;
	const char	*why;
	int		 i, len;

	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK ||
	    (cert = SSL_get0_peer_certificate(ssl)) == NULL)
		return (0);
	subject = X509_get_subject_name(cert);
	if ((i = X509_NAME_get_index_by_NID(subject, NID_commonName,
	    -1)) == -1)
		return (-1);
	cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
	len = ASN1_STRING_length(cn);
	if (len < 0 || (size_t)len >= size || name_check((const char *)
	    ASN1_STRING_get0_data(cn), len, &why) == -1)
		return (-1);
	memcpy(name, ASN1_STRING_get0_data(cn), len);
	name[len] = '\0';
	return (1);
}
