// The platform client over the fetch transport, against nock at the HTTP level.
import { randomBytes } from 'node:crypto';

import nock from 'nock';

import { ApiClient, PlatformApiError } from '../../../src/http/client';
import { FetchTransport } from '../../../src/http/fetchTransport';

const BASE = 'https://api.platform.test/3.0';
// A random key per run: the tests prove it never leaves in messages.
const KEY = `k-${randomBytes(12).toString('hex')}`;

function client(extra: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) {
	const sleeps: number[] = [];
	const api = new ApiClient({
		platform: 'Testmail',
		baseUrl: BASE,
		transport: new FetchTransport({ authorization: `Bearer ${KEY}` }, 2_000),
		secrets: [KEY],
		sleep: async (ms) => void sleeps.push(ms),
		random: () => 1,
		...extra,
	});
	return { api, sleeps };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('ApiClient', () => {
	it('signs requests through the transport, joins the base URL and sends query and JSON body', async () => {
		const scope = nock(BASE, { reqheaders: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } })
			.post('/lists/abc/members', { email: 'a@b.test' })
			.query({ skip_merge_validation: 'true', fields: ['a', 'b'] })
			.reply(200, { id: 'm1' }, { 'content-type': 'application/json' });
		const { api } = client();
		await expect(
			api.request('add member', { method: 'POST', path: '/lists/abc/members', query: { skip_merge_validation: true, fields: ['a', 'b'] }, body: { email: 'a@b.test' } }),
		).resolves.toEqual({ id: 'm1' });
		expect(api.requests).toBe(1);
		scope.done();
	});

	it('retries a 429 after the time in Retry-After, then succeeds', async () => {
		nock(BASE).get('/lists').reply(429, {}, { 'retry-after': '2' }).get('/lists').reply(200, { lists: [] }, { 'content-type': 'application/json' });
		const { api, sleeps } = client();
		await expect(api.request('list lists', { method: 'GET', path: '/lists' })).resolves.toEqual({ lists: [] });
		expect(sleeps).toEqual([2000]);
		expect(api.requests).toBe(2);
	});

	it('backs off after 5xx without Retry-After, then succeeds', async () => {
		nock(BASE).get('/lists').reply(503).get('/lists').reply(502).get('/lists').reply(200, '[]', { 'content-type': 'application/json' });
		const { api, sleeps } = client();
		await expect(api.request('list lists', { method: 'GET', path: '/lists' })).resolves.toEqual([]);
		expect(sleeps).toEqual([500, 1000]);
	});

	it('retries a timed-out GET and reports a lasting timeout with advice', async () => {
		nock(BASE).get('/slow').times(5).delay(300).reply(200, {});
		const { api } = client({ timeoutMs: 50, retry: { limit: 1, methods: ['GET'], statusCodes: [], maxRetryAfterMs: 0, backoffMs: 1, backoffLimitMs: 1 } });
		const error = await api.request('read slow', { method: 'GET', path: '/slow' }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(PlatformApiError);
		expect((error as Error).message).toBe('Testmail: read slow failed: no response within 50 ms. Check the network connection and the base URL, then try again.');
		expect(api.requests).toBe(2);
	});

	it.each([
		[401, 'read lists', 'The credential was rejected'],
		[403, 'unsubscribe contacts', 'give it write access to contacts, or use Verify only'],
		[404, 'read members', 'pick the list again'],
	])('explains HTTP %i for %s without retrying', async (status, operation, advice) => {
		nock(BASE).get('/x').reply(status, { detail: `nope, key ${KEY}` }, { 'content-type': 'application/json' });
		const { api } = client();
		const error = (await api.request(operation, { method: 'GET', path: '/x' }).catch((e: unknown) => e)) as PlatformApiError;
		expect(error.message).toContain(`Testmail: ${operation} failed with HTTP ${status}. `);
		expect(error.message).toContain(advice);
		expect(error.details).toMatchObject({ status, platform: 'Testmail', operation, method: 'GET', url: `${BASE}/x` });
		expect(JSON.stringify(error.details)).not.toContain(KEY);
		expect(error.details.body).toContain('nope, key ***');
		expect(api.requests).toBe(1);
	});

	it('lets the platform give better advice', async () => {
		nock(BASE).delete('/m/1').reply(403, { title: 'Forbidden', detail: 'read-only key' }, { 'content-type': 'application/json' });
		const { api } = client({ hint: (r) => ((r.body as { detail?: string }).detail === 'read-only key' ? 'This key is read-only: make one with write access.' : undefined) });
		await expect(api.request('delete contact', { method: 'DELETE', path: '/m/1' })).rejects.toThrow('Testmail: delete contact failed with HTTP 403. This key is read-only: make one with write access.');
	});

	it('returns any final response from send, for adapters that read 404 as "already gone"', async () => {
		nock(BASE).delete('/m/2').reply(404, { status: 404 }, { 'content-type': 'application/json' });
		const { api } = client();
		await expect(api.send('delete contact', { method: 'DELETE', path: '/m/2' })).resolves.toMatchObject({ status: 404 });
	});

	it('keeps a body that is not valid JSON as text, for the adapter to report', async () => {
		nock(BASE).get('/broken').reply(200, '{"lists": [', { 'content-type': 'application/json' });
		const { api } = client();
		await expect(api.request('read lists', { method: 'GET', path: '/broken' })).resolves.toBe('{"lists": [');
		expect(api.malformed('read lists', { method: 'GET', path: '/broken?api_key=' + KEY }, 'not JSON').details.url).toBe(`${BASE}/broken?api_key=***`);
	});

	it('keeps to its rate limit', async () => {
		nock(BASE).get('/r').times(3).reply(200, {});
		let now = 0;
		const sleeps: number[] = [];
		const api = new ApiClient({
			platform: 'Testmail',
			baseUrl: BASE,
			transport: new FetchTransport(),
			rateLimit: { requests: 2, perMs: 1000 },
			now: () => now,
			sleep: async (ms) => {
				sleeps.push(ms);
				now += ms;
			},
		});
		for (let i = 0; i < 3; i++) await api.request('r', { method: 'GET', path: '/r' });
		expect(sleeps).toEqual([1000]);
	});
});

describe('ApiClient with an injected sleep and no clock', () => {
	it('moves the rate limiter’s clock with the sleeps, so a full window passes', async () => {
		nock(BASE).get('/r').times(5).reply(200, {});
		const sleeps: number[] = [];
		const api = new ApiClient({
			platform: 'Testmail',
			baseUrl: BASE,
			transport: new FetchTransport(),
			rateLimit: { requests: 2, perMs: 60_000 },
			sleep: async (ms) => void sleeps.push(ms),
		});
		for (let i = 0; i < 5; i++) await api.request('r', { method: 'GET', path: '/r' });
		// Five requests at two per minute: the fifth starts two full windows after the first.
		const total = sleeps.reduce((a, b) => a + b, 0);
		expect(total).toBeGreaterThan(119_000);
		expect(total).toBeLessThanOrEqual(120_000);
	});
});

describe('FetchTransport bodies', () => {
	it('sends a string body as it is, with the caller’s content-type', async () => {
		const scope = nock(BASE, { reqheaders: { 'content-type': 'application/x-www-form-urlencoded' } })
			.post('/revoke', 'token=abc&token_type_hint=refresh_token')
			.reply(200);
		const { api } = client();
		await api.request('revoke', {
			method: 'POST',
			path: '/revoke',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: 'token=abc&token_type_hint=refresh_token',
		});
		scope.done();
	});

	it('returns a binary body untouched', async () => {
		const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff]);
		nock(BASE).get('/archive').reply(200, bytes, { 'content-type': 'application/gzip' });
		const { api } = client();
		await expect(api.request('download', { method: 'GET', path: '/archive', binary: true })).resolves.toEqual(bytes);
	});
});

describe('unsigned requests', () => {
	it('leave the credential out (pre-signed downloads on another host)', async () => {
		const scope = nock('https://files.storage.test', { badheaders: ['authorization'] })
			.get('/export.csv.gz')
			.query({ 'X-Amz-Signature': 'sig123' })
			.reply(200, 'x');
		const { api } = client();
		await api.request('download export', { method: 'GET', path: 'https://files.storage.test/export.csv.gz?X-Amz-Signature=sig123', unsigned: true });
		scope.done();
	});
});
