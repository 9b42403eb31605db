// The sandbox DNS server, asked by Node's own resolver (c-ares, over UDP) and by hand-made packets
// decoded with dns-packet (UDP with and without EDNS, TCP, truncation, malformed queries).
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';

import * as dnsPacket from 'dns-packet';

import { answerQuery, startDnsServer, type DnsZone, type SandboxDnsServer } from '../../src/sandbox/dns';
import { sandboxZone } from '../../src/sandbox/seed';

const zone: DnsZone = {
	origins: ['test', 'example.org'],
	records: {
		'mail.test': { MX: [{ preference: 20, exchange: 'backup.mail.test' }, { preference: 10, exchange: 'mx.mail.test' }] },
		'mx.mail.test': { A: ['127.0.0.1'], AAAA: ['::1'] },
		'backup.mail.test': { AAAA: ['2001:db8::25'] },
		'nomail.test': { MX: [{ preference: 0, exchange: '.' }] },
		'web.example.org': { A: ['192.0.2.80'] },
		'deep.below.test': { A: ['192.0.2.1'] },
		'many.test': { A: Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`) },
	},
};

let server: SandboxDnsServer;
let resolver: Resolver;

beforeAll(async () => {
	server = await startDnsServer(zone);
	resolver = new Resolver({ timeout: 1000, tries: 1 });
	resolver.setServers([server.address]);
});
afterAll(() => server.close());

const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: NodeJS.ErrnoException) => error.code);

describe("Node's resolver against the sandbox DNS server", () => {
	it('answers MX, A and AAAA', async () => {
		expect((await resolver.resolveMx('mail.test')).sort((a, b) => a.priority - b.priority)).toEqual([
			{ exchange: 'mx.mail.test', priority: 10 },
			{ exchange: 'backup.mail.test', priority: 20 },
		]);
		expect(await resolver.resolve4('mx.mail.test')).toEqual(['127.0.0.1']);
		expect(await resolver.resolve6('mx.mail.test')).toEqual(['::1']);
		expect(await resolver.resolve6('backup.mail.test')).toEqual(['2001:db8::25']);
		expect(await resolver.resolve4('web.example.org')).toEqual(['192.0.2.80']);
	});

	it('answers the null MX "0 ." of RFC 7505', async () => {
		expect(await resolver.resolveMx('nomail.test')).toEqual([{ exchange: '', priority: 0 }]);
	});

	it('says NXDOMAIN for unknown names in its zone, NODATA for a known name without the type, and refuses the rest', async () => {
		expect(await codeOf(resolver.resolveMx('nobody.test'))).toBe('ENOTFOUND');
		expect(await codeOf(resolver.resolve4('mail.test'))).toBe('ENODATA');
		// "below.test" holds no records but has a name below it: it exists (NODATA, not NXDOMAIN).
		expect(await codeOf(resolver.resolve4('below.test'))).toBe('ENODATA');
		expect(await codeOf(resolver.resolveMx('gmail.com'))).toBe('EREFUSED');
	});

	it('matches names without regard to case', async () => {
		expect(await resolver.resolve4('MX.Mail.TEST')).toEqual(['127.0.0.1']);
	});
});

/** Sends one UDP query and decodes the answer. */
function askUdp(packet: Buffer): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const socket = createSocket('udp4');
		const timer = setTimeout(() => {
			socket.close();
			reject(new Error('no answer'));
		}, 1000);
		socket.once('message', (message) => {
			clearTimeout(timer);
			socket.close();
			resolve(message);
		});
		socket.send(packet, server.port, '127.0.0.1');
	});
}

/** Sends queries over one TCP connection (length-prefixed) and decodes the answers. */
function askTcp(packets: Buffer[]): Promise<dnsPacket.Packet[]> {
	return new Promise((resolve, reject) => {
		const socket = connect(server.port, '127.0.0.1');
		let received = Buffer.alloc(0);
		const answers: dnsPacket.Packet[] = [];
		socket.on('error', reject);
		socket.on('data', (chunk) => {
			received = Buffer.concat([received, chunk]);
			while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
				answers.push(dnsPacket.decode(received.subarray(2, 2 + received.readUInt16BE(0))));
				received = received.subarray(2 + received.readUInt16BE(0));
			}
			if (answers.length === packets.length) {
				socket.end();
				resolve(answers);
			}
		});
		// Both queries in one write: the server must split them by their length prefixes.
		socket.write(Buffer.concat(packets.map((p) => dnsPacket.streamEncode(dnsPacket.decode(p)))));
	});
}

const query = (name: string, type: dnsPacket.RecordType, extra: Partial<dnsPacket.Packet> = {}) =>
	dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }], ...extra });

const edns = (udpPayloadSize = 4096, version = 0): dnsPacket.Answer =>
	({ type: 'OPT', name: '.', udpPayloadSize, extendedRcode: 0, ednsVersion: version, flags: 0, flag_do: false, options: [] }) as unknown as dnsPacket.Answer;

describe('the wire format, decoded by dns-packet', () => {
	it('answers authoritatively, echoes the id, the question and RD, and answers EDNS with its own OPT', async () => {
		const answer = dnsPacket.decode(await askUdp(query('Mail.test', 'MX', { additionals: [edns()] })));
		expect(answer).toMatchObject({ id: 4242, type: 'response', rcode: 'NOERROR', flag_aa: true, flag_rd: true, flag_tc: false });
		expect(answer.questions).toEqual([{ name: 'Mail.test', type: 'MX', class: 'IN' }]);
		expect(answer.answers).toEqual([
			{ name: 'mail.test', type: 'MX', ttl: 60, class: 'IN', flush: false, data: { preference: 20, exchange: 'backup.mail.test' } },
			{ name: 'mail.test', type: 'MX', ttl: 60, class: 'IN', flush: false, data: { preference: 10, exchange: 'mx.mail.test' } },
		]);
		expect(answer.additionals).toEqual([expect.objectContaining({ type: 'OPT', udpPayloadSize: 1232, ednsVersion: 0 })]);
	});

	it('sends the SOA of the zone with NXDOMAIN and NODATA, for negative caching', async () => {
		const nx = dnsPacket.decode(await askUdp(query('nobody.test', 'A')));
		expect(nx).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, answers: [] });
		expect(nx.authorities).toEqual([expect.objectContaining({ type: 'SOA', name: 'test', data: expect.objectContaining({ mname: 'ns.test', minimum: 60 }) })]);
		const nodata = dnsPacket.decode(await askUdp(query('web.example.org', 'MX')));
		expect(nodata).toMatchObject({ rcode: 'NOERROR', answers: [] });
		expect(nodata.authorities).toEqual([expect.objectContaining({ type: 'SOA', name: 'example.org' })]);
		expect(nodata.additionals).toEqual([]);
	});

	it('truncates a UDP answer over 512 octets without EDNS (1232 with it), and gives it whole over TCP', async () => {
		const truncated = dnsPacket.decode(await askUdp(query('many.test', 'A')));
		expect(truncated).toMatchObject({ flag_tc: true, answers: [], questions: [{ name: 'many.test', type: 'A' }] });
		const withEdns = dnsPacket.decode(await askUdp(query('many.test', 'A', { additionals: [edns(4096)] })));
		expect(withEdns).toMatchObject({ flag_tc: false });
		expect(withEdns.answers).toHaveLength(40);
		const [overTcp, second] = await askTcp([query('many.test', 'A'), query('nomail.test', 'MX')]);
		expect(overTcp).toMatchObject({ flag_tc: false });
		expect(overTcp.answers).toHaveLength(40);
		expect(second.answers).toEqual([expect.objectContaining({ type: 'MX', data: { preference: 0, exchange: '.' } })]);
	});

	it('answers an unknown EDNS version with BADVERS, other opcodes with NOTIMP, other classes with REFUSED', async () => {
		const badvers = dnsPacket.decode(await askUdp(query('mail.test', 'MX', { additionals: [edns(1232, 1)] })));
		expect(badvers.answers).toEqual([]);
		expect(badvers.additionals).toEqual([expect.objectContaining({ type: 'OPT', extendedRcode: 1 })]);
		// Opcode 4: NOTIFY.
		const notify = dnsPacket.decode(await askUdp(dnsPacket.encode({ type: 'query', id: 7, flags: 4 << 11, questions: [{ type: 'SOA', name: 'test' }] })));
		expect(notify).toMatchObject({ id: 7, rcode: 'NOTIMP' });
		const chaos = dnsPacket.decode(await askUdp(dnsPacket.encode({ type: 'query', id: 8, questions: [{ type: 'TXT', name: 'version.bind', class: 'CH' }] })));
		expect(chaos).toMatchObject({ id: 8, rcode: 'REFUSED' });
	});

	it('answers FORMERR to a malformed query and nothing to a response or a runt', () => {
		const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]);
		expect(dnsPacket.decode(answerQuery(zone, garbage, 'udp')!)).toMatchObject({ id: 0x1234, rcode: 'FORMERR', type: 'response' });
		const twoQuestions = dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: 'a.test' }, { type: 'A', name: 'b.test' }] });
		expect(dnsPacket.decode(answerQuery(zone, twoQuestions, 'udp')!)).toMatchObject({ id: 9, rcode: 'FORMERR' });
		const response = dnsPacket.encode({ type: 'response', id: 10, questions: [{ type: 'A', name: 'a.test' }] });
		expect(answerQuery(zone, response, 'udp')).toBeUndefined();
		expect(answerQuery(zone, Buffer.from([1, 2, 3]), 'udp')).toBeUndefined();
		// A compression loop must not hang the server.
		const loop = Buffer.from([0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
		expect(dnsPacket.decode(answerQuery(zone, loop, 'udp')!)).toMatchObject({ rcode: 'FORMERR' });
	});

	it('counts the queries it answered', () => {
		expect(server.queries).toBeGreaterThan(10);
	});
});

describe('the sandbox zone', () => {
	it('sends every mail host to the SMTP server address, over IPv4 or IPv6', () => {
		const v4 = sandboxZone('127.0.0.1');
		expect(v4.records['northwind.test']).toEqual({ MX: [{ preference: 10, exchange: 'mx.northwind.test' }] });
		expect(v4.records['mx.northwind.test']).toEqual({ A: ['127.0.0.1'] });
		expect(v4.records['litware.test']).toEqual({ MX: [{ preference: 0, exchange: '.' }] });
		expect(v4.records['northwind.con']).toBeUndefined();
		expect(sandboxZone('::1').records['mx.mailinator.com']).toEqual({ AAAA: ['::1'] });
	});
});
