/*
 * Small pure helpers: numeric socket addresses and networks, bounded
 * number parsing, file descriptor flags, the monotonic clock and command
 * line messages.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int		 parse_port(const char *, uint16_t *);
static const uint8_t	*addr_bytes(const struct sockaddr *, int *, size_t *);
static void		 mask_bits(uint8_t *, size_t, unsigned int);

static int
parse_port(const char *s, uint16_t *port)
{
	uint64_t	 v;
	const char	*why;

	if (parse_u64(s, 0, 65535, &v, &why) == -1)
		return (-1);
	*port = (uint16_t)v;
	return (0);
}

/*
 * Parses a numeric "IPv4:port" or "[IPv6]:port". Returns 0, or -1 when s
 * is not such an address. Host names are refused on purpose: a daemon that
 * resolves names at start may bind something else after a DNS change.
 */
int
addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN];
	const char		*colon, *end;
	uint16_t		 port;
	size_t			 n;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return (-1);
		n = end - (s + 1);
		if (n == 0 || n >= sizeof(host))
			return (-1);
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (parse_port(end + 2, &port) == -1)
			return (-1);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return (-1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return (0);
	}
	if ((colon = strrchr(s, ':')) == NULL)
		return (-1);
	n = colon - s;
	if (n == 0 || n >= sizeof(host))
		return (-1);
	memcpy(host, s, n);
	host[n] = '\0';
	if (parse_port(colon + 1, &port) == -1)
		return (-1);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return (-1);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	*len = sizeof(*sin);
	return (0);
}

/* Formats sa as "1.2.3.4:5" or "[::1]:5" into buf and returns buf. */
const char *
addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	char				 host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, size, "unknown");
		break;
	}
	return (buf);
}

/* Returns 1 when a and b hold the same host, whatever their ports. */
int
addr_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in	*b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6	*b6 = (const struct sockaddr_in6 *)b;

	if (a->sa_family != b->sa_family)
		return (0);
	if (a->sa_family == AF_INET)
		return (a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	if (a->sa_family == AF_INET6)
		return (memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0);
	return (0);
}

/* Returns 1 when a and b are the same host and port. */
int
addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	return (addr_same_host(a, b) && addr_port(a) == addr_port(b));
}

uint16_t
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)sa)->sin_port));
	if (sa->sa_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	return (0);
}

/* Returns 1 when l holds the address a, port included. */
int
addrlist_contains(const struct hb_addrlist *l, const struct hb_addr *a)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		if (addr_equal((const struct sockaddr *)&l->v[i].ss,
		    (const struct sockaddr *)&a->ss))
			return (1);
	}
	return (0);
}

/* Returns 1 for 127.0.0.0/8 and ::1, the only addresses safe without AUTH. */
int
addr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return ((ntohl(sin->sin_addr.s_addr) >> 24) == 127);
	if (sa->sa_family == AF_INET6)
		return (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	return (0);
}

/*
 * Points at the address bytes of an IPv4 or IPv6 sa, with their family
 * and number; NULL for other families. An IPv4-mapped IPv6 address gives
 * its IPv4 bytes: it is an IPv4 peer on a dual-stack socket.
 */
static const uint8_t *
addr_bytes(const struct sockaddr *sa, int *af, size_t *len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	*af = AF_INET;
	*len = 4;
	if (sa->sa_family == AF_INET)
		return ((const uint8_t *)&sin->sin_addr);
	if (sa->sa_family != AF_INET6)
		return (NULL);
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return (sin6->sin6_addr.s6_addr + 12);
	*af = AF_INET6;
	*len = 16;
	return (sin6->sin6_addr.s6_addr);
}

/* Clears all but the leading bits bits of the len bytes at a. */
static void
mask_bits(uint8_t *a, size_t len, unsigned int bits)
{
	size_t	 i;

	for (i = 0; i < len; i++, bits = (bits > 8) ? bits - 8 : 0)
		a[i] &= (bits >= 8) ? 0xff : (uint8_t)(0xff00 >> bits);
}

/*
 * Parses a network: "10.0.0.0/8", "2001:db8::/32" or "[2001:db8::]/32";
 * a bare address ("192.0.2.7", "[::1]") is a network of one host. Returns
 * 0 or -1.
 *
 * Host bits set in the address (10.0.0.1/8) are refused, not masked: they
 * are most likely a typo, and in proxy_from a typo that widens a network
 * trusts hosts nobody meant to trust. An IPv4-mapped network
 * (::ffff:10.0.0.0/104) is kept as the IPv4 one it stands for, since
 * mapped peers are matched as IPv4.
 */
int
cidr_parse(const char *s, struct hb_cidr *c)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&c->net;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&c->net;
	struct in6_addr		 a;
	uint8_t			 m[sizeof(a)];
	char			 host[INET6_ADDRSTRLEN];
	const char		*end, *why;
	uint64_t		 bits;
	size_t			 n, alen;
	int			 af = AF_INET6;

	if (s[0] == '[') {
		if ((end = strchr(++s, ']')) == NULL)
			return (-1);
		n = end++ - s;
	} else {
		n = strcspn(s, "/");
		end = s + n;
		if (memchr(s, ':', n) == NULL)
			af = AF_INET;
	}
	if (n == 0 || n >= sizeof(host) || (*end != '\0' && *end != '/'))
		return (-1);
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(af, host, &a) != 1)
		return (-1);
	alen = (af == AF_INET) ? 4 : 16;
	bits = alen * 8;
	if (*end == '/' && parse_u64(end + 1, 0, bits, &bits, &why) == -1)
		return (-1);
	memcpy(m, &a, alen);
	mask_bits(m, alen, bits);
	if (memcmp(m, &a, alen) != 0)
		return (-1);

	memset(c, 0, sizeof(*c));
	c->bits = (unsigned int)bits;
	if (af == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a)) {
		/* Its host bits are clear, so bits >= 96. */
		af = AF_INET;
		c->bits -= 96;
		memmove(&a, a.s6_addr + 12, 4);
	}
	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, &a, sizeof(sin->sin_addr));
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a;
	}
	return (0);
}

/* Returns 1 when the network c holds the host sa. */
int
cidr_contains(const struct hb_cidr *c, const struct sockaddr *sa)
{
	const uint8_t	*net, *addr;
	uint8_t		 m[16];
	size_t		 nlen, alen;
	int		 naf, aaf;

	net = addr_bytes((const struct sockaddr *)&c->net, &naf, &nlen);
	addr = addr_bytes(sa, &aaf, &alen);
	if (net == NULL || addr == NULL || naf != aaf)
		return (0);
	memcpy(m, addr, alen);
	mask_bits(m, alen, c->bits);
	return (memcmp(m, net, alen) == 0);
}

/* Returns 1 when a network in l holds the host sa. */
int
cidrlist_contains(const struct hb_cidrlist *l, const struct sockaddr *sa)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		if (cidr_contains(&l->v[i], sa))
			return (1);
	}
	return (0);
}

/*
 * Parses a whole decimal number in [min, max]. Returns 0, or -1 with *why
 * set to "not a number" or "out of range".
 */
int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why)
{
	unsigned long long	 v;
	char			*end;

	*why = "not a number";
	if (!isdigit((unsigned char)s[0]))
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return (-1);
	*why = "out of range";
	if (errno == ERANGE || v < min || v > max)
		return (-1);
	*out = v;
	return (0);
}

/* As parse_u64(), for a plain decimal number such as 0.2 or 6. */
int
parse_double(const char *s, double min, double max, double *out,
    const char **why)
{
	double	 v;
	char	*end;

	*why = "not a number";
	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return (-1);
	/* strtod() would also take hex and exponents. */
	if (s[strspn(s, "0123456789.")] != '\0')
		return (-1);
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || end == s || !isfinite(v))
		return (-1);
	*why = "out of range";
	if (errno == ERANGE || v < min || v > max)
		return (-1);
	*out = v;
	return (0);
}

/* Parses yes|no|true|false|1|0 in any case. Returns 0 or -1. */
int
parse_bool(const char *s, int *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0)
		*out = 1;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcmp(s, "0") == 0)
		*out = 0;
	else
		return (-1);
	return (0);
}

/*
 * Compares a secret in time that depends only on the length of the guess,
 * so that neither the secret's bytes nor its length leak through timing.
 * Returns 1 when guess (len bytes) equals the NUL-terminated secret.
 */
int
secret_equal(const char *guess, size_t len, const char *secret)
{
	size_t		 i, slen = strlen(secret);
	unsigned char	 diff;

	if (slen == 0)
		return (0);
	diff = (len != slen);
	for (i = 0; i < len; i++)
		diff |= (unsigned char)guess[i] ^ (unsigned char)secret[i % slen];
	return (diff == 0);
}

/*
 * The option getopt_long() has just refused, for a message of the
 * program's own (opterr = 0): a long one is word, the argument before
 * optind; a short one is optopt, as word may hold others.
 */
const char *
opt_refused(const char *word)
{
	static char	 opt[3] = "-?";

	if (strncmp(word, "--", 2) == 0)
		return (word);
	opt[1] = optopt;
	return (opt);
}

int
fd_nonblock_cloexec(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return (-1);
	if ((flags = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1)
		return (-1);
	return (0);
}

/* The precise monotonic clock, in nanoseconds. */
uint64_t
mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Seconds from mono_ns() value since to now. */
double
mono_seconds(uint64_t since, uint64_t now)
{
	return (now > since ? (double)(now - since) / 1e9 : 0.0);
}

/* The Unix time, in whole seconds, of the mono_ns() value t. */
int64_t
mono_to_unix(uint64_t t)
{
	uint64_t	 now = mono_ns();

	return ((int64_t)time(NULL) - (int64_t)(now > t ? (now - t) /
	    1000000000ULL : 0));
}
