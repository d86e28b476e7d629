import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonlAudit, verifyAuditLog } from '../../src/index.ts';
import { decisionEvent, tempDir } from './helpers.ts';

const CHILD = join(import.meta.dirname, 'fixtures', 'crash-child.ts');

/** Runs the child until it acknowledged at least `count` calls, then SIGKILLs it. */
function runAndKill(path: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: string[] = [];
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) if (part.startsWith('ack ')) acked.push(part.slice(4));
      if (acked.length >= count && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

describe('crash safety', () => {
  it('a writer SIGKILLed mid-stream loses nothing it acknowledged; the chain resumes and verifies', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const first = await runAndKill(path, 120);
    expect(first.length).toBeGreaterThanOrEqual(120);
    // Whatever the kill left behind, every acknowledged call's decision is in the file.
    const afterKill = readFileSync(path, 'utf8');
    for (const id of first) expect(afterKill).toContain(`"callId":"${id}"`);
    const killed = await verifyAuditLog(path);
    expect(killed.ok || (!killed.ok && killed.code === 'torn_write')).toBe(true);

    // A torn page at the end (what a crash inside write(2) leaves): reported as torn_write…
    appendFileSync(path, '{"event":{"callId":"half-writ');
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, code: 'torn_write' });

    // …and repaired on restart: the chain resumes, the torn line is reported as a notice.
    const second = await runAndKill(path, 40);
    const sink = jsonlAudit({ path });
    sink.write(decisionEvent(1));
    await sink.close();
    const result = await verifyAuditLog(path);
    expect(result.ok).toBe(true);
    expect(result.notices).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'torn_repaired' })]),
    );
    const text = readFileSync(path, 'utf8');
    for (const id of [...first, ...second]) expect(text).toContain(`"callId":"${id}"`);
  }, 120_000);
});

describe('exit signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`buffered records are flushed on ${signal}, then the process still ends by the signal`, async () => {
      const path = join(tempDir(), 'audit.jsonl');
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'signal-child.ts'), path],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, sig) => resolve(sig)),
      );
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('buffered')) resolve();
        });
      });
      expect(readFileSync(path, 'utf8')).toBe(''); // nothing written yet
      child.kill(signal);
      expect(await exited).toBe(signal);
      expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: 750 });
    }, 60_000);
  }

  for (const how of ['exit', 'signal'] as const) {
    it(`records on their way to the file (write thread) and queued all reach it on ${how}`, async () => {
      const path = join(tempDir(), 'audit.jsonl');
      // One batch and a half: the first on the write thread (still starting) when the process ends.
      const count = 200;
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'exit-child.ts'), path, how, String(count)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      const exited = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on('exit', (code, sig) => resolve([code, sig])),
      );
      expect(exited).toEqual(how === 'exit' ? [0, null] : [null, 'SIGTERM']);
      // Some records were still queued (not yet handed to the write thread) when the process ended.
      expect(Number(/queued (\d+)/.exec(stdout)?.[1])).toBeGreaterThan(0);
      expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: count });
    }, 60_000);
  }
});
