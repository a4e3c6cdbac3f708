/*
 * smtpd_esmtp: the parser of MAIL and RCPT parameters and the transaction
 * state they leave (smtpd_esmtp.h).  The text is hostile client input,
 * counted, NUL-free (the dispatcher refuses NULs); values are decoded
 * into fixed buffers only after their decoded length is known to fit, and
 * checked by the one rule for each (dsn.c).  Pure; run by smtpd.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "smtpd_esmtp.h"
#include "xtext.h"

typedef enum smtpd_param_error (*param_fn)(const char *v, size_t vlen,
					   int has_value,
					   struct smtpd_params *out);

struct param_kind {
	const char *name;
	unsigned bit;
	int mail; /* 1: MAIL's; 0: RCPT's */
	param_fn fn;
};

/* A SIZE= value: decimal, saturated (the answer to "too big" is 552). */
static enum smtpd_param_error
param_size(const char *v, size_t len, int has_value, struct smtpd_params *out)
{
	size_t i, n = 0;

	if (!has_value || len == 0 || len > 20)
		return SMTPD_PARAM_BAD_SIZE;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return SMTPD_PARAM_BAD_SIZE;
		if (n > (SIZE_MAX - 9) / 10)
			n = SIZE_MAX;
		else
			n = n * 10 + (size_t)(v[i] - '0');
	}
	out->size = n;
	return SMTPD_PARAM_OK;
}

/* BODY=7BIT or 8BITMIME; BINARYMIME is not offered (no CHUNKING-only
 * binary content: every message is kept in lines). */
static enum smtpd_param_error
param_body(const char *v, size_t len, int has_value, struct smtpd_params *out)
{
	if (has_value && len == 4 && strncasecmp(v, "7BIT", 4) == 0)
		return SMTPD_PARAM_OK;
	if (has_value && len == 8 && strncasecmp(v, "8BITMIME", 8) == 0) {
		out->body_8bit = 1;
		return SMTPD_PARAM_OK;
	}
	return SMTPD_PARAM_UNKNOWN;
}

static enum smtpd_param_error
param_smtputf8(const char *v, size_t len, int has_value,
	       struct smtpd_params *out)
{
	return has_value ? SMTPD_PARAM_BAD_VALUE : SMTPD_PARAM_OK;
}

static enum smtpd_param_error
param_ret(const char *v, size_t len, int has_value, struct smtpd_params *out)
{
	out->ret = dsn_ret_parse(v, len);
	return out->ret == DSN_RET_NONE ? SMTPD_PARAM_BAD_VALUE
					: SMTPD_PARAM_OK;
}

/* Decode xtext into out (size bytes with the NUL); -1 when it does not. */
static int
param_xtext(const char *v, size_t len, char *out, size_t size, size_t *outlen)
{
	struct buf b = BUF_INIT;
	int r = -1;

	if (xtext_decode(v, len, &b) == 0 && b.len < size) {
		if (b.len > 0) /* an empty buf has no data */
			memcpy(out, b.data, b.len);
		out[b.len] = '\0';
		*outlen = b.len;
		r = 0;
	}
	buf_free(&b);
	return r;
}

static enum smtpd_param_error
param_envid(const char *v, size_t len, int has_value, struct smtpd_params *out)
{
	size_t n;

	if (!has_value ||
	    param_xtext(v, len, out->envid, sizeof(out->envid), &n) != 0 ||
	    !dsn_envid_ok(out->envid, n))
		return SMTPD_PARAM_BAD_VALUE;
	return SMTPD_PARAM_OK;
}

static enum smtpd_param_error
param_notify(const char *v, size_t len, int has_value, struct smtpd_params *out)
{
	if (!has_value || dsn_notify_parse(v, len, &out->notify) != 0)
		return SMTPD_PARAM_BAD_VALUE;
	return SMTPD_PARAM_OK;
}

/* ORCPT=addr-type;xtext: the type as given, the address decoded. */
static enum smtpd_param_error
param_orcpt(const char *v, size_t len, int has_value, struct smtpd_params *out)
{
	const char *semi = has_value ? memchr(v, ';', len) : NULL;
	size_t tlen = semi ? (size_t)(semi - v) : 0, n;

	if (semi == NULL || tlen + 1 >= sizeof(out->orcpt))
		return SMTPD_PARAM_BAD_VALUE;
	memcpy(out->orcpt, v, tlen + 1);
	if (param_xtext(semi + 1, len - tlen - 1, out->orcpt + tlen + 1,
			sizeof(out->orcpt) - tlen - 1, &n) != 0 ||
	    !dsn_orcpt_ok(out->orcpt, tlen + 1 + n))
		return SMTPD_PARAM_BAD_VALUE;
	return SMTPD_PARAM_OK;
}

static const struct param_kind param_kinds[] = {
    {"SIZE", SMTPD_P_SIZE, 1, param_size},
    {"BODY", SMTPD_P_BODY, 1, param_body},
    {"SMTPUTF8", SMTPD_P_SMTPUTF8, 1, param_smtputf8},
    {"RET", SMTPD_P_RET, 1, param_ret},
    {"ENVID", SMTPD_P_ENVID, 1, param_envid},
    {"NOTIFY", SMTPD_P_NOTIFY, 0, param_notify},
    {"ORCPT", SMTPD_P_ORCPT, 0, param_orcpt},
};

static const struct param_kind *
param_find(const char *k, size_t len, int mail)
{
	size_t i;

	for (i = 0; i < sizeof(param_kinds) / sizeof(param_kinds[0]); i++)
		if (param_kinds[i].mail == mail &&
		    strlen(param_kinds[i].name) == len &&
		    strncasecmp(param_kinds[i].name, k, len) == 0)
			return &param_kinds[i];
	return NULL;
}

/* One keyword[=value] word. */
static enum smtpd_param_error
param_one(const char *p, size_t n, int mail, struct smtpd_params *out,
	  struct smtpd_param_fault *fault)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;
	const struct param_kind *k = param_find(p, klen, mail);
	enum smtpd_param_error e;

	fault->param = p;
	fault->param_len = n;
	fault->keyword = k ? k->name : NULL;
	if (k == NULL)
		return SMTPD_PARAM_UNKNOWN;
	if (out->seen & k->bit)
		return SMTPD_PARAM_DUPLICATE;
	e = k->fn(eq ? eq + 1 : p + n, eq ? n - klen - 1 : 0, eq != NULL, out);
	if (e == SMTPD_PARAM_OK)
		out->seen |= k->bit;
	return e;
}

enum smtpd_param_error
smtpd_params_parse(const char *p, size_t len, int mail,
		   struct smtpd_params *out, struct smtpd_param_fault *fault)
{
	enum smtpd_param_error e;
	size_t i = 0, start;

	memset(out, 0, sizeof(*out));
	memset(fault, 0, sizeof(*fault));
	if (len > 0 && p[0] != ' ')
		return SMTPD_PARAM_SYNTAX;
	while (i < len) {
		while (i < len && p[i] == ' ')
			i++;
		start = i;
		while (i < len && p[i] != ' ')
			i++;
		if (i == start)
			break;
		e = param_one(p + start, i - start, mail, out, fault);
		if (e != SMTPD_PARAM_OK)
			return e;
	}
	return SMTPD_PARAM_OK;
}

void
smtpd_esmtp_mail(struct smtpd_esmtp *x, const struct smtpd_params *p)
{
	x->smtputf8 = (p->seen & SMTPD_P_SMTPUTF8) != 0;
	x->ret = p->ret;
	strlcpy(x->envid, (p->seen & SMTPD_P_ENVID) ? p->envid : "",
		sizeof(x->envid));
}

void
smtpd_esmtp_rcpt(struct smtpd_esmtp *x, const struct smtpd_params *p)
{
	struct smtpd_rcpt_dsn *r;

	if (x->rcpt_count == x->rcpt_cap) {
		x->rcpt_cap = x->rcpt_cap ? x->rcpt_cap * 2 : 8;
		x->rcpt = xreallocarray(x->rcpt, x->rcpt_cap, sizeof(*x->rcpt));
	}
	r = &x->rcpt[x->rcpt_count++];
	r->notify = (p->seen & SMTPD_P_NOTIFY) ? p->notify : 0;
	r->orcpt = (p->seen & SMTPD_P_ORCPT) ? xstrdup(p->orcpt) : NULL;
}

void
smtpd_esmtp_reset(struct smtpd_esmtp *x)
{
	size_t i;

	for (i = 0; i < x->rcpt_count; i++)
		free(x->rcpt[i].orcpt);
	x->rcpt_count = 0;
	x->smtputf8 = 0;
	x->ret = DSN_RET_NONE;
	x->envid[0] = '\0';
	x->bdat = 0;
	x->bdat_total = 0;
	x->chunk_size = 0;
	x->chunk_last = 0;
	x->chunk_store = 0;
}

void
smtpd_esmtp_free(struct smtpd_esmtp *x)
{
	smtpd_esmtp_reset(x);
	free(x->rcpt);
	x->rcpt = NULL;
	x->rcpt_cap = 0;
}
