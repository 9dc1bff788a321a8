"""Flask-JWT-Extended 4.7.1's Redis blocklist recipe, as its documentation writes it
(``examples/blocklist_redis.py``, "JWT Revoking / Blocklist" in the docs): the token's ``jti`` as
the Redis key, an empty value, expiring with the token; ``token_in_blocklist_loader`` refuses a
token whose ``jti`` is a key. Nothing in it is adapted to the Rust side; the only changes to the
recipe are where its values come from: the secret is the test suite's, the Redis URL is
``REDIS_URL`` (a server on a free port), the port is the first argument (0 picks a free one,
printed on the first line of stdout), and ``GET /ready`` tells the test harness it is serving.

    python3 tests/interop/blocklist_redis_app.py PORT
"""

import logging
import os
import sys
from datetime import timedelta
from importlib.metadata import version

import redis
from flask import Flask
from flask import jsonify
from werkzeug.serving import make_server

from flask_jwt_extended import create_access_token
from flask_jwt_extended import get_jwt
from flask_jwt_extended import jwt_required
from flask_jwt_extended import JWTManager

ACCESS_EXPIRES = timedelta(hours=1)

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = "super-secret"  # Change this!
app.config["JWT_ACCESS_TOKEN_EXPIRES"] = ACCESS_EXPIRES
jwt = JWTManager(app)

# Setup our redis connection for storing the blocklisted tokens. You will probably
# want your redis instance configured to persist data to disk, so that a restart
# does not cause your application to forget that a JWT was revoked.
jwt_redis_blocklist = redis.StrictRedis.from_url(
    os.environ["REDIS_URL"], decode_responses=True
)


# Callback function to check if a JWT exists in the redis blocklist
@jwt.token_in_blocklist_loader
def check_if_token_is_revoked(jwt_header, jwt_payload: dict):
    jti = jwt_payload["jti"]
    token_in_redis = jwt_redis_blocklist.get(jti)
    return token_in_redis is not None


@app.route("/login", methods=["POST"])
def login():
    access_token = create_access_token(identity="example_user")
    return jsonify(access_token=access_token)


# Endpoint for revoking the current users access token. Save the JWTs unique
# identifier (jti) in redis. Also set a Time to Live (TTL)  when storing the JWT
# so that it will automatically be cleared out of redis after the token expires.
@app.route("/logout", methods=["DELETE"])
@jwt_required()
def logout():
    jti = get_jwt()["jti"]
    jwt_redis_blocklist.set(jti, "", ex=ACCESS_EXPIRES)
    return jsonify(msg="Access token revoked")


# A blocklisted access token will not be able to access this any more
@app.route("/protected", methods=["GET"])
@jwt_required()
def protected():
    return jsonify(hello="world")


@app.route("/ready", methods=["GET"])
def ready():
    return jsonify(ready=True)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: blocklist_redis_app.py PORT  (0 picks a free port)")
    found = version("Flask-JWT-Extended")
    if found != "4.7.1":
        sys.exit("Flask-JWT-Extended 4.7.1 is required, found %s" % found)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print(server.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
