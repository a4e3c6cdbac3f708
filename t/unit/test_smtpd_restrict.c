/*
 * test_smtpd_restrict: the restriction lists in the SMTP state machine,
 * with fake tables: every list applied at RCPT TO in order (a permit
 * ends its list only, a refusal ends all), the access actions and their
 * replies in Postfix's words, a table that cannot answer (451 4.3.0) or
 * holds no action (451 4.3.5), reverse DNS verdicts, HELO and FQDN checks,
 * the default recipient list (today's relay rule and unknown users),
 * smtpd_reject_unlisted_recipient after a permit, and the DNS lists'
 * answers (reject_rbl_client, reject_rhsbl_sender: listed, filtered,
 * not asked, and a RCPT that waits for an answer in flight).
 */
#include <string.h>
#include <strings.h>

#include "smtpd_dnsbl.h"
#include "smtpd_reply.h"
#include "smtpd_security.h"
#include "smtpd_session.h"
#include "smtpd_rdns.h"
#include "tap.h"

static const char *const table[][2] = {
    {"192.0.2.1", "REJECT spam source"},
    {"192.0.2.2", "550 5.7.0 go away"},
    {"198.51.100", "OK"},
    {"203.0.113.9", "DEFER"},
    {"192.0.2.4", "bogus"},
    {"spam.example", "REJECT"},
    {"friend@", "OK"},
    {"blocked@example.com", "REJECT not here"},
};

static int
fake_access(void *ctx, const struct restriction *r, const char *key,
	    struct buf *value)
{
	size_t i;

	(void)ctx;
	(void)r;
	if (strcmp(key, "192.0.2.3") == 0)
		return -1;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(key, table[i][0]) == 0) {
			buf_append_str(value, table[i][1]);
			return 1;
		}
	return 0;
}

static const struct restriction client_list[] = {
    {.kind = RESTRICT_CHECK_CLIENT_ACCESS, .table = TABLE_LMDB, .index = 0},
    {.kind = RESTRICT_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME, .index = -1}};
static const struct restriction helo_list[] = {
    {.kind = RESTRICT_REJECT_INVALID_HELO_HOSTNAME, .index = -1},
    {.kind = RESTRICT_REJECT_NON_FQDN_HELO_HOSTNAME, .index = -1}};
static const struct restriction sender_list[] = {
    {.kind = RESTRICT_REJECT_NON_FQDN_SENDER, .index = -1},
    {.kind = RESTRICT_CHECK_SENDER_ACCESS, .table = TABLE_LMDB, .index = 0}};
static const struct restriction rcpt_list[] = {
    {.kind = RESTRICT_CHECK_RECIPIENT_ACCESS, .table = TABLE_LMDB, .index = 0},
    {.kind = RESTRICT_PERMIT_MYNETWORKS, .index = -1},
    {.kind = RESTRICT_REJECT_UNAUTH_DESTINATION, .index = -1}};

static struct smtpd_security sec = {
    .list = {{client_list, 2},
	     {helo_list, 2},
	     {sender_list, 2},
	     {rcpt_list, 3}},
    .access = fake_access,
};

static struct smtpd_config cfg = {
    .myhostname = "mx.example.com",
    .banner = "mx.example.com ESMTP",
    .message_size_limit = 10240000,
    .recipient_limit = 1000,
    .soft_error_limit = 100,
    .hard_error_limit = 200,
    .sec = &sec,
};

static int
fake_domain(void *ctx, const char *domain)
{
	(void)ctx;
	if (strcmp(domain, "broken.example") == 0)
		return -1;
	return strcmp(domain, "example.com") == 0;
}

static int
fake_user(void *ctx, const char *local)
{
	(void)ctx;
	return strcasecmp(local, "alice") == 0 ||
	       strcasecmp(local, "blocked") == 0;
}

static const struct smtpd_lookup lookup = {NULL, fake_domain, fake_user};
static struct smtpd_session S;
static char logtext[4096];

static const char *
cmd(const char *line)
{
	static char reply[4096];

	smtpd_session_input_line(&S, line, strlen(line));
	strlcpy(reply, buf_cstr(&S.reply), sizeof(reply));
	reply[strcspn(reply, "\r")] = '\0';
	strlcpy(logtext, buf_cstr(&S.log), sizeof(logtext));
	buf_reset(&S.reply);
	buf_reset(&S.log);
	return reply;
}

/* A new session from addr: HELO, MAIL, then RCPT's reply. */
static const char *
envelope(const char *addr, enum smtpd_rdns rdns, int trusted, const char *helo,
	 const char *sender, const char *rcpt)
{
	char line[512];

	smtpd_session_free(&S);
	smtpd_session_init(
	    &S, &cfg, &lookup, addr,
	    rdns == SMTPD_RDNS_OK ? "mail.example.net" : "unknown", trusted);
	S.rdns = rdns;
	snprintf(line, sizeof(line), "EHLO %s", helo);
	cmd(line);
	snprintf(line, sizeof(line), "MAIL FROM:<%s>", sender);
	cmd(line);
	snprintf(line, sizeof(line), "RCPT TO:<%s>", rcpt);
	return cmd(line);
}

#define E(addr, helo, sender, rcpt)                                            \
	envelope(addr, SMTPD_RDNS_OK, 0, helo, sender, rcpt)

static void
client(void)
{
	is_str(E("192.0.2.1", "a.example", "a@b.example", "alice@example.com"),
	       "554 5.7.1 <mail.example.net[192.0.2.1]>: Client host "
	       "rejected: spam source",
	       "REJECT text from the client table");
	ok(strstr(logtext, "NOQUEUE: reject: RCPT from "
			   "mail.example.net[192.0.2.1]: 554 5.7.1 "
			   "<mail.example.net[192.0.2.1]>: Client host "
			   "rejected: spam source; from=<a@b.example> "
			   "to=<alice@example.com> proto=ESMTP "
			   "helo=<a.example>\n") != NULL,
	   "the log line has the whole envelope");
	is_str(E("192.0.2.2", "a.example", "a@b.example", "alice@example.com"),
	       "550 5.7.0 <mail.example.net[192.0.2.2]>: Client host "
	       "rejected: go away",
	       "a code and enhanced code from the table");
	is_str(E("192.0.2.3", "a.example", "a@b.example", "alice@example.com"),
	       "451 4.3.0 <mail.example.net[192.0.2.3]>: Temporary lookup "
	       "failure",
	       "a table that cannot answer: 451");
	is_str(E("192.0.2.4", "a.example", "a@b.example", "alice@example.com"),
	       "451 4.3.5 Server configuration error",
	       "a value that is no action: 451 4.3.5");
	ok(strstr(logtext, "is no access action") != NULL, "and a warning");
	is_str(
	    E("203.0.113.9", "a.example", "a@b.example", "alice@example.com"),
	    "450 4.7.1 <mail.example.net[203.0.113.9]>: Client host "
	    "rejected: Access denied",
	    "DEFER: 450");
	is_str(E("198.51.100.5", "nodot", "a@b.example", "alice@example.com"),
	       "504 5.5.2 <nodot>: Helo command rejected: need "
	       "fully-qualified hostname",
	       "a network prefix's OK ends the client list only");
	is_str(envelope("192.0.2.9", SMTPD_RDNS_FAIL, 0, "a.example",
			"a@b.example", "alice@example.com"),
	       "450 4.7.25 Client host rejected: cannot find your reverse "
	       "hostname, [192.0.2.9]",
	       "no reverse name: unknown_client_reject_code (450)");
	sec.unknown_client_code = 550;
	is_str(envelope("192.0.2.9", SMTPD_RDNS_FAIL, 0, "a.example",
			"a@b.example", "alice@example.com"),
	       "550 5.7.25 Client host rejected: cannot find your reverse "
	       "hostname, [192.0.2.9]",
	       "or 550 5.7.25 when set so");
	is_str(envelope("192.0.2.9", SMTPD_RDNS_TEMP, 0, "a.example",
			"a@b.example", "alice@example.com"),
	       "450 4.7.25 Client host rejected: cannot find your reverse "
	       "hostname, [192.0.2.9]",
	       "a temporary DNS failure: always 450");
	sec.unknown_client_code = 0;
}

static void
helo_sender_rcpt(void)
{
	is_str(E("192.0.2.9", "bad_host!", "a@b.example", "alice@example.com"),
	       "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name",
	       "reject_invalid_helo_hostname");
	is_str(
	    E("192.0.2.9", "[192.0.2.9]", "a@b.example", "alice@example.com"),
	    "250 2.1.5 Ok", "an address literal HELO is fine");
	is_str(E("192.0.2.9", "a.example", "a@localhost", "alice@example.com"),
	       "504 5.5.2 <a@localhost>: Sender address rejected: need "
	       "fully-qualified address",
	       "reject_non_fqdn_sender");
	is_str(E("192.0.2.9", "a.example", "x@mail.spam.example",
		 "alice@example.com"),
	       "554 5.7.1 <x@mail.spam.example>: Sender address rejected: "
	       "Access denied",
	       "a parent domain of the sender");
	is_str(E("192.0.2.9", "a.example", "friend@x.example",
		 "alice@example.com"),
	       "250 2.1.5 Ok", "localpart@");
	is_str(
	    E("192.0.2.9", "a.example", "a@b.example", "blocked@example.com"),
	    "554 5.7.1 <blocked@example.com>: Recipient address rejected: "
	    "not here",
	    "check_recipient_access");
	is_str(E("192.0.2.9", "a.example", "a@b.example", "x@far.example"),
	       "554 5.7.1 <x@far.example>: Relay access denied",
	       "reject_unauth_destination");
	is_str(E("192.0.2.9", "a.example", "a@b.example", "x@broken.example"),
	       "451 4.3.0 <x@broken.example>: Temporary lookup failure",
	       "a domain lookup that fails: 451");
	is_str(
	    E("192.0.2.9", "a.example", "a@b.example", "bob@example.com"),
	    "550 5.1.1 <bob@example.com>: Recipient address rejected: User "
	    "unknown in local recipient table",
	    "unknown users after the list (smtpd_reject_unlisted_recipient)");
	is_str(envelope("192.0.2.9", SMTPD_RDNS_OK, 1, "a.example",
			"a@b.example", "bob@example.com"),
	       "550 5.1.1 <bob@example.com>: Recipient address rejected: User "
	       "unknown in local recipient table",
	       "even after permit_mynetworks");
	sec.accept_unlisted = 1;
	is_str(envelope("192.0.2.9", SMTPD_RDNS_OK, 1, "a.example",
			"a@b.example", "bob@example.com"),
	       "250 2.1.5 Ok", "not with smtpd_reject_unlisted_recipient = no");
	sec.accept_unlisted = 0;
	is_str(E("192.0.2.1", "a.example", "a@b.example", "postmaster"),
	       "554 5.7.1 <mail.example.net[192.0.2.1]>: Client host "
	       "rejected: spam source",
	       "the bare postmaster: a client refusal still applies");
	is_str(E("192.0.2.9", "a.example", "a@b.example", "Postmaster"),
	       "250 2.1.5 Ok", "and no recipient restriction refuses it");
}

static void
defaults(void)
{
	cfg.sec = NULL;
	is_str(E("192.0.2.9", "nodot", "a@localhost", "x@far.example"),
	       "554 5.7.1 <x@far.example>: Relay access denied",
	       "no policy: the default recipient list, relay refused");
	is_str(envelope("127.0.0.1", SMTPD_RDNS_OK, 1, "a", "a@b",
			"x@far.example"),
	       "250 2.1.5 Ok", "a trusted client relays");
	is_str(E("192.0.2.9", "a", "a@b", "bob@example.com"),
	       "550 5.1.1 <bob@example.com>: Recipient address rejected: User "
	       "unknown in local recipient table",
	       "unknown users refused");
	cfg.sec = &sec;
}

/* The DNS lists: parsed by the real parser, answers made by hand. */
static struct restriction dl_client[4], dl_sender[2], dl_recip[2];
static struct smtpd_security dl_sec;
static struct smtpd_dnsbl_answer dl_answer[3];
static struct smtpd_dnsbl_set dl_set = {dl_answer, 3, "192.0.2.9", NULL, NULL};

static void
dl_parse(const char *const *words, size_t n, struct restriction *out,
	 enum smtpd_stage st)
{
	struct buf err = BUF_INIT;
	size_t count = 0;

	is_int(restriction_list_parse(words, n, out, 4, &count, &err), 0,
	       words[n - 1]);
	dl_sec.list[st].item = out;
	dl_sec.list[st].n = count;
	buf_free(&err);
}

/* Answer i: done, with one A record a.b.c.d (d 0: none) and text. */
static void
dl_answer_set(size_t i, enum smtpd_dnsbl_state st, unsigned d, const char *text)
{
	struct smtpd_dnsbl_answer *a = &dl_answer[i];

	a->state = st;
	a->naddr = d != 0;
	a->addr[0] = 127;
	a->addr[1] = a->addr[2] = 0;
	a->addr[3] = (unsigned char)d;
	strlcpy(a->text, text, sizeof(a->text));
}

/* Answer i set so, then a RCPT's reply. */
static const char *
dl_rcpt(size_t i, enum smtpd_dnsbl_state st, unsigned d, const char *text)
{
	dl_answer_set(i, st, d, text);
	return cmd("RCPT TO:<alice@example.com>");
}

/* A session from addr with the DNS lists, past its first RCPT. */
static void
dl_session(const char *addr, int trusted, const char *sender)
{
	cfg.sec = &dl_sec;
	dl_answer_set(0, SMTPD_DNSBL_DONE, 0, "");
	envelope(addr, SMTPD_RDNS_FAIL, trusted, "a.example", sender,
		 "alice@example.com");
	S.dnsbl = &dl_set;
}

static void
dnsbl_setup(void)
{
	static const char *const cw[] = {
	    "permit_mynetworks", "reject_rbl_client",
	    "zen.example=127.0.0.[2..4]", "reject_rbl_client", "Any.Example."};
	static const char *const sw[] = {"reject_rhsbl_sender", "dbl.example"};
	static const char *const rw[] = {"reject_unauth_destination"};

	dl_parse(cw, 5, dl_client, SMTPD_STAGE_CLIENT);
	dl_parse(sw, 2, dl_sender, SMTPD_STAGE_SENDER);
	dl_parse(rw, 1, dl_recip, SMTPD_STAGE_RCPT);
	ok(strcmp(dl_client[2].arg, "any.example") == 0,
	   "a list's domain is kept in lower case, without its dot");
	dl_answer[0].list = "zen.example";
	dl_answer[1].list = "any.example";
	dl_answer[2].list = "dbl.example";
	dl_answer[2].sender = 1;
	strlcpy(dl_answer[2].about, "bad.example", sizeof(dl_answer[2].about));
}

/* A long sender domain and a long text: the line stays within 512. */
static void
long_reply(void)
{
	char domain[256], sender[300], text[DNSBL_TEXT_MAX + 1];
	const char *r;

	memset(domain, 'd', sizeof(domain));
	domain[63] = domain[127] = domain[191] = '.';
	domain[250] = '\0';
	memset(text, 't', sizeof(text));
	text[DNSBL_TEXT_MAX] = '\0';
	snprintf(sender, sizeof(sender), "x@%s", domain);
	dl_session("192.0.2.9", 0, sender);
	strlcpy(dl_answer[2].about, domain, sizeof(dl_answer[2].about));
	r = dl_rcpt(2, SMTPD_DNSBL_DONE, 2, text);
	ok(strncmp(r, "554 5.7.1 Service unavailable; Sender address [ddd",
		   50) == 0 &&
	       strlen(r) + 2 <= 512 && strstr(r, "; ttt") != NULL,
	   "a long domain and text: the text is cut to fit 512 bytes (%zu)",
	   strlen(r) + 2);
}

static void
dnsbl(void)
{
	unsigned n;

	dnsbl_setup();
	dl_answer_set(1, SMTPD_DNSBL_DONE, 0, "");
	dl_answer_set(2, SMTPD_DNSBL_DONE, 0, "");
	dl_session("192.0.2.9", 0, "a@b.example");
	is_str(dl_rcpt(0, SMTPD_DNSBL_DONE, 2, "see https://zen.example/q"),
	       "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked "
	       "using zen.example; see https://zen.example/q",
	       "a listed client: 554 5.7.1, the list and its TXT text");
	ok(strstr(logtext, "NOQUEUE: reject: RCPT from unknown[192.0.2.9]: "
			   "554 5.7.1 Service unavailable; Client host "
			   "[192.0.2.9] blocked using zen.example; ") != NULL,
	   "logged, naming the list");
	is_str(dl_rcpt(0, SMTPD_DNSBL_DONE, 10, "not this"), "250 2.1.5 Ok",
	       "an A record outside the filter does not count");
	is_str(dl_rcpt(1, SMTPD_DNSBL_DONE, 10, ""),
	       "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked "
	       "using any.example",
	       "any record counts without a filter; no text, no \"; \"");
	dl_sec.rbl_reject_code = 450;
	is_str(cmd("RCPT TO:<alice@example.com>"),
	       "450 4.7.1 Service unavailable; Client host [192.0.2.9] blocked "
	       "using any.example",
	       "maps_rbl_reject_code 450: 4.7.1");
	dl_sec.rbl_reject_code = 0;
	is_str(dl_rcpt(1, SMTPD_DNSBL_NONE, 10, ""), "250 2.1.5 Ok",
	       "a list not asked decides nothing");
	dl_answer_set(0, SMTPD_DNSBL_PENDING, 0, "");
	n = S.cmd_total[SMTPD_CMD_RCPT];
	is_int(smtpd_session_input_line(&S, "RCPT TO:<alice@example.com>", 27),
	       SMTPD_ACT_WAIT, "an answer in flight: the RCPT waits");
	ok(S.reply.len == 0 && S.log.len == 0, "saying nothing");
	is_int(S.cmd_total[SMTPD_CMD_RCPT], n, "and is not counted yet");
	is_str(dl_rcpt(0, SMTPD_DNSBL_DONE, 3, ""),
	       "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked "
	       "using zen.example",
	       "given again once the answer is in, it is decided");
	is_int(S.cmd_total[SMTPD_CMD_RCPT], n + 1, "and counted once");

	dl_session("192.0.2.1", 1, "a@b.example");
	is_str(dl_rcpt(0, SMTPD_DNSBL_DONE, 2, ""), "250 2.1.5 Ok",
	       "permit_mynetworks first: a trusted client is never listed");

	dl_session("192.0.2.9", 0, "x@Bad.Example");
	is_str(dl_rcpt(2, SMTPD_DNSBL_DONE, 2, "bad domain"),
	       "554 5.7.1 Service unavailable; Sender address [bad.example] "
	       "blocked using dbl.example; bad domain",
	       "reject_rhsbl_sender: a listed sender domain");
	cmd("RSET");
	cmd("MAIL FROM:<x@good.example>");
	is_str(cmd("RCPT TO:<alice@example.com>"), "250 2.1.5 Ok",
	       "an answer about another domain decides nothing");
	cmd("RSET");
	cmd("MAIL FROM:<>");
	is_str(cmd("RCPT TO:<alice@example.com>"), "250 2.1.5 Ok",
	       "the null sender is not asked about");
	long_reply();
	S.dnsbl = NULL;
	cfg.sec = &sec;

	is_str(smtpd_dnsbl_sender_domain("a@b.example"), "b.example",
	       "the sender's domain");
	is_str(smtpd_dnsbl_sender_domain("\"a@x\"@d.example"), "d.example",
	       "after the last @");
	is_str(smtpd_dnsbl_sender_domain("a@[192.0.2.1]"), "",
	       "none for an address literal");
	is_str(smtpd_dnsbl_sender_domain(""), "", "none for <>");
}

/* The loopback address is named without a lookup; nothing else is. */
static void
loopback(void)
{
	ok(smtpd_rdns_is_loopback("127.0.0.1"), "127.0.0.1 is the loopback");
	ok(smtpd_rdns_is_loopback("::1"), "::1 is the loopback");
	ok(!smtpd_rdns_is_loopback("127.0.0.2"),
	   "127.0.0.2 is looked up (a test world's host)");
	ok(!smtpd_rdns_is_loopback("::2"), "::2 is not");
	ok(!smtpd_rdns_is_loopback("192.0.2.1"), "a public address is not");
	ok(!smtpd_rdns_is_loopback("localhost"), "a name is not an address");
	ok(!smtpd_rdns_is_loopback(""), "nor the empty string");
}

int
main(void)
{
	smtpd_session_init(&S, &cfg, &lookup, "192.0.2.9", "unknown", 0);
	client();
	helo_sender_rcpt();
	defaults();
	dnsbl();
	loopback();
	smtpd_session_free(&S);
	return done_testing();
}
