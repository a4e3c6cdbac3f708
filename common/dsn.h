/*
 * dsn: the delivery status notification parameters of RFC 3461 as Moat
 * keeps them: NOTIFY (per recipient) as bits, RET and ENVID (per
 * message), ORCPT (per recipient) as "addr-type;address" decoded from
 * xtext.  The same parsers read them from an SMTP client (smtpd), from
 * peers (cleanup) and from queue files (queue_file.c), so one rule
 * decides what each may hold.  Pure; input hostile and length-counted.
 */
#ifndef MOAT_DSN_H
#define MOAT_DSN_H

#include <stddef.h>

/* NOTIFY; 0 means the client gave none (then FAILURE and DELAY). */
#define DSN_NOTIFY_NEVER 0x01
#define DSN_NOTIFY_SUCCESS 0x02
#define DSN_NOTIFY_FAILURE 0x04
#define DSN_NOTIFY_DELAY 0x08
#define DSN_NOTIFY_TEXT_MAX 32 /* "SUCCESS,FAILURE,DELAY" and its NUL */

enum dsn_ret { DSN_RET_NONE = 0, DSN_RET_FULL, DSN_RET_HDRS };

#define DSN_ENVID_MAX 100 /* RFC 3461 4.4, decoded */
#define DSN_ORCPT_MAX 500 /* RFC 3461 4.2, "type;address" decoded */

/*
 * "NEVER", or a comma list of SUCCESS, FAILURE and DELAY (any case, no
 * blanks, each at most once).  The bits, or -1.
 */
int dsn_notify_parse(const char *s, size_t len, unsigned *out);
/* The canonical text of non-zero bits: "NEVER" or "SUCCESS,DELAY"... */
void dsn_notify_format(unsigned notify, char out[DSN_NOTIFY_TEXT_MAX]);
/*
 * 1 when a notice of the kind (DSN_NOTIFY_SUCCESS, _FAILURE, _DELAY) is
 * due for a recipient with these bits: without NOTIFY, failures and
 * delays are, successes not (RFC 3461 4.1).
 */
int dsn_notify_wants(unsigned notify, unsigned kind);

/* "FULL" or "HDRS", any case; DSN_RET_NONE when neither. */
enum dsn_ret dsn_ret_parse(const char *s, size_t len);
/* "FULL", "HDRS", or NULL for DSN_RET_NONE. */
const char *dsn_ret_name(enum dsn_ret ret);

/* A decoded ENVID: 1 to DSN_ENVID_MAX printable US-ASCII bytes. */
int dsn_envid_ok(const char *s, size_t len);
/*
 * A decoded ORCPT: an addr-type (letters, digits, '-'), ';', then an
 * address of UTF-8 text without controls, at most DSN_ORCPT_MAX bytes.
 */
int dsn_orcpt_ok(const char *s, size_t len);

#endif
