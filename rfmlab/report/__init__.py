"""Report: what people read. Figures (pure functions returning matplotlib / plotly figures), the console, the run
description (markdown), comparison tables. No file I/O and no MLflow: the jobs log what these return."""
