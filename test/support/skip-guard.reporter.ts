import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { requiredOnThisPass } from './requirements.js';

/**
 * Fails a CI run that passed by not running something (docs/adr/0015-ci-fails-on-skipped-suites.md).
 * Active when `CLAVIS_REQUIRE` is set (`.ci/run` sets it per pass); then the run fails when
 * - a test was skipped, unless `needs(...)` skipped it for a requirement this pass does not list
 *   (`it.skip`, `describe.skipIf`, `ctx.skip()`, `.todo`, a stray `.only` all count), or
 * - a test file reported no test at all.
 * Without `CLAVIS_REQUIRE` it only lists what was skipped.
 */
export default class SkipGuardReporter implements Reporter {
  private vitest?: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    requiredOnThisPass(); // an unknown name in CLAVIS_REQUIRE stops the run before any test
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const required = requiredOnThisPass();
    const violations: string[] = [];
    const declared = new Map<string, Set<string>>();
    let unloaded = 0;
    for (const module of testModules) {
      const file = module.relativeModuleId;
      const tests = [...module.children.allTests()];
      // A file that failed to load has no tests and already fails the run with its own error.
      if (tests.length === 0) {
        if (module.state() === 'failed') unloaded++;
        else violations.push(`${file}: reported no tests`);
      }
      const undeclared: string[] = [];
      for (const test of tests) {
        const result = test.result();
        if (result.state !== 'skipped') continue;
        const needed = test.tags.filter((t) => t.startsWith('needs:')).map((t) => t.slice('needs:'.length));
        const excused = needed.filter((n) => !required?.has(n));
        if (excused.length) {
          if (!declared.has(file)) declared.set(file, new Set());
          excused.forEach((n) => declared.get(file)!.add(n));
        } else {
          const how = result.note ? ` (${result.note})` : test.options.mode === 'run' ? '' : ` (${test.options.mode})`;
          undeclared.push(`${file} > ${test.fullName}: skipped${how}`);
        }
      }
      if (undeclared.length && undeclared.length === tests.length) violations.push(`${file}: skipped entirely (${tests.length} tests)`);
      else violations.push(...undeclared);
    }
    const log = (line: string) => (this.vitest ? this.vitest.logger.log(line) : console.log(line));
    const error = (line: string) => (this.vitest ? this.vitest.logger.error(line) : console.error(line));
    for (const [file, names] of declared) {
      log(`skip-guard: ${file} skipped its tests needing ${[...names].join(', ')} (not required on this pass)`);
    }
    if (!required) return;
    if (violations.length === 0) {
      const failed = unloaded ? `; ${unloaded} file(s) failed to load, see their errors above` : '';
      log(`skip-guard: no unexpected skips (this pass requires: ${[...required].join(', ') || 'nothing outside Node'})${failed}`);
      return;
    }
    error(`\nskip-guard: FAILED — tests did not run on a pass that must run them:`);
    for (const v of violations.slice(0, 50)) error(`  ${v}`);
    if (violations.length > 50) error(`  … and ${violations.length - 50} more`);
    error(
      'A suite that needs something outside Node declares it with needs(...) from test/support/requirements.ts; ' +
        'CLAVIS_REQUIRE (set per pass in .ci/run) lists what this pass must run.\n',
    );
    process.exitCode = 1;
  }
}
