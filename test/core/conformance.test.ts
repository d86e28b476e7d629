import type { ApprovalResponse, AuditEvent } from '../../src/index.ts';
import { callbackApprover, consoleAudit, memoryAudit } from '../../src/index.ts';
import { testApprovalProvider, testAuditSink } from '../../src/testing/index.ts';

// The rules engine runs testPolicyEngine in test/policy/cases.test.ts, cedarEngine in
// test/backends/cedar.test.ts.

testAuditSink('memoryAudit', {
  async create() {
    const sink = memoryAudit();
    return { sink, read: async () => [...sink.events] };
  },
});

testAuditSink('consoleAudit', {
  async create() {
    const lines: string[] = [];
    const sink = consoleAudit({ log: (line) => lines.push(line) });
    return { sink, read: async () => lines.map((line) => JSON.parse(line) as AuditEvent) };
  },
});

testApprovalProvider('callbackApprover', {
  async create() {
    const waiting = new Map<string, (response: ApprovalResponse) => void>();
    const provider = callbackApprover(
      (request, { signal }) =>
        new Promise<ApprovalResponse>((resolve, reject) => {
          waiting.set(request.id, resolve);
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    return {
      provider,
      async respond(request, answer) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const resolve = waiting.get(request.id)!;
        resolve(
          answer.approved
            ? { requestId: request.id, approved: true, approver: answer.approver }
            : {
                requestId: request.id,
                approved: false,
                approver: answer.approver,
                reason: answer.reason ?? 'no',
              },
        );
      },
    };
  },
});
