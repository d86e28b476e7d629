// Runs with only toolgate installed (no optional peer, no test runner besides node:test).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';

const toolgate = (...args) =>
  spawnSync('npx', ['--no-install', 'toolgate', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TOOLGATE_APPROVAL_SECRET: 'a-secret-that-is-at-least-32-bytes-long' },
  });

test('toolgate/testing loads without any test runner installed', async () => {
  const { fakeClock, scriptedApprover } = await import('toolgate/testing');
  const clock = fakeClock(0);
  clock.advance(5);
  assert.equal(clock.now(), 5);
  assert.equal(scriptedApprover(['approve']).remaining, 1);
});

test('the CLI says which optional package to install (exit 5)', () => {
  const approvals = toolgate('approvals', 'list', '--redis', 'redis://127.0.0.1:6379');
  assert.equal(approvals.status, 5, approvals.stderr);
  assert.match(approvals.stderr, /npm install ioredis/);
  assert.doesNotMatch(approvals.stderr, /ERR_MODULE_NOT_FOUND|\n\s+at /);
  writeFileSync('policy.yaml', 'rules:\n  - id: a\n    effect: allow\n    tool: t\n');
  const yaml = toolgate('policy', 'check', 'policy.yaml');
  assert.equal(yaml.status, 5, yaml.stderr);
  assert.match(yaml.stderr, /npm install yaml/);
});
