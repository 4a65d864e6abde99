"""The ML service on Ray Serve (ML_SERVING=ray, `npm run ml:ray`).

The same FastAPI app (app.py) is the ingress; each model runs in its own
deployment with replicas, autoscaling and `@serve.batch`. Ray is imported only
here, and installed only when this mode is used (requirements-ray.txt).
"""
