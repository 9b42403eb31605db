// Mailchimp new-member polling (newMembers, recentMembers) over the fetch transport: nock at the
// HTTP level for the request shape and every failure, the stateful fake server for the behaviour
// (filters, sorting, paging, a member added "now"), and every request of this file checked against
// Mailchimp's own description (../shared/specs/mailchimp/marketing_3.0.55.yaml), query values too.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import nock from 'nock';
import { parse as parseYaml } from 'yaml';

import { FetchTransport } from '../../src/http/fetchTransport';
import type { HttpRequest, HttpResponse, Transport } from '../../src/http/types';
import { createMailchimp, subscriberHash } from '../../src/platforms/mailchimp';
import { createApiClient } from '../../src/platforms/registry';
import type { CredentialFields } from '../../src/platforms/types';
import { conformanceProblems, describeConformance, RecordingTransport, SPECS_DIR, type SentRequest } from '../helpers/conformance';
import { startFakeMailchimp, type FakeMailchimp } from '../fakes/mailchimp';

const BASE = 'https://us6.api.mailchimp.com/3.0';
const KEY = `${randomBytes(16).toString('hex')}-us6`;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const PROBLEM_HEADERS = { 'content-type': 'application/problem+json; charset=utf-8' };
const PATH = '/lists/aud1/members';

const platform = createMailchimp();

const recorders: RecordingTransport[] = [];
function recording(credentials: CredentialFields = { apiKey: KEY }): RecordingTransport {
	const transport = new RecordingTransport(new FetchTransport(platform.cliAuth(credentials)));
	recorders.push(transport);
	return transport;
}

async function client(options: { transport?: Transport; credentials?: CredentialFields } = {}) {
	const sleeps: number[] = [];
	let now = 0;
	const api = await createApiClient(platform, options.credentials ?? { apiKey: KEY }, options.transport ?? recording(), {
		secrets: [KEY],
		timeoutMs: 2_000,
		random: () => 1,
		now: () => now,
		sleep: async (ms) => {
			sleeps.push(ms);
			now += ms;
		},
	});
	return { api, sleeps };
}

const problem = (status: number, title: string, detail: string) => ({ type: 'https://mailchimp.com/developer/marketing/docs/errors/', title, status, detail, instance: 'i-1' });
const emailOf = (i: number) => `user${i}@example.test`;
/** The fake's seed times: member i opted in at 2024-01-01 plus i minutes. */
const seedTime = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
const mailchimpTime = (iso: string) => iso.replace('.000Z', '+00:00');
function raw(i: number, opt = seedTime(i)) {
	return { id: subscriberHash(emailOf(i)), email_address: emailOf(i), status: 'subscribed', timestamp_signup: '', timestamp_opt: mailchimpTime(opt), last_changed: mailchimpTime(opt), list_id: 'aud1' };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('Mailchimp newMembers: the request (nock)', () => {
	it('polls an idle audience in exactly one request: opted in since a second before `since`, newest first, 1,000 a page', async () => {
		let query: Record<string, string> = {};
		nock(BASE)
			.get(PATH)
			.query((q) => {
				query = q as Record<string, string>;
				return true;
			})
			.reply(200, { members: [], total_items: 0 }, JSON_HEADERS);
		const { api } = await client();
		await expect(platform.newMembers(api, 'aud1', { since: '2024-05-01T12:00:00.250Z' })).resolves.toEqual({ members: [] });
		expect(api.requests).toBe(1);
		expect(query).toMatchObject({ since_timestamp_opt: '2024-05-01T11:59:59+00:00', sort_field: 'timestamp_opt', sort_dir: 'DESC', count: '1000', offset: '0' });
		// The same fields as a members() read: the same raw record comes out.
		expect(query.fields.split(',')).toEqual(expect.arrayContaining(['members.id', 'members.email_address', 'members.status', 'members.timestamp_opt', 'members.timestamp_signup', 'total_items']));
		expect(query.fields).not.toContain('_links');
	});

	it('returns members as members() does, plus joinedAt (the opt-in time, else the sign-up time), oldest first', async () => {
		const pending = { ...raw(3), status: 'pending', timestamp_opt: '', timestamp_signup: '2024-05-01T12:00:07+00:00' };
		nock(BASE)
			.get(PATH)
			.query(true)
			.reply(200, { members: [pending, raw(2, '2024-05-01T12:00:05.000Z'), raw(1, '2024-05-01T12:00:00.000Z')], total_items: 3 }, JSON_HEADERS);
		const { api } = await client();
		const { members, cursor } = await platform.newMembers(api, 'aud1', { since: '2024-05-01T12:00:00Z' });
		expect(cursor).toBeUndefined();
		expect(members).toEqual([
			{ email: emailOf(1), contactId: subscriberHash(emailOf(1)), listId: 'aud1', platform: 'mailchimp', status: 'subscribed', joinedAt: '2024-05-01T12:00:00.000Z', raw: raw(1, '2024-05-01T12:00:00.000Z') },
			{ email: emailOf(2), contactId: subscriberHash(emailOf(2)), listId: 'aud1', platform: 'mailchimp', status: 'subscribed', joinedAt: '2024-05-01T12:00:05.000Z', raw: raw(2, '2024-05-01T12:00:05.000Z') },
			{ email: emailOf(3), contactId: subscriberHash(emailOf(3)), listId: 'aud1', platform: 'mailchimp', status: 'pending', joinedAt: '2024-05-01T12:00:07.000Z', raw: pending },
		]);
	});

	it('reads every page of a burst by offset and drops a member a shift showed twice', async () => {
		const offsets: string[] = [];
		const page = (from: number, length: number) => Array.from({ length }, (_, i) => raw(from - i, seedTime(from - i)));
		nock(BASE)
			.get(PATH)
			.query((q) => (offsets.push(String(q.offset)), q.offset === '0'))
			.reply(200, { members: page(1499, 1000), total_items: 1500 }, JSON_HEADERS);
		// A sign-up meanwhile pushed everything one place down: member 500 comes again at the top.
		nock(BASE)
			.get(PATH)
			.query((q) => (offsets.push(String(q.offset)), q.offset === '1000'))
			.reply(200, { members: page(500, 501), total_items: 1501 }, JSON_HEADERS);
		const { api } = await client();
		const { members } = await platform.newMembers(api, 'aud1', { since: '2024-01-01T00:00:00Z' });
		expect(offsets).toEqual(['0', '1000']);
		expect(api.requests).toBe(2);
		expect(members.map((m) => m.email)).toEqual(Array.from({ length: 1500 }, (_, i) => emailOf(i)));
	});

	it('asks from the epoch at the earliest (the first poll of "include existing members")', async () => {
		let since = '';
		nock(BASE)
			.get(PATH)
			.query((q) => ((since = String(q.since_timestamp_opt)), true))
			.reply(200, { members: [], total_items: 0 }, JSON_HEADERS);
		const { api } = await client();
		await platform.newMembers(api, 'aud1', { since: new Date(0).toISOString() });
		expect(since).toBe('1970-01-01T00:00:00+00:00');
	});

	it('refuses a start that is not a time, before any request', async () => {
		const { api } = await client();
		await expect(platform.newMembers(api, 'aud1', { since: 'yesterday' })).rejects.toThrow(
			'Mailchimp: “yesterday” is not an ISO 8601 time (such as 2024-05-01T12:00:00Z) to read new members from.',
		);
		expect(api.requests).toBe(0);
	});
});

describe('Mailchimp newMembers and recentMembers: failures (nock)', () => {
	const poll = async () => {
		const { api, sleeps } = await client();
		const result = platform.newMembers(api, 'aud1', { since: '2024-05-01T12:00:00Z' });
		return { api, sleeps, result };
	};

	it('explains a rejected key (401) without showing it', async () => {
		nock(BASE).get(PATH).query(true).reply(401, problem(401, 'API Key Invalid', 'Your API key may be invalid, or you’ve attempted to access the wrong datacenter.'), PROBLEM_HEADERS);
		const { result } = await poll();
		const error = (await result.catch((e: unknown) => e)) as Error;
		expect(error.message).toMatch(/^Mailchimp: read new members failed with HTTP 401\. The API key is invalid or revoked/);
		expect(error.message).not.toContain(KEY);
	});

	it('explains a 403 (the user’s role)', async () => {
		nock(BASE).get(PATH).query(true).reply(403, problem(403, 'Forbidden', 'You don’t have permission to access this resource.'), PROBLEM_HEADERS);
		await expect((await poll()).result).rejects.toThrow(/read new members failed with HTTP 403\. This Mailchimp user has no access to it/);
	});

	it('says the audience is gone on a 404, for a poll and for the sample', async () => {
		nock(BASE).get('/lists/gone/members').query(true).times(2).reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), PROBLEM_HEADERS);
		const { api } = await client();
		await expect(platform.newMembers(api, 'gone', { since: '2024-05-01T12:00:00Z' })).rejects.toThrow(
			'Mailchimp: read new members failed with HTTP 404. Mailchimp has no such audience (deleted, or in another account): pick the audience again',
		);
		await expect(platform.recentMembers(api, 'gone', 5)).rejects.toThrow(/read recent members failed with HTTP 404\. Mailchimp has no such audience/);
	});

	it('waits as a 429’s Retry-After says, then polls', async () => {
		nock(BASE)
			.get(PATH)
			.query(true)
			.reply(429, problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.'), { ...PROBLEM_HEADERS, 'retry-after': '2' })
			.get(PATH)
			.query(true)
			.reply(200, { members: [raw(1, '2024-05-01T12:00:01.000Z')], total_items: 1 }, JSON_HEADERS);
		const { api, sleeps, result } = await poll();
		await expect(result).resolves.toMatchObject({ members: [{ email: emailOf(1) }] });
		expect(sleeps).toEqual([2000]);
		expect(api.requests).toBe(2);
	});

	it('gives up on a lasting 429 with Mailchimp’s advice', async () => {
		nock(BASE).get(PATH).query(true).times(5).reply(429, problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.'), PROBLEM_HEADERS);
		await expect((await poll()).result).rejects.toThrow(/HTTP 429\. Mailchimp allows 10 simultaneous connections per API key/);
	});

	it('retries a 5xx, and reports a lasting one', async () => {
		nock(BASE).get(PATH).query(true).reply(503, 'upstream', { 'content-type': 'text/html' }).get(PATH).query(true).reply(200, { members: [], total_items: 0 }, JSON_HEADERS);
		const first = await poll();
		await expect(first.result).resolves.toEqual({ members: [] });
		expect(first.api.requests).toBe(2);

		nock(BASE).get(PATH).query(true).times(5).reply(500, problem(500, 'Internal Server Error', 'An unexpected internal error has occurred.'), PROBLEM_HEADERS);
		await expect((await poll()).result).rejects.toThrow(/^Mailchimp: read new members failed with HTTP 500/);
	});

	it('reports malformed bodies as a clear error', async () => {
		nock(BASE).get(PATH).query(true).reply(200, '<html>maintenance</html>', { 'content-type': 'text/html' });
		await expect((await poll()).result).rejects.toThrow('Mailchimp: read new members returned an unexpected response (no "members" array).');
		nock(BASE).get(PATH).query(true).reply(200, { members: [{ email_address: emailOf(1) }], total_items: 1 }, JSON_HEADERS);
		await expect((await poll()).result).rejects.toThrow('Mailchimp: read new members returned an unexpected response (a member without an id or email address).');
	});

	it('asks for the sample in one request, newest first, and refuses a limit that is not a count', async () => {
		let query: Record<string, string> = {};
		nock(BASE)
			.get(PATH)
			.query((q) => ((query = q as Record<string, string>), true))
			.reply(200, { members: [raw(2), raw(1)], total_items: 900 }, JSON_HEADERS);
		const { api } = await client();
		const sample = await platform.recentMembers(api, 'aud1', 5000);
		expect(api.requests).toBe(1);
		// A page holds 1,000 at most: the sample is one page however many were asked for.
		expect(query).toMatchObject({ sort_field: 'timestamp_opt', sort_dir: 'DESC', count: '1000', offset: '0' });
		expect(query.since_timestamp_opt).toBeUndefined();
		expect(sample.map((m) => [m.email, m.joinedAt])).toEqual([
			[emailOf(2), seedTime(2)],
			[emailOf(1), seedTime(1)],
		]);
		for (const bad of [0, -1, 2.5, Number.NaN]) {
			await expect(platform.recentMembers(api, 'aud1', bad)).rejects.toThrow(`Mailchimp: the number of recent members must be a whole number of at least 1, not ${bad}.`);
		}
		expect(api.requests).toBe(1);
	});
});

describe('Mailchimp newMembers and recentMembers against the fake server', () => {
	let fake: FakeMailchimp;
	const credentials = () => ({ apiKey: KEY, baseUrl: fake.url });
	const memberReads = () => fake.requests.filter((r) => r.method === 'GET' && /\/members$/.test(r.path)).length;

	async function start(count: number) {
		fake = await startFakeMailchimp({
			apiKey: KEY,
			audiences: [
				{ id: 'aud1', name: 'Newsletter', members: Array.from({ length: count }, (_, i) => ({ email_address: emailOf(i), status: i % 7 === 3 ? ('unsubscribed' as const) : ('subscribed' as const) })) },
				{ id: 'aud2', name: 'Other', members: [] },
			],
		});
	}

	/** Adds a member through the fake's POST /lists/{list_id}/members, recorded for conformance unless it is meant to be refused. */
	async function add(email: string, options: { listId?: string; extra?: Record<string, unknown>; refused?: boolean } = {}): Promise<HttpResponse> {
		const transport = options.refused ? new FetchTransport(platform.cliAuth({ apiKey: KEY })) : recording();
		const request: HttpRequest = { method: 'POST', url: `${fake.url}/lists/${options.listId ?? 'aud1'}/members`, body: { email_address: email, status: 'subscribed', ...options.extra } };
		return transport.request(request);
	}

	beforeEach(() => nock.enableNetConnect(/^127\.0\.0\.1(:\d+)?$/));
	afterEach(async () => {
		nock.disableNetConnect();
		await fake.close();
	});

	it('returns who opted in at or after `since` (the member at that very second included), nobody earlier, oldest first, same records as members()', async () => {
		await start(10);
		const { api } = await client({ credentials: credentials() });
		const { members } = await platform.newMembers(api, 'aud1', { since: seedTime(4) });
		expect(members.map((m) => m.email)).toEqual([4, 5, 6, 7, 8, 9].map(emailOf));
		expect(members.map((m) => m.joinedAt)).toEqual([4, 5, 6, 7, 8, 9].map(seedTime));
		expect(api.requests).toBe(1);

		const everyone = [];
		for await (const page of platform.members(api, 'aud1', {})) everyone.push(...page);
		for (const member of members) {
			const { joinedAt, ...rest } = member;
			expect(joinedAt).toBeDefined();
			expect(everyone).toContainEqual(rest);
		}
	});

	it('costs one request when nobody is new, and sees a member added now in the next poll, then not again', async () => {
		await start(5);
		const { api } = await client({ credentials: credentials() });
		const since = new Date().toISOString();
		await expect(platform.newMembers(api, 'aud1', { since })).resolves.toEqual({ members: [] });
		expect(memberReads()).toBe(1);

		const added = await add('new.person@example.test');
		expect(added.status).toBe(200);
		const { members } = await platform.newMembers(api, 'aud1', { since });
		expect(members).toHaveLength(1);
		const [member] = members;
		expect(member).toMatchObject({ email: 'new.person@example.test', contactId: subscriberHash('new.person@example.test'), status: 'subscribed', listId: 'aud1', raw: { list_id: 'aud1', status: 'subscribed' } });
		expect(Date.parse(member.joinedAt!)).toBeGreaterThanOrEqual(Date.parse(since) - 1000);
		expect(Date.parse(member.joinedAt!)).toBeLessThanOrEqual(Date.now());

		// The next poll starts at the newest join time: the member may come again (the caller drops
		// it), nobody else does; a start after it is idle.
		await expect(platform.newMembers(api, 'aud1', { since: member.joinedAt! })).resolves.toMatchObject({ members: [{ contactId: member.contactId }] });
		await expect(platform.newMembers(api, 'aud1', { since: new Date(Date.parse(member.joinedAt!) + 1000).toISOString() })).resolves.toEqual({ members: [] });
		expect(memberReads()).toBe(4);
		// Only the list asked: the other audience did not gain the member.
		await expect(platform.newMembers(api, 'aud2', { since })).resolves.toEqual({ members: [] });
	});

	it('pages through 10,000 existing members in 10 requests of 1,000, each member once, oldest first', async () => {
		await start(10_000);
		const { api } = await client({ credentials: credentials() });
		const { members } = await platform.newMembers(api, 'aud1', { since: new Date(0).toISOString() });
		expect(api.requests).toBe(10);
		expect(fake.requests.filter((r) => /\/members$/.test(r.path)).map((r) => r.query.count)).toEqual(Array<string>(10).fill('1000'));
		expect(members).toHaveLength(10_000);
		expect(new Set(members.map((m) => m.contactId)).size).toBe(10_000);
		expect(members.map((m) => m.email)).toEqual(Array.from({ length: 10_000 }, (_, i) => emailOf(i)));
		expect(members.filter((m) => m.status === 'unsubscribed')).toHaveLength(1429);
	});

	it('loses nobody when members sign up while the pages are read', async () => {
		await start(2_500);
		// Two sign-ups arrive after the first page was read.
		let pages = 0;
		const recorded = recording();
		const transport: Transport = {
			request: async (request) => {
				const response = await recorded.request(request);
				if (request.method === 'GET' && ++pages === 1) for (const email of ['late1@example.test', 'late2@example.test']) expect((await add(email)).status).toBe(200);
				return response;
			},
		};
		const { api } = await client({ credentials: credentials(), transport });
		const { members } = await platform.newMembers(api, 'aud1', { since: new Date(0).toISOString() });
		const emails = members.map((m) => m.email);
		expect(new Set(emails).size).toBe(emails.length);
		expect(emails.slice(0, 2_500)).toEqual(Array.from({ length: 2_500 }, (_, i) => emailOf(i)));
		// The late ones are the newest: a next poll from the newest join time seen has them.
		const newest = members[members.length - 1].joinedAt!;
		const next = await platform.newMembers(api, 'aud1', { since: newest });
		expect(next.members.map((m) => m.email)).toEqual(expect.arrayContaining(['late1@example.test', 'late2@example.test']));
	});

	it('gives the newest members first, at most `limit`, in one request', async () => {
		await start(30);
		const { api } = await client({ credentials: credentials() });
		await add('newest@example.test');
		const sample = await platform.recentMembers(api, 'aud1', 3);
		expect(api.requests).toBe(1);
		expect(sample.map((m) => m.email)).toEqual(['newest@example.test', emailOf(29), emailOf(28)]);
		expect(sample[1]).toMatchObject({ joinedAt: seedTime(29), status: 'subscribed', listId: 'aud1', platform: 'mailchimp' });
		await expect(platform.recentMembers(api, 'aud2', 3)).resolves.toEqual([]);
	});

	it('says a missing audience is gone, and a rejected key is rejected', async () => {
		await start(1);
		const { api } = await client({ credentials: credentials() });
		await expect(platform.newMembers(api, 'nope', { since: seedTime(0) })).rejects.toThrow(/HTTP 404\. Mailchimp has no such audience/);
		const wrong = await client({ credentials: { apiKey: 'wrong-us0', baseUrl: fake.url }, transport: recording({ apiKey: 'wrong-us0' }) });
		await expect(platform.newMembers(wrong.api, 'aud1', { since: seedTime(0) })).rejects.toThrow(/HTTP 401\. The API key is invalid or revoked/);
	});

	it('adds a member at most once: "Member Exists" for one already there, an archived one comes back', async () => {
		await start(2);
		const again = await add(emailOf(1));
		expect(again).toMatchObject({ status: 400, body: { title: 'Member Exists', detail: `${emailOf(1)} is already a list member. Use PUT to insert or update list members.` } });
		await expect(add('no-at-sign', { refused: true })).resolves.toMatchObject({ status: 400, body: { title: 'Invalid Resource' } });
		await expect(add('x@example.test', { extra: { status: 'archived' }, refused: true })).resolves.toMatchObject({ status: 400, body: { detail: expect.stringMatching(/^status: must be one of/) } });
		await expect(add('x@example.test', { listId: 'missing', refused: true })).resolves.toMatchObject({ status: 404 });

		fake.state.audiences.get('aud1')!.members.get(subscriberHash(emailOf(0)))!.status = 'archived';
		const since = new Date().toISOString();
		await expect(add(emailOf(0))).resolves.toMatchObject({ status: 200, body: { status: 'subscribed' } });
		const { api } = await client({ credentials: credentials() });
		await expect(platform.newMembers(api, 'aud1', { since })).resolves.toMatchObject({ members: [{ email: emailOf(0) }] });
	});

	it('filters and sorts as Mailchimp documents, and refuses what it does not take', async () => {
		await start(5);
		const recorded = recording();
		// The refused reads are not recorded: they are meant not to conform.
		const unrecorded = new FetchTransport(platform.cliAuth({ apiKey: KEY }));
		const read = async (query: Record<string, string>, transport: Transport = recorded) => transport.request({ method: 'GET', url: `${fake.url}${PATH}`, query });
		const emails = (response: HttpResponse) => (response.body as { members: Array<{ email_address: string }> }).members.map((m) => m.email_address);
		// "after" and "before": strict, so the instant itself is out.
		expect(emails(await read({ since_timestamp_opt: mailchimpTime(seedTime(2)) }))).toEqual([3, 4].map(emailOf));
		expect(emails(await read({ before_timestamp_opt: mailchimpTime(seedTime(2)), sort_field: 'timestamp_opt', sort_dir: 'DESC' }))).toEqual([1, 0].map(emailOf));
		expect(emails(await read({ since_last_changed: mailchimpTime(seedTime(3)) }))).toEqual([emailOf(4)]);
		expect(emails(await read({ sort_field: 'timestamp_signup', sort_dir: 'DESC', count: '2', offset: '1' }))).toEqual([3, 2].map(emailOf));
		await expect(read({ sort_field: 'email_address' }, unrecorded)).resolves.toMatchObject({ status: 400 });
		await expect(read({ sort_dir: 'down' }, unrecorded)).resolves.toMatchObject({ status: 400 });
		await expect(read({ since_timestamp_opt: 'last week' }, unrecorded)).resolves.toMatchObject({ status: 400 });
	});
});

/** Query parameters of the spec's operation and the values they allow, read from the description. */
function queryParameterProblems(requests: readonly SentRequest[]): string[] {
	const doc = parseYaml(readFileSync(resolve(SPECS_DIR, 'mailchimp/marketing_3.0.55.yaml'), 'utf8'), { maxAliasCount: -1 }) as {
		paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema?: { enum?: string[]; type?: string; maximum?: number } }> }>>;
	};
	const problems: string[] = [];
	for (const request of requests) {
		const documented = doc.paths['/lists/{list_id}/members'][request.method.toLowerCase()]?.parameters?.filter((p) => p.in === 'query') ?? [];
		for (const [name, value] of Object.entries(request.query)) {
			const parameter = documented.find((p) => p.name === name);
			const schema = parameter?.schema;
			if (!parameter) problems.push(`${request.method} ${name}: not a parameter of this operation`);
			else if (schema?.enum && !schema.enum.includes(String(value))) problems.push(`${name}=${String(value)}: not one of ${schema.enum.join(', ')}`);
			else if (schema?.type === 'integer' && (!/^\d+$/.test(String(value)) || (schema.maximum !== undefined && Number(value) > schema.maximum))) problems.push(`${name}=${String(value)}: not an integer within ${schema.maximum}`);
			// The description's format for these times: "2015-10-21T15:41:36+00:00".
			else if (/^(since|before)_/.test(name) && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/.test(String(value))) problems.push(`${name}=${String(value)}: not in the documented time format`);
		}
	}
	return problems;
}

describeConformance('Mailchimp new members: every request of this suite conforms to marketing_3.0.55.yaml', ['mailchimp/marketing_3.0.55.yaml'], (specs) => {
	it('checks all recorded requests, the query values of the member reads included', () => {
		const sent = recorders.flatMap((r) => r.sent);
		const kinds = new Set(sent.map((r) => `${r.method} ${new URL(r.url).pathname.replace(/^\/3\.0/, '').replace(/\/lists\/[^/]+/, '/lists/{id}')}`));
		expect([...kinds].sort()).toEqual(['GET /lists/{id}/members', 'POST /lists/{id}/members']);
		// The polls and the samples are among them.
		expect(sent.filter((r) => r.query.since_timestamp_opt !== undefined && r.query.fields !== undefined).length).toBeGreaterThan(10);
		expect(sent.filter((r) => r.query.sort_dir === 'DESC' && r.query.since_timestamp_opt === undefined).length).toBeGreaterThan(1);
		expect(conformanceProblems(specs(), sent)).toEqual([]);
		expect(queryParameterProblems(sent.filter((r) => r.method === 'GET'))).toEqual([]);
		// The checker itself catches a wrong value.
		expect(queryParameterProblems([{ method: 'GET', url: `${BASE}${PATH}`, query: { sort_field: 'created', since_timestamp_opt: '2024-01-01T00:00:00.000Z' }, body: undefined }])).toHaveLength(2);
	});
});
