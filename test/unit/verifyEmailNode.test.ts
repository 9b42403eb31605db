// The Verify Email node's execute(), driven through a minimal n8n execution context, with DNS
// answered by a real loopback server.
import type { IDataObject, IExecuteFunctions, INode, INodeExecutionData } from 'n8n-workflow';

import { VerifyEmail } from '../../nodes/VerifyEmail/VerifyEmail.node';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsServer';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer';
import { startSocks5Server } from '../helpers/socks5Server';

let server: TestDnsServer;
const warned: string[] = [];
const hinted: string[] = [];

beforeAll(async () => {
	server = await startDnsServer({ 'good.test': { MX: [{ preference: 10, exchange: 'mx.good.test' }] } });
});
afterAll(() => server.close());

const node: INode = {
	id: '1',
	name: 'Verify Email',
	type: 'n8n-nodes-list-hygiene.verifyEmail',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

function context(items: INodeExecutionData[], parameters: IDataObject, continueOnFail = false, onError?: INode['onError']): IExecuteFunctions {
	return {
		getInputData: () => items,
		getNodeParameter: (name: string, _index: number, fallback?: unknown) => parameters[name] ?? fallback,
		getNode: () => ({ ...node, onError }),
		logger: { warn: (message: string) => warned.push(message) },
		addExecutionHints: (...hints: Array<{ message: string }>) => hinted.push(...hints.map((h) => h.message)),
		continueOnFail: () => continueOnFail,
	} as unknown as IExecuteFunctions;
}

async function run(items: INodeExecutionData[], parameters: IDataObject, continueOnFail = false) {
	return new VerifyEmail().execute.call(context(items, parameters, continueOnFail));
}

const dnsOptions = () => ({ dnsServers: server.address, dnsTimeoutMs: 800, smtpCheck: false });

describe('Verify Email node', () => {
	it('adds a verification to each item, keeping its fields, binary data and pairing', async () => {
		const binary = { file: { data: 'aGk=', mimeType: 'text/plain' } };
		const [output] = await run(
			[{ json: { email: 'ann@good.test', name: 'Ann', id: 7 }, binary }, { json: { email: 'nope', name: 'Bob' } }],
			{ emailField: 'email', options: dnsOptions() },
		);
		expect(output).toHaveLength(2);
		expect(output[0]).toMatchObject({
			json: { email: 'ann@good.test', name: 'Ann', id: 7, verification: { status: 'unknown', reason: 'smtp_not_checked', mx: ['mx.good.test'] } },
			binary,
			pairedItem: { item: 0 },
		});
		expect(output[1]).toMatchObject({
			json: { name: 'Bob', verification: { status: 'invalid', reason: 'invalid_syntax' } },
			pairedItem: { item: 1 },
		});
	});

	it('reads nested fields and keys that contain dots, and writes to a chosen field', async () => {
		const [output] = await run(
			[{ json: { contact: { email: 'ann@good.test' } } }],
			{ emailField: 'contact.email', options: { ...dnsOptions(), outputField: 'check' } },
		);
		expect(output[0].json.check).toMatchObject({ status: 'unknown' });
		const [second] = await run([{ json: { 'e.mail': 'x@good.test' } }], { emailField: 'e.mail', options: dnsOptions() });
		expect(second[0].json.verification).toMatchObject({ normalized: 'x@good.test' });
	});

	it('fails the run on an item without an address, naming the item and the fields it has', async () => {
		await expect(
			run([{ json: { email: 'ann@good.test' } }, { json: { mail: 'x@y.test', name: 'B' } }], { emailField: 'email', options: dnsOptions() }),
		).rejects.toMatchObject({
			message: 'Item 2 has no field "email"',
			description: expect.stringContaining('Fields on this item: mail, name'),
			context: { itemIndex: 1 },
		});
	});

	it('with Continue On Fail, reports bad items per item and verifies the rest', async () => {
		const [output] = await run(
			[
				{ json: { email: 'ann@good.test' } },
				{ json: { email: 42 } },
				{ json: { email: '   ' } },
				{ json: { other: true } },
				{ json: { email: null } },
				{ json: { email: ['a@good.test'] } },
			],
			{ emailField: 'email', options: dnsOptions() },
			true,
		);
		expect(output.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3, 4, 5].map((item) => ({ item })));
		expect(output[0].json.verification).toMatchObject({ status: 'unknown' });
		expect(output.slice(1).map((item) => item.json.error)).toEqual([
			'Item 2: the field "email" holds a number, not an email address',
			'Item 3: the field "email" is empty',
			'Item 4 has no field "email"',
			'Item 5: the field "email" holds null, not an email address',
			'Item 6: the field "email" holds a list, not an email address',
		]);
		expect(output[3].json.other).toBe(true);
		expect(output.slice(1).every((item) => item.json.verification === undefined)).toBe(true);
	});

	it('with Continue (using error output), leaves only the message so n8n routes the item there', async () => {
		const items = [{ json: { email: 'ann@good.test' } }, { json: { name: 'B' } }];
		const [output] = await new VerifyEmail().execute.call(
			context(items, { emailField: 'email', options: dnsOptions() }, true, 'continueErrorOutput'),
		);
		expect(output[1]).toEqual({ json: { error: 'Item 2 has no field "email"' }, binary: undefined, pairedItem: { item: 1 } });
		expect(output[0].json.verification).toMatchObject({ status: 'unknown' });
	});

	it('verifies the whole input as one batch: repeats are checked once and marked', async () => {
		const before = server.queries.length;
		const [output] = await run(
			[{ json: { email: 'ann@good.test' } }, { json: { email: 'bob@good.test' } }, { json: { email: 'Ann@good.test' } }],
			{ emailField: 'email', options: dnsOptions() },
		);
		expect(output.map((item) => (item.json.verification as IDataObject).duplicate ?? false)).toEqual([false, false, true]);
		expect(server.queries.length - before).toBe(1);
	});

	it('rejects a bad DNS server option before verifying anything', async () => {
		await expect(
			run([{ json: { email: 'ann@good.test' } }], { emailField: 'email', options: { dnsServers: 'dns.example:53' } }),
		).rejects.toMatchObject({
			message: expect.stringContaining('is not an IP address'),
			description: 'Fix the DNS Servers or DNS Timeout option.',
		});
	});

	describe('with SMTP (on by default)', () => {
		let smtp: TestSmtpServer;
		let dns: TestDnsServer;
		beforeAll(async () => {
			smtp = await startSmtpServer({
				rcptReply: (to) =>
					to.startsWith('ann@') || to.startsWith('info@') ? '250 2.1.5 Ok' : to.startsWith('full@') ? '452 4.2.2 Mailbox full' : '550 5.1.1 User unknown',
			});
			dns = await startDnsServer({
				'mail.test': { MX: [{ preference: 10, exchange: 'mx.mail.test' }] },
				'mx.mail.test': { A: ['127.0.0.1'] },
				'mailinator.com': { MX: [{ preference: 10, exchange: 'mx.mail.test' }] },
			});
		});
		afterAll(async () => {
			await smtp.close();
			await dns.close();
		});

		const smtpOptions = () => ({ dnsServers: dns.address, smtpPort: smtp.port, allowPrivateNetworks: true, heloName: 'n8n.test' });

		it('asks the mail server and reports its evidence', async () => {
			const [output] = await run([{ json: { email: 'ann@mail.test' } }, { json: { email: 'zed@mail.test' } }], {
				emailField: 'email',
				options: smtpOptions(),
			});
			expect(output[0].json.verification).toMatchObject({
				status: 'valid',
				reason: 'accepted',
				smtp: { host: 'mx.mail.test', code: 250, catchAll: false, port: smtp.port },
			});
			expect(output[1].json.verification).toMatchObject({ status: 'invalid', reason: 'mailbox_not_found', smtp: { code: 550, enhanced: '5.1.1' } });
		});

		it('refuses a loopback mail host unless private networks are allowed', async () => {
			const sessions = smtp.sessions.length;
			const [output] = await run([{ json: { email: 'ann@mail.test' } }], {
				emailField: 'email',
				options: { ...smtpOptions(), allowPrivateNetworks: false },
			});
			expect(output[0].json.verification).toMatchObject({ status: 'unknown', reason: 'refused_private_target' });
			expect(smtp.sessions.length).toBe(sessions);
		});

		it('routes items to one output per category when asked', async () => {
			const emails = ['ann@mail.test', 'zed@mail.test', 'ann@mailinator.com', 'bad', 'full@mail.test', 'info@mail.test'];
			const outputs = await run(
				[...emails.map((email) => ({ json: { email } })), { json: { name: 'no address' } }],
				{ emailField: 'email', routeByCategory: true, options: smtpOptions() },
				true,
			);
			const names = outputs.map((items) => items.map((item) => (item.json.email as string) ?? item.json.name));
			// Valid, Invalid, Disposable, Catch-All, Unknown, Risky
			expect(names).toEqual([['ann@mail.test'], ['zed@mail.test', 'bad'], ['ann@mailinator.com'], [], ['no address'], ['full@mail.test', 'info@mail.test']]);
			expect(outputs[4][0]).toMatchObject({ json: { error: 'Item 7 has no field "email"' }, pairedItem: { item: 6 } });
			expect(outputs.flat().map((item) => (item.pairedItem as { item: number }).item).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
		});

		it('reaches the mail server through a SOCKS5 proxy credential', async () => {
			const proxy = await startSocks5Server({ auth: { username: 'u', password: 'secret-pass' } });
			try {
				const ctx = context(
					[{ json: { email: 'ann@mail.test' } }],
					{ emailField: 'email', useProxy: true, options: smtpOptions() },
				);
				(ctx as unknown as { getCredentials: () => Promise<IDataObject> }).getCredentials = async () => ({
					host: '127.0.0.1',
					port: proxy.port,
					username: 'u',
					password: 'secret-pass',
				});
				const [output] = await new VerifyEmail().execute.call(ctx);
				expect(output[0].json.verification).toMatchObject({ status: 'valid' });
				expect(proxy.connects.map((c) => c.port)).toContain(smtp.port);
			} finally {
				await proxy.close();
			}
		});

		it('shows run-level warnings above the output when outbound port 25 looks blocked', async () => {
			const closed = await startSmtpServer({});
			const port = closed.port;
			await closed.close();
			const deadDns = await startDnsServer({
				'a.test': { MX: [{ preference: 10, exchange: 'mx.a.test' }] },
				'b.test': { MX: [{ preference: 10, exchange: 'mx.b.test' }] },
				'mx.a.test': { A: ['127.0.0.2'] },
				'mx.b.test': { A: ['127.0.0.3'] },
			});
			try {
				hinted.length = 0;
				const [output] = await run([{ json: { email: 'x@a.test' } }, { json: { email: 'y@b.test' } }], {
					emailField: 'email',
					options: { dnsServers: deadDns.address, smtpPort: port, allowPrivateNetworks: true },
				});
				expect(output.map((i) => (i.json.verification as IDataObject).reason)).toEqual(['port25_blocked', 'port25_blocked']);
				expect(hinted).toEqual([expect.stringContaining('outbound port 25 looks blocked on this machine')]);
				expect(warned.at(-1)).toContain('outbound port 25 looks blocked');
			} finally {
				await deadDns.close();
			}
		});

		it('tests the proxy credential with a real SOCKS5 handshake', async () => {
			const proxy = await startSocks5Server({ auth: { username: 'u', password: 'right' } });
			try {
				const test = new VerifyEmail().methods.credentialTest.socks5ProxyTest;
				const call = (password: string) =>
					test.call({} as never, { id: '1', name: 'p', type: 'listHygieneSocks5Proxy', data: { host: '127.0.0.1', port: proxy.port, username: 'u', password } });
				await expect(call('right')).resolves.toMatchObject({ status: 'OK' });
				const wrong = await call('wrong-password');
				expect(wrong.status).toBe('Error');
				expect(wrong.message).toMatch(/rejected the username or password/);
				expect(wrong.message).not.toContain('wrong-password');
			} finally {
				await proxy.close();
			}
		});
	});

	it('describes itself as n8n expects: tool use, options under "Add option", icon for both themes', () => {
		const { description } = new VerifyEmail();
		expect(description.usableAsTool).toBe(true);
		const options = description.properties.find((p) => p.name === 'options');
		expect(options).toMatchObject({ type: 'collection', placeholder: 'Add option' });
		expect(description.icon).toEqual({ light: 'file:../../icons/verifyEmail.svg', dark: 'file:../../icons/verifyEmail.dark.svg' });
	});
});
