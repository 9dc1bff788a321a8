"""The example application of `examples/extended.rs`, written with the real Flask-JWT-Extended 4.7.1.

Served for tests/it/extended_interop.rs, which sends the same requests to both and compares the
answers. Install:

    python3 -m venv .venv && .venv/bin/pip install -r tests/interop/extended-requirements.txt

Run: ``.venv/bin/python tests/interop/extended_app.py PORT``. With PORT 0 the server picks a free
port. Either way the first line on stdout is the port it listens on (127.0.0.1), written once it
accepts connections.

Settings: secret ``super-secret``; tokens in headers, cookies, the query string and the JSON body
(in that order); cookies not ``Secure`` (local HTTP); CSRF protection on; everything else at
Flask-JWT-Extended's defaults. Users ``user1`` and ``user2`` (ids 1 and 2), password ``abcxyz``;
the identity (``sub``) is the username, and a user lookup callback finds the user by it.

Routes:
- ``GET /``: the demo page ``examples/extended/index.html`` (404 while it does not exist).
- ``POST /login``: JSON ``{"username", "password"}``; answers a fresh access token and a refresh
  token. Anything that is not a JSON object with the right credentials (whatever the
  Content-Type) is 401 ``Bad username or password``.
- ``POST /login/cookies``: the same body; sets the access (fresh) and refresh cookies and their
  CSRF cookies, answers ``{"login": true}``.
- ``POST /logout/cookies``: unsets those cookies, answers ``{"logout": true}``.
- ``POST /refresh``: refresh token required; answers a non-fresh access token for the same ``sub``.
- ``GET``/``POST /protected``: access token required; ``{"logged_in_as": sub}``.
- ``GET /fresh``: fresh access token required; ``{"fresh": true, "logged_in_as": sub}``.
- ``GET /optional``: access token optional; ``{"logged_in_as": sub or null}``.
- ``GET /claims``: ``{"sub", "type", "fresh"}`` from the verified claims.
- ``GET /user``: ``{"id", "username"}`` of the looked-up user.
- ``GET /headers-only``: access token required, looked for in the headers only.
"""

import logging
import os
import sys
from importlib.metadata import version

from flask import Flask, abort, jsonify, request, send_file
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    current_user,
    get_jwt,
    get_jwt_identity,
    jwt_required,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
)
from werkzeug.serving import make_server

# The demo page of the example, relative to this file (tests/interop/ in the workspace).
DEMO_PAGE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "extended", "index.html"
)


class User(object):
    """A user of the example."""

    def __init__(self, id, username, password):
        self.id = id
        self.username = username
        self.password = password


USERS = [User(1, "user1", "abcxyz"), User(2, "user2", "abcxyz")]
USERS_BY_NAME = {user.username: user for user in USERS}


def check_credentials():
    """The user named by the request's JSON body if its password is right, else None.

    The body is read leniently: whatever the Content-Type, and anything that is not a JSON
    object holding the right string credentials is refused.
    """
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        return None
    username = data.get("username")
    password = data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    user = USERS_BY_NAME.get(username)
    if user is None or user.password != password:
        return None
    return user


def bad_credentials():
    return jsonify({"msg": "Bad username or password"}), 401


def create_app():
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = "super-secret"
    app.config["JWT_TOKEN_LOCATION"] = ["headers", "cookies", "query_string", "json"]
    app.config["JWT_COOKIE_SECURE"] = False
    app.config["JWT_COOKIE_CSRF_PROTECT"] = True

    jwt = JWTManager(app)

    @jwt.user_lookup_loader
    def user_lookup_callback(_jwt_header, jwt_data):
        return USERS_BY_NAME.get(jwt_data["sub"])

    @app.route("/", methods=["GET"])
    def index():
        if not os.path.isfile(DEMO_PAGE):
            abort(404)
        return send_file(DEMO_PAGE, mimetype="text/html")

    @app.route("/login", methods=["POST"])
    def login():
        user = check_credentials()
        if user is None:
            return bad_credentials()
        access_token = create_access_token(identity=user.username, fresh=True)
        refresh_token = create_refresh_token(identity=user.username)
        return jsonify(access_token=access_token, refresh_token=refresh_token)

    @app.route("/login/cookies", methods=["POST"])
    def login_cookies():
        user = check_credentials()
        if user is None:
            return bad_credentials()
        response = jsonify({"login": True})
        set_access_cookies(response, create_access_token(identity=user.username, fresh=True))
        set_refresh_cookies(response, create_refresh_token(identity=user.username))
        return response

    @app.route("/logout/cookies", methods=["POST"])
    def logout_cookies():
        response = jsonify({"logout": True})
        unset_jwt_cookies(response)
        return response

    # A later `DELETE /logout` (revocation) goes here.

    @app.route("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    def refresh():
        access_token = create_access_token(identity=get_jwt_identity(), fresh=False)
        return jsonify(access_token=access_token)

    @app.route("/protected", methods=["GET", "POST"])
    @jwt_required()
    def protected():
        return jsonify(logged_in_as=get_jwt_identity())

    @app.route("/fresh", methods=["GET"])
    @jwt_required(fresh=True)
    def fresh():
        return jsonify(fresh=True, logged_in_as=get_jwt_identity())

    @app.route("/optional", methods=["GET"])
    @jwt_required(optional=True)
    def optional():
        return jsonify(logged_in_as=get_jwt_identity())

    @app.route("/claims", methods=["GET"])
    @jwt_required()
    def claims():
        claims = get_jwt()
        return jsonify(sub=claims["sub"], type=claims["type"], fresh=claims["fresh"])

    @app.route("/user", methods=["GET"])
    @jwt_required()
    def user():
        return jsonify(id=current_user.id, username=current_user.username)

    @app.route("/headers-only", methods=["GET"])
    @jwt_required(locations=["headers"])
    def headers_only():
        return jsonify(logged_in_as=get_jwt_identity())

    return app


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: extended_app.py PORT  (0 picks a free port)")
    found = version("Flask-JWT-Extended")
    if found != "4.7.1":
        sys.exit("Flask-JWT-Extended 4.7.1 is required, found %s" % found)
    port = int(sys.argv[1])
    # Requests are not logged.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Werkzeug's development server, threaded, no reloader, no debugger.
    server = make_server("127.0.0.1", port, create_app(), threaded=True)
    print(server.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
