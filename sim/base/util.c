/*
 * util: strict number parsing, error formatting and atomic file writes (see util.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int util_parse_double(const char *s, double *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int util_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

const char *util_fmt_exact(char *buf, size_t len, double x)
{
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return buf;
}

void util_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void util_printable(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (; *s && n + 4 < len; s++)
        out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    if (*s && n + 4 >= len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

int util_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int util_mkdir_p(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        util_errf(err, errlen, "output directory name '%s' is empty or too long", path);
        return -1;
    }
    memcpy(buf, path, n + 1);
    /* Create each prefix in turn; an existing directory is fine, anything else is not. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            util_errf(err, errlen, "cannot create directory '%s': %s", buf, strerror(errno));
            return -1;
        }
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        util_errf(err, errlen, "'%s' exists and is not a directory", path);
        return -1;
    }
    return 0;
}

const char *util_file_kind(unsigned mode)
{
    mode_t m = (mode_t)mode;
    return S_ISREG(m)    ? "a regular file"
           : S_ISDIR(m)  ? "a directory"
           : S_ISFIFO(m) ? "a FIFO (named pipe)"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
           : S_ISLNK(m)  ? "a symbolic link"
                         : "not a regular file";
}

/* Follows path through symbolic links (at most 40, as the kernel does) to the name that
 * a write must replace, which may not exist yet (a dangling link is written through too).
 * Writes it into out[len]. Returns 0, or -1 with a message. */
static int resolve_link(const char *path, char *out, size_t len, char *err, size_t errlen)
{
    if (strlen(path) + 1 > len) {
        util_errf(err, errlen, "cannot write '%s': the path is longer than %zu bytes", path,
                  len - 1);
        return -1;
    }
    snprintf(out, len, "%s", path);
    for (int hops = 0; hops < 40; hops++) {
        struct stat st;
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode))
            return 0;
        char target[4096];
        ssize_t n = readlink(out, target, sizeof target - 1);
        if (n < 0) {
            util_errf(err, errlen, "cannot write '%s': reading the link %s: %s", path, out,
                      strerror(errno));
            return -1;
        }
        target[n] = '\0';
        /* A relative target is relative to the folder holding the link. */
        const char *slash = strrchr(out, '/');
        int dir_len = target[0] == '/' || slash == NULL ? 0 : (int)(slash - out + 1);
        char next[4096];
        int w = snprintf(next, sizeof next, "%.*s%s", dir_len, out, target);
        if (w < 0 || (size_t)w >= len || (size_t)w >= sizeof next) {
            util_errf(err, errlen, "cannot write '%s': the link's target path is too long", path);
            return -1;
        }
        memcpy(out, next, (size_t)w + 1);
    }
    util_errf(err, errlen, "cannot write '%s': too many levels of symbolic links", path);
    return -1;
}

int util_check_writable_path(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (path == NULL) /* no file to write (an optional --out not given) */
        return 0;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        util_errf(err, errlen, "cannot write '%s': it is %s, not a regular file", path,
                  util_file_kind((unsigned)st.st_mode));
        return -1;
    }
    return 0;
}

int util_atomic_open(util_atomic_file *f, const char *path, char *err, size_t errlen)
{
    f->fp = NULL;
    f->final_path[0] = f->tmp_path[0] = '\0';
    if (util_check_writable_path(path, err, errlen) != 0)
        return -1;
    /* A symbolic link is written through: the file it names is replaced, the link stays. */
    if (resolve_link(path, f->final_path, sizeof f->final_path, err, errlen) != 0)
        return -1;
    /* The temporary file sits in the same directory as the file it replaces, so that
     * rename() is atomic. */
    const char *target = f->final_path;
    const char *slash = strrchr(target, '/');
    int dir_len = slash ? (int)(slash - target + 1) : 0;
    const char *base = slash ? slash + 1 : target;
    int w = snprintf(f->tmp_path, sizeof f->tmp_path, "%.*s.%s.tmp-%ld", dir_len, target, base,
                     (long)getpid());
    if (w < 0 || (size_t)w >= sizeof f->tmp_path) {
        util_errf(err, errlen, "cannot write '%s': the path is longer than %zu bytes", path,
                  sizeof f->tmp_path - 1);
        return -1;
    }
    f->fp = fopen(f->tmp_path, "w");
    if (f->fp == NULL) {
        util_errf(err, errlen, "cannot write '%s': %s", f->tmp_path, strerror(errno));
        return -1;
    }
    return 0;
}

int util_atomic_commit(util_atomic_file *f, char *err, size_t errlen)
{
    if (f->fp == NULL) {
        util_errf(err, errlen, "'%s' was not open", f->final_path);
        return -1;
    }
    int bad = ferror(f->fp);
    if (fclose(f->fp) != 0)
        bad = 1;
    f->fp = NULL;
    if (bad) {
        util_errf(err, errlen, "error writing '%s': %s", f->tmp_path, strerror(errno));
        remove(f->tmp_path);
        return -1;
    }
    /* Checked again at the last moment: whatever now sits at the path must be a regular
     * file (or nothing), never a device, FIFO, folder or link put there meanwhile. */
    struct stat st;
    if (lstat(f->final_path, &st) == 0 && !S_ISREG(st.st_mode)) {
        util_errf(err, errlen, "cannot write '%s': it is %s, not a regular file", f->final_path,
                  util_file_kind((unsigned)st.st_mode));
        remove(f->tmp_path);
        return -1;
    }
    if (rename(f->tmp_path, f->final_path) != 0) {
        util_errf(err, errlen, "cannot rename '%s' to '%s': %s", f->tmp_path, f->final_path,
                  strerror(errno));
        remove(f->tmp_path);
        return -1;
    }
    return 0;
}

int util_install_file(const char *tmp, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode)) {
        if (rename(tmp, path) == 0)
            return 0;
        util_errf(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        return -1;
    }
    /* A link (or something else): copy through the atomic writer, which follows links
     * and refuses what is not a regular file. */
    util_atomic_file f;
    FILE *in = fopen(tmp, "rb");
    if (in == NULL) {
        util_errf(err, errlen, "cannot read '%s': %s", tmp, strerror(errno));
        return -1;
    }
    int rc = util_atomic_open(&f, path, err, errlen);
    char buf[65536];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, f.fp) != n)
            rc = -1;
    if (rc == 0 && ferror(in)) {
        util_errf(err, errlen, "cannot read '%s'", tmp);
        rc = -1;
    }
    fclose(in);
    if (rc == 0)
        rc = util_atomic_commit(&f, err, errlen);
    else
        util_atomic_abort(&f);
    remove(tmp);
    return rc;
}

int util_atomic_commit_all(util_atomic_file *f, size_t n, char *err, size_t errlen)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat st;
        if (f[i].fp == NULL)
            continue;
        if (lstat(f[i].final_path, &st) == 0 && !S_ISREG(st.st_mode)) {
            util_errf(err, errlen, "cannot write '%s': it is %s, not a regular file",
                      f[i].final_path, util_file_kind((unsigned)st.st_mode));
            rc = -1;
        } else if (fflush(f[i].fp) != 0 || ferror(f[i].fp)) {
            util_errf(err, errlen, "error writing '%s': %s", f[i].tmp_path, strerror(errno));
            rc = -1;
        }
    }
    size_t done = 0;
    for (; rc == 0 && done < n; done++) {
        if (f[done].fp != NULL && util_atomic_commit(&f[done], err, errlen) != 0)
            rc = -1;
        if (rc != 0)
            break;
    }
    if (rc != 0) {
        for (size_t i = 0; i < done; i++)
            if (f[i].final_path[0])
                remove(f[i].final_path);
        for (size_t i = 0; i < n; i++)
            util_atomic_abort(&f[i]);
    }
    return rc;
}

void util_atomic_abort(util_atomic_file *f)
{
    if (f->fp != NULL) {
        fclose(f->fp);
        f->fp = NULL;
        remove(f->tmp_path);
    }
}

int util_write_files(const char *dir, size_t n, const char *const *names,
                     const util_writer *write, const void *const *what, char *err,
                     size_t errlen)
{
    util_atomic_file f[UTIL_MAX_FILES];
    if (n > UTIL_MAX_FILES) {
        util_errf(err, errlen, "%zu files at once (at most %d)", n, UTIL_MAX_FILES);
        return -1;
    }
    if (util_mkdir_p(dir, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (util_atomic_open(&f[i], path, err, errlen) != 0) {
            for (size_t j = 0; j < i; j++)
                util_atomic_abort(&f[j]);
            return -1;
        }
        write[i](f[i].fp, what[i]);
    }
    return util_atomic_commit_all(f, n, err, errlen);
}

/* Appends s to buf[len] at *at, cut short if need be. */
static void list_put(char *buf, size_t len, size_t *at, const char *s)
{
    if (*at + 1 >= len)
        return;
    int n = snprintf(buf + *at, len - *at, "%s", s);
    if (n > 0)
        *at += (size_t)n < len - *at ? (size_t)n : len - *at - 1;
}

void util_list_append(char *buf, size_t len, size_t *at, size_t i, size_t n,
                      const char *last_sep, const char *item)
{
    if (len == 0)
        return;
    if (i > 0)
        list_put(buf, len, at, i + 1 == n ? last_sep : ", ");
    list_put(buf, len, at, item);
}

const char *util_fmt_fig(char *buf, size_t len, int digits, double x)
{
    if (isfinite(x))
        snprintf(buf, len, "%.*g", digits, x);
    else
        snprintf(buf, len, "n/a");
    return buf;
}
