// `list-hygiene sandbox [--port N] [--host H]`: the sandbox `npm start` runs next to n8n, for the
// command line. It prints the exact flags that point the other commands at it, then serves until
// Ctrl-C.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_SANDBOX_PORT, NEWSLETTER_ID, SANDBOX_PORT_ENV, SandboxPortError, shellWord, SPARE_MAILBOXES, startSandbox, subscribeCommand, type Sandbox } from '../sandbox';
import { CliError } from './errors';
import { parseFlags } from './flags';
import type { CliIo } from './io';

export const SANDBOX_HELP = `Usage: list-hygiene sandbox [--port N] [--host ADDRESS]

Starts the sandbox on this machine: a pretend Mailchimp account with two audiences (300 and 25
contacts at sandbox domains), the DNS server of those domains and their mail server. It prints
the flags that point lists, members, verify and clean at it, and runs until Ctrl-C.
Nothing leaves the machine; the sandbox lives in memory and starts afresh every time.

Flags:
  --port N          base port: the API on N, DNS (UDP and TCP) on N+1, SMTP on N+2
                    (default ${DEFAULT_SANDBOX_PORT}, or ${SANDBOX_PORT_ENV}; 0 picks free ports)
  --host ADDRESS    address to listen on (default 127.0.0.1)
  -h, --help        show this help
`;

function basePort(flag: string | undefined): number {
	const [value, source] = flag !== undefined ? [flag, '--port'] : [process.env[SANDBOX_PORT_ENV], SANDBOX_PORT_ENV];
	if (value === undefined || value === '') return DEFAULT_SANDBOX_PORT;
	const port = Number(value);
	if (!/^\d+$/.test(value.trim()) || port > 65533) throw new CliError(`${source} must be a port number from 1 to 65533 (0 for free ports), not "${value}".`, 2);
	return port;
}

/** Resolves at the first Ctrl-C (SIGINT) or SIGTERM. */
function interrupted(): Promise<void> {
	return new Promise((resolve) => {
		const stop = () => {
			process.off('SIGINT', stop);
			process.off('SIGTERM', stop);
			resolve();
		};
		process.on('SIGINT', stop);
		process.on('SIGTERM', stop);
	});
}

/** What to type: the sandbox's servers, and each command with the flags that reach them. */
export function sandboxInstructions(sandbox: Sandbox, credentialsFile: string): string {
	const credentials = `--platform mailchimp --credentials ${shellWord(credentialsFile)}`;
	const verifier = [
		`--dns-server ${sandbox.verifyOptions.dnsServers}`,
		`--smtp-port ${sandbox.verifyOptions.smtpPort}`,
		'--allow-private-networks',
		`--helo ${sandbox.verifyOptions.heloName}`,
	].join(' ');
	const counts = sandbox.audiences.map(({ id, name }) => {
		const members = [...(sandbox.mailchimp.state.audiences.get(id)?.members.values() ?? [])];
		return `${id}  ${name} (${members.length} members)`;
	});
	return [
		'List Hygiene sandbox is running. Stop it with Ctrl-C.',
		'',
		`  Mailchimp API  ${sandbox.apiUrl}  (key ${sandbox.apiKey}; credentials file ${credentialsFile})`,
		`  DNS            ${sandbox.dns.address} (UDP and TCP)`,
		`  SMTP           ${sandbox.smtp.host}:${sandbox.smtp.port}`,
		`  Audiences      ${counts.join(`\n                 `)}`,
		'',
		'Lists and members:',
		`  list-hygiene lists ${credentials}`,
		`  list-hygiene members ${credentials} --list ${NEWSLETTER_ID}`,
		'',
		'Verify addresses against the sandbox mail servers:',
		`  echo ${SPARE_MAILBOXES[0]} | list-hygiene verify ${verifier}`,
		'',
		'Clean the newsletter (verify-only prints the plan; --mode clean carries it out):',
		`  list-hygiene clean ${credentials} --list ${NEWSLETTER_ID} ${verifier}`,
		`  list-hygiene clean ${credentials} --list ${NEWSLETTER_ID} ${verifier} --mode clean`,
		'',
		'Add a subscriber (a new sign-up, for the trigger or a second clean-up):',
		`  ${subscribeCommand(sandbox, SPARE_MAILBOXES[0])}`,
		'',
	].join('\n');
}

export async function sandboxCommand(args: string[], io: CliIo, stopped: () => Promise<void> = interrupted): Promise<number> {
	const { values, positionals } = parseFlags('sandbox', args, {
		port: { type: 'string' },
		host: { type: 'string' },
		help: { type: 'boolean', short: 'h' },
	});
	if (values.help) {
		io.stdout.write(SANDBOX_HELP);
		return 0;
	}
	if (positionals.length > 0) throw new CliError(`sandbox takes no arguments; got: ${positionals.join(' ')}.`, 2);
	const port = basePort(values.port as string | undefined);

	let sandbox: Sandbox;
	try {
		sandbox = await startSandbox({ host: values.host as string | undefined, port });
	} catch (error) {
		if (error instanceof SandboxPortError) throw new CliError(`${error.message} Or: list-hygiene sandbox --port <port>.`);
		throw error;
	}
	// The other commands read credentials from a file: one only we can read, gone when we stop.
	const folder = await mkdtemp(join(tmpdir(), 'list-hygiene-sandbox-'));
	try {
		const credentialsFile = join(folder, 'mailchimp.json');
		await writeFile(credentialsFile, `${JSON.stringify(sandbox.credential.data, null, 2)}\n`, { mode: 0o600 });
		io.stdout.write(sandboxInstructions(sandbox, credentialsFile));
		await stopped();
		io.stderr.write('list-hygiene: sandbox stopped.\n');
		return 0;
	} finally {
		await sandbox.close();
		await rm(folder, { recursive: true, force: true });
	}
}
