/*
 * Unit tests for src/registry.c: connection order, lookups by id, name and
 * address, and the per-host counts behind max_clients_per_ip. The clients
 * are made by hand: the registry only reads their id, name and address.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <netinet/in.h>

#include <check.h>

#include "check_main.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "registry.h"
#include "util.h"
#include "xmalloc.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static void		 teardown(void);
static TCase		*tcase_new(Suite *, const char *);
static struct client	*add(uint64_t, const char *);
static void		 drop(struct client *);
static void		 assert_order(const uint64_t *, size_t);

/* Makes a client with id and address, as client_new() would, and adds it. */
static struct client *
add(uint64_t id, const char *addr)
{
	struct client	*c;
	struct sockaddr	*a;

	c = xcalloc(1, sizeof(*c));
	c->id = id;
	c->conn.fd = -1;
	a = check_sa(addr);
	memcpy(&c->addr, a, a->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	registry_add(c);
	return (c);
}

static void
drop(struct client *c)
{
	registry_remove(c);
	free(c);
}

/* Removes whatever a test left, so that none depends on another. */
static void
teardown(void)
{
	struct client	*c;

	while ((c = TAILQ_FIRST(registry_list())) != NULL)
		drop(c);
	ck_assert_uint_eq(registry_count(), 0);
}

/* Checks that the list holds exactly these ids, in this order. */
static void
assert_order(const uint64_t *ids, size_t n)
{
	struct client	*c;
	size_t		 i = 0;

	TAILQ_FOREACH(c, registry_list(), entry) {
		ck_assert_uint_lt(i, n);
		ck_assert_uint_eq(c->id, ids[i]);
		i++;
	}
	ck_assert_uint_eq(i, n);
	ck_assert_uint_eq(registry_count(), n);
}

START_TEST(test_registry_order)
{
	static const uint64_t	 all[] = { 1, 2, 3, 4, 5 };
	static const uint64_t	 left[] = { 2, 4 };
	static const uint64_t	 more[] = { 2, 4, 6, 7 };
	struct client		*c[6];
	uint64_t		 id;

	assert_order(NULL, 0);
	ck_assert(TAILQ_EMPTY(registry_list()));
	for (id = 1; id <= 5; id++)
		c[id] = add(id, "192.0.2.1:1000");
	assert_order(all, NITEMS(all));

	/* The middle, the head and the tail. */
	drop(c[3]);
	drop(c[1]);
	drop(c[5]);
	assert_order(left, NITEMS(left));
	add(6, "[2001:db8::1]:1000");
	add(7, "192.0.2.2:1000");
	assert_order(more, NITEMS(more));
}
END_TEST

START_TEST(test_registry_count)
{
	struct client	*a, *b;

	ck_assert_uint_eq(registry_count(), 0);
	a = add(1, "192.0.2.1:1");
	ck_assert_uint_eq(registry_count(), 1);
	b = add(2, "192.0.2.1:1");
	add(3, "[::1]:1");
	ck_assert_uint_eq(registry_count(), 3);
	drop(b);
	ck_assert_uint_eq(registry_count(), 2);
	drop(a);
	ck_assert_uint_eq(registry_count(), 1);
}
END_TEST

START_TEST(test_registry_by_id)
{
	struct client	*a, *b, *c, *big;

	a = add(1, "192.0.2.1:1");
	b = add(2, "192.0.2.1:2");
	c = add(3, "192.0.2.1:3");
	big = add(UINT64_MAX, "192.0.2.1:4");
	ck_assert_ptr_eq(registry_by_id(1), a);
	ck_assert_ptr_eq(registry_by_id(2), b);
	ck_assert_ptr_eq(registry_by_id(3), c);
	ck_assert_ptr_eq(registry_by_id(UINT64_MAX), big);
	ck_assert_ptr_null(registry_by_id(0));
	ck_assert_ptr_null(registry_by_id(4));

	drop(b);
	ck_assert_ptr_null(registry_by_id(2));
	ck_assert_ptr_eq(registry_by_id(1), a);
	ck_assert_ptr_eq(registry_by_id(3), c);
}
END_TEST

START_TEST(test_registry_by_name)
{
	char		 longname[HB_NAME_MAX + 2];
	struct client	*a, *b;

	a = add(1, "192.0.2.1:1");
	b = add(2, "192.0.2.1:2");
	ck_assert_str_eq(a->name, "");
	ck_assert_ptr_null(registry_by_name(""));
	ck_assert_ptr_null(registry_by_name("sensor-7"));

	registry_set_name(a, "sensor-7");
	registry_set_name(b, "sensor-8");
	ck_assert_str_eq(a->name, "sensor-7");
	ck_assert_ptr_eq(registry_by_name("sensor-7"), a);
	ck_assert_ptr_eq(registry_by_name("sensor-8"), b);
	ck_assert_ptr_null(registry_by_name("sensor-"));
	ck_assert_ptr_null(registry_by_name("sensor-77"));
	ck_assert_ptr_null(registry_by_name(""));

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_ptr_null(registry_by_name(longname));
	longname[HB_NAME_MAX] = '\0';
	registry_set_name(a, longname);
	ck_assert_ptr_eq(registry_by_name(longname), a);
}
END_TEST

START_TEST(test_registry_rename)
{
	struct client	*a, *b;

	a = add(1, "192.0.2.1:1");
	b = add(2, "192.0.2.1:2");
	registry_set_name(a, "old");
	registry_set_name(a, "new");
	ck_assert_str_eq(a->name, "new");
	ck_assert_ptr_null(registry_by_name("old"));
	ck_assert_ptr_eq(registry_by_name("new"), a);

	/* The old name is free for another client. */
	registry_set_name(b, "old");
	ck_assert_ptr_eq(registry_by_name("old"), b);
	ck_assert_ptr_eq(registry_by_name("new"), a);

	/* Renaming to the name it has changes nothing. */
	registry_set_name(a, "new");
	ck_assert_ptr_eq(registry_by_name("new"), a);
	ck_assert_uint_eq(registry_count(), 2);
}
END_TEST

START_TEST(test_registry_remove_named)
{
	struct client	*a, *b;

	a = add(1, "192.0.2.1:1");
	registry_set_name(a, "sensor-7");
	drop(a);
	ck_assert_ptr_null(registry_by_name("sensor-7"));
	ck_assert_ptr_null(registry_by_id(1));

	/* A reconnecting device gets its name back. */
	b = add(2, "192.0.2.1:2");
	registry_set_name(b, "sensor-7");
	ck_assert_ptr_eq(registry_by_name("sensor-7"), b);

	/* Unnamed clients leave the names of others alone. */
	drop(add(3, "192.0.2.1:3"));
	ck_assert_ptr_eq(registry_by_name("sensor-7"), b);
}
END_TEST

START_TEST(test_registry_by_addr)
{
	struct client	*a, *b, *c, *d;

	a = add(1, "192.0.2.1:5000");
	b = add(2, "192.0.2.1:5001");
	c = add(3, "[2001:db8::1]:5000");
	d = add(4, "[2001:db8::1]:5001");
	ck_assert_ptr_eq(registry_by_addr(check_sa("192.0.2.1:5000")), a);
	ck_assert_ptr_eq(registry_by_addr(check_sa("192.0.2.1:5001")), b);
	ck_assert_ptr_eq(registry_by_addr(check_sa("[2001:db8::1]:5000")), c);
	ck_assert_ptr_eq(registry_by_addr(check_sa("[2001:db8:0::1]:5001")), d);

	/* The port matters, and so does the family. */
	ck_assert_ptr_null(registry_by_addr(check_sa("192.0.2.1:5002")));
	ck_assert_ptr_null(registry_by_addr(check_sa("192.0.2.2:5000")));
	ck_assert_ptr_null(registry_by_addr(check_sa("[2001:db8::1]:5002")));
	ck_assert_ptr_null(registry_by_addr(check_sa("[2001:db8::2]:5000")));
	ck_assert_ptr_null(registry_by_addr(
	    check_sa("[::ffff:192.0.2.1]:5000")));

	drop(a);
	ck_assert_ptr_null(registry_by_addr(check_sa("192.0.2.1:5000")));
	ck_assert_ptr_eq(registry_by_addr(check_sa("192.0.2.1:5001")), b);
}
END_TEST

START_TEST(test_registry_host_count)
{
	struct client	*a, *b, *c;

	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.1:1")), 0);
	a = add(1, "192.0.2.1:5000");
	b = add(2, "192.0.2.1:5001");
	add(3, "192.0.2.2:5000");
	c = add(4, "[2001:db8::1]:5000");
	add(5, "[2001:db8::1]:5001");
	add(6, "[2001:db8::1]:5000");

	/* Per host: the port is ignored, also the one asked with. */
	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.1:5000")), 2);
	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.1:9")), 2);
	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.2:0")), 1);
	ck_assert_uint_eq(registry_host_count(check_sa("[2001:db8::1]:7")), 3);
	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.3:5000")), 0);
	ck_assert_uint_eq(registry_host_count(check_sa("[2001:db8::2]:5000")),
	    0);
	ck_assert_uint_eq(registry_host_count(
	    check_sa("[::ffff:192.0.2.1]:5000")), 0);

	drop(a);
	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.1:5000")), 1);
	drop(b);
	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.1:5000")), 0);
	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.2:5000")), 1);
	drop(c);
	ck_assert_uint_eq(registry_host_count(check_sa("[2001:db8::1]:5000")),
	    2);

	/* A host that dropped to 0 counts again from 1. */
	add(7, "192.0.2.1:6000");
	ck_assert_uint_eq(registry_host_count(check_sa("192.0.2.1:5000")), 1);
}
END_TEST

/* Adds a TCase whose tests start from an empty registry. */
static TCase *
tcase_new(Suite *s, const char *name)
{
	TCase	*tc;

	tc = tcase_create(name);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);
	return (tc);
}

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("registry");

	tc = tcase_new(s, "order");
	tcase_add_test(tc, test_registry_order);
	tcase_add_test(tc, test_registry_count);

	tc = tcase_new(s, "by_id");
	tcase_add_test(tc, test_registry_by_id);

	tc = tcase_new(s, "by_name");
	tcase_add_test(tc, test_registry_by_name);
	tcase_add_test(tc, test_registry_rename);
	tcase_add_test(tc, test_registry_remove_named);

	tc = tcase_new(s, "by_addr");
	tcase_add_test(tc, test_registry_by_addr);

	tc = tcase_new(s, "host_count");
	tcase_add_test(tc, test_registry_host_count);

	return (s);
}
