/*
 * smtpd_tables: the restriction lists of smtpd's parameters and the
 * tables they name, read before the drop (the LMDB maps opened, the
 * CIDR tables parsed into memory), and the lookups smtpd_restrict.c
 * makes in them after it.  A list that does not parse, a table that
 * cannot be opened or a recipient list that could let anyone relay stop
 * the start with a message naming the parameter (and FILE:LINE for a
 * CIDR table).  Input: root-owned parameters and files.  Run by smtpd.
 */
#ifndef MOAT_SMTPD_TABLES_H
#define MOAT_SMTPD_TABLES_H

#include "smtpd_security.h"

/* Start-up: fill sec's lists, access callback and codes; fatal on error. */
void smtpd_tables_load(struct smtpd_security *sec);

#endif
