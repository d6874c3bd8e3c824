/*
 * test_outputs: how capsim writes its output files (sim/base/util's atomic writer): through
 * a symbolic link to the file it names, never over a directory, FIFO or device.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, symlink, mkfifo */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "tests/check.h"

/* A fresh empty folder under /tmp, its path in dir[len]. */
static void temp_dir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/capsim-outputs-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
}

/* Writes text to path through the atomic writer; returns its status, message in err. */
static int write_text(const char *path, const char *text, char *err, size_t errlen)
{
    util_atomic_file f;
    if (util_atomic_open(&f, path, err, errlen) != 0)
        return -1;
    fputs(text, f.fp);
    return util_atomic_commit(&f, err, errlen);
}

/* The first line of path, or "" if it cannot be read. */
static void read_text(const char *path, char *out, size_t len)
{
    out[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return;
    if (fgets(out, (int)len, fp) == NULL)
        out[0] = '\0';
    fclose(fp);
}

static void test_writes_through_a_symlink(void)
{
    char dir[64], link[128], target[128], sub[128], dangling[128], got[64], err[512];
    temp_dir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0777);
    snprintf(target, sizeof target, "%s/sub/real.csv", dir);
    snprintf(link, sizeof link, "%s/link.csv", dir);
    CHECK_EQ_INT(write_text(target, "old\n", err, sizeof err), 0);
    CHECK_EQ_INT(symlink("sub/real.csv", link), 0);
    CHECK_EQ_INT(write_text(link, "new\n", err, sizeof err), 0);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    read_text(target, got, sizeof got);
    CHECK(strcmp(got, "new\n") == 0);
    /* A link to a file that does not exist yet creates that file. */
    snprintf(dangling, sizeof dangling, "%s/dangling.csv", dir);
    CHECK_EQ_INT(symlink("sub/later.csv", dangling), 0);
    CHECK_EQ_INT(write_text(dangling, "later\n", err, sizeof err), 0);
    CHECK(lstat(dangling, &st) == 0 && S_ISLNK(st.st_mode));
    snprintf(target, sizeof target, "%s/sub/later.csv", dir);
    read_text(target, got, sizeof got);
    CHECK(strcmp(got, "later\n") == 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void test_refuses_what_is_not_a_regular_file(void)
{
    char dir[64], fifo[128], sub[128], err[512];
    temp_dir(dir, sizeof dir);
    snprintf(fifo, sizeof fifo, "%s/pipe.csv", dir);
    snprintf(sub, sizeof sub, "%s/folder.csv", dir);
    CHECK_EQ_INT(mkfifo(fifo, 0666), 0);
    CHECK_EQ_INT(mkdir(sub, 0777), 0);
    CHECK_EQ_INT(write_text(fifo, "x\n", err, sizeof err), -1);
    CHECK_CONTAINS(err, "it is a FIFO");
    CHECK_EQ_INT(write_text(sub, "x\n", err, sizeof err), -1);
    CHECK_CONTAINS(err, "it is a directory");
    CHECK_EQ_INT(write_text("/dev/null", "x\n", err, sizeof err), -1);
    CHECK_CONTAINS(err, "'/dev/null': it is a character device");
    struct stat st;
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    /* A FIFO put in place after the file was opened is not renamed over either. */
    char late[128];
    snprintf(late, sizeof late, "%s/late.csv", dir);
    util_atomic_file f;
    CHECK_EQ_INT(util_atomic_open(&f, late, err, sizeof err), 0);
    CHECK_EQ_INT(mkfifo(late, 0666), 0);
    CHECK_EQ_INT(util_atomic_commit(&f, err, sizeof err), -1);
    CHECK_CONTAINS(err, "it is a FIFO");
    CHECK(lstat(late, &st) == 0 && S_ISFIFO(st.st_mode));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

TEST_MAIN(TEST(test_writes_through_a_symlink), TEST(test_refuses_what_is_not_a_regular_file))
