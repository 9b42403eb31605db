// From a plan to the platform: group the entries by action, write each group with the platform's
// batch operations, and report every contact's outcome. In Verify only mode nothing is written and
// every planned write is reported as `planned`.
import type { ApiClient } from '../http/client';
import type { ContactRef, Platform, WriteOutcome, WriteOutcomeKind } from '../platforms/types';
import type { CleanupPlan, PlanEntry } from './planner';
import type { CleanupAction, CleanupCategory } from './rules';

export type CleanupMode = 'verify_only' | 'clean';
export type CleanupOutcomeKind = WriteOutcomeKind | 'planned';

export interface ContactOutcome {
	index: number;
	category?: CleanupCategory;
	action: CleanupAction;
	outcome: CleanupOutcomeKind;
	detail?: string;
}

export interface CleanupSummary {
	platform: string;
	listId: string;
	mode: CleanupMode;
	contacts: number;
	/** category -> action -> outcome -> contacts; items without a category count under "none". */
	counts: Record<string, Record<string, Record<string, number>>>;
	requests: number;
	durationMs: number;
	/** The plan changes more than the allowed share (Verify only reports it; Clean refuses it). */
	overMaxShare: boolean;
}

function count(outcomes: readonly ContactOutcome[]): CleanupSummary['counts'] {
	const counts: CleanupSummary['counts'] = {};
	for (const o of outcomes) {
		const byAction = (counts[o.category ?? 'none'] ??= {});
		const byOutcome = (byAction[o.action] ??= {});
		byOutcome[o.outcome] = (byOutcome[o.outcome] ?? 0) + 1;
	}
	return counts;
}

type Group = { action: CleanupAction; tag?: string; entries: PlanEntry[] };

function groups(entries: readonly PlanEntry[]): Group[] {
	const byKey = new Map<string, Group>();
	for (const entry of entries) {
		if (!entry.contact) continue;
		const key = `${entry.action}\u0000${entry.tag ?? ''}`;
		let group = byKey.get(key);
		if (!group) byKey.set(key, (group = { action: entry.action, tag: entry.tag, entries: [] }));
		group.entries.push(entry);
	}
	return [...byKey.values()];
}

async function write(platform: Platform, api: ApiClient, listId: string, group: Group, contacts: ContactRef[], permanentDelete: boolean): Promise<WriteOutcome[]> {
	switch (group.action) {
		case 'unsubscribe':
			return platform.unsubscribe(api, listId, contacts);
		case 'delete':
			return platform.delete(api, listId, contacts, { permanent: permanentDelete });
		case 'tag':
			if (!platform.tag || !group.tag) throw new Error(`${platform.name} cannot tag contacts`);
			return platform.tag(api, listId, contacts, group.tag);
		default:
			return [];
	}
}

export async function executeCleanup(
	plan: CleanupPlan,
	platform: Platform,
	api: ApiClient | undefined,
	options: { mode: CleanupMode; permanentDelete?: boolean; now?: () => number },
): Promise<{ outcomes: ContactOutcome[]; summary: CleanupSummary }> {
	const now = options.now ?? Date.now;
	const started = now();
	const requestsBefore = api?.requests ?? 0;
	const outcomes = new Map<number, ContactOutcome>();

	for (const entry of plan.entries) {
		if (entry.contact) continue;
		const outcome = entry.already ? 'already' : 'skipped';
		outcomes.set(entry.index, { index: entry.index, category: entry.category, action: entry.action, outcome, detail: entry.detail ?? entry.skip });
	}

	for (const group of groups(plan.entries)) {
		const contacts = group.entries.map((e) => e.contact!);
		const planned = (outcome: CleanupOutcomeKind, detail?: (e: PlanEntry) => string | undefined) =>
			group.entries.forEach((e) => outcomes.set(e.index, { index: e.index, category: e.category, action: e.action, outcome, detail: detail?.(e) }));
		if (options.mode === 'verify_only' || !api) {
			planned('planned', (e) => (e.tag ? `would tag ${e.tag}` : undefined));
			continue;
		}
		let written: WriteOutcome[];
		try {
			written = await write(platform, api, plan.listId, group, contacts, options.permanentDelete === true);
		} catch (error) {
			// One group's failure (a revoked key, an outage) fails its contacts; the other groups go on.
			planned('failed', () => (error as Error).message);
			continue;
		}
		const byIndex = new Map(written.map((w) => [w.index, w]));
		for (const entry of group.entries) {
			const result = byIndex.get(entry.index);
			outcomes.set(entry.index, {
				index: entry.index,
				category: entry.category,
				action: entry.action,
				outcome: result?.outcome ?? 'failed',
				detail: result ? result.detail : `${platform.name} reported no outcome for this contact`,
			});
		}
	}

	const ordered = plan.entries.map((e) => outcomes.get(e.index)!);
	return {
		outcomes: ordered,
		summary: {
			platform: plan.platform,
			listId: plan.listId,
			mode: options.mode,
			contacts: plan.entries.length,
			counts: count(ordered),
			requests: (api?.requests ?? 0) - requestsBefore,
			durationMs: now() - started,
			overMaxShare: plan.overMaxShare,
		},
	};
}
