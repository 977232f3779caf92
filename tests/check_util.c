/*
 * Unit tests for src/util.c: numeric addresses, networks, bounded number
 * parsing, booleans, descriptor flags and the monotonic clock.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <check.h>

#include "check_main.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int	 parse_ok(const char *, struct sockaddr_storage *);

/* Addresses that parse and format back to themselves. */
static const char *const round_trips[] = {
	"127.0.0.1:7000",
	"0.0.0.0:0",
	"255.255.255.255:65535",
	"192.0.2.7:53311",
	"[::1]:7001",
	"[::]:7000",
	"[2001:db8::1]:443",
	"[::ffff:192.0.2.1]:80",
	"[fe80::1:2:3:4]:1",
};

/* Addresses that parse but format in canonical form. */
static const struct {
	const char	*in;
	const char	*out;
} canonical[] = {
	{ "127.0.0.1:007000",		"127.0.0.1:7000" },
	{ "[2001:DB8::1]:80",		"[2001:db8::1]:80" },
	{ "[2001:db8:0:0:0:0:0:1]:80",	"[2001:db8::1]:80" },
	{ "[0:0:0:0:0:0:0:1]:7",	"[::1]:7" },
};

/* Strings that are not a numeric IPv4:port or [IPv6]:port. */
static const char *const bad_addrs[] = {
	"",
	"127.0.0.1",
	"127.0.0.1:",
	"127.0.0.1:65536",
	"127.0.0.1:99999999999999999999",
	"127.0.0.1:-1",
	"127.0.0.1:+80",
	"127.0.0.1:80x",
	"127.0.0.1: 80",
	" 127.0.0.1:80",
	":7000",
	"localhost:7000",
	"example.com:80",
	"256.0.0.1:80",
	"1.2.3:80",
	"1.2.3.4.5:80",
	"1.2.3.4:80:81",
	"::1:7000",
	"::1",
	"[::1]",
	"[::1]:",
	"[::1]7000",
	"[::1]:65536",
	"[::1:7000",
	"::1]:7000",
	"[]:80",
	"[127.0.0.1]:80",
	"[localhost]:80",
	"[fe80::1%lo]:80",
	"[::1]]:80",
	"[[::1]]:80",
};

static const struct {
	const char	*addr;
	int		 loopback;
} loopbacks[] = {
	{ "127.0.0.1:1",		1 },
	{ "127.255.255.254:1",		1 },
	{ "127.0.0.0:1",		1 },
	{ "[::1]:1",			1 },
	{ "0.0.0.0:1",			0 },
	{ "128.0.0.1:1",		0 },
	{ "126.255.255.255:1",		0 },
	{ "10.0.0.1:1",			0 },
	{ "192.0.2.1:1",		0 },
	{ "[::]:1",			0 },
	{ "[::2]:1",			0 },
	{ "[2001:db8::1]:1",		0 },
	/* Mapped addresses are refused: the safe direction. */
	{ "[::ffff:127.0.0.1]:1",	0 },
};

/* Networks, as cidr_parse() keeps them: family, address and length. */
static const struct {
	const char	*cidr;
	int		 af;
	const char	*net;		/* addr_format() of the network */
	unsigned int	 bits;
} cidrs[] = {
	{ "10.0.0.0/8",			AF_INET,  "10.0.0.0:0",		8 },
	{ "10.0.0.0/08",		AF_INET,  "10.0.0.0:0",		8 },
	{ "192.0.2.7",			AF_INET,  "192.0.2.7:0",	32 },
	{ "192.0.2.7/32",		AF_INET,  "192.0.2.7:0",	32 },
	{ "0.0.0.0/0",			AF_INET,  "0.0.0.0:0",		0 },
	{ "2001:db8::/32",		AF_INET6, "[2001:db8::]:0",	32 },
	{ "[2001:db8::]/32",		AF_INET6, "[2001:db8::]:0",	32 },
	{ "[2001:DB8:0::]/32",		AF_INET6, "[2001:db8::]:0",	32 },
	{ "::1",			AF_INET6, "[::1]:0",		128 },
	{ "[::1]",			AF_INET6, "[::1]:0",		128 },
	{ "::1/128",			AF_INET6, "[::1]:0",		128 },
	{ "::/0",			AF_INET6, "[::]:0",		0 },
	{ "[::]/0",			AF_INET6, "[::]:0",		0 },
	/* Mapped networks become the IPv4 ones they stand for. */
	{ "::ffff:10.0.0.0/104",	AF_INET,  "10.0.0.0:0",		8 },
	{ "[::ffff:0:0]/96",		AF_INET,  "0.0.0.0:0",		0 },
	{ "::ffff:192.0.2.7",		AF_INET,  "192.0.2.7:0",	32 },
};

/* Strings that are not a network. */
static const char *const bad_cidrs[] = {
	"",
	"/8",
	"10.0.0.0/",
	"10.0.0.0/33",
	"10.0.0.0/-1",
	"10.0.0.0/+8",
	"10.0.0.0/x",
	"10.0.0.0/8x",
	"10.0.0.0/8/8",
	"10.0.0.0/ 8",
	"10.0.0.0 /8",
	" 10.0.0.0/8",
	"10.0.0.0/8 ",
	"10.0.0.0/18446744073709551624",
	"10.0.0/8",
	"256.0.0.0/8",
	"10.0.0.0.0/8",
	"010.0.0.0/8",
	"localhost",
	"*",
	"junk",
	"10.0.0.0:80",
	"[10.0.0.0]/8",
	"[192.0.2.7]",
	"2001:db8::/129",
	"2001:db8::/",
	"[2001:db8::]/",
	"[2001:db8::]32",
	"[2001:db8::]:80",
	"[2001:db8::/32",
	"2001:db8::]/32",
	"[[2001:db8::]]/32",
	"[]",
	"[]/8",
	"[",
	"]",
	"::1%lo",
	"[fe80::1%lo]",
	"2001:db8:::/32",
	/* Host bits set: refused rather than masked (see cidr_parse()). */
	"10.0.0.1/8",
	"192.0.2.7/24",
	"192.0.2.128/24",
	"0.0.0.1/0",
	"2001:db8::1/32",
	"2001:db8:8000::/32",
	"::1/0",
	"::ffff:10.0.0.1/104",
	"::ffff:0:0/95",
};

/* Which hosts a network holds. */
static const struct {
	const char	*cidr;
	const char	*host;		/* addr_parse() syntax */
	int		 in;
} cidr_hosts[] = {
	{ "10.0.0.0/8",		"10.0.0.0:1",			1 },
	{ "10.0.0.0/8",		"10.255.255.255:65535",		1 },
	{ "10.0.0.0/8",		"11.0.0.0:1",			0 },
	{ "10.0.0.0/8",		"9.255.255.255:1",		0 },
	{ "192.0.2.128/25",	"192.0.2.128:1",		1 },
	{ "192.0.2.128/25",	"192.0.2.255:1",		1 },
	{ "192.0.2.128/25",	"192.0.2.127:1",		0 },
	{ "192.0.2.7",		"192.0.2.7:1",			1 },
	{ "192.0.2.7",		"192.0.2.6:1",			0 },
	{ "192.0.2.7",		"192.0.2.15:1",			0 },
	{ "192.0.2.7/32",	"192.0.2.7:0",			1 },
	{ "0.0.0.0/0",		"203.0.113.9:1",		1 },
	{ "0.0.0.0/0",		"255.255.255.255:1",		1 },
	{ "0.0.0.0/0",		"[::1]:1",			0 },
	/* A mapped peer is an IPv4 one; a compatible one is not. */
	{ "0.0.0.0/0",		"[::ffff:203.0.113.9]:1",	1 },
	{ "10.0.0.0/8",		"[::ffff:10.1.2.3]:1",		1 },
	{ "10.0.0.0/8",		"[::ffff:11.1.2.3]:1",		0 },
	{ "10.0.0.0/8",		"[::10.1.2.3]:1",		0 },
	{ "::/0",		"[::ffff:10.1.2.3]:1",		0 },
	{ "::ffff:10.0.0.0/104", "10.9.9.9:1",			1 },
	{ "::ffff:10.0.0.0/104", "[::ffff:10.9.9.9]:1",		1 },
	{ "::ffff:10.0.0.0/104", "[::ffff:11.9.9.9]:1",		0 },
	{ "2001:db8::/32",	"[2001:db8:ffff:ffff::1]:1",	1 },
	{ "2001:db8::/32",	"[2001:db9::]:1",		0 },
	{ "2001:db8::/32",	"[2001:db7:ffff::]:1",		0 },
	{ "[2001:db8::]/32",	"[2001:db8::1]:1",		1 },
	{ "2001:db8:8000::/33",	"[2001:db8:8000::1]:1",		1 },
	{ "2001:db8:8000::/33",	"[2001:db8:7fff::1]:1",		0 },
	{ "2001:db8::/127",	"[2001:db8::1]:1",		1 },
	{ "2001:db8::/127",	"[2001:db8::2]:1",		0 },
	{ "[::1]",		"[::1]:7000",			1 },
	{ "[::1]",		"[::2]:7000",			0 },
	{ "::1/128",		"127.0.0.1:1",			0 },
	{ "::/0",		"[2001:db8::1]:1",		1 },
	{ "::/0",		"[::]:1",			1 },
	{ "::/0",		"192.0.2.1:1",			0 },
};

static int
parse_ok(const char *s, struct sockaddr_storage *ss)
{
	socklen_t	 len;

	if (addr_parse(s, ss, &len) == -1)
		return (0);
	if (ss->ss_family == AF_INET)
		ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	else
		ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	return (1);
}

START_TEST(test_util_addr_round_trip)
{
	struct sockaddr_storage	 ss;
	char			 buf[ADDR_STRLEN];
	const char		*s = round_trips[_i];

	ck_assert_msg(parse_ok(s, &ss), "%s does not parse", s);
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), s);
}
END_TEST

START_TEST(test_util_addr_canonical)
{
	struct sockaddr_storage	 ss;
	char			 buf[ADDR_STRLEN];

	ck_assert(parse_ok(canonical[_i].in, &ss));
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), canonical[_i].out);
}
END_TEST

START_TEST(test_util_addr_family)
{
	struct sockaddr_storage	 ss;

	ck_assert(parse_ok("192.0.2.1:80", &ss));
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(addr_port((struct sockaddr *)&ss), 80);
	ck_assert(parse_ok("[2001:db8::2]:65535", &ss));
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_uint_eq(addr_port((struct sockaddr *)&ss), 65535);
	ck_assert(parse_ok("[::]:0", &ss));
	ck_assert_uint_eq(addr_port((struct sockaddr *)&ss), 0);
}
END_TEST

START_TEST(test_util_addr_bad)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	ck_assert_msg(addr_parse(bad_addrs[_i], &ss, &len) == -1,
	    "\"%s\" parsed", bad_addrs[_i]);
}
END_TEST

START_TEST(test_util_addr_format_small)
{
	struct sockaddr_storage	 ss;
	char			 buf[8];

	ck_assert(parse_ok("192.0.2.100:7000", &ss));
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.0.2");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "unknown");
}
END_TEST

START_TEST(test_util_addr_loopback)
{
	struct sockaddr_storage	 ss;

	ck_assert(parse_ok(loopbacks[_i].addr, &ss));
	ck_assert_msg(addr_is_loopback((struct sockaddr *)&ss) ==
	    loopbacks[_i].loopback, "%s", loopbacks[_i].addr);
}
END_TEST

START_TEST(test_util_addr_equal)
{
	struct sockaddr_storage	 a, b, c, d, e;

	ck_assert(parse_ok("127.0.0.1:7000", &a));
	ck_assert(parse_ok("127.0.0.1:7000", &b));
	ck_assert(parse_ok("127.0.0.1:7001", &c));
	ck_assert(parse_ok("[::1]:7000", &d));
	ck_assert(parse_ok("[0::1]:7000", &e));
	ck_assert(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	ck_assert(!addr_equal((struct sockaddr *)&a, (struct sockaddr *)&c));
	ck_assert(addr_same_host((struct sockaddr *)&a,
	    (struct sockaddr *)&c));
	ck_assert(!addr_equal((struct sockaddr *)&a, (struct sockaddr *)&d));
	ck_assert(!addr_same_host((struct sockaddr *)&a,
	    (struct sockaddr *)&d));
	ck_assert(addr_equal((struct sockaddr *)&d, (struct sockaddr *)&e));
}
END_TEST

START_TEST(test_util_cidr_parse)
{
	struct hb_cidr	 c;
	char		 buf[ADDR_STRLEN];

	memset(&c, 0xa5, sizeof(c));
	ck_assert_msg(cidr_parse(cidrs[_i].cidr, &c) == 0, "%s",
	    cidrs[_i].cidr);
	ck_assert_int_eq(c.net.ss_family, cidrs[_i].af);
	ck_assert_str_eq(addr_format((struct sockaddr *)&c.net, buf,
	    sizeof(buf)), cidrs[_i].net);
	ck_assert_uint_eq(c.bits, cidrs[_i].bits);
}
END_TEST

START_TEST(test_util_cidr_bad)
{
	struct hb_cidr	 c;

	ck_assert_msg(cidr_parse(bad_cidrs[_i], &c) == -1, "\"%s\" parsed",
	    bad_cidrs[_i]);
}
END_TEST

START_TEST(test_util_cidr_contains)
{
	struct hb_cidr		 c;
	struct sockaddr_storage	 ss;

	ck_assert(cidr_parse(cidr_hosts[_i].cidr, &c) == 0);
	ck_assert(parse_ok(cidr_hosts[_i].host, &ss));
	ck_assert_msg(cidr_contains(&c, (struct sockaddr *)&ss) ==
	    cidr_hosts[_i].in, "%s in %s", cidr_hosts[_i].host,
	    cidr_hosts[_i].cidr);
}
END_TEST

START_TEST(test_util_cidrlist)
{
	struct hb_cidr		 v[2];
	struct hb_cidrlist	 l = { v, 0 };
	struct sockaddr_storage	 ss;

	ck_assert(cidr_parse("10.0.0.0/8", &v[0]) == 0);
	ck_assert(cidr_parse("[2001:db8::]/32", &v[1]) == 0);
	ck_assert(parse_ok("10.1.2.3:1", &ss));
	ck_assert(!cidrlist_contains(&l, (struct sockaddr *)&ss));
	l.n = 2;
	ck_assert(cidrlist_contains(&l, (struct sockaddr *)&ss));
	ck_assert(parse_ok("[2001:db8::7]:1", &ss));
	ck_assert(cidrlist_contains(&l, (struct sockaddr *)&ss));
	ck_assert(parse_ok("[2001:db9::7]:1", &ss));
	ck_assert(!cidrlist_contains(&l, (struct sockaddr *)&ss));
	ck_assert(parse_ok("192.0.2.1:1", &ss));
	ck_assert(!cidrlist_contains(&l, (struct sockaddr *)&ss));
	/* Only IP peers are in a network. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert(!cidrlist_contains(&l, (struct sockaddr *)&ss));
}
END_TEST

START_TEST(test_util_parse_u64)
{
	uint64_t	 v;
	const char	*why;

	ck_assert_int_eq(parse_u64("0", 0, 10, &v, &why), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_u64("007", 0, 10, &v, &why), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(parse_u64("10", 10, 10, &v, &why), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(parse_u64("18446744073709551615", 0, UINT64_MAX,
	    &v, &why), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(test_util_parse_u64_bad)
{
	static const char *const nan[] = {
		"", "-1", "+1", " 1", "1 ", "0x10", "12a", "1.5", "1e3", "a"
	};
	uint64_t	 v = 42;
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(nan) / sizeof(nan[0]); i++) {
		ck_assert_msg(parse_u64(nan[i], 0, 100, &v, &why) == -1,
		    "\"%s\"", nan[i]);
		ck_assert_str_eq(why, "not a number");
	}
	ck_assert_int_eq(parse_u64("9", 10, 20, &v, &why), -1);
	ck_assert_str_eq(why, "out of range");
	ck_assert_int_eq(parse_u64("21", 10, 20, &v, &why), -1);
	ck_assert_str_eq(why, "out of range");
	ck_assert_int_eq(parse_u64("18446744073709551616", 0, UINT64_MAX,
	    &v, &why), -1);
	ck_assert_str_eq(why, "out of range");
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(test_util_parse_double)
{
	double		 v;
	const char	*why;

	ck_assert_int_eq(parse_double("6", 0.05, 86400, &v, &why), 0);
	ck_assert(v == 6.0);
	ck_assert_int_eq(parse_double("6.0", 0.05, 86400, &v, &why), 0);
	ck_assert(v == 6.0);
	ck_assert_int_eq(parse_double("6.", 0.05, 86400, &v, &why), 0);
	ck_assert(v == 6.0);
	ck_assert_int_eq(parse_double(".5", 0.05, 86400, &v, &why), 0);
	ck_assert(v == 0.5);
	ck_assert_int_eq(parse_double("0.05", 0.05, 86400, &v, &why), 0);
	ck_assert(v == 0.05);
	ck_assert_int_eq(parse_double("86400", 0.05, 86400, &v, &why), 0);
	ck_assert(v == 86400.0);
}
END_TEST

START_TEST(test_util_parse_double_bad)
{
	static const char *const nan[] = {
		"", ".", "6s", "-1", "+1", " 1", "1 ", "1.2.3", "1e3", "0x10",
		"0x1p-2", "inf", "nan", "1,5"
	};
	double		 v = 42;
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(nan) / sizeof(nan[0]); i++) {
		ck_assert_msg(parse_double(nan[i], 0, 100, &v, &why) == -1,
		    "\"%s\"", nan[i]);
		ck_assert_str_eq(why, "not a number");
	}
	ck_assert_int_eq(parse_double("0.049", 0.05, 1, &v, &why), -1);
	ck_assert_str_eq(why, "out of range");
	ck_assert_int_eq(parse_double("1.0001", 0.05, 1, &v, &why), -1);
	ck_assert_str_eq(why, "out of range");
	ck_assert(v == 42);
}
END_TEST

START_TEST(test_util_parse_bool)
{
	static const struct {
		const char	*s;
		int		 v;
	} ok[] = {
		{ "yes", 1 }, { "YES", 1 }, { "Yes", 1 }, { "true", 1 },
		{ "TRUE", 1 }, { "True", 1 }, { "1", 1 },
		{ "no", 0 }, { "NO", 0 }, { "No", 0 }, { "false", 0 },
		{ "FALSE", 0 }, { "fAlSe", 0 }, { "0", 0 },
	};
	static const char *const bad[] = {
		"", "maybe", "2", "01", "on", "off", "y", "n", " yes", "yes ",
		"yess"
	};
	size_t	 i;
	int	 v;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		ck_assert_msg(parse_bool(ok[i].s, &v) == 0, "%s", ok[i].s);
		ck_assert_int_eq(v, ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		ck_assert_msg(parse_bool(bad[i], &v) == -1, "%s", bad[i]);
		ck_assert_int_eq(v, -1);
	}
}
END_TEST

START_TEST(test_util_fd_flags)
{
	int	 fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(fd_nonblock_cloexec(fds[0]), 0);
	ck_assert(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	close(fds[0]);
	close(fds[1]);
	ck_assert_int_eq(fd_nonblock_cloexec(fds[0]), -1);
}
END_TEST

START_TEST(test_util_mono)
{
	uint64_t	 a, b;

	a = mono_ns();
	b = mono_ns();
	ck_assert_uint_ge(b, a);
	ck_assert(mono_seconds(1000000000ULL, 3500000000ULL) == 2.5);
	ck_assert(mono_seconds(5, 3) == 0.0);
}
END_TEST

#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("util");

	tc = tcase_create("addr_round_trip");
	tcase_add_loop_test(tc, test_util_addr_round_trip, 0,
	    NITEMS(round_trips));
	tcase_add_loop_test(tc, test_util_addr_canonical, 0,
	    NITEMS(canonical));
	tcase_add_test(tc, test_util_addr_family);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr_bad");
	tcase_add_loop_test(tc, test_util_addr_bad, 0, NITEMS(bad_addrs));
	suite_add_tcase(s, tc);

	tc = tcase_create("addr_format");
	tcase_add_test(tc, test_util_addr_format_small);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr_loopback");
	tcase_add_loop_test(tc, test_util_addr_loopback, 0,
	    NITEMS(loopbacks));
	suite_add_tcase(s, tc);

	tc = tcase_create("addr_equal");
	tcase_add_test(tc, test_util_addr_equal);
	suite_add_tcase(s, tc);

	tc = tcase_create("cidr");
	tcase_add_loop_test(tc, test_util_cidr_parse, 0, NITEMS(cidrs));
	tcase_add_loop_test(tc, test_util_cidr_bad, 0, NITEMS(bad_cidrs));
	tcase_add_loop_test(tc, test_util_cidr_contains, 0,
	    NITEMS(cidr_hosts));
	tcase_add_test(tc, test_util_cidrlist);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_u64");
	tcase_add_test(tc, test_util_parse_u64);
	tcase_add_test(tc, test_util_parse_u64_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_double");
	tcase_add_test(tc, test_util_parse_double);
	tcase_add_test(tc, test_util_parse_double_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_bool");
	tcase_add_test(tc, test_util_parse_bool);
	suite_add_tcase(s, tc);

	tc = tcase_create("fd_flags");
	tcase_add_test(tc, test_util_fd_flags);
	suite_add_tcase(s, tc);

	tc = tcase_create("mono");
	tcase_add_test(tc, test_util_mono);
	suite_add_tcase(s, tc);

	return (s);
}
