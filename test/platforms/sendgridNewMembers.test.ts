// SendGrid's new-member polling (the Email List Trigger's source): contact search by creation time,
// the export when more than the search's 50 match, the list's contact sample, against nock at the
// HTTP level and the stateful fake, with request counts; every API request of this file is checked
// against SendGrid's own API descriptions (../shared/specs/sendgrid) at the end.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import nock from 'nock';

import { PlatformApiError } from '../../src/http/client';
import { FetchTransport } from '../../src/http/fetchTransport';
import { collect } from '../../src/http/paginate';
import { createApiClient } from '../../src/platforms/registry';
import { SEGMENT_PREFIX, sendgrid } from '../../src/platforms/sendgrid';
import { FAKE_LISTS, fakeContacts, startFakeSendGrid, type SendGridFake } from '../fakes/sendgrid';
import { conformanceProblems, describeConformance, RecordingTransport } from '../helpers/conformance';

const API = 'https://api.sendgrid.com';
const FILES = 'https://sendgrid-exports.s3.test';
const KEY = `SG.${randomBytes(11).toString('hex')}.${randomBytes(21).toString('hex')}`;
const JSON_TYPE = { 'content-type': 'application/json' };
const LIST = '3f1c2a9e-1234-4bcd-9e0f-abcdef012345';
const SEGMENT = '9a8b7c6d-1234-4bcd-9e0f-abcdef012345';
const SINCE = '2024-05-06T07:08:09.500Z';
const FOUND = `found:${LIST}`;

const recorder = new RecordingTransport(new FetchTransport({ authorization: `Bearer ${KEY}` }, 2_000));

async function client(baseUrl = '', key = KEY) {
	const sleeps: number[] = [];
	let now = 0;
	const transport = baseUrl ? new RecordingTransport(new FetchTransport({ authorization: `Bearer ${key}` }, 5_000)) : recorder;
	if (transport !== recorder) fakeRecorders.push(transport);
	const api = await createApiClient(sendgrid, { apiKey: key, baseUrl }, transport, {
		secrets: [key],
		sleep: async (ms) => {
			sleeps.push(ms);
			now += ms;
		},
		now: () => now,
		random: () => 1,
	});
	return { api, sleeps };
}
const fakeRecorders: RecordingTransport[] = [];

/** A contact as the search returns it (ContactDetails3). */
function found(n: number, createdAt: string, extra: Record<string, unknown> = {}) {
	return {
		id: `c-${n}`,
		email: `user${n}@example.com`,
		first_name: `First ${n}`,
		list_ids: [LIST],
		segment_ids: [],
		custom_fields: { plan: 'pro', score: n },
		created_at: createdAt,
		updated_at: createdAt,
		_metadata: { self: `${API}/v3/marketing/contacts/c-${n}` },
		...extra,
	};
}

const searchBody = (from: string, field = 'list_ids', id = LIST) => ({ query: `CONTAINS(${field}, '${id}') AND created_at >= '${from}'` });

async function failure(promise: Promise<unknown>): Promise<PlatformApiError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(PlatformApiError);
	const apiError = error as PlatformApiError;
	expect(`${apiError.message} ${JSON.stringify(apiError.details)}`).not.toContain(KEY);
	return apiError;
}

beforeAll(() => {
	nock.disableNetConnect();
	nock.enableNetConnect(/127\.0\.0\.1/);
});
afterEach(() => {
	const pending = nock.pendingMocks();
	nock.cleanAll();
	expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

describe('SendGrid new members (nock)', () => {
	it('first poll: finds the list, then searches it for contacts created since the second `since` falls in; oldest first, in members()’ shape', async () => {
		nock(API)
			.get(`/v3/marketing/lists/${LIST}`)
			.query({ contact_sample: 'false' })
			.reply(200, { id: LIST, name: 'Newsletter', contact_count: 3, _metadata: { self: 'x' } }, JSON_TYPE)
			.post('/v3/marketing/contacts/search', searchBody('2024-05-06T07:08:09Z'))
			// In no order; one created in the same second as `since`, a little before it: kept.
			.reply(200, { result: [found(3, '2024-05-06T09:00:00Z'), found(1, '2024-05-06T07:08:09.200Z'), found(2, SINCE)], contact_count: 3 }, JSON_TYPE);
		const { api } = await client();
		const { members, cursor } = await sendgrid.newMembers(api, LIST, { since: SINCE });
		expect(members.map((m) => [m.contactId, m.joinedAt])).toEqual([
			['c-1', '2024-05-06T07:08:09.200Z'],
			['c-2', SINCE],
			['c-3', '2024-05-06T09:00:00.000Z'],
		]);
		// What members() gives for the same contact from the export: status unknown (global unsubscribes not
		// read), `raw` the export's record (upper-case columns, custom fields as columns, CONTACT_ID).
		expect(members[2]).toEqual({
			email: 'user3@example.com',
			contactId: 'c-3',
			listId: LIST,
			platform: 'sendgrid',
			status: 'unknown',
			joinedAt: '2024-05-06T09:00:00.000Z',
			raw: { EMAIL: 'user3@example.com', FIRST_NAME: 'First 3', CREATED_AT: '2024-05-06T09:00:00Z', UPDATED_AT: '2024-05-06T09:00:00Z', PLAN: 'pro', SCORE: '3', CONTACT_ID: 'c-3' },
		});
		expect(cursor).toBe(FOUND);
		expect(api.requests).toBe(2);
	});

	it('an idle poll is one request: the search, finding nobody', async () => {
		nock(API).post('/v3/marketing/contacts/search', searchBody('2024-05-06T07:08:09Z')).reply(200, { result: [], contact_count: 0 }, JSON_TYPE);
		const { api } = await client();
		await expect(sendgrid.newMembers(api, LIST, { since: SINCE, cursor: FOUND })).resolves.toEqual({ members: [], cursor: FOUND });
		expect(api.requests).toBe(1);
	});

	it('a cursor for another list does not skip the look for this one', async () => {
		nock(API)
			.get(`/v3/marketing/lists/${LIST}`)
			.query(true)
			.reply(404, { errors: [{ field: null, message: 'list not found' }] }, JSON_TYPE);
		const { api } = await client();
		const error = await failure(sendgrid.newMembers(api, LIST, { since: SINCE, cursor: 'found:another-list' }));
		expect(error.message).toBe('SendGrid: find the list failed with HTTP 404. SendGrid does not know this list or segment (any more): pick it again.');
		expect(api.requests).toBe(1);
	});

	it('reads the export when more than the search’s 50 match: every member created since, in 4 requests', async () => {
		const lines = ['"EMAIL","FIRST_NAME","CREATED_AT","UPDATED_AT","CONTACT_ID"'];
		for (let i = 0; i < 130; i++) {
			const created = new Date(Date.parse('2024-05-06T07:00:00Z') + i * 10_000).toISOString();
			lines.push(`"user${i}@example.com","First ${i}","${created}","${created}","c-${i}"`);
		}
		nock(API)
			.post('/v3/marketing/contacts/search', searchBody('2024-05-06T07:08:09Z'))
			.reply(200, { result: Array.from({ length: 50 }, (_v, i) => found(i + 60, '2024-05-06T08:00:00Z')), contact_count: 81 }, JSON_TYPE)
			.post('/v3/marketing/contacts/exports', { list_ids: [LIST], file_type: 'csv' })
			.reply(202, { id: 'exp-1' }, JSON_TYPE)
			.get('/v3/marketing/contacts/exports/exp-1')
			.reply(200, { id: 'exp-1', status: 'ready', urls: [`${FILES}/exp-1.csv.gzip?X-Amz-Signature=sig`], contact_count: 130 }, JSON_TYPE);
		nock(FILES).get('/exp-1.csv.gzip').query({ 'X-Amz-Signature': 'sig' }).reply(200, gzipSync(`${lines.join('\n')}\n`), { 'content-type': 'text/csv' });
		const { api } = await client();
		const { members } = await sendgrid.newMembers(api, LIST, { since: SINCE, cursor: FOUND });
		// 07:08:09 is the 49th (i = 48.9): from i = 49, asked from the second; 07:08:10 is i = 49.
		expect(members.map((m) => m.contactId)).toEqual(Array.from({ length: 81 }, (_v, i) => `c-${i + 49}`));
		expect(members[0]).toMatchObject({ joinedAt: '2024-05-06T07:08:10.000Z', status: 'unknown', raw: { EMAIL: 'user49@example.com', CONTACT_ID: 'c-49' } });
		expect(api.requests).toBe(4);
	});

	it('watches a segment through its own ID field and endpoint', async () => {
		nock(API)
			.get(`/v3/marketing/segments/2.0/${SEGMENT}`)
			.query({ contacts_sample: 'false' })
			.reply(200, { id: SEGMENT, name: 'Engaged', contacts_count: 1, contacts_sample: [] }, JSON_TYPE)
			.post('/v3/marketing/contacts/search', searchBody('2024-05-06T07:08:09Z', 'segment_ids', SEGMENT))
			.reply(200, { result: [found(1, '2024-05-06T08:00:00Z', { segment_ids: [SEGMENT] })], contact_count: 1 }, JSON_TYPE);
		const { api } = await client();
		const result = await sendgrid.newMembers(api, `${SEGMENT_PREFIX}${SEGMENT}`, { since: SINCE });
		expect(result.members.map((m) => [m.contactId, m.listId])).toEqual([['c-1', `${SEGMENT_PREFIX}${SEGMENT}`]]);
		expect(result.cursor).toBe(`found:${SEGMENT_PREFIX}${SEGMENT}`);
	});

	it('gives the newest members of the list’s sample, newest first, at most `limit`, in one request', async () => {
		const sample = [found(1, '2024-05-01T00:00:00Z'), found(3, '2024-05-03T00:00:00Z'), found(2, '2024-05-02T00:00:00Z')];
		nock(API).get(`/v3/marketing/lists/${LIST}`).query({ contact_sample: 'true' }).reply(200, { id: LIST, name: 'Newsletter', contact_count: 3, contact_sample: sample }, JSON_TYPE);
		const { api } = await client();
		const recent = await sendgrid.recentMembers(api, LIST, 2);
		expect(recent.map((m) => [m.contactId, m.joinedAt])).toEqual([
			['c-3', '2024-05-03T00:00:00.000Z'],
			['c-2', '2024-05-02T00:00:00.000Z'],
		]);
		expect(api.requests).toBe(1);
		// The description's schema has one contact where the reference says "up to 50": either is read.
		nock(API).get(`/v3/marketing/lists/${LIST}`).query(true).reply(200, { id: LIST, name: 'Newsletter', contact_count: 1, contact_sample: found(7, '2024-05-07T00:00:00Z') }, JSON_TYPE);
		expect((await sendgrid.recentMembers(api, LIST, 5)).map((m) => m.contactId)).toEqual(['c-7']);
	});

	it('refuses a `since` that is not a time and a limit that is not a count, before asking SendGrid', async () => {
		const { api } = await client();
		await expect(sendgrid.newMembers(api, LIST, { since: 'soon' })).rejects.toThrow('SendGrid: "soon" is not an ISO 8601 time to read new members since.');
		await expect(sendgrid.recentMembers(api, LIST, -1)).rejects.toThrow('SendGrid: -1 is not a number of members to read; give a whole number.');
		await expect(sendgrid.recentMembers(api, LIST, 0)).resolves.toEqual([]);
		expect(api.requests).toBe(0);
	});

	it('explains a rejected key, a missing scope, a gone list, a rate limit and a failing server; a malformed answer is unexpected', async () => {
		const { api, sleeps } = await client();
		nock(API).post('/v3/marketing/contacts/search').reply(401, { errors: [{ field: null, message: 'authorization required' }] }, JSON_TYPE);
		let error = await failure(sendgrid.newMembers(api, LIST, { since: SINCE, cursor: FOUND }));
		expect(error.message).toMatch(/^SendGrid: search the list’s new contacts failed with HTTP 401\. SendGrid rejected the API key/);

		nock(API).post('/v3/marketing/contacts/search').reply(403, { errors: [{ field: null, message: 'access forbidden' }] }, JSON_TYPE);
		error = await failure(sendgrid.newMembers(api, LIST, { since: SINCE, cursor: FOUND }));
		expect(error.message).toContain('The API key lacks the marketing.read scope (Marketing: Read Access)');

		nock(API).get(`/v3/marketing/lists/${LIST}`).query(true).reply(404, { errors: [{ field: null, message: 'list not found' }] }, JSON_TYPE);
		error = await failure(sendgrid.recentMembers(api, LIST, 3));
		expect(error.message).toBe('SendGrid: find the list failed with HTTP 404. SendGrid does not know this list or segment (any more): pick it again.');

		nock(API)
			.post('/v3/marketing/contacts/search')
			.reply(429, { errors: [{ message: 'too many requests' }] }, { ...JSON_TYPE, 'retry-after': '3' })
			.post('/v3/marketing/contacts/search')
			.reply(200, { result: [], contact_count: 0 }, JSON_TYPE);
		await expect(sendgrid.newMembers(api, LIST, { since: SINCE, cursor: FOUND })).resolves.toEqual({ members: [], cursor: FOUND });
		expect(sleeps).toEqual([3000]);

		nock(API).post('/v3/marketing/contacts/search').times(5).reply(500, { errors: [{ message: 'internal error' }] }, JSON_TYPE);
		error = await failure(sendgrid.newMembers(api, LIST, { since: SINCE, cursor: FOUND }));
		expect(error.message).toBe('SendGrid: search the list’s new contacts failed with HTTP 500. The platform failed on its side: try again later.');

		nock(API).post('/v3/marketing/contacts/search').reply(200, { result: 'none' }, JSON_TYPE);
		error = await failure(sendgrid.newMembers(api, LIST, { since: SINCE, cursor: FOUND }));
		expect(error.message).toBe('SendGrid: search the list’s new contacts returned an unexpected response (no "result" list and "contact_count").');
		nock(API).post('/v3/marketing/contacts/search').reply(200, { result: [{ ...found(1, ''), created_at: 'yesterday' }], contact_count: 1 }, JSON_TYPE);
		error = await failure(sendgrid.newMembers(api, LIST, { since: SINCE, cursor: FOUND }));
		expect(error.message).toBe('SendGrid: search the list’s new contacts returned an unexpected response (a contact without "created_at").');
	});
});

describe('SendGrid new members against the stateful fake', () => {
	async function withFake(seed: Parameters<typeof startFakeSendGrid>[0], body: (fake: SendGridFake) => Promise<void>) {
		const fake = await startFakeSendGrid(seed);
		try {
			await body(fake);
		} finally {
			await fake.close();
		}
	}
	const lists = [{ id: FAKE_LISTS.newsletter, name: 'Newsletter' }];

	it('a contact signed up now comes in the next poll, as members() gives it plus joinedAt; an idle poll is one request', () =>
		withFake({ lists, contacts: fakeContacts(4) }, async (fake) => {
			const { api } = await client(fake.url, fake.state.apiKey);
			const since = new Date(fake.state.now).toISOString();
			const first = await sendgrid.newMembers(api, FAKE_LISTS.newsletter, { since });
			expect(first).toEqual({ members: [], cursor: `found:${FAKE_LISTS.newsletter}` });
			expect(api.requests).toBe(2);

			fake.state.now += 1500;
			const added = fake.addContact([FAKE_LISTS.newsletter], { email: 'new@example.com', first_name: 'New', city: 'Bern', phone_number: '+41', custom_fields: { plan: 'free', score: 7 } });
			const second = await sendgrid.newMembers(api, FAKE_LISTS.newsletter, { since, cursor: first.cursor });
			expect(second.members.map((m) => [m.contactId, m.email, m.joinedAt])).toEqual([[added.id, 'new@example.com', added.created_at]]);
			expect(api.requests).toBe(3);

			const all = await collect(sendgrid.members(api, FAKE_LISTS.newsletter, {}));
			const plain = all.find((m) => m.contactId === added.id);
			expect(second.members[0]).toEqual({ ...plain, joinedAt: added.created_at });

			const before = api.requests;
			const idle = await sendgrid.newMembers(api, FAKE_LISTS.newsletter, { since: added.created_at, cursor: second.cursor });
			expect(idle.members.map((m) => m.contactId)).toEqual([added.id]); // the boundary instant: asked again
			const later = await sendgrid.newMembers(api, FAKE_LISTS.newsletter, { since: new Date(fake.state.now + 1000).toISOString(), cursor: second.cursor });
			expect(later.members).toEqual([]);
			expect(api.requests - before).toBe(2);
		}));

	it('asks again from `since`, so a contact the search indexes late comes in a later poll', () =>
		withFake({ lists, contacts: fakeContacts(2), searchLagMs: 5_000 }, async (fake) => {
			const { api } = await client(fake.url, fake.state.apiKey);
			const since = new Date(fake.state.now).toISOString();
			const added = fake.addContact([FAKE_LISTS.newsletter], { email: 'late@example.com' });
			expect((await sendgrid.newMembers(api, FAKE_LISTS.newsletter, { since })).members).toEqual([]);
			fake.state.now += 6_000;
			expect((await sendgrid.newMembers(api, FAKE_LISTS.newsletter, { since, cursor: `found:${FAKE_LISTS.newsletter}` })).members.map((m) => m.contactId)).toEqual([added.id]);
		}));

	it('reads 10,000 existing members in 5 requests (the list, the search, the export’s 3)', () =>
		withFake({ lists, contacts: fakeContacts(10_000) }, async (fake) => {
			const { api } = await client(fake.url, fake.state.apiKey);
			const { members } = await sendgrid.newMembers(api, FAKE_LISTS.newsletter, { since: new Date(0).toISOString() });
			expect(members).toHaveLength(10_000);
			expect(new Set(members.map((m) => m.contactId)).size).toBe(10_000);
			expect(members.every((m) => m.joinedAt === '2024-01-02T03:04:05.000Z' && m.status === 'unknown')).toBe(true);
			expect(api.requests).toBe(5);
		}));

	it('gives the members added last, newest first, from the list’s sample', () =>
		withFake({ lists, contacts: fakeContacts(60) }, async (fake) => {
			const { api } = await client(fake.url, fake.state.apiKey);
			const added = [1, 2, 3].map((n) => {
				fake.state.now += 60_000;
				return fake.addContact([FAKE_LISTS.newsletter], { email: `recent${n}@example.com` }).id;
			});
			const recent = await sendgrid.recentMembers(api, FAKE_LISTS.newsletter, 2);
			expect(recent.map((m) => m.contactId)).toEqual([added[2], added[1]]);
			expect(api.requests).toBe(1);
			await expect(sendgrid.recentMembers(api, '00000000-0000-4000-8000-000000000000', 2)).rejects.toThrow('SendGrid does not know this list or segment (any more): pick it again.');
		}));
});

describeConformance(
	'SendGrid new-member requests conform to SendGrid’s API descriptions',
	['sendgrid/mc_contacts_v3.json', 'sendgrid/mc_lists_v3.json', 'sendgrid/mc_segments_2.0_v3.json'],
	(specs) => {
		it('checks every API request of this file (the pre-signed export files are not part of the API)', () => {
			const isFile = (url: string) => url.startsWith(FILES) || new URL(url).pathname.startsWith('/exports/');
			const requests = [recorder, ...fakeRecorders].flatMap((r) => r.sent).filter((r) => !isFile(r.url));
			expect(requests.length).toBeGreaterThan(30);
			const paths = new Set(requests.map((r) => `${r.method} ${new URL(r.url).pathname.replace(/\/(lists|2\.0|exports)\/[^/]+$/, '/$1/{id}')}`));
			expect([...paths].sort()).toEqual([
				'GET /v3/marketing/contacts/exports/{id}',
				'GET /v3/marketing/lists/{id}',
				'GET /v3/marketing/segments/2.0/{id}',
				'POST /v3/marketing/contacts/exports',
				'POST /v3/marketing/contacts/search',
			]);
			expect(conformanceProblems(specs(), requests)).toEqual([]);
		});
	},
);
