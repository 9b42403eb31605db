// `list-hygiene clean` end to end in-process: the fake Mailchimp's members, verified against DNS and
// SMTP servers on loopback, planned and cleaned.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';

import { runCli } from '../../src/cli/run';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsServer';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer';
import { startFakeMailchimp, type FakeMailchimp } from '../fakes/mailchimp';

const dir = mkdtempSync(join(tmpdir(), 'list-hygiene-clean-'));
const KEY = `${randomBytes(10).toString('hex')}-us9`;
// ann and bob exist, zed is unknown at the server, temp is disposable, gone.test has a null MX.
const emails = ['ann@ok.test', 'bob@ok.test', 'zed@ok.test', 'temp@mailinator.com', 'x@gone.test', 'cat@ok.test', 'dan@ok.test', 'eve@ok.test'];

let fake: FakeMailchimp;
let dns: TestDnsServer;
let smtp: TestSmtpServer;
let credentials: string;

beforeAll(async () => {
	smtp = await startSmtpServer({
		rcptReply: (to) => (['ann', 'bob', 'temp', 'cat', 'dan', 'eve'].includes(to.split('@')[0]) ? '250 2.1.5 Ok' : '550 5.1.1 User unknown'),
	});
	dns = await startDnsServer({
		'ok.test': { MX: [{ preference: 10, exchange: 'mx.ok.test' }] },
		'mailinator.com': { MX: [{ preference: 10, exchange: 'mx.ok.test' }] },
		'gone.test': { MX: [{ preference: 0, exchange: '.' }] },
		'mx.ok.test': { A: ['127.0.0.1'] },
	});
});
afterAll(async () => {
	await smtp.close();
	await dns.close();
});

beforeEach(async () => {
	fake = await startFakeMailchimp({
		apiKey: KEY,
		pollsToFinish: 0,
		audiences: [{ id: 'aud1', name: 'Newsletter', members: emails.map((email_address) => ({ email_address, status: 'subscribed' as const, merge_fields: { FNAME: 'x' } })) }],
	});
	credentials = join(dir, 'mc.json');
	writeFileSync(credentials, JSON.stringify({ apiKey: KEY, baseUrl: fake.url }));
});
afterEach(() => fake.close());

async function cli(args: string[], stdin = '') {
	const sink = () => {
		const stream = new PassThrough();
		let text = '';
		stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
		return { stream, text: () => text };
	};
	const out = sink();
	const err = sink();
	const code = await runCli(args, { stdin: Readable.from([Buffer.from(stdin)]), stdout: out.stream, stderr: err.stream });
	const lines = out.text().trim() === '' ? [] : out.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
	return { code, lines, stdout: out.text(), stderr: err.text() };
}

const base = () => [
	'clean', '--platform', 'mailchimp', '--credentials', credentials, '--list', 'aud1',
	'--dns-server', dns.address, '--smtp-port', String(smtp.port), '--allow-private-networks', '--max-share', '0.5',
];
const statuses = () => [...fake.state.audiences.get('aud1')!.members.values()].map((m) => [m.email_address, m.status]);

describe('list-hygiene clean', () => {
	it('prints the plan and writes nothing by default (Verify only)', async () => {
		const { code, lines, stderr } = await cli(base());
		expect(code).toBe(0);
		const plan = lines.map((l) => [l.email, (l.verification as { status: string }).status, (l.cleanup as { action: string; outcome: string }).outcome]);
		expect(plan).toEqual([
			['ann@ok.test', 'valid', 'skipped'],
			['bob@ok.test', 'valid', 'skipped'],
			['zed@ok.test', 'invalid', 'planned'],
			['temp@mailinator.com', 'disposable', 'planned'],
			['x@gone.test', 'invalid', 'planned'],
			['cat@ok.test', 'valid', 'skipped'],
			['dan@ok.test', 'valid', 'skipped'],
			['eve@ok.test', 'valid', 'skipped'],
		]);
		expect(stderr).toContain('"mode":"verify_only"');
		expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
	});

	it('cleans with --mode clean: exactly the invalid unsubscribed and the disposable archived', async () => {
		const { code, lines } = await cli([...base(), '--mode', 'clean']);
		expect(code).toBe(0);
		expect(lines.filter((l) => (l.cleanup as { outcome: string }).outcome === 'done').map((l) => l.email)).toEqual(['zed@ok.test', 'temp@mailinator.com', 'x@gone.test']);
		expect(statuses()).toEqual([
			['ann@ok.test', 'subscribed'],
			['bob@ok.test', 'subscribed'],
			['zed@ok.test', 'unsubscribed'],
			['temp@mailinator.com', 'archived'],
			['x@gone.test', 'unsubscribed'],
			['cat@ok.test', 'subscribed'],
			['dan@ok.test', 'subscribed'],
			['eve@ok.test', 'subscribed'],
		]);
	});

	it('refuses a plan over the max share and writes nothing', async () => {
		const args = base();
		args[args.indexOf('--max-share') + 1] = '0.2';
		const { code, stderr } = await cli([...args, '--mode', 'clean']);
		expect(code).toBe(1);
		expect(stderr).toMatch(/^list-hygiene: The plan would change 3 of 8 contacts \(37\.5%\), more than the 20% allowed per run\. Nothing was written\./);
		expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
	});

	it('takes verified items from stdin and rules from a file', async () => {
		const verified = (await cli(base())).lines.map(({ cleanup: _c, ...item }) => JSON.stringify(item)).join('\n');
		const rules = join(dir, 'rules.json');
		writeFileSync(rules, JSON.stringify({ categories: { invalid: { enabled: true, action: 'keep' }, disposable: { enabled: true, action: 'unsubscribe' } } }));
		const { code, lines } = await cli(['clean', '--platform', 'mailchimp', '--credentials', credentials, '--list', 'aud1', '--from-stdin', '--rules', rules, '--mode', 'clean', '--max-share', '0.5'], verified);
		expect(code).toBe(0);
		expect(lines.map((l) => (l.cleanup as { action: string }).action)).toEqual(['keep', 'keep', 'keep', 'unsubscribe', 'keep', 'keep', 'keep', 'keep']);
		expect(statuses().filter(([, s]) => s !== 'subscribed')).toEqual([['temp@mailinator.com', 'unsubscribed']]);
	});

	it.each([
		[['--mode', 'wipe'], 'list-hygiene: --mode must be verify-only or clean, not "wipe".'],
		[['--max-share', '20'], 'list-hygiene: --max-share must be a number from 0 to 1, not "20".'],
	])('%j is a usage error', async (extra, message) => {
		const { code, stderr } = await cli([...base(), ...extra]);
		expect(code).toBe(2);
		expect(stderr).toBe(`${message}\n`);
	});
});
