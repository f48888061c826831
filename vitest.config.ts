import swc from 'unplugin-swc';
import tsconfigPaths from 'vite-tsconfig-paths';
import { defineConfig } from 'vitest/config';

// SWC compiles the TypeScript (decorator metadata, which Nest's DI needs); tsconfig paths resolve @clavis/*.
export default defineConfig({
  plugins: [tsconfigPaths(), swc.vite({ module: { type: 'es6' } })],
  test: {
    globals: true,
    root: './',
    include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'test/**/*.e2e-spec.ts', 'test/**/*.interop-spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PostgreSQL and Redis runs share one database: run files one at a time there.
    fileParallelism: !process.env.DATABASE_URL,
  },
});
