/*
 * queue_file: the on-disk format of a queued message, and the queue ID.
 *
 * A queue file is a sequence of records: a type byte, a 4-byte big-endian
 * data length, the data.  Envelope records come first, then exactly one
 * content record (the message in canonical form: LF line ends, unstuffed),
 * then the end record.  A file without its end record, or with anything
 * but NUL bytes after it, is incomplete and never delivered.  Records are
 * never text lines, so no address can inject a field.
 *
 * The end record is empty, or holds the file's seal: the FNV-1a 64-bit
 * hash (big-endian) of every byte before the end record.  A sealed file
 * was written over QUEUE_FILL bytes of zeros made and synced ahead, so its
 * size did not change and its last sync was an fdatasync that needed no
 * journal commit; its mode became QUEUE_MODE only after that sync, so
 * after a crash it may still be QUEUE_MODE_PARTIAL, and the seal is what
 * tells qmgr it is whole (qmgr_queue_recover_sealed; only there is it
 * checked, since qmgr's status writes change the bytes it covers).  The
 * NUL bytes after its end record are what is left of those zeros.
 *
 * A recipient record's data is one status byte followed by the address; the
 * status is overwritten in place (queue_file_set_status) and fsync'd.  The
 * records O, n and o before an R record belong to it (each at most once).
 * The W record's one byte says whether the delay warning went out; it too
 * is overwritten in place (queue_file_set_warn).  Files written before a
 * record type existed simply lack it: each has a neutral default.
 *
 * Writers: cleanup (active/ID, made with QUEUE_MODE_PARTIAL and given
 * QUEUE_MODE once complete: just before its fsync, or, sealed, just after
 * its fdatasync).  Readers: qmgr (which
 * trusts its own queue but still validates every length).
 */
#ifndef MOAT_QUEUE_FILE_H
#define MOAT_QUEUE_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Record types. */
#define QREC_VERSION 'V'   /* "1" */
#define QREC_ARRIVAL 'T'   /* decimal seconds since the epoch */
#define QREC_SENDER 'S'    /* "" for the null sender */
#define QREC_ORIG_RCPT 'O' /* original recipient of the next R record */
#define QREC_RCPT 'R'      /* status byte + address */
#define QREC_CLIENT_ADDR 'C'
#define QREC_CLIENT_NAME 'N'
#define QREC_HELO 'H'
#define QREC_PROTOCOL 'P'
#define QREC_AUTH_USER 'A'
#define QREC_SUBMIT_UID 'U' /* decimal uid of a local submitter */
#define QREC_SMTPUTF8 '8'   /* empty: SMTPUTF8 requested (RFC 6531) */
#define QREC_DSN_RET 'r'    /* "FULL" or "HDRS" (RFC 3461 RET) */
#define QREC_DSN_ENVID 'i'  /* the decoded ENVID (dsn_envid_ok) */
#define QREC_DSN_NOTIFY 'n' /* NOTIFY of the next R record, canonical */
#define QREC_DSN_ORCPT 'o'  /* ORCPT of the next R record, "type;addr" */
#define QREC_WARN 'W'       /* one byte: QWARN_DUE or QWARN_SENT */
#define QREC_CONTENT 'M'
#define QREC_END 'E' /* empty */

#define QREC_HEADER_LEN 5
#define QREC_ENVELOPE_MAX (8 * 1024 * 1024) /* all records but M */
#define QREC_FIELD_MAX 4096                 /* one envelope record */

/* Recipient status bytes. */
#define QRCPT_TODO '-'    /* not yet delivered */
#define QRCPT_DONE 'D'    /* delivered */
#define QRCPT_BOUNCED 'B' /* failed permanently, DSN sent (or none due) */

/* The delay warning (the W record). */
#define QWARN_DUE '-'  /* not sent yet */
#define QWARN_SENT 'D' /* sent, or no longer due */

#define QUEUE_ID_SIZE 24 /* with the NUL */

/*
 * A fresh queue ID: time-ordered, unique among this host's processes,
 * only [0-9A-F] (safe as a file name).  Sortable by arrival.
 */
void queue_id_new(char id[QUEUE_ID_SIZE]);
/* 1 when s is a well-formed queue ID (used before any path is built). */
int queue_id_valid(const char *s);

struct queue_rcpt {
	char *addr;
	char *orig;          /* NULL when none */
	unsigned dsn_notify; /* DSN_NOTIFY_* bits, 0 when none given */
	char *dsn_orcpt;     /* "type;address", NULL when none */
	char status;
	off_t status_offset; /* file offset of the status byte */
};

struct queue_env {
	long long arrival;
	char *sender;
	char *client_addr, *client_name, *helo, *protocol, *auth_user;
	long long submit_uid; /* -1 when none */
	int smtputf8;         /* the 8 record: SMTPUTF8 requested */
	int dsn_ret;          /* enum dsn_ret, DSN_RET_NONE when none */
	char *dsn_envid;      /* NULL when none */
	char warn;            /* QWARN_*, or 0: the file has no W record */
	off_t warn_offset;    /* file offset of the W byte */
	struct queue_rcpt *rcpt;
	size_t rcpt_count;
	off_t content_offset;
	size_t content_length;
	int sealed; /* the end record holds a seal (queue_seal_matches) */
};

void queue_env_init(struct queue_env *env);
void queue_env_free(struct queue_env *env);

/*
 * Pure parser of a whole queue file held in memory (e.g. mmap'd): checks
 * every record, the version, exactly one content record followed by the end
 * record, then nothing or only NUL bytes.  Returns 0, or -1 with a reason
 * in err.  The content is not read, only located.
 */
int queue_env_parse(const char *file, size_t len, struct queue_env *env,
		    struct buf *err);
/*
 * 1 when the file env was parsed from is sealed and its seal is the hash
 * of every byte before its end record: it is as its writer sealed it (a
 * status byte qmgr rewrote breaks the match, so only a file qmgr never
 * worked on, a partial one, is checked).
 */
int queue_seal_matches(const char *file, size_t len,
		       const struct queue_env *env);

/* mmap fd read-only and parse it. */
int queue_file_read(int fd, struct queue_env *env, struct buf *err);

/* Overwrite one recipient's status byte and fsync the file. */
int queue_file_set_status(int fd, const struct queue_rcpt *rcpt, char status);
/*
 * The same without the sync: the caller makes several status bytes
 * durable with one fdatasync(fd) (qmgr, at the end of a delivery).
 */
int queue_file_write_status(int fd, const struct queue_rcpt *rcpt, char status);
/* Overwrite the W record's byte (the file must have one) and fsync. */
int queue_file_set_warn(int fd, const struct queue_env *env, char status);

/*
 * A queue file that cleanup is still writing has QUEUE_MODE_PARTIAL (owner
 * write only): qmgr, its owner but not root, cannot open it to read, so it
 * never sees a message before the 250.  A complete file has QUEUE_MODE.
 */
#define QUEUE_MODE 0600
#define QUEUE_MODE_PARTIAL 0200
/* The zeros a file made ahead holds (cleanup's spares); what fits is sealed. */
#define QUEUE_FILL 8192
#define QUEUE_SEAL_LEN 8

/* FNV-1a 64 of len bytes, continuing from h (start: QUEUE_SEAL_INIT). */
#define QUEUE_SEAL_INIT 0xcbf29ce484222325ULL
unsigned long long queue_seal(unsigned long long h, const void *p, size_t len);

/*
 * Writer.  queue_writer_open creates name (O_CREAT|O_EXCL, 0600) relative
 * to dirfd; queue_writer_adopt takes a file its caller made (fd, open for
 * writing at offset 0, empty or holding `filled` NUL bytes synced to disk;
 * the writer's from the call on, closed even when the call fails).
 * done_mode, when not 0, is the mode finish gives the file (cleanup:
 * QUEUE_MODE on a QUEUE_MODE_PARTIAL file).  Records go through a buffer;
 * content is streamed.  finish writes the content length back into the M
 * record and appends the end record; a file that fits in its filled bytes
 * is written at once, sealed, fdatasync'd and only then given done_mode,
 * any other is given done_mode and then fsync'd.  Any I/O error makes the
 * writer fail from then on (every call returns -1, errno kept), so the
 * caller checks only at finish; abort closes and unlinks.  A full disk is
 * a temporary failure, and a file removed while it was written (no link
 * left at finish) fails with ENOENT.  The writer writes the version record
 * itself (a V "1" record passed first is accepted and not repeated); a
 * failed finish removes the file.
 */
struct queue_writer {
	int fd;
	int dirfd;
	char name[64];
	struct buf out;
	off_t pos;            /* bytes written to the file so far */
	off_t content_header; /* offset of the M record, or -1 */
	size_t content_length;
	int error; /* first errno, 0 when fine */
	mode_t done_mode;
	size_t filled; /* NUL bytes the file held when adopted */
};

int queue_writer_open(struct queue_writer *w, int dirfd, const char *name);
int queue_writer_adopt(struct queue_writer *w, int dirfd, const char *name,
		       int fd, size_t filled);
int queue_writer_record(struct queue_writer *w, int type, const void *data,
			size_t len);
int queue_writer_rcpt(struct queue_writer *w, const char *addr,
		      const char *orig);
/* A recipient with its DSN NOTIFY bits (0: none) and ORCPT (NULL: none). */
int queue_writer_rcpt_dsn(struct queue_writer *w, const char *addr,
			  const char *orig, unsigned notify, const char *orcpt);
int queue_writer_content(struct queue_writer *w, const void *data, size_t len);
int queue_writer_finish(struct queue_writer *w);
void queue_writer_abort(struct queue_writer *w);

#endif
