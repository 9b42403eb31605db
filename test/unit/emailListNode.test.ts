// The Email List node's execute(), through a minimal n8n execution context whose
// httpRequestWithAuthentication signs requests the way the credential would, against the fake
// Mailchimp on loopback.
import { randomBytes } from 'node:crypto';

import type { IDataObject, IExecuteFunctions, IHttpRequestOptions, INodeExecutionData } from 'n8n-workflow';

import { FetchTransport } from '../../src/http/fetchTransport';
import type { HttpMethod } from '../../src/http/types';
import { mailchimp } from '../../src/platforms/mailchimp';
import { EmailList } from '../../nodes/EmailList/EmailList.node';
import { startFakeConstantContact } from '../fakes/constantcontact';
import { n8nRequestHelpers } from '../helpers/n8nRequests';
import { startFakeMailchimp, type FakeMailchimp } from '../fakes/mailchimp';

const KEY = `${randomBytes(10).toString('hex')}-us9`;
const people = ['ann', 'bob', 'cat'].map((name) => `${name}@example.test`);
let fake: FakeMailchimp;

beforeEach(async () => {
	fake = await startFakeMailchimp({
		apiKey: KEY,
		pollsToFinish: 0,
		audiences: [{ id: 'aud1', name: 'Newsletter', members: people.map((email_address) => ({ email_address, status: 'subscribed' as const })) }],
	});
});
afterEach(() => fake.close());

function context(items: INodeExecutionData[], parameters: IDataObject, { continueOnFail = false, apiKey = KEY } = {}) {
	const transport = new FetchTransport(mailchimp.cliAuth({ apiKey }));
	const value = (name: string, index: number) => {
		const raw = parameters[name];
		// The node's defaults map `={{ $json.contactId }}` and `={{ $json.email }}`: resolve them per item.
		return typeof raw === 'string' && raw.startsWith('={{ $json.') ? items[index].json[raw.slice(10, -3)] : raw;
	};
	return {
		getInputData: () => items,
		getNodeParameter: (name: string, index: number, fallback?: unknown, options?: { extractValue?: boolean }) => {
			const v = value(name, index) ?? fallback;
			return options?.extractValue && v && typeof v === 'object' ? (v as { value: unknown }).value : v;
		},
		getNode: () => ({ id: '1', name: 'Email List', type: 'n8n-nodes-list-hygiene.emailList', typeVersion: 1, position: [0, 0], parameters: {} }),
		continueOnFail: () => continueOnFail,
		getCredentials: async () => ({ apiKey, baseUrl: fake.url }),
		// What n8n does with the credential: sign, send, return the full response.
		helpers: n8nRequestHelpers(transport),
	} as unknown as IExecuteFunctions;
}

const run = (items: INodeExecutionData[], parameters: IDataObject, options?: { continueOnFail?: boolean; apiKey?: string }) =>
	new EmailList().execute.call(context(items, parameters, options));

const base = { platform: 'mailchimp', mailchimpAuthentication: 'apiKey' };
const list = { __rl: true, mode: 'id', value: 'aud1' };

describe('Email List node', () => {
	it('gets members as member items', async () => {
		const [items] = await run([{ json: {} }], { ...base, resource: 'member', operation: 'getMany', listId: list, returnAll: true, options: {} });
		expect(items.map((i) => i.json)).toEqual(people.map((email) => expect.objectContaining({ email, listId: 'aud1', platform: 'mailchimp', status: 'subscribed' })));
		expect(items[0].json.raw).toBeUndefined();
	});

	it('unsubscribes the contacts of the input items and reports each outcome', async () => {
		const input = [{ json: { email: people[0], name: 'Ann' } }, { json: { email: people[1] } }];
		const params = { ...base, resource: 'contact', operation: 'unsubscribe', listId: list, contactId: '={{ $json.contactId }}', email: '={{ $json.email }}' };
		const [items] = await run(input, params);
		expect(items.map((i) => [i.json.email, (i.json.result as IDataObject).outcome, i.pairedItem])).toEqual([
			[people[0], 'done', { item: 0 }],
			[people[1], 'done', { item: 1 }],
		]);
		expect(items[0].json.name).toBe('Ann');
		const [again] = await run(input, params);
		expect(again.map((i) => (i.json.result as IDataObject).outcome)).toEqual(['already', 'already']);
	});

	it('sends nothing for an item that names no contact: an error, or an error item with Continue On Fail', async () => {
		const params = { ...base, resource: 'contact', operation: 'unsubscribe', listId: list, contactId: '={{ $json.contactId }}', email: '={{ $json.email }}' };
		const before = fake.requests.length;
		await expect(run([{ json: { email: people[0] } }, { json: { name: 'no contact' } }], params)).rejects.toMatchObject({
			message: 'Item 2 names no contact: both Contact ID and Email are empty',
		});
		expect(fake.requests.length).toBe(before);

		const [items] = await run([{ json: { email: people[0] } }, { json: { name: 'no contact' } }], params, { continueOnFail: true });
		expect(items[1].json).toEqual({ name: 'no contact', error: 'Item 2 names no contact: both Contact ID and Email are empty' });
		expect((items[0].json.result as IDataObject).outcome).toBe('done');
	});

	it('turns a rejected key into an n8n API error with advice and without the key', async () => {
		const error = await run([{ json: {} }], { ...base, resource: 'list', operation: 'getMany', filter: '' }, { apiKey: `x${KEY}` }).catch((e: unknown) => e);
		expect(error).toMatchObject({
			name: 'NodeApiError',
			httpCode: '401',
			description: expect.stringContaining('The API key is invalid or revoked'),
		});
		expect(JSON.stringify(error)).not.toContain(KEY);
	});

	it('revokes the Constant Contact grant at its authorization server with the app’s client credentials', async () => {
		const cc = await startFakeConstantContact();
		try {
			const ctx = {
				getNodeParameter: (name: string) => ({ platform: 'constantcontact', resource: 'account', operation: 'revokeAccess' })[name],
				getNode: () => ({ id: '1', name: 'Email List', type: 'n8n-nodes-list-hygiene.emailList', typeVersion: 1, position: [0, 0], parameters: {} }),
				getInputData: () => [{ json: {} }],
				continueOnFail: () => false,
				getCredentials: async () => ({
					clientId: cc.state.clientId,
					clientSecret: cc.state.clientSecret,
					authServerUrl: cc.authUrl,
					oauthTokenData: { access_token: cc.state.accessToken, refresh_token: cc.state.refreshToken },
				}),
				helpers: {
					// An unsigned request: n8n's plain httpRequest, no credential attached.
					httpRequest: async (options: IHttpRequestOptions) => {
						const response = await new FetchTransport().request({
							method: (options.method ?? 'GET') as HttpMethod,
							url: options.url,
							headers: options.headers as Record<string, string>,
							body: options.body,
						});
						return { statusCode: response.status, headers: response.headers, body: response.body };
					},
					httpRequestWithAuthentication: async () => {
						throw new Error('the revocation must not be signed with the token it revokes');
					},
				},
			} as unknown as IExecuteFunctions;
			const [items] = await new EmailList().execute.call(ctx);
			expect(items).toEqual([{ json: { platform: 'constantcontact', revoked: true }, pairedItem: { item: 0 } }]);
			expect(cc.state.revoked.has(cc.state.refreshToken)).toBe(true);
		} finally {
			await cc.close();
		}
	});

	it('offers every registered platform and the credentials for each', () => {
		const { description } = new EmailList();
		const platform = description.properties.find((p) => p.name === 'platform');
		expect(platform?.options?.map((o) => (o as { value: string }).value)).toEqual(['constantcontact', 'hubspot', 'mailchimp', 'sendgrid']);
		expect(description.credentials?.map((c) => c.name).sort()).toEqual([
			'listHygieneConstantContactOAuth2Api',
			'listHygieneHubspotAppToken',
			'listHygieneHubspotOAuth2Api',
			'listHygieneMailchimpApi',
			'listHygieneMailchimpOAuth2Api',
			'listHygieneSendGridApi',
		]);
		expect(description.usableAsTool).toBe(true);
	});
});
