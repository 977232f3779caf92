#ifndef UTIL_H
#define UTIL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"

/* Longest "[v6addr%scope]:port" plus its NUL. */
#define ADDR_STRLEN	72

int		 addr_parse(const char *, struct sockaddr_storage *,
		    socklen_t *);
const char	*addr_format(const struct sockaddr *, char *, size_t);
int		 addr_equal(const struct sockaddr *, const struct sockaddr *);
int		 addr_same_host(const struct sockaddr *,
		    const struct sockaddr *);
int		 addr_is_loopback(const struct sockaddr *);
uint16_t	 addr_port(const struct sockaddr *);
int		 addrlist_contains(const struct hb_addrlist *,
		    const struct hb_addr *);
int		 cidr_parse(const char *, struct hb_cidr *);
int		 cidr_contains(const struct hb_cidr *, const struct sockaddr *);
int		 cidrlist_contains(const struct hb_cidrlist *,
		    const struct sockaddr *);

int		 parse_u64(const char *, uint64_t, uint64_t, uint64_t *,
		    const char **);
int		 parse_double(const char *, double, double, double *,
		    const char **);
int		 parse_bool(const char *, int *);

int		 secret_equal(const char *, size_t, const char *);

const char	*opt_refused(const char *);

int		 fd_nonblock_cloexec(int);
uint64_t	 mono_ns(void);
double		 mono_seconds(uint64_t, uint64_t);
int64_t		 mono_to_unix(uint64_t);

#endif /* UTIL_H */
