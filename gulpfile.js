// Build step two (after tsc): copy what tsc does not emit (icons, node codex files, generated
// list data) into dist, keeping each file's path.
const { src, dest } = require('gulp');

function copyAssets() {
	return src(['icons/**/*.{png,svg}', 'nodes/**/*.{png,svg}', 'nodes/**/*.node.json', 'credentials/**/*.{png,svg}'], {
		base: '.',
		encoding: false,
	}).pipe(dest('dist'));
}

function copyGeneratedData() {
	return src('src/verification/lists/generated/*.json', { base: '.' }).pipe(dest('dist'));
}

exports.build = async function build() {
	await new Promise((resolve, reject) => copyAssets().on('finish', resolve).on('error', reject));
	await new Promise((resolve, reject) =>
		copyGeneratedData().on('finish', resolve).on('error', reject),
	);
};
