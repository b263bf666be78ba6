"""The account_managers kind: see its ``kind`` module."""
