"""Criteria as data: rule files, the condition grammar and the scoring engine."""
