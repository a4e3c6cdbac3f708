/*
 * moat_check_restrict: the part of `moat check` about an smtpd service's
 * restriction lists (smtpd_client_, _helo_, _sender_ and
 * _recipient_restrictions, with the line's -o overrides): each word
 * known, each table there (an LMDB map built, fresh and root's; a CIDR
 * table that parses, its errors named FILE:LINE), the login map where a
 * sender login check needs it, and a recipient list that cannot let
 * anyone relay.  The same rules smtpd applies when it starts.  Input:
 * the instance's files, read as root.  Runs in the moat command.
 */
#include <stdlib.h>
#include <string.h>

#include "cidr_table.h"
#include "moat.h"
#include "restriction.h"
#include "service_table.h"

#define WORDS_MAX (2 * RESTRICTIONS_MAX + 1)

static const char *const moat_list_params[] = {
    "smtpd_client_restrictions", "smtpd_helo_restrictions",
    "smtpd_sender_restrictions", "smtpd_recipient_restrictions"};

static void
moat_check_table(const struct service *svc, const char *param,
		 const struct restriction *r)
{
	struct cidr_table t = {0};
	struct buf err = BUF_INIT;

	if (r->table == TABLE_LMDB) {
		moat_check_secret_map(r->arg, 0);
	} else if (cidr_table_load(r->arg, &t, &err) != 0) {
		moat_problem("master.conf:%u: service %s: %s: %s", svc->lineno,
			     svc->name, param, buf_cstr(&err));
	}
	cidr_table_free(&t);
	buf_free(&err);
}

/* Each item of a parsed list; 1 when it can stop relaying. */
static int
moat_check_items(const struct service *svc, const char *param,
		 const struct restriction *r, size_t n, int login_map)
{
	int stops = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (r[i].table != TABLE_NONE)
			moat_check_table(svc, param, &r[i]);
		if (restriction_uses_login_map(r[i].kind) && !login_map)
			moat_problem("master.conf:%u: service %s: %s needs "
				     "smtpd_sender_login_maps",
				     svc->lineno, svc->name,
				     restriction_name(r[i].kind));
		stops |= r[i].kind == RESTRICT_REJECT_UNAUTH_DESTINATION ||
			 r[i].kind == RESTRICT_REJECT ||
			 r[i].kind == RESTRICT_DEFER;
	}
	return stops;
}

static void
moat_check_list(const struct service *svc, const char *param, int login_map)
{
	static struct restriction items[RESTRICTIONS_MAX];
	const char *words[WORDS_MAX];
	struct buf v = BUF_INIT, err = BUF_INIT;
	char *copy, *save = NULL, *w;
	size_t n = 0, count = 0;

	copy = xstrdup(moat_svc_value(svc, param, &v));
	for (w = strtok_r(copy, ", \t\n", &save); w != NULL && n < WORDS_MAX;
	     w = strtok_r(NULL, ", \t\n", &save))
		words[n++] = w;
	if (restriction_list_parse(words, n, items, RESTRICTIONS_MAX, &count,
				   &err) != 0)
		moat_problem("master.conf:%u: service %s: %s: %s", svc->lineno,
			     svc->name, param, buf_cstr(&err));
	else if (!moat_check_items(svc, param, items, count, login_map) &&
		 strcmp(param, "smtpd_recipient_restrictions") == 0)
		moat_problem("master.conf:%u: service %s: %s: name "
			     "reject_unauth_destination (or reject): without "
			     "it anyone could relay, and smtpd will not start",
			     svc->lineno, svc->name, param);
	free(copy);
	buf_free(&v);
	buf_free(&err);
}

void
moat_check_restrictions(const struct service *svc)
{
	struct buf maps = BUF_INIT;
	size_t i;

	moat_svc_value(svc, "smtpd_sender_login_maps", &maps);
	for (i = 0; i < sizeof(moat_list_params) / sizeof(moat_list_params[0]);
	     i++)
		moat_check_list(svc, moat_list_params[i], maps.len > 0);
	buf_free(&maps);
}
