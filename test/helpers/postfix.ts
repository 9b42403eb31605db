// A real Postfix (Debian's package) on loopback, configured and started by the test itself: its
// own configuration, queue and data directories in a temporary directory, smtpd on 127.0.0.1 at a
// free high port, virtual mailbox domains with a few mailboxes, catch-all domains, a recipient
// limit, opportunistic STARTTLS with a self-signed certificate generated at start, and its log in
// a file the test can read. Nothing under /etc/postfix is read or written (only Postfix's own
// read-only metadata there), and a system Postfix, if any, is left alone.
//
// Postfix must run as root (`postfix start` refuses otherwise). stop() ends every process of the
// instance, checked through /proc, and removes the temporary directory.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface PostfixOptions {
	/** myhostname: the name in the greeting and the certificate. */
	hostname: string;
	/** Virtual mailbox domains and their mailboxes (local parts). */
	mailboxes: Record<string, readonly string[]>;
	/** Catch-all domains: every local part is accepted and aliased to this existing mailbox. */
	catchAll?: Record<string, string>;
	/** smtpd_recipient_limit: accepted recipients per transaction before 452 4.5.3. */
	recipientLimit?: number;
	/** Extra main.cf settings, written last. */
	main?: Record<string, string>;
}

export interface DisconnectStats {
	/** The client as Postfix logs it, e.g. "unknown[127.0.0.1]". */
	client: string;
	/** Counters of the disconnect line: `ehlo`, `starttls`, `mail`, `rcpt`, `rset`, `quit`, `commands`. */
	ok: Record<string, number>;
	/** The totals for counters logged as "ok/total" (rcpt=3/5: 3 accepted of 5). */
	total: Record<string, number>;
	line: string;
}

export interface PostfixInstance {
	host: '127.0.0.1';
	port: number;
	/** Root of this instance's temporary files. */
	dir: string;
	configDir: string;
	/** Postfix's log (maillog_file) so far. */
	log(): string;
	/** A position in the log, to read only what came after it. */
	logMark(): number;
	logSince(mark: number): string;
	/** Waits until the log after `mark` satisfies `done` (postlogd writes asynchronously). */
	waitForLog(mark: number, done: (log: string) => boolean, timeoutMs?: number): Promise<string>;
	/** Process ids of this instance (found through MAIL_CONFIG in /proc/<pid>/environ). */
	processes(): number[];
	/** Stops Postfix, kills leftovers, removes the temporary directory. Safe to call twice. */
	stop(): Promise<void>;
}

export type PostfixAvailability = { ok: true; postfix: string; postmap: string; openssl: string } | { ok: false; reason: string };

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const CHILD_PATH = [...new Set([...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SYSTEM_PATH])].join(delimiter);

function which(command: string): string | undefined {
	for (const dir of CHILD_PATH.split(delimiter)) {
		const candidate = join(dir, command);
		try {
			if (statSync(candidate).isFile()) return candidate;
		} catch {
			// not here
		}
	}
	return undefined;
}

/** Whether this machine can run the suite: Postfix and OpenSSL installed, and we are root. */
export function postfixAvailability(): PostfixAvailability {
	const postfix = which('postfix');
	const postmap = which('postmap');
	const openssl = which('openssl');
	const missing = [!postfix && 'postfix', !postmap && 'postmap', !openssl && 'openssl'].filter(Boolean);
	if (missing.length > 0) {
		return {
			ok: false,
			reason: `${missing.join(', ')} not found on PATH nor in ${SYSTEM_PATH.join(', ')}; install Debian's postfix and openssl packages (.ci/run does it before the tests)`,
		};
	}
	if (process.getuid?.() !== 0) return { ok: false, reason: 'Postfix can only be started by root, and this test runs as a normal user' };
	return { ok: true, postfix: postfix!, postmap: postmap!, openssl: openssl! };
}

/** Reads a disconnect line's counters: `ehlo=1 starttls=1 mail=2 rcpt=3/5 rset=1 quit=1 commands=9/11`. */
export function parseDisconnects(log: string): DisconnectStats[] {
	const stats: DisconnectStats[] = [];
	for (const line of log.split('\n')) {
		const match = /\/smtpd\[\d+\]: disconnect from (\S+) (.*)$/.exec(line);
		if (!match) continue;
		const ok: Record<string, number> = {};
		const total: Record<string, number> = {};
		for (const counter of match[2].matchAll(/(\w+)=(\d+)(?:\/(\d+))?/g)) {
			ok[counter[1]] = Number(counter[2]);
			total[counter[1]] = Number(counter[3] ?? counter[2]);
		}
		stats.push({ client: match[1], ok, total, line });
	}
	return stats;
}

function run(file: string, args: string[], timeoutMs = 30_000): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile(file, args, { timeout: timeoutMs, env: { ...process.env, PATH: CHILD_PATH, LANG: 'C' } }, (error, stdout, stderr) => {
			if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`.trim()));
			else resolve(`${stdout}${stderr}`);
		});
	});
}

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	const address = server.address();
	await new Promise<void>((resolve) => server.close(() => resolve()));
	if (!address || typeof address === 'string') throw new Error('could not find a free port');
	return address.port;
}

/** Resolves with the greeting once something on the port answers with 220. */
function greeting(port: number, timeoutMs: number): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = connect(port, '127.0.0.1');
		let text = '';
		const timer = setTimeout(() => finish(new Error(`no greeting on 127.0.0.1:${port} within ${timeoutMs} ms`)), timeoutMs);
		const finish = (error?: Error) => {
			clearTimeout(timer);
			socket.destroy();
			if (error) reject(error);
			else resolve(text.trim());
		};
		socket.on('data', (chunk) => {
			text += chunk.toString('latin1');
			if (/^220 .*\r\n/m.test(text)) {
				socket.write('QUIT\r\n');
				finish();
			}
		});
		socket.on('error', (error) => finish(error));
		socket.on('close', () => finish(new Error(`connection to 127.0.0.1:${port} closed before a greeting: ${JSON.stringify(text)}`)));
	});
}

/** Live (not zombie) processes whose environment names this configuration directory. */
function processesOf(configDir: string): number[] {
	const wanted = `MAIL_CONFIG=${configDir}`;
	const pids: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
			if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
			if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(wanted)) pids.push(Number(entry));
		} catch {
			// gone meanwhile, or not ours to read
		}
	}
	return pids;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function mainCf(options: PostfixOptions, paths: Record<'dir' | 'configDir' | 'queue' | 'data' | 'maillog' | 'mail', string>, tag: string): string {
	const postfixUser = execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim();
	const postfixGroup = execFileSync('id', ['-g', 'postfix'], { encoding: 'utf8' }).trim();
	const settings: Record<string, string> = {
		compatibility_level: '3.6',
		// This instance's own directories: nothing is shared with a system Postfix.
		queue_directory: paths.queue,
		data_directory: paths.data,
		syslog_name: tag,
		maillog_file: paths.maillog,
		maillog_file_prefixes: paths.dir,
		myhostname: options.hostname,
		mydomain: options.hostname.replace(/^[^.]+\./, ''),
		myorigin: '$myhostname',
		// No local delivery, no aliases, no relaying for anyone (loopback is not in mynetworks).
		mydestination: '',
		alias_maps: '',
		alias_database: '',
		local_recipient_maps: '',
		mynetworks: '192.0.2.1/32',
		relay_domains: '',
		smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
		smtpd_reject_unlisted_recipient: 'yes',
		inet_interfaces: '127.0.0.1',
		inet_protocols: 'ipv4',
		smtpd_banner: '$myhostname ESMTP',
		// 127.0.0.1 has no PTR in the test's DNS; the system resolver is not asked.
		smtpd_peername_lookup: 'no',
		biff: 'no',
		virtual_mailbox_domains: Object.keys(options.mailboxes).join(', '),
		virtual_mailbox_maps: `hash:${join(paths.configDir, 'vmailbox')}`,
		virtual_mailbox_base: paths.mail,
		virtual_uid_maps: `static:${postfixUser}`,
		virtual_gid_maps: `static:${postfixGroup}`,
		virtual_alias_domains: Object.keys(options.catchAll ?? {}).join(', '),
		virtual_alias_maps: `hash:${join(paths.configDir, 'virtual')}`,
		smtpd_recipient_limit: String(options.recipientLimit ?? 1000),
		smtpd_tls_security_level: 'may',
		smtpd_tls_cert_file: join(paths.configDir, 'cert.pem'),
		smtpd_tls_key_file: join(paths.configDir, 'key.pem'),
		smtpd_tls_loglevel: '1',
		...options.main,
	};
	return Object.entries(settings)
		.map(([name, value]) => `${name} = ${value}\n`)
		.join('');
}

// Every service runs outside a chroot (the temporary queue directory has no copy of /etc).
const MASTER_CF = (port: number) => `# service type private unpriv chroot wakeup maxproc command
127.0.0.1:${port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;

/** Configures and starts a Postfix instance; throws (with its log) when it does not come up. */
export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
	const tools = postfixAvailability();
	if (!tools.ok) throw new Error(`Postfix cannot run here: ${tools.reason}`);

	const dir = mkdtempSync(join(tmpdir(), 'lh-postfix-'));
	// Postfix's daemons drop to the postfix user and must reach the directories below.
	chmodSync(dir, 0o755);
	const paths = {
		dir,
		configDir: join(dir, 'etc'),
		queue: join(dir, 'queue'),
		// Created by `postfix check` with the owner Postfix wants (the postfix user).
		data: join(dir, 'data'),
		maillog: join(dir, 'maillog'),
		mail: join(dir, 'mail'),
	};
	// Postfix wants a root-owned, not group- or world-writable configuration and queue directory.
	mkdirSync(paths.configDir, { mode: 0o755 });
	mkdirSync(paths.queue, { mode: 0o755 });
	mkdirSync(paths.mail, { mode: 0o755 });
	const tag = `postfix-lh-test-${process.pid}`;
	const postfix = (...args: string[]) => run(tools.postfix, ['-c', paths.configDir, ...args]);
	const readLog = () => (existsSync(paths.maillog) ? readFileSync(paths.maillog, 'utf8') : '');
	const logMark = () => (existsSync(paths.maillog) ? statSync(paths.maillog).size : 0);
	const logSince = (mark: number) => (existsSync(paths.maillog) ? readFileSync(paths.maillog).subarray(mark).toString('utf8') : '');
	const waitForLog = async (mark: number, done: (log: string) => boolean, timeoutMs = 5_000) => {
		for (let waited = 0; waited < timeoutMs && !done(logSince(mark)); waited += 50) await sleep(50);
		return logSince(mark);
	};

	let stopped = false;
	const killAll = () => {
		for (const pid of processesOf(paths.configDir)) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {
				// already gone
			}
		}
	};
	// If the test process ends without stop() (a crash, a kill by the runner), Postfix goes with it.
	const onExit = () => {
		if (stopped) return;
		killAll();
		rmSync(dir, { recursive: true, force: true });
	};
	process.once('exit', onExit);

	const stop = async () => {
		if (stopped) return;
		stopped = true;
		process.removeListener('exit', onExit);
		try {
			if (processesOf(paths.configDir).length > 0) {
				await postfix('stop').catch(() => undefined);
				for (let waited = 0; waited < 10_000 && processesOf(paths.configDir).length > 0; waited += 100) await sleep(100);
			}
			killAll();
			for (let waited = 0; waited < 5_000 && processesOf(paths.configDir).length > 0; waited += 100) await sleep(100);
			const left = processesOf(paths.configDir);
			if (left.length > 0) throw new Error(`Postfix processes survived stop and SIGKILL: ${left.join(', ')}`);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	};

	try {
		// A self-signed certificate for STARTTLS (P-256: quick to make, fine for any TLS client).
		await run(tools.openssl, [
			'req', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-days', '2',
			'-subj', `/CN=${options.hostname}`, '-keyout', join(paths.configDir, 'key.pem'), '-out', join(paths.configDir, 'cert.pem'),
		]);
		chmodSync(join(paths.configDir, 'key.pem'), 0o600);

		const vmailbox = Object.entries(options.mailboxes).flatMap(([domain, users]) =>
			users.map((user) => `${user}@${domain} ${domain}/${user}/\n`),
		);
		writeFileSync(join(paths.configDir, 'vmailbox'), vmailbox.join(''));
		const aliases = Object.entries(options.catchAll ?? {}).map(([domain, target]) => `@${domain} ${target}\n`);
		writeFileSync(join(paths.configDir, 'virtual'), aliases.join(''));
		writeFileSync(join(paths.configDir, 'main.cf'), mainCf(options, paths, tag));
		// postmap reads main.cf (with -c) for its defaults.
		await run(tools.postmap, ['-c', paths.configDir, `hash:${join(paths.configDir, 'vmailbox')}`, `hash:${join(paths.configDir, 'virtual')}`]);

		let port = 0;
		for (let attempt = 1; ; attempt++) {
			port = await freePort();
			writeFileSync(join(paths.configDir, 'master.cf'), MASTER_CF(port));
			await postfix('check');
			try {
				await postfix('start');
				break;
			} catch (error) {
				// Another process took the port between our probe and Postfix's bind: try another one.
				const taken = /address already in use/i.test(readLog());
				await postfix('stop').catch(() => undefined);
				if (!taken || attempt >= 3) throw error;
			}
		}
		const beforeProbe = logMark();
		await greeting(port, 10_000);
		// Postfix logs asynchronously (through postlogd): let the end of our readiness probe reach the
		// log before any test reads it.
		await waitForLog(beforeProbe, (log) => parseDisconnects(log).length > 0);

		return {
			host: '127.0.0.1',
			port,
			dir,
			configDir: paths.configDir,
			log: readLog,
			logMark,
			logSince,
			waitForLog,
			processes: () => processesOf(paths.configDir),
			stop,
		};
	} catch (error) {
		const log = readLog();
		await stop().catch(() => undefined);
		if (error instanceof Error && log) error.message += `\n\nPostfix log:\n${log}`;
		throw error;
	}
}
