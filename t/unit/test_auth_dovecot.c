/*
 * test_auth_dovecot: the client side of Dovecot's authentication
 * protocol, against the lines a real Dovecot 2.3 sends (taken from one
 * run with the configuration t/integration/dovecot.py writes): the
 * handshake, OK with the user, FAIL, FAIL with temp; and what must end
 * the conversation: no VERSION first, a version 2, an answer for
 * another request, a NUL or CR, a bad escape, an over-long line.
 */
#include <string.h>

#include "auth.h"
#include "tap.h"

#define HANDSHAKE                                                              \
	"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"      \
	"SPID\t15426\nCUID\t1\nCOOKIE\t1ca0de875b19f7c72a00b7a24a70c3e8\n"     \
	"DONE\n"

static struct dovecot_client d;
static const char *why;

/* Feed text; the result of the last call. */
static int
feed(const char *text)
{
	struct buf in = BUF_INIT;
	int r;

	buf_append(&in, text, strlen(text));
	why = NULL;
	r = dovecot_client_feed(&d, &in, &why);
	buf_free(&in);
	return r;
}

static int
answer(const char *text)
{
	dovecot_client_init(&d, 1);
	if (feed(HANDSHAKE) != 1)
		return -2;
	return feed(text);
}

int
main(void)
{
	struct buf in = BUF_INIT;
	char big[DOVECOT_LINE_MAX + 16];

	dovecot_client_init(&d, 1);
	is_int(feed(HANDSHAKE), 1, "a real handshake ends in READY");
	ok(d.plain && d.state == DOVECOT_READY, "PLAIN is offered");
	dovecot_client_init(&d, 1);
	buf_append_str(&in, "VERSION\t1\t2\nMECH\tPL");
	is_int(dovecot_client_feed(&d, &in, &why), 0, "half a line waits");
	is_str(buf_cstr(&in), "MECH\tPL", "and stays in the buffer");
	buf_append_str(&in, "AIN\nDONE\nOK\t1\n");
	is_int(dovecot_client_feed(&d, &in, &why), 1,
	       "the rest completes the handshake");
	is_str(buf_cstr(&in), "OK\t1\n", "the answer waits for its turn");
	buf_free(&in);

	is_int(answer("OK\t1\tuser=alice\n"), 1, "OK answers");
	ok(d.verdict == AUTH_OK && strcmp(d.user, "alice") == 0,
	   "OK with the user");
	is_int(answer("FAIL\t1\tuser=alice\n"), 1, "FAIL answers");
	ok(d.verdict == AUTH_FAIL, "FAIL is a wrong password");
	answer("FAIL\t1\tuser=al\001tice\ttemp\n");
	ok(d.verdict == AUTH_TEMP, "FAIL with temp is try later");
	is_str(d.user, "al\tice", "escapes are undone");
	answer("CONT\t1\t\n");
	ok(d.verdict == AUTH_FAIL, "CONT (PLAIN needs none) is a refusal");
	is_int(answer("NOTICE\t1\tsomething\nOK\t1\n"), 1,
	       "other words are skipped");
	ok(d.verdict == AUTH_OK, "and the answer after them counts");

	is_int(answer("OK\t2\tuser=alice\n"), -1,
	       "an answer for another request ends it");
	is_int(answer("OK\t1\tuser=a\001x\n"), -1, "a bad escape ends it");
	is_int(answer("OK\t1\tuser=a\rb\n"), -1, "a CR ends it");
	dovecot_client_init(&d, 1);
	is_int(feed("MECH\tPLAIN\n"), -1, "no VERSION first");
	dovecot_client_init(&d, 1);
	is_int(feed("VERSION\t2\t0\n"), -1, "version 2 is not ours");
	dovecot_client_init(&d, 1);
	is_int(feed("VERSION\t1\t2\nVERSION\t1\t2\n"), -1, "a second VERSION");
	dovecot_client_init(&d, 1);
	is_int(feed("VERSION\t1\t2\nSPID\tx\n"), -1, "a bad SPID");
	memset(big, 'A', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	dovecot_client_init(&d, 1);
	is_int(feed(big), -1, "a line over DOVECOT_LINE_MAX");
	return done_testing();
}
