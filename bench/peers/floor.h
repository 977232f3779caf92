/*
 * floor.h: what the two floors of bench/run, epoll_floor and tls_floor,
 * share: the listening socket, the fd limit and the list that closes
 * connections silent for the timeout.
 */

#ifndef FLOOR_H
#define FLOOR_H

#include <stdint.h>

void		 floor_die(const char *) __attribute__((__noreturn__));
uint64_t	 floor_mono_ns(void);
int		 floor_fd_limit(void);
void		 floor_watch(int, int, int, uint32_t);
int		 floor_listen(int, uint16_t);

void		 tlist_init(int, uint64_t);
int		 tlist_on(void);
void		 tlist_add(int, uint64_t);
void		 tlist_touch(int, uint64_t);
void		 tlist_remove(int);
int		 tlist_expire(uint64_t, void (*)(int));

#endif
