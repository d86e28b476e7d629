import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/audit.ts';
import { jsonlAudit } from '../../src/index.ts';
import { captureConsole, decisionEvent, tempDir } from '../audit/helpers.ts';

const capture = captureConsole;
afterEach(() => {
  vi.restoreAllMocks();
});

async function goodLog(events = 3): Promise<string> {
  const path = join(tempDir(), 'audit.jsonl');
  const sink = jsonlAudit({ path });
  for (let i = 1; i <= events; i++) sink.write(decisionEvent(i));
  await sink.close();
  return path;
}

/** What `toolgate mcp-proxy --audit` wrote before it wrote the hash-chained log. */
function plainJsonLines(): string {
  const path = join(tempDir(), 'plain.jsonl');
  writeFileSync(
    path,
    `${[1, 2, 3].map((i) => JSON.stringify({ type: 'decision', tool: 'files.read', decision: 'allow', ts: i })).join('\n')}\n`,
  );
  return path;
}

describe('toolgate audit on files it cannot read as an audit log', () => {
  for (const command of ['tail', 'query'] as const) {
    it(`${command}: plain JSON lines are refused in one line, exit 3`, async () => {
      const path = plainJsonLines();
      const io = capture();
      expect(await run([command, path])).toBe(3);
      expect(io.out).toEqual([]);
      expect(io.err).toHaveLength(1);
      expect(io.err[0]).toMatch(
        /plain\.jsonl is not a toolgate audit log: line 1 is not a hash-chained record/,
      );
    });

    it(`${command}: a missing file is named, exit 3`, async () => {
      const path = join(tempDir(), 'nope.jsonl');
      const io = capture();
      expect(await run([command, path])).toBe(3);
      expect(io.err).toEqual([`toolgate audit ${command}: cannot read ${path}: no such file`]);
    });

    it(`${command}: an empty file is not a log, exit 3`, async () => {
      const path = join(tempDir(), 'empty.jsonl');
      writeFileSync(path, '');
      const io = capture();
      expect(await run([command, path])).toBe(3);
      expect(io.err[0]).toContain('is empty');
    });

    it(`${command}: a torn end is reported after the readable events, exit 3`, async () => {
      const path = await goodLog(3);
      appendFileSync(path, '{"event":{"type":"decision","to');
      const io = capture();
      expect(await run([command, path])).toBe(3);
      expect(io.out).toHaveLength(3);
      expect(io.err).toHaveLength(1);
      expect(io.err[0]).toMatch(/audit\.jsonl:5: the log ends in a torn record/);
    });

    it(`${command}: a damaged line in the middle is reported, exit 3`, async () => {
      const path = await goodLog(3);
      const lines = readFileSync(path, 'utf8').split('\n');
      lines[2] = lines[2]!.replace('"amount":2', '"amount":7');
      writeFileSync(path, lines.join('\n'));
      const io = capture();
      expect(await run([command, path])).toBe(3);
      expect(io.err[0]).toMatch(/audit\.jsonl:3: the record does not match its hash/);
    });
  }

  it('tail and query of a good log exit 0, and say so when nothing matches', async () => {
    const path = await goodLog(2);
    let io = capture();
    expect(await run(['tail', path])).toBe(0);
    expect(io.out).toHaveLength(2);
    expect(io.err).toEqual([]);
    vi.restoreAllMocks();
    io = capture();
    expect(await run(['query', path, '--tool', 'nothing.*'])).toBe(0);
    expect(io.out).toEqual([]);
    expect(io.err).toEqual(['toolgate audit query: no event matches (2 events read)']);
  });

  it('a misspelt filter or a bad --limit is a usage error, never a wider query', async () => {
    const path = await goodLog(2);
    capture();
    expect(await run(['query', path, '--tol', 'x.*'])).toBe(2);
    expect(await run(['query', path, '--limit', 'many'])).toBe(2);
    expect(await run(['tail', path, '--tool', 'x'])).toBe(2);
  });

  it('verify names a file that is not a toolgate log, not hash_mismatch', async () => {
    const path = plainJsonLines();
    let io = capture();
    expect(await run(['verify', path])).toBe(3);
    expect(io.out.join('\n')).toMatch(/^✗ not_an_audit_log: .*plain\.jsonl is not a toolgate audit log/);
    expect(io.out.join('\n')).not.toContain('hash_mismatch');
    vi.restoreAllMocks();
    io = capture();
    expect(await run(['verify', path, '--json'])).toBe(3);
    expect(JSON.parse(io.out[0]!)).toMatchObject({ ok: false, code: 'not_an_audit_log', line: 1 });
  });

  it('verify still reports tampering on line 1 of a real log as hash_mismatch', async () => {
    const path = await goodLog(3);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[0] = lines[0]!.replace('"index":0', '"index":1');
    writeFileSync(path, lines.join('\n'));
    const io = capture();
    expect(await run(['verify', path])).toBe(1);
    expect(io.out.join('\n')).toContain('hash_mismatch');
  });

  it('verify: an unreadable key file is named, exit 3', async () => {
    const path = await goodLog(1);
    const io = capture();
    expect(await run(['verify', path, '--key', `k1=${join(tempDir(), 'missing.pem')}`])).toBe(3);
    expect(io.err[0]).toMatch(/cannot read .*missing\.pem: no such file/);
  });
});

describe('toolgate audit tail on denials', () => {
  it('shows the rule and the failed conditions a denial recorded', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path });
    sink.write({
      ...decisionEvent(1),
      decision: 'deny',
      code: 'NO_MATCHING_RULE',
      rules: [],
      rule: 'support-only',
      failed: [{ rule: 'support-only', path: 'context.agent', expected: 'one of support-*' }],
    } as never);
    await sink.close();
    const io = capture();
    expect(await run(['tail', path])).toBe(0);
    expect(io.out[0]).toContain('rule=support-only');
    expect(io.out[0]).toContain('failed="support-only: context.agent is missing, expected one of support-*"');
  });
});

describe('toolgate audit tail on access events', () => {
  it('prints the action, status and code, who, and how many refusals were only counted', async () => {
    const path = join(tempDir(), 'access.jsonl');
    const sink = jsonlAudit({ path });
    const base = { v: 1, type: 'access', door: 'mcp-http', server: 'payments' } as const;
    sink.write({ ...base, id: 'a1', ts: 1, action: 'session-start', agent: 'bot', principal: 'user:1' });
    sink.write({
      ...base,
      id: 'a2',
      ts: 2,
      action: 'refused',
      status: 401,
      code: 'NO_CREDENTIAL',
      reason: 'none',
    });
    sink.write({
      ...base,
      id: 'a3',
      ts: 3,
      action: 'refused',
      code: 'SUPPRESSED',
      suppressed: 80,
      reason: 'counted',
    });
    await sink.close();
    const io = capture();
    expect(await run(['tail', path])).toBe(0);
    expect(io.out).toHaveLength(3);
    expect(io.out[0]).toMatch(/access\s+SESSION-START {2}agent=bot {2}principal=user:1/);
    expect(io.out[1]).toMatch(/access\s+REFUSED {2}401 NO_CREDENTIAL .*reason="none"/);
    expect(io.out[2]).toMatch(/REFUSED {2}SUPPRESSED {2}suppressed=80/);
  });
});
