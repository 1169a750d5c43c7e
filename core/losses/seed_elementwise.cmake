# Sources of the seed_elementwise losses.
