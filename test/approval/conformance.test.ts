import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'vitest';
import { approvalDirectory } from '../../src/approval/directory.ts';
import { approvalQueue, queueApprover } from '../../src/approval/queue.ts';
import { terminalApprover } from '../../src/approval/terminal.ts';
import { signApprovalResponse } from '../../src/approval/token.ts';
import { type WebhookApprover, webhookApprover } from '../../src/approval/webhook.ts';
import { type ApprovalResponse, memoryStore } from '../../src/index.ts';
import { testApprovalProvider } from '../../src/testing/index.ts';

const runner = { describe, it };

const SECRET = 'conformance-secret-of-32-bytes-or-more';
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

for (const [name, open] of [
  ['queueApprover', () => ({ store: memoryStore(), cleanup: async () => undefined })],
  [
    'queueApprover over approvalDirectory',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'toolgate-conformance-'));
      const store = approvalDirectory({ dir });
      return {
        store,
        cleanup: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
] as const) {
  testApprovalProvider(name, {
    runner,
    async create() {
      const { store, cleanup } = open();
      const queue = approvalQueue({ store, secret: SECRET });
      return {
        provider: queueApprover({ store, secret: SECRET, pollMs: 20 }),
        async respond(request, answer) {
          while (!(await queue.list()).some((p) => p.id === request.id)) await tick();
          await queue.resolve(request.id, answer as never);
        },
        cleanup,
      };
    },
  });
}

testApprovalProvider('terminalApprover', {
  runner,
  async create() {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (chunk) => {
      shown += String(chunk);
    });
    return {
      provider: terminalApprover({ input, output, approver: 'user:2' }),
      async respond(_request, answer) {
        while (!shown.includes('[a]pprove')) await tick();
        if (answer.approved) input.write('a\n');
        else {
          input.write('d\n');
          while (!shown.includes('reason: ')) await tick();
          input.write(`${answer.reason}\n`);
        }
      },
    };
  },
});

testApprovalProvider('webhookApprover', {
  runner,
  async create() {
    let approver: WebhookApprover | undefined;
    const hooks: { binding: never }[] = [];
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      hooks.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    approver = webhookApprover({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      secret: SECRET,
    });
    return {
      provider: approver,
      async respond(request, answer) {
        while (hooks.length === 0) await tick();
        const response = { requestId: request.id, ...answer } as ApprovalResponse;
        const result = await approver!.handleApprovalCallback({
          body: { token: signApprovalResponse(hooks[0]!.binding, response, SECRET) },
        });
        if (result.status !== 200) throw new Error(result.body);
      },
      async cleanup() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  },
});
