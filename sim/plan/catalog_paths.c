/*
 * catalog_paths: locating the data directory and loading the catalogs (see catalog_paths.h).
 *
 * The lookup runs once per process and is cached in static storage: the answer depends only
 * on the environment and the file system at start, and every caller wants the same one.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "sim/plan/catalog_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CAPSIM_SOURCE_DIR
#define CAPSIM_SOURCE_DIR "."
#endif
#ifndef CAPSIM_INSTALL_DATADIR
#define CAPSIM_INSTALL_DATADIR "/usr/local/share/capsim"
#endif

/* Whether dir holds a catalog, the one file every command needs. */
static int has_catalog(const char *dir)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/models/catalog/models.csv", dir);
    return n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0;
}

/* EXE/../share/capsim for the running program, into buf; 0 when it has a catalog. */
static int beside_program(char *buf, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0'; /* EXE's folder, normally PREFIX/bin */
    int m = snprintf(buf, len, "%s/../share/capsim", exe);
    if (m <= 0 || (size_t)m >= len)
        return -1;
    return has_catalog(buf) ? 0 : -1;
}

const char *capsim_data_dir(void)
{
    static char dir[4096];
    if (dir[0])
        return dir;
    const char *env = getenv("CAPSIM_DATA_DIR");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    if (beside_program(dir, sizeof dir) == 0) {
        /* PREFIX/bin/../share/capsim reads better as PREFIX/share/capsim. */
        char *resolved = realpath(dir, NULL);
        if (resolved) {
            snprintf(dir, sizeof dir, "%s", resolved);
            free(resolved);
        }
        return dir;
    }
    /* Without any catalog anywhere, name the source tree: the error that follows then
     * points at the folder a developer expects. */
    const char *fallback = has_catalog(CAPSIM_SOURCE_DIR) || !has_catalog(CAPSIM_INSTALL_DATADIR)
                               ? CAPSIM_SOURCE_DIR
                               : CAPSIM_INSTALL_DATADIR;
    snprintf(dir, sizeof dir, "%s", fallback);
    return dir;
}

const char *catalog_default_dir(void)
{
    static char dir[4096 + 32];
    const char *env = getenv("CAPSIM_CATALOG_DIR");
    if (env && *env)
        return env;
    if (!dir[0])
        snprintf(dir, sizeof dir, "%s/models/catalog", capsim_data_dir());
    return dir;
}

const char *catalog_default_profile(char *buf, size_t len)
{
    snprintf(buf, len, "%s/models/profiles/default.csv", capsim_data_dir());
    return buf;
}

int catalog_load(const char *dir, model_list *models, gpu_list *gpus, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/models.csv", dir);
    if (model_list_load(path, models, err, errlen) != 0) {
        /* A wrong data directory is the likely cause when the catalog is missing: say
         * where the folder came from. */
        const char *env = getenv("CAPSIM_DATA_DIR");
        if (access(path, R_OK) != 0 && env && *env) {
            size_t used = strlen(err);
            snprintf(err + used, errlen - used, " (the data directory is $CAPSIM_DATA_DIR=%s)",
                     env);
        }
        gpus->items = NULL;
        gpus->n = 0;
        return -1;
    }
    snprintf(path, sizeof path, "%s/gpus.csv", dir);
    if (gpu_list_load(path, gpus, err, errlen) != 0) {
        model_list_free(models);
        return -1;
    }
    return 0;
}
