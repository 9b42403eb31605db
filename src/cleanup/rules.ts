// Clean-up rules: what to do with each category of verified contact (DESIGN.md §5). The defaults
// are the ones commercial dashboards ship with; Verify only is the default mode elsewhere.
import type { VerificationStatus } from '../verification/types';

export type CleanupCategory = 'invalid' | 'disposable' | 'catch_all' | 'unknown' | 'risky';
export type CleanupAction = 'keep' | 'unsubscribe' | 'delete' | 'tag';

export interface CategoryRule {
	enabled: boolean;
	action: CleanupAction;
}

export interface CleanupRules {
	categories: Record<CleanupCategory, CategoryRule>;
	/** Advanced: spamtrap or role_account with a rule of its own instead of Risky's. */
	statusRules?: Partial<Record<'spamtrap' | 'role_account', CategoryRule>>;
	/** The largest share of the input one run may change (0..1). */
	maxShare: number;
	/** Tags are written as `${tagPrefix}${category}`, e.g. list-hygiene:invalid. */
	tagPrefix: string;
	/** Delete for good where the platform can, instead of archiving (cannot be undone). */
	permanentDelete: boolean;
}

export const CLEANUP_CATEGORIES: readonly CleanupCategory[] = ['invalid', 'disposable', 'catch_all', 'unknown', 'risky'];

export const DEFAULT_RULES: CleanupRules = {
	categories: {
		invalid: { enabled: true, action: 'unsubscribe' },
		disposable: { enabled: true, action: 'delete' },
		catch_all: { enabled: false, action: 'keep' },
		unknown: { enabled: false, action: 'keep' },
		risky: { enabled: false, action: 'keep' },
	},
	maxShare: 0.2,
	tagPrefix: 'list-hygiene:',
	permanentDelete: false,
};

/** The clean-up category of a verification status; `valid` has none (it is never touched). */
export function categoryOf(status: VerificationStatus): CleanupCategory | undefined {
	switch (status) {
		case 'invalid':
		case 'disposable':
		case 'catch_all':
		case 'unknown':
		case 'risky':
			return status;
		case 'spamtrap':
		case 'role_account':
			return 'risky';
		default:
			return undefined;
	}
}
