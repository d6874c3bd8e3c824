/*
 * outdir: a results folder (--out DIR) that one command at a time writes, with a MANIFEST
 * of the files capsim wrote in it.
 *
 * A command that writes a folder opens it first (outdir_open): the folder is created if
 * need be, checked to take files, and locked (flock on the folder itself) so that a second
 * capsim command writing the same folder is refused at once instead of mixing its files
 * with the first's. The files of the folder are noted (identity: device, inode, size and
 * modification time). The command then writes its files as it always has, each one
 * atomically, and calls outdir_settle, which
 *
 *   - lists as this run's files those that are new or changed since the open;
 *   - removes the files the previous MANIFEST lists that this run did not write again,
 *     unless they were changed since capsim wrote them (their hash differs): a file
 *     capsim did not write, or one the user edited, is never removed;
 *   - writes DIR/MANIFEST (atomically, last) listing this run's files with their sizes and
 *     hashes, the command line and the seed.
 *
 * So an interrupted run leaves the old MANIFEST in place: the old files it lists are still
 * there (nothing is removed before the new files are all written), and `capsim plot`, which
 * draws only what a MANIFEST lists, draws no mix of two runs' files. A scope ("plots/")
 * limits a command to part of the folder: `capsim plot` settles only DIR/plots and keeps
 * the rest of the MANIFEST as it was.
 *
 * MANIFEST is a text file, one record a line, fields separated by TABs:
 *     # comment lines
 *     command<TAB>capsim run --model ... --out DIR
 *     seed<TAB>42
 *     scope<TAB>plots/                (only when the MANIFEST covers part of the folder)
 *     file<TAB>PATH<TAB>BYTES<TAB>HASH  (PATH relative to the folder, HASH 16 hex digits
 *                                       of FNV-1a 64 of the content), sorted by PATH
 * It holds nothing that differs between two identical runs, so equal runs give equal
 * folders.
 */
#ifndef CAPSIM_OUTDIR_H
#define CAPSIM_OUTDIR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OUTDIR_MANIFEST "MANIFEST"

/* One file of a MANIFEST. */
typedef struct outdir_entry {
    char *path; /* relative to the folder */
    uint64_t bytes, hash;
} outdir_entry;

/* A MANIFEST read back. The caller owns it: outdir_manifest_fini frees it. */
typedef struct outdir_manifest {
    outdir_entry *e; /* sorted by path */
    size_t n, cap;
    char scope[64];  /* "" when the MANIFEST covers the whole folder */
    char **commands; /* the "command" and "seed" lines, in order */
    size_t n_commands;
} outdir_manifest;

/* Reads DIR/MANIFEST into m (zero-initialised by this call). Returns 1 when read, 0 when
 * there is none (m is empty), -1 when it cannot be read, -2 when it is not one capsim
 * wrote (its first line is not capsim's head; m is empty, message in err).
 * Lines it does not know and unsafe paths (absolute, with "..") are passed over. */
int outdir_manifest_read(const char *dir, outdir_manifest *m, char *err, size_t errlen);

/* The entry for path, or NULL. */
const outdir_entry *outdir_manifest_find(const outdir_manifest *m, const char *path);

void outdir_manifest_fini(outdir_manifest *m);

/* FNV-1a 64 of the content of path, and its size. Returns 0, or -1 (cannot be read). */
int outdir_hash_file(const char *path, uint64_t *hash, uint64_t *bytes);

/* An open results folder (opaque). */
typedef struct outdir outdir;

/* What outdir_open returns besides 0. */
#define OUTDIR_FAILED   (-1) /* cannot create, write or lock the folder */
#define OUTDIR_BAD_PATH (-2) /* DIR, or one of files, is not a folder / regular file */

/* Opens dir for a command: creates it and its missing parents, checks that a file can be
 * created in it and that none of files (paths relative to dir the command is about to
 * write; NULL-terminated, may be NULL) is a directory, FIFO or device, takes its lock
 * without waiting, and notes its files. scope is "" for the whole folder or a subfolder
 * "plots/". command and seed (may be NULL) go into the MANIFEST.
 * Returns 0 with *od (free it with outdir_close), or OUTDIR_FAILED / OUTDIR_BAD_PATH with
 * a one-line message and nothing created. */
int outdir_open(outdir **od, const char *dir, const char *scope, const char *command,
                const char *seed, const char *const *files, char *err, size_t errlen);

/* Records the run: with prune, removes the earlier run's files this run did not write
 * (see the file comment; a file kept because it was changed is named on notes, prefixed
 * with "capsim CMD: ", except gnuplot scripts, which plots/ reports itself), then writes
 * the MANIFEST. Without prune (a run that failed half way) only adds the files written
 * to the MANIFEST, and leaves it alone when nothing was written. May be called more than
 * once (before and after drawing plots). Returns 0, or -1 with a message. */
int outdir_settle(outdir *od, int prune, FILE *notes, const char *cmd, char *err, size_t errlen);

/* Names on notes ("capsim CMD: removed N files ...") the files of the earlier run that the
 * settles removed and that are still gone (plots removed and drawn again are not). */
void outdir_report_removed(const outdir *od, FILE *notes, const char *cmd);

/* Whether outdir_open created the folder (it was not there before). While it is open, an
 * interrupting signal removes such a folder when it is empty (see outdir.c). */
int outdir_created(const outdir *od);

/* Unlocks and frees od. When finished is 0 and the folder was created by outdir_open and
 * is still empty, removes it (and the parents it created). */
void outdir_close(outdir *od, int finished);

#endif
