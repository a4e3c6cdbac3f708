/*
 * maildrop: the contract between postdrop (writer, running as the
 * submitting user with group moat-drop) and pickup (reader, moat-pickup,
 * chrooted).  A maildrop file is a queue file in the format of queue_file.h
 * (V, T, S, R records with status QRCPT_TODO, one M content record, E),
 * written by postdrop with queue_writer into maildrop/ under a fresh queue
 * ID.  The content is the message as the user gave it, with LF line ends.
 *
 * postdrop creates the file mode 0600 and, after the end record and fsync,
 * changes it to MAILDROP_MODE_DONE: pickup ignores files without the owner
 * execute bit (still being written).  The file's owner is the submitter:
 * pickup takes the uid from fstat, never from the file's contents.  pickup
 * treats everything in maildrop/ as hostile: a file that is not a regular
 * file with one link, that is too large, or that does not parse goes to
 * corrupt/ (or is left alone when it is a link) with a log line.
 */
#ifndef MOAT_MAILDROP_H
#define MOAT_MAILDROP_H

#define MAILDROP_MODE_WRITING 0600
#define MAILDROP_MODE_DONE 0744
/* Socket pickup listens on for wake-ups (any local user may poke it). */
#define MAILDROP_WAKE_SOCKET "private/pickup"

#endif
