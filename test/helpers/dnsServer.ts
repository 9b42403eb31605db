// A real DNS server on loopback (UDP, real packets) whose answers a test scripts per name.
// Names absent from the zone get NXDOMAIN; a present name without the asked type gets an empty
// NOERROR answer (NODATA), which is what real servers send.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

export interface DnsRecordSet {
	MX?: Array<{ preference: number; exchange: string }>;
	A?: string[];
	AAAA?: string[];
	/** Answer every query for this name with this response code instead. */
	rcode?: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
	/** Never answer: the client times out. */
	drop?: true;
	/** Answer after this many milliseconds. */
	delayMs?: number;
}

export type DnsZone = Record<string, DnsRecordSet>;

export interface DnsQueryLog {
	name: string;
	type: string;
}

export interface TestDnsServer {
	host: string;
	port: number;
	/** `host:port`, as the resolver options take it. */
	address: string;
	queries: DnsQueryLog[];
	zone: DnsZone;
	close(): Promise<void>;
}

const TTL = 60;

function answersFor(name: string, type: string, records: DnsRecordSet): dnsPacket.Answer[] {
	switch (type) {
		case 'MX':
			return (records.MX ?? []).map((mx) => ({
				type: 'MX',
				name,
				ttl: TTL,
				data: { preference: mx.preference, exchange: mx.exchange },
			}));
		case 'A':
			return (records.A ?? []).map((ip) => ({ type: 'A', name, ttl: TTL, data: ip }));
		case 'AAAA':
			return (records.AAAA ?? []).map((ip) => ({ type: 'AAAA', name, ttl: TTL, data: ip }));
		default:
			return [];
	}
}

function respond(socket: Socket, zone: DnsZone, log: DnsQueryLog[], message: Buffer, peer: RemoteInfo) {
	let query: dnsPacket.Packet;
	try {
		query = dnsPacket.decode(message);
	} catch {
		return; // not DNS: ignore, as a real server would
	}
	const question = query.questions?.[0];
	if (!question) return;
	const name = question.name.toLowerCase().replace(/\.$/, '');
	log.push({ name, type: question.type });
	const records = zone[name];
	if (records?.drop) return;

	let rcode: string = 'NOERROR';
	let answers: dnsPacket.Answer[] = [];
	if (!records) rcode = 'NXDOMAIN';
	else if (records.rcode) rcode = records.rcode;
	else answers = answersFor(question.name, question.type, records);

	const reply = dnsPacket.encode({
		type: 'response',
		id: query.id,
		// QR, AA and RD (echoed) plus the response code in the low four bits.
		flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | RCODES[rcode],
		questions: [question],
		answers,
	});
	const send = () => socket.send(reply, peer.port, peer.address);
	if (records?.delayMs) setTimeout(send, records.delayMs);
	else send();
}

const RCODES: Record<string, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };

export async function startDnsServer(zone: DnsZone, options: { host?: string; port?: number } = {}): Promise<TestDnsServer> {
	const host = options.host ?? '127.0.0.1';
	const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
	const queries: DnsQueryLog[] = [];
	socket.on('message', (message, peer) => respond(socket, zone, queries, message, peer));
	await new Promise<void>((resolve, reject) => {
		socket.once('error', reject);
		socket.bind(options.port ?? 0, host, () => resolve());
	});
	const { port } = socket.address();
	return {
		host,
		port,
		address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
		queries,
		zone,
		close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
	};
}
