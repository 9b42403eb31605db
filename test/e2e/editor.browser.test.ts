// The editor, checked in a real browser (each pinned n8n version): n8n started with the package,
// the sandbox's credential and the Try-it workflow imported as `npm start` imports them, the owner
// created through the REST API, then Debian's headless Chromium drives the editor: the node panel
// finds every node of the package by name and by an alias and loads its icon; the Clean Email List
// panel shows the five categories with their defaults; the list picker lists the sandbox audiences
// with their member counts; the credential's connection test succeeds against the sandbox; the
// Try-it workflow runs from the editor and the canvas shows the item counts the execution has.
// Screenshots: test-results/editor/<version>/. LIST_HYGIENE_UPDATE_SCREENSHOTS=1 also copies the
// workflow and the Clean Email List panel of the default version into docs/images/ for the README.
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import type { N8nRuntime, WorkflowJson } from '../../scripts/n8n-runtime.cjs';
import { startSandbox, sandboxWorkflow, TRY_IT_WORKFLOW_ID, type Sandbox } from '../../src/sandbox';
import { chromiumAvailability, Editor, poll } from '../helpers/browser';
import { e2eSuite, SETUP_TIMEOUT_MS } from '../helpers/e2e';
import { startN8nServer, type N8nServer } from '../helpers/n8nServer';
import { whenAvailable } from '../helpers/requirement';

const PACKAGE = runtime.PACKAGE_NAME;
const TRY_IT_FILE = join(runtime.REPO_ROOT, 'examples', 'try-it-sandbox.json');
const SCREENSHOTS = join(runtime.REPO_ROOT, 'test-results', 'editor');
const DOCS_IMAGES = join(runtime.REPO_ROOT, 'docs', 'images');
const STEP_TIMEOUT_MS = 4 * 60_000;

interface PackageNode {
	type: string;
	displayName: string;
	trigger: boolean;
	aliases: string[];
}

/** The package's nodes as n8n serves them (display name, group), with the aliases of their codex files. */
async function packageNodes(server: N8nServer): Promise<PackageNode[]> {
	const response = await server.rest.request('GET', '/types/nodes.json');
	if (response.status !== 200 || !Array.isArray(response.body)) throw new Error(`GET /types/nodes.json answered ${response.status}`);
	const served = (response.body as Array<{ name: string; displayName: string; group: string[] }>).filter(
		// n8n adds an "… Tool" variant of every usableAsTool node for AI agents; the panel lists those elsewhere.
		(node) => node.name.startsWith(`${PACKAGE}.`) && !node.name.endsWith('Tool'),
	);
	const codex = new Map<string, string[]>();
	const nodesDir = join(runtime.REPO_ROOT, 'nodes');
	for (const folder of await readdir(nodesDir)) {
		const files = (await readdir(join(nodesDir, folder))).filter((file) => file.endsWith('.node.json'));
		for (const file of files) {
			const json = JSON.parse(await readFile(join(nodesDir, folder, file), 'utf8')) as { node: string; alias?: string[] };
			codex.set(json.node, json.alias ?? []);
		}
	}
	return served.map((node) => ({
		type: node.name,
		displayName: node.displayName,
		trigger: node.group.includes('trigger'),
		aliases: codex.get(node.name) ?? [],
	}));
}

/** The node n8n's panel shows a trigger under: "X Trigger" sits inside X's entry, with X's aliases. */
const panelEntryOf = (node: PackageNode, all: PackageNode[]) => all.find((other) => node.trigger && other.type === node.type.replace(/Trigger$/, '') && other !== node) ?? node;

/**
 * An alias only this node's panel entry has, and not a part of its name: finding the node by it
 * proves the alias works. A trigger merged into its base node's entry is searched by an alias the
 * two share (the entry carries the base node's codex).
 */
function distinctiveAlias(node: PackageNode, all: PackageNode[]): string | undefined {
	const name = node.displayName.toLowerCase();
	const entry = panelEntryOf(node, all);
	const own = entry === node ? node.aliases : node.aliases.filter((alias) => entry.aliases.includes(alias));
	const others = new Set(all.filter((other) => other !== node && other !== entry).flatMap((other) => other.aliases.map((alias) => alias.toLowerCase())));
	return own.find((alias) => {
		const lower = alias.toLowerCase();
		return !others.has(lower) && !name.includes(lower) && !lower.includes(name);
	});
}

interface ExecutionRecord {
	id: string;
	status?: string;
	finished?: boolean;
	workflowId?: string;
}

/** The newest execution of a workflow, read with n8n's own `flatted` (executions are stored flattened). */
async function lastExecution(server: N8nServer, n8n: N8nRuntime, workflowId: string) {
	const filter = encodeURIComponent(JSON.stringify({ workflowId }));
	const list = await server.rest.get<{ results: ExecutionRecord[] }>(`/rest/executions?filter=${filter}&limit=1`);
	const newest = list.results[0];
	if (!newest) throw new Error(`n8n has no execution of the workflow ${workflowId}`);
	const execution = await server.rest.get<{ data: string; status?: string }>(`/rest/executions/${newest.id}`);
	const { parse } = createRequire(n8n.bin)('flatted') as { parse(text: string): unknown };
	const data = parse(execution.data) as {
		resultData: { runData: Record<string, Array<{ data?: { main?: Array<unknown[] | null> } }>>; error?: { message?: string } };
	};
	/** Items per output of each node's last run. */
	const outputs = Object.fromEntries(
		Object.entries(data.resultData.runData).map(([node, runs]) => [node, (runs[runs.length - 1].data?.main ?? []).map((items) => items?.length ?? 0)]),
	);
	return { id: newest.id, status: execution.status ?? newest.status, error: data.resultData.error, outputs };
}

/** The workflow's first node of one of this package's types (the Try-it workflow's names may change). */
function nodeOfType(workflow: WorkflowJson, name: string): WorkflowJson['nodes'][number] {
	const node = workflow.nodes.find((n) => n.type === `${PACKAGE}.${name}`);
	if (!node) throw new Error(`The workflow "${workflow.name}" has no ${name} node`);
	return node;
}

type Connections = Record<string, { main?: Array<Array<{ node: string }> | null> }>;

const { timed, prepare } = e2eSuite();
// Without Chromium the suite is skipped, except in CI (CI=true), where it fails.
whenAvailable('editor suite', chromiumAvailability(), () => {
	describe.each(runtime.N8N_VERSIONS.map((version) => [version]))('The editor of n8n %s in Chromium', (version) => {
		let n8n: N8nRuntime;
		let sandbox: Sandbox;
		let server: N8nServer;
		let editor: Editor;
		let workflow: WorkflowJson;
		const shotsDir = join(SCREENSHOTS, version);
		const shots: Record<string, string> = {};

		beforeAll(async () => {
			await rm(shotsDir, { recursive: true, force: true });
			sandbox = await startSandbox({ port: 0 });
			let userFolder: string;
			({ n8n, userFolder } = await prepare(version, 'editor'));
			const template = JSON.parse(await readFile(TRY_IT_FILE, 'utf8')) as WorkflowJson;
			workflow = sandboxWorkflow(template, sandbox);
			await timed(`[${version}] import`, async () => {
				await runtime.importCredentials(n8n, userFolder, sandbox.credential);
				await runtime.importWorkflow(n8n, userFolder, workflow);
			});
			server = await timed(`[${version}] n8n start`, () => startN8nServer(n8n, userFolder, { logFile: join(userFolder, 'n8n-start.log') }));
			editor = await Editor.open(server, shotsDir);
			// One full load of the editor (the slow part: n8n's bundles and node types); the rest navigates inside it.
			await timed(`[${version}] editor load`, () =>
				editor.step('load', 'the Credentials list with the sandbox credential', () =>
					editor.goto('/home/credentials', editor.page.getByTestId('resources-list-item').filter({ hasText: sandbox.credential.name })),
				),
			);
		}, SETUP_TIMEOUT_MS);

		afterAll(async () => {
			await editor?.close();
			await server?.stop();
			await sandbox?.close();
			if (shots.workflow && shots.panel && version === runtime.DEFAULT_N8N_VERSION && process.env.LIST_HYGIENE_UPDATE_SCREENSHOTS === '1') {
				await mkdir(DOCS_IMAGES, { recursive: true });
				await copyFile(shots.workflow, join(DOCS_IMAGES, 'editor-try-it-workflow.png'));
				await copyFile(shots.panel, join(DOCS_IMAGES, 'editor-clean-email-list.png'));
			}
		}, 60_000);

		test('the sandbox credential\'s connection test succeeds (Credentials > the credential > Retry)', async () => {
			await timed(`[${version}] credential test`, () =>
				editor.step('credential', `"Connection tested successfully" for "${sandbox.credential.name}" and a GET /3.0/ping at the sandbox`, async () => {
					const pings = () => sandbox.mailchimp.requests.filter((r) => r.path === '/3.0/ping' && r.authorized).length;
					const before = pings();
					const modal = await editor.openCredential(sandbox.credential.name);
					const success = modal.getByTestId(editor.ui.credentialTestSuccess);
					await success.waitFor();
					// Test again on demand: the banner must come back from a new request, not a cached result.
					await modal.getByRole('button', { name: /Retry/i }).click();
					await poll(async () => pings(), (n) => n >= before + 2, 'the connection test to ask the sandbox (GET /3.0/ping) on opening and on Retry', 20_000);
					await poll(() => success.innerText(), (text) => /Connection tested successfully/i.test(text), 'the success banner after Retry', 20_000);
					shots.credential = await editor.screenshot('credential-test');
					await editor.page.keyboard.press('Escape');
					await modal.waitFor({ state: 'hidden' });
				}),
			);
		}, STEP_TIMEOUT_MS);

		test('the node panel finds every node by its name and by an alias, with its icon', async () => {
			await editor.step('open the workflow', `the workflow "${workflow.name}" on the canvas`, async () => {
				await editor.page.getByTestId('tab-WorkflowsView').click();
				await editor.page.getByTestId('workflow-card-name').filter({ hasText: workflow.name }).first().click();
				await editor.canvasNode(nodeOfType(workflow, 'cleanEmailList').name).waitFor({ timeout: 60_000 });
				await editor.dismissModals();
			});
			const nodes = await packageNodes(server);
			// Every node package.json declares is served by n8n (dist/nodes/CleanEmailList/… -> cleanEmailList).
			const manifest = JSON.parse(await readFile(join(runtime.REPO_ROOT, 'package.json'), 'utf8')) as { n8n: { nodes: string[] } };
			const declared = manifest.n8n.nodes.map((file) => {
				const base = file.split('/').pop()!.replace(/\.node\.js$/, '');
				return `${PACKAGE}.${base[0].toLowerCase()}${base.slice(1)}`;
			});
			expect(nodes.map((node) => node.type).sort()).toEqual(declared.sort());
			const found: string[] = [];
			await timed(`[${version}] node panel`, async () => {
				for (const node of nodes) {
					const alias = distinctiveAlias(node, nodes);
					for (const query of [node.displayName, alias]) {
						if (query === undefined) throw new Error(`${node.type}: its codex has no alias of its own to search for (aliases: ${node.aliases.join(', ') || 'none'})`);
						await editor.step(`panel ${query}`, `the ${node.trigger ? 'trigger' : 'node'} panel to list "${node.displayName}" for "${query}", with its icon`, async () => {
							const view = node.trigger ? 'trigger' : 'regular';
							const items = await editor.searchNodePanel(query, view);
							// n8n lists "X Trigger" under X's entry (X's events and actions): either type counts.
							const entry = panelEntryOf(node, nodes);
							const item = items.find((i) => i.key === node.type) ?? items.find((i) => i.key === entry.type);
							if (!item) throw new Error(`"${query}" found ${items.map((i) => `${i.name} (${i.key})`).join(', ') || 'nothing'}`);
							if (item.key !== node.type) {
								// ... and the entry found must offer the trigger itself.
								const inside = await editor.panelEntryActions(query, item.key, view);
								if (!inside.some((i) => i.type === node.type)) {
									throw new Error(`the entry "${item.name}" lists ${inside.map((i) => `${i.name} (${i.type})`).join(', ') || 'nothing'}, not ${node.type}`);
								}
							}
							if (!item.iconSrc) throw new Error(`"${item.name}" shows no icon image`);
							const icon = await editor.imageStatus(item.iconSrc);
							if (!item.iconLoaded || icon.status !== 200 || !/svg|png/.test(icon.contentType)) {
								throw new Error(`the icon ${item.iconSrc} of "${item.name}" did not load (decoded: ${item.iconLoaded}, HTTP ${icon.status} ${icon.contentType})`);
							}
							found.push(`${query} -> ${item.name}`);
						});
					}
				}
				shots.panel_search = await editor.screenshot('node-panel');
				await editor.closeNodePanel();
			});
			expect(found).toHaveLength(nodes.length * 2);
		}, STEP_TIMEOUT_MS);

		test('the Try-it workflow runs from the editor and the canvas shows its items', async () => {
			const execution = await timed(`[${version}] run from the editor`, () =>
				editor.step('run', 'the run to finish with an item count on every connection', async () => {
					await editor.executeWorkflow();
					const connections = workflow.connections as Connections;
					const wanted = Object.values(connections).flatMap((outputs) => (outputs.main ?? []).flatMap((targets) => targets ?? [])).length;
					await poll(
						async () => (await editor.canvasCounts()).edges.filter((edge) => edge.items !== undefined).length,
						(labelled) => labelled === wanted,
						`item counts on all ${wanted} connections`,
						3 * 60_000,
						1000,
					);
					return poll(
						() => lastExecution(server, n8n, TRY_IT_WORKFLOW_ID),
						(last) => !['new', 'running', 'waiting'].includes(String(last.status)),
						'the execution to be finished in the REST API',
						60_000,
					);
				}),
			);
			expect([execution.status, execution.error?.message]).toEqual(['success', undefined]);

			const counts = await editor.canvasCounts();
			await editor.page.mouse.move(5, 450); // no tooltip in the picture
			shots.workflow = await editor.screenshot('workflow-run');
			// What the canvas shows on each connection is what the execution put on that output.
			const connections = workflow.connections as Connections;
			const expectedEdges = Object.entries(connections).flatMap(([source, outputs]) =>
				(outputs.main ?? []).flatMap((targets, index) => (targets ?? []).map((target) => ({ source, target: target.node, items: execution.outputs[source]?.[index] }))),
			);
			const shownEdges = counts.edges.map(({ source, target, items }) => ({ source, target, items }));
			expect(shownEdges.sort((a, b) => a.source.localeCompare(b.source))).toEqual(expectedEdges.sort((a, b) => a.source.localeCompare(b.source)));
			// ... and on outputs with nothing connected (Clean Email List's Contacts, See the result).
			const connected = new Set(Object.entries(connections).flatMap(([source, outputs]) => (outputs.main ?? []).map((targets, index) => (targets?.length ? `${source}/${index}` : ''))));
			const expectedOpen = Object.entries(execution.outputs)
				.flatMap(([node, outputs]) => outputs.map((items, index) => ({ node, handle: `outputs/main/${index}`, items, key: `${node}/${index}` })))
				.filter((output) => !connected.has(output.key) && output.items > 0)
				.map(({ node, handle, items }) => ({ node, handle, items }));
			const shownOpen = counts.outputs.filter((output) => output.items !== undefined).map(({ node, handle, items }) => ({ node, handle, items }));
			expect(shownOpen).toEqual(expect.arrayContaining(expectedOpen));
			expect(shownOpen).toHaveLength(expectedOpen.length);
			// The sandbox audience is read whole: every member went through Verify Email.
			const listId = (nodeOfType(workflow, 'emailList').parameters.listId as { value: string }).value;
			const verify = nodeOfType(workflow, 'verifyEmail').name;
			expect(execution.outputs[verify]?.[0]).toBe(sandbox.mailchimp.state.audiences.get(listId)?.members.size);
		}, STEP_TIMEOUT_MS);

		test('the Clean Email List panel shows the five categories with their defaults', async () => {
			const shown = await editor.step('Clean Email List panel', 'Invalid on/Unsubscribe, Disposable on/Delete, Catch-All, Unknown and Risky off/Keep', async () => {
				await editor.openNode(nodeOfType(workflow, 'cleanEmailList').name);
				const categories = [
					['Invalid', 'invalid'],
					['Disposable', 'disposable'],
					['Catch-All', 'catch_all'],
					['Unknown', 'unknown'],
					['Risky', 'risky'],
				] as const;
				const rows: Array<[string, string, string]> = [];
				for (const [label, key] of categories) {
					if (!(await editor.page.getByTestId('node-parameters').getByText(`Act on ${label}`, { exact: true }).isVisible())) {
						throw new Error(`no "Act on ${label}" in the panel`);
					}
					const on = await editor.switchState(`${key}Enabled`);
					if (on === undefined) throw new Error(`"Act on ${label}" has no switch`);
					rows.push([label, on ? 'on' : 'off', (await editor.selectedOption(`${key}Action`)) ?? '(hidden)']);
				}
				shots.panel = await editor.screenshot('clean-email-list-panel');
				// An action shows only while its category is on: switch the others on to read their defaults, then back.
				for (const row of rows.filter(([, on]) => on === 'off')) {
					const key = categories.find(([label]) => label === row[0])![1];
					await editor.toggle(`${key}Enabled`);
					// The panel re-renders after the switch: give the action a moment to appear (it may not).
					await editor.parameter(`${key}Action`).waitFor({ timeout: 5000 }).catch(() => undefined);
					row[2] = `${row[2]} -> ${(await editor.selectedOption(`${key}Action`)) ?? '(hidden)'}`;
					await editor.toggle(`${key}Enabled`);
					await editor.parameter(`${key}Action`).waitFor({ state: 'hidden', timeout: 5000 });
				}
				await editor.closeNode();
				return rows;
			});
			expect(shown).toEqual([
				['Invalid', 'on', 'Unsubscribe'],
				['Disposable', 'on', 'Delete'],
				['Catch-All', 'off', '(hidden) -> Keep'],
				['Unknown', 'off', '(hidden) -> Keep'],
				['Risky', 'off', '(hidden) -> Keep'],
			]);
		}, STEP_TIMEOUT_MS);

		test('the Email List node\'s list picker lists the sandbox audiences with their member counts', async () => {
			const items = await editor.step('list picker', `the sandbox audiences (${sandbox.audiences.map((a) => a.name).join(', ')}) with member counts`, async () => {
				await editor.openNode(nodeOfType(workflow, 'emailList').name);
				const entries = await editor.listPickerItems('listId');
				shots.picker = await editor.screenshot('list-picker');
				await editor.page.keyboard.press('Escape');
				await editor.closeNode().catch(() => editor.closeNode());
				return entries;
			});
			// The counts are the sandbox's subscribed members, as Mailchimp's member_count gives them.
			const expected = [...sandbox.mailchimp.state.audiences.values()].map((audience) => {
				const subscribed = [...audience.members.values()].filter((member) => member.status === 'subscribed').length;
				return `${audience.name} (${subscribed.toLocaleString('en')} members)`;
			});
			expect([...items].sort()).toEqual([...expected].sort());
		}, STEP_TIMEOUT_MS);
	});
});
