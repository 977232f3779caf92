#ifndef PROXY_H
#define PROXY_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#define PROXY_V1_MAX	107	/* bytes, CRLF included (the spec's limit) */
#define PROXY_V2_MAX	(16 + 2048)	/* bytes we accept, TLVs included */
#define PROXY_MAX	PROXY_V2_MAX

enum proxy_result { PROXY_BAD = -1, PROXY_MORE = 0, PROXY_DONE = 1 };

/* What a complete PROXY header says (haproxy's proxy-protocol.txt). */
struct proxy_hdr {
	size_t			 len;	/* bytes the header takes */
	int			 local;	/* 1: v1 UNKNOWN, v2 LOCAL or
					   AF_UNSPEC: keep the socket's
					   own address */
	struct sockaddr_storage	 src;	/* the client's address, if !local */
	socklen_t		 srclen;
	struct sockaddr_storage	 dst;
	socklen_t		 dstlen;
};

/* buf holds the first len bytes received (read with MSG_PEEK). */
enum proxy_result proxy_parse(const void *buf, size_t len,
    struct proxy_hdr *hdr, const char **why);

#endif /* PROXY_H */
