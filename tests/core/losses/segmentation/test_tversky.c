/* tversky: the formula of docs/losses.md in float64 torch, mean and none (cases in
 * overlap_cases.h); domain, gradients and workers are in test_overlap.c. */
#include "overlap_cases.h"

Test(tversky, mean_and_none_should_match_the_formula_in_torch)
{
    ov_check_formula("tversky");
}
