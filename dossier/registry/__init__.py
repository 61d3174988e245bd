"""Reading, validating and generating patient-level cohort registries."""
