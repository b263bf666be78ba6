"""The auto_renew kind: see its ``kind`` module."""
