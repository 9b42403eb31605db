// Constant Contact new-member polling (newMembers, recentMembers) over the fetch transport: nock at
// the HTTP level for the request shape and every failure, the stateful fake for the behaviour (the
// updated_after filter, Constant Contact's next links, a contact signing up "now", an existing
// contact added to a list), and every request of this file checked against v3_swagger.yml, the
// query values of the contact reads too.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import nock from 'nock';
import { parse as parseYaml } from 'yaml';

import { collect } from '../../src/http/paginate';
import { FetchTransport } from '../../src/http/fetchTransport';
import type { HttpResponse, Transport } from '../../src/http/types';
import { constantcontact } from '../../src/platforms/constantcontact';
import { createApiClient } from '../../src/platforms/registry';
import { FAKE_CC_LIST_IDS, startFakeConstantContact, type FakeCcContact, type FakeConstantContact } from '../fakes/constantcontact';
import { conformanceProblems, describeConformance, RecordingTransport, SPECS_DIR, type SentRequest } from '../helpers/conformance';

const ORIGIN = 'https://api.cc.email';
const TOKEN = `cc-${randomBytes(12).toString('hex')}`;
const JSON_HEADERS = { 'content-type': 'application/json' };
const LIST = '9a1f0c2e-4b5d-4e6f-8a7b-0c1d2e3f4a5b';
const DAY = 86_400_000;

const platform = constantcontact;
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const at = (minutes: number) => new Date(Date.UTC(2024, 2, 1, 10) + minutes * 60_000).toISOString();

const recorders: RecordingTransport[] = [];
function recording(token = TOKEN): RecordingTransport {
	const recorder = new RecordingTransport(new FetchTransport({ authorization: `Bearer ${token}` }, 5_000));
	recorders.push(recorder);
	return recorder;
}

async function client(credentials: Record<string, unknown> = {}, transport: Transport = recording()) {
	let now = 0;
	const sleeps: number[] = [];
	const api = await createApiClient(platform, credentials, transport, {
		secrets: [TOKEN],
		sleep: async (ms) => {
			sleeps.push(ms);
			now += ms;
		},
		now: () => now,
		random: () => 1,
	});
	return { api, sleeps };
}

/** A contact as GET /contacts returns it, updated `minutes` after 2024-03-01T10:00Z. */
function contact(n: number, minutes: number, extra: Record<string, unknown> = {}) {
	return {
		contact_id: uuid(n),
		email_address: { address: `person${n}@example.com`, permission_to_send: 'implicit', created_at: '2023-01-01T00:00:00Z', opt_in_source: 'Account' },
		first_name: `First${n}`,
		create_source: 'Account',
		created_at: '2023-01-01T00:00:00Z',
		updated_at: at(minutes),
		...extra,
	};
}
const page = (contacts: unknown[], next?: string) => ({ contacts, ...(next ? { _links: { next: { href: next } } } : {}) });
const ccError = (key: string, message: string) => [{ error_key: key, error_message: message }];

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('Constant Contact newMembers: the request (nock)', () => {
	it('polls an idle list in exactly one request: the list’s contacts updated since a second before `since`, 500 a page', async () => {
		let query: Record<string, string> = {};
		nock(ORIGIN)
			.get('/v3/contacts')
			.query((q) => ((query = q as Record<string, string>), true))
			.reply(200, page([]), JSON_HEADERS);
		const { api } = await client();
		await expect(platform.newMembers!(api, LIST, { since: '2024-05-01T12:00:00.250Z' })).resolves.toEqual({ members: [] });
		expect(api.requests).toBe(1);
		expect(query).toEqual({ lists: LIST, limit: '500', updated_after: '2024-05-01T11:59:59.250Z' });
	});

	it('returns members as members() does, plus joinedAt (the last update), oldest first whatever Constant Contact’s order', async () => {
		const contacts = [contact(1, 30), contact(2, 10), contact(3, 20, { email_address: { address: 'p3@example.com', permission_to_send: 'pending_confirmation' } })];
		nock(ORIGIN).get('/v3/contacts').query(true).times(2).reply(200, page(contacts), JSON_HEADERS);
		const { api } = await client();
		const { members, cursor } = await platform.newMembers!(api, LIST, { since: at(0) });
		expect(cursor).toBeUndefined();
		const plain = await collect(platform.members(api, LIST, {}));
		expect(members.map((m) => m.contactId)).toEqual([uuid(2), uuid(3), uuid(1)]);
		for (const member of members) {
			const { joinedAt, ...rest } = member;
			expect(rest).toEqual(plain.find((p) => p.contactId === member.contactId));
			expect(joinedAt).toBe((member.raw as { updated_at: string }).updated_at);
		}
		expect(members[1]).toMatchObject({ email: 'p3@example.com', status: 'pending', listId: LIST, platform: 'constantcontact' });
	});

	it('follows Constant Contact’s next links through a burst of 1,020 members, 3 requests', async () => {
		const all = Array.from({ length: 1020 }, (_, i) => contact(i + 1, 1020 - i));
		const paths: string[] = [];
		nock(ORIGIN)
			.get('/v3/contacts')
			.query((q) => (paths.push(JSON.stringify(q)), q.lists === LIST))
			.reply(200, page(all.slice(0, 500), '/v3/contacts?cursor=bGltaXQ9NTAwJm5leHQ9Mg'))
			.get('/v3/contacts')
			.query((q) => (paths.push(JSON.stringify(q)), q.cursor === 'bGltaXQ9NTAwJm5leHQ9Mg'))
			.reply(200, page(all.slice(500, 1000), '/v3/contacts?cursor=bGltaXQ9NTAwJm5leHQ9Mw'))
			.get('/v3/contacts')
			.query((q) => (paths.push(JSON.stringify(q)), q.cursor === 'bGltaXQ9NTAwJm5leHQ9Mw'))
			.reply(200, page(all.slice(1000)));
		const { api } = await client();
		const { members } = await platform.newMembers!(api, LIST, { since: at(0) });
		expect(api.requests).toBe(3);
		expect(paths.slice(1)).toEqual(['{"cursor":"bGltaXQ9NTAwJm5leHQ9Mg"}', '{"cursor":"bGltaXQ9NTAwJm5leHQ9Mw"}']);
		expect(members).toHaveLength(1020);
		expect(members[0].contactId).toBe(uuid(1020));
		expect(members[1019].contactId).toBe(uuid(1));
	});

	it('refuses a start that is not a time and a list ID that is not one, before any request', async () => {
		const { api } = await client();
		await expect(platform.newMembers!(api, LIST, { since: 'soon' })).rejects.toThrow(
			'Constant Contact: “soon” is not an ISO 8601 time (such as 2024-05-01T12:00:00Z) to read new members from.',
		);
		await expect(platform.newMembers!(api, `${LIST},other`, { since: at(0) })).rejects.toThrow(`Constant Contact: “${LIST},other” is not a list ID: pick the list again.`);
		await expect(platform.recentMembers!(api, '', 3)).rejects.toThrow('is not a list ID');
		expect(api.requests).toBe(0);
	});
});

describe('Constant Contact newMembers and recentMembers: failures (nock)', () => {
	const poll = async () => {
		const { api, sleeps } = await client();
		return { api, sleeps, result: platform.newMembers!(api, LIST, { since: at(0) }) };
	};

	it('asks to reconnect on a 401, without the token', async () => {
		nock(ORIGIN).get('/v3/contacts').query(true).reply(401, { error_key: 'unauthorized', error_message: 'Unauthorized' }, JSON_HEADERS);
		const error = (await (await poll()).result.catch((e: unknown) => e)) as Error;
		expect(error.message).toBe('Constant Contact: read new list members failed with HTTP 401. The access token was rejected or has expired: reconnect the Constant Contact credential.');
		expect(error.message).not.toContain(TOKEN);
	});

	it('advises the missing scope or privilege on a 403', async () => {
		nock(ORIGIN).get('/v3/contacts').query(true).reply(403, ccError('unauthorized', 'Forbidden request. You lack the necessary scopes.'), JSON_HEADERS);
		await expect((await poll()).result).rejects.toThrow('The connection lacks the contact_data scope: reconnect the Constant Contact credential');
		nock(ORIGIN).get('/v3/contacts').query(true).reply(403, ccError('unauthorized', 'Forbidden request. You lack the necessary user privileges.'), JSON_HEADERS);
		await expect((await poll()).result).rejects.toThrow('may not read contacts (it needs the contact_data scope and the contacts:read privilege)');
	});

	it('says the list is gone on a 404, for a poll and for the sample', async () => {
		nock(ORIGIN).get('/v3/contacts').query(true).times(2).reply(404, ccError('contacts.api.not_found', 'The requested list was not found.'), JSON_HEADERS);
		const { api } = await client();
		await expect(platform.newMembers!(api, LIST, { since: at(0) })).rejects.toThrow(
			'Constant Contact: read new list members failed with HTTP 404. The list no longer exists in Constant Contact: pick the list again.',
		);
		await expect(platform.recentMembers!(api, LIST, 3)).rejects.toThrow('read recent list members failed with HTTP 404. The list no longer exists in Constant Contact');
	});

	it('waits as a 429’s Retry-After says, and stops at once on the daily quota', async () => {
		nock(ORIGIN)
			.get('/v3/contacts')
			.query(true)
			.reply(429, ccError('throttled', 'Too Many Requests'), { ...JSON_HEADERS, 'retry-after': '3' })
			.get('/v3/contacts')
			.query(true)
			.reply(200, page([contact(1, 5)]), JSON_HEADERS);
		const first = await poll();
		await expect(first.result).resolves.toMatchObject({ members: [{ contactId: uuid(1) }] });
		expect(first.sleeps).toEqual([3000]);

		nock(ORIGIN).get('/v3/contacts').query(true).reply(429, ccError('quota_exceeded', 'Limit Exceeded'), JSON_HEADERS);
		const second = await poll();
		await expect(second.result).rejects.toThrow(/daily limit of 10,000 requests for this app is used up; it resets at midnight UTC/);
		expect(second.api.requests).toBe(1);
	});

	it('retries a 5xx, and reports a lasting one', async () => {
		nock(ORIGIN).get('/v3/contacts').query(true).reply(502, 'Bad Gateway', { 'content-type': 'text/html' }).get('/v3/contacts').query(true).reply(200, page([]), JSON_HEADERS);
		const first = await poll();
		await expect(first.result).resolves.toEqual({ members: [] });
		expect(first.api.requests).toBe(2);

		nock(ORIGIN).get('/v3/contacts').query(true).times(5).reply(500, ccError('server_error', 'There was a problem with our internal service.'), JSON_HEADERS);
		await expect((await poll()).result).rejects.toThrow(/^Constant Contact: read new list members failed with HTTP 500/);
	});

	it('reports a malformed body as a clear error', async () => {
		nock(ORIGIN).get('/v3/contacts').query(true).reply(200, { results: [] }, JSON_HEADERS);
		await expect((await poll()).result).rejects.toThrow('Constant Contact: read new list members returned an unexpected response (no "contacts" array).');
		nock(ORIGIN).get('/v3/contacts').query(true).reply(200, 'Service Unavailable', { 'content-type': 'text/plain' });
		await expect((await poll()).result).rejects.toThrow('(no "contacts" array)');
	});
});

describe('Constant Contact recentMembers (nock)', () => {
	const windowDays = (query: Record<string, string>, now: number) => (query.updated_after ? Math.round((now - Date.parse(query.updated_after)) / DAY) : 'all');

	it('takes one request when the last day holds enough members: newest first, at most `limit`', async () => {
		const queries: Array<Record<string, string>> = [];
		nock(ORIGIN)
			.get('/v3/contacts')
			.query((q) => (queries.push(q as Record<string, string>), true))
			.reply(200, page([contact(1, 1), contact(2, 3), contact(3, 2), contact(4, 0)]), JSON_HEADERS);
		const { api } = await client();
		const now = Date.now();
		const sample = await platform.recentMembers!(api, LIST, 2);
		expect(api.requests).toBe(1);
		expect(queries.map((q) => windowDays(q, now))).toEqual([1]);
		expect(sample.map((m) => [m.contactId, m.joinedAt])).toEqual([
			[uuid(2), at(3)],
			[uuid(3), at(2)],
		]);
	});

	it('widens the window to 30 days, a year, then the whole list until it has enough', async () => {
		const queries: Array<Record<string, string>> = [];
		const record = (q: object) => (queries.push(q as Record<string, string>), true);
		nock(ORIGIN)
			.get('/v3/contacts')
			.query(record)
			.reply(200, page([]))
			.get('/v3/contacts')
			.query(record)
			.reply(200, page([contact(1, 0)]))
			.get('/v3/contacts')
			.query(record)
			.reply(200, page([contact(1, 0)]))
			.get('/v3/contacts')
			.query(record)
			.reply(200, page([contact(1, 0), contact(2, -60), contact(3, -120)]));
		const { api } = await client();
		const now = Date.now();
		const sample = await platform.recentMembers!(api, LIST, 2);
		expect(queries.map((q) => windowDays(q, now))).toEqual([1, 30, 365, 'all']);
		expect(sample.map((m) => m.contactId)).toEqual([uuid(1), uuid(2)]);
		for (const bad of [0, 1.5, -3]) await expect(platform.recentMembers!(api, LIST, bad)).rejects.toThrow(`Constant Contact: the number of recent members must be a whole number of at least 1, not ${bad}.`);
		expect(api.requests).toBe(4);
	});
});

describe('Constant Contact newMembers and recentMembers against the fake', () => {
	let fake: FakeConstantContact;
	const { newsletter, customers, empty } = FAKE_CC_LIST_IDS;
	const contactReads = () => fake.requests.filter((r) => r.method === 'GET' && r.path === '/contacts').length;
	const fakeClient = () => client({ baseUrl: fake.url }, recording(fake.state.accessToken));

	/** A sign-up through POST /contacts/sign_up_form (creates the contact, or adds lists to it). */
	async function signUp(email: string, lists: string[], token = fake.state.accessToken): Promise<HttpResponse> {
		return recording(token).request({ method: 'POST', url: `${fake.url}/contacts/sign_up_form`, body: { email_address: email, first_name: 'New', list_memberships: lists } });
	}

	beforeEach(() => nock.enableNetConnect(/^127\.0\.0\.1(:\d+)?$/));
	afterEach(async () => {
		nock.disableNetConnect();
		await fake.close();
	});

	it('returns the list’s members updated at or after `since` (the very instant included), nobody earlier, not the deleted', async () => {
		fake = await startFakeConstantContact();
		const { api } = await fakeClient();
		// Every seeded contact was last updated at 2024-03-01T10:00:00Z.
		const exact = await platform.newMembers!(api, newsletter, { since: '2024-03-01T10:00:00Z' });
		expect(exact.members.map((m) => m.email)).toEqual(['ada@example.com', 'ben@mailinator.com', 'cid@bad-domain.invalid', 'dee@example.org', 'eve@example.net']);
		expect(exact.members.every((m) => m.joinedAt === '2024-03-01T10:00:00.000Z' && m.listId === newsletter)).toBe(true);
		const later = await platform.newMembers!(api, newsletter, { since: '2024-03-01T10:00:01.001Z' });
		expect(later).toEqual({ members: [] });
		expect(contactReads()).toBe(2);
	});

	it('costs one request when nobody is new; a sign-up now, and an existing contact added to the list, come in the next poll', async () => {
		fake = await startFakeConstantContact();
		const { api } = await fakeClient();
		const since = new Date().toISOString();
		await expect(platform.newMembers!(api, customers, { since })).resolves.toEqual({ members: [] });
		expect(contactReads()).toBe(1);

		await expect(signUp('zoe@example.com', [customers])).resolves.toMatchObject({ status: 201, body: { action: 'created' } });
		// Ben has been in the account (and the newsletter) since 2024: created_after would miss him.
		await expect(signUp('ben@mailinator.com', [customers])).resolves.toMatchObject({ status: 200, body: { action: 'updated' } });
		const { members } = await platform.newMembers!(api, customers, { since });
		expect(contactReads()).toBe(2);
		expect(members.map((m) => m.email)).toEqual(['zoe@example.com', 'ben@mailinator.com']);
		const [zoe, ben] = members;
		expect(zoe).toMatchObject({ status: 'subscribed', listId: customers, platform: 'constantcontact', raw: { first_name: 'New', create_source: 'Contact' } });
		expect((ben.raw as FakeCcContact).created_at).toBe('2024-03-01T10:00:00Z');
		for (const member of members) {
			expect(Date.parse(member.joinedAt!)).toBeGreaterThanOrEqual(Date.parse(since));
			expect(Date.parse(member.joinedAt!)).toBeLessThanOrEqual(Date.now());
		}
		// From the newest join time on: Ben comes again (the caller drops him), and only who joined
		// within the second before him (Zoe, signed up just before).
		const next = await platform.newMembers!(api, customers, { since: ben.joinedAt! });
		expect(next.members.map((m) => m.email)).toContain('ben@mailinator.com');
		expect(next.members.every((m) => Date.parse(m.joinedAt!) >= Date.parse(ben.joinedAt!) - 1000)).toBe(true);
		await expect(platform.newMembers!(api, customers, { since: new Date(Date.parse(ben.joinedAt!) + 1001).toISOString() })).resolves.toEqual({ members: [] });
		// The price of updated_after: Ben's change shows in the newsletter, which he was in already.
		await expect(platform.newMembers!(api, newsletter, { since })).resolves.toMatchObject({ members: [{ email: 'ben@mailinator.com' }] });
		await expect(platform.newMembers!(api, empty, { since })).resolves.toEqual({ members: [] });
	});

	it('reads 10,000 new members in 20 requests of 500, each once, oldest first', async () => {
		const contacts: FakeCcContact[] = Array.from({ length: 10_000 }, (_, i) => ({
			contact_id: uuid(i + 1),
			email_address: { address: `m${i}@example.com`, permission_to_send: 'implicit' },
			created_at: at(i),
			// The fake answers in its own order, not by time: the adapter sorts.
			updated_at: at(i % 2 === 0 ? i : 10_000 - i),
			list_memberships: [newsletter],
		}));
		fake = await startFakeConstantContact({ contacts });
		const { api } = await fakeClient();
		const { members } = await platform.newMembers!(api, newsletter, { since: new Date(0).toISOString() });
		expect(api.requests).toBe(20);
		expect(members).toHaveLength(10_000);
		expect(new Set(members.map((m) => m.contactId)).size).toBe(10_000);
		const times = members.map((m) => Date.parse(m.joinedAt!));
		expect(times.every((t, i) => i === 0 || times[i - 1] <= t)).toBe(true);
	});

	it('gives the newest members first, at most `limit`', async () => {
		const contacts: FakeCcContact[] = [1, 2, 3, 4].map((n) => ({
			contact_id: uuid(n),
			email_address: { address: `old${n}@example.com`, permission_to_send: 'implicit' },
			created_at: at(n),
			updated_at: at(n),
			list_memberships: [newsletter],
		}));
		fake = await startFakeConstantContact({ contacts });
		await signUp('fresh@example.com', [newsletter]);
		const { api } = await fakeClient();
		const one = await platform.recentMembers!(api, newsletter, 1);
		expect(one.map((m) => m.email)).toEqual(['fresh@example.com']);
		expect(api.requests).toBe(1);
		const three = await platform.recentMembers!(api, newsletter, 3);
		expect(three.map((m) => m.email)).toEqual(['fresh@example.com', 'old4@example.com', 'old3@example.com']);
		expect(three[1].joinedAt).toBe(at(4));
		await expect(platform.recentMembers!(api, empty, 3)).resolves.toEqual([]);
	});

	it('says a missing list is gone, and an expired token must be reconnected', async () => {
		fake = await startFakeConstantContact();
		const { api } = await fakeClient();
		await expect(platform.newMembers!(api, '1d4a2b7e-0000-4000-8000-00000000dead', { since: at(0) })).rejects.toThrow(/HTTP 404\. The list no longer exists in Constant Contact: pick the list again\./);
		fake.state.accessTokenExpired = true;
		await expect(platform.newMembers!(api, newsletter, { since: at(0) })).rejects.toThrow(/HTTP 401\. The access token was rejected or has expired/);
	});

	it('signs up as Constant Contact documents, and refuses what it does not take', async () => {
		fake = await startFakeConstantContact();
		const direct = new FetchTransport({ authorization: `Bearer ${fake.state.accessToken}` }, 5_000);
		const post = (body: unknown) => direct.request({ method: 'POST', url: `${fake.url}/contacts/sign_up_form`, body });
		await expect(post({ email_address: 'x@example.com', list_memberships: [] })).resolves.toMatchObject({ status: 400 });
		await expect(post({ email_address: 'not an address', list_memberships: [newsletter] })).resolves.toMatchObject({ status: 400 });
		await expect(post({ email_address: 'x@example.com', list_memberships: ['1d4a2b7e-0000-4000-8000-00000000dead'] })).resolves.toMatchObject({ status: 404 });
		// A deleted contact signing up again is restored; its lists are appended to.
		await expect(signUp('fay@tempmail.test', [customers])).resolves.toMatchObject({ status: 200, body: { action: 'updated' } });
		const fay = [...fake.state.contacts.values()].find((c) => c.email_address?.address === 'fay@tempmail.test')!;
		expect(fay.deleted_at).toBeUndefined();
		expect(fay.list_memberships).toEqual([newsletter, customers]);
		// The time filters refuse what is not a date-time.
		await expect(direct.request({ method: 'GET', url: `${fake.url}/contacts`, query: { updated_after: 'yesterday' } })).resolves.toMatchObject({ status: 400 });
		const before = await recording(fake.state.accessToken).request({ method: 'GET', url: `${fake.url}/contacts`, query: { lists: customers, created_before: '2024-03-01T10:00:00.001Z', updated_after: '2024-03-01T10:00:00Z' } });
		expect((before.body as { contacts: FakeCcContact[] }).contacts.map((c) => c.email_address?.address)).toEqual(['fay@tempmail.test']);
	});
});

/** Query parameters of GET /contacts and the values they allow, read from the description. */
function queryParameterProblems(requests: readonly SentRequest[]): string[] {
	type Parameter = { name: string; in: string; type?: string; format?: string; maximum?: number; minimum?: number };
	const doc = parseYaml(readFileSync(resolve(SPECS_DIR, 'constantcontact/v3_swagger.yml'), 'utf8'), { maxAliasCount: -1 }) as {
		paths: Record<string, Record<string, { parameters: Array<Parameter | { $ref: string }> }>>;
		parameters?: Record<string, Parameter>;
	};
	const documented = doc.paths['/contacts'].get.parameters
		.map((p) => ('$ref' in p ? doc.parameters?.[p.$ref.replace('#/parameters/', '')] : p))
		.filter((p): p is Parameter => p?.in === 'query');
	const problems: string[] = [];
	for (const request of requests) {
		for (const [name, value] of Object.entries(request.query)) {
			// Constant Contact's own next links carry `cursor`, which its description leaves out.
			if (name === 'cursor') continue;
			const parameter = documented.find((p) => p.name === name);
			const text = String(value);
			if (!parameter) problems.push(`${name}: not a parameter of GET /contacts`);
			else if (parameter.format === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(text)) problems.push(`${name}=${text}: not an ISO-8601 date-time`);
			else if (parameter.type === 'integer' && (!/^\d+$/.test(text) || Number(text) > (parameter.maximum ?? Infinity) || Number(text) < (parameter.minimum ?? 0))) problems.push(`${name}=${text}: out of range`);
			else if (name === 'lists' && text.split(',').length > 25) problems.push('lists: more than 25');
		}
	}
	return problems;
}

describeConformance('Constant Contact new members: every request of this suite conforms to v3_swagger.yml', ['constantcontact/v3_swagger.yml'], (specs) => {
	it('checks all recorded requests, the query values of the contact reads included', () => {
		const sent = recorders.flatMap((r) => r.sent);
		expect(new Set(sent.map((r) => `${r.method} ${new URL(r.url).pathname.replace(/^.*\/v3/, '')}`))).toEqual(new Set(['GET /contacts', 'POST /contacts/sign_up_form']));
		expect(sent.filter((r) => r.query.updated_after !== undefined).length).toBeGreaterThan(20);
		expect(conformanceProblems(specs(), sent)).toEqual([]);
		expect(queryParameterProblems(sent.filter((r) => r.method === 'GET'))).toEqual([]);
		// The checker itself catches a wrong value.
		expect(queryParameterProblems([{ method: 'GET', url: `${ORIGIN}/v3/contacts`, query: { limit: '1000', updated_after: '2024-01-01', sort: 'asc' }, body: undefined }])).toHaveLength(3);
	});
});
