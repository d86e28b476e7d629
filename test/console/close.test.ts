import { describe, expect, it } from 'vitest';
import { consoleHandler } from '../../src/console/index.ts';
import { type AuditSink, memoryAudit, memoryStore } from '../../src/index.ts';

// The console's close() flushes its action sinks. Before: a sink that could not flush was only
// printed, and close() resolved as if every console action were recorded.
const accounts = [{ name: 'vic', role: 'viewer' as const, token: 'viewer-token-0123456789' }];

describe('consoleHandler close()', () => {
  it('rejects AUDIT_UNAVAILABLE, naming the sink, when an action sink cannot flush', async () => {
    const failing: AuditSink = {
      name: 'actions-file',
      write: () => {},
      flush: () => Promise.reject(new Error('ENOSPC: no space left on device')),
    };
    const handler = consoleHandler({ store: memoryStore(), accounts, actionAudit: [memoryAudit(), failing] });
    const closed = handler.close();
    await expect(closed).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await expect(closed).rejects.toThrow(/flush incomplete.*ENOSPC/);
  });

  it('resolves when every action sink flushed', async () => {
    const handler = consoleHandler({ store: memoryStore(), accounts, actionAudit: memoryAudit() });
    await expect(handler.close()).resolves.toBeUndefined();
  });
});
