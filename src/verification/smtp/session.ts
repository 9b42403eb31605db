// One SMTP session for PROBING mailboxes (DESIGN.md §3 "SMTP"): greeting, EHLO (HELO fallback),
// opportunistic STARTTLS, MAIL FROM, RCPT TO (pipelined when offered), RSET, QUIT, and whole
// transactions (MAIL FROM, RCPT TO..., RSET) sent as one pipelined group when the server offers
// PIPELINING (RFC 2920). It never sends DATA: nothing here can deliver a message.
//
// Shape (STYLE.md §4): every command pushes a handler on one queue and each complete reply settles
// the handler at its head; replies are framed from a byte remainder kept across chunks; separate
// connect, greeting and per-reply timers; one idempotent close that clears every timer, destroys
// the sockets and rejects whatever still waits; errors carry a code, the phase and the reply.
//
// Every command goes through one gate (`#check`) before a byte is written: CR, LF and NUL are
// refused anywhere, and non-ASCII text only passes when the server offers SMTPUTF8 and the caller
// asked for it. An address with a space, `<`, `>` or a control character is refused too: it could
// end the path early and smuggle parameters into the command.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

// socks5.ts imports SmtpError from this module; both only use each other's exports inside
// functions, so the import cycle is harmless at load time.
import { connectViaSocks5 } from './socks5';

export interface SmtpReply {
	code: number;
	/** RFC 3463 enhanced status code ("5.1.1") when the first line's text starts with one of the code's class. */
	enhanced?: string;
	/** The lines' texts without the code and the enhanced code, joined by "\n". */
	text: string;
	/** The raw lines, as received (without CRLF). */
	lines: string[];
}

export type SmtpErrorCode = 'ECONNECTION' | 'ETIMEDOUT' | 'EPROTOCOL' | 'ECLOSED' | 'ETLS' | 'EPROXY' | 'EUNSAFE';
export type SmtpPhase = 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'mail' | 'rcpt' | 'rset' | 'quit';

export interface SmtpErrorDetails {
	reply?: SmtpReply;
	partial?: SmtpReply[];
	mailReply?: SmtpReply;
	/** The command that was waiting for a reply (never a refused, unsafe one). */
	command?: string;
	/** The SOCKS5 reply code (RFC 1928 §6) when the proxy refused the CONNECT. */
	proxyReplyCode?: number;
	cause?: unknown;
}

export class SmtpError extends Error {
	override name = 'SmtpError';
	readonly code: SmtpErrorCode;
	readonly phase: SmtpPhase;
	/** The server's reply behind the failure, when there was one (a 554 greeting, a refused EHLO). */
	readonly reply?: SmtpReply;
	/**
	 * `rcptTo()` and `transaction()`: the RCPT replies received before the failure, in order (the
	 * i-th reply answers the i-th address). For `transaction()` only when MAIL FROM was accepted:
	 * replies to RCPTs pipelined behind a refused or unanswered MAIL FROM say nothing about the
	 * recipients, so `partial` is then empty.
	 */
	partial?: SmtpReply[];
	/** `transaction()`: the reply to MAIL FROM, when it arrived before the failure. */
	mailReply?: SmtpReply;
	readonly command?: string;
	readonly proxyReplyCode?: number;

	constructor(code: SmtpErrorCode, phase: SmtpPhase, message: string, details: SmtpErrorDetails = {}) {
		super(message, details.cause === undefined ? undefined : { cause: details.cause });
		this.code = code;
		this.phase = phase;
		if (details.reply) this.reply = details.reply;
		if (details.partial) this.partial = details.partial;
		if (details.mailReply) this.mailReply = details.mailReply;
		if (details.command !== undefined) this.command = details.command;
		if (details.proxyReplyCode !== undefined) this.proxyReplyCode = details.proxyReplyCode;
	}
}

export interface Socks5Proxy {
	host: string;
	port: number;
	username?: string;
	password?: string;
}

export interface SmtpSessionOptions {
	/** IP address to connect to (the caller has resolved and vetted it); a host name is refused. */
	host: string;
	/** Default 25. */
	port?: number;
	/** The MX host name, for TLS SNI. */
	servername?: string;
	/** EHLO/HELO argument. */
	heloName: string;
	/** TCP connect, and the proxy handshake. Default 10 s. */
	connectTimeoutMs?: number;
	/** Default 30 s. */
	greetingTimeoutMs?: number;
	/** Wait for each reply (and the TLS handshake). Default 30 s. */
	commandTimeoutMs?: number;
	/**
	 * Default true: STARTTLS when the server offers it. Certificates are not verified (a probe sends
	 * no message); `capabilities.tlsAuthorized` records whether the certificate would have passed.
	 */
	startTls?: boolean;
	/** Egress via SOCKS5. */
	proxy?: Socks5Proxy;
	/** Every line sent ('C') and received ('S'), for debugging and tests. Must not throw. */
	onTranscript?: (direction: 'C' | 'S', line: string) => void;
}

export interface SmtpCapabilities {
	/** The server answered EHLO (false after a HELO fallback). */
	esmtp: boolean;
	pipelining: boolean;
	smtputf8: boolean;
	/** STARTTLS offered in the last EHLO reply. */
	startTls: boolean;
	/** SIZE limit in octets, when announced with a number. */
	size?: number;
	/** The session runs over TLS. */
	tls: boolean;
	/** With `tls`: the certificate chain verified against the system's CAs and the server name. */
	tlsAuthorized?: boolean;
}

export interface SmtpTransactionOptions {
	/** Ask for SMTPUTF8 in MAIL FROM; used only when the server offers it. Non-ASCII paths need it. */
	smtputf8?: boolean;
	/** End the transaction with RSET (in the same pipelined group). Default false. */
	rset?: boolean;
}

interface SmtpTransactionReplies {
	/** The reply to MAIL FROM. */
	mail: SmtpReply;
	/**
	 * With `rset`: the reply to RSET, or the 421 that closed the session before it was answered.
	 * Absent when not asked for, and without PIPELINING when MAIL FROM was refused (nothing to reset,
	 * nothing sent).
	 */
	rset?: SmtpReply;
	/** MAIL FROM, the RCPTs and RSET went out in one write (the server offers PIPELINING). */
	pipelined: boolean;
}

/** MAIL FROM was accepted: `rcpt` holds the server's answer for each recipient, in order. */
export interface SmtpTransactionAccepted extends SmtpTransactionReplies {
	mailAccepted: true;
	/** One reply per recipient, in order. A 421 answers every RCPT left when the server closed. */
	rcpt: SmtpReply[];
}

/** MAIL FROM was refused: there is no verdict for any recipient. */
export interface SmtpTransactionRefused extends SmtpTransactionReplies {
	mailAccepted: false;
	rcpt?: never;
	/**
	 * With PIPELINING, the replies to the RCPTs sent behind the refused MAIL FROM, one per recipient
	 * (typically `503 5.5.1 need MAIL command`, or the 421 that closed the session). They answer
	 * commands outside any transaction and are NOT verdicts about the recipients. Empty without
	 * PIPELINING: no RCPT was sent.
	 */
	rcptWithoutTransaction: SmtpReply[];
}

export type SmtpTransaction = SmtpTransactionAccepted | SmtpTransactionRefused;

export const DEFAULT_SMTP_PORT = 25;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_GREETING_TIMEOUT_MS = 30_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
/** How long quit() waits for the 221. */
const QUIT_TIMEOUT_MS = 2_000;
/** RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; real servers sometimes exceed it. */
const MAX_LINE_BYTES = 8_192;
/** A multi-line reply longer than this is not a server talking SMTP. */
const MAX_REPLY_LINES = 256;

const REPLY_LINE = /^([2-5]\d\d)(?:([ -])([\s\S]*))?$/;
const ENHANCED_CODE = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/;
const EMPTY = Buffer.alloc(0);

/** One command line to write, with what the gate needs to check it. */
interface Outgoing {
	phase: SmtpPhase;
	command: string;
	/** Non-ASCII text may pass (SMTPUTF8 offered and asked for). */
	utf8: boolean;
}

interface Pending {
	phase: SmtpPhase;
	/** Undefined for the greeting. */
	command?: string;
	timeoutMs: number;
	/** STARTTLS: a 220 reply stops the reading of plain text at once. */
	startTls?: boolean;
	onReply(reply: SmtpReply): void;
	onError(error: SmtpError): void;
}

interface ResolvedOptions {
	host: string;
	port: number;
	servername?: string;
	heloName: string;
	connectTimeoutMs: number;
	greetingTimeoutMs: number;
	commandTimeoutMs: number;
	startTls: boolean;
	proxy?: Socks5Proxy;
	onTranscript?: (direction: 'C' | 'S', line: string) => void;
}

/** Builds a reply from its raw lines (all with the same code, the last without a dash). */
export function parseReply(lines: string[]): SmtpReply {
	const code = Number(lines[0].slice(0, 3));
	const texts = lines.map((line) => line.slice(4));
	const match = ENHANCED_CODE.exec(texts[0]);
	const enhanced = match && match[1] === String(code)[0] ? match[0] : undefined;
	const stripped = enhanced
		? texts.map((text) => (text === enhanced ? '' : text.startsWith(`${enhanced} `) ? text.slice(enhanced.length + 1) : text))
		: texts;
	const reply: SmtpReply = { code, text: stripped.join('\n'), lines: [...lines] };
	if (enhanced) reply.enhanced = enhanced;
	return reply;
}

function isPositive(reply: SmtpReply): boolean {
	return reply.code >= 200 && reply.code < 300;
}

/** A reply in one line for messages: `554 5.7.1 go away`. */
function summary(reply: SmtpReply): string {
	const text = reply.text.replace(/\n/g, ' ');
	const line = `${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ''}${text ? ` ${text}` : ''}`;
	return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Untrusted text for a message: escaped (no raw CR/LF) and cut short. */
function quote(text: string): string {
	return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function hasNonAscii(text: string): boolean {
	for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7e) return true;
	return false;
}

function parseCapabilities(reply: SmtpReply, tls: boolean, tlsAuthorized: boolean | undefined): SmtpCapabilities {
	const capabilities: SmtpCapabilities = { esmtp: true, pipelining: false, smtputf8: false, startTls: false, tls };
	if (tls) capabilities.tlsAuthorized = tlsAuthorized === true;
	// The first line greets; each following line is a keyword with optional parameters.
	for (const line of reply.lines.slice(1)) {
		const [keyword = '', ...params] = line.slice(4).trim().split(/\s+/);
		switch (keyword.toUpperCase()) {
			case 'PIPELINING':
				capabilities.pipelining = true;
				break;
			case 'SMTPUTF8':
				capabilities.smtputf8 = true;
				break;
			case 'STARTTLS':
				capabilities.startTls = true;
				break;
			case 'SIZE': {
				const size = Number(params[0]);
				if (params[0] !== undefined && Number.isSafeInteger(size) && size >= 0) capabilities.size = size;
				break;
			}
		}
	}
	return capabilities;
}

function resolveOptions(options: SmtpSessionOptions): ResolvedOptions {
	const port = options.port ?? DEFAULT_SMTP_PORT;
	if (isIP(options.host) === 0) {
		throw new SmtpError(
			'EUNSAFE',
			'connect',
			`host ${quote(options.host)} is not an IP address: resolve and vet the MX host before connecting`,
		);
	}
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		throw new SmtpError('EUNSAFE', 'connect', `port ${port} is not a TCP port`);
	}
	if (options.heloName.length === 0) throw new SmtpError('EUNSAFE', 'ehlo', 'the EHLO name is empty');
	const resolved: ResolvedOptions = {
		host: options.host,
		port,
		heloName: options.heloName,
		connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
		greetingTimeoutMs: options.greetingTimeoutMs ?? DEFAULT_GREETING_TIMEOUT_MS,
		commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
		startTls: options.startTls ?? true,
	};
	// RFC 6066 §3: SNI carries a host name, never an IP address.
	if (options.servername && isIP(options.servername) === 0) resolved.servername = options.servername;
	if (options.proxy) resolved.proxy = options.proxy;
	if (options.onTranscript) resolved.onTranscript = options.onTranscript;
	return resolved;
}

export class SmtpSession {
	readonly #options: ResolvedOptions;
	/** The socket replies are read from: the TCP socket, then the TLS socket after STARTTLS. */
	#socket?: Socket;
	#rawSocket?: Socket;
	#queue: Pending[] = [];
	#timer?: NodeJS.Timeout;
	#remainder: Buffer = EMPTY;
	/** Lines of the multi-line reply being read. */
	#lines: string[] = [];
	#closed = false;
	/** Why the session closed: later commands say so. */
	#closeError?: SmtpError;
	/** A 220 to STARTTLS arrived: no more plain text is read. */
	#upgrading = false;
	/** The TLS handshake in progress: failures reject it with ETLS. */
	#handshake?: { reject(error: SmtpError): void };
	/** The phase of the last command sent: names a failure that comes while nothing waits. */
	#lastPhase: SmtpPhase = 'connect';
	/** The current transaction's MAIL FROM carried SMTPUTF8 and was accepted. */
	#transactionUtf8 = false;
	#greeting?: SmtpReply;
	#capabilities: SmtpCapabilities = { esmtp: false, pipelining: false, smtputf8: false, startTls: false, tls: false };

	private constructor(options: ResolvedOptions) {
		this.#options = options;
	}

	/**
	 * Connects (directly or through the SOCKS5 proxy), reads the greeting, says EHLO (HELO when EHLO
	 * is refused with 5xx) and starts TLS when offered and enabled. A refused STARTTLS continues in
	 * plain text; a failed handshake rejects with ETLS (retry with `startTls: false`). A non-2xx
	 * greeting or a refused EHLO/HELO rejects with EPROTOCOL and the server's `reply`.
	 */
	static async connect(options: SmtpSessionOptions): Promise<SmtpSession> {
		const resolved = resolveOptions(options);
		const session = new SmtpSession(resolved);
		// Refuse a bad EHLO name before opening a connection.
		session.#check('ehlo', `EHLO ${resolved.heloName}`, false);
		try {
			await session.#open();
		} catch (error) {
			session.close();
			throw error;
		}
		return session;
	}

	get greeting(): SmtpReply {
		if (!this.#greeting) throw new Error('SmtpSession.greeting read before the session connected');
		return this.#greeting;
	}

	get capabilities(): SmtpCapabilities {
		return { ...this.#capabilities };
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** `MAIL FROM:<address>`, with ` SMTPUTF8` when asked for and offered; '' is the null reverse path `<>`. */
	async mailFrom(address: string, options: { smtputf8?: boolean } = {}): Promise<SmtpReply> {
		const utf8 = options.smtputf8 === true && this.#capabilities.smtputf8;
		this.#checkPath('mail', address, utf8);
		const reply = await this.#command('mail', `MAIL FROM:<${address}>${utf8 ? ' SMTPUTF8' : ''}`, utf8);
		this.#transactionUtf8 = utf8 && isPositive(reply);
		return reply;
	}

	/**
	 * One reply per address, in order. With PIPELINING all commands go out in one write; otherwise
	 * one at a time. A 421 answers every command still waiting (the server is closing the session):
	 * the remaining addresses get that 421 and the session is closed. A drop or a timeout rejects
	 * with SmtpError whose `partial` holds the replies received so far.
	 */
	async rcptTo(addresses: readonly string[]): Promise<SmtpReply[]> {
		const utf8 = this.#transactionUtf8;
		// Every address is checked before anything is written: one bad address sends nothing.
		for (const address of addresses) this.#checkPath('rcpt', address, utf8);
		const commands = addresses.map((address) => `RCPT TO:<${address}>`);
		if (commands.length === 0) return [];
		if (this.#capabilities.pipelining) return this.#batch('rcpt', commands, utf8);

		const replies: SmtpReply[] = [];
		for (const command of commands) {
			let reply: SmtpReply;
			try {
				reply = await this.#command('rcpt', command, utf8);
			} catch (error) {
				if (error instanceof SmtpError) error.partial = [...replies];
				throw error;
			}
			replies.push(reply);
			if (reply.code === 421 && this.#closed) {
				while (replies.length < commands.length) replies.push(reply);
				break;
			}
		}
		return replies;
	}

	/**
	 * One whole transaction: `MAIL FROM:<from>`, `RCPT TO:<…>` for every recipient and, with `rset`,
	 * `RSET`. When the server offers PIPELINING they go out in ONE write (RFC 2920: one round trip)
	 * and the replies are mapped back in order; otherwise they go one at a time, as `mailFrom()`,
	 * `rcptTo()` and `rset()` would send them, and nothing follows a refused MAIL FROM.
	 *
	 * Every path is checked before anything is written: one unsafe path (CR, LF, NUL, a space, `<`,
	 * `>`, a control character, or non-ASCII text without SMTPUTF8 offered and asked for) rejects with
	 * EUNSAFE and sends nothing. Non-ASCII recipients go out only behind a MAIL FROM that asks for
	 * SMTPUTF8 (with PIPELINING they are written before its reply is known; if MAIL FROM is refused
	 * they fall outside any transaction).
	 *
	 * Check `mailAccepted` before reading verdicts: when MAIL FROM is refused, the result carries no
	 * `rcpt`, only `rcptWithoutTransaction` (the replies to RCPTs sent outside a transaction).
	 * A 421 answers every command still waiting and closes the session: the 421 fills the remaining
	 * RCPT replies (and `rset`). A drop or a timeout rejects with SmtpError: `mailReply` holds the
	 * reply to MAIL FROM when it came, `partial` the RCPT replies received so far when MAIL FROM was
	 * accepted (empty otherwise).
	 */
	async transaction(from: string, recipients: readonly string[], options: SmtpTransactionOptions = {}): Promise<SmtpTransaction> {
		const utf8 = options.smtputf8 === true && this.#capabilities.smtputf8;
		const rset = options.rset === true;
		// Every path is checked before anything is written: one bad path sends nothing.
		this.#checkPath('mail', from, utf8);
		for (const address of recipients) this.#checkPath('rcpt', address, utf8);
		if (!this.#capabilities.pipelining) return this.#sequentialTransaction(from, recipients, utf8, rset);

		const commands: Outgoing[] = [
			{ phase: 'mail', command: `MAIL FROM:<${from}>${utf8 ? ' SMTPUTF8' : ''}`, utf8 },
			...recipients.map((address): Outgoing => ({ phase: 'rcpt', command: `RCPT TO:<${address}>`, utf8 })),
			...(rset ? [{ phase: 'rset', command: 'RSET', utf8: false } satisfies Outgoing] : []),
		];
		const replies = await new Promise<SmtpReply[]>((resolve, reject) => {
			const received: SmtpReply[] = [];
			let failed = false;
			this.#write(
				commands,
				undefined,
				false,
				(reply) => {
					if (failed) return;
					received.push(reply);
					// The transaction's state follows MAIL FROM's reply, as with mailFrom().
					if (received.length === 1) this.#transactionUtf8 = utf8 && isPositive(reply);
					if (received.length === commands.length) resolve(received);
				},
				(error) => {
					if (failed) return;
					failed = true;
					const mail = received[0];
					if (mail) error.mailReply = mail;
					error.partial = mail && isPositive(mail) ? received.slice(1, 1 + recipients.length) : [];
					reject(error);
				},
			);
		});
		if (rset) this.#transactionUtf8 = false;
		const [mail, ...rest] = replies;
		const rcpt = rest.slice(0, recipients.length);
		const rsetReply = rset ? rest[recipients.length] : undefined;
		const result: SmtpTransaction = isPositive(mail)
			? { mailAccepted: true, mail, rcpt, pipelined: true }
			: { mailAccepted: false, mail, rcptWithoutTransaction: rcpt, pipelined: true };
		if (rsetReply) result.rset = rsetReply;
		return result;
	}

	async rset(): Promise<SmtpReply> {
		const reply = await this.#command('rset', 'RSET', false);
		this.#transactionUtf8 = false;
		return reply;
	}

	/** Sends QUIT, waits briefly for the 221, then closes. Never throws. */
	async quit(): Promise<void> {
		if (this.#closed) return;
		const limitMs = Math.min(QUIT_TIMEOUT_MS, this.#options.commandTimeoutMs);
		// A server that does not say goodbye (or still owes replies to earlier commands) is closed
		// all the same, after at most `limitMs`.
		const bye = this.#command('quit', 'QUIT', false, limitMs).then(
			() => undefined,
			() => undefined,
		);
		let timer: NodeJS.Timeout | undefined;
		const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
		try {
			await Promise.race([bye, limit]);
		} finally {
			clearTimeout(timer);
			this.close();
		}
	}

	/** Idempotent: destroys the sockets, clears every timer, rejects waiting commands with ECLOSED. */
	close(): void {
		this.#fail('ECLOSED', 'the session was closed');
	}

	/** transaction() without PIPELINING: MAIL FROM, then the RCPTs one at a time, then RSET. */
	async #sequentialTransaction(from: string, recipients: readonly string[], utf8: boolean, rset: boolean): Promise<SmtpTransaction> {
		let mail: SmtpReply;
		try {
			mail = await this.mailFrom(from, { smtputf8: utf8 });
		} catch (error) {
			if (error instanceof SmtpError) error.partial = [];
			throw error;
		}
		if (!isPositive(mail)) return { mailAccepted: false, mail, rcptWithoutTransaction: [], pipelined: false };
		let rcpt: SmtpReply[];
		try {
			rcpt = await this.rcptTo(recipients);
		} catch (error) {
			if (error instanceof SmtpError) error.mailReply = mail;
			throw error;
		}
		const result: SmtpTransactionAccepted = { mailAccepted: true, mail, rcpt, pipelined: false };
		if (!rset) return result;
		const closing = rcpt.at(-1);
		if (closing?.code === 421 && this.#closed) {
			// The server closed with a 421 that answered the rest: it answers RSET too.
			result.rset = closing;
			this.#transactionUtf8 = false;
			return result;
		}
		try {
			result.rset = await this.rset();
		} catch (error) {
			if (error instanceof SmtpError) {
				error.mailReply = mail;
				error.partial = [...rcpt];
			}
			throw error;
		}
		return result;
	}

	// --- connection -----------------------------------------------------------------------------

	async #open(): Promise<void> {
		const options = this.#options;
		const socket = options.proxy
			? await connectViaSocks5(options.proxy, { host: options.host, port: options.port }, options.connectTimeoutMs)
			: await this.#connectDirect();
		this.#rawSocket = socket;
		this.#socket = socket;
		const greetingReply = this.#expectGreeting();
		this.#attach(socket);
		const greeting = await greetingReply;
		this.#greeting = greeting;
		if (!isPositive(greeting)) {
			await this.quit();
			throw new SmtpError('EPROTOCOL', 'greeting', `the server refused the session: ${summary(greeting)}`, { reply: greeting });
		}

		await this.#hello();
		if (options.startTls && this.#capabilities.startTls) {
			const reply = await this.#command('starttls', 'STARTTLS', false, undefined, true);
			if (reply.code === 220) {
				await this.#startTls();
				await this.#hello();
			} else if (this.#closed) {
				throw new SmtpError('EPROTOCOL', 'starttls', `the server closed the session: ${summary(reply)}`, { reply, command: 'STARTTLS' });
			}
			// Any other refusal: go on in plain text on the same connection.
		}
	}

	/** A TCP connection to the host; the caller attaches the session's listeners. */
	#connectDirect(): Promise<Socket> {
		const { host, port, connectTimeoutMs } = this.#options;
		return new Promise<Socket>((resolve, reject) => {
			const socket = netConnect({ host, port });
			// Known at once, so that close() can destroy it.
			this.#rawSocket = socket;
			const done = () => {
				clearTimeout(this.#timer);
				this.#timer = undefined;
				socket.off('connect', onConnect);
				socket.off('error', onError);
			};
			const onConnect = () => {
				done();
				resolve(socket);
			};
			const onError = (error: Error) => {
				done();
				socket.destroy();
				reject(new SmtpError('ECONNECTION', 'connect', `could not connect to ${host} port ${port}: ${error.message}`, { cause: error }));
			};
			this.#timer = setTimeout(() => {
				done();
				socket.destroy();
				reject(new SmtpError('ETIMEDOUT', 'connect', `no TCP connection to ${host} port ${port} within ${connectTimeoutMs} ms`));
			}, connectTimeoutMs);
			socket.once('connect', onConnect);
			socket.once('error', onError);
		});
	}

	#attach(socket: Socket): void {
		socket.setNoDelay(true);
		socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
		socket.on('error', (error: Error) => this.#onSocketError(error));
		socket.on('end', () => this.#fail('ECLOSED', 'the server closed the connection'));
		socket.on('close', () => this.#fail('ECLOSED', 'the connection closed'));
		// A socket handed over by the proxy is paused with any early bytes pushed back.
		socket.resume();
	}

	#expectGreeting(): Promise<SmtpReply> {
		return new Promise<SmtpReply>((resolve, reject) => {
			if (this.#closed) {
				reject(this.#closedError('greeting'));
				return;
			}
			this.#push({ phase: 'greeting', timeoutMs: this.#options.greetingTimeoutMs, onReply: resolve, onError: reject });
		});
	}

	/** EHLO, or HELO when EHLO is refused with 5xx; sets the capabilities. */
	async #hello(): Promise<void> {
		const name = this.#options.heloName;
		const tls = this.#rawSocket !== this.#socket;
		const tlsAuthorized = tls ? (this.#socket as TLSSocket).authorized : undefined;
		const ehlo = await this.#command('ehlo', `EHLO ${name}`, false);
		if (isPositive(ehlo)) {
			this.#capabilities = parseCapabilities(ehlo, tls, tlsAuthorized);
			return;
		}
		if (ehlo.code >= 500 && !this.#closed) {
			const helo = await this.#command('ehlo', `HELO ${name}`, false);
			if (isPositive(helo)) {
				this.#capabilities = { esmtp: false, pipelining: false, smtputf8: false, startTls: false, tls };
				if (tls) this.#capabilities.tlsAuthorized = tlsAuthorized === true;
				return;
			}
			throw new SmtpError('EPROTOCOL', 'ehlo', `the server refused HELO: ${summary(helo)}`, { reply: helo, command: `HELO ${name}` });
		}
		throw new SmtpError('EPROTOCOL', 'ehlo', `the server refused EHLO: ${summary(ehlo)}`, { reply: ehlo, command: `EHLO ${name}` });
	}

	/** Runs the TLS handshake on the connection after the server's 220 to STARTTLS. */
	#startTls(): Promise<void> {
		return new Promise<void>((resolve, reject) => {
			const raw = this.#rawSocket;
			if (this.#closed || !raw) {
				const reason = this.#closeError;
				reject(reason ? new SmtpError(reason.code, 'starttls', reason.message, { cause: reason }) : this.#closedError('starttls'));
				return;
			}
			const options = this.#options;
			this.#handshake = { reject };
			const tlsSocket = tlsConnect({
				socket: raw,
				rejectUnauthorized: false,
				...(options.servername ? { servername: options.servername } : {}),
			});
			this.#socket = tlsSocket;
			// Failures during the handshake (error, close, timeout) reach #fail, which rejects it with ETLS.
			tlsSocket.on('error', (error: Error) => this.#onSocketError(error));
			tlsSocket.on('close', () => this.#fail('ECLOSED', 'the server closed the connection'));
			this.#timer = setTimeout(() => {
				this.#timer = undefined;
				this.#fail('ETIMEDOUT', `not finished within ${options.commandTimeoutMs} ms`);
			}, options.commandTimeoutMs);
			tlsSocket.once('secureConnect', () => {
				clearTimeout(this.#timer);
				this.#timer = undefined;
				this.#handshake = undefined;
				this.#upgrading = false;
				this.#remainder = EMPTY;
				tlsSocket.setNoDelay(true);
				tlsSocket.on('data', (chunk: Buffer) => this.#onData(tlsSocket, chunk));
				tlsSocket.on('end', () => this.#fail('ECLOSED', 'the server closed the connection'));
				resolve();
			});
		});
	}

	// --- commands -------------------------------------------------------------------------------

	/**
	 * The one gate every command passes before it is written: no CR, LF or NUL anywhere, and
	 * non-ASCII text only when SMTPUTF8 is in use. Throws EUNSAFE; nothing is written.
	 */
	#check(phase: SmtpPhase, command: string, utf8: boolean): void {
		for (let i = 0; i < command.length; i++) {
			const code = command.charCodeAt(i);
			if (code === 0x0d || code === 0x0a || code === 0x00) {
				throw new SmtpError('EUNSAFE', phase, `refused to send ${quote(command)}: it contains CR, LF or NUL (nothing was sent)`);
			}
			if (code > 0x7e && !utf8) {
				throw new SmtpError(
					'EUNSAFE',
					phase,
					`refused to send ${quote(command)}: non-ASCII text needs SMTPUTF8 offered by the server and asked for (nothing was sent)`,
				);
			}
		}
	}

	/** An address for `<...>`: the gate's rules plus no space, `<`, `>` or control character. */
	#checkPath(phase: SmtpPhase, address: string, utf8: boolean): void {
		for (let i = 0; i < address.length; i++) {
			const code = address.charCodeAt(i);
			if (code === 0x0d || code === 0x0a || code === 0x00) continue; // the gate names these
			if (code < 0x20 || code === 0x7f || code === 0x20 || code === 0x3c || code === 0x3e) {
				throw new SmtpError(
					'EUNSAFE',
					phase,
					`refused the address ${quote(address)}: a space, "<", ">" or control character would break the command (nothing was sent)`,
				);
			}
		}
		if (!utf8 && hasNonAscii(address)) {
			const why = !this.#capabilities.smtputf8
				? 'the server does not offer SMTPUTF8'
				: phase === 'mail'
					? 'SMTPUTF8 was not asked for'
					: "this transaction's MAIL FROM did not ask for SMTPUTF8";
			throw new SmtpError('EUNSAFE', phase, `refused the non-ASCII address ${quote(address)}: ${why} (nothing was sent)`);
		}
		this.#check(phase, address, utf8);
	}

	#command(phase: SmtpPhase, command: string, utf8: boolean, timeoutMs?: number, startTls = false): Promise<SmtpReply> {
		return new Promise<SmtpReply>((resolve, reject) => {
			this.#write([{ phase, command, utf8 }], timeoutMs, startTls, resolve, reject);
		});
	}

	/** Pipelined commands in one write; resolves with every reply or rejects with `partial`. */
	#batch(phase: SmtpPhase, commands: string[], utf8: boolean): Promise<SmtpReply[]> {
		return new Promise<SmtpReply[]>((resolve, reject) => {
			const replies: SmtpReply[] = [];
			let failed = false;
			this.#write(
				commands.map((command) => ({ phase, command, utf8 })),
				undefined,
				false,
				(reply) => {
					if (failed) return;
					replies.push(reply);
					if (replies.length === commands.length) resolve(replies);
				},
				(error) => {
					if (failed) return;
					failed = true;
					error.partial = [...replies];
					reject(error);
				},
			);
		});
	}

	/**
	 * Writes the commands in one write, each queued for its reply in order; `onReply` is called once
	 * per reply (in order) and `onError` once per command still waiting when the session fails.
	 * Every command passes the gate first: one refused command writes nothing.
	 */
	#write(
		commands: readonly Outgoing[],
		timeoutMs: number | undefined,
		startTls: boolean,
		onReply: (reply: SmtpReply) => void,
		onError: (error: SmtpError) => void,
	): void {
		try {
			for (const { phase, command, utf8 } of commands) this.#check(phase, command, utf8);
		} catch (error) {
			onError(error as SmtpError);
			return;
		}
		const socket = this.#socket;
		if (this.#closed || !socket) {
			onError(this.#closedError(commands[0].phase));
			return;
		}
		for (const { phase, command } of commands) {
			this.#push({ phase, command, timeoutMs: timeoutMs ?? this.#options.commandTimeoutMs, startTls, onReply, onError });
			this.#options.onTranscript?.('C', command);
		}
		socket.write(Buffer.from(commands.map(({ command }) => `${command}\r\n`).join(''), 'utf8'));
	}

	#push(pending: Pending): void {
		this.#lastPhase = pending.phase;
		this.#queue.push(pending);
		if (this.#queue.length === 1) this.#armTimer();
	}

	/** (Re)starts the reply timer for the command at the head of the queue. */
	#armTimer(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		const head = this.#queue[0];
		if (!head) return;
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			const what = head.command === undefined ? 'no greeting' : `no reply to ${quote(head.command)}`;
			this.#fail('ETIMEDOUT', `${what} within ${head.timeoutMs} ms`);
		}, head.timeoutMs);
	}

	// --- replies --------------------------------------------------------------------------------

	#onData(socket: Socket, chunk: Buffer): void {
		if (this.#closed || socket !== this.#socket || this.#upgrading) return;
		const buffer = this.#remainder.length > 0 ? Buffer.concat([this.#remainder, chunk]) : chunk;
		let start = 0;
		for (;;) {
			const newline = buffer.indexOf(0x0a, start);
			if (newline < 0) break;
			const end = newline > start && buffer[newline - 1] === 0x0d ? newline - 1 : newline;
			const line = buffer.toString('utf8', start, end);
			start = newline + 1;
			this.#onLine(line);
			if (this.#closed) return;
			if (this.#upgrading) {
				// Bytes after the 220 to STARTTLS, before the handshake, were injected into the plain
				// stream (a man in the middle answering for the TLS server): the session is not trusted.
				if (start < buffer.length) {
					this.#fail('EPROTOCOL', 'the server sent data after its 220 to STARTTLS, before the TLS handshake');
				}
				this.#remainder = EMPTY;
				return;
			}
		}
		this.#remainder = start === 0 ? buffer : Buffer.from(buffer.subarray(start));
		if (this.#remainder.length > MAX_LINE_BYTES) {
			this.#fail('EPROTOCOL', `the server sent more than ${MAX_LINE_BYTES} bytes without a line break`);
		}
	}

	#onLine(line: string): void {
		this.#options.onTranscript?.('S', line);
		const match = REPLY_LINE.exec(line);
		if (!match) {
			this.#fail('EPROTOCOL', `the server sent a line that is not an SMTP reply: ${quote(line)}`);
			return;
		}
		if (this.#lines.length > 0 && !this.#lines[0].startsWith(match[1])) {
			this.#fail('EPROTOCOL', `a multi-line reply changed its code: ${quote(this.#lines[0])} then ${quote(line)}`);
			return;
		}
		this.#lines.push(line);
		if (this.#lines.length > MAX_REPLY_LINES) {
			this.#fail('EPROTOCOL', `the server sent a reply of more than ${MAX_REPLY_LINES} lines`);
			return;
		}
		if (match[2] === '-') return;
		const reply = parseReply(this.#lines);
		this.#lines = [];
		this.#onReply(reply);
	}

	#onReply(reply: SmtpReply): void {
		const head = this.#queue.shift();
		if (reply.code === 421) {
			// RFC 5321 §3.8: the server is closing the channel. The reply answers every command still
			// waiting (none of them will get another); the caller decides what it means.
			const waiting = head ? [head, ...this.#queue.splice(0)] : [];
			this.#closeError = new SmtpError('ECLOSED', head?.phase ?? this.#lastPhase, `the server closed the session: ${summary(reply)}`, { reply });
			this.#teardown();
			for (const pending of waiting) pending.onReply(reply);
			return;
		}
		if (!head) {
			this.#fail('EPROTOCOL', `the server sent a reply no command asked for: ${summary(reply)}`);
			return;
		}
		if (head.startTls && reply.code === 220) this.#upgrading = true;
		this.#armTimer();
		head.onReply(reply);
	}

	// --- closing --------------------------------------------------------------------------------

	#onSocketError(error: Error): void {
		// During the TLS handshake the message is all there is to say (#fail turns it into ETLS).
		this.#fail('ECLOSED', this.#handshake ? error.message : `the connection failed: ${error.message}`, error);
	}

	#closedError(phase: SmtpPhase): SmtpError {
		const reason = this.#closeError;
		return new SmtpError('ECLOSED', phase, reason ? `the session is closed: ${reason.message}` : 'the session is closed', {
			...(reason?.reply ? { reply: reason.reply } : {}),
			...(reason ? { cause: reason } : {}),
		});
	}

	/** Closes the session for `message` and rejects everything still waiting (once; later calls do nothing). */
	#fail(code: SmtpErrorCode, message: string, cause?: unknown): void {
		if (this.#closed) return;
		const waiting = this.#queue.splice(0);
		const handshake = this.#handshake;
		this.#handshake = undefined;
		const phase = handshake ? 'starttls' : (waiting[0]?.phase ?? this.#lastPhase);
		const error = handshake
			? new SmtpError('ETLS', 'starttls', `the TLS handshake failed: ${message}`, { cause })
			: new SmtpError(code, phase, message, { cause, ...(waiting[0]?.command ? { command: waiting[0].command } : {}) });
		this.#closeError = error;
		this.#teardown();
		handshake?.reject(error);
		for (const pending of waiting) {
			pending.onError(
				new SmtpError(code, pending.phase, message, { cause, ...(pending.command ? { command: pending.command } : {}) }),
			);
		}
	}

	#teardown(): void {
		this.#closed = true;
		clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#remainder = EMPTY;
		this.#lines = [];
		this.#socket?.destroy();
		this.#rawSocket?.destroy();
	}
}
