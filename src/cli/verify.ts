// `list-hygiene verify [FILE|-]`: verifies the addresses of a file or stdin and prints one result
// per address, as JSON lines or CSV.
import type { Verification } from '../verification/types';
import { runWarnings } from '../verification/smtp/summary';
import { formatCsvRow } from '../util/csv';
import { CliError } from './errors';
import { readAddresses, type AddressInput, type AddressRecord } from './input';
import type { CliIo } from './io';
import { parseFlags } from './flags';
import { progressBar } from './progress';
import { VERIFIER_FLAGS, VERIFIER_FLAGS_HELP, verifierFromFlags } from './verifierFlags';

export const VERIFY_HELP = `Usage: list-hygiene verify [FILE|-] [flags]

Verifies each address in FILE (or stdin when FILE is - or absent): syntax, DNS mail route,
disposable, role and free-provider lists, and the mailbox itself by asking its mail server over
SMTP (never sending a message). FILE holds one address per line, or is a CSV file (comma,
semicolon, tab or pipe separated) whose header names an email column.

Flags:
  --format jsonl|csv        output format (default jsonl: one JSON object per address)
  --column NAME             the CSV column that holds the addresses (default: detected)
${VERIFIER_FLAGS_HELP}  -h, --help                show this help
`;

/** The verification columns of CSV output, after the input's own columns when the input is CSV. */
const VERIFICATION_COLUMNS = [
	'status', 'category', 'reason', 'detail', 'suggestion', 'normalized', 'disposable', 'role', 'free',
	'mx', 'smtp_host', 'smtp_code', 'smtp_enhanced', 'smtp_text', 'catch_all', 'duplicate', 'checked_at',
] as const;

function verificationFields(v: Verification): Array<string | number | boolean | undefined> {
	return [
		v.status, v.category, v.reason, v.detail, v.suggestion, v.normalized, v.flags.disposable, v.flags.role,
		v.flags.free, v.mx?.join(' '), v.smtp?.host, v.smtp?.code, v.smtp?.enhanced, v.smtp?.text, v.smtp?.catchAll,
		v.duplicate ?? false, v.checkedAt,
	];
}

/**
 * The CSV layout. A plain list gives email, the verification columns and the input line. A CSV
 * file keeps every column and row in order, in its own delimiter, and gains the verification
 * columns (named `verification_<name>` where the input already has a column of that name).
 */
function csvLayout(input: AddressInput) {
	if (!input.header) {
		return {
			delimiter: ',',
			header: ['email', ...VERIFICATION_COLUMNS, 'line'],
			row: (record: AddressRecord, v: Verification) => [record.email, ...verificationFields(v), record.line],
		};
	}
	const taken = new Set(input.header.map((h) => h.trim().toLowerCase()));
	const width = input.header.length;
	return {
		delimiter: input.delimiter ?? ',',
		header: [...input.header, ...VERIFICATION_COLUMNS.map((c) => (taken.has(c) ? `verification_${c}` : c))],
		// Short rows are padded so that the verification columns stay under their headers.
		row: (record: AddressRecord, v: Verification) => [
			...(record.fields ?? []),
			...new Array<string>(Math.max(0, width - (record.fields?.length ?? 0))).fill(''),
			...verificationFields(v),
		],
	};
}

function jsonLine(record: AddressRecord, v: Verification): string {
	return JSON.stringify({ email: record.email, ...v, line: record.line });
}


/** Writes a line, waiting when the reader is slower than we are (large lists into a pipe). */
async function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
	if (!stream.write(line + '\n')) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseFlags('verify', args, {
		format: { type: 'string', default: 'jsonl' },
		column: { type: 'string' },
		...VERIFIER_FLAGS,
		help: { type: 'boolean', short: 'h' },
	});
	if (values.help) {
		io.stdout.write(VERIFY_HELP);
		return 0;
	}
	const format = values.format as string;
	if (format !== 'jsonl' && format !== 'csv') {
		throw new CliError(`--format must be jsonl or csv, not "${format}".`, 2);
	}
	if (positionals.length > 1) {
		throw new CliError(`verify takes one FILE (or - for stdin); got ${positionals.length}: ${positionals.join(' ')}.`, 2);
	}
	const bar = progressBar(io.stderr, 'verifying');
	const verifier = verifierFromFlags(values, (done, total) => bar.update(done, total));

	const input = await readAddresses(positionals[0] ?? '-', io.stdin, { column: values.column as string | undefined });
	const results = await verifier.verifyBatch(input.records.map((r) => r.email));
	bar.clear();

	const layout = csvLayout(input);
	if (format === 'csv') await writeLine(io.stdout, formatCsvRow(layout.header, layout.delimiter));
	const counts = new Map<string, number>();
	for (let i = 0; i < results.length; i++) {
		const line =
			format === 'csv'
				? formatCsvRow(layout.row(input.records[i], results[i]), layout.delimiter)
				: jsonLine(input.records[i], results[i]);
		await writeLine(io.stdout, line);
		counts.set(results[i].status, (counts.get(results[i].status) ?? 0) + 1);
	}
	const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
	io.stderr.write(`list-hygiene: verified ${results.length} ${results.length === 1 ? 'address' : 'addresses'} from ${input.source}${summary ? `: ${summary}` : ''}\n`);
	for (const warning of runWarnings(verifier.summary)) io.stderr.write(`list-hygiene: warning: ${warning}\n`);
	return 0;
}
