"""Keeping git and the live account in step: drift detection and export."""
