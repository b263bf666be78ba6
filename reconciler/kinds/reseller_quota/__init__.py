"""The reseller_quota kind: see its ``kind`` module."""
