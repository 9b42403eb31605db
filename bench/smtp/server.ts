// The world's mail hosts: one small SMTP server per host, listening on port 25 of the host's own
// loopback address (127.1.x.y). Every reply leaves `delayMs` after the command that asked for it
// arrived, so pipelined commands cost one round trip and unpipelined ones one each. Counts, per
// host, the sessions (TCP connections) it accepted and how many were open at once.
import { createServer, type Server, type Socket } from 'node:net';

import { Mailbox, type Host, type World, mailboxTable } from './model';

export interface HostStats {
	sessions: number;
	peakOpen: number;
	transactions: number;
	recipients: number;
	/** 452 4.5.3 replies (recipients beyond the host's limit). */
	tooMany: number;
	/** Replies sent as one write after one wait: the round trips the clients waited for. */
	roundTrips: number;
	/** Milliseconds since the last reset: the first connection opened, the last one closed. */
	firstOpenMs?: number;
	lastCloseMs?: number;
	/** Time its connections were open, added up. */
	openMs: number;
	/** Each connection's [opened, closed] in milliseconds since the last reset. */
	spans: Array<[number, number]>;
}

export interface MailHosts {
	/** By host index; refused hosts (nothing listens) stay at zero. */
	stats: HostStats[];
	reset(): void;
	close(): Promise<void>;
}

const emptyStats = (): HostStats => ({ sessions: 0, peakOpen: 0, transactions: 0, recipients: 0, tooMany: 0, roundTrips: 0, openMs: 0, spans: [] });

export class BindError extends Error {
	override name = 'BindError';
}

export async function startMailHosts(world: World, port = 25): Promise<MailHosts> {
	const mailboxes = mailboxTable(world);
	const catchAll = new Set(world.domains.filter((d) => d.kind === 'catch_all').map((d) => d.name));
	const served = world.hosts.map(() => new Set<string>());
	for (const domain of world.domains) for (const index of domain.mx) served[index].add(domain.name);

	let stats = world.hosts.map(emptyStats);
	let epoch = performance.now();
	let greylists = world.hosts.map(() => new Map<string, number>());
	const open = world.hosts.map(() => 0);
	const sockets = new Set<Socket>();
	const servers: Server[] = [];

	const serve = (host: Host, socket: Socket) => {
		const own = stats[host.index];
		const opened = performance.now() - epoch;
		own.firstOpenMs ??= opened;
		own.sessions++;
		open[host.index]++;
		own.peakOpen = Math.max(own.peakOpen, open[host.index]);
		sockets.add(socket);
		socket.setNoDelay(true);
		socket.on('error', () => socket.destroy());
		socket.on('close', () => {
			sockets.delete(socket);
			open[host.index]--;
			const closed = performance.now() - epoch;
			own.lastCloseMs = Math.max(own.lastCloseMs ?? 0, closed);
			own.openMs += closed - opened;
			own.spans.push([Math.round(opened), Math.round(closed)]);
		});
		if (host.kind === 'blackhole') return; // takes the connection, never says a word

		let buffered = '';
		let sender: string | undefined;
		let inTransaction = 0;
		let ended = false;
		const later = (text: string, end = false) =>
			setTimeout(() => {
				if (socket.destroyed || ended) return;
				own.roundTrips++;
				socket.write(text);
				if (end) {
					ended = true;
					socket.end();
				}
			}, host.delayMs);

		const answer = (line: string): string => {
			const verb = line.slice(0, 4).toUpperCase();
			const path = /<([^>]*)>/.exec(line)?.[1] ?? '';
			switch (verb) {
				case 'EHLO': {
					sender = undefined;
					const keywords = [host.name, ...(host.pipelining ? ['PIPELINING'] : []), 'SIZE 52428800', '8BITMIME', 'ENHANCEDSTATUSCODES', 'SMTPUTF8'];
					return keywords.map((k, i) => `250${i === keywords.length - 1 ? ' ' : '-'}${k}\r\n`).join('');
				}
				case 'HELO':
					sender = undefined;
					return `250 ${host.name}\r\n`;
				case 'MAIL':
					if (!/^MAIL FROM:/i.test(line)) return '501 5.5.4 Syntax: MAIL FROM:<address>\r\n';
					if (sender !== undefined) return '503 5.5.1 Error: nested MAIL command\r\n';
					sender = path;
					inTransaction = 0;
					own.transactions++;
					return '250 2.1.0 Ok\r\n';
				case 'RCPT':
					if (!/^RCPT TO:/i.test(line)) return '501 5.5.4 Syntax: RCPT TO:<address>\r\n';
					if (sender === undefined) return '503 5.5.1 Error: need MAIL command\r\n';
					return recipient(path);
				case 'RSET':
					sender = undefined;
					return '250 2.0.0 Ok\r\n';
				case 'NOOP':
					return '250 2.0.0 Ok\r\n';
				case 'VRFY':
					return '252 2.0.0 Send some mail, I will try my best\r\n';
				case 'DATA':
					return '554 5.5.1 This benchmark world never takes DATA\r\n';
				default:
					return '502 5.5.2 Error: command not recognized\r\n';
			}
		};

		const recipient = (address: string): string => {
			own.recipients++;
			inTransaction++;
			if (host.maxRecipients !== undefined && inTransaction > host.maxRecipients) {
				own.tooMany++;
				return '452 4.5.3 Error: too many recipients\r\n';
			}
			const at = address.lastIndexOf('@');
			const domain = address.slice(at + 1).toLowerCase();
			if (!served[host.index].has(domain)) return `554 5.7.1 <${address}>: Relay access denied\r\n`;
			if (host.kind === 'greylist') {
				const key = `${socket.remoteAddress}|${sender}|${address.toLowerCase()}`;
				const greylist = greylists[host.index];
				const first = greylist.get(key);
				const now = Date.now();
				if (first === undefined) greylist.set(key, now);
				if (first === undefined || now - first < world.params.greylistMs) {
					return `450 4.7.1 <${address}>: Recipient address rejected: Greylisted, try again later\r\n`;
				}
			}
			if (catchAll.has(domain)) return '250 2.1.5 Ok\r\n';
			const mailbox = mailboxes.get(domain)?.get(address.slice(0, at).toLowerCase());
			if (mailbox === Mailbox.Exists) return '250 2.1.5 Ok\r\n';
			if (mailbox === Mailbox.Full) return `552 5.2.2 <${address}>: Mailbox full\r\n`;
			return `550 5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table\r\n`;
		};

		later(`220 ${host.name} ESMTP benchmark world\r\n`);
		socket.on('data', (chunk: Buffer) => {
			buffered += chunk.toString('latin1');
			let out = '';
			for (let newline = buffered.indexOf('\n'); newline >= 0 && !ended; newline = buffered.indexOf('\n')) {
				const line = buffered.slice(0, newline).replace(/\r$/, '');
				buffered = buffered.slice(newline + 1);
				if (/^QUIT\b/i.test(line)) {
					later(`${out}221 2.0.0 Bye\r\n`, true);
					out = '';
					buffered = '';
					return;
				}
				out += answer(line);
			}
			if (out) later(out);
		});
	};

	try {
		for (const host of world.hosts) {
			if (host.kind === 'refused') continue;
			const server = createServer((socket) => serve(host, socket));
			servers.push(server);
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen({ port, host: host.ip, backlog: 1024 }, () => resolve());
			});
		}
	} catch (error) {
		await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
		const code = (error as NodeJS.ErrnoException).code;
		throw new BindError(
			code === 'EACCES'
				? `cannot listen on port ${port}: binding a port below 1024 needs root (or CAP_NET_BIND_SERVICE). Run the benchmark as root.`
				: `cannot listen on port ${port} of a 127.1.x.y address: ${(error as Error).message}`,
		);
	}

	return {
		get stats() {
			return stats;
		},
		reset() {
			stats = world.hosts.map(emptyStats);
			epoch = performance.now();
			greylists = world.hosts.map(() => new Map());
		},
		close: async () => {
			for (const socket of sockets) socket.destroy();
			await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
		},
	};
}
