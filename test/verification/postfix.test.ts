// The engine against a real MTA: Debian's Postfix, configured and started by this suite on
// loopback (see test/helpers/postfix.ts), its MX records served by the loopback DNS server. Every
// verdict below comes from Postfix's own replies: existing mailboxes, an unknown user, a catch-all
// domain, a role address, a domain the server does not take mail for, and a batch larger than
// Postfix's recipient limit. The sessions run over STARTTLS with a self-signed certificate.
//
// Needs Postfix and root: without them the suite is skipped, except in CI (CI=true), where it fails.
import { existsSync } from 'node:fs';

import { Verifier } from '../../src/verification/engine';
import type { Verification } from '../../src/verification/types';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsServer';
import { parseDisconnects, postfixAvailability, startPostfix, type PostfixInstance } from '../helpers/postfix';
import { whenAvailable } from '../helpers/requirement';

const RECIPIENT_LIMIT = 3;
const MAILBOXES = ['ann', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'info', 'postmaster'];
const fixedNow = () => new Date('2026-11-25T10:00:00.000Z');

const availability = postfixAvailability();

whenAvailable('Postfix suite', availability, () => {
	describe('verification against a real Postfix', () => {
		let dns: TestDnsServer;
		let postfix: PostfixInstance;

		beforeAll(async () => {
			dns = await startDnsServer({
				'pf.test': { MX: [{ preference: 10, exchange: 'mx.pf.test' }] },
				'mx.pf.test': { A: ['127.0.0.1'] },
				'catchall.test': { MX: [{ preference: 10, exchange: 'mx.catchall.test' }] },
				'mx.catchall.test': { A: ['127.0.0.1'] },
				// Its MX points at our Postfix, which does not take mail for it (and relays for no one).
				'elsewhere.test': { MX: [{ preference: 10, exchange: 'mx.pf.test' }] },
			});
			postfix = await startPostfix({
				hostname: 'mx.pf.test',
				mailboxes: { 'pf.test': MAILBOXES },
				catchAll: { 'catchall.test': 'postmaster@pf.test' },
				recipientLimit: RECIPIENT_LIMIT,
			});
		}, 60_000);

		afterAll(async () => {
			const dir = postfix?.dir;
			await Promise.all([postfix?.stop(), dns?.close()]);
			// stop() throws if a process survived; the temporary directory must be gone too.
			if (dir && existsSync(dir)) throw new Error(`Postfix's temporary directory survived: ${dir}`);
		}, 30_000);

		const verifier = () =>
			new Verifier({
				dns: { servers: [dns.address], timeoutMs: 2000 },
				smtp: {
					port: postfix.port,
					allowPrivateNetworks: true,
					heloName: 'prober.test',
					mailFrom: 'probe@prober.test',
					connectTimeoutMs: 5000,
					commandTimeoutMs: 10_000,
					recipientsPerTransaction: 20,
				},
				now: fixedNow,
			});

		/** A test whose failure message ends with what Postfix logged meanwhile. */
		const withLog = (name: string, body: () => Promise<void>, timeoutMs?: number) =>
			it(
				name,
				async () => {
					const mark = postfix.logMark();
					try {
						await body();
					} catch (error) {
						if (error instanceof Error) error.message += `\n\nPostfix log during this test:\n${postfix.logSince(mark)}`;
						throw error;
					}
				},
				timeoutMs,
			);

		/** Verifies a batch and waits for Postfix to log the end of every session it had. */
		async function verify(addresses: string[]): Promise<{ results: Verification[]; log: string; verifier: Verifier }> {
			const mark = postfix.logMark();
			const v = verifier();
			const results = await v.verifyBatch(addresses);
			const sessions = v.summary.smtp?.sessions ?? 0;
			const log = await postfix.waitForLog(mark, (text) => parseDisconnects(text).length >= sessions);
			return { results, log, verifier: v };
		}

		const accepted = (port: number) => ({ host: 'mx.pf.test', ip: '127.0.0.1', port, code: 250, enhanced: '2.1.5', text: 'Ok', tls: true });

		withLog('an existing mailbox is valid: Postfix accepts it over STARTTLS and rejects a random local part', async () => {
			const { results, log, verifier: v } = await verify(['ann@pf.test']);
			expect(results).toEqual([
				expect.objectContaining({
					status: 'valid',
					category: 'valid',
					reason: 'accepted',
					normalized: 'ann@pf.test',
					mx: ['mx.pf.test'],
					smtp: { ...accepted(postfix.port), catchAll: false },
				}),
			]);
			// The random probe went after the real address and Postfix said it does not exist.
			expect(log).toMatch(/reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.1\.1 <x[0-9a-f]+@pf\.test>: Recipient address rejected: User unknown in virtual mailbox table/);
			expect(log).toContain('TLS connection established from unknown[127.0.0.1]');
			expect(parseDisconnects(log)).toEqual([expect.objectContaining({ ok: expect.objectContaining({ starttls: 1, mail: 1, rcpt: 1 }) })]);
			expect(v.summary.smtp).toMatchObject({ sessions: 1, hostsTried: 1, hostsConnected: 1, blockedHosts: [], port25Blocked: false });
		});

		withLog('an unknown user is invalid: 550 5.1.1 User unknown in virtual mailbox table', async () => {
			const { results, log } = await verify(['nobody@pf.test']);
			expect(results[0]).toMatchObject({
				status: 'invalid',
				category: 'invalid',
				reason: 'mailbox_not_found',
				smtp: {
					host: 'mx.pf.test',
					ip: '127.0.0.1',
					port: postfix.port,
					code: 550,
					enhanced: '5.1.1',
					text: '<nobody@pf.test>: Recipient address rejected: User unknown in virtual mailbox table',
					tls: true,
				},
			});
			expect(results[0].detail).toContain('User unknown in virtual mailbox table');
			expect(log).toContain('reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 <nobody@pf.test>');
		});

		withLog('every address at the catch-all domain is catch_all: Postfix also accepts the random local part', async () => {
			const { results, log } = await verify(['someone@catchall.test', 'anyone.else@catchall.test']);
			for (const result of results) {
				expect(result).toMatchObject({
					status: 'catch_all',
					category: 'catch_all',
					reason: 'catch_all',
					smtp: { ...accepted(postfix.port), host: 'mx.catchall.test', catchAll: true },
				});
			}
			// Two addresses and the random probe, all accepted, no rejection logged.
			expect(parseDisconnects(log)).toEqual([expect.objectContaining({ ok: expect.objectContaining({ mail: 1, rcpt: 3 }) })]);
			expect(log).not.toContain('reject:');
		});

		withLog('a role address that exists is role_account; one that does not is invalid', async () => {
			const { results } = await verify(['info@pf.test', 'sales@pf.test']);
			expect(results[0]).toMatchObject({
				status: 'role_account',
				category: 'risky',
				reason: 'role_account',
				flags: { role: true },
				smtp: { ...accepted(postfix.port), catchAll: false },
			});
			expect(results[1]).toMatchObject({
				status: 'invalid',
				reason: 'mailbox_not_found',
				flags: { role: true },
				smtp: { code: 550, enhanced: '5.1.1' },
			});
		});

		withLog('a domain Postfix does not take mail for (Relay access denied) is unknown, never invalid', async () => {
			const { results, log } = await verify(['someone@elsewhere.test']);
			expect(results[0]).toMatchObject({
				status: 'unknown',
				category: 'unknown',
				reason: 'smtp_rejected',
				smtp: { host: 'mx.pf.test', code: 554, enhanced: '5.7.1', text: '<someone@elsewhere.test>: Relay access denied', tls: true },
			});
			expect(log).toContain('554 5.7.1 <someone@elsewhere.test>: Relay access denied');
		});

		withLog(
			`a batch over the recipient limit (${RECIPIENT_LIMIT}) gets a verdict for every address, in several transactions`,
			async () => {
				const existing = MAILBOXES.filter((user) => user !== 'info' && user !== 'postmaster').map((user) => `${user}@pf.test`);
				const unknown = ['nobody@pf.test', 'ghost@pf.test', 'zed@pf.test'];
				const catchAll = ['a@catchall.test', 'b@catchall.test', 'c@catchall.test', 'd@catchall.test'];
				// Interleaved, so that rejected and accepted recipients share transactions.
				const addresses = [
					...existing.slice(0, 3), unknown[0], ...existing.slice(3, 6), unknown[1], 'info@pf.test', ...existing.slice(6), unknown[2],
					...catchAll,
				];
				expect(existing.length + 1).toBeGreaterThan(2 * RECIPIENT_LIMIT);

				const { results, log, verifier: v } = await verify(addresses);
				const verdicts = Object.fromEntries(addresses.map((address, i) => [address, `${results[i].status}/${results[i].reason}`]));
				expect(verdicts).toEqual({
					...Object.fromEntries(existing.map((a) => [a, 'valid/accepted'])),
					...Object.fromEntries(unknown.map((a) => [a, 'invalid/mailbox_not_found'])),
					'info@pf.test': 'role_account/role_account',
					...Object.fromEntries(catchAll.map((a) => [a, 'catch_all/catch_all'])),
				});
				for (const [i, address] of addresses.entries()) {
					if (address.endsWith('@pf.test') && !unknown.includes(address)) {
						expect(results[i].smtp).toEqual({ ...accepted(postfix.port), catchAll: false });
					}
				}

				// Postfix took at most RECIPIENT_LIMIT recipients per transaction, so it took several: its
				// disconnect lines count the MAIL FROM and RCPT commands of each session.
				const sessions = parseDisconnects(log);
				const transactions = sessions.reduce((sum, s) => sum + (s.ok.mail ?? 0), 0);
				const rcptCommands = sessions.reduce((sum, s) => sum + (s.total.rcpt ?? 0), 0);
				// Accepted: 8 mailboxes at pf.test (info too), 4 addresses and the random probe at catchall.test.
				const acceptedRcpts = existing.length + 1 + catchAll.length + 1;
				// Rejected: the 3 unknown users and the random probe at pf.test.
				const rejectedRcpts = (log.match(/reject: RCPT from /g) ?? []).length;
				expect(rejectedRcpts).toBe(unknown.length + 1);
				expect(transactions).toBeGreaterThanOrEqual(
					Math.ceil((existing.length + 1) / RECIPIENT_LIMIT) + Math.ceil((catchAll.length + 1) / RECIPIENT_LIMIT),
				);
				// Every other RCPT got "452 4.5.3 Error: too many recipients" (not logged by Postfix): the
				// engine met the limit and sent those recipients again in later transactions.
				expect(rcptCommands - acceptedRcpts - rejectedRcpts).toBeGreaterThan(0);
				expect(v.summary.smtp).toMatchObject({ hostsConnected: 2, blockedHosts: [], port25Blocked: false });
			},
			60_000,
		);
	});
});
