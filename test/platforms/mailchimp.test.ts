// The Mailchimp adapter over the fetch transport: nock at the HTTP level for every operation and
// failure, a stateful fake server end to end, and every API request of this file checked against
// Mailchimp's own description (../shared/specs/mailchimp/marketing_3.0.55.yaml) at the end.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import nock from 'nock';

import { ListHygieneMailchimpApi } from '../../credentials/ListHygieneMailchimpApi.credentials';
import { ListHygieneMailchimpOAuth2Api } from '../../credentials/ListHygieneMailchimpOAuth2Api.credentials';
import { PlatformApiError } from '../../src/http/client';
import { FetchTransport } from '../../src/http/fetchTransport';
import { collect } from '../../src/http/paginate';
import type { HttpRequest, Transport } from '../../src/http/types';
import { createMailchimp, MAILCHIMP_METADATA_URL, readBatchResults, subscriberHash, tarFiles } from '../../src/platforms/mailchimp';
import { createApiClient } from '../../src/platforms/registry';
import type { ContactRef, CredentialFields, MemberStatus } from '../../src/platforms/types';
import { conformanceProblems, describeConformance, RecordingTransport, type SentRequest } from '../helpers/conformance';
import { fakeSubscriberHash, startFakeMailchimp, tarArchive, type FakeMailchimp } from '../fakes/mailchimp';

const HOST = 'https://us6.api.mailchimp.com';
const BASE = `${HOST}/3.0`;
const S3 = 'https://mailchimp-api-batch.s3.amazonaws.com';
// A random key per run: the tests prove it never leaves in messages.
const KEY = `${randomBytes(16).toString('hex')}-us6`;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const PROBLEM_HEADERS = { 'content-type': 'application/problem+json; charset=utf-8' };

const pollWaits: number[] = [];
const platform = createMailchimp({ sleep: async (ms) => void pollWaits.push(ms), maxPollWaitMs: 60_000 });

// Every request of this file passes through a recorder; the last test checks them all against the spec.
const recorders: RecordingTransport[] = [];
function recording(credentials: CredentialFields): RecordingTransport {
	const transport = new RecordingTransport(new FetchTransport(platform.cliAuth(credentials)));
	recorders.push(transport);
	return transport;
}
const recorder = recording({ apiKey: KEY });

async function client(options: { transport?: Transport; credentials?: CredentialFields; timeoutMs?: number } = {}) {
	let now = 0;
	const sleeps: number[] = [];
	const api = await createApiClient(platform, options.credentials ?? { apiKey: KEY }, options.transport ?? recorder, {
		secrets: [KEY],
		timeoutMs: options.timeoutMs ?? 2_000,
		random: () => 1,
		now: () => now,
		// No real waiting: the clock moves by the time asked for (retries and the rate limiter).
		sleep: async (ms) => {
			sleeps.push(ms);
			now += ms;
		},
	});
	return { api, sleeps };
}

const problem = (status: number, title: string, detail: string) => ({ type: 'https://mailchimp.com/developer/marketing/docs/errors/', title, status, detail, instance: 'i-1' });

const emailOf = (i: number) => `user${i}@example.test`;
function member(i: number, status = 'subscribed', listId = 'aud1') {
	return { id: subscriberHash(emailOf(i)), email_address: emailOf(i), status, merge_fields: { FNAME: `First${i}` }, list_id: listId };
}

type Operation = { method: string; path: string; operation_id: string; params?: Record<string, string> };
type OperationReply = { status: number; body?: unknown };

/**
 * Mailchimp's batch endpoints on nock: POST /batches, `polls` GETs of its status (the last one
 * finished), and the results archive at a pre-signed S3 URL. `respond` answers each operation.
 */
function nockBatch(id: string, respond: (op: Operation) => OperationReply, options: { polls?: number; archive?: number | 'none'; resultsPerFile?: number } = {}) {
	let operations: Operation[] = [];
	let results: Array<{ status_code: number; operation_id: string; response: string }> | undefined;
	const compute = () =>
		(results ??= operations.map((op) => {
			const reply = respond(op);
			return { status_code: reply.status, operation_id: op.operation_id, response: reply.body === undefined ? '' : JSON.stringify(reply.body) };
		}));
	const submissions: Operation[][] = [];
	nock(BASE)
		.post('/batches', (body: { operations: Operation[] }) => {
			operations = body.operations;
			submissions.push(operations);
			return true;
		})
		.reply(200, () => ({ id, status: 'pending', total_operations: operations.length, finished_operations: 0, errored_operations: 0 }), JSON_HEADERS);
	const polls = options.polls ?? 1;
	for (let i = 1; i < polls; i++) {
		nock(BASE)
			.get(`/batches/${id}`)
			.query(true)
			.reply(200, () => ({ id, status: i === 1 ? 'preprocessing' : 'started', total_operations: operations.length, finished_operations: 0, errored_operations: 0 }), JSON_HEADERS);
	}
	nock(BASE)
		.get(`/batches/${id}`)
		.query(true)
		.reply(
			200,
			() => ({
				id,
				status: 'finished',
				total_operations: operations.length,
				finished_operations: operations.length,
				errored_operations: compute().filter((r) => r.status_code >= 400).length,
				response_body_url: `${S3}/${id}-response.tar.gz?AWSAccessKeyId=AKIAFAKE&Expires=1999999999&Signature=sig%2B${id}`,
			}),
			JSON_HEADERS,
		);
	if (options.archive !== 'none') {
		const status = typeof options.archive === 'number' ? options.archive : 200;
		nock(S3)
			.get(`/${id}-response.tar.gz`)
			.query(true)
			.reply(
				status,
				() => {
					if (status !== 200) return '<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>';
					const per = options.resultsPerFile ?? 500;
					const files: Array<{ name: string; data?: Buffer; directory?: boolean }> = [{ name: `${id}-response/`, directory: true }];
					for (let i = 0; i < compute().length; i += per) files.push({ name: `${id}-response/part${i}.json`, data: Buffer.from(JSON.stringify(compute().slice(i, i + per))) });
					return gzipSync(tarArchive(files));
				},
				{ 'content-type': status === 200 ? 'application/x-gzip' : 'application/xml' },
			);
	}
	return { submissions, operations: () => operations };
}

const refs = (...items: Array<Omit<ContactRef, 'index'>>): ContactRef[] => items.map((item, index) => ({ index, ...item }));

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
	nock.cleanAll();
	pollWaits.length = 0;
});
afterAll(() => nock.enableNetConnect());

describe('Mailchimp: what it declares', () => {
	it('declares its capabilities and limits from Mailchimp’s description', () => {
		expect(platform.capabilities).toEqual({
			listKinds: ['audience'],
			// Members belong to one audience: unsubscribing changes that membership only.
			unsubscribeScope: 'list',
			// DELETE /lists/{list_id}/members/{subscriber_hash} archives; .../actions/delete-permanent erases.
			deleteKind: 'archive',
			permanentDelete: true,
			tag: true,
			newMemberPolling: true,
		});
		// GET /lists/{list_id}/members: count "Maximum value is 1000" -> 10 reads for 10,000 (DESIGN.md §4: 10).
		// POST /lists/{list_id}: "Up to 500 members ... with each API call" -> 2 writes for 1,000 (§4: 2).
		// POST /batches: no documented cap on operations; 1,000 per batch -> 1 submission (§4: 1).
		// Mailchimp limits a key to 10 simultaneous connections and names no rate: 10 a second, one at a time.
		expect(platform.limits).toEqual({ pageSize: 1000, unsubscribeBatch: 500, deleteBatch: 1000, rateLimit: { requests: 10, perMs: 1000 } });
		expect(platform.credentials.map((c) => c.name)).toEqual([new ListHygieneMailchimpApi().name, new ListHygieneMailchimpOAuth2Api().name]);
	});

	it('has credentials with a base URL override, basic auth for the key and Mailchimp’s OAuth2 endpoints', () => {
		const key = new ListHygieneMailchimpApi();
		expect(key.properties.map((p) => p.name)).toEqual(['apiKey', 'baseUrl']);
		expect(key.authenticate.properties).toEqual({ auth: { username: 'anystring', password: '={{$credentials.apiKey}}' } });
		expect(key.test.request.url).toBe('/ping');
		const oauth = new ListHygieneMailchimpOAuth2Api();
		expect(oauth.extends).toEqual(['oAuth2Api']);
		const defaults = Object.fromEntries(oauth.properties.map((p) => [p.name, p.default]));
		expect(defaults).toMatchObject({ authUrl: 'https://login.mailchimp.com/oauth2/authorize', accessTokenUrl: 'https://login.mailchimp.com/oauth2/token', baseUrl: '' });
	});
});

describe('Mailchimp: credentials and base URL', () => {
	it('signs with HTTP basic auth (any user, the key as password) and finds the data centre in the key', async () => {
		const auth = platform.cliAuth({ apiKey: KEY });
		expect(Buffer.from(auth.authorization.replace(/^Basic /, ''), 'base64').toString()).toBe(`anystring:${KEY}`);
		expect(platform.cliAuth({ accessToken: 'tok-123' })).toEqual({ authorization: 'Bearer tok-123' });
		await expect(platform.baseUrl({ apiKey: 'abc-us21' }, recorder)).resolves.toBe('https://us21.api.mailchimp.com/3.0');
		await expect(platform.baseUrl({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9/3.0/' }, recorder)).resolves.toBe('http://127.0.0.1:9/3.0');
	});

	it('refuses a key without a data-centre suffix, or with a host in it, without showing the key', async () => {
		for (const key of ['0123456789abcdef', `${KEY.slice(0, 10)}-evil.example/x`]) {
			const error = (await platform.baseUrl({ apiKey: key }, recorder).catch((e: unknown) => e)) as PlatformApiError;
			expect(error).toBeInstanceOf(PlatformApiError);
			expect(error.message).toMatch(/no data-centre suffix \(such as "-us6"\)/);
			expect(error.message).not.toContain(key);
		}
	});

	it('asks the OAuth2 metadata endpoint, with the token, for the account’s API endpoint', async () => {
		const transport = recording({ accessToken: 'tok-abc' });
		nock('https://login.mailchimp.com', { reqheaders: { authorization: 'Bearer tok-abc' } })
			.get('/oauth2/metadata')
			.reply(200, { dc: 'us19', api_endpoint: 'https://us19.api.mailchimp.com', login_url: 'https://login.mailchimp.com' }, JSON_HEADERS);
		await expect(platform.baseUrl({ accessToken: 'tok-abc' }, transport)).resolves.toBe('https://us19.api.mailchimp.com/3.0');
		expect(transport.sent.map((r) => r.url)).toEqual([MAILCHIMP_METADATA_URL]);
	});

	it('explains a rejected OAuth2 token and a metadata answer without an endpoint', async () => {
		nock('https://login.mailchimp.com').get('/oauth2/metadata').reply(401, { error: 'invalid_token' }, JSON_HEADERS);
		await expect(platform.baseUrl({ accessToken: 'old' }, recorder)).rejects.toThrow(/HTTP 401\. The API key is invalid or revoked.*reconnect the account/);
		nock('https://login.mailchimp.com').get('/oauth2/metadata').reply(200, { dc: 'us1' }, JSON_HEADERS);
		await expect(platform.baseUrl({ accessToken: 'tok' }, recorder)).rejects.toThrow(/unexpected response \(no api_endpoint\)/);
	});
});

describe('Mailchimp: lists (audiences)', () => {
	it('reads audiences with their member counts, 1,000 a page, trimmed to the fields it needs', async () => {
		nock(BASE)
			.get('/lists')
			.query({ count: '1000', offset: '0', fields: 'lists.id,lists.name,lists.stats.member_count,total_items' })
			.reply(200, { lists: [{ id: 'a1', name: 'Newsletter', stats: { member_count: 1234 } }, { id: 'a2', name: 'Customers', stats: { member_count: 7 } }], total_items: 2 }, JSON_HEADERS);
		const { api } = await client();
		await expect(platform.lists(api, {})).resolves.toEqual({
			lists: [
				{ id: 'a1', name: 'Newsletter', kind: 'audience', memberCount: 1234 },
				{ id: 'a2', name: 'Customers', kind: 'audience', memberCount: 7 },
			],
		});
		expect(api.requests).toBe(1);
	});

	it('filters by a case-insensitive name substring (Mailchimp has no name filter) and passes the offset on as the cursor', async () => {
		const page = (offset: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: `l${offset + i}`, name: offset + i === 1001 ? 'Spring NEWS' : `List ${offset + i}`, stats: { member_count: 1 } }));
		nock(BASE).get('/lists').query((q) => q.offset === '0').reply(200, { lists: page(0, 1000), total_items: 1002 }, JSON_HEADERS);
		nock(BASE).get('/lists').query((q) => q.offset === '1000').reply(200, { lists: page(1000, 2), total_items: 1002 }, JSON_HEADERS);
		const { api } = await client();
		const first = await platform.lists(api, { filter: 'news' });
		expect(first).toEqual({ lists: [], cursor: '1000' });
		await expect(platform.lists(api, { filter: 'news', cursor: first.cursor })).resolves.toEqual({ lists: [{ id: 'l1001', name: 'Spring NEWS', kind: 'audience', memberCount: 1 }] });
	});

	it('reads an account without audiences', async () => {
		nock(BASE).get('/lists').query(true).reply(200, { lists: [], total_items: 0 }, JSON_HEADERS);
		const { api } = await client();
		await expect(platform.lists(api, {})).resolves.toEqual({ lists: [] });
	});

	it('explains a rejected key (401) without showing it', async () => {
		nock(BASE).get('/lists').query(true).reply(401, problem(401, 'API Key Invalid', 'Your API key may be invalid, or you’ve attempted to access the wrong datacenter.'), PROBLEM_HEADERS);
		const { api } = await client();
		const error = (await platform.lists(api, {}).catch((e: unknown) => e)) as PlatformApiError;
		expect(error).toBeInstanceOf(PlatformApiError);
		expect(error.message).toMatch(/^Mailchimp: read audiences failed with HTTP 401\. The API key is invalid or revoked/);
		expect(error.message).toContain('Mailchimp says: API Key Invalid: Your API key may be invalid');
		expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(KEY);
		expect(api.requests).toBe(1);
	});

	it('reports a body that is not JSON as a clear error, not a crash', async () => {
		nock(BASE).get('/lists').query(true).reply(200, '{"lists": [{"id": "a1"', JSON_HEADERS);
		const { api } = await client();
		await expect(platform.lists(api, {})).rejects.toThrow(new PlatformApiError('Mailchimp: read audiences returned an unexpected response (no "lists" array).', {} as never));
	});
});

describe('Mailchimp: members', () => {
	const path = '/lists/aud1/members';

	it('reads nothing more than one request for an empty audience', async () => {
		nock(BASE).get(path).query(true).reply(200, { members: [], total_items: 0 }, JSON_HEADERS);
		const { api } = await client();
		await expect(collect(platform.members(api, 'aud1', {}))).resolves.toEqual([]);
		expect(api.requests).toBe(1);
	});

	it('reads exactly one full page in one request, 1,000 at a time, with the fields trimmed', async () => {
		let query: Record<string, string> = {};
		nock(BASE)
			.get(path)
			.query((q) => {
				query = q as Record<string, string>;
				return true;
			})
			.reply(200, { members: Array.from({ length: 1000 }, (_, i) => member(i)), total_items: 1000 }, JSON_HEADERS);
		const { api } = await client();
		const members = await collect(platform.members(api, 'aud1', {}));
		expect(members).toHaveLength(1000);
		expect(api.requests).toBe(1);
		expect(query).toMatchObject({ count: '1000', offset: '0' });
		expect(query.fields.split(',')).toEqual(expect.arrayContaining(['members.id', 'members.email_address', 'members.status', 'members.merge_fields', 'total_items']));
		expect(query.fields).not.toContain('_links');
		expect(members[7]).toEqual({
			email: emailOf(7),
			contactId: subscriberHash(emailOf(7)),
			listId: 'aud1',
			platform: 'mailchimp',
			status: 'subscribed',
			raw: member(7),
		});
	});

	it('reads a short last page and stops there', async () => {
		nock(BASE).get(path).query((q) => q.offset === '0').reply(200, { members: Array.from({ length: 1000 }, (_, i) => member(i)), total_items: 1005 }, JSON_HEADERS);
		nock(BASE).get(path).query((q) => q.offset === '1000').reply(200, { members: Array.from({ length: 5 }, (_, i) => member(1000 + i)), total_items: 1005 }, JSON_HEADERS);
		const { api } = await client();
		const pages: number[] = [];
		for await (const page of platform.members(api, 'aud1', {})) pages.push(page.length);
		expect(pages).toEqual([1000, 5]);
		expect(api.requests).toBe(2);
	});

	it('maps the status filter to Mailchimp’s own, one pass per status, and normalises statuses', async () => {
		nock(BASE).get(path).query((q) => q.status === 'unsubscribed').reply(200, { members: [member(1, 'unsubscribed')], total_items: 1 }, JSON_HEADERS);
		nock(BASE).get(path).query((q) => q.status === 'cleaned').reply(200, { members: [member(2, 'cleaned')], total_items: 1 }, JSON_HEADERS);
		const { api } = await client();
		const members = await collect(platform.members(api, 'aud1', { status: ['unsubscribed', 'cleaned', 'unknown'] }));
		expect(members.map((m) => [m.email, m.status])).toEqual([
			[emailOf(1), 'unsubscribed'],
			[emailOf(2), 'cleaned'],
		]);
		expect(api.requests).toBe(2);
		// Mailchimp has no status outside its six: asking only for "unknown" reads nothing.
		await expect(collect(platform.members(api, 'aud1', { status: ['unknown'] as MemberStatus[] }))).resolves.toEqual([]);
		expect(api.requests).toBe(2);
	});

	it('says the audience is gone on a 404', async () => {
		nock(BASE).get('/lists/gone/members').query(true).reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), PROBLEM_HEADERS);
		const { api } = await client();
		await expect(collect(platform.members(api, 'gone', {}))).rejects.toThrow(
			'Mailchimp: read members failed with HTTP 404. Mailchimp has no such audience (deleted, or in another account): pick the audience again (Mailchimp says: Resource Not Found: The requested resource could not be found.).',
		);
	});

	it('explains a 403 (the user’s role)', async () => {
		nock(BASE).get(path).query(true).reply(403, problem(403, 'Forbidden', 'You don’t have permission to access this resource.'), PROBLEM_HEADERS);
		const { api } = await client();
		await expect(collect(platform.members(api, 'aud1', {}))).rejects.toThrow(/HTTP 403\. This Mailchimp user has no access to it/);
	});

	it('waits as long as a 429’s Retry-After says, and backs off without one', async () => {
		nock(BASE)
			.get(path)
			.query(true)
			.reply(429, problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.'), { ...PROBLEM_HEADERS, 'retry-after': '3' })
			.get(path)
			.query(true)
			.reply(429, problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.'), PROBLEM_HEADERS)
			.get(path)
			.query(true)
			.reply(200, { members: [member(1)], total_items: 1 }, JSON_HEADERS);
		const { api, sleeps } = await client();
		await expect(collect(platform.members(api, 'aud1', {}))).resolves.toHaveLength(1);
		expect(sleeps).toEqual([3000, 1000]);
		expect(api.requests).toBe(3);
	});

	it('gives up on a lasting 429 with Mailchimp’s advice', async () => {
		nock(BASE).get(path).query(true).times(5).reply(429, problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.'), PROBLEM_HEADERS);
		const { api } = await client();
		await expect(collect(platform.members(api, 'aud1', {}))).rejects.toThrow(/HTTP 429\. Mailchimp allows 10 simultaneous connections per API key/);
		expect(api.requests).toBe(5);
	});

	it('retries after 5xx, then reads', async () => {
		nock(BASE).get(path).query(true).reply(503, 'upstream', { 'content-type': 'text/html' }).get(path).query(true).reply(500).get(path).query(true).reply(200, { members: [member(3)], total_items: 1 }, JSON_HEADERS);
		const { api, sleeps } = await client();
		await expect(collect(platform.members(api, 'aud1', {}))).resolves.toHaveLength(1);
		expect(sleeps).toEqual([500, 1000]);
	});

	it('retries a timed-out read, and reports a lasting timeout with advice', async () => {
		nock(BASE).get(path).query(true).delay(400).reply(200, { members: [], total_items: 0 }, JSON_HEADERS).get(path).query(true).reply(200, { members: [member(4)], total_items: 1 }, JSON_HEADERS);
		const first = await client({ timeoutMs: 100 });
		await expect(collect(platform.members(first.api, 'aud1', {}))).resolves.toHaveLength(1);
		expect(first.api.requests).toBe(2);

		nock(BASE).get(path).query(true).times(5).delay(400).reply(200, { members: [], total_items: 0 }, JSON_HEADERS);
		const second = await client({ timeoutMs: 100 });
		await expect(collect(platform.members(second.api, 'aud1', {}))).rejects.toThrow('Mailchimp: read members failed: no response within 100 ms. Check the network connection and the base URL, then try again.');
	});

	it('reports malformed bodies as a clear error', async () => {
		nock(BASE).get(path).query(true).reply(200, 'not json at all', JSON_HEADERS);
		const { api } = await client();
		await expect(collect(platform.members(api, 'aud1', {}))).rejects.toThrow('Mailchimp: read members returned an unexpected response (no "members" array).');
		nock(BASE).get(path).query(true).reply(200, { members: [{ id: 'x' }], total_items: 1 }, JSON_HEADERS);
		await expect(collect(platform.members(api, 'aud1', {}))).rejects.toThrow('(a member without an id or email address)');
	});
});

describe('Mailchimp: unsubscribe', () => {
	const read = (i: number) => `/lists/aud1/members/${subscriberHash(emailOf(i))}`;

	it('reads a few contacts one by one, writes only those still getting mail, and keeps the input order', async () => {
		nock(BASE)
			.get(read(1))
			.query({ fields: 'id,email_address,status' })
			.reply(200, { id: subscriberHash(emailOf(1)), email_address: emailOf(1), status: 'subscribed' }, JSON_HEADERS)
			.get(read(2))
			.query(true)
			.reply(200, { id: subscriberHash(emailOf(2)), email_address: emailOf(2), status: 'unsubscribed' }, JSON_HEADERS)
			.get(`/lists/aud1/members/${subscriberHash(emailOf(3))}`)
			.query(true)
			.reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), PROBLEM_HEADERS);
		let sent: unknown;
		nock(BASE)
			.post('/lists/aud1', (body) => {
				sent = body;
				return true;
			})
			.reply(200, { new_members: [], updated_members: [{ id: subscriberHash(emailOf(1)), email_address: emailOf(1), status: 'unsubscribed' }], errors: [], total_created: 0, total_updated: 1, error_count: 0 }, JSON_HEADERS);
		const { api } = await client();
		// Email only, contact id only (the id is the subscriber hash), and both.
		const outcomes = await platform.unsubscribe(api, 'aud1', refs({ email: emailOf(1) }, { contactId: subscriberHash(emailOf(2)) }, { email: emailOf(3), contactId: subscriberHash(emailOf(3)) }));
		expect(sent).toEqual({ members: [{ email_address: emailOf(1), status: 'unsubscribed' }], update_existing: true });
		expect(outcomes).toEqual([
			{ index: 0, outcome: 'done', contactId: subscriberHash(emailOf(1)), email: emailOf(1) },
			{ index: 1, outcome: 'already', contactId: subscriberHash(emailOf(2)), email: emailOf(2), detail: 'Already unsubscribed.' },
			{ index: 2, outcome: 'already', contactId: subscriberHash(emailOf(3)), email: emailOf(3), detail: 'Not a member of this audience: nothing to unsubscribe.' },
		]);
		expect(api.requests).toBe(4);
	});

	it('reads many contacts in one batch, then reports each contact’s real outcome, per-contact failures included', async () => {
		const statuses: Record<number, string | 404> = { 1: 'subscribed', 2: 'unsubscribed', 3: 404, 4: 'cleaned', 5: 'archived', 6: 'pending', 7: 'subscribed', 8: 'transactional' };
		const batch = nockBatch('rd1', (op) => {
			const i = Object.keys(statuses).map(Number).find((n) => op.path === read(n));
			const status = i === undefined ? 404 : statuses[i];
			if (status === 404) return { status: 404, body: problem(404, 'Resource Not Found', 'The requested resource could not be found.') };
			return { status: 200, body: { id: subscriberHash(emailOf(i!)), email_address: emailOf(i!), status } };
		}, { polls: 3 });
		let sent: { members: Array<{ email_address: string }> } | undefined;
		nock(BASE)
			.post('/lists/aud1', (body) => {
				sent = body;
				return true;
			})
			.reply(
				200,
				{
					new_members: [],
					updated_members: [emailOf(1), emailOf(6), emailOf(8)].map((email) => ({ id: subscriberHash(email), email_address: email.toUpperCase(), status: 'unsubscribed' })),
					errors: [{ email_address: emailOf(7), error: `${emailOf(7)} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`, error_code: 'ERROR_GENERIC' }],
					total_created: 0,
					total_updated: 3,
					error_count: 1,
				},
				JSON_HEADERS,
			);
		const { api } = await client();
		const outcomes = await platform.unsubscribe(
			api,
			'aud1',
			refs({ email: emailOf(1) }, { email: emailOf(2) }, { email: emailOf(3) }, {}, { email: emailOf(4) }, { contactId: subscriberHash(emailOf(5)) }, { email: emailOf(6) }, { email: emailOf(7) }, { email: emailOf(8) }, { email: emailOf(1) }),
		);
		expect(batch.operations()).toHaveLength(8);
		expect(batch.operations()[0]).toEqual({ method: 'GET', path: read(1), operation_id: '0', params: { fields: 'id,email_address,status' } });
		expect(pollWaits).toEqual([1000, 2000, 3000]);
		expect(sent?.members.map((m) => m.email_address)).toEqual([emailOf(1), emailOf(6), emailOf(7), emailOf(8)]);
		expect(outcomes.map((o) => [o.index, o.outcome, o.detail])).toEqual([
			[0, 'done', undefined],
			[1, 'already', 'Already unsubscribed.'],
			[2, 'already', 'Not a member of this audience: nothing to unsubscribe.'],
			[3, 'skipped', 'The item names no contact: it has neither a contact ID nor an email address.'],
			[4, 'already', 'Cleaned (bounced): Mailchimp sends it no mail.'],
			[5, 'already', 'Archived: Mailchimp sends it no mail (unsubscribing would restore it).'],
			[6, 'done', undefined],
			[7, 'failed', `${emailOf(7)} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`],
			[8, 'done', undefined],
			[9, 'done', undefined],
		]);
		// The contact-id-only ref got its address from the read.
		expect(outcomes[5]).toMatchObject({ email: emailOf(5), contactId: subscriberHash(emailOf(5)) });
		// Reads: 1 submission + 3 polls + 1 archive; writes: 1.
		expect(api.requests).toBe(6);
	});

	it('goes on after a failed batch: 600 contacts, the first 500 refused, the last 100 written', async () => {
		const emails = Array.from({ length: 600 }, (_, i) => emailOf(i));
		nockBatch('rd2', (op) => {
			const i = emails.findIndex((e) => op.path === `/lists/aud1/members/${subscriberHash(e)}`);
			return { status: 200, body: { id: subscriberHash(emails[i]), email_address: emails[i], status: 'subscribed' } };
		});
		nock(BASE).post('/lists/aud1').reply(400, problem(400, 'Invalid Resource', 'The resource submitted could not be validated.'), PROBLEM_HEADERS);
		nock(BASE)
			.post('/lists/aud1')
			.reply(200, { new_members: [], updated_members: emails.slice(500).map((email) => ({ id: subscriberHash(email), email_address: email, status: 'unsubscribed' })), errors: [] }, JSON_HEADERS);
		const { api } = await client();
		const outcomes = await platform.unsubscribe(api, 'aud1', refs(...emails.map((email) => ({ email }))));
		expect(outcomes.slice(0, 500).every((o) => o.outcome === 'failed' && /HTTP 400\. Mailchimp refused the request: Invalid Resource/.test(o.detail ?? ''))).toBe(true);
		expect(outcomes.slice(500).every((o) => o.outcome === 'done')).toBe(true);
		expect(outcomes.map((o) => o.index)).toEqual(emails.map((_, i) => i));
	});

	it('advises on a 403 of a user who may not change contacts, for each contact', async () => {
		nock(BASE).get(read(1)).query(true).reply(200, { id: subscriberHash(emailOf(1)), email_address: emailOf(1), status: 'subscribed' }, JSON_HEADERS);
		nock(BASE).post('/lists/aud1').reply(403, problem(403, 'Forbidden', 'You don’t have permission to access this resource.'), PROBLEM_HEADERS);
		const { api } = await client();
		const [outcome] = await platform.unsubscribe(api, 'aud1', refs({ email: emailOf(1) }));
		expect(outcome.outcome).toBe('failed');
		expect(outcome.detail).toMatch(/HTTP 403\. This Mailchimp user may read the audience but not change contacts .*use a key or connection of a Manager or Admin user, or use Verify only/);
	});

	it('fails every contact with the advice when the key is rejected (401), without the key', async () => {
		nock(BASE).get(read(1)).query(true).reply(401, problem(401, 'API Key Invalid', 'Your API key may be invalid.'), PROBLEM_HEADERS);
		nock(BASE).get(read(2)).query(true).reply(401, problem(401, 'API Key Invalid', 'Your API key may be invalid.'), PROBLEM_HEADERS);
		const { api } = await client();
		const outcomes = await platform.unsubscribe(api, 'aud1', refs({ email: emailOf(1) }, { email: emailOf(2) }));
		expect(outcomes.map((o) => o.outcome)).toEqual(['failed', 'failed']);
		expect(outcomes[0].detail).toMatch(/^Mailchimp: read contact failed with HTTP 401\. The API key is invalid or revoked/);
		expect(JSON.stringify(outcomes)).not.toContain(KEY);
	});

	it('says the audience is gone when it is (every contact 404, then the audience 404)', async () => {
		nock(BASE).get(`/lists/gone/members/${subscriberHash(emailOf(1))}`).query(true).reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), PROBLEM_HEADERS);
		nock(BASE).get('/lists/gone').query({ fields: 'id' }).reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), PROBLEM_HEADERS);
		const { api } = await client();
		const [outcome] = await platform.unsubscribe(api, 'gone', refs({ email: emailOf(1) }));
		expect(outcome).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('Mailchimp has no such audience (deleted, or in another account): pick the audience again') });
	});

	it('reports a malformed batch answer for its contacts', async () => {
		nock(BASE).get(read(1)).query(true).reply(200, { id: subscriberHash(emailOf(1)), email_address: emailOf(1), status: 'subscribed' }, JSON_HEADERS);
		nock(BASE).post('/lists/aud1').reply(200, '<html>oops</html>', { 'content-type': 'text/html' });
		const { api } = await client();
		const [outcome] = await platform.unsubscribe(api, 'aud1', refs({ email: emailOf(1) }));
		expect(outcome).toMatchObject({ outcome: 'failed', detail: 'Mailchimp: unsubscribe contacts returned an unexpected response (not a batch result).' });
	});
});

describe('Mailchimp: delete', () => {
	const memberPath = (i: number) => `/lists/aud1/members/${subscriberHash(emailOf(i))}`;

	it('archives through one batch, polls it to its end, and reads each contact’s outcome from the results archive', async () => {
		const batch = nockBatch(
			'del1',
			(op) => {
				if (op.path === memberPath(2)) return { status: 404, body: problem(404, 'Resource Not Found', 'The requested resource could not be found.') };
				if (op.path === memberPath(3)) return { status: 405, body: problem(405, 'Method Not Allowed', 'This list member cannot be removed.  Please contact support.') };
				return { status: 204 };
			},
			{ polls: 2, resultsPerFile: 2 },
		);
		const { api } = await client();
		const outcomes = await platform.delete(api, 'aud1', refs({ email: emailOf(1) }, { contactId: subscriberHash(emailOf(2)) }, { email: emailOf(3) }, {}, { email: emailOf(4) }), {});
		expect(batch.operations()).toEqual([
			{ method: 'DELETE', path: memberPath(1), operation_id: '0' },
			{ method: 'DELETE', path: memberPath(2), operation_id: '1' },
			{ method: 'DELETE', path: memberPath(3), operation_id: '2' },
			{ method: 'DELETE', path: memberPath(4), operation_id: '3' },
		]);
		expect(outcomes).toEqual([
			{ index: 0, outcome: 'done', contactId: subscriberHash(emailOf(1)), email: emailOf(1) },
			{ index: 1, outcome: 'already', contactId: subscriberHash(emailOf(2)), detail: 'Not in this audience (already deleted or archived).' },
			{ index: 2, outcome: 'failed', contactId: subscriberHash(emailOf(3)), email: emailOf(3), detail: 'Method Not Allowed: This list member cannot be removed.  Please contact support.' },
			{ index: 3, outcome: 'skipped', detail: 'The item names no contact: it has neither a contact ID nor an email address.' },
			{ index: 4, outcome: 'done', contactId: subscriberHash(emailOf(4)), email: emailOf(4) },
		]);
		// 1 submission, 2 polls, 1 archive download.
		expect(api.requests).toBe(4);
	});

	it('deletes permanently only when asked, with Mailchimp’s delete-permanent action', async () => {
		const batch = nockBatch('del2', () => ({ status: 204 }), { archive: 'none' });
		const { api } = await client();
		const outcomes = await platform.delete(api, 'aud1', refs({ email: emailOf(1) }), { permanent: true });
		expect(batch.operations()).toEqual([{ method: 'POST', path: `${memberPath(1)}/actions/delete-permanent`, operation_id: '0' }]);
		expect(outcomes).toEqual([{ index: 0, outcome: 'done', contactId: subscriberHash(emailOf(1)), email: emailOf(1) }]);
		// Nothing errored: no archive to download.
		expect(api.requests).toBe(2);
	});

	it('reports a batch that does not finish in time as unknown outcomes to retry', async () => {
		nock(BASE).post('/batches').reply(200, { id: 'slow', status: 'pending' }, JSON_HEADERS);
		nock(BASE).get('/batches/slow').query(true).times(20).reply(200, { id: 'slow', status: 'started' }, JSON_HEADERS);
		const { api } = await client();
		const outcomes = await platform.delete(api, 'aud1', refs({ email: emailOf(1) }), {});
		expect(outcomes[0]).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/^Mailchimp had not finished batch slow after 6\d s, so this contact's outcome is unknown: run the same clean-up again later/) });
	});

	it('falls back to reading each contact when the results archive cannot be downloaded', async () => {
		// Contacts 1 and 2 were archived by the batch, 3 never existed, 4 could not be removed.
		nockBatch('del3', (op) => (op.path === memberPath(3) ? { status: 404 } : op.path === memberPath(4) ? { status: 405 } : { status: 204 }), { archive: 400 });
		nock(BASE)
			.get(memberPath(1))
			.query(true)
			.reply(200, { status: 'archived' }, JSON_HEADERS)
			.get(memberPath(2))
			.query(true)
			.reply(200, { status: 'archived' }, JSON_HEADERS)
			.get(memberPath(3))
			.query(true)
			.reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), PROBLEM_HEADERS)
			.get(memberPath(4))
			.query(true)
			.reply(200, { status: 'subscribed' }, JSON_HEADERS);
		const { api } = await client();
		const outcomes = await platform.delete(api, 'aud1', refs({ email: emailOf(1) }, { email: emailOf(2) }, { email: emailOf(3) }, { email: emailOf(4) }), {});
		expect(outcomes.map((o) => [o.outcome, o.detail])).toEqual([
			['done', undefined],
			['done', undefined],
			['already', 'Not in this audience (already deleted).'],
			['failed', 'Mailchimp did not remove it (it is subscribed); the batch’s per-contact message could not be read: the results download answered HTTP 400.'],
		]);
	});

	it('fails a batch’s contacts when the submission fails, and goes on with the next batch', async () => {
		const emails = Array.from({ length: 1001 }, (_, i) => emailOf(i));
		nock(BASE).post('/batches').reply(400, problem(400, 'Invalid Resource', 'Schema describes object, array found instead'), PROBLEM_HEADERS);
		nockBatch('del4', () => ({ status: 204 }), { archive: 'none' });
		const { api } = await client();
		const outcomes = await platform.delete(api, 'aud1', refs(...emails.map((email) => ({ email }))), {});
		expect(outcomes.slice(0, 1000).every((o) => o.outcome === 'failed' && o.detail?.includes('Mailchimp refused the request: Invalid Resource: Schema describes object, array found instead'))).toBe(true);
		expect(outcomes[1000]).toMatchObject({ index: 1000, outcome: 'done', email: emailOf(1000) });
	});

	it('sends a timed-out batch submission again (its operations are safe to repeat)', async () => {
		nock(BASE).post('/batches').delay(400).reply(200, { id: 'lost', status: 'pending' }, JSON_HEADERS);
		const batch = nockBatch('del6', () => ({ status: 204 }), { archive: 'none' });
		const { api } = await client({ timeoutMs: 100 });
		const outcomes = await platform.delete(api, 'aud1', refs({ email: emailOf(1) }), {});
		expect(outcomes[0].outcome).toBe('done');
		expect(batch.submissions).toHaveLength(1);
		expect(api.requests).toBe(3);
	});

	it('stops after a 401 and gives every contact the advice', async () => {
		const emails = Array.from({ length: 1500 }, (_, i) => emailOf(i));
		nock(BASE).post('/batches').reply(401, problem(401, 'API Key Invalid', 'Your API key may be invalid.'), PROBLEM_HEADERS);
		const { api } = await client();
		const outcomes = await platform.delete(api, 'aud1', refs(...emails.map((email) => ({ email }))), {});
		expect(new Set(outcomes.map((o) => o.outcome))).toEqual(new Set(['failed']));
		expect(outcomes[1499].detail).toMatch(/HTTP 401\. The API key is invalid or revoked/);
		expect(api.requests).toBe(1);
	});

	it('says the audience is gone when every contact is a 404 and so is the audience', async () => {
		nockBatch('del5', () => ({ status: 404, body: problem(404, 'Resource Not Found', 'The requested resource could not be found.') }));
		nock(BASE).get('/lists/aud1').query({ fields: 'id' }).reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), PROBLEM_HEADERS);
		const { api } = await client();
		const outcomes = await platform.delete(api, 'aud1', refs({ email: emailOf(1) }, { email: emailOf(2) }), {});
		expect(outcomes.map((o) => o.outcome)).toEqual(['failed', 'failed']);
		expect(outcomes[0].detail).toMatch(/Mailchimp has no such audience/);
	});

	it('reports a results archive that is not a gzipped tar', async () => {
		nock(BASE).post('/batches').reply(200, { id: 'bad', status: 'pending' }, JSON_HEADERS);
		nock(BASE).get('/batches/bad').query(true).reply(200, { id: 'bad', status: 'finished', total_operations: 1, finished_operations: 1, errored_operations: 1, response_body_url: `${S3}/bad.tar.gz` }, JSON_HEADERS);
		nock(S3).get('/bad.tar.gz').reply(200, gzipSync(Buffer.from('definitely not a tar archive, but long enough to need a header '.repeat(10))), { 'content-type': 'application/x-gzip' });
		nock(BASE).get(memberPath(1)).query(true).reply(200, { status: 'subscribed' }, JSON_HEADERS);
		const { api } = await client();
		const [outcome] = await platform.delete(api, 'aud1', refs({ email: emailOf(1) }), {});
		expect(outcome).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('the results archive could not be read (tar header at byte 0 has a bad checksum)') });
	});
});

describe('Mailchimp: tag', () => {
	const TAG = 'list-hygiene:invalid';
	const SEGMENTS = '/lists/aud1/segments';
	const read = (i: number) => `/lists/aud1/members/${subscriberHash(emailOf(i))}`;
	const tags = (...list: Array<[number, string]>) => ({ segments: list.map(([id, name]) => ({ id, name })), total_items: list.length });
	const holders = (ids: number[], total = ids.length) => ({ members: ids.map((i) => ({ id: subscriberHash(emailOf(i)), email_address: emailOf(i), contact_id: `c${i}` })), total_items: total });
	const added = (emails: string[]) => ({ members_added: emails.map((email) => ({ id: subscriberHash(email), email_address: email, status: 'subscribed' })), members_removed: [], errors: [], total_added: emails.length, total_removed: 0, error_count: 0 });

	it('creates the tag once when the audience lacks it, then adds the contacts in one batch, in input order', async () => {
		nock(BASE)
			.get(SEGMENTS)
			.query({ type: 'static', count: '1000', offset: '0', fields: 'segments.id,segments.name,total_items' })
			.reply(200, tags([5, 'vip'], [6, 'list-hygiene:disposable']), JSON_HEADERS);
		let created: unknown;
		nock(BASE)
			.post(SEGMENTS, (body) => {
				created = body;
				return true;
			})
			.reply(200, { id: 77, name: TAG, member_count: 0, type: 'static', list_id: 'aud1' }, JSON_HEADERS);
		// The contact given by its subscriber hash alone: its address is read first (the batch add takes addresses).
		nock(BASE).get(read(2)).query({ fields: 'id,email_address,status' }).reply(200, { id: subscriberHash(emailOf(2)), email_address: emailOf(2), status: 'unsubscribed' }, JSON_HEADERS);
		let sent: unknown;
		nock(BASE)
			.post(`${SEGMENTS}/77`, (body) => {
				sent = body;
				return true;
			})
			.reply(200, added([emailOf(1), emailOf(2)]), JSON_HEADERS);
		const { api } = await client();
		const outcomes = await platform.tag(api, 'aud1', refs({ email: emailOf(1) }, { contactId: subscriberHash(emailOf(2)) }, {}, { email: emailOf(1).toUpperCase() }), TAG);
		expect(created).toEqual({ name: TAG, static_segment: [] });
		// Only the addresses: no field of any member is sent.
		expect(sent).toEqual({ members_to_add: [emailOf(1), emailOf(2)] });
		expect(outcomes).toEqual([
			{ index: 0, outcome: 'done', contactId: subscriberHash(emailOf(1)), email: emailOf(1) },
			{ index: 1, outcome: 'done', contactId: subscriberHash(emailOf(2)), email: emailOf(2) },
			{ index: 2, outcome: 'skipped', detail: 'The item names no contact: it has neither a contact ID nor an email address.' },
			{ index: 3, outcome: 'done', contactId: subscriberHash(emailOf(1)), email: emailOf(1).toUpperCase() },
		]);
		// Find, create, one read of the hash-only contact, one batch add.
		expect(api.requests).toBe(4);
	});

	it('reports contacts that already carry the tag as `already` and writes only the others', async () => {
		nock(BASE).get(SEGMENTS).query(true).reply(200, tags([41, 'List-Hygiene:Invalid']), JSON_HEADERS);
		let query: Record<string, string> = {};
		nock(BASE)
			.get(`${SEGMENTS}/41/members`)
			.query((q) => {
				query = q as Record<string, string>;
				return true;
			})
			.reply(200, holders([1, 2]), JSON_HEADERS);
		let sent: unknown;
		nock(BASE)
			.post(`${SEGMENTS}/41`, (body) => {
				sent = body;
				return true;
			})
			.reply(200, added([emailOf(3)]), JSON_HEADERS);
		const { api } = await client();
		// A hash-only contact that carries the tag needs no read.
		const outcomes = await platform.tag(api, 'aud1', refs({ email: emailOf(1) }, { contactId: subscriberHash(emailOf(2)) }, { email: emailOf(3) }), TAG);
		// Every status counts: an unsubscribed or cleaned member may carry the tag too.
		expect(query).toMatchObject({ count: '1000', offset: '0', include_cleaned: 'true', include_unsubscribed: 'true', include_transactional: 'true' });
		expect(sent).toEqual({ members_to_add: [emailOf(3)] });
		expect(outcomes.map((o) => [o.index, o.outcome, o.detail])).toEqual([
			[0, 'already', `Already tagged “${TAG}”.`],
			[1, 'already', `Already tagged “${TAG}”.`],
			[2, 'done', undefined],
		]);
		expect(api.requests).toBe(3);
	});

	it('reads the contacts’ own tags instead of a tag with many more members than contacts', async () => {
		nock(BASE).get(SEGMENTS).query(true).reply(200, tags([41, TAG]), JSON_HEADERS);
		// 5,000 members: 4 more pages would cost more than reading the 2 contacts.
		nock(BASE).get(`${SEGMENTS}/41/members`).query((q) => q.offset === '0').reply(200, holders([10, 11], 5000), JSON_HEADERS);
		nock(BASE)
			.get(read(1))
			.query({ fields: 'id,email_address,status,tags' })
			.reply(200, { id: subscriberHash(emailOf(1)), email_address: emailOf(1), status: 'subscribed', tags: [{ id: 41, name: TAG }] }, JSON_HEADERS)
			.get(read(2))
			.query({ fields: 'id,email_address,status,tags' })
			.reply(200, { id: subscriberHash(emailOf(2)), email_address: emailOf(2), status: 'subscribed', tags: [{ id: 5, name: 'vip' }] }, JSON_HEADERS);
		nock(BASE).post(`${SEGMENTS}/41`, { members_to_add: [emailOf(2)] }).reply(200, added([emailOf(2)]), JSON_HEADERS);
		const { api } = await client();
		const outcomes = await platform.tag(api, 'aud1', refs({ email: emailOf(1) }, { email: emailOf(2) }), TAG);
		expect(outcomes.map((o) => o.outcome)).toEqual(['already', 'done']);
		expect(api.requests).toBe(5);
	});

	it('reports each contact of a partly failed batch: added, refused with Mailchimp’s message, ignored as not a member', async () => {
		nock(BASE).get(SEGMENTS).query(true).reply(200, tags([41, TAG]), JSON_HEADERS);
		nock(BASE).get(`${SEGMENTS}/41/members`).query(true).reply(200, holders([]), JSON_HEADERS);
		nock(BASE)
			.post(`${SEGMENTS}/41`)
			.reply(
				200,
				{
					...added([emailOf(1), emailOf(4)]),
					errors: [{ email_addresses: [emailOf(2).toUpperCase()], error: 'Email addresses could not be added: the contact is in a compliance state.' }],
					error_count: 1,
				},
				JSON_HEADERS,
			);
		const { api } = await client();
		const outcomes = await platform.tag(api, 'aud1', refs({ email: emailOf(1) }, { email: emailOf(2) }, { email: emailOf(3) }, { email: emailOf(4) }), TAG);
		expect(outcomes.map((o) => [o.index, o.outcome, o.detail])).toEqual([
			[0, 'done', undefined],
			[1, 'failed', 'Email addresses could not be added: the contact is in a compliance state.'],
			[2, 'skipped', 'Not a member of this audience: nothing to tag. (Mailchimp ignored the address.)'],
			[3, 'done', undefined],
		]);
	});

	it('goes on after a failed batch: 600 contacts, the first 500 refused, the last 100 tagged', async () => {
		const emails = Array.from({ length: 600 }, (_, i) => emailOf(i));
		nock(BASE).get(SEGMENTS).query(true).reply(200, tags(), JSON_HEADERS);
		nock(BASE).post(SEGMENTS).reply(200, { id: 9, name: TAG, type: 'static' }, JSON_HEADERS);
		nock(BASE).post(`${SEGMENTS}/9`).reply(400, problem(400, 'Invalid Resource', 'The resource submitted could not be validated.'), PROBLEM_HEADERS);
		nock(BASE).post(`${SEGMENTS}/9`).reply(200, added(emails.slice(500)), JSON_HEADERS);
		const { api } = await client();
		const outcomes = await platform.tag(api, 'aud1', refs(...emails.map((email) => ({ email }))), TAG);
		expect(outcomes.slice(0, 500).every((o) => o.outcome === 'failed' && /HTTP 400\. Mailchimp refused the request: Invalid Resource/.test(o.detail ?? ''))).toBe(true);
		expect(outcomes.slice(500).every((o) => o.outcome === 'done')).toBe(true);
		expect(outcomes.map((o) => o.index)).toEqual(emails.map((_, i) => i));
	});

	it('fails every contact with the advice when the key is rejected (401), after one request and without the key', async () => {
		nock(BASE).get(SEGMENTS).query(true).reply(401, problem(401, 'API Key Invalid', 'Your API key may be invalid.'), PROBLEM_HEADERS);
		const { api } = await client();
		const outcomes = await platform.tag(api, 'aud1', refs({ email: emailOf(1) }, { email: emailOf(2) }), TAG);
		expect(outcomes.map((o) => o.outcome)).toEqual(['failed', 'failed']);
		expect(outcomes[0].detail).toMatch(/^Mailchimp: find the tag in the audience failed with HTTP 401\. The API key is invalid or revoked/);
		expect(JSON.stringify(outcomes)).not.toContain(KEY);
		expect(api.requests).toBe(1);
	});

	it('advises on a 403 of a user who may not change contacts, and stops writing after it', async () => {
		const emails = Array.from({ length: 600 }, (_, i) => emailOf(i));
		nock(BASE).get(SEGMENTS).query(true).reply(200, tags([41, TAG]), JSON_HEADERS);
		nock(BASE).get(`${SEGMENTS}/41/members`).query(true).reply(200, holders([]), JSON_HEADERS);
		nock(BASE).post(`${SEGMENTS}/41`).reply(403, problem(403, 'Forbidden', 'You don’t have permission to access this resource.'), PROBLEM_HEADERS);
		const { api } = await client();
		const outcomes = await platform.tag(api, 'aud1', refs(...emails.map((email) => ({ email }))), TAG);
		expect(new Set(outcomes.map((o) => o.outcome))).toEqual(new Set(['failed']));
		expect(outcomes[599].detail).toMatch(/HTTP 403\. This Mailchimp user may read the audience but not change contacts .*use a key or connection of a Manager or Admin user, or use Verify only/);
		// The second batch of 100 was not sent: it would fail the same way.
		expect(api.requests).toBe(3);
	});

	it('waits as a 429’s Retry-After says, then tags', async () => {
		nock(BASE).get(SEGMENTS).query(true).reply(200, tags([41, TAG]), JSON_HEADERS);
		nock(BASE).get(`${SEGMENTS}/41/members`).query(true).reply(200, holders([]), JSON_HEADERS);
		nock(BASE)
			.post(`${SEGMENTS}/41`)
			.reply(429, problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.'), { ...PROBLEM_HEADERS, 'retry-after': '3' })
			.post(`${SEGMENTS}/41`)
			.reply(200, added([emailOf(1)]), JSON_HEADERS);
		const { api, sleeps } = await client();
		const outcomes = await platform.tag(api, 'aud1', refs({ email: emailOf(1) }), TAG);
		expect(outcomes.map((o) => o.outcome)).toEqual(['done']);
		expect(sleeps).toEqual([3000]);
		expect(api.requests).toBe(4);
	});

	it('uses the tag another run created meanwhile instead of failing', async () => {
		nock(BASE).get(SEGMENTS).query(true).reply(200, tags(), JSON_HEADERS);
		nock(BASE).post(SEGMENTS).reply(400, problem(400, 'Invalid Resource', 'Tag already exists.'), PROBLEM_HEADERS);
		nock(BASE).get(SEGMENTS).query(true).reply(200, tags([88, TAG]), JSON_HEADERS);
		nock(BASE).post(`${SEGMENTS}/88`).reply(200, added([emailOf(1)]), JSON_HEADERS);
		const { api } = await client();
		await expect(platform.tag(api, 'aud1', refs({ email: emailOf(1) }), TAG)).resolves.toMatchObject([{ outcome: 'done' }]);
		expect(api.requests).toBe(4);
	});

	it('says the audience is gone on a 404, and reports a malformed answer for its contacts', async () => {
		nock(BASE).get('/lists/gone/segments').query(true).reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), PROBLEM_HEADERS);
		const { api } = await client();
		const [gone] = await platform.tag(api, 'gone', refs({ email: emailOf(1) }), TAG);
		expect(gone).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('Mailchimp has no such audience (deleted, or in another account): pick the audience again') });

		nock(BASE).get(SEGMENTS).query(true).reply(200, tags([41, TAG]), JSON_HEADERS);
		nock(BASE).get(`${SEGMENTS}/41/members`).query(true).reply(200, holders([]), JSON_HEADERS);
		nock(BASE).post(`${SEGMENTS}/41`).reply(200, '<html>oops</html>', { 'content-type': 'text/html' });
		const [malformed] = await platform.tag(api, 'aud1', refs({ email: emailOf(1) }), TAG);
		expect(malformed).toMatchObject({ outcome: 'failed', detail: 'Mailchimp: tag contacts returned an unexpected response (not a batch result).' });
	});
});

describe('Mailchimp: results archive reader', () => {
	it('reads every JSON file of a gzipped tar, long names included, and parses each response', () => {
		const longName = `${'d'.repeat(120)}/results.json`;
		const gnuLong = tarArchive([{ name: '././@LongLink', data: Buffer.from(`${longName}\0`) }]);
		gnuLong[156] = 'L'.charCodeAt(0);
		// Recompute the checksum of the hand-made GNU long-name header.
		gnuLong.write('        ', 148, 'latin1');
		let sum = 0;
		for (let i = 0; i < 512; i++) sum += gnuLong[i];
		gnuLong.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
		const body = tarArchive([{ name: 'x', data: Buffer.from(JSON.stringify([{ status_code: 204, operation_id: '1', response: '' }])) }]);
		const archive = Buffer.concat([gnuLong.subarray(0, gnuLong.length - 1024), body]);
		expect(tarFiles(archive).map((f) => f.name)).toEqual([longName]);
		const results = readBatchResults(gzipSync(archive));
		expect([...results.entries()]).toEqual([['1', { status: 204, body: '' }]]);
		expect(() => readBatchResults('\u001f\ufffd\u0008')).toThrow('the archive arrived as text, not bytes');
	});
});

describe('Mailchimp: request counts (DESIGN.md §4: read 10 / unsubscribe 2 / delete 1; tag 4)', () => {
	it('reads 10,000 members, unsubscribes 1,000 and deletes 1,000 within the targets', async () => {
		const total = 10_000;
		nock(BASE)
			.get('/lists/big/members')
			.query(true)
			.times(10)
			.reply(200, (uri) => {
				const q = new URL(uri, HOST).searchParams;
				const offset = Number(q.get('offset'));
				const count = Number(q.get('count'));
				return { members: Array.from({ length: Math.min(count, total - offset) }, (_, i) => member(offset + i, 'subscribed', 'big')), total_items: total };
			}, JSON_HEADERS);
		const reading = await client();
		expect(await collect(platform.members(reading.api, 'big', {}))).toHaveLength(total);
		expect(reading.api.requests).toBe(10);

		const thousand = refs(...Array.from({ length: 1000 }, (_, i) => ({ email: emailOf(i) })));
		const byHash = new Map(thousand.map((ref) => [subscriberHash(ref.email!), ref.email!]));
		nockBatch('cnt1', (op) => {
			const hash = op.path.split('/').pop()!;
			return { status: 200, body: { id: hash, email_address: byHash.get(hash), status: 'subscribed' } };
		});
		const writes: number[] = [];
		nock(BASE)
			.post('/lists/big', (body: { members: unknown[] }) => {
				writes.push(body.members.length);
				return true;
			})
			.times(2)
			.reply(200, (_uri, body) => ({ new_members: [], updated_members: (body as { members: Array<{ email_address: string }> }).members, errors: [] }), JSON_HEADERS);
		const unsubscribing = await client();
		const unsubscribed = await platform.unsubscribe(unsubscribing.api, 'big', thousand);
		expect(unsubscribed.every((o) => o.outcome === 'done')).toBe(true);
		// Writes: 2 batch-subscribe requests of 500 (the target). Reads to know each contact's
		// current state (so "already" is true and no address is added): 1 batch submission of 1,000
		// GETs, 1 status poll here (more while Mailchimp works), 1 results download.
		expect(writes).toEqual([500, 500]);
		expect(unsubscribing.api.requests).toBe(2 + 3);

		const deletes = nockBatch('cnt2', () => ({ status: 204 }), { archive: 'none' });
		const deleting = await client();
		const deleted = await platform.delete(deleting.api, 'big', thousand, {});
		expect(deleted.every((o) => o.outcome === 'done')).toBe(true);
		// 1 batch submission of 1,000 operations (the target) + 1 status poll here (one per wait
		// while Mailchimp works: 1 s, 2 s, 3 s, 5 s, then every 10 s) + 0 downloads, as none failed
		// (1 results download when some did, to tell "already" from "failed").
		expect(deletes.submissions.map((s) => s.length)).toEqual([1000]);
		expect(deleting.api.requests).toBe(1 + 1);
	});

	it('tags 1,000 contacts in 4 requests, and a second run in 2', async () => {
		const thousand = refs(...Array.from({ length: 1000 }, (_, i) => ({ email: emailOf(i) })));
		nock(BASE).get('/lists/big/segments').query(true).reply(200, { segments: [{ id: 3, name: 'vip' }], total_items: 1 }, JSON_HEADERS);
		nock(BASE).post('/lists/big/segments').reply(200, { id: 12, name: 'list-hygiene:invalid', type: 'static' }, JSON_HEADERS);
		const writes: number[] = [];
		nock(BASE)
			.post('/lists/big/segments/12', (body: { members_to_add: string[] }) => writes.push(body.members_to_add.length) > 0)
			.times(2)
			.reply(200, (_uri, body) => ({ members_added: (body as { members_to_add: string[] }).members_to_add.map((email_address) => ({ email_address })), errors: [] }), JSON_HEADERS);
		const first = await client();
		expect((await platform.tag(first.api, 'big', thousand, 'list-hygiene:invalid')).every((o) => o.outcome === 'done')).toBe(true);
		// 1 look-up of the tag + 1 creation (once: the next run finds it) + 2 batch adds of 500
		// (POST /lists/{list_id}/segments/{segment_id}: "A maximum of 500 members can be sent").
		expect(writes).toEqual([500, 500]);
		expect(first.api.requests).toBe(4);

		nock(BASE).get('/lists/big/segments').query(true).reply(200, { segments: [{ id: 12, name: 'list-hygiene:invalid' }], total_items: 1 }, JSON_HEADERS);
		nock(BASE)
			.get('/lists/big/segments/12/members')
			.query(true)
			.reply(200, { members: thousand.map((r) => ({ id: subscriberHash(r.email!), email_address: r.email })), total_items: 1000 }, JSON_HEADERS);
		const second = await client();
		expect((await platform.tag(second.api, 'big', thousand, 'list-hygiene:invalid')).every((o) => o.outcome === 'already')).toBe(true);
		// 1 look-up of the tag + 1 page of its 1,000 members; nothing left to write. (An existing tag
		// costs one such page per 1,000 members, or reading the contacts themselves when that is cheaper.)
		expect(second.api.requests).toBe(2);
	});
});

describe('Mailchimp: end to end against the fake server', () => {
	let fake: FakeMailchimp;
	const people = ['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal'].map((name) => `${name}@example.test`);
	const [ann, bob, cat, dan, eve, fay, gus, hal] = people;

	beforeEach(async () => {
		fake = await startFakeMailchimp({
			apiKey: KEY,
			audiences: [
				{
					id: 'aud1',
					name: 'Newsletter',
					members: people.map((email, i) => ({
						email_address: email,
						full_name: `Person ${i}`,
						status: (['subscribed', 'subscribed', 'unsubscribed', 'subscribed', 'cleaned', 'subscribed', 'pending', 'subscribed'] as const)[i],
						merge_fields: { FNAME: `First${i}`, LNAME: `Last${i}`, PHONE: `+1555000${i}` },
						tags: [{ id: i, name: `tag${i}` }],
						vip: i % 2 === 0,
						language: 'fr',
					})),
				},
				{ id: 'aud2', name: 'Customers', members: [{ email_address: ann }] },
			],
		});
		nock.enableNetConnect(/^127\.0\.0\.1(:\d+)?$/);
	});
	afterEach(async () => {
		nock.disableNetConnect();
		await fake.close();
	});

	const credentials = () => ({ apiKey: KEY, baseUrl: fake.url });
	const snapshot = () =>
		new Map([...fake.state.audiences.get('aud1')!.members.values()].map((m) => [m.email_address, (({ status: _s, last_changed: _l, ...rest }) => rest)(m)] as const));

	it('lists → members → unsubscribe → delete → members again, every other field untouched', async () => {
		const before = snapshot();
		const { api } = await client({ credentials: credentials() });

		await expect(platform.lists(api, { filter: 'NEWS' })).resolves.toEqual({ lists: [{ id: 'aud1', name: 'Newsletter', kind: 'audience', memberCount: 5 }] });

		const members = await collect(platform.members(api, 'aud1', {}));
		expect(members.map((m) => [m.email, m.status])).toEqual(people.map((email, i) => [email, ['subscribed', 'subscribed', 'unsubscribed', 'subscribed', 'cleaned', 'subscribed', 'pending', 'subscribed'][i]]));
		expect(members[0].raw).toMatchObject({ merge_fields: { FNAME: 'First0' }, tags: [{ id: 0, name: 'tag0' }] });
		expect(members[0].raw).not.toHaveProperty('_links');
		expect(members[0].raw).not.toHaveProperty('location');

		// Five contacts: read in one batch (the archive comes from the fake, gzipped tar and all).
		const unsubscribed = await platform.unsubscribe(
			api,
			'aud1',
			refs({ email: ann }, { contactId: members[1].contactId }, { email: cat }, { email: 'nobody@example.test' }, { email: eve }, { email: gus }),
		);
		expect(unsubscribed.map((o) => [o.email, o.outcome])).toEqual([
			[ann, 'done'],
			[bob, 'done'],
			[cat, 'already'],
			['nobody@example.test', 'already'],
			[eve, 'already'],
			[gus, 'done'],
		]);
		// The address that was not a member was not added.
		expect(fake.state.audiences.get('aud1')!.members.has(fakeSubscriberHash('nobody@example.test'))).toBe(false);

		const deleted = await platform.delete(api, 'aud1', refs({ email: dan }, { contactId: members[5].contactId }, { email: 'nobody@example.test' }, { email: cat }), {});
		expect(deleted.map((o) => [o.email ?? o.contactId, o.outcome])).toEqual([
			[dan, 'done'],
			[members[5].contactId, 'done'],
			['nobody@example.test', 'already'],
			[cat, 'done'],
		]);
		// Running the same clean-up twice is safe.
		const again = await platform.delete(api, 'aud1', refs({ email: dan }, { email: cat }), {});
		expect(again.map((o) => o.outcome)).toEqual(['already', 'already']);

		const after = await collect(platform.members(api, 'aud1', {}));
		expect(after.map((m) => [m.email, m.status])).toEqual([
			[ann, 'unsubscribed'],
			[bob, 'unsubscribed'],
			[eve, 'cleaned'],
			[gus, 'unsubscribed'],
			[hal, 'subscribed'],
		]);
		const archived = await collect(platform.members(api, 'aud1', { status: ['archived'] }));
		expect(archived.map((m) => m.email)).toEqual([cat, dan, fay]);

		// Every other field of every contact survived: only status (and Mailchimp's last_changed) moved.
		expect(snapshot()).toEqual(before);
		// The other audience was not touched.
		expect(fake.state.audiences.get('aud2')!.members.get(fakeSubscriberHash(ann))!.status).toBe('subscribed');

		// Permanent delete removes the contact entirely.
		const erased = await platform.delete(api, 'aud1', refs({ email: hal }), { permanent: true });
		expect(erased[0].outcome).toBe('done');
		expect(fake.state.audiences.get('aud1')!.members.has(fakeSubscriberHash(hal))).toBe(false);
		expect(fake.requests.every((r) => r.authorized || r.path.startsWith('/batch-results/'))).toBe(true);
	});

	it('tags contacts: the tag is created once, each member gains it and nothing else changes; a second run is safe', async () => {
		const TAG = 'list-hygiene:invalid';
		fake.state.untaggable.add(fay);
		const withoutTags = () => new Map([...fake.state.audiences.get('aud1')!.members.values()].map((m) => [m.email_address, (({ tags: _t, ...rest }) => rest)(m)] as const));
		const tagsOf = () => new Map([...fake.state.audiences.get('aud1')!.members.values()].map((m) => [m.email_address, m.tags.map((t) => t.name)] as const));
		const before = withoutTags();
		const tagsBefore = tagsOf();
		const { api } = await client({ credentials: credentials() });
		const bobHash = fakeSubscriberHash(bob);

		const first = await platform.tag(api, 'aud1', refs({ email: ann }, { contactId: bobHash }, { email: cat }, { email: 'nobody@example.test' }, { email: eve }, { email: fay }), TAG);
		expect(first.map((o) => [o.email, o.outcome, o.detail])).toEqual([
			[ann, 'done', undefined],
			[bob, 'done', undefined],
			[cat, 'done', undefined],
			['nobody@example.test', 'skipped', 'Not a member of this audience: nothing to tag. (Mailchimp ignored the address.)'],
			[eve, 'done', undefined],
			[fay, 'failed', 'This contact cannot be tagged (fake: untaggable).'],
		]);
		// The tag is visible where Mailchimp shows tags: on the member, and through the members read.
		const tagged = [ann, bob, cat, eve];
		for (const [email, names] of tagsOf()) expect(names).toEqual([...tagsBefore.get(email)!, ...(tagged.includes(email) ? [TAG] : [])]);
		const ann1 = (await collect(platform.members(api, 'aud1', {}))).find((m) => m.email === ann)!;
		expect((ann1.raw as { tags: Array<{ name: string }> }).tags.map((t) => t.name)).toEqual(['tag0', TAG]);
		// Every other field of every member (status, merge fields, VIP, language, …) is as it was.
		expect(withoutTags()).toEqual(before);
		expect(fake.state.audiences.get('aud1')!.members.has(fakeSubscriberHash('nobody@example.test'))).toBe(false);

		// The same clean-up again: the tag is found (not created twice), the tagged are `already`.
		const again = await platform.tag(api, 'aud1', refs({ email: ann }, { contactId: bobHash }, { email: cat }, { email: eve }, { email: hal }), TAG);
		expect(again.map((o) => [o.email, o.outcome])).toEqual([
			[ann, 'already'],
			[bob, 'already'],
			[cat, 'already'],
			[eve, 'already'],
			[hal, 'done'],
		]);
		expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/3.0/lists/aud1/segments')).toHaveLength(1);
		expect([...fake.state.audiences.get('aud1')!.segments.values()].filter((s) => s.name === TAG)).toHaveLength(1);
		expect(withoutTags()).toEqual(before);
		// The other audience was not touched.
		expect(fake.state.audiences.get('aud2')!.members.get(fakeSubscriberHash(ann))!.tags).toEqual([]);
	});

	it('downloads the results archive without the credential, which S3 requires', async () => {
		fake.state.archiveRejectsAuthorization = true;
		const { api } = await client({ credentials: credentials() });
		const unsubscribed = await platform.unsubscribe(api, 'aud1', refs({ email: ann }, { email: cat }, { email: eve }, { email: 'nobody@example.test' }));
		expect(unsubscribed.map((o) => o.outcome)).toEqual(['done', 'already', 'already', 'already']);
		const deleted = await platform.delete(api, 'aud1', refs({ email: bob }, { email: 'nobody@example.test' }, { email: dan }), {});
		expect(deleted.map((o) => [o.outcome, o.detail])).toEqual([
			['done', undefined],
			['already', 'Not in this audience (already deleted or archived).'],
			['done', undefined],
		]);
		const downloads = fake.requests.filter((r) => r.path.startsWith('/batch-results/'));
		expect(downloads).toHaveLength(2);
		expect(downloads.every((r) => !r.hasAuthorization)).toBe(true);
		// The archive was read: no fall-back reads of single members.
		expect(fake.requests.filter((r) => r.method === 'GET' && /\/lists\/aud1\/members\/[0-9a-f]{32}$/.test(r.path))).toEqual([]);
	});

	it('answers the API-key credential’s test request', async () => {
		const response = await recorder.request({ method: 'GET', url: `${fake.url}${new ListHygieneMailchimpApi().test.request.url}` });
		expect(response).toMatchObject({ status: 200, body: { health_status: expect.any(String) } });
	});

	it('answers 401 to a wrong key and 403 to a user who may not write', async () => {
		const wrong = await client({ credentials: { apiKey: 'wrong-us0', baseUrl: fake.url }, transport: recording({ apiKey: 'wrong-us0' }) });
		await expect(platform.lists(wrong.api, {})).rejects.toThrow(/HTTP 401\. The API key is invalid or revoked/);

		fake.state.readOnly = true;
		const { api } = await client({ credentials: credentials() });
		const [outcome] = await platform.unsubscribe(api, 'aud1', refs({ email: ann }));
		expect(outcome).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/HTTP 403\. This Mailchimp user may read the audience but not change contacts/) });
	});

	it('serves the OAuth2 metadata with a valid token, refuses an expired one, and refreshes it at the token endpoint', async () => {
		// login.mailchimp.com is the fake here.
		const toFake = (inner: Transport): Transport => ({
			request: (request: HttpRequest) => inner.request({ ...request, url: request.url.replace('https://login.mailchimp.com', fake.origin) }),
		});
		const signed = (token: string) => toFake(recording({ accessToken: token }));
		await expect(platform.baseUrl({ accessToken: fake.state.accessToken }, signed(fake.state.accessToken))).resolves.toBe(fake.url);

		fake.state.tokenExpired = true;
		await expect(platform.baseUrl({}, signed(fake.state.accessToken))).rejects.toThrow(/HTTP 401/);
		const refreshed = await fetch(`${fake.origin}/oauth2/token`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: fake.state.refreshToken }),
		});
		const { access_token } = (await refreshed.json()) as { access_token: string };
		const { api } = await client({ credentials: { accessToken: access_token, baseUrl: fake.url }, transport: recording({ accessToken: access_token }) });
		await expect(platform.lists(api, {})).resolves.toMatchObject({ lists: [{ id: 'aud1' }, { id: 'aud2' }] });
	});
});

/** Downloads that are not Mailchimp API calls: the batch results archive and the OAuth2 metadata. */
const isApiCall = (request: SentRequest) => !/amazonaws\.com|\/batch-results\/|\/oauth2\//.test(request.url);

/** The operations a POST /batches carries, as the requests Mailchimp will make of them. */
function batchOperations(request: SentRequest): SentRequest[] {
	if (request.method !== 'POST' || !/\/3\.0\/batches$/.test(new URL(request.url).pathname)) return [];
	const base = request.url.replace(/\/batches$/, '');
	return (request.body as { operations: Operation[] }).operations.map((op) => ({ method: op.method, url: `${base}${op.path}`, query: op.params ?? {}, body: undefined }));
}

describeConformance('Mailchimp: every API request of this suite conforms to marketing_3.0.55.yaml', ['mailchimp/marketing_3.0.55.yaml'], (specs) => {
	it('checks all recorded requests', () => {
		const sent = recorders.flatMap((r) => r.sent);
		const calls = [...sent.filter(isApiCall), ...sent.flatMap(batchOperations)];
		// The downloads left out are there (so the filter is not what makes this pass).
		expect(sent.some((r) => !isApiCall(r))).toBe(true);
		// Every kind of request the adapter sends is among them, the operations inside batches too.
		const kinds = new Set(
			calls.map((r) =>
				`${r.method} ${new URL(r.url).pathname
					.replace(/^\/3\.0/, '')
					.replace(/\/members\/[^/]+/, '/members/{hash}')
					.replace(/\/batches\/[^/]+/, '/batches/{id}')
					.replace(/\/segments\/[^/]+/, '/segments/{segment}')
					.replace(/\/lists\/[^/]+/, '/lists/{id}')}`,
			),
		);
		expect([...kinds].sort()).toEqual(
			expect.arrayContaining([
				'GET /lists',
				'GET /lists/{id}',
				'GET /lists/{id}/members',
				'GET /lists/{id}/members/{hash}',
				'POST /lists/{id}',
				'POST /batches',
				'GET /batches/{id}',
				'GET /ping',
				'DELETE /lists/{id}/members/{hash}',
				'POST /lists/{id}/members/{hash}/actions/delete-permanent',
				'GET /lists/{id}/segments',
				'POST /lists/{id}/segments',
				'GET /lists/{id}/segments/{segment}/members',
				'POST /lists/{id}/segments/{segment}',
			]),
		);
		expect(conformanceProblems(specs(), calls)).toEqual([]);
	});
});
