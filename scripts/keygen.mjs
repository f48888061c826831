// Generates a private_key_jwt key pair: writes <name>.private.jwk.json (keep it) and <name>.jwks.json
// (the public JWK Set to register). Usage: node scripts/keygen.mjs [name] [alg=ES256]
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';

const [name = 'client', alg = 'ES256'] = process.argv.slice(2);
const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
const kid = randomUUID();
writeFileSync(`${name}.private.jwk.json`, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg }, null, 2), {
  mode: 0o600,
});
writeFileSync(
  `${name}.jwks.json`,
  JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }] }, null, 2),
);
process.stdout.write(`wrote ${name}.private.jwk.json and ${name}.jwks.json (kid ${kid})\n`);
