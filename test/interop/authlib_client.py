"""Gets tokens from a running Clavis with Python's authlib, using authlib's own assertion defaults
(iat = now, exp = now + 3600, a random jti). Called by authlib.interop-spec.ts.

argv: issuer token_endpoint method client_id secret_or_pem_path
prints the token response as JSON; exits 1 with the error on failure.
"""
import base64
import json
import sys

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT

issuer, token_endpoint, method, client_id, credential = sys.argv[1:6]

if method == 'client_secret_jwt':
    # authlib puts its first argument into `aud`; Clavis wants the issuer identifier there.
    auth = ClientSecretJWT(issuer)
    session = OAuth2Session(client_id, credential, token_endpoint_auth_method=auth)
elif method == 'private_key_jwt':
    with open(credential) as f:
        private_key = f.read()
    auth = PrivateKeyJWT(issuer, alg='RS256')
    session = OAuth2Session(client_id, private_key, token_endpoint_auth_method=auth)
else:
    raise SystemExit('unknown method ' + method)

try:
    token = session.fetch_token(token_endpoint, grant_type='client_credentials', scope='statements:read')
except Exception as e:  # authlib raises OAuthError with the server's error code
    print(json.dumps({'error': type(e).__name__, 'detail': str(e)}))
    sys.exit(1)
# The claims authlib signs by default (decoded, not verified), to show what the server accepted.
sample = auth.sign(session, issuer)
sample = sample.decode() if isinstance(sample, bytes) else sample
payload = sample.split('.')[1]
claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
print(json.dumps({'token': dict(token), 'claims': claims}))
