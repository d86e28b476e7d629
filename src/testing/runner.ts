// How the conformance suites register their tests: with the `describe` and `it` of whatever runner
// the project uses (vitest, Jest, node:test). Loading toolgate/testing imports no runner.

/** A test body; it fails by throwing or rejecting. */
export type TestBody = () => void | Promise<void>;

/**
 * The `describe` and `it` of a test runner. vitest's, Jest's (`@jest/globals`) and node:test's fit
 * as they are.
 *
 * @example
 * import { describe, it } from 'node:test';
 * testStateStore('my store', { create, runner: { describe, it } });
 */
export interface TestRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: TestBody): unknown;
}

/** Options every conformance suite takes. */
export interface SuiteOptions {
  /**
   * The runner's `describe` and `it`. Default: the global ones, which Jest and vitest with
   * `globals: true` define; with node:test, or vitest without globals, pass them.
   */
  runner?: TestRunner;
}

/** The runner a suite registers with: the one given, or the globals; a clear error otherwise. */
export function suiteRunner(options: SuiteOptions | undefined, suite: string): TestRunner {
  if (options?.runner !== undefined) {
    const { describe, it } = options.runner;
    if (typeof describe !== 'function' || typeof it !== 'function')
      throw new TypeError(`toolgate: ${suite}: runner must have describe and it functions`);
    return options.runner;
  }
  const globals = globalThis as { describe?: unknown; it?: unknown };
  if (typeof globals.describe === 'function' && typeof globals.it === 'function')
    return globals as TestRunner;
  throw new TypeError(
    `toolgate: ${suite} needs your test runner's describe and it: pass { runner: { describe, it } } (from 'vitest', 'node:test' or '@jest/globals')`,
  );
}

/** Registers a skipped suite: with the runner's `describe.skip` when it has one, else a note. */
export function skippedSuite(runner: TestRunner, name: string, reason: string): void {
  const skip = (runner.describe as { skip?: unknown }).skip;
  if (typeof skip === 'function') {
    (skip as TestRunner['describe'])(`${name} (skipped: ${reason})`, () => {
      runner.it('skipped', () => {});
    });
    return;
  }
  runner.describe(`${name} (skipped: ${reason})`, () => undefined);
}

/**
 * Registers a skipped test: with the runner's `it.skip` when it has one, else a test that does
 * nothing and says in its name that it was skipped and why.
 */
export function skippedTest(runner: TestRunner, name: string, reason: string): void {
  const skip = (runner.it as { skip?: unknown }).skip;
  if (typeof skip === 'function') {
    (skip as TestRunner['it'])(`${name} (${reason})`, () => {});
    return;
  }
  runner.it(`${name} (skipped: ${reason})`, () => {});
}
