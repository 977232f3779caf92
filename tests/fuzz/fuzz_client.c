/*
 * libFuzzer harness for the client protocol: the real read path, line
 * framing, PING, HELLO (with takeovers), QUIT, ACK, data lines, the send
 * path and client_close(), over socketpairs.
 *
 * Input: byte 0 seeds the chunk sizes, byte 1 holds the knobs below, the
 * rest is what the client sends, cut into chunks. A client named
 * "sensor-7" sits idle throughout, so that a HELLO can take its name, and
 * pushes 1 and 4 wait for it, 2 and 3 for "dev", so that a HELLO sends
 * some and an ACK finds one. At the end every peer closes, and every
 * client must then be gone.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "client.h"
#include "daemon.h"
#include "heartbeatd.h"
#include "push.h"

#include "fuzz_common.h"

#define KNOB_MAX_LINE	0x03	/* index into max_lines */
#define KNOB_REJECT	0x04	/* duplicate_name = reject */
#define KNOB_SMALL_BUF	0x08	/* send_buffer_limit at its minimum */
#define KNOB_NO_DRAIN	0x10	/* read no answers until the end */
#define KNOB_TWO	0x20	/* chunks go to two connections */
#define KNOB_HALF_CLOSE	0x40	/* shut down the sending side first */
#define KNOB_SNDBUF	0x80	/* a small kernel send buffer */

#define NCONN		2

static const size_t max_lines[4] = { 16, 64, 1024, 4096 };

static void	queued(void *, uint64_t, const char *);
static void	pushes_new(void);

static void
configure(uint8_t knobs)
{
	hb_conf->max_line = max_lines[knobs & KNOB_MAX_LINE];
	hb_conf->duplicate_name = (knobs & KNOB_REJECT) ? DUP_REJECT :
	    DUP_REPLACE;
	hb_conf->send_buffer_limit = (knobs & KNOB_SMALL_BUF) ? 1024 : 262144;
}

/*
 * Ends the input: some peers half-close first, and some inputs end in a
 * timeout instead (as if heartbeat_timeout had passed). Every client must
 * then go.
 */
static void
finish(struct fuzz_in *in, struct fuzz_conn *conns, size_t n, int half)
{
	size_t	 i;
	double	 timeout = hb_conf->heartbeat_timeout;

	for (i = 0; half && i < n; i++) {
		fuzz_close(&conns[i], 1);
		fuzz_pump(&conns[i]);
		fuzz_drain(&conns[i]);
	}
	if (fuzz_in_rand(in) % 4 == 0) {
		hb_conf->heartbeat_timeout = 1e-9;
		client_rearm_all();
		hb_conf->heartbeat_timeout = timeout;
	}
	fuzz_close_clients(conns, n);
}

/* The answer to the pushes of pushes_new(), which come at once. */
static void
queued(void *arg, uint64_t id, const char *error)
{
	if (error != NULL)
		fuzz_fail("push %llu: %s", (unsigned long long)id, error);
}

/* Forgets the pushes of the input before, and queues ids 1 to 4 anew. */
static void
pushes_new(void)
{
	static const char *const names[] = {
		"sensor-7", "dev", "dev", "sensor-7"
	};
	const char	*why;
	char		*cause;
	size_t		 i;

	push_stop();
	if (push_start(&cause) == -1)
		fuzz_fail("%s", cause);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (push_submit(names[i], 0, "reboot now", 10, queued, NULL,
		    &why) == -1)
			fuzz_fail("push: %s", why);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	free(fuzz_init());
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in;
	struct fuzz_conn	 conns[NCONN + 1], *c;
	const uint8_t		*chunk;
	size_t			 i, n;
	uint8_t			 knobs;

	fuzz_in_init(&in, data, size);
	knobs = fuzz_in_byte(&in);
	configure(knobs);
	/* Every knob bit is taken: data_reply comes from the seed. */
	hb_conf->data_reply = fuzz_in_rand(&in) % 3;
	pushes_new();

	fuzz_client(&conns[NCONN], "127.0.0.1", 4000);
	fuzz_sends(&conns[NCONN], "HELLO sensor-7\n");
	fuzz_client(&conns[0], "127.0.0.1", 4001);
	fuzz_client(&conns[1], "::1", 4002);
	for (i = 0; (knobs & KNOB_SNDBUF) && i < NCONN; i++)
		fuzz_small_sndbuf(&conns[i]);

	while ((n = fuzz_in_chunk(&in, &chunk)) > 0) {
		c = &conns[0];
		if ((knobs & KNOB_TWO) && (fuzz_in_rand(&in) & 0x100))
			c = &conns[1];
		fuzz_send(c, chunk, n);
		for (i = 0; !(knobs & KNOB_NO_DRAIN) && i < NCONN + 1; i++)
			fuzz_drain(&conns[i]);
	}
	finish(&in, conns, NCONN + 1, knobs & KNOB_HALF_CLOSE);
	return (0);
}
