/*
 * check.h: a tiny assertion harness for the unit tests (in the manner of libuv's test/).
 *
 * A test is a small named static function `static void test_x(void)` that makes checks.
 * A failed check prints file:line, the expression and both operands, counts the failure
 * and lets the test carry on (each check returns whether it held, so a test can stop early
 * with `if (!CHECK(p != NULL)) return;`). The file ends with
 *
 *     TEST_MAIN(TEST(test_a), TEST(test_b))
 *
 * which defines main(): it runs every test in order, prints one line per test, then the
 * closing line "N passed, M failed" counting tests, and returns non-zero if any test failed.
 * A test passes when it made at least one check and none failed: a test that makes no check
 * (an early return before its first check, a loop that never ran, a body left empty) has
 * shown nothing, so it fails and is reported by name.
 *
 * Tests that share state set up once (a catalog loaded by the first test that needs it)
 * release it in a teardown function listed last as TEARDOWN(teardown): it runs in its place
 * in the list like a test, but checks nothing and is neither counted nor required to check.
 *
 * Every function here is static inline, so a test file that uses only some of them
 * compiles without unused-function warnings; the state lives in one function-local static,
 * so there is no global variable for a test to touch.
 */
#ifndef CAPSIM_TESTS_CHECK_H
#define CAPSIM_TESTS_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Failures printed per test; further ones are only counted, so a check inside a loop
 * cannot flood the log. */
#define CHECK_MAX_PRINTED 20

typedef struct check_state {
    unsigned long checks;       /* checks made in the current test */
    unsigned long failures;     /* failed checks in the current test */
    unsigned long total_checks; /* over every test */
} check_state;

static inline check_state *check__state(void)
{
    static check_state state;
    return &state;
}

/* Records one check; on failure prints "file:line: what: details". */
__attribute__((format(printf, 4, 5))) static inline bool
check__record(bool ok, const char *file, int line, const char *fmt, ...)
{
    check_state *s = check__state();
    s->checks++;
    s->total_checks++;
    if (ok)
        return true;
    if (s->failures++ < CHECK_MAX_PRINTED) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s:%d: check failed: ", file, line);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    return false;
}

static inline bool check__eq_u64(uint64_t a, uint64_t b, const char *ea, const char *eb,
                                 const char *file, int line)
{
    return check__record(a == b, file, line, "%s == %s: %llu vs %llu", ea, eb,
                         (unsigned long long)a, (unsigned long long)b);
}

static inline bool check__eq_i64(long long a, long long b, const char *ea, const char *eb,
                                 const char *file, int line)
{
    return check__record(a == b, file, line, "%s == %s: %lld vs %lld", ea, eb, a, b);
}

/* Exact equality of doubles (for values that are exact by construction). */
static inline bool check__eq_dbl(double a, double b, const char *ea, const char *eb,
                                 const char *file, int line)
{
    return check__record(a == b, file, line, "%s == %s: %.17g vs %.17g", ea, eb, a, b);
}

/* |a - b| <= tol; fails if either is NaN. */
static inline bool check__near(double a, double b, double tol, const char *ea, const char *eb,
                               const char *file, int line)
{
    return check__record(fabs(a - b) <= tol, file, line,
                         "|%s - %s| <= %g: %.17g vs %.17g (diff %.3g)", ea, eb, tol, a, b,
                         fabs(a - b));
}

/* |a - b| <= rel * |b|; fails if either is NaN. */
static inline bool check__rel(double a, double b, double rel, const char *ea, const char *eb,
                              const char *file, int line)
{
    return check__record(fabs(a - b) <= rel * fabs(b), file, line,
                         "%s within rel %g of %s: %.17g vs %.17g (rel diff %.3g)", ea, rel, eb, a,
                         b, fabs(a - b) / fabs(b));
}

static inline bool check__le(double a, double b, const char *ea, const char *eb, const char *file,
                             int line)
{
    return check__record(a <= b, file, line, "%s <= %s: %.17g vs %.17g", ea, eb, a, b);
}

static inline bool check__nan(double a, const char *ea, const char *file, int line)
{
    return check__record(isnan(a), file, line, "isnan(%s): %.17g", ea, a);
}

static inline bool check__contains(const char *hay, const char *needle, const char *ehay,
                                   const char *file, int line)
{
    bool ok = hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
    return check__record(ok, file, line, "%s contains \"%s\": \"%s\"", ehay,
                         needle ? needle : "(null)", hay ? hay : "(null)");
}

#define CHECK(cond)        check__record((cond) ? true : false, __FILE__, __LINE__, "%s", #cond)
#define CHECK_EQ_U64(a, b) check__eq_u64((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_EQ_INT(a, b) check__eq_i64((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_EQ_DBL(a, b) check__eq_dbl((double)(a), (double)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_NEAR(a, b, tol)                                                                      \
    check__near((double)(a), (double)(b), (double)(tol), #a, #b, __FILE__, __LINE__)
#define CHECK_REL(a, b, rel)                                                                       \
    check__rel((double)(a), (double)(b), (double)(rel), #a, #b, __FILE__, __LINE__)
#define CHECK_LE(a, b)              check__le((double)(a), (double)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_GE(a, b)              check__le((double)(b), (double)(a), #b, #a, __FILE__, __LINE__)
#define CHECK_NAN(a)                check__nan((double)(a), #a, __FILE__, __LINE__)
#define CHECK_CONTAINS(hay, needle) check__contains((hay), (needle), #hay, __FILE__, __LINE__)

typedef struct check_test {
    const char *name;
    void (*fn)(void);
    bool teardown; /* releases shared state: not a test, makes no checks */
} check_test;

#define TEST(fn)                                                                                   \
    {                                                                                              \
#fn, fn, false                                                                             \
    }
#define TEARDOWN(fn)                                                                               \
    {                                                                                              \
#fn, fn, true                                                                              \
    }

/* Runs the tests in order and prints the summary; returns the exit status for main. */
static inline int check__run_all(const check_test *tests, size_t n)
{
    check_state *s = check__state();
    unsigned long passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        s->checks = 0;
        s->failures = 0;
        tests[i].fn();
        if (tests[i].teardown)
            continue;
        if (s->checks == 0) {
            failed++;
            printf("FAILED  %s (made no checks)\n", tests[i].name);
        } else if (s->failures == 0) {
            passed++;
            printf("ok      %s (%lu checks)\n", tests[i].name, s->checks);
        } else {
            failed++;
            printf("FAILED  %s (%lu of %lu checks failed)\n", tests[i].name, s->failures,
                   s->checks);
        }
        fflush(stdout);
        fflush(stderr);
    }
    printf("%lu checks\n", s->total_checks);
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#define TEST_MAIN(...)                                                                             \
    int main(void)                                                                                 \
    {                                                                                              \
        static const check_test tests_[] = {__VA_ARGS__};                                          \
        return check__run_all(tests_, sizeof tests_ / sizeof tests_[0]);                           \
    }

#endif
