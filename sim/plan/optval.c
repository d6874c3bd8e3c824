/*
 * optval: strict setting values (see optval.h).
 */
#include "sim/plan/optval.h"

#include <math.h>
#include <string.h>

#include "sim/base/util.h"

int optval_count(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out,
                 char *err, size_t errlen)
{
    uint64_t v;
    if (util_parse_u64(val, &v) != 0 || v < min || v > max) {
        util_errf(err, errlen, "%s '%s': expected a whole number from %llu to %llu", opt, val,
                  (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int optval_real(const char *opt, const char *val, double min, double max, int max_open,
                double *out, char *err, size_t errlen)
{
    double v;
    if (util_parse_double(val, &v) != 0 || v < min || v > max || (max_open && v == max)) {
        if (isinf(max))
            util_errf(err, errlen, "%s '%s': expected a number >= %g", opt, val, min);
        else
            util_errf(err, errlen, "%s '%s': expected a number in [%g, %g%s", opt, val, min, max,
                      max_open ? ")" : "]");
        return -1;
    }
    *out = v;
    return 0;
}

int optval_on_off(const char *opt, const char *val, int *out, char *err, size_t errlen)
{
    if (strcmp(val, "on") == 0 || strcmp(val, "true") == 0 || strcmp(val, "1") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(val, "off") == 0 || strcmp(val, "false") == 0 || strcmp(val, "0") == 0) {
        *out = 0;
        return 0;
    }
    util_errf(err, errlen, "%s '%s': expected on or off", opt, val);
    return -1;
}
