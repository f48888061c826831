import 'reflect-metadata';
import { Controller, Get, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { BearerTokenGuard, ClavisResourceModule, RequireScopes } from '../../libs/resource/dist/index.js';
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
const iss = 'http://127.0.0.1:1';
const token = await new SignJWT({ client_id: 'c1', scope: 'statements:read', jti: 'j1' })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }).setIssuer(iss).setSubject('c1').setAudience(iss)
  .setIssuedAt().setExpirationTime('5m').sign(privateKey);
const statements = (id) => ({ client_id: id, statements: [{ id: 'st_2026_10', period: '2026-10', balance: '1204.50' }] });
const decorate = (d, t, k) => Reflect.decorate(d, t, k, k && Object.getOwnPropertyDescriptor(t, k));
class G { list(req) { return statements(req.clavisClaims.client_id); } }
decorate([Get(), RequireScopes(['statements:read'])], G.prototype, 'list'); Req()(G.prototype, 'list', 0);
decorate([Controller('statements'), UseGuards(BearerTokenGuard)], G);
class O { list() { return statements('x'); } }
decorate([Get()], O.prototype, 'list'); decorate([Controller('open')], O);
class M {}
decorate([Module({ imports: [ClavisResourceModule.forRoot({ issuer: iss, audience: iss, keySource: { getKeySet: async () => ({ keys: [jwk] }) } })], controllers: [G, O] })], M);
const app = await NestFactory.create(M, new FastifyAdapter(), { logger: false });
await app.init(); await app.getHttpAdapter().getInstance().ready();
const f = app.getHttpAdapter().getInstance();
const hdr = { authorization: `Bearer ${token}` };
for (const round of (process.env.ONLY ? [1,2,3] : [1, 2, 3, 4, 5, 6])) for (const [name, url, headers] of (process.env.ONLY === 'g' ? [['guarded', '/statements', hdr]] : [['open', '/open', {}], ['guarded', '/statements', hdr]])) {
  const n = 20000; const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) { const r = await f.inject({ method: 'GET', url, headers }); if (r.statusCode !== 200) throw new Error(r.body); }
  const c = process.cpuUsage(t0); console.log(round, name, ((c.user + c.system) / n).toFixed(1), 'µs');
}
await app.close();
