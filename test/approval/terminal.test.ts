import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { terminalApprover } from '../../src/approval/terminal.ts';
import { ask, engine, setup, spy } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('terminalApprover', () => {
  it('drives a real child process through its stdin: approve, deny, edit, remember, closed input', {
    timeout: 60_000,
  }, async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'terminal-child.ts')],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let wake: (() => void) | undefined;
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
      wake?.();
    });
    child.stderr.on('data', (chunk) => {
      err += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const count = (text: string) => out.split(text).length - 1;
    const until = async (text: string, n: number) => {
      while (count(text) < n) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), exited]);
        if (child.exitCode !== null && count(text) < n)
          throw new Error(`child exited early:\n${out}\n${err}`);
      }
    };
    const say = (line: string) => child.stdin.write(`${line}\n`);
    const menu = '[a]pprove';
    try {
      await until(menu, 1);
      expect(out).toContain('tool     payments.refund');
      expect(out).toContain('reason   refunds need a human');
      expect(out).toContain('agent=support-bot principal=user:42');
      // Escape sequences and bidi overrides in args are shown escaped, never interpreted.
      expect(out).not.toContain('\u001b[2J');
      expect(out).not.toContain('\u202e');
      expect(out).toContain('\\u202e');
      say('a');
      await until('RESULT', 1);
      await until(menu, 2);
      say('d');
      await until('reason: ', 1);
      say('amount looks wrong');
      await until(menu, 3);
      say('e');
      await until('edited args', 1);
      say('{not json');
      await until('not valid JSON', 1);
      await until(menu, 4);
      say('e');
      await until('edited args', 2);
      say('{"orderId":"o-3","amount":6}');
      await until(menu, 5);
      say('r');
      await until('remember for', 1);
      say('1h');
      // The 5th call (same args as the 4th) is covered by the remembered grant: no prompt.
      await until('RESULT', 5);
      await until(menu, 6);
      child.stdin.end();
      await until('RESULT', 6);
      expect(await exited).toBe(0);
      // Six calls, five prompts: the fifth was covered by the grant.
      expect(count('approval needed')).toBe(5);
    } finally {
      if (child.exitCode === null) child.kill();
    }
    const results = [...out.matchAll(/RESULT (.*)/g)].map((match) => JSON.parse(match[1]!));
    expect(results[0]).toEqual({ refunded: { orderId: 'o-1', amount: 40, note: 'evil\u001b[2J\u202e' } });
    expect(results[1]).toMatchObject({
      denied: true,
      code: 'APPROVAL_DENIED',
      reason: expect.stringContaining('amount looks wrong'),
    });
    expect(results[2]).toEqual({ refunded: { orderId: 'o-3', amount: 6 } });
    expect(results[3]).toEqual({ refunded: { orderId: 'o-4', amount: 70 } });
    expect(results[4]).toEqual({ refunded: { orderId: 'o-4', amount: 70 } });
    expect(results[5]).toMatchObject({ denied: true, code: 'APPROVAL_ERROR' });
  });

  it('asks one request at a time and stops asking when the call times out', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (chunk) => {
      shown += String(chunk);
    });
    const approver = terminalApprover({ input, output, approver: 'terminal:t' });
    const { tg } = setup({ policy: engine(() => ask({ timeout: 200 })), approver });
    const tool = spy();
    const call = tg.guard(tool.fn, { name: 't' });
    const first = call({ n: 1 });
    const second = call({ n: 2 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(shown.split('[a]pprove').length - 1).toBe(1);
    await expect(first).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    await expect(second).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    expect(tool.calls).toHaveLength(0);
    await tg.close();
  });
});
