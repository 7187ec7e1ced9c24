"""Data stage: canonical schema, loaders (file or synthetic) and cleaning."""
