// A stateful SendGrid (Marketing Campaigns v3) on 127.0.0.1, implementing exactly the endpoints the
// adapter uses, plus GET /v3/scopes for the credential test. It keeps contacts, lists, segments and
// the global unsubscribes in memory; writes change that state, so a later read shows the result.
//
// Where SendGrid's own behaviour is not documented, the fake picks one and says so:
// - an export of an unknown list answers 404;
// - POST /v3/asm/suppressions/global answers with the addresses it newly added (not those already there);
// - a delete job's deleted_count counts the contacts it really deleted (unknown IDs are ignored);
// - export files are gzip-compressed and served with Content-Encoding: gzip from a pre-signed path that
//   needs its X-Amz-Signature, not the API key;
// - custom field definitions (GET/POST /v3/marketing/field_definitions) get IDs like "e3_T"; contacts
//   hold custom field values by field name, as SendGrid returns them; PUT /v3/marketing/contacts takes
//   them by field ID, refuses an unknown field ID or a bad address up front (400 naming contacts[i]),
//   and its upsert job runs at a poll: it changes only the fields sent, finds contacts by email, and
//   creates a contact for an unknown address (as SendGrid does); addresses in `upsertErrors` end the
//   job "errored" and are left unchanged;
// - POST /v3/marketing/contacts/search understands the SGQL the adapter writes (terms joined by AND:
//   CONTAINS(list_ids|segment_ids, '…'), created_at|updated_at compared with a DateTime literal in the
//   reference's format YYYY-MM-DDTHH:mm:SSZ, email = '…'), answers 400 for anything else, returns the
//   first 50 matches in contact ID order (SendGrid documents none) with the full contact_count, and
//   finds a contact only `searchLagMs` after it was created (SendGrid's search is eventually consistent);
// - a list's contact_sample holds the 50 contacts most recently added to it, newest first.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface FakeContact {
	id: string;
	email: string;
	first_name: string;
	last_name: string;
	city: string;
	phone_number: string;
	list_ids: string[];
	segment_ids: string[];
	custom_fields: Record<string, string | number>;
	created_at: string;
	updated_at: string;
}

export interface FakeList {
	id: string;
	name: string;
}

export interface FakeFieldDefinition {
	id: string;
	name: string;
	field_type: 'Text' | 'Number' | 'Date';
}

export interface SendGridFakeSeed {
	apiKey?: string;
	/** What GET /v3/scopes answers. */
	scopes?: string[];
	lists?: FakeList[];
	segments?: FakeList[];
	contacts?: FakeContact[];
	/** Addresses already in the global unsubscribes. */
	globalUnsubscribes?: string[];
	/** How many polls an export or delete job answers "pending" before it is done. */
	pendingPolls?: number;
	/** Operations answered with 403 "access forbidden", as for a key without the scope. */
	forbid?: Array<'read' | 'export' | 'unsubscribe' | 'delete' | 'write'>;
	/** Custom field definitions; by default one per custom field the contacts hold (Text or Number). */
	customFields?: FakeFieldDefinition[];
	/** How long after its creation a contact becomes searchable (default 0). */
	searchLagMs?: number;
}

interface ExportJob {
	id: string;
	polls: number;
	signature: string;
	csv: string;
	count: number;
	created: string;
}

interface UpsertJob {
	id: string;
	polls: number;
	contacts: Json[];
	listIds: string[];
	results?: Record<string, number>;
	status?: 'completed' | 'errored' | 'failed';
	started: string;
	finished?: string;
}

type Json = Record<string, unknown>;

interface DeleteJob {
	id: string;
	polls: number;
	ids: string[];
	deleted?: number;
	started: string;
	finished?: string;
}

export interface SendGridFakeState {
	apiKey: string;
	scopes: string[];
	lists: Map<string, FakeList>;
	segments: Map<string, FakeList>;
	contacts: Map<string, FakeContact>;
	/** Address (lower case) -> Unix time it was added. */
	globalUnsubscribes: Map<string, number>;
	exports: Map<string, ExportJob>;
	jobs: Map<string, DeleteJob>;
	upserts: Map<string, UpsertJob>;
	fieldDefinitions: FakeFieldDefinition[];
	/** Addresses (lower case) an upsert job fails on, with the message it gives. */
	upsertErrors: Map<string, string>;
	pendingPolls: number;
	forbid: Set<string>;
	/** Milliseconds since the epoch as the fake sees it for new contacts and the search (tests move it). */
	now: number;
	searchLagMs: number;
	/** `${listId} ${contactId}` -> the order it was added to the list (higher is later). */
	added: Map<string, number>;
}

export interface FakeRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	body: unknown;
	/** Whether an Authorization header came with it (a pre-signed download needs none). */
	authorization: boolean;
}

export interface SendGridFake {
	url: string;
	state: SendGridFakeState;
	requests: FakeRequest[];
	/** Creates a contact on these lists at `state.now`, as a sign-up form would. */
	addContact(listIds: string[], fields: { email: string } & Partial<FakeContact>): FakeContact;
	close(): Promise<void>;
}

export const FAKE_LISTS = {
	newsletter: '0f5f2b7e-6c1a-4a53-9d55-2f0e8a4c1a01',
	customers: '0f5f2b7e-6c1a-4a53-9d55-2f0e8a4c1a02',
	engaged: '7d3c1e44-2b8f-4f0e-8a8d-5b6c7d8e9f01',
};

/** `count` contacts on `listId`, with names, a city, a phone number and custom fields. */
export function fakeContacts(count: number, listId: string = FAKE_LISTS.newsletter, prefix = 'member'): FakeContact[] {
	const contacts: FakeContact[] = [];
	for (let i = 0; i < count; i++) {
		const n = String(i).padStart(5, '0');
		contacts.push({
			id: `c0a80000-0000-4000-8000-${n.padStart(12, '0')}`,
			email: `${prefix}${n}@example.com`,
			first_name: `First ${n}`,
			last_name: `Last, "${n}"`,
			city: i % 2 === 0 ? 'Lyon' : 'Zürich',
			phone_number: `+4130000${n}`,
			list_ids: [listId],
			segment_ids: [],
			custom_fields: { plan: i % 3 === 0 ? 'pro' : 'free', score: i },
			created_at: '2024-01-02T03:04:05Z',
			updated_at: '2024-02-03T04:05:06Z',
		});
	}
	return contacts;
}

export function defaultSeed(): SendGridFakeSeed {
	const contacts = fakeContacts(6);
	contacts[4].list_ids = [FAKE_LISTS.newsletter, FAKE_LISTS.customers];
	contacts[0].segment_ids = [FAKE_LISTS.engaged];
	contacts[1].segment_ids = [FAKE_LISTS.engaged];
	return {
		lists: [
			{ id: FAKE_LISTS.newsletter, name: 'Newsletter' },
			{ id: FAKE_LISTS.customers, name: 'Customers' },
		],
		segments: [{ id: FAKE_LISTS.engaged, name: 'Engaged readers' }],
		contacts,
		globalUnsubscribes: [contacts[5].email],
	};
}

const CSV_COLUMNS: Array<[string, (c: FakeContact) => string]> = [
	['EMAIL', (c) => c.email],
	['FIRST_NAME', (c) => c.first_name],
	['LAST_NAME', (c) => c.last_name],
	['CITY', (c) => c.city],
	['PHONE_NUMBER', (c) => c.phone_number],
	['CREATED_AT', (c) => c.created_at],
	['UPDATED_AT', (c) => c.updated_at],
	['CONTACT_ID', (c) => c.id],
];

function quote(value: string): string {
	return value === '' ? '' : `"${value.replace(/"/g, '""')}"`;
}

function exportCsv(contacts: FakeContact[]): string {
	const custom = [...new Set(contacts.flatMap((c) => Object.keys(c.custom_fields)))].sort();
	const header = [...CSV_COLUMNS.map(([name]) => name), ...custom.map((name) => name.toUpperCase())];
	const lines = [header.map(quote).join(',')];
	for (const c of contacts) {
		lines.push([...CSV_COLUMNS.map(([, get]) => get(c)), ...custom.map((name) => String(c.custom_fields[name] ?? ''))].map(quote).join(','));
	}
	return `${lines.join('\n')}\n`;
}

function readBody(request: IncomingMessage): Promise<unknown> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('error', reject);
		request.on('end', () => {
			const text = Buffer.concat(chunks).toString('utf8');
			if (text === '') return resolve(undefined);
			try {
				resolve(JSON.parse(text));
			} catch {
				resolve(text);
			}
		});
	});
}

function send(response: ServerResponse, status: number, body?: unknown): void {
	if (body === undefined) {
		response.writeHead(status).end();
		return;
	}
	response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const errors = (message: string, field: string | null = null) => ({ errors: [{ field, message }] });

const plausible = (email: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);

const RESERVED_FIELDS = ['first_name', 'last_name', 'email', 'alternate_emails', 'address_line_1', 'address_line_2', 'city', 'state_province_region', 'postal_code', 'country', 'phone_number', 'unique_name', 'created_at', 'updated_at', 'contact_id'];
/** Reserved fields an upsert may set (the rest are identifiers or read-only). */
const WRITABLE_FIELDS = new Set(['first_name', 'last_name', 'city', 'phone_number']);

/** One definition per custom field the contacts hold, in name order: e1_T, e2_N, ... */
function defaultFieldDefinitions(contacts: FakeContact[]): FakeFieldDefinition[] {
	const types = new Map<string, 'Text' | 'Number'>();
	for (const c of contacts) for (const [name, value] of Object.entries(c.custom_fields)) types.set(name, typeof value === 'number' ? 'Number' : 'Text');
	return [...types.keys()].sort().map((name, i) => {
		const type = types.get(name) ?? 'Text';
		return { id: `e${i + 1}_${type[0]}`, name, field_type: type };
	});
}

export async function startFakeSendGrid(seed: SendGridFakeSeed = defaultSeed()): Promise<SendGridFake> {
	const state: SendGridFakeState = {
		apiKey: seed.apiKey ?? 'SG.fake-key.0123456789',
		scopes: seed.scopes ?? ['marketing.read', 'asm.suppressions.global.create', 'asm.suppressions.global.read', 'suppression.unsubscribes.read'],
		lists: new Map((seed.lists ?? []).map((l) => [l.id, { ...l }])),
		segments: new Map((seed.segments ?? []).map((s) => [s.id, { ...s }])),
		contacts: new Map((seed.contacts ?? []).map((c) => [c.id, structuredClone(c)])),
		globalUnsubscribes: new Map((seed.globalUnsubscribes ?? []).map((e, i) => [e.toLowerCase(), 1_700_000_000 + i])),
		exports: new Map(),
		jobs: new Map(),
		upserts: new Map(),
		fieldDefinitions: structuredClone(seed.customFields ?? defaultFieldDefinitions(seed.contacts ?? [])),
		upsertErrors: new Map(),
		pendingPolls: seed.pendingPolls ?? 0,
		forbid: new Set(seed.forbid ?? []),
		now: Date.now(),
		searchLagMs: seed.searchLagMs ?? 0,
		added: new Map(),
	};
	let additions = 0;
	const attach = (listId: string, contactId: string) => {
		if (!state.added.has(`${listId} ${contactId}`)) state.added.set(`${listId} ${contactId}`, ++additions);
	};
	for (const c of state.contacts.values()) for (const listId of c.list_ids) attach(listId, c.id);
	const requests: FakeRequest[] = [];
	let base = '';

	const forbidden = (response: ServerResponse, what: string) => {
		if (!state.forbid.has(what)) return false;
		send(response, 403, errors('access forbidden'));
		return true;
	};

	function lists(response: ServerResponse, query: URLSearchParams) {
		if (forbidden(response, 'read')) return;
		const size = Number(query.get('page_size') ?? 100);
		if (!(size >= 1 && size <= 1000)) return send(response, 400, errors('page_size must be between 1 and 1000', 'page_size'));
		const all = [...state.lists.values()].sort((a, b) => a.id.localeCompare(b.id));
		const token = query.get('page_token');
		const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
		const page = all.slice(start, start + size);
		const next = start + size < all.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
		send(response, 200, {
			result: page.map((l) => ({
				id: l.id,
				name: l.name,
				contact_count: [...state.contacts.values()].filter((c) => c.list_ids.includes(l.id)).length,
				_metadata: { self: `${base}/v3/marketing/lists/${l.id}` },
			})),
			_metadata: {
				self: `${base}/v3/marketing/lists?page_size=${size}&page_token=${token ?? ''}`,
				...(next ? { next: `${base}/v3/marketing/lists?page_size=${size}&page_token=${next}` } : {}),
				count: all.length,
			},
		});
	}

	function segments(response: ServerResponse) {
		if (forbidden(response, 'read')) return;
		send(response, 200, {
			results: [...state.segments.values()].map((s) => ({
				id: s.id,
				name: s.name,
				contacts_count: [...state.contacts.values()].filter((c) => c.segment_ids.includes(s.id)).length,
				created_at: '2024-01-01T00:00:00Z',
				updated_at: '2024-01-01T00:00:00Z',
				sample_updated_at: '2024-01-01T00:00:00Z',
				next_sample_update: '2024-01-01T01:00:00Z',
				parent_list_ids: [],
				query_version: '2',
				status: { query_validation: 'VALID' },
			})),
			_metadata: { self: `${base}/v3/marketing/segments/2.0` },
		});
	}

	function createExport(response: ServerResponse, body: unknown) {
		if (forbidden(response, 'export')) return;
		const { list_ids: listIds = [], segment_ids: segmentIds = [] } = (body ?? {}) as { list_ids?: string[]; segment_ids?: string[] };
		for (const id of listIds) if (!state.lists.has(id)) return send(response, 404, errors(`list ${id} not found`, 'list_ids'));
		for (const id of segmentIds) if (!state.segments.has(id)) return send(response, 404, errors(`segment ${id} not found`, 'segment_ids'));
		const contacts = [...state.contacts.values()].filter(
			(c) => c.list_ids.some((id) => listIds.includes(id)) || c.segment_ids.some((id) => segmentIds.includes(id)),
		);
		const job: ExportJob = {
			id: randomUUID(),
			polls: 0,
			signature: randomBytes(16).toString('hex'),
			csv: exportCsv(contacts),
			count: contacts.length,
			created: new Date().toISOString(),
		};
		state.exports.set(job.id, job);
		send(response, 202, { id: job.id, _metadata: { self: `${base}/v3/marketing/contacts/exports/${job.id}` } });
	}

	function exportStatus(response: ServerResponse, id: string) {
		const job = state.exports.get(id);
		if (!job) return send(response, 404, errors('export not found'));
		job.polls++;
		const ready = job.polls > state.pendingPolls;
		send(response, 200, {
			id: job.id,
			status: ready ? 'ready' : 'pending',
			created_at: job.created,
			updated_at: job.created,
			expires_at: '2099-01-01T00:00:00Z',
			...(ready
				? {
						completed_at: job.created,
						urls: [`${base}/exports/${job.id}/contacts_1.csv.gzip?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${job.signature}`],
						contact_count: job.count,
					}
				: {}),
		});
	}

	function download(response: ServerResponse, id: string, query: URLSearchParams) {
		const job = state.exports.get(id);
		if (!job || query.get('X-Amz-Signature') !== job.signature) {
			response.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
			return;
		}
		response.writeHead(200, { 'content-type': 'text/csv', 'content-encoding': 'gzip' }).end(gzipSync(job.csv));
	}

	function publicContact(c: FakeContact) {
		return { ...structuredClone(c), _metadata: { self: `${base}/v3/marketing/contacts/${c.id}` } };
	}

	function searchEmails(response: ServerResponse, body: unknown) {
		if (forbidden(response, 'read')) return;
		const emails = ((body ?? {}) as { emails?: unknown }).emails;
		if (!Array.isArray(emails) || emails.length === 0) return send(response, 400, errors('emails is required', 'emails'));
		if (emails.length > 100) return send(response, 400, errors('at most 100 emails', 'emails'));
		const bad = emails.findIndex((e) => typeof e !== 'string' || !plausible(e));
		if (bad >= 0) return send(response, 400, errors('invalid email address', `emails[${bad}]`));
		const result: Record<string, unknown> = {};
		let found = 0;
		for (const email of emails as string[]) {
			const contact = [...state.contacts.values()].find((c) => c.email.toLowerCase() === email.toLowerCase());
			if (contact) found++;
			result[email.toLowerCase()] = contact ? { contact: publicContact(contact) } : { error: 'contact not found' };
		}
		if (found === 0) return send(response, 404, errors('no contacts found'));
		send(response, 200, { result });
	}

	function batch(response: ServerResponse, body: unknown) {
		if (forbidden(response, 'read')) return;
		const ids = ((body ?? {}) as { ids?: unknown }).ids;
		if (!Array.isArray(ids) || ids.length > 100) return send(response, 400, errors('ids must hold 1 to 100 IDs', 'ids'));
		send(response, 200, { result: ids.flatMap((id) => (state.contacts.has(String(id)) ? [publicContact(state.contacts.get(String(id)) as FakeContact)] : [])) });
	}

	function deleteContacts(response: ServerResponse, query: URLSearchParams) {
		if (forbidden(response, 'delete')) return;
		const ids = (query.get('ids') ?? '').split(',').filter((id) => id !== '');
		if (ids.length === 0) return send(response, 400, errors("either 'ids' OR 'delete_all_contacts' should be supplied as query param"));
		const job: DeleteJob = { id: randomUUID(), polls: 0, ids, started: new Date().toISOString() };
		state.jobs.set(job.id, job);
		send(response, 202, { job_id: job.id });
	}

	function jobStatus(response: ServerResponse, id: string) {
		const upsertJob = state.upserts.get(id);
		if (upsertJob) return upsertStatus(response, upsertJob);
		const job = state.jobs.get(id);
		if (!job) return send(response, 404, errors('job not found'));
		job.polls++;
		if (job.deleted === undefined && job.polls > state.pendingPolls) {
			// The job runs now: contacts it finds are deleted, unknown IDs are ignored.
			job.deleted = job.ids.filter((contactId) => state.contacts.delete(contactId)).length;
			job.finished = new Date().toISOString();
		}
		send(response, 200, {
			id: job.id,
			status: job.deleted === undefined ? 'pending' : 'completed',
			job_type: 'delete',
			results: job.deleted === undefined ? {} : { requested_count: job.ids.length, deleted_count: job.deleted, errored_count: 0 },
			started_at: job.started,
			...(job.finished ? { finished_at: job.finished } : {}),
		});
	}

	function fieldDefinitions(response: ServerResponse) {
		if (forbidden(response, 'read')) return;
		send(response, 200, {
			custom_fields: state.fieldDefinitions.map((f) => ({ ...f, _metadata: { self: `${base}/v3/marketing/field_definitions/${f.id}` } })),
			reserved_fields: RESERVED_FIELDS.map((name, i) => ({ id: `_rf${i}_T`, name, field_type: 'Text' })),
			_metadata: { self: `${base}/v3/marketing/field_definitions` },
		});
	}

	function createField(response: ServerResponse, body: unknown) {
		if (forbidden(response, 'write')) return;
		const { name, field_type: type } = (body ?? {}) as { name?: unknown; field_type?: unknown };
		if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(name)) return send(response, 400, errors('name must be letters, digits and underscores, starting with a letter or underscore', 'name'));
		if (type !== 'Text' && type !== 'Number' && type !== 'Date') return send(response, 400, errors('field_type must be Text, Number or Date', 'field_type'));
		const taken = [...state.fieldDefinitions.map((f) => f.name), ...RESERVED_FIELDS].some((n) => n.toLowerCase() === name.toLowerCase());
		if (taken) return send(response, 400, errors(`a field named ${name} already exists`, 'name'));
		if (state.fieldDefinitions.length >= 500) return send(response, 400, errors('you can have up to 500 custom fields', 'name'));
		const field: FakeFieldDefinition = { id: `e${state.fieldDefinitions.length + 1}_${type[0]}`, name, field_type: type };
		state.fieldDefinitions.push(field);
		send(response, 200, { ...field, _metadata: { self: `${base}/v3/marketing/field_definitions/${field.id}` } });
	}

	function upsert(response: ServerResponse, body: unknown) {
		if (forbidden(response, 'write')) return;
		const { contacts, list_ids: listIds = [] } = (body ?? {}) as { contacts?: unknown; list_ids?: string[] };
		if (!Array.isArray(contacts) || contacts.length === 0 || contacts.length > 30_000) return send(response, 400, errors('contacts must hold 1 to 30,000 contacts', 'contacts'));
		const problems: Array<{ field: string; message: string }> = [];
		contacts.forEach((entry, i) => {
			const contact = (entry ?? {}) as Json;
			if (typeof contact.email !== 'string' || !plausible(contact.email)) problems.push({ field: `contacts[${i}].email`, message: 'must be a valid email address' });
			const fields = contact.custom_fields;
			if (fields !== undefined) {
				for (const id of Object.keys(fields as Json)) {
					if (!state.fieldDefinitions.some((f) => f.id === id)) problems.push({ field: `contacts[${i}].custom_fields.${id}`, message: `custom field ID ${id} does not exist` });
				}
			}
		});
		if (problems.length > 0) return send(response, 400, { errors: problems });
		const job: UpsertJob = { id: randomUUID(), polls: 0, contacts: structuredClone(contacts as Json[]), listIds, started: new Date().toISOString() };
		state.upserts.set(job.id, job);
		send(response, 202, { job_id: job.id });
	}

	function runUpsert(job: UpsertJob) {
		const at = new Date().toISOString();
		const counts = { requested_count: job.contacts.length, created_count: 0, updated_count: 0, errored_count: 0 };
		for (const entry of job.contacts) {
			const email = String(entry.email).toLowerCase();
			if (state.upsertErrors.has(email)) {
				counts.errored_count++;
				continue;
			}
			let contact = [...state.contacts.values()].find((c) => c.email.toLowerCase() === email);
			if (!contact) {
				contact = { id: randomUUID(), email, first_name: '', last_name: '', city: '', phone_number: '', list_ids: [], segment_ids: [], custom_fields: {}, created_at: at, updated_at: at };
				state.contacts.set(contact.id, contact);
				counts.created_count++;
			} else counts.updated_count++;
			for (const [key, value] of Object.entries(entry)) {
				if (WRITABLE_FIELDS.has(key)) (contact as unknown as Json)[key] = value;
			}
			for (const [id, value] of Object.entries((entry.custom_fields ?? {}) as Json)) {
				const field = state.fieldDefinitions.find((f) => f.id === id);
				if (field) contact.custom_fields[field.name] = value as string | number;
			}
			for (const list of job.listIds) if (!contact.list_ids.includes(list)) contact.list_ids.push(list);
			for (const list of job.listIds) attach(list, contact.id);
			contact.updated_at = at;
		}
		job.results = counts;
		job.status = counts.errored_count === 0 ? 'completed' : counts.errored_count === job.contacts.length ? 'failed' : 'errored';
		job.finished = at;
	}

	function upsertStatus(response: ServerResponse, job: UpsertJob) {
		job.polls++;
		if (job.status === undefined && job.polls > state.pendingPolls) runUpsert(job);
		send(response, 200, {
			id: job.id,
			status: job.status ?? 'pending',
			job_type: 'upsert',
			results: job.results
				? { ...job.results, ...(job.results.errored_count > 0 ? { errors_url: `${base}/errors/${job.id}.csv?X-Amz-Signature=${randomBytes(8).toString('hex')}` } : {}) }
				: {},
			started_at: job.started,
			...(job.finished ? { finished_at: job.finished } : {}),
		});
	}

	/** One SGQL term of the subset the fake understands, as a test on a contact; undefined when not understood. */
	function sgqlTerm(term: string): ((c: FakeContact) => boolean) | undefined {
		const literal = "'((?:[^'\\\\]|\\\\.)*)'";
		const unquote = (value: string) => value.replace(/\\(.)/g, '$1');
		const contains = new RegExp(`^CONTAINS\\((list_ids|segment_ids),\\s*${literal}\\)$`, 'i').exec(term);
		if (contains) {
			const id = unquote(contains[2]);
			return (c) => (contains[1].toLowerCase() === 'list_ids' ? c.list_ids : c.segment_ids).includes(id);
		}
		const time = new RegExp(`^(created_at|updated_at)\\s*(>=|<=|>|<|=)\\s*${literal}$`, 'i').exec(term);
		if (time && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(time[3])) {
			const bound = Date.parse(time[3]);
			const compare = { '>=': (a: number) => a >= bound, '<=': (a: number) => a <= bound, '>': (a: number) => a > bound, '<': (a: number) => a < bound, '=': (a: number) => a === bound }[time[2]];
			return (c) => (compare ? compare(Date.parse(time[1].toLowerCase() === 'created_at' ? c.created_at : c.updated_at)) : false);
		}
		const email = new RegExp(`^email\\s*=\\s*${literal}$`, 'i').exec(term);
		if (email) return (c) => c.email === unquote(email[1]);
		return undefined;
	}

	function search(response: ServerResponse, body: unknown) {
		if (forbidden(response, 'read')) return;
		const query = ((body ?? {}) as { query?: unknown }).query;
		if (typeof query !== 'string' || query.trim() === '') return send(response, 400, errors('query is required', 'query'));
		const tests: Array<(c: FakeContact) => boolean> = [];
		for (const term of query.trim().split(/\s+AND\s+/i)) {
			const test = sgqlTerm(term.trim());
			if (!test) return send(response, 400, errors(`invalid SGQL near "${term.trim()}"`, 'query'));
			tests.push(test);
		}
		const indexed = [...state.contacts.values()].filter((c) => Date.parse(c.created_at) + state.searchLagMs <= state.now);
		const matched = indexed.filter((c) => tests.every((test) => test(c))).sort((a, b) => a.id.localeCompare(b.id));
		send(response, 200, { result: matched.slice(0, 50).map(publicContact), contact_count: matched.length, _metadata: { self: `${base}/v3/marketing/contacts/search` } });
	}

	function sampleOf(listId: string): FakeContact[] {
		return [...state.contacts.values()]
			.filter((c) => c.list_ids.includes(listId))
			.sort((a, b) => (state.added.get(`${listId} ${b.id}`) ?? 0) - (state.added.get(`${listId} ${a.id}`) ?? 0))
			.slice(0, 50);
	}

	function list(response: ServerResponse, id: string, query: URLSearchParams) {
		if (forbidden(response, 'read')) return;
		const found = state.lists.get(id);
		if (!found) return send(response, 404, errors(`list ${id} not found`));
		send(response, 200, {
			id: found.id,
			name: found.name,
			contact_count: [...state.contacts.values()].filter((c) => c.list_ids.includes(id)).length,
			_metadata: { self: `${base}/v3/marketing/lists/${id}` },
			...(query.get('contact_sample') === 'true' ? { contact_sample: sampleOf(id).map(publicContact) } : {}),
		});
	}

	function segment(response: ServerResponse, id: string, query: URLSearchParams) {
		if (forbidden(response, 'read')) return;
		const found = state.segments.get(id);
		if (!found) return send(response, 404, errors(`segment ${id} not found`));
		const contacts = [...state.contacts.values()].filter((c) => c.segment_ids.includes(id));
		send(response, 200, {
			id: found.id,
			name: found.name,
			query_dsl: `SELECT contact_id, updated_at FROM contact_data WHERE CONTAINS(segment_ids, '${id}')`,
			contacts_count: contacts.length,
			contacts_sample: query.get('contacts_sample') === 'false' ? [] : contacts.slice(0, 50).map(publicContact),
			created_at: '2024-01-01T00:00:00Z',
			updated_at: '2024-01-01T00:00:00Z',
			sample_updated_at: '2024-01-01T00:00:00Z',
			next_sample_update: '2024-01-01T01:00:00Z',
			parent_list_ids: [],
			query_version: '2',
			status: { query_validation: 'VALID' },
		});
	}

	function suppress(response: ServerResponse, body: unknown) {
		if (forbidden(response, 'unsubscribe')) return;
		const emails = ((body ?? {}) as { recipient_emails?: unknown }).recipient_emails;
		if (!Array.isArray(emails)) return send(response, 400, errors('recipient_emails is required', 'recipient_emails'));
		for (const email of emails) {
			if (typeof email !== 'string' || !plausible(email)) return send(response, 400, errors(`${String(email)} is not a valid email address`, 'recipient_emails'));
		}
		const added: string[] = [];
		for (const email of emails as string[]) {
			const key = email.toLowerCase();
			if (state.globalUnsubscribes.has(key)) continue;
			state.globalUnsubscribes.set(key, Math.floor(Date.now() / 1000));
			added.push(key);
		}
		send(response, 201, { recipient_emails: added });
	}

	function unsubscribes(response: ServerResponse, query: URLSearchParams) {
		if (forbidden(response, 'read')) return;
		const limit = Math.min(500, Number(query.get('limit') ?? 500));
		const offset = Number(query.get('offset') ?? 0);
		const all = [...state.globalUnsubscribes.entries()].sort((a, b) => a[0].localeCompare(b[0]));
		send(
			response,
			200,
			all.slice(offset, offset + limit).map(([email, created]) => ({ email, created })),
		);
	}

	async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const url = new URL(request.url ?? '/', base);
		const body = await readBody(request);
		const method = request.method ?? 'GET';
		const path = url.pathname;
		requests.push({ method, path, query: Object.fromEntries(url.searchParams), body, authorization: request.headers.authorization !== undefined });

		const file = /^\/exports\/([^/]+)\/contacts_1\.csv\.gzip$/.exec(path);
		if (file && method === 'GET') return download(response, file[1], url.searchParams);
		if (!path.startsWith('/v3/')) return send(response, 404, errors('not found'));
		if (request.headers.authorization !== `Bearer ${state.apiKey}`) return send(response, 401, errors('authorization required'));

		const route = `${method} ${path}`;
		if (route === 'GET /v3/scopes') return send(response, 200, { scopes: state.scopes });
		if (route === 'GET /v3/marketing/lists') return lists(response, url.searchParams);
		if (route === 'GET /v3/marketing/segments/2.0') return segments(response);
		if (route === 'POST /v3/marketing/contacts/exports') return createExport(response, body);
		if (route === 'POST /v3/marketing/contacts/search/emails') return searchEmails(response, body);
		if (route === 'POST /v3/marketing/contacts/search') return search(response, body);
		const oneList = /^GET \/v3\/marketing\/lists\/([^/]+)$/.exec(route);
		if (oneList) return list(response, decodeURIComponent(oneList[1]), url.searchParams);
		const oneSegment = /^GET \/v3\/marketing\/segments\/2\.0\/([^/]+)$/.exec(route);
		if (oneSegment) return segment(response, decodeURIComponent(oneSegment[1]), url.searchParams);
		if (route === 'POST /v3/marketing/contacts/batch') return batch(response, body);
		if (route === 'DELETE /v3/marketing/contacts') return deleteContacts(response, url.searchParams);
		if (route === 'PUT /v3/marketing/contacts') return upsert(response, body);
		if (route === 'GET /v3/marketing/field_definitions') return fieldDefinitions(response);
		if (route === 'POST /v3/marketing/field_definitions') return createField(response, body);
		if (route === 'POST /v3/asm/suppressions/global') return suppress(response, body);
		if (route === 'GET /v3/suppression/unsubscribes') return unsubscribes(response, url.searchParams);
		const exportJob = /^GET \/v3\/marketing\/contacts\/exports\/([^/]+)$/.exec(route);
		if (exportJob) return exportStatus(response, decodeURIComponent(exportJob[1]));
		const importJob = /^GET \/v3\/marketing\/contacts\/imports\/([^/]+)$/.exec(route);
		if (importJob) return jobStatus(response, decodeURIComponent(importJob[1]));
		send(response, 404, errors('not found'));
	}

	const server = createServer((request, response) => {
		handle(request, response).catch((error: unknown) => send(response, 500, errors(String(error))));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return {
		url: base,
		state,
		requests,
		addContact(listIds, fields) {
			const at = new Date(state.now).toISOString();
			const contact: FakeContact = { id: randomUUID(), first_name: '', last_name: '', city: '', phone_number: '', segment_ids: [], custom_fields: {}, created_at: at, updated_at: at, ...fields, list_ids: [...listIds] };
			state.contacts.set(contact.id, contact);
			for (const listId of listIds) attach(listId, contact.id);
			return contact;
		},
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.close((error) => (error ? reject(error) : resolve()));
				server.closeAllConnections();
			}),
	};
}
