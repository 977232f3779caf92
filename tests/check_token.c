/*
 * Unit tests for src/token.c: known answers from the openssl CLI, what
 * token_verify() refuses and why, and the [auth] secret's parsing and
 * loading.
 */

#include <check.h>

#include "check_main.h"
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "token.h"

#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static void	 seq_secret(size_t, struct hb_secret *);
static void	 hex_digits(char *, size_t);
static void	 verify_fails(const struct hb_secret *, const char *,
		    const char *, size_t, uint64_t, const char *);
static const char *write_secret(const char *, size_t);
static void	 load_fails(const char *, const char *);

static char	 tmppath[PATH_MAX];

/*
 * Known answers. KEYn stands for the hex of the bytes 0 to n-1, set in the
 * shell by KEYn=$(printf '%02x' $(seq 0 n-1)), e.g.
 * KEY32=$(printf '%02x' $(seq 0 31)); each MAC is what the command
 * above it printed (OpenSSL 3.0.22).
 */
/*
 * printf 'v1.sensor-7.0' |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY32
 */
#define MAC_K32_NOEXPIRY \
	"63e276ad4b481d624eae8b9a2f71a1348e3f7e6574ed29739c9a96eb9f1cae39"
static const struct {
	size_t		 keylen;	/* bytes 0 to keylen-1 */
	const char	*name;
	uint64_t	 expiry;
	const char	*token;
} known[] = {
	{ 32, "sensor-7", 0, "v1.0." MAC_K32_NOEXPIRY },
	/*
	 * printf 'v1.sensor-7.1700000000' |
	 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY32
	 */
	{ 32, "sensor-7", 1700000000, "v1.1700000000."
	    "81f46ddcbced26d3321bdcf235ba432fd8399bad026bc07a76678a5f45c66f36"
	},
	/*
	 * printf 'v1.a.b_c:d@e-f.4102444800' |
	 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY32
	 */
	{ 32, "a.b_c:d@e-f", 4102444800ULL, "v1.4102444800."
	    "96b6e04acc30fe06a86afd426d9659fb087397559b407350d374d51526ff00fe"
	},
	/*
	 * printf 'v1.sensor-7.0' |
	 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY64
	 */
	{ 64, "sensor-7", 0, "v1.0."
	    "4b02823c0bcc294f5aa8db9de6e0305cc0ac06ba2734788902aaf372743c0c54"
	},
	/*
	 * printf 'v1.sensor-7.18446744073709551615' |
	 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY100
	 */
	{ 100, "sensor-7", UINT64_MAX, "v1.18446744073709551615."
	    "b975b2d5c4dc213c9e56aee590e54e73642261841bf1a3e8990faae72e0e5397"
	},
	/*
	 * printf 'v1.x.1' |
	 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY128
	 */
	{ 128, "x", 1, "v1.1."
	    "2d86a54c82021f82dd4aadfe433db6816362c56bf7fd63394199d44df7430ad7"
	},
};

/* Not a token's shape; where the MAC is whole, it is the first answer's. */
static const char *const malformed[] = {
	"",
	"v",
	"v1",
	"v1.",
	"v1.0",
	"v1.0.",
	"v2.0." MAC_K32_NOEXPIRY,
	"V1.0." MAC_K32_NOEXPIRY,
	"1.0." MAC_K32_NOEXPIRY,
	".v1.0." MAC_K32_NOEXPIRY,
	" v1.0." MAC_K32_NOEXPIRY,
	"v1.." MAC_K32_NOEXPIRY,
	"v1.00." MAC_K32_NOEXPIRY,
	"v1.01." MAC_K32_NOEXPIRY,
	"v1.+1." MAC_K32_NOEXPIRY,
	"v1.-1." MAC_K32_NOEXPIRY,
	"v1. 1." MAC_K32_NOEXPIRY,
	"v1.1 ." MAC_K32_NOEXPIRY,
	"v1.0x1." MAC_K32_NOEXPIRY,
	"v1.1a." MAC_K32_NOEXPIRY,
	"v1.1e9." MAC_K32_NOEXPIRY,
	"v1.18446744073709551616." MAC_K32_NOEXPIRY,
	"v1.99999999999999999999." MAC_K32_NOEXPIRY,
	"v1.184467440737095516150." MAC_K32_NOEXPIRY,
	"v1.sensor-7.0." MAC_K32_NOEXPIRY,
	"v1.0.0." MAC_K32_NOEXPIRY,
	"v1.0." MAC_K32_NOEXPIRY ".",
	"v1.0." MAC_K32_NOEXPIRY ".0",
	"v1.0." MAC_K32_NOEXPIRY "0",
	"v1.0." MAC_K32_NOEXPIRY " ",
	"v1.0." MAC_K32_NOEXPIRY "\n",
	"v1.0." MAC_K32_NOEXPIRY "\r\n",
	"v1.0 ." MAC_K32_NOEXPIRY,
	"v1.0.." MAC_K32_NOEXPIRY,
	"v1.0.\t" MAC_K32_NOEXPIRY,
	"v1.0.63e276ad4b481d624eae8b9a2f71a1348e3f7e6574ed29739c9a96eb9f1cae3",
	"v1.0.3e276ad4b481d624eae8b9a2f71a1348e3f7e6574ed29739c9a96eb9f1cae39",
	"v1.0.63e276ad4b481d624eae8b9a2f71a1348e3f7e6574ed29739c9a96eb9f1cae3g",
	"v1.0.63e276ad4b481d624eae8b9a2f71a1348e3f7e6574ed29739c9a96eb9f1cae3.",
	"v1.0.63E276AD4B481D624EAE8B9A2F71A1348E3F7E6574ED29739C9A96EB9F1CAE39",
	"v1.0.63e276ad4b481d624eae8b9a2f71a1348e3f7e6574ed29739c9a96eb9f1caE39",
	"v1.0.0x63e276ad4b481d624eae8b9a2f71a1348e3f7e6574ed29739c9a96eb9f1cae",
	"v1.18446744073709551615.0." MAC_K32_NOEXPIRY,
};

/* Makes s the secret of the bytes 0 to n-1, through its hex. */
static void
seq_secret(size_t n, struct hb_secret *s)
{
	char		 hex[2 * TOKEN_SECRET_MAX + 1];
	const char	*why = NULL;
	size_t		 i;

	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned int)i);
	hex[2 * n] = '\0';
	ck_assert_msg(token_secret_parse(hex, s, &why) == 0, "%s", why);
	ck_assert_uint_eq(s->len, n);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(s->key[i], i);
}

/* Fills buf with n hex digits, lower-case, and a NUL. */
static void
hex_digits(char *buf, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		buf[i] = "0123456789abcdef"[i % 16];
	buf[n] = '\0';
}

/* Asserts that verify refuses tok (len bytes) for name with why. */
static void
verify_fails(const struct hb_secret *s, const char *name, const char *tok,
    size_t len, uint64_t now, const char *why)
{
	const char	*got = NULL;

	ck_assert_msg(token_verify(s, name, tok, len, now, &got) == -1,
	    "accepted \"%.*s\"", (int)len, tok);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, why) == 0, "\"%.*s\": %s, not %s",
	    (int)len, tok, got, why);
}

START_TEST(test_token_known)
{
	struct hb_secret	 s;
	char			 buf[TOKEN_MAX];
	const char		*why = NULL;

	seq_secret(known[_i].keylen, &s);
	memset(buf, 'X', sizeof(buf));
	token_mint(&s, known[_i].name, known[_i].expiry, buf);
	ck_assert_str_eq(buf, known[_i].token);
	ck_assert_int_eq(token_verify(&s, known[_i].name, known[_i].token,
	    strlen(known[_i].token), 0, &why), 0);
}
END_TEST

START_TEST(test_token_round_trip)
{
	struct hb_secret	 s;
	char			 buf[TOKEN_MAX + 8];
	const char		*why = NULL;
	size_t			 len;

	seq_secret(32, &s);
	token_mint(&s, "sensor-7", UINT64_MAX, buf);
	ck_assert_uint_eq(strlen(buf), TOKEN_MAX - 1);
	ck_assert_int_eq(token_verify(&s, "sensor-7", buf, TOKEN_MAX - 1,
	    UINT64_MAX - 1, &why), 0);

	/* tok is a length, not a string: what follows it is not read. */
	token_mint(&s, "sensor-7", 5, buf);
	len = strlen(buf);
	memcpy(buf + len, ".junk", 6);
	ck_assert_int_eq(token_verify(&s, "sensor-7", buf, len, 4, &why), 0);
	verify_fails(&s, "sensor-7", buf, len + 5, 4, "malformed");
	verify_fails(&s, "sensor-7", buf, len - 1, 4, "malformed");
	buf[len] = '\0';
	verify_fails(&s, "sensor-7", buf, len + 1, 4, "malformed");
}
END_TEST


START_TEST(test_token_expiry)
{
	struct hb_secret	 s;
	char			 buf[TOKEN_MAX];
	const char		*why = NULL;
	size_t			 len;

	seq_secret(32, &s);
	token_mint(&s, "sensor-7", 1000, buf);
	len = strlen(buf);
	ck_assert_int_eq(token_verify(&s, "sensor-7", buf, len, 0, &why), 0);
	ck_assert_int_eq(token_verify(&s, "sensor-7", buf, len, 999, &why), 0);
	verify_fails(&s, "sensor-7", buf, len, 1000, "expired");
	verify_fails(&s, "sensor-7", buf, len, 1001, "expired");
	verify_fails(&s, "sensor-7", buf, len, UINT64_MAX, "expired");

	/* The MAC is judged first: a forged expired token is a bad MAC. */
	buf[len - 1] = buf[len - 1] == '0' ? '1' : '0';
	verify_fails(&s, "sensor-7", buf, len, 1000, "bad mac");

	token_mint(&s, "sensor-7", 0, buf);
	ck_assert_int_eq(token_verify(&s, "sensor-7", buf, strlen(buf),
	    UINT64_MAX, &why), 0);
}
END_TEST

START_TEST(test_token_other_name)
{
	static const char *const names[] = {
		"sensor-8", "sensor-7x", "sensor-", "Sensor-7", "sensor-7.0",
		"", "a",
	};
	struct hb_secret	 s;
	int			 i;

	seq_secret(32, &s);
	for (i = 0; i < NITEMS(names); i++)
		verify_fails(&s, names[i], known[0].token,
		    strlen(known[0].token), 0, "bad mac");
}
END_TEST

/*
 * Each digit of the MAC made another digit and a letter, or a letter made
 * another letter and a digit; a letter in upper case is not hex at all.
 */
START_TEST(test_token_flipped)
{
	struct hb_secret	 s;
	char			 buf[TOKEN_MAX];
	size_t			 len, at;
	char			 c;

	seq_secret(32, &s);
	len = strlen(known[0].token);
	at = len - 64 + _i;
	memcpy(buf, known[0].token, len + 1);
	c = buf[at];
	if (isdigit((unsigned char)c)) {
		buf[at] = '0' + (c - '0' + 1) % 10;
		verify_fails(&s, "sensor-7", buf, len, 0, "bad mac");
		buf[at] = 'a';
		verify_fails(&s, "sensor-7", buf, len, 0, "bad mac");
	} else {
		buf[at] = 'a' + (c - 'a' + 1) % 6;
		verify_fails(&s, "sensor-7", buf, len, 0, "bad mac");
		buf[at] = '0';
		verify_fails(&s, "sensor-7", buf, len, 0, "bad mac");
		buf[at] = toupper((unsigned char)c);
		verify_fails(&s, "sensor-7", buf, len, 0, "malformed");
	}
}
END_TEST

/* The expiry is under the MAC: another one, even a later one, is refused. */
START_TEST(test_token_other_expiry)
{
	struct hb_secret	 s;
	char			 buf[TOKEN_MAX];

	seq_secret(32, &s);
	snprintf(buf, sizeof(buf), "%s", known[1].token);
	buf[strlen("v1.170000000")] = '1';
	verify_fails(&s, "sensor-7", buf, strlen(buf), 0, "bad mac");
	snprintf(buf, sizeof(buf), "v1.1.%s", MAC_K32_NOEXPIRY);
	verify_fails(&s, "sensor-7", buf, strlen(buf), 0, "bad mac");
}
END_TEST

START_TEST(test_token_malformed)
{
	struct hb_secret	 s;

	seq_secret(32, &s);
	verify_fails(&s, "sensor-7", malformed[_i], strlen(malformed[_i]), 0,
	    "malformed");
}
END_TEST

START_TEST(test_token_other_secret)
{
	struct hb_secret	 s;
	const char		*tok = known[0].token;

	seq_secret(64, &s);
	verify_fails(&s, "sensor-7", tok, strlen(tok), 0, "bad mac");
	seq_secret(32, &s);
	s.key[31] ^= 0x01;
	verify_fails(&s, "sensor-7", tok, strlen(tok), 0, "bad mac");
	s.key[31] ^= 0x01;
	s.key[0] ^= 0x80;
	verify_fails(&s, "sensor-7", tok, strlen(tok), 0, "bad mac");

	/* Without a secret no token is valid, whatever it says. */
	token_secret_clear(&s);
	verify_fails(&s, "sensor-7", tok, strlen(tok), 0, "bad mac");
	verify_fails(&s, "sensor-7", "v1.0", 4, 0, "malformed");
}
END_TEST

START_TEST(test_token_secret_parse)
{
	struct hb_secret	 s, lower;
	char			 hex[2 * TOKEN_SECRET_MAX + 8];
	const char		*why;
	size_t			 i;

	seq_secret(32, &s);
	hex_digits(hex, 64);
	ck_assert_int_eq(token_secret_parse(hex, &lower, &why), 0);
	ck_assert_uint_eq(lower.len, 32);
	for (i = 0; i < 64; i++)
		hex[i] = toupper((unsigned char)hex[i]);
	ck_assert_int_eq(token_secret_parse(hex, &s, &why), 0);
	ck_assert_uint_eq(s.len, 32);
	ck_assert_mem_eq(s.key, lower.key, 32);
	ck_assert_uint_eq(s.key[0], 0x01);
	ck_assert_uint_eq(s.key[31], 0xef);

	hex_digits(hex, 2 * TOKEN_SECRET_MAX);
	ck_assert_int_eq(token_secret_parse(hex, &s, &why), 0);
	ck_assert_uint_eq(s.len, TOKEN_SECRET_MAX);
}
END_TEST

/* Each refused secret names why and leaves the secret as it was. */
START_TEST(test_token_secret_bad)
{
	static const struct {
		size_t		 digits;
		int		 at;		/* -1, or where to put c */
		char		 c;
		const char	*why;
	} bad[] = {
		{ 0, -1, 0, "too short (64 hex digits at least)" },
		{ 2, -1, 0, "too short (64 hex digits at least)" },
		{ 62, -1, 0, "too short (64 hex digits at least)" },
		{ 63, -1, 0, "odd number of hex digits" },
		{ 65, -1, 0, "odd number of hex digits" },
		{ 1, -1, 0, "odd number of hex digits" },
		{ 2 * TOKEN_SECRET_MAX + 1, -1, 0, "odd number of hex digits" },
		{ 2 * TOKEN_SECRET_MAX + 2, -1, 0, "too long" },
		{ 64, 0, 'g', "not hex" },
		{ 64, 63, 'G', "not hex" },
		{ 64, 1, 'x', "not hex" },
		{ 64, 32, ' ', "not hex" },
		{ 64, 63, '\n', "not hex" },
		{ 64, 0, '-', "not hex" },
		{ 63, 62, 'z', "not hex" },
	};
	struct hb_secret	 s;
	char			 hex[2 * TOKEN_SECRET_MAX + 8];
	const char		*why;
	int			 i;

	for (i = 0; i < NITEMS(bad); i++) {
		seq_secret(32, &s);
		hex_digits(hex, bad[i].digits);
		if (bad[i].at != -1)
			hex[bad[i].at] = bad[i].c;
		why = NULL;
		ck_assert_int_eq(token_secret_parse(hex, &s, &why), -1);
		ck_assert_msg(why != NULL && strcmp(why, bad[i].why) == 0,
		    "%d: %s, not %s", i, why, bad[i].why);
		ck_assert_uint_eq(s.len, 32);
		ck_assert_uint_eq(s.key[31], 31);
	}
}
END_TEST

/* Writes len bytes to a new temp file; returns its path (tmppath). */
static const char *
write_secret(const char *text, size_t len)
{
	const char	*dir;
	int		 fd;

	if ((dir = getenv("TMPDIR")) == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(tmppath, sizeof(tmppath), "%s/check_token.XXXXXX", dir);
	ck_assert_int_ne(fd = mkstemp(tmppath), -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return (tmppath);
}

/* Asserts that loading path fails with "<path>: <why>". */
static void
load_fails(const char *path, const char *why)
{
	struct hb_secret	 s;
	char			 want[PATH_MAX + 64];
	char			*cause = NULL;

	seq_secret(32, &s);
	ck_assert_int_eq(token_secret_load(path, &s, &cause), -1);
	snprintf(want, sizeof(want), "%s: %s", path, why);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, want);
	ck_assert_uint_eq(s.len, 32);
	free(cause);
}

/* A key file's first line, its line end and surrounding blanks dropped. */
START_TEST(test_token_secret_load)
{
	static const char *const files[] = {
		"@\n", "@\r\n", "@", "@\nsecond line\n", " \t@ \t\r\n",
		"@\n\n", "@\r",
	};
	struct hb_secret	 s, want;
	char			 text[256], hex[65];
	char			*cause = NULL;
	const char		*path, *at, *why;
	int			 i;

	hex_digits(hex, 64);
	ck_assert_int_eq(token_secret_parse(hex, &want, &why), 0);
	for (i = 0; i < NITEMS(files); i++) {
		at = strchr(files[i], '@');
		snprintf(text, sizeof(text), "%.*s%s%s",
		    (int)(at - files[i]), files[i], hex, at + 1);
		path = write_secret(text, strlen(text));
		memset(&s, 0, sizeof(s));
		ck_assert_msg(token_secret_load(path, &s, &cause) == 0,
		    "%d: %s", i, cause);
		unlink(path);
		ck_assert_uint_eq(s.len, 32);
		ck_assert_mem_eq(s.key, want.key, 32);
	}
}
END_TEST

START_TEST(test_token_secret_load_bad)
{
	static const struct {
		const char	*text;
		size_t		 len;
		const char	*why;
	} bad[] = {
		{ "", 0, "empty" },
		{ "\n", 1, "empty" },
		{ "\r\n", 2, "empty" },
		{ " \t \n", 4, "empty" },
		{ "\n0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef\n", 66, "empty" },
		{ "0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcde\n", 64,
		    "odd number of hex digits" },
		{ "0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcd\n", 63,
		    "too short (64 hex digits at least)" },
		{ "0123456789abcdef0123456789abcdef"
		    "0123456789abcdef 0123456789abcdef\n", 66, "not hex" },
		{ "0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef\0\n", 66, "not hex" },
		{ "0123456789abcdef0123456789abcdef\0"
		    "0123456789abcdef0123456789abcdef\n", 66, "not hex" },
		{ "secret = 0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef\n", 74, "not hex" },
	};
	const char	*path;
	char		 missing[PATH_MAX];
	int		 i;

	for (i = 0; i < NITEMS(bad); i++) {
		path = write_secret(bad[i].text, bad[i].len);
		load_fails(path, bad[i].why);
		unlink(path);
	}

	path = write_secret("", 0);
	snprintf(missing, sizeof(missing), "%s", path);
	unlink(path);
	load_fails(missing, "No such file or directory");
	load_fails("/", "Is a directory");
}
END_TEST

START_TEST(test_token_secret_clear)
{
	struct hb_secret	 s;
	static const unsigned char zero[TOKEN_SECRET_MAX];

	seq_secret(TOKEN_SECRET_MAX, &s);
	token_secret_clear(&s);
	ck_assert_uint_eq(s.len, 0);
	ck_assert_mem_eq(s.key, zero, sizeof(zero));
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("token");

	tc = tcase_create("known");
	tcase_add_loop_test(tc, test_token_known, 0, NITEMS(known));
	tcase_add_test(tc, test_token_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("expiry");
	tcase_add_test(tc, test_token_expiry);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_mac");
	tcase_add_test(tc, test_token_other_name);
	tcase_add_loop_test(tc, test_token_flipped, 0, 64);
	tcase_add_test(tc, test_token_other_expiry);
	tcase_add_test(tc, test_token_other_secret);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_token_malformed, 0, NITEMS(malformed));
	suite_add_tcase(s, tc);

	tc = tcase_create("secret");
	tcase_add_test(tc, test_token_secret_parse);
	tcase_add_test(tc, test_token_secret_bad);
	tcase_add_test(tc, test_token_secret_load);
	tcase_add_test(tc, test_token_secret_load_bad);
	tcase_add_test(tc, test_token_secret_clear);
	suite_add_tcase(s, tc);

	return (s);
}
