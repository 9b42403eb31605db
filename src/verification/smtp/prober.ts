// SMTP probing of a whole batch. Work is grouped by mail host: one session per host serves every
// address of every domain that host receives mail for, one transaction per domain batch (MAIL FROM,
// RCPT TO..., RSET: one pipelined group, so one round trip, when the server offers PIPELINING),
// with a random-local-part catch-all probe after a domain's real addresses.
// Hosts are tried in MX preference order; a host that cannot be reached, refuses us or keeps
// dropping the session hands its domains to the next one. Every wait is bounded by a timeout and
// every retry by a count, so a run ends even when servers never answer.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import { createLimiter, type Limiter } from '../../util/limit';
import type { MailDns } from '../dns';
import type { SmtpResult } from '../types';
import { classifyReply, type ReplyOutcome } from './replies';
import { SmtpError, SmtpSession, type SmtpReply, type SmtpTransaction, type Socks5Proxy } from './session';
import { isPublicAddress } from './targets';

export interface SmtpOptions {
	/** Port of the mail hosts (25; tests and sandboxes use others). */
	port?: number;
	/** EHLO name; the machine's host name when absent. */
	heloName?: string;
	/** Envelope sender; `verify@<heloName>` when absent, "" for the null sender. */
	mailFrom?: string;
	connectTimeoutMs?: number;
	commandTimeoutMs?: number;
	/** SMTP sessions open at once over all hosts. */
	concurrency?: number;
	/** SMTP sessions open at once to one mail host. */
	perHostConcurrency?: number;
	/** RCPT commands per transaction; lowered for a host that answers 452 4.5.3. */
	recipientsPerTransaction?: number;
	/** Connect to private, loopback, link-local and reserved addresses (off by default). */
	allowPrivateNetworks?: boolean;
	proxy?: Socks5Proxy;
	/** Opportunistic STARTTLS (on by default). */
	startTls?: boolean;
	/** Probe greylisted addresses once more after this many milliseconds (off when 0 or absent). */
	greylistRetryDelayMs?: number;
	/** Probe a random local part to detect catch-all domains (on by default). */
	catchAllProbe?: boolean;
}

export type ProbeOutcome =
	| ReplyOutcome
	| 'timeout'
	| 'unreachable'
	| 'refused_private_target'
	| 'no_host_address'
	| 'smtputf8_unsupported'
	| 'mail_from_rejected'
	| 'protocol_error';

/** What the mail servers said about one address: the decisive reply and where it came from. */
export interface SmtpEvidence extends SmtpResult {
	outcome: ProbeOutcome;
}

export interface ProbeRecipient {
	/** The caller's key for this address. */
	id: number;
	/** local@domain, domain in A-labels. */
	address: string;
	smtputf8: boolean;
}

export interface DomainProbe {
	domain: string;
	/** Mail hosts by preference. */
	hosts: string[];
	recipients: ProbeRecipient[];
}

export interface SmtpRunSummary {
	sessions: number;
	hostsTried: number;
	hostsConnected: number;
	/** Hosts that refused us for our IP's sake (554 at connect, RBL and reputation replies). */
	blockedHosts: Array<{ host: string; ip?: string; reply: string }>;
	/** No connection succeeded although several hosts were tried: outbound port 25 is probably closed. */
	port25Blocked: boolean;
	greylistRetried: number;
}

const DEFAULTS = {
	port: 25,
	connectTimeoutMs: 10_000,
	commandTimeoutMs: 30_000,
	concurrency: 16,
	perHostConcurrency: 1,
	recipientsPerTransaction: 20,
};

/** Sessions a host may lose (drops, 421, timeouts mid-session) before its domains move on. */
const MAX_HOST_FAILURES = 3;

interface Task {
	probe: DomainProbe;
	pending: ProbeRecipient[];
	hostIndex: number;
	lastFailure?: SmtpEvidence;
	catchAllAddress?: string;
	/** The random local part got an answer in this round (conclusive or not). */
	catchAllAnswered?: boolean;
}

interface HostQueue {
	name: string;
	tasks: Task[];
	active: number;
	/** Sessions started that have not taken a task yet. */
	starting: number;
	batchSize: number;
	failures: number;
	/** Set once the host is given up on: the evidence its remaining domains carry to the next host. */
	dead?: SmtpEvidence;
	target?: { ip: string };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function replyEvidence(reply: SmtpReply, outcome: ProbeOutcome, where: Partial<SmtpEvidence>): SmtpEvidence {
	return { ...where, outcome, code: reply.code, enhanced: reply.enhanced, text: reply.text };
}

function isPositive(reply: SmtpReply): boolean {
	return reply.code >= 200 && reply.code < 300;
}

function randomLocalPart(): string {
	// Letters and digits only, long enough never to be a real mailbox.
	return `x${randomBytes(9).toString('hex')}`;
}

export class SmtpProber {
	readonly summary: SmtpRunSummary = {
		sessions: 0,
		hostsTried: 0,
		hostsConnected: 0,
		blockedHosts: [],
		port25Blocked: false,
		greylistRetried: 0,
	};

	private readonly options: Required<Omit<SmtpOptions, 'proxy' | 'greylistRetryDelayMs' | 'heloName' | 'mailFrom'>> &
		Pick<SmtpOptions, 'proxy' | 'greylistRetryDelayMs'> & { heloName: string; mailFrom: string };
	private readonly limit: Limiter;
	private readonly hosts = new Map<string, HostQueue>();
	/** Per domain, for the run: did a random local part get accepted (true) or rejected (false)? */
	private readonly catchAll = new Map<string, boolean>();
	private results = new Map<number, SmtpEvidence>();
	private outstanding = 0;
	private readonly running = new Set<Promise<void>>();
	private readonly quitting = new Set<Promise<void>>();
	private finished: () => void = () => undefined;
	private connectFailuresOnly = true;

	constructor(
		private readonly dns: MailDns,
		options: SmtpOptions = {},
		/** Told each time a recipient gets its evidence (again, after a greylist retry). */
		private readonly onRecord?: (id: number) => void,
	) {
		const heloName = options.heloName?.trim() || hostname() || 'localhost';
		this.options = {
			port: options.port ?? DEFAULTS.port,
			connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
			commandTimeoutMs: options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
			concurrency: options.concurrency ?? DEFAULTS.concurrency,
			perHostConcurrency: options.perHostConcurrency ?? DEFAULTS.perHostConcurrency,
			recipientsPerTransaction: options.recipientsPerTransaction ?? DEFAULTS.recipientsPerTransaction,
			allowPrivateNetworks: options.allowPrivateNetworks ?? false,
			startTls: options.startTls ?? true,
			catchAllProbe: options.catchAllProbe ?? true,
			proxy: options.proxy,
			greylistRetryDelayMs: options.greylistRetryDelayMs,
			heloName,
			mailFrom: options.mailFrom ?? `verify@${heloName}`,
		};
		this.limit = createLimiter(this.options.concurrency);
	}

	/** Probes every recipient; the map holds one piece of evidence per recipient id. */
	async probe(domains: readonly DomainProbe[]): Promise<Map<number, SmtpEvidence>> {
		this.results = new Map();
		await this.round(domains.map((probe) => ({ probe, pending: [...probe.recipients] })));

		const delay = this.options.greylistRetryDelayMs ?? 0;
		if (delay > 0) {
			// Greylisted addresses, and domains whose random-local-part probe was greylisted, once more.
			const again = domains
				.map((probe) => ({ probe, pending: probe.recipients.filter((r) => this.results.get(r.id)?.outcome === 'greylisted') }))
				.filter(({ probe, pending }) => pending.length > 0 || this.needsCatchAllProbe(probe));
			if (again.length > 0) {
				this.summary.greylistRetried = again.reduce((n, entry) => n + entry.pending.length, 0);
				await sleep(delay);
				await this.round(again);
			}
		}

		// An accepted address is only as good as its domain's answer to the random probe.
		for (const domain of domains) {
			for (const r of domain.recipients) {
				const evidence = this.results.get(r.id);
				if (evidence?.outcome === 'accepted') evidence.catchAll = this.catchAll.get(domain.domain);
			}
		}
		this.summary.port25Blocked =
			this.summary.hostsConnected === 0 && this.summary.hostsTried >= 2 && this.connectFailuresOnly;
		return this.results;
	}

	private record(id: number, evidence: SmtpEvidence): void {
		this.results.set(id, evidence);
		this.onRecord?.(id);
	}

	private needsCatchAllProbe(probe: DomainProbe): boolean {
		return this.options.catchAllProbe && !this.catchAll.has(probe.domain) && this.anyAccepted(probe);
	}

	private async round(entries: ReadonlyArray<{ probe: DomainProbe; pending: ProbeRecipient[] }>): Promise<void> {
		const tasks = entries.filter(({ probe, pending }) => pending.length > 0 || this.needsCatchAllProbe(probe));
		if (tasks.length === 0) return;
		const done = new Promise<void>((resolve) => (this.finished = resolve));
		this.outstanding = tasks.length;
		for (const { probe, pending } of tasks) this.assign({ probe, pending: [...pending], hostIndex: 0 });
		await done;
		// Every address is settled; let the sessions say QUIT before the run ends.
		await Promise.all(this.running);
		await Promise.all(this.quitting);
		this.quitting.clear();
	}

	private settle(task: Task, evidence: SmtpEvidence): void {
		for (const r of task.pending) this.record(r.id, { ...evidence });
		task.pending = [];
		this.complete();
	}

	private complete(): void {
		this.outstanding--;
		if (this.outstanding === 0) this.finished();
	}

	/** Queues a task at its current host, or settles it when no host is left. */
	private assign(task: Task): void {
		const name = task.probe.hosts[task.hostIndex];
		if (name === undefined) {
			this.settle(task, task.lastFailure ?? { outcome: 'unreachable' });
			return;
		}
		let queue = this.hosts.get(name);
		if (!queue) {
			queue = { name, tasks: [], active: 0, starting: 0, batchSize: this.options.recipientsPerTransaction, failures: 0 };
			this.hosts.set(name, queue);
		}
		queue.tasks.push(task);
		this.pump(queue);
	}

	private failOver(task: Task, evidence: SmtpEvidence): void {
		task.lastFailure = evidence;
		task.hostIndex++;
		this.assign(task);
	}

	/** Starts sessions for a host while it has work and room, or passes its work on when it is dead. */
	private pump(queue: HostQueue): void {
		if (queue.dead) {
			for (const task of queue.tasks.splice(0)) this.failOver(task, queue.dead);
			return;
		}
		// A new session only for work that no open session will pick up: an idle session is a wasted
		// connection, and hosts count connections.
		while (queue.active < this.options.perHostConcurrency && queue.tasks.length > queue.starting) {
			queue.active++;
			queue.starting++;
			const running = this.limit(() => this.session(queue)).finally(() => {
				this.running.delete(running);
				queue.active--;
				this.pump(queue);
			});
			this.running.add(running);
		}
	}

	private async resolveTarget(queue: HostQueue): Promise<{ ip: string } | (SmtpEvidence & { outcome: ProbeOutcome })> {
		const where = { host: queue.name, port: this.options.port };
		const found = await this.dns.hostAddresses(queue.name);
		if (found.addresses.length === 0) {
			return { ...where, outcome: 'no_host_address', text: found.error ? `lookup failed: ${found.error.reason}` : 'no A or AAAA record' };
		}
		const allowed = this.options.allowPrivateNetworks ? found.addresses : found.addresses.filter(isPublicAddress);
		if (allowed.length === 0) {
			return { ...where, ip: found.addresses[0], outcome: 'refused_private_target', text: `${found.addresses.join(', ')} is not a public address` };
		}
		return { ip: allowed[0] };
	}

	private async connect(queue: HostQueue, ip: string): Promise<SmtpSession> {
		const options = {
			host: ip,
			port: this.options.port,
			servername: queue.name,
			heloName: this.options.heloName,
			connectTimeoutMs: this.options.connectTimeoutMs,
			greetingTimeoutMs: this.options.commandTimeoutMs,
			commandTimeoutMs: this.options.commandTimeoutMs,
			startTls: this.options.startTls,
			proxy: this.options.proxy,
		};
		try {
			return await SmtpSession.connect(options);
		} catch (error) {
			// A failed TLS handshake leaves the connection unusable: try once more in plain text.
			if (error instanceof SmtpError && error.code === 'ETLS' && options.startTls) {
				return await SmtpSession.connect({ ...options, startTls: false });
			}
			throw error;
		}
	}

	/** One SMTP session: serves the host's queued domains until the queue is empty or the session ends. */
	private async session(queue: HostQueue): Promise<void> {
		let starting = true;
		const started = () => {
			if (starting) queue.starting--;
			starting = false;
		};
		try {
			await this.serveHost(queue, started);
		} finally {
			started();
		}
	}

	private async serveHost(queue: HostQueue, started: () => void): Promise<void> {
		if (queue.tasks.length === 0 || queue.dead) return;
		if (!queue.target) {
			const target = await this.resolveTarget(queue);
			if ('outcome' in target) {
				queue.dead = target;
				return;
			}
			queue.target = target;
			this.summary.hostsTried++;
		}
		const where = { host: queue.name, ip: queue.target.ip, port: this.options.port };

		let session: SmtpSession;
		try {
			session = await this.connect(queue, queue.target.ip);
		} catch (error) {
			queue.dead = this.connectFailure(error, where);
			return;
		}
		this.summary.sessions++;
		this.markConnected(queue.name);

		let progressed = false;
		try {
			for (let task = queue.tasks.shift(); task; task = queue.tasks.shift()) {
				started();
				const outcome = await this.serve(session, queue, task, { ...where, tls: session.capabilities.tls });
				if (outcome.resolved > 0) progressed = true;
				if (outcome.state === 'done') continue;
				queue.tasks.unshift(task);
				// A session that ended without settling a single address counts against the host.
				if (outcome.state === 'failed' || !progressed) {
					queue.failures++;
					if (queue.failures >= MAX_HOST_FAILURES) queue.dead = outcome.evidence ?? { ...where, outcome: 'timeout' };
				}
				break;
			}
		} finally {
			// Saying goodbye needs no concurrency slot: the next session may start meanwhile.
			this.quitting.add(session.quit());
		}
	}

	private readonly connected = new Set<string>();
	private markConnected(host: string): void {
		if (this.connected.has(host)) return;
		this.connected.add(host);
		this.summary.hostsConnected++;
	}

	private connectFailure(error: unknown, where: Partial<SmtpEvidence>): SmtpEvidence {
		if (error instanceof SmtpError && error.reply) {
			// The server answered, so the network is open; it just would not take us.
			this.connectFailuresOnly = false;
			if (where.host) this.markConnected(where.host);
			const outcome = error.reply.code === 554 ? 'blocked' : classifyReply(error.reply);
			if (outcome === 'blocked') this.recordBlock(where.host!, where.ip, error.reply);
			return replyEvidence(error.reply, outcome, where);
		}
		const code = error instanceof SmtpError ? error.code : 'ECONNECTION';
		// A failing proxy, or a session that broke after connecting, is not a closed port 25.
		if (!(error instanceof SmtpError) || error.phase !== 'connect' || code === 'EPROXY') this.connectFailuresOnly = false;
		const text = error instanceof Error ? error.message : String(error);
		return { ...where, outcome: code === 'ETIMEDOUT' ? 'timeout' : code === 'EPROTOCOL' ? 'protocol_error' : 'unreachable', text };
	}

	/**
	 * Probes one domain's pending recipients over an open session, transaction by transaction.
	 * `done`: the task is settled. `requeue`: the session cannot go on (limit reached, 421); the
	 * task continues in another session. `failed`: the session broke.
	 */
	private async serve(
		session: SmtpSession,
		queue: HostQueue,
		task: Task,
		where: Partial<SmtpEvidence>,
	): Promise<{ state: 'done' | 'requeue' | 'failed'; resolved: number; evidence?: SmtpEvidence }> {
		const { domain } = task.probe;
		let resolved = 0;

		// A UTF-8 local part may only go to a server that offers SMTPUTF8.
		if (!session.capabilities.smtputf8) {
			for (const r of task.pending.filter((p) => p.smtputf8)) {
				this.record(r.id, { ...where, outcome: 'smtputf8_unsupported' });
				resolved++;
			}
			task.pending = task.pending.filter((p) => !p.smtputf8);
		}

		const probeCatchAll = () => this.options.catchAllProbe && !this.catchAll.has(domain) && !task.catchAllAnswered;
		while (task.pending.length > 0 || (probeCatchAll() && this.anyAccepted(task.probe))) {
			const batch = task.pending.slice(0, queue.batchSize);
			const last = batch.length === task.pending.length;
			// The random local part rides in the last transaction when there is room for it: over the
			// server's recipient limit it would only earn a 452 and a transaction of its own.
			const probeAddress =
				last && batch.length < queue.batchSize && probeCatchAll() ? (task.catchAllAddress ??= `${randomLocalPart()}@${domain}`) : undefined;
			const addresses = [...batch.map((r) => r.address), ...(probeAddress ? [probeAddress] : [])];
			if (addresses.length === 0) break;

			// MAIL FROM, the RCPTs and RSET: one round trip with PIPELINING, one command at a time
			// without. RSET always rides along: it costs no round trip, and a domain failed over from
			// another host may join this session's queue while the group is on its way.
			let transaction: SmtpTransaction;
			try {
				transaction = await session.transaction(this.options.mailFrom, addresses, {
					smtputf8: batch.some((r) => r.smtputf8),
					rset: true,
				});
			} catch (error) {
				// MAIL FROM refused, then the server hung up: the refusal is what counts.
				if (error instanceof SmtpError && error.mailReply && !isPositive(error.mailReply)) {
					return this.senderRefused(queue, error.mailReply, where, resolved);
				}
				if (error instanceof SmtpError && error.partial) resolved += this.apply(task, queue, batch, probeAddress, error.partial, where).resolved;
				return { state: 'failed', resolved, evidence: this.connectFailure(error, where) };
			}
			// The RCPT replies behind a refused MAIL FROM (503 need MAIL command) are no verdicts.
			if (!transaction.mailAccepted) return this.senderRefused(queue, transaction.mail, where, resolved);

			const applied = this.apply(task, queue, batch, probeAddress, transaction.rcpt, where);
			resolved += applied.resolved;
			if (applied.stop === 'closing') return { state: 'requeue', resolved };
			if (applied.stop === 'limit' && applied.takenBefore === 0) {
				// The session's own recipient budget is spent: a new session continues.
				return { state: 'requeue', resolved };
			}
			if (transaction.rset?.code === 421) return { state: 'requeue', resolved };
		}
		this.complete();
		return { state: 'done', resolved };
	}

	/** MAIL FROM was refused: try again later (4xx, 421), or give up on the host for every domain. */
	private senderRefused(
		queue: HostQueue,
		mail: SmtpReply,
		where: Partial<SmtpEvidence>,
		resolved: number,
	): { state: 'requeue'; resolved: number; evidence?: SmtpEvidence } {
		const outcome = classifyReply(mail);
		if (outcome === 'closing' || outcome === 'temporary') return { state: 'requeue', resolved, evidence: replyEvidence(mail, outcome, where) };
		if (outcome === 'blocked') this.recordBlock(queue.name, where.ip, mail);
		// Our sender is refused here: no answer from this host can be trusted for any domain.
		queue.dead = replyEvidence(mail, outcome === 'blocked' ? 'blocked' : 'mail_from_rejected', where);
		return { state: 'requeue', resolved };
	}

	private recordBlock(host: string, ip: string | undefined, reply: SmtpReply): void {
		if (this.summary.blockedHosts.some((b) => b.host === host)) return;
		this.summary.blockedHosts.push({ host, ip, reply: [reply.code, reply.enhanced, reply.text].filter(Boolean).join(' ') });
	}

	private anyAccepted(probe: DomainProbe): boolean {
		return probe.recipients.some((r) => this.results.get(r.id)?.outcome === 'accepted');
	}

	/** Records the replies of one transaction; stops at the first reply that ends it. */
	private apply(
		task: Task,
		queue: HostQueue,
		batch: ProbeRecipient[],
		probeAddress: string | undefined,
		replies: SmtpReply[],
		where: Partial<SmtpEvidence>,
	): { resolved: number; stop?: 'limit' | 'closing'; takenBefore: number } {
		let resolved = 0;
		let takenBefore = 0;
		let stop: 'limit' | 'closing' | undefined;
		const settled = new Set<number>();
		for (let i = 0; i < replies.length; i++) {
			const reply = replies[i];
			const outcome = classifyReply(reply);
			if (outcome === 'too_many_recipients') {
				// A limit of the server, never a verdict: send the rest in transactions of the size it took.
				takenBefore = i;
				queue.batchSize = Math.max(1, i > 0 ? i : Math.floor(queue.batchSize / 2));
				stop = 'limit';
				break;
			}
			if (outcome === 'closing') {
				stop = 'closing';
				break;
			}
			if (i >= batch.length) {
				// The random local part: accepted means the domain takes anything; only a clear answer is
				// kept (a greylisted probe is asked again in the greylist retry round).
				if (probeAddress) {
					task.catchAllAnswered = true;
					if (outcome === 'accepted') this.catchAll.set(task.probe.domain, true);
					else if (outcome === 'mailbox_not_found' || outcome === 'mailbox_disabled') this.catchAll.set(task.probe.domain, false);
				}
				continue;
			}
			this.record(batch[i].id, replyEvidence(reply, outcome, where));
			settled.add(batch[i].id);
			resolved++;
		}
		task.pending = task.pending.filter((r) => !settled.has(r.id));
		return { resolved, stop, takenBefore: stop === 'limit' ? takenBefore : replies.length };
	}
}
