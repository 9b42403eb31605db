import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type ILoadOptionsFunctions,
	type INodeExecutionData,
	type INodePropertyOptions,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { executeCleanup, type CleanupMode } from '../../src/cleanup/executor';
import { planCleanup, PlanRefusedError, supportedActions } from '../../src/cleanup/planner';
import { CLEANUP_CATEGORIES, DEFAULT_RULES, type CleanupAction, type CleanupRules } from '../../src/cleanup/rules';
import { toNodeError } from '../shared/errors';
import { getPlatform } from '../../src/platforms/registry';
import { platformClient, platformCredentials, searchLists } from '../shared/platform';
import { properties } from './description';

const ACTION_NAMES: Record<CleanupAction, string> = { keep: 'Keep', unsubscribe: 'Unsubscribe', delete: 'Delete', tag: 'Tag' };

function actionOptions(this: ILoadOptionsFunctions): INodePropertyOptions[] {
	const platform = getPlatform(String(this.getCurrentNodeParameter('platform') ?? ''));
	return supportedActions(platform).map((action) => ({ name: ACTION_NAMES[action], value: action }));
}

export class CleanEmailList implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Clean Email List',
		name: 'cleanEmailList',
		icon: { light: 'file:../../icons/cleanEmailList.svg', dark: 'file:../../icons/cleanEmailList.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["mode"] === "clean" ? "Clean automatically" : "Verify only"}}',
		description: 'Turn verified contacts into a clean list: Keep, Unsubscribe, Delete or Tag per category, with a safety rail',
		defaults: { name: 'Clean Email List' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [
			{ type: NodeConnectionTypes.Main, displayName: 'Contacts' },
			{ type: NodeConnectionTypes.Main, displayName: 'Summary' },
		],
		usableAsTool: true,
		credentials: platformCredentials(),
		properties,
	};

	methods = {
		listSearch: { searchLists },
		loadOptions: {
			async getActions(this: ILoadOptionsFunctions) {
				return actionOptions.call(this);
			},
			async getActionsOrRisky(this: ILoadOptionsFunctions) {
				return [{ name: 'As Risky', value: 'asRisky' }, ...actionOptions.call(this)];
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const platform = getPlatform(String(this.getNodeParameter('platform', 0)));
		const listId = this.getNodeParameter('listId', 0, '', { extractValue: true }) as string;
		const mode = this.getNodeParameter('mode', 0) as CleanupMode;
		const options = this.getNodeParameter('options', 0, {}) as {
			permanentDelete?: boolean;
			roleAccountAction?: string;
			spamtrapAction?: string;
			tagPrefix?: string;
		};
		const rules: CleanupRules = {
			categories: { ...DEFAULT_RULES.categories },
			maxShare: (this.getNodeParameter('maxSharePercent', 0, DEFAULT_RULES.maxShare * 100) as number) / 100,
			tagPrefix: options.tagPrefix ?? DEFAULT_RULES.tagPrefix,
			permanentDelete: options.permanentDelete === true,
			statusRules: {},
		};
		for (const category of CLEANUP_CATEGORIES) {
			rules.categories[category] = {
				enabled: this.getNodeParameter(`${category}Enabled`, 0, DEFAULT_RULES.categories[category].enabled) as boolean,
				action: this.getNodeParameter(`${category}Action`, 0, DEFAULT_RULES.categories[category].action) as CleanupAction,
			};
		}
		for (const [status, value] of [['role_account', options.roleAccountAction], ['spamtrap', options.spamtrapAction]] as const) {
			if (value && value !== 'asRisky') rules.statusRules![status] = { enabled: true, action: value as CleanupAction };
		}

		let plan;
		try {
			plan = planCleanup(items.map((item) => item.json), platform, listId, rules, { enforceMaxShare: mode === 'clean' });
		} catch (error) {
			if (error instanceof PlanRefusedError) {
				const counts = error.plan ? ` Planned: ${error.plan.changes} changes of ${error.plan.entries.length} contacts.` : '';
				throw new NodeOperationError(this.getNode(), error.message, {
					description: `Switch Mode to Verify Only to read the whole plan.${counts}`,
				});
			}
			throw new NodeOperationError(this.getNode(), error as Error);
		}

		let result;
		try {
			const api = mode === 'clean' ? (await platformClient(this)).api : undefined;
			result = await executeCleanup(plan, platform, api, { mode, permanentDelete: rules.permanentDelete });
		} catch (error) {
			throw toNodeError(this.getNode(), error);
		}

		if (plan.overMaxShare) {
			this.addExecutionHints?.({
				message: `This plan changes ${plan.changes} of ${plan.entries.length} contacts, more than the ${Math.round(rules.maxShare * 100)}% allowed per run: Clean Automatically would refuse it. Check the verification, then raise the maximum share if the plan is right.`,
				type: 'warning',
				location: 'outputPane',
			});
		}
		const contacts = items.map((item, index): INodeExecutionData => {
			const outcome = result.outcomes[index];
			const cleanup: IDataObject = { category: outcome.category ?? null, action: outcome.action, outcome: outcome.outcome };
			if (outcome.detail) cleanup.detail = outcome.detail;
			return { json: { ...item.json, cleanup }, binary: item.binary, pairedItem: { item: index } };
		});
		const summary: INodeExecutionData = {
			json: { ...result.summary, list: listId } as unknown as IDataObject,
			pairedItem: items.map((_item, index) => ({ item: index })),
		};
		return [contacts, [summary]];
	}
}
