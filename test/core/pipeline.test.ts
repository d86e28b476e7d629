import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The step list of src/core/pipeline.ts is code, numbered by hand for speed; these tests hold it
// to its rules, and the docs to it.

const root = join(import.meta.dirname, '..', '..');
const source = readFileSync(join(root, 'src/core/pipeline.ts'), 'utf8');
const lines = [
  ...source.matchAll(
    /if \(next <= (\d+) && \(step = (\w+)\(at\(call, (\d+)\), core\)\) !== undefined\) return stopped\(call, (\d+), step\);/g,
  ),
];
/** The steps of a call, in order. */
const callSteps = lines.map((line) => line[2]!);
/** What each step denies when it throws, as the pipeline lists it. */
const failures = [...source.matchAll(/^ {2}\['(\w+)', '([A-Z_]+)'\],$/gm)].map((match) => match[1]!);
/** The steps of a dry run: those before the line that ends it. */
const dryRunEnd = source.indexOf('if (call.peek) return undefined;');
const checkSteps = lines.filter((line) => line.index! < dryRunEnd).map((line) => line[2]!);

describe('the step list (src/core/pipeline.ts)', () => {
  it('numbers its lines 0, 1, 2, … in order, each line with its own number three times', () => {
    expect(lines.length).toBeGreaterThanOrEqual(10);
    lines.forEach((line, index) => {
      expect(Number(line[1])).toBe(index);
      expect(Number(line[3])).toBe(index);
      expect(Number(line[4])).toBe(index);
    });
  });

  it('says, for every step in order, what it denies when it throws', () => {
    expect(failures).toEqual(callSteps);
  });

  it('has one file per step, named as the step, in src/core/steps/', () => {
    for (const name of [...callSteps, 'execute']) {
      expect(existsSync(join(root, 'src/core/steps', `${name}.ts`)), name).toBe(true);
      expect(source).toContain(`import { ${name} } from './steps/${name}.ts';`);
    }
  });

  it('runs a dry run through the steps of a call up to the approval', () => {
    expect(dryRunEnd).toBeGreaterThan(0);
    expect(checkSteps).toEqual(callSteps.slice(0, callSteps.indexOf('approve')));
    expect(checkSteps.at(-1)).toBe('limits');
  });

  it('is the list the README and docs/architecture.md show', () => {
    for (const page of ['README.md', 'docs/architecture.md']) {
      const text = readFileSync(join(root, page), 'utf8');
      const block = /```\ncall\(args, \{ context, signal \}\)\n([\s\S]*?)```/.exec(text)?.[1];
      expect(block, page).toBeDefined();
      const shown = [...block!.matchAll(/^\s*\d+ (\w+)/gm)].map((match) => match[1]!);
      // The list, then the tool and its result: execute, obligate, record.
      expect(shown, page).toEqual([...callSteps, 'execute', 'obligate', 'record']);
    }
  });
});
