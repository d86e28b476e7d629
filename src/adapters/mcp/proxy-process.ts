import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';

// The server process behind the stdio proxy (proxy.ts): started with its stdio piped (stderr
// inherited), stopped in steps when the client goes, and its exit turned into the proxy's code.

/** How the server is started (`McpProxyOptions`). */
export interface ServerCommand {
  command: string;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts the server; undefined (and logged) when it cannot be spawned at all. */
export function spawnServer(server: ServerCommand, log: (line: string) => void): ChildProcess | undefined {
  try {
    return spawn(server.command, [...(server.args ?? [])], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: server.env ?? process.env,
      ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
    });
  } catch (error) {
    log(`toolgate mcp-proxy: cannot start ${server.command}: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Ends the server once the client is gone: closes its stdin, then sends SIGTERM if it has not
 * exited after `graceMs`, and SIGKILL after as long again. Returns what stops the escalation.
 */
export function stopServer(child: ChildProcess, graceMs: number): () => void {
  child.stdin?.end();
  let timer = setTimeout(() => {
    child.kill('SIGTERM');
    timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    timer.unref();
  }, graceMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/** The proxy's exit code: the server's, or 128 + the signal's number when a signal ended it. */
export function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? (signal === null ? 1 : 128 + (constants.signals[signal] ?? 1));
}
