import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  type AuditSink,
  createGuard,
  type GuardErrorEvent,
  jsonlAudit,
  memoryAudit,
  rules,
} from '../../src/index.ts';

// tg.flush() and tg.close() say when records may be missing, and never wait forever. Before: they
// resolved when a sink could not write (only an `error` event told, and nobody hears one without a
// listener), and a sink, approver or engine whose flush or close never settled hung them.

const policy = rules([{ id: 'all', effect: 'allow', tool: '*' }]);
const never = () => new Promise<void>(() => {});

describe('tg.flush() and tg.close()', () => {
  it('reject AUDIT_UNAVAILABLE, naming the sink, when records could not be written (no listener)', async () => {
    const tg = createGuard({ policy, audit: jsonlAudit({ path: '/dev/full', flushOnExit: false }) });
    expect(await tg.guard(() => 'ran', { name: 't' })({})).toBe('ran'); // best-effort: the call runs
    const flushed = tg.flush();
    await expect(flushed).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await expect(flushed).rejects.toThrow(/flush incomplete.*jsonl/);
    const closed = tg.close();
    await expect(closed).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await expect(closed).rejects.toThrow(/close incomplete.*could not be written/);
    // Closing again answers the first close's outcome.
    await expect(tg.close()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  });

  it('resolve when every record is written', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit });
    await tg.guard(() => 1, { name: 't' })({});
    await expect(tg.flush()).resolves.toBeUndefined();
    await expect(tg.close()).resolves.toBeUndefined();
    expect(audit.events.map((e) => e.type)).toEqual(['decision', 'result']);
  });

  it('hold a sink whose flush or close never settles to the timeout, and say so', async () => {
    const written: AuditEvent[] = [];
    const stuck: AuditSink = {
      name: 'stuck',
      write: (e) => void written.push(e),
      flush: never,
      close: never,
    };
    const fine = memoryAudit();
    const tg = createGuard({ policy, audit: [stuck, fine] });
    await tg.guard(() => 1, { name: 't' })({});
    await expect(tg.flush({ timeout: 50 })).rejects.toThrow(/stuck did not finish flushing within 50 ms/);
    await expect(tg.close({ timeout: '50ms' })).rejects.toThrow(/stuck did not finish closing within 50 ms/);
    expect(written).toHaveLength(2);
    expect(fine.events).toHaveLength(2);
  });

  it('hold writes that never settle to the timeout', async () => {
    const tg = createGuard({ policy, audit: { name: 'hanging', write: never } });
    await tg.guard(() => 1, { name: 't' })({});
    await expect(tg.flush({ timeout: 50 })).rejects.toThrow(/hanging: 2 write\(s\) not settled within 50 ms/);
  });

  it('close the approver and the engine within the timeout: a hang is an error event, not a hang', async () => {
    const errors: GuardErrorEvent[] = [];
    const tg = createGuard({
      policy: { name: 'hanging', version: '1', evaluate: () => ({ type: 'allow', rules: [] }), close: never },
      approver: { name: 'slow', request: () => never() as never, close: never },
    });
    tg.on('error', (e) => errors.push(e));
    await expect(tg.close({ timeout: 30 })).resolves.toBeUndefined();
    expect(errors.map((e) => [e.source, String(e.error)])).toEqual([
      ['approver', 'Error: the approver did not close within 30 ms'],
      ['policy', 'Error: the policy did not close within 30 ms'],
    ]);
  });

  it('flush retries what a failing sink holds, and says when it still cannot write it', async () => {
    let failing = true;
    const written: string[] = [];
    const sink: AuditSink = {
      name: 'flaky',
      write(event) {
        if (failing) throw new Error('down');
        written.push(event.type);
      },
    };
    const tg = createGuard({ policy, audit: sink });
    tg.on('error', () => {});
    await tg.guard(() => 1, { name: 't' })({});
    await expect(tg.flush({ timeout: 1_000 })).rejects.toThrow(/flaky: 2 event\(s\) not written yet \(kept/);
    failing = false;
    await expect(tg.flush({ timeout: 1_000 })).resolves.toBeUndefined();
    expect(written).toEqual(['decision', 'result']);
    await tg.close();
  });

  it('close never retries an event twice at once (a retry already under way is waited for)', async () => {
    // Before: close started its own retry while the retry timer's was still writing, and the
    // sink got the same event twice.
    let failing = true;
    const written: string[] = [];
    const sink: AuditSink = {
      name: 'flaky',
      async write(event) {
        if (failing) throw new Error('down');
        await new Promise((resolve) => setTimeout(resolve, 200));
        written.push(event.type);
      },
    };
    const tg = createGuard({ policy, audit: sink });
    tg.on('error', () => {});
    await tg.guard(() => 1, { name: 't' })({});
    failing = false;
    // The retry timer fires after 100 ms and starts writing the decision (200 ms).
    await new Promise((resolve) => setTimeout(resolve, 160));
    await tg.close({ timeout: 5_000 });
    expect(written).toEqual(['decision', 'result']);
  });

  it('a retry that is slow but lands is not written again (G11: one decision record)', async () => {
    // Before: a retry slower than audit.timeout counted as failed and was retried while the first
    // one still landed: the sink held the decision twice.
    let attempts = 0;
    const stored: AuditEvent[] = [];
    const sink: AuditSink = {
      name: 'slow',
      async write(event) {
        attempts += 1;
        if (attempts <= 2) throw new Error('down'); // the call's own writes (decision, result)
        await new Promise((resolve) => setTimeout(resolve, 300));
        stored.push(event);
      },
    };
    const tg = createGuard({ policy, audit: { sinks: [sink], timeout: '100ms' } });
    tg.on('error', () => {});
    await tg.guard(() => 1, { name: 't' })({});
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await tg.close({ timeout: 5_000 });
    expect(stored.map((e) => e.type)).toEqual(['decision', 'result']);
    expect(new Set(stored.map((e) => e.id)).size).toBe(2);
  });

  it('refuses a timeout that is no duration', async () => {
    const tg = createGuard({ policy });
    await expect(tg.flush({ timeout: 'soon' })).rejects.toThrow(/flush\(\{ timeout \}\)/);
    await expect(tg.close({ timeout: -1 })).rejects.toThrow(/close\(\{ timeout \}\)/);
  });
});
