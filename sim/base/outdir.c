/*
 * outdir: the lock and the MANIFEST of a results folder (see outdir.h).
 *
 * Invariants: a file is removed only when the previous MANIFEST lists it, it is still a
 * regular file reached through real folders inside DIR (no link on the way), and its
 * content hashes to what the MANIFEST recorded; the MANIFEST is written after every file
 * it lists, through the atomic writer.
 */
#define _DEFAULT_SOURCE /* flock, DT_* */
#include "sim/base/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/util.h"

/* How deep below DIR files are noted (DIR/step/plots/NAME.png is depth 3) and how many at
 * most: a folder given as --out that holds a whole project is not walked to its end. */
#define WALK_MAX_DEPTH 3
#define WALK_MAX_FILES 100000

/* The first words of every MANIFEST capsim writes. */
#define MANIFEST_HEAD "# capsim MANIFEST:"

/* ---- Small helpers -------------------------------------------------------------------- */

/* "a/b" in a malloc'ed string, or NULL when out of memory. */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s%s%s", a, *a && *b ? "/" : "", b);
    return s;
}

int outdir_hash_file(const char *path, uint64_t *hash, uint64_t *bytes)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return -1;
    uint64_t h = 14695981039346656037ull, n = 0;
    unsigned char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, fp)) > 0) {
        for (size_t i = 0; i < got; i++) {
            h ^= buf[i];
            h *= 1099511628211ull;
        }
        n += got;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad)
        return -1;
    *hash = h;
    *bytes = n;
    return 0;
}

/* True for a relative path the MANIFEST may name: no leading '/', no "." or ".."
 * component, no empty component, no control character. */
static int safe_rel(const char *p)
{
    if (*p == '\0' || *p == '/' || util_has_control(p))
        return 0;
    for (const char *c = p; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        c += n;
        if (*c == '/')
            c++;
    }
    return 1;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const outdir_entry *)a)->path, ((const outdir_entry *)b)->path);
}

/* a followed by b, in a malloc'ed string, or NULL when out of memory. */
static char *concat(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

/* ---- The MANIFEST --------------------------------------------------------------------- */

static int manifest_add(outdir_manifest *m, const char *path, uint64_t bytes, uint64_t hash)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 32;
        outdir_entry *e = realloc(m->e, cap * sizeof *e);
        if (e == NULL)
            return -1;
        m->e = e;
        m->cap = cap;
    }
    char *p = strdup(path);
    if (p == NULL)
        return -1;
    m->e[m->n++] = (outdir_entry){p, bytes, hash};
    return 0;
}

static int manifest_add_command(outdir_manifest *m, const char *line)
{
    for (size_t i = 0; i < m->n_commands; i++)
        if (strcmp(m->commands[i], line) == 0)
            return 0;
    char **c = realloc(m->commands, (m->n_commands + 1) * sizeof *c);
    if (c == NULL)
        return -1;
    m->commands = c;
    if ((c[m->n_commands] = strdup(line)) == NULL)
        return -1;
    m->n_commands++;
    return 0;
}

void outdir_manifest_fini(outdir_manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].path);
    for (size_t i = 0; i < m->n_commands; i++)
        free(m->commands[i]);
    free(m->e);
    free(m->commands);
    memset(m, 0, sizeof *m);
}

/* Reads one line of any length into *line (getline's buffer). */
static int manifest_line(outdir_manifest *m, char *line)
{
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "command\t", 8) == 0 || strncmp(line, "seed\t", 5) == 0)
        return manifest_add_command(m, line);
    if (strncmp(line, "scope\t", 6) == 0) {
        if (safe_rel(line + 6) && strlen(line + 6) < sizeof m->scope)
            snprintf(m->scope, sizeof m->scope, "%s", line + 6);
        return 0;
    }
    if (strncmp(line, "file\t", 5) != 0)
        return 0;
    char *path = line + 5, *tab = strchr(path, '\t');
    if (tab == NULL)
        return 0;
    *tab = '\0';
    char *end = NULL;
    unsigned long long bytes = strtoull(tab + 1, &end, 10);
    if (end == tab + 1 || *end != '\t')
        return 0;
    char *hend = NULL;
    unsigned long long hash = strtoull(end + 1, &hend, 16);
    if (hend != end + 17 || *hend != '\0' || !safe_rel(path))
        return 0;
    return manifest_add(m, path, bytes, hash);
}

int outdir_manifest_read(const char *dir, outdir_manifest *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    char *path = join(dir, OUTDIR_MANIFEST);
    if (path == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    struct stat st;
    int rc = 0;
    if (stat(path, &st) != 0) {
        rc = errno == ENOENT || errno == ENOTDIR ? 0 : -1;
        if (rc < 0)
            util_errf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        util_errf(err, errlen, "'%s' is %s, not a regular file", path,
                  util_file_kind((unsigned)st.st_mode));
        rc = -1;
    } else {
        FILE *fp = fopen(path, "r");
        char *line = NULL;
        size_t cap = 0;
        rc = fp ? 1 : -1;
        /* A file of that name that capsim did not write (a Python package's MANIFEST, say)
         * is neither read nor ever replaced. */
        int ours = 0;
        for (int first = 1; fp && getline(&line, &cap, fp) >= 0; first = 0) {
            if (first)
                ours = strncmp(line, MANIFEST_HEAD, strlen(MANIFEST_HEAD)) == 0;
            if (ours && manifest_line(m, line) != 0)
                rc = -1;
        }
        if (fp == NULL || ferror(fp))
            rc = -1;
        if (fp)
            fclose(fp);
        free(line);
        if (rc > 0 && !ours) {
            util_errf(err, errlen,
                      "'%s' was not written by capsim (it does not start with '%s'); move it "
                      "or choose another folder",
                      path, MANIFEST_HEAD);
            outdir_manifest_fini(m);
            rc = -2;
        } else if (rc < 0) {
            util_errf(err, errlen, "cannot read '%s'", path);
            outdir_manifest_fini(m);
        } else {
            if (m->n > 0)
                qsort(m->e, m->n, sizeof *m->e, cmp_entry);
        }
    }
    free(path);
    return rc;
}

const outdir_entry *outdir_manifest_find(const outdir_manifest *m, const char *path)
{
    if (m->n == 0)
        return NULL;
    outdir_entry key = {(char *)path, 0, 0};
    return bsearch(&key, m->e, m->n, sizeof *m->e, cmp_entry);
}

static void manifest_write_text(FILE *fp, const void *what)
{
    const outdir_manifest *m = what;
    fputs(MANIFEST_HEAD
          " the files capsim wrote in this folder (path, bytes, FNV-1a 64\n"
          "# hash). A later capsim command writing here removes those it does not write\n"
          "# again, unless they were changed since; capsim plot draws only the files listed.\n",
          fp);
    for (size_t i = 0; i < m->n_commands; i++)
        fprintf(fp, "%s\n", m->commands[i]);
    if (m->scope[0])
        fprintf(fp, "scope\t%s\n", m->scope);
    for (size_t i = 0; i < m->n; i++)
        fprintf(fp, "file\t%s\t%llu\t%016llx\n", m->e[i].path, (unsigned long long)m->e[i].bytes,
                (unsigned long long)m->e[i].hash);
}

/* ---- Noting the files of the folder --------------------------------------------------- */

/* A file's identity: a file replaced by a rename has a new inode, one rewritten in place
 * a new modification time. */
typedef struct noted {
    char *path; /* relative to the folder */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} noted;

typedef struct noted_list {
    noted *v;
    size_t n, cap;
} noted_list;

static void noted_free(noted_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_noted(const void *a, const void *b)
{
    return strcmp(((const noted *)a)->path, ((const noted *)b)->path);
}

static const noted *noted_find(const noted_list *l, const char *path)
{
    if (l->n == 0)
        return NULL;
    noted key = {.path = (char *)path};
    return bsearch(&key, l->v, l->n, sizeof *l->v, cmp_noted);
}

/* Names that are the MANIFEST itself or a file being written (".NAME.tmp-PID"). */
static int skipped_name(const char *rel, const char *name)
{
    if (*rel == '\0' && strcmp(name, OUTDIR_MANIFEST) == 0)
        return 1;
    return name[0] == '.' && strstr(name, ".tmp-") != NULL;
}

static int note_file(noted_list *l, const char *rel, const struct stat *st)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        noted *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    char *p = strdup(rel);
    if (p == NULL)
        return -1;
    l->v[l->n++] = (noted){p, st->st_dev, st->st_ino, st->st_size, st->st_mtim};
    return 0;
}

/* Notes the regular files (and links to regular files, by their target's identity) under
 * root/rel, down to WALK_MAX_DEPTH. Folders reached through a link are not entered. */
static int walk(const char *root, const char *rel, int depth, noted_list *l)
{
    char *here = join(root, rel);
    DIR *d = here ? opendir(here) : NULL;
    if (d == NULL) {
        free(here);
        return here ? 0 : -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && l->n < WALK_MAX_FILES && (de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || util_has_control(name) ||
            skipped_name(rel, name))
            continue;
        char *sub = join(rel, name), *full = join(here, name);
        struct stat st;
        if (sub == NULL || full == NULL) {
            rc = -1;
        } else if (lstat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth < WALK_MAX_DEPTH)
                rc = walk(root, sub, depth + 1, l);
            else if (S_ISREG(st.st_mode) ||
                     (S_ISLNK(st.st_mode) && stat(full, &st) == 0 && S_ISREG(st.st_mode)))
                rc = note_file(l, sub, &st);
        }
        free(sub);
        free(full);
    }
    closedir(d);
    free(here);
    return rc;
}

static int snapshot(const char *dir, noted_list *l)
{
    memset(l, 0, sizeof *l);
    if (walk(dir, "", 0, l) != 0) {
        noted_free(l);
        return -1;
    }
    if (l->n > 0)
        qsort(l->v, l->n, sizeof *l->v, cmp_noted);
    return 0;
}

/* ---- The open folder ------------------------------------------------------------------ */

struct outdir {
    char *dir;
    char scope[64];
    char *command, *seed;
    char *created; /* the topmost folder outdir_open created, or NULL */
    int lock_fd;
    noted_list before;   /* the files at the open */
    outdir_manifest old; /* the MANIFEST at the open (empty if none) */
    int had_manifest;
    unsigned char *told;    /* per old entry: already named as kept on notes */
    unsigned char *removed; /* per old entry: removed by a settle */
};

/* The first of dir and its parents that does not exist (a copy), or NULL if dir exists. */
static char *first_missing(const char *dir)
{
    char *p = strdup(dir);
    if (p == NULL)
        return NULL;
    struct stat st;
    if (stat(p, &st) == 0) {
        free(p);
        return NULL;
    }
    for (;;) {
        char *slash = strrchr(p, '/');
        while (slash && slash > p && slash[1] == '\0') {
            *slash = '\0';
            slash = strrchr(p, '/');
        }
        if (slash == NULL || slash == p)
            return p;
        *slash = '\0';
        if (stat(p, &st) == 0) {
            *slash = '/';
            return p;
        }
    }
}

/* Removes the folders outdir_open created, if they are empty: dir, then its parents up to
 * created. */
static void remove_created(const char *dir, const char *created)
{
    char *p = strdup(dir);
    if (p == NULL)
        return;
    size_t top = strlen(created);
    while (strlen(p) >= top && rmdir(p) == 0) {
        char *slash = strrchr(p, '/');
        if (slash == NULL || strlen(p) == top)
            break;
        *slash = '\0';
    }
    free(p);
}

/* ---- Interruption ---------------------------------------------------------------------- */

/* A folder outdir_open created must not outlive an interrupted command: while it is open,
 * SIGINT, SIGTERM and SIGHUP first remove it (and the parents created with it) when they
 * are empty, then take their earlier course. A command that writes only when its work is
 * done (run, sweep, capacity) leaves nothing; one that writes as it goes (the demo) removes
 * its own files first, and its handler hands the signal on to this one. The handler can
 * only see static storage, so the paths are kept here, for the one folder a process opens
 * at a time. SIGKILL runs no code: the empty folder then stays. */
enum { N_INTERRUPTS = 3 };
static const int INTERRUPTS[N_INTERRUPTS] = {SIGINT, SIGTERM, SIGHUP};
static char interrupt_dir[PATH_MAX];
static size_t interrupt_top; /* length of the topmost created folder's path */
static struct sigaction interrupt_old[N_INTERRUPTS];
static int interrupt_armed;

static void on_interrupt(int sig)
{
    char p[PATH_MAX];
    size_t n = strlen(interrupt_dir);
    memcpy(p, interrupt_dir, n + 1);
    while (n >= interrupt_top && rmdir(p) == 0) {
        while (n > 0 && p[n - 1] != '/')
            n--;
        if (n == 0)
            break;
        p[--n] = '\0';
    }
    for (int i = 0; i < N_INTERRUPTS; i++)
        if (INTERRUPTS[i] == sig)
            sigaction(sig, &interrupt_old[i], NULL);
    raise(sig);
}

static void interrupt_arm(const char *dir, const char *created)
{
    if (interrupt_armed || strlen(dir) >= sizeof interrupt_dir)
        return;
    memcpy(interrupt_dir, dir, strlen(dir) + 1);
    interrupt_top = strlen(created);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_INTERRUPTS; i++) {
        sigaction(INTERRUPTS[i], NULL, &interrupt_old[i]);
        if (interrupt_old[i].sa_handler != SIG_IGN)
            sigaction(INTERRUPTS[i], &sa, NULL);
    }
    interrupt_armed = 1;
}

static void interrupt_disarm(void)
{
    if (!interrupt_armed)
        return;
    for (int i = 0; i < N_INTERRUPTS; i++)
        sigaction(INTERRUPTS[i], &interrupt_old[i], NULL);
    interrupt_armed = 0;
}

/* Checks dir and the files to come before anything is created. */
static int check_paths(const char *dir, const char *const *files, char *err, size_t errlen)
{
    struct stat st;
    if (*dir == '\0') {
        util_errf(err, errlen, "the folder name is empty");
        return OUTDIR_BAD_PATH;
    }
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        util_errf(err, errlen, "'%s' is %s, not a folder", dir,
                  util_file_kind((unsigned)st.st_mode));
        return OUTDIR_BAD_PATH;
    }
    char *m = join(dir, OUTDIR_MANIFEST);
    int rc = m && util_check_writable_path(m, err, errlen) == 0 ? 0 : OUTDIR_BAD_PATH;
    free(m);
    for (size_t i = 0; rc == 0 && files && files[i]; i++) {
        char *p = join(dir, files[i]);
        if (p == NULL || util_check_writable_path(p, err, errlen) != 0)
            rc = OUTDIR_BAD_PATH;
        free(p);
    }
    return rc;
}

/* Checks that a file can be created in dir, and takes its lock. */
static int probe_and_lock(outdir *o, char *err, size_t errlen)
{
    char probe[64];
    snprintf(probe, sizeof probe, ".capsim-probe.tmp-%ld", (long)getpid());
    char *p = join(o->dir, probe);
    int fd = p ? open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666) : -1;
    if (fd < 0) {
        util_errf(err, errlen, "cannot write in '%s': %s", o->dir,
                  p ? strerror(errno) : "out of memory");
        free(p);
        return OUTDIR_FAILED;
    }
    close(fd);
    unlink(p);
    free(p);
    o->lock_fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o->lock_fd < 0) {
        util_errf(err, errlen, "cannot open '%s': %s", o->dir, strerror(errno));
        return OUTDIR_FAILED;
    }
    if (flock(o->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            util_errf(err, errlen,
                      "'%s' is being written by another capsim command; wait for it to "
                      "finish or choose another folder",
                      o->dir);
        else
            util_errf(err, errlen, "cannot lock '%s': %s", o->dir, strerror(errno));
        return OUTDIR_FAILED;
    }
    return 0;
}

static void outdir_free(outdir *o)
{
    if (o->lock_fd >= 0)
        close(o->lock_fd);
    noted_free(&o->before);
    outdir_manifest_fini(&o->old);
    free(o->told);
    free(o->removed);
    free(o->dir);
    free(o->command);
    free(o->seed);
    free(o->created);
    free(o);
}

int outdir_open(outdir **od, const char *dir, const char *scope, const char *command,
                const char *seed, const char *const *files, char *err, size_t errlen)
{
    *od = NULL;
    int rc = check_paths(dir, files, err, errlen);
    if (rc != 0)
        return rc;
    outdir *o = calloc(1, sizeof *o);
    if (o == NULL) {
        util_errf(err, errlen, "out of memory");
        return OUTDIR_FAILED;
    }
    o->lock_fd = -1;
    snprintf(o->scope, sizeof o->scope, "%s", scope);
    o->dir = strdup(dir);
    o->command = strdup(command);
    o->seed = seed ? strdup(seed) : NULL;
    o->created = first_missing(dir);
    if (o->dir == NULL || o->command == NULL || (seed && o->seed == NULL)) {
        util_errf(err, errlen, "out of memory");
        rc = OUTDIR_FAILED;
    } else if (util_mkdir_p(dir, err, errlen) != 0) {
        rc = OUTDIR_FAILED;
    } else if ((rc = probe_and_lock(o, err, errlen)) == 0) {
        int got = outdir_manifest_read(dir, &o->old, err, errlen);
        o->had_manifest = got == 1;
        o->told = calloc(o->old.n + 1, 1);
        o->removed = calloc(o->old.n + 1, 1);
        if (got < 0 || o->told == NULL || o->removed == NULL || snapshot(dir, &o->before) != 0) {
            if (got >= 0)
                util_errf(err, errlen, "out of memory");
            rc = got == -2 ? OUTDIR_BAD_PATH : OUTDIR_FAILED;
        }
    }
    if (rc != 0) {
        outdir_close(o, 0);
        return rc;
    }
    if (o->created)
        interrupt_arm(o->dir, o->created);
    *od = o;
    return 0;
}

int outdir_created(const outdir *od)
{
    return od != NULL && od->created != NULL;
}

void outdir_close(outdir *od, int finished)
{
    if (od == NULL)
        return;
    if (od->created)
        interrupt_disarm();
    if (!finished && od->created && od->dir)
        remove_created(od->dir, od->created);
    outdir_free(od);
}

/* ---- Settling ------------------------------------------------------------------------- */

static int in_scope(const outdir *o, const char *path)
{
    return strncmp(path, o->scope, strlen(o->scope)) == 0;
}

/* True when every folder on the way from dir to path is a real folder, not a link: a
 * file is removed only inside dir. */
static int real_folders(const char *dir, const char *path)
{
    char *p = join(dir, path);
    if (p == NULL)
        return 0;
    size_t base = strlen(dir) + 1;
    int ok = 1;
    for (char *s = p + base; ok && (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        struct stat st;
        ok = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
        *s = '/';
    }
    free(p);
    return ok;
}

/* Removes the empty folders left above path (inside dir) once its file is gone. */
static void remove_empty_parents(const char *dir, const char *path)
{
    char *p = join(dir, path);
    if (p == NULL)
        return;
    size_t base = strlen(dir);
    for (char *slash; (slash = strrchr(p, '/')) != NULL && (size_t)(slash - p) > base;) {
        *slash = '\0';
        if (rmdir(p) != 0)
            break;
    }
    free(p);
}

/* What becomes of an entry of the old MANIFEST this run did not write: 1 removed (it is
 * still what capsim wrote), 0 gone already, 2 kept (changed, or not a plain file). */
static int drop_stale(outdir *o, const outdir_entry *e)
{
    char *p = join(o->dir, e->path);
    struct stat st;
    uint64_t h, n;
    int what = 2;
    if (p != NULL && lstat(p, &st) != 0)
        what = 0;
    else if (p != NULL && S_ISREG(st.st_mode) && real_folders(o->dir, e->path) &&
             outdir_hash_file(p, &h, &n) == 0 && h == e->hash && n == e->bytes && remove(p) == 0)
        what = 1;
    if (what == 1)
        remove_empty_parents(o->dir, e->path);
    free(p);
    return what;
}

/* Names a kept file on notes once, except a gnuplot script under plots/: the plots module
 * says itself that it kept an edited script. */
static void tell_kept(outdir *o, size_t i, FILE *notes, const char *cmd)
{
    const char *path = o->old.e[i].path;
    size_t n = strlen(path);
    int script = strstr(path, "plots/") != NULL && n > 3 && strcmp(path + n - 3, ".gp") == 0;
    if (notes == NULL || o->told[i] || script)
        return;
    o->told[i] = 1;
    fprintf(notes,
            "capsim %s: kept %s/%s from an earlier run: it was changed since capsim wrote it, "
            "so it is yours now (no longer in %s)\n",
            cmd, o->dir, path, OUTDIR_MANIFEST);
}

/* Adds the files new or changed since the open (in scope) to m. Returns their count, or -1
 * when out of memory or a file cannot be read. */
static long add_written(outdir *o, outdir_manifest *m, char *err, size_t errlen)
{
    noted_list now;
    if (snapshot(o->dir, &now) != 0) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    long count = 0;
    for (size_t i = 0; i < now.n && count >= 0; i++) {
        const noted *f = &now.v[i], *b = noted_find(&o->before, f->path);
        if (!in_scope(o, f->path) ||
            (b && b->dev == f->dev && b->ino == f->ino && b->size == f->size &&
             b->mtime.tv_sec == f->mtime.tv_sec && b->mtime.tv_nsec == f->mtime.tv_nsec))
            continue;
        char *p = join(o->dir, f->path);
        uint64_t h, n;
        if (p == NULL || outdir_hash_file(p, &h, &n) != 0 || manifest_add(m, f->path, n, h) != 0) {
            util_errf(err, errlen, "cannot read '%s' back", p ? p : f->path);
            count = -1;
        } else {
            count++;
        }
        free(p);
    }
    noted_free(&now);
    return count;
}

int outdir_settle(outdir *od, int prune, FILE *notes, const char *cmd, char *err, size_t errlen)
{
    outdir_manifest m;
    memset(&m, 0, sizeof m);
    long written = add_written(od, &m, err, errlen);
    int rc = written < 0 ? -1 : 0;
    if (m.n > 0)
        qsort(m.e, m.n, sizeof *m.e, cmp_entry);
    /* The earlier entries: out of scope they stay; in scope, those written again are
     * listed anew, the others are removed (prune) or stay listed (a failed run). */
    size_t n_written = m.n;
    for (size_t i = 0; rc == 0 && i < od->old.n; i++) {
        const outdir_entry *e = &od->old.e[i];
        int again = n_written > 0 && bsearch(e, m.e, n_written, sizeof *m.e, cmp_entry) != NULL;
        if (again)
            continue;
        if (in_scope(od, e->path) && prune) {
            int what = drop_stale(od, e);
            if (what == 2)
                tell_kept(od, i, notes, cmd);
            od->removed[i] |= what == 1;
            continue;
        }
        char *p = join(od->dir, e->path);
        struct stat st;
        if (p && stat(p, &st) == 0 && manifest_add(&m, e->path, e->bytes, e->hash) != 0)
            rc = -1;
        free(p);
    }
    if (m.n > 0)
        qsort(m.e, m.n, sizeof *m.e, cmp_entry);
    /* A MANIFEST covering the whole folder stays whole; one started by a scoped command
     * says its scope, so that capsim plot does not take it for the list of results. */
    int whole = od->scope[0] == '\0' || (od->had_manifest && od->old.scope[0] == '\0');
    if (!whole)
        snprintf(m.scope, sizeof m.scope, "%s", od->scope);
    if (od->scope[0] || !prune)
        for (size_t i = 0; rc == 0 && i < od->old.n_commands; i++)
            rc = manifest_add_command(&m, od->old.commands[i]);
    char *line = concat("command\t", od->command);
    if (rc == 0 && (line == NULL || manifest_add_command(&m, line) != 0))
        rc = -1;
    free(line);
    line = od->seed ? concat("seed\t", od->seed) : NULL;
    if (rc == 0 && od->seed && (line == NULL || manifest_add_command(&m, line) != 0))
        rc = -1;
    free(line);
    if (rc == 0 && (prune || written > 0)) {
        static const char *const names[] = {OUTDIR_MANIFEST};
        static const util_writer fns[] = {manifest_write_text};
        const void *what[] = {&m};
        rc = util_write_files(od->dir, 1, names, fns, what, err, errlen);
    } else if (rc != 0 && written >= 0) {
        util_errf(err, errlen, "out of memory");
    }
    outdir_manifest_fini(&m);
    return rc;
}

void outdir_report_removed(const outdir *od, FILE *notes, const char *cmd)
{
    /* A file removed before the plots were drawn and drawn again is not gone. */
    size_t gone = 0;
    char names[512] = "";
    size_t at = 0;
    for (size_t i = 0; i < od->old.n; i++) {
        char *p = od->removed[i] ? join(od->dir, od->old.e[i].path) : NULL;
        struct stat st;
        if (p != NULL && lstat(p, &st) != 0) {
            if (gone < 3)
                util_list_append(names, sizeof names, &at, gone, 3, ", ", od->old.e[i].path);
            gone++;
        }
        free(p);
    }
    if (gone > 0 && notes != NULL)
        fprintf(notes,
                "capsim %s: removed %zu file%s an earlier capsim command wrote in %s and this "
                "one did not (%s%s)\n",
                cmd, gone, gone == 1 ? "" : "s", od->dir, names, gone > 3 ? ", ..." : "");
}
