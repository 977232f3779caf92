/*
 * The Redis link of a fleet node: two hiredis connections on the event
 * loop, one for commands and one subscribed to the node's channels (a
 * subscribed connection takes no other command). hiredis 0.14 neither
 * reconnects nor times out, so this file does both: the two connections
 * come up and go down together, a failure tears both down and retries
 * after a backoff that doubles up to REDIS_BACKOFF_MAX_MS, and commands
 * wait in a FIFO under one timer. Redis answers a connection's commands
 * in order, so when the oldest waits past its deadline the link is stuck:
 * it is torn down, and every command still waiting gets its error at once.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis.h>
#include <async.h>
#include <adapters/libevent.h>

#include "daemon.h"
#include "log.h"
#include "redis.h"
#include "util.h"
#include "xmalloc.h"

#define REDIS_BACKOFF_MIN_MS	100
#define REDIS_BACKOFF_MAX_MS	2000

/* A command waiting for its answer. */
struct redis_req {
	redis_reply_cb		 cb;
	void			*arg;
	uint64_t		 deadline;	/* mono ns */
	TAILQ_ENTRY(redis_req)	 entry;
};
TAILQ_HEAD(redis_reqs, redis_req);

enum redis_state {
	LINK_DOWN,		/* waiting out the backoff */
	LINK_CONNECTING,	/* until both connections are ready */
	LINK_UP
};

static struct {
	char			*where;		/* host:port or a socket path */
	char			*password;	/* NULL: no AUTH */
	char			**channels;
	size_t			 nchannels;
	redis_state_cb		 state_cb;
	redis_message_cb	 message_cb;
	redisAsyncContext	*cmd;
	redisAsyncContext	*sub;
	enum redis_state	 state;
	int			 cmd_ready;
	size_t			 subscribed;	/* channels confirmed */
	unsigned		 backoff;	/* ms */
	int			 said;		/* this outage is logged */
	char			 why[128];	/* the last failure */
	struct event		*ev_link;	/* retry, or connect deadline */
	struct event		*ev_deadline;	/* the oldest command's */
	struct redis_reqs	 reqs;		/* oldest first */
} rl = { .reqs = TAILQ_HEAD_INITIALIZER(rl.reqs) };

static void	redis_host(const char *, char *, size_t, int *);
static redisAsyncContext *redis_dial(void);
static int	redis_hello(const char *, const char **, size_t *);
static int	redis_auth(redisAsyncContext *, redisCallbackFn *);
static void	redis_connect(void);
static void	redis_fail(const char *);
static void	redis_maybe_up(void);
static int	redis_forget(const redisAsyncContext *);
static void	redis_connect_cb(const redisAsyncContext *, int);
static void	redis_disconnect_cb(const redisAsyncContext *, int);
static void	redis_ready_cb(redisAsyncContext *, void *, void *);
static void	redis_sub_cb(redisAsyncContext *, void *, void *);
static void	redis_answer_cb(redisAsyncContext *, void *, void *);
static void	redis_link_cb(evutil_socket_t, short, void *);
static void	redis_deadline_cb(evutil_socket_t, short, void *);
static void	redis_arm_deadline(void);

/*
 * Starts the link to where, authenticating with password ("user:password"
 * for an ACL user; NULL for none), the subscription connection listening
 * on the channels given. state_cb hears of every change of the link,
 * message_cb of every message. Never waits: the link comes up later.
 */
void
redis_open(const char *where, const char *password,
    const char *const *channels, size_t n, redis_state_cb state_cb,
    redis_message_cb message_cb)
{
	size_t	 i;

	rl.where = xstrdup(where);
	rl.password = password != NULL ? xstrdup(password) : NULL;
	rl.channels = xcalloc(n, sizeof(*rl.channels));
	for (i = 0; i < n; i++)
		rl.channels[i] = xstrdup(channels[i]);
	rl.nchannels = n;
	rl.state_cb = state_cb;
	rl.message_cb = message_cb;
	rl.ev_link = evtimer_new(hb_base, redis_link_cb, NULL);
	rl.ev_deadline = evtimer_new(hb_base, redis_deadline_cb, NULL);
	if (rl.ev_link == NULL || rl.ev_deadline == NULL)
		fatalx("%s: evtimer_new", __func__);
	redis_connect();
}

/* The numeric host and the port of a host:port address. */
static void
redis_host(const char *where, char *host, size_t size, int *port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	const void		*in;

	if (addr_parse(where, &ss, &len) == -1)
		fatalx("%s: %s", __func__, where);
	in = ss.ss_family == AF_INET ?
	    (const void *)&((struct sockaddr_in *)&ss)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	inet_ntop(ss.ss_family, in, host, size);
	*port = addr_port((struct sockaddr *)&ss);
}

/* One connection to where, attached to the loop; NULL with rl.why. */
static redisAsyncContext *
redis_dial(void)
{
	redisAsyncContext	*ac;
	char			 host[INET6_ADDRSTRLEN];
	int			 port;

	if (rl.where[0] == '/')
		ac = redisAsyncConnectUnix(rl.where);
	else {
		redis_host(rl.where, host, sizeof(host), &port);
		ac = redisAsyncConnect(host, port);
	}
	if (ac == NULL)
		fatalx("%s: out of memory", __func__);
	if (ac->err) {
		strlcpy(rl.why, ac->errstr, sizeof(rl.why));
		redisAsyncFree(ac);
		return (NULL);
	}
	if (redisLibeventAttach(ac, hb_base) != REDIS_OK)
		fatalx("%s: redisLibeventAttach", __func__);
	redisAsyncSetConnectCallback(ac, redis_connect_cb);
	redisAsyncSetDisconnectCallback(ac, redis_disconnect_cb);
	return (ac);
}

/*
 * The words of the command that readies a connection: AUTH <password>,
 * or AUTH <user> <password> for "user:password"; PING without a
 * password, so that both ways wait for an answer. Returns how many.
 */
static int
redis_hello(const char *pw, const char **argv, size_t *lens)
{
	const char	*colon;
	int		 argc = 1;

	argv[0] = pw != NULL ? "AUTH" : "PING";
	lens[0] = 4;
	if (pw == NULL)
		return (argc);
	argv[argc] = pw;
	lens[argc++] = strlen(pw);
	if ((colon = strchr(pw, ':')) != NULL) {
		lens[1] = colon - pw;
		argv[argc] = colon + 1;
		lens[argc++] = strlen(colon + 1);
	}
	return (argc);
}

/* Sends AUTH (or PING) first on ac. */
static int
redis_auth(redisAsyncContext *ac, redisCallbackFn *cb)
{
	const char	*argv[3];
	size_t		 lens[3];
	int		 argc;

	argc = redis_hello(rl.password, argv, lens);
	return (redisAsyncCommandArgv(ac, cb, NULL, argc, argv, lens));
}

/*
 * Opens both connections and queues what readies them: AUTH (or PING) on
 * each, SUBSCRIBE on the second. They must be ready within the deadline.
 */
static void
redis_connect(void)
{
	struct timeval	 tv = { REDIS_DEADLINE_MS / 1000,
			    (REDIS_DEADLINE_MS % 1000) * 1000 };
	const char	**argv;
	size_t		*lens, i;
	int		 rv;

	rl.state = LINK_CONNECTING;
	rl.cmd_ready = 0;
	rl.subscribed = 0;
	evtimer_add(rl.ev_link, &tv);
	if ((rl.cmd = redis_dial()) == NULL ||
	    (rl.sub = redis_dial()) == NULL) {
		redis_fail(rl.why);
		return;
	}
	argv = xcalloc(rl.nchannels + 1, sizeof(*argv));
	lens = xcalloc(rl.nchannels + 1, sizeof(*lens));
	argv[0] = "SUBSCRIBE";
	lens[0] = strlen(argv[0]);
	for (i = 0; i < rl.nchannels; i++) {
		argv[i + 1] = rl.channels[i];
		lens[i + 1] = strlen(rl.channels[i]);
	}
	rv = redis_auth(rl.cmd, redis_ready_cb) == REDIS_OK &&
	    (rl.password == NULL ||
	    redis_auth(rl.sub, redis_ready_cb) == REDIS_OK) &&
	    redisAsyncCommandArgv(rl.sub, redis_sub_cb, NULL,
	    rl.nchannels + 1, argv, lens) == REDIS_OK;
	free(argv);
	free(lens);
	if (!rv)
		redis_fail("cannot queue commands");
}

/*
 * Tears the link down, once: every waiting command gets why as its
 * error, and a new attempt follows the backoff.
 */
static void
redis_fail(const char *why)
{
	struct timeval		 tv;
	redisAsyncContext	*cmd = rl.cmd, *sub = rl.sub;
	enum redis_state	 was = rl.state;

	if (was == LINK_DOWN)
		return;
	rl.state = LINK_DOWN;
	if (why != rl.why)
		strlcpy(rl.why, why, sizeof(rl.why));
	rl.cmd = rl.sub = NULL;
	if (cmd != NULL)
		redisAsyncFree(cmd);
	if (sub != NULL)
		redisAsyncFree(sub);
	evtimer_del(rl.ev_deadline);
	rl.backoff = rl.backoff == 0 ? REDIS_BACKOFF_MIN_MS :
	    rl.backoff * 2;
	if (rl.backoff > REDIS_BACKOFF_MAX_MS)
		rl.backoff = REDIS_BACKOFF_MAX_MS;
	tv.tv_sec = rl.backoff / 1000;
	tv.tv_usec = (rl.backoff % 1000) * 1000;
	evtimer_add(rl.ev_link, &tv);
	if (!rl.said) {
		log_warnx("redis %s: %s", rl.where, rl.why);
		rl.said = 1;
	}
	if (was == LINK_UP && rl.state_cb != NULL)
		rl.state_cb(0);
}

/* Both connections are ready and subscribed: the link is up. */
static void
redis_maybe_up(void)
{
	if (rl.state != LINK_CONNECTING || !rl.cmd_ready ||
	    rl.subscribed < rl.nchannels)
		return;
	rl.state = LINK_UP;
	rl.backoff = 0;
	rl.said = 0;
	evtimer_del(rl.ev_link);
	log_notice("redis %s: link up", rl.where);
	rl.state_cb(1);
}

/* Drops ac, which hiredis is freeing, from the link; 1 if it was ours. */
static int
redis_forget(const redisAsyncContext *ac)
{
	if (ac == rl.cmd)
		rl.cmd = NULL;
	else if (ac == rl.sub)
		rl.sub = NULL;
	else
		return (0);
	return (1);
}

static void
redis_connect_cb(const redisAsyncContext *ac, int status)
{
	if (status == REDIS_OK)
		return;
	if (redis_forget(ac))
		redis_fail(ac->errstr);
}

static void
redis_disconnect_cb(const redisAsyncContext *ac, int status)
{
	if (redis_forget(ac))
		redis_fail(ac->err ? ac->errstr : "connection closed");
}

/* The answer to AUTH or PING, on either connection. */
static void
redis_ready_cb(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply	*reply = r;

	if (reply == NULL || rl.state != LINK_CONNECTING)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		redis_fail(reply->str);
		return;
	}
	if (ac == rl.cmd)
		rl.cmd_ready = 1;
	redis_maybe_up();
}

/* Subscription confirmations, then the messages, for ever. */
static void
redis_sub_cb(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply	*reply = r;
	const char	*kind;

	if (reply == NULL || ac != rl.sub)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		redis_fail(reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return;
	kind = reply->element[0]->str;
	if (strcmp(kind, "subscribe") == 0) {
		rl.subscribed++;
		redis_maybe_up();
	} else if (strcmp(kind, "message") == 0 &&
	    reply->element[2]->type == REDIS_REPLY_STRING)
		rl.message_cb(reply->element[2]->str,
		    reply->element[2]->len);
}

/*
 * A command's answer, or NULL as its connection goes: then the error is
 * hiredis's, or the reason the link was torn down.
 */
static void
redis_answer_cb(redisAsyncContext *ac, void *r, void *arg)
{
	struct redis_req	*req = arg;
	redisReply		*reply = r;
	const char		*error = NULL;

	TAILQ_REMOVE(&rl.reqs, req, entry);
	if (reply == NULL)
		error = rl.state == LINK_DOWN ? rl.why :
		    ac->err ? ac->errstr : "connection lost";
	else if (reply->type == REDIS_REPLY_ERROR)
		error = reply->str;
	req->cb(req->arg, reply, error);
	free(req);
}

/*
 * Sends a command (argc words of the lengths given) on the rl. cb, if
 * not NULL, gets its answer within REDIS_DEADLINE_MS; without it the
 * answer is dropped. Returns 0, or -1 when the link is down (see
 * redis_why()); cb is then never called.
 */
int
redis_command(redis_reply_cb cb, void *arg, int argc, const char **argv,
    const size_t *lens)
{
	struct redis_req	*req = NULL;

	if (rl.state != LINK_UP)
		return (-1);
	if (cb != NULL) {
		req = xmalloc(sizeof(*req));
		req->cb = cb;
		req->arg = arg;
		req->deadline = mono_ns() + REDIS_DEADLINE_MS * 1000000ULL;
		TAILQ_INSERT_TAIL(&rl.reqs, req, entry);
	}
	if (redisAsyncCommandArgv(rl.cmd, cb != NULL ? redis_answer_cb :
	    NULL, req, argc, argv, lens) != REDIS_OK) {
		if (req != NULL) {
			TAILQ_REMOVE(&rl.reqs, req, entry);
			free(req);
		}
		return (-1);
	}
	if (req != NULL && !evtimer_pending(rl.ev_deadline, NULL))
		redis_arm_deadline();
	return (0);
}

/* Arms the deadline timer for the oldest waiting command, if any. */
static void
redis_arm_deadline(void)
{
	struct redis_req	*req = TAILQ_FIRST(&rl.reqs);

	if (req != NULL)
		redis_timer_at(rl.ev_deadline, req->deadline);
}

/*
 * Makes the timer ev fire at deadline (mono ns), or at once when it has
 * passed, and never before: the first microsecond after it.
 */
void
redis_timer_at(struct event *ev, uint64_t deadline)
{
	struct timeval	 tv;
	uint64_t	 now = mono_ns(), us;

	us = (deadline > now ? deadline - now : 0) / 1000 + 1;
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	evtimer_add(ev, &tv);
}

static void
redis_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct redis_req	*req = TAILQ_FIRST(&rl.reqs);

	if (req != NULL && req->deadline <= mono_ns())
		redis_fail("no answer within the deadline");
	else
		redis_arm_deadline();
}

/* The backoff is over, or connecting took too long. */
static void
redis_link_cb(evutil_socket_t fd, short what, void *arg)
{
	if (rl.state == LINK_DOWN)
		redis_connect();
	else if (rl.state == LINK_CONNECTING)
		redis_fail("no connection within the deadline");
}

int
redis_up(void)
{
	return (rl.state == LINK_UP);
}

/* Why the link is down, or the last failure. */
const char *
redis_why(void)
{
	return (rl.why[0] != '\0' ? rl.why : "not connected");
}

/*
 * Runs one command on a connection of its own that waits for each step,
 * REDIS_DEADLINE_MS at most: for the start, before the loop runs, and
 * for a clean stop, once it is over. Returns the reply, to be freed with
 * freeReplyObject(), or NULL with *cause.
 */
struct redisReply *
redis_sync(const char *where, const char *password, int argc,
    const char **argv, const size_t *lens, char **cause)
{
	struct timeval	 tv = { REDIS_DEADLINE_MS / 1000,
			    (REDIS_DEADLINE_MS % 1000) * 1000 };
	redisContext	*c;
	redisReply	*r = NULL;
	const char	*hello[3];
	size_t		 hlens[3];
	char		 host[INET6_ADDRSTRLEN];
	int		 port, n;

	if (where[0] == '/')
		c = redisConnectUnixWithTimeout(where, tv);
	else {
		redis_host(where, host, sizeof(host), &port);
		c = redisConnectWithTimeout(host, port, tv);
	}
	if (c == NULL)
		fatalx("%s: out of memory", __func__);
	if (c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK) {
		n = redis_hello(password, hello, hlens);
		if ((r = redisCommandArgv(c, n, hello, hlens)) != NULL &&
		    r->type != REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			r = redisCommandArgv(c, argc, argv, lens);
		}
	}
	if (r == NULL)
		xasprintf(cause, "redis %s: %s", where, c->err != 0 ?
		    c->errstr : "no answer");
	else if (r->type == REDIS_REPLY_ERROR) {
		xasprintf(cause, "redis %s: %s", where, r->str);
		freeReplyObject(r);
		r = NULL;
	}
	redisFree(c);
	return (r);
}

/*
 * Sends one last command at a clean stop, while the link is up, on a
 * connection of its own: the loop is over, and the link would never
 * write it.
 */
void
redis_last(int argc, const char **argv, const size_t *lens)
{
	redisReply	*r;
	char		*cause;

	if (rl.state != LINK_UP)
		return;
	if ((r = redis_sync(rl.where, rl.password, argc, argv, lens,
	    &cause)) == NULL) {
		log_warnx("%s", cause);
		free(cause);
	}
	freeReplyObject(r);
}

/* Drops the link for good: waiting commands get their error now. */
void
redis_close(void)
{
	size_t	 i;

	if (rl.where == NULL)
		return;
	rl.said = 1;
	rl.state_cb = NULL;
	redis_fail("shutting down");
	event_free(rl.ev_link);
	event_free(rl.ev_deadline);
	for (i = 0; i < rl.nchannels; i++)
		free(rl.channels[i]);
	free(rl.channels);
	free(rl.where);
	free(rl.password);
	memset(&rl, 0, sizeof(rl));
	TAILQ_INIT(&rl.reqs);
}
