"""gunicorn settings of the Urne central (installed as /usr/local/lib/urne/gunicorn-central.conf.py).

nginx on the same host is the only client, so every request arrives from 127.0.0.1: without this,
the central's login lockout and rate limits would count all users as one. Trust exactly one
proxy hop (nginx appends the real client to X-Forwarded-For), never more.
"""

from werkzeug.middleware.proxy_fix import ProxyFix


def post_worker_init(worker):
    """Wrap the loaded app so request.remote_addr and the scheme are what nginx saw."""
    worker.wsgi = ProxyFix(worker.wsgi, x_for=1, x_proto=1, x_host=1)
