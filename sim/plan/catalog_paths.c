/*
 * catalog_paths: locating and loading the catalogs (see catalog_paths.h).
 */
#include "sim/plan/catalog_paths.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef CAPSIM_SOURCE_DIR
#define CAPSIM_SOURCE_DIR "."
#endif

const char *catalog_default_dir(void)
{
    const char *env = getenv("CAPSIM_CATALOG_DIR");
    return env && *env ? env : CAPSIM_SOURCE_DIR "/models/catalog";
}

int catalog_load(const char *dir, model_list *models, gpu_list *gpus, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/models.csv", dir);
    if (model_list_load(path, models, err, errlen) != 0) {
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
