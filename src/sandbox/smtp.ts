// The sandbox's mail server: one SMTP listener for every sandbox domain. Every MX of the sandbox
// resolves to the same loopback address, so what a domain's "server" does is decided by the
// recipient's domain: a mailbox domain accepts its mailboxes and rejects unknown users (550 5.1.1),
// an accept-all domain takes any recipient (a catch-all, a disposable service, a trap), and a
// greylisting domain defers a new client (450 4.7.1) until it comes back after a short delay.
// It speaks just enough ESMTP for a prober (EHLO, PIPELINING, MAIL, RCPT, RSET, NOOP, QUIT) and
// never accepts DATA: nothing sent to the sandbox is ever a message.
import { createServer, type Socket } from 'node:net';

export type DomainBehaviour = 'mailboxes' | 'accept_all' | 'greylist';

export interface MailWorld {
	/** What each served domain's server does; other domains are not ours (relay denied). */
	domains: Readonly<Record<string, DomainBehaviour>>;
	/** Existing mailboxes (lower-case addresses) at 'mailboxes' and 'greylist' domains. */
	mailboxes: ReadonlySet<string>;
	/** How long a greylisted client must wait before its retry is accepted. */
	greylistDelayMs: number;
}

export interface SandboxSmtpServer {
	host: string;
	port: number;
	/** Sessions opened so far. */
	readonly sessions: number;
	close(): Promise<void>;
}

const HOSTNAME = 'mx.sandbox.test';
const MAX_LINE = 1000; // RFC 5321 §4.5.3.1.6, with room for parameters
const IDLE_TIMEOUT_MS = 60_000;

/** Postgrey-like memory: when a (client, sender, domain) was first deferred, and who has passed. */
class Greylist {
	private readonly firstSeen = new Map<string, number>();
	private readonly passed = new Set<string>();

	constructor(private readonly delayMs: number) {}

	/** Seconds left to wait, or 0 when this client may deliver to the domain. */
	check(key: string, now = Date.now()): number {
		if (this.passed.has(key)) return 0;
		const first = this.firstSeen.get(key);
		if (first === undefined) {
			this.firstSeen.set(key, now);
			return Math.ceil(this.delayMs / 1000);
		}
		if (now - first < this.delayMs) return Math.ceil((this.delayMs - (now - first)) / 1000);
		// Came back after the delay, as a real sender does: remembered from now on.
		this.passed.add(key);
		this.firstSeen.delete(key);
		return 0;
	}
}

/** The reply to RCPT TO:<address> from `client` with envelope sender `from`. */
function rcptReply(world: MailWorld, greylist: Greylist, client: string, from: string, address: string): string {
	const at = address.lastIndexOf('@');
	const domain = address.slice(at + 1).toLowerCase();
	const behaviour = at > 0 ? world.domains[domain] : undefined;
	if (!behaviour) return `554 5.7.1 <${address}>: Relay access denied`;
	if (behaviour === 'accept_all') return `250 2.1.5 <${address}>: Recipient ok`;
	if (behaviour === 'greylist') {
		const wait = greylist.check(`${client}|${from.toLowerCase()}|${domain}`);
		if (wait > 0) return `450 4.7.1 <${address}>: Recipient address rejected: Greylisted, please try again in ${wait} seconds`;
	}
	if (world.mailboxes.has(address.toLowerCase())) return `250 2.1.5 <${address}>: Recipient ok`;
	return `550 5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table`;
}

/** The address inside `<...>` after `MAIL FROM:` or `RCPT TO:`, or undefined when malformed. */
function pathOf(line: string, verb: RegExp): string | undefined {
	const match = verb.exec(line);
	return match ? match[1] : undefined;
}

export async function startSmtpServer(world: MailWorld, options: { host?: string; port?: number } = {}): Promise<SandboxSmtpServer> {
	const host = options.host ?? '127.0.0.1';
	const greylist = new Greylist(world.greylistDelayMs);
	const sockets = new Set<Socket>();
	let sessions = 0;

	const server = createServer((socket) => {
		sessions++;
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => socket.destroy());
		socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.end(`421 4.4.2 ${HOSTNAME} Idle timeout, closing connection\r\n`));

		const client = socket.remoteAddress ?? '';
		let greeted = false;
		let from: string | undefined;
		let recipients = 0;
		let pending = '';
		const say = (text: string) => {
			if (!socket.writableEnded) socket.write(`${text}\r\n`);
		};

		// Pipelined commands arrive together; each gets its reply in order (RFC 2920).
		const handle = (line: string) => {
			const verb = line.split(' ', 1)[0].toUpperCase();
			switch (verb) {
				case 'EHLO':
				case 'HELO':
					if (!line.slice(5).trim()) return say(`501 5.5.4 Syntax: ${verb} hostname`);
					greeted = true;
					from = undefined;
					recipients = 0;
					return say(
						verb === 'HELO'
							? `250 ${HOSTNAME}`
							: [`250-${HOSTNAME} greets ${line.slice(5).trim()}`, '250-PIPELINING', '250-SIZE 10240000', '250-8BITMIME', '250-SMTPUTF8', '250 ENHANCEDSTATUSCODES'].join('\r\n'),
					);
				case 'MAIL': {
					if (!greeted) return say('503 5.5.1 Error: send HELO/EHLO first');
					if (from !== undefined) return say('503 5.5.1 Error: nested MAIL command');
					const sender = pathOf(line, /^MAIL FROM:\s*<([^<>]*)>/i);
					if (sender === undefined) return say('501 5.1.7 Bad sender address syntax');
					from = sender;
					return say('250 2.1.0 Ok');
				}
				case 'RCPT': {
					if (from === undefined) return say('503 5.5.1 Error: need MAIL command');
					const address = pathOf(line, /^RCPT TO:\s*<([^<>]+)>/i);
					if (address === undefined) return say('501 5.1.3 Bad recipient address syntax');
					const reply = rcptReply(world, greylist, client, from, address);
					if (reply.startsWith('250')) recipients++;
					return say(reply);
				}
				case 'DATA':
					return say(recipients === 0 ? '554 5.5.1 Error: no valid recipients' : '554 5.7.0 This sandbox never accepts messages: it only answers probes');
				case 'RSET':
					from = undefined;
					recipients = 0;
					return say('250 2.0.0 Ok');
				case 'NOOP':
					return say('250 2.0.0 Ok');
				case 'VRFY':
					return say('252 2.0.0 Send some mail, I will try my best');
				case 'QUIT':
					say('221 2.0.0 Bye');
					socket.end();
					return;
				default:
					return say('502 5.5.2 Error: command not recognized');
			}
		};

		socket.on('data', (chunk: Buffer) => {
			pending += chunk.toString('latin1');
			for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
				const line = pending.slice(0, newline).replace(/\r$/, '');
				pending = pending.slice(newline + 1);
				if (line.length > MAX_LINE) say('500 5.5.2 Error: line too long');
				else handle(line);
			}
			if (pending.length > MAX_LINE) {
				pending = '';
				say('500 5.5.2 Error: line too long');
			}
		});
		say(`220 ${HOSTNAME} ESMTP List Hygiene sandbox`);
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('the sandbox SMTP server has no TCP address');

	return {
		host,
		port: address.port,
		get sessions() {
			return sessions;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}
