import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import { createGuard, memoryAudit, rules } from '../../src/index.ts';
import { deleteKeys, newClient, redisSkipReason, uniquePrefix } from './redis-env.ts';

const skip = await redisSkipReason();

/** Records the name of every command the client sends, in order (the client itself is untouched). */
function recordCommands(client: Redis): string[] {
  const sent: string[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string }, stream?: unknown) => {
    sent.push(command.name);
    return send(command as never, stream as never);
  }) as typeof client.sendCommand;
  return sent;
}

// Issue goal: a Redis-backed limit check adds at most one round trip to a call.
describe.skipIf(skip !== undefined)('Redis round trips per guarded call', () => {
  const client = newClient();
  const prefix = uniquePrefix('round-trips');
  const sent = recordCommands(client);
  const tg = createGuard({
    policy: rules([
      { id: 'search', effect: 'allow', tool: 'search', limit: { rate: '1000/1m' } },
      { id: 'export', effect: 'allow', tool: 'export', limit: { concurrency: 2 } },
      { id: 'lookup', effect: 'allow', tool: 'lookup' },
    ]),
    audit: memoryAudit(),
    store: redisStore({ client, prefix }),
  });
  const during: string[][] = [];
  const tool = (name: string) =>
    tg.guard(
      async () => {
        during.push([...sent]);
        return name;
      },
      { name },
    );
  const search = tool('search');
  const exportRows = tool('export');
  const lookup = tool('lookup');

  afterAll(async () => {
    await tg.close();
    await deleteKeys(client, prefix);
    await client.quit();
  });

  const settled = async () => {
    // A settle is sent after the call resolves, without the call waiting for it.
    await new Promise((resolve) => setTimeout(resolve, 50));
  };

  it('a rate-limited call sends one command before it runs, and none after', async () => {
    await search({}); // loads the scripts (EVALSHA, then EVAL once when Redis does not know them)
    await settled();
    sent.length = 0;
    during.length = 0;
    expect(await search({})).toBe('search');
    await settled();
    expect(during[0]).toEqual(['evalsha']);
    expect(sent).toEqual(['evalsha']);
  });

  it('a call with a concurrency limit: one command before it runs, one (not awaited) after', async () => {
    await exportRows({});
    await settled();
    sent.length = 0;
    during.length = 0;
    expect(await exportRows({})).toBe('export');
    expect(during[0]).toEqual(['evalsha']);
    await settled();
    expect(sent).toEqual(['evalsha', 'evalsha']);
  });

  it('a call without limits still checks suspensions: one command', async () => {
    sent.length = 0;
    during.length = 0;
    expect(await lookup({})).toBe('lookup');
    await settled();
    expect(during[0]).toEqual(['evalsha']);
    expect(sent).toEqual(['evalsha']);
  });
});
