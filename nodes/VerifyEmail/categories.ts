import type { VerificationCategory } from '../../src/verification/types';

/** The outputs of "Route by Category", in this order. */
export const CATEGORY_ORDER: readonly VerificationCategory[] = ['valid', 'invalid', 'disposable', 'catch_all', 'unknown', 'risky'];

export const CATEGORY_LABEL: Readonly<Record<VerificationCategory, string>> = {
	valid: 'Valid',
	invalid: 'Invalid',
	disposable: 'Disposable',
	catch_all: 'Catch-All',
	unknown: 'Unknown',
	risky: 'Risky',
};
