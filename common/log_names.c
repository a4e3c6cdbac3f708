/*
 * log_names: the checks of the two log parameters that name things in
 * other programs' eyes, syslog_name and syslog_facility, shared by the
 * master (which refuses a bad value at start and reload, naming it) and
 * logd (which uses them).  Input: values from the root-owned main.conf and
 * the master's frames.  Pure.
 */
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "log.h"

int
log_syslog_name_ok(const char *name)
{
	size_t i, n = strlen(name);
	unsigned char c;

	if (n == 0 || n > LOG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '-' || c == '/'))
			return 0;
	}
	return 1;
}

int
log_facility_code(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} facilities[] = {
	    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON},
	    {"user", LOG_USER},     {"local0", LOG_LOCAL0},
	    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
	    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
	    {"local7", LOG_LOCAL7},
	};
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].code;
	return -1;
}
