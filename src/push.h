#ifndef PUSH_H
#define PUSH_H

#include <stddef.h>
#include <stdint.h>

struct client;

/*
 * Pushes with acknowledgement (SPEC §13): per-name queues of messages
 * that wait for their name to come online, are sent as MSG, and are
 * done only when ACKed or expired. Ids grow and are never reused. With
 * a durable store, a push enters the queues (and is answered) only once
 * the store has it on disk.
 */

#define PUSH_TTL_MAX	2592000		/* s a push may be asked to live */

/* The answer to a push_submit(): its id, or error set and id 0. */
typedef void	(*push_answer_cb)(void *, uint64_t, const char *);

int	 push_start(char **);
void	 push_reconfigure(void);
void	 push_stop(void);

int	 push_submit(const char *, uint64_t, const char *, size_t,
	    push_answer_cb, void *, const char **);
int	 push_cancel(uint64_t);
size_t	 push_pending(void);

/* One pending push as PUSHES shows it. */
struct push_info {
	uint64_t	 id;
	double		 age;		/* s */
	double		 ttl;		/* s left */
	uint64_t	 tries;		/* times sent */
	const char	*msg;
	size_t		 len;
};
typedef void	(*push_list_cb)(const struct push_info *, void *);
void	 push_list(const char *, push_list_cb, void *);

/* client.c; push_online() and push_ack() return -1 when c was closed. */
int	 push_online(struct client *);
void	 push_offline(struct client *);
int	 push_ack(struct client *, const char *, size_t);

#endif /* PUSH_H */
