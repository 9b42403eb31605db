// Types for n8n-runtime.cjs, so the TypeScript e2e tests can use it.

/** Every n8n version this package is tested against. */
export declare const ALL_N8N_VERSIONS: readonly string[];
/**
 * The n8n versions the e2e suites run on: ALL_N8N_VERSIONS, or those picked by
 * LIST_HYGIENE_N8N_VERSIONS, a comma list of versions or patterns such as `2.41.x`.
 */
export declare const N8N_VERSIONS: readonly string[];
/** The version `npm start` runs: LIST_HYGIENE_N8N_VERSION (a version or a pattern such as 2.41.x), else 1.123.50. */
export declare const DEFAULT_N8N_VERSION: string;
/** The Node that n8n `from` and later run on, and the variable that can name one's own. */
export declare const NODE_24: Readonly<{ version: string; from: string; env: string }>;
/** The pinned version a pattern such as `2.41.x` names, or an exact version as it is. */
export declare function resolveN8nVersion(pattern: string): string;
/** ALL_N8N_VERSIONS filtered by a comma list of versions or patterns (default LIST_HYGIENE_N8N_VERSIONS). */
export declare function selectedVersions(filter?: string): readonly string[];
export declare const REPO_ROOT: string;
export declare const PACKAGE_NAME: string;
/** What every n8n run here gets unless told otherwise: quiet, offline, sqlite. */
export declare const N8N_DEFAULT_ENV: Readonly<Record<string, string>>;

export interface N8nRuntime {
	version: string;
	/** The install folder (package.json, node_modules, install.log, .installed). */
	dir: string;
	/** n8n's JS entry point. */
	bin: string;
	/** The node executable that runs it (a pinned Node 24 for n8n 2.36 and later). */
	node: string;
}

export interface NodeInstall {
	version: string;
	/** The node executable. */
	bin: string;
	/** The folder with include/node for node-gyp, when known. */
	headers?: string;
}

export interface ProcessResult {
	code: number;
	signal: string | null;
	timedOut: boolean;
	durationMs: number;
	stdout: string;
	stderr: string;
}

export interface RunN8nOptions {
	/** Variables on top of everything (they win). */
	env?: Record<string, string>;
	/** Defaults on top of ours; inherited variables win over them when not isolated. */
	defaults?: Record<string, string>;
	/** Drop inherited N8N_*, DB_*, EXECUTIONS_* ... variables (default true). */
	isolated?: boolean;
	timeoutMs?: number;
}

export interface NodeExecutionItem {
	json: Record<string, unknown>;
	pairedItem?: unknown;
	error?: unknown;
}

export interface NodeRun {
	startTime: number;
	executionTime: number;
	executionStatus?: string;
	error?: { message?: string; description?: string; node?: { name: string } };
	data?: { main?: Array<NodeExecutionItem[] | null> };
}

export interface ExecuteRecord {
	data: { resultData: { runData?: Record<string, NodeRun[]>; error?: unknown; lastNodeExecuted?: string } };
	status?: string;
	finished?: boolean;
	[key: string]: unknown;
}

export interface Execution {
	status: string;
	error?: { message?: string; description?: string; node?: { name: string } };
	lastNodeExecuted?: string;
	runData: Record<string, NodeRun[]>;
	record: ExecuteRecord;
	exitCode: number;
	durationMs: number;
	stdout: string;
	stderr: string;
}

/** A workflow as n8n exports it; `id` and `versionId` are needed for `n8n execute`. */
export interface WorkflowJson {
	id: string;
	versionId: string;
	name: string;
	nodes: Array<{ name: string; type: string; typeVersion: number; parameters: Record<string, unknown>; [key: string]: unknown }>;
	connections: Record<string, unknown>;
	[key: string]: unknown;
}

/** Extra defaults for `npm start`: on n8n 1.x, what its deprecation warnings ask for (2.x's defaults). */
export declare function startEnvDefaults(version: string): Record<string, string>;
export declare function cacheRoot(): string;
export declare function runtimeDir(version: string): string;
export declare function ensureN8n(
	version: string,
	options?: { log?: (message: string) => void; timeoutMs?: number },
): Promise<N8nRuntime>;
export declare function ensureNode24(options?: { log?: (message: string) => void; timeoutMs?: number }): Promise<NodeInstall>;
export declare function packPackage(options?: { repoRoot?: string; destination?: string }): Promise<string>;
export declare function nodesDir(userFolder: string): string;
export declare function installPackage(
	userFolder: string,
	tgz: string,
): Promise<{ name: string; version: string; packageDir: string }>;
export declare function freePort(): Promise<number>;
export declare function n8nEnv(
	userFolder: string,
	options?: { isolated?: boolean; defaults?: Record<string, string>; extra?: Record<string, string>; runtime?: N8nRuntime },
): NodeJS.ProcessEnv;
export declare function n8nCommand(runtime: N8nRuntime, args: string[]): [string, string[]];
export declare function runN8n(
	runtime: N8nRuntime,
	userFolder: string,
	args: string[],
	options?: RunN8nOptions,
): Promise<ProcessResult>;
export declare function importWorkflow(
	runtime: N8nRuntime,
	userFolder: string,
	workflows: string | WorkflowJson | Array<string | WorkflowJson>,
	options?: RunN8nOptions,
): Promise<{ ids: string[]; durationMs: number }>;
/** A credential as `n8n import:credentials` takes it: `data` in plain text, n8n encrypts it. */
export interface CredentialJson {
	id: string;
	name: string;
	/** The credential type's name, e.g. "listHygieneMailchimpApi". */
	type: string;
	data: Record<string, unknown>;
	[key: string]: unknown;
}
export declare function importCredentials(
	runtime: N8nRuntime,
	userFolder: string,
	credentials: CredentialJson | CredentialJson[],
	options?: RunN8nOptions,
): Promise<{ ids: string[]; durationMs: number }>;
export declare function parseExecuteOutput(stdout: string): ExecuteRecord | undefined;
export declare function executeWorkflow(
	runtime: N8nRuntime,
	userFolder: string,
	id: string,
	options?: RunN8nOptions & { allowFailure?: boolean },
): Promise<Execution>;
export declare function nodeItems(execution: Execution, nodeName: string, outputIndex?: number): Array<Record<string, unknown>>;
export declare function tail(text: string, lines?: number): string;
