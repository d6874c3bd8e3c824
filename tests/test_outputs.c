/*
 * test_outputs: how capsim writes its output files (sim/base/util's atomic writer): through
 * a symbolic link to the file it names, never over a directory, FIFO or device; and its
 * results folders (sim/base/outdir): one writer at a time, and a MANIFEST by which only
 * capsim's own unchanged files of an earlier run are removed.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, symlink, mkfifo */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/outdir.h"
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

/* Removes a temp_dir and all it holds. */
static void remove_temp_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
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
    remove_temp_dir(dir);
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
    remove_temp_dir(dir);
}

/* Writes dir/name (a relative path) with text, through the atomic writer. */
static void put(const char *dir, const char *name, const char *text)
{
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK_EQ_INT(write_text(path, text, err, sizeof err), 0);
}

static int exists(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_folder_locked_for_one_writer(void)
{
    char dir[64], err[512];
    temp_dir(dir, sizeof dir);
    outdir *a = NULL, *b = NULL;
    CHECK_EQ_INT(outdir_open(&a, dir, "", "first", NULL, NULL, err, sizeof err), 0);
    CHECK_EQ_INT(outdir_open(&b, dir, "", "second", NULL, NULL, err, sizeof err), OUTDIR_FAILED);
    CHECK_CONTAINS(err, "being written by another capsim command");
    CHECK(b == NULL);
    outdir_close(a, 1);
    CHECK_EQ_INT(outdir_open(&b, dir, "", "second", NULL, NULL, err, sizeof err), 0);
    outdir_close(b, 1);
    /* A folder the open created is removed again when the run fails before writing. */
    char fresh[128];
    snprintf(fresh, sizeof fresh, "%s/new/deeper", dir);
    CHECK_EQ_INT(outdir_open(&a, fresh, "", "third", NULL, NULL, err, sizeof err), 0);
    outdir_close(a, 0);
    CHECK(!exists(dir, "new"));
    remove_temp_dir(dir);
}

static void test_manifest_removes_only_capsims_unchanged_files(void)
{
    char dir[64], err[512];
    temp_dir(dir, sizeof dir);
    put(dir, "mine.txt", "the user's\n");
    outdir *o = NULL;
    CHECK_EQ_INT(outdir_open(&o, dir, "", "capsim first", "1", NULL, err, sizeof err), 0);
    put(dir, "a.csv", "a\n");
    put(dir, "b.csv", "b\n");
    put(dir, "edited.csv", "e\n");
    CHECK_EQ_INT(outdir_settle(o, 1, NULL, "t", err, sizeof err), 0);
    outdir_close(o, 1);
    outdir_manifest m;
    CHECK_EQ_INT(outdir_manifest_read(dir, &m, err, sizeof err), 1);
    CHECK_EQ_U64(m.n, 3);
    CHECK(outdir_manifest_find(&m, "a.csv") != NULL);
    CHECK(outdir_manifest_find(&m, "mine.txt") == NULL);
    outdir_manifest_fini(&m);
    /* The second run writes a.csv only; b.csv goes, the edited file and the user's stay. */
    put(dir, "edited.csv", "e, edited\n");
    CHECK_EQ_INT(outdir_open(&o, dir, "", "capsim second", "2", NULL, err, sizeof err), 0);
    put(dir, "a.csv", "a again\n");
    CHECK_EQ_INT(outdir_settle(o, 1, NULL, "t", err, sizeof err), 0);
    outdir_close(o, 1);
    CHECK(exists(dir, "a.csv"));
    CHECK(!exists(dir, "b.csv"));
    CHECK(exists(dir, "edited.csv"));
    CHECK(exists(dir, "mine.txt"));
    CHECK_EQ_INT(outdir_manifest_read(dir, &m, err, sizeof err), 1);
    CHECK_EQ_U64(m.n, 1);
    CHECK(m.n_commands == 2 && strcmp(m.commands[0], "command\tcapsim second") == 0);
    outdir_manifest_fini(&m);
    remove_temp_dir(dir);
}

static void test_manifest_paths_stay_inside(void)
{
    char dir[64], err[512];
    temp_dir(dir, sizeof dir);
    char path[128];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    FILE *fp = fopen(path, "w");
    if (!CHECK(fp != NULL))
        return;
    fputs("# capsim MANIFEST: written by the test\n"
          "file\t../x\t1\t0000000000000000\nfile\t/etc/passwd\t1\t0000000000000000\n"
          "file\ta/./b\t1\t0000000000000000\nfile\tok.csv\t1\t0000000000000000\n"
          "file\tbad-hash\t1\txyz\n",
          fp);
    fclose(fp);
    outdir_manifest m;
    CHECK_EQ_INT(outdir_manifest_read(dir, &m, err, sizeof err), 1);
    CHECK_EQ_U64(m.n, 1);
    CHECK(m.n == 1 && strcmp(m.e[0].path, "ok.csv") == 0);
    outdir_manifest_fini(&m);
    /* A MANIFEST capsim did not write (a Python package's) is neither read nor replaced. */
    fp = fopen(path, "w");
    if (!CHECK(fp != NULL))
        return;
    fputs("include README\n", fp);
    fclose(fp);
    CHECK_EQ_INT(outdir_manifest_read(dir, &m, err, sizeof err), -2);
    outdir *o = NULL;
    CHECK_EQ_INT(outdir_open(&o, dir, "", "capsim", NULL, NULL, err, sizeof err), OUTDIR_BAD_PATH);
    CHECK_CONTAINS(err, "was not written by capsim");
    remove_temp_dir(dir);
}

TEST_MAIN(TEST(test_writes_through_a_symlink), TEST(test_refuses_what_is_not_a_regular_file),
          TEST(test_folder_locked_for_one_writer),
          TEST(test_manifest_removes_only_capsims_unchanged_files),
          TEST(test_manifest_paths_stay_inside))
