// The sandbox SMTP server, spoken to over a raw socket: behaviour by the recipient's domain,
// greylisting that lets a sender in after the delay, pipelined commands answered in order, command
// order enforced, and never a DATA accepted.
import { connect, type Socket } from 'node:net';

import { startSmtpServer, type MailWorld, type SandboxSmtpServer } from '../../src/sandbox/smtp';

const world: MailWorld = {
	domains: { 'people.test': 'mailboxes', 'any.test': 'accept_all', 'slow.test': 'greylist' },
	mailboxes: new Set(['ann@people.test', 'bo@slow.test']),
	greylistDelayMs: 300,
};

let server: SandboxSmtpServer;
beforeAll(async () => {
	server = await startSmtpServer(world);
});
afterAll(() => server.close());

/** A client that reads whole replies (multi-line ones joined) in the order they come. */
async function client(): Promise<{ socket: Socket; replies: (n: number) => Promise<string[]>; send: (text: string) => void; closed: Promise<void> }> {
	const socket = connect(server.port, '127.0.0.1');
	let buffer = '';
	const complete: string[] = [];
	let waiting: (() => void) | undefined;
	socket.on('data', (chunk) => {
		buffer += chunk.toString('latin1');
		for (let match = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(buffer); match; match = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(buffer)) {
			complete.push(match[0].replace(/\r?\n$/, ''));
			buffer = buffer.slice(match[0].length);
		}
		waiting?.();
	});
	const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
	const replies = async (n: number) => {
		while (complete.length < n) await new Promise<void>((resolve) => (waiting = resolve));
		return complete.splice(0, n);
	};
	await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
	return { socket, replies, send: (text) => socket.write(text), closed };
}

const codes = (replies: string[]) => replies.map((r) => r.slice(0, 3));

describe('the sandbox SMTP server', () => {
	it('greets, offers PIPELINING without STARTTLS, and answers a pipelined transaction in order', async () => {
		const c = await client();
		expect(await c.replies(1)).toEqual(['220 mx.sandbox.test ESMTP List Hygiene sandbox']);
		c.send('EHLO verifier.test\r\n');
		const [ehlo] = await c.replies(1);
		expect(ehlo.split('\r\n')).toEqual(['250-mx.sandbox.test greets verifier.test', '250-PIPELINING', '250-SIZE 10240000', '250-8BITMIME', '250-SMTPUTF8', '250 ENHANCEDSTATUSCODES']);
		// One write, as a pipelining prober sends it.
		c.send(['MAIL FROM:<verify@verifier.test>', 'RCPT TO:<ann@people.test>', 'RCPT TO:<ghost@people.test>', 'RCPT TO:<Anything@ANY.test>', 'RCPT TO:<x@elsewhere.test>', 'RSET', 'NOOP', 'QUIT', ''].join('\r\n'));
		expect(await c.replies(8)).toEqual([
			'250 2.1.0 Ok',
			'250 2.1.5 <ann@people.test>: Recipient ok',
			'550 5.1.1 <ghost@people.test>: Recipient address rejected: User unknown in virtual mailbox table',
			'250 2.1.5 <Anything@ANY.test>: Recipient ok',
			'554 5.7.1 <x@elsewhere.test>: Relay access denied',
			'250 2.0.0 Ok',
			'250 2.0.0 Ok',
			'221 2.0.0 Bye',
		]);
		await c.closed;
	});

	it('matches mailboxes without regard to case', async () => {
		const c = await client();
		c.send('HELO v.test\r\nMAIL FROM:<>\r\nRCPT TO:<ANN@People.Test>\r\nQUIT\r\n');
		expect(codes(await c.replies(5))).toEqual(['220', '250', '250', '250', '221']);
	});

	it('never accepts DATA, even after an accepted recipient', async () => {
		const c = await client();
		c.send('EHLO v.test\r\nMAIL FROM:<a@v.test>\r\nDATA\r\nRCPT TO:<ann@people.test>\r\nDATA\r\nQUIT\r\n');
		const replies = await c.replies(7);
		expect(replies[3]).toBe('554 5.5.1 Error: no valid recipients');
		expect(replies[5]).toBe('554 5.7.0 This sandbox never accepts messages: it only answers probes');
		expect(replies[6]).toBe('221 2.0.0 Bye');
	});

	it('enforces the order of commands and checks their syntax', async () => {
		const c = await client();
		c.send(['MAIL FROM:<a@v.test>', 'EHLO', 'EHLO v.test', 'RCPT TO:<ann@people.test>', 'MAIL FROM:a@v.test', 'MAIL FROM:<a@v.test>', 'MAIL FROM:<a@v.test>', 'RCPT TO:ann@people.test', 'STARTTLS', `NOOP ${'x'.repeat(1200)}`, 'QUIT', ''].join('\r\n'));
		expect(await c.replies(12)).toEqual([
			expect.stringMatching(/^220 /),
			'503 5.5.1 Error: send HELO/EHLO first',
			'501 5.5.4 Syntax: EHLO hostname',
			expect.stringMatching(/^250-/),
			'503 5.5.1 Error: need MAIL command',
			'501 5.1.7 Bad sender address syntax',
			'250 2.1.0 Ok',
			'503 5.5.1 Error: nested MAIL command',
			'501 5.1.3 Bad recipient address syntax',
			'502 5.5.2 Error: command not recognized',
			'500 5.5.2 Error: line too long',
			'221 2.0.0 Bye',
		]);
	});

	it('greylists a new sender for a greylisting domain, then lets it in after the delay: known mailboxes accepted, others unknown', async () => {
		const transaction = async (from: string) => {
			const c = await client();
			c.send(`EHLO v.test\r\nMAIL FROM:<${from}>\r\nRCPT TO:<bo@slow.test>\r\nRCPT TO:<nobody@slow.test>\r\nQUIT\r\n`);
			return (await c.replies(6)).slice(3, 5);
		};
		const deferred = await transaction('first@v.test');
		expect(deferred).toEqual([
			expect.stringMatching(/^450 4\.7\.1 <bo@slow\.test>: Recipient address rejected: Greylisted, please try again in 1 seconds$/),
			expect.stringMatching(/^450 4\.7\.1 <nobody@slow\.test>: .*Greylisted/),
		]);
		// Too early: still deferred. Another sender: deferred on its own.
		expect(codes(await transaction('first@v.test'))).toEqual(['450', '450']);
		await new Promise((resolve) => setTimeout(resolve, 350));
		expect(await transaction('first@v.test')).toEqual([
			'250 2.1.5 <bo@slow.test>: Recipient ok',
			'550 5.1.1 <nobody@slow.test>: Recipient address rejected: User unknown in virtual mailbox table',
		]);
		// Remembered from then on; a sender it has never seen is still deferred.
		expect(codes(await transaction('FIRST@v.test'))).toEqual(['250', '550']);
		expect(codes(await transaction('second@v.test'))).toEqual(['450', '450']);
	});

	it('counts its sessions', () => {
		expect(server.sessions).toBeGreaterThanOrEqual(9);
	});
});
