// A stateful fake of the HubSpot endpoints the adapter uses (and the credential test and the OAuth
// token endpoint), on 127.0.0.1. It enforces the token, the scopes and the batch sizes, and its
// state changes as the adapter writes, so a later read shows the result. Contact properties are
// defined (the CRM Properties API: read, create, update options) and a batch update may set only
// defined properties, and a dropdown only to one of its options, as HubSpot does.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubspotContact {
	id: string;
	properties: Record<string, string>;
	createdAt: string;
	updatedAt: string;
	archived: boolean;
}

export interface FakeHubspotList {
	listId: string;
	name: string;
	processingType: 'MANUAL' | 'DYNAMIC' | 'SNAPSHOT';
	objectTypeId: string;
	/** In the order the records joined (the join order HubSpot keeps). */
	memberIds: string[];
	/** When each record joined (ISO 8601); FAKE_HUBSPOT_JOINED where absent. */
	joinedAt?: Record<string, string>;
}

export interface FakeHubspotProperty {
	name: string;
	label: string;
	type: string;
	fieldType: string;
	groupName: string;
	description?: string;
	options: Array<{ label: string; value: string; displayOrder?: number; hidden?: boolean }>;
	/** Set by HubSpot: such a property cannot be written. */
	readOnlyValue?: boolean;
}

export interface FakeHubspotState {
	contacts: Map<string, FakeHubspotContact>;
	/** Contact property definitions, by internal name. */
	properties: Map<string, FakeHubspotProperty>;
	lists: FakeHubspotList[];
	/** Lower-cased addresses opted out of all email. */
	optedOut: Set<string>;
	/** Email subscription types of the account (each gets a status on unsubscribe-all). */
	subscriptionTypes: Array<{ id: number; name: string }>;
	/** Addresses blocked by a GDPR delete. */
	gdprBlocked: Set<string>;
	privateAppToken: string;
	oauth: { clientId: string; clientSecret: string; refreshToken: string; accessToken: string; expiresAt: number; issued: number };
	/** Scopes the token was granted. */
	scopes: Set<string>;
	/** Milliseconds since the epoch, as the fake sees it (tests move it to expire tokens). */
	now: number;
}

export interface FakeHubspotRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	body: unknown;
}

export interface FakeHubspotSeed {
	/** Contacts, or how many to generate (c1@example.test …, with names and a few custom fields). */
	contacts?: number | Array<{ id?: string; properties: Record<string, string> }>;
	/** Lists; by default one MANUAL list "Newsletter subscribers" (ID 101) of every contact and an empty DYNAMIC list. */
	lists?: FakeHubspotList[];
	optedOut?: string[];
	privateAppToken?: string;
	scopes?: string[];
	/** Where the OAuth token endpoint listens. */
	tokenPath?: string;
	oauth?: Partial<FakeHubspotState['oauth']>;
}

export const FAKE_HUBSPOT_ALL_SCOPES = [
	'oauth',
	'crm.lists.read',
	'crm.objects.contacts.read',
	'crm.objects.contacts.write',
	'communication_preferences.write',
	'communication_preferences.statuses.batch.write',
	'crm.schemas.contacts.read',
	'crm.schemas.contacts.write',
];

export interface FakeHubspot {
	url: string;
	state: FakeHubspotState;
	requests: FakeHubspotRequest[];
	/** Adds a record to a list at `state.now` (a new contact, made from `properties`, or an existing one by ID). */
	addMember(listId: string, contact: { id: string } | { properties: Record<string, string> }): FakeHubspotContact;
	/** Takes a record out of a list, as a user in HubSpot would. */
	removeMember(listId: string, id: string): void;
	close(): Promise<void>;
}

/** When the seeded members joined their lists, unless a list says otherwise. */
export const FAKE_HUBSPOT_JOINED = '2024-02-03T04:05:06.000Z';

class HttpError extends Error {
	constructor(
		readonly status: number,
		readonly body: unknown,
	) {
		super(`HTTP ${status}`);
	}
}

const random = () => randomBytes(12).toString('hex');
const TOKEN_PREFIX = 'oauth-';

const correlationId = () => '00000000-0000-4000-8000-000000000000';

function errorBody(category: string, message: string, extra: Record<string, unknown> = {}) {
	return { status: 'error', message, correlationId: correlationId(), category, ...extra };
}

function validation(message: string): HttpError {
	return new HttpError(400, errorBody('VALIDATION_ERROR', message));
}

function seedContacts(seed: FakeHubspotSeed['contacts']): FakeHubspotContact[] {
	const created = '2024-01-02T03:04:05.000Z';
	const list =
		typeof seed === 'number' || seed === undefined
			? Array.from({ length: typeof seed === 'number' ? seed : 5 }, (_v, i) => ({
					properties: {
						email: `c${i + 1}@example.test`,
						firstname: `First${i + 1}`,
						lastname: `Last${i + 1}`,
						company: `Company ${i + 1}`,
						lifecyclestage: i % 2 === 0 ? 'lead' : 'customer',
						favourite_colour: ['red', 'green', 'blue'][i % 3],
					} as Record<string, string>,
				}))
			: seed;
	return list.map((c: { id?: string; properties: Record<string, string> }, i) => ({
		id: c.id ? c.id : String(1001 + i),
		properties: { ...c.properties },
		createdAt: created,
		updatedAt: created,
		archived: false,
	}));
}

export async function startFakeHubspot(seed: FakeHubspotSeed = {}): Promise<FakeHubspot> {
	const contacts = seedContacts(seed.contacts);
	const property = (name: string, type = 'string', fieldType = 'text', readOnlyValue = false): FakeHubspotProperty => ({ name, label: name, type, fieldType, groupName: 'contactinformation', options: [], readOnlyValue });
	const state: FakeHubspotState = {
		contacts: new Map(contacts.map((c) => [c.id, c])),
		// HubSpot's default contact properties the fake knows, and every property the seed uses.
		properties: new Map(
			[
				property('email'),
				property('firstname'),
				property('lastname'),
				property('company'),
				property('lifecyclestage', 'enumeration', 'radio'),
				property('hs_email_optout', 'bool', 'booleancheckbox', true),
				property('hs_object_id', 'number', 'number', true),
				...[...new Set(contacts.flatMap((c) => Object.keys(c.properties)))].map((name) => property(name)),
			].map((p) => [p.name, p]),
		),
		lists: seed.lists ?? [
			{ listId: '101', name: 'Newsletter subscribers', processingType: 'MANUAL', objectTypeId: '0-1', memberIds: contacts.map((c) => c.id) },
			{ listId: '102', name: 'Customers (dynamic)', processingType: 'DYNAMIC', objectTypeId: '0-1', memberIds: [] },
			{ listId: '103', name: 'Newsletter companies', processingType: 'MANUAL', objectTypeId: '0-2', memberIds: [] },
		],
		optedOut: new Set((seed.optedOut ?? []).map((e) => e.toLowerCase())),
		subscriptionTypes: [
			{ id: 1, name: 'Marketing information' },
			{ id: 2, name: 'One to one' },
		],
		gdprBlocked: new Set(),
		// Fresh values per fake: nothing secret-looking lives in the source.
		privateAppToken: seed.privateAppToken ?? `pat-na1-${random()}`,
		oauth: {
			clientId: `client-${random()}`,
			clientSecret: random(),
			refreshToken: random(),
			accessToken: `${TOKEN_PREFIX}1-${random()}`,
			expiresAt: Date.now() + 30 * 60_000,
			issued: 1,
			...seed.oauth,
		},
		scopes: new Set(seed.scopes ?? FAKE_HUBSPOT_ALL_SCOPES),
		now: Date.now(),
	};
	for (const c of contacts) if (c.properties.hs_email_optout === 'true' && c.properties.email) state.optedOut.add(c.properties.email.toLowerCase());
	for (const email of state.optedOut) for (const c of contacts) if (c.properties.email?.toLowerCase() === email) c.properties.hs_email_optout = 'true';
	const tokenPath = seed.tokenPath ?? '/oauth/v3/token';
	const requests: FakeHubspotRequest[] = [];

	const authenticate = (req: IncomingMessage) => {
		const header = req.headers.authorization ?? '';
		const token = header.startsWith('Bearer ') ? header.slice(7) : '';
		if (token && token === state.privateAppToken) return;
		if (token && token === state.oauth.accessToken) {
			if (state.now < state.oauth.expiresAt) return;
			throw new HttpError(401, errorBody('EXPIRED_AUTHENTICATION', 'The OAuth token used to make this call expired 1 second(s) ago.'));
		}
		throw new HttpError(
			401,
			errorBody('INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.'),
		);
	};

	/** 403 unless the token has one of `anyOf`. */
	const requireScope = (...anyOf: string[]) => {
		if (anyOf.some((s) => state.scopes.has(s))) return;
		throw new HttpError(
			403,
			errorBody('MISSING_SCOPES', 'This app hasn’t been granted all required scopes to make this call.', {
				errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: anyOf } }],
				links: { scopes: 'https://developers.hubspot.com/scopes' },
			}),
		);
	};

	const live = (id: string) => {
		const c = state.contacts.get(id);
		return c && !c.archived ? c : undefined;
	};
	const byEmail = (email: string) => [...state.contacts.values()].find((c) => !c.archived && c.properties.email?.toLowerCase() === email.toLowerCase());

	const inputsOf = (body: unknown, max: number): unknown[] => {
		const inputs = (body as { inputs?: unknown })?.inputs;
		if (!Array.isArray(inputs)) throw validation('inputs: must be a list');
		if (inputs.length > max) throw validation(`Batch input limit of ${max} exceeded: ${inputs.length} inputs`);
		return inputs;
	};

	const statusesFor = (email: string) => {
		const before = state.optedOut.has(email.toLowerCase());
		state.optedOut.add(email.toLowerCase());
		const contact = byEmail(email);
		if (contact) contact.properties.hs_email_optout = 'true';
		const timestamp = new Date(state.now).toISOString();
		return state.subscriptionTypes.map((t) => ({
			channel: 'EMAIL',
			source: 'Public API',
			status: 'UNSUBSCRIBED',
			subscriberIdString: email,
			subscriptionId: t.id,
			subscriptionName: t.name,
			timestamp,
			setStatusSuccessReason: before ? 'NO_STATUS_CHANGE' : 'UNSUBSCRIBE_FROM_ALL_OCCURRED',
		}));
	};

	const batchEnvelope = (results: unknown[], errors: unknown[]) => {
		const at = new Date(state.now).toISOString();
		return {
			status: 'COMPLETE',
			results,
			...(errors.length > 0 ? { errors, numErrors: errors.length } : {}),
			requestedAt: at,
			startedAt: at,
			completedAt: at,
		};
	};

	const publicContact = (c: FakeHubspotContact, properties: string[] | undefined) => {
		const wanted = properties && properties.length > 0 ? properties : ['email', 'firstname', 'lastname'];
		const out: Record<string, string | null> = { hs_object_id: c.id, createdate: c.createdAt, lastmodifieddate: c.updatedAt };
		for (const p of wanted) out[p] = c.properties[p] ?? null;
		return { id: c.id, properties: out, createdAt: c.createdAt, updatedAt: c.updatedAt, archived: false };
	};

	const route = async (method: string, path: string, query: Record<string, string>, body: unknown, req: IncomingMessage): Promise<{ status: number; body?: unknown }> => {
		if (method === 'POST' && path === tokenPath) {
			const form = new URLSearchParams(typeof body === 'string' ? body : '');
			const o = state.oauth;
			if (form.get('grant_type') !== 'refresh_token' || form.get('client_id') !== o.clientId || form.get('client_secret') !== o.clientSecret || form.get('refresh_token') !== o.refreshToken) {
				return { status: 400, body: { error: 'invalid_grant', error_description: 'refresh token is invalid, expired or revoked', status: 'BAD_REFRESH_TOKEN' } };
			}
			o.issued++;
			o.accessToken = `${TOKEN_PREFIX}${o.issued}-${random()}`;
			o.expiresAt = state.now + 1800_000;
			return { status: 200, body: { token_type: 'bearer', access_token: o.accessToken, refresh_token: o.refreshToken, expires_in: 1800 } };
		}
		authenticate(req);

		// The credential test.
		if (method === 'GET' && path === '/crm/v3/objects/contacts') {
			requireScope('crm.objects.contacts.read');
			const limit = Math.min(Number(query.limit ?? 10), 100);
			const results = [...state.contacts.values()].filter((c) => !c.archived).slice(0, limit).map((c) => publicContact(c, undefined));
			return { status: 200, body: { results } };
		}

		if (method === 'POST' && path === '/crm/v3/lists/search') {
			requireScope('crm.lists.read');
			const b = (body ?? {}) as { query?: string; offset?: number; count?: number; objectTypeId?: string; additionalProperties?: unknown };
			if (typeof b.offset !== 'number' || !Array.isArray(b.additionalProperties)) throw validation('offset and additionalProperties are required');
			const count = b.count ?? 20;
			if (count > 500) throw validation('count: the max count is 500');
			const q = (b.query ?? '').toLowerCase();
			const matching = state.lists.filter((l) => (!b.objectTypeId || l.objectTypeId === b.objectTypeId) && l.name.toLowerCase().includes(q));
			const page = matching.slice(b.offset, b.offset + count);
			const offset = b.offset + page.length;
			return {
				status: 200,
				body: {
					lists: page.map((l) => ({
						listId: l.listId,
						listVersion: 1,
						name: l.name,
						objectTypeId: l.objectTypeId,
						processingStatus: 'COMPLETE',
						processingType: l.processingType,
						additionalProperties: { hs_list_size: String(l.memberIds.filter((id) => live(id)).length), hs_list_reference_count: '0' },
					})),
					hasMore: offset < matching.length,
					offset,
					total: matching.length,
				},
			};
		}

		// The join order: ascending from `after` (or the start), descending before `before` when only it is
		// given. The fake's tokens name a position in that order, the less forgiving of the kinds an opaque
		// token may be: when members leave, the same token points further along.
		const joinOrder = /^\/crm\/v3\/lists\/([^/]+)\/memberships\/join-order$/.exec(path);
		if (method === 'GET' && joinOrder) {
			requireScope('crm.lists.read');
			const list = state.lists.find((l) => l.listId === decodeURIComponent(joinOrder[1]));
			if (!list) throw new HttpError(404, errorBody('OBJECT_NOT_FOUND', `List does not exist with listId ${joinOrder[1]}.`));
			const limit = Number(query.limit ?? 100);
			if (!(Number.isInteger(limit) && limit >= 1 && limit <= 250)) throw validation('limit: the maximum limit is 250');
			const ids = list.memberIds.filter((id) => live(id));
			const position = (token: string) => {
				const match = /^join:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
				if (!match) throw validation(`Invalid paging token ${token}`);
				return Number(match[1]);
			};
			const token = (index: number) => Buffer.from(`join:${index}`).toString('base64url');
			const view = (recordId: string) => ({ recordId, membershipTimestamp: list.joinedAt?.[recordId] ?? FAKE_HUBSPOT_JOINED });
			if (query.after === undefined && query.before !== undefined) {
				const end = Math.min(position(query.before), ids.length);
				const start = Math.max(0, end - limit);
				const page = ids.slice(start, end).reverse();
				return { status: 200, body: { results: page.map(view), ...(start > 0 ? { paging: { prev: { before: token(start) } } } : {}), total: ids.length } };
			}
			const start = query.after === undefined ? 0 : position(query.after);
			const page = ids.slice(start, start + limit);
			const more = start + limit < ids.length;
			return { status: 200, body: { results: page.map(view), ...(more ? { paging: { next: { after: token(start + limit) } } } : {}), total: ids.length } };
		}

		const memberships = /^\/crm\/v3\/lists\/([^/]+)\/memberships$/.exec(path);
		if (method === 'GET' && memberships) {
			requireScope('crm.lists.read');
			const list = state.lists.find((l) => l.listId === decodeURIComponent(memberships[1]));
			if (!list) throw new HttpError(404, errorBody('OBJECT_NOT_FOUND', `List does not exist with listId ${memberships[1]}.`));
			const limit = Number(query.limit ?? 100);
			if (!(limit >= 1 && limit <= 250)) throw validation('limit: the maximum limit is 250');
			const ids = list.memberIds.filter((id) => live(id)).sort((a, b) => Number(a) - Number(b));
			const start = query.after ? ids.findIndex((id) => Number(id) > Number(Buffer.from(query.after, 'base64url').toString())) : 0;
			const page = start < 0 ? [] : ids.slice(start, start + limit);
			const more = start >= 0 && start + limit < ids.length;
			return {
				status: 200,
				body: {
					results: page.map((recordId) => ({ recordId, membershipTimestamp: list.joinedAt?.[recordId] ?? FAKE_HUBSPOT_JOINED })),
					...(more ? { paging: { next: { after: Buffer.from(page[page.length - 1]).toString('base64url') } } } : {}),
					total: ids.length,
				},
			};
		}

		if (method === 'POST' && path === '/crm/v3/objects/contacts/batch/read') {
			requireScope('crm.objects.contacts.read');
			const inputs = inputsOf(body, 100);
			const b = body as { idProperty?: string; properties?: string[] };
			if (b.idProperty !== undefined && b.idProperty !== 'email') throw validation(`Unknown unique property ${b.idProperty}`);
			const results: unknown[] = [];
			const missing: string[] = [];
			for (const input of inputs) {
				const id = String((input as { id?: unknown }).id ?? '');
				const contact = b.idProperty === 'email' ? byEmail(id) : live(id);
				if (contact) results.push(publicContact(contact, b.properties));
				else missing.push(id);
			}
			const errors =
				missing.length > 0
					? [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.', context: { ids: missing } }]
					: [];
			return { status: errors.length > 0 ? 207 : 200, body: batchEnvelope(results, errors) };
		}

		if (method === 'POST' && path === '/communication-preferences/v4/statuses/batch/unsubscribe-all') {
			requireScope('communication_preferences.statuses.batch.write');
			if (query.channel !== 'EMAIL') throw validation('channel: must be EMAIL');
			const inputs = inputsOf(body, 100);
			const results: unknown[] = [];
			const invalid: string[] = [];
			for (const input of inputs) {
				const email = String(input);
				if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) invalid.push(email);
				else results.push({ subscriberIdString: email, statuses: statusesFor(email) });
			}
			const errors = invalid.map((email) => ({
				status: '400',
				category: 'VALIDATION_ERROR',
				message: 'Invalid subscriber identifier.',
				context: { subscriberIdString: [email] },
				errors: [{ message: 'Invalid subscriber identifier.', in: 'inputs', subCategory: 'INVALID_EMAIL' }],
				links: {},
			}));
			return { status: 200, body: batchEnvelope(results, errors) };
		}

		const single = /^\/communication-preferences\/v4\/statuses\/([^/]+)\/unsubscribe-all$/.exec(path);
		if (method === 'POST' && single) {
			requireScope('communication_preferences.write', 'communication_preferences.read_write');
			if (query.channel !== 'EMAIL') throw validation('channel: must be EMAIL');
			const email = decodeURIComponent(single[1]);
			if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw validation('Invalid subscriber identifier.');
			return { status: 200, body: batchEnvelope(statusesFor(email), []) };
		}

		const propertyPath = /^\/crm\/v3\/properties\/contacts(?:\/([^/]+))?$/.exec(path);
		if (propertyPath) {
			const name = propertyPath[1] === undefined ? undefined : decodeURIComponent(propertyPath[1]);
			const known = name === undefined ? undefined : state.properties.get(name);
			const view = (p: FakeHubspotProperty) => ({ ...p, hidden: false, formField: false, hasUniqueValue: false, modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: p.readOnlyValue === true } });
			if (method === 'GET' && name !== undefined) {
				requireScope('crm.schemas.contacts.read', 'crm.schemas.contacts.write');
				if (!known) throw new HttpError(404, errorBody('OBJECT_NOT_FOUND', `Unable to find property ${name}`));
				return { status: 200, body: view(known) };
			}
			if (method === 'POST' && name === undefined) {
				requireScope('crm.schemas.contacts.write');
				const b = (body ?? {}) as Partial<FakeHubspotProperty>;
				if (!b.name || !b.label || !b.type || !b.fieldType || !b.groupName) throw validation('name, label, type, fieldType and groupName are required');
				if (!/^[a-z][a-z0-9_]*$/.test(b.name)) throw validation(`Invalid property name ${b.name}`);
				if (state.properties.has(b.name)) throw new HttpError(409, errorBody('OBJECT_ALREADY_EXISTS', `A property named ${b.name} already exists.`));
				if (b.type === 'enumeration' && !Array.isArray(b.options)) throw validation('options are required for enumeration properties');
				const created: FakeHubspotProperty = { name: b.name, label: b.label, type: b.type, fieldType: b.fieldType, groupName: b.groupName, description: b.description, options: b.options ?? [] };
				state.properties.set(created.name, created);
				return { status: 201, body: view(created) };
			}
			if (method === 'PATCH' && name !== undefined) {
				requireScope('crm.schemas.contacts.write');
				if (!known) throw new HttpError(404, errorBody('OBJECT_NOT_FOUND', `Unable to find property ${name}`));
				const b = (body ?? {}) as Partial<FakeHubspotProperty>;
				if (b.options !== undefined) known.options = b.options;
				if (b.label !== undefined) known.label = b.label;
				return { status: 200, body: view(known) };
			}
		}

		if (method === 'POST' && path === '/crm/v3/objects/contacts/batch/update') {
			requireScope('crm.objects.contacts.write');
			const inputs = inputsOf(body, 100) as Array<{ id?: unknown; idProperty?: unknown; properties?: unknown }>;
			// Like HubSpot, bad property values fail the whole batch; a missing contact fails only itself.
			for (const input of inputs) {
				const values = input.properties;
				if (typeof values !== 'object' || values === null) throw validation('properties: required');
				for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
					const definition = state.properties.get(name);
					if (!definition) throw validation(`Property values were not valid: Property "${name}" does not exist`);
					if (definition.readOnlyValue) throw new HttpError(400, errorBody('READ_ONLY_VALUE', `Property "${name}" is read-only`));
					if (definition.type === 'enumeration' && value !== '' && !definition.options.some((o) => o.value === value)) {
						throw new HttpError(400, errorBody('INVALID_OPTION', `Property values were not valid: ${String(value)} was not one of the allowed options for ${name}`));
					}
				}
			}
			const results: unknown[] = [];
			const missing: string[] = [];
			for (const input of inputs) {
				const id = String(input.id ?? '');
				const contact = input.idProperty === 'email' ? byEmail(id) : live(id);
				if (!contact) {
					missing.push(id);
					continue;
				}
				for (const [name, value] of Object.entries(input.properties as Record<string, string>)) {
					if (value === '') delete contact.properties[name];
					else contact.properties[name] = String(value);
				}
				contact.updatedAt = new Date(state.now).toISOString();
				results.push(publicContact(contact, Object.keys(input.properties as Record<string, string>)));
			}
			const errors = missing.length > 0 ? [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not update some CONTACT objects, they may be deleted or not exist.', context: { ids: missing } }] : [];
			return { status: errors.length > 0 ? 207 : 200, body: batchEnvelope(results, errors) };
		}

		if (method === 'POST' && path === '/crm/v3/objects/contacts/batch/archive') {
			requireScope('crm.objects.contacts.write');
			const inputs = inputsOf(body, 100);
			// Like HubSpot: 204 whether or not each contact exists.
			for (const input of inputs) {
				const contact = live(String((input as { id?: unknown }).id ?? ''));
				if (contact) contact.archived = true;
			}
			return { status: 204 };
		}

		if (method === 'POST' && path === '/crm/v3/objects/contacts/gdpr-delete') {
			requireScope('crm.objects.contacts.write');
			const b = (body ?? {}) as { objectId?: string; idProperty?: string };
			if (!b.objectId) throw validation('objectId is required');
			const contact = b.idProperty === 'email' ? byEmail(b.objectId) : state.contacts.get(b.objectId);
			if (!contact) {
				if (b.idProperty === 'email') {
					state.gdprBlocked.add(b.objectId.toLowerCase());
					return { status: 204 };
				}
				throw new HttpError(404, errorBody('OBJECT_NOT_FOUND', `resource not found: contact ${b.objectId}`));
			}
			state.contacts.delete(contact.id);
			for (const list of state.lists) list.memberIds = list.memberIds.filter((id) => id !== contact.id);
			if (contact.properties.email) state.gdprBlocked.add(contact.properties.email.toLowerCase());
			return { status: 204 };
		}

		return { status: 404, body: errorBody('NOT_FOUND', `No route for ${method} ${path}`) };
	};

	const server = createServer((req: IncomingMessage, res: ServerResponse) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const url = new URL(req.url ?? '/', 'http://127.0.0.1');
			const text = Buffer.concat(chunks).toString('utf8');
			let body: unknown = text === '' ? undefined : text;
			if (text !== '' && /json/i.test(req.headers['content-type'] ?? '')) {
				try {
					body = JSON.parse(text);
				} catch {
					res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody('VALIDATION_ERROR', 'Invalid JSON')));
					return;
				}
			}
			const query = Object.fromEntries(url.searchParams);
			requests.push({ method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query, body });
			route(req.method ?? 'GET', url.pathname, query, body, req)
				.catch((error: unknown) => {
					if (error instanceof HttpError) return { status: error.status, body: error.body };
					return { status: 500, body: errorBody('INTERNAL_ERROR', (error as Error).message) };
				})
				.then(({ status, body: out }) => {
					if (out === undefined) res.writeHead(status).end();
					else res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' }).end(JSON.stringify(out));
				});
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	const listOf = (listId: string) => {
		const list = state.lists.find((l) => l.listId === listId);
		if (!list) throw new Error(`The fake has no list ${listId}`);
		return list;
	};
	return {
		url: `http://127.0.0.1:${port}`,
		state,
		requests,
		addMember(listId, seed) {
			const list = listOf(listId);
			let contact: FakeHubspotContact | undefined;
			if ('id' in seed) contact = state.contacts.get(seed.id);
			else {
				const at = new Date(state.now).toISOString();
				const id = String(Math.max(1000, ...[...state.contacts.keys()].map(Number)) + 1);
				contact = { id, properties: { ...seed.properties }, createdAt: at, updatedAt: at, archived: false };
				state.contacts.set(id, contact);
				for (const name of Object.keys(seed.properties)) if (!state.properties.has(name)) state.properties.set(name, property(name));
			}
			if (!contact) throw new Error('The fake has no such contact');
			list.memberIds = [...list.memberIds.filter((id) => id !== contact.id), contact.id];
			list.joinedAt = { ...list.joinedAt, [contact.id]: new Date(state.now).toISOString() };
			return contact;
		},
		removeMember(listId, id) {
			const list = listOf(listId);
			list.memberIds = list.memberIds.filter((m) => m !== id);
		},
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((error) => (error ? reject(error) : resolve()));
			}),
	};
}
