import { planCleanup, PlanRefusedError, supportedActions, type CleanupInput } from '../../src/cleanup/planner';
import { DEFAULT_RULES, type CleanupRules } from '../../src/cleanup/rules';
import { hubspot } from '../../src/platforms/hubspot';
import { mailchimp } from '../../src/platforms/mailchimp';
import type { Platform } from '../../src/platforms/types';

const item = (status: string, extra: Partial<CleanupInput> = {}): CleanupInput => ({
	email: `${status}@example.test`,
	contactId: `id-${status}`,
	listId: 'L1',
	platform: 'mailchimp',
	verification: { status },
	...extra,
});

const rules = (change: Partial<CleanupRules> = {}): CleanupRules => ({ ...DEFAULT_RULES, maxShare: 1, ...change });
const plan = (items: CleanupInput[], r = rules(), platform: Platform = mailchimp) => planCleanup(items, platform, 'L1', r);
const summary = (items: CleanupInput[], r?: CleanupRules) => plan(items, r).entries.map((e) => [e.status, e.category, e.action, e.skip ?? 'write']);

describe('planCleanup', () => {
	it('applies the default rules: invalid unsubscribed, disposable deleted, the rest kept, valid never touched', () => {
		expect(summary(['valid', 'invalid', 'disposable', 'catch_all', 'unknown', 'risky', 'spamtrap', 'role_account'].map((s) => item(s)))).toEqual([
			['valid', undefined, 'keep', 'valid'],
			['invalid', 'invalid', 'unsubscribe', 'write'],
			['disposable', 'disposable', 'delete', 'write'],
			['catch_all', 'catch_all', 'keep', 'category_disabled'],
			['unknown', 'unknown', 'keep', 'category_disabled'],
			['risky', 'risky', 'keep', 'category_disabled'],
			['spamtrap', 'risky', 'keep', 'category_disabled'],
			['role_account', 'risky', 'keep', 'category_disabled'],
		]);
	});

	it('groups risky, spamtrap and role_account as Risky, and lets an override give one its own rule', () => {
		const risky = rules({ categories: { ...DEFAULT_RULES.categories, risky: { enabled: true, action: 'unsubscribe' } } });
		expect(summary([item('risky'), item('spamtrap'), item('role_account')], risky).map((s) => s[2])).toEqual(['unsubscribe', 'unsubscribe', 'unsubscribe']);
		const override = { ...risky, statusRules: { role_account: { enabled: true, action: 'keep' as const }, spamtrap: { enabled: true, action: 'delete' as const } } };
		expect(summary([item('risky'), item('spamtrap'), item('role_account')], override).map((s) => [s[2], s[3]])).toEqual([
			['unsubscribe', 'write'],
			['delete', 'write'],
			['keep', 'keep'],
		]);
	});

	it('reports every item it will not act on, with why', () => {
		const entries = plan([
			item('invalid', { verification: undefined }),
			item('invalid', { platform: 'hubspot' }),
			item('invalid', { listId: 'L2' }),
			item('invalid', { email: '', contactId: undefined }),
			item('invalid', { verification: { status: 'bogus' } }),
		]).entries;
		expect(entries.map((e) => [e.skip, e.detail])).toEqual([
			['not_verified', 'The item has no verification result: run Verify Email first.'],
			['other_platform', 'The item comes from hubspot, not mailchimp.'],
			['other_list', 'The item belongs to list L2, not L1.'],
			['no_contact', 'The item has neither a contact ID nor an email.'],
			['not_verified', 'The item has no verification result: run Verify Email first.'],
		]);
		expect(entries.every((e) => e.contact === undefined)).toBe(true);
	});

	it('names the tag after the category (or the overridden status)', () => {
		const tagging = rules({ categories: { ...DEFAULT_RULES.categories, invalid: { enabled: true, action: 'tag' } } });
		const taggable: Platform = { ...mailchimp, capabilities: { ...mailchimp.capabilities, tag: true }, tag: async () => [] };
		expect(planCleanup([item('invalid')], taggable, 'L1', tagging).entries[0]).toMatchObject({ action: 'tag', tag: 'list-hygiene:invalid' });
	});

	it('refuses, before any write, an action the platform cannot do, naming the actions it has', () => {
		const noDelete: Platform = { ...hubspot, capabilities: { ...hubspot.capabilities, deleteKind: 'none', tag: false }, tag: undefined };
		expect(supportedActions(noDelete)).toEqual(['keep', 'unsubscribe']);
		expect(() => planCleanup([item('disposable', { platform: 'hubspot' })], noDelete, 'L1', rules())).toThrow(
			new PlanRefusedError('HubSpot cannot delete contacts. Its actions: Keep, Unsubscribe. Nothing was written.'),
		);
		const tagging = rules({ categories: { ...DEFAULT_RULES.categories, invalid: { enabled: true, action: 'tag' } } });
		expect(() => plan([item('invalid')], tagging, { ...mailchimp, tag: undefined })).toThrow(/Mailchimp cannot tag contacts/);
	});

	it('refuses a plan that changes more than the allowed share, and says what it would have done', () => {
		const items = [item('invalid'), item('disposable'), ...Array.from({ length: 8 }, () => item('valid'))];
		expect(plan(items, rules({ maxShare: 0.2 })).changes).toBe(2);
		const refusal = (() => {
			try {
				plan([...items.slice(0, 3), item('invalid'), ...items.slice(3, 7)], rules({ maxShare: 0.2 }));
			} catch (error) {
				return error as PlanRefusedError;
			}
			throw new Error('not refused');
		})();
		expect(refusal.message).toMatch(/^The plan would change 3 of 8 contacts \(37\.5%\), more than the 20% allowed per run\. Nothing was written\./);
		expect(refusal.plan?.changes).toBe(3);
	});

	it('in Verify only (no enforcement) returns a plan over the share, marked, instead of refusing it', () => {
		const items = [item('invalid'), item('invalid'), item('valid')];
		const marked = planCleanup(items, mailchimp, 'L1', rules({ maxShare: 0.2 }), { enforceMaxShare: false });
		expect([marked.changes, marked.overMaxShare]).toEqual([2, true]);
		expect(() => planCleanup(items, mailchimp, 'L1', rules({ maxShare: 0.2 }))).toThrow(PlanRefusedError);
	});

	it('writes nothing for a member already in the state the action gives, and does not count it as a change', () => {
		const entries = plan([item('invalid', { status: 'unsubscribed' } as never), item('disposable', { status: 'archived' } as never), item('invalid', { status: 'subscribed' } as never)]);
		expect(entries.entries.map((e) => [e.action, e.already ?? false, e.contact !== undefined])).toEqual([
			['unsubscribe', true, false],
			['delete', true, false],
			['unsubscribe', false, true],
		]);
		expect(entries.entries[0].detail).toBe('The member is already unsubscribed.');
		expect(entries.changes).toBe(1);
	});

	it('plans an empty input as no change', () => {
		expect(plan([])).toEqual({ platform: 'mailchimp', listId: 'L1', entries: [], changes: 0, share: 0, overMaxShare: false });
	});

	it('rejects a share outside 0..1', () => {
		expect(() => plan([item('invalid')], rules({ maxShare: 20 }))).toThrow(/between 0 and 1/);
	});
});
