"""Output: one module per medium for plans, drift reports and manifest problems."""
