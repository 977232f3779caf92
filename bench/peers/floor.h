/*
 * floor.h: what the two floors of bench/run, epoll_floor and tls_floor,
 * share: the event loop, the listening socket, the fd limit and the list
 * that closes connections silent for the timeout.
 */

#ifndef FLOOR_H
#define FLOOR_H

#include <stdint.h>

void		 floor_die(const char *) __attribute__((__noreturn__));
uint64_t	 floor_seconds(const char *);
int		 floor_init(uint64_t);
void		 floor_watch(int, int, uint32_t);
int		 floor_listen(uint16_t);
void		 floor_loop(void (*)(int), void (*)(int))
		    __attribute__((__noreturn__));

void		 tlist_add(int);
void		 tlist_touch(int);
void		 tlist_remove(int);

#endif
