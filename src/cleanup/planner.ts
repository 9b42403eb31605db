// From verified member items to a plan you can read: one entry per input item saying what will
// happen to it and why. Nothing here talks to a platform; the plan is refused as a whole (before any
// write) when it asks for an action the platform cannot do or changes more than the allowed share.
import type { ContactRef, Platform } from '../platforms/types';
import type { VerificationStatus } from '../verification/types';
import { categoryOf, type CategoryRule, type CleanupAction, type CleanupCategory, type CleanupRules } from './rules';

/** A verified member item, as Email List -> Verify Email produce it. */
export interface CleanupInput {
	email?: unknown;
	contactId?: unknown;
	listId?: unknown;
	platform?: unknown;
	verification?: { status?: unknown; category?: unknown } | unknown;
}

export type SkipReason = 'not_verified' | 'other_platform' | 'other_list' | 'valid' | 'category_disabled' | 'keep' | 'no_contact';

export interface PlanEntry {
	index: number;
	status?: VerificationStatus;
	category?: CleanupCategory;
	action: CleanupAction;
	/** Set for entries that will be written. */
	contact?: ContactRef;
	/** For tag actions: the tag to write. */
	tag?: string;
	/** Why nothing will be written for this item. */
	skip?: SkipReason;
	/** The member is already in the state the action would give it (the item's own status says so): nothing to write. */
	already?: boolean;
	detail?: string;
}

export interface CleanupPlan {
	platform: string;
	listId: string;
	entries: PlanEntry[];
	/** Entries that will be written. */
	changes: number;
	/** changes / input items. */
	share: number;
	/** The plan changes more than the rules allow per run (refused in Clean mode, reported in Verify only). */
	overMaxShare: boolean;
}

export class PlanRefusedError extends Error {
	override name = 'PlanRefusedError';

	constructor(
		message: string,
		readonly plan?: CleanupPlan,
	) {
		super(message);
	}
}

const STATUSES: readonly VerificationStatus[] = ['valid', 'invalid', 'disposable', 'spamtrap', 'role_account', 'catch_all', 'risky', 'unknown'];

/** The actions a platform can carry out. */
export function supportedActions(platform: Platform): CleanupAction[] {
	const actions: CleanupAction[] = ['keep', 'unsubscribe'];
	if (platform.capabilities.deleteKind !== 'none') actions.push('delete');
	if (platform.capabilities.tag && typeof platform.tag === 'function') actions.push('tag');
	return actions;
}

function text(value: unknown): string | undefined {
	if (typeof value === 'number') return String(value);
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function ruleFor(rules: CleanupRules, status: VerificationStatus, category: CleanupCategory): CategoryRule {
	if ((status === 'spamtrap' || status === 'role_account') && rules.statusRules?.[status]) return rules.statusRules[status]!;
	return rules.categories[category];
}

/** Member states in which an action has nothing left to do. */
const DONE_STATES: Partial<Record<CleanupAction, readonly string[]>> = {
	unsubscribe: ['unsubscribed'],
	delete: ['archived'],
};

/**
 * `enforceMaxShare` (Clean mode): a plan over the allowed share is refused with PlanRefusedError.
 * Without it (Verify only) the plan is returned with `overMaxShare` set, so it can be read.
 */
export function planCleanup(
	items: readonly CleanupInput[],
	platform: Platform,
	listId: string,
	rules: CleanupRules,
	options: { enforceMaxShare?: boolean } = {},
): CleanupPlan {
	// Refuse an impossible rule before looking at any item: the user fixes the node, not the data.
	const supported = supportedActions(platform);
	const wanted = [...Object.values(rules.categories), ...Object.values(rules.statusRules ?? {})].filter((r) => r?.enabled).map((r) => r!.action);
	const impossible = wanted.find((action) => !supported.includes(action));
	if (impossible) {
		throw new PlanRefusedError(
			`${platform.name} cannot ${impossible} contacts. Its actions: ${supported.map((a) => a[0].toUpperCase() + a.slice(1)).join(', ')}. Nothing was written.`,
		);
	}
	if (!(rules.maxShare >= 0 && rules.maxShare <= 1)) {
		throw new PlanRefusedError(`The maximum share changed per run must be between 0 and 1 (0% and 100%), not ${rules.maxShare}.`);
	}

	const entries = items.map((item, index): PlanEntry => {
		const verification = item.verification as { status?: unknown } | undefined;
		const status = verification && typeof verification === 'object' ? (verification.status as VerificationStatus) : undefined;
		if (!status || !STATUSES.includes(status)) {
			return { index, action: 'keep', skip: 'not_verified', detail: 'The item has no verification result: run Verify Email first.' };
		}
		const itemPlatform = text(item.platform);
		if (itemPlatform && itemPlatform !== platform.id) {
			return { index, status, action: 'keep', skip: 'other_platform', detail: `The item comes from ${itemPlatform}, not ${platform.id}.` };
		}
		const itemList = text(item.listId);
		if (itemList && itemList !== listId) {
			return { index, status, action: 'keep', skip: 'other_list', detail: `The item belongs to list ${itemList}, not ${listId}.` };
		}
		const category = categoryOf(status);
		if (!category) return { index, status, action: 'keep', skip: 'valid' };
		const rule = ruleFor(rules, status, category);
		if (!rule.enabled) return { index, status, category, action: 'keep', skip: 'category_disabled' };
		if (rule.action === 'keep') return { index, status, category, action: 'keep', skip: 'keep' };
		const contactId = text(item.contactId);
		const email = text(item.email);
		if (!contactId && !email) {
			return { index, status, category, action: rule.action, skip: 'no_contact', detail: 'The item has neither a contact ID nor an email.' };
		}
		const memberStatus = text((item as { status?: unknown }).status);
		if (memberStatus && DONE_STATES[rule.action]?.includes(memberStatus)) {
			return { index, status, category, action: rule.action, already: true, detail: `The member is already ${memberStatus}.` };
		}
		const entry: PlanEntry = { index, status, category, action: rule.action, contact: { index, contactId, email } };
		if (rule.action === 'tag') entry.tag = `${rules.tagPrefix}${status === 'spamtrap' || status === 'role_account' ? status : category}`;
		return entry;
	});

	const changes = entries.filter((e) => e.contact).length;
	const share = items.length === 0 ? 0 : changes / items.length;
	const plan: CleanupPlan = { platform: platform.id, listId, entries, changes, share, overMaxShare: share > rules.maxShare };
	if (plan.overMaxShare && options.enforceMaxShare !== false) {
		const percent = (n: number) => `${Math.round(n * 1000) / 10}%`;
		throw new PlanRefusedError(
			`The plan would change ${changes} of ${items.length} contacts (${percent(plan.share)}), more than the ${percent(rules.maxShare)} allowed per run. ` +
				'Nothing was written. Check the verification first (a broken resolver or a blocked port 25 can make many addresses look bad), ' +
				'read the plan in Verify only mode, then raise the maximum share if the plan is right.',
			plan,
		);
	}
	return plan;
}
