#ifndef CLIENT_H
#define CLIENT_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <stdint.h>

#include "conn.h"
#include "heartbeatd.h"
#include "proto.h"

struct event;
struct evbuffer;
struct deadlines;
struct iovec;

/* One client connection, from accept to client_close(). */
struct client {
	uint64_t		 id;		/* #1, #2, ... never reused */
	struct conn		 conn;		/* socket, and TLS on it */
	int			 flags;
#define CLIENT_CLOSING		 0x1		/* being torn down */
#define CLIENT_EOF		 0x2		/* peer half-closed */
#define CLIENT_UNPROVEN		 0x4		/* owes a HELLO with a token */
#define CLIENT_CERT		 0x8		/* named by its certificate */
#define CLIENT_READ_WAITS	 0x10		/* TLS read waits to write */
#define CLIENT_TIMEOUT		 0x20		/* asked for its own timeout */
	char			 name[HB_NAME_MAX + 1];	/* "" if unnamed */
	union {
		struct sockaddr		 sa;
		struct sockaddr_in	 sin;
		struct sockaddr_in6	 sin6;
	}			 addr;
	uint64_t		 connected;	/* mono ns */
	uint64_t		 last_rx;	/* mono ns of the last byte in */
	double			 timeout_asked;	/* s, with CLIENT_TIMEOUT */
	uint64_t		 gap_max;	/* ns: longest silence ended */
	uint64_t		 near;		/* silences over half timeout */
	struct deadlines	*deadlines;	/* the list it waits in */
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	struct event		*ev_read;
	struct event		*ev_write;	/* made on first short write */
	struct evbuffer		*outq;		/* unsent output, or NULL */
	struct linebuf		 lb;

	TAILQ_ENTRY(client)	 entry;		/* registry, oldest first */
	TAILQ_ENTRY(client)	 activity;	/* in a deadline list */
	RB_ENTRY(client)	 id_node;
	RB_ENTRY(client)	 name_node;	/* only while named */
};

struct client	*client_new(const struct conn *, const struct sockaddr *,
		    socklen_t);
void		 client_close(struct client *, enum hb_reason);
int		 client_send(struct client *, const char *, size_t);
int		 client_send_line(struct client *, const char *, size_t);
int		 client_sendv(struct client *, struct iovec *, int);
size_t		 client_queued(const struct client *);
void		 client_rearm_all(void);
double		 client_granted(const struct client *);
void		 client_close_all(enum hb_reason);

#endif /* CLIENT_H */
