/*
 * The PROXY protocol header of haproxy's proxy-protocol.txt, v1 (text) and
 * v2 (binary), judged from the bytes peeked so far. Pure: no I/O, no
 * allocation. Bytes that no header can continue are refused as soon as
 * they arrive, so that a peer that speaks anything else is dropped at once
 * rather than when its deadline runs out.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

#define V1_SIG		"PROXY "
#define V1_SIGLEN	6
#define V1_FIELD_MAX	(INET6_ADDRSTRLEN - 1)	/* bytes in the longest field */

#define V2_SIGLEN	12
#define V2_HDRLEN	16
#define V2_TLV_HDRLEN	3
#define V2_BLOCK_MAX	36	/* bytes of addresses and ports, for TCP6 */

/* Byte 12: the version in the high nibble, the command in the low one. */
#define V2_VERSION	0x20
#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1

/* Byte 13: the address family in the high nibble, the transport in the low. */
#define V2_UNSPEC	0x00
#define V2_TCP4		0x11
#define V2_UDP4		0x12
#define V2_TCP6		0x21
#define V2_UDP6		0x22
#define V2_UNIX_STREAM	0x31
#define V2_UNIX_DGRAM	0x32

/* The fields of a v1 line after "PROXY ", in their order. */
enum v1_field { V1_PROTO, V1_SRC, V1_DST, V1_SPORT, V1_DPORT };

/*
 * A v1 line as far as it is parsed: its family (AF_UNSPEC for UNKNOWN),
 * and its addresses and ports laid out as in a v2 address block, so that
 * both versions fill the header alike.
 */
struct v1_line {
	int		 af;
	uint8_t		 block[V2_BLOCK_MAX];
};

static socklen_t	sa_set(struct sockaddr_storage *, int, const uint8_t *,
			    const uint8_t *);
static enum proxy_result hdr_done(struct proxy_hdr *, size_t, int,
			    const uint8_t *);
static int		v1_proto(const char *, int, int *);
static int		v4_complete(const char *, char *, size_t);
static int		v1_addr_prefix(int, const char *);
static int		v1_port(const char *, int, uint16_t *);
static int		v1_field(enum v1_field, const char *, int,
			    struct v1_line *, const char **);
static int		v1_fields(const char *, size_t, int, struct v1_line *,
			    const char **);
static enum proxy_result v1_parse(const char *, size_t, struct proxy_hdr *,
			    const char **);
static int		v2_family(uint8_t, uint8_t, int *, size_t *,
			    const char **);
static int		v2_tlvs(const uint8_t *, size_t, size_t, size_t,
			    const char **);
static enum proxy_result v2_parse(const uint8_t *, size_t, struct proxy_hdr *,
			    const char **);

static const uint8_t v2_sig[V2_SIGLEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static const struct {
	const char	*word;
	int		 af;
} v1_protos[] = {
	{ "TCP4",	AF_INET },
	{ "TCP6",	AF_INET6 },
	{ "UNKNOWN",	AF_UNSPEC },
};

/* Sets ss to the address and port (network order) of family af. */
static socklen_t
sa_set(struct sockaddr_storage *ss, int af, const uint8_t *addr,
    const uint8_t *port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, sizeof(sin->sin_addr));
		memcpy(&sin->sin_port, port, sizeof(sin->sin_port));
		return (sizeof(*sin));
	}
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, addr, sizeof(sin6->sin6_addr));
	memcpy(&sin6->sin6_port, port, sizeof(sin6->sin6_port));
	return (sizeof(*sin6));
}

/*
 * Completes hdr for a header of len bytes: local for AF_UNSPEC, else the
 * addresses from a v2 address block (source and destination addresses of
 * family af, then their ports).
 */
static enum proxy_result
hdr_done(struct proxy_hdr *hdr, size_t len, int af, const uint8_t *block)
{
	size_t	 alen;

	hdr->len = len;
	if (af == AF_UNSPEC) {
		hdr->local = 1;
		return (PROXY_DONE);
	}
	alen = (af == AF_INET) ? 4 : 16;
	hdr->srclen = sa_set(&hdr->src, af, block, block + 2 * alen);
	hdr->dstlen = sa_set(&hdr->dst, af, block + alen, block + 2 * alen + 2);
	return (PROXY_DONE);
}

/*
 * Matches the protocol word s, whole or only its start, and sets *af.
 * Returns 0 or -1.
 */
static int
v1_proto(const char *s, int whole, int *af)
{
	size_t	 i, n = strlen(s);

	for (i = 0; i < sizeof(v1_protos) / sizeof(v1_protos[0]); i++) {
		if (whole ? strcmp(s, v1_protos[i].word) == 0 :
		    strncmp(s, v1_protos[i].word, n) == 0) {
			*af = v1_protos[i].af;
			return (0);
		}
	}
	return (-1);
}

/*
 * Writes to out the start of a dotted quad s completed with zero octets.
 * Returns 0, or -1 when s has more than four octets.
 */
static int
v4_complete(const char *s, char *out, size_t size)
{
	const char	*p;
	int		 dots = 0;

	for (p = s; *p != '\0'; p++)
		dots += (*p == '.');
	if (dots > 3)
		return (-1);
	snprintf(out, size, "%s%s%.*s", s, (*s == '\0' || p[-1] == '.') ?
	    "0" : "", 2 * (3 - dots), ".0.0.0");
	return (0);
}

/*
 * Returns 1 when the start of an address s can still become one that
 * inet_pton() takes for af. One completion decides it: zero octets for
 * IPv4 (so for an embedded IPv4 tail too, whose IPv6 head is then whole),
 * and for IPv6 hex groups nothing, "0", ":" or "::", whichever of them
 * fits if any does.
 */
static int
v1_addr_prefix(int af, const char *s)
{
	static const char *const v6_ends[] = { "", "0", ":", "::" };
	char		 buf[2 * INET6_ADDRSTRLEN];
	struct in6_addr	 a;
	const char	*colon;
	size_t		 i, head;

	if (af == AF_INET)
		return (v4_complete(s, buf, sizeof(buf)) == 0 &&
		    inet_pton(AF_INET, buf, &a) == 1);
	if (strchr(s, '.') != NULL) {
		if ((colon = strrchr(s, ':')) == NULL)
			return (0);
		head = colon + 1 - s;
		memcpy(buf, s, head);
		return (v4_complete(colon + 1, buf + head,
		    sizeof(buf) - head) == 0 &&
		    inet_pton(AF_INET6, buf, &a) == 1);
	}
	for (i = 0; i < sizeof(v6_ends) / sizeof(v6_ends[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", s, v6_ends[i]);
		if (inet_pton(AF_INET6, buf, &a) == 1)
			return (1);
	}
	return (0);
}

/*
 * Parses a port, 0 to 65535 in decimal without a sign or leading zeros,
 * or with whole unset only its start. Returns 0 or -1.
 */
static int
v1_port(const char *s, int whole, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || (i > 0 && s[0] == '0'))
			return (-1);
		if ((v = v * 10 + (s[i] - '0')) > 65535)
			return (-1);
	}
	if (whole && i == 0)
		return (-1);
	*port = htons((uint16_t)v);
	return (0);
}

/*
 * Checks one field s of a v1 line, complete or only its start, and keeps
 * what a complete one says in line. Returns 0 or -1 with *why set.
 */
static int
v1_field(enum v1_field field, const char *s, int complete,
    struct v1_line *line, const char **why)
{
	size_t		 alen = (line->af == AF_INET) ? 4 : 16;
	uint8_t		*addr;
	uint16_t	 port;

	switch (field) {
	case V1_PROTO:
		if (v1_proto(s, complete, &line->af) == 0)
			return (0);
		*why = "v1 bad protocol";
		return (-1);
	case V1_SRC:
	case V1_DST:
		addr = line->block + (field == V1_DST ? alen : 0);
		if (complete ? inet_pton(line->af, s, addr) == 1 :
		    v1_addr_prefix(line->af, s))
			return (0);
		*why = "v1 bad address";
		return (-1);
	default:
		if (v1_port(s, complete, &port) == -1) {
			*why = "v1 bad port";
			return (-1);
		}
		memcpy(line->block + 2 * alen + (field == V1_DPORT ? 2 : 0),
		    &port, sizeof(port));
		return (0);
	}
}

/*
 * Checks the n bytes of a v1 line after "PROXY " and before its CRLF when
 * whole, else as the start of one (its last field may be cut short).
 * Fields are split by single spaces; after UNKNOWN anything goes. Returns
 * 0 or -1 with *why set.
 */
static int
v1_fields(const char *s, size_t n, int whole, struct v1_line *line,
    const char **why)
{
	char		 field[V1_FIELD_MAX + 1];
	size_t		 i, start, flen;
	int		 f, complete;

	for (f = V1_PROTO, start = 0;; f++, start = i + 1) {
		for (i = start; i < n && s[i] != ' '; i++)
			;
		if (f > V1_DPORT) {
			*why = "v1 extra field";
			return (-1);
		}
		if ((flen = i - start) > V1_FIELD_MAX) {
			*why = "v1 field too long";
			return (-1);
		}
		if (memchr(s + start, '\0', flen) != NULL) {
			*why = "v1 nul byte";
			return (-1);
		}
		memcpy(field, s + start, flen);
		field[flen] = '\0';
		complete = whole || i < n;
		if (v1_field(f, field, complete, line, why) == -1)
			return (-1);
		if ((f == V1_PROTO && complete && line->af == AF_UNSPEC) ||
		    i == n)
			break;
	}
	if (whole && f != V1_DPORT && line->af != AF_UNSPEC) {
		*why = "v1 missing field";
		return (-1);
	}
	return (0);
}

/* proxy_parse() for a header that starts like a v1 one. */
static enum proxy_result
v1_parse(const char *s, size_t len, struct proxy_hdr *hdr, const char **why)
{
	struct v1_line	 line;
	size_t		 n, i;

	n = (len < PROXY_V1_MAX) ? len : PROXY_V1_MAX;
	if (memcmp(s, V1_SIG, n < V1_SIGLEN ? n : V1_SIGLEN) != 0) {
		*why = "bad v1 signature";
		return (PROXY_BAD);
	}
	if (n < V1_SIGLEN)
		return (PROXY_MORE);
	for (i = V1_SIGLEN; i < n && s[i] != '\r' && s[i] != '\n'; i++)
		;
	if (i < n && s[i] == '\n') {
		*why = "v1 lf without cr";
		return (PROXY_BAD);
	}
	memset(&line, 0, sizeof(line));
	if (v1_fields(s + V1_SIGLEN, i - V1_SIGLEN, i < n, &line, why) == -1)
		return (PROXY_BAD);
	if (i + 1 >= PROXY_V1_MAX) {
		*why = "v1 no crlf within 107 bytes";
		return (PROXY_BAD);
	}
	if (i + 1 >= n)
		return (PROXY_MORE);
	if (s[i + 1] != '\n') {
		*why = "v1 cr without lf";
		return (PROXY_BAD);
	}
	return (hdr_done(hdr, i + 2, line.af, line.block));
}

/*
 * Checks the command and the family bytes and sets *af (AF_UNSPEC: keep
 * the socket's address) and *alen, the bytes of addresses that follow.
 * LOCAL ignores the family, as the spec says, but for PROXY only TCP is
 * served. Returns 0 or -1 with *why set.
 */
static int
v2_family(uint8_t cmd, uint8_t fam, int *af, size_t *alen, const char **why)
{
	switch (fam) {
	case V2_UNSPEC:
	case V2_TCP4:
	case V2_TCP6:
		break;
	case V2_UDP4:
	case V2_UDP6:
	case V2_UNIX_STREAM:
	case V2_UNIX_DGRAM:
		if (cmd == V2_CMD_LOCAL)
			break;
		*why = "v2 not tcp";
		return (-1);
	default:
		*why = "v2 bad family";
		return (-1);
	}
	*af = AF_UNSPEC;
	*alen = 0;
	if (cmd == V2_CMD_PROXY && fam == V2_TCP4) {
		*af = AF_INET;
		*alen = 12;
	} else if (cmd == V2_CMD_PROXY && fam == V2_TCP6) {
		*af = AF_INET6;
		*alen = 36;
	}
	return (0);
}

/*
 * Walks the TLVs from off, past the addresses, in the avail bytes received
 * of a header of total bytes: each must fit. What they say is not ours to
 * judge. Returns 0 or -1 with *why set.
 */
static int
v2_tlvs(const uint8_t *p, size_t off, size_t avail, size_t total,
    const char **why)
{
	while (off + V2_TLV_HDRLEN <= avail) {
		off += V2_TLV_HDRLEN + ((size_t)p[off + 1] << 8 | p[off + 2]);
		if (off > total) {
			*why = "v2 tlv overruns the header";
			return (-1);
		}
	}
	if (off < total && total - off < V2_TLV_HDRLEN) {
		*why = "v2 tlv cut short";
		return (-1);
	}
	return (0);
}

/* proxy_parse() for a header that starts like a v2 one. */
static enum proxy_result
v2_parse(const uint8_t *p, size_t len, struct proxy_hdr *hdr,
    const char **why)
{
	size_t	 total, alen = 0;
	int	 af = AF_UNSPEC;

	if (memcmp(p, v2_sig, len < V2_SIGLEN ? len : V2_SIGLEN) != 0) {
		*why = "bad v2 signature";
		return (PROXY_BAD);
	}
	if (len > 12 && (p[12] & 0xf0) != V2_VERSION) {
		*why = "v2 bad version";
		return (PROXY_BAD);
	}
	if (len > 12 && (p[12] & 0x0f) > V2_CMD_PROXY) {
		*why = "v2 bad command";
		return (PROXY_BAD);
	}
	if (len > 13 && v2_family(p[12] & 0x0f, p[13], &af, &alen, why) == -1)
		return (PROXY_BAD);
	if (len < V2_HDRLEN)
		return (PROXY_MORE);
	total = V2_HDRLEN + ((size_t)p[14] << 8 | p[15]);
	if (total > PROXY_V2_MAX) {
		*why = "v2 header too long";
		return (PROXY_BAD);
	}
	if (total < V2_HDRLEN + alen) {
		*why = "v2 length too short";
		return (PROXY_BAD);
	}
	/* Past the addresses of LOCAL and UNSPEC, nothing is defined. */
	if (alen > 0 && v2_tlvs(p, V2_HDRLEN + alen, len < total ? len : total,
	    total, why) == -1)
		return (PROXY_BAD);
	if (len < total)
		return (PROXY_MORE);
	return (hdr_done(hdr, total, af, p + V2_HDRLEN));
}

/*
 * Parses the PROXY header at the start of buf. Returns PROXY_DONE with hdr
 * filled, PROXY_MORE while the len bytes can still start a header, or
 * PROXY_BAD with *why a short reason as soon as they cannot.
 */
enum proxy_result
proxy_parse(const void *buf, size_t len, struct proxy_hdr *hdr,
    const char **why)
{
	const uint8_t	*p = buf;

	memset(hdr, 0, sizeof(*hdr));
	if (len == 0)
		return (PROXY_MORE);
	if (p[0] == (uint8_t)V1_SIG[0])
		return (v1_parse(buf, len, hdr, why));
	if (p[0] == v2_sig[0])
		return (v2_parse(p, len, hdr, why));
	*why = "not a proxy header";
	return (PROXY_BAD);
}
