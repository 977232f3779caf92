/*
 * What the libFuzzer harnesses share: a daemon without listeners (the
 * real event base, config, registry and logging), socketpairs standing in
 * for TCP connections, and a reader that cuts the fuzz input into chunks
 * whose sizes come from the input itself, so that lines split across
 * reads are explored.
 */

#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* The fuzz input being consumed: header bytes first, then chunks. */
struct fuzz_in {
	const uint8_t	*p;
	size_t		 len;
	uint32_t	 rng;		/* chunk sizes and choices */
	size_t		 chunk_max;	/* bytes */
};

/* A connection the daemon serves: a socketpair, its end and ours. */
struct fuzz_conn {
	int		 fd;		/* the daemon's end */
	ino_t		 ino;		/* tells it apart from a reused fd */
	int		 peer;		/* ours, or -1 once closed */
	uint64_t	 id;		/* client id, 0 for an admin session */
};

/* The entry points each harness defines. */
int		 LLVMFuzzerInitialize(int *, char ***);
int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Loads a config that binds nothing until a RELOAD (one client listener
 * on 127.0.0.1 port 0, no admin listener, no syslog, a WATCH backlog of
 * 64) as hb_conf, creates hb_base and applies [log] and the backlog.
 * Returns the config's path (malloc'd).
 */
char		*fuzz_init(void);
/*
 * Puts len bytes in a new memory file and returns a path that opens it
 * (malloc'd), with its descriptor in *fdp unless fdp is NULL. The file
 * lives as long as the process.
 */
char		*fuzz_temp_file(const void *data, size_t len, int *fdp);
/* Replaces the contents of the memory file fd with len bytes. */
void		 fuzz_rewrite(int fd, const void *data, size_t len);

/* Starts reading data; its first byte seeds the chunk sizes. */
void		 fuzz_in_init(struct fuzz_in *, const uint8_t *, size_t);
/* The next byte of the input, 0 once it is used up. */
uint8_t		 fuzz_in_byte(struct fuzz_in *);
/* The next pseudo-random number from the input's seed. */
uint32_t	 fuzz_in_rand(struct fuzz_in *);
/* Points *chunk at the next chunk and returns its length, 0 at the end. */
size_t		 fuzz_in_chunk(struct fuzz_in *, const uint8_t **);

/* A client on a socketpair, registered as from ip:port (numeric). */
void		 fuzz_client(struct fuzz_conn *, const char *, uint16_t);
/* An admin session on a socketpair, named peer in the logs. */
void		 fuzz_admin(struct fuzz_conn *, const char *, int);
/*
 * 1 while the daemon still holds its end of the connection. A client
 * must be in the registry exactly as long as its socket is open.
 */
int		 fuzz_alive(const struct fuzz_conn *);
/*
 * Writes len bytes to the daemon, running the event loop when the socket
 * is full and until the daemon has read them. Returns 0, or -1 when the
 * daemon closed its end or stopped reading.
 */
int		 fuzz_send(struct fuzz_conn *, const void *, size_t);
/* fuzz_send() of a C string. */
int		 fuzz_sends(struct fuzz_conn *, const char *);
/* Reads and discards what the daemon sent; returns how many bytes. */
size_t		 fuzz_drain(struct fuzz_conn *);
/* Shuts down our sending side (half set) or closes our end. */
void		 fuzz_close(struct fuzz_conn *, int half);
/*
 * Closes our end of n client connections and checks that the daemon then
 * lets every client go, closing each socket.
 */
void		 fuzz_close_clients(struct fuzz_conn *, size_t n);
/* Shrinks the kernel's send buffer on the daemon's end to its minimum. */
void		 fuzz_small_sndbuf(struct fuzz_conn *);
/*
 * Runs the event loop without blocking until the daemon has read what c
 * (NULL: none in particular) holds for it and has nothing left to do.
 */
void		 fuzz_pump(const struct fuzz_conn *);
/* Aborts with a message: a broken harness invariant is a finding. */
void		 fuzz_fail(const char *, ...)
		    __attribute__((__format__(printf, 1, 2), __noreturn__));

#endif /* FUZZ_COMMON_H */
