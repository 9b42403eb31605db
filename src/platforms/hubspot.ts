// HubSpot: contact lists (CRM Lists v3), contacts (CRM Contacts v3) and the account-wide email
// opt-out (Communication Preferences v4). Described by ../shared/specs/hubspot/*.json.
//
// - lists:       POST /crm/v3/lists/search (500 a page, offset cursor, `hs_list_size` for counts)
// - members:     GET /crm/v3/lists/{listId}/memberships (250 record IDs a page, `after` cursor), then
//                POST /crm/v3/objects/contacts/batch/read (100 a call) for the address and the state
// - new members: GET /crm/v3/lists/{listId}/memberships/join-order (250 a page, oldest join first,
//                each with its `membershipTimestamp`), resumed from the page of the newest member the
//                previous poll saw (see JoinCursor), then the same batch read for the new ones only
// - unsubscribe: POST /communication-preferences/v4/statuses/batch/unsubscribe-all (100 a call);
//                without the batch scope (Marketing Hub Enterprise only) the per-address
//                POST /communication-preferences/v4/statuses/{email}/unsubscribe-all
// - delete:      POST /crm/v3/objects/contacts/batch/archive (100 a call; restorable for 90 days), or
//                with `permanent` POST /crm/v3/objects/contacts/gdpr-delete (one contact a call)
// - tag:         HubSpot contacts have no tags: a dropdown contact property stands in for one
//                (`list-hygiene:invalid` -> list_hygiene_category = invalid, see tagProperty), made
//                once through the CRM Properties API (GET, then POST /crm/v3/properties/contacts),
//                then POST /crm/v3/objects/contacts/batch/read and .../batch/update, 100 a call
import { PlatformApiError, type ApiClient, type ApiRequest } from '../http/client';
import { paginate, type Page } from '../http/paginate';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../http/retry';
import type { HttpResponse } from '../http/types';
import type { ContactRef, CredentialFields, Member, MemberStatus, Platform, PlatformList, WriteOutcome } from './types';

const API_URL = 'https://api.hubapi.com';
/** HubSpot's object type ID of contacts: lists of companies, deals… are not email lists. */
const CONTACTS = '0-1';
/** GET /crm/v3/lists/{listId}/memberships and .../join-order: "The maximum `limit` is 250." */
const MEMBERSHIP_PAGE = 250;
/** POST /crm/v3/lists/search: "The max `count` is `500`." */
const LIST_PAGE = 500;
/** CRM batch read and archive take 100 inputs; the subscription batch endpoints are used with the same size. */
const BATCH = 100;
/** What a member item needs; `hs_email_optout` is "Unsubscribed from all email". */
const PROPERTIES = ['email', 'firstname', 'lastname', 'hs_email_optout', 'hs_email_hard_bounce_reason_enum', 'hs_email_bad_address'];

const SCOPES = {
	lists: 'crm.lists.read',
	read: 'crm.objects.contacts.read',
	write: 'crm.objects.contacts.write',
	batchUnsubscribe: 'communication_preferences.statuses.batch.write',
	unsubscribe: 'communication_preferences.write',
	// The CRM Properties API's scopes for contact properties (HubSpot's Properties API reference).
	schemaRead: 'crm.schemas.contacts.read',
	schemaWrite: 'crm.schemas.contacts.write',
} as const;

interface HubspotContact {
	id: string;
	properties: Record<string, string | null | undefined>;
	archived?: boolean;
	[key: string]: unknown;
}

interface HubspotBatchError {
	category?: string;
	message?: string;
	context?: Record<string, unknown>;
}

/** The message of one error inside a batch answer. */
function batchErrorMessage(error: HubspotBatchError): string {
	if (typeof error.message === 'string' && error.message) return error.message;
	return typeof error.category === 'string' ? error.category : 'HubSpot reported an error';
}

interface HubspotStatus {
	status?: string;
	setStatusSuccessReason?: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function chunks<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

const lower = (email: string) => email.trim().toLowerCase();

/** HubSpot's subscription state, normalised. An opt-out of all email wins over a bounce: both stop mail. */
function memberStatus(properties: HubspotContact['properties']): MemberStatus {
	if (properties.hs_email_optout === 'true') return 'unsubscribed';
	if (properties.hs_email_hard_bounce_reason_enum || properties.hs_email_bad_address === 'true') return 'cleaned';
	return 'subscribed';
}

/** A member item for a contact read from HubSpot; `joinedAt` where the join order says when. */
function toMember(contact: HubspotContact, listId: string, joinedAt?: string): Member {
	const status = memberStatus(contact.properties);
	return { email: contact.properties.email ?? '', contactId: contact.id, listId, platform: 'hubspot', status, ...(joinedAt === undefined ? {} : { joinedAt }), raw: contact };
}

/** Scopes a 403 body names: `errors[].context.requiredGranularScopes` (and the older spellings). */
function scopesNamed(body: unknown): string[] {
	if (!isObject(body)) return [];
	const contexts = [body.context, ...(Array.isArray(body.errors) ? body.errors.map((e) => (isObject(e) ? e.context : undefined)) : [])];
	const scopes = new Set<string>();
	for (const context of contexts) {
		if (!isObject(context)) continue;
		for (const key of ['requiredGranularScopes', 'requiredScopes', 'missingScopes']) {
			const value = context[key];
			if (Array.isArray(value)) for (const scope of value) if (typeof scope === 'string' && scope) scopes.add(scope);
		}
	}
	return [...scopes];
}

function policyName(response: HttpResponse): string | undefined {
	return isObject(response.body) && typeof response.body.policyName === 'string' ? response.body.policyName : undefined;
}

const WRITES = /unsubscribe|delete|archive|tag/i;

/** The scope an operation of this module needs, for a 403 whose body names none. */
function scopeForOperation(operation: string): string {
	if (/tag property/.test(operation)) return /^read/.test(operation) ? SCOPES.schemaRead : SCOPES.schemaWrite;
	if (operation === 'tag contacts') return SCOPES.write;
	if (/^read contacts|contacts$/.test(operation) && !/^(unsubscribe|archive)/.test(operation)) return SCOPES.read;
	if (operation === 'unsubscribe contacts') return SCOPES.batchUnsubscribe;
	if (/unsubscribe/.test(operation)) return SCOPES.unsubscribe;
	if (/delete|archive/.test(operation)) return SCOPES.write;
	return SCOPES.lists;
}

function hint(response: HttpResponse, operation: string): string | undefined {
	const body = response.body;
	if (response.status === 401) {
		return 'HubSpot rejected the token: copy the private app’s access token again (rotating it replaces the old one), or reconnect the OAuth2 credential.';
	}
	if (response.status === 403) {
		const named = scopesNamed(body);
		const missingScopes = isObject(body) && body.category === 'MISSING_SCOPES';
		if (named.length === 0 && !missingScopes) return undefined;
		const scopes = named.length > 0 ? named : [scopeForOperation(operation)];
		const enterprise = scopes.some((s) => s.includes('.batch.')) ? ' (batch subscription scopes need Marketing Hub Enterprise)' : '';
		const advice = `Give the HubSpot private app (or the OAuth app, then reconnect) the scope ${scopes.join(', ')}${enterprise}`;
		return WRITES.test(operation) ? `${advice}, or use Verify only.` : `${advice}.`;
	}
	if (response.status === 404 && /member/i.test(operation)) {
		return 'HubSpot has no list with this ID (any more): pick the list again.';
	}
	if (response.status === 429) {
		return policyName(response) === 'DAILY'
			? 'The HubSpot account’s daily API limit is used up (it resets at midnight in the account’s time zone): run again tomorrow, or on fewer contacts.'
			: 'HubSpot’s limit of requests per 10 seconds stayed exhausted: another integration may share it; try again in a minute.';
	}
	return undefined;
}

const retry: RetryPolicy = {
	...DEFAULT_RETRY_POLICY,
	limit: 5,
	// Every POST here is a read (list search, batch read) or idempotent: archiving an archived
	// contact answers 204, opting out an opted-out address changes nothing, a second GDPR delete
	// answers 404 (read as "already gone"), setting a property to the same value again changes
	// nothing, and creating the tag property twice answers 409 (read as "it exists"). The PATCH that
	// adds an option sends the whole option list: the same result twice.
	methods: ['GET', 'POST', 'PATCH'],
	// 1, 2, 4, 8, 16 s: the burst limit is a rolling 10-second window.
	backoffMs: 1_000,
	// A DAILY rate limit lasts until midnight: waiting cannot help.
	shouldRetry: (response) => (response.status === 429 && policyName(response) === 'DAILY' ? false : undefined),
};

// ---------------------------------------------------------------------------------------------
// Reading contacts

interface ContactRead {
	/** Keyed by contact ID, or by lower-cased email when read by email. */
	found: Map<string, HubspotContact>;
	/** Failures other than "not found", by the input they name. */
	failures: Map<string, string>;
}

function isContact(value: unknown): value is HubspotContact {
	return isObject(value) && typeof value.id === 'string' && isObject(value.properties);
}

/** POST /crm/v3/objects/contacts/batch/read for up to 100 IDs or emails (`extra`: more properties to read). */
async function readContacts(api: ApiClient, operation: string, inputs: readonly string[], by: 'id' | 'email', extra: readonly string[] = []): Promise<ContactRead> {
	const request: ApiRequest = {
		method: 'POST',
		path: '/crm/v3/objects/contacts/batch/read',
		body: {
			...(by === 'email' ? { idProperty: 'email' } : {}),
			inputs: inputs.map((id) => ({ id })),
			properties: [...PROPERTIES, ...extra.filter((p) => !PROPERTIES.includes(p))],
			propertiesWithHistory: [],
		},
	};
	const body = await api.request(operation, request);
	if (!isObject(body) || !Array.isArray(body.results) || !body.results.every(isContact)) {
		throw api.malformed(operation, request, 'no "results" list of contacts');
	}
	const found = new Map<string, HubspotContact>();
	for (const contact of body.results as HubspotContact[]) {
		if (by === 'id') found.set(contact.id, contact);
		else if (contact.properties.email) found.set(lower(contact.properties.email), contact);
	}
	const failures = new Map<string, string>();
	for (const error of Array.isArray(body.errors) ? (body.errors as HubspotBatchError[]) : []) {
		if (!isObject(error) || (error as HubspotBatchError).category === 'OBJECT_NOT_FOUND') continue;
		const ids = isObject(error.context) && Array.isArray(error.context.ids) ? error.context.ids : [];
		for (const id of ids) failures.set(by === 'email' ? lower(String(id)) : String(id), batchErrorMessage(error));
	}
	return { found, failures };
}

/**
 * The members among these record IDs, in their order, read 100 at a time. Contacts archived since
 * they joined come back as "not found": they are gone, not members.
 */
async function readMembers(
	api: ApiClient,
	listId: string,
	ids: readonly string[],
	options: { wanted?: ReadonlySet<MemberStatus>; joinedAt?: ReadonlyMap<string, string> } = {},
): Promise<Member[]> {
	const members: Member[] = [];
	for (const batch of chunks(ids, BATCH)) {
		const { found } = await readContacts(api, 'read the members’ contacts', batch, 'id');
		for (const id of batch) {
			const contact = found.get(id);
			if (!contact) continue;
			const member = toMember(contact, listId, options.joinedAt?.get(id));
			if (!options.wanted || options.wanted.has(member.status)) members.push(member);
		}
	}
	return members;
}

// ---------------------------------------------------------------------------------------------
// New members: the list's join order
//
// HubSpot filters memberships by no time, and its join-order `after` token is opaque: it may name a
// position rather than a record, so members leaving the list could shift what it points at. A poll
// therefore resumes at the *start* of the page that held the newest member it saw, and trusts the
// token only when that page still begins with the record it began with; otherwise it reads the
// join order from the start and keeps who joined at or after `since` (costly, and correct).

/** One membership of GET .../memberships/join-order. */
interface Joined {
	recordId: string;
	/** ISO 8601 with milliseconds: exact, so "at or after `since`" needs no margin. */
	membershipTimestamp: string;
}

/** Where the next poll resumes (JSON in NewMembers.cursor). */
interface JoinCursor {
	/** HubSpot's `after` token of the page that held the newest member seen; absent for the first page. */
	after?: string;
	/** That page's first record: found first again, the token still points where it did. */
	first: string;
	/** The newest member seen, and when it joined: whoever follows it in the join order is new. */
	last: string;
	at: string;
}

function parseJoinCursor(cursor: string | undefined): JoinCursor | undefined {
	if (!cursor) return undefined;
	let value: unknown;
	try {
		value = JSON.parse(cursor);
	} catch {
		return undefined;
	}
	// A cursor of another shape (another version, another platform) is not trusted: the poll rescans.
	if (!isObject(value) || typeof value.first !== 'string' || typeof value.last !== 'string' || typeof value.at !== 'string') return undefined;
	if (value.after !== undefined && typeof value.after !== 'string') return undefined;
	return { ...(value.after === undefined ? {} : { after: value.after }), first: value.first, last: value.last, at: value.at };
}

const timeOf = (iso: string) => Date.parse(iso);

/** One page of the join order: ascending from `after`, or from the list's first member. */
async function readJoinPage(api: ApiClient, listId: string, operation: string, after: string | undefined): Promise<{ records: Joined[]; next?: string }> {
	const request: ApiRequest = {
		method: 'GET',
		path: `/crm/v3/lists/${encodeURIComponent(listId)}/memberships/join-order`,
		query: { limit: MEMBERSHIP_PAGE, after },
	};
	const body = await api.request(operation, request);
	if (!isObject(body) || !Array.isArray(body.results)) throw api.malformed(operation, request, 'no "results" list');
	const records: Joined[] = [];
	for (const r of body.results) {
		const id = isObject(r) && (typeof r.recordId === 'string' || typeof r.recordId === 'number') ? String(r.recordId) : undefined;
		const at = isObject(r) && typeof r.membershipTimestamp === 'string' && !Number.isNaN(timeOf(r.membershipTimestamp)) ? r.membershipTimestamp : undefined;
		if (id === undefined || at === undefined) throw api.malformed(operation, request, 'a membership without "recordId" or "membershipTimestamp"');
		records.push({ recordId: id, membershipTimestamp: new Date(timeOf(at)).toISOString() });
	}
	const next = isObject(body.paging) && isObject(body.paging.next) && typeof body.paging.next.after === 'string' && body.paging.next.after !== '' ? body.paging.next.after : undefined;
	return next === undefined ? { records } : { records, next };
}

/**
 * Reads the join order from `start` to its end, handing each page to `visit`. Returns the last page
 * with members and the token that fetched it, for the next poll's cursor.
 */
async function walkJoinOrder(
	api: ApiClient,
	listId: string,
	operation: string,
	start: string | undefined,
	visit: (records: Joined[]) => void,
): Promise<{ after?: string; records: Joined[] } | undefined> {
	let after = start;
	let last: { after?: string; records: Joined[] } | undefined;
	const seen = new Set<string>();
	for (;;) {
		const page = await readJoinPage(api, listId, operation, after);
		visit(page.records);
		if (page.records.length > 0) last = { ...(after === undefined ? {} : { after }), records: page.records };
		if (page.next === undefined) return last;
		// A platform that hands back a token it gave before would loop forever.
		if (seen.has(page.next)) throw api.malformed(operation, { method: 'GET', path: `/crm/v3/lists/${encodeURIComponent(listId)}/memberships/join-order` }, `the paging token ${page.next} again`);
		seen.add(page.next);
		after = page.next;
	}
}

function requireSince(since: string): number {
	const time = typeof since === 'string' ? Date.parse(since) : NaN;
	if (Number.isNaN(time)) throw new RangeError(`HubSpot: "${String(since)}" is not an ISO 8601 time to read new members since.`);
	return time;
}

// ---------------------------------------------------------------------------------------------
// Writes: one outcome per input, in input order, batch by batch

/** Statuses that end a whole write: the credential, its scopes or the account's quota, not one batch. */
const RUN_LEVEL = new Set([401, 403, 429]);

class Outcomes {
	private readonly list: (WriteOutcome | undefined)[];

	constructor(private readonly contacts: readonly ContactRef[]) {
		this.list = contacts.map(() => undefined);
	}

	set(position: number, outcome: WriteOutcome['outcome'], detail?: string, contactId?: string): void {
		const ref = this.contacts[position];
		const result: WriteOutcome = { index: ref.index, outcome };
		const id = contactId ?? ref.contactId;
		if (id) result.contactId = id;
		if (ref.email) result.email = ref.email;
		if (detail) result.detail = detail;
		this.list[position] = result;
	}

	has(position: number): boolean {
		return this.list[position] !== undefined;
	}

	get anyDone(): boolean {
		return this.list.some((o) => o?.outcome === 'done');
	}

	all(): WriteOutcome[] {
		return this.list.map((o, position) => o ?? { index: this.contacts[position].index, outcome: 'failed', detail: 'HubSpot did not report this contact' });
	}
}

/**
 * Runs `work` on each batch of positions. A failed batch fails its contacts and the run goes on;
 * a run-level failure (401, 403, an exhausted rate limit) is thrown while nothing was written yet,
 * and afterwards fails every contact left, so what was done is still reported.
 */
async function inBatches(
	contacts: readonly ContactRef[],
	outcomes: Outcomes,
	work: (positions: number[]) => Promise<void>,
): Promise<WriteOutcome[]> {
	const batches = chunks(
		contacts.map((_c, position) => position),
		BATCH,
	);
	for (let b = 0; b < batches.length; b++) {
		try {
			await work(batches[b]);
		} catch (error) {
			if (!(error instanceof PlatformApiError)) throw error;
			const runLevel = error.details.status !== undefined && RUN_LEVEL.has(error.details.status);
			if (runLevel && !outcomes.anyDone) throw error;
			const rest = runLevel ? batches.slice(b).flat() : batches[b];
			for (const position of rest) if (!outcomes.has(position)) outcomes.set(position, 'failed', error.message);
			if (runLevel) break;
		}
	}
	return outcomes.all();
}

/** The contacts named by these positions: by ID where given, else by email (HubSpot's unique `email` property). */
async function resolve(
	api: ApiClient,
	operation: string,
	contacts: readonly ContactRef[],
	positions: readonly number[],
	extra: readonly string[] = [],
): Promise<{ contact: Map<number, HubspotContact>; missing: Map<number, string>; failed: Map<number, string> }> {
	const byId = positions.filter((p) => contacts[p].contactId);
	const byEmail = positions.filter((p) => !contacts[p].contactId && contacts[p].email);
	const contact = new Map<number, HubspotContact>();
	const missing = new Map<number, string>();
	const failed = new Map<number, string>();
	if (byId.length > 0) {
		const ids = [...new Set(byId.map((p) => String(contacts[p].contactId)))];
		const read = await readContacts(api, operation, ids, 'id', extra);
		for (const p of byId) {
			const id = String(contacts[p].contactId);
			const found = read.found.get(id);
			if (found) contact.set(p, found);
			else if (read.failures.has(id)) failed.set(p, String(read.failures.get(id)));
			else missing.set(p, 'HubSpot has no contact with this ID (any more)');
		}
	}
	if (byEmail.length > 0) {
		const emails = [...new Set(byEmail.map((p) => lower(String(contacts[p].email))))];
		const read = await readContacts(api, operation, emails, 'email', extra);
		for (const p of byEmail) {
			const email = lower(String(contacts[p].email));
			const found = read.found.get(email);
			if (found) contact.set(p, found);
			else if (read.failures.has(email)) failed.set(p, String(read.failures.get(email)));
			else missing.set(p, 'HubSpot has no contact with this email (any more)');
		}
	}
	for (const p of positions) {
		if (!contacts[p].contactId && !contacts[p].email) failed.set(p, 'names no contact: neither a contact ID nor an email');
	}
	return { contact, missing, failed };
}

// ---------------------------------------------------------------------------------------------
// Unsubscribe (HubSpot's opt-out of all email: global)

/**
 * What HubSpot's answer for one address means: a status it changed is `done`; statuses that all
 * report NO_STATUS_CHANGE mean the address had opted out before (`already`).
 */
function unsubscribeOutcome(statuses: unknown): 'done' | 'already' {
	const list = Array.isArray(statuses) ? (statuses as HubspotStatus[]) : [];
	if (list.length > 0 && list.every((s) => isObject(s) && s.setStatusSuccessReason === 'NO_STATUS_CHANGE')) return 'already';
	return 'done';
}

const ALREADY_OPTED_OUT = 'had already opted out of all email';

/** The batch endpoint: outcomes by lower-cased email. Resolves `undefined` when the credential lacks the batch scope. */
async function unsubscribeBatch(api: ApiClient, emails: readonly string[]): Promise<Map<string, { outcome: 'done' | 'already' | 'failed'; detail?: string }> | undefined> {
	const operation = 'unsubscribe contacts';
	const request: ApiRequest = {
		method: 'POST',
		path: '/communication-preferences/v4/statuses/batch/unsubscribe-all',
		query: { channel: 'EMAIL', verbose: true },
		body: { inputs: emails },
	};
	const response = await api.send(operation, request);
	if (response.status === 403) return undefined;
	if (response.status < 200 || response.status >= 300) throw api.errorFor(operation, request, response);
	const body = response.body;
	if (!isObject(body) || !Array.isArray(body.results)) throw api.malformed(operation, request, 'no "results" list');
	const out = new Map<string, { outcome: 'done' | 'already' | 'failed'; detail?: string }>();
	for (const error of Array.isArray(body.errors) ? (body.errors as HubspotBatchError[]) : []) {
		if (!isObject(error)) continue;
		const named = isObject(error.context) && Array.isArray(error.context.subscriberIdString) ? error.context.subscriberIdString : [];
		for (const email of named) out.set(lower(String(email)), { outcome: 'failed', detail: batchErrorMessage(error) });
	}
	for (const result of body.results) {
		if (!isObject(result) || typeof result.subscriberIdString !== 'string') continue;
		const outcome = unsubscribeOutcome(result.statuses);
		out.set(lower(result.subscriberIdString), { outcome, detail: outcome === 'already' ? ALREADY_OPTED_OUT : undefined });
	}
	return out;
}

/** The per-address endpoint, for accounts without the batch scope. */
async function unsubscribeOne(api: ApiClient, email: string): Promise<{ outcome: 'done' | 'already' | 'failed'; detail?: string }> {
	const operation = 'unsubscribe a contact';
	const request: ApiRequest = {
		method: 'POST',
		path: `/communication-preferences/v4/statuses/${encodeURIComponent(email)}/unsubscribe-all`,
		query: { channel: 'EMAIL', verbose: true },
	};
	const response = await api.send(operation, request);
	if (response.status < 200 || response.status >= 300) {
		const error = api.errorFor(operation, request, response);
		if (RUN_LEVEL.has(response.status)) throw error;
		return { outcome: 'failed', detail: error.message };
	}
	if (!isObject(response.body) || !Array.isArray(response.body.results)) throw api.malformed(operation, request, 'no "results" list');
	const outcome = unsubscribeOutcome(response.body.results);
	return { outcome, detail: outcome === 'already' ? ALREADY_OPTED_OUT : undefined };
}

// ---------------------------------------------------------------------------------------------
// Tag (a contact property standing in for a tag)

/** The property a tag without a prefix is written to. */
export const DEFAULT_TAG_PROPERTY = 'list_hygiene_category';

/** The clean-up categories (and the two statuses with their own rules), offered as the property's options. */
const CATEGORY_OPTIONS: ReadonlyArray<{ value: string; label: string }> = [
	{ value: 'invalid', label: 'Invalid' },
	{ value: 'disposable', label: 'Disposable' },
	{ value: 'catch_all', label: 'Catch-all' },
	{ value: 'unknown', label: 'Unknown' },
	{ value: 'risky', label: 'Risky' },
	{ value: 'spamtrap', label: 'Spam trap' },
	{ value: 'role_account', label: 'Role account' },
];

/**
 * Where a tag goes on HubSpot, which has no tags. The Platform interface passes one string, e.g.
 * `list-hygiene:invalid` (the clean-up's tag prefix, then the category): the prefix names the
 * property and the category is its value, so `list-hygiene:invalid` sets `list_hygiene_category`
 * to `invalid` and `list-hygiene:disposable` sets the same property to `disposable`. A contact thus
 * carries one category (the latest), which is what a dropdown in HubSpot segments on. The prefix
 * is lower-cased with every run of other characters than a-z and 0-9 turned into `_` (HubSpot's
 * internal names), then `_category` appended; a tag without a prefix (no `:`) goes to
 * `list_hygiene_category`.
 */
export function tagProperty(tag: string): { property: string; value: string; label: string } {
	const trimmed = tag.trim();
	const cut = trimmed.lastIndexOf(':');
	const prefix = cut >= 0 ? trimmed.slice(0, cut).trim() : '';
	const value = (cut >= 0 ? trimmed.slice(cut + 1) : trimmed).trim();
	const base = prefix
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '_')
		.replace(/^_+|_+$/g, '')
		.slice(0, 80);
	if (!base || `${base}_category` === DEFAULT_TAG_PROPERTY) return { property: DEFAULT_TAG_PROPERTY, value, label: 'List hygiene category' };
	// An internal name starts with a letter.
	return { property: `${/^[a-z]/.test(base) ? '' : 'p_'}${base}_category`, value, label: `${prefix} category` };
}

interface PropertyOption {
	label: string;
	value: string;
	displayOrder?: number;
	hidden?: boolean;
}

interface PropertyShape {
	type: string;
	options: PropertyOption[];
}

/** What this client learnt of each tag property: the executor tags each category in its own call. */
const knownProperties = new WeakMap<ApiClient, Map<string, PropertyShape>>();

function shapeOf(body: unknown): PropertyShape | undefined {
	if (!isObject(body) || typeof body.type !== 'string') return undefined;
	const options = Array.isArray(body.options)
		? body.options.filter((o): o is Json => isObject(o) && typeof o.value === 'string').map((o) => ({ label: String(o.label ?? o.value), value: String(o.value), displayOrder: typeof o.displayOrder === 'number' ? o.displayOrder : undefined, hidden: o.hidden === true }))
		: [];
	return { type: body.type, options };
}

const optionFor = (value: string, displayOrder: number): PropertyOption => ({
	label: CATEGORY_OPTIONS.find((o) => o.value === value)?.label ?? value,
	value,
	displayOrder,
	hidden: false,
});

/**
 * Makes sure the contact property exists and can hold the value, creating it once. The CRM
 * Properties API is not among the descriptions in ../shared/specs/hubspot (Contacts, Lists,
 * Communication Preferences, Account Info, OAuth): these requests follow HubSpot's reference
 * (developers.hubspot.com/docs/api-reference/latest/crm/properties: "Read a property" GET
 * /crm/v3/properties/{objectType}/{propertyName}, "Create a property" POST
 * /crm/v3/properties/{objectType}, 409 when the name is taken, "Update a property" PATCH
 * /crm/v3/properties/{objectType}/{propertyName}; scopes crm.schemas.contacts.read/write).
 * Resolves a message when the property exists in a shape that cannot take the value.
 */
async function ensureTagProperty(api: ApiClient, property: string, value: string, label: string): Promise<string | undefined> {
	let known = knownProperties.get(api);
	if (!known) knownProperties.set(api, (known = new Map()));
	const path = `/crm/v3/properties/contacts/${encodeURIComponent(property)}`;
	let shape = known.get(property);
	if (!shape) {
		// Find it first: a second run (or a property the user made) is reused, never created again.
		const read = async () => {
			const request: ApiRequest = { method: 'GET', path };
			const response = await api.send('read the tag property', request);
			if (response.status === 404) return undefined;
			if (response.status < 200 || response.status >= 300) throw api.errorFor('read the tag property', request, response);
			const found = shapeOf(response.body);
			if (!found) throw api.malformed('read the tag property', request, 'no property "type"');
			return found;
		};
		shape = await read();
		if (!shape) {
			const values = CATEGORY_OPTIONS.some((o) => o.value === value) ? CATEGORY_OPTIONS.map((o) => o.value) : [...CATEGORY_OPTIONS.map((o) => o.value), value];
			const request: ApiRequest = {
				method: 'POST',
				path: '/crm/v3/properties/contacts',
				body: {
					name: property,
					label,
					description: 'The email verification category the List Hygiene clean-up found for this contact (its Tag action).',
					groupName: 'contactinformation',
					type: 'enumeration',
					fieldType: 'select',
					options: values.map((v, i) => optionFor(v, i)),
				},
			};
			const response = await api.send('create the tag property', request);
			// 409: made meanwhile (another run, or a retried request that had gone through).
			if (response.status === 409) shape = await read();
			else if (response.status < 200 || response.status >= 300) throw api.errorFor('create the tag property', request, response);
			else shape = shapeOf(response.body) ?? { type: 'enumeration', options: (request.body as { options: PropertyOption[] }).options };
			if (!shape) throw api.errorFor('create the tag property', request, response);
		}
		known.set(property, shape);
	}
	if (shape.type === 'string') return undefined;
	if (shape.type !== 'enumeration') {
		return `The HubSpot contact property ${property} exists with type ${shape.type}, which cannot hold “${value}”: rename or delete that property in HubSpot, or use another tag prefix.`;
	}
	if (shape.options.some((o) => o.value === value)) return undefined;
	// A dropdown without this category (made by hand, or by an older run): add the option, keeping the others.
	const options = [...shape.options, optionFor(value, shape.options.length)];
	await api.request('add an option to the tag property', { method: 'PATCH', path, body: { options } });
	known.set(property, { ...shape, options });
	return undefined;
}

/** Per contact ID, the message of the batch update's errors that name it. */
function updateErrors(body: Json): Map<string, string> {
	const out = new Map<string, string>();
	for (const error of Array.isArray(body.errors) ? body.errors : []) {
		if (!isObject(error)) continue;
		const context = isObject(error.context) ? error.context : {};
		const ids = [...(Array.isArray(context.ids) ? context.ids : []), ...(Array.isArray(context.id) ? context.id : [])];
		for (const id of ids) out.set(String(id), batchErrorMessage(error as HubspotBatchError));
	}
	return out;
}

// ---------------------------------------------------------------------------------------------
// The module

/** The HubSpot module: a Platform whose optional `tag`, `newMembers` and `recentMembers` are there. */
export type HubspotPlatform = Platform & Required<Pick<Platform, 'tag' | 'newMembers' | 'recentMembers'>>;

export const hubspot: HubspotPlatform = {
	id: 'hubspot',
	name: 'HubSpot',
	capabilities: {
		// processingType MANUAL and SNAPSHOT lists change only by hand after creation; DYNAMIC lists follow filters.
		listKinds: ['static_list', 'dynamic_list'],
		// Communication Preferences' unsubscribe-all opts the address out of every email subscription.
		unsubscribeScope: 'global',
		// batch/archive: "Archived contacts can be restored within 90 days of deletion."
		deleteKind: 'archive',
		// gdpr-delete: "Permanently delete a contact and all associated content to follow GDPR."
		permanentDelete: true,
		// A dropdown contact property (list_hygiene_category) set through batch/update.
		tag: true,
		// GET /crm/v3/lists/{listId}/memberships/join-order pages members in the order they joined,
		// each with its `membershipTimestamp`; a poll resumes from the previous one's page (a cursor).
		newMemberPolling: true,
	},
	limits: {
		pageSize: MEMBERSHIP_PAGE,
		unsubscribeBatch: BATCH,
		deleteBatch: BATCH,
		// Private apps on Free/Starter: 100 requests per 10 s (190 on Professional/Enterprise, OAuth apps 110); 10% headroom.
		rateLimit: { requests: 90, perMs: 10_000 },
	},
	retry,
	credentials: [
		{ name: 'listHygieneHubspotAppToken', authentication: 'accessToken', displayName: 'Private App Access Token' },
		{ name: 'listHygieneHubspotOAuth2Api', authentication: 'oAuth2', displayName: 'OAuth2' },
	],

	cliAuth(credentials: CredentialFields): Record<string, string> {
		const tokenData = isObject(credentials.oauthTokenData) ? credentials.oauthTokenData : {};
		const token = [credentials.accessToken, credentials.appToken, tokenData.access_token].find((t) => typeof t === 'string' && t.trim() !== '');
		if (typeof token !== 'string') {
			throw new Error('HubSpot needs an access token: create a private app in HubSpot (Settings › Integrations › Private Apps) and use its access token.');
		}
		return { authorization: `Bearer ${token.trim()}` };
	},

	async baseUrl(credentials: CredentialFields): Promise<string> {
		const override = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim() : '';
		return (override || API_URL).replace(/\/+$/, '');
	},

	hint,

	async lists(api, query) {
		const operation = 'search lists';
		const offset = query.cursor === undefined || query.cursor === '' ? 0 : Number(query.cursor);
		if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`HubSpot: "${query.cursor}" is not a list page cursor from HubSpot.`);
		const filter = query.filter?.trim() ?? '';
		const request: ApiRequest = {
			method: 'POST',
			path: '/crm/v3/lists/search',
			body: {
				...(filter ? { query: filter } : {}),
				objectTypeId: CONTACTS,
				offset,
				count: LIST_PAGE,
				additionalProperties: ['hs_list_size'],
			},
		};
		const body = await api.request(operation, request);
		if (!isObject(body) || !Array.isArray(body.lists)) throw api.malformed(operation, request, 'no "lists" list');
		const lists: PlatformList[] = [];
		const needle = filter.toLowerCase();
		for (const item of body.lists) {
			if (!isObject(item) || typeof item.listId !== 'string' || typeof item.name !== 'string') {
				throw api.malformed(operation, request, 'a list without "listId" or "name"');
			}
			// The search may match more than a name substring, and other object types' lists are not email lists.
			if (item.objectTypeId !== undefined && item.objectTypeId !== CONTACTS) continue;
			if (needle && !item.name.toLowerCase().includes(needle)) continue;
			const list: PlatformList = { id: item.listId, name: item.name, kind: item.processingType === 'DYNAMIC' ? 'dynamic_list' : 'static_list' };
			const size = isObject(item.additionalProperties) ? Number(item.additionalProperties.hs_list_size) : NaN;
			if (Number.isFinite(size)) list.memberCount = size;
			lists.push(list);
		}
		const more = body.hasMore === true && typeof body.offset === 'number' && body.offset > offset;
		return more ? { lists, cursor: String(body.offset) } : { lists };
	},

	async *members(api, listId, query) {
		const wanted = query.status && query.status.length > 0 ? new Set(query.status) : undefined;
		const operation = 'read list members';
		const fetchPage = async (after: string | undefined): Promise<Page<string>> => {
			const request: ApiRequest = {
				method: 'GET',
				path: `/crm/v3/lists/${encodeURIComponent(listId)}/memberships`,
				query: { limit: MEMBERSHIP_PAGE, after },
			};
			const body = await api.request(operation, request);
			if (!isObject(body) || !Array.isArray(body.results)) throw api.malformed(operation, request, 'no "results" list');
			const ids = body.results.map((r) => (isObject(r) && (typeof r.recordId === 'string' || typeof r.recordId === 'number') ? String(r.recordId) : undefined));
			if (ids.some((id) => id === undefined)) throw api.malformed(operation, request, 'a membership without "recordId"');
			const paging = isObject(body.paging) && isObject(body.paging.next) ? body.paging.next : undefined;
			return { items: ids as string[], next: typeof paging?.after === 'string' ? paging.after : undefined };
		};
		const toMembers = (ids: string[]) => readMembers(api, listId, ids, { wanted });
		// Record IDs are read 100 at a time across membership pages: 10,000 members take 40 + 100 requests.
		const pending: string[] = [];
		for await (const ids of paginate(fetchPage)) {
			pending.push(...ids);
			const full = pending.length - (pending.length % BATCH);
			if (full === 0) continue;
			const members = await toMembers(pending.splice(0, full));
			if (members.length > 0) yield members;
		}
		if (pending.length > 0) {
			const members = await toMembers(pending);
			if (members.length > 0) yield members;
		}
	},

	async newMembers(api, listId, query) {
		const since = requireSince(query.since);
		const operation = 'read new list members';
		const resume = parseJoinCursor(query.cursor);
		const fresh: Joined[] = [];
		const onOrAfterSince = (records: Joined[]) => fresh.push(...records.filter((r) => timeOf(r.membershipTimestamp) >= since));
		let last: Awaited<ReturnType<typeof walkJoinOrder>>;
		let trusted = false;
		if (resume) {
			let firstPage = true;
			last = await walkJoinOrder(api, listId, operation, resume.after, (records) => {
				if (firstPage) {
					firstPage = false;
					trusted = records[0]?.recordId === resume.first;
					if (!trusted) return;
					// Who follows the newest member seen is new; if that member left, who joined since it did.
					const i = records.findIndex((r) => r.recordId === resume.last);
					fresh.push(...(i >= 0 ? records.slice(i + 1) : records.filter((r) => timeOf(r.membershipTimestamp) >= timeOf(resume.at))));
				} else if (trusted) fresh.push(...records);
			});
		}
		// No cursor (the first poll), or one the join order no longer bears out: from the start, by time.
		if (!trusted) last = await walkJoinOrder(api, listId, operation, undefined, onOrAfterSince);
		const joinedAt = new Map(fresh.map((r) => [r.recordId, r.membershipTimestamp]));
		const members = await readMembers(api, listId, [...joinedAt.keys()], { joinedAt });
		if (!last) return { members };
		const newest = last.records[last.records.length - 1];
		const cursor: JoinCursor = { ...(last.after === undefined ? {} : { after: last.after }), first: last.records[0].recordId, last: newest.recordId, at: newest.membershipTimestamp };
		return { members, cursor: JSON.stringify(cursor) };
	},

	async recentMembers(api, listId, limit) {
		if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`HubSpot: ${limit} is not a number of members to read; give a whole number.`);
		if (limit === 0) return [];
		// The join order can only be entered at its start (a `before` token needs a page to come from):
		// the newest members are the last `limit` of a walk to its end.
		const newest: Joined[] = [];
		await walkJoinOrder(api, listId, 'read the newest list members', undefined, (records) => {
			newest.push(...records);
			if (newest.length > limit) newest.splice(0, newest.length - limit);
		});
		newest.reverse();
		return readMembers(api, listId, newest.map((r) => r.recordId), { joinedAt: new Map(newest.map((r) => [r.recordId, r.membershipTimestamp])) });
	},

	async unsubscribe(api, _listId, contacts) {
		const outcomes = new Outcomes(contacts);
		let batchScope = true;
		return inBatches(contacts, outcomes, async (positions) => {
			// The address is what HubSpot's subscription API knows; refs with only an ID are read first.
			const emailOf = new Map<number, string>();
			const idOnly = positions.filter((p) => !contacts[p].email && contacts[p].contactId);
			for (const p of positions) {
				const email = contacts[p].email?.trim();
				if (email) emailOf.set(p, email);
				else if (!contacts[p].contactId) outcomes.set(p, 'failed', 'names no contact: neither a contact ID nor an email');
			}
			if (idOnly.length > 0) {
				const { contact, missing, failed } = await resolve(api, 'read contacts to unsubscribe', contacts, idOnly);
				for (const [p, detail] of missing) outcomes.set(p, 'already', `${detail}: nothing to unsubscribe`);
				for (const [p, detail] of failed) outcomes.set(p, 'failed', detail);
				for (const [p, found] of contact) {
					if (found.properties.email) emailOf.set(p, found.properties.email);
					else outcomes.set(p, 'failed', 'the HubSpot contact has no email address');
				}
			}
			const emails = [...new Set([...emailOf.values()].map(lower))];
			if (emails.length === 0) return;
			let results = batchScope ? await unsubscribeBatch(api, emails) : undefined;
			if (!results) {
				// Without the Enterprise-only batch scope, one request per address.
				batchScope = false;
				results = new Map();
				for (const email of emails) results.set(email, await unsubscribeOne(api, email));
			}
			for (const [p, email] of emailOf) {
				const result = results.get(lower(email));
				const contactId = contacts[p].contactId;
				if (result) outcomes.set(p, result.outcome, result.detail, contactId);
				else outcomes.set(p, 'failed', 'HubSpot did not report this address', contactId);
			}
		});
	},

	async delete(api, _listId, contacts, options) {
		const outcomes = new Outcomes(contacts);
		const permanent = options.permanent === true;
		return inBatches(contacts, outcomes, async (positions) => {
			// batch/archive answers 204 whether or not a contact exists: read first, so a contact
			// already gone is reported `already` and an email-only ref finds its contact.
			const { contact, missing, failed } = await resolve(api, 'read contacts to delete', contacts, positions);
			for (const [p, detail] of missing) outcomes.set(p, 'already', detail);
			for (const [p, detail] of failed) outcomes.set(p, 'failed', detail);
			if (contact.size === 0) return;
			if (!permanent) {
				const ids = [...new Set([...contact.values()].map((c) => c.id))];
				await api.request('archive contacts', { method: 'POST', path: '/crm/v3/objects/contacts/batch/archive', body: { inputs: ids.map((id) => ({ id })) } });
				for (const [p, found] of contact) outcomes.set(p, 'done', 'archived: restorable in HubSpot for 90 days', found.id);
				return;
			}
			const done = new Map<string, { outcome: 'done' | 'already' | 'failed'; detail: string }>();
			for (const [p, found] of contact) {
				let result = done.get(found.id);
				if (!result) {
					const operation = 'permanently delete a contact';
					const request: ApiRequest = { method: 'POST', path: '/crm/v3/objects/contacts/gdpr-delete', body: { objectId: found.id } };
					const response = await api.send(operation, request);
					if (response.status >= 200 && response.status < 300) result = { outcome: 'done', detail: 'permanently deleted (GDPR delete)' };
					else if (response.status === 404) result = { outcome: 'already', detail: 'HubSpot has no contact with this ID (any more)' };
					else if (RUN_LEVEL.has(response.status)) throw api.errorFor(operation, request, response);
					else result = { outcome: 'failed', detail: api.errorFor(operation, request, response).message };
					done.set(found.id, result);
				}
				outcomes.set(p, result.outcome, result.detail, found.id);
			}
		});
	},

	async tag(api, _listId, contacts, tag) {
		const { property, value, label } = tagProperty(tag);
		const outcomes = new Outcomes(contacts);
		if (!value) {
			contacts.forEach((_c, p) => outcomes.set(p, 'failed', `“${tag}” names no category to write`));
			return outcomes.all();
		}
		const unusable = await ensureTagProperty(api, property, value, label);
		if (unusable) {
			contacts.forEach((_c, p) => outcomes.set(p, 'failed', unusable));
			return outcomes.all();
		}
		return inBatches(contacts, outcomes, async (positions) => {
			// Read first: a contact that carries the value already is `already`, one that is gone is
			// skipped, and an email-only ref finds its contact ID.
			const { contact, missing, failed } = await resolve(api, 'read contacts to tag', contacts, positions, [property]);
			for (const [p, detail] of missing) outcomes.set(p, 'skipped', `${detail}: nothing to tag`);
			for (const [p, detail] of failed) outcomes.set(p, 'failed', detail);
			const toWrite = new Map<string, { positions: number[]; before: string }>();
			for (const [p, found] of contact) {
				const before = found.properties[property] ?? '';
				if (before === value) outcomes.set(p, 'already', `${property} is already ${value}`, found.id);
				else toWrite.set(found.id, { positions: [...(toWrite.get(found.id)?.positions ?? []), p], before });
			}
			if (toWrite.size === 0) return;
			// Only this one property is sent: HubSpot changes no other field of the contact.
			const operation = 'tag contacts';
			const request: ApiRequest = {
				method: 'POST',
				path: '/crm/v3/objects/contacts/batch/update',
				body: { inputs: [...toWrite.keys()].map((id) => ({ id, properties: { [property]: value } })) },
			};
			const body = await api.request(operation, request);
			if (!isObject(body) || !Array.isArray(body.results)) throw api.malformed(operation, request, 'no "results" list');
			const updated = new Set(body.results.map((r) => (isObject(r) ? String(r.id) : '')));
			const errors = updateErrors(body);
			for (const [id, { positions: ps, before }] of toWrite) {
				for (const p of ps) {
					if (errors.has(id)) outcomes.set(p, 'failed', errors.get(id), id);
					else if (updated.has(id)) outcomes.set(p, 'done', before ? `${property} set to ${value} (was ${before})` : `${property} set to ${value}`, id);
					else outcomes.set(p, 'failed', 'HubSpot did not report this contact', id);
				}
			}
		});
	},
};
