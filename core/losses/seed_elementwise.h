/* Losses of the seed_elementwise group: one LOSS(name) line each. */
