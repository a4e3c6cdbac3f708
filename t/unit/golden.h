/*
 * golden.h: run a parser over every t/unit/golden/DIR/NAME.in and compare
 * what it prints with NAME.out byte for byte (tests run from the top
 * directory).  With MOAT_GOLDEN_WRITE=1 in the environment the .out files
 * are written instead, to be reviewed before they are committed.
 */
#ifndef MOAT_GOLDEN_H
#define MOAT_GOLDEN_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

typedef void (*golden_fn)(const char *in, size_t len, struct buf *out);

static int
golden_read(const char *path, struct buf *b)
{
	FILE *fp = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	buf_reset(b);
	if (fp == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(b, chunk, n);
	fclose(fp);
	return 0;
}

static int
golden_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One check per .in file; returns how many files were found. */
static int
golden_run(const char *dir, golden_fn fn)
{
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	char **names = NULL, path[512];
	size_t count = 0, i, len;
	int write_mode = getenv("MOAT_GOLDEN_WRITE") != NULL;
	struct dirent *de;
	DIR *d = opendir(dir);

	ok(d != NULL, "golden directory %s exists (run from the top)", dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 3 && strcmp(de->d_name + len - 3, ".in") == 0) {
			names = xreallocarray(names, count + 1, sizeof(*names));
			names[count++] = xstrndup(de->d_name, len - 3);
		}
	}
	closedir(d);
	qsort(names, count, sizeof(*names), golden_cmp);
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s.in", dir, names[i]);
		golden_read(path, &in);
		buf_reset(&got);
		fn(in.data != NULL ? in.data : "", in.len, &got);
		snprintf(path, sizeof(path), "%s/%s.out", dir, names[i]);
		if (write_mode) {
			FILE *fp = fopen(path, "wb");
			if (fp != NULL) {
				fwrite(got.data, 1, got.len, fp);
				fclose(fp);
			}
		}
		if (golden_read(path, &want) < 0) {
			ok(0, "golden %s: %s missing", names[i], path);
		} else {
			int same = want.len == got.len &&
				   memcmp(want.data, got.data, got.len) == 0;
			ok(same, "golden %s/%s", dir, names[i]);
			if (!same)
				printf("#   expected:\n%s#   got:\n%s",
				       buf_cstr(&want), buf_cstr(&got));
		}
		free(names[i]);
	}
	free(names);
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
	return (int)count;
}

#endif
