"""Publicity (行政执法公示): publication records of issued decisions, masking of personal data,
deadlines on the working-day calendar, withdrawal, and the public side's data."""
