/*
 * Unit tests for src/select.c: every selector word and every malformed
 * one, IPv4 and IPv6 networks, the glob matcher, and the matching of
 * each word against live clients and last-seen registry entries.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "check_main.h"
#include "heartbeatd.h"
#include "proto.h"
#include "select.h"
#include "util.h"

#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define DESC_MAX	128

/* Subjects as bits of a mask, for the matching table. */
#define L0	0x01	/* live #1 sensor-7 10.1.2.3:5000 plain */
#define L1	0x02	/* live #2 unnamed [2001:db8::7]:7000 tls */
#define L2	0x04	/* live #3 pump-2 mapped 192.0.2.9:40000 tls */
#define S0	0x08	/* seen sensor-7 10.1.2.3:5000 offline */
#define S1	0x10	/* seen tls, no address, held */
#define NSUBJ	5
#define ALL	0x1f

static void	 describe(const struct select_word *, char *, size_t);
static void	 subjects_init(void);
static int	 match_mask(const char *);

/* Each word alone, and the canonical form of what it parsed to. */
static const struct {
	const char	*word;
	const char	*desc;
} words[] = {
	{ "#1",				"id 1" },
	{ "#42",			"id 42" },
	{ "#18446744073709551615",	"id 18446744073709551615" },
	{ "@127.0.0.1:5",		"addr 127.0.0.1:5" },
	{ "@192.0.2.7:53311",		"addr 192.0.2.7:53311" },
	{ "@[::1]:5",			"addr [::1]:5" },
	{ "@[2001:db8::7]:7000",	"addr [2001:db8::7]:7000" },
	{ "@10.0.0.0/8",		"cidr 10.0.0.0/8" },
	{ "@0.0.0.0/0",			"cidr 0.0.0.0/0" },
	{ "@192.0.2.7/32",		"cidr 192.0.2.7/32" },
	{ "@[2001:db8::]/32",		"cidr 2001:db8::/32" },
	{ "@2001:db8::/32",		"cidr 2001:db8::/32" },
	{ "@[::]/0",			"cidr ::/0" },
	{ "@[::1]/128",			"cidr ::1/128" },
	{ "@[::ffff:10.0.0.0]/104",	"cidr 10.0.0.0/8" },
	{ "sensor-7",			"name sensor-7" },
	{ "a",				"name a" },
	{ "0.-_:@",			"name 0.-_:@" },
	{ "TLS",			"name TLS" },
	{ "Online",			"name Online" },
	{ "idle",			"name idle" },
	{ "sensor-*",			"glob sensor-*" },
	{ "*",				"glob *" },
	{ "?",				"glob ?" },
	{ "*-7",			"glob *-7" },
	{ "a*b?c",			"glob a*b?c" },
	{ "**",				"glob **" },
	{ "unnamed",			"unnamed" },
	{ "tls",			"tls" },
	{ "plain",			"plain" },
	{ "online",			"state 0" },
	{ "offline",			"state 1" },
	{ "held",			"state 2" },
	{ "fleet",			"fleet" },
	{ "Fleet",			"name Fleet" },
	{ "idle>5",			"idle > 5" },
	{ "idle<0.5",			"idle < 0.5" },
	{ "idle>.5",			"idle > 0.5" },
	{ "idle>5.",			"idle > 5" },
	{ "age>0",			"age > 0" },
	{ "age<125.25",			"age < 125.25" },
	{ "for>3600",			"for > 3600" },
	{ "for<10000000000",		"for < 1e+10" },
};

/* Malformed selectors and the exact reason select_parse() gives. */
static const struct {
	const char	*args;
	size_t		 len;		/* 0: strlen(args) */
	const char	*why;
} bad[] = {
	{ "#", 0,			"bad id: #" },
	{ "#x", 0,			"bad id: #x" },
	{ "#0", 0,			"bad id: #0" },
	{ "#-1", 0,			"bad id: #-1" },
	{ "#1x", 0,			"bad id: #1x" },
	{ "#18446744073709551616", 0,	"bad id: #18446744073709551616" },
	{ "@", 0,			"bad address: @" },
	{ "@1.2.3.4", 0,		"bad address: @1.2.3.4" },
	{ "@1.2.3.4:", 0,		"bad address: @1.2.3.4:" },
	{ "@1.2.3.4:99999", 0,		"bad address: @1.2.3.4:99999" },
	{ "@1.2.3:4", 0,		"bad address: @1.2.3:4" },
	{ "@[::1]", 0,			"bad address: @[::1]" },
	{ "@::1:5", 0,			"bad address: @::1:5" },
	{ "@host:80", 0,		"bad address: @host:80" },
	{ "@10.0.0.0/33", 0,		"bad network: @10.0.0.0/33" },
	{ "@10.0.0.1/8", 0,		"bad network: @10.0.0.1/8" },
	{ "@10.0.0.0/", 0,		"bad network: @10.0.0.0/" },
	{ "@10.0.0.0/8x", 0,		"bad network: @10.0.0.0/8x" },
	{ "@10.0.0.0/-8", 0,		"bad network: @10.0.0.0/-8" },
	{ "@/8", 0,			"bad network: @/8" },
	{ "@[2001:db8::]/129", 0,	"bad network: @[2001:db8::]/129" },
	{ "@[2001:db8::1]/32", 0,	"bad network: @[2001:db8::1]/32" },
	{ "@[2001:db8::/32", 0,		"bad network: @[2001:db8::/32" },
	{ "@1.2.3.4:5/8", 0,		"bad network: @1.2.3.4:5/8" },
	{ "idle>", 0,			"bad number: idle>" },
	{ "idle<", 0,			"bad number: idle<" },
	{ "idle>x", 0,			"bad number: idle>x" },
	{ "idle>=5", 0,			"bad number: idle>=5" },
	{ "age<-1", 0,			"bad number: age<-1" },
	{ "age>+1", 0,			"bad number: age>+1" },
	{ "age>1e3", 0,			"bad number: age>1e3" },
	{ "age>0x10", 0,		"bad number: age>0x10" },
	{ "age>1.2.3", 0,		"bad number: age>1.2.3" },
	{ "for>abc", 0,			"bad number: for>abc" },
	{ "for<inf", 0,			"bad number: for<inf" },
	{ "for>10000000001", 0,		"bad number: for>10000000001" },
	{ "idle>5>6", 0,		"bad number: idle>5>6" },
	{ "idle=5", 0,			"unknown word: idle=5" },
	{ "IDLE>5", 0,			"unknown word: IDLE>5" },
	{ "size>5", 0,			"unknown word: size>5" },
	{ "bogus<3", 0,			"unknown word: bogus<3" },
	{ "-x", 0,			"unknown word: -x" },
	{ "a!b", 0,			"unknown word: a!b" },
	{ "a\tb", 0,			"unknown word: a\tb" },
	{ "a\0b", 3,			"unknown word: a" },
	{ "*!", 0,			"bad glob: *!" },
	{ "-*", 0,			"bad glob: -*" },
	{ "a/*", 0,			"bad glob: a/*" },
	{ "#1 idle>x", 0,		"bad number: idle>x" },
	{ "tls sensor-* @300.0.0.0/8", 0, "bad network: @300.0.0.0/8" },
};

static const struct {
	const char	*pat;
	const char	*name;
	int		 match;
} globs[] = {
	{ "*",		"",		1 },
	{ "*",		"abc",		1 },
	{ "**",		"",		1 },
	{ "?",		"",		0 },
	{ "?",		"a",		1 },
	{ "?",		"ab",		0 },
	{ "??",		"ab",		1 },
	{ "*?",		"",		0 },
	{ "*?",		"a",		1 },
	{ "?*?",	"a",		0 },
	{ "?*?",	"ab",		1 },
	{ "?*?",	"abc",		1 },
	{ "a*b*c",	"abc",		1 },
	{ "a*b*c",	"aXbYc",	1 },
	{ "a*b*c",	"abbbcc",	1 },
	{ "a*b*c",	"aXbYcZ",	0 },
	{ "a*b*c",	"acb",		0 },
	{ "a*b*c",	"ab",		0 },
	{ "*x",		"x",		1 },
	{ "*x",		"abx",		1 },
	{ "*x",		"xa",		0 },
	{ "*x",		"",		0 },
	{ "x*",		"x",		1 },
	{ "x*",		"xyz",		1 },
	{ "x*",		"ax",		0 },
	{ "x*",		"",		0 },
	{ "abc",	"abc",		1 },
	{ "abc",	"abd",		0 },
	{ "abc",	"ab",		0 },
	{ "abc",	"abcd",		0 },
	{ "abc",	"",		0 },
	{ "",		"",		1 },
	{ "",		"a",		0 },
	{ "a**b",	"ab",		1 },
	{ "*ab",	"aab",		1 },
	{ "*aab",	"aaab",		1 },
	{ "a*ab",	"aab",		1 },
	{ "a*ab",	"aba",		0 },
	{ "sensor-?",	"sensor-7",	1 },
	{ "sensor-?",	"sensor-77",	0 },
	{ "sensor-*",	"sensor-",	1 },
	{ "*.*",	"a.b",		1 },
	{ "*.*",	"ab",		0 },
	{ "a*",		"A",		0 },
	{ "*a*a*a*a*b",	"aaaab",	1 },
	{ "*a*a*a*a*b",	"aaaa",		0 },
	{ "*a*a*a*a*b",	"aaab",		0 },
};

/* Selectors and the subjects (L0 ... S1) each matches. */
static const struct {
	const char	*sel;
	int		 mask;
} matches[] = {
	{ "",				ALL },
	{ "   ",			ALL },
	{ "#1",				L0 },
	{ "#2",				L1 },
	{ "#4",				0 },
	{ "@10.1.2.3:5000",		L0 | S0 },
	{ "@10.1.2.3:5001",		0 },
	{ "@10.1.2.4:5000",		0 },
	{ "@[2001:db8::7]:7000",	L1 },
	{ "@[2001:db8::7]:7001",	0 },
	{ "@10.0.0.0/8",		L0 | S0 },
	{ "@10.1.2.3/32",		L0 | S0 },
	{ "@10.1.2.2/32",		0 },
	{ "@11.0.0.0/8",		0 },
	{ "@192.0.2.0/24",		L2 },
	{ "@[::ffff:192.0.2.0]/120",	L2 },
	{ "@0.0.0.0/0",			L0 | L2 | S0 },
	{ "@[2001:db8::]/32",		L1 },
	{ "@2001:db8::/32",		L1 },
	{ "@[2001:db9::]/32",		0 },
	{ "@[::]/0",			L1 },
	{ "sensor-7",			L0 | S0 },
	{ "Sensor-7",			0 },
	{ "sensor",			0 },
	{ "sensor-*",			L0 | S0 },
	{ "*",				L0 | L2 | S0 | S1 },
	{ "*-?",			L0 | L2 | S0 },
	{ "tl?",			S1 },
	{ "unnamed",			L1 },
	{ "tls",			L1 | L2 },
	{ "plain",			L0 },
	{ "idle>1",			L0 | L2 },
	{ "idle>2",			L2 },
	{ "idle<2",			L1 },
	{ "idle<2.001",			L0 | L1 },
	{ "idle<0.5",			0 },
	{ "age>100",			L2 },
	{ "age<100.5",			L0 | L1 },
	{ "age>0",			L0 | L1 | L2 },
	{ "online",			0 },
	{ "offline",			S0 },
	{ "held",			S1 },
	{ "for>3599.5",			S0 },
	{ "for<10",			0 },
	{ "for<10.1",			S1 },
	{ "for>0",			S0 | S1 },
	{ "sensor-* plain",		L0 },
	{ "sensor-* offline",		S0 },
	{ "sensor-* online",		0 },
	{ "tls idle>10",		L2 },
	{ "tls unnamed @[2001:db8::]/32", L1 },
	{ "#1 #2",			0 },
	{ "sensor-7  sensor-7",		L0 | S0 },
	{ "* @10.0.0.0/8 for>1",	S0 },
	{ "fleet",			ALL },
	{ "fleet sensor-*",		L0 | S0 },
	{ "tls fleet idle>10",		L2 },
};

/* One-word and other selectors, and whether select_single() is a target. */
static const struct {
	const char	*sel;
	int		 kind;		/* enum target_kind, or -1: none */
} singles[] = {
	{ "#1",			TARGET_ID },
	{ "@1.2.3.4:5",		TARGET_ADDR },
	{ "@[::1]:5",		TARGET_ADDR },
	{ "sensor-7",		TARGET_NAME },
	{ "  sensor-7  ",	TARGET_NAME },
	{ "TLS",		TARGET_NAME },
	{ "sensor-*",		-1 },
	{ "@10.0.0.0/8",	-1 },
	{ "tls",		-1 },
	{ "unnamed",		-1 },
	{ "idle>1",		-1 },
	{ "#1 #1",		-1 },
	{ "sensor-7 plain",	-1 },
	{ "fleet sensor-7",	-1 },
	{ "fleet",		-1 },
	{ "",			-1 },
};

static struct sockaddr_storage	 addrs[3];
static struct select_subject	 subj[NSUBJ];

/* Writes a canonical description of w into buf. */
static void
describe(const struct select_word *w, char *buf, size_t size)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&w->u.cidr.net;
	char			 host[INET6_ADDRSTRLEN];
	static const char	*measure[] = { "idle", "age", "for" };

	switch (w->kind) {
	case SELECT_TARGET:
		if (w->u.target.kind == TARGET_ID)
			snprintf(buf, size, "id %llu",
			    (unsigned long long)w->u.target.id);
		else if (w->u.target.kind == TARGET_ADDR)
			snprintf(buf, size, "addr %s", addr_format(
			    (const struct sockaddr *)&w->u.target.addr, host,
			    sizeof(host)));
		else
			snprintf(buf, size, "name %s", w->u.target.name);
		break;
	case SELECT_CIDR:
		inet_ntop(sa->sa_family, sa->sa_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)sa)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr,
		    host, sizeof(host));
		snprintf(buf, size, "cidr %s/%u", host, w->u.cidr.bits);
		break;
	case SELECT_GLOB:
		snprintf(buf, size, "glob %s", w->u.glob);
		break;
	case SELECT_UNNAMED:
		snprintf(buf, size, "unnamed");
		break;
	case SELECT_TLS:
		snprintf(buf, size, "tls");
		break;
	case SELECT_PLAIN:
		snprintf(buf, size, "plain");
		break;
	case SELECT_STATE:
		snprintf(buf, size, "state %d", (int)w->u.state);
		break;
	case SELECT_IDLE:
	case SELECT_AGE:
	case SELECT_FOR:
		snprintf(buf, size, "%s %c %g",
		    measure[w->kind - SELECT_IDLE], w->u.cmp.op,
		    w->u.cmp.secs);
		break;
	case SELECT_FLEET:
		snprintf(buf, size, "fleet");
		break;
	}
}

/*
 * The five subjects of the matching table (see L0 ... S1). The fields
 * of the other kind of subject hold values that would match, so that a
 * word matching the wrong kind shows.
 */
static void
subjects_init(void)
{
	static const char	*a[] = { "10.1.2.3:5000", "[2001:db8::7]:7000",
	    "[::ffff:192.0.2.9]:40000" };
	socklen_t		 len;
	int			 i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(addr_parse(a[i], &addrs[i], &len), 0);
	memset(subj, 0, sizeof(subj));
	subj[0] = (struct select_subject){ 0, 1, "sensor-7",
	    (struct sockaddr *)&addrs[0], 0, 100, 2, SELECT_OFFLINE, 1e6 };
	subj[1] = (struct select_subject){ 0, 2, "",
	    (struct sockaddr *)&addrs[1], 1, 5, 0.5, 0, 0 };
	subj[2] = (struct select_subject){ 0, 3, "pump-2",
	    (struct sockaddr *)&addrs[2], 1, 3600, 30, 0, 0 };
	subj[3] = (struct select_subject){ 1, 0, "sensor-7",
	    (struct sockaddr *)&addrs[0], 1, 1e6, 1e6, SELECT_OFFLINE, 3600 };
	subj[4] = (struct select_subject){ 1, 0, "tls", NULL, 0, 1e6, 1e6,
	    SELECT_HELD, 10 };
}

/* Parses sel and returns the mask of the subjects it matches. */
static int
match_mask(const char *sel)
{
	struct selector	 s;
	const char	*why;
	int		 i, mask = 0;

	ck_assert_msg(select_parse(sel, strlen(sel), &s, &why) == 0,
	    "\"%s\": %s", sel, why);
	for (i = 0; i < NSUBJ; i++)
		if (select_match(&s, &subj[i]))
			mask |= 1 << i;
	return (mask);
}

START_TEST(test_select_word)
{
	struct selector	 s;
	const char	*why, *w = words[_i].word;
	char		 desc[DESC_MAX];

	ck_assert_msg(select_parse(w, strlen(w), &s, &why) == 0,
	    "\"%s\": %s", w, why);
	ck_assert_uint_eq(s.n, 1);
	describe(&s.w[0], desc, sizeof(desc));
	ck_assert_str_eq(desc, words[_i].desc);
}
END_TEST

START_TEST(test_select_bad)
{
	struct selector	 s;
	const char	*why, *args = bad[_i].args;
	size_t		 len = bad[_i].len ? bad[_i].len : strlen(args);

	ck_assert_msg(select_parse(args, len, &s, &why) == -1,
	    "\"%s\" parsed", args);
	ck_assert_str_eq(why, bad[_i].why);
}
END_TEST

/* A NULL argument (a command with none) and spaces are no words. */
START_TEST(test_select_empty)
{
	struct selector	 s;
	const char	*why;

	ck_assert_int_eq(select_parse(NULL, 0, &s, &why), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(select_parse("  ", 2, &s, &why), 0);
	ck_assert_uint_eq(s.n, 0);
	/* Only len bytes count: the word after them is not read. */
	ck_assert_int_eq(select_parse("tls #x", 3, &s, &why), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(s.w[0].kind, SELECT_TLS);
}
END_TEST

/* 16 words parse; a 17th is refused. */
START_TEST(test_select_too_many)
{
	struct selector	 s;
	char		 buf[256] = "";
	const char	*why;
	int		 i;

	for (i = 0; i < SELECT_WORDS_MAX; i++)
		strlcat(buf, i == 0 ? "tls" : " tls", sizeof(buf));
	ck_assert_int_eq(select_parse(buf, strlen(buf), &s, &why), 0);
	ck_assert_uint_eq(s.n, SELECT_WORDS_MAX);
	strlcat(buf, " plain", sizeof(buf));
	ck_assert_int_eq(select_parse(buf, strlen(buf), &s, &why), -1);
	ck_assert_str_eq(why, "more than 16 words");
}
END_TEST

/*
 * A name and a glob of 64 bytes parse, of 65 do not; a longer word is
 * refused whole, its first 64 bytes named.
 */
START_TEST(test_select_lengths)
{
	struct selector	 s;
	char		 buf[SELECT_WORD_MAX + 2], want[128];
	const char	*why;

	memset(buf, 'a', sizeof(buf));
	ck_assert_int_eq(select_parse(buf, HB_NAME_MAX, &s, &why), 0);
	ck_assert_int_eq(s.w[0].u.target.kind, TARGET_NAME);
	ck_assert_int_eq(select_parse(buf, HB_NAME_MAX + 1, &s, &why), -1);
	snprintf(want, sizeof(want), "unknown word: %.64s", buf);
	ck_assert_str_eq(why, want);
	buf[0] = '*';
	ck_assert_int_eq(select_parse(buf, HB_NAME_MAX, &s, &why), 0);
	ck_assert_int_eq(s.w[0].kind, SELECT_GLOB);
	ck_assert_uint_eq(strlen(s.w[0].u.glob), HB_NAME_MAX);
	ck_assert_int_eq(select_parse(buf, HB_NAME_MAX + 1, &s, &why), -1);
	snprintf(want, sizeof(want), "bad glob: %.64s", buf);
	ck_assert_str_eq(why, want);
	ck_assert_int_eq(select_parse(buf, SELECT_WORD_MAX + 1, &s, &why),
	    -1);
	snprintf(want, sizeof(want), "word too long: %.64s", buf);
	ck_assert_str_eq(why, want);
}
END_TEST

START_TEST(test_select_single)
{
	struct selector		 s;
	const struct target	*t;
	const char		*why, *sel = singles[_i].sel;

	ck_assert_int_eq(select_parse(sel, strlen(sel), &s, &why), 0);
	t = select_single(&s);
	ck_assert_int_eq(select_fleet(&s), strstr(sel, "fleet") != NULL);
	if (singles[_i].kind == -1) {
		ck_assert_msg(t == NULL, "\"%s\" is single", sel);
		return;
	}
	ck_assert_msg(t != NULL, "\"%s\" is not single", sel);
	ck_assert_int_eq(t->kind, singles[_i].kind);
}
END_TEST

START_TEST(test_select_glob)
{
	ck_assert_msg(glob_match(globs[_i].pat, globs[_i].name) ==
	    globs[_i].match, "\"%s\" against \"%s\": want %d", globs[_i].pat,
	    globs[_i].name, globs[_i].match);
}
END_TEST

/*
 * A pattern that makes a recursive matcher try every way to split a long
 * name between its stars ends at once here (the test case's timeout
 * catches one that does not).
 */
START_TEST(test_select_glob_pathological)
{
	char	 name[HB_NAME_MAX + 1], pat[HB_NAME_MAX + 1];
	int	 i;

	memset(name, 'a', HB_NAME_MAX);
	name[HB_NAME_MAX] = '\0';
	for (i = 0; i < 31; i++)
		memcpy(pat + 2 * i, "*a", 2);
	strlcpy(pat + 62, "*b", 3);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(glob_match(pat, name), 0);
	name[HB_NAME_MAX - 1] = 'b';
	ck_assert_int_eq(glob_match(pat, name), 1);
}
END_TEST

START_TEST(test_select_match)
{
	int	 got;

	subjects_init();
	got = match_mask(matches[_i].sel);
	ck_assert_msg(got == matches[_i].mask, "\"%s\": matched 0x%02x, want "
	    "0x%02x", matches[_i].sel, got, matches[_i].mask);
}
END_TEST

/* A subject of a family that has no address bytes matches no network. */
START_TEST(test_select_match_unix)
{
	struct sockaddr_storage	 ss;
	struct select_subject	 u;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	memset(&u, 0, sizeof(u));
	u.name = "x";
	u.addr = (struct sockaddr *)&ss;
	subjects_init();
	subj[0] = u;
	ck_assert_int_eq(match_mask("@0.0.0.0/0") & L0, 0);
	ck_assert_int_eq(match_mask("@[::]/0") & L0, 0);
	ck_assert_int_eq(match_mask("x plain") & L0, L0);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("select");

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_select_word, 0, NITEMS(words));
	tcase_add_loop_test(tc, test_select_bad, 0, NITEMS(bad));
	tcase_add_test(tc, test_select_empty);
	tcase_add_test(tc, test_select_too_many);
	tcase_add_test(tc, test_select_lengths);
	tcase_add_loop_test(tc, test_select_single, 0, NITEMS(singles));
	suite_add_tcase(s, tc);

	tc = tcase_create("glob");
	tcase_set_timeout(tc, 5);
	tcase_add_loop_test(tc, test_select_glob, 0, NITEMS(globs));
	tcase_add_test(tc, test_select_glob_pathological);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_select_match, 0, NITEMS(matches));
	tcase_add_test(tc, test_select_match_unix);
	suite_add_tcase(s, tc);
	return (s);
}
