"""MLflow's models-from-code entry point for a logged rfmlab model: MLflow runs this file to build the model;
``RfmSegmenterModel.load_context`` then reads the joblib-saved segmenter from the model's artifacts."""

import mlflow

from rfmlab.mlflow_edge.pyfunc import RfmSegmenterModel

mlflow.models.set_model(RfmSegmenterModel())
