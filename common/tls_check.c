/*
 * tls_check: the TLS settings of every smtpd service of master.conf, as
 * the master (before it starts anything) and `moat check` verify them:
 * see tls_check_services in tls_files.h.  Input: the root-owned
 * configuration and the files it names, read as root.  Run by the master
 * and the moat command.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "params.h"
#include "service_table.h"
#include "tls_files.h"
#include "tls_policy.h"

/* Split a list value (commas and blanks) into at most TLS_FILES_MAX. */
static int
tls_split(const char *value, char **items, size_t *n, const char *name,
	  struct buf *err)
{
	char *copy = xstrdup(value), *save = NULL, *tok, *p;

	*n = 0;
	for (p = copy; (tok = strtok_r(p, ", \t", &save)) != NULL; p = NULL) {
		if (*n == TLS_FILES_MAX) {
			buf_printf(err, "%s: more than %d files", name,
				   TLS_FILES_MAX);
			free(copy);
			return -1;
		}
		items[(*n)++] = xstrdup(tok);
	}
	free(copy);
	return 0;
}

int
tls_service_files(const struct service *svc, struct tls_file_list *l,
		  struct buf *err)
{
	struct buf v = BUF_INIT;
	int rc;

	memset(l, 0, sizeof(*l));
	rc = service_param(svc, "smtpd_tls_cert_file", &v, err);
	if (rc == 0)
		rc = tls_split(buf_cstr(&v), l->cert, &l->ncert,
			       "smtpd_tls_cert_file", err);
	if (rc == 0)
		rc = service_param(svc, "smtpd_tls_key_file", &v, err);
	if (rc == 0)
		rc = tls_split(buf_cstr(&v), l->key, &l->nkey,
			       "smtpd_tls_key_file", err);
	buf_free(&v);
	return rc;
}

void
tls_file_list_free(struct tls_file_list *l)
{
	size_t i;

	for (i = 0; i < l->ncert; i++)
		free(l->cert[i]);
	for (i = 0; i < l->nkey; i++)
		free(l->key[i]);
	memset(l, 0, sizeof(*l));
}

struct tls_checker {
	int deep;
	void (*report)(void *ctx, const char *what);
	void *ctx;
	unsigned problems;
	char **seen; /* files already checked */
	size_t nseen;
};

static void
tls_problem(struct tls_checker *c, const char *what)
{
	c->report(c->ctx, what);
	c->problems++;
}

/* 1 the first time a file is named (each is checked once). */
static int
tls_first_time(struct tls_checker *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], path) == 0)
			return 0;
	c->seen = xreallocarray(c->seen, c->nseen + 1, sizeof(*c->seen));
	c->seen[c->nseen++] = xstrdup(path);
	return 1;
}

/* A key file against its certificate file: it must be that key's pair. */
static void
tls_check_pair(struct tls_checker *c, const char *cert, const char *key)
{
	char want[TLS_KEY_ID_SIZE], have[TLS_KEY_ID_SIZE];
	struct buf pem = BUF_INIT, err = BUF_INIT;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *leaf = NULL;

	if (tls_file_read(cert, TLS_FILE_CERT, &pem, &err) != 0 ||
	    tls_parse_chain(&pem, cert, &leaf, &chain, &err) != 0 ||
	    tls_key_id(X509_get0_pubkey(leaf), want) != 0) {
		if (tls_first_time(c, cert))
			tls_problem(c, buf_cstr(&err));
		goto done;
	}
	buf_free(&pem);
	if (tls_file_read(key, TLS_FILE_KEY, &pem, &err) != 0 ||
	    (pkey = tls_parse_key(&pem, key, &err)) == NULL ||
	    tls_key_id(pkey, have) != 0) {
		if (tls_first_time(c, key))
			tls_problem(c, buf_cstr(&err));
		goto done;
	}
	if (strcmp(want, have) != 0) {
		buf_reset(&err);
		buf_printf(&err, "%s is not the private key of %s", key, cert);
		tls_problem(c, buf_cstr(&err));
	}
done:
	tls_buf_cleanse(&pem);
	buf_free(&err);
	EVP_PKEY_free(pkey);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
}

/* Only the files' owners and modes (the master's check). */
static void
tls_check_file(struct tls_checker *c, const char *path, enum tls_file_kind kind)
{
	struct buf content = BUF_INIT, err = BUF_INIT;

	if (tls_first_time(c, path) &&
	    tls_file_read(path, kind, &content, &err) != 0)
		tls_problem(c, buf_cstr(&err));
	tls_buf_cleanse(&content);
	buf_free(&err);
}

static void
tls_check_files(struct tls_checker *c, const struct tls_file_list *l)
{
	size_t i;

	for (i = 0; i < l->ncert && i < l->nkey; i++) {
		if (c->deep) {
			tls_check_pair(c, l->cert[i], l->key[i]);
			continue;
		}
		tls_check_file(c, l->cert[i], TLS_FILE_CERT);
		tls_check_file(c, l->key[i], TLS_FILE_KEY);
	}
}

/* "master.conf:LINE: smtpd: " in front of what, for one service. */
static void
tls_service_problem(struct tls_checker *c, const struct service *svc,
		    const char *what)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, "master.conf:%u: service %s: %s", svc->lineno,
		   svc->name, what);
	tls_problem(c, buf_cstr(&line));
	buf_free(&line);
}

static void
tls_check_service(struct tls_checker *c, const struct service_table *t,
		  const struct service *svc)
{
	struct buf v = BUF_INIT, err = BUF_INIT;
	struct tls_file_list l;
	enum tls_level level;
	int wrapper;

	if (service_param(svc, "smtpd_tls_security_level", &v, &err) != 0 ||
	    tls_server_level_parse(buf_cstr(&v), &level) != 0) {
		tls_service_problem(c, svc,
				    "smtpd_tls_security_level must be none, "
				    "may or encrypt");
		level = TLS_LEV_NONE;
	}
	wrapper = service_param(svc, "smtpd_tls_wrappermode", &v, &err) == 0 &&
		  strcmp(buf_cstr(&v), "yes") == 0;
	if (tls_service_files(svc, &l, &err) != 0) {
		tls_service_problem(c, svc, buf_cstr(&err));
	} else if (l.ncert != l.nkey) {
		tls_service_problem(
		    c, svc,
		    "smtpd_tls_cert_file and smtpd_tls_key_file "
		    "must name as many files, in the same "
		    "order");
	} else if (l.ncert == 0 && (level == TLS_LEV_ENCRYPT || wrapper)) {
		tls_service_problem(c, svc,
				    "TLS is required (smtpd_tls_security_level "
				    "= encrypt or smtpd_tls_wrappermode = yes) "
				    "but smtpd_tls_cert_file is empty");
	} else if (l.ncert > 0 && (level != TLS_LEV_NONE || wrapper) &&
		   service_find_command(t, "tlssign") == NULL) {
		tls_service_problem(
		    c, svc,
		    "TLS needs the tlssign service, which holds "
		    "the private keys; add the line "
		    "\"private/tlssign unix moat-tlssign y 4 "
		    "tlssign\"");
	}
	if (level != TLS_LEV_NONE || wrapper)
		tls_check_files(c, &l);
	tls_file_list_free(&l);
	buf_free(&v);
	buf_free(&err);
}

unsigned
tls_check_services(const struct service_table *t, int deep,
		   void (*report)(void *ctx, const char *what), void *ctx)
{
	struct tls_checker c = {deep, report, ctx, 0, NULL, 0};
	size_t i;

	for (i = 0; i < t->count; i++)
		if (strcmp(t->svc[i].command, "smtpd") == 0)
			tls_check_service(&c, t, &t->svc[i]);
	for (i = 0; i < c.nseen; i++)
		free(c.seen[i]);
	free(c.seen);
	return c.problems;
}
