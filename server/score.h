/* score: `lossd score`, the scoring CLI. Computes one loss over tensors read from .npy,
 * .csv or .tsv files with the same core as the daemon (no server involved), prints the
 * JSON that POST /v1/loss/{name} would return and writes gradients as .npy files.
 *
 *   lossd score NAME --predictions FILE --targets FILE [--input NAME=FILE ...]
 *               [--param KEY=VALUE ...] [--reduction R] [--dtype float32|float64]
 *               [--gradient] [--gradient-out [NAME=]FILE ...]
 *
 * Exit status: 0 computed, 1 bad input (the error JSON, with the API's code, on stderr),
 * 2 usage. */
#ifndef LOSSD_SERVER_SCORE_H
#define LOSSD_SERVER_SCORE_H

/* Runs the subcommand; argv[0] is "score". Returns the exit status. */
int score_main(int argc, char **argv);

#endif
