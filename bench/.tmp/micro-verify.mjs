import 'reflect-metadata';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { AccessTokenVerifier } from '/work/wt-perf/libs/resource/dist/access-token.verifier.js';
import { resolveResourceOptions } from '/work/wt-perf/libs/resource/dist/resource-options.js';
import { createHash } from 'node:crypto';
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
const iss = 'http://127.0.0.1:1';
const token = await new SignJWT({ client_id: 'c1', scope: 'statements:read', jti: 'j1' })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }).setIssuer(iss).setSubject('c1').setAudience(iss)
  .setIssuedAt().setExpirationTime('5m').sign(privateKey);
const v = new AccessTokenVerifier(resolveResourceOptions({ issuer: iss, audience: iss, keySource: { getKeySet: async () => ({ keys: [jwk] }) } }));
await v.verify(token);
for (const label of ['cached verify', 'sha256 only']) {
  const n = 200000; const t0 = process.cpuUsage();
  if (label === 'cached verify') for (let i = 0; i < n; i++) await v.verify(token);
  else for (let i = 0; i < n; i++) createHash('sha256').update(token).digest('base64url');
  const c = process.cpuUsage(t0); console.log(label, ((c.user + c.system) / n).toFixed(2), 'µs');
}
const v2 = new AccessTokenVerifier(resolveResourceOptions({ issuer: iss, audience: iss, cacheMaxEntries: 0, keySource: { getKeySet: async () => ({ keys: [jwk] }) } }));
{ const n = 5000; const t0 = process.cpuUsage(); for (let i = 0; i < n; i++) await v2.verify(token); const c = process.cpuUsage(t0); console.log('uncached verify', ((c.user + c.system) / n).toFixed(2), 'µs'); }
