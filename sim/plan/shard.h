/*
 * shard: the identity card of a sweep's results, DIR/shard.ini beside DIR/summary.csv,
 * which capsim merge checks before it joins shards.
 *
 * It says which sweep the rows belong to (the sweep id, a hash of every setting and of the
 * grid, so two different sweeps never match), which shard of how many they are, which
 * points that shard holds, and the length and hash of summary.csv as written, so that a
 * summary cut short or edited since is caught instead of merged. A whole sweep (and a
 * merge's result) is shard 1/1 and holds every point.
 *
 *     # capsim sweep: what DIR/summary.csv holds (capsim merge checks it)
 *     sweep_id = 3f9c0e11d2a4b5c6
 *     points = 8
 *     shard = 1/2
 *     point_indices = 0:6:2
 *     rows = 4
 *     summary_bytes = 5120
 *     summary_fnv1a64 = 0123456789abcdef
 */
#ifndef CAPSIM_SHARD_H
#define CAPSIM_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SHARD_FILE       "shard.ini"
#define SHARD_HASH_START 0xcbf29ce484222325ull /* FNV-1a 64's offset basis */

typedef struct shard_info {
    char sweep_id[17];     /* 16 hex digits */
    uint64_t points;       /* the points of the whole grid */
    uint64_t index, count; /* shard index (1-based) of count: points index-1, +count, ... */
    uint64_t rows;         /* rows of summary.csv below its header */
    uint64_t summary_bytes;
    uint64_t summary_hash; /* FNV-1a 64 of summary.csv */
} shard_info;

/* FNV-1a 64 of data[0..len) continued from h (start with SHARD_HASH_START). */
uint64_t shard_hash(uint64_t h, const void *data, size_t len);

/* The number of points shard index/count of a grid of points holds. */
uint64_t shard_size(uint64_t points, uint64_t index, uint64_t count);

/* Whether point p belongs to the shard. */
int shard_holds(const shard_info *s, uint64_t p);

/* Writes s in the form above. */
void shard_write(FILE *fp, const shard_info *s);

/* Reads path into s. Returns 0, or -1 with "PATH:LINE: what is wrong" (or "PATH: ...")
 * when the file is missing, malformed or inconsistent (a shard outside 1..count, a
 * point_indices line that does not match the shard). */
int shard_read(const char *path, shard_info *s, char *err, size_t errlen);

/* Reads the summary at path whole (*text, malloc'ed and NUL-terminated; the caller frees
 * it) and checks it against s: its length and hash. Returns 0, or -1 with a message naming
 * path and what differs (a summary cut short, edited, empty or missing). */
int shard_read_summary(const char *path, const shard_info *s, char **text, size_t *len, char *err,
                       size_t errlen);

#endif
