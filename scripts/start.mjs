#!/usr/bin/env node
// `npm start`: a real n8n on http://localhost:5678 with this package installed the way users
// install community packages and the workflows in examples/ imported. Runs after `npm run build`.
// n8n version: LIST_HYGIENE_N8N_VERSION (default 1.123.50); port: N8N_PORT (default 5678);
// n8n's data (database, owner account, installed packages) lives in .n8n-home/n8n-<version>/.
import { spawn } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const require = createRequire(import.meta.url);
const runtime = require('./n8n-runtime.cjs');

const say = (message) => process.stderr.write(`[start] ${message}\n`);

async function prepare() {
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
	const examples = (await readdir(examplesDir)).filter((file) => file.endsWith('.json')).sort();
	if (examples.length > 0) {
		// The caller's own N8N_* settings apply to the import too (same database as `n8n start`).
		await runtime.importWorkflow(
			n8n,
			userFolder,
			examples.map((file) => join(examplesDir, file)),
			{ isolated: false, defaults: runtime.startEnvDefaults(n8n.version) },
		);
		say(`Imported ${examples.length} example workflow(s) from examples/: ${examples.join(', ')}`);
	}
	return { n8n, userFolder };
}

function banner(version, userFolder) {
	const url = `http://localhost:${process.env.N8N_PORT || 5678}`;
	return [
		'',
		'  ------------------------------------------------------------------------',
		`  n8n ${version} with n8n-nodes-list-hygiene is starting on ${url}`,
		'',
		`  1. Open ${url}`,
		'  2. First start only: create the local owner account (it stays on this machine).',
		'  3. Open the workflow "Verify a list of email addresses" and click Execute workflow.',
		'',
		'  The examples are re-imported on every start: duplicate one to keep your changes.',
		`  Data: ${relative(runtime.REPO_ROOT, userFolder)}/ (delete it to start afresh). Stop: Ctrl-C.`,
		'  ------------------------------------------------------------------------',
		'',
	].join('\n');
}

async function main() {
	const { n8n, userFolder } = await prepare();
	process.stderr.write(`${banner(n8n.version, userFolder)}\n`);

	const [command, args] = runtime.n8nCommand(n8n, ['start']);
	// Its own process group: a Ctrl-C in the terminal reaches n8n once, through us. n8n stops at
	// once on a second SIGINT or SIGTERM, so a second delivery would skip its clean shutdown.
	const child = spawn(command, args, {
		cwd: runtime.REPO_ROOT,
		env: runtime.n8nEnv(userFolder, { isolated: false, defaults: runtime.startEnvDefaults(n8n.version) }),
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

	child.once('error', (error) => {
		say(`Could not start n8n: ${error.message}`);
		process.exit(1);
	});
	child.once('exit', (code) => {
		clearInterval(watch);
		process.exit(code ?? (stopping ? 0 : 1));
	});
}

main().catch((error) => {
	say(error instanceof Error ? error.message : String(error));
	process.exit(1);
});
