/*
 * fuzz_service_table: the master.conf parser.  Checks that every accepted
 * service has bounded, NUL-terminated fields and a sane maxproc.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when a unix service name has a "." or ".." part or is absolute. */
static int
escapes(const char *name)
{
	char copy[128], *save = NULL, *part;

	if (name[0] == '/')
		return 1;
	strlcpy(copy, name, sizeof(copy));
	for (char *p = copy; (part = strtok_r(p, "/", &save)); p = NULL)
		if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service_table t;
	struct buf err = BUF_INIT;

	if (service_table_parse((const char *)data, size, "master.conf", &t,
				&err) == 0) {
		for (size_t i = 0; i < t.count; i++) {
			const struct service *s = &t.svc[i];
			if (s->maxproc < 1 || s->maxproc > 1000 ||
			    memchr(s->name, '\0', sizeof(s->name)) == NULL ||
			    (SERVICE_IS_SOCKET_PATH(s->type) &&
			     escapes(s->name)) ||
			    s->command[0] == '\0')
				abort();
		}
		(void)service_find_command(&t, "smtpd");
		service_table_free(&t);
	} else if (strncmp(buf_cstr(&err), "master.conf:", 12) != 0) {
		abort();
	}
	buf_free(&err);
	return 0;
}
