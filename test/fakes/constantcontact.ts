// A stateful Constant Contact (API v3) on 127.0.0.1 for tests and end-to-end runs: the endpoints the
// adapter uses, an OAuth2 token endpoint that refreshes an expired access token, and the revocation
// endpoint. Writes change the state, so a later read shows them. It follows the documented
// semantics where they matter to us: PUT /contacts/{id} nulls omitted core properties and keeps
// omitted sub-resources; contact_delete is an activity that ends after `activityPolls` polls and
// soft-deletes (deleted_at); a PUT revives a deleted contact. Tags (/contact_tags) have unique names
// regardless of letter case (a duplicate answers 409); contacts_taggings_add is an activity like
// contact_delete that adds tag IDs to the contacts' taggings and changes nothing else of them.
// GET /contacts filters on created_/updated_ after and before; POST /contacts/sign_up_form creates a
// contact or adds an existing one to lists, "now", so a later read by updated_after finds it.
// Where Constant Contact's behaviour is not documented the fake picks one: tagging a deleted contact
// tags it and leaves it deleted; an unknown contact ID is reported in activity_errors as not found.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCcEmailAddress {
	address: string;
	permission_to_send: string;
	created_at?: string;
	updated_at?: string;
	opt_in_source?: string;
	opt_in_date?: string;
	opt_out_source?: string;
	opt_out_date?: string;
	opt_out_reason?: string;
	confirm_status?: string;
}

export interface FakeCcContact {
	contact_id: string;
	email_address?: FakeCcEmailAddress;
	first_name?: string;
	last_name?: string;
	job_title?: string;
	company_name?: string;
	birthday_month?: number;
	birthday_day?: number;
	anniversary?: string;
	create_source?: string;
	update_source?: string;
	created_at?: string;
	updated_at?: string;
	deleted_at?: string;
	custom_fields?: Array<{ custom_field_id: string; value?: string }>;
	list_memberships?: string[];
	phone_numbers?: Array<Record<string, unknown>>;
	street_addresses?: Array<Record<string, unknown>>;
	taggings?: string[];
	notes?: Array<Record<string, unknown>>;
	sms_channel?: Record<string, unknown>;
}

export interface FakeCcList {
	list_id: string;
	name: string;
	description?: string;
	created_at?: string;
	updated_at?: string;
}

export interface FakeCcTag {
	tag_id: string;
	name: string;
	tag_source?: string;
	created_at?: string;
	updated_at?: string;
}

export interface FakeCcActivity {
	activity_id: string;
	/** contact_delete (the default) or contacts_taggings_add. */
	kind?: 'contact_delete' | 'contacts_taggings_add';
	state: 'initialized' | 'processing' | 'completed' | 'failed';
	contact_ids: string[];
	/** The tags a contacts_taggings_add activity adds. */
	tag_ids?: string[];
	activity_errors: string[];
	polls: number;
	created_at: string;
}

export interface FakeCcFailure {
	method?: string;
	/** Matched against the path below /v3 (e.g. /contacts/...). */
	path: RegExp;
	status: number;
	body?: unknown;
	headers?: Record<string, string>;
	/** How many matching requests get this answer (1 when absent). */
	times?: number;
}

export interface FakeCcRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	body: unknown;
	authorization?: string;
}

export interface FakeCcState {
	lists: FakeCcList[];
	tags: FakeCcTag[];
	contacts: Map<string, FakeCcContact>;
	activities: Map<string, FakeCcActivity>;
	clientId: string;
	clientSecret: string;
	accessToken: string;
	/** Set it to make the current access token expire (the API answers 401 until a refresh). */
	accessTokenExpired: boolean;
	refreshToken: string;
	revoked: Set<string>;
	/** Polls of GET /activities/{id} before a delete activity ends (1: the first poll sees it completed). */
	activityPolls: number;
	/** Contact IDs a delete activity fails on, with the message it reports for each. */
	deleteErrors: Map<string, string>;
	/** Contact IDs a tagging activity fails on, with the message it reports for each. */
	tagErrors: Map<string, string>;
	/** Scripted answers for the next matching API requests (after authentication). */
	failures: FakeCcFailure[];
}

export interface FakeCcSeed {
	lists?: FakeCcList[];
	tags?: FakeCcTag[];
	contacts?: FakeCcContact[];
	clientId?: string;
	clientSecret?: string;
	accessToken?: string;
	refreshToken?: string;
	activityPolls?: number;
	/** Path of the OAuth2 token endpoint. */
	tokenPath?: string;
	/** Path of the OAuth2 revocation endpoint. */
	revokePath?: string;
}

export interface FakeConstantContact {
	/** The API base URL (…/v3), for the credential's Base URL Override. */
	url: string;
	/** The authorization server (…/oauth2/default/v1 by default), for the Authorization Server Override. */
	authUrl: string;
	tokenUrl: string;
	revokeUrl: string;
	state: FakeCcState;
	requests: FakeCcRequest[];
	close(): Promise<void>;
}

export const FAKE_CC_LIST_IDS = {
	newsletter: '1d4a2b7e-0000-4000-8000-000000000001',
	customers: '1d4a2b7e-0000-4000-8000-000000000002',
	empty: '1d4a2b7e-0000-4000-8000-000000000003',
};

/** The seed's one tag, carried by every seeded contact. */
export const FAKE_CC_TAG_IDS = { vip: '7a000000-0000-4000-8000-000000000001' };

const contactId = (n: number) => `c0ffee00-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A small account: three lists, six contacts with every kind of field filled in. */
export function defaultCcSeed(): Required<Pick<FakeCcSeed, 'lists' | 'contacts' | 'tags'>> {
	const { newsletter, customers, empty } = FAKE_CC_LIST_IDS;
	const at = '2024-03-01T10:00:00Z';
	const person = (n: number, first: string, email: string, permission: string, lists: string[], extra: Partial<FakeCcContact> = {}): FakeCcContact => ({
		contact_id: contactId(n),
		email_address: { address: email, permission_to_send: permission, created_at: at, updated_at: at, opt_in_source: 'Account', opt_in_date: at, confirm_status: 'off' },
		first_name: first,
		last_name: `Tester${n}`,
		job_title: 'Buyer',
		company_name: `Company ${n}`,
		birthday_month: (n % 12) + 1,
		birthday_day: n + 1,
		anniversary: '2015-06-0' + ((n % 9) + 1),
		create_source: 'Account',
		update_source: 'Account',
		created_at: at,
		updated_at: at,
		custom_fields: [{ custom_field_id: 'cf000000-0000-4000-8000-000000000001', value: `tier-${n}` }],
		list_memberships: lists,
		phone_numbers: [{ phone_number_id: `a1000000-0000-4000-8000-00000000000${n}`, phone_number: `+1-555-000-000${n}`, kind: 'mobile', created_at: at, updated_at: at }],
		street_addresses: [{ street_address_id: `ad000000-0000-4000-8000-00000000000${n}`, kind: 'home', street: `${n} Main St`, city: 'Springfield', state: 'IL', postal_code: '62701', country: 'United States', created_at: at, updated_at: at }],
		taggings: [FAKE_CC_TAG_IDS.vip],
		notes: [{ note_id: `0e000000-0000-4000-8000-00000000000${n}`, created_at: at, content: `Met at fair ${n}` }],
		sms_channel: { sms_channel_id: `5c000000-0000-4000-8000-00000000000${n}`, sms_address: `555000000${n}`, dial_code: '1', country_code: 'US', sms_channel_consents: [{ sms_consent_permission: 'explicit', consent_type: 'promotional_sms' }] },
		...extra,
	});
	return {
		lists: [
			{ list_id: newsletter, name: 'Monthly Newsletter', description: 'Everyone', created_at: at, updated_at: at },
			{ list_id: customers, name: 'Customers 2024', created_at: at, updated_at: at },
			{ list_id: empty, name: 'Webinar (empty)', created_at: at, updated_at: at },
		],
		tags: [{ tag_id: FAKE_CC_TAG_IDS.vip, name: 'VIP', tag_source: 'Account', created_at: at, updated_at: at }],
		contacts: [
			person(1, 'Ada', 'ada@example.com', 'explicit', [newsletter, customers]),
			person(2, 'Ben', 'ben@mailinator.com', 'implicit', [newsletter]),
			person(3, 'Cid', 'cid@bad-domain.invalid', 'implicit', [newsletter, customers]),
			person(4, 'Dee', 'dee@example.org', 'unsubscribed', [newsletter], {}),
			person(5, 'Eve', 'eve@example.net', 'pending_confirmation', [newsletter]),
			person(6, 'Fay', 'fay@tempmail.test', 'implicit', [newsletter], { deleted_at: '2024-02-01' }),
		],
	};
}

// Core properties: a PUT overwrites them, null when absent. Sub-resources: kept when absent.
const CORE = ['first_name', 'last_name', 'job_title', 'company_name', 'birthday_month', 'birthday_day', 'anniversary'] as const;
const SUBRESOURCES = ['custom_fields', 'list_memberships', 'phone_numbers', 'street_addresses', 'taggings', 'notes', 'sms_channel'] as const;
const INCLUDABLE = new Set(['custom_fields', 'list_memberships', 'phone_numbers', 'street_addresses', 'taggings', 'notes']);
const MAILABLE = new Set(['explicit', 'implicit']);

/** GET /contacts time filters: query parameter, contact field, and "after" (else "before"). */
const TIME_FILTERS = [
	['created_after', 'created_at', true],
	['created_before', 'created_at', false],
	['updated_after', 'updated_at', true],
	['updated_before', 'updated_at', false],
] as const;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

type PageKind = 'contacts' | 'lists' | 'tags';
const PAGE_PATHS: Record<PageKind, string> = { contacts: 'contacts', lists: 'contact_lists', tags: 'contact_tags' };

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const now = () => new Date().toISOString();
const apiError = (key: string, message: string) => [{ error_key: key, error_message: message }];

function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
	const text = body === undefined ? '' : JSON.stringify(body);
	res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
	res.end(text);
}

/** Parameters of a form body, a JSON body, or the query string (Constant Contact's token endpoint takes all three). */
function oauthParameters(text: string, contentType: string, query: URLSearchParams): Record<string, string> {
	const out: Record<string, string> = Object.fromEntries(query);
	if (/json/i.test(contentType) && text) Object.assign(out, JSON.parse(text) as Record<string, string>);
	else if (text) Object.assign(out, Object.fromEntries(new URLSearchParams(text)));
	return out;
}

export async function startFakeConstantContact(seed: FakeCcSeed = {}): Promise<FakeConstantContact> {
	const base = defaultCcSeed();
	const state: FakeCcState = {
		lists: clone(seed.lists ?? base.lists),
		tags: clone(seed.tags ?? base.tags),
		contacts: new Map(clone(seed.contacts ?? base.contacts).map((c) => [c.contact_id, c])),
		activities: new Map(),
		clientId: seed.clientId ?? 'fake-client-id',
		clientSecret: seed.clientSecret ?? 'fake-client-secret',
		accessToken: seed.accessToken ?? `at-${randomUUID()}`,
		accessTokenExpired: false,
		refreshToken: seed.refreshToken ?? `rt-${randomUUID()}`,
		revoked: new Set(),
		activityPolls: seed.activityPolls ?? 1,
		deleteErrors: new Map(),
		tagErrors: new Map(),
		failures: [],
	};
	const requests: FakeCcRequest[] = [];
	const tokenPath = seed.tokenPath ?? '/oauth2/default/v1/token';
	const revokePath = seed.revokePath ?? '/oauth2/default/v1/revoke';
	const cursors = new Map<string, { kind: PageKind; query: URLSearchParams; offset: number }>();

	const clientAuthorized = (req: IncomingMessage, params: Record<string, string>): boolean => {
		const header = req.headers.authorization ?? '';
		if (header.startsWith('Basic ')) {
			const [id, secret] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
			return id === state.clientId && secret === state.clientSecret;
		}
		// A public (PKCE) client names itself in the body.
		return params.client_id === state.clientId && (params.client_secret === undefined || params.client_secret === state.clientSecret);
	};

	const page = <T>(kind: PageKind, query: URLSearchParams, all: T[], max: number, res: ServerResponse, wrap: (items: T[], next?: string) => unknown) => {
		let offset = 0;
		let effective = query;
		const cursor = query.get('cursor');
		if (cursor) {
			const saved = cursors.get(cursor);
			if (!saved || saved.kind !== kind) return send(res, 400, apiError('contacts.api.bad.request', 'The cursor is not valid.'));
			effective = saved.query;
			offset = saved.offset;
		}
		const limit = Number(effective.get('limit') ?? 50);
		if (!Number.isInteger(limit) || limit < 1 || limit > max) return send(res, 400, apiError('contacts.api.validation.error', `limit must be between 1 and ${max}`));
		const items = all.slice(offset, offset + limit);
		let next: string | undefined;
		if (offset + limit < all.length) {
			const token = Buffer.from(randomUUID()).toString('base64url');
			cursors.set(token, { kind, query: effective, offset: offset + limit });
			next = `/v3/${PAGE_PATHS[kind]}?cursor=${token}`;
		}
		return send(res, 200, wrap(items, next));
	};

	const view = (contact: FakeCcContact, include: Set<string>): Record<string, unknown> => {
		const out: Record<string, unknown> = {};
		for (const [key, value] of Object.entries(contact)) {
			if ((SUBRESOURCES as readonly string[]).includes(key) && !include.has(key)) continue;
			out[key] = clone(value);
		}
		return out;
	};

	const inList = (contact: FakeCcContact, lists: string[]) => lists.length === 0 || lists.some((l) => contact.list_memberships?.includes(l));
	const hasStatus = (contact: FakeCcContact, statuses: string[]): boolean => {
		const permission = contact.email_address?.permission_to_send ?? 'not_set';
		if (statuses.includes('all')) return true;
		if (contact.deleted_at) return statuses.includes('deleted');
		if (statuses.length === 0) return true; // default: every contact not deleted
		return statuses.some((s) => (s === 'active' ? MAILABLE.has(permission) : s === permission));
	};

	const processActivity = (activity: FakeCcActivity) => {
		if (activity.kind === 'contacts_taggings_add') return processTagging(activity);
		for (const id of activity.contact_ids) {
			const scripted = state.deleteErrors.get(id);
			const contact = state.contacts.get(id);
			if (scripted) activity.activity_errors.push(scripted);
			else if (!contact) activity.activity_errors.push(`Contact ${id} not found.`);
			else if (!contact.deleted_at) {
				contact.deleted_at = now().slice(0, 10);
				contact.updated_at = now();
			}
		}
		activity.state = 'completed';
	};

	const processTagging = (activity: FakeCcActivity) => {
		for (const id of activity.contact_ids) {
			const scripted = state.tagErrors.get(id);
			const contact = state.contacts.get(id);
			if (scripted) activity.activity_errors.push(scripted);
			else if (!contact) activity.activity_errors.push(`Contact ${id} not found.`);
			else {
				const missing = (activity.tag_ids ?? []).filter((t) => !contact.taggings?.includes(t));
				if (missing.length === 0) continue;
				contact.taggings = [...(contact.taggings ?? []), ...missing];
				contact.updated_at = now();
			}
		}
		activity.state = 'completed';
	};

	const tagsView = (countMode: boolean) =>
		state.tags.map((tag) => ({
			...clone(tag),
			...(countMode ? { contacts_count: [...state.contacts.values()].filter((c) => !c.deleted_at && c.taggings?.includes(tag.tag_id)).length } : {}),
		}));

	const activityView = (activity: FakeCcActivity) => ({
		activity_id: activity.activity_id,
		state: activity.state,
		created_at: activity.created_at,
		percent_done: activity.state === 'completed' ? 100 : 0,
		activity_errors: activity.activity_errors,
		status: {
			items_total_count: activity.contact_ids.length,
			items_completed_count: activity.state === 'completed' ? activity.contact_ids.length : 0,
		},
		_links: { self: { href: `/v3/activities/${activity.activity_id}` } },
	});

	const api = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, text: string) => {
		const method = req.method ?? 'GET';
		let body: unknown;
		if (text) {
			try {
				body = JSON.parse(text);
			} catch {
				return send(res, 400, apiError('http.status.bad_request', 'Bad request. The JSON was malformed.'));
			}
		}
		requests.push({ method, path, query: Object.fromEntries(query), body, authorization: req.headers.authorization });

		const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
		if (bearer !== state.accessToken || state.accessTokenExpired || state.revoked.has(bearer)) {
			return send(res, 401, { error_key: 'unauthorized', error_message: 'Unauthorized' });
		}
		const failure = state.failures.find((f) => (!f.method || f.method === method) && f.path.test(path));
		if (failure) {
			failure.times = (failure.times ?? 1) - 1;
			if (failure.times <= 0) state.failures.splice(state.failures.indexOf(failure), 1);
			return send(res, failure.status, failure.body, failure.headers);
		}

		if (method === 'GET' && path === '/contact_lists') {
			const countMode = query.get('include_membership_count');
			const lists = state.lists.map((list) => {
				const members = [...state.contacts.values()].filter((c) => !c.deleted_at && c.list_memberships?.includes(list.list_id));
				const counted = countMode === 'active' ? members.filter((c) => MAILABLE.has(c.email_address?.permission_to_send ?? '')) : members;
				return { ...clone(list), ...(countMode ? { membership_count: counted.length } : {}) };
			});
			return page('lists', query, lists, 1000, res, (items, next) => ({ lists: items, ...(next ? { _links: { next: { href: next } } } : {}) }));
		}

		if (method === 'GET' && path === '/contacts') {
			const effective = query.get('cursor') ? (cursors.get(query.get('cursor') ?? '')?.query ?? query) : query;
			const lists = (effective.get('lists') ?? '').split(',').filter(Boolean);
			const statuses = (effective.get('status') ?? '').split(',').filter(Boolean);
			const email = effective.get('email')?.toLowerCase();
			const tags = (effective.get('tags') ?? '').split(',').filter(Boolean).map((t) => t.toLowerCase());
			const include = new Set((effective.get('include') ?? '').split(',').filter((i) => INCLUDABLE.has(i)));
			if (lists.some((l) => !state.lists.some((list) => list.list_id === l))) return send(res, 404, apiError('contacts.api.not_found', 'The requested list was not found.'));
			// created_/updated_ after and before: strictly, as the description words them.
			const bounds: Array<{ field: 'created_at' | 'updated_at'; after: boolean; time: number }> = [];
			for (const [parameter, field, after] of TIME_FILTERS) {
				const value = effective.get(parameter);
				if (value === null) continue;
				const time = Date.parse(value);
				if (!ISO_DATE_TIME.test(value) || Number.isNaN(time)) return send(res, 400, apiError('contacts.api.validation.error', `${parameter} must be an ISO-8601 date-time.`));
				bounds.push({ field, after, time });
			}
			const inTime = (c: FakeCcContact) =>
				bounds.every(({ field, after, time }) => {
					const at = Date.parse(c[field] ?? '');
					return !Number.isNaN(at) && (after ? at > time : at < time);
				});
			const found = [...state.contacts.values()]
				.filter((c) => inList(c, lists) && hasStatus(c, statuses) && inTime(c))
				.filter((c) => email === undefined || c.email_address?.address.toLowerCase() === email)
				.filter((c) => tags.length === 0 || tags.some((t) => c.taggings?.some((own) => own.toLowerCase() === t)))
				.map((c) => view(c, include));
			return page('contacts', query, found, 500, res, (items, next) => ({ contacts: items, ...(next ? { _links: { next: { href: next } } } : {}) }));
		}

		if (method === 'POST' && path === '/contacts/sign_up_form') {
			const input = (body ?? {}) as Partial<Record<'email_address' | 'first_name' | 'last_name' | 'job_title' | 'company_name', unknown>> & { list_memberships?: unknown };
			const lists = input.list_memberships;
			if (!Array.isArray(lists) || lists.length < 1 || lists.length > 50 || !lists.every((l) => typeof l === 'string')) {
				return send(res, 400, apiError('contacts.api.validation.error', 'list_memberships must hold 1 to 50 list IDs.'));
			}
			const unknown = (lists as string[]).find((l) => !state.lists.some((list) => list.list_id === l));
			if (unknown) return send(res, 404, apiError('contacts.api.not_found', `List ${unknown} was not found.`));
			const email = typeof input.email_address === 'string' ? input.email_address.trim() : '';
			if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return send(res, 400, apiError('contacts.api.validation.error', 'email_address must be a valid email address (this fake has no SMS contacts).'));
			const at = now();
			const names: Partial<FakeCcContact> = {};
			for (const key of ['first_name', 'last_name', 'job_title', 'company_name'] as const) if (typeof input[key] === 'string') names[key] = input[key] as string;
			const existing = [...state.contacts.values()].find((c) => c.email_address?.address.toLowerCase() === email.toLowerCase());
			if (existing) {
				// A partial update: lists are appended; the contact is restored and opted in explicitly.
				Object.assign(existing, names);
				existing.list_memberships = [...new Set([...(existing.list_memberships ?? []), ...(lists as string[])])];
				existing.email_address = { ...existing.email_address!, permission_to_send: 'explicit', updated_at: at };
				delete existing.deleted_at;
				existing.update_source = 'Contact';
				existing.updated_at = at;
				return send(res, 200, { contact_id: existing.contact_id, action: 'updated' });
			}
			// A new contact, opted in explicitly (the account's Confirmed Opt-in setting is off).
			const contact: FakeCcContact = {
				contact_id: randomUUID(),
				email_address: { address: email, permission_to_send: 'explicit', created_at: at, updated_at: at, opt_in_source: 'Contact', opt_in_date: at, confirm_status: 'off' },
				...names,
				create_source: 'Contact',
				update_source: 'Contact',
				created_at: at,
				updated_at: at,
				list_memberships: [...new Set(lists as string[])],
			};
			state.contacts.set(contact.contact_id, contact);
			return send(res, 201, { contact_id: contact.contact_id, action: 'created' });
		}

		const contactMatch = /^\/contacts\/([^/]+)$/.exec(path);
		if (contactMatch) {
			const contact = state.contacts.get(decodeURIComponent(contactMatch[1]));
			if (!contact) return send(res, 404, apiError('contacts.api.not_found', 'The requested resource was not found.'));
			if (method === 'GET') {
				const include = new Set((query.get('include') ?? '').split(',').filter((i) => INCLUDABLE.has(i)));
				return send(res, 200, view(contact, include));
			}
			if (method === 'PUT') {
				const input = body as Record<string, unknown> | undefined;
				if (!input || typeof input !== 'object') return send(res, 400, apiError('contacts.api.validation.error', 'A body is required.'));
				if (input.update_source !== 'Account' && input.update_source !== 'Contact') return send(res, 400, apiError('contacts.api.validation.error', 'update_source is required.'));
				const email = input.email_address as { address?: string; permission_to_send?: string; opt_out_reason?: string } | undefined;
				if (email && !email.address) return send(res, 400, apiError('contacts.api.validation.error', 'email_address.address is required.'));
				for (const key of CORE) {
					if (input[key] === undefined || input[key] === null) delete contact[key];
					else (contact as unknown as Record<string, unknown>)[key] = input[key];
				}
				if (email) {
					const previous = contact.email_address;
					const permission = email.permission_to_send ?? previous?.permission_to_send ?? 'implicit';
					contact.email_address = { ...(previous ?? {}), address: email.address as string, permission_to_send: permission, updated_at: now() };
					if (permission === 'unsubscribed' && previous?.permission_to_send !== 'unsubscribed') {
						contact.email_address.opt_out_source = String(input.update_source);
						contact.email_address.opt_out_date = now();
						if (email.opt_out_reason) contact.email_address.opt_out_reason = email.opt_out_reason;
					}
				} else {
					delete contact.email_address;
				}
				for (const key of SUBRESOURCES) {
					if (input[key] === undefined) continue;
					const value = clone(input[key]);
					// Phones and addresses in a PUT carry no IDs: Constant Contact makes new ones.
					if (key === 'phone_numbers' || key === 'street_addresses') {
						for (const item of value as Array<Record<string, unknown>>) item[key === 'phone_numbers' ? 'phone_number_id' : 'street_address_id'] = randomUUID();
					}
					(contact as unknown as Record<string, unknown>)[key] = value;
				}
				delete contact.deleted_at; // a PUT revives a deleted contact
				contact.update_source = String(input.update_source);
				contact.updated_at = now();
				return send(res, 200, view(contact, new Set(INCLUDABLE)));
			}
		}

		if (method === 'GET' && path === '/contact_tags') {
			const effective = query.get('cursor') ? (cursors.get(query.get('cursor') ?? '')?.query ?? query) : query;
			const tags = tagsView(effective.get('include_count') === 'true');
			return page('tags', query, tags, 500, res, (items, next) => ({ tags: items, ...(next ? { _links: { next: { href: next } } } : {}) }));
		}

		if (method === 'POST' && path === '/contact_tags') {
			const input = body as { name?: unknown; tag_source?: unknown } | undefined;
			const name = typeof input?.name === 'string' ? input.name : '';
			if (name.length < 1 || name.length > 255) return send(res, 400, apiError('contacts.api.validation.error', 'name must be 1 to 255 characters.'));
			if (state.tags.some((t) => t.name.toLowerCase() === name.toLowerCase())) return send(res, 409, apiError('contacts.api.conflict', `A tag named ${name} already exists.`));
			const at = now();
			const tag: FakeCcTag = { tag_id: randomUUID(), name, ...(typeof input?.tag_source === 'string' ? { tag_source: input.tag_source } : {}), created_at: at, updated_at: at };
			state.tags.push(tag);
			return send(res, 201, { ...clone(tag), contacts_count: 0 });
		}

		if (method === 'POST' && path === '/activities/contacts_taggings_add') {
			const input = body as { source?: { contact_ids?: unknown }; tag_ids?: unknown } | undefined;
			const ids = input?.source?.contact_ids;
			const tagIds = input?.tag_ids;
			if (!Array.isArray(ids) || ids.length === 0 || ids.length > 500 || !ids.every((id) => typeof id === 'string')) {
				return send(res, 400, apiError('contacts.api.validation.error', 'source.contact_ids must hold 1 to 500 contact IDs (other sources are not supported by this fake).'));
			}
			if (!Array.isArray(tagIds) || tagIds.length === 0 || tagIds.length > 50 || !tagIds.every((id) => typeof id === 'string')) {
				return send(res, 400, apiError('contacts.api.validation.error', 'tag_ids must hold 1 to 50 tag IDs.'));
			}
			const unknown = (tagIds as string[]).find((id) => !state.tags.some((t) => t.tag_id === id));
			if (unknown) return send(res, 404, apiError('contacts.api.not_found', `Tag ${unknown} was not found.`));
			const activity: FakeCcActivity = {
				activity_id: randomUUID(),
				kind: 'contacts_taggings_add',
				state: 'initialized',
				contact_ids: ids as string[],
				tag_ids: tagIds as string[],
				activity_errors: [],
				polls: 0,
				created_at: now(),
			};
			state.activities.set(activity.activity_id, activity);
			if (state.activityPolls <= 0) processActivity(activity);
			return send(res, 201, activityView(activity));
		}

		if (method === 'POST' && path === '/activities/contact_delete') {
			const ids = (body as { contact_ids?: unknown } | undefined)?.contact_ids;
			if (!Array.isArray(ids) || ids.length === 0 || ids.length > 500 || !ids.every((id) => typeof id === 'string')) {
				return send(res, 400, apiError('contacts.api.validation.error', 'contact_ids must hold 1 to 500 contact IDs (list_ids is not supported by this fake).'));
			}
			const activity: FakeCcActivity = { activity_id: randomUUID(), kind: 'contact_delete', state: 'initialized', contact_ids: ids as string[], activity_errors: [], polls: 0, created_at: now() };
			state.activities.set(activity.activity_id, activity);
			if (state.activityPolls <= 0) processActivity(activity);
			return send(res, 201, activityView(activity));
		}

		const activityMatch = /^\/activities\/([^/]+)$/.exec(path);
		if (method === 'GET' && activityMatch) {
			const activity = state.activities.get(decodeURIComponent(activityMatch[1]));
			if (!activity) return send(res, 404, apiError('activities.api.not_found', 'Resource not found for the activity_id provided'));
			activity.polls++;
			if (activity.state !== 'completed') {
				if (activity.polls >= state.activityPolls) processActivity(activity);
				else activity.state = 'processing';
			}
			return send(res, 200, activityView(activity));
		}

		return send(res, 404, apiError('http.status.not_found', `No such endpoint in the fake: ${method} ${path}`));
	};

	const oauth = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, text: string) => {
		const params = oauthParameters(text, String(req.headers['content-type'] ?? ''), query);
		requests.push({ method: req.method ?? 'POST', path, query: Object.fromEntries(query), body: params, authorization: req.headers.authorization ? '(client credentials)' : undefined });
		if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request', error_description: 'POST only' });
		if (!clientAuthorized(req, params)) return send(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed.' });
		if (path === revokePath) {
			if (!params.token) return send(res, 400, { error: 'invalid_request', error_description: 'token is required' });
			state.revoked.add(params.token);
			// Revoking the refresh token ends the grant: its access token goes with it.
			if (params.token === state.refreshToken) state.revoked.add(state.accessToken);
			return send(res, 200);
		}
		const grant = params.grant_type;
		if (grant === 'refresh_token') {
			if (params.refresh_token !== state.refreshToken || state.revoked.has(params.refresh_token)) {
				return send(res, 400, { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired.' });
			}
		} else if (grant !== 'authorization_code' || !params.code) {
			return send(res, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${grant ?? '(none)'} is not supported` });
		}
		state.accessToken = `at-${randomUUID()}`;
		state.accessTokenExpired = false;
		return send(res, 200, { token_type: 'Bearer', expires_in: 86400, access_token: state.accessToken, refresh_token: state.refreshToken, scope: 'contact_data offline_access' });
	};

	const server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		readBody(req)
			.then(async (text) => {
				if (url.pathname === tokenPath || url.pathname === revokePath) return oauth(req, res, url.pathname, url.searchParams, text);
				if (url.pathname.startsWith('/v3/')) return api(req, res, url.pathname.slice(3), url.searchParams, text);
				return send(res, 404, apiError('http.status.not_found', 'Not found'));
			})
			.catch((error: unknown) => send(res, 500, apiError('http.status.internal_error', String(error))));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return {
		url: `${origin}/v3`,
		authUrl: `${origin}${tokenPath.replace(/\/token$/, '')}`,
		tokenUrl: `${origin}${tokenPath}`,
		revokeUrl: `${origin}${revokePath}`,
		state,
		requests,
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.close((error) => (error ? reject(error) : resolve()));
				server.closeAllConnections();
			}),
	};
}
