# Sources of the catalogue_elementwise losses.
