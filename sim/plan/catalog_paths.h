/*
 * catalog_paths: where capsim's data files are found (the catalogs in models/catalog, the
 * step-time profiles in models/profiles, the example workloads in workloads/).
 *
 * The data directory is $CAPSIM_DATA_DIR when it is set (it must hold
 * models/catalog/models.csv; a missing catalog is reported with where the folder came
 * from). Otherwise it is the first of these that holds a catalog:
 *   2. share/capsim beside the program's own folder (EXE/../share/capsim), which is where
 *      `cmake --install` puts the data next to bin/capsim, wherever the prefix is;
 *   3. the source tree the program was built from (a build that was never installed);
 *   4. the data directory of the install prefix chosen when the program was configured.
 * $CAPSIM_CATALOG_DIR still overrides the catalog folder alone, as it did before the data
 * directory existed.
 */
#ifndef CAPSIM_CATALOG_PATHS_H
#define CAPSIM_CATALOG_PATHS_H

#include <stddef.h>

#include "models/gpu.h"
#include "models/model.h"

/* The data directory (see above). The string is static: do not free it. */
const char *capsim_data_dir(void);

/* The folder holding models.csv and gpus.csv. */
const char *catalog_default_dir(void);

/* DATA/models/profiles/default.csv, into buf. Returns buf. */
const char *catalog_default_profile(char *buf, size_t len);

/* Loads DIR/models.csv and DIR/gpus.csv. On failure both lists are empty. */
int catalog_load(const char *dir, model_list *models, gpu_list *gpus, char *err, size_t errlen);

#endif
