/*
 * spool: read-once inputs copied to an unlinked temporary file (see spool.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/base/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/util.h"

/* Copies everything from in to out; returns 0, or -1 with errno set. */
static int copy_all(int in, int out)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return -1;
            done += w;
        }
    }
}

int spool_input(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
    buf[0] = '\0';
    struct stat st;
    if (path == NULL || path[0] == '\0' || stat(path, &st) != 0 || S_ISREG(st.st_mode) ||
        S_ISDIR(st.st_mode))
        return 0;
    const char *dir = getenv("TMPDIR");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/capsim-spool-XXXXXX", dir && dir[0] ? dir : "/tmp");
    int out = mkstemp(tmp);
    if (out < 0) {
        util_errf(err, errlen, "%s: cannot copy this pipe to a temporary file %s: %s", path, tmp,
                  strerror(errno));
        return -1;
    }
    /* Unlinked at once: the copy disappears with the process, whatever ends it. */
    unlink(tmp);
    int in = open(path, O_RDONLY);
    if (in < 0) {
        util_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(out);
        return -1;
    }
    int rc = copy_all(in, out);
    int saved = errno;
    close(in);
    if (rc != 0) {
        util_errf(err, errlen, "%s: cannot copy this pipe to a temporary file: %s", path,
                  strerror(saved));
        close(out);
        return -1;
    }
    snprintf(buf, len, "/proc/self/fd/%d", out);
    if (access(buf, R_OK) != 0) {
        util_errf(err, errlen,
                  "%s: a pipe can be read only through /proc/self/fd, which this "
                  "system does not have; give a file",
                  path);
        close(out);
        buf[0] = '\0';
        return -1;
    }
    return 1;
}

void spool_rename(char *msg, size_t len, const char *from, const char *to)
{
    size_t nf = strlen(from);
    if (nf == 0 || strstr(msg, from) == NULL)
        return;
    char *out = malloc(len);
    if (out == NULL)
        return;
    size_t at = 0;
    for (const char *p = msg; *p && at + 1 < len;) {
        if (strncmp(p, from, nf) == 0) {
            int w = snprintf(out + at, len - at, "%s", to);
            at = w < 0 || (size_t)w >= len - at ? len - 1 : at + (size_t)w;
            p += nf;
        } else {
            out[at++] = *p++;
        }
    }
    out[at] = '\0';
    memcpy(msg, out, at + 1);
    free(out);
}
