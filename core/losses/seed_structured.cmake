# Sources of the seed_structured losses.
