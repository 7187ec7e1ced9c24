"""The MLflow edge: the only package that imports mlflow (the import contract in pyproject.toml says so).

- ``tracking``: the store, runs and their artifacts, UI links; ``lookup``: finding runs again;
- ``catalog``: every artifact path a run holds, named once for writers and readers;
- ``child_runs``: one child run per search trial, batch-written;
- ``registry``: promote (register + alias) and load a segmenter; ``pyfunc`` / ``model_code``: the logged model;
- ``reruns``: a run's record read back and two runs compared.
"""
