"""The warning engine: grading rules, recommendation, lifecycle, measures and reductions, bulletins."""
