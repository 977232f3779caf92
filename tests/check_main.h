#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H

#include <sys/socket.h>

#include <check.h>

/*
 * Every check program defines its suite here and shares check_main.c's
 * main(). A suite of NULL skips the whole program (automake's exit 77);
 * test_suite() says why on stdout.
 */
Suite		*test_suite(void);

/* A numeric address, parsed into storage that lasts until the next call. */
struct sockaddr	*check_sa(const char *);
/*
 * 2^64 + id in decimal, in storage that lasts until the next call: what a
 * parser that wraps around past 64 bits would take for id.
 */
const char	*check_id_wrapped(unsigned long long);
/* The line fmt makes, in storage that lasts until the next call. */
const char	*check_linef(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));
/* The real-time clock in microseconds, as the memory store's push ids. */
unsigned long long check_clock_us(void);

#endif /* CHECK_MAIN_H */
