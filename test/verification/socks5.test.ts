// SOCKS5 egress against a real SOCKS5 proxy on loopback that relays to the scripted SMTP server.
import { randomBytes } from 'node:crypto';

import { SmtpError, SmtpSession } from '../../src/verification/smtp/session';
import { checkSocks5Proxy, connectViaSocks5, socks5ReplyText } from '../../src/verification/smtp/socks5';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer';
import { startSocks5Server, type Socks5ServerOptions, type TestSocks5Server } from '../helpers/socks5Server';

const USERNAME = 'prober';
/** Made per run, so that finding it in a message can only mean it leaked from the credentials. */
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const HELO = 'probe.example';
const SLACK_MS = 10_000;

const closers: Array<() => Promise<void>> = [];
/** Every error these tests saw: none may show the password. */
const errorsSeen: SmtpError[] = [];

afterEach(async () => {
	await Promise.all(closers.splice(0).map((close) => close()));
});

afterAll(() => {
	expect(errorsSeen.length).toBeGreaterThan(10);
	for (const error of errorsSeen) {
		expect(`${error.message}\n${error.stack ?? ''}\n${JSON.stringify(error)}`).not.toContain(PASSWORD);
	}
});

async function proxyServer(options?: Socks5ServerOptions): Promise<TestSocks5Server> {
	const server = await startSocks5Server(options);
	closers.push(() => server.close());
	return server;
}

async function smtpServer(script?: Parameters<typeof startSmtpServer>[0]): Promise<TestSmtpServer> {
	const server = await startSmtpServer(script);
	closers.push(() => server.close());
	return server;
}

async function failure(promise: Promise<unknown>): Promise<SmtpError> {
	try {
		const value = await promise;
		if (value instanceof SmtpSession) value.close();
		else if (value && typeof value === 'object' && 'destroy' in value && typeof value.destroy === 'function') value.destroy();
	} catch (error) {
		expect(error).toBeInstanceOf(SmtpError);
		errorsSeen.push(error as SmtpError);
		return error as SmtpError;
	}
	throw new Error('expected an SmtpError, but the promise resolved');
}

const credentials = { username: USERNAME, password: PASSWORD };

describe('an SMTP session through SOCKS5', () => {
	it('without authentication: offers only "no authentication" and reaches the SMTP server', async () => {
		const smtp = await smtpServer();
		const proxy = await proxyServer();
		const session = await SmtpSession.connect({
			host: smtp.host,
			port: smtp.port,
			heloName: HELO,
			proxy: { host: proxy.host, port: proxy.port },
		});
		expect(session.greeting.code).toBe(220);
		await session.mailFrom('');
		expect((await session.rcptTo(['a@b.test', 'b@b.test'])).map((reply) => reply.code)).toEqual([250, 250]);
		await session.quit();
		expect(proxy.methodsOffered).toEqual([[0x00]]);
		expect(proxy.connects).toEqual([{ host: '127.0.0.1', port: smtp.port, addressType: 'ipv4' }]);
		expect(smtp.sessions[0].commands).toEqual([`EHLO ${HELO}`, 'MAIL FROM:<>', 'RCPT TO:<a@b.test>', 'RCPT TO:<b@b.test>', 'QUIT']);
	});

	it('with username and password: offers both methods, authenticates and runs STARTTLS through the tunnel', async () => {
		const smtp = await smtpServer({ tls: true, extensions: ['PIPELINING', 'STARTTLS'] });
		const proxy = await proxyServer({ auth: credentials });
		const session = await SmtpSession.connect({
			host: smtp.host,
			port: smtp.port,
			heloName: HELO,
			proxy: { host: proxy.host, port: proxy.port, ...credentials },
		});
		expect(session.capabilities).toMatchObject({ tls: true, tlsAuthorized: false });
		await session.mailFrom('');
		expect((await session.rcptTo(['a@b.test']))[0].code).toBe(250);
		await session.quit();
		expect(proxy.methodsOffered).toEqual([[0x00, 0x02]]);
		expect(proxy.authAttempts).toEqual([credentials]);
		expect(smtp.sessions[0].tls).toBe(true);
	});

	it('rejects a wrong password without repeating it', async () => {
		const smtp = await smtpServer();
		const proxy = await proxyServer({ auth: { username: USERNAME, password: `other-${randomBytes(6).toString('hex')}` } });
		const error = await failure(
			SmtpSession.connect({ host: smtp.host, port: smtp.port, heloName: HELO, proxy: { host: proxy.host, port: proxy.port, ...credentials } }),
		);
		expect(error).toMatchObject({ code: 'EPROXY', phase: 'connect' });
		expect(error.message).toBe(`the SOCKS5 proxy at ${proxy.host}:${proxy.port} rejected the username or password`);
		expect(smtp.sessions).toHaveLength(0);
	});

	it('says so when the proxy wants credentials and none were given', async () => {
		const proxy = await proxyServer({ auth: credentials });
		const error = await failure(connectViaSocks5({ host: proxy.host, port: proxy.port }, { host: '127.0.0.1', port: 25 }, 5_000));
		expect(error.code).toBe('EPROXY');
		expect(error.message).toContain('requires authentication');
	});
});

describe('connectViaSocks5', () => {
	it.each([
		[0x01, 'general SOCKS server failure'],
		[0x02, 'connection not allowed by ruleset'],
		[0x03, 'network unreachable'],
		[0x04, 'host unreachable'],
		[0x05, 'connection refused'],
		[0x06, 'TTL expired'],
		[0x07, 'command not supported'],
		[0x08, 'address type not supported'],
		[0x2a, 'unassigned reply code 0x2a'],
	])('names reply code %i in words', async (code, words) => {
		const proxy = await proxyServer({ deny: code, auth: credentials });
		const error = await failure(connectViaSocks5({ host: proxy.host, port: proxy.port, ...credentials }, { host: '192.0.2.25', port: 25 }, 5_000));
		expect(error).toMatchObject({ code: 'EPROXY', phase: 'connect', proxyReplyCode: code });
		expect(error.message).toBe(
			`the SOCKS5 proxy at ${proxy.host}:${proxy.port} could not connect to 192.0.2.25:25: ${words} (SOCKS5 reply ${code})`,
		);
		expect(socks5ReplyText(code)).toBe(words);
	});

	it('reports a proxy that is down', async () => {
		const proxy = await startSocks5Server();
		const { host, port } = proxy;
		await proxy.close();
		const error = await failure(connectViaSocks5({ host, port, ...credentials }, { host: '127.0.0.1', port: 25 }, 5_000));
		expect(error.code).toBe('EPROXY');
		expect(error.message).toMatch(new RegExp(`^could not reach the SOCKS5 proxy at ${host}:${port}: .*ECONNREFUSED`));
	});

	it.each(['method', 'request'] as const)('times out on a proxy that stalls at the %s step', async (stall) => {
		const proxy = await proxyServer({ stall, auth: credentials });
		const started = Date.now();
		const error = await failure(connectViaSocks5({ host: proxy.host, port: proxy.port, ...credentials }, { host: '127.0.0.1', port: 25 }, 300));
		const elapsed = Date.now() - started;
		expect(error.code).toBe('EPROXY');
		expect(error.message).toContain('did not answer within 300 ms');
		expect(elapsed).toBeGreaterThanOrEqual(250);
		expect(elapsed).toBeLessThan(300 + SLACK_MS);
	});

	it('times out an SMTP session whose proxy stalls, as EPROXY', async () => {
		const proxy = await proxyServer({ stall: 'request' });
		const error = await failure(
			SmtpSession.connect({ host: '127.0.0.1', port: 25, heloName: HELO, connectTimeoutMs: 300, proxy: { host: proxy.host, port: proxy.port } }),
		);
		expect(error).toMatchObject({ code: 'EPROXY', phase: 'connect' });
	});

	it('encodes IPv4, IPv6 and domain targets', async () => {
		const proxy = await proxyServer({ deny: 0x02 });
		const targets = ['192.0.2.1', '2001:db8::25', '::ffff:192.0.2.1', '::', 'mx.example.test'];
		for (const host of targets) await failure(connectViaSocks5({ host: proxy.host, port: proxy.port }, { host, port: 2525 }, 5_000));
		expect(proxy.connects).toEqual([
			{ host: '192.0.2.1', port: 2525, addressType: 'ipv4' },
			{ host: '2001:db8:0:0:0:0:0:25', port: 2525, addressType: 'ipv6' },
			{ host: '0:0:0:0:0:ffff:c000:201', port: 2525, addressType: 'ipv6' },
			{ host: '0:0:0:0:0:0:0:0', port: 2525, addressType: 'ipv6' },
			{ host: 'mx.example.test', port: 2525, addressType: 'domain' },
		]);
	});

	it('hands back the bytes the target sent with the CONNECT reply', async () => {
		const proxy = await proxyServer({ fakeTarget: '220 fake.test ESMTP\r\n' });
		const socket = await connectViaSocks5({ host: proxy.host, port: proxy.port }, { host: '127.0.0.1', port: 25 }, 5_000);
		const data = await new Promise<Buffer>((resolve) => {
			socket.once('data', resolve);
			socket.resume();
		});
		socket.destroy();
		expect(data.toString()).toBe('220 fake.test ESMTP\r\n');
	});

	it('refuses incomplete credentials and bad targets before connecting', async () => {
		const proxy = await proxyServer();
		const where = { host: proxy.host, port: proxy.port };
		const target = { host: '127.0.0.1', port: 25 };
		expect((await failure(connectViaSocks5({ ...where, password: PASSWORD }, target, 5_000))).message).toContain('both');
		expect((await failure(connectViaSocks5({ ...where, username: USERNAME, password: 'x'.repeat(256) }, target, 5_000))).message).toContain(
			'1 to 255 bytes',
		);
		expect((await failure(connectViaSocks5(where, { host: '127.0.0.1', port: 0 }, 5_000))).message).toContain('not a TCP port');
		expect((await failure(connectViaSocks5(where, { host: 'a'.repeat(256), port: 25 }, 5_000))).message).toContain('255 octets');
		expect((await failure(connectViaSocks5({ host: proxy.host, port: Number.NaN }, target, 5_000))).message).toContain('not a host and TCP port');
		expect(proxy.methodsOffered).toHaveLength(0);
	});
});

describe('checkSocks5Proxy', () => {
	it('passes when the proxy accepts the credentials, without asking it to connect anywhere', async () => {
		const proxy = await proxyServer({ auth: credentials });
		await expect(checkSocks5Proxy({ host: proxy.host, port: proxy.port, ...credentials }, 5_000)).resolves.toBeUndefined();
		expect(proxy.authAttempts).toEqual([credentials]);
		expect(proxy.connects).toHaveLength(0);
	});

	it('fails on wrong credentials', async () => {
		const proxy = await proxyServer({ auth: { username: USERNAME, password: `other-${randomBytes(6).toString('hex')}` } });
		const error = await failure(checkSocks5Proxy({ host: proxy.host, port: proxy.port, ...credentials }, 5_000));
		expect(error.message).toContain('rejected the username or password');
	});
});
