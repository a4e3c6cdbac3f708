/*
 * smtpd_esmtp: the ESMTP parameters of MAIL FROM and RCPT TO (RFC 5321
 * 4.1.2): SIZE and BODY (RFC 1870, 6152), SMTPUTF8 (RFC 6531), RET,
 * ENVID, NOTIFY and ORCPT (RFC 3461, xtext decoded), and what one
 * transaction keeps of them for cleanup.  The parser is pure: it takes
 * the hostile text after the path and fills a struct; the session turns
 * its verdict into a reply.  One table of keywords: a new parameter (AUTH=
 * of RFC 4954) is one line there.  Run by smtpd, its unit tests and the
 * fuzz targets.
 */
#ifndef MOAT_SMTPD_ESMTP_H
#define MOAT_SMTPD_ESMTP_H

#include <stddef.h>

#include "dsn.h"

/* Which parameters were given (the seen mask). */
#define SMTPD_P_SIZE 0x01
#define SMTPD_P_BODY 0x02
#define SMTPD_P_SMTPUTF8 0x04
#define SMTPD_P_RET 0x08
#define SMTPD_P_ENVID 0x10
#define SMTPD_P_NOTIFY 0x20
#define SMTPD_P_ORCPT 0x40

/* The parameters of one MAIL or RCPT command. */
struct smtpd_params {
	unsigned seen;
	size_t size;   /* SIZE=, saturated at SIZE_MAX */
	int body_8bit; /* BODY=8BITMIME (BINARYMIME is not offered) */
	enum dsn_ret ret;
	char envid[DSN_ENVID_MAX + 1]; /* decoded */
	unsigned notify;               /* DSN_NOTIFY_* bits */
	char orcpt[DSN_ORCPT_MAX + 1]; /* "type;address", decoded */
};

enum smtpd_param_error {
	SMTPD_PARAM_OK = 0,
	SMTPD_PARAM_SYNTAX,    /* no blank before the parameters */
	SMTPD_PARAM_UNKNOWN,   /* not offered: 555 Unsupported option */
	SMTPD_PARAM_BAD_SIZE,  /* SIZE= not a number */
	SMTPD_PARAM_BAD_VALUE, /* a known keyword with a bad value */
	SMTPD_PARAM_DUPLICATE, /* a keyword twice */
};

/* Where a refusal points: the parameter and its keyword's name. */
struct smtpd_param_fault {
	const char *param; /* into the input; param_len bytes */
	size_t param_len;
	const char *keyword; /* "NOTIFY"..., NULL when unknown */
};

/*
 * Parse p[0..len), the text after the path: empty, or a blank and
 * blank-separated keyword[=value] words.  mail: MAIL's parameters (SIZE,
 * BODY, SMTPUTF8, RET, ENVID), else RCPT's (NOTIFY, ORCPT).  Keywords are
 * matched in any case.  Returns SMTPD_PARAM_OK with out filled, or the
 * error with fault set.
 */
enum smtpd_param_error smtpd_params_parse(const char *p, size_t len, int mail,
					  struct smtpd_params *out,
					  struct smtpd_param_fault *fault);

/* What a recipient keeps of RCPT's DSN parameters. */
struct smtpd_rcpt_dsn {
	unsigned notify; /* 0: none given */
	char *orcpt;     /* NULL: none given */
};

/* What the transaction keeps (struct smtpd_session's ext). */
struct smtpd_esmtp {
	int smtputf8;                  /* MAIL FROM ... SMTPUTF8 */
	enum dsn_ret ret;              /* RET= */
	char envid[DSN_ENVID_MAX + 1]; /* ENVID=, "" when none */
	struct smtpd_rcpt_dsn *rcpt;   /* one per accepted recipient */
	size_t rcpt_count, rcpt_cap;
	/* CHUNKING (smtpd_bdat.c) */
	int bdat;          /* a BDAT transaction holds cleanup open */
	size_t bdat_total; /* chunk sizes announced so far */
	size_t chunk_size; /* the chunk the caller must take now */
	int chunk_last;    /* it is the LAST one */
	int chunk_store;   /* 1: to cleanup; 0: read and discard */
};

/* Keep MAIL's parameters for the transaction. */
void smtpd_esmtp_mail(struct smtpd_esmtp *x, const struct smtpd_params *p);
/* Keep RCPT's for the recipient just accepted. */
void smtpd_esmtp_rcpt(struct smtpd_esmtp *x, const struct smtpd_params *p);
/* Forget the transaction (RSET, HELO, end of message). */
void smtpd_esmtp_reset(struct smtpd_esmtp *x);
void smtpd_esmtp_free(struct smtpd_esmtp *x);

#endif
