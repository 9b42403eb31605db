// Mailchimp Marketing API 3.0 (spec: ../shared/specs/mailchimp/marketing_3.0.55.yaml). Lists are
// audiences; a member's id is its subscriber hash (MD5 of the lower-cased address). Unsubscribing
// is audience-scoped. Delete archives a member (restorable) unless `permanent` asks for Mailchimp's
// permanent delete. Bulk work goes through the batch-subscribe endpoint (500 members, synchronous,
// per-member errors) and the batch operations endpoint (asynchronous: submit, poll, then read each
// operation's result from a gzipped tar archive). Tag writes a Mailchimp tag, which is a static
// segment of the audience (spec: "Static segments are now known as tags"): found by name or created
// once, then 500 members a request through the segment's batch add endpoint (synchronous, per-member
// errors).
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';

import { ApiClient, PlatformApiError, type ApiRequest } from '../http/client';
import { paginate } from '../http/paginate';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../http/retry';
import type { HttpResponse, Transport } from '../http/types';
import type { ContactRef, CredentialFields, Member, MemberStatus, Platform, PlatformList, WriteOutcome } from './types';

const NAME = 'Mailchimp';
/** Where an OAuth2 token tells which data centre its account lives in (Mailchimp's OAuth2 guide). */
export const MAILCHIMP_METADATA_URL = 'https://login.mailchimp.com/oauth2/metadata';

/** `count` maximum of GET /lists and GET /lists/{list_id}/members (spec: "Maximum value is 1000"). */
const PAGE_SIZE = 1000;
/** POST /lists/{list_id}: "Up to 500 members may be added or updated with each API call" (spec). */
const SUBSCRIBE_BATCH = 500;
/**
 * Operations per POST /batches. Mailchimp documents no cap per batch; 1,000 keeps one results
 * archive small and makes DESIGN.md §4's "1,000 deletes = 1 batch submission".
 */
const OPERATIONS_PER_BATCH = 1000;
/** Up to this many contacts are read one by one: a batch costs at least 3 requests (submit, poll, archive). */
const DIRECT_READ_MAX = 3;
/** POST /lists/{list_id}/segments/{segment_id}, members_to_add: "A maximum of 500 members can be sent" (spec). */
const TAG_BATCH = 500;
/** What a state read asks for; a tag write also wants the member's tags. */
const STATE_FIELDS = 'id,email_address,status';
const TAG_STATE_FIELDS = `${STATE_FIELDS},tags`;

/** Fields kept of a member: enough to act on and to show, without the heavy `_links`, stats and location. */
const MEMBER_FIELDS = [
	'id',
	'email_address',
	'unique_email_id',
	'contact_id',
	'full_name',
	'status',
	'email_type',
	'merge_fields',
	'tags',
	'vip',
	'language',
	'timestamp_signup',
	'timestamp_opt',
	'last_changed',
	'list_id',
];

const MAILCHIMP_STATUSES: Record<string, MemberStatus> = {
	subscribed: 'subscribed',
	unsubscribed: 'unsubscribed',
	cleaned: 'cleaned',
	pending: 'pending',
	transactional: 'transactional',
	archived: 'archived',
};

export interface MailchimpOptions {
	/** How to wait between polls of a batch (tests inject a no-op). */
	sleep?: (ms: number) => Promise<void>;
	/** Waits between polls; the last one repeats. */
	pollScheduleMs?: readonly number[];
	/** Give up on a batch after waiting this long in total. */
	maxPollWaitMs?: number;
}


// ---------------------------------------------------------------------------------------------
// Small helpers

function text(value: unknown): string | undefined {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Mailchimp's subscriber hash: MD5 of the lower-cased address. */
export function subscriberHash(email: string): string {
	return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}

function memberPath(listId: string, hash: string): string {
	return `/lists/${encodeURIComponent(listId)}/members/${encodeURIComponent(hash)}`;
}

/** "title: detail" of a Mailchimp problem document (or of an `errors` entry), when it has one. */
function problemText(body: unknown): string | undefined {
	if (!isRecord(body)) return text(body);
	const title = text(body.title);
	const detail = text(body.detail) ?? text(body.error);
	const fields = Array.isArray(body.errors)
		? body.errors
				.filter(isRecord)
				.map((e) => [text(e.field), text(e.message)].filter(Boolean).join(': '))
				.filter(Boolean)
		: [];
	const main = title && detail ? `${title}: ${detail}` : (title ?? detail);
	return [main, ...fields].filter(Boolean).join('; ') || undefined;
}

function failureDetail(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** A credential problem stops further writes: every later batch would fail the same way. */
function isCredentialFailure(error: unknown): boolean {
	return error instanceof PlatformApiError && (error.details.status === 401 || error.details.status === 403);
}

// ---------------------------------------------------------------------------------------------
// Reading members

/** What a member read asks for: the kept fields, and the total that tells whether a page follows. */
const MEMBER_QUERY_FIELDS = [...MEMBER_FIELDS.map((f) => `members.${f}`), 'total_items'].join(',');

/**
 * One page of GET /lists/{list_id}/members (1,000 members unless `count` says fewer), with the
 * offset of the next page when there is one. Every member read goes through here, so members are
 * the same whichever operation read them.
 */
async function readMemberPage(
	api: ApiClient,
	operation: string,
	listId: string,
	query: { offset: number } & Record<string, string | number | undefined>,
	count = PAGE_SIZE,
): Promise<{ members: Member[]; next?: number }> {
	const request: ApiRequest = { method: 'GET', path: `/lists/${encodeURIComponent(listId)}/members`, query: { count, ...query, fields: MEMBER_QUERY_FIELDS } };
	const body = await api.request<unknown>(operation, request);
	if (!isRecord(body) || !Array.isArray(body.members)) throw api.malformed(operation, request, 'no "members" array');
	const members = body.members.map((raw): Member => {
		if (!isRecord(raw) || typeof raw.email_address !== 'string' || typeof raw.id !== 'string') {
			throw api.malformed(operation, request, 'a member without an id or email address');
		}
		return { email: raw.email_address, contactId: raw.id, listId, platform: 'mailchimp', status: MAILCHIMP_STATUSES[String(raw.status)] ?? 'unknown', raw };
	});
	const next = query.offset + members.length;
	const total = typeof body.total_items === 'number' ? body.total_items : undefined;
	const more = members.length > 0 && (total === undefined ? members.length === count : next < total);
	return more ? { members, next } : { members };
}

/** The member with `joinedAt`: when it opted in, or, without that, when it signed up. */
function withJoinedAt(member: Member): Member {
	const raw = isRecord(member.raw) ? member.raw : {};
	const time = Date.parse(text(raw.timestamp_opt) ?? text(raw.timestamp_signup) ?? '');
	return Number.isNaN(time) ? member : { ...member, joinedAt: new Date(time).toISOString() };
}

/** Sorted by join time, oldest first (a stable sort: Mailchimp's order among equal times is kept). */
function oldestFirst(members: Member[]): Member[] {
	const time = (m: Member) => (m.joinedAt ? Date.parse(m.joinedAt) : 0);
	return members.sort((a, b) => time(a) - time(b));
}

/**
 * `since_timestamp_opt` for a poll from `since`: Mailchimp's times are whole seconds and its filter
 * says "after", so it is asked from the second before, which may bring a member of the previous
 * poll again (the caller drops it) but never loses one who joined at `since` itself.
 */
function optInSince(since: string): string {
	const time = Date.parse(since);
	if (Number.isNaN(time)) throw new RangeError(`${NAME}: “${since}” is not an ISO 8601 time (such as 2024-05-01T12:00:00Z) to read new members from.`);
	const second = Math.max(0, Math.floor(time / 1000) * 1000 - 1000);
	return new Date(second).toISOString().replace('.000Z', '+00:00');
}

// ---------------------------------------------------------------------------------------------
// Contacts: input refs resolved to subscriber hashes, deduplicated.

interface Target {
	/** The hash (or the contact id / address Mailchimp also accepts in member paths). */
	key: string;
	email?: string;
	refs: ContactRef[];
}

function resolveTargets(contacts: readonly ContactRef[], outcomes: Map<ContactRef, WriteOutcome>): Target[] {
	const byKey = new Map<string, Target>();
	for (const ref of contacts) {
		const email = text(ref.email);
		const key = text(ref.contactId) ?? (email ? subscriberHash(email) : undefined);
		if (!key) {
			outcomes.set(ref, { index: ref.index, outcome: 'skipped', detail: 'The item names no contact: it has neither a contact ID nor an email address.' });
			continue;
		}
		const target = byKey.get(key);
		if (target) {
			target.refs.push(ref);
			target.email ??= email;
		} else byKey.set(key, { key, email, refs: [ref] });
	}
	return [...byKey.values()];
}

function settle(outcomes: Map<ContactRef, WriteOutcome>, target: Target, outcome: WriteOutcome['outcome'], detail?: string, contactId?: string): void {
	for (const ref of target.refs) {
		const result: WriteOutcome = { index: ref.index, outcome };
		const id = contactId ?? (/^[0-9a-f]{32}$/.test(target.key) ? target.key : ref.contactId);
		if (id) result.contactId = id;
		const email = ref.email ?? target.email;
		if (email) result.email = email;
		if (detail) result.detail = detail;
		outcomes.set(ref, result);
	}
}

/** The tag's members, by subscriber hash and contact id, with their addresses. */
type Holders = Map<string, string | undefined>;

/** Whether the tag's members include this contact. */
function isHolder(holders: Holders, target: Target): boolean {
	return holders.has(target.key) || (target.email !== undefined && holders.has(subscriberHash(target.email)));
}

function inInputOrder(contacts: readonly ContactRef[], outcomes: Map<ContactRef, WriteOutcome>): WriteOutcome[] {
	return contacts.map(
		(ref) => outcomes.get(ref) ?? { index: ref.index, outcome: 'failed', detail: `${NAME} reported nothing for this contact.`, email: ref.email, contactId: ref.contactId },
	);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

// ---------------------------------------------------------------------------------------------
// Batch operations (POST /batches, GET /batches/{batch_id}, the results archive)

interface BatchOperation {
	method: 'GET' | 'POST' | 'DELETE';
	path: string;
	operation_id: string;
	params?: Record<string, string>;
}

interface OperationResult {
	status: number;
	body: unknown;
}

interface BatchRun {
	id: string;
	errored: number;
	/** Per operation id, when the archive was read. */
	results?: Map<string, OperationResult>;
	/** Why the archive could not be read, when it was needed and could not be. */
	unreadable?: string;
}

class BatchTimeoutError extends Error {
	override name = 'BatchTimeoutError';
}

/** Regular files of a POSIX (ustar/GNU/pax) tar archive. */
export function tarFiles(tar: Buffer): Array<{ name: string; data: Buffer }> {
	const files: Array<{ name: string; data: Buffer }> = [];
	const field = (block: Buffer, start: number, length: number) => {
		const raw = block.subarray(start, start + length);
		const end = raw.indexOf(0);
		return raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
	};
	const octal = (block: Buffer, start: number, length: number) => {
		// GNU base-256 for large sizes: high bit of the first byte set.
		if (block[start] & 0x80) return block.subarray(start + 1, start + length).reduce((n, b) => n * 256 + b, block[start] & 0x7f);
		const value = field(block, start, length).trim();
		return value === '' ? 0 : parseInt(value, 8);
	};
	let offset = 0;
	let longName: string | undefined;
	let paxPath: string | undefined;
	while (offset + 512 <= tar.length) {
		const header = tar.subarray(offset, offset + 512);
		if (header.every((b) => b === 0)) break;
		let sum = 0;
		let signedSum = 0;
		for (let i = 0; i < 512; i++) {
			const byte = i >= 148 && i < 156 ? 0x20 : header[i];
			sum += byte;
			signedSum += byte > 127 ? byte - 256 : byte;
		}
		const checksum = octal(header, 148, 8);
		if (checksum !== sum && checksum !== signedSum) throw new Error(`tar header at byte ${offset} has a bad checksum`);
		const size = octal(header, 124, 12);
		const type = String.fromCharCode(header[156] || 0x30);
		const start = offset + 512;
		if (!Number.isFinite(size) || size < 0 || start + size > tar.length) throw new Error(`tar entry at byte ${offset} is truncated`);
		const data = tar.subarray(start, start + size);
		offset = start + Math.ceil(size / 512) * 512;
		if (type === 'L') {
			longName = field(data, 0, data.length);
			continue;
		}
		if (type === 'x') {
			paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
			continue;
		}
		if (type === '0' || type === '7') {
			const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? field(header, 345, 155) : '';
			const name = paxPath ?? longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
			files.push({ name, data });
		}
		longName = undefined;
		paxPath = undefined;
	}
	return files;
}

/** Each operation's result from Mailchimp's batch results archive (a gzipped tar of JSON arrays). */
export function readBatchResults(body: unknown): Map<string, OperationResult> {
	let bytes: Buffer;
	if (Buffer.isBuffer(body)) bytes = body;
	else if (body instanceof Uint8Array) bytes = Buffer.from(body);
	else if (body instanceof ArrayBuffer) bytes = Buffer.from(new Uint8Array(body));
	else throw new Error(typeof body === 'string' ? 'the archive arrived as text, not bytes' : 'the archive is empty');
	if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
	const results = new Map<string, OperationResult>();
	for (const file of tarFiles(bytes)) {
		if (!file.name.endsWith('.json')) continue;
		const parsed: unknown = JSON.parse(file.data.toString('utf8'));
		for (const entry of Array.isArray(parsed) ? parsed : [parsed]) {
			if (!isRecord(entry) || entry.operation_id === undefined) continue;
			let response: unknown = entry.response;
			if (typeof response === 'string' && response !== '') {
				try {
					response = JSON.parse(response);
				} catch {
					// Mailchimp's response body is JSON; keep anything else as the text it is
				}
			}
			results.set(String(entry.operation_id), { status: Number(entry.status_code), body: response });
		}
	}
	return results;
}

// ---------------------------------------------------------------------------------------------

/** The Mailchimp module: a Platform whose optional `tag`, `newMembers` and `recentMembers` are there. */
export type MailchimpPlatform = Platform & Required<Pick<Platform, 'tag' | 'newMembers' | 'recentMembers'>>;

export function createMailchimp(options: MailchimpOptions = {}): MailchimpPlatform {
	// The client's wait unless the caller chose one: tests' no-op sleeps then apply to polling too.
	const sleep = (api: ApiClient, ms: number) => (options.sleep ? options.sleep(ms) : api.wait(ms));
	const schedule = options.pollScheduleMs?.length ? options.pollScheduleMs : [1000, 2000, 3000, 5000, 10_000];
	const maxPollWaitMs = options.maxPollWaitMs ?? 15 * 60_000;

	/** Submits operations, polls the batch to its end and reads the results archive when needed. */
	async function runBatch(api: ApiClient, operation: string, operations: BatchOperation[], needResults: boolean): Promise<BatchRun> {
		const submit: ApiRequest = { method: 'POST', path: '/batches', body: { operations } };
		let batch = await api.request<unknown>(operation, submit);
		if (!isRecord(batch) || typeof batch.id !== 'string') throw api.malformed(operation, submit, 'no batch id');
		const id = batch.id;
		const poll: ApiRequest = {
			method: 'GET',
			path: `/batches/${encodeURIComponent(id)}`,
			query: { fields: 'id,status,total_operations,finished_operations,errored_operations,response_body_url' },
		};
		let waited = 0;
		for (let attempt = 0; batch.status !== 'finished'; attempt++) {
			if (waited >= maxPollWaitMs) {
				throw new BatchTimeoutError(
					`${NAME} had not finished batch ${id} after ${Math.round(waited / 1000)} s, so this contact's outcome is unknown: run the same clean-up again later (it is safe to repeat).`,
				);
			}
			const wait = schedule[Math.min(attempt, schedule.length - 1)];
			await sleep(api, wait);
			waited += wait;
			batch = await api.request<unknown>(`${operation} (batch status)`, poll);
			if (!isRecord(batch) || typeof batch.status !== 'string') throw api.malformed(`${operation} (batch status)`, poll, 'no batch status');
		}
		const errored = Number(batch.errored_operations ?? 0);
		const run: BatchRun = { id, errored };
		// Nothing failed and no bodies wanted: every operation succeeded, no archive to fetch.
		if (!needResults && errored === 0 && Number(batch.finished_operations ?? operations.length) >= operations.length) return run;
		const url = text(batch.response_body_url);
		if (!url) {
			run.unreadable = 'the finished batch has no results URL';
			return run;
		}
		// A pre-signed Amazon S3 download: sent unsigned, since S3 refuses a request carrying both a URL
		// signature and an Authorization header, and the key must not leave for another host. Should
		// it fail anyway, the callers fall back to reading each contact.
		const archive: ApiRequest = { method: 'GET', path: url, binary: true, unsigned: true };
		let response: HttpResponse;
		try {
			response = await api.send(`${operation} (batch results)`, archive);
		} catch (error) {
			run.unreadable = failureDetail(error);
			return run;
		}
		if (response.status < 200 || response.status >= 300) {
			run.unreadable = `the results download answered HTTP ${response.status}`;
			return run;
		}
		try {
			run.results = readBatchResults(response.body);
		} catch (error) {
			run.unreadable = `the results archive could not be read (${failureDetail(error)})`;
		}
		return run;
	}

	/** Reads one member's status; `missing` when Mailchimp does not know it in this audience. */
	async function readMember(api: ApiClient, listId: string, key: string, fields = STATE_FIELDS): Promise<MemberState> {
		const request: ApiRequest = { method: 'GET', path: memberPath(listId, key), query: { fields } };
		let response: HttpResponse;
		try {
			response = await api.send('read contact', request);
		} catch (error) {
			return { error: failureDetail(error) };
		}
		if (response.status === 404) return { missing: true };
		if (response.status < 200 || response.status >= 300) return { error: api.errorFor('read contact', request, response).message };
		return memberState(response.body) ?? { error: api.malformed('read contact', request, 'no member status').message };
	}

	/** The current state of each target: by single reads for a few, by batch operations for many. */
	async function readStates(api: ApiClient, listId: string, targets: Target[], fields = STATE_FIELDS): Promise<Map<Target, MemberState>> {
		const states = new Map<Target, MemberState>();
		const readEach = async (some: Target[]) => {
			for (const target of some) states.set(target, await readMember(api, listId, target.key, fields));
		};
		if (targets.length <= DIRECT_READ_MAX) {
			await readEach(targets);
			return states;
		}
		for (const chunk of chunks(targets, OPERATIONS_PER_BATCH)) {
			const operations: BatchOperation[] = chunk.map((target, i) => ({
				method: 'GET',
				path: memberPath(listId, target.key),
				operation_id: String(i),
				params: { fields },
			}));
			let run: BatchRun;
			try {
				run = await runBatch(api, 'read contacts', operations, true);
			} catch (error) {
				if (isCredentialFailure(error)) throw error;
				for (const target of chunk) states.set(target, { error: failureDetail(error) });
				continue;
			}
			if (!run.results) {
				// The archive could not be had: one read per contact instead (slower, same answer).
				await readEach(chunk);
				continue;
			}
			chunk.forEach((target, i) => {
				const result = run.results?.get(String(i));
				if (!result) states.set(target, { error: `${NAME} reported no result for this contact in batch ${run.id}.` });
				else if (result.status === 404) states.set(target, { missing: true });
				else if (result.status >= 200 && result.status < 300) {
					states.set(target, memberState(result.body) ?? { error: `${NAME} returned no status for this contact in batch ${run.id}.` });
				} else states.set(target, { error: problemText(result.body) ?? `HTTP ${result.status}` });
			});
		}
		return states;
	}

	/**
	 * When every contact came back 404 the audience itself may be gone: then each outcome says so
	 * instead of "already".
	 */
	async function checkAudience(api: ApiClient, listId: string, operation: string, targets: Target[], outcomes: Map<ContactRef, WriteOutcome>): Promise<void> {
		try {
			await api.request(operation, { method: 'GET', path: `/lists/${encodeURIComponent(listId)}`, query: { fields: 'id' } });
		} catch (error) {
			for (const target of targets) settle(outcomes, target, 'failed', failureDetail(error));
		}
	}

	// -----------------------------------------------------------------------------------------
	// Tags (static segments)

	const segmentsPath = (listId: string) => `/lists/${encodeURIComponent(listId)}/segments`;

	/**
	 * The id of the audience's tag of this name (Mailchimp compares tag names without regard to
	 * case), or undefined. GET /lists/{list_id}/segments?type=static lists the tags, 1,000 a page.
	 */
	async function findTag(api: ApiClient, listId: string, name: string): Promise<string | undefined> {
		const operation = 'find the tag in the audience';
		const wanted = name.toLowerCase();
		for (let offset = 0; ; ) {
			const request: ApiRequest = {
				method: 'GET',
				path: segmentsPath(listId),
				query: { type: 'static', count: PAGE_SIZE, offset, fields: 'segments.id,segments.name,total_items' },
			};
			const body = await api.request<unknown>(operation, request);
			if (!isRecord(body) || !Array.isArray(body.segments)) throw api.malformed(operation, request, 'no "segments" array');
			const found = body.segments.filter(isRecord).find((s) => typeof s.name === 'string' && s.name.trim().toLowerCase() === wanted);
			if (found) {
				if (typeof found.id !== 'number' && typeof found.id !== 'string') throw api.malformed(operation, request, 'a tag without an id');
				return String(found.id);
			}
			offset += body.segments.length;
			const total = typeof body.total_items === 'number' ? body.total_items : undefined;
			if (body.segments.length === 0 || (total === undefined ? body.segments.length < PAGE_SIZE : offset >= total)) return undefined;
		}
	}

	/**
	 * Creates the tag, once: the caller looked for it first. POST /lists/{list_id}/segments with an
	 * empty `static_segment` ("Passing an empty array will create a static segment without any
	 * subscribers"); members are added afterwards, where Mailchimp answers for each one. Should the
	 * name be taken meanwhile (another run), Mailchimp refuses it and the tag is looked up again.
	 */
	async function createTag(api: ApiClient, listId: string, name: string): Promise<string> {
		const operation = 'create the tag';
		const request: ApiRequest = { method: 'POST', path: segmentsPath(listId), body: { name, static_segment: [] } };
		const response = await api.send(operation, request);
		if (response.status >= 200 && response.status < 300) {
			const id = isRecord(response.body) ? response.body.id : undefined;
			if (typeof id !== 'number' && typeof id !== 'string') throw api.malformed(operation, request, 'no segment id');
			return String(id);
		}
		if (response.status === 400) {
			const existing = await findTag(api, listId, name);
			if (existing) return existing;
		}
		throw api.errorFor(operation, request, response);
	}

	/**
	 * Who carries the tag already, so that they are reported `already` and not written again: its
	 * members (subscriber hashes and contact ids), 1,000 a page, every status included. When the tag
	 * has more members than reading the contacts themselves would cost, the contacts' own tags are read
	 * instead (`states`).
	 */
	async function tagHolders(api: ApiClient, listId: string, segmentId: string, targets: Target[]): Promise<{ holders?: Holders; states?: Map<Target, MemberState> }> {
		const operation = 'read the tag’s members';
		const holders: Holders = new Map();
		const readingContacts = targets.length <= DIRECT_READ_MAX ? targets.length : 3 * Math.ceil(targets.length / OPERATIONS_PER_BATCH);
		for (let offset = 0; ; ) {
			const request: ApiRequest = {
				method: 'GET',
				path: `${segmentsPath(listId)}/${encodeURIComponent(segmentId)}/members`,
				query: {
					count: PAGE_SIZE,
					offset,
					include_cleaned: true,
					include_transactional: true,
					include_unsubscribed: true,
					fields: 'members.id,members.email_address,members.contact_id,total_items',
				},
			};
			const body = await api.request<unknown>(operation, request);
			if (!isRecord(body) || !Array.isArray(body.members)) throw api.malformed(operation, request, 'no "members" array');
			for (const member of body.members.filter(isRecord)) {
				const email = text(member.email_address);
				for (const key of [text(member.id), text(member.contact_id), email && subscriberHash(email)]) if (key) holders.set(key, email);
			}
			offset += body.members.length;
			const total = typeof body.total_items === 'number' ? body.total_items : undefined;
			if (body.members.length === 0 || (total === undefined ? body.members.length < PAGE_SIZE : offset >= total)) return { holders };
			if (offset === body.members.length && total !== undefined && Math.ceil((total - offset) / PAGE_SIZE) > readingContacts) {
				return { states: await readStates(api, listId, targets, TAG_STATE_FIELDS) };
			}
		}
	}

	const platform: MailchimpPlatform = {
		id: 'mailchimp',
		name: NAME,
		capabilities: {
			// Segments and tags are not offered as lists yet: an audience is what is unsubscribed from.
			listKinds: ['audience'],
			// Unsubscribing changes the member of one audience; the contact stays subscribed elsewhere.
			unsubscribeScope: 'list',
			// DELETE /lists/{list_id}/members/{subscriber_hash} archives (restorable).
			deleteKind: 'archive',
			// POST .../actions/delete-permanent.
			permanentDelete: true,
			// A tag is a static segment: POST /lists/{list_id}/segments/{segment_id} adds 500 members a request.
			tag: true,
			// GET /lists/{list_id}/members filters on since_timestamp_opt and sorts on timestamp_opt.
			newMemberPolling: true,
		},
		limits: {
			pageSize: PAGE_SIZE,
			unsubscribeBatch: SUBSCRIBE_BATCH,
			deleteBatch: OPERATIONS_PER_BATCH,
			// Mailchimp limits each key to 10 simultaneous connections (and times a request out at 120 s);
			// it names no per-second rate. We send one request at a time and at most 10 a second.
			rateLimit: { requests: 10, perMs: 1000 },
		},
		retry: MAILCHIMP_RETRY,
		credentials: [
			{ name: 'listHygieneMailchimpApi', authentication: 'apiKey', displayName: 'API Key' },
			{ name: 'listHygieneMailchimpOAuth2Api', authentication: 'oAuth2', displayName: 'OAuth2' },
		],

		cliAuth(credentials: CredentialFields): Record<string, string> {
			const token = text(credentials.accessToken);
			if (token) return { authorization: `Bearer ${token}` };
			const key = text(credentials.apiKey);
			// Basic auth: any user name, the key as the password.
			if (key) return { authorization: `Basic ${Buffer.from(`anystring:${key}`).toString('base64')}` };
			return {};
		},

		async baseUrl(credentials: CredentialFields, transport: Transport): Promise<string> {
			const override = text(credentials.baseUrl);
			if (override) return override.replace(/\/+$/, '');
			const key = text(credentials.apiKey);
			if (key) return `https://${dataCentre(key)}.api.mailchimp.com/3.0`;
			// OAuth2: the token's account data centre comes from the metadata endpoint, asked with the token.
			const api = new ApiClient({ platform: NAME, baseUrl: 'https://login.mailchimp.com', transport, retry: MAILCHIMP_RETRY, hint: mailchimpHint });
			const request: ApiRequest = { method: 'GET', path: MAILCHIMP_METADATA_URL };
			const metadata = await api.request<unknown>('find the account’s data centre', request);
			const endpoint = isRecord(metadata) ? text(metadata.api_endpoint) : undefined;
			if (!endpoint || !/^https?:\/\/[^/?#]+\/?$/i.test(endpoint)) throw api.malformed('find the account’s data centre', request, 'no api_endpoint');
			return `${endpoint.replace(/\/+$/, '')}/3.0`;
		},

		hint: mailchimpHint,

		async lists(api, query) {
			const offset = query.cursor === undefined || query.cursor === '' ? 0 : Number(query.cursor);
			if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`Mailchimp list cursor "${query.cursor}" is not an offset`);
			const request: ApiRequest = {
				method: 'GET',
				path: '/lists',
				query: { count: PAGE_SIZE, offset, fields: 'lists.id,lists.name,lists.stats.member_count,total_items' },
			};
			const body = await api.request<unknown>('read audiences', request);
			if (!isRecord(body) || !Array.isArray(body.lists)) throw api.malformed('read audiences', request, 'no "lists" array');
			// GET /lists has no name filter: the filter is applied to each page here.
			const filter = query.filter?.trim().toLowerCase();
			const lists: PlatformList[] = [];
			for (const raw of body.lists) {
				if (!isRecord(raw) || typeof raw.id !== 'string') throw api.malformed('read audiences', request, 'an audience without an id');
				const name = typeof raw.name === 'string' ? raw.name : raw.id;
				if (filter && !name.toLowerCase().includes(filter)) continue;
				const count = isRecord(raw.stats) ? raw.stats.member_count : undefined;
				lists.push({ id: raw.id, name, kind: 'audience', ...(typeof count === 'number' ? { memberCount: count } : {}) });
			}
			const next = offset + body.lists.length;
			const total = typeof body.total_items === 'number' ? body.total_items : undefined;
			const more = body.lists.length > 0 && (total === undefined ? body.lists.length === PAGE_SIZE : next < total);
			return more ? { lists, cursor: String(next) } : { lists };
		},

		async *members(api, listId, query) {
			// GET /lists/{list_id}/members filters on one status: one pass per status asked for.
			// Without a status it returns every member but the archived ones (Mailchimp's default).
			const wanted = query.status?.length ? [...new Set(query.status)] : undefined;
			const passes = wanted ? wanted.filter((s) => s in MAILCHIMP_STATUSES) : [undefined];
			for (const status of passes) {
				yield* paginate<Member>(async (cursor) => {
					const page = await readMemberPage(api, 'read members', listId, { offset: cursor === undefined ? 0 : Number(cursor), status });
					return { items: page.members, next: page.next === undefined ? undefined : String(page.next) };
				});
			}
		},

		// New members: those who opted in since the poll's start. GET /lists/{list_id}/members filters
		// on `since_timestamp_opt` ("subscribers who opted-in after the set timeframe") and sorts on
		// `timestamp_opt`, so an idle poll is one request. Mailchimp has no filter on the sign-up time
		// and `since_last_changed` would also bring every member whose details changed. The opt-in
		// time is what makes a member: a double opt-in member comes once they confirm, and one who opts
		// in again comes again; a member without an opt-in time (one who never opted in) does not come.
		// Should an import carry opt-in times from the past, those members are not new to this filter.
		async newMembers(api, listId, query) {
			const members: Member[] = [];
			const seen = new Set<string>();
			// Newest first, so that sign-ups arriving while the pages are read push the rest further
			// down (read twice, dropped here) instead of up past a page boundary (never read).
			const filter = { since_timestamp_opt: optInSince(query.since), sort_field: 'timestamp_opt', sort_dir: 'DESC' };
			for (let offset: number | undefined = 0; offset !== undefined; ) {
				const page = await readMemberPage(api, 'read new members', listId, { ...filter, offset });
				for (const member of page.members) {
					if (seen.has(member.contactId)) continue;
					seen.add(member.contactId);
					members.push(withJoinedAt(member));
				}
				offset = page.next;
			}
			return { members: oldestFirst(members.reverse()) };
		},

		async recentMembers(api, listId, limit) {
			if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`${NAME}: the number of recent members must be a whole number of at least 1, not ${limit}.`);
			// One request: a page holds at most 1,000 members, so a larger limit gets 1,000.
			const page = await readMemberPage(api, 'read recent members', listId, { offset: 0, sort_field: 'timestamp_opt', sort_dir: 'DESC' }, Math.min(limit, PAGE_SIZE));
			return page.members.map(withJoinedAt);
		},

		async unsubscribe(api, listId, contacts) {
			const outcomes = new Map<ContactRef, WriteOutcome>();
			const targets = resolveTargets(contacts, outcomes);
			if (targets.length === 0) return inInputOrder(contacts, outcomes);

			// The batch-subscribe answer does not tell an unsubscribe from a no-op, and it would ADD an
			// address the audience does not have (as unsubscribed, which counts as a contact): so read
			// the current states first and write only members who still get mail.
			let states: Map<Target, MemberState>;
			try {
				states = await readStates(api, listId, targets);
			} catch (error) {
				for (const target of targets) settle(outcomes, target, 'failed', failureDetail(error));
				return inInputOrder(contacts, outcomes);
			}
			const toWrite: Array<{ targets: Target[]; email: string; id?: string }> = [];
			const queued = new Map<string, { targets: Target[]; email: string; id?: string }>();
			for (const target of targets) {
				const state = states.get(target) ?? { error: `${NAME} reported nothing for this contact.` };
				target.email ??= state.email;
				if (state.error) settle(outcomes, target, 'failed', state.error);
				else if (state.missing) settle(outcomes, target, 'already', 'Not a member of this audience: nothing to unsubscribe.');
				else if (state.status === 'unsubscribed') settle(outcomes, target, 'already', 'Already unsubscribed.', state.id);
				else if (state.status === 'archived') settle(outcomes, target, 'already', 'Archived: Mailchimp sends it no mail (unsubscribing would restore it).', state.id);
				else if (state.status === 'cleaned') settle(outcomes, target, 'already', 'Cleaned (bounced): Mailchimp sends it no mail.', state.id);
				else {
					const email = state.email ?? target.email;
					const same = email ? queued.get(email.toLowerCase()) : undefined;
					if (!email) settle(outcomes, target, 'failed', `${NAME} returned no email address for this contact.`, state.id);
					else if (same) same.targets.push(target);
					else {
						const item = { targets: [target], email, id: state.id };
						queued.set(email.toLowerCase(), item);
						toWrite.push(item);
					}
				}
			}
			if (targets.every((t) => states.get(t)?.missing)) await checkAudience(api, listId, 'unsubscribe contacts', targets, outcomes);

			let stop: string | undefined;
			for (const chunk of chunks(toWrite, SUBSCRIBE_BATCH)) {
				if (stop) {
					for (const item of chunk) for (const target of item.targets) settle(outcomes, target, 'failed', stop, item.id);
					continue;
				}
				// Only email_address and status: no other field of the member is sent, so none changes.
				const request: ApiRequest = {
					method: 'POST',
					path: `/lists/${encodeURIComponent(listId)}`,
					body: { members: chunk.map((item) => ({ email_address: item.email, status: 'unsubscribed' })), update_existing: true },
				};
				let body: unknown;
				try {
					body = await api.request<unknown>('unsubscribe contacts', request);
					if (!isRecord(body)) throw api.malformed('unsubscribe contacts', request, 'not a batch result');
				} catch (error) {
					if (isCredentialFailure(error)) stop = failureDetail(error);
					for (const item of chunk) for (const target of item.targets) settle(outcomes, target, 'failed', failureDetail(error), item.id);
					continue;
				}
				const byEmail = (list: unknown) =>
					new Map((Array.isArray(list) ? list.filter(isRecord) : []).map((m) => [String(m.email_address ?? '').toLowerCase(), m] as const));
				const updated = byEmail(body.updated_members);
				const created = byEmail(body.new_members);
				const errors = byEmail(body.errors);
				for (const item of chunk) {
					const key = item.email.toLowerCase();
					const error = errors.get(key);
					const member = updated.get(key) ?? created.get(key);
					const id = typeof member?.id === 'string' ? member.id : item.id;
					for (const target of item.targets) {
						if (error) settle(outcomes, target, 'failed', [text(error.error), text(error.field_message)].filter(Boolean).join(' ') || 'Mailchimp rejected it.', id);
						else if (updated.has(key)) settle(outcomes, target, 'done', undefined, id);
						else if (created.has(key)) settle(outcomes, target, 'done', 'It had left the audience meanwhile: Mailchimp added it back as unsubscribed.', id);
						else settle(outcomes, target, 'failed', `${NAME} did not report this contact in its answer.`, id);
					}
				}
			}
			return inInputOrder(contacts, outcomes);
		},

		async delete(api, listId, contacts, deleteOptions) {
			const permanent = deleteOptions.permanent === true;
			const outcomes = new Map<ContactRef, WriteOutcome>();
			const targets = resolveTargets(contacts, outcomes);
			let stop: string | undefined;
			let allMissing = targets.length > 0;
			for (const chunk of chunks(targets, OPERATIONS_PER_BATCH)) {
				if (stop) {
					for (const target of chunk) settle(outcomes, target, 'failed', stop);
					continue;
				}
				// Archive: DELETE .../members/{hash} keeps the contact's data and can be undone.
				// Permanent: Mailchimp erases the contact and its history, and then refuses to let the
				// address be re-imported or re-added through the API (only the person can sign up again).
				const operations: BatchOperation[] = chunk.map((target, i) =>
					permanent
						? { method: 'POST', path: `${memberPath(listId, target.key)}/actions/delete-permanent`, operation_id: String(i) }
						: { method: 'DELETE', path: memberPath(listId, target.key), operation_id: String(i) },
				);
				let run: BatchRun;
				try {
					run = await runBatch(api, 'delete contacts', operations, false);
				} catch (error) {
					if (isCredentialFailure(error)) stop = failureDetail(error);
					for (const target of chunk) settle(outcomes, target, 'failed', failureDetail(error));
					allMissing = false;
					continue;
				}
				if (run.results) {
					chunk.forEach((target, i) => {
						const result = run.results?.get(String(i));
						if (result?.status !== 404) allMissing = false;
						if (!result) settle(outcomes, target, 'failed', `${NAME} reported no result for this contact in batch ${run.id}.`);
						else if (result.status >= 200 && result.status < 300) settle(outcomes, target, 'done');
						else if (result.status === 404) settle(outcomes, target, 'already', 'Not in this audience (already deleted or archived).');
						else settle(outcomes, target, 'failed', problemText(result.body) ?? `HTTP ${result.status}`);
					});
				} else if (run.unreadable) {
					allMissing = false;
					await settleFromCurrentState(api, listId, chunk, run, permanent, outcomes);
				} else {
					allMissing = false;
					for (const target of chunk) settle(outcomes, target, 'done');
				}
			}
			if (allMissing) await checkAudience(api, listId, 'delete contacts', targets, outcomes);
			return inInputOrder(contacts, outcomes);
		},

		async tag(api, listId, contacts, tag) {
			const outcomes = new Map<ContactRef, WriteOutcome>();
			const targets = resolveTargets(contacts, outcomes);
			const name = tag.trim();
			if (targets.length === 0) return inInputOrder(contacts, outcomes);
			if (!name) {
				for (const target of targets) settle(outcomes, target, 'failed', 'No tag name was given.');
				return inInputOrder(contacts, outcomes);
			}
			const tagged = `Already tagged “${name}”.`;
			const notMember = 'Not a member of this audience: nothing to tag.';

			// The tag (found by name, or created once), and who carries it already. A new tag has nobody.
			let segmentId: string;
			let holders: Holders | undefined = new Map();
			let states: Map<Target, MemberState> | undefined;
			try {
				const found = await findTag(api, listId, name);
				if (found) ({ holders, states } = await tagHolders(api, listId, (segmentId = found), targets));
				else segmentId = await createTag(api, listId, name);
			} catch (error) {
				for (const target of targets) settle(outcomes, target, 'failed', failureDetail(error));
				return inInputOrder(contacts, outcomes);
			}

			// Contacts named only by an ID need their address: the batch add takes addresses.
			const unknownAddress = states ? [] : targets.filter((t) => !t.email && !isHolder(holders!, t));
			if (unknownAddress.length > 0) {
				try {
					states = await readStates(api, listId, unknownAddress);
				} catch (error) {
					for (const target of unknownAddress) settle(outcomes, target, 'failed', failureDetail(error));
				}
			}

			const toWrite: Array<{ targets: Target[]; email: string; id?: string }> = [];
			const queued = new Map<string, { targets: Target[]; email: string; id?: string }>();
			for (const target of targets) {
				if (outcomes.has(target.refs[0])) continue;
				const state = states?.get(target);
				target.email ??= state?.email ?? holders?.get(target.key);
				if (state?.error) settle(outcomes, target, 'failed', state.error);
				else if (state?.missing) settle(outcomes, target, 'skipped', notMember);
				else if (state?.tags?.includes(name.toLowerCase()) || (!state?.tags && holders && isHolder(holders, target))) settle(outcomes, target, 'already', tagged, state?.id);
				else {
					const email = state?.email ?? target.email;
					const same = email ? queued.get(email.toLowerCase()) : undefined;
					if (!email) settle(outcomes, target, 'failed', `${NAME} returned no email address for this contact.`, state?.id);
					else if (same) same.targets.push(target);
					else {
						const item = { targets: [target], email, id: state?.id };
						queued.set(email.toLowerCase(), item);
						toWrite.push(item);
					}
				}
			}

			let stop: string | undefined;
			for (const chunk of chunks(toWrite, TAG_BATCH)) {
				if (stop) {
					for (const item of chunk) for (const target of item.targets) settle(outcomes, target, 'failed', stop, item.id);
					continue;
				}
				// Only tag membership changes: no field of the member is sent.
				const request: ApiRequest = {
					method: 'POST',
					path: `${segmentsPath(listId)}/${encodeURIComponent(segmentId)}`,
					body: { members_to_add: chunk.map((item) => item.email) },
				};
				let body: Record<string, unknown>;
				try {
					const answer = await api.request<unknown>('tag contacts', request);
					if (!isRecord(answer)) throw api.malformed('tag contacts', request, 'not a batch result');
					body = answer;
				} catch (error) {
					if (isCredentialFailure(error)) stop = failureDetail(error);
					for (const item of chunk) for (const target of item.targets) settle(outcomes, target, 'failed', failureDetail(error), item.id);
					continue;
				}
				const added = new Set<string>();
				for (const member of Array.isArray(body.members_added) ? body.members_added.filter(isRecord) : []) {
					const email = text(member.email_address);
					if (email) added.add(subscriberHash(email));
					if (text(member.id)) added.add(String(member.id));
				}
				const errors = new Map<string, string>();
				for (const error of Array.isArray(body.errors) ? body.errors.filter(isRecord) : []) {
					const message = text(error.error) ?? `${NAME} did not tag it.`;
					for (const email of Array.isArray(error.email_addresses) ? error.email_addresses : []) errors.set(subscriberHash(String(email)), message);
				}
				for (const item of chunk) {
					const hash = subscriberHash(item.email);
					for (const target of item.targets) {
						if (errors.has(hash)) settle(outcomes, target, 'failed', errors.get(hash), item.id);
						else if (added.has(hash)) settle(outcomes, target, 'done', undefined, item.id);
						// "Any emails provided that are not present on the list will be ignored" (spec).
						else settle(outcomes, target, 'skipped', `${notMember} (${NAME} ignored the address.)`, item.id);
					}
				}
			}
			return inInputOrder(contacts, outcomes);
		},
	};

	/**
	 * Outcomes of a finished delete batch whose results archive could not be read: each contact's
	 * state now says whether it is gone; the batch's error count tells "done" from "already" when it
	 * can (every errored operation accounted for by a contact that stayed or never existed).
	 */
	async function settleFromCurrentState(
		api: ApiClient,
		listId: string,
		chunk: Target[],
		run: BatchRun,
		permanent: boolean,
		outcomes: Map<ContactRef, WriteOutcome>,
	): Promise<void> {
		const gone: Target[] = [];
		let erroredKnown = 0;
		for (const target of chunk) {
			const state = await readMember(api, listId, target.key);
			if (state.error) settle(outcomes, target, 'failed', `The batch finished but its results could not be read (${run.unreadable}), nor the contact: ${state.error}`);
			else if (state.missing && !permanent) {
				// An archive leaves the member readable as "archived": a 404 means it was never here.
				settle(outcomes, target, 'already', 'Not in this audience (already deleted).');
				erroredKnown++;
			} else if (state.missing || (state.status === 'archived' && !permanent)) gone.push(target);
			else {
				settle(outcomes, target, 'failed', `${NAME} did not remove it (it is ${state.status ?? 'still there'}); the batch’s per-contact message could not be read: ${run.unreadable}.`);
				erroredKnown++;
			}
		}
		const unexplained = run.errored - erroredKnown;
		for (const target of gone) {
			if (unexplained <= 0) settle(outcomes, target, 'done');
			else if (unexplained >= gone.length) settle(outcomes, target, 'already', 'Not in this audience (already deleted or archived).');
			else settle(outcomes, target, 'done', `Removed; it may have been removed before (the batch’s per-contact results could not be read: ${run.unreadable}).`);
		}
	}

	return platform;
}

interface MemberState {
	status?: string;
	email?: string;
	id?: string;
	/** Lower-cased names of the member's tags, when they were asked for. */
	tags?: string[];
	missing?: boolean;
	error?: string;
}

function memberState(body: unknown): MemberState | undefined {
	if (!isRecord(body) || typeof body.status !== 'string') return undefined;
	const state: MemberState = { status: body.status, email: text(body.email_address), id: text(body.id) };
	if (Array.isArray(body.tags)) state.tags = body.tags.filter(isRecord).map((t) => String(t.name ?? '').trim().toLowerCase());
	return state;
}

/** The data centre an API key belongs to: its suffix, as in `…-us6`. */
function dataCentre(key: string): string {
	const dc = /-([a-z]{2,5}\d{1,4})$/i.exec(key)?.[1];
	if (!dc) {
		throw new PlatformApiError(`${NAME}: the API key has no data-centre suffix (such as "-us6"). Copy the whole key from Account > Extras > API keys.`, {
			platform: NAME,
			operation: 'read the API key',
			method: 'GET',
			url: 'https://<dc>.api.mailchimp.com/3.0',
			hint: 'Copy the whole key, including its "-usN" ending.',
		});
	}
	return dc.toLowerCase();
}

/**
 * Every request we send may be repeated: GETs; DELETE archives (again: 404); batch subscribe sets a
 * status (same result twice); POST /batches carries only such operations (a repeated submission
 * runs them again, which changes nothing more); adding members to a tag again leaves them tagged,
 * and creating a tag again is refused for its name, then the tag is looked up (see createTag).
 * Mailchimp answers 429 when a key has more than 10
 * connections open; the generic rules retry it after Retry-After or with back-off.
 */
const MAILCHIMP_RETRY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, methods: ['GET', 'PUT', 'DELETE', 'POST'] };

function mailchimpHint(response: HttpResponse, operation: string): string | undefined {
	const says = problemText(response.body);
	const quoted = says ? ` (Mailchimp says: ${says})` : '';
	const writes = /unsubscribe|delete|archive|tag contacts|create the tag|write/i.test(operation);
	switch (response.status) {
		case 401:
			return `The API key is invalid or revoked, or belongs to another data centre than its "-usN" suffix says: copy a current key from Account > Extras > API keys, or reconnect the account${quoted}.`;
		case 403:
			return writes
				? `This Mailchimp user may read the audience but not change contacts (a Viewer or Author role, or a disabled account): use a key or connection of a Manager or Admin user, or use Verify only${quoted}.`
				: `This Mailchimp user has no access to it (its role, or a disabled account): use a key or connection of a user with access to the audience${quoted}.`;
		case 404:
			return /audience|member|contact|unsubscribe|delete/i.test(operation) && !/batch/i.test(operation)
				? `Mailchimp has no such audience (deleted, or in another account): pick the audience again${quoted}.`
				: undefined;
		case 429:
			return `Mailchimp allows 10 simultaneous connections per API key and they are in use: try again when other integrations using this key are idle${quoted}.`;
		default:
			return response.status >= 400 && response.status < 500 && says ? `Mailchimp refused the request: ${says}.` : undefined;
	}
}

export const mailchimp: MailchimpPlatform = createMailchimp();
