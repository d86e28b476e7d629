import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { approvalQueue, queueApprover } from '../../src/approval/queue.ts';
import { terminalApprover } from '../../src/approval/terminal.ts';
import { run } from '../../src/cli/approvals.ts';
import {
  type ApprovalResponse,
  ConfigurationError,
  callbackApprover,
  memoryStore,
  rules,
} from '../../src/index.ts';
import { ask, engine, ofType, setup, spy } from './helpers.ts';

// Finding 8 of issue 14 (G15): identities that differ only by invisible or format characters or by
// outer whitespace are refused at every boundary, and identities compare after NFC everywhere.

/** Look-alikes of `user:1` / `finance:alice` that a person cannot tell apart from the real name. */
const LOOK_ALIKES = [
  'user:1\u200b', // zero-width space
  'user:\u200d1', // zero-width joiner
  'user:1\u00ad', // soft hyphen
  'user:1\u2060', // word joiner
  'user:1\ufeff', // BOM
  '\u202euser:1', // bidi override
  'user:1 ', // trailing space
  ' user:1', // leading space
  'user:1\t',
  'user:1\u00a0', // no-break space
  'user:1\n',
  'user\u00a0:1',
  'user:  1', // two spaces in a row
  'user:1\u0000',
  // Invisible, yet neither control nor format characters (Unicode's Default_Ignorable_Code_Point
  // set, and a blank that renders as nothing): found by the review after stop 23.
  'user:1\u034f', // combining grapheme joiner
  'user:1\u115f', // Hangul choseong filler
  'user:1\u1160', // Hangul jungseong filler
  'user:1\u17b4', // Khmer vowel inherent aq
  'user:1\u180b', // Mongolian free variation selector
  'user:1\u3164', // Hangul filler
  'user:1\uffa0', // halfwidth Hangul filler
  'user:1\ufe0f', // variation selector 16
  'user:1\u{e0100}', // variation selector 17
  'user:1\u2800', // Braille pattern blank
];

const approveAs = (approver: string) => (r: { id: string }) =>
  ({ requestId: r.id, approved: true, approver }) as ApprovalResponse;

describe('identities with invisible characters or outer whitespace', () => {
  it('finding 8: a look-alike of the principal cannot approve under separation of duties', async () => {
    for (const lookAlike of LOOK_ALIKES) {
      const { tg, audit } = setup({
        policy: engine(() => ask({ separationOfDuties: true })),
        approver: callbackApprover(approveAs(lookAlike)),
      });
      const tool = spy();
      await expect(
        tg.guard(tool.fn, { name: 't' })({}, { context: { principal: 'user:1' } }),
      ).resolves.toMatchObject({ code: 'APPROVAL_INVALID', reason: expect.stringContaining('approver') });
      expect(tool.calls).toHaveLength(0);
      expect(ofType(audit.events, 'decision')[0]).toMatchObject({ decision: 'deny' });
    }
  });

  it('finding 8: one person under two spellings does not make a quorum of two', async () => {
    for (const twin of [
      'finance:alice\u00ad',
      'finance:alice\u200b',
      'finance:alice ',
      'finance:alice\u034f',
    ]) {
      const names = ['finance:alice', twin];
      const { tg } = setup({
        policy: engine(() => ask({ quorum: 2, approvers: ['finance:*'] })),
        approver: callbackApprover((r) => approveAs(names.shift() ?? 'none')(r)),
      });
      const tool = spy();
      await expect(tg.guard(tool.fn, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_INVALID' });
      expect(tool.calls).toHaveLength(0);
    }
  });

  it('identities compare after NFC: a decomposed spelling is the same person', async () => {
    const nfc = 'finance:jos\u00e9';
    const nfd = 'finance:jose\u0301';
    const sod = setup({
      policy: engine(() => ask({ separationOfDuties: true })),
      approver: callbackApprover(approveAs(nfd)),
    });
    await expect(
      sod.tg.guard(() => 1, { name: 't' })({}, { context: { principal: nfc } }),
    ).resolves.toMatchObject({ code: 'APPROVAL_INVALID' });
    const names = [nfc, nfd];
    const quorum = setup({
      policy: engine(() => ask({ quorum: 2 })),
      approver: callbackApprover((r) => approveAs(names.shift() ?? 'none')(r)),
    });
    await expect(quorum.tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({
      code: 'APPROVAL_INVALID',
      reason: expect.stringContaining('already approved'),
    });
    // The context keeps identities in NFC, so records and rules see one spelling.
    const { tg, audit } = setup({ policy: rules([{ id: 'r', effect: 'allow', principal: nfc }]) });
    await expect(tg.guard(() => 'ran', { name: 't' })({}, { context: { principal: nfd } })).resolves.toBe(
      'ran',
    );
    expect(ofType(audit.events, 'decision')[0]).toMatchObject({ principal: nfc });
  });

  it('context: a per-call context denies INVALID_CONTEXT; withContext throws a ConfigurationError', async () => {
    const { tg } = setup({ policy: engine(() => ({ type: 'allow', rules: ['all'] })) });
    const tool = spy();
    const call = tg.guard(tool.fn, { name: 't' });
    for (const field of ['agent', 'principal', 'intent', 'session'] as const) {
      for (const value of [...LOOK_ALIKES, '']) {
        await expect(call({}, { context: { [field]: value } })).resolves.toMatchObject({
          code: 'INVALID_CONTEXT',
          reason: expect.stringContaining(`context.${field}`),
        });
        await expect(tg.check('t', {}, { [field]: value })).resolves.toMatchObject({
          code: 'INVALID_CONTEXT',
        });
        expect(() => tg.withContext({ [field]: value }, () => 1)).toThrow(ConfigurationError);
      }
    }
    expect(tool.calls).toHaveLength(0);
    // Inner single spaces are visible and allowed.
    await expect(call({}, { context: { principal: 'Jane Doe', intent: 'ticket 123' } })).resolves.toBe('ran');
  });

  it('grants: tg.grants.issue refuses look-alike names', async () => {
    const { tg } = setup({ policy: engine(() => ask()) });
    for (const field of ['agent', 'principal', 'intent'] as const) {
      for (const value of LOOK_ALIKES) {
        await expect(tg.grants.issue({ tool: 't', [field]: value, for: '1h' })).rejects.toBeInstanceOf(
          ConfigurationError,
        );
      }
    }
    await expect(tg.grants.issue({ tool: 't\u200b', for: '1h' })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(tg.grants.issue({ tool: 'db.*', principal: 'user:*', for: '1h' })).resolves.toMatchObject({
      principal: 'user:*',
    });
    expect(await tg.grants.list()).toHaveLength(1);
  });

  it('policy: identity patterns and approver globs are refused at load', () => {
    for (const value of ['finance:*\u200b', ' finance:*', 'finance:\u00adalice']) {
      expect(() => rules([{ id: 'a', effect: 'ask', tool: 't', approval: { approvers: [value] } }])).toThrow(
        ConfigurationError,
      );
      expect(() => rules([{ id: 'p', effect: 'allow', tool: 't', principal: value }])).toThrow(
        ConfigurationError,
      );
    }
    expect(() => rules([{ id: 'p', effect: 'allow', tool: 't', principal: 'Jane *' }])).not.toThrow();
  });

  it('policy engines: a look-alike approver glob in an ask denies POLICY_ERROR', async () => {
    const { tg } = setup({
      policy: engine(() => ask({ approvers: ['finance:*\u200b'] })),
      approver: callbackApprover(approveAs('finance:alice')),
    });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'POLICY_ERROR' });
  });

  it('the queue and the CLI refuse a look-alike approver; the request stays open', async () => {
    const store = memoryStore();
    const secret = 'queue-secret-that-is-at-least-32-bytes';
    const approver = queueApprover({ store, secret, pollMs: 20 });
    const { tg } = setup({ policy: engine(() => ask({ separationOfDuties: true })), approver, store });
    const tool = spy();
    const pending = tg.guard(tool.fn, { name: 't' })({}, { context: { principal: 'user:1' } });
    const queue = approvalQueue({ store, secret });
    let list = await queue.list();
    while (list.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      list = await queue.list();
    }
    const id = list[0]!.id;
    for (const lookAlike of LOOK_ALIKES)
      await expect(queue.resolve(id, { approved: true, approver: lookAlike })).rejects.toThrow(/approver/);
    const errors: string[] = [];
    const io = { store, secret, stdout: () => {}, stderr: (line: string) => errors.push(line) };
    expect(await run(['approve', id, '--as', 'user:1\u200b'], io)).toBe(1);
    expect(errors.join('\n')).toMatch(/approver/);
    expect(await queue.list()).toHaveLength(1);
    await queue.resolve(id, { approved: true, approver: 'user:2' });
    await expect(pending).resolves.toBe('ran');
  });

  it('terminalApprover refuses a look-alike approver name at construction', () => {
    const io = { input: new PassThrough(), output: new PassThrough() };
    for (const lookAlike of LOOK_ALIKES)
      expect(() => terminalApprover({ ...io, approver: lookAlike })).toThrow(ConfigurationError);
    expect(() => terminalApprover({ ...io, approver: 'terminal:jane doe' })).not.toThrow();
  });

  it('suspensions refuse a look-alike identity (it would suspend nobody)', async () => {
    const { tg } = setup({ policy: engine(() => ({ type: 'allow', rules: ['all'] })) });
    for (const lookAlike of LOOK_ALIKES) await expect(tg.suspend({ principal: lookAlike })).rejects.toThrow();
  });
});
