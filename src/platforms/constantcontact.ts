// Constant Contact (API v3, OAuth2). Lists with member counts, members of a list page by page,
// a global unsubscribe by a read-modify-write of the contact (the API has no partial update and no
// bulk opt-out for ordinary apps), deletes through the contact_delete bulk activity, polled to
// its end so each contact's real outcome is reported (CC deletes are soft: contacts stay
// restorable), and tags through the contacts_taggings_add bulk activity, polled the same way.
//
// Sources: the official description (../shared/specs/constantcontact/v3_swagger.yml, 3.0.178) for
// paths, parameters and bodies; the API guide for what the description leaves out (lists `limit` up
// to 1000: api_guide/lists_get_all.html; PUT keeps omitted sub-resources but nulls omitted core
// properties: api_guide/contacts/contacts-put; unsubscribing: api_guide/contacts_re-subscribe.html);
// CC API support (community.constantcontact.com) for the limits: 4 requests per second and 10,000
// per day per application key, both answered with "too many requests" and told apart only by the
// body's error_key (the older gateway said mashery.not.authorized.over.qps / over.ratelimit).
import { PlatformApiError, type ApiClient, type ApiRequest } from '../http/client';
import { maskSecrets, maskUrl } from '../http/mask';
import { paginate } from '../http/paginate';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../http/retry';
import type { HttpResponse, Transport } from '../http/types';
import type { ContactRef, CredentialFields, Member, MemberStatus, Platform, PlatformList, WriteOutcome } from './types';

export const CONSTANT_CONTACT_API_URL = 'https://api.cc.email/v3';
export const CONSTANT_CONTACT_AUTH_URL = 'https://authz.constantcontact.com/oauth2/default/v1';

const PLATFORM = 'Constant Contact';
/** GET /contacts `limit`: 1-500 (v3_swagger.yml). */
const MEMBER_PAGE = 500;
/** GET /contact_lists `limit`: the description's maximum and the API guide say 1000. */
const LIST_PAGE = 1000;
/** POST /activities/contact_delete `contact_ids`: maxItems 500. */
const DELETE_BATCH = 500;
/** Contacts unsubscribed at once; the rate limiter keeps the whole client at 4 requests a second. */
const UNSUBSCRIBE_CONCURRENCY = 4;
/** Waits between polls of a bulk activity: 1 s, 2 s, ... then every 5 s, about 10 minutes in all. */
const POLL_DELAYS_MS = [1000, 2000, 3000, 4000, ...Array<number>(120).fill(5000)];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CcEmailAddress {
	address?: string;
	permission_to_send?: string;
	[key: string]: unknown;
}

/** A contact as GET /contacts and GET /contacts/{id} return it (ContactResource). */
interface CcContact {
	contact_id?: string;
	email_address?: CcEmailAddress;
	deleted_at?: string;
	[key: string]: unknown;
}

interface CcActivity {
	activity_id: string;
	state?: string;
	activity_errors?: unknown[];
	status?: { items_total_count?: number; items_completed_count?: number };
}

type Outcome = Omit<WriteOutcome, 'index'>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------
// Errors, limits and advice

/** Constant Contact's error_key and error_message pairs, from an array (APIErrorSchema) or one object. */
function errorEntries(body: unknown): Array<{ key: string; message: string }> {
	const items = Array.isArray(body) ? body : [body];
	return items.filter(isObject).map((item) => ({
		key: typeof item.error_key === 'string' ? item.error_key : '',
		message: typeof item.error_message === 'string' ? item.error_message : '',
	}));
}

function errorText(body: unknown): string {
	if (typeof body === 'string') return body;
	return errorEntries(body)
		.map((e) => [e.key, e.message].filter(Boolean).join(': '))
		.join('; ');
}

/** The daily quota (10,000 requests per key): a retry cannot succeed before midnight UTC. */
export function isDailyQuotaExhausted(response: HttpResponse): boolean {
	if (response.status !== 429 && response.status !== 403) return false;
	return /quota_exceeded|over\.ratelimit|rate ?limit quota|limit exceeded|daily/i.test(errorText(response.body));
}

/** The per-second throttle (4 requests per second per key): clears within a second. */
export function isThrottled(response: HttpResponse): boolean {
	if (response.status !== 429 && response.status !== 403) return false;
	return /throttl|over\.qps|queries-per-second/i.test(errorText(response.body));
}

export const CONSTANT_CONTACT_RETRY: RetryPolicy = {
	...DEFAULT_RETRY_POLICY,
	// Every POST may be repeated: deleting a contact twice leaves it deleted, adding a tag twice leaves
	// it added once, and creating a tag that a lost reply had already made answers 409, which
	// findOrCreateTag turns into a look-up of the tag.
	methods: ['GET', 'PUT', 'DELETE', 'POST'],
	backoffMs: 1000,
	shouldRetry: (response) => {
		if (isDailyQuotaExhausted(response)) return false;
		// The older gateway answered the per-second limit with a 403.
		if (isThrottled(response)) return true;
		return undefined;
	},
};

function hint(response: HttpResponse, operation: string): string | undefined {
	const text = errorText(response.body);
	const writes = /unsubscribe|delete|tag contacts|create the tag/i.test(operation);
	if (isDailyQuotaExhausted(response)) {
		return 'Constant Contact’s daily limit of 10,000 requests for this app is used up; it resets at midnight UTC: run the rest then (an unsubscribe costs 2 requests per contact, a delete or a tag about 1 per 250 contacts).';
	}
	if (isThrottled(response)) {
		return 'Constant Contact kept refusing more than 4 requests per second: another integration may be using the same app; try again later.';
	}
	if (response.status === 429 && /activit/i.test(text)) {
		return 'Constant Contact has 1,000 bulk activities queued for this account: wait for them to finish, then try again.';
	}
	if (response.status === 401) return 'The access token was rejected or has expired: reconnect the Constant Contact credential.';
	if (response.status === 403) {
		if (/scope/i.test(text)) {
			return 'The connection lacks the contact_data scope: reconnect the Constant Contact credential and allow access to contacts, or use Verify only.';
		}
		return writes
			? 'The connected Constant Contact user may not change contacts (it needs the contact_data scope and the contacts:write privilege): reconnect as an account owner or manager, or use Verify only.'
			: 'The connected Constant Contact user may not read contacts (it needs the contact_data scope and the contacts:read privilege): reconnect the credential.';
	}
	if (response.status === 404 && /member/i.test(operation)) return 'The list no longer exists in Constant Contact: pick the list again.';
	return undefined;
}

/** A failed request as one line for an outcome: our message and, when it said one, Constant Contact's. */
function failureDetail(error: PlatformApiError): string {
	let said = '';
	if (error.details.body) {
		try {
			said = errorText(JSON.parse(error.details.body));
		} catch {
			said = error.details.body;
		}
	}
	return said ? `${error.message} Constant Contact said: ${said}` : error.message;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Our word for a contact's email permission (explicit, implicit, pending_confirmation, ...). */
export function memberStatus(contact: CcContact): MemberStatus {
	if (contact.deleted_at) return 'archived';
	switch (contact.email_address?.permission_to_send) {
		case 'explicit':
		case 'implicit':
			return 'subscribed';
		case 'unsubscribed':
			return 'unsubscribed';
		case 'pending_confirmation':
			return 'pending';
		default:
			// not_set, temp_hold, or no email address at all (an SMS-only contact).
			return 'unknown';
	}
}

/** The GET /contacts `status` values that hold each of our states (a superset; results are filtered again). */
const STATUS_QUERY: Record<MemberStatus, readonly string[]> = {
	subscribed: ['active'],
	unsubscribed: ['unsubscribed'],
	pending: ['pending_confirmation'],
	archived: ['deleted'],
	unknown: ['not_set', 'temp_hold'],
	// Constant Contact has no cleaned or transactional-only contacts.
	cleaned: [],
	transactional: [],
};

/** A `_links.next.href` ("/v3/contacts?cursor=...") as a path below the base URL, so overrides keep working. */
function nextPath(body: Record<string, unknown>): string | undefined {
	const links = body._links;
	const next = isObject(links) && isObject(links.next) ? links.next.href : undefined;
	if (typeof next !== 'string' || next.trim() === '') return undefined;
	const url = new URL(next, CONSTANT_CONTACT_API_URL);
	const path = url.pathname.startsWith('/v3/') ? url.pathname.slice(3) : url.pathname;
	return `${path}${url.search}`;
}

function contactPath(contactId: string): string {
	return `/contacts/${encodeURIComponent(contactId)}`;
}

async function findByEmail(api: ApiClient, operation: string, email: string, include?: string): Promise<CcContact | undefined> {
	// status=all: unsubscribed and deleted contacts too, so their state can be reported.
	const wanted = email.trim().toLowerCase();
	const request: ApiRequest = { method: 'GET', path: '/contacts', query: { email: wanted, status: 'all', ...(include ? { include } : {}) } };
	const body = await api.request(operation, request);
	if (!isObject(body) || !Array.isArray(body.contacts)) throw api.malformed(operation, request, 'no "contacts" array');
	const matches = body.contacts.filter((c): c is CcContact => isObject(c) && String((c as CcContact).email_address?.address ?? '').toLowerCase() === wanted);
	return matches.find((c) => !c.deleted_at) ?? matches[0];
}

function checkListId(listId: string): void {
	if (!listId || /[,/?#]/.test(listId)) throw new Error(`Constant Contact: “${listId}” is not a list ID: pick the list again.`);
}

/** A contact of the list as a member item: the same for every read. */
function toMember(contact: CcContact & { contact_id: string }, listId: string): Member {
	return { email: contact.email_address?.address ?? '', contactId: contact.contact_id, listId, platform: 'constantcontact', status: memberStatus(contact), raw: contact };
}

/**
 * The list's contacts (GET /contacts?lists=, 500 a page, not deleted ones unless `filter` says a
 * status), page by page through Constant Contact's `next` links, which carry the filter along.
 */
function contactPages(api: ApiClient, operation: string, listId: string, filter: Record<string, string>): AsyncGenerator<Member[]> {
	return paginate<Member>(async (cursor) => {
		const request: ApiRequest = cursor ? { method: 'GET', path: cursor } : { method: 'GET', path: '/contacts', query: { lists: listId, limit: MEMBER_PAGE, ...filter } };
		const body = await api.request(operation, request);
		if (!isObject(body) || !Array.isArray(body.contacts)) throw api.malformed(operation, request, 'no "contacts" array');
		const items = body.contacts.filter((c): c is CcContact & { contact_id: string } => isObject(c) && typeof c.contact_id === 'string').map((c) => toMember(c, listId));
		return { items, next: nextPath(body) };
	});
}

// New members. Constant Contact records no time at which a contact joined a list, and GET /contacts
// has no sort. `created_after` would miss an existing contact added to the list; a contact's
// `updated_at` changes when its list memberships do ("The last updated date of a contact will change
// if any of its details have been updated or its contact list membership has changed": Constant
// Contact's guide to synchronising contacts), so `lists` with `updated_after` finds every new
// member, in one request when nobody changed. Its price: a member whose details change (a new
// name, a tag) comes again, and its `updated_at` is all there is to tell when it joined, so that is
// `joinedAt` (`raw.created_at` tells a contact new to the account). An unsubscribe does not bring it
// again: Constant Contact removes an unsubscribed contact from its lists.

/** How far back the sample looks for recently updated members before reading the whole list. */
const RECENT_WINDOW_DAYS = [1, 30, 365];

/** The member with `joinedAt`: its last update (or, without one, its creation). */
function withJoinedAt(member: Member): Member {
	const contact = member.raw as CcContact;
	const time = Date.parse(String(contact.updated_at ?? contact.created_at ?? ''));
	return Number.isNaN(time) ? member : { ...member, joinedAt: new Date(time).toISOString() };
}

/** Oldest first: Constant Contact's own order is not by time. */
function byJoinTime(members: Member[]): Member[] {
	const time = (m: Member) => (m.joinedAt ? Date.parse(m.joinedAt) : 0);
	return members.sort((a, b) => time(a) - time(b));
}

/**
 * `updated_after` for a poll from `since`: the filter says "after", so it is asked from a second
 * earlier, which may bring a member of the previous poll again (the caller drops it) but never
 * loses one who joined at `since` itself.
 */
function updatedAfter(since: string): string {
	const time = Date.parse(since);
	if (Number.isNaN(time)) throw new RangeError(`${PLATFORM}: “${since}” is not an ISO 8601 time (such as 2024-05-01T12:00:00Z) to read new members from.`);
	return new Date(Math.max(0, time - 1000)).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * The PUT body that unsubscribes `contact` and changes nothing else. PUT nulls every core property
 * it does not receive, so all of them are sent back as read; sub-resources (custom fields, lists,
 * phones, addresses, notes, tags, SMS) are kept by Constant Contact when omitted, and are omitted:
 * re-sending phones and addresses (which carry no IDs in a PUT) would re-create them.
 */
export function unsubscribeBody(contact: CcContact): Record<string, unknown> {
	const notSent = new Set([
		// read-only
		'contact_id', 'created_at', 'updated_at', 'deleted_at', 'create_source', 'update_source',
		// sub-resources, kept when omitted
		'custom_fields', 'list_memberships', 'phone_numbers', 'street_addresses', 'taggings', 'notes', 'sms_channel',
		// replaced below
		'email_address',
	]);
	const body: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(contact)) {
		if (notSent.has(key) || key.startsWith('_') || value === null || value === undefined) continue;
		body[key] = value;
	}
	body.email_address = { address: contact.email_address?.address, permission_to_send: 'unsubscribed' };
	// The account (not the contact) opts the address out: the account may add it back later.
	body.update_source = 'Account';
	return body;
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function eachLimit<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length) await task(items[next++]);
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const skipped = (ref: ContactRef, detail: string): Outcome => ({ outcome: 'skipped', contactId: ref.contactId, email: ref.email, detail });

/** Refs that cannot be acted on as given: no ID or email, or an ID that is not one of CC's. */
function unusable(ref: ContactRef): Outcome | undefined {
	if (ref.contactId && UUID.test(ref.contactId)) return undefined;
	if (ref.email && ref.email.trim() !== '') return undefined;
	if (ref.contactId) return skipped(ref, `“${ref.contactId}” is not a Constant Contact contact ID (a UUID), and there is no email address to look the contact up by.`);
	return skipped(ref, 'The item has neither a contact ID nor an email address.');
}

/** Groups refs that name the same contact, so each is written once and every ref gets its outcome. */
function groupRefs(contacts: readonly ContactRef[]): Map<string, number[]> {
	const groups = new Map<string, number[]>();
	contacts.forEach((ref, position) => {
		const email = (ref.email ?? '').trim().toLowerCase();
		const key = ref.contactId && UUID.test(ref.contactId) ? `id:${ref.contactId.toLowerCase()}` : email ? `email:${email}` : `unusable:${position}`;
		groups.set(key, [...(groups.get(key) ?? []), position]);
	});
	return groups;
}

async function unsubscribeOne(api: ApiClient, ref: ContactRef): Promise<Outcome> {
	const operation = 'unsubscribe contact';
	let contact: CcContact | undefined;
	if (ref.contactId && UUID.test(ref.contactId)) {
		const request: ApiRequest = { method: 'GET', path: contactPath(ref.contactId) };
		const response = await api.send(operation, request);
		if (response.status === 404) return { outcome: 'already', contactId: ref.contactId, email: ref.email, detail: 'No such contact in Constant Contact (gone).' };
		if (response.status < 200 || response.status >= 300) throw api.errorFor(operation, request, response);
		if (!isObject(response.body)) throw api.malformed(operation, request, 'the contact is not a JSON object');
		contact = response.body as CcContact;
	} else {
		contact = await findByEmail(api, operation, ref.email ?? '');
		if (!contact) return { outcome: 'already', email: ref.email, detail: 'No contact with this email address in Constant Contact (gone).' };
	}
	const contactId = typeof contact.contact_id === 'string' ? contact.contact_id : ref.contactId;
	const address = contact.email_address?.address;
	const done = (outcome: WriteOutcome['outcome'], detail?: string): Outcome => ({ outcome, contactId, email: address ?? ref.email, detail });
	if (!contactId || !UUID.test(contactId)) throw api.malformed(operation, { method: 'GET', path: '/contacts' }, 'a contact without a contact_id');
	if (contact.deleted_at) return done('already', 'Deleted in Constant Contact; left deleted (updating it would restore it).');
	if (!address) return done('skipped', 'The contact has no email address (SMS only): nothing to unsubscribe.');
	if (ref.email && address.toLowerCase() !== ref.email.trim().toLowerCase()) {
		return done('skipped', `The contact’s email address is now ${address}, not the verified ${ref.email}: left unchanged.`);
	}
	if (contact.email_address?.permission_to_send === 'unsubscribed') return done('already', 'Already unsubscribed.');

	const request: ApiRequest = { method: 'PUT', path: contactPath(contactId), body: unsubscribeBody(contact) };
	const response = await api.send(operation, request);
	if (response.status === 404) return done('already', 'No such contact in Constant Contact (gone).');
	if (response.status < 200 || response.status >= 300) throw api.errorFor(operation, request, response);
	const after = isObject(response.body) ? (response.body as CcContact).email_address?.permission_to_send : undefined;
	if (after !== undefined && after !== 'unsubscribed') return done('failed', `Constant Contact kept the contact’s permission as ${after}.`);
	return done('done');
}

async function unsubscribe(api: ApiClient, _listId: string, contacts: readonly ContactRef[]): Promise<WriteOutcome[]> {
	const outcomes: WriteOutcome[] = new Array(contacts.length);
	const groups = [...groupRefs(contacts).values()];
	await eachLimit(groups, UNSUBSCRIBE_CONCURRENCY, async (positions) => {
		const ref = contacts[positions[0]];
		let outcome = unusable(ref);
		if (!outcome) {
			try {
				outcome = await unsubscribeOne(api, ref);
			} catch (error) {
				if (!(error instanceof PlatformApiError)) throw error;
				outcome = { outcome: 'failed', contactId: ref.contactId, email: ref.email, detail: failureDetail(error) };
			}
		}
		for (const position of positions) outcomes[position] = { index: contacts[position].index, ...outcome };
	});
	return outcomes;
}

function parseActivity(api: ApiClient, operation: string, request: ApiRequest, body: unknown): CcActivity {
	if (!isObject(body) || typeof body.activity_id !== 'string' || body.activity_id === '') throw api.malformed(operation, request, 'no activity_id');
	return body as unknown as CcActivity;
}

const FINAL_STATES = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

/** Polls a bulk activity until it ends; undefined when it is still running after the last poll. */
async function settle(api: ApiClient, activity: CcActivity, operation = 'check the delete activity'): Promise<CcActivity | undefined> {
	let current = activity;
	for (let attempt = 0; !FINAL_STATES.has(current.state ?? ''); attempt++) {
		if (attempt >= POLL_DELAYS_MS.length) return undefined;
		await api.wait(POLL_DELAYS_MS[attempt]);
		const request: ApiRequest = { method: 'GET', path: `/activities/${encodeURIComponent(activity.activity_id)}` };
		current = parseActivity(api, operation, request, await api.request(operation, request));
	}
	return current;
}

/** About how long settle() polls, in minutes, for messages. */
const POLL_MINUTES = Math.round(POLL_DELAYS_MS.reduce((a, b) => a + b, 0) / 60_000);

const GONE = /not found|does not exist|doesn't exist|no longer exists|already deleted|invalid contact/i;

/** What an ended delete activity means for each of its contacts. */
/**
 * Per-contact outcomes of a finished bulk activity (delete or tagging). Errors that name a contact
 * decide it; a completed activity with no other error makes the rest `done`; otherwise each
 * remaining contact is read back (`check`) to learn what really happened.
 */
async function activityResults(
	ids: readonly string[],
	activity: CcActivity,
	what: string,
	named: (id: string, message: string) => Outcome,
	check: (id: string, said: string) => Promise<Outcome>,
): Promise<Map<string, Outcome>> {
	const outcomes = new Map<string, Outcome>();
	const errors = (activity.activity_errors ?? []).map(String).filter((e) => e.trim() !== '');
	const unattributed: string[] = [];
	for (const message of errors) {
		const ofIds = ids.filter((id) => message.toLowerCase().includes(id.toLowerCase()));
		if (ofIds.length === 0) unattributed.push(message);
		for (const id of ofIds) outcomes.set(id, named(id, message));
	}
	const rest = ids.filter((id) => !outcomes.has(id));
	const state = activity.state ?? '';
	if (state === 'completed' && unattributed.length === 0) {
		for (const id of rest) outcomes.set(id, { outcome: 'done', contactId: id });
		return outcomes;
	}
	const said = unattributed.length > 0 ? unattributed.join(' | ') : `The ${what} activity ${activity.activity_id} ended ${state}.`;
	if (state !== 'completed' && activity.status?.items_completed_count === 0) {
		for (const id of rest) outcomes.set(id, { outcome: 'failed', contactId: id, detail: said });
		return outcomes;
	}
	// Errors that name no contact, or an activity that ended part way: read each contact to know.
	await eachLimit(rest, UNSUBSCRIBE_CONCURRENCY, async (id) => {
		try {
			outcomes.set(id, await check(id, said));
		} catch (error) {
			if (!(error instanceof PlatformApiError)) throw error;
			outcomes.set(id, { outcome: 'failed', contactId: id, detail: `${said} (and its state could not be read: ${failureDetail(error)})` });
		}
	});
	return outcomes;
}

function activityOutcomes(api: ApiClient, ids: readonly string[], activity: CcActivity): Promise<Map<string, Outcome>> {
	return activityResults(
		ids,
		activity,
		'delete',
		(id, message) => (GONE.test(message) ? { outcome: 'already', contactId: id, detail: message } : { outcome: 'failed', contactId: id, detail: message }),
		async (id, said) => {
			const request: ApiRequest = { method: 'GET', path: contactPath(id) };
			const response = await api.send('check a deleted contact', request);
			if (response.status === 404) return { outcome: 'already', contactId: id, detail: 'No such contact in Constant Contact (gone).' };
			if (response.status < 200 || response.status >= 300) throw api.errorFor('check a deleted contact', request, response);
			if (isObject(response.body) && response.body.deleted_at) return { outcome: 'done', contactId: id };
			return { outcome: 'failed', contactId: id, detail: said };
		},
	);
}

/**
 * Sorts the refs of a bulk activity: unusable ones are settled through `set`, those with a contact
 * ID go into `byId` (repeats merged), and the rest must be found by email first.
 */
function sortRefs(contacts: readonly ContactRef[], set: (positions: readonly number[], outcome: Outcome) => void) {
	const byId = new Map<string, number[]>();
	const addId = (id: string, positions: readonly number[]) => byId.set(id, [...(byId.get(id) ?? []), ...positions]);
	const byEmail: number[][] = [];
	for (const positions of groupRefs(contacts).values()) {
		const ref = contacts[positions[0]];
		const bad = unusable(ref);
		if (bad) set(positions, bad);
		else if (ref.contactId && UUID.test(ref.contactId)) addId(ref.contactId.toLowerCase(), positions);
		else byEmail.push(positions);
	}
	return { byId, byEmail, addId };
}

async function remove(api: ApiClient, _listId: string, contacts: readonly ContactRef[], options: { permanent?: boolean }): Promise<WriteOutcome[]> {
	if (options.permanent) {
		return contacts.map((ref) => ({
			index: ref.index,
			...skipped(ref, 'Constant Contact has no permanent delete in its API: deleted contacts stay restorable. Use the default Delete.'),
		}));
	}
	const operation = 'delete contacts';
	const outcomes: WriteOutcome[] = new Array(contacts.length);
	const set = (positions: readonly number[], outcome: Outcome) => {
		for (const position of positions) outcomes[position] = { index: contacts[position].index, contactId: contacts[position].contactId, email: contacts[position].email, ...outcome };
	};

	// Contact IDs to delete, each with the input positions that name it; the rest are found by email.
	const { byId, byEmail, addId } = sortRefs(contacts, set);
	await eachLimit(byEmail, UNSUBSCRIBE_CONCURRENCY, async (positions) => {
		const email = contacts[positions[0]].email ?? '';
		try {
			const contact = await findByEmail(api, operation, email);
			if (!contact) set(positions, { outcome: 'already', detail: 'No contact with this email address in Constant Contact (gone).' });
			else if (typeof contact.contact_id !== 'string' || !UUID.test(contact.contact_id)) throw api.malformed(operation, { method: 'GET', path: '/contacts' }, 'a contact without a contact_id');
			else if (contact.deleted_at) set(positions, { outcome: 'already', contactId: contact.contact_id, detail: 'Already deleted in Constant Contact.' });
			else addId(contact.contact_id.toLowerCase(), positions);
		} catch (error) {
			if (!(error instanceof PlatformApiError)) throw error;
			set(positions, { outcome: 'failed', detail: failureDetail(error) });
		}
	});

	const ids = [...byId.keys()];
	const batches: string[][] = [];
	for (let start = 0; start < ids.length; start += DELETE_BATCH) batches.push(ids.slice(start, start + DELETE_BATCH));
	const report = (id: string, outcome: Outcome) => {
		const positions = byId.get(id) ?? [];
		set(positions, { ...outcome, contactId: contacts[positions[0]]?.contactId ?? id });
	};

	// Submit every batch first (they run side by side at Constant Contact), then follow each to its end.
	const submitted: Array<{ batch: string[]; activity: CcActivity }> = [];
	for (const batch of batches) {
		const request: ApiRequest = { method: 'POST', path: '/activities/contact_delete', body: { contact_ids: batch } };
		try {
			submitted.push({ batch, activity: parseActivity(api, operation, request, await api.request(operation, request)) });
		} catch (error) {
			if (!(error instanceof PlatformApiError)) throw error;
			for (const id of batch) report(id, { outcome: 'failed', detail: failureDetail(error) });
		}
	}
	for (const { batch, activity } of submitted) {
		try {
			const ended = await settle(api, activity);
			if (!ended) {
				const detail = `Constant Contact was still processing delete activity ${activity.activity_id} after about ${POLL_MINUTES} minutes: not confirmed; run the clean-up again later to check.`;
				for (const id of batch) report(id, { outcome: 'failed', detail });
				continue;
			}
			for (const [id, outcome] of await activityOutcomes(api, batch, ended)) report(id, outcome);
		} catch (error) {
			if (!(error instanceof PlatformApiError)) throw error;
			for (const id of batch) report(id, { outcome: 'failed', detail: `Submitted as activity ${activity.activity_id}, but its end could not be read: ${failureDetail(error)}` });
		}
	}
	return outcomes;
}

// ---------------------------------------------------------------------------------------------
// Tagging
//
// A Constant Contact tag has a name (list-hygiene:invalid) and an ID, and tagging takes the ID. The
// tag must exist first: it is looked for by name (GET /contact_tags, 500 a page) and created only
// when it is missing (POST /contact_tags), so running twice never makes a second tag; a 409 (made
// meanwhile by another run, or the same name in other letter case: names are unique) sends us back
// to the list. Then contacts_taggings_add activities of up to 500 contact IDs add it, each polled to
// its end like contact_delete. The activity adds one tagging and changes nothing else of a contact.
//
// Which contacts already carry the tag, so that they are reported as `already`: a contact looked up
// by email comes with its taggings (include=taggings, no extra request). For contacts given by ID,
// whichever is cheaper: the tag's contacts (GET /contacts?tags=, 500 a page, as many pages as the
// tag's contacts_count says) or each contact with its taggings (GET /contacts/{id}?include=taggings).
// A tag created by this run has no contacts, so nothing is read.

/** GET /contact_tags `limit`: up to 500. */
const TAG_PAGE = 500;
/** POST /activities/contacts_taggings_add `source.contact_ids`: maxItems 500. */
const TAG_BATCH = 500;
/** TagPost `name`: 1 to 255 characters. */
const TAG_NAME_MAX = 255;

interface CcTag {
	tag_id: string;
	name: string;
	/** With include_count=true: the contacts that carry the tag. */
	contacts_count?: number;
}

const hasTag = (contact: CcContact, tagId: string): boolean =>
	Array.isArray(contact.taggings) && contact.taggings.some((t) => String(t).toLowerCase() === tagId.toLowerCase());

/** The tag named `name`: an exact match, or else one that differs only in letter case; undefined when there is none. */
async function findTag(api: ApiClient, name: string): Promise<CcTag | undefined> {
	const operation = 'read tags';
	let nearly: CcTag | undefined;
	const pages = paginate<CcTag>(async (cursor) => {
		if (cursor && !/^\/contact_tags\?/.test(cursor)) throw new Error(`Constant Contact: “${cursor}” is not a page of tags.`);
		const request: ApiRequest = cursor ? { method: 'GET', path: cursor } : { method: 'GET', path: '/contact_tags', query: { limit: TAG_PAGE, include_count: true } };
		const body = await api.request(operation, request);
		if (!isObject(body) || !Array.isArray(body.tags)) throw api.malformed(operation, request, 'no "tags" array');
		const items = body.tags
			.filter((t): t is Record<string, unknown> => isObject(t) && typeof t.tag_id === 'string' && typeof t.name === 'string')
			.map((t) => ({ tag_id: String(t.tag_id), name: String(t.name), ...(typeof t.contacts_count === 'number' ? { contacts_count: t.contacts_count } : {}) }));
		return { items, next: nextPath(body) };
	});
	for await (const page of pages) {
		const exact = page.find((t) => t.name === name);
		if (exact) return exact;
		nearly ??= page.find((t) => t.name.toLowerCase() === name.toLowerCase());
	}
	return nearly;
}

/** Finds the tag, or creates it once when it does not exist (idempotent: found first, and a 409 is looked up again). */
async function findOrCreateTag(api: ApiClient, name: string): Promise<{ tag: CcTag; created: boolean }> {
	const found = await findTag(api, name);
	if (found) return { tag: found, created: false };
	const operation = 'create the tag';
	const request: ApiRequest = { method: 'POST', path: '/contact_tags', body: { name } };
	const response = await api.send(operation, request);
	if (response.status === 409) {
		const made = await findTag(api, name);
		if (made) return { tag: made, created: false };
	}
	if (response.status < 200 || response.status >= 300) throw api.errorFor(operation, request, response);
	const body = response.body;
	if (!isObject(body) || typeof body.tag_id !== 'string' || body.tag_id === '') throw api.malformed(operation, request, 'no tag_id');
	return { tag: { tag_id: body.tag_id, name: typeof body.name === 'string' ? body.name : name, contacts_count: 0 }, created: true };
}

/** IDs (lower-cased) of the contacts that carry the tag, 500 a page. */
async function taggedContactIds(api: ApiClient, tagId: string): Promise<Set<string>> {
	const operation = 'read tagged contacts';
	const ids = new Set<string>();
	const pages = paginate<string>(async (cursor) => {
		if (cursor && !/^\/contacts\?/.test(cursor)) throw new Error(`Constant Contact: “${cursor}” is not a page of contacts.`);
		const request: ApiRequest = cursor ? { method: 'GET', path: cursor } : { method: 'GET', path: '/contacts', query: { tags: tagId, limit: MEMBER_PAGE } };
		const body = await api.request(operation, request);
		if (!isObject(body) || !Array.isArray(body.contacts)) throw api.malformed(operation, request, 'no "contacts" array');
		const items = body.contacts.filter((c): c is CcContact => isObject(c) && typeof c.contact_id === 'string').map((c) => String(c.contact_id).toLowerCase());
		return { items, next: nextPath(body) };
	});
	for await (const page of pages) for (const id of page) ids.add(id);
	return ids;
}

const GONE_TAG = 'No such contact in Constant Contact (gone): not tagged.';
const DELETED_TAG = 'Deleted in Constant Contact: not tagged.';

/** One contact read with its taggings: tagged, not tagged, deleted, or gone. */
async function contactTagging(api: ApiClient, operation: string, id: string, tagId: string): Promise<'tagged' | 'untagged' | 'deleted' | 'gone'> {
	const request: ApiRequest = { method: 'GET', path: contactPath(id), query: { include: 'taggings' } };
	const response = await api.send(operation, request);
	if (response.status === 404) return 'gone';
	if (response.status < 200 || response.status >= 300) throw api.errorFor(operation, request, response);
	if (!isObject(response.body)) throw api.malformed(operation, request, 'the contact is not a JSON object');
	const contact = response.body as CcContact;
	if (contact.deleted_at) return 'deleted';
	return hasTag(contact, tagId) ? 'tagged' : 'untagged';
}

/** What an ended tagging activity means for each of its contacts. */
function taggingOutcomes(api: ApiClient, ids: readonly string[], activity: CcActivity, tagId: string): Promise<Map<string, Outcome>> {
	return activityResults(
		ids,
		activity,
		'tagging',
		(id, message) => (GONE.test(message) ? { outcome: 'skipped', contactId: id, detail: `${message} Not tagged.` } : { outcome: 'failed', contactId: id, detail: message }),
		async (id, said) => {
			const now = await contactTagging(api, 'check a tagged contact', id, tagId);
			if (now === 'tagged') return { outcome: 'done', contactId: id };
			if (now === 'gone') return { outcome: 'skipped', contactId: id, detail: GONE_TAG };
			return { outcome: 'failed', contactId: id, detail: said };
		},
	);
}

async function tag(api: ApiClient, _listId: string, contacts: readonly ContactRef[], tagName: string): Promise<WriteOutcome[]> {
	const operation = 'tag contacts';
	const outcomes: WriteOutcome[] = new Array(contacts.length);
	const set = (positions: readonly number[], outcome: Outcome) => {
		for (const position of positions) outcomes[position] = { index: contacts[position].index, contactId: contacts[position].contactId, email: contacts[position].email, ...outcome };
	};
	const name = tagName.trim();
	if (name === '' || name.length > TAG_NAME_MAX) {
		const detail = `“${tagName}” cannot be a Constant Contact tag: a tag name has 1 to ${TAG_NAME_MAX} characters.`;
		return contacts.map((ref) => ({ index: ref.index, ...skipped(ref, detail) }));
	}

	// Contact IDs to tag, each with the input positions that name it; the rest are found by email.
	const { byId, byEmail, addId } = sortRefs(contacts, set);
	if (byId.size === 0 && byEmail.length === 0) return outcomes;

	let found: { tag: CcTag; created: boolean };
	try {
		found = await findOrCreateTag(api, name);
	} catch (error) {
		if (!(error instanceof PlatformApiError)) throw error;
		const detail = failureDetail(error);
		for (const positions of [...byId.values(), ...byEmail]) set(positions, { outcome: 'failed', detail });
		return outcomes;
	}
	const tagId = found.tag.tag_id;
	const alreadyDetail = `Already tagged ${found.tag.name}.`;

	// Contacts looked up by email come with their taggings.
	const seen = new Set<string>();
	await eachLimit(byEmail, UNSUBSCRIBE_CONCURRENCY, async (positions) => {
		const email = contacts[positions[0]].email ?? '';
		try {
			const contact = await findByEmail(api, operation, email, 'taggings');
			if (!contact) set(positions, { outcome: 'skipped', detail: 'No contact with this email address in Constant Contact (gone): not tagged.' });
			else if (typeof contact.contact_id !== 'string' || !UUID.test(contact.contact_id)) throw api.malformed(operation, { method: 'GET', path: '/contacts' }, 'a contact without a contact_id');
			else if (contact.deleted_at) set(positions, { outcome: 'skipped', contactId: contact.contact_id, detail: DELETED_TAG });
			else if (hasTag(contact, tagId)) set(positions, { outcome: 'already', contactId: contact.contact_id, detail: alreadyDetail });
			else {
				seen.add(contact.contact_id.toLowerCase());
				addId(contact.contact_id.toLowerCase(), positions);
			}
		} catch (error) {
			if (!(error instanceof PlatformApiError)) throw error;
			set(positions, { outcome: 'failed', detail: failureDetail(error) });
		}
	});
	const report = (id: string, outcome: Outcome) => {
		const positions = byId.get(id) ?? [];
		set(positions, { ...outcome, contactId: contacts[positions[0]]?.contactId ?? id });
	};
	const settled = (id: string, outcome: Outcome) => {
		report(id, outcome);
		byId.delete(id);
	};

	// Contacts given by ID: which of them carry the tag already (none, for a tag made just now).
	const unknown = [...byId.keys()].filter((id) => !seen.has(id));
	if (!found.created && found.tag.contacts_count !== 0 && unknown.length > 0) {
		const pages = found.tag.contacts_count === undefined ? Infinity : Math.ceil(found.tag.contacts_count / MEMBER_PAGE);
		if (pages <= unknown.length) {
			try {
				const tagged = await taggedContactIds(api, tagId);
				for (const id of unknown) if (tagged.has(id)) settled(id, { outcome: 'already', detail: alreadyDetail });
			} catch (error) {
				if (!(error instanceof PlatformApiError)) throw error;
				for (const id of unknown) settled(id, { outcome: 'failed', detail: failureDetail(error) });
			}
		} else {
			await eachLimit(unknown, UNSUBSCRIBE_CONCURRENCY, async (id) => {
				try {
					const now = await contactTagging(api, operation, id, tagId);
					if (now === 'tagged') settled(id, { outcome: 'already', detail: alreadyDetail });
					else if (now === 'gone') settled(id, { outcome: 'skipped', detail: GONE_TAG });
					else if (now === 'deleted') settled(id, { outcome: 'skipped', detail: DELETED_TAG });
				} catch (error) {
					if (!(error instanceof PlatformApiError)) throw error;
					settled(id, { outcome: 'failed', detail: failureDetail(error) });
				}
			});
		}
	}

	const ids = [...byId.keys()];
	const batches: string[][] = [];
	for (let start = 0; start < ids.length; start += TAG_BATCH) batches.push(ids.slice(start, start + TAG_BATCH));
	// Submit every batch first (they run side by side at Constant Contact), then follow each to its end.
	const submitted: Array<{ batch: string[]; activity: CcActivity }> = [];
	for (const batch of batches) {
		const request: ApiRequest = { method: 'POST', path: '/activities/contacts_taggings_add', body: { source: { contact_ids: batch }, tag_ids: [tagId] } };
		try {
			submitted.push({ batch, activity: parseActivity(api, operation, request, await api.request(operation, request)) });
		} catch (error) {
			if (!(error instanceof PlatformApiError)) throw error;
			for (const id of batch) report(id, { outcome: 'failed', detail: failureDetail(error) });
		}
	}
	for (const { batch, activity } of submitted) {
		try {
			const ended = await settle(api, activity, 'check the tagging activity');
			if (!ended) {
				const detail = `Constant Contact was still processing tagging activity ${activity.activity_id} after about ${POLL_MINUTES} minutes: not confirmed; run the clean-up again later to check.`;
				for (const id of batch) report(id, { outcome: 'failed', detail });
				continue;
			}
			for (const [id, outcome] of await taggingOutcomes(api, batch, ended, tagId)) report(id, outcome);
		} catch (error) {
			if (!(error instanceof PlatformApiError)) throw error;
			for (const id of batch) report(id, { outcome: 'failed', detail: `Submitted as activity ${activity.activity_id}, but its end could not be read: ${failureDetail(error)}` });
		}
	}
	return outcomes;
}

// ---------------------------------------------------------------------------------------------
// The platform

function accessToken(credentials: CredentialFields): string | undefined {
	if (typeof credentials.accessToken === 'string' && credentials.accessToken !== '') return credentials.accessToken;
	const data = credentials.oauthTokenData;
	if (isObject(data) && typeof data.access_token === 'string' && data.access_token !== '') return data.access_token;
	return undefined;
}

export const constantcontact: Platform = {
	id: 'constantcontact',
	name: PLATFORM,
	capabilities: {
		listKinds: ['list'],
		// permission_to_send is one setting per contact, for every list of the account.
		unsubscribeScope: 'global',
		// Deleted contacts can be revived (contact_delete description); the API has no purge.
		deleteKind: 'archive',
		permanentDelete: false,
		// Tags: found or created by name, written by the contacts_taggings_add activity.
		tag: true,
		// GET /contacts takes lists + updated_after (see newMembers: a list join updates the contact).
		newMemberPolling: true,
	},
	limits: {
		pageSize: MEMBER_PAGE,
		unsubscribeBatch: 1,
		deleteBatch: DELETE_BATCH,
		rateLimit: { requests: 4, perMs: 1000 },
	},
	retry: CONSTANT_CONTACT_RETRY,
	credentials: [{ name: 'listHygieneConstantContactOAuth2Api', authentication: 'oAuth2', displayName: 'OAuth2' }],

	cliAuth(credentials) {
		const token = accessToken(credentials);
		if (!token) {
			throw new Error('Constant Contact needs an OAuth2 access token (accessToken) with the contact_data scope: connect the account in n8n, or get a token through Constant Contact’s Authorization Code flow.');
		}
		return { authorization: `Bearer ${token}` };
	},

	async baseUrl(credentials) {
		const override = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim() : '';
		if (override === '') return CONSTANT_CONTACT_API_URL;
		if (!/^https?:\/\/[^\s/]+/i.test(override)) {
			throw new Error(`Constant Contact: the Base URL Override “${maskUrl(override)}” is not an http(s) URL: leave it empty to use ${CONSTANT_CONTACT_API_URL}.`);
		}
		return override.replace(/\/+$/, '');
	},

	hint,

	async lists(api, query) {
		const operation = 'read lists';
		let request: ApiRequest;
		if (query.cursor) {
			if (!/^\/contact_lists\?/.test(query.cursor)) throw new Error(`Constant Contact: “${query.cursor}” is not a page of lists from an earlier call.`);
			request = { method: 'GET', path: query.cursor };
		} else {
			request = { method: 'GET', path: '/contact_lists', query: { include_membership_count: 'all', limit: LIST_PAGE } };
		}
		const body = await api.request(operation, request);
		if (!isObject(body) || !Array.isArray(body.lists)) throw api.malformed(operation, request, 'no "lists" array');
		// The API filters by a full, exact name only: a substring match is done here.
		const needle = query.filter?.trim().toLowerCase() ?? '';
		const lists: PlatformList[] = body.lists
			.filter((l): l is Record<string, unknown> => isObject(l) && typeof l.list_id === 'string' && typeof l.name === 'string')
			.filter((l) => needle === '' || String(l.name).toLowerCase().includes(needle))
			.map((l) => ({
				id: String(l.list_id),
				name: String(l.name),
				kind: 'list' as const,
				...(typeof l.membership_count === 'number' ? { memberCount: l.membership_count } : {}),
			}));
		return { lists, cursor: nextPath(body) };
	},

	members(api, listId, query) {
		const operation = 'read list members';
		const wanted = query.status && query.status.length > 0 ? new Set(query.status) : undefined;
		const statuses = wanted ? [...new Set([...wanted].flatMap((s) => STATUS_QUERY[s]))] : [];
		return (async function* () {
			checkListId(listId);
			// Nothing in Constant Contact has the states asked for.
			if (wanted && statuses.length === 0) return;
			for await (const page of contactPages(api, operation, listId, wanted ? { status: statuses.join(',') } : {})) {
				const items = page.filter((m) => !wanted || wanted.has(m.status));
				if (items.length > 0) yield items;
			}
		})();
	},

	async newMembers(api, listId, query) {
		checkListId(listId);
		const members: Member[] = [];
		for await (const page of contactPages(api, 'read new list members', listId, { updated_after: updatedAfter(query.since) })) members.push(...page.map(withJoinedAt));
		return { members: byJoinTime(members) };
	},

	async recentMembers(api, listId, limit) {
		checkListId(listId);
		if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`${PLATFORM}: the number of recent members must be a whole number of at least 1, not ${limit}.`);
		// GET /contacts has no sort: the newest are found by reading the contacts updated in a recent
		// window, widened until it holds enough (one request for a list with recent sign-ups).
		const now = Date.now();
		for (const days of [...RECENT_WINDOW_DAYS, undefined]) {
			const filter: Record<string, string> = days === undefined ? {} : { updated_after: new Date(now - days * 86_400_000).toISOString() };
			const members: Member[] = [];
			for await (const page of contactPages(api, 'read recent list members', listId, filter)) members.push(...page.map(withJoinedAt));
			if (members.length >= limit || days === undefined) return byJoinTime(members).reverse().slice(0, limit);
		}
		return [];
	},

	unsubscribe,
	delete: remove,
	tag,
};

// ---------------------------------------------------------------------------------------------
// Revoking access

export interface RevokeOptions {
	/** The app's client secret; without one the client ID goes in the body (a public, PKCE client). */
	clientSecret?: string;
	/** Which token `token` is (a refresh token ends the whole grant). */
	tokenTypeHint?: 'access_token' | 'refresh_token';
	/** The revocation endpoint, when not Constant Contact's (a test server). */
	url?: string;
	timeoutMs?: number;
}

/**
 * Revokes a token at Constant Contact's authorization server (an RFC 7009 endpoint beside its
 * /token: POST, form-encoded token and token_type_hint, the app authenticated with HTTP Basic
 * client_id:client_secret). Revoking the refresh token ends the app's access to the account.
 * The body is a form-encoded string: the transport must send string bodies as they are.
 */
export async function revokeConstantContactAccess(transport: Transport, token: string, clientId: string, options: RevokeOptions = {}): Promise<void> {
	const operation = 'revoke access';
	const url = options.url ?? `${CONSTANT_CONTACT_AUTH_URL}/revoke`;
	const secrets = [token, options.clientSecret];
	if (!token) throw new Error('Constant Contact: there is no token to revoke: the credential is not connected.');
	if (!clientId) throw new Error('Constant Contact: revoking access needs the app’s client ID (API key).');
	const form = new URLSearchParams({ token, token_type_hint: options.tokenTypeHint ?? 'refresh_token' });
	const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
	if (options.clientSecret) headers.authorization = `Basic ${Buffer.from(`${clientId}:${options.clientSecret}`).toString('base64')}`;
	else form.set('client_id', clientId);

	const fail = (status: number | undefined, detail: string, advice: string, body?: string) =>
		new PlatformApiError(maskSecrets(`${PLATFORM}: ${operation} failed${status ? ` with HTTP ${status}` : ''}: ${detail}. ${advice}`, secrets), {
			platform: PLATFORM,
			operation,
			method: 'POST',
			url: maskUrl(url),
			status,
			body: body === undefined ? undefined : maskSecrets(body, secrets),
			hint: advice,
		});
	let response: HttpResponse;
	try {
		response = await transport.request({ method: 'POST', url, headers, body: form.toString(), timeoutMs: options.timeoutMs });
	} catch (error) {
		throw fail(undefined, (error as Error).message, 'Check the network connection, then try again.');
	}
	// RFC 7009: 200 also for a token that was already invalid, so revoking twice is safe.
	if (response.status >= 200 && response.status < 300) return;
	const body = isObject(response.body) ? response.body : {};
	const said = [body.error, body.error_description].filter((v) => typeof v === 'string').join(': ') || 'no reason given';
	const advice =
		response.status === 401 || body.error === 'invalid_client'
			? 'The client ID or secret was rejected: check the app’s API key and secret.'
			: 'Check the token and the client ID, then try again.';
	const excerpt = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
	throw fail(response.status, said, advice, excerpt.slice(0, 300));
}
