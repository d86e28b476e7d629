import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fileAnchor } from '../../src/audit/anchor.ts';
import { run } from '../../src/cli/audit.ts';
import { createGuard, jsonlAudit, rules } from '../../src/index.ts';
import { captureConsole, decisionEvent, keyPair, tempDir } from './helpers.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

const capture = captureConsole;
afterEach(() => {
  vi.restoreAllMocks();
});

async function sampleLog() {
  const dir = tempDir();
  const path = join(dir, 'audit.jsonl');
  const keys = keyPair();
  const keyFile = join(dir, 'k1.pem');
  writeFileSync(keyFile, keys.publicPem);
  const anchorFile = join(dir, 'anchor.jsonl');
  const sink = jsonlAudit({
    path,
    checkpoint: {
      privateKey: keys.privateKey,
      keyId: 'k1',
      every: 5,
      anchor: fileAnchor({ path: anchorFile }),
    },
  });
  const tg = createGuard({
    policy: rules([
      { id: 'refunds', effect: 'allow', tool: 'payments.*' },
      { id: 'no-delete', effect: 'deny', tool: '*.delete' },
    ]),
    audit: sink,
  });
  const refund = tg.guard(() => 'ok', { name: 'payments.refund' });
  const remove = tg.guard(() => 'gone', { name: 'db.delete' });
  for (let i = 0; i < 6; i++)
    await refund({ amount: i }, { context: { agent: 'support-bot', principal: `user:${i}` } });
  await remove({ id: 1 }, { context: { agent: 'cleanup-bot' } }).catch(() => undefined);
  await tg.close();
  return { path, keyFile, anchorFile };
}

describe('toolgate audit', () => {
  it('verify: ok with keys and anchor, exit 1 with the code after tampering, 2 on usage errors', async () => {
    const { path, keyFile, anchorFile } = await sampleLog();
    let io = capture();
    expect(await run(['verify', path, '--key', `k1=${keyFile}`, '--anchor', anchorFile])).toBe(0);
    expect(io.out.join('\n')).toMatch(/✓ ok: \d+ records/);
    vi.restoreAllMocks();
    io = capture();
    expect(await run(['verify', path, '--json'])).toBe(1);
    expect(JSON.parse(io.out[0]!)).toMatchObject({ ok: false, code: 'unknown_key' });
    vi.restoreAllMocks();
    writeFileSync(path, readFileSync(path, 'utf8').replace('"amount":3', '"amount":9'));
    io = capture();
    expect(await run(['verify', path, '--key', `k1=${keyFile}`])).toBe(1);
    expect(io.out.join('\n')).toContain('✗ hash_mismatch');
    vi.restoreAllMocks();
    io = capture();
    expect(await run(['verify'])).toBe(2);
    expect(await run(['frobnicate'])).toBe(2);
  });

  it('tail and query print readable lines and filter', async () => {
    const { path } = await sampleLog();
    let io = capture();
    expect(await run(['tail', path, '-n', '3'])).toBe(0);
    expect(io.out).toHaveLength(3);
    vi.restoreAllMocks();
    io = capture();
    expect(await run(['query', path, '--decision', 'deny'])).toBe(0);
    expect(io.out).toHaveLength(1);
    expect(io.out[0]).toMatch(/decision\s+DENY\s+db\.delete\s+DENIED_BY_RULE/);
    expect(io.out[0]).toContain('agent=cleanup-bot');
    vi.restoreAllMocks();
    io = capture();
    expect(
      await run(['query', path, '--tool', 'payments.*', '--type', 'result', '--since', '1h', '--json']),
    ).toBe(0);
    expect(io.out).toHaveLength(6);
    expect(JSON.parse(io.out[0]!)).toMatchObject({ type: 'result', tool: 'payments.refund', outcome: 'ok' });
    vi.restoreAllMocks();
    io = capture();
    expect(await run(['query', path, '--agent', 'nobody'])).toBe(0);
    expect(io.out).toHaveLength(0);
    expect(await run(['query', path, '--decision', 'maybe'])).toBe(2);
  });

  it('verify --anchor accepts another JSONL log used as the anchor sink', async () => {
    const dir = tempDir();
    const keys = keyPair();
    const keyFile = join(dir, 'k1.pem');
    writeFileSync(keyFile, keys.publicPem);
    const anchorLog = jsonlAudit({ path: join(dir, 'anchor.jsonl') });
    const path = join(dir, 'audit.jsonl');
    const sink = jsonlAudit({
      path,
      checkpoint: { privateKey: keys.privateKey, keyId: 'k1', every: 4, anchor: anchorLog },
    });
    for (let i = 1; i <= 10; i++) sink.write(decisionEvent(i));
    await sink.close();
    await anchorLog.close();
    let io = capture();
    expect(await run(['verify', path, '--key', `k1=${keyFile}`, '--anchor', join(dir, 'anchor.jsonl')])).toBe(
      0,
    );
    vi.restoreAllMocks();
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, `${lines.slice(0, 6).join('\n')}\n`);
    io = capture();
    expect(await run(['verify', path, '--key', `k1=${keyFile}`, '--anchor', join(dir, 'anchor.jsonl')])).toBe(
      1,
    );
    expect(io.out.join('\n')).toContain('truncated_after_anchor');
  });

  it('runs as `toolgate audit verify` in a real process', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path });
    for (let i = 1; i <= 3; i++) sink.write(decisionEvent(i));
    await sink.close();
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      MAIN,
      'audit',
      'verify',
      path,
    ]);
    expect(stdout).toContain('✓ ok: 4 records');
  }, 60_000);
});
