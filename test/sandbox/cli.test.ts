// `list-hygiene sandbox` as a user runs it: a spawned process that prints its instructions; the
// command lines it printed, run verbatim by a shell (with `list-hygiene` on PATH), must work against
// it; Ctrl-C stops it and removes its credentials file.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');

let bin: string;
beforeAll(async () => {
	// `list-hygiene` as the shell finds it: the CLI from source, through tsx.
	bin = await mkdtemp(join(tmpdir(), 'list-hygiene-bin-'));
	const script = join(bin, 'list-hygiene');
	await writeFile(script, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${MAIN}" "$@"\n`);
	await chmod(script, 0o755);
});
afterAll(() => rm(bin, { recursive: true, force: true }));

const env = () => ({ ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, NODE_ENV: 'production' });

/** Runs a printed command line in sh, from the repository (tsx resolves there). */
function shell(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
	return new Promise((done) => {
		const child = spawn('sh', ['-c', line], { cwd: ROOT, env: env() });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk) => (stdout += chunk));
		child.stderr.on('data', (chunk) => (stderr += chunk));
		child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
	});
}

/** Starts `list-hygiene sandbox ARGS` and resolves with its instructions once printed in full. */
function startCli(args: string[]): { child: ChildProcess; printed: Promise<string>; exited: Promise<{ code: number | null; stderr: string }> } {
	const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'sandbox', ...args], { cwd: ROOT, env: env() });
	let stdout = '';
	let stderr = '';
	const exited = new Promise<{ code: number | null; stderr: string }>((done) => child.on('close', (code) => done({ code, stderr })));
	const printed = new Promise<string>((done, fail) => {
		child.stdout!.on('data', (chunk) => {
			stdout += chunk;
			if (/\n {2}curl [^\n]+\n/.test(stdout)) done(stdout);
		});
		child.stderr!.on('data', (chunk) => (stderr += chunk));
		void exited.then(({ code }) => fail(new Error(`list-hygiene sandbox exited (${code}) before printing its instructions:\n${stdout}\n${stderr}`)));
	});
	return { child, printed, exited };
}

/** The printed command lines, by how they start. */
const linesOf = (text: string, start: string) => text.split('\n').filter((line) => line.trimStart().startsWith(start)).map((line) => line.trim());

const jsonLines = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('list-hygiene sandbox', () => {
	it(
		'prints command lines that work against it, serves until Ctrl-C, then removes its credentials file',
		async () => {
			const cli = startCli(['--port', '0']);
			try {
				const text = await cli.printed;
				const credentialsFile = /credentials file (\S+)\)/.exec(text)![1];
				expect(existsSync(credentialsFile)).toBe(true);

				const [lists, members] = linesOf(text, 'list-hygiene ');
				const listed = await shell(lists);
				expect(listed).toMatchObject({ code: 0, stderr: 'list-hygiene: lists on Mailchimp: 1 requests\n' });
				expect(jsonLines(listed.stdout).map((l) => [l.name, l.memberCount])).toEqual([
					['Sandbox newsletter', 293],
					['Sandbox customers', 25],
				]);

				const [verify] = linesOf(text, 'echo ');
				const verified = await shell(verify);
				expect(verified.code).toBe(0);
				expect(jsonLines(verified.stdout)).toEqual([expect.objectContaining({ email: 'new.reader@northwind.test', status: 'valid', reason: 'accepted' })]);

				// Verify only: the plan, nothing written.
				const [plan, clean] = linesOf(text, 'list-hygiene clean ');
				expect(clean).toBe(`${plan} --mode clean`);
				const planned = await shell(plan);
				expect(planned.code).toBe(0);
				const outcomes = jsonLines(planned.stdout).map((item) => (item.cleanup as { outcome: string }).outcome);
				expect(outcomes).toHaveLength(300);
				expect(outcomes.filter((o) => o === 'planned')).toHaveLength(29);
				expect(planned.stderr).toMatch(/clean \(verify only\) on Mailchimp/);

				// A new subscriber by the printed curl line, then seen by the printed members line.
				const [curl] = linesOf(text, 'curl ');
				const added = await shell(`${curl} --silent --show-error --fail`);
				expect(added.code).toBe(0);
				expect(JSON.parse(added.stdout)).toMatchObject({ email_address: 'new.reader@northwind.test', status: 'subscribed' });
				const read = await shell(members);
				expect(read.code).toBe(0);
				const emails = jsonLines(read.stdout).map((m) => m.email);
				expect(emails).toHaveLength(301);
				expect(emails).toContain('new.reader@northwind.test');

				cli.child.kill('SIGINT');
				const { code, stderr } = await cli.exited;
				expect(code).toBe(0);
				expect(stderr).toContain('list-hygiene: sandbox stopped.');
				expect(existsSync(credentialsFile)).toBe(false);
			} finally {
				cli.child.kill('SIGKILL');
			}
		},
		120_000,
	);

	it('names the port in use and the way out', async () => {
		const blocker = createServer();
		await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', () => done()));
		const port = (blocker.address() as { port: number }).port;
		try {
			const { code, stdout, stderr } = await shell(`list-hygiene sandbox --port ${port}`);
			expect(code).toBe(1);
			expect(stdout).toBe('');
			expect(stderr).toBe(
				`list-hygiene: The sandbox cannot listen on 127.0.0.1 port ${port} for the Mailchimp API: the port is in use. ` +
					'Choose another base port with LIST_HYGIENE_SANDBOX_PORT=<port>; the sandbox uses it and the next two. Or: list-hygiene sandbox --port <port>.\n',
			);
			const env = await shell(`LIST_HYGIENE_SANDBOX_PORT=http list-hygiene sandbox`);
			expect(env).toMatchObject({ code: 2, stderr: 'list-hygiene: LIST_HYGIENE_SANDBOX_PORT must be a port number from 1 to 65533 (0 for free ports), not "http".\n' });
			const extra = await shell('list-hygiene sandbox now');
			expect(extra).toMatchObject({ code: 2, stderr: 'list-hygiene: sandbox takes no arguments; got: now.\n' });
		} finally {
			blocker.close();
		}
	}, 60_000);
});
