"""The application of Flask-JWT 0.3.2's own test suite, served for tests/interop.rs.

Real Flask-JWT 0.3.2 on PyJWT 1.4.2 (the range Flask-JWT 0.3.2 declares: PyJWT>=1.4.0,<1.5.0),
Flask 2.2.5 and Werkzeug 2.2.3. Install:

    python3 -m venv .venv && .venv/bin/pip install -r tests/interop/requirements.txt

Run: ``.venv/bin/python tests/interop/flask_app.py PORT``. With PORT 0 the server picks a free port.
Either way the first line on stdout is the port it listens on (127.0.0.1), written once it
accepts connections.

Routes:
- ``POST /auth``: Flask-JWT's auth resource (user joe/pass, id 1).
- ``GET /protected``: ``@jwt_required()``, answers ``success``.
- ``POST /decode``: the body is a token; answers the claims that Flask-JWT's own decode callback
  (``_jwt.jwt_decode_callback``: PyJWT, the app's secret, HS256 and Flask-JWT's default options
  and leeway) returns, or ``400 {"exception": <PyJWT class>, "message": <str(e)>}``.
- ``GET /versions``: the versions actually imported.
"""

import collections
import collections.abc
import logging
import sys

# PyJWT 1.4.2 does `from collections import Mapping`, which Python 3.10 removed: put the alias
# back (the very class collections.abc has) before PyJWT is imported. Nothing else is patched.
if not hasattr(collections, "Mapping"):
    collections.Mapping = collections.abc.Mapping

import flask  # noqa: E402
import jwt  # noqa: E402
import werkzeug  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

import flask_jwt  # noqa: E402
from flask_jwt import _jwt  # noqa: E402


class User(object):
    """The test suite's user: attributes from keyword arguments."""

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)


def create_app():
    """Flask-JWT 0.3.2's tests/conftest.py `app` fixture, plus /decode and /versions."""
    jwt_ext = flask_jwt.JWT()
    user = User(id=1, username="joe", password="pass")

    app = Flask(__name__)
    app.debug = True
    app.config["SECRET_KEY"] = "super-secret"
    app.config["JWT_SECRET_KEY"] = "super-secret"

    @jwt_ext.authentication_handler
    def authenticate(username, password):
        if username == user.username and password == user.password:
            return user
        return None

    @jwt_ext.identity_handler
    def load_user(payload):
        if payload["identity"] == user.id:
            return user

    jwt_ext.init_app(app)

    @app.route("/protected")
    @flask_jwt.jwt_required()
    def protected():
        return "success"

    @app.route("/decode", methods=["POST"])
    def decode():
        token = request.get_data(as_text=True).strip()
        try:
            claims = _jwt.jwt_decode_callback(token)
        except jwt.InvalidTokenError as e:
            return (
                jsonify({"exception": type(e).__name__, "message": str(e)}),
                400,
            )
        return jsonify(claims)

    @app.route("/versions")
    def versions():
        return jsonify(
            {
                "python": sys.version.split()[0],
                "flask_jwt": flask_jwt.__version__,
                "pyjwt": jwt.__version__,
                "flask": flask.__version__,
                "werkzeug": werkzeug.__version__,
            }
        )

    return app


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: flask_app.py PORT  (0 picks a free port)")
    if flask_jwt.__version__ != "0.3.2":
        sys.exit("Flask-JWT 0.3.2 is required, found %s" % flask_jwt.__version__)
    port = int(sys.argv[1])
    # Requests are not logged; Flask-JWT's own error log still goes to stderr.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Werkzeug's development server, threaded, no reloader, no debugger.
    server = make_server("127.0.0.1", port, create_app(), threaded=True)
    print(server.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
