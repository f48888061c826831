// Extends the Nest CLI's rspack defaults (ESM output, node externals, SWC; @clavis/* from the workspace
// sources, see ../auth-server/rspack.config.mjs) with a second entry: the example caller service.
// `nest build statements-api` → dist/apps/statements-api/{main,caller}.js.
import { withWorkspaceSources } from '../auth-server/rspack.config.mjs';

export default (defaults) => {
  const config = withWorkspaceSources(defaults);
  return {
    ...config,
    entry: {
      main: config.entry,
      caller: config.entry.replace(/main\.ts$/, 'caller.ts'),
    },
    output: { ...config.output, filename: 'apps/statements-api/[name].js' },
  };
};
