import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigurationError } from '../../src/errors.ts';
import {
  loadPolicy,
  type PolicyFileEngine,
  type PolicyReloadInfo,
  parsePolicy,
} from '../../src/policy/load.ts';
import type { Decision } from '../../src/types.ts';
import { request } from './helpers.ts';

// A policy file written in place in two parts, with a pause between them, by a real child process.
// The first part is a valid policy without the deny rule of the whole file: a reload that puts it in
// force lets `pay` through until the rest arrives.

const dir = mkdtempSync(join(tmpdir(), 'toolgate-settle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signal = new AbortController().signal;

const OLD = 'rules:\n  - id: deny-pay\n    effect: deny\n    tool: pay\n';
const PART1 = 'rules:\n  - id: all\n    effect: allow\n    tool: "*"\n';
const PART2 = '  - id: deny-pay\n    effect: deny\n    tool: pay\n    reason: payments are off\n';

/** The policy's decision for a call of `pay` (a file engine decides synchronously). */
const pay = (policy: PolicyFileEngine) => (policy.evaluate(request('pay'), { signal }) as Decision).type;

const yamlParse = (text: string, options: object) => parseYaml(text, options);
const versionOf = (text: string) => parsePolicy(text, { format: 'yaml' }, yamlParse).version;
const PREFIX_VERSION = versionOf(PART1);
const FULL_VERSION = versionOf(PART1 + PART2);

/**
 * Writes part1 into the file in place (truncating it), then either sleeps `pauseMs` or waits for a
 * line on stdin, then writes part2. With `rename`, writes both parts to `<file>.tmp` and renames
 * it over the file. Prints the pause it measured between the end of part1 and the start of part2.
 */
const WRITER = `
const fs = require('node:fs');
const [file, part1, part2, pause, mode] = process.argv.slice(1);
const target = mode === 'rename' ? file + '.tmp' : file;
const fd = fs.openSync(target, 'w');
fs.writeSync(fd, part1);
const wrote = performance.now();
const finish = () => {
  const gap = performance.now() - wrote;
  fs.writeSync(fd, part2);
  fs.closeSync(fd);
  if (mode === 'rename') fs.renameSync(target, file);
  process.stdout.write(JSON.stringify({ gap }));
};
if (pause === 'stdin') process.stdin.once('data', () => { process.stdin.destroy(); finish(); });
else setTimeout(finish, Number(pause));
`;

function startWriter(file: string, pause: number | 'stdin', mode: 'in-place' | 'rename' = 'in-place') {
  const child = spawn(process.execPath, ['-e', WRITER, file, PART1, PART2, String(pause), mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const done = new Promise<{ gap: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as { gap: number }) : reject(new Error(`writer exited ${code}`)),
    );
  });
  return { child, done };
}

/** Every version the engine put in force, with its decision for `pay` at that moment. */
function record(policy: PolicyFileEngine) {
  const seen: { version: string; pay: string }[] = [];
  policy.on('policy-reload', (info) => {
    seen.push({ version: info.policyVersion, pay: pay(policy) });
  });
  return seen;
}

/** Resolves when `version` is in force; rejects after a generous bound. */
function until(policy: PolicyFileEngine, version: string, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (policy.version === version) return resolve();
    const timer = setTimeout(() => reject(new Error(`version not in force after ${ms} ms`)), ms);
    policy.on('policy-reload', (info) => {
      if (info.policyVersion !== version) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('hot reload of a file written in place in two parts', () => {
  test('the parts are what the test says: the first alone allows pay, the whole file denies it', () => {
    const decide = (text: string) =>
      (parsePolicy(text, { format: 'yaml' }, yamlParse).evaluate(request('pay'), { signal }) as Decision)
        .type;
    expect(decide(PART1)).toBe('allow');
    expect(decide(PART1 + PART2)).toBe('deny');
    expect(decide(OLD)).toBe('deny');
  });

  test('a pause shorter than the settle interval: the first part never comes into force, the whole file does', async () => {
    const settle = 1500;
    // A pause is only covered when it is shorter than the settle interval; a machine that stalled
    // the writer for longer makes that attempt say nothing, so it is run again.
    let conclusive = 0;
    for (let attempt = 0; attempt < 5 && conclusive === 0; attempt++) {
      const file = join(dir, `in-place-${attempt}.yaml`);
      writeFileSync(file, OLD);
      const policy = await loadPolicy(file, { watch: true, settle });
      const seen = record(policy);
      const arrived = until(policy, FULL_VERSION);
      const { done } = startWriter(file, 120);
      const { gap } = await done;
      await arrived;
      await policy.close();
      expect(pay(policy)).toBe('deny');
      if (gap >= settle) continue;
      conclusive += 1;
      // Over the whole window, from the first write to the whole file in force.
      expect(seen.map((entry) => entry.version)).not.toContain(PREFIX_VERSION);
      expect(seen.every((entry) => entry.pay === 'deny')).toBe(true);
      expect(seen.at(-1)?.version).toBe(FULL_VERSION);
    }
    expect(conclusive).toBe(1);
  }, 120_000);

  test('the limit, as documented: a writer that pauses longer than the settle interval has its first part read', async () => {
    const file = join(dir, 'long-pause.yaml');
    writeFileSync(file, OLD);
    const policy = await loadPolicy(file, { watch: true, settle: 50 });
    const seen = record(policy);
    const prefix = until(policy, PREFIX_VERSION);
    const { child, done } = startWriter(file, 'stdin');
    // The writer holds its pause until the first part is in force: no timing decides this test.
    await prefix;
    expect(pay(policy)).toBe('allow');
    const full = until(policy, FULL_VERSION);
    child.stdin.end('go\n');
    await done;
    await full;
    expect(seen.map((entry) => entry.version)).toEqual([PREFIX_VERSION, FULL_VERSION]);
    expect(pay(policy)).toBe('deny');
    await policy.close();
  }, 60_000);

  test('a file replaced by rename (how editors save) reloads, and its temporary file is never read', async () => {
    const file = join(dir, 'renamed.yaml');
    writeFileSync(file, OLD);
    const policy = await loadPolicy(file, { watch: true });
    const seen = record(policy);
    const arrived = until(policy, FULL_VERSION);
    // The temporary file is written slowly: a long pause must not matter, only the rename does.
    const { done } = startWriter(file, 400, 'rename');
    await done;
    await arrived;
    expect(seen.map((entry) => entry.version)).toEqual([FULL_VERSION]);
    expect(pay(policy)).toBe('deny');
    await policy.close();
  }, 60_000);

  test.skipIf(process.platform !== 'linux')(
    'a file that never holds still is not loaded (/proc/uptime changes every 10 ms)',
    async () => {
      await expect(loadPolicy('/proc/uptime', { format: 'yaml', settle: 30 })).rejects.toThrow(
        /kept changing/,
      );
    },
  );

  test.skipIf(process.platform !== 'linux')(
    'a reload of a file that never holds still fails and keeps the last valid policy in force',
    async () => {
      const good = join(dir, 'good.yaml');
      writeFileSync(good, OLD);
      const link = join(dir, 'link.yaml');
      symlinkSync(good, link);
      const policy = await loadPolicy(link, { settle: 30 });
      const before = policy.version;
      const failed = new Promise<PolicyReloadInfo>((resolve) => policy.on('policy-reload-failed', resolve));
      // Repointed by rename, as a deployment swaps a link: now at a file that changes every 10 ms.
      symlinkSync('/proc/uptime', `${link}.new`);
      renameSync(`${link}.new`, link);
      expect(await policy.reload()).toBe(false);
      expect((await failed).reason).toMatch(/kept changing/);
      expect(policy.version).toBe(before);
      expect(pay(policy)).toBe('deny');
      await policy.close();
    },
  );

  test.skipIf(process.platform !== 'linux')(
    'settle: 0 reads once (for files only ever replaced by rename)',
    async () => {
      // Read once, /proc/uptime is a YAML scalar, not a policy: refused for what it says, not for changing.
      await expect(loadPolicy('/proc/uptime', { format: 'yaml', settle: 0 })).rejects.toThrow(
        /a policy document is an object/,
      );
    },
  );

  test('an invalid settle interval is refused at construction', async () => {
    const file = join(dir, 'settle-option.yaml');
    writeFileSync(file, OLD);
    await expect(loadPolicy(file, { settle: 'soon' })).rejects.toThrow(/settle must be a duration/);
    await expect(loadPolicy(file, { settle: -1 })).rejects.toThrow(ConfigurationError);
  });

  test('reload() by hand waits for the file to hold still: the default settle interval passes between reads', async () => {
    const file = join(dir, 'by-hand.yaml');
    writeFileSync(file, OLD);
    const policy = await loadPolicy(file);
    writeFileSync(file, PART1 + PART2);
    const started = performance.now();
    expect(await policy.reload()).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(policy.version).toBe(FULL_VERSION);
    await policy.close();
  });
});
