// The simulated mail world of the SMTP benchmark: mail hosts, domains, mailboxes, the address
// list, the truth table and the latency lower bounds. Everything is derived from the parameters
// and a seed, so the world process and each verifier process build the same world on their own.

export interface WorldParams {
	addresses: number;
	domains: number;
	hosts: number;
	/** Delay before every reply of an ordinary host (the round trip of the latency model). */
	latencyMs: number;
	/** Added to `latencyMs` for slow hosts. */
	slowExtraMs: number;
	/** How long a greylisting host keeps refusing a (client IP, sender, recipient) triplet. */
	greylistMs: number;
	seed: number;
}

/**
 * normal: PIPELINING, answers after `latencyMs`. slow: the same after `latencyMs + slowExtraMs`.
 * nopipe: no PIPELINING. limit: at most 10 RCPT per transaction (452 4.5.3 beyond).
 * greylist: 450 4.7.1 for every first-time triplet. refused: nothing listens at its address.
 * blackhole: accepts the TCP connection and never says anything.
 */
export type HostKind = 'normal' | 'slow' | 'nopipe' | 'limit' | 'greylist' | 'refused' | 'blackhole';

export interface Host {
	index: number;
	name: string;
	ip: string;
	kind: HostKind;
	delayMs: number;
	pipelining: boolean;
	maxRecipients?: number;
}

export type DomainKind = 'normal' | 'catch_all';

export interface Domain {
	index: number;
	name: string;
	kind: DomainKind;
	/** Host indices by MX preference (10, 20, ...). */
	mx: number[];
	size: number;
}

/** What a mailbox is, for the hosts that answer about it. */
export const Mailbox = { Exists: 0, Unknown: 1, Full: 2 } as const;
export type Mailbox = (typeof Mailbox)[keyof typeof Mailbox];

export const TRUTHS = ['valid', 'invalid', 'catch_all', 'risky', 'unknown'] as const;
export type Truth = (typeof TRUTHS)[number];

export interface World {
	params: WorldParams;
	hosts: Host[];
	domains: Domain[];
	/** The input list, in list order (domains interleaved, as real lists are). */
	addresses: string[];
	/** Per address: its domain index. */
	domainOf: Uint32Array;
	/** Per address: the Mailbox kind. */
	mailbox: Uint8Array;
}

export const RECIPIENT_LIMIT_OF_LIMIT_HOSTS = 10;

// --- a small seeded PRNG (mulberry32) ------------------------------------------------------------

function prng(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function shuffle<T>(items: T[], random: () => number): T[] {
	for (let i = items.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[items[i], items[j]] = [items[j], items[i]];
	}
	return items;
}

const NAME_A = ['north', 'blue', 'stone', 'river', 'maple', 'cedar', 'silver', 'harbor', 'summit', 'pine', 'oak', 'granite', 'copper', 'lake', 'meadow', 'falcon', 'orchard', 'prairie', 'atlas', 'beacon'];
const NAME_B = ['works', 'labs', 'logistics', 'partners', 'foods', 'metals', 'media', 'health', 'textiles', 'capital', 'systems', 'dental', 'builders', 'farms', 'legal', 'motors', 'design', 'analytics', 'supply', 'travel'];
const FIRST = ['anna', 'ben', 'carla', 'david', 'elena', 'felix', 'greta', 'hugo', 'irene', 'jonas', 'karin', 'lukas', 'marta', 'nils', 'olga', 'paul', 'rosa', 'stefan', 'tina', 'viktor', 'wanda', 'yusuf', 'zoe', 'milan'];
const LAST = ['meyer', 'novak', 'rossi', 'garcia', 'smith', 'kowalski', 'dubois', 'jensen', 'silva', 'horvat', 'weber', 'moreau', 'costa', 'nagy', 'berg', 'keller', 'lindqvist', 'popescu', 'romano', 'fischer'];

/** Host IPs: listening hosts on 127.1.x.y, hosts where nothing listens on 127.2.x.y. */
function hostIp(index: number, listening: boolean): string {
	return `127.${listening ? 1 : 2}.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

export function defaultParams(addresses = 10_000): WorldParams {
	const domains = Math.max(10, Math.round(addresses / 20));
	return {
		addresses,
		domains,
		hosts: Math.max(10, Math.round(domains * 0.3)),
		latencyMs: 50,
		slowExtraMs: 150,
		greylistMs: 300_000,
		seed: 20_250_101,
	};
}

export function buildWorld(params: WorldParams): World {
	const random = prng(params.seed);
	const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
	const H = params.hosts;
	const D = params.domains;

	// Hosts: a few of each special kind, the rest ordinary.
	const kinds: HostKind[] = [];
	const add = (kind: HostKind, count: number) => {
		for (let i = 0; i < count; i++) kinds.push(kind);
	};
	add('refused', Math.max(1, Math.round(H * 0.02)));
	add('blackhole', Math.max(1, Math.round(H * 0.007)));
	add('slow', Math.max(1, Math.round(H * 0.05)));
	add('greylist', Math.max(1, Math.round(H * 0.05)));
	add('nopipe', Math.max(1, Math.round(H * 0.02)));
	add('limit', Math.max(1, Math.round(H * 0.03)));
	add('normal', Math.max(1, H - kinds.length));
	shuffle(kinds, random);
	const hosts: Host[] = kinds.map((kind, index) => ({
		index,
		name: `mx${index + 1}.mailgrid${index % 7}.net`,
		ip: hostIp(index, kind !== 'refused'),
		kind,
		delayMs: params.latencyMs + (kind === 'slow' ? params.slowExtraMs : 0),
		pipelining: kind !== 'nopipe',
		maxRecipients: kind === 'limit' ? RECIPIENT_LIMIT_OF_LIMIT_HOSTS : undefined,
	}));
	const ofKind = (...wanted: HostKind[]) => hosts.filter((h) => wanted.includes(h.kind));
	const live = ofKind('normal', 'slow', 'nopipe', 'limit', 'greylist');
	const normal = ofKind('normal');
	const refused = ofKind('refused');
	const blackhole = ofKind('blackhole');

	// Domain sizes: a long tail (weight 1/(rank + 20)): from a handful of addresses to about 7x the mean.
	const weights = Array.from({ length: D }, (_, rank) => 1 / (rank + 20));
	const total = weights.reduce((a, b) => a + b, 0);
	const sizes = weights.map((w) => Math.max(1, Math.floor((w / total) * params.addresses)));
	for (let i = 0, left = params.addresses - sizes.reduce((a, b) => a + b, 0); left > 0; i = (i + 1) % D, left--) sizes[i]++;
	shuffle(sizes, random);

	const domains: Domain[] = sizes.map((size, index) => ({
		index,
		name: `${NAME_A[index % NAME_A.length]}${NAME_B[Math.floor(index / NAME_A.length) % NAME_B.length]}-${index + 1}.com`,
		kind: 'normal',
		mx: [],
		size,
	}));

	// Dead primaries serve small domains only, so that timeouts do not dominate the run:
	// 1% behind a refused host with a working backup MX, 1% behind a refused host alone, and one
	// domain per blackhole host, with a working backup MX.
	const small = shuffle(
		[...domains].sort((a, b) => a.size - b.size).slice(0, Math.ceil(D / 2)),
		random,
	);
	let next = 0;
	const refusedBackup = Math.max(1, Math.round(D * 0.01));
	const refusedOnly = Math.max(1, Math.round(D * 0.01));
	for (let i = 0; i < refusedBackup; i++) small[next++].mx = [refused[i % refused.length].index, pick(normal).index];
	for (let i = 0; i < refusedOnly; i++) small[next++].mx = [refused[i % refused.length].index];
	for (const host of blackhole) small[next++].mx = [host.index, pick(normal).index];

	for (const domain of domains) {
		if (domain.mx.length > 0) continue;
		const primary = pick(live);
		domain.mx = [primary.index];
		// Many domains publish a second MX that is never needed here.
		if (random() < 0.3) {
			const backup = pick(live);
			if (backup !== primary) domain.mx.push(backup.index);
		}
		if (random() < 0.1) domain.kind = 'catch_all';
	}

	// Mailboxes and the address list: 82% exist, 16% unknown, 2% full.
	const addresses: string[] = [];
	const domainOf: number[] = [];
	const mailbox: number[] = [];
	for (const domain of domains) {
		const taken = new Set<string>();
		for (let i = 0; i < domain.size; i++) {
			let local: string;
			do local = `${pick(FIRST)}.${pick(LAST)}${Math.floor(random() * 1000)}`;
			while (taken.has(local));
			taken.add(local);
			const roll = random();
			addresses.push(`${local}@${domain.name}`);
			domainOf.push(domain.index);
			mailbox.push(roll < 0.82 ? Mailbox.Exists : roll < 0.98 ? Mailbox.Unknown : Mailbox.Full);
		}
	}
	const order = shuffle(
		Array.from({ length: addresses.length }, (_, i) => i),
		random,
	);
	return {
		params,
		hosts,
		domains,
		addresses: order.map((i) => addresses[i]),
		domainOf: Uint32Array.from(order, (i) => domainOf[i]),
		mailbox: Uint8Array.from(order, (i) => mailbox[i]),
	};
}

/** The host that answers for a domain: its first MX host that talks SMTP. */
export function answeringHost(world: World, domain: Domain): Host | undefined {
	return domain.mx.map((i) => world.hosts[i]).find((h) => h.kind !== 'refused' && h.kind !== 'blackhole');
}

/**
 * The verdict that one pass over the list can reach (greylisting is not waited out): what the
 * answering host says, `catch_all` for domains that take any address, `unknown` when no host
 * answers or the host greylists.
 */
export function truthOf(world: World, index: number): Truth {
	const domain = world.domains[world.domainOf[index]];
	const host = answeringHost(world, domain);
	if (!host || host.kind === 'greylist') return 'unknown';
	if (domain.kind === 'catch_all') return 'catch_all';
	const mailbox = world.mailbox[index] as Mailbox;
	return mailbox === Mailbox.Exists ? 'valid' : mailbox === Mailbox.Unknown ? 'invalid' : 'risky';
}

/** Lower-case local part to mailbox kind, per domain name: what the world's hosts look up. */
export function mailboxTable(world: World): Map<string, Map<string, Mailbox>> {
	const table = new Map<string, Map<string, Mailbox>>();
	for (const domain of world.domains) table.set(domain.name, new Map());
	world.addresses.forEach((address, i) => {
		const at = address.lastIndexOf('@');
		table.get(address.slice(at + 1))!.set(address.slice(0, at).toLowerCase(), world.mailbox[i] as Mailbox);
	});
	return table;
}

// --- lower bounds ----------------------------------------------------------------------------

export interface BoundOptions {
	/** Sessions open at once. */
	concurrency: number;
	/** RCPT commands per transaction (before a host's own limit). */
	recipientsPerTransaction: number;
	/** How long a verifier waits for a greeting that never comes. */
	greetingTimeoutMs: number;
	/** Round trips per pipelined transaction: 3 = MAIL, the RCPT batch, RSET; 1 = all in one group. */
	roundTripsPerTransaction: 3 | 1;
}

export interface Bound {
	/** The bound: the larger of the two below. */
	ms: number;
	/** All hosts' busy time spread evenly over the sessions. */
	spreadMs: number;
	/** The longest single host (one session per host, its work in sequence). */
	longestHostMs: number;
	longestHost: string;
	/** Round trips over all hosts. */
	roundTrips: number;
}

/**
 * The least wall time a verifier that holds one session per host can take (see bench/README.md):
 * each host's session costs greeting + EHLO + per transaction (MAIL + pipelined RCPTs + RSET)
 * round trips at the host's reply delay; without PIPELINING every RCPT is its own round trip. A
 * domain's addresses go in transactions of `recipientsPerTransaction`, plus one random local part
 * when the domain has an address to compare it with (in the last transaction, or, on a host that
 * caps recipients, counted against that cap). A blackhole
 * costs its greeting timeout, before its domains reach their backup host. bound = max(sum of host
 * times / concurrency, longest host).
 */
export function sessionBound(world: World, options: BoundOptions): Bound {
	const rounds = new Map<number, number>();
	/** Per host: round trips of the domains that reach it only after a blackhole's greeting timeout. */
	const afterTimeout = new Map<number, number>();
	const blackholes = new Set<Host>();
	let longestHostMs = 0;
	let longestHost = '';
	let roundTrips = 0;
	const longer = (ms: number, name: string) => {
		if (ms > longestHostMs) [longestHostMs, longestHost] = [ms, name];
	};
	const withMailbox = new Set<number>();
	for (let i = 0; i < world.addresses.length; i++) if (world.mailbox[i] === Mailbox.Exists) withMailbox.add(world.domainOf[i]);

	for (const domain of world.domains) {
		const host = answeringHost(world, domain);
		if (!host) continue;
		const blackhole = domain.mx.map((i) => world.hosts[i]).find((h) => h.kind === 'blackhole');
		if (blackhole) blackholes.add(blackhole);
		const acceptsSome = host.kind !== 'greylist' && (domain.kind === 'catch_all' || withMailbox.has(domain.index));
		const recipients = domain.size + (acceptsSome ? 1 : 0);
		// The random local part rides in the domain's last transaction, unless the host caps recipients.
		const transactions = host.maxRecipients
			? Math.ceil(recipients / Math.min(options.recipientsPerTransaction, host.maxRecipients))
			: Math.ceil(domain.size / options.recipientsPerTransaction);
		const trips = host.pipelining ? transactions * options.roundTripsPerTransaction : 2 * transactions + recipients;
		rounds.set(host.index, (rounds.get(host.index) ?? 0) + trips);
		if (blackhole) afterTimeout.set(host.index, (afterTimeout.get(host.index) ?? 0) + trips);
	}
	let busy = blackholes.size * options.greetingTimeoutMs;
	for (const blackhole of blackholes) longer(options.greetingTimeoutMs, blackhole.name);
	for (const [index, trips] of rounds) {
		const host = world.hosts[index];
		const total = 2 + trips; // greeting and EHLO
		roundTrips += total;
		busy += total * host.delayMs;
		longer(total * host.delayMs, host.name);
		// Domains behind a blackhole: the timeout, then (at best) a session of their own.
		const late = afterTimeout.get(index);
		if (late !== undefined) longer(options.greetingTimeoutMs + (2 + late) * host.delayMs, host.name);
	}
	const spreadMs = busy / options.concurrency;
	return { ms: Math.max(spreadMs, longestHostMs), spreadMs, longestHostMs, longestHost, roundTrips };
}

/**
 * The least wall time of a verifier that opens one connection per address (as deep-email-validator
 * does): greeting, HELO, MAIL, RCPT at the best MX host's delay; a refused connection costs
 * nothing, a blackhole `greetingTimeoutMs`; the work spread evenly over `concurrency` connections.
 */
export function perAddressBound(world: World, concurrency: number, greetingTimeoutMs: number): number {
	let busy = 0;
	for (let i = 0; i < world.addresses.length; i++) {
		const domain = world.domains[world.domainOf[i]];
		const best = world.hosts[domain.mx[0]];
		if (best.kind === 'refused') continue;
		busy += best.kind === 'blackhole' ? greetingTimeoutMs : 4 * best.delayMs;
	}
	return busy / concurrency;
}
