#!/usr/bin/env node
// `npm start`: a real n8n on http://localhost:5678 with this package installed the way users
// install community packages and the workflows in examples/ imported. Runs after `npm run build`.
// n8n version: LIST_HYGIENE_N8N_VERSION, a version or a pattern such as 2.41.x (default 1.123.50;
// n8n 2.36 and later run on a pinned Node 24 from the cache); port: N8N_PORT (default 5678);
// n8n's data (database, owner account, installed packages) lives in .n8n-home/n8n-<version>/.
// The sandbox (a fake Mailchimp and the DNS and mail servers of its domains, dist/src/sandbox) runs
// next to n8n on ports LIST_HYGIENE_SANDBOX_PORT (default 5690) to +2; its credential and the
// "Try it" workflow are imported on every start. LIST_HYGIENE_SANDBOX=0 or --no-sandbox turns it off.
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const require = createRequire(import.meta.url);
const runtime = require('./n8n-runtime.cjs');

const say = (message) => process.stderr.write(`[start] ${message}\n`);

const TRY_IT_FILE = 'try-it-sandbox.json';
const ARRIVAL_FILE = 'verify-new-subscribers-on-arrival.json';

function sandboxWanted() {
	const unknown = process.argv.slice(2).filter((arg) => arg !== '--no-sandbox');
	if (unknown.length > 0) throw new Error(`Unknown option ${unknown.join(' ')}. The only option is --no-sandbox (npm start -- --no-sandbox).`);
	return !process.argv.includes('--no-sandbox') && !/^(0|false|no|off)$/i.test(process.env.LIST_HYGIENE_SANDBOX ?? '');
}

/** The sandbox from the build: a fake Mailchimp, DNS and SMTP on loopback. */
async function startSandbox() {
	const sandbox = require('../dist/src/sandbox/index.js');
	const env = process.env[sandbox.SANDBOX_PORT_ENV];
	const port = env ? Number(env) : sandbox.DEFAULT_SANDBOX_PORT;
	if (!Number.isInteger(port) || port < 1 || port > 65533) {
		throw new Error(`${sandbox.SANDBOX_PORT_ENV} must be a port number from 1 to 65533, not "${env}".`);
	}
	try {
		return await sandbox.startSandbox({ port });
	} catch (error) {
		if (error.name !== 'SandboxPortError') throw error;
		throw new Error(`${error.message} Or start without the sandbox: LIST_HYGIENE_SANDBOX=0 npm start.`);
	}
}

async function prepare(sandbox) {
	const n8n = await runtime.ensureN8n(runtime.DEFAULT_N8N_VERSION, { log: say });
	// One data folder per n8n version: a database migrated by 2.x cannot go back to 1.x.
	const userFolder = join(runtime.REPO_ROOT, '.n8n-home', `n8n-${n8n.version}`);
	say(`n8n ${n8n.version} from ${n8n.dir}; data in ${userFolder}`);

	const tgz = await runtime.packPackage();
	try {
		const installed = await runtime.installPackage(userFolder, tgz);
		say(`Installed ${installed.name}@${installed.version} into ${installed.packageDir}`);
	} finally {
		await rm(dirname(tgz), { recursive: true, force: true });
	}

	const examplesDir = join(runtime.REPO_ROOT, 'examples');
	// The caller's own N8N_* settings apply to the imports too (same database as `n8n start`).
	const importOptions = { isolated: false, defaults: runtime.startEnvDefaults(n8n.version) };
	// The Try-it workflow runs against the sandbox only: imported with its ports and credential.
	const examples = (await readdir(examplesDir)).filter((file) => file.endsWith('.json') && file !== TRY_IT_FILE).sort();
	const workflows = examples.map((file) => join(examplesDir, file));
	if (sandbox) {
		await runtime.importCredentials(n8n, userFolder, sandbox.credential, importOptions);
		const { sandboxWorkflow, ARRIVAL_WORKFLOW_ID, ARRIVAL_WORKFLOW_NAME, NEWSLETTER_ID } = require('../dist/src/sandbox/index.js');
		const template = JSON.parse(await readFile(join(examplesDir, TRY_IT_FILE), 'utf8'));
		workflows.unshift(sandboxWorkflow(template, sandbox));
		examples.unshift(TRY_IT_FILE);
		// Beside the on-arrival example, a copy that watches the sandbox newsletter.
		const arrival = JSON.parse(await readFile(join(examplesDir, ARRIVAL_FILE), 'utf8'));
		workflows.push(sandboxWorkflow(arrival, sandbox, { id: ARRIVAL_WORKFLOW_ID, name: ARRIVAL_WORKFLOW_NAME, listId: NEWSLETTER_ID }));
		examples.push(`${ARRIVAL_FILE} (and its sandbox copy)`);
		say(`Imported the credential "${sandbox.credential.name}"`);
	}
	if (workflows.length > 0) {
		await runtime.importWorkflow(n8n, userFolder, workflows, importOptions);
		say(`Imported ${examples.length} example workflow(s) from examples/: ${examples.join(', ')}`);
	}
	return { n8n, userFolder };
}

function banner(version, userFolder, sandbox) {
	const url = `http://localhost:${process.env.N8N_PORT || 5678}`;
	const sandboxLines = sandbox
		? [
				'  3. Open the workflow "Try it: clean the sandbox audience" and click Execute workflow:',
				'     it verifies 300 contacts and shows the clean-up plan. Then set Mode to',
				'     Clean Automatically in Clean Email List and execute again.',
				'  4. To see a sign-up verified on arrival, activate "Try it: verify new sandbox',
				'     subscribers on arrival", then sign someone up (within a minute their address',
				'     is verified, and a bad one unsubscribed):',
				`     ${require('../dist/src/sandbox/index.js').subscribeCommand(sandbox, 'nobody@northwind.test')}`,
				'',
				`  The sandbox: a pretend Mailchimp account (credential "${sandbox.credential.name}")`,
				`  with ${sandbox.audiences.map((a) => `"${a.name}"`).join(' and ')}, and the DNS and mail servers of`,
				`  their domains, on this machine (API ${sandbox.apiUrl}, DNS ${sandbox.dns.address},`,
				`  SMTP port ${sandbox.smtp.port}). It lives in memory: every start begins afresh.`,
				'  Without it: LIST_HYGIENE_SANDBOX=0 npm start (or npm start -- --no-sandbox).',
			]
		: ['  3. Open the workflow "Verify a list of email addresses" and click Execute workflow.'];
	return [
		'',
		'  ------------------------------------------------------------------------',
		`  n8n ${version} with n8n-nodes-list-hygiene is starting on ${url}`,
		'',
		`  1. Open ${url}`,
		'  2. First start only: create the local owner account (it stays on this machine).',
		...sandboxLines,
		'',
		'  The examples are re-imported on every start: duplicate one to keep your changes.',
		`  Data: ${relative(runtime.REPO_ROOT, userFolder)}/ (delete it to start afresh). Stop: Ctrl-C.`,
		'  ------------------------------------------------------------------------',
		'',
	].join('\n');
}

async function main() {
	const sandbox = sandboxWanted() ? await startSandbox() : undefined;
	let n8n;
	let userFolder;
	try {
		({ n8n, userFolder } = await prepare(sandbox));
	} catch (error) {
		await sandbox?.close();
		throw error;
	}
	process.stderr.write(`${banner(n8n.version, userFolder, sandbox)}\n`);

	const [command, args] = runtime.n8nCommand(n8n, ['start']);
	// Its own process group: a Ctrl-C in the terminal reaches n8n once, through us. n8n stops at
	// once on a second SIGINT or SIGTERM, so a second delivery would skip its clean shutdown.
	const child = spawn(command, args, {
		cwd: runtime.REPO_ROOT,
		env: runtime.n8nEnv(userFolder, { isolated: false, defaults: runtime.startEnvDefaults(n8n.version), runtime: n8n }),
		stdio: 'inherit',
		detached: process.platform !== 'win32',
	});

	let stopping = false;
	const forward = (signal) => {
		stopping = true;
		if (child.exitCode === null && child.signalCode === null) child.kill(signal);
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => forward(signal));

	// If whoever started us goes away without a signal reaching us, do not leave n8n running.
	const parent = process.ppid;
	const watch = setInterval(() => {
		if (process.ppid !== parent) forward('SIGTERM');
	}, 2000);
	watch.unref();

	// The sandbox stops with n8n, whichever way n8n ends.
	const exit = (code) => {
		clearInterval(watch);
		Promise.resolve(sandbox?.close()).finally(() => process.exit(code));
	};

	child.once('error', (error) => {
		say(`Could not start n8n: ${error.message}`);
		exit(1);
	});
	child.once('exit', (code) => exit(code ?? (stopping ? 0 : 1)));
}

main().catch((error) => {
	say(error instanceof Error ? error.message : String(error));
	process.exit(1);
});
