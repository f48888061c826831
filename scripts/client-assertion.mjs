// Prints a fresh client assertion (RFC 7523) for Clavis: iss = sub = client_id, aud = the issuer,
// a unique jti, exp 60 s ahead.
//   node scripts/client-assertion.mjs secret  <client_id> <client_secret>    [issuer]   (client_secret_jwt, HS256)
//   node scripts/client-assertion.mjs key     <client_id> <private.jwk.json> [issuer]   (private_key_jwt)
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';

const [kind, clientId, material, issuer = process.env.ISSUER ?? 'http://localhost:3000'] = process.argv.slice(2);
if (!['secret', 'key'].includes(kind) || !clientId || !material) {
  process.stderr.write(
    'usage: client-assertion.mjs secret|key <client_id> <client_secret | private.jwk.json> [issuer]\n',
  );
  process.exit(2);
}
let key, header;
if (kind === 'secret') {
  key = new TextEncoder().encode(material);
  header = { alg: 'HS256' };
} else {
  const jwk = JSON.parse(readFileSync(material, 'utf8'));
  key = await importJWK(jwk, jwk.alg ?? 'ES256');
  header = { alg: jwk.alg ?? 'ES256', kid: jwk.kid };
}
const now = Math.floor(Date.now() / 1000);
const jwt = await new SignJWT({ jti: randomUUID() })
  .setProtectedHeader(header)
  .setIssuer(clientId)
  .setSubject(clientId)
  .setAudience(issuer)
  .setIssuedAt(now)
  .setExpirationTime(now + 60)
  .sign(key);
process.stdout.write(`${jwt}\n`);
