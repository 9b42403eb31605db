// A workflow pointed at a running sandbox. examples/try-it-sandbox.json is written for the default
// ports; this fills in where this sandbox actually is (the Verify Email options) and which
// credential it made, so `npm start` and the tests import exactly the same workflow.

export const TRY_IT_WORKFLOW_ID = 'LhExampleTryIt01';
/** The sandbox copy of examples/verify-new-subscribers-on-arrival.json that `npm start` imports. */
export const ARRIVAL_WORKFLOW_ID = 'LhTryItArrival01';
export const ARRIVAL_WORKFLOW_NAME = 'Try it: verify new sandbox subscribers on arrival';

const PACKAGE = 'n8n-nodes-list-hygiene';
const PLATFORM_NODES = [`${PACKAGE}.emailList`, `${PACKAGE}.emailListTrigger`, `${PACKAGE}.cleanEmailList`];
const VERIFY_NODE = `${PACKAGE}.verifyEmail`;

/** A workflow as n8n exports it: only what this function reads or writes is typed. */
export interface WorkflowTemplate {
	id: string;
	versionId: string;
	name: string;
	nodes: Array<{ name: string; type: string; parameters: Record<string, unknown>; credentials?: Record<string, { id: string; name: string }>; [key: string]: unknown }>;
	[key: string]: unknown;
}

export interface SandboxTarget {
	credential: { id: string; name: string; type: string };
	verifyOptions: object;
	/** Its lists: a list picker filled in shows the list's name, as one picked from the list does. */
	audiences?: Array<{ id: string; name: string }>;
}

/** How the copy differs from its template beyond the sandbox's servers and credential. */
export interface SandboxCopy {
	/** A workflow id of its own, so the copy sits beside the template instead of replacing it. */
	id?: string;
	name?: string;
	/** The list for every list picker the template leaves empty. */
	listId?: string;
}

const isEmptyLocator = (value: unknown) => typeof value === 'object' && value !== null && (value as { value?: unknown }).value === '';

/** A copy of `template` pointed at `sandbox`: its credential on the platform nodes, its servers in Verify Email. */
export function sandboxWorkflow<T extends WorkflowTemplate>(template: T, sandbox: SandboxTarget, copy: SandboxCopy = {}): T {
	// n8n keeps a trigger's state only under a workflow id of at most 16 characters.
	if (copy.id !== undefined && !/^[A-Za-z0-9]{1,16}$/.test(copy.id)) throw new Error(`A workflow id must be 1 to 16 letters and digits for n8n to keep a trigger's state, not "${copy.id}".`);
	const workflow = structuredClone(template);
	if (copy.id) workflow.id = copy.id;
	if (copy.name) workflow.name = copy.name;
	if (!workflow.id || !workflow.versionId) throw new Error(`The workflow "${workflow.name}" needs an "id" and a "versionId" to be imported.`);
	const verify = workflow.nodes.filter((node) => node.type === VERIFY_NODE);
	const platform = workflow.nodes.filter((node) => PLATFORM_NODES.includes(node.type));
	if (verify.length === 0 && platform.length === 0) {
		throw new Error(`The workflow "${workflow.name}" has no Verify Email, Email List or Clean Email List node to point at the sandbox.`);
	}
	for (const node of verify) {
		const options = (node.parameters.options ?? {}) as Record<string, unknown>;
		node.parameters.options = { ...options, ...sandbox.verifyOptions };
	}
	const { id, name, type } = sandbox.credential;
	for (const node of platform) {
		node.credentials = { ...node.credentials, [type]: { id, name } };
		if (copy.listId && isEmptyLocator(node.parameters.listId)) {
			const listName = sandbox.audiences?.find((audience) => audience.id === copy.listId)?.name;
			node.parameters.listId = listName
				? { __rl: true, mode: 'list', value: copy.listId, cachedResultName: listName }
				: { ...(node.parameters.listId as object), value: copy.listId };
		}
	}
	return workflow;
}
