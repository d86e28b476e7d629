import type { ApprovalProvider, ApprovalResponse } from '../../approval/types.ts';
import type { McpProxyHandle } from './proxy.ts';

/**
 * An approver that asks the user through the MCP client, with an `elicitation/create` request
 * (a yes/no form). It needs a client that declared the `elicitation` capability; with any other
 * client, or any answer but an accepted `approve: true`, the call is denied.
 */
export function elicitationApprover(getProxy: () => McpProxyHandle | undefined): ApprovalProvider {
  return {
    name: 'mcp-elicitation',
    async request(request, { signal }): Promise<ApprovalResponse> {
      const refuse = (reason: string): ApprovalResponse => ({
        requestId: request.id,
        approved: false,
        approver: 'mcp-client',
        reason,
      });
      const proxy = getProxy();
      if (proxy?.clientCapabilities?.elicitation === undefined)
        return refuse('the MCP client cannot ask the user (no elicitation capability)');
      const response = await proxy.requestClient(
        'elicitation/create',
        {
          message: `Allow ${request.tool}?\n${request.reason}\nArguments: ${JSON.stringify(request.args).slice(0, 2000)}`,
          requestedSchema: {
            type: 'object',
            properties: { approve: { type: 'boolean', title: 'Approve this call' } },
            required: ['approve'],
          },
        },
        signal,
      );
      const result = response.result as { action?: unknown; content?: { approve?: unknown } } | undefined;
      if (result?.action === 'accept' && result.content?.approve === true)
        return { requestId: request.id, approved: true, approver: 'mcp-client' };
      return refuse(`the user did not approve (${String(result?.action ?? 'no answer')})`);
    },
  };
}
