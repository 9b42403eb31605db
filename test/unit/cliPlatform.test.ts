// The platform commands of the CLI (lists, members, unsubscribe, delete) against the stateful fake
// Mailchimp on loopback, and their bad-input messages.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';

import { runCli } from '../../src/cli/run';
import { startFakeMailchimp, type FakeMailchimp } from '../fakes/mailchimp';

const dir = mkdtempSync(join(tmpdir(), 'list-hygiene-cli-platform-'));
// A random key per run: the tests prove it never shows in output.
const KEY = `${randomBytes(10).toString('hex')}-us9`;
const people = ['ann', 'bob', 'cat', 'dan'].map((name) => `${name}@example.test`);

let fake: FakeMailchimp;
let credentials: string;

beforeEach(async () => {
	fake = await startFakeMailchimp({
		apiKey: KEY,
		pollsToFinish: 0,
		audiences: [
			{
				id: 'aud1',
				name: 'Newsletter',
				members: people.map((email, i) => ({
					email_address: email,
					status: i === 2 ? ('unsubscribed' as const) : ('subscribed' as const),
					merge_fields: { FNAME: `First${i}` },
				})),
			},
			{ id: 'aud2', name: 'Customers', members: [{ email_address: people[0] }] },
		],
	});
	credentials = join(dir, 'mailchimp.json');
	writeFileSync(credentials, JSON.stringify({ apiKey: KEY, baseUrl: fake.url }));
});
afterEach(() => fake.close());

async function cli(args: string[], stdin = '') {
	const collect = () => {
		const stream = new PassThrough();
		let text = '';
		stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
		return { stream, text: () => text };
	};
	const out = collect();
	const err = collect();
	const code = await runCli(args, { stdin: Readable.from([Buffer.from(stdin)]), stdout: out.stream, stderr: err.stream });
	const lines = out.text().trim() === '' ? [] : out.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
	return { code, lines, stdout: out.text(), stderr: err.text() };
}

const base = () => ['--platform', 'mailchimp', '--credentials', credentials];

describe('list-hygiene platform commands', () => {
	it('lists the audiences with member counts', async () => {
		const { code, lines, stderr } = await cli(['lists', ...base()]);
		expect(code).toBe(0);
		expect(lines.map((l) => [l.id, l.name, l.memberCount, l.platform])).toEqual([
			['aud1', 'Newsletter', 3, 'mailchimp'],
			['aud2', 'Customers', 1, 'mailchimp'],
		]);
		expect(stderr).toMatch(/^list-hygiene: lists on Mailchimp: 1 requests\n$/);
	});

	it('prints members as member items, filtered by status', async () => {
		const { code, lines } = await cli(['members', ...base(), '--list', 'aud1', '--status', 'subscribed']);
		expect(code).toBe(0);
		expect(lines).toEqual(
			[0, 1, 3].map((i) => ({ email: people[i], contactId: expect.stringMatching(/^[0-9a-f]{32}$/), listId: 'aud1', platform: 'mailchimp', status: 'subscribed' })),
		);
	});

	it('unsubscribes the contacts piped from members, and a second run finds them already done', async () => {
		const members = (await cli(['members', ...base(), '--list', 'aud1', '--limit', '2'])).stdout;
		const first = await cli(['unsubscribe', ...base(), '--list', 'aud1'], members);
		expect(first.code).toBe(0);
		expect(first.lines.map((l) => [l.action, l.outcome, l.email ?? l.contactId])).toEqual([
			['unsubscribe', 'done', expect.any(String)],
			['unsubscribe', 'done', expect.any(String)],
		]);
		expect(first.stderr).toMatch(/unsubscribe on Mailchimp: 2 done, 0 already, 0 failed, 0 skipped/);
		const audience = fake.state.audiences.get('aud1')!;
		expect([...audience.members.values()].map((m) => [m.email_address, m.status, (m.merge_fields as { FNAME: string }).FNAME])).toEqual([
			[people[0], 'unsubscribed', 'First0'],
			[people[1], 'unsubscribed', 'First1'],
			[people[2], 'unsubscribed', 'First2'],
			[people[3], 'subscribed', 'First3'],
		]);

		const again = await cli(['unsubscribe', ...base(), '--list', 'aud1'], members);
		expect(again.lines.map((l) => l.outcome)).toEqual(['already', 'already']);
	});

	it('reads contacts for delete from a CSV file with an email column', async () => {
		const csv = join(dir, 'gone.csv');
		writeFileSync(csv, `name,email\nDan,${people[3]}\nNobody,nobody@example.test\n`);
		const { code, lines } = await cli(['delete', ...base(), '--list', 'aud1', csv]);
		expect(code).toBe(0);
		expect(lines.map((l) => l.outcome)).toEqual(['done', 'already']);
	});

	it('exits 1 and says why when the key is rejected, without showing it', async () => {
		writeFileSync(credentials, JSON.stringify({ apiKey: `wrong${KEY}`, baseUrl: fake.url }));
		const { code, stdout, stderr } = await cli(['lists', ...base()]);
		expect(code).toBe(1);
		expect(stdout).toBe('');
		expect(stderr).toMatch(/^list-hygiene: Mailchimp: read audiences failed with HTTP 401\. The API key is invalid or revoked/);
		expect(stderr).not.toContain(KEY);
	});

	describe('bad input', () => {
		it.each([
			[['lists', '--credentials', 'x.json'], 2, 'list-hygiene: lists needs --platform.'],
			[['lists', '--platform', 'mailchimp'], 2, 'list-hygiene: lists needs --credentials FILE.'],
			[['members', '--platform', 'mailchimp', '--credentials', 'x.json'], 2, 'list-hygiene: members needs --list ID'],
			[['lists', '--platform', 'aweber', '--credentials', 'x.json'], 2, 'list-hygiene: Unknown platform "aweber". Platforms: constantcontact, hubspot, mailchimp, sendgrid.'],
			[['lists', '--platform', 'mailchimp', '--credentials', '/no/such.json'], 1, 'list-hygiene: Cannot read the credentials file /no/such.json: no such file.'],
			[['members', '--platform', 'mailchimp', '--credentials', 'x.json', '--list', 'a', '--status', 'happy'], 2, 'list-hygiene: --status "happy" is not one of'],
		])('%j', async (args, exitCode, message) => {
			const { code, stderr } = await cli(args as string[]);
			expect(code).toBe(exitCode);
			expect(stderr.startsWith(message)).toBe(true);
		});

		it('refuses a credentials file that is not a JSON object', async () => {
			const bad = join(dir, 'bad.json');
			writeFileSync(bad, '["apiKey"]');
			const { code, stderr } = await cli(['lists', '--platform', 'mailchimp', '--credentials', bad]);
			expect(code).toBe(1);
			expect(stderr).toContain('must hold a JSON object');
		});

		it('names a contact line that has neither an ID nor an email, and writes nothing', async () => {
			const before = fake.requests.length;
			const { code, stderr } = await cli(['unsubscribe', ...base(), '--list', 'aud1'], '{"email":"ann@example.test"}\n{"name":"x"}\n');
			expect(code).toBe(1);
			expect(stderr).toBe('list-hygiene: stdin line 2 names no contact: it needs a contactId or an email.\n');
			expect(fake.requests.length).toBe(before);
		});
	});
});
