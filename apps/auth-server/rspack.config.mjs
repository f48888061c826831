// Extends the Nest CLI's rspack defaults (ESM output, node externals, SWC) for the workspace: the
// @clavis/* packages are resolved through their `exports` with the `@clavis/source` condition (their
// TypeScript sources) and bundled into the app, instead of being left external like the other
// packages under node_modules (ADR 0016). Every other dependency stays external.
import nodeExternals from 'webpack-node-externals';

export function withWorkspaceSources(defaults) {
  return {
    ...defaults,
    externals: [
      nodeExternals({ importType: 'module', allowlist: [/^@clavis\//] }),
      ...defaults.externals.slice(1),
    ],
    // Keep `import.meta.url` a run-time value (rspack would bake in the source file's absolute path):
    // createRequire(import.meta.url) then resolves optional drivers from the built app's location.
    module: { ...defaults.module, parser: { ...defaults.module?.parser, javascript: { ...defaults.module?.parser?.javascript, importMeta: false } } },
    resolve: {
      ...defaults.resolve,
      conditionNames: ['@clavis/source', 'import', 'module', 'node', 'default'],
    },
  };
}

export default (defaults) => withWorkspaceSources(defaults);
