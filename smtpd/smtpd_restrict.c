/*
 * smtpd_restrict: the restriction lists at RCPT TO, Postfix's way with
 * smtpd_delay_reject = yes: smtpd_client_restrictions, then
 * smtpd_helo_restrictions, smtpd_sender_restrictions and
 * smtpd_recipient_restrictions, each restriction in order.  In a list,
 * the first restriction that permits ends that list (the next list is
 * still applied) and the first that refuses ends them all; a list that
 * runs out decides nothing.  Then, unless smtpd_reject_unlisted_recipient
 * is off, an unknown local recipient is refused even after a permit.
 * A DNS list (reject_rbl_client, reject_rhsbl_sender) whose answer is
 * not in yet makes the RCPT wait for it: nothing is said, and the
 * command comes again when the answer is in (smtpd_dnsbl.h).
 * Input: the session's hostile client text, already parsed (HELO is one
 * printable word, addresses come from the one address parser), the
 * administrator's table values (access.h) and the DNS lists' answers
 * (hostile, kept bounded and cleaned by smtpd_dnsbl.c).  Pure: tables
 * are read through the policy's callback.  Run by smtpd.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "access.h"
#include "smtpd_access.h"
#include "smtpd_cmd.h"
#include "smtpd_dnsbl.h"
#include "smtpd_security.h"

#define REPLY_TEXT_MAX 1024

/* Postfix's default codes. */
#define REJECT_CODE 554 /* reject, access_map_reject_code */
#define DEFER_CODE 450  /* defer, access_map_defer_code */
#define UNKNOWN_CLIENT_CODE 450
#define NON_FQDN_CODE 504
#define INVALID_HOSTNAME_CODE 501
#define RBL_CODE 554     /* maps_rbl_reject_code */
#define RBL_LINE_MAX 512 /* a reply line, RFC 5321 4.5.3.1.5 */

/* V_WAIT: a DNS list's answer is still in flight (nothing said). */
enum verdict { V_DUNNO, V_PERMIT, V_REFUSED, V_WAIT };

struct rcpt_ctx {
	struct smtpd_session *s;
	const struct address *rcpt;
	const char *text; /* the recipient, formatted */
	enum smtpd_action act;
};

static const struct restriction default_rcpt[] = {
    {.kind = RESTRICT_PERMIT_MYNETWORKS, .index = -1},
    {.kind = RESTRICT_PERMIT_SASL_AUTHENTICATED, .index = -1},
    {.kind = RESTRICT_REJECT_UNAUTH_DESTINATION, .index = -1},
    {.kind = RESTRICT_REJECT_UNLISTED_RECIPIENT, .index = -1},
};

/* "<subject>: What rejected: " of a stage. */
static void
subject(const struct rcpt_ctx *c, enum smtpd_stage st, struct buf *out)
{
	char client[SMTPD_ADDR_TEXT + SMTPD_NAME_TEXT + 2];

	switch (st) {
	case SMTPD_STAGE_CLIENT:
		buf_printf(out, "<%s>: Client host rejected: ",
			   smtpd_session_client(c->s, client, sizeof(client)));
		break;
	case SMTPD_STAGE_HELO:
		buf_printf(out, "<%s>: Helo command rejected: ", c->s->helo);
		break;
	case SMTPD_STAGE_SENDER:
		buf_printf(out,
			   "<%s>: Sender address rejected: ", c->s->sender);
		break;
	default:
		buf_printf(out, "<%s>: Recipient address rejected: ", c->text);
		break;
	}
}

/* Refuse with code, dsn and text (made safe by the caller); log it. */
static enum verdict refuse(struct rcpt_ctx *c, int code, const char *dsn,
			   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum verdict
refuse(struct rcpt_ctx *c, int code, const char *dsn, const char *fmt, ...)
{
	struct buf text = BUF_INIT, line = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	smtpd_reply_put_custom(&line, code, dsn, buf_cstr(&text), 0);
	smtpd_session_log_reject(c->s, "RCPT", &line, c->text);
	buf_append(&c->s->reply, line.data, line.len);
	c->act = smtpd_session_account(c->s, code);
	buf_free(&text);
	buf_free(&line);
	return V_REFUSED;
}

/* A reply from the table: refuse with "<subject>: What rejected: ". */
static enum verdict
refuse_as(struct rcpt_ctx *c, enum smtpd_stage st, int code, const char *dsn,
	  const char *text)
{
	struct buf subj = BUF_INIT;
	char def_dsn[16];
	enum verdict v;

	if (dsn == NULL || dsn[0] == '\0') {
		snprintf(def_dsn, sizeof(def_dsn), "%d.7.1", code / 100);
		dsn = def_dsn;
	}
	subject(c, st, &subj);
	v = refuse(c, code, dsn, "%s%s", buf_cstr(&subj),
		   text[0] != '\0' ? text : "Access denied");
	buf_free(&subj);
	return v;
}

static enum verdict
refuse_id(struct rcpt_ctx *c, enum smtpd_reply_id id, const char *arg)
{
	c->act = smtpd_session_reject(c->s, "RCPT", id, arg, c->text);
	return V_REFUSED;
}

/* What stage's name a check_*_access or other restriction speaks for. */
static enum smtpd_stage
stage_of(enum restriction_kind k, enum smtpd_stage list)
{
	switch (k) {
	case RESTRICT_CHECK_CLIENT_ACCESS:
	case RESTRICT_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME:
	case RESTRICT_REJECT_RBL_CLIENT:
		return SMTPD_STAGE_CLIENT;
	case RESTRICT_CHECK_HELO_ACCESS:
	case RESTRICT_REJECT_NON_FQDN_HELO_HOSTNAME:
	case RESTRICT_REJECT_INVALID_HELO_HOSTNAME:
		return SMTPD_STAGE_HELO;
	case RESTRICT_CHECK_SENDER_ACCESS:
	case RESTRICT_REJECT_NON_FQDN_SENDER:
	case RESTRICT_REJECT_RHSBL_SENDER:
		return SMTPD_STAGE_SENDER;
	case RESTRICT_CHECK_RECIPIENT_ACCESS:
	case RESTRICT_REJECT_NON_FQDN_RECIPIENT:
		return SMTPD_STAGE_RCPT;
	default:
		return list;
	}
}

/* One table value: its action. */
static enum verdict
apply_action(struct rcpt_ctx *c, const struct restriction *r,
	     enum smtpd_stage st, const struct buf *value)
{
	struct access_action a;

	switch (access_action_parse(value->data, value->len, &a)) {
	case ACCESS_OK:
		return V_PERMIT;
	case ACCESS_DUNNO:
		return V_DUNNO;
	case ACCESS_REJECT:
		return refuse_as(c, st, a.code ? a.code : REJECT_CODE, a.dsn,
				 a.text);
	case ACCESS_DEFER:
		return refuse_as(c, st, a.code ? a.code : DEFER_CODE, a.dsn,
				 a.text);
	case ACCESS_BAD:
		break;
	}
	smtpd_session_log(c->s,
			  "warning: %s %s: value \"%s\" is no access "
			  "action",
			  restriction_name(r->kind), r->arg, a.text);
	return refuse(c, 451, "4.3.5", "Server configuration error");
}

/* The keys a check_*_access tries, in access(5)'s order. */
static void
access_keys(const struct rcpt_ctx *c, enum restriction_kind k,
	    struct access_keys *keys)
{
	keys->n = 0;
	switch (k) {
	case RESTRICT_CHECK_CLIENT_ACCESS:
		if (c->s->rdns == SMTPD_RDNS_OK)
			access_keys_domain(c->s->client_name, keys);
		access_keys_client_addr(c->s->client_addr, keys);
		break;
	case RESTRICT_CHECK_HELO_ACCESS:
		access_keys_domain(c->s->helo, keys);
		break;
	case RESTRICT_CHECK_SENDER_ACCESS:
		access_keys_address(c->s->sender, keys);
		break;
	default:
		access_keys_address(c->text, keys);
		break;
	}
}

static enum verdict
check_access(struct rcpt_ctx *c, const struct restriction *r,
	     enum smtpd_stage st)
{
	const struct smtpd_security *sec = c->s->cfg->sec;
	struct access_keys keys; /* 52 KB, on the stack only here */
	struct buf value = BUF_INIT;
	enum verdict v = V_DUNNO;
	size_t i;
	int found = 0;

	if (r->table == TABLE_CIDR) {
		keys.n = 1;
		strlcpy(keys.key[0], c->s->client_addr, sizeof(keys.key[0]));
	} else {
		access_keys(c, r->kind, &keys);
	}
	for (i = 0; i < keys.n && found == 0; i++) {
		buf_reset(&value);
		found = sec->access(sec->ctx, r, keys.key[i], &value);
	}
	if (found < 0) {
		struct buf subj = BUF_INIT;
		subject(c, st, &subj);
		/* "<x>: Client host rejected: " up to the colon */
		v = refuse(c, 451, "4.3.0", "%.*s: Temporary lookup failure",
			   (int)strcspn(buf_cstr(&subj), ":"), buf_cstr(&subj));
		buf_free(&subj);
	} else if (found == 1) {
		v = apply_action(c, r, st, &value);
	}
	buf_free(&value);
	return v;
}

/* RFC 1035 host name: letters, digits, '-' inside labels of 1 to 63. */
static int
hostname_valid(const char *h)
{
	size_t label = 0, i, len = strlen(h);

	if (len == 0 || len > 255)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = h[i];
		if (ch == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') ||
			   (ch == '-' && label > 0) || ch == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return h[len - 1] != '-';
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]". */
static int
literal_valid(const char *h)
{
	struct smtpd_net n;
	size_t len = strlen(h);

	if (len < 3 || h[0] != '[' || h[len - 1] != ']')
		return 0;
	if (len > 7 && strncasecmp(h + 1, "IPv6:", 5) == 0)
		return smtpd_access_parse_net(h + 6, len - 7, &n) == 0 &&
		       n.family == AF_INET6 && n.prefix == 128;
	return smtpd_access_parse_net(h + 1, len - 2, &n) == 0 &&
	       n.family == AF_INET && n.prefix == 32;
}

static enum verdict
check_helo(struct rcpt_ctx *c, enum restriction_kind k)
{
	const char *h = c->s->helo;

	if (h[0] == '\0' || literal_valid(h))
		return V_DUNNO;
	if (k == RESTRICT_REJECT_INVALID_HELO_HOSTNAME && !hostname_valid(h))
		return refuse(c, INVALID_HOSTNAME_CODE, "5.5.2",
			      "<%s>: Helo command rejected: Invalid name", h);
	if (k == RESTRICT_REJECT_NON_FQDN_HELO_HOSTNAME &&
	    (!hostname_valid(h) || strchr(h, '.') == NULL ||
	     h[strlen(h) - 1] == '.'))
		return refuse(c, NON_FQDN_CODE, "5.5.2",
			      "<%s>: Helo command rejected: need "
			      "fully-qualified hostname",
			      h);
	return V_DUNNO;
}

/* An address's domain is a name with a dot, or an address literal. */
static int
address_fqdn(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return addr[0] == '\0' ||
	       (at != NULL && (at[1] == '[' || strchr(at + 1, '.') != NULL));
}

static enum verdict
check_fqdn(struct rcpt_ctx *c, enum restriction_kind k)
{
	int sender = k == RESTRICT_REJECT_NON_FQDN_SENDER;
	const char *addr = sender ? c->s->sender : c->text;

	if (address_fqdn(addr))
		return V_DUNNO;
	return refuse(c, NON_FQDN_CODE, "5.5.2",
		      "<%s>: %s address rejected: need fully-qualified "
		      "address",
		      addr, sender ? "Sender" : "Recipient");
}

static enum verdict
check_reverse(struct rcpt_ctx *c)
{
	const struct smtpd_security *sec = c->s->cfg->sec;
	int code = sec != NULL && sec->unknown_client_code != 0
		       ? sec->unknown_client_code
		       : UNKNOWN_CLIENT_CODE;

	/* XXX SMTPD_RDNS_NONE (not looked up) decides nothing. */
	if (c->s->rdns == SMTPD_RDNS_TEMP)
		code = 450;
	else if (c->s->rdns != SMTPD_RDNS_FAIL)
		return V_DUNNO;
	return refuse(c, code, code < 500 ? "4.7.25" : "5.7.25",
		      "Client host rejected: cannot find your reverse "
		      "hostname, [%s]",
		      c->s->client_addr);
}

/* reject_unauth_destination and reject_unlisted_recipient. */
static enum verdict
check_destination(struct rcpt_ctx *c, enum restriction_kind k)
{
	const struct smtpd_lookup *l = c->s->lookup;
	int r = l->domain_is_local(l->ctx, c->rcpt->domain);

	if (r < 0)
		return refuse_id(c, SMTPD_R_LOOKUP_FAILED, c->text);
	if (k == RESTRICT_REJECT_UNAUTH_DESTINATION)
		return r == 0 ? refuse_id(c, SMTPD_R_RELAY_DENIED, c->text)
			      : V_DUNNO;
	if (r == 0)
		return V_DUNNO;
	r = l->local_user_exists(l->ctx, c->rcpt->local);
	if (r == 1)
		return V_DUNNO;
	return refuse_id(
	    c, r == 0 ? SMTPD_R_USER_UNKNOWN : SMTPD_R_LOOKUP_FAILED, c->text);
}

/* The answer of list about the client, or about the sender's domain. */
static const struct smtpd_dnsbl_answer *
dnsbl_answer(const struct smtpd_session *s, const char *list, int sender)
{
	const struct smtpd_dnsbl_set *set = s->dnsbl;
	size_t i;

	for (i = 0; set != NULL && i < set->n; i++)
		if (set->answer[i].sender == sender &&
		    strcmp(set->answer[i].list, list) == 0)
			return &set->answer[i];
	return NULL;
}

/*
 * reject_rbl_client and reject_rhsbl_sender: listed when the list
 * answered an A record its filter takes.  Not asked (no address, no
 * sender domain, no resolver) or failed: not listed.
 */
static enum verdict
check_dnsbl(struct rcpt_ctx *c, const struct restriction *r)
{
	const struct smtpd_security *sec = c->s->cfg->sec;
	int sender = r->kind == RESTRICT_REJECT_RHSBL_SENDER;
	const char *what = sender ? smtpd_dnsbl_sender_domain(c->s->sender)
				  : c->s->client_addr;
	const struct smtpd_dnsbl_answer *a =
	    dnsbl_answer(c->s, r->dnsbl.domain, sender);
	int code = sec != NULL && sec->rbl_reject_code != 0
		       ? sec->rbl_reject_code
		       : RBL_CODE;
	size_t room;

	if (a == NULL || a->state == SMTPD_DNSBL_NONE || what[0] == '\0' ||
	    (sender && strcmp(a->about, what) != 0))
		return V_DUNNO;
	if (a->state == SMTPD_DNSBL_PENDING)
		return V_WAIT;
	if (!dnsbl_listed(&r->dnsbl, a->addr, a->naddr))
		return V_DUNNO;
	/* The list's text is cut to keep the line within 512 bytes. */
	room = sizeof("554 5.7.1 Service unavailable; Sender address [] "
		      "blocked using ; \r\n") +
	       strlen(what) + strlen(a->list);
	room = room < RBL_LINE_MAX ? RBL_LINE_MAX - room : 0;
	return refuse(c, code, code < 500 ? "4.7.1" : "5.7.1",
		      "Service unavailable; %s [%s] blocked using %s%s%.*s",
		      sender ? "Sender address" : "Client host", what, a->list,
		      a->text[0] != '\0' && room > 0 ? "; " : "", (int)room,
		      a->text);
}

static enum verdict
check_one(struct rcpt_ctx *c, const struct restriction *r,
	  enum smtpd_stage list)
{
	enum smtpd_stage st = stage_of(r->kind, list);
	int id;

	switch (r->kind) {
	case RESTRICT_PERMIT:
		return V_PERMIT;
	case RESTRICT_REJECT:
		return refuse_as(c, st, REJECT_CODE, NULL, "");
	case RESTRICT_DEFER:
		return refuse_as(c, st, DEFER_CODE, NULL, "");
	case RESTRICT_PERMIT_MYNETWORKS:
		return c->s->trusted ? V_PERMIT : V_DUNNO;
	case RESTRICT_PERMIT_SASL_AUTHENTICATED:
		return c->s->sec.authenticated ? V_PERMIT : V_DUNNO;
	case RESTRICT_REJECT_UNAUTH_DESTINATION:
	case RESTRICT_REJECT_UNLISTED_RECIPIENT:
		return check_destination(c, r->kind);
	case RESTRICT_REJECT_NON_FQDN_HELO_HOSTNAME:
	case RESTRICT_REJECT_INVALID_HELO_HOSTNAME:
		return check_helo(c, r->kind);
	case RESTRICT_REJECT_NON_FQDN_SENDER:
	case RESTRICT_REJECT_NON_FQDN_RECIPIENT:
		return check_fqdn(c, r->kind);
	case RESTRICT_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME:
		return check_reverse(c);
	case RESTRICT_REJECT_SENDER_LOGIN_MISMATCH:
	case RESTRICT_REJECT_AUTH_SENDER_LOGIN_MISMATCH:
	case RESTRICT_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH:
		id = smtpd_sender_login_mismatch(c->s, r->kind, c->s->sender);
		return id < 0 ? V_DUNNO
			      : refuse_id(c, (enum smtpd_reply_id)id,
					  c->s->sender);
	case RESTRICT_CHECK_CLIENT_ACCESS:
	case RESTRICT_CHECK_HELO_ACCESS:
	case RESTRICT_CHECK_SENDER_ACCESS:
	case RESTRICT_CHECK_RECIPIENT_ACCESS:
		if (c->s->cfg->sec == NULL || c->s->cfg->sec->access == NULL)
			return V_DUNNO;
		return check_access(c, r, st);
	case RESTRICT_REJECT_RBL_CLIENT:
	case RESTRICT_REJECT_RHSBL_SENDER:
		return check_dnsbl(c, r);
	}
	return V_DUNNO;
}

static enum verdict
check_list(struct rcpt_ctx *c, enum smtpd_stage st)
{
	const struct smtpd_security *sec = c->s->cfg->sec;
	const struct restriction *item = NULL;
	enum verdict v = V_DUNNO;
	size_t i, n = 0;

	if (sec != NULL) {
		item = sec->list[st].item;
		n = sec->list[st].n;
	}
	if (st == SMTPD_STAGE_RCPT && n == 0) {
		item = default_rcpt;
		n = sizeof(default_rcpt) / sizeof(default_rcpt[0]);
	}
	for (i = 0; i < n && v == V_DUNNO; i++)
		v = check_one(c, &item[i], st);
	return v;
}

int
smtpd_restrict_rcpt(struct smtpd_session *s, const struct address *rcpt,
		    const char *text, int bare, enum smtpd_action *act)
{
	static const struct restriction unlisted = {
	    .kind = RESTRICT_REJECT_UNLISTED_RECIPIENT, .index = -1};
	const struct smtpd_security *sec = s->cfg->sec;
	struct rcpt_ctx c = {s, rcpt, text, SMTPD_ACT_REPLY};
	int st, last = bare ? SMTPD_STAGE_RCPT : SMTPD_STAGES;

	/* Routing tricks are no one's but a trusted client's. */
	if ((rcpt->flags & ADDR_F_RELAY_HACKS) && !s->trusted &&
	    !s->sec.authenticated) {
		refuse_id(&c, SMTPD_R_ROUTING_DENIED, text);
		*act = c.act;
		return -1;
	}
	for (st = 0; st < last; st++)
		switch (check_list(&c, (enum smtpd_stage)st)) {
		case V_REFUSED:
			*act = c.act;
			return -1;
		case V_WAIT:
			return 1;
		default:
			break;
		}
	if (!bare && (sec == NULL || !sec->accept_unlisted) &&
	    check_one(&c, &unlisted, SMTPD_STAGE_RCPT) == V_REFUSED) {
		*act = c.act;
		return -1;
	}
	return 0;
}
