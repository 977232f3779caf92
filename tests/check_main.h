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

#endif /* CHECK_MAIN_H */
