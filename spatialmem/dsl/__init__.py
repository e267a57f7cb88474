"""The spatial query language: grammar -> AST with spans -> checker -> interpreter."""
