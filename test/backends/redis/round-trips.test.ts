import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../../src/backends/redis/index.ts';
import { createGuard, memoryAudit, rules } from '../../../src/index.ts';
import { deleteKeys, newClient, redisSkipReason, uniquePrefix } from '../../store/redis-env.ts';

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
  // Made in beforeAll: a skipped describe still runs its body, and a client made there would
  // try to connect to a Redis that is not there.
  let client: Redis;
  let sent: string[];
  let tg: ReturnType<typeof createGuard>;
  const during: string[][] = [];
  const tool = (name: string) =>
    tg.guard(
      async () => {
        during.push([...sent]);
        return name;
      },
      { name },
    );
  const prefix = uniquePrefix('round-trips');
  let search: ReturnType<typeof tool>;
  let exportRows: ReturnType<typeof tool>;
  let lookup: ReturnType<typeof tool>;

  beforeAll(() => {
    client = newClient();
    sent = recordCommands(client);
    tg = createGuard({
      policy: rules([
        { id: 'search', effect: 'allow', tool: 'search', limit: { rate: '1000/1m' } },
        { id: 'export', effect: 'allow', tool: 'export', limit: { concurrency: 2 } },
        { id: 'lookup', effect: 'allow', tool: 'lookup' },
      ]),
      audit: memoryAudit(),
      store: redisStore({ client, prefix }),
    });
    search = tool('search');
    exportRows = tool('export');
    lookup = tool('lookup');
  });

  afterAll(async () => {
    await tg.close();
    await deleteKeys(client, prefix);
    await client.quit();
  });

  /**
   * Calls `guarded` once to warm up (the first call loads the scripts: EVALSHA, then EVAL when
   * Redis does not know them yet), then once more: the commands sent before its tool ran, and all
   * it sent until a settle (sent after the call resolves, not awaited) had time to go out.
   */
  const commandsOf = async (guarded: (args: object) => Promise<unknown>, name: string) => {
    const settled = () => new Promise((resolve) => setTimeout(resolve, 50));
    await guarded({});
    await settled();
    sent.length = 0;
    during.length = 0;
    expect(await guarded({})).toBe(name);
    await settled();
    return { beforeRun: during[0], all: [...sent] };
  };

  it('a rate-limited call sends one command before it runs, and none after', async () => {
    expect(await commandsOf(search, 'search')).toEqual({ beforeRun: ['evalsha'], all: ['evalsha'] });
  });

  it('a call with a concurrency limit: one command before it runs, one (not awaited) after', async () => {
    expect(await commandsOf(exportRows, 'export')).toEqual({
      beforeRun: ['evalsha'],
      all: ['evalsha', 'evalsha'],
    });
  });

  it('a call without limits still checks suspensions: one command', async () => {
    expect(await commandsOf(lookup, 'lookup')).toEqual({ beforeRun: ['evalsha'], all: ['evalsha'] });
  });
});
