// The sandbox: the whole pipeline without an account or the internet. A stateful fake Mailchimp
// seeded with the sandbox audiences, an authoritative DNS server for the sandbox domains and one
// SMTP server behind all of their mail hosts, on loopback and high ports, no root needed.
// `npm start` serves it next to n8n; `list-hygiene sandbox` serves it for the command line.
import { isIP } from 'node:net';

import { startDnsServer, type SandboxDnsServer } from './dns';
import { fakeSubscriberHash, startFakeMailchimp, type FakeMailchimp, type FakeMailchimpMember } from './mailchimp';
import { NEWSLETTER_ID, SANDBOX_AUDIENCES, sandboxMailWorld, sandboxZone, SANDBOX_DOMAINS, type SandboxContact } from './seed';
import { startSmtpServer, type SandboxSmtpServer } from './smtp';

export { CUSTOMERS_ID, NEWSLETTER_ID, SANDBOX_AUDIENCES, SANDBOX_DOMAINS, SPARE_MAILBOXES, type ContactKind, type SandboxContact } from './seed';
export { ARRIVAL_WORKFLOW_ID, ARRIVAL_WORKFLOW_NAME, sandboxWorkflow, TRY_IT_WORKFLOW_ID, type SandboxCopy, type WorkflowTemplate } from './workflow';

/** `npm start`'s base port: the API on it, DNS on the next, SMTP on the one after. */
export const DEFAULT_SANDBOX_PORT = 5690;
export const SANDBOX_PORT_ENV = 'LIST_HYGIENE_SANDBOX_PORT';

/** The sandbox's API key, fixed so a credential or command line copied once keeps working. Not a secret: it opens only the local fake. */
export const SANDBOX_API_KEY = `${'5a4db0c1'.repeat(4)}-us0`;
export const SANDBOX_CREDENTIAL_ID = 'LhSandboxMcKey01';
export const SANDBOX_CREDENTIAL_NAME = 'Sandbox Mailchimp (local fake)';
/** The name the verifier gives in EHLO, and so the probe's sender domain. */
export const SANDBOX_HELO = 'verifier.sandbox.test';

export interface SandboxOptions {
	/** Where every server listens (default 127.0.0.1; "::1" for IPv6 loopback). */
	host?: string;
	/** Base port: the API on it, DNS (UDP and TCP) on port+1, SMTP on port+2. 0: free ports. */
	port?: number;
	/** How long the greylisting domain defers a new sender (default 2 s). */
	greylistDelayMs?: number;
}

/** The n8n credential, as `n8n import:credentials` takes it (a type alias: plain JSON, indexable). */
export type SandboxCredential = {
	id: string;
	name: string;
	type: 'listHygieneMailchimpApi';
	data: { apiKey: string; baseUrl: string };
};

/** The Verify Email node's option names, set to reach the sandbox's DNS and mail servers. */
export interface SandboxVerifyOptions {
	dnsServers: string;
	dnsTimeoutMs: number;
	smtpPort: number;
	allowPrivateNetworks: true;
	heloName: string;
	connectTimeoutMs: number;
	commandTimeoutMs: number;
}

export interface Sandbox {
	mailchimp: FakeMailchimp;
	apiKey: string;
	/** The Mailchimp API base URL (…/3.0) the credential's Base URL Override names. */
	apiUrl: string;
	dns: { host: string; port: number; address: string };
	smtp: { host: string; port: number };
	audiences: Array<{ id: string; name: string }>;
	credential: SandboxCredential;
	verifyOptions: SandboxVerifyOptions;
	/** Adds a subscribed member now (a new sign-up); its mailbox exists unless `mailbox: false`. */
	addSubscriber(email: string, options?: { listId?: string; name?: string; mailbox?: boolean }): FakeMailchimpMember;
	close(): Promise<void>;
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellWord(word: string): string {
	return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A shell command that signs someone up to a sandbox audience through its API, as a sign-up form would. */
export function subscribeCommand(sandbox: Pick<Sandbox, 'apiKey' | 'apiUrl'>, email: string, listId: string = NEWSLETTER_ID): string {
	const body = JSON.stringify({ email_address: email, status: 'subscribed' });
	return `curl -u anystring:${sandbox.apiKey} -H 'content-type: application/json' -d ${shellWord(body)} ${sandbox.apiUrl}/lists/${listId}/members`;
}

/** A port the sandbox could not listen on: which, for what, and how to choose another. */
export class SandboxPortError extends Error {
	override name = 'SandboxPortError';
}

const TAG_IDS = new Map<string, number>();
const tagId = (name: string) => {
	if (!TAG_IDS.has(name)) TAG_IDS.set(name, 101 + TAG_IDS.size);
	return TAG_IDS.get(name)!;
};

const mailchimpTime = (date: Date) => date.toISOString().replace(/\.\d+Z$/, '+00:00');

function memberSeed(contact: SandboxContact): Partial<FakeMailchimpMember> & { email_address: string } {
	return {
		email_address: contact.email,
		status: contact.status,
		full_name: [contact.firstName, contact.lastName].filter(Boolean).join(' '),
		merge_fields: { FNAME: contact.firstName, LNAME: contact.lastName, ADDRESS: '', PHONE: '' },
		tags: contact.tags.map((name) => ({ id: tagId(name), name })),
		language: 'en',
		location: { latitude: 0, longitude: 0, country_code: contact.country },
	};
}

/** Loopback when the servers listen on every interface: that is where this machine reaches them. */
function reachable(host: string): string {
	if (host === '0.0.0.0') return '127.0.0.1';
	if (host === '::') return '::1';
	return host;
}

const urlHost = (host: string) => (isIP(host) === 6 ? `[${host}]` : host);

/** Runs `start`; a port already taken becomes an error that names it and the way out. */
async function onPort<T>(what: string, host: string, port: number, start: () => Promise<T>): Promise<T> {
	try {
		return await start();
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'EADDRINUSE' || code === 'EACCES') {
			throw new SandboxPortError(
				`The sandbox cannot listen on ${host} port ${port} for ${what}: ${code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}. ` +
					`Choose another base port with ${SANDBOX_PORT_ENV}=<port>; the sandbox uses it and the next two.`,
			);
		}
		throw error;
	}
}

/** Starts the fake Mailchimp, the DNS server and the SMTP server; `close()` stops all three. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
	const host = options.host ?? '127.0.0.1';
	const base = options.port ?? 0;
	if (!Number.isInteger(base) || base < 0 || base > 65533) {
		throw new SandboxPortError(`The sandbox base port must be a whole number from 1 to 65533 (or 0 for free ports), not ${options.port}.`);
	}
	const at = (offset: number) => (base === 0 ? 0 : base + offset);
	const local = reachable(host);
	const world = sandboxMailWorld(options.greylistDelayMs ?? 2000);
	const stops: Array<() => Promise<void>> = [];
	const close = async () => {
		await Promise.all(stops.splice(0).map((stop) => stop().catch(() => undefined)));
	};

	try {
		const mailchimp = await onPort('the Mailchimp API', host, at(0), () =>
			startFakeMailchimp({
				host,
				port: at(0),
				apiKey: SANDBOX_API_KEY,
				pollsToFinish: 1,
				audiences: SANDBOX_AUDIENCES.map((a) => ({ id: a.id, name: a.name, members: a.contacts.map(memberSeed) })),
			}),
		);
		stops.push(() => mailchimp.close());
		const apiPort = Number(new URL(mailchimp.origin).port);

		const dns: SandboxDnsServer = await onPort('DNS (UDP and TCP)', host, at(1), () => startDnsServer(sandboxZone(local), { host, port: at(1) }));
		stops.push(() => dns.close());
		const smtp: SandboxSmtpServer = await onPort('SMTP', host, at(2), () => startSmtpServer(world, { host, port: at(2) }));
		stops.push(() => smtp.close());

		const apiUrl = `http://${urlHost(local)}:${apiPort}/3.0`;
		const dnsAddress = isIP(local) === 6 ? `[${local}]:${dns.port}` : `${local}:${dns.port}`;
		return {
			mailchimp,
			apiKey: SANDBOX_API_KEY,
			apiUrl,
			dns: { host: local, port: dns.port, address: dnsAddress },
			smtp: { host: local, port: smtp.port },
			audiences: SANDBOX_AUDIENCES.map(({ id, name }) => ({ id, name })),
			credential: {
				id: SANDBOX_CREDENTIAL_ID,
				name: SANDBOX_CREDENTIAL_NAME,
				type: 'listHygieneMailchimpApi',
				data: { apiKey: SANDBOX_API_KEY, baseUrl: apiUrl },
			},
			verifyOptions: {
				dnsServers: dnsAddress,
				dnsTimeoutMs: 2000,
				smtpPort: smtp.port,
				allowPrivateNetworks: true,
				heloName: SANDBOX_HELO,
				connectTimeoutMs: 2000,
				commandTimeoutMs: 5000,
			},
			addSubscriber(email, { listId = NEWSLETTER_ID, name = '', mailbox = true } = {}) {
				const audience = mailchimp.state.audiences.get(listId);
				if (!audience) throw new Error(`The sandbox has no audience ${listId}; its audiences: ${SANDBOX_AUDIENCES.map((a) => a.id).join(', ')}.`);
				const address = email.trim();
				if (!/^[^@\s]+@[^@\s]+$/.test(address)) throw new Error(`"${email}" is not an email address.`);
				const id = fakeSubscriberHash(address);
				const existing = audience.members.get(id);
				if (existing && existing.status !== 'archived') throw new Error(`${address} is already a member of ${audience.name} (${existing.status}).`);
				const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
				if (mailbox && SANDBOX_DOMAINS[domain]?.behaviour !== 'accept_all') world.mailboxes.add(address.toLowerCase());
				const now = mailchimpTime(new Date());
				const [firstName = '', ...rest] = name.trim().split(/\s+/).filter(Boolean);
				const member: FakeMailchimpMember = {
					id,
					email_address: address,
					unique_email_id: id.slice(0, 10),
					contact_id: fakeSubscriberHash(`contact:${address}`),
					full_name: name.trim(),
					status: 'subscribed',
					email_type: 'html',
					merge_fields: { FNAME: firstName, LNAME: rest.join(' '), ADDRESS: '', PHONE: '' },
					tags: [],
					vip: false,
					language: 'en',
					timestamp_signup: now,
					timestamp_opt: now,
					last_changed: now,
					list_id: listId,
					location: { latitude: 0, longitude: 0, country_code: '' },
					_links: [],
				};
				audience.members.set(id, member);
				return member;
			},
			close,
		};
	} catch (error) {
		await close();
		throw error;
	}
}
