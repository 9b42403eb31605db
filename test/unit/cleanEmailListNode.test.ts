// The Clean Email List node's execute(), through a minimal n8n context (requests signed the way the
// credential would), against the fake Mailchimp on loopback.
import { randomBytes } from 'node:crypto';

import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { FetchTransport } from '../../src/http/fetchTransport';
import { mailchimp } from '../../src/platforms/mailchimp';
import { CleanEmailList } from '../../nodes/CleanEmailList/CleanEmailList.node';
import { n8nRequestHelpers } from '../helpers/n8nRequests';
import { startFakeMailchimp, type FakeMailchimp } from '../fakes/mailchimp';

const KEY = `${randomBytes(10).toString('hex')}-us9`;
const people = ['ann', 'bob', 'cat', 'dan', 'eve'].map((name) => `${name}@example.test`);
let fake: FakeMailchimp;

beforeEach(async () => {
	fake = await startFakeMailchimp({
		apiKey: KEY,
		pollsToFinish: 0,
		audiences: [{ id: 'aud1', name: 'Newsletter', members: people.map((email_address) => ({ email_address, status: 'subscribed' as const })) }],
	});
});
afterEach(() => fake.close());

function context(items: INodeExecutionData[], parameters: IDataObject): IExecuteFunctions {
	const transport = new FetchTransport(mailchimp.cliAuth({ apiKey: KEY }));
	return {
		getInputData: () => items,
		getNodeParameter: (name: string, _index: number, fallback?: unknown, options?: { extractValue?: boolean }) => {
			const v = parameters[name] ?? fallback;
			return options?.extractValue && v && typeof v === 'object' ? (v as { value: unknown }).value : v;
		},
		getNode: () => ({ id: '1', name: 'Clean Email List', type: 'n8n-nodes-list-hygiene.cleanEmailList', typeVersion: 1, position: [0, 0], parameters: {} }),
		continueOnFail: () => false,
		getCredentials: async () => ({ apiKey: KEY, baseUrl: fake.url }),
		helpers: n8nRequestHelpers(transport),
	} as unknown as IExecuteFunctions;
}

const verifiedItems = (statuses: string[]): INodeExecutionData[] =>
	statuses.map((status, i) => ({ json: { email: people[i], contactId: '', listId: 'aud1', platform: 'mailchimp', name: `P${i}`, verification: { status } } }));

const base = { platform: 'mailchimp', mailchimpAuthentication: 'apiKey', listId: { __rl: true, mode: 'id', value: 'aud1' }, options: {} };

describe('Clean Email List node', () => {
	it('in Verify only mode writes nothing and outputs the plan and a summary', async () => {
		const [contacts, summary] = await new CleanEmailList().execute.call(
			context(verifiedItems(['invalid', 'valid', 'disposable', 'unknown', 'valid']), { ...base, mode: 'verify_only', maxSharePercent: 50 }),
		);
		expect(contacts.map((c) => [c.json.name, c.json.cleanup])).toEqual([
			['P0', { category: 'invalid', action: 'unsubscribe', outcome: 'planned' }],
			['P1', { category: null, action: 'keep', outcome: 'skipped', detail: 'valid' }],
			['P2', { category: 'disposable', action: 'delete', outcome: 'planned' }],
			['P3', { category: 'unknown', action: 'keep', outcome: 'skipped', detail: 'category_disabled' }],
			['P4', { category: null, action: 'keep', outcome: 'skipped', detail: 'valid' }],
		]);
		expect(summary).toHaveLength(1);
		expect(summary[0].json).toMatchObject({ platform: 'mailchimp', list: 'aud1', mode: 'verify_only', contacts: 5, requests: 0 });
		expect(fake.requests).toEqual([]);
	});

	it('in Clean automatically mode carries out exactly the plan', async () => {
		const [contacts, summary] = await new CleanEmailList().execute.call(
			context(verifiedItems(['invalid', 'valid', 'disposable', 'unknown', 'valid']), { ...base, mode: 'clean', maxSharePercent: 50 }),
		);
		expect(contacts.map((c) => (c.json.cleanup as IDataObject).outcome)).toEqual(['done', 'skipped', 'done', 'skipped', 'skipped']);
		expect([...fake.state.audiences.get('aud1')!.members.values()].map((m) => m.status)).toEqual(['unsubscribed', 'subscribed', 'archived', 'subscribed', 'subscribed']);
		expect(summary[0].json).toMatchObject({
			mode: 'clean',
			counts: { invalid: { unsubscribe: { done: 1 } }, disposable: { delete: { done: 1 } } },
		});
	});

	it('in Verify only mode shows a plan over the max share, with a warning, instead of refusing it', async () => {
		const hints: string[] = [];
		const ctx = context(verifiedItems(['invalid', 'invalid', 'valid', 'valid', 'valid']), { ...base, mode: 'verify_only' });
		(ctx as unknown as { addExecutionHints: (...h: Array<{ message: string }>) => void }).addExecutionHints = (...h) => hints.push(...h.map((x) => x.message));
		const [contacts, summary] = await new CleanEmailList().execute.call(ctx);
		expect(contacts.map((c) => (c.json.cleanup as IDataObject).outcome)).toEqual(['planned', 'planned', 'skipped', 'skipped', 'skipped']);
		expect(summary[0].json.overMaxShare).toBe(true);
		expect(hints).toEqual([expect.stringContaining('Clean Automatically would refuse it')]);
		expect(fake.requests).toEqual([]);
	});

	it('refuses a plan over the max share, writing nothing, with the counts', async () => {
		const run = new CleanEmailList().execute.call(context(verifiedItems(['invalid', 'invalid', 'valid', 'valid', 'valid']), { ...base, mode: 'clean' }));
		await expect(run).rejects.toMatchObject({
			message: expect.stringMatching(/^The plan would change 2 of 5 contacts \(40%\), more than the 20% allowed per run\. Nothing was written\./),
			description: expect.stringContaining('Planned: 2 changes of 5 contacts.'),
		});
		expect(fake.requests).toEqual([]);
	});

	it('refuses an action the platform cannot do before any write', async () => {
		const run = new CleanEmailList().execute.call(
			context(verifiedItems(['invalid']), { ...base, mode: 'clean', maxSharePercent: 100, invalidEnabled: true, invalidAction: 'frobnicate' }),
		);
		await expect(run).rejects.toThrow(/Mailchimp cannot frobnicate contacts\. Its actions: Keep, Unsubscribe, Delete/);
		expect(fake.requests).toEqual([]);
	});
});
