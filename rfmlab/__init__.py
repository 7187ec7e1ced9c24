"""rfmlab: tracked, reproducible RFM customer segmentation experiments.

Data flows one way: data.load -> data.clean -> features -> transforms -> models -> evaluation
-> segments -> tracking. Only ``rfmlab.tracking`` imports MLflow and only ``rfmlab.cli`` knows Hydra.
"""

__version__ = "0.1.0"
