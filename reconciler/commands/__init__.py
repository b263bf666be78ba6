"""One module per command group; reconciler.cli mounts them."""
