// The polling core on its own: a scripted platform whose list members join at given times and
// which answers `newMembers` the way a platform's time filter does (at or after `since`, with an
// optional cursor). What is under test is the watermark, the de-duplication and the state.
import type { ApiClient } from '../../src/http/client';
import type { Member, NewMemberQuery, Platform } from '../../src/platforms/types';
import { LOOKBACK_MS, pollNewMembers, PollingUnsupportedError, sampleMembers, type NewMemberState } from '../../src/polling/newMembers';

const api = {} as ApiClient;
const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

interface Joined {
	id: string;
	minute: number;
	/** The platform indexes it only from this minute on (eventual consistency). */
	visibleFrom?: number;
}

function scriptedPlatform(options: { cursor?: boolean; polling?: boolean } = {}) {
	const joined: Joined[] = [];
	const queries: NewMemberQuery[] = [];
	let clock = 0;
	const member = (j: Joined): Member => ({
		email: `${j.id}@example.test`,
		contactId: j.id,
		listId: 'L1',
		platform: 'mailchimp',
		status: 'subscribed',
		joinedAt: at(j.minute).toISOString(),
		raw: {},
	});
	const platform = {
		id: 'mailchimp',
		name: 'Scripted',
		capabilities: { newMemberPolling: options.polling ?? true },
		async newMembers(_api: ApiClient, listId: string, query: NewMemberQuery) {
			queries.push(query);
			expect(listId).toBe('L1');
			const since = Date.parse(query.since);
			const visible = joined.filter((j) => (j.visibleFrom ?? j.minute) <= clock && at(j.minute).getTime() >= since);
			return { members: visible.map(member), ...(options.cursor ? { cursor: `c${queries.length}` } : {}) };
		},
		async recentMembers(_api: ApiClient, _listId: string, limit: number) {
			return [...joined].sort((a, b) => b.minute - a.minute).slice(0, limit).map(member);
		},
	} as unknown as Platform;
	return {
		platform,
		queries,
		join: (id: string, minute: number, visibleFrom?: number) => joined.push({ id, minute, visibleFrom }),
		setClock: (minute: number) => (clock = minute),
	};
}

/** Polls at `minute` with the state as n8n would keep it (a JSON round trip). */
async function pollAt(world: ReturnType<typeof scriptedPlatform>, minute: number, state: NewMemberState | undefined, includeExisting = false) {
	world.setClock(minute);
	const stored = state === undefined ? undefined : (JSON.parse(JSON.stringify(state)) as NewMemberState);
	const result = await pollNewMembers(world.platform, api, 'L1', stored, { now: at(minute), includeExisting });
	return { ids: result.members.map((m) => m.contactId), state: result.state };
}

describe('pollNewMembers', () => {
	it('starts from now: members already there are not emitted, those who join later are, once each', async () => {
		const world = scriptedPlatform();
		world.join('old', -60);
		world.join('recent', -2);
		let poll = await pollAt(world, 0, undefined);
		expect(poll.ids).toEqual([]);
		expect(world.queries).toHaveLength(1);

		world.join('ann', 1);
		world.join('bob', 1);
		poll = await pollAt(world, 1, poll.state);
		expect(poll.ids).toEqual(['ann', 'bob']);

		world.join('cat', 2);
		poll = await pollAt(world, 2, poll.state);
		expect(poll.ids).toEqual(['cat']);

		// Idle: one request, nothing emitted, though ann, bob and cat are still in the look-back window.
		const before = world.queries.length;
		poll = await pollAt(world, 3, poll.state);
		expect(poll.ids).toEqual([]);
		expect(world.queries.length - before).toBe(1);
	});

	it('with "include existing", the first poll emits every member, oldest first', async () => {
		const world = scriptedPlatform();
		world.join('b', -30);
		world.join('a', -90);
		const poll = await pollAt(world, 0, undefined, true);
		expect(poll.ids).toEqual(['a', 'b']);
		expect(world.queries[0].since).toBe(new Date(0).toISOString());
		const again = await pollAt(world, 1, poll.state, true);
		expect(again.ids).toEqual([]);
	});

	it('asks from the watermark less the look-back window, and the watermark is the newest join seen', async () => {
		const world = scriptedPlatform();
		let poll = await pollAt(world, 0, undefined);
		world.join('ann', 5);
		poll = await pollAt(world, 6, poll.state);
		expect(poll.state.since).toBe(at(5).toISOString());
		await pollAt(world, 7, poll.state);
		expect(world.queries[2].since).toBe(new Date(at(5).getTime() - LOOKBACK_MS).toISOString());
	});

	it('does not lose a member the platform indexes a few minutes late, nor one joining at the watermark instant', async () => {
		const world = scriptedPlatform();
		let poll = await pollAt(world, 0, undefined);
		world.join('early', 3);
		world.join('late', 2, 6); // joined at minute 2, searchable only from minute 6
		poll = await pollAt(world, 4, poll.state);
		expect(poll.ids).toEqual(['early']);
		world.join('same-instant', 3);
		poll = await pollAt(world, 7, poll.state);
		expect(poll.ids.sort()).toEqual(['late', 'same-instant']);
	});

	it('a restart from the stored state neither repeats nor loses members', async () => {
		const world = scriptedPlatform();
		let poll = await pollAt(world, 0, undefined);
		world.join('ann', 1);
		poll = await pollAt(world, 1, poll.state);
		const stored = JSON.stringify(poll.state);
		// n8n is down from minute 2 to 30; two people join meanwhile.
		world.join('bob', 5);
		world.join('cat', 20);
		poll = await pollAt(world, 30, JSON.parse(stored) as NewMemberState);
		expect(poll.ids).toEqual(['bob', 'cat']);
	});

	it('forgets emitted IDs once they are out of the window, so the state stays small', async () => {
		const world = scriptedPlatform();
		let poll = await pollAt(world, 0, undefined);
		for (let i = 1; i <= 30; i++) world.join(`m${i}`, i);
		poll = await pollAt(world, 30, poll.state);
		expect(poll.ids).toHaveLength(30);
		// Only the members who joined within the window (and its one-minute margin) before the newest one are kept.
		expect(Object.keys(poll.state.seen).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `m${19 + i}`).sort());
	});

	it('does not emit twice a member a platform returns from just before the window (a time filter that rounds down)', async () => {
		const world = scriptedPlatform();
		let poll = await pollAt(world, 0, undefined);
		world.join('edge', 1);
		poll = await pollAt(world, 1, poll.state);
		expect(poll.ids).toEqual(['edge']);
		// Someone joins 10.2 minutes later: 'edge' is now just outside the next poll's window.
		world.join('later', 11.2);
		poll = await pollAt(world, 12, poll.state);
		expect(poll.ids).toEqual(['later']);
		// A platform that rounds the time it is given down to the minute returns 'edge' once more.
		const exact = world.platform.newMembers!.bind(world.platform);
		world.platform.newMembers = (api, listId, query) => exact(api, listId, { ...query, since: new Date(Math.floor(Date.parse(query.since) / 60_000) * 60_000).toISOString() });
		poll = await pollAt(world, 13, poll.state);
		expect(world.queries.at(-1)?.since).toBe(at(1).toISOString());
		expect(poll.ids).toEqual([]);
	});

	it('starts afresh when the node is pointed at another list or platform', async () => {
		const world = scriptedPlatform();
		world.join('old', -5);
		const state: NewMemberState = { platform: 'mailchimp', listId: 'OTHER', since: at(-100).toISOString(), seen: {} };
		const poll = await pollAt(world, 0, state);
		expect(poll.ids).toEqual([]);
		expect(poll.state.listId).toBe('L1');
	});

	it('passes the platform cursor back on the next poll and drops it when the platform stops giving one', async () => {
		const world = scriptedPlatform({ cursor: true });
		let poll = await pollAt(world, 0, undefined);
		expect(poll.state.cursor).toBe('c1');
		poll = await pollAt(world, 1, poll.state);
		expect(world.queries[1].cursor).toBe('c1');
		expect(poll.state.cursor).toBe('c2');
	});

	it('starts from the platform time when the platform clock is ahead of ours', async () => {
		const world = scriptedPlatform();
		world.join('ahead', 4, 0); // visible now, stamped 4 minutes in our future by the platform's clock
		let poll = await pollAt(world, 0, undefined);
		expect(poll.ids).toEqual([]);
		expect(poll.state.since).toBe(at(4).toISOString());
		world.join('next', 5, 1);
		poll = await pollAt(world, 1, poll.state);
		expect(poll.ids).toEqual(['next']);
	});

	it('refuses a platform that cannot poll, with what to do instead', async () => {
		const world = scriptedPlatform({ polling: false });
		await expect(pollNewMembers(world.platform, api, 'L1', undefined)).rejects.toThrow(PollingUnsupportedError);
		await expect(sampleMembers(world.platform, api, 'L1', 3)).rejects.toThrow(/Schedule Trigger/);
	});

	it('samples the newest members for a manual run', async () => {
		const world = scriptedPlatform();
		world.join('a', 1);
		world.join('c', 3);
		world.join('b', 2);
		const sample = await sampleMembers(world.platform, api, 'L1', 2);
		expect(sample.map((m) => m.contactId)).toEqual(['c', 'b']);
	});
});
