/*
 * The one main() of every check program: run its suite, exit 0 when every
 * test passed, 77 (automake's skip) when the suite is NULL.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdlib.h>

#include <check.h>

#include "check_main.h"
#include "util.h"

#define EXIT_SKIP	77

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
