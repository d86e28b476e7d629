import { spawn } from 'node:child_process';

/**
 * A second Node process running a TypeScript fixture that answers one line on stdout for each
 * line it reads on stdin (after a first `ready` line). `send` writes a line and resolves with the
 * next answer; `stop` sends `quit` and waits for the exit (killing it after 5 s).
 */
export function startLineProcess(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // Lines arrive in order; each read takes the next one, waiting for it if needed.
  const queued: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else queued.push(line);
    }
  });
  const next = () =>
    new Promise<string>((resolve) => {
      const line = queued.shift();
      if (line !== undefined) resolve(line);
      else waiting.push(resolve);
    });
  return {
    ready: next(),
    send(line: string): Promise<string> {
      child.stdin.write(`${line}\n`);
      return next();
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.write('quit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
