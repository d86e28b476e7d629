import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/audit.ts';
import { captureConsole } from './helpers.ts';
import { findSeq, publicKeys, readLines, rotatedLog, verifyCode, writeLines } from './helpers-rotated.ts';

// An anchor given to the verifier must be used or refused: an anchor file that holds no
// checkpoint, or lines that are no checkpoint, never lets a truncated log verify as if no anchor
// had been given (a script trusts exit 0).

afterEach(() => {
  vi.restoreAllMocks();
});

/** A log whose tail after its first checkpoint was deleted (only the anchor can tell). */
async function truncatedLog() {
  const log = await rotatedLog(40, 100_000);
  const first = log.anchored[0]!;
  const { file, index } = findSeq(log.files, first.seq);
  writeLines(file, readLines(file).slice(0, index + 1));
  return log;
}

async function cli(args: readonly string[]): Promise<{ exit: number; out: string[]; err: string[] }> {
  const io = captureConsole();
  try {
    const exit = await run(['verify', ...args]);
    return { exit, out: io.out, err: io.err };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('toolgate audit verify --anchor: an anchor file is used or refused', () => {
  it.each([
    ['empty', ''],
    ['blank lines', '\n\n'],
    ['a number', '42\n'],
    ['null', 'null\n'],
    ['an empty list', '[]'],
    ['not JSON', 'garbage\n'],
    ['a truncated line', '{"seq":\n'],
    ['an object without a signature', '{"seq":1}\n'],
  ])('%s: exit 3, never 0', async (_name, text) => {
    const log = await truncatedLog();
    const anchorFile = join(log.dir, 'odd-anchor.jsonl');
    writeFileSync(anchorFile, text);
    const { exit, err } = await cli([log.path, '--key', `k1=${log.keyFile}`, '--anchor', anchorFile]);
    expect(exit).toBe(3);
    expect(err.join('\n')).toMatch(/odd-anchor\.jsonl/);
    expect(err.join('\n')).not.toMatch(/unexpected error/);
  });

  it('a good anchor followed by a line that is no checkpoint: exit 3', async () => {
    const log = await truncatedLog();
    const anchorFile = join(log.dir, 'odd-anchor.jsonl');
    writeFileSync(anchorFile, `${JSON.stringify(log.anchored.at(-1))}\n{"note":"hello"}\n`);
    expect((await cli([log.path, '--key', `k1=${log.keyFile}`, '--anchor', anchorFile])).exit).toBe(3);
  });

  it('the anchor as one pretty-printed checkpoint is read', async () => {
    const log = await truncatedLog();
    const anchorFile = join(log.dir, 'pretty-anchor.json');
    writeFileSync(anchorFile, JSON.stringify(log.anchored.at(-1), null, 2));
    const { exit, out } = await cli([log.path, '--key', `k1=${log.keyFile}`, '--anchor', anchorFile]);
    expect(exit).toBe(1);
    expect(out.join('\n')).toMatch(/truncated_after_anchor/);
  });

  it('a real anchor file still verifies an intact log and catches the truncated one', async () => {
    const intact = await rotatedLog(40, 100_000);
    expect(
      (await cli([intact.path, '--key', `k1=${intact.keyFile}`, '--anchor', intact.anchorFile])).exit,
    ).toBe(0);
    const log = await truncatedLog();
    expect((await cli([log.path, '--key', `k1=${log.keyFile}`, '--anchor', log.anchorFile])).exit).toBe(1);
  });
});

describe('verifyAuditLog: an anchor option that holds no usable checkpoint fails', () => {
  it('an empty list of anchors is bad_signature, not "no anchor"', async () => {
    const log = await truncatedLog();
    expect(await verifyCode(log.path, { publicKeys })).toBe('ok');
    expect(await verifyCode(log.path, { publicKeys, anchor: [] })).toBe('bad_signature');
  });

  it('an anchor entry whose seq is no whole number is bad_signature, wherever it is in the list', async () => {
    const log = await truncatedLog();
    const odd = { ...log.anchored[0]!, seq: 'x' } as never;
    expect(await verifyCode(log.path, { publicKeys, anchor: [...log.anchored, odd] })).toBe('bad_signature');
    expect(await verifyCode(log.path, { publicKeys, anchor: [odd, ...log.anchored] })).toBe('bad_signature');
  });
});

describe('boolean options take no value', () => {
  it.each(['--partial=false', '--json=false', '--partial=no'])(
    '%s is a usage error, not the option turned on',
    async (flag) => {
      const log = await rotatedLog(20, 100_000);
      expect((await cli([log.path, '--key', `k1=${log.keyFile}`, flag])).exit).toBe(2);
    },
  );
});

describe('a file of the log replaced by plain JSON lines is tampering, not "not an audit log"', () => {
  it('the oldest rotated file rewritten as JSON lines: exit 1 with a code', async () => {
    const log = await rotatedLog(60, 2000);
    expect(log.files.length).toBeGreaterThan(2);
    writeFileSync(log.files[0]!, '{"type":"decision","decision":"allow"}\n'.repeat(30));
    const { exit, out } = await cli([log.path, '--key', `k1=${log.keyFile}`]);
    expect(exit).toBe(1);
    expect(out.join('\n')).toMatch(/hash_mismatch/);
  });

  it('a file that is no log at all is still said so (exit 3)', async () => {
    const log = await rotatedLog(10, 1_000_000);
    const other = join(log.dir, 'events.jsonl');
    writeFileSync(other, '{"type":"decision"}\n');
    const { exit, out } = await cli([other]);
    expect(exit).toBe(3);
    expect(out.join('\n')).toMatch(/not_an_audit_log/);
  });
});
