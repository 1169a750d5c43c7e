# Sources of the catalogue_structured losses.
