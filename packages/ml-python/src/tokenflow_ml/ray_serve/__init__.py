"""The ML service on Ray Serve (`python -m tokenflow_ml.ray_serve`, `npm run ml:ray`).

The same FastAPI app (app.py) is the ingress; each model runs in its own
deployment with replicas and autoscaling, the classifier batching as in one
process (deployments.py says why not `@serve.batch`). Ray is imported only
here, and installed only when this mode is used (requirements-ray.txt).
"""
