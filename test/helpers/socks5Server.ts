// A minimal SOCKS5 proxy on loopback (RFC 1928 CONNECT, RFC 1929 username/password) for the SMTP
// suites: relays to the target for real, records what clients offered and asked for, and can deny
// a CONNECT with a chosen reply code or stall at a chosen step.
import { connect as netConnect, createServer, type Socket } from 'node:net';

export interface Socks5ServerOptions {
	/** Require username/password (method 0x02) and accept only these. Default: no authentication. */
	auth?: { username: string; password: string };
	/** Answer every CONNECT with this RFC 1928 reply code (1-8, or any byte) instead of relaying. */
	deny?: number;
	/** Never answer at this step: the method selection, or the CONNECT request. */
	stall?: 'method' | 'request';
	/**
	 * Do not relay: answer the CONNECT with success and this text in the same write, as if the
	 * target's first bytes came with the reply.
	 */
	fakeTarget?: string;
}

export interface Socks5Connect {
	host: string;
	port: number;
	addressType: 'ipv4' | 'domain' | 'ipv6';
}

export interface TestSocks5Server {
	host: string;
	port: number;
	/** The methods each client offered, in order of connection. */
	methodsOffered: number[][];
	/** Username/password attempts. */
	authAttempts: Array<{ username: string; password: string }>;
	/** The CONNECT targets asked for. */
	connects: Socks5Connect[];
	close(): Promise<void>;
}

function reply(code: number): Buffer {
	// BND.ADDR 0.0.0.0, BND.PORT 0: clients do not use it for CONNECT.
	return Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

function formatIpv6(bytes: Buffer): string {
	const groups: string[] = [];
	for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
	return groups.join(':');
}

export async function startSocks5Server(options: Socks5ServerOptions = {}, listen: { host?: string } = {}): Promise<TestSocks5Server> {
	const host = listen.host ?? '127.0.0.1';
	const sockets = new Set<Socket>();
	const methodsOffered: number[][] = [];
	const authAttempts: Array<{ username: string; password: string }> = [];
	const connects: Socks5Connect[] = [];

	const track = (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => socket.destroy());
	};

	const server = createServer((client) => {
		track(client);
		let stage: 'method' | 'auth' | 'request' | 'relay' = 'method';
		let buffer: Buffer = Buffer.alloc(0);

		const onData = (chunk: Buffer) => {
			buffer = Buffer.concat([buffer, chunk]);
			for (;;) {
				if (stage === 'method') {
					if (buffer.length < 2 || buffer.length < 2 + buffer[1]) return;
					const methods = [...buffer.subarray(2, 2 + buffer[1])];
					buffer = buffer.subarray(2 + buffer[1]);
					methodsOffered.push(methods);
					if (options.stall === 'method') return;
					const wanted = options.auth ? 0x02 : 0x00;
					if (!methods.includes(wanted)) {
						client.end(Buffer.from([0x05, 0xff]));
						return;
					}
					client.write(Buffer.from([0x05, wanted]));
					stage = options.auth ? 'auth' : 'request';
				} else if (stage === 'auth') {
					if (buffer.length < 2) return;
					const userLength = buffer[1];
					if (buffer.length < 3 + userLength) return;
					const passLength = buffer[2 + userLength];
					if (buffer.length < 3 + userLength + passLength) return;
					const username = buffer.toString('utf8', 2, 2 + userLength);
					const password = buffer.toString('utf8', 3 + userLength, 3 + userLength + passLength);
					buffer = buffer.subarray(3 + userLength + passLength);
					authAttempts.push({ username, password });
					if (username !== options.auth?.username || password !== options.auth.password) {
						client.end(Buffer.from([0x01, 0x01]));
						return;
					}
					client.write(Buffer.from([0x01, 0x00]));
					stage = 'request';
				} else if (stage === 'request') {
					if (buffer.length < 5) return;
					const addressType = buffer[3];
					const length = addressType === 0x01 ? 10 : addressType === 0x04 ? 22 : addressType === 0x03 ? 7 + buffer[4] : -1;
					if (length < 0) {
						client.end(reply(0x08));
						return;
					}
					if (buffer.length < length) return;
					const target: Socks5Connect =
						addressType === 0x01
							? { host: [...buffer.subarray(4, 8)].join('.'), port: buffer.readUInt16BE(8), addressType: 'ipv4' }
							: addressType === 0x04
								? { host: formatIpv6(buffer.subarray(4, 20)), port: buffer.readUInt16BE(20), addressType: 'ipv6' }
								: { host: buffer.toString('ascii', 5, 5 + buffer[4]), port: buffer.readUInt16BE(5 + buffer[4]), addressType: 'domain' };
					buffer = buffer.subarray(length);
					connects.push(target);
					if (options.stall === 'request') return;
					if (options.deny !== undefined) {
						client.end(reply(options.deny));
						return;
					}
					if (options.fakeTarget !== undefined) {
						client.write(Buffer.concat([reply(0x00), Buffer.from(options.fakeTarget)]));
						stage = 'relay';
						return;
					}
					relay(target);
					return;
				} else {
					return;
				}
			}
		};

		const relay = (target: Socks5Connect) => {
			stage = 'relay';
			client.off('data', onData);
			client.pause();
			const upstream = netConnect({ host: target.host, port: target.port });
			track(upstream);
			upstream.once('error', (error: NodeJS.ErrnoException) => {
				client.end(reply(error.code === 'ECONNREFUSED' ? 0x05 : 0x04));
			});
			upstream.once('connect', () => {
				upstream.on('close', () => client.destroy());
				client.on('close', () => upstream.destroy());
				client.write(reply(0x00));
				if (buffer.length > 0) upstream.write(buffer);
				client.pipe(upstream);
				upstream.pipe(client);
				client.resume();
			});
		};

		client.on('data', onData);
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, host, () => resolve());
	});
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('the SOCKS5 test server has no TCP address');

	return {
		host,
		port: address.port,
		methodsOffered,
		authAttempts,
		connects,
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}
