/*
 * sendmail_addrlist: the address lists sendmail reads: the To:, Cc: and
 * Bcc: fields of a message for -t, and its recipient arguments, which may
 * hold several addresses in the same syntax.  RFC 5322 address-lists with
 * display names, comments, quoted strings, routes and groups are taken
 * apart here; each address itself goes through the one address parser
 * (common/address.c).  The text is hostile (a message often carries
 * someone else's data): counted, never assumed NUL-free.  Pure; run by
 * sendmail, the unit test and the fuzz target.
 */
#include <stdlib.h>
#include <string.h>

#include "sendmail.h"

/* --- the recipient list --------------------------------------------------- */

void
sendmail_rcpts_free(struct sendmail_rcpts *r)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		free(r->addr[i]);
	free(r->addr);
	r->addr = NULL;
	r->count = 0;
}

int
sendmail_rcpts_add(struct sendmail_rcpts *r, const char *addr)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		if (strcmp(r->addr[i], addr) == 0)
			return 0;
	if (r->count >= SENDMAIL_RCPT_MAX)
		return -1;
	r->addr = xreallocarray(r->addr, r->count + 1, sizeof(*r->addr));
	r->addr[r->count++] = xstrdup(addr);
	return 0;
}

int
sendmail_address_text(const struct address *a, const char *origin,
		      struct buf *out)
{
	char text[ADDR_TEXT_MAX];
	struct address check;

	if (address_format(a, text, sizeof(text)) < 0)
		return -1;
	buf_set_str(out, text);
	if (a->is_null || a->domain[0] != '\0' || origin == NULL)
		return 0;
	buf_printf(out, "@%s", origin);
	return address_parse(out->data, out->len, 0, &check) == ADDR_OK ? 0
									: -1;
}

/* --- tokens of an address list ------------------------------------------ */

enum tok_type { TOK_END, TOK_WORD, TOK_QUOTED, TOK_LITERAL, TOK_SPECIAL };

struct tok {
	enum tok_type type;
	const char *p;
	size_t len;
};

static int
tok_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
tok_special(char c)
{
	return c != '\0' && strchr("<>,:;@.]\\", c) != NULL;
}

/* A run that ends at close, minding backslash escapes; 0 if unclosed. */
static size_t
tok_delimited(const char *s, size_t len, size_t i, char close)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == close)
			return i + 1;
	}
	return 0;
}

/* A comment, nested, starting at s[i] == '('; the index past it or 0. */
static size_t
tok_comment(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	for (; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	return 0;
}

/* The next token at *pos, white space and comments skipped; -1 on error. */
static int
tok_next(const char *s, size_t len, size_t *pos, struct tok *t,
	 const char **why)
{
	size_t i = *pos, end;

	for (;;) {
		while (i < len && tok_space(s[i]))
			i++;
		if (i >= len || s[i] != '(')
			break;
		if ((i = tok_comment(s, len, i)) == 0) {
			*why = "unbalanced parenthesis";
			return -1;
		}
	}
	t->p = s + i;
	t->len = 0;
	t->type = TOK_END;
	if (i >= len) {
		*pos = i;
		return 0;
	}
	if (s[i] == '"' || s[i] == '[') {
		end = tok_delimited(s, len, i, s[i] == '"' ? '"' : ']');
		if (end == 0) {
			*why = s[i] == '"' ? "unterminated quoted string"
					   : "unterminated [ ]";
			return -1;
		}
		t->type = s[i] == '"' ? TOK_QUOTED : TOK_LITERAL;
	} else if (tok_special(s[i]) || s[i] == ')') {
		end = i + 1;
		t->type = TOK_SPECIAL;
	} else {
		for (end = i; end < len && !tok_space(s[end]) &&
			      !tok_special(s[end]) && s[end] != '(' &&
			      s[end] != ')' && s[end] != '"' && s[end] != '[';
		     end++)
			;
		t->type = TOK_WORD;
	}
	t->len = end - i;
	*pos = end;
	return 0;
}

/* --- the address-list parser -------------------------------------------- */

struct mailbox {
	struct buf plain; /* an addr-spec outside < > */
	struct buf angle; /* what is inside < > */
	int last_word;    /* the previous plain token was a word */
	int phrase;       /* two words side by side: a display name */
	int too_long;     /* plain text beyond any address's length */
	int in_angle, seen_angle, after_angle;
	const char *first, *end; /* its text in the list, for errors */
};

struct list_state {
	const char *origin;
	struct sendmail_rcpts *r;
	struct buf *err;
	struct buf text;
	int in_group;
};

static void
mailbox_reset(struct mailbox *m)
{
	buf_reset(&m->plain);
	buf_reset(&m->angle);
	m->last_word = m->phrase = m->too_long = 0;
	m->in_angle = m->seen_angle = m->after_angle = 0;
	m->first = m->end = NULL;
}

/* The reason in err, quoting the mailbox (white space runs squeezed). */
static int
list_fail(struct list_state *st, const char *why, const struct mailbox *m)
{
	const char *p;
	size_t n = 0;

	buf_reset(st->err);
	if (m == NULL || m->first == NULL) {
		buf_set_str(st->err, why);
		return -1;
	}
	buf_append_str(st->err, "bad address \"");
	for (p = m->first; p < m->end && n < 100; p++, n++) {
		if (tok_space(*p) && p > m->first && tok_space(p[-1]))
			continue;
		buf_append_char(st->err, tok_space(*p) ? ' ' : *p);
	}
	buf_printf(st->err, "%s\": %s", p < m->end ? "..." : "", why);
	return -1;
}

static int
list_add(struct list_state *st, const struct mailbox *m, const struct buf *text,
	 int path)
{
	struct address a;
	enum addr_error e;

	if (path) {
		buf_reset(&st->text);
		buf_printf(&st->text, "<%s>", buf_cstr(text));
		e = address_parse_path(st->text.data, st->text.len,
				       ADDR_ALLOW_NO_DOMAIN, &a);
	} else {
		e = address_parse(text->data, text->len, ADDR_ALLOW_NO_DOMAIN,
				  &a);
	}
	if (e != ADDR_OK)
		return list_fail(st, address_strerror(e), m);
	if (sendmail_address_text(&a, st->origin, &st->text) != 0)
		return list_fail(st, "address too long", m);
	if (sendmail_rcpts_add(st->r, buf_cstr(&st->text)) != 0)
		return list_fail(st, "too many recipients", NULL);
	return 0;
}

/* The end of one mailbox (at ',', ';' or the end of the list). */
static int
mailbox_finish(struct list_state *st, struct mailbox *m)
{
	int rc = 0;

	if (m->in_angle)
		rc = list_fail(st, "missing >", m);
	else if (m->seen_angle && m->angle.len == 0)
		rc = list_fail(st, "empty <> in a recipient header", m);
	else if (m->seen_angle)
		rc = list_add(st, m, &m->angle, m->angle.data[0] == '@');
	else if (m->phrase)
		rc = list_fail(st, "a name without an <address>", m);
	else if (m->too_long)
		rc = list_fail(st, "address too long", m);
	else if (m->plain.len > 0)
		rc = list_add(st, m, &m->plain, 0);
	mailbox_reset(m);
	return rc;
}

static int
tok_is(const struct tok *t, char c)
{
	return t->type == TOK_SPECIAL && t->p[0] == c;
}

/* One token that is not a list separator. */
static int
mailbox_token(struct list_state *st, struct mailbox *m, const struct tok *t)
{
	int word = t->type != TOK_SPECIAL;

	if (m->first == NULL)
		m->first = t->p;
	m->end = t->p + t->len;
	if (m->in_angle) {
		if (tok_is(t, '>'))
			m->in_angle = 0, m->after_angle = 1;
		else if (tok_is(t, '<'))
			return list_fail(st, "nested <", m);
		else if (word && m->last_word)
			return list_fail(st, "white space inside <address>", m);
		else
			buf_append(&m->angle, t->p, t->len);
		m->last_word = word;
		return 0;
	}
	if (m->after_angle)
		return list_fail(st, "text after >", m);
	if (tok_is(t, '<')) {
		m->in_angle = m->seen_angle = 1;
		m->last_word = 0;
		return 0;
	}
	if (tok_is(t, '>'))
		return list_fail(st, "> without <", m);
	if (word && m->last_word)
		m->phrase = 1;
	m->last_word = word;
	/* A long display name is fine; only an address must fit. */
	if (m->plain.len + t->len > ADDR_TEXT_MAX)
		m->too_long = 1;
	else
		buf_append(&m->plain, t->p, t->len);
	return 0;
}

int
sendmail_addr_list_parse(const char *s, size_t len, const char *origin,
			 struct sendmail_rcpts *r, struct buf *err)
{
	struct list_state st = {origin, r, err, BUF_INIT, 0};
	struct mailbox m = {BUF_INIT, BUF_INIT, 0, 0, 0, 0, 0, 0, NULL, NULL};
	const char *why = NULL;
	struct tok t;
	size_t pos = 0;
	int rc = 0;

	while (rc == 0) {
		if (tok_next(s, len, &pos, &t, &why) != 0) {
			rc = list_fail(&st, why, NULL);
			break;
		}
		if (t.type == TOK_END) {
			/* A group without its ';' is forgiven. */
			rc = mailbox_finish(&st, &m);
			break;
		}
		if (!m.in_angle && (tok_is(&t, ',') || tok_is(&t, ';'))) {
			/* ';' outside a group: a separator, as people type. */
			rc = mailbox_finish(&st, &m);
			if (tok_is(&t, ';'))
				st.in_group = 0;
		} else if (!m.in_angle && tok_is(&t, ':')) {
			if (st.in_group || m.seen_angle)
				rc = list_fail(&st, "unexpected ':'", NULL);
			/* The group's name is a display name: dropped. */
			mailbox_reset(&m);
			st.in_group = 1;
		} else {
			rc = mailbox_token(&st, &m, &t);
		}
	}
	buf_free(&m.plain);
	buf_free(&m.angle);
	buf_free(&st.text);
	return rc;
}

int
sendmail_sender_parse(const char *s, const char *origin, struct buf *out,
		      struct buf *err)
{
	size_t len = strlen(s);
	struct address a;
	enum addr_error e;

	buf_reset(out);
	if (len == 0 || strcmp(s, "<>") == 0)
		return 0;
	if (s[0] == '<')
		e = address_parse_path(s, len, ADDR_ALLOW_NO_DOMAIN, &a);
	else
		e = address_parse(s, len, ADDR_ALLOW_NO_DOMAIN, &a);
	if (e == ADDR_OK && sendmail_address_text(&a, origin, out) != 0)
		e = ADDR_ERR_TOO_LONG;
	if (e == ADDR_OK)
		return 0;
	buf_reset(err);
	buf_printf(err, "bad sender address \"%.100s\": %s", s,
		   address_strerror(e));
	return -1;
}
