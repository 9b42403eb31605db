// The list-hygiene CLI, run in-process with in-memory streams, and its real executable for the
// exit codes and the absence of stack traces.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';

import { parse } from 'csv-parse/sync';

import { runCli } from '../../src/cli/run';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsServer';
import { startSmtpServer } from '../helpers/smtpServer';

let server: TestDnsServer;
const dir = mkdtempSync(join(tmpdir(), 'list-hygiene-cli-'));

beforeAll(async () => {
	server = await startDnsServer({
		'good.test': { MX: [{ preference: 10, exchange: 'mx.good.test' }] },
		'nullmx.test': { MX: [{ preference: 0, exchange: '.' }] },
	});
});
afterAll(() => server.close());

function collect() {
	const stream = new PassThrough();
	let text = '';
	stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
	return { stream, text: () => text };
}

async function cli(args: string[], stdin = '') {
	const out = collect();
	const err = collect();
	const code = await runCli(args, { stdin: Readable.from([Buffer.from(stdin)]), stdout: out.stream, stderr: err.stream });
	return { code, stdout: out.text(), stderr: err.text() };
}

const dnsFlags = () => ['--dns-server', server.address, '--timeout-ms', '800', '--no-smtp'];

function file(name: string, content: string) {
	const path = join(dir, name);
	writeFileSync(path, content);
	return path;
}

describe('list-hygiene verify', () => {
	it('reads one address per line from stdin and prints one JSON object per address', async () => {
		const { code, stdout, stderr } = await cli(['verify', ...dnsFlags()], 'ann@good.test\n\nbob@nullmx.test\nnot an address\n');
		expect(code).toBe(0);
		const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
		expect(lines.map((l) => [l.email, l.status, l.reason, l.line])).toEqual([
			['ann@good.test', 'unknown', 'smtp_not_checked', 1],
			['bob@nullmx.test', 'invalid', 'null_mx', 3],
			['not an address', 'invalid', 'invalid_syntax', 4],
		]);
		expect(lines[0]).toMatchObject({ category: 'unknown', mx: ['mx.good.test'], flags: { disposable: false } });
		expect(stderr).toBe('list-hygiene: verified 3 addresses from stdin: 1 unknown, 2 invalid\n');
	});

	it('finds the email column of a CSV file whose quoted fields hold commas, quotes and line breaks', async () => {
		const path = file(
			'contacts.csv',
			'\uFEFFName;"E-mail Address";Note\r\n"Smith; Ann";ann@good.test;"said ""hi""\r\nthen left"\r\nBob;bob@nullmx.test;\r\n',
		);
		const { code, stdout } = await cli(['verify', path, ...dnsFlags()]);
		expect(code).toBe(0);
		const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
		expect(lines.map((l) => [l.email, l.status, l.line])).toEqual([
			['ann@good.test', 'unknown', 2],
			['bob@nullmx.test', 'invalid', 4],
		]);
	});

	it('writes CSV that a standard parser reads back, with email, status and reason', async () => {
		const path = file('list.txt', 'ann@good.test\n"odd, one"@good.test\nANN@good.test\n');
		const { code, stdout } = await cli(['verify', path, '--format', 'csv', ...dnsFlags()]);
		expect(code).toBe(0);
		const rows = parse(stdout, { columns: true }) as Array<Record<string, string>>;
		expect(rows.map((r) => [r.email, r.status, r.reason, r.duplicate])).toEqual([
			['ann@good.test', 'unknown', 'smtp_not_checked', 'false'],
			['"odd, one"@good.test', 'invalid', 'quoted_local_part', 'false'],
			['ANN@good.test', 'unknown', 'smtp_not_checked', 'true'],
		]);
		expect(rows[0].mx).toBe('mx.good.test');
	});

	it('keeps every column and row of a CSV file, in its delimiter, and appends the verification columns', async () => {
		const path = file(
			'bulk.csv',
			'Name;E-mail;status;Notes\r\n"Smith; Ann";ann@good.test;vip;"said ""hi""\nthen left"\r\nBob;bob@nullmx.test\r\nNobody;;lead;\r\n',
		);
		const { code, stdout } = await cli(['verify', path, '--format', 'csv', ...dnsFlags()]);
		expect(code).toBe(0);
		const rows = parse(stdout, { delimiter: ';', relax_column_count: false }) as string[][];
		expect(rows[0].slice(0, 7)).toEqual(['Name', 'E-mail', 'status', 'Notes', 'verification_status', 'category', 'reason']);
		expect(rows.slice(1).map((r) => r.slice(0, 7))).toEqual([
			['Smith; Ann', 'ann@good.test', 'vip', 'said "hi"\nthen left', 'unknown', 'unknown', 'smtp_not_checked'],
			['Bob', 'bob@nullmx.test', '', '', 'invalid', 'invalid', 'null_mx'],
			['Nobody', '', 'lead', '', 'invalid', 'invalid', 'empty'],
		]);
		expect(new Set(rows.map((r) => r.length)).size).toBe(1);
	});

	it('takes the column named by --column', async () => {
		const path = file('two.csv', 'work,home\nann@good.test,bob@nullmx.test\n');
		const { stdout } = await cli(['verify', path, '--column', 'home', ...dnsFlags()]);
		expect(JSON.parse(stdout)).toMatchObject({ email: 'bob@nullmx.test', status: 'invalid' });
	});

	it('keeps a row with an empty email cell, as invalid', async () => {
		const path = file('gap.csv', 'email,name\n,Nobody\nann@good.test,Ann\n');
		const { stdout } = await cli(['verify', path, ...dnsFlags()]);
		const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
		expect(lines.map((l) => [l.email, l.status, l.reason])).toEqual([
			['', 'invalid', 'empty'],
			['ann@good.test', 'unknown', 'smtp_not_checked'],
		]);
	});

	describe('bad input gets one clear message and a non-zero exit', () => {
		it.each([
			[['verify', '/no/such/file.csv'], 1, 'list-hygiene: Cannot read /no/such/file.csv: no such file.'],
			[['verify', '--frobnicate'], 2, 'list-hygiene: verify: unknown flag --frobnicate. Run `list-hygiene verify --help` for the flags.'],
			[['verify', '--format', 'xml'], 2, 'list-hygiene: --format must be jsonl or csv, not "xml".'],
			[['verify', '--timeout-ms', 'soon'], 2, 'list-hygiene: --timeout-ms must be a whole number greater than 0, not "soon".'],
			[['verify', '--dns-server', 'dns.example'], 2, 'list-hygiene: --dns-server: DNS server "dns.example" is not an IP address'],
			[['verify', 'a.csv', 'b.csv'], 2, 'list-hygiene: verify takes one FILE (or - for stdin); got 2: a.csv b.csv.'],
			[['frobnicate'], 2, 'list-hygiene: unknown command "frobnicate". Commands: verify, lists, members, unsubscribe, delete, clean, sandbox.'],
		])('%j', async (args, exitCode, message) => {
			const { code, stdout, stderr } = await cli(args as string[]);
			expect(code).toBe(exitCode);
			expect(stderr.startsWith(message)).toBe(true);
			expect(stdout).toBe('');
		});

		it('names the columns it saw when none holds addresses', async () => {
			const { code, stderr } = await cli(['verify'], 'Name,Phone\nAnn,123\n');
			expect(code).toBe(1);
			expect(stderr).toBe(
				'list-hygiene: stdin has no recognisable email column. Columns seen: "Name", "Phone". ' +
					'Name the column with --column NAME, or give one address per line.\n',
			);
		});

		it('names the columns it saw when --column is not among them', async () => {
			const { code, stderr } = await cli(['verify', '--column', 'mail'], 'Name,Email\nAnn,a@good.test\n');
			expect(code).toBe(1);
			expect(stderr).toContain('has no column named "mail". Columns seen: "Name", "Email".');
		});

		it('says where a quoted field is left open', async () => {
			const { code, stderr } = await cli(['verify'], 'email\n"ann@good.test\nbob@good.test\n');
			expect(code).toBe(1);
			expect(stderr).toMatch(/^list-hygiene: stdin: line \d+: .*quoted field/);
		});

		it('refuses an empty input', async () => {
			const { code, stderr } = await cli(['verify'], '\n\n');
			expect(code).toBe(1);
			expect(stderr).toBe('list-hygiene: stdin is empty: there are no addresses to verify.\n');
		});

		it('refuses a folder', async () => {
			const { code, stderr } = await cli(['verify', dir]);
			expect(code).toBe(1);
			expect(stderr).toContain('is a folder, not a file');
		});
	});
});

describe('list-hygiene verify with SMTP', () => {
	it('asks the mail servers and prints their evidence', async () => {
		const smtp = await startSmtpServer({ rcptReply: (to) => (to.startsWith('ann@') ? '250 2.1.5 Ok' : '550 5.1.1 User unknown') });
		const dns = await startDnsServer({ 'smtp.test': { MX: [{ preference: 10, exchange: 'mx.smtp.test' }] }, 'mx.smtp.test': { A: ['127.0.0.1'] } });
		try {
			const flags = ['--dns-server', dns.address, '--smtp-port', String(smtp.port), '--allow-private-networks', '--helo', 'cli.test', '--mail-from', 'check@cli.test'];
			const { code, stdout } = await cli(['verify', ...flags], 'ann@smtp.test\nzed@smtp.test\n');
			expect(code).toBe(0);
			const [ann, zed] = stdout.trim().split('\n').map((l) => JSON.parse(l));
			expect(ann).toMatchObject({ status: 'valid', category: 'valid', reason: 'accepted', mx: ['mx.smtp.test'], smtp: { host: 'mx.smtp.test', code: 250, catchAll: false } });
			expect(zed).toMatchObject({ status: 'invalid', reason: 'mailbox_not_found', smtp: { code: 550, enhanced: '5.1.1' } });
			expect(smtp.sessions[0].commands.slice(0, 2)).toEqual(['EHLO cli.test', 'MAIL FROM:<check@cli.test>']);

			const csv = await cli(['verify', '--format', 'csv', ...flags], 'zed@smtp.test\n');
			const [row] = parse(csv.stdout, { columns: true }) as Array<Record<string, string>>;
			expect(row).toMatchObject({ status: 'invalid', smtp_host: 'mx.smtp.test', smtp_code: '550', smtp_enhanced: '5.1.1' });
		} finally {
			await smtp.close();
			await dns.close();
		}
	});

	it('warns on stderr when outbound port 25 looks blocked', async () => {
		const unused = await startSmtpServer({});
		const port = unused.port;
		await unused.close();
		const dns = await startDnsServer({
			'a.test': { MX: [{ preference: 10, exchange: 'mx.a.test' }] },
			'b.test': { MX: [{ preference: 10, exchange: 'mx.b.test' }] },
			'mx.a.test': { A: ['127.0.0.2'] },
			'mx.b.test': { A: ['127.0.0.3'] },
		});
		try {
			const { code, stdout, stderr } = await cli(['verify', '--dns-server', dns.address, '--smtp-port', String(port), '--allow-private-networks'], 'x@a.test\ny@b.test\n');
			expect(code).toBe(0);
			expect(stdout.trim().split('\n').map((l) => JSON.parse(l).reason)).toEqual(['port25_blocked', 'port25_blocked']);
			expect(stderr).toContain('list-hygiene: warning: no SMTP connection succeeded although 2 mail hosts were tried: outbound port 25 looks blocked');
		} finally {
			await dns.close();
		}
	});

	it.each([
		[['--proxy', 'http://user:hunter2@proxy.test:8080'], 'list-hygiene: --proxy: Only SOCKS5 proxies are supported (socks5://host:port), not http.'],
		[['--proxy', 'socks5://user:hunter2@proxy.test'], 'list-hygiene: --proxy: The proxy URL needs a host and a port, e.g. socks5://proxy.example:1080.'],
		[['--concurrency', '0'], 'list-hygiene: --concurrency must be a whole number greater than 0, not "0".'],
		[['--smtp-port', '70000'], 'list-hygiene: --smtp-port must be between 1 and 65535, not 70000.'],
		[['--greylist-retry', 'later'], 'list-hygiene: --greylist-retry must be a whole number greater than 0, not "later".'],
	])('%j is a usage error that shows no password', async (args, message) => {
		const { code, stderr } = await cli(['verify', ...args], 'a@b.test\n');
		expect(code).toBe(2);
		expect(stderr).toBe(`${message}\n`);
		expect(stderr).not.toContain('hunter2');
	});
});

describe('the list-hygiene executable', () => {
	const bin = resolve(__dirname, '../../dist/src/cli/main.js');
	const run = (args: string[]) =>
		promisify(execFile)(process.execPath, [bin, ...args]).then(
			({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
			(error: { code: number; stdout: string; stderr: string }) => error,
		);

	it('verifies a file and exits 0', async () => {
		const path = file('bin.txt', 'ann@good.test\n');
		const { code, stdout } = await run(['verify', path, ...dnsFlags()]);
		expect(code).toBe(0);
		expect(JSON.parse(stdout)).toMatchObject({ email: 'ann@good.test', status: 'unknown', reason: 'smtp_not_checked' });
	});

	it.each([
		[['verify', '--nope'], 2],
		[['verify', '/no/such/file'], 1],
	])('%j exits %i with one line and no stack trace', async (args, exitCode) => {
		const { code, stderr } = await run(args);
		expect(code).toBe(exitCode);
		expect(stderr.trim().split('\n')).toHaveLength(1);
		expect(stderr).not.toMatch(/\n\s+at /);
	});

	it('prints its version and help', async () => {
		expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
		expect((await run(['verify', '--help'])).stdout).toContain('--dns-server HOST:PORT');
	});
});
