// The sandbox's DNS: a small authoritative server for the sandbox's domains, on UDP and TCP, with
// node:dgram and node:net alone (RFC 1035 wire format, the few record types mail routing needs:
// MX, A, AAAA, and the null MX `0 .` of RFC 7505). Names under one of its origins that it does not
// hold get NXDOMAIN, a held name without the asked type gets NODATA (both with the origin's SOA, as
// real servers send them); names outside its origins are REFUSED: the sandbox never pretends to
// know the real internet, so an address there stays Unknown instead of turning Invalid.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';

export interface DnsRecordSet {
	MX?: ReadonlyArray<{ preference: number; exchange: string }>;
	A?: readonly string[];
	AAAA?: readonly string[];
}

export interface DnsZone {
	/** Suffixes this server is authoritative for (e.g. "test"): unknown names below them do not exist. */
	origins: readonly string[];
	/** Records by lower-case name, without the trailing dot. */
	records: Readonly<Record<string, DnsRecordSet>>;
}

export interface SandboxDnsServer {
	host: string;
	port: number;
	/** `host:port` (`[v6]:port`), as the Verify Email node's DNS Servers option takes it. */
	address: string;
	/** Queries answered so far, over UDP and TCP. */
	readonly queries: number;
	close(): Promise<void>;
}

export const TYPE = { A: 1, SOA: 6, MX: 15, AAAA: 28, OPT: 41, ANY: 255 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const CLASS_IN = 1;
const TTL = 60;
/** What we offer in our OPT record and the most we send over UDP (the DNS flag day 2020 value). */
const EDNS_UDP_SIZE = 1232;
/** Without EDNS, a UDP answer may not exceed 512 octets (RFC 1035 §4.2.1). */
const CLASSIC_UDP_SIZE = 512;

class FormatError extends Error {}

interface Question {
	name: string;
	type: number;
	klass: number;
	/** The question exactly as received (name in the asker's case), echoed in the answer. */
	wire: Buffer;
}

interface Query {
	id: number;
	opcode: number;
	recursionDesired: boolean;
	question?: Question;
	questionCount: number;
	/** The asker's EDNS (RFC 6891) OPT record, when it sent one. */
	edns?: { udpSize: number; version: number };
}

/** Reads a domain name at `offset`, following compression pointers; returns it and where it ends. */
function readName(message: Buffer, offset: number): { name: string; end: number } {
	const labels: string[] = [];
	let position = offset;
	let end = -1;
	for (let jumps = 0; ; ) {
		if (position >= message.length) throw new FormatError('name runs past the message');
		const length = message[position];
		if (length === 0) {
			if (end < 0) end = position + 1;
			break;
		}
		if ((length & 0xc0) === 0xc0) {
			if (position + 1 >= message.length || ++jumps > 16) throw new FormatError('bad compression pointer');
			if (end < 0) end = position + 2;
			position = ((length & 0x3f) << 8) | message[position + 1];
			continue;
		}
		if (length > 63 || position + 1 + length > message.length) throw new FormatError('bad label');
		labels.push(message.toString('latin1', position + 1, position + 1 + length));
		position += 1 + length;
	}
	return { name: labels.join('.'), end };
}

/** Skips one resource record; returns where the next one starts and its type and fields. */
function readRecord(message: Buffer, offset: number) {
	const { end } = readName(message, offset);
	if (end + 10 > message.length) throw new FormatError('record header runs past the message');
	const type = message.readUInt16BE(end);
	const klass = message.readUInt16BE(end + 2);
	const ttl = message.readUInt32BE(end + 4);
	const length = message.readUInt16BE(end + 8);
	if (end + 10 + length > message.length) throw new FormatError('record data runs past the message');
	return { type, klass, ttl, next: end + 10 + length };
}

export function parseQuery(message: Buffer): Query {
	if (message.length < 12) throw new FormatError('shorter than a DNS header');
	const flags = message.readUInt16BE(2);
	const query: Query = {
		id: message.readUInt16BE(0),
		opcode: (flags >> 11) & 0x0f,
		recursionDesired: (flags & 0x0100) !== 0,
		questionCount: message.readUInt16BE(4),
	};
	if (query.questionCount !== 1) return query;
	const { name, end } = readName(message, 12);
	if (end + 4 > message.length) throw new FormatError('question runs past the message');
	query.question = { name: name.toLowerCase(), type: message.readUInt16BE(end), klass: message.readUInt16BE(end + 2), wire: message.subarray(12, end + 4) };
	// Answer and authority sections are empty in a query; the additional section may hold an OPT.
	let offset = end + 4;
	const others = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10);
	for (let i = 0; i < others; i++) {
		const record = readRecord(message, offset);
		if (record.type === TYPE.OPT) query.edns = { udpSize: Math.max(record.klass, CLASSIC_UDP_SIZE), version: (record.ttl >>> 16) & 0xff };
		offset = record.next;
	}
	return query;
}

export function encodeName(name: string): Buffer {
	const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
	return Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])), Buffer.from([0])]);
}

function record(name: string, type: number, data: Buffer, ttl = TTL): Buffer {
	const fixed = Buffer.alloc(10);
	fixed.writeUInt16BE(type, 0);
	fixed.writeUInt16BE(CLASS_IN, 2);
	fixed.writeUInt32BE(ttl, 4);
	fixed.writeUInt16BE(data.length, 8);
	return Buffer.concat([encodeName(name), fixed, data]);
}

function ipv4(address: string): Buffer {
	return Buffer.from(address.split('.').map(Number));
}

function ipv6(address: string): Buffer {
	const [head, tail = ''] = address.includes('::') ? address.split('::') : [address, undefined];
	const left = head ? head.split(':') : [];
	const right = tail ? tail.split(':') : [];
	const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
	const out = Buffer.alloc(16);
	groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
	return out;
}

function mxData(preference: number, exchange: string): Buffer {
	const head = Buffer.alloc(2);
	head.writeUInt16BE(preference);
	return Buffer.concat([head, encodeName(exchange)]);
}

function soa(origin: string): Buffer {
	const times = Buffer.alloc(20);
	// serial, refresh, retry, expire, and the minimum: how long a "does not exist" may be cached.
	[1, 3600, 600, 86400, TTL].forEach((value, i) => times.writeUInt32BE(value, i * 4));
	return record(origin, TYPE.SOA, Buffer.concat([encodeName(`ns.${origin}`), encodeName(`hostmaster.${origin}`), times]), TTL);
}

function answersFor(name: string, type: number, records: DnsRecordSet): Buffer[] {
	const out: Buffer[] = [];
	if (type === TYPE.MX || type === TYPE.ANY) for (const mx of records.MX ?? []) out.push(record(name, TYPE.MX, mxData(mx.preference, mx.exchange)));
	if (type === TYPE.A || type === TYPE.ANY) for (const ip of records.A ?? []) out.push(record(name, TYPE.A, ipv4(ip)));
	if (type === TYPE.AAAA || type === TYPE.ANY) for (const ip of records.AAAA ?? []) out.push(record(name, TYPE.AAAA, ipv6(ip)));
	return out;
}

/** The longest origin `name` falls under, if any. */
function originOf(zone: DnsZone, name: string): string | undefined {
	return zone.origins
		.filter((origin) => name === origin || name.endsWith(`.${origin}`))
		.sort((a, b) => b.length - a.length)[0];
}

function header(id: number, flags: number, counts: [number, number, number, number]): Buffer {
	const out = Buffer.alloc(12);
	out.writeUInt16BE(id, 0);
	out.writeUInt16BE(flags, 2);
	counts.forEach((count, i) => out.writeUInt16BE(count, 4 + i * 2));
	return out;
}

/**
 * The answer to one DNS message, or undefined when it deserves none (a response, or not DNS at
 * all). `maxSize` is the transport's limit: UDP answers that would exceed it are sent truncated
 * (TC set, no records) so the asker retries over TCP.
 */
export function answerQuery(zone: DnsZone, message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
	if (message.length < 12 || (message[2] & 0x80) !== 0) return undefined; // too short to answer, or a response
	let query: Query;
	try {
		query = parseQuery(message);
	} catch {
		// Malformed: FORMERR with the id and no sections, as RFC 1035 §4.1.1 allows.
		return header(message.readUInt16BE(0), 0x8000 | RCODE.FORMERR, [0, 0, 0, 0]);
	}
	const reply = (rcode: number, answers: Buffer[] = [], authority: Buffer[] = [], authoritative = false): Buffer => {
		const question = query.question ? [query.question.wire] : [];
		// Our OPT: our UDP size, extended rcode 1 (BADVERS) when the asker's EDNS version is not 0.
		const badVersion = query.edns !== undefined && query.edns.version !== 0;
		const opt = query.edns ? [Buffer.concat([Buffer.from([0]), optFields(badVersion)])] : [];
		const flags = 0x8000 | (query.opcode << 11) | (authoritative ? 0x0400 : 0) | (query.recursionDesired ? 0x0100 : 0) | (badVersion ? 0 : rcode);
		const build = (a: Buffer[], ns: Buffer[], truncated: boolean) =>
			Buffer.concat([header(query.id, flags | (truncated ? 0x0200 : 0), [question.length, a.length, ns.length, opt.length]), ...question, ...a, ...ns, ...opt]);
		const full = badVersion ? build([], [], false) : build(answers, authority, false);
		const limit = transport === 'tcp' ? 0xffff : Math.min(query.edns?.udpSize ?? CLASSIC_UDP_SIZE, EDNS_UDP_SIZE);
		return full.length <= limit ? full : build([], [], true);
	};
	if (query.opcode !== 0) return reply(RCODE.NOTIMP);
	if (!query.question) return reply(RCODE.FORMERR);
	const { name, type, klass } = query.question;
	if (klass !== CLASS_IN) return reply(RCODE.REFUSED);
	const origin = originOf(zone, name);
	if (!origin) return reply(RCODE.REFUSED);
	const records = zone.records[name];
	if (records) {
		const answers = answersFor(name, type, records);
		return reply(RCODE.NOERROR, answers, answers.length > 0 ? [] : [soa(origin)], true);
	}
	// A name with names below it exists (an "empty non-terminal"): NODATA, not NXDOMAIN.
	const exists = name === origin || Object.keys(zone.records).some((held) => held.endsWith(`.${name}`));
	return reply(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, [], [soa(origin)], true);
}

function optFields(badVersion: boolean): Buffer {
	const fields = Buffer.alloc(10);
	fields.writeUInt16BE(TYPE.OPT, 0);
	fields.writeUInt16BE(EDNS_UDP_SIZE, 2);
	fields.writeUInt32BE(badVersion ? 0x01000000 : 0, 4); // extended rcode (high bits of BADVERS = 16), version 0
	fields.writeUInt16BE(0, 8);
	return fields;
}

function listenUdp(host: string, port: number): Promise<UdpSocket> {
	const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
	return new Promise((resolve, reject) => {
		socket.once('error', reject);
		socket.bind(port, host, () => {
			socket.off('error', reject);
			resolve(socket);
		});
	});
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
}

/** Starts the server on UDP and TCP, both on `port` (0: a free port, the same for both). */
export async function startDnsServer(zone: DnsZone, options: { host?: string; port?: number } = {}): Promise<SandboxDnsServer> {
	const host = options.host ?? '127.0.0.1';
	let queries = 0;
	const udp = await listenUdp(host, options.port ?? 0);
	const port = udp.address().port;
	udp.on('message', (message, peer) => {
		const answer = answerQuery(zone, message, 'udp');
		if (!answer) return;
		queries++;
		udp.send(answer, peer.port, peer.address);
	});
	udp.on('error', () => undefined); // a send to a vanished peer is not our problem

	// TCP: each message is preceded by its length in two octets (RFC 1035 §4.2.2).
	const connections = new Set<Socket>();
	const tcp = createServer((socket) => {
		connections.add(socket);
		let buffered = Buffer.alloc(0);
		socket.setTimeout(10_000, () => socket.destroy());
		socket.on('error', () => socket.destroy());
		socket.on('close', () => connections.delete(socket));
		socket.on('data', (chunk) => {
			buffered = Buffer.concat([buffered, chunk]);
			while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
				const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
				buffered = buffered.subarray(2 + message.length);
				const answer = answerQuery(zone, message, 'tcp');
				if (!answer) continue;
				queries++;
				const length = Buffer.alloc(2);
				length.writeUInt16BE(answer.length);
				socket.write(Buffer.concat([length, answer]));
			}
		});
	});
	try {
		await listenTcp(tcp, host, port);
	} catch (error) {
		udp.close();
		throw error;
	}

	return {
		host,
		port,
		address: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`,
		get queries() {
			return queries;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of connections) socket.destroy();
				let open = 2;
				const done = () => --open === 0 && resolve();
				udp.close(done);
				tcp.close(done);
			}),
	};
}
