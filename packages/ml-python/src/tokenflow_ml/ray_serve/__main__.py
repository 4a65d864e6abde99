"""`python -m tokenflow_ml.ray_serve` (`npm run ml:ray`): the service on Ray Serve.

Joins the cluster at ML_RAY_ADDRESS, or starts a single-node one, deploys the
application and serves the same HTTP API on ML_HOST:ML_PORT. It keeps running:
SIGINT or SIGTERM undeploys the application and leaves the cluster.
"""

import logging
import os
import signal
import sys
import threading

from pydantic import ValidationError

from ..__main__ import EXIT_CONFIG, describe
from ..logs import configure_logging
from ..settings import Settings
from .options import APP_NAME, RayOptions

log = logging.getLogger("tokenflow_ml.ray")


def main() -> None:
    try:
        settings = Settings()
        options = RayOptions()
    except ValidationError as error:
        prefix = "ML_RAY_" if error.title == RayOptions.__name__ else "ML_"
        print(f"tokenflow-ml: invalid configuration\n{describe(error, prefix)}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    configure_logging(settings.log_level, settings.log_format)
    # Ray's processes inherit this environment: the token goes to the ingress in its
    # settings only, never to the model replicas.
    os.environ.pop("ML_SERVICE_TOKEN", None)

    import ray
    from ray import serve

    from .application import build_application

    # Built before the cluster starts: an option Ray refuses fails here, not half-way.
    application = build_application(settings, options)
    if options.address:
        ray.init(address=options.address)
    else:
        # "local": a new single-node cluster even when RAY_ADDRESS or `ray start` says
        # otherwise.
        ray.init(address="local", num_cpus=options.num_cpus, include_dashboard=False)
    try:
        serve.start(http_options={"host": settings.host, "port": settings.port})
        # Returns once every deployment has a replica running (its model loaded).
        serve.run(
            application,
            name=APP_NAME,
            route_prefix="/",
            # Our own access log (access_log.py) has each request with its id; Ray's would
            # repeat it from every replica, each line shipped to this process.
            logging_config={"enable_access_log": False, "log_level": settings.log_level.upper()},
        )
        log.info("serving on http://%s:%d through Ray Serve", settings.host, settings.port)
        # Only now: ray.init installs a SIGTERM handler of its own (exit at once), which
        # is right while starting; from here on a signal undeploys cleanly.
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
        log.info("shutting down")
    finally:
        serve.shutdown()
        ray.shutdown()


if __name__ == "__main__":
    main()
