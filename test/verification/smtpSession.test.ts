// The SMTP probe session against a real, scripted SMTP server on loopback (real sockets, real TLS).
// Waits are on events (replies, the server's command log, a session's end), never on sleeps; the
// only time-based checks are timeouts, with generous upper bounds for a loaded machine.
import { SmtpError, SmtpSession, type SmtpSessionOptions } from '../../src/verification/smtp/session';
import { startSmtpServer, type SmtpScript, type TestSmtpServer } from '../helpers/smtpServer';

const HELO = 'probe.example';
/** A timeout must fire, and within this much past its limit even on a loaded machine. */
const SLACK_MS = 10_000;

const servers: TestSmtpServer[] = [];
const sessions: SmtpSession[] = [];

afterEach(async () => {
	for (const session of sessions.splice(0)) session.close();
	await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function smtpServer(script?: SmtpScript): Promise<TestSmtpServer> {
	const server = await startSmtpServer(script);
	servers.push(server);
	return server;
}

async function connect(server: TestSmtpServer, options: Partial<SmtpSessionOptions> = {}): Promise<SmtpSession> {
	const session = await SmtpSession.connect({ host: server.host, port: server.port, heloName: HELO, ...options });
	sessions.push(session);
	return session;
}

/** The SmtpError a promise rejects with (fails the test when it resolves or throws something else). */
async function failure(promise: Promise<unknown>): Promise<SmtpError> {
	try {
		const value = await promise;
		if (value instanceof SmtpSession) value.close();
	} catch (error) {
		expect(error).toBeInstanceOf(SmtpError);
		return error as SmtpError;
	}
	throw new Error('expected an SmtpError, but the promise resolved');
}

function codes(replies: Array<{ code: number }>): number[] {
	return replies.map((reply) => reply.code);
}

describe('greeting', () => {
	it('reads a 220 greeting', async () => {
		const server = await smtpServer({ greeting: '220 mx.test ESMTP Postfix' });
		const session = await connect(server);
		expect(session.greeting).toEqual({ code: 220, text: 'mx.test ESMTP Postfix', lines: ['220 mx.test ESMTP Postfix'] });
		expect(session.closed).toBe(false);
	});

	it('reads a multi-line greeting', async () => {
		const server = await smtpServer({ greeting: '220-mx.test ESMTP\r\n220-no UCE\r\n220 ready' });
		const session = await connect(server);
		expect(session.greeting).toEqual({ code: 220, text: 'mx.test ESMTP\nno UCE\nready', lines: ['220-mx.test ESMTP', '220-no UCE', '220 ready'] });
	});

	it('rejects a 554 greeting with the reply, after saying QUIT', async () => {
		const server = await smtpServer({ greeting: '554 5.7.1 No SMTP service here' });
		const error = await failure(connect(server));
		expect(error).toMatchObject({ code: 'EPROTOCOL', phase: 'greeting', reply: { code: 554, enhanced: '5.7.1', text: 'No SMTP service here' } });
		expect(server.sessions[0].commands).toEqual(['QUIT']);
		await server.sessions[0].ended;
	});

	it('times out on a server that never greets', async () => {
		const server = await smtpServer({ greeting: 'silent' });
		const started = Date.now();
		const error = await failure(connect(server, { greetingTimeoutMs: 300 }));
		const elapsed = Date.now() - started;
		expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'greeting' });
		expect(elapsed).toBeGreaterThanOrEqual(250);
		expect(elapsed).toBeLessThan(300 + SLACK_MS);
		await server.sessions[0].ended;
	});

	it('reports a server that closes at once', async () => {
		const server = await smtpServer({ greeting: 'close' });
		const error = await failure(connect(server));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'greeting' });
	});

	it('calls a server that does not speak SMTP a protocol error', async () => {
		const server = await smtpServer({ greeting: 'SSH-2.0-OpenSSH_9.6' });
		const error = await failure(connect(server));
		expect(error).toMatchObject({ code: 'EPROTOCOL', phase: 'greeting' });
		expect(error.message).toContain('SSH-2.0');
	});

	it('reports a refused connection', async () => {
		const server = await startSmtpServer();
		const { host, port } = server;
		await server.close();
		const error = await failure(SmtpSession.connect({ host, port, heloName: HELO }));
		expect(error).toMatchObject({ code: 'ECONNECTION', phase: 'connect' });
	});

	it('refuses a host name: the caller resolves and vets the address', async () => {
		const error = await failure(SmtpSession.connect({ host: 'localhost', port: 25, heloName: HELO }));
		expect(error).toMatchObject({ code: 'EUNSAFE', phase: 'connect' });
	});
});

describe('EHLO', () => {
	it('reads the capabilities from the EHLO reply', async () => {
		const server = await smtpServer({ extensions: ['PIPELINING', 'SIZE 35882577', 'ENHANCEDSTATUSCODES', 'SMTPUTF8', '8BITMIME'] });
		const session = await connect(server);
		expect(session.capabilities).toEqual({
			esmtp: true,
			pipelining: true,
			smtputf8: true,
			startTls: false,
			size: 35882577,
			tls: false,
		});
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`]);
	});

	it('falls back to HELO when EHLO is refused with 5xx, and then works one command at a time', async () => {
		const server = await smtpServer({ ehloReply: '502 5.5.1 EHLO not supported' });
		const session = await connect(server);
		expect(session.capabilities).toEqual({ esmtp: false, pipelining: false, smtputf8: false, startTls: false, tls: false });
		await session.mailFrom('');
		expect(codes(await session.rcptTo(['a@b.test', 'b@b.test']))).toEqual([250, 250]);
		const log = server.sessions[0];
		expect(log.commands).toEqual([`EHLO ${HELO}`, `HELO ${HELO}`, 'MAIL FROM:<>', 'RCPT TO:<a@b.test>', 'RCPT TO:<b@b.test>']);
	});

	it('rejects a 4xx to EHLO with the reply', async () => {
		const server = await smtpServer({ ehloReply: '451 4.3.0 Try again later' });
		const error = await failure(connect(server));
		expect(error).toMatchObject({ code: 'EPROTOCOL', phase: 'ehlo', reply: { code: 451, enhanced: '4.3.0' } });
	});

	it('hands every line to onTranscript', async () => {
		const server = await smtpServer();
		const lines: string[] = [];
		const session = await connect(server, { onTranscript: (direction, line) => lines.push(`${direction} ${line}`) });
		await session.quit();
		expect(lines).toEqual([
			'S 220 mx.test ESMTP ready',
			`C EHLO ${HELO}`,
			`S 250-mx.test greets ${HELO}`,
			'S 250-PIPELINING',
			'S 250-SMTPUTF8',
			'S 250 8BITMIME',
			'C QUIT',
			'S 221 2.0.0 Bye',
		]);
	});
});

describe('STARTTLS', () => {
	const extensions = ['PIPELINING', 'SMTPUTF8', 'STARTTLS'];

	it('upgrades to TLS with a self-signed certificate and says EHLO again', async () => {
		const server = await smtpServer({ tls: true, extensions });
		const session = await connect(server, { servername: 'mx.test' });
		expect(session.capabilities).toEqual({
			esmtp: true,
			pipelining: true,
			smtputf8: true,
			startTls: false, // not offered again over TLS
			tls: true,
			tlsAuthorized: false,
		});
		await session.mailFrom('');
		expect(codes(await session.rcptTo(['a@b.test', 'b@b.test']))).toEqual([250, 250]);
		const log = server.sessions[0];
		expect(log.tls).toBe(true);
		expect(log.commands).toEqual([`EHLO ${HELO}`, 'STARTTLS', `EHLO ${HELO}`, 'MAIL FROM:<>', 'RCPT TO:<a@b.test>', 'RCPT TO:<b@b.test>']);
	});

	it('does not start TLS when told not to', async () => {
		const server = await smtpServer({ tls: true, extensions });
		const session = await connect(server, { startTls: false });
		expect(session.capabilities).toMatchObject({ startTls: true, tls: false });
		expect(session.capabilities.tlsAuthorized).toBeUndefined();
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`]);
	});

	it('goes on in plain text when the server refuses STARTTLS', async () => {
		const server = await smtpServer({ extensions, starttlsReply: '454 4.7.0 TLS not available due to temporary reason' });
		const session = await connect(server);
		expect(session.capabilities).toMatchObject({ startTls: true, tls: false });
		expect((await session.mailFrom('')).code).toBe(250);
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`, 'STARTTLS', 'MAIL FROM:<>']);
		expect(server.sessions[0].tls).toBe(false);
	});

	it('rejects with ETLS when the handshake breaks, and a retry without TLS works', async () => {
		const server = await smtpServer({ tls: 'broken', extensions });
		const error = await failure(connect(server));
		expect(error).toMatchObject({ code: 'ETLS', phase: 'starttls' });
		const session = await connect(server, { startTls: false });
		expect((await session.mailFrom('')).code).toBe(250);
		expect(server.sessions[1].commands).toEqual([`EHLO ${HELO}`, 'MAIL FROM:<>']);
	});

	it('refuses to go on when data follows the 220 to STARTTLS in plain text', async () => {
		const server = await smtpServer({ extensions, starttlsReply: '220 2.0.0 Ready\r\n250 2.1.5 injected' });
		const error = await failure(connect(server));
		expect(error).toMatchObject({ code: 'EPROTOCOL', phase: 'starttls' });
	});
});

describe('RCPT TO', () => {
	const rcptReply = (to: string) =>
		to.startsWith('bad')
			? `550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`
			: `250 2.1.5 <${to}> Ok`;

	it('pipelines the commands in one write when PIPELINING is offered; replies map to addresses', async () => {
		const server = await smtpServer({ rcptReply, replyDelayMs: 20 });
		const session = await connect(server);
		await session.mailFrom('');
		const addresses = ['a@x.test', 'bad1@x.test', 'b@x.test', 'bad2@x.test', 'c@x.test'];
		const replies = await session.rcptTo(addresses);
		expect(codes(replies)).toEqual([250, 550, 250, 550, 250]);
		replies.forEach((reply, i) => expect(reply.text).toContain(`<${addresses[i]}>`));
		expect(replies[1].enhanced).toBe('5.1.1');

		const log = server.sessions[0];
		const rcptReads = log.commands.flatMap((command, i) => (command.startsWith('RCPT') ? [log.readOf[i]] : []));
		expect(rcptReads).toHaveLength(5);
		expect(new Set(rcptReads).size).toBe(1); // all five arrived in one read
	});

	it('sends one command at a time without PIPELINING', async () => {
		const server = await smtpServer({ rcptReply, extensions: ['SMTPUTF8'] });
		const session = await connect(server);
		await session.mailFrom('');
		expect(codes(await session.rcptTo(['a@x.test', 'bad@x.test', 'b@x.test']))).toEqual([250, 550, 250]);
		const transcript = server.sessions[0].transcript.filter((line) => !line.startsWith('S: 250-'));
		expect(transcript.slice(-6).map((line) => line.slice(0, 7))).toEqual(['C: RCPT', 'S: 250 ', 'C: RCPT', 'S: 550 ', 'C: RCPT', 'S: 250 ']);
	});

	it('joins multi-line replies and reads enhanced codes only of the right class', async () => {
		const server = await smtpServer({
			rcptReply: (to) =>
				to.startsWith('gone')
					? '550-5.1.1 The email account that you tried to reach does not exist.\r\n550-5.1.1 Please try double-checking\r\n550 5.1.1 the recipient\'s email address.'
					: '250 5.1.1 odd but accepted',
		});
		const session = await connect(server);
		await session.mailFrom('');
		const [gone, odd] = await session.rcptTo(['gone@x.test', 'odd@x.test']);
		expect(gone).toEqual({
			code: 550,
			enhanced: '5.1.1',
			text: "The email account that you tried to reach does not exist.\nPlease try double-checking\nthe recipient's email address.",
			lines: [
				'550-5.1.1 The email account that you tried to reach does not exist.',
				'550-5.1.1 Please try double-checking',
				"550 5.1.1 the recipient's email address.",
			],
		});
		expect(odd).toEqual({ code: 250, text: '5.1.1 odd but accepted', lines: ['250 5.1.1 odd but accepted'] });
	});

	it('reads replies that arrive one byte at a time', async () => {
		const server = await smtpServer({ rcptReply, writeOneByteAtATime: true });
		const session = await connect(server);
		expect(session.greeting.text).toBe('mx.test ESMTP ready');
		expect(session.capabilities).toMatchObject({ pipelining: true, smtputf8: true });
		await session.mailFrom('');
		const replies = await session.rcptTo(['a@x.test', 'bad@x.test']);
		expect(codes(replies)).toEqual([250, 550]);
		expect(replies[1].text).toBe('<bad@x.test>: Recipient address rejected: User unknown in virtual mailbox table');
		expect((await session.rset()).code).toBe(250);
	});

	it('passes a 452 too-many-recipients reply through and stays open', async () => {
		const server = await smtpServer({ maxRecipientsPerTransaction: 2 });
		const session = await connect(server);
		await session.mailFrom('');
		const replies = await session.rcptTo(['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test']);
		expect(codes(replies)).toEqual([250, 250, 452, 452]);
		expect(replies[2]).toMatchObject({ enhanced: '4.5.3', text: 'Too many recipients' });
		expect(session.closed).toBe(false);
		await session.rset();
		await session.mailFrom('');
		expect(codes(await session.rcptTo(['c@x.test', 'd@x.test']))).toEqual([250, 250]);
	});

	it.each([
		['pipelined', ['PIPELINING']],
		['one at a time', []],
	])('answers the rest of a batch with a 421 and closes the session (%s)', async (_mode, extensions) => {
		const server = await smtpServer({
			extensions,
			rcptReply: (_to, ctx) => (ctx.rcptInTransaction === 2 ? '421 4.7.0 Too many errors, closing connection' : '250 2.1.5 Ok'),
		});
		const session = await connect(server);
		await session.mailFrom('');
		const replies = await session.rcptTo(['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test']);
		expect(codes(replies)).toEqual([250, 421, 421, 421]);
		expect(replies[1]).toMatchObject({ enhanced: '4.7.0', text: 'Too many errors, closing connection' });
		expect(session.closed).toBe(true);
		const error = await failure(session.rset());
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'rset', reply: { code: 421 } });
		await server.sessions[0].ended;
	});

	it('resolves a pending MAIL FROM with an unsolicited 421 and closes', async () => {
		const server = await smtpServer({ mailReply: () => '421 4.3.2 System shutting down' });
		const session = await connect(server);
		expect((await session.mailFrom('')).code).toBe(421);
		expect(session.closed).toBe(true);
	});

	it.each([
		['pipelined', ['PIPELINING']],
		['one at a time', []],
	])('rejects with the replies so far when the server drops mid-batch (%s)', async (_mode, extensions) => {
		const server = await smtpServer({ extensions, rcptReply: (_to, ctx) => (ctx.rcptInTransaction === 3 ? 'drop' : '250 2.1.5 Ok') });
		const session = await connect(server);
		await session.mailFrom('');
		const error = await failure(session.rcptTo(['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test']));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'rcpt' });
		expect(codes(error.partial ?? [])).toEqual([250, 250]);
		expect(session.closed).toBe(true);
	});

	it('times out within the command timeout when the server goes silent, with the replies so far', async () => {
		const server = await smtpServer({ rcptReply: (_to, ctx) => (ctx.rcptInTransaction === 2 ? 'silent' : '250 2.1.5 Ok') });
		const session = await connect(server, { commandTimeoutMs: 400 });
		await session.mailFrom('');
		const started = Date.now();
		const error = await failure(session.rcptTo(['a@x.test', 'b@x.test', 'c@x.test']));
		const elapsed = Date.now() - started;
		expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'rcpt', command: 'RCPT TO:<b@x.test>' });
		expect(codes(error.partial ?? [])).toEqual([250]);
		expect(elapsed).toBeGreaterThanOrEqual(350);
		expect(elapsed).toBeLessThan(400 + SLACK_MS);
		expect(session.closed).toBe(true);
		await server.sessions[0].ended;
	});

	it('reports a server that hangs up between commands', async () => {
		const server = await smtpServer({ dropAfterCommands: 1 });
		const session = await connect(server);
		const error = await failure(session.mailFrom(''));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'mail' });
		expect(session.closed).toBe(true);
	});

	it('closes on a reply no command asked for', async () => {
		const server = await smtpServer({ mailReply: () => '250 2.1.0 Ok\r\n250 2.0.0 surprise' });
		const session = await connect(server);
		expect((await session.mailFrom('')).code).toBe(250);
		expect(session.closed).toBe(true);
		const error = await failure(session.rcptTo(['a@x.test']));
		expect(error.code).toBe('ECLOSED');
		expect(error.message).toContain('no command asked for');
	});
});

describe('unsafe input', () => {
	it('refuses CR, LF, NUL and path breakers, writing nothing', async () => {
		const server = await smtpServer();
		const session = await connect(server);
		await session.mailFrom('');
		const attempts: Array<() => Promise<unknown>> = [
			() => session.rcptTo(['ok@b.test', 'a@b.test\r\nDATA']),
			() => session.rcptTo(['a@b.test\nDATA']),
			() => session.rcptTo(['a@b.test\rRSET']),
			() => session.rcptTo(['a@b.test\0']),
			() => session.rcptTo(['a@b.test> NOTIFY=NEVER']),
			() => session.rcptTo(['<a@b.test']),
			() => session.rcptTo(['a b@b.test']),
			() => session.mailFrom('x@b.test>\r\nRCPT TO:<victim@b.test>'),
			() => session.mailFrom('x@b.test\u0000'),
		];
		for (const attempt of attempts) {
			const error = await failure(attempt());
			expect(error.code).toBe('EUNSAFE');
			expect(error.message).toContain('nothing was sent');
			expect(error.message).not.toMatch(/[\r\n\0]/);
		}
		expect((await session.rset()).code).toBe(250);
		expect(session.closed).toBe(false);
		// The command log proves it: nothing between MAIL FROM and RSET.
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`, 'MAIL FROM:<>', 'RSET']);
	});

	it('refuses an EHLO name with CR/LF before connecting', async () => {
		const server = await smtpServer();
		const error = await failure(connect(server, { heloName: 'probe.example\r\nMAIL FROM:<x@y.test>' }));
		expect(error).toMatchObject({ code: 'EUNSAFE', phase: 'ehlo' });
		expect(server.sessions).toHaveLength(0);
	});

	it('refuses a non-ASCII address when the server does not offer SMTPUTF8', async () => {
		const server = await smtpServer({ extensions: ['PIPELINING'] });
		const session = await connect(server);
		const mail = await failure(session.mailFrom('prüfer@b.test', { smtputf8: true }));
		expect(mail).toMatchObject({ code: 'EUNSAFE', phase: 'mail' });
		expect(mail.message).toContain('does not offer SMTPUTF8');
		expect((await session.mailFrom('', { smtputf8: true })).code).toBe(250);
		const rcpt = await failure(session.rcptTo(['ascii@b.test', 'josé@b.test']));
		expect(rcpt).toMatchObject({ code: 'EUNSAFE', phase: 'rcpt' });
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`, 'MAIL FROM:<>']);
	});

	it('sends a non-ASCII address with the SMTPUTF8 parameter when offered and asked for', async () => {
		const server = await smtpServer();
		const session = await connect(server);
		expect((await session.mailFrom('', { smtputf8: true })).code).toBe(250);
		expect(codes(await session.rcptTo(['josé@b.test', 'ascii@b.test']))).toEqual([250, 250]);
		await session.rset();
		// A new transaction that did not ask for SMTPUTF8 cannot name a non-ASCII mailbox.
		await session.mailFrom('');
		const error = await failure(session.rcptTo(['josé@b.test']));
		expect(error.code).toBe('EUNSAFE');
		expect(error.message).toContain('did not ask for SMTPUTF8');
		expect(server.sessions[0].commands).toEqual([
			`EHLO ${HELO}`,
			'MAIL FROM:<> SMTPUTF8',
			'RCPT TO:<josé@b.test>',
			'RCPT TO:<ascii@b.test>',
			'RSET',
			'MAIL FROM:<>',
		]);
	});
});

describe('RSET, QUIT and close', () => {
	it('resets the transaction', async () => {
		const server = await smtpServer();
		const session = await connect(server);
		await session.mailFrom('probe@verifier.test');
		expect(await session.rset()).toMatchObject({ code: 250, enhanced: '2.0.0', text: 'Ok' });
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`, 'MAIL FROM:<probe@verifier.test>', 'RSET']);
	});

	it('says QUIT, closes, and never throws when called again', async () => {
		const server = await smtpServer();
		const session = await connect(server);
		await session.quit();
		expect(session.closed).toBe(true);
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`, 'QUIT']);
		await server.sessions[0].ended;
		await expect(session.quit()).resolves.toBeUndefined();
		session.close();
		const error = await failure(session.mailFrom(''));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'mail' });
	});

	it('close() is idempotent and rejects the commands still waiting', async () => {
		let rcptSeen!: () => void;
		const seen = new Promise<void>((resolve) => (rcptSeen = resolve));
		const server = await smtpServer({
			rcptReply: () => 'silent',
			onCommand: (line) => {
				if (line.startsWith('RCPT')) rcptSeen();
			},
		});
		const session = await connect(server);
		await session.mailFrom('');
		const pending = failure(session.rcptTo(['a@x.test', 'b@x.test']));
		await seen;
		session.close();
		session.close();
		const error = await pending;
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'rcpt', partial: [] });
		expect(session.closed).toBe(true);
		await server.sessions[0].ended;
	});

	it('quit() waits only briefly when the server owes replies, then closes', async () => {
		let rcptSeen!: () => void;
		const seen = new Promise<void>((resolve) => (rcptSeen = resolve));
		const server = await smtpServer({
			rcptReply: () => 'silent',
			onCommand: (line) => {
				if (line.startsWith('RCPT')) rcptSeen();
			},
		});
		const session = await connect(server); // default 30 s command timeout
		await session.mailFrom('');
		const pending = failure(session.rcptTo(['a@x.test']));
		await seen;
		const started = Date.now();
		await session.quit();
		expect(Date.now() - started).toBeLessThan(2_000 + SLACK_MS);
		expect(session.closed).toBe(true);
		expect(await pending).toMatchObject({ code: 'ECLOSED', phase: 'rcpt' });
		await server.sessions[0].ended;
		expect(server.sessions[0].commands.at(-1)).toBe('QUIT');
	});

	it('counts the sessions open at once on the test server', async () => {
		const server = await smtpServer();
		const three = await Promise.all([connect(server), connect(server), connect(server)]);
		expect(server.maxConcurrentSessions).toBe(3);
		await Promise.all(three.map((session) => session.quit()));
		await Promise.all(server.sessions.map((log) => log.ended));
		await connect(server);
		expect(server.maxConcurrentSessions).toBe(3);
		expect(new Set(server.sessions.map((log) => log.remoteAddress))).toEqual(new Set(['127.0.0.1']));
	});
});

describe('transaction: MAIL FROM, RCPT TO... and RSET', () => {
	const rcptReply = (to: string) =>
		to.startsWith('bad')
			? `550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`
			: `250 2.1.5 <${to}> Ok`;
	/** The reads (see TestSmtpSession.readOf) that brought the commands after EHLO. */
	const readsAfterEhlo = (log: TestSmtpServer['sessions'][number]) => log.readOf.slice(1);

	/** A server that answers RCPT with 503 while no MAIL FROM was accepted, as real servers do. */
	function refusingSender(mailReply: string, extra: Partial<SmtpScript> = {}): SmtpScript {
		let inTransaction = false;
		return {
			mailReply: () => {
				inTransaction = mailReply.startsWith('2');
				return mailReply;
			},
			rcptReply: (to) => (inTransaction ? rcptReply(to) : '503 5.5.1 Error: need MAIL command'),
			onCommand: (line) => {
				if (line === 'RSET') inTransaction = false;
			},
			...extra,
		};
	}

	it('writes MAIL FROM, every RCPT and RSET in one write with PIPELINING; replies map back in order', async () => {
		const server = await smtpServer({
			// Each RCPT reply waits its own time: the later ones still come in order and map back.
			rcptReply: (to, ctx) => ({ reply: rcptReply(to), delayMs: 40 - 8 * ctx.rcptInTransaction }),
			replyDelayMs: 20,
		});
		const session = await connect(server);
		const addresses = ['a@x.test', 'bad1@x.test', 'b@x.test', 'bad2@x.test', 'c@x.test'];
		const result = await session.transaction('probe@verifier.test', addresses, { rset: true });
		expect(result).toMatchObject({ mailAccepted: true, pipelined: true, mail: { code: 250, enhanced: '2.1.0' }, rset: { code: 250 } });
		if (!result.mailAccepted) throw new Error('MAIL FROM was refused');
		expect(codes(result.rcpt)).toEqual([250, 550, 250, 550, 250]);
		result.rcpt.forEach((reply, i) => expect(reply.text).toContain(`<${addresses[i]}>`));

		const log = server.sessions[0];
		expect(log.commands).toEqual([
			`EHLO ${HELO}`,
			'MAIL FROM:<probe@verifier.test>',
			...addresses.map((address) => `RCPT TO:<${address}>`),
			'RSET',
		]);
		const reads = readsAfterEhlo(log);
		expect(reads).toHaveLength(7);
		expect(new Set(reads).size).toBe(1); // MAIL, five RCPTs and RSET arrived in one read
		expect(session.closed).toBe(false);

		// The next transaction is one more read, and RSET can be left out.
		const next = await session.transaction('', ['d@x.test']);
		expect(next).toMatchObject({ mailAccepted: true, rcpt: [{ code: 250 }] });
		expect(next.rset).toBeUndefined();
		expect(log.commands.slice(8)).toEqual(['MAIL FROM:<>', 'RCPT TO:<d@x.test>']);
		expect(new Set(log.readOf.slice(8)).size).toBe(1);
		expect(log.readOf[8]).toBeGreaterThan(reads[0]);
	});

	it('reads replies that arrive one byte at a time, and a transaction without recipients', async () => {
		const server = await smtpServer({ rcptReply, writeOneByteAtATime: true });
		const session = await connect(server);
		const result = await session.transaction('', ['a@x.test', 'bad@x.test'], { rset: true });
		if (!result.mailAccepted) throw new Error('MAIL FROM was refused');
		expect(codes(result.rcpt)).toEqual([250, 550]);
		expect(result.rset?.code).toBe(250);
		expect(await session.transaction('', [], { rset: true })).toMatchObject({ mailAccepted: true, rcpt: [], rset: { code: 250 } });
	});

	it('says plainly when MAIL FROM is refused: the 503s to the pipelined RCPTs are no verdicts', async () => {
		const server = await smtpServer(refusingSender('550 5.7.1 <probe@verifier.test>: Sender address rejected: Access denied'));
		const session = await connect(server);
		const result = await session.transaction('probe@verifier.test', ['a@x.test', 'bad@x.test'], { rset: true });
		expect(result.mailAccepted).toBe(false);
		if (result.mailAccepted) throw new Error('MAIL FROM was accepted');
		expect(result.mail).toMatchObject({ code: 550, enhanced: '5.7.1' });
		expect(result.rcpt).toBeUndefined();
		expect(codes(result.rcptWithoutTransaction)).toEqual([503, 503]);
		expect(result.rset?.code).toBe(250);
		expect(new Set(readsAfterEhlo(server.sessions[0])).size).toBe(1);
		expect(session.closed).toBe(false);

		// Without PIPELINING nothing follows the refused MAIL FROM.
		const plain = await smtpServer(refusingSender('553 5.7.1 Sender rejected', { extensions: ['SMTPUTF8'] }));
		const sequential = await connect(plain);
		const refused = await sequential.transaction('probe@verifier.test', ['a@x.test'], { rset: true });
		expect(refused).toMatchObject({ mailAccepted: false, pipelined: false, mail: { code: 553 }, rcptWithoutTransaction: [] });
		expect(refused.rset).toBeUndefined();
		expect(plain.sessions[0].commands).toEqual([`EHLO ${HELO}`, 'MAIL FROM:<probe@verifier.test>']);
	});

	it('answers every waiting command with a 421 in the middle and closes', async () => {
		const server = await smtpServer({
			rcptReply: (_to, ctx) => (ctx.rcptInTransaction === 2 ? '421 4.7.0 Too many errors, closing connection' : '250 2.1.5 Ok'),
		});
		const session = await connect(server);
		const result = await session.transaction('', ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test'], { rset: true });
		if (!result.mailAccepted) throw new Error('MAIL FROM was refused');
		expect(codes(result.rcpt)).toEqual([250, 421, 421, 421]);
		expect(result.rset).toMatchObject({ code: 421, enhanced: '4.7.0' });
		expect(session.closed).toBe(true);
		expect(await failure(session.transaction('', ['e@x.test']))).toMatchObject({ code: 'ECLOSED', phase: 'mail', reply: { code: 421 } });
		await server.sessions[0].ended;
	});

	it('answers a 421 to MAIL FROM for every command of the group', async () => {
		const server = await smtpServer({ mailReply: () => '421 4.3.2 System shutting down' });
		const session = await connect(server);
		const result = await session.transaction('', ['a@x.test', 'b@x.test'], { rset: true });
		expect(result).toMatchObject({ mailAccepted: false, mail: { code: 421 }, rset: { code: 421 } });
		if (result.mailAccepted) throw new Error('MAIL FROM was accepted');
		expect(codes(result.rcptWithoutTransaction)).toEqual([421, 421]);
		expect(session.closed).toBe(true);
	});

	it.each([
		['pipelined', ['PIPELINING']],
		['one at a time', []],
	])('rejects a drop in the middle with the MAIL reply and the RCPT replies so far (%s)', async (_mode, extensions) => {
		const server = await smtpServer({ extensions, rcptReply: (_to, ctx) => (ctx.rcptInTransaction === 3 ? 'drop' : '250 2.1.5 Ok') });
		const session = await connect(server);
		const error = await failure(session.transaction('', ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test'], { rset: true }));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'rcpt', mailReply: { code: 250 } });
		expect(codes(error.partial ?? [])).toEqual([250, 250]);
		expect(session.closed).toBe(true);
	});

	it.each([
		['pipelined', ['PIPELINING']],
		['one at a time', []],
	])('rejects a drop before the RSET reply with every RCPT reply in partial (%s)', async (_mode, extensions) => {
		// EHLO, MAIL and the two RCPTs are answered, then the server hangs up.
		const server = await smtpServer({ extensions, dropAfterCommands: 4 });
		const session = await connect(server);
		const error = await failure(session.transaction('', ['a@x.test', 'b@x.test'], { rset: true }));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'rset', mailReply: { code: 250 } });
		expect(codes(error.partial ?? [])).toEqual([250, 250]);
	});

	it('leaves partial empty when the server drops after refusing MAIL FROM', async () => {
		const server = await smtpServer(
			refusingSender('554 5.7.1 Service unavailable; client blocked', { rcptReply: (_to, ctx) => (ctx.rcptInTransaction === 2 ? 'drop' : '503 5.5.1 Error: need MAIL command') }),
		);
		const session = await connect(server);
		const error = await failure(session.transaction('', ['a@x.test', 'b@x.test', 'c@x.test'], { rset: true }));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'rcpt', mailReply: { code: 554, enhanced: '5.7.1' }, partial: [] });
	});

	it('rejects with partial empty and no MAIL reply when the server drops before answering MAIL FROM', async () => {
		const server = await smtpServer({ dropAfterCommands: 1 });
		const session = await connect(server);
		const error = await failure(session.transaction('', ['a@x.test'], { rset: true }));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'mail', partial: [] });
		expect(error.mailReply).toBeUndefined();
	});

	it('times out within the command timeout when the server goes silent mid-group', async () => {
		const server = await smtpServer({ rcptReply: (_to, ctx) => (ctx.rcptInTransaction === 2 ? 'silent' : '250 2.1.5 Ok') });
		const session = await connect(server, { commandTimeoutMs: 400 });
		const started = Date.now();
		const error = await failure(session.transaction('', ['a@x.test', 'b@x.test', 'c@x.test'], { rset: true }));
		const elapsed = Date.now() - started;
		expect(error).toMatchObject({ code: 'ETIMEDOUT', phase: 'rcpt', command: 'RCPT TO:<b@x.test>', mailReply: { code: 250 } });
		expect(codes(error.partial ?? [])).toEqual([250]);
		expect(elapsed).toBeGreaterThanOrEqual(350);
		expect(elapsed).toBeLessThan(400 + SLACK_MS);
		expect(session.closed).toBe(true);
	});

	it('sends one command at a time without PIPELINING, as mailFrom, rcptTo and rset would', async () => {
		const server = await smtpServer({ rcptReply, extensions: ['SMTPUTF8'] });
		const session = await connect(server);
		const result = await session.transaction('', ['a@x.test', 'bad@x.test', 'b@x.test'], { rset: true });
		expect(result).toMatchObject({ mailAccepted: true, pipelined: false, mail: { code: 250 }, rset: { code: 250 } });
		if (!result.mailAccepted) throw new Error('MAIL FROM was refused');
		expect(codes(result.rcpt)).toEqual([250, 550, 250]);
		const log = server.sessions[0];
		expect(log.commands.slice(1)).toEqual(['MAIL FROM:<>', 'RCPT TO:<a@x.test>', 'RCPT TO:<bad@x.test>', 'RCPT TO:<b@x.test>', 'RSET']);
		expect(new Set(readsAfterEhlo(log)).size).toBe(5); // every command its own read
		const transcript = log.transcript.filter((line) => !line.startsWith('S: 250-')).slice(-10);
		expect(transcript.map((line) => line.slice(0, 7))).toEqual([
			'C: MAIL', 'S: 250 ', 'C: RCPT', 'S: 250 ', 'C: RCPT', 'S: 550 ', 'C: RCPT', 'S: 250 ', 'C: RSET', 'S: 250 ',
		]);
	});

	it('answers the rest with the 421 without PIPELINING, RSET included, and closes', async () => {
		const server = await smtpServer({
			extensions: [],
			rcptReply: (_to, ctx) => (ctx.rcptInTransaction === 2 ? '421 4.7.0 Closing connection' : '250 2.1.5 Ok'),
		});
		const session = await connect(server);
		const result = await session.transaction('', ['a@x.test', 'b@x.test', 'c@x.test'], { rset: true });
		if (!result.mailAccepted) throw new Error('MAIL FROM was refused');
		expect(codes(result.rcpt)).toEqual([250, 421, 421]);
		expect(result.rset?.code).toBe(421);
		expect(session.closed).toBe(true);
		expect(server.sessions[0].commands.slice(1)).toEqual(['MAIL FROM:<>', 'RCPT TO:<a@x.test>', 'RCPT TO:<b@x.test>']);
	});

	it('refuses an unsafe path anywhere in the transaction, writing nothing', async () => {
		const server = await smtpServer();
		const session = await connect(server);
		const attempts: Array<() => Promise<unknown>> = [
			() => session.transaction('', ['ok@b.test', 'a@b.test\r\nDATA'], { rset: true }),
			() => session.transaction('', ['ok@b.test', 'a@b.test\nRSET']),
			() => session.transaction('', ['a@b.test\0']),
			() => session.transaction('', ['ok@b.test', 'a@b.test> NOTIFY=NEVER']),
			() => session.transaction('', ['<a@b.test']),
			() => session.transaction('', ['a b@b.test']),
			() => session.transaction('x@b.test>\r\nRCPT TO:<victim@b.test>', ['ok@b.test']),
			() => session.transaction('x@b.test\u0000', ['ok@b.test']),
			() => session.transaction('x y@b.test', ['ok@b.test']),
			// Non-ASCII without SMTPUTF8 asked for, in a recipient or in the sender.
			() => session.transaction('', ['ok@b.test', 'josé@b.test'], { rset: true }),
			() => session.transaction('prüfer@b.test', ['ok@b.test']),
		];
		for (const attempt of attempts) {
			const error = await failure(attempt());
			expect(error.code).toBe('EUNSAFE');
			expect(['mail', 'rcpt']).toContain(error.phase);
			expect(error.message).toContain('nothing was sent');
			expect(error.message).not.toMatch(/[\r\n\0]/);
		}
		expect(session.closed).toBe(false);
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`]);
		expect(await session.transaction('', ['ok@b.test'], { rset: true })).toMatchObject({ mailAccepted: true, rcpt: [{ code: 250 }] });
	});

	it('refuses non-ASCII paths, writing nothing, when the server does not offer SMTPUTF8', async () => {
		const server = await smtpServer({ extensions: ['PIPELINING'] });
		const session = await connect(server);
		const rcpt = await failure(session.transaction('', ['ascii@b.test', 'josé@b.test'], { smtputf8: true, rset: true }));
		expect(rcpt).toMatchObject({ code: 'EUNSAFE', phase: 'rcpt' });
		expect(rcpt.message).toContain('does not offer SMTPUTF8');
		const mail = await failure(session.transaction('prüfer@b.test', ['ascii@b.test'], { smtputf8: true }));
		expect(mail).toMatchObject({ code: 'EUNSAFE', phase: 'mail' });
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`]);
		// Asked for but not offered: the MAIL FROM goes out without the parameter.
		await session.transaction('', ['ascii@b.test'], { smtputf8: true, rset: true });
		expect(server.sessions[0].commands[1]).toBe('MAIL FROM:<>');
	});

	it('keeps the SMTPUTF8 transaction state: non-ASCII RCPTs only behind a MAIL FROM that asked for it', async () => {
		const server = await smtpServer();
		const session = await connect(server);
		const result = await session.transaction('', ['josé@b.test', 'ascii@b.test'], { smtputf8: true });
		if (!result.mailAccepted) throw new Error('MAIL FROM was refused');
		expect(codes(result.rcpt)).toEqual([250, 250]);
		// No RSET asked for: the SMTPUTF8 transaction is still open for more recipients.
		expect(codes(await session.rcptTo(['zoë@b.test']))).toEqual([250]);
		await session.rset();
		expect((await failure(session.rcptTo(['josé@b.test']))).message).toContain('did not ask for SMTPUTF8');

		// After a transaction that ended with RSET, nothing is open.
		await session.transaction('', ['josé@b.test'], { smtputf8: true, rset: true });
		expect((await failure(session.rcptTo(['josé@b.test']))).code).toBe('EUNSAFE');
		expect(server.sessions[0].commands.slice(1)).toEqual([
			'MAIL FROM:<> SMTPUTF8',
			'RCPT TO:<josé@b.test>',
			'RCPT TO:<ascii@b.test>',
			'RCPT TO:<zoë@b.test>',
			'RSET',
			'MAIL FROM:<> SMTPUTF8',
			'RCPT TO:<josé@b.test>',
			'RSET',
		]);
	});

	it('opens no SMTPUTF8 transaction when MAIL FROM ... SMTPUTF8 is refused', async () => {
		const server = await smtpServer(refusingSender('555 5.5.4 SMTPUTF8 not supported here'));
		const session = await connect(server);
		const result = await session.transaction('', ['josé@b.test'], { smtputf8: true });
		expect(result).toMatchObject({ mailAccepted: false, mail: { code: 555 }, rcptWithoutTransaction: [{ code: 503 }] });
		const error = await failure(session.rcptTo(['josé@b.test']));
		expect(error.code).toBe('EUNSAFE');
	});

	it('rejects on a closed session without writing', async () => {
		const server = await smtpServer();
		const session = await connect(server);
		session.close();
		const error = await failure(session.transaction('', ['a@x.test'], { rset: true }));
		expect(error).toMatchObject({ code: 'ECLOSED', phase: 'mail', partial: [] });
		expect(server.sessions[0].commands).toEqual([`EHLO ${HELO}`]);
	});
});
