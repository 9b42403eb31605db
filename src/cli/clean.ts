// `list-hygiene clean`: members -> verify -> plan -> execute in one command, over the same core as
// the Clean Email List node. Verify only by default: it prints the plan and writes nothing.
import { readFile } from 'node:fs/promises';

import { executeCleanup, type CleanupMode } from '../cleanup/executor';
import { planCleanup, PlanRefusedError, type CleanupInput } from '../cleanup/planner';
import { CLEANUP_CATEGORIES, DEFAULT_RULES, type CategoryRule, type CleanupAction, type CleanupRules } from '../cleanup/rules';
import { PlatformApiError } from '../http/client';
import { FetchTransport } from '../http/fetchTransport';
import { collect } from '../http/paginate';
import { createApiClient, getPlatform, UnknownPlatformError } from '../platforms/registry';
import { runWarnings } from '../verification/smtp/summary';
import { formatCsvRow } from '../util/csv';
import { CliError } from './errors';
import { parseFlags } from './flags';
import { readText } from './input';
import { progressBar } from './progress';
import type { CliIo } from './io';
import { readCredentials, secretsOf } from './platform';
import { VERIFIER_FLAGS, VERIFIER_FLAGS_HELP, verifierFromFlags } from './verifierFlags';

export const CLEAN_HELP = `Usage: list-hygiene clean --platform ID --credentials FILE --list ID [flags]

Reads the list's members, verifies them, plans what to do per category and, with --mode clean,
does it. The default mode, verify-only, writes nothing and prints the plan.

Flags:
  --mode verify-only|clean  verify-only (default) prints the plan; clean carries it out
  --rules FILE              JSON rules, e.g. {"categories": {"risky": {"enabled": true, "action": "tag"}}}
                            (defaults: invalid unsubscribe, disposable delete, the rest keep)
  --max-share N             largest share of the contacts one run may change, 0..1 (default 0.2)
  --from-stdin              take verified member items (JSON lines) from stdin instead of reading
                            and verifying the list
  --format jsonl|csv        the report format (default jsonl)
  --base-url URL            the platform API's address (proxies, sandboxes)
${VERIFIER_FLAGS_HELP}  -h, --help                show this help
`;

const ACTIONS: readonly CleanupAction[] = ['keep', 'unsubscribe', 'delete', 'tag'];

function parseRule(where: string, value: unknown): CategoryRule {
	const rule = value as Partial<CategoryRule> | undefined;
	if (!rule || typeof rule !== 'object' || typeof rule.enabled !== 'boolean' || !ACTIONS.includes(rule.action as CleanupAction)) {
		throw new CliError(`${where} must be {"enabled": true|false, "action": "${ACTIONS.join('"|"')}"}.`, 2);
	}
	return { enabled: rule.enabled, action: rule.action as CleanupAction };
}

async function readRules(file: string | undefined, maxShare: string | undefined): Promise<CleanupRules> {
	const rules: CleanupRules = { ...DEFAULT_RULES, categories: { ...DEFAULT_RULES.categories }, statusRules: {} };
	if (file) {
		let parsed: Record<string, unknown>;
		try {
			parsed = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			throw new CliError(`Cannot read the rules file ${file}: ${code === 'ENOENT' ? 'no such file' : 'it is not JSON'}.`);
		}
		for (const [category, rule] of Object.entries((parsed.categories as Record<string, unknown>) ?? {})) {
			if (!CLEANUP_CATEGORIES.includes(category as never)) {
				throw new CliError(`The rules file names an unknown category "${category}"; categories: ${CLEANUP_CATEGORIES.join(', ')}.`, 2);
			}
			rules.categories[category as keyof CleanupRules['categories']] = parseRule(`The rule for ${category}`, rule);
		}
		for (const [status, rule] of Object.entries((parsed.statusRules as Record<string, unknown>) ?? {})) {
			if (status !== 'spamtrap' && status !== 'role_account') throw new CliError(`statusRules takes spamtrap and role_account, not "${status}".`, 2);
			rules.statusRules![status] = parseRule(`The rule for ${status}`, rule);
		}
		if (typeof parsed.tagPrefix === 'string') rules.tagPrefix = parsed.tagPrefix;
		if (typeof parsed.permanentDelete === 'boolean') rules.permanentDelete = parsed.permanentDelete;
		if (typeof parsed.maxShare === 'number') rules.maxShare = parsed.maxShare;
	}
	if (maxShare !== undefined) {
		const share = Number(maxShare);
		if (!Number.isFinite(share) || share < 0 || share > 1) throw new CliError(`--max-share must be a number from 0 to 1, not "${maxShare}".`, 2);
		rules.maxShare = share;
	}
	return rules;
}

async function readVerifiedItems(stdin: NodeJS.ReadableStream): Promise<CleanupInput[]> {
	const text = await readText(stdin);
	const items: CleanupInput[] = [];
	text.split(/\r?\n/).forEach((line, i) => {
		if (line.trim() === '') return;
		try {
			items.push(JSON.parse(line) as CleanupInput);
		} catch {
			throw new CliError(`stdin line ${i + 1} is not a JSON object (--from-stdin takes the JSON lines of verified members).`);
		}
	});
	if (items.length === 0) throw new CliError('stdin is empty: there are no verified members to clean.');
	return items;
}

export async function cleanCommand(args: string[], io: CliIo): Promise<number> {
	const { values } = parseFlags('clean', args, {
		platform: { type: 'string' },
		credentials: { type: 'string' },
		list: { type: 'string' },
		'base-url': { type: 'string' },
		mode: { type: 'string', default: 'verify-only' },
		rules: { type: 'string' },
		'max-share': { type: 'string' },
		'from-stdin': { type: 'boolean' },
		format: { type: 'string', default: 'jsonl' },
		...VERIFIER_FLAGS,
		help: { type: 'boolean', short: 'h' },
	});
	if (values.help) {
		io.stdout.write(CLEAN_HELP);
		return 0;
	}
	for (const flag of ['platform', 'credentials', 'list'] as const) {
		if (!values[flag]) throw new CliError(`clean needs --${flag}. Run \`list-hygiene clean --help\`.`, 2);
	}
	const modeFlag = values.mode as string;
	if (modeFlag !== 'verify-only' && modeFlag !== 'clean') throw new CliError(`--mode must be verify-only or clean, not "${modeFlag}".`, 2);
	const mode: CleanupMode = modeFlag === 'clean' ? 'clean' : 'verify_only';
	const format = values.format as string;
	if (format !== 'jsonl' && format !== 'csv') throw new CliError(`--format must be jsonl or csv, not "${format}".`, 2);
	const rules = await readRules(values.rules as string | undefined, values['max-share'] as string | undefined);
	const bar = progressBar(io.stderr, 'verifying');
	const verifier = values['from-stdin'] ? undefined : verifierFromFlags(values, (done, total) => bar.update(done, total));

	let platform;
	try {
		platform = getPlatform(values.platform as string);
	} catch (error) {
		if (error instanceof UnknownPlatformError) throw new CliError(error.message, 2);
		throw error;
	}
	const listId = values.list as string;
	const fields = await readCredentials(values.credentials as string);
	if (values['base-url']) fields.baseUrl = values['base-url'];
	const progress = (message: string) => (message ? bar.phase(message) : bar.clear());

	try {
		const api = await createApiClient(platform, fields, new FetchTransport(platform.cliAuth(fields)), { secrets: secretsOf(fields) });
		let items: CleanupInput[];
		if (verifier) {
			progress(`reading the members of ${listId}…`);
			const members = (await collect(platform.members(api, listId, {}))).map(({ raw: _raw, ...member }) => member);
			const results = await verifier.verifyBatch(members.map((m) => m.email));
			items = members.map((member, i) => ({ ...member, verification: results[i] }));
			for (const warning of runWarnings(verifier.summary)) io.stderr.write(`\nlist-hygiene: warning: ${warning}\n`);
		} else {
			items = await readVerifiedItems(io.stdin);
		}

		progress(mode === 'clean' ? 'writing the clean-up…' : 'planning…');
		const plan = planCleanup(items, platform, listId, rules, { enforceMaxShare: mode === 'clean' });
		if (plan.overMaxShare) {
			io.stderr.write(
				`list-hygiene: warning: this plan changes ${plan.changes} of ${plan.entries.length} contacts, more than the allowed share (--max-share ${rules.maxShare}): --mode clean would refuse it.\n`,
			);
		}
		const { outcomes, summary } = await executeCleanup(plan, platform, api, { mode, permanentDelete: rules.permanentDelete });
		progress('');

		if (format === 'csv') io.stdout.write(`${formatCsvRow(['email', 'contactId', 'status', 'category', 'action', 'outcome', 'detail'])}\n`);
		items.forEach((item, i) => {
			const o = outcomes[i];
			const status = (item.verification as { status?: string } | undefined)?.status;
			io.stdout.write(
				format === 'csv'
					? `${formatCsvRow([String(item.email ?? ''), String(item.contactId ?? ''), status, o.category, o.action, o.outcome, o.detail])}\n`
					: `${JSON.stringify({ ...item, cleanup: { category: o.category ?? null, action: o.action, outcome: o.outcome, ...(o.detail ? { detail: o.detail } : {}) } })}\n`,
			);
		});
		io.stderr.write(`list-hygiene: clean (${mode === 'clean' ? 'clean' : 'verify only'}) on ${platform.name}: ${JSON.stringify(summary)}\n`);
		return outcomes.some((o) => o.outcome === 'failed') ? 1 : 0;
	} catch (error) {
		progress('');
		if (error instanceof PlanRefusedError || error instanceof PlatformApiError) throw new CliError(error.message);
		throw error;
	}
}
