/** A problem the user can fix: printed as one message, never with a stack trace. */
export class CliError extends Error {
	override name = 'CliError';

	constructor(
		message: string,
		/** 2 for a wrong command line (usage), 1 for anything else. */
		readonly exitCode: 1 | 2 = 1,
	) {
		super(message);
	}
}
