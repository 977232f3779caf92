#ifndef CONN_H
#define CONN_H

#include <sys/types.h>
#include <sys/uio.h>

#include <openssl/ssl.h>

struct evbuffer;

/*
 * The transport under a connection: a socket, plain or with TLS on it.
 * Client and pending connections read and write through these calls
 * only, so that plain and TLS share one read path, one send path, one
 * goodbye and one close; the difference is a table of operations, as in
 * redis's connection types.
 */
struct conn {
	int			 fd;
	SSL			*ssl;		/* NULL: plain TCP */
};

#define CONN_AGAIN	(-2)	/* retry when *want (EV_READ/EV_WRITE) is ready */
#define CONN_ERROR	(-1)

ssize_t	 conn_read(struct conn *, void *, size_t, short *);
ssize_t	 conn_writev(struct conn *, const struct iovec *, int, short *);
ssize_t	 conn_write_buffer(struct conn *, struct evbuffer *, short *);
int	 conn_handshake(struct conn *, short *);
int	 conn_pending(const struct conn *);
ssize_t	 conn_goodbye(struct conn *, const char *, size_t, int);
void	 conn_free_tls(struct conn *);

#endif /* CONN_H */
