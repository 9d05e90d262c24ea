"""Property-based tests of the one definition of every figure (docs/figures.md)."""
