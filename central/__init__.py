"""The central server's web face: device push endpoint, organiser pages, public results."""


def init_app(app):
    """Register the central's blueprints."""
    raise RuntimeError("the central web app is not built yet")
