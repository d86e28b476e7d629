import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonlAudit, verifyAuditLog } from '../../src/index.ts';
import { decisionEvent } from './helpers.ts';
import { logFiles, publicKeys, rotatedLog } from './helpers-rotated.ts';

// A crash during the first write of a file (a new log, or the file a rotation just started) leaves
// a torn first line and nothing else. The writer must resume after it, as after any torn write:
// before, it refused to open the log at every restart ("does not start with a toolgate audit file
// header"), so a guard with that sink could not be built again until someone edited the log.

async function appendOne(path: string, n: number): Promise<void> {
  const sink = jsonlAudit({ path, flushOnExit: false });
  sink.write(decisionEvent(n));
  await sink.close();
}

describe('a torn first line of the active file', () => {
  it.each([false, true])(
    'rotated files before it: %s; the writer resumes and the log verifies',
    async (rotated) => {
      const log = await rotatedLog(30, rotated ? 3000 : 1_000_000);
      expect(log.files.length > 1).toBe(rotated);
      const active = readFileSync(log.path);
      const firstLine = active.indexOf(10);
      for (const cut of [1, 60, firstLine - 1]) {
        writeFileSync(log.path, active.subarray(0, cut));
        expect((await verifyAuditLog(log.path, { publicKeys })).ok).toBe(false);
        await appendOne(log.path, 100 + cut);
        const result = await verifyAuditLog(log.path, { publicKeys });
        expect(result.ok, JSON.stringify(result)).toBe(true);
        if (!result.ok) continue;
        // The torn bytes are noted, not dropped in silence.
        expect(result.notices.map((notice) => notice.kind)).toContain('torn_repaired');
        const text = readFileSync(log.path, 'utf8');
        expect(text).toContain(`"bytes":${cut}`);
        expect(text).toContain(`"call-${100 + cut}`);
        expect(logFiles(log.dir)).toEqual(log.files);
        writeFileSync(log.path, active);
      }
    },
  );

  it('a first line that is not torn but damaged (a newline after it) still refuses to open', async () => {
    const log = await rotatedLog(10, 1_000_000);
    const active = readFileSync(log.path, 'utf8');
    writeFileSync(log.path, `x${active.slice(1)}`);
    await expect(appendOne(log.path, 1)).rejects.toThrow(/file header/);
  });
});

describe('a crash between closing a torn line and writing its gap record', () => {
  // On reopening, the writer closes a torn last line with a newline at once and writes its `gap`
  // record with its first batch; a process killed in between (a crash loop) left a closed line
  // that is no record, and the writer then refused the log at every restart.
  it('the writer resumes, and the log verifies with the repair noted', async () => {
    const log = await rotatedLog(20, 1_000_000);
    const intact = readFileSync(log.path);
    const lastLine = intact.subarray(intact.lastIndexOf(10, intact.length - 2) + 1);
    writeFileSync(log.path, Buffer.concat([intact, lastLine.subarray(0, 80), Buffer.from('\n')]));
    await appendOne(log.path, 500);
    const result = await verifyAuditLog(log.path, { publicKeys });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.notices.map((notice) => notice.kind)).toEqual(['torn_repaired']);
    expect(readFileSync(log.path, 'utf8')).toContain('"callId":"call-500"');
  });

  it('the same for a torn first line closed with a newline', async () => {
    const log = await rotatedLog(30, 3000);
    const active = readFileSync(log.path);
    writeFileSync(log.path, Buffer.concat([active.subarray(0, 70), Buffer.from('\n')]));
    await appendOne(log.path, 501);
    const result = await verifyAuditLog(log.path, { publicKeys });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.notices.map((notice) => notice.kind)).toEqual(['torn_repaired']);
  });

  it('a closed line that looks like a record but does not verify still refuses to open', async () => {
    const log = await rotatedLog(10, 1_000_000);
    const intact = readFileSync(log.path, 'utf8');
    const lines = intact.split('\n').slice(0, -1);
    const last = lines.at(-1)!;
    // One byte of the body changed: the line keeps a record's form, its hash no longer matches.
    lines[lines.length - 1] = `${last.slice(0, 10)}${last[10] === 'x' ? 'y' : 'x'}${last.slice(11)}`;
    writeFileSync(log.path, `${lines.join('\n')}\n`);
    await expect(appendOne(log.path, 1)).rejects.toThrow(/does not verify/);
  });
});

describe('files that are no toolgate log are never taken for a torn write', () => {
  it.each([
    ['one line with its newline', 'not an audit log\n'],
    ['one line without a newline', 'hello'],
    ['a JSON object', '{"a":1}'],
  ])('%s: refused, and left as it was', async (_name, text) => {
    const log = await rotatedLog(10, 1_000_000);
    writeFileSync(log.path, text);
    await expect(appendOne(log.path, 1)).rejects.toThrow(/file header/);
    expect(readFileSync(log.path, 'utf8')).toBe(text);
  });

  it('a line appended to a log that is not the start of a record is refused', async () => {
    const log = await rotatedLog(10, 1_000_000);
    const intact = readFileSync(log.path, 'utf8');
    writeFileSync(log.path, `${intact}hello\n`);
    await expect(appendOne(log.path, 1)).rejects.toThrow(/does not verify/);
  });
});
