// The sandbox platform, and the tests' fake: a stateful fake of the parts of Mailchimp's Marketing API 3.0 the adapter uses, on loopback:
// audiences and their members (read with the time filters and sorting, added one at a "now" that
// a later read filters on), batch subscribe/unsubscribe, member archive and permanent delete,
// tags (static segments: listed, created, their members read, members added in batches),
// batch operations (queued, finished after a few polls, results as a gzipped tar at a
// "pre-signed" URL), /ping for the credential test, the OAuth2 metadata endpoint, and a token
// endpoint that refreshes an expired access token. Auth is enforced (HTTP basic with the API key
// as password, or a Bearer token); writes change the state, so a later read shows them.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface FakeMailchimpMember {
	id: string;
	email_address: string;
	unique_email_id: string;
	contact_id: string;
	full_name: string;
	status: 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived';
	email_type: string;
	merge_fields: Record<string, unknown>;
	tags: Array<{ id: number; name: string }>;
	vip: boolean;
	language: string;
	timestamp_signup: string;
	timestamp_opt: string;
	last_changed: string;
	list_id: string;
	location: { latitude: number; longitude: number; country_code: string };
	_links: Array<{ rel: string; href: string; method: string }>;
}

export interface FakeMailchimpSegment {
	id: number;
	name: string;
	type: 'static';
	created_at: string;
	updated_at: string;
}

export interface FakeMailchimpAudience {
	id: string;
	name: string;
	/** By subscriber hash. */
	members: Map<string, FakeMailchimpMember>;
	/** Tags, which Mailchimp keeps as static segments; a member carries one when its `tags` name its id. */
	segments: Map<number, FakeMailchimpSegment>;
}

interface FakeBatch {
	id: string;
	operations: Array<{ method: string; path: string; params?: Record<string, unknown>; body?: string; operation_id?: string }>;
	polls: number;
	submittedAt: string;
	results?: Array<{ status_code: number; operation_id?: string; response: string }>;
}

export interface FakeMailchimpState {
	apiKey: string;
	accessToken: string;
	refreshToken: string;
	/** The access token was issued so long ago that it no longer works: only a refresh helps. */
	tokenExpired: boolean;
	audiences: Map<string, FakeMailchimpAudience>;
	batches: Map<string, FakeBatch>;
	/** Polls of GET /batches/{id} that still answer "pending"/"started" before it is finished. */
	pollsToFinish: number;
	/** Like Amazon S3, refuse a download of a pre-signed URL that also carries an Authorization header. */
	archiveRejectsAuthorization: boolean;
	/** Members per JSON file in a results archive. */
	resultsPerFile: number;
	/** Users without the right to change contacts: writes answer 403. */
	readOnly: boolean;
	/** Lower-cased addresses the segment batch add reports as errors (a per-member failure). */
	untaggable: Set<string>;
}

export interface FakeMailchimpRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	authorized: boolean;
	hasAuthorization: boolean;
	/** The raw request body, when there was one (what a clean-up wrote). */
	body?: string;
}

export interface FakeMailchimpSeed {
	/** Where to listen (default 127.0.0.1, a free port). */
	host?: string;
	port?: number;
	apiKey?: string;
	accessToken?: string;
	refreshToken?: string;
	/** Path of the OAuth2 token endpoint (Mailchimp's is /oauth2/token on login.mailchimp.com). */
	tokenPath?: string;
	pollsToFinish?: number;
	audiences?: Array<{ id: string; name: string; members: Array<Partial<FakeMailchimpMember> & { email_address: string }> }>;
}

export interface FakeMailchimp {
	/** The API's base URL (…/3.0), for the credential's Base URL Override. */
	url: string;
	/** Scheme, host and port: where the metadata, token and results URLs live. */
	origin: string;
	state: FakeMailchimpState;
	requests: FakeMailchimpRequest[];
	close(): Promise<void>;
}

export const fakeSubscriberHash = (email: string) => createHash('md5').update(email.toLowerCase()).digest('hex');

interface Reply {
	status: number;
	body?: unknown;
}

const problem = (status: number, title: string, detail: string): Reply => ({
	status,
	body: { type: 'https://mailchimp.com/developer/marketing/docs/errors/', title, status, detail, instance: randomBytes(8).toString('hex') },
});

const notFound = () => problem(404, 'Resource Not Found', 'The requested resource could not be found.');

/** Mailchimp's `fields`: keep only the named (dotted) paths. */
function pick(value: unknown, paths: string[][]): unknown {
	if (Array.isArray(value)) return value.map((v) => pick(v, paths));
	if (!value || typeof value !== 'object') return value;
	const out: Record<string, unknown> = {};
	for (const [key, inner] of Object.entries(value)) {
		const matching = paths.filter((p) => p[0] === key);
		if (matching.length === 0) continue;
		out[key] = matching.some((p) => p.length === 1) ? inner : pick(inner, matching.map((p) => p.slice(1)));
	}
	return out;
}

/** A POSIX ustar archive of the given files. */
export function tarArchive(files: Array<{ name: string; data?: Buffer; directory?: boolean }>): Buffer {
	const blocks: Buffer[] = [];
	for (const file of files) {
		const data = file.data ?? Buffer.alloc(0);
		const header = Buffer.alloc(512);
		header.write(file.name, 0, 100, 'utf8');
		header.write(file.directory ? '0000755\0' : '0000644\0', 100, 'latin1');
		header.write('0000000\0', 108, 'latin1');
		header.write('0000000\0', 116, 'latin1');
		header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
		header.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
		header.write('        ', 148, 'latin1');
		header.write(file.directory ? '5' : '0', 156, 'latin1');
		header.write('ustar\0', 257, 'latin1');
		header.write('00', 263, 'latin1');
		let sum = 0;
		for (const byte of header) sum += byte;
		header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
		blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
	}
	blocks.push(Buffer.alloc(1024));
	return Buffer.concat(blocks);
}

/** GET /lists/{list_id}/members time filters: query parameter, member field, and "after" (else "before"). */
const TIME_FILTERS = [
	['since_timestamp_opt', 'timestamp_opt', true],
	['before_timestamp_opt', 'timestamp_opt', false],
	['since_last_changed', 'last_changed', true],
	['before_last_changed', 'last_changed', false],
] as const;

const SORT_FIELDS = ['timestamp_opt', 'timestamp_signup', 'last_changed'] as const;
type SortField = (typeof SORT_FIELDS)[number];

/** The statuses POST /lists/{list_id}/members takes (Add_List_Members_1). */
const ADDABLE_STATUSES = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional'];

/** Mailchimp's way of writing a time: whole seconds, "+00:00". */
const mailchimpTime = (date: Date) => date.toISOString().replace(/\.\d+Z$/, '+00:00');

function newMember(listId: string, seed: Partial<FakeMailchimpMember> & { email_address: string }, n: number): FakeMailchimpMember {
	const id = fakeSubscriberHash(seed.email_address);
	const time = new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString().replace('.000Z', '+00:00');
	return {
		id,
		unique_email_id: randomBytes(5).toString('hex'),
		contact_id: randomBytes(16).toString('hex'),
		full_name: '',
		status: 'subscribed',
		email_type: 'html',
		merge_fields: {},
		tags: [],
		vip: false,
		language: '',
		timestamp_signup: time,
		timestamp_opt: time,
		last_changed: time,
		list_id: listId,
		location: { latitude: 0, longitude: 0, country_code: '' },
		_links: [{ rel: 'self', href: `https://us0.api.mailchimp.com/3.0/lists/${listId}/members/${id}`, method: 'GET' }],
		...seed,
	};
}

async function readBody(request: IncomingMessage): Promise<string> {
	let text = '';
	for await (const chunk of request) text += String(chunk);
	return text;
}

export async function startFakeMailchimp(seed: FakeMailchimpSeed = {}): Promise<FakeMailchimp> {
	const tokenPath = seed.tokenPath ?? '/oauth2/token';
	const state: FakeMailchimpState = {
		apiKey: seed.apiKey ?? `${randomBytes(16).toString('hex')}-us0`,
		accessToken: seed.accessToken ?? randomBytes(16).toString('hex'),
		refreshToken: seed.refreshToken ?? randomBytes(16).toString('hex'),
		tokenExpired: false,
		audiences: new Map(),
		batches: new Map(),
		pollsToFinish: seed.pollsToFinish ?? 2,
		archiveRejectsAuthorization: false,
		resultsPerFile: 500,
		readOnly: false,
		untaggable: new Set(),
	};
	let n = 0;
	let nextSegmentId = 1000;
	const seedTime = new Date(Date.UTC(2024, 0, 1)).toISOString().replace('.000Z', '+00:00');
	for (const audience of seed.audiences ?? []) {
		const members = new Map<string, FakeMailchimpMember>();
		const segments = new Map<number, FakeMailchimpSegment>();
		for (const m of audience.members) {
			const member = newMember(audience.id, m, n++);
			members.set(member.id, member);
			// The seeded members' tags are the audience's tags.
			for (const t of member.tags) if (!segments.has(t.id)) segments.set(t.id, { id: t.id, name: t.name, type: 'static', created_at: seedTime, updated_at: seedTime });
		}
		state.audiences.set(audience.id, { id: audience.id, name: audience.name, members, segments });
	}
	const requests: FakeMailchimpRequest[] = [];
	let origin = '';

	const findMember = (audience: FakeMailchimpAudience, key: string) =>
		audience.members.get(key) ??
		audience.members.get(fakeSubscriberHash(key)) ??
		[...audience.members.values()].find((m) => m.contact_id === key);

	const segmentView = (audience: FakeMailchimpAudience, segment: FakeMailchimpSegment) => ({
		...segment,
		// "The number of active subscribers currently included in the segment."
		member_count: [...audience.members.values()].filter((m) => m.status === 'subscribed' && m.tags.some((t) => t.id === segment.id)).length,
		list_id: audience.id,
		_links: [],
	});

	const touch = (member: FakeMailchimpMember) => {
		member.last_changed = new Date().toISOString().replace(/\.\d+Z$/, '+00:00');
	};

	const batchView = (batch: FakeBatch) => {
		const finished = batch.results !== undefined;
		const errored = batch.results?.filter((r) => r.status_code >= 400).length ?? 0;
		return {
			id: batch.id,
			status: finished ? 'finished' : batch.polls === 0 ? 'pending' : 'started',
			total_operations: batch.operations.length,
			finished_operations: finished ? batch.operations.length : 0,
			errored_operations: errored,
			submitted_at: batch.submittedAt,
			completed_at: finished ? new Date().toISOString() : '',
			response_body_url: finished ? `${origin}/batch-results/${batch.id}.tar.gz?AWSAccessKeyId=FAKE&Expires=9999999999&Signature=${batch.id}` : '',
		};
	};

	/** The Marketing API below /3.0, for requests and for batch operations alike. */
	function api(method: string, path: string, query: Record<string, string>, body: unknown): Reply {
		const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
		const writes = method !== 'GET';
		if (writes && state.readOnly && parts[0] === 'lists') {
			return problem(403, 'Forbidden', 'You don’t have permission to access this resource. Your user role may not allow changes to contacts.');
		}
		if ((parts.length === 0 || parts[0] === 'ping') && method === 'GET') return { status: 200, body: { health_status: 'Everything’s Chimpy!' } };

		if (parts[0] === 'lists' && parts.length === 1 && method === 'GET') {
			const count = Number(query.count ?? 10);
			const offset = Number(query.offset ?? 0);
			if (count > 1000) return problem(400, 'Invalid Resource', 'count: must be at most 1000');
			const all = [...state.audiences.values()].map((a) => ({
				id: a.id,
				name: a.name,
				stats: { member_count: [...a.members.values()].filter((m) => m.status === 'subscribed').length, unsubscribe_count: 0, cleaned_count: 0 },
				_links: [],
			}));
			return { status: 200, body: { lists: all.slice(offset, offset + count), total_items: all.length, _links: [] } };
		}

		const audience = parts[0] === 'lists' ? state.audiences.get(parts[1]) : undefined;
		if (parts[0] === 'lists' && parts.length >= 2 && !audience) return notFound();

		if (audience && parts.length === 2 && method === 'GET') return { status: 200, body: { id: audience.id, name: audience.name } };

		if (audience && parts.length === 2 && method === 'POST') {
			const input = body as { members?: Array<{ email_address?: string; status?: string }>; update_existing?: boolean };
			if (!Array.isArray(input?.members)) return problem(400, 'Invalid Resource', 'members: required');
			if (input.members.length > 500) return problem(400, 'Invalid Resource', 'members: at most 500 per request');
			const result = { new_members: [] as FakeMailchimpMember[], updated_members: [] as FakeMailchimpMember[], errors: [] as unknown[], total_created: 0, total_updated: 0, error_count: 0 };
			const seen = new Set<string>();
			for (const entry of input.members) {
				const email = String(entry.email_address ?? '');
				if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
					result.errors.push({ email_address: email, error: `${email} looks fake or invalid, please enter a real email address.`, error_code: 'ERROR_GENERIC' });
					continue;
				}
				if (seen.has(email.toLowerCase())) {
					result.errors.push({ email_address: email, error: `${email} appears more than once in this request.`, error_code: 'ERROR_GENERIC' });
					continue;
				}
				seen.add(email.toLowerCase());
				const member = findMember(audience, email);
				const status = entry.status as FakeMailchimpMember['status'];
				if (member) {
					if (!input.update_existing) {
						result.errors.push({ email_address: email, error: `${email} is already a list member.`, error_code: 'ERROR_CONTACT_EXISTS' });
					} else if (member.status === 'cleaned' && status !== 'cleaned') {
						result.errors.push({ email_address: email, error: `${email} was permanently deleted or bounced and cannot be changed.`, error_code: 'ERROR_GENERIC' });
					} else {
						member.status = status;
						touch(member);
						result.updated_members.push(member);
					}
				} else {
					const created = newMember(audience.id, { email_address: email, status }, n++);
					audience.members.set(created.id, created);
					result.new_members.push(created);
				}
			}
			result.total_created = result.new_members.length;
			result.total_updated = result.updated_members.length;
			result.error_count = result.errors.length;
			return { status: 200, body: result };
		}

		if (audience && parts[2] === 'segments' && parts.length === 3 && method === 'GET') {
			const count = Number(query.count ?? 10);
			const offset = Number(query.offset ?? 0);
			if (count > 1000) return problem(400, 'Invalid Resource', 'count: must be at most 1000');
			const all = [...audience.segments.values()].filter((s) => !query.type || s.type === query.type).map((s) => segmentView(audience, s));
			return { status: 200, body: { segments: all.slice(offset, offset + count), list_id: audience.id, total_items: all.length, _links: [] } };
		}

		if (audience && parts[2] === 'segments' && parts.length === 3 && method === 'POST') {
			const input = body as { name?: unknown; static_segment?: unknown; options?: unknown };
			const name = typeof input?.name === 'string' ? input.name.trim() : '';
			if (!name) return problem(400, 'Invalid Resource', 'name: required');
			if (input.options !== undefined) return problem(400, 'Invalid Resource', 'This fake knows static segments (tags) only.');
			if ([...audience.segments.values()].some((s) => s.name.toLowerCase() === name.toLowerCase())) {
				return problem(400, 'Invalid Resource', `A tag or segment named "${name}" already exists.`);
			}
			const at = new Date().toISOString().replace(/\.\d+Z$/, '+00:00');
			const segment: FakeMailchimpSegment = { id: nextSegmentId++, name, type: 'static', created_at: at, updated_at: at };
			audience.segments.set(segment.id, segment);
			for (const email of Array.isArray(input.static_segment) ? input.static_segment : []) {
				const member = findMember(audience, String(email));
				if (member && member.status !== 'archived') member.tags.push({ id: segment.id, name: segment.name });
			}
			return { status: 200, body: segmentView(audience, segment) };
		}

		const segment = audience && parts[2] === 'segments' && parts.length >= 4 ? audience.segments.get(Number(parts[3])) : undefined;
		if (audience && parts[2] === 'segments' && parts.length >= 4 && !segment) return notFound();

		if (audience && segment && parts.length === 4 && method === 'POST') {
			const input = body as { members_to_add?: unknown; members_to_remove?: unknown };
			const toAdd = Array.isArray(input?.members_to_add) ? input.members_to_add.map(String) : [];
			const toRemove = Array.isArray(input?.members_to_remove) ? input.members_to_remove.map(String) : [];
			if (toAdd.length > 500 || toRemove.length > 500) return problem(400, 'Invalid Resource', 'A maximum of 500 members can be sent.');
			const result = { members_added: [] as FakeMailchimpMember[], members_removed: [] as FakeMailchimpMember[], errors: [] as unknown[], total_added: 0, total_removed: 0, error_count: 0 };
			const refused: string[] = [];
			for (const email of toAdd) {
				const member = findMember(audience, email);
				// "Any emails provided that are not present on the list will be ignored"; so is a member
				// that already carries the tag (it is not added again).
				if (!member || member.status === 'archived' || member.tags.some((t) => t.id === segment.id)) continue;
				if (state.untaggable.has(email.toLowerCase())) {
					refused.push(email);
					continue;
				}
				member.tags.push({ id: segment.id, name: segment.name });
				result.members_added.push(member);
			}
			for (const email of toRemove) {
				const member = findMember(audience, email);
				if (!member || !member.tags.some((t) => t.id === segment.id)) continue;
				member.tags = member.tags.filter((t) => t.id !== segment.id);
				result.members_removed.push(member);
			}
			if (refused.length > 0) result.errors.push({ email_addresses: refused, error: 'This contact cannot be tagged (fake: untaggable).' });
			result.total_added = result.members_added.length;
			result.total_removed = result.members_removed.length;
			result.error_count = refused.length;
			return { status: 200, body: result };
		}

		if (audience && segment && parts.length === 5 && parts[4] === 'members' && method === 'GET') {
			const count = Number(query.count ?? 10);
			const offset = Number(query.offset ?? 0);
			if (count > 1000) return problem(400, 'Invalid Resource', 'count: must be at most 1000');
			const hidden = new Set(['archived', ...(query.include_cleaned === 'true' ? [] : ['cleaned']), ...(query.include_unsubscribed === 'true' ? [] : ['unsubscribed']), ...(query.include_transactional === 'true' ? [] : ['transactional'])]);
			const all = [...audience.members.values()].filter((m) => !hidden.has(m.status) && m.tags.some((t) => t.id === segment.id));
			return { status: 200, body: { members: all.slice(offset, offset + count), total_items: all.length, _links: [] } };
		}

		if (audience && parts[2] === 'members' && parts.length === 3 && method === 'GET') {
			const count = Number(query.count ?? 10);
			const offset = Number(query.offset ?? 0);
			if (count > 1000) return problem(400, 'Invalid Resource', 'count: must be at most 1000');
			const status = query.status;
			let all = [...audience.members.values()].filter((m) => (status ? m.status === status : m.status !== 'archived'));
			// The time filters: "after" and "before" the given instant, strictly; a member without the time is out.
			for (const [parameter, field, after] of TIME_FILTERS) {
				if (query[parameter] === undefined) continue;
				const bound = Date.parse(query[parameter]);
				if (Number.isNaN(bound)) return problem(400, 'Invalid Resource', `${parameter}: "${query[parameter]}" is not an ISO 8601 time.`);
				all = all.filter((m) => {
					const time = Date.parse(m[field]);
					return !Number.isNaN(time) && (after ? time > bound : time < bound);
				});
			}
			if (query.sort_field !== undefined || query.sort_dir !== undefined) {
				const field = query.sort_field as SortField | undefined;
				if (field !== undefined && !SORT_FIELDS.includes(field)) return problem(400, 'Invalid Resource', `sort_field: must be one of ${SORT_FIELDS.join(', ')}.`);
				if (query.sort_dir !== undefined && query.sort_dir !== 'ASC' && query.sort_dir !== 'DESC') return problem(400, 'Invalid Resource', 'sort_dir: must be ASC or DESC.');
				// A stable sort; a member without the time sorts as the oldest.
				const time = (m: FakeMailchimpMember) => Date.parse(m[field ?? 'timestamp_opt']) || 0;
				const sign = query.sort_dir === 'DESC' ? -1 : 1;
				all = all.sort((a, b) => sign * (time(a) - time(b)));
			}
			return { status: 200, body: { members: all.slice(offset, offset + count), list_id: audience.id, total_items: all.length, _links: [] } };
		}

		if (audience && parts[2] === 'members' && parts.length === 3 && method === 'POST') {
			const input = body as (Partial<Record<'email_address' | 'status' | 'timestamp_signup' | 'timestamp_opt', unknown>> & { merge_fields?: unknown }) | undefined;
			const email = typeof input?.email_address === 'string' ? input.email_address.trim() : '';
			if (!email) return problem(400, 'Invalid Resource', 'email_address: required');
			if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return problem(400, 'Invalid Resource', `${email} looks fake or invalid, please enter a real email address.`);
			if (typeof input?.status !== 'string' || !ADDABLE_STATUSES.includes(input.status)) {
				return problem(400, 'Invalid Resource', `status: must be one of ${ADDABLE_STATUSES.join(', ')}.`);
			}
			// An archived member is no longer "there": adding it again brings it back (as Mailchimp does).
			const existing = findMember(audience, email);
			if (existing && existing.status !== 'archived') {
				return problem(400, 'Member Exists', `${email} is already a list member. Use PUT to insert or update list members.`);
			}
			const at = mailchimpTime(new Date());
			const given = (value: unknown) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? mailchimpTime(new Date(value)) : undefined);
			const created = newMember(audience.id, { email_address: email, status: input.status as FakeMailchimpMember['status'] }, n++);
			created.timestamp_signup = given(input.timestamp_signup) ?? at;
			created.timestamp_opt = given(input.timestamp_opt) ?? at;
			created.last_changed = at;
			if (input.merge_fields && typeof input.merge_fields === 'object') created.merge_fields = { ...(input.merge_fields as Record<string, unknown>) };
			if (existing) created.contact_id = existing.contact_id;
			audience.members.delete(created.id);
			audience.members.set(created.id, created);
			return { status: 200, body: created };
		}

		if (audience && parts[2] === 'members' && parts.length >= 4) {
			const member = findMember(audience, parts[3]);
			if (parts.length === 4 && method === 'GET') return member ? { status: 200, body: member } : notFound();
			if (parts.length === 4 && method === 'DELETE') {
				// Archiving keeps the member, readable with status "archived"; archiving it again is a 404.
				if (!member || member.status === 'archived') return notFound();
				member.status = 'archived';
				touch(member);
				return { status: 204 };
			}
			if (parts.length === 6 && parts[4] === 'actions' && parts[5] === 'delete-permanent' && method === 'POST') {
				if (!member) return notFound();
				audience.members.delete(member.id);
				return { status: 204 };
			}
		}

		if (parts[0] === 'batches' && parts.length === 1 && method === 'POST') {
			const operations = (body as { operations?: FakeBatch['operations'] })?.operations;
			if (!Array.isArray(operations)) return problem(400, 'Invalid Resource', 'operations: required');
			const batch: FakeBatch = { id: randomBytes(5).toString('hex'), operations, polls: 0, submittedAt: new Date().toISOString() };
			state.batches.set(batch.id, batch);
			return { status: 200, body: batchView(batch) };
		}

		if (parts[0] === 'batches' && parts.length === 2 && method === 'GET') {
			const batch = state.batches.get(parts[1]);
			if (!batch) return notFound();
			batch.polls++;
			if (!batch.results && batch.polls >= state.pollsToFinish) {
				batch.results = batch.operations.map((op) => {
					const opPath = op.path.replace(/^\/3\.0/, '');
					const params = Object.fromEntries(Object.entries(op.params ?? {}).map(([k, v]) => [k, String(v)]));
					const reply = api(op.method, opPath, params, op.body ? JSON.parse(op.body) : undefined);
					const shaped = reply.body !== undefined && params.fields ? pick(reply.body, params.fields.split(',').map((f) => f.split('.'))) : reply.body;
					return { status_code: reply.status, operation_id: op.operation_id, response: shaped === undefined ? '' : JSON.stringify(shaped) };
				});
			}
			return { status: 200, body: batchView(batch) };
		}

		return notFound();
	}

	function send(response: ServerResponse, reply: Reply, contentType = 'application/json; charset=utf-8'): void {
		if (reply.body === undefined) {
			response.writeHead(reply.status).end();
			return;
		}
		const problemType = reply.status >= 400 ? 'application/problem+json; charset=utf-8' : contentType;
		response.writeHead(reply.status, { 'content-type': problemType }).end(JSON.stringify(reply.body));
	}

	const server = createServer((request, response) => {
		void (async () => {
			const url = new URL(request.url ?? '/', origin);
			const query = Object.fromEntries(url.searchParams);
			const authorization = request.headers.authorization ?? '';
			const basic = /^Basic (.+)$/i.exec(authorization);
			const password = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
			const bearer = /^(?:Bearer|OAuth) (.+)$/i.exec(authorization)?.[1];
			const authorized = password === state.apiKey || (bearer === state.accessToken && !state.tokenExpired);
			const text = await readBody(request);
			requests.push({ method: request.method ?? 'GET', path: url.pathname, query, authorized, hasAuthorization: authorization !== '', ...(text ? { body: text } : {}) });

			if (url.pathname.startsWith('/batch-results/')) {
				// A pre-signed download: the signature in the URL is the authorization.
				if (state.archiveRejectsAuthorization && authorization) {
					response
						.writeHead(400, { 'content-type': 'application/xml' })
						.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
					return;
				}
				const batch = state.batches.get(url.pathname.slice('/batch-results/'.length).replace(/\.tar\.gz$/, ''));
				if (!batch?.results) {
					response.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
					return;
				}
				const files: Array<{ name: string; data?: Buffer; directory?: boolean }> = [{ name: `${batch.id}-response/`, directory: true }];
				for (let i = 0; i < batch.results.length; i += state.resultsPerFile) {
					files.push({ name: `${batch.id}-response/${randomBytes(6).toString('hex')}.json`, data: Buffer.from(JSON.stringify(batch.results.slice(i, i + state.resultsPerFile))) });
				}
				response.writeHead(200, { 'content-type': 'application/x-gzip' }).end(gzipSync(tarArchive(files)));
				return;
			}

			if (url.pathname === tokenPath && request.method === 'POST') {
				const form = request.headers['content-type']?.includes('json') ? (JSON.parse(text || '{}') as Record<string, string>) : Object.fromEntries(new URLSearchParams(text));
				if (form.grant_type === 'refresh_token' && form.refresh_token === state.refreshToken) {
					state.accessToken = randomBytes(16).toString('hex');
					state.tokenExpired = false;
					send(response, { status: 200, body: { access_token: state.accessToken, refresh_token: state.refreshToken, token_type: 'bearer', expires_in: 3600, scope: null } });
				} else send(response, { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid refresh token' } });
				return;
			}

			if (!authorized) {
				const expired = bearer !== undefined && bearer === state.accessToken && state.tokenExpired;
				send(response, problem(401, 'API Key Invalid', expired ? 'The access token has expired.' : 'Your API key may be invalid, or you’ve attempted to access the wrong datacenter.'));
				return;
			}

			if (url.pathname === '/oauth2/metadata' && request.method === 'GET') {
				send(response, { status: 200, body: { dc: 'us0', role: 'owner', accountname: 'Fake Chimp', api_endpoint: origin, login_url: `${origin}/login` } });
				return;
			}

			if (!url.pathname.startsWith('/3.0')) {
				send(response, notFound());
				return;
			}
			let body: unknown;
			try {
				body = text ? JSON.parse(text) : undefined;
			} catch {
				send(response, problem(400, 'JSON Parse Exception', 'We encountered an unspecified JSON parsing error.'));
				return;
			}
			const reply = api(request.method ?? 'GET', url.pathname.slice('/3.0'.length), query, body);
			const shaped = reply.status < 300 && reply.body !== undefined && query.fields ? { ...reply, body: pick(reply.body, query.fields.split(',').map((f) => f.split('.'))) } : reply;
			send(response, shaped);
		})().catch((error: unknown) => {
			response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
		});
	});

	const host = seed.host ?? '127.0.0.1';
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(seed.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;
	const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
	origin = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
	return {
		url: `${origin}/3.0`,
		origin,
		state,
		requests,
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((error) => (error ? reject(error) : resolve()));
			}),
	};
}
