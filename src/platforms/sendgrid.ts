// SendGrid Marketing Campaigns (v3 API), described by twilio/sendgrid-oai (../shared/specs/sendgrid).
//
// - Lists: GET /v3/marketing/lists (page_size up to 1000, `_metadata.next` carries the page_token) and,
//   on the first page only, the segments of GET /v3/marketing/segments/2.0 (not paginated). A segment's
//   ID is given the prefix "segment:" so that members() knows which export field to use.
// - Members: one export job (POST /v3/marketing/contacts/exports, poll GET .../exports/{id} until
//   "ready", then GET each pre-signed file URL): 3 requests for any list size. SendGrid's contacts have
//   no subscription status; it lives in the account's global unsubscribes. Reading those costs one
//   request per 500 addresses, so they are read only when the caller filters by status; otherwise the
//   status is "unknown" (we did not look), never a guess.
// - New members: SendGrid keeps no time a contact joined a list, only when the contact was created
//   (`created_at`) and last changed (`updated_at`). A poll searches the list for contacts created since
//   (POST /v3/marketing/contacts/search, one request; see newMembers for the choice of field), and reads
//   the export above instead when more than the search's 50 results match. The newest members for a
//   sample are the list's `contact_sample` (GET /v3/marketing/lists/{id}?contact_sample=true).
// - Unsubscribe: global, by address: POST /v3/asm/suppressions/global (no documented batch maximum; we
//   send 1,000 per request). The reply lists the addresses it suppressed; an address we sent that is
//   missing from it was already suppressed ("already").
// - Delete: DELETE /v3/marketing/contacts?ids=… (100 IDs per call keeps the URL under common limits),
//   then GET /v3/marketing/contacts/imports/{job_id} until the job ends. When the job's deleted_count
//   falls short of the IDs sent, one batch read (POST /v3/marketing/contacts/batch) tells which are still
//   there (failed) and which are gone (done, or already when the job deleted none). SendGrid has no
//   archive: a delete is permanent, which the capabilities say.
// - Tag: SendGrid's contacts have no tags, so a Text custom field stands in for one: the field
//   list_hygiene_category holds the tag (e.g. "list-hygiene:invalid"), for segments on it. The field
//   is created once, when GET /v3/marketing/field_definitions does not list it (POST, same path).
//   Each contact is read first (by ID or by email, 100 a request): to know which already hold the
//   value (already), and because the write is an upsert that would create a contact SendGrid no
//   longer has. The write is PUT /v3/marketing/contacts (up to 30,000 contacts or 6 MB a request)
//   with only the contact's identifiers and that one custom field ("any fields omitted from the
//   request will remain as they were"), and its job is polled (GET .../contacts/imports/{job_id})
//   to its end; a job that ends with errors is checked by reading the contacts back.
// - Email-only refs resolve through POST /v3/marketing/contacts/search/emails (100 per request);
//   ID-only refs that need an address (unsubscribe) through POST /v3/marketing/contacts/batch.
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

import { CsvParser } from '../util/csv';
import { PlatformApiError, type ApiClient, type ApiRequest } from '../http/client';
import type { RetryPolicy } from '../http/retry';
import type { HttpResponse } from '../http/types';
import type { ContactRef, CredentialFields, Member, MemberStatus, Platform, PlatformList, WriteOutcome } from './types';

const gunzipAsync = promisify(gunzip);

export const SENDGRID_API_URL = 'https://api.sendgrid.com';
/** Prefix of a segment's ID in our list IDs (SendGrid's list and segment IDs are both UUIDs). */
export const SEGMENT_PREFIX = 'segment:';

const LIST_PAGE_SIZE = 1000; // GET /v3/marketing/lists: "returns 1000 max"
const MEMBER_PAGE_SIZE = 1000; // members per yielded page (the export itself is not paged)
const SUPPRESSION_BATCH = 1000; // POST /v3/asm/suppressions/global: no documented maximum
const ID_BATCH = 100; // DELETE /v3/marketing/contacts?ids= and POST /v3/marketing/contacts/batch ("up to 100 IDs")
const EMAIL_BATCH = 100; // POST /v3/marketing/contacts/search/emails ("up to 100 contacts")
const UNSUBSCRIBES_PAGE = 500; // GET /v3/suppression/unsubscribes: "maximum page size … 500"
const UPSERT_BATCH = 30_000; // PUT /v3/marketing/contacts: "up to 30,000 contacts, or 6MB of data, whichever is lower"
const UPSERT_BYTES = 5_000_000; // a request body stays under the 6 MB
const SEARCH_RESULTS = 50; // POST /v3/marketing/contacts/search: "Only the first 50 contacts … will be returned"
const EXPORT_WAIT_MS = 15 * 60_000;
const JOB_WAIT_MS = 10 * 60_000;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** SendGrid's error bodies: `{ errors: [{ field, message }] }`. */
function errorMessages(body: unknown): string[] {
	if (!isObject(body) || !Array.isArray(body.errors)) return [];
	return body.errors.filter(isObject).flatMap((e) => {
		const message = text(e.message);
		const where = text(e.field);
		if (message && where) return [`${message} (field: ${where})`];
		return message ? [message] : [];
	});
}

function chunks<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

function jobError(api: ApiClient, operation: string, request: ApiRequest, what: string, hint: string): PlatformApiError {
	return new PlatformApiError(`${api.platform}: ${operation} failed: ${what}. ${hint}`, {
		platform: api.platform,
		operation,
		method: request.method,
		url: api.url(request.path),
		hint,
	});
}

/** Polls an asynchronous job until `finished` says so; undefined when it is still running after `budgetMs` of waiting. */
async function pollJob(api: ApiClient, operation: string, path: string, finished: (job: Json) => boolean, budgetMs: number): Promise<Json | undefined> {
	const request: ApiRequest = { method: 'GET', path };
	const delays = [1000, 2000, 4000];
	let waited = 0;
	for (let attempt = 0; waited < budgetMs; attempt++) {
		const delay = delays[attempt] ?? 5000;
		await api.wait(delay);
		waited += delay;
		const job = await api.request(operation, request);
		if (!isObject(job) || typeof job.status !== 'string') throw api.malformed(operation, request, 'no job status');
		if (finished(job)) return job;
	}
	return undefined;
}

// ---------------------------------------------------------------------------------------------
// Lists

/** The page_token of a `_metadata.next` URL. */
function nextToken(api: ApiClient, request: ApiRequest, metadata: unknown): string | undefined {
	const next = isObject(metadata) ? text(metadata.next) : undefined;
	if (next === undefined) return undefined;
	let token: string | null = null;
	try {
		token = new URL(next, SENDGRID_API_URL).searchParams.get('page_token');
	} catch {
		token = null;
	}
	if (!token) throw api.malformed('read lists', request, 'a next page without a page_token');
	return token;
}

function matches(name: string, filter: string | undefined): boolean {
	return filter === undefined || filter === '' || name.toLowerCase().includes(filter.toLowerCase());
}

async function readSegments(api: ApiClient): Promise<PlatformList[]> {
	const operation = 'read segments';
	const request: ApiRequest = { method: 'GET', path: '/v3/marketing/segments/2.0' };
	const body = await api.request(operation, request);
	// The description's response schema is a single segment; the reference and the API answer `{ results: [...] }`.
	if (!isObject(body) || !Array.isArray(body.results)) throw api.malformed(operation, request, 'no "results" list');
	return body.results.map((segment) => {
		if (!isObject(segment) || !text(segment.id)) throw api.malformed(operation, request, 'a segment without an ID');
		return {
			id: `${SEGMENT_PREFIX}${text(segment.id)}`,
			name: typeof segment.name === 'string' ? segment.name : String(segment.id),
			kind: 'segment' as const,
			memberCount: typeof segment.contacts_count === 'number' ? segment.contacts_count : undefined,
		};
	});
}

// ---------------------------------------------------------------------------------------------
// Members: the export job and its file

/** The export file's text (or already parsed JSON records), gunzipped when it arrives compressed. */
async function exportFileContent(api: ApiClient, operation: string, request: ApiRequest, body: unknown): Promise<string | unknown[]> {
	let bytes: Buffer | undefined;
	if (Buffer.isBuffer(body)) bytes = body;
	else if (body instanceof Uint8Array) bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	else if (body instanceof ArrayBuffer) bytes = Buffer.from(body);
	else if (typeof body === 'string') {
		// A transport that ignores `binary` hands over text: latin1 keeps the bytes, UTF-8 loses them.
		if (body.startsWith('\u001f\u008b')) bytes = Buffer.from(body, 'latin1');
		else if (body.startsWith('\u001f\ufffd')) {
			throw api.malformed(operation, request, 'the file is gzip-compressed but arrived decoded as text, so its bytes are lost');
		} else return body;
	} else if (Array.isArray(body)) return body;
	else if (body === undefined) return '';
	else if (isObject(body)) return [body];
	else throw api.malformed(operation, request, 'not a file');
	if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
		try {
			bytes = await gunzipAsync(bytes);
		} catch {
			throw api.malformed(operation, request, 'a corrupt gzip file');
		}
	}
	return bytes.toString('utf8');
}

/** Records of the export: CSV with a header row (SendGrid's default, upper-case names) or JSON lines. */
function exportRecords(api: ApiClient, operation: string, request: ApiRequest, content: string | unknown[]): Json[] {
	if (Array.isArray(content)) return content.filter(isObject);
	const trimmed = content.replace(/^\uFEFF/, '').trimStart();
	if (trimmed === '') return [];
	if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
		try {
			const whole = JSON.parse(trimmed) as unknown;
			return (Array.isArray(whole) ? whole : [whole]).filter(isObject);
		} catch {
			// JSON lines: one contact per line
		}
		const records: Json[] = [];
		for (const line of trimmed.split(/\r?\n/)) {
			if (line.trim() === '') continue;
			try {
				const record = JSON.parse(line) as unknown;
				if (isObject(record)) records.push(record);
			} catch {
				throw api.malformed(operation, request, 'a line of the JSON file is not JSON');
			}
		}
		return records;
	}
	const parser = new CsvParser({ delimiter: ',' });
	let rows: string[][];
	try {
		rows = [...parser.push(trimmed), ...parser.end()];
	} catch (error) {
		throw api.malformed(operation, request, `a CSV file that does not parse (${(error as Error).message})`);
	}
	const [header, ...data] = rows;
	const names = header.map((name) => name.trim().toLowerCase());
	if (!names.includes('email') || !names.includes('contact_id')) {
		throw api.malformed(operation, request, `a file without EMAIL and CONTACT_ID columns (columns: ${header.join(', ')})`);
	}
	return data.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] ?? ''])));
}

function field(record: Json, ...names: string[]): string | undefined {
	for (const name of names) {
		for (const [key, value] of Object.entries(record)) {
			if (key.toLowerCase() === name && (typeof value === 'string' || typeof value === 'number')) return text(String(value));
		}
	}
	return undefined;
}

function withoutQuery(url: string): string {
	try {
		const parsed = new URL(url);
		return `${parsed.origin}${parsed.pathname}`;
	} catch {
		return url.split('?')[0];
	}
}

/** A pre-signed URL is a credential for the file: no part of its query may appear in an error. */
function maskSignedUrl(error: unknown, url: string): unknown {
	if (!(error instanceof PlatformApiError)) return error;
	let values: string[] = [];
	try {
		values = [...new URL(url).searchParams.values()].filter((v) => v.length >= 4);
	} catch {
		values = [];
	}
	const scrub = (s: string) => values.reduce((out, v) => out.split(v).join('***').split(encodeURIComponent(v)).join('***'), s);
	return new PlatformApiError(scrub(error.message), {
		...error.details,
		url: withoutQuery(url),
		body: error.details.body === undefined ? undefined : scrub(error.details.body),
	});
}

async function downloadExport(api: ApiClient, url: string): Promise<Json[]> {
	const operation = 'download the export file';
	// The file comes as bytes: SendGrid's exports are gzip files, which text decoding would destroy.
	// A pre-signed storage URL: its signature is the authentication, and the API key must not go there.
	const request: ApiRequest = { method: 'GET', path: url, binary: true, unsigned: true };
	let response: HttpResponse;
	try {
		response = await api.send(operation, request);
	} catch (error) {
		throw maskSignedUrl(error, url);
	}
	const shown: ApiRequest = { method: 'GET', path: withoutQuery(url) };
	if (response.status < 200 || response.status >= 300) {
		const readable = Buffer.isBuffer(response.body) ? { ...response, body: response.body.subarray(0, 2000).toString('utf8') } : response;
		throw maskSignedUrl(api.errorFor(operation, shown, readable), url);
	}
	const content = await exportFileContent(api, operation, shown, response.body);
	return exportRecords(api, operation, shown, content);
}

async function exportContacts(api: ApiClient, listId: string): Promise<string[]> {
	const operation = 'export the list’s contacts';
	const segment = listId.startsWith(SEGMENT_PREFIX);
	const id = segment ? listId.slice(SEGMENT_PREFIX.length) : listId;
	const create: ApiRequest = {
		method: 'POST',
		path: '/v3/marketing/contacts/exports',
		body: { ...(segment ? { segment_ids: [id] } : { list_ids: [id] }), file_type: 'csv' },
	};
	const created = await api.request(operation, create);
	const exportId = isObject(created) ? text(created.id) : undefined;
	if (!exportId) throw api.malformed(operation, create, 'no export job ID');

	const statusPath = `/v3/marketing/contacts/exports/${encodeURIComponent(exportId)}`;
	const job = await pollJob(api, 'check the export job', statusPath, (j) => j.status !== 'pending', EXPORT_WAIT_MS);
	const status: ApiRequest = { method: 'GET', path: statusPath };
	if (!job) throw jobError(api, 'export the list’s contacts', status, `the export was not ready after ${EXPORT_WAIT_MS / 60_000} minutes`, 'SendGrid may be busy: try again later.');
	if (job.status !== 'ready') {
		const why = text(job.message) ?? `status "${String(job.status)}"`;
		throw jobError(api, 'export the list’s contacts', status, `SendGrid’s export job ended with ${why}`, 'Try again later; if it persists, check the list in SendGrid.');
	}
	const urls = Array.isArray(job.urls) ? job.urls.filter((u): u is string => typeof u === 'string' && u !== '') : [];
	if (urls.length === 0 && typeof job.contact_count === 'number' && job.contact_count > 0) {
		throw api.malformed('check the export job', status, 'a ready export without download URLs');
	}
	return urls;
}

/** Addresses in the account's global unsubscribes (lower-cased), read 500 at a time. */
async function globalUnsubscribes(api: ApiClient): Promise<Set<string>> {
	const operation = 'read global unsubscribes';
	const addresses = new Set<string>();
	for (let offset = 0; ; offset += UNSUBSCRIBES_PAGE) {
		const request: ApiRequest = { method: 'GET', path: '/v3/suppression/unsubscribes', query: { limit: UNSUBSCRIBES_PAGE, offset } };
		const page = await api.request(operation, request);
		if (!Array.isArray(page)) throw api.malformed(operation, request, 'not a list of addresses');
		const before = addresses.size;
		for (const entry of page) if (isObject(entry) && text(entry.email)) addresses.add(String(entry.email).trim().toLowerCase());
		if (page.length < UNSUBSCRIBES_PAGE) return addresses;
		if (addresses.size === before) throw api.malformed(operation, request, 'the same page of addresses again');
	}
}

/** A member item for a record in the export's shape; undefined for a contact without an address or an ID. */
function memberFrom(record: Json, listId: string, status: MemberStatus, joinedAt?: string): Member | undefined {
	const email = field(record, 'email');
	const contactId = field(record, 'contact_id', 'id');
	// Contacts known only by phone or external ID have no address to verify.
	if (!email || !contactId) return undefined;
	return { email, contactId, listId, platform: 'sendgrid', status, ...(joinedAt === undefined ? {} : { joinedAt }), raw: record };
}

// ---------------------------------------------------------------------------------------------
// New members: contacts created since, by contact search

/** A contact as the search and the list's sample return it, in the shape of an export record (members()'s `raw`). */
function asExportRecord(contact: Json): Json {
	const record: Json = {};
	const put = (name: string, value: unknown) => {
		if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') record[name.toUpperCase()] = String(value);
		else if (Array.isArray(value)) record[name.toUpperCase()] = value.map(String).join(',');
	};
	for (const [name, value] of Object.entries(contact)) {
		if (!['id', 'list_ids', 'segment_ids', 'custom_fields', '_metadata'].includes(name)) put(name, value);
	}
	if (isObject(contact.custom_fields)) for (const [name, value] of Object.entries(contact.custom_fields)) put(name, value);
	put('contact_id', contact.id);
	return record;
}

/** `created_at` as ISO 8601 (SendGrid's older Unix seconds too); undefined when it is neither. */
function createdAt(record: Json): string | undefined {
	const value = field(record, 'created_at');
	if (value === undefined) return undefined;
	const time = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
	return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** An SGQL string literal (the reference: quotes and backslashes escaped with a backslash). */
const sgqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The list (or segment) the trigger watches, so that a deleted one says so (a search just finds nobody); with its sample when asked. */
async function findList(api: ApiClient, listId: string, sample: boolean): Promise<Json> {
	const operation = 'find the list';
	const segment = listId.startsWith(SEGMENT_PREFIX);
	const id = encodeURIComponent(segment ? listId.slice(SEGMENT_PREFIX.length) : listId);
	const request: ApiRequest = segment
		? { method: 'GET', path: `/v3/marketing/segments/2.0/${id}`, query: { contacts_sample: sample } }
		: { method: 'GET', path: `/v3/marketing/lists/${id}`, query: { contact_sample: sample } };
	const body = await api.request(operation, request);
	if (!isObject(body) || !text(body.id)) throw api.malformed(operation, request, 'no list ID');
	return body;
}

/** Members of these records created at or after `from`, oldest first. */
function createdSince(records: readonly Json[], listId: string, from: number, api: ApiClient, operation: string, request: ApiRequest): Member[] {
	const members: Member[] = [];
	for (const record of records) {
		const joinedAt = createdAt(record);
		if (joinedAt === undefined) throw api.malformed(operation, request, 'a contact without "created_at"');
		if (Date.parse(joinedAt) < from) continue;
		const member = memberFrom(record, listId, 'unknown', joinedAt);
		if (member) members.push(member);
	}
	return members.sort((a, b) => Date.parse(String(a.joinedAt)) - Date.parse(String(b.joinedAt)) || a.contactId.localeCompare(b.contactId));
}

/** The cursor of a watched list that was found: later polls need not look for it again. */
const foundCursor = (listId: string) => `found:${listId}`;

// ---------------------------------------------------------------------------------------------
// Writes: resolving refs, outcomes

type Result = Pick<WriteOutcome, 'outcome' | 'detail'> & { contactId?: string; email?: string };

interface Contact {
	id: string;
	/** The contact's primary address, lower-cased. */
	email?: string;
	/** Custom field values as SendGrid returns them. */
	customFields?: Json;
	/** Identifiers besides the email that an upsert must repeat to update this contact. */
	identifiers?: Record<string, string>;
}

/** The other identifiers SendGrid may hold for a contact: "to update a contact, all of its existing identifiers must be present". */
const OTHER_IDENTIFIERS = ['phone_number_id', 'external_id', 'anonymous_id'] as const;

function contactFrom(record: Json, id: string, email: string | undefined): Contact {
	const identifiers: Record<string, string> = {};
	for (const key of OTHER_IDENTIFIERS) {
		const value = text(record[key]);
		if (value !== undefined) identifiers[key] = value;
	}
	return {
		id,
		email,
		...(isObject(record.custom_fields) ? { customFields: record.custom_fields } : {}),
		...(Object.keys(identifiers).length > 0 ? { identifiers } : {}),
	};
}

function plausibleAddress(email: string): boolean {
	return email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);
}

/** Addresses of a batch that SendGrid's 400 names (by address or by position in the array), with its message. */
function namedInErrors(body: unknown, addresses: readonly string[]): Map<string, string> {
	const named = new Map<string, string>();
	if (!isObject(body) || !Array.isArray(body.errors)) return named;
	for (const error of body.errors.filter(isObject)) {
		const message = text(error.message) ?? 'rejected';
		const where = `${text(error.field) ?? ''} ${message}`.toLowerCase();
		const position = /\[(\d+)\]/.exec(text(error.field) ?? '');
		if (position && addresses[Number(position[1])] !== undefined) named.set(addresses[Number(position[1])], message);
		for (const address of addresses) if (where.includes(address.toLowerCase())) named.set(address, message);
	}
	return named;
}

function isAuthFailure(response: HttpResponse): boolean {
	return response.status === 401 || response.status === 403;
}

function failureMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** Contacts by ID (POST /v3/marketing/contacts/batch, 100 IDs a request); a lookup failure is per ID. */
async function contactsById(api: ApiClient, ids: readonly string[]): Promise<{ found: Map<string, Contact>; failed: Map<string, string> }> {
	const operation = 'look up contacts by ID';
	const found = new Map<string, Contact>();
	const failed = new Map<string, string>();
	for (const batch of chunks(ids, ID_BATCH)) {
		const request: ApiRequest = { method: 'POST', path: '/v3/marketing/contacts/batch', body: { ids: batch } };
		let response: HttpResponse;
		try {
			response = await api.send(operation, request);
		} catch (error) {
			for (const id of batch) failed.set(id, failureMessage(error));
			continue;
		}
		if (response.status === 404) continue; // none of them exists
		if (response.status < 200 || response.status >= 300) {
			const message = api.errorFor(operation, request, response).message;
			for (const id of batch) failed.set(id, message);
			continue;
		}
		if (!isObject(response.body) || !Array.isArray(response.body.result)) {
			const message = api.malformed(operation, request, 'no "result" list').message;
			for (const id of batch) failed.set(id, message);
			continue;
		}
		for (const contact of response.body.result.filter(isObject)) {
			const id = text(contact.id);
			if (id) found.set(id, contactFrom(contact, id, text(contact.email)?.toLowerCase()));
		}
	}
	return { found, failed };
}

/** Contacts by address (POST /v3/marketing/contacts/search/emails, 100 a request); keys lower-cased. */
async function contactsByEmail(api: ApiClient, emails: readonly string[]): Promise<{ found: Map<string, Contact>; failed: Map<string, string> }> {
	const operation = 'look up contacts by email';
	const found = new Map<string, Contact>();
	const failed = new Map<string, string>();
	for (const first of chunks(emails, EMAIL_BATCH)) {
		let batch = first;
		for (let attempt = 0; batch.length > 0; attempt++) {
			const request: ApiRequest = { method: 'POST', path: '/v3/marketing/contacts/search/emails', body: { emails: batch } };
			let response: HttpResponse;
			try {
				response = await api.send(operation, request);
			} catch (error) {
				for (const email of batch) failed.set(email, failureMessage(error));
				break;
			}
			if (response.status === 404) break; // "no contacts are found for the provided email address(es)"
			if (response.status === 400 && attempt === 0) {
				// "A 400 status code is returned if any searched addresses are invalid": set those aside, ask again for the rest.
				const named = namedInErrors(response.body, batch);
				if (named.size > 0 && named.size < batch.length) {
					for (const [email, message] of named) failed.set(email, `SendGrid rejected the address: ${message}`);
					batch = batch.filter((email) => !named.has(email));
					continue;
				}
			}
			if (response.status < 200 || response.status >= 300) {
				const message = api.errorFor(operation, request, response).message;
				for (const email of batch) failed.set(email, message);
				break;
			}
			if (!isObject(response.body) || !isObject(response.body.result)) {
				const message = api.malformed(operation, request, 'no "result" object').message;
				for (const email of batch) failed.set(email, message);
				break;
			}
			for (const [email, entry] of Object.entries(response.body.result)) {
				const contact = isObject(entry) && isObject(entry.contact) ? entry.contact : undefined;
				const id = contact ? text(contact.id) : undefined;
				// The searched address may be one of the contact's alternate_emails: its primary one is kept.
				if (id && contact) found.set(email.toLowerCase(), contactFrom(contact, id, text(contact.email)?.toLowerCase() ?? email.toLowerCase()));
			}
			break;
		}
	}
	return { found, failed };
}

/** Adds addresses to the global unsubscribes, 1,000 a request; "already" for those SendGrid did not newly add. */
async function suppressGlobally(api: ApiClient, emails: readonly string[]): Promise<Map<string, Result>> {
	const operation = 'unsubscribe contacts';
	const results = new Map<string, Result>();
	let stopped: string | undefined;
	for (const first of chunks(emails, SUPPRESSION_BATCH)) {
		if (stopped !== undefined) {
			for (const email of first) results.set(email, { outcome: 'skipped', detail: `Not attempted after an earlier batch was refused: ${stopped}` });
			continue;
		}
		let batch = first;
		for (let attempt = 0; batch.length > 0; attempt++) {
			const request: ApiRequest = { method: 'POST', path: '/v3/asm/suppressions/global', body: { recipient_emails: batch } };
			let response: HttpResponse;
			try {
				response = await api.send(operation, request);
			} catch (error) {
				for (const email of batch) results.set(email, { outcome: 'failed', detail: failureMessage(error) });
				break;
			}
			if (response.status === 400 && attempt === 0) {
				const named = namedInErrors(response.body, batch);
				if (named.size > 0 && named.size < batch.length) {
					for (const [email, message] of named) results.set(email, { outcome: 'failed', detail: `SendGrid rejected the address: ${message}` });
					batch = batch.filter((email) => !named.has(email));
					continue;
				}
			}
			if (response.status < 200 || response.status >= 300) {
				const message = api.errorFor(operation, request, response).message;
				for (const email of batch) results.set(email, { outcome: 'failed', detail: message });
				if (isAuthFailure(response)) stopped = message;
				break;
			}
			const body = response.body;
			if (!isObject(body) || !Array.isArray(body.recipient_emails)) {
				const message = api.malformed(operation, request, 'no "recipient_emails" list').message;
				for (const email of batch) results.set(email, { outcome: 'failed', detail: `${message} The addresses may or may not be unsubscribed.` });
				break;
			}
			const added = new Set(body.recipient_emails.filter((e): e is string => typeof e === 'string').map((e) => e.trim().toLowerCase()));
			for (const email of batch) {
				results.set(email, added.has(email) ? { outcome: 'done' } : { outcome: 'already', detail: 'Already in SendGrid’s global unsubscribes' });
			}
			break;
		}
	}
	return results;
}

/** One delete job for up to 100 IDs, followed to its end; each ID's outcome. */
async function deleteBatch(api: ApiClient, batch: readonly string[]): Promise<{ results: Map<string, Result>; refused?: string }> {
	const operation = 'delete contacts';
	const results = new Map<string, Result>();
	let ids = [...batch];
	let request: ApiRequest;
	let response: HttpResponse;
	for (let attempt = 0; ; attempt++) {
		request = { method: 'DELETE', path: '/v3/marketing/contacts', query: { ids: ids.join(',') } };
		try {
			response = await api.send(operation, request);
		} catch (error) {
			for (const id of ids) results.set(id, { outcome: 'failed', detail: failureMessage(error) });
			return { results };
		}
		if (response.status === 400 && attempt === 0) {
			// A malformed ID may spoil the batch: set aside the IDs SendGrid names, send the rest again.
			const named = namedInErrors(response.body, ids);
			if (named.size > 0 && named.size < ids.length) {
				for (const [id, message] of named) results.set(id, { outcome: 'failed', detail: `SendGrid rejected the ID: ${message}` });
				ids = ids.filter((id) => !named.has(id));
				continue;
			}
		}
		break;
	}
	let deleted: number | undefined;
	let status: string;
	let note: string | undefined;
	if (response.status === 404) {
		// Nothing was queued: none of the IDs was found. The batch read below says which exist after all.
		deleted = 0;
		status = 'not found';
	} else if (response.status < 200 || response.status >= 300) {
		const message = api.errorFor(operation, request, response).message;
		for (const id of ids) results.set(id, { outcome: 'failed', detail: message });
		return { results, refused: isAuthFailure(response) ? message : undefined };
	} else {
		const jobId = isObject(response.body) ? text(response.body.job_id) : undefined;
		if (!jobId) {
			const message = api.malformed(operation, request, 'no job_id').message;
			for (const id of ids) results.set(id, { outcome: 'failed', detail: `${message} The contacts may still be deleted.` });
			return { results };
		}
		let job: Json | undefined;
		try {
			job = await pollJob(
				api,
				'check the delete job',
				`/v3/marketing/contacts/imports/${encodeURIComponent(jobId)}`,
				(j) => j.status !== 'pending',
				JOB_WAIT_MS,
			);
		} catch (error) {
			note = `SendGrid accepted the delete, but its job could not be followed: ${failureMessage(error)}`;
		}
		if (job) {
			status = String(job.status);
			const counts = isObject(job.results) ? job.results : {};
			deleted = typeof counts.deleted_count === 'number' ? counts.deleted_count : undefined;
			if (status === 'completed' && deleted === ids.length) {
				for (const id of ids) results.set(id, { outcome: 'done' });
				return { results };
			}
		} else {
			status = 'unknown';
			note ??= `SendGrid’s delete job was still running after ${JOB_WAIT_MS / 60_000} minutes; it may still delete them`;
		}
	}
	// The job did not account for every ID: ask which contacts are still there.
	const { found, failed } = await contactsById(api, ids);
	const gone = ids.filter((id) => !found.has(id) && !failed.has(id));
	for (const id of ids) {
		const lookup = failed.get(id);
		if (lookup !== undefined) results.set(id, { outcome: 'failed', detail: `${note ?? `SendGrid’s delete job ended "${status}"`}; checking the contact failed: ${lookup}` });
		else if (found.has(id)) {
			results.set(id, { outcome: 'failed', detail: note ?? `SendGrid’s delete job ended "${status}" and the contact still exists` });
		} else if (deleted === 0) results.set(id, { outcome: 'already', detail: 'No SendGrid contact has this ID (already deleted)' });
		else if (deleted === undefined || deleted >= gone.length) results.set(id, { outcome: 'done' });
		else {
			results.set(id, { outcome: 'done', detail: `Gone: SendGrid deleted ${deleted} of these ${gone.length} contacts now; the others were already deleted` });
		}
	}
	return { results };
}

// ---------------------------------------------------------------------------------------------
// Tag: a Text custom field standing in for a tag

/** The custom field that holds the tag: SendGrid's contacts have no tags. */
export const SENDGRID_TAG_FIELD = 'list_hygiene_category';

interface FieldDefinition {
	id: string;
	name: string;
	field_type: string;
}

// The custom field API is not among the descriptions in ../shared/specs (SendGrid publishes it as
// tsg_mc_custom_fields_v3.json beside the contacts description, but it was not copied there), so
// these two requests follow SendGrid's reference instead, and the conformance test leaves them out:
// https://www.twilio.com/docs/sendgrid/api-reference/custom-fields/get-all-field-definitions
// (GET /v3/marketing/field_definitions -> { custom_fields: [{ id, name, field_type }], reserved_fields })
// https://www.twilio.com/docs/sendgrid/api-reference/custom-fields/create-custom-field-definition
// (POST, same path, { name, field_type: "Text" | "Number" | "Date" } -> 200 { id, name, field_type };
// names of letters, digits and underscores, unique regardless of letter case; up to 500 fields).
async function fieldDefinitions(api: ApiClient): Promise<FieldDefinition[]> {
	const operation = 'read custom fields';
	const request: ApiRequest = { method: 'GET', path: '/v3/marketing/field_definitions' };
	const body = await api.request(operation, request);
	if (!isObject(body) || !Array.isArray(body.custom_fields)) throw api.malformed(operation, request, 'no "custom_fields" list');
	return body.custom_fields
		.filter(isObject)
		.filter((f) => text(f.id) && typeof f.name === 'string')
		.map((f) => ({ id: String(text(f.id)), name: String(f.name), field_type: String(f.field_type ?? '') }));
}

/** The tag field, created once when it does not exist yet (found first; a lost reply's duplicate is found again). */
async function tagField(api: ApiClient): Promise<FieldDefinition> {
	const find = (all: FieldDefinition[]) => all.find((f) => f.name.toLowerCase() === SENDGRID_TAG_FIELD);
	let field = find(await fieldDefinitions(api));
	if (!field) {
		const operation = 'create the custom field';
		const request: ApiRequest = { method: 'POST', path: '/v3/marketing/field_definitions', body: { name: SENDGRID_TAG_FIELD, field_type: 'Text' } };
		const response = await api.send(operation, request);
		if (response.status >= 200 && response.status < 300) {
			const body = response.body;
			if (!isObject(body) || !text(body.id)) throw api.malformed(operation, request, 'no field ID');
			field = { id: String(text(body.id)), name: typeof body.name === 'string' ? body.name : SENDGRID_TAG_FIELD, field_type: String(body.field_type ?? 'Text') };
		} else {
			// A 400 may say the field exists after all (made meanwhile, or by a repeated request).
			if (response.status === 400) field = find(await fieldDefinitions(api));
			if (!field) throw api.errorFor(operation, request, response);
		}
	}
	if (field.field_type.toLowerCase() !== 'text') {
		const request: ApiRequest = { method: 'GET', path: '/v3/marketing/field_definitions' };
		throw jobError(
			api,
			'read custom fields',
			request,
			`the custom field ${field.name} is a ${field.field_type} field, and a tag needs a Text one`,
			`Rename or delete that field in SendGrid (Marketing → Custom Fields), then run again: a Text field ${SENDGRID_TAG_FIELD} will be created.`,
		);
	}
	return field;
}

/** A contact's value of the tag field (SendGrid returns custom fields by name; by ID is accepted too). */
function fieldValue(contact: Contact, field: FieldDefinition): unknown {
	const values = contact.customFields ?? {};
	if (field.id in values) return values[field.id];
	const key = Object.keys(values).find((k) => k.toLowerCase() === field.name.toLowerCase());
	return key === undefined ? undefined : values[key];
}

/** The upsert entry that writes the field and nothing else: the contact's identifiers and the one custom field. */
function upsertEntry(contact: Contact, field: FieldDefinition, value: string): Json {
	return { email: contact.email, ...(contact.identifiers ?? {}), custom_fields: { [field.id]: value } };
}

/** Contacts in requests of at most 30,000 and about 5 MB. */
function upsertBatches(contacts: readonly Contact[], size: (contact: Contact) => number): Contact[][] {
	const batches: Contact[][] = [];
	let current: Contact[] = [];
	let bytes = 0;
	for (const contact of contacts) {
		const length = size(contact) + 1;
		if (current.length > 0 && (current.length >= UPSERT_BATCH || bytes + length > UPSERT_BYTES)) {
			batches.push(current);
			current = [];
			bytes = 0;
		}
		current.push(contact);
		bytes += length;
	}
	if (current.length > 0) batches.push(current);
	return batches;
}

/** One upsert job writing the tag field, followed to its end; each contact ID's outcome. */
async function upsertBatch(api: ApiClient, first: readonly Contact[], field: FieldDefinition, value: string): Promise<{ results: Map<string, Result>; refused?: string }> {
	const operation = 'tag contacts';
	const results = new Map<string, Result>();
	let batch = [...first];
	let request: ApiRequest;
	let response: HttpResponse;
	for (let attempt = 0; ; attempt++) {
		request = { method: 'PUT', path: '/v3/marketing/contacts', body: { contacts: batch.map((c) => upsertEntry(c, field, value)) } };
		try {
			response = await api.send(operation, request);
		} catch (error) {
			for (const c of batch) results.set(c.id, { outcome: 'failed', detail: failureMessage(error) });
			return { results };
		}
		if (response.status === 400 && attempt === 0) {
			// A 400 names the entries it refuses (contacts[3].email): set them aside, send the rest again.
			const named = namedInErrors(response.body, batch.map((c) => c.email ?? c.id));
			if (named.size > 0 && named.size < batch.length) {
				for (const c of batch) {
					const message = named.get(c.email ?? c.id);
					if (message !== undefined) results.set(c.id, { outcome: 'failed', detail: `SendGrid refused the contact: ${message}` });
				}
				batch = batch.filter((c) => !named.has(c.email ?? c.id));
				continue;
			}
		}
		break;
	}
	if (response.status < 200 || response.status >= 300) {
		const message = api.errorFor(operation, request, response).message;
		for (const c of batch) results.set(c.id, { outcome: 'failed', detail: message });
		return { results, refused: isAuthFailure(response) ? message : undefined };
	}
	const jobId = isObject(response.body) ? text(response.body.job_id) : undefined;
	if (!jobId) {
		const message = api.malformed(operation, request, 'no job_id').message;
		for (const c of batch) results.set(c.id, { outcome: 'failed', detail: `${message} The contacts may still be tagged.` });
		return { results };
	}
	let job: Json | undefined;
	let note: string | undefined;
	try {
		job = await pollJob(api, 'check the tag job', `/v3/marketing/contacts/imports/${encodeURIComponent(jobId)}`, (j) => j.status !== 'pending', JOB_WAIT_MS);
	} catch (error) {
		note = `SendGrid accepted the tag, but its job could not be followed: ${failureMessage(error)}`;
	}
	if (job?.status === 'completed') {
		for (const c of batch) results.set(c.id, { outcome: 'done' });
		return { results };
	}
	if (job) {
		const counts = isObject(job.results) ? job.results : {};
		const errored = typeof counts.errored_count === 'number' ? ` with ${counts.errored_count} of ${batch.length} contacts in error` : '';
		note = `SendGrid’s tag job ended "${String(job.status)}"${errored}`;
	} else {
		note ??= `SendGrid’s tag job was still running after ${JOB_WAIT_MS / 60_000} minutes; it may still tag them`;
	}
	// The job did not confirm every contact: read them back to tell which hold the value now.
	const { found, failed } = await contactsById(api, batch.map((c) => c.id));
	for (const c of batch) {
		const lookup = failed.get(c.id);
		const now = found.get(c.id);
		if (lookup !== undefined) results.set(c.id, { outcome: 'failed', detail: `${note}; checking the contact failed: ${lookup}` });
		else if (!now) results.set(c.id, { outcome: 'skipped', detail: 'No SendGrid contact has this ID any more (deleted meanwhile): not tagged' });
		else if (fieldValue(now, field) === value) results.set(c.id, { outcome: 'done' });
		else results.set(c.id, { outcome: 'failed', detail: `${note}, and the contact does not hold the value` });
	}
	return { results };
}

async function tagContacts(api: ApiClient, contacts: readonly ContactRef[], tag: string): Promise<WriteOutcome[]> {
	const results: Result[] = new Array(contacts.length);
	const found: (Contact | undefined)[] = new Array(contacts.length);
	const finish = () =>
		contacts.map((contact, i) => {
			const result = results[i] ?? { outcome: 'failed' as const, detail: 'No outcome' };
			return outcomeFor(contact, { ...result, contactId: result.contactId ?? found[i]?.id, email: result.email ?? found[i]?.email });
		});
	const value = tag.trim();
	const idOf = contacts.map((c) => text(c.contactId));
	const emailOf = contacts.map((c, i) => (idOf[i] === undefined ? text(c.email)?.toLowerCase() : undefined));
	contacts.forEach((_c, i) => {
		if (value === '') results[i] = { outcome: 'skipped', detail: 'The tag is empty: nothing to write' };
		else if (idOf[i] === undefined && emailOf[i] === undefined) results[i] = { outcome: 'skipped', detail: 'The item has neither a contact ID nor an email address' };
	});
	if (results.filter(Boolean).length === contacts.length) return finish();

	let field: FieldDefinition;
	try {
		field = await tagField(api);
	} catch (error) {
		contacts.forEach((_c, i) => (results[i] ??= { outcome: 'failed', detail: failureMessage(error) }));
		return finish();
	}

	// Every contact is read first: the upsert would create one SendGrid no longer has, and a contact
	// that holds the value already is not written again.
	const ids = [...new Set(idOf.filter((id, i): id is string => id !== undefined && !results[i]))];
	const emails = [...new Set(emailOf.filter((e, i): e is string => e !== undefined && !results[i]))];
	const byId = ids.length > 0 ? await contactsById(api, ids) : undefined;
	const byEmail = emails.length > 0 ? await contactsByEmail(api, emails) : undefined;
	const toWrite = new Map<string, Contact>();
	contacts.forEach((_c, i) => {
		if (results[i]) return;
		const id = idOf[i];
		const email = emailOf[i];
		const lookup = id !== undefined ? byId : byEmail;
		const key = (id ?? email) as string;
		const failure = lookup?.failed.get(key);
		const contact = lookup?.found.get(key);
		if (failure !== undefined) results[i] = { outcome: 'failed', detail: failure };
		else if (!contact) {
			results[i] = {
				outcome: 'skipped',
				detail: `No SendGrid contact has this ${id !== undefined ? 'ID' : 'address'} (deleted?): not tagged, as writing it would create a contact`,
			};
		} else if (!contact.email) {
			found[i] = contact;
			results[i] = { outcome: 'skipped', detail: 'This SendGrid contact has no email address: not tagged' };
		} else {
			found[i] = contact;
			if (fieldValue(contact, field) === value) results[i] = { outcome: 'already', detail: `${field.name} is already ${value}` };
			else toWrite.set(contact.id, contact);
		}
	});

	const written = new Map<string, Result>();
	let refused: string | undefined;
	for (const batch of upsertBatches([...toWrite.values()], (c) => Buffer.byteLength(JSON.stringify(upsertEntry(c, field, value))))) {
		if (refused !== undefined) {
			for (const c of batch) written.set(c.id, { outcome: 'skipped', detail: `Not attempted after an earlier batch was refused: ${refused}` });
			continue;
		}
		const batchResult = await upsertBatch(api, batch, field, value);
		for (const [id, result] of batchResult.results) written.set(id, result);
		refused = batchResult.refused;
	}
	contacts.forEach((_c, i) => {
		if (!results[i] && found[i]) results[i] = written.get(found[i]!.id) ?? { outcome: 'failed', detail: 'No outcome' };
	});
	return finish();
}

function outcomeFor(ref: ContactRef, result: Result): WriteOutcome {
	const outcome: WriteOutcome = { index: ref.index, outcome: result.outcome };
	const contactId = text(ref.contactId) ?? result.contactId;
	const email = text(ref.email) ?? result.email;
	if (contactId !== undefined) outcome.contactId = contactId;
	if (email !== undefined) outcome.email = email;
	if (result.detail !== undefined) outcome.detail = result.detail;
	return outcome;
}

// ---------------------------------------------------------------------------------------------

const retry: RetryPolicy = {
	limit: 4,
	// Every request this module sends may be repeated: adding an address to the global unsubscribes
	// twice leaves one entry, deleting an ID twice leaves it deleted, writing the tag field twice
	// writes the same value, the POSTs that read (search, batch) change nothing, a repeated export
	// request only starts a second export, and creating the tag field again is refused (400) and
	// answered by finding the field.
	methods: ['GET', 'POST', 'PUT', 'DELETE'],
	statusCodes: [408, 429, 500, 502, 503, 504],
	maxRetryAfterMs: 120_000,
	backoffMs: 500,
	backoffLimitMs: 30_000,
};

function scopeHint(operation: string): string {
	if (/download/i.test(operation)) return 'The export file’s download link was refused or has expired: read the members again.';
	if (/unsubscribe contacts/i.test(operation)) {
		return 'The API key lacks the asm.suppressions.global.create scope (Suppressions: Full Access): give the key that scope, or use Verify only.';
	}
	if (/global unsubscribes/i.test(operation)) {
		return 'The API key lacks the suppression.unsubscribes.read scope (Suppressions: Read Access) needed to filter by status: give the key that scope, or read without a status filter.';
	}
	if (/delete|tag contacts|create the custom field/i.test(operation)) {
		return 'The API key may read but not change Marketing contacts: give the key Marketing: Full Access (the marketing.* scopes), or use Verify only.';
	}
	return 'The API key lacks the marketing.read scope (Marketing: Read Access): give the key that scope in Settings → API Keys.';
}

/** The SendGrid module: a Platform whose optional `tag`, `newMembers` and `recentMembers` are there. */
export type SendGridPlatform = Platform & Required<Pick<Platform, 'tag' | 'newMembers' | 'recentMembers'>>;

export const sendgrid: SendGridPlatform = {
	id: 'sendgrid',
	name: 'SendGrid',
	capabilities: {
		listKinds: ['list', 'segment'],
		unsubscribeScope: 'global',
		// SendGrid has no archive: DELETE /v3/marketing/contacts removes contacts for good ("Twilio SendGrid
		// recommends exporting your contacts regularly as a backup to avoid issues or lost data").
		deleteKind: 'permanent',
		permanentDelete: false,
		// A Text custom field (list_hygiene_category) stands in for a tag.
		tag: true,
		// Contacts created since, searched (POST /v3/marketing/contacts/search): SendGrid keeps no time a
		// contact joined a list, so an existing contact added to a list later is not seen as new.
		newMemberPolling: true,
	},
	limits: {
		pageSize: MEMBER_PAGE_SIZE,
		unsubscribeBatch: SUPPRESSION_BATCH,
		deleteBatch: ID_BATCH,
		// SendGrid publishes no per-endpoint numbers, only X-RateLimit-* headers (the retry policy reads
		// X-RateLimit-Reset); 600 a minute is the default it names for its older endpoints.
		rateLimit: { requests: 10, perMs: 1000 },
	},
	retry,
	credentials: [{ name: 'listHygieneSendGridApi', authentication: 'apiKey', displayName: 'API Key' }],

	cliAuth(credentials: CredentialFields): Record<string, string> {
		const key = text(credentials.apiKey);
		if (!key) throw new Error('SendGrid: the credential has no API key. Create one in SendGrid under Settings → API Keys.');
		return { authorization: `Bearer ${key}` };
	},

	async baseUrl(credentials: CredentialFields): Promise<string> {
		const override = text(credentials.baseUrl);
		// Our paths start with /v3, so an override that ends with it (copied from SendGrid's docs) is trimmed.
		return override ? override.replace(/\/+$/, '').replace(/\/v3$/i, '') : SENDGRID_API_URL;
	},

	hint(response: HttpResponse, operation: string): string | undefined {
		if (/download/i.test(operation) && response.status >= 400 && response.status < 500) return scopeHint(operation);
		if (response.status === 401) {
			return 'SendGrid rejected the API key: check it in Settings → API Keys, and for an EU regional subuser set the Base URL Override to https://api.eu.sendgrid.com.';
		}
		if (response.status === 403) return scopeHint(operation);
		if (response.status === 404 && /^(export the list|find the list)/.test(operation)) return 'SendGrid does not know this list or segment (any more): pick it again.';
		const messages = errorMessages(response.body);
		if (response.status === 400 && messages.length > 0) return `SendGrid says: ${messages.join('; ')}.`;
		return undefined;
	},

	async lists(api, query) {
		const operation = 'read lists';
		const request: ApiRequest = { method: 'GET', path: '/v3/marketing/lists', query: { page_size: LIST_PAGE_SIZE, page_token: query.cursor } };
		const body = await api.request(operation, request);
		if (!isObject(body) || !Array.isArray(body.result)) throw api.malformed(operation, request, 'no "result" list');
		const lists: PlatformList[] = body.result.map((list) => {
			if (!isObject(list) || !text(list.id)) throw api.malformed(operation, request, 'a list without an ID');
			return {
				id: String(text(list.id)),
				name: typeof list.name === 'string' ? list.name : String(list.id),
				kind: 'list' as const,
				memberCount: typeof list.contact_count === 'number' ? list.contact_count : undefined,
			};
		});
		const cursor = nextToken(api, request, body._metadata);
		// Segments have no pages: they come with the first page of lists.
		if (query.cursor === undefined) lists.push(...(await readSegments(api)));
		// SendGrid cannot filter lists by name: the filter applies to each page here.
		return { lists: lists.filter((list) => matches(list.name, query.filter)), cursor };
	},

	async *members(api, listId, query) {
		const urls = await exportContacts(api, listId);
		const wanted = query.status && query.status.length > 0 ? new Set<MemberStatus>(query.status) : undefined;
		const unsubscribed = wanted ? await globalUnsubscribes(api) : undefined;
		for (const url of urls) {
			const records = await downloadExport(api, url);
			const members: Member[] = [];
			for (const record of records) {
				const email = field(record, 'email')?.toLowerCase();
				const status: MemberStatus = unsubscribed && email ? (unsubscribed.has(email) ? 'unsubscribed' : 'subscribed') : 'unknown';
				if (wanted && !wanted.has(status)) continue;
				const member = memberFrom(record, listId, status);
				if (member) members.push(member);
			}
			for (const page of chunks(members, MEMBER_PAGE_SIZE)) yield page;
		}
	},

	async newMembers(api, listId, query) {
		const since = typeof query.since === 'string' ? Date.parse(query.since) : NaN;
		if (Number.isNaN(since)) throw new RangeError(`SendGrid: "${String(query.since)}" is not an ISO 8601 time to read new members since.`);
		// The first poll of a list makes sure it exists; a search of a deleted list would just find nobody.
		if (query.cursor !== foundCursor(listId)) await findList(api, listId, false);
		const operation = 'search the list’s new contacts';
		const segment = listId.startsWith(SEGMENT_PREFIX);
		const id = segment ? listId.slice(SEGMENT_PREFIX.length) : listId;
		// `created_at`, not `updated_at`: every change to a contact moves `updated_at` (our own Tag action
		// writes a field), which would bring old members back as new long after the caller forgot them.
		// The SGQL DateTime literal has whole seconds: the search starts at the second `since` falls in
		// (a little early; the caller drops whom it has seen). The search is eventually consistent: a
		// contact is searchable some time after it is created, which the caller's look-back covers.
		const from = Math.floor(since / 1000) * 1000;
		const literal = new Date(from).toISOString().replace(/\.\d{3}Z$/, 'Z');
		const request: ApiRequest = {
			method: 'POST',
			path: '/v3/marketing/contacts/search',
			body: { query: `CONTAINS(${segment ? 'segment_ids' : 'list_ids'}, ${sgqlString(id)}) AND created_at >= ${sgqlString(literal)}` },
		};
		const body = await api.request(operation, request);
		if (!isObject(body) || !Array.isArray(body.result) || typeof body.contact_count !== 'number') throw api.malformed(operation, request, 'no "result" list and "contact_count"');
		const found = body.result.filter(isObject);
		let records = found.map(asExportRecord);
		let source = request;
		if (body.contact_count > found.length) {
			// The search returns its first 50 only, in no documented order: the export has every member.
			records = [];
			for (const url of await exportContacts(api, listId)) records.push(...(await downloadExport(api, url)));
			source = { method: 'POST', path: '/v3/marketing/contacts/exports' };
		}
		return { members: createdSince(records, listId, from, api, operation, source), cursor: foundCursor(listId) };
	},

	async recentMembers(api, listId, limit) {
		if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`SendGrid: ${limit} is not a number of members to read; give a whole number.`);
		if (limit === 0) return [];
		// One request: "Up to 50 of the most recent contacts uploaded or attached to a list" (a segment's
		// `contacts_sample` is "a subset" of its contacts); newest first by creation, as newMembers dates them.
		const list = await findList(api, listId, true);
		const sample = list.contact_sample ?? list.contacts_sample;
		const contacts = (Array.isArray(sample) ? sample : [sample]).filter(isObject);
		const members = createdSince(contacts.map(asExportRecord), listId, -Infinity, api, 'find the list', { method: 'GET', path: `/v3/marketing/lists/${encodeURIComponent(listId)}` });
		return members.reverse().slice(0, Math.min(limit, SEARCH_RESULTS));
	},

	async unsubscribe(api, _listId, contacts) {
		const results: Result[] = new Array(contacts.length);
		const addressOf: (string | undefined)[] = contacts.map((c) => text(c.email)?.toLowerCase());
		// Global unsubscribes are by address: a ref with only an ID needs its contact's address.
		const idsWithout = [...new Set(contacts.filter((c, i) => addressOf[i] === undefined && text(c.contactId)).map((c) => String(text(c.contactId))))];
		const byId = idsWithout.length > 0 ? await contactsById(api, idsWithout) : undefined;
		contacts.forEach((contact, i) => {
			const id = text(contact.contactId);
			if (addressOf[i] !== undefined || !byId || !id) return;
			const failure = byId.failed.get(id);
			const found = byId.found.get(id);
			if (failure !== undefined) results[i] = { outcome: 'failed', detail: failure };
			else if (!found) results[i] = { outcome: 'skipped', detail: 'No SendGrid contact has this ID (deleted?), and without an address it cannot be unsubscribed' };
			else if (!found.email) results[i] = { outcome: 'skipped', detail: 'This SendGrid contact has no email address to unsubscribe' };
			else addressOf[i] = found.email;
		});
		contacts.forEach((_contact, i) => {
			const email = addressOf[i];
			if (results[i]) return;
			if (email === undefined) results[i] = { outcome: 'skipped', detail: 'The item has neither an email address nor a contact ID' };
			else if (!plausibleAddress(email)) results[i] = { outcome: 'failed', detail: `"${email}" is not an address SendGrid can unsubscribe` };
		});
		const emails = [...new Set(addressOf.filter((e, i): e is string => e !== undefined && !results[i]))];
		const done = emails.length > 0 ? await suppressGlobally(api, emails) : new Map<string, Result>();
		return contacts.map((contact, i) => {
			const email = addressOf[i];
			const result = results[i] ?? (email !== undefined ? done.get(email) : undefined) ?? { outcome: 'failed' as const, detail: 'No outcome' };
			return outcomeFor(contact, { ...result, email: result.email ?? email });
		});
	},

	// `permanent` changes nothing: SendGrid's only delete is permanent (capabilities.deleteKind).
	async delete(api, _listId, contacts, _options) {
		const results: Result[] = new Array(contacts.length);
		const idOf: (string | undefined)[] = contacts.map((c) => text(c.contactId));
		const emailsWithout = [
			...new Set(contacts.filter((c, i) => idOf[i] === undefined && text(c.email)).map((c) => String(text(c.email)).toLowerCase())),
		];
		const byEmail = emailsWithout.length > 0 ? await contactsByEmail(api, emailsWithout) : undefined;
		contacts.forEach((contact, i) => {
			if (idOf[i] !== undefined) return;
			const email = text(contact.email)?.toLowerCase();
			if (email === undefined || !byEmail) {
				results[i] = { outcome: 'skipped', detail: 'The item has neither a contact ID nor an email address' };
				return;
			}
			const failure = byEmail.failed.get(email);
			const found = byEmail.found.get(email);
			if (failure !== undefined) results[i] = { outcome: 'failed', detail: failure };
			else if (!found) results[i] = { outcome: 'already', detail: 'No SendGrid contact has this address (already deleted)' };
			else idOf[i] = found.id;
		});
		const ids = [...new Set(idOf.filter((id, i): id is string => id !== undefined && !results[i]))];
		const outcomes = new Map<string, Result>();
		let refused: string | undefined;
		for (const batch of chunks(ids, ID_BATCH)) {
			if (refused !== undefined) {
				for (const id of batch) outcomes.set(id, { outcome: 'skipped', detail: `Not attempted after an earlier batch was refused: ${refused}` });
				continue;
			}
			const batchResult = await deleteBatch(api, batch);
			for (const [id, result] of batchResult.results) outcomes.set(id, result);
			refused = batchResult.refused;
		}
		return contacts.map((contact, i) => {
			const id = idOf[i];
			const result = results[i] ?? (id !== undefined ? outcomes.get(id) : undefined) ?? { outcome: 'failed' as const, detail: 'No outcome' };
			return outcomeFor(contact, { ...result, contactId: result.contactId ?? id });
		});
	},

	async tag(api, _listId, contacts, tag) {
		return tagContacts(api, contacts, tag);
	},
};
