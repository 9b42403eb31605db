// The clean-up executor against the stateful fakes: the plan is carried out with the platforms'
// batch writes, every contact's outcome is reported, a second run writes nothing new, and every
// field the rules did not select survives.
import { randomBytes } from 'node:crypto';

import { executeCleanup } from '../../src/cleanup/executor';
import { planCleanup, type CleanupInput } from '../../src/cleanup/planner';
import { DEFAULT_RULES } from '../../src/cleanup/rules';
import { FetchTransport } from '../../src/http/fetchTransport';
import { collect } from '../../src/http/paginate';
import { constantcontact } from '../../src/platforms/constantcontact';
import { hubspot } from '../../src/platforms/hubspot';
import { mailchimp } from '../../src/platforms/mailchimp';
import { sendgrid } from '../../src/platforms/sendgrid';
import { createApiClient } from '../../src/platforms/registry';
import type { Platform } from '../../src/platforms/types';
import { defaultCcSeed, FAKE_CC_LIST_IDS, startFakeConstantContact } from '../fakes/constantcontact';
import { startFakeHubspot, type FakeHubspot } from '../fakes/hubspot';
import { defaultSeed as defaultSendGridSeed, FAKE_LISTS, startFakeSendGrid } from '../fakes/sendgrid';
import { startFakeMailchimp, type FakeMailchimp } from '../fakes/mailchimp';

const noWait = { sleep: async () => undefined };
const KEY = `${randomBytes(8).toString('hex')}-us9`;

async function client(platform: Platform, credentials: Record<string, unknown>) {
	return createApiClient(platform, credentials, new FetchTransport(platform.cliAuth(credentials)), noWait);
}

/** Member items as Email List -> Verify Email would produce them. */
function verified(members: Array<{ email: string; contactId: string }>, statuses: string[], platform: string, listId: string): CleanupInput[] {
	return members.map((m, i) => ({ ...m, listId, platform, verification: { status: statuses[i] } }));
}

describe('clean-up on the fake Mailchimp', () => {
	let fake: FakeMailchimp;
	const people = ['ann', 'bob', 'cat', 'dan', 'eve', 'fay'].map((n) => `${n}@example.test`);
	const statuses = ['invalid', 'valid', 'disposable', 'unknown', 'invalid', 'valid'];

	beforeEach(async () => {
		fake = await startFakeMailchimp({
			apiKey: KEY,
			pollsToFinish: 1,
			audiences: [
				{
					id: 'aud1',
					name: 'Newsletter',
					members: people.map((email_address, i) => ({ email_address, status: 'subscribed' as const, merge_fields: { FNAME: `F${i}` }, vip: i === 0 })),
				},
			],
		});
	});
	afterEach(() => fake.close());

	it('writes exactly the plan, reports each outcome, and a second run is all "already" with no new write', async () => {
		const api = await client(mailchimp, { apiKey: KEY, baseUrl: fake.url });
		const members = people.map((email) => ({ email, contactId: '' }));
		const items = verified(members, statuses, 'mailchimp', 'aud1');
		const rules = { ...DEFAULT_RULES, maxShare: 0.5 };

		const first = await executeCleanup(planCleanup(items, mailchimp, 'aud1', rules), mailchimp, api, { mode: 'clean' });
		expect(first.outcomes.map((o) => [o.action, o.outcome])).toEqual([
			['unsubscribe', 'done'],
			['keep', 'skipped'],
			['delete', 'done'],
			['keep', 'skipped'],
			['unsubscribe', 'done'],
			['keep', 'skipped'],
		]);
		expect(first.summary.counts).toEqual({
			invalid: { unsubscribe: { done: 2 } },
			disposable: { delete: { done: 1 } },
			unknown: { keep: { skipped: 1 } },
			none: { keep: { skipped: 2 } },
		});
		expect(first.summary.requests).toBeGreaterThan(0);

		const members1 = [...fake.state.audiences.get('aud1')!.members.values()];
		expect(members1.map((m) => [m.email_address, m.status, (m.merge_fields as { FNAME: string }).FNAME])).toEqual([
			[people[0], 'unsubscribed', 'F0'],
			[people[1], 'subscribed', 'F1'],
			[people[2], 'archived', 'F2'],
			[people[3], 'subscribed', 'F3'],
			[people[4], 'unsubscribed', 'F4'],
			[people[5], 'subscribed', 'F5'],
		]);
		expect((members1[0] as unknown as { vip: boolean }).vip).toBe(true);

		const writesBefore = fake.requests.filter((r) => r.method !== 'GET').length;
		const second = await executeCleanup(planCleanup(items, mailchimp, 'aud1', rules), mailchimp, api, { mode: 'clean' });
		expect(second.outcomes.filter((o) => o.action !== 'keep').map((o) => o.outcome)).toEqual(['already', 'already', 'already']);
		// Reads and batch status checks only: no unsubscribe or delete was sent again.
		const writes = fake.requests.filter((r) => r.method !== 'GET').slice(writesBefore);
		expect(writes.every((r) => r.path === '/3.0/batches')).toBe(true);
	});

	it('writes nothing in Verify only mode and reports the plan', async () => {
		const api = await client(mailchimp, { apiKey: KEY, baseUrl: fake.url });
		const items = verified(people.map((email) => ({ email, contactId: '' })), statuses, 'mailchimp', 'aud1');
		const result = await executeCleanup(planCleanup(items, mailchimp, 'aud1', { ...DEFAULT_RULES, maxShare: 1 }), mailchimp, api, { mode: 'verify_only' });
		expect(result.outcomes.map((o) => o.outcome)).toEqual(['planned', 'skipped', 'planned', 'skipped', 'planned', 'skipped']);
		expect(fake.requests).toEqual([]);
		expect(result.summary.requests).toBe(0);
	});
});

describe('clean-up on the fake HubSpot', () => {
	let fake: FakeHubspot;
	beforeEach(async () => {
		fake = await startFakeHubspot({ contacts: 6 });
	});
	afterEach(() => fake.close());

	it('fails one group without stopping the others, and keeps every other property', async () => {
		const credentials = { accessToken: fake.state.privateAppToken, baseUrl: fake.url };
		const api = await client(hubspot, credentials);
		const contacts = [...fake.state.contacts.values()];
		const members = contacts.map((c) => ({ email: c.properties.email, contactId: c.id }));
		const items = verified(members, ['invalid', 'disposable', 'valid', 'valid', 'valid', 'valid'], 'hubspot', '101');
		// A contact the platform refuses to archive: its group fails, the unsubscribe group goes on.
		fake.state.scopes.delete('crm.objects.contacts.write');
		const before = JSON.stringify(contacts.slice(2).map((c) => c.properties));

		const { outcomes, summary } = await executeCleanup(planCleanup(items, hubspot, '101', { ...DEFAULT_RULES, maxShare: 0.5 }), hubspot, api, { mode: 'clean' });
		expect(outcomes.slice(0, 2).map((o) => [o.action, o.outcome])).toEqual([
			['unsubscribe', 'done'],
			['delete', 'failed'],
		]);
		expect(outcomes[1].detail).toMatch(/HTTP 403/);
		expect(summary.counts.invalid).toEqual({ unsubscribe: { done: 1 } });
		expect(fake.state.optedOut.has(members[0].email.toLowerCase())).toBe(true);
		expect(fake.state.contacts.get(members[1].contactId)?.archived).toBe(false);
		expect(JSON.stringify([...fake.state.contacts.values()].slice(2).map((c) => c.properties))).toBe(before);
	});
});

describe('clean-up on the fake Constant Contact and the fake SendGrid', () => {
	it('Constant Contact: unsubscribes and tags by plan, then finds everything already done', async () => {
		const fake = await startFakeConstantContact({ ...defaultCcSeed(), activityPolls: 0 });
		try {
			const credentials = { accessToken: fake.state.accessToken, baseUrl: fake.url };
			const api = await client(constantcontact, credentials);
			const listId = FAKE_CC_LIST_IDS.newsletter;
			const members = (await collect(constantcontact.members(api, listId, {}))).map(({ email, contactId }) => ({ email, contactId }));
			expect(members.length).toBeGreaterThanOrEqual(3);
			const statuses = members.map((_m, i) => (i === 0 ? 'invalid' : i === 1 ? 'risky' : 'valid'));
			const rules = { ...DEFAULT_RULES, maxShare: 1, categories: { ...DEFAULT_RULES.categories, risky: { enabled: true, action: 'tag' as const } } };
			const items = verified(members, statuses, 'constantcontact', listId);
			const untouched = members.slice(2).map((m) => JSON.stringify(fake.state.contacts.get(m.contactId)));

			const first = await executeCleanup(planCleanup(items, constantcontact, listId, rules), constantcontact, api, { mode: 'clean' });
			expect(first.outcomes.slice(0, 2).map((o) => [o.action, o.outcome])).toEqual([
				['unsubscribe', 'done'],
				['tag', 'done'],
			]);
			expect(fake.state.contacts.get(members[0].contactId)?.email_address?.permission_to_send).toBe('unsubscribed');
			expect(members.slice(2).map((m) => JSON.stringify(fake.state.contacts.get(m.contactId)))).toEqual(untouched);

			const second = await executeCleanup(planCleanup(items, constantcontact, listId, rules), constantcontact, api, { mode: 'clean' });
			expect(second.outcomes.slice(0, 2).map((o) => o.outcome)).toEqual(['already', 'already']);
		} finally {
			await fake.close();
		}
	});

	it('SendGrid: suppresses and deletes by plan, then finds everything already done', async () => {
		const seed = defaultSendGridSeed();
		const fake = await startFakeSendGrid({ ...seed, apiKey: `SG.${KEY}` });
		try {
			const api = await client(sendgrid, { apiKey: `SG.${KEY}`, baseUrl: fake.url });
			const listId = FAKE_LISTS.newsletter;
			const members = (await collect(sendgrid.members(api, listId, {}))).map(({ email, contactId }) => ({ email, contactId }));
			const statuses = members.map((_m, i) => (i === 0 ? 'invalid' : i === 1 ? 'disposable' : 'valid'));
			const items = verified(members, statuses, 'sendgrid', listId);
			const others = members.slice(2).map((m) => JSON.stringify(fake.state.contacts.get(m.contactId)));

			const first = await executeCleanup(planCleanup(items, sendgrid, listId, { ...DEFAULT_RULES, maxShare: 1 }), sendgrid, api, { mode: 'clean' });
			expect(first.outcomes.slice(0, 2).map((o) => [o.action, o.outcome])).toEqual([
				['unsubscribe', 'done'],
				['delete', 'done'],
			]);
			expect(fake.state.globalUnsubscribes.has(members[0].email.toLowerCase())).toBe(true);
			expect(fake.state.contacts.has(members[1].contactId)).toBe(false);
			expect(members.slice(2).map((m) => JSON.stringify(fake.state.contacts.get(m.contactId)))).toEqual(others);

			const second = await executeCleanup(planCleanup(items, sendgrid, listId, { ...DEFAULT_RULES, maxShare: 1 }), sendgrid, api, { mode: 'clean' });
			expect(second.outcomes.slice(0, 2).map((o) => o.outcome)).toEqual(['already', 'already']);
		} finally {
			await fake.close();
		}
	});
});
