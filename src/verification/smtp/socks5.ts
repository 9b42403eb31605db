// SOCKS5 egress (RFC 1928) with optional username/password authentication (RFC 1929): a probe can
// leave through a host whose port 25 is open and whose IP has a clean reputation.
//
// Errors are SmtpError with code EPROXY and say in words what went wrong. The password never
// appears in a message (nor does the username: a proxy account is nobody's business in a log).
import { connect as netConnect, isIP, type Socket } from 'node:net';

import { SmtpError, type Socks5Proxy } from './session';

const VERSION = 0x05;
const AUTH_VERSION = 0x01;
const METHOD_NONE = 0x00;
const METHOD_USERPASS = 0x02;
const METHOD_REFUSED = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** RFC 1928 §6, the REP field. */
const REPLY_TEXT: Record<number, string> = {
	0x01: 'general SOCKS server failure',
	0x02: 'connection not allowed by ruleset',
	0x03: 'network unreachable',
	0x04: 'host unreachable',
	0x05: 'connection refused',
	0x06: 'TTL expired',
	0x07: 'command not supported',
	0x08: 'address type not supported',
};

/** The words for a SOCKS5 reply code (RFC 1928 §6). */
export function socks5ReplyText(code: number): string {
	return REPLY_TEXT[code] ?? `unassigned reply code 0x${code.toString(16).padStart(2, '0')}`;
}

type Stage = 'connect' | 'method' | 'auth' | 'request';

const STAGE_TEXT: Record<Stage, string> = {
	connect: 'while connecting to it',
	method: 'while choosing an authentication method',
	auth: 'while authenticating',
	request: 'while asking it to connect to the target',
};

function fail(message: string, details: { cause?: unknown; proxyReplyCode?: number } = {}): SmtpError {
	return new SmtpError('EPROXY', 'connect', message, details);
}

function hostPort(host: string, port: number): string {
	return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function validPort(port: number): boolean {
	return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** The 16 bytes of an IPv6 address (already checked with isIP). */
function ipv6Bytes(address: string): Buffer {
	let text = address.split('%')[0];
	// An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
	const lastColon = text.lastIndexOf(':');
	const tail = text.slice(lastColon + 1);
	if (tail.includes('.')) {
		const [a, b, c, d] = tail.split('.').map(Number);
		text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	}
	const [head, rest] = text.split('::');
	const headGroups = head ? head.split(':') : [];
	const restGroups = rest === undefined ? [] : rest ? rest.split(':') : [];
	const missing = 8 - headGroups.length - restGroups.length;
	const groups = rest === undefined ? headGroups : [...headGroups, ...new Array<string>(missing).fill('0'), ...restGroups];
	const bytes = Buffer.alloc(16);
	groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
	return bytes;
}

/** DST.ADDR with its ATYP: IPv4, IPv6 or a domain name (ASCII, at most 255 octets). */
function encodeAddress(host: string): Buffer {
	switch (isIP(host)) {
		case 4:
			return Buffer.from([ATYP_IPV4, ...host.split('.').map(Number)]);
		case 6:
			return Buffer.concat([Buffer.from([ATYP_IPV6]), ipv6Bytes(host)]);
		default: {
			const name = Buffer.from(host, 'ascii');
			if (name.length === 0 || name.length > 255 || !/^[\x21-\x7e]+$/.test(host)) {
				throw fail(`the SOCKS5 target ${JSON.stringify(host.slice(0, 80))} is not an IP address or an ASCII host name of at most 255 octets`);
			}
			return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name]);
		}
	}
}

/** RFC 1929 sub-negotiation; each field 1 to 255 octets. */
function encodeCredentials(username: string, password: string): Buffer {
	const user = Buffer.from(username, 'utf8');
	const pass = Buffer.from(password, 'utf8');
	if (user.length < 1 || user.length > 255 || pass.length < 1 || pass.length > 255) {
		throw fail('the SOCKS5 username and password must each be 1 to 255 bytes long');
	}
	return Buffer.concat([Buffer.from([AUTH_VERSION, user.length]), user, Buffer.from([pass.length]), pass]);
}

/**
 * Opens a TCP connection to `target` through the SOCKS5 proxy (CONNECT). Offers username/password
 * authentication only when both are given. `timeoutMs` bounds the whole handshake, TCP connect to
 * the proxy included.
 *
 * The socket comes back paused, with any bytes the target already sent pushed back into it: attach
 * your 'data' and 'error' listeners right away, then resume() it.
 */
export function connectViaSocks5(proxy: Socks5Proxy, target: { host: string; port: number }, timeoutMs: number): Promise<Socket> {
	return negotiate(proxy, target, timeoutMs);
}

/**
 * Checks that the proxy is reachable, speaks SOCKS5 and accepts the credentials (if any), then
 * hangs up without asking it to connect anywhere. For a credential test.
 */
export async function checkSocks5Proxy(proxy: Socks5Proxy, timeoutMs: number): Promise<void> {
	const socket = await negotiate(proxy, undefined, timeoutMs);
	socket.destroy();
}

/** The handshake; without a target it stops once authenticated. */
function negotiate(proxy: Socks5Proxy, target: { host: string; port: number } | undefined, timeoutMs: number): Promise<Socket> {
	return new Promise<Socket>((resolve, reject) => {
		const where = `the SOCKS5 proxy at ${hostPort(proxy.host, proxy.port)}`;
		const destination = target ? hostPort(target.host, target.port) : '';
		let request: Buffer | undefined;
		let credentials: Buffer | undefined;
		try {
			if (!proxy.host || !validPort(proxy.port)) throw fail(`${where} is not a host and TCP port`);
			if (target && !validPort(target.port)) throw fail(`the SOCKS5 target port ${target.port} is not a TCP port`);
			if ((proxy.username === undefined) !== (proxy.password === undefined)) {
				throw fail('give both a SOCKS5 username and a password, or neither');
			}
			if (proxy.username !== undefined && proxy.password !== undefined) {
				credentials = encodeCredentials(proxy.username, proxy.password);
			}
			if (target) {
				const port = Buffer.alloc(2);
				port.writeUInt16BE(target.port);
				request = Buffer.concat([Buffer.from([VERSION, CMD_CONNECT, 0x00]), encodeAddress(target.host), port]);
			}
		} catch (error) {
			reject(error);
			return;
		}

		let stage: Stage = 'connect';
		let received: Buffer = Buffer.alloc(0);
		let settled = false;
		const socket = netConnect({ host: proxy.host, port: proxy.port });

		const cleanup = () => {
			settled = true;
			clearTimeout(timer);
			socket.off('connect', onConnect);
			socket.off('data', onData);
			socket.off('error', onError);
			socket.off('close', onClose);
		};
		const abort = (error: SmtpError) => {
			if (settled) return;
			cleanup();
			socket.destroy();
			reject(error);
		};
		const onConnect = () => {
			stage = 'method';
			const methods = credentials ? [METHOD_NONE, METHOD_USERPASS] : [METHOD_NONE];
			socket.write(Buffer.from([VERSION, methods.length, ...methods]));
		};
		const onError = (error: Error) => {
			abort(
				stage === 'connect'
					? fail(`could not reach ${where}: ${error.message}`, { cause: error })
					: fail(`the connection to ${where} failed ${STAGE_TEXT[stage]}: ${error.message}`, { cause: error }),
			);
		};
		const onClose = () => abort(fail(`${where} closed the connection ${STAGE_TEXT[stage]}`));
		/** Authenticated: ask for the target, or hand the socket back when there is none. */
		const authenticated = () => {
			if (request) {
				stage = 'request';
				socket.write(request);
				return;
			}
			cleanup();
			resolve(socket);
		};
		const onData = (chunk: Buffer) => {
			received = received.length > 0 ? Buffer.concat([received, chunk]) : chunk;
			// Each step consumes its reply and falls through to the next when more bytes are there.
			while (!settled) {
				if (stage === 'method') {
					if (received.length < 2) return;
					const [version, method] = received;
					received = received.subarray(2);
					if (version !== VERSION) {
						abort(fail(`${where} did not answer as a SOCKS5 proxy (version byte ${version})`));
					} else if (method === METHOD_NONE) {
						authenticated();
					} else if (method === METHOD_USERPASS && credentials) {
						stage = 'auth';
						socket.write(credentials);
					} else if (method === METHOD_REFUSED) {
						abort(
							fail(
								credentials
									? `${where} accepts none of the offered authentication methods (none, username/password)`
									: `${where} requires authentication: give a SOCKS5 username and password`,
							),
						);
					} else {
						abort(fail(`${where} chose an authentication method that was not offered (0x${method.toString(16)})`));
					}
				} else if (stage === 'auth') {
					if (received.length < 2) return;
					const status = received[1];
					received = received.subarray(2);
					if (status !== 0x00) {
						abort(fail(`${where} rejected the username or password`));
					} else {
						authenticated();
					}
				} else if (stage === 'request') {
					if (received.length < 5) return;
					const [version, reply, , addressType, domainLength] = received;
					const length =
						addressType === ATYP_IPV4 ? 10 : addressType === ATYP_IPV6 ? 22 : addressType === ATYP_DOMAIN ? 7 + domainLength : -1;
					if (version !== VERSION) {
						abort(fail(`${where} did not answer as a SOCKS5 proxy (version byte ${version})`));
						return;
					}
					if (reply !== 0x00) {
						abort(
							fail(`${where} could not connect to ${destination}: ${socks5ReplyText(reply)} (SOCKS5 reply ${reply})`, {
								proxyReplyCode: reply,
							}),
						);
						return;
					}
					if (length < 0) {
						abort(fail(`${where} sent an unknown address type (${addressType}) in its reply`));
						return;
					}
					if (received.length < length) return;
					// Connected. Bytes after the reply already come from the target (its SMTP greeting):
					// push them back for the session to read.
					const early = received.subarray(length);
					cleanup();
					socket.pause();
					if (early.length > 0) socket.unshift(early);
					resolve(socket);
					return;
				} else {
					abort(fail(`${where} sent data before the connection was set up`));
				}
			}
		};
		const timer = setTimeout(() => abort(fail(`${where} did not answer within ${timeoutMs} ms (${STAGE_TEXT[stage]})`)), timeoutMs);
		socket.once('connect', onConnect);
		socket.on('data', onData);
		socket.on('error', onError);
		socket.on('close', onClose);
	});
}
