/*
 * Client tokens (SPEC §9): "v1.<expiry>.<mac>", the MAC a lower-case hex
 * HMAC-SHA256 of "v1.<name>.<expiry>" keyed with the [auth] secret, so a
 * backend can mint them with any standard library. No sockets, no loop.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "token.h"
#include "xmalloc.h"

#define TOKEN_PREFIX	"v1."
#define TOKEN_PREFIXLEN	(sizeof(TOKEN_PREFIX) - 1)
#define TOKEN_EXPIRYLEN	20	/* decimal digits of UINT64_MAX */
#define TOKEN_MACLEN	64	/* hex digits of an HMAC-SHA256 */

static void		 token_mac(const struct hb_secret *, const char *,
			    const char *, int, char *);
static int		 parse_expiry(const char *, size_t, uint64_t *);
static const char	*token_check(const struct hb_secret *,
			    const char *, const char *, size_t, uint64_t);

static const char	 hexdigits[] = "0123456789abcdef";

int
token_secret_parse(const char *hex, struct hb_secret *s, const char **why)
{
	size_t	 i, n = strlen(hex);

	if (strspn(hex, "0123456789abcdefABCDEF") != n)
		*why = "not hex";
	else if (n % 2 != 0)
		*why = "odd number of hex digits";
	else if (n < 2 * TOKEN_SECRET_MIN)
		*why = "too short (64 hex digits at least)";
	else if (n > 2 * TOKEN_SECRET_MAX)
		*why = "too long";
	else {
		for (i = 0; i < n / 2; i++)
			s->key[i] = OPENSSL_hexchar2int(hex[2 * i]) << 4 |
			    OPENSSL_hexchar2int(hex[2 * i + 1]);
		s->len = n / 2;
		return (0);
	}
	return (-1);
}

/*
 * The line end and the blanks around the key are dropped, as inih drops
 * them around a "secret =" value, so that a key pasted by an editor reads
 * the same.
 */
int
token_secret_load(const char *path, struct hb_secret *s, char **cause)
{
	FILE		*f;
	char		*line = NULL, *key, *end;
	size_t		 size = 0;
	ssize_t		 n;
	const char	*why = NULL;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if ((n = getline(&line, &size, f)) == -1)
		why = ferror(f) ? strerror(errno) : "empty";
	else if (strlen(line) != (size_t)n)
		why = "not hex";	/* a NUL would cut the key short */
	else {
		key = line + strspn(line, " \t");
		for (end = line + n; end > key && strchr(" \t\r\n", end[-1]);)
			*--end = '\0';
		if (*key == '\0')
			why = "empty";
		else
			token_secret_parse(key, s, &why);
	}
	if (why != NULL)
		xasprintf(cause, "%s: %s", path, why);
	if (line != NULL)
		OPENSSL_cleanse(line, size);
	free(line);
	fclose(f);
	return (why == NULL ? 0 : -1);
}

/*
 * Writes the hex MAC of "v1.<name>.<expiry>" into hex (TOKEN_MACLEN bytes,
 * no NUL), expiry being explen decimal digits.
 */
static void
token_mac(const struct hb_secret *s, const char *name, const char *expiry,
    int explen, char *hex)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	size_t		 mdlen, i;
	char		*msg;

	xasprintf(&msg, TOKEN_PREFIX "%s.%.*s", name, explen, expiry);
	if (s->len == 0 || EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
	    s->key, s->len, (unsigned char *)msg, strlen(msg), md, sizeof(md),
	    &mdlen) == NULL)
		fatalx("%s: no secret, or no HMAC-SHA256", __func__);
	free(msg);
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = hexdigits[md[i] >> 4];
		hex[2 * i + 1] = hexdigits[md[i] & 0xf];
	}
}

void
token_mint(const struct hb_secret *s, const char *name, uint64_t expiry,
    char *buf)
{
	int	 n;

	n = snprintf(buf, TOKEN_MAX, TOKEN_PREFIX "%" PRIu64 ".", expiry);
	token_mac(s, name, buf + TOKEN_PREFIXLEN, n - TOKEN_PREFIXLEN - 1,
	    buf + n);
	buf[n + TOKEN_MACLEN] = '\0';
}

/*
 * The len digits at p, which must be the way "%" PRIu64 spells their value
 * (no sign, blank or leading zero, no overflow), so that the MAC covers
 * the one spelling of each expiry.
 */
static int
parse_expiry(const char *p, size_t len, uint64_t *v)
{
	char	 again[TOKEN_EXPIRYLEN + 1];

	*v = strtoull(p, NULL, 10);
	snprintf(again, sizeof(again), "%" PRIu64, *v);
	return (strlen(again) == len && strncmp(again, p, len) == 0 ? 0 : -1);
}

/*
 * Why tok is not valid, or NULL. The MAC is checked before the expiry, so
 * "expired" is only ever said of a token this secret made.
 */
static const char *
token_check(const struct hb_secret *s, const char *name, const char *tok,
    size_t toklen, uint64_t now)
{
	char		 t[TOKEN_MAX], want[TOKEN_MACLEN];
	char		*expiry, *mac;
	uint64_t	 v;

	/* A NUL-terminated copy, in which a NUL of tok's own is refused. */
	if (toklen >= TOKEN_MAX)
		return ("malformed");
	memcpy(t, tok, toklen);
	t[toklen] = '\0';
	expiry = t + TOKEN_PREFIXLEN;
	if (strlen(t) != toklen || strncmp(t, TOKEN_PREFIX, TOKEN_PREFIXLEN) ||
	    (mac = strchr(expiry, '.')) == NULL ||
	    parse_expiry(expiry, mac - expiry, &v) == -1 ||
	    strlen(++mac) != TOKEN_MACLEN ||
	    strspn(mac, hexdigits) != TOKEN_MACLEN)
		return ("malformed");
	if (s->len == 0)
		return ("bad mac");
	token_mac(s, name, expiry, mac - 1 - expiry, want);
	if (CRYPTO_memcmp(want, mac, TOKEN_MACLEN) != 0)
		return ("bad mac");
	if (v != 0 && v <= now)
		return ("expired");
	return (NULL);
}

int
token_verify(const struct hb_secret *s, const char *name, const char *tok,
    size_t toklen, uint64_t now, const char **why)
{
	if ((*why = token_check(s, name, tok, toklen, now)) != NULL)
		return (-1);
	return (0);
}

void
token_secret_clear(struct hb_secret *s)
{
	OPENSSL_cleanse(s->key, sizeof(s->key));
	s->len = 0;
}
