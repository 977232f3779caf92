#ifndef REDIS_H
#define REDIS_H

#include <stddef.h>

#include <stdint.h>

struct event;
struct redisReply;

/*
 * The link to the fleet's Redis (SPEC §14): one connection for commands
 * and one subscribed to the node's channels, both on hb_base through
 * hiredis's libevent adapter, so that nothing ever waits for Redis. The
 * link reconnects by itself, with a backoff, and gives every command an
 * answer within REDIS_DEADLINE_MS.
 */

#define REDIS_DEADLINE_MS	1000	/* a command's answer, at the latest */

/*
 * A command's answer: reply, or NULL when the link dropped or the
 * deadline passed; error is set for those and for a Redis error reply
 * (then reply->str). Called on the event loop, once.
 */
typedef void	(*redis_reply_cb)(void *, const struct redisReply *,
		    const char *);
/* A message published to one of the link's channels. */
typedef void	(*redis_message_cb)(const char *, size_t);
/* The link came up (1: both connections ready, subscribed) or went down. */
typedef void	(*redis_state_cb)(int);

void		 redis_open(const char *, const char *, const char *const *,
		    size_t, redis_state_cb, redis_message_cb);
int		 redis_command(redis_reply_cb, void *, int, const char **,
		    const size_t *);
struct redisReply *redis_sync(const char *, const char *, int, const char **,
		    const size_t *, char **);
void		 redis_last(int, const char **, const size_t *);
int		 redis_up(void);
void		 redis_timer_at(struct event *, uint64_t);
const char	*redis_why(void);
void		 redis_close(void);

#endif /* REDIS_H */
