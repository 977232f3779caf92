/*
 * The fleet (SPEC §14): nodes behind one load balancer that share a Redis
 * act as one service. Learnt from socket.io's Redis adapter and
 * centrifuge's Redis broker: presence lives in Redis with a time to live,
 * and each node listens on a channel of its own, where requests for it
 * and answers to it arrive.
 *
 * In Redis, under the prefix P:
 *   P nodes		a sorted set of the nodes, scored by their last beat
 *			(ms, Redis time); a node that has not beaten for
 *			FLEET_DEAD_MS is gone, and the next beat of any node
 *			purges it with its names
 *   P names		a hash, name -> "node id addr": who holds a name
 *   P node:N		a hash, name -> "id addr": the names node N holds
 *   P events		the stream of every node's events
 *   P to:N, P all	the channels of node N and of every node
 *
 * Every step that reads and writes several keys is a Lua script, so that
 * it is atomic and costs one round trip: a routed command finds the node
 * holding its name and publishes to it in one go. A request on a channel
 * is "Q <node> <id> <command>"; the node runs the command as an admin
 * command of its own, acting on itself alone (admin_exec()), and
 * publishes "A <id> <node>\n<answer>" to the asker. "R <id> <name>" tells
 * a node that another has taken a name from its client #id, "D <name>"
 * that the name's pending pushes moved to the node where it came online.
 *
 * Pending pushes live in Redis (store_redis.c) and in the memory of one
 * node per name, P pushowner's: where the name is online, or last was
 * pushed to while offline. PUSH goes there; a HELLO anywhere else makes
 * that node fetch the name's pushes and the former holder drop its own.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <hiredis.h>
#include <openssl/evp.h>

#include "admin.h"
#include "client.h"
#include "daemon.h"
#include "fleet.h"
#include "log.h"
#include "push.h"
#include "registry.h"
#include "redis.h"
#include "stats.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

_Static_assert(sizeof(uintptr_t) >= sizeof(uint64_t),
    "a request id travels as a callback's pointer");

#define FLEET_KEY_MAX	(HB_NAME_MAX * 2 + 16)	/* bytes of a key name */

/* A command sent to other nodes, waiting for their answers. */
struct fleet_req {
	uint64_t		 id;
	uint64_t		 deadline;	/* mono ns */
	int			 all;		/* to every node */
	enum fleet_gather	 gather;
	fleet_answer_cb		 cb;
	void			*arg;
	char			*line;		/* routed: run here if no one has it */
	size_t			 len;
	int			 counted;	/* expected and known are set */
	uint64_t		 expected;	/* nodes the request reached */
	uint64_t		 known;		/* nodes alive */
	uint64_t		 answered;
	uint64_t		 sum;
	struct evbuffer		*lines;		/* FLEET_LIST's */
	RB_ENTRY(fleet_req)	 node;
	TAILQ_ENTRY(fleet_req)	 entry;		/* by deadline */
};
RB_HEAD(fleet_reqs, fleet_req);
TAILQ_HEAD(fleet_fifo, fleet_req);

/* A command another node asked this one to run. */
struct fleet_job {
	uint64_t		 id;
	char			 origin[HB_NAME_MAX + 1];
};

/* The Lua scripts; SHA-1 of each, as EVALSHA wants it. */
enum fleet_script {
	SCRIPT_JOIN,
	SCRIPT_BEAT,
	SCRIPT_CLAIM,
	SCRIPT_BYE,
	SCRIPT_ROUTE,
	SCRIPT_ALL,
	SCRIPT__COUNT
};

static int	fleet_req_cmp(struct fleet_req *, struct fleet_req *);
static int	fleet_same(const char *, const char *);
static void	fleet_link_cb(int);
static void	fleet_message_cb(const char *, size_t);
static int	fleet_eval(enum fleet_script, redis_reply_cb, void *, int,
		    const char **, const size_t *);
static void	fleet_join(void);
static void	fleet_beat_cb(evutil_socket_t, short, void *);
static void	fleet_beaten(void *, const struct redisReply *, const char *);
static void	fleet_load(void);
static void	fleet_loaded(void *, const struct redisReply *, const char *);
static void	fleet_register(const struct client *, const char *);
static void	fleet_registered(void *, const struct redisReply *,
		    const char *);
static void	fleet_adopt(const struct store_push *, void *);
static void	fleet_drop(const char *, size_t);
static int	fleet_claim(const char *, uint64_t, const struct sockaddr *);
static void	fleet_claimed(void *, const struct redisReply *, const char *);
static struct fleet_req *fleet_req_new(int, fleet_answer_cb, void *);
static struct fleet_req *fleet_req_find(void *);
static void	fleet_req_end(struct fleet_req *, const char *);
static void	fleet_req_fail(struct fleet_req *, const char *);
static void	fleet_fail_all(const char *);
static void	fleet_arm(void);
static void	fleet_deadline_cb(evutil_socket_t, short, void *);
static char	*fleet_request(const struct fleet_req *, const char *, size_t,
		    size_t *);
static void	fleet_routed(void *, const struct redisReply *, const char *);
static void	fleet_local_done(void *, const char *, size_t);
static void	fleet_reached(void *, const struct redisReply *, const char *);
static void	fleet_run(const char *, size_t);
static void	fleet_ran(void *, const char *, size_t);
static void	fleet_answer(const char *, size_t);
static void	fleet_gathered(struct fleet_req *, const char *, const char *,
		    size_t);
static void	fleet_complete(struct fleet_req *);
static void	fleet_replace(const char *, size_t);
static void	fleet_leave(void);

RB_PROTOTYPE_INTERNAL(fleet_reqs, fleet_req, node, fleet_req_cmp, RB_STATIC)
RB_GENERATE_INTERNAL(fleet_reqs, fleet_req, node, fleet_req_cmp, RB_STATIC)

/*
 * Every script gets the prefix, FLEET_DEAD_MS and this node's name first
 * (ARGV[1] to ARGV[3]), and the helpers below: now() in Redis's time,
 * alive(node) and purge(node), which drops a node and the names it holds.
 */
#define LUA_PRELUDE \
	"local P, dead, me = ARGV[1], tonumber(ARGV[2]), ARGV[3]\n" \
	"local function now()\n" \
	"  local t = redis.call('TIME')\n" \
	"  return t[1] * 1000 + math.floor(t[2] / 1000)\n" \
	"end\n" \
	"local function alive(n, t)\n" \
	"  local b = redis.call('ZSCORE', P .. 'nodes', n)\n" \
	"  return b and tonumber(b) > t - dead\n" \
	"end\n" \
	"local function purge(n)\n" \
	"  local h = P .. 'node:' .. n\n" \
	"  for _, name in ipairs(redis.call('HKEYS', h)) do\n" \
	"    local v = redis.call('HGET', P .. 'names', name)\n" \
	"    if v and string.sub(v, 1, #n + 1) == n .. ' ' then\n" \
	"      redis.call('HDEL', P .. 'names', name)\n" \
	"    end\n" \
	"  end\n" \
	"  redis.call('DEL', h)\n" \
	"  redis.call('ZREM', P .. 'nodes', n)\n" \
	"end\n"

static const char *const scripts[SCRIPT__COUNT] = {
	/* JOIN: forget what an earlier life of this node left, and beat. */
	[SCRIPT_JOIN] = LUA_PRELUDE
	"purge(me)\n"
	"redis.call('ZADD', P .. 'nodes', now(), me)\n"
	"return 0\n",

	/* BEAT: beat, purge the nodes gone; the number of nodes alive. */
	[SCRIPT_BEAT] = LUA_PRELUDE
	"local t = now()\n"
	"redis.call('ZADD', P .. 'nodes', t, me)\n"
	"for _, n in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes',\n"
	"    '-inf', t - dead)) do\n"
	"  purge(n)\n"
	"end\n"
	"return redis.call('ZCARD', P .. 'nodes')\n",

	/*
	 * CLAIM name id addr mode: take the name for client #id. Held by
	 * another live node, it is refused (mode reject or restore: {the
	 * holder's node}) or taken (replace: the holder's node is told to
	 * close it). Taken: {nil, 1 when the name has pushes pending}, and
	 * this node holds them from now (store_redis.c), the node that did
	 * told to drop its copies.
	 */
	[SCRIPT_CLAIM] = LUA_PRELUDE
	"local name, id, addr, mode = ARGV[4], ARGV[5], ARGV[6], ARGV[7]\n"
	"local t = now()\n"
	"local cur = redis.call('HGET', P .. 'names', name)\n"
	"if cur then\n"
	"  local n, cid = string.match(cur, '^(%S+) (%S+)')\n"
	"  if n ~= me and alive(n, t) then\n"
	"    if mode ~= 'replace' then return {n} end\n"
	"    redis.call('HDEL', P .. 'node:' .. n, name)\n"
	"    redis.call('PUBLISH', P .. 'to:' .. n, 'R ' .. cid .. ' ' .. name)\n"
	"  end\n"
	"end\n"
	"redis.call('HSET', P .. 'names', name, me .. ' ' .. id .. ' ' .. addr)\n"
	"redis.call('HSET', P .. 'node:' .. me, name, id .. ' ' .. addr)\n"
	"if redis.call('EXISTS', P .. 'pushq:' .. name) == 0 then\n"
	"  return {false, 0}\n"
	"end\n"
	"local owner = redis.call('HGET', P .. 'pushowner', name)\n"
	"if owner ~= me then\n"
	"  redis.call('HSET', P .. 'pushowner', name, me)\n"
	"  if owner and alive(owner, t) then\n"
	"    redis.call('PUBLISH', P .. 'to:' .. owner, 'D ' .. name)\n"
	"  end\n"
	"end\n"
	"return {false, 1}\n",

	/* BYE name id: client #id of this node no longer holds the name. */
	[SCRIPT_BYE] = LUA_PRELUDE
	"local name, id = ARGV[4], ARGV[5]\n"
	"local k = me .. ' ' .. id .. ' '\n"
	"local v = redis.call('HGET', P .. 'names', name)\n"
	"if v and string.sub(v, 1, #k) == k then\n"
	"  redis.call('HDEL', P .. 'names', name)\n"
	"end\n"
	"v = redis.call('HGET', P .. 'node:' .. me, name)\n"
	"if v and string.sub(v, 1, #id + 1) == id .. ' ' then\n"
	"  redis.call('HDEL', P .. 'node:' .. me, name)\n"
	"end\n"
	"return 0\n",

	/*
	 * ROUTE name kind request: publish the request to the live node,
	 * other than this one, that holds the name, or for kind "push" its
	 * pushes: {node, listeners}; or nil.
	 */
	[SCRIPT_ROUTE] = LUA_PRELUDE
	"local name, kind, t = ARGV[4], ARGV[5], now()\n"
	"local cur = redis.call('HGET', P .. 'names', name)\n"
	"local n = cur and string.match(cur, '^(%S+)')\n"
	"if n == me then return false end\n"
	"if not (n and alive(n, t)) and kind == 'push' then\n"
	"  n = redis.call('HGET', P .. 'pushowner', name)\n"
	"end\n"
	"if not n or n == me or not alive(n, t) then return false end\n"
	"return {n, redis.call('PUBLISH', P .. 'to:' .. n, ARGV[6])}\n",

	/* ALL request: publish to every node: {listeners, nodes alive}. */
	[SCRIPT_ALL] = LUA_PRELUDE
	"local t = now()\n"
	"local heard = redis.call('PUBLISH', P .. 'all', ARGV[4])\n"
	"return {heard, redis.call('ZCOUNT', P .. 'nodes', t - dead, '+inf')}\n",
};

static struct {
	int			 on;
	char			*node;
	char			*prefix;
	uint64_t		 events_max;
	char			 dead[16];	/* FLEET_DEAD_MS, as text */
	char			 sha[SCRIPT__COUNT][41];
	char			 events_key[FLEET_KEY_MAX];
	char			 my_channel[FLEET_KEY_MAX];
	char			 all_channel[FLEET_KEY_MAX];
	struct event		*ev_beat;
	struct event		*ev_deadline;
	uint64_t		 next_id;
	struct fleet_reqs	 reqs;		/* by id */
	struct fleet_fifo	 fifo;		/* by deadline */
} fleet = {
	.reqs = RB_INITIALIZER(&fleet.reqs),
	.fifo = TAILQ_HEAD_INITIALIZER(fleet.fifo),
};

static int
fleet_req_cmp(struct fleet_req *a, struct fleet_req *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

int
fleet_on(void)
{
	return (fleet.on);
}

/*
 * Joins the fleet of conf's [cluster] redis, if any: the link comes up
 * later, and until it does every fleet operation answers ERR unavailable.
 */
void
fleet_start(const struct hb_config *conf)
{
	const char	*channels[2];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i, k;

	if (conf->cluster_redis == NULL)
		return;
	fleet.on = 1;
	fleet.node = xstrdup(conf->cluster_node);
	fleet.prefix = xstrdup(conf->cluster_prefix != NULL ?
	    conf->cluster_prefix : "");
	fleet.events_max = conf->cluster_events_max;
	snprintf(fleet.dead, sizeof(fleet.dead), "%d", FLEET_DEAD_MS);
	snprintf(fleet.events_key, sizeof(fleet.events_key), "%sevents",
	    fleet.prefix);
	snprintf(fleet.my_channel, sizeof(fleet.my_channel), "%sto:%s",
	    fleet.prefix, fleet.node);
	snprintf(fleet.all_channel, sizeof(fleet.all_channel), "%sall",
	    fleet.prefix);
	for (i = 0; i < SCRIPT__COUNT; i++) {
		if (!EVP_Digest(scripts[i], strlen(scripts[i]), md, &mdlen,
		    EVP_sha1(), NULL))
			fatalx("%s: EVP_Digest", __func__);
		for (k = 0; k < mdlen; k++)
			snprintf(&fleet.sha[i][k * 2], 3, "%02x", md[k]);
	}
	if ((fleet.ev_beat = event_new(hb_base, -1, EV_PERSIST,
	    fleet_beat_cb, NULL)) == NULL ||
	    (fleet.ev_deadline = evtimer_new(hb_base, fleet_deadline_cb,
	    NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	channels[0] = fleet.my_channel;
	channels[1] = fleet.all_channel;
	client_set_claim(fleet_claim);
	redis_open(conf->cluster_redis, conf->cluster_password, channels, 2,
	    fleet_link_cb, fleet_message_cb);
}

/* Whether two config strings, NULL for empty, are the same. */
static int
fleet_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * Returns 0 when a reload to conf keeps the fleet as it is but for
 * events_max, else -1 with *cause: a node cannot move to another Redis
 * or change its name while its clients are registered under it.
 */
int
fleet_reloadable(const struct hb_config *conf, char **cause)
{
	const char	*key;

	if (!fleet_same(hb_conf->cluster_redis, conf->cluster_redis))
		key = "redis";
	else if (!fleet_same(hb_conf->cluster_node, conf->cluster_node))
		key = "node";
	else if (!fleet_same(hb_conf->cluster_password,
	    conf->cluster_password))
		key = "password";
	else if (!fleet_same(hb_conf->cluster_prefix, conf->cluster_prefix))
		key = "prefix";
	else
		return (0);
	xasprintf(cause, "cluster.%s cannot change on reload", key);
	return (-1);
}

/* Applies what a reload may change: events_max. */
void
fleet_configure(const struct hb_config *conf)
{
	fleet.events_max = conf->cluster_events_max;
}

/*
 * Leaves the fleet at a clean stop: the node's names are dropped from
 * Redis at once, rather than FLEET_DEAD_MS later, and every request
 * still waiting is answered.
 */
void
fleet_stop(void)
{
	if (!fleet.on)
		return;
	fleet_leave();
	fleet.on = 0;
	client_set_claim(NULL);
	redis_close();
	fleet_fail_all("ERR unavailable shutting down");
	event_free(fleet.ev_beat);
	event_free(fleet.ev_deadline);
	free(fleet.node);
	free(fleet.prefix);
	fleet.node = fleet.prefix = NULL;
}

/*
 * Drops the node's names from Redis at a clean stop, at once rather than
 * FLEET_DEAD_MS later, with a connection that waits: the loop is over.
 */
static void
fleet_leave(void)
{
	const char	*argv[6] = { "EVAL", LUA_PRELUDE "purge(me)\nreturn 0\n",
			    "0", fleet.prefix, fleet.dead, fleet.node };
	size_t		 lens[6], i;

	for (i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	redis_last(6, argv, lens);
}

/*
 * The link came up: load the scripts, join, and register every named
 * client again (Redis may have lost them, or purged this node while it
 * was cut off). Down: every waiting request is answered now.
 */
static void
fleet_link_cb(int up)
{
	struct timeval	 tv = { FLEET_BEAT_MS / 1000,
			    (FLEET_BEAT_MS % 1000) * 1000 };
	struct client	*c;

	if (!up) {
		stats.fleet_nodes = 0;
		event_del(fleet.ev_beat);
		fleet_fail_all(NULL);
		return;
	}
	fleet_load();
	fleet_join();
	TAILQ_FOREACH(c, registry_list(), entry) {
		if (c->name[0] != '\0')
			fleet_register(c, "restore");
	}
	event_add(fleet.ev_beat, &tv);
	fleet_beat_cb(-1, 0, NULL);
}

/* Loads the scripts into Redis, which EVALSHA then finds by SHA-1. */
static void
fleet_load(void)
{
	const char	*argv[3] = { "SCRIPT", "LOAD", NULL };
	size_t		 lens[3] = { 6, 4, 0 };
	int		 i;

	for (i = 0; i < SCRIPT__COUNT; i++) {
		argv[2] = scripts[i];
		lens[2] = strlen(scripts[i]);
		redis_command(fleet_loaded, NULL, 3, argv, lens);
	}
}

static void
fleet_loaded(void *arg, const struct redisReply *r, const char *error)
{
	if (error != NULL) {
		stats.fleet_errors++;
		log_warnx("%s: script: %s", __func__, error);
	}
}

/*
 * Runs a script by its SHA-1 with the common arguments, then argc more.
 * Returns 0, or -1 when the link is down.
 */
static int
fleet_eval(enum fleet_script which, redis_reply_cb cb, void *arg, int argc,
    const char **args, const size_t *arglens)
{
	const char	*argv[12];
	size_t		 lens[12];
	int		 i;

	argv[0] = "EVALSHA";
	argv[1] = fleet.sha[which];
	argv[2] = "0";
	argv[3] = fleet.prefix;
	argv[4] = fleet.dead;
	argv[5] = fleet.node;
	for (i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	for (i = 0; i < argc && i < 6; i++) {
		argv[6 + i] = args[i];
		lens[6 + i] = arglens != NULL ? arglens[i] : strlen(args[i]);
	}
	return (redis_command(cb, arg, 6 + i, argv, lens));
}

static void
fleet_join(void)
{
	fleet_eval(SCRIPT_JOIN, fleet_beaten, NULL, 0, NULL, NULL);
}

static void
fleet_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	fleet_eval(SCRIPT_BEAT, fleet_beaten, NULL, 0, NULL, NULL);
}

/*
 * A beat's answer: how many nodes are alive. Scripts flushed from Redis
 * (SCRIPT FLUSH) are loaded again, so that the fleet is back within a
 * beat.
 */
static void
fleet_beaten(void *arg, const struct redisReply *r, const char *error)
{
	if (error != NULL) {
		stats.fleet_errors++;
		if (strncmp(error, "NOSCRIPT", 8) == 0)
			fleet_load();
		return;
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		stats.fleet_nodes = r->integer;
}

/*
 * Registers client c's name under mode (see SCRIPT_CLAIM); once taken,
 * the name's pending pushes are fetched here.
 */
static void
fleet_register(const struct client *c, const char *mode)
{
	char		 id[24], addr[ADDR_STRLEN], *name;
	const char	*args[4];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	args[0] = c->name;
	args[1] = id;
	args[2] = addr_format(&c->addr.sa, addr, sizeof(addr));
	args[3] = mode;
	name = xstrdup(c->name);
	if (fleet_eval(SCRIPT_CLAIM, fleet_registered, name, 4, args,
	    NULL) == -1)
		free(name);
}

/* The name's claim is in: its pushes, if any, are fetched to adopt. */
static void
fleet_registered(void *arg, const struct redisReply *r, const char *error)
{
	char	*name = arg;

	if (error != NULL)
		stats.fleet_errors++;
	else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->integer == 1)
		store_redis_fetch(name, fleet_adopt, NULL);
	free(name);
}

/* A push fetched for a name online here (a store_push_load_cb). */
static void
fleet_adopt(const struct store_push *sp, void *arg)
{
	push_adopt(sp);
}

/*
 * A client of this node has taken a name: the fleet learns it, and under
 * duplicate_name = replace the holder on another node is closed.
 */
void
fleet_hello(const struct client *c)
{
	if (fleet.on)
		fleet_register(c, hb_conf->duplicate_name == DUP_REPLACE ?
		    "replace" : "reject");
}

/* Client #id of this node gave up name, by closing or renaming. */
void
fleet_bye(const char *name, uint64_t id)
{
	char		 num[24];
	const char	*args[2];

	if (!fleet.on)
		return;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)id);
	args[0] = name;
	args[1] = num;
	fleet_eval(SCRIPT_BYE, NULL, NULL, 2, args, NULL);
}

/*
 * The claim client.c makes before a HELLO under duplicate_name = reject:
 * whether another node holds the name. Returns 0 and answers through
 * client_claimed(), or -1 when the link is down and the node decides
 * alone.
 */
static int
fleet_claim(const char *name, uint64_t id, const struct sockaddr *sa)
{
	char		 num[24], addr[ADDR_STRLEN];
	const char	*args[4];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)id);
	args[0] = name;
	args[1] = num;
	args[2] = addr_format(sa, addr, sizeof(addr));
	args[3] = "reject";
	return (fleet_eval(SCRIPT_CLAIM, fleet_claimed, (void *)(uintptr_t)id,
	    4, args, NULL));
}

/* Taken when another node's name came back; free when nil or lost. */
static void
fleet_claimed(void *arg, const struct redisReply *r, const char *error)
{
	if (error != NULL)
		stats.fleet_errors++;
	client_claimed((uintptr_t)arg, error == NULL &&
	    r->type == REDIS_REPLY_ARRAY && r->elements == 1);
}

int
fleet_streams(void)
{
	return (fleet.on && fleet.events_max > 0);
}

/* Appends event seq, its text as WATCH shows it, to the fleet's stream. */
void
fleet_event(uint64_t seq, const char *text, size_t len)
{
	char		 num[24], max[24];
	const char	*argv[11] = { "XADD", fleet.events_key, "MAXLEN", "~",
			    max, "*", "node", fleet.node, "seq", num, "event" };
	const char	*args[12];
	size_t		 lens[12];
	int		 i;

	if (!fleet_streams())
		return;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)seq);
	snprintf(max, sizeof(max), "%llu",
	    (unsigned long long)fleet.events_max);
	for (i = 0; i < 11; i++) {
		args[i] = argv[i];
		lens[i] = strlen(argv[i]);
	}
	args[11] = text;
	lens[11] = len;
	redis_command(NULL, NULL, 12, args, lens);
}

/*
 * A request with the next id, answered by cb(arg) within
 * FLEET_DEADLINE_MS at the latest.
 */
static struct fleet_req *
fleet_req_new(int all, fleet_answer_cb cb, void *arg)
{
	struct fleet_req	*req;

	req = xcalloc(1, sizeof(*req));
	req->id = ++fleet.next_id;
	req->deadline = mono_ns() + FLEET_DEADLINE_MS * 1000000ULL;
	req->all = all;
	req->cb = cb;
	req->arg = arg;
	RB_INSERT(fleet_reqs, &fleet.reqs, req);
	TAILQ_INSERT_TAIL(&fleet.fifo, req, entry);
	if (!evtimer_pending(fleet.ev_deadline, NULL))
		fleet_arm();
	return (req);
}

/* The request whose id arg carries, or NULL once it is answered. */
static struct fleet_req *
fleet_req_find(void *arg)
{
	struct fleet_req	 key;

	key.id = (uintptr_t)arg;
	return (RB_FIND(fleet_reqs, &fleet.reqs, &key));
}

/* Answers req with text and frees it. */
static void
fleet_req_end(struct fleet_req *req, const char *text)
{
	RB_REMOVE(fleet_reqs, &fleet.reqs, req);
	TAILQ_REMOVE(&fleet.fifo, req, entry);
	req->cb(req->arg, text);
	if (req->lines != NULL)
		evbuffer_free(req->lines);
	free(req->line);
	free(req);
}

/* Answers req "ERR unavailable <why>" (why NULL: the link's). */
static void
fleet_req_fail(struct fleet_req *req, const char *why)
{
	char	*text;

	stats.fleet_errors++;
	if (why != NULL)
		xasprintf(&text, "ERR unavailable %s", why);
	else
		xasprintf(&text, "ERR unavailable redis: %s", redis_why());
	fleet_req_end(req, text);
	free(text);
}

/*
 * The link went down: no answer can come any more, so every request is
 * answered now, with text, or a LIST that reached the nodes with what it
 * has, or ERR unavailable.
 */
static void
fleet_fail_all(const char *text)
{
	struct fleet_req	*req;

	while ((req = TAILQ_FIRST(&fleet.fifo)) != NULL) {
		if (text != NULL)
			fleet_req_end(req, text);
		else if (req->counted && req->gather == FLEET_LIST)
			fleet_complete(req);
		else
			fleet_req_fail(req, NULL);
	}
}

/* Arms the deadline timer for the oldest waiting request, if any. */
static void
fleet_arm(void)
{
	struct fleet_req	*req = TAILQ_FIRST(&fleet.fifo);

	if (req != NULL)
		redis_timer_at(fleet.ev_deadline, req->deadline);
}

/*
 * Answers the requests whose deadline passed: a LIST that reached the
 * nodes with those that answered, anything else ERR unavailable.
 */
static void
fleet_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fleet_req	*req;
	uint64_t		 now = mono_ns();
	char			 why[64];

	while ((req = TAILQ_FIRST(&fleet.fifo)) != NULL &&
	    req->deadline <= now) {
		if (req->counted && req->gather == FLEET_LIST)
			fleet_complete(req);
		else if (req->counted) {
			snprintf(why, sizeof(why), "%llu of %llu nodes "
			    "answered", (unsigned long long)req->answered,
			    (unsigned long long)req->expected);
			fleet_req_fail(req, why);
		} else
			fleet_req_fail(req, "no answer in time");
	}
	fleet_arm();
}

/* "Q <node> <id> <line>", the request on a channel; *n its length. */
static char *
fleet_request(const struct fleet_req *req, const char *line, size_t len,
    size_t *n)
{
	char	*msg;

	*n = xasprintf(&msg, "Q %s %llu %.*s", fleet.node,
	    (unsigned long long)req->id, (int)len, line);
	return (msg);
}

/*
 * Runs the command line (for SEND, KICK, PUSH and the like) on the node
 * that holds name (FLEET_ONLINE) or, when it is online nowhere, its
 * pushes (FLEET_PUSHES); here when no other node does. cb gets the
 * answer.
 */
void
fleet_route(enum fleet_route route, const char *name, const char *line,
    size_t len, fleet_answer_cb cb, void *arg)
{
	struct fleet_req	*req;
	const char		*args[3];
	size_t			 lens[3];
	char			*msg;

	req = fleet_req_new(0, cb, arg);
	if (!redis_up()) {
		fleet_req_fail(req, NULL);
		return;
	}
	req->line = xmalloc(len);
	memcpy(req->line, line, len);
	req->len = len;
	msg = fleet_request(req, line, len, &lens[2]);
	args[0] = name;
	lens[0] = strlen(name);
	args[1] = route == FLEET_PUSHES ? "push" : "online";
	lens[1] = strlen(args[1]);
	args[2] = msg;
	if (fleet_eval(SCRIPT_ROUTE, fleet_routed, (void *)(uintptr_t)req->id,
	    3, args, lens) == -1)
		fleet_req_fail(req, NULL);
	free(msg);
}

/*
 * Where a routed request went: to a node, whose answer comes on this
 * node's channel; or nowhere, when no other node holds the name, and the
 * command runs here.
 */
static void
fleet_routed(void *arg, const struct redisReply *r, const char *error)
{
	struct fleet_req	*req;
	char			 why[HB_NAME_MAX + 32];

	if ((req = fleet_req_find(arg)) == NULL)
		return;
	if (error != NULL) {
		fleet_req_fail(req, error);
		return;
	}
	if (r->type == REDIS_REPLY_NIL) {
		admin_exec(req->line, req->len, fleet_local_done, arg);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		fleet_req_fail(req, "bad answer from Redis");
		return;
	}
	if (r->element[1]->integer == 0) {
		snprintf(why, sizeof(why), "node %s does not listen",
		    r->element[0]->str);
		fleet_req_fail(req, why);
	}
}

/* The answer of a routed command that ran here. */
static void
fleet_local_done(void *arg, const char *answer, size_t len)
{
	struct fleet_req	*req;
	char			*text;

	if ((req = fleet_req_find(arg)) == NULL)
		return;
	if (answer == NULL) {
		fleet_req_fail(req, "shutting down");
		return;
	}
	while (len > 0 && answer[len - 1] == '\n')
		len--;
	text = xstrndup(answer, len);
	fleet_req_end(req, text);
	free(text);
}

/*
 * Runs the command line on every node of the fleet, this one included,
 * and answers with what gather makes of their answers.
 */
void
fleet_all(enum fleet_gather gather, const char *line, size_t len,
    fleet_answer_cb cb, void *arg)
{
	struct fleet_req	*req;
	const char		*args[1];
	size_t			 lens[1];
	char			*msg;

	req = fleet_req_new(1, cb, arg);
	req->gather = gather;
	if (gather != FLEET_SUM && (req->lines = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	if (!redis_up()) {
		fleet_req_fail(req, NULL);
		return;
	}
	msg = fleet_request(req, line, len, &lens[0]);
	args[0] = msg;
	if (fleet_eval(SCRIPT_ALL, fleet_reached, (void *)(uintptr_t)req->id,
	    1, args, lens) == -1)
		fleet_req_fail(req, NULL);
	free(msg);
}

/* How many nodes a fleet-wide request reached, and how many are alive. */
static void
fleet_reached(void *arg, const struct redisReply *r, const char *error)
{
	struct fleet_req	*req;

	if ((req = fleet_req_find(arg)) == NULL)
		return;
	if (error != NULL) {
		fleet_req_fail(req, error);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		fleet_req_fail(req, "bad answer from Redis");
		return;
	}
	req->expected = r->element[0]->integer;
	req->known = r->element[1]->integer;
	req->counted = 1;
	if (req->answered >= req->expected)
		fleet_complete(req);
}

/* A message on one of this node's channels. */
static void
fleet_message_cb(const char *msg, size_t len)
{
	if (len < 2 || msg[1] != ' ')
		return;
	switch (msg[0]) {
	case 'Q':
		fleet_run(msg + 2, len - 2);
		break;
	case 'A':
		fleet_answer(msg + 2, len - 2);
		break;
	case 'R':
		fleet_replace(msg + 2, len - 2);
		break;
	case 'D':
		fleet_drop(msg + 2, len - 2);
		break;
	}
}

/* "<node> <id> <line>": another node's request, run here. */
static void
fleet_run(const char *msg, size_t len)
{
	struct fleet_job	*job;
	const char		*end = msg + len, *sp, *line;
	char			 num[24];
	const char		*why;

	if ((sp = memchr(msg, ' ', len)) == NULL ||
	    (size_t)(sp - msg) > HB_NAME_MAX ||
	    (line = memchr(sp + 1, ' ', end - sp - 1)) == NULL ||
	    (size_t)(line - sp - 1) >= sizeof(num))
		return;
	job = xcalloc(1, sizeof(*job));
	memcpy(job->origin, msg, sp - msg);
	memcpy(num, sp + 1, line - sp - 1);
	num[line - sp - 1] = '\0';
	if (parse_u64(num, 1, UINT64_MAX, &job->id, &why) == -1) {
		free(job);
		return;
	}
	line++;
	admin_exec(line, end - line, fleet_ran, job);
}

/* Publishes the answer of another node's request to that node. */
static void
fleet_ran(void *arg, const char *answer, size_t len)
{
	struct fleet_job	*job = arg;
	char			 channel[FLEET_KEY_MAX], *msg;
	const char		*argv[3];
	size_t			 lens[3];
	int			 n;

	if (answer != NULL) {
		snprintf(channel, sizeof(channel), "%sto:%s", fleet.prefix,
		    job->origin);
		n = xasprintf(&msg, "A %llu %s\n%.*s",
		    (unsigned long long)job->id, fleet.node, (int)len, answer);
		argv[0] = "PUBLISH";
		argv[1] = channel;
		argv[2] = msg;
		lens[0] = 7;
		lens[1] = strlen(channel);
		lens[2] = n;
		redis_command(NULL, NULL, 3, argv, lens);
		free(msg);
	}
	free(job);
}

/* "<id> <node>\n<answer>": a node answers a request of this one. */
static void
fleet_answer(const char *msg, size_t len)
{
	struct fleet_req	*req;
	const char		*nl, *sp, *why;
	char			 num[24], node[HB_NAME_MAX + 1];
	uint64_t		 id;
	size_t			 n;

	if ((nl = memchr(msg, '\n', len)) == NULL ||
	    (sp = memchr(msg, ' ', nl - msg)) == NULL ||
	    (size_t)(sp - msg) >= sizeof(num) ||
	    (size_t)(nl - sp - 1) > HB_NAME_MAX)
		return;
	memcpy(num, msg, sp - msg);
	num[sp - msg] = '\0';
	if (parse_u64(num, 1, UINT64_MAX, &id, &why) == -1 ||
	    (req = fleet_req_find((void *)(uintptr_t)id)) == NULL)
		return;
	memcpy(node, sp + 1, nl - sp - 1);
	node[nl - sp - 1] = '\0';
	n = msg + len - nl - 1;
	fleet_gathered(req, node, nl + 1, n);
}

/*
 * Takes one node's answer to req: a routed request ends with it, a
 * fleet-wide one once every node it reached has answered.
 */
static void
fleet_gathered(struct fleet_req *req, const char *node, const char *answer,
    size_t len)
{
	const char	*p, *nl, *end = answer + len;
	char		*text;
	uint64_t	 n;

	while (len > 0 && answer[len - 1] == '\n')
		len--;
	if (!req->all) {
		text = xstrndup(answer, len);
		fleet_req_end(req, text);
		free(text);
		return;
	}
	req->answered++;
	if (req->gather == FLEET_SUM) {
		if (sscanf(answer, "OK %llu", (unsigned long long *)&n) == 1)
			req->sum += n;
	} else if (req->gather == FLEET_ANY) {
		if (len == 2 && memcmp(answer, "OK", 2) == 0)
			req->sum++;
		else if (evbuffer_get_length(req->lines) == 0)
			evbuffer_add(req->lines, answer, len);
	} else {
		for (p = answer; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', end - p)) == NULL)
				nl = end;
			if (nl - p > 7 && strncmp(p, "CLIENT ", 7) == 0)
				evbuffer_add_printf(req->lines,
				    "%.*s node=%s\n", (int)(nl - p), p, node);
		}
	}
	if (req->counted && req->answered >= req->expected)
		fleet_complete(req);
}

/* Answers a fleet-wide request with what it gathered. */
static void
fleet_complete(struct fleet_req *req)
{
	char	*text;

	if (req->gather == FLEET_SUM)
		xasprintf(&text, "OK %llu", (unsigned long long)req->sum);
	else if (req->gather == FLEET_ANY)
		xasprintf(&text, "%.*s", req->sum > 0 ? 2 :
		    (int)evbuffer_get_length(req->lines), req->sum > 0 ? "OK" :
		    (const char *)evbuffer_pullup(req->lines, -1));
	else
		xasprintf(&text, "%.*sEND nodes=%llu/%llu",
		    (int)evbuffer_get_length(req->lines),
		    (const char *)evbuffer_pullup(req->lines, -1),
		    (unsigned long long)req->answered,
		    (unsigned long long)(req->known > req->answered ?
		    req->known : req->answered));
	fleet_req_end(req, text);
	free(text);
}

/*
 * "<name>": the name came online at another node, which holds its
 * pushes from now; unless this node holds the name too, it drops them.
 */
static void
fleet_drop(const char *msg, size_t len)
{
	char	 name[HB_NAME_MAX + 1];

	if (len > HB_NAME_MAX)
		return;
	memcpy(name, msg, len);
	name[len] = '\0';
	if (registry_by_name(name) == NULL)
		push_drop(name);
}

/* "<id> <name>": another node took name from client #id of this one. */
static void
fleet_replace(const char *msg, size_t len)
{
	struct client	*c;
	const char	*sp, *why;
	char		 num[24];
	uint64_t	 id;

	if ((sp = memchr(msg, ' ', len)) == NULL ||
	    (size_t)(sp - msg) >= sizeof(num))
		return;
	memcpy(num, msg, sp - msg);
	num[sp - msg] = '\0';
	if (parse_u64(num, 1, UINT64_MAX, &id, &why) == -1 ||
	    (c = registry_by_id(id)) == NULL ||
	    strlen(c->name) != (size_t)(msg + len - sp - 1) ||
	    memcmp(c->name, sp + 1, msg + len - sp - 1) != 0)
		return;
	client_close(c, REASON_REPLACED);
}
