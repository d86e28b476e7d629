import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/audit.ts';
import { AUDIT_VERIFY_CODES, verifyAuditLog } from '../../src/index.ts';
import { captureConsole } from './helpers.ts';
import {
  cliVerify,
  publicKeys,
  readLines,
  rebodied,
  rotatedLog,
  verifyCode,
  writeLines,
} from './helpers-rotated.ts';

// A record's hash can be recomputed by anyone who can write the file, so a record that checks out
// can still hold a body that is not what its kind needs. Whatever the files hold, the verifier
// answers a code (never throws), and `toolgate audit verify` exits 1 with it.

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/** Bodies of the kinds whose payload the verifier reads: not JSON, or JSON of the wrong shape. */
const MALFORMED: Readonly<Record<'gap' | 'file' | 'checkpoint', readonly string[]>> = {
  gap: [
    '{"gap":null,',
    '{"gap":1,',
    '{"gap":"torn",',
    '{"gap":[],',
    '{"gap":{},',
    '{"gap":{"reason":"dropped"},',
    '{"gap":{"count":"3","reason":"dropped"},',
    '{"gap":{"count":-1,"reason":"dropped"},',
    '{"gap":{"reason":"torn"},',
    '{"gap":{"bytes":3,"reason":"torn","sha256":12},',
    '{"gap":{"reason":"other"},',
    '{"gap":{"x":1} GARBAGE NOT JSON ,',
    '{"gap":nul,',
  ],
  file: [
    '{"file":null,',
    '{"file":7,',
    '{"file":[],',
    '{"file":{},',
    '{"file":{"chain":1,"index":0},',
    '{"file":{"chain":"c"},',
    '{"file":{"chain":"c","index":"1"},',
    '{"file":{"chain":"c","index":-1},',
    '{"file":{"chain":"c","index":1.5},',
    '{"file":{"x":1} GARBAGE NOT JSON ,',
    '{"file":{"a":1,,},',
  ],
  checkpoint: [
    '{"checkpoint":null,',
    '{"checkpoint":true,',
    '{"checkpoint":[],',
    '{"checkpoint":{},',
    '{"checkpoint":{"chain":"c","keyId":"k1","sig":"AAAA"},',
    '{"checkpoint":{"chain":"c","keyId":"k1","sig":"AAAA","ts":"1"},',
    '{"checkpoint":{"chain":"c","keyId":1,"sig":"AAAA","ts":1},',
    '{"checkpoint":{"chain":null,"keyId":"k1","sig":"AAAA","ts":1},',
    '{"checkpoint":{"chain":"c","keyId":"k1","sig":{},"ts":1},',
    '{"checkpoint":{"x":1} GARBAGE NOT JSON ,',
  ],
};
const ALL_MALFORMED = Object.values(MALFORMED).flat();

describe('a record that checks out but whose body is not what its kind needs', () => {
  it('in the middle of a signed, anchored, rotated log: hash_mismatch on its line, never a throw', async () => {
    const log = await rotatedLog();
    const options = { publicKeys, anchor: log.anchored };
    expect(await verifyCode(log.path, options)).toBe('ok');
    // An event well before the anchored checkpoint, in a rotated file.
    const { file, index, seq } = eventIn(log.files[2]!);
    const lines = readLines(file);
    for (const body of ALL_MALFORMED) {
      const edited = [...lines];
      edited[index] = rebodied(lines[index]!, body);
      writeLines(file, edited);
      const result = await verifyAuditLog(log.path, options).catch((error: unknown) => error);
      expect(result, body).toMatchObject({
        ok: false,
        code: 'hash_mismatch',
        file,
        line: index + 1,
        seq,
      });
    }
  });

  it('as the last record, after the last checkpoint (which only the chain protects)', async () => {
    const log = await rotatedLog();
    const lines = readLines(log.path);
    for (const body of ALL_MALFORMED) {
      const edited = [...lines];
      edited[edited.length - 1] = rebodied(lines[lines.length - 1]!, body);
      writeLines(log.path, edited);
      // With the anchor, too: the anchored checkpoint is before it.
      expect(await verifyCode(log.path), body).toBe('hash_mismatch');
      expect(
        await verifyCode(log.path, { publicKeys, anchor: log.anchored[log.anchored.length - 2]! }),
        body,
      ).toBe('hash_mismatch');
    }
  });

  it('as the header of a rotated file, and as the first record left with allowPartial', async () => {
    const log = await rotatedLog();
    const second = log.files[1]!;
    const lines = readLines(second);
    for (const body of ALL_MALFORMED) {
      writeLines(second, [rebodied(lines[0]!, body), ...lines.slice(1)]);
      expect(await verifyCode(log.path), body).toBe('hash_mismatch');
      expect(await verifyCode(log.files.slice(1), { publicKeys, allowPartial: true }), body).toBe(
        'hash_mismatch',
      );
      // Without allowPartial the log does not start at its genesis, whatever its first record says.
      expect(AUDIT_VERIFY_CODES).toContain(await verifyCode(log.files.slice(1)));
    }
  });

  it('after a torn line, in place of its repair record', async () => {
    const log = await rotatedLog();
    const lines = readLines(log.path);
    const last = lines[lines.length - 1]!;
    for (const body of MALFORMED.gap) {
      const torn = last.slice(0, 40);
      const repair = rebodied(last, body);
      writeLines(log.path, [...lines.slice(0, -1), torn, repair]);
      expect(await verifyCode(log.path), body).toBe('hash_mismatch');
    }
  });

  it('a well-formed gap or checkpoint still verifies (the shapes the writer produces)', async () => {
    const log = await rotatedLog(12, 1e9);
    const lines = readLines(log.path);
    const last = lines[lines.length - 1]!;
    writeLines(log.path, [
      ...lines.slice(0, -1),
      rebodied(last, '{"gap":{"count":2,"reason":"dropped","ts":1},'),
    ]);
    const result = await verifyAuditLog(log.path, { publicKeys });
    expect(result).toMatchObject({ ok: true, notices: [{ kind: 'events_dropped', count: 2 }] });
  });

  it('a rotated file replaced by a directory, or the active file: missing_file, naming it', async () => {
    const log = await rotatedLog();
    const third = log.files[3]!;
    unlinkSync(third);
    mkdirSync(third);
    expect(await verifyAuditLog(log.path, { publicKeys, anchor: log.anchored })).toMatchObject({
      ok: false,
      code: 'missing_file',
      file: third,
    });
    rmSync(third, { recursive: true });
    const active = await rotatedLog();
    unlinkSync(active.path);
    mkdirSync(active.path);
    expect(await verifyCode(active.path, { publicKeys, anchor: active.anchored })).toBe('missing_file');
    expect(await verifyCode([active.path], { publicKeys, allowPartial: true })).toBe('missing_file');
  });

  it('toolgate audit verify exits 1 with the code, not 6', async () => {
    const log = await rotatedLog();
    const args = [log.path, '--key', `k1=${log.keyFile}`, '--anchor', log.anchorFile];
    expect(await cliVerify(args)).toMatchObject({ exit: 0, out: { ok: true } });
    const { file, index } = eventIn(log.files[2]!);
    const original = readFileSync(file, 'utf8');
    const lines = readLines(file);
    for (const body of ['{"gap":null,', '{"file":null,', '{"checkpoint":null,', '{"gap":{"x":1} GARBAGE ,']) {
      const edited = [...lines];
      edited[index] = rebodied(lines[index]!, body);
      writeLines(file, edited);
      expect(await cliVerify(args), body).toMatchObject({
        exit: 1,
        out: { ok: false, code: 'hash_mismatch', file, line: index + 1 },
      });
    }
    writeFileSync(file, original);
    unlinkSync(log.files[2]!);
    mkdirSync(log.files[2]!);
    expect(await cliVerify(args)).toMatchObject({
      exit: 1,
      out: { code: 'missing_file', file: log.files[2] },
    });
  });

  it('toolgate audit verify, in a real process: exit 1 and the code printed', async () => {
    const log = await rotatedLog(30, 1e9);
    const lines = readLines(log.path);
    const i = lines.findIndex((line) => line.startsWith('{"event":'));
    lines[i] = rebodied(lines[i]!, '{"gap":null,');
    writeLines(log.path, lines);
    const result = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      MAIN,
      'audit',
      'verify',
      log.path,
      '--key',
      `k1=${log.keyFile}`,
      '--anchor',
      log.anchorFile,
    ]).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✗ hash_mismatch: malformed gap record');
  }, 60_000);

  it('tail and query: a rehashed record whose body is no event, or a directory, exits 3, not 6', async () => {
    const log = await rotatedLog(30, 1e9);
    const lines = readLines(log.path);
    const i = lines.findIndex((line) => line.startsWith('{"event":'));
    for (const body of ['{"event":null,', '{"event":{"x":1} GARBAGE ,']) {
      const edited = [...lines];
      edited[i] = rebodied(lines[i]!, body);
      writeLines(log.path, edited);
      const io = captureConsole();
      try {
        expect(await run(['tail', log.path]), body).toBe(3);
        expect(await run(['query', log.path, '--decision', 'allow']), body).toBe(3);
      } finally {
        vi.restoreAllMocks();
      }
      expect(io.err.join('\n')).not.toContain('unexpected error');
    }
    unlinkSync(log.path);
    mkdirSync(log.path);
    const io = captureConsole();
    try {
      expect(await run(['tail', log.path])).toBe(3);
    } finally {
      vi.restoreAllMocks();
    }
    expect(io.err.join('\n')).toContain('it is a directory');
  });

  it('a torn record that is the only line: torn_write, not a throw', async () => {
    const log = await rotatedLog(5, 1e9);
    truncateSync(log.path, 60);
    expect(await verifyCode(log.path)).toBe('torn_write');
  });
});

/** The first event record of `file`: its line index and sequence number. */
function eventIn(file: string): { file: string; index: number; seq: number } {
  const lines = readLines(file);
  const index = lines.findIndex((line) => line.startsWith('{"event":'));
  return { file, index, seq: (JSON.parse(lines[index]!) as { seq: number }).seq };
}
