import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordHash } from '../../src/audit/chain.ts';
import { jsonlAudit, verifyAuditLog } from '../../src/index.ts';
import { decisionEvent, tempDir } from './helpers.ts';

// The verifier checks each line's hash over its bytes and its chain fields; it does not parse
// the body. These tests pin down what that accepts: a body that is not JSON is caught exactly
// where a well-formed forgery would be, and nowhere else.

async function log(count: number): Promise<{ path: string; lines: string[] }> {
  const path = join(tempDir(), 'audit.jsonl');
  const sink = jsonlAudit({ path, flushOnExit: false });
  for (let i = 1; i <= count; i++) sink.write(decisionEvent(i));
  await sink.close();
  return { path, lines: readFileSync(path, 'utf8').split('\n').slice(0, -1) };
}

/** Replaces a line's body (everything before its chain fields) and recomputes its hash. */
function rehashed(line: string, body: string): string {
  const record = JSON.parse(line) as { prev: string; seq: number };
  const text = `${body}"prev":"${record.prev}","seq":${record.seq},"v":1}`;
  return `${text.slice(0, -1)},"hash":"${recordHash(text)}"}`;
}

const NOT_JSON = ['{"event":{"a":1,,},', '{"event":nul,', '{"event":{"a":"\u0001"},', '{"event":{"a":1}}}},'];
const WELL_FORMED = '{"event":{"decision":"allow","forged":true},';

async function codeOf(path: string, lines: string[]): Promise<string> {
  writeFileSync(path, lines.map((line) => `${line}\n`).join(''));
  const result = await verifyAuditLog(path);
  return result.ok ? 'ok' : result.code;
}

describe('record bodies', () => {
  it('a body edited without recomputing the hash: hash_mismatch, JSON or not', async () => {
    const { path, lines } = await log(5);
    for (const body of [...NOT_JSON, WELL_FORMED]) {
      const edited = [...lines];
      const line = edited[3]!;
      edited[3] = body + line.slice(line.indexOf('"prev":'));
      expect(await codeOf(path, edited)).toBe('hash_mismatch');
    }
  });

  it('a rehashed body followed by a record: prev_mismatch, JSON or not', async () => {
    const { path, lines } = await log(5);
    for (const body of [...NOT_JSON, WELL_FORMED]) {
      const edited = [...lines];
      edited[3] = rehashed(edited[3]!, body);
      expect(await codeOf(path, edited)).toBe('prev_mismatch');
    }
  });

  it('a rehashed last record verifies whether its body is JSON or not (only a checkpoint or the anchor protects the tail)', async () => {
    const { path, lines } = await log(5);
    for (const body of [...NOT_JSON, WELL_FORMED]) {
      const edited = [...lines];
      edited[edited.length - 1] = rehashed(edited[edited.length - 1]!, body);
      expect(await codeOf(path, edited)).toBe('ok');
    }
  });

  it('a truncated body on the last line: torn_write', async () => {
    const { path, lines } = await log(5);
    const last = lines[lines.length - 1]!;
    writeFileSync(path, `${lines.slice(0, -1).join('\n')}\n${last.slice(0, last.indexOf('"prev":'))}`);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, code: 'torn_write' });
  });
});
