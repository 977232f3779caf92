/*
 * libFuzzer harness for the PROXY header parser. The input is what a peer
 * sent first. Whatever the answer, it must agree with the answers for the
 * same bytes cut shorter and followed by more: the parser sees a stream
 * that only grows, so BAD stays BAD, DONE stays the same header, and a
 * header needs its last byte and nothing after it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proxy.h"

#include "fuzz_common.h"

/* Room for the longest header and something after it. */
static uint8_t	 buf[PROXY_MAX + 64];

static int	 hdr_equal(const struct proxy_hdr *, const struct proxy_hdr *);
static void	 check_addrs(const struct proxy_hdr *);
static void	 check_v1_text(const uint8_t *, const struct proxy_hdr *);
static void	 check_done(const uint8_t *, size_t, const struct proxy_hdr *);
static void	 check_grow(const uint8_t *, size_t, size_t);

static int
hdr_equal(const struct proxy_hdr *a, const struct proxy_hdr *b)
{
	return (a->len == b->len && a->local == b->local &&
	    a->srclen == b->srclen && a->dstlen == b->dstlen &&
	    memcmp(&a->src, &b->src, a->srclen) == 0 &&
	    memcmp(&a->dst, &b->dst, a->dstlen) == 0);
}

/* A header keeps the socket's addresses or gives two of one IP family. */
static void
check_addrs(const struct proxy_hdr *hdr)
{
	socklen_t	 len;

	if (hdr->local) {
		if (hdr->srclen != 0 || hdr->dstlen != 0)
			fuzz_fail("local with addresses");
		return;
	}
	if (hdr->src.ss_family == AF_INET)
		len = sizeof(struct sockaddr_in);
	else if (hdr->src.ss_family == AF_INET6)
		len = sizeof(struct sockaddr_in6);
	else
		fuzz_fail("source family %d", hdr->src.ss_family);
	if (hdr->srclen != len || hdr->dstlen != len ||
	    hdr->dst.ss_family != hdr->src.ss_family)
		fuzz_fail("addresses of %u and %u bytes, families %d and %d",
		    hdr->srclen, hdr->dstlen, hdr->src.ss_family,
		    hdr->dst.ss_family);
}

/* A v1 line with addresses is printable ASCII up to its CRLF. */
static void
check_v1_text(const uint8_t *data, const struct proxy_hdr *hdr)
{
	size_t	 i;

	if (data[0] != 'P' || hdr->local)
		return;
	for (i = 0; i < hdr->len - 2; i++) {
		if (data[i] < 0x20 || data[i] > 0x7e)
			fuzz_fail("v1 byte %zu is 0x%02x", i, data[i]);
	}
}

/*
 * A DONE header of the size bytes of data lies within them and within
 * PROXY_MAX, needs its last byte, and reads the same followed by anything
 * (here, copies of itself).
 */
static void
check_done(const uint8_t *data, size_t size, const struct proxy_hdr *hdr)
{
	struct proxy_hdr	 again;
	const char		*why;
	size_t			 off;

	if (hdr->len == 0 || hdr->len > size || hdr->len > PROXY_MAX)
		fuzz_fail("a header of %zu bytes in %zu", hdr->len, size);
	check_addrs(hdr);
	check_v1_text(data, hdr);
	if (proxy_parse(data, hdr->len - 1, &again, &why) != PROXY_MORE)
		fuzz_fail("a header of %zu bytes is not MORE at %zu",
		    hdr->len, hdr->len - 1);
	for (off = 0; off < sizeof(buf); off += hdr->len)
		memcpy(buf + off, data, sizeof(buf) - off < hdr->len ?
		    sizeof(buf) - off : hdr->len);
	if (proxy_parse(buf, sizeof(buf), &again, &why) != PROXY_DONE ||
	    !hdr_equal(hdr, &again))
		fuzz_fail("a header of %zu bytes reads otherwise when followed",
		    hdr->len);
}

/*
 * The answer for the first len bytes of data follows from the one for the
 * first short bytes: BAD stays BAD, DONE the same header.
 */
static void
check_grow(const uint8_t *data, size_t len, size_t short_len)
{
	struct proxy_hdr	 h1, h2;
	const char		*why;
	enum proxy_result	 r1, r2;

	r1 = proxy_parse(data, short_len, &h1, &why);
	r2 = proxy_parse(data, len, &h2, &why);
	if ((r1 == PROXY_BAD && r2 != PROXY_BAD) ||
	    (r1 == PROXY_DONE && (r2 != PROXY_DONE || !hdr_equal(&h1, &h2))))
		fuzz_fail("%d at %zu bytes, then %d at %zu", r1, short_len, r2,
		    len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr	 hdr;
	const char		*why = NULL;

	switch (proxy_parse(data, size, &hdr, &why)) {
	case PROXY_DONE:
		check_done(data, size, &hdr);
		break;
	case PROXY_MORE:
		if (size >= PROXY_MAX)
			fuzz_fail("MORE after %zu bytes", size);
		break;
	case PROXY_BAD:
		if (why == NULL || why[0] < 'a' || why[0] > 'z')
			fuzz_fail("BAD without a reason");
		break;
	default:
		fuzz_fail("not a proxy_result");
	}
	if (size > 0) {
		check_grow(data, size, size - 1);
		check_grow(data, size, size / 2);
	}
	return (0);
}
