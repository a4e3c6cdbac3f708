/*
 * smtpd_tables: the four restriction lists and their tables (see
 * smtpd_tables.h).  Each table is opened once however many restrictions
 * name it.  A rebuilt LMDB map makes the process finish its sessions and
 * exit, to be restarted with the new one (map_changed), as
 * smtpd_sender_login_maps does.  Run by smtpd: loading as root before
 * the chroot, lookups after the drop.
 */
#include <string.h>

#include "cidr_table.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "server.h"
#include "smtpd_tables.h"

#define TABLES_MAX (SMTPD_STAGES * RESTRICTIONS_MAX)

struct smtpd_table {
	enum restriction_table type;
	const char *path;
	struct map *map;
	struct cidr_table cidr;
};

static const char *const smtpd_list_params[SMTPD_STAGES] = {
    "smtpd_client_restrictions", "smtpd_helo_restrictions",
    "smtpd_sender_restrictions", "smtpd_recipient_restrictions"};

static struct restriction smtpd_lists[SMTPD_STAGES][RESTRICTIONS_MAX];
static struct smtpd_table smtpd_tables[TABLES_MAX];
static size_t smtpd_ntables;

static int
smtpd_table_lookup(void *ctx, const struct restriction *r, const char *key,
		   struct buf *value)
{
	struct smtpd_table *t;
	const char *v;

	(void)ctx;
	if (r->index < 0 || (size_t)r->index >= smtpd_ntables)
		return -1;
	t = &smtpd_tables[r->index];
	if (t->type == TABLE_CIDR) {
		if ((v = cidr_table_lookup(&t->cidr, key)) == NULL)
			return 0;
		buf_append_str(value, v);
		return 1;
	}
	if (map_changed(t->map))
		server_wind_down();
	return map_lookup(t->map, key, value);
}

/* The table r names: one already open, or a new one; fatal on error. */
static int
smtpd_table_open(const char *param, const struct restriction *r)
{
	struct smtpd_table *t;
	struct buf err = BUF_INIT;
	size_t i;

	for (i = 0; i < smtpd_ntables; i++)
		if (smtpd_tables[i].type == r->table &&
		    strcmp(smtpd_tables[i].path, r->arg) == 0)
			return (int)i;
	t = &smtpd_tables[smtpd_ntables];
	t->type = r->table;
	t->path = xstrdup(r->arg);
	if (r->table == TABLE_CIDR) {
		if (cidr_table_load(r->arg, &t->cidr, &err) != 0)
			log_fatal("%s: %s cidr:%s: %s", param,
				  restriction_name(r->kind), r->arg,
				  buf_cstr(&err));
	} else if ((t->map = map_open(r->arg, &err)) == NULL) {
		log_fatal("%s: %s %s: %s (build it with moat map build %s)",
			  param, restriction_name(r->kind), r->arg,
			  buf_cstr(&err), r->arg);
	}
	buf_free(&err);
	return (int)smtpd_ntables++;
}

static void
smtpd_list_load(struct smtpd_security *sec, enum smtpd_stage st)
{
	const char *param = smtpd_list_params[st];
	const char *const *words;
	size_t i, n = param_list(param, &words), count;
	struct buf err = BUF_INIT;
	struct restriction *r;

	if (restriction_list_parse(words, n, smtpd_lists[st], RESTRICTIONS_MAX,
				   &count, &err) != 0)
		log_fatal("%s: %s", param, buf_cstr(&err));
	for (i = 0; i < count; i++) {
		r = &smtpd_lists[st][i];
		if (r->table != TABLE_NONE)
			r->index = smtpd_table_open(param, r);
	}
	sec->list[st].item = smtpd_lists[st];
	sec->list[st].n = count;
	buf_free(&err);
}

void
smtpd_tables_load(struct smtpd_security *sec)
{
	const struct smtpd_restriction_list *rl;
	int st;
	size_t i;

	for (st = 0; st < SMTPD_STAGES; st++)
		smtpd_list_load(sec, (enum smtpd_stage)st);
	rl = &sec->list[SMTPD_STAGE_RCPT];
	for (i = 0; i < rl->n; i++)
		if (rl->item[i].kind == RESTRICT_REJECT_UNAUTH_DESTINATION ||
		    rl->item[i].kind == RESTRICT_REJECT ||
		    rl->item[i].kind == RESTRICT_DEFER)
			break;
	if (rl->n == 0 || i == rl->n)
		log_fatal("smtpd_recipient_restrictions: name "
			  "reject_unauth_destination (or reject, or defer): "
			  "without it anyone could relay through this host");
	sec->access = smtpd_table_lookup;
	sec->accept_unlisted = !param_bool("smtpd_reject_unlisted_recipient");
	sec->unknown_client_code = (int)param_int("unknown_client_reject_code");
	sec->rbl_reject_code = (int)param_int("maps_rbl_reject_code");
}
