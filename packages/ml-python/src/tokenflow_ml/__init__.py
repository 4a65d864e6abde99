"""TokenFlow's ML service: the models the gateway reaches over HTTP."""

__version__ = "0.1.0"
