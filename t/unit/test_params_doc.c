/*
 * test_params_doc: every parameter of params_table.c is documented in
 * man/man5/moat.conf.5, in table order, and the page documents no
 * parameter that is not declared.  An entry is a ".TP" line followed by
 * ".B name" inside the PARAMETERS section.  Run from the repository top.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "tap.h"

#define MAN_PAGE "man/man5/moat.conf.5"
#define DOC_MAX 200

int
main(void)
{
	char line[1024], prev[1024] = "", *names[DOC_MAX];
	size_t count = 0, next = 0;
	int in_section = 0, in_order = 1;
	FILE *f = fopen(MAN_PAGE, "r");

	if (f == NULL) {
		ok(0, "open %s (run from the repository top)", MAN_PAGE);
		return done_testing();
	}
	while (fgets(line, sizeof(line), f) != NULL && count < DOC_MAX) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".SH", 3) == 0)
			in_section = strcmp(line, ".SH PARAMETERS") == 0;
		else if (in_section && strcmp(prev, ".TP") == 0 &&
			 strncmp(line, ".B ", 3) == 0)
			names[count++] = strdup(line + 3);
		snprintf(prev, sizeof(prev), "%s", line);
	}
	fclose(f);
	ok(count > 0, "the page documents parameters");
	for (size_t i = 0; i < param_count; i++) {
		int found = 0;
		for (size_t j = 0; j < count; j++)
			if (strcmp(names[j], param_table[i].name) == 0) {
				found = 1;
				if (j != next)
					in_order = 0;
				next = j + 1;
			}
		ok(found, "%s is documented in %s", param_table[i].name,
		   MAN_PAGE);
	}
	for (size_t j = 0; j < count; j++)
		ok(param_find(names[j]) != NULL,
		   "documented %s is a declared parameter", names[j]);
	ok(in_order, "the page lists parameters in table order");
	for (size_t i = 0; i < param_count; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(param_table[i].name, param_table[j].name) ==
			    0)
				ok(0, "%s is declared twice in the table",
				   param_table[i].name);
	is_int(count, param_count, "one entry per parameter");
	for (size_t j = 0; j < count; j++)
		free(names[j]);
	return done_testing();
}
