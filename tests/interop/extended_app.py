"""The example application of `examples/extended.rs`, written with the real Flask-JWT-Extended 4.7.1.

Served for tests/system/extended_interop.rs, which sends the same requests to both and compares
the answers. Install:

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
- ``POST /refresh/cookies``: refresh token required; sets a new (non-fresh) access token's
  cookies, answers ``{"refresh": true}``.
- ``GET /headers-only``: access token required, looked for in the headers only.

With ``REDIS_URL`` set, revoked tokens are kept in that Redis, as Flask-JWT-Extended's
``examples/blocklist_redis.py`` does (a ``token_in_blocklist_loader`` reading Redis, keys with a
time to live), in the key layout of the Rust library's Redis store so that both applications can
share one Redis (see ``jwt-runtime/src/revocation/redis.rs``): ``REDIS_KEY_PREFIX`` (default
``jwt:revocation:``), then ``{base64url(sub)}:t:base64url(jti)`` for a revoked token and
``{base64url(sub)}:s`` for the time every token of a subject was revoked, and each revocation
published on ``<prefix>invalidations``. Two more routes:

- ``DELETE /logout``: any token (``verify_type=False``); revokes it until it expires, answers
  ``{"msg": "Access token revoked"}`` or ``{"msg": "Refresh token revoked"}``.
- ``DELETE /logout/refresh``: a refresh token (a refresh cookie's, with its CSRF value);
  revokes it, unsets the refresh cookies, answers ``{"msg": "Refresh token revoked"}``.
- ``DELETE /logout/everywhere``: any token; revokes every token of its subject issued until
  now, answers ``{"msg": "All tokens revoked"}``.
"""

import base64
import logging
import os
import sys
import time
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
    unset_refresh_cookies,
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


# The longest token lifetime: Flask-JWT-Extended's refresh tokens, 30 days.
LONGEST_LIFETIME = 30 * 24 * 3600


def encode(value):
    """A subject or jti as the Redis keys and messages hold it: base64url without padding."""
    return base64.urlsafe_b64encode(str(value).encode()).rstrip(b"=").decode()


class RedisBlocklist(object):
    """Revoked tokens in Redis, in the Rust library's key layout."""

    def __init__(self, url, prefix):
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix

    def token_key(self, sub, jti):
        return "%s{%s}:t:%s" % (self.prefix, encode(sub), encode(jti))

    def subject_key(self, sub):
        return "%s{%s}:s" % (self.prefix, encode(sub))

    def is_revoked(self, jwt_payload):
        sub = jwt_payload["sub"]
        token, revoked_at = self.redis.mget(
            self.token_key(sub, jwt_payload["jti"]), self.subject_key(sub)
        )
        if token is not None:
            return True
        return revoked_at is not None and int(jwt_payload["iat"]) <= int(revoked_at)

    def revoke(self, key, value, ttl, message):
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(key, value, ex=max(1, ttl))
        pipe.publish(self.prefix + "invalidations", message)
        pipe.execute()

    def revoke_token(self, jwt_payload):
        sub, jti = jwt_payload["sub"], jwt_payload["jti"]
        ttl = int(jwt_payload["exp"]) - int(time.time())
        self.revoke(self.token_key(sub, jti), 1, ttl, "t %s %s" % (encode(sub), encode(jti)))

    def revoke_subject(self, sub):
        now = int(time.time())
        self.revoke(self.subject_key(sub), now, LONGEST_LIFETIME, "s %s" % encode(sub))


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

    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        blocklist = RedisBlocklist(
            redis_url, os.environ.get("REDIS_KEY_PREFIX", "jwt:revocation:")
        )

        @jwt.token_in_blocklist_loader
        def check_if_token_is_revoked(_jwt_header, jwt_payload):
            return blocklist.is_revoked(jwt_payload)

        @app.route("/logout", methods=["DELETE"])
        @jwt_required(verify_type=False)
        def logout():
            token = get_jwt()
            blocklist.revoke_token(token)
            return jsonify(msg="%s token revoked" % token["type"].capitalize())

        @app.route("/logout/refresh", methods=["DELETE"])
        @jwt_required(refresh=True)
        def logout_refresh():
            blocklist.revoke_token(get_jwt())
            response = jsonify(msg="Refresh token revoked")
            unset_refresh_cookies(response)
            return response

        @app.route("/logout/everywhere", methods=["DELETE"])
        @jwt_required(verify_type=False)
        def logout_everywhere():
            blocklist.revoke_subject(get_jwt_identity())
            return jsonify(msg="All tokens revoked")

    @app.route("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    def refresh():
        access_token = create_access_token(identity=get_jwt_identity(), fresh=False)
        return jsonify(access_token=access_token)

    @app.route("/refresh/cookies", methods=["POST"])
    @jwt_required(refresh=True)
    def refresh_cookies():
        response = jsonify({"refresh": True})
        set_access_cookies(response, create_access_token(identity=get_jwt_identity(), fresh=False))
        return response

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
