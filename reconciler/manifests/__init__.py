"""Manifests: strict YAML with positions, JSON Schema validation, and the typed desired state."""
