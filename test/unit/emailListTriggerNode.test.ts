// The Email List Trigger's poll(), through a minimal n8n poll context whose
// httpRequestWithAuthentication signs requests the way the credential would, against the fake
// Mailchimp on loopback. Subscribers join through the fake's API, as a sign-up form would add them.
import { randomBytes } from 'node:crypto';

import { NodeApiError, NodeOperationError, type IDataObject, type IPollFunctions } from 'n8n-workflow';

import { FetchTransport } from '../../src/http/fetchTransport';
import { mailchimp } from '../../src/platforms/mailchimp';
import { EmailListTrigger } from '../../nodes/EmailListTrigger/EmailListTrigger.node';
import { n8nRequestHelpers } from '../helpers/n8nRequests';
import { startFakeMailchimp, type FakeMailchimp } from '../fakes/mailchimp';

const KEY = `${randomBytes(10).toString('hex')}-us9`;
const AUDIENCE = 'aud1';
let fake: FakeMailchimp;

beforeEach(async () => {
	fake = await startFakeMailchimp({
		apiKey: KEY,
		audiences: [
			{ id: AUDIENCE, name: 'Newsletter', members: ['ann', 'bob', 'cat', 'dan'].map((name) => ({ email_address: `${name}@example.test` })) },
			{ id: 'aud2', name: 'Customers', members: [] },
		],
	});
});
afterEach(() => fake.close());

/** Adds a subscriber now, through the API. */
async function subscribe(email: string, status = 'subscribed', listId = AUDIENCE) {
	const response = await fetch(`${fake.url}/lists/${listId}/members`, {
		method: 'POST',
		headers: { authorization: `Basic ${Buffer.from(`any:${KEY}`).toString('base64')}`, 'content-type': 'application/json' },
		body: JSON.stringify({ email_address: email, status }),
	});
	expect(response.status).toBe(200);
}

interface Harness {
	staticData: IDataObject;
	poll(parameters?: IDataObject, mode?: 'trigger' | 'manual'): ReturnType<EmailListTrigger['poll']>;
}

function harness(apiKey = KEY): Harness {
	const staticData: IDataObject = {};
	const transport = new FetchTransport(mailchimp.cliAuth({ apiKey }));
	return {
		staticData,
		poll(parameters = {}, mode = 'trigger') {
			const all: IDataObject = {
				platform: 'mailchimp',
				mailchimpAuthentication: 'apiKey',
				listId: { __rl: true, mode: 'id', value: AUDIENCE },
				options: {},
				...parameters,
			};
			const context = {
				getNodeParameter: (name: string, fallback?: unknown, options?: { extractValue?: boolean }) => {
					const value = all[name] ?? fallback;
					return options?.extractValue && value && typeof value === 'object' ? (value as { value: unknown }).value : value;
				},
				getNode: () => ({ id: '1', name: 'New member in list', type: 'n8n-nodes-list-hygiene.emailListTrigger', typeVersion: 1, position: [0, 0], parameters: {} }),
				getMode: () => mode,
				getWorkflowStaticData: (type: string) => {
					expect(type).toBe('node');
					return staticData;
				},
				getCredentials: async () => ({ apiKey, baseUrl: fake.url }),
				helpers: n8nRequestHelpers(transport),
			} as unknown as IPollFunctions;
			return new EmailListTrigger().poll.call(context);
		},
	};
}

const apiRequests = () => fake.requests.filter((r) => r.path.startsWith('/3.0/'));

describe('Email List Trigger node', () => {
	it('emits nobody on activation, then each new subscriber once, as a member item like Email List’s', async () => {
		const trigger = harness();
		expect(await trigger.poll()).toBeNull();

		await subscribe('eve@example.test');
		await subscribe('fay@example.test');
		const first = await trigger.poll();
		expect(first).not.toBeNull();
		// Both joined within the same second (Mailchimp's granularity), so their order is the platform's.
		const emitted = first![0].map((item) => item.json).sort((a, b) => String(a.email).localeCompare(String(b.email)));
		expect(emitted).toEqual([
			{ email: 'eve@example.test', listId: AUDIENCE, platform: 'mailchimp', status: 'subscribed', contactId: expect.stringMatching(/^[0-9a-f]{32}$/), joinedAt: expect.any(String) },
			expect.objectContaining({ email: 'fay@example.test' }),
		]);
		expect(first![0][0].json.raw).toBeUndefined();

		// Nothing new: null (n8n starts no execution), and one request to the platform.
		const before = apiRequests().length;
		expect(await trigger.poll()).toBeNull();
		expect(apiRequests().length - before).toBe(1);

		await subscribe('gus@example.test');
		const second = await trigger.poll();
		expect(second![0].map((item) => item.json.email)).toEqual(['gus@example.test']);
	});

	it('keeps its state in the workflow’s static data: a new trigger instance with it neither repeats nor loses', async () => {
		const trigger = harness();
		await trigger.poll();
		await subscribe('eve@example.test');
		await trigger.poll();
		const stored = JSON.parse(JSON.stringify(trigger.staticData)) as IDataObject;

		const restarted = harness();
		Object.assign(restarted.staticData, stored);
		await subscribe('fay@example.test');
		const result = await restarted.poll();
		expect(result![0].map((item) => item.json.email)).toEqual(['fay@example.test']);
	});

	it('includes the members already there on the first poll when asked', async () => {
		const trigger = harness();
		const result = await trigger.poll({ options: { includeExisting: true, includeRaw: true } });
		expect(result![0].map((item) => item.json.email).sort()).toEqual(['ann@example.test', 'bob@example.test', 'cat@example.test', 'dan@example.test']);
		expect(result![0][0].json.raw).toEqual(expect.objectContaining({ email_address: expect.any(String) }));
	});

	it('passes over new members in other states when a status filter is set', async () => {
		const trigger = harness();
		await trigger.poll({ options: { status: ['subscribed'] } });
		await subscribe('pending@example.test', 'pending');
		await subscribe('yes@example.test');
		const result = await trigger.poll({ options: { status: ['subscribed'] } });
		expect(result![0].map((item) => item.json.email)).toEqual(['yes@example.test']);
	});

	it('returns a few recent members for "Fetch test event", newest first, without moving the watermark', async () => {
		const trigger = harness();
		await trigger.poll();
		await subscribe('eve@example.test');
		const sample = await trigger.poll({}, 'manual');
		expect(sample![0]).toHaveLength(3);
		expect(sample![0][0].json.email).toBe('eve@example.test');
		// The manual run did not consume eve: the next scheduled poll still emits her.
		const next = await trigger.poll();
		expect(next![0].map((item) => item.json.email)).toEqual(['eve@example.test']);
	});

	it('says what to do when "Fetch test event" finds an empty list', async () => {
		const trigger = harness();
		const error = await trigger.poll({ listId: { __rl: true, mode: 'id', value: 'aud2' } }, 'manual').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as NodeOperationError).message).toMatch(/no members yet/);
		expect((error as NodeOperationError).description).toMatch(/Add a member/);
	});

	it('fails with the platform’s words, the status and no secret when the key is refused', async () => {
		const wrong = `${randomBytes(10).toString('hex')}-us9`;
		const error = await harness(wrong).poll().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeApiError);
		expect((error as NodeApiError).httpCode).toBe('401');
		expect((error as NodeApiError).message).toMatch(/Mailchimp/);
		expect(JSON.stringify(error)).not.toContain(wrong);
	});

	it('fails clearly for a list that does not exist', async () => {
		const error = await harness()
			.poll({ listId: { __rl: true, mode: 'id', value: 'nope' } })
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeApiError);
		expect((error as NodeApiError).httpCode).toBe('404');
	});

	it('asks for a list when none is chosen', async () => {
		await expect(harness().poll({ listId: { __rl: true, mode: 'list', value: '' } })).rejects.toThrow(/No list chosen/);
	});

	it('offers only the platforms that can be polled', () => {
		const platforms = new EmailListTrigger().description.properties.find((p) => p.name === 'platform')?.options as Array<{ value: string }>;
		expect(platforms.map((p) => p.value)).toContain('mailchimp');
		expect(new EmailListTrigger().description.polling).toBe(true);
		expect(new EmailListTrigger().description.inputs).toEqual([]);
	});
});
