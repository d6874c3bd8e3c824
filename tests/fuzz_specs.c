/*
 * fuzz_specs: a libFuzzer target for the text parsers of the command line and of
 * scenario files: distribution specs (sim/base/dist.c), arrival processes
 * (workloads/arrival.c), class mixes (workloads/reqsrc.c), shared-prefix and session
 * workloads (workloads/prefix.c), and INI scenario files (sim/plan/scenario.c).
 * tests/run_fuzz.sh builds and runs it beside the trace targets.
 *
 * Besides the sanitizers, it aborts when a parser breaks a promise: a failure without a
 * one-line message, or a success with a mean or rate that is not a finite positive number
 * (zero for a deterministic value of 0). Specs naming a file are skipped, so that the
 * fuzzer does not read the file system.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/dist.h"
#include "sim/plan/scenario.h"
#include "workloads/arrival.h"
#include "workloads/prefix.h"
#include "workloads/reqsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *err)
{
    if (err[0] == '\0' || strchr(err, '\n') != NULL)
        abort();
}

static int count_key(void *user, const char *section, const char *name, const char *value,
                     char *err, size_t errlen)
{
    (void)section;
    (void)err;
    (void)errlen;
    size_t *n = user;
    *n += strlen(name) + strlen(value);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char text[4097];
    memcpy(text, data, size);
    text[size] = '\0';
    char err[1024];

    if (strstr(text, "file=") == NULL) {
        dist d;
        err[0] = '\0';
        if (dist_parse(text, &d, err, sizeof err) == 0) {
            if (!(d.mean >= 0 && isfinite(d.mean)) || !(d.scv >= 0))
                abort();
            dist_fini(&d);
        } else {
            check_message(err);
        }
    }
    arrival_process a;
    err[0] = '\0';
    if (arrival_parse(text, &a, err, sizeof err) == 0) {
        if (!(a.rate_per_s > 0 && isfinite(a.rate_per_s)))
            abort();
        arrival_fini(&a);
    } else {
        check_message(err);
    }
    reqsrc_mix m;
    err[0] = '\0';
    if (reqsrc_mix_parse(text, &m, err, sizeof err) == 0) {
        double total = 0;
        for (uint32_t i = 0; i < m.n; i++)
            total += m.share[i];
        if (m.n == 0 || fabs(total - 1) > 1e-9)
            abort();
    } else {
        check_message(err);
    }

    /* As --prefix and as --session: a workload whose groups and draws are sound. */
    if (strstr(text, "file=") == NULL) {
        for (int as_session = 0; as_session < 2; as_session++) {
            prefix_workload w;
            err[0] = '\0';
            if (prefix_parse(as_session ? "" : text, as_session ? text : "", 1, &w, err,
                             sizeof err) == 0) {
                if (w.groups_on && (w.groups == 0 || w.users_per_group == 0 ||
                                    w.system_tokens == NULL || w.system_tokens[0] == 0))
                    abort();
                if (w.sessions_on && w.chats == 0)
                    abort();
            } else {
                check_message(err);
            }
            prefix_fini(&w);
        }
    }

    /* The same bytes as a scenario file. */
    char path[] = "/tmp/capsim_fuzz_ini_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        size_t n = 0;
        err[0] = '\0';
        if (scenario_load(path, count_key, &n, err, sizeof err) != 0)
            check_message(err);
    }
    close(fd);
    unlink(path);
    return 0;
}
