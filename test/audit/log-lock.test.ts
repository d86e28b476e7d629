import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonlAudit } from '../../src/audit/jsonl.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { decisionEvent, tempDir } from './helpers.ts';

// One writer per log: a second one (another sink in this process, or another process) would
// extend the chain from the head it saw, and their rotations would rename each other's files away.

describe('one writer per audit log', () => {
  it('a second sink on the same file in one process is refused; after close the file opens again', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const first = jsonlAudit({ path, flushOnExit: false });
    expect(() => jsonlAudit({ path, flushOnExit: false })).toThrow(/already open in this process/);
    first.write(decisionEvent(1));
    await first.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    const again = jsonlAudit({ path, flushOnExit: false });
    again.write(decisionEvent(2));
    await again.close();
    expect((await verifyAuditLog(path)).ok).toBe(true);
  });

  it('a file another live process writes is refused, naming it; a lock whose process is gone is taken over', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(`${path}.lock`, `${JSON.stringify({ pid: child.pid, host: hostname() })}\n`);
      expect(() => jsonlAudit({ path, flushOnExit: false })).toThrow(
        new RegExp(`written by process ${child.pid}: a second writer would break its chain`),
      );
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    // The process is gone now: its lock is stale.
    const sink = jsonlAudit({ path, flushOnExit: false });
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8'))).toEqual({ pid: process.pid, host: hostname() });
    await sink.close();
  });

  it('a lock written on another host is refused (its processes cannot be seen from here)', () => {
    const path = join(tempDir(), 'audit.jsonl');
    writeFileSync(`${path}.lock`, `${JSON.stringify({ pid: 1, host: `not-${hostname()}` })}\n`);
    expect(() => jsonlAudit({ path, flushOnExit: false })).toThrow(/on host not-/);
  });

  it('two processes started on one file at once: exactly one writes, and the log verifies', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const script = `
      const { jsonlAudit } = await import(${JSON.stringify(new URL('../../src/audit/jsonl.ts', import.meta.url).href)});
      try {
        const sink = jsonlAudit({ path: ${JSON.stringify(path)}, flushOnExit: false });
        for (let i = 0; i < 200; i++) sink.write({ v: 1, id: 'p' + process.pid + '.' + i, ts: Date.now(), type: 'decision', callId: 'c' + i, tool: 't', decision: 'allow', rules: [] });
        await sink.close();
        console.log('wrote');
      } catch (error) {
        console.log('refused: ' + error.message);
      }`;
    const run = () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.on('exit', () => resolve(out.trim()));
      });
    const outcomes = await Promise.all([run(), run()]);
    const wrote = outcomes.filter((o) => o === 'wrote').length;
    // Either one refused while the other wrote, or they ran one after the other: never at once.
    expect(
      outcomes.filter((o) => o !== 'wrote' && !o.startsWith('refused: toolgate: the audit log')),
    ).toEqual([]);
    expect(wrote).toBeGreaterThanOrEqual(1);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true });
  }, 60_000);
});
