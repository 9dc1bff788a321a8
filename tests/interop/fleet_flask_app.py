"""The Flask-JWT-Extended 4.7.1 side of one fleet behind one proxy: this application and
``examples/extended.rs`` behind nginx, one Redis, one secret (``tests/system/fleet.rs``,
``scripts/fleet.sh``).

Written as Flask-JWT-Extended's documentation teaches: tokens in headers and in cookies with CSRF
double submit ("JWT Locations"), and its Redis blocklist
recipe ("JWT Revoking / Blocklist", ``examples/blocklist_redis.py``): a revoked token's ``jti`` is
the Redis key, with an empty value, expiring with the token, and ``token_in_blocklist_loader``
refuses a token whose ``jti`` is a key. The Rust side reads and writes the same keys (its setting
``revocation_key_layout = "flask-jwt-extended"``), so a token revoked by either is refused by
both.

Settings: the secret is ``JWT_SECRET_KEY`` (the one the whole fleet shares); tokens in headers
(``Authorization: Bearer``) and cookies; CSRF protection on (``X-CSRF-TOKEN``, the
``csrf_access_token`` and ``csrf_refresh_token`` cookies); cookies not ``Secure`` (plain HTTP on
the loopback); every cookie name and path at Flask-JWT-Extended's defaults, which are the Rust
side's too: every cookie on the path ``/``, so that the browser sends them to both applications,
whatever prefix the proxy routes to each. Users ``user1`` and ``user2``, password ``abcxyz``; the
identity (``sub``) is the username, as the Rust side's user lookup expects.

Routes (the proxy strips its prefix, ``/py``, before they are matched):

- ``POST /login``: JSON ``{"username", "password"}``; answers a fresh access token and a refresh
  token (``{"access_token", "refresh_token"}``), for a client that sends them in headers.
- ``POST /login/cookies``: the same body; sets the access and refresh cookies and their CSRF
  cookies (``set_access_cookies``, ``set_refresh_cookies``), answers ``{"login": true}``.
- ``POST /refresh``: refresh token required (header, or cookie with ``X-CSRF-TOKEN``); answers a
  new, non-fresh access token for the same identity, ``{"access_token"}``, and sets it as the
  access cookies too when the refresh token came from a cookie.
- ``GET``/``POST /protected``: access token required; ``{"logged_in_as": sub}``.
- ``DELETE /logout``: any token (``verify_type=False``: an access token, or a refresh token in
  the header; a cookie is always the access cookie); revokes it, unsets the cookies, answers
  ``{"msg": "Access token revoked"}`` or ``{"msg": "Refresh token revoked"}``.
- ``DELETE /logout/refresh``: refresh token required (header, or cookie with ``X-CSRF-TOKEN``):
  how a browser, which cannot read its ``HttpOnly`` refresh cookie, revokes it ("Handling Revoking
  of Refresh Tokens": the refresh token must be revoked as well when logging out); unsets the
  refresh cookies, answers ``{"msg": "Refresh token revoked"}``.
- ``GET /ready``: ``{"ready": true}``, for whoever waits for it to serve.

Run: ``JWT_SECRET_KEY=... REDIS_URL=redis://127.0.0.1:6379/ python fleet_flask_app.py PORT``
(with ``tests/interop/extended-requirements.txt`` installed). With PORT 0 the server picks a free
port. Either way the first line on stdout is the port it listens on (127.0.0.1).
"""

import logging
import os
import sys
import time
from importlib.metadata import version

import redis
from flask import Flask, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_jwt,
    get_jwt_identity,
    get_jwt_request_location,
    jwt_required,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
    unset_refresh_cookies,
)
from werkzeug.serving import make_server

USERS = {"user1": "abcxyz", "user2": "abcxyz"}

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = os.environ["JWT_SECRET_KEY"]
app.config["JWT_TOKEN_LOCATION"] = ["headers", "cookies"]
# Plain HTTP on the loopback; in production, cookies are sent over HTTPS only.
app.config["JWT_COOKIE_SECURE"] = False
app.config["JWT_COOKIE_CSRF_PROTECT"] = True
jwt = JWTManager(app)

# The blocklist, shared with every other application of the fleet.
jwt_redis_blocklist = redis.StrictRedis.from_url(os.environ["REDIS_URL"], decode_responses=True)


# Callback function to check if a JWT exists in the redis blocklist
@jwt.token_in_blocklist_loader
def check_if_token_is_revoked(jwt_header, jwt_payload: dict):
    jti = jwt_payload["jti"]
    token_in_redis = jwt_redis_blocklist.get(jti)
    return token_in_redis is not None


def revoke_current_token():
    """Saves the current token's jti in Redis until the token expires; its type."""
    token = get_jwt()
    # Until the token expires (an access token's 15 minutes, a refresh token's 30 days), after
    # which Redis forgets it.
    remaining = max(1, int(token["exp"]) - int(time.time()))
    jwt_redis_blocklist.set(token["jti"], "", ex=remaining)
    return token["type"]


def credentials_user():
    """The username of the request's JSON credentials when the password is right, else None."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return None
    username = data.get("username")
    password = data.get("password")
    if not isinstance(username, str) or USERS.get(username) != password:
        return None
    return username


@app.route("/login", methods=["POST"])
def login():
    username = credentials_user()
    if username is None:
        return jsonify(msg="Bad username or password"), 401
    access_token = create_access_token(identity=username, fresh=True)
    refresh_token = create_refresh_token(identity=username)
    return jsonify(access_token=access_token, refresh_token=refresh_token)


@app.route("/login/cookies", methods=["POST"])
def login_cookies():
    username = credentials_user()
    if username is None:
        return jsonify(msg="Bad username or password"), 401
    response = jsonify(login=True)
    set_access_cookies(response, create_access_token(identity=username, fresh=True))
    set_refresh_cookies(response, create_refresh_token(identity=username))
    return response


@app.route("/refresh", methods=["POST"])
@jwt_required(refresh=True)
def refresh():
    access_token = create_access_token(identity=get_jwt_identity(), fresh=False)
    response = jsonify(access_token=access_token)
    if get_jwt_request_location() == "cookies":
        set_access_cookies(response, access_token)
    return response


@app.route("/protected", methods=["GET", "POST"])
@jwt_required()
def protected():
    return jsonify(logged_in_as=get_jwt_identity())


# Endpoint for revoking the current token (access, or refresh in the header): its jti goes into
# redis, with a Time to Live (TTL) so that redis clears it out once the token has expired.
@app.route("/logout", methods=["DELETE"])
@jwt_required(verify_type=False)
def logout():
    ttype = revoke_current_token()
    # Returns "Access token revoked" or "Refresh token revoked"
    response = jsonify(msg=f"{ttype.capitalize()} token revoked")
    unset_jwt_cookies(response)
    return response


# The refresh token must be revoked too when logging out, or it could just be used to get a new
# access token; a browser sends it in its cookie, which only a refresh route reads.
@app.route("/logout/refresh", methods=["DELETE"])
@jwt_required(refresh=True)
def logout_refresh():
    revoke_current_token()
    response = jsonify(msg="Refresh token revoked")
    unset_refresh_cookies(response)
    return response


@app.route("/ready", methods=["GET"])
def ready():
    return jsonify(ready=True)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fleet_flask_app.py PORT  (0 picks a free port)")
    found = version("Flask-JWT-Extended")
    if found != "4.7.1":
        sys.exit("Flask-JWT-Extended 4.7.1 is required, found %s" % found)
    # Requests are not logged.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Werkzeug's development server, threaded, no reloader, no debugger.
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print(server.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
