/* Losses of the catalogue_elementwise group: one LOSS(name) line each. */
