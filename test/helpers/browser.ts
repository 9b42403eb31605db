// n8n's editor in Debian's headless Chromium, driven with playwright-core (its own browser download
// does not work here). One Editor per n8n version: a fresh profile, the owner's session from the REST
// login, screenshots into one folder, and every step's failure told with what the page showed.
// What differs between n8n versions sits in EDITOR_UI; the rest reads n8n's data-test-id attributes,
// which 1.x and 2.x share.
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, selectors, type BrowserContext, type Locator, type Page } from 'playwright-core';

import type { N8nServer } from './n8nServer';

export const CHROMIUM = process.env.LIST_HYGIENE_CHROMIUM || '/usr/bin/chromium';

/** Whether the browser is there to run; the reason and the way to get it when not. */
export function chromiumAvailability(): { ok: true } | { ok: false; reason: string } {
	try {
		accessSync(CHROMIUM, constants.X_OK);
		return { ok: true };
	} catch {
		return { ok: false, reason: `Chromium is not installed at ${CHROMIUM} (on Debian: apt-get install -y chromium, as .ci/run does; elsewhere set LIST_HYGIENE_CHROMIUM to a Chromium binary)` };
	}
}

const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-quic',
	'--no-first-run',
];

interface EditorUi {
	/** The button that runs the whole workflow from the canvas, and what it says. */
	executeWorkflow: { testId: string; label: RegExp };
	/** How the node details view closes. */
	closeNdv: string;
	/** The credential modal's banner after a successful test. */
	credentialTestSuccess: string;
}

/**
 * Per-version differences, newest first: the first row whose major version is at most the
 * version's wins. n8n 1.123 and 2.x share nearly every test id; "Test workflow" was the run
 * button's label before 1.8x.
 */
const EDITOR_UI: Array<{ fromMajor: number; ui: EditorUi }> = [
	{
		fromMajor: 2,
		ui: {
			executeWorkflow: { testId: 'execute-workflow-button', label: /Execute workflow/i },
			closeNdv: 'ndv-close-button',
			credentialTestSuccess: 'credentials-config-container-test-success',
		},
	},
	{
		fromMajor: 1,
		ui: {
			executeWorkflow: { testId: 'execute-workflow-button', label: /Execute workflow|Test workflow/i },
			closeNdv: 'back-to-canvas',
			credentialTestSuccess: 'credentials-config-container-test-success',
		},
	},
];

export function editorUi(version: string): EditorUi {
	const major = Number(version.split('.')[0]);
	const row = EDITOR_UI.find((entry) => major >= entry.fromMajor);
	if (!row) throw new Error(`No editor selectors for n8n ${version}: add a row to EDITOR_UI in test/helpers/browser.ts`);
	return row.ui;
}

/** A failed browser step: what was expected, what the page showed and where its screenshot is. */
export class EditorStepError extends Error {
	override name = 'EditorStepError';
}

export interface PanelItem {
	/** data-keyboard-nav-id without its random suffix: the node type, or a category's key. */
	key: string;
	name: string;
	/** The icon image's URL, when the item shows one. */
	iconSrc?: string;
	/** Whether the browser decoded that image (naturalWidth > 0). */
	iconLoaded: boolean;
}

export interface CanvasCounts {
	/** The label on each connection: "300 items". */
	edges: Array<{ source: string; target: string; status: string | null; items?: number }>;
	/** The count an output shows when nothing is connected to it ("Contacts 300 items"). */
	outputs: Array<{ node: string; handle: string; text: string; items?: number }>;
}

const itemCount = (text: string): number | undefined => {
	const match = /([\d,]+)\s+items?\b/i.exec(text);
	return match ? Number(match[1].replace(/,/g, '')) : undefined;
};

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Reads until `done` holds; times out with what it waited for and the last value read. */
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000, intervalMs = 500): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (done(value)) return value;
		if (Date.now() > deadline) throw new Error(`waited ${Math.round(timeoutMs / 1000)} s for ${what}; last seen: ${JSON.stringify(value)}`);
		await new Promise((resolve) => setTimeout(resolve, intervalMs));
	}
}

export class Editor {
	readonly ui: EditorUi;
	private shots = 0;

	private constructor(
		readonly server: N8nServer,
		readonly context: BrowserContext,
		readonly page: Page,
		readonly screenshotDir: string,
		private readonly profileDir: string,
	) {
		this.ui = editorUi(server.version);
	}

	/** Chromium with a new empty profile, logged in as the server's owner. */
	static async open(server: N8nServer, screenshotDir: string): Promise<Editor> {
		const available = chromiumAvailability();
		if (!available.ok) throw new Error(`${available.reason}.`);
		// n8n marks its UI with data-test-id, not Playwright's default data-testid.
		selectors.setTestIdAttribute('data-test-id');
		await mkdir(screenshotDir, { recursive: true });
		const profileDir = await mkdtemp(join(tmpdir(), 'list-hygiene-chromium-'));
		const context = await chromium.launchPersistentContext(profileDir, {
			executablePath: CHROMIUM,
			headless: true,
			args: CHROMIUM_ARGS,
			viewport: { width: 1440, height: 900 },
			locale: 'en-US',
			timezoneId: 'UTC',
		});
		try {
			// The session cookie is bound to a browser id, which the editor sends from localStorage.
			await context.addCookies([{ name: 'n8n-auth', value: server.session.authCookie, url: server.url }]);
			await context.addInitScript((browserId: string) => {
				(globalThis as unknown as { localStorage: { setItem(key: string, value: string): void } }).localStorage.setItem('n8n-browserId', browserId);
			}, server.session.browserId);
			context.setDefaultTimeout(30_000);
			const page = context.pages()[0] ?? (await context.newPage());
			return new Editor(server, context, page, screenshotDir, profileDir);
		} catch (error) {
			await context.close();
			await rm(profileDir, { recursive: true, force: true });
			throw error;
		}
	}

	async close(): Promise<void> {
		await this.context.close().catch(() => undefined);
		await rm(this.profileDir, { recursive: true, force: true });
	}

	/** A numbered screenshot of the whole viewport; returns its path. */
	async screenshot(name: string): Promise<string> {
		const file = join(this.screenshotDir, `${String(++this.shots).padStart(2, '0')}-${name}.png`);
		await this.page.screenshot({ path: file });
		return file;
	}

	/**
	 * Runs one step; a failure becomes an EditorStepError naming the step, what was expected, the
	 * visible text of the page and a screenshot of it.
	 */
	async step<T>(name: string, expected: string, run: () => Promise<T>): Promise<T> {
		try {
			return await run();
		} catch (error) {
			const shot = await this.screenshot(`${name}-failed`).catch((e: Error) => `(no screenshot: ${e.message})`);
			const shown = await this.page
				.locator('body')
				.innerText({ timeout: 5000 })
				.then((text) => squash(text).slice(0, 1500))
				.catch(() => '(the page could not be read)');
			throw new EditorStepError(
				`n8n ${this.server.version}, step "${name}": expected ${expected}.\n` +
					`What went wrong: ${(error as Error).message.split('\n')[0]}\n` +
					`The page showed: ${shown}\nScreenshot: ${shot}`,
			);
		}
	}

	/** Closes what n8n may put over the editor on a first visit (survey, "what's new", banners' dialogs). */
	async dismissModals(): Promise<void> {
		const dialogs = this.page.locator('.el-overlay:visible [role="dialog"]');
		for (let round = 0; round < 3 && (await dialogs.count()) > 0; round++) {
			const close = dialogs.first().locator('.el-dialog__headerbtn, [aria-label="Close"], [aria-label="close"]');
			if (await close.count()) await close.first().click({ timeout: 5000 }).catch(() => undefined);
			else await this.page.keyboard.press('Escape');
			await this.page.waitForTimeout(300);
		}
	}

	async goto(path: string, ready: Locator, timeoutMs = 120_000): Promise<void> {
		await this.page.goto(this.server.url + path, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
		await ready.first().waitFor({ timeout: timeoutMs });
		await this.dismissModals();
	}

	// -------------------------------------------------------------------------------------------
	// Canvas and node panel

	canvasNode(name: string): Locator {
		return this.page.locator(`[data-test-id="canvas-node"][data-node-name="${name}"]`);
	}

	async openNodePanel(): Promise<void> {
		if (await this.page.getByTestId('node-creator-search-bar').isVisible()) return;
		if (await this.page.getByTestId('node-creator').isVisible()) await this.closeNodePanel();
		await this.page.getByTestId('node-creator-plus-button').click();
		await this.page.getByTestId('node-creator-search-bar').waitFor();
	}

	/** Escape goes back one view (an entry, the trigger view, then the panel itself): press until the panel is gone. */
	async closeNodePanel(): Promise<void> {
		const panel = this.page.getByTestId('node-creator');
		for (let presses = 0; presses < 4 && (await panel.isVisible()); presses++) {
			await this.page.keyboard.press('Escape');
			await panel.waitFor({ state: 'hidden', timeout: 2000 }).catch(() => undefined);
		}
		// With "nothing found" showing, n8n 1.x keeps the panel on Escape: a click on the canvas closes it.
		if (await panel.isVisible()) {
			await this.page.locator('.vue-flow__pane').first().click({ position: { x: 20, y: 20 } });
			await panel.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
		}
		if (await panel.isVisible()) throw new Error('the node panel closed neither on Escape nor on a click on the canvas');
	}

	/** The panel's items for a search (regular nodes, or triggers through "Add another trigger"). */
	async searchNodePanel(query: string, view: 'regular' | 'trigger' = 'regular'): Promise<PanelItem[]> {
		await this.typeInNodePanel(query, view);
		const items = await this.panelItems();
		// Leave trigger view for the next search.
		if (view === 'trigger') await this.closeNodePanel();
		return items;
	}

	/**
	 * Opens a node's entry in the panel (by its type) and returns the actions and triggers it lists,
	 * each by the node type it adds: n8n shows "X Trigger" inside X's entry, not on its own.
	 */
	async panelEntryActions(query: string, type: string, view: 'regular' | 'trigger' = 'regular'): Promise<Array<{ type: string; name: string }>> {
		await this.typeInNodePanel(query, view);
		await this.page.locator(`[data-test-id="item-iterator-item"][data-keyboard-nav-id^="${type}-"]`).first().click();
		await this.page.waitForTimeout(800);
		const entries = await this.panelItems();
		await this.closeNodePanel();
		return entries.map(({ key, name }) => ({ type: key, name }));
	}

	private async typeInNodePanel(query: string, view: 'regular' | 'trigger'): Promise<void> {
		await this.openNodePanel();
		const search = this.page.getByTestId('node-creator-search-bar');
		if (view === 'trigger') {
			await search.fill('');
			await this.page.getByTestId('item-iterator-item').filter({ hasText: /Add another trigger/i }).first().click();
		}
		await search.fill(query);
		// The list updates after a debounce; wait until it holds what this query found.
		await this.page.waitForTimeout(800);
		await this.page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
	}

	private async panelItems(): Promise<PanelItem[]> {
		const items = await this.page.locator('[data-keyboard-nav-id]').evaluateAll((elements) =>
			elements.map((element) => {
				const image = element.querySelector('img') as { src: string; complete: boolean; naturalWidth: number } | null;
				const name = element.querySelector('[data-test-id="node-creator-item-name"]');
				return {
					navId: element.getAttribute('data-keyboard-nav-id') ?? '',
					// Nodes name themselves in an element of their own; actions are their whole text.
					name: (name?.textContent ?? (element as unknown as { innerText: string }).innerText).replace(/\s+/g, ' ').trim(),
					iconSrc: image?.src,
					iconLoaded: Boolean(image && image.complete && image.naturalWidth > 0),
				};
			}),
		);
		return items.map(({ navId, ...item }) => ({ key: navId.replace(/-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, ''), ...item }));
	}

	/** Whether an image URL of the editor answers 200 with an image, with the session's cookies. */
	async imageStatus(url: string): Promise<{ status: number; contentType: string }> {
		const response = await this.context.request.get(url);
		return { status: response.status(), contentType: response.headers()['content-type'] ?? '' };
	}

	// -------------------------------------------------------------------------------------------
	// Node details view

	async openNode(name: string): Promise<Locator> {
		await this.canvasNode(name).dblclick();
		const ndv = this.page.getByTestId('ndv');
		await ndv.waitFor();
		await this.page.getByTestId('node-parameters').waitFor();
		return ndv;
	}

	async closeNode(): Promise<void> {
		const ndv = this.page.getByTestId('ndv');
		await this.page.keyboard.press('Escape');
		// Escape closes it in every version; the close control is the way back when focus was elsewhere.
		const closed = await ndv.waitFor({ state: 'hidden', timeout: 5000 }).then(
			() => true,
			() => false,
		);
		if (!closed) {
			await this.page.getByTestId(this.ui.closeNdv).click();
			await ndv.waitFor({ state: 'hidden' });
		}
	}

	parameter(name: string): Locator {
		return this.page.getByTestId(`parameter-input-${name}`);
	}

	/** A boolean parameter's switch as shown; undefined when the parameter is not shown. */
	async switchState(name: string): Promise<boolean | undefined> {
		const field = this.parameter(name);
		if (!(await field.isVisible())) return undefined;
		return (await field.getByRole('switch').getAttribute('aria-checked')) === 'true';
	}

	async toggle(name: string): Promise<void> {
		const before = await this.switchState(name);
		await this.parameter(name).locator('.el-switch').click();
		await this.page.waitForFunction(
			([testId, wanted]) => {
				const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document;
				return doc.querySelector(`[data-test-id="${testId}"] [role="switch"]`)?.getAttribute('aria-checked') === wanted;
			},
			[`parameter-input-${name}`, String(!before)] as const,
		);
	}

	/** The text an options parameter shows; undefined when the parameter is not shown. */
	async selectedOption(name: string): Promise<string | undefined> {
		const field = this.parameter(name);
		if (!(await field.isVisible())) return undefined;
		const input = field.locator('input').first();
		// Element Plus keeps the chosen label in the input's value (or a placeholder span in newer builds).
		const read = async () => (await input.inputValue().catch(() => '')).trim() || squash(await field.innerText());
		// Options from a loadOptions method show "Loading options..." until n8n has them.
		return poll(read, (text) => !/Loading options/i.test(text), `the options of ${name} to load`, 15_000, 250);
	}

	/** Opens a resource locator's "From List" dropdown and returns its entries as shown. */
	async listPickerItems(name: string, modeLabel = /From List/i): Promise<string[]> {
		const locator = this.page.getByTestId(`resource-locator-${name}`);
		const items = this.page.getByTestId('rlc-item');
		const modeSelector = locator.getByTestId('rlc-mode-selector');
		const mode = await modeSelector.locator('input').first().inputValue().catch(() => '');
		if (!modeLabel.test(mode)) {
			await modeSelector.click();
			await this.page.getByRole('option', { name: modeLabel }).or(this.page.locator('.el-select-dropdown__item').filter({ hasText: modeLabel })).first().click();
		}
		// A picked list shows its cached name at once; the real entries come with n8n's search request.
		const loaded = this.page.waitForResponse((response) => response.url().includes('/resource-locator-results'), { timeout: 30_000 });
		if (!(await items.first().isVisible())) await locator.getByTestId('rlc-input').click();
		const response = await loaded;
		if (!response.ok()) throw new Error(`n8n's list search answered ${response.status()}: ${(await response.text()).slice(0, 300)}`);
		const answer = (await response.json()) as { data?: { results?: unknown[] }; results?: unknown[] };
		const count = (answer.data?.results ?? answer.results ?? []).length;
		// The dropdown renders what the answer held a moment later.
		const texts = await poll(async () => (await items.allInnerTexts()).map(squash), (shown) => shown.length === count, `the ${count} entries n8n's list search returned`, 10_000);
		return texts;
	}

	// -------------------------------------------------------------------------------------------
	// Running

	async executeWorkflow(): Promise<void> {
		const button = this.page.getByTestId(this.ui.executeWorkflow.testId);
		const label = squash(await button.innerText());
		if (!this.ui.executeWorkflow.label.test(label)) throw new Error(`the run button says "${label}", not ${this.ui.executeWorkflow.label}`);
		await button.click();
	}

	/** The item counts the canvas shows on connections and on outputs with nothing connected. */
	async canvasCounts(): Promise<CanvasCounts> {
		const edges = await this.page.getByTestId('edge-label').evaluateAll((elements) =>
			elements.map((element) => ({
				source: element.getAttribute('data-source-node-name') ?? '',
				target: element.getAttribute('data-target-node-name') ?? '',
				status: element.getAttribute('data-edge-status'),
				text: (element as unknown as { innerText: string }).innerText,
			})),
		);
		const outputs = await this.page.getByTestId('canvas-node-output-handle').evaluateAll((elements) =>
			elements.map((element) => ({
				node: element.getAttribute('data-node-name') ?? '',
				handle: element.getAttribute('data-handleid') ?? '',
				text: (element as unknown as { innerText: string }).innerText,
			})),
		);
		return {
			edges: edges.map(({ text, ...edge }) => ({ ...edge, items: itemCount(text) })),
			outputs: outputs.map((output) => ({ ...output, text: squash(output.text), items: itemCount(output.text) })),
		};
	}

	// -------------------------------------------------------------------------------------------
	// Credentials

	/** Opens a credential from the Credentials list and returns its modal. */
	async openCredential(name: string): Promise<Locator> {
		await this.page.getByTestId('resources-list-item').filter({ hasText: name }).first().click();
		const modal = this.page.getByTestId('editCredential-modal');
		await modal.waitFor();
		return modal;
	}
}
