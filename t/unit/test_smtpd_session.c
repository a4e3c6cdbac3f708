/*
 * test_smtpd_session: the SMTP state machine driven line by line with a
 * fake recipient lookup: every command's replies with their enhanced
 * codes, the limits (command line, recipients, errors), the relay rules for
 * trusted and untrusted clients including each old routing trick, unknown
 * users, VRFY/EXPN that reveal nothing, the probes that get 500, and the
 * log lines in Postfix's shapes.
 */
#include <string.h>
#include <strings.h>

#include "smtpd_reply.h"
#include "smtpd_session.h"
#include "tap.h"

static struct smtpd_config cfg = {
    .myhostname = "mx.example.com",
    .banner = "mx.example.com ESMTP",
    .message_size_limit = 10240000,
    .recipient_limit = 1000,
    .soft_error_limit = 10,
    .hard_error_limit = 20,
};

static int
fake_domain(void *ctx, const char *domain)
{
	(void)ctx;
	if (strcmp(domain, "broken.example") == 0)
		return -1;
	return strcmp(domain, "example.com") == 0 ||
	       strcmp(domain, "mx.example.com") == 0;
}

static int
fake_user(void *ctx, const char *local)
{
	static const char *const users[] = {"alice", "bob", "postmaster",
					    "root"};
	size_t i;

	(void)ctx;
	if (strcasecmp(local, "tempfail") == 0)
		return -1;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (strcasecmp(users[i], local) == 0)
			return 1;
	return 0;
}

static const struct smtpd_lookup lookup = {NULL, fake_domain, fake_user};

static struct smtpd_session S;
static char reply[4096], logtext[4096];
static enum smtpd_action act;

static void
take_output(void)
{
	strlcpy(reply, buf_cstr(&S.reply), sizeof(reply));
	strlcpy(logtext, buf_cstr(&S.log), sizeof(logtext));
	buf_reset(&S.reply);
	buf_reset(&S.log);
}

static const char *
cmd(const char *line)
{
	act = smtpd_session_input_line(&S, line, strlen(line));
	take_output();
	return reply;
}

static void
start(int trusted)
{
	smtpd_session_free(&S);
	smtpd_session_init(&S, &cfg, &lookup, "192.0.2.1", "unknown", trusted);
	smtpd_session_greeting(&S);
	take_output();
}

static void
start_mail(int trusted)
{
	start(trusted);
	cmd("EHLO client.example");
	cmd("MAIL FROM:<sender@remote.example>");
}

#define R(line, want, name) is_str(cmd(line), want "\r\n", name)

static void
greeting_and_helo(void)
{
	smtpd_session_init(&S, &cfg, &lookup, "192.0.2.1", "unknown", 0);
	is_str(buf_cstr(&S.log), "connect from unknown[192.0.2.1]\n",
	       "connect is logged in Postfix's shape");
	smtpd_session_greeting(&S);
	take_output();
	is_str(reply, "220 mx.example.com ESMTP\r\n",
	       "greeting is 220 and the banner, no software name");
	R("MAIL FROM:<a@example.com>", "503 5.5.1 Error: send HELO/EHLO first",
	  "MAIL before HELO is refused");
	R("HELO", "501 5.5.4 Syntax: HELO hostname", "HELO needs an argument");
	R("EHLO", "501 5.5.4 Syntax: EHLO hostname", "EHLO needs an argument");
	R("EHLO a b", "501 5.5.4 Syntax: EHLO hostname", "EHLO takes one word");
	R("EHLO caf\xc3\xa9", "501 5.5.4 Syntax: EHLO hostname",
	  "8-bit EHLO refused");
	R("HELO client.example", "250 mx.example.com", "HELO answered");
	is_int(S.state, SMTPD_ST_READY, "HELO makes the session ready");
	is_str(cmd("ehlo client.example"),
	       "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
	       "250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n"
	       "250 ENHANCEDSTATUSCODES\r\n",
	       "EHLO lists exactly PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN, "
	       "CHUNKING, ENHANCEDSTATUSCODES (no AUTH or STARTTLS)");
	is_int(S.esmtp, 1, "EHLO means ESMTP");
	ok(strncmp(cmd("EHLO [192.0.2.1]"), "250-mx.example.com\r\n", 20) == 0,
	   "an address literal is a valid EHLO argument");
}

static void
mail_from(void)
{
	start(0);
	cmd("EHLO client.example");
	R("MAIL FROM:<sender@remote.example>", "250 2.1.0 Ok", "MAIL accepted");
	R("MAIL FROM:<sender@remote.example>",
	  "503 5.5.1 Error: nested MAIL command", "nested MAIL refused");
	R("RSET", "250 2.0.0 Ok", "RSET");
	R("MAIL FROM:<>", "250 2.1.0 Ok", "null sender accepted");
	cmd("RSET");
	R("mail from: <Sender@Remote.Example>", "250 2.1.0 Ok",
	  "lower case and a blank after the colon are tolerated");
	is_str(S.sender, "Sender@remote.example", "domain is lower-cased");
	cmd("RSET");
	R("MAIL FROM:<a@remote.example> SIZE=10240001",
	  "552 5.3.4 Message size exceeds fixed limit", "SIZE over the limit");
	ok(strstr(logtext,
		  "NOQUEUE: reject: MAIL from unknown[192.0.2.1]: "
		  "552 5.3.4 Message size exceeds fixed limit;") != NULL,
	   "size refusal logged");
	R("MAIL FROM:<a@remote.example> SIZE=99999999999999999999999",
	  "501 5.5.4 Bad message size syntax", "absurd SIZE refused");
	R("MAIL FROM:<a@remote.example> SIZE=18446744073709551616",
	  "552 5.3.4 Message size exceeds fixed limit", "SIZE overflow is big");
	R("MAIL FROM:<a@remote.example> SIZE=12x",
	  "501 5.5.4 Bad message size syntax", "SIZE must be a number");
	R("MAIL FROM:<a@remote.example> SIZE=1000 BODY=8BITMIME",
	  "250 2.1.0 Ok", "SIZE and BODY=8BITMIME");
	cmd("RSET");
	R("MAIL FROM:<a@remote.example> BODY=7bit", "250 2.1.0 Ok",
	  "BODY=7BIT any case");
	cmd("RSET");
	R("MAIL FROM:<a@remote.example> BODY=BINARYMIME",
	  "555 5.5.4 Unsupported option: BODY=BINARYMIME",
	  "BINARYMIME unsupported");
	R("MAIL FROM:<a@remote.example> AUTH=<>",
	  "555 5.5.4 Unsupported option: AUTH=<>", "unknown option");
	R("MAIL FROM:<a@remote.example>SIZE=1",
	  "501 5.5.4 Syntax: MAIL FROM:<address>", "option needs a blank");
	R("MAIL FROM:<a@remote.example", "501 5.1.7 Bad sender address syntax",
	  "unterminated path");
	R("MAIL FROM:a@remote.example", "501 5.1.7 Bad sender address syntax",
	  "path needs brackets");
	R("MAIL FROM:<a@b@remote.example>",
	  "501 5.1.7 Bad sender address syntax", "two @ refused");
	R("MAIL FROM:<sender>",
	  "504 5.5.2 <sender>: Sender address rejected: need fully-qualified "
	  "address",
	  "unqualified sender");
	R("MAIL TO:<a@remote.example>", "501 5.5.4 Syntax: MAIL FROM:<address>",
	  "MAIL needs FROM:");
	R("MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>", "bare MAIL");
	R("MAIL FROM:<a\x01@remote.example>",
	  "501 5.1.7 Bad sender address syntax", "control byte in sender");
}

static void
rcpt_local(void)
{
	start(0);
	cmd("EHLO client.example");
	R("RCPT TO:<alice@example.com>", "503 5.5.1 Error: need MAIL command",
	  "RCPT before MAIL");
	cmd("MAIL FROM:<sender@remote.example>");
	R("RCPT TO:<alice@example.com>", "250 2.1.5 Ok", "local user");
	is_int(S.state, SMTPD_ST_RCPT, "state RCPT after one recipient");
	R("RCPT TO:<ALICE@EXAMPLE.COM>", "250 2.1.5 Ok", "case folded");
	R("rcpt to: <bob@mx.example.com>", "250 2.1.5 Ok", "second domain");
	R("RCPT TO:<mallory@example.com>",
	  "550 5.1.1 <mallory@example.com>: Recipient address rejected: User "
	  "unknown in local recipient table",
	  "unknown local user refused at RCPT time");
	is_str(
	    logtext,
	    "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 "
	    "<mallory@example.com>: Recipient address rejected: User unknown "
	    "in local recipient table; from=<sender@remote.example> "
	    "to=<mallory@example.com> proto=ESMTP helo=<client.example>\n",
	    "unknown user logged");
	R("RCPT TO:<postmaster>", "250 2.1.5 Ok", "bare <postmaster> accepted");
	is_str(S.rcpt[S.rcpt_count - 1], "postmaster@mx.example.com",
	       "bare postmaster is ours");
	R("RCPT TO:<PostMaster>", "250 2.1.5 Ok", "any case");
	R("RCPT TO:<alice>",
	  "504 5.5.2 <alice>: Recipient address rejected: need "
	  "fully-qualified address",
	  "other bare names refused");
	R("RCPT TO:<tempfail@example.com>",
	  "451 4.3.0 <tempfail@example.com>: Temporary lookup failure",
	  "lookup failure is temporary");
	R("RCPT TO:<x@broken.example>",
	  "451 4.3.0 <x@broken.example>: Temporary lookup failure",
	  "domain lookup failure is temporary");
	R("RCPT TO:<alice@example.com> SIZE=10",
	  "555 5.5.4 Unsupported option: SIZE=10", "no MAIL options on RCPT");
	R("RCPT TO:<a@b@example.com>", "501 5.1.3 Bad recipient address syntax",
	  "two @");
	R("RCPT TO:alice@example.com", "501 5.1.3 Bad recipient address syntax",
	  "no brackets");
	R("RCPT FROM:<alice@example.com>",
	  "501 5.5.4 Syntax: RCPT TO:<address>", "RCPT needs TO:");
	R("RCPT TO:<>", "501 5.1.3 Bad recipient address syntax",
	  "null recipient");
}

static void
relay_untrusted(void)
{
	static const char *const hacks[] = {
	    "<@relay.example:alice@example.com>",
	    "<@a.example,@b.example:alice@example.com>",
	    "<alice%remote.example@example.com>",
	    "<remote.example!alice@example.com>",
	    "<\"alice@remote.example\"@example.com>",
	};
	char line[256], want[512];
	size_t i;

	start_mail(0);
	R("RCPT TO:<victim@remote.example>",
	  "554 5.7.1 <victim@remote.example>: Relay access denied",
	  "untrusted client may not relay");
	is_str(logtext,
	       "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 "
	       "<victim@remote.example>: Relay access denied; "
	       "from=<sender@remote.example> to=<victim@remote.example> "
	       "proto=ESMTP helo=<client.example>\n",
	       "relay denial logged in Postfix's shape");
	R("RCPT TO:<victim@[192.0.2.99]>",
	  "554 5.7.1 <victim@[192.0.2.99]>: Relay access denied",
	  "address literal is not local");
	for (i = 0; i < sizeof(hacks) / sizeof(hacks[0]); i++) {
		snprintf(line, sizeof(line), "RCPT TO:%s", hacks[i]);
		cmd(line);
		snprintf(want, sizeof(want), "550 5.7.1 ");
		ok(strncmp(reply, want, strlen(want)) == 0 &&
		       strstr(reply, "address routing") != NULL,
		   "untrusted %s refused with 550 5.7.1", hacks[i]);
		if (strstr(reply, "address routing") == NULL)
			printf("#   got %s", reply);
	}
	is_int(S.rcpt_count, 0, "nothing accepted");
}

static void
relay_trusted(void)
{
	start_mail(1);
	R("RCPT TO:<victim@remote.example>", "250 2.1.5 Ok",
	  "trusted client relays");
	R("RCPT TO:<@relay.example:alice@example.com>", "250 2.1.5 Ok",
	  "trusted source route: route stripped");
	is_str(S.rcpt[1], "alice@example.com", "route gone");
	R("RCPT TO:<alice%remote.example@example.com>",
	  "550 5.1.1 <alice%remote.example@example.com>: Recipient address "
	  "rejected: User unknown in local recipient table",
	  "trusted %-hack at a local domain is just an unknown user");
	R("RCPT TO:<remote.example!alice@elsewhere.example>", "250 2.1.5 Ok",
	  "trusted bang path to a remote domain relays");
	R("RCPT TO:<\"a@b\"@elsewhere.example>", "250 2.1.5 Ok",
	  "trusted quoted @ relays");
	R("RCPT TO:<mallory@example.com>",
	  "550 5.1.1 <mallory@example.com>: Recipient address rejected: User "
	  "unknown in local recipient table",
	  "trusted clients still cannot reach unknown local users");
}

static void
recipient_limit(void)
{
	struct smtpd_config small = cfg;
	unsigned i;

	small.recipient_limit = 3;
	smtpd_session_free(&S);
	smtpd_session_init(&S, &small, &lookup, "192.0.2.1", "unknown", 0);
	cmd("HELO c");
	cmd("MAIL FROM:<a@remote.example>");
	for (i = 0; i < 3; i++)
		R("RCPT TO:<alice@example.com>", "250 2.1.5 Ok", "under limit");
	R("RCPT TO:<alice@example.com>", "452 4.5.3 Error: too many recipients",
	  "over the recipient limit: 452 4.5.3");
	R("RCPT TO:<mallory@example.com>",
	  "452 4.5.3 Error: too many recipients",
	  "over the limit nothing is looked up");
	is_int(S.rcpt_count, 3, "three kept");
	is_int(S.errors, 0, "the first excess RCPTs are not errors");
	cmd("RCPT TO:<alice@example.com>");
	cmd("RCPT TO:<alice@example.com>");
	is_int(S.errors, 1, "past twice the limit they count");
	cmd("RSET");
	cmd("MAIL FROM:<a@remote.example>");
	R("RCPT TO:<alice@example.com>", "250 2.1.5 Ok", "RSET clears");
}

static void
data_flow(void)
{
	struct smtpd_data_result r = {
	    -1, 250, "2.0.0", "Ok", "5F3A1B2C4D6E7F8091A2B3C", 9};

	start(0);
	cmd("EHLO client.example");
	R("DATA", "503 5.5.1 Error: need MAIL command", "DATA without MAIL");
	cmd("MAIL FROM:<sender@remote.example>");
	R("DATA", "503 5.5.1 Error: need RCPT command", "DATA without RCPT");
	cmd("RCPT TO:<mallory@example.com>");
	R("DATA", "503 5.5.1 Error: need RCPT command",
	  "DATA without a valid RCPT");
	cmd("RCPT TO:<alice@example.com>");
	R("DATA x", "501 5.5.4 Syntax: DATA", "DATA takes no argument");
	is_str(cmd("DATA"), "", "DATA waits for the queue transaction");
	is_int(act, SMTPD_ACT_DATA, "action: open the transaction");
	act = smtpd_session_data_started(&S, 1);
	take_output();
	is_str(reply, "354 End data with <CR><LF>.<CR><LF>\r\n", "354");
	is_int(S.state, SMTPD_ST_DATA, "state DATA");
	act = smtpd_session_data_done(&S, &r);
	take_output();
	is_str(reply, "250 2.0.0 Ok: queued as 5F3A1B2C4D6E7F8091A2B3C\r\n",
	       "queued");
	is_str(logtext, "5F3A1B2C4D6E7F8091A2B3C: client=unknown[192.0.2.1]\n",
	       "queue ID line logged");
	is_int(S.state, SMTPD_ST_READY, "transaction over");
	is_int(S.rcpt_count, 0, "recipients forgotten");
	R("DATA", "503 5.5.1 Error: need MAIL command", "next DATA needs MAIL");

	cmd("MAIL FROM:<sender@remote.example>");
	cmd("RCPT TO:<alice@example.com>");
	cmd("DATA");
	act = smtpd_session_data_started(&S, 0);
	take_output();
	is_str(reply, "451 4.3.0 Error: queue file write error\r\n",
	       "cleanup unreachable: 451 4.3.0");
	is_int(S.state, SMTPD_ST_RCPT, "the transaction stays");
	cmd("DATA");
	smtpd_session_data_started(&S, 1);
	take_output();
	r.reject_id = SMTPD_R_BARE_EOL;
	smtpd_session_data_done(&S, &r);
	take_output();
	is_str(reply,
	       "550 5.6.0 Error: bare <LF> or <CR> in message; use "
	       "<CR><LF>\r\n",
	       "bare LF rejected");
	ok(strstr(logtext, "NOQUEUE: reject: END-OF-MESSAGE from "
			   "unknown[192.0.2.1]: 550 5.6.0") != NULL,
	   "rejection logged");

	r.reject_id = -1;
	r.code = 552;
	r.dsn = "5.3.4";
	r.text = "Error: too many header lines\r\nQUIT";
	cmd("MAIL FROM:<sender@remote.example>");
	cmd("RCPT TO:<alice@example.com>");
	cmd("DATA");
	smtpd_session_data_started(&S, 1);
	take_output();
	smtpd_session_data_done(&S, &r);
	take_output();
	is_str(reply, "552 5.3.4 Error: too many header lines??QUIT\r\n",
	       "cleanup's refusal passed on, made safe");
	r.code = 250;
	r.queue_id = "../5F3A1B2C4D6E7F8091A2B";
	cmd("MAIL FROM:<sender@remote.example>");
	cmd("RCPT TO:<alice@example.com>");
	cmd("DATA");
	smtpd_session_data_started(&S, 1);
	take_output();
	smtpd_session_data_done(&S, &r);
	take_output();
	is_str(reply, "451 4.3.0 Error: queue file write error\r\n",
	       "a malformed cleanup reply is a queue error");
	r.code = 550;
	r.dsn = "4.0.0";
	cmd("MAIL FROM:<sender@remote.example>");
	cmd("RCPT TO:<alice@example.com>");
	cmd("DATA");
	smtpd_session_data_started(&S, 1);
	take_output();
	smtpd_session_data_done(&S, &r);
	take_output();
	is_str(reply, "451 4.3.0 Error: queue file write error\r\n",
	       "code and DSN class must agree");
}

static void
other_commands(void)
{
	start(0);
	R("NOOP", "250 2.0.0 Ok", "NOOP before HELO");
	R("NOOP anything", "250 2.0.0 Ok", "NOOP with an argument");
	R("RSET", "250 2.0.0 Ok", "RSET before HELO");
	is_int(S.state, SMTPD_ST_GREETED, "RSET keeps the need for HELO");
	R("RSET now", "501 5.5.4 Syntax: RSET", "RSET takes no argument");
	R("HELP",
	  "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP "
	  "QUIT VRFY HELP",
	  "HELP is short");
	ok(strcasestr(reply, "moat") == NULL, "HELP names no software");
	R("VRFY alice", "252 2.0.0 Send some mail, I'll try my best",
	  "VRFY of a real user");
	R("VRFY nosuchuser", "252 2.0.0 Send some mail, I'll try my best",
	  "VRFY of an unknown user: the same answer");
	R("VRFY <root@example.com>",
	  "252 2.0.0 Send some mail, I'll try my best",
	  "VRFY of root: the same answer");
	R("VRFY", "501 5.5.4 Syntax: VRFY address", "VRFY needs an argument");
	R("EXPN staff", "502 5.5.1 EXPN is not supported", "EXPN 502");
	R("EXPN root", "502 5.5.1 EXPN is not supported", "EXPN never expands");
	R("ETRN example.com", "502 5.5.1 ETRN is not supported", "ETRN 502");
}

static void
probes(void)
{
	static const char *const probe[] = {
	    "DEBUG",   "SHOWQ",          "WIZ",        "KILL",
	    "TURN",    "STARTTLS",       "AUTH PLAIN", "ATRN",
	    "XEXCH50", "GET / HTTP/1.0", "debug",
	};
	char want[128];
	size_t i;

	start(0);
	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		R(probe[i], "500 5.5.2 Error: command not recognized",
		  probe[i]);
		snprintf(want, sizeof(want),
			 "warning: unknown command %.*s from "
			 "unknown[192.0.2.1]\n",
			 (int)strcspn(probe[i], " "), probe[i]);
		is_str(logtext, want, "probe logged with the client");
	}
	R("DE\x1b[2JUG", "500 5.5.2 Error: command not recognized", "escape");
	is_str(logtext,
	       "warning: unknown command DE?[2JUG from unknown[192.0.2.1]\n",
	       "logged command word is sanitized");
	R("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA x",
	  "500 5.5.2 Error: command not recognized", "long word");
	is_str(logtext,
	       "warning: unknown command AAAAAAAAAAAAAAAA... from "
	       "unknown[192.0.2.1]\n",
	       "logged command word is cut");
	R("", "500 5.5.2 Error: bad syntax", "empty line");
	act = smtpd_session_input_line(&S, "NOOP\0x", 6);
	take_output();
	is_str(reply, "500 5.5.2 Error: bad syntax\r\n", "NUL in a command");
	act = smtpd_session_line_too_long(&S);
	take_output();
	is_str(reply, "500 5.5.2 Error: line too long\r\n",
	       "over-long command line");
	is_int(act, SMTPD_ACT_REPLY, "the session goes on after it");
}

static void
error_limits(void)
{
	struct smtpd_config lim = cfg;
	int i;

	lim.soft_error_limit = 3;
	lim.hard_error_limit = 5;
	smtpd_session_free(&S);
	smtpd_session_init(&S, &lim, &lookup, "192.0.2.1", "unknown", 0);
	take_output();
	for (i = 1; i <= 2; i++) {
		cmd("BOGUS");
		is_int(S.delay, 0, "below the soft limit: no delay");
	}
	cmd("NOOP");
	is_int(S.delay, 0, "a good reply below the soft limit: no delay");
	cmd("BOGUS");
	is_int(S.delay, 1, "at the soft limit the reply is delayed");
	cmd("NOOP");
	is_int(S.delay, 1, "after it every reply is delayed");
	is_int(act, SMTPD_ACT_REPLY, "not closed yet");
	cmd("BOGUS");
	is_int(act, SMTPD_ACT_REPLY, "4 errors: still open");
	cmd("BOGUS");
	is_str(reply,
	       "500 5.5.2 Error: command not recognized\r\n"
	       "421 4.7.0 Error: too many errors\r\n",
	       "at the hard limit: 421 4.7.0");
	is_int(act, SMTPD_ACT_CLOSE, "and the session closes");
	ok(strstr(logtext, "too many errors after UNKNOWN from "
			   "unknown[192.0.2.1]") != NULL,
	   "too many errors logged");
	smtpd_session_free(&S);
	smtpd_session_init(&S, &lim, &lookup, "192.0.2.1", "unknown", 0);
	cmd("HELO c");
	cmd("MAIL FROM:<a@remote.example>");
	for (i = 0; i < 4; i++)
		cmd("RCPT TO:<nobody@example.com>");
	cmd("RCPT TO:<nobody@example.com>");
	is_int(act, SMTPD_ACT_CLOSE,
	       "unknown-user harvesting is cut off at the hard limit");
}

static void
endings(void)
{
	start(0);
	cmd("EHLO client.example");
	cmd("MAIL FROM:<sender@remote.example>");
	cmd("RCPT TO:<alice@example.com>");
	cmd("DATA");
	smtpd_session_data_started(&S, 1);
	take_output();
	{
		struct smtpd_data_result r = {
		    -1, 250, "2.0.0", "Ok", "5F3A1B2C4D6E7F8091A2B3C", 1};
		smtpd_session_data_done(&S, &r);
		take_output();
	}
	R("QUIT now", "501 5.5.4 Syntax: QUIT", "QUIT takes no argument");
	R("QUIT", "221 2.0.0 Bye", "QUIT");
	is_int(act, SMTPD_ACT_CLOSE, "QUIT closes");
	smtpd_session_disconnect(&S);
	take_output();
	is_str(logtext,
	       "disconnect from unknown[192.0.2.1] ehlo=1 mail=1 rcpt=1 data=1 "
	       "quit=1/2 commands=5/6\n",
	       "disconnect line counts commands");
	start(0);
	cmd("EHLO c");
	cmd("MAIL FROM:<a@remote.example>");
	cmd("RCPT TO:<x@remote.example>");
	cmd("QUIT");
	smtpd_session_disconnect(&S);
	take_output();
	is_str(logtext,
	       "disconnect from unknown[192.0.2.1] ehlo=1 mail=1 rcpt=0/1 "
	       "quit=1 commands=3/4\n",
	       "failed commands show as ok/total");

	start(0);
	cmd("HELO c");
	cmd("MAIL FROM:<a@remote.example>");
	act = smtpd_session_timeout(&S);
	take_output();
	is_str(reply, "421 4.4.2 mx.example.com Error: timeout exceeded\r\n",
	       "timeout reply");
	is_str(logtext, "timeout after MAIL from unknown[192.0.2.1]\n",
	       "timeout logged with the last command");
	is_int(act, SMTPD_ACT_CLOSE, "timeout closes");

	smtpd_session_free(&S);
	smtpd_session_init(&S, &cfg, &lookup, "192.0.2.1", "unknown", 0);
	take_output();
	act = smtpd_session_pregreet(&S);
	take_output();
	is_str(reply, "554 5.5.0 Error: SMTP protocol synchronization\r\n",
	       "talking before the greeting");
	is_int(act, SMTPD_ACT_CLOSE, "closes");
	is_str(cmd("NOOP"), "", "nothing more is answered");
}

static void
reply_table(void)
{
	int i, bad = 0;

	for (i = 0; i < SMTPD_R_COUNT; i++) {
		const struct smtpd_reply *r = &smtpd_replies[i];
		int exempt = i == SMTPD_R_GREETING || i == SMTPD_R_HELO ||
			     i == SMTPD_R_DATA_GO;

		if (r->text == NULL || (r->dsn == NULL) != exempt ||
		    (r->dsn != NULL && (!smtpd_reply_dsn_valid(r->dsn) ||
					r->dsn[0] != '0' + r->code / 100))) {
			printf("# reply %d: code %d dsn %s\n", i, r->code,
			       r->dsn ? r->dsn : "(none)");
			bad++;
		}
	}
	is_int(bad, 0,
	       "every reply has an enhanced code of its class "
	       "(except greeting, HELO/EHLO and 354: RFC 2034)");
	ok(smtpd_reply_dsn_valid("2.0.0") && smtpd_reply_dsn_valid("5.7.1") &&
	       smtpd_reply_dsn_valid("4.999.999"),
	   "valid enhanced codes");
	ok(!smtpd_reply_dsn_valid("3.0.0") && !smtpd_reply_dsn_valid("5.0") &&
	       !smtpd_reply_dsn_valid("5.1000.0") &&
	       !smtpd_reply_dsn_valid("5.0.0 ") && !smtpd_reply_dsn_valid(""),
	   "invalid enhanced codes");
}

int
main(void)
{
	greeting_and_helo();
	mail_from();
	rcpt_local();
	relay_untrusted();
	relay_trusted();
	recipient_limit();
	data_flow();
	other_commands();
	probes();
	error_limits();
	endings();
	reply_table();
	smtpd_session_free(&S);
	return done_testing();
}
