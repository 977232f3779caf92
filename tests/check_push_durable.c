/*
 * Integration tests for pushes in the state file (SPEC §13, §11): a push
 * answered OK survives a SIGKILL that comes while thousands more are
 * being submitted, and is delivered after the restart; no id is given
 * twice; and a push acknowledged before a clean stop is not delivered
 * again after it.
 */

#include <sys/types.h>

#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define TMO		2000	/* ms to wait for any one line */
#define NPUSH		10000	/* pushes the crash test submits */
#define NDEV		50	/* names they go to: dev-<k % NDEV> */
#define WINDOW		2000	/* pushes sent ahead of their answers */
#define KILL_AT		5000	/* answers before the SIGKILL */
#define CHUNK		100	/* pushes in one write */
#define NACKED		20	/* pushes of the clean-stop test */

#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 60\n"					\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"[state]\n"							\
	"file = %s\n"							\
	"[log]\n"							\
	"syslog = no\n"

/* What the crash test knows of push k (the k-th PUSH, message m<k>). */
struct sent {
	uint64_t	 id;		/* answered OK with it, or 0 */
	int		 delivered;	/* a MSG for it came after restart */
};

static struct hbd	*start(const char *);
static void		 send_pushes(struct hbc *, int, int);
static uint64_t		 answer_id(const char *);
static struct hbc	*device(struct hbd *, const char *);
static uint64_t		 take_msg(const char *, int, char *, size_t);
static int		 read_devices(struct hbc **, char *, size_t);
static void		 wait_devices(struct hbd *, struct hbc **);
static void		 expect_msg(struct hbc *, uint64_t, int);

static struct sent	 sent[NPUSH];
static int		 nanswered;	/* pushes 0 .. nanswered-1 have ids */
static int		 ndelivered;	/* of those, delivered */
static uint64_t		 seen_max;	/* the highest id seen anywhere */

/* Starts the daemon on the state file at path. */
static struct hbd *
start(const char *path)
{
	char	 conf[PATH_MAX + 256];

	snprintf(conf, sizeof(conf), CONF_FMT, path);
	return (hbd_start(conf));
}

/* Sends pushes from .. to-1 of the crash test, in one write. */
static void
send_pushes(struct hbc *a, int from, int to)
{
	char	 buf[CHUNK * 32];
	size_t	 len = 0;
	int	 k;

	ck_assert_int_le(to - from, CHUNK);
	for (k = from; k < to; k++)
		len += snprintf(buf + len, sizeof(buf) - len,
		    "PUSH dev-%d 0 m%d\n", k % NDEV, k);
	hbc_sendn(a, buf, len);
}

/* The id of an answer "OK <id>"; fails the test on anything else. */
static uint64_t
answer_id(const char *line)
{
	uint64_t	 id;
	int		 n = -1;

	ck_assert_msg(line != NULL, "no answer to a PUSH");
	ck_assert_msg(sscanf(line, "OK %" SCNu64 "%n", &id, &n) == 1 &&
	    n == (int)strlen(line) && id > 0, "PUSH answered \"%s\"", line);
	if (id > seen_max)
		seen_max = id;
	return (id);
}

/* Connects a client and names it name. */
static struct hbc *
device(struct hbd *d, const char *name)
{
	struct hbc	*c;
	char		 buf[96];

	c = hbc_connect(d->port);
	snprintf(buf, sizeof(buf), "HELLO %s", name);
	hb_assert_match(hbc_cmd(c, buf, TMO), "^OK #[0-9]+$");
	return (c);
}

/*
 * Takes a line that device dev-<j> of the crash test got: "MSG <id>
 * m<k>", for a push k of that device, with the id it was answered with
 * if it was. Appends "ACK <id>\n" to ack. Returns the id.
 */
static uint64_t
take_msg(const char *line, int j, char *ack, size_t size)
{
	uint64_t	 id;
	int		 k, n = -1;

	ck_assert_msg(sscanf(line, "MSG %" SCNu64 " m%d%n", &id, &k, &n) ==
	    2 && n == (int)strlen(line), "dev-%d got \"%s\"", j, line);
	ck_assert_msg(k >= 0 && k < NPUSH && k % NDEV == j, "dev-%d got "
	    "\"%s\"", j, line);
	if (k < nanswered) {
		ck_assert_msg(id == sent[k].id, "dev-%d got \"%s\", push m%d "
		    "was answered OK %" PRIu64, j, line, k, sent[k].id);
		if (!sent[k].delivered)
			ndelivered++;
		sent[k].delivered = 1;
	} else
		ck_assert_msg(id > sent[nanswered - 1].id, "dev-%d got \"%s\", "
		    "an id not above the last answered", j, line);
	if (id > seen_max)
		seen_max = id;
	snprintf(ack + strlen(ack), size - strlen(ack), "ACK %" PRIu64 "\n",
	    id);
	return (id);
}

/*
 * Reads every line the devices have now, without waiting, and
 * acknowledges each MSG. Returns how many lines there were.
 */
static int
read_devices(struct hbc **dev, char *ack, size_t size)
{
	const char	*line;
	int		 j, n = 0;

	for (j = 0; j < NDEV; j++) {
		ack[0] = '\0';
		while ((line = hbc_readline(dev[j], 0)) != NULL) {
			take_msg(line, j, ack, size);
			n++;
		}
		ck_assert_msg(!dev[j]->eof, "dev-%d was closed", j);
		if (ack[0] != '\0')
			hbc_send(dev[j], ack);
	}
	return (n);
}

/*
 * Collects the devices' MSGs until every push answered OK before the
 * crash has been delivered, or the deadline passes.
 */
static void
wait_devices(struct hbd *d, struct hbc **dev)
{
	struct pollfd	 pfd[NDEV + 1];
	static char	 ack[NPUSH / NDEV * 32 + 4096];
	long long	 deadline;
	int		 j;

	deadline = hb_now_ms() + 10000 * hb_slow_factor();
	while (ndelivered < nanswered) {
		ck_assert_msg(hb_now_ms() < deadline, "%d of the %d pushes "
		    "answered OK delivered", ndelivered, nanswered);
		if (read_devices(dev, ack, sizeof(ack)) > 0)
			continue;
		for (j = 0; j < NDEV; j++) {
			pfd[j].fd = dev[j]->fd;
			pfd[j].events = POLLIN;
		}
		pfd[NDEV].fd = d->errfd;
		pfd[NDEV].events = POLLIN;
		poll(pfd, NDEV + 1, 100);
		hbd_drain_log(d);
	}
}

/*
 * While one admin session pipelines 10,000 pushes to 50 names, and has
 * some 5,000 answers, the daemon is killed. After a restart on the same
 * file, every push answered OK is delivered to its name, with the id it
 * was answered with; a push sent but not answered may be delivered too.
 * A new push gets an id above every one seen before.
 */
START_TEST(test_push_crash)
{
	struct hbd	*d;
	struct hbc	*a, *dev[NDEV];
	const char	*line;
	char		*path;
	char		 name[32];
	uint64_t	 before;
	int		 next = 0, j;

	path = hb_write_file("push.db", "");
	d = start(path);
	a = hbc_admin(d);
	while (nanswered < KILL_AT) {
		while (next < NPUSH && next - nanswered < WINDOW) {
			send_pushes(a, next, next + CHUNK);
			next += CHUNK;
		}
		sent[nanswered].id = answer_id(hbc_readline(a, TMO));
		ck_assert_uint_gt(sent[nanswered].id, nanswered > 0 ?
		    sent[nanswered - 1].id : 0);
		nanswered++;
	}
	ck_assert_int_eq(hbd_stop(d, SIGKILL), 128 + SIGKILL);
	while ((line = hbc_readline(a, TMO)) != NULL) {
		sent[nanswered].id = answer_id(line);
		ck_assert_uint_gt(sent[nanswered].id, sent[nanswered - 1].id);
		nanswered++;
	}
	ck_assert_msg(a->eof, "the admin session outlived the daemon");
	ck_assert_int_lt(nanswered, next);
	hbc_close(a);

	d = start(path);
	for (j = 0; j < NDEV; j++) {
		snprintf(name, sizeof(name), "dev-%d", j);
		dev[j] = device(d, name);
	}
	wait_devices(d, dev);
	before = seen_max;
	a = hbc_admin(d);
	ck_assert_uint_gt(answer_id(hbc_cmd(a, "PUSH dev-0 0 after", TMO)),
	    before);
	for (j = 0; j < NDEV; j++)
		hbc_close(dev[j]);
	hbd_finish(d, a, NULL);
	free(path);
}
END_TEST

/* Asserts that c's next line is "MSG <id> m<k>". */
static void
expect_msg(struct hbc *c, uint64_t id, int k)
{
	char	 want[64];

	snprintf(want, sizeof(want), "MSG %" PRIu64 " m%d", id, k);
	hbc_expect(c, want, TMO);
}

/*
 * Of 20 pushes delivered, the first 10 are acknowledged, and the daemon
 * stops cleanly: after the restart, PUSHES lists the other 10, the name
 * gets those 10 again, in order, and nothing else, and a new push gets
 * an id above all 20.
 */
START_TEST(test_push_acked_restart)
{
	struct hbd	*d;
	struct hbc	*a, *c;
	const char	*line;
	char		*path;
	uint64_t	 id[NACKED];
	char		 cmd[64];
	int		 k;

	path = hb_write_file("push.db", "");
	d = start(path);
	a = hbc_admin(d);
	for (k = 0; k < NACKED; k++) {
		snprintf(cmd, sizeof(cmd), "PUSH dev-a 0 m%d\n", k);
		hbc_send(a, cmd);
	}
	for (k = 0; k < NACKED; k++) {
		id[k] = answer_id(hbc_readline(a, TMO));
		ck_assert(k == 0 || id[k] > id[k - 1]);
	}
	c = device(d, "dev-a");
	for (k = 0; k < NACKED; k++)
		expect_msg(c, id[k], k);
	for (k = 0; k < NACKED / 2; k++) {
		snprintf(cmd, sizeof(cmd), "ACK %" PRIu64 "\n", id[k]);
		hbc_send(c, cmd);
	}
	hbc_send(c, "PING acked\n");
	hbc_expect(c, "PONG acked", TMO);
	hbd_finish(d, a, c, NULL);

	d = start(path);
	a = hbc_admin(d);
	hbc_send(a, "PUSHES dev-a\n");
	for (k = NACKED / 2; k < NACKED; k++) {
		line = hbc_readline(a, TMO);
		ck_assert_ptr_nonnull(line);
		snprintf(cmd, sizeof(cmd), "^PUSH id=%" PRIu64 " .* m%d$",
		    id[k], k);
		hb_assert_match(line, cmd);
	}
	hbc_expect(a, "END", TMO);
	c = device(d, "dev-a");
	for (k = NACKED / 2; k < NACKED; k++)
		expect_msg(c, id[k], k);
	hbc_send(c, "PING none\n");
	hbc_expect(c, "PONG none", TMO);
	ck_assert_uint_gt(answer_id(hbc_cmd(a, "PUSH dev-a 0 new", TMO)),
	    id[NACKED - 1]);
	hbd_finish(d, a, c, NULL);
	free(path);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("push_durable");
	TCase	*tc;

	tc = tcase_create("push_durable");
	tcase_set_timeout(tc, 20 * hb_slow_factor());
	tcase_add_test(tc, test_push_crash);
	tcase_add_test(tc, test_push_acked_restart);
	suite_add_tcase(s, tc);
	return (s);
}
