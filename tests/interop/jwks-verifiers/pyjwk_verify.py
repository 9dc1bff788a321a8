"""PyJWT as a verifier of JWTs through a JWKS endpoint, for tests/system/jwks_verifiers.rs.

Usage: python pyjwk_verify.py <jwks_url> <issuer> <audience> [<cooldown_seconds>]

It prints ``ready`` as its first line of stdout once the client is made. Tokens come on stdin,
one per line, and each is verified as soon as its line arrives: the key is looked up by the
token's ``kid`` with one ``jwt.PyJWKClient(jwks_url, cache_keys=True)`` for the whole run (so its
key set cache, its key cache and its cooldown between refetches carry across tokens, with PyJWT's
defaults otherwise; ``cooldown_seconds``, when given, is its ``cooldown_duration``, the least time
between two fetches of the key set for a ``kid`` it does not know, 30 s by default), then
``jwt.decode`` checks the signature (ES256, EdDSA, RS256 or PS256), ``exp``, ``iat``, ``nbf``, the
issuer and the audience. When stdin ends, one JSON object is printed on a line of its own:

    {"pyjwt": {"verified": n, "failed": n, "failures": [...]}}

where ``failures`` holds the first five failures' messages (``token <n>: <error>``, n counting
from 1).
"""

import json
import sys

import jwt

ALGORITHMS = ["ES256", "EdDSA", "RS256", "PS256"]
FAILURES_KEPT = 5


def main() -> int:
    if len(sys.argv) not in (4, 5):
        print(
            "usage: pyjwk_verify.py <jwks_url> <issuer> <audience> [<cooldown_seconds>]",
            file=sys.stderr,
        )
        return 2
    jwks_url, issuer, audience = sys.argv[1:4]
    options = {}
    if len(sys.argv) == 5:
        options["cooldown_duration"] = float(sys.argv[4])
    client = jwt.PyJWKClient(jwks_url, cache_keys=True, **options)
    print("ready", flush=True)
    verified = failed = 0
    failures = []
    index = 0
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        token = line.strip()
        if not token:
            continue
        index += 1
        try:
            key = client.get_signing_key_from_jwt(token)
            jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=audience,
                issuer=issuer,
            )
            verified += 1
        except Exception as error:  # every refusal, whatever its class, is a failure
            failed += 1
            if len(failures) < FAILURES_KEPT:
                failures.append(f"token {index}: {type(error).__name__}: {error}")
    result = {"pyjwt": {"verified": verified, "failed": failed, "failures": failures}}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
