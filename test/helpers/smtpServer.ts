// A scriptable SMTP server on loopback (real TCP sockets, real TLS) for the SMTP suites. It records
// every session's commands exactly as received, answers pipelined commands in order, can delay,
// drop or withhold replies, serves STARTTLS with a self-signed certificate made at test time, and
// counts the peak number of sessions open at once.
//
// It never accepts DATA: the client under test is a prober and must never send it.
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';

export type RcptAnswer = string | { reply: string; delayMs?: number } | 'drop' | 'silent';

export interface SmtpScript {
	/** Full reply, default "220 mx.test ESMTP ready"; "silent" never greets; "close" closes at once. */
	greeting?: string;
	/** EHLO keywords, default ['PIPELINING', 'SMTPUTF8', '8BITMIME']; include 'STARTTLS' to offer TLS. */
	extensions?: string[];
	/** E.g. "502 5.5.1 EHLO not supported" to force the HELO fallback. */
	ehloReply?: string;
	/** Default "250 2.1.0 Ok". */
	mailReply?: (from: string) => string;
	/** Default "250 2.1.5 Ok". 'drop' closes the connection instead; 'silent' never answers (nor anything after). */
	rcptReply?: (to: string, ctx: { session: number; rcptInTransaction: number; rcptInSession: number }) => RcptAnswer;
	/** Beyond it: "452 4.5.3 Too many recipients". */
	maxRecipientsPerTransaction?: number;
	/** Delay before every reply. */
	replyDelayMs?: number;
	/** Serve STARTTLS with a self-signed certificate; 'broken' = accept STARTTLS, then break the handshake. */
	tls?: boolean | 'broken';
	/** E.g. "454 4.7.0 TLS not available". Without it and without `tls`, STARTTLS gets a 454. */
	starttlsReply?: string;
	/** Close the connection once N commands of a session have been answered. */
	dropAfterCommands?: number;
	/** Write every reply one byte at a time (each byte its own write, a turn of the event loop apart). */
	writeOneByteAtATime?: boolean;
	onCommand?: (line: string, session: number) => void;
}

export interface TestSmtpSession {
	id: number;
	/** Command lines exactly as received, without CRLF. */
	commands: string[];
	/** For each command, the number of the TCP read (1, 2, ...) that completed its line. */
	readOf: number[];
	/** 'C: <line>' and 'S: <reply>' in the order the server received and sent them. */
	transcript: string[];
	/** The session runs over TLS (after STARTTLS). */
	tls: boolean;
	remoteAddress: string;
	/** Settles when the connection has closed. */
	ended: Promise<void>;
}

export interface TestSmtpServer {
	host: string;
	port: number;
	sessions: TestSmtpSession[];
	/** The most sessions open at the same time so far. */
	readonly maxConcurrentSessions: number;
	close(): Promise<void>;
}

const DEFAULT_GREETING = '220 mx.test ESMTP ready';
const DEFAULT_EXTENSIONS = ['PIPELINING', 'SMTPUTF8', '8BITMIME'];

// --- a self-signed certificate, built with node:crypto alone ----------------------------------
//
// Why not openssl or a package: the openssl binary is missing from slim Debian images, and the
// pure-JS generators pull in a dependency tree for what is 60 lines of DER. node:crypto makes the
// key pair and the signature; we only lay out the X.509 structure (RFC 5280 §4.1), and
// X509Certificate checks the result before use.

function derLength(length: number): Buffer {
	if (length < 0x80) return Buffer.from([length]);
	const bytes: number[] = [];
	for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
	return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Buffer[]): Buffer {
	const body = Buffer.concat(content);
	return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derOid(oid: string): Buffer {
	const [first, second, ...rest] = oid.split('.').map(Number);
	const bytes = [first * 40 + second];
	for (const arc of rest) {
		const chunk = [arc & 0x7f];
		for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift(0x80 | (value & 0x7f));
		bytes.push(...chunk);
	}
	return der(0x06, Buffer.from(bytes));
}

function derUtcTime(date: Date): Buffer {
	const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'; // YYMMDDHHMMSSZ
	return der(0x17, Buffer.from(text, 'ascii'));
}

const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_COMMON_NAME = '2.5.4.3';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';

export interface SelfSignedCertificate {
	key: string;
	cert: string;
}

let certificate: SelfSignedCertificate | undefined;

/** A P-256 key and a self-signed certificate for `mx.test`, valid from yesterday for a year; made once per process. */
export function selfSignedCertificate(): SelfSignedCertificate {
	if (certificate) return certificate;
	const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
	const name = der(0x30, der(0x31, der(0x30, derOid(OID_COMMON_NAME), der(0x0c, Buffer.from('mx.test')))));
	const serial = randomBytes(16);
	serial[0] = (serial[0] & 0x7f) | 0x40; // positive and without a leading zero byte
	const now = Date.now();
	const algorithm = der(0x30, derOid(OID_ECDSA_SHA256));
	const subjectAltName = der(
		0x30,
		derOid(OID_SUBJECT_ALT_NAME),
		der(0x04, der(0x30, der(0x82, Buffer.from('mx.test')))), // dNSName
	);
	const tbs = der(
		0x30,
		der(0xa0, der(0x02, Buffer.from([2]))), // version v3
		der(0x02, serial),
		algorithm,
		name, // issuer
		der(0x30, derUtcTime(new Date(now - 86_400_000)), derUtcTime(new Date(now + 365 * 86_400_000))),
		name, // subject
		publicKey.export({ type: 'spki', format: 'der' }),
		der(0xa3, der(0x30, subjectAltName)),
	);
	const signature = sign('sha256', tbs, privateKey);
	const body = der(0x30, tbs, algorithm, der(0x03, Buffer.from([0]), signature));
	const cert = `-----BEGIN CERTIFICATE-----\n${body.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
	if (!new X509Certificate(cert).verify(publicKey)) throw new Error('the self-signed test certificate does not verify');
	certificate = { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert };
	return certificate;
}

// --- the server -------------------------------------------------------------------------------

export async function startSmtpServer(script: SmtpScript = {}, options: { host?: string; port?: number } = {}): Promise<TestSmtpServer> {
	const host = options.host ?? '127.0.0.1';
	const sessions: TestSmtpSession[] = [];
	const sockets = new Set<Socket>();
	const timers = new Set<NodeJS.Timeout>();
	let open = 0;
	let peak = 0;
	let secureContext: SecureContext | undefined;
	if (script.tls === true) secureContext = createSecureContext(selfSignedCertificate());

	const wait = (ms: number) =>
		new Promise<void>((resolve) => {
			const timer = setTimeout(() => {
				timers.delete(timer);
				resolve();
			}, ms);
			timers.add(timer);
		});

	const server: Server = createServer((socket) => {
		sockets.add(socket);
		open++;
		peak = Math.max(peak, open);
		let markEnded = () => {};
		const log: TestSmtpSession = {
			id: sessions.length + 1,
			commands: [],
			readOf: [],
			transcript: [],
			tls: false,
			remoteAddress: socket.remoteAddress ?? '',
			ended: new Promise<void>((resolve) => (markEnded = resolve)),
		};
		sessions.push(log);
		socket.on('close', () => {
			sockets.delete(socket);
			open--;
			markEnded();
		});
		socket.on('error', () => socket.destroy());
		serveSession(socket, log);
	});

	function serveSession(socket: Socket, log: TestSmtpSession) {
		/** Where replies go: the TCP socket, then the TLS socket after STARTTLS. */
		let out: Socket = socket;
		let ended = false;
		let chain = Promise.resolve();
		let received: Buffer = Buffer.alloc(0);
		let reads = 0;
		let answered = 0;
		let rcptInTransaction = 0;
		let rcptInSession = 0;

		const end = () => {
			if (ended) return;
			ended = true;
			out.end();
		};

		const write = async (text: string) => {
			const data = Buffer.from(`${text}\r\n`, 'utf8');
			if (!script.writeOneByteAtATime) {
				out.write(data);
				return;
			}
			for (let i = 0; i < data.length && !ended; i++) {
				out.write(data.subarray(i, i + 1));
				await new Promise<void>((resolve) => setImmediate(resolve));
			}
		};

		const reply = async (text: string, delayMs = script.replyDelayMs ?? 0) => {
			if (delayMs > 0) await wait(delayMs);
			if (ended) return;
			log.transcript.push(`S: ${text}`);
			await write(text);
			// A 421 closes the channel (RFC 5321 §3.8).
			if (text.startsWith('421')) end();
		};

		const afterCommand = () => {
			answered++;
			if (script.dropAfterCommands !== undefined && answered >= script.dropAfterCommands) end();
		};

		const onData = (chunk: Buffer) => {
			if (ended) return;
			reads++;
			received = received.length > 0 ? Buffer.concat([received, chunk]) : chunk;
			for (;;) {
				const newline = received.indexOf(0x0a);
				if (newline < 0) return;
				const line = received.toString('utf8', 0, newline).replace(/\r$/, '');
				received = received.subarray(newline + 1);
				log.commands.push(line);
				log.readOf.push(reads);
				log.transcript.push(`C: ${line}`);
				script.onCommand?.(line, log.id);
				const upgrade = /^STARTTLS$/i.test(line) && !script.starttlsReply && script.tls !== undefined && script.tls !== false;
				// STARTTLS: whatever follows is the TLS handshake, not lines.
				if (upgrade) out.off('data', onData);
				chain = chain.then(() => handle(line));
				if (upgrade) return;
			}
		};

		const handle = async (line: string): Promise<void> => {
			if (ended) return;
			const verb = line.split(' ')[0].toUpperCase();
			const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
			if (verb === 'EHLO') {
				if (script.ehloReply) {
					await reply(script.ehloReply);
				} else {
					const keywords = (script.extensions ?? DEFAULT_EXTENSIONS).filter((keyword) => !(log.tls && keyword === 'STARTTLS'));
					const lines = [`mx.test greets ${line.slice(5)}`, ...keywords];
					await reply(lines.map((text, i) => `250${i === lines.length - 1 ? ' ' : '-'}${text}`).join('\r\n'));
				}
			} else if (verb === 'HELO') {
				await reply('250 mx.test');
			} else if (/^MAIL FROM:/i.test(line)) {
				rcptInTransaction = 0;
				await reply(script.mailReply?.(address) ?? '250 2.1.0 Ok');
			} else if (/^RCPT TO:/i.test(line)) {
				rcptInTransaction++;
				rcptInSession++;
				if (script.maxRecipientsPerTransaction !== undefined && rcptInTransaction > script.maxRecipientsPerTransaction) {
					await reply('452 4.5.3 Too many recipients');
				} else {
					const answer = script.rcptReply?.(address, { session: log.id, rcptInTransaction, rcptInSession }) ?? '250 2.1.5 Ok';
					if (answer === 'drop') {
						end();
						return;
					}
					if (answer === 'silent') return new Promise<void>(() => {}); // nothing more is ever answered
					if (typeof answer === 'string') await reply(answer);
					else await reply(answer.reply, answer.delayMs);
				}
			} else if (verb === 'RSET') {
				rcptInTransaction = 0;
				await reply('250 2.0.0 Ok');
			} else if (verb === 'NOOP') {
				await reply('250 2.0.0 Ok');
			} else if (verb === 'QUIT') {
				await reply('221 2.0.0 Bye');
				end();
				return;
			} else if (verb === 'STARTTLS') {
				if (script.starttlsReply) await reply(script.starttlsReply);
				else if (script.tls === undefined || script.tls === false) await reply('454 4.7.0 TLS not available');
				else {
					await reply('220 2.0.0 Ready to start TLS');
					if (script.tls === 'broken') breakHandshake();
					else startTls();
					return;
				}
			} else if (verb === 'DATA') {
				await reply('554 5.5.1 This test server never takes DATA');
			} else {
				await reply('502 5.5.2 Command not recognized');
			}
			afterCommand();
		};

		/** Waits for the client's first TLS bytes, answers them with plain text and hangs up. */
		const breakHandshake = () => {
			socket.once('data', () => {
				socket.end('this is not TLS\r\n');
				ended = true;
			});
		};

		const startTls = () => {
			const tlsSocket = new TLSSocket(socket, { isServer: true, secureContext });
			sockets.add(tlsSocket);
			tlsSocket.on('close', () => sockets.delete(tlsSocket));
			tlsSocket.on('error', () => socket.destroy());
			tlsSocket.once('secure', () => {
				log.tls = true;
				out = tlsSocket;
				received = Buffer.alloc(0);
				rcptInTransaction = 0;
				tlsSocket.on('data', onData);
				afterCommand();
			});
		};

		socket.on('data', onData);
		const greeting = script.greeting ?? DEFAULT_GREETING;
		if (greeting === 'close') {
			ended = true;
			socket.end();
		} else if (greeting !== 'silent') {
			chain = chain.then(() => reply(greeting));
		}
	}

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => resolve());
	});
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('the SMTP test server has no TCP address');

	return {
		host,
		port: address.port,
		sessions,
		get maxConcurrentSessions() {
			return peak;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const timer of timers) clearTimeout(timer);
				timers.clear();
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}
