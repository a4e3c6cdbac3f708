/*
 * cidr_table: a table of networks in the syntax of Postfix's
 * cidr_table(5), for check_client_access cidr:/path.  One entry a
 * logical line: "network/prefix action" or "address action" (IPv4 or
 * IPv6, brackets optional), '#' comments, blank lines, and lines that
 * start with white space continue the previous one.  A network with
 * host bits set beyond its prefix is an error (the administrator meant
 * another network).  The first entry that matches wins, in file order.
 * The table is read when smtpd starts (before the chroot) and held in
 * memory.  Input: a root-owned file, parsed with bounds all the same
 * (fuzzed).  Pure but for cidr_table_load; run by smtpd and moat check.
 */
#ifndef MOAT_CIDR_TABLE_H
#define MOAT_CIDR_TABLE_H

#include <stddef.h>

#include "buf.h"
#include "smtpd_access.h"

#define CIDR_TABLE_FILE_MAX (16 * 1024 * 1024)
#define CIDR_VALUE_MAX 1024

struct cidr_entry {
	struct smtpd_net net;
	char *value;
	unsigned lineno;
};

struct cidr_table {
	struct cidr_entry *entry;
	size_t n, cap;
};

/*
 * Parse text into t (which starts zeroed); -1 with "FILE:LINE: reason"
 * in err, t holding the entries before the error.
 */
int cidr_table_parse(const char *text, size_t len, const char *filename,
		     struct cidr_table *t, struct buf *err);
/* The value of the first entry whose network holds addr, or NULL. */
const char *cidr_table_lookup(const struct cidr_table *t, const char *addr);
void cidr_table_free(struct cidr_table *t);
/* Read and parse the file path (start-up, not pure); -1 with err. */
int cidr_table_load(const char *path, struct cidr_table *t, struct buf *err);

#endif
