// The list-hygiene command: dispatches to a subcommand and turns every user error into one clear
// message and a non-zero exit code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { CliError } from './errors';
import type { CliIo } from './io';
import { cleanCommand } from './clean';
import { platformCommand } from './platform';
import { sandboxCommand } from './sandbox';
import { verifyCommand } from './verify';

const HELP = `Usage: list-hygiene <command> [flags]

Commands:
  verify [FILE|-]   verify email addresses from a file or stdin (see: list-hygiene verify --help)
  lists             the lists of an email platform account, with member counts
  members           the members of a list
  unsubscribe       unsubscribe contacts (JSON lines or CSV from a file or stdin)
  delete            delete contacts (archived where the platform can)
  clean             read, verify and clean a list in one go (Verify only by default)
  sandbox           serve a pretend Mailchimp account and mail servers to try it all on

Flags:
  -h, --help        show this help
  -v, --version     print the version
`;

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
	verify: verifyCommand,
	lists: (args, io) => platformCommand('lists', args, io),
	members: (args, io) => platformCommand('members', args, io),
	unsubscribe: (args, io) => platformCommand('unsubscribe', args, io),
	delete: (args, io) => platformCommand('delete', args, io),
	clean: cleanCommand,
	sandbox: (args, io) => sandboxCommand(args, io),
};

function version(): string {
	// dist/src/cli/run.js and src/cli/run.ts are both three levels below the package root.
	const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
	return pkg.version;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
	const [command, ...args] = argv;
	try {
		if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
			io.stdout.write(HELP);
			return command === undefined ? 2 : 0;
		}
		if (command === '-v' || command === '--version') {
			io.stdout.write(`${version()}\n`);
			return 0;
		}
		const handler = COMMANDS[command];
		if (!handler) {
			throw new CliError(`unknown command "${command}". Commands: ${Object.keys(COMMANDS).join(', ')}. Run \`list-hygiene --help\`.`, 2);
		}
		return await handler(args, io);
	} catch (error) {
		if (error instanceof CliError) {
			io.stderr.write(`list-hygiene: ${error.message.replace(/^list-hygiene /, '')}\n`);
			return error.exitCode;
		}
		// A bug, not a user error: still one line, with a pointer for the report.
		const message = error instanceof Error ? error.message : String(error);
		io.stderr.write(`list-hygiene: unexpected error: ${message}\nPlease report this with the command you ran.\n`);
		return 1;
	}
}
