/*
 * Unit tests for src/proxy.c: v1 and v2 PROXY headers, whole, cut short
 * at every byte, followed by data, and malformed in every way we could
 * list. Each malformed header ends at the byte that proves it malformed,
 * so each is also a test that the parser says so no later.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <check.h>

#include "check_main.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "util.h"

#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))
/* A string literal and its length, NUL bytes included. */
#define B(s)		s, sizeof(s) - 1
#define V2SIG		"\r\n\r\n\0\r\nQUIT\n"
/* A v2 TCP4 block: 192.0.2.1:56324 to 198.51.100.2:443. */
#define V2_TCP4_BLOCK	"\xc0\x00\x02\x01" "\xc6\x33\x64\x02" \
			"\xdc\x04" "\x01\xbb"
/* A v2 TCP6 block: [2001:db8::1]:56324 to [2001:db8::2]:443. */
#define V2_TCP6_BLOCK	"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" \
			"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02" \
			"\xdc\x04" "\x01\xbb"

static void	 check_starts(const char *, size_t);
static void	 check_hdr(int, const struct proxy_hdr *);

/* Valid headers and what they say; src NULL: local. */
static const struct {
	const char	*bytes;
	size_t		 len;
	const char	*src;
	const char	*dst;
} valid[] = {
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"),
	    "192.0.2.1:56324", "198.51.100.2:443" },
	{ B("PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n"),
	    "255.255.255.255:65535", "0.0.0.0:0" },
	{ B("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n"),
	    "[2001:db8::1]:56324", "[2001:db8::2]:443" },
	{ B("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 10\r\n"),
	    "[::ffff:192.0.2.1]:1", "[::1]:10" },
	{ B("PROXY TCP6 2001:DB8:0:0:0:0:0:1 :: 7 65535\r\n"),
	    "[2001:db8::1]:7", "[::]:65535" },
	{ B("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	{ B("PROXY UNKNOWN\r\n"), NULL, NULL },
	{ B("PROXY UNKNOWN 192.0.2.1 198.51.100.2 56324 443\r\n"), NULL, NULL },
	{ B("PROXY UNKNOWN  any\tbytes\x01\xff at all \r\n"), NULL, NULL },
	/* The spec's worst case: 107 bytes. */
	{ B("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
	    NULL, NULL },
	{ B(V2SIG "\x21\x11\x00\x0c" V2_TCP4_BLOCK),
	    "192.0.2.1:56324", "198.51.100.2:443" },
	/* ALPN "h2", an empty NOOP, an authority. */
	{ B(V2SIG "\x21\x11\x00\x22" V2_TCP4_BLOCK "\x01\x00\x02h2"
	    "\x04\x00\x00" "\x02\x00\x0b" "example.com"),
	    "192.0.2.1:56324", "198.51.100.2:443" },
	{ B(V2SIG "\x21\x21\x00\x24" V2_TCP6_BLOCK),
	    "[2001:db8::1]:56324", "[2001:db8::2]:443" },
	/* An SSL TLV with a sub-TLV: opaque to us. */
	{ B(V2SIG "\x21\x21\x00\x2f" V2_TCP6_BLOCK "\x20\x00\x08"
	    "\x01\0\0\0\0" "\x21\x00\x00"),
	    "[2001:db8::1]:56324", "[2001:db8::2]:443" },
	{ B(V2SIG "\x20\x00\x00\x00"), NULL, NULL },
	/* LOCAL ignores the family and what follows, TLVs or not. */
	{ B(V2SIG "\x20\x11\x00\x0c" V2_TCP4_BLOCK), NULL, NULL },
	{ B(V2SIG "\x20\x11\x00\x02" "\xff\xff"), NULL, NULL },
	{ B(V2SIG "\x20\x21\x00\x00"), NULL, NULL },
	{ B(V2SIG "\x20\x31\x00\x04" "/tmp"), NULL, NULL },
	{ B(V2SIG "\x20\x12\x00\x00"), NULL, NULL },
	{ B(V2SIG "\x20\x00\x00\x05" "\x01\x02\x03\x04\x05"), NULL, NULL },
	/* PROXY over UNSPEC: keep the socket's address. */
	{ B(V2SIG "\x21\x00\x00\x00"), NULL, NULL },
	{ B(V2SIG "\x21\x00\x00\x03" "abc"), NULL, NULL },
};

/*
 * Malformed headers, each cut at the first byte that proves it so: every
 * shorter start must be PROXY_MORE, the whole PROXY_BAD with why.
 */
static const struct {
	const char	*bytes;
	size_t		 len;
	const char	*why;
} bad[] = {
	{ B("G"),				"not a proxy header" },
	{ B("\0"),				"not a proxy header" },
	{ B("\n"),				"not a proxy header" },
	{ B(" "),				"not a proxy header" },
	{ B("p"),				"not a proxy header" },
	{ B("\x16"),				"not a proxy header" },
	{ B("PROXZ"),				"bad v1 signature" },
	{ B("PROXY\r"),				"bad v1 signature" },
	{ B("PROXY\n"),				"bad v1 signature" },
	{ B("PROXY  "),				"v1 bad protocol" },
	{ B("PROXY\t"),				"bad v1 signature" },
	{ B("PROXY TCP5"),			"v1 bad protocol" },
	{ B("PROXY t"),				"v1 bad protocol" },
	{ B("PROXY TCP4\t"),			"v1 bad protocol" },
	{ B("PROXY UD"),			"v1 bad protocol" },
	{ B("PROXY UNKNOWNX"),			"v1 bad protocol" },
	{ B("PROXY UNKNOWN\n"),			"v1 lf without cr" },
	{ B("PROXY UNKNOWN x\n"),		"v1 lf without cr" },
	{ B("PROXY UNKNOWN\rX"),		"v1 cr without lf" },
	{ B("PROXY UNKNOWN\r\r"),		"v1 cr without lf" },
	{ B("PROXY TCP4\r"),			"v1 missing field" },
	{ B("PROXY TCP4 192.0.2.1\r"),		"v1 missing field" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2\r"), "v1 missing field" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 56324\r"), "v1 missing field" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n"),
	    "v1 lf without cr" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\rX"),
	    "v1 cr without lf" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 "),
	    "v1 extra field" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\t"), "v1 bad port" },
	/* Missing and extra spaces. */
	{ B("PROXY TCP4  "),			"v1 bad address" },
	{ B("PROXY TCP4 192.0.2.1  "),		"v1 bad address" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2  "), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 56324  "), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 \r"),		"v1 bad address" },
	{ B("PROXY TCP4 192.0.2.1\t"),		"v1 bad address" },
	/* A NUL byte would end a field early for inet_pton(). */
	{ B("PROXY TCP\0"),			"v1 nul byte" },
	{ B("PROXY UNKNOWN\0"),			"v1 nul byte" },
	{ B("PROXY TCP4 192.0.2.1\0"),		"v1 nul byte" },
	{ B("PROXY TCP6 ::1 ::1 1 2\0"),	"v1 nul byte" },
	/* IPv4 addresses. */
	{ B("PROXY TCP4 256"),			"v1 bad address" },
	{ B("PROXY TCP4 192.0.2.256"),		"v1 bad address" },
	{ B("PROXY TCP4 1921"),			"v1 bad address" },
	{ B("PROXY TCP4 192.0.2 "),		"v1 bad address" },
	{ B("PROXY TCP4 192.0.2.1."),		"v1 bad address" },
	{ B("PROXY TCP4 192.."),		"v1 bad address" },
	{ B("PROXY TCP4 ."),			"v1 bad address" },
	{ B("PROXY TCP4 01"),			"v1 bad address" },
	{ B("PROXY TCP4 192.0.2.01"),		"v1 bad address" },
	{ B("PROXY TCP4 0x"),			"v1 bad address" },
	{ B("PROXY TCP4 -"),			"v1 bad address" },
	{ B("PROXY TCP4 a"),			"v1 bad address" },
	/* TCP4 with IPv6 and TCP6 with IPv4: a family mismatch. */
	{ B("PROXY TCP4 1:"),			"v1 bad address" },
	{ B("PROXY TCP4 :"),			"v1 bad address" },
	{ B("PROXY TCP4 192.0.2.1 :"),		"v1 bad address" },
	{ B("PROXY TCP6 192."),			"v1 bad address" },
	{ B("PROXY TCP6 ::1 198."),		"v1 bad address" },
	/* IPv6 addresses. */
	{ B("PROXY TCP6 2001:db8:::"),		"v1 bad address" },
	{ B("PROXY TCP6 12345"),		"v1 bad address" },
	{ B("PROXY TCP6 g"),			"v1 bad address" },
	{ B("PROXY TCP6 ["),			"v1 bad address" },
	{ B("PROXY TCP6 fe80::1%"),		"v1 bad address" },
	{ B("PROXY TCP6 1::2::"),		"v1 bad address" },
	{ B("PROXY TCP6 1:2:3:4:5:6:7:8:"),	"v1 bad address" },
	{ B("PROXY TCP6 1:2:3:4:5:6:7 "),	"v1 bad address" },
	{ B("PROXY TCP6 1:2:3:4:5:6:7:8."),	"v1 bad address" },
	{ B("PROXY TCP6 1:1."),			"v1 bad address" },
	{ B("PROXY TCP6 ::ffff:1.2.3.4."),	"v1 bad address" },
	{ B("PROXY TCP6 ::ffff:1.2.3.4:"),	"v1 bad address" },
	{ B("PROXY TCP6 ::ffff:1.2.256"),	"v1 bad address" },
	{ B("PROXY TCP6 ::1 ::1 1 2 "),		"v1 extra field" },
	/* Ports. */
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 65536"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 99999"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 123456"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 1 65536"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 01"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 00"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 1 08"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 +"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 -"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 0x"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 1a"), "v1 bad port" },
	{ B("PROXY TCP4 192.0.2.1 198.51.100.2 1 \r"), "v1 bad port" },
	/*
	 * No CRLF within 107 bytes: with 106 bytes and no CR, the CRLF
	 * cannot fit any more.
	 */
	{ B("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
	    "v1 no crlf within 107 bytes" },
	/* v2: signature, version, command. */
	{ B("\r\r"),				"bad v2 signature" },
	{ B("\r\n\r\n\n"),			"bad v2 signature" },
	{ B("\r\n\r\n\0\r\nQUIX"),		"bad v2 signature" },
	{ B("\r\n\r\n\0\r\nQUIT\r"),		"bad v2 signature" },
	{ B(V2SIG "\x11"),			"v2 bad version" },
	{ B(V2SIG "\x31"),			"v2 bad version" },
	{ B(V2SIG "\x01"),			"v2 bad version" },
	{ B(V2SIG "\x22"),			"v2 bad command" },
	{ B(V2SIG "\x2f"),			"v2 bad command" },
	/* Family and transport. */
	{ B(V2SIG "\x21\x12"),			"v2 not tcp" },
	{ B(V2SIG "\x21\x22"),			"v2 not tcp" },
	{ B(V2SIG "\x21\x31"),			"v2 not tcp" },
	{ B(V2SIG "\x21\x32"),			"v2 not tcp" },
	{ B(V2SIG "\x21\x01"),			"v2 bad family" },
	{ B(V2SIG "\x21\x10"),			"v2 bad family" },
	{ B(V2SIG "\x21\x13"),			"v2 bad family" },
	{ B(V2SIG "\x21\x41"),			"v2 bad family" },
	{ B(V2SIG "\x20\x41"),			"v2 bad family" },
	{ B(V2SIG "\x20\xff"),			"v2 bad family" },
	/* The length field. */
	{ B(V2SIG "\x21\x11\x00\x0b"),		"v2 length too short" },
	{ B(V2SIG "\x21\x11\x00\x00"),		"v2 length too short" },
	{ B(V2SIG "\x21\x21\x00\x23"),		"v2 length too short" },
	{ B(V2SIG "\x21\x21\x00\x0c"),		"v2 length too short" },
	{ B(V2SIG "\x21\x11\x08\x01"),		"v2 header too long" },
	{ B(V2SIG "\x20\x00\x08\x01"),		"v2 header too long" },
	{ B(V2SIG "\x21\x00\xff\xff"),		"v2 header too long" },
	/* TLVs that do not fit. */
	{ B(V2SIG "\x21\x11\x00\x0d"),		"v2 tlv cut short" },
	{ B(V2SIG "\x21\x11\x00\x0e"),		"v2 tlv cut short" },
	{ B(V2SIG "\x21\x21\x00\x26"),		"v2 tlv cut short" },
	{ B(V2SIG "\x21\x11\x00\x0f" V2_TCP4_BLOCK "\x01\x00\x01"),
	    "v2 tlv overruns the header" },
	{ B(V2SIG "\x21\x11\x00\x14" V2_TCP4_BLOCK "\x01\x00\x01" "a"
	    "\x02\xff\xff"),			"v2 tlv overruns the header" },
	{ B(V2SIG "\x21\x11\x00\x11" V2_TCP4_BLOCK "\x04\x00\x00"),
	    "v2 tlv cut short" },
	{ B(V2SIG "\x21\x21\x00\x29" V2_TCP6_BLOCK "\x04\x00\x00"),
	    "v2 tlv cut short" },
};

/* Every proper start of the len bytes at p can still become a header. */
static void
check_starts(const char *p, size_t len)
{
	struct proxy_hdr	 hdr;
	const char		*why = NULL;
	size_t			 n;

	for (n = 0; n < len; n++)
		ck_assert_msg(proxy_parse(p, n, &hdr, &why) == PROXY_MORE,
		    "%zu of %zu bytes are not MORE: %s", n, len, why);
}

/* Checks what valid header i says. */
static void
check_hdr(int i, const struct proxy_hdr *hdr)
{
	char	 buf[ADDR_STRLEN];

	ck_assert_uint_eq(hdr->len, valid[i].len);
	if (valid[i].src == NULL) {
		ck_assert_int_eq(hdr->local, 1);
		ck_assert_uint_eq(hdr->srclen, 0);
		ck_assert_uint_eq(hdr->dstlen, 0);
		return;
	}
	ck_assert_int_eq(hdr->local, 0);
	ck_assert_str_eq(addr_format((const struct sockaddr *)&hdr->src, buf,
	    sizeof(buf)), valid[i].src);
	ck_assert_str_eq(addr_format((const struct sockaddr *)&hdr->dst, buf,
	    sizeof(buf)), valid[i].dst);
	ck_assert_uint_eq(hdr->srclen, hdr->src.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	ck_assert_uint_eq(hdr->dstlen, hdr->srclen);
	ck_assert_int_eq(hdr->dst.ss_family, hdr->src.ss_family);
}

START_TEST(test_proxy_valid)
{
	struct proxy_hdr	 hdr;
	const char		*why = NULL;

	check_starts(valid[_i].bytes, valid[_i].len);
	ck_assert_int_eq(proxy_parse(valid[_i].bytes, valid[_i].len, &hdr,
	    &why), PROXY_DONE);
	ck_assert_ptr_null(why);
	check_hdr(_i, &hdr);
}
END_TEST

/* What follows the header is the client's and changes nothing. */
START_TEST(test_proxy_valid_trailing)
{
	struct proxy_hdr	 hdr;
	char			 buf[PROXY_MAX + 16];
	const char		*why = NULL;
	size_t			 len = valid[_i].len;

	memcpy(buf, valid[_i].bytes, len);
	memcpy(buf + len, "HELLO a\r\n", 9);
	ck_assert_int_eq(proxy_parse(buf, len + 9, &hdr, &why), PROXY_DONE);
	check_hdr(_i, &hdr);
	memset(buf + len, 0xff, sizeof(buf) - len);
	ck_assert_int_eq(proxy_parse(buf, sizeof(buf), &hdr, &why),
	    PROXY_DONE);
	check_hdr(_i, &hdr);
}
END_TEST

START_TEST(test_proxy_bad)
{
	struct proxy_hdr	 hdr;
	const char		*why = NULL;

	check_starts(bad[_i].bytes, bad[_i].len);
	ck_assert_msg(proxy_parse(bad[_i].bytes, bad[_i].len, &hdr, &why) ==
	    PROXY_BAD, "bad[%d] is not", _i);
	ck_assert_str_eq(why, bad[_i].why);
}
END_TEST

/* A v2 header of PROXY_V2_MAX bytes is taken; one more byte is not. */
START_TEST(test_proxy_v2_max)
{
	static const char	 start[] = V2SIG "\x21\x11\x08\x00"
				    V2_TCP4_BLOCK "\xee\x07\xf1";
	struct proxy_hdr	 hdr;
	uint8_t			 buf[PROXY_MAX + 1];
	const char		*why = NULL;

	/* One TLV of 0x7f1 bytes fills the 2048 after the first 16. */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, start, sizeof(start) - 1);
	ck_assert_int_eq(proxy_parse(buf, PROXY_MAX - 1, &hdr, &why),
	    PROXY_MORE);
	ck_assert_int_eq(proxy_parse(buf, PROXY_MAX, &hdr, &why), PROXY_DONE);
	ck_assert_uint_eq(hdr.len, PROXY_MAX);
	ck_assert_int_eq(proxy_parse(buf, sizeof(buf), &hdr, &why),
	    PROXY_DONE);
	ck_assert_uint_eq(hdr.len, PROXY_MAX);

	buf[15] = 0x01;
	ck_assert_int_eq(proxy_parse(buf, PROXY_MAX, &hdr, &why), PROXY_BAD);
	ck_assert_str_eq(why, "v2 header too long");
}
END_TEST

/* A v1 line of 107 bytes is taken; of 108, it is too long. */
START_TEST(test_proxy_v1_max)
{
	char			 buf[PROXY_V1_MAX + 1];
	struct proxy_hdr	 hdr;
	const char		*why = NULL;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	memcpy(buf + PROXY_V1_MAX - 2, "\r\n", 2);
	ck_assert_int_eq(proxy_parse(buf, PROXY_V1_MAX, &hdr, &why),
	    PROXY_DONE);
	ck_assert_uint_eq(hdr.len, PROXY_V1_MAX);
	ck_assert_int_eq(hdr.local, 1);

	memcpy(buf + PROXY_V1_MAX - 2, "x\r\n", 3);
	ck_assert_int_eq(proxy_parse(buf, PROXY_V1_MAX - 1, &hdr, &why),
	    PROXY_BAD);
	ck_assert_str_eq(why, "v1 no crlf within 107 bytes");
	ck_assert_int_eq(proxy_parse(buf, sizeof(buf), &hdr, &why),
	    PROXY_BAD);
	ck_assert_str_eq(why, "v1 no crlf within 107 bytes");
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("proxy");

	tc = tcase_create("valid");
	tcase_add_loop_test(tc, test_proxy_valid, 0, NITEMS(valid));
	tcase_add_loop_test(tc, test_proxy_valid_trailing, 0, NITEMS(valid));
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_loop_test(tc, test_proxy_bad, 0, NITEMS(bad));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_proxy_v1_max);
	tcase_add_test(tc, test_proxy_v2_max);
	suite_add_tcase(s, tc);
	return (s);
}
