// What the sandbox holds: its domains (how their DNS and mail servers behave) and a deterministic
// audience of 300 contacts at those domains, in the mix a real list has: mostly good addresses, some
// unknown users, a catch-all company, a greylisting host, a disposable provider, a domain that takes
// no mail, typos, role accounts, and a few members already unsubscribed or cleaned. The mix keeps
// the default clean-up (Invalid -> Unsubscribe, Disposable -> Delete) under 10% of the audience,
// within the default 20% rail, so "Clean automatically" works out of the box.
import type { DnsRecordSet, DnsZone } from './dns';
import type { DomainBehaviour, MailWorld } from './smtp';

/** What a contact's address is, and so what verifying it must find. */
export type ContactKind =
	| 'valid'
	| 'role'
	| 'unknown_user'
	| 'catch_all'
	| 'greylisted'
	| 'disposable'
	| 'null_mx'
	| 'no_domain'
	| 'typo_trap';

export interface SandboxContact {
	email: string;
	firstName: string;
	lastName: string;
	kind: ContactKind;
	status: 'subscribed' | 'unsubscribed' | 'cleaned';
	tags: string[];
	country: string;
}

export interface SandboxAudience {
	id: string;
	name: string;
	contacts: SandboxContact[];
}

interface SandboxDomain {
	/** The mail server's behaviour; absent: the domain has no server (null MX, or it does not exist). */
	behaviour?: DomainBehaviour;
	dns: 'mx' | 'null_mx' | 'nxdomain';
	/** Who the sandbox's people at this domain are (for generated addresses). */
	kinds: readonly ContactKind[];
}

/** Every domain of the sandbox, real-looking names under the reserved .test TLD (RFC 2606). */
export const SANDBOX_DOMAINS: Readonly<Record<string, SandboxDomain>> = {
	'northwind.test': { behaviour: 'mailboxes', dns: 'mx', kinds: ['valid', 'role', 'unknown_user'] },
	'fabrikam.test': { behaviour: 'mailboxes', dns: 'mx', kinds: ['valid', 'role', 'unknown_user'] },
	'tailspin.test': { behaviour: 'mailboxes', dns: 'mx', kinds: ['valid', 'role', 'unknown_user'] },
	'contoso.test': { behaviour: 'accept_all', dns: 'mx', kinds: ['catch_all'] },
	'adatum.test': { behaviour: 'greylist', dns: 'mx', kinds: ['greylisted'] },
	// Closed down: publishes "MX 0 ." (RFC 7505), it takes no mail.
	'litware.test': { dns: 'null_mx', kinds: ['null_mx'] },
	// ".con" for ".com": no such domain.
	'northwind.con': { dns: 'nxdomain', kinds: ['no_domain'] },
	// On the built-in disposable list; takes anything, like the real one.
	'mailinator.com': { behaviour: 'accept_all', dns: 'mx', kinds: ['disposable'] },
	// One slip from gmail.com: the kind of domain registered to catch typos; takes anything.
	'gnail.com': { behaviour: 'accept_all', dns: 'mx', kinds: ['typo_trap'] },
};

/** The sandbox's DNS answers for these names and suffixes only; anything else is refused. */
const ORIGINS = ['test', 'con', 'mailinator.com', 'gnail.com'];

/** The DNS zone: every mail host resolves to `mailHost`, where the sandbox's one SMTP server listens. */
export function sandboxZone(mailHost: string): DnsZone {
	const records: Record<string, DnsRecordSet> = {};
	const address: DnsRecordSet = mailHost.includes(':') ? { AAAA: [mailHost] } : { A: [mailHost] };
	for (const [domain, { dns }] of Object.entries(SANDBOX_DOMAINS)) {
		if (dns === 'mx') {
			records[domain] = { MX: [{ preference: 10, exchange: `mx.${domain}` }] };
			records[`mx.${domain}`] = address;
		} else if (dns === 'null_mx') {
			records[domain] = { MX: [{ preference: 0, exchange: '.' }] };
		}
	}
	return { origins: ORIGINS, records };
}

// --- the people ----------------------------------------------------------------------------

const FIRST_NAMES = [
	'Olivia', 'Liam', 'Emma', 'Noah', 'Amelia', 'Oliver', 'Sophia', 'Elijah', 'Mia', 'Lucas', 'Chloe', 'Mateo',
	'Isla', 'Hugo', 'Freya', 'Arjun', 'Priya', 'Kenji', 'Yuki', 'Fatima', 'Omar', 'Leila', 'Tomas', 'Ingrid',
	'Sven', 'Marta', 'Pablo', 'Lucia', 'Dmitri', 'Anya', 'Kwame', 'Ama', 'Chen', 'Mei', 'Rafael', 'Beatriz',
	'Niamh', 'Declan', 'Zara', 'Felix', 'Greta', 'Jonas', 'Elif', 'Emre', 'Hana', 'Jae', 'Aisha', 'Tariq',
];
const LAST_NAMES = [
	'Smith', 'Garcia', 'Müller', 'Rossi', 'Dubois', 'Kowalski', 'Nakamura', 'Patel', 'Okafor', 'Silva',
	'Jensen', 'Novak', 'Haddad', 'Kim', 'Andersson', 'Murphy', "O'Brien", 'Fischer', 'Costa', 'Ivanova',
	'Mensah', 'Tanaka', 'Hughes', 'Bauer', 'Moreau', 'Lindqvist', 'Chowdhury', 'Reyes', 'Vargas', 'Nguyen',
	'Schmidt', 'Walsh', 'Yilmaz', 'Sato', 'Khan', 'Bianchi', 'Horvat', 'Lopez', 'Weber', 'Adeyemi', 'Park',
];
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'NL', 'SE', 'CA', 'AU', 'IN', 'JP', 'BR', 'IE'];
const TAGS = ['customer', 'webinar', 'trial', 'newsletter-2024'];

/** How many of each kind the newsletter holds, and how many of those are not subscribed any more. */
const NEWSLETTER_MIX: ReadonlyArray<{ kind: ContactKind; count: number; unsubscribed?: number; cleaned?: number }> = [
	{ kind: 'valid', count: 225, unsubscribed: 3 },
	{ kind: 'role', count: 5 },
	{ kind: 'unknown_user', count: 15, unsubscribed: 2 },
	{ kind: 'catch_all', count: 24 },
	{ kind: 'greylisted', count: 12 },
	{ kind: 'disposable', count: 7 },
	{ kind: 'null_mx', count: 6, cleaned: 2 },
	{ kind: 'no_domain', count: 3 },
	{ kind: 'typo_trap', count: 3 },
];

const ROLE_LOCAL_PARTS = ['info', 'sales', 'support', 'office', 'hello'];

/** A small deterministic generator (mulberry32): the same sandbox on every start. */
function random(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const slug = (name: string) =>
	name
		.normalize('NFD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^a-z]/g, '');

function domainsFor(kind: ContactKind): string[] {
	return Object.entries(SANDBOX_DOMAINS)
		.filter(([, domain]) => domain.kinds.includes(kind))
		.map(([name]) => name);
}

function buildNewsletter(): SandboxContact[] {
	const next = random(20240101);
	const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
	const used = new Set<string>();
	const contacts: SandboxContact[] = [];
	for (const { kind, count, unsubscribed = 0, cleaned = 0 } of NEWSLETTER_MIX) {
		const domains = domainsFor(kind);
		for (let i = 0; i < count; i++) {
			const firstName = pick(FIRST_NAMES);
			const lastName = pick(LAST_NAMES);
			const domain = domains[i % domains.length];
			let local = kind === 'role' ? ROLE_LOCAL_PARTS[i % ROLE_LOCAL_PARTS.length] : `${slug(firstName)}.${slug(lastName)}`;
			// Unknown users: the mailbox a person once had, or a slip in their own name.
			if (kind === 'unknown_user') local = i % 3 === 0 ? `${slug(firstName)}${slug(lastName)[0]}` : `${slug(firstName)}.${slug(lastName)}.old`;
			let email = `${local}@${domain}`;
			for (let n = 2; used.has(email); n++) email = `${local}${n}@${domain}`;
			used.add(email);
			const status = i < unsubscribed ? 'unsubscribed' : i < unsubscribed + cleaned ? 'cleaned' : 'subscribed';
			const tags = next() < 0.3 ? [pick(TAGS)] : [];
			contacts.push({ email, firstName: kind === 'role' ? '' : firstName, lastName: kind === 'role' ? '' : lastName, kind, status, tags, country: pick(COUNTRIES) });
		}
	}
	// Shuffled (Fisher-Yates), so the audience reads like a sign-up history, not a table of cases.
	for (let i = contacts.length - 1; i > 0; i--) {
		const j = Math.floor(next() * (i + 1));
		[contacts[i], contacts[j]] = [contacts[j], contacts[i]];
	}
	return contacts;
}

const NEWSLETTER = buildNewsletter();

/** Audience ids, Mailchimp-style (ten hex digits). */
export const NEWSLETTER_ID = 'a7c1e2f3d4';
export const CUSTOMERS_ID = 'b8d2f3a4e5';

/**
 * The audiences: "Sandbox newsletter" (300, the one the Try-it workflow cleans) and "Sandbox
 * customers" (25 of the same people, all good), so the list picker shows more than one and a
 * clean-up of the newsletter can be seen to leave the other list alone.
 */
export const SANDBOX_AUDIENCES: readonly SandboxAudience[] = [
	{ id: NEWSLETTER_ID, name: 'Sandbox newsletter', contacts: NEWSLETTER },
	{
		id: CUSTOMERS_ID,
		name: 'Sandbox customers',
		contacts: NEWSLETTER.filter((c) => c.kind === 'valid' && c.status === 'subscribed')
			.filter((_, i) => i % 9 === 0)
			.slice(0, 25)
			.map((c) => ({ ...c, tags: ['customer'] })),
	},
];

/** Mailboxes that exist but are on no list yet: what a new sign-up (or the printed curl line) uses. */
export const SPARE_MAILBOXES = ['new.reader@northwind.test', 'jo.bloggs@fabrikam.test', 'sam.taylor@tailspin.test'];

/** The mail servers' world: which domain does what, and which mailboxes exist. */
export function sandboxMailWorld(greylistDelayMs: number): MailWorld & { mailboxes: Set<string> } {
	const domains: Record<string, DomainBehaviour> = {};
	for (const [name, domain] of Object.entries(SANDBOX_DOMAINS)) if (domain.behaviour) domains[name] = domain.behaviour;
	const mailboxes = new Set<string>(SPARE_MAILBOXES);
	for (const audience of SANDBOX_AUDIENCES) {
		for (const c of audience.contacts) if (c.kind === 'valid' || c.kind === 'role' || c.kind === 'greylisted') mailboxes.add(c.email.toLowerCase());
	}
	return { domains, mailboxes, greylistDelayMs };
}
