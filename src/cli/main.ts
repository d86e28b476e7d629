#!/usr/bin/env node
/**
 * The `toolgate` command. Each sub-command lives in its own module, loaded on demand, and exports
 * `run(argv: string[]): Promise<number>` (the exit code; the codes are in src/cli/failures.ts and
 * docs/cli.md).
 */
import { EXIT, reportFailure } from './failures.ts';

const COMMANDS: Record<string, { module: string; summary: string }> = {
  policy: { module: './policy.js', summary: 'check | explain | test | coverage a policy file' },
  audit: { module: './audit.js', summary: 'verify | tail | query audit logs' },
  approvals: { module: './approvals.js', summary: 'list | approve | deny pending approvals' },
  'mcp-proxy': { module: './mcp-proxy.js', summary: 'guard any stdio MCP server' },
  keys: { module: './keys.js', summary: 'generate | rotate | retire | jwks credential signing keys' },
  agents: { module: './agents.js', summary: 'register | list | suspend | resume | revoke agents' },
  console: { module: './console.js', summary: 'serve the web console (approvals, audit, control)' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(
    ([name, { summary }]) => `  toolgate ${name.padEnd(10)} ${summary}`,
  );
  return `usage:\n${lines.join('\n')}\n\nRun a command with --help for its options.
Exit codes: 0 ok, 1 the check failed or the answer was refused, 2 usage, 3 unreadable input,
4 service unreachable, 5 optional package missing, 6 unexpected error.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    console.error(`toolgate: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const loaded = (await import(new URL(command.module, import.meta.url).href)) as {
      run(argv: string[]): Promise<number>;
    };
    return await loaded.run(rest);
  } catch (error) {
    return reportFailure(`toolgate ${name}`, error);
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly || process.argv[1]?.endsWith('/toolgate') || process.argv[1]?.endsWith('/main.js')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.exitCode = reportFailure('toolgate', error);
    },
  );
}
