/*
 * catalog_paths: where the data files (the CSV files in models/catalog and models/profiles) are
 * found: $CAPSIM_DATA_DIR if set, else the source tree the program was built from.
 */
#ifndef CAPSIM_CATALOG_PATHS_H
#define CAPSIM_CATALOG_PATHS_H

#include <stddef.h>

#include "models/gpu.h"
#include "models/model.h"

/* The folder holding models.csv and gpus.csv. */
const char *catalog_default_dir(void);

/* Loads DIR/models.csv and DIR/gpus.csv. On failure both lists are empty. */
int catalog_load(const char *dir, model_list *models, gpu_list *gpus, char *err, size_t errlen);

#endif
