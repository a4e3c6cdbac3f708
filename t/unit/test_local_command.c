/*
 * test_local_command: local's command deliveries, run as the current user
 * (the drop to the recipient happens in local_child.c, not here).  Which
 * programs are allowed (only root-owned files directly inside the allowed
 * directory, symbolic links resolved), and what running one does: the
 * message with Return-Path and Delivered-To on stdin, a clean environment,
 * exit 0 sent, 75 deferred, others bounced with the output (capped), and a
 * command over its time limit killed with its process group and deferred.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "local.h"
#include "params.h"
#include "tap.h"

static char top[] = "/tmp/test_local_command.XXXXXX";
static char bin[64], out[64];

static void
script(const char *name, const char *body, mode_t mode)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", bin, name);
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, mode);
}

static void
allowed_cases(void)
{
	char real[PATH_MAX], path[400], want[400];
	struct buf why = BUF_INIT;

	snprintf(path, sizeof(path), "%s/ok", bin);
	is_int(local_command_allowed(path, bin, real, sizeof(real), &why), 0,
	       "a program inside the directory is allowed");
	is_str(real, path, "  resolved to itself");
	is_int(local_command_allowed("ok", bin, real, sizeof(real), &why), 0,
	       "a bare name means the program in the directory");
	is_str(real, path, "  resolved into the directory");
	buf_reset(&why);
	is_int(local_command_allowed("/bin/sh", bin, real, sizeof(real), &why),
	       -1, "a program elsewhere is refused");
	snprintf(want, sizeof(want),
		 "/bin/sh is not in allowed_commands_directory");
	is_str(buf_cstr(&why), want, "  with the reason qmgr will see");
	snprintf(path, sizeof(path), "%s/../bin/ok", bin);
	is_int(local_command_allowed(path, bin, real, sizeof(real), &why), -1,
	       "a path with .. is refused");
	is_int(local_command_allowed("ok/", bin, real, sizeof(real), &why), -1,
	       "a relative path with / is refused");
	is_int(local_command_allowed("link", bin, real, sizeof(real), &why), -1,
	       "a symbolic link out of the directory is refused");
	is_int(local_command_allowed("gw", bin, real, sizeof(real), &why), -1,
	       "a group-writable program is refused");
	is_int(local_command_allowed("noexec", bin, real, sizeof(real), &why),
	       -1, "a program without execute permission is refused");
	is_int(local_command_allowed("missing", bin, real, sizeof(real), &why),
	       -1, "a missing program is refused");
	chmod(bin, 0775);
	is_int(local_command_allowed("ok", bin, real, sizeof(real), &why), -2,
	       "a group-writable directory is a configuration error");
	chmod(bin, 0755);
	is_int(local_command_allowed("ok", "", real, sizeof(real), &why), -2,
	       "an empty directory setting is a configuration error");
	buf_free(&why);
}

static struct local_msg msg;

static int
make_msg(const char *content)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/queuefile", top);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	(void)!write(fd, "HEAD", 4);
	(void)!write(fd, content, strlen(content));
	close(fd);
	msg.fd = open(path, O_RDONLY);
	msg.offset = 4;
	msg.length = (off_t)strlen(content);
	msg.queue_id = "TESTID";
	msg.sender = "sender@example.org";
	msg.rcpt = "alice+box@example.com";
	msg.orig_rcpt = "staff@example.com";
	msg.arrival = time(NULL);
	msg.deadline = time(NULL) + 600;
	msg.client_fd = -1;
	return msg.fd;
}

static char *
slurp(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return xstrdup("(missing)");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	buf_append_char(&b, '\0');
	return b.data;
}

static int
run(const char *line, struct local_result *r)
{
	struct local_user u = {"tester", getuid(), getgid(), "/"};
	struct local_command c = {line, &u, "alice+box@example.com", "box"};

	strlcpy(u.home, top, sizeof(u.home));
	return local_command_deliver(&c, &msg, r);
}

static void
deliver_cases(void)
{
	struct local_result r;
	char *got, want[512];
	time_t t0;

	is_int(run("ok one \"two three\"", &r), 0, "a command that exits 0");
	is_int(r.status, LOCAL_SENT, "  is sent");
	snprintf(want, sizeof(want), "delivered to command: %s/ok", bin);
	is_str(r.text, want, "  with the program's path in the text");
	got = slurp(out);
	is_str(got,
	       "args=[one] [two three]\n"
	       "Return-Path: <sender@example.org>\n"
	       "Delivered-To: alice+box@example.com\n"
	       "Subject: x\n\nbody\n",
	       "  it got its words and the message with the two lines on top");
	free(got);
	snprintf(want, sizeof(want), "%s.env", out);
	got = slurp(want);
	ok(strstr(got, "RECIPIENT=alice+box@example.com\n") != NULL &&
	       strstr(got, "EXTENSION=box\n") != NULL &&
	       strstr(got, "LOCAL=alice+box\n") != NULL &&
	       strstr(got, "DOMAIN=example.com\n") != NULL &&
	       strstr(got, "ORIGINAL_RECIPIENT=staff@example.com\n") != NULL &&
	       strstr(got, "SENDER=sender@example.org\n") != NULL &&
	       strstr(got, "PATH=/usr/bin:/bin\n") != NULL,
	   "  its environment names the recipient, sender and extension");
	ok(strstr(got, "MOAT_TEST_LEAK") == NULL &&
	       strstr(got, "SHELL=") == NULL,
	   "  and nothing of ours leaks into it, not even SHELL");
	free(got);
	is_int(run("fail", &r), -1, "a command that exits 3");
	is_int(r.status, LOCAL_BOUNCE, "  bounces");
	snprintf(want, sizeof(want),
		 "command %s/fail exit 3: 01234567890123456789 "
		 "0123456789012345678",
		 bin);
	is_str(r.text, want, "  with its output, capped at the limit");
	is_int(run("temp", &r), -1, "a command that exits 75");
	is_int(r.status, LOCAL_DEFER, "  is deferred");
	is_int(run("/bin/sh -c id", &r), -1, "a program outside the directory");
	is_int(r.status, LOCAL_BOUNCE, "  bounces");
	is_str(r.dsn, "5.7.1", "  with 5.7.1");
	is_int(run("ok \"unterminated", &r), -1, "a bad command line");
	is_int(r.status, LOCAL_BOUNCE, "  bounces");
	t0 = time(NULL);
	is_int(run("slow", &r), -1, "a command over its time limit");
	is_int(r.status, LOCAL_DEFER, "  is deferred");
	ok(time(NULL) - t0 < 10, "  after about the limit (%lld s)",
	   (long long)(time(NULL) - t0));
	snprintf(want, sizeof(want), "%s.slow", out);
	sleep(1);
	got = slurp(want);
	is_str(got, "(missing)", "  and its background child was killed too");
	free(got);
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return remove(path);
}

int
main(void)
{
	struct buf err = BUF_INIT;
	char body[1024];

	if (mkdtemp(top) == NULL || chmod(top, 0755) != 0) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	snprintf(bin, sizeof(bin), "%s/bin", top);
	snprintf(out, sizeof(out), "%s/out", top);
	mkdir(bin, 0755);
	snprintf(body, sizeof(body),
		 "echo \"args=[$1] [$2]\" > %s\ncat >> %s\nenv > %s.env", out,
		 out, out);
	script("ok", body, 0755);
	script("fail",
	       "echo 01234567890123456789; echo 0123456789012345678901; exit 3",
	       0755);
	script("temp", "exit 75", 0755);
	snprintf(body, sizeof(body),
		 "(sleep 4; echo late > %s.slow) &\nsleep 30", out);
	script("slow", body, 0755);
	script("gw", "exit 0", 0775);
	script("noexec", "exit 0", 0644);
	snprintf(body, sizeof(body), "%s/link", bin);
	(void)!symlink("/bin/true", body);
	setenv("MOAT_TEST_LEAK", "1", 1);
	ok(params_set("allowed_commands_directory", bin, &err) == 0 &&
	       params_set("command_time_limit", "2s", &err) == 0 &&
	       params_set("command_output_limit", "40", &err) == 0,
	   "set the parameters %s", buf_cstr(&err));
	allowed_cases();
	ok(make_msg("Subject: x\n\nbody\n") >= 0, "a fake queue file");
	deliver_cases();
	close(msg.fd);
	nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	buf_free(&err);
	return done_testing();
}
