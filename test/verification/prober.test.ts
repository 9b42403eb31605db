// SMTP probing through the whole engine, against scripted SMTP servers and a DNS server on loopback
// (real sockets): every reply class, fail-over, limits, greylisting, blocks and the safety rules.
import { Verifier, type VerifyOptions } from '../../src/verification/engine';
import type { SmtpOptions } from '../../src/verification/smtp/prober';
import type { Verification } from '../../src/verification/types';
import { startDnsServer, type DnsZone, type TestDnsServer } from '../helpers/dnsServer';
import { startSmtpServer, type SmtpScript, type TestSmtpServer } from '../helpers/smtpServer';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
	await Promise.all(open.splice(0).map((s) => s.close()));
});

async function dnsWith(zone: DnsZone): Promise<TestDnsServer> {
	const dns = await startDnsServer(zone);
	open.push(dns);
	return dns;
}

async function smtp(script: SmtpScript, host = '127.0.0.1', port?: number): Promise<TestSmtpServer> {
	const server = await startSmtpServer(script, { host, port });
	open.push(server);
	return server;
}

/** A mail server that knows some users of its domains and rejects everyone else. */
function knownUsers(users: string[], extra: Partial<SmtpScript> = {}): SmtpScript {
	return {
		rcptReply: (to) =>
			users.includes(to.toLowerCase()) ? '250 2.1.5 Ok' : `550 5.1.1 <${to}>: Recipient address rejected: User unknown`,
		...extra,
	};
}

const mx = (host: string) => ({ MX: [{ preference: 10, exchange: host }] });

function verifier(dns: TestDnsServer, port: number, smtpOptions: SmtpOptions = {}, extra: VerifyOptions = {}) {
	return new Verifier({
		dns: { servers: [dns.address], timeoutMs: 2_000 },
		smtp: {
			port,
			allowPrivateNetworks: true,
			heloName: 'prober.test',
			mailFrom: 'probe@prober.test',
			connectTimeoutMs: 2_000,
			commandTimeoutMs: 3_000,
			...smtpOptions,
		},
		...extra,
	});
}

const verdicts = (results: Verification[]) => results.map((r) => [r.status, r.reason]);
const rcpts = (commands: string[]) => commands.filter((c) => c.startsWith('RCPT TO:')).map((c) => c.slice(9, c.indexOf('>')));

describe('SMTP verdicts', () => {
	it('confirms real mailboxes, rejects unknown ones, and proves the domain is not catch-all', async () => {
		const server = await smtp(knownUsers(['ann@a.test', 'info@a.test']));
		const dns = await dnsWith({ 'a.test': mx('mx.a.test'), 'mx.a.test': { A: ['127.0.0.1'] } });
		const v = verifier(dns, server.port);
		const results = await v.verifyBatch(['ann@a.test', 'zed@a.test', 'info@a.test']);

		expect(verdicts(results)).toEqual([
			['valid', 'accepted'],
			['invalid', 'mailbox_not_found'],
			['role_account', 'role_account'],
		]);
		expect(results[0].smtp).toEqual({
			host: 'mx.a.test',
			ip: '127.0.0.1',
			port: server.port,
			code: 250,
			enhanced: '2.1.5',
			text: 'Ok',
			tls: false,
			catchAll: false,
		});
		expect(results[1].smtp).toMatchObject({ code: 550, enhanced: '5.1.1', text: expect.stringContaining('User unknown') });

		// One session: EHLO, one transaction, the random probe after the real addresses, no DATA.
		expect(server.sessions).toHaveLength(1);
		const { commands } = server.sessions[0];
		expect(commands[0]).toBe('EHLO prober.test');
		expect(commands[1]).toBe('MAIL FROM:<probe@prober.test>');
		const sent = rcpts(commands);
		expect(sent.slice(0, 3)).toEqual(['ann@a.test', 'zed@a.test', 'info@a.test']);
		expect(sent[3]).toMatch(/^x[0-9a-f]{18}@a\.test$/);
		expect(commands).not.toContain('DATA');
		expect(commands.at(-1)).toBe('QUIT');
		expect(v.summary.smtp).toMatchObject({ sessions: 1, hostsTried: 1, hostsConnected: 1, port25Blocked: false });
	});

	it('calls an accepting domain catch-all when it also takes a random local part', async () => {
		const server = await smtp({});
		const dns = await dnsWith({ 'any.test': mx('mx.any.test'), 'mx.any.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, server.port).verifyBatch(['ann@any.test', 'bob@any.test']);
		expect(verdicts(results)).toEqual([
			['catch_all', 'catch_all'],
			['catch_all', 'catch_all'],
		]);
		expect(results[0]).toMatchObject({ category: 'catch_all', smtp: { catchAll: true } });
	});

	it('does not call an address valid when the catch-all probe proves nothing', async () => {
		const server = await smtp({
			rcptReply: (to) => (to.startsWith('ann@') ? '250 2.1.5 Ok' : '451 4.7.1 Greylisted, please try again later'),
		});
		const dns = await dnsWith({ 'g.test': mx('mx.g.test'), 'mx.g.test': { A: ['127.0.0.1'] } });
		const [ann] = await verifier(dns, server.port).verifyBatch(['ann@g.test']);
		expect([ann.status, ann.reason, ann.category]).toEqual(['risky', 'catch_all_unknown', 'risky']);
		expect(ann.smtp?.catchAll).toBeUndefined();
	});

	it.each([
		['452 4.2.2 Mailbox full', 'risky', 'mailbox_full'],
		['552 5.2.2 Mailbox full', 'risky', 'mailbox_full'],
		['550 5.2.1 The email account that you tried to reach is disabled', 'invalid', 'mailbox_disabled'],
		['450 4.7.1 Greylisted, see http://postgrey.example/', 'unknown', 'greylisted'],
		['554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org', 'unknown', 'blocked'],
		['550 5.7.1 Unable to relay', 'unknown', 'smtp_rejected'],
		['451 4.3.0 Temporary local problem', 'unknown', 'smtp_temporary'],
	])('reads %j at RCPT as %s (%s)', async (reply, status, reason) => {
		const server = await smtp({ rcptReply: (to) => (to.startsWith('ann@') ? reply : '550 5.1.1 User unknown') });
		const dns = await dnsWith({ 'r.test': mx('mx.r.test'), 'mx.r.test': { A: ['127.0.0.1'] } });
		const [ann] = await verifier(dns, server.port).verifyBatch(['ann@r.test']);
		expect([ann.status, ann.reason]).toEqual([status, reason]);
		expect(ann.smtp?.text).toBe(reply.replace(/^\d{3} (\d\.\d+\.\d+ )?/, ''));
	});
});

describe('sessions and transactions', () => {
	it('serves every domain of a mail host in one session, one transaction per domain', async () => {
		const server = await smtp(knownUsers(['a@one.test', 'b@two.test', 'c@three.test']));
		const zone: DnsZone = { 'mx.shared.test': { A: ['127.0.0.1'] } };
		for (const d of ['one.test', 'two.test', 'three.test']) zone[d] = mx('mx.shared.test');
		const dns = await dnsWith(zone);
		const results = await verifier(dns, server.port).verifyBatch(['a@one.test', 'b@two.test', 'c@three.test', 'x@two.test']);
		expect(results.map((r) => r.status)).toEqual(['valid', 'valid', 'valid', 'invalid']);
		expect(server.sessions).toHaveLength(1);
		const { commands } = server.sessions[0];
		expect(commands.filter((c) => c.startsWith('MAIL FROM')).length).toBe(3);
		expect(commands.filter((c) => c === 'RSET').length).toBe(3);
		expect(server.maxConcurrentSessions).toBe(1);
	});

	it('keeps to the per-host limit however many domains the host serves', async () => {
		const server = await smtp({ replyDelayMs: 5 });
		const zone: DnsZone = { 'mx.busy.test': { A: ['127.0.0.1'] } };
		const addresses: string[] = [];
		for (let i = 0; i < 12; i++) {
			zone[`d${i}.test`] = mx('mx.busy.test');
			addresses.push(`u${i}@d${i}.test`);
		}
		const dns = await dnsWith(zone);
		await verifier(dns, server.port, { perHostConcurrency: 2 }).verifyBatch(addresses);
		expect(server.maxConcurrentSessions).toBe(2);
		expect(server.sessions.length).toBe(2);
	});

	it('opens no idle session when a host has less work than its session limit', async () => {
		const server = await smtp({});
		const dns = await dnsWith({ 'solo.test': mx('mx.solo.test'), 'mx.solo.test': { A: ['127.0.0.1'] } });
		await verifier(dns, server.port, { perHostConcurrency: 4 }).verifyBatch(['a@solo.test', 'b@solo.test']);
		expect(server.sessions).toHaveLength(1);
	});

	it('answers 452 4.5.3 with smaller transactions, never with a verdict', async () => {
		const users = Array.from({ length: 8 }, (_, i) => `u${i}@lim.test`);
		const server = await smtp(knownUsers(users.slice(0, 5), { maxRecipientsPerTransaction: 3 }));
		const dns = await dnsWith({ 'lim.test': mx('mx.lim.test'), 'mx.lim.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, server.port).verifyBatch(users);
		expect(results.map((r) => r.status)).toEqual(['valid', 'valid', 'valid', 'valid', 'valid', 'invalid', 'invalid', 'invalid']);
		expect(results.every((r) => r.smtp?.code !== 452)).toBe(true);
		expect(server.sessions).toHaveLength(1);
		// After the first transaction met the limit, none asked for more than the server takes.
		const transactions = server.sessions[0].commands.join('\n').split('MAIL FROM').slice(1);
		expect(transactions.length).toBeGreaterThan(2);
		expect(transactions.slice(1).every((t) => rcpts(t.split('\n')).length <= 3)).toBe(true);
	});

	it('keeps the catch-all probe within the recipients per transaction', async () => {
		const users = ['u1@room.test', 'u2@room.test', 'u3@room.test'];
		const server = await smtp(knownUsers(users, { maxRecipientsPerTransaction: 3 }));
		const dns = await dnsWith({ 'room.test': mx('mx.room.test'), 'mx.room.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, server.port, { recipientsPerTransaction: 3 }).verifyBatch(users);
		expect(results.map((r) => [r.status, r.smtp?.catchAll])).toEqual(users.map(() => ['valid', false]));
		const transcript = server.sessions[0].transcript.join('\n');
		expect(transcript).not.toContain('452');
		expect(server.sessions[0].commands.filter((c) => c.startsWith('MAIL FROM'))).toHaveLength(2);
	});

	it('opens a new session when a server limits recipients per session', async () => {
		const users = Array.from({ length: 7 }, (_, i) => `u${i}@cap.test`);
		const server = await smtp({
			rcptReply: (_to, ctx) => (ctx.rcptInSession > 3 ? '452 4.5.3 Too many recipients for this session' : '250 2.1.5 Ok'),
		});
		const dns = await dnsWith({ 'cap.test': mx('mx.cap.test'), 'mx.cap.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, server.port, { catchAllProbe: false }).verifyBatch(users);
		expect(new Set(results.map((r) => r.smtp?.code))).toEqual(new Set([250]));
		expect(server.sessions.length).toBeGreaterThanOrEqual(3);
	});

	it('reconnects after a dropped connection and finishes the batch', async () => {
		const server = await smtp({
			rcptReply: (to, ctx) => (ctx.session === 1 && to.startsWith('u2@') ? 'drop' : to.startsWith('u') ? '250 2.1.5 Ok' : '550 5.1.1 User unknown'),
		});
		const dns = await dnsWith({ 'drop.test': mx('mx.drop.test'), 'mx.drop.test': { A: ['127.0.0.1'] } });
		const users = ['u1@drop.test', 'u2@drop.test', 'u3@drop.test'];
		const results = await verifier(dns, server.port).verifyBatch(users);
		expect(results.map((r) => r.status)).toEqual(['valid', 'valid', 'valid']);
		expect(server.sessions).toHaveLength(2);
	});

	it('reconnects after a 421 in the middle of a batch', async () => {
		const server = await smtp({
			rcptReply: (to, ctx) => (ctx.session === 1 && to.startsWith('u2@') ? '421 4.7.0 Closing connection' : to.startsWith('u') ? '250 Ok' : '550 5.1.1 no'),
		});
		const dns = await dnsWith({ 'c421.test': mx('mx.c421.test'), 'mx.c421.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, server.port).verifyBatch(['u1@c421.test', 'u2@c421.test', 'u3@c421.test']);
		expect(results.map((r) => r.status)).toEqual(['valid', 'valid', 'valid']);
		expect(server.sessions.length).toBe(2);
	});

	it('re-probes greylisted addresses once after the configured delay', async () => {
		const greylisting = (): SmtpScript => ({
			rcptReply: (to, ctx) =>
				ctx.session === 1 ? '450 4.7.1 Greylisted, please retry later' : to.startsWith('ann@') ? '250 2.1.5 Ok' : '550 5.1.1 User unknown',
		});
		const dns = await dnsWith({ 'grey.test': mx('mx.grey.test'), 'mx.grey.test': { A: ['127.0.0.1'] } });
		const once = await smtp(greylisting());
		expect(verdicts(await verifier(dns, once.port).verifyBatch(['ann@grey.test']))).toEqual([['unknown', 'greylisted']]);
		expect(once.sessions).toHaveLength(1);

		const twice = await smtp(greylisting());
		const v = verifier(dns, twice.port, { greylistRetryDelayMs: 50 });
		const results = await v.verifyBatch(['ann@grey.test', 'zed@grey.test']);
		expect(verdicts(results)).toEqual([
			['valid', 'accepted'],
			['invalid', 'mailbox_not_found'],
		]);
		expect(v.summary.smtp?.greylistRetried).toBe(2);
		expect(twice.sessions).toHaveLength(2);
	});

	it('asks a greylisted catch-all probe again in the retry round', async () => {
		let probes = 0;
		const server = await smtp({
			rcptReply: (to) => {
				if (to.startsWith('ann@')) return '250 2.1.5 Ok';
				probes++;
				return probes === 1 ? '450 4.7.1 Greylisted' : '550 5.1.1 User unknown';
			},
		});
		const dns = await dnsWith({ 'gp.test': mx('mx.gp.test'), 'mx.gp.test': { A: ['127.0.0.1'] } });
		const [ann] = await verifier(dns, server.port, { greylistRetryDelayMs: 20 }).verifyBatch(['ann@gp.test']);
		expect([ann.status, ann.smtp?.catchAll]).toEqual(['valid', false]);
		expect(probes).toBe(2);
	});

	it('sends a UTF-8 local part only to a server that offers SMTPUTF8', async () => {
		const plain = await smtp({ extensions: ['PIPELINING'] });
		const dns = await dnsWith({ 'u8.test': mx('mx.u8.test'), 'mx.u8.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, plain.port, { catchAllProbe: false }).verifyBatch(['jürgen@u8.test', 'ann@u8.test']);
		expect(verdicts(results)[0]).toEqual(['unknown', 'smtputf8_unsupported']);
		expect(results[1].smtp?.code).toBe(250);
		expect(rcpts(plain.sessions[0].commands)).toEqual(['ann@u8.test']);

		const utf8 = await smtp({});
		const [jurgen] = await verifier(dns, utf8.port, { catchAllProbe: false }).verifyBatch(['jürgen@u8.test']);
		expect(jurgen.smtp?.code).toBe(250);
		expect(utf8.sessions[0].commands).toContain('MAIL FROM:<probe@prober.test> SMTPUTF8');
	});

	it('upgrades to TLS when offered, whatever the certificate', async () => {
		const server = await smtp({ extensions: ['PIPELINING', 'STARTTLS'], tls: true });
		const dns = await dnsWith({ 'tls.test': mx('mx.tls.test'), 'mx.tls.test': { A: ['127.0.0.1'] } });
		const [ann] = await verifier(dns, server.port, { catchAllProbe: false }).verifyBatch(['ann@tls.test']);
		expect(ann.smtp).toMatchObject({ code: 250, tls: true });
		expect(server.sessions[0].tls).toBe(true);
	});
});

describe('progress', () => {
	it('reports every unique address settled, in order, up to the total', async () => {
		const server = await smtp(knownUsers(['a@p.test']));
		const dns = await dnsWith({ 'p.test': mx('mx.p.test'), 'mx.p.test': { A: ['127.0.0.1'] }, 'nullmx.test': { MX: [{ preference: 0, exchange: '.' }] } });
		const seen: Array<[number, number]> = [];
		const v = verifier(dns, server.port, {}, { onProgress: (settled, total) => seen.push([settled, total]) });
		await v.verifyBatch(['a@p.test', 'b@p.test', 'bad', 'x@nullmx.test', 'A@p.test']);
		expect(seen.at(-1)).toEqual([4, 4]);
		expect(seen.every(([settled, total], i) => total === 4 && (i === 0 || settled >= seen[i - 1][0]))).toBe(true);
	});
});

describe('hosts that fail', () => {
	it('fails over to the next MX by preference when the first refuses connections', async () => {
		const backup = await smtp(knownUsers(['ann@fo.test']), '127.0.0.3');
		const dns = await dnsWith({
			'fo.test': { MX: [{ preference: 5, exchange: 'dead.fo.test' }, { preference: 10, exchange: 'backup.fo.test' }] },
			'dead.fo.test': { A: ['127.0.0.2'] }, // nothing listens there
			'backup.fo.test': { A: ['127.0.0.3'] },
		});
		const [ann] = await verifier(dns, backup.port).verifyBatch(['ann@fo.test']);
		expect([ann.status, ann.smtp?.host]).toEqual(['valid', 'backup.fo.test']);
	});

	it('uses the domain itself as the mail host when it has only an A record', async () => {
		const server = await smtp(knownUsers(['ann@implicit.test']));
		const dns = await dnsWith({ 'implicit.test': { A: ['127.0.0.1'] } });
		const [ann] = await verifier(dns, server.port).verifyBatch(['ann@implicit.test']);
		expect([ann.status, ann.smtp?.host]).toEqual(['valid', 'implicit.test']);
	});

	it('reports a host that greets with 554 as blocking us, never the address as invalid', async () => {
		const server = await smtp({ greeting: '554 5.7.1 Your IP 127.0.0.1 is listed in our block list' });
		const dns = await dnsWith({ 'b.test': mx('mx.b.test'), 'mx.b.test': { A: ['127.0.0.1'] } });
		const v = verifier(dns, server.port);
		const [ann] = await v.verifyBatch(['ann@b.test']);
		expect([ann.status, ann.reason]).toEqual(['unknown', 'blocked']);
		expect(ann.smtp).toMatchObject({ code: 554, host: 'mx.b.test' });
		expect(v.summary.smtp?.blockedHosts).toEqual([
			{ host: 'mx.b.test', ip: '127.0.0.1', reply: '554 5.7.1 Your IP 127.0.0.1 is listed in our block list' },
		]);
	});

	it('ends the run in bounded time against a server that never greets', async () => {
		const server = await smtp({ greeting: 'silent' });
		const dns = await dnsWith({ 's.test': mx('mx.s.test'), 'mx.s.test': { A: ['127.0.0.1'] } });
		const started = Date.now();
		const [ann] = await verifier(dns, server.port, { commandTimeoutMs: 300 }).verifyBatch(['ann@s.test']);
		expect([ann.status, ann.reason]).toEqual(['unknown', 'timeout']);
		expect(Date.now() - started).toBeLessThan(10_000);
	});

	it('ends the run in bounded time against a server that stops answering RCPT', async () => {
		const server = await smtp({ rcptReply: (to) => (to.startsWith('slow') ? 'silent' : '250 Ok') });
		const dns = await dnsWith({ 'q.test': mx('mx.q.test'), 'mx.q.test': { A: ['127.0.0.1'] } });
		const started = Date.now();
		const results = await verifier(dns, server.port, { commandTimeoutMs: 300 }).verifyBatch(['slow@q.test', 'ann@q.test']);
		expect(results.map((r) => r.status)).toEqual(['unknown', 'unknown']);
		expect(results[0].reason).toBe('timeout');
		expect(Date.now() - started).toBeLessThan(15_000);
	});

	it('says outbound port 25 looks blocked when no host of several can be reached', async () => {
		const dns = await dnsWith({
			'p1.test': mx('mx.p1.test'),
			'p2.test': mx('mx.p2.test'),
			'mx.p1.test': { A: ['127.0.0.2'] },
			'mx.p2.test': { A: ['127.0.0.3'] },
		});
		const unused = await smtp({});
		const port = unused.port;
		await unused.close();
		const v = verifier(dns, port);
		const results = await v.verifyBatch(['a@p1.test', 'b@p2.test']);
		expect(verdicts(results)).toEqual([
			['unknown', 'port25_blocked'],
			['unknown', 'port25_blocked'],
		]);
		expect(results[0].detail).toContain('outbound port 25 looks blocked');
		expect(v.summary.smtp).toMatchObject({ port25Blocked: true, hostsTried: 2, hostsConnected: 0 });
	});

	it('refuses private and loopback mail hosts unless allowed, without connecting', async () => {
		const server = await smtp({});
		const dns = await dnsWith({ 'priv.test': mx('mx.priv.test'), 'mx.priv.test': { A: ['127.0.0.1'] } });
		const [ann] = await verifier(dns, server.port, { allowPrivateNetworks: false }).verifyBatch(['ann@priv.test']);
		expect([ann.status, ann.reason]).toEqual(['unknown', 'refused_private_target']);
		expect(ann.detail).toContain('127.0.0.1');
		expect(server.sessions).toHaveLength(0);
	});

	it('asks DNS for each domain once and each mail host once', async () => {
		const server = await smtp({});
		const dns = await dnsWith({ 'once.test': mx('mx.once.test'), 'mx.once.test': { A: ['127.0.0.1'] } });
		await verifier(dns, server.port).verifyBatch(['a@once.test', 'b@once.test', 'c@once.test']);
		expect(dns.queries.filter((q) => q.name === 'once.test')).toEqual([{ name: 'once.test', type: 'MX' }]);
		expect(dns.queries.filter((q) => q.name === 'mx.once.test').map((q) => q.type).sort()).toEqual(['A', 'AAAA']);
	});
});

describe('pipelined transactions', () => {
	type Log = TestSmtpServer['sessions'][number];
	/** The session's commands grouped by the TCP read that brought them, in order. */
	const byRead = (log: Log) => {
		const groups = new Map<number, string[]>();
		log.commands.forEach((command, i) => groups.set(log.readOf[i], [...(groups.get(log.readOf[i]) ?? []), command]));
		return [...groups.values()];
	};

	it('sends each transaction as one group on a PIPELINING server: one read and one round trip per transaction', async () => {
		const server = await smtp(knownUsers(['a1@p1.test', 'a2@p1.test', 'a4@p1.test', 'b1@p2.test', 'c1@p3.test']));
		const zone: DnsZone = { 'mx.pipe.test': { A: ['127.0.0.1'] } };
		for (const d of ['p1.test', 'p2.test', 'p3.test']) zone[d] = mx('mx.pipe.test');
		const dns = await dnsWith(zone);
		const addresses = ['a1@p1.test', 'a2@p1.test', 'a3@p1.test', 'a4@p1.test', 'a5@p1.test', 'b1@p2.test', 'c1@p3.test', 'c2@p3.test'];
		const results = await verifier(dns, server.port, { recipientsPerTransaction: 3 }).verifyBatch(addresses);
		expect(results.map((r) => r.status)).toEqual(['valid', 'valid', 'invalid', 'valid', 'invalid', 'valid', 'valid', 'invalid']);
		expect(results.filter((r) => r.status === 'valid').every((r) => r.smtp?.catchAll === false)).toBe(true);

		expect(server.sessions).toHaveLength(1);
		const log = server.sessions[0];
		const groups = byRead(log);
		expect(groups[0]).toEqual(['EHLO prober.test']);
		expect(groups.at(-1)).toEqual(['QUIT']);
		const transactions = groups.slice(1, -1);
		// p1.test: 3 + 2 addresses and the random probe; p2.test: 1 and the probe; p3.test: 2 and the probe.
		expect(transactions.map((group) => rcpts(group).length)).toEqual([3, 3, 2, 3]);
		for (const group of transactions) {
			// One read: MAIL FROM, every RCPT and RSET, in that order.
			expect(group[0]).toBe('MAIL FROM:<probe@prober.test>');
			expect(group.slice(1, -1).every((c) => c.startsWith('RCPT TO:<'))).toBe(true);
			expect(group.at(-1)).toBe('RSET');
		}
		expect(log.commands.filter((c) => c.startsWith('MAIL FROM'))).toHaveLength(transactions.length);

		// One round trip per transaction: the server read the whole group before its first reply, and
		// the client wrote nothing more until every reply of the group had come.
		const turns = log.transcript.map((line) => line[0]).join('').replace(/C+/g, 'C').replace(/S+/g, 'S');
		expect(turns).toBe('S' + 'CS'.repeat(groups.length)); // greeting, then EHLO, each transaction, QUIT
	});

	it('keeps the 452 position rule within a pipelined group', async () => {
		const users = Array.from({ length: 7 }, (_, i) => `u${i}@cap5.test`);
		const server = await smtp(knownUsers(users.slice(0, 4), { maxRecipientsPerTransaction: 3 }));
		const dns = await dnsWith({ 'cap5.test': mx('mx.cap5.test'), 'mx.cap5.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, server.port, { recipientsPerTransaction: 5 }).verifyBatch(users);
		expect(results.map((r) => r.status)).toEqual(['valid', 'valid', 'valid', 'valid', 'invalid', 'invalid', 'invalid']);
		expect(results.every((r) => r.smtp?.code !== 452)).toBe(true);
		expect(server.sessions).toHaveLength(1);
		const transactions = byRead(server.sessions[0]).slice(1, -1);
		// 5 asked, 3 taken (the 452s after them are no verdicts); then 3; then the last address with
		// the random probe, which has room there.
		expect(transactions.map((group) => rcpts(group).length)).toEqual([5, 3, 2]);
		expect(transactions.every((group) => group[0].startsWith('MAIL FROM') && group.at(-1) === 'RSET')).toBe(true);
	});

	it('reads a refused MAIL FROM as the sender refused, never the 503s to the pipelined RCPTs as verdicts', async () => {
		const server = await smtp({
			mailReply: () => '553 5.7.1 <probe@prober.test>: Sender address rejected: not owned by user',
			rcptReply: () => '503 5.5.1 Error: need MAIL command',
		});
		const dns = await dnsWith({ 'ms.test': mx('mx.ms.test'), 'mx.ms.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, server.port).verifyBatch(['ann@ms.test', 'bob@ms.test']);
		expect(verdicts(results)).toEqual([
			['unknown', 'mail_from_rejected'],
			['unknown', 'mail_from_rejected'],
		]);
		expect(results[0].smtp).toMatchObject({ code: 553, enhanced: '5.7.1' });
		expect(server.sessions).toHaveLength(1);
		// One group (the random probe rides along, as always), then QUIT: nothing read from the 503s.
		expect(byRead(server.sessions[0])).toEqual([
			['EHLO prober.test'],
			['MAIL FROM:<probe@prober.test>', 'RCPT TO:<ann@ms.test>', 'RCPT TO:<bob@ms.test>', expect.stringMatching(/^RCPT TO:<x[0-9a-f]{18}@ms\.test>$/), 'RSET'],
			['QUIT'],
		]);
	});

	it('calls the host blocking us when it refuses MAIL FROM with a block and hangs up', async () => {
		const server = await smtp({
			mailReply: () => '554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org',
			rcptReply: () => 'drop',
		});
		const dns = await dnsWith({ 'mb.test': mx('mx.mb.test'), 'mx.mb.test': { A: ['127.0.0.1'] } });
		const v = verifier(dns, server.port);
		const results = await v.verifyBatch(['ann@mb.test', 'bob@mb.test']);
		expect(verdicts(results)).toEqual([
			['unknown', 'blocked'],
			['unknown', 'blocked'],
		]);
		expect(server.sessions).toHaveLength(1);
		expect(v.summary.smtp?.blockedHosts).toEqual([
			{ host: 'mx.mb.test', ip: '127.0.0.1', reply: '554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org' },
		]);
	});

	it('retries a MAIL FROM refused with 4xx in a new session, then settles', async () => {
		const server = await smtp({
			mailReply: () => '451 4.3.0 Temporary local problem',
			rcptReply: () => '503 5.5.1 Error: need MAIL command',
		});
		const dns = await dnsWith({ 'mt.test': mx('mx.mt.test'), 'mx.mt.test': { A: ['127.0.0.1'] } });
		const [ann] = await verifier(dns, server.port).verifyBatch(['ann@mt.test']);
		expect([ann.status, ann.reason]).toEqual(['unknown', 'smtp_temporary']);
		expect(ann.smtp?.code).toBe(451);
		expect(server.sessions).toHaveLength(3); // MAX_HOST_FAILURES
	});

	it('sends one command at a time to a server without PIPELINING, with the same verdicts', async () => {
		const server = await smtp(knownUsers(['ann@np.test', 'bob@np.test'], { extensions: ['SMTPUTF8'] }));
		const dns = await dnsWith({ 'np.test': mx('mx.np.test'), 'mx.np.test': { A: ['127.0.0.1'] } });
		const results = await verifier(dns, server.port).verifyBatch(['ann@np.test', 'zed@np.test', 'bob@np.test']);
		expect(verdicts(results)).toEqual([
			['valid', 'accepted'],
			['invalid', 'mailbox_not_found'],
			['valid', 'accepted'],
		]);
		const log = server.sessions[0];
		expect(byRead(log).every((group) => group.length === 1)).toBe(true);
		expect(log.commands.slice(1, 3)).toEqual(['MAIL FROM:<probe@prober.test>', 'RCPT TO:<ann@np.test>']);
		expect(log.commands.slice(-2)).toEqual(['RSET', 'QUIT']);
	});
});
