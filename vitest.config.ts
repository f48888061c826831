import swc from 'unplugin-swc';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// SWC compiles the TypeScript (decorator metadata, which Nest's DI needs). @clavis/* resolve as a
// host resolves them (npm workspaces, each package's `exports`), with the `@clavis/source` condition
// picking the TypeScript sources instead of the built dist/ (ADR 0016).
const conditions = ['@clavis/source', ...defaultServerConditions];

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    globals: true,
    root: './',
    include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'test/**/*.e2e-spec.ts', 'test/**/*.interop-spec.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PostgreSQL and Redis runs share one database: run files one at a time there.
    fileParallelism: !process.env.DATABASE_URL,
  },
});
