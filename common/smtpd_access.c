/*
 * smtpd_access: mynetworks matching for smtpd's relay decision.  The
 * network list is the administrator's, the address the kernel's, yet both
 * are parsed as text with bounds and no assumption.  Pure but for the
 * start-up loader at the end; run by smtpd and screen.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "log.h"
#include "params.h"
#include "smtpd_access.h"

#define NET_TEXT_MAX 64

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff};

/* ::ffff:a.b.c.d becomes a.b.c.d. */
static void
unmap(struct smtpd_net *n)
{
	if (n->family != AF_INET6 || n->prefix < 96 ||
	    memcmp(n->addr, v4_mapped, 12) != 0)
		return;
	memmove(n->addr, n->addr + 12, 4);
	memset(n->addr + 4, 0, 12);
	n->family = AF_INET;
	n->prefix -= 96;
}

/* An address without prefix, possibly in brackets. */
static int
parse_host(const char *s, size_t len, struct smtpd_net *out)
{
	char text[NET_TEXT_MAX];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(text) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
		return 0;
	}
	return -1;
}

static int
parse_prefix(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 3)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int
smtpd_access_parse_net(const char *s, size_t len, struct smtpd_net *out)
{
	const char *slash = memrchr(s, '/', len);
	size_t hlen = slash ? (size_t)(slash - s) : len;

	if (parse_host(s, hlen, out) != 0)
		return -1;
	if (slash != NULL && parse_prefix(slash + 1, len - hlen - 1,
					  out->prefix, &out->prefix) != 0)
		return -1;
	unmap(out);
	return 0;
}

int
smtpd_access_parse_addr(const char *s, struct smtpd_net *out)
{
	if (parse_host(s, strlen(s), out) != 0)
		return -1;
	unmap(out);
	return 0;
}

static int
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

int
smtpd_access_match(const struct smtpd_net *nets, size_t n,
		   const struct smtpd_net *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (nets[i].family == addr->family &&
		    prefix_equal(nets[i].addr, addr->addr, nets[i].prefix))
			return 1;
	return 0;
}

struct smtpd_net *
smtpd_access_load_mynetworks(size_t *count)
{
	const char *const *items;
	size_t i, n = param_list("mynetworks", &items);
	struct smtpd_net *nets = xcalloc(n ? n : 1, sizeof(*nets));

	for (i = 0; i < n; i++)
		if (smtpd_access_parse_net(items[i], strlen(items[i]),
					   &nets[i]) != 0)
			log_fatal("mynetworks: \"%s\" is not a network address "
				  "or CIDR block",
				  items[i]);
	*count = n;
	return nets;
}
