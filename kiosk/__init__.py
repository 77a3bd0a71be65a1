"""The offline voting station (Flask): resident flow, agent mode, durable signed storage."""


def init_app(app):
    """Register the kiosk's blueprints."""
    raise RuntimeError("the kiosk web app is not built yet")
