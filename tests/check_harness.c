/*
 * check_harness: a test file for tests/check.h itself, run by the harness_zero_checks test,
 * which expects this program to fail. One test makes a check that holds, one makes no check
 * at all, and a teardown makes none either: the harness must pass the first, fail the second
 * by name (a test that checked nothing has shown nothing), and neither count nor fail the
 * teardown, so the program prints "1 passed, 1 failed" and exits 1.
 */
#include "tests/check.h"

static void test_makes_a_check(void)
{
    CHECK_EQ_INT(1 + 1, 2);
}

/* Stands for a test whose checks were all skipped, for instance by an early return. */
static void test_makes_no_check(void)
{
}

static void teardown(void)
{
    printf("teardown ran\n");
}

TEST_MAIN(TEST(test_makes_a_check), TEST(test_makes_no_check), TEARDOWN(teardown))
