"""Content: taxonomy, content packs and feed import."""
