/*
 * Integration tests for selectors on the admin port (SPEC §12): LIST,
 * KICK and SEND with globs, networks, keywords and comparisons, against
 * the real daemon and four clients:
 *
 *	#1  127.0.0.1  sensor-1
 *	#2  127.0.0.2  sensor-2
 *	#3  127.0.0.1  unnamed
 *	#4  [::1]      pump-1
 */

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define NCL		4
#define NOSUCH		"ERR notfound no such client"

static const char conf[] =
    "[server]\n"
    "listen = 127.0.0.1:0 [::1]:0\n"
    "heartbeat_timeout = 30\n"
    "[admin]\n"
    "listen = 127.0.0.1:0\n"
    "[log]\n"
    "syslog = no\n";

/* LIST with a selector, and the ids it lists, oldest first. */
static const struct {
	const char	*sel;
	const char	*ids;
} lists[] = {
	{ "",					"1 2 3 4" },
	{ "   ",				"1 2 3 4" },
	{ "sensor-*",				"1 2" },
	{ "sensor-?",				"1 2" },
	{ "*-1",				"1 4" },
	{ "*",					"1 2 4" },
	{ "unnamed",				"3" },
	{ "sensor-1",				"1" },
	{ "Sensor-1",				"" },
	{ "#3",					"3" },
	{ "#9",					"" },
	{ "@127.0.0.2/32",			"2" },
	{ "@127.0.0.0/8",			"1 2 3" },
	{ "@127.0.0.0/8 unnamed",		"3" },
	{ "@[::1]/128",				"4" },
	{ "@[::]/0",				"4" },
	{ "@10.0.0.0/8",			"" },
	{ "plain",				"1 2 3 4" },
	{ "tls",				"" },
	{ "age<600",				"1 2 3 4" },
	{ "age>600",				"" },
	{ "idle<600 age>0",			"1 2 3 4" },
	{ "online",				"" },
	{ "for>0",				"" },
	{ "TLS",				"" },
	{ "  sensor-*   @127.0.0.2/32  ",	"2" },
	{ "sensor-* sensor-1",			"1" },
};

/* Bad selectors and their exact answers, with each command. */
static const struct {
	const char	*cmd;
	const char	*answer;
} errors[] = {
	{ "LIST idle>x",	"ERR syntax bad number: idle>x" },
	{ "LIST age<-1",	"ERR syntax bad number: age<-1" },
	{ "LIST @10.0.0.0/33",	"ERR syntax bad network: @10.0.0.0/33" },
	{ "LIST #",		"ERR syntax bad id: #" },
	{ "LIST @1.2.3.4",	"ERR syntax bad address: @1.2.3.4" },
	{ "LIST bogus>1",	"ERR syntax unknown word: bogus>1" },
	{ "LIST -*",		"ERR syntax bad glob: -*" },
	{ "LIST a a a a a a a a a a a a a a a a a",
	    "ERR syntax more than 16 words" },
	{ "KICK",		"ERR syntax usage: KICK <selector>" },
	{ "KICK   ",		"ERR syntax usage: KICK <selector>" },
	{ "KICK idle>",		"ERR syntax bad number: idle>" },
	{ "KICK sensor-* @1.2.3.4:99999",
	    "ERR syntax bad address: @1.2.3.4:99999" },
	{ "SEND  x",		"ERR syntax usage: SEND <target> <message>" },
	{ "SEND sensor-*",	"ERR syntax usage: SEND <target> <message>" },
	{ "SEND @10.0.0.0/8x x", "ERR syntax bad network: @10.0.0.0/8x" },
	{ "SEND for>abc x",	"ERR syntax bad number: for>abc" },
};

static struct hbd	*hd;
static struct hbc	*adm;
static struct hbc	*cl[NCL + 1];		/* cl[n] is #n */

static int		 tmo(void);
static void		 setup(void);
static void		 teardown(void);
static void		 join(int, struct hbc *, const char *);
static void		 expect_answer(const char *, const char *);
static void		 list_ids(const char *, char *, size_t);
static void		 expect_ids(const char *, const char *);
static void		 expect_kicked(int);
static void		 expect_next(int, const char *);

/* ms to wait for any one answer, for the build's speed. */
static int
tmo(void)
{
	return ((int)(2000 * hb_slow_factor()));
}

/* Starts the daemon and joins the four clients. */
static void
setup(void)
{
	hd = hbd_start(conf);
	ck_assert_int_gt(hd->port6, 0);
	adm = hbc_admin(hd);
	join(1, hbc_connect(hd->port), "sensor-1");
	join(2, hbc_connect_from("127.0.0.2", hd->port), "sensor-2");
	join(3, hbc_connect(hd->port), NULL);
	join(4, hbc_connect6(hd->port6), "pump-1");
}

static void
teardown(void)
{
	int	 i;

	for (i = 1; i <= NCL; i++)
		if (cl[i] != NULL)
			hbc_close(cl[i]);
	memset(cl, 0, sizeof(cl));
	hbc_close(adm);
	ck_assert_int_eq(hbd_stop(hd, SIGTERM), 0);
}

/* Takes c as client #id once the daemon logs it, and names it. */
static void
join(int id, struct hbc *c, const char *name)
{
	char	 buf[80];

	cl[id] = c;
	snprintf(buf, sizeof(buf), "connect #%d ", id);
	hbd_expect_log(hd, buf, tmo());
	if (name == NULL)
		return;
	snprintf(buf, sizeof(buf), "HELLO %s\n", name);
	hbc_send(c, buf);
	snprintf(buf, sizeof(buf), "OK #%d", id);
	hbc_expect(c, buf, tmo());
}

static void
expect_answer(const char *cmd, const char *want)
{
	hbc_expect_cmd(adm, cmd, want, tmo());
}

/*
 * Sends "LIST sel" and writes the ids of its CLIENT lines, space
 * separated, into ids; asserts that an END line follows them.
 */
static void
list_ids(const char *sel, char *ids, size_t size)
{
	const char	*line;
	char		 cmd[256];
	size_t		 n = 0;
	int		 id;

	snprintf(cmd, sizeof(cmd), "LIST %s\n", sel);
	hbc_send(adm, cmd);
	ids[0] = '\0';
	while ((line = hbc_readline(adm, tmo())) != NULL &&
	    strncmp(line, "END seq=", 8) != 0) {
		ck_assert_msg(sscanf(line, "CLIENT #%d ", &id) == 1,
		    "LIST %s: %s", sel, line);
		n += snprintf(ids + n, size - n, "%s%d", n == 0 ? "" : " ",
		    id);
		ck_assert_uint_lt(n, size);
	}
	ck_assert_msg(line != NULL, "LIST %s: no END", sel);
}

static void
expect_ids(const char *sel, const char *want)
{
	char	 ids[64];

	list_ids(sel, ids, sizeof(ids));
	ck_assert_msg(strcmp(ids, want) == 0, "LIST %s: ids \"%s\", want "
	    "\"%s\"", sel, ids, want);
}

static void
expect_kicked(int id)
{
	hbc_expect(cl[id], "BYE kicked", tmo());
	hbc_expect_closed(cl[id], tmo());
	hbc_close(cl[id]);
	cl[id] = NULL;
}

/*
 * Sends msg to #id alone and asserts it is the next line #id reads, so
 * that nothing else was queued to it before.
 */
static void
expect_next(int id, const char *msg)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "SEND #%d %s", id, msg);
	expect_answer(cmd, "OK 1");
	hbc_expect(cl[id], msg, tmo());
}

START_TEST(test_select_admin_list)
{
	size_t	 i;

	setup();
	for (i = 0; i < nitems(lists); i++)
		expect_ids(lists[i].sel, lists[i].ids);
	teardown();
}
END_TEST

/* @ip:port names one client, as a §4 target does, in LIST too. */
START_TEST(test_select_admin_list_addr)
{
	char	 sel[64];

	setup();
	snprintf(sel, sizeof(sel), "@127.0.0.2:%d", hbc_local_port(cl[2]));
	expect_ids(sel, "2");
	snprintf(sel, sizeof(sel), "@[::1]:%d plain", hbc_local_port(cl[4]));
	expect_ids(sel, "4");
	snprintf(sel, sizeof(sel), "@127.0.0.1:%d", hbc_local_port(cl[2]));
	expect_ids(sel, "");
	teardown();
}
END_TEST

/*
 * idle>N lists the clients silent for more than N s, idle<N the others:
 * polled with a deadline while #1 keeps talking and the rest say nothing.
 */
START_TEST(test_select_admin_list_idle)
{
	char		 gt[32], lt[32], ids[64];
	long long	 deadline;
	double		 secs = 0.3 * hb_slow_factor();

	setup();
	snprintf(gt, sizeof(gt), "idle>%.1f", secs);
	snprintf(lt, sizeof(lt), "idle<%.1f", secs);
	deadline = hb_now_ms() + 10 * tmo();
	do {
		ck_assert_msg(hb_now_ms() < deadline, "LIST %s: never 2 3 4",
		    gt);
		hbc_send(cl[1], "PING\n");
		hbc_expect(cl[1], "PONG", tmo());
		list_ids(gt, ids, sizeof(ids));
	} while (strcmp(ids, "2 3 4") != 0);
	expect_ids(lt, "1");
	teardown();
}
END_TEST

/* Each bad selector gets its exact ERR syntax; the session goes on. */
START_TEST(test_select_admin_errors)
{
	size_t	 i;

	setup();
	for (i = 0; i < nitems(errors); i++)
		expect_answer(errors[i].cmd, errors[i].answer);
	expect_ids("", "1 2 3 4");
	teardown();
}
END_TEST

/*
 * KICK: a single #id, @ip:port or name answers "OK" or notfound; any
 * other selector "OK <n>", the number kicked, 0 included.
 */
START_TEST(test_select_admin_kick)
{
	setup();
	expect_answer("KICK sensor-*", "OK 2");
	expect_kicked(1);
	expect_kicked(2);
	expect_answer("KICK sensor-*", "OK 0");
	expect_answer("KICK sensor-1", NOSUCH);
	expect_answer("KICK pump-1 tls", "OK 0");
	expect_answer("KICK pump-1 plain", "OK 1");
	expect_kicked(4);
	expect_answer("KICK #3 #3", "OK 1");
	expect_kicked(3);
	expect_answer("KICK #3", NOSUCH);
	ck_assert_int_eq(hbc_stat(adm, "kicked"), 4);
	ck_assert_int_eq(hbc_stat(adm, "clients"), 0);
	teardown();
}
END_TEST

/* KICK with a single target still answers as SPEC §4 does. */
START_TEST(test_select_admin_kick_single)
{
	char	 cmd[64];

	setup();
	expect_answer("KICK sensor-2", "OK");
	expect_kicked(2);
	snprintf(cmd, sizeof(cmd), "KICK @[::1]:%d", hbc_local_port(cl[4]));
	expect_answer(cmd, "OK");
	expect_kicked(4);
	expect_answer("KICK #1", "OK");
	expect_kicked(1);
	expect_answer("KICK TLS", NOSUCH);
	expect_ids("", "3");
	teardown();
}
END_TEST

/*
 * SEND to a glob, a network or another one-word selector queues to each
 * match and counts them; a single target is "OK 1" or notfound.
 */
START_TEST(test_select_admin_send)
{
	int	 i;

	setup();
	expect_answer("SEND sensor-* to sensors", "OK 2");
	expect_answer("SEND @127.0.0.2/32 to two", "OK 1");
	expect_answer("SEND @[::1]/128 to six", "OK 1");
	expect_answer("SEND @127.0.0.0/8 to four", "OK 3");
	expect_answer("SEND unnamed to three", "OK 1");
	expect_answer("SEND nobody-* x", "OK 0");
	expect_answer("SEND tls x", "OK 0");
	expect_answer("SEND sensor-1 to one", "OK 1");
	expect_answer("SEND sensor-9 x", NOSUCH);
	hbc_expect(cl[1], "to sensors", tmo());
	hbc_expect(cl[1], "to four", tmo());
	hbc_expect(cl[1], "to one", tmo());
	hbc_expect(cl[2], "to sensors", tmo());
	hbc_expect(cl[2], "to two", tmo());
	hbc_expect(cl[2], "to four", tmo());
	hbc_expect(cl[3], "to four", tmo());
	hbc_expect(cl[3], "to three", tmo());
	hbc_expect(cl[4], "to six", tmo());
	for (i = 1; i <= NCL; i++)
		expect_next(i, "end");
	ck_assert_int_eq(hbc_stat(adm, "messages_sent"), 9 + NCL);
	teardown();
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	s = suite_create("select_admin");
	HB_TCASE(s, "list", test_select_admin_list, 1);
	HB_TCASE(s, "list_addr", test_select_admin_list_addr, 1);
	HB_TCASE(s, "list_idle", test_select_admin_list_idle, 1);
	HB_TCASE(s, "errors", test_select_admin_errors, 1);
	HB_TCASE(s, "kick", test_select_admin_kick, 1);
	HB_TCASE(s, "kick_single", test_select_admin_kick_single, 1);
	HB_TCASE(s, "send", test_select_admin_send, 1);
	return (s);
}
