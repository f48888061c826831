import swc from 'unplugin-swc';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import { REQUIREMENTS, requirementTag, type Requirement } from './test/support/requirements.js';
import SkipGuardReporter from './test/support/skip-guard.reporter.js';

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
    include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'test/support/*.spec.ts', 'test/**/*.e2e-spec.ts', 'test/**/*.interop-spec.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PostgreSQL and Redis runs share one database: run files one at a time there.
    fileParallelism: !process.env.DATABASE_URL,
    // Suites that need a tool or a database say so with needs(...); with CLAVIS_REQUIRE set (CI), a skip
    // that is not such a declared, not-required need fails the run (docs/adr/0015-ci-fails-on-skipped-suites.md).
    tags: (Object.keys(REQUIREMENTS) as Requirement[]).map((name) => ({ name: requirementTag(name), description: REQUIREMENTS[name].description })),
    reporters: ['default', new SkipGuardReporter()],
  },
});
