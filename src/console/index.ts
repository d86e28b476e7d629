/**
 * `toolgate/console`: a web console where people approve, oversee and analyse what agents do.
 * The core never imports it; it knows no framework (a Fetch-style handler, and `serveConsole` on
 * `node:http`).
 */
export type { ConsoleAccount, ConsoleRole } from './accounts.ts';
export { hashPassword } from './accounts.ts';
export type { ConsoleApproverOptions } from './approver.ts';
export { consoleApprover } from './approver.ts';
export type { AuditKeys } from './audit-reader.ts';
export type { ConsoleHandler } from './handler.ts';
export { consoleHandler } from './handler.ts';
export type { ConsoleOptions, ConsoleRequestInfo } from './options.ts';
export type { ConsoleServer, ServeConsoleOptions } from './serve.ts';
export { serveConsole } from './serve.ts';
