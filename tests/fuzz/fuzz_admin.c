/*
 * libFuzzer harness for the admin protocol: one session, TCP or Unix, fed
 * the input as pipelined commands, with three clients connected so that
 * SEND, KICK, BROADCAST, LIST, WATCH and PUSH find someone, and RELOAD
 * reading real config files: fuzz_init()'s, another valid one and a
 * broken one.
 *
 * Input: byte 0 seeds the chunk sizes, byte 1 holds the knobs below, the
 * rest is what the operator sends, cut into chunks. At the end the
 * session's peer closes, and the session must then be gone.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon.h"
#include "events.h"
#include "heartbeatd.h"
#include "push.h"
#include "stats.h"
#include "xmalloc.h"

#include "fuzz_common.h"

#define KNOB_UNIX	0x01	/* the session is on the Unix socket */
#define KNOB_TOKEN	0x02	/* a token is set */
#define KNOB_CONF	0x0c	/* which file RELOAD reads */
#define KNOB_NO_DRAIN	0x10	/* read no answers until the end */
#define KNOB_SMALL_BUF	0x20	/* send_buffer_limit at its minimum */
#define KNOB_TICK	0x40	/* a client data line after each chunk */
#define KNOB_SHORT	0x80	/* max_line at its minimum */

#define NCLIENTS	3
#define FINISH_ROUNDS	64	/* rounds without an answer byte */
#define FINISH_MAX	100000	/* rounds in all */

static const char conf_b[] =
    "[server]\n"
    "listen = 127.0.0.1:0\n"
    "heartbeat_timeout = 5.5\n"
    "max_line = 64\n"
    "duplicate_name = reject\n"
    "[admin]\n"
    "listen =\n"
    "token = s3cret\n"
    "watch_backlog = 3\n"
    "[log]\n"
    "syslog = no\n"
    "level = debug\n";

static const char conf_bad[] =
    "[server]\n"
    "listen = 127.0.0.1:0\n"
    "heartbeat_timeout = 6s\n";

static char	*conf_paths[4];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	conf_paths[0] = conf_paths[3] = fuzz_init();
	conf_paths[1] = fuzz_temp_file(conf_b, sizeof(conf_b) - 1, NULL);
	conf_paths[2] = fuzz_temp_file(conf_bad, sizeof(conf_bad) - 1, NULL);
	return (0);
}

/* Sets the knobs on hb_conf, which an earlier RELOAD may have replaced. */
static void
configure(uint8_t knobs)
{
	free(hb_conf->path);
	hb_conf->path = xstrdup(conf_paths[(knobs & KNOB_CONF) >> 2]);
	free(hb_conf->admin_token);
	hb_conf->admin_token = (knobs & KNOB_TOKEN) ? xstrdup("s3cret") : NULL;
	hb_conf->send_buffer_limit = (knobs & KNOB_SMALL_BUF) ? 1024 : 262144;
	hb_conf->max_line = (knobs & KNOB_SHORT) ? 16 : 1024;
}

/* Three clients whose kernel buffers fill fast: SEND can overflow. */
static void
clients_new(struct fuzz_conn *cl)
{
	int	 i;

	fuzz_client(&cl[0], "127.0.0.1", 5001);
	fuzz_sends(&cl[0], "HELLO sensor-7\n");
	fuzz_client(&cl[1], "127.0.0.1", 5002);
	fuzz_sends(&cl[1], "HELLO pump-2\n");
	fuzz_client(&cl[2], "::1", 5003);
	for (i = 0; i < NCLIENTS; i++)
		fuzz_small_sndbuf(&cl[i]);
}

/*
 * Reads every answer, so that a session that stopped reading goes on,
 * then closes, after a half-close or not: the session must end. After a
 * half-close it still owes the answers to what it had not read, which
 * with a small send_buffer_limit may come one command a round (HELP's
 * answer alone exceeds 1 KiB): it has as long as it keeps answering.
 */
static void
finish(struct fuzz_in *in, struct fuzz_conn *s, struct fuzz_conn *cl)
{
	int	 i, idle = 0;

	for (i = 0; i < FINISH_ROUNDS; i++) {
		if (fuzz_drain(s) == 0 && i > 0)
			break;
		fuzz_pump(s);
	}
	fuzz_close(s, fuzz_in_rand(in) % 4 != 0);
	for (i = 0; i < FINISH_MAX && idle < FINISH_ROUNDS && fuzz_alive(s);
	    i++) {
		idle = fuzz_drain(s) > 0 ? 0 : idle + 1;
		fuzz_pump(NULL);
	}
	if (fuzz_alive(s))
		fuzz_fail("an admin session outlived its peer's close");
	fuzz_close(s, 0);
	fuzz_close_clients(cl, NCLIENTS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in;
	struct fuzz_conn	 s, cl[NCLIENTS];
	const uint8_t		*chunk;
	char			*cause;
	size_t			 n;
	uint8_t			 knobs;

	fuzz_in_init(&in, data, size);
	knobs = fuzz_in_byte(&in);
	configure(knobs);
	/* Event numbers from 1 in every run, for WATCH FROM; push ids too. */
	events_configure(0);
	events_configure(hb_conf->watch_backlog);
	stats.seq = 0;
	push_stop();
	if (push_start(&cause) == -1)
		fuzz_fail("%s", cause);
	clients_new(cl);

	if (knobs & KNOB_UNIX)
		fuzz_admin(&s, "/run/heartbeatd/admin.sock", 1);
	else
		fuzz_admin(&s, "127.0.0.1:6001", 0);
	fuzz_small_sndbuf(&s);
	while ((n = fuzz_in_chunk(&in, &chunk)) > 0) {
		fuzz_send(&s, chunk, n);
		if (knobs & KNOB_TICK)
			fuzz_sends(&cl[fuzz_in_rand(&in) % NCLIENTS],
			    "tick \\ \001\n");
		if (!(knobs & KNOB_NO_DRAIN))
			fuzz_drain(&s);
	}
	finish(&in, &s, cl);
	return (0);
}
