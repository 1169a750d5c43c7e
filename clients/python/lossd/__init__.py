"""lossd: a client for the lossd loss-computation service.

    >>> import numpy as np, lossd
    >>> client = lossd.Client("http://localhost:8080")
    >>> client.loss("mse", predictions=np.array([0.5, 1.5, 3.0]), targets=np.array([1.0, 1.0, 2.0])).value
    0.5

numpy arrays go out as raw bytes over the Open Inference Protocol (/v2, binary tensors) and
come back as numpy arrays over the reply's bytes; ``transport="json"`` uses the native /v1
JSON API instead. See :class:`Client`.
"""
from ._client import Client, LossdError, LossResult

__all__ = ["Client", "LossdError", "LossResult"]
__version__ = "0.1.0"
