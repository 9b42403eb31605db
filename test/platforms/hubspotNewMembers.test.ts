// HubSpot's new-member polling (the Email List Trigger's source): the join order read against nock at
// the HTTP level and against the stateful fake, with request counts, and every request checked
// against HubSpot's own API descriptions (../shared/specs/hubspot) at the end.
import { randomBytes } from 'node:crypto';

import nock from 'nock';

import { PlatformApiError } from '../../src/http/client';
import { FetchTransport } from '../../src/http/fetchTransport';
import { collect } from '../../src/http/paginate';
import { hubspot } from '../../src/platforms/hubspot';
import { createApiClient } from '../../src/platforms/registry';
import { startFakeHubspot, type FakeHubspot } from '../fakes/hubspot';
import { conformanceProblems, describeConformance, RecordingTransport, type SentRequest } from '../helpers/conformance';

const BASE = 'https://api.hubapi.com';
const TOKEN = `pat-na1-${randomBytes(12).toString('hex')}`;
const JSON_TYPE = { 'content-type': 'application/json;charset=utf-8' };
const JOIN_ORDER = '/crm/v3/lists/5/memberships/join-order';
const AT = '2024-05-06T07:08:09.000Z';

const recorded: SentRequest[][] = [];

async function client(options: { baseUrl?: string; token?: string } = {}) {
	const token = options.token ?? TOKEN;
	const recorder = new RecordingTransport(new FetchTransport(hubspot.cliAuth({ accessToken: token }), 5_000));
	recorded.push(recorder.sent);
	const sleeps: number[] = [];
	let clock = 1_700_000_000_000;
	const api = await createApiClient(hubspot, { accessToken: token, baseUrl: options.baseUrl ?? '' }, recorder, {
		secrets: [token],
		sleep: async (ms) => {
			sleeps.push(ms);
			clock += ms;
		},
		now: () => clock,
		random: () => 1,
	});
	return { api, sleeps, sent: recorder.sent };
}

function contact(id: string, properties: Record<string, string> = {}) {
	return { id, properties: { email: `u${id}@example.test`, firstname: `F${id}`, ...properties }, createdAt: AT, updatedAt: AT, archived: false };
}

/** A batch read that knows every contact it is asked for, except `missing`. */
function batchRead(missing: readonly string[] = []) {
	return (_uri: string, body: unknown): nock.ReplyFnResult => {
		const asked = ((typeof body === 'string' ? JSON.parse(body) : body) as { inputs: Array<{ id: string }> }).inputs.map((i) => i.id);
		const results = asked.filter((id) => !missing.includes(id)).map((id) => contact(id, id === '3' ? { hs_email_optout: 'true' } : {}));
		return [200, { status: 'COMPLETE', results, startedAt: AT, completedAt: AT }, JSON_TYPE];
	};
}

const joined = (recordId: string, membershipTimestamp: string) => ({ recordId, membershipTimestamp });

async function failure(promise: Promise<unknown>): Promise<PlatformApiError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(PlatformApiError);
	const apiError = error as PlatformApiError;
	expect(`${apiError.message} ${JSON.stringify(apiError.details)}`).not.toContain(TOKEN);
	return apiError;
}

/** Distinct join times a second apart from `start`. */
function tick(fake: FakeHubspot, seconds = 1): string {
	fake.state.now += seconds * 1000;
	return new Date(fake.state.now).toISOString();
}

beforeAll(() => {
	nock.disableNetConnect();
	nock.enableNetConnect(/^127\.0\.0\.1(:\d+)?$/);
});
afterEach(() => {
	nock.abortPendingRequests();
	nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

describe('HubSpot new members (nock)', () => {
	it('returns who joined at or after `since`, with joinedAt, oldest first, in the shape members() gives', async () => {
		const since = '2024-05-06T07:00:00.000Z';
		const reads: unknown[] = [];
		nock(BASE)
			.get(JOIN_ORDER)
			.query({ limit: '250' })
			.times(2)
			.reply(
				200,
				{
					results: [
						joined('1', '2024-05-06T06:59:59.999Z'),
						joined('2', since), // the boundary instant: kept
						joined('3', '2024-05-06T07:00:00.001Z'),
						joined('4', '2024-05-06T07:30:00.000Z'),
					],
					total: 4,
				},
				JSON_TYPE,
			)
			.post('/crm/v3/objects/contacts/batch/read', (body) => reads.push(body) > 0)
			.times(2)
			.reply(batchRead());
		const { api } = await client();
		const { members, cursor } = await hubspot.newMembers(api, '5', { since });
		expect(members.map((m) => [m.contactId, m.joinedAt, m.status])).toEqual([
			['2', since, 'subscribed'],
			['3', '2024-05-06T07:00:00.001Z', 'unsubscribed'],
			['4', '2024-05-06T07:30:00.000Z', 'subscribed'],
		]);
		// Only the new members' contacts are read.
		expect((reads[0] as { inputs: unknown[] }).inputs).toEqual([{ id: '2' }, { id: '3' }, { id: '4' }]);
		expect(api.requests).toBe(2);
		expect(JSON.parse(String(cursor))).toEqual({ first: '1', last: '4', at: '2024-05-06T07:30:00.000Z' });

		// The same member as members() gives it, plus joinedAt.
		nock(BASE).get('/crm/v3/lists/5/memberships').query(true).reply(200, { results: [joined('4', AT)] }, JSON_TYPE);
		const [plain] = await collect(hubspot.members(api, '5', {}));
		expect(members[2]).toEqual({ ...plain, joinedAt: '2024-05-06T07:30:00.000Z' });
		expect(Object.keys(members[2])).toEqual(['email', 'contactId', 'listId', 'platform', 'status', 'joinedAt', 'raw']);
	});

	it('costs one request when nobody is new: the page of the newest member seen, no contact read', async () => {
		nock(BASE)
			.get(JOIN_ORDER)
			.query({ limit: '250', after: 'TOKEN-7' })
			.reply(200, { results: [joined('70', AT), joined('71', AT)], total: 252 }, JSON_TYPE);
		const { api } = await client();
		const cursor = JSON.stringify({ after: 'TOKEN-7', first: '70', last: '71', at: AT });
		const result = await hubspot.newMembers(api, '5', { since: '2024-05-06T07:00:00.000Z', cursor });
		expect(result).toEqual({ members: [], cursor });
		expect(api.requests).toBe(1);
	});

	it('resumes after the newest member seen and follows the join order to its end; the cursor moves to the last page', async () => {
		const next = Array.from({ length: 250 }, (_v, i) => joined(String(100 + i), '2024-05-06T08:00:00.000Z'));
		nock(BASE)
			.get(JOIN_ORDER)
			.query({ limit: '250', after: 'TOKEN-7' })
			// Joined before `since` yet after the newest member seen: new all the same (the join order says so).
			.reply(200, { results: [joined('70', AT), joined('71', AT), joined('72', '2024-05-06T06:00:00.000Z')], paging: { next: { after: 'TOKEN-8' } } }, JSON_TYPE)
			.get(JOIN_ORDER)
			.query({ limit: '250', after: 'TOKEN-8' })
			.reply(200, { results: next }, JSON_TYPE)
			.post('/crm/v3/objects/contacts/batch/read')
			.times(3)
			.reply(batchRead());
		const { api } = await client();
		const cursor = JSON.stringify({ after: 'TOKEN-7', first: '70', last: '71', at: AT });
		const result = await hubspot.newMembers(api, '5', { since: '2024-05-06T07:00:00.000Z', cursor });
		expect(result.members.map((m) => m.contactId)).toEqual(['72', ...next.map((r) => r.recordId)]);
		expect(JSON.parse(String(result.cursor))).toEqual({ after: 'TOKEN-8', first: '100', last: '349', at: '2024-05-06T08:00:00.000Z' });
		// 2 join-order pages + 251 contacts read 100 at a time.
		expect(api.requests).toBe(5);
	});

	it('when the newest member seen left the list, takes who joined since it did', async () => {
		nock(BASE)
			.get(JOIN_ORDER)
			.query({ limit: '250', after: 'TOKEN-7' })
			// 71 (joined at AT) left; 73 joined the same instant, after it.
			.reply(200, { results: [joined('70', '2024-05-06T07:08:00.000Z'), joined('72', '2024-05-06T07:08:08.999Z'), joined('73', AT), joined('74', '2024-05-06T09:00:00.000Z')] }, JSON_TYPE)
			.post('/crm/v3/objects/contacts/batch/read')
			.reply(batchRead());
		const { api } = await client();
		const cursor = JSON.stringify({ after: 'TOKEN-7', first: '70', last: '71', at: AT });
		const { members } = await hubspot.newMembers(api, '5', { since: '2024-05-06T07:00:00.000Z', cursor });
		expect(members.map((m) => m.contactId)).toEqual(['73', '74']);
	});

	it('does not trust a token whose page no longer starts where it did: it reads the join order again from the start', async () => {
		nock(BASE)
			.get(JOIN_ORDER)
			.query({ limit: '250', after: 'TOKEN-7' })
			.reply(200, { results: [joined('75', '2024-05-06T09:00:00.000Z')] }, JSON_TYPE)
			.get(JOIN_ORDER)
			.query({ limit: '250' })
			.reply(200, { results: [joined('1', '2024-01-01T00:00:00.000Z'), joined('73', '2024-05-06T08:00:00.000Z'), joined('75', '2024-05-06T09:00:00.000Z')] }, JSON_TYPE)
			.post('/crm/v3/objects/contacts/batch/read')
			.reply(batchRead());
		const { api } = await client();
		const cursor = JSON.stringify({ after: 'TOKEN-7', first: '70', last: '71', at: AT });
		const result = await hubspot.newMembers(api, '5', { since: '2024-05-06T07:00:00.000Z', cursor });
		expect(result.members.map((m) => m.contactId)).toEqual(['73', '75']);
		expect(JSON.parse(String(result.cursor))).toEqual({ first: '1', last: '75', at: '2024-05-06T09:00:00.000Z' });
		expect(api.requests).toBe(3);
	});

	it('takes a cursor it cannot read as none, and an empty list as nobody new without a cursor', async () => {
		nock(BASE).get(JOIN_ORDER).query({ limit: '250' }).times(2).reply(200, { results: [], total: 0 }, JSON_TYPE);
		const { api } = await client();
		await expect(hubspot.newMembers(api, '5', { since: AT, cursor: 'not json' })).resolves.toEqual({ members: [] });
		await expect(hubspot.newMembers(api, '5', { since: AT, cursor: '{"first":1}' })).resolves.toEqual({ members: [] });
		expect(api.requests).toBe(2);
	});

	it('skips members whose contact was archived since they joined', async () => {
		nock(BASE)
			.get(JOIN_ORDER)
			.query(true)
			.reply(200, { results: [joined('1', AT), joined('2', AT)] }, JSON_TYPE)
			.post('/crm/v3/objects/contacts/batch/read')
			.reply(batchRead(['1']));
		const { api } = await client();
		expect((await hubspot.newMembers(api, '5', { since: AT })).members.map((m) => m.contactId)).toEqual(['2']);
	});

	it('refuses a `since` that is not a time, and a limit that is not a count, before asking HubSpot', async () => {
		const { api } = await client();
		await expect(hubspot.newMembers(api, '5', { since: 'yesterday' })).rejects.toThrow('HubSpot: "yesterday" is not an ISO 8601 time to read new members since.');
		await expect(hubspot.recentMembers(api, '5', 2.5)).rejects.toThrow('HubSpot: 2.5 is not a number of members to read; give a whole number.');
		await expect(hubspot.recentMembers(api, '5', 0)).resolves.toEqual([]);
		expect(api.requests).toBe(0);
	});

	it('explains a rejected token, a missing scope, a list that is gone, a daily limit and a failing server', async () => {
		const { api, sleeps } = await client();
		nock(BASE).get(JOIN_ORDER).query(true).reply(401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' }, JSON_TYPE);
		let error = await failure(hubspot.newMembers(api, '5', { since: AT }));
		expect(error.message).toMatch(/^HubSpot: read new list members failed with HTTP 401\. HubSpot rejected the token: copy the private app’s access token again/);

		nock(BASE)
			.get(JOIN_ORDER)
			.query(true)
			.reply(403, { status: 'error', message: 'This app hasn’t been granted all required scopes to make this call.', category: 'MISSING_SCOPES', errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: ['crm.lists.read'] } }] }, JSON_TYPE);
		error = await failure(hubspot.newMembers(api, '5', { since: AT }));
		expect(error.message).toContain('Give the HubSpot private app (or the OAuth app, then reconnect) the scope crm.lists.read.');

		nock(BASE).get('/crm/v3/lists/404/memberships/join-order').query(true).reply(404, { status: 'error', message: 'List does not exist with listId 404.', category: 'OBJECT_NOT_FOUND' }, JSON_TYPE);
		error = await failure(hubspot.newMembers(api, '404', { since: AT }));
		expect(error.message).toBe('HubSpot: read new list members failed with HTTP 404. HubSpot has no list with this ID (any more): pick the list again.');
		nock(BASE).get('/crm/v3/lists/404/memberships/join-order').query(true).reply(404, { status: 'error', message: 'List does not exist with listId 404.', category: 'OBJECT_NOT_FOUND' }, JSON_TYPE);
		error = await failure(hubspot.recentMembers(api, '404', 3));
		expect(error.message).toBe('HubSpot: read the newest list members failed with HTTP 404. HubSpot has no list with this ID (any more): pick the list again.');

		nock(BASE).get(JOIN_ORDER).query(true).reply(429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY' }, JSON_TYPE);
		error = await failure(hubspot.newMembers(api, '5', { since: AT }));
		expect(error.message).toContain('daily API limit is used up');

		const before = api.requests;
		nock(BASE).get(JOIN_ORDER).query(true).times(6).reply(503, 'Service Unavailable');
		error = await failure(hubspot.newMembers(api, '5', { since: AT }));
		expect(error.message).toBe('HubSpot: read new list members failed with HTTP 503. The platform failed on its side: try again later.');
		expect(api.requests - before).toBe(6);
		expect(sleeps.slice(-5)).toEqual([1000, 2000, 4000, 8000, 16000]);
	});

	it('waits as Retry-After says after a 429, then polls', async () => {
		nock(BASE)
			.get(JOIN_ORDER)
			.query(true)
			.reply(429, { status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' }, { ...JSON_TYPE, 'retry-after': '2' })
			.get(JOIN_ORDER)
			.query(true)
			.reply(200, { results: [] }, JSON_TYPE);
		const { api, sleeps } = await client();
		await expect(hubspot.newMembers(api, '5', { since: AT })).resolves.toEqual({ members: [] });
		expect(sleeps).toEqual([2000]);
	});

	it('reports malformed join-order answers as unexpected responses', async () => {
		const { api } = await client();
		const cases: Array<[unknown, string]> = [
			['<html>gateway</html>', 'no "results" list'],
			[{ results: [{ recordId: '1' }] }, 'a membership without "recordId" or "membershipTimestamp"'],
			[{ results: [{ recordId: '1', membershipTimestamp: 'last tuesday' }] }, 'a membership without "recordId" or "membershipTimestamp"'],
		];
		for (const [body, what] of cases) {
			nock(BASE).get(JOIN_ORDER).query(true).reply(200, body as nock.Body, JSON_TYPE);
			const error = await failure(hubspot.newMembers(api, '5', { since: AT }));
			expect(error.message).toBe(`HubSpot: read new list members returned an unexpected response (${what}).`);
		}
		nock(BASE)
			.get(JOIN_ORDER)
			.query({ limit: '250' })
			.reply(200, { results: [joined('1', AT)], paging: { next: { after: 'A' } } }, JSON_TYPE)
			.get(JOIN_ORDER)
			.query({ limit: '250', after: 'A' })
			.reply(200, { results: [joined('2', AT)], paging: { next: { after: 'A' } } }, JSON_TYPE);
		expect((await failure(hubspot.newMembers(api, '5', { since: AT }))).message).toContain('(the paging token A again)');
	});
});

describe('HubSpot new members against the stateful fake', () => {
	it('polls: a member added now comes in the next poll with its join time; an idle poll is one request', async () => {
		const fake = await startFakeHubspot({ contacts: 3 });
		try {
			const { api } = await client({ baseUrl: fake.url, token: fake.state.privateAppToken });
			const start = tick(fake);
			const first = await hubspot.newMembers(api, '101', { since: start });
			expect(first.members).toEqual([]);
			expect(api.requests).toBe(1);

			const at = tick(fake);
			const added = fake.addMember('101', { properties: { email: 'new@example.test', firstname: 'New' } });
			let before = api.requests;
			const second = await hubspot.newMembers(api, '101', { since: start, cursor: first.cursor });
			expect(second.members.map((m) => [m.contactId, m.email, m.joinedAt, m.status])).toEqual([[added.id, 'new@example.test', at, 'subscribed']]);
			expect(api.requests - before).toBe(2);

			before = api.requests;
			const idle = await hubspot.newMembers(api, '101', { since: at, cursor: second.cursor });
			expect(idle).toEqual({ members: [], cursor: second.cursor });
			expect(api.requests - before).toBe(1);
		} finally {
			await fake.close();
		}
	});

	it('loses nobody when members leave between polls and the token would point past the newcomers', async () => {
		const fake = await startFakeHubspot({ contacts: 300 });
		try {
			const { api } = await client({ baseUrl: fake.url, token: fake.state.privateAppToken });
			const since = tick(fake);
			const first = await hubspot.newMembers(api, '101', { since });
			expect(first.members).toEqual([]);
			// The fake's tokens are positions: after 120 members leave, the stored one points 120 further on.
			for (const id of fake.state.lists[0].memberIds.slice(0, 120)) fake.removeMember('101', id);
			tick(fake);
			const added = [1, 2, 3].map((n) => fake.addMember('101', { properties: { email: `late${n}@example.test` } }).id);
			const before = api.requests;
			const { members } = await hubspot.newMembers(api, '101', { since, cursor: first.cursor });
			expect(members.map((m) => m.contactId)).toEqual(added);
			// The stale page, then the join order again from the start (183 members: one page), one contact read.
			expect(api.requests - before).toBe(3);
		} finally {
			await fake.close();
		}
	});

	it('reads 10,000 existing members in 140 requests (40 join-order pages + 100 contact reads), then idles in one', async () => {
		const fake = await startFakeHubspot({ contacts: 10_000 });
		try {
			const { api } = await client({ baseUrl: fake.url, token: fake.state.privateAppToken });
			const all = await hubspot.newMembers(api, '101', { since: new Date(0).toISOString() });
			expect(all.members).toHaveLength(10_000);
			expect(new Set(all.members.map((m) => m.contactId)).size).toBe(10_000);
			expect(all.members.every((m) => m.joinedAt === '2024-02-03T04:05:06.000Z')).toBe(true);
			expect(api.requests).toBe(140);

			// A first poll that starts from now reads the join order once and no contact.
			const fromNow = await hubspot.newMembers(api, '101', { since: tick(fake) });
			expect(fromNow.members).toEqual([]);
			expect(api.requests).toBe(180);

			const idle = await hubspot.newMembers(api, '101', { since: new Date(fake.state.now).toISOString(), cursor: all.cursor });
			expect(idle.members).toEqual([]);
			expect(api.requests).toBe(181);

			// 300 join at once: the last page again (10,000 is 40 full pages: the 40th), 2 more pages, 3 contact reads.
			const at = tick(fake);
			const ids = Array.from({ length: 300 }, (_v, i) => fake.addMember('101', { properties: { email: `burst${i}@example.test` } }).id);
			const burst = await hubspot.newMembers(api, '101', { since: at, cursor: idle.cursor });
			expect(burst.members.map((m) => m.contactId)).toEqual(ids);
			expect(api.requests).toBe(181 + 3 + 3);
		} finally {
			await fake.close();
		}
	});

	it('gives the newest members, newest first, at most `limit`', async () => {
		const fake = await startFakeHubspot({ contacts: 260 });
		try {
			const { api } = await client({ baseUrl: fake.url, token: fake.state.privateAppToken });
			const added: Array<[string, string]> = [];
			for (const n of [1, 2, 3]) {
				const at = tick(fake, 60);
				added.push([fake.addMember('101', { properties: { email: `recent${n}@example.test` } }).id, at]);
			}
			const recent = await hubspot.recentMembers(api, '101', 2);
			expect(recent.map((m) => [m.contactId, m.joinedAt])).toEqual([added[2], added[1]]);
			expect(recent[0]).toMatchObject({ email: 'recent3@example.test', listId: '101', platform: 'hubspot', status: 'subscribed' });
			// 263 members: two join-order pages, one contact read.
			expect(api.requests).toBe(3);
			const many = await hubspot.recentMembers(api, '101', 5);
			expect(many.map((m) => m.contactId)).toEqual([added[2][0], added[1][0], added[0][0], ...fake.state.lists[0].memberIds.slice(258, 260).reverse()]);
		} finally {
			await fake.close();
		}
	});
});

describeConformance('HubSpot new-member requests conform to HubSpot’s API descriptions', ['hubspot/crm_lists_v3.json', 'hubspot/crm_contacts_v3.json'], (specs) => {
	it('every request sent in this file names a documented path and method, with required parameters and a fitting body', () => {
		const requests = recorded.flat();
		expect(requests.length).toBeGreaterThan(200);
		const paths = new Set(requests.map((r) => `${r.method} ${new URL(r.url).pathname.replace(/\/lists\/[^/]+\//, '/lists/{id}/')}`));
		expect([...paths].sort()).toEqual(['GET /crm/v3/lists/{id}/memberships', 'GET /crm/v3/lists/{id}/memberships/join-order', 'POST /crm/v3/objects/contacts/batch/read']);
		expect(conformanceProblems(specs(), requests)).toEqual([]);
	});
});
