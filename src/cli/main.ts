#!/usr/bin/env node
/**
 * The `toolgate` command. Each sub-command lives in its own module, loaded on demand, and exports
 * `run(argv: string[]): Promise<number>` (the exit code).
 */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  policy: { module: './policy.js', summary: 'check | explain | test | coverage a policy file' },
  audit: { module: './audit.js', summary: 'verify | tail | query audit logs' },
  approvals: { module: './approvals.js', summary: 'list | approve | deny pending approvals' },
  'mcp-proxy': { module: './mcp-proxy.js', summary: 'guard any stdio MCP server' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(
    ([name, { summary }]) => `  toolgate ${name.padEnd(10)} ${summary}`,
  );
  return `usage:\n${lines.join('\n')}\n\nRun a command with --help for its options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`toolgate: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  let loaded: { run(argv: string[]): Promise<number> };
  try {
    loaded = (await import(new URL(command.module, import.meta.url).href)) as typeof loaded;
  } catch (error) {
    console.error(
      `toolgate: the ${name} command is not available in this build: ${(error as Error).message}`,
    );
    return 2;
  }
  return loaded.run(rest);
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly || process.argv[1]?.endsWith('/toolgate') || process.argv[1]?.endsWith('/main.js')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`toolgate: ${(error as Error)?.stack ?? String(error)}`);
      process.exitCode = 1;
    },
  );
}
