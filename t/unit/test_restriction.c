/*
 * test_restriction: the restriction list parser (Postfix's words, tables
 * with their types, DNS lists with filters, the errors that name the
 * word), access(5) actions and key order, and CIDR tables (cidr_table(5)
 * syntax, IPv4 and IPv6, first match, FILE:LINE errors).
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "cidr_table.h"
#include "restriction.h"
#include "tap.h"

static struct restriction items[RESTRICTIONS_MAX];

static int
parse(const char *const *w, size_t n, size_t *count, struct buf *err)
{
	buf_reset(err);
	return restriction_list_parse(w, n, items, RESTRICTIONS_MAX, count,
				      err);
}

/* DNS lists: a dnsbl.h site without a weight, its filter parsed. */
static void
dns_lists(struct buf *err)
{
	static const char *const good[] = {"reject_rhsbl_sender",
					   "DBL.Example.", "reject_rbl_client",
					   "zen.example=127.0.0.[2;4..5]"};
	static const char *const weight[] = {"reject_rbl_client",
					     "zen.example*2"};
	static const char *const bad_filter[] = {"reject_rbl_client",
						 "zen.example=127.0.0"};
	static const char *const no_dot[] = {"reject_rbl_client", "zen"};
	static const char *const two_dots[] = {"reject_rbl_client",
					       "zen.example.."};
	static const char *const missing[] = {"reject_rhsbl_sender"};
	static const unsigned char a2[] = {127, 0, 0, 2}, a3[] = {127, 0, 0, 3},
				   a5[] = {127, 0, 0, 5};
	size_t n;

	is_int(parse(good, 4, &n, err), 0, "DNS lists parse");
	is_str(items[0].arg, "dbl.example",
	       "a list's domain: lower case, without its trailing dot");
	ok(!items[0].dnsbl.filtered, "no filter: any A record counts");
	is_str(items[1].filter, "127.0.0.[2;4..5]",
	       "the filter's text is kept");
	ok(dnsbl_site_match(&items[1].dnsbl, a2) &&
	       !dnsbl_site_match(&items[1].dnsbl, a3) &&
	       dnsbl_site_match(&items[1].dnsbl, a5),
	   "and parsed: 127.0.0.2 and .5 pass, .3 does not");
	is_int(parse(weight, 2, &n, err), -1, "a weight is the screen's only");
	ok(strstr(buf_cstr(err), "\"zen.example*2\"") != NULL &&
	       strstr(buf_cstr(err), "no place") != NULL,
	   "and is named: %s", buf_cstr(err));
	is_int(parse(bad_filter, 2, &n, err), -1, "a short filter is refused");
	ok(strstr(buf_cstr(err), "bad filter") != NULL, "with the reason: %s",
	   buf_cstr(err));
	is_int(parse(no_dot, 2, &n, err), -1, "a list domain without a dot");
	is_int(parse(two_dots, 2, &n, err), -1,
	       "one trailing dot only (the name is kept without it)");
	is_int(parse(missing, 1, &n, err), -1, "a missing list");
	is_str(buf_cstr(err), "reject_rhsbl_sender needs a DNS list domain",
	       "is named");
}

static void
lists(void)
{
	static const char *const good[] = {"permit_mynetworks",
					   "check_client_access",
					   "cidr:/etc/m/c.cidr",
					   "CHECK_SENDER_ACCESS",
					   "hash:/etc/m/senders",
					   "check_helo_access",
					   "/etc/m/helo",
					   "reject_rbl_client",
					   "zen.example=127.0.0.[2..11]",
					   "reject_unauth_destination"};
	static const char *const unknown[] = {"permit", "reject_everything"};
	static const char *const no_table[] = {"check_recipient_access"};
	static const char *const bad_type[] = {"check_client_access",
					       "pcre:/etc/x"};
	static const char *const relative[] = {"check_client_access",
					       "lmdb:access"};
	static const char *const bad_list[] = {"reject_rbl_client", "a b"};
	struct buf err = BUF_INIT;
	size_t n;

	is_int(parse(good, 10, &n, &err), 0, "a list parses");
	is_int(n, 6, "six restrictions");
	ok(items[1].kind == RESTRICT_CHECK_CLIENT_ACCESS &&
	       items[1].table == TABLE_CIDR &&
	       strcmp(items[1].arg, "/etc/m/c.cidr") == 0,
	   "cidr:/path");
	ok(items[2].table == TABLE_LMDB &&
	       strcmp(items[2].arg, "/etc/m/senders") == 0,
	   "hash:/path is a map moat map build made; names in any case");
	ok(items[3].table == TABLE_LMDB, "a bare path too");
	ok(strcmp(items[4].arg, "zen.example") == 0 &&
	       strcmp(items[4].filter, "127.0.0.[2..11]") == 0,
	   "a DNS list and its filter");
	is_int(parse(unknown, 2, &n, &err), -1, "an unknown word");
	is_str(buf_cstr(&err), "unknown restriction reject_everything",
	       "is named");
	is_int(parse(no_table, 1, &n, &err), -1, "a missing table");
	is_str(buf_cstr(&err), "check_recipient_access needs a table",
	       "is named");
	is_int(parse(bad_type, 2, &n, &err), -1, "pcre: is refused");
	is_int(parse(relative, 2, &n, &err), -1, "a relative path too");
	is_int(parse(bad_list, 2, &n, &err), -1, "a DNS list with a blank");
	dns_lists(&err);
	buf_free(&err);
}

static const char *
action(const char *v, struct access_action *a)
{
	static const char *names[] = {"DUNNO", "OK", "REJECT", "DEFER", "BAD"};
	return names[access_action_parse(v, strlen(v), a)];
}

static void
actions(void)
{
	struct access_action a;

	is_str(action("OK", &a), "OK", "OK");
	is_str(action("permit", &a), "OK", "PERMIT, any case");
	is_str(action("12345", &a), "OK", "a number alone is OK");
	is_str(action(" DUNNO ", &a), "DUNNO", "DUNNO");
	is_str(action("REJECT", &a), "REJECT", "REJECT");
	ok(a.code == 0 && a.text[0] == '\0', "without text or code");
	is_str(action("REJECT  go away  ", &a), "REJECT", "REJECT text");
	is_str(a.text, "go away", "the text, trimmed");
	is_str(action("DEFER later", &a), "DEFER", "DEFER text");
	is_str(action("550 5.7.0 no thanks", &a), "REJECT", "a 5xx code");
	ok(a.code == 550 && strcmp(a.dsn, "5.7.0") == 0 &&
	       strcmp(a.text, "no thanks") == 0,
	   "its code, enhanced code and text");
	is_str(action("450 4.7.1", &a), "DEFER", "a 4xx code");
	is_str(action("550 4.7.0 mixed", &a), "REJECT", "a dsn of another");
	ok(a.dsn[0] == '\0' && strcmp(a.text, "4.7.0 mixed") == 0,
	   "class stays in the text");
	is_str(action("HOLD", &a), "BAD", "an action Moat lacks");
	is_str(action("", &a), "BAD", "an empty value");
	is_str(action("REJECT a\001b", &a), "REJECT", "a control byte");
	is_str(a.text, "a?b", "is made safe");
}

static void
keys(void)
{
	struct access_keys *k = calloc(1, sizeof(*k));

	access_keys_address("User@mail.example.com", k);
	ok(k->n == 5 && strcmp(k->key[0], "User@mail.example.com") == 0 &&
	       strcmp(k->key[1], "mail.example.com") == 0 &&
	       strcmp(k->key[2], "example.com") == 0 &&
	       strcmp(k->key[3], "com") == 0 && strcmp(k->key[4], "User@") == 0,
	   "address: whole, domain, parents, localpart@");
	k->n = 0;
	access_keys_address("", k);
	ok(k->n == 1 && strcmp(k->key[0], "<>") == 0, "the null sender: <>");
	k->n = 0;
	access_keys_domain("[192.0.2.1]", k);
	is_int(k->n, 1, "an address literal has no parents");
	k->n = 0;
	access_keys_client_addr("192.0.2.7", k);
	ok(k->n == 4 && strcmp(k->key[0], "192.0.2.7") == 0 &&
	       strcmp(k->key[3], "192") == 0,
	   "IPv4: the address, then 192.0.2, 192.0, 192");
	k->n = 0;
	access_keys_client_addr("::ffff:192.0.2.7", k);
	ok(k->n == 4 && strcmp(k->key[0], "192.0.2.7") == 0,
	   "a mapped IPv4 address is looked up as IPv4");
	k->n = 0;
	access_keys_client_addr("2001:db8::1", k);
	ok(k->n == 9 && strcmp(k->key[0], "2001:db8::1") == 0 &&
	       strcmp(k->key[1], "2001:db8:0:0:0:0:0:1") == 0 &&
	       strcmp(k->key[2], "2001:db8:0:0:0:0:0") == 0 &&
	       strcmp(k->key[8], "2001") == 0,
	   "IPv6: compressed, then 8 groups down to 1");
	k->n = 0;
	access_keys_client_addr("unknown", k);
	is_int(k->n, 0, "no address: no keys");
	free(k);
}

static void
cidr(void)
{
	static const char text[] = "# comment\n"
				   "192.0.2.0/24 REJECT test net\n"
				   "\n"
				   "192.0.2.7 OK\n"
				   "[2001:db8::]/32 550 5.7.0 go\n"
				   "\t  away\n"
				   "0.0.0.0/0 DUNNO\n";
	struct cidr_table t = {0};
	struct buf err = BUF_INIT;

	is_int(cidr_table_parse(text, strlen(text), "c.cidr", &t, &err), 0,
	       "a CIDR table parses");
	is_int(t.n, 4, "four entries");
	is_str(cidr_table_lookup(&t, "192.0.2.7"), "REJECT test net",
	       "the first match wins, in file order");
	is_str(cidr_table_lookup(&t, "2001:db8:1::5"), "550 5.7.0 go away",
	       "IPv6, with a continuation line");
	is_str(cidr_table_lookup(&t, "::ffff:192.0.2.9"), "REJECT test net",
	       "a mapped IPv4 client matches IPv4");
	is_str(cidr_table_lookup(&t, "198.51.100.1"), "DUNNO", "0.0.0.0/0");
	ok(cidr_table_lookup(&t, "2001:db9::1") == NULL, "no match: NULL");
	cidr_table_free(&t);
#define BAD(s, msg, name)                                                      \
	do {                                                                   \
		buf_reset(&err);                                               \
		ok(cidr_table_parse(s, strlen(s), "c.cidr", &t, &err) == -1 && \
		       strcmp(buf_cstr(&err), msg) == 0,                       \
		   "%s: %s", name, buf_cstr(&err));                            \
		cidr_table_free(&t);                                           \
	} while (0)
	BAD("1.2.3.0/24 OK\n1.2.3.4/24 OK\n",
	    "c.cidr:2: \"1.2.3.4/24\" has bits set beyond its prefix",
	    "host bits");
	BAD("1.2.3.0/33 OK\n",
	    "c.cidr:1: \"1.2.3.0/33\" is not a network/prefix",
	    "a prefix too long");
	BAD("1.2.3.0/24\n", "c.cidr:1: no action after the network",
	    "no action");
	BAD("  OK\n",
	    "c.cidr:1: a continuation line without an entry before it",
	    "a continuation first");
	BAD("if 1.2.3.0/24\n", "c.cidr:1: if/endif blocks are not supported",
	    "if/endif");
	buf_reset(&err);
	ok(cidr_table_parse("1.2.3.4 O\0K\n", 11, "c.cidr", &t, &err) == -1 &&
	       strcmp(buf_cstr(&err), "c.cidr:1: NUL byte") == 0,
	   "a NUL byte");
	cidr_table_free(&t);
	buf_free(&err);
}

int
main(void)
{
	lists();
	actions();
	keys();
	cidr();
	return done_testing();
}
