import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/index.ts';

// A YAML policy file says one thing: no mapping may hold one key twice, however the second is
// written (an alias to a scalar, a number beside its string, a collection as a key).

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-yaml-keys-'));
  dirs.push(dir);
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, text);
  return path;
}

async function outcome(text: string): Promise<string> {
  try {
    const policy = await loadPolicy(file(text));
    const decision = await policy.evaluate(
      { callId: 'c', depth: 0, tool: { name: 'db.wipe' }, args: { n: 1 }, argsHash: '', context: {}, now: 0 },
      { signal: new AbortController().signal },
    );
    return decision.type;
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

describe('YAML policy files: a key twice in one mapping is refused, however it is written', () => {
  it('a key written as an alias of a scalar', async () => {
    const text =
      'rules:\n  - id: no-wipe\n    reason: &k effect\n    tool: db.wipe\n    effect: deny\n    *k : allow\n';
    expect(await outcome(text)).toMatch(/^refused: .*key/);
  });

  it('an alias key at the top of the document', async () => {
    const text = 'description: &r rules\nrules: []\n*r : [{ id: a, effect: allow, tool: db.wipe }]\n';
    expect(await outcome(text)).toMatch(/^refused: .*key/);
  });

  it('a collection as a key', async () => {
    const text = 'rules:\n  - id: r\n    effect: allow\n    ? [tool]\n    : db.wipe\n';
    expect(await outcome(text)).toMatch(/^refused: /);
  });

  it('aliases as values still work', async () => {
    const text =
      'rules:\n  - id: a\n    effect: &e deny\n    tool: &t db.wipe\n  - id: b\n    effect: allow\n    tool: *t\n';
    expect(await outcome(text)).toBe('deny');
  });
});
