import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm run demo`, scripted (`--yes`) on a small database: it exits 0 only when the audit trail
// verifies, a tampered copy is caught, and the brokered payment key appears nowhere in its
// transcript or audit trail (raw or encoded); the revoked credential's next calls are denied.

const root = join(import.meta.dirname, '..', '..');

describe('the demo', () => {
  it('runs: revokes the agent’s credential mid-run, and never shows the payment key', {
    timeout: 120_000,
  }, () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'demo/index.ts', '--yes', '--customers', '2000'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, CI: '1', NO_COLOR: '1' },
        timeout: 110_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/denied CREDENTIAL_REVOKED: credential \S+ was revoked/);
    expect(out).toContain('"authorization":"Bearer [secret:payments]"');
    expect(out).toContain('appears nowhere in this transcript or the audit trail');
    expect(out).not.toMatch(/pk_demo_/);
  });
});
