import { afterEach, describe, expect, test } from 'vitest';
import { guardMcpClient, memoryPins } from '../../../src/adapters/mcp/index.ts';
import { callbackApprover, createGuard, memoryAudit, rules } from '../../../src/index.ts';
import { connectInMemory, demoServer, textOf } from './fixtures.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function connect(executed: string[]) {
  const server = demoServer(executed);
  const client = await connectInMemory(server, (close) => closers.push(close));
  return { server, client };
}

const policy = rules([
  { id: 'echo', effect: 'allow', tool: 'demo.echo' },
  { id: 'refunds', effect: 'ask', tool: 'demo.refund', reason: 'refunds need a human' },
]);

describe('guardMcpClient', () => {
  test('allow, default deny, ask with an approver that edits the arguments', async () => {
    const executed: string[] = [];
    const audit = memoryAudit();
    const tg = createGuard({
      policy,
      audit,
      approver: callbackApprover((request) => ({
        requestId: request.id,
        approved: true,
        approver: 'ops:bob',
        // Edit then approve: the server receives the edited amount, never the original.
        args: { ...request.args, amount: 10 },
      })),
    });
    const { client } = await connect(executed);
    const guarded = guardMcpClient(client, tg, { server: 'demo', context: { agent: 'support-bot' } });

    expect(textOf(await guarded.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('echo: hi');
    const del = await guarded.callTool({ name: 'delete_file', arguments: { path: '/x' } });
    expect(del.isError).toBe(true);
    expect(textOf(del)).toBe(
      'toolgate denied this call to demo.delete_file (NO_MATCHING_RULE): no rule allows this call',
    );
    const refund = await guarded.callTool({ name: 'refund', arguments: { orderId: 'o-1', amount: 900 } });
    expect(textOf(refund)).toBe('refunded 10 on o-1');
    expect(executed).toEqual(['echo:hi', 'refund:o-1:10']);
    const decision = audit.events.find((event) => event.type === 'decision');
    expect(decision).toMatchObject({ tool: 'demo.echo', agent: 'support-bot', decision: 'allow' });
  });

  test('undeclared keys are refused and annotations are ignored', async () => {
    const executed: string[] = [];
    const tg = createGuard({ policy: rules([{ id: 'all', effect: 'allow', tool: 'echo' }]) });
    const { client } = await connect(executed);
    const guarded = guardMcpClient(client, tg);
    const extra = await guarded.callTool({ name: 'echo', arguments: { message: 'x', shell: 'rm -rf /' } });
    expect(textOf(extra)).toMatch(/INVALID_ARGS.*undeclared argument "shell"/);
    const del = await guarded.callTool({ name: 'delete_file', arguments: { path: '/x' } });
    expect(textOf(del)).toContain('NO_MATCHING_RULE');
    expect(executed).toEqual([]);
  });

  test('rug pull: after a changed definition is listed, the tool is hidden and its calls denied', async () => {
    const executed: string[] = [];
    const pins = memoryPins();
    const tg = createGuard({ policy: rules([{ id: 'all', effect: 'allow' }]) });
    const { server, client } = await connect(executed);
    const guarded = guardMcpClient(client, tg, { pins });
    expect((await guarded.listTools()).tools.map((tool) => tool.name).sort()).toEqual([
      'delete_file',
      'echo',
      'refund',
    ]);
    expect(textOf(await guarded.callTool({ name: 'echo', arguments: { message: 'a' } }))).toBe('echo: a');
    const registered = (
      server as unknown as { _registeredTools: Record<string, { update(u: object): void }> }
    )._registeredTools;
    registered.echo!.update({ annotations: { readOnlyHint: true } });
    expect((await guarded.listTools()).tools.map((tool) => tool.name)).not.toContain('echo');
    const after = await guarded.callTool({ name: 'echo', arguments: { message: 'b' } });
    expect(textOf(after)).toMatch(/changed since it was pinned/);
    expect(executed).toEqual(['echo:a']);
    // Re-approval: the host pins the new definition after review.
    const current = (await client.listTools()).tools.find((tool) => tool.name === 'echo')!;
    const { toolPin } = await import('../../../src/adapters/mcp/index.ts');
    pins.set('', 'echo', toolPin(current as never));
    expect(textOf(await guarded.callTool({ name: 'echo', arguments: { message: 'c' } }))).toBe('echo: c');
  });

  test('with onDeny: return, denials are still isError results', async () => {
    const tg = createGuard({ policy: rules([]), onDeny: 'return' });
    const { client } = await connect([]);
    const result = await guardMcpClient(client, tg).callTool({ name: 'echo', arguments: { message: 'x' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('NO_MATCHING_RULE');
  });

  test('the call forwarded is the one decided, whatever the caller changes while approval is pending', async () => {
    const executed: string[] = [];
    let approve: () => void = () => undefined;
    const tg = createGuard({
      policy: rules([
        { id: 'refunds', effect: 'ask', tool: 'demo.refund' },
        { id: 'no-deletes', effect: 'deny', tool: 'demo.delete_file' },
      ]),
      approver: {
        name: 'person',
        request: (request) =>
          new Promise((resolve) => {
            approve = () => resolve({ requestId: request.id, approved: true, approver: 'user:ann' });
          }),
      },
    });
    const { client } = await connect(executed);
    const guarded = guardMcpClient(client, tg, { server: 'demo' });
    const params = { name: 'refund', arguments: { orderId: 'o-1', amount: 5 }, _meta: { trace: 'a' } };
    const pending = guarded.callTool(params);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The host reuses its params object while the person decides.
    params.name = 'delete_file';
    params._meta.trace = 'b';
    approve();
    expect(textOf(await pending)).toBe('refunded 5 on o-1');
    expect(executed).toEqual(['refund:o-1:5']);
  });
});
