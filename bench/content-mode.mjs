// One content-diff mode of the CSV pair that bench/content.mjs generated, as the first diff of this
// process (as `dvs diff --content` runs it): `node bench/content-mode.mjs WORK MODE` prints the BenchRun
// as JSON. A mode run after others in one process would find their hot code already compiled.
import { join } from 'node:path';
import { PROJECT } from './lib.mjs';

const [work, mode] = process.argv.slice(2);
const { benchCsvMode } = await import(join(PROJECT, 'dist/diff/content/bench.js'));
process.stdout.write(JSON.stringify(await benchCsvMode(work, mode)) + '\n');
