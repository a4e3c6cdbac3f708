/*
 * test_local_forward: local's pure parsers of alias values and .forward
 * files (splitting, classifying targets) and of command lines (argv
 * without a shell).  Golden files: t/unit/golden/local_forward/NAME.in is
 * parsed as a .forward text and the description must equal NAME.out byte
 * for byte (MOAT_GOLDEN_WRITE=1 rewrites the .out files).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "local.h"
#include "tap.h"

#define GOLDEN_DIR "t/unit/golden/local_forward"

/* The description of a parsed text, as in the .out files. */
static void
describe(const char *text, size_t len, struct buf *out)
{
	struct local_items items;
	struct local_target *t = xmalloc(sizeof(*t));
	struct local_argv *av = xmalloc(sizeof(*av));
	const char *why;

	local_items_init(&items);
	if (local_targets_split(text, len, &items, &why) != 0) {
		buf_printf(out, "split error: %s\n", why);
		goto done;
	}
	for (size_t i = 0; i < items.count; i++) {
		const char *item = local_item(&items, i);
		if (local_target_classify(item, strlen(item), t, &why) != 0) {
			buf_printf(out, "%zu error: %s: %s\n", i + 1, why,
				   item);
			continue;
		}
		buf_printf(out, "%zu %s %s\n", i + 1,
			   local_target_type_name(t->type), t->text);
		if (t->type != TARGET_COMMAND)
			continue;
		if (local_command_split(t->text, strlen(t->text), av, &why)) {
			buf_printf(out, "  argv error: %s\n", why);
			continue;
		}
		for (int k = 0; k < av->argc; k++)
			buf_printf(out, "  argv[%d] [%s]\n", k, av->argv[k]);
	}
done:
	local_items_free(&items);
	free(t);
	free(av);
}

static void
golden_all(void)
{
	int n = golden_run(GOLDEN_DIR, describe);

	ok(n >= 5, "at least five golden inputs (found %d)", n);
}

static void
split_cases(void)
{
	struct local_items items;
	const char *why = NULL;
	char big[LOCAL_ITEM_MAX + 10];
	struct buf many = BUF_INIT;

	local_items_init(&items);
	is_int(local_targets_split("a\0b", 3, &items, &why), -1,
	       "a NUL byte is refused");
	is_int(local_targets_split("\"a, b", 5, &items, &why), -1,
	       "an unterminated quote is refused");
	is_str(why, "unterminated quote", "and the reason says so");
	is_int(local_targets_split("\"a\nb\"", 5, &items, &why), -1,
	       "a quote does not span lines");
	memset(big, 'x', sizeof(big));
	is_int(local_targets_split(big, sizeof(big), &items, &why), -1,
	       "an item over LOCAL_ITEM_MAX is refused");
	for (int i = 0; i <= LOCAL_TARGETS_MAX; i++)
		buf_printf(&many, "u%d,", i);
	is_int(local_targets_split(many.data, many.len, &items, &why), -1,
	       "more than LOCAL_TARGETS_MAX items are refused");
	is_str(why, "too many targets", "the reason names the count");
	is_int(local_targets_split(" , ,\n\n", 6, &items, &why), 0,
	       "empty items are skipped");
	is_int(items.count, 0, "and nothing is left");
	is_int(local_targets_split("a,b\n c", 6, &items, &why), 0,
	       "commas and newlines separate");
	is_int(items.count, 3, "three items");
	is_str(local_item(&items, 2), "c", "the last one trimmed");
	buf_free(&many);
	local_items_free(&items);
}

static void
classify_cases(void)
{
	struct local_target *t = xmalloc(sizeof(*t));
	const char *why;

	is_int(local_target_classify("|", 1, t, &why), -1,
	       "a bare | is an empty command");
	is_int(local_target_classify("bob\x01", 4, t, &why), -1,
	       "control bytes are refused");
	is_int(local_target_classify("a@b@c", 5, t, &why), -1,
	       "a second @ is a bad address");
	is_int(local_target_classify("Bob@EXAMPLE.com", 15, t, &why), 0,
	       "an address parses");
	is_str(t->text, "Bob@example.com",
	       "the domain is lower-cased, the local part kept");
	is_int(local_target_classify("<bob@example.com>", 17, t, &why), 0,
	       "angle brackets are accepted");
	is_int(t->type, TARGET_ADDRESS, "as an address");
	is_int(local_target_classify("\\bob", 4, t, &why), 0, "\\bob parses");
	is_int(t->type, TARGET_NOFORWARD, "as a no-forward mailbox");
	is_str(t->addr.local, "bob", "of user bob");
	is_int(local_target_classify(":INCLUDE:/x", 11, t, &why), 0,
	       ":include: is recognised in any case");
	is_int(t->type, TARGET_INCLUDE, "as an include (which local refuses)");
	free(t);
}

static void
command_cases(void)
{
	struct local_argv *av = xmalloc(sizeof(*av));
	const char *why;
	struct buf words = BUF_INIT;

	is_int(local_command_split("  ", 2, av, &why), -1,
	       "blank command refused");
	is_int(local_command_split("\"\" x", 4, av, &why), -1,
	       "an empty program name is refused");
	is_int(local_command_split("/bin/a \"b c", 11, av, &why), -1,
	       "unterminated quote refused");
	is_int(local_command_split("/bin/a\nb", 8, av, &why), -1,
	       "a newline is refused");
	is_int(local_command_split("/bin/a $HOME `id` ;x", 20, av, &why), 0,
	       "shell syntax is just text");
	is_int(av->argc, 4, "four words");
	is_str(av->argv[1], "$HOME", "no variable expansion");
	is_str(av->argv[2], "`id`", "no command substitution");
	is_str(av->argv[3], ";x", "no command separator");
	ok(av->argv[4] == NULL, "argv ends with NULL");
	is_int(local_command_split("/x a\"b c\"d \"\"", 13, av, &why), 0,
	       "quotes inside a word");
	is_str(av->argv[1], "ab cd", "join with the word");
	is_str(av->argv[2], "", "an empty quoted word stays");
	for (int i = 0; i <= LOCAL_ARGV_MAX; i++)
		buf_append_str(&words, "w ");
	is_int(local_command_split(words.data, words.len, av, &why), -1,
	       "more than LOCAL_ARGV_MAX words refused");
	buf_free(&words);
	free(av);
}

int
main(void)
{
	golden_all();
	split_cases();
	classify_cases();
	command_cases();
	return done_testing();
}
