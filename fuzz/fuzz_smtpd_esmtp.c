/*
 * fuzz_smtpd_esmtp: hostile MAIL and RCPT parameter text into smtpd's
 * parameter parser (the first byte chooses MAIL's or RCPT's).  What it
 * accepts must hold what the queue writer accepts (dsn.c's checks); and
 * parsing the words one at a time must agree with parsing them together:
 * each accepted alone, with the same values, when all are accepted at
 * once, and a refusal of the whole found in one word alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd_esmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_values(const struct smtpd_params *p)
{
	if ((p->seen & SMTPD_P_ENVID) &&
	    !dsn_envid_ok(p->envid, strlen(p->envid)))
		abort();
	if ((p->seen & SMTPD_P_ORCPT) &&
	    !dsn_orcpt_ok(p->orcpt, strlen(p->orcpt)))
		abort();
	if ((p->seen & SMTPD_P_RET) && dsn_ret_name(p->ret) == NULL)
		abort();
}

/* Parse the words one by one into acc; the first error, or OK. */
static enum smtpd_param_error
one_by_one(const char *p, size_t len, int mail, struct smtpd_params *acc)
{
	struct smtpd_param_fault f;
	struct smtpd_params one;
	enum smtpd_param_error e, first = SMTPD_PARAM_OK;
	const char *end = p + len, *sp;
	char word[1100];
	size_t n;

	memset(acc, 0, sizeof(*acc));
	for (; p < end; p = sp + 1) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			sp = end;
		n = (size_t)(sp - p);
		if (n == 0)
			continue; /* one blank of a run */
		if (n + 1 >= sizeof(word))
			break;
		word[0] = ' ';
		memcpy(word + 1, p, n);
		e = smtpd_params_parse(word, n + 1, mail, &one, &f);
		if (e != SMTPD_PARAM_OK) {
			if (first == SMTPD_PARAM_OK)
				first = e;
			continue;
		}
		check_values(&one);
		acc->seen |= one.seen;
		if (one.seen & SMTPD_P_SIZE)
			acc->size = one.size;
		if (one.seen & SMTPD_P_RET)
			acc->ret = one.ret;
		if (one.seen & SMTPD_P_NOTIFY)
			acc->notify = one.notify;
		if (one.seen & SMTPD_P_ENVID)
			memcpy(acc->envid, one.envid, sizeof(one.envid));
		if (one.seen & SMTPD_P_ORCPT)
			memcpy(acc->orcpt, one.orcpt, sizeof(one.orcpt));
	}
	return first;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpd_params whole, acc;
	struct smtpd_param_fault f;
	const char *p = (const char *)data + 1;
	enum smtpd_param_error e;
	int mail;

	if (size == 0 || memchr(data, '\0', size) != NULL || size > 1000)
		return 0;
	mail = data[0] & 1;
	size--;
	e = smtpd_params_parse(p, size, mail, &whole, &f);
	if (e != SMTPD_PARAM_OK && e != SMTPD_PARAM_SYNTAX &&
	    (f.param < p || f.param + f.param_len > p + size))
		abort();
	if (e == SMTPD_PARAM_SYNTAX || (size > 0 && p[0] != ' '))
		return 0;
	if (e == SMTPD_PARAM_OK) {
		check_values(&whole);
		if (one_by_one(p, size, mail, &acc) != SMTPD_PARAM_OK ||
		    acc.seen != whole.seen || acc.size != whole.size ||
		    acc.ret != whole.ret || acc.notify != whole.notify ||
		    strcmp(acc.envid, whole.envid) != 0 ||
		    strcmp(acc.orcpt, whole.orcpt) != 0)
			abort();
	} else if (e != SMTPD_PARAM_DUPLICATE &&
		   one_by_one(p, size, mail, &acc) == SMTPD_PARAM_OK) {
		abort();
	}
	return 0;
}
