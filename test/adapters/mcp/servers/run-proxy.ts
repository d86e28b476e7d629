// Runs `toolgate mcp-proxy` from source (under tsx), as the CLI would.
import { run } from '../../../../src/cli/mcp-proxy.ts';

process.exitCode = await run(process.argv.slice(2));
