import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { requiredOnThisPass } from './requirements.js';

/** What the skip guard reads of a test file: a structural subset of Vitest's `TestModule`. */
export interface ModuleResult {
  relativeModuleId: string;
  state(): string;
  children: {
    allTests(): Iterable<{
      fullName: string;
      tags: readonly string[];
      options: { mode: string };
      result(): { state: string; note?: string };
    }>;
  };
}

export interface SkipReport {
  /** One line per file skipped entirely, per other skipped test, per file without tests. */
  violations: string[];
  /** file → requirements it skipped for, not required on this pass. */
  declared: Map<string, Set<string>>;
  /** Files that failed to load (they fail the run with their own error). */
  unloaded: number;
}

/**
 * Every skipped test is a violation unless `needs(...)` tagged it with a requirement that `required`
 * does not list; a file that loaded but reported no test is one too.
 */
export function checkSkips(
  modules: ReadonlyArray<ModuleResult>,
  required: ReadonlySet<string> | undefined,
): SkipReport {
  const report: SkipReport = { violations: [], declared: new Map(), unloaded: 0 };
  for (const module of modules) {
    const file = module.relativeModuleId;
    const tests = [...module.children.allTests()];
    if (tests.length === 0) {
      if (module.state() === 'failed') report.unloaded++;
      else report.violations.push(`${file}: reported no tests`);
      continue;
    }
    const undeclared: string[] = [];
    for (const test of tests) {
      const result = test.result();
      if (result.state !== 'skipped') continue;
      const excused = test.tags
        .filter((t) => t.startsWith('needs:'))
        .map((t) => t.slice('needs:'.length))
        .filter((n) => !required?.has(n));
      if (excused.length) {
        const names = report.declared.get(file) ?? new Set<string>();
        excused.forEach((n) => names.add(n));
        report.declared.set(file, names);
      } else {
        const how = result.note ? ` (${result.note})` : test.options.mode === 'run' ? '' : ` (${test.options.mode})`;
        undeclared.push(`${file} > ${test.fullName}: skipped${how}`);
      }
    }
    if (undeclared.length === tests.length) report.violations.push(`${file}: skipped entirely (${tests.length} tests)`);
    else report.violations.push(...undeclared);
  }
  return report;
}

/**
 * Fails a CI run that passed by not running something (docs/adr/0015-ci-fails-on-skipped-suites.md).
 * Active when `CLAVIS_REQUIRE` is set (`.ci/run` sets it per pass): then the run fails when a test was
 * skipped other than by `needs(...)` for a requirement the pass does not list (`it.skip`,
 * `describe.skipIf`, `ctx.skip()`, `.todo`, a stray `.only` all count), or a file reported no test.
 * Without `CLAVIS_REQUIRE` it only lists the declared skips.
 */
export default class SkipGuardReporter implements Reporter {
  private vitest?: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    requiredOnThisPass(); // an unknown name in CLAVIS_REQUIRE stops the run before any test
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const required = requiredOnThisPass();
    const { violations, declared, unloaded } = checkSkips(testModules, required);
    const log = (line: string) => (this.vitest ? this.vitest.logger.log(line) : console.log(line));
    const error = (line: string) => (this.vitest ? this.vitest.logger.error(line) : console.error(line));
    for (const [file, names] of declared) {
      log(`skip-guard: ${file} skipped its tests needing ${[...names].join(', ')} (not required on this pass)`);
    }
    if (!required) return;
    if (violations.length === 0) {
      const failed = unloaded ? `; ${unloaded} file(s) failed to load, see their errors above` : '';
      log(
        `skip-guard: no unexpected skips (this pass requires: ${[...required].join(', ') || 'nothing outside Node'})${failed}`,
      );
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
