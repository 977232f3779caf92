/*
 * The one main() of every check program: run its suite, exit 0 when every
 * test passed, 77 (automake's skip) when the suite is NULL.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <check.h>

#include "check_main.h"
#include "util.h"

#define EXIT_SKIP	77
#define CHECK_LINE_MAX	4096
#define TERA		1000000000000ULL

int
main(void)
{
	Suite	*s;
	SRunner	*sr;
	int	 failed;

	if ((s = test_suite()) == NULL)
		return (EXIT_SKIP);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

struct sockaddr *
check_sa(const char *s)
{
	static struct sockaddr_storage	 ss;
	socklen_t			 len;

	ck_assert_msg(addr_parse(s, &ss, &len) == 0, "%s", s);
	return ((struct sockaddr *)&ss);
}

/* 2^64 is 18446744 * TERA + 73709551616, which splits the sum in two. */
const char *
check_id_wrapped(unsigned long long id)
{
	static char		 s[32];
	unsigned long long	 lo = 73709551616ULL + id % TERA;

	snprintf(s, sizeof(s), "%llu%012llu", 18446744 + id / TERA +
	    lo / TERA, lo % TERA);
	return (s);
}

unsigned long long
check_clock_us(void)
{
	struct timespec	 ts;

	ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return ((unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

const char *
check_linef(const char *fmt, ...)
{
	static char	 line[CHECK_LINE_MAX];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return (line);
}
