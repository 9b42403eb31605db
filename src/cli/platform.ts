// `list-hygiene lists|members|unsubscribe|delete --platform ID --credentials FILE [--list ID]`:
// the Email List node's operations from the command line, over the same platform modules.
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';

import { PlatformApiError } from '../http/client';
import { FetchTransport } from '../http/fetchTransport';
import { collect } from '../http/paginate';
import { createApiClient, getPlatform, listPlatforms, UnknownPlatformError } from '../platforms/registry';
import type { ContactRef, CredentialFields, MemberStatus, Platform, WriteOutcome } from '../platforms/types';
import { readCsvRecords } from '../util/csv';
import { CliError } from './errors';
import { readText } from './input';
import { parseFlags, positiveInteger } from './flags';
import type { CliIo } from './io';

type Command = 'lists' | 'members' | 'unsubscribe' | 'delete';

const USAGE: Record<Command, string> = {
	lists: 'list-hygiene lists --platform ID --credentials FILE [--filter TEXT]',
	members: 'list-hygiene members --platform ID --credentials FILE --list ID [--status S,...] [--limit N] [--raw]',
	unsubscribe: 'list-hygiene unsubscribe --platform ID --credentials FILE --list ID [FILE|-]',
	delete: 'list-hygiene delete --platform ID --credentials FILE --list ID [--permanent] [FILE|-]',
};

export function platformHelp(command: Command): string {
	const platforms = listPlatforms().map((p) => p.id).join(', ') || 'none';
	return `Usage: ${USAGE[command]} [--base-url URL]

--platform ID        one of: ${platforms}
--credentials FILE   a JSON object of the credential's fields, e.g. {"apiKey": "..."}; for OAuth2
                     platforms {"accessToken": "..."}; "baseUrl" overrides the API's address
--base-url URL       the API's address (proxies, sandboxes); overrides the credential's
${command === 'unsubscribe' || command === 'delete' ? 'FILE                 contacts as JSON lines (e.g. the output of `list-hygiene members`) or CSV\n                     with a contactId and/or email column; stdin when absent or -\n' : ''}-h, --help           show this help
`;
}

const STATUSES: readonly MemberStatus[] = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional', 'archived', 'unknown'];

export async function readCredentials(file: string): Promise<CredentialFields> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new CliError(`Cannot read the credentials file ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
	}
	let fields: unknown;
	try {
		fields = JSON.parse(text);
	} catch {
		throw new CliError(`The credentials file ${file} is not JSON. It should hold an object such as {"apiKey": "..."}.`);
	}
	if (!fields || typeof fields !== 'object' || Array.isArray(fields)) {
		throw new CliError(`The credentials file ${file} must hold a JSON object of the credential's fields, such as {"apiKey": "..."}.`);
	}
	return fields as CredentialFields;
}

export function secretsOf(fields: CredentialFields): string[] {
	return Object.values(fields).filter((v): v is string => typeof v === 'string' && v.length >= 4);
}

/** Contacts to act on: JSON lines with contactId/email, or CSV with such columns. */
async function readContacts(file: string, stdin: NodeJS.ReadableStream): Promise<ContactRef[]> {
	let text: string;
	try {
		text = file === '-' ? await readText(stdin) : await readFile(file, 'utf8');
	} catch (error) {
		throw new CliError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
	}
	const source = file === '-' ? 'stdin' : file;
	const trimmed = text.replace(/^\uFEFF/, '').trim();
	if (trimmed === '') throw new CliError(`${source} is empty: there are no contacts to act on.`);
	const contacts: ContactRef[] = [];
	const take = (index: number, contactId: unknown, email: unknown, where: string) => {
		const id = contactId === undefined || contactId === null ? '' : String(contactId).trim();
		const address = typeof email === 'string' ? email.trim() : '';
		if (!id && !address) throw new CliError(`${source} ${where} names no contact: it needs a contactId or an email.`);
		contacts.push({ index, contactId: id || undefined, email: address || undefined });
	};
	if (trimmed.startsWith('{')) {
		trimmed.split(/\r?\n/).forEach((line, i) => {
			if (line.trim() === '') return;
			let record: Record<string, unknown>;
			try {
				record = JSON.parse(line) as Record<string, unknown>;
			} catch {
				throw new CliError(`${source} line ${i + 1} is not a JSON object.`);
			}
			take(contacts.length, record.contactId ?? record.id, record.email, `line ${i + 1}`);
		});
		return contacts;
	}
	let header: string[] | undefined;
	let idColumn = -1;
	let emailColumn = -1;
	for await (const { record, line } of readCsvRecords(Readable.from([text]))) {
		if (!header) {
			header = record;
			const find = (names: string[]) => record.findIndex((h) => names.includes(h.trim().toLowerCase().replace(/[^a-z]/g, '')));
			idColumn = find(['contactid', 'id']);
			emailColumn = find(['email', 'emailaddress']);
			if (idColumn < 0 && emailColumn < 0) {
				throw new CliError(`${source} has no contactId or email column. Columns seen: ${record.map((h) => JSON.stringify(h)).join(', ')}.`);
			}
			continue;
		}
		take(contacts.length, record[idColumn], record[emailColumn], `line ${line}`);
	}
	return contacts;
}


export async function platformCommand(command: Command, args: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseFlags(command, args, {
		platform: { type: 'string' },
		credentials: { type: 'string' },
		list: { type: 'string' },
		'base-url': { type: 'string' },
		filter: { type: 'string' },
		status: { type: 'string' },
		limit: { type: 'string' },
		raw: { type: 'boolean' },
		permanent: { type: 'boolean' },
		help: { type: 'boolean', short: 'h' },
	});
	if (values.help) {
		io.stdout.write(platformHelp(command));
		return 0;
	}
	if (!values.platform) throw new CliError(`${command} needs --platform. Usage: ${USAGE[command]}`, 2);
	if (!values.credentials) throw new CliError(`${command} needs --credentials FILE. Usage: ${USAGE[command]}`, 2);
	if (command !== 'lists' && !values.list) throw new CliError(`${command} needs --list ID (see \`list-hygiene lists\`). Usage: ${USAGE[command]}`, 2);
	const writes = command === 'unsubscribe' || command === 'delete';
	if (positionals.length > (writes ? 1 : 0)) throw new CliError(`${command} takes ${writes ? 'one FILE' : 'no FILE'}; got: ${positionals.join(' ')}.`, 2);

	const status = values.status === undefined ? undefined : (values.status as string).split(',').map((s) => s.trim()) as MemberStatus[];
	const unknownStatus = status?.find((s) => !STATUSES.includes(s));
	if (unknownStatus) throw new CliError(`--status "${unknownStatus}" is not one of ${STATUSES.join(', ')}.`, 2);
	const limit = values.limit === undefined ? undefined : positiveInteger('--limit', values.limit as string);

	let platform: Platform;
	try {
		platform = getPlatform(values.platform as string);
	} catch (error) {
		if (error instanceof UnknownPlatformError) throw new CliError(error.message, 2);
		throw error;
	}
	const fields = await readCredentials(values.credentials as string);
	if (values['base-url']) fields.baseUrl = values['base-url'];

	const write = (value: unknown) => io.stdout.write(`${JSON.stringify(value)}\n`);
	try {
		const api = await createApiClient(platform, fields, new FetchTransport(platform.cliAuth(fields)), { secrets: secretsOf(fields) });
		if (command === 'lists') {
			let cursor: string | undefined;
			do {
				const page = await platform.lists(api, { filter: values.filter as string | undefined, cursor });
				for (const list of page.lists) write({ ...list, platform: platform.id });
				cursor = page.cursor;
			} while (cursor);
		} else if (command === 'members') {
			const members = await collect(platform.members(api, values.list as string, { status }), limit);
			for (const { raw, ...member } of members) write(values.raw ? { ...member, raw } : member);
		} else {
			if (command === 'delete' && platform.capabilities.deleteKind === 'none') {
				throw new CliError(`${platform.name} cannot delete contacts; use unsubscribe.`, 2);
			}
			const contacts = await readContacts(positionals[0] ?? '-', io.stdin);
			const outcomes: WriteOutcome[] =
				command === 'unsubscribe'
					? await platform.unsubscribe(api, values.list as string, contacts)
					: await platform.delete(api, values.list as string, contacts, { permanent: values.permanent === true });
			for (const outcome of outcomes) write({ action: command, ...outcome });
			const failed = outcomes.filter((o) => o.outcome === 'failed').length;
			const counts = ['done', 'already', 'failed', 'skipped'].map((k) => `${outcomes.filter((o) => o.outcome === k).length} ${k}`).join(', ');
			io.stderr.write(`list-hygiene: ${command} on ${platform.name}: ${counts} (${api.requests} requests)\n`);
			return failed > 0 ? 1 : 0;
		}
		io.stderr.write(`list-hygiene: ${command} on ${platform.name}: ${api.requests} requests\n`);
		return 0;
	} catch (error) {
		if (error instanceof PlatformApiError) throw new CliError(error.message);
		throw error;
	}
}
