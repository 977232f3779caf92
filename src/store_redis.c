/*
 * The store of a fleet (SPEC §14): the last-seen registry and the pending
 * pushes in the fleet's Redis, so that a device that comes back at any
 * node finds its record and its pushes. Commands go through the fleet's
 * link (redis.c) and never wait; only the loads at start, before the loop
 * runs, wait for their answer, a second at most, and a Redis that does
 * not answer then leaves the node to start empty rather than not at all.
 *
 * In Redis, under the prefix P:
 *   P seen		a hash, name -> "state addr since last_seen reason
 *			sessions node", addr "-" when none; a node loads
 *			the names it had itself, and forgets only those
 *   P push:ID		a push, "name created expires message", which Redis
 *			drops when it expires
 *   P pushq:NAME	a sorted set of the ids of NAME's pushes, by creation
 *   P pushowner	a hash, name -> the node that holds the name's pushes
 *			in memory (fleet.c routes PUSH there)
 *   P push_epoch	a counter: each start of a node takes the next, and
 *			its push ids are epoch << 40 and up, so that ids
 *			never meet across nodes nor restarts. A node that
 *			finds no Redis at start draws an epoch from 2^22 up
 *			(its name and the time), where two nodes meet once
 *			in four million such starts
 * A name's pushes are not loaded at start: the node where the name comes
 * online fetches them then (store_redis_fetch()).
 */

#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis.h>

#include "daemon.h"
#include "log.h"
#include "redis.h"
#include "stats.h"
#include "store.h"
#include "xmalloc.h"

#define EPOCH_SHIFT	40		/* ids a node start may give: 2^40 */
#define EPOCH_FALLBACK	(1ULL << 22)	/* and up, when Redis is away */

/* A push fetched for a name, handed on as the store_push_load_cb says. */
struct rstore_fetch {
	store_push_load_cb	 cb;
	void			*arg;
};

/* A SEEN record asked for, and whom to tell. */
struct rstore_ask {
	char			 name[HB_NAME_MAX + 1];
	store_seen_cb		 cb;
	void			*arg;
};

/* A push_add() answered later, on the loop, with the link's error. */
struct rstore_failed {
	void			*token;
	char			*error;
};

static int	rstore_open(const struct hb_config *, char **);
static int	rstore_load(store_load_cb, void *, char **);
static int	rstore_seen(const char *, const char *, size_t,
		    struct store_seen *, const char *);
static void	rstore_seen_got(void *, const struct redisReply *,
		    const char *);
static void	rstore_put(const struct store_seen *);
static void	rstore_forget(const char *);
static void	rstore_close(void);
static int	rstore_push_load(store_push_load_cb, void *, uint64_t *,
		    char **);
static uint64_t	rstore_hash(const char *);
static void	rstore_push_add(const struct store_push *, void *);
static void	rstore_push_added(void *, const struct redisReply *,
		    const char *);
static void	rstore_push_failed(evutil_socket_t, short, void *);
static void	rstore_push_delete(uint64_t);
static void	rstore_fetched(void *, const struct redisReply *, const char *);
static int	rstore_push(const struct redisReply *,
		    const struct redisReply *, struct store_push *);
static int	rstore_eval(const char *, int, redis_reply_cb, void *, int,
		    const char **, const size_t *);

const struct store_backend store_redis = {
	"redis", NULL, rstore_open, rstore_load, rstore_put, rstore_forget,
	rstore_close, rstore_push_load, rstore_push_add, rstore_push_delete,
	NULL
};

/* FORGET seen name node: drops name's record if node wrote it last. */
static const char forget_lua[] =
	"local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if v and string.sub(v, -#ARGV[2] - 1) == ' ' .. ARGV[2] then\n"
	"  redis.call('HDEL', KEYS[1], ARGV[1])\n"
	"end\n"
	"return 0\n";

/* ADD push:ID pushq:NAME pushowner | record expires id name node. */
static const char add_lua[] =
	"redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])\n"
	"redis.call('ZADD', KEYS[2], ARGV[6], ARGV[3])\n"
	"redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])\n"
	"return 0\n";

/* DELETE push:ID | prefix id: the push, its index entry, then owner. */
static const char delete_lua[] =
	"local v = redis.call('GET', KEYS[1])\n"
	"if not v then return 0 end\n"
	"local name = string.match(v, '^(%S+)')\n"
	"local q = ARGV[1] .. 'pushq:' .. name\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('ZREM', q, ARGV[2])\n"
	"if redis.call('EXISTS', q) == 0 then\n"
	"  redis.call('HDEL', ARGV[1] .. 'pushowner', name)\n"
	"end\n"
	"return 0\n";

/* FETCH pushq:NAME | prefix: {id, record, ...}, dropping expired ids. */
static const char fetch_lua[] =
	"local out = {}\n"
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
	"  local v = redis.call('GET', ARGV[1] .. 'push:' .. id)\n"
	"  if v then\n"
	"    out[#out + 1] = id\n"
	"    out[#out + 1] = v\n"
	"  else\n"
	"    redis.call('ZREM', KEYS[1], id)\n"
	"  end\n"
	"end\n"
	"return out\n";

static struct {
	char	*where;
	char	*password;
	char	*prefix;
	char	*node;
	char	 seen_key[HB_NAME_MAX + 16];
} rs;

static int
rstore_open(const struct hb_config *conf, char **cause)
{
	rs.where = xstrdup(conf->cluster_redis);
	rs.password = conf->cluster_password != NULL ?
	    xstrdup(conf->cluster_password) : NULL;
	rs.prefix = xstrdup(conf->cluster_prefix != NULL ?
	    conf->cluster_prefix : "");
	rs.node = xstrdup(conf->cluster_node);
	snprintf(rs.seen_key, sizeof(rs.seen_key), "%sseen", rs.prefix);
	return (0);
}

/*
 * Loads the records this node wrote: its names, offline now, those that
 * were online lost, as after a crash. The others' records are theirs.
 * Redis away: nothing, said once.
 */
static int
rstore_load(store_load_cb cb, void *arg, char **cause)
{
	const char		*argv[2] = { "HGETALL", rs.seen_key };
	size_t			 lens[2], i;
	struct store_seen	 rec;
	redisReply		*r;
	char			*why;

	lens[0] = strlen(argv[0]);
	lens[1] = strlen(argv[1]);
	if ((r = redis_sync(rs.where, rs.password, 2, argv, lens,
	    &why)) == NULL) {
		log_warnx("last-seen registry not loaded: %s", why);
		free(why);
		return (0);
	}
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	    i += 2) {
		if (rstore_seen(r->element[i]->str, r->element[i + 1]->str,
		    r->element[i + 1]->len, &rec, rs.node) == -1)
			continue;
		if (strcmp(rec.state, "online") == 0) {
			rec.state = "offline";
			rec.reason = "lost";
		}
		cb(&rec, arg);
	}
	freeReplyObject(r);
	return (0);
}

/*
 * Reads name's record into rec, if node (NULL: any) wrote it. Returns 0,
 * or -1 when it is another node's or malformed.
 */
static int
rstore_seen(const char *name, const char *text, size_t len,
    struct store_seen *rec, const char *by)
{
	static char	 state[16], reason[32];
	char		 node[HB_NAME_MAX + 1], addr[ADDR_STRLEN];
	long long	 since, last;
	unsigned long long sessions;

	if (strlen(name) > HB_NAME_MAX || len > 256 ||
	    sscanf(text, "%15s %71s %lld %lld %31s %llu %64s", state, addr,
	    &since, &last, reason, &sessions, node) != 7 ||
	    (by != NULL && strcmp(node, by) != 0))
		return (-1);
	memset(rec, 0, sizeof(*rec));
	strlcpy(rec->name, name, sizeof(rec->name));
	rec->state = state;
	if (strcmp(addr, "-") != 0)
		strlcpy(rec->addr, addr, sizeof(rec->addr));
	rec->since = since;
	rec->last_seen = last;
	rec->reason = reason;
	rec->sessions = sessions;
	return (0);
}

/*
 * Asks for name's record, for SEEN in a fleet: cb gets it, or NULL when
 * there is none, or error.
 */
void
store_redis_seen(const char *name, store_seen_cb cb, void *arg)
{
	const char		*argv[3] = { "HGET", rs.seen_key, name };
	size_t			 lens[3];
	struct rstore_ask	*ask;
	char			*why;

	ask = xmalloc(sizeof(*ask));
	strlcpy(ask->name, name, sizeof(ask->name));
	ask->cb = cb;
	ask->arg = arg;
	lens[0] = 4;
	lens[1] = strlen(rs.seen_key);
	lens[2] = strlen(name);
	if (redis_command(rstore_seen_got, ask, 3, argv, lens) == -1) {
		xasprintf(&why, "redis: %s", redis_why());
		cb(arg, NULL, why);
		free(why);
		free(ask);
	}
}

static void
rstore_seen_got(void *arg, const struct redisReply *r, const char *error)
{
	struct rstore_ask	*ask = arg;
	struct store_seen	 rec;
	char			*why;

	if (error != NULL) {
		stats.fleet_errors++;
		xasprintf(&why, "redis: %s", error);
		ask->cb(ask->arg, NULL, why);
		free(why);
	} else if (r->type == REDIS_REPLY_STRING && rstore_seen(ask->name,
	    r->str, r->len, &rec, NULL) == 0)
		ask->cb(ask->arg, &rec, NULL);
	else
		ask->cb(ask->arg, NULL, NULL);
	free(ask);
}

/* Keeps rec, the node's latest word on its name; lost while Redis is. */
static void
rstore_put(const struct store_seen *rec)
{
	const char	*argv[4];
	size_t		 lens[4];
	char		 value[HB_NAME_MAX + ADDR_STRLEN + 128];

	lens[3] = snprintf(value, sizeof(value), "%s %s %lld %lld %s %llu %s",
	    rec->state, rec->addr[0] != '\0' ? rec->addr : "-",
	    (long long)rec->since, (long long)rec->last_seen, rec->reason,
	    (unsigned long long)rec->sessions, rs.node);
	argv[0] = "HSET";
	argv[1] = rs.seen_key;
	argv[2] = rec->name;
	argv[3] = value;
	lens[0] = 4;
	lens[1] = strlen(rs.seen_key);
	lens[2] = strlen(rec->name);
	redis_command(NULL, NULL, 4, argv, lens);
}

/* Forgets name's record, unless another node wrote it since. */
static void
rstore_forget(const char *name)
{
	const char	*args[3] = { rs.seen_key, name, rs.node };

	rstore_eval(forget_lua, 1, NULL, NULL, 3, args, NULL);
}

static void
rstore_close(void)
{
	free(rs.where);
	free(rs.password);
	free(rs.prefix);
	free(rs.node);
	memset(&rs, 0, sizeof(rs));
}

/*
 * Takes this start's epoch of push ids (*last_id = epoch << 40); the
 * pushes themselves come by name (store_redis_fetch()).
 */
static int
rstore_push_load(store_push_load_cb cb, void *arg, uint64_t *last_id,
    char **cause)
{
	char		 key[HB_NAME_MAX + 16];
	const char	*argv[2] = { "INCR", key };
	size_t		 lens[2];
	redisReply	*r;
	uint64_t	 epoch;
	char		*why;

	snprintf(key, sizeof(key), "%spush_epoch", rs.prefix);
	lens[0] = 4;
	lens[1] = strlen(key);
	if ((r = redis_sync(rs.where, rs.password, 2, argv, lens,
	    &why)) != NULL && r->type == REDIS_REPLY_INTEGER) {
		epoch = r->integer;
		freeReplyObject(r);
	} else {
		epoch = EPOCH_FALLBACK + ((uint64_t)time(NULL) ^
		    rstore_hash(rs.node)) % EPOCH_FALLBACK;
		log_warnx("push ids from epoch %" PRIu64 ": %s", epoch,
		    r == NULL ? why : "bad answer");
		if (r == NULL)
			free(why);
		freeReplyObject(r);
	}
	*last_id = epoch << EPOCH_SHIFT;
	return (0);
}

/*
 * Keeps a push, with its index entry and this node as the holder of its
 * name's pushes; the push's token is answered once Redis has it.
 */
static void
rstore_push_add(const struct store_push *sp, void *token)
{
	char			 key[HB_NAME_MAX + 32], queue[HB_NAME_MAX * 2 + 16];
	char			 owner[HB_NAME_MAX + 16], id[24], created[24];
	char			 expires[24], *record;
	const char		*args[9];
	size_t			 lens[9];
	struct rstore_failed	*f;
	struct timeval		 now = { 0, 0 };
	int			 i;

	snprintf(id, sizeof(id), "%" PRIu64, sp->id);
	snprintf(key, sizeof(key), "%spush:%s", rs.prefix, id);
	snprintf(queue, sizeof(queue), "%spushq:%s", rs.prefix, sp->name);
	snprintf(owner, sizeof(owner), "%spushowner", rs.prefix);
	snprintf(created, sizeof(created), "%" PRId64, sp->created);
	snprintf(expires, sizeof(expires), "%" PRId64, sp->expires);
	lens[3] = xasprintf(&record, "%s %s %s %.*s", sp->name, created,
	    expires, (int)sp->len, sp->msg);
	args[0] = key;
	args[1] = queue;
	args[2] = owner;
	args[3] = record;
	args[4] = expires;
	args[5] = id;
	args[6] = sp->name;
	args[7] = rs.node;
	args[8] = created;
	for (i = 0; i < 9; i++)
		if (i != 3)
			lens[i] = strlen(args[i]);
	if (rstore_eval(add_lua, 3, rstore_push_added, token, 9, args,
	    lens) == -1) {
		f = xmalloc(sizeof(*f));
		f->token = token;
		xasprintf(&f->error, "redis: %s", redis_why());
		if (event_base_once(hb_base, -1, EV_TIMEOUT, rstore_push_failed,
		    f, &now) == -1)
			fatalx("%s: event_base_once", __func__);
	}
	free(record);
}

/* Redis's answer to a push_add(). */
static void
rstore_push_added(void *token, const struct redisReply *r,
    const char *error)
{
	char	*why;

	if (error == NULL) {
		store_push_done(token, NULL);
		return;
	}
	xasprintf(&why, "redis: %s", error);
	store_push_done(token, why);
	free(why);
}

/* A push_add() the link could not even send, answered on the loop. */
static void
rstore_push_failed(evutil_socket_t fd, short what, void *arg)
{
	struct rstore_failed	*f = arg;

	store_push_done(f->token, f->error);
	free(f->error);
	free(f);
}

/* Forgets the push of id; a repeat after a loss is what pushes allow. */
static void
rstore_push_delete(uint64_t id)
{
	char		 key[HB_NAME_MAX + 32], num[24];
	const char	*args[3] = { key, rs.prefix, num };

	snprintf(num, sizeof(num), "%" PRIu64, id);
	snprintf(key, sizeof(key), "%spush:%s", rs.prefix, num);
	rstore_eval(delete_lua, 1, NULL, NULL, 3, args, NULL);
}

/*
 * Fetches the pending pushes of name, for the node where it comes
 * online: cb gets each, on the loop, unless the link is down.
 */
void
store_redis_fetch(const char *name, store_push_load_cb cb, void *arg)
{
	char			 queue[HB_NAME_MAX * 2 + 16];
	const char		*args[2] = { queue, rs.prefix };
	struct rstore_fetch	*f;

	snprintf(queue, sizeof(queue), "%spushq:%s", rs.prefix, name);
	f = xmalloc(sizeof(*f));
	f->cb = cb;
	f->arg = arg;
	if (rstore_eval(fetch_lua, 1, rstore_fetched, f, 2, args, NULL) == -1)
		free(f);
}

static void
rstore_fetched(void *arg, const struct redisReply *r, const char *error)
{
	struct rstore_fetch	*f = arg;
	struct store_push	 sp;
	size_t			 i;

	if (error != NULL)
		stats.fleet_errors++;
	for (i = 0; error == NULL && r->type == REDIS_REPLY_ARRAY &&
	    i + 1 < r->elements; i += 2) {
		if (rstore_push(r->element[i], r->element[i + 1], &sp) == 0)
			f->cb(&sp, f->arg);
	}
	free(f);
}

/* Reads a push from its id and its record. Returns 0 or -1. */
static int
rstore_push(const struct redisReply *id, const struct redisReply *rec,
    struct store_push *sp)
{
	const char	*p = rec->str, *end = rec->str + rec->len, *sp1;
	long long	 created, expires;
	int		 n;

	memset(sp, 0, sizeof(*sp));
	if (id->type != REDIS_REPLY_STRING || rec->type != REDIS_REPLY_STRING ||
	    (sp1 = memchr(p, ' ', rec->len)) == NULL ||
	    (size_t)(sp1 - p) > HB_NAME_MAX ||
	    sscanf(sp1 + 1, "%lld %lld %n", &created, &expires, &n) != 2 ||
	    sp1 + 1 + n > end)
		return (-1);
	sp->id = strtoull(id->str, NULL, 10);
	memcpy(sp->name, p, sp1 - p);
	sp->created = created;
	sp->expires = expires;
	sp->msg = sp1 + 1 + n;
	sp->len = end - sp->msg;
	return (0);
}

/* FNV-1a of s, to spread the fallback epochs of nodes apart. */
static uint64_t
rstore_hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h);
}

/* Runs a Lua script on nkeys keys and then arguments, never waiting. */
static int
rstore_eval(const char *lua, int nkeys, redis_reply_cb cb, void *arg,
    int argc, const char **args, const size_t *arglens)
{
	const char	*argv[12];
	size_t		 lens[12];
	char		 keys[4];
	int		 i;

	snprintf(keys, sizeof(keys), "%d", nkeys);
	argv[0] = "EVAL";
	argv[1] = lua;
	argv[2] = keys;
	for (i = 0; i < 3; i++)
		lens[i] = strlen(argv[i]);
	for (i = 0; i < argc && i < 9; i++) {
		argv[3 + i] = args[i];
		lens[3 + i] = arglens != NULL ? arglens[i] : strlen(args[i]);
	}
	return (redis_command(cb, arg, 3 + i, argv, lens));
}
