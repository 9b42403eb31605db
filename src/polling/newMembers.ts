// New members of a list since the previous poll, for the Email List Trigger (and any other caller
// that polls). The state is plain JSON, kept by the caller between polls (n8n: the workflow's
// static data), so a restart neither repeats nor loses members.
//
// The watermark is the newest join time seen, in the platform's own clock, not "now" in ours: a
// poll asks for members who joined since the watermark less a look-back window, which covers
// clock differences, timestamps with second granularity and a platform that indexes new members a
// little late. The contact IDs already emitted inside that window are kept and dropped on the way
// out, so a member is emitted once.
import type { ApiClient } from '../http/client';
import type { Member, Platform } from '../platforms/types';

/** How far before the watermark each poll looks again (and how long emitted IDs are remembered). */
export const LOOKBACK_MS = 10 * 60_000;

/** Seen IDs are kept this much longer than the window, for platforms whose time filters round down. */
const FORGET_MARGIN_MS = 60_000;

export interface NewMemberState {
	platform: string;
	listId: string;
	/** The newest join time seen (ISO 8601), or where the first poll started. */
	since: string;
	/** Contact ID -> join time, for the members emitted (or already there) within the look-back window. */
	seen: Record<string, string>;
	/** The platform's resume point, for platforms that page by a token. */
	cursor?: string;
}

export interface PollOptions {
	/** The first poll emits the members already in the list instead of starting from now. */
	includeExisting?: boolean;
	/** The time now (tests set it). */
	now?: Date;
	lookbackMs?: number;
}

export interface PollResult {
	/** New members, oldest first. */
	members: Member[];
	state: NewMemberState;
}

/** The platform cannot be polled: the trigger says so instead of polling. */
export class PollingUnsupportedError extends Error {
	override name = 'PollingUnsupportedError';
}

/** Time in ms of an ISO 8601 instant; NaN when it is not one. */
const timeOf = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);

function startState(platform: Platform, listId: string, since: Date): NewMemberState {
	return { platform: platform.id, listId, since: since.toISOString(), seen: {} };
}

/**
 * One poll. `previous` is what the last poll returned as `state` (undefined on the first poll, or
 * when the node's list or platform changed, which starts afresh).
 *
 * The first poll without `includeExisting` asks the platform once for the members who joined in
 * the look-back window and remembers them without emitting them: they were there before the
 * trigger started. Every later poll emits whoever it has not seen.
 */
export async function pollNewMembers(
	platform: Platform,
	api: ApiClient,
	listId: string,
	previous: NewMemberState | undefined,
	options: PollOptions = {},
): Promise<PollResult> {
	if (!platform.capabilities.newMemberPolling || !platform.newMembers) {
		throw new PollingUnsupportedError(`${platform.name} cannot list new members of a list, so the trigger cannot watch it. Use a Schedule Trigger with Email List instead.`);
	}
	const now = options.now ?? new Date();
	const lookbackMs = options.lookbackMs ?? LOOKBACK_MS;
	const fresh = !previous || previous.platform !== platform.id || previous.listId !== listId || Number.isNaN(timeOf(previous.since));
	const firstPoll = fresh;
	const emitting = !firstPoll || options.includeExisting === true;
	const state: NewMemberState = fresh ? startState(platform, listId, options.includeExisting ? new Date(0) : now) : { ...previous, seen: { ...previous.seen } };

	const watermark = timeOf(state.since);
	const askFrom = new Date(Math.max(0, watermark - lookbackMs));
	const { members, cursor } = await platform.newMembers(api, listId, { since: askFrom.toISOString(), cursor: state.cursor });

	const emitted: Member[] = [];
	let newest = watermark;
	for (const member of members) {
		const joined = timeOf(member.joinedAt);
		// A member without a join time counts as joining now: it is remembered for the window.
		const joinedAt = Number.isNaN(joined) ? now.toISOString() : new Date(joined).toISOString();
		if (Object.prototype.hasOwnProperty.call(state.seen, member.contactId)) continue;
		state.seen[member.contactId] = joinedAt;
		if (emitting) emitted.push(member);
		if (!Number.isNaN(joined)) newest = Math.max(newest, joined);
	}
	// The first poll without existing members starts from now, or from the newest member seen when
	// the platform's clock is ahead of ours.
	state.since = new Date(newest).toISOString();
	if (cursor !== undefined) state.cursor = cursor;
	else delete state.cursor;

	// Forget what can no longer come back: joined before the next poll's window, with a minute to
	// spare for platforms that round the time they are given down (SendGrid to the second).
	const forgetBefore = newest - lookbackMs - FORGET_MARGIN_MS;
	for (const [id, joinedAt] of Object.entries(state.seen)) if (timeOf(joinedAt) < forgetBefore) delete state.seen[id];

	emitted.sort((a, b) => (timeOf(a.joinedAt) || 0) - (timeOf(b.joinedAt) || 0));
	return { members: emitted, state };
}

/** The newest members of a list, for a trigger run by hand ("Fetch test event"). */
export async function sampleMembers(platform: Platform, api: ApiClient, listId: string, limit: number): Promise<Member[]> {
	if (!platform.capabilities.newMemberPolling || !platform.recentMembers) {
		throw new PollingUnsupportedError(`${platform.name} cannot list new members of a list, so the trigger cannot watch it. Use a Schedule Trigger with Email List instead.`);
	}
	return platform.recentMembers(api, listId, limit);
}
