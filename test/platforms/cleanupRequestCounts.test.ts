// Requests for a clean-up of 1,000 contacts to unsubscribe and 1,000 to delete, per platform, counted
// on the stateful fakes: the executor adds no request of its own to what each adapter's batch writes
// need. Bounds follow DESIGN.md §4's table, with the documented deviations of each adapter (its test
// says why): Mailchimp reads statuses before its batch subscribe (3 reads), HubSpot reads a batch
// before archiving to tell "already" from "done" (20, not 10), Constant Contact has no bulk opt-out
// (a read and a PUT per contact), and job polls come on top of the submissions.
import { randomBytes } from 'node:crypto';

import { executeCleanup } from '../../src/cleanup/executor';
import { planCleanup, type CleanupInput } from '../../src/cleanup/planner';
import { DEFAULT_RULES } from '../../src/cleanup/rules';
import { FetchTransport } from '../../src/http/fetchTransport';
import { constantcontact } from '../../src/platforms/constantcontact';
import { hubspot } from '../../src/platforms/hubspot';
import { mailchimp } from '../../src/platforms/mailchimp';
import { createApiClient } from '../../src/platforms/registry';
import { sendgrid } from '../../src/platforms/sendgrid';
import type { Platform } from '../../src/platforms/types';
import { defaultCcSeed, FAKE_CC_LIST_IDS, startFakeConstantContact } from '../fakes/constantcontact';
import { fakeSubscriberHash, startFakeMailchimp } from '../fakes/mailchimp';
import { startFakeHubspot } from '../fakes/hubspot';
import { FAKE_LISTS, fakeContacts, startFakeSendGrid } from '../fakes/sendgrid';

const N = 1000;
const rules = { ...DEFAULT_RULES, maxShare: 1 };
const statusOf = (i: number) => (i < N ? 'invalid' : 'disposable');

async function cleanUp(platform: Platform, credentials: Record<string, unknown>, listId: string, items: CleanupInput[]) {
	const api = await createApiClient(platform, credentials, new FetchTransport(platform.cliAuth(credentials)), { sleep: async () => undefined });
	const { summary, outcomes } = await executeCleanup(planCleanup(items, platform, listId, rules), platform, api, { mode: 'clean' });
	expect(outcomes.filter((o) => o.outcome === 'done')).toHaveLength(2 * N);
	return summary.requests;
}

jest.setTimeout(120_000);

describe(`requests for unsubscribing ${N} and deleting ${N} contacts`, () => {
	it('Mailchimp: batch subscribe for unsubscribes, one batch operation for deletes', async () => {
		const KEY = `${randomBytes(6).toString('hex')}-us9`;
		const emails = Array.from({ length: 2 * N }, (_v, i) => `m${i}@example.test`);
		const fake = await startFakeMailchimp({ apiKey: KEY, pollsToFinish: 0, audiences: [{ id: 'aud', name: 'Big', members: emails.map((email_address) => ({ email_address, status: 'subscribed' as const })) }] });
		try {
			const items = emails.map((email, i) => ({ email, contactId: fakeSubscriberHash(email), listId: 'aud', platform: 'mailchimp', verification: { status: statusOf(i) } }));
			const requests = await cleanUp(mailchimp, { apiKey: KEY, baseUrl: fake.url }, 'aud', items);
			// unsubscribe: status read batch (submit, poll, results) + 2 batch subscribes; delete: submit + poll.
			expect(requests).toBeLessThanOrEqual(5 + 3);
		} finally {
			await fake.close();
		}
	});

	it('HubSpot: batch unsubscribe-all and batch archive', async () => {
		const fake = await startFakeHubspot({ contacts: 2 * N });
		try {
			const contacts = [...fake.state.contacts.values()];
			const items = contacts.map((c, i) => ({ email: c.properties.email, contactId: c.id, listId: '101', platform: 'hubspot', verification: { status: statusOf(i) } }));
			const requests = await cleanUp(hubspot, { accessToken: fake.state.privateAppToken, baseUrl: fake.url }, '101', items);
			expect(requests).toBeLessThanOrEqual(10 + 20);
		} finally {
			await fake.close();
		}
	});

	it('Constant Contact: a read and a PUT per unsubscribe, contact_delete activities of 500', async () => {
		const base = defaultCcSeed();
		const template = base.contacts[0];
		const contacts = Array.from({ length: 2 * N }, (_v, i) => ({
			...JSON.parse(JSON.stringify(template)),
			contact_id: `c0ffee00-0000-4000-8000-${String(100_000 + i).padStart(12, '0')}`,
			email_address: { ...template.email_address, address: `cc${i}@example.test`, permission_to_send: 'implicit' },
		}));
		const fake = await startFakeConstantContact({ ...base, contacts, activityPolls: 0 });
		try {
			const items = contacts.map((c, i) => ({ email: c.email_address.address, contactId: c.contact_id, listId: FAKE_CC_LIST_IDS.newsletter, platform: 'constantcontact', verification: { status: statusOf(i) } }));
			const requests = await cleanUp(constantcontact, { accessToken: fake.state.accessToken, baseUrl: fake.url }, FAKE_CC_LIST_IDS.newsletter, items);
			expect(requests).toBeLessThanOrEqual(2 * N + 2 + 2);
		} finally {
			await fake.close();
		}
	});

	it('SendGrid: one global suppression, deletes of 100 ids', async () => {
		const contacts = fakeContacts(2 * N, FAKE_LISTS.newsletter, 'sg');
		const KEY = `SG.${randomBytes(8).toString('hex')}`;
		const fake = await startFakeSendGrid({ lists: [{ id: FAKE_LISTS.newsletter, name: 'Newsletter' }], segments: [], contacts, globalUnsubscribes: [], apiKey: KEY });
		try {
			const items = contacts.map((c, i) => ({ email: c.email, contactId: c.id, listId: FAKE_LISTS.newsletter, platform: 'sendgrid', verification: { status: statusOf(i) } }));
			const requests = await cleanUp(sendgrid, { apiKey: KEY, baseUrl: fake.url }, FAKE_LISTS.newsletter, items);
			expect(requests).toBeLessThanOrEqual(1 + 10 + 10);
		} finally {
			await fake.close();
		}
	});
});
