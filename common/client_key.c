/*
 * client_key: an address reduced to the client it counts as (see
 * client_key.h).  Input: addresses from the kernel (getpeername) or from
 * smtpd over IPC (anvil), parsed with inet_pton only; anything else is
 * copied as it is, bounded.  Pure.  Run by anvil, smtpd and screen.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "client_key.h"

/* "ADDR" or "ADDR/LEN": the address part in text, the length in *len. */
static int
client_key_split(const char *addr, char *text, size_t size, unsigned *len)
{
	const char *slash = strchr(addr, '/');
	size_t n = slash != NULL ? (size_t)(slash - addr) : strlen(addr);
	unsigned v = 0;
	const char *p;

	*len = 128;
	if (n >= size)
		return -1;
	memcpy(text, addr, n);
	text[n] = '\0';
	if (slash == NULL)
		return 0;
	if (slash[1] == '\0' || strlen(slash + 1) > 3)
		return -1;
	for (p = slash + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > 128)
		return -1;
	*len = v;
	return 0;
}

static void
client_key_mask(unsigned char *bytes, unsigned prefix)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		bytes[i] &= (unsigned char)(0xff00u >> prefix);
		prefix = 0;
	}
}

static int
client_key_copy(const char *addr, char *out, size_t size)
{
	return strlcpy(out, addr, size) < size ? 0 : -1;
}

int
client_key(const char *addr, unsigned v6_prefix, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN + 8];
	unsigned char bytes[16];
	unsigned len;
	int n;

	if (v6_prefix > 128)
		return -1;
	if (client_key_split(addr, text, sizeof(text), &len) != 0 ||
	    inet_pton(AF_INET6, text, bytes) != 1)
		return client_key_copy(addr, out, size); /* IPv4, or none */
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)bytes) && len == 128)
		return inet_ntop(AF_INET, bytes + 12, out, (socklen_t)size)
			   ? 0
			   : -1;
	if (len > v6_prefix)
		len = v6_prefix;
	client_key_mask(bytes, len);
	if (inet_ntop(AF_INET6, bytes, text, sizeof(text)) == NULL)
		return -1;
	if (len == 128)
		return client_key_copy(text, out, size);
	n = snprintf(out, size, "%s/%u", text, len);
	return n > 0 && (size_t)n < size ? 0 : -1;
}
