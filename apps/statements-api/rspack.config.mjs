// Extends the Nest CLI's rspack defaults (ESM output, node externals, SWC) with a second entry: the
// example caller service. `nest build statements-api` → dist/apps/statements-api/{main,caller}.js.
export default (defaults) => ({
  ...defaults,
  entry: {
    main: defaults.entry,
    caller: defaults.entry.replace(/main\.ts$/, 'caller.ts'),
  },
  output: { ...defaults.output, filename: 'apps/statements-api/[name].js' },
});
