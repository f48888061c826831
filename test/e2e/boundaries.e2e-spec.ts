import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The package boundaries (README, Layout), checked on the sources (the lint rules' job, as a test). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !/\.spec\.ts$/.test(name) ? [path] : [];
  });
}
const imports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map(
    (m) => m[1],
  );
/** Static imports, plus modules loaded at run time (`import('x')`, `require('x')`: optional drivers are loaded so). */
const loads = (file: string) => [
  ...imports(file),
  ...[...readFileSync(file, 'utf8').matchAll(/\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
];

describe('package boundaries', () => {
  it('@clavis/resource imports neither @clavis/server nor @clavis/client', () => {
    for (const f of sources('libs/resource/src'))
      expect(
        imports(f).filter((i) => /@clavis\/(server|client)|libs\/(server|client)/.test(i)),
        f,
      ).toEqual([]);
  });
  it('@clavis/client imports neither @clavis/server nor @clavis/resource, and only nest/ imports @nestjs', () => {
    for (const f of sources('libs/client/src')) {
      expect(
        imports(f).filter((i) => /@clavis\/(server|resource)|libs\/(server|resource)/.test(i)),
        f,
      ).toEqual([]);
      if (!f.includes('/nest/'))
        expect(
          imports(f).filter((i) => i.startsWith('@nestjs/')),
          f,
        ).toEqual([]);
    }
  });
  it('@clavis/server imports @clavis/resource only for the in-process guard (docs/adr/0018), never @clavis/client', () => {
    for (const f of sources('libs/server/src')) {
      const allowed = f.endsWith('embedding/in-process-resource.module.ts') ? ['@clavis/resource'] : [];
      expect(
        imports(f).filter((i) => /@clavis\/(resource|client)|libs\/(resource|client)/.test(i) && !allowed.includes(i)),
        f,
      ).toEqual([]);
    }
  });
  it('only the TypeORM adapter folder loads typeorm, @nestjs/typeorm and the SQL drivers; only the Redis one loads ioredis; the module reaches them through typeOrmStorage()', () => {
    // Drivers and their Nest glue are adapters' business (docs/adr/0019-storage-is-a-port.md, docs/adr/0023):
    // the module definition picks the default storage by calling typeOrmStorage(), never TypeOrmModule itself.
    for (const f of sources('libs/server/src')) {
      if (!f.includes('/persistence/typeorm/'))
        expect(
          loads(f).filter((i) => /^(typeorm|@nestjs\/typeorm|pg|better-sqlite3)(\/|$)/.test(i)),
          f,
        ).toEqual([]);
      if (!f.includes('/persistence/redis/'))
        expect(
          loads(f).filter((i) => /^ioredis(\/|$)/.test(i)),
          f,
        ).toEqual([]);
      if (!f.includes('/persistence/') && !f.endsWith('clavis-server.module-definition.ts') && !f.endsWith('index.ts'))
        expect(
          imports(f).filter((i) => /persistence\//.test(i)),
          f,
        ).toEqual([]);
    }
  });
  it('libraries never read process.env and never import apps', () => {
    for (const f of [...sources('libs/server/src'), ...sources('libs/resource/src'), ...sources('libs/client/src')]) {
      expect(readFileSync(f, 'utf8'), f).not.toMatch(/process\.env/);
      expect(
        imports(f).filter((i) => i.includes('apps/')),
        f,
      ).toEqual([]);
    }
  });
  it('keys/ and client-auth/ take the crypto backend from jws/, never from token/; jws/ depends on none of them', () => {
    for (const f of [...sources('libs/server/src/keys'), ...sources('libs/server/src/client-auth')])
      expect(
        imports(f).filter((i) => i.includes('/token/')),
        f,
      ).toEqual([]);
    for (const f of sources('libs/server/src/jws'))
      expect(
        imports(f).filter((i) => /\/(token|keys|client-auth)\//.test(i)),
        f,
      ).toEqual([]);
  });
  it('no deep imports into another package (only the published entry points: testing, nest, health)', () => {
    for (const f of [...sources('apps'), ...sources('libs')])
      expect(
        imports(f).filter((i) => /^@clavis\/[^/]+\/(?!testing$|nest$|health$)/.test(i) || i.includes('/dist/')),
        f,
      ).toEqual([]);
  });
});
