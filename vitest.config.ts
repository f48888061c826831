import swc from 'unplugin-swc';
import tsconfigPaths from 'vite-tsconfig-paths';
import { defineConfig } from 'vitest/config';
import { REQUIREMENTS, requirementTag, type Requirement } from './test/support/requirements.js';
import SkipGuardReporter from './test/support/skip-guard.reporter.js';

// SWC compiles the TypeScript (decorator metadata, which Nest's DI needs); tsconfig paths resolve @clavis/*.
export default defineConfig({
  plugins: [tsconfigPaths(), swc.vite({ module: { type: 'es6' } })],
  test: {
    globals: true,
    root: './',
    include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'test/support/*.spec.ts', 'test/**/*.e2e-spec.ts', 'test/**/*.interop-spec.ts'],
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
